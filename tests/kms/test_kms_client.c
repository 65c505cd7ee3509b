/* SPDX-License-Identifier: Apache-2.0 */
/* The KMS client (src/svc/kms/client.c) against a KMS played by the test: a TLS server on
 * loopback whose answer each case scripts byte by byte. The client must send eHSM's request (the
 * action in the target, the signed envelope, the admin token for Enroll), check the server's
 * certificate against the CA file and the address it dialled, keep to its deadline, and read the
 * answer strictly: the status line, the end of the head, Content-Length (shorter bodies are cut
 * to it, longer ones refused as truncated), the 1 MiB bound and eHSM's {code, message, result}. */
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <time.h>

#include "svc/kms/internal.h"
#include "svc/kms/kms.h"
#include "sim_side.h"
#include "test.h"
#include "tls_fake.h"

static const char appid[] = "0d5fb6c9-0f2c-4ce5-9e5a-4f3e2cb0e6a1";
static const char apikey[] = "44RPFy3SEqLbAahaP9PXSGQ6ABB6gctr";

/* ---- the scripted KMS ------------------------------------------------------------------------
 * Its certificate is tls_fake's: from the CA file, for 127.0.0.1 by its IP SAN only. */

typedef struct {
    tls_fake tls;
    char url[80];
} fake_kms;

static void fake_start(fake_kms *f)
{
    f->tls.request_whole = tls_fake_http_whole;
    tls_fake_start(&f->tls);
    snprintf(f->url, sizeof f->url, "https://%s/ehsm", f->tls.addr);
}

static void fake_stop(fake_kms *f)
{
    tls_fake_stop(&f->tls);
}

static ccz_kms_opts opts_for(const fake_kms *f)
{
    ccz_kms_opts o = CCZ_KMS_OPTS_INIT;
    o.url = f->url;
    o.ca_file = tls_certs_get()->ca_file;
    o.timeout_ms = 5000;
    return o;
}

/* One ListKey call (payload {"page_num": 1}) to a KMS that answers `answer` in mode. */
static ccz_status call_with(fake_kms *f, json_t **resp)
{
    fake_start(f);
    ccz_kms_opts o = opts_for(f);
    json_t *payload = json_pack("{s:i}", "page_num", 1);
    ccz_json *r = NULL;
    ccz_status s = ccz_kms_call(&r, &o, appid, apikey, "ListKey", payload);
    if (s)
        CHECK(r == NULL);
    json_decref(payload);
    fake_stop(f);
    if (resp)
        *resp = r;
    else
        ccz_json_free(r);
    return s;
}

static ccz_status call_answer(const char *answer, json_t **resp)
{
    fake_kms f = {.tls = {.mode = TLS_FAKE_ANSWER, .answer = answer}};
    return call_with(&f, resp);
}

#define OK_BODY "{\"code\":200,\"message\":\"success!\",\"result\":{\"keyid\":\"k-1\"}}"

/* ---- requests -------------------------------------------------------------------------------- */

/* The request is eHSM's: POST /ehsm?Action=ListKey, JSON, an envelope signed over the canonical
 * string with the API key (recomputed here from what arrived), and the answer handed back whole. */
static void test_call_request_and_answer(void)
{
    fake_kms f = {.tls.mode = TLS_FAKE_ANSWER,
                  .tls.answer = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                "Content-Length: 58\r\n\r\n" OK_BODY};
    json_t *resp = NULL;
    CHECK_OK(call_with(&f, &resp));
    CHECK_INT(json_integer_value(json_object_get(resp, "code")), 200);
    CHECK_STR(json_string_value(json_object_get(json_object_get(resp, "result"), "keyid")), "k-1");
    json_decref(resp);

    CHECK(strncmp(f.tls.request, "POST /ehsm?Action=ListKey HTTP/1.1\r\n", 36) == 0);
    char host[80];
    snprintf(host, sizeof host, "\r\nHost: %.*s\r\n", (int)(strlen(f.url) - 13), f.url + 8);
    CHECK_CONTAINS(f.tls.request, host);
    CHECK_CONTAINS(f.tls.request, "\r\nContent-Type: application/json\r\n");
    const char *body = strstr(f.tls.request, "\r\n\r\n");
    CHECK(body != NULL);
    json_t *env = body ? json_loads(body + 4, 0, NULL) : NULL;
    CHECK(env != NULL);
    const char *ts = json_string_value(json_object_get(env, "timestamp"));
    const char *nonce = json_string_value(json_object_get(env, "nonce"));
    const char *sign = json_string_value(json_object_get(env, "sign"));
    CHECK_STR(json_string_value(json_object_get(env, "appid")), appid);
    CHECK(ts && strlen(ts) == 13 && strspn(ts, "0123456789") == 13);
    CHECK(nonce && strlen(nonce) == 32 && strspn(nonce, "0123456789abcdef") == 32);
    json_t *payload = json_object_get(env, "payload");
    CHECK_INT(json_integer_value(json_object_get(payload, "page_num")), 1);
    char want[KMS_SIGN_LEN + 1] = "";
    if (ts && nonce)
        CHECK_OK(
            kms_request_sign(want, CCZ_SPAN(apikey, strlen(apikey)), appid, nonce, ts, payload));
    CHECK_STR(sign, want);
    json_decref(env);
}

/* Enroll: GET with the admin token; the app's id and key come back exactly; a refusal carries
 * the KMS's message; an answer without a 36-character id and a 32-character key is refused. */
static void test_enroll(void)
{
    fake_kms f = {.tls.mode = TLS_FAKE_ANSWER,
                  .tls.answer = "HTTP/1.1 200 OK\r\nContent-Length: 135\r\n\r\n"
                                "{\"code\":200,\"message\":\"success!\",\"result\":{\"appid\":"
                                "\"0d5fb6c9-0f2c-4ce5-9e5a-4f3e2cb0e6a1\",\"apikey\":"
                                "\"44RPFy3SEqLbAahaP9PXSGQ6ABB6gctr\"}}"};
    fake_start(&f);
    ccz_kms_opts o = opts_for(&f);
    o.admin_token = "tok-123";
    char id[37] = "", key[33] = "";
    CHECK_OK(ccz_kms_enroll(id, key, &o));
    fake_stop(&f);
    CHECK_STR(id, appid);
    CHECK_STR(key, apikey);
    CHECK(strncmp(f.tls.request, "GET /ehsm?Action=Enroll HTTP/1.1\r\n", 34) == 0);
    CHECK_CONTAINS(f.tls.request, "\r\nAuthorization: Bearer tok-123\r\n");

    static const struct {
        const char *answer;
        ccz_status want;
        const char *detail;
    } bad[] = {
        {"HTTP/1.1 401 Unauthorized\r\nContent-Length: 54\r\n\r\n"
         "{\"code\":401,\"message\":\"bad admin token\",\"result\":{}}\r\n",
         CCZ_ERR_POLICY_REJECTED, "the KMS refused to enroll: bad admin token"},
        {"HTTP/1.1 200 OK\r\n\r\n{\"code\":200,\"message\":\"\",\"result\":{\"appid\":"
         "\"0d5fb6c9-0f2c-4ce5-9e5a-4f3e2cb0e6a\",\"apikey\":"
         "\"44RPFy3SEqLbAahaP9PXSGQ6ABB6gctr\"}}",
         CCZ_ERR_PROTOCOL, "no appid and apikey"},
        {"HTTP/1.1 200 OK\r\n\r\n{\"code\":200,\"message\":\"\",\"result\":{\"appid\":"
         "\"0d5fb6c9-0f2c-4ce5-9e5a-4f3e2cb0e6a1\",\"apikey\":"
         "\"44RPFy3SEqLbAahaP9PXSGQ6ABB6gct\"}}",
         CCZ_ERR_PROTOCOL, "no appid and apikey"},
        /* one byte too long each (they are copied into 37 and 33 bytes), and neither */
        {"HTTP/1.1 200 OK\r\n\r\n{\"code\":200,\"message\":\"\",\"result\":{\"appid\":"
         "\"0d5fb6c9-0f2c-4ce5-9e5a-4f3e2cb0e6a12\",\"apikey\":"
         "\"44RPFy3SEqLbAahaP9PXSGQ6ABB6gctr\"}}",
         CCZ_ERR_PROTOCOL, "no appid and apikey"},
        {"HTTP/1.1 200 OK\r\n\r\n{\"code\":200,\"message\":\"\",\"result\":{\"appid\":"
         "\"0d5fb6c9-0f2c-4ce5-9e5a-4f3e2cb0e6a1\",\"apikey\":"
         "\"44RPFy3SEqLbAahaP9PXSGQ6ABB6gctrX\"}}",
         CCZ_ERR_PROTOCOL, "no appid and apikey"},
        {"HTTP/1.1 200 OK\r\n\r\n{\"code\":200,\"message\":\"\",\"result\":{}}", CCZ_ERR_PROTOCOL,
         "no appid and apikey"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        fake_kms g = {.tls.mode = TLS_FAKE_ANSWER, .tls.answer = bad[i].answer};
        fake_start(&g);
        o = opts_for(&g);
        o.admin_token = "tok-123";
        memset(id, 0, sizeof id);
        CHECK_STATUS(ccz_kms_enroll(id, key, &o), bad[i].want);
        CHECK_CONTAINS(ccz_error_detail(), bad[i].detail);
        CHECK_STR(id, "");
        fake_stop(&g);
    }
}

/* Arguments refused before any connection: an action that is not a name (it would change the
 * target), plain HTTP, an address without a port, options of another version. */
static void test_arguments(void)
{
    ccz_kms_opts o = CCZ_KMS_OPTS_INIT;
    o.ca_file = tls_certs_get()->ca_file;
    o.url = "127.0.0.1:9";
    ccz_json *r = NULL;
    CHECK_STATUS(ccz_kms_call(&r, &o, appid, apikey, "ListKey&Action=Enroll", NULL),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "is not an action name");
    o.url = "http://127.0.0.1:9";
    CHECK_STATUS(ccz_kms_call(&r, &o, appid, apikey, "ListKey", NULL), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "the KMS speaks HTTPS only");
    o.url = "https://127.0.0.1/ehsm";
    CHECK_STATUS(ccz_kms_call(&r, &o, appid, apikey, "ListKey", NULL), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "not HOST:PORT");
    /* options of another version than this header's, for a call and an enrolment */
    o.url = "127.0.0.1:9";
    char id[37], key[33];
    for (unsigned v = 0; v <= CCZ_KMS_OPTS_VERSION + 1; v += 2) {
        o.version = v;
        CHECK_STATUS(ccz_kms_call(&r, &o, appid, apikey, "ListKey", NULL),
                     CCZ_ERR_INVALID_ARGUMENT);
        CHECK_STR(ccz_error_detail(), "KMS options missing or of the wrong version");
        CHECK_STATUS(ccz_kms_enroll(id, key, &o), CCZ_ERR_INVALID_ARGUMENT);
        CHECK_STR(ccz_error_detail(), "KMS options missing or of the wrong version");
    }
    CHECK(r == NULL);
}

/* ---- answers --------------------------------------------------------------------------------- */

/* Content-Length ends the body even when more bytes follow; without it the body runs to the
 * close; an answer of any code is handed back as it is. */
static void test_body_bounds(void)
{
    json_t *resp = NULL;
    CHECK_OK(
        call_answer("HTTP/1.1 200 OK\r\ncontent-length: 58\r\n\r\n" OK_BODY "junk after", &resp));
    CHECK_STR(json_string_value(json_object_get(resp, "message")), "success!");
    json_decref(resp);
    resp = NULL;
    CHECK_OK(call_answer("HTTP/1.1 200 OK\r\nContent-Length:\t58 \r\n\r\n" OK_BODY "junk", &resp));
    CHECK_STR(json_string_value(json_object_get(resp, "message")), "success!");
    json_decref(resp);
    resp = NULL;
    CHECK_OK(call_answer("HTTP/1.1 200\r\nContent-Length: 58\r\n\r\n" OK_BODY, &resp));
    CHECK_INT(json_integer_value(json_object_get(resp, "code")), 200);
    json_decref(resp);
    resp = NULL;
    CHECK_OK(call_answer("HTTP/1.0 200 OK\r\nConnection: close\r\n\r\n" OK_BODY, &resp));
    CHECK_INT(json_integer_value(json_object_get(resp, "code")), 200);
    json_decref(resp);
    resp = NULL;
    /* a header whose name only ends in Content-Length is not it: the body runs to the close */
    CHECK_OK(call_answer("HTTP/1.1 200 OK\r\nX-Content-Length: 2\r\n\r\n" OK_BODY, &resp));
    CHECK_INT(json_integer_value(json_object_get(resp, "code")), 200);
    json_decref(resp);
    resp = NULL;
    CHECK_OK(call_answer("HTTP/1.1 400 Bad Request\r\nContent-Length: 48\r\n\r\n"
                         "{\"code\":400,\"message\":\"no such key\",\"result\":{}}",
                         &resp));
    CHECK_INT(json_integer_value(json_object_get(resp, "code")), 400);
    CHECK_STR(json_string_value(json_object_get(resp, "message")), "no such key");
    json_decref(resp);
}

/* Answers that are not the protocol's, each refused with its reason. */
static void test_bad_answers(void)
{
    static const struct {
        const char *answer;
        ccz_status want;
        const char *detail;
    } cases[] = {
        {"HTTP/1.1 200 OK\r\nContent-Length: 59\r\n\r\n" OK_BODY, CCZ_ERR_TRUNCATED,
         "the answer's body is cut short"},
        {"SMTP/1.1 200 OK\r\nContent-Length: 58\r\n\r\n" OK_BODY, CCZ_ERR_PROTOCOL,
         "the answer is not HTTP/1.x"},
        {"HTTP/2.0 200 OK\r\nContent-Length: 58\r\n\r\n" OK_BODY, CCZ_ERR_PROTOCOL,
         "the answer is not HTTP/1.x"},
        {"HTTP/1.1 OK\r\nContent-Length: 58\r\n\r\n" OK_BODY, CCZ_ERR_PROTOCOL,
         "the answer has no status code"},
        {"HTTP/1.1 20x OK\r\nContent-Length: 58\r\n\r\n" OK_BODY, CCZ_ERR_PROTOCOL,
         "the answer has no status code"},
        {"HTTP/1.1 200 OK\r\nContent-Length: 58\r\n" OK_BODY, CCZ_ERR_PROTOCOL,
         "the answer's head does not end"},
        {"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n" OK_BODY, CCZ_ERR_PROTOCOL,
         "a malformed Content-Length"},
        /* only digits: not a number with more after it, a list or a sign */
        {"HTTP/1.1 200 OK\r\nContent-Length: 58x\r\n\r\n" OK_BODY, CCZ_ERR_PROTOCOL,
         "a malformed Content-Length"},
        {"HTTP/1.1 200 OK\r\nContent-Length: 12, 58\r\n\r\n" OK_BODY, CCZ_ERR_PROTOCOL,
         "a malformed Content-Length"},
        {"HTTP/1.1 200 OK\r\nContent-Length: -58\r\n\r\n" OK_BODY, CCZ_ERR_PROTOCOL,
         "a malformed Content-Length"},
        {"HTTP/1.1 200 OK\r\nContent-Length: +58\r\n\r\n" OK_BODY, CCZ_ERR_PROTOCOL,
         "a malformed Content-Length"},
        {"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n[]", CCZ_ERR_PROTOCOL,
         "is not {code, message, result}"},
        {"HTTP/1.1 200 OK\r\nContent-Length: 14\r\n\r\n{\"code\":\"200\"}", CCZ_ERR_PROTOCOL,
         "is not {code, message, result}"},
        {"HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n{\"code\":200,", CCZ_ERR_PROTOCOL,
         "is not {code, message, result}"},
        /* a key twice: parsers differ on which one counts, so neither does */
        {"HTTP/1.1 200 OK\r\nContent-Length: 23\r\n\r\n{\"code\":400,\"code\":200}",
         CCZ_ERR_PROTOCOL, "is not {code, message, result}"},
        {"HTTP/1.1 600 X\r\nContent-Length: 58\r\n\r\n" OK_BODY, CCZ_ERR_PROTOCOL,
         "the answer has no status code"},
        /* two lengths: which one frames the body is ambiguous, so neither does */
        {"HTTP/1.1 200 OK\r\nContent-Length: 58\r\ncontent-length: 2\r\n\r\n" OK_BODY,
         CCZ_ERR_PROTOCOL, "two Content-Length headers"},
        /* chunked framing is not read: with a length too, which one frames the body is
         * ambiguous (RFC 9112 6.3: an error); without one, the chunk sizes are not the body */
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 58\r\n\r\n" OK_BODY,
         CCZ_ERR_PROTOCOL, "the answer has a Transfer-Encoding"},
        {"HTTP/1.1 200 OK\r\nContent-Length: 58\r\ntransfer-encoding: chunked\r\n\r\n" OK_BODY,
         CCZ_ERR_PROTOCOL, "the answer has a Transfer-Encoding"},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3a\r\n" OK_BODY "\r\n0\r\n\r\n",
         CCZ_ERR_PROTOCOL, "the answer has a Transfer-Encoding"},
        /* three digits, then the reason's space (or the line's end): not a longer number */
        {"HTTP/1.1 2000 OK\r\nContent-Length: 58\r\n\r\n" OK_BODY, CCZ_ERR_PROTOCOL,
         "the answer has no status code"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *resp = NULL;
        CHECK_STATUS(call_answer(cases[i].answer, &resp), cases[i].want);
        CHECK_CONTAINS(ccz_error_detail(), cases[i].detail);
        CHECK(resp == NULL);
    }
}

/* The answer's parser reads only its own bytes: a status line cut after its code is refused for
 * that, whatever lies in memory after it (here the reason's space and the head's end). */
static void test_parse_answer_bounds(void)
{
    static const char text[] = "HTTP/1.1 200 \r\n\r\n";
    int status = 0;
    ccz_span body;
    CHECK_STATUS(kms_parse_answer(&status, &body, CCZ_SPAN(text, 12)), CCZ_ERR_PROTOCOL);
    CHECK_CONTAINS(ccz_error_detail(), "the answer has no status code");
    CHECK_OK(kms_parse_answer(&status, &body, CCZ_SPAN(text, sizeof text - 1)));
    CHECK_INT(status, 200);
    CHECK_INT(body.len, 0);
}

/* More than 1 MiB of answer is refused as too large. */
static void test_answer_too_large(void)
{
    size_t n = (1u << 20) + 4096;
    char *big = malloc(n + 1);
    CHECK(big != NULL);
    if (!big)
        return;
    int head = snprintf(big, n, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", n);
    memset(big + head, ' ', n - (size_t)head);
    big[n] = 0;
    CHECK_STATUS(call_answer(big, NULL), CCZ_ERR_TOO_LARGE);
    CHECK_CONTAINS(ccz_error_detail(), "an answer over 1048576 bytes");
    free(big);
}

/* A server that closes the TCP connection without TLS's close_notify: before any answer, or
 * during one that has no length (it could be cut anywhere), the answer was cut short; after a
 * whole answer by its length, the answer stands. */
static void test_cut_connection(void)
{
    fake_kms f = {.tls.mode = TLS_FAKE_CUT, .tls.answer = ""};
    CHECK_STATUS(call_with(&f, NULL), CCZ_ERR_NETWORK);
    CHECK_CONTAINS(ccz_error_detail(), "the answer was cut short");
    CHECK(f.tls.handshake_done);
    fake_kms g = {.tls.mode = TLS_FAKE_CUT,
                  .tls.answer = "HTTP/1.1 200 OK\r\nContent-Length: 58\r\n\r\n" OK_BODY};
    CHECK_OK(call_with(&g, NULL));
    fake_kms h = {.tls.mode = TLS_FAKE_CUT, .tls.answer = "HTTP/1.0 200 OK\r\n\r\n" OK_BODY};
    CHECK_STATUS(call_with(&h, NULL), CCZ_ERR_NETWORK);
    CHECK_CONTAINS(ccz_error_detail(), "the answer was cut short");
}

/* A server that takes the request and never answers: the call ends at its timeout. */
static void test_silent_server(void)
{
    fake_kms f = {.tls.mode = TLS_FAKE_SILENT};
    fake_start(&f);
    ccz_kms_opts o = opts_for(&f);
    o.timeout_ms = 400;
    ccz_json *r = NULL;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK_STATUS(ccz_kms_call(&r, &o, appid, apikey, "ListKey", NULL), CCZ_ERR_NETWORK);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    CHECK_CONTAINS(ccz_error_detail(), "did not answer within 400 ms");
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    CHECK(ms >= 350 && ms < 3000);
    fake_stop(&f);
    CHECK(f.tls.request_len > 0);
}

/* A server that drips a whole answer a byte every 25 ms (about 2.4 s): the timeout bounds the
 * whole exchange, not each read, so the call ends at it with the answer still unread. */
static void test_dripping_server(void)
{
    fake_kms f = {.tls.mode = TLS_FAKE_DRIP,
                  .tls.answer = "HTTP/1.1 200 OK\r\nContent-Length: 58\r\n\r\n" OK_BODY};
    fake_start(&f);
    ccz_kms_opts o = opts_for(&f);
    o.timeout_ms = 400;
    ccz_json *r = NULL;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK_STATUS(ccz_kms_call(&r, &o, appid, apikey, "ListKey", NULL), CCZ_ERR_NETWORK);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    CHECK_CONTAINS(ccz_error_detail(), "did not answer within 400 ms");
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    CHECK(ms >= 350 && ms < 1500);
    CHECK(r == NULL);
    fake_stop(&f);
}

/* The server's certificate: it must chain to the CA file and name the address dialled (as an
 * IP address: the certificate's CN says nothing); a server that wants a client certificate
 * the client does not have is reported as refusing this client. */
static void test_server_certificate(void)
{
    const test_cert *refused[] = {&tls_certs_get()->other_ip, &tls_certs_get()->stranger};
    for (size_t i = 0; i < 2; i++) {
        fake_kms f = {.tls.mode = TLS_FAKE_ANSWER,
                      .tls.cert = refused[i],
                      .tls.answer = "HTTP/1.1 200 OK\r\n\r\n{}"};
        CHECK_STATUS(call_with(&f, NULL), CCZ_ERR_TLS);
        CHECK_CONTAINS(ccz_error_detail(), "certificate verify failed");
        CHECK(!f.tls.handshake_done);
    }
    fake_kms h = {.tls.mode = TLS_FAKE_WANT_CERT, .tls.answer = ""};
    CHECK_STATUS(call_with(&h, NULL), CCZ_ERR_POLICY_REJECTED);
    CHECK_CONTAINS(ccz_error_detail(), "refused this client's certificate");
}

/* A KMS verified by its RA-TLS certificate (trust anchors and a policy, no CA file): one whose
 * evidence the policy refuses (a debug enclave), or that has no evidence at all, is left during
 * the handshake, before the admin token is sent; one whose evidence it accepts gets it. */
static void test_ratls_server_refused(void)
{
    test_side side;
    test_side_init(&side, false, false);
    ccz_attester *debug = test_sim_attester(true), *good = test_sim_attester(false);
    test_cert refused = {0}, accepted = {0};
    ccz_ratls_cert_opts co = CCZ_RATLS_CERT_OPTS_INIT;
    CHECK_OK(ccz_ratls_cert_create(&refused.cert, &refused.key, debug, &co));
    CHECK_OK(ccz_ratls_cert_create(&accepted.cert, &accepted.key, good, &co));
    static const char enrolled[] = "HTTP/1.1 200 OK\r\nContent-Length: 135\r\n\r\n"
                                   "{\"code\":200,\"message\":\"success!\",\"result\":{\"appid\":"
                                   "\"0d5fb6c9-0f2c-4ce5-9e5a-4f3e2cb0e6a1\",\"apikey\":"
                                   "\"44RPFy3SEqLbAahaP9PXSGQ6ABB6gctr\"}}";
    const test_cert *certs[] = {&refused, &tls_certs_get()->good, &accepted};
    const ccz_status want[] = {CCZ_ERR_POLICY_REJECTED, CCZ_ERR_BAD_SIGNATURE};
    const char *detail[] = {"the peer was rejected at policy: debug: the enclave is in debug mode",
                            "the peer was rejected at certificate"};
    for (size_t i = 0; i < 3; i++) {
        fake_kms f = {.tls = {.mode = TLS_FAKE_ANSWER, .cert = certs[i], .answer = enrolled}};
        fake_start(&f);
        ccz_kms_opts o = CCZ_KMS_OPTS_INIT;
        o.url = f.url;
        o.trust = side.trust;
        o.policy = side.policy;
        o.timeout_ms = 5000;
        o.admin_token = "tok-123";
        char id[37] = "", key[33] = "";
        ccz_status s = ccz_kms_enroll(id, key, &o);
        fake_stop(&f);
        if (i < 2) {
            CHECK_STATUS(s, want[i]);
            CHECK_CONTAINS(ccz_error_detail(), detail[i]);
            CHECK(!f.tls.handshake_done);
            CHECK_INT(f.tls.request_len, 0);
            CHECK_STR(id, "");
        } else {
            CHECK_OK(s);
            CHECK_STR(id, appid);
            CHECK_CONTAINS(f.tls.request, "\r\nAuthorization: Bearer tok-123\r\n");
        }
    }
    test_cert_free(&refused);
    test_cert_free(&accepted);
    ccz_attester_free(debug);
    ccz_attester_free(good);
    test_side_free(&side);
}

TEST_MAIN(T(test_call_request_and_answer), T(test_enroll), T(test_arguments), T(test_body_bounds),
          T(test_bad_answers), T(test_parse_answer_bounds), T(test_answer_too_large),
          T(test_cut_connection), T(test_silent_server), T(test_dripping_server),
          T(test_server_certificate), T(test_ratls_server_refused))
