# SPDX-License-Identifier: Apache-2.0
"""Fixtures of the ccz package's tests.

Environment (CTest sets it; python/tests/run.sh): CCZ_LIBRARY_DIR (the libccz.so under test),
CCZ_SOURCE_DIR, CCZ_VECTORS (../shared/vectors, read in place), CCZ (the ccz command, for the
tests that compare with `ccz verify --json`), CCZ_PY_LAYOUT (python/layout.c built). Without
the vectors the tests that need them skip, or fail under CI=true, as the C tests do.
"""
import json
import os
import pathlib
import shutil
import subprocess
import tempfile

import pytest

HERE = pathlib.Path(__file__).resolve().parent
SOURCE = pathlib.Path(os.environ.get("CCZ_SOURCE_DIR") or HERE.parent.parent)

try:  # the installed package; else this checkout's (python3 -m pytest python/tests)
    import ccz
except ImportError as e:
    if "libccz" in str(e):
        raise
    import sys
    sys.path.insert(0, str(HERE.parent / "src"))
    import ccz


def pytest_configure(config):
    # never the reader's own sim platform: a default one of the test run's
    os.environ["CCZ_SIM_DIR"] = tempfile.mkdtemp(prefix="ccz-py-default-sim-")


def pytest_unconfigure(config):
    shutil.rmtree(os.environ.pop("CCZ_SIM_DIR", ""), ignore_errors=True)


def need(what: str, why: str):
    """A missing prerequisite: a skip, or a failure under CI=true."""
    msg = "%s missing: %s" % (what, why)
    if os.environ.get("CI") == "true":
        pytest.fail(msg + " (CI=true: a missing prerequisite is a failure)")
    pytest.skip(msg)


@pytest.fixture(scope="session")
def vectors() -> pathlib.Path:
    d = pathlib.Path(os.environ.get("CCZ_VECTORS") or SOURCE.parent / "shared" / "vectors")
    if not (d / "dcap_cases.json").is_file():
        need("vectors", "no dcap_cases.json in %s (set CCZ_VECTORS)" % d)
    return d


@pytest.fixture(scope="session")
def fixtures() -> pathlib.Path:
    return SOURCE / "tests" / "paillier" / "fixtures" / "python-paillier"


@pytest.fixture(scope="session")
def plat(tmp_path_factory) -> str:
    """A sim platform of the session."""
    d = str(tmp_path_factory.mktemp("plat") / "p")
    ccz.sim_init(d)
    return d


@pytest.fixture(scope="session")
def cli():
    """Runs `ccz ARGS...` -> (exit code, stdout); skipped without the command."""
    path = os.environ.get("CCZ")
    if not path or not os.access(path, os.X_OK):
        need("the ccz command", "set CCZ to compare with it")

    def run(*args, cwd=None):
        env = dict(os.environ)
        env.pop("CCZ_LOG", None)
        r = subprocess.run([path, *map(str, args)], capture_output=True, text=True, cwd=cwd,
                           env=env)
        return r.returncode, r.stdout

    return run


def cli_json(cli, *args):
    """`ccz ... --json` parsed, without the hint (its words name the command's options)."""
    code, out = cli(*args, "--json")
    doc = json.loads(out)
    if doc.get("error"):
        doc["error"].pop("hint", None)
    return code, doc


def no_hint(doc):
    doc = json.loads(json.dumps(doc))
    if doc.get("error"):
        doc["error"].pop("hint", None)
    return doc
