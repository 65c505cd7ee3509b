/* SPDX-License-Identifier: Apache-2.0 */
/* A horizontal FL client (ccz_hfl_join, src/svc/fl/hfl_client.c) against an aggregator played by
 * the test: cczfl.Aggregator on a plaintext gRPC server whose plan and answers each case
 * scripts. The client must train the plan's rounds and upload each (streamed in slices, or
 * unary where the aggregator has no PushUpdateStream) with its round and examples, join again
 * after the aggregator restarted (FAILED_PRECONDITION), retry an unreachable aggregator for its
 * retry time but not one that rejected it, stop at a refused update, and refuse a plan or a
 * model it cannot use: too few layers, another feature or class count, values out of range,
 * weights of the wrong size. Then a secure-aggregation round with two peers the test simulates:
 * the client's shares of its keys open for each peer and recombine to the keys it advertised,
 * its masked update unmasks to its model times its weight, and its unmask shares are exactly the
 * ones held for the plan's survivors and dropped; while an aggregator that lists a weak
 * threshold, leaves out or duplicates keys, forwards shares from nowhere or for another round,
 * or plans to unmask one client both ways (or this one's keys) gets nothing. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccz/ccz.h"
#include "ccz/hfl.h"
#include "ccz/mlp.h"
#include "ccz/secagg.h"
#include "fl.pb-c.h"
#include "svc/fl/hfl_secagg.h"
#include "rpc_fixture.h"
#include "test.h"

#define ROWS 8
#define DIM 17 /* layers 2, 3, 2: 2*3 + 3 + 3*2 + 2 */

typedef struct {
    /* the script */
    uint32_t layers[CCZ_MLP_MAX_LAYERS + 2];
    size_t n_layers;
    unsigned rounds, epochs;
    float lr;
    int join_code;
    const char *join_message;
    bool no_stream;           /* no PushUpdateStream: UNIMPLEMENTED */
    unsigned restart_at;      /* this GetModel (1-based) answers FAILED_PRECONDITION */
    int push_code;            /* the first upload is refused with it */
    size_t model_bytes;       /* the model's weights (0: DIM floats) */
    struct secagg_script *sa; /* secure aggregation (NULL: none) */
    bool batch_zero;          /* the plan's batch is 0 (not 4) */
    double mu;                /* the plan's proximal term */
    size_t chunk;             /* the client's chunk_bytes (0: 40) */
    bool no_name;             /* the client's options name no one */
    const char *optimizer;    /* the plan's (NULL: sgd) */
    bool init_model;          /* the models: ccz_mlp_init's of seed 7 (not zeros) */
    double top_k;             /* the client's top_k (0: dense uploads) */
    /* from the second Join on (n_rejoin_layers 0: as the first): the plan and the models' size */
    uint32_t rejoin_layers[4];
    size_t n_rejoin_layers, rejoin_model_bytes;
    /* what the aggregator saw */
    int joins, get_models, pushes, streams, stream_msgs;
    uint64_t join_examples;
    float pushed[DIM]; /* the first unary upload's weights */
    bool pushed_weights;
    bool stream_sparse;
    uint32_t stream_count;
    size_t stream_indices, stream_deltas;
    unsigned pushed_round[8];
    uint64_t examples;
    uint64_t stream_total, stream_bytes;
} script;

static void on_join(ccz_rpc_call *call, const ProtobufCMessage *m, void *payload)
{
    script *s = payload;
    s->joins++;
    s->join_examples = ((const Cczfl__JoinRequest *)m)->examples;
    if (s->join_code) {
        CHECK_OK(ccz_rpc_finish(call, s->join_code, s->join_message));
        return;
    }
    Cczfl__Plan p = CCZFL__PLAN__INIT;
    p.model = "mlp";
    p.layers = s->joins > 1 && s->n_rejoin_layers ? s->rejoin_layers : s->layers;
    p.n_layers = s->joins > 1 && s->n_rejoin_layers ? s->n_rejoin_layers : s->n_layers;
    p.rounds = s->rounds;
    p.strategy = "fedavg";
    p.epochs = s->epochs;
    p.batch = s->batch_zero ? 0 : 4;
    p.mu = s->mu;
    p.lr = s->lr;
    p.optimizer = (char *)(s->optimizer ? s->optimizer : "sgd");
    p.secure_agg = s->sa != NULL;
    p.secure_agg = s->sa != NULL;
    CHECK_OK(ccz_rpc_reply(call, &p.base));
}

static void on_get_model(ccz_rpc_call *call, const ProtobufCMessage *m, void *payload)
{
    script *s = payload;
    const Cczfl__ModelRequest *q = (const Cczfl__ModelRequest *)m;
    if (++s->get_models == (int)s->restart_at) {
        CHECK_OK(ccz_rpc_finish(call, CCZ_RPC_FAILED_PRECONDITION, "join first"));
        return;
    }
    float w[64] = {0};
    Cczfl__Model r = CCZFL__MODEL__INIT;
    r.round = q->after_round >= s->rounds ? s->rounds : q->after_round + 1;
    r.done = q->after_round >= s->rounds;
    r.dtype = CCZFL__DTYPE__F32;
    if (s->init_model)
        ccz_mlp_init(w, &(ccz_mlp_shape){.layers = 2, .sizes = {2, 3, 2}}, 7);
    size_t bytes = s->joins > 1 && s->rejoin_model_bytes ? s->rejoin_model_bytes
                   : s->model_bytes                      ? s->model_bytes
                                                         : sizeof(float) * DIM;
    r.weights = (ProtobufCBinaryData){bytes, (uint8_t *)w};
    r.accuracy = r.done ? 0.875 : -1;
    r.loss = r.done ? 0.25 : -1;
    CHECK_OK(ccz_rpc_reply(call, &r.base));
}

static void ack(ccz_rpc_call *call, script *s, unsigned round)
{
    if (s->push_code && s->pushes + s->streams == 1) {
        CHECK_OK(ccz_rpc_finish(call, s->push_code, "the update is mis-shaped"));
        return;
    }
    Cczfl__Ack a = CCZFL__ACK__INIT;
    a.round = round;
    CHECK_OK(ccz_rpc_reply(call, &a.base));
}

static void on_push(ccz_rpc_call *call, const ProtobufCMessage *m, void *payload)
{
    script *s = payload;
    const Cczfl__Update *u = (const Cczfl__Update *)m;
    if (s->pushes + s->streams < 8)
        s->pushed_round[s->pushes + s->streams] = u->round;
    s->pushes++;
    s->examples = u->examples;
    s->stream_bytes = u->weights.len;
    if (!s->pushed_weights && u->weights.len == sizeof s->pushed)
        s->pushed_weights = ccz_hfl_tensor_decode(s->pushed, DIM, CCZ_HFL_F32, u->weights.data,
                                                  u->weights.len) == CCZ_OK;
    ack(call, s, u->round);
}

static void on_stream(ccz_rpc_call *call, const ProtobufCMessage *m, void *payload)
{
    script *s = payload;
    static unsigned round;
    if (!m) { /* the end of the stream */
        if (s->pushes + s->streams < 8)
            s->pushed_round[s->pushes + s->streams] = round;
        s->streams++;
        ack(call, s, round);
        return;
    }
    const Cczfl__UpdateChunk *c = (const Cczfl__UpdateChunk *)m;
    s->stream_msgs++;
    if (c->header) {
        round = c->header->round;
        s->examples = c->header->examples;
        s->stream_total = c->header->total;
        s->stream_sparse = c->header->sparse;
        s->stream_count = c->header->count;
        s->stream_bytes = s->stream_indices = s->stream_deltas = 0;
    }
    s->stream_bytes += c->weights.len;
    s->stream_indices += c->n_indices;
    s->stream_deltas += c->deltas.len;
}

/* ---- secure aggregation: the aggregator and two peers it simulates ---------------------------
 * The client is index ME of three; the peers 0 and 2 have keys, self-mask seeds and 2-of-3
 * shares of both made here. */

#define ME 1

typedef struct {
    uint8_t c_sk[32], c_pk[32], s_sk[32], s_pk[32], b[32];
    uint8_t s_shares[3][32], b_shares[3][32]; /* [k]: the share for client k (x = k + 1) */
} peer;

typedef enum {
    SA_OK,
    SA_LOW_THRESHOLD,
    SA_HIGH_THRESHOLD,
    SA_NOT_MINE,
    SA_NOT_MINE_S,
    SA_DUPLICATE,
    SA_WEIGHT,
    SA_UNLISTED_SHARE,
    SA_SHARE_ROUND,
    SA_SHARE_TWICE,
    SA_PLAN_BOTH,
    SA_PLAN_ME_DROPPED,
    SA_PLAN_FEW,
    SA_PLAN_WITHOUT_ME,
    SA_KEYS_ROUND,
    SA_YOU_OUT,
    SA_WEIGHT_NEGATIVE,
    SA_SHARES_ROUND,
    SA_SHARES_UNPAIRED,
    SA_SHARE_SHORT,
    SA_SHARE_FROM_ME,
    SA_SHARE_MISSING,
    SA_PLAN_ROUND,
    SA_SHARES_NONE,
    SA_ALONE,
} sa_fault;

typedef struct secagg_script {
    sa_fault fault;
    bool gap; /* peer 2 listed as 3: index 2 never advertised */
    uint32_t survivors[3], dropped[3];
    size_t n_survivors, n_dropped;
    peer peers[3]; /* [0] and [2] */
    /* what the aggregator saw and worked out */
    uint8_t my_c_pk[32], my_s_pk[32], got_s[3][32], got_b[3][32], my_s_sk[32], my_b[32];
    bool shares_open, keys_recovered, one_share_hides, unmask_right;
    uint8_t masked[4 * DIM];
    size_t masked_len;
    int unmasks;
} secagg_script;

static void sa_nonce(uint8_t nonce[12], uint32_t from, uint32_t to, uint32_t round)
{
    put_le32(nonce, from);
    put_le32(nonce + 4, to);
    put_le32(nonce + 8, round);
}

/* The index the key list gives peer slot k (0 or 2), and the slot of a listed index. */
static uint32_t sa_index(const secagg_script *a, uint32_t k)
{
    return k == 2 && a->gap ? 3 : k;
}

static uint32_t sa_slot(const secagg_script *a, uint32_t index)
{
    return index == 3 && a->gap ? 2 : index;
}

static void sa_peers(secagg_script *a)
{
    for (int k = 0; k < 3; k += 2) {
        peer *p = &a->peers[k];
        CHECK_OK(ccz_secagg_keygen(p->c_sk, p->c_pk));
        CHECK_OK(ccz_secagg_keygen(p->s_sk, p->s_pk));
        for (int i = 0; i < 32; i++)
            p->b[i] = (uint8_t)(k * 50 + i);
        CHECK_OK(ccz_secagg_share(p->s_shares, p->s_sk, 2, 3));
        CHECK_OK(ccz_secagg_share(p->b_shares, p->b, 2, 3));
    }
}

static void on_advertise(ccz_rpc_call *call, const ProtobufCMessage *m, void *payload)
{
    secagg_script *a = ((script *)payload)->sa;
    const Cczfl__RoundKeys *r = (const Cczfl__RoundKeys *)m;
    CHECK(r->c_pk.len == 32 && r->s_pk.len == 32);
    memcpy(a->my_c_pk, r->c_pk.data, 32);
    memcpy(a->my_s_pk, r->s_pk.data, 32);
    sa_peers(a);
    Cczfl__ClientKeys k[3], *kp[3];
    for (uint32_t i = 0; i < 3; i++) {
        k[i] = (Cczfl__ClientKeys)CCZFL__CLIENT_KEYS__INIT;
        k[i].index = sa_index(a, i);
        k[i].name = i == ME ? "carol" : "peer";
        k[i].c_pk = (ProtobufCBinaryData){32, i == ME ? a->my_c_pk : a->peers[i].c_pk};
        k[i].s_pk = (ProtobufCBinaryData){32, i == ME ? a->my_s_pk : a->peers[i].s_pk};
        kp[i] = &k[i];
    }
    Cczfl__KeyList l = CCZFL__KEY_LIST__INIT;
    l.round = a->fault == SA_KEYS_ROUND ? r->round + 1 : r->round;
    l.threshold = a->fault == SA_LOW_THRESHOLD ? 1 : a->fault == SA_HIGH_THRESHOLD ? 4 : 2;
    l.you = a->fault == SA_YOU_OUT ? 255 : ME;
    l.weight = a->fault == SA_WEIGHT ? 1.5 : a->fault == SA_WEIGHT_NEGATIVE ? -0.5 : 0.5;
    l.clients = kp;
    l.n_clients = 3;
    if (a->fault == SA_NOT_MINE)
        k[ME].c_pk.data = a->peers[2].c_pk;
    if (a->fault == SA_NOT_MINE_S) /* its mask key, not its own: the peers' masks mis-keyed */
        k[ME].s_pk.data = a->peers[2].s_pk;
    if (a->fault == SA_DUPLICATE)
        k[2].index = 0;
    if (a->fault == SA_ALONE) { /* this client alone, a threshold of 1 */
        l.clients = &kp[ME];
        l.n_clients = 1;
        l.threshold = 1;
    }
    CHECK_OK(ccz_rpc_reply(call, &l.base));
}

static void on_share(ccz_rpc_call *call, const ProtobufCMessage *m, void *payload)
{
    secagg_script *a = ((script *)payload)->sa;
    const Cczfl__KeyShares *r = (const Cczfl__KeyShares *)m;
    uint8_t key[32], nonce[12], pt[HFL_SA_SHARE_PT];
    /* the client's shares for each peer: sealed to it, from ME, for this round */
    a->shares_open = r->n_shares == 3 && r->shares[ME].len == 0;
    for (uint32_t j = 0; j < 3 && a->shares_open; j += 2) {
        CHECK_OK(ccz_secagg_pair_key(key, a->peers[j].c_sk, a->my_c_pk));
        sa_nonce(nonce, ME, sa_index(a, j), r->round);
        a->shares_open = r->shares[j].len == HFL_SA_SHARE_CT &&
                         ccz_secagg_open(pt, r->shares[j].data, HFL_SA_SHARE_CT, key, nonce, NULL,
                                         0) == CCZ_OK &&
                         get_le32(pt) == r->round && get_le32(pt + 4) == ME &&
                         get_le32(pt + 8) == sa_index(a, j);
        memcpy(a->got_s[j], pt + 12, 32);
        memcpy(a->got_b[j], pt + 44, 32);
    }
    /* two of them give back the client's mask key, whose public key it advertised, and its
     * self-mask seed */
    uint8_t s2[2][32], b2[2][32], xs[2] = {1, (uint8_t)(sa_index(a, 2) + 1)}, pk[32];
    memcpy(s2[0], a->got_s[0], 32);
    memcpy(s2[1], a->got_s[2], 32);
    memcpy(b2[0], a->got_b[0], 32);
    memcpy(b2[1], a->got_b[2], 32);
    a->keys_recovered = a->shares_open &&
                        ccz_secagg_combine(a->my_s_sk, (const uint8_t(*)[32])s2, xs, 2) == CCZ_OK &&
                        ccz_secagg_public(pk, a->my_s_sk) == CCZ_OK &&
                        !memcmp(pk, a->my_s_pk, 32) &&
                        ccz_secagg_combine(a->my_b, (const uint8_t(*)[32])b2, xs, 2) == CCZ_OK;
    /* and one alone (below the threshold of 2) gives neither */
    a->one_share_hides = a->keys_recovered;
    for (uint32_t j = 0; j < 3 && a->one_share_hides; j += 2)
        a->one_share_hides = ccz_secagg_public(pk, a->got_s[j]) == CCZ_OK &&
                             memcmp(pk, a->my_s_pk, 32) && memcmp(a->got_b[j], a->my_b, 32);
    /* the peers' shares for the client */
    uint8_t ct[2][HFL_SA_SHARE_CT];
    uint32_t from[2] = {0, sa_index(a, 2)};
    for (int i = 0; i < 2; i++) {
        uint32_t j = from[i];
        const peer *p = &a->peers[sa_slot(a, j)];
        CHECK_OK(ccz_secagg_pair_key(key, p->c_sk, a->my_c_pk));
        if (a->fault == SA_SHARE_ROUND && j == 2) { /* sealed right, but for the next round */
            put_le32(pt, r->round + 1);
            put_le32(pt + 4, j);
            put_le32(pt + 8, ME);
            memcpy(pt + 12, p->s_shares[ME], 32);
            memcpy(pt + 44, p->b_shares[ME], 32);
            sa_nonce(nonce, j, ME, r->round);
            CHECK_OK(ccz_secagg_seal(ct[i], pt, HFL_SA_SHARE_PT, key, nonce, NULL, 0));
        } else {
            CHECK_OK(
                hfl_sa_seal_share(ct[i], key, r->round, j, ME, p->s_shares[ME], p->b_shares[ME]));
        }
    }
    if (a->fault == SA_UNLISTED_SHARE)
        from[1] = 5;
    if (a->fault == SA_SHARE_TWICE)
        from[1] = 0;
    if (a->fault == SA_SHARE_FROM_ME)
        from[1] = ME;
    ProtobufCBinaryData sh[2] = {{HFL_SA_SHARE_CT, ct[0]}, {HFL_SA_SHARE_CT, ct[1]}};
    if (a->fault == SA_SHARE_SHORT)
        sh[1].len--;
    Cczfl__SharesForYou y = CCZFL__SHARES_FOR_YOU__INIT;
    y.round = a->fault == SA_SHARES_ROUND ? r->round - 1 : r->round;
    y.from = from;
    y.n_from = a->fault == SA_SHARES_UNPAIRED ? 1 : 2;
    y.shares = sh;
    y.n_shares = a->fault == SA_SHARE_MISSING ? 1 : 2; /* peer 2's share held back */
    if (a->fault == SA_SHARE_MISSING)
        y.n_from = 1;
    if (a->fault == SA_SHARES_NONE || a->fault == SA_ALONE) /* U2 of this client alone */
        y.n_from = y.n_shares = 0;
    CHECK_OK(ccz_rpc_reply(call, &y.base));
}

static void on_push_masked(ccz_rpc_call *call, const ProtobufCMessage *m, void *payload)
{
    secagg_script *a = ((script *)payload)->sa;
    const Cczfl__MaskedUpdate *r = (const Cczfl__MaskedUpdate *)m;
    a->masked_len = r->masked.len;
    if (r->masked.len <= sizeof a->masked)
        memcpy(a->masked, r->masked.data, r->masked.len);
    Cczfl__UnmaskPlan p = CCZFL__UNMASK_PLAN__INIT;
    p.round = a->fault == SA_PLAN_ROUND ? r->round - 1 : r->round;
    p.survivors = a->survivors;
    p.n_survivors = a->n_survivors;
    p.dropped = a->dropped;
    p.n_dropped = a->n_dropped;
    CHECK_OK(ccz_rpc_reply(call, &p.base));
}

static void on_unmask(ccz_rpc_call *call, const ProtobufCMessage *m, void *payload)
{
    secagg_script *a = ((script *)payload)->sa;
    const Cczfl__UnmaskShares *r = (const Cczfl__UnmaskShares *)m;
    a->unmasks++;
    /* a survivor's self-mask seed share, a dropped client's mask-key share: the ones it holds */
    bool right = r->n_survivor_shares == a->n_survivors && r->n_dropped_shares == a->n_dropped;
    for (size_t i = 0; right && i < a->n_survivors; i++) {
        uint32_t k = a->survivors[i];
        right = r->survivor_shares[i].len == 32;
        if (right && k == ME) { /* its own share of its seed: with peer 0's, the seed again */
            uint8_t two[2][32], xs[2] = {1, ME + 1}, b[32];
            memcpy(two[0], a->got_b[0], 32);
            memcpy(two[1], r->survivor_shares[i].data, 32);
            right = ccz_secagg_combine(b, (const uint8_t(*)[32])two, xs, 2) == CCZ_OK &&
                    !memcmp(b, a->my_b, 32);
        } else if (right) {
            right = !memcmp(r->survivor_shares[i].data, a->peers[sa_slot(a, k)].b_shares[ME], 32);
        }
    }
    for (size_t i = 0; right && i < a->n_dropped; i++)
        right = r->dropped_shares[i].len == 32 &&
                !memcmp(r->dropped_shares[i].data, a->peers[sa_slot(a, a->dropped[i])].s_shares[ME],
                        32);
    a->unmask_right = right;
    Cczfl__Ack ack = CCZFL__ACK__INIT;
    ack.round = r->round;
    CHECK_OK(ccz_rpc_reply(call, &ack.base));
}

typedef struct {
    char rounds[64];
} seen;

static void on_progress(unsigned round, unsigned rounds, double loss, double seconds, bool accepted,
                        const char *why, void *payload)
{
    (void)rounds, (void)loss, (void)seconds, (void)why;
    seen *w = payload;
    test_appendf(w->rounds, sizeof w->rounds, "%u%s ", round, accepted ? "" : "!");
}

static ccz_mlp_data data;

static unsigned join_version = CCZ_HFL_JOIN_OPTS_VERSION; /* a test sets another */

static ccz_status join(script *s, unsigned retry_ms, ccz_hfl_join_result *out, seen *w)
{
    /* in fl.proto's order; the secure-aggregation methods only for a secure plan */
    const ccz_rpc_handler handlers[] = {on_join,
                                        on_get_model,
                                        on_push,
                                        s->no_stream ? NULL : on_stream,
                                        s->sa ? on_advertise : NULL,
                                        s->sa ? on_share : NULL,
                                        s->sa ? on_push_masked : NULL,
                                        s->sa ? on_unmask : NULL};
    const ccz_rpc_kind kinds[] = {
        CCZ_RPC_UNARY, CCZ_RPC_UNARY, CCZ_RPC_UNARY, CCZ_RPC_CLIENT_STREAMING,
        CCZ_RPC_UNARY, CCZ_RPC_UNARY, CCZ_RPC_UNARY, CCZ_RPC_UNARY};
    rpc_fake f;
    rpc_fake_start(&f, &cczfl__aggregator__descriptor, kinds, handlers, s, 0);
    ccz_hfl_join_opts o = CCZ_HFL_JOIN_OPTS_INIT;
    o.name = s->no_name ? NULL : "carol";
    o.threads = 1;
    o.seed = 5;
    o.retry_ms = retry_ms;
    o.deadline_ms = 10000;
    o.chunk_bytes = s->chunk ? s->chunk : 40; /* 40: slices of 10 values, two per update */
    o.progress = on_progress;
    o.top_k = s->top_k;
    o.payload = w;
    o.version = join_version;
    memset(w, 0, sizeof *w);
    ccz_status st = ccz_hfl_join(f.ch, &o, &data, out);
    rpc_fake_stop(&f);
    return st;
}

static script plan(void)
{
    return (script){.layers = {2, 3, 2}, .n_layers = 3, .rounds = 2, .epochs = 1, .lr = 0.1f};
}

static void setup(void)
{
    data.rows = ROWS;
    data.features = 2;
    data.classes = 2;
    data.x = malloc(ROWS * 2 * sizeof *data.x);
    data.y = malloc(ROWS);
    for (size_t i = 0; i < ROWS; i++) {
        data.x[2 * i] = (float)i / ROWS;
        data.x[2 * i + 1] = 1.0f - (float)i / ROWS;
        data.y[i] = i % 2;
    }
}

/* Options of another version than this header's are refused before anything is asked. */
static void test_other_version(void)
{
    for (unsigned v = 0; v <= CCZ_HFL_JOIN_OPTS_VERSION + 1; v += 2) {
        ccz_hfl_join_result out;
        seen w;
        script s = plan();
        join_version = v;
        CHECK_STATUS(join(&s, 0, &out, &w), CCZ_ERR_INVALID_ARGUMENT);
        CHECK_STR(ccz_error_detail(), v ? "ccz_hfl_join_opts: version 2 (expected 1) and a name"
                                        : "ccz_hfl_join_opts: version 0 (expected 1) and a name");
        CHECK(out.method == NULL); /* no call made */
    }
    join_version = CCZ_HFL_JOIN_OPTS_VERSION;
    /* nor options without a name */
    ccz_hfl_join_result out;
    seen w;
    script s = plan();
    s.no_name = true;
    CHECK_STATUS(join(&s, 0, &out, &w), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "ccz_hfl_join_opts: version 1 (expected 1) and a name");
    CHECK_INT(s.joins, 0);
}

static void test_rounds(void)
{
    ccz_hfl_join_result out;
    seen w;
    /* streamed: the header, then the 17 values in slices of at most 40 bytes (10 and 7) */
    script s = plan();
    CHECK_OK(join(&s, 0, &out, &w));
    CHECK_INT(out.code, 0);
    CHECK_STR(out.method, "GetModel");
    CHECK_INT(out.rounds, 2);
    CHECK_INT(out.streamed, 2);
    CHECK_INT(out.last_round, 2);
    CHECK(out.acc == 0.875 && out.loss == 0.25);
    CHECK_INT(s.joins, 1);
    CHECK_INT(s.get_models, 3);
    CHECK(s.streams == 2 && s.pushes == 0);
    CHECK_INT(s.stream_msgs, 6);
    CHECK(s.pushed_round[0] == 1 && s.pushed_round[1] == 2);
    CHECK_INT(s.examples, ROWS);
    CHECK_INT(s.join_examples, ROWS);
    CHECK(s.stream_total == DIM * 4 && s.stream_bytes == DIM * 4);
    CHECK_STR(w.rounds, "1 2 ");
    CHECK_INT(out.model_values, DIM);

    /* no PushUpdateStream: unary from the first refusal on */
    s = plan();
    s.no_stream = true;
    CHECK_OK(join(&s, 0, &out, &w));
    CHECK_INT(out.code, 0);
    CHECK_INT(out.rounds, 2);
    CHECK_INT(out.streamed, 0);
    CHECK_INT(s.pushes, 2);
    CHECK(s.pushed_round[0] == 1 && s.pushed_round[1] == 2);
    CHECK(s.examples == ROWS && s.stream_bytes == DIM * 4);

    /* top-k uploads: a quarter of the 17 values, rounded up (5), streamed as indices and deltas
     * in slices of at most 40 bytes (4 values of 9 bytes) */
    s = plan();
    s.top_k = 0.25;
    CHECK_OK(join(&s, 0, &out, &w));
    CHECK_INT(out.code, 0);
    CHECK_INT(out.rounds, 2);
    CHECK(out.sent_values == 5 && out.model_values == DIM);
    CHECK(s.stream_sparse && s.stream_count == 5);
    CHECK(s.stream_total == 5 * 4 && s.stream_deltas == 5 * 4);
    CHECK_INT(s.stream_indices, 5);
    CHECK_INT(s.stream_bytes, 0);
    CHECK_INT(s.stream_msgs, 6); /* each update: the header and two slices */

    /* the upload is the round's model trained as planned: with the plan's optimizer (Adam), from
     * the aggregator's model, the batches in the order of the round's seed */
    s = plan();
    s.rounds = 1;
    s.no_stream = true;
    s.init_model = true;
    s.optimizer = "adam";
    CHECK_OK(join(&s, 0, &out, &w));
    CHECK_INT(out.rounds, 1);
    CHECK(s.pushed_weights);
    ccz_mlp_shape shape = {.layers = 2, .sizes = {2, 3, 2}};
    float want[DIM];
    ccz_mlp_init(want, &shape, 7);
    ccz_mlp_train_opts to = CCZ_MLP_TRAIN_OPTS_INIT;
    to.epochs = 1;
    to.batch = 4;
    to.lr = 0.1f;
    to.optimizer = CCZ_MLP_ADAM;
    to.threads = 1;
    to.seed = 5 * 1000003u + 1;
    double loss;
    CHECK_OK(ccz_mlp_train(want, &shape, &data, &to, &loss));
    CHECK(!memcmp(s.pushed, want, sizeof want));

    /* the aggregator restarted before the second model: joined again, the rounds go on */
    s = plan();
    s.restart_at = 2;
    CHECK_OK(join(&s, 0, &out, &w));
    CHECK_INT(out.code, 0);
    CHECK_INT(s.joins, 2);
    CHECK_INT(out.rounds, 2);

    /* it came back with a model of another size (42 weights, not 17): refused, the client's
     * buffers being the first model's size */
    s = plan();
    s.restart_at = 2;
    memcpy(s.rejoin_layers, (uint32_t[]){2, 8, 2}, 3 * sizeof(uint32_t));
    s.n_rejoin_layers = 3;
    s.rejoin_model_bytes = 4 * 42;
    CHECK_STATUS(join(&s, 0, &out, &w), CCZ_ERR_PROTOCOL);
    CHECK_CONTAINS(ccz_error_detail(), "the aggregator's model changed from 17 to 42 weights");
    CHECK_INT(s.joins, 2);
    CHECK_INT(out.rounds, 1);

    /* a refused update ends the work */
    s = plan();
    s.push_code = CCZ_RPC_INVALID_ARGUMENT;
    CHECK_OK(join(&s, 0, &out, &w));
    CHECK_INT(out.code, CCZ_RPC_INVALID_ARGUMENT);
    CHECK_STR(out.message, "the update is mis-shaped");
    CHECK_INT(out.rounds, 0);
    CHECK_INT(s.streams, 1);
    CHECK_STR(w.rounds, "1! ");
    CHECK_STR(out.method, "PushUpdateStream");
    /* so does a denied one */
    s = plan();
    s.push_code = CCZ_RPC_PERMISSION_DENIED;
    CHECK_OK(join(&s, 0, &out, &w));
    CHECK_INT(out.code, CCZ_RPC_PERMISSION_DENIED);
    CHECK_INT(out.rounds, 0);
    CHECK_INT(s.streams, 1);
    CHECK_STR(w.rounds, "1! ");

    /* an upload the aggregator could not take (UNAVAILABLE): joined again, the rounds go on */
    s = plan();
    s.push_code = CCZ_RPC_UNAVAILABLE;
    CHECK_OK(join(&s, 5000, &out, &w));
    CHECK_INT(out.code, 0);
    CHECK_INT(s.joins, 2);
    CHECK_INT(out.rounds, 1);
    CHECK_STR(w.rounds, "1! 2 ");

    /* slices of exactly the 17 values (68 bytes): the header and one slice an update, no empty
     * slice after it */
    s = plan();
    s.chunk = 68;
    CHECK_OK(join(&s, 0, &out, &w));
    CHECK_INT(out.code, 0);
    CHECK_INT(out.streamed, 2);
    CHECK_INT(s.stream_msgs, 4);
    CHECK(s.stream_total == DIM * 4 && s.stream_bytes == DIM * 4);
}

static void test_unreachable_or_rejected(void)
{
    ccz_hfl_join_result out;
    seen w;
    /* rejected: not retried */
    script s = plan();
    s.join_code = CCZ_RPC_UNAVAILABLE;
    s.join_message = "client REJECTED: rejected at policy";
    CHECK_OK(join(&s, 5000, &out, &w));
    CHECK_INT(out.code, CCZ_RPC_UNAVAILABLE);
    CHECK_INT(s.joins, 1);
    /* unavailable: retried every 0.5 s for the retry time (0.6 s: three tries) */
    s = plan();
    s.join_code = CCZ_RPC_UNAVAILABLE;
    s.join_message = "restarting";
    CHECK_OK(join(&s, 600, &out, &w));
    CHECK_INT(out.code, CCZ_RPC_UNAVAILABLE);
    CHECK_INT(s.joins, 3);
}

static void test_unusable_plans(void)
{
    script cases[12];
    for (size_t i = 0; i < CCZ_ARRAY_LEN(cases); i++)
        cases[i] = plan();
    cases[0].n_layers = 1;
    cases[1].layers[0] = 3; /* three features */
    /* cases[2]: two classes for data of three (below) */
    cases[3].rounds = 0;
    cases[4].epochs = 1001;
    cases[5].lr = -0.5f;
    cases[6].layers[1] = 0;
    cases[7].model_bytes = 4 * DIM - 4;
    cases[8].n_layers = CCZ_MLP_MAX_LAYERS + 2; /* one layer too many */
    for (size_t l = 0; l < CCZ_MLP_MAX_LAYERS + 2; l++)
        cases[8].layers[l] = 2;
    cases[9].batch_zero = true;
    cases[10].lr = 100;
    cases[11].mu = -1;
    const struct {
        ccz_status want;
        const char *detail;
    } expect[] = {
        {CCZ_ERR_PROTOCOL, "the aggregator's model has 1 layer sizes"},
        {CCZ_ERR_INVALID_ARGUMENT, "takes 3 features and 2 classes; the data has 2 features"},
        {CCZ_ERR_INVALID_ARGUMENT, "takes 2 features and 2 classes; the data has 2 features and 3"},
        {CCZ_ERR_PROTOCOL, "the aggregator's plan is out of range"},
        {CCZ_ERR_PROTOCOL, "the aggregator's plan is out of range"},
        {CCZ_ERR_PROTOCOL, "the aggregator's plan is out of range"},
        {CCZ_ERR_PROTOCOL, "the aggregator's model"},
        {CCZ_ERR_PROTOCOL, "the aggregator's model"},
        {CCZ_ERR_PROTOCOL, "the aggregator's model has 10 layer sizes"},
        {CCZ_ERR_PROTOCOL, "the aggregator's plan is out of range"},
        {CCZ_ERR_PROTOCOL, "the aggregator's plan is out of range"},
        {CCZ_ERR_PROTOCOL, "the aggregator's plan is out of range"},
    };
    for (size_t i = 0; i < CCZ_ARRAY_LEN(cases); i++) {
        ccz_hfl_join_result out;
        seen w;
        data.classes = i == 2 ? 3 : 2;
        CHECK_STATUS(join(&cases[i], 0, &out, &w), expect[i].want);
        CHECK_CONTAINS(ccz_error_detail(), expect[i].detail);
        CHECK_INT(cases[i].pushes + cases[i].streams, 0);
    }
    data.classes = 2;
}

/* A secure round of the plan (one round) with peers 0 and 2. */
static void secure_round(secagg_script *a, ccz_hfl_join_result *out, ccz_status want)
{
    script s = plan();
    s.rounds = 1;
    s.sa = a;
    seen w;
    CHECK_STATUS(join(&s, 0, out, &w), want);
}

/* The masked update, without the client's self mask and its pairwise masks with the two
 * peers, is its model after the round's training, times its weight 0.5. */
static void check_masked(const secagg_script *a)
{
    CHECK_INT(a->masked_len, 4 * DIM);
    uint32_t words[DIM], pairwise[DIM];
    for (size_t i = 0; i < DIM; i++)
        words[i] = get_le32(a->masked + 4 * i);
    CHECK_OK(ccz_secagg_self_mask(words, DIM, a->my_b, -1));
    uint8_t pks[4][32] = {{0}};
    bool present[4] = {true, true, !a->gap, a->gap};
    memcpy(pks[0], a->peers[0].s_pk, 32);
    memcpy(pks[ME], a->my_s_pk, 32);
    memcpy(pks[sa_index(a, 2)], a->peers[2].s_pk, 32);
    float zero[DIM] = {0}, got[DIM], want[DIM] = {0};
    CHECK_OK(ccz_secagg_mask(pairwise, zero, DIM, HFL_SA_SCALE, ME, a->my_s_sk,
                             (const uint8_t(*)[32])pks, present, a->gap ? 4 : 3));
    for (size_t i = 0; i < DIM; i++)
        words[i] -= pairwise[i];
    ccz_secagg_decode(got, words, DIM, HFL_SA_SCALE);
    ccz_mlp_shape shape = {.layers = 2, .sizes = {2, 3, 2}};
    ccz_mlp_train_opts to = CCZ_MLP_TRAIN_OPTS_INIT;
    to.epochs = 1;
    to.batch = 4;
    to.lr = 0.1f;
    to.threads = 1;
    to.seed = 5 * 1000003u + 1;
    double loss;
    CHECK_OK(ccz_mlp_train(want, &shape, &data, &to, &loss));
    size_t off = 0;
    for (size_t i = 0; i < DIM; i++)
        off += fabsf(got[i] - want[i] * 0.5f) > 1e-6f;
    CHECK_INT(off, 0);
}

static void test_secure_aggregation(void)
{
    ccz_hfl_join_result out;
    /* everyone survives */
    secagg_script a = {.survivors = {0, 1, 2}, .n_survivors = 3};
    secure_round(&a, &out, CCZ_OK);
    CHECK_INT(out.code, 0);
    CHECK_INT(out.rounds, 1);
    CHECK(a.shares_open);
    CHECK(a.keys_recovered);
    CHECK(a.one_share_hides);
    CHECK_INT(a.unmasks, 1);
    CHECK(a.unmask_right);
    check_masked(&a);

    /* indices 0, 1 and 3 (the client that would have been 2 never advertised): shares of
     * degree 1 at x = 1 to 4, the one for 3 at x = 4, and the masks with 0 and 3 */
    a = (secagg_script){.gap = true, .survivors = {0, 1, 3}, .n_survivors = 3};
    secure_round(&a, &out, CCZ_OK);
    CHECK_INT(out.code, 0);
    CHECK(a.shares_open && a.keys_recovered && a.one_share_hides);
    CHECK(a.unmasks == 1 && a.unmask_right);
    check_masked(&a);

    /* peer 2 dropped: its mask-key share for the aggregator, peer 0's and this client's seed
     * shares */
    a = (secagg_script){.survivors = {0, 1}, .n_survivors = 2, .dropped = {2}, .n_dropped = 1};
    secure_round(&a, &out, CCZ_OK);
    CHECK_INT(out.code, 0);
    CHECK(a.unmasks == 1 && a.unmask_right);
}

static void test_hostile_aggregator(void)
{
    const struct {
        sa_fault fault;
        uint32_t survivors[3], dropped[3];
        size_t n_survivors, n_dropped;
        const char *detail;
    } cases[] = {
        {SA_LOW_THRESHOLD, {0, 1, 2}, {0}, 3, 0, "a threshold of 1 for 3 clients"},
        {SA_HIGH_THRESHOLD, {0, 1, 2}, {0}, 3, 0, "a threshold of 4 for 3 clients"},
        {SA_NOT_MINE, {0, 1, 2}, {0}, 3, 0, "does not hold this client's keys"},
        {SA_NOT_MINE_S, {0, 1, 2}, {0}, 3, 0, "does not hold this client's keys"},
        {SA_DUPLICATE, {0, 1, 2}, {0}, 3, 0, "the aggregator's key list has a bad entry (2)"},
        {SA_WEIGHT, {0, 1, 2}, {0}, 3, 0, "the aggregator's key list is out of range"},
        {SA_UNLISTED_SHARE, {0, 1, 2}, {0}, 3, 0, "share 1 (from 5) is not a listed peer's"},
        {SA_SHARE_TWICE, {0, 1, 2}, {0}, 3, 0, "share 1 (from 0) is not a listed peer's"},
        {SA_SHARE_ROUND, {0, 1, 2}, {0}, 3, 0, "the share from 2 is for another round or client"},
        /* peer 2's seed and mask key both: its update alone would be unmasked */
        {SA_PLAN_BOTH, {0, 1, 2}, {2}, 3, 1, "the unmask plan names client 2 badly"},
        {SA_PLAN_ME_DROPPED, {0, 2}, {ME}, 2, 1, "the unmask plan names client 1 badly"},
        {SA_PLAN_FEW, {ME}, {0, 2}, 1, 2, "the unmask plan (1 survivors, threshold 2)"},
        {SA_PLAN_WITHOUT_ME, {0, 2}, {0}, 2, 0, "the unmask plan leaves this client out"},
        /* a key list, shares or a plan of another round (an earlier one replayed) */
        {SA_KEYS_ROUND, {0, 1, 2}, {0}, 3, 0, "the aggregator's key list is out of range"},
        {SA_SHARES_ROUND, {0, 1, 2}, {0}, 3, 0, "the aggregator's shares are out of range"},
        {SA_PLAN_ROUND, {0, 1, 2}, {0}, 3, 0, "the unmask plan (3 survivors, threshold 2) is out"},
        {SA_YOU_OUT, {0, 1, 2}, {0}, 3, 0, "the aggregator's key list is out of range"},
        {SA_WEIGHT_NEGATIVE, {0, 1, 2}, {0}, 3, 0, "the aggregator's key list is out of range"},
        {SA_SHARES_UNPAIRED, {0, 1, 2}, {0}, 3, 0, "the aggregator's shares are out of range"},
        {SA_SHARE_SHORT, {0, 1, 2}, {0}, 3, 0, "share 1 (from 2) is not a listed peer's"},
        {SA_SHARE_FROM_ME, {0, 1, 2}, {0}, 3, 0, "share 1 (from 1) is not a listed peer's"},
        /* peer 2 sent this client no share: its mask-key share is not this client's to give
         * (only for clients it saw in the previous round) */
        {SA_SHARE_MISSING, {0, 1}, {2}, 2, 1, "the unmask plan names client 2 badly"},
        /* no peer's shares: its update would go with its self mask alone, which the peers'
         * shares of its seed remove */
        {SA_SHARES_NONE, {0, 1, 2}, {0}, 3, 0, "shares from 0 peers: fewer than the threshold"},
        /* a round of one: the sum unmasked would be its update */
        {SA_ALONE, {ME}, {0}, 1, 0, "a key list of 1 client: its update would be the sum"},
    };
    for (size_t i = 0; i < CCZ_ARRAY_LEN(cases); i++) {
        secagg_script a = {.fault = cases[i].fault,
                           .n_survivors = cases[i].n_survivors,
                           .n_dropped = cases[i].n_dropped};
        memcpy(a.survivors, cases[i].survivors, sizeof a.survivors);
        memcpy(a.dropped, cases[i].dropped, sizeof a.dropped);
        ccz_hfl_join_result out;
        secure_round(&a, &out, CCZ_ERR_PROTOCOL);
        CHECK_CONTAINS(ccz_error_detail(), cases[i].detail);
        CHECK_INT(a.unmasks, 0); /* no share of anything given */
        if (cases[i].fault == SA_SHARES_NONE || cases[i].fault == SA_ALONE)
            CHECK_INT(a.masked_len, 0); /* and no update */
    }
}

static void cleanup(void)
{
    free(data.x);
    free(data.y);
}

TEST_MAIN(T(setup), T(test_rounds), T(test_other_version), T(test_unreachable_or_rejected),
          T(test_unusable_plans), T(test_secure_aggregation), T(test_hostile_aggregator),
          T(cleanup))
