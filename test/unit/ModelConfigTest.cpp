//===- ModelConfigTest.cpp - config.json parsing ------------------------===//

#include "compiler/import/ModelConfig.h"

#include <gtest/gtest.h>

using moec::Head;
using moec::Layout;
using moec::ModelConfig;
namespace moe = mlir::moe;

namespace {

ModelConfig parseOk(llvm::StringRef text) {
  llvm::Expected<ModelConfig> config = ModelConfig::parse("config.json", text);
  if (!config) {
    ADD_FAILURE() << llvm::toString(config.takeError());
    return {};
  }
  return *config;
}

std::string parseError(llvm::StringRef text) {
  llvm::Expected<ModelConfig> config = ModelConfig::parse("config.json", text);
  if (config)
    return "parsed";
  return llvm::toString(config.takeError());
}

TEST(ModelConfigTest, MixtralDefaultsAreHFs) {
  ModelConfig c = parseOk(R"({"architectures": ["MixtralForCausalLM"]})");
  EXPECT_EQ(c.layout, Layout::Moe);
  EXPECT_EQ(c.activation, moe::Activation::SwiGLU);
  EXPECT_EQ(c.vocabSize, 32000);
  EXPECT_EQ(c.hiddenSize, 4096);
  EXPECT_EQ(c.intermediateSize, 14336);
  EXPECT_EQ(c.numLayers, 32);
  EXPECT_EQ(c.numHeads, 32);
  EXPECT_EQ(c.numKvHeads, 8);
  EXPECT_EQ(c.headDim, 128);
  EXPECT_EQ(c.numExperts, 8);
  EXPECT_EQ(c.topK, 2);
  EXPECT_DOUBLE_EQ(c.rmsNormEps, 1e-5);
  EXPECT_DOUBLE_EQ(c.ropeTheta, 1e6);
  EXPECT_FALSE(c.slidingWindow.has_value());
  EXPECT_FALSE(c.tieWordEmbeddings);
}

TEST(ModelConfigTest, RopeThetaInRopeParameters) {
  ModelConfig c = parseOk(R"({"architectures": ["MistralForCausalLM"],
      "rope_parameters": {"rope_type": "default", "rope_theta": 10000.0}})");
  EXPECT_DOUBLE_EQ(c.ropeTheta, 1e4);
  EXPECT_EQ(parseError(R"({"architectures": ["MistralForCausalLM"],
      "rope_scaling": {"type": "yarn", "factor": 4}})"),
            "config.json: unsupported rope type 'yarn' (default, linear and "
            "llama3 are supported)");
}

TEST(ModelConfigTest, LlamaIsTheDenseDecoder) {
  ModelConfig c = parseOk(R"({"architectures": ["LlamaForCausalLM"],
      "hidden_size": 2048, "num_attention_heads": 32, "head_dim": 64,
      "attention_bias": false, "mlp_bias": false,
      "tie_word_embeddings": true})");
  EXPECT_EQ(c.layout, Layout::Dense);
  EXPECT_EQ(c.modelType, "llama");
  EXPECT_EQ(c.headDim, 64);
  EXPECT_TRUE(c.tieWordEmbeddings);
  EXPECT_FALSE(c.slidingWindow.has_value());
  // The model type alone names it too.
  EXPECT_EQ(parseOk(R"({"model_type": "llama"})").architecture,
            "LlamaForCausalLM");
  EXPECT_FALSE(c.attentionBias);
  ModelConfig biased = parseOk(R"({"architectures": ["LlamaForCausalLM"],
      "attention_bias": true, "mlp_bias": true})");
  EXPECT_TRUE(biased.attentionBias && biased.attentionOutputBias);
  EXPECT_TRUE(biased.mlpBias);
  EXPECT_FALSE(c.mlpBias);
}

TEST(ModelConfigTest, ScaledRope) {
  // Llama 3.1's: frequencies whose wavelength passes 8192 / 1 are divided
  // by 8, those under 8192 / 4 kept, the band between interpolated.
  ModelConfig c = parseOk(R"({"architectures": ["LlamaForCausalLM"],
      "hidden_size": 4096, "num_attention_heads": 32, "rope_theta": 500000,
      "rope_scaling": {"rope_type": "llama3", "factor": 8.0,
        "low_freq_factor": 1.0, "high_freq_factor": 4.0,
        "original_max_position_embeddings": 8192}})");
  ASSERT_TRUE(c.ropeScaling.has_value());
  std::vector<float> inv = c.ropeInverseFrequencies();
  ASSERT_EQ(inv.size(), 64u);
  EXPECT_FLOAT_EQ(inv[0], 1.0f);
  float plain = 1.0f / std::pow(500000.0f, 63.0f / 64.0f * 2.0f / 2.0f);
  EXPECT_NEAR(inv[63], plain / 8, plain * 1e-5);
  // Linear: all of them.
  ModelConfig linear = parseOk(R"({"architectures": ["LlamaForCausalLM"],
      "hidden_size": 64, "num_attention_heads": 4, "num_key_value_heads": 2,
      "rope_theta": 10000,
      "rope_scaling": {"type": "linear", "factor": 4.0}})");
  EXPECT_FLOAT_EQ(linear.ropeInverseFrequencies()[0], 0.25f);
  EXPECT_EQ(parseError(R"({"architectures": ["LlamaForCausalLM"],
      "rope_scaling": {"rope_type": "llama3", "factor": 8.0,
        "low_freq_factor": 4.0, "high_freq_factor": 1.0}})"),
            "config.json: llama3 rope_scaling needs 0 < low_freq_factor < "
            "high_freq_factor and a positive original_max_position_embeddings");
  EXPECT_EQ(parseError(R"({"architectures": ["LlamaForCausalLM"],
      "rope_scaling": {"rope_type": "linear", "factor": 0}})"),
            "config.json: rope_scaling factor must be positive");
}

TEST(ModelConfigTest, NullKvHeadsMeansMultiHead) {
  ModelConfig c = parseOk(R"({"architectures": ["MistralForCausalLM"],
      "num_attention_heads": 16, "num_key_value_heads": null})");
  EXPECT_EQ(c.numKvHeads, 16);
}

TEST(ModelConfigTest, DenseLayoutsAreOneExpertTopOne) {
  ModelConfig c = parseOk(R"({"architectures": ["BambooForCausalLM"],
      "hidden_act": "relu", "num_local_experts": 8})");
  EXPECT_EQ(c.layout, Layout::Dense);
  EXPECT_EQ(c.activation, moe::Activation::DReLU);
  EXPECT_EQ(c.numExperts, 1);
  EXPECT_EQ(c.topK, 1);
}

TEST(ModelConfigTest, CerebrasFields) {
  ModelConfig c = parseOk(R"({"architectures": ["MixtralForCausalLM"],
      "num_experts": 4, "top_k": 1, "num_shared_experts": 1,
      "router_selection_nonlinearity": "sigmoid", "null_expert_bias": 1.1})");
  EXPECT_EQ(c.numExperts, 4);
  EXPECT_EQ(c.topK, 1);
  EXPECT_EQ(c.numSharedExperts, 1);
  EXPECT_EQ(c.nonlinearity, moe::RouterNonlinearity::Sigmoid);
  EXPECT_DOUBLE_EQ(*c.nullExpertBias, 1.1);
  EXPECT_EQ(parseError(R"({"architectures": ["MixtralForCausalLM"],
      "num_experts": 4, "num_local_experts": 8})"),
            "config.json: num_experts and num_local_experts disagree");
}

TEST(ModelConfigTest, CerebrasNestedMoeOptions) {
  // The zoo's YAML nests them under "moe"; its defaults: softmax weighting,
  // normalisation on, one sinkhorn round, a bias <= 0 ignored.
  ModelConfig c = parseOk(R"({"architectures": ["MixtralForCausalLM"],
      "moe": {"num_experts": 4, "top_k": 2, "null_expert_bias": 0.0,
              "router_selection_nonlinearity": "sinkhorn"}})");
  EXPECT_EQ(c.numExperts, 4);
  EXPECT_EQ(c.topK, 2);
  EXPECT_EQ(c.nonlinearity, moe::RouterNonlinearity::Sinkhorn);
  EXPECT_EQ(c.weighting, moe::RouterNonlinearity::Softmax);
  EXPECT_EQ(c.sinkhornIterations, 1);
  EXPECT_TRUE(c.renormalize);
  EXPECT_FALSE(c.nullExpertBias);
  EXPECT_TRUE(c.routerMixesTokens());

  ModelConfig w = parseOk(R"({"architectures": ["MixtralForCausalLM"],
      "expert_weighting_nonlinearity": "sigmoid", "sinkhorn_n_iters": 3,
      "expert_weighting_normalization": false, "routing_algorithm": "uniform"})");
  EXPECT_EQ(w.routing, moe::RoutingAlgorithm::Uniform);
  // Fixed routing reads no scores: both nonlinearities are moot.
  EXPECT_EQ(w.weighting, moe::RouterNonlinearity::Softmax);
  EXPECT_FALSE(w.renormalize);
  EXPECT_FALSE(w.routerMixesTokens());

  EXPECT_EQ(parseError(R"({"architectures": ["MixtralForCausalLM"],
      "top_k": 2, "moe": {"top_k": 1}})"),
            "config.json: 'top_k' is given both in 'moe' and at the top level");
  EXPECT_EQ(parseError(R"({"architectures": ["MixtralForCausalLM"],
      "router_selection_nonlinearity": "sinkhorn", "sinkhorn_n_iters": 0})"),
            "config.json: sinkhorn_n_iters must be in [1, 64], got 0");
  EXPECT_EQ(parseError(R"({"architectures": ["MixtralForCausalLM"],
      "expert_weighting_nonlinearity": "tanh"})"),
            "config.json: unknown expert_weighting_nonlinearity 'tanh' "
            "(expected softmax, sigmoid or sinkhorn)");
  EXPECT_EQ(parseError(R"({"architectures": ["MixtralForCausalLM"],
      "null_expert_bias": 1.1, "expert_weighting_normalization": false})"),
            "config.json: null_expert_bias needs expert_weighting_normalization "
            "(norm_topk_prob)");
  EXPECT_EQ(parseError(R"({"architectures": ["MixtralForCausalLM"],
      "routing_algorithm": "hash", "top_k": 2})"),
            "config.json: hash routing needs top_k 1, got 2");
}

TEST(ModelConfigTest, CerebrasBlockUnderZooNames) {
  // params_moe_111M_base.yaml's model keys.
  ModelConfig c = parseOk(R"({"architectures": ["CerebrasMoeForCausalLM"],
      "vocab_size": 50257, "hidden_size": 768, "num_hidden_layers": 10,
      "num_heads": 12, "filter_size": 2048, "max_position_embeddings": 2048,
      "nonlinearity": "swiglu", "layer_norm_epsilon": 1e-5,
      "position_embedding_type": "alibi", "embeddings_scale": 9.1706,
      "output_logits_scale": 0.3651, "scale_qk_dot_by_d": true,
      "share_embedding_weights": true, "use_bias_in_output": false,
      "use_ffn_bias": true, "use_ffn_bias_in_attention": true,
      "use_projection_bias_in_attention": true,
      "moe": {"num_experts": 4, "top_k": 1, "null_expert_bias": 1.1,
              "router_fp32": true, "routing_algorithm": "learned"}})");
  EXPECT_TRUE(c.zooBlock);
  EXPECT_EQ(c.norm, moec::Norm::LayerNorm);
  EXPECT_TRUE(c.alibi);
  EXPECT_EQ(c.numHeads, 12);
  EXPECT_EQ(c.numKvHeads, 12);
  EXPECT_EQ(c.headDim, 64);
  EXPECT_EQ(c.intermediateSize, 2048);
  EXPECT_EQ(c.activation, moe::Activation::SwiGLU);
  EXPECT_TRUE(c.tieWordEmbeddings);
  EXPECT_TRUE(c.attentionBias && c.attentionOutputBias && c.mlpBias);
  EXPECT_TRUE(c.scaleQkByHeadDim);
  EXPECT_DOUBLE_EQ(c.embeddingsScale, 9.1706);
  EXPECT_DOUBLE_EQ(c.outputLogitsScale, 0.3651);
  EXPECT_EQ(c.numExperts, 4);
  EXPECT_DOUBLE_EQ(*c.nullExpertBias, 1.1);
  // The zoo's slopes for 12 heads: 8 of 2^-1 .. 2^-8, then every other of
  // 16's.
  std::vector<float> slopes = c.alibiSlopes();
  ASSERT_EQ(slopes.size(), 12u);
  EXPECT_FLOAT_EQ(slopes[0], 0.5f);
  EXPECT_FLOAT_EQ(slopes[7], 0.00390625f);
  EXPECT_NEAR(slopes[8], 0.70711f, 1e-5);
  EXPECT_NEAR(slopes[11], 0.088388f, 1e-6);

  // Written back under the zoo's names, and read again the same.
  ModelConfig again = parseOk(c.toJson());
  EXPECT_TRUE(again.zooBlock && again.alibi && again.mlpBias);
  EXPECT_EQ(again.numHeads, 12);
  EXPECT_DOUBLE_EQ(again.outputLogitsScale, 0.3651);
  EXPECT_NE(c.toJson().find("\"filter_size\": 2048"), std::string::npos);

  EXPECT_EQ(parseError(R"({"architectures": ["CerebrasMoeForCausalLM"],
      "num_heads": 4, "rope_theta": 10000.0})"),
            "config.json: 'rope_theta' given, but position_embedding_type is "
            "alibi");
  EXPECT_EQ(parseError(R"({"architectures": ["CerebrasMoeForCausalLM"],
      "num_heads": 4, "num_attention_heads": 4})"),
            "config.json: 'num_heads' and 'num_attention_heads' both given");
  EXPECT_EQ(parseError(R"({"architectures": ["CerebrasMoeForCausalLM"],
      "norm_type": "batchnorm"})"),
            "config.json: unsupported norm_type 'batchnorm' (layernorm or "
            "rmsnorm)");
}

TEST(ModelConfigTest, SpecialIdsInTheVocabulary) {
  // Llama 3 lists several end-of-sequence ids: every one is kept.
  ModelConfig c = parseOk(R"({"architectures": ["LlamaForCausalLM"],
      "vocab_size": 1000, "bos_token_id": 998,
      "eos_token_id": [999, 997, 5]})");
  EXPECT_EQ(c.eosTokenIds, (std::vector<int64_t>{999, 997, 5}));
  EXPECT_EQ(parseError(R"({"architectures": ["LlamaForCausalLM"],
      "vocab_size": 1000, "eos_token_id": 1000})"),
            "config.json: eos_token_id 1000 is outside the vocabulary (1000 "
            "ids)");
  EXPECT_EQ(parseError(R"({"architectures": ["LlamaForCausalLM"],
      "vocab_size": 1000, "eos_token_id": [2, -7]})"),
            "config.json: eos_token_id -7 is outside the vocabulary (1000 ids)");
  EXPECT_EQ(parseError(R"({"architectures": ["LlamaForCausalLM"],
      "vocab_size": 1000, "bos_token_id": 4096})"),
            "config.json: bos_token_id 4096 is outside the vocabulary (1000 "
            "ids)");
  EXPECT_EQ(parseError(R"({"architectures": ["LlamaForCausalLM"],
      "eos_token_id": ["</s>"]})"),
            "config.json: 'eos_token_id' must be an id or a list of ids");
}

TEST(ModelConfigTest, LabelsFromId2Label) {
  ModelConfig c = parseOk(R"({"architectures": ["MistralForSequenceClassification"],
      "id2label": {"0": "neg", "1": "neu", "2": "pos"}, "pad_token_id": 0})");
  EXPECT_EQ(c.head, Head::SequenceClassification);
  EXPECT_EQ(c.numLabels, 3);
  EXPECT_EQ(c.padTokenId, 0);
}

TEST(ModelConfigTest, TypeErrorsNameTheField) {
  EXPECT_EQ(parseError(R"({"architectures": ["MixtralForCausalLM"],
      "hidden_size": "4096"})"),
            "config.json: 'hidden_size' must be an integer");
  EXPECT_EQ(parseError(R"({"architectures": ["MixtralForCausalLM"],
      "rms_norm_eps": true})"),
            "config.json: 'rms_norm_eps' must be a number");
  EXPECT_EQ(parseError(R"({"architectures": "MixtralForCausalLM"})"),
            "config.json: 'architectures' must be a list of names");
  EXPECT_EQ(parseError("[1, 2]"), "config.json: expected a JSON object");
}

TEST(ModelConfigTest, ToJsonRoundTrips) {
  ModelConfig c = parseOk(R"({"architectures": ["TurboSparseMixtralForCausalLM"],
      "hidden_act": "relu", "vocab_size": 57024, "sliding_window": 4096,
      "num_shared_experts": 2, "routing_algorithm": "hash", "top_k": 1,
      "tie_word_embeddings": true, "eos_token_id": [57000, 2]})");
  ModelConfig again = parseOk(c.toJson());
  EXPECT_EQ(again.architecture, "TurboSparseMixtralForCausalLM");
  EXPECT_EQ(again.activation, moe::Activation::DReLU);
  EXPECT_EQ(again.vocabSize, 57024);
  EXPECT_EQ(again.slidingWindow, 4096);
  EXPECT_EQ(again.numSharedExperts, 2);
  EXPECT_EQ(again.routing, moe::RoutingAlgorithm::Hash);
  EXPECT_EQ(again.topK, 1);
  EXPECT_TRUE(again.tieWordEmbeddings);
  EXPECT_EQ(again.eosTokenIds, (std::vector<int64_t>{57000, 2}));
}

} // namespace

#include "compiler/import/ModelConfigAttr.h"
#include "mlir/IR/MLIRContext.h"

namespace {

TEST(ModelConfigTest, ModuleAttributeRoundTrips) {
  mlir::MLIRContext context;
  ModelConfig c = parseOk(R"({"architectures": ["TurboSparseMixtralForTokenClassification"],
      "hidden_act": "relu", "num_shared_experts": 1, "null_expert_bias": 0.5,
      "router_selection_nonlinearity": "sinkhorn", "id2label": {"0": "a", "1": "b"},
      "expert_weighting_nonlinearity": "sigmoid", "sinkhorn_n_iters": 2,
      "rms_norm_eps": 1e-6, "sliding_window": 128})");
  mlir::DictionaryAttr attr = moec::configToAttr(c, &context);
  EXPECT_EQ(attr.getAs<mlir::IntegerAttr>("num_shared_experts").getInt(), 1);
  llvm::Expected<ModelConfig> back = moec::configFromAttr(attr, "moe.config");
  ASSERT_TRUE(bool(back)) << llvm::toString(back.takeError());
  EXPECT_EQ(back->head, Head::TokenClassification);
  EXPECT_EQ(back->activation, moe::Activation::DReLU);
  EXPECT_EQ(back->numLabels, 2);
  EXPECT_EQ(back->nonlinearity, moe::RouterNonlinearity::Sinkhorn);
  EXPECT_EQ(back->weighting, moe::RouterNonlinearity::Sigmoid);
  EXPECT_EQ(back->sinkhornIterations, 2);
  EXPECT_DOUBLE_EQ(*back->nullExpertBias, 0.5);
  EXPECT_DOUBLE_EQ(back->rmsNormEps, 1e-6);
  EXPECT_EQ(back->slidingWindow, 128);
  EXPECT_EQ(back->toJson(), c.toJson());
}

} // namespace
