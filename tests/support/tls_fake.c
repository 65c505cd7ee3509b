/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "tls_fake.h"
#include "test.h"
#include "x509/x509.h"

test_cert test_cert_issue(const char *cn, const char *san, const test_cert *issuer, bool ca)
{
    test_cert k = {EVP_EC_gen("P-256"), NULL};
    CHECK(k.key != NULL);
    int64_t now = (int64_t)time(NULL);
    x509_issue_opts o = {.cn = cn,
                         .issuer = issuer ? issuer->cert : NULL,
                         .issuer_key = issuer ? issuer->key : k.key,
                         .ca = ca,
                         .not_before = now - 3600,
                         .not_after = now + 86400,
                         .san = san};
    CHECK_OK(x509_issue(&k.cert, k.key, &o));
    return k;
}

void test_cert_write_pem(const test_cert *c, const char *path)
{
    FILE *f = fopen(path, "w");
    CHECK(f && PEM_write_X509(f, c->cert) == 1);
    if (f)
        fclose(f);
}

void test_cert_free(test_cert *c)
{
    X509_free(c->cert);
    EVP_PKEY_free(c->key);
    c->cert = NULL;
    c->key = NULL;
}

const tls_certs *tls_certs_get(void)
{
    static tls_certs c;
    if (!c.ca.cert) {
        c.ca = test_cert_issue("ccz test CA", NULL, NULL, true);
        c.good = test_cert_issue("ccz test server", "IP:127.0.0.1", &c.ca, false);
        c.other_ip = test_cert_issue("ccz test server elsewhere", "IP:127.0.0.2", &c.ca, false);
        c.stranger = test_cert_issue("ccz test server", "IP:127.0.0.1", NULL, false);
        snprintf(c.ca_file, sizeof c.ca_file, "%s/tls-fake-ca.pem", test_tmpdir());
        test_cert_write_pem(&c.ca, c.ca_file);
    }
    return &c;
}

bool tls_fake_http_whole(const char *req, size_t len)
{
    const char *end = strstr(req, "\r\n\r\n");
    if (!end)
        return false;
    const char *cl = strcasestr(req, "\r\nContent-Length: ");
    size_t body = cl && cl < end ? strtoul(cl + 18, NULL, 10) : 0;
    return len >= (size_t)(end + 4 - req) + body;
}

static void write_all(SSL *ssl, const char *a, size_t n)
{
    size_t w = 0;
    while (n && SSL_write_ex(ssl, a, n, &w) == 1) {
        a += w;
        n -= w;
    }
}

static void read_request(tls_fake *f, SSL *ssl)
{
    f->request_start = f->request_len;
    for (;;) {
        size_t got = 0;
        if (f->request_len + 1 >= sizeof f->request ||
            SSL_read_ex(ssl, f->request + f->request_len, sizeof f->request - 1 - f->request_len,
                        &got) != 1)
            return;
        f->request_len += got;
        f->request[f->request_len] = 0;
        if (!f->request_whole ||
            f->request_whole(f->request + f->request_start, f->request_len - f->request_start))
            return;
    }
}

static void pause_for(const tls_fake *f)
{
    struct timespec t = {f->pause_ms / 1000, (long)(f->pause_ms % 1000) * 1000000};
    if (f->pause_ms > 0)
        nanosleep(&t, NULL);
}

static void *serve(void *arg)
{
    tls_fake *f = arg;
    int c = accept(f->listener, NULL, NULL);
    if (c < 0)
        return NULL;
    struct timeval tv = {.tv_sec = 10};
    setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    SSL *ssl = SSL_new(f->ctx);
    SSL_set_fd(ssl, c);
    f->handshake_done = SSL_accept(ssl) == 1;
    if (f->handshake_done) {
        for (int i = 0; i < (int)CCZ_ARRAY_LEN(f->before) && f->before[i]; i++) {
            read_request(f, ssl);
            pause_for(f);
            write_all(ssl, f->before[i], strlen(f->before[i]));
        }
        read_request(f, ssl);
        if (f->mode == TLS_FAKE_SILENT) { /* reads on, answering nothing, until the client
                                              closes (or 10 s pass) */
            char sink[4096];
            size_t got;
            while (SSL_read_ex(ssl, sink, sizeof sink, &got) == 1) {
            }
        } else {
            pause_for(f);
            size_t n = 0;
            char *made = f->answer_for ? f->answer_for(f->request, f->request_len, &n) : NULL;
            const char *a = made ? made : f->answer ? f->answer : "";
            if (!made)
                n = f->answer_len ? f->answer_len : strlen(a);
            if (f->mode == TLS_FAKE_DRIP) {
                static const struct timespec pause = {0, 25 * 1000 * 1000};
                size_t w = 0;
                for (size_t i = 0; i < n && SSL_write_ex(ssl, a + i, 1, &w) == 1; i++)
                    nanosleep(&pause, NULL);
                SSL_shutdown(ssl);
            } else {
                write_all(ssl, a, n);
            }
            free(made);
            if (f->mode == TLS_FAKE_ANSWER)
                SSL_shutdown(ssl);
        }
    } else {
        /* the alert is sent: let the client read it before the socket goes (closing with its
         * bytes unread would reset the connection under the alert) */
        shutdown(c, SHUT_WR);
        char sink[4096];
        while (read(c, sink, sizeof sink) > 0) {
        }
    }
    SSL_free(ssl);
    close(c);
    return NULL;
}

void tls_fake_start(tls_fake *f)
{
    signal(SIGPIPE, SIG_IGN);
    if (!f->cert)
        f->cert = &tls_certs_get()->good;
    f->ctx = SSL_CTX_new(TLS_server_method());
    CHECK(f->ctx && f->cert && SSL_CTX_use_certificate(f->ctx, f->cert->cert) == 1 &&
          SSL_CTX_use_PrivateKey(f->ctx, f->cert->key) == 1);
    SSL_CTX_set_num_tickets(f->ctx, 0);
    if (f->mode == TLS_FAKE_WANT_CERT)
        SSL_CTX_set_verify(f->ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    f->listener = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    CHECK(bind(f->listener, (struct sockaddr *)&a, sizeof a) == 0 && listen(f->listener, 4) == 0);
    getsockname(f->listener, (struct sockaddr *)&a, &al);
    snprintf(f->addr, sizeof f->addr, "127.0.0.1:%d", ntohs(a.sin_port));
    test_thread(&f->thread, serve, f);
}

void tls_fake_stop(tls_fake *f)
{
    shutdown(f->listener, SHUT_RDWR); /* a server no client reached stops waiting */
    pthread_join(f->thread, NULL);
    close(f->listener);
    SSL_CTX_free(f->ctx);
}
