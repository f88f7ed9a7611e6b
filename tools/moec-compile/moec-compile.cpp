//===- moec-compile.cpp - ahead-of-time compiler driver -----------------===//
//
// moec-compile <checkpoint-dir | model.mlir> --target=cpu -o model.moec
//
// Imports (or reads) a `moe` module, runs the pipeline for the target and
// writes one artifact: header, code and weights.
//
//===----------------------------------------------------------------------===//

#include "compiler/Pipelines.h"
#include "compiler/Registration.h"
#include "compiler/artifact/ArtifactWriter.h"
#include "compiler/artifact/TokenizerFiles.h"
#include "compiler/codegen/CpuCodegen.h"
#include "compiler/codegen/CudaCodegen.h"
#include "compiler/import/Importer.h"
#include "compiler/import/KvCacheTypeOption.h"
#include "compiler/import/ModelConfigAttr.h"
#include "dialects/moe/IR/MoeOps.h"
#include "passes/Passes.h"
#include "runtime/OutputFile.h"
#include "runtime/Progress.h"

#include "compiler/Version.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"

#include <csignal>
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/TargetParser/Host.h"

using namespace llvm;

namespace {

cl::OptionCategory category("moec-compile options");
cl::opt<std::string> input(cl::Positional, cl::Required,
                           cl::desc("<checkpoint directory | module.mlir>"),
                           cl::cat(category));
cl::opt<std::string> output("o", cl::Required, cl::desc("Output artifact"),
                            cl::value_desc("file"), cl::cat(category));
cl::opt<std::string> target("target", cl::desc("cpu or cuda"), cl::init("cpu"),
                            cl::cat(category));
cl::opt<std::string> targetCpu("target-cpu",
                               cl::desc("CPU to tune for, or native"),
                               cl::init("native"), cl::cat(category));
cl::opt<std::string> signKey(
    "sign-key",
    cl::desc("Sign the artifact with this Ed25519 secret key (a file from "
             "moec-keygen); moec-run --trusted-keys runs only signed ones"),
    cl::value_desc("file"), cl::cat(category));
cl::opt<bool> allowNonFinite(
    "allow-nonfinite",
    cl::desc("Write weights that hold NaN or infinities (by default an error "
             "naming the tensor)"),
    cl::cat(category));
cl::opt<std::string> emitLLVM("emit-llvm",
                              cl::desc("Also write the optimised LLVM IR of "
                                       "the code to this file"),
                              cl::value_desc("file"), cl::cat(category));
cl::opt<bool> noSparse("no-sparse",
                       cl::desc("Compute dReLU blocks densely (for "
                                "comparison with the sparse path)"),
                       cl::cat(category));
cl::opt<bool> predictors(
    "predictors",
    cl::desc("dReLU blocks with the checkpoint's activation predictors "
             "(TurboSparse's) compute only the neurons they predict active: "
             "fewer rows read, an approximation (default: exact)"),
    cl::cat(category));
cl::opt<double> predictorThreshold(
    "predictor-threshold",
    cl::desc("With --predictors, the predictor logit from which a neuron is "
             "computed (default 0, as PowerInfer)"),
    cl::init(0.0), cl::cat(category));
cl::opt<bool> predictorStats(
    "predictor-stats",
    cl::desc("With --predictors, a diagnostic build that also computes each "
             "block exactly, so that moec-bench reports the predictors' "
             "recall and precision (CPU; slower)"),
    cl::cat(category));
// Below this many tokens a call's dReLU blocks stay sparse: a token reads
// only its active neurons' rows, and until several tokens' active sets
// cover most neurons that is fewer bytes than one dense pass.
constexpr int64_t kDefaultDenseMinTokens = 8;
cl::opt<int64_t> denseMinTokens(
    "dense-min-tokens",
    cl::desc("Calls of at least this many tokens (a prompt's chunk) run "
             "dReLU blocks as dense products; 0: always sparse (default: " +
             std::to_string(kDefaultDenseMinTokens) + " on a CPU, 0 on CUDA)"),
    cl::value_desc("N"), cl::cat(category));
cl::opt<bool> rollLayers(
    "roll-layers",
    cl::desc("Run identical decoder layers as one loop over stacked weights, "
             "so code size and compile time do not grow with depth (default: "
             "on for CPUs; off for CUDA until it has run on a GPU)"),
    cl::cat(category));
cl::opt<bool> countActivity(
    "count-activity",
    cl::desc("CPU code counts the bytes each call reads, for moec-bench "
             "(default on; a few scalar adds per layer)"),
    cl::init(true), cl::cat(category));
cl::opt<bool> bf16Dot(
    "bf16-dot",
    cl::desc("Round activations to bf16 in products with bf16 weights and "
             "use the AVX-512 BF16 dot product, as llama.cpp does: faster on "
             "CPUs where widening bf16 limits the kernels, less exact "
             "(needs avx512bf16)"),
    cl::cat(category));
cl::opt<cl::boolOrDefault> int8Dot(
    "int8-dot",
    cl::desc("With --weights=q8_0|q4_0, quantize activations to Q8_0 blocks "
             "in the products with quantized weights and use the 8-bit "
             "integer dot product, as llama.cpp does: fewer instructions per "
             "weight, less exact (needs avx512vnni with avx512vl, or avxvnni; "
             "default: on where the target has it, =false for the exact "
             "dequantize-and-FMA kernels)"),
    cl::cat(category));
cl::opt<std::string> weightsFormat(
    "weights",
    cl::desc("Store the weights that products read as q8_0 or q4_0 "
             "(llama.cpp's blocks of 32 with an f16 scale), or converted to "
             "bf16, f16 or f32; the router, norms and embedding stay as "
             "stored (default: as stored)"),
    cl::value_desc("q8_0|q4_0|bf16|f16|f32"), cl::cat(category));
cl::list<std::string> keepPrecision(
    "keep-precision",
    cl::desc("With --weights, kinds of weights left as stored: lm_head, "
             "attention, predictors, experts (router, embed and norms are "
             "always kept)"),
    cl::value_desc("kind,..."), cl::CommaSeparated, cl::cat(category));
moec::KvCacheTypeOption kvCacheType(category);
cl::opt<std::string> tokenizerFile(
    "tokenizer",
    cl::desc("Tokenizer to store: a tokenizer.model or tokenizer.json "
             "(default: the checkpoint's, tokenizer.model first)"),
    cl::value_desc("file"), cl::cat(category));
cl::opt<bool> noTokenizer("no-tokenizer",
                          cl::desc("Store no tokenizer (the artifact then "
                                   "runs on token ids only)"),
                          cl::cat(category));
cl::opt<std::string> targetFeatures("target-features",
                                    cl::desc("CPU features, e.g. +avx2 "
                                             "(default: the host's with "
                                             "--target-cpu=native)"),
                                    cl::cat(category));

cl::opt<cl::boolOrDefault> interleaveBlocks(
    "interleave-blocks",
    cl::desc("With the integer products, store the block weights read "
             "along rows of whole groups of 16 blocks interleaved, a block "
             "a vector lane (default: on)"),
    cl::cat(category));
cl::OptionCategory cudaCategory("moec-compile options for --target=cuda");
cl::opt<cl::boolOrDefault> gpuGluKernels(
    "gpu-glu-kernels",
    cl::desc("GLU expert blocks (SwiGLU) as warp-per-row gate/up and down "
             "kernels on CUDA (default: with --weights=q8_0|q4_0 only, "
             "until it has run on a GPU)"),
    cl::cat(cudaCategory));
cl::opt<std::string> cudaArch("cuda-arch",
                              cl::desc("SM architecture: sm_80, sm_86, sm_89 "
                                       "or sm_90"),
                              cl::init("sm_90"), cl::cat(cudaCategory));
cl::opt<bool> ptxOnly("ptx-only",
                      cl::desc("Store PTX only (the driver compiles it at "
                               "load), no cubin"),
                      cl::cat(cudaCategory));
cl::opt<std::string> emitPtx("emit-ptx",
                             cl::desc("Also write the kernels' PTX to this "
                                      "file"),
                             cl::value_desc("file"), cl::cat(cudaCategory));
cl::opt<std::string> cudaToolkit("cuda-toolkit",
                                 cl::desc("CUDA toolkit (libdevice, ptxas)"),
                                 cl::init("/usr/local/cuda"),
                                 cl::cat(cudaCategory));
cl::opt<int64_t> warpsPerBlock("gpu-warps-per-block",
                               cl::desc("Warps per block of the matrix-vector "
                                        "kernels (default: per arch)"),
                               cl::cat(cudaCategory));
cl::opt<int64_t> gpuUnroll("gpu-unroll",
                           cl::desc("16-byte loads in flight per lane "
                                    "(default: per arch)"),
                           cl::cat(cudaCategory));
cl::opt<int64_t> sparseSplits("gpu-sparse-splits",
                              cl::desc("Blocks splitting the neurons of a "
                                       "sparse product (default: per arch)"),
                              cl::cat(cudaCategory));
cl::opt<int64_t> gpuBlockSize("gpu-block-size",
                              cl::desc("Threads per block of the other "
                                       "kernels (default: per arch)"),
                              cl::cat(cudaCategory));

int fail(const Twine &message) {
  WithColor::error(errs(), "moec-compile") << message << "\n";
  return 1;
}

/// A bad option value: exit code 2, as llvm::cl gives other usage errors.
int usage(const Twine &message) {
  fail(message);
  return 2;
}

/// Writes `text` to `path` (--emit-llvm, --emit-ptx); 1 after a message.
int writeText(const std::string &path, StringRef text) {
  if (Error error = writeToOutput(path, [&](raw_ostream &os) {
        os << text;
        return Error::success();
      }))
    return fail(path + ": " + toString(std::move(error)));
  return 0;
}

/// The module of a checkpoint directory, or of an .mlir / bytecode file.
FailureOr<mlir::OwningOpRef<mlir::ModuleOp>> load(mlir::MLIRContext &context) {
  if (sys::fs::is_directory(input)) {
    Expected<moec::Checkpoint> checkpoint = moec::Checkpoint::open(input);
    if (!checkpoint) {
      fail(toString(checkpoint.takeError()));
      return failure();
    }
    auto module = moec::importCheckpoint(
        context, *checkpoint,
        [](const std::string &message) {
          WithColor::warning(errs(), "moec-compile") << message << "\n";
        },
        kvCacheType);
    if (!module) {
      fail(toString(module.takeError()));
      return failure();
    }
    return std::move(*module);
  }
  SourceMgr sources;
  mlir::SourceMgrDiagnosticHandler handler(sources, &context);
  auto module = mlir::parseSourceFile<mlir::ModuleOp>(
      input, sources, mlir::ParserConfig(&context));
  if (!module)
    return failure();
  // The cache's type is the importer's choice; a module has made it.
  if (kvCacheType.getNumOccurrences())
    if (auto forward = module->lookupSymbol<mlir::func::FuncOp>("forward");
        forward && forward.getNumArguments() == moec::kForwardArguments) {
      mlir::Type element =
          cast<mlir::ShapedType>(
              forward.getArgumentTypes()[moec::kKvCacheArgument])
              .getElementType();
      if (element != moec::kvCacheElementType(context, kvCacheType)) {
        std::string name;
        llvm::raw_string_ostream os(name);
        element.print(os);
        fail(input + ": the module's KV cache holds " + name +
             "; --kv-cache-type applies when importing (moec-import "
             "--kv-cache-type)");
        return failure();
      }
    }
  return module;
}

/// Runs a pipeline that `build` adds; diagnostics go to stderr.
mlir::LogicalResult
runPipeline(mlir::ModuleOp module,
            llvm::function_ref<void(mlir::OpPassManager &)> build) {
  mlir::PassManager pm(module->getName());
  build(pm);
  // --mlir-print-ir-after=PASS, --mlir-print-ir-after-all, --mlir-timing...
  if (failed(mlir::applyPassManagerCLOptions(pm)))
    return mlir::failure();
  return pm.run(module);
}

} // namespace

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  // Past a file-size limit a write fails (EFBIG, reported with the file's
  // name) instead of the process dying.
  std::signal(SIGXFSZ, SIG_IGN);
  moec::setVersionPrinter("moec-compile");
  // Pass names must be known when options such as --mlir-print-ir-after=PASS
  // are parsed.
  moec::registerPasses();
  mlir::registerPassManagerCLOptions();
  mlir::registerAsmPrinterCLOptions();
  mlir::registerMLIRContextCLOptions();
  cl::HideUnrelatedOptions({&category, &cudaCategory});
  if (!cl::ParseCommandLineOptions(argc, argv,
                                   "moec-compile: MoE models to .moec "
                                   "artifacts\n",
                                   &errs()))
    return 2;
  if (target != "cpu" && target != "cuda")
    return usage("--target=" + target + ": unknown target (cpu or cuda)");
  if (noTokenizer && !tokenizerFile.empty())
    return usage("--tokenizer and --no-tokenizer contradict each other");
  const bool cuda = target == "cuda";
  if (denseMinTokens < 0)
    return usage("--dense-min-tokens: must not be negative");
  if (predictors && noSparse)
    return usage("--predictors and --no-sparse contradict each other");
  if (!predictors && (predictorThreshold.getNumOccurrences() ||
                      predictorStats.getNumOccurrences()))
    return usage(std::string("--") +
                 (predictorStats.getNumOccurrences() ? "predictor-stats"
                                                     : "predictor-threshold") +
                 " needs --predictors");
  if (predictorStats && cuda)
    return usage("--predictor-stats: the CUDA target keeps no counters");
  const bool blockWeights = weightsFormat == "q8_0" || weightsFormat == "q4_0";
  if (!weightsFormat.empty() && !blockWeights && weightsFormat != "bf16" &&
      weightsFormat != "f16" && weightsFormat != "f32")
    return usage("--weights=" + weightsFormat +
                 ": unknown format (q8_0, q4_0, bf16, f16 or f32)");
  for (const std::string &kind : keepPrecision)
    if (!llvm::is_contained({"lm_head", "attention", "predictors", "experts",
                             "router", "embed", "norms"},
                            kind))
      return usage("--keep-precision=" + kind +
                   ": unknown kind (lm_head, attention, predictors, experts; "
                   "router, embed and norms are always kept)");
  if (!keepPrecision.empty() && weightsFormat.empty())
    return usage("--keep-precision needs --weights");
  if (int8Dot == cl::BOU_TRUE && !blockWeights)
    return usage("--int8-dot needs --weights=q8_0 or q4_0");
  if (interleaveBlocks == cl::BOU_TRUE && (cuda || !blockWeights ||
                                           int8Dot == cl::BOU_FALSE))
    return usage("--interleave-blocks needs --weights=q8_0 or q4_0 with "
                 "the CPU's integer products");
  if (cuda && (bf16Dot || int8Dot == cl::BOU_TRUE))
    return usage(std::string(bf16Dot ? "--bf16-dot" : "--int8-dot") +
                 ": a CPU option (the CUDA kernels widen weights to f32)");
  if (predictorStats && countActivity.getNumOccurrences() && !countActivity)
    return usage("--predictor-stats needs --count-activity");
  moec::CudaPipelineOptions cudaOptions;
  if (cuda) {
    if (!mlir::moe::gpuArchDefaults(cudaArch))
      return usage("--cuda-arch=" + cudaArch +
                   ": unknown architecture (sm_80, sm_86, sm_89 or sm_90)");
    cudaOptions.chip = cudaArch;
    cudaOptions.toolkit = cudaToolkit;
    // The reference dispatch would dequantize every expert's blocks each
    // step; the warp kernels read them.
    cudaOptions.gluExperts =
        gpuGluKernels == cl::BOU_TRUE ||
        (gpuGluKernels == cl::BOU_UNSET && blockWeights);
    for (auto [flag, field] :
         {std::pair{&warpsPerBlock, &cudaOptions.warps},
          {&gpuUnroll, &cudaOptions.unroll},
          {&sparseSplits, &cudaOptions.splits},
          {&gpuBlockSize, &cudaOptions.blockSize}}) {
      if (flag->getNumOccurrences() == 0)
        continue;
      if (*flag < 1)
        return usage("--" + flag->ArgStr + ": must be positive");
      *field = *flag;
    }
  }
  const std::string ptxPath = emitPtx;
  // The output first: a path that is an input, a directory or a device is
  // found before the compile.
  if (moec::Status status = moec::checkOutputPath(output, {input}); !status)
    return fail(status.message());
  // The key first: a bad key file is found before the compile.
  std::optional<moec::SecretKey> signingKey;
  if (!signKey.empty()) {
    Expected<moec::SecretKey> key = moec::readSecretKey(signKey);
    if (!key)
      return fail(toString(key.takeError()));
    signingKey = *key;
  }
  // lld, linked in as a library, resets every llvm::cl option when it runs:
  // keep what it would erase.
  const std::string outputPath = output;
  const bool keepNonFinite = allowNonFinite;
  const std::string llvmPath = emitLLVM;

  mlir::DialectRegistry registry;
  moec::registerDialects(registry);
  mlir::MLIRContext context(registry);
  auto module = load(context);
  if (failed(module))
    return 1;
  if (failed(mlir::verify(**module)))
    return 1;

  auto configAttr =
      (**module)->getAttrOfType<mlir::DictionaryAttr>(moec::kConfigAttrName);
  if (!configAttr)
    return fail(input + ": the module has no moe.config attribute; was it "
                        "made by moec-import?");
  Expected<moec::ModelConfig> config =
      moec::configFromAttr(configAttr, input + ": moe.config");
  if (!config)
    return fail(toString(config.takeError()));
  // The target, before the model-level passes: the CPU's integer products
  // read their weights' blocks interleaved, a layout those passes choose.
  moec::ArtifactOptions options;
  options.target.triple = sys::getDefaultTargetTriple();
  moec::CpuTarget cpu;
  moec::CpuPipelineOptions lowering;
  if (!cuda) {
    options.target.cpu = targetCpu == "native" ? sys::getHostCPUName().str()
                                               : targetCpu.getValue();
    options.target.features = targetFeatures;
    if (targetCpu == "native" && targetFeatures.empty()) {
      std::vector<std::string> enabled;
      for (const auto &[name, on] : sys::getHostCPUFeatures())
        if (on)
          enabled.push_back("+" + name.str());
      llvm::sort(enabled);
      options.target.features = join(enabled, ",");
    }
    cpu = {options.target.triple, options.target.cpu, options.target.features};
    Expected<int64_t> vectorWidth = moec::vectorWidthF32(cpu);
    if (!vectorWidth)
      return fail(input + ": " + toString(vectorWidth.takeError()));
    if (bf16Dot &&
        !llvm::is_contained(llvm::split(options.target.features, ","),
                            "+avx512bf16"))
      return fail(input +
                  ": --bf16-dot needs a target with avx512bf16 (its "
                  "features: " +
                  options.target.features + ")");
    auto hasFeature = [&](StringRef feature) {
      return llvm::is_contained(llvm::split(options.target.features, ","),
                                feature);
    };
    bool vnni = (hasFeature("+avx512vnni") && hasFeature("+avx512vl")) ||
                hasFeature("+avxvnni");
    // Measured faster at both formats, dense and sparse (docs/perf.md).
    bool integerProducts = int8Dot == cl::BOU_TRUE ||
                           (int8Dot == cl::BOU_UNSET && blockWeights && vnni);
    if (int8Dot == cl::BOU_TRUE && !vnni)
      return fail(input +
                  ": --int8-dot needs a target with avx512vnni and avx512vl, "
                  "or avxvnni (its features: " +
                  options.target.features + ")");
    lowering.lanes = *vectorWidth;
    lowering.countActivity = countActivity;
    lowering.predictorStats = predictorStats;
    lowering.bf16Dot = bf16Dot;
    lowering.int8Dot = integerProducts;
  }

  // Model-level passes up to the weight plan, which the artifact records.
  moec::showStep("model-level passes");
  moec::FrontPipelineOptions front;
  front.sparse = !noSparse;
  front.denseMinTokens = denseMinTokens.getNumOccurrences()
                             ? int64_t(denseMinTokens)
                             : (cuda ? 0 : kDefaultDenseMinTokens);
  front.rollLayers = rollLayers.getNumOccurrences() ? bool(rollLayers) : !cuda;
  front.predictors = predictors;
  front.predictorThreshold = predictorThreshold;
  front.weights = weightsFormat;
  front.keepPrecision = ArrayRef<std::string>(std::vector<std::string>(
      keepPrecision.begin(), keepPrecision.end()));
  // Measured faster for prompts and decode (docs/perf.md).
  front.interleaveBlocks = !cuda && lowering.int8Dot &&
                           interleaveBlocks != cl::BOU_FALSE;
  if (predictors) {
    bool any = false;
    (**module)->walk(
        [&](mlir::moe::ExpertFfnOp op) { any |= bool(op.getPredictorFc1()); });
    if (!any)
      return fail(input + ": --predictors: the model has no activation "
                          "predictors (TurboSparse checkpoints carry them)");
  }
  if (failed(runPipeline(**module, [&](mlir::OpPassManager &pm) {
        moec::buildFrontPipeline(pm, front);
      })))
    return 1;
  Expected<moec::ArtifactContents> contents =
      moec::collectArtifactContents(**module, input);
  if (!contents)
    return fail(toString(contents.takeError()));

  // Lowering and code generation. The runtime calls the C interface of
  // @forward.
  auto forward = (**module).lookupSymbol<mlir::func::FuncOp>("forward");
  if (!forward)
    return fail(input + ": the module has no @forward function");
  forward->setAttr("llvm.emit_c_interface", mlir::UnitAttr::get(&context));

  if (!noTokenizer) {
    Expected<moec::ArtifactTokenizer> tokenizer = moec::readTokenizer(
        contents->checkpointDir, tokenizerFile, contents->config.vocabSize);
    if (!tokenizer)
      return fail(toString(tokenizer.takeError()));
    options.tokenizer = std::move(*tokenizer);
  }
  if (cuda) {
    // The host side only allocates and launches: any x86-64 runs it.
    options.target.cuda = true;
    options.target.cpu = cudaOptions.chip;
    options.target.features = cudaOptions.features;
    cpu = {options.target.triple, "x86-64", ""};
    moec::showStep("lowering for CUDA, PTX");
    if (failed(runPipeline(**module, [&](mlir::OpPassManager &pm) {
          moec::buildCudaPipeline(pm, cudaOptions);
        })))
      return 1;
    Expected<std::string> ptx = moec::kernelAssembly(**module);
    if (!ptx)
      return fail(input + ": " + toString(ptx.takeError()));
    if (!ptxPath.empty() && writeText(ptxPath, *ptx))
      return 1;
    if (!ptxOnly) {
      std::string ptxas = moec::findPtxas(cudaOptions.toolkit);
      if (ptxas.empty()) {
        WithColor::warning(errs(), "moec-compile")
            << "no ptxas in " << cudaOptions.toolkit
            << "/bin or on the PATH: the artifact holds PTX only\n";
      } else {
        moec::showStep("assembling the kernels (ptxas)");
        Expected<std::vector<char>> cubin =
            moec::assembleCubin(*ptx, cudaOptions.chip, ptxas);
        if (!cubin)
          return fail(input + ": " + toString(cubin.takeError()));
        options.deviceCode = std::move(*cubin);
      }
    }
    options.deviceAssembly.assign(ptx->begin(), ptx->end());
  } else {
    moec::showStep("lowering for the CPU");
    if (failed(runPipeline(**module, [&](mlir::OpPassManager &pm) {
          moec::buildCpuPipeline(pm, lowering);
        })))
      return 1;
  }

  std::string llvmIR;
  raw_string_ostream llvmStream(llvmIR);
  moec::showStep(cuda ? "generating the host code (LLVM)"
                      : "generating code (LLVM)");
  Expected<std::vector<char>> code = moec::emitSharedObject(
      **module, cpu, llvmPath.empty() ? nullptr : &llvmStream);
  if (!code)
    return fail(input + ": " + toString(code.takeError()));
  options.code = std::move(*code);
  if (!llvmPath.empty() && writeText(llvmPath, llvmIR))
    return 1;
  options.entryPoints.push_back({"forward", "_mlir_ciface_forward"});
  // Timed from here: the bar and its final line measure the writing only.
  options.progress = moec::progressCallback("writing weights");
  options.signingKey = signingKey;
  options.allowNonFinite = keepNonFinite;
  if (Error error = moec::writeArtifact(*contents, options, outputPath))
    return fail(toString(std::move(error)));
  return 0;
}
