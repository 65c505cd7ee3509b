/* SPDX-License-Identifier: Apache-2.0 */
/* The horizontal FL aggregator (include/ccz/hfl.h): cczfl.Aggregator on the RPC server's loop.
 * GetModel calls wait (held, no thread blocks) until a round opens; updates are checked against
 * the model's shape and answered at once; a timer closes rounds at their deadline. Clients are
 * admitted by RA-TLS before any call; what they send is untrusted. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ccz/hfl.h"
#include "core/guard.h"
#include "core/listener.h"
#include "fl.pb-c.h"
#include "fl/hfl_int.h"
#include "hfl_secagg.h"
#include "svc/fl/party.h"
#include "svc/peer.h"

#define TICK_MS 100
#define LINGER_MS 3000 /* after the last round, for the clients to fetch the final model */

typedef struct upstream upstream;

typedef struct {
    char name[CCZ_HFL_NAME_MAX + 1];
    char who[SVC_PEER_IDENTITY_MAX]; /* its attested identity, the whole measurement */
    uint64_t conn;
    bool used;
    bool dropped;       /* missed a deadline; back when it calls again */
    ccz_rpc_call *held; /* its GetModel */
    unsigned after;     /* of the held call */
    int64_t wait_since;
    bool in_round, sent; /* a participant of the open round; its update is in */
    uint64_t examples;
    double loss;
    float *w;
    uint64_t joined_examples; /* from Join: its weight under secure aggregation */
    upstream *stream;         /* its PushUpdateStream under way, decoding into w */
} client;

struct ccz_hfl_service {
    ccz_hfl_service_opts o;
    ccz_rpc_server *rpc;
    ccz_hfl_strategy *strategy;
    size_t dim;
    float *global;
    ccz_buf model_msg; /* the global model as float32 bytes */
    Cczfl__Model sent; /* the Model packed once for every client (its weights unused) */
    ccz_rpc_packed *packed;
    client cl[CCZ_HFL_MAX_CLIENTS];
    unsigned n_clients;
    unsigned round; /* rounds done */
    bool open;      /* round + 1 runs */
    bool opened_once;
    int64_t opened_at, done_at;
    ccz_hfl_status st;
    ccz_hfl_round last;
    ccz_rpc_timer *tick;
    bool notified;
    hfl_sa *sa; /* secure aggregation (NULL: off) */
};

/* secure aggregation's rounds (below) */
static void sa_open(ccz_hfl_service *v);
static void sa_event(ccz_hfl_service *v, hfl_sa_event e, bool deadline);
static ccz_status sa_register(ccz_hfl_service *v);

#define say(v, ...) svc_log((v)->o.log, "fl", __VA_ARGS__)

static client *by_conn(ccz_hfl_service *v, uint64_t conn)
{
    for (unsigned i = 0; i < v->n_clients; i++)
        if (v->cl[i].used && v->cl[i].conn == conn)
            return &v->cl[i];
    return NULL;
}

static void release(client *c)
{
    if (c->held)
        ccz_rpc_call_unref(c->held);
    c->held = NULL;
}

static ccz_status refresh_model(ccz_hfl_service *v)
{
    v->model_msg.len = 0;
    ccz_rpc_packed_free(v->packed);
    v->packed = NULL;
    return ccz_hfl_tensor_encode(&v->model_msg, v->global, v->dim, CCZ_HFL_F32);
}

/* Answers c's held GetModel with the global model (for round, or done). */
static void send_model(ccz_hfl_service *v, client *c, unsigned round, bool done)
{
    Cczfl__Model m = CCZFL__MODEL__INIT;
    m.round = round;
    m.done = done;
    m.dtype = CCZFL__DTYPE__F32;
    m.weights = (ProtobufCBinaryData){v->model_msg.len, v->model_msg.ptr};
    m.accuracy = v->st.acc;
    m.loss = v->st.loss;
    if (c->held && ccz_rpc_call_alive(c->held)) {
        /* every client waiting gets the same bytes: packed once (refresh_model drops them) */
        if (v->packed && (v->sent.round != round || v->sent.done != done ||
                          v->sent.accuracy != m.accuracy || v->sent.loss != m.loss)) {
            ccz_rpc_packed_free(v->packed);
            v->packed = NULL;
        }
        if (!v->packed && ccz_rpc_packed_new(&v->packed, &m.base) == CCZ_OK)
            v->sent = m;
        if (v->packed)
            (void)!ccz_rpc_reply_packed(c->held, v->packed);
        else
            (void)!ccz_rpc_reply(c->held, &m.base);
    }
    release(c);
}

static void notify(ccz_hfl_service *v)
{
    if (v->notified)
        return;
    v->notified = true;
    ccz_rpc_timer_stop(v->tick);
    if (v->o.on_over)
        v->o.on_over(&v->st, v->o.payload);
}

/* ---- rounds ----------------------------------------------------------------------------------*/

static unsigned active(ccz_hfl_service *v, unsigned *waiting, int64_t *first)
{
    unsigned n = 0;
    *waiting = 0;
    *first = INT64_MAX;
    for (unsigned i = 0; i < v->n_clients; i++) {
        client *c = &v->cl[i];
        if (!c->used || c->dropped)
            continue;
        n++;
        if (!c->held)
            continue;
        (*waiting)++;
        *first = c->wait_since < *first ? c->wait_since : *first;
    }
    return n;
}

/* The round's participants among the waiting clients: all of them, or clients_per_round drawn
 * uniformly (fl_draw), all of them when RAND fails. */
static void select_clients(ccz_hfl_service *v, bool *chosen, unsigned waiting)
{
    unsigned idx[CCZ_HFL_MAX_CLIENTS], n = 0;
    for (unsigned i = 0; i < v->n_clients; i++)
        if (v->cl[i].used && v->cl[i].held)
            idx[n++] = i;
    unsigned want = v->o.clients_per_round;
    if (!want || want >= waiting || n != waiting || !fl_draw(idx, n, want))
        want = n;
    for (unsigned j = 0; j < want; j++)
        chosen[idx[j]] = true;
}

static void try_open(ccz_hfl_service *v)
{
    if (v->open || v->st.over)
        return;
    unsigned waiting;
    int64_t first;
    unsigned n = active(v, &waiting, &first);
    if (waiting < v->o.min_clients)
        return;
    /* the first round after a start waits out the gathering window: clients start together
     * but join one by one */
    bool gathered = listener_mono_ms() - first >= v->o.gather_ms;
    if (!gathered && (waiting < n || !v->opened_once))
        return;
    v->opened_once = true;
    v->open = true;
    v->opened_at = listener_mono_ms();
    bool chosen[CCZ_HFL_MAX_CLIENTS] = {false};
    select_clients(v, chosen, waiting);
    unsigned k = 0;
    char names[600] = "";
    size_t at = 0;
    for (unsigned i = 0; i < v->n_clients; i++) {
        client *c = &v->cl[i];
        if (!c->used || !c->held || !chosen[i])
            continue;
        c->in_round = true;
        c->sent = false;
        c->dropped = false;
        k++;
        if (at < sizeof names)
            at += (size_t)snprintf(names + at, sizeof names - at, "%s%s", at ? ", " : "", c->name);
        send_model(v, c, v->round + 1, false);
    }
    say(v, "round %u/%u: open with %u clients (%s)", v->round + 1, v->o.rounds, k, names);
    if (v->sa)
        sa_open(v);
}

static void append_name(char *out, size_t cap, const char *name)
{
    size_t n = strlen(out);
    if (n < cap)
        snprintf(out + n, cap - n, "%s%s", n ? "," : "", name);
}

static void finish_training(ccz_hfl_service *v)
{
    v->st.over = true;
    v->done_at = listener_mono_ms();
    say(v, "trained: %u rounds%s", v->round, v->o.test ? "" : " (no test set)");
    for (unsigned i = 0; i < v->n_clients; i++)
        if (v->cl[i].held)
            send_model(v, &v->cl[i], v->round, true);
}

static void close_round(ccz_hfl_service *v, bool deadline)
{
    const float *models[CCZ_HFL_MAX_CLIENTS];
    double weights[CCZ_HFL_MAX_CLIENTS];
    ccz_hfl_round *r = &v->last;
    memset(r, 0, sizeof *r);
    r->round = v->round + 1;
    r->rounds = v->o.rounds;
    size_t n = 0;
    double loss = 0, total = 0;
    for (unsigned i = 0; i < v->n_clients; i++) {
        client *c = &v->cl[i];
        if (!c->in_round)
            continue;
        r->participants++;
        if (!c->sent) {
            c->dropped = true;
            append_name(r->dropped, sizeof r->dropped, c->name);
        } else {
            models[n] = c->w;
            weights[n++] = (double)c->examples;
            loss += c->loss * (double)c->examples;
            total += (double)c->examples;
            append_name(r->names, sizeof r->names, c->name);
        }
        c->in_round = c->sent = false;
    }
    r->received = (unsigned)n;
    v->open = false;
    if (n == 0) {
        say(v, "round %u/%u: no update before the deadline (%s dropped); opening it again",
            r->round, v->o.rounds, r->dropped);
        return;
    }
    if (v->sa) { /* the survivors' weighted mean, unmasked: the strategy sees one model */
        models[0] = hfl_sa_mean(v->sa);
        weights[0] = 1;
        n = 1;
    }
    ccz_status s = ccz_hfl_strategy_aggregate(v->strategy, v->global, models, weights, n);
    if (s == CCZ_OK)
        s = refresh_model(v);
    if (s) {
        snprintf(v->st.message, sizeof v->st.message, "round %u: %s", r->round, ccz_error_detail());
        v->st.code = CCZ_RPC_INTERNAL;
        say(v, "aggregation failed: %s", v->st.message);
        finish_training(v);
        return;
    }
    v->round++;
    v->st.rounds_done = v->round;
    r->train_loss = loss / total;
    r->acc = r->loss = -1;
    if (v->o.test) {
        if (ccz_mlp_evaluate(&r->acc, &r->loss, v->global, &v->o.shape, v->o.test, v->o.threads) !=
            CCZ_OK) {
            say(v, "evaluation failed: %s", ccz_error_detail());
            ccz_error_clear();
            r->acc = r->loss = -1;
        }
    }
    v->st.acc = r->acc;
    v->st.loss = r->loss;
    r->seconds = (double)(listener_mono_ms() - v->opened_at) / 1000;
    /* on disk before anyone hears of the round: a crash after the line below resumes after it */
    if (v->o.checkpoint) {
        s = ccz_hfl_checkpoint_write(v->o.checkpoint, v->round, v->strategy, v->global, v->dim);
        if (s) {
            say(v, "warning: checkpoint %s: %s", v->o.checkpoint, ccz_error_detail());
            ccz_error_clear();
        }
    }
    char figures[128] = "";
    if (r->acc >= 0)
        snprintf(figures, sizeof figures, "  test loss: %.4f  accuracy: %.4f", r->loss, r->acc);
    say(v, "round %u/%u: %u of %u updates (%s)%s%s%s; train loss: %.4f%s  [%.1f s]", r->round,
        v->o.rounds, r->received, r->participants, r->names, r->dropped[0] ? "; dropped " : "",
        r->dropped, deadline ? " at the deadline" : "", r->train_loss, figures, r->seconds);
    if (v->o.on_round)
        v->o.on_round(r, v->o.payload);
    if (v->round >= v->o.rounds)
        finish_training(v);
}

static void on_tick(void *arg)
{
    ccz_hfl_service *v = arg;
    for (unsigned i = 0; i < v->n_clients; i++) {
        client *c = &v->cl[i];
        if (c->held && !ccz_rpc_call_alive(c->held)) {
            say(v, "%s went away while waiting for a round", c->name);
            release(c);
            c->dropped = true;
        }
    }
    if (v->st.over) {
        if (listener_mono_ms() - v->done_at >= LINGER_MS) {
            notify(v);
            return;
        }
    } else if (v->open && v->sa) {
        sa_event(v, hfl_sa_tick(v->sa, v->o.round_timeout_ms), true);
    } else if (v->open && listener_mono_ms() - v->opened_at >= (int64_t)v->o.round_timeout_ms) {
        close_round(v, true);
    }
    try_open(v);
    ccz_rpc_timer_arm(v->tick, TICK_MS);
}

/* ---- handlers --------------------------------------------------------------------------------*/

static void fill_plan(ccz_hfl_service *v, Cczfl__Plan *p, uint32_t *layers)
{
    p->model = (char *)(v->o.model ? v->o.model : "mlp");
    for (unsigned l = 0; l <= v->o.shape.layers; l++)
        layers[l] = v->o.shape.sizes[l];
    p->n_layers = v->o.shape.layers + 1;
    p->layers = layers;
    p->rounds = v->o.rounds;
    p->strategy = (char *)ccz_hfl_strategy_name(v->o.strategy);
    p->mu = v->o.strategy == CCZ_HFL_FEDPROX ? v->o.mu : 0;
    p->epochs = v->o.epochs;
    p->batch = v->o.batch;
    p->lr = v->o.lr;
    p->optimizer = (char *)(v->o.optimizer == CCZ_MLP_ADAM ? "adam" : "sgd");
    p->round = v->round;
    p->secure_agg = v->sa != NULL;
}

static void on_join(ccz_rpc_call *call, const ProtobufCMessage *req, void *payload)
{
    ccz_hfl_service *v = payload;
    const Cczfl__JoinRequest *r = (const Cczfl__JoinRequest *)req;
    char msg[400], who[SVC_PEER_IDENTITY_MAX];
    if (!r->name || !fl_name_ok(r->name, true)) {
        (void)!ccz_rpc_finish(call, CCZ_RPC_INVALID_ARGUMENT,
                              "name: 1 to 64 printable ASCII characters, no spaces or commas");
        return;
    }
    const char *model = v->o.model ? v->o.model : "mlp";
    if (r->model && r->model[0] && strcmp(r->model, model)) {
        snprintf(msg, sizeof msg, "this aggregator trains the model '%s', not '%s'", model,
                 r->model);
        (void)!ccz_rpc_finish(call, CCZ_RPC_FAILED_PRECONDITION, msg);
        return;
    }
    if (r->examples == 0 || r->examples > CCZ_HFL_MAX_EXAMPLES) {
        (void)!ccz_rpc_finish(call, CCZ_RPC_INVALID_ARGUMENT, "examples: 1 to 1000000000");
        return;
    }
    svc_peer_identity_full(who, sizeof who, ccz_rpc_call_peer(call));
    uint64_t conn = ccz_rpc_call_connection(call);
    client *c = by_conn(v, conn);
    if (c && strcmp(c->name, r->name)) {
        snprintf(msg, sizeof msg, "this connection joined as %s already", c->name);
        (void)!ccz_rpc_finish(call, CCZ_RPC_ALREADY_EXISTS, msg);
        return;
    }
    for (unsigned i = 0; !c && i < v->n_clients; i++)
        if (v->cl[i].used && !strcmp(v->cl[i].name, r->name)) {
            c = &v->cl[i];
            /* a client that comes back: the same attested identity, and not one still here */
            if (strcmp(c->who, who) || (c->held && ccz_rpc_call_alive(c->held))) {
                snprintf(msg, sizeof msg, "a client named %s has joined already (%s)", c->name,
                         c->who);
                (void)!ccz_rpc_finish(call, CCZ_RPC_ALREADY_EXISTS, msg);
                return;
            }
            release(c);
            c->conn = conn;
            c->dropped = false;
            c->joined_examples = r->examples;
            say(v, "%s rejoined (%s)", c->name, who);
        }
    if (!c) {
        unsigned cap = v->o.max_clients;
        if (v->n_clients == cap) {
            snprintf(msg, sizeof msg, "the aggregator has its %u clients already", cap);
            (void)!ccz_rpc_finish(call, CCZ_RPC_RESOURCE_EXHAUSTED, msg);
            return;
        }
        c = &v->cl[v->n_clients];
        if (!c->w && !(c->w = malloc(v->dim * sizeof(float)))) {
            (void)!ccz_rpc_finish(call, CCZ_RPC_RESOURCE_EXHAUSTED, "out of memory");
            return;
        }
        v->n_clients++;
        c->used = true;
        snprintf(c->name, sizeof c->name, "%s", r->name);
        snprintf(c->who, sizeof c->who, "%s", who);
        c->conn = conn;
        c->joined_examples = r->examples;
        say(v, "%s joined (%u clients; %s; %llu examples)", c->name, v->n_clients, who,
            (unsigned long long)r->examples);
    }
    Cczfl__Plan p = CCZFL__PLAN__INIT;
    uint32_t layers[CCZ_MLP_MAX_LAYERS + 1];
    fill_plan(v, &p, layers);
    (void)!ccz_rpc_reply(call, &p.base);
}

static client *member(ccz_hfl_service *v, ccz_rpc_call *call)
{
    client *c = by_conn(v, ccz_rpc_call_connection(call));
    if (!c)
        (void)!ccz_rpc_finish(call, CCZ_RPC_FAILED_PRECONDITION,
                              "this connection has not joined: call Join first");
    return c;
}

static void on_get_model(ccz_rpc_call *call, const ProtobufCMessage *req, void *payload)
{
    ccz_hfl_service *v = payload;
    const Cczfl__ModelRequest *r = (const Cczfl__ModelRequest *)req;
    client *c = member(v, call);
    if (!c)
        return;
    if (c->held) {
        (void)!ccz_rpc_finish(call, CCZ_RPC_ALREADY_EXISTS,
                              "this client waits for the model already (one GetModel at a time)");
        return;
    }
    ccz_rpc_call_ref(call);
    c->held = call;
    c->after = r->after_round;
    c->wait_since = listener_mono_ms();
    c->dropped = false;
    if (v->st.over) {
        send_model(v, c, v->round, true);
        return;
    }
    try_open(v);
}

/* Whether c may upload for round now: else the call is finished with the status a refused
 * update gets (late or out of turn: FAILED_PRECONDITION; twice: ALREADY_EXISTS). */
static bool may_upload(ccz_hfl_service *v, ccz_rpc_call *call, client *c, unsigned round)
{
    char msg[400];
    if (v->sa) {
        (void)!ccz_rpc_finish(call, CCZ_RPC_FAILED_PRECONDITION,
                              "this aggregator runs secure aggregation: updates go masked "
                              "(AdvertiseKeys, ShareKeys, PushMasked, Unmask)");
        return false;
    }
    if (!v->open || round != v->round + 1 || !c->in_round) {
        if (round <= v->round)
            snprintf(msg, sizeof msg, "late update for round %u: the round is closed (%u done)",
                     round, v->round);
        else
            snprintf(msg, sizeof msg, "update for round %u: %s", round,
                     v->open ? "this client does not take part in it" : "no round is open");
        strcat(msg, "; discarded");
        say(v, "%s: %s", c->name, msg);
        (void)!ccz_rpc_finish(call, CCZ_RPC_FAILED_PRECONDITION, msg);
        return false;
    }
    if (c->sent) {
        (void)!ccz_rpc_finish(call, CCZ_RPC_ALREADY_EXISTS,
                              "this client's update for the round is in already");
        return false;
    }
    return true;
}

/* An update refused for s: the client's fault, or out of memory (RESOURCE_EXHAUSTED, which the
 * client may send again: INVALID_ARGUMENT would end its training). */
static void refuse_update(ccz_hfl_service *v, ccz_rpc_call *call, client *c, ccz_status s)
{
    char msg[400];
    snprintf(msg, sizeof msg, "update rejected: %s", ccz_error_detail());
    ccz_error_clear();
    say(v, "%s: %s", c->name, msg);
    (void)!ccz_rpc_finish(call, svc_rpc_input_code(s), msg);
}

/* c's update (in c->w) is in: the answer, and the round closes when it was the last. */
static void accept_update(ccz_hfl_service *v, ccz_rpc_call *call, client *c,
                          const ccz_hfl_update *u)
{
    c->sent = true;
    c->examples = u->examples;
    c->loss = u->loss;
    Cczfl__Ack a = CCZFL__ACK__INIT;
    a.round = u->round;
    (void)!ccz_rpc_reply(call, &a.base);
    for (unsigned i = 0; i < v->n_clients; i++)
        if (v->cl[i].in_round && !v->cl[i].sent)
            return;
    close_round(v, false);
    try_open(v);
}

static bool streaming(const ccz_hfl_service *v, const client *c);
static void upstream_detach(upstream *u);

static void on_push(ccz_rpc_call *call, const ProtobufCMessage *req, void *payload)
{
    ccz_hfl_service *v = payload;
    const Cczfl__Update *u = (const Cczfl__Update *)req;
    client *c = member(v, call);
    if (!c || !may_upload(v, call, c, u->round))
        return;
    if (streaming(v, c)) {
        (void)!ccz_rpc_finish(call, CCZ_RPC_ALREADY_EXISTS,
                              "this client's update for the round is being streamed");
        return;
    }
    if (c->stream) /* one for a round gone, or cut */
        upstream_detach(c->stream);
    ccz_status s = CCZ_OK;
    if (u->examples == 0 || u->examples > CCZ_HFL_MAX_EXAMPLES || !isfinite(u->loss))
        s = ccz_fail(CCZ_ERR_MALFORMED, "examples %llu (1 to 1000000000), loss %g (finite)",
                     (unsigned long long)u->examples, u->loss);
    if (s == CCZ_OK && u->sparse) /* top-k: the round's global model plus the deltas */
        s = u->weights.len
                ? ccz_fail(CCZ_ERR_MALFORMED, "a sparse update with dense weights too")
                : ccz_hfl_sparse_decode(c->w, v->global, v->dim, u->indices, u->n_indices, u->dtype,
                                        u->deltas.data, u->deltas.len);
    else if (s == CCZ_OK && (u->n_indices || u->deltas.len))
        s = ccz_fail(CCZ_ERR_MALFORMED, "a dense update with sparse values too");
    else if (s == CCZ_OK)
        s = ccz_hfl_tensor_decode(c->w, v->dim, u->dtype, u->weights.data, u->weights.len);
    if (s) {
        refuse_update(v, call, c, s);
        return;
    }
    ccz_hfl_update head = {u->round, u->examples, u->loss};
    accept_update(v, call, c, &head);
}

/* ---- streamed updates ------------------------------------------------------------------------
 * A PushUpdateStream decodes each slice into its client's w as it arrives: at most one stream
 * per client is attached (c->stream), and only an attached stream for the open round writes. A
 * stream that is refused, ends, or is cut (the call freed) detaches; a client whose stream did
 * not end well has sent nothing (c->sent stays false), whatever its w holds. */
struct upstream {
    client *c;          /* NULL: detached */
    ccz_rpc_call *call; /* its call (which frees it) */
    ccz_hfl_stream st;
};

static void upstream_detach(upstream *u)
{
    if (u->c && u->c->stream == u)
        u->c->stream = NULL;
    u->c = NULL;
}

/* c streams its update for the open round on a call still alive. */
static bool streaming(const ccz_hfl_service *v, const client *c)
{
    return c->stream && c->stream->st.head.round == v->round + 1 &&
           ccz_rpc_call_alive(c->stream->call);
}

static void upstream_free(void *p)
{
    upstream_detach(p);
    free(p);
}

static void on_push_stream(ccz_rpc_call *call, const ProtobufCMessage *req, void *payload)
{
    ccz_hfl_service *v = payload;
    const Cczfl__UpdateChunk *m = (const Cczfl__UpdateChunk *)req;
    upstream *u = ccz_rpc_call_user(call);
    if (!u) { /* the first chunk: a header for this client's round */
        client *c = member(v, call);
        if (!c)
            return;
        if (!m || !m->header) {
            refuse_update(v, call, c,
                          ccz_fail(CCZ_ERR_MALFORMED, "chunk 1 must be the header alone"));
            return;
        }
        if (!may_upload(v, call, c, m->header->round))
            return;
        if (streaming(v, c)) {
            (void)!ccz_rpc_finish(call, CCZ_RPC_ALREADY_EXISTS,
                                  "this client's update for the round is being streamed");
            return;
        }
        if (c->stream) /* one for a round gone, or cut: its next chunk is refused */
            upstream_detach(c->stream);
        if (!(u = calloc(1, sizeof *u))) {
            (void)!ccz_rpc_finish(call, CCZ_RPC_RESOURCE_EXHAUSTED, "out of memory");
            return;
        }
        u->call = call;
        ccz_hfl_stream_init(&u->st, v->dim, v->global);
        ccz_rpc_call_set_user(call, u, upstream_free);
        ccz_status s = hfl_stream_apply(&u->st, c->w, m);
        if (s != CCZ_OK) {
            refuse_update(v, call, c, s);
            return;
        }
        u->c = c;
        c->stream = u;
        return;
    }
    client *c = u->c;
    if (c && c->conn != ccz_rpc_call_connection(call)) /* the client came back on another */
        upstream_detach(u);
    c = u->c;
    if (!c) { /* detached: the service is gone, or a later stream took over */
        (void)!ccz_rpc_finish(call, CCZ_RPC_FAILED_PRECONDITION,
                              "this update stream was superseded; discarded");
        return;
    }
    if (!may_upload(v, call, c, u->st.head.round)) { /* the round closed during the upload */
        upstream_detach(u);
        return;
    }
    ccz_hfl_update head;
    ccz_status s = m ? hfl_stream_apply(&u->st, c->w, m) : ccz_hfl_stream_end(&u->st, &head);
    if (s || !m)
        upstream_detach(u);
    if (s)
        refuse_update(v, call, c, s);
    else if (!m)
        accept_update(v, call, c, &head);
}

/* ---- secure aggregation (hfl_secagg.c runs the round's phases) ------------------------------*/

static void sa_open(ccz_hfl_service *v)
{
    unsigned slots[CCZ_HFL_MAX_CLIENTS], n = 0;
    uint64_t examples[CCZ_HFL_MAX_CLIENTS];
    const char *names[CCZ_HFL_MAX_CLIENTS];
    for (unsigned i = 0; i < v->n_clients; i++)
        if (v->cl[i].in_round) {
            slots[n] = i;
            examples[n] = v->cl[i].joined_examples;
            names[n++] = v->cl[i].name;
        }
    if (hfl_sa_open(v->sa, v->round + 1, slots, examples, names, n) != CCZ_OK) {
        say(v, "round %u: %s", v->round + 1, ccz_error_detail());
        ccz_error_clear();
    }
}

/* A phase's end: the round closes with the survivors, or without anyone when it failed. */
static void sa_event(ccz_hfl_service *v, hfl_sa_event e, bool deadline)
{
    if (e == HFL_SA_WAIT)
        return;
    if (e == HFL_SA_FAILED)
        say(v, "round %u: secure aggregation failed: %s", v->round + 1, hfl_sa_why(v->sa));
    for (unsigned i = 0; i < v->n_clients; i++) {
        client *c = &v->cl[i];
        double loss = 0;
        c->sent = c->in_round && e == HFL_SA_DONE && hfl_sa_survived(v->sa, i, &loss);
        c->loss = loss;
        c->examples = c->joined_examples;
    }
    close_round(v, deadline);
    try_open(v);
}

static client *sa_member(ccz_hfl_service *v, ccz_rpc_call *call, unsigned *slot)
{
    client *c = member(v, call);
    if (c)
        *slot = (unsigned)(c - v->cl);
    return c;
}

static void on_sa_keys(ccz_rpc_call *call, const ProtobufCMessage *req, void *payload)
{
    ccz_hfl_service *v = payload;
    unsigned slot;
    if (sa_member(v, call, &slot))
        sa_event(v, hfl_sa_advertise(v->sa, call, slot, (const Cczfl__RoundKeys *)req), false);
}

static void on_sa_share(ccz_rpc_call *call, const ProtobufCMessage *req, void *payload)
{
    ccz_hfl_service *v = payload;
    unsigned slot;
    if (sa_member(v, call, &slot))
        sa_event(v, hfl_sa_share(v->sa, call, slot, (const Cczfl__KeyShares *)req), false);
}

static void on_sa_push(ccz_rpc_call *call, const ProtobufCMessage *req, void *payload)
{
    ccz_hfl_service *v = payload;
    unsigned slot;
    if (sa_member(v, call, &slot))
        sa_event(v,
                 hfl_sa_push(v->sa, call, slot, (const Cczfl__MaskedUpdate *)req, v->o.on_masked,
                             v->o.payload),
                 false);
}

static void on_sa_unmask(ccz_rpc_call *call, const ProtobufCMessage *req, void *payload)
{
    ccz_hfl_service *v = payload;
    unsigned slot;
    if (sa_member(v, call, &slot))
        sa_event(v, hfl_sa_unmask(v->sa, call, slot, (const Cczfl__UnmaskShares *)req), false);
}

static ccz_status sa_register(ccz_hfl_service *v)
{
    CCZ_GUARD(hfl_sa_new(&v->sa, v->dim, v->o.log));
    /* in fl.proto's order: the four plain methods (registered by ccz_hfl_service_new), then
     * AdvertiseKeys, ShareKeys, PushMasked, Unmask */
    const ccz_rpc_handler handlers[] = {NULL,       NULL,        NULL,       NULL,
                                        on_sa_keys, on_sa_share, on_sa_push, on_sa_unmask};
    return ccz_rpc_server_add_service(v->rpc, &cczfl__aggregator__descriptor, handlers, v);
}

/* ---- the service -----------------------------------------------------------------------------*/

static ccz_status resume(ccz_hfl_service *v)
{
    if (!v->o.checkpoint || !ccz_file_exists(v->o.checkpoint))
        return CCZ_OK;
    ccz_buf b = CCZ_BUF_INIT;
    ccz_status s = ccz_file_read(&b, v->o.checkpoint, 64 + 3 * v->dim * 4);
    unsigned round = 0;
    if (s == CCZ_OK)
        s = ccz_hfl_checkpoint_parse(&round, v->strategy, v->global, v->dim, ccz_buf_span(&b));
    ccz_buf_free(&b);
    if (s)
        return ccz_fail_context(s, "checkpoint %s", v->o.checkpoint);
    CCZ_ENSURE(round <= v->o.rounds, CCZ_ERR_INVALID_ARGUMENT,
               "checkpoint %s is of round %u; this training has %u rounds", v->o.checkpoint, round,
               v->o.rounds);
    v->round = round;
    v->st.rounds_done = round;
    say(v, "resuming from checkpoint %s: %u of %u rounds done", v->o.checkpoint, round,
        v->o.rounds);
    return CCZ_OK;
}

ccz_status ccz_hfl_service_new(ccz_hfl_service **out, ccz_rpc_server *rpc,
                               const ccz_hfl_service_opts *o)
{
    *out = NULL;
    CCZ_ENSURE(o && o->version == CCZ_HFL_SERVICE_OPTS_VERSION, CCZ_ERR_INVALID_ARGUMENT,
               "ccz_hfl_service_opts: version %u, expected %u", o ? o->version : 0,
               CCZ_HFL_SERVICE_OPTS_VERSION);
    size_t dim;
    CCZ_GUARD(ccz_mlp_shape_check(&o->shape, &dim));
    CCZ_ENSURE(o->rounds >= 1 && o->rounds <= 100000, CCZ_ERR_INVALID_ARGUMENT,
               "1 to 100000 rounds, not %u", o->rounds);
    unsigned maxc = o->max_clients ? o->max_clients : CCZ_HFL_MAX_CLIENTS;
    CCZ_ENSURE(maxc <= CCZ_HFL_MAX_CLIENTS && o->min_clients >= 1 && o->min_clients <= maxc,
               CCZ_ERR_INVALID_ARGUMENT, "1 <= min clients (%u) <= max clients (%u) <= %d",
               o->min_clients, maxc, CCZ_HFL_MAX_CLIENTS);
    CCZ_ENSURE(!o->secure_agg || o->min_clients >= 2, CCZ_ERR_INVALID_ARGUMENT,
               "secure aggregation takes 2 or more clients a round, not %u: one alone would be "
               "the sum",
               o->min_clients);
    CCZ_ENSURE(!o->clients_per_round ||
                   (o->clients_per_round >= o->min_clients && o->clients_per_round <= maxc),
               CCZ_ERR_INVALID_ARGUMENT, "clients per round (%u) between min clients (%u) and %u",
               o->clients_per_round, o->min_clients, maxc);
    CCZ_ENSURE(!o->test || (o->test->features == o->shape.sizes[0]), CCZ_ERR_INVALID_ARGUMENT,
               "the test set has %zu features; the model takes %u", o->test->features,
               o->shape.sizes[0]);
    ccz_hfl_service *v = calloc(1, sizeof *v);
    CCZ_ENSURE(v, CCZ_ERR_NOMEM, "out of memory");
    v->o = *o;
    v->o.max_clients = maxc;
    if (o->secure_agg && maxc > 255) /* Shamir over GF(2^8) */
        v->o.max_clients = 255;
    v->o.mu = o->mu > 0 ? o->mu : 0.01f;
    v->o.epochs = o->epochs ? o->epochs : 1;
    v->o.batch = o->batch ? o->batch : 32;
    v->o.round_timeout_ms = o->round_timeout_ms ? o->round_timeout_ms : 120000;
    v->o.gather_ms = o->gather_ms ? o->gather_ms : 2000;
    v->rpc = rpc;
    v->dim = dim;
    v->st.dim = dim;
    v->st.acc = v->st.loss = -1;
    v->global = malloc(dim * sizeof(float));
    v->st.weights = v->global;
    ccz_hfl_strategy_opts so = o->strategy_opts;
    so.threads = o->threads;
    ccz_status s = v->global ? CCZ_OK : ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    if (s == CCZ_OK)
        s = ccz_hfl_strategy_new(&v->strategy, o->strategy, dim, &so);
    if (s == CCZ_OK) {
        ccz_mlp_init(v->global, &o->shape, o->seed);
        s = resume(v);
    }
    if (s == CCZ_OK)
        s = refresh_model(v);
    if (s == CCZ_OK)
        s = ccz_rpc_timer_new(&v->tick, rpc, on_tick, v);
    /* in fl.proto's order: Join, GetModel, PushUpdate, PushUpdateStream, then secure
     * aggregation's four (sa_register) */
    const ccz_rpc_handler handlers[] = {on_join, on_get_model, on_push, on_push_stream,
                                        NULL,    NULL,         NULL,    NULL};
    const ccz_rpc_kind kinds[] = {
        CCZ_RPC_UNARY, CCZ_RPC_UNARY, CCZ_RPC_UNARY, CCZ_RPC_CLIENT_STREAMING,
        CCZ_RPC_UNARY, CCZ_RPC_UNARY, CCZ_RPC_UNARY, CCZ_RPC_UNARY};
    if (s == CCZ_OK)
        s = ccz_rpc_server_add_service_kinds(rpc, &cczfl__aggregator__descriptor, kinds, handlers,
                                             v);
    if (s == CCZ_OK && o->secure_agg)
        s = sa_register(v);
    if (s) {
        ccz_hfl_service_free(v);
        return s;
    }
    if (v->round >= v->o.rounds) {
        v->st.over = true;
        v->done_at = listener_mono_ms();
    }
    ccz_rpc_timer_arm(v->tick, TICK_MS);
    *out = v;
    return CCZ_OK;
}

const ccz_hfl_status *ccz_hfl_service_status(const ccz_hfl_service *v)
{
    return &v->st;
}

void ccz_hfl_service_free(ccz_hfl_service *v)
{
    if (!v)
        return;
    for (unsigned i = 0; i < CCZ_HFL_MAX_CLIENTS; i++) {
        if (v->cl[i].stream) /* its call may outlive the service */
            upstream_detach(v->cl[i].stream);
        release(&v->cl[i]);
        free(v->cl[i].w);
    }
    hfl_sa_free(v->sa);
    ccz_hfl_strategy_free(v->strategy);
    free(v->global);
    ccz_buf_free(&v->model_msg);
    ccz_rpc_packed_free(v->packed);
    ccz_rpc_timer_free(v->tick);
    free(v);
}
