//===- moec-synth.cpp - random HuggingFace checkpoints ------------------===//
//
// moec-synth -o DIR [--arch=NAME] [sizes...] [--dtype=bf16] [--shards=N]
//
// Writes a HuggingFace-format checkpoint with random weights, deterministic
// from --seed, for tests and benchmarks: nothing needs downloading. The
// defaults make a tiny two-layer Mixtral.
//
//===----------------------------------------------------------------------===//

#include "compiler/import/CheckpointWriter.h"
#include "compiler/import/TokenizerTrainer.h"

#include "compiler/Version.h"
#include "runtime/Progress.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"

#include <csignal>
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

#include <nlohmann/json.hpp>

using namespace llvm;

namespace {

cl::OptionCategory model("Model");
cl::OptionCategory files("Files");

cl::opt<std::string> output("o", cl::Required, cl::desc("Output directory"),
                            cl::value_desc("dir"), cl::cat(files));
cl::opt<std::string> arch("arch",
                          cl::desc("architectures[0] (e.g. MistralForCausalLM) "
                                   "or a model_type (e.g. bamboo)"),
                          cl::init("MixtralForCausalLM"), cl::cat(model));
cl::opt<std::string> hiddenAct("hidden-act",
                               cl::desc("hidden_act (default: relu for "
                                        "TurboSparse models, else silu)"),
                               cl::cat(model));
cl::opt<int64_t> vocab("vocab-size", cl::init(256), cl::cat(model));
cl::opt<int64_t> hidden("hidden-size", cl::init(64), cl::cat(model));
cl::opt<int64_t> inter("intermediate-size", cl::init(128), cl::cat(model));
cl::opt<int64_t> layers("num-layers", cl::init(2), cl::cat(model));
cl::opt<int64_t> heads("num-heads", cl::init(4), cl::cat(model));
cl::opt<int64_t> kvHeads("num-kv-heads", cl::init(2), cl::cat(model));
cl::opt<int64_t> headDim("head-dim", cl::desc("0: hidden / heads"), cl::init(0),
                         cl::cat(model));
cl::opt<int64_t> experts("num-experts", cl::init(4), cl::cat(model));
cl::opt<int64_t> topK("top-k", cl::init(2), cl::cat(model));
cl::opt<int64_t> sharedExperts("num-shared-experts", cl::init(0),
                               cl::cat(model));
cl::opt<std::string> routing("routing", cl::desc("learned, hash or uniform"),
                             cl::init("learned"), cl::cat(model));
cl::opt<std::string> nonlinearity("nonlinearity",
                                  cl::desc("softmax, sigmoid or sinkhorn"),
                                  cl::init("softmax"), cl::cat(model));
cl::opt<std::string> weighting(
    "weighting",
    cl::desc("expert_weighting_nonlinearity: softmax, sigmoid or sinkhorn "
             "(empty: not written, the zoo's default softmax)"),
    cl::cat(model));
cl::opt<int64_t> sinkhornIterations("sinkhorn-iterations",
                                    cl::desc("sinkhorn_n_iters (0: not written)"),
                                    cl::init(0), cl::cat(model));
cl::opt<bool> normalizeWeights(
    "expert-weighting-normalization",
    cl::desc("divide a token's expert weights by their sum (false: "
             "written as expert_weighting_normalization: false)"),
    cl::init(true), cl::cat(model));
cl::opt<double> nullExpertBias("null-expert-bias", cl::desc("negative: none"),
                               cl::init(-1), cl::cat(model));
cl::opt<int64_t> slidingWindow("sliding-window", cl::desc("0: none"),
                               cl::init(0), cl::cat(model));
cl::opt<double> ropeTheta("rope-theta", cl::init(1e6), cl::cat(model));
cl::opt<bool> attentionBias(
    "attention-bias", cl::desc("Biases on the attention projections"),
    cl::cat(model));
cl::opt<bool> mlpBias("mlp-bias",
                      cl::desc("Biases on every MLP and expert linear "
                               "(mlp_bias; the zoo's use_ffn_bias)"),
                      cl::cat(model));
cl::opt<std::string> normType(
    "norm-type",
    cl::desc("CerebrasMoeForCausalLM: layernorm (default) or rmsnorm"),
    cl::cat(model));
cl::opt<std::string> positionEmbedding(
    "position-embedding",
    cl::desc("CerebrasMoeForCausalLM: alibi (default) or rotary"),
    cl::cat(model));
cl::opt<double> embeddingsScale("embeddings-scale",
                                cl::desc("the zoo's embeddings_scale"),
                                cl::init(1.0), cl::cat(model));
cl::opt<double> outputLogitsScale("output-logits-scale",
                                  cl::desc("the zoo's output_logits_scale"),
                                  cl::init(1.0), cl::cat(model));
cl::opt<bool> scaleQkByHeadDim(
    "scale-qk-by-head-dim",
    cl::desc("the zoo's scale_qk_dot_by_d: q.k / head_dim"), cl::cat(model));
cl::opt<std::string> preset(
    "preset",
    cl::desc("A published shape, its sizes and options the defaults of the "
             "other flags: cerebras-moe-111m, cerebras-moe-111m-shared (the "
             "Cerebras model zoo's params_moe_111M_base.yaml and "
             "params_moe_111M_with_shared_expert.yaml)"),
    cl::cat(model));
cl::opt<std::string> ropeScaling(
    "rope-scaling",
    cl::desc("rope_scaling as TYPE:FACTOR, linear or llama3 (llama3: "
             "low_freq_factor 1, high_freq_factor 4, original context 8192)"),
    cl::cat(model));
cl::opt<double> rmsNormEps("rms-norm-eps", cl::init(1e-5), cl::cat(model));
cl::opt<int64_t> maxPositions("max-position-embeddings", cl::init(4096),
                              cl::cat(model));
cl::opt<bool> tieEmbeddings("tie-word-embeddings", cl::cat(model));
cl::opt<int64_t> numLabels("num-labels", cl::init(3), cl::cat(model));
cl::opt<int64_t> padTokenId("pad-token-id", cl::desc("negative: none"),
                            cl::init(-1), cl::cat(model));
cl::opt<int64_t> predictorRank("predictor-rank",
                               cl::desc("add dReLU predictors of this rank "
                                        "(the gates are then low-rank, so "
                                        "that the predictors predict)"),
                               cl::init(0), cl::cat(model));
cl::opt<double> activeFraction(
    "active-fraction",
    cl::desc("dReLU models: make this fraction of each layer's and expert's "
             "neurons active on typical tokens (0: random weights, about "
             "0.25)"),
    cl::init(0), cl::cat(model));

cl::opt<std::string> dtype("dtype", cl::desc("bf16, f16 or f32"),
                           cl::init("bf16"), cl::cat(files));
cl::opt<int64_t> shards("shards", cl::init(1), cl::cat(files));
cl::opt<bool> fusedExperts("fused-experts",
                           cl::desc("store experts as mlp.experts.gate_up_proj "
                                    "and down_proj"),
                           cl::cat(files));
cl::opt<uint64_t> seed("seed", cl::init(0), cl::cat(files));
cl::opt<bool> headersOnly("headers-only",
                          cl::desc("write headers only; data are zeros in "
                                   "sparse files"),
                          cl::cat(files));

cl::OptionCategory tokenizer("Tokenizer");
cl::opt<std::string> corpus(
    "tokenizer-corpus",
    cl::desc("Train a SentencePiece tokenizer of --vocab-size pieces on this "
             "text and write tokenizer.model and tokenizer_config.json"),
    cl::value_desc("file"), cl::cat(tokenizer));
cl::opt<moec::ChatFormat>
    chat("chat-template",
         cl::desc("The chat template tokenizer_config.json names"),
         cl::init(moec::ChatFormat::ChatML),
         cl::values(clEnumValN(moec::ChatFormat::ChatML, "chatml",
                               "<|im_start|>role ... <|im_end|> (TurboSparse)"),
                    clEnumValN(moec::ChatFormat::Mistral, "mistral",
                               "[INST] ... [/INST] (Mistral, Mixtral)"),
                    clEnumValN(moec::ChatFormat::None, "none", "none")),
         cl::cat(tokenizer));

int fail(const Twine &message) {
  WithColor::error(errs(), "moec-synth") << message << "\n";
  return 1;
}

/// Sets `option` to `value` unless the command line gave it.
template <typename T, typename V> void presetValue(cl::opt<T> &option, V value) {
  if (!option.getNumOccurrences())
    option.setValue(value);
}

/// The Cerebras model zoo's 111M MoE shapes (its Mixtral README's configs):
/// GPT-2's block with LayerNorm, ALiBi, biases and scales, 4 experts, top-1,
/// a null-expert bias of 1.1, and with `shared` one shared expert.
Error applyPreset(StringRef name) {
  bool shared = name == "cerebras-moe-111m-shared";
  if (name != "cerebras-moe-111m" && !shared)
    return createStringError("unknown --preset '" + name +
                             "' (cerebras-moe-111m, cerebras-moe-111m-shared)");
  presetValue(arch, "CerebrasMoeForCausalLM");
  presetValue(hidden, 768);
  presetValue(layers, 10);
  presetValue(heads, 12);
  presetValue(inter, 2048);
  presetValue(vocab, 50257);
  presetValue(maxPositions, 2048);
  presetValue(experts, 4);
  presetValue(topK, 1);
  presetValue(nullExpertBias, 1.1);
  presetValue(sharedExperts, shared ? 1 : 0);
  presetValue(embeddingsScale, 9.1706);
  presetValue(outputLogitsScale, 0.3651);
  presetValue(scaleQkByHeadDim, true);
  presetValue(attentionBias, true);
  presetValue(mlpBias, true);
  return Error::success();
}

/// The config.json the options describe, checked by the same parser the
/// importer uses.
Expected<moec::ModelConfig> configFromOptions() {
  nlohmann::json config;
  bool zoo = arch == "CerebrasMoeForCausalLM";
  if (StringRef(arch).contains("For"))
    config["architectures"] = {arch.getValue()};
  else
    config["model_type"] = arch.getValue();
  std::string lower = StringRef(arch).lower();
  bool turbo = StringRef(lower).contains("bamboo") ||
               StringRef(lower).contains("turbosparse");
  config["hidden_act"] =
      hiddenAct.empty() ? (turbo ? "relu" : "silu") : hiddenAct.getValue();
  config["vocab_size"] = vocab.getValue();
  config["hidden_size"] = hidden.getValue();
  config["intermediate_size"] = inter.getValue();
  config["num_hidden_layers"] = layers.getValue();
  config["num_attention_heads"] = heads.getValue();
  // The zoo's attention is MHA unless asked.
  if (!zoo || kvHeads.getNumOccurrences())
    config["num_key_value_heads"] = kvHeads.getValue();
  if (headDim > 0)
    config["head_dim"] = headDim.getValue();
  config["num_local_experts"] = experts.getValue();
  config["num_experts_per_tok"] = topK.getValue();
  if (sharedExperts > 0)
    config["num_shared_experts"] = sharedExperts.getValue();
  config["routing_algorithm"] = routing.getValue();
  config["router_selection_nonlinearity"] = nonlinearity.getValue();
  if (!weighting.empty())
    config["expert_weighting_nonlinearity"] = weighting.getValue();
  if (sinkhornIterations > 0)
    config["sinkhorn_n_iters"] = sinkhornIterations.getValue();
  if (!normalizeWeights)
    config["expert_weighting_normalization"] = false;
  if (nullExpertBias >= 0)
    config["null_expert_bias"] = nullExpertBias.getValue();
  if (slidingWindow > 0)
    config["sliding_window"] = slidingWindow.getValue();
  if (zoo) {
    if (!normType.empty())
      config["norm_type"] = normType.getValue();
    if (!positionEmbedding.empty())
      config["position_embedding_type"] = positionEmbedding.getValue();
    config["embeddings_scale"] = embeddingsScale.getValue();
    config["output_logits_scale"] = outputLogitsScale.getValue();
    config["scale_qk_dot_by_d"] = scaleQkByHeadDim.getValue();
    config["use_projection_bias_in_attention"] = attentionBias.getValue();
    config["use_ffn_bias_in_attention"] = attentionBias.getValue();
    config["use_ffn_bias"] = mlpBias.getValue();
  } else {
    if (attentionBias)
      config["attention_bias"] = true;
    if (mlpBias)
      config["mlp_bias"] = true;
  }
  if (!zoo || positionEmbedding == "rotary")
    config["rope_theta"] = ropeTheta.getValue();
  if (!ropeScaling.empty()) {
    auto [type, factor] = StringRef(ropeScaling).split(':');
    double value = 0;
    if (factor.getAsDouble(value))
      return createStringError("--rope-scaling=" + ropeScaling +
                               ": not TYPE:FACTOR");
    config["rope_scaling"] = {{"rope_type", type.str()}, {"factor", value}};
    if (type == "llama3") {
      config["rope_scaling"]["low_freq_factor"] = 1.0;
      config["rope_scaling"]["high_freq_factor"] = 4.0;
      config["rope_scaling"]["original_max_position_embeddings"] = 8192;
    }
  }
  config["rms_norm_eps"] = rmsNormEps.getValue();
  config["max_position_embeddings"] = maxPositions.getValue();
  if (!zoo || tieEmbeddings.getNumOccurrences())
    config["tie_word_embeddings"] = tieEmbeddings.getValue();
  config["num_labels"] = numLabels.getValue();
  if (padTokenId >= 0)
    config["pad_token_id"] = padTokenId.getValue();
  config["bos_token_id"] = 1;
  config["eos_token_id"] = 2;
  return moec::ModelConfig::parse("moec-synth options", config.dump());
}

} // namespace

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  // Past a file-size limit a write fails (EFBIG, reported with the file's
  // name) instead of the process dying.
  std::signal(SIGXFSZ, SIG_IGN);
  moec::setVersionPrinter("moec-synth");
  cl::HideUnrelatedOptions({&model, &files, &tokenizer});
  if (!cl::ParseCommandLineOptions(
          argc, argv, "moec-synth: random HuggingFace checkpoints\n", &errs()))
    return 2;

  if (!preset.empty())
    if (Error error = applyPreset(preset))
      return fail(toString(std::move(error)));
  Expected<moec::ModelConfig> config = configFromOptions();
  if (!config)
    return fail(toString(config.takeError()));

  moec::CheckpointWriterOptions options;
  std::optional<moec::DType> type = moec::parseDType(StringRef(dtype).upper());
  if (!type)
    return fail("unknown --dtype '" + dtype + "'");
  options.dtype = *type;
  options.shards = shards;
  options.expertStorage = fusedExperts ? moec::ExpertStorage::Fused
                                       : moec::ExpertStorage::PerExpert;
  options.predictorRank = predictorRank;
  options.activeFraction = activeFraction;
  options.seed = seed;
  options.headersOnly = headersOnly;
  options.progress = moec::progressCallback("writing weights");
  // Trained first, so that a corpus it refuses leaves no checkpoint.
  std::optional<moec::TrainedTokenizer> trained;
  if (!corpus.empty()) {
    Expected<moec::TrainedTokenizer> result =
        moec::trainTokenizer(corpus, vocab, chat);
    if (!result)
      return fail(toString(result.takeError()));
    trained = std::move(*result);
  }
  if (Error error = moec::writeCheckpoint(output, *config, options))
    return fail(toString(std::move(error)));
  if (trained)
    if (Error error = trained->write(output))
      return fail(toString(std::move(error)));
  return 0;
}
