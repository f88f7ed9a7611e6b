//===- Passes.td - moe passes ------------------------------*- tablegen -*-===//
//
// Every moec pass is declared here, with its options, and implemented in a
// file of its own with GEN_PASS_DEF_<NAME>. Names share the prefix `moe-`.
//
//===----------------------------------------------------------------------===//

#ifndef MOEC_PASSES
#define MOEC_PASSES

include "mlir/Pass/PassBase.td"

def StripPredictors : Pass<"moe-strip-predictors"> {
  let summary = "Drops the activation predictors of dReLU expert blocks";
  let description = [{
    A dReLU checkpoint may carry a low-rank predictor of the active neurons.
    The exact value of the block does not depend on it, and using it is an
    approximation that must be asked for. Unless it is, this pass removes the
    predictor operands from every `moe.expert_ffn` and erases the
    `moe.weight` ops left without users, so their bytes never reach the
    artifact.
  }];
  let dependentDialects = ["::mlir::moe::MoeDialect"];
}

def RollLayers : Pass<"moe-roll-layers", "::mlir::func::FuncOp"> {
  let summary = "Runs identical decoder layers as one loop over stacked weights";
  let description = [{
    The importer locates every op of decoder layer N at "model.layers.N".
    When each layer is the same computation as layer 0 up to its weights
    and the (layer-affine) offsets of its KV-cache slices, the layers
    become one `scf.for` over the layer index, marked `moe.layers = L`:
    each weight becomes one `moe.weight` stacking the layers' parts and is
    sliced at the index; the values a layer hands to the next (the hidden
    state, the cache) are iteration arguments. One copy of a layer's code
    then serves every layer, so code size and compile time stop growing
    with depth. Layers that differ are left as they are.
  }];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::tensor::TensorDialect"];
}

def PlanWeights : Pass<"moe-plan-weights", "::mlir::ModuleOp"> {
  let summary = "Places every weight in the artifact's weights segment";
  let description = [{
    Gives each `moe.weight` op its byte offset in the weights segment, as
    the `moe.offset` attribute: in op order, each aligned to `alignment`
    bytes, stacked parts contiguous. The artifact writer copies the weights
    there and generated code reads them there.
  }];
  let options = [
    Option<"alignment", "alignment", "uint64_t", /*default=*/"64",
           "Byte alignment of each weight (a power of two)">
  ];
}

def LowerInt8Dots : Pass<"moe-lower-int8-dots", "::mlir::ModuleOp"> {
  let summary = "Turns kernel.dot_u8s8 into the VNNI intrinsic";
  let description = [{
    Each `kernel.dot_u8s8` becomes a call of `llvm.x86.avx512.vpdpbusd.256`
    (LLVM selects the VEX form on AVX-VNNI targets) or `.512` on a zero
    accumulator.
    Run after bufferization: an intrinsic call has no known memory effects.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect",
                           "::mlir::arith::ArithDialect"];
}

def QuantizeWeights : Pass<"moe-quantize-weights", "::mlir::ModuleOp"> {
  let summary = "Chooses the type the artifact stores products' weights in";
  let description = [{
    Gives the weights that products read the storage `weights`: a block
    format (`q8_0` or `q4_0`, llama.cpp's), whose `moe.weight` gets `format`
    and an f32 result, so that the artifact writer quantizes each stored row
    and the kernels read the blocks; or a float type (`bf16`, `f16`, `f32`),
    which becomes the result's element type, so that the writer converts
    the values (rounded to nearest even) and the kernels read that type.
    A weight's kind comes from what reads it
    (through slices): `lm_head`, `attention` (a `moe.linear` of the decoder),
    `predictors` (a `moe.linear` of an activation predictor) and `experts`
    (the FFN's gate, up and down, routed or dense or shared); `keep` lists
    kinds left as stored. The router, the norms and the embedding table
    always stay as stored: a token reads one embedding row, and the router
    is small and decides. A weight whose rows are not whole blocks of 32 is
    an error naming it (for the block formats).

    With `interleave`, block weights read along their rows (not transposed:
    every product but the neuron-major down) whose rows are whole groups of
    16 blocks take the interleaved layout (`#moe.blocks<q4_0, interleaved>`),
    which the CPU's integer products read a block a lane.
  }];
  let options = [
    Option<"weights", "weights", "std::string", /*default=*/"\"q8_0\"",
           "The storage: q8_0, q4_0, bf16, f16 or f32">,
    Option<"interleave", "interleave", "bool", /*default=*/"false",
           "Block weights read along their rows in the interleaved layout">,
    ListOption<"keep", "keep", "std::string",
               "Kinds of weights left as stored: lm_head, attention, "
               "predictors, experts">
  ];
}

def FuseRouter : Pass<"moe-fuse-router", "::mlir::func::FuncOp"> {
  let summary = "Folds the router's logit projection into moe.router";
  let description = [{
    The importer emits the router as HF computes it: a `moe.linear` for the
    logits, then `moe.router` on them. This pass folds the projection into
    the router (its `gate` operand), so that the matrix-vector product,
    the softmax, the top-k and the renormalisation lower to one kernel that
    keeps the logits in registers.
  }];
  let dependentDialects = ["::mlir::moe::MoeDialect"];
}

def FuseDRelu : Pass<"moe-fuse-drelu", "::mlir::func::FuncOp"> {
  let summary = "Rewrites dReLU expert blocks into fused gate/up products";
  let description = [{
    For each `moe.expert_ffn` with the dReLU activation, emits, per token
    and per routed (then shared) expert, a
    `moe.fused_drelu` of the token's row with that expert's gate and up
    matrices, which yields the activation and its active-neuron set in one
    pass over the neurons, the down projection of the activation as a
    `moe.linear`, and the weighted sum into the block's output. SwiGLU and
    the other activations keep `moe.expert_ffn`.

    With `dense-min-tokens=N` (N > 0), a call of at least N tokens (a
    prompt's chunk) takes the block as it was instead, a dense product of
    each expert with its tokens (an `scf.if` on the token count): over
    many tokens nearly every neuron is active for one of them, and the
    weights are read once rather than once per token.

    A block that carries an activation predictor (moe-strip-predictors
    leaves it, with moec-compile --predictors) runs it first for each
    routed expert: `fc2(relu(fc1 r))` of the row it reads, two `moe.linear`
    products, whose logits, against `predictor-threshold`, decide which
    neurons the `moe.fused_drelu` computes (`predicted`). The dense path of
    a prompt stays exact.
  }];
  let options = [
    Option<"denseMinTokens", "dense-min-tokens", "int64_t", /*default=*/"0",
           "Token count from which a block runs dense (0: never)">,
    Option<"predictorThreshold", "predictor-threshold", "double",
           /*default=*/"0.0",
           "Predictor logit from which a neuron is computed">,
  ];
  let dependentDialects = ["::mlir::moe::MoeDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::tensor::TensorDialect"];
}

def FormSparseMatvec : Pass<"moe-form-sparse-matvec", "::mlir::func::FuncOp"> {
  let summary = "Restricts down projections to the active neurons";
  let description = [{
    A `moe.linear` whose input is the activation of a `moe.fused_drelu`
    becomes a `moe.sparse_matvec` over that op's active set: only the
    columns of the active neurons take part, which is exact because the
    others multiply zeros.
  }];
  let dependentDialects = ["::mlir::moe::MoeDialect"];
}

def NeuronMajorDown : Pass<"moe-neuron-major-down", "::mlir::func::FuncOp"> {
  let summary = "Stores the weights of sparse products neuron-major";
  let description = [{
    The weight layout pass. A `moe.sparse_matvec` reads only the columns of
    its active neurons; stored as the checkpoint has it ([out, in], per
    expert [experts, out, in]) one neuron's weights are strided across every
    row, and skipping a neuron skips no bytes. When every use of a
    `moe.weight` is such a product (directly, or through one expert's slice
    of the stacked weight), the weight becomes `transposed` ([in, out] per
    expert, one neuron's weights contiguous) and the products
    `neuron_major`. An expert block that reads the weight as its routed
    `down` as well (the dense prompt path of a dReLU block) is marked
    `down_neuron_major` and reads the transposed weight.
  }];
  let dependentDialects = ["::mlir::moe::MoeDialect",
                           "::mlir::tensor::TensorDialect"];
}

def ExportManifest : Pass<"moe-export-manifest", "::mlir::ModuleOp"> {
  let summary = "Makes the code state the shapes it was compiled for";
  let description = [{
    Adds a public constant global of i64, `moec_manifest` (layout:
    runtime/format/Manifest.h), read off `@forward`: the embedding table's
    rows (the bound on token ids), the output's rank and row width, and the
    KV cache's layers, kv heads, head dim and element type. The runtime
    compares it with the artifact's header before it sizes any buffer: code
    and header that disagree are an error, not an access out of bounds.
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect"];
}

def CountActivity : Pass<"moe-count-activity", "::mlir::ModuleOp"> {
  let summary = "Makes the code count the bytes each forward call reads";
  let description = [{
    Adds a public global of i64 counters, `moec_activity`, with a row per
    decoder layer and a last row for the ops no layer owns, and its row
    count `moec_activity_rows` (layout: runtime/format/Activity.h). After
    each op that reads weights or the KV cache it adds, on the host, what
    that op read in this call, by part (attention, router, predictor, gate,
    up, down, head, other): whole weights for projections, norms, the router
    and the head; rows for the embedding; one expert's weights per routed
    (token, expert) of an `moe.expert_ffn`; for `moe.fused_drelu` the gate
    rows computed (with `predicted`, those of the neurons at or above the
    threshold), the up rows of positive gates and the neuron counts, and
    for a `moe.sparse_matvec` the rows of active neurons; for attention the
    cache positions up to the last query's. With `exact-active-sets`, a
    fused product with `predicted` is also computed exactly, to count the
    true active set (the predictor's recall: a diagnostic build). An op's layer is the one its location
    names (`loc("model.layers.N")`, which the importer gives every op of
    decoder layer N and rewrites keep); other ops count in the last row. A
    benchmark reads the counters to report bytes per token and active
    neurons from the run itself.
  }];
  let options = [
    Option<"exactActiveSets", "exact-active-sets", "bool", /*default=*/"false",
           "Also compute predicted blocks exactly, to count their active sets">,
  ];
  let dependentDialects = ["::mlir::memref::MemRefDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::tensor::TensorDialect"];
}

def MaterializeWeights : Pass<"moe-materialize-weights", "::mlir::ModuleOp"> {
  let summary = "Reads weights from the artifact's weights segment";
  let description = [{
    Gives every function that uses `moe.weight` a leading argument, the
    weights segment as `memref<?xi8>`, and replaces each `moe.weight` by a
    read-only view of it at the op's `moe.offset` (set by the weight
    planner). A quantized weight (`format`) is viewed as its blocks, an i8
    tensor with the format as its encoding, read through `moe.dequantize`.
    After this pass the module no longer refers to checkpoint files; the
    runtime passes the mapped segment.
  }];
  let dependentDialects = ["::mlir::bufferization::BufferizationDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::arith::ArithDialect"];
}

def MoeToLinalg : Pass<"moe-to-linalg", "::mlir::func::FuncOp"> {
  let summary = "Lowers moe compute ops to linalg, tensor, scf and math";
  let description = [{
    The reference lowering of every `moe` compute op on tensors: matrix
    products, norms and softmaxes as `linalg.generic`, data-dependent parts
    (KV cache writes, top-k, expert dispatch, sparse index sets) as `scf.for`
    over tensors. Weights are widened to f32 in the loop bodies; all
    arithmetic is f32. The result bufferizes with one-shot bufferization.
    Router options that code generation does not support yet (sigmoid,
    sinkhorn, hash routing, null-expert bias) make the pass fail with a
    message rather than miscompile.

    The memory-bound products (every projection, the fused dReLU block and
    the neuron-major sparse product) are emitted as vectorised kernels:
    `scf.forall` over rows (or column blocks), inner loops on
    `vector<vector-width x f32>` with weights read as stored and widened in
    registers, `accumulators` independent partial sums per dot product.
  }];
  let options = [
    Option<"vectorWidth", "vector-width", "int64_t", /*default=*/"8",
           "f32 lanes of the target's vector registers (16 for AVX-512)">,
    Option<"accumulators", "accumulators", "int64_t", /*default=*/"2",
           "Independent vector accumulators per dot product">,
    Option<"bf16Dot", "bf16-dot", "bool", /*default=*/"false",
           "Products with bf16 weights round the activation to bf16 and use "
           "the AVX-512 BF16 pair dot product (vector-width 16 only): "
           "faster where widening bf16 limits the kernels, less exact">,
    Option<"int8Dot", "int8-dot", "bool", /*default=*/"false",
           "Products with quantized weights quantize the activations to "
           "Q8_0 blocks and use the 8-bit integer dot product (VNNI)">,
    Option<"attendWholeCache", "attend-whole-cache", "bool", /*default=*/"false",
           "A score per cache position, so that no launch's size depends "
           "on the positions (for devices whose host code cannot read "
           "them); cache rows are still read only where visible">,
    Option<"groupExperts", "group-experts", "bool", /*default=*/"false",
           "Expert blocks as products of many tokens: each routed expert's "
           "tokens gathered, one product per expert and weight, the rows "
           "added back with their routing weights (else token by token)">
  ];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::vector::VectorDialect",
                           "::mlir::x86vector::X86VectorDialect",
                           "::mlir::LLVM::LLVMDialect",
                           "::mlir::bufferization::BufferizationDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::arith::ArithDialect",
                           // The mapping attribute its products are built with.
                           "::mlir::kernel::KernelDialect"];
}

def MoeToKernel : Pass<"moe-to-kernel", "::mlir::func::FuncOp"> {
  let summary = "Converts the weight-streaming moe ops to kernel ops";
  let description = [{
    `moe.linear` without a bias and `moe.lm_head` become `kernel.matvec`,
    `moe.fused_drelu` becomes `kernel.gate_up` with the drelu activation,
    `moe.sparse_matvec` becomes `kernel.sparse_matvec` with its layout
    (`neuron_major` or `row_major`), a learned softmax `moe.router` with
    a gate becomes `kernel.router_top_k`, and an `moe.expert_ffn` of the GLU
    family (SwiGLU, ReGLU, GeGLU) becomes, per token and expert, a
    `kernel.gate_up` and a `kernel.matvec` for the down projection. The
    layer kernels: `moe.rms_norm` and `moe.rope` of f32 rows become
    `kernel.rms_norm` and `kernel.rope`, and `moe.attention` becomes
    `kernel.cache_write` followed by `kernel.attention` over the live
    positions (the default scale made explicit). A partial conversion: the
    other ops stay for moe-to-linalg. The kernel ops carry no mapping yet:
    a configuration pass adds it.
  }];
  let options = [
    Option<"gluExperts", "glu-experts", "bool", /*default=*/"true",
           "Expand GLU expert blocks into gate/up and down kernels (else "
           "moe-to-linalg's dispatch lowers them)">
  ];
  let dependentDialects = ["::mlir::kernel::KernelDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::tensor::TensorDialect"];
}

def ConfigureCpuKernels : Pass<"moe-configure-cpu-kernels", "::mlir::func::FuncOp"> {
  let summary = "Chooses how every kernel op runs on the target CPU";
  let description = [{
    Sets the `mapping` of every kernel op to `#kernel.cpu<lanes,
    accumulators, tasks, bf16_dot, row_tile, token_tile>`;
    moe-kernel-to-cpu only reads it. The register block of a product of
    several tokens fills the vector registers: 16 of AVX2 hold 4 x 3
    accumulators with the 3 activation vectors and a weight vector
    loaded, 32 of AVX-512 hold 4 x 4 (or it is given).
  }];
  let options = [
    Option<"lanes", "lanes", "int64_t", /*default=*/"8",
           "f32 lanes of the target's vector registers (16 for AVX-512)">,
    Option<"accumulators", "accumulators", "int64_t", /*default=*/"2",
           "Independent vector accumulators per dot product">,
    Option<"tasks", "tasks", "int64_t", /*default=*/"16",
           "Parallel tasks that split the active neurons of a sparse product">,
    Option<"bf16Dot", "bf16-dot", "bool", /*default=*/"false",
           "Products with bf16 weights use the AVX-512 BF16 dot product on "
           "activations rounded to bf16 (lanes 16 only)">,
    Option<"int8Dot", "int8-dot", "bool", /*default=*/"false",
           "Products with quantized weights quantize the activations to "
           "Q8_0 blocks and use the 8-bit integer dot product (VNNI)">,
    Option<"rowTile", "row-tile", "int64_t", /*default=*/"0",
           "Weight rows of a several-token product's register block "
           "(0: from the lanes)">,
    Option<"tokenTile", "token-tile", "int64_t", /*default=*/"0",
           "Tokens of a several-token product's register block "
           "(0: from the lanes)">
  ];
  let dependentDialects = ["::mlir::kernel::KernelDialect"];
}

def ConfigureGpuKernels : Pass<"moe-configure-gpu-kernels", "::mlir::func::FuncOp"> {
  let summary = "Chooses how every kernel op runs on the target GPU";
  let description = [{
    Sets the `mapping` of every kernel op to `#kernel.gpu<warps, unroll,
    splits>`: `unroll` and `splits` from the SM architecture (`chip`)
    unless given; moe-kernel-to-gpu only reads it.
  }];
  let options = [
    Option<"chip", "chip", "std::string", /*default=*/"\"sm_90\"",
           "SM architecture: sm_80, sm_86, sm_89 or sm_90">,
    Option<"warps", "warps", "int64_t", /*default=*/"8",
           "Warps per thread block (one weight row per warp at a time)">,
    Option<"unroll", "unroll", "int64_t", /*default=*/"0",
           "Independent 16-byte loads in flight per lane (0: the chip's)">,
    Option<"splits", "splits", "int64_t", /*default=*/"0",
           "Thread blocks that split a sparse product (0: the chip's)">
  ];
  let dependentDialects = ["::mlir::kernel::KernelDialect"];
}

def KernelToCpu : Pass<"moe-kernel-to-cpu", "::mlir::func::FuncOp"> {
  let summary = "Lowers kernel ops to vectorised loops for the CPU";
  let description = [{
    Every kernel op becomes `scf.forall` loops on tensors whose inner loops
    work on `vector<lanes x f32>`, as its `#kernel.cpu` mapping says:
    products read weights as stored and widen them in registers, with
    `accumulators` partial sums; the fused gate/up reads an up row only
    where the gate is positive; a neuron-major sparse product splits its
    active neurons into `tasks`; the layer kernels become the linalg and
    scf loops of passes/LayerKernels.h, attention over the live rows of
    the cache. The kernel dialect is illegal afterwards: a
    kernel op without a CPU mapping or a CPU lowering fails to legalize,
    and the error names it.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::vector::VectorDialect",
                           "::mlir::x86vector::X86VectorDialect",
                           "::mlir::LLVM::LLVMDialect",
                           "::mlir::bufferization::BufferizationDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::arith::ArithDialect"];
}

def KernelToGpu : Pass<"moe-kernel-to-gpu", "::mlir::func::FuncOp"> {
  let summary = "Lowers kernel ops to GPU kernels";
  let description = [{
    Every kernel op becomes one or two `gpu.launch` kernels as its
    `#kernel.gpu` mapping says: a warp per weight row with 16-byte loads
    per lane and `unroll` loads in flight, warp-shuffle sums; the router
    in one kernel per token; a neuron-major sparse product split over
    `splits` blocks. The GPU gate/up kernel yields the activation only: the
    GPU sparse product compacts the active neurons of the activation it
    reads, which is the same set, on the device (a warp ballot per 32
    neurons into a list in workgroup memory; no host round trip) and reads
    the listed rows only, so the gate/up lowers only where its active set
    feeds such products alone and nothing reads its `gate_positive`. The
    layer kernels become the same loops as on a CPU (passes/LayerKernels.h),
    which moe-map-to-gpu maps to threads, with attention over the whole
    cache under the mask. The kernel dialect is illegal afterwards; what
    does not lower is an error naming the op.
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::bufferization::BufferizationDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::vector::VectorDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::ub::UBDialect",
                           "::mlir::NVVM::NVVMDialect",
                           "::mlir::arith::ArithDialect"];
}

def MapToGpu : Pass<"moe-map-to-gpu", "::mlir::func::FuncOp"> {
  let summary = "Runs a bufferized function's loops and memory accesses on the GPU";
  let description = [{
    After bufferization, makes every access to buffer contents happen in a
    `gpu.launch`, so that the host code only allocates and launches:
    - an outermost `scf.parallel` becomes a launch of `block-size` threads
      per block, one thread per iteration of its flattened space;
    - `memref.copy` becomes such a loop first;
    - other host code that writes buffers (a top-k loop, a cache write)
      runs in a launch of one thread;
    - values a launch needs that host code computed by reading buffers (an
      expert id, a slice at that expert) are recomputed inside the launch;
    - `memref.alloc` and `memref.dealloc` become `gpu.alloc` and
      `gpu.dealloc`.
    Host code that needs a buffer's contents for itself (a loop bound, an
    allocation size) cannot run on the device: the pass fails and names it.
  }];
  let options = [
    Option<"blockSize", "block-size", "int64_t", /*default=*/"256",
           "Threads per block of the launches made from parallel loops">
  ];
  let dependentDialects = ["::mlir::gpu::GPUDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::arith::ArithDialect"];
}

def MergeGpuModules : Pass<"moe-merge-gpu-modules", "::mlir::ModuleOp"> {
  let summary = "Puts every outlined kernel in one gpu.module";
  let description = [{
    Kernel outlining makes a `gpu.module` per launch. This pass moves all
    kernels (and the globals they use, once) into the first module and
    points every `gpu.launch_func` at it, so that a model has one PTX (and
    one cubin) and the runtime loads one module.
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect"];
}

def ApproximateMath : Pass<"moe-approximate-math", "::mlir::func::FuncOp"> {
  let summary = "Computes exp inline, in vectors, instead of calling libm";
  let description = [{
    Rewrites `math.exp` on f32 scalars and vectors into MLIR's polynomial
    approximation (range reduction to [-ln 2 / 2, ln 2 / 2], a polynomial,
    and the exponent put back with integer arithmetic). On a CPU the libm
    call costs more than the approximation's dozen instructions, and a
    vector exp would be a call per lane: attention's softmax and SiLU take
    one exp per score and per neuron. Other math ops are left to libm.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::vector::VectorDialect"];
}

def Bufferize : Pass<"moe-bufferize", "::mlir::ModuleOp"> {
  let summary = "One-shot bufferization as moec's code generation needs it";
  let description = [{
    One-shot bufferization across function boundaries, with identity layouts
    on function signatures (the runtime passes plain buffers) and buffer
    copies as `linalg.copy`, so that they lower to loops with everything
    else instead of calling a runtime library.
  }];
  let dependentDialects = ["::mlir::bufferization::BufferizationDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::memref::MemRefDialect"];
}

def ResultsToOutParams : Pass<"moe-results-to-out-params", "::mlir::ModuleOp"> {
  let summary = "Makes the caller provide every buffer a function returns";
  let description = [{
    After bufferization, for each public function: a returned buffer that
    is one of its arguments (the KV cache, updated in place) is dropped from
    the results; a returned buffer the function allocates (the logits)
    becomes an argument appended to the signature, written in place of the
    allocation. The entry point then returns nothing and allocates nothing
    the runtime would have to free, whatever its shapes.
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect"];
}

#endif // MOEC_PASSES
