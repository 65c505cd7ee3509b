#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Checks the Gramine manifest templates (deploy/gramine) as CI does:

  1. every service renders (deploy/gramine/render.py) to TOML that python3-toml reads, with
     DCAP attestation, the extra runtime domain names, trusted entrypoint and mounts,
     encrypted mounts with keys, and every /etc/ccz file it names among its trusted etc/;
  2. the etc/ files are byte for byte the ConfigMaps of deploy/k8s/sgx (Gramine refuses a
     trusted file whose hash differs from the signed one);
  3. each pod's sgx.intel.com/epc in deploy/k8s/sgx is its enclave's size (sizes.json);
  4. the sizes still fit the code: measure.py --check runs the services that need no input
     on the simulated TEE and compares (when $CCZ names a ccz executable);
  5. the check refuses a manifest without DCAP, with broken TOML, with an untrusted mount, a
     debug enclave, too few threads, the host's environment (whole, or LD_*/CCZ_* passed
     through), or a provisioned key that is not its encrypted mount's;
  6. the solutions' own templates (solutions/*/*.manifest.template) render to TOML and pass
     the same checks (their /etc/ccz files must be trusted etc/ files), SIGTERM injection and
     an sgx.isvprodid included;
  7. one sgx.isvprodid a ccz command across all of them (a policy pinning one server's id
     admits no other server under the same signer), and deploy/k8s/sgx's attestation policy
     admits each enclave it provisions a key to; each check refusing a case that breaks it.

Exit: 0 passed, 1 failed, 77 python3-toml or PyYAML is missing.
"""
import glob
import json
import os
import re
import subprocess
import sys

SRC = os.environ.get("CCZ_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
try:
    import toml
    import yaml
except ImportError as e:
    print(f"skipped: {e.name} is not installed (Debian's python3-toml and python3-yaml; "
          "scripts/setup installs them)")
    sys.exit(77)
sys.path.insert(0, os.path.join(SRC, "deploy", "gramine"))
import render  # noqa: E402  deploy/gramine/render.py

failures = []


def fail(msg):
    failures.append(msg)
    print(f"FAIL {msg}")


def k8s_objects(path):
    with open(path, encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d]


def command(argv):
    """ccz's subcommand a manifest runs, its options left out: ("fl", "homo-lr", "serve")"""
    words = []
    for a in argv[1:]:
        if a.startswith("-"):
            break
        words.append({"server": "serve", "worker": "work"}.get(a, a))
    return tuple(words)


def product_clashes(products):
    """products: [(where, argv, isvprodid)] -> problems: an id shared by two commands (a
    policy that pins one would admit the other, under the same signer) or a command under two"""
    errs, by_id, by_cmd = [], {}, {}
    for where, argv, pid in products:
        cmd = command(argv)
        other = by_id.setdefault(pid, (where, cmd))
        if other[1] != cmd:
            errs.append(f"{where}: sgx.isvprodid {pid} is also {other[0]}'s, which runs "
                        f"'ccz {' '.join(other[1])}', not 'ccz {' '.join(cmd)}'")
        first = by_cmd.setdefault(cmd, (where, pid))
        if first[1] != pid:
            errs.append(f"{where}: 'ccz {' '.join(cmd)}' is isvprodid {pid} here, {first[1]} in "
                        f"{first[0]}")
    return errs


def unadmitted(policy, service, manifest):
    """-> problems when the attestation policy would not give the manifest its key"""
    key = manifest["loader"].get("env", {}).get("SECRET_PROVISION_SET_KEY")
    if key is None:
        return []
    pid, errs = manifest["sgx"]["isvprodid"], []
    if not any(e.get("isv_prod_id", pid) == pid for e in policy.get("sgx", [])):
        errs.append(f"{service}: the attestation policy's sgx list admits no isv_prod_id {pid}, "
                    f"so its key {key!r} is never released")
    if not any(e.get("secret") == key and e.get("tee") == "sgx" for e in policy.get("secrets", [])):
        errs.append(f"{service}: the attestation policy maps no sgx enclave to {key!r}")
    return errs


def main():
    sgx_dir = os.path.join(SRC, "deploy", "k8s", "sgx")
    configmaps = {}
    pods = {}
    for path in glob.glob(os.path.join(sgx_dir, "*.yaml")):
        for d in k8s_objects(path):
            if d["kind"] == "ConfigMap":
                configmaps[d["metadata"]["name"]] = d.get("data", {})
            elif d["kind"] in ("Deployment", "StatefulSet", "Job"):
                pods[d["metadata"]["name"]] = d["spec"]["template"]["spec"]
    # service -> (its ConfigMap, its workload, its image name)
    where = {"attestation": ("ccz-attestation-config", "ccz-attestation"),
             "kms-seed": ("ccz-kms-config", "ccz-kms-seed"),
             "kms": ("ccz-kms-config", "ccz-kms"),
             "psi": ("ccz-psi-config", "ccz-psi"),
             "serving": ("ccz-serving-ca", "ccz-serving"),
             "fl": ("ccz-fl-config", "ccz-fl-aggregator")}
    sizes = render.sizes
    products = []
    att_policy = json.loads(configmaps.get("ccz-attestation-config", {}).get("policy.json", "{}"))
    for svc in render.SERVICES:
        try:
            text, etc = render.render(svc)
        except Exception as e:  # noqa: BLE001  a template that does not render is a failure
            fail(f"{svc}: does not render: {e}")
            continue
        problems = render.check(svc, text, etc)
        for p in problems:
            fail(f"{svc}.manifest: {p}")
        cm_name, workload = where[svc]
        cm = configmaps.get(cm_name)
        if cm is None:
            fail(f"{svc}: deploy/k8s/sgx has no ConfigMap {cm_name}")
        else:
            for name, body in etc.items():
                if cm.get(name) != body:
                    fail(f"{svc}: etc/{name} differs from ConfigMap {cm_name}'s {name}")
        pod = pods.get(workload)
        if pod is None:
            fail(f"{svc}: deploy/k8s/sgx has no workload {workload}")
        else:
            c = pod["containers"][0]
            epc = c["resources"]["limits"].get("sgx.intel.com/epc", "")
            want = sizes(svc)["enclave_size"]
            if epc != want + "i":
                fail(f"{svc}: {workload} asks sgx.intel.com/epc {epc!r}, its enclave is {want}")
            if "args" in c:
                fail(f"{svc}: {workload} passes args, but the Gramine manifest fixes argv")
            if not c["image"].split("/")[-1].startswith(
                    ("ccz-kms-seed-gramine" if svc == "kms-seed" else f"ccz-{svc}-gramine",
                     "ccz-fl-gramine")):
                fail(f"{svc}: {workload} runs {c['image']}, not its Gramine image")
        if not problems:
            m = toml.loads(text)
            products.append((f"{svc}.manifest", m["loader"]["argv"], m["sgx"]["isvprodid"]))
            for p in unadmitted(att_policy, svc, m):
                fail(p)
            print(f"ok {svc}.manifest: TOML, argv {' '.join(m['loader']['argv'][:4])}..., "
                  f"enclave {m['sgx']['enclave_size']}, {m['sgx']['max_threads']} threads, "
                  f"etc/ {', '.join(etc)}")

    # 4. the sizes fit a measurement
    ccz = os.environ.get("CCZ")
    if ccz and os.environ.get("CCZ_SANITIZE", "OFF").upper() in ("ON", "1", "TRUE"):
        print("note: a sanitizer build's memory is not the release build's: the sizes are "
              "measured in the release pass only")
    elif ccz:
        r = subprocess.run([sys.executable, os.path.join(SRC, "deploy", "gramine", "measure.py"),
                            "--ccz", ccz, "--check"], capture_output=True, text=True, timeout=120)
        print(r.stdout, end="")
        if r.returncode != 0:
            fail("measure.py --check: " + (r.stderr.strip() or "sizes.json is too small"))
    else:
        print("note: CCZ not set, the sizes are not measured again")

    # 5. the check refuses what it must
    text, etc = render.render("psi")
    cases = {
        "no DCAP": (text.replace('sgx.remote_attestation = "dcap"', ""), "remote_attestation"),
        "broken TOML": (text.replace("sgx.max_threads =", "sgx.max_threads"), "not TOML"),
        "an untrusted mount": (text.replace('"file:etc/",', ""), "nothing under it is trusted"),
        "no domain names": (text.replace("sys.enable_extra_runtime_domain_names_conf = true",
                                         ""), "domain_names"),
        "an enclave size that is no power of two": (
            re.sub(r'sgx.enclave_size = "\w+"', 'sgx.enclave_size = "3G"', text), "power of two"),
        "a debug enclave": (text.replace("sgx.debug = false", "sgx.debug = true"),
                            "sgx.debug must be false"),
        "too few threads": (re.sub(r"sgx.max_threads = \d+", "sgx.max_threads = 2", text),
                            "max_threads must be an integer of at least 4"),
        "the host's whole environment": ("loader.insecure__use_host_env = true\n" + text,
                                         "insecure__use_host_env"),
        "a host-controlled LD_PRELOAD": ('loader.env.LD_PRELOAD = { passthrough = true }\n'
                                         + text, "loader.env.LD_PRELOAD is passed through"),
        "no SIGTERM injection": (text.replace("sys.enable_sigterm_injection = true", ""),
                                 "sys.enable_sigterm_injection must be true"),
        "no product id": (re.sub(r"sgx.isvprodid = \d+", "", text),
                          "sgx.isvprodid must be an integer"),
        "a host-controlled CCZ_ override": ('loader.env.CCZ_SIM_DIR = { passthrough = true }\n'
                                            + text, "loader.env.CCZ_SIM_DIR is passed through"),
    }
    for what, (bad, expect) in cases.items():
        errs = render.check("psi", bad, etc)
        if not any(expect in e for e in errs):
            fail(f"the check let a manifest with {what} through: {errs}")
    if not any(expect in e for e in render.check("psi", text, {}) for expect in ["etc/"]):
        fail("the check let a manifest through whose policy etc/ does not hold")
    # secret provisioning: the provisioned key is the encrypted mount's
    text, etc = render.render("serving")
    for what, bad, expect in [
            ("a provisioned key no mount uses",
             text.replace('SECRET_PROVISION_SET_KEY = "model_key"',
                          'SECRET_PROVISION_SET_KEY = "other_key"'),
             "SECRET_PROVISION_SET_KEY 'other_key' is no encrypted mount's key_name"),
            ("an encrypted mount whose key is not provisioned",
             re.sub(r"loader.env.SECRET_PROVISION_SET_KEY = .*\n", "", text),
             "encrypted mount key 'model_key' is not provisioned")]:
        errs = render.check("serving", bad, etc)
        if not any(expect in e for e in errs):
            fail(f"the check let a manifest with {what} through: {errs}")

    # 6. the solutions' templates are TOML once their Jinja2 expressions are filled in, and
    # pass the services' checks (no debug enclave, no host environment, trusted mounts...):
    # every /etc/ccz file they name is a trusted etc/ file
    for path in sorted(glob.glob(os.path.join(SRC, "solutions", "*", "*.manifest.template"))):
        rel = os.path.relpath(path, SRC)
        with open(path, encoding="utf-8") as f:
            t = f.read()
        filled = re.sub(r"\{\{[^}]*\}\}", "8", t)  # "8": a number, a thread count, a string
        try:
            m = toml.loads(filled)
        except toml.TomlDecodeError as e:
            fail(f"{rel}: not TOML: {e}")
            continue
        etc = {}
        for entry in m.get("sgx", {}).get("trusted_files", []):
            if entry.startswith("file:etc/"):
                name = entry.removeprefix("file:etc/")
                local = os.path.join(os.path.dirname(path), "etc", name)
                body = open(local, encoding="utf-8").read() if os.path.isfile(local) else ""
                etc[name] = body if body or not name.endswith(".json") else "{}"
        problems = render.check(rel, filled, etc)
        for p in problems:
            fail(f"{rel}: {p}")
        if not problems:
            products.append((rel, m["loader"]["argv"], m["sgx"]["isvprodid"]))
            print(f"ok {rel}: TOML, DCAP, not debug, trusted mounts")

    # 7. one product id a command: a policy pinning the model server's isvprodid admits no
    # other ccz server signed by the same key; and the attestation policy (deploy/k8s/sgx)
    # admits each enclave it gives a key to (above) -- each check refusing what it must
    for p in product_clashes(products):
        fail(p)
    ids = sorted({pid for _, _, pid in products})
    print(f"ok product ids: {len(products)} manifests, {len(ids)} ids for "
          f"{len({command(a) for _, a, _ in products})} commands")
    if not product_clashes([("a", ["ccz", "kms", "serve"], 18),
                            ("b", ["ccz", "he", "query", "serve", "--db", "x"], 18)]):
        fail("the check let two commands share an isvprodid")
    if not product_clashes([("a", ["ccz", "psi", "serve"], 16), ("b", ["ccz", "psi", "serve"], 9)]):
        fail("the check let one command have two isvprodids")
    if product_clashes([("a", ["ccz", "fl", "homo-lr", "server", "--listen", "x"], 19),
                        ("b", ["ccz", "fl", "homo-lr", "serve"], 19)]):
        fail("the check took 'server' and 'serve' for two commands")
    fl = toml.loads(render.render("fl")[0])
    narrow = dict(att_policy, sgx=[e for e in att_policy.get("sgx", [])
                                   if e.get("isv_prod_id") != fl["sgx"]["isvprodid"]])
    if not unadmitted(narrow, "fl", fl):
        fail("the check let an attestation policy through that refuses the FL aggregator")
    if not unadmitted(dict(att_policy, secrets=[]), "fl", fl):
        fail("the check let an attestation policy through that maps no enclave to data_key")

    if failures:
        print(f"{len(failures)} problem(s)")
        return 1
    print("all Gramine checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
