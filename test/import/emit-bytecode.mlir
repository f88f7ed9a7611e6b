// --emit=bytecode writes MLIR bytecode that the other tools read.
//
// RUN: rm -rf %t && moec-synth -o %t --arch=MistralForCausalLM
// RUN: moec-import %t --emit=bytecode -o %t.mlirbc
// RUN: head -c 4 %t.mlirbc | FileCheck %s --check-prefix=MAGIC
// RUN: moec-opt %t.mlirbc | FileCheck %s
// RUN: not moec-import %t --emit=llvm 2>&1 | FileCheck %s --check-prefix=BAD-FLAG

// MAGIC: ML{{.}}R
// CHECK: architectures = ["MistralForCausalLM"]
// CHECK-LABEL: func.func @forward(
// CHECK: moe.lm_head
// BAD-FLAG: Cannot find option named 'llvm'!
