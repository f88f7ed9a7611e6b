#!/usr/bin/env bash
# moec against llama.cpp, decode speed on the same weights (docs/perf.md).
#
#   tools/bench/compare-llama.sh [--threads N] [--context N] [--steps N]
#                                [--rounds N] [--models LIST]
#                                [--weights bf16,q8_0,q4_0] [--keep]
#
# Builds moec (tools/setup.sh build), makes a Python environment in
# $MOEC_BUILD_DIR/bench/venv with gguf and llama-cpp-python (llama.cpp built
# from source for this CPU, about 8 minutes on 2 cores, once), then runs
# tools/bench/compare_llama.py in $MOEC_BUILD_DIR/bench. Needs about 40 GB
# of disk while it runs (a checkpoint, four artifacts and a GGUF file of
# 6.2 GB each at a time).
set -euo pipefail

cd "$(dirname "$0")/../.."
BUILD_DIR=${MOEC_BUILD_DIR:-build}
tools/setup.sh build >&2

VENV="$BUILD_DIR/bench/venv"
if ! "$VENV/bin/python" -c "import gguf, llama_cpp" 2>/dev/null; then
  echo "compare-llama: installing gguf and llama-cpp-python into $VENV" >&2
  python3 -m venv "$VENV"
  CMAKE_BUILD_PARALLEL_LEVEL=$(nproc) "$VENV/bin/pip" install --quiet \
    numpy gguf==0.19.0 llama-cpp-python==0.3.36
fi
exec "$VENV/bin/python" tools/bench/compare_llama.py \
  --bin "$BUILD_DIR/bin" --out "$BUILD_DIR/bench" "$@"
