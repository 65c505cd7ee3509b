#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The cleartext reference of CCZoo's homomorphic logistic regression (cczoo/phe_homo_lr), with
the rounding of the encrypted run: every scalar is a double encoded exactly (python-paillier's
default encoding), sums and products of encrypted numbers are exact, and the only rounding is the
parameter server's decryption to a double before it re-encrypts. So each value is a Fraction
here, computed as the workers and the server compute it, and rounded to a double where the
server decrypts.

    homo_lr_ref.py run K TRAIN.csv... [--test TEST.csv]    the aggregated weights of K iterations
                                                           (JSON lines) and the validation lines
    homo_lr_ref.py check TRACE TRAIN.csv...                 a server trace (ccz fl homo-lr serve
                                                           --trace) against this reference: every
                                                           worker's step and every average, 1e-9
"""
import json
import math
import sys
from fractions import Fraction

import numpy as np

ALPHA = 0.01
LEARNING_RATE = 0.15


def load(path):
    """CCZoo's CSV: id, y, x0...; -> (X with the bias column as Fractions, y as ints, X float)"""
    rows = [line.strip().split(",") for line in open(path) if line.strip()][1:]
    xf = np.array([[float(v) for v in r[2:]] for r in rows])
    y = np.array([int(float(r[1])) for r in rows])
    xb = np.concatenate((np.ones((len(rows), 1)), xf), axis=1)
    xq = np.array([[Fraction(v) for v in r] for r in xb], dtype=object)
    return xq, y, xb


def worker_step(w, xq, y, t):
    """One worker's step of iteration t on exact values: w, a vector of Fractions (doubles)."""
    m = xq.shape[0]
    z = xq.dot(w)                                   # Enc(w) . x
    y_pred = Fraction(1, 2) + Fraction(1, 4) * z    # Taylor: 0.5 + 0.25 z
    grad = (y_pred - y).dot(xq) * Fraction(1 / m)   # / m is * (1 / m), a double
    lr = Fraction(LEARNING_RATE / np.sqrt(1 + t))
    grad = grad + Fraction(ALPHA) * w
    return w - lr * grad


def aggregate(ws):
    """The server: the average (times the double 1/N), decrypted: rounded to doubles."""
    s = sum(ws[1:], ws[0]) * Fraction(1 / len(ws))
    return np.array([float(v) for v in s])


def validate(w, xb, y):
    p = 1 / (1 + np.exp(-xb.dot(w)))
    m = len(y)
    loss = float("nan")
    if not (0 in p or 1 in p):
        loss = -np.sum(y * np.log(p) + (1 - y) * np.log(1 - p)) / m
    acc = np.sum((p >= 0.5).astype(int) == y) / m
    return acc, loss


def run(k, trains, test):
    data = [load(p) for p in trains]
    n = data[0][0].shape[1]
    w = np.array([Fraction(1)] * n, dtype=object)   # every worker starts from Enc(1)
    tx = load(test) if test else None
    for t in range(k):
        steps = [worker_step(w, xq, y, t) for xq, y, _ in data]
        wf = aggregate(steps)
        line = {"iter": t, "weights": [float(v) for v in wf]}
        if tx is not None and t % 10 == 0:
            acc, loss = validate(wf, tx[2], tx[1])
            line["acc"], line["loss"] = float(acc), float(loss)
            print("iter: %d  acc: %.3f  loss: %.3f" % (t, acc, loss), file=sys.stderr)
        print(json.dumps(line), flush=True)
        w = np.array([Fraction(v) for v in wf], dtype=object)


def check(trace, trains):
    data = [load(p) for p in trains]
    lines = [json.loads(l) for l in open(trace) if l.strip()]
    if not lines:
        sys.exit("check: the trace is empty")
    n = data[0][0].shape[1]
    w = np.array([Fraction(1)] * n, dtype=object)
    worst = 0.0
    for line in lines:
        t = line["iter"]
        steps = [worker_step(w, xq, y, t) for xq, y, _ in data]
        got = line["workers"]
        if len(got) != len(steps):
            sys.exit("check: iteration %d has %d workers' steps, expected %d" % (t, len(got), len(steps)))
        for k, (want, have) in enumerate(zip(steps, got)):
            for i, (a, b) in enumerate(zip(want, have)):
                d = abs(float(a) - b)
                worst = max(worst, d)
                if d > 1e-9:
                    sys.exit("check: iteration %d, worker %d, weight %d: %r, expected %r" % (t, k, i, b, float(a)))
        wf = aggregate(steps)
        for i, (a, b) in enumerate(zip(wf, line["weights"])):
            d = abs(a - b)
            worst = max(worst, d)
            if d > 1e-9:
                sys.exit("check: iteration %d, average weight %d: %r, expected %r" % (t, i, b, a))
        w = np.array([Fraction(v) for v in line["weights"]], dtype=object)
    print("%d iterations match the reference (largest difference %.3g)" % (len(lines), worst))


def main():
    a = sys.argv[1:]
    if len(a) >= 3 and a[0] == "run":
        test = None
        if "--test" in a:
            i = a.index("--test")
            test = a[i + 1]
            a = a[:i] + a[i + 2:]
        run(int(a[1]), a[2:], test)
    elif len(a) >= 3 and a[0] == "check":
        check(a[1], a[2:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
