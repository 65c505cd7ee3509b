# SPDX-License-Identifier: Apache-2.0
"""Checks ccz's python-paillier-shaped output the way python-paillier reads it, without
python-paillier (not a Debian package): pheutil's key loaders' assertions and JWK's base64url
rules, then decryption with the textbook formulas and EncodedNumber.decode's rules. Plain
Python integers only.

  phe_spec_check.py jwk PRIV.jwk PUB.jwk       the key pair as pheutil reads it
  phe_spec_check.py phe KEY.json               python-paillier's basic form: JSON numbers, g = n+1
  phe_spec_check.py decrypt PRIV.jwk CT.json   prints the value as pheutil's decrypt prints it
"""
import base64
import json
import re
import sys


def b64int(s):
    assert isinstance(s, str) and re.fullmatch(r"[A-Za-z0-9_-]+", s), "not base64url: %r" % s
    assert len(s) % 4 != 1, "bad base64url length"
    return int.from_bytes(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)), "big")


def public(pub):
    # pheutil's load_public_key
    assert pub["alg"] == "PAI-GN1" and pub["kty"] == "DAJ", "not a pheutil public key"
    assert "encrypt" in pub.get("key_ops", ["encrypt"])
    return b64int(pub["n"])


def private(priv):
    # pheutil's decrypt: kty, key_ops with decrypt, p and q, and the public key under "pub"
    assert priv["kty"] == "DAJ" and "decrypt" in priv["key_ops"], "not a pheutil private key"
    n = public(priv["pub"])
    p, q = b64int(priv["p"]), b64int(priv["q"])
    assert p * q == n, "n is not p q"
    # older pheutil: lambda = (p-1)(q-1), mu = lambda^-1 mod n
    lam, mu = b64int(priv["lambda"]), b64int(priv["mu"])
    assert lam == (p - 1) * (q - 1), "lambda is not (p-1)(q-1)"
    assert lam * mu % n == 1, "mu is not lambda^-1 mod n"
    return n, p, q


def decrypt(n, p, q, c, e):
    n2 = n * n
    assert 0 < c < n2, "ciphertext out of range"
    lam = (p - 1) * (q - 1)
    mu = pow(lam, -1, n)
    m = (pow(c, lam, n2) - 1) // n * mu % n
    max_int = n // 3 - 1
    if m <= max_int:
        v = m
    elif m >= n - max_int:
        v = m - n
    else:
        raise SystemExit("overflow")
    return v * 16 ** e if e >= 0 else v / 16 ** -e


def number(doc):
    if isinstance(doc, list):
        c, e = doc
    elif "v" in doc:
        c, e = doc["v"], doc["e"]
    else:
        c, e = doc["ciphertext"], doc["exponent"]
    assert isinstance(e, int), "the exponent is not a JSON integer"
    return int(c), e


def main():
    cmd = sys.argv[1]
    if cmd == "jwk":
        n, _, _ = private(json.load(open(sys.argv[2])))
        pub = json.load(open(sys.argv[3]))
        assert public(pub) == n, "the public key is not the private key's"
        assert json.load(open(sys.argv[2]))["pub"] == pub, "extract would not give the public key"
        print("ok")
    elif cmd == "phe":
        k = json.load(open(sys.argv[2]))
        assert isinstance(k["n"], int) and k["g"] == k["n"] + 1, "not {g: n + 1, n} as numbers"
        if "p" in k:
            assert isinstance(k["p"], int) and k["p"] * k["q"] == k["n"]
        print("ok")
    elif cmd == "decrypt":
        n, p, q = private(json.load(open(sys.argv[2])))
        c, e = number(json.loads(open(sys.argv[3]).read()))
        print(decrypt(n, p, q, c, e))
    else:
        raise SystemExit("unknown command " + cmd)


main()
