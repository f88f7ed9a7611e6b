// RUN: moec-opt %s --split-input-file --moe-dynamic-schedule | FileCheck %s --enable-var-scope

// A work-sharing loop without a schedule (as convert-scf-to-openmp makes
// them) takes the dynamic one: each thread takes the next task when done.
// CHECK-LABEL: func.func @unscheduled(
// CHECK: omp.wsloop schedule(dynamic) {
// CHECK-NEXT: omp.loop_nest
func.func @unscheduled(%lb: index, %ub: index, %step: index, %buffer: memref<?xf32>) {
  omp.parallel {
    omp.wsloop {
      omp.loop_nest (%i) : index = (%lb) to (%ub) step (%step) {
        %c = arith.constant 1.0 : f32
        memref.store %c, %buffer[%i] : memref<?xf32>
        omp.yield
      }
    }
    omp.terminator
  }
  return
}

// -----

// A loop that has a schedule keeps it.
// CHECK-LABEL: func.func @scheduled(
// CHECK: omp.wsloop schedule(static) {
func.func @scheduled(%lb: index, %ub: index, %step: index) {
  omp.parallel {
    omp.wsloop schedule(static) {
      omp.loop_nest (%i) : index = (%lb) to (%ub) step (%step) {
        omp.yield
      }
    }
    omp.terminator
  }
  return
}
