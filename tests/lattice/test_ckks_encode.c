/* SPDX-License-Identifier: Apache-2.0 */
/* The CKKS encoder's kernels (src/lattice/lat_fft.c): the half-size FFT and the rounding into
 * residues give the same doubles and words on the AVX-512 and portable paths; the coefficients
 * are at least as close to the exact ones (long double, term by term) as the full-size complex
 * FFT's that the encoder had before (kept here as the reference), and the encoder rounds them
 * as round() does. */
#include <complex.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccz/ccz.h"
#include "lattice/lattice_internal.h"
#include "test.h"

static uint64_t rs = 0x243f6a8885a308d3ull;
static uint64_t rnd(void)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return rs;
}

/* uniform in [-1, 1) */
static double unit(void)
{
    return (double)(rnd() >> 11) * 0x1p-52 - 1;
}

static ccz_lattice_context *ctx_new(unsigned log_n)
{
    ccz_lattice_params p; /* two data primes, one above 2^50 and one below, and the special */
    CHECK_OK(ccz_lattice_preset(&p, CCZ_LATTICE_CKKS, 13));
    p.log_n = log_n;
    p.n_primes = 3;
    p.coeff_bits[0] = 60;
    p.coeff_bits[1] = 40;
    p.coeff_bits[2] = 60;
    p.no_security_check = true;
    ccz_lattice_context *ctx;
    CHECK_OK(ccz_lattice_context_new(&ctx, &p));
    return ctx;
}

/* the values at their FFT positions, as the encoder places them */
static void place(const ccz_lattice_context *ctx, const double complex *z, double *re)
{
    size_t h = ctx->n / 2;
    memset(re, 0, ctx->n * sizeof *re);
    for (size_t j = 0; j < h; j++) {
        uint32_t pos = ctx->ckks_pos[j];
        re[pos >> 1] = creal(z[j]);
        re[h + (pos >> 1)] = pos & 1 ? -cimag(z[j]) : cimag(z[j]);
    }
}

/* The encoder before lat_fft.c: a full-size radix-2 complex FFT on the odd powers of zeta, the
 * twist zeta^-k and 1/N, then times the scale (its coefficients before rounding). */
static void old_embed(const ccz_lattice_context *ctx, const double complex *z, double scale,
                      double *out)
{
    size_t n = ctx->n, slots = n / 2, two_n = 2 * n;
    double complex *a = calloc(n, sizeof *a);
    for (size_t j = 0; j < slots; j++) {
        a[ctx->ckks_index[j]] = z[j];
        a[ctx->ckks_index[slots + j]] = conj(z[j]);
    }
    for (size_t i = 1, j = 0; i < n; i++) {
        size_t bit = n >> 1;
        for (; j & bit; bit >>= 1)
            j ^= bit;
        j ^= bit;
        if (i < j) {
            double complex t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }
    for (size_t len = 2; len <= n; len <<= 1) {
        size_t step = two_n / len;
        for (size_t i = 0; i < n; i += len)
            for (size_t j = 0; j < len / 2; j++) {
                size_t e = j * step;
                double complex w = ctx->roots[e ? two_n - e : 0];
                double complex u = a[i + j], v = a[i + j + len / 2] * w;
                a[i + j] = u + v;
                a[i + j + len / 2] = u - v;
            }
    }
    for (size_t k = 0; k < n; k++)
        out[k] = creal(a[k] * ctx->roots[k ? two_n - k : 0] / (double)n) * scale;
    free(a);
}

/* m_k scale = (2 / N) Re sum_j z_j zeta^(-k 3^j) scale, in long double */
static void exact_embed(const ccz_lattice_context *ctx, const double complex *z, double scale,
                        long double *out)
{
    size_t n = ctx->n, slots = n / 2, two_n = 2 * n;
    long double *c = malloc(two_n * sizeof *c), *s = malloc(two_n * sizeof *s);
    uint64_t *e = malloc(slots * 8);
    for (size_t k = 0; k < two_n; k++) {
        long double a = 3.141592653589793238462643383279502884L * (long double)k / (long double)n;
        c[k] = cosl(a);
        s[k] = sinl(a);
    }
    uint64_t g = 1;
    for (size_t j = 0; j < slots; j++, g = g * 3 % two_n)
        e[j] = g;
    for (size_t k = 0; k < n; k++) {
        long double acc = 0;
        for (size_t j = 0; j < slots; j++) {
            size_t x = (size_t)((two_n - (uint64_t)k * e[j] % two_n) % two_n);
            acc += (long double)creal(z[j]) * c[x] - (long double)cimag(z[j]) * s[x];
        }
        out[k] = acc * 2 / (long double)n * (long double)scale;
    }
    free(c);
    free(s);
    free(e);
}

static void test_precision(void)
{
    for (unsigned log_n = 10; log_n <= 13; log_n++) {
        ccz_lattice_context *ctx = ctx_new(log_n);
        size_t n = ctx->n, h = n / 2;
        double scale = 0x1p40;
        double complex *z = malloc(h * sizeof *z);
        for (size_t j = 0; j < h; j++)
            z[j] = unit() + I * unit();
        double *now = malloc(n * 8), *old = malloc(n * 8);
        long double *ref = malloc(n * sizeof *ref);
        place(ctx, z, now);
        lat_ckks_embed(ctx, now, now + h, scale / (double)h);
        old_embed(ctx, z, scale, old);
        exact_embed(ctx, z, scale, ref);
        long double e_now = 0, e_old = 0;
        unsigned miss_now = 0, miss_old = 0; /* roundings other than round(exact) */
        for (size_t k = 0; k < n; k++) {
            e_now = fmaxl(e_now, fabsl((long double)now[k] - ref[k]));
            e_old = fmaxl(e_old, fabsl((long double)old[k] - ref[k]));
            miss_now += round(now[k]) != roundl(ref[k]);
            miss_old += round(old[k]) != roundl(ref[k]);
        }
        printf("N = %zu, scale 2^40: largest error %.3Lg (before: %.3Lg); roundings off %u "
               "(before: %u) of %zu\n",
               n, e_now, e_old, miss_now, miss_old, n);
        CHECK(e_now <= e_old);
        CHECK(miss_now <= miss_old);
        /* the encoder: round() of these coefficients, as residues, in NTT form */
        ccz_lattice_plaintext *pt;
        CHECK_OK(ccz_lattice_plaintext_new(&pt, ctx));
        CHECK_OK(ccz_lattice_ckks_encode(pt, ctx, z, h, scale, 0));
        uint64_t *w = malloc((size_t)ctx->L * n * 8);
        memcpy(w, pt->poly.d, (size_t)ctx->L * n * 8);
        lat_rns_intt(ctx, w, ctx->L, NULL);
        unsigned bad = 0;
        for (unsigned i = 0; i < ctx->L; i++)
            for (size_t k = 0; k < n; k++) {
                uint64_t q = ctx->primes[i];
                int64_t v = (int64_t)round(now[k]);
                uint64_t r = v < 0 ? (q - (uint64_t)(-v) % q) % q : (uint64_t)v % q;
                bad += w[(size_t)i * n + k] != r;
            }
        CHECK_INT(bad, 0);
        free(w);
        ccz_lattice_plaintext_free(pt);
        free(z);
        free(now);
        free(old);
        free(ref);
        ccz_lattice_context_free(ctx);
    }
}

/* AVX-512 and portable: the same doubles from the FFT, the same words from the rounding */
static void test_paths(void)
{
    lat_set_avx512(true);
    if (!lat_avx512()) {
        printf("no AVX-512 path here: the paths are not compared\n");
        return;
    }
    unsigned belows = 0;
    for (unsigned log_n = 10; log_n <= 14; log_n += 2) {
        ccz_lattice_context *ctx = ctx_new(log_n);
        size_t n = ctx->n, h = n / 2;
        double complex *z = malloc(h * sizeof *z);
        for (size_t j = 0; j < h; j++) /* magnitudes from 2^-20 to 2^20 */
            z[j] =
                ldexp(unit(), (int)(rnd() % 41) - 20) + I * ldexp(unit(), (int)(rnd() % 41) - 20);
        double *a = malloc(n * 8), *b = malloc(n * 8);
        place(ctx, z, a);
        memcpy(b, a, n * 8);
        double c = 0x1p30 / (double)h;
        lat_ckks_embed_avx512(ctx, a, a + h, c);
        lat_ckks_embed_portable(ctx, b, b + h, c);
        CHECK(memcmp(a, b, n * 8) == 0);
        /* halves and near-halves, both signs, beside the coefficients */
        for (size_t k = 0; k < n && k < 64; k++)
            a[k] = ((double)(k / 4) + (k % 4 == 0   ? 0.5
                                       : k % 4 == 1 ? nextafter(0.5, 0)
                                                    : 0.25)) *
                   (k & 32 ? -1 : 1);
        if (n > 64)
            a[64] = -0x1p62 + 1024, a[65] = 0x1p62 - 1024; /* the largest allowed */
        /* for each prime, +-t just below a multiple K q whose quotient in doubles rounds up to K
         * (the remainder from it is negative and needs q added): one at least */
        unsigned founds = 0;
        for (unsigned i = 0; i < ctx->L && n > 72; i++) {
            uint64_t q = ctx->primes[i];
            bool found = false;
            for (uint64_t k = 1; !found && k < 4000000 && k * q < (1ull << 61); k++) {
                double t = (double)(k * q); /* the largest integer double below k q */
                while ((uint64_t)t >= k * q)
                    t = floor(nextafter(t, 0));
                found = floor(t * (1.0 / (double)q)) == (double)k;
                if (found)
                    a[66 + 2 * i] = t, a[67 + 2 * i] = -t;
            }
            founds += found;
        }
        CHECK(founds >= 1);
        /* -q and -2q for a prime below 2^53 (exact in doubles): negative multiples, whose
         * residue is 0, not q */
        size_t at = 66 + 2 * (size_t)ctx->L;
        unsigned pi = 0;
        while (ctx->primes[pi] >= (1ull << 53))
            pi++;
        a[at] = -(double)ctx->primes[pi];
        a[at + 1] = -2 * (double)ctx->primes[pi];
        /* for each prime, t beside a multiple of q (k q as a double, the integer doubles next to
         * it, their negatives) whose quotient in doubles is below the true floor (the remainder
         * from it is in [q, 2q) and needs q taken away): whether there is one depends on how
         * 1 / q rounds, so one at least over the three degrees' primes */
        double below[MAXP] = {0};
        for (unsigned i = 0; i < ctx->L; i++) {
            uint64_t q = ctx->primes[i];
            for (uint64_t k = 1; !below[i] && k < 1000000 && k * q < (1ull << 61); k++)
                for (int cand = 0; cand < 6 && !below[i]; cand++) {
                    double t = (double)(k * q);
                    t = cand % 3 == 0   ? t
                        : cand % 3 == 1 ? floor(nextafter(t, 0))
                                        : ceil(nextafter(t, INFINITY));
                    t = cand < 3 ? t : -t;
                    int64_t iv = (int64_t)t;
                    int64_t fl = iv >= 0 ? iv / (int64_t)q : -((-iv + (int64_t)q - 1) / (int64_t)q);
                    if (floor(t * (1.0 / (double)q)) < (double)fl)
                        below[i] = a[at + 2 + i] = t;
                }
            belows += below[i] != 0;
        }
        uint64_t *wa = malloc((size_t)ctx->L * n * 8), *wb = malloc((size_t)ctx->L * n * 8);
        CHECK_OK(lat_ckks_round_rns_avx512(ctx, a, ctx->L, wa));
        CHECK_OK(lat_ckks_round_rns_portable(ctx, a, ctx->L, wb));
        CHECK(memcmp(wa, wb, (size_t)ctx->L * n * 8) == 0);
        CHECK_INT(wa[(size_t)pi * n + at], 0);
        CHECK_INT(wb[(size_t)pi * n + at], 0);
        CHECK_INT(wa[(size_t)pi * n + at + 1], 0);
        CHECK_INT(wb[(size_t)pi * n + at + 1], 0);
        for (unsigned i = 0; i < ctx->L; i++)
            if (below[i])
                CHECK_INT(wa[(size_t)i * n + at + 2 + i],
                          below[i] > 0 ? (uint64_t)below[i] % ctx->primes[i]
                                       : (ctx->primes[i] - (uint64_t)-below[i] % ctx->primes[i]) %
                                             ctx->primes[i]);
        a[n / 2] = -0x1p62; /* too large: both refuse */
        CHECK_STATUS(lat_ckks_round_rns_avx512(ctx, a, ctx->L, wa), CCZ_ERR_OVERFLOW);
        CHECK_STATUS(lat_ckks_round_rns_portable(ctx, a, ctx->L, wb), CCZ_ERR_OVERFLOW);
        a[n / 2] = NAN;
        CHECK_STATUS(lat_ckks_round_rns_avx512(ctx, a, ctx->L, wa), CCZ_ERR_OVERFLOW);
        CHECK_STATUS(lat_ckks_round_rns_portable(ctx, a, ctx->L, wb), CCZ_ERR_OVERFLOW);
        /* whole encodings, the same words */
        ccz_lattice_plaintext *p1, *p2;
        CHECK_OK(ccz_lattice_plaintext_new(&p1, ctx));
        CHECK_OK(ccz_lattice_plaintext_new(&p2, ctx));
        double scale = 0x1p40;
        CHECK_OK(ccz_lattice_ckks_encode(p1, ctx, z, h, scale, 0));
        lat_set_avx512(false);
        CHECK_OK(ccz_lattice_ckks_encode(p2, ctx, z, h, scale, 0));
        lat_set_avx512(true);
        CHECK(memcmp(p1->poly.d, p2->poly.d, (size_t)ctx->L * n * 8) == 0);
        ccz_lattice_plaintext_free(p1);
        ccz_lattice_plaintext_free(p2);
        free(wa);
        free(wb);
        free(a);
        free(b);
        free(z);
        ccz_lattice_context_free(ctx);
    }
    CHECK(belows >= 1);
}

/* Negative values just beyond a multiple of q, -(k q + e) with e >= 1, whose quotient in doubles
 * rounds to above -k (1 / q rounded down and the product's error crossing the integer): the
 * floor of that quotient is -k, one above the true floor, and the remainder -e needs q added; a
 * quotient truncated instead (-k + 1) would leave -e - q, which one addition of q does not fix.
 * The AVX-512 rounding gives q - e, as the portable one does. Rare: the 40-bit prime
 * 1099508391937 (1 mod 2^13) has such values just below k = 2^20 (e.g. k = 1044586, e = 22). */
static void test_negative_quotient_rounded_up(void)
{
    lat_set_avx512(true);
    if (!lat_avx512()) {
        printf("no AVX-512 path here: the paths are not compared\n");
        return;
    }
    ccz_lattice_context *base = ctx_new(12);
    ccz_lattice_params p = base->params;
    p.coeff_primes[1] = 1099508391937ull; /* in place of the 40-bit data prime */
    ccz_lattice_context_free(base);
    ccz_lattice_context *ctx;
    CHECK_OK(ccz_lattice_context_new(&ctx, &p));
    CHECK_INT(ctx->primes[1], 1099508391937ull);
    size_t n = ctx->n;
    double *a = calloc(n, sizeof *a);
    double want[MAXP] = {0};
    unsigned found = 0;
    for (unsigned i = 0; i < ctx->L; i++) {
        uint64_t q = ctx->primes[i];
        for (uint64_t k = (1ull << 20) - 4000; !want[i] && k < (1ull << 20); k++) {
            if (k * q >= (1ull << 61))
                break;
            double t = (double)(k * q);
            for (int step = 0; step < 3 && !want[i]; step++) {
                if (step) /* k q as a double, then the integer doubles above it */
                    t = ceil(nextafter(t, INFINITY));
                uint64_t T = (uint64_t)t;
                if (T > k * q && T % q != 0 && floor(t * (1.0 / (double)q)) < (double)(T / q))
                    want[i] = a[8 * i] = -t;
            }
        }
        found += want[i] != 0;
    }
    CHECK(want[1] != 0);
    uint64_t *wa = malloc((size_t)ctx->L * n * 8), *wb = malloc((size_t)ctx->L * n * 8);
    CHECK_OK(lat_ckks_round_rns_avx512(ctx, a, ctx->L, wa));
    CHECK_OK(lat_ckks_round_rns_portable(ctx, a, ctx->L, wb));
    CHECK(memcmp(wa, wb, (size_t)ctx->L * n * 8) == 0);
    for (unsigned i = 0; i < ctx->L; i++)
        if (want[i]) {
            uint64_t q = ctx->primes[i];
            CHECK_INT(wa[(size_t)i * n + 8 * i], q - (uint64_t)-want[i] % q);
        }
    printf("negative values with the quotient rounded up: %u of %u primes\n", found, ctx->L);
    free(wa);
    free(wb);
    free(a);
    ccz_lattice_context_free(ctx);
}

/* A bare context of degree 2^log_n with two 40-bit primes: just what the kernels read (contexts
 * start at N = 2^10, so the dispatch's small-degree branches are reached only this way) */
static ccz_lattice_context *bare_ctx(unsigned log_n)
{
    ccz_lattice_context *ctx = calloc(1, sizeof *ctx);
    ctx->n = (size_t)1 << log_n;
    ctx->log_n = log_n;
    ctx->k = ctx->L = 2;
    CHECK_OK(lat_primes(ctx->primes, 2, 40, ctx->n, NULL, 0));
    for (unsigned i = 0; i < 2; i++)
        CHECK_OK(lat_ntt_init(&ctx->ntt[i], ctx->primes[i], log_n));
    CHECK_OK(lat_ckks_fft_init(ctx));
    return ctx;
}

static void bare_ctx_free(ccz_lattice_context *ctx)
{
    for (unsigned i = 0; i < 2; i++)
        lat_ntt_free(&ctx->ntt[i]);
    free(ctx->ckks_fft);
    free(ctx->ckks_pos);
    free(ctx);
}

/* The dispatch sends only what each AVX-512 kernel can take to it: the FFT needs N/2 >= 16 (two
 * vectors of eight a block), the rounding N >= 8 (eight coefficients a vector). Below those the
 * portable kernels run, whatever the CPU: for N = 4 to 32, lat_ckks_embed gives the portable
 * doubles and leaves the doubles past the N it owns alone (the AVX-512 FFT at N = 16 would read
 * and write 16 past them); lat_ckks_round_rns gives the portable words, never reads the doubles
 * past the N it rounds (NaN there) nor writes past the L N words. */
static void test_small_degrees_portable(void)
{
    lat_set_avx512(true);
    for (unsigned log_n = 2; log_n <= 5; log_n++) {
        ccz_lattice_context *ctx = bare_ctx(log_n);
        size_t n = ctx->n, h = n / 2, pad = 32;
        double complex *z = malloc(h * sizeof *z);
        for (size_t j = 0; j < h; j++)
            z[j] = unit() + I * unit();
        double *a = malloc((n + pad) * 8), *b = malloc((n + pad) * 8);
        place(ctx, z, a);
        for (size_t k = n; k < n + pad; k++)
            a[k] = 12345.0 + (double)k;
        memcpy(b, a, (n + pad) * 8);
        double c = 0x1p30 / (double)h;
        lat_ckks_embed(ctx, a, a + h, c);
        lat_ckks_embed_portable(ctx, b, b + h, c);
        CHECK(memcmp(a, b, (n + pad) * 8) == 0);
        bool kept = true;
        for (size_t k = n; k < n + pad; k++)
            kept &= a[k] == 12345.0 + (double)k;
        CHECK(kept);
        for (size_t k = n; k < n + pad; k++)
            a[k] = NAN;
        size_t words = (size_t)ctx->L * n;
        uint64_t *wa = malloc((words + pad) * 8), *wb = malloc((words + pad) * 8);
        for (size_t k = 0; k < words + pad; k++)
            wa[k] = wb[k] = 0x5a5a5a5a5a5a5a5aull;
        CHECK_OK(lat_ckks_round_rns(ctx, a, ctx->L, wa));
        CHECK_OK(lat_ckks_round_rns_portable(ctx, a, ctx->L, wb));
        CHECK(memcmp(wa, wb, (words + pad) * 8) == 0);
        CHECK_INT(wa[words], 0x5a5a5a5a5a5a5a5aull);
        free(wa);
        free(wb);
        free(a);
        free(b);
        free(z);
        bare_ctx_free(ctx);
    }
}

/* The rounding with the smallest primes a context takes (14 bits) beside 60-bit ones, on values up
 * to the largest allowed (|t| just below 2^62, |t / q| near 2^48): the quotient from doubles
 * (t times 1 / q) is still off by at most one, so both paths give the exact residues (the vector
 * one where the CPU has it). */
static void test_round_small_prime(void)
{
    ccz_lattice_params p;
    CHECK_OK(ccz_lattice_preset(&p, CCZ_LATTICE_CKKS, 13));
    p.log_n = 10;
    p.n_primes = 3;
    p.coeff_bits[0] = 60;
    p.coeff_bits[1] = 14;
    p.coeff_bits[2] = 60;
    p.no_security_check = true;
    ccz_lattice_context *ctx;
    CHECK_OK(ccz_lattice_context_new(&ctx, &p));
    CHECK(ctx->primes[1] < (1ull << 14));
    size_t n = ctx->n;
    double *a = malloc(n * 8);
    for (size_t k = 0; k < n; k++) /* magnitudes from 2^20 to 2^62 - 1024, both signs */
        a[k] = ldexp(unit(), 62 - (int)(rnd() % 43));
    a[0] = 0x1p62 - 1024, a[1] = -0x1p62 + 1024;
    uint64_t *wa = malloc((size_t)ctx->L * n * 8), *wb = malloc((size_t)ctx->L * n * 8);
    CHECK_OK(lat_ckks_round_rns_portable(ctx, a, ctx->L, wb));
    size_t bad = 0;
    for (unsigned i = 0; i < ctx->L; i++)
        for (size_t k = 0; k < n; k++) {
            double v = round(a[k]);
            uint64_t q = ctx->primes[i], m = (uint64_t)fabs(v) % q;
            bad += wb[(size_t)i * n + k] != (v < 0 && m ? q - m : m);
        }
    CHECK_INT(bad, 0);
    lat_set_avx512(true);
    if (lat_avx512()) {
        CHECK_OK(lat_ckks_round_rns_avx512(ctx, a, ctx->L, wa));
        CHECK(memcmp(wa, wb, (size_t)ctx->L * n * 8) == 0);
    } else {
        printf("SKIP: no AVX-512 path here, the vector rounding is not compared\n");
    }
    free(wa);
    free(wb);
    free(a);
    ccz_lattice_context_free(ctx);
}

int main(int argc, char **argv)
{
    static const test_case cases[] = {T(test_precision), T(test_paths),
                                      T(test_negative_quotient_rounded_up),
                                      T(test_small_degrees_portable), T(test_round_small_prime)};
    return test_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
