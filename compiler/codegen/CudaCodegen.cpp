//===- CudaCodegen.cpp - kernels as PTX and cubin -----------------------===//

#include "compiler/codegen/CudaCodegen.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

using namespace moec;
using llvm::Error;

static Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

llvm::Expected<std::string> moec::kernelAssembly(mlir::ModuleOp module) {
  auto binaries = module.getOps<mlir::gpu::BinaryOp>();
  if (std::distance(binaries.begin(), binaries.end()) != 1)
    return makeError("expected one gpu.binary after the CUDA pipeline");
  mlir::gpu::BinaryOp binary = *binaries.begin();
  for (mlir::Attribute attr : binary.getObjectsAttr()) {
    auto object = llvm::cast<mlir::gpu::ObjectAttr>(attr);
    if (object.getFormat() == mlir::gpu::CompilationTarget::Assembly)
      return object.getObject().getValue().str();
  }
  return makeError("the gpu.binary holds no PTX");
}

std::string moec::findPtxas(llvm::StringRef toolkit) {
  llvm::SmallString<256> path(toolkit);
  llvm::sys::path::append(path, "bin", "ptxas");
  if (llvm::sys::fs::can_execute(path))
    return std::string(path);
  if (llvm::ErrorOr<std::string> found = llvm::sys::findProgramByName("ptxas"))
    return *found;
  return "";
}

llvm::Expected<std::vector<char>> moec::assembleCubin(llvm::StringRef ptx,
                                                      llvm::StringRef chip,
                                                      llvm::StringRef ptxas) {
  llvm::SmallString<128> ptxPath, cubinPath, logPath;
  int fd;
  if (std::error_code ec =
          llvm::sys::fs::createTemporaryFile("moec", "ptx", fd, ptxPath))
    return makeError("cannot create a temporary file: " + ec.message());
  llvm::FileRemover removePtx(ptxPath);
  {
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
    os << ptx;
  }
  if (std::error_code ec =
          llvm::sys::fs::createTemporaryFile("moec", "cubin", cubinPath))
    return makeError("cannot create a temporary file: " + ec.message());
  llvm::FileRemover removeCubin(cubinPath);
  if (std::error_code ec =
          llvm::sys::fs::createTemporaryFile("moec", "log", logPath))
    return makeError("cannot create a temporary file: " + ec.message());
  llvm::FileRemover removeLog(logPath);

  std::string arch = ("-arch=" + chip).str();
  llvm::StringRef args[] = {ptxas, arch, "-O3", ptxPath, "-o", cubinPath};
  std::optional<llvm::StringRef> redirects[] = {std::nullopt, logPath.str(),
                                                logPath.str()};
  std::string message;
  int rc = llvm::sys::ExecuteAndWait(ptxas, args, std::nullopt, redirects,
                                     /*SecondsToWait=*/0, /*MemoryLimit=*/0,
                                     &message);
  if (rc != 0) {
    std::string log;
    if (auto text = llvm::MemoryBuffer::getFile(logPath))
      log = (*text)->getBuffer().trim().str();
    return makeError(ptxas + " failed" +
                     (message.empty() ? "" : ": " + message) +
                     (log.empty() ? "" : ": " + log));
  }
  auto cubin = llvm::MemoryBuffer::getFile(cubinPath, /*IsText=*/false,
                                           /*RequiresNullTerminator=*/false);
  if (!cubin)
    return makeError("cannot read the cubin: " + cubin.getError().message());
  llvm::StringRef bytes = (*cubin)->getBuffer();
  return std::vector<char>(bytes.begin(), bytes.end());
}
