# SPDX-License-Identifier: Apache-2.0
"""BFV and CKKS through ccz.lattice: round trips, evaluation (sums, products, relinearised
products, rotations, modulus switching, rescaling), the noise budget, and serialization of the
parameters, keys and ciphertexts into a second context."""
import cmath

import pytest

import ccz
from ccz import lattice


@pytest.fixture(scope="module")
def bfv():
    ctx = lattice.Context.bfv(13)
    sk, pk = ctx.keygen()
    return ctx, sk, pk, ctx.relin_keygen(sk)


@pytest.fixture(scope="module")
def ckks():
    ctx = lattice.Context.ckks(13)
    sk, pk = ctx.keygen()
    return ctx, sk, pk, ctx.relin_keygen(sk)


def test_bfv_round_trip_and_evaluation(bfv):
    ctx, sk, pk, rk = bfv
    t = ctx.plain_modulus
    assert ctx.scheme == "bfv" and ctx.n == 8192 and ctx.slots == 8192 and t.bit_length() == 20
    assert t % (2 * ctx.n) == 1
    xs = [1, 2, 3, -4, t - 1, 0, 12345]
    a = ctx.encrypt(xs, pk)
    assert ctx.decrypt_values(a, sk, signed=True)[:7] == [1, 2, 3, -4, -1, 0, 12345]
    assert ctx.decrypt_values(a, sk)[7:] == [0] * (ctx.n - 7)
    b = ctx.encrypt([10] * 7, sk)  # symmetric
    assert ctx.decrypt_values(a + b, sk, signed=True)[:4] == [11, 12, 13, 6]
    assert ctx.decrypt_values(a - b, sk, signed=True)[:4] == [-9, -8, -7, -14]
    p = ctx.encode([2, 3])
    assert ctx.decrypt_values(a * p, sk, signed=True)[:3] == [2, 6, 0]
    assert ctx.decrypt_values(a + p, sk, signed=True)[:3] == [3, 5, 3]
    fresh = ctx.noise_budget(a, sk)
    sq = ctx.mul(a, a, rk)
    assert ctx.decrypt_values(sq, sk, signed=True)[:7] == [
        (v * v) % t if (v * v) % t <= t // 2 else (v * v) % t - t for v in xs]
    assert 0 < ctx.noise_budget(sq, sk) < fresh
    level = sq.level
    ctx.mod_switch(sq)
    assert sq.level == level - 1
    assert ctx.decrypt_values(sq, sk, signed=True)[:3] == [1, 4, 9]


def test_bfv_rotations(bfv):
    ctx, sk, pk, _ = bfv
    gk = ctx.galois_keygen(sk, [1, -1], conjugate=True)
    half = ctx.n // 2
    row0 = list(range(1, 9))
    a = ctx.encrypt(row0, pk)
    assert ctx.decrypt_values(ctx.rotate(a, 1, gk), sk)[:7] == row0[1:]
    right = ctx.decrypt_values(ctx.rotate(a, -1, gk), sk)
    assert right[0] == 0 and right[1:9] == row0
    swapped = ctx.decrypt_values(ctx.conjugate(a, gk), sk)
    assert swapped[half:half + 8] == row0 and swapped[:8] == [0] * 8
    # a step count no C int holds is refused, not cut to its low bits (2**32 + 1 is 1 there)
    for steps in (2**32 + 1, -2**31 - 1):
        with pytest.raises(Exception, match="does not fit a C int"):
            ctx.rotate(a, steps, gk)


def test_ckks(ckks):
    ctx, sk, pk, rk = ckks
    assert ctx.scheme == "ckks" and ctx.slots == 4096 and ctx.scale == 2.0 ** 40
    xs = [1.5, -2.25, 3.0, 0.001]
    a = ctx.encrypt(xs, pk)
    got = ctx.decrypt_values(a, sk)[:4]
    assert all(abs(g - w) < 1e-6 for g, w in zip(got, xs))
    sq = ctx.mul(a, a, rk)
    assert sq.scale == pytest.approx(2.0 ** 80)
    ctx.rescale(sq)
    assert sq.level == a.level - 1 and sq.scale < 2.0 ** 41
    got = ctx.decrypt_values(sq, sk)[:4]
    assert all(abs(g - w * w) < 1e-5 for g, w in zip(got, xs))
    m = ctx.mul_const(a, 0.5)
    ctx.rescale(m)
    assert abs(ctx.decrypt_values(m, sk)[1] - (-1.125)) < 1e-5
    # complex slots and conjugation
    gk = ctx.galois_keygen(sk, [2], conjugate=True)
    z = ctx.encrypt([1 + 2j, -0.5j], pk)
    c = ctx.decrypt_values(ctx.conjugate(z, gk), sk, complex_values=True)
    # key switching adds noise: about 20 bits of precision at a 2^40 scale
    assert cmath.isclose(c[0], 1 - 2j, abs_tol=1e-4) and cmath.isclose(c[1], 0.5j, abs_tol=1e-4)
    r = ctx.decrypt_values(ctx.rotate(a, 2, gk), sk)
    assert abs(r[0] - 3.0) < 1e-4 and abs(r[1] - 0.001) < 1e-4
    # operands at different levels: a clear error, until one is brought down
    with pytest.raises(ccz.Error) as e:
        ctx.add(sq, a)
    assert e.value.name == "invalid_argument"
    b = ctx.mod_switch(a.copy())
    assert b.level == sq.level


def test_serialization(bfv):
    ctx, sk, pk, rk = bfv
    a = ctx.encrypt([7, 8, 9], pk)
    ctx2 = lattice.Context.load(ctx.save())
    assert (ctx2.n, ctx2.plain_modulus, ctx2.max_level) == (ctx.n, ctx.plain_modulus,
                                                            ctx.max_level)
    sk2 = lattice.SecretKey.load(ctx2, sk.save())
    pk2 = lattice.PublicKey.load(ctx2, pk.save())
    rk2 = lattice.RelinKeys.load(ctx2, rk.save())
    a2 = lattice.Ciphertext.load(ctx2, a.save())
    b2 = ctx2.mul(a2, ctx2.encrypt([2, 2, 2], pk2), rk2)
    assert ctx2.decrypt_values(b2, sk2)[:3] == [14, 16, 18]
    pt = lattice.Plaintext.load(ctx2, ctx.encode([5]).save())
    assert ctx2.decode(pt)[0] == 5
    gk = ctx.galois_keygen(sk, [1])
    assert lattice.GaloisKeys.load(ctx2, gk.save()) is not None
    # another context's ciphertext is refused; so is a cut file
    other = lattice.Context.bfv(12)
    with pytest.raises(ccz.Error):
        lattice.Ciphertext.load(other, a.save())
    with pytest.raises(ccz.Error) as e:
        lattice.Ciphertext.load(ctx, a.save()[:100])
    assert e.value.category == "input"


def test_parameters():
    ctx = lattice.Context("ckks", 13, coeff_bits=[60, 40, 60], scale=2.0 ** 40)
    assert ctx.max_level == 2
    with pytest.raises(ccz.Error) as e:
        lattice.Context("bfv", 13, coeff_bits=[60] * 6)  # beyond the 128-bit table
    assert e.value.category == "usage" or e.value.name in ("invalid_argument", "unsupported")
    ok = lattice.Context("bfv", 13, coeff_bits=[60] * 6, no_security_check=True)
    assert ok.max_level == 5
    with pytest.raises(ValueError):
        lattice.Context("nope")
    assert lattice.simd() in ("avx512-ifma", "avx512", "portable")


def test_decode_refuses_another_contexts_plaintext(bfv, ckks):
    """decode reads the plaintext with the context's N: a plaintext of a smaller context (half
    the coefficients) would be read past its end; it is refused as the other operations
    refuse another context's objects."""
    ctx = bfv[0]
    small = lattice.Context.bfv(12)
    with pytest.raises(ccz.Error) as e:
        ctx.decode(small.encode([1, 2, 3]))
    assert e.value.name == "invalid_argument" and "another context" in e.value.detail
    cctx = ckks[0]
    csmall = lattice.Context.ckks(12)
    with pytest.raises(ccz.Error) as e:
        cctx.decode(csmall.encode([1.5]))
    assert e.value.name == "invalid_argument" and "another context" in e.value.detail
    # a plaintext of the context itself still decodes
    assert ctx.decode(ctx.encode([4, 5]))[:2] == [4, 5]


def test_closed_context_outlived_by_its_objects(monkeypatch):
    """The C keys, plaintexts and ciphertexts read their context (its N and chain, even to wipe
    and free themselves): a closed context's objects raise instead of reading freed tables, and
    the C context is freed only once the last of them is."""
    ctx = lattice.Context.bfv(12)
    sk, pk = ctx.keygen()
    ct = ctx.encrypt([1, 2, 3], pk)
    pt = ctx.encode([4])
    freed = []
    real_ctx_free = lattice.lib.ccz_lattice_context_free
    real_sk_free = lattice.lib.ccz_lattice_secret_key_free
    monkeypatch.setattr(lattice.lib, "ccz_lattice_context_free",
                        lambda p: (freed.append("context"), real_ctx_free(p)))
    monkeypatch.setattr(lattice.lib, "ccz_lattice_secret_key_free",
                        lambda p: (freed.append("secret key"), real_sk_free(p)))
    ctx.close()
    assert freed == []  # its objects still need it
    with pytest.raises(ValueError, match="Context is closed"):
        ct.save()
    with pytest.raises(ValueError, match="Context is closed"):
        sk.save()
    with pytest.raises(ValueError, match="Context is closed"):
        ct.level
    with pytest.raises(ValueError, match="Context is closed"):
        ctx.decrypt(ct, sk)
    sk.close()
    ct.close()
    pt.close()
    assert freed == ["secret key"]
    pk.close()
    assert freed == ["secret key", "context"]
    ctx.close()  # twice: nothing more to free
    assert freed == ["secret key", "context"]


def test_binding_checks(bfv, ckks):
    """What the binding checks or passes on itself: each with its exact refusal or value."""
    ctx, sk, pk, _ = bfv
    with pytest.raises(ccz.Error, match=": at most 32 primes$"):
        lattice.Context("bfv", 13, coeff_bits=[30] * 33)
    with pytest.raises(ccz.Error, match=": 8193 values for 8192 slots$"):
        ctx.encode([0] * 8193)
    t = ctx.plain_modulus  # odd: (t - 1) / 2 is the largest positive value, one more is negative
    assert ctx.decode(ctx.encode([(t - 1) // 2, (t + 1) // 2]), signed=True)[:2] == [
        (t - 1) // 2, -((t - 1) // 2)]
    with pytest.raises(TypeError, match="^key must be a PublicKey or a SecretKey$"):
        ctx.encrypt([1], "key")
    ct = ctx.encrypt([1], pk)
    with pytest.raises(TypeError):
        ct * ct  # a product of ciphertexts needs relin keys: Context.mul
    with pytest.raises(ccz.Error, match="^invalid_argument: rescale: a CKKS operation on a BFV "
                       "context$"):
        ctx.rescale(ct)
    with pytest.raises(ccz.Error, match="^truncated: load plaintext: plaintext: the header is "
                       "incomplete$"):
        lattice.Plaintext.load(ctx, b"not a plaintext")
    cctx, csk, cpk, _ = ckks
    assert cctx.encrypt(cctx.encode([1.5], scale=2.0 ** 30), cpk).scale == 2.0 ** 30
