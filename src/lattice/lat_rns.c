/* SPDX-License-Identifier: Apache-2.0 */
/* RNS bases and exact conversions between them (Halevi-Polyakov-Shoup), CRT with GMP, and the
 * NTT over several primes of a context. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gmp.h>

#include "core/guard.h"
#include "lattice_internal.h"

/* ---- bases and conversions ------------------------------------------------------------------*/

ccz_status lat_base_init(lat_base *b, const uint64_t *q, unsigned k)
{
    memset(b, 0, sizeof *b);
    CCZ_ENSURE(k >= 1 && k <= MAXP, CCZ_ERR_INVALID_ARGUMENT, "bad RNS base");
    b->k = k;
    for (unsigned i = 0; i < k; i++) {
        b->q[i] = q[i];
        lat_mod_init(&b->mod[i], q[i]);
        b->qinv[i] = 1.0 / (double)q[i];
    }
    for (unsigned i = 0; i < k; i++) {
        uint64_t prod = 1;
        for (unsigned j = 0; j < k; j++)
            if (j != i)
                prod = lat_mul_mod(prod, q[j] % q[i], &b->mod[i]);
        b->qhat_inv[i] = lat_inv_mod(prod, &b->mod[i]);
        b->qhat_inv_s[i] = lat_shoup(b->qhat_inv[i], q[i]);
    }
    return CCZ_OK;
}

void lat_conv_init(lat_conv *c, const lat_base *a, const lat_base *b)
{
    c->a = a;
    c->b = b;
    for (unsigned j = 0; j < b->k; j++) {
        const lat_mod *m = &b->mod[j];
        uint64_t all = 1;
        for (unsigned i = 0; i < a->k; i++)
            all = lat_mul_mod(all, a->q[i] % m->q, m);
        c->amod[j] = all;
        for (unsigned i = 0; i < a->k; i++) {
            uint64_t prod = 1;
            for (unsigned l = 0; l < a->k; l++)
                if (l != i)
                    prod = lat_mul_mod(prod, a->q[l] % m->q, m);
            c->ahat[i][j] = prod;
            c->row[j][i] = prod;
            c->row_s[j][i] = lat_shoup_w(prod, m->q);
        }
        c->row[j][a->k] = all ? m->q - all : 0;
        c->row_s[j][a->k] = lat_shoup_w(c->row[j][a->k], m->q);
    }
    c->narrow = true;
    for (unsigned i = 0; i < a->k; i++) {
        c->qhat_inv_w[i] = lat_shoup_w(a->qhat_inv[i], a->q[i]);
        c->narrow &= a->q[i] < LAT_SHOUP52_LIMIT;
    }
    for (unsigned j = 0; j < b->k; j++)
        c->narrow &= b->q[j] < LAT_SHOUP52_LIMIT;
}

/* lat_conv_apply when every prime is below 2^50: y_i, v and each target prime in one pass each */
static void conv_narrow(const lat_conv *c, const uint64_t *in, uint64_t *out, size_t n, uint64_t *y)
{
    const lat_base *a = c->a, *b = c->b;
    unsigned ka = a->k, kb = b->k;
    const uint64_t *ys[MAXP + 1];
    for (unsigned i = 0; i < ka; i++) {
        const uint64_t *src = in + (size_t)i * n;
        ys[i] = y + (size_t)i * n;
        lat_vec_dot_c(y + (size_t)i * n, &src, &a->qhat_inv[i], &c->qhat_inv_w[i], 1, 0, n,
                      a->q[i]);
    }
    uint64_t *v = y + (size_t)ka * n;
    lat_vec_round_sum(v, ys, a->qinv, ka, n);
    ys[ka] = v; /* - v A */
    for (unsigned j = 0; j < kb; j++)
        lat_vec_dot_c(out + (size_t)j * n, ys, c->row[j], c->row_s[j], ka + 1, 0, n, b->q[j]);
}

void lat_conv_apply(const lat_conv *c, const uint64_t *in, uint64_t *out, size_t n)
{
    const lat_base *a = c->a, *b = c->b;
    unsigned ka = a->k, kb = b->k;
    if (c->narrow) {
        uint64_t *ys = lat_scratch(LAT_SCRATCH_CONV, ((size_t)ka + 1) * n);
        if (ys) {
            conv_narrow(c, in, out, n, ys);
            return;
        }
    }
    /* y_i = [x_i (A/a_i)^-1]_{a_i}, prime by prime */
    uint64_t *y = aligned_alloc(64, ((size_t)ka * n + 8) * 8), *v = aligned_alloc(64, (n + 8) * 8),
             *t = aligned_alloc(64, (n + 8) * 8);
    if (!y || !v || !t) { /* no memory: nothing sensible to return; callers size these small */
        free(y), free(v), free(t);
        memset(out, 0, (size_t)kb * n * 8);
        return;
    }
    bool wide = false; /* residues too wide for the 52-bit Shoup path of some target prime */
    for (unsigned i = 0; i < ka; i++) {
        for (size_t x = 0; x < n; x++)
            y[(size_t)i * n + x] =
                lat_mul_shoup(in[(size_t)i * n + x], a->qhat_inv[i], a->qhat_inv_s[i], a->q[i]);
        wide |= a->q[i] >= (1ull << 52);
    }
    /* v = floor(sum y_i / a_i + 1/2): the multiple of A to take away, x in (-A/2, A/2] */
    for (size_t x = 0; x < n; x++) {
        double s = 0.5;
        for (unsigned i = 0; i < ka; i++)
            s = fma((double)y[(size_t)i * n + x], a->qinv[i], s);
        v[x] = (uint64_t)floor(s);
    }
    for (unsigned j = 0; j < kb; j++) {
        uint64_t q = b->q[j], *o = out + (size_t)j * n;
        memset(o, 0, n * 8);
        for (unsigned i = 0; i < ka; i++) {
            const uint64_t *yi = y + (size_t)i * n;
            if (wide && b->q[j] < LAT_SHOUP52_LIMIT && a->q[i] >= (1ull << 52)) {
                for (size_t x = 0; x < n; x++)
                    t[x] = lat_reduce64(yi[x], &b->mod[j]);
                yi = t;
            }
            lat_vec_mul_c_add(o, yi, c->ahat[i][j], n, q);
        }
        /* - v A (v is at most ka) */
        memset(t, 0, n * 8);
        lat_vec_mul_c_add(t, v, c->amod[j], n, q);
        lat_vec_sub(o, o, t, n, q);
    }
    free(y), free(v), free(t);
}

ccz_status lat_crt_init(const ccz_lattice_context *ctx, unsigned l, mpz_t Q, mpz_t *coef)
{
    lat_base base;
    CCZ_GUARD(lat_base_init(&base, ctx->primes, l)); /* nothing is initialised on failure */
    mpz_t z;
    mpz_init(z);
    mpz_init_set_ui(Q, 1);
    for (unsigned i = 0; i < l; i++) {
        mpz_import(z, 1, 1, 8, 0, 0, &ctx->primes[i]);
        mpz_mul(Q, Q, z);
    }
    for (unsigned i = 0; i < l; i++) {
        mpz_import(z, 1, 1, 8, 0, 0, &ctx->primes[i]);
        mpz_init(coef[i]);
        mpz_divexact(coef[i], Q, z);
        mpz_mul_ui(coef[i], coef[i], base.qhat_inv[i]);
    }
    mpz_clear(z);
    return CCZ_OK;
}

void lat_crt_clear(unsigned l, mpz_t Q, mpz_t *coef)
{
    for (unsigned i = 0; i < l; i++)
        mpz_clear(coef[i]);
    mpz_clear(Q);
}

/* ---- NTT over several primes ------------------------------------------------------------------*/

void lat_rns_ntt(const ccz_lattice_context *ctx, uint64_t *d, unsigned np, const unsigned *idx)
{
    for (unsigned i = 0; i < np; i++)
        lat_ntt_forward(&ctx->ntt[idx ? idx[i] : i], d + (size_t)i * ctx->n);
}

void lat_rns_intt(const ccz_lattice_context *ctx, uint64_t *d, unsigned np, const unsigned *idx)
{
    for (unsigned i = 0; i < np; i++)
        lat_ntt_inverse(&ctx->ntt[idx ? idx[i] : i], d + (size_t)i * ctx->n);
}
