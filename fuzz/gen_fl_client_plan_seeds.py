#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Writes fuzz/corpus/fl_client_plan: a selector byte (0 homo-LR KeyReply, 1 HFL Plan, 2 hetero-LR
# JoinReply) and the message, encoded here by hand (protobuf's wire format).
import os
import struct
import sys

N = 138289265474257771543695460471685083499132537593063164282155086929414625699070408457868247783648474305806711289843153022983025322476970685254239456723322141285768096402410296131054915820500924415843824361890768555593001410259370076149733608464780575523215706237950228273376747793031207178370825755656232198007


def varint(v):
    v &= (1 << 64) - 1
    out = b""
    while True:
        b = v & 0x7F
        v >>= 7
        out += bytes([b | (0x80 if v else 0)])
        if not v:
            return out


def f_int(n, v):
    return varint(n << 3) + varint(v)


def f_bytes(n, b):
    return varint(n << 3 | 2) + varint(len(b)) + b


def f_double(n, v):
    return varint(n << 3 | 1) + struct.pack("<d", v)


def f_float(n, v):
    return varint(n << 3 | 5) + struct.pack("<f", v)


def packed(n, vals):
    return f_bytes(n, b"".join(varint(v) for v in vals))


def key_reply(n=N, it=3, feat=2, alpha=0.01, lr=0.15, every=1):
    key = f_bytes(1, n.to_bytes((n.bit_length() + 7) // 8, "big"))
    return bytes([0]) + f_bytes(1, key) + f_int(2, it) + f_int(3, feat) + f_double(4, alpha) + \
        f_double(5, lr) + f_int(6, 2) + f_int(7, every)


def plan(layers=(2, 3, 2), rounds=2, epochs=1, batch=4, lr=0.1, mu=0.0, opt="sgd"):
    return bytes([1]) + f_bytes(1, b"mlp") + packed(2, layers) + f_int(3, rounds) + \
        f_bytes(4, b"fedavg") + f_float(5, mu) + f_int(6, epochs) + f_int(7, batch) + \
        f_float(8, lr) + f_bytes(9, opt.encode())


def join_reply(ids=(1, 2, 3, 4), epochs=2, batch=2, alpha=0.01, lr=0.15, mom=0.9, n=N):
    return bytes([2]) + f_bytes(1, n.to_bytes((n.bit_length() + 7) // 8, "big")) + \
        packed(2, ids) + f_int(3, epochs) + f_int(4, batch) + f_double(5, alpha) + \
        f_double(6, lr) + f_double(7, mom) + f_int(8, 1)


seeds = {
    "homo_ok": key_reply(),
    "homo_features_0": key_reply(feat=0),
    "homo_features_3": key_reply(feat=3),
    "homo_iterations_0": key_reply(it=0),
    "homo_iterations_max": key_reply(it=1000000),
    "homo_iterations_over": key_reply(it=1000001),
    "homo_every_0": key_reply(every=0),
    "homo_alpha_negative": key_reply(alpha=-0.5),
    "homo_alpha_nan": key_reply(alpha=float("nan")),
    "homo_lr_0": key_reply(lr=0.0),
    "homo_lr_inf": key_reply(lr=float("inf")),
    "homo_key_even": key_reply(n=N + 1),
    "homo_key_small": key_reply(n=15),
    "hfl_ok": plan(),
    "hfl_adam_prox": plan(mu=0.5, opt="adam"),
    "hfl_one_layer_size": plan(layers=(2,)),
    "hfl_three_features": plan(layers=(3, 3, 2)),
    "hfl_one_class": plan(layers=(2, 3, 1)),
    "hfl_zero_width": plan(layers=(2, 0, 2)),
    "hfl_wide": plan(layers=(2, 65536, 65536, 2)),
    "hfl_deep": plan(layers=(2,) + (4,) * 20 + (2,)),
    "hfl_rounds_0": plan(rounds=0),
    "hfl_epochs_1001": plan(epochs=1001),
    "hfl_batch_65537": plan(batch=65537),
    "hfl_lr_negative": plan(lr=-0.5),
    "hfl_mu_nan": plan(mu=float("nan")),
    "hetero_ok": join_reply(),
    "hetero_unknown_id": join_reply(ids=(1, 9)),
    "hetero_one_id": join_reply(ids=(1,), batch=1),
    "hetero_batch_over": join_reply(batch=5),
    "hetero_epochs_0": join_reply(epochs=0),
    "hetero_epochs_1025": join_reply(epochs=1025),
    "hetero_momentum_1": join_reply(mom=1.0),
    "hetero_momentum_negative": join_reply(mom=-1.0),
    "hetero_lr_0": join_reply(lr=0.0),
    "hetero_repeated_ids": join_reply(ids=(2, 2, 4)),
}
out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus",
                                                         "fl_client_plan")
os.makedirs(out, exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
