/* SPDX-License-Identifier: Apache-2.0 */
/* A horizontal FL client (ccz_hfl_join, src/svc/fl/hfl_client.c) against an aggregator played by
 * the test: cczfl.Aggregator on a plaintext gRPC server whose plan and answers each case
 * scripts. The client must train the plan's rounds and upload each (streamed in slices, or
 * unary where the aggregator has no PushUpdateStream) with its round and examples, join again
 * after the aggregator restarted (FAILED_PRECONDITION), retry an unreachable aggregator for its
 * retry time but not one that rejected it, stop at a refused update, and refuse a plan or a
 * model it cannot use: too few layers, another feature or class count, values out of range,
 * weights of the wrong size. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccz/ccz.h"
#include "ccz/hfl.h"
#include "fl.pb-c.h"
#include "rpc_fixture.h"
#include "test.h"

#define ROWS 8
#define DIM 17 /* layers 2, 3, 2: 2*3 + 3 + 3*2 + 2 */

typedef struct {
    /* the script */
    uint32_t layers[4];
    size_t n_layers;
    unsigned rounds, epochs;
    float lr;
    int join_code;
    const char *join_message;
    bool no_stream;      /* no PushUpdateStream: UNIMPLEMENTED */
    unsigned restart_at; /* this GetModel (1-based) answers FAILED_PRECONDITION */
    int push_code;       /* the first upload is refused with it */
    size_t model_bytes;  /* the model's weights (0: DIM floats) */
    /* what the aggregator saw */
    int joins, get_models, pushes, streams, stream_msgs;
    unsigned pushed_round[8];
    uint64_t examples;
    uint64_t stream_total, stream_bytes;
} script;

static void on_join(ccz_rpc_call *call, const ProtobufCMessage *m, void *payload)
{
    script *s = payload;
    (void)m;
    s->joins++;
    if (s->join_code) {
        CHECK_OK(ccz_rpc_finish(call, s->join_code, s->join_message));
        return;
    }
    Cczfl__Plan p = CCZFL__PLAN__INIT;
    p.model = "mlp";
    p.layers = s->layers;
    p.n_layers = s->n_layers;
    p.rounds = s->rounds;
    p.strategy = "fedavg";
    p.epochs = s->epochs;
    p.batch = 4;
    p.lr = s->lr;
    p.optimizer = "sgd";
    CHECK_OK(ccz_rpc_reply(call, &p.base));
}

static void on_get_model(ccz_rpc_call *call, const ProtobufCMessage *m, void *payload)
{
    script *s = payload;
    const Cczfl__ModelRequest *q = (const Cczfl__ModelRequest *)m;
    if (++s->get_models == (int)s->restart_at) {
        CHECK_OK(ccz_rpc_finish(call, CCZ_RPC_FAILED_PRECONDITION, "join first"));
        return;
    }
    float w[DIM + 1] = {0};
    Cczfl__Model r = CCZFL__MODEL__INIT;
    r.round = q->after_round >= s->rounds ? s->rounds : q->after_round + 1;
    r.done = q->after_round >= s->rounds;
    r.dtype = CCZFL__DTYPE__F32;
    r.weights =
        (ProtobufCBinaryData){s->model_bytes ? s->model_bytes : sizeof(float) * DIM, (uint8_t *)w};
    r.accuracy = r.done ? 0.875 : -1;
    r.loss = r.done ? 0.25 : -1;
    CHECK_OK(ccz_rpc_reply(call, &r.base));
}

static void ack(ccz_rpc_call *call, script *s, unsigned round)
{
    if (s->push_code && s->pushes + s->streams == 1) {
        CHECK_OK(ccz_rpc_finish(call, s->push_code, "the update is mis-shaped"));
        return;
    }
    Cczfl__Ack a = CCZFL__ACK__INIT;
    a.round = round;
    CHECK_OK(ccz_rpc_reply(call, &a.base));
}

static void on_push(ccz_rpc_call *call, const ProtobufCMessage *m, void *payload)
{
    script *s = payload;
    const Cczfl__Update *u = (const Cczfl__Update *)m;
    if (s->pushes + s->streams < 8)
        s->pushed_round[s->pushes + s->streams] = u->round;
    s->pushes++;
    s->examples = u->examples;
    s->stream_bytes = u->weights.len;
    ack(call, s, u->round);
}

static void on_stream(ccz_rpc_call *call, const ProtobufCMessage *m, void *payload)
{
    script *s = payload;
    static unsigned round;
    if (!m) { /* the end of the stream */
        if (s->pushes + s->streams < 8)
            s->pushed_round[s->pushes + s->streams] = round;
        s->streams++;
        ack(call, s, round);
        return;
    }
    const Cczfl__UpdateChunk *c = (const Cczfl__UpdateChunk *)m;
    s->stream_msgs++;
    if (c->header) {
        round = c->header->round;
        s->examples = c->header->examples;
        s->stream_total = c->header->total;
        s->stream_bytes = 0;
    }
    s->stream_bytes += c->weights.len;
}

typedef struct {
    char rounds[64];
} seen;

static void on_progress(unsigned round, unsigned rounds, double loss, double seconds, bool accepted,
                        const char *why, void *payload)
{
    (void)rounds, (void)loss, (void)seconds, (void)why;
    seen *w = payload;
    size_t at = strlen(w->rounds);
    snprintf(w->rounds + at, sizeof w->rounds - at, "%u%s ", round, accepted ? "" : "!");
}

static ccz_mlp_data data;

static ccz_status join(script *s, unsigned retry_ms, ccz_hfl_join_result *out, seen *w)
{
    ccz_rpc_server *srv;
    ccz_rpc_server_opts so = CCZ_RPC_SERVER_OPTS_INIT;
    CHECK_OK(ccz_rpc_server_new(&srv, &so));
    const ccz_rpc_handler handlers[] = {on_join, on_get_model, on_push,
                                        s->no_stream ? NULL : on_stream};
    const ccz_rpc_kind kinds[] = {CCZ_RPC_UNARY, CCZ_RPC_UNARY, CCZ_RPC_UNARY,
                                  CCZ_RPC_CLIENT_STREAMING};
    /* the first four methods; the secure-aggregation ones stay unregistered */
    ccz_rpc_handler all[8] = {0};
    ccz_rpc_kind all_kinds[8] = {0};
    memcpy(all, handlers, sizeof handlers);
    memcpy(all_kinds, kinds, sizeof kinds);
    CHECK_OK(
        ccz_rpc_server_add_service_kinds(srv, &cczfl__aggregator__descriptor, all_kinds, all, s));
    pthread_t thread;
    char target[64];
    rpc_serve(srv, &thread, target);
    ccz_rpc_channel_opts co = CCZ_RPC_CHANNEL_OPTS_INIT;
    ccz_rpc_channel *ch = NULL;
    CHECK_OK(ccz_rpc_channel_new(&ch, target, &co));
    ccz_hfl_join_opts o = CCZ_HFL_JOIN_OPTS_INIT;
    o.name = "carol";
    o.threads = 1;
    o.seed = 5;
    o.retry_ms = retry_ms;
    o.deadline_ms = 10000;
    o.chunk_bytes = 40; /* slices of 10 values: two per update */
    o.progress = on_progress;
    o.payload = w;
    memset(w, 0, sizeof *w);
    ccz_status st = ccz_hfl_join(ch, &o, &data, out);
    ccz_rpc_channel_free(ch);
    rpc_serve_stop(srv, thread, 500);
    ccz_rpc_server_free(srv);
    return st;
}

static script plan(void)
{
    return (script){.layers = {2, 3, 2}, .n_layers = 3, .rounds = 2, .epochs = 1, .lr = 0.1f};
}

static void setup(void)
{
    data.rows = ROWS;
    data.features = 2;
    data.classes = 2;
    data.x = malloc(ROWS * 2 * sizeof *data.x);
    data.y = malloc(ROWS);
    for (size_t i = 0; i < ROWS; i++) {
        data.x[2 * i] = (float)i / ROWS;
        data.x[2 * i + 1] = 1.0f - (float)i / ROWS;
        data.y[i] = i % 2;
    }
}

static void test_rounds(void)
{
    ccz_hfl_join_result out;
    seen w;
    /* streamed: the header, then the 17 values in slices of at most 40 bytes (10 and 7) */
    script s = plan();
    CHECK_OK(join(&s, 0, &out, &w));
    CHECK_INT(out.code, 0);
    CHECK_STR(out.method, "GetModel");
    CHECK_INT(out.rounds, 2);
    CHECK_INT(out.streamed, 2);
    CHECK_INT(out.last_round, 2);
    CHECK(out.acc == 0.875 && out.loss == 0.25);
    CHECK_INT(s.joins, 1);
    CHECK_INT(s.get_models, 3);
    CHECK(s.streams == 2 && s.pushes == 0);
    CHECK_INT(s.stream_msgs, 6);
    CHECK(s.pushed_round[0] == 1 && s.pushed_round[1] == 2);
    CHECK_INT(s.examples, ROWS);
    CHECK(s.stream_total == DIM * 4 && s.stream_bytes == DIM * 4);
    CHECK_STR(w.rounds, "1 2 ");
    CHECK_INT(out.model_values, DIM);

    /* no PushUpdateStream: unary from the first refusal on */
    s = plan();
    s.no_stream = true;
    CHECK_OK(join(&s, 0, &out, &w));
    CHECK_INT(out.code, 0);
    CHECK_INT(out.rounds, 2);
    CHECK_INT(out.streamed, 0);
    CHECK_INT(s.pushes, 2);
    CHECK(s.pushed_round[0] == 1 && s.pushed_round[1] == 2);
    CHECK(s.examples == ROWS && s.stream_bytes == DIM * 4);

    /* the aggregator restarted before the second model: joined again, the rounds go on */
    s = plan();
    s.restart_at = 2;
    CHECK_OK(join(&s, 0, &out, &w));
    CHECK_INT(out.code, 0);
    CHECK_INT(s.joins, 2);
    CHECK_INT(out.rounds, 2);

    /* a refused update ends the work */
    s = plan();
    s.push_code = CCZ_RPC_INVALID_ARGUMENT;
    CHECK_OK(join(&s, 0, &out, &w));
    CHECK_INT(out.code, CCZ_RPC_INVALID_ARGUMENT);
    CHECK_STR(out.message, "the update is mis-shaped");
    CHECK_INT(out.rounds, 0);
    CHECK_INT(s.streams, 1);
    CHECK_STR(w.rounds, "1! ");
}

static void test_unreachable_or_rejected(void)
{
    ccz_hfl_join_result out;
    seen w;
    /* rejected: not retried */
    script s = plan();
    s.join_code = CCZ_RPC_UNAVAILABLE;
    s.join_message = "client REJECTED: rejected at policy";
    CHECK_OK(join(&s, 5000, &out, &w));
    CHECK_INT(out.code, CCZ_RPC_UNAVAILABLE);
    CHECK_INT(s.joins, 1);
    /* unavailable: retried every 0.5 s for the retry time (0.6 s: three tries) */
    s = plan();
    s.join_code = CCZ_RPC_UNAVAILABLE;
    s.join_message = "restarting";
    CHECK_OK(join(&s, 600, &out, &w));
    CHECK_INT(out.code, CCZ_RPC_UNAVAILABLE);
    CHECK_INT(s.joins, 3);
}

static void test_unusable_plans(void)
{
    script cases[8];
    for (size_t i = 0; i < CCZ_ARRAY_LEN(cases); i++)
        cases[i] = plan();
    cases[0].n_layers = 1;
    cases[1].layers[0] = 3; /* three features */
    /* cases[2]: two classes for data of three (below) */
    cases[3].rounds = 0;
    cases[4].epochs = 1001;
    cases[5].lr = -0.5f;
    cases[6].layers[1] = 0;
    cases[7].model_bytes = 4 * DIM - 4;
    const struct {
        ccz_status want;
        const char *detail;
    } expect[] = {
        {CCZ_ERR_PROTOCOL, "the aggregator's model has 1 layer sizes"},
        {CCZ_ERR_INVALID_ARGUMENT, "takes 3 features and 2 classes; the data has 2 features"},
        {CCZ_ERR_INVALID_ARGUMENT, "takes 2 features and 2 classes; the data has 2 features and 3"},
        {CCZ_ERR_PROTOCOL, "the aggregator's plan is out of range"},
        {CCZ_ERR_PROTOCOL, "the aggregator's plan is out of range"},
        {CCZ_ERR_PROTOCOL, "the aggregator's plan is out of range"},
        {CCZ_ERR_PROTOCOL, "the aggregator's model"},
        {CCZ_ERR_PROTOCOL, "the aggregator's model"},
    };
    for (size_t i = 0; i < CCZ_ARRAY_LEN(cases); i++) {
        ccz_hfl_join_result out;
        seen w;
        data.classes = i == 2 ? 3 : 2;
        CHECK_STATUS(join(&cases[i], 0, &out, &w), expect[i].want);
        CHECK_CONTAINS(ccz_error_detail(), expect[i].detail);
        CHECK_INT(cases[i].pushes + cases[i].streams, 0);
    }
    data.classes = 2;
}

static void cleanup(void)
{
    free(data.x);
    free(data.y);
}

TEST_MAIN(T(setup), T(test_rounds), T(test_unreachable_or_rejected), T(test_unusable_plans),
          T(cleanup))
