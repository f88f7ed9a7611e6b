//===- KernelOps.h - kernel dialect ops and attributes ----------*- C++ -*-===//

#ifndef MOEC_DIALECTS_KERNEL_IR_KERNELOPS_H
#define MOEC_DIALECTS_KERNEL_IR_KERNELOPS_H

#include "dialects/kernel/IR/KernelDialect.h"
#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "dialects/kernel/IR/KernelEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/kernel/IR/KernelAttrs.h.inc"

#define GET_OP_CLASSES
#include "dialects/kernel/IR/KernelOps.h.inc"

namespace mlir::kernel {
/// The attribute every kernel op carries its target mapping in.
inline constexpr llvm::StringLiteral kMappingAttrName = "mapping";

/// Gives every kernel op under `root` the mapping `mapping` (what a
/// configuration pass decided for its target).
void setMappings(Operation *root, Attribute mapping);
} // namespace mlir::kernel

#endif // MOEC_DIALECTS_KERNEL_IR_KERNELOPS_H
