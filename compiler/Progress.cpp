//===- Progress.cpp - progress of long work on a terminal ---------------===//

#include "compiler/Progress.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/raw_ostream.h"

#include <string>

std::function<void(uint64_t, uint64_t)>
moec::terminalProgress(llvm::StringRef label) {
  if (!llvm::sys::Process::StandardErrIsDisplayed())
    return {};
  return [label = label.str()](uint64_t done, uint64_t total) {
    llvm::errs() << "\r" << label
                 << llvm::format(": %6.1f%%",
                                 100.0 * double(done) /
                                     double(total ? total : 1));
    if (done == total)
      llvm::errs() << "\n";
  };
}
