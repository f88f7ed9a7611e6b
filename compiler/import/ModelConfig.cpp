//===- ModelConfig.cpp - a checkpoint's config.json ---------------------===//

#include "compiler/import/ModelConfig.h"
#include "compiler/import/Diagnostics.h"
#include "dialects/moe/IR/MoeOps.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/MemoryBuffer.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <tuple>

using namespace moec;
using llvm::Error;
using llvm::Expected;
using llvm::StringRef;
using json = nlohmann::json;
namespace moe = mlir::moe;

namespace {

struct Architecture {
  StringRef name;
  StringRef modelType;
  Layout layout;
  Head head;
  /// TurboSparse: the MLP is dReLU, relu(gate x) * relu(up x).
  bool drelu;
  /// The Cerebras model zoo's GPT-2-style MoE block, under its YAML keys.
  bool zoo = false;
};

// How each architecture is recognised: by `architectures[0]`, or by
// `model_type` (as its causal-LM class) when the list is absent.
constexpr Architecture kArchitectures[] = {
    {"MixtralForCausalLM", "mixtral", Layout::Moe, Head::CausalLM, false},
    {"MixtralForSequenceClassification", "mixtral", Layout::Moe,
     Head::SequenceClassification, false},
    {"MixtralForTokenClassification", "mixtral", Layout::Moe,
     Head::TokenClassification, false},
    {"MistralForCausalLM", "mistral", Layout::Dense, Head::CausalLM, false},
    {"MistralForSequenceClassification", "mistral", Layout::Dense,
     Head::SequenceClassification, false},
    {"MistralForTokenClassification", "mistral", Layout::Dense,
     Head::TokenClassification, false},
    // Llama 2/3 and SmolLM: Mistral's decoder without a sliding window.
    {"LlamaForCausalLM", "llama", Layout::Dense, Head::CausalLM, false},
    {"LlamaForSequenceClassification", "llama", Layout::Dense,
     Head::SequenceClassification, false},
    {"LlamaForTokenClassification", "llama", Layout::Dense,
     Head::TokenClassification, false},
    {"BambooForCausalLM", "bamboo", Layout::Dense, Head::CausalLM, true},
    {"TurboSparseMixtralForCausalLM", "turbosparsemixtral", Layout::Moe,
     Head::CausalLM, true},
    {"TurboSparseMixtralForSequenceClassification", "turbosparsemixtral",
     Layout::Moe, Head::SequenceClassification, true},
    {"TurboSparseMixtralForTokenClassification", "turbosparsemixtral",
     Layout::Moe, Head::TokenClassification, true},
    // The Cerebras model zoo's MoE models (its "mixtral" model on the GPT-2
    // block: LayerNorm, ALiBi, biases, scales; docs/import.md).
    {"CerebrasMoeForCausalLM", "cerebras_moe", Layout::Moe, Head::CausalLM,
     false, /*zoo=*/true},
};

const Architecture *findArchitecture(StringRef name) {
  for (const Architecture &arch : kArchitectures)
    if (arch.name == name)
      return &arch;
  return nullptr;
}

const Architecture *findModelType(StringRef modelType) {
  // The first entry of each model type is its causal-LM class.
  for (const Architecture &arch : kArchitectures)
    if (arch.modelType == modelType)
      return &arch;
  return nullptr;
}


/// What a config field of C++ type T must be in JSON.
template <typename T> struct JsonKind;
template <> struct JsonKind<int64_t> {
  static bool matches(const json &v) { return v.is_number_integer(); }
  static constexpr const char *name = "an integer";
};
template <> struct JsonKind<double> {
  static bool matches(const json &v) { return v.is_number(); }
  static constexpr const char *name = "a number";
};
template <> struct JsonKind<bool> {
  static bool matches(const json &v) { return v.is_boolean(); }
  static constexpr const char *name = "true or false";
};
template <> struct JsonKind<std::string> {
  static bool matches(const json &v) { return v.is_string(); }
  static constexpr const char *name = "a string";
};

/// Typed access to the fields of a config object. A getter leaves the value
/// untouched when the key is absent (or null, where HF allows null) and
/// records the first type error, so parsing reads as a list of fields.
class FieldReader {
public:
  FieldReader(const json &object, StringRef path)
      : object(object), path(path) {}

  const json *find(const char *key) const {
    auto it = object.find(key);
    if (it == object.end() || it->is_null())
      return nullptr;
    return &*it;
  }

  template <typename T> void get(const char *key, T &value) {
    if (const json *field = find(key)) {
      if (!JsonKind<T>::matches(*field))
        return fail(llvm::Twine("'") + key + "' must be " + JsonKind<T>::name);
      value = field->get<T>();
    }
  }

  template <typename T> void get(const char *key, std::optional<T> &value) {
    if (find(key))
      get(key, value.emplace());
  }

  void fail(const llvm::Twine &message) {
    if (!error)
      error = fileError(path, message);
  }

  Error takeError() { return error ? std::move(error) : Error::success(); }

private:
  const json &object;
  StringRef path;
  Error error = Error::success();
};

/// The expert activation a config names: dReLU architectures must say
/// "relu"; for the others HF's gated MLP applies `hidden_act` to the gate
/// only, so "relu" there is ReGLU, not dReLU.
std::optional<moe::Activation> activationFor(const Architecture &arch,
                                             StringRef hiddenAct) {
  if (arch.drelu)
    return hiddenAct == "relu" ? std::optional(moe::Activation::DReLU)
                               : std::nullopt;
  if (hiddenAct == "silu" || hiddenAct == "swish")
    return moe::Activation::SwiGLU;
  if (hiddenAct == "relu")
    return moe::Activation::ReGLU;
  if (hiddenAct == "gelu")
    return moe::Activation::GeGLU;
  return std::nullopt;
}

/// The Cerebras model zoo's GPT-2-style block: its YAML keys read into
/// `config`, and those with an HF name renamed in `root` for the common
/// reader (a key given under both names is an error).
Error readZooBlock(json &root, StringRef path, ModelConfig &config) {
  config.zooBlock = true;
  config.norm = Norm::LayerNorm;
  config.alibi = true;
  config.tieWordEmbeddings = true;
  config.ropeTheta = 10000;
  for (auto [zoo, hf] : {std::pair{"num_heads", "num_attention_heads"},
                         {"filter_size", "intermediate_size"},
                         {"layer_norm_epsilon", "rms_norm_eps"},
                         {"share_embedding_weights", "tie_word_embeddings"}}) {
    auto it = root.find(zoo);
    if (it == root.end())
      continue;
    if (root.contains(hf))
      return fileError(path, llvm::Twine("'") + zoo + "' and '" + hf +
                                 "' both given");
    root[hf] = *it;
    root.erase(zoo);
  }
  // MHA unless the zoo's GQA option says otherwise.
  if (!root.contains("num_key_value_heads") && root.contains("num_attention_heads"))
    root["num_key_value_heads"] = root["num_attention_heads"];
  if (auto extra = root.find("extra_attention_params");
      extra != root.end() && extra->is_object() && extra->contains("num_kv_groups"))
    root["num_key_value_heads"] = (*extra)["num_kv_groups"];

  FieldReader fields(root, path);
  std::string nonlinearity = "swiglu", norm = "layernorm", position = "alibi";
  bool outputBias = false;
  std::optional<int64_t> rotaryDim;
  std::optional<double> logitsScale;
  fields.get("nonlinearity", nonlinearity);
  fields.get("norm_type", norm);
  fields.get("position_embedding_type", position);
  fields.get("embeddings_scale", config.embeddingsScale);
  fields.get("output_logits_scale", logitsScale);
  fields.get("scale_qk_dot_by_d", config.scaleQkByHeadDim);
  fields.get("use_projection_bias_in_attention", config.attentionBias);
  fields.get("use_ffn_bias_in_attention", config.attentionOutputBias);
  fields.get("use_ffn_bias", config.mlpBias);
  fields.get("use_bias_in_output", outputBias);
  fields.get("rotary_dim", rotaryDim);
  if (Error error = fields.takeError())
    return error;
  config.outputLogitsScale = logitsScale.value_or(1.0);
  // The zoo names the gated FFNs by their GLU; moec's hidden_act names
  // the gate's function.
  static const std::pair<StringRef, StringRef> kGlu[] = {
      {"swiglu", "silu"}, {"reglu", "relu"}, {"geglu", "gelu"}};
  auto glu = llvm::find_if(kGlu, [&](auto &p) { return p.first == nonlinearity; });
  if (glu == std::end(kGlu))
    return fileError(path, "nonlinearity '" + nonlinearity +
                               "': moec compiles the gated expert FFNs "
                               "(swiglu, reglu, geglu)");
  if (root.contains("nonlinearity") && root.contains("hidden_act"))
    return fileError(path, "'nonlinearity' and 'hidden_act' both given");
  if (!root.contains("hidden_act"))
    root["hidden_act"] = glu->second.str();
  if (norm == "rmsnorm")
    config.norm = Norm::RMSNorm;
  else if (norm != "layernorm")
    return fileError(path, "unsupported norm_type '" + norm +
                               "' (layernorm or rmsnorm)");
  if (position == "rotary") {
    config.alibi = false;
  } else if (position != "alibi") {
    return fileError(path, "unsupported position_embedding_type '" + position +
                               "' (alibi or rotary)");
  } else {
    // ALiBi replaces the rotary embedding: rotary keys contradict it.
    for (const char *key : {"rope_theta", "rotary_dim", "rope_scaling",
                            "rope_parameters"})
      if (root.contains(key) && !root[key].is_null())
        return fileError(path, llvm::Twine("'") + key +
                                   "' given, but position_embedding_type is "
                                   "alibi");
  }
  if (rotaryDim && root.contains("num_attention_heads") &&
      root.contains("hidden_size") && root["num_attention_heads"].is_number_integer() &&
      root["hidden_size"].is_number_integer() && root["num_attention_heads"] != 0 &&
      *rotaryDim != root["hidden_size"].get<int64_t>() /
                        root["num_attention_heads"].get<int64_t>())
    return fileError(path, "rotary_dim must be the head size (partial rotary "
                           "embeddings are not supported)");
  if (outputBias)
    return fileError(path, "use_bias_in_output: a bias on the LM head is not "
                           "supported");
  if (!(config.embeddingsScale > 0 && std::isfinite(config.embeddingsScale)) ||
      !(config.outputLogitsScale > 0 && std::isfinite(config.outputLogitsScale)))
    return fileError(path, "embeddings_scale and output_logits_scale must be "
                           "positive");
  return Error::success();
}

/// An HF-style config of the zoo's block under the zoo's YAML names: the
/// MoE options nested under "moe", the gated FFN named by its GLU.
nlohmann::ordered_json zooNames(const nlohmann::ordered_json &hf, bool gqa) {
  static const std::pair<StringRef, StringRef> kRenamed[] = {
      {"num_attention_heads", "num_heads"},
      {"intermediate_size", "filter_size"},
      {"rms_norm_eps", "layer_norm_epsilon"},
      {"tie_word_embeddings", "share_embedding_weights"},
      {"num_local_experts", "num_experts"},
      {"num_experts_per_tok", "top_k"},
      {"norm_topk_prob", "expert_weighting_normalization"}};
  static const StringRef kMoe[] = {
      "num_experts", "top_k", "num_shared_experts", "routing_algorithm",
      "router_selection_nonlinearity", "expert_weighting_nonlinearity",
      "expert_weighting_normalization", "null_expert_bias",
      "sinkhorn_n_iters"};
  nlohmann::ordered_json out, moe = nlohmann::ordered_json::object();
  for (auto &[key, value] : hf.items()) {
    std::string name = key;
    for (auto [from, to] : kRenamed)
      if (from == key)
        name = to.str();
    if (key == "head_dim" || key == "sliding_window" ||
        key == "num_key_value_heads")
      continue;
    if (key == "hidden_act") {
      name = "nonlinearity";
      value == "silu" ? out[name] = "swiglu"
                      : out[name] = (value == "relu" ? "reglu" : "geglu");
      continue;
    }
    if (llvm::is_contained(kMoe, StringRef(name)))
      moe[name] = value;
    else
      out[name] = value;
  }
  if (gqa)
    out["extra_attention_params"] = {{"num_kv_groups",
                                      hf["num_key_value_heads"]}};
  out["use_bias_in_output"] = false;
  out["moe"] = moe;
  return out;
}

} // namespace

StringRef moec::supportedArchitectures() {
  static const std::string names = [] {
    std::string all;
    for (const Architecture &arch : kArchitectures)
      all += (all.empty() ? "" : ", ") + arch.name.str();
    return all;
  }();
  return names;
}

bool ModelConfig::routerMixesTokens() const {
  return layout == Layout::Moe && routing == moe::RoutingAlgorithm::Learned &&
         (nonlinearity == moe::RouterNonlinearity::Sinkhorn ||
          weighting == moe::RouterNonlinearity::Sinkhorn);
}

Expected<ModelConfig> ModelConfig::parse(StringRef path, StringRef text) {
  json root = json::parse(text.begin(), text.end(), /*cb=*/nullptr,
                          /*allow_exceptions=*/false);
  if (root.is_discarded())
    return fileError(path, "malformed JSON");
  if (!root.is_object())
    return fileError(path, "expected a JSON object");

  // The Cerebras model zoo nests its MoE options under "moe": read them as
  // if at the top level.
  if (auto nested = root.find("moe"); nested != root.end()) {
    if (!nested->is_object())
      return fileError(path, "'moe' must be an object");
    json options = *nested;
    root.erase("moe");
    for (auto &[key, value] : options.items()) {
      if (root.contains(key))
        return fileError(path, "'" + key + "' is given both in 'moe' and "
                                           "at the top level");
      root[key] = value;
    }
  }

  ModelConfig config;
  FieldReader fields(root, path);

  // Architecture.
  fields.get("model_type", config.modelType);
  const Architecture *arch = nullptr;
  if (const json *list = fields.find("architectures")) {
    if (!list->is_array() || list->empty() || !(*list)[0].is_string())
      return fileError(path, "'architectures' must be a list of names");
    config.architecture = (*list)[0].get<std::string>();
    arch = findArchitecture(config.architecture);
  } else {
    arch = findModelType(config.modelType);
    config.architecture = arch ? arch->name.str() : config.modelType;
  }
  if (!arch)
    return fileError(path, "unknown architecture '" + config.architecture +
                               "' (supported: " + supportedArchitectures() +
                               ")");
  if (config.modelType.empty())
    config.modelType = arch->modelType.str();
  config.layout = arch->layout;
  config.head = arch->head;
  if (arch->zoo)
    if (Error error = readZooBlock(root, path, config))
      return std::move(error);

  config.hiddenAct = "silu";
  fields.get("hidden_act", config.hiddenAct);
  if (Error error = fields.takeError())
    return std::move(error);
  std::optional<moe::Activation> activation =
      activationFor(*arch, config.hiddenAct);
  if (!activation)
    return fileError(path, "unsupported hidden_act '" + config.hiddenAct +
                               "' for " + config.architecture +
                               (arch->drelu ? " (dReLU models use \"relu\")"
                                            : ""));
  config.activation = *activation;

  // Sizes.
  fields.get("vocab_size", config.vocabSize);
  fields.get("hidden_size", config.hiddenSize);
  fields.get("intermediate_size", config.intermediateSize);
  fields.get("num_hidden_layers", config.numLayers);
  fields.get("num_attention_heads", config.numHeads);
  if (root.contains("num_key_value_heads") &&
      root["num_key_value_heads"].is_null())
    config.numKvHeads = config.numHeads;
  else
    fields.get("num_key_value_heads", config.numKvHeads);
  fields.get("max_position_embeddings", config.maxPositionEmbeddings);
  fields.get("rms_norm_eps", config.rmsNormEps);
  fields.get("sliding_window", config.slidingWindow);
  fields.get("tie_word_embeddings", config.tieWordEmbeddings);
  // Llama's biases: on the attention projections (all four) and on the
  // MLP's.
  if (!arch->zoo) {
    fields.get("attention_bias", config.attentionBias);
    config.attentionOutputBias = config.attentionBias;
    fields.get("mlp_bias", config.mlpBias);
  }
  if (Error error = fields.takeError())
    return std::move(error);

  // RoPE: `rope_theta`, or `rope_parameters` in newer configs. Only the
  // default (unscaled) rotary embedding is supported.
  fields.get("rope_theta", config.ropeTheta);
  for (const char *key : {"rope_parameters", "rope_scaling"}) {
    const json *rope = fields.find(key);
    if (!rope)
      continue;
    if (!rope->is_object())
      return fileError(path, llvm::Twine("'") + key + "' must be an object");
    FieldReader ropeFields(*rope, path);
    std::string type = "default";
    ropeFields.get("rope_type", type);
    ropeFields.get("type", type);
    ropeFields.get("rope_theta", config.ropeTheta);
    ModelConfig::RopeScaling scaling;
    scaling.type = type;
    ropeFields.get("factor", scaling.factor);
    ropeFields.get("low_freq_factor", scaling.lowFreqFactor);
    ropeFields.get("high_freq_factor", scaling.highFreqFactor);
    ropeFields.get("original_max_position_embeddings",
                   scaling.originalMaxPositions);
    if (Error error = ropeFields.takeError())
      return std::move(error);
    if (type == "linear" || type == "llama3") {
      if (!(scaling.factor > 0 && std::isfinite(scaling.factor)))
        return fileError(path, "rope_scaling factor must be positive");
      if (type == "llama3" &&
          !(scaling.lowFreqFactor > 0 &&
            scaling.highFreqFactor > scaling.lowFreqFactor &&
            scaling.originalMaxPositions > 0))
        return fileError(path, "llama3 rope_scaling needs 0 < "
                               "low_freq_factor < high_freq_factor and a "
                               "positive original_max_position_embeddings");
      config.ropeScaling = scaling;
    } else if (type != "default") {
      return fileError(path, "unsupported rope type '" + type +
                                 "' (default, linear and llama3 are "
                                 "supported)");
    }
  }

  // head_dim: given, or hidden / heads.
  std::optional<int64_t> headDim;
  fields.get("head_dim", headDim);
  if (Error error = fields.takeError())
    return std::move(error);
  if (headDim) {
    config.headDim = *headDim;
  } else {
    if (config.numHeads <= 0)
      return fileError(path, "num_attention_heads must be positive, got " +
                                 llvm::Twine(config.numHeads));
    if (config.hiddenSize % config.numHeads != 0)
      return fileError(path, "num_attention_heads (" +
                                 llvm::Twine(config.numHeads) +
                                 ") must divide hidden_size (" +
                                 llvm::Twine(config.hiddenSize) + ")");
    config.headDim = config.hiddenSize / config.numHeads;
  }

  // Experts: HF names, or the Cerebras model zoo's aliases.
  if (config.layout == Layout::Moe) {
    fields.get("num_local_experts", config.numExperts);
    fields.get("num_experts_per_tok", config.topK);
    std::optional<int64_t> experts, topK;
    fields.get("num_experts", experts);
    fields.get("top_k", topK);
    if (Error error = fields.takeError())
      return std::move(error);
    if (experts && root.contains("num_local_experts") &&
        *experts != config.numExperts)
      return fileError(path, "num_experts and num_local_experts disagree");
    if (topK && root.contains("num_experts_per_tok") && *topK != config.topK)
      return fileError(path, "top_k and num_experts_per_tok disagree");
    config.numExperts = experts.value_or(config.numExperts);
    config.topK = topK.value_or(config.topK);

    fields.get("num_shared_experts", config.numSharedExperts);
    fields.get("null_expert_bias", config.nullExpertBias);
    fields.get("norm_topk_prob", config.renormalize);
    std::optional<bool> normalization;
    fields.get("expert_weighting_normalization", normalization);
    fields.get("sinkhorn_n_iters", config.sinkhornIterations);
    std::string routing = "learned", nonlinearity = "softmax",
                weighting = "softmax";
    fields.get("routing_algorithm", routing);
    fields.get("router_selection_nonlinearity", nonlinearity);
    fields.get("expert_weighting_nonlinearity", weighting);
    if (Error error = fields.takeError())
      return std::move(error);
    if (normalization) {
      if (root.contains("norm_topk_prob") &&
          *normalization != config.renormalize)
        return fileError(path, "expert_weighting_normalization and "
                               "norm_topk_prob disagree");
      config.renormalize = *normalization;
    }
    // The zoo ignores a null-expert bias <= 0.
    if (config.nullExpertBias && *config.nullExpertBias <= 0)
      config.nullExpertBias.reset();
    std::optional<moe::RoutingAlgorithm> routingValue =
        moe::symbolizeRoutingAlgorithm(routing);
    if (!routingValue)
      return fileError(path, "unknown routing_algorithm '" + routing +
                                 "' (expected learned, hash or uniform)");
    config.routing = *routingValue;
    for (auto [key, name, value] :
         {std::tuple{"router_selection_nonlinearity", &nonlinearity,
                     &config.nonlinearity},
          {"expert_weighting_nonlinearity", &weighting, &config.weighting}}) {
      std::optional<moe::RouterNonlinearity> parsed =
          moe::symbolizeRouterNonlinearity(*name);
      if (!parsed)
        return fileError(path, llvm::Twine("unknown ") + key + " '" + *name +
                                   "' (expected softmax, sigmoid or sinkhorn)");
      *value = *parsed;
    }
    // Fixed routing has no scores: the zoo ignores both nonlinearities.
    if (config.routing != moe::RoutingAlgorithm::Learned)
      config.nonlinearity = config.weighting = moe::RouterNonlinearity::Softmax;
  } else {
    config.numExperts = 1;
    config.topK = 1;
  }

  // Classification heads: the label count is that of `id2label` when given.
  if (const json *labels = fields.find("id2label")) {
    if (!labels->is_object())
      return fileError(path, "'id2label' must be an object");
    config.numLabels = labels->size();
  } else {
    fields.get("num_labels", config.numLabels);
  }
  fields.get("pad_token_id", config.padTokenId);
  fields.get("bos_token_id", config.bosTokenId);
  if (const json *eos = fields.find("eos_token_id"); eos && eos->is_array()) {
    for (const json &id : *eos) {
      if (!id.is_number_integer())
        return fileError(path, "'eos_token_id' must be an id or a list of ids");
      config.eosTokenIds.push_back(id.get<int64_t>());
    }
  } else {
    std::optional<int64_t> id;
    fields.get("eos_token_id", id);
    if (id)
      config.eosTokenIds.push_back(*id);
  }
  fields.get("torch_dtype", config.torchDtype);
  fields.get("dtype", config.torchDtype);
  if (Error error = fields.takeError())
    return std::move(error);

  if (Error error = config.verify(path))
    return std::move(error);
  return config;
}

Expected<ModelConfig> ModelConfig::read(StringRef path) {
  // A config.json is small; 64 MiB bounds what a hostile one costs.
  auto buffer = readRegularFile(path, 64 << 20);
  if (!buffer)
    return buffer.takeError();
  return parse(path, (*buffer)->getBuffer());
}

Error ModelConfig::verify(StringRef path) const {
  auto positive = [&](const char *name, int64_t value) -> Error {
    if (value > 0)
      return Error::success();
    return fileError(path, llvm::Twine(name) + " must be positive, got " +
                               llvm::Twine(value));
  };
  for (auto [name, value] : {
           std::pair{"vocab_size", vocabSize},
           {"hidden_size", hiddenSize},
           {"intermediate_size", intermediateSize},
           {"num_hidden_layers", numLayers},
           {"num_attention_heads", numHeads},
           {"num_key_value_heads", numKvHeads},
           {"head_dim", headDim},
           {"max_position_embeddings", maxPositionEmbeddings},
           {"num_local_experts", numExperts},
           {"num_experts_per_tok", topK},
       })
    if (Error error = positive(name, value))
      return error;
  if (headDim % 2 != 0)
    return fileError(path, "head_dim must be even for RoPE, got " +
                               llvm::Twine(headDim));
  if (numHeads % numKvHeads != 0)
    return fileError(path, "num_key_value_heads (" + llvm::Twine(numKvHeads) +
                               ") must divide num_attention_heads (" +
                               llvm::Twine(numHeads) + ")");
  if (topK > numExperts)
    return fileError(path, "num_experts_per_tok (" + llvm::Twine(topK) +
                               ") exceeds the number of experts (" +
                               llvm::Twine(numExperts) + ")");
  if (routing == moe::RoutingAlgorithm::Hash && topK != 1)
    return fileError(path, "hash routing needs top_k 1, got " +
                               llvm::Twine(topK));
  if (routerMixesTokens() && (sinkhornIterations < 1 || sinkhornIterations > 64))
    return fileError(path, "sinkhorn_n_iters must be in [1, 64], got " +
                               llvm::Twine(sinkhornIterations));
  if (numSharedExperts < 0)
    return fileError(path, "num_shared_experts must not be negative");
  if (nullExpertBias && !(*nullExpertBias > 0 && std::isfinite(*nullExpertBias)))
    return fileError(path, "null_expert_bias must be a finite number");
  if (nullExpertBias && !renormalize)
    return fileError(path, "null_expert_bias needs "
                           "expert_weighting_normalization (norm_topk_prob)");
  if (!(rmsNormEps > 0 && std::isfinite(rmsNormEps)))
    return fileError(path, "rms_norm_eps must be positive");
  if (!(ropeTheta > 0 && std::isfinite(ropeTheta)))
    return fileError(path, "rope_theta must be positive");
  if (slidingWindow && *slidingWindow <= 0)
    return fileError(path, "sliding_window must be positive or null, got " +
                               llvm::Twine(*slidingWindow));
  if (head != Head::CausalLM)
    if (Error error = positive("num_labels", numLabels))
      return error;
  // Special ids index the embedding and the logits: out of range, they
  // would read past the table or never match.
  auto inVocabulary = [&](const char *name, int64_t id) -> Error {
    if (id >= 0 && id < vocabSize)
      return Error::success();
    return fileError(path, llvm::Twine(name) + " " + llvm::Twine(id) +
                               " is outside the vocabulary (" +
                               llvm::Twine(vocabSize) + " ids)");
  };
  for (int64_t id : eosTokenIds)
    if (Error error = inVocabulary("eos_token_id", id))
      return error;
  if (bosTokenId)
    if (Error error = inVocabulary("bos_token_id", *bosTokenId))
      return error;
  return Error::success();
}

std::vector<float> ModelConfig::alibiSlopes() const {
  // For n a power of 2: start^(h + 1) with start = 2^(-8 / n). Otherwise
  // the slopes of the power of 2 below n, then every other slope of twice
  // that count.
  auto powerOf2 = [](int64_t n) {
    std::vector<float> slopes;
    double start = std::exp2(-8.0 / double(n));
    for (int64_t h = 0; h < n; ++h)
      slopes.push_back(float(std::pow(start, double(h + 1))));
    return slopes;
  };
  int64_t below = int64_t(1) << llvm::Log2_64(uint64_t(numHeads));
  std::vector<float> slopes = powerOf2(below);
  std::vector<float> twice = powerOf2(2 * below);
  for (int64_t i = 0; int64_t(slopes.size()) < numHeads; i += 2)
    slopes.push_back(twice[i]);
  return slopes;
}

std::vector<float> ModelConfig::ropeInverseFrequencies() const {
  llvm::SmallVector<float> unscaled =
      mlir::moe::ropeInverseFrequencies(ropeTheta, headDim);
  std::vector<float> inv(unscaled.begin(), unscaled.end());
  if (!ropeScaling)
    return inv;
  const RopeScaling &s = *ropeScaling;
  float factor = float(s.factor);
  for (float &f : inv) {
    if (s.type == "linear") {
      f /= factor;
      continue;
    }
    // Llama 3: wavelengths past the original context's / low_freq_factor
    // are scaled, those under its / high_freq_factor kept, and between
    // the two interpolated (transformers' _compute_llama3_parameters).
    float old = float(s.originalMaxPositions);
    float low = float(s.lowFreqFactor), high = float(s.highFreqFactor);
    float wavelen = 2.0f * float(M_PI) / f;
    float scaled = wavelen > old / low ? f / factor : f;
    if (!(wavelen < old / high) && !(wavelen > old / low)) {
      float smooth = (old / wavelen - low) / (high - low);
      scaled = (1 - smooth) * scaled / factor + smooth * scaled;
    }
    f = scaled;
  }
  return inv;
}

std::string ModelConfig::toJson() const {
  nlohmann::ordered_json out;
  out["architectures"] = {architecture};
  out["model_type"] = modelType;
  out["hidden_act"] = hiddenAct;
  out["vocab_size"] = vocabSize;
  out["hidden_size"] = hiddenSize;
  out["intermediate_size"] = intermediateSize;
  out["num_hidden_layers"] = numLayers;
  out["num_attention_heads"] = numHeads;
  out["num_key_value_heads"] = numKvHeads;
  out["head_dim"] = headDim;
  out["max_position_embeddings"] = maxPositionEmbeddings;
  out["rms_norm_eps"] = rmsNormEps;
  if (!alibi)
    out["rope_theta"] = ropeTheta;
  if (ropeScaling) {
    nlohmann::ordered_json scaling;
    scaling["rope_type"] = ropeScaling->type;
    scaling["factor"] = ropeScaling->factor;
    if (ropeScaling->type == "llama3") {
      scaling["low_freq_factor"] = ropeScaling->lowFreqFactor;
      scaling["high_freq_factor"] = ropeScaling->highFreqFactor;
      scaling["original_max_position_embeddings"] =
          ropeScaling->originalMaxPositions;
    }
    out["rope_scaling"] = scaling;
  }
  out["sliding_window"] =
      slidingWindow ? nlohmann::ordered_json(*slidingWindow) : nullptr;
  out["tie_word_embeddings"] = tieWordEmbeddings;
  if (zooBlock) {
    out["norm_type"] = norm == Norm::LayerNorm ? "layernorm" : "rmsnorm";
    out["position_embedding_type"] = alibi ? "alibi" : "rotary";
    out["embeddings_scale"] = embeddingsScale;
    out["output_logits_scale"] = outputLogitsScale;
    out["scale_qk_dot_by_d"] = scaleQkByHeadDim;
    out["use_projection_bias_in_attention"] = attentionBias;
    out["use_ffn_bias_in_attention"] = attentionOutputBias;
    out["use_ffn_bias"] = mlpBias;
  } else {
    if (attentionBias)
      out["attention_bias"] = true;
    if (mlpBias)
      out["mlp_bias"] = true;
  }
  if (layout == Layout::Moe) {
    out["num_local_experts"] = numExperts;
    out["num_experts_per_tok"] = topK;
    if (numSharedExperts != 0)
      out["num_shared_experts"] = numSharedExperts;
    if (routing != moe::RoutingAlgorithm::Learned)
      out["routing_algorithm"] = moe::stringifyRoutingAlgorithm(routing).str();
    if (nonlinearity != moe::RouterNonlinearity::Softmax)
      out["router_selection_nonlinearity"] =
          moe::stringifyRouterNonlinearity(nonlinearity).str();
    if (weighting != moe::RouterNonlinearity::Softmax)
      out["expert_weighting_nonlinearity"] =
          moe::stringifyRouterNonlinearity(weighting).str();
    if (routerMixesTokens())
      out["sinkhorn_n_iters"] = sinkhornIterations;
    if (nullExpertBias)
      out["null_expert_bias"] = *nullExpertBias;
    if (!renormalize)
      out["norm_topk_prob"] = false;
  }
  if (head != Head::CausalLM) {
    nlohmann::ordered_json labels = nlohmann::ordered_json::object();
    for (int64_t i = 0; i < numLabels; ++i)
      labels[std::to_string(i)] = "LABEL_" + std::to_string(i);
    out["id2label"] = labels;
  }
  if (padTokenId)
    out["pad_token_id"] = *padTokenId;
  if (bosTokenId)
    out["bos_token_id"] = *bosTokenId;
  if (eosTokenIds.size() == 1)
    out["eos_token_id"] = eosTokenIds.front();
  else if (!eosTokenIds.empty())
    out["eos_token_id"] = eosTokenIds;
  if (!torchDtype.empty())
    out["torch_dtype"] = torchDtype;
  if (zooBlock)
    out = zooNames(out, numKvHeads != numHeads);
  return out.dump(2) + "\n";
}
