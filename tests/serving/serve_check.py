#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""ccz serve against TensorFlow Serving's and KServe's APIs, as their clients see them.

Usage: serve_check.py CCZ WORK. WORK holds breast_cancer_lr.{onnx,in0,out0,out1} (tests/ml/
models.py lr), c.pem/k.pem (a TLS certificate for localhost), key.bin and lr.pf (the model as a
protected file bound to WORK/lr.pf). Models "one" and "two" are built here with python3-onnx.
REST is checked with curl, gRPC with python3-grpcio and messages encoded by hand (tf_wire.py).
Prints one line per failed check and exits 1 if any failed.
"""
import concurrent.futures
import json
import os
import re
import socket
import ssl
import subprocess
import struct
import sys
import tempfile
import time

import grpc
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tf_wire as w  # noqa: E402

CCZ, WORK = sys.argv[1], sys.argv[2]
failures = 0


def check(ok, what):
    global failures
    if not ok:
        failures += 1
        print("FAIL:", what, flush=True)


def close(got, want, what):
    got = np.asarray(got, dtype=np.float64).ravel()
    want = np.asarray(want, dtype=np.float64).ravel()
    check(got.shape == want.shape and bool(np.all(np.abs(got - want) <= 1e-6 + 1e-5 * np.abs(want))),
          "%s: %s != %s" % (what, got[:6], want[:6]))


def build_models():
    # one: a [N,2,2] -> Relu -> y [N,2,2]; two: a [N,3], b [N,3] -> Add -> sum, Mul -> prod
    a = helper.make_tensor_value_info("a", TensorProto.FLOAT, ["N", 2, 2])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 2, 2])
    g = helper.make_graph([helper.make_node("Relu", ["a"], ["y"])], "one", [a], [y])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), WORK + "/one.onnx")
    a = helper.make_tensor_value_info("a", TensorProto.FLOAT, ["N", 3])
    b = helper.make_tensor_value_info("b", TensorProto.FLOAT, ["N", 3])
    s = helper.make_tensor_value_info("sum", TensorProto.FLOAT, ["N", 3])
    p = helper.make_tensor_value_info("prod", TensorProto.FLOAT, ["N", 3])
    g = helper.make_graph([helper.make_node("Add", ["a", "b"], ["sum"]),
                           helper.make_node("Mul", ["a", "b"], ["prod"])], "two", [a, b], [s, p])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), WORK + "/two.onnx")
    # sum: a [N,2,2] -> Flatten -> MatMul ones(4,1) -> s [N,1] (a rank-3 input for :regress)
    a = helper.make_tensor_value_info("a", TensorProto.FLOAT, ["N", 2, 2])
    s = helper.make_tensor_value_info("s", TensorProto.FLOAT, ["N", 1])
    ones = numpy_helper.from_array(np.ones((4, 1), dtype=np.float32), "W")
    g = helper.make_graph([helper.make_node("Flatten", ["a"], ["f"]), helper.make_node("MatMul", ["f", "W"], ["s"])],
                          "sum", [a], [s], [ones])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), WORK + "/sum.onnx")


class Server:
    def __init__(self, *args, expect_fail=False):
        self.log = open(WORK + "/serve-%d.log" % time.monotonic_ns(), "w+")
        self.t0 = time.monotonic()
        self.p = subprocess.Popen([CCZ, "serve", *args], stderr=self.log, stdout=subprocess.DEVNULL)
        self.rest = self.grpc = None
        if expect_fail:
            self.code = self.p.wait(20)
            self.log.seek(0)
            self.text = self.log.read()
            return
        for _ in range(3000):  # 60 s at most: a loaded machine
            self.log.seek(0)
            self.text = self.log.read()
            m = re.search(r"REST on port (\d+)", self.text)
            g = re.search(r"gRPC on port (\d+)", self.text)
            want_rest, want_grpc = "--rest" in args, "--grpc" in args
            if (m or not want_rest) and (g or not want_grpc):
                self.rest = int(m.group(1)) if m else None
                self.grpc = int(g.group(1)) if g else None
                return
            if self.p.poll() is not None:
                raise SystemExit("ccz serve exited %s: %s" % (self.p.returncode, self.text))
            time.sleep(0.02)
        raise SystemExit("ccz serve did not start: " + self.text)

    def stop(self):
        self.p.terminate()
        code = self.p.wait(60)  # a sanitizer build on a loaded machine is slow to drain
        check(code == 0, "ccz serve exited %s after SIGTERM" % code)


def curl(url, body=None, tls=True, extra=()):
    """(status, parsed JSON body) by curl."""
    cmd = ["curl", "-s", "-o", "-", "-w", "\n%{http_code}", "--max-time", "20"]
    if tls:
        cmd += ["--cacert", WORK + "/c.pem"]
    if body is not None:
        fd, path = tempfile.mkstemp(dir=WORK)
        with os.fdopen(fd, "w") as f:
            f.write(body if isinstance(body, str) else json.dumps(body))
        cmd += ["--data-binary", "@" + path]
    cmd += list(extra) + [url]
    out = subprocess.run(cmd, capture_output=True, text=True).stdout
    text, _, code = out.rpartition("\n")
    try:
        return int(code), json.loads(text) if text else None
    except ValueError:
        return int(code or 0), text


LR_IN = np.fromfile(WORK + "/breast_cancer_lr.in0", dtype="<f4").reshape(-1, 30)
LR_LABEL = np.fromfile(WORK + "/breast_cancer_lr.out0", dtype="<f4")
LR_PROB = np.fromfile(WORK + "/breast_cancer_lr.out1", dtype="<f4").reshape(-1, 2)


def rest_checks(base, tls):
    x = LR_IN[:5]
    # row format, several outputs: a list of objects
    code, r = curl(base + "/v1/models/lr:predict", {"instances": x.tolist()}, tls)
    check(code == 200 and len(r["predictions"]) == 5, "predict lr rows: %s %s" % (code, r))
    if code == 200:
        close([p["label"] for p in r["predictions"]], LR_LABEL[:5], "lr labels")
        close([p["probabilities"] for p in r["predictions"]], LR_PROB[:5], "lr probabilities")
    # columnar: {"outputs": {name: batch}}
    code, r = curl(base + "/v1/models/lr/versions/2:predict",
                   {"signature_name": "serving_default", "inputs": {"X": x.tolist()}}, tls)
    check(code == 200 and set(r["outputs"]) == {"label", "probabilities"}, "columnar lr: %s" % r)
    if code == 200:
        close(r["outputs"]["probabilities"], LR_PROB[:5], "lr columnar probabilities")
    # one output: rows are its nested lists; columnar: {"outputs": batch}
    a = [[[1, -2], [-3, 4]], [[-5, 6], [7, -8]]]
    code, r = curl(base + "/v1/models/one:predict", {"instances": a}, tls)
    check((code, r) == (200, {"predictions": [[[1, 0], [0, 4]], [[0, 6], [7, 0]]]}),
          "one rows: %s %s" % (code, r))
    code, r = curl(base + "/v1/models/one:predict", {"inputs": a}, tls)
    check((code, r) == (200, {"outputs": [[[1, 0], [0, 4]], [[0, 6], [7, 0]]]}),
          "one columnar: %s %s" % (code, r))
    # several inputs: objects per instance, or an object of batches
    code, r = curl(base + "/v1/models/two:predict",
                   {"instances": [{"a": [1, 2, 3], "b": [4, 5, 6]}, {"a": [0, 1, 0], "b": [2, 2, 2]}]}, tls)
    check((code, r) == (200, {"predictions": [{"sum": [5, 7, 9], "prod": [4, 10, 18]},
                                              {"sum": [2, 3, 2], "prod": [0, 2, 0]}]}),
          "two rows: %s %s" % (code, r))
    code, r = curl(base + "/v1/models/two:predict", {"inputs": {"a": [[1, 2, 3]], "b": [[1, 1, 1]]}}, tls)
    check((code, r) == (200, {"outputs": {"sum": [[2, 3, 4]], "prod": [[1, 2, 3]]}}),
          "two columnar: %s %s" % (code, r))
    # classify and regress (TF Serving's result forms)
    ex = [{"X": row} for row in x[:2].tolist()]
    code, r = curl(base + "/v1/models/lr:classify", {"examples": ex}, tls)
    check(code == 200 and [[c for c, _ in res] for res in r["results"]] == [["0", "1"]] * 2,
          "classify: %s %s" % (code, r))
    if code == 200:
        close([[s for _, s in res] for res in r["results"]], LR_PROB[:2], "classify scores")
    code, r = curl(base + "/v1/models/lr:regress", {"examples": ex}, tls)
    check(code == 200 and len(r["results"]) == 2, "regress: %s %s" % (code, r))
    if code == 200:
        close(r["results"], LR_LABEL[:2], "regress values")
    # a rank-3 feature: its row as a flat list of 4 values or as nested lists
    code, r = curl(base + "/v1/models/sum:regress", {"examples": [{"a": [1, 2, 3, 4.5]}, {"a": [[1, 1], [-1, 0.25]]}]}, tls)
    check((code, r) == (200, {"results": [10.5, 1.25]}), "regress rank 3: %s %s" % (code, r))
    # status and metadata, exactly TF Serving's shape
    code, r = curl(base + "/v1/models/lr", None, tls)
    ok = {"state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}}
    check((code, r) == (200, {"model_version_status": [dict(version="2", **ok), dict(version="1", **ok)]})
          or (code, r) == (200, {"model_version_status": [dict(version="1", **ok), dict(version="2", **ok)]}),
          "status: %s %s" % (code, r))
    code, r = curl(base + "/v1/models/lr/versions/1", None, tls)
    check((code, r) == (200, {"model_version_status": [dict(version="1", **ok)]}), "status v1: %s" % r)
    code, r = curl(base + "/v1/models/lr/metadata", None, tls)
    sig = r["metadata"]["signature_def"]["signature_def"]["serving_default"] if code == 200 else {}
    check(code == 200 and r["model_spec"] == {"name": "lr", "signature_name": "", "version": "2"}
          and sig.get("method_name") == "tensorflow/serving/predict"
          and sig["inputs"]["X"] == {"dtype": "DT_FLOAT", "name": "X:0", "tensor_shape": {
              "dim": [{"size": "-1", "name": ""}, {"size": "30", "name": ""}], "unknown_rank": False}},
          "metadata: %s %s" % (code, r))
    # TF Serving's errors; the server stays up through all of them
    errors = [
        ("/v1/models/nope:predict", {"instances": [[1]]}, 404, "Servable not found for request: Latest(nope)"),
        ("/v1/models/lr/versions/7:predict", {"instances": [[1]]}, 404,
         "Servable not found for request: Specific(lr, 7)"),
        ("/v1/models/lr:predict", "{\"instances\": [", 400, "JSON Parse error"),
        ("/v1/models/lr:predict", "[1, 2]", 400, "Is not object"),
        ("/v1/models/lr:predict", {"instance": []}, 400, "Missing 'inputs' or 'instances' key"),
        ("/v1/models/lr:predict", {"instances": [[1, 2]]}, 400, "dimension 1 has 2 values; the model takes 30"),
        ("/v1/models/lr:predict", {"instances": [["a"] * 30]}, 400, "is not a number"),
        ("/v1/models/lr:predict", {"instances": []}, 400, "non-empty"),
        ("/v1/models/lr:predict", {"signature_name": "other", "instances": [[0] * 30]}, 400,
         "Serving signature name: \"other\" not found in signature def"),
        ("/v1/models/two:predict", {"inputs": {"a": [[1, 2, 3]], "b": [[1, 1, 1], [2, 2, 2]]}}, 400,
         "batch sizes differ"),
        ("/v1/models/two:predict", {"instances": [{"a": [1, 2, 3]}]}, 400, "the model takes 2 inputs"),
        ("/v1/models/lr:explain", {"instances": [[0] * 30]}, 400, "Malformed request"),
        ("/v1/models/two:classify", {"examples": [{"a": [1, 2, 3]}]}, 400, "use :predict"),
        ("/v1/models/lr/labels/stable:predict", {"instances": [[0] * 30]}, 501, "version labels"),
        ("/v1/models/lr:predict", {"instances": [[0] * 30], "inputs": [[0] * 30]}, 400,
         "Not both 'instances' and 'inputs' may be given"),
        ("/v1/models/lr:predict", {"instances": [0] * 30}, 400,
         "input 'X': expected a list at dimension 1"),
        ("/v1/models/two:predict", {"instances": [[1, 2, 3]]}, 400,
         "instance 0: the model takes 2 named inputs; expected an object"),
        ("/v1/models/lr:classify", {"examples": [[0] * 30]}, 400, "example 0 is not an object"),
        ("/v1/models/lr:classify", {"examples": [{"Y": [0] * 30}]}, 400,
         "example 0 has no feature 'X'"),
        ("/v1/models/lr:classify", {"examples": [{"X": ["a"] * 30}]}, 400,
         "input 'X': a value is not a number"),
        ("/v1/models/" + "m" * 65 + ":predict", {"instances": [[1]]}, 404,
         "no model named in the path"),
        ("/v1/models/lr/versions/0:predict", {"instances": [[0] * 30]}, 400,
         "the version must be a number from 1 to 10^18 - 1"),
        ("/v2/models/lr/infer", {"inputs": [{"name": "X", "shape": [0, 30], "datatype": "FP32",
                                             "data": []}]}, 400,
         "input 'X': the batch (shape[0]) must be 1 to 1048576"),
        ("/v2/models/two/infer", {"inputs": [
            {"name": "a", "shape": [1, 3], "datatype": "FP32", "data": [1, 2, 3]},
            {"name": "b", "shape": [2, 3], "datatype": "FP32", "data": [1] * 6}]}, 400,
         "the inputs' batch sizes (shape[0]) differ"),
        ("/v2/models/two/infer", {"inputs": [
            {"name": "a", "shape": [1, 3], "datatype": "FP32", "data": [1, 2, 3]},
            {"name": "a", "shape": [1, 3], "datatype": "FP32", "data": [1, 2, 3]}]}, 400,
         "input 'a' is given twice"),
        ("/v1/models/one:regress", {"examples": [{"a": [1, 2, 3, 4]}]}, 400,
         "model one takes 1 input and has no single output of one value a row: use :predict"),
        ("/v1/models/two:regress", {"examples": [{"a": [1, 2, 3]}]}, 400,
         "model two takes 2 inputs and has no single output of one value a row: use :predict"),
        ("/v1/models/sum:regress", {"examples": [{"a": [1, 2, "x", 4]}]}, 400,
         "example 0: feature 'a' holds a value that is not a number"),
        ("/v1/models/lr:classify", {"examples": []}, 400,
         "'examples' must be a non-empty list of objects"),
        ("/v1/models/lr:classify", {"examples": [{"X": [0] * 30}], "context": 5}, 400,
         "'context' must be an object"),
    ]
    for path, body, want_code, want_text in errors:
        code, r = curl(base + path, body, tls)
        check(code == want_code and isinstance(r, dict) and want_text in r.get("error", ""),
              "%s %s: %s %s (expected %s '%s')" % (path, str(body)[:40], code, r, want_code, want_text))
    code, r = curl(base + "/v1/models/lr:predict", {"instances": [[0.5] * 30] * 3000}, tls)
    check(code == 413 and "error" in r, "oversized body: %s %s" % (code, str(r)[:80]))
    code, r = curl(base + "/v1/models/lr", None, tls)
    check(code == 200, "the server is up after the errors: %s" % code)
    # KServe v2
    code, r = curl(base + "/v2/health/live", None, tls)
    check((code, r) == (200, {"live": True}), "v2 live: %s %s" % (code, r))
    code, r = curl(base + "/v2/health/ready", None, tls)
    check((code, r) == (200, {"ready": True}), "v2 ready: %s %s" % (code, r))
    code, r = curl(base + "/v2/models/lr/ready", None, tls)
    check((code, r) == (200, {"name": "lr", "ready": True}), "v2 model ready: %s %s" % (code, r))
    code, r = curl(base + "/v2/models/lr", None, tls)
    check(code == 200 and r["name"] == "lr" and sorted(r["versions"]) == ["1", "2"]
          and r["inputs"] == [{"name": "X", "datatype": "FP32", "shape": [-1, 30]}],
          "v2 model metadata: %s %s" % (code, r))
    body = {"id": "req-7", "inputs": [{"name": "X", "shape": [3, 30], "datatype": "FP32",
                                        "data": x[:3].ravel().tolist()}],
            "outputs": [{"name": "probabilities"}]}
    code, r = curl(base + "/v2/models/lr/versions/1/infer", body, tls)
    check(code == 200 and r["id"] == "req-7" and r["model_name"] == "lr" and r["model_version"] == "1"
          and [o["name"] for o in r["outputs"]] == ["probabilities"]
          and r["outputs"][0]["shape"] == [3, 2] and r["outputs"][0]["datatype"] == "FP32",
          "v2 infer: %s %s" % (code, r))
    if code == 200:
        close(r["outputs"][0]["data"], LR_PROB[:3], "v2 infer probabilities")
    body["inputs"][0]["data"] = x[:3].tolist()  # nested data is accepted too
    del body["outputs"]
    code, r = curl(base + "/v2/models/lr/infer", body, tls)
    check(code == 200 and [o["name"] for o in r["outputs"]] == ["label", "probabilities"],
          "v2 infer nested: %s %s" % (code, r))
    for b, want_code, text in [
            ({"inputs": [{"name": "X", "shape": [2, 30], "datatype": "FP32", "data": [0] * 59}]}, 400,
             "59 values for a shape of 60"),
            ({"inputs": [{"name": "X", "shape": [1, 31], "datatype": "FP32", "data": [0] * 31}]}, 400,
             "shape[1] is 31"),
            ({"inputs": [{"name": "X", "shape": [1, 30], "datatype": "BYTES", "data": [0] * 30}]}, 400,
             "datatype"),
            ({"inputs": [{"name": "Y", "shape": [1, 30], "datatype": "FP32", "data": [0] * 30}]}, 400,
             "not an input"),
            ({"inputs": [{"name": "X", "shape": [1, 30], "datatype": "FP32", "data": [0] * 30}],
              "outputs": [{"name": "nope"}]}, 400, "not an output"),
            ({"inputs": [{"shape": [1, 30], "datatype": "FP32", "data": [0] * 30}]}, 400,
             "input 0 has no name"),
            ({"inputs": [{"name": "X", "shape": [1, 30], "datatype": "FP32", "data": [0] * 31}]},
             400, "more values than the shape holds"),
            ({"inputs": [{"name": "X", "shape": [1, 30], "datatype": "FP32", "data": ["a"] * 30}]},
             400, "data must be numbers"),
            ({"inputs": [{"name": "X", "shape": [1, 30, 1], "datatype": "FP32", "data": [0] * 30}]},
             400, "input 'X': shape must have 2 dimensions"),
            ({"inputs": [{"name": "X", "shape": [1, 30], "datatype": "FP32", "data": [0] * 30}],
              "outputs": [{}]}, 400, "requested output 0 has no name"),
            ({"inputs": [{"name": "X", "shape": [1, 30], "datatype": "FP32", "data": [0] * 30}],
              "outputs": 5}, 400, "'outputs' must be a list")]:
        code, r = curl(base + "/v2/models/lr/infer", b, tls)
        check(code == want_code and text in r.get("error", ""), "v2 error %s: %s %s" % (text, code, r))
    code, r = curl(base + "/v2/models/nope/infer", body, tls)
    check(code == 404 and "unknown model" in r.get("error", ""), "v2 unknown model: %s %s" % (code, r))


def ident(b):
    return b


def grpc_checks(channel):
    pred = channel.unary_unary("/tensorflow.serving.PredictionService/Predict",
                               request_serializer=ident, response_deserializer=ident)
    md = channel.unary_unary("/tensorflow.serving.PredictionService/GetModelMetadata",
                             request_serializer=ident, response_deserializer=ident)
    st = channel.unary_unary("/tensorflow.serving.ModelService/GetModelStatus",
                             request_serializer=ident, response_deserializer=ident)
    x = LR_IN[:4]
    for float_val in (False, True):
        r = w.decode_predict_response(pred(w.predict_request("lr", {"X": w.tensor([4, 30], x.ravel(), float_val)}),
                                           timeout=20))
        out = r["outputs"]
        check(r["model_spec"] == {"name": "lr", "version": 2, "signature_name": "serving_default"},
              "grpc model_spec: %s" % r["model_spec"])
        check(out["probabilities"]["shape"] == [4, 2] and out["probabilities"]["dtype"] == w.DT_FLOAT
              and out["probabilities"]["content"] and out["label"]["shape"] == [4],
              "grpc outputs: %s" % {k: v["shape"] for k, v in out.items()})
        close(out["probabilities"]["values"], LR_PROB[:4], "grpc probabilities (float_val=%s)" % float_val)
        close(out["label"]["values"], LR_LABEL[:4], "grpc labels")
    r = w.decode_predict_response(pred(w.predict_request(
        "lr", {"X": w.tensor([1, 30], x[0])}, version=1, signature="serving_default",
        output_filter=["label"]), timeout=20))
    check(list(r["outputs"]) == ["label"] and r["model_spec"]["version"] == 1, "grpc filter: %s" % r)
    r = w.decode_predict_response(pred(w.predict_request(
        "two", {"b": w.tensor([1, 3], [1, 2, 3], True), "a": w.tensor([1, 3], [2.0], True)}), timeout=20))
    check(r["outputs"]["sum"]["values"] == [3, 4, 5] and r["outputs"]["prod"]["values"] == [2, 4, 6],
          "grpc two inputs, float_val broadcast: %s" % r["outputs"])
    m = w.decode_metadata_response(md(w.metadata_request("lr"), timeout=20))
    check(m["type_url"] == "type.googleapis.com/tensorflow.serving.SignatureDefMap"
          and m["model_spec"]["name"] == "lr" and m["model_spec"]["version"] == 2
          and m["signature_def"]["serving_default"]["inputs"] == {"X": ("X:0", w.DT_FLOAT, [-1, 30])}
          and m["signature_def"]["serving_default"]["outputs"]["probabilities"] ==
          ("probabilities:0", w.DT_FLOAT, [-1, 2]), "grpc metadata: %s" % m)
    s = w.decode_status_response(st(w.status_request("lr"), timeout=20))
    check(sorted(v["version"] for v in s) == [1, 2] and all(v["state"] == 30 and v["error_code"] == 0 for v in s),
          "grpc status: %s" % s)
    s = w.decode_status_response(st(w.status_request("lr", 1), timeout=20))
    check([v["version"] for v in s] == [1], "grpc status v1: %s" % s)
    errors = [
        (pred, w.predict_request("nope", {"X": w.tensor([1, 30], x[0])}), grpc.StatusCode.NOT_FOUND,
         "Servable not found for request: Latest(nope)"),
        (pred, w.predict_request("lr", {"X": w.tensor([1, 30], x[0])}, version=9), grpc.StatusCode.NOT_FOUND,
         "Servable not found for request: Specific(lr, 9)"),
        (pred, w.predict_request("lr", {"X": w.tensor([1, 29], x[0][:29])}), grpc.StatusCode.INVALID_ARGUMENT,
         "dimension 1 is 29"),
        (pred, w.predict_request("lr", {"X": w.tensor([2, 30], x[0])}), grpc.StatusCode.INVALID_ARGUMENT,
         "tensor_content holds 120 bytes; the shape needs 240"),
        (pred, w.predict_request("lr", {"X": w.tensor([1 << 20, 30], x[0])}), grpc.StatusCode.INVALID_ARGUMENT,
         "tensor_content holds 120 bytes; the shape needs 125829120"),
        (pred, w.predict_request("lr", {"X": w.tensor([(1 << 20) + 1, 30], [0.5], True)}),
         grpc.StatusCode.INVALID_ARGUMENT, "the batch (dimension 0) must be 1 to 1048576"),
        (pred, w.predict_request("lr", {"X": w.tensor([1, 30], list(x[0]) + [0.5])}), grpc.StatusCode.INVALID_ARGUMENT,
         "tensor_content holds 124 bytes; the shape needs 120"),
        (pred, w.predict_request("lr", {"X": w.tensor([1, 30], list(x[0]) + [0.5], True)}),
         grpc.StatusCode.INVALID_ARGUMENT, "31 values in float_val; the shape needs 30"),
        (pred, w.predict_request("lr", {"X": w.tensor([1, 30], x[0], dtype=2)}), grpc.StatusCode.INVALID_ARGUMENT,
         "DT_FLOAT"),
        (pred, w.predict_request("lr", {"X": w.tensor([1, 30, 1], x[0])}), grpc.StatusCode.INVALID_ARGUMENT,
         "input 'X': the shape must have 2 dimensions"),
        (pred, w.predict_request("two", {"a": w.tensor([1, 3], [1, 2, 3]), "b": w.tensor([2, 3], [1] * 6)}),
         grpc.StatusCode.INVALID_ARGUMENT, "the inputs' batch sizes (dimension 0) differ"),
        (pred, w.predict_request("two", {"a": w.tensor([1, 3], [1, 2, 3])})
         + w.field_bytes(2, w.field_bytes(1, "a") + w.field_bytes(2, w.tensor([1, 3], [1, 2, 3]))),
         grpc.StatusCode.INVALID_ARGUMENT, "input 'a' is given twice"),
        (pred, w.predict_request("lr", {"Z": w.tensor([1, 30], x[0])}), grpc.StatusCode.INVALID_ARGUMENT,
         "input tensor alias not found in signature: Z"),
        (pred, w.predict_request("lr", {"X": w.tensor([1, 30], x[0])}, output_filter=["z"]),
         grpc.StatusCode.INVALID_ARGUMENT, "output tensor alias not found in signature: z"),
        (pred, w.predict_request("lr", {"X": w.tensor([1, 30], x[0])}, signature="s2"),
         grpc.StatusCode.INVALID_ARGUMENT, "Serving signature name: \"s2\" not found"),
        (pred, w.predict_request("lr", {"X": w.tensor([1, 30], x[0])}, label="stable"),
         grpc.StatusCode.UNIMPLEMENTED, "version labels"),
        (pred, b"\x0a\x04\x0a\x02lr", grpc.StatusCode.INVALID_ARGUMENT, "input size does not match signature"),
        # messages with their fields absent: no model_spec, an input without its tensor, a tensor
        # without its shape
        (pred, b"", grpc.StatusCode.INVALID_ARGUMENT, "Missing ModelSpec"),
        (md, b"", grpc.StatusCode.INVALID_ARGUMENT, "Missing ModelSpec"),
        (st, b"", grpc.StatusCode.INVALID_ARGUMENT, "Missing ModelSpec"),
        (pred, w.field_bytes(1, w.model_spec("lr")) + w.field_bytes(2, w.field_bytes(1, "X")),
         grpc.StatusCode.INVALID_ARGUMENT, "input 'X' has no tensor"),
        (pred, w.field_bytes(1, w.model_spec("lr")) + w.field_bytes(2, w.field_bytes(1, "X") + w.field_bytes(
            2, w.field_varint(1, w.DT_FLOAT) + w.field_bytes(4, struct.pack("<30f", *x[0])))),
         grpc.StatusCode.INVALID_ARGUMENT, "input 'X': the shape must have 2 dimensions"),
        (pred, b"\xff\xff\xff", grpc.StatusCode.INTERNAL, "cannot be parsed"),  # as gRPC C++
        (md, w.metadata_request("lr", fields=()), grpc.StatusCode.INVALID_ARGUMENT, "at least one metadata_field"),
        (md, w.metadata_request("lr", fields=("other",)), grpc.StatusCode.INVALID_ARGUMENT, "not supported"),
        (st, w.status_request("nope"), grpc.StatusCode.NOT_FOUND, "Could not find any versions of model nope"),
        (st, w.status_request("lr", 5), grpc.StatusCode.NOT_FOUND, "Could not find version 5 of model lr"),
        # over --max-body (65536): the gRPC listener's message limit too
        (pred, w.predict_request("lr", {"X": w.tensor([600, 30], list(x[0]) * 600)}),
         grpc.StatusCode.RESOURCE_EXHAUSTED, "exceeds the limit of 65536"),
    ]
    for fn, req, code, text in errors:
        try:
            fn(req, timeout=20)
            check(False, "grpc %r: answered, expected %s" % (req[:20], code))
        except grpc.RpcError as e:
            check(e.code() == code and text in (e.details() or ""),
                  "grpc %r: %s %s (expected %s '%s')" % (req[:20], e.code(), e.details(), code, text))


def tls_channel(port):
    creds = grpc.ssl_channel_credentials(open(WORK + "/c.pem", "rb").read())
    return grpc.secure_channel("localhost:%d" % port, creds)


def batching():
    """Concurrent requests are answered from one batch, each with its own rows."""
    s = Server("--model", "lr=" + WORK + "/breast_cancer_lr.onnx", "--rest", "127.0.0.1:0",
               "--batch-timeout-us", "1500000", "--batch-max", "64")
    base = "http://127.0.0.1:%d" % s.rest
    parts = [(0, 3), (3, 4), (7, 9), (16, 1)]
    with concurrent.futures.ThreadPoolExecutor(len(parts)) as ex:
        futs = [ex.submit(curl, base + "/v1/models/lr:predict",
                          {"instances": LR_IN[a:a + n].tolist()}, False) for a, n in parts]
        res = [f.result() for f in futs]
    for (a, n), (code, r) in zip(parts, res):
        check(code == 200 and len(r["predictions"]) == n, "batched request rows %d+%d: %s" % (a, n, code))
        if code == 200:
            close([p["probabilities"] for p in r["predictions"]], LR_PROB[a:a + n], "batched rows %d+%d" % (a, n))
    metrics = subprocess.run(["curl", "-s", base + "/metrics"], capture_output=True, text=True).stdout
    want = {"requests": 4, "batches": 1, "batch_rows": 17}
    for k, v in want.items():
        m = re.search(r'ccz_serving_%s_total\{model="lr",version="1"\} (\d+)' % k, metrics)
        check(m and int(m.group(1)) == v, "metrics %s: %s, expected %d" % (k, m and m.group(1), v))
    s.stop()


def flood():
    """Idle and half-sent connections from 127.0.0.1 up to the caps; a client from 127.0.0.2 is
    served, and the gRPC listener answers under its own flood."""
    s = Server("--model", "lr=" + WORK + "/breast_cancer_lr.onnx", "--rest", "127.0.0.1:0",
               "--grpc", "127.0.0.1:0", "--cert", WORK + "/c.pem", "--cert-key", WORK + "/k.pem",
               "--max-conns", "128")
    socks = []
    for i in range(300):
        try:
            c = socket.create_connection(("127.0.0.1", s.rest if i % 2 else s.grpc), timeout=2)
            if i % 3 == 0:
                c.send(b"\x16\x03\x01\x00")  # a TLS record header, then nothing
            socks.append(c)
        except OSError:
            pass
    t = time.monotonic()
    code, r = curl("https://localhost:%d/v1/models/lr:predict" % s.rest, {"instances": LR_IN[:1].tolist()},
                   True, ["--interface", "127.0.0.2", "--resolve", "localhost:%d:127.0.0.1" % s.rest])
    check(code == 200, "REST under flood: %s %s" % (code, r))
    try:
        pred = tls_channel(s.grpc).unary_unary("/tensorflow.serving.PredictionService/Predict",
                                               request_serializer=ident, response_deserializer=ident)
        pred(w.predict_request("lr", {"X": w.tensor([1, 30], LR_IN[0])}), timeout=20)
    except grpc.RpcError as e:
        check(False, "gRPC under flood: %s %s" % (e.code(), e.details()))
    print("flood: %d connections held; both answered in %.2f s" % (len(socks), time.monotonic() - t))
    for c in socks:
        c.close()
    s.stop()


def connect_from(src, port):
    """A TCP connection from address src that sends nothing."""
    c = socket.socket()
    c.bind((src, 0))
    c.settimeout(5)
    c.connect(("127.0.0.1", port))
    return c


def closed(c, wait):
    """Whether the server closes c (end of stream or reset) within wait seconds."""
    end = time.monotonic() + wait
    try:
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return False
            c.settimeout(left)
            if c.recv(4096) == b"":
                return True
    except socket.timeout:
        return False
    except OSError:
        return True


def closed_after(c, wait):
    """The seconds until the server closes c, if it does within wait seconds; else None."""
    t = time.monotonic()
    return time.monotonic() - t if closed(c, wait) else None


def per_peer_and_handshake():
    """--max-per-peer reaches both listeners: 127.0.0.2's third silent connection closes its own
    oldest while 127.0.0.1's connection stays and a client from 127.0.0.1 is served;
    --handshake-timeout reaches both: a silent connection is closed at 300 ms, not 10 s."""
    tls = ["--cert", WORK + "/c.pem", "--cert-key", WORK + "/k.pem"]
    s = Server("--model", "lr=" + WORK + "/breast_cancer_lr.onnx", "--rest", "127.0.0.1:0",
               "--grpc", "127.0.0.1:0", *tls, "--max-per-peer", "2", "--handshake-timeout", "20000")
    for name, port in (("REST", s.rest), ("gRPC", s.grpc)):
        other = connect_from("127.0.0.1", port)
        flood = [connect_from("127.0.0.2", port) for _ in range(3)]
        check(closed(flood[0], 3), "%s --max-per-peer 2: 127.0.0.2's oldest connection left open" % name)
        check(not closed(flood[1], 0.2) and not closed(flood[2], 0.2),
              "%s --max-per-peer 2: 127.0.0.2's newer connections closed" % name)
        check(not closed(other, 0.1), "%s --max-per-peer 2: 127.0.0.1's connection closed for 127.0.0.2's" % name)
        if name == "REST":
            code, r = curl("https://localhost:%d/v1/models/lr:predict" % port, {"instances": LR_IN[:1].tolist()},
                           True, ["--resolve", "localhost:%d:127.0.0.1" % port])
            check(code == 200, "REST beside 127.0.0.2's connections: %s %s" % (code, r))
        else:
            try:
                pred = tls_channel(port).unary_unary("/tensorflow.serving.PredictionService/Predict",
                                                     request_serializer=ident, response_deserializer=ident)
                pred(w.predict_request("lr", {"X": w.tensor([1, 30], LR_IN[0])}), timeout=20)
            except grpc.RpcError as e:
                check(False, "gRPC beside 127.0.0.2's connections: %s %s" % (e.code(), e.details()))
        for c in flood + [other]:
            c.close()
    s.stop()
    s = Server("--model", "lr=" + WORK + "/breast_cancer_lr.onnx", "--rest", "127.0.0.1:0",
               "--grpc", "127.0.0.1:0", *tls, "--handshake-timeout", "300")
    for name, port in (("REST", s.rest), ("gRPC", s.grpc)):
        c = connect_from("127.0.0.1", port)
        took = closed_after(c, 3)
        check(took is not None and took >= 0.25,
              "%s --handshake-timeout 300: closed after %s s" % (name, took))
        c.close()
    s.stop()


def conns_and_idle():
    """--max-conns reaches both listeners (named TLS with --cert): at a cap of 2 the third silent
    connection closes the oldest one still in its handshake, the newer two stay; --idle-timeout
    reaches both: a connection that finished its TLS handshake and sends nothing is closed at
    600 ms, not 60 s; --timeout 500 answers a stalled REST request 408 at 500 ms, not 30 s."""
    tls = ["--cert", WORK + "/c.pem", "--cert-key", WORK + "/k.pem"]
    s = Server("--model", "lr=" + WORK + "/breast_cancer_lr.onnx", "--rest", "127.0.0.1:0",
               "--grpc", "127.0.0.1:0", *tls, "--max-conns", "2", "--handshake-timeout", "20000")
    check("REST on port %d (TLS)" % s.rest in s.text and "gRPC on port %d (TLS)" % s.grpc in s.text,
          "--cert: the listeners not named TLS: %s" % s.text.strip())
    for name, port in (("REST", s.rest), ("gRPC", s.grpc)):
        conns = [connect_from("127.0.0.1", port) for _ in range(3)]
        check(closed(conns[0], 3), "%s --max-conns 2: the oldest of three connections left open" % name)
        check(not closed(conns[1], 0.2) and not closed(conns[2], 0.2),
              "%s --max-conns 2: the two newer connections closed" % name)
        for c in conns:
            c.close()
    s.stop()
    s = Server("--model", "lr=" + WORK + "/breast_cancer_lr.onnx", "--rest", "127.0.0.1:0",
               "--grpc", "127.0.0.1:0", *tls, "--idle-timeout", "600", "--handshake-timeout", "20000")
    for name, port in (("REST", s.rest), ("gRPC", s.grpc)):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
        if name == "gRPC":
            ctx.set_alpn_protocols(["h2"])
        c = ctx.wrap_socket(connect_from("127.0.0.1", port))
        took = closed_after(c, 4)
        check(took is not None and took >= 0.45, "%s --idle-timeout 600: closed after %s s" % (name, took))
        c.close()
    s.stop()
    # --timeout bounds one REST request: a body that stops coming is answered 408 at 500 ms, not 30 s
    s = Server("--model", "lr=" + WORK + "/breast_cancer_lr.onnx", "--rest", "127.0.0.1:0", "--timeout", "500")
    c = connect_from("127.0.0.1", s.rest)
    c.sendall(b"POST /v1/models/lr:predict HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"inst")
    t = time.monotonic()
    try:
        c.settimeout(4)
        got = c.recv(4096)
    except OSError as e:
        got = repr(e).encode()
    took = time.monotonic() - t
    check(got.startswith(b"HTTP/1.1 408") and took >= 0.4,
          "--timeout 500: a stalled request got %r after %.2f s" % (got[:40], took))
    c.close()
    s.stop()


def protected_and_refusals():
    pf = WORK + "/lr.pf"
    s = Server("--model", "lr=" + pf, "--key", WORK + "/key.bin", "--rest", "127.0.0.1:0")
    code, r = curl("http://127.0.0.1:%d/v1/models/lr:predict" % s.rest, {"instances": LR_IN[:2].tolist()}, False)
    check(code == 200, "protected model: %s %s" % (code, r))
    if code == 200:
        close([p["probabilities"] for p in r["predictions"]], LR_PROB[:2], "protected model outputs")
    s.stop()
    refusals = [
        (["--model", "lr=" + pf, "--rest", "127.0.0.1:0"], "is a protected file: its key is needed"),
        (["--model", "lr=" + pf, "--key", WORK + "/other.bin", "--rest", "127.0.0.1:0"], "lr"),
        (["--model", "lr=" + WORK + "/./lr.pf", "--key", WORK + "/key.bin", "--rest", "127.0.0.1:0"], "path"),
        (["--model", "lr=" + WORK + "/breast_cancer_lr.onnx", "--rest", "0.0.0.0:0"], "loopback only"),
        (["--model", "lr=" + WORK + "/breast_cancer_lr.onnx"], "--rest ADDR, --grpc ADDR or both"),
        (["--model", "lr=" + WORK + "/breast_cancer_lr.onnx", "--model", "lr=" + WORK + "/one.onnx",
          "--rest", "127.0.0.1:0"], "given twice"),
        (["--model", "l r=" + WORK + "/one.onnx", "--rest", "127.0.0.1:0"], "model name"),
        (["--model", "lr=" + WORK + "/missing.onnx", "--rest", "127.0.0.1:0"], "missing.onnx"),
    ]
    for args, text in refusals:
        s = Server(*args, expect_fail=True)
        check(s.code == 2 and text in s.text, "ccz serve %s: exit %s, '%s'" % (" ".join(args)[-60:], s.code, s.text.strip()))


def main():
    build_models()
    lr = WORK + "/breast_cancer_lr.onnx"
    s = Server("--model", "lr=" + lr, "--model", "lr=" + lr + ":2", "--model", "one=" + WORK + "/one.onnx",
               "--model", "two=" + WORK + "/two.onnx", "--model", "sum=" + WORK + "/sum.onnx",
               "--rest", "127.0.0.1:0", "--grpc", "127.0.0.1:0",
               "--cert", WORK + "/c.pem", "--cert-key", WORK + "/k.pem", "--max-body", "65536")
    code, _ = curl("https://localhost:%d/v1/models/lr:predict" % s.rest, {"instances": LR_IN[:1].tolist()})
    print("first request answered %.0f ms after start (TLS, 5 models)" % ((time.monotonic() - s.t0) * 1000))
    rest_checks("https://localhost:%d" % s.rest, True)
    grpc_checks(tls_channel(s.grpc))
    s.stop()
    # the same over plain HTTP and h2c (grpc.insecure_channel), on loopback
    s = Server("--model", "lr=" + lr, "--model", "lr=" + lr + ":2", "--model", "one=" + WORK + "/one.onnx",
               "--model", "two=" + WORK + "/two.onnx", "--model", "sum=" + WORK + "/sum.onnx",
               "--rest", "127.0.0.1:0", "--grpc", "127.0.0.1:0",
               "--max-body", "65536")
    check("plaintext listeners on loopback, unauthenticated" in s.text, "plaintext not said: " + s.text)
    rest_checks("http://127.0.0.1:%d" % s.rest, False)
    grpc_checks(grpc.insecure_channel("127.0.0.1:%d" % s.grpc))
    s.stop()
    batching()
    flood()
    per_peer_and_handshake()
    conns_and_idle()
    protected_and_refusals()
    print("%d checks failed" % failures if failures else "all checks passed")
    sys.exit(1 if failures else 0)


main()
