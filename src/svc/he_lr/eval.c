/* SPDX-License-Identifier: Apache-2.0 */
/* Encrypted LR inference (include/ccz/he_lr.h): the parameter presets, the cleartext model and
 * the server's evaluation of one batch on CKKS ciphertexts. The ciphertexts come from the
 * client (untrusted bytes, loaded by the lattice module's checked loader); the model is the
 * server's. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ccz/he_lr.h"
#include "core/guard.h"

/* the HE toolkit's degree-3 sigmoid, lowest degree first (its x^2 term is 0) */
#define C0 0.5
#define C1 0.15012
#define C3 (-0.001593008)

double ccz_he_lr_sigmoid(double z)
{
    return C0 + z * (C1 + C3 * z * z);
}

ccz_status ccz_he_lr_params(ccz_lattice_params *p, ccz_he_lr_preset preset)
{
    static const unsigned secure[] = {50, 45, 45, 28, 50};
    static const unsigned toolkit[] = {60, 45, 45, 45, 45, 60};
    memset(p, 0, sizeof *p);
    p->scheme = CCZ_LATTICE_CKKS;
    p->log_n = 13;
    p->scale = 0x1p45;
    if (preset == CCZ_HE_LR_SECURE) {
        p->n_primes = CCZ_ARRAY_LEN(secure);
        memcpy(p->coeff_bits, secure, sizeof secure);
    } else if (preset == CCZ_HE_LR_TOOLKIT) {
        p->n_primes = CCZ_ARRAY_LEN(toolkit);
        memcpy(p->coeff_bits, toolkit, sizeof toolkit);
        p->no_security_check = true; /* 300 bits at N 8192: the 128-bit table allows 218 */
    } else {
        return ccz_fail(CCZ_ERR_INVALID_ARGUMENT, "unknown preset %d", (int)preset);
    }
    return CCZ_OK;
}

static double bits(uint64_t q)
{
    return log2((double)q);
}

ccz_status ccz_he_lr_check_context(const ccz_lattice_context *ctx)
{
    const ccz_lattice_params *p = ccz_lattice_context_params(ctx);
    CCZ_ENSURE(p->scheme == CCZ_LATTICE_CKKS, CCZ_ERR_INVALID_ARGUMENT,
               "BFV parameters: the inference computes on CKKS");
    unsigned L = ccz_lattice_max_level(ctx), count;
    CCZ_ENSURE(L >= CCZ_HE_LR_LEVEL, CCZ_ERR_INVALID_ARGUMENT,
               "%u data primes: the inference needs %d (the rescales of the model's products, of "
               "the square and of the cube, and one prime for the result)",
               L, CCZ_HE_LR_LEVEL);
    const uint64_t *q = ccz_lattice_context_primes(&count, ctx);
    double s = log2(p->scale);
    CCZ_ENSURE(s >= 20 && s <= 55, CCZ_ERR_INVALID_ARGUMENT,
               "scale 2^%.1f: the inference needs 2^20 to 2^55", s);
    for (unsigned i = 1; i <= 2; i++)
        CCZ_ENSURE(fabs(bits(q[i]) - s) <= 4, CCZ_ERR_INVALID_ARGUMENT,
                   "prime %u has %.0f bits, the scale 2^%.0f: the square and the cube are "
                   "rescaled by primes 1 and 2, which must be within 4 bits of the scale",
                   i, ceil(bits(q[i])), s);
    CCZ_ENSURE(bits(q[0]) - s >= 4, CCZ_ERR_INVALID_ARGUMENT,
               "the first prime (%.0f bits) must exceed the scale (2^%.0f) by 4 bits to hold the "
               "probabilities",
               ceil(bits(q[0])), s);
    /* the cube comes back at scale^3 / (q1 q2), not at the scale: primes 1 and 2 below the scale
     * raise it, and the first prime must hold the probabilities at that scale too */
    double r = 3 * s - bits(q[1]) - bits(q[2]);
    CCZ_ENSURE(bits(q[0]) - r >= 4, CCZ_ERR_INVALID_ARGUMENT,
               "the result comes back at scale 2^%.1f (the scale cubed over primes 1 and 2): the "
               "first prime (%.0f bits) must exceed it by 4 bits to hold the probabilities",
               r, ceil(bits(q[0])));
    CCZ_ENSURE(bits(q[CCZ_HE_LR_LEVEL - 1]) >= 20, CCZ_ERR_INVALID_ARGUMENT,
               "prime %d (the model's) has %.0f bits: the weights need 21 (a prime of 2^20 "
               "or more)",
               CCZ_HE_LR_LEVEL - 1, ceil(bits(q[CCZ_HE_LR_LEVEL - 1])));
    return CCZ_OK;
}

ccz_status ccz_he_lr_predict(double *p, const ccz_he_lr_model *m, const ccz_he_lr_data *d)
{
    CCZ_ENSURE(m->features == d->features, CCZ_ERR_INVALID_ARGUMENT,
               "the model has %zu features, the data %zu", m->features, d->features);
    for (size_t r = 0; r < d->rows; r++) {
        double z = m->bias;
        for (size_t k = 0; k < d->features; k++)
            z += m->weights[k] * d->x[r * d->features + k];
        p[r] = ccz_he_lr_sigmoid(z);
    }
    return CCZ_OK;
}

double ccz_he_lr_accuracy(const double *p, const ccz_he_lr_data *d)
{
    size_t right = 0;
    for (size_t r = 0; r < d->rows; r++)
        right += (p[r] >= 0.5) == (d->y[r] == 1);
    return d->rows ? (double)right / (double)d->rows : 0;
}

/* ---- the evaluation ------------------------------------------------------------------------------
 * With z = w . x + b and a = sqrt(-C3): p = C0 + (-z) (a^2 z^2 - C1) = C0 + C1 z + C3 z^3. Two
 * sums of products by constants give -z and a z (the factor a folded into the weights, so the
 * square needs no product by a constant); (a z)^2 - C1, times -z, plus C0. Three rescales: by the
 * model's prime (the weights' scale, so the sums come back at the data's scale), then by primes
 * 2 and 1. */

typedef struct {
    const ccz_lattice_context *ctx;
    const ccz_he_lr_model *m;
    const ccz_span *x;
    double a, wscale, scale;
    pthread_mutex_t mu;
    ccz_lattice_ciphertext *neg, *sq; /* the sums of the chunks done, or NULL */
} eval_job;

/* One input ciphertext at the evaluation's level, checked. */
static ccz_status load_one(ccz_lattice_ciphertext *ct, const eval_job *j, size_t k)
{
    ccz_status s = ccz_lattice_ciphertext_load(ct, j->ctx, j->x[k]);
    if (s)
        return ccz_fail_context(s, "ciphertext %zu", k);
    CCZ_ENSURE(ccz_lattice_ciphertext_size(ct) == 2, CCZ_ERR_INVALID_ARGUMENT,
               "ciphertext %zu has %u components: relinearize it", k,
               ccz_lattice_ciphertext_size(ct));
    unsigned level = ccz_lattice_ciphertext_level(ct);
    CCZ_ENSURE(level >= CCZ_HE_LR_LEVEL, CCZ_ERR_INVALID_ARGUMENT,
               "ciphertext %zu is at level %u: the inference needs %d", k, level, CCZ_HE_LR_LEVEL);
    double sc = ccz_lattice_ciphertext_scale(ct);
    CCZ_ENSURE(fabs(sc / j->scale - 1) < 1e-9, CCZ_ERR_INVALID_ARGUMENT,
               "ciphertext %zu is at scale 2^%.2f, the parameters' is 2^%.2f", k, log2(sc),
               log2(j->scale));
    while (level-- > CCZ_HE_LR_LEVEL)
        CCZ_GUARD(ccz_lattice_mod_switch(ct, j->ctx));
    return CCZ_OK;
}

/* neg (+)= -w_k x_k and sq (+)= a w_k x_k; first: set them */
static ccz_status products(ccz_lattice_ciphertext *neg, ccz_lattice_ciphertext *sq,
                           const eval_job *j, const ccz_lattice_ciphertext *ct, size_t k,
                           bool first)
{
    double w = j->m->weights[k];
    ccz_status s = first ? ccz_lattice_ckks_mul_const_at(neg, j->ctx, ct, -w, j->wscale)
                         : ccz_lattice_ckks_mul_const_add(neg, j->ctx, ct, -w, j->wscale);
    if (s == CCZ_OK)
        s = first ? ccz_lattice_ckks_mul_const_at(sq, j->ctx, ct, j->a * w, j->wscale)
                  : ccz_lattice_ckks_mul_const_add(sq, j->ctx, ct, j->a * w, j->wscale);
    return s ? ccz_fail_context(s, "weight %zu", k) : CCZ_OK;
}

/* The products of ciphertexts [begin, end) by their weights, summed, then added to the job's. */
static ccz_status chunk(size_t begin, size_t end, void *arg)
{
    eval_job *j = arg;
    ccz_lattice_ciphertext *ct = NULL, *neg = NULL, *sq = NULL;
    ccz_status s = ccz_lattice_ciphertext_new(&ct, j->ctx);
    if (s == CCZ_OK)
        s = ccz_lattice_ciphertext_new(&neg, j->ctx);
    if (s == CCZ_OK)
        s = ccz_lattice_ciphertext_new(&sq, j->ctx);
    for (size_t k = begin; k < end && s == CCZ_OK; k++) {
        s = load_one(ct, j, k);
        if (s == CCZ_OK)
            s = products(neg, sq, j, ct, k, k == begin);
    }
    if (s == CCZ_OK) {
        pthread_mutex_lock(&j->mu);
        if (!j->neg) {
            j->neg = neg;
            j->sq = sq;
            neg = sq = NULL;
        } else {
            s = ccz_lattice_add(j->neg, j->ctx, j->neg, neg);
            if (s == CCZ_OK)
                s = ccz_lattice_add(j->sq, j->ctx, j->sq, sq);
        }
        pthread_mutex_unlock(&j->mu);
    }
    ccz_lattice_ciphertext_free(ct);
    ccz_lattice_ciphertext_free(neg);
    ccz_lattice_ciphertext_free(sq);
    return s;
}

/* c = c + k, k encoded in every slot at c's scale and level. */
static ccz_status add_const(ccz_lattice_ciphertext *c, const ccz_lattice_context *ctx,
                            ccz_lattice_plaintext *pt, double *slots, double k)
{
    size_t n = ccz_lattice_slots(ctx);
    for (size_t i = 0; i < n; i++)
        slots[i] = k;
    CCZ_GUARD(ccz_lattice_ckks_encode_real(pt, ctx, slots, n, ccz_lattice_ciphertext_scale(c),
                                           ccz_lattice_ciphertext_level(c)));
    return ccz_lattice_add_plain(c, ctx, c, pt);
}

/* From the two sums at the model's level to the probabilities. */
static ccz_status polynomial(ccz_lattice_ciphertext *out, eval_job *j,
                             const ccz_lattice_relin_keys *rk, const ccz_lattice_public_key *pk)
{
    const ccz_lattice_context *ctx = j->ctx;
    ccz_lattice_plaintext *pt = NULL;
    ccz_lattice_ciphertext *fresh = NULL;
    double *slots = malloc(ccz_lattice_slots(ctx) * sizeof *slots);
    ccz_status s =
        slots ? ccz_lattice_plaintext_new(&pt, ctx) : ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    if (s == CCZ_OK)
        s = ccz_lattice_ciphertext_new(&fresh, ctx);
    ccz_lattice_ciphertext *neg = j->neg, *sq = j->sq;
    /* -z and a z at the data's scale */
    if (s == CCZ_OK)
        s = ccz_lattice_ckks_rescale(neg, ctx);
    if (s == CCZ_OK)
        s = ccz_lattice_ckks_rescale(sq, ctx);
    if (s == CCZ_OK)
        s = add_const(neg, ctx, pt, slots, -j->m->bias);
    if (s == CCZ_OK)
        s = add_const(sq, ctx, pt, slots, j->a * j->m->bias);
    /* a^2 z^2 - C1 */
    if (s == CCZ_OK)
        s = ccz_lattice_mul(sq, ctx, sq, sq, rk);
    if (s == CCZ_OK)
        s = ccz_lattice_ckks_rescale(sq, ctx);
    if (s == CCZ_OK)
        s = add_const(sq, ctx, pt, slots, -C1);
    /* times -z */
    if (s == CCZ_OK)
        s = ccz_lattice_mod_switch(neg, ctx);
    if (s == CCZ_OK)
        s = ccz_lattice_mul(out, ctx, neg, sq, rk);
    if (s == CCZ_OK)
        s = ccz_lattice_ckks_rescale(out, ctx);
    /* + C0, as a fresh encryption: the result is not only the client's data times the model */
    size_t n = ccz_lattice_slots(ctx);
    for (size_t i = 0; s == CCZ_OK && i < n; i++)
        slots[i] = C0;
    if (s == CCZ_OK)
        s = ccz_lattice_ckks_encode_real(pt, ctx, slots, n, ccz_lattice_ciphertext_scale(out),
                                         ccz_lattice_ciphertext_level(out));
    if (s == CCZ_OK)
        s = ccz_lattice_encrypt(fresh, ctx, pk, pt);
    if (s == CCZ_OK)
        s = ccz_lattice_add(out, ctx, out, fresh);
    ccz_lattice_ciphertext_free(fresh);
    ccz_lattice_plaintext_free(pt);
    free(slots);
    return s;
}

ccz_status ccz_he_lr_eval(ccz_lattice_ciphertext *out, const ccz_lattice_context *ctx,
                          const ccz_lattice_relin_keys *rk, const ccz_lattice_public_key *pk,
                          const ccz_he_lr_model *m, const ccz_span *x, size_t n, unsigned threads)
{
    CCZ_GUARD(ccz_he_lr_check_context(ctx));
    /* with no products there are no sums: the polynomial would read ciphertexts never made */
    CCZ_ENSURE(m->features >= 1, CCZ_ERR_INVALID_ARGUMENT,
               "a model of no features: there is nothing to evaluate");
    CCZ_ENSURE(n == m->features, CCZ_ERR_INVALID_ARGUMENT,
               "%zu ciphertexts for a model of %zu features", n, m->features);
    unsigned count;
    const uint64_t *q = ccz_lattice_context_primes(&count, ctx);
    eval_job j = {ctx,
                  m,
                  x,
                  sqrt(-C3),
                  (double)q[CCZ_HE_LR_LEVEL - 1],
                  ccz_lattice_context_params(ctx)->scale,
                  PTHREAD_MUTEX_INITIALIZER,
                  NULL,
                  NULL};
    ccz_status s = ccz_parallel(n, threads, chunk, &j);
    if (s == CCZ_OK)
        s = polynomial(out, &j, rk, pk);
    ccz_lattice_ciphertext_free(j.neg);
    ccz_lattice_ciphertext_free(j.sq);
    pthread_mutex_destroy(&j.mu);
    return s;
}
