/* SPDX-License-Identifier: Apache-2.0 */
/* The REST front end: TensorFlow Serving's API under /v1/models/ and KServe's Open Inference
 * Protocol v2 under /v2/. Bodies are untrusted JSON: every tensor is checked against the model's
 * shapes before a row is queued, and every failure is answered in the API's own error form
 * ({"error": "..."}) with TensorFlow Serving's HTTP codes. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "core/guard.h"
#include "svc/serving/internal.h"

enum { K_PREDICT, K_CLASSIFY, K_REGRESS, K_V2_INFER };

typedef struct {
    sv_server *srv;
    http_server *http;
} rest;

static void tf_error(http_request *r, int status, const char *fmt, ...) CCZ_PRINTF(3, 4);
static void tf_error(http_request *r, int status, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_t *j = json_pack("{s:s}", "error", msg);
    if (j)
        http_reply_json(r, status, j);
    else
        http_reply(r, 500, "text/plain", CCZ_LIT("out of memory\n"));
    json_decref(j);
}

/* TensorFlow Serving's HTTP code for a failure of ours. */
static int http_code(ccz_status st)
{
    switch (st) {
    case CCZ_ERR_NOT_FOUND:
        return 404;
    case CCZ_ERR_UNAVAILABLE:
        return 503;
    case CCZ_ERR_NOMEM:
    case CCZ_ERR_INTERNAL:
        return 500;
    case CCZ_ERR_UNSUPPORTED:
        return 501;
    default:
        return 400;
    }
}

/* ---- JSON tensors in -------------------------------------------------------------------------*/

/* Reads the nested lists v of one row (dims[dim..rank) of t) into *dst, advancing it. */
static ccz_status read_row(const json_t *v, const ccz_ml_tensor_info *t, size_t dim, float **dst)
{
    if (dim == t->rank) {
        CCZ_ENSURE(json_is_number(v), CCZ_ERR_INVALID_ARGUMENT,
                   "input '%s': a value is not a number", t->name);
        double d = json_number_value(v);
        *(*dst)++ = (float)d;
        return CCZ_OK;
    }
    CCZ_ENSURE(json_is_array(v), CCZ_ERR_INVALID_ARGUMENT,
               "input '%s': expected a list at dimension %zu", t->name, dim);
    size_t n = json_array_size(v);
    CCZ_ENSURE((int64_t)n == t->dims[dim], CCZ_ERR_INVALID_ARGUMENT,
               "input '%s': dimension %zu has %zu values; the model takes %lld", t->name, dim, n,
               (long long)t->dims[dim]);
    for (size_t i = 0; i < n; i++)
        CCZ_GUARD(read_row(json_array_get(v, i), t, dim + 1, dst));
    return CCZ_OK;
}

/* The number of rows in a columnar value (a list of rows; a rank-1 input's rows are numbers). */
static ccz_status batch_of(size_t *rows, const json_t *v, const ccz_ml_tensor_info *t)
{
    CCZ_ENSURE(json_is_array(v) && json_array_size(v) > 0, CCZ_ERR_INVALID_ARGUMENT,
               "input '%s': expected a non-empty list of rows", t->name);
    *rows = json_array_size(v);
    return CCZ_OK;
}

static int input_index(const sv_model *m, const char *name)
{
    for (size_t i = 0; i < m->n_in; i++)
        if (strcmp(m->in[i].name, name) == 0)
            return (int)i;
    return -1;
}

static ccz_status check_keys(const sv_model *m, const json_t *obj, const char *what)
{
    const char *key;
    const json_t *val;
    json_object_foreach((json_t *)obj, key, val)
    {
        (void)val;
        CCZ_ENSURE(input_index(m, key) >= 0, CCZ_ERR_INVALID_ARGUMENT,
                   "%s: '%s' is not an input of the model", what, key);
    }
    CCZ_ENSURE(json_object_size(obj) == m->n_in, CCZ_ERR_INVALID_ARGUMENT,
               "%s: the model takes %zu inputs, %zu given", what, m->n_in,
               json_object_size(obj));
    return CCZ_OK;
}

/* TensorFlow Serving's row format: a list of instances, each the input's row or, with several
 * inputs, an object of them. */
static ccz_status read_instances(sv_job **out, sv_model *m, const json_t *inst)
{
    CCZ_ENSURE(json_is_array(inst) && json_array_size(inst) > 0, CCZ_ERR_INVALID_ARGUMENT,
               "'instances' must be a non-empty list");
    size_t rows = json_array_size(inst);
    CCZ_GUARD(sv_job_new(out, m, rows));
    float *dst[SV_MAX_IO];
    for (size_t i = 0; i < m->n_in; i++)
        dst[i] = (*out)->in[i];
    for (size_t k = 0; k < rows; k++) {
        const json_t *row = json_array_get(inst, k);
        if (m->n_in == 1 && !json_is_object(row)) {
            CCZ_GUARD(read_row(row, &m->in[0], 1, &dst[0]));
            continue;
        }
        CCZ_ENSURE(json_is_object(row), CCZ_ERR_INVALID_ARGUMENT,
                   "instance %zu: the model takes %zu named inputs; expected an object", k,
                   m->n_in);
        char what[48];
        snprintf(what, sizeof what, "instance %zu", k);
        CCZ_GUARD(check_keys(m, row, what));
        for (size_t i = 0; i < m->n_in; i++)
            CCZ_GUARD(read_row(json_object_get(row, m->in[i].name), &m->in[i], 1, &dst[i]));
    }
    return CCZ_OK;
}

/* The columnar format: the input's whole batch or, with several, an object of them. */
static ccz_status read_inputs(sv_job **out, sv_model *m, const json_t *inputs)
{
    const json_t *val[SV_MAX_IO];
    if (m->n_in == 1 && !json_is_object(inputs)) {
        val[0] = inputs;
    } else {
        CCZ_ENSURE(json_is_object(inputs), CCZ_ERR_INVALID_ARGUMENT,
                   "'inputs': the model takes %zu named inputs; expected an object", m->n_in);
        CCZ_GUARD(check_keys(m, inputs, "'inputs'"));
        for (size_t i = 0; i < m->n_in; i++)
            val[i] = json_object_get(inputs, m->in[i].name);
    }
    size_t rows = 0;
    for (size_t i = 0; i < m->n_in; i++) {
        size_t n;
        CCZ_GUARD(batch_of(&n, val[i], &m->in[i]));
        CCZ_ENSURE(i == 0 || n == rows, CCZ_ERR_INVALID_ARGUMENT,
                   "input '%s' has %zu rows, input '%s' %zu: the batch sizes differ",
                   m->in[i].name, n, m->in[0].name, rows);
        rows = n;
    }
    CCZ_GUARD(sv_job_new(out, m, rows));
    for (size_t i = 0; i < m->n_in; i++) {
        float *dst = (*out)->in[i];
        for (size_t k = 0; k < rows; k++)
            CCZ_GUARD(read_row(json_array_get(val[i], k), &m->in[i], 1, &dst));
    }
    return CCZ_OK;
}

/* classify and regress: examples of features by name, the context's features shared by all;
 * the model's one input is the feature of its name. */
static ccz_status read_examples(sv_job **out, sv_model *m, const json_t *body)
{
    const json_t *ex = json_object_get(body, "examples"), *ctx = json_object_get(body, "context");
    CCZ_ENSURE(json_is_array(ex) && json_array_size(ex) > 0, CCZ_ERR_INVALID_ARGUMENT,
               "'examples' must be a non-empty list of objects");
    CCZ_ENSURE(!ctx || json_is_object(ctx), CCZ_ERR_INVALID_ARGUMENT,
               "'context' must be an object");
    size_t rows = json_array_size(ex);
    const ccz_ml_tensor_info *t = &m->in[0];
    CCZ_GUARD(sv_job_new(out, m, rows));
    float *dst = (*out)->in[0];
    for (size_t k = 0; k < rows; k++) {
        const json_t *e = json_array_get(ex, k);
        CCZ_ENSURE(json_is_object(e), CCZ_ERR_INVALID_ARGUMENT, "example %zu is not an object",
                   k);
        const json_t *f = json_object_get(e, t->name);
        if (!f && ctx)
            f = json_object_get(ctx, t->name);
        CCZ_ENSURE(f, CCZ_ERR_INVALID_ARGUMENT, "example %zu has no feature '%s'", k, t->name);
        if (t->rank == 1) { /* one number a row: a bare number or a one-element list */
            if (json_is_array(f) && json_array_size(f) == 1)
                f = json_array_get(f, 0);
            CCZ_GUARD(read_row(f, t, 1, &dst));
            continue;
        }
        /* a flat list of the row's values, or the row's nested lists */
        if (json_is_array(f) && json_array_size(f) == t->row_elems && t->rank > 2) {
            for (size_t i = 0; i < t->row_elems; i++) {
                const json_t *v = json_array_get(f, i);
                CCZ_ENSURE(json_is_number(v), CCZ_ERR_INVALID_ARGUMENT,
                           "example %zu: feature '%s' holds a value that is not a number", k,
                           t->name);
                *dst++ = (float)json_number_value(v);
            }
            continue;
        }
        CCZ_GUARD(read_row(f, t, 1, &dst));
    }
    return CCZ_OK;
}

/* ---- JSON tensors out ------------------------------------------------------------------------*/

static ccz_status put_float(ccz_buf *b, float v)
{
    if (isnan(v))
        return ccz_buf_append_str(b, "NaN");
    if (isinf(v))
        return ccz_buf_append_str(b, v > 0 ? "Infinity" : "-Infinity");
    char num[32];
    int n = snprintf(num, sizeof num, "%.9g", (double)v);
    return ccz_buf_append(b, num, (size_t)n);
}

/* One row (dims[dim..rank)) as nested lists; a rank-1 tensor's row is a number. */
static ccz_status put_row(ccz_buf *b, const float **src, const ccz_ml_tensor_info *t, size_t dim)
{
    if (dim == t->rank)
        return put_float(b, *(*src)++);
    CCZ_GUARD(ccz_buf_append(b, "[", 1));
    for (int64_t i = 0; i < t->dims[dim]; i++) {
        if (i)
            CCZ_GUARD(ccz_buf_append(b, ",", 1));
        CCZ_GUARD(put_row(b, src, t, dim + 1));
    }
    return ccz_buf_append(b, "]", 1);
}

static ccz_status put_string(ccz_buf *b, const char *s)
{
    json_t *j = json_string(s);
    char *text = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
    json_decref(j);
    CCZ_ENSURE(text, CCZ_ERR_NOMEM, "out of memory");
    ccz_status st = ccz_buf_append_str(b, text);
    free(text);
    return st;
}

static ccz_status tf_predict_body(ccz_buf *b, const sv_job *j)
{
    const sv_model *m = j->m;
    const float *src[SV_MAX_IO];
    for (size_t i = 0; i < m->n_out; i++)
        src[i] = j->out[i];
    if (j->columnar) {
        CCZ_GUARD(ccz_buf_append_str(b, m->n_out == 1 ? "{\"outputs\":" : "{\"outputs\":{"));
        for (size_t i = 0; i < m->n_out; i++) {
            if (m->n_out > 1) {
                CCZ_GUARD(ccz_buf_append_str(b, i ? "," : ""));
                CCZ_GUARD(put_string(b, m->out[i].name));
                CCZ_GUARD(ccz_buf_append(b, ":", 1));
            }
            CCZ_GUARD(ccz_buf_append(b, "[", 1));
            for (size_t k = 0; k < j->rows; k++) {
                CCZ_GUARD(ccz_buf_append_str(b, k ? "," : ""));
                CCZ_GUARD(put_row(b, &src[i], &m->out[i], 1));
            }
            CCZ_GUARD(ccz_buf_append(b, "]", 1));
        }
        return ccz_buf_append_str(b, m->n_out == 1 ? "}\n" : "}}\n");
    }
    CCZ_GUARD(ccz_buf_append_str(b, "{\"predictions\":["));
    for (size_t k = 0; k < j->rows; k++) {
        CCZ_GUARD(ccz_buf_append_str(b, k ? "," : ""));
        if (m->n_out == 1) {
            CCZ_GUARD(put_row(b, &src[0], &m->out[0], 1));
            continue;
        }
        CCZ_GUARD(ccz_buf_append(b, "{", 1));
        for (size_t i = 0; i < m->n_out; i++) {
            CCZ_GUARD(ccz_buf_append_str(b, i ? "," : ""));
            CCZ_GUARD(put_string(b, m->out[i].name));
            CCZ_GUARD(ccz_buf_append(b, ":", 1));
            CCZ_GUARD(put_row(b, &src[i], &m->out[i], 1));
        }
        CCZ_GUARD(ccz_buf_append(b, "}", 1));
    }
    return ccz_buf_append_str(b, "]}\n");
}

/* The output classify reads: the model's one output with more than one value a row. */
static int scores_output(const sv_model *m)
{
    int found = -1;
    for (size_t i = 0; i < m->n_out; i++)
        if (m->out[i].rank == 2 && m->out[i].row_elems > 1) {
            if (found >= 0)
                return -1;
            found = (int)i;
        }
    return found;
}

static ccz_status tf_classify_body(ccz_buf *b, const sv_job *j)
{
    const sv_model *m = j->m;
    int o = scores_output(m);
    size_t n = m->out[o].row_elems;
    CCZ_GUARD(ccz_buf_append_str(b, "{\"results\":["));
    for (size_t k = 0; k < j->rows; k++) {
        CCZ_GUARD(ccz_buf_append_str(b, k ? ",[" : "["));
        for (size_t c = 0; c < n; c++) {
            CCZ_GUARD(ccz_buf_printf(b, "%s[\"%zu\",", c ? "," : "", c));
            CCZ_GUARD(put_float(b, j->out[o][k * n + c]));
            CCZ_GUARD(ccz_buf_append(b, "]", 1));
        }
        CCZ_GUARD(ccz_buf_append(b, "]", 1));
    }
    return ccz_buf_append_str(b, "]}\n");
}

static ccz_status tf_regress_body(ccz_buf *b, const sv_job *j)
{
    CCZ_GUARD(ccz_buf_append_str(b, "{\"results\":["));
    for (size_t k = 0; k < j->rows; k++) {
        CCZ_GUARD(ccz_buf_append_str(b, k ? "," : ""));
        CCZ_GUARD(put_float(b, j->out[0][k]));
    }
    return ccz_buf_append_str(b, "]}\n");
}

static ccz_status put_shape(ccz_buf *b, const ccz_ml_tensor_info *t, int64_t batch)
{
    CCZ_GUARD(ccz_buf_printf(b, "[%lld", (long long)batch));
    for (size_t d = 1; d < t->rank; d++)
        CCZ_GUARD(ccz_buf_printf(b, ",%lld", (long long)t->dims[d]));
    return ccz_buf_append(b, "]", 1);
}

static ccz_status v2_infer_body(ccz_buf *b, const sv_job *j)
{
    const sv_model *m = j->m;
    CCZ_GUARD(ccz_buf_append_str(b, "{\"model_name\":"));
    CCZ_GUARD(put_string(b, m->name));
    CCZ_GUARD(ccz_buf_printf(b, ",\"model_version\":\"%lld\"", (long long)m->version));
    if (j->id[0]) {
        CCZ_GUARD(ccz_buf_append_str(b, ",\"id\":"));
        CCZ_GUARD(put_string(b, j->id));
    }
    CCZ_GUARD(ccz_buf_append_str(b, ",\"outputs\":["));
    bool first = true;
    for (size_t i = 0; i < m->n_out; i++) {
        if (!(j->out_mask & (1u << i)))
            continue;
        CCZ_GUARD(ccz_buf_append_str(b, first ? "{\"name\":" : ",{\"name\":"));
        first = false;
        CCZ_GUARD(put_string(b, m->out[i].name));
        CCZ_GUARD(ccz_buf_append_str(b, ",\"datatype\":\"FP32\",\"shape\":"));
        CCZ_GUARD(put_shape(b, &m->out[i], (int64_t)j->rows));
        CCZ_GUARD(ccz_buf_append_str(b, ",\"data\":["));
        size_t n = j->rows * m->out[i].row_elems;
        for (size_t k = 0; k < n; k++) {
            if (k)
                CCZ_GUARD(ccz_buf_append(b, ",", 1));
            CCZ_GUARD(put_float(b, j->out[i][k]));
        }
        CCZ_GUARD(ccz_buf_append_str(b, "]}"));
    }
    return ccz_buf_append_str(b, "]}\n");
}

/* ---- answering later -------------------------------------------------------------------------*/

static void request_gone(void *arg)
{
    sv_job *j = arg;
    j->req = NULL;
    atomic_store(&j->gone, true);
}

/* On the loop: the job has run. */
static void answer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    sv_job *j = arg;
    http_request *r = j->req;
    if (r) {
        if (j->st != CCZ_OK) {
            tf_error(r, http_code(j->st), "%s", j->error);
        } else {
            ccz_buf b = CCZ_BUF_INIT;
            ccz_status st = j->kind == K_PREDICT    ? tf_predict_body(&b, j)
                            : j->kind == K_CLASSIFY ? tf_classify_body(&b, j)
                            : j->kind == K_REGRESS  ? tf_regress_body(&b, j)
                                                    : v2_infer_body(&b, j);
            if (st == CCZ_OK)
                http_reply(r, 200, "application/json", ccz_buf_span(&b));
            else
                tf_error(r, 500, "%s", ccz_error_detail());
            ccz_buf_free(&b);
        }
    }
    sv_job_free(j);
}

/* On the batcher's thread: to the loop. */
static void deliver(sv_job *j)
{
    if (event_base_once(http_server_base(j->m->srv->http), -1, EV_TIMEOUT, answer, j, NULL) != 0)
        ccz_log(CCZ_LOG_ERROR, "serving: cannot hand an answer to the REST loop");
}

/* Queues a filled job and defers the request until it has run. */
static void submit(http_request *r, sv_job *j, int kind)
{
    j->kind = kind;
    j->req = r;
    j->deliver = deliver;
    http_request_defer(r, request_gone, j);
    ccz_status st = sv_job_submit(j);
    if (st != CCZ_OK) {
        j->req = NULL;
        tf_error(r, http_code(st), "%s", ccz_error_detail());
        sv_job_free(j);
    }
}
