#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Runs the examples of a Markdown page as written, in order, in a fresh directory.

    doctest.py PAGE.md        (environment: CCZ_BIN_DIR holds ccz; CCZ_VECTORS, CCZ_PREFIX)

Each ```sh block is a shell session: a line starting with "$ " is a command (continued by a
trailing backslash), the lines after it are its expected output. All the blocks of a page run in
one bash process, so files and variables carry from one example to the next, as they do for a
reader who types them. A command must exit 0 unless a trailing comment says otherwise
("# exits 1"). A command ending in "&" runs in the background until the page ends; when it has
a --listen (--rest, --grpc) HOST:PORT, the next command waits until that port accepts; when another program
already holds that port, the page's commands use a free one instead (and say so).

Expected output is checked line by line in order: "..." or "…" inside a line matches anything,
a line that is only "..." skips any lines, and output lines not shown may come between shown
ones. Expected output that starts with "{" is JSON: the keys shown must be in the output with the
values shown ("…" for any value, "..." after the last key for more keys); a list shown holds
exactly the items shown ("[]" is an empty list), unless "..." after its last item allows more
("[ ... ]" is any list).

A fenced block is steered by an HTML comment on the line before it:
  <!-- doctest: skip REASON -->      not run (the quick start's make targets, say)
  <!-- doctest: network -->          needs the internet: not run here, reported as skipped
  <!-- doctest: file NAME -->        the block's text is written to NAME (C programs, JSON)
  <!-- doctest: vectors DST=SRC ... --> before a block: copy the sample vector SRC (a path under
                                     $CCZ_VECTORS) to DST, for examples about a sample quote
Blocks in other languages without a directive (diagrams, JSON shapes) are prose and not run.

Exit status: 0 when every example ran and matched (network ones are listed as skipped), 1 when
one failed, 77 when the page has no runnable example.
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

FENCE = re.compile(r"^```(\w*)\s*$")
DIRECTIVE = re.compile(r"^<!--\s*doctest:\s*(\w+)\s*(.*?)\s*-->\s*$")
EXIT = re.compile(r"#.*\bexits? (\d+)\b")
LISTEN = re.compile(r"--(?:listen|rest|grpc)\s+(\S+):(\d+)")


class Example:
    def __init__(self, line, command, expected, background):
        self.line, self.command, self.expected, self.background = line, command, expected, background
        m = EXIT.search(command)
        self.exit = int(m.group(1)) if m else 0


def parse(path):
    """-> list of steps: ("sh", [Example]), ("file", name, text), ("vectors", pairs), ("skip", why, line)"""
    lines = open(path, encoding="utf-8").read().split("\n")
    steps, directives, i = [], [], 0
    while i < len(lines):
        d = DIRECTIVE.match(lines[i])
        if d:
            directives.append((d.group(1), d.group(2), i + 1))
            i += 1
            continue
        f = FENCE.match(lines[i])
        if not f:
            if lines[i].strip():
                directives = []
            i += 1
            continue
        lang, start = f.group(1), i + 1
        j = start
        while j < len(lines) and not lines[j].startswith("```"):
            j += 1
        body = lines[start:j]
        i = j + 1
        kinds = {k: (arg, ln) for k, arg, ln in directives}
        directives = []
        if "vectors" in kinds:
            pairs = [p.split("=", 1) for p in kinds["vectors"][0].split()]
            steps.append(("vectors", pairs))
        if "skip" in kinds:
            steps.append(("skip", kinds["skip"][0] or "marked skip", start))
            continue
        if "network" in kinds:
            steps.append(("skip", "needs the internet", start))
            continue
        if "file" in kinds:
            steps.append(("file", kinds["file"][0], "\n".join(body) + "\n"))
            continue
        if lang not in ("sh", "console", "shell", "bash"):
            continue
        examples, k = [], 0
        while k < len(body):
            if not body[k].startswith("$ "):
                k += 1
                continue
            ln, cmd = start + k + 1, body[k][2:]
            while cmd.endswith("\\") and k + 1 < len(body):
                k += 1
                cmd = cmd[:-1].rstrip() + " " + body[k].strip()
            k += 1
            out = []
            while k < len(body) and not body[k].startswith("$ "):
                out.append(body[k])
                k += 1
            while out and not out[-1].strip():
                out.pop()
            bare = re.sub(r"\s+#[^\"']*$", "", cmd).rstrip()
            examples.append(Example(ln, cmd, out, bare.endswith("&")))
        if examples:
            steps.append(("sh", examples))
        else:
            steps.append(("skip", "no '$ ' command in the block", start))
    return steps


def line_pattern(expected):
    parts = re.split(r"\.\.\.|…", expected.strip())
    return re.compile(r"\s*" + ".*".join(re.escape(p) for p in parts) + r"\s*$")


def match_lines(expected, actual):
    pos = 0
    for e in expected:
        if e.strip() in ("...", "…"):
            continue
        pat = line_pattern(e)
        while pos < len(actual) and not pat.match(actual[pos]):
            pos += 1
        if pos == len(actual):
            return "expected line not found (in order): %r" % e
        pos += 1
    return None


WILD = "\u0000any"
MORE = "\u0000more"   # the last item of a list that may hold more items than it shows


def json_pattern(text):
    t = text.replace("…", "...")
    t = re.sub(r",\s*\.\.\.(?=\s*\])", lambda m: ", " + json.dumps(MORE), t)   # [a, ...] : more items
    t = re.sub(r",\s*\.\.\.", "", t)                  # {"a": 1, ...} : more keys
    t = re.sub(r"\{\s*\.\.\.\s*\}", "{}", t)          # { ... } : any object
    t = re.sub(r"\[\s*\.\.\.\s*\]", lambda m: "[%s]" % json.dumps(MORE), t)   # [ ... ] : any list
    t = t.replace('"..."', json.dumps(WILD))           # "..." : any value
    return json.loads(t)


def json_subset(want, got, where="$"):
    if want == WILD:
        return None
    if isinstance(want, dict):
        if not isinstance(got, dict):
            return "%s: expected an object, got %r" % (where, got)
        for k, v in want.items():
            if k not in got:
                return "%s: key %r missing" % (where, k)
            err = json_subset(v, got[k], "%s.%s" % (where, k))
            if err:
                return err
        return None
    if isinstance(want, list):
        more = bool(want) and want[-1] == MORE
        if more:
            want = want[:-1]
        if not isinstance(got, list) or len(got) < len(want) or (not more and len(got) > len(want)):
            return "%s: expected %s%d items, got %r" % (where, "at least " if more else "", len(want), got)
        for n, v in enumerate(want):
            err = json_subset(v, got[n], "%s[%d]" % (where, n))
            if err:
                return err
        return None
    if want != got:
        return "%s: expected %r, got %r" % (where, want, got)
    return None


def check_output(expected, out):
    if not expected:
        return None
    text = "\n".join(expected)
    if text.lstrip().startswith("{"):
        try:
            want = json_pattern(text)
        except ValueError as e:
            return "the page's JSON does not parse (%s): %s" % (e, text)
        start = out.find("{")
        try:
            got = json.loads(out[start:]) if start >= 0 else None
        except ValueError:
            got = None
        if got is None:
            return "expected JSON output, got: %r" % out[:400]
        return json_subset(want, got)
    return match_lines(expected, out.split("\n"))


def port_busy(host, port):
    """True when something listens on the port, or a socket (another program's outgoing
    connection, say) holds it so that a server could not bind it."""
    try:
        socket.create_connection((host, int(port)), timeout=0.5).close()
        return True
    except OSError:
        pass
    try:
        with socket.socket() as sk:
            sk.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sk.bind((host, int(port)))
        return False
    except OSError:
        return True


def free_port(host):
    with socket.socket() as sk:
        sk.bind((host, 0))
        return sk.getsockname()[1]


def wait_port(host, port, seconds=60):
    end = time.time() + seconds
    while time.time() < end:
        try:
            socket.create_connection((host, int(port)), timeout=0.5).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def run_page(page):
    steps = parse(page)
    runnable = [s for s in steps if s[0] in ("sh", "file")]
    name = os.path.relpath(page, os.environ.get("CCZ_SOURCE_DIR", "."))
    if not any(s[0] == "sh" for s in runnable):
        print("%s: no runnable example" % name)
        return 77
    work = tempfile.mkdtemp(prefix="ccz-doctest-")
    env = dict(os.environ)
    env["PATH"] = env["CCZ_BIN_DIR"] + os.pathsep + env.get("PATH", "")
    env["CCZ_SIM_DIR"] = os.path.join(work, ".default-sim")   # never the reader's own
    env.pop("CCZ_LOG", None)
    shell = subprocess.Popen(["bash", "--norc", "--noprofile"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=work, env=env,
                             text=True, bufsize=1)
    failures, ran, skipped, n = 0, 0, 0, 0
    moved = {}   # HOST:PORT written on the page -> the free one used instead

    def send(script):
        """runs script in the page's shell; returns the marker line's payload"""
        nonlocal n
        n += 1
        marker = "__ccz_doctest_%d__" % n
        shell.stdin.write(script + "\necho %s $?\n" % marker)
        shell.stdin.flush()
        lines = []
        for line in shell.stdout:
            if line.startswith(marker):
                return lines, int(line.split()[1])
            lines.append(line)
        return lines, -1

    send("set +e -m; bgpids=")   # -m: each background job in its own process group
    try:
        for step in steps:
            if step[0] == "skip":
                print("SKIP %s:%d: %s" % (name, step[2], step[1]))
                skipped += 1
            elif step[0] == "vectors":
                root = os.environ.get("CCZ_VECTORS", "")
                for dst, src in step[1]:
                    shutil.copyfile(os.path.join(root, src), os.path.join(work, dst))
            elif step[0] == "file":
                with open(os.path.join(work, step[1]), "w") as f:
                    f.write(step[2])
            else:
                for ex in step[1]:
                    ran += 1
                    out_file = os.path.join(work, ".out")
                    if ex.background:
                        cmd = ex.command.rstrip()
                        cmd = re.sub(r"\s*&\s*(#.*)?$", "", cmd)
                        for old, new in moved.items():
                            cmd = cmd.replace(old, new)
                        for m in list(LISTEN.finditer(cmd)):
                            if not port_busy(m.group(1), m.group(2)):
                                continue
                            # another program holds the page's port: the page's commands use
                            # a free one instead, from here on
                            old = "%s:%s" % (m.group(1), m.group(2))
                            new = "%s:%d" % (m.group(1), free_port(m.group(1)))
                            moved[old] = new
                            print("note %s:%d: %s is in use; the page's commands use %s" % (
                                name, ex.line, old, new))
                            cmd = cmd.replace(old, new)
                        send("{ %s\n} > %s.bg%d 2>&1 & bgpids=\"$bgpids $!\"" % (cmd, out_file, ran))
                        for m in LISTEN.finditer(cmd):
                            if not wait_port(m.group(1), m.group(2)):
                                failures += 1
                                log = open("%s.bg%d" % (out_file, ran)).read()
                                print("FAIL %s:%d: %s\n  never listened on %s:%s; it printed:\n%s"
                                      % (name, ex.line, ex.command, m.group(1), m.group(2), log))
                        continue
                    command = ex.command
                    for old, new in moved.items():
                        command = command.replace(old, new)
                    _, code = send("{ %s\n} > %s 2>&1 < /dev/null" % (command, out_file))
                    out = open(out_file).read()
                    err = None
                    if code != ex.exit:
                        err = "exited %d, the page says %d" % (code, ex.exit)
                    else:
                        err = check_output(ex.expected, out)
                    if err:
                        failures += 1
                        print("FAIL %s:%d: $ %s\n  %s\n  it printed:\n%s" % (
                            name, ex.line, ex.command, err,
                            "\n".join("    | " + l for l in out.rstrip("\n").split("\n"))))
                    else:
                        print("ok   %s:%d: $ %s" % (name, ex.line, ex.command.split("\n")[0]))
    finally:
        # each background job's group stopped, and waited for until it is empty (a server
        # drains before it exits; the job's shell does not wait for it): at most 10 s each
        send('for p in $bgpids; do kill -- -$p 2>/dev/null; done; wait 2>/dev/null; '
             'for p in $bgpids; do for i in $(seq 200); do kill -0 -- -$p 2>/dev/null || break; '
             'sleep 0.05; done; done')
        shell.stdin.close()
        shell.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
    print("%s: %d examples run, %d failed, %d blocks skipped" % (name, ran, failures, skipped))
    return 1 if failures else 0


def main():
    if len(sys.argv) != 2 or "CCZ_BIN_DIR" not in os.environ:
        print(__doc__, file=sys.stderr)
        return 2
    return run_page(sys.argv[1])


if __name__ == "__main__":
    sys.exit(main())
