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

/// The register block of a product of several tokens that fills the
/// vector registers of a CPU with `lanes` f32 lanes. With bf16 weights
/// widened in pairs: row_tile x token_tile accumulators, the even and odd
/// halves of each token's activations and of one weight load (4 x 2 fill
/// 14 of AVX2's 16, 4 x 5 all of AVX-512's 32); blocks that spill measured
/// 1.4x slower (docs/perf.md).
inline std::pair<int64_t, int64_t> defaultCpuTile(int64_t lanes) {
  return {4, lanes >= 16 ? 5 : 2};
}
} // namespace mlir::kernel

#endif // MOEC_DIALECTS_KERNEL_IR_KERNELOPS_H
