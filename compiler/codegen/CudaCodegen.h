//===- CudaCodegen.h - kernels as PTX and cubin ------------------*- C++ -*-===//

#ifndef MOEC_COMPILER_CODEGEN_CUDACODEGEN_H
#define MOEC_COMPILER_CODEGEN_CUDACODEGEN_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace moec {

/// The PTX of the kernels: the assembly of the module's one `gpu.binary`
/// (made by gpu-module-to-binary with format=isa).
llvm::Expected<std::string> kernelAssembly(mlir::ModuleOp module);

/// `ptxas` of the CUDA toolkit at `toolkit`, else on the PATH; empty when
/// there is none.
std::string findPtxas(llvm::StringRef toolkit);

/// Assembles `ptx` for `chip` (e.g. sm_90) with `ptxas`; the cubin's bytes.
llvm::Expected<std::vector<char>> assembleCubin(llvm::StringRef ptx,
                                                llvm::StringRef chip,
                                                llvm::StringRef ptxas);

} // namespace moec

#endif // MOEC_COMPILER_CODEGEN_CUDACODEGEN_H
