#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Checks the Kubernetes manifests (deploy/k8s, solutions/*/k8s) as CI does:

  1. the committed deploy/k8s/TEE/ are the chart's rendering (deploy/k8s/render.py --check);
  2. yamllint (deploy/.yamllint) passes on the chart's values and every rendered manifest;
  3. every document loads into python3-kubernetes's typed model for its kind, with unknown
     fields and wrongly typed values refused (a strict walk of the model's openapi_types and
     attribute_map, since the client's own deserializer drops unknown keys silently), then
     through the client's deserializer, which refuses missing required fields;
  4. every pod of deploy/k8s meets PodSecurity "restricted" (non-root, no privilege
     escalation, capabilities dropped, seccomp RuntimeDefault, no host namespaces or host
     paths) plus ccz's rules: a read-only root filesystem, resource requests, probes (the
     solutions' manifests too);
  5. the policies and service configurations in the ConfigMaps are what ccz accepts
     (`ccz policy check`), when $CCZ names a ccz executable;
  6. the strict check itself refuses a misspelt field and a wrong type;
  7. the pod rules of 4 (with a memory limit, an image pinned by a version tag or a digest, and
     the SGX device plugin's epc, enclave and provision for an enclave) refuse a pod that
     breaks each; solutions/*/k8s and solutions/*/*.yaml are held to them too.

    k8s_check.py            (environment: CCZ_SOURCE_DIR, CCZ)
Exit: 0 all passed, 1 a check failed, 77 python3-kubernetes, PyYAML or yamllint is missing.
"""
import copy
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile

SRC = os.environ.get("CCZ_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
K8S = os.path.join(SRC, "deploy", "k8s")
TEES = ("sim", "sgx", "tdx", "snp")
SGX_RESOURCES = ("sgx.intel.com/epc", "sgx.intel.com/enclave", "sgx.intel.com/provision")
SERVICE_CONFIGS = {"attestation.json": ["attestation", "serve"], "kms.json": ["kms", "serve"]}

try:
    import yaml
    import kubernetes.client
    from kubernetes.client import models as kmodels
except ImportError as e:
    print(f"skipped: {e.name} is not installed (Debian's python3-kubernetes and python3-yaml; "
          "scripts/setup installs them)")
    sys.exit(77)
if not shutil.which("yamllint"):
    print("skipped: yamllint is not installed (Debian's yamllint; scripts/setup installs it)")
    sys.exit(77)

failures = []


def fail(msg):
    failures.append(msg)
    print(f"FAIL {msg}")


# ---- 3. the strict walk ---------------------------------------------------------------------

def model_class(doc):
    api, kind = doc.get("apiVersion"), doc.get("kind")
    if not isinstance(api, str) or not isinstance(kind, str):
        return None
    version = api.split("/")[-1]
    return getattr(kmodels, version[0].upper() + version[1:] + kind, None)


def strict(value, typ, path, errors):
    """errors += the fields of value (JSON-like) that the model type typ does not have, or whose
    value has another type"""
    if value is None:
        return
    if typ.startswith("list["):
        if not isinstance(value, list):
            errors.append(f"{path}: a list expected, got {type(value).__name__}")
            return
        for i, v in enumerate(value):
            strict(v, typ[5:-1], f"{path}[{i}]", errors)
    elif typ.startswith("dict("):
        if not isinstance(value, dict):
            errors.append(f"{path}: a mapping expected, got {type(value).__name__}")
            return
        inner = typ[5:-1].split(",", 1)[1].strip()
        for k, v in value.items():
            if not isinstance(k, str):
                errors.append(f"{path}: key {k!r} is not a string")
            strict(v, inner, f"{path}.{k}", errors)
    elif typ == "str":
        # a resource quantity (requests, limits, capacity) may be a JSON number, as the API
        # server takes it, though the client types them as strings
        quantity = any(f".{m}." in path for m in ("requests", "limits", "capacity", "hard"))
        if quantity and isinstance(value, (int, float)) and not isinstance(value, bool):
            return
        if not isinstance(value, str):
            errors.append(f"{path}: a string expected, got {type(value).__name__} {value!r}")
    elif typ == "int":
        if not isinstance(value, int) or isinstance(value, bool):
            errors.append(f"{path}: an integer expected, got {value!r}")
    elif typ == "float":
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            errors.append(f"{path}: a number expected, got {value!r}")
    elif typ == "bool":
        if not isinstance(value, bool):
            errors.append(f"{path}: true or false expected, got {value!r}")
    elif typ in ("datetime", "date"):
        if not isinstance(value, str):
            errors.append(f"{path}: a timestamp string expected, got {value!r}")
    elif typ == "object":
        # IntOrString (ports), quantities and free-form objects: a scalar or any JSON
        pass
    else:
        cls = getattr(kmodels, typ, None)
        if cls is None:
            errors.append(f"{path}: the client has no model {typ}")
            return
        if not isinstance(value, dict):
            errors.append(f"{path}: a {typ} mapping expected, got {type(value).__name__}")
            return
        by_key = {k: a for a, k in cls.attribute_map.items()}
        for k, v in value.items():
            if k not in by_key:
                errors.append(f"{path}.{k}: unknown field of {typ}")
                continue
            strict(v, cls.openapi_types[by_key[k]], f"{path}.{k}", errors)


def check_doc(doc, where):
    """-> list of errors"""
    if not isinstance(doc, dict):
        return [f"{where}: not a mapping"]
    cls = model_class(doc)
    if cls is None:
        return [f"{where}: no typed model for {doc.get('apiVersion')} {doc.get('kind')}"]
    errors = []
    strict(doc, cls.__name__, where, errors)
    if not errors:
        try:
            client = kubernetes.client.ApiClient()
            obj = client._ApiClient__deserialize(doc, cls.__name__)
            if obj.kind != doc["kind"]:
                errors.append(f"{where}: deserialized as {obj.kind}")
        except (ValueError, TypeError) as e:
            errors.append(f"{where}: {cls.__name__}: {e}")
    return errors


# ---- 4. PodSecurity restricted and ccz's rules ------------------------------------------------

def pod_spec(doc):
    kind = doc.get("kind")
    spec = doc.get("spec") or {}
    if kind == "Pod":
        return spec
    if kind in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"):
        return (spec.get("template") or {}).get("spec")
    if kind == "CronJob":
        return spec.get("jobTemplate", {}).get("spec", {}).get("template", {}).get("spec")
    return None


def check_pod(doc, where):
    spec = pod_spec(doc)
    if spec is None:
        return []
    errors = []
    psc = spec.get("securityContext") or {}
    for host in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(host):
            errors.append(f"{where}: {host} is not allowed (restricted)")
    for v in spec.get("volumes") or []:
        if "hostPath" in v:
            errors.append(f"{where}: volume {v.get('name')}: hostPath is not allowed (restricted)")
    if (psc.get("seccompProfile") or {}).get("type") != "RuntimeDefault":
        errors.append(f"{where}: pod securityContext.seccompProfile.type must be RuntimeDefault")
    for c in (spec.get("initContainers") or []) + (spec.get("containers") or []):
        cw = f"{where}: container {c.get('name')}"
        sc = c.get("securityContext") or {}
        if not (sc.get("runAsNonRoot") or psc.get("runAsNonRoot")):
            errors.append(f"{cw}: runAsNonRoot must be true (restricted)")
        if sc.get("runAsUser", psc.get("runAsUser")) == 0:
            errors.append(f"{cw}: runAsUser 0 (restricted)")
        if sc.get("allowPrivilegeEscalation") is not False:
            errors.append(f"{cw}: allowPrivilegeEscalation must be false (restricted)")
        if sc.get("privileged"):
            errors.append(f"{cw}: privileged (restricted)")
        caps = sc.get("capabilities") or {}
        if "ALL" not in (caps.get("drop") or []):
            errors.append(f"{cw}: capabilities.drop must hold ALL (restricted)")
        if set(caps.get("add") or []) - {"NET_BIND_SERVICE"}:
            errors.append(f"{cw}: capabilities.add beyond NET_BIND_SERVICE (restricted)")
        if sc.get("readOnlyRootFilesystem") is not True:
            errors.append(f"{cw}: readOnlyRootFilesystem must be true")
        if ((sc.get("seccompProfile") or psc.get("seccompProfile") or {}).get("type")
                != "RuntimeDefault"):
            errors.append(f"{cw}: seccompProfile must be RuntimeDefault")
        for p in c.get("ports") or []:
            if "hostPort" in p:
                errors.append(f"{cw}: hostPort (restricted)")
        req = (c.get("resources") or {}).get("requests") or {}
        if "cpu" not in req or "memory" not in req:
            errors.append(f"{cw}: resources.requests needs cpu and memory")
        limits = (c.get("resources") or {}).get("limits") or {}
        if "memory" not in limits:
            errors.append(f"{cw}: resources.limits needs memory")
        # an image pinned: a version tag or a digest, never latest (or no tag, which is latest)
        image = c.get("image") or ""
        last = image.rsplit("/", 1)[-1]
        if "@sha256:" not in image and (":" not in last or last.endswith(":latest")):
            errors.append(f"{cw}: image {image!r} is not pinned (a version tag or a digest)")
        # an SGX enclave (a Gramine image) gets the SGX device plugin's resources
        if "gramine" in last or any(k.startswith("sgx.intel.com/") for k in limits):
            missing = [r for r in SGX_RESOURCES if r not in limits]
            if missing:
                errors.append(f"{cw}: an SGX enclave without {', '.join(missing)} in "
                              "resources.limits (the SGX device plugin)")
        # a Job's client, which serves nothing (no ports), ends its pod when it stops: no probe
        if "livenessProbe" not in c and not (doc.get("kind") == "Job" and not c.get("ports")):
            errors.append(f"{cw}: no livenessProbe")
        if "readinessProbe" not in c and doc.get("kind") != "Job":
            errors.append(f"{cw}: no readinessProbe")
        for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
            http = (c.get(probe) or {}).get("httpGet")
            if http and http.get("path") not in ("/healthz", "/v2/health/ready",
                                                  "/v2/health/live"):
                errors.append(f"{cw}: {probe} on {http.get('path')}, not /healthz")
    return errors


# ---- 5. what ccz makes of the configuration ---------------------------------------------------

def check_configmap(doc, where, ccz):
    errors = []
    for key, text in ((doc.get("data") or {}).items()):
        if not key.endswith(".json"):
            continue
        try:
            obj = json.loads(text)
        except (TypeError, ValueError) as e:
            errors.append(f"{where}: data.{key} is not JSON: {e}")
            continue
        if ccz and key in SERVICE_CONFIGS:
            # every key of a service's --config file is one of its options
            r = subprocess.run([ccz, *SERVICE_CONFIGS[key], "--help"], capture_output=True,
                               text=True)
            for k in obj:
                if f"--{k.replace('_', '-')} " not in r.stdout + r.stderr:
                    errors.append(f"{where}: data.{key}: {k!r} is not an option of "
                                  f"ccz {' '.join(SERVICE_CONFIGS[key])}")
        if not ccz or "policy" not in key:
            continue
        # the secrets section is the secret server's own (docs/services.md), beside the policy
        if isinstance(obj, dict):
            obj.pop("secrets", None)
        with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
            json.dump(obj, f)
            f.flush()
            r = subprocess.run([ccz, "policy", "check", f.name], capture_output=True, text=True)
        if r.returncode != 0:
            errors.append(f"{where}: data.{key}: ccz policy check: {r.stderr.strip()}")
    return errors


def main():
    ccz = os.environ.get("CCZ")
    # 1. rendering up to date
    r = subprocess.run([sys.executable, os.path.join(K8S, "render.py"), "--check"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        fail(f"deploy/k8s/render.py --check: {r.stderr.strip()}")
    else:
        print("ok render.py --check: the committed manifests are the chart's rendering")

    # 2. yamllint
    # the templates are YAML only once rendered: the values and the renderings are linted
    lint_targets = (sorted(glob.glob(os.path.join(K8S, "chart", "values*.yaml")))
                    + [os.path.join(K8S, t) for t in TEES])
    r = subprocess.run(["yamllint", "-s", "-c", os.path.join(SRC, "deploy", ".yamllint")]
                       + lint_targets, capture_output=True, text=True)
    if r.returncode != 0:
        fail("yamllint:\n" + r.stdout + r.stderr)
    else:
        print("ok yamllint deploy/k8s")

    # 3-5. every manifest
    files = sorted(glob.glob(os.path.join(K8S, "*", "*.yaml")))
    files = [f for f in files if os.path.basename(os.path.dirname(f)) in TEES]
    extra = sorted(glob.glob(os.path.join(SRC, "solutions", "*", "k8s", "*.yaml"))
                   + glob.glob(os.path.join(SRC, "solutions", "*", "*.yaml")))
    ndocs = nfiles = 0
    kinds = set()
    for path in files + extra:
        rel = os.path.relpath(path, SRC)
        ours = True  # the solutions' manifests are held to the same rules as deploy/k8s's
        with open(path, encoding="utf-8") as f:
            try:
                docs = [d for d in yaml.safe_load_all(f) if d is not None]
            except yaml.YAMLError as e:
                fail(f"{rel}: not YAML: {e}")
                continue
        nfiles += 1
        for i, doc in enumerate(docs):
            where = f"{rel}#{i} {doc.get('kind') if isinstance(doc, dict) else ''}"
            errors = check_doc(doc, where)
            if ours and not errors:
                errors += check_pod(doc, where)
                if doc.get("kind") == "ConfigMap":
                    errors += check_configmap(doc, where, ccz)
            for e in errors:
                fail(e)
            ndocs += 1
            if isinstance(doc, dict):
                kinds.add(doc.get("kind"))
    print(f"checked {ndocs} documents in {nfiles} files ({', '.join(sorted(map(str, kinds)))})")
    if not files:
        fail("no rendered manifests under deploy/k8s/TEE/")
    for tee in TEES:
        if not glob.glob(os.path.join(K8S, tee, "*.yaml")):
            fail(f"deploy/k8s/{tee}/ holds no manifests")

    # 6. the strict check refuses what it must
    bad = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"},
           "spec": {"selector": {"matchLabels": {"a": "b"}},
                    "template": {"metadata": {"labels": {"a": "b"}},
                                 "spec": {"containers": [{"name": "c", "image": "i",
                                                          "imagePullPolicyy": "Never"}]}}}}
    errs = check_doc(bad, "self-test")
    if not any("imagePullPolicyy: unknown field of V1Container" in e for e in errs):
        fail(f"the strict check let a misspelt field through: {errs}")
    bad["spec"]["template"]["spec"]["containers"][0] = {"name": "c", "image": "i",
                                                        "ports": [{"containerPort": "80"}]}
    errs = check_doc(bad, "self-test")
    if not any("containerPort: an integer expected" in e for e in errs):
        fail(f"the strict check let a string port through: {errs}")
    del bad["spec"]["template"]["spec"]["containers"]
    errs = check_doc(bad, "self-test")
    if not any("containers" in e and "None" in e for e in errs):
        fail(f"the deserializer let a pod without containers through: {errs}")
    if not failures:
        print("ok the strict check refuses an unknown field, a wrong type and a missing "
              "required field")

    # 7. the pod rules refuse what they must: one change at a time to a pod that passes
    with open(os.path.join(K8S, "sgx", "psi.yaml"), encoding="utf-8") as f:
        good = next(d for d in yaml.safe_load_all(f) if d and d.get("kind") == "Deployment")
    if check_pod(good, "self-test"):
        fail(f"the pod rules refuse deploy/k8s/sgx/psi.yaml: {check_pod(good, 'self-test')}")

    def container(d):
        return d["spec"]["template"]["spec"]["containers"][0]

    def limits(d):
        return container(d)["resources"]["limits"]
    cases = [
        ("a privileged container", lambda d: container(d)["securityContext"].update(
            privileged=True), "privileged (restricted)"),
        ("a root container", lambda d: container(d)["securityContext"].update(runAsUser=0),
         "runAsUser 0"),
        ("privilege escalation", lambda d: container(d)["securityContext"].update(
            allowPrivilegeEscalation=True), "allowPrivilegeEscalation must be false"),
        ("the host's network", lambda d: d["spec"]["template"]["spec"].update(
            hostNetwork=True), "hostNetwork is not allowed"),
        ("an image tagged latest", lambda d: container(d).update(
            image="localhost/ccz-psi-gramine:latest"), "is not pinned"),
        ("an image without a tag", lambda d: container(d).update(
            image="registry.example:5000/ccz-psi-gramine"), "is not pinned"),
        ("an enclave without sgx.intel.com/enclave", lambda d: limits(d).pop(
            "sgx.intel.com/enclave"), "without sgx.intel.com/enclave"),
        ("an enclave without sgx.intel.com/provision", lambda d: limits(d).pop(
            "sgx.intel.com/provision"), "without sgx.intel.com/provision"),
        ("an enclave without sgx.intel.com/epc", lambda d: limits(d).pop(
            "sgx.intel.com/epc"), "without sgx.intel.com/epc"),
        ("no memory limit", lambda d: limits(d).pop("memory"), "resources.limits needs memory"),
        ("no livenessProbe", lambda d: container(d).pop("livenessProbe"), "no livenessProbe"),
        ("no readinessProbe", lambda d: container(d).pop("readinessProbe"), "no readinessProbe"),
    ]
    for what, change, expect in cases:
        bad = copy.deepcopy(good)
        change(bad)
        errs = check_pod(bad, "self-test")
        if not any(expect in e for e in errs):
            fail(f"the pod rules let {what} through: {errs}")
    if not failures:
        print(f"ok the pod rules refuse {len(cases)} kinds of unsafe pod")

    if failures:
        print(f"{len(failures)} problem(s)")
        return 1
    print("all Kubernetes checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
