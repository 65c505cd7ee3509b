/* SPDX-License-Identifier: Apache-2.0 */
/* FATE's hetero (vertical) logistic regression on ccz's Paillier: a party's part of each
 * mini-batch step (include/ccz/fl.h). The party's rows are its own; ciphertexts from the other
 * parties are checked on the wire (src/svc/fl/hetero_*.c) and the decrypted gradients checked
 * for range here. Reals are fixed point at 2^CCZ_FL_VLR_SCALE_BITS, negatives mod n. */
#include <math.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#include "ccz/fl.h"
#include "core/guard.h"

#define S CCZ_FL_VLR_SCALE_BITS

struct ccz_fl_vlr_party {
    const ccz_paillier_pub *pk;
    mpz_t n, half;
    size_t rows, features, dim, batch, nbatches;
    bool guest;
    double *x;  /* rows x features, the party's aligned rows */
    uint8_t *y; /* guest only */
    /* per batch, X^T of its rows at scale 2^S (with the guest's column of ones first):
     * xt[batch offset * dim + j * b + r] */
    mpz_t *xt;
    mpz_t *mask; /* dim: the masks of the last gradient */
    /* the guest's gradient, computed with the loss from the residuals (their power tables
     * shared): valid for step gstep and the residuals in res */
    mpz_t *grad, *res;
    unsigned gstep;
    bool gvalid;
    double *w, *m, *u;
    double alpha, learning_rate, momentum;
    unsigned threads;
};

static mpz_t *mpz_array(size_t n)
{
    mpz_t *a = malloc((n ? n : 1) * sizeof *a);
    for (size_t i = 0; a && i < n; i++)
        mpz_init(a[i]);
    return a;
}

static void mpz_array_free(mpz_t *a, size_t n, bool wipe)
{
    for (size_t i = 0; a && i < n; i++) {
        if (wipe && a[i]->_mp_alloc > 0)
            OPENSSL_cleanse(a[i]->_mp_d, (size_t)a[i]->_mp_alloc * sizeof(mp_limb_t));
        mpz_clear(a[i]);
    }
    free(a);
}

/* round(v 2^S) */
static void fix(mpz_t out, double v)
{
    mpz_set_d(out, nearbyint(ldexp(v, S)));
}

static size_t batch_off(const ccz_fl_vlr_party *p, unsigned step)
{
    return (step % p->nbatches) * p->batch;
}

size_t ccz_fl_vlr_batch_rows(const ccz_fl_vlr_party *p, unsigned step)
{
    size_t off = batch_off(p, step);
    return p->rows - off < p->batch ? p->rows - off : p->batch;
}

size_t ccz_fl_vlr_batches(const ccz_fl_vlr_party *p)
{
    return p->nbatches;
}

size_t ccz_fl_vlr_dim(const ccz_fl_vlr_party *p)
{
    return p->dim;
}

const double *ccz_fl_vlr_weights(const ccz_fl_vlr_party *p)
{
    return p->w;
}

void ccz_fl_vlr_party_free(ccz_fl_vlr_party *p)
{
    if (!p)
        return;
    mpz_array_free(p->xt, p->rows * p->dim, false);
    mpz_array_free(p->mask, p->dim, true);
    mpz_array_free(p->grad, p->dim, false);
    mpz_array_free(p->res, p->batch, false);
    mpz_clears(p->n, p->half, NULL);
    free(p->x);
    free(p->y);
    free(p->w);
    free(p->m);
    free(p->u);
    free(p);
}

ccz_status ccz_fl_vlr_party_new(ccz_fl_vlr_party **out, const ccz_paillier_pub *pk,
                                const ccz_ml_dataset *d, const ccz_fl_vlr_opts *o)
{
    *out = NULL;
    CCZ_ENSURE(o && o->version == CCZ_FL_VLR_OPTS_VERSION, CCZ_ERR_INVALID_ARGUMENT,
               "ccz_fl_vlr_opts: version %u, expected %u", o ? o->version : 0,
               CCZ_FL_VLR_OPTS_VERSION);
    CCZ_ENSURE(pk && d && d->rows && d->features, CCZ_ERR_INVALID_ARGUMENT,
               "a party needs a key and rows");
    CCZ_ENSURE(o->alpha >= 0 && o->alpha < 1e6 && o->learning_rate >= 0 && o->learning_rate < 1e6 &&
                   o->momentum < 1,
               CCZ_ERR_INVALID_ARGUMENT,
               "alpha and the learning rate are in [0, 1e6), the momentum below 1");
    CCZ_ENSURE(ccz_paillier_bits(pk) >= 1024, CCZ_ERR_INVALID_ARGUMENT,
               "hetero-LR needs a key of 1024 bits or more");
    for (size_t q = 0; q < d->rows * d->features; q++)
        CCZ_ENSURE(fabs(d->x[q]) < 1e6, CCZ_ERR_OVERFLOW,
                   "row %zu: a feature of magnitude 1e6 or more (scale the features first)",
                   q / d->features + 1);
    ccz_fl_vlr_party *p = calloc(1, sizeof *p);
    CCZ_ENSURE(p, CCZ_ERR_NOMEM, "out of memory");
    mpz_inits(p->n, p->half, NULL);
    ccz_paillier_pub_n(p->n, pk);
    mpz_fdiv_q_2exp(p->half, p->n, 1);
    p->pk = pk;
    p->rows = d->rows;
    p->features = d->features;
    p->guest = d->y != NULL;
    p->dim = d->features + p->guest;
    p->batch = o->batch_size && o->batch_size < d->rows ? o->batch_size : d->rows;
    p->nbatches = (p->rows + p->batch - 1) / p->batch;
    p->alpha = o->alpha ? o->alpha : 0.01;
    p->learning_rate = o->learning_rate ? o->learning_rate : 0.15;
    p->momentum = o->momentum ? o->momentum : 0.9;
    p->threads = o->threads;
    p->x = malloc(p->rows * p->features * sizeof *p->x);
    p->y = p->guest ? malloc(p->rows) : NULL;
    p->w = calloc(p->dim, sizeof *p->w);
    p->m = calloc(p->dim, sizeof *p->m);
    p->u = malloc(p->batch * sizeof *p->u);
    p->xt = mpz_array(p->rows * p->dim);
    p->mask = mpz_array(p->dim);
    p->grad = mpz_array(p->dim);
    p->res = mpz_array(p->batch);
    if (!p->x || (p->guest && !p->y) || !p->w || !p->m || !p->u || !p->xt || !p->mask || !p->grad ||
        !p->res) {
        ccz_fl_vlr_party_free(p);
        return ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    }
    memcpy(p->x, d->x, p->rows * p->features * sizeof *p->x);
    if (p->guest)
        memcpy(p->y, d->y, p->rows);
    for (size_t b = 0; b < p->nbatches; b++) {
        size_t off = b * p->batch, rows = ccz_fl_vlr_batch_rows(p, (unsigned)b);
        for (size_t j = 0; j < p->dim; j++)
            for (size_t r = 0; r < rows; r++) {
                size_t f = j - p->guest;
                fix(p->xt[off * p->dim + j * rows + r],
                    p->guest && j == 0 ? 1.0 : p->x[(off + r) * p->features + f]);
            }
    }
    *out = p;
    return CCZ_OK;
}

ccz_status ccz_fl_vlr_scores(const ccz_fl_vlr_party *p, double *u, unsigned step)
{
    size_t off = batch_off(p, step), rows = ccz_fl_vlr_batch_rows(p, step);
    for (size_t r = 0; r < rows; r++) {
        const double *x = p->x + (off + r) * p->features;
        double z = p->guest ? p->w[0] : 0;
        for (size_t f = 0; f < p->features; f++)
            z += p->w[f + p->guest] * x[f];
        CCZ_ENSURE(isfinite(z) && fabs(z) < 1e12, CCZ_ERR_OVERFLOW,
                   "row %zu: the score %g is out of range (the training diverged)", off + r + 1, z);
        u[r] = z;
    }
    return CCZ_OK;
}

ccz_status ccz_fl_vlr_forward(ccz_fl_vlr_party *p, mpz_t *fwd, mpz_t sq, unsigned step)
{
    size_t rows = ccz_fl_vlr_batch_rows(p, step);
    CCZ_GUARD(ccz_fl_vlr_scores(p, p->u, step));
    mpz_t *m = mpz_array(rows + 1);
    CCZ_ENSURE(m, CCZ_ERR_NOMEM, "out of memory");
    mpz_t U;
    mpz_init(U);
    for (size_t r = 0; r < rows; r++) {
        fix(U, p->u[r]);
        mpz_addmul(m[rows], U, U);
        mpz_mod(m[r], U, p->n);
    }
    mpz_clear(U);
    ccz_status s = ccz_paillier_encrypt_batch(m, p->pk, (const mpz_t *)m, rows + 1, p->threads);
    for (size_t r = 0; r < rows && s == CCZ_OK; r++)
        mpz_set(fwd[r], m[r]);
    if (s == CCZ_OK)
        mpz_set(sq, m[rows]);
    mpz_array_free(m, rows + 1, false);
    return s;
}

/* The guest's gradient products prod res^x into p->grad (kept for ccz_fl_vlr_gradient with these
 * residuals) and, when loss is given, prod res^c into it, in one dot product: the rows of the
 * batch's X^T and c share the tables of res. */
static ccz_status guest_products(ccz_fl_vlr_party *p, mpz_t *loss, const mpz_t *res, const mpz_t *c,
                                 size_t rows, unsigned step)
{
    size_t off = batch_off(p, step), lines = p->dim + (loss != NULL);
    mpz_t *e = malloc(lines * rows * sizeof *e), *out = malloc(lines * sizeof *out);
    ccz_status s = e && out ? CCZ_OK : ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    p->gvalid = false;
    if (s == CCZ_OK) { /* read-only views */
        memcpy(e, &p->xt[off * p->dim], p->dim * rows * sizeof *e);
        if (loss)
            memcpy(e + p->dim * rows, c, rows * sizeof *e);
        memcpy(out, p->grad, p->dim * sizeof *out);
        if (loss)
            memcpy(out + p->dim, loss, sizeof *out);
        s = ccz_paillier_dot_batch(out, p->pk, res, rows, (const mpz_t *)e, lines, p->threads);
        /* the views' limbs may have been reallocated */
        memcpy(p->grad, out, p->dim * sizeof *out);
        if (loss)
            memcpy(loss, out + p->dim, sizeof *out);
    }
    for (size_t r = 0; r < rows && s == CCZ_OK; r++)
        mpz_set(p->res[r], res[r]);
    if (s == CCZ_OK) {
        p->gstep = step;
        p->gvalid = true;
    }
    free(e);
    free(out);
    return s;
}

ccz_status ccz_fl_vlr_residuals(ccz_fl_vlr_party *p, mpz_t *res, mpz_t *loss, const mpz_t *fwd,
                                const mpz_t sq, unsigned step)
{
    CCZ_ENSURE(p->guest, CCZ_ERR_INVALID_ARGUMENT, "only the guest has the labels");
    size_t off = batch_off(p, step), rows = ccz_fl_vlr_batch_rows(p, step);
    CCZ_GUARD(ccz_fl_vlr_scores(p, p->u, step));
    /* [[4 d 2^S]] = [[U_h]] + G + (2 - 4 y) 2^S; for the loss, the coefficients of [[U_h]]:
     * 2 G + (4 - 8 y) 2^S, and the constant sum G^2 + (4 - 8 y) 2^S G */
    mpz_t *c = mpz_array(rows), G, t, k, ts;
    CCZ_ENSURE(c, CCZ_ERR_NOMEM, "out of memory");
    mpz_inits(G, t, k, ts, NULL);
    mpz_set_ui(k, 0);
    ccz_status s = CCZ_OK;
    for (size_t r = 0; r < rows && s == CCZ_OK; r++) {
        int y = p->y[off + r];
        fix(G, p->u[r]);
        mpz_set_si(t, 2 - 4 * y);
        mpz_mul_2exp(t, t, S);
        mpz_add(t, t, G);
        mpz_mod(t, t, p->n);
        s = ccz_paillier_add_plain(res[r], p->pk, fwd[r], t);
        mpz_set(ts, t);
        mpz_set_si(t, 4 - 8 * y);
        mpz_mul_2exp(t, t, S);
        mpz_addmul(k, t, G);
        mpz_addmul(k, G, G);
        mpz_mul_2exp(c[r], G, 1);
        mpz_add(c[r], c[r], t);
        mpz_submul(k, c[r], ts);
    }
    /* the gradient's products and the loss's in one call over [[4 d 2^S]]: the loss's
     * prod [[U_h]]^c = prod [[4 d 2^S]]^c [[-sum c t]], t what the residuals added */
    if (s == CCZ_OK)
        s = guest_products(p, loss, res, (const mpz_t *)c, rows, step);
    if (s == CCZ_OK && loss) {
        s = ccz_paillier_add(*loss, p->pk, *loss, sq);
        mpz_mod(k, k, p->n);
        if (s == CCZ_OK)
            s = ccz_paillier_add_plain(*loss, p->pk, *loss, k);
    }
    mpz_clears(G, t, k, ts, NULL);
    mpz_array_free(c, rows, false);
    return s;
}

/* Uniform in [0, n): 128 bits more than n, reduced. */
static ccz_status rand_mod(mpz_t out, const mpz_t n)
{
    uint8_t buf[1024 + 16];
    size_t len = (mpz_sizeinbase(n, 2) + 7) / 8 + 16;
    CCZ_ENSURE(len <= sizeof buf, CCZ_ERR_INVALID_ARGUMENT, "the key is too long");
    CCZ_ENSURE(RAND_bytes(buf, (int)len) == 1, CCZ_ERR_CRYPTO, "the RNG failed");
    mpz_import(out, len, 1, 1, 1, 0, buf);
    mpz_mod(out, out, n);
    OPENSSL_cleanse(buf, len);
    return CCZ_OK;
}

ccz_status ccz_fl_vlr_gradient(ccz_fl_vlr_party *p, mpz_t *masked, const mpz_t *res, unsigned step)
{
    size_t off = batch_off(p, step), rows = ccz_fl_vlr_batch_rows(p, step);
    bool kept = p->gvalid && p->gstep == step;
    for (size_t r = 0; r < rows && kept; r++)
        kept = mpz_cmp(res[r], p->res[r]) == 0;
    p->gvalid = false;
    if (kept) {
        for (size_t j = 0; j < p->dim; j++)
            mpz_set(masked[j], p->grad[j]);
    } else {
        CCZ_GUARD(ccz_paillier_dot_batch(masked, p->pk, res, rows,
                                         (const mpz_t *)&p->xt[off * p->dim], p->dim, p->threads));
    }
    mpz_t *e = mpz_array(p->dim);
    CCZ_ENSURE(e, CCZ_ERR_NOMEM, "out of memory");
    ccz_status s = CCZ_OK;
    for (size_t j = 0; j < p->dim && s == CCZ_OK; j++)
        s = rand_mod(p->mask[j], p->n);
    if (s == CCZ_OK)
        s = ccz_paillier_encrypt_batch(e, p->pk, (const mpz_t *)p->mask, p->dim, p->threads);
    if (s == CCZ_OK)
        s = ccz_paillier_add_batch(masked, p->pk, (const mpz_t *)masked, (const mpz_t *)e, p->dim,
                                   p->threads);
    mpz_array_free(e, p->dim, false);
    return s;
}

ccz_status ccz_fl_vlr_update(ccz_fl_vlr_party *p, const mpz_t *plain, unsigned step)
{
    size_t rows = ccz_fl_vlr_batch_rows(p, step);
    unsigned epoch = (unsigned)(step / p->nbatches);
    double lr = p->learning_rate / sqrt(1.0 + epoch), mu = p->momentum > 0 ? p->momentum : 0;
    double *g = malloc(p->dim * sizeof *g);
    CCZ_ENSURE(g, CCZ_ERR_NOMEM, "out of memory");
    mpz_t v, limit;
    mpz_inits(v, limit, NULL);
    mpz_fdiv_q_2exp(limit, p->n, 2);
    ccz_status s = CCZ_OK;
    for (size_t j = 0; j < p->dim && s == CCZ_OK; j++) {
        if (mpz_sgn(plain[j]) < 0 || mpz_cmp(plain[j], p->n) >= 0) {
            s = ccz_fail(CCZ_ERR_OVERFLOW, "gradient %zu: the arbiter's value is not in [0, n)", j);
            break;
        }
        mpz_sub(v, plain[j], p->mask[j]);
        mpz_mod(v, v, p->n);
        if (mpz_cmp(v, p->half) > 0)
            mpz_sub(v, v, p->n);
        mpz_abs(limit, v);
        if (mpz_sizeinbase(limit, 2) > 2 * S + 64) {
            s = ccz_fail(CCZ_ERR_OVERFLOW,
                         "step %u, gradient %zu: %zu bits after unmasking, an implausible "
                         "value (the arbiter decrypted something else, or the training diverged)",
                         step, j, mpz_sizeinbase(limit, 2));
            break;
        }
        long ex;
        double mant = mpz_get_d_2exp(&ex, v);
        g[j] = ldexp(mant, (int)ex - 2 * S) / (4.0 * (double)rows);
        if (!(p->guest && j == 0))
            g[j] += p->alpha * p->w[j];
    }
    mpz_clears(v, limit, NULL);
    for (size_t j = 0; j < p->dim && s == CCZ_OK; j++) {
        if (mu > 0) { /* FATE's Nesterov momentum */
            double vel = mu * p->m[j] - lr * g[j];
            double delta = mu * p->m[j] - (1 + mu) * vel;
            p->m[j] = vel;
            p->w[j] -= delta;
        } else {
            p->w[j] -= lr * g[j];
        }
    }
    free(g);
    return s;
}

ccz_status ccz_fl_vlr_loss(double *loss, const ccz_paillier_pub *pk, const mpz_t m, size_t rows)
{
    mpz_t n, v;
    mpz_inits(n, v, NULL);
    ccz_paillier_pub_n(n, pk);
    mpz_set(v, m);
    mpz_fdiv_q_2exp(n, n, 1);
    if (mpz_cmp(v, n) > 0) {
        ccz_paillier_pub_n(n, pk);
        mpz_sub(v, v, n);
    }
    long ex;
    double mant = mpz_get_d_2exp(&ex, v);
    size_t bits = mpz_sizeinbase(v, 2);
    mpz_clears(n, v, NULL);
    CCZ_ENSURE(rows && bits <= 2 * S + 96, CCZ_ERR_OVERFLOW,
               "the loss is out of range (%zu bits): a wrong decryption", bits);
    *loss = log(2.0) + 0.125 * ldexp(mant, (int)ex - 2 * S) / (double)rows;
    return CCZ_OK;
}

/* ---- data ------------------------------------------------------------------------------------*/

static int cmp_first(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

ccz_status ccz_fl_vlr_align(ccz_ml_dataset *out, const ccz_ml_dataset *d, const int64_t *ids,
                            size_t n)
{
    memset(out, 0, sizeof *out);
    CCZ_ENSURE(d && d->ids && n, CCZ_ERR_INVALID_ARGUMENT, "alignment needs ids");
    /* (id, row) sorted by id, then a binary search per wanted id */
    int64_t(*idx)[2] = malloc(d->rows * sizeof *idx);
    CCZ_ENSURE(idx, CCZ_ERR_NOMEM, "out of memory");
    for (size_t r = 0; r < d->rows; r++) {
        idx[r][0] = d->ids[r];
        idx[r][1] = (int64_t)r;
    }
    qsort(idx, d->rows, sizeof *idx, cmp_first);
    ccz_ml_dataset a = {n, d->features, malloc(n * d->features * sizeof(double)),
                        d->y ? malloc(n) : NULL, malloc(n * sizeof(int64_t))};
    ccz_status s =
        a.x && a.ids && (a.y || !d->y) ? CCZ_OK : ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n && s == CCZ_OK; i++) {
        size_t lo = 0, hi = d->rows;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (idx[mid][0] < ids[i])
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo == d->rows || idx[lo][0] != ids[i]) {
            s = ccz_fail(CCZ_ERR_NOT_FOUND, "id %lld is not in this party's data",
                         (long long)ids[i]);
            break;
        }
        size_t r = (size_t)idx[lo][1];
        memcpy(a.x + i * d->features, d->x + r * d->features, d->features * sizeof(double));
        if (d->y)
            a.y[i] = d->y[r];
        a.ids[i] = ids[i];
    }
    free(idx);
    if (s) {
        ccz_ml_dataset_free(&a);
        return s;
    }
    *out = a;
    return CCZ_OK;
}

void ccz_fl_vlr_zscore(ccz_ml_dataset *d)
{
    for (size_t f = 0; f < d->features; f++) {
        double mean = 0, var = 0;
        for (size_t r = 0; r < d->rows; r++)
            mean += d->x[r * d->features + f];
        mean /= (double)d->rows;
        for (size_t r = 0; r < d->rows; r++) {
            double e = d->x[r * d->features + f] - mean;
            var += e * e;
        }
        double sd = sqrt(var / (double)d->rows);
        for (size_t r = 0; r < d->rows; r++) {
            double *x = &d->x[r * d->features + f];
            *x = sd > 0 ? (*x - mean) / sd : 0;
        }
    }
}

typedef struct {
    double s;
    uint8_t y;
} scored;

static int cmp_score(const void *a, const void *b)
{
    double x = ((const scored *)a)->s, y = ((const scored *)b)->s;
    return (x > y) - (x < y);
}

double ccz_fl_vlr_auc(const double *score, const uint8_t *y, size_t n)
{
    scored *v = malloc((n ? n : 1) * sizeof *v);
    if (!v)
        return NAN;
    size_t pos = 0;
    for (size_t i = 0; i < n; i++) {
        v[i] = (scored){score[i], y[i]};
        pos += y[i] != 0;
    }
    qsort(v, n, sizeof *v, cmp_score);
    /* Mann-Whitney: the positives' ranks (ties share their mean rank) */
    double rank_sum = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && v[j].s == v[i].s)
            j++;
        double rank = (double)(i + 1 + j) / 2.0;
        for (size_t k = i; k < j; k++)
            if (v[k].y)
                rank_sum += rank;
        i = j;
    }
    free(v);
    size_t neg = n - pos;
    if (!pos || !neg)
        return NAN;
    return (rank_sum - (double)pos * (double)(pos + 1) / 2.0) / ((double)pos * (double)neg);
}
