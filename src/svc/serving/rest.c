/* SPDX-License-Identifier: Apache-2.0 */
/* The REST front end: TensorFlow Serving's API under /v1/models/ and KServe's Open Inference
 * Protocol v2 under /v2/. Bodies are untrusted JSON: every tensor is checked against the model's
 * shapes before a row is queued, and every failure is answered in the API's own error form
 * ({"error": "..."}) with TensorFlow Serving's HTTP codes. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "core/guard.h"
#include "svc/serving/internal.h"

enum { K_PREDICT, K_CLASSIFY, K_REGRESS, K_V2_INFER };

#define BINARY_REFUSED                                                                             \
    "the binary tensor data extension is not served: send the values as JSON, in 'data'"

/* TensorFlow Serving's HTTP code for a failure of ours. */
int sv_rest_code(ccz_status st, bool ran)
{
    if (st == CCZ_ERR_UNAVAILABLE)
        return 503;
    if (ran || st == CCZ_ERR_NOMEM) /* a run's request was checked before it was queued */
        return 500;
    switch (st) {
    case CCZ_ERR_NOT_FOUND:
        return 404;
    case CCZ_ERR_UNSUPPORTED:
        return 501;
    default: {
        ccz_class k = ccz_status_class(st);
        return k == CCZ_CLASS_USAGE || k == CCZ_CLASS_INPUT || k == CCZ_CLASS_VERIFICATION ? 400
                                                                                           : 500;
    }
    }
}

static int http_code(ccz_status st)
{
    return sv_rest_code(st, false);
}

/* ---- JSON tensors in -------------------------------------------------------------------------*/

/* A JSON number as float32: one beyond its range would become an infinity the client never
 * sent, and is refused. */
static ccz_status to_float(float *out, const json_t *v, const char *name)
{
    double d = json_number_value(v);
    CCZ_ENSURE(d >= -FLT_MAX && d <= FLT_MAX, CCZ_ERR_INVALID_ARGUMENT,
               "input '%s': the value %g is out of range for float32 (at most %g in magnitude)",
               name, d, (double)FLT_MAX);
    *out = (float)d;
    return CCZ_OK;
}

/* Reads the nested lists v of one row (dims[dim..rank) of t) into *dst, advancing it. */
static ccz_status read_row(const json_t *v, const ccz_ml_tensor_info *t, size_t dim, float **dst)
{
    if (dim == t->rank) {
        CCZ_ENSURE(json_is_number(v), CCZ_ERR_INVALID_ARGUMENT,
                   "input '%s': a value is not a number", t->name);
        CCZ_GUARD(to_float(*dst, v, t->name));
        (*dst)++;
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
    json_object_foreach ((json_t *)obj, key, val) {
        (void)val;
        CCZ_ENSURE(input_index(m, key) >= 0, CCZ_ERR_INVALID_ARGUMENT,
                   "%s: '%s' is not an input of the model", what, key);
    }
    CCZ_ENSURE(json_object_size(obj) == m->n_in, CCZ_ERR_INVALID_ARGUMENT,
               "%s: the model takes %zu inputs, %zu given", what, m->n_in, json_object_size(obj));
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
        size_t n = 0;
        CCZ_GUARD(batch_of(&n, val[i], &m->in[i]));
        CCZ_ENSURE(i == 0 || n == rows, CCZ_ERR_INVALID_ARGUMENT,
                   "input '%s' has %zu rows, input '%s' %zu: the batch sizes differ", m->in[i].name,
                   n, m->in[0].name, rows);
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
        CCZ_ENSURE(json_is_object(e), CCZ_ERR_INVALID_ARGUMENT, "example %zu is not an object", k);
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
        /* a flat list of the row's values, or the row's nested lists (a list first: nested,
         * even when the first dimension alone holds as many values as the row) */
        if (json_is_array(f) && json_array_size(f) == t->row_elems && t->rank > 2 &&
            !json_is_array(json_array_get(f, 0))) {
            for (size_t i = 0; i < t->row_elems; i++) {
                const json_t *x = json_array_get(f, i);
                CCZ_ENSURE(json_is_number(x), CCZ_ERR_INVALID_ARGUMENT,
                           "example %zu: feature '%s' holds a value that is not a number", k,
                           t->name);
                CCZ_GUARD(to_float(dst++, x, t->name));
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

ccz_status sv_rest_body(ccz_buf *b, const sv_job *j)
{
    return j->kind == K_PREDICT    ? tf_predict_body(b, j)
           : j->kind == K_CLASSIFY ? tf_classify_body(b, j)
           : j->kind == K_REGRESS  ? tf_regress_body(b, j)
                                   : v2_infer_body(b, j);
}

/* ---- answering later -------------------------------------------------------------------------*/

/* The values the answer to j holds: every output (predict), the scores (classify), the one
 * output (regress) or those asked for (v2). */
static size_t answer_values(const sv_job *j)
{
    const sv_model *m = j->m;
    if (j->kind == K_CLASSIFY)
        return j->rows * m->out[scores_output(m)].row_elems;
    if (j->kind == K_REGRESS)
        return j->rows;
    size_t n = 0;
    for (size_t i = 0; i < m->n_out; i++)
        if (j->kind == K_PREDICT || (j->out_mask & (1u << i)))
            n += j->rows * m->out[i].row_elems;
    return n;
}

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
            http_reply_error(r, sv_rest_code(j->st, true), "%s", j->error);
        } else {
            /* an answer is bounded as a body is: its JSON is held whole until it is sent */
            size_t max = j->m->srv->o.max_body;
            ccz_buf b;
            ccz_buf_init(&b, max, false);
            ccz_status st = sv_rest_body(&b, j);
            if (st == CCZ_OK)
                http_reply(r, 200, "application/json", ccz_buf_span(&b));
            else if (st == CCZ_ERR_TOO_LARGE)
                http_reply_error(r, 400,
                                 "the answer to %zu rows takes more than %zu bytes (--max-body): "
                                 "ask for fewer rows",
                                 j->rows, max);
            else
                http_reply_error(r, 500, "%s", ccz_error_detail());
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

/* ---- requests --------------------------------------------------------------------------------*/

/* A model named in a path: NAME[/versions/N] and what follows. */
typedef struct {
    char name[SV_MAX_NAME + 1];
    int64_t version; /* 0: the latest */
    const char *tail;
} model_ref;

static ccz_status parse_ref(model_ref *ref, const char *p)
{
    size_t n = strcspn(p, "/:");
    CCZ_ENSURE(n > 0 && n <= SV_MAX_NAME, CCZ_ERR_NOT_FOUND, "no model named in the path");
    memcpy(ref->name, p, n);
    ref->name[n] = '\0';
    ref->version = 0;
    p += n;
    if (strncmp(p, "/labels/", 8) == 0)
        return ccz_fail(CCZ_ERR_UNSUPPORTED,
                        "version labels are not served: ask for /versions/N or the latest");
    if (strncmp(p, "/versions/", 10) == 0) {
        p += 10;
        int64_t v = 0;
        size_t digits = 0;
        while (*p >= '0' && *p <= '9' && digits < 18) {
            v = v * 10 + (*p++ - '0');
            digits++;
        }
        CCZ_ENSURE(digits > 0 && v > 0 && !(*p >= '0' && *p <= '9'), CCZ_ERR_INVALID_ARGUMENT,
                   "the version must be a number from 1 to 10^18 - 1");
        ref->version = v;
    }
    ref->tail = p;
    return CCZ_OK;
}

/* The model a v1 request names; TensorFlow Serving's message when there is none. */
static ccz_status find_v1(sv_model **out, sv_server *s, const model_ref *ref)
{
    *out = sv_model_find(s, ref->name, ref->version);
    if (*out)
        return CCZ_OK;
    if (ref->version)
        return ccz_fail(CCZ_ERR_NOT_FOUND, "Servable not found for request: Specific(%s, %lld)",
                        ref->name, (long long)ref->version);
    return ccz_fail(CCZ_ERR_NOT_FOUND, "Servable not found for request: Latest(%s)", ref->name);
}

/* The body as JSON whatever its Content-Type (TensorFlow Serving's clients send curl's -d
 * default); it must be an object. */
static ccz_status body_json(json_t **out, ccz_span body)
{
    json_error_t err;
    *out =
        json_loadb(body.ptr ? (const char *)body.ptr : "", body.len, JSON_REJECT_DUPLICATES, &err);
    CCZ_ENSURE(*out, CCZ_ERR_JSON, "JSON Parse error: %s at offset: %d",
               ccz_json_error_unquoted(err.text), err.position);
    if (json_is_object(*out))
        return CCZ_OK;
    bool array = json_is_array(*out);
    json_decref(*out);
    *out = NULL;
    return ccz_fail(CCZ_ERR_JSON, "JSON Value: %s Is not object", array ? "[...]" : "...");
}

static ccz_status check_signature(const json_t *body)
{
    const json_t *sig = json_object_get(body, "signature_name");
    CCZ_ENSURE(
        !sig || (json_is_string(sig) && strcmp(json_string_value(sig), "serving_default") == 0),
        CCZ_ERR_INVALID_ARGUMENT, "Serving signature name: \"%s\" not found in signature def",
        json_is_string(sig) ? json_string_value(sig) : "(not a string)");
    return CCZ_OK;
}

/* The output regress reads: the model's one output of one value a row. */
static int value_output(const sv_model *m)
{
    int found = -1;
    for (size_t i = 0; i < m->n_out; i++)
        if (m->out[i].row_elems == 1) {
            if (found >= 0)
                return -1;
            found = (int)i;
        }
    return found;
}

static ccz_status v2_read(sv_job **out, sv_model *m, const json_t *body);

/* POST /v1/models/REST: :predict, :classify or :regress. */
static ccz_status parse_v1(sv_job **out, sv_server *s, const char *rest, const json_t *body)
{
    model_ref ref;
    CCZ_GUARD(parse_ref(&ref, rest));
    int kind = strcmp(ref.tail, ":predict") == 0    ? K_PREDICT
               : strcmp(ref.tail, ":classify") == 0 ? K_CLASSIFY
               : strcmp(ref.tail, ":regress") == 0  ? K_REGRESS
                                                    : -1;
    CCZ_ENSURE(kind >= 0, CCZ_ERR_INVALID_ARGUMENT, "Malformed request: POST /v1/models/%s", rest);
    sv_model *m;
    CCZ_GUARD(find_v1(&m, s, &ref));
    CCZ_GUARD(check_signature(body));
    if (kind == K_PREDICT) {
        const json_t *inst = json_object_get(body, "instances"),
                     *inputs = json_object_get(body, "inputs");
        CCZ_ENSURE(!inst || !inputs, CCZ_ERR_INVALID_ARGUMENT,
                   "Not both 'instances' and 'inputs' may be given");
        CCZ_ENSURE(inst || inputs, CCZ_ERR_INVALID_ARGUMENT, "Missing 'inputs' or 'instances' key");
        CCZ_GUARD(inst ? read_instances(out, m, inst) : read_inputs(out, m, inputs));
        (*out)->columnar = inputs != NULL;
    } else {
        int o = kind == K_CLASSIFY ? scores_output(m) : value_output(m);
        CCZ_ENSURE(o >= 0 && m->n_in == 1, CCZ_ERR_INVALID_ARGUMENT,
                   "model %s takes %zu input%s and has no single output of %s: use :predict",
                   m->name, m->n_in, m->n_in == 1 ? "" : "s",
                   kind == K_CLASSIFY ? "class scores" : "one value a row");
        CCZ_GUARD(read_examples(out, m, body));
        (*out)->out_mask = 1u << o;
    }
    (*out)->kind = kind;
    return CCZ_OK;
}

ccz_status sv_rest_parse(sv_job **out, sv_server *s, bool v2, const char *rest, ccz_span body)
{
    *out = NULL;
    json_t *j = NULL;
    ccz_status st = CCZ_OK;
    if (v2) {
        model_ref ref;
        st = strncmp(rest, "models/", 7) == 0
                 ? parse_ref(&ref, rest + 7)
                 : ccz_fail(CCZ_ERR_NOT_FOUND, "no such endpoint: /v2/%s", rest);
        if (st == CCZ_OK && strcmp(ref.tail, "/infer") != 0)
            st = ccz_fail(CCZ_ERR_NOT_FOUND, "no such endpoint: /v2/%s", rest);
        sv_model *m = st == CCZ_OK ? sv_model_find(s, ref.name, ref.version) : NULL;
        if (st == CCZ_OK && !m)
            st = ccz_fail(CCZ_ERR_NOT_FOUND, "Request for unknown model: '%s' is not found",
                          ref.name);
        if (st == CCZ_OK)
            st = body_json(&j, body);
        if (st == CCZ_OK)
            st = v2_read(out, m, j);
        if (st == CCZ_OK)
            (*out)->kind = K_V2_INFER;
    } else {
        /* the path first: an unknown model is 404 whatever the body */
        model_ref ref;
        sv_model *m;
        st = parse_ref(&ref, rest);
        if (st == CCZ_OK &&
            (strcmp(ref.tail, ":predict") == 0 || strcmp(ref.tail, ":classify") == 0 ||
             strcmp(ref.tail, ":regress") == 0))
            st = find_v1(&m, s, &ref);
        if (st == CCZ_OK)
            st = body_json(&j, body);
        if (st == CCZ_OK)
            st = parse_v1(out, s, rest, j);
    }
    json_decref(j);
    if (st != CCZ_OK) {
        sv_job_free(*out);
        *out = NULL;
    }
    return st;
}

/* KServe's binary tensor data extension: the body's first Inference-Header-Content-Length bytes
 * are the JSON, the rest tensors' raw bytes. Not served: refused in those words, not as JSON
 * that does not parse; a header that says the whole body is JSON is taken. */
static bool binary_body(const http_request *r, ccz_span body)
{
    const char *hl = http_request_header(r, "Inference-Header-Content-Length");
    if (!hl)
        return false;
    size_t n = 0, digits = 0;
    for (; hl[digits] >= '0' && hl[digits] <= '9' && digits < 19; digits++)
        n = n * 10 + (size_t)(hl[digits] - '0');
    return hl[digits] || n != body.len;
}

static void post(http_request *r, sv_server *s, bool v2)
{
    sv_job *j;
    if (v2 && binary_body(r, http_request_body(r))) {
        http_reply_error(r, 400, "%s", BINARY_REFUSED);
        return;
    }
    ccz_status st = sv_rest_parse(&j, s, v2, http_request_rest(r), http_request_body(r));
    if (st != CCZ_OK) {
        http_reply_error(r, http_code(st), "%s", ccz_error_detail());
        return;
    }
    /* a digit and a comma a value at the least: an answer that cannot fit --max-body is
     * refused before it runs, not rendered (an 80 KB request may ask for a 60 MB answer) */
    size_t least = 2 * answer_values(j);
    if (least > s->o.max_body) {
        http_reply_error(r, 400,
                         "the answer to %zu rows would take at least %zu bytes; an answer may "
                         "hold %zu (--max-body): ask for fewer rows",
                         j->rows, least, s->o.max_body);
        sv_job_free(j);
        return;
    }
    j->req = r;
    j->deliver = deliver;
    http_request_defer(r, request_gone, j);
    st = sv_job_submit(j);
    if (st != CCZ_OK) {
        j->req = NULL;
        http_reply_error(r, http_code(st), "%s", ccz_error_detail());
        sv_job_free(j);
    }
}

static void v1_post(http_request *r, void *payload)
{
    post(r, payload, false);
}

static json_t *tf_tensor_info(const ccz_ml_tensor_info *t)
{
    json_t *dims = json_array();
    for (size_t d = 0; dims && d < t->rank; d++) {
        char size[24];
        snprintf(size, sizeof size, "%lld", d == 0 ? -1LL : (long long)t->dims[d]);
        json_array_append_new(dims, json_pack("{s:s,s:s}", "size", size, "name", ""));
    }
    char name[128];
    snprintf(name, sizeof name, "%s:0", t->name);
    return json_pack("{s:s,s:{s:o,s:b},s:s}", "dtype", "DT_FLOAT", "tensor_shape", "dim", dims,
                     "unknown_rank", 0, "name", name);
}

static json_t *tf_metadata(const sv_model *m)
{
    json_t *in = json_object(), *out = json_object();
    for (size_t i = 0; in && i < m->n_in; i++)
        json_object_set_new(in, m->in[i].name, tf_tensor_info(&m->in[i]));
    for (size_t i = 0; out && i < m->n_out; i++)
        json_object_set_new(out, m->out[i].name, tf_tensor_info(&m->out[i]));
    char version[24];
    snprintf(version, sizeof version, "%lld", (long long)m->version);
    return json_pack("{s:{s:s,s:s,s:s},s:{s:{s:{s:{s:o,s:o,s:s,s:{}}}}}}", "model_spec", "name",
                     m->name, "signature_name", "", "version", version, "metadata", "signature_def",
                     "signature_def", "serving_default", "inputs", in, "outputs", out,
                     "method_name", "tensorflow/serving/predict", "defaults");
}

static json_t *tf_version_status(const sv_model *m)
{
    char version[24];
    snprintf(version, sizeof version, "%lld", (long long)m->version);
    return json_pack("{s:s,s:s,s:{s:s,s:s}}", "version", version, "state", "AVAILABLE", "status",
                     "error_code", "OK", "error_message", "");
}

static void reply_json_new(http_request *r, json_t *j)
{
    if (j)
        http_reply_json(r, 200, j);
    else
        http_reply_error(r, 500, "out of memory");
    json_decref(j);
}

static void v1_get(http_request *r, void *payload)
{
    sv_server *s = payload;
    model_ref ref;
    ccz_status st = parse_ref(&ref, http_request_rest(r));
    if (st != CCZ_OK) {
        http_reply_error(r, http_code(st), "%s", ccz_error_detail());
        return;
    }
    if (strcmp(ref.tail, "/metadata") == 0) {
        sv_model *m;
        if ((st = find_v1(&m, s, &ref)) != CCZ_OK)
            http_reply_error(r, http_code(st), "%s", ccz_error_detail());
        else
            reply_json_new(r, tf_metadata(m));
        return;
    }
    if (ref.tail[0]) {
        http_reply_error(r, 404, "Malformed request: GET %s", http_request_path(r));
        return;
    }
    /* status: the version asked for, or every version of the model */
    json_t *list = json_array();
    for (size_t i = 0; list && i < s->n_models; i++) {
        const sv_model *m = &s->models[i];
        if (strcmp(m->name, ref.name) == 0 && (!ref.version || m->version == ref.version))
            json_array_append_new(list, tf_version_status(m));
    }
    if (list && json_array_size(list) == 0) {
        json_decref(list);
        if (ref.version)
            http_reply_error(r, 404, "Could not find version %lld of model %s",
                             (long long)ref.version, ref.name);
        else
            http_reply_error(r, 404, "Could not find any versions of model %s", ref.name);
        return;
    }
    reply_json_new(r, json_pack("{s:o}", "model_version_status", list));
}

/* ---- KServe's Open Inference Protocol v2 -----------------------------------------------------*/

static json_t *v2_tensor_meta(const ccz_ml_tensor_info *t)
{
    json_t *shape = json_array();
    for (size_t d = 0; shape && d < t->rank; d++)
        json_array_append_new(shape, json_integer(d == 0 ? -1 : t->dims[d]));
    return json_pack("{s:s,s:s,s:o}", "name", t->name, "datatype", "FP32", "shape", shape);
}

static json_t *v2_model_meta(sv_server *s, const sv_model *m)
{
    json_t *versions = json_array(), *in = json_array(), *out = json_array();
    for (size_t i = 0; versions && i < s->n_models; i++)
        if (strcmp(s->models[i].name, m->name) == 0)
            json_array_append_new(versions, json_sprintf("%lld", (long long)s->models[i].version));
    for (size_t i = 0; in && i < m->n_in; i++)
        json_array_append_new(in, v2_tensor_meta(&m->in[i]));
    for (size_t i = 0; out && i < m->n_out; i++)
        json_array_append_new(out, v2_tensor_meta(&m->out[i]));
    return json_pack("{s:s,s:o,s:s,s:o,s:o}", "name", m->name, "versions", versions, "platform",
                     "onnx", "inputs", in, "outputs", out);
}

/* A v2 numeric datatype: the values it holds (all computed in float32). */
typedef struct {
    const char *name;
    bool integer;
    double lo, hi;
} v2_type;

static const v2_type v2_types[] = {
    {"FP32", false, -DBL_MAX, DBL_MAX}, /* float32's range: to_float */
    {"FP64", false, -DBL_MAX, DBL_MAX},    {"FP16", false, -65504, 65504},
    {"INT8", true, INT8_MIN, INT8_MAX},    {"INT16", true, INT16_MIN, INT16_MAX},
    {"INT32", true, INT32_MIN, INT32_MAX}, {"INT64", true, (double)INT64_MIN, (double)INT64_MAX},
    {"UINT8", true, 0, UINT8_MAX},         {"UINT16", true, 0, UINT16_MAX},
    {"UINT32", true, 0, UINT32_MAX},       {"UINT64", true, 0, (double)UINT64_MAX},
};

/* A value of the tensor's datatype: an integer type's values are JSON integers in its range
 * (1.5 or 300 is no UINT8), a float type's within its range. */
static ccz_status v2_value(const json_t *v, const v2_type *ty, const char *name)
{
    CCZ_ENSURE(!ty->integer || json_is_integer(v), CCZ_ERR_INVALID_ARGUMENT,
               "input '%s': %s data must be integers, not %g", name, ty->name,
               json_number_value(v));
    double d = json_number_value(v);
    CCZ_ENSURE(d >= ty->lo && d <= ty->hi, CCZ_ERR_INVALID_ARGUMENT,
               "input '%s': %g is out of range for %s", name, d, ty->name);
    return CCZ_OK;
}

/* Appends the numbers of a data list to dst, at most max of them: flat (a list of numbers) or
 * nested exactly as the shape [rows, t's other dims], every list as long as its dimension (a
 * ragged one would move values into other rows). */
static ccz_status v2_flatten(const json_t *v, float *dst, size_t *n, size_t max, size_t depth,
                             bool nested, const ccz_ml_tensor_info *t, size_t rows,
                             const v2_type *ty)
{
    size_t leaf = nested ? t->rank : 1;
    if (json_is_number(v) && (nested ? depth == leaf : depth <= leaf)) {
        CCZ_ENSURE(*n < max, CCZ_ERR_INVALID_ARGUMENT, "more values than the shape holds");
        CCZ_GUARD(v2_value(v, ty, t->name));
        CCZ_GUARD(to_float(&dst[*n], v, t->name));
        (*n)++;
        return CCZ_OK;
    }
    CCZ_ENSURE(json_is_array(v) && depth < leaf, CCZ_ERR_INVALID_ARGUMENT,
               "data must be numbers, flat or nested in lists as the shape");
    size_t len = json_array_size(v);
    if (nested) {
        int64_t want = depth == 0 ? (int64_t)rows : t->dims[depth];
        CCZ_ENSURE((int64_t)len == want, CCZ_ERR_INVALID_ARGUMENT,
                   "input '%s': data nested as the shape needs %lld values at dimension %zu; "
                   "%zu given",
                   t->name, (long long)want, depth, len);
    }
    for (size_t i = 0; i < len; i++)
        CCZ_GUARD(v2_flatten(json_array_get(v, i), dst, n, max, depth + 1, nested, t, rows, ty));
    return CCZ_OK;
}

static const v2_type *v2_numeric(const json_t *type)
{
    for (size_t i = 0; json_is_string(type) && i < CCZ_ARRAY_LEN(v2_types); i++)
        if (strcmp(json_string_value(type), v2_types[i].name) == 0)
            return &v2_types[i];
    return NULL;
}

/* One input of an infer request: its datatype numeric, its shape [rows, the model's other
 * dims]. */
static ccz_status v2_input(const json_t *in, const ccz_ml_tensor_info *t, size_t *rows,
                           const v2_type **ty)
{
    const json_t *shape = json_object_get(in, "shape");
    *ty = v2_numeric(json_object_get(in, "datatype"));
    CCZ_ENSURE(*ty, CCZ_ERR_INVALID_ARGUMENT, "input '%s': datatype must be numeric (FP32, ...)",
               t->name);
    CCZ_ENSURE(json_is_array(shape) && json_array_size(shape) == t->rank, CCZ_ERR_INVALID_ARGUMENT,
               "input '%s': shape must have %zu dimensions", t->name, t->rank);
    for (size_t d = 0; d < t->rank; d++) {
        const json_t *v = json_array_get(shape, d);
        CCZ_ENSURE(json_is_integer(v), CCZ_ERR_INVALID_ARGUMENT,
                   "input '%s': shape holds a value that is not an integer", t->name);
        json_int_t x = json_integer_value(v);
        if (d == 0) {
            CCZ_ENSURE(x >= 1 && x <= (1 << 20), CCZ_ERR_INVALID_ARGUMENT,
                       "input '%s': the batch (shape[0]) must be 1 to 1048576", t->name);
            *rows = (size_t)x;
        } else {
            CCZ_ENSURE(x == t->dims[d], CCZ_ERR_INVALID_ARGUMENT,
                       "input '%s': shape[%zu] is %lld; the model takes %lld", t->name, d,
                       (long long)x, (long long)t->dims[d]);
        }
    }
    return CCZ_OK;
}

static ccz_status v2_read(sv_job **out, sv_model *m, const json_t *body)
{
    const json_t *inputs = json_object_get(body, "inputs");
    CCZ_ENSURE(json_is_array(inputs), CCZ_ERR_INVALID_ARGUMENT,
               "'inputs' must be a list of tensors");
    CCZ_ENSURE(json_array_size(inputs) == m->n_in, CCZ_ERR_INVALID_ARGUMENT,
               "the model takes %zu inputs, %zu given", m->n_in, json_array_size(inputs));
    /* echoed whole, or refused: a cut one would not be the client's (nor, cut mid-character,
     * UTF-8 that the answer can hold) */
    const json_t *id = json_object_get(body, "id");
    CCZ_ENSURE(!json_is_string(id) || json_string_length(id) < sizeof(*out)->id,
               CCZ_ERR_INVALID_ARGUMENT, "'id' may hold at most %zu bytes", sizeof(*out)->id - 1);
    const json_t *by_input[SV_MAX_IO] = {0};
    const v2_type *types[SV_MAX_IO] = {0};
    size_t rows = 0;
    for (size_t k = 0; k < m->n_in; k++) {
        const json_t *in = json_array_get(inputs, k), *name = json_object_get(in, "name");
        CCZ_ENSURE(json_is_string(name), CCZ_ERR_INVALID_ARGUMENT, "input %zu has no name", k);
        int i = input_index(m, json_string_value(name));
        CCZ_ENSURE(i >= 0, CCZ_ERR_INVALID_ARGUMENT, "'%s' is not an input of the model",
                   json_string_value(name));
        CCZ_ENSURE(!by_input[i], CCZ_ERR_INVALID_ARGUMENT, "input '%s' is given twice",
                   m->in[i].name);
        by_input[i] = in;
        CCZ_ENSURE(!json_object_get(json_object_get(in, "parameters"), "binary_data_size"),
                   CCZ_ERR_INVALID_ARGUMENT, "input '%s': %s", m->in[i].name, BINARY_REFUSED);
        size_t n = 0;
        CCZ_GUARD(v2_input(in, &m->in[i], &n, &types[i]));
        CCZ_ENSURE(k == 0 || n == rows, CCZ_ERR_INVALID_ARGUMENT,
                   "the inputs' batch sizes (shape[0]) differ");
        rows = n;
    }
    CCZ_GUARD(sv_job_new(out, m, rows));
    for (size_t i = 0; i < m->n_in; i++) {
        size_t want = rows * m->in[i].row_elems, n = 0;
        const json_t *data = json_object_get(by_input[i], "data");
        bool nested = json_array_size(data) > 0 && json_is_array(json_array_get(data, 0));
        CCZ_GUARD(v2_flatten(data, (*out)->in[i], &n, want, 0, nested, &m->in[i], rows, types[i]));
        CCZ_ENSURE(n == want, CCZ_ERR_INVALID_ARGUMENT, "input '%s': %zu values for a shape of %zu",
                   m->in[i].name, n, want);
    }
    const json_t *outs = json_object_get(body, "outputs");
    if (json_is_string(id))
        snprintf((*out)->id, sizeof(*out)->id, "%s", json_string_value(id));
    if (!outs || (json_is_array(outs) && json_array_size(outs) == 0)) { /* every one */
        (*out)->out_mask = (1u << m->n_out) - 1;
        return CCZ_OK;
    }
    CCZ_ENSURE(json_is_array(outs), CCZ_ERR_INVALID_ARGUMENT, "'outputs' must be a list");
    for (size_t k = 0; k < json_array_size(outs); k++) {
        const json_t *name = json_object_get(json_array_get(outs, k), "name");
        CCZ_ENSURE(json_is_string(name), CCZ_ERR_INVALID_ARGUMENT,
                   "requested output %zu has no name", k);
        size_t i = 0;
        while (i < m->n_out && strcmp(m->out[i].name, json_string_value(name)) != 0)
            i++;
        CCZ_ENSURE(i < m->n_out, CCZ_ERR_INVALID_ARGUMENT, "'%s' is not an output of the model",
                   json_string_value(name));
        (*out)->out_mask |= 1u << i;
    }
    return CCZ_OK;
}

static void v2_get(http_request *r, void *payload)
{
    sv_server *s = payload;
    const char *p = http_request_rest(r);
    if (strcmp(p, "health/live") == 0 || strcmp(p, "health/ready") == 0) {
        reply_json_new(r, json_pack("{s:b}", p[7] == 'l' ? "live" : "ready", 1));
        return;
    }
    model_ref ref;
    ccz_status st = strncmp(p, "models/", 7) == 0
                        ? parse_ref(&ref, p + 7)
                        : ccz_fail(CCZ_ERR_NOT_FOUND, "no such endpoint: %s", http_request_path(r));
    if (st != CCZ_OK) {
        http_reply_error(r, http_code(st), "%s", ccz_error_detail());
        return;
    }
    sv_model *m = sv_model_find(s, ref.name, ref.version);
    if (!m) {
        http_reply_error(r, 404, "Request for unknown model: '%s' is not found", ref.name);
    } else if (strcmp(ref.tail, "/ready") == 0) {
        reply_json_new(r, json_pack("{s:s,s:b}", "name", m->name, "ready", 1));
    } else if (ref.tail[0] == '\0') {
        reply_json_new(r, v2_model_meta(s, m));
    } else {
        http_reply_error(r, 404, "no such endpoint: %s", http_request_path(r));
    }
}

static void v2_post(http_request *r, void *payload)
{
    post(r, payload, true);
}

static void v2_server(http_request *r, void *payload)
{
    (void)payload;
    reply_json_new(
        r, json_pack("{s:s,s:s,s:[]}", "name", "ccz", "version", CCZ_VERSION_STRING, "extensions"));
}

ccz_status sv_rest_routes(sv_server *s, http_server *h)
{
    CCZ_GUARD(http_route(h, "POST", "/v1/models/", true, v1_post, s));
    CCZ_GUARD(http_route(h, "GET", "/v1/models/", true, v1_get, s));
    CCZ_GUARD(http_route(h, "GET", "/v2", false, v2_server, s));
    CCZ_GUARD(http_route(h, "GET", "/v2/", true, v2_get, s));
    return http_route(h, "POST", "/v2/", true, v2_post, s);
}
