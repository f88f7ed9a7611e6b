//===- CheckpointLayout.cpp - tensor names of HF checkpoints ------------===//

#include "compiler/import/CheckpointLayout.h"

using namespace moec;

std::string CheckpointLayout::layerPrefix(int64_t layer) const {
  return "model.layers." + std::to_string(layer) + ".";
}

const char *CheckpointLayout::moePrefix() const {
  return storage == ExpertStorage::Fused ? "mlp" : "block_sparse_moe";
}

TensorSpec CheckpointLayout::embedTokens() const {
  return {"model.embed_tokens.weight",
          {config->vocabSize, config->hiddenSize},
          TensorRole::Embedding};
}

TensorSpec CheckpointLayout::inputNorm(int64_t layer) const {
  return {layerPrefix(layer) + "input_layernorm.weight",
          {config->hiddenSize},
          TensorRole::InputNorm,
          layer};
}

TensorSpec CheckpointLayout::postAttentionNorm(int64_t layer) const {
  return {layerPrefix(layer) + "post_attention_layernorm.weight",
          {config->hiddenSize},
          TensorRole::MlpNorm,
          layer};
}

TensorSpec CheckpointLayout::attention(int64_t layer, AttnProj proj) const {
  int64_t q = config->numHeads * config->headDim;
  int64_t kv = config->numKvHeads * config->headDim;
  std::string prefix = layerPrefix(layer) + "self_attn.";
  TensorRole in = TensorRole::AttentionIn;
  switch (proj) {
  case AttnProj::Q:
    return {prefix + "q_proj.weight", {q, config->hiddenSize}, in, layer};
  case AttnProj::K:
    return {prefix + "k_proj.weight", {kv, config->hiddenSize}, in, layer};
  case AttnProj::V:
    return {prefix + "v_proj.weight", {kv, config->hiddenSize}, in, layer};
  case AttnProj::O:
    return {prefix + "o_proj.weight",
            {config->hiddenSize, q},
            TensorRole::AttentionOut,
            layer};
  }
  llvm_unreachable("unknown attention projection");
}

TensorSpec CheckpointLayout::bias(const TensorSpec &weight) const {
  std::string name = weight.name.substr(0, weight.name.size() - 6) + "bias";
  return {name, {weight.shape[0]}, TensorRole::Other, weight.layer,
          weight.expert};
}

TensorSpec CheckpointLayout::finalNorm() const {
  return {"model.norm.weight", {config->hiddenSize}, TensorRole::FinalNorm};
}

TensorSpec CheckpointLayout::lmHead() const {
  return {"lm_head.weight",
          {config->vocabSize, config->hiddenSize},
          TensorRole::Head};
}

TensorSpec CheckpointLayout::score() const {
  return {"score.weight",
          {config->numLabels, config->hiddenSize},
          TensorRole::Head};
}

TensorSpec CheckpointLayout::scoreBias() const {
  return {"score.bias", {config->numLabels}};
}

TensorSpec CheckpointLayout::routerGate(int64_t layer) const {
  return {layerPrefix(layer) + moePrefix() + ".gate.weight",
          {config->numExperts, config->hiddenSize},
          TensorRole::Router,
          layer};
}

/// Shape of one projection of an MLP with `inter` neurons.
static std::vector<int64_t> projShape(Proj proj, int64_t inter,
                                      int64_t hidden) {
  if (proj == Proj::Down)
    return {hidden, inter};
  return {inter, hidden};
}

TensorSpec CheckpointLayout::expert(int64_t layer, int64_t expert,
                                    Proj proj) const {
  std::vector<int64_t> shape =
      projShape(proj, config->intermediateSize, config->hiddenSize);
  static const TensorRole roles[] = {TensorRole::Gate, TensorRole::Up,
                                     TensorRole::Down};
  if (config->layout == Layout::Dense) {
    static const char *names[] = {"gate_proj", "up_proj", "down_proj"};
    return {layerPrefix(layer) + "mlp." + names[int(proj)] + ".weight", shape,
            roles[int(proj)], layer, 0};
  }
  static const char *names[] = {"w1", "w3", "w2"};
  return {layerPrefix(layer) + "block_sparse_moe.experts." +
              std::to_string(expert) + "." + names[int(proj)] + ".weight",
          shape, roles[int(proj)], layer, expert};
}

TensorSpec CheckpointLayout::fusedGateUp(int64_t layer) const {
  return {
      layerPrefix(layer) + "mlp.experts.gate_up_proj",
      {config->numExperts, 2 * config->intermediateSize, config->hiddenSize},
      TensorRole::FusedGateUp,
      layer};
}

TensorSpec CheckpointLayout::fusedDown(int64_t layer) const {
  return {layerPrefix(layer) + "mlp.experts.down_proj",
          {config->numExperts, config->hiddenSize, config->intermediateSize},
          TensorRole::FusedDown,
          layer};
}

TensorSpec CheckpointLayout::sharedExpert(int64_t layer, int64_t expert,
                                          Proj proj) const {
  static const char *names[] = {"w1", "w3", "w2"};
  static const TensorRole roles[] = {
      TensorRole::SharedGate, TensorRole::SharedUp, TensorRole::SharedDown};
  return {layerPrefix(layer) + moePrefix() + ".shared_experts." +
              std::to_string(expert) + "." + names[int(proj)] + ".weight",
          projShape(proj, config->intermediateSize, config->hiddenSize),
          roles[int(proj)], layer, expert};
}

TensorSpec CheckpointLayout::predictor(int64_t layer, int64_t expert, int fc,
                                       int64_t rank) const {
  std::string prefix =
      config->layout == Layout::Dense
          ? layerPrefix(layer) + "mlp.predictor."
          : layerPrefix(layer) + moePrefix() + ".experts." +
                std::to_string(expert) + ".predictor.";
  int64_t e = config->layout == Layout::Dense ? 0 : expert;
  if (fc == 1)
    return {prefix + "fc1.weight",
            {rank, config->hiddenSize},
            TensorRole::PredictorFc1,
            layer,
            e};
  return {prefix + "fc2.weight",
          {config->intermediateSize, rank},
          TensorRole::PredictorFc2,
          layer,
          e};
}

std::vector<TensorSpec>
CheckpointLayout::allTensors(int64_t predictorRank) const {
  std::vector<TensorSpec> out;
  out.push_back(embedTokens());
  bool predictors =
      predictorRank > 0 && config->activation == mlir::moe::Activation::DReLU;
  bool layerNorm = config->norm == Norm::LayerNorm;
  // A weight, and its bias where `biased`.
  auto add = [&](const TensorSpec &weight, bool biased) {
    out.push_back(weight);
    if (biased)
      out.push_back(bias(weight));
  };
  for (int64_t l = 0; l < config->numLayers; ++l) {
    add(inputNorm(l), layerNorm);
    for (AttnProj p : {AttnProj::Q, AttnProj::K, AttnProj::V, AttnProj::O})
      add(attention(l, p), p == AttnProj::O ? config->attentionOutputBias
                                            : config->attentionBias);
    add(postAttentionNorm(l), layerNorm);
    bool moe = config->layout == Layout::Moe;
    if (moe && config->routing == mlir::moe::RoutingAlgorithm::Learned)
      out.push_back(routerGate(l));
    if (moe && storage == ExpertStorage::Fused) {
      out.push_back(fusedGateUp(l));
      out.push_back(fusedDown(l));
    } else {
      for (int64_t e = 0; e < config->numExperts; ++e)
        for (Proj p : {Proj::Gate, Proj::Up, Proj::Down})
          add(expert(l, e, p), config->mlpBias);
    }
    for (int64_t s = 0; s < config->numSharedExperts; ++s)
      for (Proj p : {Proj::Gate, Proj::Up, Proj::Down})
        add(sharedExpert(l, s, p), config->mlpBias);
    if (predictors)
      for (int64_t e = 0; e < config->numExperts; ++e)
        for (int fc : {1, 2})
          out.push_back(predictor(l, e, fc, predictorRank));
  }
  add(finalNorm(), layerNorm);
  if (config->head == Head::CausalLM) {
    if (!config->tieWordEmbeddings)
      out.push_back(lmHead());
  } else {
    out.push_back(score());
    if (config->head == Head::TokenClassification)
      out.push_back(scoreBias());
  }
  return out;
}
