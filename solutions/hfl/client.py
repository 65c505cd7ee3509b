#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""A PyTorch client of ccz's horizontal-FL aggregator (`ccz fl serve`, cczfl.Aggregator in
proto/fl.proto), speaking the same protocol as `ccz fl join` over Debian's python3-grpcio.

    client.py HOST:PORT --data IMAGES --name NAME [--shard I/N[:ALPHA]] [--seed N]
              [--top-k K] [--chunk-size BYTES] [--threads N] [--timeout MS] [--ccz PATH]
              [--tee TEE [--sim-dir D] [--measurement HEX]] --policy FILE [--verify-opt ARG]...

Before it sends anything, it fetches the aggregator's RA-TLS certificate (a TLS handshake that
ends before any application byte), verifies it and appraises its claims with `ccz verify
CERT --policy FILE` (the trust options: --sim-dir, or --verify-opt for the others), and only
then opens the gRPC channel with exactly that certificate as its only root (pinned: another key
cannot complete the handshake). With --tee it presents its own RA-TLS certificate (`ccz ratls
cert`, the attester options passed on), which a two-way aggregator appraises with its policy.

Then, as `ccz fl join`: Join (the plan), and per round GetModel, training of the plan's model in
PyTorch on its shard, PushUpdateStream (the update streamed in slices of --chunk-size BYTES,
default 1 MiB; 0, or an aggregator without it: PushUpdate); at the end the aggregator's
`accuracy: A` on standard output.
The model is ccz's (include/ccz/mlp.h): Linear layers with ReLU between them, softmax
cross-entropy; the weights travel as one float32 little-endian vector, per layer its weights in
rows of `out` values (the transpose of torch's Linear.weight) then its biases. The plan's
optimizer (SGD or Adam), learning rate, batch, epochs and FedProx's mu apply. --top-k uploads the
K largest changes (a fraction below 1) with error feedback, as `ccz fl join --top-k`.

With an aggregator that runs secure aggregation (`ccz fl serve --secure-agg`, the plan's
secure_agg), each round's PushUpdate gives way to AdvertiseKeys, ShareKeys, PushMasked and Unmask
(Bonawitz et al.; docs/fl.md), byte for byte as `ccz fl join`: the aggregator sees only the sum of
the masked updates. Its primitives (X25519, HKDF-SHA256, AES-256-GCM, AES-256-CTR) are Debian's
python3-cryptography's. As with `ccz fl join`, --top-k does not apply then (masked uploads are
dense).

The messages are encoded by hand (field numbers and wire types of proto/fl.proto): Debian has
no grpcio-tools, and these messages do not need them.
Exit codes: 0 trained; 1 the aggregator was rejected or the training ended with a status;
2 usage, unreadable data, no aggregator.
"""
import argparse
import gzip
import math
import os
import shutil
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import time

import grpc
import numpy as np
import torch

# ---- protobuf, by hand ------------------------------------------------------------------------


def varint(n):
    n &= 0xFFFFFFFFFFFFFFFF
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def f_varint(num, n):
    return varint(num << 3) + varint(n) if n else b""


def f_bytes(num, data):
    return varint(num << 3 | 2) + varint(len(data)) + data if data else b""


def f_double(num, x):
    return varint(num << 3 | 1) + struct.pack("<d", x)


def read_varint(b, i):
    n = shift = 0
    while True:
        if i >= len(b) or shift > 63:
            raise ValueError("truncated varint")
        c = b[i]
        i += 1
        n |= (c & 0x7F) << shift
        shift += 7
        if not c & 0x80:
            return n, i


def decode(b):
    """{field: [values]}: varints as ints, fixed64/fixed32 as raw bytes, length-delimited as
    bytes."""
    out, i = {}, 0
    while i < len(b):
        key, i = read_varint(b, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = read_varint(b, i)
        elif wt == 1:
            v, i = b[i:i + 8], i + 8
        elif wt == 5:
            v, i = b[i:i + 4], i + 4
        elif wt == 2:
            n, i = read_varint(b, i)
            v, i = bytes(b[i:i + n]), i + n
        else:
            raise ValueError("wire type %d" % wt)
        if i > len(b):
            raise ValueError("truncated field %d" % num)
        out.setdefault(num, []).append(v)
    return out


def one(m, num, default=0):
    return m[num][-1] if num in m else default


def packed_uints(m, num):
    """A repeated uint32: packed (length-delimited) or one varint per element."""
    vals = []
    for v in m.get(num, []):
        if isinstance(v, bytes):
            i = 0
            while i < len(v):
                x, i = read_varint(v, i)
                vals.append(x)
        else:
            vals.append(v)
    return vals


def as_float(v):
    return struct.unpack("<f", v)[0] if isinstance(v, bytes) else 0.0


def as_double(v):
    return struct.unpack("<d", v)[0] if isinstance(v, bytes) else 0.0


# ---- data: IDX files as ccz reads them (pixels / 255) -----------------------------------------


def read_idx(path):
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    magic, = struct.unpack(">I", raw[:4])
    dims = raw[3]
    if magic >> 8 != 0x08 or dims < 1 or dims > 3:
        raise ValueError("%s: not an IDX file of unsigned bytes" % path)
    shape = struct.unpack(">" + "I" * dims, raw[4:4 + 4 * dims])
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims)
    if data.size != int(np.prod(shape)):
        raise ValueError("%s: %d bytes of data for a shape of %s" % (path, data.size, shape))
    return data.reshape(shape[0], -1) if dims > 1 else data


def load(images, shard, seed):
    if "images-idx3" not in images:
        raise ValueError("%s: an IDX images file is named ...images-idx3..." % images)
    x = read_idx(images).astype(np.float32) / 255
    head, _, tail = images.rpartition("images-idx3")  # the file's name, not a folder's
    y = read_idx(head + "labels-idx1" + tail).astype(np.int64)
    if len(x) != len(y):
        raise ValueError("%d images, %d labels" % (len(x), len(y)))
    if shard:
        i, n, alpha = shard
        rng = np.random.default_rng(seed)
        if alpha > 0:  # per class, Dirichlet(alpha) proportions over the shards (non-IID)
            keep = []
            for c in range(int(y.max()) + 1):
                rows = rng.permutation(np.flatnonzero(y == c))
                cuts = (np.cumsum(rng.dirichlet([alpha] * n)) * len(rows)).astype(int)
                keep.append(np.split(rows, cuts[:-1])[i])
            rows = np.sort(np.concatenate(keep))
        else:  # a seeded shuffle dealt in turn (IID)
            rows = rng.permutation(len(x))[i::n]
        x, y = x[rows], y[rows]
    if len(x) == 0:
        raise ValueError("the shard is empty")
    return torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(y)


# ---- the model: ccz's flat layout <-> torch ---------------------------------------------------


def build(layers):
    mods = []
    for l in range(len(layers) - 1):
        if l:
            mods.append(torch.nn.ReLU())
        mods.append(torch.nn.Linear(layers[l], layers[l + 1]))
    return torch.nn.Sequential(*mods)


def linears(model):
    return [m for m in model if isinstance(m, torch.nn.Linear)]


def load_flat(model, flat):
    at = 0
    with torch.no_grad():
        for lin in linears(model):
            o, i = lin.weight.shape
            lin.weight.copy_(torch.from_numpy(flat[at:at + i * o].reshape(i, o).T.copy()))
            at += i * o
            lin.bias.copy_(torch.from_numpy(flat[at:at + o].copy()))
            at += o


def flatten(model):
    parts = []
    for lin in linears(model):
        parts.append(lin.weight.detach().T.reshape(-1))
        parts.append(lin.bias.detach().reshape(-1))
    return torch.cat(parts).numpy().astype("<f4")


def train(model, x, y, plan, seed):
    adam = plan["optimizer"] == "adam"
    lr = plan["lr"] or (0.001 if adam else 0.05)
    params = list(model.parameters())
    opt = torch.optim.Adam(params, lr=lr) if adam else torch.optim.SGD(params, lr=lr)
    mu = plan["mu"]
    ref = [p.detach().clone() for p in params] if mu > 0 else None
    g = torch.Generator().manual_seed(seed)
    loss_fn = torch.nn.CrossEntropyLoss()
    last = 0.0
    for _ in range(plan["epochs"]):
        order = torch.randperm(len(x), generator=g)
        total, n = 0.0, 0
        for b in range(0, len(x), plan["batch"]):
            rows = order[b:b + plan["batch"]]
            opt.zero_grad()
            loss = loss_fn(model(x[rows]), y[rows])
            total += loss.item() * len(rows)
            n += len(rows)
            if ref is not None:  # FedProx: mu/2 |w - w_global|^2
                loss = loss + mu / 2 * sum(((p - r) ** 2).sum() for p, r in zip(params, ref))
            loss.backward()
            opt.step()
        last = total / n
    return last


# ---- attestation: fetch, verify, pin ----------------------------------------------------------


class Rejected(Exception):
    pass


def run_ccz(ccz, args):
    return subprocess.run([ccz] + args, capture_output=True, text=True)


def own_certificate(a, work):
    """An RA-TLS certificate and key of this client (`ccz ratls cert`), or None without --tee."""
    if not a.tee:
        return None
    cert, key = os.path.join(work, "client.crt"), os.path.join(work, "client.key")
    opts = ["--tee", a.tee] + (["--sim-dir", a.sim_dir] if a.sim_dir else []) + \
        (["--measurement", a.measurement] if a.measurement else [])
    r = run_ccz(a.ccz, ["ratls", "cert"] + opts + ["-o", cert, "--key", key])
    if r.returncode:
        raise RuntimeError("ccz ratls cert: " + (r.stderr.strip() or "failed"))
    return cert, key


def fetch_certificate(host, port, creds, timeout):
    """The aggregator's certificate (PEM) from a TLS 1.3 handshake that sends no application
    byte (presenting this client's certificate: a two-way aggregator asks for it)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # verified below, by ccz verify, then pinned
    ctx.set_alpn_protocols(["h2"])
    if creds:
        ctx.load_cert_chain(*creds)
    with socket.create_connection((host, port), timeout=timeout) as s:
        with ctx.wrap_socket(s) as t:
            der = t.getpeercert(binary_form=True)
    if not der:
        raise Rejected("the aggregator presented no certificate")
    return ssl.DER_cert_to_PEM_cert(der)


def verify_certificate(a, pem, work):
    path = os.path.join(work, "aggregator.pem")
    with open(path, "w") as f:
        f.write(pem)
    opts = ["--policy", a.policy] + (["--sim-dir", a.sim_dir] if a.sim_dir else []) + a.verify_opt
    r = run_ccz(a.ccz, ["verify", path] + opts)
    if r.returncode:
        raise Rejected("the aggregator REJECTED by ccz verify (exit %d): %s" % (
            r.returncode, " / ".join(l.strip() for l in (r.stdout + r.stderr).splitlines()
                                     if l.strip())[-600:]))
    summary = [l.strip() for l in r.stdout.splitlines() if l.strip()]
    return path, summary[-1] if summary else "verified"


def common_name(pem):
    try:  # python3-cryptography, when there
        from cryptography import x509
        from cryptography.x509.oid import NameOID
        names = x509.load_pem_x509_certificate(pem.encode()).subject.get_attributes_for_oid(
            NameOID.COMMON_NAME)
        return names[0].value if names else None
    except ImportError:
        pass
    with tempfile.NamedTemporaryFile("w", suffix=".pem") as f:
        f.write(pem)
        f.flush()
        subject = ssl._ssl._test_decode_cert(f.name).get("subject", ())
    return next((v for rdn in subject for k, v in rdn if k == "commonName"), None)


def attested_channel(a, host, port, creds, work, log):
    """Fetches and verifies the aggregator's certificate, then a gRPC channel pinned to it."""
    pem = fetch_certificate(host, port, creds, 10)
    _, verdict = verify_certificate(a, pem, work)
    log("aggregator attested by ccz verify: %s" % verdict)
    cn = common_name(pem)
    key = chain = None
    if creds:
        with open(creds[0], "rb") as f:
            chain = f.read()
        with open(creds[1], "rb") as f:
            key = f.read()
    tls = grpc.ssl_channel_credentials(root_certificates=pem.encode(), private_key=key,
                                       certificate_chain=chain)
    # the certificate names no host: its subject is the name checked; the call's authority is
    # the host (an authority may not hold the subject's spaces), which gRPC accepts with an
    # overridden target name
    opts = [("grpc.default_authority", host), ("grpc.max_receive_message_length", 1 << 30),
            ("grpc.max_send_message_length", 1 << 30), ("grpc.use_local_subchannel_pool", 1)]
    if cn:
        opts.append(("grpc.ssl_target_name_override", cn))
    return grpc.secure_channel("%s:%d" % (host, port), tls, options=opts)


# ---- the protocol -----------------------------------------------------------------------------


def call(ch, method, body, timeout):
    try:
        return grpc.StatusCode.OK, ch.unary_unary("/cczfl.Aggregator/" + method)(
            body, timeout=timeout), ""
    except grpc.RpcError as e:
        return e.code(), b"", e.details() or ""


def parse_plan(b, features):
    m = decode(b)
    plan = {"model": one(m, 1, b"").decode(), "layers": packed_uints(m, 2),
            "rounds": one(m, 3), "strategy": one(m, 4, b"").decode(),
            "mu": as_float(one(m, 5, None)), "epochs": one(m, 6), "batch": one(m, 7),
            "lr": as_float(one(m, 8, None)), "optimizer": one(m, 9, b"").decode(),
            "round": one(m, 10), "secure_agg": bool(one(m, 20))}
    ls = plan["layers"]
    if not (2 <= len(ls) <= 9 and all(1 <= v <= 65536 for v in ls)) or plan["rounds"] < 1 or \
            not 1 <= plan["epochs"] <= 1000 or not 1 <= plan["batch"] <= 65536 or \
            not (math.isfinite(plan["lr"]) and 0 <= plan["lr"] < 100) or \
            not (math.isfinite(plan["mu"]) and 0 <= plan["mu"] < 1000):
        raise ValueError("the aggregator's plan is out of range: %s" % plan)
    if ls[0] != features:
        raise ValueError("the aggregator's model takes %d features; the data has %d"
                         % (ls[0], features))
    return plan


def tensor(b, dtype, dim):
    a = np.frombuffer(b, dtype="<f2" if dtype == 1 else "<f4")
    if a.size != dim or not np.all(np.isfinite(a)):
        raise ValueError("the aggregator's model: %d values, expected %d finite ones"
                         % (a.size, dim))
    return a.astype(np.float32)


CHUNK_DEFAULT = 1 << 20  # CCZ_HFL_CHUNK_DEFAULT: bytes of a slice of a streamed update
CHUNK_MAX = 4 << 20  # CCZ_HFL_CHUNK_MAX


def update(round_, examples, loss, flat, glob, residual, k):
    """An update's parts: dense weights, or the top k changes (with residual, error feedback)."""
    u = {"round": round_, "examples": examples, "loss": loss, "idx": None}
    if not k:
        u["values"] = flat.astype("<f4").tobytes()
        return u, 0
    delta = flat - glob + residual
    idx = np.sort(np.argpartition(-np.abs(delta), k - 1)[:k])
    vals = delta[idx].astype("<f4")
    residual[:] = delta
    residual[idx] -= vals
    u["idx"], u["values"] = [int(i) for i in idx], vals.tobytes()
    return u, k


def update_body(u):
    """The update as one cczfl.Update (PushUpdate)."""
    msg = f_varint(1, u["round"]) + f_varint(2, u["examples"]) + f_double(3, u["loss"])
    if u["idx"] is None:
        return msg + f_bytes(5, u["values"])
    msg += f_varint(20, 1) + f_bytes(21, b"".join(varint(i) for i in u["idx"]))
    return msg + f_bytes(22, u["values"])


def update_chunks(u, chunk):
    """The update as cczfl.UpdateChunk messages (PushUpdateStream): the header (UpdateHeader:
    round, examples, loss, dtype F32, sparse and count, total bytes), then slices of whole
    float32 values (with their indices when sparse) in messages of at most chunk bytes."""
    sparse, data = u["idx"] is not None, u["values"]
    head = f_varint(1, u["round"]) + f_varint(2, u["examples"]) + f_double(3, u["loss"])
    if sparse:
        head += f_varint(5, 1) + f_varint(6, len(u["idx"]))
    yield f_bytes(1, head + f_varint(7, len(data)))
    # values per slice: a message of at most chunk bytes (an index takes at most 5 bytes)
    chunk = min(chunk, CHUNK_MAX)
    per = max(1, (chunk - 64 if chunk > 128 else chunk) // (9 if sparse else 4))
    for at in range(0, len(data) // 4, per):
        piece = data[4 * at:4 * (at + per)]
        if sparse:
            ix = u["idx"][at:at + per]
            yield f_bytes(3, b"".join(varint(i) for i in ix)) + f_bytes(4, piece)
        else:
            yield f_bytes(2, piece)


def push_update(ch, u, chunk, timeout):
    """PushUpdateStream, or PushUpdate when chunk is 0 or the aggregator has no stream call
    (UNIMPLEMENTED): (code, why, streamed)."""
    if chunk:
        try:
            ch.stream_unary("/cczfl.Aggregator/PushUpdateStream")(
                update_chunks(u, chunk), timeout=timeout)
            return grpc.StatusCode.OK, "", True
        except grpc.RpcError as e:
            if e.code() != grpc.StatusCode.UNIMPLEMENTED:
                return e.code(), e.details() or "", True
    code, _, why = call(ch, "PushUpdate", update_body(u), timeout)
    return code, why, False


def topk_count(top_k, dim):
    if not top_k:
        return 0
    k = min(dim, math.ceil(top_k * dim) if top_k < 1 else int(top_k))
    return k if k >= 1 and k * 9 < dim * 4 else 0


# ---- secure aggregation (docs/fl.md, "Secure aggregation"; src/svc/fl/hfl_secagg_client.c) ----
# Byte-compatible with `ccz fl join`: X25519 round keys (c for the shares, s for the masks), the
# seed of two clients being SHA-256 of their X25519 agreement; shares sealed with AES-256-GCM
# under HKDF-SHA256(seed, info "ccz secagg shares"), nonce from || to || round (32-bit little
# endian words); t-of-n Shamir over GF(2^8) (the AES polynomial, share of index k at x = k + 1);
# the model times the client's weight in fixed point (2^22) in Z_2^32, plus AES-256-CTR streams
# (key the seed, zero IV, little-endian 32-bit words): pairwise, added for a peer of a higher
# index and subtracted for a lower one, and the self mask of seed b. The primitives are
# python3-cryptography's (OpenSSL); Shamir and the encoding are the protocol's. Unlike the C
# client, Python cannot wipe the round's keys, seeds and shares from memory: they are dropped
# (left to the garbage collector) when the round's call returns.

SA_MAX = 255
SA_SCALE = 4194304.0  # 2^22 (HFL_SA_SCALE)
SHARE_PT = 12 + 32 + 32
SHARE_CT = SHARE_PT + 16


def _gf_tables():
    mul = np.zeros((256, 256), dtype=np.uint8)
    a = np.arange(256, dtype=np.uint16)
    for b in range(256):  # mul[:, b] = a * b, shift and add, all a at once
        p = np.zeros(256, dtype=np.uint16)
        x, y = a.copy(), b
        while y:
            if y & 1:
                p ^= x
            x = ((x << 1) ^ np.where(x & 0x80, 0x1B, 0).astype(np.uint16)) & 0xFF
            y >>= 1
        mul[:, b] = p
    return mul


_GF_MUL = None


def gf_mul_table():
    global _GF_MUL
    if _GF_MUL is None:
        _GF_MUL = _gf_tables()
    return _GF_MUL


def shamir_share(secret, t, n):
    """n shares (32 bytes each) of a 32-byte secret, any t of which recover it, with random
    coefficients (ccz_secagg_share)."""
    if not 1 <= t <= n <= 255:
        raise ValueError("a %d-of-%d sharing" % (t, n))
    return shamir_share_with(secret, os.urandom(32 * (t - 1)), t, n)


def shamir_share_with(secret, coefs, t, n):
    """The shares with the coefficients given (ccz_secagg_share_with): byte b of share k is the
    polynomial secret[b] + c1 x + ... + c(t-1) x^(t-1) at x = k + 1, ci of byte b being
    coefs[32 (i - 1) + b]."""
    if not 1 <= t <= n <= 255 or len(secret) != 32 or len(coefs) != 32 * (t - 1):
        raise ValueError("a %d-of-%d sharing" % (t, n))
    mul = gf_mul_table()
    coef = np.frombuffer(secret + coefs, dtype=np.uint8).reshape(t, 32)
    out = []
    for k in range(n):
        y = np.zeros(32, dtype=np.uint8)
        for c in range(t - 1, -1, -1):  # Horner
            y = mul[y, k + 1] ^ coef[c]
        out.append(y.tobytes())
    return out


def shamir_combine(shares, xs):
    """The secret from t shares at points xs (Lagrange at 0; ccz_secagg_combine). For tests."""
    mul = gf_mul_table()
    inv = np.zeros(256, dtype=np.uint8)
    for a in range(1, 256):
        inv[a] = np.flatnonzero(mul[a] == 1)[0]
    acc = np.zeros(32, dtype=np.uint8)
    for i, s in enumerate(shares):
        num = den = 1
        for j, x in enumerate(xs):
            if j != i:
                num, den = mul[num, x], mul[den, x ^ xs[i]]
        acc ^= mul[np.frombuffer(s, dtype=np.uint8), mul[num, inv[den]]]
    return acc.tobytes()


def sa_keygen():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
    sk = X25519PrivateKey.generate()
    return sk, sk.public_key().public_bytes(serialization.Encoding.Raw,
                                            serialization.PublicFormat.Raw)


def sa_agree(sk, peer_pk):
    """SHA-256 of the X25519 agreement (ccz_secagg_agree): both ends get the same seed."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey
    shared = sk.exchange(X25519PublicKey.from_public_bytes(peer_pk))
    h = hashes.Hash(hashes.SHA256())
    h.update(shared)
    return h.finalize()


def sa_pair_key(sk, peer_pk):
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=b"ccz secagg shares").derive(sa_agree(sk, peer_pk))


def sa_nonce(frm, to, round_):
    return struct.pack("<III", frm, to, round_)


def sa_seal_share(key, round_, frm, to, s_share, b_share):
    """A share as ShareKeys sends it (hfl_sa_seal_share): round, from, to (32-bit little endian),
    the two shares, sealed with AES-256-GCM under the pair's key, nonce from || to || round."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    pt = struct.pack("<III", round_, frm, to) + s_share + b_share
    return AESGCM(key).encrypt(sa_nonce(frm, to, round_), pt, None)


def sa_stream(seed, dim):
    """The dim 32-bit little-endian words of AES-256-CTR(seed, zero IV) (add_stream)."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    enc = Cipher(algorithms.AES(seed), modes.CTR(bytes(16))).encryptor()
    return np.frombuffer(enc.update(bytes(4 * dim)) + enc.finalize(), dtype="<u4")


def sa_encode(w, weight):
    """w times weight (in float32, as the C client) in fixed point 2^22, mod 2^32."""
    w = np.asarray(w, dtype=np.float32)
    # the values below 512 (HFL_SA_LIMIT), not only times the weight: the mean must fit too
    x = (w * np.float32(weight)).astype(np.float64) * SA_SCALE
    if not np.all(np.abs(w) < 512.0) or not np.all(np.isfinite(x)) or np.any(
            np.abs(x) >= 2147483647.0):
        raise ValueError("a weight does not fit the fixed-point encoding")
    return np.rint(x).astype(np.int64).astype(np.uint32)  # rint: lrint's ties to even


def sa_mask(w, weight, me, s_sk, s_pks, present, b):
    """The masked update's bytes (masked_bytes): encoding, pairwise masks, self mask."""
    m = sa_encode(w, weight)
    with np.errstate(over="ignore"):
        for j in sorted(present):
            if j == me:
                continue
            stream = sa_stream(sa_agree(s_sk, s_pks[j]), len(m))
            m = m + stream if j > me else m - stream
        m = m + sa_stream(b, len(m))
    return m.astype("<u4").tobytes()


def sa_check():
    """python3-cryptography is there (an ImportError otherwise, before the first round)."""
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    return X25519PrivateKey, AESGCM


def f_bytes_always(num, data):
    """A length-delimited field even when empty (an element of a repeated bytes field)."""
    return varint(num << 3 | 2) + varint(len(data)) + data


class SecAggError(ValueError):
    pass


def secagg_upload(ch, round_, flat, loss, log, drop=False):
    """One round's AdvertiseKeys, ShareKeys, PushMasked and Unmask (ccz_hfl_secagg_upload):
    (status code, details) of the calls up to PushMasked; anything malformed from the
    aggregator or a peer raises SecAggError."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    c_sk, c_pk = sa_keygen()
    s_sk, s_pk = sa_keygen()
    b = os.urandom(32)
    code, resp, why = call(ch, "AdvertiseKeys",
                           f_varint(1, round_) + f_bytes(2, c_pk) + f_bytes(3, s_pk), 1800)
    if code != grpc.StatusCode.OK:
        return code, "AdvertiseKeys: " + why
    # the key list: this client in it with its keys, indexes unique, a threshold of a majority
    m = decode(resp)
    n_list = len(m.get(5, []))
    me, t, weight = one(m, 3), one(m, 2), as_double(one(m, 4, None))
    if one(m, 1) != round_ or not 1 <= n_list <= SA_MAX or me >= SA_MAX or \
            not (math.isfinite(weight) and 0 < weight <= 1):
        raise SecAggError("the aggregator's key list is out of range")
    if n_list < 2:  # alone (a threshold of 1), the sum unmasked is this client's update
        raise SecAggError("a key list of %d client: its update would be the sum" % n_list)
    order, c_pks, s_pks = [], {}, {}
    for i, e in enumerate(m[5]):
        c = decode(e)
        k, cp, sp = one(c, 1), one(c, 3, b""), one(c, 4, b"")
        if k >= SA_MAX or k in c_pks or len(cp) != 32 or len(sp) != 32:
            raise SecAggError("the aggregator's key list has a bad entry (%d)" % i)
        order.append(k)
        c_pks[k], s_pks[k] = cp, sp
    if c_pks.get(me) != c_pk or s_pks.get(me) != s_pk:
        raise SecAggError("the aggregator's key list does not hold this client's keys")
    if not n_list // 2 < t <= n_list:
        raise SecAggError("a threshold of %d for %d clients" % (t, n_list))
    n = max(order) + 1
    # the shares for each peer, in the key list's order, sealed to it
    ss, bs = shamir_share(sa_private_bytes(s_sk), t, n), shamir_share(b, t, n)
    body = f_varint(1, round_)
    for j in order:
        if j == me:
            body += f_bytes_always(2, b"")
            continue
        body += f_bytes_always(2, sa_seal_share(sa_pair_key(c_sk, c_pks[j]), round_, me, j,
                                                ss[j], bs[j]))
    own_b = bs[me]
    code, resp, why = call(ch, "ShareKeys", body, 1800)
    if code != grpc.StatusCode.OK:
        return code, "ShareKeys: " + why
    # the shares the peers sent: each from a listed peer, decrypted, addressed to this client
    m = decode(resp)
    frm, shares = packed_uints(m, 2), m.get(3, [])
    if one(m, 1) != round_ or len(frm) != len(shares):
        raise SecAggError("the aggregator's shares are out of range")
    if len(frm) + 1 < t:  # U2 of at least t: else too few pairwise masks around the self mask
        raise SecAggError("shares from %d peers: fewer than the threshold (%d) with this client"
                          % (len(frm), t))
    got_s, got_b, present = {}, {}, {me}
    for i, (f, sh) in enumerate(zip(frm, shares)):
        if f >= SA_MAX or f == me or f not in c_pks or f in present or len(sh) != SHARE_CT:
            raise SecAggError("share %d (from %d) is not a listed peer's" % (i, f))
        try:
            pt = AESGCM(sa_pair_key(c_sk, c_pks[f])).decrypt(sa_nonce(f, me, round_), sh, None)
        except InvalidTag:
            raise SecAggError("the share from %d: its AES-GCM tag does not verify" % f)
        if struct.unpack("<III", pt[:12]) != (round_, f, me):
            raise SecAggError("the share from %d is for another round or client" % f)
        got_s[f], got_b[f] = pt[12:44], pt[44:76]
        present.add(f)
    if drop:  # a fault injected for testing (--fault-drop): gone after its shares
        return grpc.StatusCode.ABORTED, "stopped before the masked upload (a fault injected " \
            "for testing)"
    # the model times the weight, masked with every peer that shared and the self mask
    masked = sa_mask(flat, weight, me, s_sk, s_pks, present, b)
    code, resp, why = call(ch, "PushMasked",
                           f_varint(1, round_) + f_double(2, loss) + f_bytes(3, masked), 1800)
    if code != grpc.StatusCode.OK:
        return code, "PushMasked: " + why
    # the shares that unmask: self-mask seed shares of the survivors, mask-key shares of the
    # dropped; never both for one client, and only when at least t survived
    m = decode(resp)
    surv, drop = packed_uints(m, 2), packed_uints(m, 3)
    if one(m, 1) != round_ or not t <= len(surv) <= SA_MAX or len(drop) > SA_MAX:
        raise SecAggError("the unmask plan (%d survivors, threshold %d) is out of range"
                          % (len(surv), t))
    seen = set()
    for k in surv + drop:
        if k not in present or k in seen or (k == me and k in drop):
            raise SecAggError("the unmask plan names client %d badly" % k)
        seen.add(k)
    if me not in seen:
        raise SecAggError("the unmask plan leaves this client out")
    body = f_varint(1, round_)
    for k in surv:
        body += f_bytes_always(2, own_b if k == me else got_b[k])
    for k in drop:
        body += f_bytes_always(3, got_s[k])
    # the update is in the sum: an Unmask after t others gave theirs may come too late to count
    ucode, _, uwhy = call(ch, "Unmask", body, 1800)
    if ucode != grpc.StatusCode.OK:
        log("round %d: Unmask: %s: %s (the masked update is in)" % (round_, ucode.name, uwhy))
    return grpc.StatusCode.OK, ""


def sa_private_bytes(sk):
    from cryptography.hazmat.primitives import serialization
    return sk.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                            serialization.NoEncryption())


def chunk_size(s):
    """--chunk-size: bytes per slice of a streamed upload (16 to 4 MiB; 0: unary PushUpdate)."""
    n = int(s)
    if n != 0 and not 16 <= n <= CHUNK_MAX:
        raise argparse.ArgumentTypeError("16 to %d bytes (0: unary uploads), not %r"
                                         % (CHUNK_MAX, s))
    return n


def parse_shard(s):
    try:
        part, _, alpha = s.partition(":")
        i, n = (int(v) for v in part.split("/"))
        alpha = float(alpha) if alpha else 0.0
        if 0 <= i < n <= 4096 and alpha >= 0:
            return i, n, alpha
    except ValueError:
        pass
    raise argparse.ArgumentTypeError("I/N with I < N (then :ALPHA > 0 for non-IID), not %r" % s)


def main():
    p = argparse.ArgumentParser(prog="client.py", description=__doc__.split("\n\n")[0])
    p.add_argument("target", metavar="HOST:PORT")
    p.add_argument("--data", required=True, metavar="IMAGES")
    p.add_argument("--name", required=True)
    p.add_argument("--shard", type=parse_shard)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--top-k", type=float, default=0, dest="top_k")
    p.add_argument("--chunk-size", type=chunk_size, default=CHUNK_DEFAULT, dest="chunk_size",
                   metavar="BYTES")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--timeout", type=int, default=60000, metavar="MS",
                   help="how long to keep retrying an aggregator it cannot reach")
    p.add_argument("--ccz", default=shutil.which("ccz") or os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "build", "ccz"))
    p.add_argument("--tee")
    p.add_argument("--sim-dir", dest="sim_dir")
    p.add_argument("--measurement")
    p.add_argument("--policy", required=True)
    p.add_argument("--verify-opt", dest="verify_opt", action="append", default=[],
                   help="another option for ccz verify (repeatable; --verify-opt=--sim-root=X)")
    # testing only: under secure aggregation, stop after ShareKeys in round N (a dropped client)
    p.add_argument("--fault-drop", type=int, default=0, dest="fault_drop", help=argparse.SUPPRESS)
    a = p.parse_args()
    host, _, port = a.target.rpartition(":")
    host = host.strip("[]")
    if not host or not port.isdigit():
        p.error("HOST:PORT, not %r" % a.target)
    torch.set_num_threads(max(1, a.threads))

    def log(msg):
        print("ccz fl (py): %s: %s" % (a.name, msg), file=sys.stderr, flush=True)

    try:
        x, y = load(a.data, a.shard, a.seed)
    except (OSError, ValueError) as e:
        print("client.py: %s" % e, file=sys.stderr)
        return 2
    log("%d examples of %d features (shard %s)" % (len(x), x.shape[1], "%d of %d%s" % (
        a.shard[0], a.shard[1], ", non-IID" if a.shard[2] > 0 else "") if a.shard else "all"))
    with tempfile.TemporaryDirectory(prefix="ccz-fl-py-") as work:
        os.chmod(work, 0o700)
        try:
            creds = own_certificate(a, work)
            return session(a, host, int(port), creds, work, x, y, log)
        except Rejected as e:
            log(str(e))
            return 1
        except ImportError as e:
            log("secure aggregation needs python3-cryptography: %s" % e)
            return 2
        except (OSError, RuntimeError, ValueError) as e:
            log("error: %s" % e)
            return 2


def session(a, host, port, creds, work, x, y, log):
    deadline = None
    ch = plan = model = residual = None
    joined, after, rounds_done, k, dim = False, 0, 0, 0, 0
    while True:
        if ch is None:
            try:
                ch = attested_channel(a, host, port, creds, work, log)
            except OSError as e:  # not reachable (yet): retried for --timeout
                deadline = deadline or time.monotonic() + a.timeout / 1000
                if time.monotonic() > deadline:
                    log("the aggregator at %s:%d is unreachable: %s" % (host, port, e))
                    return 2
                time.sleep(0.5)
                continue
        if not joined:
            req = f_bytes(1, a.name.encode()) + f_varint(2, len(x))
            code, resp, why = call(ch, "Join", req, 30)
            if code == grpc.StatusCode.UNAVAILABLE:
                ch = None
                continue
            if code != grpc.StatusCode.OK:
                log("Join: %s: %s" % (code.name, why))
                return 1
            plan = parse_plan(resp, x.shape[1])
            if int(y.max()) >= plan["layers"][-1]:
                raise ValueError("the data has %d classes, the model %d"
                                 % (int(y.max()) + 1, plan["layers"][-1]))
            if model is None:
                model = build(plan["layers"])
                dim = sum(p.numel() for p in model.parameters())
                k = topk_count(a.top_k, dim)
                residual = np.zeros(dim, dtype=np.float32)
                if plan["secure_agg"]:
                    sa_check()
                    if k:  # as ccz fl join: a masked upload is dense
                        log("--top-k is not used with secure aggregation (masked uploads are "
                            "dense)")
                        k = 0
                log("joined: %s %s (%d parameters), %s, %d rounds%s%s" % (
                    plan["model"], "-".join(map(str, plan["layers"])), dim, plan["strategy"],
                    plan["rounds"], ", top-%d uploads" % k if k else "",
                    ", secure aggregation" if plan["secure_agg"] else ""))
            joined, deadline = True, None
        code, resp, why = call(ch, "GetModel", f_varint(1, after), 1800)
        if code == grpc.StatusCode.FAILED_PRECONDITION:  # an aggregator that restarted
            joined = False
            continue
        if code == grpc.StatusCode.UNAVAILABLE:  # attest it again: it may have restarted
            ch, joined = None, False
            deadline = deadline or time.monotonic() + a.timeout / 1000
            if time.monotonic() > deadline:
                log("GetModel: %s: %s" % (code.name, why))
                return 1
            time.sleep(0.5)
            continue
        if code != grpc.StatusCode.OK:
            log("GetModel: %s: %s" % (code.name, why))
            return 1
        m = decode(resp)
        round_, done = one(m, 1), bool(one(m, 2))
        glob = tensor(one(m, 4, b""), one(m, 3), dim)
        if done:
            acc = as_double(one(m, 5, None))
            log("the training is over after round %d (%d updates of this client accepted)"
                % (round_, rounds_done))
            if acc >= 0:
                print("accuracy: %.3f" % acc, flush=True)
            return 0
        t0 = time.monotonic()
        load_flat(model, glob)
        loss = train(model, x, y, plan, a.seed * 1000003 + round_)
        flat = flatten(model)
        if plan["secure_agg"]:
            drop = a.fault_drop == round_
            code, why = secagg_upload(ch, round_, flat, loss, log, drop)
            if code == grpc.StatusCode.OK:
                rounds_done += 1
                log("round %d of %d: train loss %.4f (%.1f s, masked)" % (
                    round_, plan["rounds"], loss, time.monotonic() - t0))
            else:
                log("round %d of %d: masked update refused: %s: %s" % (
                    round_, plan["rounds"], code.name, why))
                if drop or code in (grpc.StatusCode.INVALID_ARGUMENT,
                                    grpc.StatusCode.PERMISSION_DENIED):
                    return 1
                if code == grpc.StatusCode.UNAVAILABLE:  # attest it again, join again
                    ch, joined = None, False
            after = round_
            continue
        saved = residual.copy()
        u, sent = update(round_, len(x), loss, flat, glob, residual, k)
        code, why, streamed = push_update(ch, u, a.chunk_size, 300)
        if not streamed:
            a.chunk_size = 0  # an aggregator without PushUpdateStream: unary from now on
        if code == grpc.StatusCode.OK:
            rounds_done += 1
            log("round %d of %d: train loss %.4f (%.1f s%s, %s)" % (
                round_, plan["rounds"], loss, time.monotonic() - t0,
                ", top %d of %d values" % (sent, dim) if sent else "",
                "streamed" if streamed else "unary"))
        else:
            if k:  # none of it reached the model: all of it is still to send
                residual[:] = saved + flat - glob
            log("round %d of %d: update refused: %s: %s" % (round_, plan["rounds"],
                                                             code.name, why))
            if code in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.PERMISSION_DENIED):
                return 1
        after = round_


if __name__ == "__main__":
    sys.exit(main())
