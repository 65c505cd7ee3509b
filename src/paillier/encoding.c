/* SPDX-License-Identifier: Apache-2.0 */
/* python-paillier's encoding: value = mantissa * 16^exponent with the mantissa modulo n,
 * negatives as n - |v|, and anything in (max_int, n - max_int) an overflow. Encrypted numbers
 * carry the exponent beside the ciphertext; arithmetic aligns exponents to the lower one. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/guard.h"
#include "internal.h"

void ccz_paillier_encoded_init(ccz_paillier_encoded *e)
{
    mpz_init(e->mantissa);
    e->exponent = 0;
}

void ccz_paillier_encoded_clear(ccz_paillier_encoded *e)
{
    paillier_mpz_wipe(e->mantissa);
}

void ccz_paillier_number_init(ccz_paillier_number *x)
{
    mpz_init(x->c);
    x->exponent = 0;
}

void ccz_paillier_number_clear(ccz_paillier_number *x)
{
    mpz_clear(x->c);
}

void ccz_paillier_max_int(mpz_t out, const ccz_paillier_pub *pk)
{
    mpz_set(out, pk->max_int);
}

static ccz_status set_signed(const ccz_paillier_pub *pk, ccz_paillier_encoded *e, const mpz_t v,
                             int exponent)
{
    CCZ_ENSURE(mpz_cmpabs(v, pk->max_int) <= 0, CCZ_ERR_OVERFLOW,
               "the value needs %zu bits; this key encodes magnitudes up to n/3 - 1 (%u bits)",
               mpz_sizeinbase(v, 2), (unsigned)mpz_sizeinbase(pk->max_int, 2));
    mpz_mod(e->mantissa, v, pk->n); /* a non-negative residue: negatives become n - |v| */
    e->exponent = exponent;
    return CCZ_OK;
}

ccz_status ccz_paillier_encode_mpz(ccz_paillier_encoded *e, const ccz_paillier_pub *pk,
                                   const mpz_t v)
{
    return set_signed(pk, e, v, 0);
}

ccz_status ccz_paillier_encode_int(ccz_paillier_encoded *e, const ccz_paillier_pub *pk, int64_t v)
{
    mpz_t t;
    mpz_init(t);
    /* through two halves: mpz_set_si takes a long, which is 64 bits here, but be exact anyway */
    mpz_set_si(t, (long)(v / 2));
    mpz_mul_2exp(t, t, 1);
    if (v % 2)
        v < 0 ? mpz_sub_ui(t, t, 1) : mpz_add_ui(t, t, 1);
    ccz_status s = set_signed(pk, e, t, 0);
    mpz_clear(t);
    return s;
}

/* Divides |m| by 2^s rounding to nearest, ties to even (Python's round of a Fraction). */
static void shift_round(mpz_t m, unsigned long s)
{
    if (s == 0)
        return;
    int neg = mpz_sgn(m) < 0;
    mpz_abs(m, m);
    mpz_t r, half;
    mpz_inits(r, half, NULL);
    mpz_fdiv_r_2exp(r, m, s);
    mpz_fdiv_q_2exp(m, m, s);
    mpz_setbit(half, s - 1);
    int c = mpz_cmp(r, half);
    if (c > 0 || (c == 0 && mpz_odd_p(m)))
        mpz_add_ui(m, m, 1);
    if (neg)
        mpz_neg(m, m);
    mpz_clears(r, half, NULL);
}

ccz_status ccz_paillier_encode_double(ccz_paillier_encoded *e, const ccz_paillier_pub *pk, double v,
                                      double precision)
{
    CCZ_ENSURE(isfinite(v), CCZ_ERR_INVALID_ARGUMENT, "cannot encode %f", v);
    CCZ_ENSURE(precision >= 0 && isfinite(precision), CCZ_ERR_INVALID_ARGUMENT,
               "the precision must be positive");
    int bin_exp;
    double f = frexp(v, &bin_exp);
    int exponent;
    if (precision == 0)
        exponent = (int)floor((double)(bin_exp - 53) / 4.0);
    else
        exponent = (int)floor(log(precision) / log(16.0));
    /* v * 16^-exponent = mant * 2^(bin_exp - 53 - 4 exponent), mant a 53-bit integer */
    mpz_t m;
    mpz_init(m);
    mpz_set_d(m, ldexp(f, 53)); /* exact */
    long shift = (long)bin_exp - 53 - 4L * exponent;
    if (shift >= 0)
        mpz_mul_2exp(m, m, (unsigned long)shift);
    else
        shift_round(m, (unsigned long)-shift);
    ccz_status s = set_signed(pk, e, m, exponent);
    mpz_clear(m);
    return s;
}

ccz_status ccz_paillier_decode_mpz(mpz_t v, const ccz_paillier_pub *pk,
                                   const ccz_paillier_encoded *e)
{
    CCZ_ENSURE(mpz_sgn(e->mantissa) >= 0 && mpz_cmp(e->mantissa, pk->n) < 0,
               CCZ_ERR_INVALID_ARGUMENT, "the mantissa is not in [0, n)");
    mpz_t neg;
    mpz_init(neg);
    mpz_sub(neg, pk->n, pk->max_int);
    ccz_status s = CCZ_OK;
    if (mpz_cmp(e->mantissa, pk->max_int) <= 0)
        mpz_set(v, e->mantissa);
    else if (mpz_cmp(e->mantissa, neg) >= 0)
        mpz_sub(v, e->mantissa, pk->n);
    else
        s = ccz_fail(CCZ_ERR_OVERFLOW, "the decrypted value overflowed (it lies between n/3 and "
                                       "2n/3: a computation exceeded what the key encodes)");
    mpz_clear(neg);
    /* 16^65536 is a 262,144-bit factor: past it a caller's exponent (JSON's are within
     * +-10000, products of two within +-20000) would only exhaust memory */
    if (s == CCZ_OK && (e->exponent > 65536 || e->exponent < -65536))
        s = ccz_fail(CCZ_ERR_OVERFLOW, "exponent %d is past +-65536", e->exponent);
    if (s == CCZ_OK && e->exponent > 0) {
        mpz_t f;
        mpz_init(f);
        mpz_ui_pow_ui(f, CCZ_PAILLIER_BASE, (unsigned long)e->exponent);
        mpz_mul(v, v, f);
        mpz_clear(f);
    }
    if (s == CCZ_OK && e->exponent < 0) {
        mpz_t d;
        mpz_init(d);
        mpz_ui_pow_ui(d, CCZ_PAILLIER_BASE, (unsigned long)-e->exponent);
        mpz_t r;
        mpz_init(r);
        mpz_tdiv_r(r, v, d);
        if (mpz_sgn(r) != 0)
            s = ccz_fail(CCZ_ERR_INVALID_ARGUMENT,
                         "the value is not an integer (exponent %d); "
                         "decode it as a real",
                         e->exponent);
        else
            mpz_divexact(v, v, d);
        mpz_clears(d, r, NULL);
    }
    return s;
}

ccz_status ccz_paillier_decode_double(double *out, const ccz_paillier_pub *pk,
                                      const ccz_paillier_encoded *e)
{
    ccz_paillier_encoded t = *e;
    t.exponent = 0;
    mpz_t m;
    mpz_init(m);
    ccz_status s = ccz_paillier_decode_mpz(m, pk, &t);
    if (s == CCZ_OK) {
        /* m * 2^(4 exponent), correctly rounded */
        long exp2 = 4L * e->exponent;
        size_t bits = mpz_sizeinbase(m, 2);
        if (bits > 53) {
            unsigned long sh = (unsigned long)(bits - 53);
            shift_round(m, sh);
            exp2 += (long)sh;
        }
        double d = mpz_get_d(m); /* exact now */
        *out = exp2 > 4000 ? (d > 0   ? HUGE_VAL
                              : d < 0 ? -HUGE_VAL
                                      : 0.0)
                           : ldexp(d, exp2 < -4000 ? -4000 : (int)exp2);
        if (isinf(*out))
            s = ccz_fail(CCZ_ERR_OVERFLOW, "the value does not fit a double");
    }
    mpz_clear(m);
    return s;
}

ccz_status ccz_paillier_encoded_lower(ccz_paillier_encoded *e, const ccz_paillier_pub *pk,
                                      int exponent)
{
    CCZ_ENSURE(exponent <= e->exponent, CCZ_ERR_INVALID_ARGUMENT,
               "the exponent can only be lowered (%d to %d)", e->exponent, exponent);
    CCZ_ENSURE((long)e->exponent - exponent <= 4096, CCZ_ERR_INVALID_ARGUMENT,
               "exponents too far apart");
    mpz_t f;
    mpz_init(f);
    mpz_ui_pow_ui(f, CCZ_PAILLIER_BASE, (unsigned long)(e->exponent - exponent));
    mpz_mul(e->mantissa, e->mantissa, f);
    mpz_mod(e->mantissa, e->mantissa, pk->n);
    e->exponent = exponent;
    mpz_clear(f);
    return CCZ_OK;
}

ccz_status ccz_paillier_encrypt_encoded(ccz_paillier_number *x, const ccz_paillier_pub *pk,
                                        const ccz_paillier_encoded *e)
{
    CCZ_GUARD(ccz_paillier_encrypt(x->c, pk, e->mantissa));
    x->exponent = e->exponent;
    return CCZ_OK;
}

ccz_status ccz_paillier_decrypt_encoded(ccz_paillier_encoded *e, const ccz_paillier_key *k,
                                        const ccz_paillier_number *x)
{
    CCZ_GUARD(ccz_paillier_decrypt(e->mantissa, k, x->c));
    e->exponent = x->exponent;
    return CCZ_OK;
}

/* A ciphertext of exponent `from` as one of exponent `to` (lower): times 16^(from - to). */
static ccz_status lower_cipher(const ccz_paillier_pub *pk, mpz_t out, const mpz_t c, int from,
                               int to)
{
    CCZ_ENSURE((long)from - to <= 4096, CCZ_ERR_INVALID_ARGUMENT, "exponents too far apart");
    mpz_t f;
    mpz_init(f);
    mpz_ui_pow_ui(f, CCZ_PAILLIER_BASE, (unsigned long)(from - to));
    ccz_status s =
        mpz_cmp(f, pk->n) < 0
            ? ccz_paillier_mul_plain(out, pk, c, f)
            : ccz_fail(CCZ_ERR_OVERFLOW, "aligning exponents %d and %d overflows", from, to);
    mpz_clear(f);
    return s;
}

ccz_status ccz_paillier_number_add(ccz_paillier_number *out, const ccz_paillier_pub *pk,
                                   const ccz_paillier_number *a, const ccz_paillier_number *b)
{
    mpz_t x, y;
    mpz_inits(x, y, NULL);
    int e = a->exponent < b->exponent ? a->exponent : b->exponent;
    ccz_status s =
        a->exponent > e ? lower_cipher(pk, x, a->c, a->exponent, e) : (mpz_set(x, a->c), CCZ_OK);
    if (s == CCZ_OK)
        s = b->exponent > e ? lower_cipher(pk, y, b->c, b->exponent, e)
                            : (mpz_set(y, b->c), CCZ_OK);
    if (s == CCZ_OK)
        s = ccz_paillier_add(out->c, pk, x, y);
    if (s == CCZ_OK)
        out->exponent = e;
    mpz_clears(x, y, NULL);
    return s;
}

ccz_status ccz_paillier_number_add_encoded(ccz_paillier_number *out, const ccz_paillier_pub *pk,
                                           const ccz_paillier_number *a,
                                           const ccz_paillier_encoded *b)
{
    ccz_paillier_encoded t;
    ccz_paillier_encoded_init(&t);
    mpz_set(t.mantissa, b->mantissa);
    t.exponent = b->exponent;
    mpz_t x;
    mpz_init(x);
    int e = a->exponent < b->exponent ? a->exponent : b->exponent;
    ccz_status s =
        a->exponent > e ? lower_cipher(pk, x, a->c, a->exponent, e) : (mpz_set(x, a->c), CCZ_OK);
    if (s == CCZ_OK && t.exponent > e)
        s = ccz_paillier_encoded_lower(&t, pk, e);
    if (s == CCZ_OK)
        s = ccz_paillier_add_plain(out->c, pk, x, t.mantissa);
    if (s == CCZ_OK)
        out->exponent = e;
    mpz_clear(x);
    ccz_paillier_encoded_clear(&t);
    return s;
}

ccz_status ccz_paillier_number_mul_encoded(ccz_paillier_number *out, const ccz_paillier_pub *pk,
                                           const ccz_paillier_number *a,
                                           const ccz_paillier_encoded *b)
{
    mpz_t k;
    mpz_init(k);
    mpz_sub(k, pk->n, pk->max_int);
    if (mpz_cmp(b->mantissa, k) >= 0)
        mpz_sub(k, b->mantissa, pk->n); /* negative: by the inverse, a short exponent */
    else if (mpz_cmp(b->mantissa, pk->max_int) <= 0)
        mpz_set(k, b->mantissa);
    else {
        mpz_clear(k);
        return ccz_fail(CCZ_ERR_OVERFLOW, "the scalar is not a valid encoding (overflowed)");
    }
    long e = (long)a->exponent + b->exponent;
    ccz_status s = e >= INT_MIN && e <= INT_MAX
                       ? ccz_paillier_mul_plain(out->c, pk, a->c, k)
                       : ccz_fail(CCZ_ERR_OVERFLOW, "exponents %d and %d add past an int",
                                  a->exponent, b->exponent);
    if (s == CCZ_OK)
        out->exponent = (int)e;
    mpz_clear(k);
    return s;
}
