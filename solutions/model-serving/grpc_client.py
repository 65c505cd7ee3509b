#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""A stock gRPC client of TensorFlow Serving's API (Debian's python3-grpcio and
python3-protobuf), as a TF Serving user would point at `ccz serve`. No generated stubs: the
messages are described at run time (descriptor_pb2, message_factory) with TensorFlow Serving's
own package, names and field numbers, so what goes on the wire is what tensorflow-serving-api
sends.

  grpc_client.py [options] predict|metadata|status
    --target HOST:PORT      the server (default 127.0.0.1:8500, TF Serving's gRPC port)
    --model NAME            the model (required)
    --version N             a version (default: the latest)
    --input FILE            predict: the model's input, a .npy array or a JSON list (nested
                            rows) or a JSON object {INPUT_NAME: rows, ...}
    --input-name NAME       the input's name for a .npy or list input (default: input)
    --float-val             send float_val instead of tensor_content
    --tls-ca FILE           TLS, trusting this PEM (a CA, or the server's own RA-TLS
                            certificate); without it the channel is plaintext
    --authority NAME        the name to check in the server's certificate (with --tls-ca)
    --timeout S             the call's deadline in seconds (default 30)
Prints the answer as JSON on standard output: predict {"outputs": {NAME: rows}, "model_spec"},
metadata {"model_spec", "metadata": {"signature_def"}} (as TF Serving's REST API shows it),
status {"model_version_status": [...]}. Exits 1 when the call fails (its status code and
message on standard error), 77 when a package is missing.
"""
import argparse
import json
import sys

try:
    import grpc
    import numpy as np
    from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory
except ImportError as e:
    print(f"grpc_client.py: {e} (scripts/setup installs it)", file=sys.stderr)
    sys.exit(77)

PACKAGE = "tensorflow.serving"
F = descriptor_pb2.FieldDescriptorProto
DT_FLOAT = 1

# message name -> fields (name, number, type, repeated, message type); the field numbers are
# those of tensorflow_serving/apis/*.proto and tensorflow/core/framework/*.proto
MESSAGES = {
    "Int64Value": [("value", 1, F.TYPE_INT64, False, None)],  # google.protobuf's, on the wire
    "Any": [("type_url", 1, F.TYPE_STRING, False, None), ("value", 2, F.TYPE_BYTES, False, None)],
    "TensorShapeProto": [("dim", 2, F.TYPE_MESSAGE, True, "TensorShapeProto.Dim"),
                         ("unknown_rank", 3, F.TYPE_BOOL, False, None)],
    "TensorShapeProto.Dim": [("size", 1, F.TYPE_INT64, False, None),
                             ("name", 2, F.TYPE_STRING, False, None)],
    "TensorProto": [("dtype", 1, F.TYPE_ENUM, False, None),
                    ("tensor_shape", 2, F.TYPE_MESSAGE, False, "TensorShapeProto"),
                    ("version_number", 3, F.TYPE_INT32, False, None),
                    ("tensor_content", 4, F.TYPE_BYTES, False, None),
                    ("float_val", 5, F.TYPE_FLOAT, True, None),
                    ("double_val", 6, F.TYPE_DOUBLE, True, None),
                    ("int_val", 7, F.TYPE_INT32, True, None),
                    ("int64_val", 10, F.TYPE_INT64, True, None)],
    "ModelSpec": [("name", 1, F.TYPE_STRING, False, None),
                  ("version", 2, F.TYPE_MESSAGE, False, "Int64Value"),
                  ("signature_name", 3, F.TYPE_STRING, False, None),
                  ("version_label", 4, F.TYPE_STRING, False, None)],
    "PredictRequest": [("model_spec", 1, F.TYPE_MESSAGE, False, "ModelSpec"),
                       ("inputs", 2, "map", True, "TensorProto"),
                       ("output_filter", 3, F.TYPE_STRING, True, None)],
    "PredictResponse": [("outputs", 1, "map", True, "TensorProto"),
                        ("model_spec", 2, F.TYPE_MESSAGE, False, "ModelSpec")],
    "TensorInfo": [("name", 1, F.TYPE_STRING, False, None),
                   ("dtype", 2, F.TYPE_ENUM, False, None),
                   ("tensor_shape", 3, F.TYPE_MESSAGE, False, "TensorShapeProto")],
    "SignatureDef": [("inputs", 1, "map", True, "TensorInfo"),
                     ("outputs", 2, "map", True, "TensorInfo"),
                     ("method_name", 3, F.TYPE_STRING, False, None)],
    "SignatureDefMap": [("signature_def", 1, "map", True, "SignatureDef")],
    "GetModelMetadataRequest": [("model_spec", 1, F.TYPE_MESSAGE, False, "ModelSpec"),
                                ("metadata_field", 2, F.TYPE_STRING, True, None)],
    "GetModelMetadataResponse": [("model_spec", 1, F.TYPE_MESSAGE, False, "ModelSpec"),
                                 ("metadata", 2, "map", True, "Any")],
    "StatusProto": [("error_code", 1, F.TYPE_INT32, False, None),
                    ("error_message", 2, F.TYPE_STRING, False, None)],
    "ModelVersionStatus": [("version", 1, F.TYPE_INT64, False, None),
                           ("state", 2, F.TYPE_ENUM, False, None),
                           ("status", 3, F.TYPE_MESSAGE, False, "StatusProto")],
    "GetModelStatusRequest": [("model_spec", 1, F.TYPE_MESSAGE, False, "ModelSpec")],
    "GetModelStatusResponse": [("model_version_status", 1, F.TYPE_MESSAGE, True,
                                "ModelVersionStatus")],
}
ENUMS = {  # enum -> values; and which enum each enum field holds
    "DataType": [("DT_INVALID", 0), ("DT_FLOAT", 1), ("DT_DOUBLE", 2), ("DT_INT32", 3),
                 ("DT_UINT8", 4), ("DT_STRING", 7), ("DT_INT64", 9), ("DT_BOOL", 10)],
    "ModelVersionStatus.State": [("UNKNOWN", 0), ("START", 10), ("LOADING", 20),
                                 ("AVAILABLE", 30), ("UNLOADING", 40), ("END", 50)],
}
ENUM_OF = {"dtype": "DataType", "state": "ModelVersionStatus.State"}


def _field(name, number, ftype, repeated, type_name, scope):
    f = F(name=name, number=number,
          label=F.LABEL_REPEATED if repeated else F.LABEL_OPTIONAL)
    if ftype == "map":  # map<string, V>: a nested NameEntry message {key = 1; value = 2}
        f.type, f.type_name = F.TYPE_MESSAGE, f".{PACKAGE}.{scope}.{_entry(name)}"
    else:
        f.type = ftype
        if ftype == F.TYPE_MESSAGE:
            f.type_name = f".{PACKAGE}.{type_name}"
        elif ftype == F.TYPE_ENUM:
            f.type_name = f".{PACKAGE}.{ENUM_OF[name]}"
    if repeated and ftype in (F.TYPE_FLOAT, F.TYPE_DOUBLE, F.TYPE_INT32, F.TYPE_INT64):
        f.options.packed = True
    return f


def _entry(field_name):
    return "".join(p.title() for p in field_name.split("_")) + "Entry"


def _pool():
    fd = descriptor_pb2.FileDescriptorProto(name="ccz_tf_serving_client.proto", package=PACKAGE,
                                            syntax="proto3")
    protos = {}
    for full in MESSAGES:  # outer messages before their nested ones (dict order)
        outer, _, inner = full.partition(".")
        parent = fd.message_type if not inner else protos[outer].nested_type
        protos[full] = parent.add(name=inner or outer)
    for full, fields in MESSAGES.items():
        m = protos[full]
        for name, number, ftype, repeated, type_name in fields:
            m.field.append(_field(name, number, ftype, repeated, type_name, full))
            if ftype == "map":
                e = m.nested_type.add(name=_entry(name))
                e.options.map_entry = True
                e.field.append(_field("key", 1, F.TYPE_STRING, False, None, full))
                e.field.append(_field("value", 2, F.TYPE_MESSAGE, False, type_name, full))
    for full, values in ENUMS.items():
        outer, _, inner = full.partition(".")
        parent = fd.enum_type if not inner else protos[outer].enum_type
        e = parent.add(name=inner or outer)
        for name, number in values:
            e.value.add(name=name, number=number)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fd)
    return pool


POOL = _pool()


def message(name):
    """The message class tensorflow.serving.NAME."""
    return message_factory.MessageFactory(POOL).GetPrototype(
        POOL.FindMessageTypeByName(f"{PACKAGE}.{name}"))


def tensor(array, float_val=False):
    """A DT_FLOAT TensorProto of the array: its bytes in tensor_content, or float_val."""
    a = np.ascontiguousarray(array, dtype="<f4")
    t = message("TensorProto")(dtype=DT_FLOAT)
    t.tensor_shape.dim.extend([message("TensorShapeProto.Dim")(size=n) for n in a.shape])
    if float_val:
        t.float_val.extend(a.ravel().tolist())
    else:
        t.tensor_content = a.tobytes()
    return t


def array(t):
    """The numbers of a TensorProto as a NumPy array of its shape."""
    shape = [d.size for d in t.tensor_shape.dim]
    if t.tensor_content:
        dtype = {1: "<f4", 2: "<f8", 3: "<i4", 9: "<i8"}[t.dtype]
        return np.frombuffer(t.tensor_content, dtype=dtype).reshape(shape)
    for field in ("float_val", "double_val", "int_val", "int64_val"):
        vals = getattr(t, field)
        if len(vals):
            a = np.array(vals)
            # TF Serving's rule: one value stands for every element
            return np.full(shape, a[0]) if a.size == 1 and np.prod(shape) != 1 else \
                a.reshape(shape)
    return np.zeros(shape, dtype=np.float32)


def read_inputs(path, input_name):
    """{name: array} from a .npy file or a JSON list or object."""
    if path.endswith(".npy"):
        return {input_name: np.load(path)}
    with open(path) as f:
        data = json.load(f)
    for key in ("instances", "inputs"):  # a REST request body works too
        if isinstance(data, dict) and key in data:
            data = data[key]
    if isinstance(data, dict):
        return {k: np.array(v, dtype=np.float32) for k, v in data.items()}
    return {input_name: np.array(data, dtype=np.float32)}


def spec(args):
    s = message("ModelSpec")(name=args.model)
    if args.version is not None:
        s.version.value = args.version
    return s


def as_dict(m):
    return json_format.MessageToDict(m, preserving_proto_field_name=True)


def predict(channel, args):
    if not args.input:
        raise SystemExit("grpc_client.py: predict needs --input FILE")
    req = message("PredictRequest")(model_spec=spec(args))
    for name, a in read_inputs(args.input, args.input_name).items():
        req.inputs[name].CopyFrom(tensor(a, args.float_val))
    resp = call(channel, "PredictionService/Predict", req, "PredictResponse", args.timeout)
    return {"outputs": {k: array(v).tolist() for k, v in sorted(resp.outputs.items())},
            "model_spec": as_dict(resp.model_spec)}


def metadata(channel, args):
    req = message("GetModelMetadataRequest")(model_spec=spec(args),
                                             metadata_field=["signature_def"])
    resp = call(channel, "PredictionService/GetModelMetadata", req,
                "GetModelMetadataResponse", args.timeout)
    out = {}  # as TF Serving's REST API shows it: {"model_spec", "metadata": {"signature_def"}}
    for key, value in resp.metadata.items():
        if value.type_url.endswith("/tensorflow.serving.SignatureDefMap"):
            out[key] = as_dict(message("SignatureDefMap").FromString(value.value))
        else:
            out[key] = {"type_url": value.type_url, "bytes": len(value.value)}
    return {"model_spec": as_dict(resp.model_spec), "metadata": out}


def status(channel, args):
    req = message("GetModelStatusRequest")(model_spec=spec(args))
    return as_dict(call(channel, "ModelService/GetModelStatus", req, "GetModelStatusResponse",
                        args.timeout))


def call(channel, method, req, reply, timeout):
    fn = channel.unary_unary(f"/{PACKAGE}.{method}", request_serializer=lambda m:
                             m.SerializeToString(),
                             response_deserializer=message(reply).FromString)
    return fn(req, timeout=timeout)


def main():
    p = argparse.ArgumentParser(description="TensorFlow Serving gRPC client (no stubs)")
    p.add_argument("command", choices=["predict", "metadata", "status"])
    p.add_argument("--target", default="127.0.0.1:8500")
    p.add_argument("--model", required=True)
    p.add_argument("--version", type=int)
    p.add_argument("--input")
    p.add_argument("--input-name", default="input")
    p.add_argument("--float-val", action="store_true")
    p.add_argument("--tls-ca")
    p.add_argument("--authority")
    p.add_argument("--timeout", type=float, default=30)
    args = p.parse_args()
    if args.tls_ca:
        with open(args.tls_ca, "rb") as f:
            creds = grpc.ssl_channel_credentials(root_certificates=f.read())
        # the name checked in the certificate; the :authority header stays the target's host
        # (an RA-TLS certificate's name, "ccz RA-TLS", is no valid authority: HTTP/2 servers
        # refuse the stream; gRPC accepts a call host that is the channel's default authority)
        opts = [("grpc.ssl_target_name_override", args.authority),
                ("grpc.default_authority", args.target.rsplit(":", 1)[0])] if args.authority \
            else []
        channel = grpc.secure_channel(args.target, creds, options=opts)
    else:
        channel = grpc.insecure_channel(args.target)
    try:
        with channel:
            out = {"predict": predict, "metadata": metadata, "status": status}[args.command](
                channel, args)
    except grpc.RpcError as e:
        print(f"grpc_client.py: {e.code().name}: {e.details()}", file=sys.stderr)
        return 1
    json.dump(out, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
