//===- Pipelines.h - moec's pass pipelines ----------------------*- C++ -*-===//

#ifndef MOEC_COMPILER_PIPELINES_H
#define MOEC_COMPILER_PIPELINES_H

#include "llvm/ADT/StringRef.h"

#include <string>

namespace moec {

/// Model-level passes, ending with the weights placed (moe-plan-weights).
/// With `sparse`, dReLU blocks get neuron-major down projections and read
/// only their active neurons' rows.
std::string cpuFrontPipeline(bool sparse = true);

/// From the planned `moe` module to the LLVM dialect: weights as views of
/// the segment argument, the reference lowering, one-shot bufferization,
/// loops, and the conversions to LLVM.
llvm::StringRef cpuLoweringPipeline();

} // namespace moec

#endif // MOEC_COMPILER_PIPELINES_H
