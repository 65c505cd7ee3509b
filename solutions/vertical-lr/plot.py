#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Draws the curves of a vertical-LR run: the arbiter's Taylor loss per epoch (loss.txt) and the
training accuracy and AUC of the joint model after each epoch, from the parties' own weight
traces (guest.jsonl, host.jsonl; each party's weights are its own, joined here for the demo) and
their data files. Writes OUT.png and OUT.svg.

    plot.py GUEST.csv HOST.csv DIR OUT
"""
import json
import sys

import numpy as np
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

g = np.loadtxt(sys.argv[1], delimiter=",", skiprows=1)
h = np.loadtxt(sys.argv[2], delimiter=",", skiprows=1)
d = sys.argv[3]
y = g[:, 1]
xg = np.hstack([np.ones((len(y), 1)), g[:, 2:]])
xh = h[:, 1:]
loss = [line.split() for line in open(d + "/loss.txt") if line.strip()]
gw = [json.loads(line)["weights"] for line in open(d + "/guest.jsonl")]
hw = [json.loads(line)["weights"] for line in open(d + "/host.jsonl")]


def auc(s):
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(len(s))
    ranks[order] = np.arange(1, len(s) + 1)
    for v in np.unique(s):  # ties share their mean rank
        t = s == v
        ranks[t] = ranks[t].mean()
    pos = y == 1
    return (ranks[pos].sum() - pos.sum() * (pos.sum() + 1) / 2) / (pos.sum() * (~pos).sum())


acc, aucs = [], []
for a, b in zip(gw, hw):
    u = xg @ np.array(a) + xh @ np.array(b)
    acc.append(np.mean((u >= 0) == (y == 1)))
    aucs.append(auc(u))
ep = list(range(len(acc)))
fig, ax = plt.subplots(figsize=(7, 4))
ax.plot(ep, acc, "o-", color="tab:blue", label="accuracy (training rows)")
ax.plot(ep, aucs, "^-", color="tab:green", label="AUC (training rows)")
ax.set_xlabel("epoch")
ax.set_ylabel("accuracy, AUC")
ax.set_ylim(0.8, 1)
ax2 = ax.twinx()
ax2.plot([int(r[0]) for r in loss], [float(r[1]) for r in loss], "s-", color="tab:red",
         label="Taylor loss (arbiter)")
ax2.set_ylabel("loss", color="tab:red")
ax.set_title("FATE's hetero-LR on ccz: guest 10 + host 20 features, Paillier 1024 bits")
ax.grid(alpha=0.3)
fig.legend(loc="center right", bbox_to_anchor=(0.88, 0.5))
fig.tight_layout()
for ext in ("png", "svg"):
    fig.savefig("%s.%s" % (sys.argv[4], ext))
