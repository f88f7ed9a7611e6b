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

#endif // MOEC_DIALECTS_KERNEL_IR_KERNELOPS_H
