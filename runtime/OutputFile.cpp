//===- OutputFile.cpp - files the tools write ---------------------------===//

#include "runtime/OutputFile.h"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <random>
#include <sys/stat.h>
#include <unistd.h>

using namespace moec;

namespace {

// Temporaries to remove on a signal: fixed slots, so that the handler only
// reads memory and calls unlink (async-signal-safe).
constexpr int kSlots = 8;
constexpr size_t kPathBytes = 4096;
char pending[kSlots][kPathBytes];
std::atomic<bool> used[kSlots];

void onSignal(int signal) {
  for (int i = 0; i < kSlots; ++i)
    if (used[i].load())
      unlink(pending[i]);
  std::signal(signal, SIG_DFL);
  std::raise(signal);
}

void installHandlers() {
  static bool installed = [] {
    for (int signal : {SIGINT, SIGTERM}) {
      struct sigaction action = {};
      action.sa_handler = onSignal;
      sigemptyset(&action.sa_mask);
      sigaction(signal, &action, nullptr);
    }
    return true;
  }();
  (void)installed;
}

bool sameFile(const struct stat &a, const struct stat &b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

} // namespace

void moec::removeOnSignal(const std::string &path) {
  installHandlers();
  if (path.size() >= kPathBytes)
    return;
  for (int i = 0; i < kSlots; ++i) {
    bool expected = false;
    if (used[i].load())
      continue;
    std::memcpy(pending[i], path.c_str(), path.size() + 1);
    if (used[i].compare_exchange_strong(expected, true))
      return;
  }
}

void moec::forgetOnSignal(const std::string &path) {
  for (int i = 0; i < kSlots; ++i)
    if (used[i].load() && path == pending[i])
      used[i].store(false);
}

Status moec::checkOutputPath(const std::string &path,
                             const std::vector<std::string> &inputs) {
  if (path.empty())
    return Status::error("an empty output path");
  // The output is written beside it: its directory must take a new file
  // (found now, not after the work).
  {
    size_t slash = path.find_last_of('/');
    std::string probe =
        (slash == std::string::npos ? std::string(".") : path.substr(0, slash + 1)) +
        "/.moec-probe-XXXXXX";
    int fd = mkstemp(probe.data());
    if (fd < 0)
      return Status::error("cannot create a file in its directory (the "
                           "output is written beside it, then renamed): %s",
                           std::strerror(errno))
          .withContext(path);
    ::close(fd);
    unlink(probe.c_str());
  }
  struct stat out;
  if (stat(path.c_str(), &out) != 0) {
    if (errno == ENOENT)
      return Status(); // a new file: nothing it could be
    return Status::error("cannot write: %s", std::strerror(errno))
        .withContext(path);
  }
  if (S_ISDIR(out.st_mode))
    return Status::error("is a directory").withContext(path);
  if (!S_ISREG(out.st_mode))
    return Status::error("is not a regular file (a device, FIFO or socket); "
                         "outputs replace files only")
        .withContext(path);
  for (const std::string &input : inputs) {
    struct stat in;
    if (stat(input.c_str(), &in) != 0)
      continue;
    if (sameFile(in, out))
      return Status::error("is an input; it would be overwritten")
          .withContext(path);
    if (!S_ISDIR(in.st_mode))
      continue;
    if (DIR *dir = opendir(input.c_str())) {
      bool clash = false;
      while (dirent *entry = readdir(dir)) {
        struct stat file;
        std::string name = input + "/" + entry->d_name;
        if (stat(name.c_str(), &file) == 0 && S_ISREG(file.st_mode) &&
            sameFile(file, out))
          clash = true;
      }
      closedir(dir);
      if (clash)
        return Status::error("is a file of the input %s; it would be "
                             "overwritten",
                             input.c_str())
            .withContext(path);
    }
  }
  return Status();
}

OutputFile::~OutputFile() {
  if (fd >= 0)
    ::close(fd);
  if (!temp.empty()) {
    unlink(temp.c_str());
    forgetOnSignal(temp);
  }
}

Status OutputFile::open(const std::string &path) {
  target = path;
  std::random_device entropy;
  for (int attempt = 0; attempt < 16; ++attempt) {
    char suffix[32];
    std::snprintf(suffix, sizeof(suffix), ".tmp-%08x", unsigned(entropy()));
    std::string name = path + suffix;
    // Registered first: a signal between the two leaves nothing behind.
    removeOnSignal(name);
    fd = ::open(name.c_str(),
                O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd >= 0) {
      temp = name;
      return Status();
    }
    forgetOnSignal(name);
    if (errno != EEXIST)
      return Status::error("cannot create a file in its directory (the "
                           "output is written beside it, then renamed): %s",
                           std::strerror(errno))
          .withContext(path);
  }
  return Status::error("cannot create a temporary file beside it")
      .withContext(path);
}

Status OutputFile::write(const void *data, size_t size) {
  const char *at = static_cast<const char *>(data);
  while (size) {
    ssize_t n = ::write(fd, at, size);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return Status::error("write failed: %s",
                           n < 0 ? std::strerror(errno) : "no progress")
          .withContext(target);
    at += n;
    size -= size_t(n);
  }
  return Status();
}

Status OutputFile::commit() {
  int closing = fd;
  fd = -1;
  if (::close(closing) != 0)
    return Status::error("write failed: %s", std::strerror(errno))
        .withContext(target);
  if (std::rename(temp.c_str(), target.c_str()) != 0)
    return Status::error("cannot replace it: %s", std::strerror(errno))
        .withContext(target);
  forgetOnSignal(temp);
  temp.clear();
  return Status();
}
