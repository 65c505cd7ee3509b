#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Draws accuracy-per-round curves of federated runs (each file: round and test accuracy per
line, as solutions/hfl/run writes them) as PNG and SVG.

    plot.py OUT FILE LABEL [FILE LABEL...]      writes OUT.png and OUT.svg
"""
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

out, pairs = sys.argv[1], sys.argv[2:]
fig, ax = plt.subplots(figsize=(7, 4))
for path, label in zip(pairs[0::2], pairs[1::2]):
    rows = [line.split() for line in open(path) if line.strip()]
    ax.plot([int(r[0]) for r in rows], [float(r[1]) for r in rows], "o-", label=label)
ax.set_xlabel("round (one local epoch each)")
ax.set_ylabel("accuracy (Fashion-MNIST test set)")
ax.set_title("ccz horizontal FL: MLP 784-128-10, aggregator in a (simulated) TEE")
ax.grid(alpha=0.3)
ax.legend(loc="lower right")
fig.tight_layout()
for ext in ("png", "svg"):
    fig.savefig(f"{out}.{ext}", dpi=120)
