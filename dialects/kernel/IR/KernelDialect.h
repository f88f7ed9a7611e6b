//===- KernelDialect.h - the kernel dialect ---------------------*- C++ -*-===//

#ifndef MOEC_DIALECTS_KERNEL_IR_KERNELDIALECT_H
#define MOEC_DIALECTS_KERNEL_IR_KERNELDIALECT_H

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Dialect.h"

#include "dialects/kernel/IR/KernelDialect.h.inc"

#endif // MOEC_DIALECTS_KERNEL_IR_KERNELDIALECT_H
