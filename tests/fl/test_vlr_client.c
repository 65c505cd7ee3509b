/* SPDX-License-Identifier: Apache-2.0 */
/* A party of the hetero-LR service (ccz_fl_vlr_run, src/svc/fl/hetero_client.c) against an
 * arbiter played by the test: heterolr.Arbiter on a plaintext gRPC server that holds the
 * Paillier key, answers each step with encryptions of zero (zero residuals, zero scores from the
 * hosts) and decrypts the party's masked gradients as the real arbiter does, unless the case
 * scripts otherwise. The party (a host, and the guest) must keep to the steps, stop when told,
 * and refuse a key that is not one, a plan out of range, ids it does not have, and ciphertexts
 * or plaintexts the arbiter should not send: too few, empty or zero, n^2 or beyond, longer than
 * n^2, a plaintext of n; and an arbiter that does not stop after its epochs. */
#include <gmp.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccz/ccz.h"
#include "ccz/fl.h"
#include "hetero_lr.pb-c.h"
#include "rpc_fixture.h"
#include "test.h"

#define ROWS 6

static ccz_paillier_key *key;

typedef enum { GOOD, FEW, MORE, ZERO, N2, LONG } cipher_fault;

typedef struct {
    /* the script */
    const char *n_bytes; /* instead of the key's modulus (NULL: the key's) */
    int64_t ids[ROWS + 1];
    size_t n_ids;
    int epochs, batch;
    double alpha, lr, momentum;
    cipher_fault residuals; /* host: Forward's answer; guest: HostForwards' */
    bool plain_n;           /* a decrypted gradient of n */
    bool never_stop;
    size_t host_scores; /* the guest's HostScores (0: ROWS) */
    bool square_n2;     /* the guest's HostForwards: the square is n^2 */
    bool fewer_plain;   /* Gradient's answer: one value fewer */
    bool no_square;     /* the guest's HostForwards: no square (several hosts: no loss) */
    int stop_at;        /* Gradient says stop at this call (1-based; 0: the first) */
    bool converged;     /* and that the training converged */
    bool label_scores;  /* the guest's HostScores: +100 for a row labelled 1, -100 for 0 */
    /* what the arbiter saw */
    char role[8];
    int forwards, gradients, scores, finishes;
    size_t n_forward, n_scores, n_residuals;
    bool square;
    int features;
} script;

static void put_mpz(ProtobufCBinaryData *b, const mpz_t x)
{
    b->data = mpz_export(NULL, &b->len, 1, 1, 1, 0, x);
}

/* count + 1 encryptions of zero into out, one spoiled as the script says; how many to send
 * (count, one fewer or one more) */
static size_t ciphertexts(ProtobufCBinaryData *out, size_t count, cipher_fault f)
{
    mpz_t c, zero, n2;
    mpz_inits(c, zero, n2, NULL);
    ccz_paillier_pub_n(n2, ccz_paillier_key_pub(key));
    mpz_mul(n2, n2, n2);
    for (size_t i = 0; i <= count; i++) {
        CHECK_OK(ccz_paillier_encrypt(c, ccz_paillier_key_pub(key), zero));
        if (i == 1 && f == ZERO)
            mpz_set_ui(c, 0);
        if (i == 1 && f == N2)
            mpz_set(c, n2);
        if (i == 1 && f == LONG)
            mpz_mul_2exp(c, n2, 8);
        put_mpz(&out[i], c);
    }
    mpz_clears(c, zero, n2, NULL);
    return f == FEW ? count - 1 : f == MORE ? count + 1 : count;
}

static void free_all(ProtobufCBinaryData *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(b[i].data);
}

static void on_join(ccz_rpc_call *call, const ProtobufCMessage *m, void *payload)
{
    script *s = payload;
    snprintf(s->role, sizeof s->role, "%s", ((const Heterolr__JoinRequest *)m)->role);
    s->features = ((const Heterolr__JoinRequest *)m)->features;
    mpz_t n;
    mpz_init(n);
    ccz_paillier_pub_n(n, ccz_paillier_key_pub(key));
    Heterolr__JoinReply r = HETEROLR__JOIN_REPLY__INIT;
    if (s->n_bytes)
        r.n = (ProtobufCBinaryData){strlen(s->n_bytes), (uint8_t *)s->n_bytes};
    else
        put_mpz(&r.n, n);
    r.ids = s->ids;
    r.n_ids = s->n_ids;
    r.epochs = s->epochs;
    r.batch_size = s->batch;
    r.alpha = s->alpha;
    r.learning_rate = s->lr;
    r.momentum = s->momentum;
    r.hosts = 1;
    CHECK_OK(ccz_rpc_reply(call, &r.base));
    if (!s->n_bytes)
        free(r.n.data);
    mpz_clear(n);
}

static void on_forward(ccz_rpc_call *call, const ProtobufCMessage *m, void *payload)
{
    script *s = payload;
    const Heterolr__ForwardRequest *q = (const Heterolr__ForwardRequest *)m;
    s->forwards++;
    s->n_forward = q->n_forward;
    s->square = q->square.len > 0;
    ProtobufCBinaryData v[ROWS + 1];
    size_t count = q->n_forward <= ROWS ? q->n_forward : ROWS;
    Heterolr__Ciphertexts r = HETEROLR__CIPHERTEXTS__INIT;
    r.values = v;
    r.n_values = ciphertexts(v, count, s->residuals);
    CHECK_OK(ccz_rpc_reply(call, &r.base));
    free_all(v, count + 1);
}

static void on_host_forwards(ccz_rpc_call *call, const ProtobufCMessage *m, void *payload)
{
    (void)m;
    script *s = payload;
    s->forwards++;
    ProtobufCBinaryData v[ROWS + 1], sq[2];
    Heterolr__ForwardReply r = HETEROLR__FORWARD_REPLY__INIT;
    r.forward = v;
    r.n_forward = ciphertexts(v, ROWS, s->residuals);
    ciphertexts(sq, 1, GOOD);
    r.square = sq[0];
    if (s->square_n2) {
        mpz_t n2;
        mpz_init(n2);
        ccz_paillier_pub_n(n2, ccz_paillier_key_pub(key));
        mpz_mul(n2, n2, n2);
        free(sq[0].data);
        put_mpz(&sq[0], n2);
        r.square = sq[0];
        mpz_clear(n2);
    }
    if (s->no_square)
        r.square = (ProtobufCBinaryData){0, NULL};
    CHECK_OK(ccz_rpc_reply(call, &r.base));
    free_all(v, ROWS + 1);
    free_all(sq, 2);
}

static void on_residuals(ccz_rpc_call *call, const ProtobufCMessage *m, void *payload)
{
    script *s = payload;
    const Heterolr__ResidualsRequest *q = (const Heterolr__ResidualsRequest *)m;
    s->n_residuals = q->n_residuals;
    s->square = q->loss.len > 0;
    Heterolr__Empty r = HETEROLR__EMPTY__INIT;
    CHECK_OK(ccz_rpc_reply(call, &r.base));
}

static void on_gradient(ccz_rpc_call *call, const ProtobufCMessage *m, void *payload)
{
    script *s = payload;
    const Heterolr__GradientRequest *q = (const Heterolr__GradientRequest *)m;
    s->gradients++;
    ProtobufCBinaryData p[16];
    size_t n = q->n_masked < 16 ? q->n_masked : 16;
    mpz_t c, x;
    mpz_inits(c, x, NULL);
    for (size_t i = 0; i < n; i++) {
        mpz_import(c, q->masked[i].len, 1, 1, 1, 0, q->masked[i].data);
        CHECK_OK(ccz_paillier_decrypt(x, key, c));
        if (i == 0 && s->plain_n)
            ccz_paillier_pub_n(x, ccz_paillier_key_pub(key));
        put_mpz(&p[i], x);
    }
    mpz_clears(c, x, NULL);
    Heterolr__GradientReply r = HETEROLR__GRADIENT_REPLY__INIT;
    r.plain = p;
    r.n_plain = s->fewer_plain && n ? n - 1 : n;
    r.stop = !s->never_stop && s->gradients >= s->stop_at;
    r.converged = s->converged;
    r.loss = 0.5;
    CHECK_OK(ccz_rpc_reply(call, &r.base));
    free_all(p, n);
}

static void on_scores(ccz_rpc_call *call, const ProtobufCMessage *m, void *payload)
{
    script *s = payload;
    s->scores++;
    s->n_scores = ((const Heterolr__ScoresRequest *)m)->n_scores;
    Heterolr__Empty r = HETEROLR__EMPTY__INIT;
    CHECK_OK(ccz_rpc_reply(call, &r.base));
}

static void on_host_scores(ccz_rpc_call *call, const ProtobufCMessage *m, void *payload)
{
    (void)m;
    script *s = payload;
    s->scores++;
    double u[ROWS + 1] = {0};
    Heterolr__ScoresRequest r = HETEROLR__SCORES_REQUEST__INIT;
    r.scores = u;
    r.n_scores = s->host_scores ? s->host_scores : ROWS;
    for (int k = 0; s->label_scores && k < ROWS; k++) /* aligned row k: id 10 + k, label (5-k)%2 */
        u[k] = (5 - k) % 2 ? 100 : -100;
    CHECK_OK(ccz_rpc_reply(call, &r.base));
}

static void on_finish(ccz_rpc_call *call, const ProtobufCMessage *m, void *payload)
{
    (void)m;
    ((script *)payload)->finishes++;
    Heterolr__Empty r = HETEROLR__EMPTY__INIT;
    CHECK_OK(ccz_rpc_reply(call, &r.base));
}

static ccz_ml_dataset host_data, guest_data;

static unsigned run_version = CCZ_FL_VLR_RUN_OPTS_VERSION; /* a test sets another */

typedef struct {
    int calls;
    unsigned last_epoch;
    double last_loss;
} progress_seen;

static progress_seen seen_progress;

static void on_progress(unsigned epoch, double loss, double seconds, void *payload)
{
    (void)seconds;
    progress_seen *p = payload;
    p->calls++;
    p->last_epoch = epoch;
    p->last_loss = loss;
}

static ccz_status run(script *s, bool guest, ccz_fl_vlr_run_result *out)
{
    const ccz_rpc_handler handlers[] = {on_join,     on_forward, on_host_forwards, on_residuals,
                                        on_gradient, on_scores,  on_host_scores,   on_finish};
    rpc_fake f;
    rpc_fake_start(&f, &heterolr__arbiter__descriptor, NULL, handlers, s, 0);
    ccz_fl_vlr_run_opts o = CCZ_FL_VLR_RUN_OPTS_INIT;
    o.id = guest ? 0 : 1;
    o.deadline_ms = 10000;
    o.threads = 1;
    o.version = run_version;
    o.progress = on_progress;
    o.payload = &seen_progress;
    memset(&seen_progress, 0, sizeof seen_progress);
    ccz_status st = ccz_fl_vlr_run(f.ch, &o, guest ? &guest_data : &host_data, out);
    rpc_fake_stop(&f);
    return st;
}

static script plan(void)
{
    script s = {.n_ids = ROWS, .epochs = 1, .batch = ROWS, .alpha = 0.01, .lr = 0.15};
    for (int i = 0; i < ROWS; i++)
        s.ids[i] = 10 + i;
    return s;
}

static void data_of(ccz_ml_dataset *d, bool labels)
{
    d->rows = ROWS;
    d->features = 2;
    d->x = malloc(ROWS * 2 * sizeof *d->x);
    d->ids = malloc(ROWS * sizeof *d->ids);
    d->y = labels ? malloc(ROWS) : NULL;
    for (size_t i = 0; i < ROWS; i++) {
        d->x[2 * i] = (double)i / ROWS;
        d->x[2 * i + 1] = 0.25;
        d->ids[i] = 15 - (int64_t)i; /* another order than the arbiter's */
        if (labels)
            d->y[i] = i % 2;
    }
}

static void setup(void)
{
    CHECK_OK(ccz_paillier_keygen(&key, 1024));
    data_of(&host_data, false);
    data_of(&guest_data, true);
}

/* Options of another version than this header's are refused before anything is asked. */
static void test_other_version(void)
{
    for (unsigned v = 0; v <= CCZ_FL_VLR_RUN_OPTS_VERSION + 1; v += 2) {
        ccz_fl_vlr_run_result out;
        script s = plan();
        run_version = v;
        CHECK_STATUS(run(&s, false, &out), CCZ_ERR_INVALID_ARGUMENT);
        CHECK_STR(ccz_error_detail(), v ? "ccz_fl_vlr_run: version 2, expected 1"
                                        : "ccz_fl_vlr_run: version 0, expected 1");
        CHECK_STR(s.role, "");
    }
    run_version = CCZ_FL_VLR_RUN_OPTS_VERSION;
}

static void test_a_run(void)
{
    ccz_fl_vlr_run_result out;
    script s = plan();
    CHECK_OK(run(&s, false, &out));
    CHECK_INT(out.code, 0);
    CHECK_STR(s.role, "host");
    CHECK_INT(out.rows, ROWS);
    CHECK(out.steps == 1 && out.epochs == 1);
    CHECK(s.forwards == 1 && s.n_forward == ROWS && s.square);
    CHECK_INT(s.gradients, 1);
    CHECK(s.scores == 1 && s.n_scores == ROWS);
    CHECK_INT(s.finishes, 1);
    CHECK(out.weights && out.dim == 2);
    free(out.weights);
    /* the guest: the hosts' scores in, its residuals (and the loss) out, the evaluation */
    s = plan();
    CHECK_OK(run(&s, true, &out));
    CHECK_INT(out.code, 0);
    CHECK_STR(s.role, "guest");
    CHECK(s.n_residuals == ROWS && s.square);
    CHECK(s.scores == 1 && s.finishes == 1);
    CHECK(isfinite(out.auc) && isfinite(out.acc));
    free(out.weights);
}

static void test_hostile_arbiter(void)
{
    script c[26];
    for (size_t i = 0; i < CCZ_ARRAY_LEN(c); i++)
        c[i] = plan();
    c[0].n_bytes = "\x0f";
    c[1].n_ids = 1;
    c[2].batch = ROWS + 1;
    c[3].epochs = 0;
    c[4].alpha = -1;
    c[5].lr = 0;
    c[6].momentum = 1;
    c[7].ids[2] = 99; /* an id this party does not have */
    c[8].residuals = FEW;
    c[9].residuals = ZERO;
    c[10].residuals = N2;
    c[11].residuals = LONG;
    c[12].plain_n = true;
    c[13].never_stop = true;
    c[14].residuals = FEW; /* the guest: the hosts' scores */
    c[15].host_scores = ROWS - 1;
    c[16].residuals = MORE;
    static char n512[65]; /* 2^512 - 1: a modulus a Paillier key may have, too short here */
    memset(n512, 0xff, 64);
    c[17].n_bytes = n512;
    c[18].batch = 0; /* not "all rows": the plan's batches are what the buffers are sized by */
    c[19].epochs = 1025;
    c[20].momentum = -INFINITY;
    c[21].square_n2 = true;
    c[22].fewer_plain = true;
    c[23].n_ids = 1; /* one aligned row: a batch of it is in range, the row count not */
    c[23].batch = 1;
    c[24].alpha = 1e6;
    c[25].lr = 1e6;
    const struct {
        bool guest;
        ccz_status want;
        const char *detail;
    } e[] = {
        {false, CCZ_ERR_INVALID_ARGUMENT, "the arbiter's Paillier key"},
        {false, CCZ_ERR_PROTOCOL, "the arbiter's plan is out of range"},
        {false, CCZ_ERR_PROTOCOL, "batches of 7 of 6 rows"},
        {false, CCZ_ERR_PROTOCOL, "(0 epochs"},
        {false, CCZ_ERR_PROTOCOL, "alpha -1"},
        {false, CCZ_ERR_PROTOCOL, "learning rate 0"},
        {false, CCZ_ERR_PROTOCOL, "momentum 1)"},
        {false, CCZ_ERR_NOT_FOUND, "id 99 is not in this party's data"},
        {false, CCZ_ERR_PROTOCOL, "the arbiter sent 5 residuals; expected 6"},
        {false, CCZ_ERR_PROTOCOL, "the arbiter's residuals 1 is out of range"},
        {false, CCZ_ERR_PROTOCOL, "the arbiter's residuals 1 is out of range"},
        {false, CCZ_ERR_PROTOCOL, "the arbiter's residuals 1 is too long"},
        {false, CCZ_ERR_PROTOCOL, "the arbiter's gradients 0 is out of range"},
        {false, CCZ_ERR_PROTOCOL, "the arbiter did not stop the training after its 1 epochs"},
        {true, CCZ_ERR_PROTOCOL, "the arbiter sent 5 scores; expected 6"},
        {true, CCZ_ERR_PROTOCOL, "the arbiter sent 5 scores for 6 rows"},
        {false, CCZ_ERR_PROTOCOL, "the arbiter sent 7 residuals; expected 6"},
        {false, CCZ_ERR_INVALID_ARGUMENT, "hetero-LR needs a key of 1024 bits or more"},
        {false, CCZ_ERR_PROTOCOL, "batches of 0 of 6 rows"},
        {false, CCZ_ERR_PROTOCOL, "(1025 epochs"},
        {false, CCZ_ERR_PROTOCOL, "momentum -inf)"},
        {true, CCZ_ERR_PROTOCOL, "the arbiter's square 0 is out of range"},
        {false, CCZ_ERR_PROTOCOL, "the arbiter sent 1 gradients; expected 2"},
        {false, CCZ_ERR_PROTOCOL, "batches of 1 of 1 rows"},
        {false, CCZ_ERR_PROTOCOL, "alpha 1e+06"},
        {false, CCZ_ERR_PROTOCOL, "learning rate 1e+06"},
    };
    for (size_t i = 0; i < CCZ_ARRAY_LEN(c); i++) {
        ccz_fl_vlr_run_result out;
        CHECK_STATUS(run(&c[i], e[i].guest, &out), e[i].want);
        CHECK_CONTAINS(ccz_error_detail(), e[i].detail);
        CHECK_INT(c[i].finishes, 0);
        if (c[i].never_stop) /* refused at the first step past the plan, not later */
            CHECK_INT(c[i].gradients, 1);
        free(out.weights);
    }
}

/* What the party says and reports: its features; the epochs, steps, losses and convergence as
 * the arbiter's answers give them; a guest with several hosts (no square, so no loss); the
 * accuracy and AUC from the hosts' scores added to its own. */
static void test_reports(void)
{
    ccz_fl_vlr_run_result out;
    /* batches of 3: two steps an epoch; stopped at the fourth step, the end of epoch 2 */
    script s = plan();
    s.epochs = 2;
    s.batch = 3;
    s.stop_at = 4;
    s.converged = true;
    CHECK_OK(run(&s, false, &out));
    CHECK_INT(out.code, 0);
    CHECK_INT(s.features, 2);
    CHECK(out.steps == 4 && out.epochs == 2);
    CHECK(out.converged);
    CHECK_INT(seen_progress.calls, 2); /* once an epoch, at its last step */
    CHECK_INT(seen_progress.last_epoch, 1);
    CHECK(seen_progress.last_loss == 0.5);
    free(out.weights);
    /* a plan without regularization is one */
    s = plan();
    s.alpha = 0;
    CHECK_OK(run(&s, false, &out));
    CHECK_INT(out.code, 0);
    CHECK_INT(s.finishes, 1);
    free(out.weights);
    /* several hosts: no square, the guest's residuals go without a loss */
    s = plan();
    s.no_square = true;
    CHECK_OK(run(&s, true, &out));
    CHECK_INT(out.code, 0);
    CHECK(s.n_residuals == ROWS && !s.square);
    CHECK_INT(s.finishes, 1);
    free(out.weights);
    /* hosts' scores that decide every row rightly */
    s = plan();
    s.label_scores = true;
    CHECK_OK(run(&s, true, &out));
    CHECK_INT(out.code, 0);
    CHECK(out.acc == 1 && out.auc == 1);
    free(out.weights);
    /* a party of one row is refused before any call */
    host_data.rows = 1;
    s = plan();
    CHECK_STATUS(run(&s, false, &out), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "a party needs rows with ids");
    CHECK_STR(s.role, "");
    host_data.rows = ROWS;
}

static void cleanup(void)
{
    ccz_paillier_key_free(key);
    ccz_ml_dataset_free(&host_data);
    ccz_ml_dataset_free(&guest_data);
}

TEST_MAIN(T(setup), T(test_a_run), T(test_other_version), T(test_hostile_arbiter), T(test_reports),
          T(cleanup))
