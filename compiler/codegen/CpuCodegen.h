//===- CpuCodegen.h - LLVM dialect to a shared object -----------*- C++ -*-===//

#ifndef MOEC_COMPILER_CODEGEN_CPUCODEGEN_H
#define MOEC_COMPILER_CODEGEN_CPUCODEGEN_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace moec {

struct CpuTarget {
  std::string triple;
  std::string cpu;
  std::string features;
};

/// Translates an LLVM-dialect module to LLVM IR, optimises it at O3 for the
/// target, emits an object and links it with lld into a shared object,
/// whose bytes are returned. With `llvmIR`, the optimised IR is printed
/// there too.
llvm::Expected<std::vector<char>>
emitSharedObject(mlir::ModuleOp module, const CpuTarget &target,
                 llvm::raw_ostream *llvmIR = nullptr);

} // namespace moec

#endif // MOEC_COMPILER_CODEGEN_CPUCODEGEN_H
