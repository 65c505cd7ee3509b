/* SPDX-License-Identifier: Apache-2.0 */
/* A worker of the homomorphic LR service (ccz_fl_hlr_work, src/svc/fl/client.c) against a host
 * played by the test: homolr.Host on a plaintext gRPC server whose key, plan and answers each
 * case scripts. The host holds the Paillier key: it decrypts the weights the worker sends (its
 * bias and features, each a finite number) and sends them back as the round's model. The worker
 * must number its iterations, validate on the plan's schedule (every k-th and the last), keep
 * the host's figures as the host labels them, finish once, and refuse a key that is not one, a
 * plan out of range, another feature count or weights that are not ciphertexts under the key,
 * stopping at the first call that fails. Last, the parameter server's own options
 * (ccz_fl_hlr_service_new), each refused by what to change. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static void cleanup(void)
{
    ccz_paillier_key_free(key);
    free(data.x);
    free(data.y);
}

TEST_MAIN(T(setup), T(test_training), T(test_hostile_host), T(test_service_options), T(cleanup))
