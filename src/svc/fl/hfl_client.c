/* SPDX-License-Identifier: Apache-2.0 */
/* A horizontal FL client (include/ccz/hfl.h): Join, then per round GetModel, local training
 * (include/ccz/mlp.h) and PushUpdate, over one channel. The plan and models from the aggregator
 * are checked before use; an aggregator that goes away is waited for and joined again. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ccz/hfl.h"
#include "core/guard.h"
#include "fl.pb-c.h"
#include "svc/fl/clients.h"
#include "svc/fl/party.h"

static ccz_status call(ccz_rpc_channel *ch, const ccz_hfl_join_opts *o, const char *method,
                       const ProtobufCMessage *req, const ProtobufCMessageDescriptor *desc,
                       ProtobufCMessage **resp, ccz_hfl_join_result *out)
{
    fl_call_status st = {&out->code, &out->method, out->message, sizeof out->message};
    return fl_unary(ch, "cczfl.Aggregator", method, o->deadline_ms, req, desc, resp, st);
}

typedef fl_hfl_plan plan;

ccz_status fl_hfl_read_plan(plan *p, const Cczfl__Plan *r, const ccz_mlp_data *d,
                            const ccz_hfl_join_opts *o)
{
    CCZ_ENSURE(r->n_layers >= 2 && r->n_layers <= CCZ_MLP_MAX_LAYERS + 1, CCZ_ERR_PROTOCOL,
               "the aggregator's model has %zu layer sizes", r->n_layers);
    memset(&p->shape, 0, sizeof p->shape);
    p->shape.layers = (unsigned)r->n_layers - 1;
    for (size_t l = 0; l < r->n_layers; l++)
        p->shape.sizes[l] = r->layers[l];
    ccz_status s = ccz_mlp_shape_check(&p->shape, &p->dim);
    if (s)
        return ccz_fail_context(CCZ_ERR_PROTOCOL, "the aggregator's model");
    CCZ_ENSURE(p->shape.sizes[0] == d->features && d->classes <= p->shape.sizes[p->shape.layers],
               CCZ_ERR_INVALID_ARGUMENT,
               "the aggregator's model takes %u features and %u classes; the data has %zu "
               "features and %u classes",
               p->shape.sizes[0], p->shape.sizes[p->shape.layers], d->features, d->classes);
    CCZ_ENSURE(r->rounds >= 1 && r->epochs >= 1 && r->epochs <= 1000 && r->batch >= 1 &&
                   r->batch <= 65536 && isfinite(r->lr) && r->lr >= 0 && r->lr < 100 &&
                   isfinite(r->mu) && r->mu >= 0 && r->mu < 1000,
               CCZ_ERR_PROTOCOL, "the aggregator's plan is out of range");
    p->rounds = r->rounds;
    p->train = (ccz_mlp_train_opts)CCZ_MLP_TRAIN_OPTS_INIT;
    p->train.epochs = r->epochs;
    p->train.batch = r->batch;
    p->train.lr = r->lr;
    p->train.optimizer = r->optimizer && !strcmp(r->optimizer, "adam") ? CCZ_MLP_ADAM : CCZ_MLP_SGD;
    p->train.mu = r->mu;
    p->train.threads = o->threads;
    p->prox = r->mu > 0;
    p->secure = r->secure_agg;
    return CCZ_OK;
}

/* Join (again): the plan. */
static ccz_status join(ccz_rpc_channel *ch, const ccz_hfl_join_opts *o, const ccz_mlp_data *d,
                       plan *p, ccz_hfl_join_result *out)
{
    Cczfl__JoinRequest jr = CCZFL__JOIN_REQUEST__INIT;
    jr.name = (char *)o->name;
    jr.examples = d->rows;
    jr.model = (char *)(o->model ? o->model : "");
    ProtobufCMessage *resp;
    CCZ_GUARD(call(ch, o, "Join", &jr.base, &cczfl__plan__descriptor, &resp, out));
    if (out->code)
        return CCZ_OK;
    ccz_status s = fl_hfl_read_plan(p, (const Cczfl__Plan *)resp, d, o);
    protobuf_c_message_free_unpacked(resp, NULL);
    return s;
}

/* An aggregator that is down or restarting; not one whose attestation failed (retrying would
 * not change the verdict). */
static bool retryable(int code, const char *message)
{
    return (code == CCZ_RPC_UNAVAILABLE || code == -1 || code == CCZ_RPC_CANCELLED) &&
           !strstr(message, "rejected");
}

/* Top-k with error feedback: what the client did not send (and what float16 rounded away) is
 * kept in residual and added to the next round's changes. */
typedef struct {
    size_t k;
    float *delta, *residual, *values, *sent;
    uint32_t *indices;
} sparse_state;

static void sparse_free(sparse_state *z)
{
    free(z->delta);
    free(z->residual);
    free(z->values);
    free(z->sent);
    free(z->indices);
    memset(z, 0, sizeof *z);
}

/* k for a model of dim weights, 0 when a sparse upload would not be smaller than a dense one
 * (an index costs at most 5 bytes on the wire). */
static size_t topk_count(double top_k, size_t dim, ccz_hfl_dtype dtype)
{
    if (!(top_k > 0))
        return 0;
    double k = top_k < 1 ? ceil(top_k * (double)dim) : floor(top_k);
    size_t n = k >= (double)dim ? dim : (size_t)k, size = dtype == CCZ_HFL_F16 ? 2 : 4;
    return n >= 1 && n * (size + 5) < dim * size ? n : 0;
}

static ccz_status sparse_alloc(sparse_state *z, size_t dim, size_t k)
{
    z->k = k;
    z->delta = malloc(dim * sizeof(float));
    z->residual = calloc(dim, sizeof(float));
    z->values = malloc(k * sizeof(float));
    z->sent = malloc(k * sizeof(float));
    z->indices = malloc(k * sizeof(uint32_t));
    CCZ_ENSURE(z->delta && z->residual && z->values && z->sent && z->indices, CCZ_ERR_NOMEM,
               "out of memory for top-k uploads");
    return CCZ_OK;
}

/* Fills u's sparse fields from the trained w and the round's global model, encoding the deltas
 * into msg; the residual keeps the rest. */
static ccz_status sparse_encode(sparse_state *z, Cczfl__Update *u, ccz_buf *msg, const float *w,
                                const float *global, size_t dim, ccz_hfl_dtype dtype)
{
    for (size_t i = 0; i < dim; i++)
        z->delta[i] = w[i] - global[i] + z->residual[i];
    CCZ_GUARD(ccz_hfl_topk(z->indices, z->values, z->delta, dim, z->k));
    CCZ_GUARD(ccz_hfl_tensor_encode(msg, z->values, z->k, dtype));
    /* what the aggregator will add: the values as dtype rounded them */
    CCZ_GUARD(ccz_hfl_tensor_decode(z->sent, z->k, dtype, msg->ptr, msg->len));
    memcpy(z->residual, z->delta, dim * sizeof(float));
    for (size_t j = 0; j < z->k; j++)
        z->residual[z->indices[j]] -= z->sent[j];
    u->sparse = true;
    u->n_indices = z->k;
    u->indices = z->indices;
    u->deltas = (ProtobufCBinaryData){msg->len, msg->ptr};
    return CCZ_OK;
}

typedef struct {
    int code;
    char message[512];
} stream_result;

static void stream_message(const ProtobufCMessage *resp, void *payload)
{
    (void)resp, (void)payload;
}

static void stream_done(const ccz_rpc_status *st, void *payload)
{
    stream_result *r = payload;
    r->code = st->code;
    snprintf(r->message, sizeof r->message, "%s", st->message);
}

/* u (a dense or sparse update) as PushUpdateStream: its header, then slices of at most chunk
 * bytes of whole values. */
static ccz_status push_stream(ccz_rpc_channel *ch, const ccz_hfl_join_opts *o,
                              const Cczfl__Update *u, ccz_hfl_join_result *out)
{
    size_t chunk = o->chunk_bytes ? o->chunk_bytes : CCZ_HFL_CHUNK_DEFAULT;
    chunk = chunk > CCZ_HFL_CHUNK_MAX ? CCZ_HFL_CHUNK_MAX : chunk;
    /* values per slice: a message of at most chunk bytes (a field's tag and length aside, an
     * index takes at most 5 bytes) */
    size_t size = u->dtype == CCZFL__DTYPE__F16 ? 2 : 4, budget = chunk > 128 ? chunk - 64 : chunk;
    size_t per = budget / (size + (u->sparse ? 5 : 0));
    per = per ? per : 1;
    const ProtobufCBinaryData *b = u->sparse ? &u->deltas : &u->weights;
    Cczfl__UpdateHeader h = CCZFL__UPDATE_HEADER__INIT;
    h.round = u->round;
    h.examples = u->examples;
    h.loss = u->loss;
    h.dtype = u->dtype;
    h.sparse = u->sparse;
    h.count = u->sparse ? (uint32_t)u->n_indices : 0;
    h.total = b->len;
    ccz_rpc_call_opts co = {CCZ_RPC_CALL_OPTS_VERSION, o->deadline_ms, NULL};
    stream_result r = {-1, "the call did not complete"};
    ccz_rpc_stream *st;
    CCZ_GUARD(ccz_rpc_start(ch, &st, "/cczfl.Aggregator/PushUpdateStream", NULL,
                            &cczfl__ack__descriptor, &co, stream_message, stream_done, &r));
    Cczfl__UpdateChunk m = CCZFL__UPDATE_CHUNK__INIT;
    m.header = &h;
    ccz_status s = ccz_rpc_stream_send(st, &m.base);
    m.header = NULL;
    for (size_t at = 0; s == CCZ_OK && at < b->len / size; at += per) {
        size_t k = b->len / size - at < per ? b->len / size - at : per;
        ProtobufCBinaryData slice = {k * size, b->data + at * size};
        if (u->sparse) {
            m.n_indices = k;
            m.indices = u->indices + at;
            m.deltas = slice;
        } else {
            m.weights = slice;
        }
        s = ccz_rpc_stream_send(st, &m.base);
    }
    /* closed even after a failed send: the aggregator then refuses the short stream at once */
    ccz_status s1 = ccz_rpc_stream_close(st);
    s = s ? s : s1;
    ccz_status s2 = ccz_rpc_channel_run(ch);
    if (s == CCZ_OK)
        s = s2;
    out->code = r.code;
    out->method = "PushUpdateStream";
    snprintf(out->message, sizeof out->message, "%s", r.message);
    return s;
}

ccz_status ccz_hfl_join(ccz_rpc_channel *ch, const ccz_hfl_join_opts *o, const ccz_mlp_data *d,
                        ccz_hfl_join_result *out)
{
    memset(out, 0, sizeof *out);
    out->acc = out->loss = -1;
    CCZ_ENSURE(o && o->version == CCZ_HFL_JOIN_OPTS_VERSION && o->name, CCZ_ERR_INVALID_ARGUMENT,
               "ccz_hfl_join_opts: version %u (expected %u) and a name", o ? o->version : 0,
               CCZ_HFL_JOIN_OPTS_VERSION);
    ccz_hfl_join_opts oo = *o;
    oo.deadline_ms = o->deadline_ms ? o->deadline_ms : 1800000;
    double retry = (o->retry_ms ? o->retry_ms : 60000) / 1000.0;
    plan p = {0};
    size_t dim = 0; /* the first plan's, which the buffers are made for */
    float *w = NULL, *anchor = NULL;
    ccz_buf msg = CCZ_BUF_INIT;
    sparse_state z = {0};
    ccz_status s = CCZ_OK;
    bool joined = false, unary = o->unary;
    unsigned after = 0;
    double down_since = 0;
    for (;;) {
        if (!joined) {
            s = join(ch, &oo, d, &p, out);
            if (s)
                break;
            if (retryable(out->code, out->message))
                goto unreachable;
            if (out->code)
                break;
            joined = true;
            down_since = 0;
            /* the buffers are the first plan's size: an aggregator back with another model
             * would have them overrun */
            if (w && p.dim != dim) {
                s = ccz_fail(CCZ_ERR_PROTOCOL,
                             "the aggregator's model changed from %zu to %zu weights when it "
                             "came back",
                             dim, p.dim);
                break;
            }
            dim = p.dim;
            if (!w) {
                w = malloc(p.dim * sizeof(float));
                anchor = malloc(p.dim * sizeof(float));
                if (!w || !anchor) {
                    s = ccz_fail(CCZ_ERR_NOMEM, "out of memory");
                    break;
                }
                size_t k = topk_count(o->top_k, p.dim, o->dtype);
                if (k && (s = sparse_alloc(&z, p.dim, k)) != CCZ_OK)
                    break;
            }
        }
        Cczfl__ModelRequest mr = CCZFL__MODEL_REQUEST__INIT;
        mr.after_round = after;
        ProtobufCMessage *resp;
        s = call(ch, &oo, "GetModel", &mr.base, &cczfl__model__descriptor, &resp, out);
        if (s)
            break;
        if (out->code == CCZ_RPC_FAILED_PRECONDITION) { /* an aggregator that restarted */
            joined = false;
            continue;
        }
        if (retryable(out->code, out->message))
            goto unreachable;
        if (out->code)
            break;
        down_since = 0;
        const Cczfl__Model *m = (const Cczfl__Model *)resp;
        s = ccz_hfl_tensor_decode(w, p.dim, m->dtype, m->weights.data, m->weights.len);
        unsigned round = m->round;
        bool done = m->done;
        out->last_round = round;
        out->acc = m->accuracy;
        out->loss = m->loss;
        protobuf_c_message_free_unpacked(resp, NULL);
        if (s) {
            s = ccz_fail_context(CCZ_ERR_PROTOCOL, "the aggregator's model");
            break;
        }
        if (done)
            break;
        double t0 = fl_now(), loss = 0;
        memcpy(anchor, w, p.dim * sizeof(float));
        ccz_mlp_train_opts to = p.train;
        to.anchor = p.prox ? anchor : NULL;
        to.seed = o->seed * 1000003u + round;
        s = ccz_mlp_train(w, &p.shape, d, &to, &loss);
        if (s == CCZ_OK && p.secure) {
            s = ccz_hfl_secagg_upload(ch, &oo, round, w, p.dim, loss, out);
            if (s)
                break;
            bool in = out->code == CCZ_RPC_OK;
            out->rounds += in;
            if (o->progress)
                o->progress(round, p.rounds, loss, fl_now() - t0, in, out->message, o->payload);
            after = round;
            if ((o->fault && round == o->fault_round) || out->code == CCZ_RPC_INVALID_ARGUMENT ||
                out->code == CCZ_RPC_PERMISSION_DENIED)
                break;
            if (retryable(out->code, out->message))
                joined = false;
            continue;
        }
        msg.len = 0;
        Cczfl__Update u = CCZFL__UPDATE__INIT;
        if (s == CCZ_OK && z.k)
            s = sparse_encode(&z, &u, &msg, w, anchor, p.dim, o->dtype);
        else if (s == CCZ_OK)
            s = ccz_hfl_tensor_encode(&msg, w, p.dim, o->dtype);
        if (s)
            break;
        out->sent_values = z.k ? z.k : p.dim;
        out->model_values = p.dim;
        u.round = round;
        u.examples = d->rows;
        u.loss = loss;
        u.dtype = o->dtype == CCZ_HFL_F16 ? CCZFL__DTYPE__F16 : CCZFL__DTYPE__F32;
        if (!z.k)
            u.weights = (ProtobufCBinaryData){msg.len, msg.ptr};
        resp = NULL;
        if (!unary) {
            s = push_stream(ch, &oo, &u, out);
            if (s == CCZ_OK && out->code == CCZ_RPC_UNIMPLEMENTED)
                unary = true; /* an aggregator without it: the unary call from now on */
        }
        if (s == CCZ_OK && unary)
            s = call(ch, &oo, "PushUpdate", &u.base, &cczfl__ack__descriptor, &resp, out);
        if (s)
            break;
        if (resp)
            protobuf_c_message_free_unpacked(resp, NULL);
        bool accepted = out->code == CCZ_RPC_OK;
        if (accepted) {
            out->rounds++;
            out->streamed += !unary;
        } else if (z.k) /* nothing of it reached the model: all of it is still to send */
            memcpy(z.residual, z.delta, p.dim * sizeof(float));
        if (o->progress)
            o->progress(round, p.rounds, loss, fl_now() - t0, accepted, out->message, o->payload);
        after = round;
        if (out->code == CCZ_RPC_INVALID_ARGUMENT || out->code == CCZ_RPC_PERMISSION_DENIED)
            break;
        if (retryable(out->code, out->message))
            joined = false; /* the aggregator may have restarted: join again */
        continue;
    unreachable:
        if (down_since == 0)
            down_since = fl_now();
        if (fl_now() - down_since > retry)
            break;
        joined = false;
        fl_sleep_ms(500);
    }
    if (s == CCZ_OK && out->code == CCZ_RPC_OK && !out->method)
        out->method = "GetModel";
    free(w);
    free(anchor);
    ccz_buf_free(&msg);
    sparse_free(&z);
    return s;
}
