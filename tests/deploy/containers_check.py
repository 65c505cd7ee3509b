#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Lints the Containerfiles (deploy/containers/*.Containerfile); runs everywhere, whether or
not this machine can build or run images.

  - every service of deploy/k8s has a Containerfile, and each image's EXPOSE covers the ports
    its pods name;
  - FROM: only the local Debian base (ARG BASE, default localhost/ccz-debian:12) or an earlier
    stage, named with AS; a service image that compiles has a build stage and a final stage;
  - the final stage ends as a non-root USER (numeric, not 0) and its ENTRYPOINT is exec form;
  - packages only from Debian, by apt-get install --no-install-recommends, with the lists
    removed in the same RUN; no curl, wget, ADD of a URL, pip, npm, go or cargo fetching
    anything;
  - no secret baked in (ENV or ARG named like a password, key or token);
  - the scripts beside them parse (bash -n).
Then it checks that these rules refuse bad examples. Exit: 0 clean, 1 a finding.
"""
import glob
import json
import os
import re
import subprocess
import sys

SRC = os.environ.get("CCZ_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
DIR = os.path.join(SRC, "deploy", "containers")
BASE = "localhost/ccz-debian:12"
DOWNLOADERS = re.compile(r"\b(curl|wget|pip3?|npm|yarn|go\s+(get|install)|cargo\s+install|"
                         r"git\s+clone|gem\s+install)\b")
SECRETS = re.compile(r"(PASSWORD|PASSWD|SECRET|TOKEN|PRIVATE_?KEY|API_?KEY)", re.I)


def instructions(text):
    """-> [(line number, INSTRUCTION, arguments)] with continuation lines joined"""
    out, buf, start = [], "", 0
    for n, line in enumerate(text.split("\n"), 1):
        s = line.strip()
        if not buf and (not s or s.startswith("#")):
            continue
        if buf and s.startswith("#"):
            continue
        if not buf:
            start = n
        if s.endswith("\\"):
            buf += s[:-1] + " "
            continue
        buf += s
        word, _, rest = buf.partition(" ")
        out.append((start, word.upper(), rest.strip()))
        buf = ""
    return out


def lint(name, text):
    """-> list of findings"""
    errs = []
    ins = instructions(text)
    args = {}
    stages = []        # [{"name", "from", "lines": [...]}]
    for n, word, rest in ins:
        if word == "ARG" and not stages:
            k, _, v = rest.partition("=")
            args[k.strip()] = v.strip()
        if word == "FROM":
            m = re.fullmatch(r"(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?", rest, re.I)
            if not m:
                errs.append(f"{name}:{n}: FROM {rest!r}: not IMAGE [AS NAME]")
                continue
            image = m.group(1)
            resolved = re.sub(r"\$\{?(\w+)\}?", lambda v: args.get(v.group(1), "?"), image)
            known = [s["name"] for s in stages if s["name"]]
            if resolved != BASE and image not in known:
                errs.append(f"{name}:{n}: FROM {image} ({resolved}): only the local base "
                            f"{BASE} or an earlier stage")
            stages.append({"name": m.group(2), "from": image, "lines": []})
            continue
        if not stages:
            if word not in ("ARG",):
                errs.append(f"{name}:{n}: {word} before the first FROM")
            continue
        stages[-1]["lines"].append((n, word, rest))
        if word == "ADD" and re.search(r"https?://|git@", rest):
            errs.append(f"{name}:{n}: ADD of a URL: nothing is downloaded")
        if word == "RUN":
            if DOWNLOADERS.search(rest):
                errs.append(f"{name}:{n}: RUN downloads ({DOWNLOADERS.search(rest).group(0)}): "
                            "only Debian packages")
            if re.search(r"\bapt(-get)?\s+install\b", rest):
                if "--no-install-recommends" not in rest:
                    errs.append(f"{name}:{n}: apt-get install without --no-install-recommends")
                if "rm -rf /var/lib/apt/lists" not in rest:
                    errs.append(f"{name}:{n}: apt-get install without removing "
                                "/var/lib/apt/lists in the same RUN")
            if re.search(r"\b(dpkg\s+-i|add-apt-repository|apt-key)\b", rest) or \
                    re.search(r"sources\.list", rest):
                errs.append(f"{name}:{n}: packages from outside Debian's archive")
        if word in ("ENV", "ARG"):
            for key in re.findall(r"(\w+)=", rest) or [rest.split()[0] if rest else ""]:
                if SECRETS.search(key):
                    errs.append(f"{name}:{n}: {word} {key}: a secret baked into the image")
    if not stages:
        return errs + [f"{name}: no FROM"]
    final = stages[-1]
    compiles = any(w == "RUN" and re.search(r"\b(cmake|make|cc|gcc)\b", r)
                   for s in stages for _, w, r in s["lines"])
    if compiles and len(stages) < 2:
        errs.append(f"{name}: compiles in its only stage: build in a stage of its own")
    if compiles and any(w == "RUN" and re.search(r"\b(cmake|gcc)\b", r)
                        for _, w, r in final["lines"]):
        errs.append(f"{name}: the final stage compiles: it must hold only the runtime")
    users = [(n, r) for n, w, r in final["lines"] if w == "USER"]
    if not users:
        errs.append(f"{name}: the final stage sets no USER (it would run as root)")
    else:
        n, user = users[-1]
        uid = user.split(":")[0]
        if not uid.isdigit():
            errs.append(f"{name}:{n}: USER {user}: give a numeric uid (runAsNonRoot checks it)")
        elif int(uid) == 0:
            errs.append(f"{name}:{n}: USER {user} is root")
        after = [w for m, w, _ in final["lines"] if m > n and w in ("RUN", "COPY", "ADD")]
        if "RUN" in after:
            errs.append(f"{name}: RUN after the last USER: it runs as that user, or the image's "
                        "USER is not its last word")
    entry = [r for _, w, r in final["lines"] if w == "ENTRYPOINT"]
    if not entry:
        errs.append(f"{name}: the final stage has no ENTRYPOINT")
    else:
        try:
            if not isinstance(json.loads(entry[-1]), list):
                raise ValueError
        except ValueError:
            errs.append(f"{name}: ENTRYPOINT {entry[-1]!r} is not exec form (a JSON list)")
    return errs


def exposed(text):
    ports = set()
    for _, w, r in instructions(text):
        if w == "EXPOSE":
            ports |= {int(p.split("/")[0]) for p in r.split()}
    return ports


def k8s_ports():
    """image base name -> container ports, from deploy/k8s/sim"""
    try:
        import yaml
    except ImportError:
        return None
    out = {}
    for path in glob.glob(os.path.join(SRC, "deploy", "k8s", "sim", "*.yaml")):
        with open(path, encoding="utf-8") as f:
            for d in yaml.safe_load_all(f):
                if not d or d.get("kind") not in ("Deployment", "StatefulSet", "Job"):
                    continue
                for c in d["spec"]["template"]["spec"]["containers"]:
                    image = c["image"].rsplit("/", 1)[-1].split(":")[0]
                    out.setdefault(image, set()).update(p["containerPort"]
                                                        for p in c.get("ports", []))
    return out


def main():
    findings = []
    files = sorted(glob.glob(os.path.join(DIR, "*.Containerfile")))
    if not files:
        print("FAIL no Containerfiles in deploy/containers")
        return 1
    texts = {}
    for path in files:
        name = os.path.relpath(path, SRC)
        with open(path, encoding="utf-8") as f:
            texts[os.path.basename(path)[:-len(".Containerfile")]] = f.read()
        errs = lint(name, texts[os.path.basename(path)[:-len(".Containerfile")]])
        findings += errs
        if not errs:
            print(f"ok   {name}")
    ports = k8s_ports()
    if ports is None:
        print("note: PyYAML is missing: the ports are not compared with deploy/k8s")
    else:
        for image, want in sorted(ports.items()):
            svc = image.removeprefix("ccz-")
            if svc not in texts:
                findings.append(f"deploy/k8s/sim runs {image}, but deploy/containers has no "
                                f"{svc}.Containerfile")
            elif not want <= exposed(texts[svc]):
                findings.append(f"{svc}.Containerfile: EXPOSE {sorted(exposed(texts[svc]))} "
                                f"misses the pods' ports {sorted(want - exposed(texts[svc]))}")
        print(f"ok   every image deploy/k8s runs has its Containerfile ({', '.join(sorted(ports))})")
    for script in glob.glob(os.path.join(DIR, "*.sh")):
        r = subprocess.run(["bash", "-n", script], capture_output=True, text=True)
        if r.returncode:
            findings.append(f"{os.path.relpath(script, SRC)}: {r.stderr.strip()}")

    # the rules refuse what they must
    good = texts.get("attestation", "")
    bad = {
        "a registry image": (good.replace("ARG BASE=localhost/ccz-debian:12",
                                          "ARG BASE=docker.io/library/debian:12"), "only the local base"),
        "root": (good.replace("USER 10001:10001", "USER 0"), "is root"),
        "no USER": (good.replace("USER 10001:10001\n", ""), "sets no USER"),
        "a download": (good.replace("COPY . /src", "RUN curl -fsSL https://x.example/i.sh | sh\nCOPY . /src"),
                       "downloads"),
        "a pip install": (good.replace("COPY . /src", "RUN pip install requests\nCOPY . /src"), "downloads"),
        "a shell ENTRYPOINT": (good.replace('ENTRYPOINT ["/usr/bin/ccz"]', "ENTRYPOINT /usr/bin/ccz"),
                               "exec form"),
        "a baked password": (good.replace("ENV CCZ_DATA_DIR", "ENV DB_PASSWORD=x CCZ_DATA_DIR"),
                             "secret baked"),
        "recommends": (good.replace("install -y --no-install-recommends", "install -y", 1),
                       "--no-install-recommends"),
    }
    for what, (text, expect) in bad.items():
        if text == good:
            findings.append(f"self-test {what}: the example did not change the Containerfile")
            continue
        if not any(expect in e for e in lint("example", text)):
            findings.append(f"self-test: the lint let {what} through")
    if not findings:
        print(f"ok   the lint refuses {', '.join(bad)}")
    for f in findings:
        print(f"FAIL {f}")
    print(f"{len(files)} Containerfiles, {len(findings)} finding(s)")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
