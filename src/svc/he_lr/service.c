/* SPDX-License-Identifier: Apache-2.0 */
/* The encrypted LR inference service (include/ccz/he_lr.h): CCZoo's inference.Inference. The
 * handlers run on the RPC server's loop: they check what is cheap to check, copy the request's
 * bytes and queue a job; worker threads build contexts and evaluate batches; the answer goes
 * back to the loop (ccz_rpc_server_defer). The session table (a context per connection) is the
 * loop's alone; workers see only the session their job holds. A job whose client's deadline
 * passed while it waited, or whose client cancelled or went away, is dropped, not evaluated.
 * Everything from clients is untrusted: the lattice loaders check every byte. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ccz/he_lr.h"
#include "core/guard.h"
#include "core/listener.h"
#include "he_lr.pb-c.h"
#include "svc/peer.h"

#define MAX_BATCHES 64
#define QUEUE_PER_WORKER 4

typedef struct session {
    uint64_t conn;
    ccz_lattice_context *ctx;
    ccz_lattice_public_key *pk;
    ccz_lattice_relin_keys *rk;
    unsigned refs; /* the table's and each job's (loop only) */
    bool in_table;
    uint64_t used; /* the service's clock at the last call (least recently used goes) */
} session;

typedef enum { JOB_INIT, JOB_INFER } job_kind;

typedef struct job {
    struct job *next, *prev_live, *next_live;
    job_kind kind;
    ccz_he_lr_service *v;
    ccz_rpc_call *call;
    uint64_t conn;
    /* InitCtx: copies of the request's fields */
    ccz_buf params, pk, rk;
    int security_level;
    double scale;
    /* Infer: the session and the request's ciphertexts (copied into data, each a span of it) */
    session *sess;
    ccz_buf data;
    ccz_span *cts;
    unsigned batches, batch_size;
    /* the outcome */
    int code;
    char msg[600];
    session *made;
    ccz_buf *results;
    char times[160];
} job;

struct ccz_he_lr_service {
    ccz_rpc_server *rpc;
    const ccz_he_lr_model *model;
    unsigned max_contexts, n_workers, threads;
    bool allow_insecure;
    FILE *log;
    session **table; /* loop only */
    unsigned n_table;
    uint64_t clock;
    pthread_t *workers;
    unsigned started;
    pthread_mutex_t mu; /* the queue and the live jobs */
    pthread_cond_t cv;
    job *head, *tail;
    unsigned queued;
    bool stop;
    job *live; /* every job not yet answered, for the service's end */
    /* the last Infer's request buffer, kept for the next (loop only): a fresh 15 MB buffer
     * costs more in page faults than the copy into it */
    ccz_buf spare;
};

#define say(v, ...) svc_log((v)->log, "he lr", __VA_ARGS__)

/* ---- sessions (loop only) --------------------------------------------------------------------*/

static void session_release(session *s)
{
    if (!s || --s->refs)
        return;
    ccz_lattice_relin_keys_free(s->rk);
    ccz_lattice_public_key_free(s->pk);
    ccz_lattice_context_free(s->ctx);
    free(s);
}

static session *find(const ccz_he_lr_service *v, uint64_t conn)
{
    for (unsigned i = 0; i < v->n_table; i++)
        if (v->table[i]->conn == conn)
            return v->table[i];
    return NULL;
}

static void drop(ccz_he_lr_service *v, unsigned i)
{
    session *s = v->table[i];
    v->table[i] = v->table[--v->n_table];
    s->in_table = false;
    session_release(s);
}

/* The connection's new context, in place of its old one; the least recently used goes when the
 * table is full. */
static void insert(ccz_he_lr_service *v, session *s)
{
    for (unsigned i = 0; i < v->n_table; i++)
        if (v->table[i]->conn == s->conn) {
            drop(v, i);
            break;
        }
    if (v->n_table == v->max_contexts) {
        unsigned lru = 0;
        for (unsigned i = 1; i < v->n_table; i++)
            if (v->table[i]->used < v->table[lru]->used)
                lru = i;
        say(v, "connection %llu: its context goes (%u held, the most there may be)",
            (unsigned long long)v->table[lru]->conn, v->max_contexts);
        drop(v, lru);
    }
    s->in_table = true;
    s->used = ++v->clock;
    v->table[v->n_table++] = s;
}

/* ---- jobs ------------------------------------------------------------------------------------*/

static void job_free(job *j)
{
    if (!j)
        return;
    ccz_buf_free(&j->params);
    ccz_buf_free(&j->pk);
    ccz_buf_free(&j->rk);
    ccz_buf_free(&j->data);
    free(j->cts);
    for (unsigned b = 0; j->results && b < j->batches; b++)
        ccz_buf_free(&j->results[b]);
    free(j->results);
    session_release(j->made);
    free(j);
}

static void fail(job *j, int code, const char *what)
{
    j->code = code;
    snprintf(j->msg, sizeof j->msg, "%s%s%s", what, ccz_error_detail()[0] ? ": " : "",
             ccz_error_detail());
}

/* The SEAL serialization header's magic (0xA15E, little-endian), as CCZoo's client sends. */
static bool seal_magic(const ccz_buf *b)
{
    return b->len >= 2 && b->ptr[0] == 0x5e && b->ptr[1] == 0xa1;
}

/* A printable description of a context: "N 8192, primes 50,45,45,28+50 (218 bits), scale 2^45" */
static void describe(char *out, size_t cap, const ccz_lattice_context *ctx)
{
    unsigned count, total = 0;
    const uint64_t *q = ccz_lattice_context_primes(&count, ctx);
    const ccz_lattice_params *p = ccz_lattice_context_params(ctx);
    size_t n = (size_t)snprintf(out, cap, "N %u, primes ", 1u << p->log_n);
    for (unsigned i = 0; i < count && n < cap; i++) {
        unsigned b = 64 - (unsigned)__builtin_clzll(q[i]);
        total += b;
        n += (size_t)snprintf(out + n, cap - n, "%s%u",
                              i == 0           ? ""
                              : i + 1 == count ? "+"
                                               : ",",
                              b);
    }
    unsigned max = ccz_lattice_max_bits_128(p->log_n);
    if (n < cap)
        snprintf(out + n, cap - n, " (%u bits, %s), scale 2^%.0f", total,
                 total <= max ? "within the 128-bit table" : "BEYOND the 128-bit table",
                 log2(p->scale));
}

/* The request's parameters, read and checked before a context costs anything; false with the
 * job's status set. */
static bool request_params(job *j, ccz_lattice_params *pp)
{
    const ccz_he_lr_service *v = j->v;
    if (seal_magic(&j->params)) {
        j->code = CCZ_RPC_INVALID_ARGUMENT;
        snprintf(j->msg, sizeof j->msg,
                 "params: this is SEAL's serialization (CCZoo's client); this server reads ccz's "
                 "lattice serialization, as 'ccz he lr infer' sends it");
        return false;
    }
    ccz_lattice_params p;
    if (ccz_lattice_params_load(&p, ccz_buf_span(&j->params)) != CCZ_OK) {
        fail(j, CCZ_RPC_INVALID_ARGUMENT, "params");
        return false;
    }
    /* what a context may cost the server: at N 16384 with 8 primes, about 40 MB of keys and
     * tables (the evaluation needs 5 primes) */
    if (p.scheme != CCZ_LATTICE_CKKS || p.log_n < 12 || p.log_n > 14 || p.n_primes > 8) {
        j->code = CCZ_RPC_INVALID_ARGUMENT;
        snprintf(j->msg, sizeof j->msg,
                 "params: %s, N %u, %u primes: the inference takes CKKS at N 4096 to 16384 with "
                 "at most 8 primes",
                 p.scheme == CCZ_LATTICE_CKKS ? "CKKS" : "BFV", 1u << (p.log_n & 31), p.n_primes);
        return false;
    }
    if (j->security_level != 0 && j->security_level != 128) {
        j->code = CCZ_RPC_INVALID_ARGUMENT;
        snprintf(j->msg, sizeof j->msg,
                 "security_level %d: 128 (the chain within the 128-bit table) or 0 (not checked)",
                 j->security_level);
        return false;
    }
    /* the client's request and the server's own rule: both must allow a chain beyond the table */
    p.no_security_check = j->security_level == 0 && v->allow_insecure;
    if (j->scale != 0 && !(fabs(j->scale / p.scale - 1) < 1e-9)) {
        j->code = CCZ_RPC_INVALID_ARGUMENT;
        if (j->scale > 0)
            snprintf(j->msg, sizeof j->msg, "scale 2^%.2f is not the parameters' (2^%.2f)",
                     log2(j->scale), log2(p.scale));
        else
            snprintf(j->msg, sizeof j->msg, "scale %g is not the parameters' (2^%.2f)", j->scale,
                     log2(p.scale));
        return false;
    }
    *pp = p;
    return true;
}

/* On a worker: the connection's context from the InitCtx request. */
static void run_init(job *j)
{
    const ccz_he_lr_service *v = j->v;
    ccz_error_clear();
    ccz_lattice_params p;
    if (!request_params(j, &p))
        return;
    session *s = calloc(1, sizeof *s);
    if (!s) {
        fail(j, CCZ_RPC_RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    s->conn = j->conn;
    s->refs = 1;
    j->made = s;
    ccz_status st = ccz_lattice_context_new(&s->ctx, &p);
    if (st != CCZ_OK) {
        fail(j, svc_rpc_input_code(st), "params");
        if (j->security_level == 0 && !v->allow_insecure && strstr(j->msg, "128-bit"))
            snprintf(j->msg + strlen(j->msg), sizeof j->msg - strlen(j->msg), "%s",
                     "; this server takes only 128-bit-secure parameters (ccz he lr serve "
                     "--insecure-params takes more)");
        return;
    }
    if ((st = ccz_he_lr_check_context(s->ctx)) != CCZ_OK) {
        fail(j, svc_rpc_input_code(st), "params");
        return;
    }
    if (!j->pk.len) {
        j->code = CCZ_RPC_INVALID_ARGUMENT;
        snprintf(j->msg, sizeof j->msg,
                 "pub_key: empty (the server encrypts the polynomial's constant term with it)");
        return;
    }
    if ((st = ccz_lattice_public_key_load(&s->pk, s->ctx, ccz_buf_span(&j->pk))) != CCZ_OK) {
        fail(j, svc_rpc_input_code(st), "pub_key");
        return;
    }
    if ((st = ccz_lattice_relin_keys_load(&s->rk, s->ctx, ccz_buf_span(&j->rk))) != CCZ_OK) {
        fail(j, svc_rpc_input_code(st), "relin_key");
        return;
    }
    j->code = CCZ_RPC_OK;
    describe(j->msg, sizeof j->msg, s->ctx);
}

/* On a worker: the batches of an Infer request. */
static void run_infer(job *j)
{
    const ccz_he_lr_service *v = j->v;
    session *s = j->sess;
    ccz_error_clear();
    j->results = calloc(j->batches, sizeof *j->results);
    ccz_lattice_ciphertext *out = NULL;
    if (!j->results || ccz_lattice_ciphertext_new(&out, s->ctx) != CCZ_OK) {
        fail(j, CCZ_RPC_RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    double eval_ms = 0, save_ms = 0;
    for (unsigned b = 0; b < j->batches; b++) {
        int64_t t0 = listener_mono_ms();
        ccz_status st =
            ccz_he_lr_eval(out, s->ctx, s->rk, s->pk, v->model, j->cts + (size_t)b * j->batch_size,
                           j->batch_size, v->threads);
        int64_t t1 = listener_mono_ms();
        if (st == CCZ_OK)
            st = ccz_lattice_ciphertext_save(&j->results[b], out);
        eval_ms += (double)(t1 - t0);
        save_ms += (double)(listener_mono_ms() - t1);
        if (st) {
            char what[64];
            snprintf(what, sizeof what, "batch %u", b);
            ccz_lattice_ciphertext_free(out);
            fail(j, svc_rpc_code(st), what);
            return;
        }
    }
    ccz_lattice_ciphertext_free(out);
    j->code = CCZ_RPC_OK;
    snprintf(j->times, sizeof j->times, "eval=%.0fms save=%.0fms batches=%u", eval_ms, save_ms,
             j->batches);
}

static void answer(void *arg);

static void *worker(void *arg)
{
    ccz_he_lr_service *v = arg;
    for (;;) {
        pthread_mutex_lock(&v->mu);
        while (!v->head && !v->stop)
            pthread_cond_wait(&v->cv, &v->mu);
        if (v->stop) {
            pthread_mutex_unlock(&v->mu);
            return NULL;
        }
        job *j = v->head;
        v->head = j->next;
        if (!v->head)
            v->tail = NULL;
        v->queued--;
        pthread_mutex_unlock(&v->mu);
        bool expired = ccz_rpc_call_remaining_ms(j->call) == 0;
        if (expired || !ccz_rpc_call_alive(j->call)) { /* its client gave up while it waited */
            /* as the loop's timer ends the call; cancelled or disconnected, nobody hears it */
            j->code = expired ? CCZ_RPC_DEADLINE_EXCEEDED : CCZ_RPC_CANCELLED;
            snprintf(j->msg, sizeof j->msg, "%s", expired ? "deadline exceeded" : "cancelled");
            say(v, "connection %llu: %s dropped: %s while it waited: not evaluated",
                (unsigned long long)j->conn, j->kind == JOB_INIT ? "InitCtx" : "Infer",
                expired ? "the client's deadline passed" : "the client went away");
        } else if (j->kind == JOB_INIT) {
            run_init(j);
        } else {
            run_infer(j);
        }
        if (svc_defer_to_loop(v->rpc, answer, j) != CCZ_OK)
            say(v, "cannot hand an answer to the gRPC loop: %s", ccz_error_detail());
    }
}

static void unlink_live(ccz_he_lr_service *v, job *j)
{
    pthread_mutex_lock(&v->mu);
    if (j->prev_live)
        j->prev_live->next_live = j->next_live;
    else
        v->live = j->next_live;
    if (j->next_live)
        j->next_live->prev_live = j->prev_live;
    pthread_mutex_unlock(&v->mu);
}

/* Queues a job (its call kept alive until the answer); false when the queue is full. */
static bool submit(ccz_he_lr_service *v, job *j)
{
    pthread_mutex_lock(&v->mu);
    bool room = v->queued < v->n_workers * QUEUE_PER_WORKER;
    if (room) {
        ccz_rpc_call_ref(j->call);
        if (v->tail)
            v->tail->next = j;
        else
            v->head = j;
        v->tail = j;
        v->queued++;
        j->next_live = v->live;
        if (v->live)
            v->live->prev_live = j;
        v->live = j;
        pthread_cond_signal(&v->cv);
    }
    pthread_mutex_unlock(&v->mu);
    return room;
}

/* ---- answers (on the loop) -------------------------------------------------------------------*/

static void answer_init(job *j)
{
    ccz_he_lr_service *v = j->v;
    if (j->code != CCZ_RPC_OK) {
        say(v, "connection %llu: InitCtx refused: %s", (unsigned long long)j->conn, j->msg);
        (void)!ccz_rpc_finish(j->call, j->code, j->msg);
        return;
    }
    session *s = j->made;
    j->made = NULL;
    insert(v, s);
    say(v, "connection %llu: context %s", (unsigned long long)j->conn, j->msg);
    Inference__InitCtxReply reply = INFERENCE__INIT_CTX_REPLY__INIT;
    reply.features = (int32_t)v->model->features;
    reply.level = CCZ_HE_LR_LEVEL;
    if (ccz_rpc_reply(j->call, &reply.base) != CCZ_OK)
        (void)!ccz_rpc_finish(j->call, CCZ_RPC_INTERNAL, ccz_error_detail());
}

static void answer_infer(job *j)
{
    ccz_he_lr_service *v = j->v;
    if (j->code != CCZ_RPC_OK) {
        say(v, "connection %llu: Infer refused: %s", (unsigned long long)j->conn, j->msg);
        (void)!ccz_rpc_finish(j->call, j->code, j->msg);
        return;
    }
    ProtobufCBinaryData *res = calloc(j->batches, sizeof *res);
    if (!res) {
        (void)!ccz_rpc_finish(j->call, CCZ_RPC_RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    size_t bytes = 0;
    for (unsigned b = 0; b < j->batches; b++) {
        res[b] = (ProtobufCBinaryData){j->results[b].len, j->results[b].ptr};
        bytes += j->results[b].len;
    }
    Inference__InferReply reply = INFERENCE__INFER_REPLY__INIT;
    reply.n_result = j->batches;
    reply.result = res;
    reply.counts = (int32_t)j->batches;
    say(v, "connection %llu: %u batch%s of %u ciphertexts (%.1f MiB) in, %.1f KiB out; %s",
        (unsigned long long)j->conn, j->batches, j->batches == 1 ? "" : "es", j->batch_size,
        (double)j->data.len / (1 << 20), (double)bytes / 1024, j->times);
    if (ccz_rpc_call_add_trailer(j->call, "ccz-he-lr-times", CCZ_SPAN(j->times, strlen(j->times))))
        ccz_error_clear();
    if (ccz_rpc_reply(j->call, &reply.base) != CCZ_OK)
        (void)!ccz_rpc_finish(j->call, CCZ_RPC_INTERNAL, ccz_error_detail());
    free(res);
}

static void answer(void *arg)
{
    job *j = arg;
    ccz_he_lr_service *v = j->v;
    unlink_live(v, j);
    if (ccz_rpc_call_alive(j->call)) {
        if (j->kind == JOB_INIT)
            answer_init(j);
        else
            answer_infer(j);
    }
    session_release(j->sess);
    ccz_rpc_call_unref(j->call);
    if (j->data.cap > v->spare.cap) {
        ccz_buf t = v->spare;
        v->spare = j->data;
        j->data = t;
    }
    job_free(j);
}

/* ---- handlers (on the loop) ------------------------------------------------------------------*/

static job *job_new(ccz_he_lr_service *v, ccz_rpc_call *call, job_kind kind)
{
    job *j = calloc(1, sizeof *j);
    if (!j) {
        (void)!ccz_rpc_finish(call, CCZ_RPC_RESOURCE_EXHAUSTED, "out of memory");
        return NULL;
    }
    j->kind = kind;
    j->v = v;
    j->call = call;
    j->conn = ccz_rpc_call_connection(call);
    return j;
}

static void queue(ccz_he_lr_service *v, job *j)
{
    if (submit(v, j))
        return;
    char msg[160];
    snprintf(msg, sizeof msg, "the server is busy (%u calls wait for %u worker%s): try again",
             v->n_workers * QUEUE_PER_WORKER, v->n_workers, v->n_workers == 1 ? "" : "s");
    (void)!ccz_rpc_finish(j->call, CCZ_RPC_RESOURCE_EXHAUSTED, msg);
    if (j->sess)
        session_release(j->sess);
    j->sess = NULL;
    job_free(j);
}

static void on_init(ccz_rpc_call *call, const ProtobufCMessage *msg, void *payload)
{
    ccz_he_lr_service *v = payload;
    const Inference__InitCtxRequest *r = (const Inference__InitCtxRequest *)msg;
    job *j = job_new(v, call, JOB_INIT);
    if (!j)
        return;
    j->security_level = r->security_level;
    j->scale = r->scale;
    if (ccz_buf_append(&j->params, r->params.data, r->params.len) ||
        ccz_buf_append(&j->pk, r->pub_key.data, r->pub_key.len) ||
        ccz_buf_append(&j->rk, r->relin_key.data, r->relin_key.len)) {
        (void)!ccz_rpc_finish(call, CCZ_RPC_RESOURCE_EXHAUSTED, "out of memory");
        job_free(j);
        return;
    }
    queue(v, j);
}

static void on_infer(ccz_rpc_call *call, const ProtobufCMessage *msg, void *payload)
{
    ccz_he_lr_service *v = payload;
    const Inference__InferRequest *r = (const Inference__InferRequest *)msg;
    char err[300];
    session *s = find(v, ccz_rpc_call_connection(call));
    if (!s) {
        snprintf(err, sizeof err,
                 "no context on this connection: call InitCtx first (contexts belong to "
                 "connections; the server holds the %u most recently used)",
                 v->max_contexts);
        (void)!ccz_rpc_finish(call, CCZ_RPC_FAILED_PRECONDITION, err);
        return;
    }
    size_t f = v->model->features;
    if (r->batches < 1 || r->batches > MAX_BATCHES || r->batch_size != (int32_t)f ||
        r->n_data != (size_t)r->batches * f) {
        snprintf(err, sizeof err,
                 "batches %d, batch_size %d, %zu ciphertexts: the model has %zu features, so "
                 "batch_size must be %zu and there must be batches x %zu ciphertexts (1 to %d "
                 "batches)",
                 r->batches, r->batch_size, r->n_data, f, f, f, MAX_BATCHES);
        (void)!ccz_rpc_finish(call, CCZ_RPC_INVALID_ARGUMENT, err);
        return;
    }
    job *j = job_new(v, call, JOB_INFER);
    if (!j)
        return;
    j->batches = (unsigned)r->batches;
    j->batch_size = (unsigned)r->batch_size;
    size_t total = 0;
    for (size_t i = 0; i < r->n_data; i++)
        total += r->data[i].len;
    if (v->spare.cap > total) {
        j->data = v->spare;
        v->spare = (ccz_buf)CCZ_BUF_INIT;
        ccz_buf_reset(&j->data);
    }
    j->cts = calloc(r->n_data, sizeof *j->cts);
    if (!j->cts || ccz_buf_reserve(&j->data, total ? total : 1)) {
        (void)!ccz_rpc_finish(call, CCZ_RPC_RESOURCE_EXHAUSTED, "out of memory");
        job_free(j);
        return;
    }
    for (size_t i = 0; i < r->n_data; i++) {
        j->cts[i] = CCZ_SPAN(j->data.ptr + j->data.len, r->data[i].len);
        (void)!ccz_buf_append(&j->data, r->data[i].data, r->data[i].len); /* reserved above */
    }
    s->used = ++v->clock;
    s->refs++;
    j->sess = s;
    queue(v, j);
}

/* ---- the service -----------------------------------------------------------------------------*/

ccz_status ccz_he_lr_service_new(ccz_he_lr_service **out, ccz_rpc_server *rpc,
                                 const ccz_he_lr_service_opts *o)
{
    *out = NULL;
    CCZ_ENSURE(o && o->version == CCZ_HE_LR_SERVICE_OPTS_VERSION, CCZ_ERR_INVALID_ARGUMENT,
               "ccz_he_lr_service_opts: version %u, expected %u", o ? o->version : 0,
               CCZ_HE_LR_SERVICE_OPTS_VERSION);
    CCZ_ENSURE(o->model && o->model->features >= 1, CCZ_ERR_INVALID_ARGUMENT, "no model");
    /* a caller's model (the files hold finite numbers only): one the evaluation cannot take is
     * refused here, not in every batch, where the failure would read as the client's fault
     * (INVALID_ARGUMENT: "weight 1: the constant times the scale exceeds 2^62") */
    CCZ_ENSURE(isfinite(o->model->bias), CCZ_ERR_INVALID_ARGUMENT,
               "the model's bias is not a finite number");
    for (size_t k = 0; k < o->model->features; k++)
        CCZ_ENSURE(isfinite(o->model->weights[k]), CCZ_ERR_INVALID_ARGUMENT,
                   "the model's weight %zu is not a finite number", k);
    ccz_he_lr_service *v = calloc(1, sizeof *v);
    CCZ_ENSURE(v, CCZ_ERR_NOMEM, "out of memory");
    v->rpc = rpc;
    v->model = o->model;
    v->max_contexts = o->max_contexts ? o->max_contexts : 16;
    v->n_workers = o->workers ? o->workers : 2;
    v->threads = o->threads;
    v->allow_insecure = o->allow_insecure_params;
    v->log = o->log;
    pthread_mutex_init(&v->mu, NULL);
    pthread_cond_init(&v->cv, NULL);
    v->table = calloc(v->max_contexts, sizeof *v->table);
    v->workers = calloc(v->n_workers, sizeof *v->workers);
    ccz_status s = v->table && v->workers ? CCZ_OK : ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    const ccz_rpc_handler handlers[] = {on_init, on_infer};
    if (s == CCZ_OK)
        s = ccz_rpc_server_add_service(rpc, &inference__inference__descriptor, handlers, v);
    for (; s == CCZ_OK && v->started < v->n_workers; v->started++)
        if (pthread_create(&v->workers[v->started], NULL, worker, v) != 0)
            s = ccz_fail(CCZ_ERR_NOMEM, "cannot start a worker thread");
    if (s) {
        ccz_he_lr_service_free(v);
        return s;
    }
    *out = v;
    return CCZ_OK;
}

void ccz_he_lr_service_free(ccz_he_lr_service *v)
{
    if (!v)
        return;
    pthread_mutex_lock(&v->mu);
    v->stop = true;
    pthread_cond_broadcast(&v->cv);
    pthread_mutex_unlock(&v->mu);
    for (unsigned i = 0; i < v->started; i++)
        pthread_join(v->workers[i], NULL);
    /* jobs queued, or answered to a loop that no longer runs */
    while (v->live) {
        job *j = v->live;
        v->live = j->next_live;
        session_release(j->sess);
        ccz_rpc_call_unref(j->call);
        job_free(j);
    }
    while (v->n_table)
        drop(v, 0);
    ccz_buf_free(&v->spare);
    free(v->table);
    free(v->workers);
    pthread_mutex_destroy(&v->mu);
    pthread_cond_destroy(&v->cv);
    free(v);
}
