/* SPDX-License-Identifier: Apache-2.0 */
/* CCZoo's model and data files for encrypted LR inference (include/ccz/he_lr.h): comma-separated
 * numbers, LF or CRLF lines, a leading UTF-8 byte-order mark skipped. The files are untrusted:
 * read line by line through the cursor, every field bounded, every number finite, every row as
 * wide as the header. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ccz/he_lr.h"
#include "core/guard.h"

#define FIELD_MAX 64 /* characters of one number */

/* The next line without its LF or CRLF; false at the end of the input. */
static bool next_line(ccz_cursor *c, ccz_span *line)
{
    size_t left = ccz_cursor_remaining(c);
    ccz_span rest;
    if (!left || ccz_cursor_peek(c, &rest, left) != CCZ_OK)
        return false;
    const uint8_t *nl = memchr(rest.ptr, '\n', rest.len);
    size_t len = nl ? (size_t)(nl - rest.ptr) : rest.len;
    if (ccz_cursor_take(c, line, len) != CCZ_OK)
        return false;
    if (nl)
        (void)!ccz_cursor_skip(c, 1);
    if (line->len && line->ptr[line->len - 1] == '\r')
        line->len--;
    return true;
}

/* Past a UTF-8 byte-order mark at the start of a file (spreadsheets write one): read as part of
 * the first number, it would be refused as "'-0.5' is not a finite number", the mark unseen. */
static void skip_bom(ccz_cursor *c)
{
    ccz_span b;
    if (ccz_cursor_remaining(c) >= 3 && ccz_cursor_peek(c, &b, 3) == CCZ_OK &&
        memcmp(b.ptr, "\xEF\xBB\xBF", 3) == 0)
        (void)!ccz_cursor_skip(c, 3);
}

static bool blank(ccz_span line)
{
    for (size_t i = 0; i < line.len; i++)
        if (line.ptr[i] != ' ' && line.ptr[i] != '\t')
            return false;
    return true;
}

static size_t count_fields(ccz_span line)
{
    size_t n = 1;
    for (size_t i = 0; i < line.len; i++)
        n += line.ptr[i] == ',';
    return n;
}

/* Field k of a line, from *pos on: the bytes up to the next comma. */
static ccz_span next_field(ccz_span line, size_t *pos)
{
    size_t start = *pos, end = start;
    while (end < line.len && line.ptr[end] != ',')
        end++;
    *pos = end + 1;
    return CCZ_SPAN(line.ptr + start, end - start);
}

/* A finite decimal (or hexadecimal) number in a double's range, surrounding blanks allowed. */
static ccz_status number(double *out, ccz_span f, size_t line, size_t col)
{
    while (f.len && (f.ptr[0] == ' ' || f.ptr[0] == '\t'))
        f = CCZ_SPAN(f.ptr + 1, f.len - 1);
    while (f.len && (f.ptr[f.len - 1] == ' ' || f.ptr[f.len - 1] == '\t'))
        f.len--;
    CCZ_ENSURE(f.len, CCZ_ERR_MALFORMED, "line %zu, column %zu: empty field", line, col);
    CCZ_ENSURE(f.len < FIELD_MAX, CCZ_ERR_MALFORMED,
               "line %zu, column %zu: a field of %zu characters is not a number", line, col, f.len);
    char buf[FIELD_MAX];
    memcpy(buf, f.ptr, f.len);
    buf[f.len] = 0;
    char *end = NULL;
    errno = 0; /* ERANGE: beyond a double's range, or below it (read as 0 or a denormal) */
    double v = strtod(buf, &end);
    CCZ_ENSURE(end == buf + f.len && isfinite(v) && errno != ERANGE, CCZ_ERR_MALFORMED,
               "line %zu, column %zu: '%s' is not a finite number", line, col, buf);
    *out = v;
    return CCZ_OK;
}

/* A line of text: no quotes, and no NUL byte (a header's would pass unseen, a field's would end
 * the number early: "'1' is not a finite number" for "1<NUL>2"). */
static ccz_status no_quotes(ccz_span line, size_t no)
{
    const uint8_t *nul = memchr(line.ptr, 0, line.len);
    CCZ_ENSURE(!nul, CCZ_ERR_MALFORMED, "line %zu, byte %zu: a NUL byte (the file must be text)",
               no, nul ? (size_t)(nul - line.ptr) + 1 : 0);
    CCZ_ENSURE(!memchr(line.ptr, '"', line.len), CCZ_ERR_UNSUPPORTED,
               "line %zu: quoted fields are not read (numbers only)", no);
    return CCZ_OK;
}

ccz_status ccz_he_lr_model_parse(ccz_he_lr_model *out, ccz_span csv)
{
    memset(out, 0, sizeof *out);
    ccz_cursor c;
    ccz_cursor_init(&c, csv);
    skip_bom(&c);
    ccz_span line, first = {0};
    size_t no = 0, at = 0;
    while (next_line(&c, &line)) {
        no++;
        if (blank(line))
            continue;
        CCZ_ENSURE(!first.ptr, CCZ_ERR_MALFORMED,
                   "model: line %zu: the model is one line (bias, then the weights)", no);
        first = line;
        at = no;
    }
    CCZ_ENSURE(first.ptr, CCZ_ERR_MALFORMED, "model: the file is empty");
    ccz_status s = no_quotes(first, at);
    if (s)
        return ccz_fail_context(s, "model");
    size_t fields = count_fields(first);
    CCZ_ENSURE(fields >= 2 && fields - 1 <= CCZ_HE_LR_MAX_FEATURES, CCZ_ERR_MALFORMED,
               "model: %zu weights; between 1 and %d", fields - 1, CCZ_HE_LR_MAX_FEATURES);
    double *w = calloc(fields - 1, sizeof *w);
    CCZ_ENSURE(w, CCZ_ERR_NOMEM, "out of memory");
    size_t pos = 0;
    s = number(&out->bias, next_field(first, &pos), at, 1);
    for (size_t k = 0; s == CCZ_OK && k + 1 < fields; k++)
        s = number(&w[k], next_field(first, &pos), at, k + 2);
    if (s) {
        free(w);
        return ccz_fail_context(s, "model");
    }
    out->features = fields - 1;
    out->weights = w;
    return CCZ_OK;
}

void ccz_he_lr_model_free(ccz_he_lr_model *m)
{
    if (!m)
        return;
    free(m->weights);
    memset(m, 0, sizeof *m);
}

/* Grows the data's arrays to hold `rows` samples. */
static ccz_status grow(ccz_he_lr_data *d, size_t *cap, size_t rows)
{
    if (rows <= *cap)
        return CCZ_OK;
    size_t ncap = *cap ? *cap * 2 : 1024;
    double *x = realloc(d->x, ncap * d->features * sizeof *x);
    CCZ_ENSURE(x, CCZ_ERR_NOMEM, "out of memory");
    d->x = x;
    uint8_t *y = realloc(d->y, ncap);
    CCZ_ENSURE(y, CCZ_ERR_NOMEM, "out of memory");
    d->y = y;
    *cap = ncap;
    return CCZ_OK;
}

/* One sample's line into row r. */
static ccz_status sample(ccz_he_lr_data *d, ccz_span line, size_t no, size_t r)
{
    CCZ_GUARD(no_quotes(line, no));
    size_t fields = count_fields(line);
    CCZ_ENSURE(fields == d->features + 1, CCZ_ERR_MALFORMED,
               "line %zu has %zu fields; the header has %zu", no, fields, d->features + 1);
    size_t pos = 0;
    for (size_t k = 0; k < d->features; k++)
        CCZ_GUARD(number(&d->x[r * d->features + k], next_field(line, &pos), no, k + 1));
    double label;
    CCZ_GUARD(number(&label, next_field(line, &pos), no, fields));
    CCZ_ENSURE(label == 0 || label == 1, CCZ_ERR_MALFORMED,
               "line %zu: the label (last column) is %g; labels are 0 or 1", no, label);
    d->y[r] = (uint8_t)label;
    return CCZ_OK;
}

static ccz_status data_parse(ccz_he_lr_data *d, ccz_span csv)
{
    ccz_cursor c;
    ccz_cursor_init(&c, csv);
    skip_bom(&c);
    ccz_span line;
    size_t no = 0, cap = 0;
    bool header = false;
    while (next_line(&c, &line)) {
        no++;
        if (blank(line))
            continue;
        if (!header) {
            CCZ_GUARD(no_quotes(line, no));
            size_t fields = count_fields(line);
            CCZ_ENSURE(fields >= 2 && fields - 1 <= CCZ_HE_LR_MAX_FEATURES, CCZ_ERR_MALFORMED,
                       "the header names %zu features and the label; between 1 and %d "
                       "features",
                       fields - 1, CCZ_HE_LR_MAX_FEATURES);
            d->features = fields - 1;
            header = true;
            continue;
        }
        CCZ_ENSURE(d->rows < CCZ_HE_LR_MAX_ROWS, CCZ_ERR_TOO_LARGE, "more than %u samples",
                   CCZ_HE_LR_MAX_ROWS);
        CCZ_GUARD(grow(d, &cap, d->rows + 1));
        CCZ_GUARD(sample(d, line, no, d->rows));
        d->rows++;
    }
    CCZ_ENSURE(header, CCZ_ERR_MALFORMED, "the file is empty (a header line, then the samples)");
    CCZ_ENSURE(d->rows, CCZ_ERR_MALFORMED, "no samples after the header");
    return CCZ_OK;
}

ccz_status ccz_he_lr_data_parse(ccz_he_lr_data *out, ccz_span csv)
{
    memset(out, 0, sizeof *out);
    ccz_status s = data_parse(out, csv);
    if (s) {
        ccz_he_lr_data_free(out);
        return ccz_fail_context(s, "data");
    }
    return CCZ_OK;
}

void ccz_he_lr_data_free(ccz_he_lr_data *d)
{
    if (!d)
        return;
    free(d->x);
    free(d->y);
    memset(d, 0, sizeof *d);
}

ccz_status ccz_he_lr_model_load(ccz_he_lr_model *out, const char *path)
{
    ccz_buf b = CCZ_BUF_INIT;
    memset(out, 0, sizeof *out);
    ccz_status s = ccz_file_read(&b, path, 1u << 20);
    if (s == CCZ_OK)
        s = ccz_he_lr_model_parse(out, ccz_buf_span(&b));
    ccz_buf_free(&b);
    return s ? ccz_fail_context(s, "%s", path) : CCZ_OK;
}

ccz_status ccz_he_lr_data_load(ccz_he_lr_data *out, const char *path)
{
    ccz_buf b = CCZ_BUF_INIT;
    memset(out, 0, sizeof *out);
    ccz_status s = ccz_file_read(&b, path, (size_t)4 << 30);
    if (s == CCZ_OK)
        s = ccz_he_lr_data_parse(out, ccz_buf_span(&b));
    ccz_buf_free(&b);
    return s ? ccz_fail_context(s, "%s", path) : CCZ_OK;
}
