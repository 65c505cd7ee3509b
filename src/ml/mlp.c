/* SPDX-License-Identifier: Apache-2.0 */
/* The small trainer of include/ccz/mlp.h: forward and backward passes of a ReLU MLP with a
 * softmax output on mini-batches, the matrix products on ml_gemm_parallel, SGD or Adam. The
 * data and shapes were checked by the caller's loaders; this file checks they agree. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/guard.h"
#include "ccz/mlp.h"
#include "ml_int.h"

ccz_status ccz_mlp_shape_check(const ccz_mlp_shape *s, size_t *params)
{
    *params = 0;
    CCZ_ENSURE(s->layers >= 1 && s->layers <= CCZ_MLP_MAX_LAYERS, CCZ_ERR_INVALID_ARGUMENT,
               "a model of %u layers (1 to %d)", s->layers, CCZ_MLP_MAX_LAYERS);
    size_t n = 0;
    for (unsigned l = 0; l <= s->layers; l++)
        CCZ_ENSURE(s->sizes[l] >= 1 && s->sizes[l] <= CCZ_MLP_MAX_WIDTH, CCZ_ERR_INVALID_ARGUMENT,
                   "layer size %u is %u (1 to %u)", l, s->sizes[l], CCZ_MLP_MAX_WIDTH);
    CCZ_ENSURE(s->sizes[s->layers] >= 2, CCZ_ERR_INVALID_ARGUMENT, "at least two classes");
    for (unsigned l = 0; l < s->layers; l++)
        n += ((size_t)s->sizes[l] + 1) * s->sizes[l + 1];
    CCZ_ENSURE(n <= CCZ_MLP_MAX_PARAMS, CCZ_ERR_TOO_LARGE, "%zu parameters (at most %u)", n,
               CCZ_MLP_MAX_PARAMS);
    *params = n;
    return CCZ_OK;
}

/* splitmix64: a seeded stream the same everywhere */
static uint64_t next_u64(uint64_t *st)
{
    uint64_t z = (*st += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double next_unit(uint64_t *st)
{
    return (double)(next_u64(st) >> 11) * (1.0 / 9007199254740992.0);
}

void ccz_mlp_init(float *w, const ccz_mlp_shape *s, uint64_t seed)
{
    uint64_t st = seed;
    for (unsigned l = 0; l < s->layers; l++) {
        size_t in = s->sizes[l], out = s->sizes[l + 1];
        double lim = sqrt(6.0 / (double)in);
        for (size_t i = 0; i < in * out; i++)
            *w++ = (float)((2 * next_unit(&st) - 1) * lim);
        memset(w, 0, out * sizeof *w);
        w += out;
    }
}

void ccz_mlp_data_free(ccz_mlp_data *d)
{
    free(d->x);
    free(d->y);
    memset(d, 0, sizeof *d);
}

/* ---- passes ----------------------------------------------------------------------------------*/

typedef struct {
    const ccz_mlp_shape *s;
    size_t batch, max_width;
    float *act[CCZ_MLP_MAX_LAYERS + 1]; /* act[0]: the inputs; act[layers]: probabilities */
    float *dz, *dprev, *tbuf;
    unsigned threads;
} passes;

static void passes_free(passes *p)
{
    for (unsigned l = 0; l <= CCZ_MLP_MAX_LAYERS; l++)
        free(p->act[l]);
    free(p->dz);
    free(p->dprev);
    free(p->tbuf);
}

static ccz_status passes_new(passes *p, const ccz_mlp_shape *s, size_t batch, unsigned threads)
{
    memset(p, 0, sizeof *p);
    p->s = s;
    p->batch = batch;
    p->threads = threads;
    size_t wmax = 0, tmax = 0;
    for (unsigned l = 0; l <= s->layers; l++)
        wmax = s->sizes[l] > wmax ? s->sizes[l] : wmax;
    for (unsigned l = 0; l < s->layers; l++) {
        size_t t = (size_t)s->sizes[l] * s->sizes[l + 1];
        tmax = t > tmax ? t : tmax;
    }
    tmax = tmax > wmax * batch ? tmax : wmax * batch;
    p->max_width = wmax;
    bool ok = true;
    for (unsigned l = 0; l <= s->layers; l++)
        ok &= (p->act[l] = malloc(batch * s->sizes[l] * sizeof(float))) != NULL;
    ok &= (p->dz = malloc(batch * wmax * sizeof(float))) != NULL;
    ok &= (p->dprev = malloc(batch * wmax * sizeof(float))) != NULL;
    ok &= (p->tbuf = malloc(tmax * sizeof(float))) != NULL;
    if (!ok) {
        passes_free(p);
        return ccz_fail(CCZ_ERR_NOMEM, "out of memory for the training buffers");
    }
    return CCZ_OK;
}

/* act[1..layers] from act[0] for b rows; returns the summed cross-entropy when y is given. */
static ccz_status forward(passes *p, const float *w, size_t b, const uint8_t *y, double *loss,
                          size_t *correct)
{
    const ccz_mlp_shape *s = p->s;
    for (unsigned l = 0; l < s->layers; l++) {
        size_t in = s->sizes[l], out = s->sizes[l + 1];
        const float *bias = w + in * out;
        float *z = p->act[l + 1];
        for (size_t r = 0; r < b; r++)
            memcpy(z + r * out, bias, out * sizeof *z);
        CCZ_GUARD(ml_gemm_parallel(b, out, in, p->act[l], in, w, out, z, out, true, p->threads));
        if (l + 1 < s->layers)
            for (size_t i = 0; i < b * out; i++)
                z[i] = z[i] > 0 ? z[i] : 0;
        w = bias + out;
    }
    size_t k = s->sizes[s->layers];
    float *pr = p->act[s->layers];
    for (size_t r = 0; r < b; r++) {
        float *row = pr + r * k, mx = row[0];
        size_t arg = 0;
        for (size_t j = 1; j < k; j++)
            if (row[j] > mx) {
                mx = row[j];
                arg = j;
            }
        double sum = 0;
        for (size_t j = 0; j < k; j++)
            sum += (row[j] = expf(row[j] - mx));
        for (size_t j = 0; j < k; j++)
            row[j] = (float)(row[j] / sum);
        if (y) {
            double q = row[y[r]];
            *loss += -log(q > 1e-12 ? q : 1e-12);
            *correct += arg == y[r];
        }
    }
    return CCZ_OK;
}

static void transpose(float *out, const float *in, size_t rows, size_t cols)
{
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++)
            out[j * rows + i] = in[i * cols + j];
}

/* The gradient of the batch's mean cross-entropy into g, after forward. */
static ccz_status backward(passes *p, const float *w, float *g, size_t b, const uint8_t *y)
{
    const ccz_mlp_shape *s = p->s;
    size_t k = s->sizes[s->layers];
    const float *pr = p->act[s->layers];
    for (size_t r = 0; r < b; r++)
        for (size_t j = 0; j < k; j++)
            p->dz[r * k + j] = (pr[r * k + j] - (j == y[r] ? 1.0f : 0.0f)) / (float)b;
    size_t off[CCZ_MLP_MAX_LAYERS + 1] = {0};
    for (unsigned l = 0; l < s->layers; l++)
        off[l + 1] = off[l] + ((size_t)s->sizes[l] + 1) * s->sizes[l + 1];
    for (unsigned l = s->layers; l-- > 0;) {
        size_t in = s->sizes[l], out = s->sizes[l + 1];
        float *gw = g + off[l], *gb = gw + in * out;
        transpose(p->tbuf, p->act[l], b, in); /* in x b */
        CCZ_GUARD(ml_gemm_parallel(in, out, b, p->tbuf, b, p->dz, out, gw, out, false, p->threads));
        for (size_t j = 0; j < out; j++)
            gb[j] = 0;
        for (size_t r = 0; r < b; r++)
            for (size_t j = 0; j < out; j++)
                gb[j] += p->dz[r * out + j];
        if (l == 0)
            break;
        transpose(p->tbuf, w + off[l], in, out); /* out x in */
        CCZ_GUARD(
            ml_gemm_parallel(b, in, out, p->dz, out, p->tbuf, in, p->dprev, in, false, p->threads));
        const float *a = p->act[l];
        for (size_t i = 0; i < b * in; i++)
            p->dz[i] = a[i] > 0 ? p->dprev[i] : 0;
    }
    return CCZ_OK;
}

static ccz_status check_data(const ccz_mlp_shape *s, const ccz_mlp_data *d, size_t *params)
{
    CCZ_GUARD(ccz_mlp_shape_check(s, params));
    CCZ_ENSURE(d->features == s->sizes[0], CCZ_ERR_INVALID_ARGUMENT,
               "the data has %zu features per row; the model takes %u", d->features, s->sizes[0]);
    CCZ_ENSURE(d->rows >= 1, CCZ_ERR_INVALID_ARGUMENT, "no rows to train or evaluate on");
    for (size_t r = 0; r < d->rows; r++)
        CCZ_ENSURE(d->y[r] < s->sizes[s->layers], CCZ_ERR_INVALID_ARGUMENT,
                   "row %zu has class %u; the model has %u classes", r, d->y[r],
                   s->sizes[s->layers]);
    return CCZ_OK;
}

static void gather(passes *p, const ccz_mlp_data *d, const size_t *idx, size_t b, uint8_t *y)
{
    for (size_t r = 0; r < b; r++) {
        memcpy(p->act[0] + r * d->features, d->x + idx[r] * d->features,
               d->features * sizeof(float));
        y[r] = d->y[idx[r]];
    }
}

typedef struct {
    float *g, *m, *v;
    size_t *idx;
    uint8_t *y;
} train_bufs;

static void step(float *w, const float *g, train_bufs *t, size_t n, const ccz_mlp_train_opts *o,
                 float lr, unsigned long step_no)
{
    if (o->optimizer == CCZ_MLP_SGD) {
        for (size_t i = 0; i < n; i++)
            w[i] -= lr * g[i];
        return;
    }
    const float b1 = 0.9f, b2 = 0.999f, eps = 1e-8f;
    float c1 = 1.0f - powf(b1, (float)step_no), c2 = 1.0f - powf(b2, (float)step_no);
    for (size_t i = 0; i < n; i++) {
        t->m[i] = b1 * t->m[i] + (1 - b1) * g[i];
        t->v[i] = b2 * t->v[i] + (1 - b2) * g[i] * g[i];
        w[i] -= lr * (t->m[i] / c1) / (sqrtf(t->v[i] / c2) + eps);
    }
}

ccz_status ccz_mlp_train(float *w, const ccz_mlp_shape *s, const ccz_mlp_data *d,
                         const ccz_mlp_train_opts *o, double *loss)
{
    CCZ_ENSURE(o && o->version == CCZ_MLP_TRAIN_OPTS_VERSION, CCZ_ERR_INVALID_ARGUMENT,
               "ccz_mlp_train_opts: version %u, expected %u", o ? o->version : 0,
               CCZ_MLP_TRAIN_OPTS_VERSION);
    CCZ_ENSURE(o->optimizer == CCZ_MLP_SGD || o->optimizer == CCZ_MLP_ADAM,
               CCZ_ERR_INVALID_ARGUMENT, "unknown optimizer %d", (int)o->optimizer);
    CCZ_ENSURE(o->mu >= 0 && isfinite(o->mu) && (o->mu == 0 || o->anchor), CCZ_ERR_INVALID_ARGUMENT,
               "the proximal term needs mu >= 0 and the global model");
    size_t n;
    CCZ_GUARD(check_data(s, d, &n));
    unsigned epochs = o->epochs ? o->epochs : 1;
    size_t batch = o->batch ? o->batch : 32;
    batch = batch < d->rows ? batch : d->rows;
    float lr = o->lr > 0 ? o->lr : o->optimizer == CCZ_MLP_ADAM ? 0.001f : 0.05f;
    passes p;
    CCZ_GUARD(passes_new(&p, s, batch, o->threads));
    train_bufs t = {calloc(n, sizeof(float)), NULL, NULL, malloc(d->rows * sizeof(size_t)),
                    malloc(batch)};
    if (o->optimizer == CCZ_MLP_ADAM) {
        t.m = calloc(n, sizeof(float));
        t.v = calloc(n, sizeof(float));
    }
    ccz_status st = t.g && t.idx && t.y && (o->optimizer == CCZ_MLP_SGD || (t.m && t.v))
                        ? CCZ_OK
                        : ccz_fail(CCZ_ERR_NOMEM, "out of memory for the training buffers");
    uint64_t rng = o->seed ^ 0x5eedull;
    unsigned long steps = 0;
    for (size_t i = 0; st == CCZ_OK && i < d->rows; i++)
        t.idx[i] = i;
    for (unsigned e = 0; st == CCZ_OK && e < epochs; e++) {
        for (size_t i = d->rows - 1; i > 0; i--) {
            size_t j = (size_t)(next_u64(&rng) % (i + 1)), tmp = t.idx[i];
            t.idx[i] = t.idx[j];
            t.idx[j] = tmp;
        }
        double sum = 0;
        size_t correct = 0;
        for (size_t at = 0; st == CCZ_OK && at < d->rows; at += batch) {
            size_t b = d->rows - at < batch ? d->rows - at : batch;
            gather(&p, d, t.idx + at, b, t.y);
            st = forward(&p, w, b, t.y, &sum, &correct);
            if (st == CCZ_OK)
                st = backward(&p, w, t.g, b, t.y);
            if (st)
                break;
            if (o->mu > 0)
                for (size_t i = 0; i < n; i++)
                    t.g[i] += o->mu * (w[i] - o->anchor[i]);
            step(w, t.g, &t, n, o, lr, ++steps);
        }
        *loss = sum / (double)d->rows;
    }
    for (size_t i = 0; st == CCZ_OK && i < n; i++)
        if (!isfinite(w[i]))
            st = ccz_fail(CCZ_ERR_OVERFLOW,
                          "training diverged: parameter %zu is not finite "
                          "(lower the learning rate)",
                          i);
    free(t.g);
    free(t.m);
    free(t.v);
    free(t.idx);
    free(t.y);
    passes_free(&p);
    return st;
}

ccz_status ccz_mlp_evaluate(double *acc, double *loss, const float *w, const ccz_mlp_shape *s,
                            const ccz_mlp_data *d, unsigned threads)
{
    size_t n;
    CCZ_GUARD(check_data(s, d, &n));
    size_t batch = d->rows < 256 ? d->rows : 256;
    passes p;
    CCZ_GUARD(passes_new(&p, s, batch, threads));
    double sum = 0;
    size_t correct = 0;
    ccz_status st = CCZ_OK;
    for (size_t at = 0; st == CCZ_OK && at < d->rows; at += batch) {
        size_t b = d->rows - at < batch ? d->rows - at : batch;
        memcpy(p.act[0], d->x + at * d->features, b * d->features * sizeof(float));
        st = forward(&p, w, b, d->y + at, &sum, &correct);
    }
    passes_free(&p);
    CCZ_GUARD(st);
    *acc = (double)correct / (double)d->rows;
    *loss = sum / (double)d->rows;
    return CCZ_OK;
}
