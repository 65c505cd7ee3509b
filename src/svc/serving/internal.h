/* SPDX-License-Identifier: Apache-2.0 */
/* The model server's parts (internal; prefix sv_): the models and their batchers (batch.c), the
 * REST front end (rest.c), the gRPC front end (grpc.c) and the server (serving.c). */
#ifndef CCZ_SRC_SERVING_H
#define CCZ_SRC_SERVING_H

#include <pthread.h>
#include <stdatomic.h>

#include "ccz/ml.h"
#include "ccz/rpc.h"
#include "ccz/serving.h"
#include "http/http.h"
#include "tf_serving.pb-c.h"

#define SV_MAX_NAME 64
#define SV_MAX_IO 16          /* inputs and outputs of a served model */
#define SV_MAX_ROWS (1 << 20) /* rows of one request */

typedef struct sv_job sv_job;
typedef struct sv_server sv_server;

/* One model version and its batcher: requests queue here and a thread runs them in batches. */
typedef struct sv_model {
    sv_server *srv;
    char name[SV_MAX_NAME + 1];
    int64_t version;
    ccz_ml_model *ml;
    size_t n_in, n_out;
    ccz_ml_tensor_info in[SV_MAX_IO], out[SV_MAX_IO];
    size_t ws_row_floats; /* the model's intermediate buffers a row, at the largest batch */
    pthread_t thread;
    bool started;
    sv_job *head, *tail; /* the queue (under srv->lock) */
    size_t queued_rows;
    pthread_cond_t wake;
    /* counters (under srv->lock) */
    uint64_t batches, batch_rows, requests, failures;
} sv_model;

/* A request's rows for inference. The front end fills in[] (rows rows of each input), deliver
 * and its own fields, and submits it; once run (out[] filled, or st and error set) deliver(job) is called
 * on the batcher's thread and hands the job to the front end's loop, which answers and frees it. */
struct sv_job {
    sv_model *m;
    size_t rows;
    float *in[SV_MAX_IO], *out[SV_MAX_IO];
    ccz_status st;
    char error[256];
    void (*deliver)(sv_job *j);
    /* the front end's: its request and how to answer it */
    void *req;
    int kind;
    bool columnar;
    uint32_t out_mask; /* outputs asked for (bit i: output i) */
    char id[128];      /* KServe's request id, echoed */
    atomic_bool gone;  /* the client went away: skip it (set by a front end's loop) */
    /* NULL, or whether the client still waits, asked by the batcher when the batch begins (the
     * front end's answer must be safe to ask from the batcher's thread) */
    bool (*alive)(const sv_job *j);
    int64_t deadline_ms;           /* monotonic (sv_mono_ms): not run after it (0: none) */
    bool run;                      /* the batcher's: wanted when its batch began (read once) */
    size_t bytes;                  /* input bytes counted in srv->queued_bytes */
    uint64_t conn;                 /* the gRPC connection it is counted against (0: none) */
    sv_job *next;                  /* in the model's queue */
    sv_job *live_prev, *live_next; /* every job not yet freed */
};

/* What one gRPC connection has queued and not yet had answered (grpc.c). */
typedef struct {
    uint64_t conn; /* ccz_rpc_call_connection */
    size_t jobs, bytes;
} sv_conn_load;

/* A gRPC connection may hold at most this many jobs, and this share of max_queued (its first
 * job whatever its size): its streams, or streams it resets once their requests are queued,
 * cannot take the whole queue from other clients. */
#define SV_CONN_JOBS 128
#define SV_CONN_SHARE 4

struct sv_server {
    ccz_serving_opts o;
    sv_model *models;
    size_t n_models;
    pthread_mutex_t lock;
    bool stopping;
    size_t queued_bytes;
    sv_job *live;
    http_server *http;   /* the REST listener, or NULL */
    ccz_rpc_server *rpc; /* the gRPC listener, or NULL */
    sv_conn_load *loads; /* per gRPC connection with jobs outstanding (under lock) */
    size_t n_loads, cap_loads;
};

/* ---- models and batches (batch.c) ------------------------------------------------------------*/

CCZ_NODISCARD ccz_status sv_models_load(sv_server *s);
/* Stops the batchers (a batch running is finished and delivered); then sv_models_free frees the
 * models and every job not yet answered, after the front ends are gone. */
void sv_models_stop(sv_server *s);
void sv_models_free(sv_server *s);
/* Answers every job still queued (delivered with CCZ_ERR_UNAVAILABLE and why) whose deliver is
 * the one given; NULL: every job, and no new one is taken. */
void sv_models_cancel_queued(sv_server *s, void (*deliver)(sv_job *j), const char *why);
/* Tests only: when set, called by the batcher once it has read which jobs of a batch are still
 * wanted, before their rows are copied and run. */
extern void (*sv_batch_hook)(sv_job *first, size_t n_jobs);
/* Monotonic milliseconds (for job deadlines). */
int64_t sv_mono_ms(void);
/* Fills m's inputs and outputs from its loaded model (m->ml). */
CCZ_NODISCARD ccz_status sv_model_describe(sv_model *m);
/* The model NAME at version (0: the latest), or NULL. */
sv_model *sv_model_find(sv_server *s, const char *name, int64_t version);
/* Whether a model of that name is served at all (for "not found" messages). */
bool sv_model_known(sv_server *s, const char *name);
/* A job for rows rows of m: inputs and outputs allocated (uninitialised). */
CCZ_NODISCARD ccz_status sv_job_new(sv_job **out, sv_model *m, size_t rows);
/* Queues the job (CCZ_ERR_UNAVAILABLE when the queue is full or the server stops; the job is
 * then still the caller's). */
CCZ_NODISCARD ccz_status sv_job_submit(sv_job *j);
void sv_job_free(sv_job *j);
/* Prometheus lines of the batchers. */
void sv_metrics(ccz_buf *out, void *payload);

/* ---- front ends ------------------------------------------------------------------------------*/

CCZ_NODISCARD ccz_status sv_rest_routes(sv_server *s, http_server *h);
/* The HTTP code of a failure: a request's (ran false: 4xx for what the client sent, 5xx for the
 * server's own failures) or of a job's inference (ran true: the server's, 5xx). */
int sv_rest_code(ccz_status st, bool ran);
/* A REST POST's path after /v1/models/ (v2: after /v2/) and body to a job ready to submit, or a
 * failure whose status gives the HTTP code (sv_rest_code) and whose detail is the message. */
CCZ_NODISCARD ccz_status sv_rest_parse(sv_job **out, sv_server *s, bool v2, const char *rest,
                                       ccz_span body);
/* The answer's JSON body for a job that ran. */
CCZ_NODISCARD ccz_status sv_rest_body(ccz_buf *b, const sv_job *j);
CCZ_NODISCARD ccz_status sv_grpc_methods(sv_server *s, ccz_rpc_server *r);
/* The gRPC status code of a failure, as sv_rest_code. */
int sv_grpc_code(ccz_status st, bool ran);
/* Answers the gRPC calls still queued with UNAVAILABLE (on the gRPC loop, before it ends). */
void sv_grpc_cancel_queued(sv_server *s);
/* A Predict request to a job ready to submit (inputs checked against the model's shapes and
 * copied), or a failure whose status gives the gRPC code and whose detail is the message. */
CCZ_NODISCARD ccz_status sv_grpc_parse(sv_job **out, sv_server *s,
                                       const Tensorflow__Serving__PredictRequest *rq);

#endif
