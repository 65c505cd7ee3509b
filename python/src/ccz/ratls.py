# SPDX-License-Identifier: Apache-2.0
"""RA-TLS from Python: certificates that carry TEE evidence bound to their key, their
verification, and attested TLS connections (docs/ratls.md).

Two ways to talk TLS to an attested peer:

- :class:`Context` — libccz's own TLS 1.3 context (``ccz_ratls_ctx_new``), which verifies the
  peer's certificate *inside* the handshake, both ways (``mode`` "two-way", "server" or
  "client"); :meth:`Context.connect` and :meth:`Context.accept` give a :class:`Connection`
  (send/recv). Use it where the peer must be attested before the handshake completes, and for a
  server that attests its clients.
- :func:`client_context` — an ordinary :class:`ssl.SSLContext` for code that wants Python's
  sockets (``http.client``, ``asyncio`` streams, ``urllib``): Python's ``ssl`` module cannot run
  a verifier inside the handshake, so it verifies-then-pins: the handshake completes, then —
  before ``do_handshake()`` returns, so before any application byte is sent or read — the
  certificate the handshake authenticated (TLS 1.3: the server proved it holds its key) is
  verified and appraised by libccz; a refused peer closes the connection and raises
  :class:`AttestationError` (an ``ssl.SSLCertVerificationError``). :func:`server_context`
  presents an RA-TLS certificate to any TLS client.
"""
from __future__ import annotations

import base64
import ctypes
import os
import re
import socket
import ssl
import tempfile
from ctypes import byref, c_char_p, c_void_p
from typing import Any, Dict, Iterable, Optional, Tuple, Union

from . import _lib
from ._lib import BytesLike, Error, Status, check, lib
from .attestation import Attester, Collateral, Policy, Trust, _policy, verify

__all__ = ["create_certificate", "verify_certificate", "AttestationError", "client_context",
           "server_context", "Context", "Connection"]

_KEYS = {"p256": 0, "p384": 1}
_MODES = {"two-way": 0, "server": 1, "client": 2}


def _cert_opts(key: str = "p256", not_before: int = 0, not_after: int = 0,
               subject_cn: Optional[str] = None, gramine_legacy: bool = False,
               nonce: BytesLike = b"") -> Tuple[_lib.RatlsCertOpts, list]:
    if key not in _KEYS:
        raise ValueError("key is 'p256' or 'p384', not %r" % (key,))
    o = _lib.RatlsCertOpts()
    o.version = _lib.RATLS_CERT_OPTS_VERSION
    o.key = _KEYS[key]
    o.not_before, o.not_after = not_before, not_after
    keep = [_lib.cstr(subject_cn), _lib.as_bytes(nonce, "nonce")]
    o.subject_cn = keep[0]
    o.gramine_legacy = gramine_legacy
    o.nonce = _lib.span(keep[1])
    return o, keep


def create_certificate(attester: Attester, *, key: str = "p256", not_before: int = 0,
                       not_after: int = 0, subject_cn: Optional[str] = None,
                       gramine_legacy: bool = False, nonce: BytesLike = b"") -> Tuple[str, str]:
    """A fresh key and a self-signed RA-TLS certificate whose evidence (from attester) is bound
    to it (ccz_ratls_cert_create).

    Args:
      key: "p256" (default) or "p384".
      not_before, not_after: validity in unix seconds (0: an hour ago, a year ahead).
      subject_cn: the subject's common name (default "ccz RA-TLS").
      gramine_legacy: also write Gramine's legacy extension (SGX quotes only).
      nonce: an optional "nonce" claim.

    Returns:
      (certificate PEM, private key PEM). The key is secret.
    """
    o, keep = _cert_opts(key, not_before, not_after, subject_cn, gramine_legacy, nonce)
    x, k = c_void_p(), c_void_p()
    check(lib.ccz_ratls_cert_create(byref(x), byref(k), attester.ptr, byref(o)), "certificate")
    try:
        cert = _lib.pem(_lib.der_of(lib.i2d_X509, x.value, "certificate"), "CERTIFICATE")
        kder = _lib.der_of(lib.i2d_PrivateKey, k.value, "key")
        return cert, _lib.pem(kder, "EC PRIVATE KEY")
    finally:
        lib.X509_free(x.value)
        lib.EVP_PKEY_free(k.value)


def verify_certificate(cert: Union[BytesLike, str], **options: Any) -> Dict[str, Any]:
    """Verifies an RA-TLS certificate (PEM or DER) and appraises its claims: its validity and
    self-signature, the extension, the binding of the evidence to its key, the evidence, the
    policy. Options and the result are :func:`ccz.verify`'s (the result has ``ratls``
    {format})."""
    return verify(_lib.as_bytes(cert, "certificate"), **options)


def _der(cert: Union[BytesLike, str]) -> bytes:
    b = _lib.as_bytes(cert, "certificate")
    m = re.search(rb"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", b, re.S)
    return base64.b64decode(b"".join(m.group(1).split())) if m else b


# ---- Python's ssl: verify, then pin --------------------------------------------------------


class AttestationError(Error, ssl.SSLCertVerificationError):
    """The peer's RA-TLS certificate was refused. ``.verdict`` is the verification document
    (:func:`ccz.verify`'s); ``.status`` / ``.name`` its error, or policy_rejected."""

    verdict: Dict[str, Any]

    def __init__(self, status: int, detail: Optional[str] = None,
                 verdict: Optional[Dict[str, Any]] = None) -> None:
        Error.__init__(self, status, detail)
        self.verdict = verdict or {}
        self.verify_message = self.detail
        self.verify_code = 0

    def __str__(self) -> str:
        return "%s: %s" % (self.name, self.detail)


def _refusal(doc: Dict[str, Any]) -> AttestationError:
    if doc.get("error"):
        e = doc["error"]
        code = getattr(Status, e["code"], Status.chain_invalid)
        return AttestationError(code, "peer not attested: %s at %s: %s" % (
            e["code"], e["step"], e["message"]), doc)
    reasons = (doc.get("policy") or {}).get("reasons") or []
    why = "; ".join("%s: %s" % (r["code"], r["message"]) for r in reasons) or "rejected"
    return AttestationError(Status.policy_rejected, "peer rejected by the policy: " + why, doc)


class _AttestedSocket(ssl.SSLSocket):
    """An SSLSocket that verifies the peer's RA-TLS certificate when its handshake completes."""

    def do_handshake(self, block: bool = False) -> None:
        super().do_handshake(block)
        ctx = self.context
        if isinstance(ctx, _AttestingContext) and ctx._ccz_verify_peer:
            doc = ctx._ccz_check(self.getpeercert(binary_form=True))
            self.ccz_verdict = doc
            if not doc["ok"]:
                err = _refusal(doc)
                self.close()
                raise err


class _AttestedObject(ssl.SSLObject):
    """The same for ssl.MemoryBIO users (asyncio)."""

    def do_handshake(self) -> None:
        super().do_handshake()
        ctx = self.context
        if isinstance(ctx, _AttestingContext) and ctx._ccz_verify_peer:
            doc = ctx._ccz_check(self.getpeercert(binary_form=True))
            self.ccz_verdict = doc
            if not doc["ok"]:
                raise _refusal(doc)


class _AttestingContext(ssl.SSLContext):
    sslsocket_class = _AttestedSocket
    sslobject_class = _AttestedObject
    _ccz_verify_peer = False

    def _ccz_check(self, der: Optional[bytes]) -> Dict[str, Any]:
        if not der:
            return {"ok": False, "verified": False, "error": {
                "code": "certificate_malformed", "step": "certificate",
                "message": "the peer sent no certificate"}}
        return verify(der, policy=self._ccz_policy, trust=self._ccz_trust,
                      collateral=self._ccz_collateral)


def _load_chain(ctx: ssl.SSLContext, cert_pem: str, key_pem: str) -> None:
    """load_cert_chain from PEM text (Python's ssl reads only files: a private temporary
    directory, removed at once)."""
    with tempfile.TemporaryDirectory(prefix="ccz-ratls-") as d:
        os.chmod(d, 0o700)
        cp, kp = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
        with open(cp, "w") as f:
            f.write(cert_pem)
        fd = os.open(kp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(key_pem)
        ctx.load_cert_chain(cp, kp)


def _credentials(attester: Optional[Attester], cert: Optional[str], key: Optional[str]
                 ) -> Optional[Tuple[str, str]]:
    if (cert is None) != (key is None):
        raise Error(Status.invalid_argument, "cert and key go together")
    if cert is not None:
        return cert, key
    if attester is not None:
        return create_certificate(attester)
    return None


def client_context(*, policy: Union[None, Policy, dict, str, bytes] = None,
                   trust: Optional[Trust] = None, collateral: Optional[Collateral] = None,
                   root_ca: Optional[BytesLike] = None, sim_roots: Iterable = (),
                   sim_dir: Optional[str] = None, attester: Optional[Attester] = None,
                   cert: Optional[str] = None, key: Optional[str] = None) -> ssl.SSLContext:
    """An ssl.SSLContext (TLS 1.3) whose connections attest the server before any application
    byte: the server's RA-TLS certificate is verified with the trust anchors (trust, or
    root_ca / sim_roots / sim_dir as :class:`ccz.Trust`) and collateral, and appraised with the
    policy (None: the default policy), when the handshake completes; a refused server raises
    :class:`AttestationError` and the socket is closed. The verdict is the socket's
    ``ccz_verdict``.

    With attester (a fresh RA-TLS certificate) or cert and key (PEM), the client presents its
    own certificate, for servers that attest their clients (:class:`Context` in "two-way" or
    "client" mode).

    The context does not check host names (the evidence, not a CA, vouches for the server);
    don't turn check_hostname or CERT_REQUIRED on: a self-signed RA-TLS certificate fails them.
    """
    ctx = _AttestingContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx._ccz_verify_peer = True
    if trust is None:
        trust = Trust(root_ca, sim_roots, sim_dir)
    ctx._ccz_trust = trust
    ctx._ccz_collateral = collateral
    ctx._ccz_policy = _policy(policy)[0]
    creds = _credentials(attester, cert, key)
    if creds:
        _load_chain(ctx, *creds)
    return ctx


def server_context(*, attester: Optional[Attester] = None, cert: Optional[str] = None,
                   key: Optional[str] = None) -> ssl.SSLContext:
    """An ssl.SSLContext (TLS 1.3) for a server that presents an RA-TLS certificate: a fresh one
    from attester, or the given cert and key (PEM). It does not attest its clients: Python's
    ssl cannot accept a client certificate that no CA issued; a server that must attest its
    clients uses :class:`Context` (mode "two-way" or "client")."""
    creds = _credentials(attester, cert, key)
    if not creds:
        raise Error(Status.invalid_argument, "a server needs an attester, or cert and key")
    ctx = _AttestingContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    _load_chain(ctx, *creds)
    return ctx


# ---- libccz's contexts: verification in the handshake ----------------------------------------


def _pkey_from_pem(key_pem: str) -> int:
    m = re.search(r"-----BEGIN ([A-Z ]*)PRIVATE KEY-----(.*?)-----END", key_pem, re.S)
    if not m:
        raise Error(Status.key_malformed, "key: not a PEM private key")
    der = base64.b64decode("".join(m.group(2).split()))
    fn = lib.d2i_AutoPrivateKey
    fn.restype, fn.argtypes = c_void_p, [c_void_p, ctypes.POINTER(c_void_p), ctypes.c_long]
    p = c_void_p(ctypes.cast(c_char_p(der), c_void_p).value)
    k = fn(None, byref(p), len(der))
    if not k:
        raise Error(Status.key_malformed, "key: cannot be parsed")
    return k


class Context:
    """A libccz RA-TLS context (ccz_ratls_ctx_new): TLS 1.3 with the peer's certificate verified
    and appraised inside the handshake.

    Args:
      server: the role of this side.
      mode: "two-way" (both attest; the default), "server" (only the server attests) or
        "client" (only the client attests).
      attester: makes this side's certificate (when it presents one), or cert and key (PEM).
      policy, trust (or root_ca, sim_roots, sim_dir), collateral: how the peer is verified.
      cache_size: verified peer certificates remembered (0: 256).
    """

    def __init__(self, server: bool = False, mode: str = "two-way", *,
                 attester: Optional[Attester] = None, cert: Optional[str] = None,
                 key: Optional[str] = None,
                 policy: Union[None, Policy, dict, str, bytes] = None,
                 trust: Optional[Trust] = None, collateral: Optional[Collateral] = None,
                 root_ca: Optional[BytesLike] = None, sim_roots: Iterable = (),
                 sim_dir: Optional[str] = None, cache_size: int = 0) -> None:
        self._ptr = None
        if mode not in _MODES:
            raise ValueError("mode is one of %s, not %r" % (", ".join(_MODES), mode))
        if (cert is None) != (key is None):
            raise Error(Status.invalid_argument, "cert and key go together")
        # borrowed by the C context: kept alive here
        self._trust = trust if trust is not None else Trust(root_ca, sim_roots, sim_dir)
        self._policy = _policy(policy)[0]
        self._collateral = collateral
        self._attester = attester
        o = _lib.RatlsOpts()
        o.version = _lib.RATLS_OPTS_VERSION
        o.server = server
        o.mode = _MODES[mode]
        co, self._keep = _cert_opts()
        o.cert_opts = co
        x = k = None
        try:
            if cert is not None:
                x, k = _lib.x509_from(cert), _pkey_from_pem(key)
                o.cert, o.key = x, k
            elif attester is not None:
                o.attester = attester.ptr
            o.policy = self._policy.ptr if self._policy is not None else None
            o.trust = self._trust.ptr
            o.collateral = collateral.ptr if collateral is not None else None
            o.cache_size = cache_size
            out = c_void_p()
            check(lib.ccz_ratls_ctx_new(byref(out), byref(o)), "RA-TLS context")
            self._ptr = out.value
        finally:  # the context took its own references
            if x:
                lib.X509_free(x)
            if k:
                lib.EVP_PKEY_free(k)

    @property
    def ptr(self) -> int:
        if not self._ptr:
            raise ValueError("Context is closed")
        for h in (self._trust, self._policy, self._collateral):
            if h is not None:
                h.ptr  # the C context borrows them: ValueError once one is closed
        return self._ptr

    def close(self) -> None:
        p, self._ptr = getattr(self, "_ptr", None), None
        if p:
            lib.SSL_CTX_free(p)

    def __del__(self) -> None:
        self.close()

    def __enter__(self) -> "Context":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def connect(self, address: Union[str, Tuple[str, int]], timeout: float = 10.0
                ) -> "Connection":
        """Connects to "HOST:PORT" (or (host, port)) and completes the attested handshake within
        timeout seconds (ccz_ratls_connect_timeout). Raises ccz.Error: network_error (not
        reached, or timed out), or the peer's rejection (policy_rejected, the verifier's
        status) with the reason in its detail."""
        if isinstance(address, tuple):
            host, port = address
            address = "[%s]:%d" % (host, port) if ":" in host else "%s:%d" % (host, port)
        out = c_void_p()
        check(lib.ccz_ratls_connect_timeout(byref(out), self.ptr, _lib.cstr(address),
                                            _lib.timeout_ms(timeout)), "connect %s" % address)
        return Connection(self, out.value, None)

    def accept(self, sock: socket.socket, timeout: float = 10.0) -> "Connection":
        """The attested handshake over an accepted socket (ccz_ratls_accept_timeout); the
        Connection keeps the socket and closes it with itself."""
        out = c_void_p()
        check(lib.ccz_ratls_accept_timeout(byref(out), self.ptr, sock.fileno(),
                                           _lib.timeout_ms(timeout)), "accept")
        return Connection(self, out.value, sock)


def _ssl_reason(err: int) -> str:
    """OpenSSL's reason for the last failure (its error queue, emptied), or SSL_get_error's."""
    reasons = []
    while True:
        e = lib.ERR_get_error()
        if not e:
            break
        b = ctypes.create_string_buffer(256)
        lib.ERR_error_string_n(e, b, len(b))
        reasons.append(b.value.decode("utf-8", "replace"))
    return "; ".join(reasons) or "error %d" % err


def _data(data: BytesLike) -> bytes:
    """The bytes of a bytes-like object; TypeError for anything else, as socket.send raises
    (bytes(5) would be five zero bytes, bytes(str) needs an encoding)."""
    return memoryview(data).tobytes()


# A TLS record carries at most 2^14 bytes of data (RFC 8446, 5.1), and SSL_read returns those of
# one record: a larger recv buffer would never be filled (SSL_read's size is a C int besides).
_RECORD_MAX = 16384


class Connection:
    """An attested TLS connection (an OpenSSL SSL* from libccz)."""

    def __init__(self, ctx: Context, ssl_ptr: int, sock: Optional[socket.socket]) -> None:
        self._ctx, self._ssl, self._sock = ctx, ssl_ptr, sock

    @property
    def peer_certificate(self) -> Optional[bytes]:
        """The peer's certificate (DER), or None."""
        x = lib.SSL_get1_peer_certificate(self._live())
        if not x:
            return None
        try:
            return _lib.der_of(lib.i2d_X509, x, "certificate")
        finally:
            lib.X509_free(x)

    def peer_verdict(self, **options: Any) -> Optional[Dict[str, Any]]:
        """The peer certificate's verification document (verified again with the context's
        trust, collateral and policy unless options say otherwise), or None."""
        der = self.peer_certificate
        if der is None:
            return None
        opts = dict(trust=self._ctx._trust, collateral=self._ctx._collateral,
                    policy=self._ctx._policy)
        opts.update(options)
        return verify(der, **opts)

    def _live(self) -> int:
        if not self._ssl:
            raise ValueError("the connection is closed")
        return self._ssl

    def send(self, data: BytesLike) -> int:
        """Sends data (bytes-like; blocking); returns the number of bytes sent."""
        b = _data(data)
        if not b:
            return 0
        n = lib.SSL_write(self._live(), b, len(b))
        if n <= 0:
            raise Error(Status.tls_error, "SSL_write failed (error %d)"
                        % lib.SSL_get_error(self._ssl, n))
        return n

    def sendall(self, data: BytesLike) -> None:
        b = memoryview(_data(data))
        while b:
            b = b[self.send(b):]

    def recv(self, size: int = 16384) -> bytes:
        """Up to size bytes (blocking); b"" when the peer closed the connection with TLS's
        close_notify. A connection reset, or closed without close_notify (the stream may have
        been cut short), raises ccz.Error (network_error, tls_error) rather than reading as
        the end of the data. As a socket's: recv(0) is b"", a negative size a ValueError."""
        ssl_ptr = self._live()
        if size < 0:
            raise ValueError("recv: size %d is negative" % size)
        if size == 0:
            return b""  # SSL_read of 0 bytes is an error in OpenSSL
        size = min(size, _RECORD_MAX)  # the buffer only as large as one read can fill
        buf = ctypes.create_string_buffer(size)
        ctypes.set_errno(0)
        n = lib.SSL_read(ssl_ptr, buf, size)
        if n > 0:
            return buf.raw[:n]
        errno = ctypes.get_errno()
        err = lib.SSL_get_error(self._ssl, n)
        if err == 6:  # SSL_ERROR_ZERO_RETURN: close_notify
            return b""
        if err == 5 and errno:  # SSL_ERROR_SYSCALL: the socket failed
            raise Error(Status.network_error, "the connection failed while reading: %s"
                        % os.strerror(errno))
        raise Error(Status.tls_error, "SSL_read failed: %s" % _ssl_reason(err))

    def close(self) -> None:
        s, self._ssl = getattr(self, "_ssl", None), None
        if s:
            lib.SSL_shutdown(s)
            lib.SSL_free(s)
        if getattr(self, "_sock", None) is not None:
            self._sock.close()
            self._sock = None

    def __del__(self) -> None:
        self.close()

    def __enter__(self) -> "Connection":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
