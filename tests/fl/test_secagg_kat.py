#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The PyTorch client's secure aggregation (solutions/hfl/client.py) against the known answers
of tests/fl/secagg_kat.json (computed once by tests/fl/gen_secagg_kat.py, not by ccz), the same
values tests/fl/test_secagg_kat.c holds the C code to: the X25519 pair seed and share key, the
mask stream, the fixed-point encoding (and its overflows), Shamir with given coefficients and
its reconstruction, a share sealed as ShareKeys seals it, and whole masked updates; and that
the file is its generator's output.

    test_secagg_kat.py      (environment: CCZ_SOURCE_DIR)
Exit: 0 all passed, 1 a check failed, 77 a package client.py needs is missing (python3-torch,
python3-grpcio, python3-numpy, python3-cryptography).
"""
import hashlib
import importlib.util
import json
import os
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
SRC = os.environ.get("CCZ_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))

failures = 0


def check(cond, what):
    global failures
    print("%s %s" % ("ok  " if cond else "FAIL", what))
    failures += not cond


def load_client():
    spec = importlib.util.spec_from_file_location(
        "hfl_client", os.path.join(SRC, "solutions", "hfl", "client.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.sa_check()  # python3-cryptography
    return mod


def main():
    try:
        c = load_client()
        import numpy as np
        from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
    except ImportError as e:
        print("skipped: %s" % e)
        return 77
    with open(os.path.join(SRC, "tests", "fl", "secagg_kat.json")) as f:
        kat = json.load(f)
    h = bytes.fromhex

    def sk(hexkey):
        return X25519PrivateKey.from_private_bytes(h(hexkey))

    for p in kat["x25519"]:
        name = "x25519 %s" % p["name"]
        check(c.sa_private_bytes(sk(p["sk_a"])) == h(p["sk_a"]), name + ": private bytes")
        for a, b in (("a", "b"), ("b", "a")):
            check(c.sa_agree(sk(p["sk_" + a]), h(p["pk_" + b])) == h(p["seed"]),
                  "%s: seed from %s" % (name, a))
            check(c.sa_pair_key(sk(p["sk_" + a]), h(p["pk_" + b])) == h(p["pair_key"]),
                  "%s: share key from %s" % (name, a))

    for p in kat["prg"]:
        w = c.sa_stream(h(p["seed"]), p["words"])
        name = "mask stream of %d words" % p["words"]
        check(len(w) == p["words"], name + ": length")
        check([int(x) for x in w[:len(p["first"])]] == p["first"], name + ": first words")
        check([int(x) for x in w[len(w) - len(p["last"]):]] == p["last"], name + ": last words")
        check(hashlib.sha256(w.astype("<u4").tobytes()).hexdigest() == p["sha256"],
              name + ": SHA-256")

    fp = kat["fixed_point"]
    check(c.SA_SCALE == kat["scale"], "scale 2^22")
    got = [int(c.sa_encode([e["w"]], e["weight"])[0]) for e in fp["encode"]]
    want = [e["word"] for e in fp["encode"]]
    for e, g, x in zip(fp["encode"], got, want):
        check(g == x, "encode %r x %r: %d (expected %d)" % (e["w"], e["weight"], g, x))
    for e in fp["overflow"]:
        try:
            c.sa_encode([e["w"]], e["weight"])
            refused = False
        except ValueError:
            refused = True
        check(refused, "encode %r x %r: refused (overflow)" % (e["w"], e["weight"]))

    for p in kat["shamir"]:
        shares = c.shamir_share_with(h(p["secret"]), h(p["coefs"]), p["t"], p["n"])
        check(shares == [h(x) for x in p["shares"]], "shamir %s: shares" % p["name"])
        for sub in p["combine"]:
            got = c.shamir_combine([shares[x - 1] for x in sub["xs"]], sub["xs"])
            check(got == h(sub["secret"]), "shamir %s: secret from %s" % (p["name"], sub["xs"]))

    s = kat["share_seal"]
    check(c.sa_nonce(s["from"], s["to"], s["round"]) == h(s["nonce"]), "share nonce")
    check(c.sa_seal_share(h(s["key"]), s["round"], s["from"], s["to"], h(s["s_share"]),
                          h(s["b_share"])) == h(s["sealed"]), "share sealed")

    m = kat["masked_update"]
    s_sk = sk(m["s_sk"][m["me"]])
    s_pks = {i: h(x) for i, x in enumerate(m["s_pk"])}
    for case in m["cases"]:
        got = c.sa_mask(np.array(m["w"], dtype=np.float32), m["weight"], m["me"], s_sk, s_pks,
                        set(case["present"]), h(m["b"]))
        want = np.array(case["words"], dtype="<u4").tobytes()
        check(got == want, "masked update with %s present" % case["present"])
    # the file is what its generator writes (no value edited by hand)
    gen = subprocess.run([sys.executable, os.path.join(SRC, "tests", "fl", "gen_secagg_kat.py")],
                         stdout=subprocess.PIPE, check=True).stdout
    with open(os.path.join(SRC, "tests", "fl", "secagg_kat.json"), "rb") as f:
        check(gen == f.read(), "secagg_kat.json is gen_secagg_kat.py's output")
    print("%s" % ("all passed" if not failures else "%d failed" % failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
