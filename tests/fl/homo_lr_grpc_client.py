#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""A stock gRPC client of CCZoo's homolr.Host (Debian's python3-grpcio), its messages encoded by
hand from proto/homo_lr.proto (field numbers and wire types), nothing generated from ccz.

  homo_lr_grpc_client.py hostile TARGET ROOT_CERT
      against a server of 2 workers and 31 weights: malformed and out-of-order calls, a third
      worker, then two workers whose weights are valid ciphertexts of nonsense (which end
      the training); prints a JSON
      list of [case, code, details]
"""
import json
import os
import sys
import threading

import grpc

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from pbwire import decode, field_bytes, field_varint, zigzag  # noqa: E402


def key_request(wid, name=""):
    return field_varint(1, wid) + (field_bytes(2, name.encode()) if name else b"")


def number(c, e=0):
    return field_bytes(1, c.to_bytes(max(1, (c.bit_length() + 7) // 8), "big")) + \
        (field_varint(2, zigzag(e)) if e else b"")


def vector(nums):
    return b"".join(field_bytes(1, x) for x in nums)


def weights_request(wid, it, weights):
    return field_varint(1, wid) + field_varint(2, it) + field_bytes(3, weights)


def channel(target, root):
    creds = grpc.ssl_channel_credentials(root_certificates=open(root, "rb").read())
    return grpc.secure_channel(target, creds, options=[
        ("grpc.ssl_target_name_override", "localhost"),
        ("grpc.use_local_subchannel_pool", 1),  # a worker is its connection
        ("grpc.max_send_message_length", 64 << 20)])


def call(ch, method, body, timeout=30):
    fn = ch.unary_unary("/homolr.Host/" + method)
    try:
        return "OK", fn(body, timeout=timeout)
    except grpc.RpcError as e:
        return e.code().name, e.details()


def hostile(target, root):
    out = []

    def case(name, ch, method, body):
        code, resp = call(ch, method, body)
        out.append([name, code, resp if code != "OK" else ""])
        return code, resp

    a, b, c = channel(target, root), channel(target, root), channel(target, root)
    case("aggregate before key", a, "AggregateModel", weights_request(1, 0, b""))
    case("wrong wire type", a, "GetPubKey", b"\x0a\x01x")
    case("control characters", a, "GetPubKey", key_request(1, "a\nb"))
    code, resp = case("key", a, "GetPubKey", key_request(1, "mallory"))
    key = decode(resp)[1][0] if code == "OK" else b""
    n = int.from_bytes(decode(key)[1][0], "big") if key else 3
    case("validate before any", a, "Validate", b"")
    good = [number(2)] * 31
    case("garbage weights", a, "AggregateModel", weights_request(1, 0, b"\xff\xff"))
    case("too few", a, "AggregateModel", weights_request(1, 0, vector([number(2)] * 3)))
    case("zero ciphertext", a, "AggregateModel",
         weights_request(1, 0, vector([number(0)] + good[1:])))
    case("shares a factor with n", a, "AggregateModel",
         weights_request(1, 0, vector([number(n)] + good[1:])))
    case("exponent", a, "AggregateModel", weights_request(1, 0, vector([number(2, 5000)] + good[1:])))
    case("huge ciphertext", a, "AggregateModel",
         weights_request(1, 0, vector([number(1 << 4100)] + good[1:])))
    case("wrong iteration", a, "AggregateModel", weights_request(1, 5, vector(good)))
    case("other id", a, "AggregateModel", weights_request(2, 0, vector(good)))
    case("duplicate id", b, "GetPubKey", key_request(1, "eve"))
    case("oversized message", b, "GetPubKey", key_request(2, "x") + field_bytes(9, b"\0" * (5 << 20)))
    case("second worker", b, "GetPubKey", key_request(2, "bob"))
    case("third worker", c, "GetPubKey", key_request(3, "carol"))
    # both workers send valid ciphertexts whose average is no number: the training ends
    res = {}
    t = threading.Thread(target=lambda: res.update(a=call(a, "AggregateModel",
                                                          weights_request(1, 0, vector(good)))))
    t.start()
    case("twice", a, "GetPubKey", key_request(1, "mallory"))
    code, resp = call(b, "AggregateModel", weights_request(2, 0, vector(good)))
    t.join()
    out.append(["nonsense bob", code, resp if code != "OK" else ""])
    out.append(["nonsense mallory", res["a"][0], res["a"][1] if res["a"][0] != "OK" else ""])
    print(json.dumps(out))


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "hostile":
        hostile(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
