/* SPDX-License-Identifier: Apache-2.0 */
/* Lattice arithmetic: Barrett and Shoup against 128-bit division, NTT-friendly primes, and the
 * negacyclic NTT: inverse after forward is the identity, pointwise products are negacyclic
 * convolutions (checked against the schoolbook product), on the path the CPU takes (run again
 * on the portable path as lattice/test_ntt_portable); the vector kernels against the scalar
 * formulas. That the AVX-512 transforms give the portable ones' words is test_ntt_paths.c. */
#include <stdlib.h>
#include <string.h>

#include "ccz/lattice.h"
#include "lattice/lat.h"
#include "test.h"

static uint64_t rnd_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 7;
    rnd_state ^= rnd_state << 17;
    return rnd_state;
}

static void test_modular(void)
{
    uint64_t qs[] = {3, 65537, 1125899906842597ull, 2305843009213693951ull /* 2^61 - 1 */,
                     576460752308273153ull};
    for (size_t k = 0; k < sizeof qs / sizeof qs[0]; k++) {
        lat_mod m;
        lat_mod_init(&m, qs[k]);
        int ok = 1;
        for (int i = 0; i < 20000; i++) {
            uint64_t a = rnd() % qs[k], b = rnd() % qs[k];
            uint64_t want = (uint64_t)(((u128)a * b) % qs[k]);
            ok &= lat_mul_mod(a, b, &m) == want;
            uint64_t ws = lat_shoup(b, qs[k]);
            ok &= lat_mul_shoup(a, b, ws, qs[k]) == want;
            uint64_t big = rnd(); /* any 64-bit a, lazily: [0, 2q) */
            uint64_t lz = lat_mul_shoup_lazy(big, b, ws, qs[k]);
            ok &= lz < 2 * qs[k] && lz % qs[k] == (uint64_t)(((u128)big * b) % qs[k]);
            if (a)
                ok &= lat_mul_mod(a, lat_inv_mod(a, &m), &m) == 1;
            u128 z = ((u128)rnd() << 64) | rnd(); /* any 128-bit value */
            ok &= lat_reduce128(z, &m) == (uint64_t)(z % qs[k]);
            /* sums and differences fully reduced, the edges (a + b = q, a - a) included */
            uint64_t s = (uint64_t)(((u128)a + b) % qs[k]);
            ok &= lat_add_mod(a, b, qs[k]) == s;
            ok &= lat_sub_mod(s, b, qs[k]) == a;
            if (a)
                ok &= lat_add_mod(a, qs[k] - a, qs[k]) == 0;
            ok &= lat_sub_mod(a, a, qs[k]) == 0;
        }
        CHECK(ok);
        /* the vector kernels at the edge too: every lane sums to exactly q */
        uint64_t va[16], vb[16], vo[16];
        for (int i = 0; i < 16; i++) {
            va[i] = 1 + rnd() % (qs[k] - 1);
            vb[i] = qs[k] - va[i];
        }
        lat_vec_add(vo, va, vb, 16, qs[k]);
        int zero = 1;
        for (int i = 0; i < 16; i++)
            zero &= vo[i] == 0;
        lat_vec_sub(vo, va, va, 16, qs[k]);
        for (int i = 0; i < 16; i++)
            zero &= vo[i] == 0;
        CHECK(zero);
    }
    uint64_t p[4];
    CHECK_OK(lat_primes(p, 4, 50, 8192, NULL, 0));
    for (int i = 0; i < 4; i++) {
        CHECK((p[i] - 1) % 16384 == 0);
        CHECK(p[i] >> 49 == 1);
        CHECK(i == 0 || p[i] < p[i - 1]);
    }
    uint64_t more[2];
    CHECK_OK(lat_primes(more, 2, 50, 8192, p, 4));
    CHECK(more[0] < p[3]);
    CHECK_STATUS(lat_primes(p, 1, 62, 8192, NULL, 0), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(lat_primes(p, 100, 16, 4096, NULL, 0), CCZ_ERR_INVALID_ARGUMENT);
}

/* c = a b in Z_q[x]/(x^n + 1), schoolbook */
static void negacyclic(uint64_t *c, const uint64_t *a, const uint64_t *b, size_t n,
                       const lat_mod *m)
{
    memset(c, 0, n * sizeof *c);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            uint64_t p = lat_mul_mod(a[i], b[j], m);
            size_t k = i + j;
            if (k < n)
                c[k] = lat_add_mod(c[k], p, m->q);
            else
                c[k - n] = lat_sub_mod(c[k - n], p, m->q);
        }
}

static void test_ntt(void)
{
    unsigned bits[] = {20, 30, 45, 49, 50, 55, 60, 61};
    for (size_t bi = 0; bi < sizeof bits / sizeof bits[0]; bi++)
        for (unsigned log_n = 4; log_n <= 14; log_n += (log_n < 8 ? 1 : 3)) {
            size_t n = (size_t)1 << log_n;
            if (bits[bi] <= log_n + 2)
                continue;
            uint64_t q;
            CHECK_OK(lat_primes(&q, 1, bits[bi], n, NULL, 0));
            lat_ntt t;
            CHECK_OK(lat_ntt_init(&t, q, log_n));
            CHECK(lat_pow_mod(t.psi, 2 * n, &t.mod) == 1 && lat_pow_mod(t.psi, n, &t.mod) == q - 1);
            uint64_t *a = malloc(n * 8), *b = malloc(n * 8), *c = malloc(n * 8), *d = malloc(n * 8),
                     *e = malloc(n * 8);
            for (size_t i = 0; i < n; i++) {
                a[i] = rnd() % q;
                b[i] = rnd() % q;
            }
            a[0] = q - 1; /* extremes */
            b[n - 1] = 0;
            memcpy(c, a, n * 8);
            memcpy(d, a, n * 8);
            lat_ntt_forward_portable(&t, c);
            lat_ntt_forward(&t, d); /* AVX-512 where the CPU has it */
            int reduced = 1;
            for (size_t i = 0; i < n; i++)
                reduced &= c[i] < q && d[i] < q;
            CHECK(reduced);
            lat_ntt_inverse_portable(&t, c);
            lat_ntt_inverse(&t, d);
            CHECK(memcmp(c, a, n * 8) == 0 && memcmp(d, a, n * 8) == 0);
            if (n <= 256) { /* products: pointwise after the NTT = negacyclic convolution */
                memcpy(c, a, n * 8);
                memcpy(d, b, n * 8);
                lat_ntt_forward(&t, c);
                lat_ntt_forward(&t, d);
                for (size_t i = 0; i < n; i++)
                    c[i] = lat_mul_mod(c[i], d[i], &t.mod);
                lat_ntt_inverse(&t, c);
                negacyclic(e, a, b, n, &t.mod);
                CHECK(memcmp(c, e, n * 8) == 0);
            }
            free(a), free(b), free(c), free(d), free(e);
            lat_ntt_free(&t);
        }
    lat_ntt t;
    CHECK_STATUS(lat_ntt_init(&t, 65537, 16), CCZ_ERR_INVALID_ARGUMENT); /* not 1 mod 2^17 */
    CHECK_STATUS(lat_ntt_init(&t, 65535, 4), CCZ_ERR_INVALID_ARGUMENT);  /* not prime */
}

/* the vector kernels against the scalar formulas, both paths, edge values included */
static void test_kernels(void)
{
    unsigned bits[] = {17, 30, 43, 49, 50, 55, 61};
    size_t n = 1003; /* not a multiple of 8: the tails too */
    uint64_t *a = malloc(n * 8), *b = malloc(n * 8), *w = malloc(n * 8), *ws = malloc(n * 8),
             *o1 = malloc(n * 8), *o2 = malloc(n * 8), *acc = malloc(n * 8);
    for (size_t bi = 0; bi < sizeof bits / sizeof bits[0]; bi++) {
        uint64_t q;
        CHECK_OK(lat_primes(&q, 1, bits[bi], 1024, NULL, 0));
        lat_mod m;
        lat_mod_init(&m, q);
        for (size_t i = 0; i < n; i++) {
            a[i] = i < 4 ? q - 1 - i : rnd() % q;
            b[i] = i < 8 ? q - 1 : rnd() % q;
            w[i] = rnd() % q;
            acc[i] = rnd() % q;
        }
        lat_vec_shoup(ws, w, n, q);
        for (int path = 0; path < 2; path++) {
            lat_set_avx512(path == 0);
            int ok = 1;
            lat_vec_mulmod(o1, a, b, n, &m);
            for (size_t i = 0; i < n; i++)
                ok &= o1[i] == lat_mul_mod(a[i], b[i], &m);
            lat_vec_mul_w(o1, a, w, ws, n, q);
            for (size_t i = 0; i < n; i++)
                ok &= o1[i] == lat_mul_mod(a[i], w[i], &m);
            memcpy(o2, acc, n * 8);
            lat_vec_mul_w_add(o2, a, w, ws, n, q);
            for (size_t i = 0; i < n; i++)
                ok &= o2[i] == lat_add_mod(acc[i], lat_mul_mod(a[i], w[i], &m), q);
            lat_vec_add(o1, a, b, n, q);
            lat_vec_sub(o2, a, b, n, q);
            for (size_t i = 0; i < n; i++)
                ok &= o1[i] == lat_add_mod(a[i], b[i], q) && o2[i] == lat_sub_mod(a[i], b[i], q);
            CHECK(ok);
        }
        lat_set_avx512(true);
    }
    free(a), free(b), free(w), free(ws), free(o1), free(o2), free(acc);
}

/* The NTT benchmark (ccz he bench): its prime size checked before any table is made, and a short
 * run timing both directions. */
static void test_bench(void)
{
    double fwd = -1, inv = -1;
    CHECK_STATUS(ccz_lattice_ntt_bench(&fwd, &inv, 10, 70, 0.001), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "primes of 70 bits: between 2 and 61");
    CHECK_STATUS(ccz_lattice_ntt_bench(&fwd, &inv, 10, 1, 0.001), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "primes of 1 bits: between 2 and 61");
    /* the degree is checked before anything is computed from it: at 2^63 the prime search's step
     * 2N wrapped to 0 (a division by zero), at 2^64 the shift 1 << log_n was undefined */
    static const unsigned bad_log_n[] = {18, 63, 64, 200};
    for (size_t i = 0; i < sizeof bad_log_n / sizeof bad_log_n[0]; i++) {
        char want[64];
        snprintf(want, sizeof want, "degree 2^%u is out of range (2^1 to 2^17)", bad_log_n[i]);
        CHECK_STATUS(ccz_lattice_ntt_bench(&fwd, &inv, bad_log_n[i], 30, 0.001),
                     CCZ_ERR_INVALID_ARGUMENT);
        CHECK_STR(ccz_error_detail(), want);
    }
    CHECK(fwd == -1 && inv == -1);
    CHECK_OK(ccz_lattice_ntt_bench(&fwd, &inv, 10, 30, 0.001));
    CHECK(fwd > 0 && inv > 0);
}

TEST_MAIN(T(test_modular), T(test_ntt), T(test_kernels), T(test_bench))
