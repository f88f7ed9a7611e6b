//===- Diagnostics.h - errors about input files -----------------*- C++ -*-===//
//
// Every reader reports "FILE: what is wrong" as one line; these helpers keep
// that form in one place.
//
//===----------------------------------------------------------------------===//

#ifndef MOEC_COMPILER_IMPORT_DIAGNOSTICS_H
#define MOEC_COMPILER_IMPORT_DIAGNOSTICS_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>

namespace moec {

/// "path: message" as an error.
inline llvm::Error fileError(llvm::StringRef path, const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 (path + ": " + message).str());
}

/// A shape as "[a, b, c]".
inline std::string shapeString(llvm::ArrayRef<int64_t> shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + "]";
}

} // namespace moec

#endif // MOEC_COMPILER_IMPORT_DIAGNOSTICS_H
