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
    free(d->ids);
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

/* A text file has no NUL byte: a line with one is refused as such (a header's NUL would be
 * counted as part of a column's name, a field's read as "not a decimal number"). */
static ccz_status text_line(ccz_span line, size_t lineno)
{
    const uint8_t *nul = memchr(line.ptr, 0, line.len);
    CCZ_ENSURE(!nul, CCZ_ERR_MALFORMED, "line %zu, byte %zu: a NUL byte (the CSV must be text)",
               lineno, nul ? (size_t)(nul - line.ptr) + 1 : 0);
    return CCZ_OK;
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

/* How a line's fields map to the row: the id's and the label's field (-1: none). */
typedef struct {
    ccz_ml_csv_layout layout; /* 0: CCZoo's, ids ignored */
    size_t cols;
    int id_field, y_field;
} layout_map;

/* An id: a decimal integer in [0, 2^53). */
static ccz_status parse_id(int64_t *out, ccz_span f, size_t line)
{
    CCZ_ENSURE(f.len >= 1 && f.len <= 16, CCZ_ERR_MALFORMED,
               "line %zu: the id must be an integer from 0 to 2^53 - 1", line);
    int64_t v = 0;
    for (size_t i = 0; i < f.len; i++) {
        CCZ_ENSURE(f.ptr[i] >= '0' && f.ptr[i] <= '9', CCZ_ERR_MALFORMED,
                   "line %zu: the id must be an integer from 0 to 2^53 - 1", line);
        v = v * 10 + (f.ptr[i] - '0');
    }
    CCZ_ENSURE(v < ((int64_t)1 << 53), CCZ_ERR_MALFORMED,
               "line %zu: the id must be an integer from 0 to 2^53 - 1", line);
    *out = v;
    return CCZ_OK;
}

static ccz_status parse_row(ccz_ml_dataset *d, const layout_map *m, ccz_span line, size_t lineno)
{
    size_t cols = m->cols, field = 0, at = 0, xi = 0;
    double *x = d->x + d->rows * d->features;
    while (field < cols) {
        const uint8_t *comma = memchr(line.ptr + at, ',', line.len - at);
        size_t len = comma ? (size_t)(comma - (line.ptr + at)) : line.len - at;
        ccz_span f = CCZ_SPAN(line.ptr + at, len);
        double v = 0;
        if ((int)field == m->id_field) {
            if (d->ids) /* else the id is not used */
                CCZ_GUARD(parse_id(&d->ids[d->rows], f, lineno));
        } else {
            CCZ_GUARD(parse_number(&v, f, lineno, field + 1));
            if ((int)field == m->y_field) {
                CCZ_ENSURE(v == 0 || v == 1, CCZ_ERR_MALFORMED,
                           "line %zu: the label y must be 0 or 1", lineno);
                d->y[d->rows] = (uint8_t)v;
            } else {
                x[xi++] = v;
            }
        }
        field++;
        at += len + 1;
        CCZ_ENSURE(comma || field == cols, CCZ_ERR_MALFORMED,
                   "line %zu has %zu fields; the header has %zu", lineno, field, cols);
    }
    CCZ_ENSURE(at > line.len, CCZ_ERR_MALFORMED, "line %zu has more than %zu fields", lineno, cols);
    if (m->layout == CCZ_ML_CSV_SKLEARN)
        d->ids[d->rows] = (int64_t)d->rows;
    d->rows++;
    return CCZ_OK;
}

/* scikit-learn's header: "ROWS,FEATURES,names...": the columns are FEATURES + 1. */
static ccz_status sklearn_header(layout_map *m, size_t *rows, ccz_span line)
{
    size_t v[2] = {0, 0}, k = 0, at = 0;
    for (; k < 2; k++) {
        const uint8_t *comma = at < line.len ? memchr(line.ptr + at, ',', line.len - at) : NULL;
        size_t len = comma ? (size_t)(comma - (line.ptr + at)) : line.len - at;
        /* the row count is followed by a comma; the feature count may end the line */
        CCZ_ENSURE(at <= line.len && (comma || k == 1) && len >= 1 && len <= 7, CCZ_ERR_MALFORMED,
                   "the header must start with the number of rows and of features");
        for (size_t i = 0; i < len; i++) {
            uint8_t ch = line.ptr[at + i];
            CCZ_ENSURE(ch >= '0' && ch <= '9', CCZ_ERR_MALFORMED,
                       "the header must start with the number of rows and of features");
            v[k] = v[k] * 10 + (size_t)(ch - '0');
        }
        at += len + 1;
    }
    CCZ_ENSURE(v[0] >= 1 && v[0] <= CCZ_ML_CSV_MAX_ROWS && v[1] >= 1 &&
                   v[1] <= CCZ_ML_CSV_MAX_FEATURES,
               CCZ_ERR_MALFORMED, "the header announces %zu rows of %zu features", v[0], v[1]);
    *rows = v[0];
    m->cols = v[1] + 1;
    m->id_field = -1;
    m->y_field = (int)v[1];
    return CCZ_OK;
}

/* Ids must be unique: sorted copy, neighbours compared. */
static int cmp_id(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static ccz_status unique_ids(const ccz_ml_dataset *d)
{
    int64_t *s = malloc(d->rows * sizeof *s);
    CCZ_ENSURE(s, CCZ_ERR_NOMEM, "out of memory");
    memcpy(s, d->ids, d->rows * sizeof *s);
    qsort(s, d->rows, sizeof *s, cmp_id);
    ccz_status st = CCZ_OK;
    for (size_t i = 1; i < d->rows && st == CCZ_OK; i++)
        if (s[i] == s[i - 1])
            st = ccz_fail(CCZ_ERR_MALFORMED, "id %lld appears more than once", (long long)s[i]);
    free(s);
    return st;
}

static ccz_status parse_csv(ccz_ml_dataset *out, const char *text, size_t len,
                            ccz_ml_csv_layout layout)
{
    memset(out, 0, sizeof *out);
    ccz_cursor c;
    ccz_cursor_init(&c, CCZ_SPAN(text, len));
    ccz_span line;
    size_t lineno = 1, announced = 0;
    CCZ_ENSURE(next_line(&c, &line), CCZ_ERR_MALFORMED, "the CSV has no header line");
    CCZ_GUARD(text_line(line, lineno));
    layout_map m = {layout, count_fields(line), 0, layout == CCZ_ML_CSV_ID ? -1 : 1};
    if (layout == CCZ_ML_CSV_SKLEARN) {
        CCZ_GUARD(sklearn_header(&m, &announced, line));
    } else {
        size_t min = layout == CCZ_ML_CSV_ID ? 2 : 3, fixed = min - 1;
        CCZ_ENSURE(m.cols >= min && m.cols <= CCZ_ML_CSV_MAX_FEATURES + fixed, CCZ_ERR_MALFORMED,
                   "the header has %zu columns: %s and 1 to %u features", m.cols,
                   layout == CCZ_ML_CSV_ID ? "id" : "id, y", CCZ_ML_CSV_MAX_FEATURES);
    }
    size_t labelled = m.y_field >= 0;
    /* the number of lines bounds the rows: allocate once */
    size_t lines = 1;
    for (size_t i = 0; i < len; i++)
        lines += text[i] == '\n';
    CCZ_ENSURE(lines - 1 <= CCZ_ML_CSV_MAX_ROWS + 1, CCZ_ERR_TOO_LARGE, "more than %u rows",
               CCZ_ML_CSV_MAX_ROWS);
    ccz_ml_dataset d = {0, m.cols - labelled - (m.id_field >= 0), NULL, NULL, NULL};
    d.x = malloc((lines ? lines : 1) * d.features * sizeof *d.x);
    d.y = labelled ? malloc(lines ? lines : 1) : NULL;
    d.ids = layout ? malloc((lines ? lines : 1) * sizeof *d.ids) : NULL;
    ccz_status s = d.x && (d.y || !labelled) && (d.ids || !layout)
                       ? CCZ_OK
                       : ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    while (s == CCZ_OK && next_line(&c, &line)) {
        lineno++;
        if ((s = text_line(line, lineno)) != CCZ_OK || line.len == 0)
            continue;
        s = d.rows < CCZ_ML_CSV_MAX_ROWS
                ? parse_row(&d, &m, line, lineno)
                : ccz_fail(CCZ_ERR_TOO_LARGE, "more than %u rows", CCZ_ML_CSV_MAX_ROWS);
    }
    if (s == CCZ_OK && d.rows == 0)
        s = ccz_fail(CCZ_ERR_MALFORMED, "the CSV has a header and no rows");
    if (s == CCZ_OK && layout == CCZ_ML_CSV_SKLEARN && d.rows != announced)
        s = ccz_fail(CCZ_ERR_MALFORMED, "the header announces %zu rows; the file has %zu",
                     announced, d.rows);
    if (s == CCZ_OK && layout)
        s = unique_ids(&d);
    if (s) {
        ccz_ml_dataset_free(&d);
        return s;
    }
    *out = d;
    return CCZ_OK;
}

ccz_status ccz_ml_dataset_csv(ccz_ml_dataset *out, const char *text, size_t len)
{
    return parse_csv(out, text, len, 0);
}

ccz_status ccz_ml_dataset_parse(ccz_ml_dataset *out, const char *text, size_t len,
                                ccz_ml_csv_layout layout)
{
    memset(out, 0, sizeof *out);
    CCZ_ENSURE(layout == CCZ_ML_CSV_ID_Y || layout == CCZ_ML_CSV_ID || layout == CCZ_ML_CSV_SKLEARN,
               CCZ_ERR_INVALID_ARGUMENT, "unknown CSV layout %d", (int)layout);
    return parse_csv(out, text, len, layout);
}

ccz_status ccz_ml_dataset_read(ccz_ml_dataset *out, const char *path, ccz_ml_csv_layout layout)
{
    ccz_buf b = CCZ_BUF_INIT;
    memset(out, 0, sizeof *out);
    ccz_status s = ccz_file_read(&b, path, (size_t)1 << 30);
    if (s == CCZ_OK &&
        (s = ccz_ml_dataset_parse(out, (const char *)b.ptr, b.len, layout)) != CCZ_OK)
        s = ccz_fail_context(s, "%s", path);
    ccz_buf_free(&b);
    return s;
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
    CCZ_ENSURE(d && d->rows && d->y && n == d->features + 1, CCZ_ERR_INVALID_ARGUMENT,
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
    CCZ_ENSURE(d && d->rows && d->y && n == d->features + 1, CCZ_ERR_INVALID_ARGUMENT,
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
