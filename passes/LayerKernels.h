//===- LayerKernels.h - norm, RoPE, KV cache and attention ------*- C++ -*-===//
//
// One statement of each layer kernel on tensors (linalg.generic ops and scf
// loops), for the kernel ops' CPU and GPU lowerings and for the reference
// lowering of the moe ops: their parallel dimensions become OpenMP loops on
// a CPU and threads on a GPU (moe-map-to-gpu).
//
//===----------------------------------------------------------------------===//

#ifndef MOEC_PASSES_LAYERKERNELS_H
#define MOEC_PASSES_LAYERKERNELS_H

#include "mlir/IR/Builders.h"
#include "llvm/ADT/SmallVector.h"

#include <optional>

namespace mlir::moe {

/// x [..., H] (any float) * rsqrt(mean(x^2) + eps) * weight [H], in f32.
Value buildRmsNorm(OpBuilder &b, Location loc, Value x, Value weight,
                   double eps);

/// (x - mean) * rsqrt(var + eps) * weight [H] + bias [H] over the last
/// dimension of x [..., H] (any float), in f32.
Value buildLayerNorm(OpBuilder &b, Location loc, Value x, Value weight,
                     Value bias, double eps);

/// x [T, heads, headDim] rotated by positions [T] / theta^(2i / headDim):
/// dimension i paired with i + headDim/2, or with `interleaved` 2i with
/// 2i+1. f32 result.
Value buildRope(OpBuilder &b, Location loc, Value x, Value positions,
                double theta, int64_t headDim, bool interleaved,
                std::optional<ArrayRef<float>> invFreq = std::nullopt);

/// k and v [T, kvHeads, headDim] (f32) stored at rows offsets[t] +
/// positions[t] (no offsets: positions[t]) of the keys and values of a
/// layer's cache [2, S, kvHeads, headDim], in the cache's element type: the
/// updated cache.
Value buildCacheWrite(OpBuilder &b, Location loc, Value k, Value v, Value cache,
                      Value positions, Value offsets = Value());

struct AttentionShape {
  int64_t heads, kvHeads, headDim;
  double scale;
  bool causal;
  std::optional<int64_t> window;
  /// ALiBi's slopes, one per head (empty: none): query position i's score
  /// of key j gets -slopes[h] * (i - j).
  SmallVector<float> alibiSlopes;
  /// On a CPU, the f32 lanes of the kernel's vectors (a task per query
  /// and head, over the rows it may see only); 0 on a GPU, whose loop nest
  /// has a score per cache row.
  int64_t lanes = 0;
};

/// Attention of q [T, heads, headDim] (f32) at ascending, contiguous
/// positions [T] over the live rows 0 .. positions[T-1] of a layer's cache
/// [2, S, kvHeads, headDim], masked as `shape` says (causal, sliding
/// window), softmax in f32. No row past the live ones is read. Without
/// `shape.lanes` (a GPU) there is a score per cache row (hidden past the
/// live ones), so that no loop's parallel extent depends on the positions;
/// each key is read only where visible. With `offsets` (causal only) the
/// queries belong to a batch of sequences, query t's at rows offsets[t] ..
/// offsets[t] + positions[t] (on a GPU, a score per row of the whole cache
/// still, the other sequences' rows hidden).
Value buildAttention(OpBuilder &b, Location loc, Value q, Value cache,
                     Value positions, Value offsets,
                     const AttentionShape &shape);

} // namespace mlir::moe

#endif // MOEC_PASSES_LAYERKERNELS_H
