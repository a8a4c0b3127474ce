#!/usr/bin/python3
"""make_fuzz_seeds.py — tiny synthetic ONNX models, the seeds of fuzz_onnx.

Each model is a few hundred bytes and exercises a different part of the
reader (convolutions and layout, shape arithmetic that must fold, Gemm
after an NCHW flatten, element-wise broadcasting, old and new opsets).

    /usr/bin/python3 tools/golden/onnx/make_fuzz_seeds.py fuzz/seeds/onnx
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.RandomState(7)


def t(name, arr, dtype=np.float32):
    return numpy_helper.from_array(np.asarray(arr, dtype=dtype), name)


def f(*shape):
    return rng.randn(*shape).astype(np.float32) * 0.5


def model(nodes, inits, in_shape, outs, opset):
    g = helper.make_graph(nodes, "seed",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, in_shape)],
                          [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outs],
                          inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 7
    return m


def conv_bn_pool():
    n = [helper.make_node("Conv", ["x", "w", "b"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1]),
         helper.make_node("BatchNormalization", ["c", "g", "be", "m", "v"], ["bn"], epsilon=1e-5),
         helper.make_node("Relu", ["bn"], ["r"]),
         helper.make_node("MaxPool", ["r"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
         helper.make_node("Conv", ["p", "dw"], ["d"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], group=4),
         helper.make_node("AveragePool", ["d"], ["y"], kernel_shape=[3, 3], strides=[1, 1], pads=[1, 1, 1, 1])]
    i = [t("w", f(4, 2, 3, 3)), t("b", f(4)), t("g", f(4)), t("be", f(4)), t("m", f(4)),
         t("v", np.abs(f(4)) + 0.5), t("dw", f(4, 1, 3, 3))]
    return model(n, i, [1, 2, 6, 6], ["y"], 9)


def flatten_gemm():
    n = [helper.make_node("Conv", ["x", "w"], ["c"], kernel_shape=[1, 1]),
         helper.make_node("PRelu", ["c", "s"], ["p"]),
         helper.make_node("Flatten", ["p"], ["fl"], axis=1),
         helper.make_node("Gemm", ["fl", "fw", "fb"], ["y"], transB=1, alpha=0.5, beta=2.0)]
    i = [t("w", f(3, 2, 1, 1)), t("s", f(3, 1, 1)), t("fw", f(5, 3 * 4 * 4)), t("fb", f(5))]
    return model(n, i, [1, 2, 4, 4], ["y"], 11)


def shape_chain():
    n = [helper.make_node("Transpose", ["x"], ["t"], perm=[0, 2, 3, 1]),
         helper.make_node("Shape", ["t"], ["s"]),
         helper.make_node("Constant", [], ["i0"], value=t("i0v", 0, np.int64)),
         helper.make_node("Gather", ["s", "i0"], ["n"], axis=0),
         helper.make_node("Unsqueeze", ["n"], ["nu"], axes=[0]),
         helper.make_node("Concat", ["nu", "m1", "two"], ["shp"], axis=0),
         helper.make_node("Reshape", ["t", "shp"], ["r"]),
         helper.make_node("Softmax", ["r"], ["sm"], axis=2),
         helper.make_node("Slice", ["r"], ["sl"], starts=[0], ends=[1], axes=[2]),
         helper.make_node("Exp", ["sl"], ["e"]),
         helper.make_node("Concat", ["sm", "e"], ["y"], axis=2)]
    i = [t("m1", [-1], np.int64), t("two", [2], np.int64)]
    return model(n, i, [1, 2, 3, 4], ["y"], 9)


def elementwise():
    n = [helper.make_node("Sub", ["x", "mean"], ["a"]),
         helper.make_node("Mul", ["a", "sc"], ["b"]),
         helper.make_node("Conv", ["b", "w"], ["c"], kernel_shape=[1, 1]),
         helper.make_node("Add", ["c", "b"], ["d"]),
         helper.make_node("Div", ["d", "dv"], ["e"]),
         helper.make_node("Clip", ["e", "lo", "hi"], ["cl"]),
         helper.make_node("Pad", ["cl", "pads", "pv"], ["pd"], mode="constant"),
         helper.make_node("GlobalAveragePool", ["pd"], ["gp"]),
         helper.make_node("Sigmoid", ["gp"], ["sg"]),
         helper.make_node("Mul", ["pd", "sg"], ["se"]),
         helper.make_node("ReduceMean", ["se"], ["rm"], axes=[2, 3], keepdims=0),
         helper.make_node("MatMul", ["rm", "mw"], ["mm"]),
         helper.make_node("ReduceL2", ["mm"], ["n2"], axes=[1], keepdims=1),
         helper.make_node("Shape", ["mm"], ["ms"]),
         helper.make_node("Expand", ["n2", "ms"], ["ex"]),
         helper.make_node("Div", ["mm", "ex"], ["y"])]
    i = [t("mean", f(3, 1, 1)), t("sc", 0.5), t("w", f(3, 3, 1, 1)), t("dv", f(1, 3, 1, 1) + 2),
         t("lo", -1.0), t("hi", 1.0), t("pads", [0, 0, 1, 1, 0, 0, 1, 1], np.int64), t("pv", 0.25),
         t("mw", f(3, 4))]
    return model(n, i, [1, 3, 4, 4], ["y"], 13)


def concat_lpnorm():
    n = [helper.make_node("Conv", ["x", "w1"], ["a"], kernel_shape=[3, 3], dilations=[2, 2], pads=[2, 2, 2, 2]),
         helper.make_node("Conv", ["x", "w2"], ["b"], kernel_shape=[1, 1], strides=[2, 2]),
         helper.make_node("MaxPool", ["a"], ["ap"], kernel_shape=[2, 2], strides=[2, 2]),
         helper.make_node("Concat", ["ap", "b"], ["c"], axis=1),
         helper.make_node("LeakyRelu", ["c"], ["l"], alpha=0.2),
         helper.make_node("Reshape", ["l", "shape"], ["r"]),
         helper.make_node("LpNormalization", ["r"], ["y"], axis=1, p=2)]
    i = [t("w1", f(2, 2, 3, 3)), t("w2", f(3, 2, 1, 1)), t("shape", [1, -1], np.int64)]
    return model(n, i, [1, 2, 6, 6], ["y"], 9)


SEEDS = {"conv_bn_pool": conv_bn_pool, "flatten_gemm": flatten_gemm, "shape_chain": shape_chain,
         "elementwise": elementwise, "concat_lpnorm": concat_lpnorm}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "fuzz/seeds/onnx"
    os.makedirs(out, exist_ok=True)
    for name, fn in SEEDS.items():
        m = fn()
        onnx.save(m, os.path.join(out, name + ".onnx"))


if __name__ == "__main__":
    main()
