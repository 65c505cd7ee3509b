/* SPDX-License-Identifier: Apache-2.0 */
/* The client of encrypted LR inference (ccz_he_lr_infer, src/svc/he_lr/client.c) against a
 * server played by the test: inference.Inference on a plaintext gRPC server whose InitCtx
 * answer and Infer answers each case scripts. An Infer answer may echo the batch's first
 * ciphertext back, which the client must decrypt to that feature's values at the right rows:
 * so the batching (4096 rows per call at N = 8192), the level the server asked for, and the
 * decryption are checked without a model. Hostile answers (another feature count, a level off
 * the chain, two results or none, bytes that are no ciphertext, a failing call) each end the
 * run with their status and no probabilities. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccz/ccz.h"
#include "ccz/he_lr.h"
#include "he_lr.pb-c.h"
#include "rpc_fixture.h"
#include "test.h"

#define ROWS 5000 /* two batches: 4096 and 904 rows */
#define FEATURES 2

typedef enum { ECHO, TWO_RESULTS, NO_RESULT, JUNK, FAIL_FIRST } infer_answer;

typedef struct {
    /* the script */
    int features, level, init_code;
    infer_answer infer;
    /* what the server saw */
    int infer_calls;
    int32_t security_level, batches, batch_size;
    double scale;
    size_t n_data, params_len, pk_len, rlk_len, data_bytes, result_bytes;
} script;

static void on_init(ccz_rpc_call *call, const ProtobufCMessage *m, void *payload)
{
    script *s = payload;
    const Inference__InitCtxRequest *q = (const Inference__InitCtxRequest *)m;
    s->security_level = q->security_level;
    s->scale = q->scale;
    s->params_len = q->params.len;
    s->pk_len = q->pub_key.len;
    s->rlk_len = q->relin_key.len;
    if (s->init_code) {
        CHECK_OK(ccz_rpc_finish(call, s->init_code, "no context for you"));
        return;
    }
    Inference__InitCtxReply r = INFERENCE__INIT_CTX_REPLY__INIT;
    r.features = s->features;
    r.level = s->level;
    CHECK_OK(ccz_rpc_reply(call, &r.base));
}

static void on_infer(ccz_rpc_call *call, const ProtobufCMessage *m, void *payload)
{
    script *s = payload;
    const Inference__InferRequest *q = (const Inference__InferRequest *)m;
    s->infer_calls++;
    s->n_data = q->n_data;
    s->batches = q->batches;
    s->batch_size = q->batch_size;
    for (size_t k = 0; k < q->n_data; k++)
        s->data_bytes += q->data[k].len;
    CHECK_OK(ccz_rpc_call_add_trailer(call, "ccz-he-lr-times", CCZ_SPAN("eval 1 ms", 9)));
    if (s->infer == FAIL_FIRST) {
        CHECK_OK(ccz_rpc_finish(call, CCZ_RPC_RESOURCE_EXHAUSTED, "too many batches"));
        return;
    }
    ProtobufCBinaryData junk = {4, (uint8_t *)"junk"};
    ProtobufCBinaryData res[2] = {q->n_data ? q->data[0] : junk, q->n_data ? q->data[0] : junk};
    Inference__InferReply r = INFERENCE__INFER_REPLY__INIT;
    r.result = res;
    r.n_result = s->infer == TWO_RESULTS ? 2 : s->infer == NO_RESULT ? 0 : 1;
    if (s->infer == JUNK)
        res[0] = junk;
    if (r.n_result == 1)
        s->result_bytes += res[0].len;
    CHECK_OK(ccz_rpc_reply(call, &r.base));
}

static ccz_he_lr_data data;

static ccz_status infer(script *s, ccz_he_lr_infer_result *r)
{
    const ccz_rpc_handler handlers[] = {on_init, on_infer};
    rpc_fake f;
    rpc_fake_start(&f, &inference__inference__descriptor, NULL, handlers, s, CCZ_HE_LR_MAX_MESSAGE);
    ccz_he_lr_infer_opts o = CCZ_HE_LR_INFER_OPTS_INIT;
    o.deadline_ms = 30000;
    o.threads = 1;
    ccz_status st = ccz_he_lr_infer(f.ch, &o, &data, r);
    rpc_fake_stop(&f);
    return st;
}

static void setup(void)
{
    data.rows = ROWS;
    data.features = FEATURES;
    data.x = malloc(ROWS * FEATURES * sizeof *data.x);
    data.y = calloc(ROWS, 1);
    for (size_t i = 0; i < ROWS; i++) {
        data.x[i * FEATURES] = sin((double)i) * 0.9; /* each row its own value */
        data.x[i * FEATURES + 1] = 0.5;
    }
}

static void test_echo(void)
{
    ccz_he_lr_infer_result r, low;
    script s = {.features = FEATURES, .infer = ECHO};
    CHECK_OK(infer(&s, &r));
    CHECK_INT(r.code, 0);
    CHECK_INT(r.rows, ROWS);
    CHECK_INT(s.infer_calls, 2);
    CHECK_INT(s.n_data, FEATURES);
    CHECK(s.batches == 1 && s.batch_size == FEATURES);
    CHECK_INT(s.security_level, 128);
    CHECK(s.scale == ldexp(1.0, 45));
    CHECK(s.params_len > 0 && r.params_bytes == s.params_len);
    /* the sizes reported are those of what went over the wire, every batch's */
    CHECK(s.pk_len > 0 && r.pk_bytes == s.pk_len);
    CHECK(s.rlk_len > 0 && r.rlk_bytes == s.rlk_len);
    CHECK(s.data_bytes > 0 && r.data_bytes == s.data_bytes);
    CHECK(s.result_bytes > 0 && r.result_bytes == s.result_bytes);
    CHECK_STR(r.server_times, "eval 1 ms");
    double worst = 0;
    for (size_t i = 0; r.p && i < ROWS; i++)
        worst = fmax(worst, fabs(r.p[i] - data.x[i * FEATURES]));
    CHECK(r.p && worst < 1e-6);
    unsigned top = r.level;
    CHECK_INT(top, 4); /* level 0 from the server: the chain's top */
    /* a level the server asks for is the level the data is encrypted at: fewer primes, fewer
     * bytes, and still the same values */
    s = (script){.features = 0, .level = 1, .infer = ECHO};
    CHECK_OK(infer(&s, &low));
    CHECK_INT(low.level, 1);
    CHECK(low.data_bytes > 0 && low.data_bytes * 2 < r.data_bytes);
    worst = 0;
    for (size_t i = 0; low.p && i < ROWS; i++)
        worst = fmax(worst, fabs(low.p[i] - data.x[i * FEATURES]));
    CHECK(low.p && worst < 1e-6);
    ccz_he_lr_infer_result_free(&r);
    ccz_he_lr_infer_result_free(&low);
}

/* Rows that fill their batches exactly (2 x 4096): two calls, not a third for nothing, and every
 * row decrypted where it belongs. */
static void test_full_batches(void)
{
    ccz_he_lr_data full = data;
    full.rows = 8192;
    full.x = malloc(full.rows * FEATURES * sizeof *full.x);
    for (size_t i = 0; i < full.rows; i++) {
        full.x[i * FEATURES] = cos((double)i) * 0.9;
        full.x[i * FEATURES + 1] = 0.5;
    }
    const ccz_rpc_handler handlers[] = {on_init, on_infer};
    script s = {.features = FEATURES, .infer = ECHO};
    rpc_fake f;
    rpc_fake_start(&f, &inference__inference__descriptor, NULL, handlers, &s,
                   CCZ_HE_LR_MAX_MESSAGE);
    ccz_he_lr_infer_opts o = CCZ_HE_LR_INFER_OPTS_INIT;
    o.deadline_ms = 30000;
    o.threads = 1;
    ccz_he_lr_infer_result r;
    CHECK_OK(ccz_he_lr_infer(f.ch, &o, &full, &r));
    rpc_fake_stop(&f);
    CHECK_INT(r.code, 0);
    CHECK_INT(r.rows, 8192);
    CHECK_INT(s.infer_calls, 2);
    double worst = 0;
    for (size_t i = 0; r.p && i < full.rows; i++)
        worst = fmax(worst, fabs(r.p[i] - full.x[i * FEATURES]));
    CHECK(r.p && worst < 1e-6);
    ccz_he_lr_infer_result_free(&r);
    free(full.x);
}

static void test_hostile_server(void)
{
    const struct {
        const char *what;
        script s;
        ccz_status want;
        const char *detail;
    } cases[] = {
        {"another feature count",
         {.features = 3},
         CCZ_ERR_INVALID_ARGUMENT,
         "the server's model has 3 features, the data 2"},
        {"a level above the chain",
         {.level = 5},
         CCZ_ERR_PROTOCOL,
         "the server asks for level 5; the chain has 4 data primes"},
        {"a negative level", {.level = -1}, CCZ_ERR_PROTOCOL, "asks for level -1"},
        {"two results for a batch",
         {.infer = TWO_RESULTS},
         CCZ_ERR_PROTOCOL,
         "the server answered 2 ciphertexts for one batch"},
        {"no result",
         {.infer = NO_RESULT},
         CCZ_ERR_PROTOCOL,
         "the server answered 0 ciphertexts for one batch"},
        {"bytes that are no ciphertext", {.infer = JUNK}, CCZ_ERR_TRUNCATED, "the server's result"},
    };
    for (size_t i = 0; i < CCZ_ARRAY_LEN(cases); i++) {
        test_name = cases[i].what;
        script s = cases[i].s;
        ccz_he_lr_infer_result r;
        CHECK_STATUS(infer(&s, &r), cases[i].want);
        CHECK_CONTAINS(ccz_error_detail(), cases[i].detail);
        CHECK_INT(r.rows, 0);
        ccz_he_lr_infer_result_free(&r);
    }
    test_name = __func__;
    /* a failing call ends the run with its code, and no later call is made */
    script s = {.init_code = CCZ_RPC_FAILED_PRECONDITION};
    ccz_he_lr_infer_result r;
    CHECK_OK(infer(&s, &r));
    CHECK_INT(r.code, CCZ_RPC_FAILED_PRECONDITION);
    CHECK_STR(r.method, "InitCtx");
    CHECK_STR(r.message, "no context for you");
    CHECK_INT(s.infer_calls, 0);
    CHECK(r.p == NULL && r.rows == 0);
    ccz_he_lr_infer_result_free(&r);
    s = (script){.infer = FAIL_FIRST};
    CHECK_OK(infer(&s, &r));
    CHECK_INT(r.code, CCZ_RPC_RESOURCE_EXHAUSTED);
    CHECK_STR(r.method, "Infer");
    CHECK_INT(s.infer_calls, 1);
    CHECK_INT(r.rows, 0);
    ccz_he_lr_infer_result_free(&r);
}

/* Refused before any key is made or any call: another version of the options, no data. */
static void test_refused_opts(void)
{
    const ccz_rpc_handler handlers[] = {on_init, on_infer};
    script s = {.features = FEATURES, .infer = ECHO};
    rpc_fake f;
    rpc_fake_start(&f, &inference__inference__descriptor, NULL, handlers, &s,
                   CCZ_HE_LR_MAX_MESSAGE);
    ccz_he_lr_infer_result r;
    ccz_he_lr_infer_opts o = CCZ_HE_LR_INFER_OPTS_INIT;
    o.version = 2;
    CHECK_STATUS(ccz_he_lr_infer(f.ch, &o, &data, &r), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "ccz_he_lr_infer_opts: version 2, expected 1");
    CHECK(r.p == NULL && r.rows == 0 && r.code == 0);
    ccz_he_lr_infer_result_free(&r);
    o.version = CCZ_HE_LR_INFER_OPTS_VERSION;
    ccz_he_lr_data empty = data;
    empty.rows = 0;
    CHECK_STATUS(ccz_he_lr_infer(f.ch, &o, &empty, &r), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "no data");
    ccz_he_lr_infer_result_free(&r);
    empty = data;
    empty.features = 0;
    CHECK_STATUS(ccz_he_lr_infer(f.ch, &o, &empty, &r), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "no data");
    CHECK(r.p == NULL && r.rows == 0);
    ccz_he_lr_infer_result_free(&r);
    rpc_fake_stop(&f);
    CHECK(s.params_len == 0 && s.infer_calls == 0); /* no call made */
}

static void cleanup(void)
{
    free(data.x);
    free(data.y);
}

TEST_MAIN(T(setup), T(test_echo), T(test_full_batches), T(test_hostile_server),
          T(test_refused_opts), T(cleanup))
