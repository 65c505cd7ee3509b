#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""grpcio with an SSL session cache (the grpc.ssl_session_cache channel option): three channels,
one after the other, each makes one ratls.Greeter/SayHello call, so every channel after the first
offers to resume the session of the one before. Prints the replies (or status codes) as JSON.

usage: ratls_resume_grpc.py HOST:PORT ROOT_CERT CLIENT_CERT CLIENT_KEY"""
import json
import sys

import grpc
from grpc.experimental import session_cache

target, root, cert, key = sys.argv[1:5]
creds = grpc.ssl_channel_credentials(root_certificates=open(root, "rb").read(),
                                     private_key=open(key, "rb").read(),
                                     certificate_chain=open(cert, "rb").read())
opts = [("grpc.ssl_target_name_override", "localhost"),
        ("grpc.ssl_session_cache", session_cache.ssl_session_cache_lru(16))]
out = []
for i in range(3):
    with grpc.secure_channel(target, creds, options=opts) as ch:
        name = ("c%d" % i).encode()
        try:
            reply = ch.unary_unary("/ratls.Greeter/SayHello")(b"\x0a" + bytes([len(name)]) + name,
                                                               timeout=10)
            out.append(reply[2:].decode())
        except grpc.RpcError as e:
            out.append("%s: %s" % (e.code().name, e.details()))
print(json.dumps(out))
