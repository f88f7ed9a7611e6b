// RUN: moec-opt %s --pass-pipeline='builtin.module(func.func(moe-map-to-gpu{block-size=128}))' --split-input-file --verify-diagnostics | FileCheck %s

// A parallel loop nest: one thread per iteration of the flattened space,
// the last dimension fastest; the buffer is device memory.
// CHECK-LABEL: func.func @parallel
// CHECK: %[[BUF:.*]] = gpu.alloc (%{{.*}}) : memref<?x16xf32>
// CHECK: arith.muli
// CHECK: %[[TOTAL:.*]] = arith.muli %{{.*}}, %{{.*}} : index
// CHECK-NEXT: %c128 = arith.constant 128 : index
// CHECK-NEXT: arith.ceildivui %[[TOTAL]], %c128
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}}) threads({{.*}}) in ({{.*}} = %c128
// CHECK: %[[IN:.*]] = arith.cmpi ult, %{{.*}}, %[[TOTAL]]
// CHECK: scf.if %[[IN]]
// CHECK: arith.remui
// CHECK: arith.divui
// CHECK: memref.store {{.*}}, %[[BUF]]
// CHECK-NOT: scf.parallel
func.func @parallel(%n: index) -> memref<?x16xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %one = arith.constant 1.0 : f32
  %buf = memref.alloc(%n) : memref<?x16xf32>
  scf.parallel (%i, %j) = (%c0, %c0) to (%n, %c16) step (%c1, %c1) {
    memref.store %one, %buf[%i, %j] : memref<?x16xf32>
    scf.reduce
  }
  return %buf : memref<?x16xf32>
}

// -----

// An expert id read on the host selects the slice a kernel reads: the read
// and the slice are computed again inside the launch, and a host write (a
// top-k loop) runs on one thread.
// CHECK-LABEL: func.func @expert_slice
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c1{{.*}}) threads({{.*}}) in ({{.*}} = %c1
// CHECK: memref.store %{{.*}}, %arg1
// CHECK: gpu.launch
// CHECK: %[[ID:.*]] = memref.load %arg1
// CHECK: %[[E:.*]] = arith.index_cast %[[ID]]
// CHECK: memref.subview %arg0[%[[E]], 0]
// CHECK: gpu.terminator
// CHECK-NOT: memref.load
// CHECK: return
func.func @expert_slice(%w: memref<4x8xf32>, %ids: memref<1xi32>, %out: memref<8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %two = arith.constant 2 : i32
  memref.store %two, %ids[%c0] : memref<1xi32>
  %id = memref.load %ids[%c0] : memref<1xi32>
  %e = arith.index_cast %id : i32 to index
  %row = memref.subview %w[%e, 0] [1, 8] [1, 1] : memref<4x8xf32> to memref<8xf32, strided<[1], offset: ?>>
  scf.parallel (%i) = (%c0) to (%c8) step (%c1) {
    %v = memref.load %row[%i] : memref<8xf32, strided<[1], offset: ?>>
    memref.store %v, %out[%i] : memref<8xf32>
    scf.reduce
  }
  return
}

// -----

// The host cannot size an allocation from device memory.
func.func @host_needs_device_value(%n: memref<1xindex>) -> memref<?xf32> {
  %c0 = arith.constant 0 : index
  // expected-error @below {{moe-map-to-gpu: the host needs this value from device memory}}
  %size = memref.load %n[%c0] : memref<1xindex>
  %buf = memref.alloc(%size) : memref<?xf32>
  return %buf : memref<?xf32>
}

// -----

// A constant buffer is a host global: each launch takes its own reference
// (outlining then copies the global into the gpu.module) instead of a host
// pointer as a kernel parameter.
memref.global "private" constant @zeros : memref<8xf32> = dense<0.0>

// CHECK-LABEL: func.func @constant_buffer
// CHECK-NOT: memref.get_global
// CHECK: gpu.launch
// CHECK: %[[Z:.*]] = memref.get_global @zeros
// CHECK: scf.if
// CHECK: memref.load %[[Z]]
// CHECK: gpu.terminator
func.func @constant_buffer(%out: memref<8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %zeros = memref.get_global @zeros : memref<8xf32>
  scf.parallel (%i) = (%c0) to (%c8) step (%c1) {
    %z = memref.load %zeros[%i] : memref<8xf32>
    %y = memref.load %out[%i] : memref<8xf32>
    %s = arith.addf %y, %z : f32
    memref.store %s, %out[%i] : memref<8xf32>
    scf.reduce
  }
  return
}
