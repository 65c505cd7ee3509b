# SPDX-License-Identifier: Apache-2.0
"""A client of ccz's KMS and of Intel's eHSM-KMS (the same protocol: POST /ehsm?Action=NAME with
an HMAC-signed JSON envelope; docs/kms.md), through ccz_kms_enroll and ccz_kms_call."""
from __future__ import annotations

import ctypes
from ctypes import byref, c_void_p
from typing import Any, Dict, Iterable, Optional, Tuple, Union

from . import _lib
from ._lib import BytesLike, Error, Status, check, lib
from .attestation import Attester, Collateral, Policy, Trust, _policy

__all__ = ["Client"]


class Client:
    """The KMS at url ("HOST:PORT" or "https://HOST:PORT[/ehsm]").

    The KMS is authenticated by its RA-TLS certificate (verified with trust, or root_ca /
    sim_roots / sim_dir, and collateral; appraised with policy, None: the default policy) or,
    with ca_file, by an ordinary certificate checked against that CA file and the host name.

    Args:
      attester: enroll as an attested caller (an RA-TLS client certificate), or
      admin_token: enroll with the KMS's admin token.
      appid, apikey: an app enrolled before (enroll() sets them).
      timeout: seconds for connecting, the handshake and the answer.
    """

    def __init__(self, url: str, *, policy: Union[None, Policy, dict, str, bytes] = None,
                 trust: Optional[Trust] = None, collateral: Optional[Collateral] = None,
                 root_ca: Optional[BytesLike] = None, sim_roots: Iterable = (),
                 sim_dir: Optional[str] = None, ca_file: Optional[str] = None,
                 attester: Optional[Attester] = None, admin_token: Optional[str] = None,
                 appid: Optional[str] = None, apikey: Optional[str] = None,
                 timeout: float = 30.0) -> None:
        self.url = url
        self._trust = trust if trust is not None or ca_file else Trust(root_ca, sim_roots,
                                                                      sim_dir)
        self._policy = _policy(policy)[0]
        self._collateral = collateral
        self._attester = attester
        self._keep = [_lib.cstr(url), _lib.cstr(ca_file), _lib.cstr(admin_token)]
        o = _lib.KmsOpts()
        o.version = _lib.KMS_OPTS_VERSION
        o.url, o.ca_file, o.admin_token = self._keep
        o.timeout_ms = _lib.timeout_ms(timeout)
        self._o = o
        self.appid, self.apikey = appid, apikey

    @property
    def _opts(self) -> _lib.KmsOpts:
        """The options with the borrowed objects' pointers as they are now (ValueError for one
        closed since: libccz would read freed memory)."""
        o = self._o
        o.trust = self._trust.ptr if self._trust is not None else None
        o.policy = self._policy.ptr if self._policy is not None else None
        o.collateral = self._collateral.ptr if self._collateral is not None else None
        o.attester = self._attester.ptr if self._attester is not None else None
        return o

    def enroll(self) -> Tuple[str, str]:
        """Enrolls a new app (as an attested caller, or with the admin token) and keeps it for
        call(): (appid, apikey). The apikey is secret."""
        appid = ctypes.create_string_buffer(37)
        apikey = ctypes.create_string_buffer(33)
        try:
            check(lib.ccz_kms_enroll(appid, apikey, byref(self._opts)), "enroll")
            self.appid, self.apikey = appid.value.decode(), apikey.value.decode()
        finally:
            ctypes.memset(apikey, 0, 33)
        return self.appid, self.apikey

    def call(self, action: str, payload: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        """One signed action ("CreateKey", "Encrypt", ...): the KMS's whole answer {code,
        message, result}, whatever its code (check ``code == 200``).

        Raises:
          ccz.Error: only when there is no answer (network_error, tls_error) or one that is
            not the protocol's (protocol_error); invalid_argument without an app.
        """
        if not self.appid or not self.apikey:
            raise Error(Status.invalid_argument, "no app: enroll() first, or give appid and "
                        "apikey")
        p = _lib.json_new(payload) if payload is not None else None
        out = c_void_p()
        try:
            check(lib.ccz_kms_call(byref(out), byref(self._opts), _lib.cstr(self.appid),
                                   _lib.cstr(self.apikey), _lib.cstr(action), p), action)
        finally:
            if p:
                lib.ccz_json_free(p)
        return _lib.json_take(out.value)
