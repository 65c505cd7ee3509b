/* SPDX-License-Identifier: Apache-2.0 */
/* Keys and key switching. Secret: ternary, kept in NTT form over every prime. Public key:
 * (-a s + e, a) over every prime, the special prime P included (encryption divides by P).
 * Key-switching keys (relinearization, Galois) use P and one component per data prime (RNS
 * decomposition): for data prime i, (b_i, a_i) = (-a_i s + e_i + [i = j] (P mod q_j) s', a_i)
 * over every prime j. Switching d: sum_i [d]_{q_i} (b_i, a_i), then division by P with
 * rounding. */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "core/guard.h"
#include "lattice_internal.h"

ccz_status lat_shoup_poly(const ccz_lattice_context *ctx, const uint64_t *p, unsigned np,
                          uint64_t **out)
{
    size_t n = ctx->n;
    *out = lat_words((size_t)np * n);
    CCZ_ENSURE(*out, CCZ_ERR_NOMEM, "out of memory");
    for (unsigned i = 0; i < np; i++)
        lat_vec_shoup(*out + (size_t)i * n, p + (size_t)i * n, n, ctx->primes[i]);
    return CCZ_OK;
}

ccz_status lat_kswitch_finish(const ccz_lattice_context *ctx, lat_kswitch *k)
{
    size_t per = (size_t)ctx->k * ctx->n;
    k->b_w = lat_words(ctx->L * per);
    k->a_w = lat_words(ctx->L * per);
    CCZ_ENSURE(k->b_w && k->a_w, CCZ_ERR_NOMEM, "out of memory");
    for (unsigned i = 0; i < ctx->L; i++)
        for (unsigned j = 0; j < ctx->k; j++) {
            size_t o = i * per + (size_t)j * ctx->n;
            lat_vec_shoup(k->b_w + o, k->b + o, ctx->n, ctx->primes[j]);
            lat_vec_shoup(k->a_w + o, k->a + o, ctx->n, ctx->primes[j]);
        }
    return CCZ_OK;
}

void ccz_lattice_secret_key_free(ccz_lattice_secret_key *k)
{
    if (!k)
        return;
    if (k->s) {
        OPENSSL_cleanse(k->s, (size_t)k->ctx->k * k->ctx->n * 8);
        free(k->s);
    }
    if (k->s_w) {
        OPENSSL_cleanse(k->s_w, (size_t)k->ctx->k * k->ctx->n * 8);
        free(k->s_w);
    }
    if (k->coeffs) {
        OPENSSL_cleanse(k->coeffs, k->ctx->n);
        free(k->coeffs);
    }
    free(k);
}

void ccz_lattice_public_key_free(ccz_lattice_public_key *k)
{
    if (!k)
        return;
    free(k->b);
    free(k->a);
    free(k->b_w);
    free(k->a_w);
    free(k);
}

void lat_kswitch_free(lat_kswitch *k)
{
    free(k->b);
    free(k->a);
    free(k->b_w);
    free(k->a_w);
    k->a = k->b = k->a_w = k->b_w = NULL;
}

void ccz_lattice_relin_keys_free(ccz_lattice_relin_keys *k)
{
    if (!k)
        return;
    lat_kswitch_free(&k->k);
    free(k);
}

void ccz_lattice_galois_keys_free(ccz_lattice_galois_keys *k)
{
    if (!k)
        return;
    for (size_t i = 0; i < k->n; i++)
        lat_kswitch_free(&k->keys[i]);
    free(k->keys);
    free(k->elts);
    free(k);
}

ccz_status ccz_lattice_keygen(ccz_lattice_secret_key **sk, ccz_lattice_public_key **pk,
                              const ccz_lattice_context *ctx)
{
    *sk = NULL;
    if (pk)
        *pk = NULL;
    size_t n = ctx->n;
    unsigned k = ctx->k;
    ccz_lattice_secret_key *s = calloc(1, sizeof *s);
    CCZ_ENSURE(s, CCZ_ERR_NOMEM, "out of memory");
    s->ctx = ctx;
    s->s = lat_words((size_t)k * n);
    s->coeffs = malloc(n);
    lat_prng g;
    ccz_status st =
        s->s && s->coeffs ? lat_prng_init(&g) : ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    if (st) {
        ccz_lattice_secret_key_free(s);
        return st;
    }
    st = lat_sample_ternary(&g, n, s->coeffs);
    if (st == CCZ_OK) {
        lat_small_to_rns(s->coeffs, n, ctx->primes, k, s->s);
        lat_rns_ntt(ctx, s->s, k, NULL);
        st = lat_shoup_poly(ctx, s->s, k, &s->s_w);
    }
    ccz_lattice_public_key *p = NULL;
    int8_t *e = NULL;
    if (st == CCZ_OK && pk) {
        p = calloc(1, sizeof *p);
        e = malloc(n);
        if (p) {
            p->ctx = ctx;
            p->np = k;
            p->b = lat_words((size_t)k * n);
            p->a = lat_words((size_t)k * n);
        }
        if (!p || !p->a || !p->b || !e)
            st = ccz_fail(CCZ_ERR_NOMEM, "out of memory");
        if (st == CCZ_OK)
            st = lat_sample_uniform(&g, ctx, ctx->primes, k, p->a);
        if (st == CCZ_OK)
            st = lat_sample_cbd(&g, n, e);
        if (st == CCZ_OK) {
            /* b = -a s + e, over every prime */
            lat_small_to_rns(e, n, ctx->primes, k, p->b);
            lat_rns_ntt(ctx, p->b, k, NULL);
            uint64_t *as = lat_words(n);
            if (!as)
                st = ccz_fail(CCZ_ERR_NOMEM, "out of memory");
            for (unsigned i = 0; st == CCZ_OK && i < k; i++) {
                size_t o = (size_t)i * n;
                lat_vec_mul_w(as, p->a + o, s->s + o, s->s_w + o, n, ctx->primes[i]);
                lat_vec_sub(p->b + o, p->b + o, as, n, ctx->primes[i]);
            }
            if (as) /* a s and the public a give the key away */
                OPENSSL_cleanse(as, n * 8);
            free(as);
            if (st == CCZ_OK)
                st = lat_shoup_poly(ctx, p->b, k, &p->b_w);
            if (st == CCZ_OK)
                st = lat_shoup_poly(ctx, p->a, k, &p->a_w);
        }
    }
    if (e) /* the public key's error: with b and a, it gives s */
        OPENSSL_cleanse(e, n);
    free(e);
    lat_prng_free(&g);
    if (st) {
        ccz_lattice_secret_key_free(s);
        ccz_lattice_public_key_free(p);
        return st;
    }
    *sk = s;
    if (pk)
        *pk = p;
    return CCZ_OK;
}

ccz_status lat_kswitch_gen(const ccz_lattice_context *ctx, const ccz_lattice_secret_key *sk,
                           const uint64_t *target, lat_kswitch *out)
{
    size_t n = ctx->n;
    unsigned k = ctx->k, L = ctx->L;
    out->b = lat_words((size_t)L * k * n);
    out->a = lat_words((size_t)L * k * n);
    int8_t *e = malloc(n);
    uint64_t *er = lat_words((size_t)k * n);
    lat_prng g;
    ccz_status st =
        out->a && out->b && e && er ? lat_prng_init(&g) : ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    if (st) {
        free(e);
        free(er);
        lat_kswitch_free(out);
        return st;
    }
    for (unsigned i = 0; i < L && st == CCZ_OK; i++) {
        uint64_t *bi = out->b + (size_t)i * k * n, *ai = out->a + (size_t)i * k * n;
        st = lat_sample_uniform(&g, ctx, ctx->primes, k, ai);
        if (st == CCZ_OK)
            st = lat_sample_cbd(&g, n, e);
        if (st)
            break;
        lat_small_to_rns(e, n, ctx->primes, k, er);
        lat_rns_ntt(ctx, er, k, NULL);
        for (unsigned j = 0; j < k; j++) {
            const lat_mod *m = &ctx->ntt[j].mod;
            size_t o = (size_t)j * n;
            uint64_t *b = bi + o, *a = ai + o;
            lat_vec_mul_w(b, a, sk->s + o, sk->s_w + o, n, m->q);
            lat_vec_sub(b, er + o, b, n, m->q);
            if (j == i) { /* + (P mod q_i) s' on the i-th prime */
                const uint64_t *t = target + (size_t)j * n;
                uint64_t pm = ctx->p_mod_q[i];
                for (size_t x = 0; x < n; x++)
                    b[x] = lat_add_mod(b[x], lat_mul_mod(pm, t[x], m), m->q);
            }
        }
    }
    OPENSSL_cleanse(e, n);
    free(e);
    OPENSSL_cleanse(er, (size_t)k * n * 8); /* the errors, NTT form: with b and a, they give s */
    free(er);
    lat_prng_free(&g);
    if (st == CCZ_OK)
        st = lat_kswitch_finish(ctx, out);
    if (st)
        lat_kswitch_free(out);
    return st;
}

void lat_kswitch_digit(const ccz_lattice_context *ctx, const uint64_t *d, const uint64_t *d_ntt,
                       unsigned i, unsigned jj, unsigned level, uint64_t *out)
{
    size_t n = ctx->n;
    unsigned j = jj < level ? jj : ctx->L; /* prime index in the chain */
    const lat_ntt *t = &ctx->ntt[j];
    uint64_t q = t->mod.q;
    const uint64_t *di = d + (size_t)i * n;
    if (j == i && d_ntt) { /* d_i in NTT form modulo q_i: the caller had it */
        memcpy(out, d_ntt + (size_t)i * n, n * 8);
        return;
    }
    if (j == i) {
        memcpy(out, di, n * 8);
    } else if (q >= LAT_SHOUP52_LIMIT || ctx->primes[i] < (1ull << 52)) {
        uint64_t one = 1, one_s = lat_shoup_w(1, q); /* d_i mod q_j, one pass */
        lat_vec_dot_c(out, &di, &one, &one_s, 1, 0, n, q);
    } else {
        lat_vec_centred_mod(out, di, 0, 0, n, q); /* cp = 0: plain d_i mod q_j */
    }
    lat_ntt_forward(t, out);
}

void lat_kswitch_term(const ccz_lattice_context *ctx, const lat_kswitch *ks, const uint64_t *digit,
                      unsigned i, unsigned jj, unsigned level, uint64_t *acc0, uint64_t *acc1)
{
    size_t n = ctx->n;
    unsigned k = ctx->k, j = jj < level ? jj : ctx->L;
    uint64_t q = ctx->ntt[j].mod.q;
    const uint64_t *bi = ks->b + (size_t)i * k * n, *ai = ks->a + (size_t)i * k * n;
    size_t o = (size_t)j * n, ow = (size_t)i * k * n + o;
    uint64_t *a0 = acc0 + (size_t)jj * n, *a1 = acc1 + (size_t)jj * n;
    if (i == 0) { /* the first term sets the accumulators */
        lat_vec_mul_w(a0, digit, bi + o, ks->b_w + ow, n, q);
        lat_vec_mul_w(a1, digit, ai + o, ks->a_w + ow, n, q);
    } else {
        lat_vec_mul_w_add(a0, digit, bi + o, ks->b_w + ow, n, q);
        lat_vec_mul_w_add(a1, digit, ai + o, ks->a_w + ow, n, q);
    }
}

uint64_t *lat_kswitch_acc(const ccz_lattice_context *ctx, unsigned level)
{
    return lat_scratch(LAT_SCRATCH_KSWITCH, (2 * ((size_t)level + 1) + 1) * ctx->n);
}

void lat_kswitch_mod_down(const ccz_lattice_context *ctx, uint64_t *acc0, unsigned level,
                          bool coeff, uint64_t *c0, uint64_t *c1)
{
    size_t n = ctx->n;
    unsigned L = ctx->L, np = level + 1;
    uint64_t *acc1 = acc0 + (size_t)np * n, *tmp = acc1 + (size_t)np * n;
    /* divide by P, rounding: (acc - [acc]_P) P^-1, [acc]_P centred */
    uint64_t P = ctx->primes[L], half = P >> 1;
    for (int c = 0; c < 2; c++) {
        uint64_t *acc = c ? acc1 : acc0, *out = c ? c1 : c0;
        uint64_t *ap = acc + (size_t)level * n;
        lat_ntt_inverse(&ctx->ntt[L], ap);
        if (!coeff) { /* NTT form: [acc]_P centred modulo each prime, in NTT form, vector passes */
            for (unsigned i = 0; i < level; i++) {
                const lat_ntt *t = &ctx->ntt[i];
                uint64_t q = t->mod.q, *a = acc + (size_t)i * n;
                lat_vec_centred_mod(tmp, ap, P, lat_reduce64(P, &t->mod), n, q);
                lat_ntt_forward(t, tmp);
                lat_vec_sub_mul_c(a, a, tmp, ctx->p_inv[i], lat_shoup_w(ctx->p_inv[i], q), n, q);
                lat_vec_add(out + (size_t)i * n, out + (size_t)i * n, a, n, q);
            }
            continue;
        }
        for (size_t x = 0; x < n; x++)
            ap[x] = ap[x] + half >= P ? ap[x] + half - P : ap[x] + half; /* + P/2 */
        for (unsigned i = 0; i < level; i++) {
            const lat_ntt *t = &ctx->ntt[i];
            uint64_t q = t->mod.q, hq = lat_reduce64(half, &t->mod);
            uint64_t *a = acc + (size_t)i * n, *o = out + (size_t)i * n;
            if (coeff && (q >= LAT_SHOUP52_LIMIT || P < (1ull << 52))) {
                /* in coefficient form, one pass: o + a P^-1 - ([acc]_P + P/2) P^-1 + (P/2) P^-1 */
                lat_ntt_inverse(t, a);
                uint64_t pi = ctx->p_inv[i], mpi = pi ? q - pi : 0;
                uint64_t w[3] = {1, pi, mpi}, ws[3];
                for (int e = 0; e < 3; e++)
                    ws[e] = lat_shoup_w(w[e], q);
                const uint64_t *in[3] = {o, a, ap};
                lat_vec_dot_c(o, in, w, ws, 3, lat_mul_mod(hq, pi, &t->mod), n, q);
                continue;
            }
            for (size_t x = 0; x < n; x++) /* ([acc]_P + P/2 - P/2) mod q_i */
                tmp[x] = lat_sub_mod(lat_reduce64(ap[x], &t->mod), hq, q);
            lat_ntt_forward(t, tmp);
            for (size_t x = 0; x < n; x++) {
                uint64_t v = lat_sub_mod(a[x], tmp[x], q);
                v = lat_mul_shoup(v, ctx->p_inv[i], ctx->p_inv_s[i], q);
                a[x] = v;
            }
            if (coeff)
                lat_ntt_inverse(t, a);
            lat_vec_add(o, o, a, n, q);
        }
    }
}

ccz_status lat_kswitch_apply(const ccz_lattice_context *ctx, const lat_kswitch *ks,
                             const uint64_t *d, const uint64_t *d_ntt, unsigned level, bool coeff,
                             uint64_t *c0, uint64_t *c1)
{
    size_t n = ctx->n;
    /* accumulators over the level's primes and P, NTT form, and a temporary */
    unsigned np = level + 1;
    uint64_t *acc0 = lat_kswitch_acc(ctx, level);
    CCZ_ENSURE(acc0, CCZ_ERR_NOMEM, "out of memory");
    uint64_t *acc1 = acc0 + (size_t)np * n, *tmp = acc1 + (size_t)np * n;
    for (unsigned i = 0; i < level; i++)
        for (unsigned jj = 0; jj < np; jj++) {
            lat_kswitch_digit(ctx, d, d_ntt, i, jj, level, tmp);
            lat_kswitch_term(ctx, ks, tmp, i, jj, level, acc0, acc1);
        }
    lat_kswitch_mod_down(ctx, acc0, level, coeff, c0, c1);
    return CCZ_OK;
}

ccz_status ccz_lattice_relin_keygen(ccz_lattice_relin_keys **out, const ccz_lattice_context *ctx,
                                    const ccz_lattice_secret_key *sk)
{
    *out = NULL;
    CCZ_ENSURE(sk && sk->ctx == ctx, CCZ_ERR_INVALID_ARGUMENT,
               "relinearization keys from a secret key of another context");
    size_t n = ctx->n;
    unsigned k = ctx->k;
    ccz_lattice_relin_keys *r = calloc(1, sizeof *r);
    uint64_t *s2 = lat_words((size_t)k * n);
    if (!r || !s2) {
        free(r);
        free(s2);
        return ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    }
    r->ctx = ctx;
    for (unsigned j = 0; j < k; j++) {
        const lat_mod *m = &ctx->ntt[j].mod;
        for (size_t x = 0; x < n; x++) {
            uint64_t v = sk->s[(size_t)j * n + x];
            s2[(size_t)j * n + x] = lat_mul_mod(v, v, m);
        }
    }
    ccz_status st = lat_kswitch_gen(ctx, sk, s2, &r->k);
    OPENSSL_cleanse(s2, (size_t)k * n * 8);
    free(s2);
    if (st) {
        free(r);
        return st;
    }
    *out = r;
    return CCZ_OK;
}

ccz_status ccz_lattice_galois_keygen(ccz_lattice_galois_keys **out, const ccz_lattice_context *ctx,
                                     const ccz_lattice_secret_key *sk, const int *steps,
                                     size_t n_steps, bool conjugate)
{
    *out = NULL;
    CCZ_ENSURE(sk && ctx == sk->ctx, CCZ_ERR_INVALID_ARGUMENT,
               "Galois keys from a secret key of another context");
    size_t n = ctx->n, count = n_steps + (conjugate ? 1 : 0);
    unsigned k = ctx->k;
    CCZ_ENSURE(count > 0, CCZ_ERR_INVALID_ARGUMENT, "no rotation steps and no conjugation");
    ccz_lattice_galois_keys *gk = calloc(1, sizeof *gk);
    CCZ_ENSURE(gk, CCZ_ERR_NOMEM, "out of memory");
    gk->ctx = ctx;
    gk->elts = calloc(count, sizeof *gk->elts);
    gk->keys = calloc(count, sizeof *gk->keys);
    uint64_t *target = lat_words((size_t)k * n);
    uint32_t *idx = malloc(n * sizeof *idx);
    ccz_status st =
        gk->elts && gk->keys && target && idx ? CCZ_OK : ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < count && st == CCZ_OK; i++) {
        uint64_t g = i < n_steps ? lat_galois_elt(ctx, steps[i]) : 2 * (uint64_t)n - 1;
        gk->elts[i] = g;
        /* s(x^g), in NTT form: a permutation of s's evaluations, the same for every prime */
        lat_automorph_ntt_index(idx, ctx->log_n, g);
        for (unsigned j = 0; j < k; j++)
            lat_automorph_ntt_apply(sk->s + (size_t)j * n, target + (size_t)j * n, idx, n);
        st = lat_kswitch_gen(ctx, sk, target, &gk->keys[i]);
        if (st == CCZ_OK)
            gk->n = i + 1;
    }
    if (target) {
        OPENSSL_cleanse(target, (size_t)k * n * 8);
        free(target);
    }
    free(idx);
    if (st) {
        ccz_lattice_galois_keys_free(gk);
        return st;
    }
    *out = gk;
    return CCZ_OK;
}
