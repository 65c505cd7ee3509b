/* SPDX-License-Identifier: Apache-2.0 */
/* A server played by a test: a TLS listener on loopback that takes one connection, reads the
 * client's request until the test's rule says it is whole, then answers bytes the test scripts,
 * cuts the connection, holds it, or refuses the client for want of a certificate. And the
 * certificates such servers present: a CA, certificates it issues for an address, and one no
 * CA issued. For clients whose handling of a hostile server is under test. */
#ifndef CCZ_TEST_TLS_FAKE_H
#define CCZ_TEST_TLS_FAKE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>

typedef struct {
    EVP_PKEY *key;
    X509 *cert;
} test_cert;

/* A P-256 certificate for cn (and the subjectAltName san, OpenSSL's text form, or NULL), issued
 * by issuer (NULL: self-signed), a CA when ca. Valid from an hour ago for a day. */
test_cert test_cert_issue(const char *cn, const char *san, const test_cert *issuer, bool ca);
/* Writes c's certificate as PEM to path. */
void test_cert_write_pem(const test_cert *c, const char *path);
void test_cert_free(test_cert *c);

/* The certificates the tests' servers present, made on first use: a CA (its certificate
 * written to ca_file), a certificate it issued for 127.0.0.1 (by an IP subjectAltName: the CN
 * names no address), one it issued for 127.0.0.2, and one for 127.0.0.1 that no CA issued. */
typedef struct {
    test_cert ca, good, other_ip, stranger;
    char ca_file[512];
} tls_certs;

const tls_certs *tls_certs_get(void);

typedef enum {
    TLS_FAKE_ANSWER,    /* reads the request, sends the answer, closes with TLS's close_notify */
    TLS_FAKE_CUT,       /* reads the request, sends the answer, closes the socket without it */
    TLS_FAKE_SILENT,    /* reads the request, then holds the connection until the client leaves */
    TLS_FAKE_WANT_CERT, /* requires a client certificate (the client under test has none) */
    TLS_FAKE_DRIP,      /* reads the request, sends the answer a byte every 25 ms (a record
                           each), until it is sent or the client leaves; then closes */
} tls_fake_mode;

typedef struct {
    /* set by the test */
    tls_fake_mode mode;
    const test_cert *cert; /* NULL: tls_certs_get()->good */
    const char *answer;
    size_t answer_len; /* 0: strlen(answer) */
    /* answers to the requests before the last, in order, NULL-ended (none by default): a
     * connection of several exchanges; the mode and answer are the last one's */
    const char *before[4];
    /* waited before each answer, the ones before the last included (0: none) */
    int pause_ms;
    /* when set, makes the last answer (malloc'd; its length in *len) from the requests so far */
    char *(*answer_for)(const char *requests, size_t len, size_t *answer_len);
    /* whether the request so far is whole (NULL: any byte makes it whole) */
    bool (*request_whole)(const char *request, size_t len);
    /* what the server saw: every request, one after another */
    char request[16384];
    size_t request_len, request_start;
    bool handshake_done;
    /* set by tls_fake_start */
    char addr[64]; /* "127.0.0.1:PORT" */
    int listener;
    SSL_CTX *ctx;
    pthread_t thread;
} tls_fake;

/* An HTTP/1.1 request is whole with its head and its Content-Length bytes of body (none
 * without the header). */
bool tls_fake_http_whole(const char *request, size_t len);

/* Listens and serves one connection in a thread; tls_fake_stop waits for it (a server no client
 * reached stops waiting). SIGPIPE is ignored from the first start on: a client that stops
 * reading closes under the server's writes. */
void tls_fake_start(tls_fake *f);
void tls_fake_stop(tls_fake *f);

#endif
