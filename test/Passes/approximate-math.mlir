// RUN: moec-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(moe-approximate-math))' | FileCheck %s --enable-var-scope

// An f32 exp becomes inline arithmetic: the argument clamped, split into
// k ln 2 + r, a polynomial in r, and 2^k made from k's bits.
// CHECK-LABEL: func.func @scalar
// CHECK-NOT: math.exp
// CHECK: arith.cmpf uge
// CHECK: arith.select
// CHECK: math.fma
// CHECK: math.floor
// CHECK: math.fma
// CHECK: arith.fptosi
// CHECK: arith.shli
// CHECK: arith.bitcast
// CHECK-NOT: math.exp
// CHECK: return
func.func @scalar(%x: f32) -> f32 {
  %y = math.exp %x : f32
  return %y : f32
}

// -----

// A vector's exp stays a vector computation (no call per lane).
// CHECK-LABEL: func.func @vector
// CHECK-NOT: math.exp
// CHECK: math.fma {{.*}} : vector<16xf32>
// CHECK: arith.bitcast {{.*}} : vector<16xi32> to vector<16xf32>
// CHECK-NOT: math.exp
// CHECK: return
func.func @vector(%x: vector<16xf32>) -> vector<16xf32> {
  %y = math.exp %x : vector<16xf32>
  return %y : vector<16xf32>
}

// -----

// Other math ops, and exp of other types, are libm's.
// CHECK-LABEL: func.func @others
// CHECK: math.erf %{{.*}} : f32
// CHECK: math.exp %{{.*}} : f64
// CHECK: math.log %{{.*}} : f32
func.func @others(%x: f32, %d: f64) -> (f32, f64, f32) {
  %e = math.erf %x : f32
  %y = math.exp %d : f64
  %l = math.log %x : f32
  return %e, %y, %l : f32, f64, f32
}
