//===- KernelDialect.cpp - the kernel dialect and its attributes --------===//

#include "dialects/kernel/IR/KernelDialect.h"
#include "dialects/kernel/IR/KernelOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::kernel;

#include "dialects/kernel/IR/KernelDialect.cpp.inc"
#include "dialects/kernel/IR/KernelEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/kernel/IR/KernelAttrs.cpp.inc"

void KernelDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialects/kernel/IR/KernelOps.cpp.inc"
      >();
  registerAttributes();
}

void KernelDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dialects/kernel/IR/KernelAttrs.cpp.inc"
      >();
}

void mlir::kernel::setMappings(Operation *root, Attribute mapping) {
  root->walk([&](Operation *op) {
    if (isa<KernelDialect>(op->getDialect()))
      op->setAttr(kMappingAttrName, mapping);
  });
}

LogicalResult
CpuMappingAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                       int64_t lanes, int64_t accumulators, int64_t tasks,
                       bool bf16Dot, int64_t rowTile, int64_t tokenTile,
                       bool int8Dot) {
  if (lanes < 1 || accumulators < 1 || tasks < 1 || rowTile < 1 ||
      tokenTile < 1)
    return emitError() << "#kernel.cpu: lanes, accumulators, tasks and tiles "
                          "must be positive";
  if (bf16Dot && lanes != 16)
    return emitError() << "#kernel.cpu: bf16_dot needs 16 lanes (AVX-512)";
  if (int8Dot && lanes < 8)
    return emitError() << "#kernel.cpu: int8_dot needs 8 lanes or more";
  return success();
}

LogicalResult GpuMappingAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                     int64_t warps, int64_t unroll,
                                     int64_t splits) {
  if (warps < 1 || warps > 32)
    return emitError() << "#kernel.gpu: warps must be in [1, 32]";
  if (unroll < 1 || splits < 1)
    return emitError() << "#kernel.gpu: unroll and splits must be positive";
  return success();
}
