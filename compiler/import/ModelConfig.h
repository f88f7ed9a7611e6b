//===- ModelConfig.h - a checkpoint's config.json ---------------*- C++ -*-===//
//
// The model hyper-parameters moec reads from a HuggingFace config.json, after
// defaults, aliases and checks: the one description of a model that the
// importer, the checkpoint synthesiser and (later) the artifact share.
//
//===----------------------------------------------------------------------===//

#ifndef MOEC_COMPILER_IMPORT_MODELCONFIG_H
#define MOEC_COMPILER_IMPORT_MODELCONFIG_H

#include "dialects/moe/IR/MoeAttrs.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace moec {

/// What the checkpoint's layers look like.
enum class Layout {
  /// Mixtral: `block_sparse_moe` with a router and experts.
  Moe,
  /// Mistral: one dense `mlp` per layer, imported as one expert, top-1.
  Dense,
};

/// The normalisation of a block's input and of the final hidden state.
enum class Norm {
  /// x * rsqrt(mean(x^2) + eps) * w (Mixtral, Mistral, Llama).
  RMSNorm,
  /// (x - mean) * rsqrt(var + eps) * w + b (GPT-2-style blocks).
  LayerNorm,
};

/// What the model's output is.
enum class Head { CausalLM, SequenceClassification, TokenClassification };

struct ModelConfig {
  /// `architectures[0]` as written, e.g. "MixtralForCausalLM".
  std::string architecture;
  /// `model_type` as written, e.g. "mixtral".
  std::string modelType;
  /// `hidden_act` as written, e.g. "silu".
  std::string hiddenAct;

  Layout layout = Layout::Moe;
  Head head = Head::CausalLM;
  mlir::moe::Activation activation = mlir::moe::Activation::SwiGLU;

  int64_t vocabSize = 32000;
  int64_t hiddenSize = 4096;
  int64_t intermediateSize = 14336;
  int64_t numLayers = 32;
  int64_t numHeads = 32;
  int64_t numKvHeads = 8;
  int64_t headDim = 128;
  int64_t maxPositionEmbeddings = 32768;
  /// The norms' kind and eps (rms_norm_eps, or the zoo's
  /// layer_norm_epsilon).
  Norm norm = Norm::RMSNorm;
  double rmsNormEps = 1e-5;
  double ropeTheta = 1e6;
  /// rope_scaling of type "linear" or "llama3" (else none): each inverse
  /// frequency divided by `factor`, or (llama3) only the low frequencies,
  /// the middle band interpolated between the two.
  struct RopeScaling {
    std::string type;
    double factor = 1;
    double lowFreqFactor = 1, highFreqFactor = 4;
    int64_t originalMaxPositions = 8192;
  };
  std::optional<RopeScaling> ropeScaling;
  /// RoPE's inverse frequencies (head_dim / 2), as HF computes them in f32:
  /// 1 / theta^(2k / head_dim), then ropeScaling.
  std::vector<float> ropeInverseFrequencies() const;
  std::optional<int64_t> slidingWindow;
  bool tieWordEmbeddings = false;
  /// Biases on the q, k and v projections (Llama's attention_bias, the
  /// zoo's use_projection_bias_in_attention), on the o projection
  /// (attention_bias, use_ffn_bias_in_attention), and on every MLP and
  /// expert linear (mlp_bias, use_ffn_bias).
  bool attentionBias = false;
  bool attentionOutputBias = false;
  bool mlpBias = false;
  /// ALiBi instead of RoPE (the zoo's position_embedding_type: alibi).
  bool alibi = false;
  /// The zoo's embeddings_scale (the embedding rows times it) and
  /// output_logits_scale (the logits times it).
  double embeddingsScale = 1.0;
  double outputLogitsScale = 1.0;
  /// q . k scaled by 1 / head_dim rather than 1 / sqrt(head_dim) (the zoo's
  /// scale_qk_dot_by_d).
  bool scaleQkByHeadDim = false;
  /// The GPT-2-style block of the Cerebras model zoo's MoE models
  /// (CerebrasMoeForCausalLM, whose config.json uses the zoo's YAML keys).
  bool zooBlock = false;

  // Mixture of experts (1 and 1 for dense layouts).
  int64_t numExperts = 8;
  int64_t topK = 2;
  int64_t numSharedExperts = 0;
  mlir::moe::RoutingAlgorithm routing = mlir::moe::RoutingAlgorithm::Learned;
  /// How the experts are chosen (router_selection_nonlinearity) and how
  /// their weights are computed (expert_weighting_nonlinearity).
  mlir::moe::RouterNonlinearity nonlinearity =
      mlir::moe::RouterNonlinearity::Softmax;
  mlir::moe::RouterNonlinearity weighting =
      mlir::moe::RouterNonlinearity::Softmax;
  /// Sinkhorn's rounds (sinkhorn_n_iters).
  int64_t sinkhornIterations = 1;
  bool renormalize = true;
  /// A positive null-expert bias (the zoo ignores one <= 0).
  std::optional<double> nullExpertBias;

  // Classification heads.
  int64_t numLabels = 2;
  std::optional<int64_t> padTokenId;

  std::optional<int64_t> bosTokenId;
  /// Every end-of-sequence id (`eos_token_id`, a number or a list: Llama 3
  /// lists several).
  std::vector<int64_t> eosTokenIds;
  /// `torch_dtype` / `dtype` as written ("bfloat16", ...), or empty.
  std::string torchDtype;

  /// ALiBi's slopes, one per head, as the zoo computes them.
  std::vector<float> alibiSlopes() const;
  /// Whether the router mixes the tokens of a call (sinkhorn), so that a
  /// decode step does not route as the prompt's forward does.
  bool routerMixesTokens() const;

  /// Parses and checks config.json text; `path` names it in errors.
  static llvm::Expected<ModelConfig> parse(llvm::StringRef path,
                                           llvm::StringRef text);
  /// Reads and parses the file at `path`.
  static llvm::Expected<ModelConfig> read(llvm::StringRef path);

  /// The config.json text HuggingFace would write for this model.
  std::string toJson() const;

  /// Checks sizes and their relations; `path` names the config in errors.
  llvm::Error verify(llvm::StringRef path) const;
};

/// The architectures moec reads, as `architectures[0]` names them.
llvm::StringRef supportedArchitectures();

} // namespace moec

#endif // MOEC_COMPILER_IMPORT_MODELCONFIG_H
