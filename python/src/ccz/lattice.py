# SPDX-License-Identifier: Apache-2.0
"""Lattice homomorphic encryption on libccz (ccz_lattice_*): BFV, exact arithmetic modulo t on
N slots, and CKKS, approximate arithmetic on N/2 complex slots, as Microsoft SEAL does them
(docs/lattice.md).

    ctx = lattice.Context.bfv(13)                 # N = 8192, SEAL's 128-bit chain
    sk, pk = ctx.keygen()
    rk = ctx.relin_keygen(sk)
    a = ctx.encrypt([1, 2, 3], pk)                # encoded, then encrypted
    b = ctx.mul(a, a, rk)                         # relinearised product
    ctx.decrypt_values(b, sk)[:3]                 # [1, 4, 9]

Every object saves to bytes (``save()``) in ccz's versioned format and loads into a context with
the same parameters (``load(ctx, data)``); a key or ciphertext of another context is refused.
Failures are :class:`ccz.Error` with ccz's status.
"""
from __future__ import annotations

from ctypes import byref, c_double, c_int, c_uint64, c_void_p
from typing import Iterable, List, Optional, Sequence, Tuple, Union

from . import _lib
from ._lib import Error, Status, check, lib

BFV = 1
CKKS = 2
_SCHEMES = {"bfv": BFV, "ckks": CKKS}

__all__ = ["Context", "SecretKey", "PublicKey", "RelinKeys", "GaloisKeys", "Plaintext",
           "Ciphertext", "simd"]


def simd() -> str:
    """The arithmetic in use: "avx512-ifma", "avx512" or "portable"."""
    return lib.ccz_lattice_simd().decode()


class _Obj:
    """An owned libccz lattice object of a context (which it keeps alive)."""

    _free = ""
    _save = ""
    _kind = "object"

    def __init__(self, ctx: "Context", ptr: int) -> None:
        self.ctx, self._ptr = ctx, ptr
        ctx._live += 1  # the C object reads its context (even when freed): kept until released

    @property
    def ptr(self) -> int:
        if not self._ptr:
            raise ValueError("%s is closed" % type(self).__name__)
        if self.ctx._ptr is None:
            raise ValueError("Context is closed")
        return self._ptr

    def close(self) -> None:
        p, self._ptr = getattr(self, "_ptr", None), None
        if p:
            getattr(lib, self._free)(p)
            self.ctx._release()

    def __del__(self) -> None:
        self.close()

    def save(self) -> bytes:
        """The object in ccz's serialization (the parameters' fingerprint included)."""
        with _lib.Buf(secret=isinstance(self, SecretKey)) as b:
            check(getattr(lib, self._save)(byref(b), self.ptr), "save %s" % self._kind)
            return b.bytes()


class SecretKey(_Obj):
    """A secret key (wiped when freed)."""
    _free, _save, _kind = "ccz_lattice_secret_key_free", "ccz_lattice_secret_key_save", "secret key"

    @classmethod
    def load(cls, ctx: "Context", data: bytes) -> "SecretKey":
        return cls(ctx, ctx._load_key("ccz_lattice_secret_key_load", data, "secret key"))


class PublicKey(_Obj):
    """A public key."""
    _free, _save, _kind = "ccz_lattice_public_key_free", "ccz_lattice_public_key_save", "public key"

    @classmethod
    def load(cls, ctx: "Context", data: bytes) -> "PublicKey":
        return cls(ctx, ctx._load_key("ccz_lattice_public_key_load", data, "public key"))


class RelinKeys(_Obj):
    """Relinearisation keys (for products of ciphertexts)."""
    _free, _save, _kind = "ccz_lattice_relin_keys_free", "ccz_lattice_relin_keys_save", "relin keys"

    @classmethod
    def load(cls, ctx: "Context", data: bytes) -> "RelinKeys":
        return cls(ctx, ctx._load_key("ccz_lattice_relin_keys_load", data, "relin keys"))


class GaloisKeys(_Obj):
    """Keys for rotations by given steps (and conjugation)."""
    _free, _save, _kind = ("ccz_lattice_galois_keys_free", "ccz_lattice_galois_keys_save",
                           "galois keys")

    @classmethod
    def load(cls, ctx: "Context", data: bytes) -> "GaloisKeys":
        return cls(ctx, ctx._load_key("ccz_lattice_galois_keys_load", data, "galois keys"))


class Plaintext(_Obj):
    """An encoded plaintext."""
    _free, _save, _kind = "ccz_lattice_plaintext_free", "ccz_lattice_plaintext_save", "plaintext"

    @classmethod
    def load(cls, ctx: "Context", data: bytes) -> "Plaintext":
        pt = ctx._plaintext()
        b = _lib.as_bytes(data, "data")
        check(lib.ccz_lattice_plaintext_load(pt.ptr, ctx.ptr, _lib.span(b)), "load plaintext")
        return pt


class Ciphertext(_Obj):
    """A ciphertext. ``a + b``, ``a - b`` (ciphertexts), ``a + p`` and ``a * p`` (a
    :class:`Plaintext`) evaluate through its context; products of ciphertexts need relin keys:
    :meth:`Context.mul`."""
    _free, _save, _kind = "ccz_lattice_ciphertext_free", "ccz_lattice_ciphertext_save", "ciphertext"

    @classmethod
    def load(cls, ctx: "Context", data: bytes) -> "Ciphertext":
        ct = ctx._ciphertext()
        b = _lib.as_bytes(data, "data")
        check(lib.ccz_lattice_ciphertext_load(ct.ptr, ctx.ptr, _lib.span(b)), "load ciphertext")
        return ct

    @property
    def level(self) -> int:
        """Data primes left (one fewer after each rescale or modulus switch)."""
        return lib.ccz_lattice_ciphertext_level(self.ptr)

    @property
    def scale(self) -> float:
        """CKKS: the scale of the encoded values."""
        return lib.ccz_lattice_ciphertext_scale(self.ptr)

    def copy(self) -> "Ciphertext":
        out = self.ctx._ciphertext()
        check(lib.ccz_lattice_ciphertext_copy(out.ptr, self.ptr), "copy")
        return out

    def __add__(self, other: Union["Ciphertext", Plaintext]) -> "Ciphertext":
        if isinstance(other, Plaintext):
            return self.ctx.add_plain(self, other)
        return self.ctx.add(self, other)

    def __sub__(self, other: "Ciphertext") -> "Ciphertext":
        return self.ctx.sub(self, other)

    def __mul__(self, other: Plaintext) -> "Ciphertext":
        if not isinstance(other, Plaintext):
            return NotImplemented
        return self.ctx.mul_plain(self, other)


class Context:
    """Parameters and their tables (ccz_lattice_context_new).

    Args:
      scheme: "bfv" or "ckks".
      log_n: N = 2^log_n, 12 to 15; the preset (SEAL's defaults within the 128-bit table)
        gives the chain, t and the scale, which the following arguments override.
      coeff_bits: the modulus chain as bit sizes, data primes first, the special prime last.
      coeff_primes: the chain as explicit primes (instead of coeff_bits).
      plain_modulus: BFV: t (a prime = 1 mod 2N for batching).
      scale: CKKS: the default scale (2^40, say).
      no_security_check: allow chains beyond the 128-bit table.
    """

    def __init__(self, scheme: str = "bfv", log_n: int = 13, *,
                 coeff_bits: Optional[Sequence[int]] = None,
                 coeff_primes: Optional[Sequence[int]] = None,
                 plain_modulus: Optional[int] = None, scale: Optional[float] = None,
                 no_security_check: bool = False, _params: Optional[_lib.LatticeParams] = None
                 ) -> None:
        self._ptr = self._pending = None
        self._live = 0  # objects of this context not yet freed
        if _params is None:
            if scheme not in _SCHEMES:
                raise ValueError("scheme is 'bfv' or 'ckks', not %r" % (scheme,))
            p = _lib.LatticeParams()
            check(lib.ccz_lattice_preset(byref(p), _SCHEMES[scheme], log_n), "preset")
            chain = coeff_primes if coeff_primes is not None else coeff_bits
            if chain is not None:
                if len(chain) > _lib.MAX_PRIMES:
                    raise Error(Status.invalid_argument, "at most %d primes" % _lib.MAX_PRIMES)
                p.n_primes = len(chain)
                for i in range(_lib.MAX_PRIMES):
                    p.coeff_bits[i] = 0
                    p.coeff_primes[i] = 0
                for i, v in enumerate(chain):
                    if coeff_primes is not None:
                        p.coeff_primes[i] = v
                    else:
                        p.coeff_bits[i] = v
            if plain_modulus is not None:
                p.plain_modulus = plain_modulus
            if scale is not None:
                p.scale = scale
            p.no_security_check = no_security_check
        else:
            p = _params
        out = c_void_p()
        check(lib.ccz_lattice_context_new(byref(out), byref(p)), "context")
        self._ptr = out.value

    @classmethod
    def bfv(cls, log_n: int = 13, **kw) -> "Context":
        """A BFV context (see the class's arguments)."""
        return cls("bfv", log_n, **kw)

    @classmethod
    def ckks(cls, log_n: int = 13, **kw) -> "Context":
        """A CKKS context (see the class's arguments)."""
        return cls("ckks", log_n, **kw)

    @classmethod
    def load(cls, data: bytes) -> "Context":
        """A context from parameters saved by :meth:`save`."""
        p = _lib.LatticeParams()
        b = _lib.as_bytes(data, "data")
        check(lib.ccz_lattice_params_load(byref(p), _lib.span(b)), "load parameters")
        return cls(_params=p)

    def save(self) -> bytes:
        """The parameters in ccz's serialization."""
        with _lib.Buf() as b:
            check(lib.ccz_lattice_params_save(byref(b), self.ptr), "save parameters")
            return b.bytes()

    @property
    def ptr(self) -> int:
        if not self._ptr:
            raise ValueError("Context is closed")
        return self._ptr

    def close(self) -> None:
        """Closes the context; its keys, plaintexts and ciphertexts can no longer be used (they
        read the context's tables, freed when the last of them is freed)."""
        p, self._ptr = getattr(self, "_ptr", None), None
        if p:
            self._pending = p
            self._release(0)

    def _release(self, n: int = 1) -> None:
        self._live -= n
        p = self._pending
        if p and self._ptr is None and self._live <= 0:
            self._pending = None
            lib.ccz_lattice_context_free(p)

    def __del__(self) -> None:
        self.close()

    # ---- what the context is ------------------------------------------------------------

    @property
    def _params(self) -> _lib.LatticeParams:
        return lib.ccz_lattice_context_params(self.ptr).contents

    @property
    def scheme(self) -> str:
        return "bfv" if self._params.scheme == BFV else "ckks"

    @property
    def n(self) -> int:
        """The ring degree N."""
        return 1 << self._params.log_n

    @property
    def slots(self) -> int:
        """BFV: N; CKKS: N/2."""
        return lib.ccz_lattice_slots(self.ptr)

    @property
    def max_level(self) -> int:
        """Data primes of a fresh ciphertext."""
        return lib.ccz_lattice_max_level(self.ptr)

    @property
    def plain_modulus(self) -> int:
        return self._params.plain_modulus

    @property
    def scale(self) -> float:
        return self._params.scale

    # ---- keys ---------------------------------------------------------------------------

    def keygen(self) -> Tuple[SecretKey, PublicKey]:
        """A new secret key and its public key."""
        sk, pk = c_void_p(), c_void_p()
        check(lib.ccz_lattice_keygen(byref(sk), byref(pk), self.ptr), "keygen")
        return SecretKey(self, sk.value), PublicKey(self, pk.value)

    def relin_keygen(self, sk: SecretKey) -> RelinKeys:
        out = c_void_p()
        check(lib.ccz_lattice_relin_keygen(byref(out), self.ptr, sk.ptr), "relin keygen")
        return RelinKeys(self, out.value)

    def galois_keygen(self, sk: SecretKey, steps: Iterable[int] = (),
                      conjugate: bool = False) -> GaloisKeys:
        """Keys for rotations by these steps (negative: to the right) and, with conjugate, the
        row swap (BFV) / complex conjugation (CKKS)."""
        st = list(steps)
        arr = (c_int * max(len(st), 1))(*st)
        out = c_void_p()
        check(lib.ccz_lattice_galois_keygen(byref(out), self.ptr, sk.ptr, arr, len(st),
                                            conjugate), "galois keygen")
        return GaloisKeys(self, out.value)

    def _load_key(self, fn: str, data: bytes, what: str) -> int:
        out = c_void_p()
        b = _lib.as_bytes(data, "data")
        check(getattr(lib, fn)(byref(out), self.ptr, _lib.span(b)), "load " + what)
        return out.value

    # ---- encoding -------------------------------------------------------------------------

    def _plaintext(self) -> Plaintext:
        out = c_void_p()
        check(lib.ccz_lattice_plaintext_new(byref(out), self.ptr), "plaintext")
        return Plaintext(self, out.value)

    def _ciphertext(self) -> Ciphertext:
        out = c_void_p()
        check(lib.ccz_lattice_ciphertext_new(byref(out), self.ptr), "ciphertext")
        return Ciphertext(self, out.value)

    def encode(self, values: Iterable[Union[int, float, complex]], scale: Optional[float] = None,
               level: int = 0) -> Plaintext:
        """Encodes up to :attr:`slots` values (the rest are 0).

        BFV: integers, taken modulo t (so negative ones are t - |v|), into the 2 x N/2 slot
        matrix, row by row. CKKS: reals or complex numbers at a scale (default: the context's)
        and a level (0: the top).
        """
        vals = list(values)
        if len(vals) > self.slots:
            raise Error(Status.invalid_argument, "%d values for %d slots" % (len(vals),
                                                                             self.slots))
        pt = self._plaintext()
        if self.scheme == "bfv":
            t = self.plain_modulus
            arr = (c_uint64 * max(len(vals), 1))(*[int(v) % t for v in vals])
            check(lib.ccz_lattice_bfv_encode(pt.ptr, self.ptr, arr, len(vals)), "encode")
        else:
            flat = []
            for v in vals:
                z = complex(v)
                flat += [z.real, z.imag]
            arr = (c_double * max(len(flat), 2))(*flat)
            check(lib.ccz_lattice_ckks_encode(pt.ptr, self.ptr, arr, len(vals),
                                              self.scale if scale is None else scale, level),
                  "encode")
        return pt

    def decode(self, pt: Plaintext, *, signed: bool = False,
               complex_values: bool = False) -> List[Union[int, float, complex]]:
        """All slots of a plaintext: BFV, N integers in [0, t) (with signed, those above t/2 as
        negatives); CKKS, N/2 floats (their real parts) or, with complex_values, complex
        numbers."""
        if self.scheme == "bfv":
            arr = (c_uint64 * self.n)()
            check(lib.ccz_lattice_bfv_decode(arr, self.ptr, pt.ptr), "decode")
            vals = list(arr)
            if signed:
                t = self.plain_modulus
                vals = [v - t if v > t // 2 else v for v in vals]
            return vals
        half = self.slots
        arr = (c_double * (2 * half))()
        check(lib.ccz_lattice_ckks_decode(arr, self.ptr, pt.ptr), "decode")
        if complex_values:
            return [complex(arr[2 * i], arr[2 * i + 1]) for i in range(half)]
        return [arr[2 * i] for i in range(half)]

    # ---- encryption ----------------------------------------------------------------------

    def encrypt(self, pt: Union[Plaintext, Iterable], key: Union[PublicKey, SecretKey]
                ) -> Ciphertext:
        """Encrypts a plaintext (or values, encoded first) with a public key, or symmetrically
        with a secret key (less noise)."""
        if not isinstance(pt, Plaintext):
            pt = self.encode(pt)
        ct = self._ciphertext()
        if isinstance(key, SecretKey):
            check(lib.ccz_lattice_encrypt_sk(ct.ptr, self.ptr, key.ptr, pt.ptr), "encrypt")
        elif isinstance(key, PublicKey):
            check(lib.ccz_lattice_encrypt(ct.ptr, self.ptr, key.ptr, pt.ptr), "encrypt")
        else:
            raise TypeError("key must be a PublicKey or a SecretKey")
        return ct

    def decrypt(self, ct: Ciphertext, sk: SecretKey) -> Plaintext:
        pt = self._plaintext()
        check(lib.ccz_lattice_decrypt(pt.ptr, self.ptr, sk.ptr, ct.ptr), "decrypt")
        return pt

    def decrypt_values(self, ct: Ciphertext, sk: SecretKey, **decode_options) -> list:
        """:meth:`decrypt` then :meth:`decode`."""
        return self.decode(self.decrypt(ct, sk), **decode_options)

    def noise_budget(self, ct: Ciphertext, sk: SecretKey) -> int:
        """BFV: bits of noise budget left (0: decryption no longer guaranteed)."""
        bits = c_int(0)
        check(lib.ccz_lattice_bfv_noise_budget(byref(bits), self.ptr, sk.ptr, ct.ptr),
              "noise budget")
        return bits.value

    # ---- evaluation (new ciphertexts; in place: mod_switch, rescale) ------------------------

    def _binary(self, fn: str, a: _Obj, b: _Obj, what: str, *extra) -> Ciphertext:
        out = self._ciphertext()
        check(getattr(lib, fn)(out.ptr, self.ptr, a.ptr, b.ptr, *extra), what)
        return out

    def add(self, a: Ciphertext, b: Ciphertext) -> Ciphertext:
        return self._binary("ccz_lattice_add", a, b, "add")

    def sub(self, a: Ciphertext, b: Ciphertext) -> Ciphertext:
        return self._binary("ccz_lattice_sub", a, b, "sub")

    def add_plain(self, a: Ciphertext, p: Plaintext) -> Ciphertext:
        return self._binary("ccz_lattice_add_plain", a, p, "add_plain")

    def mul_plain(self, a: Ciphertext, p: Plaintext) -> Ciphertext:
        return self._binary("ccz_lattice_mul_plain", a, p, "mul_plain")

    def mul(self, a: Ciphertext, b: Ciphertext, rk: RelinKeys) -> Ciphertext:
        """The product, relinearised (CKKS: the scale multiplies; rescale after)."""
        return self._binary("ccz_lattice_mul", a, b, "mul", rk.ptr)

    def mod_switch(self, c: Ciphertext) -> Ciphertext:
        """Drops c's last data prime, in place (BFV: later operations get cheaper; CKKS: to meet
        another ciphertext's level); returns c."""
        check(lib.ccz_lattice_mod_switch(c.ptr, self.ptr), "mod_switch")
        return c

    def rescale(self, c: Ciphertext) -> Ciphertext:
        """CKKS: divides by the last data prime, in place (the scale drops by it); returns c."""
        check(lib.ccz_lattice_ckks_rescale(c.ptr, self.ptr), "rescale")
        return c

    def mul_const(self, a: Ciphertext, k: float) -> Ciphertext:
        """CKKS: a times a real constant."""
        out = self._ciphertext()
        check(lib.ccz_lattice_ckks_mul_const(out.ptr, self.ptr, a.ptr, k), "mul_const")
        return out

    def rotate(self, a: Ciphertext, steps: int, gk: GaloisKeys) -> Ciphertext:
        """Rotates the slots (BFV: both rows) left by steps (right when negative)."""
        out = self._ciphertext()
        check(lib.ccz_lattice_rotate(out.ptr, self.ptr, a.ptr, steps, gk.ptr), "rotate")
        return out

    def conjugate(self, a: Ciphertext, gk: GaloisKeys) -> Ciphertext:
        """BFV: swaps the two rows; CKKS: complex conjugation."""
        out = self._ciphertext()
        check(lib.ccz_lattice_conjugate(out.ptr, self.ptr, a.ptr, gk.ptr), "conjugate")
        return out
