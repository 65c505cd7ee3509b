/* SPDX-License-Identifier: Apache-2.0 */
/* IDX files (MNIST's and Fashion-MNIST's format) for the trainer of include/ccz/mlp.h, and the
 * split of a data set over federated clients. The files are untrusted: read through the core
 * cursor, every count checked before anything is allocated from it. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "core/guard.h"
#include "ccz/mlp.h"

#define MAX_PIXELS (1ull << 30)
#define IDX_IMAGES 0x00000803u
#define IDX_LABELS 0x00000801u

static ccz_status header(ccz_cursor *c, uint32_t magic, const char *what, uint32_t *count)
{
    uint32_t m;
    CCZ_GUARD(ccz_cursor_u32be(c, &m));
    CCZ_ENSURE(m == magic, CCZ_ERR_MALFORMED,
               "%s: magic 0x%08x, expected 0x%08x (unsigned bytes, %u dimensions)", what, m, magic,
               magic & 0xff);
    CCZ_GUARD(ccz_cursor_u32be(c, count));
    return CCZ_OK;
}

ccz_status ccz_mlp_data_parse_idx(ccz_mlp_data *out, ccz_span images, ccz_span labels)
{
    memset(out, 0, sizeof *out);
    ccz_cursor ci, cl;
    ccz_cursor_init(&ci, images);
    ccz_cursor_init(&cl, labels);
    uint32_t n, nl, h, w;
    CCZ_GUARD(header(&ci, IDX_IMAGES, "images", &n));
    CCZ_GUARD(ccz_cursor_u32be(&ci, &h));
    CCZ_GUARD(ccz_cursor_u32be(&ci, &w));
    CCZ_GUARD(header(&cl, IDX_LABELS, "labels", &nl));
    CCZ_ENSURE(n == nl, CCZ_ERR_MALFORMED, "%u images but %u labels", n, nl);
    CCZ_ENSURE(n >= 1 && h >= 1 && w >= 1 && (uint64_t)h * w <= CCZ_MLP_MAX_WIDTH,
               CCZ_ERR_MALFORMED, "images: %u of %u x %u pixels (1 to %u pixels each)", n, h, w,
               CCZ_MLP_MAX_WIDTH);
    uint64_t pixels = (uint64_t)n * h * w;
    CCZ_ENSURE(pixels <= MAX_PIXELS, CCZ_ERR_TOO_LARGE, "images: %llu pixels (at most %llu)",
               (unsigned long long)pixels, MAX_PIXELS);
    ccz_span px, lb;
    CCZ_GUARD(ccz_cursor_take(&ci, &px, (size_t)pixels));
    CCZ_GUARD(ccz_cursor_take(&cl, &lb, n));
    CCZ_GUARD(ccz_cursor_expect_end(&ci));
    CCZ_GUARD(ccz_cursor_expect_end(&cl));
    out->x = malloc((size_t)pixels * sizeof(float));
    out->y = malloc(n);
    if (!out->x || !out->y) {
        ccz_mlp_data_free(out);
        return ccz_fail(CCZ_ERR_NOMEM, "out of memory for %u images", n);
    }
    out->rows = n;
    out->features = (size_t)h * w;
    for (size_t i = 0; i < (size_t)pixels; i++)
        out->x[i] = (float)px.ptr[i] * (1.0f / 255.0f);
    unsigned classes = 0;
    for (size_t i = 0; i < n; i++) {
        out->y[i] = lb.ptr[i];
        classes = lb.ptr[i] + 1u > classes ? lb.ptr[i] + 1u : classes;
    }
    out->classes = classes;
    return CCZ_OK;
}

/* A whole file, gunzipped when it is gzip (zlib reads plain files as they are). */
static ccz_status read_maybe_gz(ccz_buf *out, const char *path, size_t max)
{
    gzFile f = gzopen(path, "rb");
    CCZ_ENSURE(f, CCZ_ERR_IO, "cannot open %s", path);
    ccz_status s = CCZ_OK;
    for (;;) {
        if ((s = ccz_buf_reserve(out, 1 << 20)) != CCZ_OK)
            break;
        int r = gzread(f, out->ptr + out->len, 1 << 20);
        if (r < 0) {
            int e;
            s = ccz_fail(CCZ_ERR_IO, "%s: %s", path, gzerror(f, &e));
            break;
        }
        if (r == 0)
            break;
        out->len += (size_t)r;
        if (out->len > max) {
            s = ccz_fail(CCZ_ERR_TOO_LARGE, "%s: more than %zu bytes", path, max);
            break;
        }
    }
    gzclose(f);
    return s;
}

ccz_status ccz_mlp_data_load_idx(ccz_mlp_data *out, const char *images, const char *labels)
{
    memset(out, 0, sizeof *out);
    ccz_buf a = CCZ_BUF_INIT, b = CCZ_BUF_INIT;
    ccz_status s = read_maybe_gz(&a, images, MAX_PIXELS + 16);
    if (s == CCZ_OK)
        s = read_maybe_gz(&b, labels, (1u << 28) + 8);
    if (s == CCZ_OK)
        s = ccz_mlp_data_parse_idx(out, ccz_buf_span(&a), ccz_buf_span(&b));
    if (s)
        s = ccz_fail_context(s, "%s", s == CCZ_ERR_IO ? "the data" : images);
    ccz_buf_free(&a);
    ccz_buf_free(&b);
    return s;
}

/* ---- shards ----------------------------------------------------------------------------------*/

static uint64_t next_u64(uint64_t *st)
{
    uint64_t z = (*st += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double unit(uint64_t *st)
{
    return ((double)(next_u64(st) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

static double normal(uint64_t *st)
{
    return sqrt(-2 * log(unit(st))) * cos(6.283185307179586 * unit(st));
}

/* Marsaglia and Tsang's gamma(a, 1), boosted for a < 1. */
static double gamma_draw(double a, uint64_t *st)
{
    if (a < 1)
        return gamma_draw(a + 1, st) * pow(unit(st), 1 / a);
    double d = a - 1.0 / 3, c = 1 / sqrt(9 * d);
    for (;;) {
        double x = normal(st), v = 1 + c * x;
        if (v <= 0)
            continue;
        v = v * v * v;
        double u = unit(st);
        if (log(u) < 0.5 * x * x + d - d * v + d * log(v))
            return d * v;
    }
}

static void keep_rows(ccz_mlp_data *d, const uint8_t *keep)
{
    size_t k = 0;
    for (size_t r = 0; r < d->rows; r++)
        if (keep[r]) {
            memmove(d->x + k * d->features, d->x + r * d->features, d->features * sizeof(float));
            d->y[k++] = d->y[r];
        }
    d->rows = k;
}

ccz_status ccz_mlp_data_shard(ccz_mlp_data *d, unsigned index, unsigned count, double alpha,
                              uint64_t seed)
{
    CCZ_ENSURE(count >= 1 && index < count && count <= d->rows, CCZ_ERR_INVALID_ARGUMENT,
               "shard %u of %u of %zu rows", index, count, d->rows);
    CCZ_ENSURE(alpha >= 0 && isfinite(alpha), CCZ_ERR_INVALID_ARGUMENT, "alpha %g", alpha);
    size_t *perm = malloc(d->rows * sizeof *perm);
    uint8_t *keep = calloc(d->rows, 1);
    double *p = calloc(count, sizeof *p);
    if (!perm || !keep || !p) {
        free(perm);
        free(keep);
        free(p);
        return ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    }
    uint64_t st = seed;
    for (size_t i = 0; i < d->rows; i++)
        perm[i] = i;
    for (size_t i = d->rows - 1; i > 0; i--) {
        size_t j = (size_t)(next_u64(&st) % (i + 1)), t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    if (alpha == 0) {
        for (size_t i = index; i < d->rows; i += count)
            keep[perm[i]] = 1;
    } else {
        for (unsigned c = 0; c < 256; c++) {
            double sum = 0;
            for (unsigned k = 0; k < count; k++)
                sum += (p[k] = gamma_draw(alpha, &st));
            if (!(sum > 0)) { /* every draw underflowed (alpha near 0): the limit, one shard */
                unsigned k0 = (unsigned)(next_u64(&st) % count);
                for (unsigned k = 0; k < count; k++)
                    p[k] = k == k0;
                sum = 1;
            }
            /* the rows of class c in shuffled order, cut at the cumulative proportions */
            size_t nc = 0, seen = 0;
            for (size_t i = 0; i < d->rows; i++)
                nc += d->y[i] == c;
            if (!nc)
                continue;
            double lo = 0;
            for (unsigned k = 0; k < index; k++)
                lo += p[k] / sum;
            double hi = lo + p[index] / sum;
            size_t from = (size_t)(lo * (double)nc),
                   to = index + 1 == count ? nc : (size_t)(hi * (double)nc);
            for (size_t i = 0; i < d->rows; i++)
                if (d->y[perm[i]] == c) {
                    if (seen >= from && seen < to)
                        keep[perm[i]] = 1;
                    seen++;
                }
        }
    }
    keep_rows(d, keep);
    free(perm);
    free(keep);
    free(p);
    CCZ_ENSURE(d->rows >= 1, CCZ_ERR_INVALID_ARGUMENT,
               "shard %u of %u is empty (alpha %g): try another seed", index, count, alpha);
    return CCZ_OK;
}
