#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Writes tests/fl/secagg_kat.json: known answers for each deterministic piece of ccz's secure
aggregation as docs/fl.md ("Secure aggregation") specifies it, computed here independently of
ccz (neither src/fl/secagg.c nor solutions/hfl/client.py is used): X25519, SHA-256, HKDF-SHA256,
AES-256-CTR and AES-256-GCM from python3-cryptography; GF(2^8), Shamir and the fixed-point
encoding written out below from the spec. Run once, by hand; tests/fl/test_secagg_kat.c and
tests/fl/test_secagg_kat.py assert the file's values against the C and the Python code.

    tests/fl/gen_secagg_kat.py > tests/fl/secagg_kat.json
"""
import hashlib
import json
import struct
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

SCALE = 1 << 22  # the fixed point of the masked updates (docs/fl.md: x 2^22)


def fixed(label, n=32):
    """n fixed bytes named by label (inputs that look random and are reproducible)."""
    out = b""
    while len(out) < n:
        out += hashlib.sha256(b"ccz secagg kat: %s %d" % (label.encode(), len(out))).digest()
    return out[:n]


def public(sk):
    return X25519PrivateKey.from_private_bytes(sk).public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def shared(sk, pk):
    return X25519PrivateKey.from_private_bytes(sk).exchange(X25519PublicKey.from_public_bytes(pk))


def seed_of(sk, pk):
    """The pair's seed: SHA-256 of the X25519 agreement."""
    return hashlib.sha256(shared(sk, pk)).digest()


def pair_key(seed):
    """The pair's share key: HKDF-SHA256 of the seed, no salt, info "ccz secagg shares"."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=b"ccz secagg shares").derive(seed)


def prg(seed, words):
    """The mask stream: AES-256-CTR keyed by the seed, zero IV, as little-endian 32-bit words."""
    enc = Cipher(algorithms.AES(seed), modes.CTR(bytes(16))).encryptor()
    raw = enc.update(bytes(4 * words)) + enc.finalize()
    return list(struct.unpack("<%dI" % words, raw)), raw


def f32(x):
    """x rounded to the nearest float32 (ties to even), as a Python float."""
    return struct.unpack("<f", struct.pack("<f", x))[0]


def encode(w, weight):
    """w times weight in float32 (the product of two float32 is exact in a double, then rounded
    once to float32), times 2^22, rounded to the nearest integer with ties to even, mod 2^32.
    None when the scaled value's magnitude reaches 2^31 - 1, or w's reaches 512 (the survivors'
    mean of such values would not fit, whatever their weights)."""
    x = f32(f32(w) * f32(weight)) * SCALE  # exact: a power of two
    if abs(x) >= 2147483647.0 or not abs(f32(w)) < 512.0:
        return None
    return round(x) % (1 << 32)  # round(): ties to even, exactly, on the double


def decode(word):
    """A sum's word as a signed 32-bit integer over 2^22, rounded to float32."""
    v = word - (1 << 32) if word >= 1 << 31 else word
    return f32(v / SCALE)


def gf_mul(a, b):
    """GF(2^8) with the AES polynomial x^8 + x^4 + x^3 + x + 1."""
    p = 0
    for _ in range(8):
        if b & 1:
            p ^= a
        hi = a & 0x80
        a = (a << 1) & 0xFF
        if hi:
            a ^= 0x1B
        b >>= 1
    return p


def gf_inv(a):
    return next(x for x in range(1, 256) if gf_mul(a, x) == 1)


def shamir_share(secret, coefs, t, n):
    """Byte b of share k is secret[b] + c_1 x + ... + c_(t-1) x^(t-1) at x = k + 1, where
    coefficient c_i of byte b is coefs[32 (i - 1) + b]."""
    shares = []
    for k in range(n):
        x, share = k + 1, bytearray()
        for b in range(32):
            y, xp = secret[b], 1
            for i in range(1, t):
                xp = gf_mul(xp, x)
                y ^= gf_mul(coefs[32 * (i - 1) + b], xp)
            share.append(y)
        shares.append(bytes(share))
    return shares


def shamir_combine(shares, xs):
    """Lagrange interpolation at 0."""
    out = bytearray(32)
    for i, (s, xi) in enumerate(zip(shares, xs)):
        num = den = 1
        for j, xj in enumerate(xs):
            if j != i:
                num, den = gf_mul(num, xj), gf_mul(den, xj ^ xi)
        li = gf_mul(num, gf_inv(den))
        for b in range(32):
            out[b] ^= gf_mul(s[b], li)
    return bytes(out)


def main():
    # the generator checks itself against published values before it writes anything
    alice = bytes.fromhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
    bob = bytes.fromhex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb")
    assert public(alice).hex() == \
        "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"  # RFC 7748, 6.1
    assert shared(alice, public(bob)).hex() == \
        "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"
    assert gf_mul(0x57, 0x83) == 0xC1 and gf_mul(0x57, 0x13) == 0xFE  # FIPS 197, 4.2
    assert gf_mul(0x53, 0xCA) == 0x01  # FIPS 197, 4.2 (inverses)

    kat = {"about": "Known answers for ccz's secure aggregation (docs/fl.md), generated once "
                    "by tests/fl/gen_secagg_kat.py with python3-cryptography and a transcription "
                    "of the spec, not by ccz. Bytes are hex; words are 32-bit unsigned integers; "
                    "floats are float32 values written exactly.",
           "scale": SCALE}

    pairs = []
    for name, a, b in (("rfc7748", alice, bob), ("fixed", fixed("pair a"), fixed("pair b"))):
        s = seed_of(a, public(b))
        assert s == seed_of(b, public(a))
        pairs.append({"name": name, "sk_a": a.hex(), "sk_b": b.hex(), "pk_a": public(a).hex(),
                      "pk_b": public(b).hex(), "shared": shared(a, public(b)).hex(),
                      "seed": s.hex(), "pair_key": pair_key(s).hex()})
    kat["x25519"] = pairs

    streams = []
    for seed, words in ((bytes.fromhex(pairs[0]["seed"]), 1000), (fixed("self mask"), 5),
                        (fixed("long stream"), 4099)):
        w, raw = prg(seed, words)
        streams.append({"seed": seed.hex(), "words": words, "first": w[:4], "last": w[-4:],
                        "sha256": hashlib.sha256(raw).hexdigest()})
    kat["prg"] = streams

    cases = [(1.0, 1.0), (-1.0, 1.0), (2.0 ** -23, 1.0), (3 * 2.0 ** -23, 1.0),
             (5 * 2.0 ** -23, 1.0), (-2.5 * 2.0 ** -22, 1.0), (-3.5 * 2.0 ** -22, 1.0),
             (0.1, 0.3), (0.7, 0.25), (-0.123456789, 0.6), (511.99997, 1.0),
             (-511.99997, 1.0), (100.0, 0.5), (3.0e-8, 0.9), (0.0, 0.5), (123.456, 0.999)]
    fp = []
    for w, weight in cases:
        word = encode(w, weight)
        assert word is not None
        fp.append({"w": f32(w), "weight": f32(weight), "word": word})
    kat["fixed_point"] = {"encode": fp,
                          "overflow": [{"w": 512.0, "weight": 1.0}, {"w": -600.0, "weight": 0.9},
                                       {"w": 1024.0, "weight": 0.5},
                                       {"w": 600.0, "weight": 0.5}],
                          "decode": [{"word": x, "value": decode(x)} for x in
                                     (0, 1, 0xFFFFFFFF, 4194304, 0xFFC00000, 0x7FFFFFFF,
                                      0x80000000, 12345678, 0xDEADBEEF)]}
    for o in kat["fixed_point"]["overflow"]:
        assert encode(o["w"], o["weight"]) is None

    sh = []
    for name, t, n, subsets in (("3-of-5", 3, 5, ([2, 4, 5], [5, 1, 3], [1, 2, 3, 4, 5])),
                                ("1-of-2", 1, 2, ([2],)),
                                ("5-of-7", 5, 7, ([7, 1, 3, 6, 2],))):
        secret, coefs = fixed("secret " + name), fixed("coefficients " + name, 32 * (t - 1))
        shares = shamir_share(secret, coefs, t, n)
        subs = []
        for xs in subsets:
            got = shamir_combine([shares[x - 1] for x in xs], xs)
            assert got == secret
            subs.append({"xs": xs, "secret": got.hex()})
        sh.append({"name": name, "t": t, "n": n, "secret": secret.hex(), "coefs": coefs.hex(),
                   "shares": [s.hex() for s in shares], "combine": subs})
    kat["shamir"] = sh

    # a share as ShareKeys seals it: round || from || to (32-bit little endian), the share of
    # the mask key, the share of the self-mask seed; nonce from || to || round; no AAD
    key = bytes.fromhex(pairs[1]["pair_key"])
    rnd, frm, to = 7, 1, 2
    s_share, b_share = bytes.fromhex(sh[0]["shares"][2]), bytes.fromhex(sh[2]["shares"][2])
    pt = struct.pack("<III", rnd, frm, to) + s_share + b_share
    nonce = struct.pack("<III", frm, to, rnd)
    kat["share_seal"] = {"key": key.hex(), "round": rnd, "from": frm, "to": to,
                         "s_share": s_share.hex(), "b_share": b_share.hex(),
                         "plaintext": pt.hex(), "nonce": nonce.hex(),
                         "sealed": AESGCM(key).encrypt(nonce, pt, None).hex()}
    akey, anonce, aad, apt = fixed("aead key"), fixed("aead nonce", 12), b"ccz kat aad", fixed(
        "aead plaintext", 45)
    kat["aead"] = {"key": akey.hex(), "nonce": anonce.hex(), "aad": aad.hex(),
                   "plaintext": apt.hex(), "sealed": AESGCM(akey).encrypt(anonce, apt, aad).hex()}

    # a whole masked update: client me of n, its model w times weight encoded, plus the stream
    # of its seed with each present higher-numbered peer, minus that with each lower one, plus
    # its self mask b
    n, me, weight = 3, 1, 0.25
    sks = [fixed("mask key %d" % i) for i in range(n)]
    w = [f32(x) for x in (0.5, -1.25, 3.0, 0.001, -0.3, 7.75, 2.0 ** -20, -100.0)]
    b = fixed("self seed")
    masked = []
    for present in ([0, 1, 2], [1, 2], [0, 1]):
        words = [encode(x, weight) for x in w]
        for j in present:
            if j == me:
                continue
            st, _ = prg(seed_of(sks[me], public(sks[j])), len(w))
            words = [(v + (s if j > me else -s)) % (1 << 32) for v, s in zip(words, st)]
        st, _ = prg(b, len(w))
        words = [(v + s) % (1 << 32) for v, s in zip(words, st)]
        masked.append({"present": present, "words": words})
    kat["masked_update"] = {"n": n, "me": me, "weight": weight, "w": w, "b": b.hex(),
                            "s_sk": [k.hex() for k in sks], "s_pk": [public(k).hex() for k in sks],
                            "cases": masked}
    json.dump(kat, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
