//===- Pipelines.cpp - moec's pass pipelines ----------------------------===//
//
// Each pipeline is the list of its passes in the textual syntax, parsed
// into the pass manager it is given: the text that
// --mlir-print-ir-after=PASS names steps of, and that tests can run a
// prefix of.
//
//===----------------------------------------------------------------------===//

#include "compiler/Pipelines.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/ErrorHandling.h"
#include "llvm/Support/raw_ostream.h"

using namespace moec;

namespace {

void addPasses(mlir::OpPassManager &pm, const std::string &passes) {
  std::string error;
  llvm::raw_string_ostream errors(error);
  if (failed(mlir::parsePassPipeline(passes, pm, errors)))
    llvm::report_fatal_error(llvm::Twine("moec: a pipeline does not parse: ") +
                             error);
}

std::string n(int64_t v) { return std::to_string(v); }

/// moe-quantize-weights with the options' format and kept kinds, or
/// nothing when the weights stay as stored.
std::string quantize(const FrontPipelineOptions &o) {
  if (o.weights.empty())
    return "";
  std::string keep;
  for (const std::string &kind : o.keepPrecision)
    keep += (keep.empty() ? "" : ",") + kind;
  return "moe-quantize-weights{weights=" + o.weights.getValue() +
         (keep.empty() ? "" : " keep=" + keep) +
         (o.interleaveBlocks ? " interleave=true" : "") + "}, ";
}

} // namespace

void moec::buildFrontPipeline(mlir::OpPassManager &pm,
                              const FrontPipelineOptions &o) {
  bool predictors = o.sparse && o.predictors;
  addPasses(pm,
            std::string(predictors ? "" : "moe-strip-predictors, ") +
                "func.func(" +
                (o.sparse ? "moe-fuse-router, moe-fuse-drelu{"
                            "dense-min-tokens=" +
                                n(o.denseMinTokens) + " predictor-threshold=" +
                                std::to_string(o.predictorThreshold) +
                                "}, moe-form-sparse-matvec, "
                                "moe-neuron-major-down"
                          : std::string("moe-fuse-router")) +
                (o.rollLayers ? ", moe-roll-layers" : "") +
                "), canonicalize, cse, " + quantize(o) +
                "moe-plan-weights, moe-export-manifest");
}

void moec::buildCpuPipeline(mlir::OpPassManager &pm,
                            const CpuPipelineOptions &o) {
  std::string dot = std::string(o.bf16Dot ? " bf16-dot=true" : "") +
                    (o.int8Dot ? " int8-dot=true" : "");
  addPasses(
      pm,
      std::string(o.countActivity
                      ? std::string("moe-count-activity{exact-active-sets=") +
                            (o.predictorStats ? "true" : "false") + "}, "
                      : "") +
          "moe-materialize-weights, "
          // GLU blocks keep the reference dispatch on a CPU: its separate
          // gate and up streams measured as fast (docs/perf.md).
          "func.func(moe-to-kernel{glu-experts=false}, "
          "moe-configure-cpu-kernels{lanes=" +
          n(o.lanes) + dot +
          "}, moe-kernel-to-cpu, moe-to-linalg{vector-width=" + n(o.lanes) +
          dot +
          // A prompt's tokens meet each expert's weights once.
          " group-experts=true}, convert-elementwise-to-linalg, "
          // exp inline and in vectors: softmax and SiLU take one per score
          // and per neuron.
          "moe-approximate-math), "
          // What depends on the positions only (RoPE's cos and sin) is
          // computed once, not once per layer.
          "canonicalize, cse, loop-invariant-code-motion, moe-bufferize, "
          // Copies of a buffer onto itself (a cache slice written in place,
          // an output row of a kernel) fold once equal subviews are one
          // value and loops that hand a buffer through are seen through.
          "canonicalize, cse, canonicalize, moe-results-to-out-params, "
          "buffer-deallocation-pipeline, "
          // Kernel foralls become OpenMP work-sharing loops; the
          // elementwise ops between them (norms, RoPE, residual adds) are
          // plain loops: at decode a parallel region costs more than their
          // work.
          "func.func(scf-forall-to-parallel, convert-linalg-to-loops), "
          "convert-scf-to-openmp, expand-strided-metadata, lower-affine, "
          "moe-lower-int8-dots, convert-vector-to-llvm{enable-x86vector=true}, "
          // Before scf-to-cf: the alloca scopes OpenMP lowering creates only
          // verify while their loops are structured.
          "finalize-memref-to-llvm, convert-scf-to-cf, convert-openmp-to-llvm, "
          "convert-math-to-llvm, convert-math-to-libm, convert-arith-to-llvm, "
          "convert-index-to-llvm, convert-func-to-llvm, convert-cf-to-llvm, "
          "reconcile-unrealized-casts");
}

void moec::buildCudaPipeline(mlir::OpPassManager &pm,
                             const CudaPipelineOptions &o) {
  addPasses(
      pm,
      "moe-materialize-weights, "
      "func.func(moe-to-kernel{glu-experts=" +
          std::string(o.gluExperts ? "true" : "false") +
          "}, moe-configure-gpu-kernels{chip=" + o.chip.getValue() + " warps=" +
          n(o.warps) + " unroll=" + n(o.unroll) + " splits=" + n(o.splits) +
          "}, moe-kernel-to-gpu, moe-to-linalg{attend-whole-cache=true}, "
          "convert-elementwise-to-linalg), "
          // No deallocation: the runtime's allocator takes back everything
          // a step allocated when the next step starts.
          "canonicalize, moe-bufferize, "
          // As on a CPU: the copy of a layer's cache slice onto itself
          // folds (else it is a kernel copying the cache every step).
          "canonicalize, cse, canonicalize, moe-results-to-out-params, "
          "func.func(scf-forall-to-parallel, "
          "convert-linalg-to-parallel-loops), "
          "canonicalize, func.func(moe-map-to-gpu{block-size=" +
          n(o.blockSize) +
          "}), gpu-kernel-outlining, moe-merge-gpu-modules, "
          "func.func(gpu-async-region), "
          "nvvm-attach-target{chip=" +
          o.chip.getValue() + " features=" + o.features.getValue() +
          " O=3}, "
          "convert-vector-to-scf, convert-scf-to-cf, expand-strided-metadata, "
          "lower-affine, convert-arith-to-llvm, convert-index-to-llvm, "
          "gpu.module(convert-gpu-to-nvvm, canonicalize, cse, "
          "reconcile-unrealized-casts), "
          "gpu-to-llvm, finalize-memref-to-llvm, convert-math-to-llvm, "
          "convert-func-to-llvm, convert-cf-to-llvm, "
          "reconcile-unrealized-casts, "
          "gpu-module-to-binary{format=isa toolkit=" +
          o.toolkit.getValue() + "}");
}

void moec::registerPipelines() {
  mlir::PassPipelineRegistration<FrontPipelineOptions>(
      "moe-front-pipeline",
      "Model-level passes of moec, ending with the weights placed",
      buildFrontPipeline);
  mlir::PassPipelineRegistration<CpuPipelineOptions>(
      "moe-cpu-pipeline",
      "A placed moe module to the LLVM dialect for a CPU", buildCpuPipeline);
  mlir::PassPipelineRegistration<CudaPipelineOptions>(
      "moe-cuda-pipeline",
      "A placed moe module to host code in the LLVM dialect and PTX",
      buildCudaPipeline);
}
