/* SPDX-License-Identifier: Apache-2.0 */
/* ccz_secret_server: the secret-provisioning service on an http_server of its own. The TLS
 * context presents this server's certificate and asks every client for its RA-TLS certificate
 * without requiring one (as the REST listeners do), so a client without one completes its
 * handshake and is then answered nothing; a certificate the policy refuses fails the
 * handshake. The options are trusted; clients are not. */
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "core/guard.h"
#include "svc/secret/secret.h"

struct ccz_secret_server {
    secret_service *svc;
    SSL_CTX *tls;
    http_server *http;
    int port;
};

static ccz_status make_tls(SSL_CTX **out, const ccz_secret_server_opts *o, const ccz_policy *policy)
{
    ccz_ratls_opts ro = CCZ_RATLS_OPTS_INIT;
    ro.server = true;
    ro.mode = CCZ_RATLS_CLIENT; /* this side verifies the client (and always presents) */
    ro.cert = o->cert;
    ro.key = o->key;
    ro.attester = o->attester;
    ro.policy = policy;
    ro.trust = o->trust;
    ro.collateral = o->collateral;
    CCZ_GUARD(ccz_ratls_ctx_new(out, &ro));
    if (o->cert_chain_file && SSL_CTX_use_certificate_chain_file(*out, o->cert_chain_file) != 1) {
        SSL_CTX_free(*out);
        *out = NULL;
        return ccz_fail_ossl(CCZ_ERR_CERT_MALFORMED, "%s", o->cert_chain_file);
    }
    /* ask for a certificate, do not require one: the preface handler refuses its absence (and
     * REST endpoints on the same listener may serve clients without one) */
    SSL_CTX_set_verify(*out, SSL_VERIFY_PEER, NULL);
    return CCZ_OK;
}

ccz_status ccz_secret_server_new(ccz_secret_server **out, const ccz_secret_server_opts *o)
{
    *out = NULL;
    CCZ_ENSURE(o && o->version == CCZ_SECRET_SERVER_OPTS_VERSION, CCZ_ERR_INVALID_ARGUMENT,
               "secret server options missing or of the wrong version");
    CCZ_ENSURE(o->listen && o->trust, CCZ_ERR_INVALID_ARGUMENT,
               "a secret server needs an address to listen on and trust anchors");
    CCZ_ENSURE(o->attester || (o->cert && o->key), CCZ_ERR_INVALID_ARGUMENT,
               "a secret server needs an attester, or a certificate and its key");
    ccz_secret_server *s = calloc(1, sizeof *s);
    CCZ_ENSURE(s, CCZ_ERR_NOMEM, "out of memory");
    ccz_status st;
    CCZ_GUARD_GOTO(secret_service_new(&s->svc, o->policy, o->secrets, o->n_secrets), st, fail);
    CCZ_GUARD_GOTO(make_tls(&s->tls, o, secret_service_policy(s->svc)), st, fail);
    unsigned deadline = o->deadline_ms ? o->deadline_ms : 10000;
    http_server_opts ho = {
        .tls = s->tls,
        .name = "secret",
        .max_head = 4096,
        .max_body = 4096,
        .max_connections = o->max_connections,
        .max_per_peer = o->max_per_peer,
        .handshake_ms = deadline,
        .request_ms = deadline,
        .idle_ms = deadline,
        .handle_signals = o->handle_signals,
    };
    CCZ_GUARD_GOTO(http_server_new(&s->http, &ho), st, fail);
    CCZ_GUARD_GOTO(secret_service_attach(s->svc, s->http), st, fail);
    CCZ_GUARD_GOTO(http_server_listen(s->http, o->listen, &s->port), st, fail);
    *out = s;
    return CCZ_OK;
fail:
    ccz_secret_server_free(s);
    return st;
}

int ccz_secret_server_port(const ccz_secret_server *s)
{
    return s->port;
}

ccz_status ccz_secret_server_run(ccz_secret_server *s)
{
    return http_server_run(s->http);
}

void ccz_secret_server_shutdown(ccz_secret_server *s, unsigned grace_ms)
{
    http_server_shutdown(s->http, grace_ms);
}

void ccz_secret_server_free(ccz_secret_server *s)
{
    if (!s)
        return;
    http_server_free(s->http); /* first: its connections may still reference the service */
    SSL_CTX_free(s->tls);
    secret_service_free(s->svc);
    free(s);
}

ccz_status ccz_secret_serve(const ccz_secret_server_opts *o)
{
    CCZ_ENSURE(o && o->version == CCZ_SECRET_SERVER_OPTS_VERSION, CCZ_ERR_INVALID_ARGUMENT,
               "secret server options missing or of the wrong version");
    ccz_secret_server_opts so = *o;
    so.handle_signals = true;
    ccz_secret_server *s;
    CCZ_GUARD(ccz_secret_server_new(&s, &so));
    ccz_log(CCZ_LOG_INFO, "secret: serving secret provisioning on %s (port %d)", o->listen,
            s->port);
    ccz_status st = ccz_secret_server_run(s);
    ccz_secret_server_free(s);
    return st;
}
