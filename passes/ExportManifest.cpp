//===- ExportManifest.cpp - the shapes the code was compiled for ---------===//

#include "dialects/moe/IR/MoeOps.h"
#include "passes/Passes.h"
#include "runtime/format/Manifest.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

namespace mlir::moe {
#define GEN_PASS_DEF_EXPORTMANIFEST
#include "passes/Passes.h.inc"
} // namespace mlir::moe

using namespace mlir;
using namespace mlir::moe;

namespace {

/// The manifest's name of a KV cache element type.
std::optional<moec::ManifestCacheType> cacheType(Type type) {
  if (type.isF32())
    return moec::kManifestCacheF32;
  if (type.isF16())
    return moec::kManifestCacheF16;
  if (type.isBF16())
    return moec::kManifestCacheBF16;
  return std::nullopt;
}

struct ExportManifestPass
    : public moe::impl::ExportManifestBase<ExportManifestPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto forward = module.lookupSymbol<func::FuncOp>("forward");
    // The cache is the argument the importer names so.
    std::optional<unsigned> cacheArgument;
    if (forward)
      for (unsigned i = 0; i < forward.getNumArguments(); ++i)
        if (auto name = forward.getArgAttrOfType<StringAttr>(i, "moe.name"))
          if (name.getValue() == "kv_cache")
            cacheArgument = i;
    if (!forward || !cacheArgument || forward.getNumResults() < 1) {
      module.emitError("moe-export-manifest: no @forward(..., kv_cache "
                       "{moe.name = \"kv_cache\"}, ...) -> (output, ...)");
      return signalPassFailure();
    }
    auto cache = dyn_cast<RankedTensorType>(
        forward.getArgumentTypes()[*cacheArgument]);
    auto output = dyn_cast<RankedTensorType>(forward.getResultTypes()[0]);
    std::optional<moec::ManifestCacheType> dtype =
        cache ? cacheType(cache.getElementType()) : std::nullopt;
    SmallVector<EmbeddingOp> embeddings;
    forward.walk([&](EmbeddingOp op) { embeddings.push_back(op); });
    if (!cache || cache.getRank() != 5 || !output || !dtype ||
        embeddings.size() != 1 || cache.isDynamicDim(0) ||
        cache.isDynamicDim(3) || cache.isDynamicDim(4) ||
        output.isDynamicDim(output.getRank() - 1)) {
      forward.emitError("moe-export-manifest: expected one moe.embedding, a "
                        "KV cache [layers, 2, ?, kv_heads, head_dim] of f32, "
                        "f16 or bf16 and an output of static width");
      return signalPassFailure();
    }
    auto table = cast<RankedTensorType>(embeddings[0].getTable().getType());

    int64_t entries[moec::kManifestEntries];
    entries[moec::kManifestLayout] = moec::kManifestVersion;
    entries[moec::kManifestEmbeddingRows] = table.getDimSize(0);
    entries[moec::kManifestOutputRank] = output.getRank();
    entries[moec::kManifestOutputWidth] =
        output.getDimSize(output.getRank() - 1);
    entries[moec::kManifestLayers] = cache.getDimSize(0);
    entries[moec::kManifestKvHeads] = cache.getDimSize(3);
    entries[moec::kManifestHeadDim] = cache.getDimSize(4);
    entries[moec::kManifestKvCacheDType] = int64_t(*dtype);

    OpBuilder b(module.getBodyRegion());
    b.setInsertionPointToStart(module.getBody());
    auto i64 = b.getI64Type();
    auto type = MemRefType::get({moec::kManifestEntries}, i64);
    memref::GlobalOp::create(
        b, module.getLoc(), moec::kManifestSymbol, b.getStringAttr("public"),
        type,
        DenseElementsAttr::get(RankedTensorType::get(type.getShape(), i64),
                               ArrayRef<int64_t>(entries)),
        /*constant=*/true, /*alignment=*/IntegerAttr());
  }
};

} // namespace
