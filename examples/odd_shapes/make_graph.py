#!/usr/bin/env python3
"""A small fused nn graph with awkward shapes, to check the GPU kernels'
edge cases against the CPU evaluator.

Shapes no EfficientNet layer has: 5 input channels, a 17x19 input, 20- and
36-channel layers (not multiples of 16), a 15-pixel map under the pooled
head (not a multiple of 32), a deep narrow layer (split-K, warps sharing K),
batch 3. The weights are random constants in the graph, so no weight file
is needed.

  make_graph.py --out-dir DIR    writes DIR/odd.mlir and DIR/input.npy

With `--graph ring`, DIR/ring.mlir instead: 1x1 convolutions over f16
activations on maps of 12x14, 6x7 and 3x4 pixels (rows of whole 16-, 4- and
8-byte pieces), which take the tensor-core GEMM's cp.async ring, with K not a
multiple of the slice, split K and a pooled head over 12 pixels.

With `--graph dense`, DIR/dense.mlir: small dense convolutions that run as
implicit GEMMs on tensor cores in f16/bf16 (like the stem): a 5x5 stride-1
convolution with padding 2 from 2 channels (50 taps) on a 20x36 map, then a
2x2 stride-2 one without padding from 16 channels (64 taps) into 40, so
partial pixel groups and channel tiles, vector and padded staging.

With `--graph fused`, DIR/fused.mlir: MBConv blocks whose expand 1x1 and
depthwise 3x3 fuse into one tensor-core kernel in f16/bf16 (compile with
`--compose-pointwise off --fuse-expand-depthwise 64`): from the f32 input
(16 channels, 24x40, stride 2), from 40 channels (two K slices, stride 1 on
12x20), from 24 (stride 2), and from 32 channels on a 3x5 map with stride 2
(odd widths: scalar staging, staged rows padded to an even width, scalar
stores).

With `--graph mbconv`, DIR/mbconv.mlir: three MBConv blocks that become
whole-block tensor-core kernels (nn.fused_mbconv) in f16/bf16 (compile with
`--compose-pointwise off --fuse-expand-depthwise 64 --fuse-mbconv-project
64`): from the f32 input into 72 hidden channels (two full blocks of 32 and
a partial one) on a 9x11 map (odd width: scalar stores), projected to 24
outputs; from 24 channels (K padded to a slice), stride 2, into 8 outputs
with a ReLU; from 8 channels, stride 2 onto a 3x3 map, into 16.

With `--graph planes`, DIR/planes.mlir: f16/bf16 activations on 6x10 and 3x5
maps (60 and 15 pixels), which are stored with their channel planes padded
to a multiple of 8 (convert-nn-to-gpu pad-planes): GEMMs over the padded
columns, depthwise convolutions through strided views (pair loads on the
even-width map), and the pooled head, whose input stays dense. Compile it with `--fuse-expand-depthwise 0` (else
the first expand fuses with its depthwise), with and without
`--compose-pointwise off`.

With `--graph linear`, DIR/linear.mlir: linear layers that run on tensor
cores in f16/bf16 with their fragments loaded from device memory
(convert-nn-to-gpu linear-fragments), at batch 11 (two 8-image fragments,
the second partial): a 1x1 convolution whose f16 output, flattened to 1120
features (35 K chunks: the block's 8 warps take 5 rounds, the last partial),
feeds 1120 -> 96 with a ReLU6 (16-bit rows); its float32 output feeds 96 ->
10 (3 warps, the rows as hi + lo halves).

With `--graph widelinear`, DIR/widelinear.mlir: a 28672 -> 16 linear layer
with a ReLU over the f32 input (batch 3), whose 896 K chunks give each of
the fragment kernel's 20 warps 45 rounds: a loop over groups of 4 rounds,
then the last, partial round.

With `--graph gemmdw`, DIR/gemmdw.mlir: expand + depthwise pairs on maps of
at most 64 pixels that run as one tensor-core GEMM with the depthwise in
its epilogue (compile with `--compose-pointwise off --fuse-gemm-depthwise
64`): from the f32 input on 8x8 (one image a column tile), stride 2 from
8x8 onto 4x4, and stride 2 from 4x4 (four images a tile, the last tile
half full at batch 6).

With `--graph pooled`, DIR/pooled.mlir: a pooled head (16 -> 1280 with a
ReLU over 4x8 maps) at batch 64, whose 64-column tiles hold two whole
images each: the means are summed within the block and stored once
(planMmaGemm's poolsInBlock), no atomics.

Then `ptxnet-run --cpu DIR/odd.mlir --input DIR/input.npy --output
DIR/ref.npy` gives the reference, and each compiled program runs with
`--input DIR/input.npy --check DIR/ref.npy` (bench/check-odd-shapes.sh).
"""
import argparse
import os

import numpy as np


def tensor(*shape):
    return "tensor<" + "x".join(map(str, shape)) + "xf32>"


def dense(rng, shape, scale):
    """A random dense constant attribute of the given shape."""
    values = (rng.standard_normal(shape) * scale).astype(np.float32)
    text = np.array2string(values, separator=", ", threshold=10**9,
                           floatmode="unique").replace("\n", "")
    return f"dense<{text}> : {tensor(*shape)}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out-dir", required=True)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--graph",
                    choices=["odd", "ring", "dense", "fused", "planes", "mbconv",
                             "linear", "widelinear", "pooled", "gemmdw"],
                    default="odd")
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    name = args.graph
    batch = {"linear": 11, "pooled": 64, "gemmdw": 6}.get(name, 3)
    in_shape = {"odd": (3, 5, 17, 19), "ring": (3, 70, 12, 14),
                "dense": (3, 2, 20, 36),
                "fused": (3, 16, 24, 40), "planes": (3, 16, 12, 20),
                "mbconv": (3, 24, 9, 11), "linear": (11, 8, 8, 7),
                "widelinear": (3, 28672), "pooled": (64, 16, 4, 8),
                "gemmdw": (6, 40, 8, 8)}[name]
    lines = [f"nn.graph @{name}(%x: {tensor(*in_shape)}) -> {tensor(batch, 10)} {{"]
    value, shape, count = "%x", in_shape, 0

    def conv(oc, k, stride, pad, groups, act, pooled=False):
        nonlocal value, shape, count
        count += 1
        n, c, h, w = shape
        icg = c // groups
        fshape = (oc, icg, k, k)
        lines.append(f"  %w{count} = arith.constant "
                     f"{dense(rng, fshape, 1 / np.sqrt(icg * k * k))}")
        lines.append(f"  %b{count} = arith.constant {dense(rng, (oc,), 0.1)}")
        oh, ow = (h + 2 * pad - k) // stride + 1, (w + 2 * pad - k) // stride + 1
        out = (n, oc, 1, 1) if pooled else (n, oc, oh, ow)
        lines.append(
            f"  %c{count} = nn.fused_conv2d {value}, %w{count}, %b{count} "
            f"strides = [{stride}, {stride}] padding = [{pad}, {pad}, {pad}, {pad}] "
            f"groups = {groups} activation = {act}{' pooled' if pooled else ''} : "
            f"{tensor(*shape)}, {tensor(*fshape)}, {tensor(oc)} -> {tensor(*out)}")
        value, shape = f"%c{count}", out

    def linear(m, act):
        """A linear layer over the flattened `value`."""
        nonlocal value, shape, count
        count += 1
        k = int(np.prod(shape[1:]))
        lines.append(f"  %w{count} = arith.constant "
                     f"{dense(rng, (m, k), 1 / np.sqrt(k))}")
        lines.append(f"  %b{count} = arith.constant {dense(rng, (m,), 0.1)}")
        lines.append(
            f"  %c{count} = nn.fused_linear {value}, %w{count}, %b{count} "
            f"prologue = flatten activation = {act} : {tensor(*shape)}, "
            f"{tensor(m, k)}, {tensor(m)} -> {tensor(shape[0], m)}")
        value, shape = f"%c{count}", (shape[0], m)

    if name == "odd":
        conv(24, 3, 2, 1, 1, "relu")       # stem-like: 5 input channels
        conv(40, 1, 1, 0, 1, "relu6")      # expand from 24 channels
        conv(40, 3, 1, 1, 40, "relu6")     # depthwise, 9x10 map
        conv(20, 1, 1, 0, 1, "none")       # project to 20
        conv(100, 1, 1, 0, 1, "relu6")     # expand from 20
        conv(100, 3, 2, 1, 100, "relu6")   # depthwise stride 2: 5x5
        conv(36, 1, 1, 0, 1, "none")
        conv(264, 1, 1, 0, 1, "none")
        conv(72, 1, 1, 0, 1, "none")       # deep and narrow: split K
        conv(64, 1, 1, 0, 1, "relu", pooled=True)
    elif name == "dense":
        conv(16, 5, 1, 2, 1, "relu6")      # 50 taps, 20x36 output
        conv(40, 2, 2, 0, 1, "relu")       # 64 taps, 10x18 output
        conv(64, 1, 1, 0, 1, "relu", pooled=True)
    elif name == "fused":
        conv(48, 1, 1, 0, 1, "relu6")      # expand from the f32 input
        conv(48, 3, 2, 1, 48, "relu6")     # 12x20
        conv(40, 1, 1, 0, 1, "none")
        conv(96, 1, 1, 0, 1, "relu6")      # expand from 40: two K slices
        conv(96, 3, 1, 1, 96, "relu6")     # stride 1
        conv(24, 1, 1, 0, 1, "none")
        conv(64, 1, 1, 0, 1, "relu6")      # expand from 24
        conv(64, 3, 2, 1, 64, "relu6")     # 6x10
        conv(32, 1, 1, 0, 1, "none")
        conv(32, 3, 2, 1, 32, "relu6")     # 3x5
        conv(48, 1, 1, 0, 1, "relu6")      # expand from 32 on a 3x5 map
        conv(48, 3, 2, 1, 48, "relu6")     # odd widths, stride 2: 2x3
        conv(64, 1, 1, 0, 1, "relu", pooled=True)
    elif name == "mbconv":
        conv(72, 1, 1, 0, 1, "relu6")      # from the f32 input: 3 hidden blocks
        conv(72, 3, 1, 1, 72, "relu6")     # stride 1 on 9x11: odd width
        conv(24, 1, 1, 0, 1, "none")       # 24 outputs: a partial m16 tile
        conv(48, 1, 1, 0, 1, "relu6")      # expand from 24 (padded K)
        conv(48, 3, 2, 1, 48, "relu6")     # stride 2: 5x6
        conv(8, 1, 1, 0, 1, "relu")        # 8 outputs, with an activation
        conv(40, 1, 1, 0, 1, "relu6")      # expand from 8
        conv(40, 3, 2, 1, 40, "relu6")     # stride 2: 3x3
        conv(16, 1, 1, 0, 1, "none")
        conv(64, 1, 1, 0, 1, "relu", pooled=True)
    elif name == "planes":
        conv(16, 3, 2, 1, 16, "relu6")     # 6x10 (60 pixels): padded planes
        conv(40, 1, 1, 0, 1, "relu6")      # a GEMM over padded columns
        conv(40, 3, 1, 1, 40, "relu6")     # pair loads from padded planes
        conv(24, 1, 1, 0, 1, "none")       # a project (composed by default)
        conv(72, 1, 1, 0, 1, "relu6")
        conv(72, 3, 2, 1, 72, "relu6")     # 3x5 (15 pixels): padded again
        conv(96, 1, 1, 0, 1, "relu6")
        conv(96, 3, 1, 1, 96, "relu6")     # into the pooled head: dense
        conv(64, 1, 1, 0, 1, "relu", pooled=True)
    elif name == "linear":
        conv(20, 1, 1, 0, 1, "relu6")      # f16 output, 20 x 8 x 7
        linear(96, "relu6")                # K = 1120: 35 chunks
    elif name == "pooled":
        conv(1280, 1, 1, 0, 1, "relu", pooled=True)  # 32 pixels an image
    elif name == "widelinear":
        linear(16, "relu")                 # K = 28672: 896 chunks
    elif name == "gemmdw":
        conv(96, 1, 1, 0, 1, "relu6")      # from the f32 input, 8x8
        conv(96, 3, 1, 1, 96, "relu6")     # one image a 64-column tile
        conv(48, 1, 1, 0, 1, "none")
        conv(136, 1, 1, 0, 1, "relu6")     # K = 48: one slice
        conv(136, 3, 2, 1, 136, "relu6")   # stride 2 onto 4x4
        conv(72, 1, 1, 0, 1, "relu6")
        conv(72, 3, 2, 1, 72, "relu6")     # 4 images a tile, 2 in the last
        conv(64, 1, 1, 0, 1, "relu", pooled=True)
    else:
        conv(136, 1, 1, 0, 1, "relu6")     # from the f32 input: registers
        conv(136, 3, 1, 1, 136, "relu6")   # f16 activations from here on
        conv(600, 1, 1, 0, 1, "relu6")     # P = 168, K = 136 (4.25 slices)
        conv(72, 1, 1, 0, 1, "none")       # deep and narrow: split K
        conv(200, 1, 1, 0, 1, "relu6")
        conv(200, 3, 2, 1, 200, "relu6")   # 6x7: P = 42, 4-byte pieces
        conv(520, 1, 1, 0, 1, "relu6")
        conv(136, 1, 1, 0, 1, "none")
        conv(136, 3, 2, 1, 136, "relu6")   # 3x4: P = 12, 8-byte pieces
        conv(264, 1, 1, 0, 1, "relu6")
        conv(64, 1, 1, 0, 1, "relu", pooled=True)
    linear(10, "none")
    lines.append(f"  nn.output {value} : {tensor(batch, 10)}")
    lines.append("}")
    os.makedirs(args.out_dir, exist_ok=True)
    with open(os.path.join(args.out_dir, name + ".mlir"), "w") as f:
        f.write("\n".join(lines) + "\n")
    np.save(os.path.join(args.out_dir, "input.npy"),
            rng.standard_normal(in_shape).astype(np.float32))


if __name__ == "__main__":
    main()
