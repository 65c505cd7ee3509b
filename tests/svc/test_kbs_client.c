/* SPDX-License-Identifier: Apache-2.0 */
/* The KBS client (src/svc/attestation/kbs_client.c) against a KBS played by the test: a TLS
 * server on loopback that takes the three requests of Trustee's protocol on one connection and
 * answers each as the case scripts. The client must send the protocol's requests (the auth
 * request, the attest request with the challenge's nonce, the resource path) carrying the
 * session cookie, return only what a JWE made for its own key decrypts to, map the KBS's
 * refusals to their statuses with the KBS's detail, bound what it reads, keep to its timeout,
 * and trust the server only through the CA it was given. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "ccz/kbs.h"
#include "jose/jose.h"
#include "sim_side.h"
#include "test.h"
#include "tls_fake.h"

#define RESOURCE "resource bytes"

static ccz_attester *A;

/* An HTTP answer with a JSON (or any) body; malloc'd. */
static char *http(const char *status, const char *headers, const char *body, size_t *len)
{
    size_t n = strlen(body);
    char *out = malloc(512 + n);
    CHECK(out != NULL);
    int h = snprintf(out, 512,
                     "HTTP/1.1 %s\r\nContent-Type: application/json\r\n%sContent-Length: "
                     "%zu\r\n\r\n",
                     status, headers, n);
    memcpy(out + h, body, n);
    out[h + n] = 0;
    if (len)
        *len = (size_t)h + n;
    return out;
}

static char *auth_ok, *attest_ok;

/* The tee-pubkey of the attest request among the requests so far (NULL if none). */
static json_t *tee_pubkey_of(const char *requests)
{
    const char *at = strstr(requests, "POST /kbs/v0/attest ");
    const char *body = at ? strstr(at, "\r\n\r\n") : NULL;
    json_t *j = body ? json_loads(body + 4, JSON_DISABLE_EOF_CHECK, NULL) : NULL;
    json_t *k = json_incref(json_object_get(json_object_get(j, "runtime-data"), "tee-pubkey"));
    json_decref(j);
    return k;
}

static char *jwe_answer(const json_t *jwk, size_t *len)
{
    json_t *jwe = NULL;
    CHECK_OK(jose_jwe_encrypt_jwk(&jwe, jwk, CCZ_SPAN(RESOURCE, strlen(RESOURCE))));
    char *text = json_dumps(jwe, JSON_COMPACT);
    char *out = http("200 OK", "", text ? text : "", len);
    free(text);
    json_decref(jwe);
    return out;
}

/* The resource as a JWE for the key the client sent. */
static char *resource_for_client(const char *requests, size_t n, size_t *len)
{
    (void)n;
    json_t *k = tee_pubkey_of(requests);
    char *out = k ? jwe_answer(k, len) : NULL;
    json_decref(k);
    return out;
}

/* The resource as a JWE for another key. */
static char *resource_for_another(const char *requests, size_t n, size_t *len)
{
    (void)requests, (void)n;
    EVP_PKEY *other = EVP_EC_gen("P-256");
    json_t *jwk = NULL;
    CHECK_OK(jose_jwk_from_key(&jwk, other, "ECDH-ES+A256KW", NULL));
    char *out = jwe_answer(jwk, len);
    json_decref(jwk);
    EVP_PKEY_free(other);
    return out;
}

typedef struct {
    tls_fake tls;
    char url[80];
} fake_kbs;

static void fake_start(fake_kbs *f)
{
    f->tls.request_whole = tls_fake_http_whole;
    tls_fake_start(&f->tls);
    snprintf(f->url, sizeof f->url, "https://%s", f->tls.addr);
}

static ccz_status get(fake_kbs *f, ccz_buf *out, ccz_buf *token, long timeout_ms, bool insecure)
{
    ccz_kbs_client_opts o = CCZ_KBS_CLIENT_OPTS_INIT;
    o.cacert = tls_certs_get()->ca_file;
    o.timeout_ms = timeout_ms;
    o.tls_verify_insecure = insecure;
    o.token = token;
    return ccz_kbs_get_resource(out, A, f->url, "repo/key/x", &o);
}

/* Runs one scripted KBS; the client's status. */
static ccz_status run(fake_kbs *f, ccz_buf *out)
{
    fake_start(f);
    ccz_buf_reset(out);
    ccz_status s = get(f, out, NULL, 5000, false);
    tls_fake_stop(&f->tls);
    return s;
}

/* The body of the request that starts with head, as text (the requests are NUL-ended). */
static const char *body_of(const tls_fake *t, const char *head)
{
    const char *at = strstr(t->request, head);
    const char *b = at ? strstr(at, "\r\n\r\n") : NULL;
    return b ? b + 4 : "";
}

static void test_the_protocol(void)
{
    fake_kbs f = {.tls = {.mode = TLS_FAKE_ANSWER,
                          .before = {auth_ok, attest_ok},
                          .answer_for = resource_for_client}};
    ccz_buf out = CCZ_BUF_INIT, token = CCZ_BUF_INIT;
    fake_start(&f);
    strcat(f.url, "/"); /* a trailing slash is not doubled */
    CHECK_OK(get(&f, &out, &token, 5000, false));
    tls_fake_stop(&f.tls);
    CHECK(out.len == strlen(RESOURCE) && memcmp(out.ptr, RESOURCE, out.len) == 0);
    CHECK_STR((const char *)token.ptr, "header.claims.signature");
    const char *r = f.tls.request;
    CHECK(strncmp(r, "POST /kbs/v0/auth HTTP/1.1\r\n", 28) == 0);
    CHECK(strncmp(body_of(&f.tls, "POST /kbs/v0/auth "),
                  "{\"version\":\"0.4.0\",\"tee\":\"sim\","
                  "\"extra-params\":{}}",
                  48) == 0);
    const char *attest = strstr(r, "POST /kbs/v0/attest HTTP/1.1\r\n");
    const char *resource = strstr(r, "GET /kbs/v0/resource/repo/key/x HTTP/1.1\r\n");
    CHECK(attest && resource && attest < resource);
    /* the session cookie from the challenge goes with both later requests */
    CHECK(attest && strstr(attest, "Cookie: kbs-session-id=s1"));
    CHECK(resource && strstr(resource, "Cookie: kbs-session-id=s1"));
    /* the attest request answers the challenge's nonce with a P-256 key for ECDH-ES+A256KW */
    json_t *j = json_loads(body_of(&f.tls, "POST /kbs/v0/attest "), JSON_DISABLE_EOF_CHECK, NULL);
    json_t *rd = json_object_get(j, "runtime-data");
    CHECK_STR(json_string_value(json_object_get(rd, "nonce")), "bm9uY2U");
    json_t *k = json_object_get(rd, "tee-pubkey");
    CHECK_STR(json_string_value(json_object_get(k, "kty")), "EC");
    CHECK_STR(json_string_value(json_object_get(k, "crv")), "P-256");
    CHECK_STR(json_string_value(json_object_get(k, "alg")), "ECDH-ES+A256KW");
    CHECK(json_object_get(k, "d") == NULL);
    CHECK(json_object_get(json_object_get(json_object_get(j, "tee-evidence"), "primary_evidence"),
                          "evidence") != NULL);
    json_decref(j);
    /* over a server certificate no CA issued: only when told not to verify */
    f = (fake_kbs){.tls = {.mode = TLS_FAKE_ANSWER,
                           .cert = &tls_certs_get()->stranger,
                           .before = {auth_ok, attest_ok},
                           .answer_for = resource_for_client}};
    fake_start(&f);
    ccz_buf_reset(&out);
    CHECK_OK(get(&f, &out, NULL, 5000, true));
    tls_fake_stop(&f.tls);
    CHECK_INT(out.len, strlen(RESOURCE));
    ccz_buf_free(&out);
    ccz_buf_free(&token);
}

/* Answers that are not the protocol's, or refusals: each with its status and nothing out. */
static void test_hostile_answers(void)
{
    char *no_nonce = http("200 OK", "", "{}", NULL);
    char *not_json = http("200 OK", "", "nonce", NULL);
    char *refused = http("401 Unauthorized", "", "{\"detail\":\"evidence refused\"}", NULL);
    char *forbidden = http("403 Forbidden", "", "{\"detail\":\"policy says no\"}", NULL);
    char *no_token = http("200 OK", "", "{\"nonce\":\"x\"}", NULL);
    char *absent = http("404 Not Found", "", "{\"detail\":\"no such resource\"}", NULL);
    char *oops = http("500 Internal Server Error", "", "oops", NULL);
    char *not_jwe = http("200 OK", "", "{\"ciphertext\":\"AAAA\"}", NULL);
    const struct {
        const char *what, *before[2], *answer;
        char *(*answer_for)(const char *, size_t, size_t *);
        ccz_status want;
        const char *detail;
    } cases[] = {
        {"a challenge without a nonce", {NULL}, no_nonce, NULL, CCZ_ERR_PROTOCOL, "has no nonce"},
        {"a challenge that is not JSON",
         {NULL},
         not_json,
         NULL,
         CCZ_ERR_PROTOCOL,
         "KBS auth answer"},
        {"evidence refused",
         {auth_ok},
         refused,
         NULL,
         CCZ_ERR_POLICY_REJECTED,
         "answered 401: evidence refused"},
        {"attestation forbidden",
         {auth_ok},
         forbidden,
         NULL,
         CCZ_ERR_POLICY_REJECTED,
         "answered 403: policy says no"},
        {"an attest answer that is not JSON",
         {auth_ok},
         not_json,
         NULL,
         CCZ_ERR_PROTOCOL,
         "KBS attest answer: "},
        {"an attest answer without a token",
         {auth_ok},
         no_token,
         NULL,
         CCZ_ERR_PROTOCOL,
         "has no token"},
        {"no such resource",
         {auth_ok, attest_ok},
         absent,
         NULL,
         CCZ_ERR_NOT_FOUND,
         "answered 404: no such resource"},
        {"a server error",
         {auth_ok, attest_ok},
         oops,
         NULL,
         CCZ_ERR_PROTOCOL,
         "answered 500: (no detail)"},
        {"a resource that is no JWE",
         {auth_ok, attest_ok},
         not_jwe,
         NULL,
         CCZ_ERR_PROTOCOL,
         "KBS resource repo/key/x: the JWE"},
        {"a JWE for another key",
         {auth_ok, attest_ok},
         NULL,
         resource_for_another,
         CCZ_ERR_PROTOCOL,
         "KBS resource repo/key/x: the JWE"},
    };
    ccz_buf out = CCZ_BUF_INIT;
    for (size_t i = 0; i < CCZ_ARRAY_LEN(cases); i++) {
        test_name = cases[i].what;
        fake_kbs f = {.tls = {.mode = TLS_FAKE_ANSWER,
                              .before = {cases[i].before[0], cases[i].before[1]},
                              .answer = cases[i].answer,
                              .answer_for = cases[i].answer_for}};
        CHECK_STATUS(run(&f, &out), cases[i].want);
        CHECK_CONTAINS(ccz_error_detail(), cases[i].detail);
        CHECK_INT(out.len, 0);
    }
    test_name = __func__;
    char *answers[] = {no_nonce, not_json, refused, forbidden, no_token, absent, oops, not_jwe};
    for (size_t i = 0; i < CCZ_ARRAY_LEN(answers); i++)
        free(answers[i]);
    ccz_buf_free(&out);
}

/* A 2 MiB challenge is not read whole; a KBS that goes silent, or drips, is left at the timeout;
 * a redirect is not followed; a server the CA did not certify, or certified for another address,
 * is not talked to; http:// is refused before any connection. */
static void test_bounds_and_trust(void)
{
    ccz_buf out = CCZ_BUF_INIT;
    char *big_body = malloc((2u << 20) + 1);
    CHECK(big_body != NULL);
    memset(big_body, ' ', 2u << 20);
    big_body[2u << 20] = 0;
    big_body[0] = '{';
    big_body[(2u << 20) - 1] = '}';
    size_t big_len;
    char *big = http("200 OK", "", big_body, &big_len);
    fake_kbs f = {.tls = {.mode = TLS_FAKE_ANSWER, .answer = big, .answer_len = big_len}};
    CHECK_STATUS(run(&f, &out), CCZ_ERR_TOO_LARGE);
    CHECK_CONTAINS(ccz_error_detail(), "/kbs/v0/auth: an answer over 1048576 bytes");
    free(big);
    free(big_body);

    f = (fake_kbs){.tls = {.mode = TLS_FAKE_SILENT, .before = {auth_ok}}};
    fake_start(&f);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK_STATUS(get(&f, &out, NULL, 400, false), CCZ_ERR_NETWORK);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    tls_fake_stop(&f.tls);
    double took = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    CHECK(took >= 0.35 && took < 4.0);

    /* one that drips its challenge a byte every 25 ms (about 3 s whole) is left at the
     * timeout too: it bounds the request, not each read */
    f = (fake_kbs){.tls = {.mode = TLS_FAKE_DRIP, .answer = auth_ok}};
    fake_start(&f);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK_STATUS(get(&f, &out, NULL, 400, false), CCZ_ERR_NETWORK);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    CHECK_CONTAINS(ccz_error_detail(), "KBS https://127.0.0.1:");
    CHECK_CONTAINS(ccz_error_detail(),
                   "/kbs/v0/auth: no answer in time: the exchange timed out after 400 ms");
    tls_fake_stop(&f.tls);
    took = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    CHECK(took >= 0.35 && took < 1.5);

    /* the timeout bounds the whole exchange, not each request: answers 250 ms apart are
     * taken within 5 s, and the third is not waited for within 600 ms (each request alone
     * would be within it) */
    ccz_buf token = CCZ_BUF_INIT;
    f = (fake_kbs){.tls = {.mode = TLS_FAKE_ANSWER,
                           .pause_ms = 250,
                           .before = {auth_ok, attest_ok},
                           .answer_for = resource_for_client}};
    fake_start(&f);
    CHECK_OK(get(&f, &out, &token, 5000, false));
    tls_fake_stop(&f.tls);
    CHECK_INT(out.len, strlen(RESOURCE));
    ccz_buf_reset(&out);
    f = (fake_kbs){.tls = {.mode = TLS_FAKE_ANSWER,
                           .pause_ms = 250,
                           .before = {auth_ok, attest_ok},
                           .answer_for = resource_for_client}};
    fake_start(&f);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK_STATUS(get(&f, &out, &token, 600, false), CCZ_ERR_NETWORK);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    CHECK_CONTAINS(
        ccz_error_detail(),
        "/kbs/v0/resource/repo/key/x: no answer in time: the exchange timed out after 600 ms");
    tls_fake_stop(&f.tls);
    took = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    CHECK(took >= 0.55 && took < 1.5);
    CHECK_INT(out.len, 0);
    ccz_buf_free(&token);

    /* a redirect is not followed (the session's cookie and evidence would go where it points):
     * it is an answer that is not the protocol's */
    char *moved = http("302 Found", "Location: https://127.0.0.1:1/kbs/v0/auth\r\n", "{}", NULL);
    f = (fake_kbs){.tls = {.mode = TLS_FAKE_ANSWER, .answer = moved}};
    CHECK_STATUS(run(&f, &out), CCZ_ERR_PROTOCOL);
    CHECK_CONTAINS(ccz_error_detail(), "POST /kbs/v0/auth answered 302");
    free(moved);

    const test_cert *refused[] = {&tls_certs_get()->stranger, &tls_certs_get()->other_ip};
    for (size_t i = 0; i < CCZ_ARRAY_LEN(refused); i++) {
        f = (fake_kbs){.tls = {.mode = TLS_FAKE_ANSWER, .cert = refused[i], .answer = auth_ok}};
        CHECK_STATUS(run(&f, &out), CCZ_ERR_NETWORK);
        CHECK_INT(f.tls.request_len, 0);
    }
    ccz_kbs_client_opts o = CCZ_KBS_CLIENT_OPTS_INIT;
    CHECK_STATUS(ccz_kbs_get_resource(&out, A, "http://127.0.0.1:1", "repo/key/x", &o),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "must be https://");
    CHECK_INT(out.len, 0);
    /* options of another version than this header's */
    for (unsigned v = 0; v <= CCZ_KBS_CLIENT_OPTS_VERSION + 1; v += 2) {
        ccz_kbs_client_opts other = CCZ_KBS_CLIENT_OPTS_INIT;
        other.version = v;
        CHECK_STATUS(ccz_kbs_get_resource(&out, A, "https://127.0.0.1:1", "repo/key/x", &other),
                     CCZ_ERR_INVALID_ARGUMENT);
        CHECK_STR(ccz_error_detail(),
                  "KBS client: an attester, a URL, a path and options of version 1");
    }
    CHECK_INT(out.len, 0);
    /* a path that would change the URL it is put in (a query, a dot segment, a fourth part) is
     * refused before anything is sent, as the KBS would refuse it */
    static const char *const paths[] = {"repo/key/x?admin=1", "repo/../x", "repo/key/x/y",
                                        "repo/key/x#f",       "repo//x",   "repo/key/%2e%2e"};
    for (size_t i = 0; i < CCZ_ARRAY_LEN(paths); i++) {
        CHECK_STATUS(ccz_kbs_get_resource(&out, A, "https://127.0.0.1:1", paths[i], &o),
                     CCZ_ERR_INVALID_ARGUMENT);
        CHECK_CONTAINS(ccz_error_detail(), "KBS client: a resource is REPOSITORY/TYPE/TAG");
    }
    CHECK_INT(out.len, 0);
    ccz_buf_free(&out);
}

static void setup(void)
{
    A = test_sim_attester(false);
    auth_ok = http("200 OK", "Set-Cookie: kbs-session-id=s1; Path=/\r\n",
                   "{\"nonce\":\"bm9uY2U\",\"extra-params\":\"\"}", NULL);
    attest_ok = http("200 OK", "", "{\"token\":\"header.claims.signature\"}", NULL);
}

static void cleanup(void)
{
    ccz_attester_free(A);
    free(auth_ok);
    free(attest_ok);
}

TEST_MAIN(T(setup), T(test_the_protocol), T(test_hostile_answers), T(test_bounds_and_trust),
          T(cleanup))
