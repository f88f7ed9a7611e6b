//===- Progress.h - progress of long work on a terminal ---------*- C++ -*-===//

#ifndef MOEC_COMPILER_PROGRESS_H
#define MOEC_COMPILER_PROGRESS_H

#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <functional>

namespace moec {

/// A callback for (done, total) that redraws "label: NN.N%" on stderr when
/// stderr is a terminal; an empty function otherwise, so that logs and
/// pipes get no control characters.
std::function<void(uint64_t, uint64_t)> terminalProgress(llvm::StringRef label);

} // namespace moec

#endif // MOEC_COMPILER_PROGRESS_H
