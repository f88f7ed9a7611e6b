#!/usr/bin/env bash
# The GPU checks: the GPU golden tests (every golden checkpoint's logits
# within the CPU bounds of transformers', and the same greedy tokens as the
# CPU build), then moec-bench --device=cuda on the Mixtral-8x7B-dimension
# 2-layer models (SwiGLU and dReLU, bf16; dReLU with and without the sparse
# path; both again with q8_0 and q4_0 weights): the device's copy bandwidth
# and the decode time per token at contexts 128 and 1024, and the first
# model's decode with 4 sequences a step (continuous batching, --parallel
# 4). Prints what docs/perf.md records.
#
#   tools/bench/gpu-check.sh [BUILD_DIR]           all of it, on one machine
#   tools/bench/gpu-check.sh prepare DIR [BUILD]   compile everything into DIR
#   tools/bench/gpu-check.sh run DIR               run DIR's checks
#
# `prepare` needs the compiler and no GPU; `run` needs the GPU, python3 with
# numpy and xxhash, and no compiler: DIR holds the runtime's tools and the
# libraries they load, the golden artifacts, and the benchmark models without
# their weights (tools/bench/artifact_weights.py), which `run` fills with
# random values before timing them.
set -euo pipefail
cd "$(dirname "$0")/../.."
src=$PWD

# ARCH-MODE[-WEIGHTS]
bench_models=(MixtralForCausalLM-dense MixtralForCausalLM-glu
              TurboSparseMixtralForCausalLM-sparse
              TurboSparseMixtralForCausalLM-dense
              MixtralForCausalLM-glu-q8_0 MixtralForCausalLM-glu-q4_0
              TurboSparseMixtralForCausalLM-sparse-q8_0
              TurboSparseMixtralForCausalLM-sparse-q4_0)
quantized_cases=(mistral-dense mixtral-bf16-top2 turbosparse-mixtral-f16-sharded
                 turbosparse-mixtral-active15)
golden_cases=(mixtral-bf16-top2 turbosparse-mixtral-f16-sharded mixtral-f32-top1
              mistral-dense mixtral-gqa-kv1 mixtral-tied bamboo-drelu-window
              mixtral-fused-experts mixtral-seqcls mixtral-tokcls)

prepare() {
  local dir=$1 build=${2:-build}
  build=$(cd "$build" && pwd)
  mkdir -p "$dir/bin" "$dir/lib" "$dir/golden" "$dir/golden-rolled" "$dir/models"
  dir=$(cd "$dir" && pwd)
  export PATH="$build/bin:$PATH"
  cp "$build/bin/moec-run" "$build/bin/moec-bench" "$dir/bin/"
  # The runtime's own libraries, not the C and C++ libraries every machine has.
  ldd "$build/bin/moec-run" "$build/bin/moec-bench" | awk '/=> \//{print $3}' |
    sort -u | grep -Ev '/lib(c|m|dl|pthread|rt|gcc_s|stdc\+\+)\.so' |
    xargs -r cp -L -t "$dir/lib/"
  echo "== compiling the golden checkpoints"
  python3 test/e2e/Inputs/run_golden.py --cuda --compile-only "$dir/golden" \
    "${golden_cases[@]}"
  # What is off by default for CUDA until it ran on a GPU: the layers as
  # one loop, GLU experts as warp-per-row kernels.
  python3 test/e2e/Inputs/run_golden.py --cuda --compile-only \
    --compile-flag=--roll-layers --compile-flag=--gpu-glu-kernels \
    "$dir/golden-rolled" "${golden_cases[@]}"
  rm -rf "$dir"/golden*/*/ "$dir"/golden*/*.cpu.moec
  # Quantized weights: the run compares with a float64 forward over the
  # dequantized checkpoint, which stays.
  for format in q8_0 q4_0; do
    mkdir -p "$dir/golden-$format"
    python3 test/e2e/Inputs/run_golden.py --cuda --compile-only \
      --quantized=$format "$dir/golden-$format" "${quantized_cases[@]}"
  done
  local work
  work=$(mktemp -d)
  trap 'rm -rf "$work"' RETURN
  local dims="--hidden-size=4096 --intermediate-size=14336 --num-experts=8
      --top-k=2 --num-heads=32 --num-kv-heads=8 --vocab-size=32000
      --num-layers=2 --dtype=bf16 --seed=3"
  for model in "${bench_models[@]}"; do
    local arch=${model%%-*} mode=${model#*-} flags=()
    case $mode in
      *-q*) flags=(--weights="${mode##*-}"); mode=${mode%-*} ;;
    esac
    [ "$mode" = dense ] && flags+=(--no-sparse)
    [ "$mode" = glu ] && flags+=(--gpu-glu-kernels)
    echo "== compiling $model"
    [ -d "$work/$arch" ] || moec-synth -o "$work/$arch" $dims --arch="$arch" >/dev/null
    moec-compile "$work/$arch" -o "$work/$model.moec" --target=cuda "${flags[@]}"
    python3 tools/bench/artifact_weights.py strip "$work/$model.moec" \
      "$dir/models/$model.skel"
    rm -f "$work/$model.moec"
  done
}

run() {
  local dir
  dir=$(cd "$1" && pwd)
  export PATH="$dir/bin:$PATH" LD_LIBRARY_PATH="$dir/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  nvidia-smi --query-gpu=name,memory.total,clocks.max.memory,driver_version \
    --format=csv || true
  echo "== golden checkpoints on the GPU"
  timeout 300 python3 test/e2e/Inputs/run_golden.py --cuda --run-only "$dir/golden" \
    "${golden_cases[@]}" || echo "GOLDEN FAILED"
  echo "== golden checkpoints on the GPU, --roll-layers --gpu-glu-kernels"
  timeout 300 python3 test/e2e/Inputs/run_golden.py --cuda --run-only \
    "$dir/golden-rolled" "${golden_cases[@]}" || echo "GOLDEN (ROLLED) FAILED"
  for format in q8_0 q4_0; do
    echo "== golden checkpoints on the GPU, $format weights"
    timeout 300 python3 test/e2e/Inputs/run_golden.py --cuda --run-only \
      --quantized=$format --tolerance=1e-5 "$dir/golden-$format" \
      "${quantized_cases[@]}" || echo "GOLDEN ($format) FAILED"
  done
  for model in "${bench_models[@]}"; do
    echo "== $model"
    local artifact="$dir/models/$model.moec"
    python3 "$src/tools/bench/artifact_weights.py" fill \
      "$dir/models/$model.skel" "$artifact"
    timeout 150 moec-bench "$artifact" --device=cuda --context=128,1024 --steps=64 \
      --warmup=4 || echo "BENCH FAILED: $model"
    if [ "$model" = "${bench_models[0]}" ]; then
      echo "== $model, 4 sequences a step"
      timeout 150 moec-bench "$artifact" --device=cuda --context=128 --steps=32 \
        --warmup=4 --parallel=4 --max-seq-len=4096 --prompt-tokens=0 ||
        echo "BENCH FAILED: $model --parallel=4"
    fi
    rm -f "$artifact"
  done
}

case "${1:-}" in
  prepare) prepare "$2" "${3:-build}" ;;
  run) run "$2" ;;
  *)
    dir=$(mktemp -d)
    trap 'rm -rf "$dir"' EXIT
    prepare "$dir" "${1:-build}"
    run "$dir"
    ;;
esac
