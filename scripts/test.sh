#!/usr/bin/env bash
# Runs the whole lit suite (FileCheck tests, verifier tests, the CPU check of
# EfficientNet-B1 against PyTorch, ptxas on the emitted PTX). Builds first.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --build build -j "${PTXNET_JOBS:-2}" >/dev/null
/usr/lib/llvm-22/bin/lit -sv build/test "$@"
