# SPDX-License-Identifier: Apache-2.0
"""Protocol Buffers' wire format by hand, for the tests' stock-gRPC clients (python3-grpcio
with messages encoded from the .proto files' field numbers and wire types, nothing generated
from ccz): the encoding of https://protobuf.dev/programming-guides/encoding/."""


def varint(n):
    """A base-128 varint; a negative int as its 64-bit two's complement (int32/int64)."""
    n &= 0xFFFFFFFFFFFFFFFF
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def zigzag(n):
    """sint32's ZigZag encoding."""
    return (n << 1) ^ (n >> 31)


def field_varint(num, n):
    return varint(num << 3 | 0) + varint(n)


def field_bytes(num, data):
    """A length-delimited field (bytes, a string, an embedded message)."""
    if isinstance(data, str):
        data = data.encode()
    return varint(num << 3 | 2) + varint(len(data)) + data


def read_varint(b, i):
    """(value, next index); IndexError when b ends inside the varint."""
    n = shift = 0
    while True:
        c = b[i]
        i += 1
        n |= (c & 0x7F) << shift
        shift += 7
        if not c & 0x80:
            return n, i


def decode(b):
    """{field: [values]}: varints as ints, length-delimited values as bytes, fixed64 and
    fixed32 as their 8 and 4 bytes; ValueError for a group or an unknown wire type."""
    out, i = {}, 0
    while i < len(b):
        key, i = read_varint(b, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = read_varint(b, i)
        elif wt == 1:
            v, i = bytes(b[i:i + 8]), i + 8
        elif wt == 2:
            n, i = read_varint(b, i)
            v, i = bytes(b[i:i + n]), i + n
        elif wt == 5:
            v, i = bytes(b[i:i + 4]), i + 4
        else:
            raise ValueError("unexpected wire type %d" % wt)
        out.setdefault(num, []).append(v)
    return out
