#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the seed corpus of fuzz_csv_report (run by hand: gen_csv_seeds.py fuzz/corpus/csv_report):
synthetic Hygon CSV inputs in each form the parsers read, with made-up keys and signatures
(parsing only; nothing here verifies): a bare version 1 report (masked with its anonce), wrapped
version 2 and 3 reports, an HSK/CEK bundle, and trustee's evidence JSON around them."""
import json
import struct
import sys

D = sys.argv[1]
EVENTLOG = ("AAAAAAMAAAAAAAAAAAAAAAAAAAAAAAAAAAAAACUAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAACAAAADAAwABIAIAAA"
            "//////////8=")


def key():
    return struct.pack('<I', 3) + bytes([7] * 32) + bytes(40) + bytes([9] * 32) + bytes(40)


def sig():
    return bytes([1] * 32) + bytes(40) + bytes([2] * 32) + bytes(40)


def ca_cert(usage=0x13, uid=b'HYGON-SSD-HSK'):
    b = struct.pack('<I', 1) + bytes(range(16)) + bytes(range(16, 32)) + struct.pack('<I', usage)
    b += bytes(24) + key() + struct.pack('<H', len(uid)) + uid.ljust(254, b'\0') + bytes(108)
    b += sig() + bytes(112)
    assert len(b) == 832
    return b


def csv_cert(usage=0x1002, signer=0x1004, uid=b'HYGON-SSD-PEK'):
    b = struct.pack('<I', 1) + bytes([1, 3]) + bytes(2) + struct.pack('<II', usage, 4) + key()
    b += struct.pack('<H', len(uid)) + uid.ljust(254, b'\0') + bytes(16) + bytes(608)
    for u, a in ((signer, 4), (0x1001, 0)):
        b += struct.pack('<II', u, a) + sig() + bytes(368)
    assert len(b) == 2084
    return b


def mask(b, anonce):
    k = struct.pack('<I', anonce)
    return bytes(x ^ k[i % 4] for i, x in enumerate(b))


def report(version, anonce=0):
    f = bytes(32) + bytes(range(16)) + bytes(range(16)) + b'user data'.ljust(64, b'\0')
    f += bytes(range(16)) + bytes([5] * 32) + struct.pack('<III', 0x45, 0x1002, 4)
    serial = b'NZA9T14052605'.ljust(64, b'\0')
    if version == 1:
        f = mask(f, anonce) + struct.pack('<I', anonce) + sig()
        return f + mask(csv_cert() + serial, anonce) + bytes(64)
    f += struct.pack('<I', 1234) + struct.pack('<H', 1) + bytes(14) + bytes([3] * 160)
    f += bytes(592) + bytes([4] * 64) + sig()
    return f + csv_cert() + serial + bytes(64)


def csv_json(b):
    u = lambda o, n: int.from_bytes(b[o:o + n], 'little')
    L = lambda o, n: list(b[o:o + n])
    s = lambda o: {"usage": u(o, 4), "algo": u(o + 4, 4),
                   "signature": {"r": L(o + 8, 72), "s": L(o + 80, 72)}, "_reserved": L(o + 152, 368)}
    return {"body": {"ver": u(0, 4), "data": {
        "firmware": {"major": b[4], "minor": b[5]}, "reserved1": u(6, 2),
        "pubkey": {"usage": u(8, 4), "algo": u(12, 4),
                   "key": {"g": u(16, 4), "x": L(20, 72), "y": L(92, 72)}},
        "uid_size": u(164, 2), "user_id": L(166, 254), "sid": L(420, 16), "reserved2": L(436, 608)}},
        "sigs": [s(1044), s(1564)]}


def ca_json(b):
    u = lambda o, n: int.from_bytes(b[o:o + n], 'little')
    L = lambda o, n: list(b[o:o + n])
    return {"body": {"preamble": {"ver": u(0, 4), "data": {"kid": L(4, 16), "sid": L(20, 16),
                                                            "usage": u(36, 4), "reserved": L(40, 24)}},
                     "pubkey": {"g": u(64, 4), "x": L(68, 72), "y": L(140, 72)},
                     "uid_size": u(212, 2), "user_id": L(214, 254), "reserved": L(468, 108)},
            "signature": {"r": L(576, 72), "s": L(648, 72)}, "_reserved": L(720, 112)}


v1 = report(1, 0x1291429b)
assert len(v1) == 2548
open(f'{D}/report_v1', 'wb').write(v1)
for v, flags in ((2, 1), (3, 3)):
    d = report(v)
    open(f'{D}/wrapped_v{v}', 'wb').write(b'ATTESTATION_EXT\0' + struct.pack('<I', flags) + d +
                                          bytes(4096 - len(d)))
cek = csv_cert(0x1004, 0x13, b'HYGON-SSD-CEK')
open(f'{D}/hsk_cek', 'wb').write(ca_cert() + cek)
doc = {"attestation_report": {"magic": [0] * 16, "flags": 0, "data": list(v1 + bytes(4096 - len(v1)))},
       "cert_chain": {"hsk_cek": {"hsk": ca_json(ca_cert()), "cek": csv_json(cek)},
                      "pek": csv_json(csv_cert())},
       "serial_number": list(b'NZA9T14052605'.ljust(64, b'\0')), "cc_eventlog": EVENTLOG}
open(f'{D}/evidence.json', 'w').write(json.dumps(doc, separators=(',', ':')))
