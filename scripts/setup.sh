#!/usr/bin/env bash
# Installs everything ptxnet needs from Debian's packages, configures and
# builds it, then runs the main job: compile EfficientNet-B1.
#
#   scripts/setup.sh            install + build + compile the example
#   scripts/setup.sh --no-apt   build only (packages already installed)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

if [ "${1:-}" != "--no-apt" ]; then
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update
  # LLVM/MLIR 22 and the libraries its CMake package names (zstd, zlib, curl,
  # libedit, libxml2, libffi); nlohmann-json for safetensors headers; Debian's
  # PyTorch 1.13 and ONNX for the example exporter and the tests.
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
    cmake ninja-build g++ \
    libmlir-22-dev mlir-22-tools llvm-22-dev llvm-22-tools \
    libzstd-dev zlib1g-dev libcurl4-openssl-dev libedit-dev libxml2-dev libffi-dev \
    nlohmann-json3-dev libonnx-dev libprotobuf-dev protobuf-compiler \
    python3 python3-numpy python3-torch python3-onnx
fi

cmake -G Ninja -S "$ROOT" -B "$ROOT/build" \
  -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir -DCMAKE_BUILD_TYPE=Release
# Two parallel jobs keep CI's 2 cores busy without running out of memory.
cmake --build "$ROOT/build" -j "${PTXNET_JOBS:-2}"

[ -n "${PTXNET_SETUP_ONLY:-}" ] && exit 0

# The main job: export the example's weights and compile the model.
"$ROOT/scripts/compile-example.sh"
