/* SPDX-License-Identifier: Apache-2.0 */
/* Logistic regression in the clear: CCZoo's CSV data sets (untrusted text, read through the
 * core cursor, every field checked), evaluation, and CCZoo's homo-LR gradient step without
 * encryption. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ccz/ml.h"
#include "core/guard.h"

#define FIELD_MAX 64 /* bytes of one number */

void ccz_ml_dataset_free(ccz_ml_dataset *d)
{
    if (!d)
        return;
    free(d->x);
    free(d->y);
    memset(d, 0, sizeof *d);
}

/* The next line (without its LF and a trailing CR); false at the end. */
static bool next_line(ccz_cursor *c, ccz_span *line)
{
    size_t left = ccz_cursor_remaining(c);
    if (!left)
        return false;
    ccz_span all;
    if (ccz_cursor_peek(c, &all, left))
        return false;
    const uint8_t *nl = memchr(all.ptr, '\n', all.len);
    size_t len = nl ? (size_t)(nl - all.ptr) : all.len;
    if (ccz_cursor_take(c, line, len) || (nl && ccz_cursor_skip(c, 1)))
        return false;
    if (line->len && line->ptr[line->len - 1] == '\r')
        line->len--;
    return true;
}

static size_t count_fields(ccz_span line)
{
    size_t n = 1;
    for (size_t i = 0; i < line.len; i++)
        n += line.ptr[i] == ',';
    return n;
}

/* A finite decimal number filling the whole field. */
static ccz_status parse_number(double *out, ccz_span f, size_t line, size_t field)
{
    char buf[FIELD_MAX + 1];
    CCZ_ENSURE(f.len >= 1 && f.len <= FIELD_MAX, CCZ_ERR_MALFORMED, "line %zu, field %zu: %s", line,
               field, f.len ? "longer than 64 bytes" : "empty");
    for (size_t i = 0; i < f.len; i++)
        CCZ_ENSURE(strchr("0123456789+-.eE", f.ptr[i]) && f.ptr[i], CCZ_ERR_MALFORMED,
                   "line %zu, field %zu: not a decimal number", line, field);
    memcpy(buf, f.ptr, f.len);
    buf[f.len] = 0;
    char *end;
    errno = 0;
    double v = strtod(buf, &end);
    CCZ_ENSURE(end == buf + f.len && isfinite(v) && errno != ERANGE, CCZ_ERR_MALFORMED,
               "line %zu, field %zu: \"%s\" is not a finite number", line, field, buf);
    *out = v;
    return CCZ_OK;
}

static ccz_status parse_row(ccz_ml_dataset *d, ccz_span line, size_t lineno)
{
    size_t cols = d->features + 2, field = 0, at = 0;
    double *x = d->x + d->rows * d->features;
    while (field < cols) {
        const uint8_t *comma = memchr(line.ptr + at, ',', line.len - at);
        size_t len = comma ? (size_t)(comma - (line.ptr + at)) : line.len - at;
        ccz_span f = CCZ_SPAN(line.ptr + at, len);
        double v = 0;
        if (field > 0) /* the id is not used */
            CCZ_GUARD(parse_number(&v, f, lineno, field + 1));
        if (field == 1) {
            CCZ_ENSURE(v == 0 || v == 1, CCZ_ERR_MALFORMED, "line %zu: the label y must be 0 or 1",
                       lineno);
            d->y[d->rows] = (uint8_t)v;
        } else if (field > 1) {
            x[field - 2] = v;
        }
        field++;
        at += len + 1;
        CCZ_ENSURE(comma || field == cols, CCZ_ERR_MALFORMED,
                   "line %zu has %zu fields; the header has %zu", lineno, field, cols);
    }
    CCZ_ENSURE(at > line.len, CCZ_ERR_MALFORMED, "line %zu has more than %zu fields", lineno, cols);
    d->rows++;
    return CCZ_OK;
}

ccz_status ccz_ml_dataset_csv(ccz_ml_dataset *out, const char *text, size_t len)
{
    memset(out, 0, sizeof *out);
    ccz_cursor c;
    ccz_cursor_init(&c, CCZ_SPAN(text, len));
    ccz_span line;
    size_t lineno = 1;
    CCZ_ENSURE(next_line(&c, &line), CCZ_ERR_MALFORMED, "the CSV has no header line");
    size_t cols = count_fields(line);
    CCZ_ENSURE(cols >= 3 && cols <= CCZ_ML_CSV_MAX_FEATURES + 2, CCZ_ERR_MALFORMED,
               "the header has %zu columns: id, y and 1 to %u features", cols,
               CCZ_ML_CSV_MAX_FEATURES);
    /* the number of lines bounds the rows: allocate once */
    size_t lines = 1;
    for (size_t i = 0; i < len; i++)
        lines += text[i] == '\n';
    CCZ_ENSURE(lines - 1 <= CCZ_ML_CSV_MAX_ROWS + 1, CCZ_ERR_TOO_LARGE, "more than %u rows",
               CCZ_ML_CSV_MAX_ROWS);
    ccz_ml_dataset d = {0, cols - 2, NULL, NULL};
    d.x = malloc((lines ? lines : 1) * d.features * sizeof *d.x);
    d.y = malloc(lines ? lines : 1);
    ccz_status s = d.x && d.y ? CCZ_OK : ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    while (s == CCZ_OK && next_line(&c, &line)) {
        lineno++;
        if (line.len == 0)
            continue;
        s = d.rows < CCZ_ML_CSV_MAX_ROWS
                ? parse_row(&d, line, lineno)
                : ccz_fail(CCZ_ERR_TOO_LARGE, "more than %u rows", CCZ_ML_CSV_MAX_ROWS);
    }
    if (s == CCZ_OK && d.rows == 0)
        s = ccz_fail(CCZ_ERR_MALFORMED, "the CSV has a header and no rows");
    if (s) {
        ccz_ml_dataset_free(&d);
        return s;
    }
    *out = d;
    return CCZ_OK;
}

ccz_status ccz_ml_dataset_load(ccz_ml_dataset *out, const char *path)
{
    ccz_buf b = CCZ_BUF_INIT;
    memset(out, 0, sizeof *out);
    ccz_status s = ccz_file_read(&b, path, (size_t)1 << 30);
    if (s == CCZ_OK && (s = ccz_ml_dataset_csv(out, (const char *)b.ptr, b.len)) != CCZ_OK)
        s = ccz_fail_context(s, "%s", path);
    ccz_buf_free(&b);
    return s;
}

static double dot_row(const double *w, const double *x, size_t features)
{
    double z = w[0];
    for (size_t i = 0; i < features; i++)
        z += w[i + 1] * x[i];
    return z;
}

ccz_status ccz_ml_lr_evaluate(double *acc, double *loss, const double *w, size_t n,
                              const ccz_ml_dataset *d)
{
    CCZ_ENSURE(d && d->rows && n == d->features + 1, CCZ_ERR_INVALID_ARGUMENT,
               "%zu weights for %zu features: expected the bias and one per feature", n,
               d ? d->features : 0);
    size_t right = 0;
    double sum = 0;
    bool saturated = false;
    for (size_t r = 0; r < d->rows; r++) {
        double p = 1 / (1 + exp(-dot_row(w, d->x + r * d->features, d->features)));
        right += (p >= 0.5) == (d->y[r] == 1);
        saturated |= p == 0 || p == 1;
        sum += d->y[r] ? log(p) : log(1 - p);
    }
    *acc = (double)right / (double)d->rows;
    *loss = saturated ? NAN : -sum / (double)d->rows;
    return CCZ_OK;
}

ccz_status ccz_ml_lr_step(double *w, size_t n, const ccz_ml_dataset *d, unsigned t,
                          const ccz_ml_lr_opts *o)
{
    CCZ_ENSURE(o && o->version == CCZ_ML_LR_OPTS_VERSION, CCZ_ERR_INVALID_ARGUMENT,
               "ccz_ml_lr_opts: version %u, expected %u", o ? o->version : 0,
               CCZ_ML_LR_OPTS_VERSION);
    CCZ_ENSURE(d && d->rows && n == d->features + 1, CCZ_ERR_INVALID_ARGUMENT,
               "%zu weights for %zu features: expected the bias and one per feature", n,
               d ? d->features : 0);
    double *g = calloc(n, sizeof *g);
    CCZ_ENSURE(g, CCZ_ERR_NOMEM, "out of memory");
    for (size_t r = 0; r < d->rows; r++) {
        const double *x = d->x + r * d->features;
        double z = dot_row(w, x, d->features);
        double e = (o->taylor ? 0.5 + 0.25 * z : 1 / (1 + exp(-z))) - d->y[r];
        g[0] += e;
        for (size_t i = 0; i < d->features; i++)
            g[i + 1] += e * x[i];
    }
    double lr = o->learning_rate / sqrt(1.0 + t), inv = 1.0 / (double)d->rows;
    for (size_t i = 0; i < n; i++)
        w[i] -= lr * (g[i] * inv + o->alpha * w[i]);
    free(g);
    return CCZ_OK;
}
