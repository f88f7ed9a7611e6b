//===- CheckpointLayout.h - tensor names of HF checkpoints ------*- C++ -*-===//
//
// The names and shapes of the tensors a HuggingFace checkpoint of a given
// config holds. The importer looks tensors up through it and the checkpoint
// synthesiser writes them through it, so the two cannot drift apart.
//
//===----------------------------------------------------------------------===//

#ifndef MOEC_COMPILER_IMPORT_CHECKPOINTLAYOUT_H
#define MOEC_COMPILER_IMPORT_CHECKPOINTLAYOUT_H

#include "compiler/import/ModelConfig.h"

#include <string>
#include <vector>

namespace moec {

/// The three projections of a gated MLP.
enum class Proj { Gate, Up, Down };

/// The attention projections.
enum class AttnProj { Q, K, V, O };

/// What a tensor is in the model, for writers that shape its values.
enum class TensorRole {
  Other,
  Embedding,
  InputNorm,
  /// post_attention_layernorm: the MLP's input norm.
  MlpNorm,
  FinalNorm,
  /// q, k and v: read the normalised stream.
  AttentionIn,
  /// o_proj: writes the residual stream.
  AttentionOut,
  Router,
  Gate,
  Up,
  Down,
  SharedGate,
  SharedUp,
  SharedDown,
  /// Fused storage: [E, 2I, H] (each expert's gate rows, then its up rows)
  /// and [E, H, I].
  FusedGateUp,
  FusedDown,
  PredictorFc1,
  PredictorFc2,
  /// lm_head or score.
  Head,
};

struct TensorSpec {
  std::string name;
  std::vector<int64_t> shape;
  TensorRole role = TensorRole::Other;
  /// The decoder layer and expert the tensor belongs to; -1 where none.
  int64_t layer = -1, expert = -1;
};

/// How a MoE checkpoint stores its experts.
enum class ExpertStorage {
  /// `block_sparse_moe.experts.E.{w1,w3,w2}.weight`, one tensor each.
  PerExpert,
  /// `mlp.experts.gate_up_proj` [E, 2I, H] and `mlp.experts.down_proj`
  /// [E, H, I], as newer transformers versions hold them.
  Fused,
};

class CheckpointLayout {
public:
  CheckpointLayout(const ModelConfig &config, ExpertStorage storage)
      : config(&config), storage(storage) {}

  TensorSpec embedTokens() const;
  TensorSpec inputNorm(int64_t layer) const;
  TensorSpec postAttentionNorm(int64_t layer) const;
  TensorSpec attention(int64_t layer, AttnProj proj) const;
  /// The bias of a linear or a norm `weight` names: `....bias`, [out].
  TensorSpec bias(const TensorSpec &weight) const;
  TensorSpec finalNorm() const;
  TensorSpec lmHead() const;
  TensorSpec score() const;
  TensorSpec scoreBias() const;

  /// The router's gate [experts, hidden] (MoE layouts).
  TensorSpec routerGate(int64_t layer) const;
  /// One projection of a routed expert stored per expert, or of the dense
  /// MLP (`expert` ignored) in dense layouts.
  TensorSpec expert(int64_t layer, int64_t expert, Proj proj) const;
  /// Fused storage: gate and up of all experts [E, 2I, H], and down.
  TensorSpec fusedGateUp(int64_t layer) const;
  TensorSpec fusedDown(int64_t layer) const;
  /// One projection of a shared expert:
  /// `block_sparse_moe.shared_experts.S.{w1,w3,w2}.weight`.
  TensorSpec sharedExpert(int64_t layer, int64_t expert, Proj proj) const;
  /// Predictor `fc1` [rank, hidden] or `fc2` [inter, rank] of a dReLU MLP:
  /// per expert in MoE layouts, per layer in dense ones.
  TensorSpec predictor(int64_t layer, int64_t expert, int fc,
                       int64_t rank) const;

  /// Every tensor a checkpoint of this config holds, in model order;
  /// `predictorRank` > 0 adds dReLU predictors.
  std::vector<TensorSpec> allTensors(int64_t predictorRank = 0) const;

  ExpertStorage expertStorage() const { return storage; }

private:
  std::string layerPrefix(int64_t layer) const;
  /// "block_sparse_moe" or, with fused storage, "mlp".
  const char *moePrefix() const;

  const ModelConfig *config;
  ExpertStorage storage;
};

} // namespace moec

#endif // MOEC_COMPILER_IMPORT_CHECKPOINTLAYOUT_H
