# SPDX-License-Identifier: Apache-2.0
"""An independent Paillier for the interop tests, on Debian's python3-gmpy2: the textbook scheme
(g = n + 1, lambda = lcm(p-1, q-1), mu = L(g^lambda mod n^2)^-1 mod n) with python-paillier's
integer encoding (negatives as n - |v|, |v| < n/3). It shares nothing with ccz but the JSON key.

  paillier_peer.py keygen BITS KEY.json
  paillier_peer.py encrypt KEY.json VALUE...          (one ciphertext a line)
  paillier_peer.py decrypt KEY.json CIPHERTEXT...     (one value a line)
  paillier_peer.py add KEY.json C1 C2
"""
import json
import secrets
import sys

import gmpy2


def load(path):
    k = json.load(open(path))
    n = gmpy2.mpz(k["n"])
    p = gmpy2.mpz(k["p"]) if "p" in k else None
    q = gmpy2.mpz(k["q"]) if "q" in k else None
    return n, p, q


def encode(n, v):
    if abs(v) > n // 3 - 1:
        raise SystemExit("overflow")
    return v % n


def decode(n, m):
    max_int = n // 3 - 1
    if m <= max_int:
        return int(m)
    if m >= n - max_int:
        return int(m - n)
    raise SystemExit("overflow")


def encrypt(n, v):
    n2 = n * n
    while True:
        r = gmpy2.mpz(secrets.randbelow(int(n)))
        if r > 0 and gmpy2.gcd(r, n) == 1:
            break
    return (1 + encode(n, v) * n) * gmpy2.powmod(r, n, n2) % n2


def decrypt(n, p, q, c):
    n2 = n * n
    lam = gmpy2.lcm(p - 1, q - 1)
    L = lambda x: (x - 1) // n
    mu = gmpy2.invert(L(gmpy2.powmod(n + 1, lam, n2)), n)
    return decode(n, L(gmpy2.powmod(c, lam, n2)) * mu % n)


def keygen(bits):
    half = bits // 2
    while True:
        p = gmpy2.next_prime(gmpy2.mpz(secrets.randbits(half)) | (gmpy2.mpz(3) << (half - 2)))
        q = gmpy2.next_prime(gmpy2.mpz(secrets.randbits(half)) | (gmpy2.mpz(3) << (half - 2)))
        if p != q and (p * q).bit_length() == bits:
            return p, q


def main():
    cmd = sys.argv[1]
    if cmd == "keygen":
        p, q = keygen(int(sys.argv[2]))
        json.dump({"n": str(p * q), "p": str(p), "q": str(q)}, open(sys.argv[3], "w"))
        return
    n, p, q = load(sys.argv[2])
    if cmd == "encrypt":
        for v in sys.argv[3:]:
            print(encrypt(n, int(v)))
    elif cmd == "decrypt":
        for c in sys.argv[3:]:
            print(decrypt(n, p, q, gmpy2.mpz(c)))
    elif cmd == "add":
        print(gmpy2.mpz(sys.argv[3]) * gmpy2.mpz(sys.argv[4]) % (n * n))
    else:
        raise SystemExit("unknown command " + cmd)


main()
