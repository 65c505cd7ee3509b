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
    lines = dict((n, int(s)) for n, s in (line.split() for line in out.splitlines()))
    c_sizes = {n: v for n, v in lines.items() if "." not in n}
    assert set(c_sizes) == set(_lib.LAYOUT)
    for name, cls in _lib.LAYOUT.items():
        assert ctypes.sizeof(cls) == c_sizes[name], name
    # every field at its C offset (two fields swapped keep the size), and every field of the
    # structures ccz defines checked (mpz_t is GMP's: its size only)
    c_offsets = {n: v for n, v in lines.items() if "." in n}
    py_offsets = {}

    def walk(prefix, cls, base):
        for f in cls._fields_:
            field = getattr(cls, f[0])
            py_offsets[prefix + f[0]] = base + field.offset
            if isinstance(f[1], type) and issubclass(f[1], ctypes.Structure) \
                    and prefix + f[0] + "." + f[1]._fields_[0][0] in c_offsets:
                walk(prefix + f[0] + ".", f[1], base + field.offset)

    for name, cls in _lib.LAYOUT.items():
        if name != "mpz_t":
            walk(name + ".", cls, 0)
    assert py_offsets == c_offsets


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
