/* SPDX-License-Identifier: Apache-2.0 */
/* A worker of the homomorphic LR service (ccz_fl_hlr_work, src/svc/fl/client.c) against a host
 * played by the test: homolr.Host on a plaintext gRPC server whose key, plan and answers each
 * case scripts. The host holds the Paillier key: it decrypts the weights the worker sends (its
 * bias and features, each a finite number) and sends them back as the round's model. The worker
 * must number its iterations, validate on the plan's schedule (every k-th and the last), keep
 * the host's figures as the host labels them, finish once, and refuse a key that is not one, a
 * plan out of range, another feature count or weights that are not ciphertexts under the key,
 * stopping at the first call that fails. Last, the parameter server's own options
 * (ccz_fl_hlr_service_new), each refused by what to change; and the parameter server itself
 * against raw calls: hostile ones refused with their codes and reasons, the exact average to
 * each worker, the end once every worker finished, and the ways a training ends early (a worker
 * that never joins or never sends its weights, one that leaves while the others wait). */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gmp.h>

#include "ccz/ccz.h"
#include "ccz/fl.h"
#include "homo_lr.pb-c.h"
#include "rpc_fixture.h"
#include "test.h"

#define ROWS 6
#define FEATURES 2

static ccz_paillier_key *key;
static ccz_ml_dataset data;

typedef struct {
    /* the script */
    const char *key_bytes; /* instead of the key's message (NULL: the key) */
    int iterations, every, features;
    double alpha, learning_rate;
    bool junk_weights;
    int fail_iteration; /* > 0: AggregateModel of this iteration fails */
    /* what the host saw */
    int id;
    char name[32];
    int iters[16], n_iters, validates, finishes;
    size_t values; /* in the last weights */
    bool finite;   /* every weight decrypted to a finite number */
} script;

static void on_key(ccz_rpc_call *call, const ProtobufCMessage *m, void *payload)
{
    script *s = payload;
    const Homolr__KeyRequest *q = (const Homolr__KeyRequest *)m;
    s->id = q->id;
    snprintf(s->name, sizeof s->name, "%s", q->name);
    mpz_t n;
    mpz_init(n);
    ccz_paillier_pub_n(n, ccz_paillier_key_pub(key));
    uint8_t nb[512];
    size_t nl = 0;
    mpz_export(nb, &nl, 1, 1, 1, 0, n);
    mpz_clear(n);
    Homolr__PaillierPublicKey pk = HOMOLR__PAILLIER_PUBLIC_KEY__INIT;
    pk.n = (ProtobufCBinaryData){nl, nb};
    uint8_t packed[600];
    size_t pl = homolr__paillier_public_key__pack(&pk, packed);
    Homolr__KeyReply r = HOMOLR__KEY_REPLY__INIT;
    r.key = s->key_bytes ? (ProtobufCBinaryData){strlen(s->key_bytes), (uint8_t *)s->key_bytes}
                         : (ProtobufCBinaryData){pl, packed};
    r.iterations = s->iterations;
    r.validate_every = s->every;
    r.features = s->features;
    r.alpha = s->alpha;
    r.learning_rate = s->learning_rate;
    r.workers = 1;
    CHECK_OK(ccz_rpc_reply(call, &r.base));
}

static void on_aggregate(ccz_rpc_call *call, const ProtobufCMessage *m, void *payload)
{
    script *s = payload;
    const Homolr__WeightsRequest *q = (const Homolr__WeightsRequest *)m;
    if (s->n_iters < 16)
        s->iters[s->n_iters++] = q->iter_n;
    if (s->fail_iteration && q->iter_n == s->fail_iteration) {
        CHECK_OK(ccz_rpc_finish(call, CCZ_RPC_ABORTED, "a worker left"));
        return;
    }
    /* the weights: bias and features, each decrypting to a finite number */
    Homolr__EncryptedVector *v =
        homolr__encrypted_vector__unpack(NULL, q->weights.len, q->weights.data);
    s->values = v ? v->n_values : 0;
    if (v)
        homolr__encrypted_vector__free_unpacked(v, NULL);
    ccz_paillier_number w[FEATURES + 1];
    for (int i = 0; i <= FEATURES; i++)
        ccz_paillier_number_init(&w[i]);
    s->finite = ccz_fl_hlr_weights_parse(w, FEATURES + 1, ccz_paillier_key_pub(key),
                                         q->weights.data, q->weights.len) == CCZ_OK;
    for (int i = 0; i <= FEATURES; i++) {
        ccz_paillier_encoded e;
        ccz_paillier_encoded_init(&e);
        double x = NAN;
        s->finite = s->finite && ccz_paillier_decrypt_encoded(&e, key, &w[i]) == CCZ_OK &&
                    ccz_paillier_decode_double(&x, ccz_paillier_key_pub(key), &e) == CCZ_OK &&
                    isfinite(x);
        ccz_paillier_encoded_clear(&e);
        ccz_paillier_number_clear(&w[i]);
    }
    Homolr__WeightsReply r = HOMOLR__WEIGHTS_REPLY__INIT;
    r.updated_weights = s->junk_weights ? (ProtobufCBinaryData){4, (uint8_t *)"junk"} : q->weights;
    CHECK_OK(ccz_rpc_reply(call, &r.base));
}

static void on_validate(ccz_rpc_call *call, const ProtobufCMessage *m, void *payload)
{
    (void)m;
    script *s = payload;
    s->validates++;
    Homolr__ValidateReply r = HOMOLR__VALIDATE_REPLY__INIT;
    r.acc = 0.75f;
    r.loss = 0.5f;
    r.iter_n = 100 + s->iters[s->n_iters - 1]; /* the host's own label for its figures */
    CHECK_OK(ccz_rpc_reply(call, &r.base));
}

static void on_finish(ccz_rpc_call *call, const ProtobufCMessage *m, void *payload)
{
    (void)m;
    ((script *)payload)->finishes++;
    Homolr__Empty r = HOMOLR__EMPTY__INIT;
    CHECK_OK(ccz_rpc_reply(call, &r.base));
}

typedef struct {
    char validated[64];
} seen;

static void on_progress(unsigned iter, unsigned iterations, double seconds, int validated,
                        double acc, double loss, void *payload)
{
    (void)iterations, (void)seconds, (void)acc, (void)loss;
    seen *w = payload;
    test_appendf(w->validated, sizeof w->validated, "%u:%d ", iter, validated);
}

static unsigned work_version = CCZ_FL_HLR_WORK_OPTS_VERSION; /* a test sets another */

static ccz_status work(script *s, ccz_fl_hlr_work_result *out, seen *w)
{
    const ccz_rpc_handler handlers[] = {on_key, on_aggregate, on_validate, on_finish};
    rpc_fake f;
    rpc_fake_start(&f, &homolr__host__descriptor, NULL, handlers, s, 0);
    ccz_fl_hlr_work_opts o = CCZ_FL_HLR_WORK_OPTS_INIT;
    o.id = 7;
    o.name = "w7";
    o.deadline_ms = 10000;
    o.threads = 1;
    o.progress = on_progress;
    o.payload = w;
    o.version = work_version;
    memset(w, 0, sizeof *w);
    ccz_status st = ccz_fl_hlr_work(f.ch, &o, &data, out);
    rpc_fake_stop(&f);
    return st;
}

static script plan(int iterations, int every)
{
    return (script){.iterations = iterations,
                    .every = every,
                    .features = FEATURES,
                    .alpha = 0.01,
                    .learning_rate = 0.15};
}

static void setup(void)
{
    CHECK_OK(ccz_paillier_keygen(&key, 1024));
    data.rows = ROWS;
    data.features = FEATURES;
    data.x = malloc(ROWS * FEATURES * sizeof *data.x);
    data.y = malloc(ROWS);
    for (size_t i = 0; i < ROWS; i++) {
        data.x[i * FEATURES] = (double)i / ROWS;
        data.x[i * FEATURES + 1] = 1.0 - (double)i / ROWS;
        data.y[i] = i % 2;
    }
}

/* Options of another version than this header's are refused before anything is asked. */
static void test_other_version(void)
{
    for (unsigned v = 0; v <= CCZ_FL_HLR_WORK_OPTS_VERSION + 1; v += 2) {
        script s = plan(4, 2);
        ccz_fl_hlr_work_result out;
        seen w;
        work_version = v;
        CHECK_STATUS(work(&s, &out, &w), CCZ_ERR_INVALID_ARGUMENT);
        CHECK_STR(ccz_error_detail(), v ? "ccz_fl_hlr_work: version 2 (expected 1) and rows"
                                        : "ccz_fl_hlr_work: version 0 (expected 1) and rows");
        CHECK_INT(s.n_iters, 0);
    }
    work_version = CCZ_FL_HLR_WORK_OPTS_VERSION;
}

static void test_training(void)
{
    script s = plan(4, 2);
    ccz_fl_hlr_work_result out;
    seen w;
    CHECK_OK(work(&s, &out, &w));
    CHECK_INT(out.code, 0);
    CHECK_INT(out.iterations, 4);
    CHECK(s.id == 7 && !strcmp(s.name, "w7"));
    CHECK_INT(s.n_iters, 4);
    CHECK(s.iters[0] == 0 && s.iters[1] == 1 && s.iters[2] == 2 && s.iters[3] == 3);
    CHECK_INT(s.values, FEATURES + 1);
    CHECK(s.finite);
    /* validated after iterations 0 and 2 (every 2nd) and 3 (the last) */
    CHECK_INT(s.validates, 3);
    CHECK_STR(w.validated, "0:100 1:-1 2:102 3:103 ");
    CHECK_INT(out.validated, 103);
    CHECK(out.acc == 0.75 && out.loss == 0.5);
    CHECK_INT(s.finishes, 1);
}

static void test_hostile_host(void)
{
    script cases[] = {plan(2, 1), plan(0, 1), plan(2, 0), plan(2, 1),
                      plan(2, 1), plan(2, 1), plan(2, 1), plan(2, 1)};
    cases[0].key_bytes = "\xff\xff\xff";
    cases[3].alpha = -1;
    cases[4].learning_rate = 0;
    cases[5].alpha = NAN;
    cases[6].features = 5;
    cases[7].junk_weights = true;
    const struct {
        ccz_status want;
        const char *detail;
    } expect[] = {
        {CCZ_ERR_PROTOCOL, "the server's key is not a PaillierPublicKey message"},
        {CCZ_ERR_PROTOCOL, "the server's plan is out of range (0 iterations"},
        {CCZ_ERR_PROTOCOL, "validation every 0"},
        {CCZ_ERR_PROTOCOL, "alpha -1"},
        {CCZ_ERR_PROTOCOL, "learning rate 0)"},
        {CCZ_ERR_PROTOCOL, "alpha nan"},
        {CCZ_ERR_INVALID_ARGUMENT, "the server's model has 5 features; this data set has 2"},
        {CCZ_ERR_PROTOCOL, "iteration 0: the server's weights"},
    };
    for (size_t i = 0; i < CCZ_ARRAY_LEN(cases); i++) {
        ccz_fl_hlr_work_result out;
        seen w;
        CHECK_STATUS(work(&cases[i], &out, &w), expect[i].want);
        CHECK_CONTAINS(ccz_error_detail(), expect[i].detail);
        CHECK_INT(cases[i].finishes, 0);
    }
    /* a call that fails ends the work with its code; nothing after it */
    script s = plan(4, 2);
    s.fail_iteration = 1;
    ccz_fl_hlr_work_result out;
    seen w;
    CHECK_OK(work(&s, &out, &w));
    CHECK_INT(out.code, CCZ_RPC_ABORTED);
    CHECK_STR(out.method, "AggregateModel");
    CHECK_STR(out.message, "a worker left");
    CHECK_INT(out.iterations, 1);
    CHECK_INT(s.n_iters, 2);
    CHECK_INT(s.validates, 1);
    CHECK_INT(s.finishes, 0);
}

/* The parameter server's options, refused at once (each by what to change) rather than by
 * every worker after it joined: a plan the workers refuse is no plan. */
static void test_service_options(void)
{
    ccz_rpc_server *rpc = NULL;
    ccz_rpc_server_opts so = CCZ_RPC_SERVER_OPTS_INIT;
    CHECK_OK(ccz_rpc_server_new(&rpc, &so));
    ccz_fl_hlr_service *v = NULL;
    ccz_fl_hlr_service_opts o = CCZ_FL_HLR_SERVICE_OPTS_INIT;
    o.version = 2;
    CHECK_STATUS(ccz_fl_hlr_service_new(&v, rpc, &o), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "ccz_fl_hlr_service_opts: version 2, expected 1");
    CHECK_STATUS(ccz_fl_hlr_service_new(&v, rpc, NULL), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "ccz_fl_hlr_service_opts: version 0, expected 1");
    static const ccz_fl_hlr_service_opts good = {.version = CCZ_FL_HLR_SERVICE_OPTS_VERSION,
                                                 .workers = 2,
                                                 .iterations = 3,
                                                 .features = FEATURES};
    o = good;
    CHECK_STATUS(ccz_fl_hlr_service_new(&v, rpc, &o), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "the parameter server needs its Paillier key");
    static const struct {
        unsigned workers, iterations, validate_every;
        size_t features;
        bool test;
        double alpha, learning_rate;
        const char *error;
    } bad[] = {
        {0, 3, 0, 2, false, 0, 0, "1 to 64 workers, not 0"},
        {65, 3, 0, 2, false, 0, 0, "1 to 64 workers, not 65"},
        {2, 0, 0, 2, false, 0, 0, "1 to 1000000 iterations, not 0"},
        {2, 1000001, 0, 2, false, 0, 0, "1 to 1000000 iterations, not 1000001"},
        {2, 3, 0, 0, false, 0, 0,
         "the model's features come from the test set or are given (1 to 4096)"},
        {2, 3, 0, 4097, false, 0, 0,
         "the model's features come from the test set or are given (1 to 4096)"},
        {2, 3, 0, 3, true, 0, 0,
         "the model's features come from the test set or are given (1 to 4096)"},
        {2, 3, 0, 2, false, -0.5, 0, "alpha and the learning rate are in [0, 1e6), not -0.5 and 0"},
        {2, 3, 0, 2, false, 1e6, 0, "alpha and the learning rate are in [0, 1e6), not 1e+06 and 0"},
        {2, 3, 0, 2, false, NAN, 0, "alpha and the learning rate are in [0, 1e6), not nan and 0"},
        {2, 3, 0, 2, false, 0, -1, "alpha and the learning rate are in [0, 1e6), not 0 and -1"},
        {2, 3, 0, 2, false, 0, INFINITY,
         "alpha and the learning rate are in [0, 1e6), not 0 and inf"},
        {2, 3, 1000001, 2, false, 0, 0,
         "validation every 1 to 1000000 iterations (0: 10), not 1000001"},
    };
    /* a test set without labels, which would never validate */
    ccz_ml_dataset unlabelled = data;
    unlabelled.y = NULL;
    o = good;
    o.key = key;
    o.test = &unlabelled;
    CHECK_STATUS(ccz_fl_hlr_service_new(&v, rpc, &o), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "the test set has no labels to validate against");
    CHECK(v == NULL);
    for (size_t i = 0; i < CCZ_ARRAY_LEN(bad); i++) {
        o = good;
        o.key = key;
        o.workers = bad[i].workers;
        o.iterations = bad[i].iterations;
        o.validate_every = bad[i].validate_every;
        o.features = bad[i].features;
        o.test = bad[i].test ? &data : NULL;
        o.alpha = bad[i].alpha;
        o.learning_rate = bad[i].learning_rate;
        CHECK_STATUS(ccz_fl_hlr_service_new(&v, rpc, &o), CCZ_ERR_INVALID_ARGUMENT);
        CHECK_STR(ccz_error_detail(), bad[i].error);
        CHECK(v == NULL);
    }
    /* a test set and no feature count: the test set's is taken */
    ccz_rpc_server *rpc2 = NULL;
    CHECK_OK(ccz_rpc_server_new(&rpc2, &so));
    o = good;
    o.key = key;
    o.features = 0;
    o.test = &data;
    CHECK_OK(ccz_fl_hlr_service_new(&v, rpc2, &o));
    CHECK(v && ccz_fl_hlr_service_status(v)->dim == FEATURES + 1);
    ccz_fl_hlr_service_free(v);
    ccz_rpc_server_free(rpc2);
    v = NULL;
    /* the bounds beside them */
    o = good;
    o.key = key;
    o.workers = 64;
    o.iterations = 1000000;
    o.validate_every = 1000000;
    o.test = &data;
    o.alpha = 999999;
    o.learning_rate = 999999;
    CHECK_OK(ccz_fl_hlr_service_new(&v, rpc, &o));
    ccz_fl_hlr_service_free(v);
    ccz_rpc_server_free(rpc);
}

/* ---- the parameter server itself (ccz_fl_hlr_service) over loopback h2c with raw calls -------*/

typedef struct {
    ccz_rpc_server *rpc;
    ccz_fl_hlr_service *svc;
    pthread_t thread;
    char target[64];
} host;

static void host_over(const ccz_fl_hlr_status *st, void *payload)
{
    (void)st;
    ccz_rpc_server_shutdown(((host *)payload)->rpc, 1000);
}

/* Starts a parameter server of `iterations` iterations with alpha and the learning rate given
 * (0: the defaults). */
static void host_start_plan(host *h, unsigned workers, unsigned timeout_ms,
                            const ccz_ml_dataset *test, unsigned iterations, double alpha,
                            double learning_rate)
{
    memset(h, 0, sizeof *h);
    ccz_rpc_server_opts so = CCZ_RPC_SERVER_OPTS_INIT;
    CHECK_OK(ccz_rpc_server_new(&h->rpc, &so));
    ccz_fl_hlr_service_opts o = CCZ_FL_HLR_SERVICE_OPTS_INIT;
    o.key = key;
    o.workers = workers;
    o.iterations = iterations;
    o.alpha = alpha;
    o.learning_rate = learning_rate;
    o.features = FEATURES;
    o.test = test;
    o.timeout_ms = timeout_ms;
    o.threads = 1;
    o.on_over = host_over;
    o.payload = h;
    CHECK_OK(ccz_fl_hlr_service_new(&h->svc, h->rpc, &o));
    rpc_serve(h->rpc, &h->thread, h->target);
}

static void host_start(host *h, unsigned workers, unsigned timeout_ms, const ccz_ml_dataset *test)
{
    host_start_plan(h, workers, timeout_ms, test, 1, 0, 0);
}

static ccz_rpc_channel *host_channel(const host *h)
{
    ccz_rpc_channel_opts co = CCZ_RPC_CHANNEL_OPTS_INIT;
    ccz_rpc_channel *ch = NULL;
    CHECK_OK(ccz_rpc_channel_new(&ch, h->target, &co));
    return ch;
}

typedef struct {
    ccz_rpc_channel *ch;
    const char *method;
    const ProtobufCMessage *req;
    const ProtobufCMessageDescriptor *desc;
    ProtobufCMessage *resp;
    int code;
    char msg[512];
    int64_t deadline_ms; /* 0: 10 s */
} hcall;

static void *hcall_run(void *arg)
{
    hcall *c = arg;
    char path[80];
    snprintf(path, sizeof path, "/homolr.Host/%s", c->method);
    ccz_rpc_call_opts co = CCZ_RPC_CALL_OPTS_INIT;
    co.deadline_ms = c->deadline_ms ? c->deadline_ms : 10000;
    ccz_rpc_status st;
    c->resp = NULL;
    CHECK_OK(ccz_rpc_unary(c->ch, &c->resp, &st, path, c->req, c->desc, &co));
    c->code = st.code;
    snprintf(c->msg, sizeof c->msg, "%s", st.message);
    ccz_rpc_status_free(&st);
    return NULL;
}

/* A call answered at once: its code, the message in msg (512 bytes); the reply freed. */
static int hnow(ccz_rpc_channel *ch, const char *method, const ProtobufCMessage *req,
                const ProtobufCMessageDescriptor *desc, char *msg)
{
    hcall c = {ch, method, req, desc, NULL, 0, "", 2000};
    hcall_run(&c);
    snprintf(msg, 512, "%s", c.msg);
    if (c.resp)
        protobuf_c_message_free_unpacked(c.resp, NULL);
    return c.code;
}

#define HEXPECT(ch, method, req, desc, want_code, want_msg)                                        \
    do {                                                                                           \
        char m_[512];                                                                              \
        CHECK_INT(hnow(ch, method, &(req).base, desc, m_), want_code);                             \
        CHECK_STR(m_, want_msg);                                                                   \
    } while (0)

/* The weights vals[0..FEATURES] encrypted as an EncryptedVector in out. */
static void weights_msg(ccz_buf *out, const double *vals)
{
    const ccz_paillier_pub *pk = ccz_paillier_key_pub(key);
    ccz_paillier_number w[FEATURES + 1];
    for (int i = 0; i <= FEATURES; i++) {
        ccz_paillier_encoded e;
        ccz_paillier_encoded_init(&e);
        ccz_paillier_number_init(&w[i]);
        CHECK_OK(ccz_paillier_encode_double(&e, pk, vals[i], 0));
        CHECK_OK(ccz_paillier_encrypt_encoded(&w[i], pk, &e));
        ccz_paillier_encoded_clear(&e);
    }
    CHECK_OK(ccz_fl_hlr_weights_write(out, w, FEATURES + 1));
    for (int i = 0; i <= FEATURES; i++)
        ccz_paillier_number_clear(&w[i]);
}

/* Whether a WeightsReply decrypts to want[0..FEATURES] exactly. */
static bool weights_are(const ProtobufCMessage *m, const double *want)
{
    const Homolr__WeightsReply *r = (const Homolr__WeightsReply *)m;
    if (!r)
        return false;
    ccz_paillier_number w[FEATURES + 1];
    for (int i = 0; i <= FEATURES; i++)
        ccz_paillier_number_init(&w[i]);
    bool ok = ccz_fl_hlr_weights_parse(w, FEATURES + 1, ccz_paillier_key_pub(key),
                                       r->updated_weights.data, r->updated_weights.len) == CCZ_OK;
    for (int i = 0; i <= FEATURES; i++) {
        ccz_paillier_encoded e;
        ccz_paillier_encoded_init(&e);
        double x = NAN;
        ok = ok && ccz_paillier_decrypt_encoded(&e, key, &w[i]) == CCZ_OK &&
             ccz_paillier_decode_double(&x, ccz_paillier_key_pub(key), &e) == CCZ_OK &&
             x == want[i];
        ccz_paillier_encoded_clear(&e);
        ccz_paillier_number_clear(&w[i]);
    }
    return ok;
}

/* Two workers and one iteration against raw calls: an outsider, a bad name, an id taken, a
 * worker too many, another worker's id, the wrong iteration, weights that are not ones, each
 * refused with its code and reason; then the average (exact) to both, the plan's end, and the
 * training over only once both workers finished (a Finish twice counts once). */
static void test_service_calls(void)
{
    host h;
    host_start(&h, 2, 20000, &data);
    ccz_rpc_channel *a = host_channel(&h), *b = host_channel(&h), *c = host_channel(&h);
    const ProtobufCMessageDescriptor *key_d = &homolr__key_reply__descriptor,
                                     *w_d = &homolr__weights_reply__descriptor,
                                     *v_d = &homolr__validate_reply__descriptor,
                                     *e_d = &homolr__empty__descriptor;
    Homolr__KeyRequest k = HOMOLR__KEY_REQUEST__INIT;
    Homolr__WeightsRequest wr = HOMOLR__WEIGHTS_REQUEST__INIT;
    Homolr__Empty empty = HOMOLR__EMPTY__INIT;
    wr.id = 1;
    HEXPECT(c, "AggregateModel", wr, w_d, CCZ_RPC_FAILED_PRECONDITION,
            "this connection is not a worker of the training: call GetPubKey first");
    HEXPECT(c, "Validate", empty, v_d, CCZ_RPC_FAILED_PRECONDITION,
            "this connection is not a worker of the training: call GetPubKey first");
    k.id = 1;
    k.name = "a\tb";
    HEXPECT(a, "GetPubKey", k, key_d, CCZ_RPC_INVALID_ARGUMENT,
            "name must be at most 64 printable ASCII characters");
    k.name = "a";
    hcall kc = {a, "GetPubKey", &k.base, key_d, NULL, 0, "", 0};
    hcall_run(&kc);
    CHECK_INT(kc.code, CCZ_RPC_OK);
    const Homolr__KeyReply *kr = (const Homolr__KeyReply *)kc.resp;
    CHECK(kr != NULL);
    if (kr) {
        CHECK_INT(kr->iterations, 1);
        CHECK_INT(kr->features, FEATURES);
        CHECK_INT(kr->workers, 2);
        CHECK_INT(kr->validate_every, 10);
        CHECK(kr->alpha == 0.01 && kr->learning_rate == 0.15);
        CHECK(kr->key.len > 100);
        protobuf_c_message_free_unpacked(kc.resp, NULL);
    }
    HEXPECT(a, "GetPubKey", k, key_d, CCZ_RPC_OK, ""); /* again: the same worker */
    /* no figures before the first iteration */
    hcall v0 = {a, "Validate", &empty.base, v_d, NULL, 0, "", 0};
    hcall_run(&v0);
    CHECK(v0.code == CCZ_RPC_OK && v0.resp &&
          ((const Homolr__ValidateReply *)v0.resp)->iter_n == -1);
    if (v0.resp)
        protobuf_c_message_free_unpacked(v0.resp, NULL);
    k.name = "b";
    HEXPECT(b, "GetPubKey", k, key_d, CCZ_RPC_ALREADY_EXISTS,
            "a worker with id 1 has joined already (worker 1 (a))");
    k.id = 2;
    HEXPECT(b, "GetPubKey", k, key_d, CCZ_RPC_OK, "");
    k.id = 3;
    k.name = "";
    HEXPECT(c, "GetPubKey", k, key_d, CCZ_RPC_RESOURCE_EXHAUSTED,
            "the training has its 2 workers already");
    wr.id = 2;
    HEXPECT(a, "AggregateModel", wr, w_d, CCZ_RPC_PERMISSION_DENIED,
            "id 2 is not this connection's worker (worker 1 (a))");
    wr.id = 1;
    wr.iter_n = 1;
    HEXPECT(a, "AggregateModel", wr, w_d, CCZ_RPC_FAILED_PRECONDITION,
            "weights for iteration 1; the training is at iteration 0");
    wr.iter_n = -1;
    HEXPECT(a, "AggregateModel", wr, w_d, CCZ_RPC_FAILED_PRECONDITION,
            "weights for iteration -1; the training is at iteration 0");
    wr.iter_n = 0;
    wr.weights = (ProtobufCBinaryData){4, (uint8_t *)"junk"};
    char m[512];
    CHECK_INT(hnow(a, "AggregateModel", &wr.base, w_d, m), CCZ_RPC_INVALID_ARGUMENT);
    /* the weights of both: the average to each */
    const double va[] = {0.5, 1.0, -2.0}, vb[] = {1.5, 3.0, 4.0}, avg[] = {1.0, 2.0, 1.0};
    ccz_buf ba = CCZ_BUF_INIT, bb = CCZ_BUF_INIT;
    weights_msg(&ba, va);
    weights_msg(&bb, vb);
    Homolr__WeightsRequest wa = HOMOLR__WEIGHTS_REQUEST__INIT, wb = HOMOLR__WEIGHTS_REQUEST__INIT;
    wa.id = 1;
    wa.weights = (ProtobufCBinaryData){ba.len, ba.ptr};
    wb.id = 2;
    wb.weights = (ProtobufCBinaryData){bb.len, bb.ptr};
    hcall ca = {a, "AggregateModel", &wa.base, w_d, NULL, 0, "", 0};
    pthread_t t;
    test_thread(&t, hcall_run, &ca);
    hcall cb = {b, "AggregateModel", &wb.base, w_d, NULL, 0, "", 0};
    hcall_run(&cb);
    pthread_join(t, NULL);
    CHECK_INT(ca.code, CCZ_RPC_OK);
    CHECK_INT(cb.code, CCZ_RPC_OK);
    CHECK(weights_are(ca.resp, avg));
    CHECK(weights_are(cb.resp, avg));
    if (ca.resp)
        protobuf_c_message_free_unpacked(ca.resp, NULL);
    if (cb.resp)
        protobuf_c_message_free_unpacked(cb.resp, NULL);
    HEXPECT(a, "AggregateModel", wa, w_d, CCZ_RPC_FAILED_PRECONDITION,
            "the training is over: it had 1 iterations");
    wa.iter_n = 1;
    HEXPECT(a, "AggregateModel", wa, w_d, CCZ_RPC_FAILED_PRECONDITION,
            "the training is over: it had 1 iterations");
    /* validated after the last iteration */
    hcall vc = {a, "Validate", &empty.base, v_d, NULL, 0, "", 0};
    hcall_run(&vc);
    CHECK_INT(vc.code, CCZ_RPC_OK);
    const Homolr__ValidateReply *vr = (const Homolr__ValidateReply *)vc.resp;
    CHECK(vr && vr->iter_n == 0 && vr->acc >= 0 && vr->acc <= 1 && vr->loss > 0);
    if (vc.resp)
        protobuf_c_message_free_unpacked(vc.resp, NULL);
    /* a's Finish twice counts once: the training is over with b's */
    HEXPECT(a, "Finish", empty, e_d, CCZ_RPC_OK, "");
    HEXPECT(a, "Finish", empty, e_d, CCZ_RPC_OK, "");
    CHECK(!ccz_fl_hlr_service_status(h.svc)->over);
    HEXPECT(b, "Finish", empty, e_d, CCZ_RPC_OK, "");
    ccz_rpc_channel_free(a);
    ccz_rpc_channel_free(b);
    ccz_rpc_channel_free(c);
    rpc_serve_stop(h.rpc, h.thread, 1000);
    const ccz_fl_hlr_status *st = ccz_fl_hlr_service_status(h.svc);
    CHECK(st->over);
    CHECK_INT(st->code, 0);
    CHECK_INT(st->iterations, 1);
    CHECK(st->weights && st->weights[0] == 1.0 && st->weights[1] == 2.0 && st->weights[2] == 1.0);
    ccz_buf_free(&ba);
    ccz_buf_free(&bb);
    ccz_fl_hlr_service_free(h.svc);
    ccz_rpc_server_free(h.rpc);
}

/* A worker that never comes: the training times out naming how many are missing; a call after
 * that (a new connection's, a worker's) is refused with why. */
static void test_service_timeout(void)
{
    host h;
    host_start(&h, 2, 300, NULL);
    ccz_rpc_channel *a = host_channel(&h), *c = host_channel(&h);
    Homolr__KeyRequest k = HOMOLR__KEY_REQUEST__INIT;
    k.id = 1;
    char m[512];
    const ProtobufCMessageDescriptor *key_d = &homolr__key_reply__descriptor;
    CHECK_INT(hnow(a, "GetPubKey", &k.base, key_d, m), CCZ_RPC_OK);
    int code = CCZ_RPC_ALREADY_EXISTS;
    for (int i = 0; i < 200 && code == CCZ_RPC_ALREADY_EXISTS; i++) {
        nanosleep(&(struct timespec){0, 20000000}, NULL);
        code = hnow(c, "GetPubKey", &k.base, key_d, m);
    }
    const char *why = "homo-LR training timed out after 0.3 s waiting for 1 of 2 workers to join";
    CHECK_INT(code, CCZ_RPC_FAILED_PRECONDITION);
    CHECK_STR(m, why);
    Homolr__Empty empty = HOMOLR__EMPTY__INIT;
    HEXPECT(a, "Validate", empty, &homolr__validate_reply__descriptor, CCZ_RPC_FAILED_PRECONDITION,
            why);
    ccz_rpc_channel_free(a);
    ccz_rpc_channel_free(c);
    rpc_serve_stop(h.rpc, h.thread, 1000);
    const ccz_fl_hlr_status *st = ccz_fl_hlr_service_status(h.svc);
    CHECK(st->over);
    CHECK_INT(st->code, CCZ_RPC_DEADLINE_EXCEEDED);
    CHECK_STR(st->message, why);
    ccz_fl_hlr_service_free(h.svc);
    ccz_rpc_server_free(h.rpc);
}

/* No timeout given: the default minute, so a worker still missing a second after the first
 * joined has not ended the training. */
static void test_service_default_timeout(void)
{
    host h;
    host_start(&h, 2, 0, NULL);
    ccz_rpc_channel *a = host_channel(&h);
    Homolr__KeyRequest k = HOMOLR__KEY_REQUEST__INIT;
    k.id = 1;
    char m[512];
    CHECK_INT(hnow(a, "GetPubKey", &k.base, &homolr__key_reply__descriptor, m), CCZ_RPC_OK);
    nanosleep(&(struct timespec){1, 0}, NULL);
    Homolr__Empty empty = HOMOLR__EMPTY__INIT;
    HEXPECT(a, "Validate", empty, &homolr__validate_reply__descriptor, CCZ_RPC_OK, "");
    CHECK(!ccz_fl_hlr_service_status(h.svc)->over);
    ccz_rpc_channel_free(a);
    rpc_serve_stop(h.rpc, h.thread, 1000);
    ccz_fl_hlr_service_free(h.svc);
    ccz_rpc_server_free(h.rpc);
}

/* Joins workers 1 (a) and 2 (b) on channels a and b. */
static void join_two(ccz_rpc_channel *a, ccz_rpc_channel *b)
{
    Homolr__KeyRequest k = HOMOLR__KEY_REQUEST__INIT;
    char m[512];
    k.id = 1;
    k.name = "a";
    CHECK_INT(hnow(a, "GetPubKey", &k.base, &homolr__key_reply__descriptor, m), CCZ_RPC_OK);
    k.id = 2;
    k.name = "b";
    CHECK_INT(hnow(b, "GetPubKey", &k.base, &homolr__key_reply__descriptor, m), CCZ_RPC_OK);
}

/* Calls Validate on ch until it is refused (up to 4 s); the refusal's message in m. */
static int refused(ccz_rpc_channel *ch, char *m)
{
    Homolr__Empty empty = HOMOLR__EMPTY__INIT;
    int code = CCZ_RPC_OK;
    for (int i = 0; i < 200 && code == CCZ_RPC_OK; i++) {
        nanosleep(&(struct timespec){0, 20000000}, NULL);
        code = hnow(ch, "Validate", &empty.base, &homolr__validate_reply__descriptor, m);
    }
    return code;
}

/* An iteration whose weights do not all come times out naming the worker missing (the one
 * waiting is told why); a worker that gives up on its held call while the others' weights are
 * awaited ends the training for the others, naming it. */
static void test_service_stalls(void)
{
    const double va[] = {0.5, 1.0, -2.0};
    ccz_buf ba = CCZ_BUF_INIT;
    weights_msg(&ba, va);
    Homolr__WeightsRequest wa = HOMOLR__WEIGHTS_REQUEST__INIT;
    wa.id = 1;
    wa.weights = (ProtobufCBinaryData){ba.len, ba.ptr};
    for (int leave = 0; leave <= 1; leave++) {
        host h;
        host_start(&h, 2, leave ? 20000 : 300, NULL);
        ccz_rpc_channel *a = host_channel(&h), *b = host_channel(&h);
        join_two(a, b);
        hcall ca = {a,  "AggregateModel", &wa.base, &homolr__weights_reply__descriptor, NULL, 0,
                    "", leave ? 300 : 0};
        hcall_run(&ca); /* held until the training fails, or the call's deadline */
        CHECK_INT(ca.code, CCZ_RPC_DEADLINE_EXCEEDED);
        const char *why = leave ? "worker 1 (a) left while waiting for the others' weights of "
                                  "iteration 0 (its call was cancelled or its connection closed)"
                                : "homo-LR iteration 0 timed out after 0.3 s waiting for the "
                                  "weights of worker 2 (b)";
        if (!leave)
            CHECK_STR(ca.msg, why);
        char m[512];
        CHECK_INT(refused(b, m), CCZ_RPC_FAILED_PRECONDITION);
        CHECK_STR(m, why);
        ccz_rpc_channel_free(a);
        ccz_rpc_channel_free(b);
        rpc_serve_stop(h.rpc, h.thread, 1000);
        const ccz_fl_hlr_status *st = ccz_fl_hlr_service_status(h.svc);
        CHECK(st->over);
        CHECK_INT(st->code, leave ? CCZ_RPC_ABORTED : CCZ_RPC_DEADLINE_EXCEEDED);
        CHECK_STR(st->message, why);
        ccz_fl_hlr_service_free(h.svc);
        ccz_rpc_server_free(h.rpc);
    }
    ccz_buf_free(&ba);
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Workers that call Finish before their last weights: the training is over as soon as the last
 * average is out, not when the wait for the missing Finish calls runs out (5 s). */
static void test_service_finish_early(void)
{
    host h;
    host_start(&h, 2, 5000, NULL);
    ccz_rpc_channel *a = host_channel(&h), *b = host_channel(&h);
    join_two(a, b);
    Homolr__Empty empty = HOMOLR__EMPTY__INIT;
    HEXPECT(a, "Finish", empty, &homolr__empty__descriptor, CCZ_RPC_OK, "");
    HEXPECT(b, "Finish", empty, &homolr__empty__descriptor, CCZ_RPC_OK, "");
    CHECK(!ccz_fl_hlr_service_status(h.svc)->over);
    const double va[] = {0.5, 1.0, -2.0}, vb[] = {1.5, 3.0, 4.0};
    ccz_buf ba = CCZ_BUF_INIT, bb = CCZ_BUF_INIT;
    weights_msg(&ba, va);
    weights_msg(&bb, vb);
    Homolr__WeightsRequest wa = HOMOLR__WEIGHTS_REQUEST__INIT, wb = HOMOLR__WEIGHTS_REQUEST__INIT;
    wa.id = 1;
    wa.weights = (ProtobufCBinaryData){ba.len, ba.ptr};
    wb.id = 2;
    wb.weights = (ProtobufCBinaryData){bb.len, bb.ptr};
    hcall ca = {a, "AggregateModel", &wa.base, &homolr__weights_reply__descriptor, NULL, 0, "", 0};
    pthread_t t;
    test_thread(&t, hcall_run, &ca);
    hcall cb = {b, "AggregateModel", &wb.base, &homolr__weights_reply__descriptor, NULL, 0, "", 0};
    hcall_run(&cb);
    pthread_join(t, NULL);
    CHECK_INT(ca.code, CCZ_RPC_OK);
    CHECK_INT(cb.code, CCZ_RPC_OK);
    if (ca.resp)
        protobuf_c_message_free_unpacked(ca.resp, NULL);
    if (cb.resp)
        protobuf_c_message_free_unpacked(cb.resp, NULL);
    /* over: the server's loop ends by itself (on_over) at once, not 5 s later */
    double t0 = mono_s();
    pthread_join(h.thread, NULL);
    CHECK(mono_s() - t0 < 4.5);
    const ccz_fl_hlr_status *st = ccz_fl_hlr_service_status(h.svc);
    CHECK(st->over);
    CHECK_INT(st->code, 0);
    CHECK_INT(st->iterations, 1);
    ccz_rpc_channel_free(a);
    ccz_rpc_channel_free(b);
    ccz_buf_free(&ba);
    ccz_buf_free(&bb);
    ccz_fl_hlr_service_free(h.svc);
    ccz_rpc_server_free(h.rpc);
}

/* One worker, two iterations, its own alpha and learning rate: the plan as given, each round's
 * average at once, the last iteration validated though not on the schedule (every 10th). */
static void test_service_last_validated(void)
{
    host h;
    host_start_plan(&h, 1, 20000, &data, 2, 0.5, 0.25);
    ccz_rpc_channel *a = host_channel(&h);
    Homolr__KeyRequest k = HOMOLR__KEY_REQUEST__INIT;
    k.id = 1;
    hcall kc = {a, "GetPubKey", &k.base, &homolr__key_reply__descriptor, NULL, 0, "", 0};
    hcall_run(&kc);
    CHECK_INT(kc.code, CCZ_RPC_OK);
    const Homolr__KeyReply *kr = (const Homolr__KeyReply *)kc.resp;
    CHECK(kr && kr->iterations == 2 && kr->alpha == 0.5 && kr->learning_rate == 0.25);
    if (kc.resp)
        protobuf_c_message_free_unpacked(kc.resp, NULL);
    const double va[] = {0.5, 1.0, -2.0};
    ccz_buf ba = CCZ_BUF_INIT;
    weights_msg(&ba, va);
    Homolr__WeightsRequest wa = HOMOLR__WEIGHTS_REQUEST__INIT;
    wa.id = 1;
    wa.weights = (ProtobufCBinaryData){ba.len, ba.ptr};
    Homolr__Empty empty = HOMOLR__EMPTY__INIT;
    for (int it = 0; it < 2; it++) {
        wa.iter_n = it;
        hcall ca = {a, "AggregateModel", &wa.base, &homolr__weights_reply__descriptor, NULL, 0, "",
                    0};
        hcall_run(&ca);
        CHECK_INT(ca.code, CCZ_RPC_OK);
        CHECK(weights_are(ca.resp, va));
        if (ca.resp)
            protobuf_c_message_free_unpacked(ca.resp, NULL);
        hcall vc = {a,    "Validate", &empty.base, &homolr__validate_reply__descriptor,
                    NULL, 0,          "",          0};
        hcall_run(&vc);
        CHECK_INT(vc.code, CCZ_RPC_OK);
        CHECK(vc.resp && ((const Homolr__ValidateReply *)vc.resp)->iter_n == it);
        if (vc.resp)
            protobuf_c_message_free_unpacked(vc.resp, NULL);
    }
    HEXPECT(a, "Finish", empty, &homolr__empty__descriptor, CCZ_RPC_OK, "");
    ccz_rpc_channel_free(a);
    rpc_serve_stop(h.rpc, h.thread, 1000);
    const ccz_fl_hlr_status *st = ccz_fl_hlr_service_status(h.svc);
    CHECK(st->over);
    CHECK_INT(st->code, 0);
    CHECK_INT(st->iterations, 2);
    CHECK_INT(st->validated, 1);
    ccz_buf_free(&ba);
    ccz_fl_hlr_service_free(h.svc);
    ccz_rpc_server_free(h.rpc);
}

/* An AggregateModel call started on a channel run by chan_run: its status and whether its
 * reply was the average {1, 2, 1}. */
typedef struct {
    int code; /* -1 until done */
    char msg[512];
    bool average;
} acall;

static void acall_message(const ProtobufCMessage *m, void *payload)
{
    static const double avg[] = {1.0, 2.0, 1.0};
    ((acall *)payload)->average = weights_are(m, avg);
}

static void acall_done(const ccz_rpc_status *st, void *payload)
{
    acall *c = payload;
    snprintf(c->msg, sizeof c->msg, "%s", st->message);
    __atomic_store_n(&c->code, st->code, __ATOMIC_SEQ_CST);
}

static void *chan_run(void *ch)
{
    CHECK_OK(ccz_rpc_channel_run(ch));
    return NULL;
}

/* A worker's weights sent twice in one iteration on its connection: the second call is refused
 * ALREADY_EXISTS while the first is held, and the first is answered with the average once the
 * other worker's weights come. */
static void test_service_weights_twice(void)
{
    host h;
    host_start(&h, 2, 20000, NULL);
    ccz_rpc_channel *a = host_channel(&h), *b = host_channel(&h);
    join_two(a, b);
    const double va[] = {0.5, 1.0, -2.0}, vb[] = {1.5, 3.0, 4.0}, avg[] = {1.0, 2.0, 1.0};
    ccz_buf ba = CCZ_BUF_INIT, bb = CCZ_BUF_INIT;
    weights_msg(&ba, va);
    weights_msg(&bb, vb);
    Homolr__WeightsRequest wa = HOMOLR__WEIGHTS_REQUEST__INIT, wb = HOMOLR__WEIGHTS_REQUEST__INIT;
    wa.id = 1;
    wa.weights = (ProtobufCBinaryData){ba.len, ba.ptr};
    wb.id = 2;
    wb.weights = (ProtobufCBinaryData){bb.len, bb.ptr};
    ccz_rpc_call_opts co = CCZ_RPC_CALL_OPTS_INIT;
    co.deadline_ms = 10000;
    acall c1 = {-1, "", false}, c2 = {-1, "", false};
    ccz_rpc_stream *s1 = NULL, *s2 = NULL;
    CHECK_OK(ccz_rpc_start(a, &s1, "/homolr.Host/AggregateModel", &wa.base,
                           &homolr__weights_reply__descriptor, &co, acall_message, acall_done,
                           &c1));
    CHECK_OK(ccz_rpc_start(a, &s2, "/homolr.Host/AggregateModel", &wa.base,
                           &homolr__weights_reply__descriptor, &co, acall_message, acall_done,
                           &c2));
    pthread_t t;
    test_thread(&t, chan_run, a);
    /* the second comes back at once; then b's weights end the iteration */
    for (int i = 0; i < 250 && __atomic_load_n(&c2.code, __ATOMIC_SEQ_CST) == -1; i++)
        nanosleep(&(struct timespec){0, 20000000}, NULL);
    CHECK_INT(__atomic_load_n(&c2.code, __ATOMIC_SEQ_CST), CCZ_RPC_ALREADY_EXISTS);
    CHECK_STR(c2.msg, "worker 1 (a) has sent its weights for iteration 0 already");
    hcall cb = {b, "AggregateModel", &wb.base, &homolr__weights_reply__descriptor, NULL, 0, "", 0};
    hcall_run(&cb);
    pthread_join(t, NULL);
    CHECK_INT(cb.code, CCZ_RPC_OK);
    CHECK(weights_are(cb.resp, avg));
    if (cb.resp)
        protobuf_c_message_free_unpacked(cb.resp, NULL);
    CHECK_INT(c1.code, CCZ_RPC_OK);
    CHECK(c1.average);
    ccz_rpc_channel_free(a);
    ccz_rpc_channel_free(b);
    rpc_serve_stop(h.rpc, h.thread, 1000);
    CHECK_INT(ccz_fl_hlr_service_status(h.svc)->iterations, 1);
    ccz_buf_free(&ba);
    ccz_buf_free(&bb);
    ccz_fl_hlr_service_free(h.svc);
    ccz_rpc_server_free(h.rpc);
}

/* Weights whose average is past the encoding (a mantissa of 2^1000 under a 1024-bit key): the
 * training ends DATA_LOSS naming the iteration and the weight, the worker told why. */
static void test_service_average_overflow(void)
{
    host h;
    host_start(&h, 1, 20000, NULL);
    ccz_rpc_channel *a = host_channel(&h);
    Homolr__KeyRequest k = HOMOLR__KEY_REQUEST__INIT;
    char m[512];
    k.id = 1;
    CHECK_INT(hnow(a, "GetPubKey", &k.base, &homolr__key_reply__descriptor, m), CCZ_RPC_OK);
    const ccz_paillier_pub *pk = ccz_paillier_key_pub(key);
    ccz_paillier_number w[FEATURES + 1];
    mpz_t x;
    mpz_init(x);
    for (int i = 0; i <= FEATURES; i++) {
        ccz_paillier_number_init(&w[i]);
        mpz_set_ui(x, 1);
        if (i == 0)
            mpz_mul_2exp(x, x, 1000);
        CHECK_OK(ccz_paillier_encrypt(w[i].c, pk, x));
        w[i].exponent = 0;
    }
    mpz_clear(x);
    ccz_buf ba = CCZ_BUF_INIT;
    CHECK_OK(ccz_fl_hlr_weights_write(&ba, w, FEATURES + 1));
    for (int i = 0; i <= FEATURES; i++)
        ccz_paillier_number_clear(&w[i]);
    Homolr__WeightsRequest wa = HOMOLR__WEIGHTS_REQUEST__INIT;
    wa.id = 1;
    wa.weights = (ProtobufCBinaryData){ba.len, ba.ptr};
    const char *why = "iteration 0: the average of the workers' weights cannot be decrypted to a "
                      "number (weight 0 of the average: its mantissa has 1001 bits";
    hcall ca = {a, "AggregateModel", &wa.base, &homolr__weights_reply__descriptor, NULL, 0, "", 0};
    hcall_run(&ca);
    CHECK_INT(ca.code, CCZ_RPC_DATA_LOSS);
    CHECK_CONTAINS(ca.msg, why);
    if (ca.resp)
        protobuf_c_message_free_unpacked(ca.resp, NULL);
    ccz_rpc_channel_free(a);
    rpc_serve_stop(h.rpc, h.thread, 1000);
    const ccz_fl_hlr_status *st = ccz_fl_hlr_service_status(h.svc);
    CHECK(st->over);
    CHECK_INT(st->code, CCZ_RPC_DATA_LOSS);
    CHECK_CONTAINS(st->message, why);
    ccz_buf_free(&ba);
    ccz_fl_hlr_service_free(h.svc);
    ccz_rpc_server_free(h.rpc);
}

static void cleanup(void)
{
    ccz_paillier_key_free(key);
    free(data.x);
    free(data.y);
}

TEST_MAIN(T(setup), T(test_training), T(test_other_version), T(test_hostile_host),
          T(test_service_options), T(test_service_calls), T(test_service_timeout),
          T(test_service_default_timeout), T(test_service_stalls), T(test_service_finish_early),
          T(test_service_last_validated), T(test_service_weights_twice),
          T(test_service_average_overflow), T(cleanup))
