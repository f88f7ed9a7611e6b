//===- Signature.h - signed artifacts (Ed25519) -----------------*- C++ -*-===//
//
// An artifact may end with a signature trailer: kSignatureMagic, the
// signer's Ed25519 public key and an Ed25519ph signature (libsodium's
// crypto_sign_init/update/final: SHA-512 of the bytes, then Ed25519) of
// every byte before the trailer. The checksums find corruption; only a
// signature from a trusted key says who made the file. Keys are files of
// hex text: a public key of 32 bytes (64 digits), a secret key of 64 bytes
// (128 digits, libsodium's seed and public key). One statement of it for
// the compiler, which signs, and the runtime, which verifies.
//
//===----------------------------------------------------------------------===//

#ifndef MOEC_RUNTIME_SIGNATURE_H
#define MOEC_RUNTIME_SIGNATURE_H

#include <sodium.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace moec {

inline constexpr char kSignatureMagic[8] = {'M', 'O', 'E', 'C',
                                            'S', 'I', 'G', '1'};
using PublicKey = std::array<uint8_t, crypto_sign_PUBLICKEYBYTES>;
using SecretKey = std::array<uint8_t, crypto_sign_SECRETKEYBYTES>;
using Signature = std::array<uint8_t, crypto_sign_BYTES>;
inline constexpr size_t kSignatureTrailerBytes =
    sizeof(kSignatureMagic) + crypto_sign_PUBLICKEYBYTES + crypto_sign_BYTES;

/// Feeds `size` bytes to a signing or verifying state, in pieces that
/// libsodium's length type holds.
inline void signatureUpdate(crypto_sign_state &state, const uint8_t *data,
                            uint64_t size) {
  constexpr uint64_t kPiece = uint64_t(1) << 30;
  for (uint64_t at = 0; at < size; at += kPiece)
    crypto_sign_update(&state, data + at,
                       size - at < kPiece ? size - at : kPiece);
}

/// The signature of `size` bytes by `key`.
inline Signature signBytes(const uint8_t *data, uint64_t size,
                           const SecretKey &key) {
  (void)sodium_init(); // once; later calls return at once
  crypto_sign_state state;
  crypto_sign_init(&state);
  signatureUpdate(state, data, size);
  Signature signature;
  crypto_sign_final_create(&state, signature.data(), nullptr, key.data());
  return signature;
}

/// Whether `signature` is `key`'s of the `size` bytes.
inline bool verifyBytes(const uint8_t *data, uint64_t size,
                        const PublicKey &key, const Signature &signature) {
  if (sodium_init() < 0)
    return false;
  crypto_sign_state state;
  crypto_sign_init(&state);
  signatureUpdate(state, data, size);
  return crypto_sign_final_verify(&state, signature.data(), key.data()) == 0;
}

/// Bytes as lowercase hex, and back (nullopt unless exactly N bytes of hex,
/// surrounding whitespace allowed).
inline std::string toHex(const uint8_t *data, size_t size) {
  std::string out(size * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), data, size);
  out.pop_back();
  return out;
}
template <size_t N>
std::optional<std::array<uint8_t, N>> fromHex(const std::string &text) {
  size_t first = text.find_first_not_of(" \t\r\n");
  size_t last = text.find_last_not_of(" \t\r\n");
  if (first == std::string::npos || last + 1 - first != 2 * N)
    return std::nullopt;
  std::array<uint8_t, N> out;
  size_t length = 0;
  if (sodium_hex2bin(out.data(), N, text.data() + first, 2 * N, nullptr,
                     &length, nullptr) != 0 ||
      length != N)
    return std::nullopt;
  return out;
}

} // namespace moec

#endif // MOEC_RUNTIME_SIGNATURE_H
