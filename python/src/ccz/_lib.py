# SPDX-License-Identifier: Apache-2.0
"""libccz through ctypes: finding the library, the C structures this package passes, the
prototypes of the functions it calls, ccz.Error, and helpers for buffers and big integers.

The structures mirror include/ccz/*.h field for field; python/layout.c prints the C sizes and
the tests compare them with these (tests/test_layout.py), so a field appended in C without its
twin here fails a test instead of corrupting memory.
"""
from __future__ import annotations

import ctypes
import enum
import math
import os
from ctypes import (POINTER, Structure, c_bool, c_char_p, c_double, c_int, c_int64, c_long,
                    c_size_t, c_uint, c_uint16, c_uint64, c_void_p)
from typing import Iterable, Optional, Union

BytesLike = Union[bytes, bytearray, memoryview]

# ---- loading ------------------------------------------------------------------------------------

_NAMES = ("libccz.so.0", "libccz.so")


def _load() -> ctypes.CDLL:
    """libccz.so from $CCZ_LIBRARY_DIR when set, else wherever the dynamic linker finds it."""
    d = os.environ.get("CCZ_LIBRARY_DIR")
    tried = []
    for name in _NAMES:
        path = os.path.join(d, name) if d else name
        tried.append(path)
        if d and not os.path.exists(path):
            continue
        try:
            return ctypes.CDLL(path, use_errno=True)  # a socket's errno after SSL_read
        except OSError as e:
            tried[-1] += " (%s)" % e
    where = ("in CCZ_LIBRARY_DIR=%s" % d) if d else "on the system's library path"
    raise ImportError("ccz: cannot load libccz %s; tried %s. Build ccz and set CCZ_LIBRARY_DIR to "
                      "the directory holding libccz.so, or install it." % (where, ", ".join(tried)))


lib = _load()

# ---- structures ---------------------------------------------------------------------------------

_INTEGERS = (c_int, c_uint, c_long, c_int64, c_uint64, c_size_t, c_uint16, ctypes.c_ulong)


def _int_range(t: type):
    """The ints a C integer type t holds: (lowest, highest)."""
    bits = ctypes.sizeof(t) * 8
    return ((-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if t(-1).value < 0
            else (0, (1 << bits) - 1))


class _Struct(Structure):
    """A Structure whose integer fields refuse an int they cannot hold: ctypes would silently
    keep its low bits (an svn of -1 would be 65535, a product id of 65543 be 7)."""

    _ranges: dict = {}

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        cls._ranges = {f[0]: (f[1].__name__[2:],) + _int_range(f[1])
                       for f in cls.__dict__.get("_fields_", ()) if f[1] in _INTEGERS}

    def __setattr__(self, name: str, value) -> None:
        r = self._ranges.get(name) if isinstance(value, int) else None
        if r and not r[1] <= value <= r[2]:
            raise OverflowError("%s: %d does not fit a C %s (%d to %d)" % ((name, value) + r))
        super().__setattr__(name, value)


class Buf(_Struct):
    """ccz_buf: bytes owned by libccz, released with free()."""
    _fields_ = [("ptr", c_void_p), ("len", c_size_t), ("cap", c_size_t), ("max", c_size_t),
                ("secret", c_bool)]

    def __init__(self, max: int = 0, secret: bool = False) -> None:
        # all zero is CCZ_BUF_INIT; ccz_buf_init sets only these two (and saves a call)
        super().__init__(None, 0, 0, max, secret)

    def bytes(self) -> bytes:
        return ctypes.string_at(self.ptr, self.len) if self.len else b""

    def text(self) -> str:
        return self.bytes().decode("utf-8")

    def free(self) -> None:
        lib.ccz_buf_free(ctypes.byref(self))

    def __enter__(self) -> "Buf":
        return self

    def __exit__(self, *exc) -> None:
        self.free()


class Span(_Struct):
    """ccz_span: borrowed bytes (the span holds a reference to the bytes object it points
    into)."""
    _fields_ = [("ptr", c_char_p), ("len", c_size_t)]


class SimOpts(_Struct):
    _fields_ = [("dir", c_char_p), ("signer_key", c_char_p), ("measurement", c_void_p),
                ("product_id", c_uint16), ("svn", c_uint16), ("debug", c_bool),
                ("timestamp", c_int64)]


class AttesterOpts(_Struct):
    _fields_ = [("version", c_uint), ("tee", c_int), ("sim", SimOpts), ("device_root", c_char_p),
                ("tsm_entry", c_char_p)]


class VerifyOpts(_Struct):
    _fields_ = [("version", c_uint), ("at_unix", c_int64), ("trust", c_void_p),
                ("collateral", c_void_p), ("expected_report_data", c_void_p),
                ("eventlog", c_void_p), ("expected_init_data_hash", c_void_p)]


class TrustSources(_Struct):
    _fields_ = [("version", c_uint), ("root_ca", c_char_p), ("sim_roots", POINTER(c_char_p)),
                ("n_sim_roots", c_size_t), ("sim_dir", c_char_p), ("sim_dir_required", c_bool)]


class Mpz(Structure):
    """GMP's __mpz_struct; initialised on creation, cleared when collected."""
    _fields_ = [("alloc", c_int), ("size", c_int), ("d", c_void_p)]

    def __init__(self, value: int = 0) -> None:
        super().__init__()
        gmp.init(ctypes.byref(self))
        self._live = True
        if value:
            self.set(value)

    def set(self, value: int) -> "Mpz":
        mag = -value if value < 0 else value
        raw = mag.to_bytes((mag.bit_length() + 7) // 8 or 1, "big")
        gmp.import_(ctypes.byref(self), len(raw), 1, 1, 1, 0, raw)
        if value < 0:
            gmp.neg(ctypes.byref(self), ctypes.byref(self))
        return self

    def get(self) -> int:
        return mpz_to_int(self)

    def __del__(self) -> None:
        if getattr(self, "_live", False):
            self._live = False
            gmp.clear(ctypes.byref(self))


def mpz_to_int(z: Mpz) -> int:
    """An mpz's value (z may live inside another structure)."""
    if z.size == 0:
        return 0
    nbytes = (gmp.sizeinbase(ctypes.byref(z), 2) + 7) // 8
    out = ctypes.create_string_buffer(nbytes)
    count = c_size_t(0)
    gmp.export(out, ctypes.byref(count), 1, 1, 1, 0, ctypes.byref(z))
    v = int.from_bytes(out.raw[:count.value], "big")
    return -v if z.size < 0 else v


class PaillierNumber(_Struct):
    """ccz_paillier_number: a ciphertext and its exponent."""
    _fields_ = [("c", Mpz), ("exponent", c_int)]

    def __init__(self) -> None:
        super().__init__()
        lib.ccz_paillier_number_init(ctypes.byref(self))
        self._live = True

    def __del__(self) -> None:
        if getattr(self, "_live", False):
            self._live = False
            lib.ccz_paillier_number_clear(ctypes.byref(self))


MAX_PRIMES = 32


class LatticeParams(_Struct):
    _fields_ = [("scheme", c_int), ("log_n", c_uint), ("n_primes", c_uint),
                ("coeff_bits", c_uint * MAX_PRIMES), ("coeff_primes", c_uint64 * MAX_PRIMES),
                ("plain_modulus", c_uint64), ("scale", c_double), ("no_security_check", c_bool)]


class RatlsCertOpts(_Struct):
    _fields_ = [("version", c_uint), ("key", c_int), ("not_before", c_int64),
                ("not_after", c_int64), ("subject_cn", c_char_p), ("gramine_legacy", c_bool),
                ("nonce", Span)]


class RatlsOpts(_Struct):
    _fields_ = [("version", c_uint), ("server", c_bool), ("mode", c_int), ("cert", c_void_p),
                ("key", c_void_p), ("attester", c_void_p), ("cert_opts", RatlsCertOpts),
                ("policy", c_void_p), ("trust", c_void_p), ("collateral", c_void_p),
                ("on_verdict", c_void_p), ("payload", c_void_p), ("cache_size", c_uint)]


class KmsOpts(_Struct):
    _fields_ = [("version", c_uint), ("url", c_char_p), ("trust", c_void_p), ("policy", c_void_p),
                ("collateral", c_void_p), ("ca_file", c_char_p), ("attester", c_void_p),
                ("admin_token", c_char_p), ("timeout_ms", c_long)]


class KbsClientOpts(_Struct):
    _fields_ = [("version", c_uint), ("cacert", c_char_p), ("tls_verify_insecure", c_bool),
                ("timeout_ms", c_long), ("token", POINTER(Buf))]


# option-struct versions (the *_VERSION macros)
ATTESTER_OPTS_VERSION = 1
VERIFY_OPTS_VERSION = 1
TRUST_SOURCES_VERSION = 1
RATLS_CERT_OPTS_VERSION = 1
RATLS_OPTS_VERSION = 1
KMS_OPTS_VERSION = 1
KBS_CLIENT_OPTS_VERSION = 1

# sizes to compare with python/layout.c
LAYOUT = {
    "ccz_buf": Buf, "ccz_span": Span, "ccz_attester_opts": AttesterOpts,
    "ccz_verify_opts": VerifyOpts, "ccz_trust_sources": TrustSources, "mpz_t": Mpz,
    "ccz_paillier_number": PaillierNumber, "ccz_lattice_params": LatticeParams,
    "ccz_ratls_cert_opts": RatlsCertOpts, "ccz_ratls_opts": RatlsOpts, "ccz_kms_opts": KmsOpts,
    "ccz_kbs_client_opts": KbsClientOpts,
}

# ---- prototypes ---------------------------------------------------------------------------------

P = POINTER
vp = c_void_p
_PROTOS = {
    # core
    "ccz_status_name": (c_char_p, [c_int]),
    "ccz_strerror": (c_char_p, [c_int]),
    "ccz_status_class": (c_int, [c_int]),
    "ccz_class_name": (c_char_p, [c_int]),
    "ccz_error_detail": (c_char_p, []),
    "ccz_error_clear": (None, []),
    "ccz_buf_init": (None, [P(Buf), c_size_t, c_bool]),
    "ccz_buf_free": (None, [P(Buf)]),
    "ccz_json_parse": (c_int, [P(vp), c_char_p, c_size_t, c_size_t]),
    "ccz_json_dump": (c_int, [P(Buf), vp, c_bool]),
    "ccz_json_dump_marshal": (c_int, [P(Buf), vp]),
    "ccz_json_free": (None, [vp]),
    # tee
    "ccz_tee_name": (c_char_p, [c_int]),
    "ccz_tee_parse": (c_int, [P(c_int), c_char_p]),
    "ccz_evidence_detect": (c_int, [Span]),
    "ccz_trust_new": (c_int, [P(vp)]),
    "ccz_trust_free": (None, [vp]),
    "ccz_trust_add_sim_root": (c_int, [vp, Span]),
    "ccz_trust_add_intel_root": (c_int, [vp, Span]),
    "ccz_trust_add_builtin": (c_int, [vp]),
    "ccz_trust_load": (c_int, [P(vp), P(TrustSources)]),
    "ccz_collateral_parse": (c_int, [P(vp), c_char_p, c_size_t]),
    "ccz_collateral_free": (None, [vp]),
    "ccz_snp_collateral_new": (c_int, [P(vp), Span, Span]),
    "ccz_attester_new": (c_int, [P(vp), P(AttesterOpts)]),
    "ccz_attester_free": (None, [vp]),
    "ccz_attester_tee": (c_int, [vp]),
    "ccz_attester_seal_key": (c_int, [vp, c_int, c_void_p]),
    "ccz_attest": (c_int, [P(Buf), vp, c_void_p]),
    "ccz_attest_with_certs": (c_int, [P(Buf), P(Buf), vp, c_void_p]),
    "ccz_sim_platform_init": (c_int, [c_char_p, c_bool]),
    "ccz_sim_default_dir": (c_int, [P(Buf)]),
    "ccz_sim_measure_file": (c_int, [c_void_p, c_char_p]),
    "ccz_sim_signer_of_key_file": (c_int, [c_void_p, c_char_p]),
    # policy, verdicts
    "ccz_policy_parse": (c_int, [P(vp), c_char_p, c_size_t]),
    "ccz_policy_default": (c_int, [P(vp)]),
    "ccz_policy_free": (None, [vp]),
    "ccz_policy_to_json": (vp, [vp]),
    "ccz_verdict_json": (c_int, [P(Buf), P(c_bool), Span, P(VerifyOpts), vp]),
    "ccz_verdict_marshal": (c_int, [P(Buf), P(c_bool), Span, P(VerifyOpts), vp]),
    "ccz_verdict_marshal_to": (c_int, [vp, c_size_t, P(c_size_t), c_char_p, c_size_t,
                                       P(VerifyOpts), vp]),
    # paillier
    "ccz_paillier_keygen": (c_int, [P(vp), c_uint]),
    "ccz_paillier_key_from_primes": (c_int, [P(vp), P(Mpz), P(Mpz)]),
    "ccz_paillier_key_free": (None, [vp]),
    "ccz_paillier_key_pub": (vp, [vp]),
    "ccz_paillier_pub_new": (c_int, [P(vp), P(Mpz)]),
    "ccz_paillier_pub_free": (None, [vp]),
    "ccz_paillier_pub_set_djn": (c_int, [vp, P(Mpz)]),
    "ccz_paillier_pub_precompute": (c_int, [vp, c_size_t]),
    "ccz_paillier_load_json": (c_int, [P(vp), P(vp), c_char_p, c_size_t]),
    "ccz_paillier_pub_write_json": (c_int, [P(Buf), vp, c_int]),
    "ccz_paillier_key_write_json": (c_int, [P(Buf), vp, c_int]),
    "ccz_paillier_encrypt": (c_int, [P(Mpz), vp, P(Mpz)]),
    "ccz_paillier_encrypt_priv": (c_int, [P(Mpz), vp, P(Mpz)]),
    "ccz_paillier_decrypt": (c_int, [P(Mpz), vp, P(Mpz)]),
    "ccz_paillier_mul_plain": (c_int, [P(Mpz), vp, P(Mpz), P(Mpz)]),
    "ccz_paillier_add": (c_int, [P(Mpz), vp, P(Mpz), P(Mpz)]),
    "ccz_paillier_add_plain": (c_int, [P(Mpz), vp, P(Mpz), P(Mpz)]),
    "ccz_paillier_rerandomize": (c_int, [P(Mpz), vp, P(Mpz)]),
    "ccz_paillier_encrypt_batch": (c_int, [P(Mpz), vp, P(Mpz), c_size_t, c_uint]),
    "ccz_paillier_decrypt_batch": (c_int, [P(Mpz), vp, P(Mpz), c_size_t, c_uint]),
    "ccz_paillier_number_init": (None, [P(PaillierNumber)]),
    "ccz_paillier_number_clear": (None, [P(PaillierNumber)]),
    "ccz_paillier_number_write_json": (c_int, [P(Buf), P(PaillierNumber), c_int]),
    "ccz_paillier_numbers_from_json": (c_int, [P(P(PaillierNumber)), P(c_size_t), vp, c_char_p,
                                               c_size_t]),
    "ccz_paillier_numbers_free": (None, [P(PaillierNumber), c_size_t]),
    "ccz_paillier_ifma": (c_bool, []),
    # lattice
    "ccz_lattice_preset": (c_int, [P(LatticeParams), c_int, c_uint]),
    "ccz_lattice_context_new": (c_int, [P(vp), P(LatticeParams)]),
    "ccz_lattice_context_free": (None, [vp]),
    "ccz_lattice_context_params": (P(LatticeParams), [vp]),
    "ccz_lattice_slots": (c_size_t, [vp]),
    "ccz_lattice_max_level": (c_uint, [vp]),
    "ccz_lattice_keygen": (c_int, [P(vp), P(vp), vp]),
    "ccz_lattice_relin_keygen": (c_int, [P(vp), vp, vp]),
    "ccz_lattice_galois_keygen": (c_int, [P(vp), vp, vp, P(c_int), c_size_t, c_bool]),
    "ccz_lattice_secret_key_free": (None, [vp]),
    "ccz_lattice_public_key_free": (None, [vp]),
    "ccz_lattice_relin_keys_free": (None, [vp]),
    "ccz_lattice_galois_keys_free": (None, [vp]),
    "ccz_lattice_plaintext_new": (c_int, [P(vp), vp]),
    "ccz_lattice_plaintext_free": (None, [vp]),
    "ccz_lattice_ciphertext_new": (c_int, [P(vp), vp]),
    "ccz_lattice_ciphertext_free": (None, [vp]),
    "ccz_lattice_ciphertext_copy": (c_int, [vp, vp]),
    "ccz_lattice_ciphertext_level": (c_uint, [vp]),
    "ccz_lattice_ciphertext_scale": (c_double, [vp]),
    "ccz_lattice_bfv_encode": (c_int, [vp, vp, P(c_uint64), c_size_t]),
    "ccz_lattice_bfv_decode": (c_int, [P(c_uint64), vp, vp]),
    "ccz_lattice_ckks_encode": (c_int, [vp, vp, P(c_double), c_size_t, c_double, c_uint]),
    "ccz_lattice_ckks_decode": (c_int, [P(c_double), vp, vp]),
    "ccz_lattice_encrypt": (c_int, [vp, vp, vp, vp]),
    "ccz_lattice_encrypt_sk": (c_int, [vp, vp, vp, vp]),
    "ccz_lattice_decrypt": (c_int, [vp, vp, vp, vp]),
    "ccz_lattice_bfv_noise_budget": (c_int, [P(c_int), vp, vp, vp]),
    "ccz_lattice_add": (c_int, [vp, vp, vp, vp]),
    "ccz_lattice_sub": (c_int, [vp, vp, vp, vp]),
    "ccz_lattice_add_plain": (c_int, [vp, vp, vp, vp]),
    "ccz_lattice_mul_plain": (c_int, [vp, vp, vp, vp]),
    "ccz_lattice_mul": (c_int, [vp, vp, vp, vp, vp]),
    "ccz_lattice_mod_switch": (c_int, [vp, vp]),
    "ccz_lattice_ckks_rescale": (c_int, [vp, vp]),
    "ccz_lattice_ckks_mul_const": (c_int, [vp, vp, vp, c_double]),
    "ccz_lattice_rotate": (c_int, [vp, vp, vp, c_int, vp]),
    "ccz_lattice_conjugate": (c_int, [vp, vp, vp, vp]),
    "ccz_lattice_simd": (c_char_p, []),
    "ccz_lattice_params_save": (c_int, [P(Buf), vp]),
    "ccz_lattice_params_load": (c_int, [P(LatticeParams), Span]),
    "ccz_lattice_ciphertext_save": (c_int, [P(Buf), vp]),
    "ccz_lattice_ciphertext_load": (c_int, [vp, vp, Span]),
    "ccz_lattice_plaintext_save": (c_int, [P(Buf), vp]),
    "ccz_lattice_plaintext_load": (c_int, [vp, vp, Span]),
    "ccz_lattice_secret_key_save": (c_int, [P(Buf), vp]),
    "ccz_lattice_secret_key_load": (c_int, [P(vp), vp, Span]),
    "ccz_lattice_public_key_save": (c_int, [P(Buf), vp]),
    "ccz_lattice_public_key_load": (c_int, [P(vp), vp, Span]),
    "ccz_lattice_relin_keys_save": (c_int, [P(Buf), vp]),
    "ccz_lattice_relin_keys_load": (c_int, [P(vp), vp, Span]),
    "ccz_lattice_galois_keys_save": (c_int, [P(Buf), vp]),
    "ccz_lattice_galois_keys_load": (c_int, [P(vp), vp, Span]),
    # ratls
    "ccz_ratls_cert_create": (c_int, [P(vp), P(vp), vp, P(RatlsCertOpts)]),
    "ccz_ratls_ctx_new": (c_int, [P(vp), P(RatlsOpts)]),
    "ccz_ratls_connect_timeout": (c_int, [P(vp), vp, c_char_p, c_long]),
    "ccz_ratls_accept_timeout": (c_int, [P(vp), vp, c_int, c_long]),
    # services
    "ccz_secret_get": (c_int, [P(Buf), vp, c_char_p, c_long]),
    "ccz_secret_ctx_use_ca_file": (c_int, [vp, c_char_p]),
    "ccz_kms_enroll": (c_int, [c_void_p, c_void_p, P(KmsOpts)]),
    "ccz_kms_call": (c_int, [P(vp), P(KmsOpts), c_char_p, c_char_p, c_char_p, vp]),
    "ccz_kbs_get_resource": (c_int, [P(Buf), vp, c_char_p, c_char_p, P(KbsClientOpts)]),
    "ccz_attestation_token_verify": (c_int, [P(vp), c_char_p, c_char_p, c_size_t, c_int64]),
    # GMP (libccz's own, found through its dependencies)
    "__gmpz_init": (None, [P(Mpz)]),
    "__gmpz_clear": (None, [P(Mpz)]),
    "__gmpz_import": (None, [P(Mpz), c_size_t, c_int, c_size_t, c_int, c_size_t, c_char_p]),
    "__gmpz_export": (c_void_p, [c_void_p, P(c_size_t), c_int, c_size_t, c_int, c_size_t,
                                 P(Mpz)]),
    "__gmpz_sizeinbase": (c_size_t, [P(Mpz), c_int]),
    "__gmpz_neg": (None, [P(Mpz), P(Mpz)]),
    "__gmpz_powm": (None, [P(Mpz), P(Mpz), P(Mpz), P(Mpz)]),
    "__gmpz_invert": (c_int, [P(Mpz), P(Mpz), P(Mpz)]),
    # OpenSSL (libccz's own, found through its dependencies)
    "i2d_X509": (c_int, [vp, P(c_void_p)]),
    "d2i_X509": (vp, [vp, P(c_void_p), c_long]),
    "X509_free": (None, [vp]),
    "i2d_PrivateKey": (c_int, [vp, P(c_void_p)]),
    "EVP_PKEY_free": (None, [vp]),
    "CRYPTO_free": (None, [vp, c_char_p, c_int]),
    "SSL_CTX_free": (None, [vp]),
    "SSL_free": (None, [vp]),
    "SSL_read": (c_int, [vp, c_void_p, c_int]),
    "SSL_write": (c_int, [vp, c_void_p, c_int]),
    "SSL_shutdown": (c_int, [vp]),
    "SSL_get_error": (c_int, [vp, c_int]),
    "ERR_get_error": (ctypes.c_ulong, []),
    "ERR_error_string_n": (None, [ctypes.c_ulong, c_char_p, ctypes.c_size_t]),
    "SSL_get1_peer_certificate": (vp, [vp]),
}


_checked: dict = {}


def _range_checked(t: type) -> type:
    """t as an argument type that refuses an int it cannot hold: ctypes would silently keep its
    low bits (a rotation by 2**32 + 1 steps would rotate by 1, a length of 2**32 + 16 be 16)."""
    if t not in _checked:
        lo, hi = _int_range(t)

        class Checked(t):  # type: ignore[valid-type, misc]
            @classmethod
            def from_param(cls, v):
                if isinstance(v, int) and not lo <= v <= hi:
                    raise OverflowError("%d does not fit a C %s (%d to %d)"
                                        % (v, t.__name__[2:], lo, hi))
                return t.from_param(v)

        Checked.__name__ = t.__name__
        _checked[t] = Checked
    return _checked[t]


def _declare() -> None:
    for name, (res, args) in _PROTOS.items():
        try:
            f = getattr(lib, name)
        except AttributeError:  # an older libccz: the calls that need it say so
            continue
        f.restype = res
        f.argtypes = [_range_checked(a) if a in _INTEGERS else a for a in args]


_declare()


class _Gmp:
    """GMP's functions under their C names (mpz_powm is __gmpz_powm; a class body would mangle
    the double underscore)."""

    def __init__(self) -> None:
        for f in ("init", "clear", "import", "export", "sizeinbase", "neg", "powm", "invert"):
            setattr(self, f + ("_" if f == "import" else ""), getattr(lib, "__gmpz_" + f))


gmp = _Gmp()


def has(name: str) -> bool:
    """Whether the loaded libccz exports a function."""
    return hasattr(lib, name)


# ---- errors ----------------------------------------------------------------------------------


def _s(p: Optional[bytes]) -> str:
    return p.decode("utf-8", "replace") if p else ""


class Status(enum.IntEnum):
    """ccz's status codes (CCZ_STATUS_LIST in include/ccz/core.h), named as ccz_status_name()
    names them (Status.signature_invalid == -9)."""
    _ignore_ = ["_code", "_name"]
    for _code in range(0, -256, -1):
        _name = lib.ccz_status_name(_code).decode()
        if _name != "unknown":
            locals()[_name] = _code


class Error(Exception):
    """A failure reported by libccz.

    Attributes:
      status: ccz's status code (a negative int; also a :class:`Status`).
      name: its stable snake_case name ("signature_invalid"), as in ``ccz verify --json``.
      category: whose failure it is: "usage", "input", "verification", "io" or "internal".
      detail: what exactly failed (ccz_error_detail()), for people.
    """

    status: int
    name: str
    category: str
    detail: str

    def __init__(self, status: int, detail: Optional[str] = None) -> None:
        self.status = int(status)
        self.name = _s(lib.ccz_status_name(self.status))
        self.category = _s(lib.ccz_class_name(lib.ccz_status_class(self.status)))
        self.detail = detail if detail is not None else _s(lib.ccz_strerror(self.status))
        super().__init__("%s: %s" % (self.name, self.detail))

    def __reduce__(self):
        return (type(self), (self.status, self.detail))


def error(status: int, context: Optional[str] = None, cls: type = Error) -> Error:
    """The Error for a status just returned, with this thread's detail."""
    detail = _s(lib.ccz_error_detail()) or _s(lib.ccz_strerror(status))
    if context and not detail.startswith(context):
        detail = "%s: %s" % (context, detail)
    return cls(status, detail)


def check(status: int, context: Optional[str] = None, cls: type = Error) -> None:
    """Raises the Error for a failed call."""
    if status != 0:
        raise error(status, context, cls)


def clear_error() -> None:
    lib.ccz_error_clear()


# ---- helpers ----------------------------------------------------------------------------------


def timeout_ms(seconds: float) -> int:
    """A timeout in seconds as libccz's milliseconds, at least 1: libccz reads 0 as its
    default (a timeout of 0.0001 s would wait 30 s), and a negative or NaN one is refused."""
    if not seconds > 0 or seconds == float("inf"):
        raise ValueError("a timeout is a number of seconds above 0, not %r" % (seconds,))
    return max(1, math.ceil(seconds * 1000))


def as_bytes(value: Union[BytesLike, str], what: str) -> bytes:
    """bytes from bytes-like or text (UTF-8); TypeError for anything else."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8")
    raise TypeError("%s must be bytes or str, not %s" % (what, type(value).__name__))


def span(b: bytes) -> Span:
    """A span over the bytes of b (no copy)."""
    return Span(b or None, len(b))


def cstr(s: Union[str, bytes, "os.PathLike[str]", None]) -> Optional[bytes]:
    """A C string for a path or text argument (None stays NULL); ValueError for one with a NUL,
    which C would end at (a path "a\\0b" would name the file a)."""
    if s is None:
        return None
    b = s if isinstance(s, bytes) else (
        os.fsencode(s) if isinstance(s, os.PathLike) else str(s).encode("utf-8"))
    if b"\0" in b:
        raise ValueError("embedded NUL character in %r: C would read only what precedes it"
                         % (s,))
    return b


def report_data64(rd: Optional[BytesLike], what: str = "report_data") -> Optional[bytes]:
    """Up to 64 bytes, zero-padded to 64 (as ccz's --report-data)."""
    if rd is None:
        return None
    if isinstance(rd, str):
        raise TypeError("%s must be bytes (bytes.fromhex() reads hex text)" % what)
    b = as_bytes(rd, what)
    if len(b) > 64:
        raise Error(Status.invalid_argument, "%s: %d bytes, at most 64" % (what, len(b)))
    return b.ljust(64, b"\0")


def json_text(j: int, indent: bool = False) -> str:
    """The text of a jansson value (not freed)."""
    with Buf() as b:
        check(lib.ccz_json_dump(ctypes.byref(b), j, indent))
        return b.text()


def json_take(j: int):
    """A jansson value as Python data; frees it."""
    import json
    try:
        return json.loads(json_text(j))
    finally:
        lib.ccz_json_free(j)


def json_new(value) -> int:
    """A jansson value from Python data (the caller frees it with ccz_json_free)."""
    import json
    text = json.dumps(value).encode("utf-8")
    out = c_void_p()
    check(lib.ccz_json_parse(ctypes.byref(out), text, len(text), 0), "JSON")
    return out.value


def openssl_free(p: int) -> None:
    lib.CRYPTO_free(p, b"ccz-python", 0)


def der_of(i2d, obj: int, what: str) -> bytes:
    """DER from an OpenSSL i2d_* function."""
    out = c_void_p()
    n = i2d(obj, ctypes.byref(out))
    if n <= 0:
        raise Error(Status.crypto_error, "cannot encode the %s" % what)
    try:
        return ctypes.string_at(out.value, n)
    finally:
        openssl_free(out.value)


def pem(der: bytes, label: str) -> str:
    import base64
    b64 = base64.b64encode(der).decode()
    lines = [b64[i:i + 64] for i in range(0, len(b64), 64)]
    return "-----BEGIN %s-----\n%s\n-----END %s-----\n" % (label, "\n".join(lines), label)


def x509_from(cert: Union[BytesLike, str]) -> int:
    """An X509* from PEM or DER (the caller frees it with X509_free)."""
    import base64
    import re
    b = as_bytes(cert, "certificate")
    m = re.search(rb"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", b, re.S)
    if m:
        b = base64.b64decode(b"".join(m.group(1).split()))
    p = c_void_p(ctypes.cast(c_char_p(b), c_void_p).value)
    x = lib.d2i_X509(None, ctypes.byref(p), len(b))
    if not x:
        raise Error(Status.certificate_malformed, "not a certificate (PEM or DER)")
    return x


def tee_code(tee: Union[str, int]) -> int:
    if isinstance(tee, int):
        return tee
    out = c_int()
    check(lib.ccz_tee_parse(ctypes.byref(out), cstr(str(tee))), "tee")
    return out.value


def tee_name(code: int) -> str:
    return _s(lib.ccz_tee_name(code))


def strings(items: Iterable[Union[str, bytes, "os.PathLike[str]"]]):
    """A NULL-free C array of strings, and the list that keeps them alive."""
    keep = [cstr(i) for i in items]
    arr = (c_char_p * max(len(keep), 1))(*keep)
    return arr, keep
