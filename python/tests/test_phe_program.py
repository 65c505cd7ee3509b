# SPDX-License-Identifier: Apache-2.0
"""A program written for python-paillier (phe_program.py) runs on ccz with only its import
changed, and prints what python-paillier printed: the fixtures' "plain" values (python-
paillier's own decryptions of the same ciphertexts and computations), then exact results."""
import json
import os
import pathlib
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent


def test_program_runs_with_only_its_import_changed(fixtures, tmp_path):
    src = (HERE / "phe_program.py").read_text()
    ported = "\n".join("from ccz import paillier" if line == "from phe import paillier" else line
                       for line in src.splitlines()) + "\n"
    changed = [(a, b) for a, b in zip(src.splitlines(), ported.splitlines()) if a != b]
    assert changed == [("from phe import paillier", "from ccz import paillier")]
    prog = tmp_path / "program.py"
    prog.write_text(ported)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    r = subprocess.run([sys.executable, str(prog), str(fixtures)], capture_output=True,
                       text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    out = r.stdout.splitlines()

    cases = json.loads((fixtures / "cases.json").read_text())["cases"]
    by_library = [c for c in cases if isinstance(c["ciphertext"], list)]
    want = [c["plain"] for c in by_library]
    plains = {c["by"]: c["plain"] for c in by_library}
    want += [plains["encrypt(1234567) + encrypt(-7654321)"], plains["encrypt(1234567) * -3"],
             plains["encrypt(1.5) * -2.25 + 0.125"]]
    want += [
        "[3.141592653, 300, -4.6e-12]",
        "%r %r %r" % (3.141592653 + 5, 3.141592653 - 1, 3.141592653 + 300),
        "1050.0 37.5 -9.2e-12",
        "900",
        "0 -14",
        "7 -8 2",
        "%r" % (600 + -4.6e-12),
        "ValueError",
        "OverflowError",
    ]
    assert out == want
