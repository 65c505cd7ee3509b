#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the seed corpus of fuzz_serving_grpc (run by hand: gen_serving_seeds.py
fuzz/corpus/serving_grpc): tensorflow.serving.PredictRequest messages encoded from
proto/tf_serving.proto's field numbers (tests/support/pbwire.py) for the fuzz models "two", "cls"
and "reg": rows as tensor_content and as float_val, one value for all, an output filter, a
version, and requests the server refuses (another shape, a missing input, an unknown output)."""
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "support"))
from pbwire import field_bytes, field_varint  # noqa: E402

D = sys.argv[1]
DT_FLOAT = 1


def shape(dims):
    return b"".join(field_bytes(2, field_varint(1, d)) for d in dims)


def tensor(dims, values=None, content=True, dtype=DT_FLOAT):
    n = 1
    for d in dims:
        n *= d
    values = values if values is not None else [0.25 * i - 1 for i in range(n)]
    out = field_varint(1, dtype) + field_bytes(2, shape(dims))
    floats = struct.pack("<%df" % len(values), *values)
    return out + (field_bytes(4, floats) if content else field_bytes(5, floats))


def spec(name, version=None, signature=None):
    out = field_bytes(1, name)
    if version is not None:
        out += field_bytes(2, field_varint(1, version))  # google.protobuf.Int64Value
    if signature is not None:
        out += field_bytes(3, signature)
    return out


def request(name, inputs, outputs=(), **kw):
    out = field_bytes(1, spec(name, **kw))
    for key, t in inputs:
        out += field_bytes(2, field_bytes(1, key) + field_bytes(2, t))
    for o in outputs:
        out += field_bytes(3, o)
    return out


SEEDS = {
    "two_content": request("two", [("a", tensor([2, 3])), ("b", tensor([2, 2, 2]))]),
    "two_float_val": request("two", [("a", tensor([1, 3], content=False)),
                                     ("b", tensor([1, 2, 2], content=False))], ["i"]),
    "cls_broadcast": request("cls", [("x", tensor([4, 3], [0.5], content=False))],
                             version=1, signature="serving_default"),
    "reg_rows": request("reg", [("x", tensor([5, 1]))], ["y"]),
    "bad_shape": request("two", [("a", tensor([2, 4])), ("b", tensor([2, 2, 2]))]),
    "bad_missing": request("two", [("a", tensor([2, 3]))]),
    "bad_output": request("cls", [("x", tensor([1, 3]))], ["q"]),
    "bad_dtype": request("reg", [("x", tensor([1, 1], dtype=2))]),
}

os.makedirs(D, exist_ok=True)
for name, data in SEEDS.items():
    with open(os.path.join(D, name), "wb") as f:
        f.write(data)
