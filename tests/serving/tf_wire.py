# SPDX-License-Identifier: Apache-2.0
"""TensorFlow Serving's gRPC messages encoded and decoded by hand from the protobuf wire format
(https://protobuf.dev/programming-guides/encoding/) and TF Serving's .proto field numbers, with
no generated code: an independent client for ccz serve's tests, run by Debian's python3-grpcio.

  PredictRequest   {model_spec=1 ModelSpec, inputs=2 map<string,TensorProto>, output_filter=3}
  PredictResponse  {outputs=1 map<string,TensorProto>, model_spec=2}
  ModelSpec        {name=1, version=2 Int64Value{value=1}, signature_name=3, version_label=4}
  TensorProto      {dtype=1, tensor_shape=2 {dim=2 {size=1, name=2}}, tensor_content=4,
                    float_val=5 (packed)}
  GetModelMetadataRequest  {model_spec=1, metadata_field=2}
  GetModelMetadataResponse {model_spec=1, metadata=2 map<string,Any{type_url=1,value=2}>}
  GetModelStatusRequest    {model_spec=1}
  GetModelStatusResponse   {model_version_status=1 {version=1, state=2, status=3}}
"""
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from pbwire import decode, field_bytes, field_varint  # noqa: E402

DT_FLOAT = 1


def model_spec(name, version=None, signature=None, label=None):
    m = field_bytes(1, name)
    if version is not None:
        m += field_bytes(2, field_varint(1, version))
    if signature is not None:
        m += field_bytes(3, signature)
    if label is not None:
        m += field_bytes(4, label)
    return m


def tensor(shape, values, float_val=False, dtype=DT_FLOAT):
    t = field_varint(1, dtype)
    dims = b"".join(field_bytes(2, field_varint(1, d)) for d in shape)
    t += field_bytes(2, dims)
    if float_val:
        t += field_bytes(5, b"".join(struct.pack("<f", v) for v in values))
    else:
        t += field_bytes(4, b"".join(struct.pack("<f", v) for v in values))
    return t


def predict_request(name, inputs, version=None, signature=None, output_filter=(), label=None):
    """inputs: {name: tensor bytes}."""
    r = field_bytes(1, model_spec(name, version, signature, label))
    for k, t in inputs.items():
        r += field_bytes(2, field_bytes(1, k) + field_bytes(2, t))
    for o in output_filter:
        r += field_bytes(3, o)
    return r


def metadata_request(name, fields=("signature_def",), version=None):
    return field_bytes(1, model_spec(name, version)) + b"".join(field_bytes(2, f) for f in fields)


def status_request(name, version=None):
    return field_bytes(1, model_spec(name, version))


def decode_tensor(b):
    t = decode(b)
    shape = [decode(d).get(1, [0])[0] for d in decode(t[2][0]).get(2, [])] if 2 in t else []
    shape = [d - (1 << 64) if d >= 1 << 63 else d for d in shape]
    if 4 in t:
        raw = t[4][0]
        values = list(struct.unpack("<%df" % (len(raw) // 4), raw))
    else:
        raw = b"".join(t.get(5, []))
        values = list(struct.unpack("<%df" % (len(raw) // 4), raw))
    return {"dtype": t.get(1, [0])[0], "shape": shape, "values": values,
            "content": 4 in t}


def decode_spec(b):
    s = decode(b)
    return {"name": s.get(1, [b""])[0].decode(),
            "version": decode(s[2][0]).get(1, [0])[0] if 2 in s else None,
            "signature_name": s.get(3, [b""])[0].decode()}


def decode_predict_response(b):
    r = decode(b)
    outs = {}
    for e in r.get(1, []):
        kv = decode(e)
        outs[kv[1][0].decode()] = decode_tensor(kv[2][0])
    return {"outputs": outs, "model_spec": decode_spec(r[2][0]) if 2 in r else None}


def decode_status_response(b):
    r = decode(b)
    out = []
    for v in r.get(1, []):
        f = decode(v)
        st = decode(f[3][0]) if 3 in f else {}
        out.append({"version": f.get(1, [0])[0], "state": f.get(2, [0])[0],
                    "error_code": st.get(1, [0])[0]})
    return out


def decode_metadata_response(b):
    """model_spec and the signature_def Any: its type_url and the SignatureDefMap decoded to
    {signature: {"inputs": {k: (name, dtype, shape)}, "outputs": ..., "method_name": ...}}."""
    r = decode(b)
    meta = {}
    for e in r.get(2, []):
        kv = decode(e)
        anyv = decode(kv[2][0])
        meta[kv[1][0].decode()] = (anyv[1][0].decode(), anyv.get(2, [b""])[0])
    type_url, packed = meta["signature_def"]
    sigs = {}
    for e in decode(packed).get(1, []):
        kv = decode(e)
        d = decode(kv[2][0])
        sig = {"method_name": d.get(3, [b""])[0].decode()}
        for num, part in ((1, "inputs"), (2, "outputs")):
            sig[part] = {}
            for ie in d.get(num, []):
                ikv = decode(ie)
                ti = decode(ikv[2][0])
                dims = [decode(x).get(1, [0])[0] for x in decode(ti[3][0]).get(2, [])]
                dims = [x - (1 << 64) if x >= 1 << 63 else x for x in dims]
                sig[part][ikv[1][0].decode()] = (ti[1][0].decode(), ti[2][0], dims)
        sigs[kv[1][0].decode()] = sig
    return {"model_spec": decode_spec(r[1][0]), "type_url": type_url, "signature_def": sigs}
