//===- Artifact.cpp - reading .moec artifacts ---------------------------===//

#include "runtime/Artifact.h"

#include <xxhash.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>

using namespace moec;

Artifact::Artifact(Artifact &&other) noexcept { *this = std::move(other); }

Artifact &Artifact::operator=(Artifact &&other) noexcept {
  if (this != &other) {
    release();
    filePath = std::move(other.filePath);
    map = std::exchange(other.map, nullptr);
    mapSize = std::exchange(other.mapSize, 0);
    hdr = std::exchange(other.hdr, nullptr);
    signedBytes = std::exchange(other.signedBytes, 0);
    device = other.device;
    inode = other.inode;
    modifiedNs = other.modifiedNs;
  }
  return *this;
}

Artifact::~Artifact() { release(); }

void Artifact::release() {
  if (map)
    munmap(map, mapSize);
  map = nullptr;
  mapSize = 0;
  hdr = nullptr;
}

Status Artifact::checkUnchanged() const {
  struct stat info;
  if (stat(filePath.c_str(), &info) != 0 || uint64_t(info.st_dev) != device ||
      uint64_t(info.st_ino) != inode || size_t(info.st_size) != mapSize ||
      int64_t(info.st_mtim.tv_sec) * 1000000000 + info.st_mtim.tv_nsec !=
          modifiedNs)
    return Status::error("changed on disk while the model was running; "
                         "stopping (start again to use the new file)")
        .withContext(filePath);
  return Status();
}

std::optional<PublicKey> Artifact::signer() const {
  if (!signedBytes)
    return std::nullopt;
  PublicKey key;
  std::memcpy(key.data(),
              static_cast<const uint8_t *>(map) + signedBytes +
                  sizeof(kSignatureMagic),
              key.size());
  return key;
}

Status Artifact::verifySignature(const std::vector<PublicKey> &trusted) const {
  std::optional<PublicKey> key = signer();
  if (!key)
    return Status::error("is not signed, and only signed artifacts are "
                         "trusted")
        .withContext(filePath);
  bool known = false;
  for (const PublicKey &k : trusted)
    known |= k == *key;
  if (!known)
    return Status::error("is signed by key %s, which is not among the "
                         "trusted keys",
                         toHex(key->data(), key->size()).c_str())
        .withContext(filePath);
  Signature signature;
  std::memcpy(signature.data(),
              static_cast<const uint8_t *>(map) + signedBytes +
                  sizeof(kSignatureMagic) + key->size(),
              signature.size());
  if (!verifyBytes(static_cast<const uint8_t *>(map), signedBytes, *key,
                   signature))
    return Status::error("fails its signature: it was altered after "
                         "signing")
        .withContext(filePath);
  return Status();
}

Status moec::readTrustedKeys(const std::string &dir,
                             std::vector<PublicKey> &out) {
  DIR *list = opendir(dir.c_str());
  if (!list)
    return Status::error("cannot read the trusted keys: %s",
                         std::strerror(errno))
        .withContext(dir);
  std::vector<std::string> names;
  while (dirent *entry = readdir(list)) {
    std::string name = entry->d_name;
    if (name.size() > 4 && name.compare(name.size() - 4, 4, ".pub") == 0)
      names.push_back(name);
  }
  closedir(list);
  std::sort(names.begin(), names.end());
  for (const std::string &name : names) {
    std::string path = dir + "/" + name;
    // Opened without blocking and checked to be a regular file first: a
    // FIFO named *.pub must not hang the loader.
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    struct stat info;
    if (fd < 0 || fstat(fd, &info) != 0 || !S_ISREG(info.st_mode) ||
        info.st_size > 4096) {
      if (fd >= 0)
        ::close(fd);
      return Status::error("not a public key file").withContext(path);
    }
    std::string text(size_t(info.st_size), '\0');
    ssize_t n = read(fd, text.data(), text.size());
    ::close(fd);
    std::optional<PublicKey> key;
    if (n == ssize_t(text.size()))
      key = fromHex<crypto_sign_PUBLICKEYBYTES>(text);
    if (!key)
      return Status::error("not a public key (64 hex digits)")
          .withContext(path);
    out.push_back(*key);
  }
  if (out.empty())
    return Status::error("no public keys (*.pub) to trust").withContext(dir);
  return Status();
}

Bytes Artifact::segment(artifact::SegmentKind kind) const {
  if (const auto *segments = hdr->segments())
    for (const artifact::Segment *s : *segments)
      if (s->kind() == kind)
        return {static_cast<const uint8_t *>(map) + s->offset(),
                static_cast<size_t>(s->size())};
  return {};
}

Status Artifact::check(const uint8_t *bytes, size_t size, bool verifyChecksums,
                       const artifact::Header *&out, uint64_t &signedBytes) {
  signedBytes = 0;
  if (size < kPrefixBytes)
    return Status::error("truncated: %zu bytes is too short for an artifact",
                         size);
  if (std::memcmp(bytes, kArtifactMagic, 8) != 0)
    return Status::error("not a moec artifact (bad magic)");
  uint64_t headerSize = readLe64(bytes + 8);
  if (headerSize > size - kPrefixBytes)
    return Status::error("truncated: the header needs %llu bytes, the "
                         "file has %zu after the prefix",
                         (unsigned long long)headerSize,
                         size - size_t(kPrefixBytes));
  if (headerChecksum(bytes, headerSize) != readLe64(bytes + 16))
    return Status::error("the header fails its checksum; the file is "
                         "corrupt");
  const uint8_t *header = bytes + kPrefixBytes;
  flatbuffers::Verifier verifier(header, headerSize);
  if (!artifact::VerifyHeaderBuffer(verifier))
    return Status::error("corrupt header (flatbuffers verification "
                         "failed)");
  out = artifact::GetHeader(header);
  const artifact::Header &h = *out;
  if (h.format_version() != kArtifactFormatVersion)
    return Status::error("format version %u, this runtime reads %u; "
                         "recompile the model",
                         h.format_version(), kArtifactFormatVersion);
  if (!h.config() || !h.target())
    return Status::error("corrupt header: no model config or target");
  // Enumerations the runtime switches on must name what they can.
  const artifact::ModelConfig &c = *h.config();
  auto known = [](auto value, auto max) {
    return uint32_t(value) <= uint32_t(max);
  };
  if (!known(h.target()->kind(), artifact::TargetKind::MAX) ||
      !known(c.head(), artifact::Head::MAX) ||
      !known(c.kv_cache_dtype(), artifact::DType::F32) ||
      (h.tokenizer() &&
       !known(h.tokenizer()->format(), artifact::TokenizerFormat::MAX)))
    return Status::error("corrupt header: an unknown target kind, head, "
                         "KV cache type or tokenizer format");
  if (c.max_position_embeddings() <= 0)
    return Status::error("corrupt header: max_position_embeddings is %lld",
                         (long long)c.max_position_embeddings());
  if (const auto *segments = h.segments())
    for (const artifact::Segment *s : *segments)
      if (!known(s->kind(), artifact::SegmentKind::MAX))
        return Status::error("corrupt header: a segment of unknown kind %u",
                             unsigned(s->kind()));
  if (const auto *list = h.weights())
    for (const artifact::Weight *w : *list)
      if (!known(w->dtype(), artifact::DType::MAX) ||
          !known(w->layout(), artifact::WeightLayout::MAX) ||
          !known(w->blocks(), artifact::BlockLayout::MAX))
        return Status::error("corrupt header: weight '%s' has an unknown "
                             "type or layout",
                             w->name() ? w->name()->c_str() : "?");

  // The segments tile the file: each at the first aligned offset after the
  // header or the segment before it, with zeros between; then either the
  // end of the file or a signature trailer. No byte is left unchecked.
  const artifact::Segment *weights = nullptr;
  uint64_t end = kPrefixBytes + headerSize;
  auto zeros = [&](uint64_t from, uint64_t to) {
    for (uint64_t i = from; i < to; ++i)
      if (bytes[i])
        return false;
    return true;
  };
  if (const auto *segments = h.segments()) {
    for (const artifact::Segment *s : *segments) {
      const char *kind = artifact::EnumNameSegmentKind(s->kind());
      uint64_t expected =
          (end + kSegmentAlignment - 1) / kSegmentAlignment * kSegmentAlignment;
      if (s->offset() > size || s->size() > size - s->offset())
        return Status::error("truncated or corrupt: the %s segment "
                             "[%llu, +%llu) lies outside the file "
                             "(%zu bytes)",
                             kind, (unsigned long long)s->offset(),
                             (unsigned long long)s->size(), size);
      if (s->offset() != expected)
        return Status::error("corrupt header: the %s segment is at "
                             "%llu, the layout puts it at %llu",
                             kind, (unsigned long long)s->offset(),
                             (unsigned long long)expected);
      if (!zeros(end, s->offset()))
        return Status::error("corrupt: bytes between segments are not "
                             "padding");
      if (verifyChecksums &&
          segmentChecksum(bytes + s->offset(), s->size()) != s->checksum())
        return Status::error("the %s segment fails its checksum; the "
                             "file is corrupt",
                             kind);
      if (s->kind() == artifact::SegmentKind::Weights)
        weights = s;
      end = s->offset() + s->size();
    }
  }
  if (size == end + kSignatureTrailerBytes &&
      std::memcmp(bytes + end, kSignatureMagic, sizeof(kSignatureMagic)) == 0) {
    signedBytes = end;
  } else if (size != end) {
    return Status::error("%llu bytes after the last segment: the file "
                         "was appended to or is corrupt",
                         (unsigned long long)(size - end));
  }
  if (const auto *list = h.weights()) {
    for (const artifact::Weight *w : *list) {
      if (!weights || w->offset() > weights->size() ||
          w->size() > weights->size() - w->offset())
        return Status::error("corrupt header: weight '%s' lies outside "
                             "the weights segment",
                             w->name() ? w->name()->c_str() : "?");
    }
  }
  return Status();
}

Status Artifact::open(const std::string &path, Artifact &out,
                      bool verifyChecksums) {
  auto fail = [&](Status status) { return status.withContext(path); };
  // Without blocking: a FIFO is refused below, not waited on.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0)
    return fail(Status::error("cannot open: %s", std::strerror(errno)));
  struct stat info;
  if (fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    ::close(fd);
    return fail(Status::error("not a regular file"));
  }
  size_t size = static_cast<size_t>(info.st_size);
  if (size < kPrefixBytes) {
    ::close(fd);
    return fail(Status::error("truncated: %zu bytes is too short for an "
                              "artifact",
                              size));
  }
  void *map = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED)
    return fail(Status::error("cannot map: %s", std::strerror(errno)));

  Artifact artifact;
  artifact.filePath = path;
  artifact.map = map;
  artifact.mapSize = size;
  artifact.device = uint64_t(info.st_dev);
  artifact.inode = uint64_t(info.st_ino);
  artifact.modifiedNs =
      int64_t(info.st_mtim.tv_sec) * 1000000000 + info.st_mtim.tv_nsec;
  if (Status status =
          check(static_cast<const uint8_t *>(map), size, verifyChecksums,
                artifact.hdr, artifact.signedBytes);
      !status)
    return fail(status);
  out = std::move(artifact);
  return Status();
}
