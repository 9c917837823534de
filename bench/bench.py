#!/usr/bin/env python3
"""Side-by-side EfficientNet-B1 inference benchmark for the GPU machine.

Builds nothing: it takes executables that ptxnet-compile wrote (one per batch
size, named like DIR/effnet_b{batch}_{tag}) and the safetensors weights they
were compiled from, then prints, per batch size, the median latency and the
relative error against a float64 reference of:

  ptxnet (each tag found: e.g. sm89_fp32, sm89_tf32, sm90_fp32)
  PyTorch eager fp32, PyTorch eager with TF32, torch.compile(max-autotune)

all on the same weights and the same random inputs, and the floor: the model's
FLOPs over the measured matrix rates, and its minimum bytes (input, weights,
output once) over the measured copy bandwidth.

  python3 bench/bench.py --exe-dir devcarry --weights devcarry/weights.safetensors
"""
import argparse
import glob
import os
import re
import subprocess
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "examples", "efficientnet_b1"))
import export  # noqa: E402  (the reference model and safetensors reader)


def rel_err(out, ref):
    out = torch.as_tensor(out, dtype=torch.float64).cpu()
    ref = torch.as_tensor(ref, dtype=torch.float64).cpu()
    if not torch.isfinite(out).all():
        return float("inf")
    return float((out - ref).norm() / ref.norm())


def time_cuda(fn, warmup=20, reps=100):
    """Median of per-call CUDA-event timings after a warm-up."""
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        s = torch.cuda.Event(enable_timing=True)
        e = torch.cuda.Event(enable_timing=True)
        s.record()
        fn()
        e.record()
        e.synchronize()
        times.append(s.elapsed_time(e))
    times.sort()
    return times[len(times) // 2]


def model_flops(batch):
    """2 * MACs of every conv and the linear layer."""
    flops, hw = 0, 120
    flops += 2 * 3 * 32 * 9 * hw * hw
    cin = 32
    for (ci, hidden, cout, stride) in export.BLOCKS:
        flops += 2 * ci * hidden * hw * hw
        hw = (hw + 2 - 3) // stride + 1
        flops += 2 * hidden * 9 * hw * hw
        flops += 2 * hidden * cout * hw * hw
        cin = cout
    flops += 2 * cin * 1280 * hw * hw + 2 * 1280 * 1000
    return flops * batch


def measure_ceilings():
    n = 8192
    a = torch.randn(n, n, device="cuda")
    b = torch.randn(n, n, device="cuda")
    rates = {}
    for name, tf32 in (("fp32", False), ("tf32", True)):
        torch.backends.cuda.matmul.allow_tf32 = tf32
        ms = time_cuda(lambda: a @ b, warmup=3, reps=10)
        rates[name] = 2 * n ** 3 / (ms * 1e-3)
    torch.backends.cuda.matmul.allow_tf32 = False
    x = torch.empty(1 << 30, dtype=torch.uint8, device="cuda")
    y = torch.empty_like(x)
    ms = time_cuda(lambda: y.copy_(x), warmup=3, reps=10)
    rates["copy"] = 2 * x.numel() / (ms * 1e-3)
    del a, b, x, y
    return rates


def run_ptxnet(exe, inp, ref, reps, workdir):
    out = os.path.join(workdir, "ptxnet_out.npy")
    r = subprocess.run([exe, "--input", inp, "--output", out, "--check", ref,
                        "--tolerance", "1", "--bench", str(reps)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        return None, None, (r.stdout + r.stderr).strip()[-400:]
    m = re.search(r"median ([0-9.]+) ms", r.stdout)
    e = re.search(r"relative error ([0-9.e+-]+)", r.stdout)
    return float(m.group(1)), float(e.group(1)), r.stdout.strip().splitlines()[-2]


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--exe-dir", required=True)
    ap.add_argument("--weights", required=True)
    ap.add_argument("--batches", default="1,10,64")
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--no-compile", action="store_true",
                    help="skip torch.compile (it autotunes for minutes)")
    ap.add_argument("--workdir", default="/tmp/ptxnet-bench")
    args = ap.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    print("device: %s, torch %s" % (torch.cuda.get_device_name(), torch.__version__),
          flush=True)

    ceilings = measure_ceilings()
    print("measured: fp32 matmul %.1f TFLOP/s, tf32 matmul %.1f TFLOP/s, "
          "copy %.0f GB/s" % (ceilings["fp32"] / 1e12, ceilings["tf32"] / 1e12,
                              ceilings["copy"] / 1e9), flush=True)

    model = export.EfficientNetB1()
    model.load_state_dict(export.read_safetensors(args.weights), strict=False)
    model.eval()
    ref_model = export.EfficientNetB1().double()
    ref_model.load_state_dict({k: v.double() for k, v in
                               export.read_safetensors(args.weights).items()},
                              strict=False)
    ref_model.eval()
    model = model.cuda()
    nparams = sum(p.numel() for p in model.parameters())

    rows = []
    for batch in [int(b) for b in args.batches.split(",")]:
        gen = torch.Generator().manual_seed(1000 + batch)
        x = torch.randn(batch, 3, 240, 240, generator=gen)
        with torch.no_grad():
            ref = ref_model(x.double())
        inp = os.path.join(args.workdir, "input_b%d.npy" % batch)
        refp = os.path.join(args.workdir, "ref_b%d.npy" % batch)
        np.save(inp, x.numpy())
        np.save(refp, ref.numpy())
        xc = x.cuda()
        flops = model_flops(batch)
        min_bytes = 4 * (x.numel() + nparams + batch * 1000)
        floor_ms = max(flops / ceilings["tf32"], min_bytes / ceilings["copy"]) * 1e3
        print("\nbatch %d: %.2f GFLOP, %.1f MB minimum traffic; floor %.4f ms "
              "(tf32 rate), %.4f ms (fp32 rate), bytes %.4f ms"
              % (batch, flops / 1e9, min_bytes / 1e6, floor_ms,
                 flops / ceilings["fp32"] * 1e3, min_bytes / ceilings["copy"] * 1e3),
              flush=True)

        for exe in sorted(glob.glob(os.path.join(args.exe_dir, "effnet_b%d_*" % batch))):
            if exe.endswith(".ptx"):
                continue
            tag = os.path.basename(exe)[len("effnet_b%d_" % batch):]
            ms, err, note = run_ptxnet(exe, inp, refp, args.reps, args.workdir)
            rows.append((batch, "ptxnet " + tag, ms, err))
            print("  %-28s %s  rel err %s   %s" % ("ptxnet " + tag,
                  "%.4f ms" % ms if ms else "FAILED", "%.2e" % err if err is not None else "-",
                  note if ms is None else ""), flush=True)

        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cuda.matmul.allow_tf32 = False
        with torch.no_grad():
            for name, tf32 in (("torch eager fp32", False), ("torch eager tf32", True)):
                torch.backends.cudnn.allow_tf32 = tf32
                torch.backends.cuda.matmul.allow_tf32 = tf32
                out = model(xc)
                ms = time_cuda(lambda: model(xc), reps=args.reps)
                err = rel_err(out, ref)
                rows.append((batch, name, ms, err))
                print("  %-28s %.4f ms  rel err %.2e" % (name, ms, err), flush=True)
            if not args.no_compile:
                torch.backends.cudnn.allow_tf32 = True
                torch.backends.cuda.matmul.allow_tf32 = True
                t0 = time.time()
                compiled = torch.compile(model, mode="max-autotune")
                # max-autotune replays CUDA graphs: the output buffer is
                # reused by the next call, so keep a copy.
                out = compiled(xc).clone()
                ms = time_cuda(lambda: compiled(xc), reps=args.reps)
                err = rel_err(out, ref)
                name = "torch.compile max-autotune"
                rows.append((batch, name, ms, err))
                print("  %-28s %.4f ms  rel err %.2e  (compiled in %.0f s, tf32 "
                      "allowed)" % (name, ms, err, time.time() - t0), flush=True)
                torch._dynamo.reset()

    print("\n| batch | implementation | median ms | rel. error vs float64 |")
    print("|---|---|---|---|")
    for b, name, ms, err in rows:
        print("| %d | %s | %s | %s |" % (b, name, "%.4f" % ms if ms else "failed",
                                        "%.2e" % err if err is not None else "-"))


if __name__ == "__main__":
    main()
