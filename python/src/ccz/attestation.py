# SPDX-License-Identifier: Apache-2.0
"""Attestation: attesters (ccz_attester_*), trust anchors, collateral, policies, and
:func:`verify`, which returns the document ``ccz verify --json`` prints.

Evidence is untrusted input: libccz's parsers read it. Trust anchors, collateral and policies are
what the caller decides to trust, passed in explicitly; nothing is looked up in the environment
except the default sim platform, exactly as the ``ccz`` command does.
"""
from __future__ import annotations

import ctypes
import json
import json.decoder
import marshal
import os
import threading
import time
from ctypes import byref, c_void_p
from typing import Any, Dict, Iterable, Optional, Tuple, Union

from . import _lib
from ._lib import BytesLike, Error, Status, check, lib

PathLike = Union[str, "os.PathLike[str]"]


class _Handle:
    """An owned libccz object, freed once (close(), a with block, or collection)."""

    _free = None  # the ccz_*_free function's name

    def __init__(self, ptr: int) -> None:
        self._ptr = ptr

    @property
    def ptr(self) -> int:
        if not self._ptr:
            raise ValueError("%s is closed" % type(self).__name__)
        return self._ptr

    def close(self) -> None:
        p, self._ptr = getattr(self, "_ptr", None), None
        if p and self._free:
            getattr(lib, self._free)(p)

    def __del__(self) -> None:
        self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# ---- the simulated TEE -----------------------------------------------------------------------


def sim_init(directory: PathLike, force: bool = False) -> None:
    """Creates a SIMULATED TEE platform in directory (root.crt/root.key, ak.crt/ak.key,
    signer.key), like ``ccz sim init --dir``. Error already_exists when one is there, unless
    force."""
    check(lib.ccz_sim_platform_init(_lib.cstr(directory), force), "sim platform")


def sim_default_dir() -> str:
    """The default sim platform directory: $CCZ_SIM_DIR, else $XDG_DATA_HOME/ccz/sim, else
    ~/.local/share/ccz/sim."""
    with _lib.Buf() as b:
        check(lib.ccz_sim_default_dir(byref(b)))
        return b.text()


def sim_measure(path: PathLike) -> bytes:
    """The measurement (mr_enclave) a program file has under sim: SHA-256 of its bytes."""
    out = ctypes.create_string_buffer(32)
    check(lib.ccz_sim_measure_file(out, _lib.cstr(path)), str(path))
    return out.raw


def sim_signer(key_path: PathLike) -> bytes:
    """The signer value (mr_signer) of a PEM key: SHA-256 of its SubjectPublicKeyInfo."""
    out = ctypes.create_string_buffer(32)
    check(lib.ccz_sim_signer_of_key_file(out, _lib.cstr(key_path)), str(key_path))
    return out.raw


# ---- attesters ---------------------------------------------------------------------------------


class Attester(_Handle):
    """Produces evidence binding 64 bytes of report data (ccz_attester_new).

    Args:
      tee: "sim", "sgx" (Gramine's /dev/attestation), "tdx" or "snp" (configfs-tsm).
      sim_dir: sim: the platform directory (None: the default one, :func:`sim_default_dir`).
      signer_key: sim: a PEM key whose public key is the signer (None: the platform's).
      measurement: sim: 32 bytes replacing SHA-256 of this process's executable.
      product_id, svn, debug, timestamp: sim: the claims (timestamp 0: now).
      device_root: sgx/tdx/snp: the root under which device paths are looked up (tests replay
        recorded evidence from a directory).
      tsm_entry: configfs-tsm: the report entry to use (None: a fresh one per attestation).
    """

    _free = "ccz_attester_free"

    def __init__(self, tee: str = "sim", *, sim_dir: Optional[PathLike] = None,
                 signer_key: Optional[PathLike] = None, measurement: Optional[BytesLike] = None,
                 product_id: int = 0, svn: int = 0, debug: bool = False, timestamp: int = 0,
                 device_root: Optional[PathLike] = None, tsm_entry: Optional[str] = None) -> None:
        super().__init__(None)
        o = _lib.AttesterOpts()
        o.version = _lib.ATTESTER_OPTS_VERSION
        o.tee = _lib.tee_code(tee)
        if sim_dir is None and o.tee == _lib.tee_code("sim"):
            sim_dir = sim_default_dir()
        keep = [_lib.cstr(sim_dir), _lib.cstr(signer_key), _lib.cstr(device_root),
                _lib.cstr(tsm_entry)]
        o.sim.dir, o.sim.signer_key, o.device_root, o.tsm_entry = keep
        if measurement is not None:
            m = _lib.as_bytes(measurement, "measurement")
            if len(m) != 32:
                raise Error(Status.invalid_argument, "measurement: %d bytes, not 32" % len(m))
            keep.append(m)
            o.sim.measurement = ctypes.cast(ctypes.c_char_p(m), c_void_p)
        o.sim.product_id, o.sim.svn, o.sim.debug, o.sim.timestamp = (product_id, svn, debug,
                                                                     timestamp)
        out = c_void_p()
        check(lib.ccz_attester_new(byref(out), byref(o)), "attester")
        self._ptr = out.value

    @property
    def tee(self) -> str:
        """The TEE this attester's evidence is of ("sim", "sgx", "tdx", "snp")."""
        return _lib.tee_name(lib.ccz_attester_tee(self.ptr))

    def attest(self, report_data: BytesLike = b"") -> bytes:
        """Evidence binding report_data (up to 64 bytes, zero-padded)."""
        rd = _lib.report_data64(report_data)
        with _lib.Buf() as ev:
            check(lib.ccz_attest(byref(ev), self.ptr, rd), "attest")
            return ev.bytes()

    def attest_with_certs(self, report_data: BytesLike = b"") -> Tuple[bytes, str]:
        """Evidence and the PEM certificates the TEE hands out with it (SEV-SNP: the VCEK or
        VLEK, then the ASK and ARK the host provides; "" when none)."""
        rd = _lib.report_data64(report_data)
        with _lib.Buf() as ev, _lib.Buf() as certs:
            check(lib.ccz_attest_with_certs(byref(ev), byref(certs), self.ptr, rd), "attest")
            return ev.bytes(), certs.text()

    def seal_key(self, policy: str = "mrenclave") -> bytes:
        """The TEE's 32-byte sealing key bound to the enclave's measurement ("mrenclave") or its
        signer ("mrsigner"). Secret: do not log it. Error unsupported on TDX and SEV-SNP."""
        code = {"mrenclave": 0, "mrsigner": 1}.get(policy)
        if code is None:
            raise ValueError("policy is 'mrenclave' or 'mrsigner', not %r" % (policy,))
        key = ctypes.create_string_buffer(32)
        check(lib.ccz_attester_seal_key(self.ptr, code, key), "seal key")
        try:
            return key.raw
        finally:
            ctypes.memset(key, 0, 32)


def attest(report_data: BytesLike = b"", tee: str = "sim", **options: Any) -> bytes:
    """Evidence binding report_data (up to 64 bytes, zero-padded), from a new
    :class:`Attester` (options as its arguments)."""
    with Attester(tee, **options) as a:
        return a.attest(report_data)


def detect(evidence: BytesLike) -> Optional[str]:
    """The TEE whose format evidence has ("sim", "sgx", "tdx", "snp"), or None; looks only at the
    framing, verifies nothing."""
    b = _lib.as_bytes(evidence, "evidence")
    t = lib.ccz_evidence_detect(_lib.span(b))
    return _lib.tee_name(t) if t else None


# ---- what a verifier trusts ------------------------------------------------------------------


def _cert_bytes(item: Union[BytesLike, PathLike], what: str) -> bytes:
    """A certificate given as its bytes, or as a file path."""
    if isinstance(item, (bytes, bytearray, memoryview)):
        return bytes(item)
    with open(item, "rb") as f:
        return f.read()


class Trust(_Handle):
    """Trust anchors (ccz_trust), as ``ccz verify`` takes them.

    Args:
      root_ca: an Intel root CA (PEM or DER bytes) to trust instead of the built-in roots (the
        Intel SGX Root CA and AMD's ARKs); with it, only this root is trusted.
      sim_roots: sim platform roots to trust (certificate bytes, or file paths).
      sim_dir: without sim_roots: trust this sim platform's root.crt (it must exist); without
        either, the default sim platform's root when there is one.
    """

    _free = "ccz_trust_free"

    def __init__(self, root_ca: Optional[BytesLike] = None,
                 sim_roots: Iterable[Union[BytesLike, PathLike]] = (),
                 sim_dir: Optional[PathLike] = None) -> None:
        super().__init__(None)
        out = c_void_p()
        check(lib.ccz_trust_new(byref(out)))
        self._ptr = out.value
        if root_ca is not None:
            b = _lib.as_bytes(root_ca, "root_ca")
            check(lib.ccz_trust_add_intel_root(self._ptr, _lib.span(b)), "root_ca")
        else:
            check(lib.ccz_trust_add_builtin(self._ptr), "built-in roots")
        roots = list(sim_roots or ())
        for i, r in enumerate(roots):
            b = _cert_bytes(r, "sim root")
            check(lib.ccz_trust_add_sim_root(self._ptr, _lib.span(b)), "sim_roots[%d]" % i)
        if roots:
            return
        if sim_dir is not None:
            path = os.path.join(os.fspath(sim_dir), "root.crt")
            if not os.path.exists(path):
                raise Error(Status.not_found, "sim_dir %s: no root.crt (make a platform with "
                            "ccz.sim_init)" % os.fspath(sim_dir))
        else:
            path = os.path.join(sim_default_dir(), "root.crt")
            if not os.path.exists(path):
                return
        check(lib.ccz_trust_add_sim_root(self._ptr, _lib.span(_cert_bytes(path, "sim root"))),
              "sim root %s" % path)


class Collateral(_Handle):
    """Collateral for hardware evidence: Intel's for SGX/TDX quotes (dcap-qvl QuoteCollateralV3
    JSON, as ``ccz collateral fetch`` writes it), or an SEV-SNP report's VCEK/VLEK (DER or PEM)
    with an optional ASK/ARK chain (PEM; default: AMD's built-in chains)."""

    _free = "ccz_collateral_free"

    def __init__(self, intel: Optional[Union[BytesLike, str, dict]] = None, *,
                 vek: Optional[BytesLike] = None, cert_chain: Optional[BytesLike] = None) -> None:
        super().__init__(None)
        out = c_void_p()
        if (intel is None) == (vek is None):
            raise Error(Status.invalid_argument,
                        "collateral: Intel collateral (SGX/TDX) or a VEK (SEV-SNP), one of them")
        if cert_chain is not None and vek is None:
            raise Error(Status.invalid_argument, "cert_chain goes with vek")
        if intel is not None:
            text = json.dumps(intel).encode() if isinstance(intel, dict) else _lib.as_bytes(
                intel, "collateral")
            check(lib.ccz_collateral_parse(byref(out), text, len(text)), "collateral")
        else:
            v = _lib.as_bytes(vek, "vek")
            c = _lib.as_bytes(cert_chain, "cert_chain") if cert_chain is not None else b""
            check(lib.ccz_snp_collateral_new(byref(out), _lib.span(v), _lib.span(c)), "vek")
        self._ptr = out.value


class Policy(_Handle):
    """An appraisal policy: ccz's policy document or CCZoo's dynamic_config.json (a dict, or
    JSON text). ``Policy()`` is the default policy: real TEEs only, TCB UpToDate, no debug, no
    sim."""

    _free = "ccz_policy_free"

    def __init__(self, document: Optional[Union[dict, str, BytesLike]] = None) -> None:
        super().__init__(None)
        out = c_void_p()
        if document is None:
            check(lib.ccz_policy_default(byref(out)), "policy")
        else:
            text = (json.dumps(document).encode() if isinstance(document, dict) else
                    _lib.as_bytes(document, "policy"))
            check(lib.ccz_policy_parse(byref(out), text, len(text)), "policy")
        self._ptr = out.value

    def to_dict(self) -> Dict[str, Any]:
        """The policy in ccz's own form, every default written out."""
        j = lib.ccz_policy_to_json(self.ptr)
        if not j:
            raise Error(Status.out_of_memory)
        return _lib.json_take(j)


def _policy(policy: Union[None, Policy, dict, str, BytesLike]) -> Tuple[Optional[Policy], bool]:
    """(a Policy or None for the default, whether it was made here)"""
    if policy is None or isinstance(policy, Policy):
        return policy, False
    return Policy(policy), True


# ---- verification ---------------------------------------------------------------------------


_SPACE = b" \t\n\r\v\f"
_HEX_OR_SPACE = b"0123456789abcdefABCDEF" + _SPACE


def _unhex(b: bytes) -> bytes:
    """Evidence given as hex text (as several public samples are) decoded; anything else as is,
    as ``ccz verify`` reads files."""
    if not b or b[0] not in _HEX_OR_SPACE or b.translate(None, _HEX_OR_SPACE):
        return b  # a byte that is neither hex nor space: binary (the usual case)
    stripped = b.translate(None, _SPACE)
    if not stripped:
        return b
    try:
        return bytes.fromhex(stripped.decode())
    except ValueError as e:
        raise Error(Status.invalid_encoding, "evidence: hex text of odd length") from e


def _hint(doc: Dict[str, Any], tee: Optional[str]) -> Optional[str]:
    """What a caller can do about a failure, as the command's hints say it, in this API's
    terms."""
    e = doc.get("error") or {}
    code, step = e.get("code"), e.get("step")
    if code == "chain_invalid" and step == "platform_certificate" and tee == "sim":
        return ("name the sim platform that made the evidence: sim_dir=DIR (its root.crt) or "
                "sim_roots=[CERT]; without them the default sim platform's root is trusted")
    if code == "collateral_out_of_date" or (
            code == "expired" and step not in ("platform_certificate", "certificate")):
        return ("the collateral has expired at this instant: fetch it again (ccz collateral "
                "fetch) or verify at an instant it covers with at=UNIX")
    if code in ("expired", "not_yet_valid"):
        return "a certificate is outside its validity at this instant: check at= and the clock"
    return None


# The verdict comes in Python's marshal format (ccz_verdict_marshal_to: the document of
# ccz_verdict_json, length-prefixed, written into this thread's memory), which marshal.loads turns
# into the dict at a third of the cost of scanning its JSON text; a libccz without it sends the
# JSON text.
_marshal_to = getattr(lib, "ccz_verdict_marshal_to", None)
_load_marshal = marshal.loads
_TOO_LARGE = int(Status.too_large)

# The verdict's JSON parsed by json's C scanner directly: json.loads(bytes) also detects the
# encoding, decodes and matches trailing whitespace, about a third of the parse for a verdict of
# 1.5 KB; the C library writes compact UTF-8 JSON with nothing after it.
_scan_json = json.decoder.JSONDecoder().scan_once


def _parse_verdict(text: bytes) -> Dict[str, Any]:
    s = text.decode("utf-8")
    try:
        doc, end = _scan_json(s, 0)
    except StopIteration:
        end = -1
    return doc if end == len(s) else json.loads(s)  # json.loads raises the usual error


class _VerdictBuf:
    """A thread's memory for verdicts, kept between calls: the bytes ccz_verdict_marshal_to
    writes (marshal.loads reads the document at their start and ignores what follows), its
    length, and the options structure, whose fields are set per call (a libccz without
    ccz_verdict_marshal_to: a ccz_buf that ccz_verdict_json appends to, freed with the thread's
    state)."""

    __slots__ = ("mem", "cmem", "cap", "n", "nref", "opts", "optsref", "buf", "busy")

    def __init__(self, cap: int = 16384) -> None:
        self.busy = False
        self.opts = _lib.VerifyOpts()
        self.opts.version = _lib.VERIFY_OPTS_VERSION
        self.optsref = byref(self.opts)
        self.n = ctypes.c_size_t()
        self.nref = byref(self.n)
        self.buf = None if _marshal_to else _lib.Buf()
        self.grow(cap)

    def grow(self, cap: int) -> None:
        self.mem = bytearray(cap)
        self.cmem = (ctypes.c_char * cap).from_buffer(self.mem)
        self.cap = cap

    def verdict(self, ev: bytes, pol: Optional[int]) -> Dict[str, Any]:
        if _marshal_to is None:
            out = self.buf
            out.len = 0  # appended to: empty it, keep its memory
            check(lib.ccz_verdict_json(byref(out), None, _lib.span(ev), self.optsref, pol),
                  "verify")
            return _parse_verdict(ctypes.string_at(out.ptr, out.len))
        s = _marshal_to(self.cmem, self.cap, self.nref, ev, len(ev), self.optsref, pol)
        if s == _TOO_LARGE and self.n.value >= self.cap:  # a long document: room for it
            self.grow(self.n.value + 1)
            s = _marshal_to(self.cmem, self.cap, self.nref, ev, len(ev), self.optsref, pol)
        check(s, "verify")
        return _load_marshal(self.mem)

    def __del__(self) -> None:
        if self.buf is not None and _lib is not None and _lib.lib is not None:
            self.buf.free()


_tls = threading.local()


def verify(evidence: BytesLike, collateral: Optional[Union[BytesLike, str, dict, Collateral]] = None,
           root_ca: Optional[BytesLike] = None, at: Optional[int] = None,
           policy: Union[None, Policy, dict, str, BytesLike] = None,
           report_data: Optional[BytesLike] = None, *, vek: Optional[BytesLike] = None,
           cert_chain: Optional[BytesLike] = None,
           sim_roots: Iterable[Union[BytesLike, PathLike]] = (),
           sim_dir: Optional[PathLike] = None, trust: Optional[Trust] = None) -> Dict[str, Any]:
    """Verifies evidence and appraises its claims, as ``ccz verify --json`` does.

    Args:
      evidence: sim evidence, an SGX/TDX quote, an SEV-SNP report (binary, or hex text), or an
        RA-TLS certificate (PEM or DER; its evidence must be bound to its key).
      collateral: Intel collateral for SGX/TDX quotes (QuoteCollateralV3 JSON: bytes, str or
        dict), or a :class:`Collateral`.
      root_ca: an Intel root CA (PEM or DER) to trust instead of the built-in roots.
      at: the instant of verification, unix seconds (default: now).
      policy: a :class:`Policy`, or a policy document (dict or JSON text); None: the default
        policy (real TEEs only, TCB UpToDate, no debug, no sim).
      report_data: the expected report data (up to 64 bytes, zero-padded); not used for a
        certificate, whose key decides it.
      vek, cert_chain: an SEV-SNP report's VCEK/VLEK (DER or PEM) and its ASK/ARK chain (PEM).
      sim_roots, sim_dir: sim platforms to trust (see :class:`Trust`).
      trust: trust anchors made beforehand, instead of root_ca, sim_roots and sim_dir.

    Returns:
      The verdict document, with the keys ``ccz verify --json`` prints: ``ok`` (verified and
      accepted), ``verified``, ``tee``, ``simulated`` (and ``warning``), ``tcb_status``,
      ``advisories``, ``claims``, ``policy`` {accepted, reasons}, ``ratls`` {format} for a
      certificate, and ``error`` {code, step, message, and a ``hint`` where there is one} when
      the evidence did not verify. Evidence that cannot be read at all (not evidence, cut short)
      is such a verdict too: not verified, at step detect or parse.

    Raises:
      ccz.Error: only for unusable arguments: collateral, a root CA, a VEK or a policy that
        cannot be parsed, report data longer than 64 bytes, a sim_dir without a platform.
      TypeError: for arguments of the wrong type.
    """
    ev = _unhex(_lib.as_bytes(evidence, "evidence"))
    rd = _lib.report_data64(report_data)
    if trust is not None and (root_ca is not None or sim_roots or sim_dir is not None):
        raise Error(Status.invalid_argument, "trust replaces root_ca, sim_roots and sim_dir")
    if isinstance(collateral, Collateral) and (vek is not None or cert_chain is not None):
        raise Error(Status.invalid_argument, "a Collateral object replaces vek and cert_chain")
    if collateral is not None and vek is not None:
        raise Error(Status.invalid_argument,
                    "vek (SEV-SNP) and collateral (SGX/TDX) exclude each other")
    own = []
    try:
        if trust is None:
            trust = Trust(root_ca, sim_roots, sim_dir)
            own.append(trust)
        col = collateral
        if collateral is not None and not isinstance(collateral, Collateral):
            col = Collateral(collateral)
            own.append(col)
        elif vek is not None:
            col = Collateral(vek=vek, cert_chain=cert_chain)
            own.append(col)
        elif cert_chain is not None:
            raise Error(Status.invalid_argument, "cert_chain goes with vek")
        pol, made = _policy(policy)
        if made:
            own.append(pol)
        vb = getattr(_tls, "verdict", None)
        if vb is None:
            vb = _tls.verdict = _VerdictBuf()
        if vb.busy:  # re-entered (a finalizer run by the collector): memory of its own
            vb = _VerdictBuf(1024)
        vb.busy = True
        try:
            o = vb.opts
            o.at_unix = int(time.time()) if at is None else int(at)
            o.trust = trust.ptr
            o.collateral = col.ptr if col is not None else None
            o.expected_report_data = ctypes.cast(ctypes.c_char_p(rd), c_void_p) if rd else None
            doc = vb.verdict(ev, pol.ptr if pol is not None else None)
        finally:
            vb.busy = False
    finally:
        for h in own:
            h.close()
    if "error" in doc:
        hint = _hint(doc, detect(ev))
        if hint:
            doc["error"]["hint"] = hint
    return doc
