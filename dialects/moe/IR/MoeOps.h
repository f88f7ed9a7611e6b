//===- MoeOps.h - moe dialect ops -------------------------------*- C++ -*-===//

#ifndef MOEC_DIALECTS_MOE_IR_MOEOPS_H
#define MOEC_DIALECTS_MOE_IR_MOEOPS_H

#include "dialects/moe/IR/MoeAttrs.h"
#include "dialects/moe/IR/MoeDialect.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include <optional>

#define GET_OP_CLASSES
#include "dialects/moe/IR/MoeOps.h.inc"

namespace mlir::moe {
/// A `moe.weight`'s byte offset in the artifact's weights segment, set by
/// moe-plan-weights.
inline constexpr llvm::StringLiteral kWeightOffsetAttrName = "moe.offset";
/// The module's checkpoint directory, which weight references are relative
/// to; set by the importer.
inline constexpr llvm::StringLiteral kCheckpointAttrName = "moe.checkpoint";
/// The importer gives each decoder layer's ops the location
/// "model.layers.N"; rewrites keep it, as ops built from an op take its
/// location.
inline constexpr llvm::StringLiteral kLayerLocationPrefix = "model.layers.";
/// The loop that runs every decoder layer (moe-roll-layers) carries the
/// number of layers as this attribute; its index is the layer.
inline constexpr llvm::StringLiteral kLayerLoopAttrName = "moe.layers";
/// N when `loc`, or a location it fuses or wraps, names decoder layer N.
std::optional<int64_t> layerOfLocation(Location loc);
/// moe.rope's inverse frequencies when it has no `inv_freq`: 1 /
/// theta^(2k / headDim) for k < headDim / 2, in f32 as HF computes them.
SmallVector<float> ropeInverseFrequencies(double theta, int64_t headDim);
} // namespace mlir::moe

#endif // MOEC_DIALECTS_MOE_IR_MOEOPS_H
