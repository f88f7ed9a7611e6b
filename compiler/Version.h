//===- Version.h - --version of the compiler tools --------------*- C++ -*-===//

#ifndef MOEC_COMPILER_VERSION_H
#define MOEC_COMPILER_VERSION_H

#include "llvm/ADT/StringRef.h"

namespace moec {

/// Makes --version print moec's version, the LLVM it links and the targets
/// moec generates code for, as the runtime's tools print them, plus the
/// host LLVM would compile for.
void setVersionPrinter(llvm::StringRef tool);

} // namespace moec

#endif // MOEC_COMPILER_VERSION_H
