//===- moec-opt.cpp - moec's optimizer driver ---------------------------===//
//
// mlir-opt with the moe dialect and moec's passes: runs passes over a module
// given on the command line, for tests and debugging.
//
//===----------------------------------------------------------------------===//

#include "compiler/Registration.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  moec::registerDialects(registry);
  moec::registerPasses();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "moec optimizer driver\n", registry));
}
