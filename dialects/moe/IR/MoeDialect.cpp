//===- MoeDialect.cpp - the moe dialect ---------------------------------===//

#include "dialects/moe/IR/MoeDialect.h"
#include "dialects/moe/IR/MoeOps.h"


using namespace mlir;
using namespace mlir::moe;

#include "dialects/moe/IR/MoeDialect.cpp.inc"

void MoeDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialects/moe/IR/MoeOps.cpp.inc"
      >();
  registerAttributes();
}
