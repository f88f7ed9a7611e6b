//===- moec-keygen.cpp - a key pair to sign artifacts with ----------------===//
//
// moec-keygen NAME writes NAME.key (the Ed25519 secret key, readable by its
// owner only) and NAME.pub (the public key): moec-compile --sign-key=NAME.key
// signs, moec-run --trusted-keys=DIR runs what a key of DIR signed.
//
//===----------------------------------------------------------------------===//

#include "runtime/Signature.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <unistd.h>

namespace {

int fail(const std::string &message) {
  std::fprintf(stderr, "moec-keygen: error: %s\n", message.c_str());
  return 1;
}

/// Creates `path` (never over an existing file or through a link) with
/// `mode` and writes `text`.
bool writeNew(const std::string &path, const std::string &text, mode_t mode,
              std::string &error) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
                                    O_CLOEXEC,
                  mode);
  if (fd < 0) {
    error = path + ": " + std::strerror(errno);
    return false;
  }
  bool ok = ::write(fd, text.data(), text.size()) == ssize_t(text.size());
  ok = ::close(fd) == 0 && ok;
  if (!ok) {
    error = path + ": write failed: " + std::strerror(errno);
    ::unlink(path.c_str());
  }
  return ok;
}

} // namespace

int main(int argc, char **argv) {
  std::string usage = "usage: moec-keygen NAME  (writes NAME.key and NAME.pub)";
  if (argc == 2 && (std::strcmp(argv[1], "--help") == 0 ||
                    std::strcmp(argv[1], "-h") == 0)) {
    std::printf("%s\n\nNAME.key is an Ed25519 secret key for moec-compile "
                "--sign-key, readable by its owner only; NAME.pub its public "
                "key, for the directory moec-run --trusted-keys reads.\n",
                usage.c_str());
    return 0;
  }
  if (argc != 2 || argv[1][0] == '-' || argv[1][0] == '\0') {
    std::fprintf(stderr, "%s\n", usage.c_str());
    return 2;
  }
  if (sodium_init() < 0)
    return fail("libsodium does not initialise");
  moec::PublicKey pub;
  moec::SecretKey secret;
  crypto_sign_keypair(pub.data(), secret.data());
  std::string name = argv[1], error;
  if (!writeNew(name + ".key", moec::toHex(secret.data(), secret.size()) + "\n",
                0600, error))
    return fail(error);
  if (!writeNew(name + ".pub", moec::toHex(pub.data(), pub.size()) + "\n",
                0644, error)) {
    ::unlink((name + ".key").c_str());
    return fail(error);
  }
  sodium_memzero(secret.data(), secret.size());
  std::printf("%s.key: secret key (keep it private)\n%s.pub: public key %s\n",
              name.c_str(), name.c_str(),
              moec::toHex(pub.data(), pub.size()).c_str());
  return 0;
}
