#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The same federated LR algorithms as ccz's, on python-paillier (phe; not part of this
repository: PYTHONPATH names a checkout of it, see bench/fl/run), for seconds per iteration.

  phe_fl.py homo GUEST.csv HOST.csv ITERS     CCZoo's homo-LR as its workers and server run it
      (cczoo/phe_homo_lr: numpy object arrays of EncryptedNumber): both workers' steps and the
      server's average, decrypted and encrypted afresh
  phe_fl.py hetero SKLEARN.csv EPOCHS         FATE's hetero-LR on breast cancer (10 + 20
      features, batches of 320): the host's encrypted scores, the guest's residuals and Taylor
      loss, both masked gradients, the arbiter's decryptions, the Nesterov updates

Prints JSON like fl_bench: wall and CPU seconds per iteration, min and median; 1024-bit keys.
"""
import json
import random
import sys
import time

import numpy as np
from phe import paillier


def report(name, wall, cpu):
    wall, cpu = sorted(wall), sorted(cpu)
    n = len(wall)
    print(json.dumps({"bench": name, "iterations": n, "wall_min": wall[0],
                      "wall_median": wall[n // 2], "cpu_min": cpu[0],
                      "cpu_median": cpu[n // 2]}))


def load_cczoo(path):
    a = np.loadtxt(path, delimiter=",", skiprows=1)
    return np.hstack([np.ones((len(a), 1)), a[:, 2:]]), a[:, 1]


def homo(g, h, iters):
    pk, sk = paillier.generate_paillier_keypair(n_length=1024)
    data = [load_cczoo(g), load_cczoo(h)]
    w = np.array([pk.encrypt(1.0) for _ in range(data[0][0].shape[1])])
    wall, cpu = [], []
    for t in range(iters):
        w0, c0 = time.perf_counter(), time.process_time()
        lr = 0.15 / np.sqrt(1 + t)
        ws = []
        for x, y in data:
            z = x.dot(w)
            err = 0.5 + 0.25 * z - y
            grad = x.T.dot(err) * (1 / len(y)) + 0.01 * w
            ws.append(w - lr * grad)
        avg = (ws[0] + ws[1]) * 0.5
        w = np.array([pk.encrypt(sk.decrypt(v)) for v in avg])
        wall.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
    report("homo-lr", wall, cpu)


def hetero(path, epochs):
    with open(path) as f:
        rows, feats = map(int, f.readline().split(",")[:2])
        a = np.loadtxt(f, delimiter=",")
    X, y = a[:, :feats], a[:, feats]
    X = (X - X.mean(0)) / X.std(0)
    xg = np.hstack([np.ones((rows, 1)), X[:, :10]])
    xh = X[:, 10:]
    pk, sk = paillier.generate_paillier_keypair(n_length=1024)
    wg, wh = np.zeros(11), np.zeros(20)
    mg, mh = np.zeros(11), np.zeros(20)
    batch, mu, alpha = 320, 0.9, 0.01
    nb = (rows + batch - 1) // batch
    wall, cpu = [], []

    def update(w, m, grad, lr, intercept):
        g = grad.copy()
        g[intercept:] += alpha * w[intercept:]
        v = mu * m - lr * g
        return w - (mu * m - (1 + mu) * v), v

    def masked_gradient(x, d):
        enc = x.T.dot(d) * (1 / len(d))
        mask = np.array([random.uniform(-1e6, 1e6) for _ in enc])
        plain = np.array([sk.decrypt(v) for v in enc + mask])  # the arbiter
        return plain - mask

    for e in range(epochs):
        w0, c0 = time.perf_counter(), time.process_time()
        lr = 0.15 / np.sqrt(1 + e)
        for b in range(nb):
            s = slice(b * batch, min(rows, (b + 1) * batch))
            uh = xh[s].dot(wh)
            enc_uh = np.array([pk.encrypt(v) for v in uh])                 # host
            enc_sq = pk.encrypt(float(uh.dot(uh)))
            ug = xg[s].dot(wg)                                             # guest
            d = 0.25 * (enc_uh + ug) + (0.5 - y[s])
            loss = enc_sq + enc_uh.dot(2 * ug + 4 - 8 * y[s]) + float(ug.dot(ug + 4 - 8 * y[s]))
            _ = np.log(2) + 0.125 * sk.decrypt(loss) / len(uh)           # arbiter
            gg = masked_gradient(xg[s], d)
            gh = masked_gradient(xh[s], d)
            wg, mg = update(wg, mg, gg, lr, 1)
            wh, mh = update(wh, mh, gh, lr, 0)
        wall.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
    report("hetero-lr", wall, cpu)


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "homo":
        homo(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif len(sys.argv) == 4 and sys.argv[1] == "hetero":
        hetero(sys.argv[2], int(sys.argv[3]))
    else:
        sys.exit(__doc__)
