#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Hostile TLS clients for the RA-TLS server tests: connections that never send a byte
("idle"), that send half a TLS record and stop ("half"), that drip a ClientHello one byte
every 200 ms ("drip"), or that complete a TLS handshake (not verifying the server, presenting
nothing) and then send nothing ("tls"), or that complete a TLS handshake, send the header of a
frame announcing 60000 bytes and then drip one byte every 200 ms ("tlsdrip": never silent for
long, never done). KIND@ADDR connects from the source address ADDR (127.0.0.2: another peer).
Prints "ready" once all are connected, then one line per connection as the server closes it
("closed KIND[@ADDR] SECONDS", seconds since ready) and "open KIND" for those still open after WAIT
seconds.

usage: ratls_stall.py PORT WAIT KIND[@ADDR]=COUNT..."""
import selectors
import socket
import ssl
import sys
import time

port, wait = int(sys.argv[1]), float(sys.argv[2])
# a TLS handshake record header announcing 512 bytes, and the start of a ClientHello
HALF = bytes([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03])
sel = selectors.DefaultSelector()
drips = []
# a frame header (type 1, 60000 bytes) that a tlsdrip connection sends before its drip
FRAME = bytes([0x01, 0x60, 0xea, 0x00, 0x00])
for spec in sys.argv[3:]:
    kind, count = spec.split("=")
    kind, _, addr = kind.partition("@")
    for _ in range(int(count)):
        s = socket.create_connection(("127.0.0.1", port),
                                     source_address=(addr, 0) if addr else None)
        if kind in ("tls", "tlsdrip"):
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            s = ctx.wrap_socket(s)
        s.setblocking(False)
        if kind == "half":
            s.send(HALF)
        elif kind == "drip":
            drips.append([s, 0])
        elif kind == "tlsdrip":
            s.setblocking(True)
            s.sendall(FRAME)
            s.setblocking(False)
            drips.append([s, None])
        sel.register(s, selectors.EVENT_READ, kind + ("@" + addr if addr else ""))
print("ready", flush=True)
start = time.monotonic()
next_drip = start
while sel.get_map() and time.monotonic() - start < wait:
    now = time.monotonic()
    if now >= next_drip:
        for d in drips:
            try:
                if d[1] is None:
                    d[0].send(b"x")
                else:
                    d[0].send(HALF[d[1] % len(HALF):d[1] % len(HALF) + 1])
                    d[1] += 1
            except OSError:
                pass
        next_drip = now + 0.2
    for key, _ in sel.select(timeout=min(0.05, max(0.0, wait - (now - start)))):
        try:
            data = key.fileobj.recv(4096)
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
            continue  # TLS records that carry no application data
        except OSError:
            data = b""
        if not data:  # closed (a TLS alert would come as data: keep reading)
            print("closed", key.data, round(time.monotonic() - start, 2), flush=True)
            sel.unregister(key.fileobj)
            key.fileobj.close()
            drips = [d for d in drips if d[0] is not key.fileobj]
for key in list(sel.get_map().values()):
    print("open", key.data, flush=True)
