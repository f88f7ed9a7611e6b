//===- CpuCodegen.cpp - LLVM dialect to a shared object -----------------===//

#include "compiler/codegen/CpuCodegen.h"

#include "mlir/Target/LLVMIR/Export.h"
#include "lld/Common/Driver.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/Signals.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"

LLD_HAS_DRIVER(elf)

using namespace moec;
using llvm::Error;

static Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 message.str());
}

/// The target machine for `target`, at O3 with position-independent code.
static llvm::Expected<std::unique_ptr<llvm::TargetMachine>>
createMachine(const CpuTarget &target) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  llvm::Triple triple(target.triple);
  std::string lookupError;
  const llvm::Target *llvmTarget =
      llvm::TargetRegistry::lookupTarget(triple, lookupError);
  if (!llvmTarget)
    return makeError("target '" + target.triple + "': " + lookupError);
  // Constructors (a CUDA model's kernel loading) go in .init_array, which
  // the dynamic loader runs; nothing would run a .ctors section.
  llvm::TargetOptions options;
  options.UseInitArray = true;
  std::unique_ptr<llvm::TargetMachine> machine(llvmTarget->createTargetMachine(
      triple, target.cpu, target.features, options,
      llvm::Reloc::PIC_, std::nullopt, llvm::CodeGenOptLevel::Aggressive));
  if (!machine)
    return makeError("cannot create a target machine for " + target.triple +
                     " " + target.cpu);
  return machine;
}

llvm::Expected<int64_t> moec::vectorWidthF32(const CpuTarget &target) {
  auto machine = createMachine(target);
  if (!machine)
    return machine.takeError();
  const llvm::MCSubtargetInfo *info = (*machine)->getMCSubtargetInfo();
  if (info->checkFeatures("+avx512f"))
    return 16;
  if (info->checkFeatures("+avx"))
    return 8;
  return 4;
}

llvm::Expected<std::vector<char>>
moec::emitSharedObject(mlir::ModuleOp module, const CpuTarget &target,
                       llvm::raw_ostream *llvmIR) {
  auto created = createMachine(target);
  if (!created)
    return created.takeError();
  std::unique_ptr<llvm::TargetMachine> machine = std::move(*created);
  llvm::Triple triple(target.triple);

  llvm::LLVMContext context;
  std::unique_ptr<llvm::Module> llvmModule =
      mlir::translateModuleToLLVMIR(module, context, "moec");
  if (!llvmModule)
    return makeError("cannot translate the module to LLVM IR");
  llvmModule->setTargetTriple(triple);
  llvmModule->setDataLayout(machine->createDataLayout());

  {
    llvm::LoopAnalysisManager lam;
    llvm::FunctionAnalysisManager fam;
    llvm::CGSCCAnalysisManager cgam;
    llvm::ModuleAnalysisManager mam;
    llvm::PassBuilder pb(machine.get());
    pb.registerModuleAnalyses(mam);
    pb.registerCGSCCAnalyses(cgam);
    pb.registerFunctionAnalyses(fam);
    pb.registerLoopAnalyses(lam);
    pb.crossRegisterProxies(lam, fam, cgam, mam);
    pb.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3)
        .run(*llvmModule, mam);
  }
  if (llvmIR)
    llvmModule->print(*llvmIR, nullptr);

  llvm::SmallVector<char, 0> object;
  {
    llvm::raw_svector_ostream os(object);
    llvm::legacy::PassManager pm;
    if (machine->addPassesToEmitFile(pm, os, nullptr,
                                     llvm::CodeGenFileType::ObjectFile))
      return makeError("the target cannot emit object files");
    pm.run(*llvmModule);
  }

  // lld links files: the object in, the shared object out, both temporary.
  llvm::SmallString<128> objectPath, libraryPath;
  int fd;
  if (std::error_code ec =
          llvm::sys::fs::createTemporaryFile("moec", "o", fd, objectPath))
    return makeError("cannot create a temporary file: " + ec.message());
  llvm::FileRemover removeObject(objectPath);
  llvm::sys::RemoveFileOnSignal(objectPath);
  {
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
    os.write(object.data(), object.size());
    os.close();
    if (os.has_error()) {
      std::string why = os.error().message();
      os.clear_error();
      return makeError("cannot write the object file " + objectPath +
                       " (temporary): " + why);
    }
  }
  if (std::error_code ec =
          llvm::sys::fs::createTemporaryFile("moec", "so", libraryPath))
    return makeError("cannot create a temporary file: " + ec.message());
  llvm::FileRemover removeLibrary(libraryPath);
  llvm::sys::RemoveFileOnSignal(libraryPath);
  // The parallel loops call libomp, which the loader finds by its soname;
  // host code without them (a CUDA model's) must not need it.
  const char *args[] = {"ld.lld",
                        "-shared",
                        "--hash-style=gnu",
                        "-z",
                        "noexecstack",
                        "-o",
                        libraryPath.c_str(),
                        objectPath.c_str(),
                        MOEC_CLANG_BUILTINS,
                        "-L" MOEC_OPENMP_LIBRARY_DIR,
                        "--as-needed",
                        "-lomp"};
  std::string linkerOutput;
  llvm::raw_string_ostream linkerStream(linkerOutput);
  lld::Result result = lld::lldMain(args, linkerStream, linkerStream,
                                    {{lld::Gnu, &lld::elf::link}});
  if (result.retCode != 0)
    return makeError("lld failed: " + linkerOutput);

  auto library = llvm::MemoryBuffer::getFile(libraryPath, /*IsText=*/false,
                                             /*RequiresNullTerminator=*/false);
  if (!library)
    return makeError("cannot read the linked library: " +
                     library.getError().message());
  llvm::StringRef bytes = (*library)->getBuffer();
  return std::vector<char>(bytes.begin(), bytes.end());
}
