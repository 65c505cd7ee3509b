/* SPDX-License-Identifier: Apache-2.0 */
/* Plaintexts, ciphertexts and the operations BFV and CKKS share: encryption of an RNS message,
 * decryption to c0 + c1 s (+ c2 s^2), addition, products with plaintexts, dropping the last
 * prime with rounding (CKKS rescale, BFV modulus switch), and Galois automorphisms with key
 * switching. BFV ciphertexts are kept in coefficient form, CKKS ones in NTT form. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <pthread.h>

#include "core/guard.h"
#include "lattice_internal.h"

ccz_status ccz_lattice_plaintext_new(ccz_lattice_plaintext **out, const ccz_lattice_context *ctx)
{
    *out = NULL;
    ccz_lattice_plaintext *p = calloc(1, sizeof *p);
    CCZ_ENSURE(p, CCZ_ERR_NOMEM, "out of memory");
    p->ctx = ctx;
    /* aligned like every polynomial: BFV's batch encoding transforms the coefficients in place */
    p->coeffs = lat_words(ctx->n);
    p->poly.d = lat_words((size_t)ctx->k * ctx->n);
    if (!p->coeffs || !p->poly.d) {
        ccz_lattice_plaintext_free(p);
        return ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    }
    memset(p->coeffs, 0, ctx->n * 8);
    *out = p;
    return CCZ_OK;
}

void ccz_lattice_plaintext_free(ccz_lattice_plaintext *p)
{
    if (!p)
        return;
    if (p->coeffs)
        OPENSSL_cleanse(p->coeffs, p->ctx->n * 8);
    free(p->coeffs);
    if (p->poly.d)
        OPENSSL_cleanse(p->poly.d, (size_t)p->ctx->k * p->ctx->n * 8);
    free(p->poly.d);
    free(p);
}

ccz_status ccz_lattice_ciphertext_new(ccz_lattice_ciphertext **out, const ccz_lattice_context *ctx)
{
    *out = NULL;
    ccz_lattice_ciphertext *c = calloc(1, sizeof *c);
    CCZ_ENSURE(c, CCZ_ERR_NOMEM, "out of memory");
    c->ctx = ctx;
    c->cap = 2 * (size_t)ctx->L * ctx->n; /* a fresh ciphertext; products grow it */
    c->d = lat_words(c->cap);
    if (!c->d) {
        free(c);
        return ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    }
    /* the trivial encryption of 0: a ciphertext saved or used before it is written must not
     * carry the heap's earlier contents (or words that are not residues) */
    memset(c->d, 0, c->cap * 8);
    c->size = 2;
    c->level = ctx->L;
    c->ntt = ctx->params.scheme == CCZ_LATTICE_CKKS;
    c->scale = c->ntt ? ctx->params.scale : 1; /* CKKS: at the context's scale */
    *out = c;
    return CCZ_OK;
}

ccz_status lat_ct_reserve(ccz_lattice_ciphertext *c, unsigned size, unsigned level, bool keep)
{
    size_t need = (size_t)size * level * c->ctx->n;
    if (need <= c->cap)
        return CCZ_OK;
    uint64_t *d = lat_words(need);
    CCZ_ENSURE(d, CCZ_ERR_NOMEM, "out of memory");
    size_t used = (size_t)c->size * c->level * c->ctx->n;
    if (keep)
        memcpy(d, c->d, (used < need ? used : need) * 8);
    free(c->d);
    c->d = d;
    c->cap = need;
    return CCZ_OK;
}

ccz_status ccz_lattice_ciphertext_shrink(ccz_lattice_ciphertext *c)
{
    size_t used = (size_t)c->size * c->level * c->ctx->n;
    if (used == c->cap)
        return CCZ_OK;
    uint64_t *d = lat_words(used);
    CCZ_ENSURE(d, CCZ_ERR_NOMEM, "out of memory");
    memcpy(d, c->d, used * 8);
    free(c->d);
    c->d = d;
    c->cap = used;
    return CCZ_OK;
}

void ccz_lattice_ciphertext_free(ccz_lattice_ciphertext *c)
{
    if (!c)
        return;
    free(c->d);
    free(c);
}

ccz_status ccz_lattice_ciphertext_copy(ccz_lattice_ciphertext *dst,
                                       const ccz_lattice_ciphertext *src)
{
    CCZ_ENSURE(dst->ctx == src->ctx, CCZ_ERR_INVALID_ARGUMENT, "ciphertexts of two contexts");
    if (dst != src) {
        CCZ_GUARD(lat_ct_reserve(dst, src->size, src->level, false));
        memcpy(dst->d, src->d, (size_t)src->size * src->level * src->ctx->n * 8);
        dst->size = src->size;
        dst->level = src->level;
        dst->ntt = src->ntt;
        dst->scale = src->scale;
    }
    return CCZ_OK;
}

unsigned ccz_lattice_ciphertext_level(const ccz_lattice_ciphertext *c)
{
    return c->level;
}

double ccz_lattice_ciphertext_scale(const ccz_lattice_ciphertext *c)
{
    return c->scale;
}

unsigned ccz_lattice_ciphertext_size(const ccz_lattice_ciphertext *c)
{
    return c->size;
}

/* component j of a ciphertext (level primes x N) */
static inline uint64_t *comp(const ccz_lattice_ciphertext *c, unsigned j)
{
    return c->d + (size_t)j * c->level * c->ctx->n;
}

/* Re-lays a ciphertext's components for a new level (fewer primes per component). */
static void relayout(ccz_lattice_ciphertext *c, unsigned new_level)
{
    size_t n = c->ctx->n;
    for (unsigned j = 1; j < c->size; j++)
        memmove(c->d + (size_t)j * new_level * n, c->d + (size_t)j * c->level * n,
                (size_t)new_level * n * 8);
    c->level = new_level;
}

/* ---- scratch memory ------------------------------------------------------------------------*/

typedef struct {
    uint64_t *p[LAT_SCRATCH_SLOTS];
    size_t cap[LAT_SCRATCH_SLOTS];
} scratch;

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
static bool scratch_ok;

static void scratch_free(void *p)
{
    scratch *s = p;
    for (int i = 0; i < LAT_SCRATCH_SLOTS; i++)
        free(s->p[i]);
    free(s);
}

static void scratch_init(void)
{
    scratch_ok = pthread_key_create(&scratch_key, scratch_free) == 0;
}

uint64_t *lat_scratch(unsigned slot, size_t words)
{
    pthread_once(&scratch_once, scratch_init);
    if (!scratch_ok)
        return NULL;
    scratch *s = pthread_getspecific(scratch_key);
    if (!s) {
        if (!(s = calloc(1, sizeof *s)))
            return NULL;
        if (pthread_setspecific(scratch_key, s) != 0) {
            free(s);
            return NULL;
        }
    }
    if (s->cap[slot] < words) {
        free(s->p[slot]);
        s->cap[slot] = 0;
        if (!(s->p[slot] = lat_words(words)))
            return NULL;
        s->cap[slot] = words;
    }
    return s->p[slot];
}

/* ---- encryption --------------------------------------------------------------------------------*/

/* Public-key encryption of zero with the special prime P (a key that has P's part): u ternary,
 * (X0, X1) = u (b, a) + (e0, e1) modulo q_0 ... q_(level-1) P, then c_j = (X_j - r_j) / P with
 * r_j = [X_j]_P centred, modulo the level's primes: the noise u e + e0 + e1 s is divided by P
 * and what remains is the rounding, r0 / P + (r1 / P) s, below N / 2 in magnitude. Each prime's
 * u is transformed on its own (u never exists in RNS form in full); X_j modulo P goes back to
 * coefficient form, where e_j is added and r_j - e_j (an integer, |r_j - e_j| < P / 2 + 32) is
 * taken, so that X_j - r_j = u pk_j - (r_j - e_j): in NTT form (CKKS) one forward NTT of
 * r_j - e_j per prime, in coefficient form (BFV) one inverse NTT of u pk_j per prime. */
static ccz_status encrypt_zero_p(const ccz_lattice_context *ctx, const ccz_lattice_public_key *pk,
                                 lat_prng *g, int8_t *small, unsigned level, bool ntt, uint64_t *c0,
                                 uint64_t *c1)
{
    size_t n = ctx->n;
    unsigned L = ctx->L;
    uint64_t P = ctx->primes[L], half = P >> 1;
    /* r_j - e_j is kept as a centred residue modulo the odd pp, which holds it: lat_vec_centred_mod
     * takes it to each prime */
    uint64_t pp = P + 64;
    uint64_t *t = lat_words(3 * n); /* u modulo one prime, then r_j - e_j modulo one prime */
    CCZ_ENSURE(t, CCZ_ERR_NOMEM, "out of memory");
    uint64_t *xp[2] = {t + n, t + 2 * n}; /* X0, X1 modulo P */
    ccz_status s = lat_sample_ternary(g, n, small);
    for (unsigned j = 0; s == CCZ_OK && j <= level; j++) {
        unsigned pi = j < level ? j : L; /* the level's primes, then P */
        uint64_t q = ctx->primes[pi];
        size_t o = (size_t)pi * n;
        lat_small_to_rns(small, n, &q, 1, t);
        lat_ntt_forward(&ctx->ntt[pi], t);
        uint64_t *o0 = j < level ? c0 + (size_t)j * n : xp[0],
                 *o1 = j < level ? c1 + (size_t)j * n : xp[1];
        lat_vec_mul_w(o0, t, pk->b + o, pk->b_w + o, n, q);
        lat_vec_mul_w(o1, t, pk->a + o, pk->a_w + o, n, q);
    }
    for (int c = 0; s == CCZ_OK && c < 2; c++) {
        if ((s = lat_sample_cbd(g, n, small)) != CCZ_OK)
            break;
        uint64_t *x = xp[c], *out = c ? c1 : c0;
        lat_ntt_inverse(&ctx->ntt[L], x);
        for (size_t i = 0; i < n; i++) { /* x = (r - e) modulo pp, r = [x + e]_P centred */
            int64_t e = small[i], v = (int64_t)x[i] + e;
            v += v < 0 ? (int64_t)P : 0;
            v -= v >= (int64_t)P ? (int64_t)P : 0;
            v = (v > (int64_t)half ? v - (int64_t)P : v) - e;
            x[i] = (uint64_t)(v < 0 ? v + (int64_t)pp : v);
        }
        for (unsigned i = 0; i < level; i++) {
            const lat_ntt *tt = &ctx->ntt[i];
            uint64_t q = tt->mod.q, *oi = out + (size_t)i * n;
            lat_vec_centred_mod(t, x, pp, lat_reduce64(pp, &tt->mod), n, q);
            if (ntt)
                lat_ntt_forward(tt, t);
            else
                lat_ntt_inverse(tt, oi);
            lat_vec_sub_mul_c(oi, oi, t, ctx->p_inv[i], lat_shoup_w(ctx->p_inv[i], q), n, q);
        }
    }
    OPENSSL_cleanse(t, 3 * n * 8);
    free(t);
    return s;
}

/* (c0, c1) = (b u + e0, a u + e1) or, symmetric, (-a s + e0, a), over `level` primes, in NTT form
 * when ntt else coefficient form; with P when the public key has it (encrypt_zero_p). */
ccz_status lat_encrypt_zero(const ccz_lattice_context *ctx, const ccz_lattice_public_key *pk,
                            const ccz_lattice_secret_key *sk, unsigned level, bool ntt,
                            uint64_t *c0, uint64_t *c1)
{
    size_t n = ctx->n;
    lat_prng g;
    CCZ_GUARD(lat_prng_init(&g));
    int8_t *small = malloc(n);
    if (small && pk && pk->np == ctx->k) {
        ccz_status s = encrypt_zero_p(ctx, pk, &g, small, level, ntt, c0, c1);
        OPENSSL_cleanse(small, n);
        free(small);
        lat_prng_free(&g);
        return s;
    }
    uint64_t *e = lat_words((size_t)level * n);
    ccz_status s = small && e ? CCZ_OK : ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    if (s == CCZ_OK && pk) {
        /* u ternary */
        s = lat_sample_ternary(&g, n, small);
        if (s == CCZ_OK) {
            lat_small_to_rns(small, n, ctx->primes, level, e);
            lat_rns_ntt(ctx, e, level, NULL);
            for (unsigned i = 0; i < level; i++) {
                size_t o = (size_t)i * n;
                lat_vec_mul_w(c0 + o, e + o, pk->b + o, pk->b_w + o, n, ctx->primes[i]);
                lat_vec_mul_w(c1 + o, e + o, pk->a + o, pk->a_w + o, n, ctx->primes[i]);
            }
        }
    } else if (s == CCZ_OK) {
        s = lat_sample_uniform(&g, ctx, ctx->primes, level, c1);
        for (unsigned i = 0; s == CCZ_OK && i < level; i++) {
            size_t o = (size_t)i * n;
            lat_vec_mul_w(c0 + o, c1 + o, sk->s + o, sk->s_w + o, n, ctx->primes[i]);
            memset(e, 0, n * 8);
            lat_vec_sub(c0 + o, e, c0 + o, n, ctx->primes[i]);
        }
    }
    /* + e0 (and + e1 with a public key), in NTT form */
    for (int c = 0; s == CCZ_OK && c < (pk ? 2 : 1); c++) {
        s = lat_sample_cbd(&g, n, small);
        if (s)
            break;
        lat_small_to_rns(small, n, ctx->primes, level, e);
        lat_rns_ntt(ctx, e, level, NULL);
        uint64_t *o = c ? c1 : c0;
        for (unsigned i = 0; i < level; i++)
            lat_vec_add(o + (size_t)i * n, o + (size_t)i * n, e + (size_t)i * n, n, ctx->primes[i]);
    }
    if (s == CCZ_OK && !ntt) {
        lat_rns_intt(ctx, c0, level, NULL);
        lat_rns_intt(ctx, c1, level, NULL);
    }
    if (small)
        OPENSSL_cleanse(small, n);
    free(small);
    if (e)
        OPENSSL_cleanse(e, (size_t)level * n * 8);
    free(e);
    lat_prng_free(&g);
    return s;
}

/* x = c0 + c1 s (+ c2 s^2) over the level's primes, coefficient form when want_coeff. */
ccz_status lat_decrypt_poly(const ccz_lattice_context *ctx, const ccz_lattice_secret_key *sk,
                            const ccz_lattice_ciphertext *ct, uint64_t *x)
{
    size_t n = ctx->n;
    unsigned l = ct->level;
    uint64_t *t = lat_words((size_t)l * n);
    CCZ_ENSURE(t, CCZ_ERR_NOMEM, "out of memory");
    memcpy(x, comp(ct, ct->size - 1), (size_t)l * n * 8);
    if (!ct->ntt)
        lat_rns_ntt(ctx, x, l, NULL);
    /* Horner: ((c2) s + c1) s + c0 */
    for (int j = (int)ct->size - 2; j >= 0; j--) {
        memcpy(t, comp(ct, (unsigned)j), (size_t)l * n * 8);
        if (!ct->ntt)
            lat_rns_ntt(ctx, t, l, NULL);
        for (unsigned i = 0; i < l; i++) {
            size_t o = (size_t)i * n;
            lat_vec_mul_w(x + o, x + o, sk->s + o, sk->s_w + o, n, ctx->primes[i]);
            lat_vec_add(x + o, x + o, t + o, n, ctx->primes[i]);
        }
    }
    free(t);
    return CCZ_OK;
}

ccz_status lat_decrypt_coeffs(const ccz_lattice_context *ctx, const ccz_lattice_secret_key *sk,
                              const ccz_lattice_ciphertext *ct, uint64_t *x)
{
    if (ct->ntt) {
        CCZ_GUARD(lat_decrypt_poly(ctx, sk, ct, x));
        lat_rns_intt(ctx, x, ct->level, NULL);
        return CCZ_OK;
    }
    /* coefficient form: (((c2) s + c1) s) in NTT form, back, then + c0 there: c0 needs no
     * transform */
    size_t n = ctx->n;
    unsigned l = ct->level;
    uint64_t *t = ct->size > 2 ? lat_words((size_t)l * n) : NULL;
    CCZ_ENSURE(ct->size <= 2 || t, CCZ_ERR_NOMEM, "out of memory");
    memcpy(x, comp(ct, ct->size - 1), (size_t)l * n * 8);
    lat_rns_ntt(ctx, x, l, NULL);
    for (int j = (int)ct->size - 2; j >= 0; j--) {
        if (j > 0) {
            memcpy(t, comp(ct, (unsigned)j), (size_t)l * n * 8);
            lat_rns_ntt(ctx, t, l, NULL);
        }
        for (unsigned i = 0; i < l; i++) {
            size_t o = (size_t)i * n;
            lat_vec_mul_w(x + o, x + o, sk->s + o, sk->s_w + o, n, ctx->primes[i]);
            if (j > 0)
                lat_vec_add(x + o, x + o, t + o, n, ctx->primes[i]);
        }
    }
    lat_rns_intt(ctx, x, l, NULL);
    const uint64_t *c0 = comp(ct, 0);
    for (unsigned i = 0; i < l; i++) {
        size_t o = (size_t)i * n;
        lat_vec_add(x + o, x + o, c0 + o, n, ctx->primes[i]);
    }
    if (t) {
        OPENSSL_cleanse(t, (size_t)l * n * 8);
        free(t);
    }
    return CCZ_OK;
}

/* ---- arithmetic -----------------------------------------------------------------------------*/

static ccz_status same_shape(const ccz_lattice_ciphertext *a, const ccz_lattice_ciphertext *b)
{
    CCZ_ENSURE(a->ctx == b->ctx, CCZ_ERR_INVALID_ARGUMENT, "ciphertexts of two contexts");
    CCZ_ENSURE(a->level == b->level, CCZ_ERR_INVALID_ARGUMENT,
               "ciphertexts at levels %u and %u: switch the higher one down first", a->level,
               b->level);
    CCZ_ENSURE(a->ntt == b->ntt, CCZ_ERR_INVALID_ARGUMENT, "ciphertexts in different forms");
    if (a->ctx->params.scheme == CCZ_LATTICE_CKKS)
        CCZ_ENSURE(fabs(a->scale / b->scale - 1) < 1e-6, CCZ_ERR_INVALID_ARGUMENT,
                   "scales 2^%.2f and 2^%.2f differ", log2(a->scale), log2(b->scale));
    return CCZ_OK;
}

static ccz_status add_sub(const ccz_lattice_context *ctx, ccz_lattice_ciphertext *out,
                          const ccz_lattice_ciphertext *a, const ccz_lattice_ciphertext *b,
                          bool sub)
{
    CCZ_ENSURE(a->ctx == ctx, CCZ_ERR_INVALID_ARGUMENT, "a ciphertext of another context");
    CCZ_GUARD(lat_check_ct(ctx, out));
    CCZ_GUARD(same_shape(a, b)); /* b of a's context */
    size_t n = ctx->n;
    unsigned l = a->level, size = a->size > b->size ? a->size : b->size;
    const ccz_lattice_ciphertext *big = a->size >= b->size ? a : b;
    CCZ_GUARD(
        lat_ct_reserve(out, size, l, true)); /* keeps a's or b's words when out is one of them */
    /* out may alias a or b: work component by component */
    for (unsigned j = 0; j < size; j++)
        for (unsigned i = 0; i < l; i++) {
            uint64_t q = ctx->primes[i];
            uint64_t *o = out->d + ((size_t)j * l + i) * n;
            const uint64_t *x = j < a->size ? a->d + ((size_t)j * l + i) * n : NULL,
                           *y = j < b->size ? b->d + ((size_t)j * l + i) * n : NULL;
            if (x && y) {
                if (sub)
                    lat_vec_sub(o, x, y, n, q);
                else
                    lat_vec_add(o, x, y, n, q);
            } else {
                for (size_t c = 0; c < n; c++) {
                    uint64_t u = x ? x[c] : 0, v = y ? y[c] : 0;
                    o[c] = sub ? lat_sub_mod(u, v, q) : lat_add_mod(u, v, q);
                }
            }
        }
    out->size = size;
    out->level = l;
    out->ntt = a->ntt;
    out->scale = big->scale;
    return CCZ_OK;
}

ccz_status ccz_lattice_add(ccz_lattice_ciphertext *out, const ccz_lattice_context *ctx,
                           const ccz_lattice_ciphertext *a, const ccz_lattice_ciphertext *b)
{
    return add_sub(ctx, out, a, b, false);
}

ccz_status ccz_lattice_sub(ccz_lattice_ciphertext *out, const ccz_lattice_context *ctx,
                           const ccz_lattice_ciphertext *a, const ccz_lattice_ciphertext *b)
{
    return add_sub(ctx, out, a, b, true);
}

/* Divides by the last prime with rounding: out = (c - [c]_{q_last}) q_last^-1 (all components);
 * out may be c. */
ccz_status lat_drop_last_to(const ccz_lattice_context *ctx, ccz_lattice_ciphertext *out,
                            const ccz_lattice_ciphertext *c)
{
    CCZ_ENSURE(c->level >= 2, CCZ_ERR_INVALID_ARGUMENT,
               "the ciphertext is at the last level: no prime left to drop");
    size_t n = ctx->n;
    unsigned l = c->level, size = c->size;
    bool ntt = c->ntt, in_place = out == c;
    uint64_t ql = ctx->primes[l - 1];
    uint64_t *tmp = lat_scratch(LAT_SCRATCH_RESCALE, 2 * n);
    CCZ_ENSURE(tmp, CCZ_ERR_NOMEM, "out of memory");
    if (!in_place) /* c is read only: its last prime is transformed in a copy */
        CCZ_GUARD(lat_ct_reserve(out, size, l - 1, false));
    const lat_level *lv = &ctx->level[l];
    /* In place, component j's last prime is transformed where it is (it is dropped), and its
     * prime i goes straight to its place at the new level, (j (l - 1) + i) N: that is where j's
     * prime i or an earlier one of it was (or, for j's first prime, the last prime of component
     * j - 1, already used), so nothing is overwritten before it is read. */
    for (unsigned j = 0; j < size; j++) {
        const uint64_t *cj = c->d + (size_t)j * l * n;
        uint64_t *oj = out->d + (size_t)j * (l - 1) * n;
        uint64_t *last = in_place ? c->d + ((size_t)j * l + l - 1) * n : tmp + n;
        if (!in_place)
            memcpy(last, cj + (size_t)(l - 1) * n, n * 8);
        if (ntt)
            lat_ntt_inverse(&ctx->ntt[l - 1], last);
        for (unsigned i = 0; i + 1 < l; i++) { /* the last prime's part, centred, modulo q_i */
            const lat_mod *m = &ctx->ntt[i].mod;
            lat_vec_centred_mod(tmp, last, ql, lat_reduce64(ql, m), n, m->q);
            if (ntt)
                lat_ntt_forward(&ctx->ntt[i], tmp);
            lat_vec_sub_mul_c(oj + (size_t)i * n, cj + (size_t)i * n, tmp, lv->inv_last[i],
                              lv->inv_last_w[i], n, m->q);
        }
    }
    out->size = size;
    out->level = l - 1;
    out->ntt = ntt;
    out->scale = c->scale;
    if (ctx->params.scheme == CCZ_LATTICE_CKKS)
        out->scale /= (double)ql;
    return CCZ_OK;
}

ccz_status lat_drop_last(const ccz_lattice_context *ctx, ccz_lattice_ciphertext *c)
{
    return lat_drop_last_to(ctx, c, c);
}

ccz_status ccz_lattice_mod_switch(ccz_lattice_ciphertext *c, const ccz_lattice_context *ctx)
{
    CCZ_ENSURE(c && c->ctx == ctx, CCZ_ERR_INVALID_ARGUMENT,
               "a ciphertext of another context to switch");
    if (ctx->params.scheme == CCZ_LATTICE_BFV) { /* Delta depends on Q: scale by Q'/Q, rounding */
        uint64_t t = ctx->params.plain_modulus;
        CCZ_ENSURE(
            c->level < 2 || lat_modulus_above(ctx, c->level - 1, t), CCZ_ERR_INVALID_ARGUMENT,
            "level %u: the data primes left would not exceed the plain modulus", c->level - 1);
        return lat_drop_last(ctx, c);
    }
    /* CKKS: the value is the same modulo the smaller modulus; drop the prime, keep the scale */
    CCZ_ENSURE(c->level >= 2, CCZ_ERR_INVALID_ARGUMENT,
               "the ciphertext is at the last level: no prime left to drop");
    relayout(c, c->level - 1);
    return CCZ_OK;
}

/* Key switching of component d (coefficient form) into (c0, c1) of a ciphertext in either form. */
ccz_status lat_switch_into(const ccz_lattice_context *ctx, const lat_kswitch *ks, const uint64_t *d,
                           const uint64_t *d_ntt, ccz_lattice_ciphertext *c)
{
    return lat_kswitch_apply(ctx, ks, d, d_ntt, c->level, !c->ntt, comp(c, 0), comp(c, 1));
}

/* Relinearizes a size-3 ciphertext. */
ccz_status lat_relinearize(const ccz_lattice_context *ctx, ccz_lattice_ciphertext *c,
                           const ccz_lattice_relin_keys *rk)
{
    if (c->size == 2)
        return CCZ_OK;
    size_t n = ctx->n;
    unsigned l = c->level;
    uint64_t *d = lat_scratch(LAT_SCRATCH_RELIN, (size_t)l * n);
    CCZ_ENSURE(d, CCZ_ERR_NOMEM, "out of memory");
    memcpy(d, comp(c, 2), (size_t)l * n * 8);
    if (c->ntt)
        lat_rns_intt(ctx, d, l, NULL);
    c->size = 2; /* the third component's words stay where they are while the switch reads them */
    return lat_switch_into(ctx, &rk->k, d, c->ntt ? comp(c, 2) : NULL, c);
}

static const lat_kswitch *galois_key(const ccz_lattice_galois_keys *gk, uint64_t g)
{
    for (size_t i = 0; i < gk->n; i++)
        if (gk->elts[i] == g)
            return &gk->keys[i];
    return NULL;
}

/* o made the two-component result of a key switch at level l: its c1 zero, for the switch to
 * add into (c0 is the caller's to fill). */
static ccz_status switch_output(ccz_lattice_ciphertext *o, unsigned l, bool ntt, double scale)
{
    CCZ_GUARD(lat_ct_reserve(o, 2, l, false));
    o->size = 2;
    o->level = l;
    o->ntt = ntt;
    o->scale = scale;
    memset(comp(o, 1), 0, (size_t)l * o->ctx->n * 8);
    return CCZ_OK;
}

static ccz_status apply_galois(const ccz_lattice_context *ctx, ccz_lattice_ciphertext *out,
                               const ccz_lattice_ciphertext *a, uint64_t g,
                               const ccz_lattice_galois_keys *gk, const char *what)
{
    CCZ_ENSURE(a && a->ctx == ctx, CCZ_ERR_INVALID_ARGUMENT, "a ciphertext of another context");
    CCZ_ENSURE(out && out->ctx == ctx, CCZ_ERR_INVALID_ARGUMENT,
               "an output ciphertext of another context");
    CCZ_ENSURE(gk && gk->ctx == ctx, CCZ_ERR_INVALID_ARGUMENT, "Galois keys of another context");
    CCZ_ENSURE(a->size == 2, CCZ_ERR_INVALID_ARGUMENT, "relinearize before rotating");
    const lat_kswitch *ks = galois_key(gk, g);
    CCZ_ENSURE(ks, CCZ_ERR_NOT_FOUND,
               "no Galois key for %s (element %llu): make one with "
               "ccz_lattice_galois_keygen",
               what, (unsigned long long)g);
    size_t n = ctx->n;
    unsigned l = a->level;
    uint64_t *c0 = lat_scratch(LAT_SCRATCH_GALOIS, (size_t)3 * l * n + n / 2);
    CCZ_ENSURE(c0, CCZ_ERR_NOMEM, "out of memory");
    uint64_t *c1 = c0 + (size_t)l * n, *c1_ntt = c1 + (size_t)l * n;
    uint32_t *idx = (uint32_t *)(c1_ntt + (size_t)l * n); /* N entries */
    if (a->ntt)
        lat_automorph_ntt_index(idx, ctx->log_n, g);
    for (unsigned i = 0; i < l; i++) {
        const uint64_t *a0 = comp(a, 0) + (size_t)i * n, *a1 = comp(a, 1) + (size_t)i * n;
        if (a->ntt) {
            lat_automorph_ntt_apply(a0, c0 + (size_t)i * n, idx, n);
            lat_automorph_ntt_apply(a1, c1 + (size_t)i * n, idx, n);
        } else {
            lat_automorph_coeff(a0, c0 + (size_t)i * n, n, g, ctx->primes[i]);
            lat_automorph_coeff(a1, c1 + (size_t)i * n, n, g, ctx->primes[i]);
        }
    }
    bool ntt = a->ntt;
    double scale = a->scale;
    CCZ_GUARD(switch_output(out, l, ntt, scale)); /* a is read: out may be a */
    memcpy(comp(out, 0), c0, (size_t)l * n * 8);
    if (ntt) {
        memcpy(c1_ntt, c1, (size_t)l * n * 8);
        lat_rns_intt(ctx, c1, l, NULL);
    }
    return lat_switch_into(ctx, ks, c1, ntt ? c1_ntt : NULL, out);
}

ccz_status ccz_lattice_rotate(ccz_lattice_ciphertext *out, const ccz_lattice_context *ctx,
                              const ccz_lattice_ciphertext *a, int steps,
                              const ccz_lattice_galois_keys *gk)
{
    char what[48];
    snprintf(what, sizeof what, "rotation by %d", steps);
    return apply_galois(ctx, out, a, lat_galois_elt(ctx, steps), gk, what);
}

ccz_status ccz_lattice_conjugate(ccz_lattice_ciphertext *out, const ccz_lattice_context *ctx,
                                 const ccz_lattice_ciphertext *a, const ccz_lattice_galois_keys *gk)
{
    return apply_galois(ctx, out, a, 2 * (uint64_t)ctx->n - 1, gk,
                        ctx->params.scheme == CCZ_LATTICE_BFV ? "the row swap" : "conjugation");
}

/* Hoisted rotations: c1's decomposition (its digits lifted to every prime of the level and P,
 * NTT form) is made once; each rotation permutes the digits in NTT form instead of decomposing
 * its own rotated c1. The permuted lift of d_i is the automorphism of an integer polynomial
 * with coefficients in (-q_i, q_i) congruent to [sigma(c1)]_{q_i}: a digit as small as the single
 * rotation's, so the noise is the same though the words differ. The permutation reads each digit
 * in order and writes it out of order into N words that stay near the core: the decomposition
 * (l (l + 1) N words) is larger than the core's cache at N = 16384, and reading it out of order
 * cost more than the NTTs it saves. */
ccz_status ccz_lattice_rotate_hoisted(ccz_lattice_ciphertext *const *out,
                                      const ccz_lattice_context *ctx,
                                      const ccz_lattice_ciphertext *a, const int *steps,
                                      size_t count, const ccz_lattice_galois_keys *gk)
{
    CCZ_GUARD(lat_check_ct(ctx, a));
    CCZ_ENSURE(gk && gk->ctx == ctx, CCZ_ERR_INVALID_ARGUMENT, "Galois keys of another context");
    CCZ_ENSURE(a->size == 2, CCZ_ERR_INVALID_ARGUMENT, "relinearize before rotating");
    if (count == 0)
        return CCZ_OK;
    CCZ_ENSURE(out && steps, CCZ_ERR_INVALID_ARGUMENT, "hoisted rotations: an array is NULL");
    for (size_t r = 0; r < count; r++) {
        CCZ_GUARD(lat_check_ct(ctx, out[r]));
        CCZ_ENSURE(galois_key(gk, lat_galois_elt(ctx, steps[r])), CCZ_ERR_NOT_FOUND,
                   "no Galois key for rotation by %d: make one with ccz_lattice_galois_keygen",
                   steps[r]);
    }
    size_t n = ctx->n;
    unsigned l = a->level, np = l + 1;
    size_t digits = (size_t)l * np * n;
    uint64_t *dig = lat_scratch(LAT_SCRATCH_HOIST, digits + 2 * (size_t)l * n + n);
    CCZ_ENSURE(dig, CCZ_ERR_NOMEM, "out of memory");
    uint64_t *c0 = dig + digits, *c1 = c0 + (size_t)l * n;
    uint32_t *idx = (uint32_t *)(c1 + (size_t)l * n), *inv = idx + n; /* N entries each */
    bool ntt = a->ntt;
    double scale = a->scale;
    memcpy(c0, comp(a, 0), (size_t)l * n * 8);
    memcpy(c1, comp(a, 1), (size_t)l * n * 8);
    if (ntt)
        lat_rns_intt(ctx, c1, l, NULL);
    for (unsigned i = 0; i < l; i++)
        for (unsigned jj = 0; jj < np; jj++)
            lat_kswitch_digit(ctx, c1, ntt ? comp(a, 1) : NULL, i, jj, l,
                              dig + ((size_t)i * np + jj) * n);
    /* a is not read after this: an output may be a */
    for (size_t r = 0; r < count; r++) {
        uint64_t g = lat_galois_elt(ctx, steps[r]);
        const lat_kswitch *ks = galois_key(gk, g);
        uint64_t *acc0 = lat_kswitch_acc(ctx, l);
        CCZ_ENSURE(acc0, CCZ_ERR_NOMEM, "out of memory");
        uint64_t *acc1 = acc0 + (size_t)np * n;
        lat_automorph_ntt_index(idx, ctx->log_n, g);
        for (size_t x = 0; x < n; x++)
            inv[idx[x]] = (uint32_t)x;
        uint64_t *tmp = acc1 + (size_t)np * n;
        for (unsigned i = 0; i < l; i++)
            for (unsigned jj = 0; jj < np; jj++) {
                /* tmp[x] = d[idx[x]], d read in order (it may be far from the core), tmp written
                 * out of order (N words: near) */
                const uint64_t *d = dig + ((size_t)i * np + jj) * n;
                for (size_t y = 0; y < n; y++)
                    tmp[inv[y]] = d[y];
                lat_kswitch_term(ctx, ks, tmp, i, jj, l, acc0, acc1);
            }
        ccz_lattice_ciphertext *o = out[r];
        CCZ_GUARD(switch_output(o, l, ntt, scale));
        for (unsigned i = 0; i < l; i++) {
            const uint64_t *from = c0 + (size_t)i * n;
            if (ntt)
                lat_automorph_ntt_apply(from, comp(o, 0) + (size_t)i * n, idx, n);
            else
                lat_automorph_coeff(from, comp(o, 0) + (size_t)i * n, n, g, ctx->primes[i]);
        }
        lat_kswitch_mod_down(ctx, acc0, l, !ntt, comp(o, 0), comp(o, 1));
    }
    return CCZ_OK;
}
