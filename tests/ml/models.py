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

The model builders (lr_model, fashion_mnist, lenet, export_lenet) are also imported by
solutions/model-serving/train.py; require() is how a caller gets a package or exits 77.
"""
import gzip
import importlib
import os
import sys

FMNIST = "/usr/share/datasets/fashion-mnist"


def require(*modules, who="models.py"):
    """Imports the modules by name, or exits 77 naming the one that is missing."""
    try:
        return [importlib.import_module(m) for m in modules]
    except ImportError as e:
        print(f"{who}: {e} (scripts/setup installs it)", file=sys.stderr)
        sys.exit(77)


np, onnx = require("numpy", "onnx")


def save(out_dir, name, model_bytes, x, outs, truth, acc, out_index, row):
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


def lr_model(input_name="X", who="models.py"):
    """scikit-learn's LogisticRegression on the breast cancer set (70% to fit, 30% to test)
    as ONNX: input input_name [N,30] of raw features, outputs label (int64 [N]) and
    probabilities ([N,2]). Returns (model, x_test float32, y_test, predict, predict_proba)."""
    (datasets, linear, selection, preprocessing) = require(
        "sklearn.datasets", "sklearn.linear_model", "sklearn.model_selection",
        "sklearn.preprocessing", who=who)
    from onnx import TensorProto, helper, numpy_helper
    data = datasets.load_breast_cancer()
    xtr, xte, ytr, yte = selection.train_test_split(data.data, data.target, test_size=0.3,
                                                    random_state=17, stratify=data.target)
    xtr, xte = xtr.astype(np.float32), xte.astype(np.float32)
    scaler = preprocessing.StandardScaler().fit(xtr)
    clf = linear.LogisticRegression(max_iter=5000).fit(scaler.transform(xtr), ytr)
    mean, scale = scaler.mean_.astype(np.float32), scaler.scale_.astype(np.float32)
    # the references see exactly the float32 standardisation the model computes
    z = (xte - mean) / scale
    proba, pred = clf.predict_proba(z.astype(np.float64)), clf.predict(z.astype(np.float64))
    nf = xte.shape[1]
    nodes = [
        helper.make_node("Sub", [input_name, "mean"], ["centred"], name="centre"),
        helper.make_node("Div", ["centred", "scale"], ["z"], name="standardise"),
        helper.make_node("LinearClassifier", ["z"], ["label", "probabilities"], name="lr",
                         domain="ai.onnx.ml", coefficients=clf.coef_.ravel().tolist(),
                         intercepts=clf.intercept_.tolist(),
                         classlabels_ints=[int(c) for c in clf.classes_],
                         post_transform="LOGISTIC"),
    ]
    g = helper.make_graph(nodes, "breast_cancer_lr",
                          [helper.make_tensor_value_info(input_name, TensorProto.FLOAT,
                                                         ["N", nf])],
                          [helper.make_tensor_value_info("label", TensorProto.INT64, ["N"]),
                           helper.make_tensor_value_info("probabilities", TensorProto.FLOAT,
                                                         ["N", 2])],
                          [numpy_helper.from_array(mean, "mean"),
                           numpy_helper.from_array(scale, "scale")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13),
                                            helper.make_opsetid("ai.onnx.ml", 1)])
    m.ir_version = 8
    onnx.checker.check_model(m)
    return m, xte, yte, pred, proba


def lr(out_dir):
    m, xte, yte, pred, proba = lr_model()
    acc = float((pred == yte).mean())
    save(out_dir, "breast_cancer_lr", m.SerializeToString(), xte, [pred, proba], yte, acc, 0, 1)


def idx(path):
    with gzip.open(path) as f:
        raw = f.read()
    dims = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def fashion_mnist(n_train, who="models.py"):
    """The first n_train training images and all 10000 test images, [N,28,28] in [0,1], and
    their labels; exits 77 when dataset-fashion-mnist is not installed."""
    if not os.path.exists(f"{FMNIST}/train-images-idx3-ubyte.gz"):
        print(f"{who}: dataset-fashion-mnist is not installed (scripts/setup installs it)",
              file=sys.stderr)
        sys.exit(77)
    xtr = idx(f"{FMNIST}/train-images-idx3-ubyte.gz")[:n_train].astype(np.float32) / 255
    ytr = idx(f"{FMNIST}/train-labels-idx1-ubyte.gz")[:n_train].astype(np.int64)
    xte = idx(f"{FMNIST}/t10k-images-idx3-ubyte.gz").astype(np.float32) / 255
    yte = idx(f"{FMNIST}/t10k-labels-idx1-ubyte.gz").astype(np.int64)
    return xtr, ytr, xte, yte


def lenet(xtr, ytr, who="models.py"):
    """A LeNet-style CNN trained for one pass over (xtr, ytr) with torch, seeded; returns it
    in eval mode with a Softmax after it (outputs are probabilities)."""
    (torch,) = require("torch", who=who)
    torch.manual_seed(17)
    torch.set_num_threads(2)
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
    return nn.Sequential(net, nn.Softmax(dim=1)).eval()


def export_lenet(model, path, input_name="image"):
    """Exports the model as ONNX (input input_name [N,1,28,28], output probabilities [N,10]);
    returns the file's bytes."""
    import torch
    torch.onnx.export(model, torch.zeros(1, 1, 28, 28), path, input_names=[input_name],
                      output_names=["probabilities"], opset_version=13,
                      dynamic_axes={input_name: {0: "N"}, "probabilities": {0: "N"}})
    with open(path, "rb") as f:
        return f.read()


def probabilities(model, x):
    """torch's eager outputs of the model on images x [N,28,28]."""
    import torch
    with torch.no_grad():
        return model(torch.from_numpy(x).unsqueeze(1)).numpy()


def cnn(out_dir):
    xtr, ytr, xte, yte = fashion_mnist(12000)
    model = lenet(xtr, ytr)
    data = export_lenet(model, os.path.join(out_dir, "lenet_fashion.onnx"))
    probs = probabilities(model, xte)
    acc = float((probs.argmax(1) == yte).mean())
    ops = sorted({n.op_type for n in onnx.load_from_string(data).graph.node})
    print(f"models.py: lenet_fashion operators: {' '.join(ops)}", file=sys.stderr)
    save(out_dir, "lenet_fashion", data, xte.reshape(-1, 1, 28, 28), [probs], yte, acc, 0, 10)


if __name__ == "__main__":
    {"lr": lr, "cnn": cnn}[sys.argv[1]](sys.argv[2])
