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

/// The f32 lanes of the target's widest vector registers: 16 with
/// AVX-512, 8 with AVX, else 4.
llvm::Expected<int64_t> vectorWidthF32(const CpuTarget &target);

/// Translates an LLVM-dialect module to LLVM IR, optimises it at O3 for the
/// target, emits an object and links it with lld into a shared object,
/// whose bytes are returned. With `llvmIR`, the optimised IR is printed
/// there too.
llvm::Expected<std::vector<char>>
emitSharedObject(mlir::ModuleOp module, const CpuTarget &target,
                 llvm::raw_ostream *llvmIR = nullptr);

} // namespace moec

#endif // MOEC_COMPILER_CODEGEN_CPUCODEGEN_H
