#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""A hostile HTTPS server for the tests of ccz's HTTPS clients: it reads each request's head and
answers as MODE says, one connection after another, until killed.
  big       Content-Length: 2 MiB, and the 2 MiB (a JSON object of blanks)
  endless   a chunked body that never ends (64 KiB chunks of blanks)
  huge      Content-Length: 10 GiB, 100 bytes, then the close
  redirect  302 to https://127.0.0.1:1/jwks.json (another port: nothing listens there)
  mute      no answer (the connection held for 30 s)
  file:PATH the bytes of PATH as they are when the request's head has come (a test rewrites it
            between requests), then the close without TLS's close_notify
Writes its port to PORT_FILE once listening.

usage: hostile_https.py MODE CERT KEY PORT_FILE"""
import os
import socket
import ssl
import sys
import time

mode, cert, key, port_file = sys.argv[1:5]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", 0))
ls.listen(4)
with open(port_file + ".tmp", "w") as f:
    f.write(str(ls.getsockname()[1]))
os.rename(port_file + ".tmp", port_file)


def answer(c):
    head = b""
    while b"\r\n\r\n" not in head:
        got = c.recv(4096)
        if not got:
            return
        head += got
    if mode == "big":
        body = b"{" + b" " * ((2 << 20) - 2) + b"}"
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    elif mode == "endless":
        c.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunk = b"10000\r\n" + b" " * 0x10000 + b"\r\n"
        while True:
            c.sendall(chunk)
    elif mode == "huge":
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 10737418240\r\n\r\n{" + b" " * 99)
    elif mode == "redirect":
        c.sendall(b"HTTP/1.1 302 Found\r\nLocation: https://127.0.0.1:1/jwks.json\r\n"
                  b"Content-Length: 0\r\n\r\n")
    elif mode == "mute":
        time.sleep(30)
    elif mode.startswith("file:"):
        with open(mode[5:], "rb") as f:
            c.sendall(f.read())


while True:
    s, _ = ls.accept()
    try:
        c = ctx.wrap_socket(s, server_side=True)
        answer(c)
        c.close()
    except (OSError, ssl.SSLError):
        s.close()
