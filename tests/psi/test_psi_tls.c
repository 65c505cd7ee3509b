/* SPDX-License-Identifier: Apache-2.0 */
/* PSI's byte streams over TLS (src/psi/tls.c) on loopback TCP: the unauthenticated contexts of
 * ECDH PSI without a TEE (TLS 1.3 only, so a TLS 1.2 client is refused; a fresh self-signed P-256
 * certificate per server context; no session tickets; no verification), and the ccz_psi_io of a
 * session: bytes both ways in pieces larger than a TLS record, and each failure named with its
 * status: a peer that closed (close_notify), one that vanished without it, one silent past the
 * socket's timeout, one that reset the connection under a write. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "ccz/psi.h"
#include "test.h"

#define BIG (100 * 1024) /* more than six TLS records */

enum after { ECHO, CLOSE_NOTIFY, VANISH, SILENT, RESET, WANT_CERT };

typedef struct {
    SSL_CTX *ctx;
    int listener;
    enum after after;
    int done[2]; /* the client writes a byte here when the server may stop being silent */
    bool handshake_ok;
} server;

static void *serve(void *arg)
{
    server *s = arg;
    int fd = accept(s->listener, NULL, NULL);
    if (fd < 0)
        return NULL;
    SSL *ssl = SSL_new(s->ctx);
    SSL_set_fd(ssl, fd);
    if (s->after == WANT_CERT) /* the client has none: refused after its handshake ended */
        SSL_set_verify(ssl, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    s->handshake_ok = SSL_accept(ssl) == 1;
    if (s->handshake_ok) {
        ccz_psi_io io;
        ccz_psi_io_ssl(&io, ssl);
        uint8_t *buf = malloc(BIG);
        char c;
        switch (s->after) {
        case ECHO:
            if (buf && io.read(io.payload, buf, BIG) == CCZ_OK)
                (void)io.write(io.payload, buf, BIG);
            (void)SSL_shutdown(ssl);
            break;
        case CLOSE_NOTIFY:
            (void)SSL_shutdown(ssl);
            break;
        case VANISH:
            break; /* the socket closes below with no close_notify */
        case SILENT:
            (void)!read(s->done[0], &c, 1);
            break;
        case WANT_CERT:
            break;
        case RESET: {
            struct linger l = {1, 0}; /* close sends RST */
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
            break;
        }
        }
        free(buf);
    }
    SSL_free(ssl);
    close(fd);
    return NULL;
}

typedef struct {
    server srv;
    pthread_t thread;
    SSL_CTX *client_ctx;
    SSL *ssl;
    int fd;
    ccz_psi_io io;
} session;

/* A server context of ccz's and a client one (ccz's, or the one given), connected. */
static bool session_open(session *t, enum after after, SSL_CTX *client_ctx)
{
    memset(t, 0, sizeof *t);
    t->srv.after = after;
    CHECK(pipe(t->srv.done) == 0);
    CHECK_OK(ccz_psi_tls_ctx_new_insecure(&t->srv.ctx, true));
    if (client_ctx) {
        SSL_CTX_up_ref(client_ctx);
        t->client_ctx = client_ctx;
    } else {
        CHECK_OK(ccz_psi_tls_ctx_new_insecure(&t->client_ctx, false));
    }
    t->srv.listener = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    CHECK(bind(t->srv.listener, (struct sockaddr *)&a, sizeof a) == 0);
    CHECK(listen(t->srv.listener, 1) == 0);
    CHECK(getsockname(t->srv.listener, (struct sockaddr *)&a, &al) == 0);
    test_thread(&t->thread, serve, &t->srv);
    t->fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(connect(t->fd, (struct sockaddr *)&a, sizeof a) == 0);
    t->ssl = SSL_new(t->client_ctx);
    SSL_set_fd(t->ssl, t->fd);
    ccz_psi_io_ssl(&t->io, t->ssl);
    return SSL_connect(t->ssl) == 1;
}

static void session_close(session *t)
{
    (void)!write(t->srv.done[1], "x", 1);
    SSL_free(t->ssl);
    close(t->fd);
    shutdown(t->srv.listener, SHUT_RDWR); /* a server no client reached stops waiting */
    pthread_join(t->thread, NULL);
    close(t->srv.listener);
    close(t->srv.done[0]);
    close(t->srv.done[1]);
    SSL_CTX_free(t->srv.ctx);
    SSL_CTX_free(t->client_ctx);
    ERR_clear_error();
}

static void test_contexts(void)
{
    SSL_CTX *a, *b, *c;
    CHECK_OK(ccz_psi_tls_ctx_new_insecure(&a, true));
    CHECK_OK(ccz_psi_tls_ctx_new_insecure(&b, true));
    CHECK_OK(ccz_psi_tls_ctx_new_insecure(&c, false));
    CHECK_INT(SSL_CTX_get_min_proto_version(a), TLS1_3_VERSION);
    CHECK_INT(SSL_CTX_get_min_proto_version(c), TLS1_3_VERSION);
    CHECK_INT(SSL_CTX_get_verify_mode(c), SSL_VERIFY_NONE);
    CHECK_INT(SSL_CTX_get_num_tickets(a), 0);
    X509 *ca = SSL_CTX_get0_certificate(a), *cb = SSL_CTX_get0_certificate(b);
    CHECK(ca && cb);
    if (ca && cb) {
        char cn[128] = "";
        X509_NAME_get_text_by_NID(X509_get_subject_name(ca), NID_commonName, cn, sizeof cn);
        CHECK_STR(cn, "ccz psi ecdh (ephemeral, unauthenticated)");
        CHECK(X509_cmp_current_time(X509_get0_notBefore(ca)) < 0);
        CHECK(X509_cmp_current_time(X509_get0_notAfter(ca)) > 0);
        EVP_PKEY *ka = X509_get0_pubkey(ca), *kb = X509_get0_pubkey(cb);
        char group[32] = "";
        size_t gl = 0;
        EVP_PKEY_get_utf8_string_param(ka, "group", group, sizeof group, &gl);
        CHECK_STR(group, "prime256v1");
        CHECK(EVP_PKEY_eq(ka, kb) != 1); /* a fresh key for each server */
    }
    CHECK(SSL_CTX_get0_certificate(c) == NULL);
    SSL_CTX_free(a);
    SSL_CTX_free(b);
    SSL_CTX_free(c);
}

static void test_echo(void)
{
    session t;
    bool ok;
    ok = session_open(&t, ECHO, NULL);
    CHECK(ok);
    if (ok) {
        CHECK_INT(SSL_version(t.ssl), TLS1_3_VERSION);
        uint8_t *out = malloc(BIG), *in = calloc(1, BIG);
        for (size_t i = 0; i < BIG; i++)
            out[i] = (uint8_t)(i * 7 + i / 251);
        CHECK_OK(t.io.write(t.io.payload, out, BIG));
        CHECK_OK(t.io.read(t.io.payload, in, BIG));
        CHECK(memcmp(in, out, BIG) == 0);
        /* the server said close_notify after its answer */
        uint8_t b;
        CHECK_STATUS(t.io.read(t.io.payload, &b, 1), CCZ_ERR_PROTOCOL);
        CHECK_STR(ccz_error_detail(), "the peer closed the connection while receiving");
        free(out);
        free(in);
    }
    session_close(&t);
}

/* A read from a server that does `after` fails with want and the detail given (with prefix
 * set, a detail that starts so); rcvtimeo_ms, when not 0, is the client socket's timeout. */
static void read_fails(enum after after, int rcvtimeo_ms, ccz_status want, const char *detail,
                       bool prefix)
{
    uint8_t b[16];
    session t;
    bool ok = session_open(&t, after, NULL);
    CHECK(ok);
    if (ok) {
        struct timeval tv = {0, rcvtimeo_ms * 1000};
        if (rcvtimeo_ms)
            setsockopt(t.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        CHECK_STATUS(t.io.read(t.io.payload, b, sizeof b), want);
        if (prefix)
            CHECK(strncmp(ccz_error_detail(), detail, strlen(detail)) == 0);
        else
            CHECK_STR(ccz_error_detail(), detail);
    }
    session_close(&t); /* the server's thread has its own detail: ours stays */
}

/* Writes of 64 KB to a server that does `after`, 5 ms apart, until one fails: it fails with
 * want and a detail containing the one given. */
static void write_fails(enum after after, ccz_status want, const char *detail)
{
    session t;
    bool ok = session_open(&t, after, NULL);
    CHECK(ok);
    if (ok) {
        uint8_t *chunk = calloc(1, 64 * 1024);
        ccz_status s = CCZ_OK;
        for (int i = 0; i < 200 && s == CCZ_OK; i++) {
            s = t.io.write(t.io.payload, chunk, 64 * 1024);
            if (s == CCZ_OK)
                usleep(5 * 1000);
        }
        CHECK_STATUS(s, want);
        CHECK_CONTAINS(ccz_error_detail(), detail);
        free(chunk);
    }
    session_close(&t);
}

static void test_io_failures(void)
{
    read_fails(CLOSE_NOTIFY, 0, CCZ_ERR_PROTOCOL, "the peer closed the connection while receiving",
               false);
    /* gone without close_notify: a truncation TLS itself reports */
    read_fails(VANISH, 0, CCZ_ERR_TLS, "TLS failed while receiving (", true);
    CHECK_CONTAINS(ccz_error_detail(), "unexpected eof while reading");
    /* silent past the socket's receive timeout */
    read_fails(SILENT, 200, CCZ_ERR_NETWORK, "timed out while receiving", false);

    /* reset under a write: the connection's failure, with the system's reason */
    write_fails(RESET, CCZ_ERR_NETWORK, "connection failed while sending: ");
}

/* A peer that refuses this side (it requires a certificate this side has none of): under TLS 1.3
 * it says so after this side's handshake ended, and a read, or a write that its closing fails,
 * reports its alert */
static void test_refused(void)
{
    session t;
    bool ok = session_open(&t, WANT_CERT, NULL);
    CHECK(ok);
    if (ok) {
        uint8_t b;
        CHECK_STATUS(t.io.read(t.io.payload, &b, 1), CCZ_ERR_TLS);
        CHECK_CONTAINS(ccz_error_detail(),
                       "the peer refused this side while receiving (TLS alert: ");
    }
    session_close(&t);
    CHECK(!t.srv.handshake_ok);
    write_fails(WANT_CERT, CCZ_ERR_TLS, "the peer refused this side while sending (TLS alert: ");
}

/* TLS 1.2 is refused: both sides fail the handshake */
static void test_tls12_refused(void)
{
    SSL_CTX *old = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_max_proto_version(old, TLS1_2_VERSION);
    SSL_CTX_set_verify(old, SSL_VERIFY_NONE, NULL);
    session t;
    CHECK(!session_open(&t, ECHO, old));
    session_close(&t);
    CHECK(!t.srv.handshake_ok);
    SSL_CTX_free(old);
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    static const test_case cases[] = {T(test_contexts), T(test_echo), T(test_io_failures),
                                      T(test_refused), T(test_tls12_refused)};
    return test_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
