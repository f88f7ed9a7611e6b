//===- Pipelines.cpp - moec's pass pipelines ----------------------------===//
//
// Textual pipelines: the same strings run in moec-compile and, for
// debugging any prefix of them, in moec-opt --pass-pipeline.
//
//===----------------------------------------------------------------------===//

#include "compiler/Pipelines.h"

std::string moec::cpuFrontPipeline(bool sparse) {
  return std::string("builtin.module(moe-strip-predictors, func.func(") +
         (sparse ? "moe-fuse-router, moe-fuse-drelu, moe-form-sparse-matvec, "
                   "moe-neuron-major-down"
                 : "moe-fuse-router") +
         "), canonicalize, cse, moe-plan-weights)";
}

std::string moec::cpuLoweringPipeline(int64_t vectorWidth) {
  return "builtin.module("
         "moe-materialize-weights, "
         "func.func(moe-to-linalg{vector-width=" +
         std::to_string(vectorWidth) +
         "}, convert-elementwise-to-linalg), "
         "canonicalize, moe-bufferize, moe-results-to-out-params, "
         "buffer-deallocation-pipeline, "
         // Kernel foralls and parallel loop dimensions become OpenMP
         // work-sharing loops.
         "func.func(scf-forall-to-parallel, convert-linalg-to-parallel-loops), "
         "convert-scf-to-openmp, expand-strided-metadata, lower-affine, "
         "convert-vector-to-llvm, "
         // Before scf-to-cf: the alloca scopes OpenMP lowering creates only
         // verify while their loops are structured.
         "finalize-memref-to-llvm, convert-scf-to-cf, convert-openmp-to-llvm, "
         "convert-math-to-llvm, convert-math-to-libm, convert-arith-to-llvm, "
         "convert-index-to-llvm, convert-func-to-llvm, convert-cf-to-llvm, "
         "reconcile-unrealized-casts)";
}
