# SPDX-License-Identifier: Apache-2.0
"""A client of Trustee's Key Broker Service protocol 0.4.0 (ccz_kbs_get_resource), as
Confidential Containers' guests and ccz's attestation service (/kbs/v0) speak it."""
from __future__ import annotations

from ctypes import byref, pointer
from typing import Optional, Tuple

from . import _lib
from ._lib import check, lib
from .attestation import Attester

__all__ = ["get_resource"]


def get_resource(url: str, path: str, attester: Attester, *, cacert: Optional[str] = None,
                 insecure: bool = False, timeout: float = 30.0) -> Tuple[bytes, str]:
    """The resource at path ("REPOSITORY/TYPE/TAG") from the KBS at url ("https://host:port"),
    for evidence from attester (sim, sgx or tdx) binding a fresh key and the KBS's nonce; the
    resource comes back as a JWE to that key, decrypted here.

    Args:
      cacert: the PEM CA file for the KBS's HTTPS certificate (None: the system's).
      insecure: do not verify the KBS's certificate (testing only).

    Returns:
      (the resource's bytes, the attestation token the KBS issued).

    Raises:
      ccz.Error: network_error, policy_rejected (401/403 with the KBS's detail), not_found
        (404), protocol_error.
    """
    o = _lib.KbsClientOpts()
    o.version = _lib.KBS_CLIENT_OPTS_VERSION
    ca = _lib.cstr(cacert)
    o.cacert = ca
    o.tls_verify_insecure = insecure
    o.timeout_ms = _lib.timeout_ms(timeout)
    with _lib.Buf(secret=True) as out, _lib.Buf() as token:
        o.token = pointer(token)
        check(lib.ccz_kbs_get_resource(byref(out), attester.ptr, _lib.cstr(url), _lib.cstr(path),
                                       byref(o)), "KBS %s" % path)
        return out.bytes(), token.text()
