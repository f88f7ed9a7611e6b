//===- Pipelines.cpp - moec's pass pipelines ----------------------------===//
//
// Textual pipelines: the same strings run in moec-compile and, for
// debugging any prefix of them, in moec-opt --pass-pipeline.
//
//===----------------------------------------------------------------------===//

#include "compiler/Pipelines.h"

#include "passes/Passes.h"

std::string moec::cpuFrontPipeline(bool sparse) {
  return std::string("builtin.module(moe-strip-predictors, func.func(") +
         (sparse ? "moe-fuse-router, moe-fuse-drelu, moe-form-sparse-matvec, "
                   "moe-neuron-major-down"
                 : "moe-fuse-router") +
         "), canonicalize, cse, moe-plan-weights)";
}

std::string moec::cpuLoweringPipeline(int64_t vectorWidth,
                                      bool countActivity, bool bf16Dot) {
  return std::string("builtin.module(") +
         (countActivity ? "moe-count-activity, " : "") +
         "moe-materialize-weights, "
         "func.func(moe-to-kernel, moe-configure-cpu-kernels{lanes=" +
         std::to_string(vectorWidth) + (bf16Dot ? " bf16-dot=true" : "") +
         "}, moe-kernel-to-cpu, moe-to-linalg{vector-width=" +
         std::to_string(vectorWidth) + (bf16Dot ? " bf16-dot=true" : "") +
         "}, convert-elementwise-to-linalg), "
         "canonicalize, moe-bufferize, moe-results-to-out-params, "
         "buffer-deallocation-pipeline, "
         // Kernel foralls and parallel loop dimensions become OpenMP
         // work-sharing loops.
         "func.func(scf-forall-to-parallel, convert-linalg-to-parallel-loops), "
         "convert-scf-to-openmp, expand-strided-metadata, lower-affine, "
         "convert-vector-to-llvm{enable-x86vector=true}, "
         // Before scf-to-cf: the alloca scopes OpenMP lowering creates only
         // verify while their loops are structured.
         "finalize-memref-to-llvm, convert-scf-to-cf, convert-openmp-to-llvm, "
         "convert-math-to-llvm, convert-math-to-libm, convert-arith-to-llvm, "
         "convert-index-to-llvm, convert-func-to-llvm, convert-cf-to-llvm, "
         "reconcile-unrealized-casts)";
}

std::string moec::cudaLoweringPipeline(const CudaPipelineOptions &o) {
  auto n = [](int64_t v) { return std::to_string(v); };
  return "builtin.module("
         "moe-materialize-weights, "
         "func.func(moe-to-kernel, moe-configure-gpu-kernels{chip=" + o.chip +
         " warps=" + n(o.warpsPerBlock) + " unroll=" + n(o.unroll) +
         " splits=" + n(o.sparseSplits) +
         "}, moe-kernel-to-gpu, moe-to-linalg{attend-whole-cache=true}, "
         "convert-elementwise-to-linalg), "
         // No deallocation: the runtime's allocator takes back everything
         // a step allocated when the next step starts.
         "canonicalize, moe-bufferize, moe-results-to-out-params, "
         "func.func(scf-forall-to-parallel, convert-linalg-to-parallel-loops), "
         "canonicalize, func.func(moe-map-to-gpu{block-size=" +
         n(o.blockSize) +
         "}), gpu-kernel-outlining, moe-merge-gpu-modules, "
         "func.func(gpu-async-region), "
         "nvvm-attach-target{chip=" + o.chip + " features=" + o.features +
         " O=3}, "
         "convert-vector-to-scf, convert-scf-to-cf, expand-strided-metadata, "
         "lower-affine, convert-arith-to-llvm, convert-index-to-llvm, "
         "gpu.module(convert-gpu-to-nvvm, canonicalize, cse, "
         "reconcile-unrealized-casts), "
         "gpu-to-llvm, finalize-memref-to-llvm, convert-math-to-llvm, "
         "convert-func-to-llvm, convert-cf-to-llvm, "
         "reconcile-unrealized-casts, "
         "gpu-module-to-binary{format=isa toolkit=" + o.toolkit + "})";
}

std::optional<moec::CudaPipelineOptions>
moec::cudaDefaults(const std::string &chip) {
  std::optional<mlir::moe::GpuArchDefaults> arch =
      mlir::moe::gpuArchDefaults(chip);
  if (!arch)
    return std::nullopt;
  CudaPipelineOptions options;
  options.chip = chip;
  options.sparseSplits = arch->sparseSplits;
  options.unroll = arch->unroll;
  return options;
}
