//===- Importer.cpp - HF checkpoints into the moe dialect ---------------===//

#include "compiler/import/Importer.h"
#include "compiler/import/Diagnostics.h"

#include "compiler/import/CheckpointLayout.h"
#include "compiler/import/ModelConfigAttr.h"
#include "dialects/moe/IR/MoeOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

using namespace mlir;
using namespace moec;
using llvm::Error;
using llvm::Expected;

namespace {

constexpr int64_t kDyn = ShapedType::kDynamic;



class ModuleImporter {
public:
  ModuleImporter(MLIRContext &context, Checkpoint &checkpoint,
                 const WarningHandler &warn, KvCacheType kvCacheType)
      : context(context), checkpoint(checkpoint), config(checkpoint.config()),
        warn(warn), kvCacheType(kvCacheType),
        b(UnknownLoc::get(&context), &context),
        layout(config, ExpertStorage::PerExpert) {}

  Expected<OwningOpRef<ModuleOp>> run();

private:
  /// The element type of a stored tensor; BF16, F16 and F32 only.
  Expected<Type> elementType(const TensorLocation &location);
  /// Looks up a tensor and checks its shape against the config.
  Expected<TensorLocation> find(const TensorSpec &spec);
  moe::WeightRefAttr ref(const TensorLocation &location, Type dtype,
                         uint64_t offset, llvm::ArrayRef<int64_t> shape);
  /// The reference to the whole tensor `spec` names, checked.
  Expected<moe::WeightRefAttr> ref(const TensorSpec &spec);
  /// A `moe.weight` of the given parts, stacked when there are several, or
  /// with a leading unit dimension when `stackOne` is set.
  Value weight(llvm::ArrayRef<Attribute> parts, bool stackOne = false);
  /// A `moe.weight` of one checkpoint tensor.
  Expected<Value> weight(const TensorSpec &spec, bool stackOne = false);
  /// A `moe.weight` stacking the tensors `specs` name.
  Expected<Value> stacked(llvm::ArrayRef<TensorSpec> specs);

  /// The block's norm of x (RMSNorm, or LayerNorm with its bias) by the
  /// weight `spec` names.
  Expected<Value> normalize(Value x, const TensorSpec &spec);
  /// x times a constant (x itself for 1).
  Value scaled(Value x, double factor);
  /// The biases of `specs`' linears, stacked [n, out] (null where the
  /// config has none).
  Expected<Value> stackedBiases(llvm::ArrayRef<TensorSpec> specs);

  /// Per-expert tensors when the checkpoint has them, else fused ones.
  void chooseExpertStorage();
  Expected<Value> attentionBlock(int64_t layer, Value hidden, Value positions,
                                 Value offsets, Value &layerCache);
  Expected<Value> mlpBlock(int64_t layer, Value hidden, Value tokens,
                           Value positions);
  /// Routed expert weights of a layer: gate, up, down, stacked.
  Error expertWeights(int64_t layer, Value &gate, Value &up, Value &down);
  /// The layer's predictor (fc1, fc2), or nulls when it has none or it is
  /// unusable (a warning then says why).
  std::pair<Value, Value> predictor(int64_t layer);

  MLIRContext &context;
  Checkpoint &checkpoint;
  const ModelConfig &config;
  const WarningHandler &warn;
  KvCacheType kvCacheType;
  ImplicitLocOpBuilder b;
  CheckpointLayout layout;
  Type f32;
};

Expected<Type> ModuleImporter::elementType(const TensorLocation &location) {
  switch (location.tensor->dtype) {
  case DType::BF16:
    return b.getBF16Type();
  case DType::F16:
    return b.getF16Type();
  case DType::F32:
    return b.getF32Type();
  default:
    return fileError(location.path,
                     "tensor '" + location.tensor->name + "' has dtype " +
                         dtypeName(location.tensor->dtype) +
                         "; moec reads BF16, F16 and F32");
  }
}

Expected<TensorLocation> ModuleImporter::find(const TensorSpec &spec) {
  std::optional<TensorLocation> location = checkpoint.lookup(spec.name);
  if (!location)
    return fileError(checkpoint.directory(),
                     "missing tensor '" + spec.name + "' (" +
                         config.architecture + ", shape " +
                         shapeString(spec.shape) + ")");
  if (location->tensor->shape != spec.shape)
    return fileError(location->path,
                     "tensor '" + spec.name + "' has shape " +
                         shapeString(location->tensor->shape) + ", but the " +
                         "config needs " + shapeString(spec.shape));
  return *location;
}

moe::WeightRefAttr ModuleImporter::ref(const TensorLocation &location,
                                       Type dtype, uint64_t offset,
                                       llvm::ArrayRef<int64_t> shape) {
  return moe::WeightRefAttr::get(&context, location.file,
                                 location.tensor->name, dtype, shape, offset);
}

Value ModuleImporter::weight(llvm::ArrayRef<Attribute> parts, bool stackOne) {
  auto first = cast<moe::WeightRefAttr>(parts.front());
  SmallVector<int64_t> shape(first.getShape());
  if (parts.size() > 1 || stackOne)
    shape.insert(shape.begin(), parts.size());
  auto type = RankedTensorType::get(shape, first.getDtype());
  return moe::WeightOp::create(b, type, b.getArrayAttr(parts),
                               /*transposed=*/nullptr, /*format=*/nullptr);
}

Expected<moe::WeightRefAttr> ModuleImporter::ref(const TensorSpec &spec) {
  Expected<TensorLocation> location = find(spec);
  if (!location)
    return location.takeError();
  Expected<Type> dtype = elementType(*location);
  if (!dtype)
    return dtype.takeError();
  return ref(*location, *dtype, location->tensor->offset, spec.shape);
}

Expected<Value> ModuleImporter::weight(const TensorSpec &spec, bool stackOne) {
  Expected<moe::WeightRefAttr> part = ref(spec);
  if (!part)
    return part.takeError();
  return weight({*part}, stackOne);
}

Expected<Value> ModuleImporter::stacked(llvm::ArrayRef<TensorSpec> specs) {
  SmallVector<Attribute> parts;
  for (const TensorSpec &spec : specs) {
    Expected<moe::WeightRefAttr> part = ref(spec);
    if (!part)
      return part.takeError();
    if (!parts.empty() &&
        part->getDtype() != cast<moe::WeightRefAttr>(parts[0]).getDtype())
      return fileError(checkpoint.directory(),
                       "tensor '" + spec.name + "' has a different dtype than '" +
                           specs.front().name + "'");
    parts.push_back(*part);
  }
  return weight(parts);
}

Expected<Value> ModuleImporter::normalize(Value x, const TensorSpec &spec) {
  auto w = weight(spec);
  if (!w)
    return w.takeError();
  FloatAttr eps = b.getF64FloatAttr(config.rmsNormEps);
  if (config.norm == Norm::RMSNorm)
    return moe::RmsNormOp::create(b, x, *w, eps).getResult();
  auto bias = weight(layout.bias(spec));
  if (!bias)
    return bias.takeError();
  return moe::LayerNormOp::create(b, x, *w, *bias, eps).getResult();
}

Value ModuleImporter::scaled(Value x, double factor) {
  if (factor == 1.0)
    return x;
  auto type = cast<RankedTensorType>(x.getType());
  SmallVector<Value> sizes;
  for (int64_t d = 0; d < type.getRank(); ++d)
    if (type.isDynamicDim(d))
      sizes.push_back(tensor::DimOp::create(b, x, d));
  Value c = arith::ConstantOp::create(b, b.getF32FloatAttr(float(factor)));
  return arith::MulFOp::create(b, x, tensor::SplatOp::create(b, c, type, sizes))
      .getResult();
}

Expected<Value> ModuleImporter::stackedBiases(llvm::ArrayRef<TensorSpec> specs) {
  if (!config.mlpBias)
    return Value();
  SmallVector<TensorSpec> biases;
  for (const TensorSpec &spec : specs)
    biases.push_back(layout.bias(spec));
  if (biases.size() == 1)
    return weight(biases.front(), /*stackOne=*/true);
  return stacked(biases);
}

void ModuleImporter::chooseExpertStorage() {
  if (config.layout != Layout::Moe)
    return;
  CheckpointLayout fused(config, ExpertStorage::Fused);
  if (!checkpoint.lookup(layout.expert(0, 0, Proj::Gate).name) &&
      checkpoint.lookup(fused.fusedGateUp(0).name))
    layout = fused;
}

Error ModuleImporter::expertWeights(int64_t layer, Value &gate, Value &up,
                                    Value &down) {
  if (layout.expertStorage() == ExpertStorage::Fused) {
    // Expert e's gate is rows [0, I) of gate_up_proj[e], its up rows [I, 2I).
    Expected<TensorLocation> gateUp = find(layout.fusedGateUp(layer));
    if (!gateUp)
      return gateUp.takeError();
    Expected<Type> dtype = elementType(*gateUp);
    if (!dtype)
      return dtype.takeError();
    int64_t inter = config.intermediateSize, hidden = config.hiddenSize;
    uint64_t rowBytes = hidden * dtypeBits(gateUp->tensor->dtype) / 8;
    SmallVector<Attribute> gates, ups;
    for (int64_t e = 0; e < config.numExperts; ++e) {
      uint64_t base = gateUp->tensor->offset + e * 2 * inter * rowBytes;
      gates.push_back(ref(*gateUp, *dtype, base, {inter, hidden}));
      ups.push_back(ref(*gateUp, *dtype, base + inter * rowBytes,
                        {inter, hidden}));
    }
    gate = weight(gates, /*stackOne=*/true);
    up = weight(ups, /*stackOne=*/true);
    Expected<Value> downWeight = stacked(layout.fusedDown(layer));
    if (!downWeight)
      return downWeight.takeError();
    down = *downWeight;
    return Error::success();
  }
  bool dense = config.layout == Layout::Dense;
  for (auto [proj, value] : {std::pair<Proj, Value *>{Proj::Gate, &gate},
                             {Proj::Up, &up},
                             {Proj::Down, &down}}) {
    SmallVector<TensorSpec> specs;
    for (int64_t e = 0; e < config.numExperts; ++e)
      specs.push_back(layout.expert(layer, e, proj));
    Expected<Value> w =
        dense ? weight(specs.front(), /*stackOne=*/true) : stacked(specs);
    if (!w)
      return w.takeError();
    *value = *w;
  }
  return Error::success();
}

std::pair<Value, Value> ModuleImporter::predictor(int64_t layer) {
  if (config.activation != moe::Activation::DReLU)
    return {};
  // The rank is read off the first fc1; every other tensor must agree.
  std::optional<TensorLocation> first =
      checkpoint.lookup(layout.predictor(layer, 0, 1, 0).name);
  if (!first)
    return {};
  int64_t rank = first->tensor->shape.empty() ? 0 : first->tensor->shape[0];
  SmallVector<Attribute> fc1, fc2;
  for (int64_t e = 0; e < config.numExperts; ++e) {
    for (int fc : {1, 2}) {
      TensorSpec spec = layout.predictor(layer, e, fc, rank);
      std::optional<TensorLocation> location = checkpoint.lookup(spec.name);
      Type dtype;
      if (location && location->tensor->shape == spec.shape) {
        Expected<Type> type = elementType(*location);
        if (type)
          dtype = *type;
        else
          llvm::consumeError(type.takeError());
      }
      if (!dtype || (!fc1.empty() &&
                     cast<moe::WeightRefAttr>(fc1.front()).getDtype() != dtype)) {
        warn(checkpoint.directory() + ": ignoring the predictor of layer " +
             std::to_string(layer) + ": tensor '" + spec.name + "' is " +
             (location ? "not " + shapeString(spec.shape) + " of a float dtype"
                       : std::string("missing")));
        return {};
      }
      (fc == 1 ? fc1 : fc2)
          .push_back(ref(*location, dtype, location->tensor->offset,
                         spec.shape));
    }
  }
  return {weight(fc1, /*stackOne=*/true), weight(fc2, /*stackOne=*/true)};
}

Expected<Value> ModuleImporter::attentionBlock(int64_t layer, Value hidden,
                                               Value positions, Value offsets,
                                               Value &layerCache) {
  Expected<Value> x = normalize(hidden, layout.inputNorm(layer));
  if (!x)
    return x.takeError();

  int64_t d = config.headDim;
  // A projection's bias, where the config has them.
  auto attentionBias = [&](AttnProj proj) -> Expected<Value> {
    if (!(proj == AttnProj::O ? config.attentionOutputBias
                              : config.attentionBias))
      return Value();
    return weight(layout.bias(layout.attention(layer, proj)));
  };
  auto project = [&](AttnProj proj, int64_t heads) -> Expected<Value> {
    auto w = weight(layout.attention(layer, proj));
    if (!w)
      return w.takeError();
    Expected<Value> bias = attentionBias(proj);
    if (!bias)
      return bias.takeError();
    auto flat = RankedTensorType::get({kDyn, heads * d}, f32);
    Value y = moe::LinearOp::create(b, flat, *x, *w, *bias);
    auto split = RankedTensorType::get({kDyn, heads, d}, f32);
    return tensor::ExpandShapeOp::create(b, split, y,
                                         {ReassociationIndices{0}, {1, 2}})
        .getResult();
  };
  Expected<Value> q = project(AttnProj::Q, config.numHeads);
  if (!q)
    return q.takeError();
  Expected<Value> k = project(AttnProj::K, config.numKvHeads);
  if (!k)
    return k.takeError();
  Expected<Value> v = project(AttnProj::V, config.numKvHeads);
  if (!v)
    return v.takeError();

  // A scaled RoPE carries its inverse frequencies.
  DenseF32ArrayAttr invFreq;
  if (config.ropeScaling)
    invFreq = b.getDenseF32ArrayAttr(config.ropeInverseFrequencies());
  auto rope = [&](Value t) -> Value {
    // ALiBi models rotate nothing: attention adds their position term.
    if (config.alibi)
      return t;
    return moe::RopeOp::create(b, t, positions,
                               b.getF64FloatAttr(config.ropeTheta),
                               b.getI64IntegerAttr(d),
                               moe::RopeLayoutAttr::get(
                                   &context, moe::RopeLayout::RotateHalf),
                               invFreq);
  };
  auto attention = moe::AttentionOp::create(
      b, rope(*q), rope(*k), *v, layerCache, positions, offsets,
      b.getI64IntegerAttr(config.numHeads),
      b.getI64IntegerAttr(config.numKvHeads), b.getI64IntegerAttr(d),
      b.getUnitAttr(),
      config.slidingWindow ? b.getI64IntegerAttr(*config.slidingWindow)
                           : IntegerAttr(),
      config.scaleQkByHeadDim ? b.getF64FloatAttr(1.0 / double(d))
                              : FloatAttr(),
      config.alibi ? b.getDenseF32ArrayAttr(config.alibiSlopes())
                   : DenseF32ArrayAttr());
  layerCache = attention.getKvCacheOut();

  Value merged = tensor::CollapseShapeOp::create(
      b, attention.getResult(), {ReassociationIndices{0}, {1, 2}});
  auto wo = weight(layout.attention(layer, AttnProj::O));
  if (!wo)
    return wo.takeError();
  Expected<Value> bo = attentionBias(AttnProj::O);
  if (!bo)
    return bo.takeError();
  Value out = moe::LinearOp::create(
      b, RankedTensorType::get({kDyn, config.hiddenSize}, f32), merged, *wo,
      *bo);
  return arith::AddFOp::create(b, hidden, out).getResult();
}

Expected<Value> ModuleImporter::mlpBlock(int64_t layer, Value hidden,
                                         Value tokens, Value positions) {
  Expected<Value> normed = normalize(hidden, layout.postAttentionNorm(layer));
  if (!normed)
    return normed.takeError();
  Value x = *normed;

  Value routingWeights, expertIds;
  if (config.layout == Layout::Moe) {
    bool hash = config.routing == moe::RoutingAlgorithm::Hash;
    bool uniform = config.routing == moe::RoutingAlgorithm::Uniform;
    bool learned = config.routing == moe::RoutingAlgorithm::Learned;
    Value gate;
    if (learned) {
      auto w = weight(layout.routerGate(layer));
      if (!w)
        return w.takeError();
      gate = *w;
    }
    // The logits as HF computes them; moe-fuse-router folds them back.
    Value scores = x;
    if (gate)
      scores = moe::LinearOp::create(
          b, RankedTensorType::get({kDyn, config.numExperts}, f32), x, gate,
          Value());
    auto nonlinearity = [&](moe::RouterNonlinearity f) {
      return moe::RouterNonlinearityAttr::get(&context, f);
    };
    auto router = moe::RouterOp::create(
        b,
        TypeRange{RankedTensorType::get({kDyn, config.topK}, f32),
                  RankedTensorType::get({kDyn, config.topK}, b.getI32Type())},
        scores, Value(), hash ? tokens : Value(),
        uniform ? positions : Value(), b.getI64IntegerAttr(config.numExperts),
        b.getI64IntegerAttr(config.topK),
        moe::RoutingAlgorithmAttr::get(&context, config.routing),
        nonlinearity(config.nonlinearity),
        learned && config.weighting != config.nonlinearity
            ? nonlinearity(config.weighting)
            : moe::RouterNonlinearityAttr(),
        config.routerMixesTokens()
            ? b.getI64IntegerAttr(config.sinkhornIterations)
            : IntegerAttr(),
        config.renormalize ? b.getUnitAttr() : UnitAttr(),
        config.nullExpertBias ? b.getF64FloatAttr(*config.nullExpertBias)
                              : FloatAttr());
    routingWeights = router.getWeights();
    expertIds = router.getExpertIds();
  }

  Value gate, up, down;
  if (Error error = expertWeights(layer, gate, up, down))
    return std::move(error);
  Value sharedGate, sharedUp, sharedDown;
  if (config.numSharedExperts > 0) {
    for (auto [proj, value] :
         {std::pair<Proj, Value *>{Proj::Gate, &sharedGate},
          {Proj::Up, &sharedUp},
          {Proj::Down, &sharedDown}}) {
      SmallVector<TensorSpec> specs;
      for (int64_t s = 0; s < config.numSharedExperts; ++s)
        specs.push_back(layout.sharedExpert(layer, s, proj));
      Expected<Value> w = specs.size() == 1 ? weight(specs[0], true)
                                            : stacked(specs);
      if (!w)
        return w.takeError();
      *value = *w;
    }
  }
  // Biases of every expert linear (use_ffn_bias, mlp_bias): [E, out].
  Value biases[2][3];
  if (config.mlpBias) {
    if (layout.expertStorage() == ExpertStorage::Fused)
      return fileError(checkpoint.directory(),
                       "biases on fused expert tensors are not supported");
    for (Proj proj : {Proj::Gate, Proj::Up, Proj::Down}) {
      // Routed (one for a dense MLP), then shared.
      SmallVector<TensorSpec> specs[2];
      int64_t routed = config.layout == Layout::Dense ? 1 : config.numExperts;
      for (int64_t e = 0; e < routed; ++e)
        specs[0].push_back(layout.expert(layer, e, proj));
      for (int64_t s = 0; s < config.numSharedExperts; ++s)
        specs[1].push_back(layout.sharedExpert(layer, s, proj));
      for (int i : {0, 1}) {
        if (specs[i].empty())
          continue;
        Expected<Value> bias = stackedBiases(specs[i]);
        if (!bias)
          return bias.takeError();
        biases[i][int(proj)] = *bias;
      }
    }
  }
  auto [fc1, fc2] = predictor(layer);

  Value ffn = moe::ExpertFfnOp::create(
      b, hidden.getType(), x, routingWeights, expertIds, gate, up, down,
      sharedGate, sharedUp, sharedDown, biases[0][0], biases[0][1],
      biases[0][2], biases[1][0], biases[1][1], biases[1][2], fc1, fc2,
      // A dense MLP's predictor (TurboSparse-Mistral's) reads the stream
      // before the MLP norm; an expert's, the expert's input.
      fc1 && config.layout == Layout::Dense ? hidden : Value(),
      moe::ActivationAttr::get(&context, config.activation));
  return arith::AddFOp::create(b, hidden, ffn).getResult();
}

Expected<OwningOpRef<ModuleOp>> ModuleImporter::run() {
  f32 = b.getF32Type();
  chooseExpertStorage();

  OwningOpRef<ModuleOp> module = ModuleOp::create(b.getLoc());
  llvm::SmallString<256> dir(checkpoint.directory());
  llvm::sys::fs::make_absolute(dir);
  llvm::sys::path::remove_dots(dir, /*remove_dot_dot=*/true);
  (*module)->setAttr(moe::kCheckpointAttrName, b.getStringAttr(dir));
  (*module)->setAttr(kConfigAttrName, configToAttr(config, &context));

  // Signature: tokens, positions, each token's cache offset (the cache row
  // of its sequence's position 0: the tokens of one call may come from
  // several sequences, each with its own rows), the KV cache of all layers,
  // [layers, 2 (K, V), rows, kv_heads, head_dim] (one buffer, so that the
  // entry point has the same arguments whatever the depth), and how many of
  // the last tokens get an output row: a prompt's chunk needs the last
  // token's logits only, and the LM head is the largest product of a small
  // model.
  Type ids = RankedTensorType::get({kDyn}, b.getI32Type());
  auto cacheType = RankedTensorType::get(
      {config.numLayers, 2, kDyn, config.numKvHeads, config.headDim},
      kvCacheElementType(context, kvCacheType));
  SmallVector<Type> inputs = {ids, ids, ids, cacheType, b.getIndexType()};
  SmallVector<Type> results;
  switch (config.head) {
  case Head::CausalLM:
    results.push_back(RankedTensorType::get({kDyn, config.vocabSize}, f32));
    break;
  case Head::SequenceClassification:
    results.push_back(RankedTensorType::get({config.numLabels}, f32));
    break;
  case Head::TokenClassification:
    results.push_back(
        RankedTensorType::get({kDyn, config.numLabels}, f32));
    break;
  }
  results.push_back(cacheType);

  b.setInsertionPointToEnd(module->getBody());
  auto func =
      func::FuncOp::create(b, "forward", b.getFunctionType(inputs, results));
  func.setArgAttr(kTokensArgument, "moe.name", b.getStringAttr("tokens"));
  func.setArgAttr(kPositionsArgument, "moe.name", b.getStringAttr("positions"));
  func.setArgAttr(kCacheOffsetsArgument, "moe.name",
                  b.getStringAttr("cache_offsets"));
  func.setArgAttr(kKvCacheArgument, "moe.name", b.getStringAttr("kv_cache"));
  func.setArgAttr(kOutputRowsArgument, "moe.name",
                  b.getStringAttr("output_rows"));
  b.setInsertionPointToStart(func.addEntryBlock());
  Value tokens = func.getArgument(kTokensArgument);
  Value positions = func.getArgument(kPositionsArgument);
  Value offsets = func.getArgument(kCacheOffsetsArgument);
  Value cache = func.getArgument(kKvCacheArgument);
  Value outputRows = func.getArgument(kOutputRowsArgument);
  // One layer's keys and values: cache[layer] as [2, max_seq, kv_heads,
  // head_dim], extracted and inserted once so that bufferization updates the
  // cache in place (two slices of one buffer, each written, would be copied).
  OpFoldResult maxSeq =
      tensor::DimOp::create(b, cache, 2).getResult();
  auto slice = [&](int64_t layer) -> SmallVector<OpFoldResult> {
    return {b.getIndexAttr(layer), b.getIndexAttr(0), b.getIndexAttr(0),
            b.getIndexAttr(0), b.getIndexAttr(0)};
  };
  SmallVector<OpFoldResult> sliceSizes = {
      b.getIndexAttr(1), b.getIndexAttr(2), maxSeq,
      b.getIndexAttr(config.numKvHeads), b.getIndexAttr(config.headDim)};
  SmallVector<OpFoldResult> unitStrides(5, b.getIndexAttr(1));
  auto layerCacheType = RankedTensorType::get(
      {2, kDyn, config.numKvHeads, config.headDim}, cacheType.getElementType());

  auto embed = weight(layout.embedTokens());
  if (!embed)
    return embed.takeError();
  Value hidden = scaled(
      moe::EmbeddingOp::create(
          b, RankedTensorType::get({kDyn, config.hiddenSize}, f32), *embed,
          tokens),
      config.embeddingsScale);

  for (int64_t l = 0; l < config.numLayers; ++l) {
    b.setLoc(NameLoc::get(
        b.getStringAttr(moe::kLayerLocationPrefix + std::to_string(l))));
    Value layerCache = tensor::ExtractSliceOp::create(
        b, layerCacheType, cache, slice(l), sliceSizes, unitStrides);
    Expected<Value> attended =
        attentionBlock(l, hidden, positions, offsets, layerCache);
    if (!attended)
      return attended.takeError();
    cache = tensor::InsertSliceOp::create(b, layerCache, cache, slice(l),
                                          sliceSizes, unitStrides);
    Expected<Value> mixed = mlpBlock(l, *attended, tokens, positions);
    if (!mixed)
      return mixed.takeError();
    hidden = *mixed;
  }
  b.setLoc(UnknownLoc::get(&context));

  Expected<Value> finalNormed = normalize(hidden, layout.finalNorm());
  if (!finalNormed)
    return finalNormed.takeError();
  Value y = *finalNormed;
  // The rows of the last output_rows tokens (all of them for a sequence
  // score, which picks its token itself).
  Value lastRows = y;
  if (config.head != Head::SequenceClassification) {
    Value count = tensor::DimOp::create(b, y, 0);
    Value first = arith::SubIOp::create(b, count, outputRows);
    lastRows = tensor::ExtractSliceOp::create(
        b, y, SmallVector<OpFoldResult>{first, b.getIndexAttr(0)},
        SmallVector<OpFoldResult>{outputRows,
                                  b.getIndexAttr(config.hiddenSize)},
        SmallVector<OpFoldResult>(2, b.getIndexAttr(1)));
  }
  Value out;
  if (config.head == Head::CausalLM) {
    Value head = *embed;
    if (!config.tieWordEmbeddings) {
      auto w = weight(layout.lmHead());
      if (!w)
        return w.takeError();
      head = *w;
    }
    out = scaled(moe::LmHeadOp::create(b, results[0], lastRows, head),
                 config.outputLogitsScale);
  } else {
    auto w = weight(layout.score());
    if (!w)
      return w.takeError();
    bool token = config.head == Head::TokenClassification;
    Value bias;
    if (token) {
      auto biasWeight = weight(layout.scoreBias());
      if (!biasWeight)
        return biasWeight.takeError();
      bias = *biasWeight;
    }
    bool pad = !token && config.padTokenId.has_value();
    out = moe::ScoreHeadOp::create(
        b, results[0], lastRows, *w, bias, pad ? tokens : Value(),
        moe::ScoreKindAttr::get(&context, token ? moe::ScoreKind::Token
                                                : moe::ScoreKind::Sequence),
        pad ? b.getI64IntegerAttr(*config.padTokenId) : IntegerAttr());
  }
  func::ReturnOp::create(b, ValueRange{out, cache});

  // The shape builders leave constants they did not need.
  func.walk([](arith::ConstantOp op) {
    if (op->use_empty())
      op->erase();
  });

  for (const TensorLocation &unused : checkpoint.unusedTensors())
    warn(unused.path.str() + ": unused tensor '" + unused.tensor->name + "'");
  for (const std::string &note : checkpoint.warnings())
    warn(note);

  if (failed(verify(*module)))
    return fileError(checkpoint.directory(),
                     "the imported module does not verify");
  return module;
}

} // namespace

Type moec::kvCacheElementType(MLIRContext &context, KvCacheType type) {
  switch (type) {
  case KvCacheType::F16:
    return Float16Type::get(&context);
  case KvCacheType::BF16:
    return BFloat16Type::get(&context);
  case KvCacheType::F32:
    break;
  }
  return Float32Type::get(&context);
}

Expected<OwningOpRef<ModuleOp>>
moec::importCheckpoint(MLIRContext &context, Checkpoint &checkpoint,
                       const WarningHandler &warn, KvCacheType kvCacheType) {
  context.loadDialect<moe::MoeDialect, func::FuncDialect, arith::ArithDialect,
                      tensor::TensorDialect>();
  return ModuleImporter(context, checkpoint, warn, kvCacheType).run();
}
