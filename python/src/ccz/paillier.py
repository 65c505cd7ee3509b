# SPDX-License-Identifier: Apache-2.0
"""Paillier homomorphic encryption on libccz, with python-paillier's API.

Code written for python-paillier runs on ccz by changing its import::

    from phe import paillier        # before
    from ccz import paillier        # after

The names, signatures, attributes, encodings and exceptions are python-paillier's (``phe``
1.5): :func:`generate_paillier_keypair`, :class:`PaillierPublicKey` (``n``, ``g``, ``nsquare``,
``max_int``, ``encrypt``, ``raw_encrypt``, ``encrypt_encoded``), :class:`PaillierPrivateKey`
(``p``, ``q``, ``decrypt``, ``decrypt_encoded``, ``raw_decrypt``, ``from_totient``),
:class:`PaillierPrivateKeyring`, :class:`EncryptedNumber` (``+``, ``-``, ``*`` and ``/`` by a
scalar, ``ciphertext()``, ``exponent``, ``obfuscate``, ``decrease_exponent_to``) and
:class:`EncodedNumber` (``encode``, ``decode``; base 16, bit for bit). Serialisation is
python-paillier's too: its documented JSON ({"public_key": {"g", "n"}, "values": [[str(c),
exponent], ...]}) is built from these attributes and read back with the constructors, and
:func:`dumps_public_key`, :func:`loads_key` and friends read and write that form, pheutil's JWK
and ccz's own.

What differs: the exponentiations (encryption's randomiser, decryption by CRT, products by
scalars, re-randomisation) run in libccz (GMP, constant-time where the key is involved, AVX-512
IFMA where the CPU has it); keys have 512 to 8192 bits (multiples of 16 for generation; python-
paillier allows toy sizes); and failures are :class:`ccz.Error` exceptions that are also the
built-in exception python-paillier raises (``ValueError``, ``OverflowError``, ``TypeError``),
so ``except ValueError`` still catches them and ``.status`` / ``.name`` carry ccz's code.
"""
from __future__ import annotations

import fractions
import json
import math
import os
import random
import sys
from ctypes import byref, c_size_t, c_void_p
from typing import Dict, Iterable, List, Optional, Tuple, Union

try:
    from collections.abc import Mapping
except ImportError:  # pragma: no cover
    Mapping = dict

from . import _lib
from ._lib import Error, Mpz, Status, lib

DEFAULT_KEYSIZE = 3072

Number = Union[int, float]

__all__ = [
    "DEFAULT_KEYSIZE", "generate_paillier_keypair", "PaillierPublicKey", "PaillierPrivateKey",
    "PaillierPrivateKeyring", "EncryptedNumber", "EncodedNumber", "dumps_public_key",
    "dumps_private_key", "loads_key", "dumps_encrypted", "loads_encrypted", "PaillierValueError",
    "PaillierOverflowError", "PaillierTypeError",
]


class PaillierValueError(Error, ValueError):
    """A ccz.Error where python-paillier raises ValueError."""


class PaillierOverflowError(Error, OverflowError):
    """A ccz.Error where python-paillier raises OverflowError."""


class PaillierTypeError(Error, TypeError):
    """A ccz.Error where python-paillier raises TypeError."""


def _check(status: int, context: str, cls: type = PaillierValueError) -> None:
    _lib.check(status, context, cls)


def _value_error(msg: str, status: int = Status.invalid_argument) -> PaillierValueError:
    return PaillierValueError(status, msg)


def _type_error(msg: str) -> PaillierTypeError:
    return PaillierTypeError(Status.invalid_argument, msg)


def _powmod(base: int, exp: int, mod: int) -> int:
    """base^exp mod mod on GMP (exp >= 0)."""
    out = Mpz()
    _lib.gmp.powm(byref(out), byref(Mpz(base)), byref(Mpz(exp)), byref(Mpz(mod)))
    return out.get()


def _invert(a: int, mod: int) -> int:
    out = Mpz()
    if not _lib.gmp.invert(byref(out), byref(Mpz(a)), byref(Mpz(mod))):
        raise ZeroDivisionError("invert() no inverse exists")
    return out.get()


_IFMA = bool(lib.ccz_paillier_ifma())  # multi-buffer exponentiation (CCZ_CPU=portable: off)
_LANES = 8


def _encrypt_zeros(pub: int, count: int) -> List[int]:
    """count encryptions of 0, that is count randomisers rⁿ mod n², on this thread."""
    ms = (Mpz * count)()
    cs = (Mpz * count)()
    for i in range(count):
        _lib.gmp.init(byref(ms[i]))
        _lib.gmp.init(byref(cs[i]))
    try:
        _check(lib.ccz_paillier_encrypt_batch(cs, pub, ms, count, 1), "encrypt")
        return [_lib.mpz_to_int(cs[i]) for i in range(count)]
    finally:
        for i in range(count):
            _lib.gmp.clear(byref(ms[i]))
            _lib.gmp.clear(byref(cs[i]))


# ---- keys ----------------------------------------------------------------------------------


def generate_paillier_keypair(private_keyring: Optional["PaillierPrivateKeyring"] = None,
                              n_length: int = DEFAULT_KEYSIZE
                              ) -> Tuple["PaillierPublicKey", "PaillierPrivateKey"]:
    """A new key pair with an n of exactly n_length bits (ccz_paillier_keygen: OpenSSL's primes,
    |p - q| > 2^(n_length/2 - 100)); the private key is added to private_keyring if given.

    n_length is 2048, 3072 (the default, as python-paillier's) or 4096, or for tests any
    multiple of 16 from 512; anything else is a ValueError.
    """
    out = c_void_p()
    _check(lib.ccz_paillier_keygen(byref(out), int(n_length)), "generate_paillier_keypair")
    handle = _KeyHandle(out.value)
    with _lib.Buf(secret=True) as b:
        _check(lib.ccz_paillier_key_write_json(byref(b), handle.ptr, 0), "key")
        doc = json.loads(b.text())
    public_key = PaillierPublicKey(int(doc["n"]))
    private_key = PaillierPrivateKey._from_handle(public_key, int(doc["p"]), int(doc["q"]), handle)
    if private_keyring is not None:
        private_keyring.add(private_key)
    return public_key, private_key


class _PubHandle:
    def __init__(self, ptr: int, owned: bool = True) -> None:
        self.ptr, self.owned = ptr, owned

    def __del__(self) -> None:
        if self.owned and self.ptr:
            lib.ccz_paillier_pub_free(self.ptr)
            self.ptr = None


class _KeyHandle:
    def __init__(self, ptr: int) -> None:
        self.ptr = ptr

    def __del__(self) -> None:
        if self.ptr:
            lib.ccz_paillier_key_free(self.ptr)  # wipes p, q and the CRT values
            self.ptr = None


class PaillierPublicKey(object):
    """A Paillier public key (g = n + 1) and encryption.

    Args:
      n (int): the modulus, 512 to 8192 bits.

    Attributes:
      g (int): n + 1.
      n (int): the modulus.
      nsquare (int): n ** 2.
      max_int (int): the largest magnitude an encoding holds: n // 3 - 1.
    """

    def __init__(self, n: int) -> None:
        if not isinstance(n, int):
            raise _type_error("n must be an int, not %s" % type(n).__name__)
        self.g = n + 1
        self.n = n
        self.nsquare = n * n
        self.max_int = n // 3 - 1
        self.__handle: Optional[_PubHandle] = None
        self.__stash: List[int] = []
        self.__stash_pid = 0

    @property
    def _pub(self) -> int:
        """libccz's public key (made on first use, so that n is checked then)."""
        if self.__handle is None:
            out = c_void_p()
            _check(lib.ccz_paillier_pub_new(byref(out), byref(Mpz(self.n))), "public key")
            self.__handle = _PubHandle(out.value)
        return self.__handle.ptr

    def _rho(self) -> Optional[int]:
        """A fresh randomiser rⁿ mod n² (an encryption of 0), or None to let libccz make one.

        Where the CPU has AVX-512 IFMA, libccz computes eight randomisers in the time of about
        three (one exponentiation per lane), so they are made eight at a time
        (ccz_paillier_encrypt_batch of zeros) and kept here until used; each is used once. The
        stash belongs to the process that filled it: a forked child starts with none, so parent
        and child never share a randomiser."""
        if not _IFMA:
            return None
        pid = os.getpid()
        if self.__stash_pid != pid:
            self.__stash, self.__stash_pid = [], pid
        try:
            return self.__stash.pop()
        except IndexError:
            pass
        fresh = _encrypt_zeros(self._pub, _LANES)
        self.__stash.extend(fresh[1:])
        return fresh[0]

    def __repr__(self) -> str:
        public_key_hash = hex(hash(self))[2:]
        return "<PaillierPublicKey {}>".format(public_key_hash[:10])

    def __eq__(self, other) -> bool:
        return self.n == other.n

    def __hash__(self) -> int:
        return hash(self.n)

    def raw_encrypt(self, plaintext: int, r_value: Optional[int] = None) -> int:
        """The Paillier encryption of an integer plaintext (taken modulo n): (1 + n·m)·rⁿ mod n²
        with r = r_value, or a random r in Z_n* (ccz_paillier_encrypt) when r_value is None.

        Raises:
          TypeError: if plaintext is not an int.
        """
        if not isinstance(plaintext, int):
            raise _type_error("Expected int type plaintext but got: %s" % type(plaintext))
        m = plaintext % self.n
        if not r_value:
            c = Mpz()
            rho = self._rho()
            if rho is None:
                _check(lib.ccz_paillier_encrypt(byref(c), self._pub, byref(Mpz(m))), "encrypt")
            else:  # rho (1 + n m) mod n^2
                _check(lib.ccz_paillier_add_plain(byref(c), self._pub, byref(Mpz(rho)),
                                                  byref(Mpz(m))), "encrypt")
            return c.get()
        nude_ciphertext = (self.n * m + 1) % self.nsquare
        if r_value == 1:
            return nude_ciphertext
        return nude_ciphertext * _powmod(r_value, self.n, self.nsquare) % self.nsquare

    def get_random_lt_n(self) -> int:
        """A cryptographically random number in [1, n)."""
        return random.SystemRandom().randrange(1, self.n)

    def encrypt(self, value: Union[Number, "EncodedNumber"], precision: Optional[float] = None,
                r_value: Optional[int] = None) -> "EncryptedNumber":
        """Encodes (:meth:`EncodedNumber.encode`) and encrypts an int or float.

        Args:
          value: an int with abs(value) <= max_int, a float, or an EncodedNumber.
          precision: the largest absolute error allowed in encoding a float (default: exact).
          r_value: the randomiser r (default: a random one).

        Raises:
          ValueError: if value is out of range.
        """
        if isinstance(value, EncodedNumber):
            encoding = value
        else:
            encoding = EncodedNumber.encode(self, value, precision)
        return self.encrypt_encoded(encoding, r_value)

    def encrypt_encoded(self, encoding: "EncodedNumber",
                        r_value: Optional[int]) -> "EncryptedNumber":
        """Encrypts an EncodedNumber (with randomiser r_value, or a random one if None)."""
        if r_value is None:
            x = EncryptedNumber(self, self.raw_encrypt(encoding.encoding), encoding.exponent)
            x._EncryptedNumber__is_obfuscated = True  # the randomiser is fresh
            return x
        ciphertext = self.raw_encrypt(encoding.encoding, r_value=r_value)
        return EncryptedNumber(self, ciphertext, encoding.exponent)

    # ---- ccz's additions --------------------------------------------------------------------

    def encrypt_many(self, values: Iterable[Union[Number, "EncodedNumber"]],
                     precision: Optional[float] = None, threads: int = 0
                     ) -> List["EncryptedNumber"]:
        """Encrypts many values at once on `threads` threads (0: every core;
        ccz_paillier_encrypt_batch): the same as ``[encrypt(v) for v in values]``, faster."""
        encs = [v if isinstance(v, EncodedNumber) else EncodedNumber.encode(self, v, precision)
                for v in values]
        if not encs:
            return []
        ms = (Mpz * len(encs))()
        cs = (Mpz * len(encs))()
        for i, e in enumerate(encs):
            _lib.gmp.init(byref(ms[i]))
            _lib.gmp.init(byref(cs[i]))
            ms[i].set(e.encoding % self.n)
        try:
            _check(lib.ccz_paillier_encrypt_batch(cs, self._pub, ms, len(encs), threads),
                   "encrypt_many")
            out = []
            for i, e in enumerate(encs):
                x = EncryptedNumber(self, _lib.mpz_to_int(cs[i]), e.exponent)
                x._EncryptedNumber__is_obfuscated = True
                out.append(x)
            return out
        finally:
            for i in range(len(encs)):
                _lib.gmp.clear(byref(ms[i]))
                _lib.gmp.clear(byref(cs[i]))


class PaillierPrivateKey(object):
    """A Paillier private key and decryption (by CRT in libccz, constant-time in the key).

    Args:
      public_key (PaillierPublicKey): the corresponding public key.
      p, q (int): the primes, p * q = n.

    Attributes:
      public_key, p, q (p < q), psquare, qsquare, p_inverse (p⁻¹ mod q), hp, hq: as
      python-paillier's.

    Raises:
      ValueError: if p * q is not n, p == q, or libccz refuses the primes.
    """

    def __init__(self, public_key: PaillierPublicKey, p: int, q: int) -> None:
        self._setup(public_key, p, q)
        mp, mq = Mpz(self.p), Mpz(self.q)
        out = c_void_p()
        _check(lib.ccz_paillier_key_from_primes(byref(out), byref(mp), byref(mq)), "private key")
        self.__handle = _KeyHandle(out.value)

    def _setup(self, public_key: PaillierPublicKey, p: int, q: int) -> None:
        if not p * q == public_key.n:
            raise _value_error("given public key does not match the given p and q.")
        if p == q:
            raise _value_error("p and q have to be different")
        self.public_key = public_key
        self.p, self.q = (q, p) if q < p else (p, q)
        self.psquare = self.p * self.p
        self.qsquare = self.q * self.q

    @classmethod
    def _from_handle(cls, public_key: PaillierPublicKey, p: int, q: int,
                     handle: _KeyHandle) -> "PaillierPrivateKey":
        self = cls.__new__(cls)
        self._setup(public_key, p, q)
        self._PaillierPrivateKey__handle = handle
        return self

    @property
    def _key(self) -> int:
        return self.__handle.ptr

    @property
    def p_inverse(self) -> int:
        return pow(self.p, -1, self.q)

    @property
    def hp(self) -> int:
        return self.h_function(self.p, self.psquare)

    @property
    def hq(self) -> int:
        return self.h_function(self.q, self.qsquare)

    @staticmethod
    def from_totient(public_key: PaillierPublicKey, totient: int) -> "PaillierPrivateKey":
        """The private key of public_key whose totient (p - 1)(q - 1) is given.

        Raises:
          ValueError: if totient is not the totient of public_key's modulus.
        """
        p_plus_q = public_key.n - totient + 1
        disc = p_plus_q * p_plus_q - public_key.n * 4
        if disc < 0:
            raise _value_error("given public key and totient do not match.")
        p_minus_q = math.isqrt(disc)
        q = (p_plus_q - p_minus_q) // 2
        p = p_plus_q - q
        if not p * q == public_key.n:
            raise _value_error("given public key and totient do not match.")
        return PaillierPrivateKey(public_key, p, q)

    def __repr__(self) -> str:
        return "<PaillierPrivateKey for {}>".format(repr(self.public_key))

    def decrypt(self, encrypted_number: "EncryptedNumber") -> Number:
        """The decrypted and decoded value: an int for exponents >= 0, else a float.

        Raises:
          TypeError: if encrypted_number is not an EncryptedNumber.
          ValueError: if it was encrypted under another key.
          OverflowError: if the value overflowed in the computation that made it.
        """
        return self.decrypt_encoded(encrypted_number).decode()

    def decrypt_encoded(self, encrypted_number: "EncryptedNumber",
                        Encoding: Optional[type] = None) -> "EncodedNumber":
        """The EncodedNumber (or an instance of Encoding) encrypted_number holds."""
        if not isinstance(encrypted_number, EncryptedNumber):
            raise _type_error("Expected encrypted_number to be an EncryptedNumber not: %s"
                              % type(encrypted_number))
        if self.public_key != encrypted_number.public_key:
            raise _value_error("encrypted_number was encrypted against a different key!")
        if Encoding is None:
            Encoding = EncodedNumber
        encoded = self.raw_decrypt(encrypted_number.ciphertext(be_secure=False))
        return Encoding(self.public_key, encoded, encrypted_number.exponent)

    def raw_decrypt(self, ciphertext: int) -> int:
        """The plaintext in [0, n) of a raw ciphertext (ccz_paillier_decrypt).

        Raises:
          TypeError: if ciphertext is not an int.
          ValueError: if it is outside [1, n²) or shares a factor with n (no encryption makes
            one).
        """
        if not isinstance(ciphertext, int):
            raise _type_error("Expected ciphertext to be an int, not: %s" % type(ciphertext))
        m = Mpz()
        _check(lib.ccz_paillier_decrypt(byref(m), self._key, byref(Mpz(ciphertext))), "decrypt")
        return m.get()

    def h_function(self, x: int, xsquare: int) -> int:
        """h(x) of Paillier's paper (decryption by Chinese remaindering)."""
        return _invert(self.l_function(_powmod(self.public_key.g, x - 1, xsquare), x), x)

    def l_function(self, x: int, p: int) -> int:
        """L(x, p) = (x - 1) / p."""
        return (x - 1) // p

    def crt(self, mp: int, mq: int) -> int:
        """The solution modulo n = pq of x = mp mod p, x = mq mod q."""
        u = (mq - mp) * self.p_inverse % self.q
        return mp + (u * self.p)

    def __eq__(self, other) -> bool:
        return self.p == other.p and self.q == other.q

    def __hash__(self) -> int:
        return hash((self.p, self.q))


class PaillierPrivateKeyring(Mapping):
    """Private keys by their public keys; decrypts with whichever matches.

    Args:
      private_keys: an optional starting list of PaillierPrivateKey.
    """

    def __init__(self, private_keys: Optional[List[PaillierPrivateKey]] = None) -> None:
        if private_keys is None:
            private_keys = []
        self.__keyring: Dict[PaillierPublicKey, PaillierPrivateKey] = {
            k.public_key: k for k in private_keys}

    def __getitem__(self, key: PaillierPublicKey) -> PaillierPrivateKey:
        return self.__keyring[key]

    def __len__(self) -> int:
        return len(self.__keyring)

    def __iter__(self):
        return iter(self.__keyring)

    def __delitem__(self, public_key: PaillierPublicKey) -> None:
        del self.__keyring[public_key]

    def add(self, private_key: PaillierPrivateKey) -> None:
        """Adds a key to the keyring."""
        if not isinstance(private_key, PaillierPrivateKey):
            raise _type_error("private_key should be of type PaillierPrivateKey, not %s"
                              % type(private_key))
        self.__keyring[private_key.public_key] = private_key

    def decrypt(self, encrypted_number: "EncryptedNumber") -> Number:
        """Decrypts with the key of encrypted_number's public key (KeyError if absent)."""
        return self.__keyring[encrypted_number.public_key].decrypt(encrypted_number)


# ---- encoding -------------------------------------------------------------------------------


class EncodedNumber(object):
    """An int or float encoded for Paillier encryption: value = mantissa · BASE^exponent, the
    mantissa modulo n with negatives as n - |v| (python-paillier's encoding, bit for bit).

    Args:
      public_key: the key the encoding is for (max_int depends on n).
      encoding (int): the mantissa, in [0, n).
      exponent (int): the exponent (base BASE).
    """

    BASE = 16
    LOG2_BASE = math.log(BASE, 2)
    FLOAT_MANTISSA_BITS = sys.float_info.mant_dig

    def __init__(self, public_key: PaillierPublicKey, encoding: int, exponent: int) -> None:
        self.public_key = public_key
        self.encoding = encoding
        self.exponent = exponent

    @classmethod
    def encode(cls, public_key: PaillierPublicKey, scalar: Number,
               precision: Optional[float] = None,
               max_exponent: Optional[int] = None) -> "EncodedNumber":
        """The encoding of an int or float.

        The exponent is 0 for ints; for floats, that of the float's least significant bit (base
        BASE, rounded down), or floor(log_BASE(precision)) when precision is given; at most
        max_exponent when given. The mantissa is round(scalar / BASE^exponent), exactly
        (rationals, ties to even).

        Raises:
          TypeError: for a scalar that is neither int nor float (without precision).
          ValueError: if the mantissa exceeds max_int.
        """
        if precision is None:
            if isinstance(scalar, int):
                prec_exponent = 0
            elif isinstance(scalar, float):
                bin_lsb_exponent = math.frexp(scalar)[1] - cls.FLOAT_MANTISSA_BITS
                prec_exponent = math.floor(bin_lsb_exponent / cls.LOG2_BASE)
            else:
                raise _type_error("Don't know the precision of type %s." % type(scalar))
        else:
            prec_exponent = math.floor(math.log(precision, cls.BASE))
        exponent = prec_exponent if max_exponent is None else min(max_exponent, prec_exponent)
        int_rep = round(fractions.Fraction(scalar) * fractions.Fraction(cls.BASE) ** -exponent)
        if abs(int_rep) > public_key.max_int:
            raise PaillierValueError(Status.overflow,
                                     "Integer needs to be within +/- %d but got %d"
                                     % (public_key.max_int, int_rep))
        return cls(public_key, int_rep % public_key.n, exponent)

    def decode(self) -> Number:
        """The value: an int for exponents >= 0, a float otherwise.

        Raises:
          ValueError: for a mantissa not below n (corrupted).
          OverflowError: for a mantissa in (max_int, n - max_int): the result of a computation
            that overflowed, or a value too large for a float.
        """
        if self.encoding >= self.public_key.n:
            raise _value_error("Attempted to decode corrupted number")
        elif self.encoding <= self.public_key.max_int:
            mantissa = self.encoding
        elif self.encoding >= self.public_key.n - self.public_key.max_int:
            mantissa = self.encoding - self.public_key.n
        else:
            raise PaillierOverflowError(Status.overflow, "Overflow detected in decrypted number")
        if self.exponent >= 0:
            return mantissa * self.BASE ** self.exponent
        try:
            return mantissa / self.BASE ** -self.exponent
        except OverflowError as e:
            raise PaillierOverflowError(Status.overflow,
                                        "decoded result too large for a float") from e

    def decrease_exponent_to(self, new_exp: int) -> "EncodedNumber":
        """The same value with the lower exponent new_exp (ValueError for a higher one)."""
        if new_exp > self.exponent:
            raise _value_error("New exponent %i should be more negative than old exponent %i"
                               % (new_exp, self.exponent))
        factor = pow(self.BASE, self.exponent - new_exp)
        new_enc = self.encoding * factor % self.public_key.n
        return self.__class__(self.public_key, new_enc, new_exp)


# ---- encrypted numbers ---------------------------------------------------------------------


class EncryptedNumber(object):
    """The Paillier encryption of an encoded int or float.

    Supports ``+`` with ints, floats, EncodedNumbers and EncryptedNumbers (``sum()`` works),
    ``*`` and ``/`` by ints, floats and EncodedNumbers, and ``-``.

    Args:
      public_key (PaillierPublicKey): the key it is encrypted under.
      ciphertext (int): the ciphertext.
      exponent (int): the exponent of the encoding it encrypts.

    Raises:
      TypeError: if ciphertext is not an int or public_key not a PaillierPublicKey.
    """

    def __init__(self, public_key: PaillierPublicKey, ciphertext: int, exponent: int = 0) -> None:
        self.public_key = public_key
        self.__ciphertext = ciphertext
        self.exponent = exponent
        self.__is_obfuscated = False
        if isinstance(ciphertext, EncryptedNumber):  # (python-paillier means to check this)
            raise _type_error("ciphertext should be an integer")
        if not isinstance(self.public_key, PaillierPublicKey):
            raise _type_error("public_key should be a PaillierPublicKey")

    def __add__(self, other) -> "EncryptedNumber":
        """Adds an int, float, EncryptedNumber or EncodedNumber."""
        if isinstance(other, EncryptedNumber):
            return self._add_encrypted(other)
        elif isinstance(other, EncodedNumber):
            return self._add_encoded(other)
        else:
            return self._add_scalar(other)

    def __radd__(self, other) -> "EncryptedNumber":
        return self.__add__(other)

    def __mul__(self, other) -> "EncryptedNumber":
        """Multiplies by an int, float or EncodedNumber."""
        if isinstance(other, EncryptedNumber):
            raise NotImplementedError("Good luck with that...")
        if isinstance(other, EncodedNumber):
            encoding = other
        else:
            encoding = EncodedNumber.encode(self.public_key, other)
        product = self._raw_mul(encoding.encoding)
        exponent = self.exponent + encoding.exponent
        return EncryptedNumber(self.public_key, product, exponent)

    def __rmul__(self, other) -> "EncryptedNumber":
        return self.__mul__(other)

    def __sub__(self, other) -> "EncryptedNumber":
        return self + (other * -1)

    def __rsub__(self, other) -> "EncryptedNumber":
        return other + (self * -1)

    def __truediv__(self, scalar: Number) -> "EncryptedNumber":
        return self.__mul__(1 / scalar)

    def ciphertext(self, be_secure: bool = True) -> int:
        """The ciphertext. With be_secure (the default) it is re-randomised first unless it has
        been since the last homomorphic operation: sums and products skip the randomiser for
        speed, so a ciphertext shared with anyone must be obfuscated."""
        if be_secure and not self.__is_obfuscated:
            self.obfuscate()
        return self.__ciphertext

    def decrease_exponent_to(self, new_exp: int) -> "EncryptedNumber":
        """The same value with the lower exponent new_exp (ValueError for a higher one)."""
        if new_exp > self.exponent:
            raise _value_error("New exponent %i should be more negative than old exponent %i"
                               % (new_exp, self.exponent))
        multiplied = self * pow(EncodedNumber.BASE, self.exponent - new_exp)
        multiplied.exponent = new_exp
        return multiplied

    def obfuscate(self) -> None:
        """Multiplies the ciphertext by a fresh rⁿ mod n²."""
        c = Mpz()
        pk = self.public_key
        rho = pk._rho()
        if rho is None:
            _check(lib.ccz_paillier_rerandomize(byref(c), pk._pub, byref(Mpz(self.__ciphertext))),
                   "obfuscate")
        else:
            _check(lib.ccz_paillier_add(byref(c), pk._pub, byref(Mpz(self.__ciphertext)),
                                        byref(Mpz(rho))), "obfuscate")
        self.__ciphertext = c.get()
        self.__is_obfuscated = True

    def _add_scalar(self, scalar: Number) -> "EncryptedNumber":
        encoded = EncodedNumber.encode(self.public_key, scalar, max_exponent=self.exponent)
        return self._add_encoded(encoded)

    def _add_encoded(self, encoded: EncodedNumber) -> "EncryptedNumber":
        if self.public_key != encoded.public_key:
            raise _value_error("Attempted to add numbers encoded against different public keys!")
        a, b = self, encoded
        if a.exponent > b.exponent:
            a = self.decrease_exponent_to(b.exponent)
        elif a.exponent < b.exponent:
            b = b.decrease_exponent_to(a.exponent)
        encrypted_scalar = a.public_key.raw_encrypt(b.encoding, 1)
        sum_ciphertext = a._raw_add(a.ciphertext(False), encrypted_scalar)
        return EncryptedNumber(a.public_key, sum_ciphertext, a.exponent)

    def _add_encrypted(self, other: "EncryptedNumber") -> "EncryptedNumber":
        if self.public_key != other.public_key:
            raise _value_error("Attempted to add numbers encrypted against different public "
                               "keys!")
        a, b = self, other
        if a.exponent > b.exponent:
            a = self.decrease_exponent_to(b.exponent)
        elif a.exponent < b.exponent:
            b = b.decrease_exponent_to(a.exponent)
        sum_ciphertext = a._raw_add(a.ciphertext(False), b.ciphertext(False))
        return EncryptedNumber(a.public_key, sum_ciphertext, a.exponent)

    def _raw_add(self, e_a: int, e_b: int) -> int:
        return e_a * e_b % self.public_key.nsquare

    def _raw_mul(self, plaintext: int) -> int:
        """The ciphertext of plaintext times this one's (plaintext in [0, n); those at or above
        n - max_int are negative numbers, multiplied through the inverse)."""
        if not isinstance(plaintext, int):
            raise _type_error("Expected ciphertext to be int, not %s" % type(plaintext))
        if plaintext < 0 or plaintext >= self.public_key.n:
            raise _value_error("Scalar out of bounds: %i" % plaintext)
        k = plaintext
        if self.public_key.n - self.public_key.max_int <= plaintext:
            k = plaintext - self.public_key.n
        c = Mpz()
        _check(lib.ccz_paillier_mul_plain(byref(c), self.public_key._pub,
                                          byref(Mpz(self.ciphertext(False))), byref(Mpz(k))),
               "multiply")
        return c.get()


# ---- serialisation (ccz's additions) ---------------------------------------------------------

_FORMATS = {"ccz": 0, "jwk": 1, "phe": 2}


def _format(fmt: str) -> int:
    if fmt not in _FORMATS:
        raise ValueError("format is one of %s, not %r" % (", ".join(_FORMATS), fmt))
    return _FORMATS[fmt]


def dumps_public_key(public_key: PaillierPublicKey, format: str = "phe") -> str:
    """A public key as JSON: "phe" ({"g": n + 1, "n": n}, python-paillier's documented form),
    "jwk" (pheutil's) or "ccz" ({"n": "<decimal>"})."""
    with _lib.Buf() as b:
        _check(lib.ccz_paillier_pub_write_json(byref(b), public_key._pub, _format(format)),
               "public key")
        return b.text()


def dumps_private_key(private_key: PaillierPrivateKey, format: str = "phe") -> str:
    """A private key as JSON (secret: p and q): "phe" ({"g", "n", "p", "q"}), "jwk" (pheutil's,
    with p, q, lambda and mu) or "ccz"."""
    with _lib.Buf(secret=True) as b:
        _check(lib.ccz_paillier_key_write_json(byref(b), private_key._key, _format(format)),
               "private key")
        return b.text()


def loads_key(text: Union[str, bytes]) -> Tuple[PaillierPublicKey, Optional[PaillierPrivateKey]]:
    """A key from JSON in any of the three forms (python-paillier's document {"public_key",
    "values"} gives its public key): (public key, private key or None)."""
    t = _lib.as_bytes(text, "key")
    pub, key = c_void_p(), c_void_p()
    _check(lib.ccz_paillier_load_json(byref(pub), byref(key), t, len(t)), "key")
    key_h = _KeyHandle(key.value) if key.value else None
    pub_h = _PubHandle(pub.value, owned=key_h is None)  # a private key owns its public key
    with _lib.Buf() as b:
        _check(lib.ccz_paillier_pub_write_json(byref(b), pub_h.ptr, 0), "key")
        public_key = PaillierPublicKey(int(json.loads(b.text())["n"]))
    if key_h is None:
        return public_key, None
    with _lib.Buf(secret=True) as b:
        _check(lib.ccz_paillier_key_write_json(byref(b), key_h.ptr, 0), "key")
        doc = json.loads(b.text())
    return public_key, PaillierPrivateKey._from_handle(public_key, int(doc["p"]), int(doc["q"]),
                                                       key_h)


def dumps_encrypted(x: EncryptedNumber, format: str = "phe", be_secure: bool = True) -> str:
    """An encrypted number as JSON: "phe" (["<ciphertext>", exponent]), "jwk" (pheutil's
    {"v", "e"}) or "ccz" ({"ciphertext", "exponent"}); obfuscated first unless be_secure is
    False."""
    n = _lib.PaillierNumber()
    n.c.set(x.ciphertext(be_secure))
    n.exponent = x.exponent
    with _lib.Buf() as b:
        _check(lib.ccz_paillier_number_write_json(byref(b), byref(n), _format(format)), "number")
        return b.text()


def loads_encrypted(public_key: PaillierPublicKey,
                    text: Union[str, bytes]) -> List[EncryptedNumber]:
    """Encrypted numbers from JSON: one number in any of the three forms, or python-paillier's
    document {"public_key": {...}, "values": [[c, e], ...]} (whose key must be public_key).
    Ciphertexts and exponents are checked (in [1, n²), |e| <= 10000)."""
    t = _lib.as_bytes(text, "numbers")
    arr = _lib.ctypes.POINTER(_lib.PaillierNumber)()
    count = c_size_t(0)
    _check(lib.ccz_paillier_numbers_from_json(byref(arr), byref(count), public_key._pub, t,
                                              len(t)), "numbers")
    try:
        return [EncryptedNumber(public_key, _lib.mpz_to_int(arr[i].c), arr[i].exponent)
                for i in range(count.value)]
    finally:
        lib.ccz_paillier_numbers_free(arr, count.value)
