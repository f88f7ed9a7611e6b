//===- Pipelines.h - moec's pass pipelines ----------------------*- C++ -*-===//

#ifndef MOEC_COMPILER_PIPELINES_H
#define MOEC_COMPILER_PIPELINES_H

#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <string>

namespace moec {

/// Model-level passes, ending with the weights placed (moe-plan-weights).
/// The router's projection is fused into it; with `sparse`, dReLU blocks
/// become fused gate/up products and sparse down products over
/// neuron-major weights, reading only their active neurons' rows.
std::string cpuFrontPipeline(bool sparse = true);

/// From the planned `moe` module to the LLVM dialect: weights as views of
/// the segment argument, the lowering with kernels of `vectorWidth` f32
/// lanes, one-shot bufferization, OpenMP loops, and the conversions to LLVM.
std::string cpuLoweringPipeline(int64_t vectorWidth);

} // namespace moec

#endif // MOEC_COMPILER_PIPELINES_H
