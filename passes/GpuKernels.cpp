//===- GpuKernels.cpp - gpu.launch kernels of the CUDA lowering ---------===//

#include "passes/GpuKernels.h"
#include "passes/Kernels.h"
#include "passes/QuantizedReads.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "llvm/Support/MathExtras.h"

#include <limits>
#include <tuple>

using namespace mlir;
using namespace mlir::moe;

namespace {

constexpr int64_t kWarpSize = 32;
/// Bytes one lane loads at a time: the widest coalesced global load.
constexpr int64_t kLoadBytes = 16;
/// Listed rows a thread of the sparse product loads before it adds them:
/// as many loads in flight per thread as the CPU kernel has streams.
constexpr int64_t kGpuRowStreams = 4;

/// A read-only buffer of `tensor`. Strides and offset are dynamic but for
/// the unit innermost stride, so that whatever buffer bufferization picks
/// (a weight view, an expert's slice, a row of activations) fits.
Value readBuffer(ImplicitLocOpBuilder &b, Value tensor) {
  auto type = cast<RankedTensorType>(tensor.getType());
  SmallVector<int64_t> strides(type.getRank(), ShapedType::kDynamic);
  strides.back() = 1;
  auto layout =
      StridedLayoutAttr::get(b.getContext(), ShapedType::kDynamic, strides);
  return bufferization::ToBufferOp::create(
      b, MemRefType::get(type.getShape(), type.getElementType(), layout),
      tensor, /*read_only=*/true);
}

/// A fresh f32 (or `elem`) buffer; `dynamic` gives its dynamic sizes.
Value allocBuffer(ImplicitLocOpBuilder &b, ArrayRef<int64_t> shape,
                  ValueRange dynamic, Type elem = {}) {
  if (!elem)
    elem = b.getF32Type();
  return memref::AllocOp::create(b, MemRefType::get(shape, elem), dynamic);
}

/// The tensor a kernel wrote into `buffer`.
Value asTensor(ImplicitLocOpBuilder &b, Value buffer) {
  auto type = cast<MemRefType>(buffer.getType());
  return bufferization::ToTensorOp::create(
      b, RankedTensorType::get(type.getShape(), type.getElementType()), buffer,
      /*restrict=*/true, /*writable=*/true);
}

struct LaunchIds {
  Value blockX, blockY, thread;
  ArrayRef<BlockArgument> workgroup;
};

/// A launch of gridX x gridY blocks of `threads` threads; `body` fills it.
void launch(ImplicitLocOpBuilder &b, Value gridX, Value gridY, int64_t threads,
            TypeRange workgroup, function_ref<void(const LaunchIds &)> body) {
  Value one = cIndex(b, 1);
  auto op =
      gpu::LaunchOp::create(b, gridX, gridY, one, cIndex(b, threads), one, one,
                            /*dynamicSharedMemorySize=*/nullptr,
                            /*asyncTokenType=*/nullptr,
                            /*asyncDependencies=*/ValueRange{}, workgroup);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&op.getBody().front());
  body({op.getBlockIds().x, op.getBlockIds().y, op.getThreadIds().x,
        op.getWorkgroupAttributions()});
  gpu::TerminatorOp::create(b);
}

/// Runs `then` where `cond` holds.
void ifThen(ImplicitLocOpBuilder &b, Value cond, function_ref<void()> then) {
  auto op = scf::IfOp::create(b, cond, /*withElseRegion=*/false);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(op.thenBlock());
  then();
}

Value cmp(ImplicitLocOpBuilder &b, arith::CmpIPredicate pred, Value lhs,
          Value rhs) {
  return arith::CmpIOp::create(b, pred, lhs, rhs);
}

/// Runs `body` for the threads whose `item` is below `items`; no check when
/// the launch has exactly `items` (`perBlock` divides it).
void forItemsBelow(ImplicitLocOpBuilder &b, Value item, int64_t items,
                   int64_t perBlock, function_ref<void()> body) {
  if (items % perBlock == 0)
    return body();
  ifThen(b, cmp(b, arith::CmpIPredicate::ult, item, cIndex(b, items)), body);
}

/// A fresh [T, columns] buffer for the rows of x [T, K] (T its buffer
/// `xb`'s first size), and T.
std::pair<Value, Value> perTokenBuffer(ImplicitLocOpBuilder &b, Value xb,
                                       int64_t columns, Type elem = {}) {
  auto type = cast<MemRefType>(xb.getType());
  Value tokens = memref::DimOp::create(b, xb, 0);
  SmallVector<Value> dynamic;
  if (type.isDynamicDim(0))
    dynamic.push_back(tokens);
  return {allocBuffer(b, {type.getDimSize(0), columns}, dynamic, elem), tokens};
}

/// vector<width x elem> at `indices` of `buffer`, aligned as a whole load
/// when it spans at least 16 bytes and `aligned` says the buffer's pieces
/// are.
Value loadVector(ImplicitLocOpBuilder &b, Value buffer, ValueRange indices,
                 int64_t width, bool aligned = true) {
  Type elem = cast<MemRefType>(buffer.getType()).getElementType();
  auto type = VectorType::get({width}, elem);
  llvm::MaybeAlign align;
  if (aligned && width * elem.getIntOrFloatBitWidth() / 8 >= kLoadBytes)
    align = llvm::Align(kLoadBytes);
  return vector::LoadOp::create(b, type, buffer, indices,
                                /*nontemporal=*/false, align);
}

/// A lane's piece of a weight row: its values as f32, times `scale` (none:
/// 1).
struct Piece {
  Value values, scale;
};

/// How the kernels read a weight's rows: 16 bytes a lane at a time, widened
/// to f32 in registers. A float row gives 16 / (its bytes per value) values
/// a piece; a quantized one (QuantizedReads.h) the quants of its blocks, 16
/// values of Q8_0 or 32 of Q4_0 a piece, with their block's scale.
class WeightRows {
public:
  /// Made before the launch: the buffer the kernel reads (a quantized
  /// weight's blocks), for rows of `length` values.
  WeightRows(ImplicitLocOpBuilder &b, Value w, int64_t length)
      : length(length) {
    Value blocks = quantizedBlocks(b, b.getLoc(), w);
    if (!blocks) {
      buffer = readBuffer(b, w);
      Type elem = cast<MemRefType>(buffer.getType()).getElementType();
      int64_t perLoad = kLoadBytes / (elem.getIntOrFloatBitWidth() / 8);
      width = length % perLoad == 0 ? perLoad : 1;
      return;
    }
    format = blockFormatOf(blocks.getType());
    buffer = readBuffer(b, blocks);
    width = *format == BlockFormat::Q4_0 ? 2 * kLoadBytes : kLoadBytes;
    // Pieces sit 16 bytes apart within a row's groups of blocks (whose
    // scales take 32 bytes): whole loads where rows start 16-byte aligned.
    aligned = length / kBlockValues * blockBytes(*format) % kLoadBytes == 0;
  }

  /// Values a piece holds; it divides the row.
  int64_t getWidth() const { return width; }
  /// Lanes of an accumulator of pieces: a float piece's own, or 4 for a
  /// quantized piece (whose products are summed before the scale).
  int64_t accLanes() const { return format ? 4 : width; }

  /// The piece of `row` from value `k` on (a multiple of the width).
  Piece load(ImplicitLocOpBuilder &b, Value row, Value k) const {
    if (!format)
      return {widenToF32(b, b.getLoc(), loadVector(b, buffer, {row, k}, width)),
              Value()};
    Value kb = arith::DivUIOp::create(b, k, cIndex(b, kBlockValues));
    Value inBlock = arith::RemUIOp::create(b, k, cIndex(b, kBlockValues));
    Value quants = loadVector(
        b, buffer, {row, quantOffset(b, b.getLoc(), *format, kb, inBlock)},
        kLoadBytes, aligned);
    if (*format == BlockFormat::Q4_0) {
      // Byte j holds value j (low nibble) and j + 16 (high): both halves of
      // the block, in 32-bit words for the shift and mask.
      auto words = VectorType::get({kLoadBytes / 4}, b.getI32Type());
      Value packed = vector::BitCastOp::create(b, words, quants);
      Value mask = arith::ConstantOp::create(
          b, DenseElementsAttr::get(words, b.getI32IntegerAttr(0x0F0F0F0F)));
      Value four = arith::ConstantOp::create(
          b, DenseElementsAttr::get(words, b.getI32IntegerAttr(4)));
      auto bytes = VectorType::get({kLoadBytes}, b.getI8Type());
      Value low = vector::BitCastOp::create(
          b, bytes, arith::AndIOp::create(b, packed, mask));
      Value high = vector::BitCastOp::create(
          b, bytes,
          arith::AndIOp::create(b, arith::ShRUIOp::create(b, packed, four),
                                mask));
      SmallVector<int64_t> both = llvm::to_vector(llvm::seq<int64_t>(0, width));
      Value nibbles = vector::ShuffleOp::create(b, low, high, both);
      auto all = VectorType::get({width}, b.getI8Type());
      quants = arith::SubIOp::create(
          b, nibbles,
          arith::ConstantOp::create(
              b, DenseElementsAttr::get(all, b.getI8IntegerAttr(8))));
    }
    Value values = arith::SIToFPOp::create(
        b, VectorType::get({width}, b.getF32Type()), quants);
    int64_t rowBlocks = length / kBlockValues;
    Value scaleBytes = vector::LoadOp::create(
        b, VectorType::get({2}, b.getI8Type()), buffer,
        ValueRange{row, scaleOffset(b, b.getLoc(), *format, rowBlocks, kb)},
        /*nontemporal=*/false, llvm::MaybeAlign(2));
    Value half = vector::ExtractOp::create(
        b,
        vector::BitCastOp::create(b, VectorType::get({1}, b.getF16Type()),
                                  scaleBytes),
        ArrayRef<int64_t>{0});
    return {values, arith::ExtFOp::create(b, b.getF32Type(), half)};
  }

  /// acc (of accLanes) + the piece times `x` (as many f32 values).
  Value multiplyAdd(ImplicitLocOpBuilder &b, const Piece &piece, Value x,
                    Value acc) const {
    if (!piece.scale)
      return vector::FMAOp::create(b, piece.values, x, acc);
    // The products in 4 lanes, then scaled once.
    int64_t lanes = accLanes();
    auto type = VectorType::get({lanes}, b.getF32Type());
    Value sum = arith::ConstantOp::create(
        b, DenseElementsAttr::get(type, b.getF32FloatAttr(0)));
    for (int64_t i = 0; i < width; i += lanes) {
      SmallVector<int64_t> slice =
          llvm::to_vector(llvm::seq<int64_t>(i, i + lanes));
      auto part = [&](Value v) -> Value {
        return vector::ShuffleOp::create(b, v, v, slice);
      };
      sum = vector::FMAOp::create(b, part(piece.values), part(x), sum);
    }
    return vector::FMAOp::create(
        b, vector::BroadcastOp::create(b, type, piece.scale), sum, acc);
  }

private:
  Value buffer;
  std::optional<BlockFormat> format;
  int64_t length, width;
  bool aligned = true;
};

/// This lane's part of dot(w[row, :], x[xRow, :]) (x[:] when xRow is
/// null): the lanes of a warp take consecutive 16-byte pieces of the row,
/// `unroll` pieces apart, each into an accumulator of its own.
Value laneDot(ImplicitLocOpBuilder &b, const WeightRows &w, Value row, Value x,
              Value xRow, int64_t length, Value lane,
              kernel::GpuMappingAttr mapping) {
  int64_t width = w.getWidth();
  int64_t chunk = kWarpSize * width;
  int64_t unroll =
      std::max<int64_t>(1, std::min<int64_t>(mapping.getUnroll(),
                                             llvm::divideCeil(length, chunk)));
  int64_t step = chunk * unroll;
  auto accType = VectorType::get({w.accLanes()}, b.getF32Type());
  Value zero = arith::ConstantOp::create(
      b, DenseElementsAttr::get(accType, b.getF32FloatAttr(0)));
  Value start = arith::MulIOp::create(b, lane, cIndex(b, width));
  SmallVector<Value> init(unroll, zero);
  auto loop = scf::ForOp::create(
      b, start, cIndex(b, length), cIndex(b, step), init,
      [&](OpBuilder &nb, Location loc, Value at, ValueRange accs) {
        ImplicitLocOpBuilder ib(loc, nb);
        SmallVector<Value> next;
        for (int64_t u = 0; u < unroll; ++u) {
          Value k = arith::AddIOp::create(ib, at, cIndex(ib, u * chunk));
          auto fma = [&](ImplicitLocOpBuilder &fb) -> Value {
            SmallVector<Value> xIndex;
            if (xRow)
              xIndex.push_back(xRow);
            xIndex.push_back(k);
            Value xv = loadVector(fb, x, xIndex, width);
            return w.multiplyAdd(fb, w.load(fb, row, k), xv, accs[u]);
          };
          // The loop bound covers the first piece; the others need a check
          // unless the row is a whole number of steps.
          if (u == 0 || length % step == 0) {
            next.push_back(fma(ib));
            continue;
          }
          Value inside =
              cmp(ib, arith::CmpIPredicate::ult, k, cIndex(ib, length));
          auto guarded = scf::IfOp::create(
              ib, inside,
              [&](OpBuilder &tb, Location tl) {
                ImplicitLocOpBuilder tib(tl, tb);
                scf::YieldOp::create(tib, fma(tib));
              },
              [&](OpBuilder &eb, Location el) {
                scf::YieldOp::create(eb, el, accs[u]);
              });
          next.push_back(guarded.getResult(0));
        }
        scf::YieldOp::create(ib, next);
      });
  Value sum = loop.getResult(0);
  for (int64_t u = 1; u < unroll; ++u)
    sum = arith::AddFOp::create(b, sum, loop.getResult(u), kReductionFlags);
  return vector::ReductionOp::create(b, vector::CombiningKind::ADD, sum,
                                     /*acc=*/Value(), kReductionFlags);
}

/// The sum of `v` over the warp, in every lane: a butterfly of shuffles.
Value warpSum(ImplicitLocOpBuilder &b, Value v) {
  for (int32_t offset = kWarpSize / 2; offset >= 1; offset /= 2) {
    auto shuffle =
        gpu::ShuffleOp::create(b, v, offset, kWarpSize, gpu::ShuffleMode::XOR);
    v = arith::AddFOp::create(b, v, shuffle.getShuffleResult(),
                              kReductionFlags);
  }
  return v;
}

struct WarpIds {
  Value warp, lane;
};

WarpIds warpIds(ImplicitLocOpBuilder &b, Value thread) {
  Value size = cIndex(b, kWarpSize);
  return {arith::DivUIOp::create(b, thread, size),
          arith::RemUIOp::create(b, thread, size)};
}

/// Lane 0 stores `v` at `indices` of `buffer`.
void storeFromLane0(ImplicitLocOpBuilder &b, Value lane, Value v, Value buffer,
                    ValueRange indices) {
  ifThen(b, cmp(b, arith::CmpIPredicate::eq, lane, cIndex(b, 0)),
         [&] { memref::StoreOp::create(b, v, buffer, indices); });
}

/// Runs `body` with the row of the calling warp, for row-per-warp kernels
/// over `rows` rows; warps past the last row do nothing.
void forWarpRow(ImplicitLocOpBuilder &b, const LaunchIds &ids, int64_t rows,
                kernel::GpuMappingAttr mapping,
                function_ref<void(Value row, Value lane)> body) {
  WarpIds w = warpIds(b, ids.thread);
  Value row = arith::AddIOp::create(
      b, arith::MulIOp::create(b, ids.blockX, cIndex(b, mapping.getWarps())),
      w.warp);
  forItemsBelow(b, row, rows, mapping.getWarps(), [&] { body(row, w.lane); });
}

Value blocksFor(ImplicitLocOpBuilder &b, int64_t items, int64_t perBlock) {
  return cIndex(b, llvm::divideCeil(items, perBlock));
}

} // namespace

Value mlir::moe::buildGpuMatvec(OpBuilder &builder, Location loc, Value x,
                                Value w, kernel::GpuMappingAttr mapping) {
  ImplicitLocOpBuilder b(loc, builder);
  auto wType = cast<RankedTensorType>(w.getType());
  int64_t rows = wType.getDimSize(0), length = wType.getDimSize(1);
  Value xb = readBuffer(b, x);
  WeightRows wb(b, w, length);
  Value out, tokens;
  std::tie(out, tokens) = perTokenBuffer(b, xb, rows);
  launch(b, blocksFor(b, rows, mapping.getWarps()), tokens,
         mapping.getWarps() * kWarpSize, {}, [&](const LaunchIds &ids) {
           forWarpRow(b, ids, rows, mapping, [&](Value row, Value lane) {
             Value dot = warpSum(
                 b, laneDot(b, wb, row, xb, ids.blockY, length, lane, mapping));
             storeFromLane0(b, lane, dot, out, {ids.blockY, row});
           });
         });
  return asTensor(b, out);
}

Value mlir::moe::buildGpuGateUp(OpBuilder &builder, Location loc, Value x,
                                Value gate, Value up, Activation act,
                                Value predicted, FloatAttr threshold,
                                kernel::GpuMappingAttr mapping) {
  ImplicitLocOpBuilder b(loc, builder);
  auto wType = cast<RankedTensorType>(gate.getType());
  int64_t neurons = wType.getDimSize(0), length = wType.getDimSize(1);
  Value xb = readBuffer(b, x);
  WeightRows gb(b, gate, length), ub(b, up, length);
  Value pb = predicted ? readBuffer(b, predicted) : Value();
  Value out = allocBuffer(b, {neurons}, {});
  launch(b, blocksFor(b, neurons, mapping.getWarps()), cIndex(b, 1),
         mapping.getWarps() * kWarpSize, {}, [&](const LaunchIds &ids) {
           forWarpRow(b, ids, neurons, mapping, [&](Value row, Value lane) {
             auto rowSum = [&](ImplicitLocOpBuilder &ib,
                               const WeightRows &w) {
               return warpSum(
                   ib, laneDot(ib, w, row, xb, Value(), length, lane, mapping));
             };
             if (act != Activation::DReLU) {
               storeFromLane0(b, lane,
                              gatedActivation(b, b.getLoc(), act, rowSum(b, gb),
                                              rowSum(b, ub)),
                              out, {row});
               return;
             }
             Value zero = cF32(b, 0);
             // dReLU: every lane holds the same gate sum (and reads the
             // same logit), so the branches around the rows are uniform and
             // skipped rows are not read.
             auto drelu = [&](ImplicitLocOpBuilder &ib) -> Value {
               Value g = rowSum(ib, gb);
               Value positive = arith::CmpFOp::create(
                   ib, arith::CmpFPredicate::OGT, g, zero);
               auto product = scf::IfOp::create(
                   ib, positive,
                   [&](OpBuilder &tb, Location tl) {
                     ImplicitLocOpBuilder yb(tl, tb);
                     Value relu =
                         arith::MaximumFOp::create(yb, rowSum(yb, ub), zero);
                     scf::YieldOp::create(
                         yb, ValueRange{arith::MulFOp::create(yb, g, relu)});
                   },
                   [&](OpBuilder &eb, Location el) {
                     scf::YieldOp::create(eb, el, zero);
                   });
               return product.getResult(0);
             };
             Value value;
             if (pb) {
               Value logit = memref::LoadOp::create(b, pb, ValueRange{row});
               Value computed = arith::CmpFOp::create(
                   b, arith::CmpFPredicate::OGE, logit,
                   arith::ConstantOp::create(b, threshold));
               value = scf::IfOp::create(
                           b, computed,
                           [&](OpBuilder &tb, Location tl) {
                             ImplicitLocOpBuilder ib(tl, tb);
                             scf::YieldOp::create(ib, drelu(ib));
                           },
                           [&](OpBuilder &eb, Location el) {
                             scf::YieldOp::create(eb, el, zero);
                           })
                           .getResult(0);
             } else {
               value = drelu(b);
             }
             storeFromLane0(b, lane, value, out, {row});
           });
         });
  return asTensor(b, out);
}

Value mlir::moe::buildGpuSparseMatvecNeuronMajor(
    OpBuilder &builder, Location loc, Value w, Value activation,
    kernel::GpuMappingAttr mapping) {
  ImplicitLocOpBuilder b(loc, builder);
  auto wType = cast<RankedTensorType>(w.getType());
  int64_t neurons = wType.getDimSize(0), columns = wType.getDimSize(1);
  WeightRows wb(b, w, columns);
  Value ab = readBuffer(b, activation);
  int64_t width = wb.getWidth();
  int64_t threads = mapping.getWarps() * kWarpSize;
  int64_t perBlock = threads * width;
  int64_t chunk = llvm::divideCeil(
      neurons,
      std::max<int64_t>(1, std::min<int64_t>(mapping.getSplits(), neurons)));
  int64_t splits = llvm::divideCeil(neurons, chunk);
  auto accType = VectorType::get({width}, b.getF32Type());
  Type i32 = b.getI32Type();
  auto workgroup = [&](int64_t size, Type elem) {
    return MemRefType::get({size}, elem, MemRefLayoutAttrInterface(),
                           gpu::AddressSpaceAttr::get(
                               b.getContext(), gpu::AddressSpace::Workgroup));
  };

  // Partial sums: block (x, y) adds neurons [y chunk, (y + 1) chunk) into
  // its `perBlock` columns of row y. The block first compacts its chunk's
  // active set on the device: warp 0 takes 32 neurons at a time, a ballot
  // of their activity gives each active lane its place in the list
  // (popc of the lanes below it), and the list (neuron, activation) and
  // its length go to workgroup memory. Then every thread reads the listed
  // rows only, kRowStreams at a time, with no branch per neuron.
  Value partial = allocBuffer(b, {splits, columns}, {});
  launch(
      b, blocksFor(b, columns, perBlock), cIndex(b, splits), threads,
      {workgroup(chunk, i32), workgroup(chunk, b.getF32Type()),
       workgroup(1, i32)},
      [&](const LaunchIds &ids) {
        Value listed = ids.workgroup[0], values = ids.workgroup[1],
              length = ids.workgroup[2];
        Value lo = arith::MulIOp::create(b, ids.blockY, cIndex(b, chunk));
        Value hi = arith::MinUIOp::create(
            b, arith::AddIOp::create(b, lo, cIndex(b, chunk)),
            cIndex(b, neurons));
        WarpIds wid = warpIds(b, ids.thread);
        ifThen(b, cmp(b, arith::CmpIPredicate::eq, wid.warp, cIndex(b, 0)), [&] {
          Value lane32 = arith::IndexCastOp::create(b, i32, wid.lane);
          Value below = arith::SubIOp::create(
              b,
              arith::ShLIOp::create(b, arith::ConstantIntOp::create(b, i32, 1),
                                    lane32),
              arith::ConstantIntOp::create(b, i32, 1));
          Value all = arith::ConstantIntOp::create(b, i32, -1);
          auto loop = scf::ForOp::create(
              b, lo, hi, cIndex(b, kWarpSize),
              ValueRange{arith::ConstantIntOp::create(b, i32, 0)},
              [&](OpBuilder &nb, Location nl, Value base, ValueRange st) {
                ImplicitLocOpBuilder ib(nl, nb);
                Value n = arith::AddIOp::create(ib, base, wid.lane);
                Value inside = cmp(ib, arith::CmpIPredicate::ult, n, hi);
                Value a =
                    scf::IfOp::create(
                        ib, inside,
                        [&](OpBuilder &tb, Location tl) {
                          scf::YieldOp::create(
                              tb, tl,
                              ValueRange{memref::LoadOp::create(
                                  tb, tl, ab, ValueRange{n})});
                        },
                        [&](OpBuilder &eb, Location el) {
                          scf::YieldOp::create(eb, el,
                                               ValueRange{cF32(eb, el, 0)});
                        })
                        .getResult(0);
                Value active = arith::CmpFOp::create(
                    ib, arith::CmpFPredicate::UNE, a, cF32(ib, 0));
                Value ballot = NVVM::VoteSyncOp::create(
                    ib, i32, all, active, NVVM::VoteSyncKind::ballot);
                Value place = arith::AddIOp::create(
                    ib, st[0],
                    math::CtPopOp::create(
                        ib, arith::AndIOp::create(ib, ballot, below)));
                ifThen(ib, active, [&] {
                  Value at = arith::IndexCastOp::create(ib, ib.getIndexType(),
                                                        place);
                  memref::StoreOp::create(
                      ib, arith::IndexCastOp::create(ib, i32, n), listed,
                      ValueRange{at});
                  memref::StoreOp::create(ib, a, values, ValueRange{at});
                });
                scf::YieldOp::create(
                    ib, ValueRange{arith::AddIOp::create(
                            ib, st[0], math::CtPopOp::create(ib, ballot))});
              });
          storeFromLane0(b, wid.lane, loop.getResult(0), length,
                         {cIndex(b, 0)});
        });
        gpu::BarrierOp::create(b);

        Value column = arith::MulIOp::create(
            b,
            arith::AddIOp::create(
                b, arith::MulIOp::create(b, ids.blockX, cIndex(b, threads)),
                ids.thread),
            cIndex(b, width));
        auto body = [&] {
          Value count = arith::IndexCastOp::create(
              b, b.getIndexType(),
              memref::LoadOp::create(b, length, ValueRange{cIndex(b, 0)}));
          Value groups = arith::MulIOp::create(
              b,
              arith::DivUIOp::create(b, count, cIndex(b, kGpuRowStreams)),
              cIndex(b, kGpuRowStreams));
          Value zero = arith::ConstantOp::create(
              b, DenseElementsAttr::get(accType, b.getF32FloatAttr(0)));
          // acc + the listed rows j .. j + rows - 1, each loaded before any
          // is added.
          auto addListed = [&](Value from, Value to, int64_t rows, Value acc) {
            return scf::ForOp::create(
                       b, from, to, cIndex(b, rows), ValueRange{acc},
                       [&](OpBuilder &nb, Location nl, Value j,
                           ValueRange in) {
                         ImplicitLocOpBuilder ib(nl, nb);
                         SmallVector<Value> ws, as;
                         for (int64_t k = 0; k < rows; ++k) {
                           Value at = arith::AddIOp::create(ib, j, cIndex(ib, k));
                           Value n = arith::IndexCastOp::create(
                               ib, ib.getIndexType(),
                               memref::LoadOp::create(ib, listed,
                                                      ValueRange{at}));
                           Piece piece = wb.load(ib, n, column);
                           Value a = memref::LoadOp::create(ib, values,
                                                            ValueRange{at});
                           // A quantized row's scale goes with the
                           // activation: one product, not one a value.
                           if (piece.scale)
                             a = arith::MulFOp::create(ib, a, piece.scale);
                           ws.push_back(piece.values);
                           as.push_back(
                               vector::BroadcastOp::create(ib, accType, a));
                         }
                         Value sum = in[0];
                         for (int64_t k = 0; k < rows; ++k)
                           sum = vector::FMAOp::create(ib, as[k], ws[k], sum);
                         scf::YieldOp::create(ib, ValueRange{sum});
                       })
                .getResult(0);
          };
          Value sum =
              addListed(groups, count, 1,
                        addListed(cIndex(b, 0), groups, kGpuRowStreams, zero));
          llvm::MaybeAlign align;
          if (width * 4 >= kLoadBytes)
            align = llvm::Align(kLoadBytes);
          vector::StoreOp::create(b, sum, partial,
                                  ValueRange{ids.blockY, column},
                                  /*nontemporal=*/false, align);
        };
        forItemsBelow(b, column, columns, perBlock, body);
      });

  // The sum of the partial rows, a thread per column.
  Value out = allocBuffer(b, {columns}, {});
  launch(b, blocksFor(b, columns, threads), cIndex(b, 1), threads, {},
         [&](const LaunchIds &ids) {
           Value column = arith::AddIOp::create(
               b, arith::MulIOp::create(b, ids.blockX, cIndex(b, threads)),
               ids.thread);
           auto body = [&] {
             auto loop = scf::ForOp::create(
                 b, cIndex(b, 0), cIndex(b, splits), cIndex(b, 1),
                 ValueRange{cF32(b, 0)},
                 [&](OpBuilder &nb, Location nl, Value s, ValueRange acc) {
                   Value p = memref::LoadOp::create(nb, nl, partial,
                                                    ValueRange{s, column});
                   scf::YieldOp::create(
                       nb, nl,
                       ValueRange{arith::AddFOp::create(nb, nl, acc[0], p)});
                 });
             memref::StoreOp::create(b, loop.getResult(0), out,
                                     ValueRange{column});
           };
           forItemsBelow(b, column, columns, threads, body);
         });
  memref::DeallocOp::create(b, partial);
  return asTensor(b, out);
}

std::pair<Value, Value> mlir::moe::buildGpuRouter(
    OpBuilder &builder, Location loc, Value x, Value gate, int64_t topK,
    kernel::RouterScores selection, kernel::RouterScores weighting,
    bool renormalize, std::optional<double> nullBias, Type idType,
    kernel::GpuMappingAttr mapping) {
  ImplicitLocOpBuilder b(loc, builder);
  auto gType = cast<RankedTensorType>(gate.getType());
  int64_t experts = gType.getDimSize(0), length = gType.getDimSize(1);
  Value xb = readBuffer(b, x);
  WeightRows gb(b, gate, length);
  Value weights, tokens;
  std::tie(weights, tokens) = perTokenBuffer(b, xb, topK);
  Value ids = perTokenBuffer(b, xb, topK, idType).first;
  int64_t warps = std::min<int64_t>(experts, 1024 / kWarpSize);
  auto shared = MemRefType::get(
      {experts}, b.getF32Type(), MemRefLayoutAttrInterface(),
      gpu::AddressSpaceAttr::get(b.getContext(), gpu::AddressSpace::Workgroup));
  float ninf = -std::numeric_limits<float>::infinity();
  bool softmax = selection == kernel::RouterScores::Softmax ||
                 weighting == kernel::RouterScores::Softmax;

  launch(
      b, tokens, cIndex(b, 1), warps * kWarpSize, {shared},
      [&](const LaunchIds &ids_) {
        Value t = ids_.blockX, logits = ids_.workgroup[0];
        WarpIds w = warpIds(b, ids_.thread);
        // Logits, a warp per expert.
        scf::ForOp::create(
            b, w.warp, cIndex(b, experts), cIndex(b, warps), ValueRange{},
            [&](OpBuilder &nb, Location nl, Value e, ValueRange) {
              ImplicitLocOpBuilder ib(nl, nb);
              Value dot = warpSum(
                  ib, laneDot(ib, gb, e, xb, t, length, w.lane, mapping));
              storeFromLane0(ib, w.lane, dot, logits, {e});
              scf::YieldOp::create(ib);
            });
        gpu::BarrierOp::create(b);
        // Probabilities, top-k and normalisation: a few dozen values, one
        // thread.
        ifThen(
            b, cmp(b, arith::CmpIPredicate::eq, ids_.thread, cIndex(b, 0)),
            [&] {
              auto overExperts =
                  [&](Value init,
                      function_ref<Value(ImplicitLocOpBuilder &, Value, Value)>
                          step) {
                    return scf::ForOp::create(
                               b, cIndex(b, 0), cIndex(b, experts),
                               cIndex(b, 1), ValueRange{init},
                               [&](OpBuilder &nb, Location nl, Value e,
                                   ValueRange acc) {
                                 ImplicitLocOpBuilder ib(nl, nb);
                                 scf::YieldOp::create(
                                     ib, ValueRange{step(ib, e, acc[0])});
                               })
                        .getResult(0);
                  };
              auto logit = [&](OpBuilder &ob, Location ol, Value e) -> Value {
                return memref::LoadOp::create(ob, ol, logits, ValueRange{e});
              };
              // The softmax's max and sum, computed once.
              Value max, sum;
              if (softmax) {
                max = overExperts(
                    cF32(b, ninf),
                    [&](ImplicitLocOpBuilder &ib, Value e, Value acc) -> Value {
                      return arith::MaximumFOp::create(
                          ib, acc, logit(ib, ib.getLoc(), e));
                    });
                sum = overExperts(
                    cF32(b, 0),
                    [&](ImplicitLocOpBuilder &ib, Value e, Value acc) -> Value {
                      Value p = math::ExpOp::create(
                          ib, arith::SubFOp::create(
                                  ib, logit(ib, ib.getLoc(), e), max));
                      return arith::AddFOp::create(ib, acc, p);
                    });
              }
              auto probability = [&](OpBuilder &ob, Location ol,
                                     kernel::RouterScores f,
                                     Value e) -> Value {
                Value l = logit(ob, ol, e);
                if (f == kernel::RouterScores::Softmax)
                  return arith::DivFOp::create(
                      ob, ol,
                      math::ExpOp::create(ob, ol,
                                          arith::SubFOp::create(ob, ol, l, max)),
                      sum);
                Value one = cF32(ob, ol, 1);
                Value ex = math::ExpOp::create(
                    ob, ol, arith::NegFOp::create(ob, ol, l));
                return arith::DivFOp::create(
                    ob, ol, one, arith::AddFOp::create(ob, ol, one, ex));
              };
              // The k largest probabilities, their weights and the sum.
              Value total =
                  buildTopK(
                      b, b.getLoc(), experts, topK,
                      ValueRange{cF32(b, nullBias.value_or(0.0))},
                      [&](OpBuilder &eb, Location el, Value e) -> Value {
                        return probability(eb, el, selection, e);
                      },
                      [&](OpBuilder &kb, Location kl, Value k, Value p, Value e,
                          ValueRange sum) -> SmallVector<Value> {
                        if (weighting != selection)
                          p = probability(kb, kl, weighting, e);
                        memref::StoreOp::create(kb, kl, p, weights,
                                                ValueRange{t, k});
                        memref::StoreOp::create(
                            kb, kl,
                            arith::IndexCastOp::create(kb, kl, idType, e), ids,
                            ValueRange{t, k});
                        return {arith::AddFOp::create(kb, kl, sum[0], p)};
                      })
                      .front();
              if (!renormalize)
                return;
              scf::ForOp::create(
                  b, cIndex(b, 0), cIndex(b, topK), cIndex(b, 1), ValueRange{},
                  [&](OpBuilder &nb, Location nl, Value k, ValueRange) {
                    ImplicitLocOpBuilder ib(nl, nb);
                    Value p =
                        memref::LoadOp::create(ib, weights, ValueRange{t, k});
                    memref::StoreOp::create(ib,
                                            arith::DivFOp::create(ib, p, total),
                                            weights, ValueRange{t, k});
                    scf::YieldOp::create(ib);
                  });
            });
      });
  return {asTensor(b, weights), asTensor(b, ids)};
}
