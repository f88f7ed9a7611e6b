//===- MemRef.h - the C interface of generated entry points -----*- C++ -*-===//

#ifndef MOEC_RUNTIME_MEMREF_H
#define MOEC_RUNTIME_MEMREF_H

#include <cstdint>

namespace moec {

/// A ranked memref descriptor, as MLIR's C interface passes it.
template <typename T, int Rank> struct MemRef {
  T *allocated;
  T *aligned;
  int64_t offset;
  int64_t sizes[Rank];
  int64_t strides[Rank];
};

/// A contiguous row-major descriptor of `data`.
template <typename T, int Rank>
MemRef<T, Rank> describe(T *data, const int64_t (&sizes)[Rank]) {
  MemRef<T, Rank> m{data, data, 0, {}, {}};
  int64_t stride = 1;
  for (int i = Rank - 1; i >= 0; --i) {
    m.sizes[i] = sizes[i];
    m.strides[i] = stride;
    stride *= sizes[i];
  }
  return m;
}

/// An element of the KV cache: f32, f16 or bf16 as the artifact's
/// kv_cache_dtype says (a descriptor's sizes and strides count elements).
struct KvElement;

/// forward(weights, tokens, positions, cache_offsets, kv_cache, output_rows,
/// out): token t is at position positions[t] of the sequence whose
/// position 0 is cache row cache_offsets[t]; `out` has rank 2
/// ([output_rows, vocab] or [output_rows, labels]: the last output_rows
/// tokens') or, for sequence classification, rank 1.
template <int OutRank>
using ForwardFn = void (*)(MemRef<uint8_t, 1> *, MemRef<int32_t, 1> *,
                           MemRef<int32_t, 1> *, MemRef<int32_t, 1> *,
                           MemRef<KvElement, 5> *, int64_t,
                           MemRef<float, OutRank> *);

} // namespace moec

#endif // MOEC_RUNTIME_MEMREF_H
