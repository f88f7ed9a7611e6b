#!/usr/bin/env bash
# Installs what moec needs, builds it, and runs the main job or the tests.
#
#   tools/setup.sh run     build, then run the main job on a synthesised model
#   tools/setup.sh test    build, then run every test (lit and unit tests)
#   tools/setup.sh serve   build, then serve the main job's model with
#                          moec-serve on http://127.0.0.1:${MOEC_PORT:-8080}/v1
#   tools/setup.sh build   install and build only
#
# Missing Debian packages are installed with apt-get (as root, or with sudo);
# when everything is present the script says nothing about packages. The build
# goes to $MOEC_BUILD_DIR (default: build/).
set -euo pipefail

cd "$(dirname "$0")/.."
BUILD_DIR=${MOEC_BUILD_DIR:-build}

PACKAGES=(
  cmake ninja-build ccache python3 python3-numpy python3-venv libgtest-dev
  llvm-22-dev llvm-22-tools libmlir-22-dev mlir-22-tools
  clang-22 libclang-rt-22-dev lld-22 liblld-22-dev libomp-22-dev
  libflatbuffers-dev flatbuffers-compiler libsentencepiece-dev nlohmann-json3-dev
  libxxhash-dev libpcre2-dev libsodium-dev libcpp-httplib-dev pkgconf
)

install_packages() {
  local missing=() pkg
  for pkg in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' ||
      missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0

  local sudo=
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || {
      echo "moec: missing packages ${missing[*]}; install them as root" >&2
      exit 1
    }
    sudo=sudo
  fi
  echo "moec: installing ${missing[*]}"
  local log
  log=$(mktemp)
  if ! { $sudo apt-get update -qq &&
         DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
           --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
    cat "$log" >&2
    echo "moec: apt-get could not install ${missing[*]}" >&2
    exit 1
  fi
  rm -f "$log"
}

build() {
  install_packages
  if [ ! -f "$BUILD_DIR/build.ninja" ]; then
    cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  fi
  cmake --build "$BUILD_DIR"
}

# The Python clients the tests speak to moec-serve with (the `openai`
# package from PyPI), in a virtual environment in the build directory.
OPENAI_VERSION=1.109.1
python_clients() {
  local env="$BUILD_DIR/python"
  "$env/bin/python" -c "import openai" 2>/dev/null && return 0
  echo "moec: installing the openai package $OPENAI_VERSION into $env"
  python3 -m venv "$env"
  "$env/bin/pip" install -q --disable-pip-version-check \
    "openai==$OPENAI_VERSION"
}

# The main job's model: a small TurboSparse-Mixtral checkpoint with a
# tokenizer trained on moec's own docs (random weights, so the words it
# generates mean nothing), compiled for this CPU, in $demo.
demo="$BUILD_DIR/demo"
demo_model() {
  rm -rf "$demo"
  mkdir -p "$demo"
  cat README.md docs/*.md > "$demo/corpus.txt"
  "$BUILD_DIR/bin/moec-synth" -o "$demo/checkpoint" \
    --arch=TurboSparseMixtralForCausalLM --predictor-rank=8 --seed=1 \
    --vocab-size=1024 --tokenizer-corpus="$demo/corpus.txt"
  "$BUILD_DIR/bin/moec-compile" "$demo/checkpoint" -o "$demo/model.moec"
}

case "${1:-}" in
  build)
    build
    ;;
  run)
    build
    demo_model
    "$BUILD_DIR/bin/moec-run" --info "$demo/model.moec"
    echo "generated text (random weights: the words mean nothing):"
    "$BUILD_DIR/bin/moec-run" "$demo/model.moec" \
      --prompt "The router chooses two experts for" --max-new-tokens 32
    ;;
  serve)
    build
    demo_model
    exec "$BUILD_DIR/bin/moec-serve" "$demo/model.moec" \
      --port "${MOEC_PORT:-8080}"
    ;;
  test)
    build
    python_clients
    cmake --build "$BUILD_DIR" --target check-moec
    ;;
  *)
    sed -n '2,13s/^# \{0,1\}//p' "$0" >&2
    exit 2
    ;;
esac
