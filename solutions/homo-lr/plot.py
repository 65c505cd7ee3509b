#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Draws the loss and accuracy curves of a homo-LR run (validation.txt: iteration, accuracy and
loss per line, as solutions/homo-lr/run writes it) as PNG and SVG.

    plot.py VALIDATION.txt OUT      writes OUT.png and OUT.svg
"""
import math
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

rows = [line.split() for line in open(sys.argv[1]) if line.strip()]
it = [int(r[0]) for r in rows]
acc = [float(r[1]) for r in rows]
loss = [float(r[2]) if r[2] != "nan" else math.nan for r in rows]
fig, ax = plt.subplots(figsize=(7, 4))
ax.plot(it, acc, "o-", color="tab:blue", label="accuracy (test set)")
ax.set_xlabel("iteration")
ax.set_ylabel("accuracy", color="tab:blue")
ax.set_ylim(0, 1)
ax2 = ax.twinx()
ax2.plot(it, loss, "s-", color="tab:red", label="log loss (test set)")
ax2.set_ylabel("log loss", color="tab:red")
ax.set_title("CCZoo homomorphic LR on ccz: 2 workers, Paillier 1024 bits")
ax.grid(alpha=0.3)
fig.legend(loc="center right", bbox_to_anchor=(0.88, 0.5))
fig.tight_layout()
for ext in ("png", "svg"):
    fig.savefig("%s.%s" % (sys.argv[2], ext))
