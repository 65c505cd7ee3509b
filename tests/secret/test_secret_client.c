/* SPDX-License-Identifier: Apache-2.0 */
/* The secret-provisioning client (ccz_secret_get) against a server played by the test, with an
 * ordinary certificate from a CA file (Gramine's SECRET_PROVISION_CA_CHAIN_PATH): the request is
 * Gramine's 35 bytes; the answer is read strictly (the response string with its NUL, the
 * big-endian size, the size bound, a secret cut short, a silent server) and a failure leaves
 * no byte of the secret behind; the server's certificate must be verified and name the address
 * dialled; a server that refuses the client's RA-TLS certificate is reported as a refusal. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ccz/ccz.h"
#include "ccz/secret.h"
#include "sim_side.h"
#include "test.h"
#include "tls_fake.h"

static ccz_attester *client_att;

static void setup(void)
{
    if (!client_att)
        client_att = test_sim_attester(false);
}

/* The client's context: it presents its sim RA-TLS certificate and, with_ca, verifies the
 * server by the CA file. */
static SSL_CTX *client_ctx(bool with_ca)
{
    ccz_ratls_opts o = CCZ_RATLS_OPTS_INIT;
    o.server = false;
    o.mode = CCZ_RATLS_CLIENT;
    o.attester = client_att;
    SSL_CTX *ctx = NULL;
    CHECK_OK(ccz_ratls_ctx_new(&ctx, &o));
    if (with_ca)
        CHECK_OK(ccz_secret_ctx_use_ca_file(ctx, tls_certs_get()->ca_file));
    return ctx;
}

static bool request_whole(const char *req, size_t len)
{
    (void)req;
    return len >= sizeof CCZ_SECRET_REQUEST;
}

/* One exchange with a server that answers answer (n bytes) in mode, into out. */
static ccz_status get_from(tls_fake *f, ccz_buf *out, bool with_ca, long timeout_ms)
{
    setup();
    f->request_whole = request_whole;
    tls_fake_start(f);
    SSL_CTX *ctx = client_ctx(with_ca);
    ccz_status s = ccz_secret_get(out, ctx, f->addr, timeout_ms);
    SSL_CTX_free(ctx);
    tls_fake_stop(f);
    return s;
}

#define MAGIC CCZ_SECRET_RESPONSE "\0"
#define MAGIC_LEN (sizeof CCZ_SECRET_RESPONSE)

static void test_exchange(void)
{
    static const char answer[] = MAGIC "\0\0\0\x07"
                                       "s\0cret!";
    tls_fake f = {.mode = TLS_FAKE_ANSWER, .answer = answer, .answer_len = sizeof answer - 1};
    ccz_buf b = CCZ_BUF_INIT;
    CHECK_OK(get_from(&f, &b, true, 5000));
    CHECK_INT(b.len, 7);
    CHECK(b.len == 7 && memcmp(b.ptr, "s\0cret!", 7) == 0);
    CHECK(b.secret);
    CHECK_INT(f.request_len, 35);
    CHECK(memcmp(f.request, "SECRET_PROVISION_RA_TLS_REQUEST_V1\0", 35) == 0);
    /* bytes after the announced size are not the secret's (Gramine's server may go on using
     * the connection): exactly the announced bytes are taken */
    static const char more[] = MAGIC "\0\0\0\x03"
                                     "abcdef";
    tls_fake g = {.mode = TLS_FAKE_ANSWER, .answer = more, .answer_len = sizeof more - 1};
    CHECK_OK(get_from(&g, &b, true, 5000));
    CHECK(b.len == 3 && memcmp(b.ptr, "abc", 3) == 0);
    /* a timeout of 0 or less is the default one, not one that has already run out (the server
     * pauses before it answers, so the client waits for it) */
    for (long t = 0; t >= -1; t--) {
        tls_fake z = {.mode = TLS_FAKE_ANSWER,
                      .answer = answer,
                      .answer_len = sizeof answer - 1,
                      .pause_ms = 100};
        CHECK_OK(get_from(&z, &b, true, t));
        CHECK(b.len == 7 && memcmp(b.ptr, "s\0cret!", 7) == 0);
    }
    ccz_buf_free(&b);
    /* the arguments */
    SSL_CTX *ctx = client_ctx(false);
    CHECK_STATUS(ccz_secret_get(NULL, ctx, "127.0.0.1:1", 100), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "a buffer, a context and a server address are needed");
    CHECK_STATUS(ccz_secret_get(&b, ctx, NULL, 100), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(ccz_secret_ctx_use_ca_file(ctx, NULL), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "a context and a CA file are needed");
    CHECK_STATUS(ccz_secret_ctx_use_ca_file(NULL, tls_certs_get()->ca_file),
                 CCZ_ERR_INVALID_ARGUMENT);
    SSL_CTX_free(ctx);
}

/* Answers that are not the protocol's or not whole: each refused with its reason, and the
 * buffer left empty. */
static void test_bad_answers(void)
{
    static const struct {
        const char *answer;
        size_t len;
        size_t max; /* the buffer's bound (0: the default) */
        ccz_status want;
        const char *detail;
    } cases[] = {
        {"SECRET_PROVISION_RA_TLS_RESPONSE_V2:\0\0\0\0\x01x", 42, 0, CCZ_ERR_PROTOCOL,
         "does not start with SECRET_PROVISION_RA_TLS_RESPONSE_V1:"},
        {"SECRET_PROVISION_RA_TLS_RESPONSE_V1:x\0\0\0\x01x", 42, 0, CCZ_ERR_PROTOCOL,
         "does not start with"},
        {MAGIC "\0\0\0\x05hello", MAGIC_LEN + 9, 4, CCZ_ERR_TOO_LARGE,
         "announces a secret of 5 bytes, more than the 4 accepted"},
        {MAGIC "\0\x10\0\x01", MAGIC_LEN + 4, 0, CCZ_ERR_TOO_LARGE,
         "announces a secret of 1048577 bytes, more than the 1048576 accepted"},
        {MAGIC "\xff\xff\xff\xff", MAGIC_LEN + 4, 0, CCZ_ERR_TOO_LARGE,
         "announces a secret of 4294967295 bytes, more than the 1048576 accepted"},
        {MAGIC "\0\0\0\x0ahello", MAGIC_LEN + 9, 0, CCZ_ERR_UNAVAILABLE,
         "closed the connection without a secret (reading the secret)"},
        {MAGIC "\0\0\0\0", MAGIC_LEN + 4, 0, CCZ_ERR_PROTOCOL,
         "the server announces an empty secret"},
        {MAGIC "\0\0", MAGIC_LEN + 2, 0, CCZ_ERR_UNAVAILABLE,
         "closed the connection without a secret (reading the response)"},
        {"", 0, 0, CCZ_ERR_UNAVAILABLE, "it does not release one to this client"},
    };
    /* a secret of exactly the buffer's bound is taken */
    tls_fake e = {.mode = TLS_FAKE_ANSWER,
                  .answer = MAGIC "\0\0\0\x04"
                                  "abcd",
                  .answer_len = MAGIC_LEN + 8};
    ccz_buf four;
    ccz_buf_init(&four, 4, false);
    CHECK_OK(get_from(&e, &four, true, 5000));
    CHECK(four.len == 4 && memcmp(four.ptr, "abcd", 4) == 0);
    ccz_buf_free(&four);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tls_fake f = {
            .mode = TLS_FAKE_ANSWER, .answer = cases[i].answer, .answer_len = cases[i].len};
        ccz_buf b;
        ccz_buf_init(&b, cases[i].max, false);
        CHECK_STATUS(get_from(&f, &b, true, 5000), cases[i].want);
        CHECK_CONTAINS(ccz_error_detail(), cases[i].detail);
        CHECK_INT(b.len, 0);
        ccz_buf_free(&b);
    }
}

/* A server that takes the request and says nothing: the call ends at its timeout. */
static void test_silent_server(void)
{
    tls_fake f = {.mode = TLS_FAKE_SILENT};
    ccz_buf b = CCZ_BUF_INIT;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK_STATUS(get_from(&f, &b, true, 400), CCZ_ERR_NETWORK);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    CHECK_CONTAINS(ccz_error_detail(), "the server did not answer in time");
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    CHECK(ms >= 350 && ms < 3000);
    CHECK_INT(f.request_len, 35);
    ccz_buf_free(&b);
}

/* A server that drips its answer a byte every 25 ms (about 1.2 s for this one): the timeout
 * bounds the whole exchange, not each wait, so the call ends at it with no secret. */
static void test_dripping_server(void)
{
    static const char answer[] = MAGIC "\0\0\0\x07"
                                       "s\0cret!";
    tls_fake f = {.mode = TLS_FAKE_DRIP, .answer = answer, .answer_len = sizeof answer - 1};
    ccz_buf b = CCZ_BUF_INIT;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK_STATUS(get_from(&f, &b, true, 300), CCZ_ERR_NETWORK);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    CHECK_CONTAINS(ccz_error_detail(), "the server did not answer in time");
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    CHECK(ms >= 250 && ms < 1500);
    CHECK_INT(b.len, 0);
    ccz_buf_free(&b);
}

/* A verify callback that lets any certificate through, whatever its chain. */
static int verify_anything(int ok, X509_STORE_CTX *xs)
{
    (void)ok;
    (void)xs;
    return 1;
}

/* The server's certificate: verified by the CA file and naming the address dialled; a context
 * that verifies nothing gets nothing; a server that refuses the client's certificate is a
 * refusal, not a network failure. */
static void test_server_certificate(void)
{
    static const char answer[] = MAGIC "\0\0\0\x01x";
    ccz_buf b = CCZ_BUF_INIT;
    tls_fake f = {.mode = TLS_FAKE_ANSWER, .answer = answer, .answer_len = sizeof answer - 1};
    CHECK_STATUS(get_from(&f, &b, false, 5000), CCZ_ERR_CERT_CHAIN);
    CHECK_CONTAINS(ccz_error_detail(), "the server's certificate is not verified: ");
    CHECK_INT(f.request_len, 0); /* nothing was asked of an unverified server */
    /* a plain context with the CA loaded but no verification asked for: the chain would
     * check out, but nothing required it */
    tls_fake p = {.mode = TLS_FAKE_ANSWER, .answer = answer, .answer_len = sizeof answer - 1};
    p.request_whole = request_whole;
    tls_fake_start(&p);
    SSL_CTX *plain = SSL_CTX_new(TLS_client_method());
    CHECK(SSL_CTX_load_verify_locations(plain, tls_certs_get()->ca_file, NULL) == 1);
    CHECK_STATUS(ccz_secret_get(&b, plain, p.addr, 5000), CCZ_ERR_CERT_CHAIN);
    CHECK_CONTAINS(ccz_error_detail(),
                   "the server's certificate is not verified (the context neither appraises an "
                   "RA-TLS certificate nor has a CA chain)");
    SSL_CTX_free(plain);
    tls_fake_stop(&p);
    CHECK_INT(p.request_len, 0);
    /* a context that asks for verification but whose callback lets a failed chain go on (a
     * certificate for the address that no CA issued): the chain's result still counts */
    tls_fake r = {.mode = TLS_FAKE_ANSWER,
                  .cert = &tls_certs_get()->stranger,
                  .answer = answer,
                  .answer_len = sizeof answer - 1};
    r.request_whole = request_whole;
    tls_fake_start(&r);
    SSL_CTX *lenient = SSL_CTX_new(TLS_client_method());
    CHECK(SSL_CTX_load_verify_locations(lenient, tls_certs_get()->ca_file, NULL) == 1);
    SSL_CTX_set_verify(lenient, SSL_VERIFY_PEER, verify_anything);
    CHECK_STATUS(ccz_secret_get(&b, lenient, r.addr, 5000), CCZ_ERR_CERT_CHAIN);
    CHECK_CONTAINS(ccz_error_detail(), "the server's certificate is not verified: ");
    SSL_CTX_free(lenient);
    tls_fake_stop(&r);
    CHECK_INT(r.request_len, 0);
    CHECK_INT(b.len, 0);
    /* a context that appraises the server's evidence takes no CA file (it would ignore it) */
    test_side verifying;
    test_side_init(&verifying, false, false);
    CHECK_STATUS(ccz_secret_ctx_use_ca_file(verifying.ctx, tls_certs_get()->ca_file),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "make it in CCZ_RATLS_CLIENT mode to verify the server by");
    test_side_free(&verifying);
    /* a context whose RA-TLS appraisal fails but does not end the handshake (its verify mode
     * set to none afterwards): the failed verdict is no verification, nothing is asked */
    test_side lax;
    test_side_init(&lax, false, false);
    SSL_CTX_set_verify(lax.ctx, SSL_VERIFY_NONE, NULL);
    tls_fake q = {.mode = TLS_FAKE_ANSWER, .answer = answer, .answer_len = sizeof answer - 1};
    q.request_whole = request_whole;
    tls_fake_start(&q);
    CHECK_STATUS(ccz_secret_get(&b, lax.ctx, q.addr, 5000), CCZ_ERR_CERT_CHAIN);
    CHECK_CONTAINS(ccz_error_detail(), "the server's RA-TLS certificate was not accepted");
    tls_fake_stop(&q);
    CHECK_INT(q.request_len, 0);
    CHECK_INT(b.len, 0);
    test_side_free(&lax);
    tls_fake g = {.mode = TLS_FAKE_ANSWER,
                  .cert = &tls_certs_get()->other_ip,
                  .answer = answer,
                  .answer_len = sizeof answer - 1};
    CHECK_STATUS(get_from(&g, &b, true, 5000), CCZ_ERR_CERT_CHAIN);
    CHECK_CONTAINS(ccz_error_detail(), "the server's certificate is not for 127.0.0.1");
    CHECK_INT(g.request_len, 0);
    /* an address dialled is matched against the certificate's IP addresses only: a DNS name
     * spelled as the address does not name it */
    test_cert dns =
        test_cert_issue("ccz test server", "DNS:127.0.0.1", &tls_certs_get()->ca, false);
    tls_fake d = {
        .mode = TLS_FAKE_ANSWER, .cert = &dns, .answer = answer, .answer_len = sizeof answer - 1};
    CHECK_STATUS(get_from(&d, &b, true, 5000), CCZ_ERR_CERT_CHAIN);
    CHECK_CONTAINS(ccz_error_detail(), "the server's certificate is not for 127.0.0.1");
    CHECK_INT(d.request_len, 0);
    test_cert_free(&dns);
    tls_fake h = {.mode = TLS_FAKE_ANSWER,
                  .cert = &tls_certs_get()->stranger,
                  .answer = answer,
                  .answer_len = sizeof answer - 1};
    CHECK_STATUS(get_from(&h, &b, true, 5000), CCZ_ERR_TLS);
    CHECK_CONTAINS(ccz_error_detail(), "certificate verify failed");
    CHECK(!h.handshake_done);
    tls_fake k = {.mode = TLS_FAKE_WANT_CERT};
    CHECK_STATUS(get_from(&k, &b, true, 5000), CCZ_ERR_POLICY_REJECTED);
    CHECK_CONTAINS(ccz_error_detail(), "the server refused our certificate (TLS alert: ");
    CHECK_INT(b.len, 0);
    ccz_buf_free(&b);
}

TEST_MAIN(T(test_exchange), T(test_bad_answers), T(test_silent_server), T(test_dripping_server),
          T(test_server_certificate))
