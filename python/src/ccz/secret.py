# SPDX-License-Identifier: Apache-2.0
"""Secret provisioning, wire-compatible with Gramine's (ccz_secret_get; docs/services.md,
"Secret provisioning"): a client in a TEE connects over TLS presenting its RA-TLS certificate,
and a server that attested it answers the secret its policy maps the client to."""
from __future__ import annotations

from ctypes import byref
from typing import Iterable, Optional, Union

from . import _lib
from ._lib import BytesLike, check, lib
from .attestation import Attester, Collateral, Policy, Trust
from .ratls import Context

__all__ = ["get"]

DEFAULT_SERVER = "localhost:4433"


def get(address: str = DEFAULT_SERVER, *, attester: Optional[Attester] = None,
        cert: Optional[str] = None, key: Optional[str] = None,
        policy: Union[None, Policy, dict, str, bytes] = None, trust: Optional[Trust] = None,
        collateral: Optional[Collateral] = None, root_ca: Optional[BytesLike] = None,
        sim_roots: Iterable = (), sim_dir: Optional[str] = None,
        ca_file: Optional[str] = None, max_bytes: int = 0, timeout: float = 10.0) -> bytes:
    """The secret the server at address ("HOST:PORT") releases to this client.

    The client presents an RA-TLS certificate (a fresh one from attester, or cert and key PEM).
    It verifies the server's RA-TLS certificate with trust (or root_ca / sim_roots / sim_dir)
    and collateral and appraises it with policy (None: the default policy) — or, with ca_file,
    checks an ordinary server certificate against that CA chain and the host name (Gramine's
    SECRET_PROVISION_CA_CHAIN_PATH).

    Raises:
      ccz.Error: network_error (unreachable, timed out), policy_rejected or the verifier's
        status (the server's certificate refused), unavailable (the server refused this client:
        it closed without a secret), protocol_error (a malformed answer).
    """
    mode = "client" if ca_file else "two-way"
    ctx = Context(False, mode, attester=attester, cert=cert, key=key, policy=policy,
                  trust=trust, collateral=collateral, root_ca=root_ca, sim_roots=sim_roots,
                  sim_dir=sim_dir)
    try:
        if ca_file:
            check(lib.ccz_secret_ctx_use_ca_file(ctx.ptr, _lib.cstr(ca_file)), "ca_file")
        with _lib.Buf(max=max_bytes, secret=True) as out:
            check(lib.ccz_secret_get(byref(out), ctx.ptr, _lib.cstr(address),
                                     _lib.timeout_ms(timeout)), "secret from %s" % address)
            return out.bytes()
    finally:
        ctx.close()
