#!/usr/bin/env bash
# GPU machine: ncu's warp-stall breakdown of every kernel of one forward pass
# of each program given (executables compiled here and carried over; builds
# nothing). Per kernel: duration, warp instructions executed, achieved
# occupancy and the five largest stall reasons in cycles per issued
# instruction (their sum is the cycles between a warp's instructions).
#
#   bench/stalls.sh OUTDIR effnet_b10_sm89_f16 [more programs]
# writes OUTDIR/<program>.csv (ncu's raw CSV) and prints the summary.
set -uo pipefail
out=${1:?usage: stalls.sh OUTDIR PROGRAM...}
shift
mkdir -p "$out"
reasons="barrier long_scoreboard short_scoreboard math_pipe_throttle wait mio_throttle not_selected selected lg_throttle dispatch_stall no_instruction tex_throttle drain branch_resolving imc_miss misc membar sleeping"
metrics=gpu__time_duration.sum,smsp__inst_executed.sum,sm__warps_active.avg.pct_of_peak_sustained_active
for r in $reasons; do
  metrics+=",smsp__average_warps_issue_stalled_${r}_per_issue_active.ratio"
done
for exe in "$@"; do
  name=$(basename "$exe")
  b=${name#effnet_b}; b=${b%%_*}
  python3 -c "import numpy as np, sys; np.save(sys.argv[1], np.random.rand($b, 3, 240, 240).astype(np.float32))" "$out/input_b$b.npy"
  ncu --metrics "$metrics" --csv "$exe" --input "$out/input_b$b.npy" --no-graph > "$out/$name.csv" 2>&1
  echo "=== $name"
  python3 - "$out/$name.csv" <<'PY'
import collections, csv, sys
rows = [r for r in csv.reader(open(sys.argv[1])) if len(r) > 14 and r[0] != "ID"]
kernels = collections.OrderedDict()
for r in rows:
    kernels.setdefault((r[0], r[4]), {})[r[12]] = r[14]
short = lambda m: m.replace("smsp__average_warps_issue_stalled_", "").replace("_per_issue_active.ratio", "")
print(f"{'kernel':36s} {'ns':>8s} {'warp inst':>11s} {'occ%':>6s} | cycles per issued instruction")
for (_, name), m in kernels.items():
    st = {short(a): float(v.replace(",", "")) for a, v in m.items() if "stalled" in a}
    top = sorted(st.items(), key=lambda x: -x[1])[:5]
    print(f"{name:36s} {m['gpu__time_duration.sum']:>8s} {m['smsp__inst_executed.sum']:>11s} "
          f"{m['sm__warps_active.avg.pct_of_peak_sustained_active']:>6s} | total={sum(st.values()):.1f} "
          + " ".join(f"{a}={v:.1f}" for a, v in top))
PY
done
