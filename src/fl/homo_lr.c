/* SPDX-License-Identifier: Apache-2.0 */
/* CCZoo's homomorphic logistic regression (cczoo/phe_homo_lr) on ccz's Paillier: a worker's
 * encrypted gradient step and the parameter server's average and fresh encryption. Every scalar
 * is a double encoded exactly, so the encrypted computation is exact and equals the same step on
 * rationals; the data set is the worker's own, the weights come from the server (checked by
 * ccz_fl_hlr_weights_parse on the way in). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ccz/fl.h"
#include "core/guard.h"

/* ---- exact scalars: m * 16^e ------------------------------------------------------------------*/

typedef struct {
    mpz_t m;
    int e;
} fx;

static void fx_init(fx *x)
{
    mpz_init(x->m);
    x->e = 0;
}

static void fx_clear(fx *x)
{
    mpz_clear(x->m);
}

/* Drops trailing zero hex digits (a zero has exponent 0). */
static void fx_norm(fx *x)
{
    if (mpz_sgn(x->m) == 0) {
        x->e = 0;
        return;
    }
    mp_bitcnt_t tz = mpz_scan1(x->m, 0) / 4;
    if (tz) {
        mpz_tdiv_q_2exp(x->m, x->m, 4 * tz);
        x->e += (int)tz;
    }
}

/* A finite double, exactly: its 53-bit mantissa at the base-16 exponent of its lowest bit, as
 * python-paillier encodes it, then normalised. */
static void fx_from_double(fx *x, double v)
{
    int be;
    double f = frexp(v, &be);
    mpz_set_d(x->m, ldexp(f, 53)); /* an integer, exact */
    int e2 = be - 53, e = (int)floor(e2 / 4.0);
    mpz_mul_2exp(x->m, x->m, (mp_bitcnt_t)(e2 - 4 * e));
    x->e = e;
    fx_norm(x);
}

static void fx_mul(fx *out, const fx *a, const fx *b)
{
    mpz_mul(out->m, a->m, b->m);
    out->e = a->e + b->e;
    fx_norm(out);
}

/* out = a * 16^shift (shift >= 0) */
static void mul_pow16(mpz_t out, const mpz_t a, long shift)
{
    mpz_mul_2exp(out, a, (mp_bitcnt_t)(4 * shift));
}

/* ---- the worker -------------------------------------------------------------------------------*/

/* The bits a worker's data leaves below n for the rest of a gradient's products (encode_rows). */
#define HLR_PRODUCT_ROOM 192

struct ccz_fl_hlr_worker {
    const ccz_paillier_pub *pk;
    mpz_t n, n2;
    size_t rows, dim;
    /* 4 z_r = sum_i w_i 4 x_ri with the w at one exponent: ez[r dim + i] = 4 x_ri at row r's
     * lowest exponent ex_row[r] */
    mpz_t *ez;
    int *ex_row, ex_max;
    size_t *zbits; /* zbits[r]: the bits of row r's widest ez */
    /* g_i = sum_r p_r x_ri, p_r at exponent ex_row[r] + const: eg[i rows + r] at column i's
     * lowest exponent mg[i] of ex_row[r] + ex(x_ri) */
    mpz_t *eg;
    int *mg;
    uint8_t *y;
    double alpha, learning_rate;
    unsigned threads;
    mpz_t *base, *z, *g, *k, *f; /* scratch: dim, rows, dim, 2 dim, 2 dim */
};

static mpz_t *mpz_array(size_t n)
{
    mpz_t *a = malloc((n ? n : 1) * sizeof *a);
    for (size_t i = 0; a && i < n; i++)
        mpz_init(a[i]);
    return a;
}

static void mpz_array_free(mpz_t *a, size_t n)
{
    for (size_t i = 0; a && i < n; i++)
        mpz_clear(a[i]);
    free(a);
}

void ccz_fl_hlr_worker_free(ccz_fl_hlr_worker *w)
{
    if (!w)
        return;
    mpz_array_free(w->ez, w->rows * w->dim);
    mpz_array_free(w->eg, w->rows * w->dim);
    mpz_array_free(w->base, w->dim);
    mpz_array_free(w->z, w->rows);
    mpz_array_free(w->g, w->dim);
    mpz_array_free(w->k, 2 * w->dim);
    mpz_array_free(w->f, 2 * w->dim);
    free(w->ex_row);
    free(w->zbits);
    free(w->mg);
    free(w->y);
    mpz_clears(w->n, w->n2, NULL);
    free(w);
}

size_t ccz_fl_hlr_worker_dim(const ccz_fl_hlr_worker *w)
{
    return w->dim;
}

static size_t ceil_log2(size_t x)
{
    size_t b = 0;
    while (((size_t)1 << b) < x)
        b++;
    return b;
}

/* The exact encodings of the rows (bias first) into the two exponent matrices. */
static ccz_status encode_rows(ccz_fl_hlr_worker *w, const ccz_ml_dataset *d)
{
    size_t R = w->rows, D = w->dim;
    fx *x = malloc(R * D * sizeof *x);
    CCZ_ENSURE(x, CCZ_ERR_NOMEM, "out of memory");
    for (size_t q = 0; q < R * D; q++) {
        fx_init(&x[q]);
        size_t r = q / D, i = q % D;
        fx_from_double(&x[q], i == 0 ? 1.0 : d->x[r * d->features + i - 1]);
    }
    w->ex_max = INT32_MIN;
    for (size_t r = 0; r < R; r++) {
        int lo = INT32_MAX;
        for (size_t i = 0; i < D; i++)
            lo = x[r * D + i].e < lo ? x[r * D + i].e : lo;
        w->ex_row[r] = lo;
        w->ex_max = lo > w->ex_max ? lo : w->ex_max;
        for (size_t i = 0; i < D; i++)
            mul_pow16(w->ez[r * D + i], x[r * D + i].m, x[r * D + i].e - lo);
    }
    for (size_t i = 0; i < D; i++) {
        int lo = INT32_MAX;
        for (size_t r = 0; r < R; r++)
            lo = w->ex_row[r] + x[r * D + i].e < lo ? w->ex_row[r] + x[r * D + i].e : lo;
        w->mg[i] = lo;
        for (size_t r = 0; r < R; r++)
            mul_pow16(w->eg[i * R + r], x[r * D + i].m, w->ex_row[r] + x[r * D + i].e - lo);
    }
    for (size_t q = 0; q < R * D; q++)
        fx_clear(&x[q]);
    free(x);
    /* scalars stay far below n (so products of ciphertexts never wrap a sign). ez is by row,
     * eg by column: each names what spans too much */
    size_t limit = mpz_sizeinbase(w->n, 2) - 128;
    for (size_t q = 0; q < R * D; q++)
        CCZ_ENSURE(mpz_sizeinbase(w->ez[q], 2) <= limit, CCZ_ERR_OVERFLOW,
                   "row %zu: the features span too many orders of magnitude to be encoded "
                   "exactly under a %zu-bit key",
                   q / D + 1, mpz_sizeinbase(w->n, 2));
    for (size_t q = 0; q < R * D; q++)
        CCZ_ENSURE(mpz_sizeinbase(w->eg[q], 2) <= limit, CCZ_ERR_OVERFLOW,
                   "feature %zu: its values span too many orders of magnitude across the rows "
                   "to be encoded exactly under a %zu-bit key",
                   q / R, mpz_sizeinbase(w->n, 2));
    /* nor may their products: g_i = sum_r z_r eg[i r] with z_r = sum_j w_j ez[r j], so each
     * row's widest z scalar times each of its gradient scalars, summed over the rows, stays
     * HLR_PRODUCT_ROOM bits below n: room for the weights' 53-bit mantissas, the sum over up to
     * 4096 features, the update's factors and the server's own 64 bits */
    size_t log_rows = ceil_log2(R);
    for (size_t r = 0; r < R; r++) {
        size_t zb = 0;
        for (size_t i = 0; i < D; i++)
            zb =
                mpz_sizeinbase(w->ez[r * D + i], 2) > zb ? mpz_sizeinbase(w->ez[r * D + i], 2) : zb;
        w->zbits[r] = zb + 2; /* after the factor 4 below (the bias makes every row nonzero) */
        for (size_t i = 0; i < D; i++)
            CCZ_ENSURE(zb + mpz_sizeinbase(w->eg[i * R + r], 2) + log_rows + HLR_PRODUCT_ROOM <=
                           mpz_sizeinbase(w->n, 2),
                       CCZ_ERR_OVERFLOW,
                       "row %zu, feature %zu: the row's features and the feature's values across "
                       "the rows span too many orders of magnitude together for the encrypted "
                       "products to fit a %zu-bit key",
                       r + 1, i, mpz_sizeinbase(w->n, 2));
    }
    /* z^4 is needed, never z: the factor in the scalars saves a power per row */
    for (size_t q = 0; q < R * D; q++)
        mpz_mul_2exp(w->ez[q], w->ez[q], 2);
    return CCZ_OK;
}

ccz_status ccz_fl_hlr_worker_new(ccz_fl_hlr_worker **out, const ccz_paillier_pub *pk,
                                 const ccz_ml_dataset *d, const ccz_fl_hlr_opts *o)
{
    *out = NULL;
    CCZ_ENSURE(o && o->version == CCZ_FL_HLR_OPTS_VERSION, CCZ_ERR_INVALID_ARGUMENT,
               "ccz_fl_hlr_opts: version %u, expected %u", o ? o->version : 0,
               CCZ_FL_HLR_OPTS_VERSION);
    CCZ_ENSURE(pk && d && d->rows && d->features, CCZ_ERR_INVALID_ARGUMENT,
               "a worker needs a key and rows");
    CCZ_ENSURE(d->y, CCZ_ERR_INVALID_ARGUMENT, "a worker's rows need their labels");
    CCZ_ENSURE(o->alpha >= 0 && o->alpha < 1e6 && o->learning_rate >= 0 && o->learning_rate < 1e6,
               CCZ_ERR_INVALID_ARGUMENT, "alpha and the learning rate are in [0, 1e6)");
    ccz_fl_hlr_worker *w = calloc(1, sizeof *w);
    CCZ_ENSURE(w, CCZ_ERR_NOMEM, "out of memory");
    mpz_inits(w->n, w->n2, NULL);
    ccz_paillier_pub_n(w->n, pk);
    mpz_mul(w->n2, w->n, w->n);
    w->pk = pk;
    w->rows = d->rows;
    w->dim = d->features + 1;
    w->alpha = o->alpha ? o->alpha : 0.01;
    w->learning_rate = o->learning_rate ? o->learning_rate : 0.15;
    w->threads = o->threads;
    size_t RD = w->rows * w->dim;
    w->ez = mpz_array(RD);
    w->eg = mpz_array(RD);
    w->base = mpz_array(w->dim);
    w->z = mpz_array(w->rows);
    w->g = mpz_array(w->dim);
    w->k = mpz_array(2 * w->dim);
    w->f = mpz_array(2 * w->dim);
    w->ex_row = malloc(w->rows * sizeof *w->ex_row);
    w->zbits = malloc(w->rows * sizeof *w->zbits);
    w->mg = malloc(w->dim * sizeof *w->mg);
    w->y = malloc(w->rows);
    ccz_status s = w->ez && w->eg && w->base && w->z && w->g && w->k && w->f && w->ex_row &&
                           w->zbits && w->mg && w->y
                       ? CCZ_OK
                       : ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    if (s == CCZ_OK) {
        memcpy(w->y, d->y, w->rows);
        s = encode_rows(w, d);
    }
    if (s) {
        ccz_fl_hlr_worker_free(w);
        return s;
    }
    *out = w;
    return CCZ_OK;
}

ccz_status ccz_fl_hlr_initial(ccz_paillier_number *w, const ccz_fl_hlr_worker *wk)
{
    mpz_t one;
    mpz_init_set_ui(one, 1);
    ccz_status s = CCZ_OK;
    for (size_t i = 0; i < wk->dim && s == CCZ_OK; i++) {
        s = ccz_paillier_encrypt(w[i].c, wk->pk, one);
        w[i].exponent = 0;
    }
    mpz_clear(one);
    return s;
}

/* Whether the step's products fit the key: a bound on the bits of each plaintext the step
 * computes, from the data's scalars and the weights' exponents (their mantissas are the
 * server's doubles, 53 bits and a sign), kept 64 bits below n as the server's check has it.
 * CCZ_ERR_OVERFLOW names the first weight whose gradient or update would wrap. */
static ccz_status products_fit(const ccz_fl_hlr_worker *w, int ew, int e_max, unsigned t)
{
    size_t R = w->rows, D = w->dim, nbits = mpz_sizeinbase(w->n, 2);
    size_t wb = 54 + 4 * (size_t)(e_max - ew); /* an aligned weight */
    size_t *zb = malloc(R * sizeof *zb);
    CCZ_ENSURE(zb, CCZ_ERR_NOMEM, "out of memory");
    for (size_t r = 0; r < R; r++) { /* 4 z_r + (8 - 16 y) 16^-Ez */
        size_t p = 4 + 4 * (size_t)(-((long)ew + w->ex_row[r]));
        size_t x = w->zbits[r] + wb + ceil_log2(D);
        zb[r] = (x > p ? x : p) + 1;
    }
    ccz_status s = CCZ_OK;
    for (size_t i = 0; i < D && s == CCZ_OK; i++) {
        size_t g = 0; /* g_i = sum_r p_r eg[i r] */
        for (size_t r = 0; r < R; r++) {
            size_t x = zb[r] + mpz_sizeinbase(w->eg[i * R + r], 2);
            g = x > g ? x : g;
        }
        g += ceil_log2(R);
        size_t a = mpz_sizeinbase(w->k[i], 2) + wb, b = mpz_sizeinbase(w->k[D + i], 2) + g;
        if ((a > b ? a : b) + 1 + 64 > nbits)
            s = ccz_fail(CCZ_ERR_OVERFLOW,
                         "step %u, weight %zu: its gradient's encrypted products would take up to "
                         "%zu bits, past the %zu this %zu-bit key leaves room for (the features "
                         "or the weights span too many orders of magnitude)",
                         t, i, (a > b ? a : b) + 1, nbits - 64, nbits);
    }
    free(zb);
    return s;
}

/* 16^shift as an exponent below n, or CCZ_ERR_OVERFLOW. */
static ccz_status pow16(mpz_t out, const ccz_fl_hlr_worker *w, long shift, const char *what)
{
    CCZ_ENSURE(shift >= 0 && shift < (long)mpz_sizeinbase(w->n, 2) / 4, CCZ_ERR_OVERFLOW,
               "%s: exponents %ld hex digits apart do not fit the key", what, shift);
    mpz_set_ui(out, 1);
    mpz_mul_2exp(out, out, (mp_bitcnt_t)(4 * shift));
    return CCZ_OK;
}

ccz_status ccz_fl_hlr_step(ccz_fl_hlr_worker *w, ccz_paillier_number *out,
                           const ccz_paillier_number *in, unsigned t)
{
    size_t R = w->rows, D = w->dim;
    /* the weights at one exponent Ew, low enough that every z has an exponent <= 0 */
    int ew = -w->ex_max, e_max = INT32_MIN;
    for (size_t i = 0; i < D; i++) {
        CCZ_ENSURE(
            in[i].exponent >= -CCZ_FL_HLR_MAX_EXPONENT && in[i].exponent <= CCZ_FL_HLR_MAX_EXPONENT,
            CCZ_ERR_INVALID_ARGUMENT, "weight %zu: exponent %d out of range", i, in[i].exponent);
        ew = in[i].exponent < ew ? in[i].exponent : ew;
        e_max = in[i].exponent > e_max ? in[i].exponent : e_max;
    }
    for (size_t i = 0; i < D; i++) {
        CCZ_GUARD(pow16(w->k[i], w, in[i].exponent - ew, "aligning the weights"));
        mpz_set(w->f[i], in[i].c);
    }
    CCZ_GUARD(ccz_paillier_mul_plain_batch(w->base, w->pk, (const mpz_t *)w->f, (const mpz_t *)w->k,
                                           D, w->threads));
    /* z = Enc(w) . x, then p = 0.25 z + 0.5 - y at exponent Ez - 1 (Ez = Ew + ex_row <= 0):
     * Enc(4 z + (8 - 16 y) 16^-Ez), the 4 already in ez */
    CCZ_GUARD(ccz_paillier_dot_batch(w->z, w->pk, (const mpz_t *)w->base, D, (const mpz_t *)w->ez,
                                     R, w->threads));
    mpz_t c;
    mpz_init(c);
    ccz_status s = CCZ_OK;
    for (size_t r = 0; r < R && s == CCZ_OK; r++) {
        long ez = (long)ew + w->ex_row[r];
        mpz_set_si(c, w->y[r] ? -8 : 8);
        mul_pow16(c, c, -ez);
        mpz_mod(c, c, w->n);
        s = ccz_paillier_add_plain(w->z[r], w->pk, w->z[r], c);
    }
    mpz_clear(c);
    CCZ_GUARD(s);
    /* g_i = sum_r p_r x_ri at exponent Ew - 1 + mg[i] */
    CCZ_GUARD(ccz_paillier_dot_batch(w->g, w->pk, (const mpz_t *)w->z, R, (const mpz_t *)w->eg, D,
                                     w->threads));
    /* w - lr (g / rows + alpha w) = A w + B g, A = 1 - lr alpha, B = -lr (1 / rows), exactly */
    fx lr, al, inv, A, B, one;
    fx_init(&lr), fx_init(&al), fx_init(&inv), fx_init(&A), fx_init(&B), fx_init(&one);
    fx_from_double(&lr, w->learning_rate / sqrt(1.0 + t));
    fx_from_double(&al, w->alpha);
    fx_from_double(&inv, 1.0 / (double)R);
    fx_mul(&A, &lr, &al); /* lr alpha, then 1 - it at its exponent (<= 0) */
    if (A.e > 0) {
        mul_pow16(A.m, A.m, A.e);
        A.e = 0;
    }
    mpz_set_ui(one.m, 1);
    mul_pow16(one.m, one.m, -A.e);
    mpz_sub(A.m, one.m, A.m);
    fx_norm(&A);
    fx_mul(&B, &lr, &inv);
    mpz_neg(B.m, B.m);
    for (size_t i = 0; i < D && s == CCZ_OK; i++) {
        long t1 = (long)ew + A.e, t2 = (long)ew - 1 + w->mg[i] + B.e;
        long e = t1 < t2 ? t1 : t2;
        mul_pow16(w->k[i], A.m, t1 - e);
        mul_pow16(w->k[D + i], B.m, t2 - e);
        mpz_set(w->f[i], w->base[i]);
        mpz_set(w->f[D + i], w->g[i]);
        out[i].exponent = (int)e;
        if (mpz_sizeinbase(w->k[i], 2) + 64 > mpz_sizeinbase(w->n, 2) ||
            mpz_sizeinbase(w->k[D + i], 2) + 64 > mpz_sizeinbase(w->n, 2) ||
            e < -CCZ_FL_HLR_MAX_EXPONENT)
            s = ccz_fail(CCZ_ERR_OVERFLOW,
                         "step %u, weight %zu: the update does not fit the key's encoding", t, i);
    }
    fx_clear(&lr), fx_clear(&al), fx_clear(&inv), fx_clear(&A), fx_clear(&B), fx_clear(&one);
    CCZ_GUARD(s);
    CCZ_GUARD(products_fit(w, ew, e_max, t));
    CCZ_GUARD(ccz_paillier_mul_plain_batch(w->f, w->pk, (const mpz_t *)w->f, (const mpz_t *)w->k,
                                           2 * D, w->threads));
    for (size_t i = 0; i < D; i++)
        CCZ_GUARD(ccz_paillier_add(out[i].c, w->pk, w->f[i], w->f[D + i]));
    return CCZ_OK;
}

/* ---- the server -------------------------------------------------------------------------------*/

ccz_status ccz_fl_hlr_aggregate(ccz_paillier_number *out, double *plain,
                                const ccz_paillier_key *key, const ccz_paillier_number *const *in,
                                size_t workers, size_t dim, unsigned threads)
{
    CCZ_ENSURE(workers >= 1 && dim >= 1, CCZ_ERR_INVALID_ARGUMENT, "nothing to aggregate");
    const ccz_paillier_pub *pk = ccz_paillier_key_pub(key);
    mpz_t *c = mpz_array(dim), *m = mpz_array(dim), n;
    mpz_init(n);
    ccz_paillier_pub_n(n, pk);
    int *ex = malloc(dim * sizeof *ex);
    ccz_paillier_number sum;
    ccz_paillier_number_init(&sum);
    ccz_paillier_encoded scale;
    ccz_paillier_encoded_init(&scale);
    fx v;
    fx_init(&v);
    ccz_status s = c && m && ex ? CCZ_OK : ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    /* the average: the sum times the double 1 / workers */
    fx_from_double(&v, 1.0 / (double)workers);
    mpz_mod(scale.mantissa, v.m, n);
    scale.exponent = v.e;
    for (size_t i = 0; i < dim && s == CCZ_OK; i++) {
        mpz_set(sum.c, in[0][i].c);
        sum.exponent = in[0][i].exponent;
        for (size_t k = 1; k < workers && s == CCZ_OK; k++)
            s = ccz_paillier_number_add(&sum, pk, &sum, &in[k][i]);
        if (s == CCZ_OK)
            s = ccz_paillier_number_mul_encoded(&sum, pk, &sum, &scale);
        mpz_set(c[i], sum.c);
        ex[i] = sum.exponent;
    }
    if (s == CCZ_OK)
        s = ccz_paillier_decrypt_batch(m, key, (const mpz_t *)c, dim, threads);
    /* to doubles, and each encoded afresh at its own exponent. The workers' exact arithmetic
     * leaves mantissas far below the key's limit; one within 64 bits of it (or past it) is an
     * overflow or a ciphertext the workers did not compute. */
    size_t limit = mpz_sizeinbase(n, 2) - 64;
    for (size_t i = 0; i < dim && s == CCZ_OK; i++) {
        mpz_sub(v.m, n, m[i]);
        size_t bits = mpz_sizeinbase(mpz_cmp(m[i], v.m) <= 0 ? m[i] : v.m, 2);
        if (bits > limit) {
            s = ccz_fail(CCZ_ERR_OVERFLOW,
                         "weight %zu of the average: its mantissa has %zu bits, past the %zu this "
                         "%zu-bit key leaves room for (an overflow, or weights the workers did "
                         "not compute)",
                         i, bits, limit, mpz_sizeinbase(n, 2));
            break;
        }
        ccz_paillier_encoded e;
        ccz_paillier_encoded_init(&e);
        mpz_set(e.mantissa, m[i]);
        e.exponent = ex[i];
        s = ccz_paillier_decode_double(&plain[i], pk, &e);
        ccz_paillier_encoded_clear(&e);
        if (s) {
            s = ccz_fail_context(s, "weight %zu of the average", i);
            break;
        }
        fx_from_double(&v, plain[i]);
        mpz_mod(m[i], v.m, n);
        out[i].exponent = v.e;
    }
    if (s == CCZ_OK)
        s = ccz_paillier_encrypt_batch(c, pk, (const mpz_t *)m, dim, threads);
    for (size_t i = 0; i < dim && s == CCZ_OK; i++)
        mpz_set(out[i].c, c[i]);
    fx_clear(&v);
    ccz_paillier_encoded_clear(&scale);
    ccz_paillier_number_clear(&sum);
    free(ex);
    mpz_array_free(c, dim);
    mpz_array_free(m, dim);
    mpz_clear(n);
    return s;
}
