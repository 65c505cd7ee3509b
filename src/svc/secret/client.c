/* SPDX-License-Identifier: Apache-2.0 */
/* The client of secret provisioning: Gramine's exchange over a connection whose server was
 * verified by its RA-TLS certificate or by a CA chain and its name. The server's bytes are
 * untrusted and read through the cursor; the secret lands only in a wiped buffer. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "core/guard.h"
#include "core/listener.h"
#include "svc/secret/secret.h"

ccz_status ccz_secret_ctx_use_ca_file(SSL_CTX *ctx, const char *path)
{
    CCZ_ENSURE(ctx && path, CCZ_ERR_INVALID_ARGUMENT, "a context and a CA file are needed");
    /* a context that appraises the server's evidence would keep doing so and never read the
     * CA file (nor check the host): refused rather than ignored */
    CCZ_ENSURE(!(SSL_CTX_get_verify_mode(ctx) & SSL_VERIFY_PEER), CCZ_ERR_INVALID_ARGUMENT,
               "the context verifies the server already: make it in CCZ_RATLS_CLIENT mode to "
               "verify the server by a CA chain");
    CCZ_GUARD_OSSL(SSL_CTX_load_verify_locations(ctx, path, NULL), CCZ_ERR_CERT_MALFORMED,
                   "CA chain %s", path);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    return CCZ_OK;
}

/* A server verified by a CA chain (no RA-TLS verdict) must also be the host we asked for. */
static ccz_status check_server(SSL *ssl, const char *host)
{
    const ccz_ratls_verdict *v = ccz_ratls_peer_verdict(ssl);
    if (v) {
        /* verified and appraised during the handshake; a context that let the handshake go on
         * after a refusal (its verify mode changed to none) gets nothing from this server */
        CCZ_ENSURE(v->status == CCZ_OK && v->appraisal.accepted, CCZ_ERR_CERT_CHAIN,
                   "the server's RA-TLS certificate was not accepted (%s: %.200s)",
                   v->status ? ccz_status_name(v->status) : "policy", v->message);
        return CCZ_OK;
    }
    X509 *peer = SSL_get0_peer_certificate(ssl);
    long vr = SSL_get_verify_result(ssl);
    CCZ_ENSURE(peer && vr == X509_V_OK && (SSL_get_verify_mode(ssl) & SSL_VERIFY_PEER),
               CCZ_ERR_CERT_CHAIN, "the server's certificate is not verified%s%s",
               vr != X509_V_OK ? ": "
                               : " (the context neither appraises an RA-TLS certificate "
                                 "nor has a CA chain)",
               vr != X509_V_OK ? X509_verify_cert_error_string(vr) : "");
    int ok = X509_check_ip_asc(peer, host, 0); /* negative: host is not an IP address */
    if (ok < 0)
        ok = X509_check_host(peer, host, 0, 0, NULL);
    CCZ_ENSURE(ok == 1, CCZ_ERR_CERT_CHAIN, "the server's certificate is not for %s", host);
    return CCZ_OK;
}

/* Waits for the socket until the deadline; false when it passed. */
static bool wait_io(SSL *ssl, int err, int64_t deadline)
{
    short ev = err == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN;
    struct pollfd p = {.fd = SSL_get_fd(ssl), .events = ev};
    for (;;) {
        int64_t left = deadline - listener_mono_ms();
        if (left <= 0)
            return false;
        int r = poll(&p, 1, (int)left);
        if (r > 0)
            return true;
        if (r == 0 || errno != EINTR)
            return false;
    }
}

/* What an I/O failure means: the server's alert (it refused our certificate), its close
 * (refused to give us a secret), or the deadline. */
static ccz_status io_error(SSL *ssl, int rc, bool timed_out, const char *what)
{
    int e = SSL_get_error(ssl, rc);
    unsigned long err = ERR_peek_last_error();
    ccz_status s;
    if (timed_out)
        s = ccz_fail(CCZ_ERR_NETWORK, "the server did not answer in time (%s)", what);
    else if (err && ERR_GET_LIB(err) == ERR_LIB_SSL && ERR_GET_REASON(err) >= SSL_AD_REASON_OFFSET)
        s = ccz_fail(CCZ_ERR_POLICY_REJECTED,
                     "the server refused our certificate (TLS alert: "
                     "%s)",
                     SSL_alert_desc_string_long((int)(ERR_GET_REASON(err) - SSL_AD_REASON_OFFSET)));
    else if (e == SSL_ERROR_ZERO_RETURN || e == SSL_ERROR_SYSCALL || e == SSL_ERROR_SSL)
        s = ccz_fail(CCZ_ERR_UNAVAILABLE,
                     "the server closed the connection without a secret "
                     "(%s): it does not release one to this client",
                     what);
    else
        s = ccz_fail(CCZ_ERR_TLS, "TLS failed (%s)", what);
    ERR_clear_error();
    return s;
}

static ccz_status write_all(SSL *ssl, const void *p, size_t n, int64_t deadline)
{
    size_t done = 0;
    while (done < n) {
        size_t w = 0;
        int rc = SSL_write_ex(ssl, (const uint8_t *)p + done, n - done, &w);
        if (rc == 1) {
            done += w;
            continue;
        }
        int e = SSL_get_error(ssl, rc);
        bool again = e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE;
        if (!again || !wait_io(ssl, e, deadline))
            return io_error(ssl, rc, again, "sending the request");
    }
    return CCZ_OK;
}

/* Reads exactly n bytes into out (appended). */
static ccz_status read_exact(SSL *ssl, ccz_buf *out, size_t n, int64_t deadline, const char *what)
{
    CCZ_GUARD(ccz_buf_reserve(out, n));
    size_t want = out->len + n;
    while (out->len < want) {
        size_t got = 0;
        int rc = SSL_read_ex(ssl, out->ptr + out->len, want - out->len, &got);
        if (rc == 1) {
            out->len += got;
            continue;
        }
        int e = SSL_get_error(ssl, rc);
        bool again = e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE;
        if (!again || !wait_io(ssl, e, deadline))
            return io_error(ssl, rc, again, what);
    }
    return CCZ_OK;
}

ccz_status secret_response_head(uint32_t *size, ccz_span head, size_t max)
{
    ccz_cursor c;
    ccz_span magic;
    ccz_cursor_init(&c, head);
    if (ccz_cursor_take(&c, &magic, sizeof CCZ_SECRET_RESPONSE) != CCZ_OK ||
        memcmp(magic.ptr, CCZ_SECRET_RESPONSE, sizeof CCZ_SECRET_RESPONSE) != 0)
        return ccz_fail(CCZ_ERR_PROTOCOL,
                        "the server's answer does not start with " CCZ_SECRET_RESPONSE "\\0");
    if (ccz_cursor_u32be(&c, size) != CCZ_OK)
        return ccz_fail(CCZ_ERR_PROTOCOL, "the server's answer has no size");
    CCZ_ENSURE(*size > 0, CCZ_ERR_PROTOCOL, "the server announces an empty secret");
    CCZ_ENSURE(*size <= max, CCZ_ERR_TOO_LARGE,
               "the server announces a secret of %u bytes, "
               "more than the %zu accepted",
               *size, max);
    return CCZ_OK;
}

static ccz_status exchange(ccz_buf *secret, SSL *ssl, int64_t deadline)
{
    /* under TLS 1.3 a server that refuses our certificate does so after our handshake ended:
     * its alert may make the write fail, and is read next, so the read tells why */
    ccz_status ws = write_all(ssl, CCZ_SECRET_REQUEST, sizeof CCZ_SECRET_REQUEST, deadline);
    ERR_clear_error();
    ccz_buf head = CCZ_BUF_INIT;
    ccz_status s =
        read_exact(ssl, &head, sizeof CCZ_SECRET_RESPONSE + 4, deadline, "reading the response");
    uint32_t size = 0;
    if (s == CCZ_OK)
        s = secret_response_head(&size, ccz_buf_span(&head),
                                 secret->max ? secret->max : CCZ_SECRET_MAX_BYTES);
    ccz_buf_free(&head);
    CCZ_GUARD(s);
    CCZ_ENSURE(ws == CCZ_OK, CCZ_ERR_PROTOCOL, "the server answered a request it did not get");
    return read_exact(ssl, secret, size, deadline, "reading the secret");
}

/* SIGPIPE would end the process when the server closes first: block it on this thread for the
 * exchange and take back one that arrived meanwhile (a library must not change handlers). */
typedef struct {
    sigset_t old;
    bool pending_before;
} pipe_guard;

static void pipe_block(pipe_guard *g)
{
    sigset_t set, pending;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    sigpending(&pending);
    g->pending_before = sigismember(&pending, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, &g->old);
}

static void pipe_restore(pipe_guard *g)
{
    sigset_t set, pending;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    sigpending(&pending);
    if (!g->pending_before && sigismember(&pending, SIGPIPE)) {
        static const struct timespec zero = {0, 0};
        while (sigtimedwait(&set, NULL, &zero) < 0 && errno == EINTR) {
        }
    }
    pthread_sigmask(SIG_SETMASK, &g->old, NULL);
}

ccz_status ccz_secret_get(ccz_buf *secret, SSL_CTX *ctx, const char *host_port, long timeout_ms)
{
    CCZ_ENSURE(secret && ctx && host_port, CCZ_ERR_INVALID_ARGUMENT,
               "a buffer, a context and a server address are needed");
    ccz_buf_reset(secret);
    secret->secret = true;
    if (timeout_ms <= 0)
        timeout_ms = CCZ_RATLS_TIMEOUT_MS;
    int64_t deadline = listener_mono_ms() + timeout_ms;
    char host[256], port[6];
    CCZ_GUARD(ccz_host_port_split(host, sizeof host, port, host_port, NULL, false));
    pipe_guard g;
    pipe_block(&g);
    SSL *ssl = NULL;
    ccz_status s = ccz_ratls_connect_timeout(&ssl, ctx, host_port, timeout_ms);
    if (s == CCZ_OK)
        s = check_server(ssl, host);
    if (s == CCZ_OK) {
        /* the exchange without blocking, so the deadline holds; the request goes out at once
         * (with Nagle it waited for the ACK of our Finished, which a server that has nothing to
         * send delays by up to 40 ms) */
        int one = 1;
        setsockopt(SSL_get_fd(ssl), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        /* OpenSSL's copy of the record that holds the secret is wiped once read */
        SSL_set_options(ssl, SSL_OP_CLEANSE_PLAINTEXT);
        if (!BIO_socket_nbio(SSL_get_fd(ssl), 1)) /* a socket BIO ignores BIO_set_nbio */
            s = ccz_fail_ossl(CCZ_ERR_NETWORK, "cannot make the connection non-blocking");
        if (s == CCZ_OK)
            s = exchange(secret, ssl, deadline);
    }
    if (s)
        ccz_buf_reset(secret);
    if (ssl)
        SSL_shutdown(ssl);
    SSL_free(ssl);
    ERR_clear_error();
    pipe_restore(&g);
    return s;
}
