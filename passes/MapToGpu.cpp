//===- MapToGpu.cpp - a bufferized function's work as GPU launches ------===//
//
// The host part of a CUDA entry point may only allocate, compute sizes and
// offsets, and launch: buffers live in device memory. This pass moves all
// other work into `gpu.launch` ops (see the description in Passes.td).
//
//===----------------------------------------------------------------------===//

#include "passes/Kernels.h"
#include "passes/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/RegionUtils.h"

namespace mlir::moe {
#define GEN_PASS_DEF_MAPTOGPU
#include "passes/Passes.h.inc"
} // namespace mlir::moe

using namespace mlir;
using namespace mlir::moe;

namespace {

bool containsLaunch(Operation *op) {
  return op
      ->walk([](gpu::LaunchOp) { return WalkResult::interrupt(); })
      .wasInterrupted();
}

enum class Access { None, Read, Write };

/// How `op`, with everything nested in it, touches buffer contents.
/// Allocating, freeing and taking views do not count; an op that declares
/// no effects at all is taken to write.
Access accessOf(Operation *op) {
  Access access = Access::None;
  op->walk([&](Operation *nested) {
    auto effects = dyn_cast<MemoryEffectOpInterface>(nested);
    if (!effects) {
      if (!nested->hasTrait<OpTrait::HasRecursiveMemoryEffects>())
        access = Access::Write;
      return;
    }
    SmallVector<MemoryEffects::EffectInstance> list;
    effects.getEffects(list);
    for (const MemoryEffects::EffectInstance &effect : list) {
      if (isa<MemoryEffects::Write>(effect.getEffect()))
        access = Access::Write;
      else if (isa<MemoryEffects::Read>(effect.getEffect()) &&
               access == Access::None)
        access = Access::Read;
    }
  });
  return access;
}

/// A launch of `blocks` blocks of `threads` threads, before `before`.
gpu::LaunchOp createLaunch(OpBuilder &b, Location loc, Value blocks,
                           Value threads) {
  Value one = cIndex(b, loc, 1);
  auto launch = gpu::LaunchOp::create(b, loc, blocks, one, one, threads, one,
                                      one);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&launch.getBody().front());
  gpu::TerminatorOp::create(b, loc);
  return launch;
}

/// memref.copy as a parallel loop of loads and stores.
void copyToLoop(memref::CopyOp copy) {
  OpBuilder b(copy);
  Location loc = copy.getLoc();
  auto type = cast<MemRefType>(copy.getSource().getType());
  SmallVector<Value> lbs, ubs, steps;
  for (int64_t d = 0; d < type.getRank(); ++d) {
    lbs.push_back(cIndex(b, loc, 0));
    ubs.push_back(memref::DimOp::create(b, loc, copy.getSource(), d));
    steps.push_back(cIndex(b, loc, 1));
  }
  Value source = copy.getSource(), target = copy.getTarget();
  if (type.getRank() == 0) {
    Value v = memref::LoadOp::create(b, loc, source, ValueRange{});
    memref::StoreOp::create(b, loc, v, target, ValueRange{});
  } else {
    scf::ParallelOp::create(
        b, loc, lbs, ubs, steps,
        [&](OpBuilder &nb, Location nl, ValueRange ivs) {
          Value v = memref::LoadOp::create(nb, nl, source, ivs);
          memref::StoreOp::create(nb, nl, v, target, ivs);
        });
  }
  copy.erase();
}

/// An outermost parallel loop as a launch with a thread per iteration.
LogicalResult parallelToLaunch(scf::ParallelOp loop, int64_t blockSize) {
  if (loop.getNumResults() != 0)
    return loop.emitOpError("moe-map-to-gpu: parallel loops with reductions "
                            "are not mapped");
  OpBuilder b(loop);
  Location loc = loop.getLoc();
  SmallVector<Value> counts;
  Value total = cIndex(b, loc, 1);
  for (auto [lb, ub, step] :
       llvm::zip(loop.getLowerBound(), loop.getUpperBound(), loop.getStep())) {
    Value count = arith::CeilDivUIOp::create(
        b, loc, arith::SubIOp::create(b, loc, ub, lb), step);
    counts.push_back(count);
    total = arith::MulIOp::create(b, loc, total, count);
  }
  Value threads = cIndex(b, loc, blockSize);
  // At least one block: a launch of none is an error.
  Value blocks = arith::MaxUIOp::create(
      b, loc, arith::CeilDivUIOp::create(b, loc, total, threads),
      cIndex(b, loc, 1));
  gpu::LaunchOp launch = createLaunch(b, loc, blocks, threads);

  b.setInsertionPointToStart(&launch.getBody().front());
  Value linear = arith::AddIOp::create(
      b, loc, arith::MulIOp::create(b, loc, launch.getBlockIds().x, threads),
      launch.getThreadIds().x);
  Value inRange = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                        linear, total);
  auto guard = scf::IfOp::create(b, loc, inRange, /*withElseRegion=*/false);
  b.setInsertionPointToStart(guard.thenBlock());
  // The last dimension varies fastest, as in the loop nest.
  IRMapping map;
  Value rest = linear;
  for (int64_t d = loop.getNumLoops() - 1; d >= 0; --d) {
    Value i = d == 0 ? rest
                     : arith::RemUIOp::create(b, loc, rest, counts[d]);
    if (d > 0)
      rest = arith::DivUIOp::create(b, loc, rest, counts[d]);
    Value iv = arith::AddIOp::create(
        b, loc, loop.getLowerBound()[d],
        arith::MulIOp::create(b, loc, i, loop.getStep()[d]));
    map.map(loop.getInductionVars()[d], iv);
  }
  for (Operation &op : loop.getBody()->without_terminator())
    b.clone(op, map);
  loop.erase();
  return success();
}

/// Moves host code that writes buffers into one-thread launches, in `block`
/// and the host control flow nested in it.
LogicalResult wrapHostWrites(Block &block) {
  for (Operation &op : llvm::make_early_inc_range(block)) {
    if (isa<gpu::LaunchOp>(op))
      continue;
    if (containsLaunch(&op)) {
      for (Region &region : op.getRegions())
        for (Block &nested : region)
          if (failed(wrapHostWrites(nested)))
            return failure();
      continue;
    }
    if (accessOf(&op) != Access::Write)
      continue;
    if (!op.use_empty())
      return op.emitOpError("moe-map-to-gpu: host code writes device memory "
                            "and yields a value");
    OpBuilder b(&op);
    Value one = cIndex(b, op.getLoc(), 1);
    gpu::LaunchOp launch = createLaunch(b, op.getLoc(), one, one);
    op.moveBefore(launch.getBody().front().getTerminator());
  }
  return success();
}

/// Values computed on the host from buffer contents (an expert id, an
/// offset or view derived from one), which must be computed again where
/// the device can read.
class DeviceValues {
public:
  bool contains(Value v) {
    Operation *op = v.getDefiningOp();
    if (!op || op->getParentOfType<gpu::LaunchOp>())
      return false;
    auto it = memo.find(op);
    if (it != memo.end())
      return it->second;
    bool result = false;
    if (!containsLaunch(op)) {
      result = accessOf(op) == Access::Read;
      for (Value operand : inputsOf(op))
        result = result || contains(operand);
    }
    memo[op] = result;
    return result;
  }

  /// v, computed again at `b`'s insertion point.
  Value recompute(OpBuilder &b, Value v, IRMapping &map) {
    if (!contains(v) || map.contains(v))
      return map.lookupOrDefault(v);
    Operation *op = v.getDefiningOp();
    for (Value operand : inputsOf(op))
      recompute(b, operand, map);
    b.clone(*op, map);
    return map.lookup(v);
  }

private:
  /// Operands, and values from above that nested regions use.
  static SmallVector<Value> inputsOf(Operation *op) {
    SmallVector<Value> inputs(op->getOperands());
    SetVector<Value> above;
    for (Region &region : op->getRegions())
      getUsedValuesDefinedAbove(region, above);
    inputs.append(above.begin(), above.end());
    return inputs;
  }

  DenseMap<Operation *, bool> memo;
};

void sinkDeviceValues(gpu::LaunchOp launch, DeviceValues &device) {
  SetVector<Value> captured;
  getUsedValuesDefinedAbove(launch.getBody(), captured);
  OpBuilder b(&launch.getBody().front(), launch.getBody().front().begin());
  IRMapping map;
  // Constants are cheaper inside than as kernel parameters; cloned first,
  // as what is computed again may use them. A constant buffer is a host
  // global: the kernel must use its own copy (outlining puts one in the
  // gpu.module), since the device cannot read the host's.
  for (Value v : captured) {
    Operation *def = v.getDefiningOp();
    if (def && (def->hasTrait<OpTrait::ConstantLike>() ||
                isa<memref::GetGlobalOp>(def)))
      b.clone(*def, map);
  }
  for (Value v : captured)
    if (device.contains(v))
      device.recompute(b, v, map);
  for (Value v : captured)
    if (map.contains(v))
      replaceAllUsesInRegionWith(v, map.lookup(v), launch.getBody());
}

/// Erases host ops left without uses once their values moved into launches.
void eraseDeadHostOps(func::FuncOp func) {
  bool changed = true;
  while (changed) {
    changed = false;
    func.walk<WalkOrder::PostOrder>([&](Operation *op) {
      if (op->getParentOfType<gpu::LaunchOp>() || !isOpTriviallyDead(op))
        return;
      op->erase();
      changed = true;
    });
  }
}

struct MapToGpuPass : public moe::impl::MapToGpuBase<MapToGpuPass> {
  using MapToGpuBase::MapToGpuBase;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (blockSize < 1 || blockSize > 1024) {
      func.emitError("moe-map-to-gpu: block-size must be in [1, 1024]");
      return signalPassFailure();
    }
    auto onHost = [](Operation *op) {
      return !op->getParentOfType<gpu::LaunchOp>();
    };

    SmallVector<memref::CopyOp> copies;
    func.walk([&](memref::CopyOp op) {
      if (onHost(op))
        copies.push_back(op);
    });
    for (memref::CopyOp copy : copies)
      copyToLoop(copy);

    SmallVector<scf::ParallelOp> loops;
    func.walk<WalkOrder::PreOrder>([&](Operation *op) {
      if (isa<gpu::LaunchOp>(op))
        return WalkResult::skip();
      if (auto loop = dyn_cast<scf::ParallelOp>(op)) {
        loops.push_back(loop);
        return WalkResult::skip();
      }
      return WalkResult::advance();
    });
    for (scf::ParallelOp loop : loops)
      if (failed(parallelToLaunch(loop, blockSize)))
        return signalPassFailure();

    for (Block &block : func.getBody())
      if (failed(wrapHostWrites(block)))
        return signalPassFailure();

    DeviceValues device;
    SmallVector<gpu::LaunchOp> launches;
    func.walk([&](gpu::LaunchOp launch) { launches.push_back(launch); });
    for (gpu::LaunchOp launch : launches)
      sinkDeviceValues(launch, device);
    eraseDeadHostOps(func);

    WalkResult reads = func.walk<WalkOrder::PreOrder>([&](Operation *op) {
      if (op == func)
        return WalkResult::advance();
      if (isa<gpu::LaunchOp>(op))
        return WalkResult::skip();
      if (containsLaunch(op) || accessOf(op) == Access::None)
        return WalkResult::advance();
      op->emitOpError("moe-map-to-gpu: the host needs this value from device "
                      "memory");
      return WalkResult::interrupt();
    });
    if (reads.wasInterrupted())
      return signalPassFailure();

    // Buffers in device memory.
    func.walk([&](Operation *op) {
      if (!onHost(op))
        return;
      OpBuilder b(op);
      if (auto alloc = dyn_cast<memref::AllocOp>(op)) {
        auto replacement = gpu::AllocOp::create(
            b, op->getLoc(), alloc.getType(), /*asyncToken=*/Type(),
            /*asyncDependencies=*/ValueRange{}, alloc.getDynamicSizes(),
            /*symbolOperands=*/ValueRange{}, /*hostShared=*/false);
        alloc.replaceAllUsesWith(replacement.getMemref());
        alloc.erase();
      } else if (auto dealloc = dyn_cast<memref::DeallocOp>(op)) {
        gpu::DeallocOp::create(b, op->getLoc(), /*asyncToken=*/Type(),
                               /*asyncDependencies=*/ValueRange{},
                               dealloc.getMemref());
        dealloc.erase();
      }
    });
  }
};

} // namespace
