/* SPDX-License-Identifier: Apache-2.0 */
/* Secure aggregation in the aggregator's protocol (include/ccz/hfl.h, secure_agg; proto/fl.proto),
 * the real service and the real client (ccz_hfl_join) over loopback h2c: the secure mean equals
 * the weighted mean of the clients' models (computed here by training the same models) and the
 * plain aggregator's, to within the fixed point; FedAdam applies on the unmasked mean; a masked
 * update as the aggregator sees it is uncorrelated with its client's model and looks uniform; a
 * client that stops after sending its shares and one whose masked update is mis-shaped are
 * dropped, the round completing with the survivors' mean (the dropped masks removed); a client
 * that advertises one key twice and one that asks to unmask out of turn, refused with their
 * reasons while the round completes; an Unmask from a client with no upload refused while the
 * round waits for a late survivor; too few survivors failing the round, which opens again with
 * them; calls out of turn refused. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ccz/hfl.h"
#include "ccz/secagg.h"
#include "fl.pb-c.h"
#include "hfl_server.h"
#include "test.h"

#define MAXC 5
static const ccz_mlp_shape SHAPE = {2, {16, 32, 4}};
#define DIM (16 * 32 + 32 + 32 * 4 + 4)
#define MODEL_SEED 11
/* each survivor's rounding (half a step of 2^-22), one step more for float32 products, over the
 * survivors' share of the weight */
static double tol(unsigned survivors, double weight)
{
    return (survivors * 0.5 + 1) / 4194304.0 / weight;
}

typedef struct {
    hfl_test_server h;             /* first: the service's payload is the server */
    uint8_t masked[MAXC][DIM * 4]; /* what the aggregator saw */
    char masked_by[MAXC][16];
    unsigned n_masked;
} server;

static void on_masked(const char *name, const uint8_t *words, size_t dim, void *payload)
{
    server *s = payload;
    CHECK_INT(dim, DIM);
    if (s->n_masked < MAXC) {
        memcpy(s->masked[s->n_masked], words, DIM * 4);
        snprintf(s->masked_by[s->n_masked++], 16, "%s", name);
    }
}

static FILE *service_log;         /* the service's log, when a test reads it (else stderr) */
static unsigned service_rounds;   /* the training's rounds (0: 1) */
static unsigned service_per_peer; /* the server's connections from one address (0: its default) */

static void server_start_gather(server *s, bool secure, ccz_hfl_strategy_kind strategy,
                                unsigned min, unsigned timeout_ms, unsigned gather_ms)
{
    memset(s, 0, sizeof *s);
    ccz_hfl_service_opts o = CCZ_HFL_SERVICE_OPTS_INIT;
    o.model = "mlp";
    o.shape = SHAPE;
    o.rounds = service_rounds ? service_rounds : 1;
    o.min_clients = min;
    o.strategy = strategy;
    o.round_timeout_ms = timeout_ms;
    o.gather_ms = gather_ms;
    o.seed = MODEL_SEED;
    o.threads = 1;
    o.log = service_log ? service_log : stderr;
    o.secure_agg = secure;
    o.on_masked = on_masked;
    s->h.max_per_peer = service_per_peer;
    hfl_test_server_start(&s->h, &o, DIM);
}

static void server_start(server *s, bool secure, ccz_hfl_strategy_kind strategy, unsigned min,
                         unsigned timeout_ms)
{
    server_start_gather(s, secure, strategy, min, timeout_ms, 400);
}

/* after the clients heard the training is over (without waiting for the aggregator's linger) */
static void server_stop(server *s)
{
    hfl_test_server_stop(&s->h);
}

/* ---- clients ---------------------------------------------------------------------------------*/

typedef struct {
    const server *srv;
    char name[16];
    ccz_mlp_data d;
    int fault;
    ccz_hfl_join_result res;
    ccz_status st;
    unsigned reports; /* the rounds' progress reports: how many, and the first */
    bool first_accepted;
    char first_why[256];
} client;

static void on_progress(unsigned round, unsigned rounds, double loss, double seconds, bool accepted,
                        const char *why, void *payload)
{
    (void)round, (void)rounds, (void)loss, (void)seconds;
    client *c = payload;
    if (c->reports++ == 0) {
        c->first_accepted = accepted;
        snprintf(c->first_why, sizeof c->first_why, "%s", why ? why : "");
    }
}

/* rows of 16 features, labelled by the largest of four sums of them */
static void make_data(ccz_mlp_data *d, size_t rows, uint64_t seed)
{
    d->rows = rows;
    d->features = 16;
    d->classes = 4;
    d->x = malloc(rows * 16 * sizeof(float));
    d->y = malloc(rows);
    uint64_t r = seed;
    for (size_t i = 0; i < rows; i++) {
        float best = -1e9f;
        for (int f = 0; f < 16; f++) {
            r = r * 6364136223846793005ull + 1442695040888963407ull;
            d->x[i * 16 + f] = (float)((double)(r >> 11) / 9007199254740992.0 * 2 - 1);
        }
        for (int c = 0; c < 4; c++) {
            float v = 0;
            for (int f = 0; f < 4; f++)
                v += d->x[i * 16 + c * 4 + f];
            if (v > best) {
                best = v;
                d->y[i] = (uint8_t)c;
            }
        }
    }
}

static void *client_run(void *arg)
{
    client *c = arg;
    ccz_rpc_channel_opts co = CCZ_RPC_CHANNEL_OPTS_INIT;
    ccz_rpc_channel *ch = NULL;
    CHECK_OK(ccz_rpc_channel_new(&ch, c->srv->h.target, &co));
    ccz_hfl_join_opts o = CCZ_HFL_JOIN_OPTS_INIT;
    o.name = c->name;
    o.threads = 1;
    o.seed = 5;
    o.retry_ms = 5000;
    o.deadline_ms = 20000;
    o.fault = c->fault;
    o.fault_round = 1;
    o.progress = on_progress;
    o.payload = c;
    c->st = ccz_hfl_join(ch, &o, &c->d, &c->res);
    ccz_rpc_channel_free(ch);
    return NULL;
}

static void run_clients(client *cs, unsigned n)
{
    pthread_t t[MAXC];
    for (unsigned i = 0; i < n; i++)
        test_thread(&t[i], client_run, &cs[i]);
    for (unsigned i = 0; i < n; i++)
        pthread_join(t[i], NULL);
}

static void make_clients(client *cs, unsigned n, const server *s)
{
    memset(cs, 0, n * sizeof *cs);
    for (unsigned i = 0; i < n; i++) {
        cs[i].srv = s;
        snprintf(cs[i].name, sizeof cs[i].name, "c%u", i);
        make_data(&cs[i].d, 60 + 40 * i, 100 + i);
    }
}

static void free_clients(client *cs, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        ccz_mlp_data_free(&cs[i].d);
}

/* The model client i trains in round 1, as ccz_hfl_join does it. */
static void local_model(float *w, const client *c)
{
    ccz_mlp_init(w, &SHAPE, MODEL_SEED);
    ccz_mlp_train_opts to = CCZ_MLP_TRAIN_OPTS_INIT;
    to.epochs = 1;
    to.batch = 32;
    to.threads = 1;
    to.seed = 5 * 1000003u + 1;
    double loss;
    CHECK_OK(ccz_mlp_train(w, &SHAPE, &c->d, &to, &loss));
}

/* The weighted mean of the clients in `in`, weighted by their rows. */
static void reference_mean(double *out, const client *cs, unsigned n, const bool *in)
{
    static float w[DIM];
    double total = 0;
    memset(out, 0, DIM * sizeof *out);
    for (unsigned i = 0; i < n; i++) {
        if (!in[i])
            continue;
        local_model(w, &cs[i]);
        for (int k = 0; k < DIM; k++)
            out[k] += (double)cs[i].d.rows * w[k];
        total += (double)cs[i].d.rows;
    }
    for (int k = 0; k < DIM; k++)
        out[k] /= total;
}

static double max_diff(const float *a, const double *b)
{
    double m = 0;
    for (int i = 0; i < DIM; i++)
        m = fmax(m, fabs((double)a[i] - b[i]));
    return m;
}

/* The model a training that ended well left, once the server is stopped. */
static const float *final_model(server *s)
{
    static float got[DIM];
    const ccz_hfl_status *st = ccz_hfl_service_status(s->h.svc);
    CHECK(st->over && st->code == 0);
    memcpy(got, st->weights, sizeof got);
    server_stop(s);
    return got;
}

/* got against the weighted mean of the clients in `in`, within the fixed point's tolerance for
 * that many survivors holding `weight` of the round's rows. */
static void check_survivors_mean(const float *got, const client *cs, unsigned n, const bool *in,
                                 double weight, const char *what)
{
    double ref[DIM];
    unsigned survivors = 0;
    for (unsigned i = 0; i < n; i++)
        survivors += in[i];
    reference_mean(ref, cs, n, in);
    double d = max_diff(got, ref), t = tol(survivors, weight);
    fprintf(stderr, "%s: max |secure mean - survivors' weighted mean| = %.3g (tolerance %.3g)\n",
            what, d, t);
    CHECK(d <= t);
}

/* ---- tests -----------------------------------------------------------------------------------*/

static float secure_final[DIM];

/* (a) and (b): three clients of 60, 100 and 140 rows, one round. */
static void secure_mean_equals_fedavg(void)
{
    static server s;
    client cs[3];
    server_start(&s, true, CCZ_HFL_FEDAVG, 3, 20000);
    make_clients(cs, 3, &s);
    run_clients(cs, 3);
    memcpy(secure_final, final_model(&s), sizeof secure_final);
    for (int i = 0; i < 3; i++) {
        CHECK_OK(cs[i].st);
        CHECK_INT(cs[i].res.code, 0);
        CHECK_INT(cs[i].res.rounds, 1);
    }
    CHECK_INT(s.h.n_rounds, 1);
    CHECK_INT(s.h.rounds[0].received, 3);
    double ref[DIM];
    bool all[3] = {true, true, true};
    reference_mean(ref, cs, 3, all);
    double d = max_diff(secure_final, ref);
    fprintf(stderr,
            "secure aggregation of 3 clients: max |secure mean - weighted mean| = %.3g "
            "(tolerance %.3g)\n",
            d, tol(3, 1));
    CHECK(d <= tol(3, 1));
    CHECK(d > 0); /* it went through the fixed point */

    /* (b) the aggregator's view of c0's update against c0's model */
    CHECK_INT(s.n_masked, 3);
    unsigned k0 = 0;
    while (k0 < 3 && strcmp(s.masked_by[k0], "c0"))
        k0++;
    CHECK(k0 < 3);
    static float w0[DIM];
    local_model(w0, &cs[0]);
    double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0, mean01 = 0;
    unsigned small = 0;
    for (int i = 0; i < DIM; i++) {
        const uint8_t *p = s.masked[k0] + 4 * i;
        uint32_t u =
            (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
        double x = (double)(int32_t)u, y = w0[i];
        sx += x, sy += y, sxx += x * x, syy += y * y, sxy += x * y;
        mean01 += (double)u / 4294967296.0;
        small += fabs(x) < 268435456.0; /* unmasked, every value would be below 2^28 */
    }
    double n = DIM, corr = (sxy - sx * sy / n) / sqrt((sxx - sx * sx / n) * (syy - sy * sy / n));
    mean01 /= n;
    fprintf(stderr,
            "c0's masked update: correlation with its model %.3f, mean word / 2^32 %.3f, %u of %d "
            "words below 2^28 in magnitude (uniform: 1/8)\n",
            corr, mean01, small, DIM);
    CHECK(fabs(corr) < 0.15); /* 4 standard deviations of 676 independent values */
    CHECK(fabs(mean01 - 0.5) < 0.05);
    CHECK(small < DIM / 4);
    free_clients(cs, 3);
}

/* The plain aggregator on the same clients gives the same model, to within the fixed point;
 * FedAdam runs on the unmasked mean as on the plain one. */
static void plain_and_fedadam_agree(void)
{
    static server s;
    client cs[3];
    static float plain[DIM];
    server_start(&s, false, CCZ_HFL_FEDAVG, 3, 20000);
    make_clients(cs, 3, &s);
    run_clients(cs, 3);
    memcpy(plain, ccz_hfl_service_status(s.h.svc)->weights, sizeof plain);
    server_stop(&s);
    double ref[DIM];
    for (int i = 0; i < DIM; i++)
        ref[i] = plain[i];
    double d = max_diff(secure_final, ref);
    fprintf(stderr, "plain vs secure FedAvg: max difference %.3g\n", d);
    CHECK(d <= tol(3, 1));
    static float adam[2][DIM];
    for (int secure = 0; secure < 2; secure++) {
        server_start(&s, secure, CCZ_HFL_FEDADAM, 3, 20000);
        for (int i = 0; i < 3; i++)
            cs[i].srv = &s;
        run_clients(cs, 3);
        memcpy(adam[secure], ccz_hfl_service_status(s.h.svc)->weights, sizeof adam[secure]);
        CHECK_INT(ccz_hfl_service_status(s.h.svc)->code, 0);
        server_stop(&s);
    }
    /* one Adam step moves each weight by about lr = 0.01: the two agree far closer */
    double da = 0;
    for (int i = 0; i < DIM; i++)
        da = fmax(da, fabs(adam[0][i] - adam[1][i]));
    fprintf(stderr, "plain vs secure FedAdam: max difference %.3g\n", da);
    CHECK(da <= 1e-4);
    free_clients(cs, 3);
}

/* Two rounds, plain and secure, on the same clients: the second secure round unmasks with its
 * own survivors' shares (nothing of the first round's carried over), so the two models agree. */
static void second_round_agrees(void)
{
    static server s;
    client cs[3];
    static float got[2][DIM];
    service_rounds = 2;
    for (int secure = 0; secure < 2; secure++) {
        server_start(&s, secure, CCZ_HFL_FEDAVG, 3, 20000);
        make_clients(cs, 3, &s);
        run_clients(cs, 3);
        const ccz_hfl_status *st = ccz_hfl_service_status(s.h.svc);
        CHECK(st->over && st->code == 0);
        memcpy(got[secure], st->weights, sizeof got[secure]);
        CHECK_INT(s.h.n_rounds, 2);
        CHECK_INT(s.h.rounds[1].received, 3);
        for (int i = 0; i < 3; i++)
            CHECK_INT(cs[i].res.rounds, 2);
        server_stop(&s);
        free_clients(cs, 3);
    }
    service_rounds = 0;
    double d = 0;
    for (int i = 0; i < DIM; i++)
        d = fmax(d, fabs(got[0][i] - got[1][i]));
    fprintf(stderr, "plain vs secure FedAvg after 2 rounds: max difference %.3g\n", d);
    CHECK(d <= 1e-3);
}

/* Five clients (threshold 3) of which c3 and c4 run with the faults given: at the upload's
 * deadline the round goes on with c0..c2, the others' pairwise masks removed with the
 * survivors' shares, and the secure mean equals the three's weighted mean. */
static void three_of_five(server *s, client *cs, int fault3, int fault4)
{
    server_start(s, true, CCZ_HFL_FEDAVG, 5, 2500);
    make_clients(cs, 5, s);
    cs[3].fault = fault3;
    cs[4].fault = fault4;
    run_clients(cs, 5);
    const float *got = final_model(s);
    for (int i = 0; i < 3; i++)
        CHECK_INT(cs[i].res.code, 0);
    CHECK_INT(s->h.n_rounds, 1);
    CHECK_INT(s->h.rounds[0].participants, 5);
    CHECK_INT(s->h.rounds[0].received, 3);
    CHECK_INT(s->n_masked, 3);
    bool in[5] = {true, true, true, false, false};
    check_survivors_mean(got, cs, 5, in, 300.0 / 700, "2 of 5 clients out"); /* 60+100+140 rows */
}

static void dropped_clients_recovered(void)
{
    static server s;
    client cs[5];
    three_of_five(&s, cs, CCZ_HFL_FAULT_DROP, CCZ_HFL_FAULT_TRUNCATE);
    CHECK_INT(cs[3].res.code, CCZ_RPC_ABORTED);
    CHECK_INT(cs[4].res.code, CCZ_RPC_INVALID_ARGUMENT);
    CHECK_CONTAINS(cs[4].res.message, "masked update rejected: 2700 bytes are not the model's "
                                      "676 32-bit words");
    /* in the order they joined */
    CHECK(!strcmp(s.h.rounds[0].dropped, "c3,c4") || !strcmp(s.h.rounds[0].dropped, "c4,c3"));
    free_clients(cs, 5);
}

/* Hostile members of a round: one advertises the same key as both of its keys, one asks to
 * unmask before the round is there; each is refused with its reason, and the round completes
 * with the three others' mean. */
static void hostile_members(void)
{
    static server s;
    client cs[5];
    three_of_five(&s, cs, CCZ_HFL_FAULT_SAME_KEYS, CCZ_HFL_FAULT_EARLY_UNMASK);
    CHECK_INT(cs[3].res.code, CCZ_RPC_INVALID_ARGUMENT);
    CHECK_CONTAINS(cs[3].res.message, "keys rejected: two distinct 32-byte X25519 public keys");
    CHECK_INT(cs[4].res.code, CCZ_RPC_FAILED_PRECONDITION);
    CHECK_CONTAINS(cs[4].res.message,
                   "Unmask for round 1 out of turn (the round is at AdvertiseKeys)");
    free_clients(cs, 5);
}

/* A client that shared its keys but uploaded nothing asks to unmask while one survivor holds
 * its shares back (four clients, threshold 3): refused as no survivor, its pairwise masks come
 * off the sum with the late survivor's shares, and the mean is the three survivors'. */
static void unmask_by_non_survivor(void)
{
    static server s;
    client cs[4];
    server_start(&s, true, CCZ_HFL_FEDAVG, 4, 2500);
    make_clients(cs, 4, &s);
    cs[2].fault = CCZ_HFL_FAULT_LATE_UNMASK;
    cs[3].fault = CCZ_HFL_FAULT_UNMASK_UNUPLOADED;
    run_clients(cs, 4);
    const float *got = final_model(&s);
    for (int i = 0; i < 3; i++) {
        CHECK_INT(cs[i].res.code, 0);
        CHECK_INT(cs[i].res.rounds, 1);
    }
    CHECK_INT(cs[3].res.code, CCZ_RPC_FAILED_PRECONDITION);
    CHECK_STR(cs[3].res.message,
              "Unmask: not a survivor (no masked update from this client is in the sum)");
    CHECK_INT(s.h.n_rounds, 1);
    CHECK_INT(s.h.rounds[0].participants, 4);
    CHECK_INT(s.h.rounds[0].received, 3);
    CHECK_STR(s.h.rounds[0].dropped, "c3");
    bool in[4] = {true, true, true, false};
    check_survivors_mean(got, cs, 4, in, 300.0 / 480, /* 60+100+140 of 480 rows */
                         "an Unmask from a client without an upload");
    free_clients(cs, 4);
}

/* Three of five clients stop after sharing (threshold 3): two masked updates cannot be
 * unmasked, so the round fails at the upload's deadline with its reason, the two survivors'
 * calls aborted; it opens again with the two (--min-clients 2), who complete it with their
 * mean. */
static void too_few_survivors(void)
{
    static server s;
    client cs[5];
    server_start_gather(&s, true, CCZ_HFL_FEDAVG, 2, 2500, 2000);
    make_clients(cs, 5, &s);
    for (int i = 2; i < 5; i++)
        cs[i].fault = CCZ_HFL_FAULT_DROP;
    run_clients(cs, 5);
    const float *got = final_model(&s);
    for (int i = 0; i < 2; i++) {
        CHECK_INT(cs[i].res.code, 0);
        CHECK_INT(cs[i].res.rounds, 1);
        CHECK_INT(cs[i].reports, 2);
        CHECK(!cs[i].first_accepted);
        CHECK_STR(cs[i].first_why, "2 masked updates; 3 are needed to unmask");
    }
    for (int i = 2; i < 5; i++)
        CHECK_INT(cs[i].res.code, CCZ_RPC_ABORTED);
    CHECK_INT(s.h.n_rounds, 1); /* the failed attempt closes no round */
    CHECK_INT(s.h.rounds[0].participants, 2);
    CHECK_INT(s.h.rounds[0].received, 2);
    bool in[5] = {true, true, false, false, false};
    check_survivors_mean(got, cs, 5, in, 1, "the round again with its two survivors");
    free_clients(cs, 5);
}

static int raw(ccz_rpc_channel *ch, const char *method, const ProtobufCMessage *req,
               const ProtobufCMessageDescriptor *d, char *msg)
{
    char path[80];
    snprintf(path, sizeof path, "/cczfl.Aggregator/%s", method);
    ccz_rpc_call_opts co = CCZ_RPC_CALL_OPTS_INIT;
    co.deadline_ms = 5000;
    ccz_rpc_status st;
    ProtobufCMessage *resp = NULL;
    CHECK_OK(ccz_rpc_unary(ch, &resp, &st, path, req, d, &co));
    snprintf(msg, 512, "%s", st.message);
    int code = st.code;
    ccz_rpc_status_free(&st);
    if (resp)
        protobuf_c_message_free_unpacked(resp, NULL);
    return code;
}

/* Calls out of turn on a secure aggregator: a plain update, and each phase's call when no round
 * is open, are FAILED_PRECONDITION; the plan says secure_agg. */
static void out_of_turn(void)
{
    static server s;
    server_start(&s, true, CCZ_HFL_FEDAVG, 2, 20000);
    ccz_rpc_channel_opts co = CCZ_RPC_CHANNEL_OPTS_INIT;
    ccz_rpc_channel *ch = NULL;
    CHECK_OK(ccz_rpc_channel_new(&ch, s.h.target, &co));
    char msg[512];
    Cczfl__JoinRequest jr = CCZFL__JOIN_REQUEST__INIT;
    jr.name = "x";
    jr.examples = 3;
    ProtobufCMessage *resp = NULL;
    ccz_rpc_call_opts o = CCZ_RPC_CALL_OPTS_INIT;
    ccz_rpc_status st;
    CHECK_OK(ccz_rpc_unary(ch, &resp, &st, "/cczfl.Aggregator/Join", &jr.base,
                           &cczfl__plan__descriptor, &o));
    CHECK_INT(st.code, 0);
    ccz_rpc_status_free(&st);
    CHECK(resp && ((Cczfl__Plan *)resp)->secure_agg);
    if (resp)
        protobuf_c_message_free_unpacked(resp, NULL);
    Cczfl__Update u = CCZFL__UPDATE__INIT;
    u.round = 1;
    u.examples = 3;
    CHECK_INT(raw(ch, "PushUpdate", &u.base, &cczfl__ack__descriptor, msg),
              CCZ_RPC_FAILED_PRECONDITION);
    CHECK_CONTAINS(msg, "runs secure aggregation");
    uint8_t k[32] = {1};
    Cczfl__RoundKeys rk = CCZFL__ROUND_KEYS__INIT;
    rk.round = 1;
    rk.c_pk = rk.s_pk = (ProtobufCBinaryData){32, k};
    CHECK_INT(raw(ch, "AdvertiseKeys", &rk.base, &cczfl__key_list__descriptor, msg),
              CCZ_RPC_FAILED_PRECONDITION);
    CHECK_CONTAINS(msg, "AdvertiseKeys for round 1: no secure round of that number is open");
    Cczfl__MaskedUpdate mu = CCZFL__MASKED_UPDATE__INIT;
    mu.round = 1;
    CHECK_INT(raw(ch, "PushMasked", &mu.base, &cczfl__unmask_plan__descriptor, msg),
              CCZ_RPC_FAILED_PRECONDITION);
    CHECK_CONTAINS(msg, "PushMasked for round 1: no secure round");
    Cczfl__UnmaskShares us = CCZFL__UNMASK_SHARES__INIT;
    us.round = 1;
    CHECK_INT(raw(ch, "Unmask", &us.base, &cczfl__ack__descriptor, msg),
              CCZ_RPC_FAILED_PRECONDITION);
    ccz_rpc_channel_free(ch);
    server_stop(&s);
}

/* Secure aggregation's shares are over GF(2^8): an aggregator left at the default of 256 clients
 * takes 255 under it, and refuses the 256th at Join, not at a round it could not open. */
static void secure_client_cap(void)
{
    static server s;
    server_start(&s, true, CCZ_HFL_FEDAVG, 2, 20000);
    static ccz_rpc_channel *chs[CCZ_HFL_MAX_CLIENTS];
    ccz_rpc_channel_opts co = CCZ_RPC_CHANNEL_OPTS_INIT;
    Cczfl__JoinRequest jr = CCZFL__JOIN_REQUEST__INIT;
    jr.examples = 3;
    char name[16], msg[512];
    unsigned joined = 0;
    int code = 0;
    for (unsigned i = 0; i < CCZ_HFL_MAX_CLIENTS && code == 0; i++) {
        CHECK_OK(ccz_rpc_channel_new(&chs[i], s.h.target, &co));
        snprintf(name, sizeof name, "k%u", i);
        jr.name = name;
        code = raw(chs[i], "Join", &jr.base, &cczfl__plan__descriptor, msg);
        joined += code == 0;
    }
    CHECK_INT(joined, 255);
    CHECK_INT(code, CCZ_RPC_RESOURCE_EXHAUSTED);
    CHECK_STR(msg, "the aggregator has its 255 clients already");
    for (unsigned i = 0; i < CCZ_HFL_MAX_CLIENTS; i++)
        ccz_rpc_channel_free(chs[i]);
    server_stop(&s);
}

/* ---- raw members: what the aggregator checks at each phase -----------------------------------*/

enum {
    R_SURV0,
    R_SURV1,
    R_SURV2,
    R_DROPS,
    R_NO_SHARES,
    R_NO_KEYS,
    R_N,
    R_KEYS_ONLY,
    R_LATE,
    R_SILENT
};
#define R_SHARE_CT (12 + 32 + 32 + CCZ_SECAGG_TAG)

typedef struct {
    const server *srv;
    int role;
    unsigned id; /* its name: r<id> */
    int codes[16];
    char msgs[16][512];
    unsigned n;
    unsigned own, t, listed;   /* from the KeyList: its place in it, the threshold, its size */
    size_t survivors, dropped; /* from the UnmaskPlan */
} member;

static int sa_phase; /* 1: the key lists are out; 2: the shares are */

static void sa_phase_set(int p)
{
    __atomic_store_n(&sa_phase, p, __ATOMIC_SEQ_CST);
}

/* false after 15 s (the first survivor stopped early) */
static bool sa_phase_wait(int p)
{
    for (int i = 0; i < 1500 && __atomic_load_n(&sa_phase, __ATOMIC_SEQ_CST) < p; i++)
        usleep(10000);
    return __atomic_load_n(&sa_phase, __ATOMIC_SEQ_CST) >= p;
}

static void record(member *m, int code, const char *msg)
{
    unsigned k = m->n < 16 ? m->n++ : 15;
    m->codes[k] = code;
    snprintf(m->msgs[k], sizeof m->msgs[k], "%s", msg);
}

/* One of the aggregator's calls, its code and message recorded; *resp the caller's. */
static int sa_call(member *m, ccz_rpc_channel *ch, const char *method, const ProtobufCMessage *req,
                   const ProtobufCMessageDescriptor *d, ProtobufCMessage **resp)
{
    char path[80];
    snprintf(path, sizeof path, "/cczfl.Aggregator/%s", method);
    ccz_rpc_call_opts co = CCZ_RPC_CALL_OPTS_INIT;
    co.deadline_ms = 20000;
    ccz_rpc_status st;
    ProtobufCMessage *r = NULL;
    CHECK_OK(ccz_rpc_unary(ch, &r, &st, path, req, d, &co));
    int code = st.code;
    record(m, code, st.message);
    ccz_rpc_status_free(&st);
    if (resp)
        *resp = r;
    else if (r)
        protobuf_c_message_free_unpacked(r, NULL);
    return code;
}

/* n shares of junk, the one at the member's own place own_len bytes long. */
static int send_shares(member *m, ccz_rpc_channel *ch, size_t n, size_t own_len)
{
    static uint8_t junk[R_SHARE_CT];
    ProtobufCBinaryData sh[R_N + 1];
    for (size_t i = 0; i < n; i++)
        sh[i] = (ProtobufCBinaryData){i == m->own ? own_len : sizeof junk, junk};
    Cczfl__KeyShares ks = CCZFL__KEY_SHARES__INIT;
    ks.round = 1;
    ks.n_shares = n;
    ks.shares = sh;
    return sa_call(m, ch, "ShareKeys", &ks.base, &cczfl__shares_for_you__descriptor, NULL);
}

static uint8_t masked_zeros[DIM * 4], masked_long[DIM * 4 + 4]; /* the latter one word over */

static void plan_msg(const ProtobufCMessage *resp, void *payload)
{
    member *m = payload;
    const Cczfl__UnmaskPlan *p = (const Cczfl__UnmaskPlan *)resp;
    m->survivors = p->n_survivors;
    m->dropped = p->n_dropped;
}

static void plan_done(const ccz_rpc_status *st, void *payload)
{
    record(payload, st->code, st->message);
}

/* Shares of junk to unmask: ns of slen bytes for the survivors, nd of dlen for the dropped. */
static int send_unmask(member *m, ccz_rpc_channel *ch, size_t ns, size_t nd, size_t slen,
                       size_t dlen)
{
    static uint8_t junk[32] = {7};
    ProtobufCBinaryData sv[R_N + 1], dr[R_N + 1];
    for (size_t i = 0; i < ns; i++)
        sv[i] = (ProtobufCBinaryData){slen, junk};
    for (size_t i = 0; i < nd; i++)
        dr[i] = (ProtobufCBinaryData){dlen, junk};
    Cczfl__UnmaskShares us = CCZFL__UNMASK_SHARES__INIT;
    us.round = 1;
    us.n_survivor_shares = ns;
    us.survivor_shares = sv;
    us.n_dropped_shares = nd;
    us.dropped_shares = dr;
    return sa_call(m, ch, "Unmask", &us.base, &cczfl__ack__descriptor, NULL);
}

/* Joins as the member's name (prefix and id) with examples and fetches the model: false when
 * a call failed. The round's calls are counted from here. */
static bool member_join(member *m, ccz_rpc_channel *ch, const char *prefix, uint64_t examples)
{
    char name[16];
    snprintf(name, sizeof name, "%s%u", prefix, m->id);
    Cczfl__JoinRequest jr = CCZFL__JOIN_REQUEST__INIT;
    jr.name = name;
    jr.examples = examples;
    Cczfl__ModelRequest mr = CCZFL__MODEL_REQUEST__INIT;
    if (sa_call(m, ch, "Join", &jr.base, &cczfl__plan__descriptor, NULL) ||
        sa_call(m, ch, "GetModel", &mr.base, &cczfl__model__descriptor, NULL))
        return false;
    m->n = 0;
    return true;
}

/* Fresh keys for rk: its c_pk and s_pk, kept in pks (64 bytes). */
static void round_keys(Cczfl__RoundKeys *rk, uint8_t *pks)
{
    uint8_t sk[32];
    CHECK_OK(ccz_secagg_keygen(sk, pks));
    CHECK_OK(ccz_secagg_keygen(sk, pks + 32));
    rk->c_pk = (ProtobufCBinaryData){32, pks};
    rk->s_pk = (ProtobufCBinaryData){32, pks + 32};
}

/* Advertises rk for round 1 and reads the key list: the threshold, how many are listed and the
 * member's own place among them. False when the call failed. */
static bool member_keys(member *m, ccz_rpc_channel *ch, Cczfl__RoundKeys *rk)
{
    rk->round = 1;
    ProtobufCMessage *resp = NULL;
    if (sa_call(m, ch, "AdvertiseKeys", &rk->base, &cczfl__key_list__descriptor, &resp) || !resp)
        return false;
    const Cczfl__KeyList *l = (const Cczfl__KeyList *)resp;
    m->t = l->threshold;
    m->listed = (unsigned)l->n_clients;
    for (unsigned i = 0; i < m->listed; i++)
        if (l->clients[i]->index == l->you)
            m->own = i;
    protobuf_c_message_free_unpacked(resp, NULL);
    return true;
}

/* A member by its role: three survivors (the first sends each phase something malformed first),
 * one that drops after sharing, one that advertises its keys but does not share and then
 * uploads, one that shares without having advertised keys. */
static void *member_run(void *arg)
{
    member *m = arg;
    ccz_rpc_channel_opts co = CCZ_RPC_CHANNEL_OPTS_INIT;
    ccz_rpc_channel *ch = NULL;
    CHECK_OK(ccz_rpc_channel_new(&ch, m->srv->h.target, &co));
    if (!member_join(m, ch, "r", 10))
        goto out;
    if (m->role == R_SILENT) /* in the round, but no keys */
        goto out;
    if (m->role == R_NO_KEYS) {
        if (!sa_phase_wait(1))
            goto out;
        m->own = R_N;
        send_shares(m, ch, R_N - 1, 0);
        goto out;
    }
    uint8_t pks[64];
    Cczfl__RoundKeys rk = CCZFL__ROUND_KEYS__INIT;
    round_keys(&rk, pks);
    if (m->role == R_SURV0) {
        rk.round = 2;
        sa_call(m, ch, "AdvertiseKeys", &rk.base, &cczfl__key_list__descriptor, NULL);
        rk.round = 1;
        rk.c_pk.len = 31;
        sa_call(m, ch, "AdvertiseKeys", &rk.base, &cczfl__key_list__descriptor, NULL);
        rk.c_pk.len = 32;
    }
    if (!member_keys(m, ch, &rk))
        goto out;
    ProtobufCMessage *resp = NULL;
    if (m->role == R_SURV0)
        sa_phase_set(1);
    if (m->role == R_KEYS_ONLY)
        goto out;
    Cczfl__MaskedUpdate mu = CCZFL__MASKED_UPDATE__INIT;
    mu.round = 1;
    mu.loss = 1;
    mu.masked = (ProtobufCBinaryData){sizeof masked_zeros, masked_zeros};
    if (m->role == R_NO_SHARES) {
        if (!sa_phase_wait(2))
            goto out;
        sa_call(m, ch, "PushMasked", &mu.base, &cczfl__unmask_plan__descriptor, NULL);
        goto out;
    }
    if (m->role == R_SURV0) {
        send_shares(m, ch, m->listed - 1, 0);      /* one short */
        send_shares(m, ch, m->listed, R_SHARE_CT); /* one for itself */
        send_shares(m, ch, m->listed + 1, 0);      /* one too many */
    }
    if (send_shares(m, ch, m->listed, 0) || m->role == R_DROPS)
        goto out;
    if (m->role == R_SURV0) {
        sa_phase_set(2);
        mu.masked = (ProtobufCBinaryData){sizeof masked_long, masked_long};
        sa_call(m, ch, "PushMasked", &mu.base, &cczfl__unmask_plan__descriptor, NULL);
        mu.masked = (ProtobufCBinaryData){sizeof masked_zeros, masked_zeros};
        mu.loss = NAN;
        sa_call(m, ch, "PushMasked", &mu.base, &cczfl__unmask_plan__descriptor, NULL);
        mu.loss = 1;
        /* held until the upload closes; a second one meanwhile is refused */
        ccz_rpc_call_opts wait = CCZ_RPC_CALL_OPTS_INIT;
        wait.deadline_ms = 20000;
        ccz_rpc_stream *st;
        CHECK_OK(ccz_rpc_start(ch, &st, "/cczfl.Aggregator/PushMasked", &mu.base,
                               &cczfl__unmask_plan__descriptor, &wait, plan_msg, plan_done, m));
        sa_call(m, ch, "PushMasked", &mu.base, &cczfl__unmask_plan__descriptor, NULL);
        CHECK_OK(ccz_rpc_channel_run(ch));
        if (m->codes[m->n - 1])
            goto out;
        send_unmask(m, ch, m->survivors + 1, m->dropped, 32, 32);
        send_unmask(m, ch, m->survivors, m->dropped, 31, 32);
        send_unmask(m, ch, m->survivors, m->dropped, 32, 31);
    } else {
        if (sa_call(m, ch, "PushMasked", &mu.base, &cczfl__unmask_plan__descriptor, &resp) || !resp)
            goto out;
        plan_msg(resp, m);
        protobuf_c_message_free_unpacked(resp, NULL);
    }
    if (m->role == R_LATE) /* past the unmask phase's deadline */
        usleep(1500 * 1000);
    send_unmask(m, ch, m->survivors, m->dropped, 32, 32);
out:
    if (m->role == R_SURV0)
        sa_phase_set(2); /* the others go on (or stop) whatever became of it */
    ccz_rpc_channel_free(ch);
    return NULL;
}

/* Runs n members against s to their end, member i (named r<i>) in role roles[i]. */
static void run_members(const server *s, member *ms, const int *roles, unsigned n,
                        void *(*run)(void *))
{
    memset(ms, 0, n * sizeof *ms);
    sa_phase = 0;
    pthread_t t[R_N];
    CHECK(n <= R_N);
    for (unsigned i = 0; i < n && i < R_N; i++) {
        ms[i].srv = s;
        ms[i].role = roles[i];
        ms[i].id = i;
        test_thread(&t[i], run, &ms[i]);
    }
    for (unsigned i = 0; i < n && i < R_N; i++)
        pthread_join(t[i], NULL);
}

/* A secure FedAvg service for min members whose log goes to *log (test_memlog_close reads it). */
static void server_start_logged(server *s, unsigned min, unsigned timeout_ms, test_memlog *log)
{
    service_log = test_memlog_open(log);
    server_start_gather(s, true, CCZ_HFL_FEDAVG, min, timeout_ms, 300);
    service_log = NULL;
}

/* Each phase's refusals, while the round goes on: a call for another round, a key that is not
 * 32 bytes, shares one short, one for the sender itself and one too many, shares from a member
 * that advertised no keys, a masked update one word too long, one whose loss is not a number, a second upload while
 * the first waits, an upload from a member that did not share, unmask shares one too many or
 * not 32 bytes. The survivors' junk shares then give the dropped member a mask key that is not
 * the one it advertised: the round fails instead of unmasking with it. */
static void members_checked_at_each_phase(void)
{
    static server s;
    static member ms[R_N];
    static const int roles[R_N] = {R_SURV0, R_SURV1, R_SURV2, R_DROPS, R_NO_SHARES, R_NO_KEYS};
    server_start_gather(&s, true, CCZ_HFL_FEDAVG, R_N, 1500, 300);
    run_members(&s, ms, roles, R_N, member_run);
    server_stop(&s);
    const member *a = &ms[R_SURV0];
    static const struct {
        int code;
        const char *msg;
    } want[] = {
        {CCZ_RPC_FAILED_PRECONDITION,
         "AdvertiseKeys for round 2: no secure round of that number is open"},
        {CCZ_RPC_INVALID_ARGUMENT, "keys rejected: two distinct 32-byte X25519 public keys"},
        {0, ""},
        {CCZ_RPC_INVALID_ARGUMENT, "shares rejected: one of 92 bytes per advertised client"},
        {CCZ_RPC_INVALID_ARGUMENT, "shares rejected: one of 92 bytes per advertised client"},
        {CCZ_RPC_INVALID_ARGUMENT, "shares rejected: one of 92 bytes per advertised client"},
        {0, ""},
        {CCZ_RPC_INVALID_ARGUMENT, "masked update rejected: 2708 bytes are not the model's"},
        {CCZ_RPC_INVALID_ARGUMENT, "masked update rejected: 2704 bytes are not the model's"},
        {CCZ_RPC_FAILED_PRECONDITION, "PushMasked: one call at a time"},
        {0, ""},
        {CCZ_RPC_INVALID_ARGUMENT, "unmask shares rejected: 32 bytes for each survivor"},
        {CCZ_RPC_INVALID_ARGUMENT, "unmask shares rejected: 32 bytes for each survivor"},
        {CCZ_RPC_INVALID_ARGUMENT, "unmask shares rejected: 32 bytes for each survivor"},
        {0, ""},
    };
    CHECK_INT(a->n, CCZ_ARRAY_LEN(want));
    for (unsigned i = 0; i < a->n && i < CCZ_ARRAY_LEN(want); i++) {
        CHECK_INT(a->codes[i], want[i].code);
        CHECK_CONTAINS(a->msgs[i], want[i].msg);
    }
    CHECK_INT(a->listed, 5);
    CHECK_INT(a->t, 3);
    CHECK_INT(a->survivors, 3);
    CHECK_INT(a->dropped, 1);
    for (int i = R_SURV1; i <= R_SURV2; i++) {
        CHECK_INT(ms[i].n, 4); /* keys, shares, upload, unmask */
        for (unsigned k = 0; k < ms[i].n; k++)
            CHECK_INT(ms[i].codes[k], 0);
    }
    CHECK_INT(ms[R_NO_SHARES].n, 2);
    CHECK_INT(ms[R_NO_SHARES].codes[1], CCZ_RPC_FAILED_PRECONDITION);
    CHECK_STR(ms[R_NO_SHARES].msgs[1], "no shares sent: the masks could not be removed");
    CHECK_INT(ms[R_NO_KEYS].n, 1);
    CHECK_INT(ms[R_NO_KEYS].codes[0], CCZ_RPC_FAILED_PRECONDITION);
    CHECK_STR(ms[R_NO_KEYS].msgs[0], "no keys advertised");
    CHECK_INT(s.h.n_rounds, 0);
}

/* Three advertise their keys, one shares (the threshold is 2): the round fails at the shares'
 * deadline, the one that shared told why, and no round closes. */
static void too_few_sharers(void)
{
    static server s;
    static member ms[3];
    static const int roles[] = {R_DROPS, R_KEYS_ONLY, R_KEYS_ONLY};
    server_start_gather(&s, true, CCZ_HFL_FEDAVG, 3, 1000, 300);
    run_members(&s, ms, roles, 3, member_run);
    server_stop(&s);
    CHECK_INT(ms[0].n, 2);
    CHECK_INT(ms[0].t, 2);
    CHECK_INT(ms[0].codes[0], 0);
    CHECK_INT(ms[0].codes[1], CCZ_RPC_ABORTED);
    CHECK_STR(ms[0].msgs[1], "1 clients shared their keys; 2 are needed");
    CHECK_INT(s.h.n_rounds, 0);
}

/* Two survivors (threshold 2), one of which stalls before its unmask shares: the round fails
 * at the unmask phase's deadline (0.6 s) with its reason instead of waiting for it, the late
 * shares are refused, and no round closes. */
static void unmask_deadline(void)
{
    static server s;
    static member ms[2];
    static const int roles[] = {R_SURV1, R_LATE};
    test_memlog log;
    server_start_logged(&s, 2, 600, &log);
    run_members(&s, ms, roles, 2, member_run);
    server_stop(&s);
    char *said = test_memlog_close(&log);
    CHECK_CONTAINS(said, "round 1: secure aggregation failed: 1 of 2 survivors gave their "
                         "shares before the deadline");
    for (int i = 0; i < 2; i++) {
        CHECK_INT(ms[i].n, 4); /* keys, shares, upload, unmask */
        CHECK_INT(ms[i].t, 2);
        CHECK_INT(ms[i].survivors, 2);
    }
    for (unsigned k = 0; k < 4; k++)
        CHECK_INT(ms[0].codes[k], 0);
    for (unsigned k = 0; k < 3; k++)
        CHECK_INT(ms[1].codes[k], 0);
    CHECK_INT(ms[1].codes[3], CCZ_RPC_FAILED_PRECONDITION);
    CHECK_STR(ms[1].msgs[3], "Unmask for round 1: no secure round of that number is open");
    CHECK_INT(s.h.n_rounds, 0);
    free(said);
}

/* ---- after the sum is unmasked ---------------------------------------------------------------*/

enum { U_TWICE, U_SECOND, U_LATE, U_SILENT, U_N };

static bool after_fail_first; /* after_unmask's round opens again after a failed attempt */
static int after_failed;      /* that attempt failed */

/* The attempt of after_unmask's round that fails: the first member alone advertises its keys
 * and is told why at their deadline; then each member asks for the model again, and the round
 * opens again with the four of them. False when a call went otherwise. */
static bool after_fail(member *m, ccz_rpc_channel *ch)
{
    if (m->role == U_TWICE) {
        uint8_t pks[64];
        Cczfl__RoundKeys rk = CCZFL__ROUND_KEYS__INIT;
        round_keys(&rk, pks);
        bool refused = !member_keys(m, ch, &rk) && m->n == 1 && m->codes[0] == CCZ_RPC_ABORTED;
        CHECK_STR(m->msgs[0],
                  "1 participant advertised its keys: its update alone would be the sum");
        __atomic_store_n(&after_failed, 1, __ATOMIC_SEQ_CST);
        if (!refused)
            return false;
    }
    for (int i = 0; i < 1500 && !__atomic_load_n(&after_failed, __ATOMIC_SEQ_CST); i++)
        usleep(10000);
    Cczfl__ModelRequest mr = CCZFL__MODEL_REQUEST__INIT;
    if (!__atomic_load_n(&after_failed, __ATOMIC_SEQ_CST) ||
        sa_call(m, ch, "GetModel", &mr.base, &cczfl__model__descriptor, NULL))
        return false;
    m->n = 0;
    return true;
}

/* A member of after_unmask: three advertise their keys (the threshold is 2), share and upload;
 * the first (which joined and left before) gives its unmask shares twice, the second sends its
 * masked update again (out of turn: the round is at Unmask) and then completes the sum, the
 * third asks to unmask after that, for round 2 and then round 1; the fourth, in the round without
 * keys, asks to unmask at the end too. */
static void *after_member_run(void *arg)
{
    member *m = arg;
    ccz_rpc_channel_opts co = CCZ_RPC_CHANNEL_OPTS_INIT;
    ccz_rpc_channel *ch = NULL;
    CHECK_OK(ccz_rpc_channel_new(&ch, m->srv->h.target, &co));
    if (m->role == U_TWICE) { /* joins with 1000 examples, leaves, and comes back with 10 */
        char name[16];
        snprintf(name, sizeof name, "u%u", m->id);
        Cczfl__JoinRequest jr = CCZFL__JOIN_REQUEST__INIT;
        jr.name = name;
        jr.examples = 1000;
        ccz_rpc_channel *first = NULL;
        CHECK_OK(ccz_rpc_channel_new(&first, m->srv->h.target, &co));
        CHECK_INT(sa_call(m, first, "Join", &jr.base, &cczfl__plan__descriptor, NULL), 0);
        ccz_rpc_channel_free(first);
    }
    if (!member_join(m, ch, "u", 10 * (m->id + 1)) || (after_fail_first && !after_fail(m, ch)))
        goto out;
    if (m->role == U_SILENT) {
        if (sa_phase_wait(4))
            send_unmask(m, ch, 0, 0, 32, 32);
        goto out;
    }
    uint8_t pks[64];
    Cczfl__RoundKeys rk = CCZFL__ROUND_KEYS__INIT;
    round_keys(&rk, pks);
    if (!member_keys(m, ch, &rk))
        goto out;
    ProtobufCMessage *resp = NULL;
    if (send_shares(m, ch, m->listed, 0))
        goto out;
    Cczfl__MaskedUpdate mu = CCZFL__MASKED_UPDATE__INIT;
    mu.round = 1;
    mu.loss = 1 + m->id;
    mu.masked = (ProtobufCBinaryData){sizeof masked_zeros, masked_zeros};
    if (sa_call(m, ch, "PushMasked", &mu.base, &cczfl__unmask_plan__descriptor, &resp) || !resp)
        goto out;
    plan_msg(resp, m);
    protobuf_c_message_free_unpacked(resp, NULL);
    if (m->role == U_TWICE) {
        send_unmask(m, ch, m->survivors, m->dropped, 32, 32);
        send_unmask(m, ch, m->survivors, m->dropped, 32, 32);
    } else if (m->role == U_SECOND) {
        if (sa_phase_wait(3)) { /* its upload again, while the round waits for unmask shares */
            sa_call(m, ch, "PushMasked", &mu.base, &cczfl__unmask_plan__descriptor, NULL);
            send_unmask(m, ch, m->survivors, m->dropped, 32, 32);
        }
    } else if (sa_phase_wait(4)) {
        Cczfl__UnmaskShares us = CCZFL__UNMASK_SHARES__INIT;
        us.round = 2;
        sa_call(m, ch, "Unmask", &us.base, &cczfl__ack__descriptor, NULL);
        send_unmask(m, ch, m->survivors, m->dropped, 32, 32);
    }
out:
    if (m->role == U_TWICE || m->role == U_SECOND)
        sa_phase_set(m->role == U_TWICE ? 3 : 4);
    ccz_rpc_channel_free(ch);
    return NULL;
}

/* A survivor that gives its unmask shares twice is refused the second time (its shares would
 * count twice towards the threshold); once the sum is unmasked, a survivor's late shares are
 * acknowledged, while an Unmask for another round, or from a member that uploaded nothing, is
 * refused. The round closes with the three survivors (their losses weighted by their examples,
 * the first's by those of its second Join: it left and rejoined), one keys' deadline after it
 * opened. */
static void after_unmask_run(bool fail_first)
{
    static server s;
    static member ms[U_N];
    static const int roles[U_N] = {U_TWICE, U_SECOND, U_LATE, U_SILENT};
    test_memlog log;
    after_fail_first = fail_first;
    after_failed = 0;
    server_start_logged(&s, U_N, 1000, &log);
    run_members(&s, ms, roles, U_N, after_member_run);
    server_stop(&s);
    char *said = test_memlog_close(&log);
    if (fail_first)
        CHECK_CONTAINS(said, "round 1: secure aggregation failed: 1 participant advertised");
    else
        CHECK(!strstr(said, "secure aggregation failed"));
    free(said);
    for (int i = U_TWICE; i <= U_LATE; i++) {
        CHECK_INT(ms[i].t, 2);
        CHECK_INT(ms[i].survivors, 3);
        CHECK_INT(ms[i].dropped, 0);
        for (unsigned k = 0; k < 3; k++) /* keys, shares, upload */
            CHECK_INT(ms[i].codes[k], 0);
    }
    CHECK_INT(ms[U_TWICE].n, 5);
    CHECK_INT(ms[U_TWICE].codes[3], 0);
    CHECK_INT(ms[U_TWICE].codes[4], CCZ_RPC_FAILED_PRECONDITION);
    CHECK_STR(ms[U_TWICE].msgs[4], "Unmask: shares given already");
    CHECK_INT(ms[U_SECOND].n, 5);
    CHECK_INT(ms[U_SECOND].codes[3], CCZ_RPC_FAILED_PRECONDITION);
    CHECK_STR(ms[U_SECOND].msgs[3], "PushMasked for round 1 out of turn (the round is at Unmask)");
    CHECK_INT(ms[U_SECOND].codes[4], 0);
    CHECK_INT(ms[U_LATE].n, 5);
    CHECK_INT(ms[U_LATE].codes[3], CCZ_RPC_FAILED_PRECONDITION);
    CHECK_STR(ms[U_LATE].msgs[3], "Unmask for round 2: no secure round of that number is open");
    CHECK_INT(ms[U_LATE].codes[4], 0);
    CHECK_INT(ms[U_SILENT].n, 1);
    CHECK_INT(ms[U_SILENT].codes[0], CCZ_RPC_FAILED_PRECONDITION);
    CHECK_STR(ms[U_SILENT].msgs[0], "Unmask for round 1: no secure round of that number is open");
    CHECK_INT(s.h.n_rounds, 1);
    CHECK_INT(s.h.rounds[0].participants, U_N);
    CHECK_INT(s.h.rounds[0].received, 3);
    CHECK(fabs(s.h.rounds[0].train_loss - 140.0 / 60) < 1e-9); /* losses 1, 2, 3 of 10, 20, 30 */
    /* the keys close at their deadline (1 s: the silent member), the shares and the uploads as
     * soon as every advertiser's are in, not at deadlines of their own */
    fprintf(stderr, "after_unmask: the round took %.2f s\n", s.h.rounds[0].seconds);
    CHECK(s.h.rounds[0].seconds < 1.95); /* a phase closed at a deadline of its own: 2 s or more */
}

static void after_unmask(void)
{
    after_unmask_run(false);
}

/* The same in a round opened again after a failed attempt (one member alone advertised its
 * keys): that attempt's reason is gone, so a survivor's late shares are acknowledged there too. */
static void after_unmask_reopened(void)
{
    after_unmask_run(true);
    after_fail_first = false;
}

/* Of two members neither advertises its keys: at the keys' deadline the round fails with that
 * reason (not for want of shares later), and no round closes. */
static void no_advertiser(void)
{
    static server s;
    static member ms[2];
    static const int roles[] = {R_SILENT, R_SILENT};
    test_memlog log;
    server_start_logged(&s, 2, 300, &log);
    run_members(&s, ms, roles, 2, member_run);
    usleep(1500 * 1000); /* the keys' deadline, then the shares' */
    server_stop(&s);
    char *said = test_memlog_close(&log);
    CHECK_CONTAINS(said, "round 1: secure aggregation failed: no participant advertised its keys");
    CHECK(!strstr(said, "shared their keys"));
    CHECK_INT(s.h.n_rounds, 0);
    free(said);
}

/* Of two members one advertises no keys: at the keys' deadline the one left would be a round of
 * one, whose sum is its update; the round fails instead, and no round closes. */
static void lone_advertiser(void)
{
    static server s;
    static member ms[2];
    static const int roles[] = {R_SURV1, R_SILENT};
    test_memlog log;
    server_start_logged(&s, 2, 600, &log);
    run_members(&s, ms, roles, 2, member_run);
    server_stop(&s);
    char *said = test_memlog_close(&log);
    CHECK_INT(ms[0].n, 1);
    CHECK_INT(ms[0].codes[0], CCZ_RPC_ABORTED);
    CHECK_STR(ms[0].msgs[0],
              "1 participant advertised its keys: its update alone would be the sum");
    CHECK_CONTAINS(said, "round 1: secure aggregation failed: 1 participant advertised its keys");
    CHECK_INT(s.h.n_rounds, 0);
    free(said);
    /* nor is a round of one configured */
    ccz_hfl_service_opts o = CCZ_HFL_SERVICE_OPTS_INIT;
    o.model = "mlp";
    o.shape = SHAPE;
    o.rounds = 1;
    o.min_clients = 1;
    o.secure_agg = true;
    ccz_rpc_server_opts ro = CCZ_RPC_SERVER_OPTS_INIT;
    ccz_rpc_server *rpc;
    CHECK_OK(ccz_rpc_server_new(&rpc, &ro));
    ccz_hfl_service *svc = NULL;
    CHECK_STATUS(ccz_hfl_service_new(&svc, rpc, &o), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "secure aggregation takes 2 or more clients a round, not 1");
    CHECK(svc == NULL);
    ccz_hfl_service_free(svc);
    ccz_rpc_server_free(rpc);
}

/* A round of 255 members, the most GF(2^8) shares serve, opens: the one that advertises its keys
 * is held to the keys' deadline and told the round of one it would be, not that no round is
 * open (the others take the model and go). */
static void round_of_255_opens(void)
{
    static server s;
    static member ms[255];
    static pthread_t t[255];
    test_memlog log;
    service_per_peer = 256; /* all on loopback, each with GetModel held */
    server_start_logged(&s, 255, 1000, &log);
    service_per_peer = 0;
    memset(ms, 0, sizeof ms);
    for (unsigned i = 0; i < 255; i++) {
        ms[i].srv = &s;
        ms[i].role = i ? R_SILENT : R_KEYS_ONLY;
        ms[i].id = i;
        test_thread(&t[i], member_run, &ms[i]);
    }
    for (unsigned i = 0; i < 255; i++)
        pthread_join(t[i], NULL);
    server_stop(&s);
    char *said = test_memlog_close(&log);
    CHECK_CONTAINS(said, "round 1/1: open with 255 clients");
    CHECK(!strstr(said, "secure aggregation takes"));
    CHECK_INT(ms[0].n, 1);
    CHECK_INT(ms[0].codes[0], CCZ_RPC_ABORTED);
    CHECK_STR(ms[0].msgs[0],
              "1 participant advertised its keys: its update alone would be the sum");
    CHECK_INT(s.h.n_rounds, 0);
    free(said);
}

/* A member that advertises its keys and goes before sharing (four in the round, threshold 3):
 * at the shares' deadline the three clients hear only each other's shares, none in its place,
 * and the round completes with their mean, the member dropped. */
static void keys_only_member(void)
{
    static server s;
    static member m;
    client cs[3];
    server_start(&s, true, CCZ_HFL_FEDAVG, 4, 2500);
    make_clients(cs, 3, &s);
    memset(&m, 0, sizeof m);
    m.srv = &s;
    m.role = R_KEYS_ONLY;
    m.id = 3;
    pthread_t t;
    test_thread(&t, member_run, &m);
    run_clients(cs, 3);
    pthread_join(t, NULL);
    const float *got = final_model(&s);
    for (int i = 0; i < 3; i++) {
        CHECK_INT(cs[i].res.code, 0);
        CHECK_INT(cs[i].res.rounds, 1);
    }
    CHECK_INT(m.t, 3);
    CHECK_INT(m.listed, 4);
    CHECK_INT(s.h.n_rounds, 1);
    CHECK_INT(s.h.rounds[0].participants, 4);
    CHECK_INT(s.h.rounds[0].received, 3);
    CHECK_STR(s.h.rounds[0].dropped, "r3");
    bool in[3] = {true, true, true};
    check_survivors_mean(got, cs, 3, in, 300.0 / 310, /* 60+100+140 of 310 rows */
                         "a member that advertised keys and shared nothing");
    free_clients(cs, 3);
}

TEST_MAIN(T(secure_mean_equals_fedavg), T(plain_and_fedadam_agree), T(dropped_clients_recovered),
          T(hostile_members), T(unmask_by_non_survivor), T(too_few_survivors), T(out_of_turn),
          T(members_checked_at_each_phase), T(too_few_sharers), T(unmask_deadline),
          T(lone_advertiser), T(after_unmask), T(after_unmask_reopened), T(no_advertiser),
          T(second_round_agrees), T(secure_client_cap), T(keys_only_member), T(round_of_255_opens))
