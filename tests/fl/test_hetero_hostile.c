/* SPDX-License-Identifier: Apache-2.0 */
/* The hetero-LR arbiter (include/ccz/fl.h, ccz_fl_vlr_service; proto/hetero_lr.proto) against
 * parties that do not keep to the protocol, over loopback h2c with raw calls: a connection that
 * never joined, malformed joins, a second guest, an id taken, a party too many, calls by the
 * wrong role or for the wrong step, ciphertexts that are not of the key (too few, n, n^2,
 * n^2 + 1, 0, empty), residuals twice, a gradient before the residuals and one of the wrong
 * size, scores of the wrong length or not finite; each refused with its status and reason while
 * the training goes on, and completes: the arbiter's decryptions of the masked gradients are
 * exact and the guest receives the hosts' scores. Then the ways a training ends early: too few
 * ids in common, a party that never joins (the deadline), a party that leaves while another
 * waits. Last, a guest whose Join is held calls on a second HTTP/2 stream of its connection
 * (raw nghttp2: ccz's client puts one call on a channel at a time) and is refused. And the
 * arbiter's own options, each refused by what to change. A trained model whose host never calls
 * Finish is done, not timed out; a guest that sends residuals for a step ahead of a host is
 * refused without disturbing the host. */
#include <gmp.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ccz/fl.h"
#include "ccz/paillier.h"
#include "ccz/rpc.h"
#include "h2_client.h"
#include "hetero_lr.pb-c.h"
#include "rpc_fixture.h"
#include "test.h"

static ccz_paillier_key *key;
static mpz_t n, n2;

typedef struct {
    ccz_rpc_server *rpc;
    ccz_fl_vlr_service *svc;
    pthread_t thread;
    char target[64];
    char log_path[512];
    FILE *log;
    atomic_bool ended; /* on_over was called */
} arbiter;

static void on_over(const ccz_fl_vlr_status *st, void *payload)
{
    (void)st;
    atomic_store(&((arbiter *)payload)->ended, true);
    ccz_rpc_server_shutdown(((arbiter *)payload)->rpc, 1000);
}

/* Whether the arbiter called on_over within ms. */
static bool ended_within(arbiter *a, int ms)
{
    for (int i = 0; i < ms / 10 && !atomic_load(&a->ended); i++)
        nanosleep(&(struct timespec){0, 10000000}, NULL);
    return atomic_load(&a->ended);
}

static void free_key(void)
{
    ccz_paillier_key_free(key);
    mpz_clears(n, n2, NULL);
}

static void key_once(void)
{
    if (!key) { /* one key for every test */
        CHECK_OK(ccz_paillier_keygen(&key, 1024));
        mpz_inits(n, n2, NULL);
        ccz_paillier_pub_n(n, ccz_paillier_key_pub(key));
        mpz_mul(n2, n, n);
        atexit(free_key);
    }
}

static size_t next_batch_size, next_epochs,
    next_hosts; /* for the next arbiter_start (0: all rows, 1, 1) */

static void arbiter_start(arbiter *a, unsigned timeout_ms)
{
    static int k;
    key_once();
    memset(a, 0, sizeof *a);
    snprintf(a->log_path, sizeof a->log_path, "%s/arbiter%d.log", test_tmpdir(), k++);
    a->log = fopen(a->log_path, "w");
    CHECK(a->log != NULL);
    ccz_rpc_server_opts so = CCZ_RPC_SERVER_OPTS_INIT;
    CHECK_OK(ccz_rpc_server_new(&a->rpc, &so));
    ccz_fl_vlr_service_opts o = CCZ_FL_VLR_SERVICE_OPTS_INIT;
    o.key = key;
    o.hosts = next_hosts ? (unsigned)next_hosts : 1;
    o.epochs = next_epochs ? (unsigned)next_epochs : 1;
    o.batch_size = next_batch_size;
    next_epochs = next_batch_size = next_hosts = 0;
    o.timeout_ms = timeout_ms;
    o.threads = 1;
    o.log = a->log;
    o.on_over = on_over;
    o.payload = a;
    CHECK_OK(ccz_fl_vlr_service_new(&a->svc, a->rpc, &o));
    rpc_serve(a->rpc, &a->thread, a->target);
}

static const ccz_fl_vlr_status *arbiter_stop(arbiter *a)
{
    rpc_serve_stop(a->rpc, a->thread, 1000);
    return ccz_fl_vlr_service_status(a->svc);
}

static void arbiter_free(arbiter *a)
{
    ccz_fl_vlr_service_free(a->svc);
    ccz_rpc_server_free(a->rpc);
    fclose(a->log);
}

/* Whether the arbiter's log has a line containing what. */
static bool log_has(const arbiter *a, const char *what)
{
    FILE *f = fopen(a->log_path, "r");
    char line[512];
    bool found = false;
    while (f && !found && fgets(line, sizeof line, f))
        found = strstr(line, what) != NULL;
    if (f)
        fclose(f);
    return found;
}

/* Waits (up to 10 s) until the arbiter's log has a line containing what. */
static void wait_log(const arbiter *a, const char *what)
{
    for (int i = 0; i < 1000; i++) {
        if (log_has(a, what))
            return;
        nanosleep(&(struct timespec){0, 10000000}, NULL);
    }
    CHECK(!"the arbiter's log never said it");
    fprintf(stderr, "  waited for: %s\n", what);
}

static ccz_rpc_channel *party_channel(const arbiter *a)
{
    ccz_rpc_channel_opts co = CCZ_RPC_CHANNEL_OPTS_INIT;
    ccz_rpc_channel *ch = NULL;
    CHECK_OK(ccz_rpc_channel_new(&ch, a->target, &co));
    return ch;
}

/* ---- calls -----------------------------------------------------------------------------------*/

typedef struct {
    ccz_rpc_channel *ch;
    const char *method;
    const ProtobufCMessage *req;
    const ProtobufCMessageDescriptor *desc;
    int64_t deadline_ms;
    ProtobufCMessage *resp;
    int code;
    char msg[512];
    pthread_t thread;
} call;

static void *run_call(void *arg)
{
    call *c = arg;
    char path[80];
    snprintf(path, sizeof path, "/heterolr.Arbiter/%s", c->method);
    ccz_rpc_call_opts co = CCZ_RPC_CALL_OPTS_INIT;
    co.deadline_ms = c->deadline_ms ? c->deadline_ms : 20000;
    ccz_rpc_status st;
    c->resp = NULL;
    CHECK_OK(ccz_rpc_unary(c->ch, &c->resp, &st, path, c->req, c->desc, &co));
    c->code = st.code;
    snprintf(c->msg, sizeof c->msg, "%s", st.message);
    ccz_rpc_status_free(&st);
    return NULL;
}

static void call_set(call *c, ccz_rpc_channel *ch, const char *method, const ProtobufCMessage *req,
                     const ProtobufCMessageDescriptor *desc, int64_t deadline_ms)
{
    memset(c, 0, sizeof *c);
    c->ch = ch;
    c->method = method;
    c->req = req;
    c->desc = desc;
    c->deadline_ms = deadline_ms;
}

/* A call that waits for others, in a thread of its own: finished with join_call. */
static void start_call(call *c, ccz_rpc_channel *ch, const char *method,
                       const ProtobufCMessage *req, const ProtobufCMessageDescriptor *desc)
{
    call_set(c, ch, method, req, desc, 0);
    test_thread(&c->thread, run_call, c);
}

/* A call run here, with the deadline given (0: 20 s); its reply stays in c until free_call. */
static void call_now(call *c, ccz_rpc_channel *ch, const char *method, const ProtobufCMessage *req,
                     const ProtobufCMessageDescriptor *desc, int64_t deadline_ms)
{
    call_set(c, ch, method, req, desc, deadline_ms);
    run_call(c);
}

/* run_call after 0.5 s, in a thread of start_call's */
static void *run_call_later(void *arg)
{
    usleep(500 * 1000);
    return run_call(arg);
}

/* A HostScores started with ccz_rpc_start: its status and the scores it got. */
typedef struct {
    int code;
    char msg[512];
    double scores[4];
    size_t n;
} scores_call;

static void scores_msg(const ProtobufCMessage *resp, void *payload)
{
    scores_call *c = payload;
    const Heterolr__ScoresRequest *r = (const Heterolr__ScoresRequest *)resp;
    c->n = r->n_scores;
    for (size_t i = 0; i < r->n_scores && i < 4; i++)
        c->scores[i] = r->scores[i];
}

static void scores_done(const ccz_rpc_status *st, void *payload)
{
    scores_call *c = payload;
    c->code = st->code;
    snprintf(c->msg, sizeof c->msg, "%s", st->message);
}

static void join_call(call *c)
{
    pthread_join(c->thread, NULL);
}

static void free_call(call *c)
{
    if (c->resp)
        protobuf_c_message_free_unpacked(c->resp, NULL);
    c->resp = NULL;
}

/* A call answered at once: its status code, the message in msg (512 bytes). */
static int now(ccz_rpc_channel *ch, const char *method, const ProtobufCMessage *req,
               const ProtobufCMessageDescriptor *desc, char *msg)
{
    call c;
    call_now(&c, ch, method, req, desc, 5000);
    snprintf(msg, 512, "%s", c.msg);
    free_call(&c);
    return c.code;
}

#define EXPECT(ch, method, req, desc, want_code, want_msg)                                         \
    do {                                                                                           \
        char m_[512];                                                                              \
        CHECK_INT(now(ch, method, &(req).base, desc, m_), want_code);                              \
        CHECK_STR(m_, want_msg);                                                                   \
    } while (0)

static Heterolr__JoinRequest join_req(const char *role, int id, const char *name, int features,
                                      int64_t *ids, size_t n_ids)
{
    Heterolr__JoinRequest r = HETEROLR__JOIN_REQUEST__INIT;
    r.role = (char *)role;
    r.id = id;
    r.name = (char *)name;
    r.features = features;
    r.ids = ids;
    r.n_ids = n_ids;
    return r;
}

/* ---- ciphertexts -----------------------------------------------------------------------------*/

typedef struct {
    ProtobufCBinaryData b[8];
    size_t count;
} cts;

static void put(cts *c, size_t i, const mpz_t x)
{
    free(c->b[i].data);
    c->b[i].data = mpz_export(NULL, &c->b[i].len, 1, 1, 1, 0, x);
    if (!c->b[i].data) { /* zero: one zero byte */
        c->b[i].data = calloc(1, 1);
        c->b[i].len = 1;
    }
}

/* count encryptions of first, first + 1, ... */
static void encrypt_run(cts *c, size_t count, unsigned long first)
{
    mpz_t m, x;
    mpz_inits(m, x, NULL);
    c->count = count;
    for (size_t i = 0; i < count; i++) {
        mpz_set_ui(m, first + i);
        CHECK_OK(ccz_paillier_encrypt(x, ccz_paillier_key_pub(key), m));
        put(c, i, x);
    }
    mpz_clears(m, x, NULL);
}

/* Whether got holds exactly the ciphertexts of want, in order. */
static bool same_values(const ProtobufCBinaryData *got, size_t n_got, const cts *want)
{
    bool same = n_got == want->count;
    for (size_t i = 0; same && i < n_got; i++)
        same = got[i].len == want->b[i].len && !memcmp(got[i].data, want->b[i].data, got[i].len);
    return same;
}

static void cts_free(cts *c)
{
    for (size_t i = 0; i < 8; i++)
        free(c->b[i].data);
    memset(c, 0, sizeof *c);
}

/* ---- tests -----------------------------------------------------------------------------------*/

static int64_t guest_ids[] = {1, 2, 3, 4, 5, 6}, host_ids[] = {10, 9, 8, 7, 6, 5, 4, 3};

static void hostile_parties(void)
{
    static arbiter a;
    arbiter_start(&a, 20000);
    ccz_rpc_channel *x = party_channel(&a), *g = party_channel(&a), *h = party_channel(&a);
    char msg[512];

    /* a connection that never joined */
    Heterolr__ForwardRequest fw = HETEROLR__FORWARD_REQUEST__INIT;
    EXPECT(x, "Forward", fw, &heterolr__ciphertexts__descriptor, CCZ_RPC_FAILED_PRECONDITION,
           "this connection is not a party of the training: call Join first");

    /* malformed joins */
    int64_t two[] = {1, 1}, one[] = {1};
    static int64_t many[1000001]; /* ~3 MB on the wire: within the message limit */
    for (size_t i = 0; i < CCZ_ARRAY_LEN(many); i++)
        many[i] = (int64_t)i;
    char long_name[80];
    memset(long_name, 'a', 65);
    long_name[65] = 0;
    const struct {
        const char *role, *name;
        int features;
        int64_t *ids;
        size_t n_ids;
        const char *error;
    } bad[] = {
        {"arbiter", "x", 2, guest_ids, 6, "role must be \"guest\" or \"host\""},
        {NULL, "x", 2, guest_ids, 6, "role must be \"guest\" or \"host\""},
        {"guest", long_name, 2, guest_ids, 6, "name must be at most 64 printable ASCII characters"},
        {"guest", "tab\there", 2, guest_ids, 6,
         "name must be at most 64 printable ASCII characters"},
        {"guest", "x", 0, guest_ids, 6, "features must be 1 to 4096"},
        {"host", "x", 4097, guest_ids, 6, "features must be 1 to 4096"},
        {"guest", "x", 2, one, 1, "a party has 2 to 1000000 ids"},
        {"guest", "x", 2, many, 1000001, "a party has 2 to 1000000 ids"},
        {"guest", "x", 2, two, 2, "the ids are not unique"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        Heterolr__JoinRequest r =
            join_req(bad[i].role, 0, bad[i].name, bad[i].features, bad[i].ids, bad[i].n_ids);
        CHECK_INT(now(x, "Join", &r.base, &heterolr__join_reply__descriptor, msg),
                  CCZ_RPC_INVALID_ARGUMENT);
        CHECK_STR(msg, bad[i].error);
    }

    /* the guest joins and waits; a second guest and a taken id are refused */
    Heterolr__JoinRequest gj = join_req("guest", 0, "g", 2, guest_ids, 6);
    call gc = {0};
    start_call(&gc, g, "Join", &gj.base, &heterolr__join_reply__descriptor);
    wait_log(&a, "guest 0 (g) joined with 6 rows of 2 features (1 of 2 parties");
    Heterolr__JoinRequest g2 = join_req("guest", 5, "g2", 2, guest_ids, 6);
    EXPECT(x, "Join", g2, &heterolr__join_reply__descriptor, CCZ_RPC_ALREADY_EXISTS,
           "the guest has joined already");
    Heterolr__JoinRequest same_id = join_req("host", 0, "h0", 3, host_ids, 8);
    EXPECT(x, "Join", same_id, &heterolr__join_reply__descriptor, CCZ_RPC_ALREADY_EXISTS,
           "a party with this id has joined already");
    Heterolr__Step st0 = HETEROLR__STEP__INIT;
    EXPECT(x, "HostForwards", st0, &heterolr__forward_reply__descriptor,
           CCZ_RPC_FAILED_PRECONDITION,
           "this connection is not a party of the training: call Join first");

    /* the host joins: both hear the ids in common, ascending */
    Heterolr__JoinRequest hj = join_req("host", 1, "h", 3, host_ids, 8);
    call hc = {0};
    start_call(&hc, h, "Join", &hj.base, &heterolr__join_reply__descriptor);
    join_call(&gc);
    join_call(&hc);
    CHECK_INT(gc.code, 0);
    CHECK_INT(hc.code, 0);
    for (call *c = &gc; c; c = c == &gc ? &hc : NULL) {
        const Heterolr__JoinReply *jr = (const Heterolr__JoinReply *)c->resp;
        CHECK(jr != NULL);
        if (!jr)
            continue;
        CHECK_INT(jr->n_ids, 4);
        for (size_t i = 0; i < jr->n_ids && i < 4; i++)
            CHECK_INT(jr->ids[i], 3 + (int64_t)i);
        CHECK_INT(jr->hosts, 1);
        CHECK_INT(jr->epochs, 1);
        CHECK_INT(jr->batch_size, 4);
        mpz_t got;
        mpz_init(got);
        mpz_import(got, jr->n.len, 1, 1, 1, 0, jr->n.data);
        CHECK(mpz_cmp(got, n) == 0);
        mpz_clear(got);
    }
    free_call(&gc);
    free_call(&hc);
    Heterolr__JoinRequest late = join_req("host", 7, "late", 3, host_ids, 8);
    EXPECT(x, "Join", late, &heterolr__join_reply__descriptor, CCZ_RPC_ALREADY_EXISTS,
           "every party has joined already");
    EXPECT(x, "Forward", fw, &heterolr__ciphertexts__descriptor, CCZ_RPC_FAILED_PRECONDITION,
           "this connection is not a party of the training: call Join first");

    /* the wrong role, the wrong step */
    EXPECT(g, "Forward", fw, &heterolr__ciphertexts__descriptor, CCZ_RPC_PERMISSION_DENIED,
           "only a host calls this");
    EXPECT(h, "HostForwards", st0, &heterolr__forward_reply__descriptor, CCZ_RPC_PERMISSION_DENIED,
           "only the guest calls this");
    Heterolr__ResidualsRequest rr = HETEROLR__RESIDUALS_REQUEST__INIT;
    EXPECT(h, "Residuals", rr, &heterolr__empty__descriptor, CCZ_RPC_PERMISSION_DENIED,
           "only the guest calls this");
    fw.step = 1;
    EXPECT(h, "Forward", fw, &heterolr__ciphertexts__descriptor, CCZ_RPC_FAILED_PRECONDITION,
           "a call for step 1; this party is at step 0");
    fw.step = -1;
    EXPECT(h, "Forward", fw, &heterolr__ciphertexts__descriptor, CCZ_RPC_FAILED_PRECONDITION,
           "a call for step -1; this party is at step 0");
    fw.step = 0;
    Heterolr__GradientRequest gr = HETEROLR__GRADIENT_REQUEST__INIT;
    EXPECT(h, "Gradient", gr, &heterolr__gradient_reply__descriptor, CCZ_RPC_FAILED_PRECONDITION,
           "a gradient for step 0; this party is at step 0 (no residuals yet)");
    Heterolr__ScoresRequest sr = HETEROLR__SCORES_REQUEST__INIT;
    EXPECT(h, "Scores", sr, &heterolr__empty__descriptor, CCZ_RPC_FAILED_PRECONDITION,
           "the training is not over");
    Heterolr__Empty none = HETEROLR__EMPTY__INIT;
    EXPECT(g, "HostScores", none, &heterolr__scores_request__descriptor,
           CCZ_RPC_FAILED_PRECONDITION, "the training is not over");

    /* scores that are not ciphertexts of the key */
    cts s = {0}, sq = {0};
    encrypt_run(&s, 4, 100);
    encrypt_run(&sq, 1, 7);
    fw.forward = s.b;
    fw.n_forward = 3;
    fw.square = sq.b[0];
    EXPECT(h, "Forward", fw, &heterolr__ciphertexts__descriptor, CCZ_RPC_INVALID_ARGUMENT,
           "3 scores; expected 4");
    fw.n_forward = 4;
    mpz_t bad_ct, zero;
    mpz_inits(bad_ct, zero, NULL);
    mpz_add_ui(bad_ct, n2, 1); /* n^2 + 1: prime to n, of n^2's length, out of range */
    const mpz_t *bad_values[] = {&n, &n2, &bad_ct, &zero};
    for (size_t i = 0; i < 4; i++) {
        cts t = {0};
        encrypt_run(&t, 4, 100);
        put(&t, 2, *bad_values[i]);
        fw.forward = t.b;
        EXPECT(h, "Forward", fw, &heterolr__ciphertexts__descriptor, CCZ_RPC_INVALID_ARGUMENT,
               "scores 2: not a ciphertext of this key (1 to 256 bytes, in [1, n^2), prime to n)");
        cts_free(&t);
    }
    fw.forward = s.b;
    fw.square = (ProtobufCBinaryData){0, NULL};
    EXPECT(h, "Forward", fw, &heterolr__ciphertexts__descriptor, CCZ_RPC_INVALID_ARGUMENT,
           "square 0: not a ciphertext of this key (1 to 256 bytes, in [1, n^2), prime to n)");

    /* the host's scores go in (its call waits for the guest's residuals) */
    fw.square = sq.b[0];
    call fc = {0};
    start_call(&fc, h, "Forward", &fw.base, &heterolr__ciphertexts__descriptor);
    call hfc; /* answered once the host's scores are in, whichever came first */
    call_now(&hfc, g, "HostForwards", &st0.base, &heterolr__forward_reply__descriptor, 0);
    CHECK_INT(hfc.code, 0);
    const Heterolr__ForwardReply *hf = (const Heterolr__ForwardReply *)hfc.resp;
    if (hf) /* one host: its scores are the sum */
        CHECK(same_values(hf->forward, hf->n_forward, &s));
    free_call(&hfc);

    /* residuals: wrong, then right, then twice */
    cts res = {0};
    encrypt_run(&res, 4, 1000);
    rr.residuals = res.b;
    rr.n_residuals = 5;
    EXPECT(g, "Residuals", rr, &heterolr__empty__descriptor, CCZ_RPC_INVALID_ARGUMENT,
           "5 residuals; expected 4");
    rr.n_residuals = 4;
    rr.step = 1;
    EXPECT(g, "Residuals", rr, &heterolr__empty__descriptor, CCZ_RPC_FAILED_PRECONDITION,
           "a call for step 1; this party is at step 0");
    rr.step = 0;
    rr.loss = (ProtobufCBinaryData){1, (uint8_t *)"\0"};
    EXPECT(g, "Residuals", rr, &heterolr__empty__descriptor, CCZ_RPC_INVALID_ARGUMENT,
           "loss 0: not a ciphertext of this key (1 to 256 bytes, in [1, n^2), prime to n)");
    /* a loss that decrypts to 2^1000: no sum of squared residuals is that large */
    cts big = {0};
    mpz_t m, e;
    mpz_inits(m, e, NULL);
    mpz_setbit(m, 1000);
    CHECK_OK(ccz_paillier_encrypt(e, ccz_paillier_key_pub(key), m));
    put(&big, 0, e);
    mpz_clears(m, e, NULL);
    rr.loss = big.b[0];
    EXPECT(g, "Residuals", rr, &heterolr__empty__descriptor, CCZ_RPC_INVALID_ARGUMENT,
           "the loss is out of range (1001 bits): a wrong decryption");
    free(big.b[0].data);
    rr.loss = (ProtobufCBinaryData){0, NULL};
    EXPECT(g, "Residuals", rr, &heterolr__empty__descriptor, 0, "");
    EXPECT(g, "Residuals", rr, &heterolr__empty__descriptor, CCZ_RPC_ALREADY_EXISTS,
           "the residuals of this step are in");
    join_call(&fc);
    CHECK_INT(fc.code, 0); /* the host hears the guest's residuals */
    if (fc.resp) {
        const Heterolr__Ciphertexts *cr = (const Heterolr__Ciphertexts *)fc.resp;
        CHECK(same_values(cr->values, cr->n_values, &res));
    }
    free_call(&fc);

    /* gradients: the wrong size, then decrypted exactly; not twice */
    cts grad = {0};
    encrypt_run(&grad, 3, 5);
    gr.masked = grad.b;
    gr.n_masked = 2;
    EXPECT(h, "Gradient", gr, &heterolr__gradient_reply__descriptor, CCZ_RPC_INVALID_ARGUMENT,
           "2 gradients; expected 3");
    gr.n_masked = 3;
    for (int who = 0; who < 2; who++) { /* the host (3 features), the guest (2 and the bias) */
        call c;
        call_now(&c, who ? g : h, "Gradient", &gr.base, &heterolr__gradient_reply__descriptor, 0);
        CHECK_INT(c.code, 0);
        const Heterolr__GradientReply *rep = (const Heterolr__GradientReply *)c.resp;
        if (rep) {
            CHECK_INT(rep->n_plain, 3);
            for (size_t i = 0; i < rep->n_plain && i < 3; i++)
                CHECK(rep->plain[i].len == 1 && rep->plain[i].data[0] == 5 + i);
            CHECK(rep->stop); /* one epoch of one batch */
            CHECK_INT(rep->epoch, 0);
            CHECK(isnan(rep->loss)); /* no loss was sent */
        }
        free_call(&c);
    }
    EXPECT(h, "Gradient", gr, &heterolr__gradient_reply__descriptor, CCZ_RPC_FAILED_PRECONDITION,
           "a gradient for step 0; this party is at step 1 (no residuals yet)");
    fw.step = 1;
    EXPECT(h, "Forward", fw, &heterolr__ciphertexts__descriptor, CCZ_RPC_FAILED_PRECONDITION,
           "a call for step 1; this party is at step 1, and the training is over");

    /* the evaluation: scores of the wrong length or not finite, the wrong role */
    double scores[4] = {0.5, -1.25, 2, 3}, nan_scores[4] = {0.5, NAN, 2, 3};
    Heterolr__Empty empty = HETEROLR__EMPTY__INIT;
    EXPECT(h, "HostScores", empty, &heterolr__scores_request__descriptor,
           CCZ_RPC_FAILED_PRECONDITION, "only the guest gets the hosts' scores");
    sr.scores = scores;
    sr.n_scores = 4;
    EXPECT(g, "Scores", sr, &heterolr__empty__descriptor, CCZ_RPC_FAILED_PRECONDITION,
           "only a host sends scores");
    sr.n_scores = 3;
    EXPECT(h, "Scores", sr, &heterolr__empty__descriptor, CCZ_RPC_FAILED_PRECONDITION,
           "one score per aligned row");
    double five[5] = {0.5, -1.25, 2, 3, 4};
    sr.scores = five; /* one too many */
    sr.n_scores = 5;
    EXPECT(h, "Scores", sr, &heterolr__empty__descriptor, CCZ_RPC_FAILED_PRECONDITION,
           "one score per aligned row");
    sr.n_scores = 4;
    sr.scores = nan_scores;
    EXPECT(h, "Scores", sr, &heterolr__empty__descriptor, CCZ_RPC_FAILED_PRECONDITION,
           "the scores must be finite");
    sr.scores = scores;
    /* the guest asks twice on its connection before the host's scores (sent 0.5 s later): the
     * first waits for them, the second is refused at once (one HostScores at a time) */
    call hs;
    call_set(&hs, h, "Scores", &sr.base, &heterolr__empty__descriptor, 0);
    test_thread(&hs.thread, run_call_later, &hs);
    scores_call got[2] = {{.code = -1}, {.code = -1}};
    ccz_rpc_call_opts wait = CCZ_RPC_CALL_OPTS_INIT;
    wait.deadline_ms = 5000;
    for (int i = 0; i < 2; i++) {
        ccz_rpc_stream *gs;
        CHECK_OK(ccz_rpc_start(g, &gs, "/heterolr.Arbiter/HostScores", &empty.base,
                               &heterolr__scores_request__descriptor, &wait, scores_msg,
                               scores_done, &got[i]));
    }
    CHECK_OK(ccz_rpc_channel_run(g));
    join_call(&hs);
    CHECK_INT(hs.code, 0);
    free_call(&hs);
    EXPECT(h, "Scores", sr, &heterolr__empty__descriptor, CCZ_RPC_FAILED_PRECONDITION,
           "this host has sent its scores");
    CHECK_INT(got[0].code, 0);
    CHECK_INT(got[0].n, 4);
    for (size_t i = 0; i < got[0].n && i < 4; i++)
        CHECK(got[0].scores[i] == scores[i]);
    CHECK_INT(got[1].code, CCZ_RPC_FAILED_PRECONDITION);
    CHECK_STR(got[1].msg,
              "the guest waits for the hosts' scores already (one HostScores at a time)");

    EXPECT(g, "Finish", empty, &heterolr__empty__descriptor, 0, "");
    EXPECT(h, "Finish", empty, &heterolr__empty__descriptor, 0, "");
    const ccz_fl_vlr_status *st = arbiter_stop(&a);
    CHECK(st->over);
    CHECK_INT(st->code, 0);
    CHECK_INT(st->steps, 1);
    CHECK_INT(st->epochs, 1);
    ccz_rpc_channel_free(x);
    ccz_rpc_channel_free(g);
    ccz_rpc_channel_free(h);
    arbiter_free(&a);
    mpz_clears(bad_ct, zero, NULL);
    cts_free(&s);
    cts_free(&sq);
    cts_free(&res);
    cts_free(&grad);
}

/* Fewer than two ids in common: both joins refused with the reason, and every later call. */
static void too_few_in_common(void)
{
    static arbiter a;
    arbiter_start(&a, 20000);
    ccz_rpc_channel *g = party_channel(&a), *h = party_channel(&a);
    int64_t gi[] = {1, 2, 3}, hi[] = {3, 4, 5};
    /* the fewest and the most features a party may have: both joins go in */
    Heterolr__JoinRequest gj = join_req("guest", 0, "g", 1, gi, 3),
                          hj = join_req("host", 1, "h", 4096, hi, 3);
    call gc = {0}, hc = {0};
    start_call(&gc, g, "Join", &gj.base, &heterolr__join_reply__descriptor);
    wait_log(&a, "guest 0 (g) joined with 3 rows of 1 features");
    start_call(&hc, h, "Join", &hj.base, &heterolr__join_reply__descriptor);
    join_call(&gc);
    join_call(&hc);
    for (call *c = &gc; c; c = c == &gc ? &hc : NULL) {
        CHECK_INT(c->code, CCZ_RPC_FAILED_PRECONDITION);
        CHECK_STR(c->msg, "the parties have fewer than 2 ids in common");
        free_call(c);
    }
    CHECK(log_has(&a, "host 1 (h) joined with 3 rows of 4096 features"));
    const ccz_fl_vlr_status *st = arbiter_stop(&a);
    CHECK(st->over);
    CHECK_INT(st->code, CCZ_RPC_FAILED_PRECONDITION);
    ccz_rpc_channel_free(g);
    ccz_rpc_channel_free(h);
    arbiter_free(&a);
}

/* A host that never joins: the waiting guest hears the deadline, and the arbiter ends. */
static void party_never_joins(void)
{
    static arbiter a;
    arbiter_start(&a, 1000);
    ccz_rpc_channel *g = party_channel(&a);
    Heterolr__JoinRequest gj = join_req("guest", 0, "g", 2, guest_ids, 6);
    char msg[512];
    CHECK_INT(now(g, "Join", &gj.base, &heterolr__join_reply__descriptor, msg),
              CCZ_RPC_DEADLINE_EXCEEDED);
    CHECK_STR(msg, "hetero-LR training timed out after 1.0 s waiting for 1 of 2 parties to join");
    const ccz_fl_vlr_status *st = arbiter_stop(&a); /* it ends once every party was told */
    CHECK(st->over);
    CHECK_INT(st->code, CCZ_RPC_DEADLINE_EXCEEDED);
    CHECK_STR(st->message,
              "hetero-LR training timed out after 1.0 s waiting for 1 of 2 parties to join");
    ccz_rpc_channel_free(g);
    arbiter_free(&a);
}

/* A training of one host: a second host is refused while the first waits for the guest, and
 * the first hears the timeout. */
static void hosts_full(void)
{
    static arbiter a;
    arbiter_start(&a, 1000);
    ccz_rpc_channel *h = party_channel(&a), *h2 = party_channel(&a);
    Heterolr__JoinRequest hj = join_req("host", 1, "h", 3, host_ids, 8);
    call hc;
    start_call(&hc, h, "Join", &hj.base, &heterolr__join_reply__descriptor);
    wait_log(&a, "host 1 (h) joined");
    Heterolr__JoinRequest hj2 = join_req("host", 2, "h2", 3, host_ids, 8);
    EXPECT(h2, "Join", hj2, &heterolr__join_reply__descriptor, CCZ_RPC_RESOURCE_EXHAUSTED,
           "the training has its 1 hosts already");
    join_call(&hc);
    CHECK_INT(hc.code, CCZ_RPC_DEADLINE_EXCEEDED);
    CHECK_CONTAINS(hc.msg, "waiting for 1 of 2 parties to join");
    free_call(&hc);
    arbiter_stop(&a);
    ccz_rpc_channel_free(h);
    ccz_rpc_channel_free(h2);
    arbiter_free(&a);
}

/* Two joined parties g and h of the guest's and the host's ids (4 in common). */
static void join_both(ccz_rpc_channel *g, ccz_rpc_channel *h)
{
    Heterolr__JoinRequest gj = join_req("guest", 0, "g", 2, guest_ids, 6);
    Heterolr__JoinRequest hj = join_req("host", 1, "h", 3, host_ids, 8);
    call gc, hc;
    start_call(&gc, g, "Join", &gj.base, &heterolr__join_reply__descriptor);
    start_call(&hc, h, "Join", &hj.base, &heterolr__join_reply__descriptor);
    join_call(&gc);
    join_call(&hc);
    CHECK_INT(gc.code, 0);
    CHECK_INT(hc.code, 0);
    free_call(&gc);
    free_call(&hc);
}

/* A training that failed under way (the guest left during a step): a party's later call hears
 * why, and the arbiter ends as soon as every party has. */
static void calls_after_failure(void)
{
    static arbiter a;
    arbiter_start(&a, 20000);
    ccz_rpc_channel *g = party_channel(&a), *h = party_channel(&a);
    join_both(g, h);
    Heterolr__Step st0 = HETEROLR__STEP__INIT;
    call gc;
    call_now(&gc, g, "HostForwards", &st0.base, &heterolr__forward_reply__descriptor, 300);
    CHECK_INT(gc.code, CCZ_RPC_DEADLINE_EXCEEDED);
    free_call(&gc);
    wait_log(&a, "guest 0 (g) left while waiting");
    Heterolr__ForwardRequest fw = HETEROLR__FORWARD_REQUEST__INIT;
    char msg[512];
    CHECK_INT(now(h, "Forward", &fw.base, &heterolr__ciphertexts__descriptor, msg),
              CCZ_RPC_FAILED_PRECONDITION);
    CHECK_CONTAINS(msg, "guest 0 (g) left while waiting");
    /* the guest hears it too: every party has, and the arbiter ends at once (not after the
     * 5 s it gives parties that never call again) */
    CHECK_INT(now(g, "HostForwards", &st0.base, &heterolr__forward_reply__descriptor, msg),
              CCZ_RPC_FAILED_PRECONDITION);
    CHECK_CONTAINS(msg, "guest 0 (g) left while waiting");
    CHECK(ended_within(&a, 3000));
    const ccz_fl_vlr_status *st = arbiter_stop(&a);
    CHECK_INT(st->code, CCZ_RPC_ABORTED);
    CHECK_STR(msg, st->message);
    ccz_rpc_channel_free(g);
    ccz_rpc_channel_free(h);
    arbiter_free(&a);
}

/* The guest gives up waiting (its call's deadline): the arbiter ends the training and says
 * which party left; the host joining later hears it. */
static void party_leaves(void)
{
    static arbiter a;
    arbiter_start(&a, 20000);
    ccz_rpc_channel *g = party_channel(&a), *h = party_channel(&a);
    Heterolr__JoinRequest gj = join_req("guest", 0, "g", 2, guest_ids, 6);
    call gc;
    call_now(&gc, g, "Join", &gj.base, &heterolr__join_reply__descriptor, 500);
    CHECK_INT(gc.code, CCZ_RPC_DEADLINE_EXCEEDED);
    free_call(&gc);
    const char *why = "guest 0 (g) left while waiting for the other parties (its call was "
                      "cancelled or its connection closed)";
    wait_log(&a, why);
    Heterolr__JoinRequest hj = join_req("host", 1, "h", 3, host_ids, 8);
    char msg[512];
    CHECK_INT(now(h, "Join", &hj.base, &heterolr__join_reply__descriptor, msg),
              CCZ_RPC_FAILED_PRECONDITION);
    CHECK_STR(msg, why);
    const ccz_fl_vlr_status *st = arbiter_stop(&a);
    CHECK_INT(st->code, CCZ_RPC_ABORTED);
    ccz_rpc_channel_free(g);
    ccz_rpc_channel_free(h);
    arbiter_free(&a);
}

/* ---- two calls on one connection (raw HTTP/2: ccz's client puts one call on a channel) ------*/

typedef struct {
    int fd;
    int32_t ids[3];
    int status[3];
    char message[3][256];
    bool closed[3];
} mux;

static int mux_slot(const mux *m, int32_t id)
{
    for (int k = 0; k < 3; k++)
        if (m->ids[k] == id)
            return k;
    return -1;
}

static ssize_t mux_send(nghttp2_session *s, const uint8_t *d, size_t len, int f, void *u)
{
    (void)s, (void)f;
    ssize_t w = write(((mux *)u)->fd, d, len);
    return w > 0 ? w : NGHTTP2_ERR_CALLBACK_FAILURE;
}

static int mux_header(nghttp2_session *s, const nghttp2_frame *fr, const uint8_t *name, size_t nl,
                      const uint8_t *value, size_t vl, uint8_t flags, void *u)
{
    (void)s, (void)flags;
    mux *m = u;
    int k = mux_slot(m, fr->hd.stream_id);
    if (k < 0)
        return 0;
    if (nl == 11 && !memcmp(name, "grpc-status", 11))
        m->status[k] = atoi((const char *)value);
    else if (nl == 12 && !memcmp(name, "grpc-message", 12))
        snprintf(m->message[k], sizeof m->message[k], "%.*s", (int)vl, value);
    return 0;
}

static int mux_close(nghttp2_session *s, int32_t id, uint32_t e, void *u)
{
    (void)s, (void)e;
    int k = mux_slot(u, id);
    if (k >= 0)
        ((mux *)u)->closed[k] = true;
    return 0;
}

/* A request's gRPC frame, kept until nghttp2 has sent it. */
typedef struct {
    uint8_t frame[512];
    h2_body body;
} grpc_body;

/* A gRPC request of msg on h2 (the body kept in b until sent); returns its stream. */
static int32_t mux_call(nghttp2_session *h2, const char *path, const ProtobufCMessage *msg,
                        grpc_body *b)
{
    uint8_t packed[sizeof b->frame];
    size_t size = protobuf_c_message_get_packed_size(msg);
    CHECK(size + 5 <= sizeof b->frame);
    protobuf_c_message_pack(msg, packed);
    ccz_buf f = CCZ_BUF_INIT;
    CHECK_OK(ccz_rpc_frame_write(&f, CCZ_SPAN(packed, size)));
    memcpy(b->frame, f.ptr, f.len);
    b->body = (h2_body){b->frame, f.len};
    ccz_buf_free(&f);
    nghttp2_nv nv[6];
    h2_grpc_headers(nv, path, "application/grpc");
    nghttp2_data_provider prd = {.source.ptr = &b->body, .read_callback = h2_body_read};
    return nghttp2_submit_request(h2, NULL, nv, 6, &prd, NULL);
}

/* Sends what h2 has and reads what comes for up to ms. */
static void mux_pump(nghttp2_session *h2, mux *m, int ms)
{
    CHECK_INT(nghttp2_session_send(h2), 0);
    struct pollfd p = {m->fd, POLLIN, 0};
    uint8_t buf[16384];
    while (poll(&p, 1, ms) == 1) {
        ssize_t k = read(m->fd, buf, sizeof buf);
        if (k <= 0 || nghttp2_session_mem_recv(h2, buf, (size_t)k) < 0)
            break;
        CHECK_INT(nghttp2_session_send(h2), 0);
        ms = 50;
    }
}

/* A raw HTTP/2 connection to the arbiter whose first stream is the guest's Join, pumped until
 * the arbiter has it (the Join then waits for the host). */
static nghttp2_session *mux_guest_joins(mux *m, const arbiter *a)
{
    int port = atoi(strchr(a->target, ':') + 1);
    *m = (mux){.fd = socket(AF_INET, SOCK_STREAM, 0), .ids = {-1, -1, -1}, .status = {-1, -1, -1}};
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    CHECK_INT(connect(m->fd, (struct sockaddr *)&sa, sizeof sa), 0);
    h2_client_callbacks cb = {.send = mux_send, .header = mux_header, .close = mux_close};
    nghttp2_session *h2 = h2_client_new(&cb, m, NULL, 0);
    Heterolr__JoinRequest gj = join_req("guest", 0, "g", 2, guest_ids, 6);
    static grpc_body jb;
    jb = (grpc_body){0};
    m->ids[0] = mux_call(h2, "/heterolr.Arbiter/Join", &gj.base, &jb);
    for (int i = 0; i < 100 && !m->closed[0] && !log_has(a, "guest 0 (g) joined"); i++)
        mux_pump(h2, m, 20);
    return h2;
}

/* A guest whose Join is held calls Finish on a second stream of its own connection: it is a
 * party, but the training has not started, and the call is refused as such. */
static void second_stream_before_all_joined(void)
{
    static arbiter a;
    arbiter_start(&a, 20000);
    mux m;
    nghttp2_session *h2 = mux_guest_joins(&m, &a);
    static grpc_body fb;
    CHECK(!m.closed[0]); /* the Join waits for the host */
    Heterolr__Empty empty = HETEROLR__EMPTY__INIT;
    m.ids[1] = mux_call(h2, "/heterolr.Arbiter/Finish", &empty.base, &fb);
    for (int i = 0; i < 100 && !m.closed[1]; i++)
        mux_pump(h2, &m, 50);
    CHECK(m.closed[1]);
    CHECK_INT(m.status[1], CCZ_RPC_FAILED_PRECONDITION);
    CHECK_STR(m.message[1], "the parties have not all joined yet");
    /* and a second Join on the connection: one party a connection */
    Heterolr__JoinRequest hj = join_req("host", 1, "h", 3, host_ids, 8);
    static grpc_body hb;
    m.ids[2] = mux_call(h2, "/heterolr.Arbiter/Join", &hj.base, &hb);
    for (int i = 0; i < 100 && !m.closed[2]; i++)
        mux_pump(h2, &m, 50);
    CHECK(m.closed[2]);
    CHECK_INT(m.status[2], CCZ_RPC_ALREADY_EXISTS);
    CHECK_STR(m.message[2], "this connection has joined already");
    CHECK(!m.closed[0]);
    nghttp2_session_del(h2);
    close(m.fd); /* the guest leaves: the arbiter ends the training */
    wait_log(&a, "guest 0 (g) left while waiting");
    arbiter_stop(&a);
    arbiter_free(&a);
}

/* Two calls for one step on a party's connection: the second is refused while the first is
 * held (it would otherwise replace it, unanswered). */
static void second_held_call(void)
{
    static arbiter a;
    arbiter_start(&a, 20000);
    mux m;
    nghttp2_session *h2 = mux_guest_joins(&m, &a);
    static grpc_body f1, f2;
    ccz_rpc_channel *h = party_channel(&a);
    Heterolr__JoinRequest hj = join_req("host", 1, "h", 3, host_ids, 8);
    call hc;
    start_call(&hc, h, "Join", &hj.base, &heterolr__join_reply__descriptor);
    for (int i = 0; i < 200 && !m.closed[0]; i++)
        mux_pump(h2, &m, 50);
    join_call(&hc);
    CHECK_INT(hc.code, 0);
    free_call(&hc);
    CHECK_INT(m.status[0], 0);
    /* HostForwards for step 0, held for the host's scores; then another */
    Heterolr__Step st0 = HETEROLR__STEP__INIT;
    m.ids[1] = mux_call(h2, "/heterolr.Arbiter/HostForwards", &st0.base, &f1);
    mux_pump(h2, &m, 50);
    m.ids[2] = mux_call(h2, "/heterolr.Arbiter/HostForwards", &st0.base, &f2);
    for (int i = 0; i < 100 && !m.closed[2]; i++)
        mux_pump(h2, &m, 50);
    CHECK(m.closed[2]);
    CHECK_INT(m.status[2], CCZ_RPC_FAILED_PRECONDITION);
    CHECK_STR(m.message[2], "a second call for step 0; this party is at step 0");
    CHECK(!m.closed[1]); /* the first still waits */
    nghttp2_session_del(h2);
    close(m.fd); /* the guest leaves: the training ends, the host hears it */
    wait_log(&a, "guest 0 (g) left while waiting");
    Heterolr__ForwardRequest fw = HETEROLR__FORWARD_REQUEST__INIT;
    char msg[512];
    CHECK_INT(now(h, "Forward", &fw.base, &heterolr__ciphertexts__descriptor, msg),
              CCZ_RPC_FAILED_PRECONDITION);
    arbiter_stop(&a);
    ccz_rpc_channel_free(h);
    arbiter_free(&a);
}

/* The epoch the host's and the guest's gradient replies of the last raw_step named (-1: none). */
static int raw_epoch[2];

/* One step of the one host h and the guest g (3 weights each) with raw calls: the host's scores,
 * the guest's residuals (with an encrypted loss of 0, or none), both gradients. The loss the
 * guest's gradient reply carries goes to loss. The guest's scores reply carries the one host's
 * square as the host sent it (the sum of one). */
static void raw_step(ccz_rpc_channel *g, ccz_rpc_channel *h, int step, size_t rows, bool with_loss,
                     double *loss)
{
    cts s = {0}, sq = {0}, res = {0}, l = {0}, grad = {0};
    encrypt_run(&s, rows, 100);
    encrypt_run(&sq, 1, 7);
    encrypt_run(&res, rows, 1000);
    encrypt_run(&l, 1, 0);
    encrypt_run(&grad, 3, 5);
    Heterolr__ForwardRequest fw = HETEROLR__FORWARD_REQUEST__INIT;
    fw.step = step;
    fw.forward = s.b;
    fw.n_forward = rows;
    fw.square = sq.b[0];
    call fc, hfc, c;
    start_call(&fc, h, "Forward", &fw.base, &heterolr__ciphertexts__descriptor);
    Heterolr__Step st = HETEROLR__STEP__INIT;
    st.step = step;
    call_now(&hfc, g, "HostForwards", &st.base, &heterolr__forward_reply__descriptor, 0);
    CHECK_INT(hfc.code, 0);
    const Heterolr__ForwardReply *fr = (const Heterolr__ForwardReply *)hfc.resp;
    CHECK(fr && fr->n_forward == rows && fr->square.len == sq.b[0].len &&
          !memcmp(fr->square.data, sq.b[0].data, sq.b[0].len));
    free_call(&hfc);
    Heterolr__ResidualsRequest rr = HETEROLR__RESIDUALS_REQUEST__INIT;
    rr.step = step;
    rr.residuals = res.b;
    rr.n_residuals = rows;
    if (with_loss)
        rr.loss = l.b[0];
    EXPECT(g, "Residuals", rr, &heterolr__empty__descriptor, 0, "");
    /* the scores again once the residuals are in: refused at once, not held until the
     * training's timeout */
    char again[100];
    snprintf(again, sizeof again,
             "the hosts' scores of step %d were answered and its residuals are in", step);
    EXPECT(g, "HostForwards", st, &heterolr__forward_reply__descriptor, CCZ_RPC_FAILED_PRECONDITION,
           again);
    join_call(&fc);
    CHECK_INT(fc.code, 0);
    free_call(&fc);
    Heterolr__GradientRequest gr = HETEROLR__GRADIENT_REQUEST__INIT;
    gr.step = step;
    gr.masked = grad.b;
    gr.n_masked = 3;
    raw_epoch[0] = raw_epoch[1] = -1;
    call_now(&c, h, "Gradient", &gr.base, &heterolr__gradient_reply__descriptor, 0);
    CHECK_INT(c.code, 0);
    if (c.resp)
        raw_epoch[0] = ((const Heterolr__GradientReply *)c.resp)->epoch;
    free_call(&c);
    call_now(&c, g, "Gradient", &gr.base, &heterolr__gradient_reply__descriptor, 0);
    CHECK_INT(c.code, 0);
    if (c.resp) {
        *loss = ((const Heterolr__GradientReply *)c.resp)->loss;
        raw_epoch[1] = ((const Heterolr__GradientReply *)c.resp)->epoch;
    }
    free_call(&c);
    cts_free(&s);
    cts_free(&sq);
    cts_free(&res);
    cts_free(&l);
    cts_free(&grad);
}

/* An epoch's loss is the mean of its batches' losses: with a batch's loss missing (the guest
 * sent none) it is not available, rather than the others' sum over every batch. Two epochs of
 * two batches (4 ids in common, batches of 2); each loss sent decodes to the Taylor loss of
 * scores 0, log 2. */
static void loss_of_some_batches(void)
{
    static arbiter a;
    next_batch_size = 2;
    next_epochs = 2;
    arbiter_start(&a, 20000);
    ccz_rpc_channel *g = party_channel(&a), *h = party_channel(&a);
    join_both(g, h);
    double loss[4] = {0, 0, 0, 0};
    raw_step(g, h, 0, 2, false, &loss[0]); /* epoch 0: the first batch without its loss */
    raw_step(g, h, 1, 2, true, &loss[1]);
    raw_step(g, h, 2, 2, true, &loss[2]);          /* epoch 1: both */
    CHECK(raw_epoch[0] == 1 && raw_epoch[1] == 1); /* step 2 of 2 batches an epoch */
    raw_step(g, h, 3, 2, true, &loss[3]);
    CHECK(raw_epoch[0] == 1 && raw_epoch[1] == 1);
    CHECK(isnan(loss[0]) && isnan(loss[2])); /* not the end of an epoch */
    CHECK(isnan(loss[1]));
    CHECK(fabs(loss[3] - log(2.0)) < 1e-12);
    wait_log(&a, "epoch 0: loss not available (the guest sent no loss for a batch)");
    Heterolr__Empty empty = HETEROLR__EMPTY__INIT;
    EXPECT(g, "Finish", empty, &heterolr__empty__descriptor, 0, "");
    EXPECT(h, "Finish", empty, &heterolr__empty__descriptor, 0, "");
    const ccz_fl_vlr_status *st = arbiter_stop(&a);
    CHECK_INT(st->code, 0);
    CHECK_INT(st->steps, 4);
    CHECK_INT(st->epochs, 2);
    CHECK(isnan(st->loss[0]));
    CHECK(fabs(st->loss[1] - log(2.0)) < 1e-12);
    CHECK(!st->converged);
    ccz_rpc_channel_free(g);
    ccz_rpc_channel_free(h);
    arbiter_free(&a);
}

/* The last batch of an epoch shorter than the others (4 ids in common, batches of 3: 3 rows, then
 * 1): its scores and residuals are counted against its own rows, not the batch size, both ways,
 * the relayed forwards and residuals are its rows, and its loss is the mean over its one row (a
 * sum 8 2^96 decodes to log 2 + 1 over 1 row, log 2 + 1/3 over 3; the epoch's, the mean of its
 * two batches). */
static void short_last_batch(void)
{
    static arbiter a;
    next_batch_size = 3;
    arbiter_start(&a, 20000);
    ccz_rpc_channel *g = party_channel(&a), *h = party_channel(&a);
    join_both(g, h);
    double loss = 0;
    raw_step(g, h, 0, 3, true, &loss);
    cts s = {0}, sq = {0}, res = {0}, l = {0}, grad = {0};
    encrypt_run(&s, 3, 100);
    encrypt_run(&sq, 1, 7);
    encrypt_run(&res, 3, 1000);
    encrypt_run(&l, 1, 0);
    encrypt_run(&grad, 3, 5);
    mpz_t m, x;
    mpz_inits(m, x, NULL);
    mpz_set_ui(m, 8);
    mpz_mul_2exp(m, m, 2 * CCZ_FL_VLR_SCALE_BITS);
    CHECK_OK(ccz_paillier_encrypt(x, ccz_paillier_key_pub(key), m));
    put(&l, 0, x);
    mpz_clears(m, x, NULL);
    /* step 1: a whole batch's scores are refused, the last batch's one row goes in */
    Heterolr__ForwardRequest fw = HETEROLR__FORWARD_REQUEST__INIT;
    fw.step = 1;
    fw.forward = s.b;
    fw.n_forward = 3;
    fw.square = sq.b[0];
    EXPECT(h, "Forward", fw, &heterolr__ciphertexts__descriptor, CCZ_RPC_INVALID_ARGUMENT,
           "3 scores; expected 1");
    fw.n_forward = 1;
    call fc, c;
    start_call(&fc, h, "Forward", &fw.base, &heterolr__ciphertexts__descriptor);
    Heterolr__Step st = HETEROLR__STEP__INIT;
    st.step = 1;
    call_now(&c, g, "HostForwards", &st.base, &heterolr__forward_reply__descriptor, 0);
    CHECK_INT(c.code, 0);
    CHECK(c.resp && ((const Heterolr__ForwardReply *)c.resp)->n_forward == 1);
    free_call(&c);
    Heterolr__ResidualsRequest rr = HETEROLR__RESIDUALS_REQUEST__INIT;
    rr.step = 1;
    rr.residuals = res.b;
    rr.n_residuals = 3;
    rr.loss = l.b[0];
    EXPECT(g, "Residuals", rr, &heterolr__empty__descriptor, CCZ_RPC_INVALID_ARGUMENT,
           "3 residuals; expected 1");
    rr.n_residuals = 1;
    EXPECT(g, "Residuals", rr, &heterolr__empty__descriptor, 0, "");
    join_call(&fc);
    CHECK_INT(fc.code, 0);
    res.count = 1;
    CHECK(fc.resp && same_values(((const Heterolr__Ciphertexts *)fc.resp)->values,
                                 ((const Heterolr__Ciphertexts *)fc.resp)->n_values, &res));
    free_call(&fc);
    Heterolr__GradientRequest gr = HETEROLR__GRADIENT_REQUEST__INIT;
    gr.step = 1;
    gr.masked = grad.b;
    gr.n_masked = 3;
    call_now(&c, h, "Gradient", &gr.base, &heterolr__gradient_reply__descriptor, 0);
    CHECK_INT(c.code, 0);
    CHECK(c.resp && ((const Heterolr__GradientReply *)c.resp)->stop);
    free_call(&c);
    call_now(&c, g, "Gradient", &gr.base, &heterolr__gradient_reply__descriptor, 0);
    CHECK_INT(c.code, 0);
    CHECK(c.resp &&
          fabs(((const Heterolr__GradientReply *)c.resp)->loss - (log(2.0) + 0.5)) < 1e-12);
    free_call(&c);
    Heterolr__Empty empty = HETEROLR__EMPTY__INIT;
    EXPECT(g, "Finish", empty, &heterolr__empty__descriptor, 0, "");
    EXPECT(h, "Finish", empty, &heterolr__empty__descriptor, 0, "");
    const ccz_fl_vlr_status *fin = arbiter_stop(&a);
    CHECK_INT(fin->code, 0);
    CHECK_INT(fin->steps, 2);
    CHECK_INT(fin->epochs, 1);
    CHECK(fabs(fin->loss[0] - (log(2.0) + 0.5)) < 1e-12);
    cts_free(&s);
    cts_free(&sq);
    cts_free(&res);
    cts_free(&l);
    cts_free(&grad);
    ccz_rpc_channel_free(g);
    ccz_rpc_channel_free(h);
    arbiter_free(&a);
}

/* A training that fails within an epoch (two batches of 2; the guest leaves during the second
 * step): its status counts the one step done and the epoch it reached into, partly done. */
static void failed_within_epoch(void)
{
    static arbiter a;
    next_batch_size = 2;
    arbiter_start(&a, 20000);
    ccz_rpc_channel *g = party_channel(&a), *h = party_channel(&a);
    join_both(g, h);
    double loss = 0;
    raw_step(g, h, 0, 2, true, &loss);
    Heterolr__Step st1 = HETEROLR__STEP__INIT;
    st1.step = 1;
    call gc;
    call_now(&gc, g, "HostForwards", &st1.base, &heterolr__forward_reply__descriptor, 300);
    CHECK_INT(gc.code, CCZ_RPC_DEADLINE_EXCEEDED);
    free_call(&gc);
    wait_log(&a, "guest 0 (g) left while waiting");
    Heterolr__ForwardRequest fw = HETEROLR__FORWARD_REQUEST__INIT;
    char msg[512];
    CHECK_INT(now(h, "Forward", &fw.base, &heterolr__ciphertexts__descriptor, msg),
              CCZ_RPC_FAILED_PRECONDITION);
    CHECK_INT(now(g, "HostForwards", &st1.base, &heterolr__forward_reply__descriptor, msg),
              CCZ_RPC_FAILED_PRECONDITION);
    CHECK(ended_within(&a, 3000));
    const ccz_fl_vlr_status *st = arbiter_stop(&a);
    CHECK_INT(st->code, CCZ_RPC_ABORTED);
    CHECK_INT(st->steps, 1);
    CHECK_INT(st->epochs, 1);
    CHECK(isnan(st->loss[0]));
    ccz_rpc_channel_free(g);
    ccz_rpc_channel_free(h);
    arbiter_free(&a);
}

/* A trained model whose host never calls Finish: the training is done (as the homo-LR server
 * has it), not a timeout, and the log names the party that did not finish. */
static void party_never_finishes(void)
{
    static arbiter a;
    arbiter_start(&a, 1000);
    ccz_rpc_channel *g = party_channel(&a), *h = party_channel(&a);
    join_both(g, h);
    double loss = 0;
    raw_step(g, h, 0, 4, true, &loss);
    Heterolr__Empty empty = HETEROLR__EMPTY__INIT;
    EXPECT(g, "Finish", empty, &heterolr__empty__descriptor, 0, "");
    wait_log(&a, "trained, but host 1 (h) did not call Finish within 1.0 s: the training is done");
    const ccz_fl_vlr_status *st = arbiter_stop(&a);
    CHECK(st->over);
    CHECK_INT(st->code, 0);
    CHECK_STR(st->message, "");
    CHECK_INT(st->steps, 1);
    CHECK_INT(st->epochs, 1);
    CHECK(!log_has(&a, "training failed"));
    ccz_rpc_channel_free(g);
    ccz_rpc_channel_free(h);
    arbiter_free(&a);
}

/* Trained, a guest waiting for the hosts' scores that never come, and no party calls Finish: at
 * the deadline the training is done, and the guest's held call is answered with why, not left
 * to the server's shutdown. */
static void held_scores_told_when_done(void)
{
    static arbiter a;
    arbiter_start(&a, 1000);
    ccz_rpc_channel *g = party_channel(&a), *h = party_channel(&a);
    join_both(g, h);
    double loss = 0;
    raw_step(g, h, 0, 4, true, &loss);
    Heterolr__Empty empty = HETEROLR__EMPTY__INIT;
    call sc;
    start_call(&sc, g, "HostScores", &empty.base, &heterolr__scores_request__descriptor);
    join_call(&sc);
    CHECK_INT(sc.code, CCZ_RPC_DEADLINE_EXCEEDED);
    CHECK(!strncmp(sc.msg, "the training is done; ", 22)); /* the parties in their join order */
    CHECK_CONTAINS(sc.msg, "guest 0 (g)");
    CHECK_CONTAINS(sc.msg, "host 1 (h)");
    CHECK_CONTAINS(sc.msg, " did not call Finish");
    free_call(&sc);
    const ccz_fl_vlr_status *st = arbiter_stop(&a);
    CHECK(st->over);
    CHECK_INT(st->code, 0);
    CHECK_INT(st->steps, 1);
    ccz_rpc_channel_free(g);
    ccz_rpc_channel_free(h);
    arbiter_free(&a);
}

/* Step 0 up to the guest's residuals, each call answered OK: the host's Forward of `rows` rows
 * (answered once the guest has taken the forwards), the guest's HostForwards and Residuals. */
static void step_to_residuals(ccz_rpc_channel *g, ccz_rpc_channel *h, cts *s, cts *sq, cts *res,
                              size_t rows)
{
    Heterolr__ForwardRequest fw = HETEROLR__FORWARD_REQUEST__INIT;
    fw.forward = s->b;
    fw.n_forward = rows;
    fw.square = sq->b[0];
    call fc, c;
    start_call(&fc, h, "Forward", &fw.base, &heterolr__ciphertexts__descriptor);
    Heterolr__Step st0 = HETEROLR__STEP__INIT;
    call_now(&c, g, "HostForwards", &st0.base, &heterolr__forward_reply__descriptor, 0);
    CHECK_INT(c.code, 0);
    free_call(&c);
    Heterolr__ResidualsRequest rr = HETEROLR__RESIDUALS_REQUEST__INIT;
    rr.residuals = res->b;
    rr.n_residuals = rows;
    EXPECT(g, "Residuals", rr, &heterolr__empty__descriptor, 0, "");
    join_call(&fc);
    CHECK_INT(fc.code, 0);
    free_call(&fc);
}

/* A guest that runs ahead: done with step 0 while the host still waits for its gradient, it
 * sends residuals for step 1 before the host's scores for it. They are refused (they would
 * replace the step 0 residuals the host's gradient needs), and the honest host goes on. One
 * epoch of two batches of 2. */
static void guest_runs_ahead(void)
{
    static arbiter a;
    next_batch_size = 2;
    arbiter_start(&a, 20000);
    ccz_rpc_channel *g = party_channel(&a), *h = party_channel(&a);
    join_both(g, h);
    cts s = {0}, sq = {0}, res = {0}, grad = {0};
    encrypt_run(&s, 2, 100);
    encrypt_run(&sq, 1, 7);
    encrypt_run(&res, 2, 1000);
    encrypt_run(&grad, 3, 5);
    /* step 0 up to the guest's gradient */
    step_to_residuals(g, h, &s, &sq, &res, 2);
    call c;
    Heterolr__ResidualsRequest rr = HETEROLR__RESIDUALS_REQUEST__INIT;
    rr.residuals = res.b;
    rr.n_residuals = 2;
    Heterolr__GradientRequest gr = HETEROLR__GRADIENT_REQUEST__INIT;
    gr.masked = grad.b;
    gr.n_masked = 3;
    call_now(&c, g, "Gradient", &gr.base, &heterolr__gradient_reply__descriptor, 0);
    CHECK_INT(c.code, 0);
    free_call(&c);
    /* the guest at step 1, the host still at step 0: residuals for step 1 are refused */
    rr.step = 1;
    EXPECT(g, "Residuals", rr, &heterolr__empty__descriptor, CCZ_RPC_FAILED_PRECONDITION,
           "residuals for step 1 before every host's scores for it (call HostForwards first)");
    /* the host's gradient of step 0 is undisturbed, and the training goes on */
    call_now(&c, h, "Gradient", &gr.base, &heterolr__gradient_reply__descriptor, 0);
    CHECK_INT(c.code, 0);
    CHECK_STR(c.msg, "");
    free_call(&c);
    double loss = 0;
    raw_step(g, h, 1, 2, false, &loss);
    Heterolr__Empty empty = HETEROLR__EMPTY__INIT;
    EXPECT(g, "Finish", empty, &heterolr__empty__descriptor, 0, "");
    EXPECT(h, "Finish", empty, &heterolr__empty__descriptor, 0, "");
    const ccz_fl_vlr_status *st = arbiter_stop(&a);
    CHECK_INT(st->code, 0);
    CHECK_INT(st->steps, 2);
    CHECK_INT(st->epochs, 1);
    cts_free(&s);
    cts_free(&sq);
    cts_free(&res);
    cts_free(&grad);
    ccz_rpc_channel_free(g);
    ccz_rpc_channel_free(h);
    arbiter_free(&a);
}

/* Every party calls Finish before the model is trained: that is no successful training of no
 * steps; the arbiter waits for the steps and times out. */
static void finish_before_trained(void)
{
    static arbiter a;
    arbiter_start(&a, 1000);
    ccz_rpc_channel *g = party_channel(&a), *h = party_channel(&a);
    join_both(g, h);
    Heterolr__Empty empty = HETEROLR__EMPTY__INIT;
    EXPECT(g, "Finish", empty, &heterolr__empty__descriptor, 0, "");
    EXPECT(h, "Finish", empty, &heterolr__empty__descriptor, 0, "");
    wait_log(&a, "hetero-LR step 0 timed out after 1.0 s waiting for");
    const ccz_fl_vlr_status *st = arbiter_stop(&a);
    CHECK(st->over);
    CHECK_INT(st->code, CCZ_RPC_DEADLINE_EXCEEDED);
    CHECK_CONTAINS(st->message, "hetero-LR step 0 timed out after 1.0 s waiting for");
    CHECK_INT(st->steps, 0);
    ccz_rpc_channel_free(g);
    ccz_rpc_channel_free(h);
    arbiter_free(&a);
}

/* Every party calls Finish after the last step's residuals but before the host has its
 * gradient (the guest has its own, or not): the stop is decided, yet the steps every party has
 * done are none, so the model is not trained; the arbiter waits for the host's gradient and
 * times out rather than end a successful training. */
static void finish_before_last_gradient_of(bool guest_gradient)
{
    static arbiter a;
    arbiter_start(&a, 1000);
    ccz_rpc_channel *g = party_channel(&a), *h = party_channel(&a);
    join_both(g, h);
    cts s = {0}, sq = {0}, res = {0}, grad = {0};
    encrypt_run(&grad, 3, 5);
    encrypt_run(&s, 4, 100);
    encrypt_run(&sq, 1, 7);
    encrypt_run(&res, 4, 1000);
    step_to_residuals(g, h, &s, &sq, &res, 4); /* one epoch: the stop */
    Heterolr__Empty empty = HETEROLR__EMPTY__INIT;
    if (guest_gradient) { /* the guest has its last gradient, the host not */
        Heterolr__GradientRequest gr = HETEROLR__GRADIENT_REQUEST__INIT;
        gr.masked = grad.b;
        gr.n_masked = 3;
        call c;
        call_now(&c, g, "Gradient", &gr.base, &heterolr__gradient_reply__descriptor, 0);
        CHECK_INT(c.code, 0);
        if (c.resp)
            CHECK(((const Heterolr__GradientReply *)c.resp)->stop);
        free_call(&c);
    }
    EXPECT(g, "Finish", empty, &heterolr__empty__descriptor, 0, "");
    EXPECT(h, "Finish", empty, &heterolr__empty__descriptor, 0, "");
    wait_log(&a, "hetero-LR step 0 timed out after 1.0 s waiting for");
    const ccz_fl_vlr_status *st = arbiter_stop(&a);
    CHECK(st->over);
    CHECK_INT(st->code, CCZ_RPC_DEADLINE_EXCEEDED);
    CHECK_INT(st->steps, 0);
    CHECK(!log_has(&a, "trained:"));
    cts_free(&s);
    cts_free(&sq);
    cts_free(&res);
    cts_free(&grad);
    ccz_rpc_channel_free(g);
    ccz_rpc_channel_free(h);
    arbiter_free(&a);
}

static void finish_before_last_gradient(void)
{
    finish_before_last_gradient_of(false);
    finish_before_last_gradient_of(true);
}

/* Two epochs' losses within the tolerance: the training stops after the second of its three
 * epochs, converged, and says so. One batch of the 4 ids in common per epoch; each loss sent
 * decodes to log 2, so the second epoch's differs from the first's by 0. */
static void converges_early(void)
{
    static arbiter a;
    next_epochs = 3;
    arbiter_start(&a, 20000);
    ccz_rpc_channel *g = party_channel(&a), *h = party_channel(&a);
    join_both(g, h);
    double loss[2] = {0, 0};
    raw_step(g, h, 0, 4, true, &loss[0]);
    raw_step(g, h, 1, 4, true, &loss[1]);
    CHECK(fabs(loss[0] - log(2.0)) < 1e-12 && fabs(loss[1] - log(2.0)) < 1e-12);
    wait_log(&a, "epoch 1: loss 0.693147 (converged)");
    Heterolr__Empty empty = HETEROLR__EMPTY__INIT;
    EXPECT(g, "Finish", empty, &heterolr__empty__descriptor, 0, "");
    EXPECT(h, "Finish", empty, &heterolr__empty__descriptor, 0, "");
    const ccz_fl_vlr_status *st = arbiter_stop(&a);
    CHECK_INT(st->code, 0);
    CHECK_INT(st->steps, 2);
    CHECK_INT(st->epochs, 2);
    CHECK(st->converged);
    CHECK(isnan(st->loss[2]));
    CHECK(log_has(&a, "trained: 2 epochs (2 steps)"));
    CHECK(log_has(&a, ", converged"));
    ccz_rpc_channel_free(g);
    ccz_rpc_channel_free(h);
    arbiter_free(&a);
}

/* Two hosts: the guest hears the sum of their scores and no sum of squares (the loss needs one
 * host, as FATE); a loss it sends anyway is not decrypted into the epoch's; its HostScores waits
 * for both hosts' scores and hears their sum. */
static void two_hosts(void)
{
    static arbiter a;
    next_hosts = 2;
    arbiter_start(&a, 20000);
    ccz_rpc_channel *g = party_channel(&a), *h[2] = {party_channel(&a), party_channel(&a)};
    Heterolr__JoinRequest gj = join_req("guest", 0, "g", 2, guest_ids, 6),
                          hj[2] = {join_req("host", 1, "h1", 3, host_ids, 8),
                                   join_req("host", 2, "h2", 1, host_ids, 8)};
    call gc, hc[2];
    start_call(&gc, g, "Join", &gj.base, &heterolr__join_reply__descriptor);
    for (int k = 0; k < 2; k++)
        start_call(&hc[k], h[k], "Join", &hj[k].base, &heterolr__join_reply__descriptor);
    join_call(&gc);
    CHECK_INT(gc.code, 0);
    free_call(&gc);
    for (int k = 0; k < 2; k++) {
        join_call(&hc[k]);
        CHECK_INT(hc[k].code, 0);
        free_call(&hc[k]);
    }
    cts s[2] = {{.count = 0}, {.count = 0}}, sq = {0}, res = {0}, l = {0}, grad = {0};
    encrypt_run(&s[0], 4, 100);
    encrypt_run(&s[1], 4, 200);
    encrypt_run(&sq, 1, 7);
    encrypt_run(&res, 4, 1000);
    encrypt_run(&l, 1, 0);
    encrypt_run(&grad, 3, 5);
    Heterolr__ForwardRequest fw[2] = {HETEROLR__FORWARD_REQUEST__INIT,
                                      HETEROLR__FORWARD_REQUEST__INIT};
    call fc[2], c;
    for (int k = 0; k < 2; k++) {
        fw[k].forward = s[k].b;
        fw[k].n_forward = 4;
        fw[k].square = sq.b[0];
        start_call(&fc[k], h[k], "Forward", &fw[k].base, &heterolr__ciphertexts__descriptor);
    }
    Heterolr__Step st0 = HETEROLR__STEP__INIT;
    call_now(&c, g, "HostForwards", &st0.base, &heterolr__forward_reply__descriptor, 0);
    CHECK_INT(c.code, 0);
    const Heterolr__ForwardReply *fr = (const Heterolr__ForwardReply *)c.resp;
    if (fr) {
        CHECK_INT(fr->n_forward, 4);
        CHECK_INT(fr->square.len, 0);
        mpz_t got, m;
        mpz_inits(got, m, NULL);
        for (size_t r = 0; r < fr->n_forward && r < 4; r++) {
            mpz_import(got, fr->forward[r].len, 1, 1, 1, 0, fr->forward[r].data);
            CHECK_OK(ccz_paillier_decrypt(m, key, got));
            CHECK(mpz_cmp_ui(m, 300 + 2 * r) == 0);
        }
        mpz_clears(got, m, NULL);
    }
    free_call(&c);
    Heterolr__ResidualsRequest rr = HETEROLR__RESIDUALS_REQUEST__INIT;
    rr.residuals = res.b;
    rr.n_residuals = 4;
    rr.loss = l.b[0];
    EXPECT(g, "Residuals", rr, &heterolr__empty__descriptor, 0, "");
    Heterolr__GradientRequest gr = HETEROLR__GRADIENT_REQUEST__INIT;
    gr.masked = grad.b;
    for (int k = 0; k < 2; k++) {
        join_call(&fc[k]);
        CHECK_INT(fc[k].code, 0);
        free_call(&fc[k]);
        gr.n_masked = k ? 1 : 3;
        call_now(&c, h[k], "Gradient", &gr.base, &heterolr__gradient_reply__descriptor, 0);
        CHECK_INT(c.code, 0);
        free_call(&c);
    }
    gr.n_masked = 3;
    call_now(&c, g, "Gradient", &gr.base, &heterolr__gradient_reply__descriptor, 0);
    CHECK_INT(c.code, 0);
    if (c.resp) {
        CHECK(((const Heterolr__GradientReply *)c.resp)->stop);
        CHECK(isnan(((const Heterolr__GradientReply *)c.resp)->loss));
    }
    free_call(&c);
    wait_log(&a, "epoch 0: loss not available (several hosts, as FATE)");
    /* the evaluation: the guest's call waits for the second host's scores */
    double scores[2][4] = {{0.5, -1.25, 2, 3}, {1, 1, -1, 0.25}};
    Heterolr__ScoresRequest sr = HETEROLR__SCORES_REQUEST__INIT;
    sr.n_scores = 4;
    Heterolr__Empty empty = HETEROLR__EMPTY__INIT;
    call hs;
    start_call(&hs, g, "HostScores", &empty.base, &heterolr__scores_request__descriptor);
    for (int k = 0; k < 2; k++) {
        sr.scores = scores[k];
        EXPECT(h[k], "Scores", sr, &heterolr__empty__descriptor, 0, "");
    }
    join_call(&hs);
    CHECK_INT(hs.code, 0);
    if (hs.resp) {
        const Heterolr__ScoresRequest *got = (const Heterolr__ScoresRequest *)hs.resp;
        CHECK_INT(got->n_scores, 4);
        for (size_t i = 0; i < got->n_scores && i < 4; i++)
            CHECK(got->scores[i] == scores[0][i] + scores[1][i]);
    }
    free_call(&hs);
    EXPECT(g, "Finish", empty, &heterolr__empty__descriptor, 0, "");
    for (int k = 0; k < 2; k++)
        EXPECT(h[k], "Finish", empty, &heterolr__empty__descriptor, 0, "");
    const ccz_fl_vlr_status *st = arbiter_stop(&a);
    CHECK_INT(st->code, 0);
    CHECK_INT(st->steps, 1);
    CHECK(isnan(st->loss[0]));
    for (int k = 0; k < 2; k++) {
        cts_free(&s[k]);
        ccz_rpc_channel_free(h[k]);
    }
    cts_free(&sq);
    cts_free(&res);
    cts_free(&l);
    cts_free(&grad);
    ccz_rpc_channel_free(g);
    arbiter_free(&a);
}

/* The arbiter's own options, refused at once (each by what to change) rather than by every party
 * after all joined: a plan the parties refuse is no plan. */
static void service_options(void)
{
    key_once();
    ccz_rpc_server *rpc = NULL;
    ccz_rpc_server_opts so = CCZ_RPC_SERVER_OPTS_INIT;
    CHECK_OK(ccz_rpc_server_new(&rpc, &so));
    ccz_fl_vlr_service *v = NULL;
    ccz_fl_vlr_service_opts o = CCZ_FL_VLR_SERVICE_OPTS_INIT;
    o.version = 0;
    CHECK_STATUS(ccz_fl_vlr_service_new(&v, rpc, &o), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "ccz_fl_vlr_service_opts: version 0, expected 1");
    static const struct {
        bool key;
        unsigned hosts, epochs;
        double alpha, learning_rate, momentum;
        const char *error;
    } bad[] = {
        {false, 1, 1, 0, 0, 0, "the arbiter needs its Paillier key"},
        {true, 0, 1, 0, 0, 0, "1 to 16 hosts, not 0"},
        {true, 17, 1, 0, 0, 0, "1 to 16 hosts, not 17"},
        {true, 1, 0, 0, 0, 0, "1 to 1024 epochs, not 0"},
        {true, 1, 1025, 0, 0, 0, "1 to 1024 epochs, not 1025"},
        {true, 1, 1, -1, 0, 0,
         "alpha and the learning rate are in [0, 1e6), the momentum below 1 (not -1, 0 and 0)"},
        {true, 1, 1, 1e6, 0, 0,
         "alpha and the learning rate are in [0, 1e6), the momentum below 1 (not 1e+06, 0 and 0)"},
        {true, 1, 1, NAN, 0, 0,
         "alpha and the learning rate are in [0, 1e6), the momentum below 1 (not nan, 0 and 0)"},
        {true, 1, 1, 0, -0.1, 0,
         "alpha and the learning rate are in [0, 1e6), the momentum below 1 (not 0, -0.1 and 0)"},
        {true, 1, 1, 0, 1e6, 0,
         "alpha and the learning rate are in [0, 1e6), the momentum below 1 (not 0, 1e+06 and 0)"},
        {true, 1, 1, 0, 0, 1,
         "alpha and the learning rate are in [0, 1e6), the momentum below 1 (not 0, 0 and 1)"},
        {true, 1, 1, 0, 0, NAN,
         "alpha and the learning rate are in [0, 1e6), the momentum below 1 (not 0, 0 and nan)"},
    };
    for (size_t i = 0; i < CCZ_ARRAY_LEN(bad); i++) {
        o = (ccz_fl_vlr_service_opts)CCZ_FL_VLR_SERVICE_OPTS_INIT;
        o.key = bad[i].key ? key : NULL;
        o.hosts = bad[i].hosts;
        o.epochs = bad[i].epochs;
        o.alpha = bad[i].alpha;
        o.learning_rate = bad[i].learning_rate;
        o.momentum = bad[i].momentum;
        CHECK_STATUS(ccz_fl_vlr_service_new(&v, rpc, &o), CCZ_ERR_INVALID_ARGUMENT);
        CHECK_STR(ccz_error_detail(), bad[i].error);
        CHECK(v == NULL);
    }
    /* the bounds beside them (a negative momentum: plain SGD) */
    o = (ccz_fl_vlr_service_opts)CCZ_FL_VLR_SERVICE_OPTS_INIT;
    o.key = key;
    o.hosts = 16;
    o.epochs = 1024;
    o.alpha = o.learning_rate = 999999;
    o.momentum = -1;
    CHECK_OK(ccz_fl_vlr_service_new(&v, rpc, &o));
    ccz_fl_vlr_service_free(v);
    ccz_rpc_server_free(rpc);
}

TEST_MAIN(T(hostile_parties), T(too_few_in_common), T(party_never_joins), T(hosts_full),
          T(calls_after_failure), T(party_leaves), T(second_stream_before_all_joined),
          T(second_held_call), T(loss_of_some_batches), T(short_last_batch), T(failed_within_epoch),
          T(party_never_finishes), T(held_scores_told_when_done), T(guest_runs_ahead),
          T(finish_before_trained), T(finish_before_last_gradient), T(converges_early),
          T(two_hosts), T(service_options))
