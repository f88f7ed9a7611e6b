//===- DynamicSchedule.cpp - work-sharing loops that balance themselves ---===//

#include "passes/Passes.h"

#include "mlir/Dialect/OpenMP/OpenMPDialect.h"

namespace mlir::moe {
#define GEN_PASS_DEF_DYNAMICSCHEDULE
#include "passes/Passes.h.inc"
} // namespace mlir::moe

using namespace mlir;

namespace {

struct DynamicSchedulePass
    : public moe::impl::DynamicScheduleBase<DynamicSchedulePass> {
  void runOnOperation() override {
    getOperation()->walk([](omp::WsloopOp loop) {
      if (!loop.getScheduleKind())
        loop.setScheduleKind(omp::ClauseScheduleKind::Dynamic);
    });
  }
};

} // namespace
