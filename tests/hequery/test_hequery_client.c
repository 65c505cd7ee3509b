/* SPDX-License-Identifier: Apache-2.0 */
/* The client of the encrypted lookup (ccz_heq_lookup, src/svc/hequery/client.c) against a server
 * the test plays: ccz.hequery.HeQuery on a plaintext gRPC server whose Query handler answers with
 * a real ccz_heq_server over a small database (so the client's decryption is checked against a
 * real answer, in the fast and the packed layout), or refuses, or answers bytes that are no
 * ciphertext. What the client sends is checked (the algorithm, sixteen key ciphertexts, its
 * keys); the server's times are reported as it gave them; a refusal is the call's code and
 * message with no value; an answer it cannot decrypt is an error and no value; a server that
 * never speaks is cut at the deadline. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ccz/ccz.h"
#include "ccz/hequery.h"
#include "he_query.pb-c.h"
#include "rpc_fixture.h"
#include "test.h"

typedef enum { ANSWER, REFUSE, JUNK } reply_kind;

typedef struct {
    ccz_heq_server *server;
    reply_kind reply;
    /* what the server saw */
    int calls;
    int algorithm;
    size_t n_key, params_len, public_key_len;
} script;

static ccz_span span_of(ProtobufCBinaryData b)
{
    return CCZ_SPAN(b.data, b.len);
}

static void on_query(ccz_rpc_call *call, const ProtobufCMessage *m, void *payload)
{
    script *s = payload;
    const Ccz__Hequery__QueryRequest *q = (const Ccz__Hequery__QueryRequest *)m;
    s->calls++;
    s->algorithm = q->algorithm;
    s->n_key = q->n_key;
    s->params_len = q->params.len;
    s->public_key_len = q->public_key.len;
    if (s->reply == REFUSE) {
        CHECK_OK(ccz_rpc_finish(call, CCZ_RPC_RESOURCE_EXHAUSTED, "4 queries pending"));
        return;
    }
    if (s->reply == JUNK) {
        Ccz__Hequery__QueryReply r = CCZ__HEQUERY__QUERY_REPLY__INIT;
        r.value = (ProtobufCBinaryData){4, (uint8_t *)"junk"};
        CHECK_OK(ccz_rpc_reply(call, &r.base));
        return;
    }
    ccz_span keys[CCZ_HEQ_KEY_CTS];
    for (size_t i = 0; i < q->n_key && i < CCZ_HEQ_KEY_CTS; i++)
        keys[i] = span_of(q->key[i]);
    ccz_heq_query_view v = {(ccz_heq_algorithm)q->algorithm,
                            span_of(q->params),
                            span_of(q->public_key),
                            span_of(q->relin_keys),
                            keys,
                            q->n_key,
                            NULL,
                            NULL};
    ccz_heq_answer a;
    ccz_status st = ccz_heq_server_answer(&a, s->server, &v);
    CHECK_OK(st);
    if (st != CCZ_OK) {
        CHECK_OK(ccz_rpc_finish(call, CCZ_RPC_INVALID_ARGUMENT, ccz_error_detail()));
        return;
    }
    Ccz__Hequery__QueryReply r = CCZ__HEQUERY__QUERY_REPLY__INIT;
    r.value = (ProtobufCBinaryData){a.value.len, a.value.ptr};
    r.block = a.block;
    r.chunks = a.chunks;
    r.load_seconds = 1.5;
    r.setup_seconds = 0.25;
    r.search_seconds = 2.5;
    CHECK_OK(ccz_rpc_reply(call, &r.base));
    ccz_buf_free(&a.value);
}

static ccz_status lookup(script *s, ccz_heq_lookup_result *out, ccz_heq_algorithm a,
                         const char *key)
{
    const ccz_rpc_handler handlers[] = {on_query};
    rpc_fake f;
    rpc_fake_start(&f, &ccz__hequery__he_query__descriptor, NULL, handlers, s, CCZ_HEQ_MAX_MESSAGE);
    ccz_heq_lookup_opts o = CCZ_HEQ_LOOKUP_OPTS_INIT;
    o.algorithm = a;
    o.deadline_ms = 60000;
    ccz_status st = ccz_heq_lookup(out, f.ch, &o, CCZ_SPAN(key, strlen(key)));
    rpc_fake_stop(&f);
    return st;
}

static ccz_heq_db *db;
static ccz_heq_server *server;

static void setup(void)
{
    static const char csv[] = "key,value\napple,red\nbanana,yellow\n";
    CHECK_OK(ccz_heq_db_parse(&db, CCZ_SPAN(csv, sizeof csv - 1)));
    ccz_heq_server_opts so = CCZ_HEQ_SERVER_OPTS_INIT;
    so.db = db;
    so.threads = 1;
    CHECK_OK(ccz_heq_server_new(&server, &so));
}

static void test_found(void)
{
    script s = {.server = server, .reply = ANSWER};
    ccz_heq_lookup_result r;
    CHECK_OK(lookup(&s, &r, CCZ_HEQ_FAST, "banana"));
    CHECK_INT(r.code, CCZ_RPC_OK);
    CHECK(r.value.len == 6 && memcmp(r.value.ptr, "yellow", 6) == 0);
    CHECK(r.noise_budget > 0);
    CHECK_INT(s.calls, 1);
    CHECK_INT(s.algorithm, CCZ_HEQ_FAST);
    CHECK_INT(s.n_key, CCZ_HEQ_KEY_CTS);
    CHECK(s.params_len > 0 && s.public_key_len > 0);
    /* the server's stages as it reported them; the message sizes both ways */
    CHECK(r.server_load_s == 1.5 && r.server_setup_s == 0.25 && r.server_search_s == 2.5);
    CHECK(r.sent > 7000000 && r.received > 1000 && r.received < r.sent);
    CHECK(r.keygen_s > 0 && r.encrypt_s > 0 && r.call_s > 0 && r.decrypt_s > 0);
    ccz_buf_free(&r.value);

    /* a key the database does not hold: found nothing, and no error */
    CHECK_OK(lookup(&s, &r, CCZ_HEQ_FAST, "cherry"));
    CHECK_INT(r.code, CCZ_RPC_OK);
    CHECK_INT(r.value.len, 0);
    ccz_buf_free(&r.value);

    /* the packed algorithm: its layout comes from the answer's block and chunks */
    s = (script){.server = server, .reply = ANSWER};
    CHECK_OK(lookup(&s, &r, CCZ_HEQ_PACKED, "apple"));
    CHECK_INT(s.algorithm, CCZ_HEQ_PACKED);
    CHECK_INT(r.code, CCZ_RPC_OK);
    CHECK(r.value.len == 3 && memcmp(r.value.ptr, "red", 3) == 0);
    ccz_buf_free(&r.value);
}

static void test_refused(void)
{
    script s = {.server = server, .reply = REFUSE};
    ccz_heq_lookup_result r;
    CHECK_OK(lookup(&s, &r, CCZ_HEQ_FAST, "apple"));
    CHECK_INT(r.code, CCZ_RPC_RESOURCE_EXHAUSTED);
    CHECK_STR(r.message, "4 queries pending");
    CHECK_INT(r.value.len, 0);
    CHECK(r.value.ptr == NULL);
}

static void test_undecryptable(void)
{
    script s = {.server = server, .reply = JUNK};
    ccz_heq_lookup_result r;
    ccz_status st = lookup(&s, &r, CCZ_HEQ_FAST, "apple");
    CHECK(st != CCZ_OK);
    CHECK(ccz_status_class(st) == CCZ_CLASS_INPUT);
    CHECK_INT(r.code, CCZ_RPC_OK);
    CHECK(r.value.ptr == NULL && r.value.len == 0);
}

/* a lookup the client cannot make is refused before a call: an algorithm that is none, an empty
 * key, options of another version (no call made: no gRPC code, no value, the server never asked) */
static void test_not_sent(void)
{
    script s = {.server = server, .reply = ANSWER};
    ccz_heq_lookup_result r;
    CHECK_STATUS(lookup(&s, &r, (ccz_heq_algorithm)(CCZ_HEQ_PACKED + 1), "apple"),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "unknown algorithm 4");
    CHECK_INT(r.code, -1);
    CHECK(r.value.ptr == NULL && r.value.len == 0);
    CHECK_STATUS(lookup(&s, &r, CCZ_HEQ_FAST, ""), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "the key is empty");
    CHECK_INT(r.code, -1);
    /* options of another version than this header's (0, or a later one's) */
    const ccz_rpc_handler handlers[] = {on_query};
    rpc_fake f;
    rpc_fake_start(&f, &ccz__hequery__he_query__descriptor, NULL, handlers, &s,
                   CCZ_HEQ_MAX_MESSAGE);
    ccz_heq_lookup_opts o = CCZ_HEQ_LOOKUP_OPTS_INIT;
    o.version = 0;
    CHECK_STATUS(ccz_heq_lookup(&r, f.ch, &o, CCZ_LIT("apple")), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "ccz_heq_lookup_opts: version 0, expected 1");
    CHECK_INT(r.code, -1);
    o.version = CCZ_HEQ_LOOKUP_OPTS_VERSION + 1;
    CHECK_STATUS(ccz_heq_lookup(&r, f.ch, &o, CCZ_LIT("apple")), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "ccz_heq_lookup_opts: version 2, expected 1");
    CHECK(r.value.ptr == NULL && r.value.len == 0);
    rpc_fake_stop(&f);
    CHECK(r.value.ptr == NULL && r.value.len == 0);
    CHECK_INT(s.calls, 0);
}

/* a server that accepts and never speaks: the lookup ends at its deadline */
static void test_deadline(void)
{
    char target[64];
    int l = silent_listener(target);
    ccz_rpc_channel *ch;
    ccz_rpc_channel_opts co = CCZ_RPC_CHANNEL_OPTS_INIT;
    co.max_message = CCZ_HEQ_MAX_MESSAGE;
    CHECK_OK(ccz_rpc_channel_new(&ch, target, &co));
    ccz_heq_lookup_opts o = CCZ_HEQ_LOOKUP_OPTS_INIT;
    o.deadline_ms = 300;
    ccz_heq_lookup_result r;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ccz_status st = ccz_heq_lookup(&r, ch, &o, CCZ_LIT("apple"));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    CHECK_OK(st); /* the call was made: its code says how it ended */
    CHECK_INT(r.code, CCZ_RPC_DEADLINE_EXCEEDED);
    CHECK_CONTAINS(r.message, "no HTTP/2 SETTINGS from the server in time");
    CHECK(r.value.ptr == NULL);
    /* the keys and the query take their time first; the call itself is cut at 300 ms */
    CHECK(r.call_s >= 0.29 && r.call_s < 1.5);
    CHECK(ms < 10000);
    ccz_rpc_channel_free(ch);
    close(l);
}

static void teardown(void)
{
    ccz_heq_server_free(server);
    ccz_heq_db_free(db);
}

static void test_all(void)
{
    setup();
    test_found();
    test_refused();
    test_undecryptable();
    test_not_sent();
    test_deadline();
    teardown();
}

TEST_MAIN(T(test_all))
