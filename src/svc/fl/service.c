/* SPDX-License-Identifier: Apache-2.0 */
/* The homomorphic LR parameter server (include/ccz/fl.h): CCZoo's homolr.Host with
 * AggregateModel answered when the last worker's weights arrive (no thread waits), workers known
 * by their connection and attested claims, every wait bounded. Runs on the RPC server's loop. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ccz/fl.h"
#include "core/guard.h"
#include "core/listener.h"
#include "homo_lr.pb-c.h"
#include "svc/fl/party.h"
#include "svc/peer.h"

typedef struct {
    fl_party fl; /* held: its AggregateModel, waiting for the others */
    char who[96];
    int submitted; /* the iteration of the weights in w (-1: none) */
    ccz_paillier_number *w;
} worker;

struct ccz_fl_hlr_service {
    ccz_fl_hlr_service_opts o;
    ccz_rpc_server *rpc;
    const ccz_paillier_pub *pk;
    ccz_buf key_msg; /* the serialized PaillierPublicKey */
    size_t dim;
    worker wk[CCZ_FL_HLR_MAX_WORKERS];
    unsigned joined, in, finished;
    unsigned iter; /* waiting for the weights of this iteration */
    ccz_paillier_number *avg;
    double *plain;
    ccz_fl_hlr_status st;
    int64_t progress, started;
    fl_room room;
};

#define say(v, ...) svc_log((v)->o.log, "fl", __VA_ARGS__)
#define PARTIES(v) FL_PARTIES((v)->wk, (v)->joined)

static worker *find(ccz_fl_hlr_service *v, uint64_t conn)
{
    return (worker *)fl_find(PARTIES(v), conn);
}

static void over(void *svc)
{
    ccz_fl_hlr_service *v = svc;
    v->o.on_over(&v->st, v->o.payload);
}

#define notify(v) fl_room_notify(&(v)->room)
#define notify_when_told(v) fl_room_notify_when_told(&(v)->room, PARTIES(v))
#define fail(v, code, why) fl_room_fail(&(v)->room, PARTIES(v), code, why)

/* "worker 2 (host)" */
static const char *label(const worker *w, char *buf, size_t cap)
{
    snprintf(buf, cap, "worker %d%s%s%s", w->fl.id, w->fl.name[0] ? " (" : "", w->fl.name,
             w->fl.name[0] ? ")" : "");
    return buf;
}

static void waiting_for(char *out, size_t cap, ccz_fl_hlr_service *v)
{
    size_t n = 0;
    out[0] = 0;
    char b[96];
    for (unsigned i = 0; i < v->joined && n < cap; i++)
        if (v->wk[i].submitted != (int)v->iter)
            n += (size_t)snprintf(out + n, cap - n, "%s%s", n ? ", " : "",
                                  label(&v->wk[i], b, sizeof b));
}

static void on_tick(void *arg)
{
    ccz_fl_hlr_service *v = arg;
    if (fl_room_over_tick(&v->room))
        return;
    char why[700], who[500], b[96];
    for (unsigned i = 0; i < v->joined; i++) {
        worker *w = &v->wk[i];
        if (w->fl.held && !ccz_rpc_call_alive(w->fl.held)) {
            snprintf(why, sizeof why,
                     "%s left while waiting for the others' weights of iteration %u (its call "
                     "was cancelled or its connection closed)",
                     label(w, b, sizeof b), v->iter);
            fail(v, CCZ_RPC_ABORTED, why);
            return;
        }
    }
    /* the clock starts with the first worker: a server may wait for its workers to start */
    if (v->joined && listener_mono_ms() - v->progress >= v->o.timeout_ms) {
        double secs = v->o.timeout_ms / 1000.0;
        if (v->joined < v->o.workers) {
            snprintf(why, sizeof why,
                     "homo-LR training timed out after %.1f s waiting for %u of %u workers to "
                     "join",
                     secs, v->o.workers - v->joined, v->o.workers);
        } else if (v->iter < v->o.iterations) {
            waiting_for(who, sizeof who, v);
            snprintf(why, sizeof why,
                     "homo-LR iteration %u timed out after %.1f s waiting for the weights of %s",
                     v->iter, secs, who);
        } else { /* trained: some worker did not call Finish; the model is done anyway */
            v->st.over = true;
            notify(v);
            return;
        }
        fail(v, CCZ_RPC_DEADLINE_EXCEEDED, why);
        return;
    }
    ccz_rpc_timer_arm(v->room.tick, FL_TICK_MS);
}

/* ---- the aggregation -------------------------------------------------------------------------*/

static void trace(ccz_fl_hlr_service *v, const ccz_paillier_number *const *in)
{
    FILE *f = v->o.trace;
    fprintf(f, "{\"iter\": %u, \"workers\": [", v->iter);
    ccz_paillier_encoded e;
    ccz_paillier_encoded_init(&e);
    for (unsigned k = 0; k < v->joined; k++) {
        fprintf(f, "%s[", k ? ", " : "");
        for (size_t i = 0; i < v->dim; i++) {
            double d = NAN;
            if (ccz_paillier_decrypt_encoded(&e, v->o.key, &in[k][i]) ||
                ccz_paillier_decode_double(&d, v->pk, &e))
                ccz_error_clear();
            fprintf(f, "%s%.17g", i ? ", " : "", d);
        }
        fputc(']', f);
    }
    ccz_paillier_encoded_clear(&e);
    fputs("], \"weights\": [", f);
    for (size_t i = 0; i < v->dim; i++)
        fprintf(f, "%s%.17g", i ? ", " : "", v->plain[i]);
    fputs("]}\n", f);
    fflush(f);
}

static void aggregate(ccz_fl_hlr_service *v)
{
    const ccz_paillier_number *in[CCZ_FL_HLR_MAX_WORKERS];
    /* in the order of the workers' ids, so a trace lists them the same way every run */
    unsigned order[CCZ_FL_HLR_MAX_WORKERS];
    for (unsigned i = 0; i < v->joined; i++)
        order[i] = i;
    for (unsigned i = 1; i < v->joined; i++)
        for (unsigned j = i; j > 0 && v->wk[order[j]].fl.id < v->wk[order[j - 1]].fl.id; j--) {
            unsigned t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    for (unsigned i = 0; i < v->joined; i++)
        in[i] = v->wk[order[i]].w;
    if (v->iter == 0)
        v->started = listener_mono_ms();
    ccz_status s =
        ccz_fl_hlr_aggregate(v->avg, v->plain, v->o.key, in, v->joined, v->dim, v->o.threads);
    if (s) {
        char why[700];
        snprintf(why, sizeof why,
                 "iteration %u: the average of the workers' weights cannot be decrypted to a "
                 "number (%s): a worker sent weights outside the encoding's range",
                 v->iter, ccz_error_detail());
        fail(v, CCZ_RPC_DATA_LOSS, why);
        return;
    }
    v->st.weights = v->plain;
    v->st.iterations = v->iter + 1;
    v->st.seconds = (double)(listener_mono_ms() - v->started) / 1000;
    bool last = v->iter + 1 == v->o.iterations;
    if (v->o.test && (v->iter % v->o.validate_every == 0 || last)) {
        if (ccz_ml_lr_evaluate(&v->st.acc, &v->st.loss, v->plain, v->dim, v->o.test) == CCZ_OK) {
            v->st.validated = (int)v->iter;
            say(v, "iter: %u  acc: %.3f  loss: %.3f", v->iter, v->st.acc, v->st.loss);
        } else {
            ccz_error_clear();
        }
    }
    if (v->o.trace)
        trace(v, in);
    ccz_buf msg = CCZ_BUF_INIT;
    s = ccz_fl_hlr_weights_write(&msg, v->avg, v->dim);
    Homolr__WeightsReply reply = HOMOLR__WEIGHTS_REPLY__INIT;
    reply.updated_weights = (ProtobufCBinaryData){msg.len, msg.ptr};
    for (unsigned i = 0; i < v->joined; i++) {
        worker *w = &v->wk[i];
        if (w->fl.held && ccz_rpc_call_alive(w->fl.held)) {
            if (s == CCZ_OK)
                (void)!ccz_rpc_reply(w->fl.held, &reply.base);
            else
                (void)!ccz_rpc_finish(w->fl.held, CCZ_RPC_INTERNAL, ccz_error_detail());
        }
        fl_release(&w->fl);
    }
    ccz_buf_free(&msg);
    v->in = 0;
    v->iter++;
    v->progress = listener_mono_ms();
    if (last) {
        say(v, "trained: %u iterations of %u workers in %.1f s (%.3f s per iteration)",
            v->o.iterations, v->joined, v->st.seconds, v->st.seconds / v->o.iterations);
        if (v->finished == v->joined) {
            v->st.over = true;
            notify(v);
        }
    }
}

/* ---- handlers --------------------------------------------------------------------------------*/

/* The reply for a call when the training is over or the caller has not joined. */
static bool refuse_outsider(ccz_fl_hlr_service *v, ccz_rpc_call *call, worker **out)
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
    if (!*out) {
        (void)!ccz_rpc_finish(call, CCZ_RPC_FAILED_PRECONDITION,
                              "this connection is not a worker of the training: call GetPubKey "
                              "first");
        return true;
    }
    return false;
}

static void on_key(ccz_rpc_call *call, const ProtobufCMessage *req, void *payload)
{
    ccz_fl_hlr_service *v = payload;
    const Homolr__KeyRequest *r = (const Homolr__KeyRequest *)req;
    char msg[300], b[96];
    if (v->st.over && v->st.code != CCZ_RPC_OK) {
        (void)!ccz_rpc_finish(call, CCZ_RPC_FAILED_PRECONDITION, v->st.message);
        return;
    }
    const char *name = r->name ? r->name : "";
    if (!fl_name_ok(name, false)) {
        (void)!ccz_rpc_finish(call, CCZ_RPC_INVALID_ARGUMENT,
                              "name must be at most 64 printable ASCII characters");
        return;
    }
    worker *w = find(v, ccz_rpc_call_connection(call));
    if (!w) {
        for (unsigned i = 0; i < v->joined; i++)
            if (v->wk[i].fl.id == r->id) {
                snprintf(msg, sizeof msg, "a worker with id %d has joined already (%s)", r->id,
                         label(&v->wk[i], b, sizeof b));
                (void)!ccz_rpc_finish(call, CCZ_RPC_ALREADY_EXISTS, msg);
                return;
            }
        if (v->joined == v->o.workers) {
            snprintf(msg, sizeof msg, "the training has its %u workers already", v->o.workers);
            (void)!ccz_rpc_finish(call, CCZ_RPC_RESOURCE_EXHAUSTED, msg);
            return;
        }
        w = &v->wk[v->joined++];
        w->fl.id = r->id;
        snprintf(w->fl.name, sizeof w->fl.name, "%s", name);
        w->fl.conn = ccz_rpc_call_connection(call);
        w->submitted = -1;
        svc_peer_identity(w->who, sizeof w->who, ccz_rpc_call_peer(call));
        v->progress = listener_mono_ms();
        say(v, "%s joined (%u of %u; %s)", label(w, b, sizeof b), v->joined, v->o.workers, w->who);
    }
    Homolr__KeyReply reply = HOMOLR__KEY_REPLY__INIT;
    reply.key = (ProtobufCBinaryData){v->key_msg.len, v->key_msg.ptr};
    reply.iterations = (int32_t)v->o.iterations;
    reply.features = (int32_t)(v->dim - 1);
    reply.alpha = v->o.alpha;
    reply.learning_rate = v->o.learning_rate;
    reply.workers = (int32_t)v->o.workers;
    reply.validate_every = (int32_t)v->o.validate_every;
    (void)!ccz_rpc_reply(call, &reply.base);
}

static void on_aggregate(ccz_rpc_call *call, const ProtobufCMessage *req, void *payload)
{
    ccz_fl_hlr_service *v = payload;
    const Homolr__WeightsRequest *r = (const Homolr__WeightsRequest *)req;
    worker *w;
    char msg[400], b[96];
    if (refuse_outsider(v, call, &w))
        return;
    if (r->id != w->fl.id) {
        snprintf(msg, sizeof msg, "id %d is not this connection's worker (%s)", r->id,
                 label(w, b, sizeof b));
        (void)!ccz_rpc_finish(call, CCZ_RPC_PERMISSION_DENIED, msg);
        return;
    }
    if (v->iter >= v->o.iterations || r->iter_n < 0 || (unsigned)r->iter_n != v->iter) {
        if (v->iter >= v->o.iterations)
            snprintf(msg, sizeof msg, "the training is over: it had %u iterations",
                     v->o.iterations);
        else
            snprintf(msg, sizeof msg, "weights for iteration %d; the training is at iteration %u",
                     r->iter_n, v->iter);
        (void)!ccz_rpc_finish(call, CCZ_RPC_FAILED_PRECONDITION, msg);
        return;
    }
    if (w->submitted == (int)v->iter) {
        snprintf(msg, sizeof msg, "%s has sent its weights for iteration %u already",
                 label(w, b, sizeof b), v->iter);
        (void)!ccz_rpc_finish(call, CCZ_RPC_ALREADY_EXISTS, msg);
        return;
    }
    ccz_status s = ccz_fl_hlr_weights_parse(w->w, v->dim, v->pk, r->weights.data, r->weights.len);
    if (s) {
        snprintf(msg, sizeof msg, "%s", ccz_error_detail());
        (void)!ccz_rpc_finish(call, svc_rpc_input_code(s), msg);
        return;
    }
    w->submitted = (int)v->iter;
    fl_hold(&w->fl, call);
    v->in++;
    v->progress = listener_mono_ms();
    if (v->in == v->o.workers)
        aggregate(v);
}

static void on_validate(ccz_rpc_call *call, const ProtobufCMessage *req, void *payload)
{
    (void)req;
    ccz_fl_hlr_service *v = payload;
    worker *w;
    if (refuse_outsider(v, call, &w))
        return;
    Homolr__ValidateReply reply = HOMOLR__VALIDATE_REPLY__INIT;
    reply.iter_n = v->st.validated;
    reply.acc = (float)v->st.acc;
    reply.loss = (float)v->st.loss;
    (void)!ccz_rpc_reply(call, &reply.base);
}

static void on_finish(ccz_rpc_call *call, const ProtobufCMessage *req, void *payload)
{
    (void)req;
    ccz_fl_hlr_service *v = payload;
    worker *w;
    char b[96];
    if (refuse_outsider(v, call, &w))
        return;
    Homolr__Empty reply = HOMOLR__EMPTY__INIT;
    (void)!ccz_rpc_reply(call, &reply.base);
    if (!w->fl.finished) {
        w->fl.finished = true;
        v->finished++;
        say(v, "%s finished", label(w, b, sizeof b));
    }
    if (v->finished == v->o.workers && v->iter >= v->o.iterations) {
        v->st.over = true;
        notify(v);
    }
}

/* ---- the service -----------------------------------------------------------------------------*/

static ccz_status key_message(ccz_fl_hlr_service *v)
{
    mpz_t n;
    mpz_init(n);
    ccz_paillier_pub_n(n, v->pk);
    size_t len = 0;
    uint8_t *bytes = mpz_export(NULL, &len, 1, 1, 1, 0, n);
    mpz_clear(n);
    CCZ_ENSURE(bytes, CCZ_ERR_NOMEM, "out of memory");
    Homolr__PaillierPublicKey k = HOMOLR__PAILLIER_PUBLIC_KEY__INIT;
    k.n = (ProtobufCBinaryData){len, bytes};
    size_t size = homolr__paillier_public_key__get_packed_size(&k);
    ccz_status s = ccz_buf_reserve(&v->key_msg, size);
    if (s == CCZ_OK)
        v->key_msg.len = homolr__paillier_public_key__pack(&k, v->key_msg.ptr);
    free(bytes);
    return s;
}

ccz_status ccz_fl_hlr_service_new(ccz_fl_hlr_service **out, ccz_rpc_server *rpc,
                                  const ccz_fl_hlr_service_opts *o)
{
    *out = NULL;
    CCZ_ENSURE(o && o->version == CCZ_FL_HLR_SERVICE_OPTS_VERSION, CCZ_ERR_INVALID_ARGUMENT,
               "ccz_fl_hlr_service_opts: version %u, expected %u", o ? o->version : 0,
               CCZ_FL_HLR_SERVICE_OPTS_VERSION);
    CCZ_ENSURE(o->key, CCZ_ERR_INVALID_ARGUMENT, "the parameter server needs its Paillier key");
    CCZ_ENSURE(o->workers >= 1 && o->workers <= CCZ_FL_HLR_MAX_WORKERS, CCZ_ERR_INVALID_ARGUMENT,
               "1 to %d workers, not %u", CCZ_FL_HLR_MAX_WORKERS, o->workers);
    CCZ_ENSURE(o->iterations >= 1 && o->iterations <= 1000000, CCZ_ERR_INVALID_ARGUMENT,
               "1 to 1000000 iterations, not %u", o->iterations);
    size_t features = o->test ? o->test->features : o->features;
    CCZ_ENSURE(features >= 1 && features <= CCZ_ML_CSV_MAX_FEATURES &&
                   (!o->test || !o->features || o->features == features),
               CCZ_ERR_INVALID_ARGUMENT,
               "the model's features come from the test set or are given (1 to %u)",
               CCZ_ML_CSV_MAX_FEATURES);
    /* a test set without labels would never validate (ccz_ml_lr_evaluate refuses it) */
    CCZ_ENSURE(!o->test || o->test->y, CCZ_ERR_INVALID_ARGUMENT,
               "the test set has no labels to validate against");
    /* the plan as every worker checks it (src/svc/fl/client.c), so a bad one fails here */
    CCZ_ENSURE(o->alpha >= 0 && o->alpha < 1e6 && o->learning_rate >= 0 && o->learning_rate < 1e6,
               CCZ_ERR_INVALID_ARGUMENT,
               "alpha and the learning rate are in [0, 1e6), not %g and %g", o->alpha,
               o->learning_rate);
    CCZ_ENSURE(o->validate_every <= 1000000, CCZ_ERR_INVALID_ARGUMENT,
               "validation every 1 to 1000000 iterations (0: 10), not %u", o->validate_every);
    ccz_fl_hlr_service *v = calloc(1, sizeof *v);
    CCZ_ENSURE(v, CCZ_ERR_NOMEM, "out of memory");
    v->o = *o;
    fl_room_init(&v->room, o->log, FL_ROOM_STATUS(v->st), o->on_over ? over : NULL, v);
    v->o.validate_every = o->validate_every ? o->validate_every : 10;
    v->o.alpha = o->alpha ? o->alpha : 0.01;
    v->o.learning_rate = o->learning_rate ? o->learning_rate : 0.15;
    v->o.timeout_ms = o->timeout_ms ? o->timeout_ms : 60000;
    v->rpc = rpc;
    v->pk = ccz_paillier_key_pub(o->key);
    v->dim = features + 1;
    v->st.validated = -1;
    v->st.dim = v->dim;
    v->progress = v->started = listener_mono_ms();
    v->avg = calloc(v->dim, sizeof *v->avg);
    v->plain = calloc(v->dim, sizeof *v->plain);
    ccz_status s = v->avg && v->plain ? CCZ_OK : ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    for (size_t i = 0; v->avg && i < v->dim; i++)
        ccz_paillier_number_init(&v->avg[i]);
    for (unsigned k = 0; s == CCZ_OK && k < v->o.workers; k++) {
        v->wk[k].w = calloc(v->dim, sizeof *v->wk[k].w);
        if (!v->wk[k].w)
            s = ccz_fail(CCZ_ERR_NOMEM, "out of memory");
        for (size_t i = 0; v->wk[k].w && i < v->dim; i++)
            ccz_paillier_number_init(&v->wk[k].w[i]);
    }
    if (s == CCZ_OK)
        s = key_message(v);
    if (s == CCZ_OK)
        s = ccz_rpc_timer_new(&v->room.tick, rpc, on_tick, v);
    /* the handlers in the order of the service's methods in its .proto */
    const ccz_rpc_handler handlers[] = {on_key, on_aggregate, on_validate, on_finish};
    if (s == CCZ_OK)
        s = ccz_rpc_server_add_service(rpc, &homolr__host__descriptor, handlers, v);
    if (s) {
        ccz_fl_hlr_service_free(v);
        return s;
    }
    ccz_rpc_timer_arm(v->room.tick, FL_TICK_MS);
    *out = v;
    return CCZ_OK;
}

const ccz_fl_hlr_status *ccz_fl_hlr_service_status(const ccz_fl_hlr_service *v)
{
    return &v->st;
}

void ccz_fl_hlr_service_free(ccz_fl_hlr_service *v)
{
    if (!v)
        return;
    for (unsigned k = 0; k < CCZ_FL_HLR_MAX_WORKERS; k++) {
        fl_release(&v->wk[k].fl);
        for (size_t i = 0; v->wk[k].w && i < v->dim; i++)
            ccz_paillier_number_clear(&v->wk[k].w[i]);
        free(v->wk[k].w);
    }
    for (size_t i = 0; v->avg && i < v->dim; i++)
        ccz_paillier_number_clear(&v->avg[i]);
    free(v->avg);
    free(v->plain);
    ccz_buf_free(&v->key_msg);
    ccz_rpc_timer_free(v->room.tick);
    free(v);
}
