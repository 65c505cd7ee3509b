/* SPDX-License-Identifier: Apache-2.0 */
/* The encrypted query's RA-gRPC service (ccz.hequery.HeQuery, include/ccz/hequery.h): a query is
 * copied out of the request on the loop, answered on one worker thread (the answer itself runs
 * on the thread pool), and the reply is given back on the loop. At most max_pending queries
 * wait or run (one whose client's deadline passed, or who cancelled or went away, while it
 * waited is dropped, not computed; while it runs, abandoned at the search's next step);
 * what is wrong with a query is INVALID_ARGUMENT with the reason. Requests are
 * untrusted; the reasons never quote their bytes. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ccz/hequery.h"
#include "core/guard.h"
#include "he_query.pb-c.h"
#include "svc/peer.h"

typedef struct job job;
struct job {
    job *next;
    ccz_heq_service *v;
    ccz_rpc_call *call;
    ccz_heq_algorithm algorithm;
    ccz_buf params, public_key, relin_keys, key[CCZ_HEQ_KEY_CTS];
    ccz_heq_answer answer;
    ccz_status status;
    char error[512];
};

struct ccz_heq_service {
    ccz_rpc_server *rpc;
    ccz_heq_server *server;
    unsigned max_pending, pending; /* pending: under mu */
    FILE *log;
    pthread_t worker;
    bool started, stopping;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    job *head, *tail;
    unsigned long served;
};

static void job_free(job *j)
{
    if (!j)
        return;
    ccz_buf_free(&j->params);
    ccz_buf_free(&j->public_key);
    ccz_buf_free(&j->relin_keys);
    for (int i = 0; i < CCZ_HEQ_KEY_CTS; i++)
        ccz_buf_free(&j->key[i]);
    ccz_buf_free(&j->answer.value);
    free(j);
}

/* The job's end, answered or not: its call given back, its place in the queue freed. */
static void job_done(job *j)
{
    ccz_heq_service *v = j->v;
    ccz_rpc_call_unref(j->call);
    pthread_mutex_lock(&v->mu);
    v->pending--;
    pthread_mutex_unlock(&v->mu);
    job_free(j);
}

/* On the loop: the answer, or the reason there is none. */
static void answer(void *p)
{
    job *j = p;
    if (j->status) {
        (void)!ccz_rpc_finish(j->call, svc_rpc_code(j->status), j->error);
    } else {
        Ccz__Hequery__QueryReply r = CCZ__HEQUERY__QUERY_REPLY__INIT;
        r.value.data = j->answer.value.ptr;
        r.value.len = j->answer.value.len;
        r.block = j->answer.block;
        r.chunks = j->answer.chunks;
        r.load_seconds = j->answer.load_seconds;
        r.setup_seconds = j->answer.setup_seconds;
        r.search_seconds = j->answer.search_seconds;
        if (ccz_rpc_reply(j->call, &r.base) != CCZ_OK)
            (void)!ccz_rpc_finish(j->call, CCZ_RPC_INTERNAL, "cannot send the answer");
    }
    job_done(j);
}

static void say_done(ccz_heq_service *v, const job *j)
{
    if (!v->log)
        return;
    if (j->status)
        fprintf(v->log, "ccz he query: %s query refused: %s: %s\n",
                ccz_heq_algorithm_name(j->algorithm), ccz_status_name(j->status), j->error);
    else
        fprintf(v->log,
                "ccz he query: %s query answered: load %.3f s, setup %.3f s, search %.3f s, "
                "answer %zu bytes\n",
                ccz_heq_algorithm_name(j->algorithm), j->answer.load_seconds,
                j->answer.setup_seconds, j->answer.search_seconds, j->answer.value.len);
    fflush(v->log);
}

/* From the answer's threads, which hold a reference to the call: whether its client still waits
 * (its deadline not passed, not cancelled, still connected). */
static bool client_waits(void *arg)
{
    const ccz_rpc_call *c = arg;
    return ccz_rpc_call_remaining_ms(c) != 0 && ccz_rpc_call_alive(c);
}

static void run(ccz_heq_service *v, job *j)
{
    ccz_span keys[CCZ_HEQ_KEY_CTS];
    for (int i = 0; i < CCZ_HEQ_KEY_CTS; i++)
        keys[i] = ccz_buf_span(&j->key[i]);
    ccz_heq_query_view q = {j->algorithm,
                            ccz_buf_span(&j->params),
                            ccz_buf_span(&j->public_key),
                            ccz_buf_span(&j->relin_keys),
                            keys,
                            CCZ_HEQ_KEY_CTS,
                            client_waits,
                            j->call};
    ccz_error_clear();
    j->status = ccz_heq_server_answer(&j->answer, v->server, &q);
    if (j->status)
        snprintf(j->error, sizeof j->error, "%s", ccz_error_detail());
    say_done(v, j);
}

static void *worker(void *p)
{
    ccz_heq_service *v = p;
    pthread_mutex_lock(&v->mu);
    for (;;) {
        while (!v->head && !v->stopping)
            pthread_cond_wait(&v->cv, &v->mu);
        if (v->stopping)
            break;
        job *j = v->head;
        v->head = j->next;
        if (!v->head)
            v->tail = NULL;
        pthread_mutex_unlock(&v->mu);
        bool expired = ccz_rpc_call_remaining_ms(j->call) == 0;
        if (expired || !ccz_rpc_call_alive(j->call)) { /* its client gave up while it waited */
            j->status = CCZ_ERR_NETWORK;
            snprintf(j->error, sizeof j->error, "%s while the query waited: not computed",
                     expired ? "the client's deadline passed" : "the client went away");
            say_done(v, j);
        } else {
            run(v, j);
        }
        v->served++;
        if (svc_defer_to_loop(v->rpc, answer, j) != CCZ_OK) {
            /* the loop has ended: the call and the job are given back here */
            ccz_log(CCZ_LOG_ERROR, "he query: cannot hand an answer to the gRPC loop: %s",
                    ccz_error_detail());
            job_done(j);
        }
        pthread_mutex_lock(&v->mu);
    }
    pthread_mutex_unlock(&v->mu);
    return NULL;
}

static ccz_status copy_bytes(ccz_buf *out, const ProtobufCBinaryData *d)
{
    return ccz_buf_append(out, d->data, d->len);
}

/* The request's bytes, copied: the request is freed when the handler returns. */
static ccz_status job_from(job *j, const Ccz__Hequery__QueryRequest *r)
{
    CCZ_ENSURE(r->algorithm >= CCZ__HEQUERY__ALGORITHM__FAITHFUL &&
                   r->algorithm <= CCZ__HEQUERY__ALGORITHM__PACKED,
               CCZ_ERR_INVALID_ARGUMENT, "algorithm %d: FAITHFUL, FAST or PACKED", r->algorithm);
    CCZ_ENSURE(r->n_key == CCZ_HEQ_KEY_CTS, CCZ_ERR_INVALID_ARGUMENT,
               "the key is %d ciphertexts (two nibbles for each of %d bytes), not %zu",
               CCZ_HEQ_KEY_CTS, CCZ_HEQ_KEY_BYTES, r->n_key);
    j->algorithm = (ccz_heq_algorithm)r->algorithm;
    CCZ_GUARD(copy_bytes(&j->params, &r->params));
    CCZ_GUARD(copy_bytes(&j->public_key, &r->public_key));
    CCZ_GUARD(copy_bytes(&j->relin_keys, &r->relin_keys));
    for (int i = 0; i < CCZ_HEQ_KEY_CTS; i++)
        CCZ_GUARD(copy_bytes(&j->key[i], &r->key[i]));
    return CCZ_OK;
}

static void query(ccz_rpc_call *c, const ProtobufCMessage *msg, void *payload)
{
    ccz_heq_service *v = payload;
    job *j = calloc(1, sizeof *j);
    if (!j) {
        (void)!ccz_rpc_finish(c, CCZ_RPC_RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    ccz_status s = job_from(j, (const Ccz__Hequery__QueryRequest *)msg);
    if (s) {
        (void)!ccz_rpc_finish(c, svc_rpc_code(s), ccz_error_detail());
        job_free(j);
        return;
    }
    pthread_mutex_lock(&v->mu);
    bool busy = v->pending >= v->max_pending;
    if (!busy) {
        v->pending++;
        j->v = v;
        j->call = c;
        ccz_rpc_call_ref(c);
        if (v->tail)
            v->tail->next = j;
        else
            v->head = j;
        v->tail = j;
        pthread_cond_signal(&v->cv);
    }
    pthread_mutex_unlock(&v->mu);
    if (busy) {
        char why[96];
        snprintf(why, sizeof why, "busy: %u quer%s waiting or running", v->max_pending,
                 v->max_pending == 1 ? "y is" : "ies are");
        (void)!ccz_rpc_finish(c, CCZ_RPC_RESOURCE_EXHAUSTED, why);
        job_free(j);
    }
}

ccz_status ccz_heq_service_new(ccz_heq_service **out, ccz_rpc_server *rpc,
                               const ccz_heq_service_opts *o)
{
    *out = NULL;
    CCZ_ENSURE(o && o->version == CCZ_HEQ_SERVICE_OPTS_VERSION, CCZ_ERR_INVALID_ARGUMENT,
               "he query service: options version %u, expected %u", o ? o->version : 0,
               CCZ_HEQ_SERVICE_OPTS_VERSION);
    CCZ_ENSURE(o->server && rpc, CCZ_ERR_INVALID_ARGUMENT,
               "he query service: a server and an RPC server are needed");
    ccz_heq_service *v = calloc(1, sizeof *v);
    CCZ_ENSURE(v, CCZ_ERR_NOMEM, "out of memory");
    v->rpc = rpc;
    v->server = o->server;
    v->max_pending = o->max_pending ? o->max_pending : 4;
    v->log = o->log;
    pthread_mutex_init(&v->mu, NULL);
    pthread_cond_init(&v->cv, NULL);
    ccz_rpc_handler h[] = {query};
    ccz_status s = ccz_rpc_server_add_service(rpc, &ccz__hequery__he_query__descriptor, h, v);
    if (s == CCZ_OK && pthread_create(&v->worker, NULL, worker, v) != 0)
        s = ccz_fail(CCZ_ERR_NOMEM, "cannot start the he query worker");
    v->started = s == CCZ_OK;
    if (s) {
        ccz_heq_service_free(v);
        return s;
    }
    *out = v;
    return CCZ_OK;
}

void ccz_heq_service_free(ccz_heq_service *v)
{
    if (!v)
        return;
    pthread_mutex_lock(&v->mu);
    v->stopping = true;
    pthread_cond_broadcast(&v->cv);
    pthread_mutex_unlock(&v->mu);
    if (v->started)
        pthread_join(v->worker, NULL); /* a query being answered finishes first */
    /* queries never started: the loop has ended, their calls go with the server */
    for (job *j = v->head, *next; j; j = next) {
        next = j->next;
        ccz_rpc_call_unref(j->call);
        job_free(j);
    }
    pthread_mutex_destroy(&v->mu);
    pthread_cond_destroy(&v->cv);
    free(v);
}
