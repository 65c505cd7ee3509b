#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""A server that accepts TCP connections and never speaks: mute_server.py PORTFILE

Listens on a port of 127.0.0.1 the kernel picks, writes the port to PORTFILE (whole, by a
rename: `await PORTFILE` sees all of it), then accepts connections and holds them open, reading
nothing and sending nothing, until it is killed. The clients' timeouts and deadlines are tested
against it."""
import os
import socket
import sys

s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(8)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(s.getsockname()[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
conns = []
while True:
    conns.append(s.accept()[0])
