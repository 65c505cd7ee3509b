/* SPDX-License-Identifier: Apache-2.0 */
/* lat_crt_init reports a bad prime count instead of reading an uninitialised RNS base (it used
 * to ignore lat_base_init's status with `(void)!`). */
#include <gmp.h>
#include <stdlib.h>
#include <string.h>

#include "lattice/lattice_internal.h"
#include "test.h"

static void test_crt_init_propagates(void)
{
    ccz_lattice_params p;
    CHECK_OK(ccz_lattice_preset(&p, CCZ_LATTICE_BFV, 12));
    ccz_lattice_context *ctx;
    CHECK_OK(ccz_lattice_context_new(&ctx, &p));
    unsigned count;
    const uint64_t *primes = ccz_lattice_context_primes(&count, ctx);
    CHECK(count >= 2);
    mpz_t Q, coef[MAXP];
    CHECK_STATUS(lat_crt_init(ctx, 0, Q, coef), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(lat_crt_init(ctx, MAXP + 1, Q, coef), CCZ_ERR_INVALID_ARGUMENT);
    /* two primes: Q = q0 q1 and coef[i] = 1 mod q_i, 0 mod q_j */
    CHECK_OK(lat_crt_init(ctx, 2, Q, coef));
    mpz_t q0, q1;
    mpz_init_set_ui(q0, (unsigned long)primes[0]);
    mpz_init_set_ui(q1, (unsigned long)primes[1]);
    CHECK(mpz_divisible_p(Q, q0) && mpz_divisible_p(Q, q1));
    CHECK(mpz_fdiv_ui(coef[0], (unsigned long)primes[0]) == 1);
    CHECK(mpz_fdiv_ui(coef[0], (unsigned long)primes[1]) == 0);
    CHECK(mpz_fdiv_ui(coef[1], (unsigned long)primes[1]) == 1);
    CHECK(mpz_fdiv_ui(coef[1], (unsigned long)primes[0]) == 0);
    mpz_clears(q0, q1, NULL);
    lat_crt_clear(2, Q, coef);
    ccz_lattice_context_free(ctx);
}

/* lat_conv_apply (the fast base extension) against GMP: x in (-A/2, A/2) given by its residues
 * modulo A's primes comes out as x modulo each prime of B, negative x as A - |x| would not. The
 * values stay 2^-20 A away from +-A/2, where the double-precision rounding is exact. Both the
 * path for primes above 2^50 and the one-pass path below it. */
static void check_conv(unsigned abits, unsigned bbits)
{
    enum { N = 16, KA = 3, KB = 2, SAMPLES = 4 * N };
    uint64_t aq[KA], bq[KB];
    CHECK_OK(lat_primes(aq, KA, abits, N, NULL, 0));
    CHECK_OK(lat_primes(bq, KB, bbits, N, aq, KA));
    lat_base a, b;
    CHECK_OK(lat_base_init(&a, aq, KA));
    CHECK_OK(lat_base_init(&b, bq, KB));
    lat_conv c;
    lat_conv_init(&c, &a, &b);
    CHECK(c.narrow == (abits < 50 && bbits < 50));
    mpz_t A, x, lim, edge[7];
    mpz_inits(A, x, lim, NULL);
    mpz_set_ui(A, 1);
    for (unsigned i = 0; i < KA; i++)
        mpz_mul_ui(A, A, (unsigned long)aq[i]);
    /* 0, +-1, +-(A/2 - A/2^20), +-(A/4) */
    for (int e = 0; e < 7; e++)
        mpz_init(edge[e]);
    mpz_set_si(edge[1], 1);
    mpz_set_si(edge[2], -1);
    mpz_fdiv_q_2exp(edge[3], A, 1);
    mpz_fdiv_q_2exp(lim, A, 20);
    mpz_sub(edge[3], edge[3], lim);
    mpz_neg(edge[4], edge[3]);
    mpz_fdiv_q_2exp(edge[5], A, 2);
    mpz_neg(edge[6], edge[5]);
    mpz_mul_2exp(lim, edge[3], 1); /* random values in [-lim/2, lim/2) */
    gmp_randstate_t rs;
    gmp_randinit_default(rs);
    gmp_randseed_ui(rs, 20261205);
    uint64_t in[KA * N], out[KB * N];
    mpz_t xs[SAMPLES];
    int wrong = 0;
    for (int round = 0; round < SAMPLES / N; round++) {
        for (size_t s = 0; s < N; s++) {
            size_t at = (size_t)round * N + s;
            mpz_init(xs[at]);
            if (round == 0 && s < 7) {
                mpz_set(xs[at], edge[s]);
            } else {
                mpz_urandomm(xs[at], rs, lim);
                mpz_fdiv_q_2exp(x, lim, 1);
                mpz_sub(xs[at], xs[at], x);
            }
            for (unsigned i = 0; i < KA; i++)
                in[(size_t)i * N + s] = mpz_fdiv_ui(xs[at], (unsigned long)aq[i]);
        }
        lat_conv_apply(&c, in, out, N);
        for (size_t s = 0; s < N; s++)
            for (unsigned j = 0; j < KB; j++)
                wrong += out[(size_t)j * N + s] !=
                         mpz_fdiv_ui(xs[(size_t)round * N + s], (unsigned long)bq[j]);
    }
    CHECK_INT(wrong, 0);
    for (int i = 0; i < SAMPLES; i++)
        mpz_clear(xs[i]);
    for (int e = 0; e < 7; e++)
        mpz_clear(edge[e]);
    mpz_clears(A, x, lim, NULL);
    gmp_randclear(rs);
}

static void test_conv_exact(void)
{
    check_conv(60, 59); /* primes above 2^52 */
    check_conv(45, 44); /* the one-pass kernels */
    check_conv(60, 45); /* wide to narrow (BFV's Q to R): residues above 2^52 reduced first */
    check_conv(45, 60); /* narrow to wide (R to Q): not the one-pass kernels */
    /* 53-bit sources to narrow targets: residues of 2^52 and more are reduced first, since the
     * 52-bit Shoup products of the narrow primes take multiplicands below 2^52 only */
    check_conv(53, 45);
}

/* lat_rns_ntt and lat_rns_intt transform block i with the prime idx[i] when given idx, with the
 * i-th prime without it: against lat_ntt_forward and lat_ntt_inverse prime by prime. */
static void test_rns_ntt_idx(void)
{
    ccz_lattice_params p;
    CHECK_OK(ccz_lattice_preset(&p, CCZ_LATTICE_BFV, 12));
    ccz_lattice_context *ctx;
    CHECK_OK(ccz_lattice_context_new(&ctx, &p));
    size_t n = ctx->n;
    CHECK(ctx->k >= 2 && ctx->primes[0] != ctx->primes[1]);
    uint64_t *a = malloc(2 * n * 8), *d = malloc(2 * n * 8), *e = malloc(2 * n * 8);
    uint64_t lo = ctx->primes[0] < ctx->primes[1] ? ctx->primes[0] : ctx->primes[1];
    for (size_t x = 0; x < 2 * n; x++)
        a[x] = (x * 7919 + 1) % lo; /* below both primes */
    static const unsigned swap[2] = {1, 0};
    for (int named = 0; named < 2; named++) {
        const unsigned *idx = named ? swap : NULL;
        memcpy(d, a, 2 * n * 8);
        memcpy(e, a, 2 * n * 8);
        lat_rns_ntt(ctx, d, 2, idx);
        lat_ntt_forward(&ctx->ntt[named ? 1 : 0], e);
        lat_ntt_forward(&ctx->ntt[named ? 0 : 1], e + n);
        CHECK(memcmp(d, e, 2 * n * 8) == 0);
        CHECK(memcmp(d, a, 2 * n * 8) != 0);
        lat_rns_intt(ctx, d, 2, idx);
        CHECK(memcmp(d, a, 2 * n * 8) == 0);
    }
    free(a), free(d), free(e);
    ccz_lattice_context_free(ctx);
}

/* The prime search and the NTT tables refuse what they cannot make, and say why. */
static void test_prime_refusals(void)
{
    uint64_t q[4];
    CHECK_STATUS(lat_primes(q, 1, 1, 16, NULL, 0), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "primes of 1 bits: between 2 and 61");
    CHECK_STATUS(lat_primes(q, 1, 62, 16, NULL, 0), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "primes of 62 bits");
    CHECK_OK(lat_primes(q, 1, 61, 16, NULL, 0));
    CHECK(q[0] < (1ull << 61) && q[0] > (1ull << 60) && q[0] % 32 == 1);
    /* 2 bits is the smallest size there is: 3 is 1 mod 2 (n = 1) */
    CHECK_OK(lat_primes(q, 1, 2, 1, NULL, 0));
    CHECK_INT(q[0], 3);
    /* 97 is the only 7-bit prime that is 1 mod 32 */
    CHECK_OK(lat_primes(q, 1, 7, 16, NULL, 0));
    CHECK_INT(q[0], 97);
    CHECK_STATUS(lat_primes(q, 2, 7, 16, NULL, 0), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "there are not 2 primes of 7 bits that are 1 mod 32");
    /* 193 is the only 8-bit one; 97 has 7 bits and does not count */
    CHECK_STATUS(lat_primes(q, 2, 8, 16, NULL, 0), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "there are not 2 primes of 8 bits that are 1 mod 32");
    lat_ntt t;
    CHECK_STATUS(lat_ntt_init(&t, 1000001, 4), CCZ_ERR_INVALID_ARGUMENT); /* 101 x 9901 */
    CHECK_CONTAINS(ccz_error_detail(), "1000001 is not an odd prime below 2^61");
    CHECK_STATUS(lat_ntt_init(&t, 1000003, 4), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "q = 1000003 is not 1 mod 2n = 32: no negacyclic NTT");
    /* 2 is refused (odd primes only), before its order is looked at */
    CHECK_STATUS(lat_ntt_init(&t, 2, 1), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "2 is not an odd prime below 2^61");
    CHECK_OK(lat_ntt_init(&t, 97, 4));
    /* psi is the smallest primitive 2n-th root (x^n = -1, n a power of two): NTT-form objects
     * are saved as they are, so the tables must not depend on which root a search meets first */
    uint64_t smallest = 2;
    for (;;) {
        uint64_t x = 1;
        for (int e = 0; e < 16; e++)
            x = x * smallest % 97;
        if (x == 96)
            break;
        smallest++;
    }
    CHECK_INT(t.psi, smallest);
    lat_ntt_free(&t);
    /* degrees 2^1 to 2^17 (97 is 1 mod 2^5 only, so the order is checked after the degree) */
    CHECK_STATUS(lat_ntt_init(&t, 97, 0), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "degree 2^0 is out of range (2^1 to 2^17)");
    CHECK_STATUS(lat_ntt_init(&t, 97, 18), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "degree 2^18 is out of range (2^1 to 2^17)");
    /* 2^17 itself is in range */
    uint64_t q17;
    CHECK_OK(lat_primes(&q17, 1, 40, (size_t)1 << 17, NULL, 0));
    CHECK_OK(lat_ntt_init(&t, q17, 17));
    CHECK_INT(t.n, (size_t)1 << 17);
    lat_ntt_free(&t);
    /* the largest prime below 2^62 that is 1 mod 32: a prime, but above 2^61 */
    uint64_t big = (1ull << 62) - 31;
    while (!lat_is_prime(big))
        big -= 32;
    CHECK(big > (1ull << 61) && big % 32 == 1);
    char want[80];
    snprintf(want, sizeof want, "%llu is not an odd prime below 2^61", (unsigned long long)big);
    CHECK_STATUS(lat_ntt_init(&t, big, 4), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), want);
}

/* psi is the smallest primitive 2n-th root for every prime and degree, whichever odd power of the
 * first root found it is (the last one, root^(2n - 1) = root^-1, included): against a search of
 * all x with x^n = -1, for each prime below 3000 that is 1 mod 2n, n = 2 .. 32. */
static void test_root_smallest_everywhere(void)
{
    unsigned checked = 0;
    for (unsigned log_n = 1; log_n <= 5; log_n++) {
        uint64_t n = 1ull << log_n;
        for (uint64_t q = 2 * n + 1; q < 3000; q += 2 * n) {
            if (!lat_is_prime(q))
                continue;
            uint64_t smallest = 2;
            for (;; smallest++) {
                uint64_t x = 1;
                for (uint64_t e = 0; e < n; e++)
                    x = x * smallest % q;
                if (x == q - 1)
                    break;
            }
            lat_ntt t;
            CHECK_OK(lat_ntt_init(&t, q, log_n));
            CHECK_INT(t.psi, smallest);
            lat_ntt_free(&t);
            checked++;
        }
    }
    CHECK(checked > 300);
}

/* lat_vec_centred_mod reads a word of [0, p) as centred, (-p/2, p/2]: (p - 1) / 2 is positive
 * and stays as it is, (p + 1) / 2 is negative and becomes (p + 1) / 2 - p modulo q. Below 8 words
 * (the portable loop) and with 8 (the vector kernels where the CPU has them). */
static void test_centred_mod_half(void)
{
    const uint64_t p = 97, q = 193;
    uint64_t a[8] = {0, 1, 48, 49, 96, 48, 49, 50}, out[8];
    const uint64_t want[8] = {0, 1, 48, q - 48, q - 1, 48, q - 48, q - 47};
    for (size_t n = 4; n <= 8; n += 4) {
        memset(out, 0xff, sizeof out);
        lat_vec_centred_mod(out, a, p, p, n, q);
        for (size_t x = 0; x < n; x++)
            CHECK_INT(out[x], want[x]);
    }
}

TEST_MAIN(T(test_crt_init_propagates), T(test_conv_exact), T(test_rns_ntt_idx),
          T(test_prime_refusals), T(test_root_smallest_everywhere), T(test_centred_mod_half))
