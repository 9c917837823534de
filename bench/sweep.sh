#!/usr/bin/env bash
# GPU machine: unpack a tar.xz of executables compiled here (named
# effnet_b{batch}_{tag}, as bench.py expects), run bench.py over them twice
# (the spread between the passes is the noise), then print the kernel-by-kernel
# profile of the executables named in PROFILE. Builds nothing.
#
#   bench/sweep.sh devcarry/sweep.tar.xz devcarry/weights.safetensors [bench.py args]
#   PROFILE="effnet_b10_sm89_f16 ..." bench/sweep.sh ...
set -euo pipefail
archive=$1 weights=$2
shift 2
dir=/tmp/ptxnet-sweep
work=$dir/bench # bench.py's inputs, which the profiles reuse
rm -rf "$dir" && mkdir -p "$dir"
python3 -c "import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])" \
  "$archive" "$dir"
exes=$(dirname "$(find "$dir" -name 'effnet_b*' -type f | head -1)")
chmod +x "$exes"/effnet_b*
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,temperature.gpu,power.draw --format=csv
for pass in 1 2; do
  echo "=== bench.py pass $pass"
  python3 "$(dirname "$0")/bench.py" --exe-dir "$exes" --weights "$weights" \
    --workdir "$work" --no-compile "$@"
done
for exe in ${PROFILE:-}; do
  b=${exe#effnet_b}; b=${b%%_*}
  echo "=== profile $exe"
  PTXNET_PROFILE=1 "$exes/$exe" --input "$work/input_b$b.npy" --no-graph --bench 50
done
