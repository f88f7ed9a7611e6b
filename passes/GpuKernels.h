//===- GpuKernels.h - gpu.launch kernels of the CUDA lowering ---*- C++ -*-===//
//
// Builders for the memory-bound kernels of a decode step on NVIDIA GPUs,
// called on tensors: each reads its operands through read-only buffers,
// writes a fresh allocation in one or two `gpu.launch` ops and returns it as
// a tensor, so that one-shot bufferization sees an ordinary producer.
//
// Shape rules (batch-1 decode is memory bound): one warp per weight row,
// each lane loading 16 bytes of the row per step (coalesced across the
// warp), weights widened to f32 in registers, several accumulators per lane
// to keep loads in flight, and a butterfly of warp shuffles for the sum.
// Expert indices and active neurons stay in device memory.
//
//===----------------------------------------------------------------------===//

#ifndef MOEC_PASSES_GPUKERNELS_H
#define MOEC_PASSES_GPUKERNELS_H

#include "dialects/kernel/IR/KernelOps.h"
#include "dialects/moe/IR/MoeAttrs.h"
#include "mlir/IR/Builders.h"

namespace mlir::moe {

/// y [T, N] = x [T, K] (f32) times w [N, K] transposed.
Value buildGpuMatvec(OpBuilder &b, Location loc, Value x, Value w,
                     kernel::GpuMappingAttr mapping);

/// act [I] = act(gate x, up x) for x [K] and gate, up [I, K], a warp per
/// neuron; for dReLU the up row is read only where the gate product is
/// positive, and with `predicted` [I] neither row where the predictor's
/// logit is below `threshold`.
Value buildGpuGateUp(OpBuilder &b, Location loc, Value x, Value gate, Value up,
                     Activation act, Value predicted, FloatAttr threshold,
                     kernel::GpuMappingAttr mapping);

/// y [H] = sum over n of act[n] * w[n, :] for a neuron-major w [I, H],
/// reading only the rows of non-zero act[n]: blocks split the neurons and
/// the columns, write partial sums, and a second kernel adds them.
Value buildGpuSparseMatvecNeuronMajor(OpBuilder &b, Location loc, Value w,
                                      Value activation,
                                      kernel::GpuMappingAttr mapping);

/// The learned router of kernel.router_top_k for x [T, K] and gate [E, K]
/// in one kernel per token: the E logits (a warp each, into workgroup
/// memory), then the probabilities, top-k (first index on ties), weights
/// and normalisation by one thread. Returns the weights [T, topK] (f32) and
/// expert ids [T, topK] of `idType`.
std::pair<Value, Value>
buildGpuRouter(OpBuilder &b, Location loc, Value x, Value gate, int64_t topK,
               kernel::RouterScores selection, kernel::RouterScores weighting,
               bool renormalize, std::optional<double> nullBias, Type idType,
               kernel::GpuMappingAttr mapping);

} // namespace mlir::moe

#endif // MOEC_PASSES_GPUKERNELS_H
