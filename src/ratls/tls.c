/* SPDX-License-Identifier: Apache-2.0 */
/* RA-TLS contexts on OpenSSL: this side's RA-TLS certificate, a certificate-verification
 * callback that verifies and appraises the peer's evidence instead of a CA chain, the verdict
 * kept on the connection (reported as accepted only once the handshake completes, when the peer
 * has proved it holds the certificate's key), a cache of verified peer certificates so repeat
 * handshakes skip evidence verification, and connect/accept helpers bounded by a deadline. Peer
 * certificates and bytes are untrusted; the policy, trust anchors and collateral are the
 * caller's. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "core/guard.h"
#include "ccz/ratls.h"
#include "ratls/internal.h"
#include "x509/x509.h"

#define CACHE_TTL 600 /* seconds a verified peer certificate is trusted without re-verifying */

/* The cache keeps its keys apart from the claims: a lookup scans only the small keys (40 bytes
 * each, one allocation), and a claims slot (kilobytes) is touched only when it is filled or hit. */
typedef struct {
    uint8_t hash[32];
    int64_t until;
} cache_key;

typedef struct {
    ccz_ratls_format format;
    ccz_claims claims;
} cache_entry;

typedef struct {
    ccz_ratls_mode mode;
    bool server;
    const ccz_policy *policy;
    const ccz_trust *trust;
    const ccz_collateral *collateral;
    ccz_ratls_verdict_cb on_verdict;
    void *payload;
    pthread_mutex_t lock;
    cache_key *keys;
    cache_entry *cache;
    unsigned cache_size, cache_next;
} ctx_state;

static int ctx_index = -1, ssl_index = -1;
static pthread_once_t index_once = PTHREAD_ONCE_INIT;

static void free_state(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
    (void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
    ctx_state *st = ptr;
    if (!st)
        return;
    pthread_mutex_destroy(&st->lock);
    free(st->keys);
    free(st->cache);
    free(st);
}

/* The verdict on one connection's peer, owned by the SSL through ex_data. The verdict comes
 * first so that ccz_ratls_peer_verdict can hand out its address. */
typedef struct {
    ccz_ratls_verdict v;
    bool reported; /* given to the log and the verdict callback */
    X509 *peer;    /* the certificate judged: the verdict is its only */
} conn_verdict;

static void free_verdict(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
                         void *argp)
{
    (void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
    conn_verdict *cv = ptr;
    if (cv)
        X509_free(cv->peer);
    free(cv);
}

static void make_indexes(void)
{
    ctx_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, free_state);
    ssl_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, free_verdict);
}

ccz_status ccz_ratls_mode_parse(ccz_ratls_mode *out, const char *s)
{
    if (!strcmp(s, "two-way") || !strcmp(s, "mutual"))
        *out = CCZ_RATLS_TWO_WAY;
    else if (!strcmp(s, "server"))
        *out = CCZ_RATLS_SERVER;
    else if (!strcmp(s, "client"))
        *out = CCZ_RATLS_CLIENT;
    else
        return ccz_fail(CCZ_ERR_INVALID_ARGUMENT,
                        "verification mode '%s' is not two-way, server "
                        "or client",
                        s);
    return CCZ_OK;
}

/* ---- the cache -------------------------------------------------------------------------------*/

static bool cache_get(ctx_state *st, const uint8_t h[32], int64_t now, ccz_ratls_verdict *v)
{
    bool hit = false;
    pthread_mutex_lock(&st->lock);
    for (unsigned i = 0; i < st->cache_size && !hit; i++) {
        const cache_key *k = &st->keys[i];
        if (k->until >= now && memcmp(k->hash, h, 32) == 0) {
            v->format = st->cache[i].format;
            v->result.claims = st->cache[i].claims;
            hit = true;
        }
    }
    pthread_mutex_unlock(&st->lock);
    return hit;
}

static void cache_put(ctx_state *st, const uint8_t h[32], int64_t until, const ccz_ratls_verdict *v)
{
    pthread_mutex_lock(&st->lock);
    unsigned i = st->cache_next++ % st->cache_size;
    cache_entry *e = &st->cache[i];
    memcpy(st->keys[i].hash, h, 32);
    st->keys[i].until = until;
    e->format = v->format;
    e->claims = v->result.claims;
    pthread_mutex_unlock(&st->lock);
}

/* ---- the verify callback ---------------------------------------------------------------------*/

static int x509_error_for(ccz_status s)
{
    switch (s) {
    case CCZ_ERR_EXPIRED:
    case CCZ_ERR_COLLATERAL_OUT_OF_DATE:
        return X509_V_ERR_CERT_HAS_EXPIRED;
    case CCZ_ERR_NOT_YET_VALID:
        return X509_V_ERR_CERT_NOT_YET_VALID;
    case CCZ_ERR_NOT_FOUND:
    case CCZ_ERR_UNSUPPORTED:
    case CCZ_ERR_UNKNOWN_FORMAT:
        return X509_V_ERR_INVALID_PURPOSE; /* unsupported_certificate */
    case CCZ_ERR_NOMEM:
    case CCZ_ERR_CRYPTO:
    case CCZ_ERR_IO:
    case CCZ_ERR_NETWORK:
    case CCZ_ERR_COLLATERAL_MISSING:
        return X509_V_ERR_UNSPECIFIED; /* internal_error: this side's problem, not the peer's */
    default: /* a policy rejection, a bad signature or binding, an untrusted root */
        return X509_V_ERR_CERT_REJECTED; /* bad_certificate (not decrypt_error, which would
                                          * blame the peer's CertificateVerify) */
    }
}

/* Verifies (or finds verified) the peer's certificate, then appraises its claims. */
static ccz_status judge(ctx_state *st, X509 *peer, ccz_ratls_verdict *v)
{
    int64_t now = (int64_t)time(NULL);
    uint8_t h[32];
    unsigned hl = 0;
    ccz_verify_opts vo = CCZ_VERIFY_OPTS_INIT;
    vo.at_unix = now;
    vo.trust = st->trust;
    vo.collateral = st->collateral;
    if (X509_digest(peer, EVP_sha256(), h, &hl) && cache_get(st, h, now, v)) {
        /* verified before with this context's trust and collateral: appraise again */
        v->cached = true;
        ccz_policy *dflt = NULL;
        ccz_status s = st->policy ? CCZ_OK : ccz_policy_default(&dflt);
        if (s == CCZ_OK)
            s = ccz_appraise(&v->appraisal, st->policy ? st->policy : dflt, &v->result.claims);
        ccz_policy_free(dflt);
        if (s == CCZ_OK && !v->appraisal.accepted) {
            snprintf(v->message, sizeof v->message, "%s: %s", v->appraisal.reasons[0].code,
                     v->appraisal.reasons[0].message);
            v->step = CCZ_RATLS_STEP_POLICY;
            s = CCZ_ERR_POLICY_REJECTED;
        } else if (s != CCZ_OK) { /* the appraisal could not be made (no default policy) */
            snprintf(v->message, sizeof v->message, "%s", ccz_error_detail());
            v->step = CCZ_RATLS_STEP_POLICY;
        }
        v->status = s;
        return s;
    }
    ccz_status s = ccz_ratls_verify_cert(v, peer, st->policy, &vo);
    if (hl == 32 && (s == CCZ_OK || s == CCZ_ERR_POLICY_REJECTED)) {
        int64_t until = now + CACHE_TTL, na = x509_time_unix(X509_get0_notAfter(peer), until);
        cache_put(st, h, na < until ? na : until, v);
    }
    return s;
}

/* Logs a verdict and gives it to the application's callback, once per connection. */
static void report(ctx_state *st, conn_verdict *cv)
{
    if (cv->reported)
        return;
    cv->reported = true;
    const ccz_ratls_verdict *v = &cv->v;
    if (st->on_verdict)
        st->on_verdict(v, st->payload);
    if (v->status) {
        /* with a verdict callback the application reports it; the log then only has it at
         * info level */
        ccz_log(st->on_verdict ? CCZ_LOG_INFO : CCZ_LOG_WARN, "RA-TLS: %s rejected at %s: %s: %s",
                st->server ? "client" : "server", v->step ? v->step : "?",
                ccz_status_name(v->status), v->message);
        return;
    }
    ccz_log(CCZ_LOG_INFO, "RA-TLS: %s accepted (%s evidence%s)", st->server ? "client" : "server",
            ccz_tee_name(v->result.claims.tee), v->result.claims.simulated ? ", SIMULATED" : "");
}

/* Runs when the peer's Certificate message arrives. A rejection is final and reported now; an
 * acceptance is only kept: the peer has not yet proved it holds the certificate's key (its
 * CertificateVerify comes next), so it is reported when the handshake completes. */
static int verify_cb(X509_STORE_CTX *xs, void *arg)
{
    ctx_state *st = arg;
    SSL *ssl = X509_STORE_CTX_get_ex_data(xs, SSL_get_ex_data_X509_STORE_CTX_idx());
    X509 *peer = X509_STORE_CTX_get0_cert(xs);
    conn_verdict *cv = calloc(1, sizeof *cv);
    conn_verdict *old = ssl ? SSL_get_ex_data(ssl, ssl_index) : NULL;
    if (!cv || !peer || !ssl || !SSL_set_ex_data(ssl, ssl_index, cv)) {
        free(cv);
        X509_STORE_CTX_set_error(xs, X509_V_ERR_OUT_OF_MEM);
        return 0;
    }
    if (old) /* the connection owns cv now; replacing does not free the old value */
        X509_free(old->peer);
    free(old);
    X509_up_ref(peer);
    cv->peer = peer;
    ccz_status s = judge(st, peer, &cv->v);
    if (s) {
        report(st, cv);
        X509_STORE_CTX_set_error(xs, x509_error_for(s));
        return 0;
    }
    return 1;
}

/* The handshake is complete: the peer's CertificateVerify and Finished checked out. */
static void info_cb(const SSL *ssl, int where, int ret)
{
    (void)ret;
    if (!(where & SSL_CB_HANDSHAKE_DONE))
        return;
    conn_verdict *cv = SSL_get_ex_data(ssl, ssl_index);
    ctx_state *st = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ctx_index);
    if (cv && st && cv->v.status == CCZ_OK)
        report(st, cv);
}

/* The verdict on the certificate this connection's peer presented in a full handshake: none for
 * a resumed session (it carries no evidence), nor one of an earlier connection of the same SSL
 * (SSL_clear keeps ex_data) whose peer presented another certificate, or none. */
const ccz_ratls_verdict *ccz_ratls_peer_verdict(const SSL *ssl)
{
    conn_verdict *cv = ssl_index < 0 ? NULL : SSL_get_ex_data(ssl, ssl_index);
    if (!cv || SSL_session_reused(ssl))
        return NULL;
    X509 *now = SSL_get0_peer_certificate(ssl);
    if (cv->v.status == CCZ_OK && (!now || X509_cmp(now, cv->peer) != 0))
        return NULL;
    return &cv->v;
}

/* ---- the context -----------------------------------------------------------------------------*/

/* RA-TLS attests every connection, so neither side resumes a session: a resumed TLS session
 * carries no certificate, and its verdict (and the evidence's freshness) would be the earlier
 * connection's. The server issues no tickets and keeps no session cache; it still has a session
 * id context, without which OpenSSL answers a client that offers a session with an
 * internal_error alert when it verifies peers: with it, an offered session is just not found
 * and the handshake goes on in full. Clients cache nothing, so they never offer one. */
static void no_resumption(SSL_CTX *ctx, bool server)
{
    static const unsigned char sid_ctx[] = "ccz RA-TLS";
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    if (server) {
        SSL_CTX_set_num_tickets(ctx, 0);
        SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof sid_ctx - 1);
    }
}

ccz_status ccz_ratls_ctx_new(SSL_CTX **out, const ccz_ratls_opts *o)
{
    *out = NULL;
    CCZ_ENSURE(o && o->version == CCZ_RATLS_OPTS_VERSION, CCZ_ERR_INVALID_ARGUMENT,
               "RA-TLS options missing or of the wrong version");
    pthread_once(&index_once, make_indexes);
    CCZ_ENSURE(ctx_index >= 0 && ssl_index >= 0, CCZ_ERR_CRYPTO, "no OpenSSL ex_data index");
    CCZ_ENSURE(o->mode == CCZ_RATLS_TWO_WAY || o->mode == CCZ_RATLS_SERVER ||
                   o->mode == CCZ_RATLS_CLIENT,
               CCZ_ERR_INVALID_ARGUMENT,
               "RA-TLS mode %d is not two-way (0), server (1) or client (2)", (int)o->mode);
    bool verifies = o->mode == CCZ_RATLS_TWO_WAY || (o->mode == CCZ_RATLS_SERVER && !o->server) ||
                    (o->mode == CCZ_RATLS_CLIENT && o->server);
    bool presents = o->server || o->mode != CCZ_RATLS_SERVER;
    CCZ_ENSURE(!verifies || o->trust, CCZ_ERR_INVALID_ARGUMENT,
               "verifying the peer needs trust anchors");
    SSL_CTX *ctx = SSL_CTX_new(o->server ? TLS_server_method() : TLS_client_method());
    ctx_state *st = calloc(1, sizeof *st);
    X509 *cert = o->cert;
    EVP_PKEY *key = o->key;
    bool made = false;
    ccz_status s = CCZ_OK;
    if (!ctx || !st) {
        s = ccz_fail(CCZ_ERR_NOMEM, "out of memory");
        goto fail;
    }
    pthread_mutex_init(&st->lock, NULL);
    st->mode = o->mode;
    st->server = o->server;
    st->policy = o->policy;
    st->trust = o->trust;
    st->collateral = o->collateral;
    st->on_verdict = o->on_verdict;
    st->payload = o->payload;
    st->cache_size = o->cache_size ? o->cache_size : 256;
    st->keys = calloc(st->cache_size, sizeof *st->keys);
    st->cache = calloc(st->cache_size, sizeof *st->cache);
    if (!st->keys || !st->cache || !SSL_CTX_set_ex_data(ctx, ctx_index, st)) {
        free(st->keys);
        free(st->cache);
        pthread_mutex_destroy(&st->lock);
        free(st);
        st = NULL;
        s = ccz_fail(CCZ_ERR_NOMEM, "out of memory");
        goto fail;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
    no_resumption(ctx, o->server);
    SSL_CTX_set_info_callback(ctx, info_cb);
    if (presents) {
        if (!cert || !key) {
            if (!o->attester) {
                s = ccz_fail(CCZ_ERR_INVALID_ARGUMENT,
                             "this side presents an RA-TLS certificate: give one or an attester");
                goto fail;
            }
            CCZ_GUARD_GOTO(ccz_ratls_cert_create(&cert, &key, o->attester, &o->cert_opts), s, fail);
            made = true;
        }
        if (SSL_CTX_use_certificate(ctx, cert) != 1 || SSL_CTX_use_PrivateKey(ctx, key) != 1 ||
            SSL_CTX_check_private_key(ctx) != 1) {
            s = ccz_fail_ossl(CCZ_ERR_KEY_MALFORMED, "the certificate and key do not fit");
            goto fail;
        }
    }
    if (verifies) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
        SSL_CTX_set_cert_verify_callback(ctx, verify_cb, st);
    } else {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    }
    if (made) {
        X509_free(cert);
        EVP_PKEY_free(key);
    }
    *out = ctx;
    return CCZ_OK;
fail:
    if (made) {
        X509_free(cert);
        EVP_PKEY_free(key);
    }
    SSL_CTX_free(ctx); /* frees st through ex_data */
    return s;
}

/* ---- connections -----------------------------------------------------------------------------*/

static ccz_status handshake_error(SSL *ssl, int rc, const char *what)
{
    int err = SSL_get_error(ssl, rc);
    unsigned long e = ERR_peek_last_error();
    char buf[256] = "";
    if (e)
        ERR_error_string_n(e, buf, sizeof buf);
    const ccz_ratls_verdict *v = ccz_ratls_peer_verdict(ssl);
    ccz_status s;
    if (v && v->status)
        s = ccz_fail(v->status, "%s: the peer was rejected at %s: %s", what, v->step, v->message);
    else if (e && ERR_GET_REASON(e) >= SSL_AD_REASON_OFFSET)
        s = ccz_fail(CCZ_ERR_TLS, "%s: the peer refused the handshake (TLS alert: %s)", what,
                     SSL_alert_desc_string_long((int)(ERR_GET_REASON(e) - SSL_AD_REASON_OFFSET)));
    else if (e && ERR_GET_LIB(e) == ERR_LIB_SSL &&
             (ERR_GET_REASON(e) == SSL_R_WRONG_VERSION_NUMBER ||
              ERR_GET_REASON(e) == SSL_R_HTTP_REQUEST))
        /* no TLS record at all: a plaintext peer (an h2c gRPC server or client, HTTP) */
        s = ccz_fail(CCZ_ERR_TLS, "%s: the peer does not speak TLS (%s)", what, buf);
    else if (err == SSL_ERROR_SYSCALL || err == SSL_ERROR_ZERO_RETURN ||
             (e && ERR_GET_LIB(e) == ERR_LIB_SSL &&
              ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING)) /* OpenSSL 3's EOF */
        s = ccz_fail(CCZ_ERR_TLS, "%s: the peer closed the connection in the handshake", what);
    else
        s = ccz_fail(CCZ_ERR_TLS, "%s: TLS error %d%s%s", what, err, buf[0] ? ": " : "", buf);
    ERR_clear_error();
    return s;
}

/* Milliseconds from now to the deadline, at least 0. */
static int remaining_ms(const struct timespec *deadline)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    int64_t ms = (int64_t)(deadline->tv_sec - now.tv_sec) * 1000 +
                 (deadline->tv_nsec - now.tv_nsec) / 1000000;
    return ms <= 0 ? 0 : ms > INT32_MAX ? INT32_MAX : (int)ms;
}

static struct timespec deadline_in(long timeout_ms)
{
    if (timeout_ms <= 0)
        timeout_ms = CCZ_RATLS_TIMEOUT_MS;
    struct timespec d;
    clock_gettime(CLOCK_MONOTONIC, &d);
    d.tv_sec += timeout_ms / 1000;
    d.tv_nsec += (timeout_ms % 1000) * 1000000;
    if (d.tv_nsec >= 1000000000) {
        d.tv_sec++;
        d.tv_nsec -= 1000000000;
    }
    return d;
}

/* Waits until fd is ready for events or the deadline passes: 1 ready, 0 timed out. */
static int wait_fd(int fd, short events, const struct timespec *deadline)
{
    for (;;) {
        struct pollfd p = {.fd = fd, .events = events};
        int n = poll(&p, 1, remaining_ms(deadline));
        if (n >= 0)
            return n > 0;
        if (errno != EINTR)
            return 1; /* let the next read or write report the error */
    }
}

/* Runs SSL_accept or SSL_connect on a non-blocking socket until it completes, fails or the
 * deadline passes; the socket's blocking mode is restored afterwards. */
static ccz_status handshake_until(SSL *ssl, int fd, bool server, const struct timespec *deadline,
                                  long timeout_ms, const char *what, const char *peer, bool *late)
{
    *late = false;
    int flags = fcntl(fd, F_GETFL);
    CCZ_ENSURE(flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0, CCZ_ERR_NETWORK,
               "%s: not a socket: %s", what, strerror(errno));
    ccz_status s = CCZ_OK;
    for (;;) {
        ERR_clear_error();
        int rc = server ? SSL_accept(ssl) : SSL_connect(ssl);
        if (rc == 1) {
            /* the info callback has reported the verdict, unless the application replaced it */
            info_cb(ssl, SSL_CB_HANDSHAKE_DONE, 1);
            break;
        }
        int err = SSL_get_error(ssl, rc);
        short ev = err == SSL_ERROR_WANT_READ ? POLLIN : err == SSL_ERROR_WANT_WRITE ? POLLOUT : 0;
        if (!ev) {
            s = handshake_error(ssl, rc, what);
            break;
        }
        if (!wait_fd(fd, ev, deadline)) {
            *late = true;
            s = ccz_fail(CCZ_ERR_NETWORK,
                         "%s: the TLS handshake with %s timed out after %ld ms "
                         "(the peer %s)",
                         what, peer, timeout_ms > 0 ? timeout_ms : CCZ_RATLS_TIMEOUT_MS,
                         ev == POLLIN ? "sent nothing more" : "read nothing more");
            break;
        }
    }
    fcntl(fd, F_SETFL, flags);
    return s;
}

ccz_status ccz_ratls_accept(SSL **out, SSL_CTX *ctx, int fd)
{
    return ccz_ratls_accept_timeout(out, ctx, fd, 0);
}

ccz_status ccz_ratls_accept_timeout(SSL **out, SSL_CTX *ctx, int fd, long timeout_ms)
{
    *out = NULL;
    struct timespec deadline = deadline_in(timeout_ms);
    SSL *ssl = SSL_new(ctx);
    CCZ_ENSURE(ssl, CCZ_ERR_NOMEM, "out of memory");
    SSL_set_fd(ssl, fd);
    bool late;
    ccz_status s =
        handshake_until(ssl, fd, true, &deadline, timeout_ms, "accept", "the client", &late);
    if (s) {
        SSL_free(ssl);
        return s;
    }
    *out = ssl;
    return CCZ_OK;
}

/* Connects a non-blocking socket to one address before the deadline: the socket, or -1 with
 * errno set (ETIMEDOUT when the deadline passed). */
static int connect_until(const struct addrinfo *p, const struct timespec *deadline)
{
    int fd = socket(p->ai_family, p->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, p->ai_protocol);
    if (fd < 0)
        return -1;
    int err = 0;
    socklen_t len = sizeof err;
    if (connect(fd, p->ai_addr, p->ai_addrlen) != 0 && errno != EINPROGRESS)
        err = errno;
    else if (!wait_fd(fd, POLLOUT, deadline))
        err = ETIMEDOUT;
    else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
        err = errno;
    if (err || fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0) {
        close(fd);
        errno = err ? err : errno;
        return -1;
    }
    return fd;
}

ccz_status ccz_ratls_connect(SSL **out, SSL_CTX *ctx, const char *host_port)
{
    return ccz_ratls_connect_timeout(out, ctx, host_port, 0);
}

ccz_status ccz_ratls_connect_timeout(SSL **out, SSL_CTX *ctx, const char *host_port,
                                     long timeout_ms)
{
    ratls_timeout timed_out;
    return ratls_connect(out, &timed_out, ctx, host_port, timeout_ms);
}

/* The TCP connection (a blocking socket in *fd) before the deadline. */
static ccz_status tcp_connect(int *fd_out, ratls_timeout *timed_out, const char *host_port,
                              const struct timespec *deadline, long timeout_ms)
{
    *fd_out = -1;
    long shown_ms = timeout_ms > 0 ? timeout_ms : CCZ_RATLS_TIMEOUT_MS;
    char host[256], portstr[6];
    CCZ_GUARD(ccz_host_port_split(host, sizeof host, portstr, host_port, NULL, false));
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
    int gai = getaddrinfo(host, portstr, &hints, &ai);
    CCZ_ENSURE(gai == 0, CCZ_ERR_NETWORK, "cannot resolve %s: %s", host_port, gai_strerror(gai));
    int fd = -1, err = 0;
    for (struct addrinfo *p = ai; p && fd < 0 && err != ETIMEDOUT; p = p->ai_next)
        if ((fd = connect_until(p, deadline)) < 0)
            err = errno;
    freeaddrinfo(ai);
    if (fd < 0 && err == ETIMEDOUT) {
        *timed_out = RATLS_TCP_TIMEOUT;
        return ccz_fail(CCZ_ERR_NETWORK, "connecting to %s timed out after %ld ms", host_port,
                        shown_ms);
    }
    CCZ_ENSURE(fd >= 0, CCZ_ERR_NETWORK, "cannot connect to %s: %s", host_port, strerror(err));
    *fd_out = fd;
    return CCZ_OK;
}

ccz_status ratls_tcp_connect(int *fd, ratls_timeout *timed_out, const char *host_port,
                             long timeout_ms)
{
    *timed_out = RATLS_IN_TIME;
    struct timespec deadline = deadline_in(timeout_ms);
    return tcp_connect(fd, timed_out, host_port, &deadline, timeout_ms);
}

ccz_status ratls_connect(SSL **out, ratls_timeout *timed_out, SSL_CTX *ctx, const char *host_port,
                         long timeout_ms)
{
    *out = NULL;
    *timed_out = RATLS_IN_TIME;
    struct timespec deadline = deadline_in(timeout_ms);
    int fd;
    CCZ_GUARD(tcp_connect(&fd, timed_out, host_port, &deadline, timeout_ms));
    SSL *ssl = SSL_new(ctx);
    BIO *bio = BIO_new_socket(fd, BIO_CLOSE); /* the connection owns the socket */
    if (!ssl || !bio) {
        SSL_free(ssl);
        if (bio)
            BIO_free(bio); /* closes the socket */
        else
            close(fd);
        return ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    }
    SSL_set_bio(ssl, bio, bio);
    bool late = false;
    ccz_status s =
        handshake_until(ssl, fd, false, &deadline, timeout_ms, "connect", host_port, &late);
    if (s) {
        *timed_out = late ? RATLS_TLS_TIMEOUT : RATLS_IN_TIME;
        SSL_free(ssl);
        return s;
    }
    *out = ssl;
    return CCZ_OK;
}
