/* SPDX-License-Identifier: Apache-2.0 */
/* Paillier's AVX-512 IFMA exponentiation engine against GMP: eight lanes of moduli of several
 * sizes (521 to 4096 bits), edge values (exponent 0 and 1, base 0, -1, a multiple of the
 * modulus), fewer lanes, short secret exponents (every fixed window), and the fixed-base
 * tables; exponentiation modulo squares in pairs (mbx_powm_p2). Without IFMA it reports a skip
 * (exit 77) before any check, never a pass. */
#include <stdio.h>
#include <stdlib.h>

#include "ccz/ccz.h"
#include "paillier/internal.h"
#include "test.h"

static gmp_randstate_t rnd;

static void test_ifma_engine(void)
{
    gmp_randinit_default(rnd);
    gmp_randseed_ui(rnd, 20261202);
    if (!mbx_available()) /* before any check: an honest skip, not a pass */
        test_skip(true, "no AVX-512 IFMA on this CPU: the engine cannot run here");
    unsigned sizes[] = {521, 1024, 2048, 3072, 4096};
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        unsigned B = sizes[si];
        mpz_t b[8], e[8], m[8], o[8], ref;
        mpz_init(ref);
        for (int l = 0; l < 8; l++) {
            mpz_inits(b[l], e[l], m[l], o[l], NULL);
            mpz_urandomb(m[l], rnd, B - (l % 3) * 7); /* lanes of different sizes */
            mpz_setbit(m[l], 0);
            mpz_urandomb(b[l], rnd, B + 20); /* bases above the modulus */
            mpz_urandomb(e[l], rnd, B / 2);
        }
        mpz_set_ui(e[1], 0);
        mpz_set_ui(b[2], 0);
        mpz_set_ui(e[3], 1);
        mpz_sub_ui(b[4], m[4], 1); /* -1 */
        mpz_set(b[5], m[5]);       /* 0 mod m */
        CHECK_OK(mbx_powm(o, (const mpz_t *)b, (const mpz_t *)e, (const mpz_t *)m, 8, B, B / 2));
        int ok = 0;
        for (int l = 0; l < 8; l++) {
            mpz_powm(ref, b[l], e[l], m[l]);
            ok += mpz_cmp(ref, o[l]) == 0;
        }
        CHECK_INT(ok, 8);
        /* fewer lanes */
        CHECK_OK(mbx_powm(o, (const mpz_t *)b, (const mpz_t *)e, (const mpz_t *)m, 3, B, B / 2));
        mpz_powm(ref, b[0], e[0], m[0]);
        CHECK(mpz_cmp(ref, o[0]) == 0);
        for (int l = 0; l < 8; l++)
            mpz_clears(b[l], e[l], m[l], o[l], NULL);
        mpz_clear(ref);
    }
    /* fixed base */
    mpz_t mod, base, e[8], o[8], ref;
    mpz_inits(mod, base, ref, NULL);
    mpz_urandomb(mod, rnd, 2048);
    mpz_setbit(mod, 2047);
    mpz_setbit(mod, 0);
    mpz_urandomb(base, rnd, 2000);
    mbx_fixed *f = NULL;
    CHECK_OK(mbx_fixed_new(&f, base, mod, 512));
    for (int l = 0; l < 8; l++) {
        mpz_inits(e[l], o[l], NULL);
        mpz_urandomb(e[l], rnd, 512);
    }
    mpz_set_ui(e[0], 0);
    CHECK_OK(mbx_fixed_powm(f, o, (const mpz_t *)e, 8));
    int ok = 0;
    for (int l = 0; l < 8; l++) {
        mpz_powm(ref, base, e[l], mod);
        ok += mpz_cmp(ref, o[l]) == 0;
    }
    CHECK_INT(ok, 8);
    mpz_setbit(e[1], 600);
    CHECK_STATUS(mbx_fixed_powm(f, o, (const mpz_t *)e, 8), CCZ_ERR_INVALID_ARGUMENT);
    mbx_fixed_free(f);
    for (int l = 0; l < 8; l++)
        mpz_clears(e[l], o[l], NULL);
    mpz_clears(mod, base, ref, NULL);
    gmp_randclear(rnd);
}

/* Lanes l < n of o against GMP's base[l]^e[l] mod m[l] (e[l] = e[0] when shared). */
static int count_matches(mpz_t *o, mpz_t *b, mpz_t *e, mpz_t *m, unsigned n, bool shared)
{
    mpz_t ref;
    mpz_init(ref);
    int ok = 0;
    for (unsigned l = 0; l < n; l++) {
        mpz_powm(ref, b[l], shared ? e[0] : e[l], m[l]);
        ok += mpz_cmp(ref, o[l]) == 0;
    }
    mpz_clear(ref);
    return ok;
}

/* The Montgomery squaring and the public-exponent sliding window against GMP at Paillier's sizes
 * (moduli n^2 of 4096, 6144 and 8192 bits, exponents of n's size), with the edge bases 0, 1,
 * m - 1 and m, and exponents 0, 1, 2, all ones and a single high bit. */
static void test_ifma_square_and_public(void)
{
    gmp_randinit_default(rnd);
    gmp_randseed_ui(rnd, 20261203);
    if (!mbx_available())
        test_skip(true, "no AVX-512 IFMA on this CPU: the engine cannot run here");
    unsigned sizes[] = {2048, 3072, 4096};
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        unsigned B = sizes[si], M = 2 * B;
        mpz_t b[8], e[8], m[8], o[8];
        for (int l = 0; l < 8; l++) {
            mpz_inits(b[l], e[l], m[l], o[l], NULL);
            mpz_urandomb(m[l], rnd, M);
            mpz_setbit(m[l], M - 1);
            mpz_setbit(m[l], 0);
            mpz_urandomb(b[l], rnd, M);
            mpz_urandomb(e[l], rnd, B);
            mpz_setbit(e[l], B - 1);
        }
        mpz_set_ui(b[0], 0);
        mpz_set_ui(b[1], 1);
        mpz_sub_ui(b[2], m[2], 1);
        mpz_set(b[3], m[3]);
        mpz_sub_ui(b[4], m[4], 2);
        /* secret exponents (constant-time path, squarings by ams), full-size exponents */
        CHECK_OK(mbx_powm(o, (const mpz_t *)b, (const mpz_t *)e, (const mpz_t *)m, 8, M, B));
        CHECK_INT(count_matches(o, b, e, m, 8, false), 8);
        /* a public exponent shared by all lanes: random, then edge exponents */
        for (int k = 0; k < 6; k++) {
            if (k == 1)
                mpz_set_ui(e[0], 0);
            else if (k == 2)
                mpz_set_ui(e[0], 1);
            else if (k == 3)
                mpz_set_ui(e[0], 2);
            else if (k == 4) { /* all ones: every window full */
                mpz_set_ui(e[0], 0);
                mpz_setbit(e[0], B);
                mpz_sub_ui(e[0], e[0], 1);
            } else if (k == 5) { /* one high bit: only squarings after the first window */
                mpz_set_ui(e[0], 0);
                mpz_setbit(e[0], B - 1);
            }
            CHECK_OK(mbx_powm_public(o, (const mpz_t *)b, e[0], (const mpz_t *)m, 8, M));
            CHECK_INT(count_matches(o, b, e, m, 8, true), 8);
        }
        /* fewer lanes, bases above the modulus, the modulus smaller than max_bits */
        mpz_urandomb(e[0], rnd, B);
        mpz_urandomb(b[5], rnd, M + 30);
        mpz_urandomb(m[5], rnd, M - 100);
        mpz_setbit(m[5], 0);
        CHECK_OK(mbx_powm_public(o + 5, (const mpz_t *)b + 5, e[0], (const mpz_t *)m + 5, 3, M));
        mpz_set(e[5], e[0]);
        CHECK_INT(count_matches(o + 5, b + 5, e + 5, m + 5, 3, true), 3);
        for (int l = 0; l < 8; l++)
            mpz_clears(b[l], e[l], m[l], o[l], NULL);
    }
    /* refused: an even modulus, a negative exponent */
    mpz_t b, e, m, o;
    mpz_inits(b, e, m, o, NULL);
    mpz_set_ui(m, 1000);
    mpz_set_ui(e, 3);
    CHECK_STATUS(mbx_powm_public(&o, (const mpz_t *)&b, e, (const mpz_t *)&m, 1, 64),
                 CCZ_ERR_INVALID_ARGUMENT);
    mpz_set_ui(m, 1001);
    mpz_set_si(e, -3);
    CHECK_STATUS(mbx_powm_public(&o, (const mpz_t *)&b, e, (const mpz_t *)&m, 1, 64),
                 CCZ_ERR_INVALID_ARGUMENT);
    mpz_clears(b, e, m, o, NULL);
    gmp_randclear(rnd);
}

/* Short secret exponents take smaller fixed windows (1 to 5 bits by the exponents' length, the
 * 64-bit scalars of scalar multiplication 3): every window size against GMP, each lane's exponent
 * with its top bit set and one lane's shorter, and one lane's exponent 0. */
static void test_ifma_short_exponents(void)
{
    gmp_randinit_default(rnd);
    gmp_randseed_ui(rnd, 20261204);
    if (!mbx_available())
        test_skip(true, "no AVX-512 IFMA on this CPU: the engine cannot run here");
    unsigned ebits[] = {1, 2, 5, 9, 20, 64, 100, 300, 400};
    mpz_t b[8], e[8], m[8], o[8], ref;
    mpz_init(ref);
    for (int l = 0; l < 8; l++)
        mpz_inits(b[l], e[l], m[l], o[l], NULL);
    for (size_t k = 0; k < sizeof ebits / sizeof ebits[0]; k++) {
        unsigned E = ebits[k];
        for (int l = 0; l < 8; l++) {
            mpz_urandomb(m[l], rnd, 4096);
            mpz_setbit(m[l], 4095);
            mpz_setbit(m[l], 0);
            mpz_urandomb(b[l], rnd, 4096);
            mpz_urandomb(e[l], rnd, E);
            mpz_setbit(e[l], E - 1);
        }
        mpz_set_ui(e[6], 0);
        if (E > 1)
            mpz_clrbit(e[7], E - 1);
        CHECK_OK(mbx_powm(o, (const mpz_t *)b, (const mpz_t *)e, (const mpz_t *)m, 8, 4096, E));
        int ok = 0;
        for (int l = 0; l < 8; l++) {
            mpz_powm(ref, b[l], e[l], m[l]);
            ok += mpz_cmp(ref, o[l]) == 0;
        }
        CHECK_INT(ok, 8);
    }
    for (int l = 0; l < 8; l++)
        mpz_clears(b[l], e[l], m[l], o[l], NULL);
    mpz_clear(ref);
    gmp_randclear(rnd);
}

/* Modulo the squares of roots in pairs (mbx_powm_p2) against GMP: roots of the sizes of Paillier's
 * primes and of sizes where R is only 64 times the root (1034 and 514 bits: the upper digit of B
 * is often 1 there), every lane a different root, bases above p^2 and at the edges (0, p, p^2,
 * -1 and p + 1 mod p^2), exponents 0, 1, p - 1 and random; fewer lanes; short exponents. */
static void test_ifma_square_moduli(void)
{
    gmp_randinit_default(rnd);
    gmp_randseed_ui(rnd, 20261203);
    if (!mbx_available())
        test_skip(true, "no AVX-512 IFMA on this CPU: the engine cannot run here");
    unsigned sizes[] = {514, 521, 1024, 1034, 1536, 2048};
    mpz_t b[8], e[8], r[8], o[8], sq, ref;
    mpz_inits(sq, ref, NULL);
    for (int l = 0; l < 8; l++)
        mpz_inits(b[l], e[l], r[l], o[l], NULL);
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        unsigned B = sizes[si];
        for (int l = 0; l < 8; l++) {
            mpz_urandomb(r[l], rnd, B - (l % 3) * 5);
            mpz_setbit(r[l], B - (l % 3) * 5 - 1);
            mpz_setbit(r[l], 0);
            mpz_urandomb(b[l], rnd, 2 * B + 30);
            mpz_sub_ui(e[l], r[l], 1); /* Paillier's exponent */
        }
        mpz_urandomb(e[1], rnd, B);
        mpz_set_ui(e[2], 0);
        mpz_set_ui(e[3], 1);
        mpz_set_ui(b[4], 0);
        mpz_set(b[5], r[5]);
        mpz_mul(b[6], r[6], r[6]);
        mpz_sub_ui(b[7], b[6], 1);
        mpz_add_ui(b[0], r[0], 1);
        CHECK_OK(mbx_powm_p2(o, (const mpz_t *)b, (const mpz_t *)e, (const mpz_t *)r, 8, B, B));
        int ok = 0;
        for (int l = 0; l < 8; l++) {
            mpz_mul(sq, r[l], r[l]);
            mpz_powm(ref, b[l], e[l], sq);
            ok += mpz_cmp(ref, o[l]) == 0;
        }
        CHECK_INT(ok, 8);
        /* fewer lanes, random bases, short exponents (a narrower window) */
        for (int l = 0; l < 3; l++) {
            mpz_urandomb(b[l], rnd, 2 * B);
            mpz_urandomb(e[l], rnd, 40);
        }
        CHECK_OK(mbx_powm_p2(o, (const mpz_t *)b, (const mpz_t *)e, (const mpz_t *)r, 3, B, 40));
        ok = 0;
        for (int l = 0; l < 3; l++) {
            mpz_mul(sq, r[l], r[l]);
            mpz_powm(ref, b[l], e[l], sq);
            ok += mpz_cmp(ref, o[l]) == 0;
        }
        CHECK_INT(ok, 3);
    }
    /* roots of 514 bits, where R is 64 times the root: the upper digit of B is 1 in about one
     * product in 40, in table entries too; many rounds so that every use of it is exercised */
    int good = 0;
    for (int round = 0; round < 24; round++) {
        for (int l = 0; l < 8; l++) {
            mpz_urandomb(r[l], rnd, 514);
            mpz_setbit(r[l], 513);
            mpz_setbit(r[l], 0);
            mpz_urandomb(b[l], rnd, 1028);
            mpz_sub_ui(e[l], r[l], 1);
        }
        CHECK_OK(mbx_powm_p2(o, (const mpz_t *)b, (const mpz_t *)e, (const mpz_t *)r, 8, 514, 514));
        for (int l = 0; l < 8; l++) {
            mpz_mul(sq, r[l], r[l]);
            mpz_powm(ref, b[l], e[l], sq);
            good += mpz_cmp(ref, o[l]) == 0;
        }
    }
    CHECK_INT(good, 24 * 8);
    /* an even root: refused */
    mpz_set_ui(r[0], 1u << 20);
    CHECK_STATUS(mbx_powm_p2(o, (const mpz_t *)b, (const mpz_t *)e, (const mpz_t *)r, 1, 64, 40),
                 CCZ_ERR_INVALID_ARGUMENT);
    for (int l = 0; l < 8; l++)
        mpz_clears(b[l], e[l], r[l], o[l], NULL);
    mpz_clears(sq, ref, NULL);
    gmp_randclear(rnd);
}

/* Moduli of 52 k - 1 bits with their top bits set, where R = 2^(52 D) is only just above 4 m (one
 * bit fewer of margin and the almost-reduced results outgrow R): every exponentiation against
 * GMP, and roots modulo whose squares R is 64 times the root (52 k - 5 bits). */
static void test_ifma_tight_digits(void)
{
    gmp_randinit_default(rnd);
    gmp_randseed_ui(rnd, 20261205);
    if (!mbx_available())
        test_skip(true, "no AVX-512 IFMA on this CPU: the engine cannot run here");
    unsigned sizes[] = {519, 1039, 2079, 4159, 8163};
    mpz_t b[8], e[8], m[8], o[8], ref, sq;
    mpz_inits(ref, sq, NULL);
    for (int l = 0; l < 8; l++)
        mpz_inits(b[l], e[l], m[l], o[l], NULL);
    int ok = 0, want = 0;
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        unsigned B = sizes[si];
        for (int l = 0; l < 8; l++) {
            mpz_set_ui(m[l], 0);
            mpz_setbit(m[l], B);
            mpz_urandomb(ref, rnd, B / 2);
            mpz_sub(m[l], m[l], ref); /* 2^B minus a little: the top bits set */
            mpz_setbit(m[l], 0);
            mpz_sub_ui(b[l], m[l], 2 + (unsigned long)l);
            mpz_urandomb(e[l], rnd, 200);
        }
        CHECK_OK(mbx_powm(o, (const mpz_t *)b, (const mpz_t *)e, (const mpz_t *)m, 8, B, 200));
        ok += count_matches(o, b, e, m, 8, false);
        CHECK_OK(mbx_powm_public(o, (const mpz_t *)b, e[0], (const mpz_t *)m, 8, B));
        ok += count_matches(o, b, e, m, 8, true);
        want += 16;
        if (B + 2 > 4096)
            continue;
        /* roots of B - 4 bits: R = 64 times them exactly */
        for (int l = 0; l < 8; l++) {
            mpz_tdiv_q_2exp(m[l], m[l], 4);
            mpz_setbit(m[l], 0);
            mpz_mul(sq, m[l], m[l]);
            mpz_sub_ui(b[l], sq, 3 + (unsigned long)l);
        }
        CHECK_OK(
            mbx_powm_p2(o, (const mpz_t *)b, (const mpz_t *)e, (const mpz_t *)m, 8, B - 4, 200));
        for (int l = 0; l < 8; l++) {
            mpz_mul(sq, m[l], m[l]);
            mpz_powm(ref, b[l], e[l], sq);
            ok += mpz_cmp(ref, o[l]) == 0;
        }
        want += 8;
    }
    CHECK_INT(ok, want);
    for (int l = 0; l < 8; l++)
        mpz_clears(b[l], e[l], m[l], o[l], NULL);
    mpz_clears(ref, sq, NULL);
    gmp_randclear(rnd);
}

/* What the engine refuses, each with its own fault and nothing computed: an exponent longer than
 * the bound given or negative (its windows would read only part of it, or its magnitude), an even
 * modulus, a modulus longer than max_bits (too few digits), more than 8192 (or, for squares, 4096)
 * bits, nine lanes, a root of 1, a zero for the inverses; the fixed-base table's exponents
 * likewise. */
static void test_ifma_refusals(void)
{
    gmp_randinit_default(rnd);
    gmp_randseed_ui(rnd, 20261206);
    if (!mbx_available())
        test_skip(true, "no AVX-512 IFMA on this CPU: the engine cannot run here");
    mpz_t b[9], e[9], m[9], o[9];
    for (int l = 0; l < 9; l++) {
        mpz_inits(b[l], e[l], m[l], o[l], NULL);
        mpz_urandomb(m[l], rnd, 1024);
        mpz_setbit(m[l], 1023);
        mpz_setbit(m[l], 0);
        mpz_urandomb(b[l], rnd, 1000);
        mpz_urandomb(e[l], rnd, 64);
    }
    const mpz_t *B = (const mpz_t *)b, *E = (const mpz_t *)e, *M = (const mpz_t *)m;
    CHECK_OK(mbx_powm(o, B, E, M, 8, 1024, 64)); /* the baseline is taken */
    CHECK_INT(count_matches(o, b, e, m, 8, false), 8);
    mpz_setbit(e[2], 64); /* 65 bits */
    CHECK_STATUS(mbx_powm(o, B, E, M, 8, 1024, 64), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "lane 2: modulus or exponent out of range");
    CHECK_STATUS(mbx_powm_p2(o, B, E, M, 8, 1024, 64), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "lane 2: modulus or exponent out of range");
    mpz_clrbit(e[2], 64);
    mpz_neg(e[3], e[3]);
    CHECK_STATUS(mbx_powm(o, B, E, M, 8, 1024, 64), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "lane 3: modulus or exponent out of range");
    CHECK_STATUS(mbx_powm_p2(o, B, E, M, 8, 1024, 64), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "lane 3: modulus or exponent out of range");
    mpz_neg(e[3], e[3]);
    mpz_add_ui(m[4], m[4], 1); /* even */
    CHECK_STATUS(mbx_powm(o, B, E, M, 8, 1024, 64), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "lane 4: modulus or exponent out of range");
    mpz_sub_ui(m[4], m[4], 1);
    mpz_setbit(m[5], 1024); /* 1025 bits */
    CHECK_STATUS(mbx_powm(o, B, E, M, 8, 1024, 64), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "lane 5: modulus or exponent out of range");
    CHECK_STATUS(mbx_powm_p2(o, B, E, M, 8, 1024, 64), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "lane 5: modulus or exponent out of range");
    mpz_clrbit(m[5], 1024);
    mpz_set_ui(m[6], 1); /* odd, but no root */
    CHECK_STATUS(mbx_powm_p2(o, B, E, M, 8, 1024, 64), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "lane 6: modulus or exponent out of range");
    mpz_urandomb(m[6], rnd, 1024);
    mpz_setbit(m[6], 1023);
    mpz_setbit(m[6], 0);
    CHECK_OK(mbx_powm_p2(o, B, E, M, 8, 1024, 64)); /* all restored: taken */
    /* bounds of the request itself */
    CHECK_STATUS(mbx_powm(o, B, E, M, 9, 1024, 64), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "bad multi-buffer request");
    CHECK_STATUS(mbx_powm(o, B, E, M, 8, 8193, 64), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "bad multi-buffer request");
    CHECK_OK(mbx_powm(o, B, E, M, 8, 8192, 64));
    CHECK_STATUS(mbx_powm_p2(o, B, E, M, 8, 4097, 64), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "bad multi-buffer request");
    CHECK_OK(mbx_powm_p2(o, B, E, M, 8, 4096, 64));
    /* the fixed-base table: a negative exponent, nine lanes */
    mbx_fixed *f = NULL;
    CHECK_OK(mbx_fixed_new(&f, b[0], m[0], 64));
    mpz_neg(e[1], e[1]);
    CHECK_STATUS(mbx_fixed_powm(f, o, E, 8), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "lane 1: exponent out of range");
    mpz_neg(e[1], e[1]);
    CHECK_STATUS(mbx_fixed_powm(f, o, E, 9), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "bad multi-buffer request");
    CHECK_OK(mbx_fixed_powm(f, o, E, 8));
    /* and its results: every lane's (rows where no lane's digit is 0 included) */
    mpz_t ref;
    mpz_init(ref);
    int fixed_ok = 0;
    for (int l = 0; l < 8; l++) {
        mpz_powm(ref, b[0], e[l], m[0]);
        fixed_ok += mpz_cmp(ref, o[l]) == 0;
    }
    CHECK_INT(fixed_ok, 8);
    mpz_clear(ref);
    mbx_fixed_free(f);
    /* Straus's inverses: a zero has none */
    mpz_t inv[3];
    for (int l = 0; l < 3; l++)
        mpz_init(inv[l]);
    bool ok = true;
    mpz_set_ui(b[1], 0);
    CHECK_STATUS(mbx_straus_inverses(inv, B, 3, m[0], &ok), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "number 1 is not in [1, m)");
    CHECK(!ok);
    mpz_set(b[1], m[0]); /* m itself: 0 modulo m */
    ok = true;
    CHECK_STATUS(mbx_straus_inverses(inv, B, 3, m[0], &ok), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "number 1 is not in [1, m)");
    CHECK(!ok);
    mpz_sub_ui(b[1], m[0], 1); /* m - 1: taken, its own inverse */
    CHECK_OK(mbx_straus_inverses(inv, B, 3, m[0], &ok));
    CHECK(ok && mpz_cmp(inv[1], b[1]) == 0);
    /* Straus's tables at their smallest, two entries (digits 0 and 1, 2 + 1 for -1): b[0] and
     * its inverse; a digit past the table counts as 0 */
    mbx_straus *st = NULL;
    CHECK_OK(mbx_straus_new(&st, B, (const mpz_t *)inv, 1, m[0], 2));
    uint16_t dg[8] = {1};
    size_t bo[8] = {0};
    if (st) {
        CHECK_OK(mbx_straus_run(st, o, dg, bo, 1, 1, 1, 1, 1));
        CHECK(mpz_cmp(o[0], b[0]) == 0);
        dg[0] = 3;
        CHECK_OK(mbx_straus_run(st, o, dg, bo, 1, 1, 1, 1, 1));
        CHECK(mpz_cmp(o[0], inv[0]) == 0);
        dg[0] = 4;
        CHECK_OK(mbx_straus_run(st, o, dg, bo, 1, 1, 1, 1, 1));
        CHECK(mpz_cmp_ui(o[0], 1) == 0);
        dg[0] = 1; /* of a base past the table's k: exponent 0 too */
        bo[0] = 1;
        CHECK_OK(mbx_straus_run(st, o, dg, bo, 1, 1, 1, 1, 1));
        CHECK(mpz_cmp_ui(o[0], 1) == 0);
    }
    mbx_straus_free(st);
    for (int l = 0; l < 3; l++)
        mpz_clear(inv[l]);
    for (int l = 0; l < 9; l++)
        mpz_clears(b[l], e[l], m[l], o[l], NULL);
    gmp_randclear(rnd);
}

/* Results that are 0 through zero divisors: modulo m = p^2 (Paillier's moduli are squares), a
 * base that is a multiple of p raised to 2 or more is 0 though no factor is, and the Montgomery
 * product may leave it as m (almost reduced): the conversion out takes it to 0. Secret and
 * public exponents, every lane, against GMP (0 exactly). */
static void test_ifma_zero_divisors(void)
{
    gmp_randinit_default(rnd);
    gmp_randseed_ui(rnd, 20261207);
    if (!mbx_available())
        test_skip(true, "no AVX-512 IFMA on this CPU: the engine cannot run here");
    mpz_t b[8], e[8], m[8], o[8], p;
    mpz_init(p);
    for (int l = 0; l < 8; l++) {
        mpz_inits(b[l], e[l], m[l], o[l], NULL);
        mpz_urandomb(p, rnd, 512 - 3 * l);
        mpz_setbit(p, 511 - 3 * l);
        mpz_setbit(p, 0);
        mpz_mul(m[l], p, p);
        mpz_mul_ui(b[l], p, 3 + (unsigned long)l); /* a multiple of p, not of p^2 */
        mpz_set_ui(e[l], 2 + (unsigned long)l * 37);
    }
    CHECK_OK(mbx_powm(o, (const mpz_t *)b, (const mpz_t *)e, (const mpz_t *)m, 8, 1024, 10));
    int zero = 0;
    for (int l = 0; l < 8; l++)
        zero += mpz_sgn(o[l]) == 0;
    CHECK_INT(zero, 8);
    CHECK_OK(mbx_powm_public(o, (const mpz_t *)b, e[3], (const mpz_t *)m, 8, 1024));
    zero = 0;
    for (int l = 0; l < 8; l++)
        zero += mpz_sgn(o[l]) == 0;
    CHECK_INT(zero, 8);
    for (int l = 0; l < 8; l++)
        mpz_clears(b[l], e[l], m[l], o[l], NULL);
    mpz_clear(p);
    gmp_randclear(rnd);
}

/* The bounds of each entry point that the refusals above leave out, each with its message: no
 * lanes (every entry point), nine lanes and a modulus longer than max_bits for the public
 * exponent, the fixed-base table's empty request, Straus's tables and runs out of shape, and
 * the inverses modulo an even or too long modulus; the value at each bound taken. */
static void test_ifma_request_bounds(void)
{
    gmp_randinit_default(rnd);
    gmp_randseed_ui(rnd, 20261208);
    if (!mbx_available())
        test_skip(true, "no AVX-512 IFMA on this CPU: the engine cannot run here");
    mpz_t b[9], e[9], m[9], o[9], big;
    mpz_init(big);
    for (int l = 0; l < 9; l++) {
        mpz_inits(b[l], e[l], m[l], o[l], NULL);
        mpz_urandomb(m[l], rnd, 1024);
        mpz_setbit(m[l], 1023);
        mpz_setbit(m[l], 0);
        mpz_urandomb(b[l], rnd, 1000);
        mpz_urandomb(e[l], rnd, 64);
    }
    const mpz_t *B = (const mpz_t *)b, *E = (const mpz_t *)e, *M = (const mpz_t *)m;
    /* no lanes */
    CHECK_STATUS(mbx_powm(o, B, E, M, 0, 1024, 64), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "bad multi-buffer request");
    CHECK_STATUS(mbx_powm_p2(o, B, E, M, 0, 1024, 64), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "bad multi-buffer request");
    CHECK_STATUS(mbx_powm_public(o, B, e[0], M, 0, 1024), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "bad multi-buffer request");
    /* the public exponent: nine lanes, more than 8192 bits, a modulus longer than max_bits */
    CHECK_STATUS(mbx_powm_public(o, B, e[0], M, 9, 1024), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "bad multi-buffer request");
    CHECK_STATUS(mbx_powm_public(o, B, e[0], M, 8, 8193), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "bad multi-buffer request");
    CHECK_OK(mbx_powm_public(o, B, e[0], M, 8, 8192));
    CHECK_INT(count_matches(o, b, e, m, 8, true), 8);
    mpz_setbit(m[5], 1024); /* 1025 bits */
    CHECK_STATUS(mbx_powm_public(o, B, e[0], M, 8, 1024), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "lane 5: modulus out of range");
    CHECK_OK(mbx_powm_public(o, B, e[0], M, 8, 1025)); /* at its bound: taken */
    CHECK_INT(count_matches(o, b, e, m, 8, true), 8);
    mpz_clrbit(m[5], 1024);
    /* the fixed-base table: no lanes */
    mbx_fixed *f = NULL;
    CHECK_OK(mbx_fixed_new(&f, b[0], m[0], 64));
    CHECK_STATUS(mbx_fixed_powm(f, o, E, 0), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "bad multi-buffer request");
    mbx_fixed_free(f);
    /* Straus's tables: no bases, an even modulus, more entries than digits can name */
    mbx_straus *st = NULL;
    CHECK_STATUS(mbx_straus_new(&st, B, NULL, 0, m[0], 2), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "bad multi-buffer request");
    mpz_add_ui(big, m[0], 1);
    CHECK_STATUS(mbx_straus_new(&st, B, NULL, 1, big, 2), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "bad multi-buffer request");
    CHECK_STATUS(mbx_straus_new(&st, B, NULL, 1, m[0], MBX_STRAUS_MAX_ENTRIES + 1),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "bad multi-buffer request");
    mpz_setbit(big, 8192); /* odd, past the engine's 8192 bits */
    mpz_setbit(big, 0);
    CHECK_STATUS(mbx_straus_new(&st, B, NULL, 1, big, 2), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "bad multi-buffer request");
    CHECK(st == NULL);
    CHECK_OK(mbx_straus_new(&st, B, NULL, 1, m[0], MBX_STRAUS_MAX_ENTRIES));
    uint16_t dg[16] = {5};
    size_t bo[16] = {0};
    if (st) { /* digit 5 of base 0: b[0]^5 */
        CHECK_OK(mbx_straus_run(st, o, dg, bo, 1, 1, 1, 1, 1));
        mpz_powm_ui(big, b[0], 5, m[0]);
        CHECK(mpz_cmp(o[0], big) == 0);
        /* runs out of shape: no groups or more than 4096, no lanes or more than the groups
         * hold, no windows, no steps, a window of 0 or more than 16 bits */
        CHECK_STATUS(mbx_straus_run(st, o, dg, bo, 1, 0, 1, 1, 1), CCZ_ERR_INVALID_ARGUMENT);
        CHECK_STATUS(mbx_straus_run(st, o, dg, bo, 1, 4097, 1, 1, 1), CCZ_ERR_INVALID_ARGUMENT);
        CHECK_STATUS(mbx_straus_run(st, o, dg, bo, 1, 1, 0, 1, 1), CCZ_ERR_INVALID_ARGUMENT);
        CHECK_STATUS(mbx_straus_run(st, o, dg, bo, 1, 1, 9, 1, 1), CCZ_ERR_INVALID_ARGUMENT);
        CHECK_STATUS(mbx_straus_run(st, o, dg, bo, 1, 1, 1, 0, 1), CCZ_ERR_INVALID_ARGUMENT);
        CHECK_STATUS(mbx_straus_run(st, o, dg, bo, 0, 1, 1, 1, 1), CCZ_ERR_INVALID_ARGUMENT);
        CHECK_STATUS(mbx_straus_run(st, o, dg, bo, 1, 1, 1, 1, 0), CCZ_ERR_INVALID_ARGUMENT);
        CHECK_STATUS(mbx_straus_run(st, o, dg, bo, 1, 1, 1, 1, 17), CCZ_ERR_INVALID_ARGUMENT);
        CHECK_STR(ccz_error_detail(), "bad multi-buffer request");
        /* two windows of 16 bits: digit 5 then 0, b[0]^(5 * 2^16) */
        CHECK_OK(mbx_straus_run(st, o, dg, bo, 1, 1, 1, 2, 16));
        mpz_powm_ui(big, b[0], 5ul << 16, m[0]);
        CHECK(mpz_cmp(o[0], big) == 0);
    }
    mbx_straus_free(st);
    /* the inverses: no numbers, an even modulus, one of more than 8192 bits */
    mpz_t inv[2];
    mpz_inits(inv[0], inv[1], NULL);
    bool ok = true;
    CHECK_STATUS(mbx_straus_inverses(inv, B, 0, m[0], &ok), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "bad multi-buffer request");
    CHECK(!ok);
    mpz_add_ui(big, m[0], 1);
    CHECK_STATUS(mbx_straus_inverses(inv, B, 2, big, &ok), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "bad multi-buffer request");
    mpz_set_ui(big, 0);
    mpz_setbit(big, 8192);
    mpz_setbit(big, 0); /* 8193 bits */
    CHECK_STATUS(mbx_straus_inverses(inv, B, 2, big, &ok), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "bad multi-buffer request");
    mpz_clrbit(big, 8192);
    mpz_setbit(big, 8191); /* 8192 bits: taken */
    CHECK_OK(mbx_straus_inverses(inv, B, 2, big, &ok));
    mpz_clears(inv[0], inv[1], NULL);
    for (int l = 0; l < 9; l++)
        mpz_clears(b[l], e[l], m[l], o[l], NULL);
    mpz_clear(big);
    gmp_randclear(rnd);
}

/* The fixed-base table for exponents whose length is not a whole number of bytes (a key whose
 * DJN exponent is an odd number of bits): its last row holds their top bits. */
static void test_ifma_fixed_odd_bits(void)
{
    gmp_randinit_default(rnd);
    gmp_randseed_ui(rnd, 20261209);
    if (!mbx_available())
        test_skip(true, "no AVX-512 IFMA on this CPU: the engine cannot run here");
    mpz_t mod, base, e[8], o[8], ref;
    mpz_inits(mod, base, ref, NULL);
    mpz_urandomb(mod, rnd, 1024);
    mpz_setbit(mod, 1023);
    mpz_setbit(mod, 0);
    mpz_urandomb(base, rnd, 1000);
    for (int l = 0; l < 8; l++) {
        mpz_inits(e[l], o[l], NULL);
        mpz_urandomb(e[l], rnd, 61);
        mpz_setbit(e[l], 60); /* 61 bits: the top five in a row of their own */
    }
    mbx_fixed *f = NULL;
    CHECK_OK(mbx_fixed_new(&f, base, mod, 61));
    if (f) {
        CHECK_OK(mbx_fixed_powm(f, o, (const mpz_t *)e, 8));
        int ok = 0;
        for (int l = 0; l < 8; l++) {
            mpz_powm(ref, base, e[l], mod);
            ok += mpz_cmp(ref, o[l]) == 0;
        }
        CHECK_INT(ok, 8);
        mpz_setbit(e[4], 61); /* 62 bits */
        CHECK_STATUS(mbx_fixed_powm(f, o, (const mpz_t *)e, 8), CCZ_ERR_INVALID_ARGUMENT);
        CHECK_STR(ccz_error_detail(), "lane 4: exponent out of range");
    }
    mbx_fixed_free(f);
    /* a modulus past the engine's 8192 bits, or even, has no table */
    f = NULL;
    mpz_setbit(mod, 8192);
    CHECK_STATUS(mbx_fixed_new(&f, base, mod, 61), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "bad multi-buffer request");
    CHECK(f == NULL);
    mpz_clrbit(mod, 8192);
    mpz_setbit(mod, 8191);
    CHECK_OK(mbx_fixed_new(&f, base, mod, 61)); /* 8192 bits */
    mbx_fixed_free(f);
    f = NULL;
    mpz_clrbit(mod, 0);
    CHECK_STATUS(mbx_fixed_new(&f, base, mod, 61), CCZ_ERR_INVALID_ARGUMENT);
    for (int l = 0; l < 8; l++)
        mpz_clears(e[l], o[l], NULL);
    mpz_clears(mod, base, ref, NULL);
    gmp_randclear(rnd);
}

/* Montgomery's trick over eight chains: a number sharing a factor with the modulus, in the first
 * chain (lane 0) of several, leaves every inverse ungiven (ok false, the call itself done); the
 * same numbers without it are all inverted. */
static void test_ifma_inverses_not_invertible(void)
{
    gmp_randinit_default(rnd);
    gmp_randseed_ui(rnd, 20261209);
    if (!mbx_available())
        test_skip(true, "no AVX-512 IFMA on this CPU: the engine cannot run here");
    mpz_t p, q, mod, x[11], inv[11], t;
    mpz_inits(p, q, mod, t, NULL);
    mpz_urandomb(p, rnd, 256);
    mpz_setbit(p, 255);
    mpz_nextprime(p, p);
    mpz_urandomb(q, rnd, 256);
    mpz_setbit(q, 255);
    mpz_nextprime(q, q);
    mpz_mul(mod, p, q);
    for (int i = 0; i < 11; i++) {
        mpz_inits(x[i], inv[i], NULL);
        mpz_urandomm(x[i], rnd, mod);
        mpz_add_ui(x[i], x[i], 1); /* [1, m] */
        mpz_mod(x[i], x[i], mod);
        if (mpz_sgn(x[i]) == 0)
            mpz_set_ui(x[i], 2);
    }
    bool ok = false;
    CHECK_OK(mbx_straus_inverses(inv, (const mpz_t *)x, 11, mod, &ok));
    CHECK(ok);
    int right = 0;
    for (int i = 0; i < 11; i++) {
        mpz_mul(t, x[i], inv[i]);
        mpz_mod(t, t, mod);
        right += mpz_cmp_ui(t, 1) == 0;
    }
    CHECK_INT(right, 11);
    for (int i = 0; i < 11; i += 8) { /* numbers 0 and 8: lane 0, first and second chain link */
        mpz_t keep;
        mpz_init_set(keep, x[i]);
        mpz_mul_ui(x[i], p, 5); /* a multiple of p: no inverse modulo p q */
        ok = true;
        CHECK_OK(mbx_straus_inverses(inv, (const mpz_t *)x, 11, mod, &ok));
        CHECK(!ok);
        mpz_set(x[i], keep);
        mpz_clear(keep);
    }
    for (int i = 0; i < 11; i++)
        mpz_clears(x[i], inv[i], NULL);
    mpz_clears(p, q, mod, t, NULL);
    gmp_randclear(rnd);
}

TEST_MAIN(T(test_ifma_engine), T(test_ifma_square_and_public), T(test_ifma_short_exponents),
          T(test_ifma_square_moduli), T(test_ifma_tight_digits), T(test_ifma_refusals),
          T(test_ifma_zero_divisors), T(test_ifma_request_bounds), T(test_ifma_fixed_odd_bits),
          T(test_ifma_inverses_not_invertible))
