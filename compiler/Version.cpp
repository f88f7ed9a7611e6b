//===- Version.cpp - --version of the compiler tools --------------------===//

#include "compiler/Version.h"

#include "runtime/CommandLine.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/TargetParser/Host.h"

void moec::setVersionPrinter(llvm::StringRef tool) {
  llvm::cl::SetVersionPrinter([tool = tool.str()](llvm::raw_ostream &os) {
    os << versionText(tool) << "  host " << llvm::sys::getDefaultTargetTriple()
       << ", CPU " << llvm::sys::getHostCPUName() << "\n";
  });
}
