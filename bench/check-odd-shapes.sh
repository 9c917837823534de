#!/usr/bin/env bash
# On the GPU machine: run every odd-shape program in DIR against the CPU
# evaluator's reference (examples/odd_shapes/make_graph.py). Builds nothing.
# Prepare DIR here:
#   examples/odd_shapes/make_graph.py --out-dir DIR
#   build/bin/ptxnet-run --cpu DIR/odd.mlir --input DIR/input.npy --output DIR/ref.npy
#   for p in fp32 tf32 f16 bf16; do build/bin/ptxnet-compile DIR/odd.mlir --precision $p -o DIR/odd_$p; done
# Then: bench/check-odd-shapes.sh DIR   (exit code 1 if any program fails)
# The same for the cp.async ring graph: make_graph.py --graph ring writes
# DIR/ring.mlir instead (evaluate and compile that, naming the programs odd_*).
# make_graph.py --graph dense writes DIR/dense.mlir (small dense convolutions:
# compile with --dense-conv-mma to check the tensor-core stem).
# Likewise --graph fused, mbconv, planes and linear (DIR/<graph>.mlir; one
# graph per DIR, since the programs share DIR/input.npy and DIR/ref.npy).
set -uo pipefail
DIR=${1:?usage: check-odd-shapes.sh DIR}
status=0
for exe in "$DIR"/odd_*; do
  [ -x "$exe" ] && [ "${exe%.ptx}" = "$exe" ] || continue
  echo "== $(basename "$exe")"
  "$exe" --input "$DIR/input.npy" --check "$DIR/ref.npy" || status=1
done
exit $status
