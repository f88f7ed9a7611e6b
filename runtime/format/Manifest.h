//===- Manifest.h - the shapes an artifact's code was compiled for -*- C++ -*-===//
//
// The code of every artifact exports a constant array of int64_t,
// `moec_manifest` (the pass moe-export-manifest emits it from the entry
// point's signature): the shapes its buffers and loops were compiled for.
// The runtime compares them with the header's before it sizes a buffer, so
// that a header that disagrees with its code (corrupt, or edited with its
// checksum fixed) is an error, not an out-of-bounds access. This header is
// the one statement of the layout, for the pass and the runtime.
//
//===----------------------------------------------------------------------===//

#ifndef MOEC_RUNTIME_FORMAT_MANIFEST_H
#define MOEC_RUNTIME_FORMAT_MANIFEST_H

#include <cstdint>

namespace moec {

inline constexpr const char *kManifestSymbol = "moec_manifest";

/// The entries of the array.
enum ManifestEntry : int {
  /// kManifestVersion.
  kManifestLayout,
  /// Rows of the embedding table: token ids must be below this.
  kManifestEmbeddingRows,
  /// The rank of forward's output (1: one score vector for the sequence; 2:
  /// a row per token) and its row width (vocab or labels).
  kManifestOutputRank,
  kManifestOutputWidth,
  /// The KV cache [layers, 2, positions, kv heads, head dim] and its
  /// element type (ManifestCacheType).
  kManifestLayers,
  kManifestKvHeads,
  kManifestHeadDim,
  kManifestKvCacheDType,
  kManifestEntries
};

inline constexpr int64_t kManifestVersion = 1;

/// A KV cache element type as the manifest states it: artifact::DType's
/// values (the runtime checks that they agree), written here so that the
/// pass that emits the manifest needs no flatbuffers schema.
enum ManifestCacheType : int64_t {
  kManifestCacheBF16 = 0,
  kManifestCacheF16 = 1,
  kManifestCacheF32 = 2,
};

} // namespace moec

#endif // MOEC_RUNTIME_FORMAT_MANIFEST_H
