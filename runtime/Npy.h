//===- Npy.h - writing .npy files -------------------------------*- C++ -*-===//

#ifndef MOEC_RUNTIME_NPY_H
#define MOEC_RUNTIME_NPY_H

#include "runtime/Status.h"

#include <cstdint>
#include <string>
#include <vector>

namespace moec {

/// Writes a float32 array of `shape` as a .npy file (format 1.0), through
/// a temporary file renamed at the end.
Status writeNpy(const std::string &path, const std::vector<int64_t> &shape,
                const float *data);

} // namespace moec

#endif // MOEC_RUNTIME_NPY_H
