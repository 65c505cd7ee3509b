# SPDX-License-Identifier: Apache-2.0
"""ccz from Python: libccz (the C confidential-computing toolkit) through ctypes.

- attestation: :func:`attest`, :class:`Attester`, :func:`verify` (the document
  ``ccz verify --json`` prints), :class:`Trust`, :class:`Collateral`, :class:`Policy`, the
  simulated TEE (:func:`sim_init`);
- :mod:`ccz.ratls`: RA-TLS certificates, their verification, attested TLS connections and an
  ``ssl.SSLContext`` that attests its peer;
- :mod:`ccz.paillier`: Paillier with python-paillier's API (``from ccz import paillier`` in
  place of ``from phe import paillier``);
- :mod:`ccz.lattice`: BFV and CKKS lattice homomorphic encryption;
- :mod:`ccz.secret`, :mod:`ccz.kms`, :mod:`ccz.kbs`, :mod:`ccz.tokens`: clients of ccz's
  services (secret provisioning, the KMS, Trustee's KBS protocol, attestation tokens).

libccz.so is found in ``$CCZ_LIBRARY_DIR`` when set, else on the system's library path.
Failures are :class:`Error` exceptions carrying ccz's status code (``.status``, ``.name``).
"""
from __future__ import annotations

from ._lib import Error, Status
from .attestation import (Attester, Collateral, Policy, Trust, attest, detect, sim_default_dir,
                          sim_init, sim_measure, sim_signer, verify)

__version__ = "0.1.0"

__all__ = [
    "Error", "Status", "Attester", "Collateral", "Policy", "Trust", "attest", "detect",
    "sim_default_dir", "sim_init", "sim_measure", "sim_signer", "verify", "paillier", "lattice",
    "ratls", "secret", "kms", "kbs", "tokens", "library_path",
]


def library_path() -> str:
    """The file libccz was loaded from."""
    import ctypes
    import os

    class _DlInfo(ctypes.Structure):
        _fields_ = [("fname", ctypes.c_char_p), ("fbase", ctypes.c_void_p),
                    ("sname", ctypes.c_char_p), ("saddr", ctypes.c_void_p)]

    from ._lib import lib
    info = _DlInfo()
    dladdr = ctypes.CDLL(None).dladdr
    dladdr.argtypes = [ctypes.c_void_p, ctypes.POINTER(_DlInfo)]
    addr = ctypes.cast(lib.ccz_strerror, ctypes.c_void_p)
    if dladdr(addr, ctypes.byref(info)) and info.fname:
        return os.path.realpath(info.fname.decode())
    return lib._name


def __getattr__(name: str):
    # submodules on first use, so `import ccz` stays quick
    if name in ("paillier", "lattice", "ratls", "secret", "kms", "kbs", "tokens"):
        import importlib
        return importlib.import_module("." + name, __name__)
    raise AttributeError("module 'ccz' has no attribute %r" % name)
