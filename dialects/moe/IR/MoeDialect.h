//===- MoeDialect.h - the moe dialect ---------------------------*- C++ -*-===//

#ifndef MOEC_DIALECTS_MOE_IR_MOEDIALECT_H
#define MOEC_DIALECTS_MOE_IR_MOEDIALECT_H

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Dialect.h"

#include "dialects/moe/IR/MoeDialect.h.inc"

#endif // MOEC_DIALECTS_MOE_IR_MOEDIALECT_H
