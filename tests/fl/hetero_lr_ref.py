#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The cleartext references of ccz's hetero (vertical) LR (src/fl/hetero_lr.c), NumPy on
Debian's python3.

  hetero_lr_ref.py check GUEST.csv HOST.csv GUEST.json HOST.json EPOCHS BATCH
      trains FATE's hetero-LR algorithm in double precision on the joined rows (the Taylor
      sigmoid, L2 0.01 off the intercept, Nesterov 0.9, 0.15 / sqrt(1 + epoch), mini-batches
      of BATCH consecutive rows, stopping when an epoch's Taylor loss moves less than 1e-4 or
      after EPOCHS) and compares the parties' final weights (ccz fl hetero-lr guest|host --out)
      to 1e-9; prints the centralised model's accuracy and AUC, and scikit-learn's
      LogisticRegression on the same joined rows, as JSON.
"""
import json
import sys

import numpy as np


def auc(score, y):
    from scipy.stats import rankdata
    r = rankdata(score)
    pos = y == 1
    n1, n0 = pos.sum(), (~pos).sum()
    return (r[pos].sum() - n1 * (n1 + 1) / 2) / (n1 * n0)


def train(X, y, epochs, batch, tol=1e-4, lr0=0.15, mu=0.9, alpha=0.01):
    n, d = X.shape
    Xb = np.hstack([np.ones((n, 1)), X])
    w, m, prev = np.zeros(d + 1), np.zeros(d + 1), None
    nb = (n + batch - 1) // batch
    for e in range(epochs):
        total = 0.0
        for b in range(nb):
            s = slice(b * batch, min(n, (b + 1) * batch))
            xb, yb = Xb[s], y[s]
            u = xb @ w
            total += np.log(2) + np.mean(0.125 * u * u + (0.5 - yb) * u)
            g = xb.T @ (0.25 * u + 0.5 - yb) / len(yb)
            g[1:] += alpha * w[1:]
            lr = lr0 / np.sqrt(1 + e)
            v = mu * m - lr * g
            w -= mu * m - (1 + mu) * v
            m = v
        loss = total / nb
        if prev is not None and abs(loss - prev) < tol:
            return w, e + 1
        prev = loss
    return w, epochs


def main():
    if len(sys.argv) != 8 or sys.argv[1] != "check":
        sys.exit(__doc__)
    g = np.loadtxt(sys.argv[2], delimiter=",", skiprows=1, ndmin=2)
    h = np.loadtxt(sys.argv[3], delimiter=",", skiprows=1, ndmin=2)
    assert (g[:, 0] == h[:, 0]).all(), "the files' ids differ"
    y, X = g[:, 1], np.hstack([g[:, 2:], h[:, 1:]])
    w, epochs = train(X, y, int(sys.argv[6]), int(sys.argv[7]))
    got = json.load(open(sys.argv[4]))["weights"] + json.load(open(sys.argv[5]))["weights"]
    worst = float(np.max(np.abs(np.array(got) - w)))
    u = np.hstack([np.ones((len(y), 1)), X]) @ w
    out = {"epochs": epochs, "worst": worst, "acc": float(np.mean((u >= 0) == (y == 1))),
           "auc": float(auc(u, y))}
    try:
        from sklearn.linear_model import LogisticRegression
        lr = LogisticRegression(max_iter=2000).fit(X, y)
        out["sklearn_acc"] = float(lr.score(X, y))
        out["sklearn_auc"] = float(auc(lr.decision_function(X), y))
    except ImportError:
        pass
    print(json.dumps(out))
    if worst > 1e-9:
        sys.exit("the weights differ from the reference by %g" % worst)


if __name__ == "__main__":
    main()
