#!/usr/bin/env python3
"""Writes small safetensors files for the tests (standard library only).

usage: make_safetensors.py OUT KIND
  good       conv.weight [2,1,1,1] = 1,2 ; conv.bias [2] = 0.5,-0.5 ; f64 [2] F64
  truncated  a header that promises more bytes than the file holds
  badjson    a header that is not JSON
"""
import json
import struct
import sys


def write(path, tensors, raw_header=None):
    header, blobs, offset = {}, [], 0
    for name, (dtype, shape, values) in tensors.items():
        fmt = {"F32": "<%df", "F64": "<%dd"}[dtype] % len(values)
        data = struct.pack(fmt, *values)
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = raw_header if raw_header is not None else json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


out, kind = sys.argv[1], sys.argv[2]
if kind == "good":
    write(out, {"conv.weight": ("F32", [2, 1, 1, 1], [1.0, 2.0]),
                "conv.bias": ("F32", [2], [0.5, -0.5]),
                "f64": ("F64", [2], [1.0, 2.0])})
elif kind == "truncated":
    with open(out, "wb") as f:
        f.write(struct.pack("<Q", 4096) + b'{"a": 1}')
elif kind == "badjson":
    write(out, {}, raw_header=b"{not json")
else:
    sys.exit("unknown kind " + kind)
