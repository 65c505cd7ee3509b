/* SPDX-License-Identifier: Apache-2.0 */
/* Horizontal FL's pieces without the network (include/ccz/hfl.h): tensors on the wire, the
 * parser of updates, the strategies and checkpoints. Update and checkpoint bytes are untrusted:
 * lengths are checked against the model's size before any value is read. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ccz/hfl.h"
#include "core/guard.h"
#include "fl.pb-c.h"
#include "fl/hfl_int.h"
#include "core/pb.h"

/* ---- tensors ---------------------------------------------------------------------------------*/

static float half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
    if (exp == 0x1f) {
        bits = sign | 0x7f800000u | (man << 13);
    } else if (exp == 0) {
        float f = ldexpf((float)man, -24);
        return sign ? -f : f;
    } else {
        bits = sign | ((exp + 112) << 23) | (man << 13);
    }
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static uint16_t float_to_half(float f)
{
    uint32_t x;
    memcpy(&x, &f, sizeof x);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000);
    float a = fabsf(f);
    if (isnan(f))
        return sign | 0x7e00;
    if (a >= 65520.0f)
        return sign | 0x7c00;
    if (a < ldexpf(1, -14)) /* subnormal: a multiple of 2^-24, rounded to even */
        return sign | (uint16_t)nearbyintf(a * ldexpf(1, 24));
    int e;
    float m = frexpf(a, &e); /* a = m 2^e, m in [0.5, 1) */
    uint32_t man = (uint32_t)nearbyintf((m * 2 - 1) * 1024);
    uint32_t exp = (uint32_t)(e - 1 + 15);
    if (man == 1024) {
        man = 0;
        exp++;
    }
    if (exp >= 31)
        return sign | 0x7c00;
    return sign | (uint16_t)(exp << 10 | man);
}

ccz_status ccz_hfl_tensor_decode(float *out, size_t dim, int dtype, const uint8_t *bytes,
                                 size_t len)
{
    CCZ_ENSURE(dtype == CCZ_HFL_F32 || dtype == CCZ_HFL_F16, CCZ_ERR_MALFORMED,
               "dtype %d (F32 = 0, F16 = 1)", dtype);
    size_t size = dtype == CCZ_HFL_F32 ? 4 : 2;
    CCZ_ENSURE(len % size == 0 && len / size == dim, CCZ_ERR_MALFORMED,
               "%zu bytes of weights are not the model's %zu %s values (%zu bytes)", len, dim,
               dtype == CCZ_HFL_F32 ? "float32" : "float16", dim * size);
    ccz_cursor c;
    ccz_cursor_init(&c, (ccz_span){bytes, len});
    ccz_span all; /* the whole length was checked above: one read, then plain loops */
    CCZ_GUARD(ccz_cursor_take(&c, &all, len));
    const uint8_t *p = all.ptr;
    size_t bad = SIZE_MAX;
    if (dtype == CCZ_HFL_F32) {
        for (size_t i = 0; i < dim; i++) {
            uint32_t u = (uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 |
                         (uint32_t)p[4 * i + 2] << 16 | (uint32_t)p[4 * i + 3] << 24;
            memcpy(&out[i], &u, sizeof u);
            /* exponent all ones: infinity or NaN */
            if ((u & 0x7f800000u) == 0x7f800000u && bad == SIZE_MAX)
                bad = i;
        }
    } else {
        for (size_t i = 0; i < dim; i++) {
            uint16_t h = (uint16_t)(p[2 * i] | p[2 * i + 1] << 8);
            out[i] = half_to_float(h);
            if ((h & 0x7c00) == 0x7c00 && bad == SIZE_MAX)
                bad = i;
        }
    }
    CCZ_ENSURE(bad == SIZE_MAX, CCZ_ERR_MALFORMED, "weight %zu is not a finite number", bad);
    return CCZ_OK;
}

ccz_status ccz_hfl_tensor_encode(ccz_buf *out, const float *v, size_t dim, ccz_hfl_dtype dtype)
{
    size_t size = dtype == CCZ_HFL_F16 ? 2 : 4;
    CCZ_GUARD(ccz_buf_reserve(out, dim * size));
    uint8_t *p = out->ptr + out->len;
    for (size_t i = 0; i < dim; i++) {
        if (dtype == CCZ_HFL_F16) {
            uint16_t h = float_to_half(v[i]);
            p[2 * i] = (uint8_t)h;
            p[2 * i + 1] = (uint8_t)(h >> 8);
        } else {
            uint32_t u;
            memcpy(&u, &v[i], sizeof u);
            for (int b = 0; b < 4; b++)
                p[4 * i + (size_t)b] = (uint8_t)(u >> (8 * b));
        }
    }
    out->len += dim * size;
    return CCZ_OK;
}

ccz_status ccz_hfl_update_parse(ccz_hfl_update *out, float *values, size_t dim, const uint8_t *msg,
                                size_t len)
{
    return ccz_hfl_update_parse_on(out, values, dim, NULL, msg, len);
}

ccz_status ccz_hfl_update_parse_on(ccz_hfl_update *out, float *values, size_t dim,
                                   const float *global, const uint8_t *msg, size_t len)
{
    /* the bytes field must fit the model before protobuf-c copies it */
    CCZ_ENSURE(len <= ccz_hfl_max_message(dim), CCZ_ERR_TOO_LARGE,
               "an update of %zu bytes for a model of %zu parameters", len, dim);
    ccz_status s;
    Cczfl__Update *u =
        (Cczfl__Update *)ccz_pb_unpack(&s, &cczfl__update__descriptor, CCZ_SPAN(msg, len),
                                       "the update is not a cczfl.Update message");
    if (!u)
        return s;
    if (u->examples == 0 || u->examples > CCZ_HFL_MAX_EXAMPLES || !isfinite(u->loss))
        s = ccz_fail(CCZ_ERR_MALFORMED, "examples %llu (1 to %llu), loss %g (finite)",
                     (unsigned long long)u->examples, CCZ_HFL_MAX_EXAMPLES, u->loss);
    if (s == CCZ_OK && u->sparse)
        s = !global ? ccz_fail(CCZ_ERR_MALFORMED, "a sparse update, without the round's model")
            : u->weights.len ? ccz_fail(CCZ_ERR_MALFORMED, "a sparse update with dense weights too")
                             : ccz_hfl_sparse_decode(values, global, dim, u->indices, u->n_indices,
                                                     u->dtype, u->deltas.data, u->deltas.len);
    else if (s == CCZ_OK && (u->n_indices || u->deltas.len))
        s = ccz_fail(CCZ_ERR_MALFORMED, "a dense update with sparse values too");
    else if (s == CCZ_OK)
        s = ccz_hfl_tensor_decode(values, dim, u->dtype, u->weights.data, u->weights.len);
    if (s == CCZ_OK) {
        out->round = u->round;
        out->examples = u->examples;
        out->loss = u->loss;
    }
    cczfl__update__free_unpacked(u, NULL);
    return s;
}

/* ---- top-k sparse updates --------------------------------------------------------------------*/

/* The nth smallest of a[0..n) (0-based), reordering a: Hoare's selection with a median-of-three
 * pivot. */
static float select_nth(float *a, ptrdiff_t n, ptrdiff_t nth)
{
    ptrdiff_t lo = 0, hi = n - 1;
    while (lo < hi) {
        float x = a[lo], y = a[lo + (hi - lo) / 2], z = a[hi];
        float p = x < y ? (y < z ? y : x < z ? z : x) : (x < z ? x : y < z ? z : y);
        ptrdiff_t i = lo, j = hi;
        while (i <= j) {
            while (a[i] < p)
                i++;
            while (a[j] > p)
                j--;
            if (i <= j) {
                float t = a[i];
                a[i++] = a[j];
                a[j--] = t;
            }
        }
        /* a[lo..j] <= p, a[i..hi] >= p, and what lies between equals p */
        if (nth <= j)
            hi = j;
        else if (nth >= i)
            lo = i;
        else
            return a[nth];
    }
    return a[nth];
}

ccz_status ccz_hfl_topk(uint32_t *indices, float *values, const float *delta, size_t dim, size_t k)
{
    CCZ_ENSURE(k >= 1 && k <= dim && (uint64_t)dim <= (uint64_t)UINT32_MAX + 1,
               CCZ_ERR_INVALID_ARGUMENT, "top %zu of %zu values", k, dim);
    float *mag = malloc(dim * sizeof *mag);
    CCZ_ENSURE(mag, CCZ_ERR_NOMEM, "out of memory");
    size_t bad = SIZE_MAX;
    for (size_t i = 0; i < dim; i++) {
        mag[i] = fabsf(delta[i]);
        if (!isfinite(delta[i]) && bad == SIZE_MAX)
            bad = i;
    }
    if (bad != SIZE_MAX) {
        free(mag);
        return ccz_fail(CCZ_ERR_INVALID_ARGUMENT, "value %zu is not a finite number", bad);
    }
    /* the threshold: the kth largest magnitude; all above it go, then ties in index order */
    float t = select_nth(mag, (ptrdiff_t)dim, (ptrdiff_t)(dim - k));
    free(mag);
    size_t above = 0;
    for (size_t i = 0; i < dim; i++)
        above += fabsf(delta[i]) > t;
    size_t ties = k - above, n = 0;
    for (size_t i = 0; i < dim && n < k; i++) {
        float a = fabsf(delta[i]);
        if (a > t || (a == t && ties > 0 && ties--)) {
            indices[n] = (uint32_t)i;
            values[n++] = delta[i];
        }
    }
    return CCZ_OK;
}

/* count deltas of dtype from p (their length checked by the caller) added to global at indices
 * into out; j0 numbers them in messages, prev (when has_prev) is the index before them. */
static ccz_status sparse_slice(float *out, const float *global, size_t dim, const uint32_t *indices,
                               size_t count, int dtype, const uint8_t *p, size_t j0, bool has_prev,
                               uint32_t prev)
{
    for (size_t j = 0; j < count; j++) {
        uint32_t at = indices[j];
        CCZ_ENSURE(at < dim, CCZ_ERR_MALFORMED, "index %zu is %u, beyond the model's %zu values",
                   j0 + j, at, dim);
        CCZ_ENSURE((j == 0 && !has_prev) || at > (j ? indices[j - 1] : prev), CCZ_ERR_MALFORMED,
                   "index %zu (%u) does not follow index %zu (%u): indices must increase", j0 + j,
                   at, j0 + j - 1, j ? indices[j - 1] : prev);
        float d;
        if (dtype == CCZ_HFL_F32) {
            uint32_t u = (uint32_t)p[4 * j] | (uint32_t)p[4 * j + 1] << 8 |
                         (uint32_t)p[4 * j + 2] << 16 | (uint32_t)p[4 * j + 3] << 24;
            memcpy(&d, &u, sizeof d);
        } else {
            d = half_to_float((uint16_t)(p[2 * j] | p[2 * j + 1] << 8));
        }
        out[at] = global[at] + d;
        CCZ_ENSURE(isfinite(d) && isfinite(out[at]), CCZ_ERR_MALFORMED,
                   "delta %zu (at %u) is not a finite number, or its sum is not", j0 + j, at);
    }
    return CCZ_OK;
}

ccz_status ccz_hfl_sparse_decode(float *out, const float *global, size_t dim,
                                 const uint32_t *indices, size_t count, int dtype,
                                 const uint8_t *bytes, size_t len)
{
    CCZ_ENSURE(dtype == CCZ_HFL_F32 || dtype == CCZ_HFL_F16, CCZ_ERR_MALFORMED,
               "dtype %d (F32 = 0, F16 = 1)", dtype);
    size_t size = dtype == CCZ_HFL_F32 ? 4 : 2;
    CCZ_ENSURE(count <= dim, CCZ_ERR_MALFORMED, "a sparse update of %zu values for a model of %zu",
               count, dim);
    CCZ_ENSURE(len % size == 0 && len / size == count, CCZ_ERR_MALFORMED,
               "%zu bytes of deltas are not the %zu %s values the indices count", len, count,
               dtype == CCZ_HFL_F32 ? "float32" : "float16");
    ccz_cursor c;
    ccz_cursor_init(&c, (ccz_span){bytes, len});
    ccz_span all; /* the whole length was checked above: one read, then a plain loop */
    CCZ_GUARD(ccz_cursor_take(&c, &all, len));
    memcpy(out, global, dim * sizeof *out);
    return sparse_slice(out, global, dim, indices, count, dtype, all.ptr, 0, false, 0);
}

/* ---- streamed updates ------------------------------------------------------------------------*/

void ccz_hfl_stream_init(ccz_hfl_stream *st, size_t dim, const float *global)
{
    memset(st, 0, sizeof *st);
    st->dim = dim;
    st->global = global;
}

static ccz_status stream_header(ccz_hfl_stream *st, float *values, const Cczfl__UpdateHeader *h)
{
    CCZ_ENSURE(h->examples >= 1 && h->examples <= CCZ_HFL_MAX_EXAMPLES && isfinite(h->loss),
               CCZ_ERR_MALFORMED, "examples %llu (1 to %llu), loss %g (finite)",
               (unsigned long long)h->examples, CCZ_HFL_MAX_EXAMPLES, h->loss);
    int dtype = (int)h->dtype;
    CCZ_ENSURE(dtype == CCZ_HFL_F32 || dtype == CCZ_HFL_F16, CCZ_ERR_MALFORMED,
               "dtype %d (F32 = 0, F16 = 1)", dtype);
    uint64_t size = dtype == CCZ_HFL_F32 ? 4 : 2;
    if (h->sparse) {
        CCZ_ENSURE(st->global, CCZ_ERR_MALFORMED, "a sparse update, without the round's model");
        CCZ_ENSURE(h->count <= st->dim, CCZ_ERR_MALFORMED,
                   "a sparse update of %u values for a model of %zu", h->count, st->dim);
    } else {
        CCZ_ENSURE(h->count == 0, CCZ_ERR_MALFORMED, "a dense update with a count of %u", h->count);
    }
    uint64_t want = (h->sparse ? (uint64_t)h->count : (uint64_t)st->dim) * size;
    CCZ_ENSURE(h->total == want, CCZ_ERR_MALFORMED,
               "a total of %llu bytes, not the %llu of %s %s values", (unsigned long long)h->total,
               (unsigned long long)want, h->sparse ? "the count's" : "the model's",
               dtype == CCZ_HFL_F32 ? "float32" : "float16");
    st->head = (ccz_hfl_update){h->round, h->examples, h->loss};
    st->dtype = dtype;
    st->sparse = h->sparse;
    st->count = h->sparse ? h->count : st->dim;
    st->total = h->total;
    st->started = true;
    if (st->sparse)
        memcpy(values, st->global, st->dim * sizeof *values);
    return CCZ_OK;
}

ccz_status hfl_stream_apply(ccz_hfl_stream *st, float *values, const Cczfl__UpdateChunk *m)
{
    unsigned n = ++st->messages;
    if (!st->started) {
        CCZ_ENSURE(m->header && !m->weights.len && !m->n_indices && !m->deltas.len,
                   CCZ_ERR_MALFORMED, "chunk 1 must be the header alone");
        return stream_header(st, values, m->header);
    }
    CCZ_ENSURE(!m->header, CCZ_ERR_MALFORMED, "chunk %u: a second header", n);
    size_t size = st->dtype == CCZ_HFL_F32 ? 4 : 2;
    const ProtobufCBinaryData *b = st->sparse ? &m->deltas : &m->weights;
    CCZ_ENSURE(st->sparse ? !m->weights.len : !m->n_indices && !m->deltas.len, CCZ_ERR_MALFORMED,
               "chunk %u: %s in a %s update", n, st->sparse ? "dense weights" : "sparse values",
               st->sparse ? "sparse" : "dense");
    CCZ_ENSURE(b->len <= CCZ_HFL_CHUNK_MAX, CCZ_ERR_MALFORMED,
               "chunk %u: a slice of %zu bytes (at most %u)", n, b->len, CCZ_HFL_CHUNK_MAX);
    CCZ_ENSURE(b->len % size == 0, CCZ_ERR_MALFORMED, "chunk %u: %zu bytes are not whole %s values",
               n, b->len, st->dtype == CCZ_HFL_F32 ? "float32" : "float16");
    size_t k = b->len / size;
    CCZ_ENSURE(st->got + b->len <= st->total && st->at + k <= st->count, CCZ_ERR_MALFORMED,
               "chunk %u: %zu bytes past the update's %llu (%llu in already)", n, b->len,
               (unsigned long long)st->total, (unsigned long long)st->got);
    ccz_cursor c;
    ccz_cursor_init(&c, (ccz_span){b->data, b->len});
    ccz_span all;
    CCZ_GUARD(ccz_cursor_take(&c, &all, b->len));
    if (st->sparse) {
        CCZ_ENSURE(m->n_indices == k, CCZ_ERR_MALFORMED,
                   "chunk %u: %zu indices for %zu bytes of deltas (%zu %s values)", n, m->n_indices,
                   b->len, k, st->dtype == CCZ_HFL_F32 ? "float32" : "float16");
        CCZ_GUARD(sparse_slice(values, st->global, st->dim, m->indices, k, st->dtype, all.ptr,
                               st->at, st->at > 0, st->last));
        if (k)
            st->last = m->indices[k - 1];
    } else if (k) {
        ccz_status s = ccz_hfl_tensor_decode(values + st->at, k, st->dtype, all.ptr, all.len);
        if (s)
            return ccz_fail_context(s, "chunk %u (values from %zu)", n, st->at);
    }
    st->at += k;
    st->got += b->len;
    return CCZ_OK;
}

ccz_status ccz_hfl_stream_chunk(ccz_hfl_stream *st, float *values, const uint8_t *msg, size_t len)
{
    CCZ_ENSURE(len <= CCZ_HFL_CHUNK_MAX + 4096, CCZ_ERR_TOO_LARGE, "a chunk of %zu bytes", len);
    ccz_status s;
    Cczfl__UpdateChunk *m = (Cczfl__UpdateChunk *)ccz_pb_unpack(
        &s, &cczfl__update_chunk__descriptor, CCZ_SPAN(msg, len),
        "the chunk is not a cczfl.UpdateChunk message");
    if (!m)
        return s;
    s = hfl_stream_apply(st, values, m);
    cczfl__update_chunk__free_unpacked(m, NULL);
    return s;
}

ccz_status ccz_hfl_stream_end(const ccz_hfl_stream *st, ccz_hfl_update *out)
{
    CCZ_ENSURE(st->started, CCZ_ERR_MALFORMED, "the stream ended without a header");
    CCZ_ENSURE(st->got == st->total, CCZ_ERR_MALFORMED,
               "the stream ended after %llu of its %llu bytes", (unsigned long long)st->got,
               (unsigned long long)st->total);
    *out = st->head;
    return CCZ_OK;
}

ccz_status ccz_hfl_update_stream_parse(ccz_hfl_update *out, float *values, size_t dim,
                                       const float *global, const uint8_t *bytes, size_t len)
{
    ccz_hfl_stream st;
    ccz_hfl_stream_init(&st, dim, global);
    ccz_cursor c;
    ccz_cursor_init(&c, (ccz_span){bytes, len});
    while (ccz_cursor_remaining(&c)) {
        ccz_span m;
        CCZ_GUARD(ccz_rpc_frame_read(&c, &m, CCZ_HFL_CHUNK_MAX + 4096));
        CCZ_GUARD(ccz_hfl_stream_chunk(&st, values, m.ptr, m.len));
    }
    return ccz_hfl_stream_end(&st, out);
}

size_t ccz_hfl_max_message(size_t dim)
{
    return dim * 4 + 4096;
}

/* ---- strategies ------------------------------------------------------------------------------*/

typedef struct {
    const char *name;
    bool has_state; /* m and v, checkpointed */
    ccz_status (*aggregate)(ccz_hfl_strategy *s, float *global, const float *const *models,
                            const double *weights, size_t n);
} strategy_ops;

struct ccz_hfl_strategy {
    ccz_hfl_strategy_kind kind;
    const strategy_ops *ops;
    ccz_hfl_strategy_opts o;
    size_t dim;
    float *mean, *m, *v;
    unsigned long steps;
};

typedef struct {
    float *out;
    const float *const *models;
    double *w; /* normalised */
    size_t n;
} mean_job;

/* Fused weighted accumulation a block at a time: each model streams through once, in order, into
 * double accumulators that stay in L1 (the loops vectorise), instead of gathering one value from
 * every model per output. */
#define MEAN_BLOCK 1024
static ccz_status mean_chunk(size_t begin, size_t end, void *arg)
{
    const mean_job *j = arg;
    double acc[MEAN_BLOCK];
    for (size_t lo = begin; lo < end; lo += MEAN_BLOCK) {
        size_t len = end - lo < MEAN_BLOCK ? end - lo : MEAN_BLOCK;
        const float *m0 = j->models[0] + lo;
        const double w0 = j->w[0];
        for (size_t i = 0; i < len; i++)
            acc[i] = w0 * (double)m0[i];
        for (size_t k = 1; k < j->n; k++) {
            const float *m = j->models[k] + lo;
            const double w = j->w[k];
            for (size_t i = 0; i < len; i++)
                acc[i] += w * (double)m[i];
        }
        for (size_t i = 0; i < len; i++)
            j->out[lo + i] = (float)acc[i];
    }
    return CCZ_OK;
}

/* chunks of 64 Ki values, so a thread's share is worth its start */
typedef struct {
    mean_job *j;
    size_t dim;
} block_job;

static ccz_status block_chunk(size_t begin, size_t end, void *arg)
{
    const block_job *b = arg;
    size_t lo = begin << 16, hi = end << 16;
    return mean_chunk(lo, hi < b->dim ? hi : b->dim, b->j);
}

ccz_status ccz_hfl_fedavg(float *out, const float *const *models, const double *weights, size_t n,
                          size_t dim, unsigned threads)
{
    CCZ_ENSURE(n >= 1, CCZ_ERR_INVALID_ARGUMENT, "no models to average");
    double total = 0;
    for (size_t k = 0; k < n; k++) {
        CCZ_ENSURE(weights[k] > 0 && isfinite(weights[k]), CCZ_ERR_INVALID_ARGUMENT,
                   "model %zu has weight %g (must be positive)", k, weights[k]);
        total += weights[k];
    }
    double *w = malloc(n * sizeof *w);
    CCZ_ENSURE(w, CCZ_ERR_NOMEM, "out of memory");
    for (size_t k = 0; k < n; k++)
        w[k] = weights[k] / total;
    mean_job j = {out, models, w, n};
    block_job b = {&j, dim};
    ccz_status s = ccz_parallel((dim + 0xffff) >> 16, threads, block_chunk, &b);
    free(w);
    return s;
}

static ccz_status agg_mean(ccz_hfl_strategy *s, float *global, const float *const *models,
                           const double *weights, size_t n)
{
    return ccz_hfl_fedavg(global, models, weights, n, s->dim, s->o.threads);
}

static ccz_status agg_adam(ccz_hfl_strategy *s, float *global, const float *const *models,
                           const double *weights, size_t n)
{
    CCZ_GUARD(ccz_hfl_fedavg(s->mean, models, weights, n, s->dim, s->o.threads));
    const float b1 = s->o.beta1, b2 = s->o.beta2, lr = s->o.server_lr, tau = s->o.tau;
    s->steps++;
    for (size_t i = 0; i < s->dim; i++) {
        float d = s->mean[i] - global[i];
        s->m[i] = b1 * s->m[i] + (1 - b1) * d;
        s->v[i] = b2 * s->v[i] + (1 - b2) * d * d;
        global[i] += lr * s->m[i] / (sqrtf(s->v[i]) + tau);
    }
    return CCZ_OK;
}

/* Yogi (Zaheer et al.) on the server, as FedYogi in Reddi et al.: Adam's update with
 * v -= (1 - b2) d^2 sign(v - d^2), so v moves toward d^2 by a step that does not depend on v */
static ccz_status agg_yogi(ccz_hfl_strategy *s, float *global, const float *const *models,
                           const double *weights, size_t n)
{
    CCZ_GUARD(ccz_hfl_fedavg(s->mean, models, weights, n, s->dim, s->o.threads));
    const float b1 = s->o.beta1, b2 = s->o.beta2, lr = s->o.server_lr, tau = s->o.tau;
    s->steps++;
    for (size_t i = 0; i < s->dim; i++) {
        float d = s->mean[i] - global[i], d2 = d * d, diff = s->v[i] - d2;
        float sign = diff > 0 ? 1.0f : diff < 0 ? -1.0f : 0.0f;
        s->m[i] = b1 * s->m[i] + (1 - b1) * d;
        s->v[i] -= (1 - b2) * d2 * sign;
        global[i] += lr * s->m[i] / (sqrtf(s->v[i]) + tau);
    }
    return CCZ_OK;
}

static const strategy_ops ops[] = {
    [CCZ_HFL_FEDAVG] = {"fedavg", false, agg_mean},
    [CCZ_HFL_FEDPROX] = {"fedprox", false, agg_mean},
    [CCZ_HFL_FEDADAM] = {"fedadam", true, agg_adam},
    [CCZ_HFL_FEDYOGI] = {"fedyogi", true, agg_yogi},
};

const char *ccz_hfl_strategy_name(ccz_hfl_strategy_kind k)
{
    return (unsigned)k < CCZ_ARRAY_LEN(ops) ? ops[k].name : "unknown";
}

ccz_status ccz_hfl_strategy_parse(ccz_hfl_strategy_kind *out, const char *name)
{
    for (size_t k = 0; k < CCZ_ARRAY_LEN(ops); k++)
        if (!strcmp(name, ops[k].name)) {
            *out = (ccz_hfl_strategy_kind)k;
            return CCZ_OK;
        }
    return ccz_fail(CCZ_ERR_INVALID_ARGUMENT,
                    "unknown strategy '%s' (fedavg, fedprox, fedadam, fedyogi)", name);
}

ccz_status ccz_hfl_strategy_new(ccz_hfl_strategy **out, ccz_hfl_strategy_kind kind, size_t dim,
                                const ccz_hfl_strategy_opts *o)
{
    *out = NULL;
    CCZ_ENSURE((unsigned)kind < CCZ_ARRAY_LEN(ops), CCZ_ERR_INVALID_ARGUMENT, "strategy %d",
               (int)kind);
    CCZ_ENSURE(o && o->version == CCZ_HFL_STRATEGY_OPTS_VERSION, CCZ_ERR_INVALID_ARGUMENT,
               "ccz_hfl_strategy_opts: version %u, expected %u", o ? o->version : 0,
               CCZ_HFL_STRATEGY_OPTS_VERSION);
    CCZ_ENSURE(dim >= 1, CCZ_ERR_INVALID_ARGUMENT, "an empty model");
    ccz_hfl_strategy *s = calloc(1, sizeof *s);
    CCZ_ENSURE(s, CCZ_ERR_NOMEM, "out of memory");
    s->kind = kind;
    s->ops = &ops[kind];
    s->dim = dim;
    s->o = *o;
    s->o.server_lr = o->server_lr > 0 ? o->server_lr : 0.01f;
    s->o.beta1 = o->beta1 > 0 ? o->beta1 : 0.9f;
    s->o.beta2 = o->beta2 > 0 ? o->beta2 : 0.99f;
    s->o.tau = o->tau > 0 ? o->tau : 1e-3f;
    if (s->ops->has_state) {
        s->mean = calloc(dim, sizeof(float));
        s->m = calloc(dim, sizeof(float));
        s->v = calloc(dim, sizeof(float));
        if (!s->mean || !s->m || !s->v) {
            ccz_hfl_strategy_free(s);
            return ccz_fail(CCZ_ERR_NOMEM, "out of memory for the strategy's state");
        }
    }
    if (kind == CCZ_HFL_FEDYOGI) /* v_{-1} >= tau^2 (Reddi et al., Algorithm 2) */
        for (size_t i = 0; i < dim; i++)
            s->v[i] = s->o.tau * s->o.tau;
    *out = s;
    return CCZ_OK;
}

void ccz_hfl_strategy_free(ccz_hfl_strategy *s)
{
    if (!s)
        return;
    free(s->mean);
    free(s->m);
    free(s->v);
    free(s);
}

ccz_hfl_strategy_kind ccz_hfl_strategy_kind_of(const ccz_hfl_strategy *s)
{
    return s->kind;
}

ccz_status ccz_hfl_strategy_aggregate(ccz_hfl_strategy *s, float *global,
                                      const float *const *models, const double *weights, size_t n)
{
    CCZ_GUARD(s->ops->aggregate(s, global, models, weights, n));
    for (size_t i = 0; i < s->dim; i++)
        CCZ_ENSURE(isfinite(global[i]), CCZ_ERR_OVERFLOW,
                   "the aggregate's weight %zu is not finite", i);
    return CCZ_OK;
}

/* ---- checkpoints: "CCZHFL1\n", round, strategy, states (u32le), dim (u64le), the global model
 * and each state array (float32le), all little-endian ---------------------------------------*/

static const char MAGIC[8] = "CCZHFL1\n";

ccz_status ccz_hfl_checkpoint_write(const char *path, unsigned round, const ccz_hfl_strategy *s,
                                    const float *global, size_t dim)
{
    CCZ_ENSURE(dim == s->dim, CCZ_ERR_INVALID_ARGUMENT, "a model of %zu, the strategy's %zu", dim,
               s->dim);
    ccz_buf b = CCZ_BUF_INIT;
    uint32_t states = s->ops->has_state ? 2 : 0;
    uint8_t head[28];
    memcpy(head, MAGIC, 8);
    uint32_t w32[3] = {round, (uint32_t)s->kind, states};
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < 4; i++)
            head[8 + 4 * k + i] = (uint8_t)(w32[k] >> (8 * i));
    for (int i = 0; i < 8; i++)
        head[20 + i] = (uint8_t)((uint64_t)dim >> (8 * i));
    ccz_status st = ccz_buf_append(&b, head, sizeof head);
    if (st == CCZ_OK)
        st = ccz_hfl_tensor_encode(&b, global, dim, CCZ_HFL_F32);
    if (st == CCZ_OK && states)
        st = ccz_hfl_tensor_encode(&b, s->m, dim, CCZ_HFL_F32);
    if (st == CCZ_OK && states)
        st = ccz_hfl_tensor_encode(&b, s->v, dim, CCZ_HFL_F32);
    if (st == CCZ_OK)
        st = ccz_file_write(path, ccz_buf_span(&b), 0600);
    ccz_buf_free(&b);
    return st;
}

ccz_status ccz_hfl_checkpoint_parse(unsigned *round, ccz_hfl_strategy *s, float *global, size_t dim,
                                    ccz_span bytes)
{
    ccz_cursor c;
    ccz_cursor_init(&c, bytes);
    ccz_span magic;
    uint32_t r, kind, states;
    uint64_t n;
    CCZ_GUARD(ccz_cursor_take(&c, &magic, sizeof MAGIC));
    CCZ_ENSURE(!memcmp(magic.ptr, MAGIC, sizeof MAGIC), CCZ_ERR_MALFORMED,
               "not a ccz FL checkpoint");
    CCZ_GUARD(ccz_cursor_u32le(&c, &r));
    CCZ_GUARD(ccz_cursor_u32le(&c, &kind));
    CCZ_GUARD(ccz_cursor_u32le(&c, &states));
    CCZ_GUARD(ccz_cursor_u64le(&c, &n));
    CCZ_ENSURE(kind == (uint32_t)s->kind, CCZ_ERR_MALFORMED, "a checkpoint of strategy %s, not %s",
               ccz_hfl_strategy_name(kind), ccz_hfl_strategy_name(s->kind));
    CCZ_ENSURE(n == dim && dim == s->dim, CCZ_ERR_MALFORMED,
               "a checkpoint of a model of %llu parameters; this one has %zu",
               (unsigned long long)n, dim);
    CCZ_ENSURE(states == (s->ops->has_state ? 2u : 0u), CCZ_ERR_MALFORMED,
               "%u state arrays for strategy %s", states, s->ops->name);
    CCZ_ENSURE(ccz_cursor_remaining(&c) == (1 + (size_t)states) * dim * 4, CCZ_ERR_MALFORMED,
               "%zu bytes of arrays; expected %zu", ccz_cursor_remaining(&c),
               (1 + (size_t)states) * dim * 4);
    ccz_span t;
    CCZ_GUARD(ccz_cursor_take(&c, &t, dim * 4));
    CCZ_GUARD(ccz_hfl_tensor_decode(global, dim, CCZ_HFL_F32, t.ptr, t.len));
    for (uint32_t k = 0; k < states; k++) {
        CCZ_GUARD(ccz_cursor_take(&c, &t, dim * 4));
        CCZ_GUARD(ccz_hfl_tensor_decode(k ? s->v : s->m, dim, CCZ_HFL_F32, t.ptr, t.len));
    }
    *round = r;
    return CCZ_OK;
}
