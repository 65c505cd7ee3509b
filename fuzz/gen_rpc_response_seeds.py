#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the seed corpus of fuzz_rpc_response (run by hand: gen_rpc_response_seeds.py
fuzz/corpus/rpc_response): what gRPC servers send a client with calls open on streams 1 (unary),
3 (server streaming) and 5 (client streaming), written from RFC 9113 (frames), RFC 7541 (HPACK
literals without indexing) and gRPC's PROTOCOL-HTTP2.md: whole answers, trailers-only errors,
compressed messages, resets, GOAWAY, an HTTP error, and answers cut short."""
import gzip
import os
import struct
import sys
import zlib

D = sys.argv[1]
DATA, HEADERS, RST_STREAM, SETTINGS, PING, GOAWAY, WINDOW_UPDATE = 0, 1, 3, 4, 6, 7, 8
END_STREAM, ACK, END_HEADERS = 0x1, 0x1, 0x4


def frame(kind, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + \
        struct.pack(">I", stream) + payload


def hpack_len(n, prefix_bits, first):
    """An HPACK integer (RFC 7541 5.1) with the top bits of the first byte in first."""
    top = (1 << prefix_bits) - 1
    if n < top:
        return bytes([first | n])
    out = [first | top]
    n -= top
    while n >= 128:
        out.append(n % 128 + 128)
        n //= 128
    return bytes(out + [n])


def header_block(fields):
    out = b""
    for name, value in fields:
        name, value = name.encode(), value if isinstance(value, bytes) else value.encode()
        out += b"\x00" + hpack_len(len(name), 7, 0) + name + hpack_len(len(value), 7, 0) + value
    return out


def headers(stream, fields, end=False):
    return frame(HEADERS, END_HEADERS | (END_STREAM if end else 0), stream, header_block(fields))


def reply(text, flag=0, enc=None):
    msg = b"\x0a" + bytes([len(text)]) + text.encode()  # HelloReply.message = 1
    if enc == "gzip":
        msg = gzip.compress(msg)
    elif enc == "deflate":
        msg = zlib.compress(msg)
    return bytes([flag]) + struct.pack(">I", len(msg)) + msg


def data(stream, payload, end=False):
    return frame(DATA, END_STREAM if end else 0, stream, payload)


PREFACE = frame(SETTINGS, 0, 0, struct.pack(">HI", 3, 100)) + frame(SETTINGS, ACK, 0)
OK_HEAD = [(":status", "200"), ("content-type", "application/grpc")]


def answer(stream, texts, status="0", message=None, enc=None, extra=()):
    out = headers(stream, OK_HEAD + ([("grpc-encoding", enc)] if enc else []) + list(extra))
    for t in texts:
        out += data(stream, reply(t, 1 if enc else 0, enc))
    trailers = [("grpc-status", status)] + ([("grpc-message", message)] if message else [])
    return out + headers(stream, trailers, end=True)


SEEDS = {
    "all_ok": PREFACE + answer(1, ["hello"], extra=[("x-id", "7")]) +
    answer(3, ["a", "b", "c"]) + answer(5, ["done"]),
    "trailers_only": PREFACE + headers(1, OK_HEAD + [("grpc-status", "5"),
                                                     ("grpc-message", "no%20such%20thing")],
                                       end=True) +
    headers(3, OK_HEAD + [("grpc-status", "14")], end=True) +
    headers(5, OK_HEAD + [("grpc-status", "99")], end=True),
    "compressed": PREFACE + answer(1, ["zipped"], enc="gzip") +
    answer(3, ["x", "y"], enc="deflate") + answer(5, ["z"], enc="snappy"),
    "binary_metadata": PREFACE + answer(1, ["m"], extra=[("x-bin", "AAEC"), ("x-bad-bin", "!!")]),
    "http_error": PREFACE + headers(1, [(":status", "503"), ("content-type", "text/html")]) +
    data(1, b"<html>busy</html>", end=True) +
    headers(3, [(":status", "404")], end=True),
    "resets": PREFACE + frame(RST_STREAM, 0, 1, struct.pack(">I", 8)) +
    frame(RST_STREAM, 0, 3, struct.pack(">I", 11)) + frame(RST_STREAM, 0, 5, struct.pack(">I", 7)),
    "goaway": PREFACE + answer(1, ["before"]) +
    frame(GOAWAY, 0, 0, struct.pack(">II", 1, 0) + b"going"),
    "cut_in_message": PREFACE + headers(1, OK_HEAD) + data(1, reply("hello")[:6], end=True),
    "two_unary_replies": PREFACE + answer(1, ["one", "two"]),
    "oversized": PREFACE + headers(1, OK_HEAD) + data(1, b"\x00" + struct.pack(">I", 1 << 20)),
    "ping_window": PREFACE + frame(PING, 0, 0, bytes(8)) +
    frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", 1000)) + answer(3, ["p"]),
}

os.makedirs(D, exist_ok=True)
for name, blob in SEEDS.items():
    with open(os.path.join(D, name), "wb") as f:
        f.write(blob)
