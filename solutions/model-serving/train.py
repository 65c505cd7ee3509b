#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The two models the model-serving solution serves, and the requests its run sends.

Usage: train.py DIR [--train N] [--images N] [--batch N]

  DIR/cnn.onnx   a LeNet-style CNN trained with python3-torch for one pass over the first
                 --train Fashion-MNIST images (Debian's dataset-fashion-mnist): input `input`
                 [N,1,28,28] (pixels / 255), output `probabilities` [N,10] (softmax)
  DIR/lr.onnx    scikit-learn's LogisticRegression on the breast cancer set: input `input`
                 [N,30] of raw features (the standardisation is in the graph, Sub and Div),
                 outputs `label` [N] and `probabilities` [N,2]
The models are built by tests/ml/models.py (the ml engine's tests use the same ones). Requests:
  DIR/cnn-batch-K.json  the first --images test images, --batch a request, in TensorFlow
                        Serving's row format {"instances": [...]}
  DIR/cnn-v2.json       two test images as a KServe v2 inference request
  DIR/cnn-grpc.npy      eight test images [8,1,28,28] for grpc_client.py
  DIR/lr-test.json      the 171 test rows, TF Serving's columnar format {"inputs": {...}}
and what the answers should be:
  DIR/cnn-expected.json {"labels": true labels, "torch": torch's predicted classes} of the
                        --images images; DIR/lr-expected.json {"labels", "sklearn"}
Exits 77 when python3-torch, python3-sklearn, python3-onnx or the dataset is missing.
"""
import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "ml"))
import models  # noqa: E402  (tests/ml/models.py: exits 77 without numpy and onnx)

WHO = "train.py"
np = models.np


def dump(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, separators=(",", ":"))


def cnn(out, n_train, n_images, batch):
    xtr, ytr, xte, yte = models.fashion_mnist(n_train, who=WHO)
    model = models.lenet(xtr, ytr, who=WHO)
    models.export_lenet(model, os.path.join(out, "cnn.onnx"), input_name="input")
    x = xte[:n_images].reshape(-1, 1, 28, 28)
    # the float32 pixels exactly (a float32 value as a double prints exactly and reads back)
    rows = x.astype(np.float64).tolist()
    for k in range(0, n_images, batch):
        dump(os.path.join(out, f"cnn-batch-{k // batch}.json"), {"instances": rows[k:k + batch]})
    torch_pred = models.probabilities(model, xte[:n_images]).argmax(1)
    dump(os.path.join(out, "cnn-expected.json"),
         {"labels": yte[:n_images].tolist(), "torch": torch_pred.tolist()})
    dump(os.path.join(out, "cnn-v2.json"),
         {"id": "two-images", "inputs": [{"name": "input", "shape": [2, 1, 28, 28],
                                          "datatype": "FP32",
                                          "data": x[:2].astype(np.float64).ravel().tolist()}]})
    np.save(os.path.join(out, "cnn-grpc.npy"), x[:8])
    acc = float((torch_pred == yte[:n_images]).mean())
    print(f"{WHO}: cnn: {n_train} training images, one pass; torch's accuracy on the first "
          f"{n_images} test images {acc:.3f}", file=sys.stderr)


def lr(out):
    m, xte, yte, pred, _ = models.lr_model(input_name="input", who=WHO)
    with open(os.path.join(out, "lr.onnx"), "wb") as f:
        f.write(m.SerializeToString())
    dump(os.path.join(out, "lr-test.json"), {"inputs": {"input": xte.astype(np.float64).tolist()}})
    dump(os.path.join(out, "lr-expected.json"), {"labels": yte.tolist(), "sklearn": pred.tolist()})
    print(f"{WHO}: lr: {len(yte)} test rows, scikit-learn's accuracy "
          f"{float((pred == yte).mean()):.3f}", file=sys.stderr)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("dir")
    p.add_argument("--train", type=int, default=12000, help="training images (one pass)")
    p.add_argument("--images", type=int, default=500, help="test images to query")
    p.add_argument("--batch", type=int, default=100, help="images a request")
    a = p.parse_args()
    models.require("torch", "sklearn", who=WHO)  # both, before either is trained
    os.makedirs(a.dir, exist_ok=True)
    lr(a.dir)
    cnn(a.dir, a.train, a.images, a.batch)


if __name__ == "__main__":
    main()
