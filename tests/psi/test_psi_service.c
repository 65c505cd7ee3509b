/* SPDX-License-Identifier: Apache-2.0 */
/* The TEE PSI service (src/svc/psi/service.c) on a plaintext loopback server, with ccz's own
 * party (ccz_psi_join) and raw psi.PSI calls: its options refused, sessions whose sets hold
 * duplicates, the per-session memory bound, the hostile calls docs/psi.md lists, each
 * answered with its exact code and message while the session goes on, and sessions that time
 * out waiting to connect or to upload. (tests/cli/test_psi_cli.sh
 * runs the same through the command and a stock gRPC client when python3-grpcio is there.) */
#include <semaphore.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ccz/ccz.h"
#include "ccz/psi.h"
#include "psi.pb-c.h"
#include "rpc_fixture.h"
#include "test.h"

typedef struct {
    ccz_rpc_server *srv;
    ccz_psi_service *svc;
    pthread_t thread;
    char target[64];
} psi_server;

static unsigned serve_timeout_ms; /* for the next serve (0: 10 s) */
static FILE *serve_log;           /* for the next serve (NULL: none) */
static size_t serve_max_message;  /* for the next serve (0: the server's default) */

static void serve(psi_server *ps, unsigned parties, size_t max_memory)
{
    ccz_rpc_server_opts so = CCZ_RPC_SERVER_OPTS_INIT;
    so.max_message = serve_max_message;
    CHECK_OK(ccz_rpc_server_new(&ps->srv, &so));
    ccz_psi_service_opts o = CCZ_PSI_SERVICE_OPTS_INIT;
    o.parties = parties;
    o.timeout_ms = serve_timeout_ms ? serve_timeout_ms : 10000;
    o.max_memory = max_memory;
    o.log = serve_log;
    CHECK_OK(ccz_psi_service_new(&ps->svc, ps->srv, &o));
    rpc_serve(ps->srv, &ps->thread, ps->target);
}

/* The service goes after the server has stopped and before the server is freed. */
static void serve_stop(psi_server *ps)
{
    rpc_serve_stop(ps->srv, ps->thread, 500);
    ccz_psi_service_free(ps->svc);
    ccz_rpc_server_free(ps->srv);
}

/* A new channel to the server (max_message 0: the channel's default). */
static ccz_rpc_channel *channel_to(const psi_server *ps, size_t max_message)
{
    ccz_rpc_channel *ch = NULL;
    ccz_rpc_channel_opts co = CCZ_RPC_CHANNEL_OPTS_INIT;
    if (max_message)
        co.max_message = max_message;
    CHECK_OK(ccz_rpc_channel_new(&ch, ps->target, &co));
    return ch;
}

static void test_options_refused(void)
{
    ccz_rpc_server *srv;
    ccz_rpc_server_opts so = CCZ_RPC_SERVER_OPTS_INIT;
    CHECK_OK(ccz_rpc_server_new(&srv, &so));
    ccz_psi_service *svc = NULL;
    ccz_psi_service_opts o = CCZ_PSI_SERVICE_OPTS_INIT;
    static const unsigned bad[] = {0, 1, CCZ_PSI_MAX_PARTIES + 1};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        o.parties = bad[i];
        CHECK_STATUS(ccz_psi_service_new(&svc, srv, &o), CCZ_ERR_INVALID_ARGUMENT);
        char want[64];
        snprintf(want, sizeof want, "a PSI session has 2 to 64 parties, not %u", bad[i]);
        CHECK_STR(ccz_error_detail(), want);
    }
    o.parties = 2;
    o.version = 2;
    CHECK_STATUS(ccz_psi_service_new(&svc, srv, &o), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "ccz_psi_service_opts: version 2, expected 1");
    CHECK_STATUS(ccz_psi_service_new(&svc, srv, NULL), CCZ_ERR_INVALID_ARGUMENT);
    o.version = CCZ_PSI_SERVICE_OPTS_VERSION;
    o.parties = CCZ_PSI_MAX_PARTIES; /* the most there may be */
    CHECK_OK(ccz_psi_service_new(&svc, srv, &o));
    ccz_psi_service_free(svc);
    ccz_rpc_server_free(srv);
}

/* ---- parties that run ccz_psi_join in threads ----------------------------------------------*/

typedef struct {
    const char *target, *name;
    const char *const *items;
    size_t n, chunk;
    ccz_status st;
    ccz_psi_join_result out;
    char got[256]; /* the intersection, one item a line */
    bool chief;    /* is_chief */
} joiner;

static void on_item(ccz_span item, void *payload)
{
    joiner *j = payload;
    size_t at = strlen(j->got);
    snprintf(j->got + at, sizeof j->got - at, "%.*s\n", (int)item.len, (const char *)item.ptr);
}

static void *join_thread(void *arg)
{
    joiner *j = arg;
    ccz_rpc_channel *ch = NULL;
    ccz_rpc_channel_opts co = CCZ_RPC_CHANNEL_OPTS_INIT;
    j->st = ccz_rpc_channel_new(&ch, j->target, &co);
    ccz_span spans[2048];
    for (size_t i = 0; i < j->n && i < 2048; i++)
        spans[i] = CCZ_SPAN(j->items[i], strlen(j->items[i]));
    ccz_psi_join_opts o = CCZ_PSI_JOIN_OPTS_INIT;
    o.name = j->name;
    o.chief = j->chief;
    o.deadline_ms = 10000;
    o.chunk_bytes = j->chunk;
    o.on_item = on_item;
    o.payload = j;
    if (j->st == CCZ_OK)
        j->st = ccz_psi_join(ch, &o, spans, j->n, &j->out);
    ccz_rpc_channel_free(ch);
    return NULL;
}

static void run_parties(joiner *js, size_t n)
{
    pthread_t t[8];
    for (size_t i = 0; i < n; i++)
        test_thread(&t[i], join_thread, &js[i]);
    for (size_t i = 0; i < n; i++)
        pthread_join(t[i], NULL);
}

/* Duplicates inside a set count once, an item that is a prefix of another is another item,
 * and sets go up in several chunks: every party gets the same intersection, sorted. */
static void test_sessions(void)
{
    psi_server ps;
    serve(&ps, 3, 0);
    static const char *const a[] = {"pear", "fig", "fig", "kiwi", "figs", "kiwi", "plum"};
    static const char *const b[] = {"kiwi", "fig", "fig", "fig", "apple", "plum"};
    static const char *const c[] = {"plum", "kiwi", "fi", "fig", "kiwi"};
    joiner js[3] = {{ps.target, "alice", a, 7, 20, 0, {0}, "", false},
                    {ps.target, "bob", b, 6, 0, 0, {0}, "", false},
                    {ps.target, "carol", c, 5, 13, 0, {0}, "", false}};
    run_parties(js, 3);
    for (int i = 0; i < 3; i++) {
        CHECK_OK(js[i].st);
        CHECK_INT(js[i].out.code, 0);
        CHECK_STR(js[i].got, "fig\nkiwi\nplum\n");
        CHECK_INT(js[i].out.n_items, 3);
    }
    /* the next session on the same server: disjoint sets */
    static const char *const d[] = {"x", "x"}, *const e[] = {"y"}, *const f[] = {"x", "y"};
    joiner ks[3] = {{ps.target, "dave", d, 2, 0, 0, {0}, "", false},
                    {ps.target, "erin", e, 1, 0, 0, {0}, "", true},
                    {ps.target, "frank", f, 2, 0, 0, {0}, "", false}};
    run_parties(ks, 3);
    for (int i = 0; i < 3; i++) {
        CHECK_OK(ks[i].st);
        CHECK_INT(ks[i].out.code, 0);
        CHECK_STR(ks[i].got, "");
        CHECK_INT(ks[i].out.n_items, 0);
        /* erin alone joined as the chief: named so in every party's ccz-psi-parties */
        CHECK_CONTAINS(ks[i].out.parties, "erin (chief; not attested)");
        CHECK_CONTAINS(ks[i].out.parties, "dave (not attested)");
        CHECK_CONTAINS(ks[i].out.parties, "frank (not attested)");
    }
    /* an intersection of 100 items, streamed in one Results as its array grows */
    static char many[100][8];
    static const char *m[100];
    for (int i = 0; i < 100; i++) {
        snprintf(many[i], sizeof many[i], "i%03d", i);
        m[i] = many[i];
    }
    joiner ms[3] = {{ps.target, "gina", m, 100, 0, 0, {0}, "", false},
                    {ps.target, "hal", m, 100, 0, 0, {0}, "", false},
                    {ps.target, "ivy", m, 100, 0, 0, {0}, "", false}};
    run_parties(ms, 3);
    for (int i = 0; i < 3; i++) {
        CHECK_OK(ms[i].st);
        CHECK_INT(ms[i].out.code, 0);
        CHECK_INT(ms[i].out.n_items, 100);
        CHECK(!strncmp(ms[i].got, "i000\ni001\ni002\n", 15));
    }
    serve_stop(&ps);
}

/* A session past its memory bound ends: the party whose upload crossed it is told why, and so
 * is the other, whether it was waiting or comes later. */
static void memory_bound(size_t max_memory, const char *why)
{
    psi_server ps;
    serve(&ps, 2, max_memory);
    enum { N = 1500 };
    static char bufs[N][1001];
    static const char *big[N];
    for (int i = 0; i < N; i++) {
        memset(bufs[i], 'a' + i % 26, 1000);
        snprintf(bufs[i], sizeof bufs[i], "%04d", i);
        bufs[i][4] = '-';
        big[i] = bufs[i];
    }
    static const char *const small[] = {"0001-"};
    joiner js[2] = {{ps.target, "alice", big, N, 0, 0, {0}, "", false},
                    {ps.target, "bob", small, 1, 0, 0, {0}, "", false}};
    run_parties(js, 2);
    CHECK_OK(js[0].st);
    CHECK_INT(js[0].out.code, CCZ_RPC_RESOURCE_EXHAUSTED);
    CHECK_STR(js[0].out.method, "DataUpload");
    CHECK_STR(js[0].out.message, why);
    CHECK_OK(js[1].st);
    CHECK(js[1].out.code == CCZ_RPC_RESOURCE_EXHAUSTED ||
          js[1].out.code == CCZ_RPC_FAILED_PRECONDITION);
    CHECK_STR(js[1].out.message, why);
    CHECK_STR(js[1].got, "");
    serve_stop(&ps);
}

static void test_memory_bound(void)
{
    memory_bound(1u << 20,
                 "the sets of PSI session 1 need more than 1 MiB (ccz psi serve --max-memory)");
    /* a bound of the API's that is not whole MiB is named in bytes, not as "0 MiB" */
    memory_bound(300000, "the sets of PSI session 1 need more than 300000 bytes "
                         "(ccz_psi_service_opts.max_memory)");
}

/* ---- raw calls -----------------------------------------------------------------------------*/

typedef struct {
    ccz_rpc_channel *ch;
    const char *method;
    const ProtobufCMessage *req;
    const ProtobufCMessageDescriptor *desc;
    const ccz_rpc_metadata *md;
    int code;
    char message[512];
    char items[128]; /* CalPsi's result, one item a line */
} raw;

static void *raw_call(void *arg)
{
    raw *r = arg;
    char path[64];
    snprintf(path, sizeof path, "/psi.PSI/%s", r->method);
    ccz_rpc_call_opts co = {CCZ_RPC_CALL_OPTS_VERSION, 10000, r->md};
    ccz_rpc_status st;
    ProtobufCMessage *resp = NULL;
    r->code = -2;
    r->items[0] = 0;
    if (ccz_rpc_unary(r->ch, &resp, &st, path, r->req, r->desc, &co) != CCZ_OK)
        return NULL;
    r->code = st.code;
    snprintf(r->message, sizeof r->message, "%s", st.message);
    if (resp && r->desc == &psi__results__descriptor) {
        const Psi__Results *res = (const Psi__Results *)resp;
        for (size_t i = 0; i < res->n_data; i++) {
            size_t at = strlen(r->items);
            snprintf(r->items + at, sizeof r->items - at, "%.*s\n", (int)res->data[i].len,
                     (const char *)res->data[i].data);
        }
    }
    if (resp && r->desc == &psi__upload_reply__descriptor)
        snprintf(r->message, sizeof r->message, "%s", ((Psi__UploadReply *)resp)->message);
    if (resp && r->desc == &psi__connect_reply__descriptor)
        snprintf(r->message, sizeof r->message, "%s", ((Psi__ConnectReply *)resp)->message);
    if (resp)
        protobuf_c_message_free_unpacked(resp, NULL);
    ccz_rpc_status_free(&st);
    return NULL;
}

/* ra and rb at once: Connect and the last DataUpload return only when every party has made
 * theirs. */
static void raw_both(raw *ra, raw *rb)
{
    pthread_t t;
    test_thread(&t, raw_call, ra);
    raw_call(rb);
    pthread_join(t, NULL);
}

static raw connect_call(ccz_rpc_channel *ch, Psi__ConnectRequest *q, const char *name, int64_t num)
{
    *q = (Psi__ConnectRequest)PSI__CONNECT_REQUEST__INIT;
    q->client_name = (char *)name;
    q->client_num = num;
    return (raw){ch, "Connect", &q->base, &psi__connect_reply__descriptor, NULL, 0, "", ""};
}

static raw upload_call(ccz_rpc_channel *ch, Psi__DataUploadRequest *q, ProtobufCBinaryData *d,
                       const char *const *items, size_t n, const ccz_rpc_metadata *md)
{
    *q = (Psi__DataUploadRequest)PSI__DATA_UPLOAD_REQUEST__INIT;
    for (size_t i = 0; i < n; i++)
        d[i] = (ProtobufCBinaryData){strlen(items[i]), (uint8_t *)items[i]};
    q->n_input_data = n;
    q->input_data = d;
    return (raw){ch, "DataUpload", &q->base, &psi__upload_reply__descriptor, md, 0, "", ""};
}

static raw calpsi_call(ccz_rpc_channel *ch, Psi__CalPsiRequest *q, const char *name)
{
    *q = (Psi__CalPsiRequest)PSI__CAL_PSI_REQUEST__INIT;
    q->client_name = (char *)name;
    return (raw){ch, "CalPsi", &q->base, &psi__results__descriptor, NULL, 0, "", ""};
}

/* CalPsiStream: its status; the items of every Results, one a line, in items. */
typedef struct {
    int code;
    char message[512];
    char items[128];
    size_t n; /* items received */
} streamed;

static void on_stream_results(const ProtobufCMessage *resp, void *payload)
{
    streamed *sd = payload;
    const Psi__Results *res = (const Psi__Results *)resp;
    sd->n += res->n_data;
    for (size_t i = 0; i < res->n_data; i++) {
        size_t at = strlen(sd->items);
        snprintf(sd->items + at, sizeof sd->items - at, "%.*s\n", (int)res->data[i].len,
                 (const char *)res->data[i].data);
    }
}

static void on_stream_done(const ccz_rpc_status *st, void *payload)
{
    streamed *sd = payload;
    sd->code = st->code;
    snprintf(sd->message, sizeof sd->message, "%s", st->message);
}

/* n CalPsiStream calls at once on ch (their requests sent together), until all have ended. */
static void calpsi_streams(ccz_rpc_channel *ch, const char *name, streamed *sd, int n)
{
    Psi__CalPsiRequest q = PSI__CAL_PSI_REQUEST__INIT;
    q.client_name = (char *)name;
    ccz_rpc_call_opts co = {CCZ_RPC_CALL_OPTS_VERSION, 10000, NULL};
    for (int i = 0; i < n; i++) {
        sd[i] = (streamed){.code = -2};
        ccz_rpc_stream *st;
        CHECK_OK(ccz_rpc_start(ch, &st, "/psi.PSI/CalPsiStream", &q.base, &psi__results__descriptor,
                               &co, on_stream_results, on_stream_done, &sd[i]));
    }
    CHECK_OK(ccz_rpc_channel_run(ch));
}

static streamed calpsi_stream(ccz_rpc_channel *ch, const char *name)
{
    streamed sd;
    calpsi_streams(ch, name, &sd, 1);
    return sd;
}

#define EXPECT_CALL(r, want_code, want_message)                                                    \
    do {                                                                                           \
        raw_call(&(r));                                                                            \
        CHECK_INT((r).code, want_code);                                                            \
        CHECK_STR((r).message, want_message);                                                      \
    } while (0)

/* Each hostile call gets its status and leaves the session as it was: the session then ends
 * with the intersection of what was accepted. */
static void test_hostile_calls(void)
{
    psi_server ps;
    serve(&ps, 2, 0);
    ccz_rpc_channel *a = channel_to(&ps, 0), *b = channel_to(&ps, 0), *c = channel_to(&ps, 0);
    Psi__ConnectRequest cq, cq2;
    Psi__DataUploadRequest uq, uq2;
    Psi__CalPsiRequest pq;
    ProtobufCBinaryData d[4], d2[4];
    raw r;

    /* before joining */
    r = connect_call(c, &cq, "carol", 3);
    EXPECT_CALL(r, CCZ_RPC_INVALID_ARGUMENT,
                "client_num is 3, but this server runs sessions of 2 parties (ccz psi serve "
                "--parties)");
    r = connect_call(c, &cq, "ca\nrol", 0);
    EXPECT_CALL(r, CCZ_RPC_INVALID_ARGUMENT,
                "client_name must be 1 to 128 bytes of UTF-8 without control characters");
    r = connect_call(c, &cq, "", 0); /* no name at all */
    EXPECT_CALL(r, CCZ_RPC_INVALID_ARGUMENT,
                "client_name must be 1 to 128 bytes of UTF-8 without control characters");
    static const char *const one[] = {"x"};
    r = upload_call(c, &uq, d, one, 1, NULL);
    EXPECT_CALL(r, CCZ_RPC_FAILED_PRECONDITION,
                "this connection has not joined a PSI session: call Connect first");

    /* alice and bob join (each Connect returns when both have) */
    raw ra = connect_call(a, &cq, "alice", 2), rb = connect_call(b, &cq2, "bob", 0);
    raw_both(&ra, &rb);
    CHECK_INT(ra.code, 0);
    CHECK_INT(rb.code, 0);
    CHECK_STR(ra.message, "All clients connect successfully.");
    r = connect_call(c, &cq, "carol", 0);
    EXPECT_CALL(r, CCZ_RPC_UNAVAILABLE,
                "PSI session 1 of 2 parties is under way; connect again when it is over");

    /* uploads refused whole: an item too long, one not UTF-8 */
    char *longest = malloc(4098);
    memset(longest, 'x', 4097);
    longest[4097] = 0;
    const char *too_long[] = {"kiwi", longest};
    r = upload_call(a, &uq, d, too_long, 2, NULL);
    EXPECT_CALL(r, CCZ_RPC_INVALID_ARGUMENT,
                "item 1 of this upload is 4097 bytes; an item is at most 4096");
    static const char *const not_utf8[] = {"kiwi", "caf\xe9"};
    r = upload_call(a, &uq, d, not_utf8, 2, NULL);
    EXPECT_CALL(r, CCZ_RPC_INVALID_ARGUMENT, "item 1 of this upload is not UTF-8");
    r = calpsi_call(b, &pq, "bob");
    EXPECT_CALL(r, CCZ_RPC_FAILED_PRECONDITION,
                "PSI session 1 has no result yet: 0 of 2 parties have uploaded their sets (call "
                "CalPsi once DataUpload has returned)");

    /* alice in three chunks (the first two say more is coming; the last is empty), bob in one */
    ccz_rpc_metadata more = {0};
    CHECK_OK(ccz_rpc_md_add(&more, "ccz-psi-more", CCZ_SPAN("1", 1)));
    static const char *const a1[] = {"fig", "pear", "fig"}, *const a2[] = {"kiwi"};
    r = upload_call(a, &uq, d, a1, 3, &more);
    EXPECT_CALL(r, CCZ_RPC_OK, "received 3 items (3 so far)");
    r = upload_call(a, &uq, d, a2, 1, &more);
    EXPECT_CALL(r, CCZ_RPC_OK, "received 1 items (4 so far)");
    longest[4096] = 0; /* 4096 bytes: the longest item there may be */
    const char *b1[] = {"kiwi", longest, "fig", "plum"};
    ra = upload_call(a, &uq, d, a2, 0, NULL);
    rb = upload_call(b, &uq2, d2, b1, 4, NULL);
    raw_both(&ra, &rb);
    CHECK_INT(ra.code, 0);
    CHECK_INT(rb.code, 0);
    CHECK_STR(ra.message, "All data uploaded");
    CHECK_STR(rb.message, "All data uploaded");
    free(longest);
    ccz_rpc_md_free(&more);

    r = upload_call(a, &uq, d, a2, 1, NULL);
    EXPECT_CALL(r, CCZ_RPC_FAILED_PRECONDITION, "alice has uploaded its set already");
    r = calpsi_call(b, &pq, "alice");
    EXPECT_CALL(r, CCZ_RPC_PERMISSION_DENIED,
                "client_name alice is not this connection's party (bob)");
    r = calpsi_call(a, &pq, "alice");
    EXPECT_CALL(r, CCZ_RPC_OK, "");
    CHECK_STR(r.items, "fig\nkiwi\n");
    r = calpsi_call(b, &pq, "");
    EXPECT_CALL(r, CCZ_RPC_OK, "");
    CHECK_STR(r.items, "fig\nkiwi\n");
    /* the session is over, and it ended well: its parties are of no session now */
    r = upload_call(a, &uq, d, a2, 1, NULL);
    EXPECT_CALL(r, CCZ_RPC_FAILED_PRECONDITION,
                "this connection has not joined a PSI session: call Connect first");
    ccz_rpc_channel_free(a);
    ccz_rpc_channel_free(b);
    ccz_rpc_channel_free(c);
    serve_stop(&ps);
}

/* An intersection larger than one message (the server's max_message) is refused by CalPsi with
 * RESOURCE_EXHAUSTED naming CalPsiStream, and the party may still stream it; the session ends
 * once both parties have it. Each party uploads its items in pieces of `piece`. Under a
 * max_message of 512 KiB the stream's Results of 1 MiB are too large: they go in halves. */
static void result_over_message(size_t max_message, int piece)
{
    psi_server ps;
    serve_max_message = max_message;
    serve(&ps, 2, 0);
    serve_max_message = 0;
    ccz_rpc_channel *a = channel_to(&ps, 8u << 20), *b = channel_to(&ps, 8u << 20);
    enum { N = 2500 }; /* 2.5 MB of items */
    static char bufs[N][1001];
    static const char *items[N];
    for (int i = 0; i < N; i++) {
        snprintf(bufs[i], sizeof bufs[i], "%04d%0996d", i, 0);
        items[i] = bufs[i];
    }
    static ProtobufCBinaryData d[N], d2[N];
    Psi__ConnectRequest cq, cq2;
    Psi__DataUploadRequest uq, uq2;
    Psi__CalPsiRequest pq;
    raw ra = connect_call(a, &cq, "alice", 0), rb = connect_call(b, &cq2, "bob", 0), r;
    raw_both(&ra, &rb);
    CHECK_INT(ra.code, 0);
    CHECK_INT(rb.code, 0);
    ccz_rpc_metadata more = {0};
    CHECK_OK(ccz_rpc_md_add(&more, "ccz-psi-more", CCZ_SPAN("1", 1)));
    char want[64];
    int sent = 0;
    for (; sent + piece < N; sent += piece) {
        snprintf(want, sizeof want, "received %d items (%d so far)", piece, sent + piece);
        r = upload_call(a, &uq, d, items + sent, (size_t)piece, &more);
        EXPECT_CALL(r, CCZ_RPC_OK, want);
        r = upload_call(b, &uq, d, items + sent, (size_t)piece, &more);
        EXPECT_CALL(r, CCZ_RPC_OK, want);
    }
    ra = upload_call(a, &uq, d, items + sent, (size_t)(N - sent), NULL);
    rb = upload_call(b, &uq2, d2, items + sent, (size_t)(N - sent), NULL);
    raw_both(&ra, &rb);
    CHECK_INT(ra.code, 0);
    CHECK_INT(rb.code, 0);
    ccz_rpc_md_free(&more);
    ccz_rpc_channel *chs[2] = {a, b};
    const char *names[2] = {"alice", "bob"};
    for (int i = 0; i < 2; i++) {
        r = calpsi_call(chs[i], &pq, names[i]);
        raw_call(&r);
        CHECK_INT(r.code, CCZ_RPC_RESOURCE_EXHAUSTED);
        CHECK_CONTAINS(r.message, "the intersection (2500 items, ");
        CHECK_CONTAINS(r.message, "does not fit one message: call /psi.PSI/CalPsiStream");
        /* a second stream while the first is under way is refused; the first goes on */
        streamed sd[2];
        calpsi_streams(chs[i], names[i], sd, 2);
        CHECK_INT(sd[0].code, CCZ_RPC_OK);
        CHECK_INT(sd[0].n, N);
        CHECK_INT(sd[1].code, CCZ_RPC_FAILED_PRECONDITION);
        CHECK_STR(sd[1].message, "this party is receiving the result already");
        CHECK_INT(sd[1].n, 0);
    }
    /* both have it: the session is over */
    r = upload_call(a, &uq, d, items, 1, NULL);
    EXPECT_CALL(r, CCZ_RPC_FAILED_PRECONDITION,
                "this connection has not joined a PSI session: call Connect first");
    ccz_rpc_channel_free(a);
    ccz_rpc_channel_free(b);
    serve_stop(&ps);
}

static void test_result_over_message(void)
{
    result_over_message(2u << 20, 1250);
    result_over_message(512u << 10, 500);
}

/* A call started on a channel: its status, once done. */
typedef struct {
    sem_t done;
    int code;
    char message[512];
} async_call;

static void on_async_message(const ProtobufCMessage *resp, void *payload)
{
    (void)resp, (void)payload;
}

static void on_async_done(const ccz_rpc_status *st, void *payload)
{
    async_call *c = payload;
    c->code = st->code;
    snprintf(c->message, sizeof c->message, "%s", st->message);
    sem_post(&c->done);
}

typedef struct {
    async_call *wait_for;
    raw connect;
} late_joiner;

static void *join_late(void *arg)
{
    late_joiner *l = arg;
    sem_wait(&l->wait_for->done);
    raw_call(&l->connect);
    return NULL;
}

/* An upload from a party whose Connect is still held (the session waits for the others) is
 * refused, naming how many parties it waits for; the session then starts as usual. */
static void test_upload_before_session_starts(void)
{
    psi_server ps;
    serve(&ps, 2, 0);
    ccz_rpc_channel *a = channel_to(&ps, 0), *b = channel_to(&ps, 0);
    Psi__ConnectRequest cq = PSI__CONNECT_REQUEST__INIT, cq2;
    cq.client_name = "alice";
    Psi__DataUploadRequest uq = PSI__DATA_UPLOAD_REQUEST__INIT;
    async_call conn = {.code = -2}, up = {.code = -2};
    sem_init(&conn.done, 0, 0);
    sem_init(&up.done, 0, 0);
    ccz_rpc_call_opts o = {CCZ_RPC_CALL_OPTS_VERSION, 10000, NULL};
    ccz_rpc_stream *s1, *s2;
    CHECK_OK(ccz_rpc_start(a, &s1, "/psi.PSI/Connect", &cq.base, &psi__connect_reply__descriptor,
                           &o, on_async_message, on_async_done, &conn));
    CHECK_OK(ccz_rpc_start(a, &s2, "/psi.PSI/DataUpload", &uq.base, &psi__upload_reply__descriptor,
                           &o, on_async_message, on_async_done, &up));
    late_joiner bob = {&up, connect_call(b, &cq2, "bob", 0)}; /* once alice's upload is answered */
    pthread_t t;
    test_thread(&t, join_late, &bob);
    CHECK_OK(ccz_rpc_channel_run(a));
    pthread_join(t, NULL);
    CHECK_INT(up.code, CCZ_RPC_FAILED_PRECONDITION);
    CHECK_STR(up.message, "PSI session 1 is waiting for 1 of 2 parties to connect: upload once "
                          "Connect has returned");
    CHECK_INT(conn.code, CCZ_RPC_OK);
    CHECK_INT(bob.connect.code, CCZ_RPC_OK);
    sem_destroy(&conn.done);
    sem_destroy(&up.done);
    ccz_rpc_channel_free(a);
    ccz_rpc_channel_free(b);
    serve_stop(&ps);
}

/* Whether the log at path says needle within 10 s. */
static bool log_says(const char *path, const char *needle)
{
    for (int i = 0; i < 1000; i++) {
        char text[4096] = "";
        FILE *f = fopen(path, "r");
        if (f) {
            size_t n = fread(text, 1, sizeof text - 1, f);
            text[n] = 0;
            fclose(f);
        }
        if (strstr(text, needle))
            return true;
        usleep(10000);
    }
    return false;
}

/* Joining twice is refused, by the same connection or under a name taken, and so is a name
 * with DEL in it; "ccz-psi-more" other than "1" ends the upload; a party may fetch the result
 * again, by CalPsi or CalPsiStream, without ending the session for the others. */
static void test_hostile_joins(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s/psi.log", test_tmpdir());
    serve_log = fopen(path, "w");
    CHECK(serve_log != NULL);
    psi_server ps;
    serve(&ps, 2, 0);
    ccz_rpc_channel *a = channel_to(&ps, 0), *b = channel_to(&ps, 0);
    Psi__ConnectRequest cq, cq2;
    Psi__DataUploadRequest uq, uq2;
    Psi__CalPsiRequest pq;
    ProtobufCBinaryData d[2], d2[2];
    raw r;

    raw ra = connect_call(a, &cq, "alice", 0); /* held until bob joins */
    pthread_t t;
    test_thread(&t, raw_call, &ra);
    CHECK(log_says(path, "session 1: alice joined"));
    r = connect_call(b, &cq2, "alice", 0);
    EXPECT_CALL(r, CCZ_RPC_ALREADY_EXISTS, "a party named alice has joined PSI session 1 already");
    r = connect_call(b, &cq2, "b\x7fob", 0);
    EXPECT_CALL(r, CCZ_RPC_INVALID_ARGUMENT,
                "client_name must be 1 to 128 bytes of UTF-8 without control characters");
    r = connect_call(b, &cq2, "bob", 0);
    EXPECT_CALL(r, CCZ_RPC_OK, "All clients connect successfully.");
    pthread_join(t, NULL);
    CHECK_INT(ra.code, CCZ_RPC_OK);
    r = connect_call(a, &cq, "alice2", 0); /* a party of the session under way, not a newcomer */
    EXPECT_CALL(r, CCZ_RPC_ALREADY_EXISTS,
                "this connection joined PSI session 1 already, as alice");

    /* "11" is not "1": alice's set is whole with this chunk */
    ccz_rpc_metadata not_more = {0};
    CHECK_OK(ccz_rpc_md_add(&not_more, "ccz-psi-more", CCZ_SPAN("11", 2)));
    static const char *const sa[] = {"fig", "kiwi"}, *const sb[] = {"fig", "plum"};
    ra = upload_call(a, &uq, d, sa, 2, &not_more);
    raw rb = upload_call(b, &uq2, d2, sb, 2, NULL);
    raw_both(&ra, &rb);
    CHECK_INT(ra.code, CCZ_RPC_OK);
    CHECK_STR(ra.message, "All data uploaded");
    CHECK_INT(rb.code, CCZ_RPC_OK);
    CHECK_STR(rb.message, "All data uploaded");
    ccz_rpc_md_free(&not_more);

    /* alice fetches twice, then streams it twice (each stream from the start); bob still has
     * his */
    for (int i = 0; i < 2; i++) {
        r = calpsi_call(a, &pq, "alice");
        EXPECT_CALL(r, CCZ_RPC_OK, "");
        CHECK_STR(r.items, "fig\n");
    }
    for (int i = 0; i < 2; i++) {
        streamed sd = calpsi_stream(a, "alice");
        CHECK_INT(sd.code, CCZ_RPC_OK);
        CHECK_STR(sd.items, "fig\n");
    }
    r = calpsi_call(b, &pq, "bob");
    EXPECT_CALL(r, CCZ_RPC_OK, "");
    CHECK_STR(r.items, "fig\n");
    ccz_rpc_channel_free(a);
    ccz_rpc_channel_free(b);
    serve_stop(&ps);
    fclose(serve_log);
    serve_log = NULL;
}

/* A session that waits too long ends for everyone held with DEADLINE_EXCEEDED naming who it
 * waited for (to connect, then to upload), and each of its parties' next calls is refused with
 * why; a connection of no session is told to connect. */
static void test_timeouts(void)
{
    psi_server ps;
    serve_timeout_ms = 300;
    serve(&ps, 2, 0);
    serve_timeout_ms = 0;
    ccz_rpc_channel *a = channel_to(&ps, 0), *b = channel_to(&ps, 0), *c = channel_to(&ps, 0);
    Psi__ConnectRequest cq, cq2;
    Psi__DataUploadRequest uq;
    ProtobufCBinaryData d[1];
    static const char *const one[] = {"x"};
    const char *why = "PSI session 1 timed out after 0.3 s waiting for 1 of 2 parties to connect "
                      "(connected: alice)";
    raw r = connect_call(a, &cq, "alice", 0);
    EXPECT_CALL(r, CCZ_RPC_DEADLINE_EXCEEDED, why);
    r = upload_call(a, &uq, d, one, 1, NULL);
    EXPECT_CALL(r, CCZ_RPC_FAILED_PRECONDITION, why);
    r = upload_call(c, &uq, d, one, 1, NULL);
    EXPECT_CALL(r, CCZ_RPC_FAILED_PRECONDITION,
                "this connection has not joined a PSI session: call Connect first");

    /* session 2: both connect, alice uploads, bob does not */
    raw ra = connect_call(a, &cq, "alice", 0), rb = connect_call(b, &cq2, "bob", 0);
    raw_both(&ra, &rb);
    CHECK_INT(ra.code, 0);
    CHECK_INT(rb.code, 0);
    why = "PSI session 2 timed out after 0.3 s waiting for bob to upload";
    r = upload_call(a, &uq, d, one, 1, NULL);
    EXPECT_CALL(r, CCZ_RPC_DEADLINE_EXCEEDED, why);
    r = upload_call(b, &uq, d, one, 1, NULL);
    EXPECT_CALL(r, CCZ_RPC_FAILED_PRECONDITION, why);

    /* session 3: carol alone, timed out; alice, of session 2 only, is told to connect, not why
     * session 3 ended */
    r = connect_call(c, &cq, "carol", 0);
    EXPECT_CALL(r, CCZ_RPC_DEADLINE_EXCEEDED,
                "PSI session 3 timed out after 0.3 s waiting for 1 of 2 parties to connect "
                "(connected: carol)");
    r = upload_call(a, &uq, d, one, 1, NULL);
    EXPECT_CALL(r, CCZ_RPC_FAILED_PRECONDITION,
                "this connection has not joined a PSI session: call Connect first");
    ccz_rpc_channel_free(a);
    ccz_rpc_channel_free(b);
    ccz_rpc_channel_free(c);
    serve_stop(&ps);
}

TEST_MAIN(T(test_options_refused), T(test_sessions), T(test_memory_bound), T(test_hostile_calls),
          T(test_hostile_joins), T(test_result_over_message), T(test_upload_before_session_starts),
          T(test_timeouts))
