//===- Artifact.cpp - reading .moec artifacts ---------------------------===//

#include "runtime/Artifact.h"

#include <xxhash.h>

#include <cerrno>
#include <cstring>
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

Bytes Artifact::segment(artifact::SegmentKind kind) const {
  if (const auto *segments = hdr->segments())
    for (const artifact::Segment *s : *segments)
      if (s->kind() == kind)
        return {static_cast<const uint8_t *>(map) + s->offset(),
                static_cast<size_t>(s->size())};
  return {};
}

Status Artifact::open(const std::string &path, Artifact &out,
                      bool verifyChecksums) {
  auto fail = [&](Status status) { return status.withContext(path); };
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return fail(Status::error("cannot open: %s", std::strerror(errno)));
  struct stat info;
  if (fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    ::close(fd);
    return fail(Status::error("not a regular file"));
  }
  size_t size = static_cast<size_t>(info.st_size);
  if (size < 16) {
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
  const auto *bytes = static_cast<const uint8_t *>(map);

  if (std::memcmp(bytes, kArtifactMagic, 8) != 0)
    return fail(Status::error("not a moec artifact (bad magic)"));
  uint64_t headerSize = 0;
  for (int i = 0; i < 8; ++i)
    headerSize |= uint64_t(bytes[8 + i]) << (8 * i);
  if (headerSize > size - 16)
    return fail(Status::error("truncated: the header needs %llu bytes, the "
                              "file has %zu after the prefix",
                              (unsigned long long)headerSize, size - 16));
  const uint8_t *header = bytes + 16;
  flatbuffers::Verifier verifier(header, headerSize);
  if (!artifact::VerifyHeaderBuffer(verifier))
    return fail(Status::error("corrupt header (flatbuffers verification "
                              "failed)"));
  artifact.hdr = artifact::GetHeader(header);
  const artifact::Header &h = *artifact.hdr;
  if (h.format_version() != kArtifactFormatVersion)
    return fail(Status::error("format version %u, this runtime reads %u; "
                              "recompile the model",
                              h.format_version(), kArtifactFormatVersion));
  if (!h.config() || !h.target())
    return fail(Status::error("corrupt header: no model config or target"));

  const artifact::Segment *weights = nullptr;
  if (const auto *segments = h.segments()) {
    for (const artifact::Segment *s : *segments) {
      const char *kind = artifact::EnumNameSegmentKind(s->kind());
      if (s->offset() % kSegmentAlignment != 0 ||
          s->offset() < 16 + headerSize || s->offset() > size ||
          s->size() > size - s->offset())
        return fail(Status::error("truncated or corrupt: the %s segment "
                                  "[%llu, +%llu) lies outside the file "
                                  "(%zu bytes)",
                                  kind, (unsigned long long)s->offset(),
                                  (unsigned long long)s->size(), size));
      if (verifyChecksums &&
          segmentChecksum(bytes + s->offset(), s->size()) != s->checksum())
        return fail(Status::error("the %s segment fails its checksum; the "
                                  "file is corrupt",
                                  kind));
      if (s->kind() == artifact::SegmentKind::Weights)
        weights = s;
    }
  }
  if (const auto *list = h.weights()) {
    for (const artifact::Weight *w : *list) {
      if (!weights || w->offset() > weights->size() ||
          w->size() > weights->size() - w->offset())
        return fail(Status::error("corrupt header: weight '%s' lies outside "
                                  "the weights segment",
                                  w->name() ? w->name()->c_str() : "?"));
    }
  }
  out = std::move(artifact);
  return Status();
}
