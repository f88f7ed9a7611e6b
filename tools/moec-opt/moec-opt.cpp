//===- moec-opt.cpp - moec's optimizer driver ---------------------------===//
//
// mlir-opt with the moe dialect and moec's passes: runs passes over a module
// given on the command line, for tests and debugging.
//
//===----------------------------------------------------------------------===//

#include "compiler/Registration.h"
#include "compiler/Version.h"

#include "mlir/Debug/Counter.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/Timing.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  moec::setVersionPrinter("moec-opt");
  mlir::DialectRegistry registry;
  moec::registerDialects(registry);
  moec::registerPasses();

  // The options mlir-opt registers, parsed here so that a usage error
  // exits with 2 like the other tools (MlirOptMain's own parse exits 1).
  static cl::opt<std::string> input(cl::Positional, cl::desc("<input file>"),
                                    cl::init("-"));
  static cl::opt<std::string> output("o", cl::desc("Output filename"),
                                     cl::value_desc("filename"), cl::init("-"));
  mlir::registerAsmPrinterCLOptions();
  mlir::registerMLIRContextCLOptions();
  mlir::registerPassManagerCLOptions();
  mlir::registerDefaultTimingManagerCLOptions();
  mlir::tracing::DebugCounter::registerCLOptions();
  mlir::MlirOptMainConfig::registerCLOptions(registry);
  std::string overview = "moec optimizer driver\nAvailable Dialects: ";
  raw_string_ostream names(overview);
  interleaveComma(registry.getDialectNames(), names);
  if (!cl::ParseCommandLineOptions(argc, argv, overview, &errs()))
    return 2;
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, input, output, registry));
}
