//===- moec-import.cpp - HF checkpoints into the moe dialect ------------===//
//
// moec-import DIR -o model.mlir [--emit=mlir|bytecode]
//
// Reads config.json and the safetensors headers of a HuggingFace checkpoint
// directory and writes its `moe` dialect module. Weight data is not read.
//
//===----------------------------------------------------------------------===//

#include "compiler/Registration.h"
#include "compiler/import/Importer.h"
#include "compiler/import/KvCacheTypeOption.h"
#include "runtime/OutputFile.h"

#include "mlir/Bytecode/BytecodeWriter.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "compiler/Version.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"

#include <csignal>
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;

namespace {

enum class Emit { Mlir, Bytecode };

cl::OptionCategory category("moec-import options");
cl::opt<std::string> input(cl::Positional, cl::Required,
                           cl::desc("<checkpoint directory>"),
                           cl::cat(category));
cl::opt<std::string> output("o", cl::desc("Output file (- for stdout)"),
                            cl::value_desc("file"), cl::init("-"),
                            cl::cat(category));
cl::opt<Emit> emit("emit", cl::desc("Output format"), cl::init(Emit::Mlir),
                   cl::values(clEnumValN(Emit::Mlir, "mlir", "MLIR text"),
                              clEnumValN(Emit::Bytecode, "bytecode",
                                         "MLIR bytecode")),
                   cl::cat(category));
cl::opt<bool> noWarnings("w", cl::desc("Do not print warnings"),
                         cl::cat(category));
moec::KvCacheTypeOption kvCacheType(category);

int fail(const Twine &message) {
  WithColor::error(errs(), "moec-import") << message << "\n";
  return 1;
}

} // namespace

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  // Past a file-size limit a write fails (EFBIG, reported with the file's
  // name) instead of the process dying.
  std::signal(SIGXFSZ, SIG_IGN);
  moec::setVersionPrinter("moec-import");
  cl::HideUnrelatedOptions(category);
  if (!cl::ParseCommandLineOptions(
          argc, argv, "moec-import: HuggingFace checkpoint to moe dialect\n",
          &errs()))
    return 2;

  if (output != "-")
    if (moec::Status status = moec::checkOutputPath(output, {input}); !status)
      return fail(status.message());
  Expected<moec::Checkpoint> checkpoint = moec::Checkpoint::open(input);
  if (!checkpoint)
    return fail(toString(checkpoint.takeError()));

  mlir::DialectRegistry registry;
  moec::registerDialects(registry);
  mlir::MLIRContext context(registry);
  auto module = moec::importCheckpoint(
      context, *checkpoint,
      [](const std::string &message) {
        if (!noWarnings)
          WithColor::warning(errs(), "moec-import") << message << "\n";
      },
      kvCacheType);
  if (!module)
    return fail(toString(module.takeError()));

  // The module's text (weights are referenced, not copied: it is small),
  // then written under a fresh name and renamed: a failure, a full disk or
  // a signal leaves no partial output.
  std::string text;
  {
    llvm::raw_string_ostream os(text);
    if (emit == Emit::Bytecode) {
      if (mlir::failed(mlir::writeBytecodeToFile(**module, os)))
        return fail(output + ": cannot write bytecode");
    } else {
      // With locations: they name each op's decoder layer (model.layers.N),
      // which the passes read.
      (*module)->print(os, mlir::OpPrintingFlags().enableDebugInfo(
                               /*enable=*/true, /*prettyForm=*/false));
    }
  }
  if (output == "-") {
    outs() << text;
    outs().flush();
    return outs().has_error() ? fail("cannot write to stdout") : 0;
  }
  moec::OutputFile file;
  moec::Status status = file.open(output);
  if (status)
    status = file.write(text.data(), text.size());
  if (status)
    status = file.commit();
  if (!status)
    return fail(status.message());
  return 0;
}
