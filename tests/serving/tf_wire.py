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
import struct

DT_FLOAT = 1


def varint(n):
    if n < 0:
        n += 1 << 64
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field_varint(num, v):
    return varint(num << 3) + varint(v)


def field_bytes(num, b):
    if isinstance(b, str):
        b = b.encode()
    return varint(num << 3 | 2) + varint(len(b)) + b


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


def parse(b):
    """Wire format to {field: [values]} (varints as ints, length-delimited as bytes)."""
    out, i = {}, 0
    while i < len(b):
        key, i = read_varint(b, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = read_varint(b, i)
        elif wt == 2:
            n, i = read_varint(b, i)
            v, i = b[i:i + n], i + n
        elif wt == 5:
            v, i = b[i:i + 4], i + 4
        elif wt == 1:
            v, i = b[i:i + 8], i + 8
        else:
            raise ValueError("wire type %d" % wt)
        out.setdefault(num, []).append(v)
    return out


def read_varint(b, i):
    n = shift = 0
    while True:
        c = b[i]
        i += 1
        n |= (c & 0x7F) << shift
        shift += 7
        if not c & 0x80:
            return n, i


def decode_tensor(b):
    t = parse(b)
    shape = [parse(d).get(1, [0])[0] for d in parse(t[2][0]).get(2, [])] if 2 in t else []
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
    s = parse(b)
    return {"name": s.get(1, [b""])[0].decode(),
            "version": parse(s[2][0]).get(1, [0])[0] if 2 in s else None,
            "signature_name": s.get(3, [b""])[0].decode()}


def decode_predict_response(b):
    r = parse(b)
    outs = {}
    for e in r.get(1, []):
        kv = parse(e)
        outs[kv[1][0].decode()] = decode_tensor(kv[2][0])
    return {"outputs": outs, "model_spec": decode_spec(r[2][0]) if 2 in r else None}


def decode_status_response(b):
    r = parse(b)
    out = []
    for v in r.get(1, []):
        f = parse(v)
        st = parse(f[3][0]) if 3 in f else {}
        out.append({"version": f.get(1, [0])[0], "state": f.get(2, [0])[0],
                    "error_code": st.get(1, [0])[0]})
    return out


def decode_metadata_response(b):
    """model_spec and the signature_def Any: its type_url and the SignatureDefMap decoded to
    {signature: {"inputs": {k: (name, dtype, shape)}, "outputs": ..., "method_name": ...}}."""
    r = parse(b)
    meta = {}
    for e in r.get(2, []):
        kv = parse(e)
        anyv = parse(kv[2][0])
        meta[kv[1][0].decode()] = (anyv[1][0].decode(), anyv.get(2, [b""])[0])
    type_url, packed = meta["signature_def"]
    sigs = {}
    for e in parse(packed).get(1, []):
        kv = parse(e)
        d = parse(kv[2][0])
        sig = {"method_name": d.get(3, [b""])[0].decode()}
        for num, part in ((1, "inputs"), (2, "outputs")):
            sig[part] = {}
            for ie in d.get(num, []):
                ikv = parse(ie)
                ti = parse(ikv[2][0])
                dims = [parse(x).get(1, [0])[0] for x in parse(ti[3][0]).get(2, [])]
                dims = [x - (1 << 64) if x >= 1 << 63 else x for x in dims]
                sig[part][ikv[1][0].decode()] = (ti[1][0].decode(), ti[2][0], dims)
        sigs[kv[1][0].decode()] = sig
    return {"model_spec": decode_spec(r[1][0]), "type_url": type_url, "signature_def": sigs}
