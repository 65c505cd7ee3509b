/* SPDX-License-Identifier: Apache-2.0 */
/* Starting a service: its data directory, trust anchors, policy, own attester, the listener's
 * TLS context (RA-TLS from its TEE, an ordinary certificate, or one generated into the data
 * directory at first start), the HTTP server with the configured limits, then the service's
 * own routes; the loop runs on a thread of its own. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>

#include "core/guard.h"
#include "svc/svc.h"
#include "x509/x509.h"

struct ccz_svc {
    svc_common common;
    const svc_def *def;
    void *state;
    pthread_t thread;
    bool running, joined;
    ccz_status run_status;
    int port;
};

ccz_status svc_path(char *out, size_t cap, const svc_common *sc, const char *name)
{
    int n = snprintf(out, cap, "%s/%s", sc->data_dir, name);
    CCZ_ENSURE(n > 0 && (size_t)n < cap, CCZ_ERR_TOO_LARGE,
               "the data directory's path is too long");
    return CCZ_OK;
}

ccz_status svc_load_or_make(ccz_buf *out, const char *path,
                            ccz_status (*make)(ccz_buf *out, void *payload), void *payload)
{
    if (ccz_file_exists(path))
        return ccz_file_read(out, path, 1 << 20);
    CCZ_GUARD(make(out, payload));
    /* never over one another process made meanwhile: that one is kept, and read */
    ccz_status st = ccz_file_create(path, ccz_buf_span(out), 0600);
    if (st == CCZ_ERR_EXISTS) {
        ccz_error_clear();
        ccz_buf_reset(out);
        return ccz_file_read(out, path, 1 << 20);
    }
    if (st != CCZ_OK)
        return ccz_fail_context(st, "cannot keep %s", path);
    ccz_log(CCZ_LOG_INFO, "made %s", path);
    return CCZ_OK;
}

static ccz_status resolve_data_dir(svc_common *sc, const char *service)
{
    const char *dir = svc_str(sc->config, "data-dir");
    const char *env = getenv("CCZ_DATA_DIR"), *xdg = getenv("XDG_DATA_HOME"),
               *home = getenv("HOME");
    int n;
    CCZ_ENSURE(!dir || *dir, CCZ_ERR_INVALID_ARGUMENT,
               "--data-dir is empty: give a directory, or leave it out for the default");
    if (dir)
        n = snprintf(sc->data_dir, sizeof sc->data_dir, "%s", dir);
    else if (env && *env)
        n = snprintf(sc->data_dir, sizeof sc->data_dir, "%s", env);
    else if (xdg && *xdg)
        n = snprintf(sc->data_dir, sizeof sc->data_dir, "%s/ccz/%s", xdg, service);
    else if (home && *home)
        n = snprintf(sc->data_dir, sizeof sc->data_dir, "%s/.local/share/ccz/%s", home, service);
    else
        return ccz_fail(CCZ_ERR_INVALID_ARGUMENT,
                        "no data directory: give --data-dir, or set CCZ_DATA_DIR or HOME");
    CCZ_ENSURE(n > 0 && (size_t)n < sizeof sc->data_dir, CCZ_ERR_TOO_LARGE,
               "the data directory's path is too long");
    ccz_status st = ccz_mkdir_p(sc->data_dir, 0700);
    if (st != CCZ_OK)
        return ccz_fail_context(st, "data directory %s", sc->data_dir);
    return CCZ_OK;
}

static ccz_status load_trust(svc_common *sc)
{
    const ccz_svc_config *c = sc->config;
    size_t n = svc_list_len(c, "sim-root");
    const char **roots = n ? calloc(n, sizeof *roots) : NULL;
    CCZ_ENSURE(!n || roots, CCZ_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        roots[i] = svc_list_at(c, "sim-root", i);
    ccz_trust_sources src = CCZ_TRUST_SOURCES_INIT;
    src.root_ca = svc_str(c, "root-ca");
    src.sim_roots = roots;
    src.n_sim_roots = n;
    src.sim_dir = svc_str(c, "sim-dir");
    ccz_status st = ccz_trust_load(&sc->trust, &src);
    free(roots);
    CCZ_GUARD(st);
    const char *coll = svc_str(c, "collateral");
    if (coll && (st = ccz_collateral_load_file(&sc->collateral, coll)) != CCZ_OK)
        return ccz_fail_context(st, "--collateral %s", coll);
    return CCZ_OK;
}

/* The policy file may carry sections for services beside the appraisal policy ("secrets"):
 * they are kept in policy_doc and taken out before the policy is parsed. */
static const char *const service_sections[] = {"secrets"};

static ccz_status load_policy(svc_common *sc)
{
    const char *file = svc_str(sc->config, "policy");
    if (!file) {
        sc->policy_doc = json_object();
        CCZ_ENSURE(sc->policy_doc, CCZ_ERR_NOMEM, "out of memory");
        return ccz_policy_default(&sc->policy);
    }
    ccz_buf text = CCZ_BUF_INIT;
    ccz_status st = ccz_file_read(&text, file, 1 << 20);
    if (st != CCZ_OK)
        return ccz_fail_context(st, "--policy %s", file);
    json_error_t err;
    sc->policy_doc =
        json_loadb(text.ptr ? (const char *)text.ptr : "", text.len, JSON_REJECT_DUPLICATES, &err);
    ccz_buf_free(&text);
    CCZ_ENSURE(sc->policy_doc && json_is_object(sc->policy_doc), CCZ_ERR_POLICY,
               "--policy %s: not a JSON object (%s)", file, sc->policy_doc ? "" : err.text);
    json_t *rest = json_deep_copy(sc->policy_doc);
    CCZ_ENSURE(rest, CCZ_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < CCZ_ARRAY_LEN(service_sections); i++)
        json_object_del(rest, service_sections[i]);
    char *t = json_dumps(rest, JSON_COMPACT);
    json_decref(rest);
    CCZ_ENSURE(t, CCZ_ERR_NOMEM, "out of memory");
    st = ccz_policy_parse(&sc->policy, t, strlen(t));
    free(t);
    if (st != CCZ_OK)
        return ccz_fail_context(st, "--policy %s", file);
    return CCZ_OK;
}

static ccz_status make_attester(svc_common *sc)
{
    const char *tee = svc_str(sc->config, "tee");
    if (!tee)
        return CCZ_OK;
    ccz_attester_opts o = CCZ_ATTESTER_OPTS_INIT;
    ccz_status st = ccz_tee_parse(&o.tee, tee);
    if (st != CCZ_OK)
        return ccz_fail_context(st, "--tee");
    o.sim.dir = svc_str(sc->config, "sim-dir");
    return ccz_attester_new(&sc->attester, &o);
}

/* A self-signed P-256 certificate for the listener, made at first start and kept in the data
 * directory (tls-cert.pem, tls-key.pem), so clients can pin it (curl --cacert). */
static ccz_status make_tls_key(ccz_buf *out, void *payload)
{
    (void)payload;
    EVP_PKEY *key = EVP_EC_gen("P-256");
    CCZ_ENSURE(key, CCZ_ERR_CRYPTO, "cannot make a P-256 key");
    ccz_status st = x509_key_to_pem(out, key);
    EVP_PKEY_free(key);
    return st;
}

typedef struct {
    EVP_PKEY *key;
} cert_args;

static ccz_status make_tls_cert(ccz_buf *out, void *payload)
{
    cert_args *a = payload;
    int64_t now = (int64_t)time(NULL);
    x509_issue_opts o = {.cn = "ccz service",
                         .org = "ccz",
                         .issuer_key = a->key,
                         .not_before = now - 3600,
                         .not_after = now + 10 * 365 * 86400LL,
                         .san = "DNS:localhost,IP:127.0.0.1,IP:::1"};
    X509 *x = NULL;
    CCZ_GUARD(x509_issue(&x, a->key, &o));
    ccz_status st = x509_cert_to_pem(out, x);
    X509_free(x);
    return st;
}

static ccz_status load_cert_key(X509 **cert, EVP_PKEY **key, const char *cert_file,
                                const char *key_file)
{
    ccz_buf c = CCZ_BUF_INIT, k;
    ccz_buf_init(&k, 0, true);
    ccz_status st = ccz_file_read(&c, cert_file, 1 << 20);
    if (st == CCZ_OK && (st = x509_read_cert(cert, ccz_buf_span(&c))) != CCZ_OK)
        st = ccz_fail_context(st, "%s", cert_file);
    if (st == CCZ_OK)
        st = ccz_file_read(&k, key_file, 1 << 20);
    if (st == CCZ_OK && x509_key_from_pem(key, ccz_buf_span(&k)) != CCZ_OK)
        st = ccz_fail_ossl(CCZ_ERR_KEY_MALFORMED, "%s: not a PEM private key", key_file);
    ccz_buf_free(&c);
    ccz_buf_free(&k);
    return st;
}

static ccz_status make_tls(svc_common *sc)
{
    const char *cert_file = svc_str(sc->config, "tls-cert"),
               *key_file = svc_str(sc->config, "tls-key");
    CCZ_ENSURE(!cert_file == !key_file, CCZ_ERR_INVALID_ARGUMENT,
               "--tls-cert and --tls-key go together");
    X509 *cert = NULL;
    EVP_PKEY *key = NULL;
    ccz_status st = CCZ_OK;
    if (cert_file) {
        st = load_cert_key(&cert, &key, cert_file, key_file);
    } else if (!sc->attester) {
        char cpath[4200], kpath[4200];
        ccz_buf kpem, cpem = CCZ_BUF_INIT;
        ccz_buf_init(&kpem, 0, true);
        st = svc_path(kpath, sizeof kpath, sc, "tls-key.pem");
        if (st == CCZ_OK)
            st = svc_path(cpath, sizeof cpath, sc, "tls-cert.pem");
        if (st == CCZ_OK)
            st = svc_load_or_make(&kpem, kpath, make_tls_key, NULL);
        if (st == CCZ_OK && x509_key_from_pem(&key, ccz_buf_span(&kpem)) != CCZ_OK)
            st = ccz_fail_ossl(CCZ_ERR_KEY_MALFORMED, "%s: not a PEM private key", kpath);
        cert_args a = {key};
        if (st == CCZ_OK)
            st = svc_load_or_make(&cpem, cpath, make_tls_cert, &a);
        if (st == CCZ_OK && (st = x509_read_cert(&cert, ccz_buf_span(&cpem))) != CCZ_OK)
            st = ccz_fail_context(st, "%s", cpath);
        ccz_buf_free(&kpem);
        ccz_buf_free(&cpem);
    }
    if (st == CCZ_OK) {
        /* clients may present RA-TLS certificates (they are verified and appraised), but need
         * not: the REST API works over ordinary server-authenticated TLS */
        ccz_ratls_opts o = CCZ_RATLS_OPTS_INIT;
        o.server = true;
        o.mode = CCZ_RATLS_CLIENT;
        o.cert = cert;
        o.key = key;
        o.attester = cert ? NULL : sc->attester;
        o.policy = sc->policy;
        o.trust = sc->trust;
        o.collateral = sc->collateral;
        st = ccz_ratls_ctx_new(&sc->tls, &o);
        if (st == CCZ_OK)
            SSL_CTX_set_verify(sc->tls, SSL_VERIFY_PEER, NULL);
    }
    X509_free(cert);
    EVP_PKEY_free(key);
    return st;
}

static void common_free(svc_common *sc)
{
    http_server_free(sc->http);
    SSL_CTX_free(sc->tls);
    ccz_collateral_free(sc->collateral);
    ccz_attester_free(sc->attester);
    ccz_policy_free(sc->policy);
    json_decref(sc->policy_doc);
    ccz_trust_free(sc->trust);
}

static void *run(void *arg)
{
    ccz_svc *s = arg;
    s->run_status = http_server_run(s->common.http);
    return NULL;
}

ccz_status ccz_svc_start(ccz_svc **out, const ccz_svc_config *c, bool handle_signals)
{
    *out = NULL;
    ccz_svc *s = calloc(1, sizeof *s);
    CCZ_ENSURE(s, CCZ_ERR_NOMEM, "out of memory");
    s->def = c->def;
    svc_common *sc = &s->common;
    sc->config = c;
    ccz_status st = resolve_data_dir(sc, c->def->name);
    if (st == CCZ_OK)
        st = load_trust(sc);
    if (st == CCZ_OK)
        st = load_policy(sc);
    if (st == CCZ_OK)
        st = make_attester(sc);
    if (st == CCZ_OK)
        st = make_tls(sc);
    if (st == CCZ_OK) {
        http_server_opts ho = {
            .tls = sc->tls,
            .name = c->def->name,
            .max_body = svc_uint(c, "max-body"),
            .max_connections = svc_uint(c, "max-connections"),
            .max_per_peer = svc_uint(c, "max-per-peer"),
            .handshake_ms = svc_uint(c, "handshake-timeout-ms"),
            .request_ms = svc_uint(c, "request-timeout-ms"),
            .idle_ms = svc_uint(c, "idle-timeout-ms"),
            .drain_ms = svc_uint(c, "drain-ms"),
            .handle_signals = handle_signals,
        };
        st = http_server_new(&sc->http, &ho);
    }
    if (st == CCZ_OK)
        st = c->def->start(&s->state, sc, c);
    if (st == CCZ_OK)
        st = http_server_listen(sc->http, svc_str(c, "listen"), &s->port);
    if (st == CCZ_OK && pthread_create(&s->thread, NULL, run, s) != 0)
        st = ccz_fail(CCZ_ERR_NOMEM, "cannot start the service's thread");
    if (st != CCZ_OK) {
        if (s->state)
            c->def->stop(s->state);
        common_free(sc);
        free(s);
        return st;
    }
    s->running = true;
    ccz_log(CCZ_LOG_INFO, "%s: listening on port %d (data in %s)", c->def->name, s->port,
            sc->data_dir);
    *out = s;
    return CCZ_OK;
}

int ccz_svc_port(const ccz_svc *s)
{
    return s->port;
}

ccz_status ccz_svc_wait(ccz_svc *s)
{
    if (s->running && !s->joined) {
        pthread_join(s->thread, NULL);
        s->joined = true;
    }
    return s->run_status;
}

void ccz_svc_stop(ccz_svc *s, unsigned grace_ms)
{
    if (s->running && !s->joined)
        http_server_shutdown(s->common.http, grace_ms);
}

void ccz_svc_free(ccz_svc *s)
{
    if (!s)
        return;
    ccz_svc_stop(s, 1000);
    ccz_status st = ccz_svc_wait(s);
    if (st != CCZ_OK)
        ccz_log(CCZ_LOG_WARN, "%s: the loop ended with %s", s->def->name, ccz_status_name(st));
    if (s->state)
        s->def->stop(s->state);
    common_free(&s->common);
    free(s);
}

/* ---- the admin token -------------------------------------------------------------------------*/

static ccz_status make_admin_token(ccz_buf *out, void *payload)
{
    (void)payload;
    uint8_t raw[32];
    CCZ_ENSURE(RAND_bytes(raw, sizeof raw) == 1, CCZ_ERR_CRYPTO, "no randomness");
    ccz_status st = ccz_hex_encode(out, CCZ_SPAN(raw, sizeof raw));
    ccz_wipe(raw, sizeof raw);
    return st == CCZ_OK ? ccz_buf_append(out, "\n", 1) : st;
}

ccz_status svc_admin_token_load(uint8_t hash[32], const svc_common *sc)
{
    char path[4200];
    ccz_buf tok;
    ccz_buf_init(&tok, 0, true);
    CCZ_GUARD(svc_path(path, sizeof path, sc, "admin-token"));
    ccz_status st = svc_load_or_make(&tok, path, make_admin_token, NULL);
    /* an operator's file may end in CR LF, spaces or tabs: none is part of the token */
    while (st == CCZ_OK && tok.len && memchr("\r\n\t ", tok.ptr[tok.len - 1], 4))
        tok.len--;
    if (st == CCZ_OK && tok.len < 16)
        st = ccz_fail(CCZ_ERR_KEY_MALFORMED, "%s: the admin token is shorter than 16 bytes", path);
    if (st == CCZ_OK)
        SHA256(tok.ptr, tok.len, hash);
    ccz_buf_free(&tok);
    return st;
}

bool svc_admin_token_ok(const uint8_t hash[32], const char *header)
{
    if (!header || strncasecmp(header, "Bearer ", 7) != 0)
        return false;
    uint8_t got[32];
    SHA256((const uint8_t *)header + 7, strlen(header + 7), got);
    return ccz_ct_equal(got, hash, sizeof got);
}
