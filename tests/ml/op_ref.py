#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Single-operator ONNX models with NumPy references, for tests/ml/test_ml_ops.c.

Usage: op_ref.py DIR. Writes DIR/manifest and, per case, DIR/<case>.onnx, <case>.in<i> and
<case>.out<i> (raw little-endian float32). Manifest lines:
  run NAME BATCH N_IN N_OUT       -- run the model; outputs within 1e-5 relative, 1e-6 absolute
  error NAME STATUS TEXT...       -- loading fails with status STATUS and a detail holding TEXT
Exits 77 when python3-onnx or python3-numpy is missing.
"""
import os
import sys

try:
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper
except ImportError as e:  # the C test reports the skip
    print(f"op_ref.py: {e} (apt-get install python3-onnx python3-numpy)", file=sys.stderr)
    sys.exit(77)

rng = np.random.default_rng(17)
out_dir = sys.argv[1]
manifest = []
F = TensorProto.FLOAT


def rand(*shape, lo=-2.0, hi=2.0):
    return rng.uniform(lo, hi, size=shape).astype(np.float32)


def vi(name, shape, elem=F):
    return helper.make_tensor_value_info(name, elem, shape)


def model(name, nodes, inputs, outputs, inits=(), opset=13, ml=False):
    opsets = [helper.make_opsetid("", opset)]
    if ml:
        opsets.append(helper.make_opsetid("ai.onnx.ml", 1))
    g = helper.make_graph(nodes, name, inputs, outputs,
                          [numpy_helper.from_array(v, k) for k, v in inits])
    m = helper.make_model(g, opset_imports=opsets, producer_name="ccz-op-ref")
    m.ir_version = 8
    return m


def case(name, m, ins, outs):
    """ins: batch-major float32 arrays for the graph inputs; outs: references (float64 ok)."""
    with open(os.path.join(out_dir, name + ".onnx"), "wb") as f:
        f.write(m.SerializeToString())
    for i, x in enumerate(ins):
        np.ascontiguousarray(x, dtype="<f4").tofile(os.path.join(out_dir, f"{name}.in{i}"))
    for i, y in enumerate(outs):
        np.ascontiguousarray(y, dtype="<f4").tofile(os.path.join(out_dir, f"{name}.out{i}"))
    manifest.append(f"run {name} {ins[0].shape[0]} {len(ins)} {len(outs)}")


def error(name, m, status, text):
    with open(os.path.join(out_dir, name + ".onnx"), "wb") as f:
        f.write(m if isinstance(m, bytes) else m.SerializeToString())
    manifest.append(f"error {name} {status} {text}")


def simple(name, op, x_shape, ref, attrs=None, inits=(), extra_inputs=(), opset=13, n=3):
    """One node: graph input X (batched) plus initializers; output Y."""
    x = rand(n, *x_shape)
    node = helper.make_node(op, ["X"] + [k for k, _ in inits] + list(extra_inputs), ["Y"],
                            name=name, **(attrs or {}))
    y = ref(x.astype(np.float64))
    m = model(name, [node], [vi("X", ["N"] + list(x_shape))], [vi("Y", ["N"] + list(y.shape[1:]))],
              inits, opset)
    case(name, m, [x], [y])


# ---- elementwise ---------------------------------------------------------------------------
for op, fn in [("Add", np.add), ("Sub", np.subtract), ("Mul", np.multiply), ("Div", np.divide)]:
    a_shape = (3, 4, 5)
    # both inputs from the batch, same shape
    a, b = rand(2, *a_shape), rand(2, *a_shape, lo=0.5, hi=2.0)
    node = helper.make_node(op, ["A", "B"], ["Y"], name=op)
    m = model(op + "_same", [node], [vi("A", ["N", 3, 4, 5]), vi("B", ["N", 3, 4, 5])],
              [vi("Y", ["N", 3, 4, 5])])
    case(op + "_same", m, [a, b], [fn(a.astype(np.float64), b.astype(np.float64))])
    # broadcasting a constant: per channel (4,1), a row (5,), a scalar
    for tag, shape in [("chan", (4, 1)), ("row", (5,)), ("scalar", ())]:
        c = rand(*shape, lo=0.5, hi=2.0) if shape else np.array(1.5, dtype=np.float32)
        simple(f"{op}_bcast_{tag}", op, (3, 4, 5), lambda x, c=c: fn(x, c.astype(np.float64)),
               inits=[("C", c)])
    # the constant first: C op X
    c = rand(4, 5, lo=0.5, hi=2.0)
    x = rand(2, 3, 4, 5, lo=0.5, hi=2.0)
    node = helper.make_node(op, ["C", "X"], ["Y"], name=op)
    m = model(op + "_const_first", [node], [vi("X", ["N", 3, 4, 5])], [vi("Y", ["N", 3, 4, 5])],
              [("C", c)])
    case(op + "_const_first", m, [x], [fn(c.astype(np.float64), x.astype(np.float64))])

# ---- activations -----------------------------------------------------------------------------
simple("Relu", "Relu", (4, 7), lambda x: np.maximum(x, 0))
simple("Sigmoid", "Sigmoid", (4, 7), lambda x: 1 / (1 + np.exp(-x)))
simple("Tanh", "Tanh", (4, 7), np.tanh)
simple("Identity", "Identity", (2, 3), lambda x: x)
simple("Dropout", "Dropout", (2, 3), lambda x: x, opset=13)


def softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


simple("Softmax_last", "Softmax", (3, 6), lambda x: softmax(x, -1))
simple("Softmax_axis1", "Softmax", (3, 6), lambda x: softmax(x, 1), {"axis": 1})
# logits beyond exp's float range (e^89 overflows): the maximum must be subtracted first
x = rand(3, 3, 6, lo=200.0, hi=1000.0)
m = model("Softmax_large", [helper.make_node("Softmax", ["X"], ["Y"], name="Softmax_large")],
          [vi("X", ["N", 3, 6])], [vi("Y", ["N", 3, 6])])
case("Softmax_large", m, [x], [softmax(x.astype(np.float64), -1)])


def softmax_2d(x, axis):  # opset < 13: over the flattened dims from axis on
    s = x.reshape(int(np.prod(x.shape[:axis])), -1)
    return softmax(s, 1).reshape(x.shape)


simple("Softmax_opset11", "Softmax", (3, 6), lambda x: softmax_2d(x, 1), opset=11)

# ---- matrix products -----------------------------------------------------------------------
for ta in (0,):
    for tb in (0, 1):
        K, Nn = 37, 45
        b = rand(Nn, K) if tb else rand(K, Nn)
        c = rand(Nn)
        bb = b.T if tb else b
        simple(f"Gemm_tB{tb}", "Gemm", (K,),
               lambda x, bb=bb, c=c: 0.5 * x @ bb.astype(np.float64) + 2.0 * c,
               {"alpha": 0.5, "beta": 2.0, "transB": tb}, [("B", b), ("C", c)], n=19)
GB = rand(70, 33)
simple("Gemm_noC", "Gemm", (70,), lambda x: x @ GB.astype(np.float64), inits=[("B", GB)], n=9)
GC = rand(1, 33)
simple("Gemm_C_row", "Gemm", (70,), lambda x: x @ GB.astype(np.float64) + GC,
       inits=[("B", GB), ("C", GC)], n=9)
MB = rand(24, 40)
simple("MatMul_2d", "MatMul", (24,), lambda x: x @ MB.astype(np.float64), inits=[("B", MB)], n=17)
simple("MatMul_3d", "MatMul", (5, 24), lambda x: x @ MB.astype(np.float64), inits=[("B", MB)], n=4)
# two batched operands
a, b = rand(3, 4, 6), rand(3, 6, 5)
node = helper.make_node("MatMul", ["A", "B"], ["Y"], name="mm")
m = model("MatMul_stacked", [node], [vi("A", ["N", 4, 6]), vi("B", ["N", 6, 5])],
          [vi("Y", ["N", 4, 5])])
case("MatMul_stacked", m, [a, b], [a.astype(np.float64) @ b.astype(np.float64)])
# B computed by a node (not an initializer the loader lays out once): read from its buffer,
# transposed there when transB says so
for tb in (0, 1):
    bn = rand(9, 6) if tb else rand(6, 9)
    xg = rand(4, 6)
    m = model(f"Gemm_B_computed_tB{tb}",
              [helper.make_node("Relu", ["B0"], ["B"], name="r"),
               helper.make_node("Gemm", ["X", "B"], ["Y"], name="g", transB=tb)],
              [vi("X", ["N", 6])], [vi("Y", ["N", 9])], [("B0", bn)])
    bb = np.maximum(bn, 0).astype(np.float64)
    case(f"Gemm_B_computed_tB{tb}", m, [xg], [xg.astype(np.float64) @ (bb.T if tb else bb)])


# ---- convolution and pools -------------------------------------------------------------------
def conv_ref(x, w, b, strides=(1, 1), pads=(0, 0, 0, 0), dil=(1, 1), group=1):
    n, c, h, wd = x.shape
    m, cg, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])))
    eh, ew = (kh - 1) * dil[0] + 1, (kw - 1) * dil[1] + 1
    oh = (xp.shape[2] - eh) // strides[0] + 1
    ow = (xp.shape[3] - ew) // strides[1] + 1
    y = np.zeros((n, m, oh, ow))
    mg = m // group
    for g in range(group):
        for i in range(oh):
            for j in range(ow):
                patch = xp[:, g * cg:(g + 1) * cg,
                           i * strides[0]:i * strides[0] + eh:dil[0],
                           j * strides[1]:j * strides[1] + ew:dil[1]]
                y[:, g * mg:(g + 1) * mg, i, j] = np.tensordot(patch, w[g * mg:(g + 1) * mg],
                                                               axes=([1, 2, 3], [1, 2, 3]))
    if b is not None:
        y += b.reshape(1, -1, 1, 1)
    return y


def conv_case(name, cin, h, w_, m, k, n=2, bias=True, **kw):
    # weights scaled as trained networks have them (fan-in), so that float32 sums stay within
    # the tolerance of a float64 reference
    w = rand(m, cin // kw.get("group", 1), k, k) / np.float32(np.sqrt(cin // kw.get("group", 1) * k * k))
    b = rand(m) if bias else None
    attrs = {}
    if "strides" in kw:
        attrs["strides"] = list(kw["strides"])
    if "pads" in kw:
        attrs["pads"] = list(kw["pads"])
    if "dil" in kw:
        attrs["dilations"] = list(kw["dil"])
    if "group" in kw:
        attrs["group"] = kw["group"]
    inits = [("W", w)] + ([("Bias", b)] if bias else [])
    simple(name, "Conv", (cin, h, w_),
           lambda x: conv_ref(x, w.astype(np.float64), None if b is None else b.astype(np.float64),
                              **kw), {"kernel_shape": [k, k], **attrs}, inits, n=n)


conv_case("Conv_basic", 3, 8, 9, 4, 3)
conv_case("Conv_pad_stride", 2, 9, 9, 5, 3, strides=(2, 2), pads=(1, 1, 1, 1))
conv_case("Conv_asym_pad", 2, 7, 6, 3, 3, pads=(0, 1, 2, 1), bias=False)
conv_case("Conv_dilated", 2, 10, 10, 3, 3, dil=(2, 2))
conv_case("Conv_group", 4, 6, 6, 6, 3, group=2)
conv_case("Conv_lenet1", 1, 28, 28, 6, 5, n=3, pads=(2, 2, 2, 2))
# one image: on more threads than images, the image's products are shared out instead
conv_case("Conv_one_image", 2, 8, 8, 3, 3, n=1, pads=(1, 1, 1, 1))
# SAME_UPPER: pads from the output size ceil(H / stride)
w_su = rand(4, 2, 3, 3)
simple("Conv_same_upper", "Conv", (2, 7, 7),
       lambda x: conv_ref(x, w_su.astype(np.float64), None, strides=(2, 2), pads=(1, 1, 1, 1)),
       {"auto_pad": "SAME_UPPER", "strides": [2, 2]}, [("W", w_su)])
# a constant of two images through Conv, added to a batched X: each image is computed, not the
# first only (the second was left as the workspace held it, another request's data)
img_ci, w_ci, b_ci = rand(2, 1, 3, 3), rand(2, 1, 2, 2), rand(2)
c_ci = conv_ref(img_ci.astype(np.float64), w_ci.astype(np.float64), b_ci.astype(np.float64))
x_ci = rand(3, 2, 2, 2, 2)
case("Conv_constant_images",
     model("m", [helper.make_node("Conv", ["IMG", "W", "B"], ["C"], name="c"),
                 helper.make_node("Add", ["X", "C"], ["Y"], name="a")],
           [vi("X", ["N", 2, 2, 2, 2])], [vi("Y", ["N", 2, 2, 2, 2])],
           [("IMG", img_ci), ("W", w_ci), ("B", b_ci)]),
     [x_ci], [x_ci.astype(np.float64) + c_ci])


def pool_ref(x, k, s, pads=(0, 0, 0, 0), kind="max", include_pad=False, ceil=False):
    n, c, h, w = x.shape
    def osz(size, kk, ss, p0, p1):
        if ceil:
            o = -(-(size + p0 + p1 - kk) // ss) + 1
            if (o - 1) * ss >= size + p0:
                o -= 1
            return o
        return (size + p0 + p1 - kk) // ss + 1
    oh, ow = osz(h, k[0], s[0], pads[0], pads[2]), osz(w, k[1], s[1], pads[1], pads[3])
    y = np.zeros((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            y0, x0 = i * s[0] - pads[0], j * s[1] - pads[1]
            y1, x1 = y0 + k[0], x0 + k[1]
            win = x[:, :, max(y0, 0):min(y1, h), max(x0, 0):min(x1, w)]
            if kind == "max":
                y[:, :, i, j] = win.max(axis=(2, 3))
            else:
                cnt = win.shape[2] * win.shape[3]
                if include_pad:
                    cnt = (min(y1, h + pads[2]) - y0) * (min(x1, w + pads[3]) - x0)
                y[:, :, i, j] = win.sum(axis=(2, 3)) / cnt
    return y


simple("MaxPool_2x2", "MaxPool", (3, 8, 8), lambda x: pool_ref(x, (2, 2), (2, 2)),
       {"kernel_shape": [2, 2], "strides": [2, 2]})
simple("MaxPool_3x3_pad", "MaxPool", (2, 7, 7), lambda x: pool_ref(x, (3, 3), (2, 2), (1, 1, 1, 1)),
       {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]})
simple("MaxPool_ceil", "MaxPool", (2, 7, 7), lambda x: pool_ref(x, (2, 2), (2, 2), ceil=True),
       {"kernel_shape": [2, 2], "strides": [2, 2], "ceil_mode": 1})


def maxpool_dilated(x, k, d):  # stride 1, no padding: window elements d apart
    n, c, h, w = x.shape
    eh, ew = (k[0] - 1) * d[0] + 1, (k[1] - 1) * d[1] + 1
    y = np.full((n, c, h - eh + 1, w - ew + 1), -np.inf)
    for a in range(k[0]):
        for b in range(k[1]):
            y = np.maximum(y, x[:, :, a * d[0]:a * d[0] + h - eh + 1, b * d[1]:b * d[1] + w - ew + 1])
    return y


simple("MaxPool_dilated", "MaxPool", (2, 7, 7), lambda x: maxpool_dilated(x, (2, 3), (2, 2)),
       {"kernel_shape": [2, 3], "dilations": [2, 2]})
simple("AveragePool_2x2", "AveragePool", (3, 8, 8), lambda x: pool_ref(x, (2, 2), (2, 2), kind="avg"),
       {"kernel_shape": [2, 2], "strides": [2, 2]})
simple("AveragePool_pad_excl", "AveragePool", (2, 7, 7),
       lambda x: pool_ref(x, (3, 3), (2, 2), (1, 1, 1, 1), kind="avg"),
       {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]})
simple("AveragePool_pad_incl", "AveragePool", (2, 7, 7),
       lambda x: pool_ref(x, (3, 3), (2, 2), (1, 1, 1, 1), kind="avg", include_pad=True),
       {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1], "count_include_pad": 1})
# pads differing by side (top 0, left 2, bottom 1, right 1): the rows take the top's, the
# columns the left's
simple("AveragePool_asym_pad", "AveragePool", (2, 6, 7),
       lambda x: pool_ref(x, (3, 3), (1, 2), (0, 2, 1, 1), kind="avg"),
       {"kernel_shape": [3, 3], "strides": [1, 2], "pads": [0, 2, 1, 1]})
simple("GlobalAveragePool", "GlobalAveragePool", (4, 5, 6), lambda x: x.mean(axis=(2, 3), keepdims=True))

# ---- normalisation and layout --------------------------------------------------------------------
sc, bi, mu, var = rand(4), rand(4), rand(4), rand(4, lo=0.1, hi=2.0)
simple("BatchNormalization", "BatchNormalization", (4, 3, 5),
       lambda x: (x - mu.reshape(1, 4, 1, 1)) / np.sqrt(var.reshape(1, 4, 1, 1).astype(np.float64) + 1e-3)
       * sc.reshape(1, 4, 1, 1) + bi.reshape(1, 4, 1, 1),
       {"epsilon": 1e-3}, [("scale", sc), ("B", bi), ("mean", mu), ("var", var)])
simple("Flatten", "Flatten", (3, 4, 5), lambda x: x.reshape(x.shape[0], -1))
simple("Flatten_neg", "Flatten", (1, 4, 5), lambda x: x.reshape(x.shape[0], -1), {"axis": -2})
simple("Reshape_keep_batch", "Reshape", (3, 4, 5), lambda x: x.reshape(x.shape[0], 12, 5),
       inits=[("shape", np.array([0, 12, -1], dtype=np.int64))])
simple("Reshape_minus1_first", "Reshape", (3, 4), lambda x: x.reshape(-1, 2, 6),
       inits=[("shape", np.array([-1, 2, 6], dtype=np.int64))])
simple("Transpose", "Transpose", (3, 4, 5), lambda x: x.transpose(0, 2, 3, 1), {"perm": [0, 2, 3, 1]})
a, b = rand(2, 3, 4), rand(2, 5, 4)
node = helper.make_node("Concat", ["A", "B"], ["Y"], name="cat", axis=1)
m = model("Concat", [node], [vi("A", ["N", 3, 4]), vi("B", ["N", 5, 4])], [vi("Y", ["N", 8, 4])])
case("Concat", m, [a, b], [np.concatenate([a, b], axis=1)])
cc = rand(3, 2)
node = helper.make_node("Concat", ["A", "C"], ["Y"], name="cat", axis=-1)
m = model("Concat_last", [node], [vi("A", [3, 4])], [vi("Y", [3, 6])], [("C", cc)])
a = rand(3, 4)
# a fixed first dimension is the batch too: a batch of 3 rows here, so C must be batched: refused
error("Concat_const_batch", m, "malformed", "another rank or batch")

# ---- ai.onnx.ml ----------------------------------------------------------------------------------
F_, E_ = 6, 4
coef, icpt = rand(E_, F_), rand(E_)
for post in ("NONE", "LOGISTIC", "SOFTMAX"):
    x = rand(7, F_)
    s = x.astype(np.float64) @ coef.T.astype(np.float64) + icpt
    z = {"NONE": s, "LOGISTIC": 1 / (1 + np.exp(-s)), "SOFTMAX": softmax(s, 1)}[post]
    labels = np.array([10, 20, 30, 40])
    node = helper.make_node("LinearClassifier", ["X"], ["L", "Z"], name="lc", domain="ai.onnx.ml",
                            coefficients=coef.ravel().tolist(), intercepts=icpt.tolist(),
                            classlabels_ints=labels.tolist(), post_transform=post)
    m = model(f"LinearClassifier_{post}", [node], [vi("X", ["N", F_])],
              [vi("L", ["N"], TensorProto.INT64), vi("Z", ["N", E_])], ml=True)
    case(f"LinearClassifier_{post}", m, [x], [labels[s.argmax(1)], z])
# SOFTMAX_ZERO: a score of exactly 0 stays 0, the others share 1
cz, iz = rand(3, F_), rand(3)
cz[1], iz[1] = 0, 0
x = rand(4, F_)
s = x.astype(np.float64) @ cz.T.astype(np.float64) + iz
e = np.where(s != 0, np.exp(s - np.where(s != 0, s, -np.inf).max(1, keepdims=True)), 0)
node = helper.make_node("LinearClassifier", ["X"], ["L", "Z"], name="lc", domain="ai.onnx.ml",
                        coefficients=cz.ravel().tolist(), intercepts=iz.tolist(),
                        classlabels_ints=[1, 2, 3], post_transform="SOFTMAX_ZERO")
m = model("LinearClassifier_SOFTMAX_ZERO", [node], [vi("X", ["N", F_])],
          [vi("L", ["N"], TensorProto.INT64), vi("Z", ["N", 3])], ml=True)
case("LinearClassifier_SOFTMAX_ZERO", m, [x],
     [np.array([1, 2, 3])[s.argmax(1)].astype(np.float64), e / e.sum(1, keepdims=True)])
w1, b1 = rand(1, F_), rand(1)
x = rand(9, F_)
s = (x.astype(np.float64) @ w1.T.astype(np.float64) + b1)[:, 0]
node = helper.make_node("LinearClassifier", ["X"], ["L", "Z"], name="lc", domain="ai.onnx.ml",
                        coefficients=w1.ravel().tolist(), intercepts=b1.tolist(),
                        classlabels_ints=[0, 1], post_transform="LOGISTIC")
m = model("LinearClassifier_binary", [node], [vi("X", ["N", F_])],
          [vi("L", ["N"], TensorProto.INT64), vi("Z", ["N", 2])], ml=True)
p = 1 / (1 + np.exp(-s))
case("LinearClassifier_binary", m, [x], [(s > 0).astype(np.float64), np.stack([1 - p, p], 1)])
# a score of exactly 0 is the first label's (the second needs a score above 0), at 1/2 each
node = helper.make_node("LinearClassifier", ["X"], ["L", "Z"], name="lc", domain="ai.onnx.ml",
                        coefficients=[0.0] * F_, intercepts=[0.0], classlabels_ints=[3, 7],
                        post_transform="LOGISTIC")
m = model("LinearClassifier_binary_zero", [node], [vi("X", ["N", F_])],
          [vi("L", ["N"], TensorProto.INT64), vi("Z", ["N", 2])], ml=True)
x = rand(2, F_)
case("LinearClassifier_binary_zero", m, [x], [np.array([3.0, 3.0]), np.full((2, 2), 0.5)])
T_ = 3
coef, icpt = rand(T_, F_), rand(T_)
node = helper.make_node("LinearRegressor", ["X"], ["Y"], name="lr", domain="ai.onnx.ml",
                        coefficients=coef.ravel().tolist(), intercepts=icpt.tolist(), targets=T_)
m = model("LinearRegressor", [node], [vi("X", ["N", F_])], [vi("Y", ["N", T_])], ml=True)
x = rand(5, F_)
case("LinearRegressor", m, [x], [x.astype(np.float64) @ coef.T.astype(np.float64) + icpt])

# ---- a chain: nodes listed out of order are sorted -------------------------------------------------
w = rand(8, 5)
n1 = helper.make_node("Relu", ["H"], ["Y"], name="relu")
n0 = helper.make_node("MatMul", ["X", "W"], ["H"], name="mm")
m = model("Chain_unsorted", [n1, n0], [vi("X", ["N", 8])], [vi("Y", ["N", 5])], [("W", w)])
x = rand(4, 8)
case("Chain_unsorted", m, [x], [np.maximum(x.astype(np.float64) @ w, 0)])

# ---- refused at load ------------------------------------------------------------------------------
def one(op, name, attrs=None, inits=(), x_shape=(4,), y_shape=None, opset=13, domain=None):
    node = helper.make_node(op, ["X"] + [k for k, _ in inits], ["Y"], name=name, domain=domain,
                            **(attrs or {}))
    return model(name, [node], [vi("X", ["N"] + list(x_shape))], [vi("Y", y_shape)], inits, opset)


error("err_unknown_op", one("LSTM", "lstm0"), "unsupported", "node 0 'lstm0' (LSTM): operator LSTM is not supported")
error("err_unknown_attr", one("Relu", "r", {"alpha": 0.1}), "unsupported", "node 0 'r' (Relu): attribute 'alpha' is not supported")
error("err_attr_type", one("Flatten", "f", {"axis": 1.5}), "malformed", "attribute 'axis' has the wrong type")
error("err_gemm_shape", one("Gemm", "g", inits=[("B", rand(5, 2))]), "malformed", "node 0 'g' (Gemm): A has 4 columns and B 5 rows")
error("err_bcast", one("Add", "a", inits=[("C", rand(3))]), "malformed", "shapes do not broadcast (dimension 1: 4 and 3)")
error("err_batch_fixed", one("Add", "a", inits=[("C", rand(2, 4))]), "unsupported", "a fixed dimension 2 meets the batch dimension")
error("err_flatten_batch", one("Flatten", "f", {"axis": 0}), "unsupported", "would merge the batch dimension")
error("err_reshape_batch", one("Reshape", "r", inits=[("s", np.array([2, -1], dtype=np.int64))]), "unsupported", "keep the batch dimension first")
error("err_transpose_batch", one("Transpose", "t", {"perm": [1, 0]}), "unsupported", "keep the batch dimension first")
error("err_conv_rank", one("Conv", "c", inits=[("W", rand(2, 3, 1))], x_shape=(3, 4)), "unsupported", "only 2-D images")
error("err_conv_channels", one("Conv", "c", inits=[("W", rand(2, 2, 3, 3))], x_shape=(3, 8, 8)), "malformed", "the weights have 2 channels per group, the input 3")
error("err_pool_big", one("MaxPool", "p", {"kernel_shape": [9, 9]}, x_shape=(1, 4, 4)), "malformed", "larger than the padded input")
error("err_pool_kernel", one("MaxPool", "p", {}, x_shape=(1, 4, 4)), "malformed", "kernel_shape needs 2 values")
error("err_autopad", one("MaxPool", "p", {"kernel_shape": [2, 2], "auto_pad": "WEIRD"}, x_shape=(1, 4, 4)), "unsupported", "auto_pad 'WEIRD'")
error("err_softmax_batch", one("Softmax", "s", {"axis": 0}), "unsupported", "across the batch")
error("err_opset", one("Relu", "r", opset=6), "unsupported", "opset version 6")
error("err_dropout_mask", model("m", [helper.make_node("Dropout", ["X"], ["Y", "M"], name="d")],
                                [vi("X", ["N", 3])], [vi("Y", ["N", 3])]), "unsupported", "the mask output is not supported")
error("err_output_shape", one("Relu", "r", y_shape=["N", 5]), "malformed",
      "output 'Y' is declared with 2 dimensions other than the [N,4] inferred")
error("err_undefined", model("m", [helper.make_node("Relu", ["Q"], ["Y"], name="r")],
                             [vi("X", ["N", 3])], [vi("Y", ["N", 3])]), "malformed", "input 'Q' is never defined")
error("err_cycle", model("m", [helper.make_node("Add", ["X", "B"], ["A"], name="a1"),
                               helper.make_node("Relu", ["A"], ["B"], name="r1")],
                         [vi("X", ["N", 3])], [vi("A", ["N", 3])]), "malformed", "is part of a cycle")
error("err_twice", model("m", [helper.make_node("Relu", ["X"], ["Y"], name="r1"),
                               helper.make_node("Relu", ["X"], ["Y"], name="r2")],
                         [vi("X", ["N", 3])], [vi("Y", ["N", 3])]), "malformed", "value 'Y' is defined twice")
bad = numpy_helper.from_array(rand(4, 5), "B")
bad.raw_data = bad.raw_data[:-4]
g = helper.make_graph([helper.make_node("MatMul", ["X", "B"], ["Y"], name="mm")], "g",
                      [vi("X", ["N", 4])], [vi("Y", ["N", 5])], [bad])
error("err_short_data", helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), "malformed",
      "initializer 'B': 76 bytes of data for 20 floats")
big = TensorProto(name="B", data_type=F, dims=[1 << 20, 1 << 20])
g = helper.make_graph([helper.make_node("MatMul", ["X", "B"], ["Y"], name="mm")], "g",
                      [vi("X", ["N", 4])], [vi("Y", ["N", 5])], [big])
error("err_dims_overflow", helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), "too_large",
      "'B' has more than 268435456 elements")
g = helper.make_graph([helper.make_node("Relu", ["X"], ["Y"])], "g", [vi("X", ["N", "M"])], [vi("Y", ["N", "M"])])
error("err_input_dim", helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), "unsupported",
      "input 'X': dimension 1 is not fixed")
error("err_int_input", one("MatMul", "mm", inits=[("B", np.ones((4, 2), dtype=np.int64))]), "unsupported",
      "node 0 'mm' (MatMul): input 1 is an int64 tensor (float expected)")
# initializers whose data and dimensions disagree, in each of the two encodings and both types
few = numpy_helper.from_array(rand(4, 5), "B")
few.ClearField("raw_data")
few.float_data.extend(rand(19).tolist())
g = helper.make_graph([helper.make_node("MatMul", ["X", "B"], ["Y"], name="mm")], "g",
                      [vi("X", ["N", 4])], [vi("Y", ["N", 5])], [few])
error("err_float_count", helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), "malformed",
      "initializer 'B': 19 floats of data for 20 elements")
for enc in ("raw", "list"):
    shape = numpy_helper.from_array(np.array([0, 2, 2], dtype=np.int64), "s")
    if enc == "raw":
        shape.raw_data = shape.raw_data[:-8]
        want = "initializer 's': 16 bytes of data for 3 int64s"
    else:
        shape.ClearField("raw_data")
        shape.int64_data.extend([0, 2])
        want = "initializer 's': 2 int64s of data for 3 elements"
    g = helper.make_graph([helper.make_node("Reshape", ["X", "s"], ["Y"], name="r")], "g",
                          [vi("X", ["N", 4])], [vi("Y", ["N", 2, 2])], [shape])
    error("err_int64_" + enc, helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]),
          "malformed", want)
ext = numpy_helper.from_array(rand(4, 5), "B")
ext.ClearField("raw_data")
ext.data_location = TensorProto.EXTERNAL
ext.external_data.add(key="location", value="/etc/passwd")
g = helper.make_graph([helper.make_node("MatMul", ["X", "B"], ["Y"], name="mm")], "g",
                      [vi("X", ["N", 4])], [vi("Y", ["N", 5])], [ext])
error("err_external", helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), "unsupported",
      "initializer 'B': external data is not supported")
# shapes that do not fit together
error("err_matmul_inner", one("MatMul", "mm", inits=[("B", rand(5, 2))]), "malformed",
      "inner dimensions 4 and 5 differ")
error("err_perm", one("Transpose", "t", {"perm": [0, 0]}), "malformed", "perm is not a permutation")
error("err_reshape_two", one("Reshape", "r", inits=[("s", np.array([0, -1, -1], dtype=np.int64))]),
      "malformed", "more than one -1 in the shape")
error("err_reshape_fit", one("Reshape", "r", inits=[("s", np.array([0, 3], dtype=np.int64))]),
      "malformed", "do not fit the new shape")
error("err_gemm_c", one("Gemm", "g", inits=[("B", rand(4, 2)), ("C", rand(3))]), "malformed",
      "C does not broadcast to the result")
error("err_softmax_axis", one("Softmax", "s", {"axis": 5}), "malformed",
      "node 0 's' (Softmax): axis 5 out of range for rank 2")
error("err_concat_axis", one("Concat", "c", {"axis": -3}), "malformed",
      "node 0 'c' (Concat): axis -3 out of range for rank 2")
old_ir = one("Relu", "r")
old_ir.ir_version = 2
error("err_ir_version", old_ir, "unsupported_version", "ml: IR version 2 (3 to 9 supported)")
error("err_not_onnx", b"\xff\xff\xff\xff not a protobuf", "malformed", "not an ONNX model")
error("err_strings", model("m", [helper.make_node("LinearClassifier", ["X"], ["L"], name="lc", domain="ai.onnx.ml",
                                                  coefficients=[1.0, 2.0], classlabels_strings=["a", "b"])],
                           [vi("X", ["N", 2])], [vi("L", ["N"])], ml=True), "unsupported", "string class labels")

# bounds of the loader that only a hostile model reaches: ranks past 8, attribute lists past
# their arrays, strings past their buffers, more inputs, outputs or attributes than a node holds,
# indices and counts that do not match the shapes (each check's absence is a write or read out
# of bounds, a division by zero or a multi-gigabyte workspace)
node = helper.make_node
Y1 = [vi("Y", None)]
# input rank 9
error("err_input_rank9", model("m", [node("Relu", ["X"], ["Y"])], [vi("X", ["N"] + [1] * 7 + [2])], Y1),
      "unsupported", "input 'X' has rank 9")
# attr_ints count
error("err_strides3", model("m", [node("MaxPool", ["X"], ["Y"], kernel_shape=[2, 2], strides=[1, 1, 1])],
                        [vi("X", ["N", 1, 4, 4])], Y1), "unsupported", "attribute 'strides' has 3 values (at most 2)")
# attr_string length
error("err_autopad_long", model("m", [node("MaxPool", ["X"], ["Y"], kernel_shape=[2, 2], auto_pad="SAME_UPPER" + "X" * 40)],
                            [vi("X", ["N", 1, 4, 4])], Y1), "unsupported", "attribute 'auto_pad' has an unsupported value")
# reshape shape rank
error("err_reshape_rank9", model("m", [node("Reshape", ["X", "s"], ["Y"])], [vi("X", ["N", 4])], Y1,
                             [("s", np.array([0] + [1] * 7 + [4], dtype=np.int64))]),
      "unsupported", "a shape of 9 dimensions")
# perm out of range: past the rank, and past every rank
error("err_perm_rank", model("m", [node("Transpose", ["X"], ["Y"], perm=[0, 2])], [vi("X", ["N", 4])], Y1),
      "malformed", "perm is not a permutation")
error("err_perm_range", model("m", [node("Transpose", ["X"], ["Y"], perm=[0, 1000])], [vi("X", ["N", 4])], Y1),
      "malformed", "perm is not a permutation")
# concat axis too large
error("err_concat_axis_high", model("m", [node("Concat", ["X", "X"], ["Y"], axis=1000)], [vi("X", ["N", 4])], Y1),
      "malformed", "axis 1000 out of range for rank 2")
# conv bias
error("err_conv_bias", model("m", [node("Conv", ["X", "W", "B"], ["Y"])], [vi("X", ["N", 3, 8, 8])], Y1,
                         [("W", rand(4, 3, 3, 3)), ("B", rand(1))]),
      "malformed", "the bias must have one value per output channel")
# intercepts
error("err_intercepts", model("m", [node("LinearRegressor", ["X"], ["Y"], domain="ai.onnx.ml", coefficients=[1.0] * 6,
                             intercepts=[0.5] * 4096, targets=1)], [vi("X", ["N", 6])], Y1, ml=True),
      "malformed", "4096 intercepts for 1 targets")
# class labels
error("err_labels", model("m", [node("LinearClassifier", ["X"], ["L"], domain="ai.onnx.ml", coefficients=[1.0] * 6,
                         classlabels_ints=[1, 2])], [vi("X", ["N", 2])], [vi("L", None)], ml=True),
      "malformed", "2 class labels for 3 classes")
# node inputs
error("err_inputs17", model("m", [node("Concat", ["X"] * 17, ["Y"], axis=1)], [vi("X", ["N", 4])], Y1),
      "unsupported", "17 inputs")
# strides zero
error("err_strides0", model("m", [node("MaxPool", ["X"], ["Y"], kernel_shape=[2, 2], strides=[0, 0])],
                        [vi("X", ["N", 1, 4, 4])], Y1), "unsupported", "strides 0,0")
# concat dims differ
error("err_concat_dims", model("m", [node("Concat", ["A", "B"], ["Y"], axis=1)], [vi("A", ["N", 3, 4]), vi("B", ["N", 5, 2])], Y1),
      "malformed", "input 1 differs in dimension 2")
# batchnorm per channel
error("err_bn_channel", model("m", [node("BatchNormalization", ["X", "s", "b", "m", "v"], ["Y"])], [vi("X", ["N", 4, 3])], Y1,
                          [("s", rand(2)), ("b", rand(4)), ("m", rand(4)), ("v", rand(4) + 2)]),
      "malformed", "input 1 must have one float per channel")
# >64 attributes
error("err_attrs65", model("m", [node("Relu", ["X"], ["Y"], **{f"a{i}": i for i in range(65)})], [vi("X", ["N", 4])], Y1),
      "unsupported", "more than 64 attributes")
# node outputs
error("err_outputs3", model("m", [node("Relu", ["X"], ["Y", "Z", "W"])], [vi("X", ["N", 4])], Y1),
      "unsupported", "3 outputs")
# missing input / no output
error("err_missing_input", model("m", [node("Relu", [""], ["Y"])], [vi("X", ["N", 4])], Y1), "malformed", "input 0 is missing")
error("err_no_output", model("m", [node("Relu", ["X"], [""])], [vi("X", ["N", 4])], Y1), "malformed", "no output")
# group
error("err_group0", model("m", [node("Conv", ["X", "W"], ["Y"], group=0)], [vi("X", ["N", 4, 6, 6])], Y1, [("W", rand(4, 4, 3, 3))]),
      "malformed", "group 0 does not divide the channels")
error("err_group_m", model("m", [node("Conv", ["X", "W"], ["Y"], group=2)], [vi("X", ["N", 4, 6, 6])], Y1, [("W", rand(3, 2, 3, 3))]),
      "malformed", "group 2 does not divide the channels")
# pool pads >= kernel
error("err_pool_pads", model("m", [node("AveragePool", ["X"], ["Y"], kernel_shape=[2, 2], pads=[2, 2, 2, 2])],
                         [vi("X", ["N", 1, 4, 4])], Y1), "unsupported", "pads as large as the kernel")
# reshape float shape
error("err_reshape_float", model("m", [node("Reshape", ["X", "s"], ["Y"])], [vi("X", ["N", 4])], Y1,
                             [("s", np.array([0, 4], dtype=np.float32))]), "malformed", "the shape must be a 1-D int64 tensor")
# conv too large
error("err_conv_large", model("m", [node("Conv", ["X", "W"], ["Y"])], [vi("X", ["N", 1, 16384, 16384])], Y1, [("W", rand(1, 1, 3, 3))]),
      "too_large", "the convolution is too large")
# initializer rank 9
error("err_init_rank9", model("m", [node("Add", ["X", "B"], ["Y"])], [vi("X", ["N", 2])], Y1, [("B", rand(*([1] * 8 + [2])))]),
      "unsupported", "'B' has rank 9 (1 to 8 supported)")
# initializer dim 0
error("err_init_dim0", model("m", [node("Add", ["X", "B"], ["Y"])], [vi("X", ["N", 2])], Y1, [("B", np.zeros((0, 2), np.float32))]),
      "unsupported", "'B' dimension 0 is 0 (1 to 268435456 supported)")

# attribute lists of the wrong length (a value left unset otherwise), negative pads, a 1-D
# MatMul operand (its last dimension would be read before its first)
error("err_strides1", model("m", [node("MaxPool", ["X"], ["Y"], kernel_shape=[2, 2], strides=[1])],
                            [vi("X", ["N", 1, 4, 4])], Y1), "malformed", "strides needs 2 values")
error("err_dilations1", model("m", [node("Conv", ["X", "W"], ["Y"], dilations=[1])],
                              [vi("X", ["N", 1, 6, 6])], Y1, [("W", rand(1, 1, 3, 3))]),
      "malformed", "dilations needs 2 values")
error("err_pads3", model("m", [node("MaxPool", ["X"], ["Y"], kernel_shape=[2, 2], pads=[0, 0, 0])],
                         [vi("X", ["N", 1, 4, 4])], Y1), "malformed", "pads needs 4 values")
error("err_pads_negative", model("m", [node("MaxPool", ["X"], ["Y"], kernel_shape=[2, 2], pads=[-1, 0, 0, 0])],
                                 [vi("X", ["N", 1, 4, 4])], Y1), "unsupported", "pads -1,0,0,0")
error("err_matmul_1d", model("m", [node("MatMul", ["X", "B"], ["Y"])], [vi("X", ["N", 4])], Y1,
                             [("B", rand(4))]), "unsupported", "1-D operands are not supported")

# the rest of the loader's refusals: element types, shapes the batch cannot follow, operands of
# the wrong rank, opsets past those implemented, attributes out of their range
g = helper.make_graph([node("MatMul", ["X", "B"], ["Y"])], "g", [vi("X", ["N", 4])], Y1,
                      [numpy_helper.from_array(np.ones((4, 2), dtype=np.float64), "B")])
error("err_init_double", helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]),
      "unsupported", "initializer 'B': data type 11 (only float and int64 are supported)")
error("err_input_double", model("m", [node("Relu", ["X"], ["Y"])], [vi("X", ["N", 4], TensorProto.DOUBLE)], Y1),
      "unsupported", "input 'X' has element type 11 (only float is supported)")
error("err_input_noshape", model("m", [node("Relu", ["X"], ["Y"])], [helper.make_tensor_value_info("X", F, None)], Y1),
      "unsupported", "input 'X' has no shape")
error("err_input_rank0", model("m", [node("Relu", ["X"], ["Y"])], [vi("X", [])], Y1),
      "unsupported", "input 'X' has no shape")
seq = helper.make_value_info("X", helper.make_sequence_type_proto(helper.make_tensor_type_proto(F, ["N", 4])))
error("err_input_sequence", model("m", [node("Relu", ["X"], ["Y"])], [seq], Y1), "unsupported",
      "input 'X' is not a tensor")
error("err_output_const", model("m", [node("Relu", ["C"], ["Y"]), node("Relu", ["X"], ["Z"])],
                                [vi("X", ["N", 4])], Y1, [("C", rand(4))]),
      "unsupported", "output 'Y' does not depend on the batch")
error("err_output_type", model("m", [node("Relu", ["X"], ["Y"])], [vi("X", ["N", 4])], [vi("Y", ["N", 4], TensorProto.DOUBLE)]),
      "unsupported", "output 'Y' has element type 11")
error("err_opset19", one("Relu", "r", opset=19), "unsupported", "opset version 19 of its domain")
ml4 = model("m", [node("LinearRegressor", ["X"], ["Y"], domain="ai.onnx.ml", coefficients=[1.0, 2.0])],
            [vi("X", ["N", 2])], Y1, ml=True)
ml4.opset_import[1].version = 4
error("err_opset_ml4", ml4, "unsupported", "opset version 4 of its domain")
error("err_gemm_rank3", model("m", [node("Gemm", ["X", "B"], ["Y"])], [vi("X", ["N", 2, 4])], Y1, [("B", rand(4, 2))]),
      "malformed", "A and B must be matrices")
error("err_gemm_b_rank1", model("m", [node("Gemm", ["X", "B"], ["Y"])], [vi("X", ["N", 4])], Y1, [("B", rand(4))]),
      "malformed", "A and B must be matrices")
error("err_gemm_transa", model("m", [node("Gemm", ["X", "B"], ["Y"], transA=1)], [vi("X", ["N", 4])], Y1, [("B", rand(4, 2))]),
      "unsupported", "transA would move the batch dimension")
error("err_gemm_b_batched", model("m", [node("Gemm", ["X", "X"], ["Y"])], [vi("X", ["N", 4])], Y1),
      "unsupported", "B must not depend on the batch")
error("err_gemm_c_rank3", model("m", [node("Gemm", ["X", "B", "C"], ["Y"])], [vi("X", ["N", 4])], Y1,
                                [("B", rand(4, 2)), ("C", rand(1, 1, 2))]), "malformed", "C has rank 3")
error("err_gemm_c_batch", model("m", [node("Gemm", ["A", "B", "X"], ["Y"])], [vi("X", ["N", 2])], Y1,
                                [("A", rand(1, 4)), ("B", rand(4, 2))]),
      "unsupported", "C depends on the batch differently from A")
error("err_bcast_batch_move", model("m", [node("Add", ["X", "C"], ["Y"])], [vi("X", ["N", 4])], Y1, [("C", rand(2, 3, 4))]),
      "unsupported", "broadcasting would move the batch dimension")
error("err_dropout_ratio", model("m", [node("Dropout", ["X", "R"], ["Y"])], [vi("X", ["N", 4]), vi("R", ["N"])], Y1),
      "unsupported", "the ratio must be an initializer")
error("err_dropout_training", model("m", [node("Dropout", ["X", "", "T"], ["Y"])], [vi("X", ["N", 4]), vi("T", ["N"])], Y1),
      "unsupported", "training_mode is not supported (inference only)")
error("err_reshape_zero", model("m", [node("Reshape", ["X", "s"], ["Y"])], [vi("X", ["N", 4])], Y1,
                                [("s", np.array([0, 2, 0], dtype=np.int64))]), "malformed", "shape[2] = 0 copies no dimension")
error("err_reshape_huge", model("m", [node("Reshape", ["X", "s"], ["Y"])], [vi("X", ["N", 4])], Y1,
                                [("s", np.array([0, 65536, 65536], dtype=np.int64))]), "too_large", "the shape is too large")
error("err_reshape_neg", model("m", [node("Reshape", ["X", "s"], ["Y"])], [vi("X", ["N", 6])], Y1,
                               [("s", np.array([0, -1, 4], dtype=np.int64))]), "malformed", "6 elements do not reshape with -1")
error("err_perm_len", model("m", [node("Transpose", ["X"], ["Y"], perm=[0, 1, 2])], [vi("X", ["N", 4])], Y1),
      "malformed", "perm has 3 entries for rank 2")
error("err_concat_batch", model("m", [node("Concat", ["X", "X"], ["Y"], axis=0)], [vi("X", ["N", 4])], Y1),
      "unsupported", "concatenation along the batch dimension")
error("err_concat_noaxis", model("m", [node("Concat", ["X", "X"], ["Y"])], [vi("X", ["N", 4])], Y1),
      "malformed", "attribute 'axis' is required")
error("err_concat_rank", model("m", [node("Concat", ["X", "Z"], ["Y"], axis=1)], [vi("X", ["N", 4]), vi("Z", ["N", 4, 1])], Y1),
      "malformed", "input 1 has another rank or batch")
error("err_concat_big", model("m", [node("Concat", ["X", "X"], ["Y"], axis=1)], [vi("X", ["N", 200000000])], Y1),
      "too_large", "the result is too large")
error("err_matmul_stack", model("m", [node("MatMul", ["X", "B"], ["Y"])], [vi("X", ["N", 2, 3, 4])], Y1, [("B", rand(2, 4, 5))]),
      "unsupported", "broadcasting of stacked matrices is not supported")
error("err_matmul_stack_batch", model("m", [node("MatMul", ["X", "B"], ["Y"])], [vi("X", ["N", 3, 4])], Y1, [("B", rand(1, 4, 5))]),
      "unsupported", "broadcasting of stacked matrices is not supported")
error("err_matmul_stack_dims", model("m", [node("MatMul", ["X", "Z"], ["Y"])], [vi("X", ["N", 2, 3, 4]), vi("Z", ["N", 3, 4, 5])], Y1),
      "unsupported", "broadcasting of stacked matrices is not supported")
error("err_matmul_rank_batched", model("m", [node("MatMul", ["X", "Z"], ["Y"])], [vi("X", ["N", 4]), vi("Z", ["N", 4, 5])], Y1),
      "unsupported", "broadcasting of stacked matrices is not supported")
error("err_matmul_b_batched", model("m", [node("MatMul", ["X", "Z"], ["Y"])], [vi("X", ["N", 1]), vi("Z", ["N", 5])], Y1),
      "unsupported", "B must not depend on the batch")
error("err_pool_valid", model("m", [node("MaxPool", ["X"], ["Y"], kernel_shape=[5, 5], auto_pad="VALID")],
                              [vi("X", ["N", 1, 4, 4])], Y1), "malformed", "the window is larger than the input")
error("err_pool_rank3", model("m", [node("MaxPool", ["X"], ["Y"], kernel_shape=[2])], [vi("X", ["N", 1, 4])], Y1),
      "unsupported", "only 2-D images (N, C, H, W) are supported, not rank 3")
error("err_conv_weights", model("m", [node("Conv", ["X", "W"], ["Y"])], [vi("X", ["N", 1, 6, 6])], Y1, [("W", rand(1, 1, 3))]),
      "malformed", "the weights must be (M, C/group, kH, kW)")
error("err_conv_kernel_shape", model("m", [node("Conv", ["X", "W"], ["Y"], kernel_shape=[2, 2])], [vi("X", ["N", 1, 6, 6])], Y1,
                                     [("W", rand(1, 1, 3, 3))]), "malformed", "kernel_shape differs from the weights")
error("err_gpool_rank", model("m", [node("GlobalAveragePool", ["X"], ["Y"])], [vi("X", ["N", 4])], Y1),
      "malformed", "rank 2 (3 or more expected)")
bn = [("s", rand(4)), ("b", rand(4)), ("m", rand(4)), ("v", rand(4) + 2)]
error("err_bn_training", model("m", [node("BatchNormalization", ["X", "s", "b", "m", "v"], ["Y"], training_mode=1)],
                               [vi("X", ["N", 4, 3])], Y1, bn), "unsupported", "training_mode is not supported")
error("err_bn_spatial", model("m", [node("BatchNormalization", ["X", "s", "b", "m", "v"], ["Y"], spatial=0)],
                              [vi("X", ["N", 4, 3])], Y1, bn, opset=7), "unsupported", "spatial = 0 is not supported")
error("err_bn_const", model("m", [node("BatchNormalization", ["X", "S", "b", "m", "v"], ["Y"])],
                            [vi("X", ["N", 4, 3]), vi("S", ["N"])], Y1, bn[1:]),
      "unsupported", "the scale, bias, mean and variance must be an initializer")
error("err_linear_input", model("m", [node("LinearRegressor", ["X"], ["Y"], domain="ai.onnx.ml", coefficients=[1.0] * 4)],
                                [vi("X", ["N", 2, 2])], Y1, ml=True), "unsupported", "the input must be (N, features)")
error("err_linear_coefs", model("m", [node("LinearRegressor", ["X"], ["Y"], domain="ai.onnx.ml", coefficients=[1.0] * 5)],
                                [vi("X", ["N", 2])], Y1, ml=True), "malformed", "5 coefficients for 2 features")
error("err_linear_targets", model("m", [node("LinearRegressor", ["X"], ["Y"], domain="ai.onnx.ml", coefficients=[1.0] * 4, targets=1)],
                                  [vi("X", ["N", 2])], Y1, ml=True), "malformed", "2 rows of coefficients for 1 targets")
error("err_binary_softmax", model("m", [node("LinearClassifier", ["X"], ["L"], domain="ai.onnx.ml", coefficients=[1.0] * 2,
                                             classlabels_ints=[0, 1], post_transform="SOFTMAX")],
                                  [vi("X", ["N", 2])], [vi("L", None)], ml=True),
      "unsupported", "a binary classifier's post_transform must be NONE or LOGISTIC")

# checks of the loader no case above reaches: each one's absence loads the model with another
# refusal (or none), reads a batched buffer as weights or a constant as a batch, or lets an
# attribute large enough to overflow the window arithmetic through
error("err_flatten_axis_high", one("Flatten", "f", {"axis": 3}), "malformed",
      "node 0 'f' (Flatten): axis 3 out of range for rank 2")
error("err_flatten_axis_low", one("Flatten", "f", {"axis": -3}), "malformed",
      "node 0 'f' (Flatten): axis -3 out of range for rank 2")
error("err_outputs2", model("m", [node("Relu", ["X"], ["Y", "Z"])], [vi("X", ["N", 4])], Y1),
      "unsupported", "output 1 is not supported")
error("err_int64_reshaped", model("m", [node("Reshape", ["C", "s"], ["R"], name="r"), node("Add", ["X", "R"], ["Y"])],
                                  [vi("X", ["N", 4])], Y1,
                                  [("C", np.ones((1, 4), dtype=np.int64)), ("s", np.array([1, 4], dtype=np.int64))]),
      "unsupported", "node 0 'r' (Reshape): input 0 is an int64 tensor (float expected)")
error("err_conv_weights_batched", model("m", [node("Conv", ["X", "X"], ["Y"])], [vi("X", ["N", 1, 3, 3])], Y1),
      "malformed", "the weights must be (M, C/group, kH, kW)")
error("err_conv_bias_batched", model("m", [node("Conv", ["X", "W", "B"], ["Y"])],
                                     [vi("X", ["N", 1, 3, 3]), vi("B", ["N"])], Y1, [("W", rand(1, 1, 3, 3))]),
      "malformed", "the bias must have one value per output channel")
error("err_group_c", model("m", [node("Conv", ["X", "W"], ["Y"], group=3)], [vi("X", ["N", 4, 6, 6])], Y1, [("W", rand(3, 1, 3, 3))]),
      "malformed", "group 3 does not divide the channels")
error("err_conv_kernel_width", model("m", [node("Conv", ["X", "W"], ["Y"], kernel_shape=[3, 2])], [vi("X", ["N", 1, 6, 6])], Y1,
                                     [("W", rand(1, 1, 3, 3))]), "malformed", "kernel_shape differs from the weights")
for i, side in enumerate(("top", "left")):
    pads = [0, 0, 0, 0]
    pads[i] = 2
    error("err_pool_pads_" + side, model("m", [node("AveragePool", ["X"], ["Y"], kernel_shape=[2, 2], pads=pads)],
                                        [vi("X", ["N", 1, 4, 4])], Y1), "unsupported", "pads as large as the kernel")
error("err_bn_rank1", model("m", [node("BatchNormalization", ["X", "s", "b", "m", "v"], ["Y"])], [vi("X", ["N"])], Y1,
                            [("s", rand(1)), ("b", rand(1)), ("m", rand(1)), ("v", rand(1) + 2)]),
      "malformed", "rank 1 (2 or more expected)")
error("err_bn_scale_2d", model("m", [node("BatchNormalization", ["X", "s", "b", "m", "v"], ["Y"])], [vi("X", ["N", 4, 3])], Y1,
                               [("s", rand(4, 1)), ("b", rand(4)), ("m", rand(4)), ("v", rand(4) + 2)]),
      "malformed", "input 1 must have one float per channel")
error("err_linear_no_coefs", model("m", [node("LinearRegressor", ["X"], ["Y"], domain="ai.onnx.ml")],
                                   [vi("X", ["N", 2])], Y1, ml=True), "malformed", "0 coefficients for 2 features")
error("err_linear_const_input", model("m", [node("LinearRegressor", ["C"], ["Y"], domain="ai.onnx.ml", coefficients=[1.0, 2.0])],
                                      [vi("X", ["N", 2])], Y1, [("C", rand(1, 2))], ml=True),
      "unsupported", "the input must be (N, features)")
error("err_reshape_shape_2d", model("m", [node("Reshape", ["X", "s"], ["Y"])], [vi("X", ["N", 4])], Y1,
                                    [("s", np.array([[0, 4]], dtype=np.int64))]), "malformed", "the shape must be a 1-D int64 tensor")
error("err_concat_const", model("m", [node("Concat", ["X", "C"], ["Y"], axis=1)], [vi("X", ["N", 4])], Y1, [("C", rand(1, 4))]),
      "malformed", "input 1 has another rank or batch")
for attr, val, text in [("kernel_shape", [65537, 1], "kernel 65537x1"), ("strides", [65537, 1], "strides 65537,1"),
                        ("dilations", [65537, 1], "dilations 65537,1"), ("dilations", [1, 0], "dilations 1,0"),
                        ("pads", [65537, 0, 0, 0], "pads 65537,0,0,0")]:
    attrs = {"kernel_shape": [2, 2], attr: val}
    error(f"err_{attr}_{val[0]}_{val[1]}", model("m", [node("MaxPool", ["X"], ["Y"], **attrs)], [vi("X", ["N", 1, 4, 4])], Y1),
          "unsupported", text)

# Gemm: alpha without C; C of one value (broadcast along both axes); transA on a constant A
simple("Gemm_alpha_noC", "Gemm", (70,), lambda x: 0.25 * (x @ GB.astype(np.float64)), {"alpha": 0.25},
       inits=[("B", GB)], n=5)
GC1 = np.array([1.5], dtype=np.float32)
simple("Gemm_C_one", "Gemm", (70,), lambda x: x @ GB.astype(np.float64) + 1.5, inits=[("B", GB), ("C", GC1)], n=5)
ga, gb = rand(5, 2), rand(5, 4)  # A' = (2, 5), G = A' B = (2, 4), added to X[N, 2, 4]
x = rand(3, 2, 4)
case("Gemm_transA_const",
     model("m", [helper.make_node("Gemm", ["A", "B"], ["G"], name="g", transA=1),
                 helper.make_node("Add", ["X", "G"], ["Y"], name="a")],
           [vi("X", ["N", 2, 4])], [vi("Y", ["N", 2, 4])], [("A", ga), ("B", gb)]),
     [x], [x.astype(np.float64) + ga.T.astype(np.float64) @ gb.astype(np.float64)])
# ceil_mode: a last window that would start in the bottom or right padding is dropped (4x4 with
# pads 1 at the bottom and right: 2x2 out, not 3x3); with count_include_pad, a window past the
# padded input counts only what lies inside it
simple("MaxPool_ceil_pad", "MaxPool", (2, 4, 4), lambda x: pool_ref(x, (2, 2), (2, 2), (0, 0, 1, 1), ceil=True),
       {"kernel_shape": [2, 2], "strides": [2, 2], "pads": [0, 0, 1, 1], "ceil_mode": 1})
simple("AveragePool_ceil_incl", "AveragePool", (2, 5, 5),
       lambda x: pool_ref(x, (2, 2), (2, 2), kind="avg", include_pad=True, ceil=True),
       {"kernel_shape": [2, 2], "strides": [2, 2], "ceil_mode": 1, "count_include_pad": 1})
# the labels alone, without the scores output: the binary decision still reads the score
x = rand(9, F_)
s = (x.astype(np.float64) @ w1.T.astype(np.float64) + b1)[:, 0]
assert (s > 0).any() and (s <= 0).any()
node = helper.make_node("LinearClassifier", ["X"], ["L"], name="lc", domain="ai.onnx.ml",
                        coefficients=w1.ravel().tolist(), intercepts=b1.tolist(), classlabels_ints=[4, 9])
m = model("LinearClassifier_binary_labels", [node], [vi("X", ["N", F_])], [vi("L", ["N"], TensorProto.INT64)], ml=True)
case("LinearClassifier_binary_labels", m, [x], [np.where(s > 0, 9.0, 4.0)])
# post_transform NONE with the scores: the pair is (-s, s), the first label's score negated
node = helper.make_node("LinearClassifier", ["X"], ["L", "Z"], name="lc", domain="ai.onnx.ml",
                        coefficients=w1.ravel().tolist(), intercepts=b1.tolist(), classlabels_ints=[4, 9])
m = model("LinearClassifier_binary_none", [node], [vi("X", ["N", F_])],
          [vi("L", ["N"], TensorProto.INT64), vi("Z", ["N", 2])], ml=True)
case("LinearClassifier_binary_none", m, [x], [np.where(s > 0, 9.0, 4.0), np.stack([-s, s], 1)])
# every score 0: SOFTMAX_ZERO leaves all of them 0 (no 0/0), and the tie goes to the first label
node = helper.make_node("LinearClassifier", ["X"], ["L", "Z"], name="lc", domain="ai.onnx.ml",
                        coefficients=[0.0] * (3 * F_), intercepts=[0.0] * 3, classlabels_ints=[5, 6, 7],
                        post_transform="SOFTMAX_ZERO")
m = model("LinearClassifier_all_zero", [node], [vi("X", ["N", F_])],
          [vi("L", ["N"], TensorProto.INT64), vi("Z", ["N", 3])], ml=True)
x = rand(2, F_)
case("LinearClassifier_all_zero", m, [x], [np.array([5.0, 5.0]), np.zeros((2, 3))])
# a graph without nodes, its input its output: the run needs no workspace, and gets none
x = rand(2, 3)
case("Graph_no_nodes", model("m", [], [vi("X", ["N", 3])], [vi("X", ["N", 3])]), [x], [x])

with open(os.path.join(out_dir, "manifest"), "w") as f:
    f.write("\n".join(manifest) + "\n")
print(f"op_ref.py: {sum(1 for l in manifest if l.startswith('run'))} runs, "
      f"{sum(1 for l in manifest if l.startswith('error'))} refusals", file=sys.stderr)
