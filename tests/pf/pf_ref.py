#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""An independent reference of Gramine's protected-file format, written from the format's
description (Gramine's Documentation/devel/encfiles.rst and docs/pf.md), with python3-cryptography
for AES-GCM and AES-CMAC. It shares no code with src/pf: the tests use it to check that ccz
reads what it writes and writes what it reads, in both format versions.

    pf_ref.py encrypt KEYFILE IN OUT PATH [--format 1|2] [--hostile full-path|size=N]
    pf_ref.py decrypt KEYFILE IN OUT [--path PATH]

--hostile writes a file no Gramine writes, its metadata sealed all the same, for the tests of a
reader: full-path fills the bound path's field without its terminating NUL; size=N declares N
bytes of plaintext whatever IN holds.

Whole files at once: encrypt builds the tree bottom-up, decrypt authenticates every node.
Exit status 0, or 1 with "pf_ref: <why>" on standard error.
"""
import os
import struct
import sys

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import algorithms
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.cmac import CMAC

NODE = 4096
MD_DATA = 3072  # plaintext bytes inside the metadata node
DATA_PER_MHT = 96
CHILD_MHT = 32
PATH_FIELD = 772
FILE_ID = b"GRAFS_PF"
LABEL = b"SGX-PROTECTED-FS-METADATA-KEY"
IV = bytes(12)


class Bad(Exception):
    pass


def kdf(kdk, nonce):
    """SP 800-108 counter mode, PRF AES-128-CMAC, one 128-bit block."""
    msg = struct.pack("<I", 1) + LABEL.ljust(64, b"\0") + nonce + struct.pack("<I", 128)
    c = CMAC(algorithms.AES(kdk))
    c.update(msg)
    return c.finalize()


def seal(key, plain):
    out = AESGCM(key).encrypt(IV, plain, None)
    return out[:-16], out[-16:]


def unseal(key, tag, ct, what):
    try:
        return AESGCM(key).decrypt(IV, ct + tag, None)
    except InvalidTag:
        raise Bad(f"{what}: GCM tag mismatch")


def data_phys(d):
    return d + 2 + d // DATA_PER_MHT


def mht_phys(m):
    return 1 + m * (DATA_PER_MHT + 1)


def node_count(size):
    if size <= MD_DATA:
        return 1
    return data_phys((size - MD_DATA - 1) // NODE) + 1


def encrypt(kdk, data, path, fmt, hostile=None):
    size = len(data)
    n_data = 0 if size <= MD_DATA else (size - MD_DATA + NODE - 1) // NODE
    n_mht = (n_data + DATA_PER_MHT - 1) // DATA_PER_MHT
    nodes = [None] * node_count(size)
    mht = [bytearray(NODE) for _ in range(n_mht)]
    for d in range(n_data):
        chunk = data[MD_DATA + d * NODE:MD_DATA + (d + 1) * NODE].ljust(NODE, b"\0")
        key = os.urandom(16)
        nodes[data_phys(d)], tag = seal(key, chunk)
        slot = (d % DATA_PER_MHT) * 32
        mht[d // DATA_PER_MHT][slot:slot + 32] = key + tag
    for m in range(n_mht - 1, 0, -1):  # children before parents
        key = os.urandom(16)
        nodes[mht_phys(m)], tag = seal(key, bytes(mht[m]))
        slot = DATA_PER_MHT * 32 + ((m - 1) % CHILD_MHT) * 32
        mht[(m - 1) // CHILD_MHT][slot:slot + 32] = key + tag
    root_key = root_tag = bytes(16)
    if n_mht:
        root_key = os.urandom(16)
        nodes[1], root_tag = seal(root_key, bytes(mht[0]))
    p = path.encode()
    declared = size
    if hostile == "full-path":
        p = b"a" * PATH_FIELD
    elif hostile and hostile.startswith("size="):
        declared = int(hostile[5:])
    elif hostile:
        raise Bad("unknown --hostile " + hostile)
    if len(p) >= PATH_FIELD and hostile != "full-path":
        raise Bad("path too long")
    plain = (p.ljust(PATH_FIELD, b"\0") + struct.pack("<Q", declared) + root_key + root_tag +
             data[:MD_DATA].ljust(MD_DATA, b"\0"))
    nonce = os.urandom(32)
    enc, tag = seal(kdf(kdk, nonce), plain)
    head = FILE_ID + bytes([fmt, 0]) + nonce + tag + (b"\0" if fmt == 2 else b"")
    nodes[0] = (head + enc).ljust(NODE, b"\0")
    return b"".join(nodes)


def decrypt(kdk, blob, path):
    if len(blob) == 0 or len(blob) % NODE:
        raise Bad(f"{len(blob)} bytes is not a whole number of nodes")
    md = blob[:NODE]
    if md[:8] != FILE_ID:
        raise Bad("not a protected file")
    fmt, minor = md[8], md[9]
    if fmt not in (1, 2) or minor != 0:
        raise Bad(f"version {fmt}.{minor}")
    nonce, tag = md[10:42], md[42:58]
    head = 58
    if fmt == 2:
        if md[58] != 0:
            raise Bad("feature flags set")
        head = 59
    enc_len = PATH_FIELD + 8 + 16 + 16 + MD_DATA
    plain = unseal(kdf(kdk, nonce), tag, md[head:head + enc_len], "metadata node")
    stored = plain[:PATH_FIELD].split(b"\0", 1)[0].decode()
    if path is not None and stored != path:
        raise Bad(f"bound to path '{stored}', not '{path}'")
    (size,) = struct.unpack("<Q", plain[PATH_FIELD:PATH_FIELD + 8])
    root_key = plain[PATH_FIELD + 8:PATH_FIELD + 24]
    root_tag = plain[PATH_FIELD + 24:PATH_FIELD + 40]
    out = bytearray(plain[PATH_FIELD + 40:PATH_FIELD + 40 + MD_DATA][:size])
    if node_count(size) != len(blob) // NODE:
        raise Bad(f"{len(blob) // NODE} nodes, size {size} needs {node_count(size)}")
    if size <= MD_DATA:
        return bytes(out), fmt

    def node(p):
        return blob[p * NODE:(p + 1) * NODE]

    mht = {0: unseal(root_key, root_tag, node(1), "root MHT node")}

    def get_mht(m):
        if m not in mht:
            parent = get_mht((m - 1) // CHILD_MHT)
            slot = DATA_PER_MHT * 32 + ((m - 1) % CHILD_MHT) * 32
            mht[m] = unseal(parent[slot:slot + 16], parent[slot + 16:slot + 32],
                            node(mht_phys(m)), f"MHT node {m}")
        return mht[m]

    d = 0
    while len(out) < size:
        parent = get_mht(d // DATA_PER_MHT)
        slot = (d % DATA_PER_MHT) * 32
        plain = unseal(parent[slot:slot + 16], parent[slot + 16:slot + 32], node(data_phys(d)),
                       f"data node {d}")
        out += plain[:size - len(out)]
        d += 1
    return bytes(out), fmt


def main(argv):
    try:
        if len(argv) >= 5 and argv[1] == "encrypt":
            fmt = int(argv[argv.index("--format") + 1]) if "--format" in argv else 1
            kdk = open(argv[2], "rb").read()
            data = open(argv[3], "rb").read()
            hostile = argv[argv.index("--hostile") + 1] if "--hostile" in argv else None
            blob = encrypt(kdk, data, argv[5], fmt, hostile)
            open(argv[4], "wb").write(blob)
        elif len(argv) >= 5 and argv[1] == "decrypt":
            path = argv[argv.index("--path") + 1] if "--path" in argv else None
            kdk = open(argv[2], "rb").read()
            data, _ = decrypt(kdk, open(argv[3], "rb").read(), path)
            open(argv[4], "wb").write(data)
        else:
            sys.stderr.write(__doc__)
            return 2
    except Bad as e:
        sys.stderr.write(f"pf_ref: {e}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
