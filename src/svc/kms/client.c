/* SPDX-License-Identifier: Apache-2.0 */
/* The KMS client: a small HTTPS/1.1 client over ccz's TLS helpers (one request per connection,
 * Connection: close), used by ccz_kms_enroll and ccz_kms_call and by replicas asking a peer for
 * the domain key. Answers are untrusted: bounded, the status line and Content-Length parsed
 * strictly. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "core/guard.h"
#include "core/listener.h"
#include "ccz/kms.h"
#include "ccz/ratls.h"
#include "svc/kms/kms.h"

#define ANSWER_MAX (1u << 20)
#define DEFAULT_TIMEOUT_MS 30000

/* The socket's send and receive timeouts set to what is left before the deadline; false when
 * nothing is left. */
static bool until(SSL *ssl, int64_t deadline)
{
    int64_t left = deadline - listener_mono_ms();
    if (left <= 0)
        return false;
    struct timeval tv = {.tv_sec = (time_t)(left / 1000), .tv_usec = (long)(left % 1000) * 1000};
    int fd = SSL_get_fd(ssl);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    return true;
}

/* Where the head's first value of the header `name` (with its colon, lower case) at or after
 * byte `from` starts (the name case-insensitively, at a line start), or NULL; head is the length
 * of the head with its blank line. */
static const char *header_value(ccz_span in, size_t head, size_t from, const char *name)
{
    const char *p = (const char *)in.ptr;
    size_t k = strlen(name);
    for (size_t i = from; i + 1 + k < head; i++)
        if (p[i] == '\n' && strncasecmp(p + i + 1, name, k) == 0)
            return p + i + 1 + k;
    return NULL;
}

static const char *content_length(ccz_span in, size_t head, size_t from)
{
    return header_value(in, head, from, "content-length:");
}

/* A Content-Length value: optional blanks, digits, optional blanks, then the line's CR; false
 * for anything else ("-1", "12, 58", "58x"). v lies in a head that ends in CRLF. */
static bool length_value(const char *v, unsigned long long *n)
{
    while (*v == ' ' || *v == '\t')
        v++;
    if (*v < '0' || *v > '9')
        return false;
    char *e;
    *n = strtoull(v, &e, 10);
    while (*e == ' ' || *e == '\t')
        e++;
    return *e == '\r';
}

/* Whether the answer so far is whole by its Content-Length (an answer without one, or with a
 * malformed one, ends when the server closes). The answer's buffer keeps a NUL after its bytes;
 * the head ends in CRLF. */
bool kms_answer_complete(ccz_span in)
{
    const uint8_t *end = memmem(in.ptr, in.len, "\r\n\r\n", 4);
    size_t head = end ? (size_t)(end - in.ptr) + 4 : 0;
    const char *v = end ? content_length(in, head, 0) : NULL;
    unsigned long long n = 0;
    return v && length_value(v, &n) && n <= in.len - head;
}

/* Splits an answer: "HTTP/1.x NNN ...\r\n" headers "\r\n\r\n" body (Content-Length long, or to
 * the end when absent). */
ccz_status kms_parse_answer(int *status, ccz_span *body, ccz_span in)
{
    const char *p = (const char *)in.ptr;
    CCZ_ENSURE(in.len >= 12 && (memcmp(p, "HTTP/1.1 ", 9) == 0 || memcmp(p, "HTTP/1.0 ", 9) == 0),
               CCZ_ERR_PROTOCOL, "the answer is not HTTP/1.x");
    CCZ_ENSURE(in.len >= 13 && p[9] >= '1' && p[9] <= '5' && p[10] >= '0' && p[10] <= '9' &&
                   p[11] >= '0' && p[11] <= '9' && (p[12] == ' ' || p[12] == '\r'),
               CCZ_ERR_PROTOCOL, "the answer has no status code");
    *status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
    const uint8_t *end = memmem(in.ptr, in.len, "\r\n\r\n", 4);
    CCZ_ENSURE(end, CCZ_ERR_PROTOCOL, "the answer's head does not end");
    size_t head = (size_t)(end - in.ptr) + 4;
    *body = CCZ_SPAN(in.ptr + head, in.len - head);
    /* chunked framing is not read: alone its chunk sizes would be taken for the body, and with
     * a Content-Length which one frames the body is ambiguous (RFC 9112 6.3: an error) */
    CCZ_ENSURE(!header_value(in, head, 0, "transfer-encoding:"), CCZ_ERR_PROTOCOL,
               "the answer has a Transfer-Encoding: only a Content-Length or the close frames it");
    const char *v = content_length(in, head, 0);
    if (v) {
        CCZ_ENSURE(!content_length(in, head, (size_t)(v - p)), CCZ_ERR_PROTOCOL,
                   "two Content-Length headers");
        unsigned long long n = 0;
        CCZ_ENSURE(length_value(v, &n), CCZ_ERR_PROTOCOL, "a malformed Content-Length");
        CCZ_ENSURE(n <= body->len, CCZ_ERR_TRUNCATED, "the answer's body is cut short");
        body->len = (size_t)n;
    }
    return CCZ_OK;
}

/* Whether the server sent a TLS alert (it refused this client's certificate); sets the detail. */
static bool refused(const char *host_port)
{
    unsigned long e = ERR_peek_last_error();
    if (!e || ERR_GET_LIB(e) != ERR_LIB_SSL || ERR_GET_REASON(e) < SSL_AD_REASON_OFFSET)
        return false;
    (void)ccz_fail(CCZ_ERR_POLICY_REJECTED,
                   "%s refused this client's certificate (TLS alert: %s): its evidence does not "
                   "satisfy the server's policy",
                   host_port,
                   SSL_alert_desc_string_long((int)(ERR_GET_REASON(e) - SSL_AD_REASON_OFFSET)));
    return true;
}

ccz_status kms_https(int *status, ccz_buf *answer, SSL_CTX *ctx, const char *host_port,
                     long timeout_ms, const char *method, const char *target, const char *headers,
                     const void *body, size_t body_len)
{
    if (timeout_ms <= 0)
        timeout_ms = DEFAULT_TIMEOUT_MS;
    int64_t deadline = listener_mono_ms() + timeout_ms;
    SSL *ssl = NULL;
    CCZ_GUARD(ccz_ratls_connect_timeout(&ssl, ctx, host_port, timeout_ms));
    /* a plaintext or a data key may go either way: OpenSSL wipes each record it has decrypted
     * once read, and the request is built in a wiped buffer */
    SSL_set_options(ssl, SSL_OP_CLEANSE_PLAINTEXT);
    ccz_buf req, raw;
    ccz_buf_init(&req, 0, true);
    ccz_buf_init(&raw, ANSWER_MAX, answer->secret);
    char head[1024];
    int n = snprintf(head, sizeof head,
                     "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\nContent-Length: %zu\r\n"
                     "%s\r\n",
                     method, target, host_port, body_len, headers ? headers : "");
    ccz_status st = n > 0 && (size_t)n < sizeof head
                        ? ccz_buf_append(&req, head, (size_t)n)
                        : ccz_fail(CCZ_ERR_TOO_LARGE, "the request head is too long");
    ccz_wipe(head, sizeof head); /* it may hold the admin token */
    if (st == CCZ_OK && body_len)
        st = ccz_buf_append(&req, body, body_len);
    if (st == CCZ_OK && !until(ssl, deadline))
        st = ccz_fail(CCZ_ERR_NETWORK, "%s: no time left to send the request (%ld ms)", host_port,
                      timeout_ms);
    if (st == CCZ_OK && SSL_write(ssl, req.ptr, (int)req.len) != (int)req.len) {
        uint8_t b;
        (void)SSL_read(ssl, &b, 1); /* a TLS 1.3 server refuses a client certificate after the
                                       handshake: its alert is the reason */
        st = refused(host_port)
                 ? CCZ_ERR_POLICY_REJECTED
                 : ccz_fail_ossl(CCZ_ERR_NETWORK, "%s: cannot send the request", host_port);
    }
    while (st == CCZ_OK) {
        uint8_t buf[16384];
        bool time_left = until(ssl, deadline);
        errno = 0;
        int got = time_left ? SSL_read(ssl, buf, sizeof buf) : 0;
        if (got <= 0) {
            int err = errno;
            int e = time_left ? SSL_get_error(ssl, got) : SSL_ERROR_NONE;
            if (time_left && refused(host_port))
                st = CCZ_ERR_POLICY_REJECTED;
            else if (!time_left || err == EAGAIN || err == EWOULDBLOCK)
                st = ccz_fail(CCZ_ERR_NETWORK, "%s did not answer within %ld ms", host_port,
                              timeout_ms);
            else if (e != SSL_ERROR_ZERO_RETURN) /* closed without TLS's close: cut */
                st = ccz_fail_ossl(CCZ_ERR_NETWORK, "%s: the answer was cut short", host_port);
            break;
        }
        st = ccz_buf_append(&raw, buf, (size_t)got);
        ccz_wipe(buf, (size_t)got);
        if (st == CCZ_ERR_TOO_LARGE)
            st = ccz_fail(CCZ_ERR_TOO_LARGE, "%s: an answer over %u bytes", host_port, ANSWER_MAX);
        if (st == CCZ_OK && kms_answer_complete(ccz_buf_span(&raw)))
            break; /* whole by its length: what follows, or how the server closes, is not read */
    }
    SSL_free(ssl); /* closes the socket */
    ERR_clear_error();
    ccz_span b = {0};
    if (st == CCZ_OK && (st = kms_parse_answer(status, &b, ccz_buf_span(&raw))) != CCZ_OK)
        st = ccz_fail_context(st, "%s", host_port); /* which server answered so */
    if (st == CCZ_OK)
        st = ccz_buf_append(answer, b.ptr, b.len);
    ccz_buf_free(&req);
    ccz_buf_free(&raw);
    return st;
}

/* "https://HOST:PORT/..." or "HOST:PORT" -> "HOST:PORT" */
static ccz_status host_port(char *out, size_t cap, const char *url)
{
    CCZ_ENSURE(url && *url, CCZ_ERR_INVALID_ARGUMENT, "no KMS address");
    const char *p = strncmp(url, "https://", 8) == 0 ? url + 8 : url;
    CCZ_ENSURE(strncmp(url, "http://", 7) != 0, CCZ_ERR_INVALID_ARGUMENT,
               "%s: the KMS speaks HTTPS only", url);
    size_t n = strcspn(p, "/");
    CCZ_ENSURE(n > 0 && n < cap && memchr(p, ':', n), CCZ_ERR_INVALID_ARGUMENT,
               "%s: not HOST:PORT or https://HOST:PORT", url);
    memcpy(out, p, n);
    out[n] = 0;
    return CCZ_OK;
}

static ccz_status client_ctx(SSL_CTX **out, const ccz_kms_opts *o, const char *hp, bool enroll)
{
    if (o->ca_file) {
        SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
        CCZ_ENSURE(ctx, CCZ_ERR_NOMEM, "out of memory");
        SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        char host[256], port[6];
        ccz_status s = ccz_host_port_split(host, sizeof host, port, hp, NULL, false);
        X509_VERIFY_PARAM *param = SSL_CTX_get0_param(ctx);
        /* the certificate must name the host: an IP address as an address, else a name */
        if (s == CCZ_OK && X509_VERIFY_PARAM_set1_ip_asc(param, host) != 1 &&
            X509_VERIFY_PARAM_set1_host(param, host, 0) != 1)
            s = ccz_fail_ossl(CCZ_ERR_INVALID_ARGUMENT, "%s: not a host name", host);
        if (s == CCZ_OK && SSL_CTX_load_verify_locations(ctx, o->ca_file, NULL) != 1)
            s = ccz_fail_ossl(CCZ_ERR_IO, "%s: cannot load the CA file", o->ca_file);
        if (s)
            SSL_CTX_free(ctx);
        else
            *out = ctx;
        return s;
    }
    ccz_ratls_opts r = CCZ_RATLS_OPTS_INIT;
    r.server = false;
    r.mode = enroll && o->attester ? CCZ_RATLS_TWO_WAY : CCZ_RATLS_SERVER;
    r.attester = r.mode == CCZ_RATLS_TWO_WAY ? o->attester : NULL;
    r.policy = o->policy;
    r.trust = o->trust;
    r.collateral = o->collateral;
    CCZ_ENSURE(o->trust, CCZ_ERR_INVALID_ARGUMENT,
               "the KMS's certificate: give trust anchors for its RA-TLS evidence, or a CA file");
    return ccz_ratls_ctx_new(out, &r);
}

static ccz_status answer_json(json_t **out, int status, const ccz_buf *body)
{
    *out = json_loadb((const char *)body->ptr, body->len, JSON_REJECT_DUPLICATES, NULL);
    if (*out && json_is_object(*out) && json_is_integer(json_object_get(*out, "code")))
        return CCZ_OK;
    json_decref(*out);
    *out = NULL;
    return ccz_fail(CCZ_ERR_PROTOCOL, "the KMS's answer (HTTP %d) is not {code, message, result}",
                    status);
}

ccz_status ccz_kms_enroll(char appid[37], char apikey[33], const ccz_kms_opts *o)
{
    CCZ_ENSURE(o && o->version == CCZ_KMS_OPTS_VERSION && appid && apikey, CCZ_ERR_INVALID_ARGUMENT,
               "KMS options missing or of the wrong version");
    char hp[512], auth[600] = "";
    CCZ_GUARD(host_port(hp, sizeof hp, o->url));
    ccz_status st = CCZ_OK;
    if (o->admin_token) {
        int n = snprintf(auth, sizeof auth, "Authorization: Bearer %s\r\n", o->admin_token);
        if (n <= 0 || (size_t)n >= sizeof auth)
            st = ccz_fail(CCZ_ERR_TOO_LARGE, "the admin token is too long");
    }
    SSL_CTX *ctx = NULL;
    if (st == CCZ_OK)
        st = client_ctx(&ctx, o, hp, true);
    int status = 0;
    ccz_buf body;
    ccz_buf_init(&body, ANSWER_MAX, true);
    if (st == CCZ_OK)
        st = kms_https(&status, &body, ctx, hp, o->timeout_ms, "GET", "/ehsm?Action=Enroll", auth,
                       NULL, 0);
    ccz_wipe(auth, sizeof auth); /* on every path: it holds the admin token */
    SSL_CTX_free(ctx);
    json_t *j = NULL;
    if (st == CCZ_OK)
        st = answer_json(&j, status, &body);
    const json_t *res = json_object_get(j, "result");
    const char *id = json_string_value(json_object_get(res, "appid")),
               *key = json_string_value(json_object_get(res, "apikey"));
    if (st == CCZ_OK && json_integer_value(json_object_get(j, "code")) != 200) {
        const char *m = json_string_value(json_object_get(j, "message"));
        st = ccz_fail(CCZ_ERR_POLICY_REJECTED, "the KMS refused to enroll: %s",
                      m ? m : "no message");
    } else if (st == CCZ_OK && (!id || strlen(id) != 36 || !key || strlen(key) != 32)) {
        st = ccz_fail(CCZ_ERR_PROTOCOL, "the KMS's Enroll answer has no appid and apikey");
    }
    if (st == CCZ_OK) {
        memcpy(appid, id, 37);
        memcpy(apikey, key, 33);
    }
    if (key)
        ccz_wipe((void *)key, strlen(key));
    json_decref(j);
    ccz_buf_free(&body);
    return st;
}

ccz_status ccz_kms_call(ccz_json **response, const ccz_kms_opts *o, const char *appid,
                        const char *apikey, const char *action, const ccz_json *payload)
{
    *response = NULL;
    CCZ_ENSURE(o && o->version == CCZ_KMS_OPTS_VERSION && appid && apikey && action,
               CCZ_ERR_INVALID_ARGUMENT, "KMS options missing or of the wrong version");
    CCZ_ENSURE(!payload || json_is_object(payload), CCZ_ERR_INVALID_ARGUMENT,
               "the payload is not a JSON object");
    for (const char *p = action; *p; p++)
        CCZ_ENSURE((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'), CCZ_ERR_INVALID_ARGUMENT,
                   "'%s' is not an action name", action);
    char hp[512];
    CCZ_GUARD(host_port(hp, sizeof hp, o->url));
    char ts[32], nonce[33], sign[KMS_SIGN_LEN + 1];
    snprintf(ts, sizeof ts, "%lld", (long long)kms_now_ms());
    uint8_t rnd[16];
    CCZ_ENSURE(RAND_bytes(rnd, sizeof rnd) == 1, CCZ_ERR_CRYPTO, "no randomness");
    for (int i = 0; i < 16; i++)
        snprintf(nonce + 2 * i, 3, "%02x", rnd[i]);
    CCZ_GUARD(kms_request_sign(sign, CCZ_SPAN(apikey, strlen(apikey)), appid, nonce, ts, payload));
    json_t *env = json_pack("{s:s,s:s,s:s,s:s}", "appid", appid, "timestamp", ts, "nonce", nonce,
                            "sign", sign);
    if (env && payload)
        json_object_set(env, "payload", (json_t *)payload);
    char *text = env ? json_dumps(env, JSON_COMPACT) : NULL;
    json_decref(env);
    CCZ_ENSURE(text, CCZ_ERR_NOMEM, "out of memory");
    char target[128];
    snprintf(target, sizeof target, "/ehsm?Action=%s", action);
    SSL_CTX *ctx;
    ccz_status st = client_ctx(&ctx, o, hp, false);
    int status = 0;
    ccz_buf body;
    ccz_buf_init(&body, ANSWER_MAX, true);
    if (st == CCZ_OK) {
        st = kms_https(&status, &body, ctx, hp, o->timeout_ms, "POST", target,
                       "Content-Type: application/json\r\n", text, strlen(text));
        SSL_CTX_free(ctx);
    }
    ccz_wipe(text, strlen(text)); /* the payload: a plaintext, a data key */
    free(text);
    if (st == CCZ_OK)
        st = answer_json(response, status, &body);
    ccz_buf_free(&body);
    return st;
}
