/* SPDX-License-Identifier: Apache-2.0 */
/* CKKS: the canonical embedding (slot j is the evaluation at zeta^(3^j), zeta = e^(i pi / N),
 * its conjugate at zeta^(-3^j)), computed with a complex FFT of size N on the odd powers of
 * zeta; coefficients scaled and rounded to integers, then RNS and NTT form. Products are
 * pointwise in NTT form, relinearized, and rescaled by dividing by the last prime. The
 * scheme-independent entry points that call the CKKS halves here are in eval.c. */
#include <complex.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gmp.h>
#include <openssl/crypto.h>

#include "core/guard.h"
#include "lattice_internal.h"

static ccz_status need_ckks(const ccz_lattice_context *ctx)
{
    CCZ_ENSURE(ctx->params.scheme == CCZ_LATTICE_CKKS, CCZ_ERR_INVALID_ARGUMENT,
               "a CKKS operation on a BFV context");
    return CCZ_OK;
}

/* A CKKS context and a plaintext of it: encoding writes and decoding reads its residues at the
 * context's sizes, and one of another context may have fewer. */
static ccz_status need_ckks_pt(const ccz_lattice_context *ctx, const ccz_lattice_plaintext *pt)
{
    CCZ_GUARD(need_ckks(ctx));
    return lat_check_pt(ctx, pt);
}

/* In-place radix-2 DFT of size n: sign -1 forward (sum a_k w^(tk), w = e^(2 pi i / n))... the
 * twiddles come from the context's table of zeta powers (zeta^2 is the n-th root). */
static void fft(const ccz_lattice_context *ctx, double complex *a, size_t n, bool inverse)
{
    for (size_t i = 1, j = 0; i < n; i++) { /* bit reversal */
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
    size_t two_n = 2 * ctx->n;
    for (size_t len = 2; len <= n; len <<= 1) {
        size_t step = two_n / len; /* zeta^step is a len-th root of unity */
        for (size_t i = 0; i < n; i += len)
            for (size_t j = 0; j < len / 2; j++) {
                size_t e = j * step; /* below two_n / 2: no reduction (a division) needed */
                double complex w = inverse ? ctx->roots[e ? two_n - e : 0] : ctx->roots[e];
                double complex u = a[i + j], v = a[i + j + len / 2] * w;
                a[i + j] = u + v;
                a[i + j + len / 2] = u - v;
            }
    }
}

/* A scale must stay below the level's modulus, else no bit is left for the value (SEAL's "scale
 * out of bounds"): a product would decrypt to noise, an encoding would wrap. */
static ccz_status scale_fits(const ccz_lattice_context *ctx, unsigned level, double scale,
                             const char *what, const char *hint)
{
    double bits = 0;
    for (unsigned i = 0; i < level; i++)
        bits += log2((double)ctx->primes[i]);
    CCZ_ENSURE(isfinite(scale) && log2(scale) < bits, CCZ_ERR_INVALID_ARGUMENT,
               "the %s's scale 2^%.2f reaches the level's modulus 2^%.2f: %s", what, log2(scale),
               bits, hint);
    return CCZ_OK;
}

ccz_status ccz_lattice_ckks_encode(ccz_lattice_plaintext *pt, const ccz_lattice_context *ctx,
                                   const double complex *values, size_t count, double scale,
                                   unsigned level)
{
    CCZ_GUARD(need_ckks_pt(ctx, pt));
    size_t n = ctx->n, slots = n / 2;
    if (level == 0)
        level = ctx->L;
    CCZ_ENSURE(count <= slots, CCZ_ERR_INVALID_ARGUMENT, "%zu values for %zu slots", count, slots);
    CCZ_ENSURE(level <= ctx->L, CCZ_ERR_INVALID_ARGUMENT, "level %u: the chain has %u data primes",
               level, ctx->L);
    CCZ_ENSURE(scale >= 1 && scale < 0x1p62, CCZ_ERR_INVALID_ARGUMENT, "scale out of range");
    CCZ_GUARD(scale_fits(ctx, level, scale, "plaintext", "encode at a higher level"));
    for (size_t j = 0; j < count; j++)
        CCZ_ENSURE(isfinite(creal(values[j])) && isfinite(cimag(values[j])),
                   CCZ_ERR_INVALID_ARGUMENT, "value %zu is not finite", j);
    /* the values at their points of the half-size FFT (lat_fft.c), the coefficients times the
     * scale, rounded into residues */
    double *re = (double *)lat_scratch(LAT_SCRATCH_ENCODE, n);
    CCZ_ENSURE(re, CCZ_ERR_NOMEM, "out of memory");
    double *im = re + slots;
    memset(re, 0, n * sizeof *re);
    for (size_t j = 0; j < count; j++) {
        uint32_t pos = ctx->ckks_pos[j];
        re[pos >> 1] = creal(values[j]);
        im[pos >> 1] = pos & 1 ? -cimag(values[j]) : cimag(values[j]);
    }
    lat_ckks_embed(ctx, re, im, scale / (double)slots);
    CCZ_GUARD(lat_ckks_round_rns(ctx, re, level, pt->poly.d));
    lat_rns_ntt(ctx, pt->poly.d, level, NULL);
    pt->poly.np = level;
    pt->poly.ntt = true;
    pt->scale = scale;
    return CCZ_OK;
}

ccz_status ccz_lattice_ckks_encode_real(ccz_lattice_plaintext *pt, const ccz_lattice_context *ctx,
                                        const double *values, size_t count, double scale,
                                        unsigned level)
{
    double complex *z = malloc((count ? count : 1) * sizeof *z);
    CCZ_ENSURE(z, CCZ_ERR_NOMEM, "out of memory");
    for (size_t j = 0; j < count; j++)
        z[j] = values[j];
    ccz_status s = ccz_lattice_ckks_encode(pt, ctx, z, count, scale, level);
    free(z);
    return s;
}

ccz_status ccz_lattice_ckks_decode(double complex *values, const ccz_lattice_context *ctx,
                                   const ccz_lattice_plaintext *pt)
{
    CCZ_GUARD(need_ckks_pt(ctx, pt));
    size_t n = ctx->n, slots = n / 2;
    unsigned l = pt->poly.np;
    uint64_t *x = lat_words((size_t)l * n);
    double complex *w = calloc(n, sizeof *w);
    if (!x || !w) {
        free(x);
        free(w);
        return ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    }
    memcpy(x, pt->poly.d, (size_t)l * n * 8);
    lat_rns_intt(ctx, x, l, NULL);
    /* centred coefficients: CRT with GMP (values are far below Q / 2) */
    mpz_t Q, half, acc, coef[MAXP];
    ccz_status s = lat_crt_init(ctx, l, Q, coef);
    if (s) {
        OPENSSL_cleanse(x, (size_t)l * n * 8);
        free(x);
        free(w);
        return s;
    }
    mpz_inits(half, acc, NULL);
    mpz_fdiv_q_2exp(half, Q, 1);
    for (size_t k = 0; k < n && s == CCZ_OK; k++) {
        double v;
        if (l == 1) {
            uint64_t r = x[k], q = ctx->primes[0];
            v = r > q / 2 ? -(double)(q - r) : (double)r;
        } else {
            mpz_set_ui(acc, 0);
            for (unsigned i = 0; i < l; i++)
                mpz_addmul_ui(acc, coef[i], x[(size_t)i * n + k]);
            mpz_mod(acc, acc, Q);
            if (mpz_cmp(acc, half) > 0)
                mpz_sub(acc, acc, Q);
            v = mpz_get_d(acc);
        }
        w[k] = (v / pt->scale) * ctx->roots[k]; /* m_k zeta^k (k < n) */
    }
    fft(ctx, w, n, false);
    for (size_t j = 0; j < slots; j++)
        values[j] = w[ctx->ckks_index[j]];
    lat_crt_clear(l, Q, coef);
    mpz_clears(half, acc, NULL);
    OPENSSL_cleanse(x, (size_t)l * n * 8);
    free(x);
    free(w);
    return s;
}

/* ---- the CKKS halves of the scheme-independent entry points (eval.c checks the arguments) ----*/

ccz_status lat_ckks_encrypt(const ccz_lattice_context *ctx, const ccz_lattice_public_key *pk,
                            const ccz_lattice_secret_key *sk, const ccz_lattice_plaintext *pt,
                            ccz_lattice_ciphertext *out)
{
    unsigned l = pt->poly.np;
    CCZ_ENSURE(l >= 1 && l <= ctx->L && pt->poly.ntt, CCZ_ERR_INVALID_ARGUMENT,
               "the plaintext is not encoded");
    size_t n = ctx->n;
    CCZ_GUARD(lat_ct_reserve(out, 2, l, false));
    out->size = 2;
    out->level = l;
    out->ntt = true;
    out->scale = pt->scale;
    CCZ_GUARD(lat_encrypt_zero(ctx, pk, sk, l, true, out->d, out->d + (size_t)l * n));
    for (unsigned i = 0; i < l; i++)
        lat_vec_add(out->d + (size_t)i * n, out->d + (size_t)i * n, pt->poly.d + (size_t)i * n, n,
                    ctx->primes[i]);
    return CCZ_OK;
}

ccz_status lat_ckks_decrypt(const ccz_lattice_context *ctx, const ccz_lattice_secret_key *sk,
                            const ccz_lattice_ciphertext *ct, ccz_lattice_plaintext *out)
{
    CCZ_GUARD(lat_decrypt_poly(ctx, sk, ct, out->poly.d));
    out->poly.np = ct->level;
    out->poly.ntt = true;
    out->scale = ct->scale;
    return CCZ_OK;
}

ccz_status lat_ckks_add_plain(const ccz_lattice_context *ctx, ccz_lattice_ciphertext *out,
                              const ccz_lattice_ciphertext *a, const ccz_lattice_plaintext *p)
{
    CCZ_ENSURE(p->poly.np == a->level, CCZ_ERR_INVALID_ARGUMENT,
               "plaintext at level %u, ciphertext at %u", p->poly.np, a->level);
    CCZ_ENSURE(fabs(p->scale / a->scale - 1) < 1e-6, CCZ_ERR_INVALID_ARGUMENT,
               "scales 2^%.2f and 2^%.2f differ", log2(p->scale), log2(a->scale));
    CCZ_GUARD(ccz_lattice_ciphertext_copy(out, a));
    size_t n = ctx->n;
    for (unsigned i = 0; i < a->level; i++)
        lat_vec_add(out->d + (size_t)i * n, out->d + (size_t)i * n, p->poly.d + (size_t)i * n, n,
                    ctx->primes[i]);
    return CCZ_OK;
}

ccz_status lat_ckks_mul_plain(const ccz_lattice_context *ctx, ccz_lattice_ciphertext *out,
                              const ccz_lattice_ciphertext *a, const ccz_lattice_plaintext *p)
{
    CCZ_ENSURE(p->poly.np == a->level, CCZ_ERR_INVALID_ARGUMENT,
               "plaintext at level %u, ciphertext at %u", p->poly.np, a->level);
    CCZ_GUARD(scale_fits(ctx, a->level, a->scale * p->scale, "product", "rescale first"));
    CCZ_GUARD(ccz_lattice_ciphertext_copy(out, a));
    size_t n = ctx->n;
    unsigned l = a->level;
    for (unsigned j = 0; j < out->size; j++)
        for (unsigned i = 0; i < l; i++) {
            uint64_t *c = out->d + ((size_t)j * l + i) * n;
            lat_vec_mulmod(c, c, p->poly.d + (size_t)i * n, n, &ctx->ntt[i].mod);
        }
    out->scale = a->scale * p->scale;
    return CCZ_OK;
}

ccz_status lat_ckks_mul(const ccz_lattice_context *ctx, ccz_lattice_ciphertext *out,
                        const ccz_lattice_ciphertext *a, const ccz_lattice_ciphertext *b,
                        const ccz_lattice_relin_keys *rk)
{
    CCZ_ENSURE(a->size == 2 && b->size == 2, CCZ_ERR_INVALID_ARGUMENT,
               "multiply relinearized (two-component) ciphertexts");
    CCZ_ENSURE(a->level == b->level, CCZ_ERR_INVALID_ARGUMENT,
               "ciphertexts at levels %u and %u: rescale or drop the higher one first", a->level,
               b->level);
    size_t n = ctx->n;
    unsigned l = a->level;
    double scale = a->scale * b->scale;
    CCZ_GUARD(scale_fits(ctx, l, scale, "product", "rescale first"));
    /* the product straight into out unless out is an operand (then in scratch, copied after) */
    bool direct = out != a && out != b;
    if (direct)
        CCZ_GUARD(lat_ct_reserve(out, 3, l, false));
    uint64_t *d = direct ? out->d : lat_scratch(LAT_SCRATCH_MUL, (size_t)3 * l * n);
    CCZ_ENSURE(d, CCZ_ERR_NOMEM, "out of memory");
    for (unsigned i = 0; i < l; i++) {
        const lat_mod *m = &ctx->ntt[i].mod;
        const uint64_t *a0 = a->d + (size_t)i * n, *a1 = a->d + ((size_t)l + i) * n,
                       *b0 = b->d + (size_t)i * n, *b1 = b->d + ((size_t)l + i) * n;
        uint64_t *d0 = d + (size_t)i * n, *d1 = d + ((size_t)l + i) * n,
                 *d2 = d + ((size_t)2 * l + i) * n;
        if (m->q < LAT_SHOUP52_LIMIT && lat_ifma()) { /* vector passes (d2 a temporary first) */
            lat_vec_mulmod(d0, a0, b0, n, m);
            lat_vec_mulmod(d1, a0, b1, n, m);
            lat_vec_mulmod(d2, a1, b0, n, m);
            lat_vec_add(d1, d1, d2, n, m->q);
            lat_vec_mulmod(d2, a1, b1, n, m);
            continue;
        }
        for (size_t x = 0; x < n; x++) {
            d0[x] = lat_mul_mod(a0[x], b0[x], m);
            d1[x] = lat_reduce128((u128)a0[x] * b1[x] + (u128)a1[x] * b0[x], m);
            d2[x] = lat_mul_mod(a1[x], b1[x], m);
        }
    }
    if (!direct) {
        CCZ_GUARD(lat_ct_reserve(out, 3, l, false));
        memcpy(out->d, d, (size_t)3 * l * n * 8);
    }
    out->size = 3;
    out->level = l;
    out->ntt = true;
    out->scale = scale;
    return rk ? lat_relinearize(ctx, out, rk) : CCZ_OK;
}

ccz_status ccz_lattice_ckks_rescale(ccz_lattice_ciphertext *c, const ccz_lattice_context *ctx)
{
    CCZ_GUARD(need_ckks(ctx));
    CCZ_GUARD(lat_check_ct(ctx, c));
    return lat_drop_last(ctx, c);
}

ccz_status ccz_lattice_ckks_rescale_to(ccz_lattice_ciphertext *out, const ccz_lattice_context *ctx,
                                       const ccz_lattice_ciphertext *a)
{
    CCZ_GUARD(need_ckks(ctx));
    CCZ_GUARD(lat_check_ct(ctx, a));
    CCZ_GUARD(lat_check_ct(ctx, out));
    return lat_drop_last_to(ctx, out, a);
}

/* k rounded to an integer at `scale`, as a residue of each prime of a's level */
static ccz_status const_residues(uint64_t *c, const ccz_lattice_context *ctx, unsigned level,
                                 double k, double scale)
{
    CCZ_ENSURE(isfinite(scale) && scale >= 1, CCZ_ERR_INVALID_ARGUMENT, "bad scale");
    double v = round(k * scale);
    CCZ_ENSURE(isfinite(v) && fabs(v) < 0x1p62, CCZ_ERR_OVERFLOW,
               "the constant times the scale exceeds 2^62");
    int64_t iv = (int64_t)v;
    for (unsigned i = 0; i < level; i++) {
        uint64_t q = ctx->primes[i];
        c[i] = iv < 0 ? (q - ((uint64_t)(-iv) % q)) % q : (uint64_t)iv % q;
    }
    return CCZ_OK;
}

ccz_status ccz_lattice_ckks_mul_const_at(ccz_lattice_ciphertext *out,
                                         const ccz_lattice_context *ctx,
                                         const ccz_lattice_ciphertext *a, double k, double scale)
{
    CCZ_GUARD(need_ckks(ctx));
    CCZ_GUARD(lat_check_ct(ctx, a));
    CCZ_GUARD(lat_check_ct(ctx, out));
    uint64_t c[MAXP];
    CCZ_GUARD(const_residues(c, ctx, a->level, k, scale));
    CCZ_GUARD(scale_fits(ctx, a->level, a->scale * scale, "product", "rescale first"));
    CCZ_GUARD(ccz_lattice_ciphertext_copy(out, a));
    size_t n = ctx->n;
    unsigned l = a->level;
    for (unsigned i = 0; i < l; i++) {
        uint64_t q = ctx->primes[i], cs = lat_shoup(c[i], q);
        for (unsigned j = 0; j < out->size; j++) {
            uint64_t *p = out->d + ((size_t)j * l + i) * n;
            for (size_t x = 0; x < n; x++)
                p[x] = lat_mul_shoup(p[x], c[i], cs, q);
        }
    }
    out->scale = a->scale * scale;
    return CCZ_OK;
}

ccz_status ccz_lattice_ckks_mul_const(ccz_lattice_ciphertext *out, const ccz_lattice_context *ctx,
                                      const ccz_lattice_ciphertext *a, double k)
{
    return ccz_lattice_ckks_mul_const_at(out, ctx, a, k, ctx->params.scale); /* its checks too */
}

ccz_status ccz_lattice_ckks_mul_const_add(ccz_lattice_ciphertext *acc,
                                          const ccz_lattice_context *ctx,
                                          const ccz_lattice_ciphertext *a, double k, double scale)
{
    CCZ_GUARD(need_ckks(ctx));
    CCZ_GUARD(lat_check_ct(ctx, a));
    CCZ_GUARD(lat_check_ct(ctx, acc));
    CCZ_ENSURE(acc != a, CCZ_ERR_INVALID_ARGUMENT, "the accumulator is the operand");
    CCZ_ENSURE(acc->level == a->level && acc->size == a->size, CCZ_ERR_INVALID_ARGUMENT,
               "accumulator at level %u with %u components, operand at level %u with %u",
               acc->level, acc->size, a->level, a->size);
    CCZ_ENSURE(fabs(acc->scale / (a->scale * scale) - 1) < 1e-6, CCZ_ERR_INVALID_ARGUMENT,
               "scales 2^%.2f and 2^%.2f differ", log2(acc->scale), log2(a->scale * scale));
    uint64_t c[MAXP];
    CCZ_GUARD(const_residues(c, ctx, a->level, k, scale));
    size_t n = ctx->n;
    unsigned l = a->level;
    for (unsigned j = 0; j < a->size; j++)
        for (unsigned i = 0; i < l; i++) {
            size_t o = ((size_t)j * l + i) * n;
            lat_vec_mul_c_add(acc->d + o, a->d + o, c[i], n, ctx->primes[i]);
        }
    return CCZ_OK;
}

double ccz_lattice_ckks_precision_bits(const double complex *want, const double complex *got,
                                       size_t n)
{
    double e = 0;
    for (size_t i = 0; i < n; i++) {
        double d = cabs(got[i] - want[i]);
        if (!(d <= e)) /* NaN counts as no precision */
            e = isnan(d) ? INFINITY : d;
    }
    return e == 0 ? 99 : -log2(e);
}
