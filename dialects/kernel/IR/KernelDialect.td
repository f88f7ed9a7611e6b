//===- KernelDialect.td - the kernel dialect ---------------*- tablegen -*-===//
//
// Between the model-level `moe` ops and the targets: one op per kernel, with
// one meaning on every backend, and the decisions of how it runs on a target
// (vector lanes, accumulators, tasks; warps, unroll, splits) as a mapping
// attribute the lowerings read.
//
//===----------------------------------------------------------------------===//

#ifndef KERNEL_DIALECT
#define KERNEL_DIALECT

include "mlir/IR/OpBase.td"

def Kernel_Dialect : Dialect {
  let name = "kernel";
  let cppNamespace = "::mlir::kernel";
  let summary = "Target-independent kernels of a decode step, with their mapping";
  let description = [{
    A `kernel` op says what one kernel computes, with every operand that
    meaning needs: a weight-streaming product, an expert's fused gate/up
    with its active set, a sparse product over an active set, the router's
    top-k, and the layer kernels (RMS norm, RoPE, the KV-cache write,
    attention over the live positions). How it runs is an attribute, `mapping`: `#kernel.cpu<...>` or
    `#kernel.gpu<...>`, chosen once per target by a configuration pass
    (moe-configure-cpu-kernels, moe-configure-gpu-kernels) and only read by
    the lowerings (moe-kernel-to-cpu, moe-kernel-to-gpu). Weight element types are
    the operands' own (bf16, f16, f32); weight layouts are attributes the
    artifact writer obeys.
  }];
  let dependentDialects = ["::mlir::tensor::TensorDialect"];
  let useDefaultAttributePrinterParser = 1;
  let extraClassDeclaration = [{
    void registerAttributes();
  }];
}

class Kernel_Op<string mnemonic, list<Trait> traits = []>
    : Op<Kernel_Dialect, mnemonic, traits>;

#endif // KERNEL_DIALECT
