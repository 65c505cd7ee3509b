#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Renders a service's Gramine manifest (deploy/gramine/templates) and its trusted etc/ files.

    render.py SERVICE [-o DIR] [-D NAME=VALUE]... [--values FILE]... [--check]
    render.py --list

SERVICE: attestation, kms-seed, kms, psi, serving or fl. Writes DIR/SERVICE.manifest (default
DIR: .) and DIR/etc/: the service's configuration and policies, from deploy/k8s/chart's values
for SGX (values.yaml, values-sgx.yaml, then each --values FILE), byte for byte what the
ConfigMaps of deploy/k8s/sgx hold, since Gramine refuses a trusted file whose hash is not the
one signed. Then sign it on the SGX host: gramine-sgx-sign --manifest DIR/SERVICE.manifest
--output DIR/SERVICE.manifest.sgx.

The templates are Jinja2 as gramine-manifest reads them (the same -D names work with it); this
script needs no Jinja2: it replaces {{ name }}, {{ gramine.libos }} and
{{ gramine.runtimedir() }} and refuses any other template syntax. Defaults: Gramine's Debian
paths (-D gramine_libdir=...), ccz from PATH or the build directory, and enclave_size and
max_threads from sizes.json (measured on the simulated TEE by measure.py, with headroom).

--check: the rendered manifest must be TOML (python3-toml) with what ccz's deployments rely
on: DCAP attestation, the extra runtime domain names, an entrypoint that is a trusted file,
every mount's host path trusted, allowed, or a tmpfs or encrypted mount with a key, a
power-of-two enclave size; every /etc/ccz file named by the argv or a config must exist in etc/.
"""
import argparse
import json
import os
import re
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))

def _load_chart():
    """deploy/k8s/render.py, under a name of its own (this file is render.py too)"""
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        "ccz_k8s_render", os.path.join(SRC, "deploy", "k8s", "render.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


chart = _load_chart()

# SERVICE -> (template, extra variables, the chart's ConfigMap files it trusts in etc/)
SERVICES = {
    "attestation": ("attestation", {}, {"attestation.json": "attestationConfig",
                                        "policy.json": "policies.attestation"}),
    "kms-seed": ("kms", {"kms_config": "kms.json"}, {
        "kms.json": "kmsConfig", "policy.json": "policies.kms",
        "peer-policy.json": "policies.kmsPeers"}),
    "kms": ("kms", {"kms_config": "kms-replica.json"}, {
        "kms-replica.json": "kmsConfig,kmsReplica", "policy.json": "policies.kms",
        "peer-policy.json": "policies.kmsPeers"}),
    "psi": ("psi", {"parties": "3", "max_memory_mib": "2048"}, {"psi-policy.json": "policies.psi"}),
    "serving": ("serving", {"secret_server": "ccz-attestation:8443", "threads": "4"},
                {"ca.crt": "=attestationCA"}),
    "fl": ("fl", {"secret_server": "ccz-attestation:8443", "workers": "2", "iterations": "30"},
           {"fl-policy.json": "policies.fl", "ca.crt": "=attestationCA"}),
}
VAR = re.compile(r"\{\{\s*([A-Za-z_][\w.]*(?:\(\))?)\s*\}\}")
OTHER_SYNTAX = re.compile(r"\{%|\{#|\{\{")


class RenderError(Exception):
    pass


def default_vars():
    arch = "/lib/x86_64-linux-gnu"
    ccz = shutil.which("ccz") or os.path.join(SRC, "build", "ccz")
    ccz = os.path.realpath(ccz)
    return {
        "arch_libdir": arch,
        "gramine_libdir": "/usr/lib/x86_64-linux-gnu/gramine",
        "ccz": ccz,
        "ccz_libdir": os.path.dirname(os.path.realpath(os.path.join(os.path.dirname(ccz),
                                                                    "libccz.so")))
        if os.path.exists(os.path.join(os.path.dirname(ccz), "libccz.so"))
        else "/usr/lib/x86_64-linux-gnu",
        "log_level": "error",
    }


def sizes(service):
    with open(os.path.join(HERE, "sizes.json"), encoding="utf-8") as f:
        doc = json.load(f)
    s = doc["services"].get(service) or doc["services"][SERVICES[service][0]]
    return {"enclave_size": s["enclave_size"], "max_threads": str(s["max_threads"])}


def substitute(text, variables, where):
    def sub(m):
        name = m.group(1)
        if name == "gramine.libos":
            return os.path.join(variables["gramine_libdir"], "libsysdb.so")
        if name == "gramine.runtimedir()":
            return os.path.join(variables["gramine_libdir"], "runtime", "glibc")
        if name not in variables:
            raise RenderError(f"{where}: no value for {{{{ {name} }}}} (give -D {name}=VALUE)")
        return str(variables[name])
    out = VAR.sub(sub, text)
    left = OTHER_SYNTAX.search(out)
    if left:
        line = out[:left.start()].count("\n") + 1
        raise RenderError(f"{where}:{line}: template syntax this renderer does not know "
                          "(use gramine-manifest)")
    return out


def etc_files(service, values):
    """-> {name: bytes}: the files of etc/, as the ConfigMaps of deploy/k8s/sgx hold them"""
    out = {}
    for name, path in SERVICES[service][2].items():
        if path.startswith("="):
            v = chart.lookup(values, path[1:], "values")
            out[name] = v
            continue
        merged = {}
        for p in path.split(","):
            merged = chart.merge(merged, chart.lookup(values, p, "values"))
        out[name] = json.dumps(merged, indent=2) + "\n"
    return out


def render(service, defines=(), extra_values=()):
    """-> (manifest text, {etc file name: text})"""
    if service not in SERVICES:
        raise RenderError(f"unknown service {service!r} (one of {', '.join(SERVICES)})")
    template, extra, _ = SERVICES[service]
    variables = default_vars()
    variables.update(sizes(service))
    variables.update(extra)
    for d in defines:
        if "=" not in d:
            raise RenderError(f"-D {d}: give NAME=VALUE")
        k, v = d.split("=", 1)
        variables[k] = v
    path = os.path.join(HERE, "templates", f"{template}.manifest.template")
    with open(path, encoding="utf-8") as f:
        text = substitute(f.read(), variables, os.path.relpath(path, SRC))
    values = chart.load_values("sgx", extra_values)
    return text, etc_files(service, values)


def check(service, text, etc):
    """-> list of problems with a rendered manifest"""
    try:
        import toml
    except ImportError:
        raise RenderError("python3-toml is not installed (scripts/setup installs it)")
    try:
        m = toml.loads(text)
    except toml.TomlDecodeError as e:
        return [f"{service}.manifest is not TOML: {e}"]
    errors = []
    sgx, sys_, loader, fs = m.get("sgx", {}), m.get("sys", {}), m.get("loader", {}), m.get("fs", {})
    if sgx.get("remote_attestation") != "dcap":
        errors.append('sgx.remote_attestation must be "dcap"')
    if sys_.get("enable_extra_runtime_domain_names_conf") is not True:
        errors.append("sys.enable_extra_runtime_domain_names_conf must be true")
    if sgx.get("debug") is not False:
        errors.append("sgx.debug must be false")
    if sys_.get("enable_sigterm_injection") is not True:  # every template is a server's
        errors.append("sys.enable_sigterm_injection must be true (SIGTERM from docker stop or "
                      "Kubernetes stops the server cleanly)")
    if not isinstance(sgx.get("isvprodid"), int) or not 0 < sgx["isvprodid"] < 65536:
        errors.append("sgx.isvprodid must be an integer from 1 to 65535 (a policy pins it)")
    size = sgx.get("enclave_size", "")
    mm = re.fullmatch(r"(\d+)([MG])", size)
    if not mm or int(mm.group(1)) & (int(mm.group(1)) - 1):
        errors.append(f"sgx.enclave_size {size!r} is not a power of two in M or G")
    if not isinstance(sgx.get("max_threads"), int) or sgx["max_threads"] < 4:
        errors.append("sgx.max_threads must be an integer of at least 4")
    trusted = [t.removeprefix("file:") for t in sgx.get("trusted_files", [])]
    allowed = [t.removeprefix("file:") for t in sgx.get("allowed_files", [])]

    def covered(host, lst):
        return any(host == t or (t.endswith("/") and host.startswith(t)) or host + "/" == t
                   for t in lst)
    entry = m.get("libos", {}).get("entrypoint")
    if not entry or not covered(entry, trusted):
        errors.append(f"libos.entrypoint {entry!r} is not a trusted file")
    if not covered(loader.get("entrypoint", {}).get("uri", "").removeprefix("file:"), trusted):
        errors.append("loader.entrypoint.uri is not a trusted file")
    for mount in fs.get("mounts", []):
        kind, host = mount.get("type", "chroot"), mount.get("uri", "").removeprefix("file:")
        if kind == "tmpfs":
            continue
        if kind == "encrypted":
            if not mount.get("key_name"):
                errors.append(f"encrypted mount {mount.get('path')}: no key_name")
            continue
        if not (covered(host, trusted) or covered(host + "/", trusted)
                or any(a.startswith(host.rstrip("/") + "/") or a == host for a in allowed + trusted)):
            errors.append(f"mount {mount.get('path')} -> {host}: nothing under it is trusted "
                          "or allowed")
    # the host's environment: nothing of it that changes what the enclave runs or trusts (the
    # loader, ccz's own overrides, secret provisioning) comes in; PGPASSWORD (kms) may
    env = loader.get("env", {})
    if loader.get("insecure__use_host_env"):
        errors.append("loader.insecure__use_host_env passes the host's whole environment in")
    for name, value in env.items():
        if (isinstance(value, dict) and value.get("passthrough")
                and name.startswith(("LD_", "CCZ_", "SECRET_PROVISION_", "GLIBC_", "MALLOC_"))):
            errors.append(f"loader.env.{name} is passed through from the host")
    # a provisioned key is the key of an encrypted mount, and such a mount's key is provisioned
    # (or one Gramine derives itself: _sgx_mrenclave, _sgx_mrsigner)
    keys = {mnt.get("key_name") for mnt in fs.get("mounts", []) if mnt.get("type") == "encrypted"}
    provisioned = env.get("SECRET_PROVISION_SET_KEY")
    if provisioned is not None and provisioned not in keys:
        errors.append(f"SECRET_PROVISION_SET_KEY {provisioned!r} is no encrypted mount's key_name")
    for key in keys:
        if key and not key.startswith("_sgx_") and key != provisioned:
            errors.append(f"encrypted mount key {key!r} is not provisioned "
                          "(loader.env.SECRET_PROVISION_SET_KEY)")
    argv = loader.get("argv", [])
    if not argv or argv[0] != "ccz":
        errors.append("loader.argv must start with ccz")
    # every /etc/ccz file the argv or a config names is in etc/ (so a trusted file)
    named = [a for a in argv if a.startswith("/etc/ccz/")]
    for name, body in etc.items():
        if name.endswith(".json"):
            doc = json.loads(body)
            named += [v for v in doc.values() if isinstance(v, str) and v.startswith("/etc/ccz/")]
    for key in ("SECRET_PROVISION_CA_CHAIN_PATH",):
        v = loader.get("env", {}).get(key)
        if isinstance(v, str):
            named.append(v)
    for path in named:
        if path.removeprefix("/etc/ccz/") not in etc:
            errors.append(f"{path} is named but etc/ does not hold it")
    return errors


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("service", nargs="?")
    ap.add_argument("-o", "--output", default=".", metavar="DIR")
    ap.add_argument("-D", dest="defines", action="append", default=[], metavar="NAME=VALUE")
    ap.add_argument("--values", action="append", default=[], metavar="FILE")
    ap.add_argument("--check", action="store_true", help="check the rendered manifest")
    ap.add_argument("--list", action="store_true", help="list the services")
    a = ap.parse_args()
    if a.list:
        print("\n".join(SERVICES))
        return 0
    if not a.service:
        ap.error("give a SERVICE (--list lists them)")
    try:
        text, etc = render(a.service, a.defines, a.values)
        if a.check:
            problems = check(a.service, text, etc)
            for p in problems:
                print(f"render.py: {a.service}: {p}", file=sys.stderr)
            if problems:
                return 1
        os.makedirs(os.path.join(a.output, "etc"), exist_ok=True)
        with open(os.path.join(a.output, f"{a.service}.manifest"), "w", encoding="utf-8") as f:
            f.write(text)
        for name, body in etc.items():
            with open(os.path.join(a.output, "etc", name), "w", encoding="utf-8") as f:
                f.write(body)
        print(f"{os.path.join(a.output, a.service)}.manifest, etc/{{{','.join(etc)}}}"
              + (": checked" if a.check else ""))
        return 0
    except (RenderError, chart.RenderError, OSError, KeyError) as e:
        print(f"render.py: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
