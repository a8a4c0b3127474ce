#!/usr/bin/python3
"""make_user_onnx.py — the two user-supplied architectures, with random weights.

Builds, as ONNX graphs written the way PyTorch's exporter writes them:
  facenet.onnx    InceptionResnetV1 (facenet-pytorch): 160x160 RGB in,
                  512-d L2-normalised embedding out; opset 13.
  iresnet50.onnx  InsightFace iresnet50 (as w600k_r50.onnx): 112x112 RGB in
                  (raw 0..255, normalised in-graph by Sub/Mul), 512-d out;
                  opset 11.
Weights come from np.random.RandomState(seed), so every run writes the
same bytes. Conv weights use He scaling and BatchNorm has non-trivial
random statistics, so activations stay finite but nothing is an identity.

    /usr/bin/python3 tools/make_user_onnx.py OUTDIR [facenet] [iresnet50]

Needs Debian's python3-onnx and python3-numpy (not the pyenv python3).
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


class Builder:
    """Accumulates nodes and initializers; names follow PyTorch's style."""

    def __init__(self, seed):
        self.rng = np.random.RandomState(seed)
        self.nodes, self.inits = [], []
        self.count = 0

    def name(self, op):
        self.count += 1
        return f"{op}_{self.count}"

    def const(self, name, arr):
        self.inits.append(numpy_helper.from_array(np.asarray(arr), name))
        return name

    def node(self, op, inputs, **attrs):
        n = self.name(op)
        out = n + "_out"
        self.nodes.append(helper.make_node(op, inputs, [out], name=n, **attrs))
        return out

    def conv(self, x, cin, cout, k, stride=1, pad=(0, 0), bias=False, prefix="conv"):
        kh, kw = (k, k) if isinstance(k, int) else k
        w = self.rng.randn(cout, cin, kh, kw) * np.sqrt(2.0 / (cin * kh * kw))
        ins = [x, self.const(prefix + ".weight", w.astype(np.float32))]
        if bias:
            ins.append(self.const(prefix + ".bias", (self.rng.randn(cout) * 0.1).astype(np.float32)))
        return self.node("Conv", ins, kernel_shape=[kh, kw], strides=[stride, stride],
                         pads=[pad[0], pad[1], pad[0], pad[1]], dilations=[1, 1], group=1)

    def bn(self, x, c, eps, prefix, gamma_mean=1.0):
        r = self.rng
        gamma = (gamma_mean * (1.0 + 0.2 * r.randn(c))).astype(np.float32)
        beta = (0.1 * r.randn(c)).astype(np.float32)
        mean = (0.2 * r.randn(c)).astype(np.float32)
        var = (0.5 + r.rand(c)).astype(np.float32)
        ins = [x] + [self.const(f"{prefix}.{n}", a) for n, a in
                     (("weight", gamma), ("bias", beta), ("running_mean", mean), ("running_var", var))]
        return self.node("BatchNormalization", ins, epsilon=eps, momentum=0.9)

    def prelu(self, x, c, prefix):
        slope = (0.25 + 0.05 * self.rng.randn(c, 1, 1)).astype(np.float32)
        return self.node("PRelu", [x, self.const(prefix + ".weight", slope)])

    def relu(self, x):
        return self.node("Relu", [x])

    def scalar(self, v, name):
        return self.const(name, np.array(v, dtype=np.float32))

    def model(self, inp, shape, out, out_shape, opset):
        g = helper.make_graph(self.nodes, "main",
                              [helper.make_tensor_value_info(inp, TensorProto.FLOAT, shape)],
                              [helper.make_tensor_value_info(out, TensorProto.FLOAT, out_shape)],
                              self.inits)
        m = helper.make_model(g, producer_name="pytorch", producer_version="1.13",
                              opset_imports=[helper.make_opsetid("", opset)])
        m.ir_version = 7
        onnx.checker.check_model(m)
        return m


# ---- InceptionResnetV1 (facenet-pytorch) -------------------------------------

def basic_conv(b, x, cin, cout, k, stride=1, pad=(0, 0), prefix="c"):
    """Conv (no bias) + BatchNorm(eps 1e-3) + ReLU."""
    y = b.conv(x, cin, cout, k, stride, pad, prefix=prefix + ".conv")
    y = b.bn(y, cout, 1e-3, prefix + ".bn")
    return b.relu(y)


def residual(b, x, branches_out, cin, cat_c, scale, relu, prefix):
    y = b.node("Concat", branches_out, axis=1)
    y = b.conv(y, cat_c, cin, 1, bias=True, prefix=prefix + ".conv2d")
    y = b.node("Mul", [y, b.scalar(scale, prefix + ".scale")])
    y = b.node("Add", [y, x])
    return b.relu(y) if relu else y


def block35(b, x, scale, p):
    b0 = basic_conv(b, x, 256, 32, 1, prefix=p + ".branch0")
    b1 = basic_conv(b, x, 256, 32, 1, prefix=p + ".branch1.0")
    b1 = basic_conv(b, b1, 32, 32, 3, pad=(1, 1), prefix=p + ".branch1.1")
    b2 = basic_conv(b, x, 256, 32, 1, prefix=p + ".branch2.0")
    b2 = basic_conv(b, b2, 32, 32, 3, pad=(1, 1), prefix=p + ".branch2.1")
    b2 = basic_conv(b, b2, 32, 32, 3, pad=(1, 1), prefix=p + ".branch2.2")
    return residual(b, x, [b0, b1, b2], 256, 96, scale, True, p)


def block17(b, x, scale, p):
    b0 = basic_conv(b, x, 896, 128, 1, prefix=p + ".branch0")
    b1 = basic_conv(b, x, 896, 128, 1, prefix=p + ".branch1.0")
    b1 = basic_conv(b, b1, 128, 128, (1, 7), pad=(0, 3), prefix=p + ".branch1.1")
    b1 = basic_conv(b, b1, 128, 128, (7, 1), pad=(3, 0), prefix=p + ".branch1.2")
    return residual(b, x, [b0, b1], 896, 256, scale, True, p)


def block8(b, x, scale, relu, p):
    b0 = basic_conv(b, x, 1792, 192, 1, prefix=p + ".branch0")
    b1 = basic_conv(b, x, 1792, 192, 1, prefix=p + ".branch1.0")
    b1 = basic_conv(b, b1, 192, 192, (1, 3), pad=(0, 1), prefix=p + ".branch1.1")
    b1 = basic_conv(b, b1, 192, 192, (3, 1), pad=(1, 0), prefix=p + ".branch1.2")
    return residual(b, x, [b0, b1], 1792, 384, scale, relu, p)


def mixed_6a(b, x):
    b0 = basic_conv(b, x, 256, 384, 3, stride=2, prefix="mixed_6a.branch0")
    b1 = basic_conv(b, x, 256, 192, 1, prefix="mixed_6a.branch1.0")
    b1 = basic_conv(b, b1, 192, 192, 3, pad=(1, 1), prefix="mixed_6a.branch1.1")
    b1 = basic_conv(b, b1, 192, 256, 3, stride=2, prefix="mixed_6a.branch1.2")
    b2 = b.node("MaxPool", [x], kernel_shape=[3, 3], strides=[2, 2], pads=[0, 0, 0, 0])
    return b.node("Concat", [b0, b1, b2], axis=1)


def mixed_7a(b, x):
    b0 = basic_conv(b, x, 896, 256, 1, prefix="mixed_7a.branch0.0")
    b0 = basic_conv(b, b0, 256, 384, 3, stride=2, prefix="mixed_7a.branch0.1")
    b1 = basic_conv(b, x, 896, 256, 1, prefix="mixed_7a.branch1.0")
    b1 = basic_conv(b, b1, 256, 256, 3, stride=2, prefix="mixed_7a.branch1.1")
    b2 = basic_conv(b, x, 896, 256, 1, prefix="mixed_7a.branch2.0")
    b2 = basic_conv(b, b2, 256, 256, 3, pad=(1, 1), prefix="mixed_7a.branch2.1")
    b2 = basic_conv(b, b2, 256, 256, 3, stride=2, prefix="mixed_7a.branch2.2")
    b3 = b.node("MaxPool", [x], kernel_shape=[3, 3], strides=[2, 2], pads=[0, 0, 0, 0])
    return b.node("Concat", [b0, b1, b2, b3], axis=1)


def torch_flatten(b, x, rest):
    """x.view(x.shape[0], -1) as the exporter writes it (opset 13)."""
    shape = b.node("Shape", [x])
    n = b.node("Gather", [shape, b.const("flatten.index0", np.array(0, dtype=np.int64))], axis=0)
    n = b.node("Unsqueeze", [n, b.const("flatten.axes0", np.array([0], dtype=np.int64))])
    s = b.node("Concat", [n, b.const("flatten.rest", np.array([rest], dtype=np.int64))], axis=0)
    return b.node("Reshape", [x, s])


def facenet():
    b = Builder(seed=160)
    x = "input"
    x = basic_conv(b, x, 3, 32, 3, stride=2, prefix="conv2d_1a")
    x = basic_conv(b, x, 32, 32, 3, prefix="conv2d_2a")
    x = basic_conv(b, x, 32, 64, 3, pad=(1, 1), prefix="conv2d_2b")
    x = b.node("MaxPool", [x], kernel_shape=[3, 3], strides=[2, 2], pads=[0, 0, 0, 0])
    x = basic_conv(b, x, 64, 80, 1, prefix="conv2d_3b")
    x = basic_conv(b, x, 80, 192, 3, prefix="conv2d_4a")
    x = basic_conv(b, x, 192, 256, 3, stride=2, prefix="conv2d_4b")
    for i in range(5):
        x = block35(b, x, 0.17, f"repeat_1.{i}")
    x = mixed_6a(b, x)
    for i in range(10):
        x = block17(b, x, 0.10, f"repeat_2.{i}")
    x = mixed_7a(b, x)
    for i in range(5):
        x = block8(b, x, 0.20, True, f"repeat_3.{i}")
    x = block8(b, x, 1.0, False, "block8")
    x = b.node("GlobalAveragePool", [x])             # AdaptiveAvgPool2d(1)
    x = torch_flatten(b, x, 1792)
    w = (b.rng.randn(1792, 512) * np.sqrt(1.0 / 1792)).astype(np.float32)
    x = b.node("MatMul", [x, b.const("last_linear.weight_t", w)])  # Linear, no bias
    x = b.bn(x, 512, 1e-3, "last_bn")
    # F.normalize(x, p=2, dim=1): x / max(||x||, eps), expanded to x's shape
    n = b.node("ReduceL2", [x], axes=[1], keepdims=1)
    n = b.node("Clip", [n, b.scalar(1e-12, "normalize.eps")])
    n = b.node("Expand", [n, b.node("Shape", [x])])
    y = b.node("Div", [x, n])
    return b.model("input", [1, 3, 160, 160], y, [1, 512], 13)


# ---- iresnet50 (InsightFace arcface_torch) ---------------------------------------

def ibasic_block(b, x, cin, planes, stride, p):
    y = b.bn(x, cin, 1e-5, p + ".bn1")
    y = b.conv(y, cin, planes, 3, pad=(1, 1), prefix=p + ".conv1")
    y = b.bn(y, planes, 1e-5, p + ".bn2")
    y = b.prelu(y, planes, p + ".prelu")
    y = b.conv(y, planes, planes, 3, stride=stride, pad=(1, 1), prefix=p + ".conv2")
    # a small bn3 scale keeps the residual branch small, as in trained
    # ResNets, so 24 blocks do not blow the activations up
    y = b.bn(y, planes, 1e-5, p + ".bn3", gamma_mean=0.3)
    if stride != 1 or cin != planes:
        s = b.conv(x, cin, planes, 1, stride=stride, prefix=p + ".downsample.0")
        s = b.bn(s, planes, 1e-5, p + ".downsample.1")
    else:
        s = x
    return b.node("Add", [y, s])


def iresnet50():
    b = Builder(seed=112)
    x = b.node("Sub", ["input", b.scalar(127.5, "input.mean")])
    x = b.node("Mul", [x, b.scalar(1 / 127.5, "input.scale")])
    x = b.conv(x, 3, 64, 3, pad=(1, 1), prefix="conv1")
    x = b.bn(x, 64, 1e-5, "bn1")
    x = b.prelu(x, 64, "prelu")
    cin = 64
    for li, (planes, blocks) in enumerate(zip((64, 128, 256, 512), (3, 4, 14, 3))):
        for i in range(blocks):
            x = ibasic_block(b, x, cin, planes, 2 if i == 0 else 1, f"layer{li + 1}.{i}")
            cin = planes
    x = b.bn(x, 512, 1e-5, "bn2")
    x = b.node("Flatten", [x], axis=1)                 # dropout is a no-op in eval
    w = (b.rng.randn(512, 512 * 7 * 7) * np.sqrt(1.0 / (512 * 49))).astype(np.float32)
    bias = (0.1 * b.rng.randn(512)).astype(np.float32)
    x = b.node("Gemm", [x, b.const("fc.weight", w), b.const("fc.bias", bias)],
               alpha=1.0, beta=1.0, transB=1)
    y = b.bn(x, 512, 1e-5, "features")
    return b.model("input", [1, 3, 112, 112], y, [1, 512], 11)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    which = sys.argv[2:] or ["facenet", "iresnet50"]
    os.makedirs(out, exist_ok=True)
    for name in which:
        m = {"facenet": facenet, "iresnet50": iresnet50}[name]()
        path = os.path.join(out, name + ".onnx")
        tmp = path + ".tmp"
        onnx.save(m, tmp)
        os.replace(tmp, path)
        print(path)


if __name__ == "__main__":
    main()
