//===- Pipelines.cpp - moec's pass pipelines ----------------------------===//
//
// Textual pipelines: the same strings run in moec-compile and, for
// debugging any prefix of them, in moec-opt --pass-pipeline.
//
//===----------------------------------------------------------------------===//

#include "compiler/Pipelines.h"

std::string moec::cpuFrontPipeline(bool sparse) {
  return std::string("builtin.module(moe-strip-predictors, ") +
         (sparse ? "func.func(moe-neuron-major-down), " : "") +
         "canonicalize, cse, moe-plan-weights)";
}

llvm::StringRef moec::cpuLoweringPipeline() {
  return "builtin.module("
         "moe-materialize-weights, "
         "func.func(moe-to-linalg, convert-elementwise-to-linalg), "
         "canonicalize, moe-bufferize, moe-results-to-out-params, "
         "buffer-deallocation-pipeline, "
         // Parallel loop dimensions become OpenMP work-sharing loops.
         "func.func(convert-linalg-to-parallel-loops), convert-scf-to-openmp, "
         "expand-strided-metadata, lower-affine, "
         // Before scf-to-cf: the alloca scopes OpenMP lowering creates only
         // verify while their loops are structured.
         "finalize-memref-to-llvm, convert-scf-to-cf, convert-openmp-to-llvm, "
         "convert-math-to-llvm, convert-math-to-libm, convert-arith-to-llvm, "
         "convert-index-to-llvm, convert-func-to-llvm, convert-cf-to-llvm, "
         "reconcile-unrealized-casts)";
}
