#!/usr/bin/env python3
"""Builds the reference EfficientNet-B1 (../../../shared/reference/efficientnet_b1.md)
with random weights AND random BatchNorm statistics, puts it in eval() mode and
writes, into --out-dir:

  weights.safetensors  float32 parameters under PyTorch's state_dict names
  input.npy            a random float32 input, batch x 3 x 240 x 240
  reference.npy        the logits computed in float64 (batch x 1000)
  model.onnx           (with --onnx) the model exported by torch.onnx, which
                       folds BatchNorm into the convolutions
  model_bn.onnx        (with --onnx) the same, BatchNormalization kept

Runs with Debian's python3-torch (1.13) and with PyTorch 2.x. The safetensors
file is written by hand (the format is an 8-byte header size, a JSON header,
then raw little-endian data) so no extra package is needed.
"""
import argparse
import json
import os
import struct

import numpy as np
import torch
from torch import nn

# (expand in, hidden, out, depthwise stride) of mbconv1..7
BLOCKS = [
    (32, 32, 16, 1),
    (16, 96, 24, 2),
    (24, 144, 40, 2),
    (40, 240, 80, 2),
    (80, 480, 112, 1),
    (112, 672, 192, 2),
    (192, 1152, 320, 1),
]


def mbconv(cin, hidden, cout, stride):
    return nn.Sequential(
        nn.Conv2d(cin, hidden, 1, bias=False),
        nn.BatchNorm2d(hidden),
        nn.ReLU6(),
        nn.Conv2d(hidden, hidden, 3, stride=stride, padding=1, groups=hidden, bias=False),
        nn.BatchNorm2d(hidden),
        nn.ReLU6(),
        nn.Conv2d(hidden, cout, 1, bias=False),
        nn.BatchNorm2d(cout),
    )


class EfficientNetB1(nn.Module):
    def __init__(self, num_classes=1000):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, 3, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(32)
        for k, (cin, hidden, cout, stride) in enumerate(BLOCKS, start=1):
            setattr(self, "mbconv%d" % k, mbconv(cin, hidden, cout, stride))
        self.conv2 = nn.Conv2d(320, 1280, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(1280)
        self.fc = nn.Linear(1280, num_classes)

    def forward(self, x):
        x = torch.relu(self.bn1(self.conv1(x)))
        for k in range(1, len(BLOCKS) + 1):
            x = getattr(self, "mbconv%d" % k)(x)
        x = torch.relu(self.bn2(self.conv2(x)))
        x = torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1)
        return self.fc(x)


def randomize_batch_norm(model, gen):
    """Random affine parameters and running statistics, so that a compiler that
    ignores (or mis-folds) BatchNorm gives visibly wrong logits."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            c = m.num_features
            m.weight.data = torch.rand(c, generator=gen) * 1.0 + 0.5
            m.bias.data = torch.randn(c, generator=gen) * 0.2
            m.running_mean.data = torch.randn(c, generator=gen) * 0.2
            m.running_var.data = torch.rand(c, generator=gen) * 1.5 + 0.5


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        data = np.ascontiguousarray(t.detach().cpu().numpy().astype("<f4")).tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)  # keep the data 8-byte aligned
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, d in header.items():
        if name == "__metadata__":
            continue
        if d["dtype"] != "F32":
            raise SystemExit("%s: %s is %s, expected F32" % (path, name, d["dtype"]))
        b, e = d["data_offsets"]
        out[name] = torch.from_numpy(
            np.frombuffer(data[b:e], dtype="<f4").reshape(d["shape"]).copy())
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out-dir", default=".")
    ap.add_argument("--batch", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0, help="seed of the weights")
    ap.add_argument("--input-seed", type=int, default=None,
                    help="seed of the input (default: seed + 1)")
    ap.add_argument("--onnx", action="store_true", help="also write model.onnx")
    ap.add_argument("--load-weights", metavar="FILE",
                    help="use the weights of this safetensors file instead of "
                         "random ones (and do not write weights.safetensors)")
    args = ap.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)

    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    model = EfficientNetB1()
    randomize_batch_norm(model, gen)
    if args.load_weights:
        model.load_state_dict(read_safetensors(args.load_weights), strict=False)
    model.eval()

    if not args.load_weights:
        state = {k: v for k, v in model.state_dict().items()
                 if not k.endswith("num_batches_tracked")}
        write_safetensors(os.path.join(args.out_dir, "weights.safetensors"), state)

    igen = torch.Generator().manual_seed(
        args.seed + 1 if args.input_seed is None else args.input_seed)
    x = torch.randn(args.batch, 3, 240, 240, generator=igen)
    np.save(os.path.join(args.out_dir, "input.npy"), x.numpy().astype(np.float32))
    with torch.no_grad():
        ref = model.double()(x.double())
    np.save(os.path.join(args.out_dir, "reference.npy"), ref.numpy())
    model.float()

    if args.onnx:
        for name, mode in (("model.onnx", torch.onnx.TrainingMode.EVAL),
                           ("model_bn.onnx", torch.onnx.TrainingMode.PRESERVE)):
            torch.onnx.export(model, x, os.path.join(args.out_dir, name),
                              input_names=["input"], output_names=["logits"],
                              opset_version=13, training=mode)
    print("wrote %s (batch %d, |ref| = %.4g)" % (args.out_dir, args.batch,
                                                float(ref.norm())))


if __name__ == "__main__":
    main()
