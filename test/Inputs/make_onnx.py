#!/usr/bin/env python3
"""Builds small ONNX models for the importer tests with Debian's python3-onnx,
plus, for the numeric ones, an input and a numpy reference output.

usage: make_onnx.py OUT_DIR
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(0)


def save(name, nodes, inits, inp, outp, opset=13):
    graph = helper.make_graph(nodes, name, [inp], [outp],
                              [numpy_helper.from_array(v, k) for k, v in inits.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    onnx.save(model, os.path.join(out, name + ".onnx"))


def vi(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def const(name, value):
    return helper.make_node("Constant", [], [name],
                            value=numpy_helper.from_array(np.array(value, dtype=np.float32)))


f32 = lambda *s: rng.standard_normal(s).astype(np.float32)

# Conv (bias) + BatchNormalization + Clip(0, 6) from Constant inputs + a
# depthwise Conv + Relu + GlobalAveragePool + Flatten + Gemm(transB=1).
save("cnn", [
    helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], name="conv1", kernel_shape=[3, 3],
                     strides=[2, 2], pads=[1, 1, 1, 1]),
    helper.make_node("BatchNormalization", ["c1", "g", "be", "m", "v"], ["n1"], name="bn1",
                     epsilon=1e-3),
    const("lo", 0.0), const("hi", 6.0),
    helper.make_node("Clip", ["n1", "lo", "hi"], ["r1"], name="clip1"),
    helper.make_node("Conv", ["r1", "wd"], ["c2"], name="dw", kernel_shape=[3, 3],
                     pads=[1, 1, 1, 1], group=4),
    helper.make_node("Relu", ["c2"], ["r2"], name="relu2"),
    helper.make_node("GlobalAveragePool", ["r2"], ["p"], name="pool"),
    helper.make_node("Flatten", ["p"], ["f"], name="flat", axis=1),
    helper.make_node("Gemm", ["f", "fw", "fb"], ["y"], name="fc", transB=1),
], {"w1": f32(4, 3, 3, 3), "b1": f32(4), "g": f32(4), "be": f32(4), "m": f32(4),
    "v": np.abs(f32(4)) + 0.5, "wd": f32(4, 1, 3, 3), "fw": f32(5, 4), "fb": f32(5)},
    vi("x", [2, 3, 8, 8]), vi("y", [2, 5]))

# Flatten + MatMul + Add(bias) -> linear; then Add, Mul and Sigmoid of
# activations. Numeric reference with numpy.
w, b = f32(12, 6), f32(6)
save("mlp", [
    helper.make_node("Flatten", ["x"], ["f"], name="flat"),
    helper.make_node("MatMul", ["f", "w"], ["mm"], name="matmul"),
    helper.make_node("Add", ["mm", "b"], ["h"], name="bias"),
    helper.make_node("Sigmoid", ["h"], ["s"], name="sig"),
    helper.make_node("Mul", ["s", "h"], ["sw"], name="swish"),
    helper.make_node("Add", ["sw", "h"], ["y"], name="residual"),
], {"w": w, "b": b}, vi("x", [2, 3, 2, 2]), vi("y", [2, 6]))
x = f32(2, 3, 2, 2)
h = x.reshape(2, 12).astype(np.float64) @ w + b
s = 1 / (1 + np.exp(-h))
np.save(os.path.join(out, "mlp_input.npy"), x)
np.save(os.path.join(out, "mlp_reference.npy"), s * h + h)

# Opset 6 Clip with min/max attributes (ReLU6), Gemm with transB = 0.
save("clip_attr", [
    helper.make_node("Clip", ["x"], ["c"], name="clip6", min=0.0, max=6.0),
    helper.make_node("Gemm", ["c", "w"], ["y"], name="fc"),
], {"w": f32(4, 3)}, vi("x", [2, 4]), vi("y", [2, 3]), opset=6)

# Errors.
save("softmax", [helper.make_node("Softmax", ["x"], ["y"], name="probs")], {},
     vi("x", [2, 4]), vi("y", [2, 4]))
save("bad_clip", [helper.make_node("Clip", ["x"], ["y"], name="clamp", min=-1.0, max=1.0)],
     {}, vi("x", [2, 4]), vi("y", [2, 4]), opset=6)
save("dilated", [helper.make_node("Conv", ["x", "w"], ["y"], name="atrous", kernel_shape=[3, 3],
                                  dilations=[2, 2])],
     {"w": f32(2, 3, 3, 3)}, vi("x", [1, 3, 8, 8]), vi("y", [1, 2, 4, 4]))
save("dynamic", [helper.make_node("Relu", ["x"], ["y"], name="r")], {},
     vi("x", ["N", 4]), vi("y", ["N", 4]))
save("broadcast", [helper.make_node("Add", ["x", "c"], ["y"], name="plus")],
     {"c": f32(4)}, vi("x", [2, 4]), vi("y", [2, 4]))
with open(os.path.join(out, "cnn.onnx"), "rb") as f:
    data = f.read()
with open(os.path.join(out, "truncated.onnx"), "wb") as f:
    f.write(data[: len(data) // 2])
with open(os.path.join(out, "garbage.onnx"), "wb") as f:
    f.write(b"\xff\xfe this is not a protobuf \x00\x01" * 8)
