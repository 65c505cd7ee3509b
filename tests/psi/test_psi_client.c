/* SPDX-License-Identifier: Apache-2.0 */
/* A party's side of the TEE PSI service (ccz_psi_join, src/svc/psi/client.c) against a server
 * played by the test: the psi.PSI methods on a plaintext gRPC server whose answers each case
 * scripts. The party must make the four calls in order with its name, role and party count,
 * upload its set whole in chunks of the size asked (every chunk but the last marked
 * ccz-psi-more), stop at the first call that fails and report which, and take the
 * intersection from the stream as the server sends it: any order, duplicates, spread over
 * messages. It hands on each item once, sorted bytewise, only when the session ended OK, and
 * refuses an item too long for the protocol. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccz/ccz.h"
#include "ccz/psi.h"
#include "psi.pb-c.h"
#include "rpc_fixture.h"
#include "test.h"

/* ---- the scripted server ------------------------------------------------------------------ */

typedef struct {
    /* the script */
    int ra_code, connect_code, upload_code; /* a code ends that call (upload: the second) */
    const char *const *results[4];          /* the stream's messages, NULL-ended lists */
    size_t long_item;                       /* > 0: one more message with an item this long */
    int stream_code;
    /* what the server saw */
    char ra_name[64], connect_name[64], cal_name[64];
    bool connect_chief, cal_chief;
    int64_t client_num;
    int calls[5];      /* per method, in psi.proto's order */
    size_t chunks[16]; /* items per DataUpload */
    bool more[16];     /* whether it carried ccz-psi-more */
    char set[256];     /* the items uploaded, each followed by '\n' */
} script;

static void on_ra(ccz_rpc_call *call, const ProtobufCMessage *m, void *payload)
{
    script *s = payload;
    s->calls[0]++;
    snprintf(s->ra_name, sizeof s->ra_name, "%s", ((const Psi__RARequest *)m)->name);
    if (s->ra_code) {
        CHECK_OK(ccz_rpc_finish(call, s->ra_code, "the enclave is not trusted"));
        return;
    }
    Psi__RAReply r = PSI__RAREPLY__INIT;
    r.message = "attested by the test";
    CHECK_OK(ccz_rpc_reply(call, &r.base));
}

static void on_connect(ccz_rpc_call *call, const ProtobufCMessage *m, void *payload)
{
    script *s = payload;
    const Psi__ConnectRequest *q = (const Psi__ConnectRequest *)m;
    s->calls[1]++;
    snprintf(s->connect_name, sizeof s->connect_name, "%s", q->client_name);
    s->connect_chief = q->is_chief;
    s->client_num = q->client_num;
    if (s->connect_code) {
        CHECK_OK(ccz_rpc_finish(call, s->connect_code, "the session is full"));
        return;
    }
    Psi__ConnectReply r = PSI__CONNECT_REPLY__INIT;
    r.message = "connected";
    CHECK_OK(ccz_rpc_reply(call, &r.base));
}

static void on_upload(ccz_rpc_call *call, const ProtobufCMessage *m, void *payload)
{
    script *s = payload;
    const Psi__DataUploadRequest *q = (const Psi__DataUploadRequest *)m;
    int k = s->calls[2]++;
    if (k < 16) {
        s->chunks[k] = q->n_input_data;
        s->more[k] = ccz_rpc_md_get(ccz_rpc_call_metadata(call), "ccz-psi-more") != NULL;
    }
    for (size_t i = 0; i < q->n_input_data; i++) {
        test_appendf(s->set, sizeof s->set, "%.*s\n", (int)q->input_data[i].len,
                     (const char *)q->input_data[i].data);
    }
    if (s->upload_code && k == 1) {
        CHECK_OK(ccz_rpc_finish(call, s->upload_code, "out of room"));
        return;
    }
    Psi__UploadReply r = PSI__UPLOAD_REPLY__INIT;
    r.message = "uploaded";
    CHECK_OK(ccz_rpc_reply(call, &r.base));
}

static void on_stream(ccz_rpc_call *call, const ProtobufCMessage *m, void *payload)
{
    script *s = payload;
    const Psi__CalPsiRequest *q = (const Psi__CalPsiRequest *)m;
    s->calls[4]++;
    snprintf(s->cal_name, sizeof s->cal_name, "%s", q->client_name);
    s->cal_chief = q->is_chief;
    for (int i = 0; i < 4 && s->results[i]; i++) {
        ProtobufCBinaryData d[8];
        Psi__Results r = PSI__RESULTS__INIT;
        for (; s->results[i][r.n_data]; r.n_data++)
            d[r.n_data] = (ProtobufCBinaryData){strlen(s->results[i][r.n_data]),
                                                (uint8_t *)s->results[i][r.n_data]};
        r.data = d;
        CHECK_OK(ccz_rpc_send(call, &r.base));
    }
    if (s->long_item) {
        uint8_t *big = calloc(1, s->long_item);
        ProtobufCBinaryData d = {s->long_item, big};
        Psi__Results r = PSI__RESULTS__INIT;
        r.n_data = 1;
        r.data = &d;
        CHECK_OK(ccz_rpc_send(call, &r.base));
        free(big);
    }
    CHECK_OK(ccz_rpc_call_add_trailer(call, "ccz-psi-parties", CCZ_SPAN("alice,bob", 9)));
    CHECK_OK(ccz_rpc_finish(call, s->stream_code, s->stream_code ? "bob never came" : NULL));
}

/* What the party handed on. */
typedef struct {
    char items[256];
    char progress[128];
} seen;

static void on_item(ccz_span item, void *payload)
{
    seen *w = payload;
    test_appendf(w->items, sizeof w->items, "%.*s\n", (int)item.len, (const char *)item.ptr);
}

static void on_progress(uint64_t done, uint64_t total, void *payload)
{
    seen *w = payload;
    test_appendf(w->progress, sizeof w->progress, "%llu/%llu ", (unsigned long long)done,
                 (unsigned long long)total);
}

/* Serves s, joins as alice (chief, 2 parties, chunks of chunk bytes) with items, stops. */
static unsigned join_version = CCZ_PSI_JOIN_OPTS_VERSION; /* a test sets another */

static ccz_status join(script *s, const char *const *items, size_t n, size_t chunk,
                       ccz_psi_join_result *out, seen *w)
{
    const ccz_rpc_handler handlers[] = {on_ra, on_connect, on_upload, NULL, on_stream};
    const ccz_rpc_kind kinds[] = {CCZ_RPC_UNARY, CCZ_RPC_UNARY, CCZ_RPC_UNARY, CCZ_RPC_UNARY,
                                  CCZ_RPC_SERVER_STREAMING};
    rpc_fake f;
    rpc_fake_start(&f, &psi__psi__descriptor, kinds, handlers, s, 0);
    ccz_psi_join_opts o = CCZ_PSI_JOIN_OPTS_INIT;
    o.name = "alice";
    o.chief = true;
    o.parties = 2;
    o.deadline_ms = 5000;
    o.chunk_bytes = chunk;
    o.progress = on_progress;
    o.on_item = on_item;
    o.payload = w;
    o.version = join_version;
    ccz_span spans[16];
    for (size_t i = 0; i < n; i++)
        spans[i] = CCZ_SPAN(items[i], strlen(items[i]));
    memset(w, 0, sizeof *w);
    ccz_status st = ccz_psi_join(f.ch, &o, spans, n, out);
    rpc_fake_stop(&f);
    return st;
}

/* ---- the cases --------------------------------------------------------------------------- */

static const char *const mine[] = {"pear", "fig", "figs", "fig", "kiwi"};

static void test_a_session(void)
{
    /* the intersection out of order, with duplicates within and across messages, and an item
     * that is a prefix of another */
    static const char *const r0[] = {"pear", "fig", "pear", NULL};
    static const char *const r1[] = {"figs", "fig", NULL};
    script s = {.results = {r0, r1}};
    ccz_psi_join_result out;
    seen w;
    /* chunks of 30 bytes: an item costs its length + 8, so pear+fig, apple+fig, kiwi */
    CHECK_OK(join(&s, mine, 5, 30, &out, &w));
    CHECK_INT(out.code, 0);
    CHECK_STR(w.items, "fig\nfigs\npear\n");
    CHECK_INT(out.n_items, 3);
    CHECK_STR(out.parties, "alice,bob");
    CHECK_STR(out.server_reply, "attested by the test");
    CHECK_STR(s.ra_name, "alice");
    CHECK_STR(s.connect_name, "alice");
    CHECK_STR(s.cal_name, "alice");
    CHECK(s.connect_chief && s.cal_chief);
    CHECK_INT(s.client_num, 2);
    CHECK_INT(s.calls[2], 3);
    CHECK(s.chunks[0] == 2 && s.chunks[1] == 2 && s.chunks[2] == 1);
    CHECK(s.more[0] && s.more[1] && !s.more[2]);
    CHECK_STR(s.set, "pear\nfig\nfigs\nfig\nkiwi\n");
    CHECK_STR(w.progress, "2/5 4/5 5/5 ");
    /* an empty set is one upload, the last */
    memset(&s, 0, sizeof s);
    CHECK_OK(join(&s, NULL, 0, 0, &out, &w));
    CHECK_INT(s.calls[2], 1);
    CHECK(!s.more[0]);
    CHECK_INT(out.n_items, 0);
    /* an item of 4096 bytes goes; one of 4097 is refused before any call */
    char *item = malloc(4098);
    memset(item, 'x', 4097);
    item[4096] = 0;
    const char *one[] = {item};
    memset(&s, 0, sizeof s);
    CHECK_OK(join(&s, one, 1, 0, &out, &w));
    CHECK_INT(s.calls[2], 1);
    item[4096] = 'x';
    item[4097] = 0;
    memset(&s, 0, sizeof s);
    CHECK_STATUS(join(&s, one, 1, 0, &out, &w), CCZ_ERR_TOO_LARGE);
    CHECK_CONTAINS(ccz_error_detail(), "item 1 is 4097 bytes; a PSI item is at most 4096");
    CHECK_INT(s.calls[0], 0);
    free(item);
}

/* The first call that fails ends the session: its code, message and name; no later call. */
static void test_a_call_fails(void)
{
    ccz_psi_join_result out;
    seen w;
    script s = {.ra_code = CCZ_RPC_UNAVAILABLE};
    CHECK_OK(join(&s, mine, 5, 0, &out, &w));
    CHECK_INT(out.code, CCZ_RPC_UNAVAILABLE);
    CHECK_STR(out.method, "RemoteAttestation");
    CHECK_STR(out.message, "the enclave is not trusted");
    CHECK_INT(s.calls[1], 0);

    s = (script){.connect_code = CCZ_RPC_FAILED_PRECONDITION};
    CHECK_OK(join(&s, mine, 5, 0, &out, &w));
    CHECK_INT(out.code, CCZ_RPC_FAILED_PRECONDITION);
    CHECK_STR(out.method, "Connect");
    CHECK_STR(out.message, "the session is full");
    CHECK_INT(s.calls[2], 0);

    s = (script){.upload_code = CCZ_RPC_RESOURCE_EXHAUSTED};
    CHECK_OK(join(&s, mine, 5, 30, &out, &w));
    CHECK_INT(out.code, CCZ_RPC_RESOURCE_EXHAUSTED);
    CHECK_STR(out.method, "DataUpload");
    CHECK_INT(s.calls[2], 2);
    CHECK_INT(s.calls[4], 0);
    CHECK_STR(w.progress, "2/5 ");

    /* a stream that ends in an error: what it sent before is not the intersection */
    static const char *const r0[] = {"fig", NULL};
    s = (script){.results = {r0}, .stream_code = CCZ_RPC_DEADLINE_EXCEEDED};
    CHECK_OK(join(&s, mine, 5, 0, &out, &w));
    CHECK_INT(out.code, CCZ_RPC_DEADLINE_EXCEEDED);
    CHECK_STR(out.method, "CalPsiStream");
    CHECK_STR(out.message, "bob never came");
    CHECK_INT(out.n_items, 0);
    CHECK_STR(w.items, "");
}

/* Options of another version than this header's are refused before anything is asked. */
static void test_other_version(void)
{
    for (unsigned v = 0; v <= CCZ_PSI_JOIN_OPTS_VERSION + 1; v += 2) {
        static const char *const r0[] = {"fig", NULL};
        script s = {.results = {r0}};
        ccz_psi_join_result out;
        seen w;
        join_version = v;
        CHECK_STATUS(join(&s, mine, 5, 0, &out, &w), CCZ_ERR_INVALID_ARGUMENT);
        CHECK_STR(ccz_error_detail(), v ? "ccz_psi_join: version 2 (expected 1) and a name"
                                        : "ccz_psi_join: version 0 (expected 1) and a name");
        CHECK_STR(w.items, "");
    }
    join_version = CCZ_PSI_JOIN_OPTS_VERSION;
}

/* An item the protocol cannot carry (over 65535 bytes) from the server is refused. */
static void test_an_item_too_long(void)
{
    ccz_psi_join_result out;
    seen w;
    static const char *const r0[] = {"fig", NULL};
    script s = {.results = {r0}, .long_item = 70000};
    CHECK_STATUS(join(&s, mine, 5, 0, &out, &w), CCZ_ERR_PROTOCOL);
    CHECK_CONTAINS(ccz_error_detail(), "the server sent an item of 70000 bytes");
    CHECK_STR(w.items, "");
    /* the bound is the 2-byte length the items are kept with (65536 bytes are refused as
     * such); below it, an item is refused when this party did not send it */
    s = (script){.results = {r0}, .long_item = 65536};
    CHECK_STATUS(join(&s, mine, 5, 0, &out, &w), CCZ_ERR_PROTOCOL);
    CHECK_CONTAINS(ccz_error_detail(), "the server sent an item of 65536 bytes");
    s = (script){.results = {r0}, .long_item = 65535};
    CHECK_STATUS(join(&s, mine, 5, 0, &out, &w), CCZ_ERR_PROTOCOL);
    CHECK_CONTAINS(ccz_error_detail(),
                   "the server's result holds an item this party did not send (65535 bytes, "
                   "after 1 of this party's)");
    CHECK_STR(w.items, "");
}

/* A server that streams one of the party's items over and over: what the party keeps is its
 * own set's worth (the repeats are dropped), and the item is handed on once. */
static void test_repeats_dropped(void)
{
    static const char *const fig[] = {"fig", "fig", "fig", "fig", "fig", "fig", "fig", NULL};
    script s = {.results = {fig, fig, fig, fig}};
    ccz_psi_join_result out;
    seen w;
    CHECK_OK(join(&s, mine, 5, 0, &out, &w));
    CHECK_INT(out.n_items, 1);
    CHECK_STR(w.items, "fig\n");
    /* and an item that is not the party's, among its own */
    static const char *const stray[] = {"pear", "apple", NULL};
    s = (script){.results = {stray}};
    CHECK_STATUS(join(&s, mine, 5, 0, &out, &w), CCZ_ERR_PROTOCOL);
    CHECK_CONTAINS(ccz_error_detail(),
                   "the server's result holds an item this party did not send (5 bytes, after 1 "
                   "of this party's)");
    CHECK_STR(w.items, "");
}

TEST_MAIN(T(test_a_session), T(test_a_call_fails), T(test_an_item_too_long),
          T(test_repeats_dropped), T(test_other_version))
