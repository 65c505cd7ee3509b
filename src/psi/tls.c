/* SPDX-License-Identifier: Apache-2.0 */
/* PSI's byte streams over TLS: the ccz_psi_io of a TLS session, and the unauthenticated TLS
 * context of ECDH PSI without a TEE (a fresh self-signed certificate, no peer verification). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "core/guard.h"
#include "ccz/psi.h"
#include "x509/x509.h"

/* Why an SSL call failed: the peer closed, the socket's timeout ran out, or TLS. */
static ccz_status ssl_failure(SSL *ssl, int r, const char *what)
{
    int e = SSL_get_error(ssl, r);
    int err = errno;
    if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0 && !err)) {
        ERR_clear_error();
        return ccz_fail(CCZ_ERR_PROTOCOL, "the peer closed the connection while %s", what);
    }
    if ((e == SSL_ERROR_SYSCALL || e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) &&
        (err == EAGAIN || err == EWOULDBLOCK)) {
        ERR_clear_error();
        return ccz_fail(CCZ_ERR_NETWORK, "timed out while %s", what);
    }
    if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
        ERR_clear_error();
        return ccz_fail(CCZ_ERR_NETWORK, "connection failed while %s: %s", what, strerror(err));
    }
    unsigned long last = ERR_peek_last_error();
    if (last && ERR_GET_REASON(last) >= SSL_AD_REASON_OFFSET) {
        /* under TLS 1.3 a peer that rejects this side's certificate says so after the
         * handshake, in the first record this side reads */
        int alert = (int)(ERR_GET_REASON(last) - SSL_AD_REASON_OFFSET);
        ERR_clear_error();
        return ccz_fail(CCZ_ERR_TLS, "the peer refused this side while %s (TLS alert: %s)", what,
                        SSL_alert_desc_string_long(alert));
    }
    return ccz_fail_ossl(CCZ_ERR_TLS, "TLS failed while %s", what);
}

/* A write failed: when the peer refused this side, its alert may be waiting to be read (it
 * closes after sending it, so the write sees the connection reset): report the alert. */
static ccz_status write_failure(SSL *ssl, int r)
{
    ccz_status s = ssl_failure(ssl, r, "sending");
    char detail[512];
    snprintf(detail, sizeof detail, "%s", ccz_error_detail());
    uint8_t b;
    size_t got;
    ERR_clear_error();
    errno = 0;
    int rr = SSL_read_ex(ssl, &b, 1, &got);
    unsigned long last = ERR_peek_last_error();
    if (rr <= 0 && last && ERR_GET_REASON(last) >= SSL_AD_REASON_OFFSET)
        return ssl_failure(ssl, rr, "sending");
    ERR_clear_error();
    return ccz_fail(s, "%s", detail);
}

static ccz_status ssl_write_all(void *payload, const uint8_t *p, size_t n)
{
    SSL *ssl = payload;
    while (n) {
        size_t w = 0;
        errno = 0;
        int r = SSL_write_ex(ssl, p, n, &w);
        if (r <= 0)
            return write_failure(ssl, r);
        p += w;
        n -= w;
    }
    return CCZ_OK;
}

static ccz_status ssl_read_all(void *payload, uint8_t *p, size_t n)
{
    SSL *ssl = payload;
    while (n) {
        size_t got = 0;
        errno = 0;
        int r = SSL_read_ex(ssl, p, n, &got);
        if (r <= 0)
            return ssl_failure(ssl, r, "receiving");
        p += got;
        n -= got;
    }
    return CCZ_OK;
}

void ccz_psi_io_ssl(ccz_psi_io *io, SSL *ssl)
{
    io->write = ssl_write_all;
    io->read = ssl_read_all;
    io->payload = ssl;
}

ccz_status ccz_psi_tls_ctx_new_insecure(SSL_CTX **out, bool server)
{
    *out = NULL;
    SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    CCZ_ENSURE(ctx, CCZ_ERR_NOMEM, "out of memory");
    ccz_status s = CCZ_OK;
    EVP_PKEY *key = NULL;
    X509 *cert = NULL;
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1) {
        s = ccz_fail_ossl(CCZ_ERR_TLS, "cannot require TLS 1.3");
        goto out;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL); /* unauthenticated, as the name says */
    if (server) {
        int64_t now = (int64_t)time(NULL);
        x509_issue_opts o = {.cn = "ccz psi ecdh (ephemeral, unauthenticated)",
                             .not_before = now - 3600,
                             .not_after = now + 86400};
        if (!(key = EVP_EC_gen("P-256"))) {
            s = ccz_fail_ossl(CCZ_ERR_CRYPTO, "cannot make a P-256 key");
            goto out;
        }
        o.issuer_key = key;
        if ((s = x509_issue(&cert, key, &o)) != CCZ_OK)
            goto out;
        if (SSL_CTX_use_certificate(ctx, cert) != 1 || SSL_CTX_use_PrivateKey(ctx, key) != 1) {
            s = ccz_fail_ossl(CCZ_ERR_TLS, "cannot use the ephemeral certificate");
            goto out;
        }
        SSL_CTX_set_num_tickets(ctx, 0);
    }
    *out = ctx;
    ctx = NULL;
out:
    X509_free(cert);
    EVP_PKEY_free(key);
    SSL_CTX_free(ctx);
    return s;
}
