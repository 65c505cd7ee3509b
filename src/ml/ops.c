/* SPDX-License-Identifier: Apache-2.0 */
/* The operators at run time and ccz_ml_run. Shapes, indices and attributes were checked when
 * the model was loaded (model.c); here only the batch size is new, and it is bounded before any
 * buffer is sized. Convolutions, matrix products and pools share the batch, channels or rows
 * out over the thread pool (ccz_parallel). */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/guard.h"
#include "ml_int.h"

typedef struct {
    const ccz_ml_model *m;
    const ml_node *n;
    float *const *bufs;
    size_t batch;
} ctx;

static const ml_value *V(const ctx *c, size_t idx)
{
    return &c->m->values[idx];
}

static size_t count(const ml_value *v, size_t batch)
{
    return v->elems * (v->batched ? batch : 1);
}

/* ---- elementwise ----------------------------------------------------------------------------*/

static float apply(ml_kind k, float a, float b)
{
    switch (k) {
    case ML_ADD:
        return a + b;
    case ML_SUB:
        return a - b;
    case ML_MUL:
        return a * b;
    default:
        return a / b;
    }
}

static void binary(const ctx *c)
{
    const ml_value *va = V(c, c->n->in[0]), *vb = V(c, c->n->in[1]), *vo = V(c, c->n->out[0]);
    const float *a = c->bufs[c->n->in[0]], *b = c->bufs[c->n->in[1]];
    float *o = c->bufs[c->n->out[0]];
    size_t r = vo->rank;
    int64_t od[CCZ_ML_MAX_RANK], ad[CCZ_ML_MAX_RANK], bd[CCZ_ML_MAX_RANK];
    ml_dims(vo, c->batch, od);
    int64_t tmp[CCZ_ML_MAX_RANK];
    ml_dims(va, c->batch, tmp);
    for (size_t i = 0; i < r; i++)
        ad[i] = i >= r - va->rank ? tmp[i - (r - va->rank)] : 1;
    ml_dims(vb, c->batch, tmp);
    for (size_t i = 0; i < r; i++)
        bd[i] = i >= r - vb->rank ? tmp[i - (r - vb->rank)] : 1;
    /* strides, 0 along broadcast dimensions */
    size_t sa[CCZ_ML_MAX_RANK], sb[CCZ_ML_MAX_RANK], za = 1, zb = 1;
    for (size_t i = r; i-- > 0;) {
        sa[i] = ad[i] == 1 ? 0 : za;
        sb[i] = bd[i] == 1 ? 0 : zb;
        za *= (size_t)ad[i];
        zb *= (size_t)bd[i];
    }
    size_t total = count(vo, c->batch), inner = (size_t)od[r - 1];
    size_t idx[CCZ_ML_MAX_RANK] = {0};
    ml_kind k = c->n->kind;
    for (size_t at = 0; at < total; at += inner) {
        size_t pa = 0, pb = 0;
        for (size_t i = 0; i + 1 < r; i++) {
            pa += idx[i] * sa[i];
            pb += idx[i] * sb[i];
        }
        size_t ia = sa[r - 1], ib = sb[r - 1];
        float *dst = o + at;
        if (ia && ib)
            for (size_t j = 0; j < inner; j++)
                dst[j] = apply(k, a[pa + j], b[pb + j]);
        else
            for (size_t j = 0; j < inner; j++)
                dst[j] = apply(k, a[pa + j * ia], b[pb + j * ib]);
        for (size_t i = r - 1; i-- > 0;) {
            if (++idx[i] < (size_t)od[i])
                break;
            idx[i] = 0;
        }
    }
}

static void unary(const ctx *c)
{
    const float *x = c->bufs[c->n->in[0]];
    float *y = c->bufs[c->n->out[0]];
    size_t n = count(V(c, c->n->out[0]), c->batch);
    switch (c->n->kind) {
    case ML_RELU:
        for (size_t i = 0; i < n; i++)
            y[i] = x[i] > 0.0f ? x[i] : 0.0f;
        break;
    case ML_SIGMOID:
        for (size_t i = 0; i < n; i++)
            y[i] = x[i] >= 0.0f ? 1.0f / (1.0f + expf(-x[i])) : expf(x[i]) / (1.0f + expf(x[i]));
        break;
    case ML_TANH:
        for (size_t i = 0; i < n; i++)
            y[i] = tanhf(x[i]);
        break;
    default: /* ML_COPY */
        memcpy(y, x, n * sizeof *y);
    }
}

/* ---- softmax --------------------------------------------------------------------------------*/

static void softmax_run(float *x, size_t len, size_t stride)
{
    float mx = -FLT_MAX;
    for (size_t i = 0; i < len; i++)
        mx = x[i * stride] > mx ? x[i * stride] : mx;
    double sum = 0;
    for (size_t i = 0; i < len; i++) {
        x[i * stride] = expf(x[i * stride] - mx);
        sum += x[i * stride];
    }
    for (size_t i = 0; i < len; i++)
        x[i * stride] = (float)(x[i * stride] / sum);
}

static void softmax(const ctx *c)
{
    const ml_value *vx = V(c, c->n->in[0]);
    int64_t d[CCZ_ML_MAX_RANK];
    ml_dims(vx, c->batch, d);
    size_t outer = 1, len = 1, inner = 1, ax = (size_t)c->n->axis;
    for (size_t i = 0; i < vx->rank; i++) {
        if (i < ax)
            outer *= (size_t)d[i];
        else if (i == ax || c->n->softmax_2d)
            len *= (size_t)d[i];
        else
            inner *= (size_t)d[i];
    }
    float *y = c->bufs[c->n->out[0]];
    memcpy(y, c->bufs[c->n->in[0]], outer * len * inner * sizeof *y);
    for (size_t o = 0; o < outer; o++)
        for (size_t i = 0; i < inner; i++)
            softmax_run(y + o * len * inner + i, len, inner);
}

/* ---- matrix products ------------------------------------------------------------------------*/

static ccz_status transpose2(const float *src, size_t rows, size_t cols, float **out)
{
    float *t = malloc(rows * cols * sizeof *t);
    CCZ_ENSURE(t, CCZ_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++)
            t[j * rows + i] = src[i * cols + j];
    *out = t;
    return CCZ_OK;
}

static ccz_status gemm(const ctx *c, unsigned threads)
{
    const ml_node *n = c->n;
    const ml_value *va = V(c, n->in[0]), *vb = V(c, n->in[1]), *vo = V(c, n->out[0]);
    int64_t ad[2], od[2];
    ml_dims(va, c->batch, ad);
    ml_dims(vo, c->batch, od);
    size_t m = (size_t)od[0], nn = (size_t)od[1], k = (size_t)(n->trans_a ? ad[0] : ad[1]);
    const float *a = c->bufs[n->in[0]], *b = n->b_t;
    float *ta = NULL, *tb = NULL, *y = c->bufs[n->out[0]];
    ccz_status st = CCZ_OK;
    if (n->trans_a)
        CCZ_GUARD_GOTO(transpose2(a, k, m, &ta), st, done);
    if (!b) {
        b = c->bufs[n->in[1]];
        if (n->trans_b)
            CCZ_GUARD_GOTO(transpose2(b, nn, k, &tb), st, done);
    }
    (void)vb;
    CCZ_GUARD_GOTO(
        ml_gemm_parallel(m, nn, k, ta ? ta : a, k, tb ? tb : b, nn, y, nn, false, threads), st,
        done);
    if (n->n_in == 3 && n->in[2] != ML_NONE) {
        const ml_value *vc = V(c, n->in[2]);
        int64_t cd[2];
        ml_dims(vc, c->batch, cd);
        size_t cm = vc->rank == 2 ? (size_t)cd[0] : 1, cn = (size_t)cd[vc->rank - 1];
        const float *cc = c->bufs[n->in[2]];
        for (size_t i = 0; i < m; i++)
            for (size_t j = 0; j < nn; j++)
                y[i * nn + j] = n->alpha * y[i * nn + j] +
                                n->beta * cc[(cm == 1 ? 0 : i) * cn + (cn == 1 ? 0 : j)];
    } else if (n->alpha != 1.0f) {
        for (size_t i = 0; i < m * nn; i++)
            y[i] *= n->alpha;
    }
done:
    free(ta);
    free(tb);
    return st;
}

static ccz_status matmul(const ctx *c, unsigned threads)
{
    const ml_node *n = c->n;
    const ml_value *va = V(c, n->in[0]), *vb = V(c, n->in[1]);
    int64_t ad[CCZ_ML_MAX_RANK], bd[CCZ_ML_MAX_RANK];
    ml_dims(va, c->batch, ad);
    ml_dims(vb, c->batch, bd);
    size_t r = va->rank, k = (size_t)ad[r - 1], nn = (size_t)bd[vb->rank - 1];
    size_t rows = count(va, c->batch) / k;
    const float *a = c->bufs[n->in[0]], *b = c->bufs[n->in[1]];
    float *y = c->bufs[n->out[0]];
    if (vb->rank == 2 && !vb->batched) /* every row of A against one B */
        return ml_gemm_parallel(rows, nn, k, a, k, b, nn, y, nn, false, threads);
    size_t m = (size_t)ad[r - 2], stack = rows / m;
    for (size_t s = 0; s < stack; s++)
        CCZ_GUARD(ml_gemm_parallel(m, nn, k, a + s * m * k, k, b + s * k * nn, nn, y + s * m * nn,
                                   nn, false, threads));
    return CCZ_OK;
}

/* ---- convolution and pools ------------------------------------------------------------------*/

typedef struct {
    const ctx *c;
    int64_t N, C, H, W, M, OH, OW; /* N: images, the batch's or a constant's own */
    unsigned threads;
} image_job;

/* One image, one group: im2col, then W[M/g, C/g*kh*kw] x col. */
static ccz_status conv_image(const image_job *j, size_t img, float *col, unsigned threads)
{
    const ml_node *n = j->c->n;
    const float *x = j->c->bufs[n->in[0]] + img * (size_t)(j->C * j->H * j->W);
    const float *w = j->c->bufs[n->in[1]];
    float *y = j->c->bufs[n->out[0]] + img * (size_t)(j->M * j->OH * j->OW);
    size_t cg = (size_t)(j->C / n->group), mg = (size_t)(j->M / n->group);
    size_t kk = cg * (size_t)(n->kh * n->kw), pix = (size_t)(j->OH * j->OW);
    for (size_t g = 0; g < (size_t)n->group; g++) {
        float *p = col;
        for (size_t ch = 0; ch < cg; ch++) {
            const float *xc = x + (g * cg + ch) * (size_t)(j->H * j->W);
            for (int64_t ki = 0; ki < n->kh; ki++)
                for (int64_t kj = 0; kj < n->kw; kj++)
                    for (int64_t oy = 0; oy < j->OH; oy++) {
                        int64_t iy = oy * n->sh - n->pt + ki * n->dh;
                        for (int64_t ox = 0; ox < j->OW; ox++) {
                            int64_t ix = ox * n->sw - n->pl + kj * n->dw;
                            *p++ = iy >= 0 && iy < j->H && ix >= 0 && ix < j->W ? xc[iy * j->W + ix]
                                                                                : 0.0f;
                        }
                    }
        }
        float *yg = y + g * mg * pix;
        CCZ_GUARD(
            ml_gemm_parallel(mg, pix, kk, w + g * mg * kk, kk, col, pix, yg, pix, false, threads));
        if (n->n_in == 3 && n->in[2] != ML_NONE) {
            const float *bias = j->c->bufs[n->in[2]] + g * mg;
            for (size_t oc = 0; oc < mg; oc++)
                for (size_t q = 0; q < pix; q++)
                    yg[oc * pix + q] += bias[oc];
        }
    }
    return CCZ_OK;
}

static ccz_status conv_chunk(size_t begin, size_t end, void *arg)
{
    const image_job *j = arg;
    const ml_node *n = j->c->n;
    size_t kk = (size_t)(j->C / n->group * n->kh * n->kw), pix = (size_t)(j->OH * j->OW);
    float *col = malloc(kk * pix * sizeof *col);
    CCZ_ENSURE(col, CCZ_ERR_NOMEM, "out of memory");
    ccz_status st = CCZ_OK;
    for (size_t i = begin; i < end && st == CCZ_OK; i++)
        st = conv_image(j, i, col, 1);
    free(col);
    return st;
}

static void image_dims(const ctx *c, image_job *j)
{
    int64_t xd[4], yd[4];
    ml_dims(V(c, c->n->in[0]), c->batch, xd);
    ml_dims(V(c, c->n->out[0]), c->batch, yd);
    j->N = xd[0];
    j->C = xd[1];
    j->H = xd[2];
    j->W = xd[3];
    j->M = yd[1];
    j->OH = yd[2];
    j->OW = yd[3];
}

static ccz_status conv(const ctx *c, unsigned threads)
{
    image_job j = {.c = c, .threads = threads};
    image_dims(c, &j);
    size_t images = (size_t)j.N;
    unsigned t = threads ? threads : ccz_cpu_count();
    if (images >= t || t == 1)
        return ccz_parallel(images, threads, conv_chunk, &j);
    /* fewer images than threads: each image's products are shared out instead */
    size_t kk = (size_t)(j.C / c->n->group * c->n->kh * c->n->kw), pix = (size_t)(j.OH * j.OW);
    float *col = malloc(kk * pix * sizeof *col);
    CCZ_ENSURE(col, CCZ_ERR_NOMEM, "out of memory");
    ccz_status st = CCZ_OK;
    for (size_t i = 0; i < images && st == CCZ_OK; i++)
        st = conv_image(&j, i, col, threads);
    free(col);
    return st;
}

/* planes: image x channel pairs */
static ccz_status pool_chunk(size_t begin, size_t end, void *arg)
{
    const image_job *j = arg;
    const ml_node *n = j->c->n;
    bool max = n->kind == ML_MAXPOOL;
    for (size_t pl = begin; pl < end; pl++) {
        const float *x = j->c->bufs[n->in[0]] + pl * (size_t)(j->H * j->W);
        float *y = j->c->bufs[n->out[0]] + pl * (size_t)(j->OH * j->OW);
        for (int64_t oy = 0; oy < j->OH; oy++)
            for (int64_t ox = 0; ox < j->OW; ox++) {
                int64_t y0 = oy * n->sh - n->pt, x0 = ox * n->sw - n->pl;
                float acc = max ? -FLT_MAX : 0.0f;
                int64_t cnt = 0;
                for (int64_t ki = 0; ki < n->kh; ki++) {
                    int64_t iy = y0 + ki * n->dh;
                    if (iy < 0 || iy >= j->H)
                        continue;
                    for (int64_t kj = 0; kj < n->kw; kj++) {
                        int64_t ix = x0 + kj * n->dw;
                        if (ix < 0 || ix >= j->W)
                            continue;
                        float v = x[iy * j->W + ix];
                        acc = max ? (v > acc ? v : acc) : acc + v;
                        cnt++;
                    }
                }
                if (!max) {
                    if (n->count_include_pad) {
                        /* the window clipped to the padded input */
                        int64_t y1 = y0 + n->kh, x1 = x0 + n->kw;
                        y1 = y1 < j->H + n->pb ? y1 : j->H + n->pb;
                        x1 = x1 < j->W + n->pr ? x1 : j->W + n->pr;
                        cnt = (y1 - y0) * (x1 - x0);
                    }
                    acc = cnt ? acc / (float)cnt : 0.0f;
                }
                y[oy * j->OW + ox] = acc;
            }
    }
    return CCZ_OK;
}

static ccz_status pool(const ctx *c, unsigned threads)
{
    image_job j = {.c = c};
    image_dims(c, &j);
    size_t planes = count(V(c, c->n->in[0]), c->batch) / (size_t)(j.H * j.W);
    return ccz_parallel(planes, threads, pool_chunk, &j);
}

static void global_pool(const ctx *c)
{
    const ml_value *vx = V(c, c->n->in[0]);
    int64_t d[CCZ_ML_MAX_RANK];
    ml_dims(vx, c->batch, d);
    size_t planes = (size_t)(d[0] * d[1]), size = count(vx, c->batch) / planes;
    const float *x = c->bufs[c->n->in[0]];
    float *y = c->bufs[c->n->out[0]];
    for (size_t p = 0; p < planes; p++) {
        double s = 0;
        for (size_t i = 0; i < size; i++)
            s += x[p * size + i];
        y[p] = (float)(s / (double)size);
    }
}

static void batchnorm(const ctx *c)
{
    const ml_value *vx = V(c, c->n->in[0]);
    int64_t d[CCZ_ML_MAX_RANK];
    ml_dims(vx, c->batch, d);
    size_t ch = (size_t)d[1], inner = count(vx, c->batch) / ((size_t)d[0] * ch);
    const float *x = c->bufs[c->n->in[0]], *sc = c->bufs[c->n->in[1]], *bias = c->bufs[c->n->in[2]],
                *mean = c->bufs[c->n->in[3]], *var = c->bufs[c->n->in[4]];
    float *y = c->bufs[c->n->out[0]];
    for (size_t k = 0; k < ch; k++) {
        double s = (double)sc[k] / sqrt((double)var[k] + (double)c->n->eps);
        float scale = (float)s, shift = (float)((double)bias[k] - (double)mean[k] * s);
        for (size_t b = 0; b < (size_t)d[0]; b++) {
            size_t at = (b * ch + k) * inner;
            for (size_t i = 0; i < inner; i++)
                y[at + i] = x[at + i] * scale + shift;
        }
    }
}

/* ---- layout ---------------------------------------------------------------------------------*/

static void transpose(const ctx *c)
{
    const ml_value *vx = V(c, c->n->in[0]);
    size_t r = vx->rank;
    int64_t d[CCZ_ML_MAX_RANK];
    ml_dims(vx, c->batch, d);
    size_t stride[CCZ_ML_MAX_RANK], z = 1;
    for (size_t i = r; i-- > 0;) {
        stride[i] = z;
        z *= (size_t)d[i];
    }
    const float *x = c->bufs[c->n->in[0]];
    float *y = c->bufs[c->n->out[0]];
    size_t idx[CCZ_ML_MAX_RANK] = {0}; /* over the output's dims */
    for (size_t o = 0; o < z; o++) {
        size_t src = 0;
        for (size_t i = 0; i < r; i++)
            src += idx[i] * stride[c->n->perm[i]];
        y[o] = x[src];
        for (size_t i = r; i-- > 0;) {
            if (++idx[i] < (size_t)d[c->n->perm[i]])
                break;
            idx[i] = 0;
        }
    }
}

static void concat(const ctx *c)
{
    const ml_value *vo = V(c, c->n->out[0]);
    int64_t d[CCZ_ML_MAX_RANK];
    ml_dims(vo, c->batch, d);
    size_t ax = (size_t)c->n->axis, outer = 1, inner = 1;
    for (size_t i = 0; i < vo->rank; i++)
        if (i < ax)
            outer *= (size_t)d[i];
        else if (i > ax)
            inner *= (size_t)d[i];
    float *y = c->bufs[c->n->out[0]];
    size_t row = (size_t)d[ax] * inner, at = 0;
    for (size_t k = 0; k < c->n->n_in; k++) {
        size_t part = (size_t)V(c, c->n->in[k])->dims[ax] * inner;
        const float *x = c->bufs[c->n->in[k]];
        for (size_t o = 0; o < outer; o++)
            memcpy(y + o * row + at, x + o * part, part * sizeof *y);
        at += part;
    }
}

/* ---- ai.onnx.ml -----------------------------------------------------------------------------*/

static void linear(const ctx *c)
{
    const ml_node *n = c->n;
    const float *x = c->bufs[n->in[0]];
    bool cls = n->kind == ML_LINEAR_CLASSIFIER;
    float *scores = cls ? (n->n_out == 2 && n->out[1] != ML_NONE ? c->bufs[n->out[1]] : NULL)
                        : c->bufs[n->out[0]];
    float *labels = cls ? c->bufs[n->out[0]] : NULL;
    size_t width = n->binary ? 2 : n->rows;
    for (size_t b = 0; b < c->batch; b++) {
        float raw[2], *s = scores ? scores + b * width : raw;
        float best = -FLT_MAX;
        size_t arg = 0;
        for (size_t r = 0; r < n->rows; r++) {
            double acc = n->icpt[r];
            for (size_t f = 0; f < n->feats; f++)
                acc += (double)n->coef[r * n->feats + f] * x[b * n->feats + f];
            float v = (float)acc;
            if (scores || r < 2)
                s[r] = v;
            if (v > best) {
                best = v;
                arg = r;
            }
        }
        if (!cls)
            continue;
        if (n->binary) {
            float v = s[0];
            labels[b] = n->labels[v > 0.0f ? 1 : 0];
            if (scores) {
                float p = n->post == ML_POST_LOGISTIC ? 1.0f / (1.0f + expf(-v)) : v;
                s[0] = n->post == ML_POST_LOGISTIC ? 1.0f - p : -p;
                s[1] = p;
            }
            continue;
        }
        labels[b] = n->labels[arg];
        if (!scores)
            continue;
        if (n->post == ML_POST_LOGISTIC)
            for (size_t r = 0; r < width; r++)
                s[r] = 1.0f / (1.0f + expf(-s[r]));
        else if (n->post == ML_POST_SOFTMAX)
            softmax_run(s, width, 1);
        else if (n->post == ML_POST_SOFTMAX_ZERO) {
            float mx = -FLT_MAX;
            double sum = 0;
            for (size_t r = 0; r < width; r++)
                mx = s[r] != 0.0f && s[r] > mx ? s[r] : mx;
            for (size_t r = 0; r < width; r++) {
                s[r] = s[r] != 0.0f ? expf(s[r] - mx) : 0.0f;
                sum += s[r];
            }
            for (size_t r = 0; r < width && sum > 0; r++)
                s[r] = (float)(s[r] / sum);
        }
    }
}

ccz_status ml_node_run(const ccz_ml_model *m, const ml_node *n, float *const *bufs, size_t batch,
                       unsigned threads)
{
    ctx c = {m, n, bufs, batch};
    switch (n->kind) {
    case ML_ADD:
    case ML_SUB:
    case ML_MUL:
    case ML_DIV:
        binary(&c);
        return CCZ_OK;
    case ML_RELU:
    case ML_SIGMOID:
    case ML_TANH:
    case ML_COPY:
        unary(&c);
        return CCZ_OK;
    case ML_SOFTMAX:
        softmax(&c);
        return CCZ_OK;
    case ML_GEMM:
        return gemm(&c, threads);
    case ML_MATMUL:
        return matmul(&c, threads);
    case ML_CONV:
        return conv(&c, threads);
    case ML_MAXPOOL:
    case ML_AVGPOOL:
        return pool(&c, threads);
    case ML_GLOBALAVGPOOL:
        global_pool(&c);
        return CCZ_OK;
    case ML_BATCHNORM:
        batchnorm(&c);
        return CCZ_OK;
    case ML_TRANSPOSE:
        transpose(&c);
        return CCZ_OK;
    case ML_CONCAT:
        concat(&c);
        return CCZ_OK;
    case ML_LINEAR_CLASSIFIER:
    case ML_LINEAR_REGRESSOR:
        linear(&c);
        return CCZ_OK;
    }
    return ccz_fail(CCZ_ERR_UNSUPPORTED, "ml: operator kind %d", (int)n->kind);
}

/* ---- a run ----------------------------------------------------------------------------------*/

#define ALIGN_FLOATS 16 /* each buffer on a 64-byte boundary */

/* Floats of every node output for this batch, each rounded up to ALIGN_FLOATS: elems < 2^28,
 * batch <= 2^20 and at most 2 * ML_MAX_NODES outputs, so the sum fits. */
static size_t workspace_floats(const ccz_ml_model *m, size_t batch)
{
    size_t total = 0;
    for (size_t k = 0; k < m->n_nodes; k++)
        for (size_t o = 0; o < m->nodes[k].n_out; o++)
            if (m->nodes[k].out[o] != ML_NONE)
                total += (count(&m->values[m->nodes[k].out[o]], batch) + ALIGN_FLOATS - 1) /
                         ALIGN_FLOATS * ALIGN_FLOATS;
    return total;
}

static ccz_status run_nodes(const ccz_ml_model *m, size_t batch, float *ws, float **bufs,
                            unsigned threads)
{
    float *at = ws;
    for (size_t k = 0; k < m->n_nodes; k++) {
        const ml_node *n = &m->nodes[k];
        for (size_t o = 0; o < n->n_out; o++) {
            size_t v = n->out[o];
            if (v == ML_NONE)
                continue;
            bufs[v] = at;
            at += (count(&m->values[v], batch) + ALIGN_FLOATS - 1) / ALIGN_FLOATS * ALIGN_FLOATS;
        }
        CCZ_GUARD(ml_node_run(m, n, bufs, batch, threads));
    }
    return CCZ_OK;
}

ccz_status ccz_ml_run(const ccz_ml_model *m, size_t batch, const float *const *inputs,
                      float *const *outputs, unsigned threads)
{
    CCZ_ENSURE(m && inputs && outputs, CCZ_ERR_INVALID_ARGUMENT, "ml: no model or buffers");
    CCZ_ENSURE(batch >= 1 && batch <= ML_MAX_BATCH, CCZ_ERR_INVALID_ARGUMENT,
               "ml: a batch of %zu rows (1 to %llu)", batch, (unsigned long long)ML_MAX_BATCH);
    for (size_t i = 0; i < m->n_inputs; i++)
        CCZ_ENSURE(inputs[i], CCZ_ERR_INVALID_ARGUMENT, "ml: input %zu has no buffer", i);
    for (size_t i = 0; i < m->n_outputs; i++)
        CCZ_ENSURE(outputs[i], CCZ_ERR_INVALID_ARGUMENT, "ml: output %zu has no buffer", i);
    size_t need = workspace_floats(m, batch);
    float **bufs = calloc(m->n_values ? m->n_values : 1, sizeof *bufs);
    CCZ_ENSURE(bufs, CCZ_ERR_NOMEM, "ml: out of memory");
    for (size_t i = 0; i < m->n_values; i++)
        bufs[i] = m->values[i].data;
    for (size_t i = 0; i < m->n_inputs; i++)
        bufs[m->inputs[i]] = (float *)inputs[i]; /* read only: no node writes its inputs */
    /* the model's workspace when no other run holds it, else one of this run's own */
    bool shared = pthread_mutex_trylock(&m->ws->mu) == 0;
    float *ws = NULL;
    ccz_status st = CCZ_OK;
    if (shared && (!m->ws->ptr || m->ws->cap < need)) { /* need is 0 without nodes */
        free(m->ws->ptr);
        m->ws->ptr = aligned_alloc(64, (need ? need : ALIGN_FLOATS) * sizeof(float));
        m->ws->cap = m->ws->ptr ? need : 0;
    }
    ws = shared ? m->ws->ptr : aligned_alloc(64, (need ? need : ALIGN_FLOATS) * sizeof(float));
    if (!ws)
        st = ccz_fail(CCZ_ERR_NOMEM, "ml: out of memory for %zu floats", need);
    if (st == CCZ_OK)
        st = run_nodes(m, batch, ws, bufs, threads);
    for (size_t i = 0; st == CCZ_OK && i < m->n_outputs; i++) {
        size_t v = m->outputs[i];
        memcpy(outputs[i], bufs[v], count(&m->values[v], batch) * sizeof(float));
    }
    if (shared)
        pthread_mutex_unlock(&m->ws->mu);
    else
        free(ws);
    free(bufs);
    return st;
}

size_t ccz_ml_workspace_floats(const ccz_ml_model *m, size_t batch)
{
    return m && batch >= 1 && batch <= ML_MAX_BATCH ? workspace_floats(m, batch) : 0;
}

void ccz_ml_model_trim(const ccz_ml_model *m)
{
    if (!m || pthread_mutex_trylock(&m->ws->mu) != 0)
        return;
    free(m->ws->ptr);
    m->ws->ptr = NULL;
    m->ws->cap = 0;
    pthread_mutex_unlock(&m->ws->mu);
}
