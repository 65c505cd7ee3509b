# SPDX-License-Identifier: Apache-2.0
"""ccz.paillier against python-paillier's own files (tests/paillier/fixtures/python-paillier:
keys from pheutil and the library, ciphertexts, EncodedNumber.encode results, raw encryptions)
and python-paillier's documented behaviour: encodings bit for bit, exponents, homomorphic
operations, overflow detection, its exceptions, keyrings, serialisation."""
import base64
import json
import math
import random

import pytest

import ccz
from ccz import paillier
from ccz.paillier import EncodedNumber, EncryptedNumber


def b64int(s: str) -> int:
    return int.from_bytes(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)), "big")


@pytest.fixture(scope="module")
def phe_keys(fixtures):
    """python-paillier's 1024-bit key pair (pheutil's JWK), read by phe's documented means."""
    jwk = json.loads((fixtures / "pheutil-priv.jwk").read_text())
    pk = paillier.PaillierPublicKey(b64int(jwk["pub"]["n"]))
    return pk, paillier.PaillierPrivateKey(pk, b64int(jwk["p"]), b64int(jwk["q"]))


@pytest.fixture(scope="module")
def keys():
    return paillier.generate_paillier_keypair(n_length=1024)


@pytest.fixture(scope="module")
def cases(fixtures):
    return json.loads((fixtures / "cases.json").read_text())


def test_keys_from_pheutil(fixtures, phe_keys):
    pk, sk = phe_keys
    assert pk.g == pk.n + 1 and pk.nsquare == pk.n ** 2 and pk.max_int == pk.n // 3 - 1
    assert pk.n.bit_length() == 1024 and sk.p < sk.q and sk.p * sk.q == pk.n
    for name in ("pheutil-priv.jwk", "pheutil-legacy-priv.jwk"):
        pub, priv = paillier.loads_key((fixtures / name).read_text())
        assert priv is not None and priv.p * priv.q == pub.n
    pub, priv = paillier.loads_key((fixtures / "pheutil-pub.jwk").read_text())
    assert priv is None and pub == pk
    # python-paillier's document gives its public key
    pub, priv = paillier.loads_key((fixtures / "phe-basic.json").read_text())
    assert pub == pk and priv is None


def test_decrypts_what_python_paillier_wrote(fixtures, cases):
    keys = {}
    for name in ("pheutil-priv.jwk", "pheutil-legacy-priv.jwk"):
        keys[name] = paillier.loads_key((fixtures / name).read_text())
    n = 0
    for case in cases["cases"]:
        pk, sk = keys[case["key"]]
        ct = case["ciphertext"]
        if isinstance(ct, dict):  # pheutil's {"v", "e"}
            x = EncryptedNumber(pk, int(ct["v"]), int(ct["e"]))
        else:  # the library's basic serialisation [str(c), e]
            x = EncryptedNumber(pk, int(ct[0]), int(ct[1]))
        assert str(sk.decrypt(x)) == case["plain"], case["by"]
        if "encoding" in case:
            enc = sk.decrypt_encoded(x)
            assert (enc.encoding, enc.exponent) == (int(case["encoding"]), case["exponent"])
        n += 1
    assert n == len(cases["cases"]) >= 40


def test_basic_serialisation_document(fixtures, cases, phe_keys):
    pk, sk = phe_keys
    doc = json.loads((fixtures / "phe-basic.json").read_text())
    nums = paillier.loads_encrypted(pk, json.dumps(doc))
    want = [c["plain"] for c in cases["cases"] if isinstance(c["ciphertext"], list)]
    assert [str(sk.decrypt(x)) for x in nums] == want


def test_raw_encryptions(cases, phe_keys):
    pk, sk = phe_keys
    for v in cases["raw"]["values"]:
        assert sk.raw_decrypt(int(v["ciphertext"])) == int(v["plaintext"])
    # raw_encrypt with a given r is python-paillier's formula exactly: (1 + n m) r^n mod n^2
    r = 0x1234567890ABCDEF
    for m in (0, 1, 42, pk.n - 1, pk.n - pk.max_int, pk.max_int + 5, -3):
        want = (1 + pk.n * (m % pk.n)) * pow(r, pk.n, pk.nsquare) % pk.nsquare
        assert pk.raw_encrypt(m, r_value=r) == want
        assert sk.raw_decrypt(pk.raw_encrypt(m)) == m % pk.n
    x = pk.encrypt(7, r_value=r)
    assert x.ciphertext(be_secure=False) == pk.raw_encrypt(7, r)
    assert x.ciphertext() != pk.raw_encrypt(7, r)  # be_secure: obfuscated first
    assert sk.decrypt(x) == 7


def test_encodings_bit_for_bit(cases, phe_keys):
    pk, _ = phe_keys
    for e in cases["encodings"]["values"]:
        v = int(e["value"]) if e["type"] == "int" else float(e["value"])
        enc = EncodedNumber.encode(pk, v, precision=e["precision"])
        assert (enc.encoding, enc.exponent) == (int(e["encoding"]), e["exponent"]), e
    assert EncodedNumber.BASE == 16 and EncodedNumber.LOG2_BASE == 4.0
    assert EncodedNumber.FLOAT_MANTISSA_BITS == 53
    # max_exponent lowers the exponent; decrease_exponent_to keeps the value
    enc = EncodedNumber.encode(pk, 0.5, max_exponent=-20)
    assert enc.exponent == -20 and enc.decode() == 0.5
    assert enc.decrease_exponent_to(-25).decode() == 0.5
    with pytest.raises(ValueError):
        enc.decrease_exponent_to(-1)
    with pytest.raises(TypeError):
        EncodedNumber.encode(pk, "1")


def test_homomorphic_operations(keys):
    pk, sk = keys
    a, b = pk.encrypt(3.5), pk.encrypt(-2)
    assert sk.decrypt(a + b) == 1.5
    assert sk.decrypt(a + 5) == 8.5 and sk.decrypt(5 + a) == 8.5
    assert sk.decrypt(a - b) == 5.5 and sk.decrypt(10 - a) == 6.5
    assert sk.decrypt(a * 3) == 10.5 and sk.decrypt(-2.5 * a) == -8.75
    assert sk.decrypt(a / 4) == 0.875
    assert sk.decrypt(sum([a, b, b])) == -0.5
    assert sk.decrypt(b * -1) == 2 and isinstance(sk.decrypt(b), int)
    assert sk.decrypt(a + EncodedNumber.encode(pk, 0.25)) == 3.75
    x = pk.encrypt(2 ** 60)
    assert sk.decrypt(x * (2 ** 60)) == 2 ** 120  # exact integers of any size
    with pytest.raises(NotImplementedError):
        a * b
    # exponents follow python-paillier: the lower wins
    y = pk.encrypt(1) + pk.encrypt(0.5)
    assert y.exponent == EncodedNumber.encode(pk, 0.5).exponent
    z = pk.encrypt(1.0).decrease_exponent_to(-30)
    assert z.exponent == -30 and sk.decrypt(z) == 1.0
    # a dot product, as in federated learning
    w = [0.5, -1.25, 2.0]
    xs = [pk.encrypt(v) for v in (4, 2, -1)]
    assert sk.decrypt(sum(wi * xi for wi, xi in zip(w, xs))) == 2 - 2.5 - 2
    # obfuscation changes the ciphertext, not the value
    c1 = a.ciphertext(False)
    a.obfuscate()
    assert a.ciphertext(False) != c1 and sk.decrypt(a) == 3.5
    many = pk.encrypt_many([1, 2.5, -3], threads=2)
    assert [sk.decrypt(v) for v in many] == [1, 2.5, -3]


def test_overflow_and_errors(keys):
    pk, sk = keys
    with pytest.raises(ValueError) as e:
        pk.encrypt(pk.max_int + 1)
    assert isinstance(e.value, ccz.Error) and e.value.name == "overflow"
    big = pk.encrypt(pk.max_int)
    with pytest.raises(OverflowError) as e:
        sk.decrypt(big + big)
    assert isinstance(e.value, ccz.Error) and e.value.status == ccz.Status.overflow
    with pytest.raises(TypeError):
        sk.decrypt(42)
    with pytest.raises(TypeError):
        pk.raw_encrypt(1.5)
    with pytest.raises(TypeError):
        EncryptedNumber(pk, pk.encrypt(1))
    with pytest.raises(TypeError):
        EncryptedNumber("not a key", 5)
    other_pk, other_sk = paillier.generate_paillier_keypair(n_length=512)
    with pytest.raises(ValueError):
        other_sk.decrypt(pk.encrypt(1))
    with pytest.raises(ValueError):
        pk.encrypt(1) + other_pk.encrypt(1)
    with pytest.raises(ValueError) as e:
        sk.raw_decrypt(0)  # outside [1, n^2)
    assert e.value.name == "invalid_argument"
    with pytest.raises(ValueError):
        sk.raw_decrypt(pk.n)  # shares a factor with n: no encryption makes it
    with pytest.raises(ValueError):
        paillier.PaillierPrivateKey(pk, sk.p, sk.q + 2)
    with pytest.raises(ValueError):
        paillier.generate_paillier_keypair(n_length=1000)  # not a multiple of 16
    with pytest.raises(ValueError) as e:
        big._raw_mul(pk.n)
    assert "out of bounds" in str(e.value)


def test_refusals_exact(keys):
    """Each of python-paillier's checks the binding makes itself, with its exception and
    message (libccz would refuse some of these too, but with another exception or none)."""
    pk, sk = keys
    with pytest.raises(paillier.PaillierTypeError, match=": n must be an int, not str$"):
        paillier.PaillierPublicKey(str(pk.n))
    with pytest.raises(paillier.PaillierValueError,
                       match=": given public key does not match the given p and q.$"):
        paillier.PaillierPrivateKey(pk, sk.p, sk.q + 2)
    with pytest.raises(paillier.PaillierValueError, match=": p and q have to be different$"):
        paillier.PaillierPrivateKey(paillier.PaillierPublicKey(sk.p * sk.p), sk.p, sk.p)
    with pytest.raises(paillier.PaillierValueError,
                       match=": given public key and totient do not match.$"):
        paillier.PaillierPrivateKey.from_totient(pk, pk.n)  # p + q = 1: no real roots
    other_pk, other_sk = paillier.generate_paillier_keypair(n_length=512)
    with pytest.raises(paillier.PaillierValueError,
                       match=": encrypted_number was encrypted against a different key!$"):
        other_sk.decrypt(pk.encrypt(1))
    with pytest.raises(paillier.PaillierValueError,
                       match=": Attempted to add numbers encoded against different public keys!$"):
        pk.encrypt(1) + EncodedNumber.encode(other_pk, 1)
    with pytest.raises(paillier.PaillierTypeError,
                       match=": Expected ciphertext to be an int, not: <class 'str'>$"):
        sk.raw_decrypt("5")
    with pytest.raises(ValueError, match="^format is one of ccz, jwk, phe, not 'pem'$"):
        paillier.dumps_public_key(pk, "pem")
    # an encoding of n itself is corrupted, not 0; n - 1 is -1
    with pytest.raises(paillier.PaillierValueError, match=": Attempted to decode corrupted number$"):
        EncodedNumber(pk, pk.n, 0).decode()
    assert EncodedNumber(pk, pk.n - 1, 0).decode() == -1
    # a lower exponent keeps the mantissa modulo n: -1 at exponent 0 is -16 at exponent -1
    low = EncodedNumber.encode(pk, -1).decrease_exponent_to(-1)
    assert (low.encoding, low.exponent, low.decode()) == (pk.n - 16, -1, -1.0)


def test_private_key_forms(keys):
    pk, sk = keys
    again = paillier.PaillierPrivateKey(pk, sk.q, sk.p)  # p < q whichever order given
    assert again == sk and hash(again) == hash(sk) and again.p == sk.p
    assert paillier.PaillierPrivateKey.from_totient(pk, (sk.p - 1) * (sk.q - 1)) == sk
    with pytest.raises(ValueError):
        paillier.PaillierPrivateKey.from_totient(pk, 12345)
    # the CRT helpers python-paillier exposes
    assert sk.p_inverse * sk.p % sk.q == 1
    assert sk.crt(3 % sk.p, 3 % sk.q) == 3
    assert sk.l_function(1 + 5 * sk.p, sk.p) == 5
    c = pk.raw_encrypt(99)
    mp = sk.l_function(pow(c, sk.p - 1, sk.psquare), sk.p) * sk.hp % sk.p
    mq = sk.l_function(pow(c, sk.q - 1, sk.qsquare), sk.q) * sk.hq % sk.q
    assert sk.crt(mp, mq) == 99
    assert repr(pk).startswith("<PaillierPublicKey ") and repr(sk).startswith(
        "<PaillierPrivateKey for <PaillierPublicKey ")


def test_keyring(keys):
    pk, sk = keys
    ring = paillier.PaillierPrivateKeyring()
    pk2, sk2 = paillier.generate_paillier_keypair(ring, n_length=512)
    ring.add(sk)
    assert len(ring) == 2 and ring[pk] is sk and ring[pk2] is sk2
    assert ring.decrypt(pk.encrypt(5)) == 5 and ring.decrypt(pk2.encrypt(-6)) == -6
    del ring[pk2]
    with pytest.raises(KeyError):
        ring.decrypt(pk2.encrypt(1))
    with pytest.raises(TypeError):
        ring.add("key")
    assert paillier.PaillierPrivateKeyring([sk])[pk] is sk


def test_serialisation(keys):
    pk, sk = keys
    nums = [pk.encrypt(v) for v in (1, -2.5, 1e-3)]
    # python-paillier's documented form, built from the attributes and read with constructors
    doc = {"public_key": {"g": pk.g, "n": pk.n},
           "values": [(str(x.ciphertext()), x.exponent) for x in nums]}
    text = json.dumps(doc)
    rec = json.loads(text)
    pub = paillier.PaillierPublicKey(n=int(rec["public_key"]["n"]))
    back = [EncryptedNumber(pub, int(c), int(e)) for c, e in rec["values"]]
    assert [sk.decrypt(x) for x in back] == [1, -2.5, 1e-3]
    # and the helpers: every form both ways
    assert [sk.decrypt(x) for x in paillier.loads_encrypted(pk, text)] == [1, -2.5, 1e-3]
    for fmt in ("phe", "jwk", "ccz"):
        p2, s2 = paillier.loads_key(paillier.dumps_private_key(sk, fmt))
        assert p2 == pk and s2 == sk
        p3, s3 = paillier.loads_key(paillier.dumps_public_key(pk, fmt))
        assert p3 == pk and s3 is None
        (x,) = paillier.loads_encrypted(pk, paillier.dumps_encrypted(nums[1], fmt))
        assert sk.decrypt(x) == -2.5 and x.exponent == nums[1].exponent
    assert json.loads(paillier.dumps_public_key(pk)) == {"g": pk.g, "n": pk.n}
    with pytest.raises(ccz.Error):
        paillier.loads_key('{"n": "15"}')


def test_public_key_checks():
    with pytest.raises(ValueError):
        paillier.PaillierPublicKey(2 ** 20 + 1).encrypt(1)  # too small for libccz
    assert paillier.PaillierPublicKey(35) == paillier.PaillierPublicKey(35)
    random.seed(1)
    assert math.isqrt(16) == 4


def test_randomisers_never_shared(keys):
    """Randomisers made eight at a time are each used once, and a forked child never takes one
    of its parent's stash."""
    import os
    pk, sk = keys
    if pk._rho() is None:
        pytest.skip("no AVX-512 IFMA here (or CCZ_CPU=portable): libccz makes each randomiser")
    seen = {pk._rho() for _ in range(20)}
    assert len(seen) == 20
    for r in seen:  # each an encryption of 0
        assert sk.raw_decrypt(r) == 0
    pk = paillier.PaillierPublicKey(pk.n)  # a fresh stash: seven left after the first
    seen.add(pk._rho())
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its first randomiser, to the parent
        try:
            os.write(w, str(pk._rho()).encode())
        finally:
            os._exit(0)
    os.close(w)
    child = int(os.read(r, 1 << 16))
    os.waitpid(pid, 0)
    os.close(r)
    assert child not in seen and child != pk._rho()
    cts = {pk.encrypt(5).ciphertext() for _ in range(10)}
    assert len(cts) == 10
