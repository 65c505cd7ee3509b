/* SPDX-License-Identifier: Apache-2.0 */
/* The lattice context: parameters checked against the 128-bit security table, the prime chain,
 * NTT tables, BFV's per-level tables (computed with GMP once), the encoders' slot maps. RNS
 * bases are in lat_rns.c, sampling in lat_sample.c, automorphisms in lat_galois.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gmp.h>

#include "core/guard.h"
#include "lattice_internal.h"

/* ---- parameters -------------------------------------------------------------------------------*/

unsigned ccz_lattice_max_bits_128(unsigned log_n)
{
    /* HomomorphicEncryption.org standard, classical 128-bit, ternary secrets */
    switch (log_n) {
    case 10:
        return 27;
    case 11:
        return 54;
    case 12:
        return 109;
    case 13:
        return 218;
    case 14:
        return 438;
    case 15:
        return 881;
    default:
        return 0;
    }
}

ccz_status ccz_lattice_preset(ccz_lattice_params *p, ccz_lattice_scheme scheme, unsigned log_n)
{
    memset(p, 0, sizeof *p);
    CCZ_ENSURE(log_n >= 12 && log_n <= 15, CCZ_ERR_INVALID_ARGUMENT,
               "presets exist for N = 4096, 8192, 16384 and 32768 (log_n 12 to 15)");
    p->scheme = scheme;
    p->log_n = log_n;
    static const unsigned bfv[4][16] = {
        {36, 36, 37},
        {43, 43, 44, 44, 44},
        {48, 48, 48, 49, 49, 49, 49, 49, 49},
        {55, 55, 55, 55, 55, 55, 55, 55, 55, 55, 55, 55, 55, 55, 55, 56},
    };
    static const unsigned bfv_n[4] = {3, 5, 9, 16};
    static const unsigned ckks[4][17] = {
        {30, 24, 24, 30},
        {60, 40, 40, 60},
        {60, 50, 50, 50, 50, 50, 50, 60},
        {60, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 60},
    };
    static const unsigned ckks_n[4] = {4, 4, 8, 17};
    static const double ckks_scale[4] = {0x1p24, 0x1p40, 0x1p50, 0x1p50};
    unsigned i = log_n - 12;
    if (scheme == CCZ_LATTICE_BFV) {
        p->n_primes = bfv_n[i];
        memcpy(p->coeff_bits, bfv[i], sizeof bfv[i]);
        /* a 20-bit batching prime (1 mod 2N), as SEAL's PlainModulus::Batching(N, 20) */
        uint64_t t;
        CCZ_GUARD(lat_primes(&t, 1, 20, (size_t)1 << log_n, NULL, 0));
        p->plain_modulus = t;
    } else if (scheme == CCZ_LATTICE_CKKS) {
        p->n_primes = ckks_n[i];
        memcpy(p->coeff_bits, ckks[i], sizeof ckks[i]);
        p->scale = ckks_scale[i];
    } else {
        return ccz_fail(CCZ_ERR_INVALID_ARGUMENT, "unknown scheme %d", (int)scheme);
    }
    return CCZ_OK;
}

static ccz_status check_params(const ccz_lattice_params *p)
{
    CCZ_ENSURE(p->scheme == CCZ_LATTICE_BFV || p->scheme == CCZ_LATTICE_CKKS,
               CCZ_ERR_INVALID_ARGUMENT, "the scheme is BFV or CKKS");
    CCZ_ENSURE(p->log_n >= 10 && p->log_n <= 15, CCZ_ERR_INVALID_ARGUMENT,
               "N = 2^%u: supported degrees are 1024 to 32768", p->log_n);
    CCZ_ENSURE(p->n_primes >= 2 && p->n_primes <= MAXP, CCZ_ERR_INVALID_ARGUMENT,
               "%u primes: the chain needs at least one data prime and the special prime, at "
               "most %d",
               p->n_primes, MAXP);
    unsigned total = 0;
    for (unsigned i = 0; i < p->n_primes; i++) {
        unsigned b = p->coeff_primes[0] ? 64 - (unsigned)__builtin_clzll(p->coeff_primes[i] | 1)
                                        : p->coeff_bits[i];
        CCZ_ENSURE(b >= 14 && b <= LAT_MAX_PRIME_BITS, CCZ_ERR_INVALID_ARGUMENT,
                   "prime %u has %u bits: use 14 to %d", i, b, LAT_MAX_PRIME_BITS);
        total += b;
    }
    unsigned max = ccz_lattice_max_bits_128(p->log_n);
    CCZ_ENSURE(p->no_security_check || total <= max, CCZ_ERR_INVALID_ARGUMENT,
               "the coefficient modulus has %u bits; 128-bit security at N = %u allows at most "
               "%u (HomomorphicEncryption.org table)",
               total, 1u << p->log_n, max);
    if (p->scheme == CCZ_LATTICE_BFV) {
        uint64_t t = p->plain_modulus;
        CCZ_ENSURE(t >= 2 && t < (1ull << 60), CCZ_ERR_INVALID_ARGUMENT,
                   "the plain modulus must be in [2, 2^60)");
    } else {
        CCZ_ENSURE(p->scale >= 2 && p->scale < 0x1p60, CCZ_ERR_INVALID_ARGUMENT,
                   "the CKKS scale must be in [2, 2^60)");
    }
    return CCZ_OK;
}

/* ---- the context ---------------------------------------------------------------------------------*/

static void mpz_from_u64(mpz_t z, uint64_t v)
{
    mpz_import(z, 1, 1, sizeof v, 0, 0, &v);
}

static uint64_t mpz_mod_u64(const mpz_t z, uint64_t q)
{
    mpz_t r, m;
    mpz_inits(r, m, NULL);
    mpz_from_u64(m, q);
    mpz_mod(r, z, m);
    uint64_t v = 0;
    mpz_export(&v, NULL, -1, sizeof v, 0, 0, r);
    mpz_clears(r, m, NULL);
    return v;
}

/* floor(num / q) mod r_j and frac(num / q) 2^64 */
static void split_frac(const mpz_t num, uint64_t q, const uint64_t *r, unsigned kr, uint64_t *ints,
                       uint64_t *frac)
{
    mpz_t qq, quo, rem;
    mpz_inits(qq, quo, rem, NULL);
    mpz_from_u64(qq, q);
    mpz_fdiv_qr(quo, rem, num, qq);
    for (unsigned j = 0; j < kr; j++)
        ints[j] = mpz_mod_u64(quo, r[j]);
    mpz_mul_2exp(rem, rem, 64); /* round(rem 2^64 / q) */
    mpz_mul_2exp(quo, qq, 0);
    mpz_fdiv_q_ui(quo, qq, 2);
    mpz_add(rem, rem, quo);
    mpz_fdiv_q(rem, rem, qq);
    uint64_t f = 0;
    if (mpz_sizeinbase(rem, 2) <= 64)
        mpz_export(&f, NULL, -1, sizeof f, 0, 0, rem);
    else
        f = ~0ull; /* rem/q rounds to 1: keep below */
    *frac = f;
    mpz_clears(qq, quo, rem, NULL);
}

static ccz_status bfv_level_init(ccz_lattice_context *ctx, unsigned l, lat_bfv_level **out)
{
    *out = NULL;
    lat_bfv_level *b = calloc(1, sizeof *b);
    CCZ_ENSURE(b, CCZ_ERR_NOMEM, "out of memory");
    uint64_t t = ctx->params.plain_modulus;
    ccz_status s = lat_base_init(&b->q, ctx->primes, l);
    if (s) {
        free(b);
        return s;
    }
    /* R: enough primes below 2^50 (IFMA-friendly) for 2 t N Q^2 < Q R / 2 with margin, counted
     * by their real sizes (the largest 50-bit primes: 4 where 49-bit ones took 5 at N = 8192) */
    unsigned qbits = 0;
    for (unsigned i = 0; i < l; i++)
        qbits += 64 - (unsigned)__builtin_clzll(ctx->primes[i]);
    unsigned tbits = 64 - (unsigned)__builtin_clzll(t);
    unsigned need = qbits + ctx->log_n + tbits + 6;
    unsigned kmax = (need + 48) / 49; /* each prime is above 2^49 */
    if (kmax > MAXP) {
        free(b);
        return ccz_fail(CCZ_ERR_INVALID_ARGUMENT, "the modulus is too large for BFV products");
    }
    uint64_t avoid[MAXP + 1], r[MAXP];
    memcpy(avoid, ctx->primes, ctx->k * sizeof *avoid);
    avoid[ctx->k] = t;
    s = lat_primes(r, kmax, 50, ctx->n, avoid, ctx->k + 1);
    unsigned kr = 0;
    for (double rbits = 0; s == CCZ_OK && kr < kmax && rbits <= need; kr++)
        rbits += log2((double)r[kr]) - 1e-9; /* below the true size */
    if (s == CCZ_OK)
        s = lat_base_init(&b->r, r, kr);
    if (s == CCZ_OK && !(b->rntt = calloc(kr, sizeof *b->rntt)))
        s = ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    for (unsigned j = 0; s == CCZ_OK && j < kr; j++)
        s = lat_ntt_init(&b->rntt[j], r[j], ctx->log_n);
    if (s) {
        if (b->rntt)
            for (unsigned j = 0; j < kr; j++)
                lat_ntt_free(&b->rntt[j]);
        free(b->rntt);
        free(b);
        return s;
    }
    lat_conv_init(&b->q_to_r, &b->q, &b->r);
    lat_conv_init(&b->r_to_q, &b->r, &b->q);

    mpz_t Q, R, QR, tmp, c, num, z;
    mpz_inits(Q, R, QR, tmp, c, num, z, NULL);
    mpz_set_ui(Q, 1);
    mpz_set_ui(R, 1);
    for (unsigned i = 0; i < l; i++) {
        mpz_from_u64(z, ctx->primes[i]);
        mpz_mul(Q, Q, z);
    }
    for (unsigned j = 0; j < kr; j++) {
        mpz_from_u64(z, r[j]);
        mpz_mul(R, R, z);
    }
    mpz_mul(QR, Q, R);
    mpz_t T;
    mpz_init(T);
    mpz_from_u64(T, t);
    /* scale and round: theta_i = t R [(QR/q_i)^-1]_{q_i} / q_i */
    for (unsigned i = 0; i < l; i++) {
        mpz_from_u64(z, ctx->primes[i]);
        mpz_divexact(tmp, QR, z);
        mpz_invert(c, tmp, z);
        mpz_mul(num, c, T);
        mpz_mul(num, num, R);
        split_frac(num, ctx->primes[i], r, kr, b->theta_int[i], &b->theta_frac[i]);
    }
    for (unsigned j = 0; j < kr; j++) {
        mpz_from_u64(z, r[j]);
        mpz_divexact(tmp, QR, z);
        mpz_invert(c, tmp, z);
        mpz_mul(num, c, T);
        mpz_divexact(tmp, R, z);
        mpz_mul(num, num, tmp);
        b->rterm[j] = mpz_mod_u64(num, r[j]);
    }
    /* decryption: t [(Q/q_i)^-1]_{q_i} / q_i; encryption: floor(Q / t) */
    for (unsigned i = 0; i < l; i++) {
        mpz_from_u64(z, ctx->primes[i]);
        mpz_divexact(tmp, Q, z);
        mpz_invert(c, tmp, z);
        mpz_mul(num, c, T);
        split_frac(num, ctx->primes[i], &t, 1, &b->dec_int[i], &b->dec_frac[i]);
    }
    mpz_fdiv_q(tmp, Q, T);
    for (unsigned i = 0; i < l; i++)
        b->delta[i] = mpz_mod_u64(tmp, ctx->primes[i]);
    mpz_clears(Q, R, QR, tmp, c, num, z, T, NULL);
    *out = b;
    return CCZ_OK;
}

static void bfv_level_free(lat_bfv_level *b)
{
    if (!b)
        return;
    for (unsigned j = 0; j < b->r.k; j++)
        lat_ntt_free(&b->rntt[j]);
    free(b->rntt);
    free(b);
}

/* The batching permutation by whole lines. Slot j < N/2 goes to position bitrev((3^j mod 2N - 1)
 * / 2), slot N/2 + j to the mirror image N - 1 - that one. Positions that differ in their low
 * three bits only are bitrev of exponents that differ by multiples of N/8, that is roots
 * 3^j (1 + c N/4) mod 2N; and 1 + c N/4 = 3^(c' N/16) (the elements 1 mod N/4 of <3>, of order
 * 8). So the eight slots h N/2 + j + i N/16 (i < 8, j < N/16) fill an aligned group of eight
 * positions, in an order that depends on j (checked here, not assumed: without it the encoder
 * scatters slot by slot). Group g = h N/16 + j. */
static ccz_status slot_lines_init(ccz_lattice_context *ctx)
{
    size_t n = ctx->n, m = n / 16;
    if (n < 128) /* lat_vec_scatter_lines works on eight groups at a time */
        return CCZ_OK;
    uint32_t *line = malloc(n / 8 * sizeof *line);
    uint8_t *lane = malloc(n);
    bool ok = line && lane;
    for (size_t g = 0; ok && g < n / 8; g++) {
        size_t first = g / m * (n / 2) + g % m;
        unsigned seen = 0;
        line[g] = ctx->slot_index[first] & ~7u;
        for (unsigned i = 0; i < 8; i++) {
            uint32_t p = ctx->slot_index[first + i * m];
            ok = ok && (p & ~7u) == line[g] && !(seen >> (p & 7) & 1);
            seen |= 1u << (p & 7);
            lane[8 * g + (p & 7)] = (uint8_t)i;
        }
    }
    if (ok) {
        ctx->slot_line = line;
        ctx->slot_lane = lane;
        return CCZ_OK;
    }
    bool nomem = !line || !lane;
    free(line);
    free(lane);
    return nomem ? ccz_fail(CCZ_ERR_NOMEM, "out of memory") : CCZ_OK;
}

void ccz_lattice_context_free(ccz_lattice_context *ctx)
{
    if (!ctx)
        return;
    for (unsigned i = 0; i < ctx->k; i++)
        lat_ntt_free(&ctx->ntt[i]);
    for (unsigned l = 0; l <= MAXP; l++)
        bfv_level_free(ctx->bfv[l]);
    lat_ntt_free(&ctx->tntt);
    free(ctx->slot_index);
    free(ctx->slot_line);
    free(ctx->slot_lane);
    free(ctx->roots);
    free(ctx->ckks_index);
    free(ctx->ckks_fft);
    free(ctx->ckks_pos);
    free(ctx);
}

static ccz_status find_primes(ccz_lattice_context *ctx)
{
    const ccz_lattice_params *p = &ctx->params;
    if (p->coeff_primes[0]) {
        for (unsigned i = 0; i < p->n_primes; i++) {
            uint64_t q = p->coeff_primes[i];
            CCZ_ENSURE((q - 1) % (2 * ctx->n) == 0, CCZ_ERR_INVALID_ARGUMENT,
                       "prime %u (%llu) is not 1 mod 2N", i, (unsigned long long)q);
            for (unsigned j = 0; j < i; j++)
                CCZ_ENSURE(p->coeff_primes[j] != q, CCZ_ERR_INVALID_ARGUMENT,
                           "prime %u repeats prime %u", i, j);
            ctx->primes[i] = q;
        }
        return CCZ_OK;
    }
    /* by size, largest primes first, distinct across the chain (and from t) */
    for (unsigned i = 0; i < p->n_primes; i++) {
        uint64_t avoid[MAXP + 1];
        memcpy(avoid, ctx->primes, i * sizeof *avoid);
        avoid[i] = p->plain_modulus;
        CCZ_GUARD(lat_primes(&ctx->primes[i], 1, p->coeff_bits[i], ctx->n, avoid, i + 1));
    }
    return CCZ_OK;
}

ccz_status ccz_lattice_context_new(ccz_lattice_context **out, const ccz_lattice_params *p)
{
    *out = NULL;
    CCZ_GUARD(check_params(p));
    ccz_lattice_context *ctx = calloc(1, sizeof *ctx);
    CCZ_ENSURE(ctx, CCZ_ERR_NOMEM, "out of memory");
    ctx->params = *p;
    ctx->log_n = p->log_n;
    ctx->n = (size_t)1 << p->log_n;
    ctx->k = p->n_primes;
    ctx->L = p->n_primes - 1;
    ccz_status s = find_primes(ctx);
    for (unsigned i = 0; s == CCZ_OK && i < ctx->k; i++)
        s = lat_ntt_init(&ctx->ntt[i], ctx->primes[i], ctx->log_n);
    if (s) {
        ccz_lattice_context_free(ctx);
        return s;
    }
    memcpy(ctx->params.coeff_primes, ctx->primes, sizeof ctx->primes);
    uint64_t P = ctx->primes[ctx->L];
    lat_mod_init(&ctx->pmod, P);
    for (unsigned i = 0; i < ctx->L; i++) {
        const lat_mod *m = &ctx->ntt[i].mod;
        ctx->p_mod_q[i] = P % m->q;
        ctx->p_inv[i] = lat_inv_mod(ctx->p_mod_q[i], m);
        ctx->p_inv_s[i] = lat_shoup(ctx->p_inv[i], m->q);
    }
    for (unsigned l = 2; l <= ctx->L; l++)
        for (unsigned i = 0; i + 1 < l; i++) {
            const lat_mod *m = &ctx->ntt[i].mod;
            ctx->level[l].inv_last[i] = lat_inv_mod(ctx->primes[l - 1] % m->q, m);
            ctx->level[l].inv_last_s[i] = lat_shoup(ctx->level[l].inv_last[i], m->q);
            ctx->level[l].inv_last_w[i] = lat_shoup_w(ctx->level[l].inv_last[i], m->q);
        }
    size_t n = ctx->n;
    uint64_t two_n = 2 * (uint64_t)n;
    if (p->scheme == CCZ_LATTICE_BFV) {
        uint64_t t = p->plain_modulus;
        lat_mod_init(&ctx->tmod, t);
        for (unsigned i = 0; i < ctx->k; i++)
            if (ctx->primes[i] == t)
                s = ccz_fail(CCZ_ERR_INVALID_ARGUMENT, "the plain modulus is in the chain");
        if (s == CCZ_OK && !lat_modulus_above(ctx, ctx->L, t))
            s = ccz_fail(CCZ_ERR_INVALID_ARGUMENT,
                         "the plain modulus %llu is not below the data primes' product",
                         (unsigned long long)t);
        /* batching needs t prime and 1 mod 2N; any other t has coefficient encoding only */
        bool batching = (t - 1) % two_n == 0 && lat_is_prime(t);
        if (s == CCZ_OK && batching)
            s = lat_ntt_init(&ctx->tntt, t, ctx->log_n);
        if (s == CCZ_OK && batching && !(ctx->slot_index = malloc(n * sizeof *ctx->slot_index)))
            s = ccz_fail(CCZ_ERR_NOMEM, "out of memory");
        if (s == CCZ_OK && batching) {
            uint64_t g = 1;
            for (size_t j = 0; j < n / 2; j++) {
                ctx->slot_index[j] = (uint32_t)lat_bitrev((g - 1) / 2, ctx->log_n);
                ctx->slot_index[n / 2 + j] = (uint32_t)lat_bitrev((two_n - g - 1) / 2, ctx->log_n);
                g = g * 3 % two_n;
            }
            s = slot_lines_init(ctx);
        }
        for (unsigned l = 1; s == CCZ_OK && l <= ctx->L; l++)
            s = bfv_level_init(ctx, l, &ctx->bfv[l]);
    } else {
        ctx->roots = malloc(two_n * sizeof *ctx->roots);
        ctx->ckks_index = malloc(n * sizeof *ctx->ckks_index);
        if (!ctx->roots || !ctx->ckks_index)
            s = ccz_fail(CCZ_ERR_NOMEM, "out of memory");
        if (s == CCZ_OK) {
            for (uint64_t k = 0; k < two_n; k++) {
                double a = M_PI * (double)k / (double)n;
                ctx->roots[k] = cos(a) + I * sin(a);
            }
            uint64_t g = 1;
            for (size_t j = 0; j < n / 2; j++) { /* slot j: exponent 3^j; its conjugate 2N - 3^j */
                ctx->ckks_index[j] = (size_t)((g - 1) / 2);
                ctx->ckks_index[n / 2 + j] = (size_t)((two_n - g - 1) / 2);
                g = g * 3 % two_n;
            }
            s = lat_ckks_fft_init(ctx);
        }
    }
    if (s) {
        ccz_lattice_context_free(ctx);
        return s;
    }
    *out = ctx;
    return CCZ_OK;
}

const ccz_lattice_params *ccz_lattice_context_params(const ccz_lattice_context *ctx)
{
    return &ctx->params;
}

const uint64_t *ccz_lattice_context_primes(unsigned *count, const ccz_lattice_context *ctx)
{
    if (count)
        *count = ctx->k;
    return ctx->primes;
}

size_t ccz_lattice_slots(const ccz_lattice_context *ctx)
{
    return ctx->params.scheme == CCZ_LATTICE_BFV ? ctx->n : ctx->n / 2;
}

unsigned ccz_lattice_max_level(const ccz_lattice_context *ctx)
{
    return ctx->L;
}
