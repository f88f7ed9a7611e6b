//===- moec-run.cpp - run .moec artifacts -------------------------------===//
//
// moec-run --info model.moec
//
// Part of the runtime: links no LLVM or MLIR.
//
//===----------------------------------------------------------------------===//

#include "runtime/Artifact.h"

#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <string>

namespace {

const char *kUsage = "usage: moec-run --info MODEL.moec\n"
                     "\n"
                     "  --info     print the artifact's header and check its "
                     "segments\n"
                     "  --help     print this text\n";

void printInfo(const moec::Artifact &artifact) {
  namespace a = moec::artifact;
  const a::Header &h = artifact.header();
  auto s = [](const flatbuffers::String *str) {
    return str ? str->c_str() : "";
  };
  std::printf("%s: moec artifact, format %u, %" PRIu64 " bytes, compiled by "
              "moec %s\n",
              artifact.path().c_str(), h.format_version(),
              artifact.fileSize(), s(h.compiler_version()));
  const a::ModelConfig &c = *h.config();
  std::printf("model:    %s, %" PRId64 " layers, hidden %" PRId64
              ", vocab %" PRId64 ", KV %" PRId64 " heads x %" PRId64 "\n",
              s(c.architecture()), c.num_layers(), c.hidden_size(),
              c.vocab_size(), c.num_kv_heads(), c.head_dim());
  const a::Target &t = *h.target();
  std::printf("target:   %s %s, cpu %s, features %s\n",
              a::EnumNameTargetKind(t.kind()), s(t.triple()), s(t.cpu()),
              t.features() && t.features()->size() ? t.features()->c_str()
                                                   : "(none)");
  if (h.segments())
    for (const a::Segment *seg : *h.segments())
      std::printf("segment:  %-9s offset %" PRIu64 ", %" PRIu64
                  " bytes, xxh3 %016" PRIx64 "\n",
                  a::EnumNameSegmentKind(seg->kind()), seg->offset(),
                  seg->size(), seg->checksum());
  uint64_t weightBytes = 0;
  size_t weightCount = h.weights() ? h.weights()->size() : 0;
  if (h.weights())
    for (const a::Weight *w : *h.weights())
      weightBytes += w->size();
  std::printf("weights:  %zu tensors, %" PRIu64 " bytes\n", weightCount,
              weightBytes);
  if (!h.entry_points() || h.entry_points()->size() == 0)
    std::printf("code:     none (compiled without a code generator)\n");
  else
    for (const a::EntryPoint *e : *h.entry_points())
      std::printf("entry:    %s -> %s\n", s(e->name()), s(e->symbol()));
}

} // namespace

int main(int argc, char **argv) {
  bool info = false;
  std::string path;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--help") || !std::strcmp(argv[i], "-h")) {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (!std::strcmp(argv[i], "--info")) {
      info = true;
    } else if (argv[i][0] == '-') {
      std::fprintf(stderr, "moec-run: error: unknown option '%s'\n%s",
                   argv[i], kUsage);
      return 2;
    } else if (path.empty()) {
      path = argv[i];
    } else {
      std::fprintf(stderr, "moec-run: error: more than one model given\n");
      return 2;
    }
  }
  if (path.empty()) {
    std::fprintf(stderr, "moec-run: error: no model given\n%s", kUsage);
    return 2;
  }

  moec::Artifact artifact;
  if (moec::Status status = moec::Artifact::open(path, artifact); !status) {
    std::fprintf(stderr, "moec-run: error: %s\n", status.message().c_str());
    return 1;
  }
  if (info) {
    printInfo(artifact);
    return 0;
  }
  if (artifact.segment(moec::artifact::SegmentKind::Code).size == 0) {
    std::fprintf(stderr,
                 "moec-run: error: %s holds no code (it was compiled without "
                 "a code generator)\n",
                 path.c_str());
    return 1;
  }
  std::fprintf(stderr, "moec-run: error: running models is not implemented "
                       "yet\n");
  return 1;
}
