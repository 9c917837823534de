#!/usr/bin/env bash
# The main job: export EfficientNet-B1's random weights, input and float64
# reference with PyTorch, check the graph on the CPU, and compile it into a
# GPU program.
#
# Writes out/efficientnet_b1/{weights.safetensors,input.npy,reference.npy},
# out/effnet (exact float32, + out/effnet.ptx), out/effnet_tf32 (tf32 tensor
# cores, relative error ~1.3e-4) and out/effnet_f16 (f16 tensor cores and f16
# activations, the fastest, ~2e-4). Run them on a GPU machine:
#   out/effnet --input out/efficientnet_b1/input.npy \
#              --check out/efficientnet_b1/reference.npy --bench 100
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=build/bin
DATA=out/efficientnet_b1
mkdir -p "$DATA"
/usr/bin/python3 examples/efficientnet_b1/export.py --out-dir "$DATA" --batch 10
"$BIN/ptxnet-run" --cpu --fuse examples/efficientnet_b1/model.mlir \
  --weights "$DATA/weights.safetensors" --input "$DATA/input.npy" \
  --check "$DATA/reference.npy"
"$BIN/ptxnet-compile" examples/efficientnet_b1/model.mlir \
  --weights "$DATA/weights.safetensors" --chip sm_89 --precision fp32 \
  -o out/effnet
"$BIN/ptxnet-compile" examples/efficientnet_b1/model.mlir \
  --weights "$DATA/weights.safetensors" --chip sm_89 --precision tf32 \
  -o out/effnet_tf32
"$BIN/ptxnet-compile" examples/efficientnet_b1/model.mlir \
  --weights "$DATA/weights.safetensors" --chip sm_89 --precision f16 \
  -o out/effnet_f16
