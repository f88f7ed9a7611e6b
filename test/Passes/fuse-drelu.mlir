// RUN: moec-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(moe-fuse-drelu))' | FileCheck %s --enable-var-scope
// RUN: moec-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(moe-fuse-drelu{dense-min-tokens=8}))' | FileCheck %s --check-prefix=DENSE --enable-var-scope
// RUN: moec-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(moe-fuse-drelu{predictor-threshold=-0.5}))' | FileCheck %s --check-prefix=THRESHOLD --enable-var-scope

// Routed dReLU experts: per token, per routed expert, the fused gate/up of
// that expert's matrices and its down projection, weighted and summed.
// CHECK-LABEL: func.func @routed(
// CHECK-SAME: %[[X:[^:]+]]: tensor<?x16xf32>, %[[W:[^:]+]]: tensor<?x2xf32>, %[[IDS:[^:]+]]: tensor<?x2xi32>, %[[G:[^:]+]]: tensor<4x32x16xbf16>, %[[U:[^:]+]]: tensor<4x32x16xbf16>, %[[D:[^:]+]]: tensor<4x16x32xbf16>)
// CHECK-NOT: moe.expert_ffn
// CHECK: %[[Y:.+]] = scf.for %[[T:.+]] = %{{.+}} to %{{.+}} step %{{.+}} iter_args(%[[ACC:.+]] = %{{.+}}) -> (tensor<?x16xf32>)
// CHECK: %[[ROW:.+]] = tensor.extract_slice %[[X]][%[[T]], 0] [1, 16] [1, 1] : tensor<?x16xf32> to tensor<16xf32>
// CHECK: %[[E0:.+]] = arith.index_cast %{{.+}} : i32 to index
// CHECK: %[[W0:.+]] = tensor.extract %[[W]][%[[T]], %{{.+}}]
// CHECK: %[[G0:.+]] = tensor.extract_slice %[[G]][%[[E0]], 0, 0] [1, 32, 16] [1, 1, 1] : tensor<4x32x16xbf16> to tensor<32x16xbf16>
// CHECK: %[[U0:.+]] = tensor.extract_slice %[[U]][%[[E0]], 0, 0] [1, 32, 16] [1, 1, 1]
// CHECK: %[[A0:[^,]+]], %{{[^,]+}}, %{{[^,]+}}, %{{[^,]+}} = moe.fused_drelu %[[ROW]], %[[G0]], %[[U0]] : tensor<16xf32>, tensor<32x16xbf16> -> tensor<32xf32>, tensor<32xi32>
// CHECK: %[[D0:.+]] = tensor.extract_slice %[[D]][%[[E0]], 0, 0] [1, 16, 32] [1, 1, 1] : tensor<4x16x32xbf16> to tensor<16x32xbf16>
// CHECK: %[[Y0:.+]] = moe.linear %[[A0]], %[[D0]] : (tensor<32xf32>, tensor<16x32xbf16>) -> tensor<16xf32>
// CHECK: %[[S0:.+]] = tensor.splat %[[W0]] : tensor<16xf32>
// CHECK: %[[P0:.+]] = arith.mulf %[[Y0]], %[[S0]] : tensor<16xf32>
// CHECK: %[[SUM0:.+]] = arith.addf %{{.+}}, %[[P0]] : tensor<16xf32>
// CHECK: moe.fused_drelu
// CHECK: moe.linear
// CHECK: %[[SUM1:.+]] = arith.addf %[[SUM0]], %{{.+}} : tensor<16xf32>
// CHECK: %[[NEXT:.+]] = tensor.insert_slice %[[SUM1]] into %[[ACC]][%[[T]], 0] [1, 16] [1, 1]
// CHECK: scf.yield %[[NEXT]]
// CHECK: return %[[Y]]
// With dense-min-tokens, a call of 8 tokens or more keeps the block (dense
// products of each expert with its tokens); fewer take the fused path.
// DENSE-LABEL: func.func @routed(
// DENSE-SAME: %[[X:[^:]+]]: tensor<?x16xf32>, %[[W:[^:]+]]: tensor<?x2xf32>, %[[IDS:[^:]+]]: tensor<?x2xi32>, %[[G:[^:]+]]: tensor<4x32x16xbf16>, %[[U:[^:]+]]: tensor<4x32x16xbf16>, %[[D:[^:]+]]: tensor<4x16x32xbf16>)
// DENSE: %[[T:.+]] = tensor.dim %[[X]], %{{.+}} : tensor<?x16xf32>
// DENSE: %[[MANY:.+]] = arith.cmpi uge, %[[T]], %c8 : index
// DENSE: %[[Y:.+]] = scf.if %[[MANY]] -> (tensor<?x16xf32>) {
// DENSE-NEXT: %[[B:.+]] = moe.expert_ffn %[[X]] routing(%[[W]], %[[IDS]]) experts(%[[G]], %[[U]], %[[D]]) drelu
// DENSE-NEXT: scf.yield %[[B]]
// DENSE-NEXT: } else {
// DENSE-NOT: moe.expert_ffn
// DENSE: moe.fused_drelu
// DENSE: moe.linear
// DENSE: return %[[Y]]
func.func @routed(%x: tensor<?x16xf32>, %w: tensor<?x2xf32>, %ids: tensor<?x2xi32>, %g: tensor<4x32x16xbf16>, %u: tensor<4x32x16xbf16>, %d: tensor<4x16x32xbf16>) -> tensor<?x16xf32> {
  %y = moe.expert_ffn %x routing(%w, %ids) experts(%g, %u, %d) drelu
      : (tensor<?x16xf32>, tensor<?x2xf32>, tensor<?x2xi32>, tensor<4x32x16xbf16>, tensor<4x32x16xbf16>, tensor<4x16x32xbf16>) -> tensor<?x16xf32>
  return %y : tensor<?x16xf32>
}

// -----

// One dense dReLU MLP (TurboSparse-Mistral) and a shared expert: weight 1,
// expert indices constant.
// CHECK-LABEL: func.func @dense_and_shared(
// CHECK: scf.for
// CHECK: tensor.extract_slice %{{.+}}[0, 0, 0] [1, 32, 16] [1, 1, 1] : tensor<1x32x16xf16>
// CHECK: moe.fused_drelu
// CHECK-NOT: arith.mulf
// CHECK: tensor.extract_slice %{{.+}}[1, 0, 0] [1, 8, 16] [1, 1, 1] : tensor<2x8x16xf16>
// CHECK: moe.fused_drelu %{{.+}} : tensor<16xf32>, tensor<8x16xf16> -> tensor<8xf32>, tensor<8xi32>
func.func @dense_and_shared(%x: tensor<?x16xf32>, %g: tensor<1x32x16xf16>, %d: tensor<1x16x32xf16>, %sg: tensor<2x8x16xf16>, %sd: tensor<2x16x8xf16>) -> tensor<?x16xf32> {
  %y = moe.expert_ffn %x experts(%g, %g, %d) shared(%sg, %sg, %sd) drelu
      : (tensor<?x16xf32>, tensor<1x32x16xf16>, tensor<1x32x16xf16>, tensor<1x16x32xf16>, tensor<2x8x16xf16>, tensor<2x8x16xf16>, tensor<2x16x8xf16>) -> tensor<?x16xf32>
  return %y : tensor<?x16xf32>
}

// -----

// SwiGLU blocks are left alone.
// CHECK-LABEL: func.func @unchanged(
// DENSE-LABEL: func.func @unchanged(
// DENSE-NOT: scf.if
// CHECK-NOT: moe.fused_drelu
// CHECK: moe.expert_ffn {{.+}} swiglu
func.func @unchanged(%x: tensor<?x16xf32>, %g: tensor<1x32x16xbf16>, %d: tensor<1x16x32xbf16>) -> tensor<?x16xf32> {
  %y = moe.expert_ffn %x experts(%g, %g, %d) swiglu
      : (tensor<?x16xf32>, tensor<1x32x16xbf16>, tensor<1x32x16xbf16>, tensor<1x16x32xbf16>) -> tensor<?x16xf32>
  return %y : tensor<?x16xf32>
}

// -----

// A routed expert's predictor runs first, on the token's row: fc2 relu(fc1
// row), and its logits decide which neurons the fused product computes
// (the predicted set gates the gate and up reads). A prompt's dense branch
// stays exact: its block has no predictor.
// CHECK-LABEL: func.func @predicted(
// CHECK-SAME: %[[X:[^:]+]]: tensor<?x16xf32>, %[[W:[^:]+]]: tensor<?x1xf32>, %[[IDS:[^:]+]]: tensor<?x1xi32>, %[[G:[^:]+]]: tensor<2x32x16xbf16>, %[[D:[^:]+]]: tensor<2x16x32xbf16>, %[[F1:[^:]+]]: tensor<2x4x16xbf16>, %[[F2:[^:]+]]: tensor<2x32x4xbf16>)
// CHECK: %[[ROW:.+]] = tensor.extract_slice %[[X]]
// CHECK: %[[E:.+]] = arith.index_cast
// CHECK: %[[FC1:.+]] = tensor.extract_slice %[[F1]][%[[E]], 0, 0] [1, 4, 16] [1, 1, 1] : tensor<2x4x16xbf16> to tensor<4x16xbf16>
// CHECK: %[[H:.+]] = moe.linear %[[ROW]], %[[FC1]] : (tensor<16xf32>, tensor<4x16xbf16>) -> tensor<4xf32>
// CHECK: %[[RELU:.+]] = arith.maximumf %[[H]], %{{.+}} : tensor<4xf32>
// CHECK: %[[FC2:.+]] = tensor.extract_slice %[[F2]][%[[E]], 0, 0] [1, 32, 4]
// CHECK: %[[LOGITS:.+]] = moe.linear %[[RELU]], %[[FC2]] : (tensor<4xf32>, tensor<32x4xbf16>) -> tensor<32xf32>
// CHECK: moe.fused_drelu %[[ROW]], %{{.+}}, %{{.+}} predicted(%[[LOGITS]] : tensor<32xf32>, threshold = 0.000000e+00)
// THRESHOLD-LABEL: func.func @predicted(
// THRESHOLD: moe.fused_drelu {{.+}} predicted(%{{.+}} : tensor<32xf32>, threshold = -5.000000e-01)
// DENSE-LABEL: func.func @predicted(
// DENSE: scf.if
// DENSE-NEXT: moe.expert_ffn {{.+}} experts({{.+}}) drelu :
// DENSE: } else {
// DENSE: moe.fused_drelu {{.+}} predicted(
func.func @predicted(%x: tensor<?x16xf32>, %w: tensor<?x1xf32>, %ids: tensor<?x1xi32>, %g: tensor<2x32x16xbf16>, %d: tensor<2x16x32xbf16>, %f1: tensor<2x4x16xbf16>, %f2: tensor<2x32x4xbf16>) -> tensor<?x16xf32> {
  %y = moe.expert_ffn %x routing(%w, %ids) experts(%g, %g, %d) predictor(%f1, %f2) drelu
      : (tensor<?x16xf32>, tensor<?x1xf32>, tensor<?x1xi32>, tensor<2x32x16xbf16>, tensor<2x32x16xbf16>, tensor<2x16x32xbf16>, tensor<2x4x16xbf16>, tensor<2x32x4xbf16>) -> tensor<?x16xf32>
  return %y : tensor<?x16xf32>
}

// -----

// A dense MLP's predictor reads its own input (TurboSparse-Mistral's: the
// stream before the MLP norm), the token's row of it.
// CHECK-LABEL: func.func @predictor_input(
// CHECK-SAME: %[[X:[^:]+]]: tensor<?x16xf32>, %[[RES:[^:]+]]: tensor<?x16xf32>,
// CHECK: scf.for %[[T:[^ ]+]] =
// CHECK: %[[ROW:.+]] = tensor.extract_slice %[[X]][%[[T]], 0]
// CHECK: %[[PROW:.+]] = tensor.extract_slice %[[RES]][%[[T]], 0] [1, 16] [1, 1] : tensor<?x16xf32> to tensor<16xf32>
// CHECK: moe.linear %[[PROW]], %{{.+}} : (tensor<16xf32>, tensor<4x16xbf16>) -> tensor<4xf32>
// CHECK: moe.fused_drelu %[[ROW]], {{.+}} predicted(
func.func @predictor_input(%x: tensor<?x16xf32>, %res: tensor<?x16xf32>, %g: tensor<1x32x16xbf16>, %d: tensor<1x16x32xbf16>, %f1: tensor<1x4x16xbf16>, %f2: tensor<1x32x4xbf16>) -> tensor<?x16xf32> {
  %y = moe.expert_ffn %x experts(%g, %g, %d) predictor(%f1, %f2) predictor_input(%res) drelu
      : (tensor<?x16xf32>, tensor<1x32x16xbf16>, tensor<1x32x16xbf16>, tensor<1x16x32xbf16>, tensor<1x4x16xbf16>, tensor<1x32x4xbf16>, tensor<?x16xf32>) -> tensor<?x16xf32>
  return %y : tensor<?x16xf32>
}
