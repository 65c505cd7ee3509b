#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""A TLS server that misbehaves after its handshake: tls_peer.py deaf|drip CERT KEY

Listens on a port of 127.0.0.1 the kernel picks, prints "ready PORT", accepts one connection
and completes a TLS handshake with CERT and KEY (Python's ssl module, the client not asked for
a certificate). Then, as "deaf", it reads what the client sends first and never answers; as
"drip", it reads a line and echoes it back one byte per TLS record, 20 ms apart. Either way it
then holds the connection for 30 s."""
import socket
import ssl
import sys
import time

mode, cert, key = sys.argv[1:4]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen()
print("ready", s.getsockname()[1], flush=True)
c, _ = s.accept()
t = ctx.wrap_socket(c, server_side=True)
if mode == "deaf":
    t.recv(100)
else:
    line = b""
    while not line.endswith(b"\n"):
        line += t.recv(100)
    for b in line:
        t.sendall(bytes([b]))
        time.sleep(0.02)
time.sleep(30)
