#!/usr/bin/env bash
# The GPU checks in one run, on a machine with an NVIDIA GPU and the CUDA
# driver: build, the GPU golden tests (test/e2e/gpu-golden.test), then
# moec-bench on the Mixtral-8x7B-dimension 2-layer model (SwiGLU and dReLU,
# bf16) with and without the sparse path: time per token and the GPU's
# copy bandwidth. Prints what docs/perf.md records. Usage: tools/bench/gpu-check.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
if [ ! -x "$build/bin/moec-compile" ]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
ninja -C "$build" >/dev/null
nvidia-smi --query-gpu=name,memory.total,clocks.max.memory --format=csv || true
/usr/lib/llvm-22/bin/lit -v "$build/test/e2e/gpu-golden.test" "$build/test/tools/moec-compile-cuda.test"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dims="--hidden-size=4096 --intermediate-size=14336 --num-experts=8 --top-k=2
      --num-heads=32 --num-kv-heads=8 --vocab-size=32000 --num-layers=2
      --dtype=bf16 --seed=3"
for arch in MixtralForCausalLM TurboSparseMixtralForCausalLM; do
  "$build/bin/moec-synth" -o "$work/$arch" $dims --arch=$arch >/dev/null
  for mode in sparse dense; do
    flags=()
    [ "$mode" = dense ] && flags=(--no-sparse)
    [ "$arch" = MixtralForCausalLM ] && [ "$mode" = sparse ] && continue
    "$build/bin/moec-compile" "$work/$arch" -o "$work/$arch-$mode.moec" \
      --target=cuda "${flags[@]}"
    # Time per token at context 128 and the device's copy bandwidth, in one
    # process. CUDA code keeps no activity counters: the bytes per token
    # are the CPU build's (docs/perf.md), the same rows.
    echo "== $arch $mode"
    "$build/bin/moec-bench" "$work/$arch-$mode.moec" --device=cuda \
      --context=128,1024 --steps=64 --warmup=4
    rm -f "$work/$arch-$mode.moec"
  done
done
