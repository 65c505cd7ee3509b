# SPDX-License-Identifier: Apache-2.0
"""The ctypes structures have the C sizes (python/layout.c prints them), so a field appended in
C without its twin in ccz/_lib.py fails here instead of corrupting memory; and libccz loads from
CCZ_LIBRARY_DIR."""
import ctypes
import os
import subprocess

from conftest import need

import ccz
from ccz import _lib


def test_sizes_match_c():
    exe = os.environ.get("CCZ_PY_LAYOUT")
    if not exe:
        need("CCZ_PY_LAYOUT", "the layout program (python/layout.c) is built by CMake")
    out = subprocess.run([exe], capture_output=True, text=True, check=True).stdout
    c_sizes = dict((n, int(s)) for n, s in (line.split() for line in out.splitlines()))
    assert set(c_sizes) == set(_lib.LAYOUT)
    for name, cls in _lib.LAYOUT.items():
        assert ctypes.sizeof(cls) == c_sizes[name], name


def test_library_from_ccz_library_dir():
    d = os.environ.get("CCZ_LIBRARY_DIR")
    if not d:
        need("CCZ_LIBRARY_DIR", "the tests load the freshly built library from it")
    assert os.path.dirname(ccz.library_path()) == os.path.realpath(d)


def test_status_and_error():
    assert ccz.Status.signature_invalid == -9
    assert ccz.Status.collateral_unsupported == -42
    e = ccz.Error(ccz.Status.report_data_mismatch, "differs")
    assert (e.status, e.name, e.category, e.detail) == (-14, "report_data_mismatch",
                                                        "verification", "differs")
    assert str(e) == "report_data_mismatch: differs"
    assert ccz.Error(-1).detail == "invalid argument"
    import pickle
    f = pickle.loads(pickle.dumps(e))
    assert (f.status, f.detail) == (e.status, e.detail)
