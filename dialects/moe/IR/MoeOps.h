//===- MoeOps.h - moe dialect ops -------------------------------*- C++ -*-===//

#ifndef MOEC_DIALECTS_MOE_IR_MOEOPS_H
#define MOEC_DIALECTS_MOE_IR_MOEOPS_H

#include "dialects/moe/IR/MoeAttrs.h"
#include "dialects/moe/IR/MoeDialect.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#define GET_OP_CLASSES
#include "dialects/moe/IR/MoeOps.h.inc"

namespace mlir::moe {
/// A `moe.weight`'s byte offset in the artifact's weights segment, set by
/// moe-plan-weights.
inline constexpr llvm::StringLiteral kWeightOffsetAttrName = "moe.offset";
/// The module's checkpoint directory, which weight references are relative
/// to; set by the importer.
inline constexpr llvm::StringLiteral kCheckpointAttrName = "moe.checkpoint";
} // namespace mlir::moe

#endif // MOEC_DIALECTS_MOE_IR_MOEOPS_H
