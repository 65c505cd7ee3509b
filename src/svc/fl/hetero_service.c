/* SPDX-License-Identifier: Apache-2.0 */
/* The hetero-LR arbiter (include/ccz/fl.h, proto/hetero_lr.proto): holds the Paillier key,
 * relays the hosts' encrypted scores and the guest's encrypted residuals, decrypts masked
 * gradients and the loss, decides when to stop. Parties are known by their connection and
 * attested claims; everything they send is checked; every wait is bounded. Runs on the RPC
 * server's loop: a call that must wait for another party is held, not a thread. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ccz/fl.h"
#include "core/guard.h"
#include "core/listener.h"
#include "fl/fl_int.h"
#include "hetero_lr.pb-c.h"
#include "svc/fl/party.h"
#include "svc/peer.h"

#define MAX_PARTIES (CCZ_FL_VLR_MAX_HOSTS + 1)

typedef struct {
    fl_party fl; /* held: Join, Forward or HostForwards waiting for the others */
    bool guest;
    size_t features;
    int64_t *ids;
    size_t n_ids;
    int fwd_step; /* hosts: the step of the scores in fwd (-1: none) */
    mpz_t *fwd;
    mpz_t sq;
    double *scores; /* hosts: the evaluation's scores */
    unsigned step;  /* the party's next step (it has the gradients of the ones before) */
    bool scored;
} party;

struct ccz_fl_vlr_service {
    ccz_fl_vlr_service_opts o;
    const ccz_paillier_pub *pk;
    mpz_t n, n2;
    party p[MAX_PARTIES];
    unsigned joined;
    bool has_guest;
    int64_t *ids; /* aligned */
    size_t rows, batch, nbatches;
    int res_step; /* the step of the residuals in res (-1: none) */
    mpz_t *res;
    size_t res_len;
    double batch_loss, epoch_loss_sum;
    bool loss_ok;
    size_t epoch_losses; /* the epoch's batches whose loss is in epoch_loss_sum */
    int stop_step;       /* the step the training stops after (-1: not decided) */
    ccz_fl_vlr_status st;
    int64_t progress, started;
    fl_room room;
};

#define say(v, ...) svc_log((v)->o.log, "fl", __VA_ARGS__)
#define PARTIES(v) FL_PARTIES((v)->p, (v)->joined)

static const char *label(const party *w, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s %d%s%s%s", w->guest ? "guest" : "host", w->fl.id,
             w->fl.name[0] ? " (" : "", w->fl.name, w->fl.name[0] ? ")" : "");
    return buf;
}

static const char *party_label(const fl_party *p, char *buf, size_t cap)
{
    return label((const party *)p, buf, cap);
}

static party *find(ccz_fl_vlr_service *v, uint64_t conn)
{
    return (party *)fl_find(PARTIES(v), conn);
}

static party *guest_of(ccz_fl_vlr_service *v)
{
    for (unsigned i = 0; i < v->joined; i++)
        if (v->p[i].guest)
            return &v->p[i];
    return NULL;
}

static void over(void *svc)
{
    ccz_fl_vlr_service *v = svc;
    v->o.on_over(&v->st, v->o.payload);
}

#define notify(v) fl_room_notify(&(v)->room)
#define notify_when_told(v) fl_room_notify_when_told(&(v)->room, PARTIES(v))
#define fail(v, code, why) fl_room_fail(&(v)->room, PARTIES(v), code, why)

static bool trained(const ccz_fl_vlr_service *v);

/* The parties that have not called Finish, as "label, label". */
static void unfinished(char *out, size_t cap, const ccz_fl_vlr_service *v)
{
    size_t n = 0;
    char b[96];
    out[0] = 0;
    for (unsigned i = 0; i < v->joined && n < cap; i++)
        if (!v->p[i].fl.finished)
            n += (size_t)snprintf(out + n, cap - n, "%s%s", n ? ", " : "",
                                  label(&v->p[i], b, sizeof b));
}

static void on_tick(void *arg)
{
    ccz_fl_vlr_service *v = arg;
    if (fl_room_over_tick(&v->room))
        return;
    char why[800], who[600], b[96];
    for (unsigned i = 0; i < v->joined; i++) {
        party *w = &v->p[i];
        if (w->fl.held && !ccz_rpc_call_alive(w->fl.held)) {
            snprintf(why, sizeof why,
                     "%s left while waiting for the other parties (its call was cancelled or its "
                     "connection closed)",
                     label(w, b, sizeof b));
            fail(v, CCZ_RPC_ABORTED, why);
            return;
        }
    }
    if (v->joined && listener_mono_ms() - v->progress >= v->o.timeout_ms) {
        double secs = v->o.timeout_ms / 1000.0;
        unsigned want = v->o.hosts + 1;
        if (v->joined == want && trained(v)) {
            /* trained: a party did not call Finish; the model is done anyway, as homo-LR's */
            unfinished(who, sizeof who, v);
            say(v, "trained, but %s did not call Finish within %.1f s: the training is done", who,
                secs);
            snprintf(why, sizeof why, "the training is done; %s did not call Finish", who);
            fl_tell_all(PARTIES(v), CCZ_RPC_DEADLINE_EXCEEDED, why); /* a call held for scores */
            v->st.over = true;
            notify(v);
            return;
        }
        if (v->joined < want)
            snprintf(why, sizeof why,
                     "hetero-LR training timed out after %.1f s waiting for %u of %u parties to "
                     "join",
                     secs, want - v->joined, want);
        else {
            fl_waiting_for(who, sizeof who, PARTIES(v), party_label, "no party (all are waiting)");
            snprintf(why, sizeof why, "hetero-LR step %u timed out after %.1f s waiting for %s",
                     v->st.steps, secs, who);
        }
        fail(v, CCZ_RPC_DEADLINE_EXCEEDED, why);
        return;
    }
    ccz_rpc_timer_arm(v->room.tick, FL_TICK_MS);
}

/* ---- ciphertexts on the wire ----------------------------------------------------------------*/

/* count ciphertexts of this key into out, or INVALID_ARGUMENT naming the one that is wrong */
static bool take_ciphertexts(ccz_fl_vlr_service *v, ccz_rpc_call *call, mpz_t *out,
                             const ProtobufCBinaryData *in, size_t n_in, size_t count,
                             const char *what)
{
    if (vlr_ciphertexts(out, v->n, v->n2, in, n_in, count, what) == CCZ_OK)
        return true;
    (void)!ccz_rpc_finish(call, CCZ_RPC_INVALID_ARGUMENT, ccz_error_detail());
    ccz_error_clear();
    return false;
}

static void free_bytes(ProtobufCBinaryData *b, size_t count)
{
    for (size_t i = 0; b && i < count; i++)
        free(b[i].data);
    free(b);
}

/* mpz values as repeated bytes (freed with free_bytes); NULL when out of memory */
static ProtobufCBinaryData *to_bytes(const mpz_t *x, size_t count)
{
    ProtobufCBinaryData *b = calloc(count ? count : 1, sizeof *b);
    for (size_t i = 0; b && i < count; i++) {
        b[i].data = mpz_export(NULL, &b[i].len, 1, 1, 1, 0, x[i]);
        if (!b[i].data) { /* zero */
            b[i].data = calloc(1, 1);
            b[i].len = 1;
        }
        if (!b[i].data) { /* not a 1-byte field without its byte: nothing */
            free_bytes(b, i);
            b = NULL;
        }
    }
    return b;
}

static size_t batch_rows(const ccz_fl_vlr_service *v, unsigned step)
{
    size_t off = (step % v->nbatches) * v->batch;
    return v->rows - off < v->batch ? v->rows - off : v->batch;
}

/* ---- joining: the intersection of the ids ---------------------------------------------------*/

static int cmp_id(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static bool has_id(const party *w, int64_t id)
{
    return bsearch(&id, w->ids, w->n_ids, sizeof id, cmp_id) != NULL;
}

static void all_joined(ccz_fl_vlr_service *v)
{
    party *g = guest_of(v);
    v->ids = malloc((g->n_ids ? g->n_ids : 1) * sizeof *v->ids);
    if (!v->ids) {
        fail(v, CCZ_RPC_RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    v->rows = 0;
    for (size_t i = 0; i < g->n_ids; i++) {
        bool all = true;
        for (unsigned k = 0; k < v->joined && all; k++)
            all = v->p[k].guest || has_id(&v->p[k], g->ids[i]);
        if (all)
            v->ids[v->rows++] = g->ids[i];
    }
    if (v->rows < 2) {
        fail(v, CCZ_RPC_FAILED_PRECONDITION, "the parties have fewer than 2 ids in common");
        return;
    }
    v->batch = v->o.batch_size && v->o.batch_size < v->rows ? v->o.batch_size : v->rows;
    v->nbatches = (v->rows + v->batch - 1) / v->batch;
    v->res = calloc(v->batch, sizeof *v->res);
    for (unsigned k = 0; v->res && k < v->joined; k++) {
        v->p[k].fwd = calloc(v->batch, sizeof(mpz_t));
        if (!v->p[k].fwd) {
            fail(v, CCZ_RPC_RESOURCE_EXHAUSTED, "out of memory");
            return;
        }
        for (size_t r = 0; r < v->batch; r++)
            mpz_init(v->p[k].fwd[r]);
    }
    if (!v->res) {
        fail(v, CCZ_RPC_RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    for (size_t r = 0; r < v->batch; r++)
        mpz_init(v->res[r]);
    say(v, "%zu ids in common (guest %zu); %zu batches of up to %zu rows per epoch", v->rows,
        g->n_ids, v->nbatches, v->batch);
    size_t len = 0;
    uint8_t *nb = mpz_export(NULL, &len, 1, 1, 1, 0, v->n);
    Heterolr__JoinReply reply = HETEROLR__JOIN_REPLY__INIT;
    reply.n = (ProtobufCBinaryData){len, nb};
    reply.n_ids = v->rows;
    reply.ids = v->ids;
    reply.epochs = (int32_t)v->o.epochs;
    reply.batch_size = (int32_t)v->batch;
    reply.alpha = v->o.alpha;
    reply.learning_rate = v->o.learning_rate;
    reply.momentum = v->o.momentum;
    reply.hosts = (int32_t)v->o.hosts;
    for (unsigned k = 0; k < v->joined; k++) {
        party *w = &v->p[k];
        if (w->fl.held && ccz_rpc_call_alive(w->fl.held))
            (void)!ccz_rpc_reply(w->fl.held, &reply.base);
        fl_release(&w->fl);
        free(w->ids); /* the party's own ids are not needed any more */
        w->ids = NULL;
    }
    free(nb);
    v->progress = v->started = listener_mono_ms();
}

static void on_join(ccz_rpc_call *call, const ProtobufCMessage *req, void *payload)
{
    ccz_fl_vlr_service *v = payload;
    const Heterolr__JoinRequest *r = (const Heterolr__JoinRequest *)req;
    char msg[300], b[96], who[96];
    if (v->st.over) {
        (void)!ccz_rpc_finish(call, CCZ_RPC_FAILED_PRECONDITION,
                              v->st.code ? v->st.message : "the training is over");
        return;
    }
    bool guest = r->role && !strcmp(r->role, "guest");
    const char *err = NULL;
    if (!r->role || (!guest && strcmp(r->role, "host")))
        err = "role must be \"guest\" or \"host\"";
    else if (!fl_name_ok(r->name ? r->name : "", false))
        err = "name must be at most 64 printable ASCII characters";
    else if (r->features < 1 || r->features > (int32_t)CCZ_ML_CSV_MAX_FEATURES)
        err = "features must be 1 to 4096";
    else if (r->n_ids < 2 || r->n_ids > CCZ_ML_CSV_MAX_ROWS)
        err = "a party has 2 to 1000000 ids";
    if (err) {
        (void)!ccz_rpc_finish(call, CCZ_RPC_INVALID_ARGUMENT, err);
        return;
    }
    if (find(v, ccz_rpc_call_connection(call)) || v->ids) {
        (void)!ccz_rpc_finish(call, CCZ_RPC_ALREADY_EXISTS,
                              v->ids ? "every party has joined already"
                                     : "this connection has joined already");
        return;
    }
    for (unsigned i = 0; i < v->joined; i++)
        if (v->p[i].fl.id == r->id || (guest && v->p[i].guest)) {
            snprintf(msg, sizeof msg, "%s has joined already",
                     guest && v->p[i].guest ? "the guest" : "a party with this id");
            (void)!ccz_rpc_finish(call, CCZ_RPC_ALREADY_EXISTS, msg);
            return;
        }
    unsigned hosts = v->joined - v->has_guest;
    if (!guest && hosts == v->o.hosts) {
        snprintf(msg, sizeof msg, "the training has its %u hosts already", v->o.hosts);
        (void)!ccz_rpc_finish(call, CCZ_RPC_RESOURCE_EXHAUSTED, msg);
        return;
    }
    party *w = &v->p[v->joined];
    int64_t *ids = malloc(r->n_ids * sizeof *ids);
    if (!ids) {
        (void)!ccz_rpc_finish(call, CCZ_RPC_RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    memcpy(ids, r->ids, r->n_ids * sizeof *ids);
    qsort(ids, r->n_ids, sizeof *ids, cmp_id);
    for (size_t i = 1; i < r->n_ids; i++)
        if (ids[i] == ids[i - 1]) {
            free(ids);
            (void)!ccz_rpc_finish(call, CCZ_RPC_INVALID_ARGUMENT, "the ids are not unique");
            return;
        }
    v->joined++;
    w->guest = guest;
    v->has_guest |= guest;
    w->fl.id = r->id;
    snprintf(w->fl.name, sizeof w->fl.name, "%s", r->name ? r->name : "");
    w->fl.conn = ccz_rpc_call_connection(call);
    w->features = (size_t)r->features;
    w->ids = ids;
    w->n_ids = r->n_ids;
    w->fwd_step = -1;
    mpz_init(w->sq);
    svc_peer_identity(who, sizeof who, ccz_rpc_call_peer(call));
    fl_hold(&w->fl, call);
    v->progress = listener_mono_ms();
    say(v, "%s joined with %zu rows of %zu features (%u of %u parties; %s)", label(w, b, sizeof b),
        w->n_ids, w->features, v->joined, v->o.hosts + 1, who);
    if (v->joined == v->o.hosts + 1)
        all_joined(v);
}

/* The reply for a call when the training failed or the caller is not a party. */
static bool refuse_outsider(ccz_fl_vlr_service *v, ccz_rpc_call *call, party **out)
{
    *out = find(v, ccz_rpc_call_connection(call));
    if (v->st.over && v->st.code != CCZ_RPC_OK) {
        (void)!ccz_rpc_finish(call, CCZ_RPC_FAILED_PRECONDITION, v->st.message);
        if (*out) {
            (*out)->fl.told = true;
            notify_when_told(v);
        }
        return true;
    }
    if (!*out || !v->ids) {
        (void)!ccz_rpc_finish(call, CCZ_RPC_FAILED_PRECONDITION,
                              !*out ? "this connection is not a party of the training: call Join "
                                      "first"
                                    : "the parties have not all joined yet");
        return true;
    }
    return false;
}

static bool stopped(const ccz_fl_vlr_service *v, const party *w)
{
    return v->stop_step >= 0 && w->step > (unsigned)v->stop_step;
}

static bool trained(const ccz_fl_vlr_service *v)
{
    return v->stop_step >= 0 && v->st.steps > (unsigned)v->stop_step;
}

static bool right_step(ccz_fl_vlr_service *v, ccz_rpc_call *call, int step, bool want_guest,
                       party *w)
{
    char msg[200];
    if (w->guest != want_guest) {
        snprintf(msg, sizeof msg, "only %s calls this", want_guest ? "the guest" : "a host");
        (void)!ccz_rpc_finish(call, CCZ_RPC_PERMISSION_DENIED, msg);
        return false;
    }
    if (step < 0 || (unsigned)step != w->step || w->fl.held || stopped(v, w)) {
        snprintf(msg, sizeof msg, "%s for step %d; this party is at step %u%s",
                 w->fl.held ? "a second call" : "a call", step, w->step,
                 stopped(v, w) ? ", and the training is over" : "");
        (void)!ccz_rpc_finish(call, CCZ_RPC_FAILED_PRECONDITION, msg);
        return false;
    }
    return true;
}

/* The guest's HostForwards, answered when it and every host's scores for the step are in. */
static void forwards_ready(ccz_fl_vlr_service *v)
{
    party *g = guest_of(v);
    if (!g || !g->fl.held || v->res_step == (int)g->step)
        return;
    unsigned step = g->step;
    for (unsigned k = 0; k < v->joined; k++)
        if (!v->p[k].guest && v->p[k].fwd_step != (int)step)
            return;
    size_t rows = batch_rows(v, step);
    mpz_t *sum = calloc(rows + 1, sizeof *sum);
    if (!sum) {
        fail(v, CCZ_RPC_RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    bool first = true;
    ccz_status s = CCZ_OK;
    for (size_t r = 0; r <= rows; r++)
        mpz_init(sum[r]);
    for (unsigned k = 0; k < v->joined && s == CCZ_OK; k++) {
        party *h = &v->p[k];
        if (h->guest)
            continue;
        for (size_t r = 0; r < rows && s == CCZ_OK; r++)
            s = first ? (mpz_set(sum[r], h->fwd[r]), CCZ_OK)
                      : ccz_paillier_add(sum[r], v->pk, sum[r], h->fwd[r]);
        if (s == CCZ_OK)
            s = first ? (mpz_set(sum[rows], h->sq), CCZ_OK)
                      : ccz_paillier_add(sum[rows], v->pk, sum[rows], h->sq);
        first = false;
    }
    ProtobufCBinaryData *b = s == CCZ_OK ? to_bytes((const mpz_t *)sum, rows + 1) : NULL;
    if (!b) { /* to_bytes out of memory, as residuals_ready says it */
        (void)!ccz_rpc_finish(g->fl.held,
                              s == CCZ_OK ? CCZ_RPC_RESOURCE_EXHAUSTED : CCZ_RPC_INTERNAL,
                              s == CCZ_OK ? "out of memory" : "cannot sum the hosts' scores");
    } else {
        Heterolr__ForwardReply reply = HETEROLR__FORWARD_REPLY__INIT;
        reply.n_forward = rows;
        reply.forward = b;
        if (v->o.hosts == 1) /* the loss needs sum u_h^2: one host only, as FATE */
            reply.square = b[rows];
        (void)!ccz_rpc_reply(g->fl.held, &reply.base);
    }
    fl_release(&g->fl);
    free_bytes(b, rows + 1);
    for (size_t r = 0; r <= rows; r++)
        mpz_clear(sum[r]);
    free(sum);
}

/* The hosts' Forward calls, answered with the step's residuals. */
static void residuals_ready(ccz_fl_vlr_service *v)
{
    size_t rows = batch_rows(v, (unsigned)v->res_step);
    ProtobufCBinaryData *b = to_bytes((const mpz_t *)v->res, rows);
    Heterolr__Ciphertexts reply = HETEROLR__CIPHERTEXTS__INIT;
    reply.n_values = rows;
    reply.values = b;
    for (unsigned k = 0; k < v->joined; k++) {
        party *h = &v->p[k];
        if (h->guest || !h->fl.held || h->fwd_step != v->res_step)
            continue;
        if (b)
            (void)!ccz_rpc_reply(h->fl.held, &reply.base);
        else
            (void)!ccz_rpc_finish(h->fl.held, CCZ_RPC_RESOURCE_EXHAUSTED, "out of memory");
        fl_release(&h->fl);
    }
    free_bytes(b, rows);
}

static void on_forward(ccz_rpc_call *call, const ProtobufCMessage *req, void *payload)
{
    ccz_fl_vlr_service *v = payload;
    const Heterolr__ForwardRequest *r = (const Heterolr__ForwardRequest *)req;
    party *w;
    if (refuse_outsider(v, call, &w) || !right_step(v, call, r->step, false, w))
        return;
    size_t rows = batch_rows(v, w->step);
    if (!take_ciphertexts(v, call, w->fwd, r->forward, r->n_forward, rows, "scores") ||
        !take_ciphertexts(v, call, &w->sq, &r->square, 1, 1, "square"))
        return;
    w->fwd_step = (int)w->step;
    fl_hold(&w->fl, call);
    v->progress = listener_mono_ms();
    forwards_ready(v);
}

static void on_host_forwards(ccz_rpc_call *call, const ProtobufCMessage *req, void *payload)
{
    ccz_fl_vlr_service *v = payload;
    const Heterolr__Step *r = (const Heterolr__Step *)req;
    party *w;
    if (refuse_outsider(v, call, &w) || !right_step(v, call, r->step, true, w))
        return;
    if (v->res_step == (int)w->step) { /* it would wait for an answer that never comes */
        char msg[160];
        snprintf(msg, sizeof msg,
                 "the hosts' scores of step %u were answered and its residuals are in", w->step);
        (void)!ccz_rpc_finish(call, CCZ_RPC_FAILED_PRECONDITION, msg);
        return;
    }
    fl_hold(&w->fl, call);
    v->progress = listener_mono_ms();
    forwards_ready(v);
}

/* The loss of a step ending an epoch: record it and decide whether to stop. */
static void end_epoch(ccz_fl_vlr_service *v, unsigned step)
{
    unsigned e = step / (unsigned)v->nbatches;
    /* the mean of every batch's loss: with one missing, none (not a sum of fewer) */
    bool all = v->epoch_losses == v->nbatches;
    double loss = all ? v->epoch_loss_sum / (double)v->nbatches : NAN;
    v->st.loss[e] = loss;
    v->epoch_loss_sum = 0;
    v->epoch_losses = 0;
    bool conv = all && e > 0 && !isnan(v->st.loss[e - 1]) && v->o.tol > 0 &&
                fabs(loss - v->st.loss[e - 1]) < v->o.tol;
    if (conv || e + 1 == v->o.epochs) {
        v->stop_step = (int)step;
        v->st.converged = conv;
    }
    if (isnan(loss))
        say(v, "epoch %u: loss not available (%s)%s", e,
            v->o.hosts > 1 ? "several hosts, as FATE" : "the guest sent no loss for a batch",
            conv ? ": converged" : "");
    else
        say(v, "epoch %u: loss %.6f%s", e, loss, conv ? " (converged)" : "");
}

static void on_residuals(ccz_rpc_call *call, const ProtobufCMessage *req, void *payload)
{
    ccz_fl_vlr_service *v = payload;
    const Heterolr__ResidualsRequest *r = (const Heterolr__ResidualsRequest *)req;
    party *w;
    if (refuse_outsider(v, call, &w) || !right_step(v, call, r->step, true, w))
        return;
    unsigned step = w->step;
    if (v->res_step == (int)step) {
        (void)!ccz_rpc_finish(call, CCZ_RPC_ALREADY_EXISTS, "the residuals of this step are in");
        return;
    }
    /* not before every host's scores for the step: a host still at the step before needs the
     * residuals in res for its gradient */
    for (unsigned k = 0; k < v->joined; k++)
        if (!v->p[k].guest && v->p[k].fwd_step != (int)step) {
            char msg[200];
            snprintf(msg, sizeof msg,
                     "residuals for step %u before every host's scores for it (call HostForwards "
                     "first)",
                     step);
            (void)!ccz_rpc_finish(call, CCZ_RPC_FAILED_PRECONDITION, msg);
            return;
        }
    size_t rows = batch_rows(v, step);
    if (!take_ciphertexts(v, call, v->res, r->residuals, r->n_residuals, rows, "residuals"))
        return;
    bool with_loss = r->loss.len > 0;
    v->loss_ok = with_loss && v->o.hosts == 1;
    if (v->loss_ok) {
        mpz_t c, m;
        mpz_inits(c, m, NULL);
        bool ok = take_ciphertexts(v, call, &c, &r->loss, 1, 1, "loss");
        ccz_status s = ok ? ccz_paillier_decrypt(m, v->o.key, c) : CCZ_OK;
        if (ok && s == CCZ_OK)
            s = ccz_fl_vlr_loss(&v->batch_loss, v->pk, m, rows);
        mpz_clears(c, m, NULL);
        if (!ok)
            return;
        if (s) {
            (void)!ccz_rpc_finish(call, svc_rpc_input_code(s), ccz_error_detail());
            ccz_error_clear();
            return;
        }
        v->epoch_loss_sum += v->batch_loss;
        v->epoch_losses++;
    }
    v->res_step = (int)step;
    if ((step + 1) % v->nbatches == 0)
        end_epoch(v, step);
    Heterolr__Empty reply = HETEROLR__EMPTY__INIT;
    (void)!ccz_rpc_reply(call, &reply.base);
    v->progress = listener_mono_ms();
    residuals_ready(v);
}

static void on_gradient(ccz_rpc_call *call, const ProtobufCMessage *req, void *payload)
{
    ccz_fl_vlr_service *v = payload;
    const Heterolr__GradientRequest *r = (const Heterolr__GradientRequest *)req;
    party *w;
    char msg[200];
    if (refuse_outsider(v, call, &w))
        return;
    unsigned step = w->step;
    if (r->step < 0 || (unsigned)r->step != step || v->res_step != r->step || stopped(v, w)) {
        snprintf(msg, sizeof msg, "a gradient for step %d; this party is at step %u%s", r->step,
                 step, v->res_step != (int)step ? " (no residuals yet)" : "");
        (void)!ccz_rpc_finish(call, CCZ_RPC_FAILED_PRECONDITION, msg);
        return;
    }
    size_t dim = w->features + w->guest;
    mpz_t *c = calloc(dim, sizeof *c);
    if (!c) {
        (void)!ccz_rpc_finish(call, CCZ_RPC_RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    for (size_t j = 0; j < dim; j++)
        mpz_init(c[j]);
    if (take_ciphertexts(v, call, c, r->masked, r->n_masked, dim, "gradients")) {
        ccz_status s = ccz_paillier_decrypt_batch(c, v->o.key, (const mpz_t *)c, dim, v->o.threads);
        ProtobufCBinaryData *b = s == CCZ_OK ? to_bytes((const mpz_t *)c, dim) : NULL;
        if (!b) {
            (void)!ccz_rpc_finish(call, s == CCZ_OK ? CCZ_RPC_RESOURCE_EXHAUSTED : CCZ_RPC_INTERNAL,
                                  s == CCZ_OK ? "out of memory" : "cannot decrypt the gradients");
            ccz_error_clear();
        } else {
            unsigned e = step / (unsigned)v->nbatches;
            bool ends = (step + 1) % v->nbatches == 0;
            Heterolr__GradientReply reply = HETEROLR__GRADIENT_REPLY__INIT;
            reply.n_plain = dim;
            reply.plain = b;
            reply.stop = v->stop_step == (int)step;
            reply.converged = reply.stop && v->st.converged;
            reply.epoch = (int32_t)e;
            reply.loss = ends ? v->st.loss[e] : NAN;
            (void)!ccz_rpc_reply(call, &reply.base);
            free_bytes(b, dim);
            w->step++;
        }
    }
    for (size_t j = 0; j < dim; j++)
        mpz_clear(c[j]);
    free(c);
    v->progress = listener_mono_ms();
    /* the steps every party has done */
    unsigned done = w->step;
    for (unsigned k = 0; k < v->joined; k++)
        done = v->p[k].step < done ? v->p[k].step : done;
    if (done == v->st.steps)
        return;
    v->st.steps = done;
    v->st.epochs = (done + (unsigned)v->nbatches - 1) / (unsigned)v->nbatches;
    v->st.seconds = (double)(listener_mono_ms() - v->started) / 1000;
    if (trained(v))
        say(v, "trained: %u epochs (%u steps) in %.1f s (%.3f s per epoch)%s", v->st.epochs,
            v->st.steps, v->st.seconds, v->st.seconds / v->st.epochs,
            v->st.converged ? ", converged" : "");
}

static void scores_ready(ccz_fl_vlr_service *v)
{
    party *g = guest_of(v);
    if (!g || !g->fl.held)
        return;
    for (unsigned k = 0; k < v->joined; k++)
        if (!v->p[k].guest && !v->p[k].scored)
            return;
    double *sum = calloc(v->rows, sizeof *sum);
    if (!sum) {
        fail(v, CCZ_RPC_RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    for (unsigned k = 0; k < v->joined; k++)
        for (size_t r = 0; !v->p[k].guest && r < v->rows; r++)
            sum[r] += v->p[k].scores[r];
    Heterolr__ScoresRequest reply = HETEROLR__SCORES_REQUEST__INIT;
    reply.n_scores = v->rows;
    reply.scores = sum;
    (void)!ccz_rpc_reply(g->fl.held, &reply.base);
    fl_release(&g->fl);
    free(sum);
}

static void on_scores(ccz_rpc_call *call, const ProtobufCMessage *req, void *payload)
{
    ccz_fl_vlr_service *v = payload;
    const Heterolr__ScoresRequest *r = (const Heterolr__ScoresRequest *)req;
    party *w;
    if (refuse_outsider(v, call, &w))
        return;
    const char *err = w->guest                 ? "only a host sends scores"
                      : !stopped(v, w)         ? "the training is not over"
                      : w->scored              ? "this host has sent its scores"
                      : r->n_scores != v->rows ? "one score per aligned row"
                                               : NULL;
    for (size_t i = 0; !err && i < r->n_scores; i++)
        if (!isfinite(r->scores[i]))
            err = "the scores must be finite";
    if (err) {
        (void)!ccz_rpc_finish(call, CCZ_RPC_FAILED_PRECONDITION, err);
        return;
    }
    if (!(w->scores = malloc(v->rows * sizeof(double)))) {
        (void)!ccz_rpc_finish(call, CCZ_RPC_RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    memcpy(w->scores, r->scores, v->rows * sizeof(double));
    w->scored = true;
    Heterolr__Empty reply = HETEROLR__EMPTY__INIT;
    (void)!ccz_rpc_reply(call, &reply.base);
    v->progress = listener_mono_ms();
    scores_ready(v);
}

static void on_host_scores(ccz_rpc_call *call, const ProtobufCMessage *req, void *payload)
{
    (void)req;
    ccz_fl_vlr_service *v = payload;
    party *w;
    if (refuse_outsider(v, call, &w))
        return;
    if (!w->guest || !stopped(v, w) || w->fl.held) {
        (void)!ccz_rpc_finish(call, CCZ_RPC_FAILED_PRECONDITION,
                              !w->guest        ? "only the guest gets the hosts' scores"
                              : !stopped(v, w) ? "the training is not over"
                                               : "the guest waits for the hosts' scores already "
                                                 "(one HostScores at a time)");
        return;
    }
    fl_hold(&w->fl, call);
    v->progress = listener_mono_ms();
    scores_ready(v);
}

static void on_finish(ccz_rpc_call *call, const ProtobufCMessage *req, void *payload)
{
    (void)req;
    ccz_fl_vlr_service *v = payload;
    party *w;
    char b[96];
    if (refuse_outsider(v, call, &w))
        return;
    Heterolr__Empty reply = HETEROLR__EMPTY__INIT;
    (void)!ccz_rpc_reply(call, &reply.base);
    if (!w->fl.finished) {
        w->fl.finished = true;
        say(v, "%s finished", label(w, b, sizeof b));
    }
    for (unsigned k = 0; k < v->joined; k++)
        if (!v->p[k].fl.finished)
            return;
    if (trained(v)) {
        v->st.over = true;
        notify(v);
    }
}

/* ---- the service ----------------------------------------------------------------------------*/

ccz_status ccz_fl_vlr_service_new(ccz_fl_vlr_service **out, ccz_rpc_server *rpc,
                                  const ccz_fl_vlr_service_opts *o)
{
    *out = NULL;
    CCZ_ENSURE(o && o->version == CCZ_FL_VLR_SERVICE_OPTS_VERSION, CCZ_ERR_INVALID_ARGUMENT,
               "ccz_fl_vlr_service_opts: version %u, expected %u", o ? o->version : 0,
               CCZ_FL_VLR_SERVICE_OPTS_VERSION);
    CCZ_ENSURE(o->key, CCZ_ERR_INVALID_ARGUMENT, "the arbiter needs its Paillier key");
    CCZ_ENSURE(o->hosts >= 1 && o->hosts <= CCZ_FL_VLR_MAX_HOSTS, CCZ_ERR_INVALID_ARGUMENT,
               "1 to %d hosts, not %u", CCZ_FL_VLR_MAX_HOSTS, o->hosts);
    CCZ_ENSURE(o->epochs >= 1 && o->epochs <= 1024, CCZ_ERR_INVALID_ARGUMENT,
               "1 to 1024 epochs, not %u", o->epochs);
    /* the plan as every party checks it (src/svc/fl/hetero_client.c), so a bad one fails here */
    CCZ_ENSURE(o->alpha >= 0 && o->alpha < 1e6 && o->learning_rate >= 0 && o->learning_rate < 1e6 &&
                   o->momentum < 1,
               CCZ_ERR_INVALID_ARGUMENT,
               "alpha and the learning rate are in [0, 1e6), the momentum below 1 (not %g, %g and "
               "%g)",
               o->alpha, o->learning_rate, o->momentum);
    ccz_fl_vlr_service *v = calloc(1, sizeof *v);
    CCZ_ENSURE(v, CCZ_ERR_NOMEM, "out of memory");
    v->o = *o;
    fl_room_init(&v->room, o->log, FL_ROOM_STATUS(v->st), o->on_over ? over : NULL, v);
    v->o.alpha = o->alpha ? o->alpha : 0.01;
    v->o.learning_rate = o->learning_rate ? o->learning_rate : 0.15;
    v->o.momentum = o->momentum ? o->momentum : 0.9;
    v->o.tol = o->tol ? o->tol : 1e-4;
    v->o.timeout_ms = o->timeout_ms ? o->timeout_ms : 60000;
    v->pk = ccz_paillier_key_pub(o->key);
    mpz_inits(v->n, v->n2, NULL);
    ccz_paillier_pub_n(v->n, v->pk);
    mpz_mul(v->n2, v->n, v->n);
    v->res_step = v->stop_step = -1;
    for (size_t e = 0; e < CCZ_ARRAY_LEN(v->st.loss); e++)
        v->st.loss[e] = NAN;
    v->progress = listener_mono_ms();
    ccz_status s = ccz_rpc_timer_new(&v->room.tick, rpc, on_tick, v);
    /* the handlers in the order of the service's methods in its .proto */
    const ccz_rpc_handler handlers[] = {on_join,     on_forward, on_host_forwards, on_residuals,
                                        on_gradient, on_scores,  on_host_scores,   on_finish};
    if (s == CCZ_OK)
        s = ccz_rpc_server_add_service(rpc, &heterolr__arbiter__descriptor, handlers, v);
    if (s) {
        ccz_fl_vlr_service_free(v);
        return s;
    }
    ccz_rpc_timer_arm(v->room.tick, FL_TICK_MS);
    *out = v;
    return CCZ_OK;
}

const ccz_fl_vlr_status *ccz_fl_vlr_service_status(const ccz_fl_vlr_service *v)
{
    return &v->st;
}

void ccz_fl_vlr_service_free(ccz_fl_vlr_service *v)
{
    if (!v)
        return;
    for (unsigned k = 0; k < MAX_PARTIES; k++) {
        party *w = &v->p[k];
        fl_release(&w->fl);
        for (size_t r = 0; w->fwd && r < v->batch; r++)
            mpz_clear(w->fwd[r]);
        free(w->fwd);
        if (k < v->joined)
            mpz_clear(w->sq);
        free(w->ids);
        free(w->scores);
    }
    for (size_t r = 0; v->res && r < v->batch; r++)
        mpz_clear(v->res[r]);
    free(v->res);
    free(v->ids);
    mpz_clears(v->n, v->n2, NULL);
    ccz_rpc_timer_free(v->room.tick);
    free(v);
}
