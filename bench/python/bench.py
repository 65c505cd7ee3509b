#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The Python side of bench/python/run: the binding's calls timed as binding_ref.c times the C
calls (wall time and this thread's CPU time). Prints one JSON object per line.

  bench.py verify EVIDENCE COLLATERAL ROOT_CA AT SECONDS
  bench.py verify_interleaved EVIDENCE COLLATERAL ROOT_CA AT SECONDS LIBBINDING_LOOP
                                          ccz.verify and the C loops of binding_ref (from the
                                          module binding_loop.c) in this process, alternating
                                          rounds of 20 calls: per call CPU time of each, min and
                                          median over the rounds, and the ratio round by round
  bench.py paillier BITS SECONDS          ccz.paillier: encrypt (one value), raw_encrypt,
                                          encrypt_many (64, one thread and every core)
  bench.py phe BITS SECONDS               python-paillier (PYTHONPATH=its checkout): encrypt
"""
import json
import random
import sys
import time


def rate(op, fn, secs, per_call=1):
    n, w0, c0 = 0, time.perf_counter(), time.thread_time()
    while True:
        fn()
        n += per_call
        w = time.perf_counter()
        if w - w0 >= secs:
            break
    c = time.thread_time() - c0
    print(json.dumps({"op": op, "n": n, "per_s": round(n / (w - w0), 2),
                      "per_cpu_s": round(n / c, 2) if c > 0 else None}), flush=True)


def verify(ev, col, root, at, secs):
    import ccz
    evidence = open(ev, "rb").read()
    collateral = ccz.Collateral(open(col, "rb").read())
    trust = ccz.Trust(root_ca=open(root, "rb").read())
    doc = {"accepted_tcb_statuses": ["UpToDate", "ConfigurationAndSWHardeningNeeded"]}
    policy = ccz.Policy(doc)
    at = int(at)
    assert ccz.verify(evidence, collateral, trust=trust, at=at, policy=policy)["ok"]
    rate("verify", lambda: ccz.verify(evidence, collateral, trust=trust, at=at, policy=policy),
         secs)
    # the convenience form: collateral, root CA and policy as bytes and a dict on every call
    colb, rootb = open(col, "rb").read(), open(root, "rb").read()
    rate("verify_from_bytes", lambda: ccz.verify(evidence, colb, rootb, at, doc), secs)


def verify_interleaved(ev, col, root, at, secs, loop_lib):
    import ctypes
    import statistics
    import ccz
    from ccz import _lib
    evidence = open(ev, "rb").read()
    collateral = ccz.Collateral(open(col, "rb").read())
    trust = ccz.Trust(root_ca=open(root, "rb").read())
    policy = ccz.Policy({"accepted_tcb_statuses": ["UpToDate",
                                                   "ConfigurationAndSWHardeningNeeded"]})
    at = int(at)
    loop = ctypes.CDLL(loop_lib).binding_loop_verify
    loop.restype = ctypes.c_int
    loop.argtypes = [ctypes.c_int, ctypes.c_long, ctypes.c_char_p, ctypes.c_size_t,
                     ctypes.POINTER(_lib.VerifyOpts), ctypes.c_void_p]
    o = _lib.VerifyOpts(_lib.VERIFY_OPTS_VERSION, at, trust.ptr, collateral.ptr, None)
    n = 20

    def c_form(form):
        return lambda: loop(form, n, evidence, len(evidence), ctypes.byref(o), policy.ptr)

    def py():
        for _ in range(n):
            ccz.verify(evidence, collateral, trust=trust, at=at, policy=policy)

    ops = {"c_json": c_form(0), "c_tree": c_form(1), "c_marshal": c_form(2), "python": py}
    for f in ops.values():  # warm, and every form verifies
        assert f() in (None, 0)
    us = {k: [] for k in ops}
    w0 = time.perf_counter()
    while time.perf_counter() - w0 < secs:
        for k, f in ops.items():
            c0 = time.thread_time()
            f()
            us[k].append((time.thread_time() - c0) / n * 1e6)
    for k, v in us.items():
        print(json.dumps({"op": "interleaved_" + k, "rounds": len(v), "us_min": round(min(v), 2),
                          "us_median": round(statistics.median(v), 2),
                          "per_cpu_s": round(1e6 / statistics.median(v), 2)}), flush=True)
    for ref in ("c_json", "c_tree", "c_marshal"):
        r = [(p / c - 1) * 100 for p, c in zip(us["python"], us[ref])]
        print(json.dumps({"op": "interleaved_overhead_vs_" + ref,
                          "of_mins": round((min(us["python"]) / min(us[ref]) - 1) * 100, 2),
                          "round_median": round(statistics.median(r), 2),
                          "round_quartiles": [round(q, 2) for q in statistics.quantiles(r)]}),
              flush=True)


def paillier(bits, secs):
    from ccz import paillier as p
    pk, sk = p.generate_paillier_keypair(n_length=bits)
    m = random.SystemRandom().randrange(pk.n)
    vals = [random.getrandbits(bits - 8) % pk.max_int for _ in range(64)]
    i = [0]

    def nxt():
        i[0] = (i[0] + 1) % 64
        return vals[i[0]]

    rate("raw_encrypt", lambda: pk.raw_encrypt(m), secs)
    rate("encrypt", lambda: pk.encrypt(nxt()), secs)
    rate("encrypt_many_1_thread", lambda: pk.encrypt_many(vals, threads=1), secs, 64)
    rate("encrypt_many_all_cores", lambda: pk.encrypt_many(vals, threads=0), secs, 64)


def phe(bits, secs):
    from phe import paillier, util
    assert util.HAVE_GMP, "python-paillier without gmpy2"
    pk, sk = paillier.generate_paillier_keypair(n_length=bits)
    vals = [random.getrandbits(bits - 8) % pk.max_int for _ in range(64)]
    i = [0]

    def nxt():
        i[0] = (i[0] + 1) % 64
        return vals[i[0]]

    rate("phe_encrypt", lambda: pk.encrypt(nxt()), secs)


if __name__ == "__main__":
    what, args = sys.argv[1], sys.argv[2:]
    if what == "verify":
        verify(*args[:4], float(args[4]))
    elif what == "verify_interleaved":
        verify_interleaved(*args[:4], float(args[4]), args[5])
    elif what == "paillier":
        paillier(int(args[0]), float(args[1]))
    elif what == "phe":
        phe(int(args[0]), float(args[1]))
    else:
        sys.exit(__doc__)
