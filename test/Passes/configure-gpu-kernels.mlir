// RUN: moec-opt %s --pass-pipeline='builtin.module(func.func(moe-configure-gpu-kernels))' | FileCheck %s --check-prefix=SM90
// RUN: moec-opt %s --pass-pipeline='builtin.module(func.func(moe-configure-gpu-kernels{chip=sm_80}))' | FileCheck %s --check-prefix=SM80
// RUN: moec-opt %s --pass-pipeline='builtin.module(func.func(moe-configure-gpu-kernels{chip=sm_86 warps=4 unroll=3 splits=20}))' | FileCheck %s --check-prefix=SET
// RUN: not moec-opt %s --pass-pipeline='builtin.module(func.func(moe-configure-gpu-kernels{chip=sm_70}))' 2>&1 | FileCheck %s --check-prefix=CHIP
// RUN: not moec-opt %s --pass-pipeline='builtin.module(func.func(moe-configure-gpu-kernels{warps=33}))' 2>&1 | FileCheck %s --check-prefix=WARPS

// The chip decides the splits (about one block per SM) and the loads in
// flight, unless the options say otherwise.
// SM90: kernel.matvec {{.*}} mapping(#kernel.gpu<warps = 8, unroll = 4, splits = 132>)
// SM90: kernel.sparse_matvec {{.*}} mapping(#kernel.gpu<warps = 8, unroll = 4, splits = 132>)
// SM80: kernel.matvec {{.*}} mapping(#kernel.gpu<warps = 8, unroll = 2, splits = 108>)
// SET: kernel.matvec {{.*}} mapping(#kernel.gpu<warps = 4, unroll = 3, splits = 20>)
// CHIP: error: moe-configure-gpu-kernels: unknown chip 'sm_70' (sm_80, sm_86, sm_89 or sm_90)
// WARPS: error: #kernel.gpu: warps must be in [1, 32]
func.func @mapped(%x: tensor<?x64xf32>, %w: tensor<32x64xbf16>, %wt: tensor<128x64xbf16>, %a: tensor<128xf32>, %i: tensor<128xi32>, %n: index) -> (tensor<?x32xf32>, tensor<64xf32>) {
  %0 = kernel.matvec %x, %w : tensor<?x64xf32>, tensor<32x64xbf16> -> tensor<?x32xf32>
  %y = kernel.sparse_matvec %wt, %a active(%i, %n) neuron_major : tensor<128x64xbf16>, tensor<128xf32>, tensor<128xi32> -> tensor<64xf32>
  return %0, %y : tensor<?x32xf32>, tensor<64xf32>
}
