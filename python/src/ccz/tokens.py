# SPDX-License-Identifier: Apache-2.0
"""Attestation tokens: the attestation service's EAR results (JWTs signed ES256 or ES384),
obtained from its REST API and verified offline against its JWKS
(ccz_attestation_token_verify; docs/services.md, "The attestation service")."""
from __future__ import annotations

import base64
import hashlib
import http.client
import json
import ssl
import time
import urllib.parse
from ctypes import byref, c_void_p
from typing import Any, Dict, Optional, Union

from . import _lib
from ._lib import BytesLike, Error, Status, check, lib

__all__ = ["verify", "Client", "report_data_for"]


def verify(token: Union[str, bytes], jwks: Union[str, bytes, dict],
           at: Optional[int] = None) -> Dict[str, Any]:
    """The claims of a token that verifies against the JWKS (the service's
    /.well-known/jwks.json) at `at` (unix seconds; default now, with 60 s of leeway): the
    signature with the key its kid names, exp, nbf and iat, the EAR profile, and no submodule
    "contraindicated".

    Raises:
      ccz.Error: signature_invalid, expired, not_yet_valid, not_found (no key for its kid),
        malformed / invalid_json / unsupported (not such a token), policy_rejected (a
        contraindicated submodule).
    """
    t = _lib.as_bytes(token, "token").strip()
    if b"\0" in t:  # C reads up to the NUL: the bytes after it would go unchecked
        raise Error(Status.malformed, "token: a NUL byte at offset %d" % t.index(b"\0"))
    j = json.dumps(jwks).encode() if isinstance(jwks, dict) else _lib.as_bytes(jwks, "jwks")
    out = c_void_p()
    check(lib.ccz_attestation_token_verify(byref(out), t, j, len(j),
                                           int(time.time()) if at is None else int(at)),
          "token")
    return _lib.json_take(out.value)


def report_data_for(nonce: str, runtime_data: BytesLike = b"") -> bytes:
    """The report data the service expects with a nonce: SHA-512(nonce || runtime_data)."""
    return hashlib.sha512(nonce.encode() + bytes(runtime_data)).digest()


class Client:
    """The attestation service's REST API (GET /v1/nonce, POST /v1/attest, GET
    /.well-known/jwks.json) over HTTPS.

    Args:
      url: "https://HOST:PORT".
      cacert: the PEM file the service's certificate is checked against (its data directory's
        tls-cert.pem, say); None: the system's CAs.
      timeout: seconds per request.
    """

    def __init__(self, url: str, cacert: Optional[str] = None, timeout: float = 30.0) -> None:
        u = urllib.parse.urlsplit(url)
        if u.scheme != "https" or not u.hostname:
            raise Error(Status.invalid_argument, "url: https://HOST:PORT, not %r" % url)
        self.host, self.port = u.hostname, u.port or 443
        self.timeout = timeout
        self._ssl = ssl.create_default_context(cafile=cacert)

    def _request(self, method: str, path: str, body: Optional[dict] = None) -> Dict[str, Any]:
        conn = http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout,
                                           context=self._ssl)
        try:
            data = json.dumps(body).encode() if body is not None else None
            headers = {"Content-Type": "application/json"} if data is not None else {}
            conn.request(method, path, body=data, headers=headers)
            r = conn.getresponse()
            doc = json.loads(r.read() or b"{}")
        except (OSError, ValueError) as e:
            raise Error(Status.network_error, "%s %s: %s" % (method, path, e)) from e
        finally:
            conn.close()
        if r.status >= 400:
            err = doc.get("error") or {}
            code = Status.__members__.get(str(err.get("reason") or err.get("code") or ""))
            if code is None:  # nonce_invalid, unauthorized, ...: a refusal; else not the API
                code = {401: Status.policy_rejected, 403: Status.policy_rejected,
                        404: Status.not_found}.get(r.status, Status.protocol_error)
            raise Error(code, "%s %s answered %d: %s" % (method, path, r.status,
                                                         err.get("message", doc)))
        return doc

    def nonce(self) -> str:
        """A single-use nonce for the next attestation."""
        return self._request("GET", "/v1/nonce")["nonce"]

    def jwks(self) -> Dict[str, Any]:
        """The service's signing keys."""
        return self._request("GET", "/.well-known/jwks.json")

    def attest(self, evidence: BytesLike, nonce: Optional[str] = None,
               runtime_data: Optional[BytesLike] = None, collateral: Optional[dict] = None,
               policy: Optional[str] = None) -> str:
        """A token for evidence (sim, a quote, an SEV-SNP report, an RA-TLS certificate in
        DER); with a nonce or runtime_data the evidence must bind
        :func:`report_data_for` (nonce, runtime_data). Raises ccz.Error with the service's
        refusal (policy_rejected, report_data_mismatch, nonce_invalid, ...)."""
        body: Dict[str, Any] = {"evidence": base64.b64encode(bytes(evidence)).decode()}
        if nonce is not None:
            body["nonce"] = nonce
        if runtime_data is not None:
            body["runtime_data"] = base64.b64encode(bytes(runtime_data)).decode()
        if collateral is not None:
            body["collateral"] = collateral
        if policy is not None:
            body["policy"] = policy
        return self._request("POST", "/v1/attest", body)["token"]
