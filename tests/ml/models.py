#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Whole models for tests/ml/test_ml_sklearn.c and test_ml_torch.c, with their frameworks'
outputs as references.

Usage: models.py lr|cnn DIR. Writes DIR/manifest in op_ref.py's format plus an accuracy line,
the model, its test inputs, the framework's outputs and DIR/<name>.truth (the true labels).
  lr:  scikit-learn's LogisticRegression on load_breast_cancer (standardised), exported as
       Sub, Div and ai.onnx.ml LinearClassifier built with python3-onnx's helper API from the
       fitted coefficients (skl2onnx is not in Debian); references: predict, predict_proba.
  cnn: a LeNet-style CNN (Conv, Relu, MaxPool, Flatten, Gemm, Softmax) trained with
       python3-torch for one pass over 12000 Fashion-MNIST images (Debian's
       dataset-fashion-mnist), exported by torch.onnx.export; references: torch's eager
       outputs on the 10000 test images.
Exits 77 when a package is missing.
"""
import gzip
import os
import sys

which, out_dir = sys.argv[1], sys.argv[2]
try:
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    if which == "lr":
        from sklearn.datasets import load_breast_cancer
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import train_test_split
        from sklearn.preprocessing import StandardScaler
    else:
        import torch
except ImportError as e:
    print(f"models.py: {e}", file=sys.stderr)
    sys.exit(77)

FMNIST = "/usr/share/datasets/fashion-mnist"


def save(name, model_bytes, x, outs, truth, acc, out_index, row):
    with open(os.path.join(out_dir, name + ".onnx"), "wb") as f:
        f.write(model_bytes)
    np.ascontiguousarray(x, dtype="<f4").tofile(os.path.join(out_dir, name + ".in0"))
    for i, y in enumerate(outs):
        np.ascontiguousarray(y, dtype="<f4").tofile(os.path.join(out_dir, f"{name}.out{i}"))
    np.ascontiguousarray(truth, dtype="<f4").tofile(os.path.join(out_dir, name + ".truth"))
    with open(os.path.join(out_dir, "manifest"), "w") as f:
        f.write(f"run {name} {x.shape[0]} 1 {len(outs)}\n")
        f.write(f"accuracy {name} {out_index} {row} {acc:.9f}\n")
    print(f"models.py: {name}: {x.shape[0]} test rows, reference accuracy {acc:.4f}",
          file=sys.stderr)


def lr():
    data = load_breast_cancer()
    xtr, xte, ytr, yte = train_test_split(data.data, data.target, test_size=0.3,
                                          random_state=17, stratify=data.target)
    xtr, xte = xtr.astype(np.float32), xte.astype(np.float32)
    scaler = StandardScaler().fit(xtr)
    clf = LogisticRegression(max_iter=5000).fit(scaler.transform(xtr), ytr)
    mean, scale = scaler.mean_.astype(np.float32), scaler.scale_.astype(np.float32)
    # the references see exactly the float32 standardisation the model computes
    z = (xte - mean) / scale
    proba, pred = clf.predict_proba(z.astype(np.float64)), clf.predict(z.astype(np.float64))
    nf = xte.shape[1]
    nodes = [
        helper.make_node("Sub", ["X", "mean"], ["centred"], name="centre"),
        helper.make_node("Div", ["centred", "scale"], ["z"], name="standardise"),
        helper.make_node("LinearClassifier", ["z"], ["label", "probabilities"], name="lr",
                         domain="ai.onnx.ml", coefficients=clf.coef_.ravel().tolist(),
                         intercepts=clf.intercept_.tolist(),
                         classlabels_ints=[int(c) for c in clf.classes_],
                         post_transform="LOGISTIC"),
    ]
    g = helper.make_graph(nodes, "breast_cancer_lr",
                          [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["N", nf])],
                          [helper.make_tensor_value_info("label", TensorProto.INT64, ["N"]),
                           helper.make_tensor_value_info("probabilities", TensorProto.FLOAT,
                                                         ["N", 2])],
                          [numpy_helper.from_array(mean, "mean"),
                           numpy_helper.from_array(scale, "scale")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13),
                                            helper.make_opsetid("ai.onnx.ml", 1)])
    m.ir_version = 8
    onnx.checker.check_model(m)
    acc = float((pred == yte).mean())
    save("breast_cancer_lr", m.SerializeToString(), xte, [pred, proba], yte, acc, 0, 1)


def idx(path):
    with gzip.open(path) as f:
        raw = f.read()
    dims = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def cnn():
    if not os.path.exists(f"{FMNIST}/train-images-idx3-ubyte.gz"):
        print("models.py: dataset-fashion-mnist is not installed", file=sys.stderr)
        sys.exit(77)
    torch.manual_seed(17)
    torch.set_num_threads(2)
    xtr = idx(f"{FMNIST}/train-images-idx3-ubyte.gz")[:12000].astype(np.float32) / 255
    ytr = idx(f"{FMNIST}/train-labels-idx1-ubyte.gz")[:12000].astype(np.int64)
    xte = idx(f"{FMNIST}/t10k-images-idx3-ubyte.gz").astype(np.float32) / 255
    yte = idx(f"{FMNIST}/t10k-labels-idx1-ubyte.gz").astype(np.int64)
    nn = torch.nn
    net = nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, 10))
    opt = torch.optim.Adam(net.parameters(), lr=2e-3)
    xt, yt = torch.from_numpy(xtr).unsqueeze(1), torch.from_numpy(ytr)
    for i in range(0, len(xt), 64):  # one epoch
        opt.zero_grad()
        loss = nn.functional.cross_entropy(net(xt[i:i + 64]), yt[i:i + 64])
        loss.backward()
        opt.step()
    model = nn.Sequential(net, nn.Softmax(dim=1)).eval()
    path = os.path.join(out_dir, "lenet_fashion.onnx")
    torch.onnx.export(model, torch.zeros(1, 1, 28, 28), path, input_names=["image"],
                      output_names=["probabilities"], opset_version=13,
                      dynamic_axes={"image": {0: "N"}, "probabilities": {0: "N"}})
    with torch.no_grad():
        probs = model(torch.from_numpy(xte).unsqueeze(1)).numpy()
    acc = float((probs.argmax(1) == yte).mean())
    with open(path, "rb") as f:
        data = f.read()
    ops = sorted({n.op_type for n in onnx.load_from_string(data).graph.node})
    print(f"models.py: lenet_fashion operators: {' '.join(ops)}", file=sys.stderr)
    save("lenet_fashion", data, xte.reshape(-1, 1, 28, 28), [probs], yte, acc, 0, 10)


{"lr": lr, "cnn": cnn}[which]()
