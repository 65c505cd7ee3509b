#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Runs the chart's sim deployment on this machine, without containers or a cluster: renders
deploy/k8s for sim (with this test's CA as a value), then starts every workload's container as
the pod would — its args, its env, its ConfigMaps and Secrets as files — with the pods' paths
moved under a scratch directory and their ports onto free loopback ports:

  - ccz-attestation (its attestation.json, its TLS Secret, the provisioned secrets): GET /healthz
    over TLS checked against the CA;
  - ccz-kms-seed, then ccz-kms (kms-replica.json: --peer the seed): the replica gets the domain
    key from the seed over mutual RA-TLS, as in the cluster; both answer /healthz. Their store is
    a throwaway PostgreSQL (tests/store/pg_server.sh) in ccz-postgres's place;
  - ccz-psi and the FL aggregator: their gRPC ports accept connections;
  - ccz-serving: takes the model key from ccz-attestation by secret provisioning (checking its
    certificate with the ConfigMap's CA), decrypts the protected models and answers /healthz
    and /v2/health/ready;
then stops them all with SIGTERM and expects each to exit 0.

    sim_stack.py       (environment: CCZ, CCZ_SOURCE_DIR)
Exit: 0 passed, 1 failed, 77 missing tools (ccz, openssl, PyYAML, python3-onnx).
"""
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request

SRC = os.environ.get("CCZ_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
CCZ = os.environ.get("CCZ") or os.path.join(SRC, "build", "ccz")
try:
    import yaml
    from onnx import TensorProto, helper, save as onnx_save
except ImportError as e:
    print(f"skipped: {e.name} is not installed (python3-yaml, python3-onnx: scripts/setup)")
    sys.exit(77)
if os.environ.get("CCZ_SANITIZE", "OFF").upper() in ("ON", "1", "TRUE"):
    print("skipped: runs in the release pass (a sanitizer build's services are tested by their "
          "own tests; here leak reports at exit would mask the deployment's checks)")
    sys.exit(77)
if not os.access(CCZ, os.X_OK) or not shutil.which("openssl"):
    print("skipped: needs ccz ($CCZ) and openssl")
    sys.exit(77)

failures = []
procs = {}
stop_pg = []


def fail(msg):
    failures.append(msg)
    print(f"FAIL {msg}")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(*cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, **kw)


class Pod:
    """one workload's container, its pod paths under root"""
    PREFIXES = ("/etc/ccz", "/run/ccz", "/var/lib/ccz", "/models", "/data", "/results")

    def __init__(self, name, work):
        self.name = name
        self.root = os.path.join(work, name)
        self.ports = {}
        for p in self.PREFIXES:
            os.makedirs(self.root + p, exist_ok=True)

    def path(self, s, hosts):
        """a pod's string with its paths, listen addresses and service names moved here"""
        for p in self.PREFIXES:
            if s == p or s.startswith(p + "/"):
                s = self.root + s
            s = s.replace("=" + p + "/", "=" + self.root + p + "/")
        if s.startswith("0.0.0.0:"):
            port = int(s.split(":")[1])
            self.ports.setdefault(port, free_port())
            s = f"127.0.0.1:{self.ports[port]}"
        for name, addr in hosts.items():
            if s.startswith(name + ":") or (":" in s and s.split(":")[0] == name.split(".")[0]):
                s = addr
        return s

    def mount(self, mount_path, files):
        d = self.root + mount_path
        os.makedirs(d, exist_ok=True)
        for k, v in files.items():
            with open(os.path.join(d, k), "w" if isinstance(v, str) else "wb") as f:
                f.write(v)


def wait_tcp(port, name, proc, seconds=30):
    end = time.time() + seconds
    while time.time() < end:
        if proc.poll() is not None:
            return False
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return True
        except OSError:
            time.sleep(0.1)
    return False


def https_get(port, path, cafile=None):
    ctx = ssl.create_default_context(cafile=cafile) if cafile else ssl._create_unverified_context()
    with urllib.request.urlopen(f"https://127.0.0.1:{port}{path}", context=ctx, timeout=10) as r:
        return r.status, r.read().decode()


def main():
    work = tempfile.mkdtemp(prefix="ccz-sim-stack-")
    os.chmod(work, 0o755)   # the throwaway PostgreSQL runs as the user postgres when root
    try:
        return stack(work)
    finally:
        for name, (p, log) in procs.items():
            if p.poll() is None:
                p.kill()
                p.wait()
            log.close()
        for d in stop_pg:
            subprocess.run(["bash", os.path.join(SRC, "tests", "store", "pg_server.sh"), "stop",
                            d], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


def stack(work):
    # what the operator makes (docs/deploy.md): the sim platform, the attestation service's
    # certificate, the secrets to provision, the models encrypted under model_key
    plat = os.path.join(work, "plat")
    run(CCZ, "sim", "init", "--dir", plat)
    crt, key = os.path.join(work, "tls.crt"), os.path.join(work, "tls.key")
    run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
        "-nodes", "-days", "2", "-keyout", key, "-out", crt, "-subj", "/CN=ccz-attestation",
        "-addext", "subjectAltName=DNS:ccz-attestation,IP:127.0.0.1")
    model_key = os.path.join(work, "model.key")
    run(CCZ, "pf", "gen-key", "-w", model_key)
    values = os.path.join(work, "values.yaml")
    with open(values, "w") as f:
        yaml.safe_dump({"attestationCA": open(crt).read()}, f)
    rendered = os.path.join(work, "k8s")
    run(sys.executable, os.path.join(SRC, "deploy", "k8s", "render.py"), "sim", "--values",
        values, "-o", rendered)
    docs = []
    for name in sorted(os.listdir(rendered)):
        with open(os.path.join(rendered, name)) as f:
            docs += [d for d in yaml.safe_load_all(f) if d]
    configmaps = {d["metadata"]["name"]: d.get("data", {}) for d in docs if d["kind"] == "ConfigMap"}
    workloads = {d["metadata"]["name"]: d for d in docs
                 if d["kind"] in ("Deployment", "StatefulSet", "Job")}
    secrets = {
        "ccz-attestation-tls": {"tls.crt": open(crt).read(), "tls.key": open(key).read()},
        "ccz-provisioned-secrets": {"model_key": open(model_key, "rb").read(),
                                    "data_key": os.urandom(16)},
        "ccz-sim-platform": {n: open(os.path.join(plat, n), "rb").read()
                             for n in ("ak.crt", "ak.key", "root.crt", "signer.key")},
        "ccz-postgres": {"password": "unused"},
    }
    hosts = {}
    # ccz-postgres: a throwaway server (tests/store/pg_server.sh), reached by its socket
    pg_dir = os.path.join(work, "pg")
    os.makedirs(pg_dir)
    pg = subprocess.run(["bash", os.path.join(SRC, "tests", "store", "pg_server.sh"), "start",
                         pg_dir], capture_output=True, text=True)
    if pg.returncode == 77:
        print("skipped: no PostgreSQL server binaries for the KMS replicas' store "
              "(apt-get install postgresql)")
        return 77
    if pg.returncode != 0:
        fail(f"pg_server.sh start: {pg.stderr.strip()}")
        return 1
    pg_uri = pg.stdout.strip().splitlines()[-1]
    stop_pg.append(pg_dir)

    def start(wname, pod_name, prepare=None):
        w = workloads[wname]
        spec = w["spec"]["template"]["spec"]
        c = spec["containers"][0]
        pod = Pod(pod_name, work)
        vols = {v["name"]: v for v in spec.get("volumes", [])}
        for m in c.get("volumeMounts", []):
            v = vols.get(m["name"])
            if v is None:      # a volumeClaimTemplate: an empty directory
                os.makedirs(pod.root + m["mountPath"], exist_ok=True)
            elif "configMap" in v:
                pod.mount(m["mountPath"], configmaps[v["configMap"]["name"]])
            elif "secret" in v:
                pod.mount(m["mountPath"], secrets[v["secret"]["secretName"]])
            else:
                os.makedirs(pod.root + m["mountPath"], exist_ok=True)
        env = dict(os.environ)
        for e in c.get("env", []):
            if "value" in e:
                env[e["name"]] = pod.path(e["value"], hosts)
            elif "valueFrom" in e:
                ref = e["valueFrom"]["secretKeyRef"]
                env[e["name"]] = str(secrets[ref["name"]][ref["key"]])
        if prepare:
            prepare(pod)
        args = [pod.path(a, hosts) for a in c["args"]]
        for i, a in enumerate(args):   # a --config file: its paths and addresses too
            if i > 0 and args[i - 1] == "--config":
                with open(a) as f:
                    cfg = json.load(f)

                def move(v):
                    if isinstance(v, str):
                        return pod.path(v, hosts)
                    if isinstance(v, list):
                        return [move(x) for x in v]
                    return v
                cfg = {k: move(v) for k, v in cfg.items()}
                if str(cfg.get("db", "")).startswith("postgresql://"):
                    cfg["db"] = pg_uri   # a throwaway PostgreSQL for ccz-postgres
                moved = a + ".local"
                with open(moved, "w") as f:
                    json.dump(cfg, f)
                args[i] = moved
        log = open(os.path.join(work, pod_name + ".log"), "w+")
        p = subprocess.Popen([CCZ] + args, env=env, stdout=log, stderr=subprocess.STDOUT,
                             cwd=pod.root)
        procs[pod_name] = (p, log)
        return pod, p, c

    def logtail(pod_name):
        p, log = procs[pod_name]
        log.flush()
        log.seek(0)
        return "".join(log.readlines()[-6:])

    def healthz(pod, p, c, path="/healthz", port_name=None, cafile=None):
        port = next(pp["containerPort"] for pp in c["ports"]
                    if port_name is None or pp["name"] == port_name)
        host_port = pod.ports[port]
        if not wait_tcp(host_port, pod.name, p):
            fail(f"{pod.name}: port {port} never opened:\n{logtail(pod.name)}")
            return False
        for _ in range(50):
            try:
                status, body = https_get(host_port, path, cafile)
                if status == 200:
                    print(f"ok   {pod.name}: GET {path} {status} {body.strip()[:60]}")
                    return True
            except Exception as e:  # noqa: BLE001  not ready yet: 503 or a reset
                err = e
            time.sleep(0.2)
        fail(f"{pod.name}: GET {path}: {err}\n{logtail(pod.name)}")
        return False

    # the attestation service
    pod, p, c = start("ccz-attestation", "ccz-attestation-0")
    if healthz(pod, p, c, cafile=crt):
        hosts["ccz-attestation"] = f"127.0.0.1:{pod.ports[8443]}"
    # the KMS: the seed, then a replica that takes the domain key from it
    pod, p, c = start("ccz-kms-seed", "ccz-kms-seed-0")
    if healthz(pod, p, c):
        hosts["ccz-kms-seed-0.ccz-kms-seed"] = f"127.0.0.1:{pod.ports[8443]}"
        pod, p, c = start("ccz-kms", "ccz-kms-0")
        if healthz(pod, p, c):
            out = logtail("ccz-kms-0")
            if "obtained the domain key" not in out:
                fail(f"ccz-kms-0 did not say it obtained the domain key from the seed:\n{out}")
            else:
                print("ok   ccz-kms-0: obtained the domain key from ccz-kms-seed-0 (mutual RA-TLS)")
    # PSI and the FL aggregator: gRPC only
    pod, p, c = start("ccz-psi", "ccz-psi")
    if wait_tcp(pod.ports[50051], "psi", p):
        print("ok   ccz-psi: port 50051 accepts")
    else:
        fail(f"ccz-psi did not listen:\n{logtail('ccz-psi')}")

    def fl_data(pod):
        with open(pod.root + "/data/test.csv", "w") as f:
            f.write("id,y,x0,x1\n0,1,0.5,0.25\n1,0,-0.5,0.75\n2,1,0.1,-0.2\n")
    pod, p, c = start("ccz-fl-aggregator", "ccz-fl-aggregator", fl_data)
    if wait_tcp(pod.ports[50052], "fl", p):
        print("ok   ccz-fl-aggregator: port 50052 accepts")
        # two workers (outside the cluster, as the data owners' own machines) train with it
        policy = os.path.join(work, "worker-policy.json")
        with open(policy, "w") as f:
            f.write('{"allow_sim": true}\n')
        workers = []
        for i in (1, 2):
            data = os.path.join(work, f"train{i}.csv")
            with open(data, "w") as f:
                f.write("id,y,x0,x1\n" + "".join(
                    f"{k},{k % 2},{(k % 2) - 0.3 + k / 100:.2f},{0.5 - (k % 2) + k / 200:.2f}\n"
                    for k in range(20)))
            workers.append(subprocess.Popen(
                [CCZ, "fl", "homo-lr", "worker", f"127.0.0.1:{pod.ports[50052]}", "--data", data,
                 "--id", str(i), "--tee", "sim", "--sim-dir", plat, "--policy", policy],
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
        try:
            rc = p.wait(120)
        except subprocess.TimeoutExpired:
            rc = None
        for w in workers:
            try:
                w.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                w.kill()
        out = logtail("ccz-fl-aggregator")
        if rc == 0 and "accuracy:" in out:
            print("ok   ccz-fl-aggregator: trained with 2 workers, "
                  + [l for l in out.splitlines() if l.startswith("accuracy:")][-1])
            if not os.path.exists(pod.root + "/results/weights.json"):
                fail("ccz-fl-aggregator wrote no /results/weights.json")
        else:
            fail(f"ccz-fl-aggregator: the training did not finish (exit {rc}):\n{out}")
    else:
        fail(f"ccz-fl-aggregator did not listen:\n{logtail('ccz-fl-aggregator')}")

    # the model server: protected models, the key by secret provisioning
    def models(pod):
        for m in ("cnn", "lr"):
            a = helper.make_tensor_value_info("a", TensorProto.FLOAT, ["N", 2])
            y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 2])
            g = helper.make_graph([helper.make_node("Relu", ["a"], ["y"])], m, [a], [y])
            plain = os.path.join(work, m + ".onnx")
            onnx_save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), plain)
            dst = pod.root + f"/models/{m}.onnx"
            run(CCZ, "pf", "encrypt", "-w", model_key, "-i", plain, "-o", dst, "-p", dst)
    if "ccz-attestation" in hosts:
        pod, p, c = start("ccz-serving", "ccz-serving", models)
        healthz(pod, p, c, port_name="rest")
        healthz(pod, p, c, "/v2/health/ready", port_name="rest")

    # SIGTERM drains each; each exits 0
    for name, (p, log) in procs.items():
        if p.poll() is not None:
            if name != "ccz-fl-aggregator":
                fail(f"{name} exited early with {p.returncode}:\n{logtail(name)}")
            continue
        p.send_signal(signal.SIGTERM)
    for name, (p, log) in procs.items():
        try:
            rc = p.wait(20)
        except subprocess.TimeoutExpired:
            fail(f"{name} did not stop within 20 s of SIGTERM")
            continue
        if rc != 0 and not any(name in f for f in failures):
            fail(f"{name} exited with {rc} after SIGTERM:\n{logtail(name)}")
    if not failures:
        print(f"ok   all {len(procs)} stopped cleanly on SIGTERM")
        print("the sim deployment runs as rendered")
        return 0
    print(f"{len(failures)} problem(s)")
    return 1


if __name__ == "__main__":
    sys.exit(main())
