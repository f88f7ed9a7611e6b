#!/usr/bin/env bash
# The GPU checks in one run, on a machine with an NVIDIA GPU and the CUDA
# driver: build, the GPU golden tests (test/e2e/gpu-golden.test), then
# decode time per token on the Mixtral-8x7B-dimension 2-layer model (SwiGLU
# and dReLU, bf16) with and without the sparse path. Prints what
# docs/perf.md records. Usage: tools/bench/gpu-check.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
if [ ! -x "$build/bin/moec-compile" ]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
ninja -C "$build" >/dev/null
nvidia-smi --query-gpu=name,memory.total,clocks.max.memory --format=csv || true
/usr/lib/llvm-22/bin/lit -v "$build/test/e2e/gpu-golden.test" "$build/test/tools/moec-compile-cuda.test"

# Device-to-device copy bandwidth (bytes read + written per second), the
# peer the decode figures are compared with.
python3 - <<'PY'
import ctypes, time
cu = ctypes.CDLL("libcuda.so.1")
ctx, dev = ctypes.c_void_p(), ctypes.c_int()
assert cu.cuInit(0) == 0 and cu.cuDeviceGet(ctypes.byref(dev), 0) == 0
assert cu.cuDevicePrimaryCtxRetain(ctypes.byref(ctx), dev) == 0
assert cu.cuCtxSetCurrent(ctx) == 0
n = 1 << 30
a, b = ctypes.c_uint64(), ctypes.c_uint64()
assert cu.cuMemAlloc_v2(ctypes.byref(a), ctypes.c_size_t(n)) == 0
assert cu.cuMemAlloc_v2(ctypes.byref(b), ctypes.c_size_t(n)) == 0
rates = []
for i in range(12):
    cu.cuCtxSynchronize()
    t = time.perf_counter()
    cu.cuMemcpyDtoD_v2(b, a, ctypes.c_size_t(n))
    cu.cuCtxSynchronize()
    rates.append(2 * n / (time.perf_counter() - t) / 1e9)
rates = sorted(rates[2:])
print(f"copy bandwidth: median {rates[len(rates) // 2]:.0f} GB/s "
      f"(read + write, 1 GiB, 10 runs, {rates[0]:.0f}-{rates[-1]:.0f})")
PY

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
    for run in 1 2 3; do
      echo "== $arch $mode run $run"
      "$build/bin/moec-run" "$work/$arch-$mode.moec" --tokens 1,2,3,4 \
        --max-new-tokens 65 --max-seq-len 128 >/dev/null
    done
    rm -f "$work/$arch-$mode.moec"
  done
done
