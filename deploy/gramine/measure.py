#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Sizes the Gramine enclaves from measurement: runs each service that starts without inputs
on the simulated TEE, exercises it, and reads its peak resident memory (VmHWM) and thread
count from /proc; then enclave_size and max_threads follow from sizes.json's rule.

    measure.py [--ccz PATH] [--update] [--check]

  (no option)  prints each service's measurement and the sizes the rule gives
  --update     writes them into sizes.json
  --check      fails when sizes.json's enclave_size or max_threads is below what the rule
               gives for this measurement (the committed sizes still fit the code)

The rule (sizes.json "rule"): enclave = 1.25 x (peak RSS + workload allowance + Gramine's own
64 MiB + 2 MiB of stack per thread), rounded up to a power of two, at least 256 MiB; threads =
2 x (measured threads + 4 for Gramine's helpers), at least 8. The allowance is what a
service's inputs add and an idle run cannot show: PSI's --max-memory, the model server's
models and batches, the aggregator's validation set. Services that need inputs to start (the
model server, the aggregator) take the largest measured baseline.
"""
import argparse
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
SIZES = os.path.join(HERE, "sizes.json")
GRAMINE_MIB = 64
STACK_MIB = 2


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, seconds=20):
    end = time.time() + seconds
    while time.time() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"exited with {proc.returncode}: {proc.stderr.read()[-400:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"port {port} not open after {seconds} s")


def status(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return int(out["VmHWM"].split()[0]) // 1024, int(out["Threads"])


def https_get(port, path, n=20):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    for _ in range(n):
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            with ctx.wrap_socket(s) as t:
                t.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
                while t.recv(65536):
                    pass


def measure(ccz, service, work):
    port = free_port()
    sim = os.path.join(work, "sim")
    env = dict(os.environ, CCZ_SIM_DIR=sim)
    if service == "attestation":
        cmd = [ccz, "attestation", "serve", "--listen", f"127.0.0.1:{port}", "--data-dir",
               os.path.join(work, "att"), "--tee", "sim", "--sim-dir", sim]
    elif service == "kms":
        cmd = [ccz, "kms", "serve", "--listen", f"127.0.0.1:{port}", "--data-dir",
               os.path.join(work, "kms"), "--tee", "sim", "--sim-dir", sim]
    elif service == "psi":
        policy = os.path.join(work, "psi-policy.json")
        with open(policy, "w") as f:
            f.write('{"allow_sim": true}\n')
        cmd = [ccz, "psi", "serve", "--listen", f"127.0.0.1:{port}", "--parties", "2",
               "--tee", "sim", "--sim-dir", sim, "--policy", policy]
    else:
        raise ValueError(service)
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         text=True)
    try:
        wait_port(port, p)
        if service in ("attestation", "kms"):
            https_get(port, "/healthz")
            https_get(port, "/metrics", 5)
        else:
            for _ in range(10):   # RA-TLS handshakes' worth of connections
                socket.create_connection(("127.0.0.1", port), timeout=2).close()
        time.sleep(0.3)
        return status(p.pid)
    finally:
        p.terminate()
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def rule(rss_mib, threads, allowance_mib):
    threads_max = max(8, 2 * (threads + 4))
    need = 1.25 * (rss_mib + allowance_mib + GRAMINE_MIB + STACK_MIB * threads_max)
    size = 256
    while size < need:
        size *= 2
    return (f"{size // 1024}G" if size >= 1024 else f"{size}M"), threads_max


def mib(size):
    return int(size[:-1]) * (1024 if size.endswith("G") else 1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ccz", default=shutil.which("ccz") or os.path.join(SRC, "build", "ccz"))
    ap.add_argument("--update", action="store_true")
    ap.add_argument("--check", action="store_true")
    a = ap.parse_args()
    with open(SIZES, encoding="utf-8") as f:
        doc = json.load(f)
    if not os.access(a.ccz, os.X_OK):
        print(f"measure.py: no ccz at {a.ccz} (build it, or give --ccz)", file=sys.stderr)
        return 2
    work = tempfile.mkdtemp(prefix="ccz-measure-")
    try:
        subprocess.run([a.ccz, "sim", "init", "--dir", os.path.join(work, "sim")], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        measured = {}
        for svc in ("attestation", "kms", "psi"):
            measured[svc] = measure(a.ccz, svc, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    base = (max(r for r, _ in measured.values()), max(t for _, t in measured.values()))
    bad = 0
    for svc, entry in doc["services"].items():
        rss, threads = measured.get(entry.get("measured_as", svc), base)
        threads += entry.get("extra_threads", 0)
        size, tmax = rule(rss, threads, entry["allowance_mib"])
        note = ""
        if a.check and (mib(entry["enclave_size"]) < mib(size) or entry["max_threads"] < tmax):
            note = "  TOO SMALL: run measure.py --update"
            bad += 1
        print(f"{svc:12} rss {rss:4} MiB  threads {threads:3}  allowance {entry['allowance_mib']:5} "
              f"MiB -> enclave_size {size:>5}  max_threads {tmax:3}   (sizes.json: "
              f"{entry['enclave_size']}, {entry['max_threads']}){note}")
        if a.update:
            entry.update(measured_rss_mib=rss, measured_threads=threads, enclave_size=size,
                         max_threads=tmax)
    if a.update:
        with open(SIZES, "w", encoding="utf-8") as f:
            json.dump(doc, f, indent=2)
            f.write("\n")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
