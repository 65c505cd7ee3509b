/* SPDX-License-Identifier: Apache-2.0 */
/* The HTTP/1.1 server of the service layer on libevent's OpenSSL bufferevents. libevent 2.1's
 * own evhttp has no hook between accepting a connection and serving it, so it cannot cap
 * connections per peer or shed the idle ones at the cap; this server keeps evhttp's shape
 * (one loop, keep-alive, routes, limits) on the same bufferevents, with the connection
 * management of the RA-gRPC server: a handshake deadline, a deadline for each request from its
 * first byte to its last, an idle deadline between requests; at a cap the oldest unfinished
 * handshake is closed, then the longest-idle connection, never a request in progress. */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/thread.h>
#include <arpa/inet.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

#include <openssl/err.h>

#include "core/guard.h"
#include "core/listener.h"
#include "http/http.h"

#define OUTPUT_HIGH (256 * 1024) /* pipelined requests wait while this much output is queued */
#define MAX_CODES 24

typedef struct {
    int code;
    uint64_t n;
} code_count;

typedef struct {
    char *method, *path;
    bool prefix;
    http_handler handler;
    void *payload;
    code_count codes[MAX_CODES];
    double seconds;
} route;

typedef struct conn conn;

enum conn_state { C_HANDSHAKE, C_IDLE, C_HEAD, C_BODY, C_WAIT /* for a deferred answer */ };

struct http_request {
    conn *c;
    http_head head;
    uint8_t *head_bytes;   /* a copy of the head; the spans of head point into it */
    size_t head_bytes_len; /* wiped when freed: an Authorization header, a session cookie */
    ccz_buf body;
    http_chunked chunked; /* the framing of a chunked body, as far as it has been read */
    const route *route;
    const char *method, *path, *rest;
    ccz_buf extra_headers;
    bool retry_after; /* extra_headers carry the handler's Retry-After */
    bool replied;
    bool deferred;           /* the handler answers later (http_request_defer) */
    bool head_only;          /* a HEAD request: every answer goes without its body */
    void (*gone)(void *arg); /* ... and is told when the connection goes first */
    void *gone_arg;
    int status;
    size_t sent;
    int64_t started;
};

struct conn {
    listener_conn lc; /* first: a listener_conn * is a conn * */
    http_server *srv;
    char addr[LISTENER_PEER_GROUP_LEN]; /* the client's own address (an IPv4 peer's is its group) */
    enum conn_state state;
    size_t reserved;  /* body bytes reserved in the server's held count */
    bool close_after; /* close once the output is out */
    bool paused;      /* reading stopped until the output drains */
    bool served;      /* a request was read: no preface any more */
    bool linger;      /* refused mid-request: read and drop what the client still sends */
    bool lingering;   /* ... doing so now (its answer is out, our side shut down) */
    size_t head_seen; /* bytes of the head under way the parser has seen */
    size_t dropped;   /* bytes dropped while lingering */
    http_request req;
};

struct http_server {
    struct event_base *base;
    struct evconnlistener *listener;
    struct event *drain, *sigterm, *sigint, *grace;
    int64_t accept_failed_at;
    SSL_CTX *tls;
    char name[32];
    size_t max_head, max_body, max_held, held;
    unsigned handshake_ms, request_ms, idle_ms, drain_ms;
    unsigned pending_grace; /* set by http_server_shutdown from any thread */
    route *routes;
    size_t n_routes;
    route other;          /* 404s and requests that never parsed */
    listener_conns conns; /* and the caps on them */
    bool draining;
    bool string_errors;
    http_metrics_fn metrics;
    void *metrics_payload;
    uint8_t *magic; /* the preface of the binary protocol, if any */
    size_t magic_len;
    route preface;
    uint64_t accepted, shed, refused;
};

static void arm(conn *c, unsigned ms)
{
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    evtimer_add(c->lc.timer, &tv);
}

/* ---- requests --------------------------------------------------------------------------------*/

static void request_reset(http_request *r)
{
    if (r->head_bytes)
        ccz_wipe(r->head_bytes, r->head_bytes_len);
    free(r->head_bytes);
    ccz_buf_free(&r->body);
    ccz_buf_free(&r->extra_headers);
    conn *c = r->c;
    memset(r, 0, sizeof *r);
    r->c = c;
}

static void conn_close(conn *c)
{
    http_server *s = c->srv;
    s->held -= c->reserved;
    if (c->state == C_WAIT && !c->req.replied && c->req.gone)
        c->req.gone(c->req.gone_arg);
    request_reset(&c->req);
    /* a TLS close_notify (clients tell a close from a cut); the output is out by now, or
     * is abandoned, and the alert goes straight to the socket */
    if (c->lc.ssl && c->state != C_HANDSHAKE && !c->lingering)
        SSL_shutdown(c->lc.ssl);
    if (c->lc.bev)
        bufferevent_free(c->lc.bev); /* closes the socket and frees the SSL */
    if (c->lc.timer)
        event_free(c->lc.timer);
    listener_conns_remove(&s->conns, &c->lc);
    free(c);
    if (s->draining && !s->conns.ready.head && !s->conns.handshaking.head)
        event_base_loopexit(s->base, NULL);
}

/* A connection refused in the middle of a request: its client may still be sending the body.
 * Closing with unread bytes makes the kernel reset the connection, which can destroy the answer
 * before the client reads it; so, as HTTP servers do, the answer goes out, our side shuts down
 * (close_notify, then no more writes), and what the client still sends is read and dropped for
 * up to 2 s or 1 MiB, until it closes. */
#define LINGER_MS 2000
#define LINGER_MAX (1u << 20)

static void linger_start(conn *c)
{
    c->lingering = true;
    if (c->lc.ssl)
        SSL_shutdown(c->lc.ssl);
    shutdown(bufferevent_getfd(c->lc.bev), SHUT_WR);
    bufferevent_setwatermark(c->lc.bev, EV_READ, 0, 0);
    bufferevent_enable(c->lc.bev, EV_READ);
    arm(c, LINGER_MS);
}

/* Closes c once its output has gone (or lingers, when refused mid-request): never at once, even
 * with nothing queued (its timer does, from the loop), as the request's code that called it may
 * still be using c. */
static void conn_finish(conn *c)
{
    c->close_after = true;
    bufferevent_disable(c->lc.bev, EV_READ);
    if (evbuffer_get_length(bufferevent_get_output(c->lc.bev)) == 0) {
        if (c->linger)
            linger_start(c);
        else
            arm(c, 0);
        return;
    }
    arm(c, 1000); /* a client that does not read its last answer gets a second */
}

const char *http_reason(int status)
{
    switch (status) {
    case 100:
        return "Continue";
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 204:
        return "No Content";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 411:
        return "Length Required";
    case 413:
        return "Content Too Large";
    case 415:
        return "Unsupported Media Type";
    case 417:
        return "Expectation Failed";
    case 422:
        return "Unprocessable Content";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Unknown";
    }
}

static void count(route *rt, int code, double seconds)
{
    rt->seconds += seconds;
    for (size_t i = 0; i < MAX_CODES; i++) {
        if (rt->codes[i].code == code || rt->codes[i].code == 0) {
            rt->codes[i].code = code;
            rt->codes[i].n++;
            return;
        }
    }
    rt->codes[MAX_CODES - 1].n++; /* more distinct codes than slots: the last slot collects */
}

static void access_log(const conn *c, const http_request *r, int status, size_t bytes)
{
    /* the path only: query strings, headers and bodies may carry secrets */
    char path[128];
    const char *p = r->path ? r->path : "-";
    if (snprintf(path, sizeof path, "%s", p) >= (int)sizeof path)
        memcpy(path + sizeof path - 4, "...", 4); /* cut, and saying so */
    ccz_log(CCZ_LOG_INFO, "%s: %s \"%s %s\" %d %zu %lld ms", c->srv->name,
            c->addr[0] ? c->addr : "-",
            r->head_only ? "HEAD"
            : r->method  ? r->method
                         : "-",
            path, status, bytes, (long long)(listener_mono_ms() - r->started));
}

/* Sends a response on c; the connection stays open when the request allows it, else it is
 * closed once the response is out. */
static void wipe_free(const void *data, size_t len, void *arg);

static void send_response_ex(conn *c, http_request *r, int status, const char *type, ccz_span body,
                             bool close, bool secret)
{
    http_server *s = c->srv;
    struct evbuffer *out = bufferevent_get_output(c->lc.bev);
    bool keep = !close && !s->draining && r->head.keep_alive && !c->close_after;
    /* the answer to HEAD has GET's head, Content-Length included, and no body (an error's too:
     * the client reads none, and the next answer must follow at once) */
    size_t length = body.len;
    if (r->head_only)
        body.len = 0;
    /* a 204 has neither a body nor a Content-Length (RFC 9110 8.6, 15.3.5): its client reads no
     * body, so one a handler gave it would be taken for the next answer */
    bool no_content = status == 204;
    if (no_content)
        body.len = 0;
    char clen[48] = "";
    if (!no_content)
        snprintf(clen, sizeof clen, "Content-Length: %zu\r\n", length);
    /* an answer of "not now" (503, 429) says when to come back (RFC 9110 10.2.3), unless its
     * handler said it already: a client that retries at once only adds to the load */
    const char *retry =
        (status == 503 || status == 429) && !r->retry_after ? "Retry-After: 1\r\n" : "";
    /* head and a body of ordinary size in one contiguous chain: bufferevent_openssl makes one
     * SSL_write, so one TLS record and one write(2), per chain */
    if (body.len <= 64 * 1024)
        (void)evbuffer_expand(out, 256 + r->extra_headers.len + body.len);
    /* the head in one piece (one formatting, one copy into the chain) */
    char head[512];
    int n = snprintf(head, sizeof head, "HTTP/1.1 %d %s\r\n%s%s%s%s%sCache-Control: no-store\r\n%s",
                     status, http_reason(status), type ? "Content-Type: " : "", type ? type : "",
                     type ? "\r\n" : "", clen, retry,
                     !keep                ? "Connection: close\r\n"
                     : r->head.minor == 0 ? "Connection: keep-alive\r\n"
                                          : "");
    if (n < 0 || (size_t)n >= sizeof head) { /* a content type of hundreds of bytes */
        n = snprintf(head, sizeof head, "HTTP/1.1 %d %s\r\n%s%sCache-Control: no-store\r\n%s",
                     status, http_reason(status), clen, retry, keep ? "" : "Connection: close\r\n");
    }
    evbuffer_add(out, head, (size_t)n);
    if (r->extra_headers.len)
        evbuffer_add(out, r->extra_headers.ptr, r->extra_headers.len);
    evbuffer_add(out, "\r\n", 2);
    if (body.len && secret) {
        /* referenced, never copied into libevent's chains; wiped when sent or dropped */
        uint8_t *copy = malloc(body.len);
        if (copy)
            memcpy(copy, body.ptr, body.len);
        if (!copy || evbuffer_add_reference(out, copy, body.len, wipe_free, NULL) != 0) {
            if (copy)
                wipe_free(copy, body.len, NULL);
            c->close_after = true; /* the head went out without its body */
            keep = false;
        }
    } else if (body.len) {
        evbuffer_add(out, body.ptr, body.len);
    }
    r->replied = true;
    r->status = status;
    double secs = (double)(listener_mono_ms() - r->started) / 1000.0;
    count(r->route ? (route *)r->route : &s->other, status, secs);
    access_log(c, r, status, body.len);
    if (!keep)
        c->close_after = true;
}

static void send_response(conn *c, http_request *r, int status, const char *type, ccz_span body,
                          bool close)
{
    send_response_ex(c, r, status, type, body, close, false);
}

static void request_done(conn *c);
static void process(conn *c);

/* A deferred request has its answer: on to the next request (one may be waiting already). */
static void deferred_done(conn *c)
{
    if (c->state != C_WAIT)
        return; /* answered from its handler */
    request_done(c);
    if (c->state == C_IDLE)
        process(c);
}

void http_reply_secret(http_request *r, int status, const char *content_type, ccz_span body)
{
    if (r->replied)
        return;
    send_response_ex(r->c, r, status, content_type, body, false, true);
    deferred_done(r->c);
}

void http_reply(http_request *r, int status, const char *content_type, ccz_span body)
{
    if (r->replied)
        return;
    send_response(r->c, r, status, content_type, body, false);
    deferred_done(r->c);
}

void http_request_defer(http_request *r, void (*gone)(void *arg), void *arg)
{
    r->deferred = true;
    r->gone = gone;
    r->gone_arg = arg;
}

/* A preface request is answered: account for it and close the connection after the bytes. */
static void raw_replied(http_request *r, int status, size_t n)
{
    conn *c = r->c;
    r->replied = true;
    r->status = status;
    count(r->route ? (route *)r->route : &c->srv->other, status,
          (double)(listener_mono_ms() - r->started) / 1000.0);
    access_log(c, r, status, n);
    c->close_after = true;
}

void http_reply_raw(http_request *r, int status, ccz_span bytes)
{
    if (r->replied)
        return;
    if (bytes.len)
        evbuffer_add(bufferevent_get_output(r->c->lc.bev), bytes.ptr, bytes.len);
    raw_replied(r, status, bytes.len);
}

static void wipe_free(const void *data, size_t len, void *arg)
{
    (void)arg;
    ccz_wipe((void *)data, len);
    free((void *)data);
}

void http_reply_raw_secret(http_request *r, int status, ccz_span bytes)
{
    if (r->replied)
        return;
    uint8_t *copy = bytes.len ? malloc(bytes.len) : NULL;
    if (bytes.len && !copy) {
        raw_replied(r, 500, 0);
        return;
    }
    if (copy) {
        memcpy(copy, bytes.ptr, bytes.len);
        if (evbuffer_add_reference(bufferevent_get_output(r->c->lc.bev), copy, bytes.len, wipe_free,
                                   NULL) != 0) {
            wipe_free(copy, bytes.len, NULL);
            raw_replied(r, 500, 0);
            return;
        }
    }
    raw_replied(r, status, bytes.len);
}

void http_reply_json(http_request *r, int status, const json_t *body)
{
    ccz_buf b = CCZ_BUF_INIT;
    if (ccz_json_dump(&b, body, false) == CCZ_OK && ccz_buf_append(&b, "\n", 1) == CCZ_OK)
        http_reply(r, status, "application/json", ccz_buf_span(&b));
    else
        http_reply(r, 500, "text/plain", CCZ_LIT("out of memory\n"));
    ccz_buf_free(&b);
}

static json_t *error_body(const http_server *s, int status, const char *msg)
{
    if (s->string_errors)
        return json_pack("{s:s}", "error", msg);
    return json_pack("{s:{s:i,s:s,s:s}}", "error", "code", status, "status", http_reason(status),
                     "message", msg);
}

void http_reply_error(http_request *r, int status, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* a message cut to the buffer is cut before a character it would split: a JSON string is
     * UTF-8 (json_pack refuses one that is not, and the client would hear 500 instead) */
    if (n >= (int)sizeof msg) {
        size_t end = sizeof msg - 1, i = end;
        while (i > 0 && ((uint8_t)msg[i - 1] & 0xc0) == 0x80)
            i--; /* back over continuation bytes to the last character's lead byte */
        uint8_t lead = i > 0 ? (uint8_t)msg[i - 1] : 0;
        size_t need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
        if (lead >= 0xc0 && end - (i - 1) < need)
            msg[i - 1] = 0;
    }
    json_t *j = error_body(r->c->srv, status, msg);
    if (j)
        http_reply_json(r, status, j);
    else
        http_reply(r, 500, "text/plain", CCZ_LIT("out of memory\n"));
    json_decref(j);
}

/* An answer to a request that never reached a handler (the head did not parse, the body is
 * too large, a timeout): always closes the connection, whose byte stream cannot be trusted to
 * be at a request boundary any more. */
static void refuse(conn *c, int status, const char *message)
{
    http_request *r = &c->req;
    if (!r->started)
        r->started = listener_mono_ms();
    r->head.keep_alive = false;
    c->linger = true;
    ccz_buf_reset(&r->extra_headers);
    r->retry_after = false;
    json_t *j = error_body(c->srv, status, message);
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    r->replied = false;
    send_response(c, r, status, "application/json",
                  text ? CCZ_SPAN(text, strlen(text)) : CCZ_LIT(""), true);
    free(text);
    conn_finish(c);
}

/* the tchar of RFC 9110 5.6.2: a field name is a token */
#define TCHARS "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

ccz_status http_add_header(http_request *r, const char *name, const char *value)
{
    CCZ_ENSURE(name[0] && name[strspn(name, TCHARS)] == '\0', CCZ_ERR_INVALID_ARGUMENT,
               "a response header name that is not a token");
    for (const char *p = value; *p; p++)
        CCZ_ENSURE(*p != '\r' && *p != '\n', CCZ_ERR_INVALID_ARGUMENT,
                   "a response header value with a line break");
    CCZ_GUARD(ccz_buf_printf(&r->extra_headers, "%s: %s\r\n", name, value));
    /* field names are case-insensitive, and X-Retry-After is another field */
    if (strcasecmp(name, "Retry-After") == 0)
        r->retry_after = true;
    return CCZ_OK;
}

const char *http_request_method(const http_request *r)
{
    return r->method;
}
const char *http_request_path(const http_request *r)
{
    return r->path;
}
const char *http_request_rest(const http_request *r)
{
    return r->rest ? r->rest : "";
}
ccz_span http_request_body(const http_request *r)
{
    return ccz_buf_span(&r->body);
}
const char *http_request_peer(const http_request *r)
{
    return r->c->addr;
}
const char *http_request_peer_group(const http_request *r)
{
    return r->c->lc.peer->addr;
}

SSL *http_request_ssl(const http_request *r)
{
    return r->c->lc.ssl;
}

const ccz_ratls_verdict *http_request_tls_verdict(const http_request *r)
{
    return r->c->lc.ssl ? ccz_ratls_peer_verdict(r->c->lc.ssl) : NULL;
}

const char *http_request_header(const http_request *r, const char *name)
{
    ccz_span v;
    if (!http_head_get(&r->head, name, &v))
        return NULL;
    return (const char *)v.ptr; /* NUL-terminated in the copy (see take_head) */
}

static bool unescape(ccz_buf *out, ccz_span s)
{
    ccz_buf_reset(out);
    for (size_t i = 0; i < s.len; i++) {
        uint8_t b = s.ptr[i];
        if (b == '+') {
            b = ' ';
        } else if (b == '%') {
            if (i + 2 >= s.len ||
                ccz_hex_decode_fixed(&b, 1, (const char *)s.ptr + i + 1, 2) != CCZ_OK)
                return false;
            if (b == 0)
                return false; /* %00: a reader of the C string would see less than was sent */
            i += 2;
        }
        if (ccz_buf_append_u8(out, b) != CCZ_OK)
            return false;
    }
    return ccz_buf_append_u8(out, 0) == CCZ_OK && (out->len--, true);
}

bool http_request_query(const http_request *r, const char *name, ccz_buf *out)
{
    ccz_span q = r->head.query;
    size_t n = strlen(name), i = 0;
    while (i < q.len) {
        size_t s = i;
        while (i < q.len && q.ptr[i] != '&')
            i++;
        ccz_span pair = CCZ_SPAN(q.ptr + s, i - s);
        i++;
        const uint8_t *eq = memchr(pair.ptr, '=', pair.len);
        size_t klen = eq ? (size_t)(eq - pair.ptr) : pair.len;
        if (klen == n && memcmp(pair.ptr, name, n) == 0) {
            ccz_span v = eq ? CCZ_SPAN(eq + 1, pair.len - klen - 1) : CCZ_SPAN("", 0);
            return unescape(out, v);
        }
    }
    return false;
}

json_t *http_request_json(http_request *r)
{
    return http_request_json_lifted(r, NULL, NULL);
}

/* Whether a JSON string's body needs no unescaping and is valid as it stands: no '\\', no '"',
 * no byte below 0x20, and ASCII (a byte of 0x80 or more may not be UTF-8, which jansson checks
 * and this does not: such a string is left to it). Kilobytes of base64 evidence pass through here
 * on every request: two memchr and a test of eight bytes at a time (a byte below 0x20 makes
 * x - 0x20..20 borrow into a top bit that x itself does not have). */
static bool json_plain(const uint8_t *p, size_t n)
{
    if (memchr(p, '\\', n) || memchr(p, '"', n))
        return false;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t x;
        memcpy(&x, p + i, 8);
        if (x & 0x8080808080808080ull)
            return false; /* not ASCII */
        if ((x - 0x2020202020202020ull) & ~x & 0x8080808080808080ull)
            return false;
    }
    for (; i < n; i++) {
        if (p[i] >= 0x80)
            return false;
        if (p[i] < 0x20)
            return false;
    }
    return true;
}

json_t *http_request_json_parse(const http_request *r, const char *key, ccz_buf *lifted,
                                int *status, char *why, size_t why_len)
{
    const char *type = http_request_header(r, "content-type");
    size_t tl = type ? strcspn(type, "; \t") : 0;
    if (!type || tl != strlen("application/json") ||
        strncasecmp(type, "application/json", tl) != 0) {
        *status = 415;
        snprintf(why, why_len, "the body must be application/json");
        return NULL;
    }
    json_error_t err;
    ccz_span body = CCZ_SPAN(r->body.ptr, r->body.len), v;
    ccz_buf rest = CCZ_BUF_INIT;
    /* a long plain string (no escapes, no control bytes) is taken out of the text before jansson
     * reads it (its lexer takes a function call per byte); the rest is parsed as usual, so
     * syntax and duplicate keys are still checked */
    if (key && ccz_json_raw_member(&v, body, key) == CCZ_OK && v.len > 256 && v.ptr[0] == '"' &&
        v.ptr[v.len - 1] == '"') {
        size_t at = (size_t)(v.ptr - body.ptr);
        if (json_plain(v.ptr + 1, v.len - 2) &&
            ccz_buf_append(lifted, v.ptr + 1, v.len - 2) == CCZ_OK &&
            ccz_buf_append(&rest, body.ptr, at) == CCZ_OK &&
            ccz_buf_append(&rest, "\"\"", 2) == CCZ_OK &&
            ccz_buf_append(&rest, v.ptr + v.len, body.len - at - v.len) == CCZ_OK)
            body = ccz_buf_span(&rest);
        else
            ccz_buf_reset(lifted);
    }
    json_t *j = json_loadb(body.ptr ? (const char *)body.ptr : "", body.len, JSON_REJECT_DUPLICATES,
                           &err); /* jansson takes no NULL, even for 0 bytes */
    ccz_buf_free(&rest);
    if (!j) {
        *status = 400;
        /* jansson's text quotes the bytes it stopped at (a password, a key): cut there */
        snprintf(why, why_len, "the body is not JSON: %s (line %d, column %d)",
                 ccz_json_error_unquoted(err.text), err.line, err.column);
        return NULL;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        *status = 400;
        snprintf(why, why_len, "the body must be a JSON object");
        return NULL;
    }
    return j;
}

json_t *http_request_json_lifted(http_request *r, const char *key, ccz_buf *lifted)
{
    int status;
    char why[256];
    json_t *j = http_request_json_parse(r, key, lifted, &status, why, sizeof why);
    if (!j)
        http_reply_error(r, status, "%s", why);
    return j;
}

/* ---- built-in routes ---------------------------------------------------------------------------*/

static void healthz(http_request *r, void *payload)
{
    http_server *s = payload;
    if (s->draining)
        http_reply(r, 503, "application/json", CCZ_LIT("{\"status\":\"draining\"}\n"));
    else
        http_reply(r, 200, "application/json", CCZ_LIT("{\"status\":\"ok\"}\n"));
}

/* The routes, then the requests that matched none, then the preface: what /metrics counts. */
static const route *route_at(const http_server *s, size_t i)
{
    return i < s->n_routes ? &s->routes[i] : i == s->n_routes ? &s->other : &s->preface;
}

static ccz_status metrics_text(http_server *s, ccz_buf *b)
{
    const char *n = s->name;
    CCZ_GUARD(ccz_buf_printf(b, "# HELP ccz_http_requests_total HTTP requests answered.\n"
                                "# TYPE ccz_http_requests_total counter\n"));
    for (size_t i = 0; i < s->n_routes + 2; i++) {
        const route *rt = route_at(s, i);
        if (!rt->method)
            continue;
        for (size_t k = 0; k < MAX_CODES && rt->codes[k].code; k++)
            CCZ_GUARD(ccz_buf_printf(
                b,
                "ccz_http_requests_total{service=\"%s\",method=\"%s\",route=\"%s\",code=\"%d\"} "
                "%llu\n",
                n, rt->method, rt->path, rt->codes[k].code, (unsigned long long)rt->codes[k].n));
    }
    CCZ_GUARD(ccz_buf_printf(b, "# HELP ccz_http_request_seconds_sum Time spent answering.\n"
                                "# TYPE ccz_http_request_seconds_sum counter\n"));
    for (size_t i = 0; i < s->n_routes + 2; i++) {
        const route *rt = route_at(s, i);
        if (!rt->method)
            continue;
        CCZ_GUARD(ccz_buf_printf(
            b, "ccz_http_request_seconds_sum{service=\"%s\",method=\"%s\",route=\"%s\"} %.6f\n", n,
            rt->method, rt->path, rt->seconds));
    }
    CCZ_GUARD(ccz_buf_printf(
        b,
        "# HELP ccz_http_connections_open Connections open now.\n"
        "# TYPE ccz_http_connections_open gauge\n"
        "ccz_http_connections_open{service=\"%s\"} %u\n"
        "# HELP ccz_http_connections_accepted_total Connections accepted.\n"
        "# TYPE ccz_http_connections_accepted_total counter\n"
        "ccz_http_connections_accepted_total{service=\"%s\"} %llu\n"
        "# HELP ccz_http_connections_shed_total Connections closed to make room at a cap.\n"
        "# TYPE ccz_http_connections_shed_total counter\n"
        "ccz_http_connections_shed_total{service=\"%s\"} %llu\n"
        "# HELP ccz_http_connections_refused_total Connections refused at a cap.\n"
        "# TYPE ccz_http_connections_refused_total counter\n"
        "ccz_http_connections_refused_total{service=\"%s\"} %llu\n"
        "# HELP ccz_http_request_bytes_held Request body bytes held now.\n"
        "# TYPE ccz_http_request_bytes_held gauge\n"
        "ccz_http_request_bytes_held{service=\"%s\"} %zu\n",
        n, s->conns.n, n, (unsigned long long)s->accepted, n, (unsigned long long)s->shed, n,
        (unsigned long long)s->refused, n, s->held));
    if (s->metrics)
        s->metrics(b, s->metrics_payload);
    return CCZ_OK;
}

static void metrics(http_request *r, void *payload)
{
    http_server *s = payload;
    ccz_buf b = CCZ_BUF_INIT;
    if (metrics_text(s, &b) == CCZ_OK)
        http_reply(r, 200, "text/plain; version=0.0.4", ccz_buf_span(&b));
    else
        http_reply_error(r, 500, "out of memory");
    ccz_buf_free(&b);
}

/* ---- reading and dispatch ----------------------------------------------------------------------*/

static route *find_route(http_server *s, http_request *r, bool *path_known, ccz_buf *allow)
{
    *path_known = false;
    /* HEAD is GET without the body (RFC 9110 9.3.2): GET's handler answers, seeing the method
     * GET (a handler of several methods must not take HEAD for one of its others), and
     * send_response_ex leaves the body out */
    for (size_t i = 0; i < s->n_routes; i++) {
        route *rt = &s->routes[i];
        size_t n = strlen(rt->path);
        bool hit = rt->prefix ? strncmp(r->path, rt->path, n) == 0 && r->path[n] != '\0'
                              : strcmp(r->path, rt->path) == 0;
        if (!hit)
            continue;
        if (strcmp(r->method, rt->method) == 0 ||
            (r->head_only && strcmp(rt->method, "GET") == 0)) {
            r->method = rt->method;
            r->rest = rt->prefix ? r->path + n : NULL;
            return rt;
        }
        /* Allow lists each method once (an incomplete list when memory runs out) */
        if ((!*path_known || !strstr((const char *)allow->ptr, rt->method)) &&
            ccz_buf_printf(allow, "%s%s%s", *path_known ? ", " : "", rt->method,
                           strcmp(rt->method, "GET") == 0 ? ", HEAD" : "") != CCZ_OK)
            ccz_buf_reset(allow);
        *path_known = true;
    }
    return NULL;
}

static void dispatch(conn *c)
{
    http_server *s = c->srv;
    http_request *r = &c->req;
    bool known;
    ccz_buf allow = CCZ_BUF_INIT;
    route *rt = find_route(s, r, &known, &allow);
    if (!rt) {
        if (known) {
            if (allow.len && http_add_header(r, "Allow", (const char *)allow.ptr) != CCZ_OK)
                ccz_log(CCZ_LOG_DEBUG, "%s: a 405 without Allow (out of memory)", s->name);
            http_reply_error(r, 405, "%s is not allowed on %s", r->method, r->path);
        } else {
            http_reply_error(r, 404, "no such endpoint: %s", r->path);
        }
    } else {
        r->route = rt;
        rt->handler(r, rt->payload);
        if (!r->replied && !r->deferred) {
            ccz_log(CCZ_LOG_ERROR, "%s: the handler of %s %s did not answer", s->name, rt->method,
                    rt->path);
            http_reply_error(r, 500, "the handler did not answer");
        }
    }
    ccz_buf_free(&allow);
}

/* Moves the first n bytes of in to dst (NULL: drops them), wiping them where they were:
 * libevent frees its chains without wiping, and a request may carry a secret (a plaintext, an
 * Authorization header). The input's chains are the ones the connection's reads filled, so
 * writable memory. */
static void take_wiped(struct evbuffer *in, uint8_t *dst, size_t n)
{
    while (n) {
        struct evbuffer_iovec v[8];
        int k = evbuffer_peek(in, (ev_ssize_t)n, NULL, v, 8);
        size_t done = 0;
        for (int i = 0; i < k && i < 8 && done < n; i++) {
            size_t m = v[i].iov_len < n - done ? v[i].iov_len : n - done;
            if (dst)
                memcpy(dst + done, v[i].iov_base, m);
            ccz_wipe(v[i].iov_base, m);
            done += m;
        }
        if (!done)
            return;
        evbuffer_drain(in, done);
        dst = dst ? dst + done : NULL;
        n -= done;
    }
}

/* Copies the head out of the input, NUL-terminating method, path and header values in the
 * copy, and drains it. */
static bool take_head(conn *c, const http_head *parsed, struct evbuffer *in)
{
    http_request *r = &c->req;
    size_t n = parsed->head_len;
    r->head_bytes = malloc(n + 1);
    if (!r->head_bytes)
        return false;
    r->head_bytes_len = n;
    take_wiped(in, r->head_bytes, n);
    r->head_bytes[n] = 0;
    int code;
    if (http_parse_head(&r->head, &code, CCZ_SPAN(r->head_bytes, n), c->srv->max_head) != CCZ_OK)
        return false; /* the same bytes parsed a moment ago */
    uint8_t *base = r->head_bytes;
#define TERMINATE(sp) (base[(sp).ptr - base + (sp).len] = 0)
    TERMINATE(r->head.method);
    TERMINATE(r->head.path); /* the '?' or the space after the target */
    if (r->head.query.ptr)
        TERMINATE(r->head.query);
    for (size_t i = 0; i < r->head.n_headers; i++)
        TERMINATE(r->head.headers[i].value); /* a blank or the CR */
#undef TERMINATE
    r->method = (const char *)r->head.method.ptr;
    r->path = (const char *)r->head.path.ptr;
    r->head_only = strcmp(r->method, "HEAD") == 0;
    return true;
}

/* Reserves room for len more body bytes (a Content-Length, or a chunk's size): in the limit of
 * one body, in the server's count of bytes held, and in the body's buffer; or refuses. */
static bool admit_body(conn *c, uint64_t len)
{
    http_server *s = c->srv;
    http_request *r = &c->req;
    if (len > s->max_body - r->body.len) {
        char msg[96];
        snprintf(msg, sizeof msg, "the body is larger than %zu bytes", s->max_body);
        refuse(c, 413, msg);
        return false;
    }
    if (len > s->max_held - s->held) {
        refuse(c, 503, "the server holds as many request bytes as it may; try again later");
        return false;
    }
    s->held += len;
    c->reserved += len;
    if (len && ccz_buf_reserve(&r->body, (size_t)len) != CCZ_OK) {
        refuse(c, 503, "out of memory");
        return false;
    }
    return true;
}

static void start_body(conn *c)
{
    http_server *s = c->srv;
    http_request *r = &c->req;
    uint64_t len = r->head.has_length ? r->head.content_length : 0;
    ccz_buf_init(&r->body, s->max_body, true); /* may hold a secret or a plaintext */
    if (!admit_body(c, len))
        return;
    if (r->head.expect_continue && (len || r->head.chunked))
        evbuffer_add_printf(bufferevent_get_output(c->lc.bev), "HTTP/1.1 100 Continue\r\n\r\n");
    c->state = C_BODY;
}

/* The request has been answered: release it and wait for the next one. */
static void request_done(conn *c)
{
    http_server *s = c->srv;
    s->held -= c->reserved;
    c->reserved = 0;
    request_reset(&c->req);
    c->lc.last_active = listener_mono_ms();
    c->state = C_IDLE;
    if (c->close_after) {
        conn_finish(c);
        return;
    }
    arm(c, s->idle_ms);
}

static void finish_request(conn *c)
{
    dispatch(c);
    if (!c->req.replied) { /* deferred: read nothing more until the answer */
        c->state = C_WAIT;
        arm(c, c->srv->request_ms);
        return;
    }
    request_done(c);
}

/* Reads a chunked body as far as the input goes: false when it waits for more bytes or the
 * request was refused, true when the request has been dispatched. */
static bool read_chunked(conn *c)
{
    http_server *s = c->srv;
    http_request *r = &c->req;
    struct evbuffer *in = bufferevent_get_input(c->lc.bev);
    for (;;) {
        http_chunked *ck = &r->chunked;
        if (ck->state == HTTP_CHUNK_DONE) {
            finish_request(c);
            return true;
        }
        size_t avail = evbuffer_get_length(in);
        if (ck->state == HTTP_CHUNK_DATA && avail > ck->left)
            avail = (size_t)ck->left; /* pull up no more than the chunk's data */
        if (avail == 0)
            return false;
        bool sizing = ck->state == HTTP_CHUNK_SIZE;
        int code;
        size_t used;
        ccz_span data;
        ccz_status st =
            http_chunked_step(ck, &code, CCZ_SPAN(evbuffer_pullup(in, (ssize_t)avail), avail),
                              s->max_head, &used, &data);
        if (st == CCZ_ERR_TRUNCATED)
            return false;
        if (st != CCZ_OK) {
            char msg[256];
            snprintf(msg, sizeof msg, "%s", ccz_error_detail());
            refuse(c, code, msg);
            return false;
        }
        if (data.len) { /* admitted with its chunk's size */
            memcpy(r->body.ptr + r->body.len, data.ptr, data.len);
            r->body.len += data.len;
            r->body.ptr[r->body.len] = 0;
        }
        take_wiped(in, NULL, used);
        if (sizing && ck->state == HTTP_CHUNK_DATA && !admit_body(c, ck->left))
            return false;
    }
}

/* Whether p[from, n), or the byte before it, holds a CR or an LF. Without one a head that said
 * "read on" says it again (its lines and its limit are where it could end), so a slow sender's
 * every piece need not cost a parse of all the head so far (quadratic in the head). */
static bool line_end_since(const uint8_t *p, size_t from, size_t n)
{
    size_t at = from && from <= n ? from - 1 : 0;
    return memchr(p + at, '\n', n - at) || memchr(p + at, '\r', n - at);
}

static void process(conn *c)
{
    http_server *s = c->srv;
    struct evbuffer *in = bufferevent_get_input(c->lc.bev);
    for (;;) {
        if (c->close_after || c->state == C_WAIT)
            return;
        if (evbuffer_get_length(bufferevent_get_output(c->lc.bev)) >= OUTPUT_HIGH) {
            /* the client sends requests faster than it reads answers: wait for it */
            bufferevent_disable(c->lc.bev, EV_READ);
            c->paused = true;
            return;
        }
        size_t avail = evbuffer_get_length(in);
        if (c->state == C_IDLE || c->state == C_HEAD) {
            if (avail == 0)
                return;
            if (c->state == C_IDLE) {
                if (s->draining) { /* no new requests while draining */
                    /* the client may still be sending them: a close on its unread bytes would
                     * reset the connection, and the answers it has yet to read would be lost */
                    c->linger = true; /* read and drop what it sends until it closes */
                    conn_finish(c);
                    return;
                }
                c->state = C_HEAD;
                c->head_seen = 0;
                c->req.started = listener_mono_ms();
                arm(c, s->request_ms);
            }
            if (!c->served && s->magic) {
                size_t m = avail < s->magic_len ? avail : s->magic_len;
                const uint8_t *p = evbuffer_pullup(in, (ssize_t)m);
                if (memcmp(p, s->magic, m) == 0) {
                    if (m < s->magic_len)
                        return; /* so far so good: read on */
                    evbuffer_drain(in, m);
                    c->served = true;
                    http_request *r = &c->req;
                    r->route = &s->preface;
                    r->method = s->preface.method;
                    r->path = "";
                    s->preface.handler(r, s->preface.payload);
                    if (!r->replied)
                        http_reply_raw(r, 500, CCZ_SPAN(NULL, 0));
                    conn_finish(c);
                    return;
                }
            }
            c->served = true;
            size_t n = avail < s->max_head ? avail : s->max_head;
            const uint8_t *p = evbuffer_pullup(in, (ssize_t)n);
            bool news = n >= s->max_head || line_end_since(p, c->head_seen, n);
            c->head_seen = n;
            if (!news)
                return; /* no line ended: the parser would say "read on" */
            http_head head;
            int code;
            ccz_status st = http_parse_head(&head, &code, CCZ_SPAN(p, n), s->max_head);
            if (st == CCZ_ERR_TRUNCATED)
                return;
            if (st != CCZ_OK) {
                char msg[256];
                snprintf(msg, sizeof msg, "%s", ccz_error_detail());
                refuse(c, code, msg);
                return;
            }
            if (!take_head(c, &head, in)) {
                refuse(c, 503, "out of memory");
                return;
            }
            start_body(c);
            if (c->state != C_BODY)
                return;
            continue;
        }
        /* C_BODY */
        http_request *r = &c->req;
        if (r->head.chunked) {
            if (!read_chunked(c))
                return;
            continue;
        }
        size_t want = c->reserved - r->body.len;
        size_t take = avail < want ? avail : want;
        if (take) {
            size_t at = r->body.len;
            r->body.len += take; /* reserved already */
            take_wiped(in, r->body.ptr + at, take);
        }
        if (r->body.len < c->reserved)
            return;
        finish_request(c);
    }
}

static void read_cb(struct bufferevent *bev, void *arg)
{
    conn *c = arg;
    if (c->lingering) {
        struct evbuffer *in = bufferevent_get_input(bev);
        c->dropped += evbuffer_get_length(in);
        take_wiped(in, NULL, evbuffer_get_length(in)); /* a refused request's body */
        if (c->dropped > LINGER_MAX)
            conn_close(c);
        return;
    }
    process(c);
}

static void write_cb(struct bufferevent *bev, void *arg)
{
    (void)bev;
    conn *c = arg;
    if (c->close_after) {
        if (c->linger && !c->lingering)
            linger_start(c);
        else if (!c->lingering)
            conn_close(c);
        return;
    }
    if (c->paused) {
        c->paused = false;
        bufferevent_enable(c->lc.bev, EV_READ);
        process(c);
    }
}

static void conn_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    conn *c = arg;
    http_server *s = c->srv;
    if (c->close_after) {
        conn_close(c);
        return;
    }
    switch (c->state) {
    case C_HANDSHAKE:
        ccz_log(CCZ_LOG_DEBUG, "%s: a client did not finish its handshake within %u ms", s->name,
                s->handshake_ms);
        conn_close(c);
        return;
    case C_IDLE:
        conn_close(c); /* keep-alive ran out */
        return;
    case C_WAIT: /* the service did not answer in time: its late answer will find no request */
        if (c->req.gone)
            c->req.gone(c->req.gone_arg);
        c->req.gone = NULL;
        http_reply_error(&c->req, 503, "no answer within %u ms", s->request_ms);
        return;
    case C_HEAD:
    case C_BODY: {
        char msg[96];
        snprintf(msg, sizeof msg, "the request did not arrive whole within %u ms", s->request_ms);
        refuse(c, 408, msg);
        return;
    }
    }
}

/* The handshake is done (or there is none): requests may come. */
static void conn_ready(conn *c)
{
    listener_conns_ready(&c->srv->conns, &c->lc);
    c->state = C_IDLE;
    c->lc.last_active = listener_mono_ms();
    arm(c, c->srv->idle_ms);
    process(c);
}

static void event_cb(struct bufferevent *bev, short events, void *arg)
{
    (void)bev;
    conn *c = arg;
    http_server *s = c->srv;
    if (events & BEV_EVENT_CONNECTED) {
        conn_ready(c);
        return;
    }
    if (events & (BEV_EVENT_ERROR | BEV_EVENT_EOF)) {
        if (c->state == C_HANDSHAKE)
            listener_log_handshake_failure(s->name, c->lc.ssl,
                                           bufferevent_get_openssl_error(c->lc.bev));
        conn_close(c);
    }
}

/* At a cap, a ready connection may make room when it waits for a request (or lingers after a
 * refusal): requests in progress are never cut. */
static bool conn_idle(const listener_conn *x)
{
    const conn *c = (const conn *)x;
    return (c->state == C_IDLE && !c->close_after) || c->lingering;
}

static void conn_shed(listener_conn *x)
{
    conn *c = (conn *)x;
    c->srv->shed++;
    conn_close(c);
}

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *addr, int len,
                      void *arg)
{
    (void)len;
    http_server *s = arg;
    if (s->draining) {
        evutil_closesocket(fd);
        return;
    }
    listener_peer *p = listener_admit(&s->conns, l, addr);
    if (!p) {
        s->refused++;
        evutil_closesocket(fd);
        return;
    }
    conn *c = (conn *)listener_conn_new(sizeof *c, s->base, s->tls, fd, conn_timer);
    if (!c)
        return;
    c->srv = s;
    /* the access log names the whole address; an IPv4 peer's group is its address (also when a
     * dual-stack socket sees it mapped to IPv6: "192.0.2.7", not "::ffff:192.0.2.7") */
    if (addr->sa_family == AF_INET6 &&
        !IN6_IS_ADDR_V4MAPPED(&((struct sockaddr_in6 *)addr)->sin6_addr))
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)addr)->sin6_addr, c->addr, sizeof c->addr);
    else
        snprintf(c->addr, sizeof c->addr, "%s", p->addr);
    c->req.c = c;
    s->accepted++;
    /* the head is read at most max_head (and a little) at a time: a longer one is refused */
    bufferevent_setwatermark(c->lc.bev, EV_READ, 0, s->max_head + 4096);
    bufferevent_setcb(c->lc.bev, read_cb, write_cb, event_cb, c);
    bufferevent_enable(c->lc.bev, EV_READ | EV_WRITE);
    listener_conns_add(&s->conns, &c->lc, p, true);
    if (c->lc.ssl) {
        c->state = C_HANDSHAKE;
        arm(c, s->handshake_ms);
    } else { /* plain HTTP: no handshake, ready at once */
        conn_ready(c);
    }
}

static void accept_error(struct evconnlistener *l, void *arg)
{
    http_server *s = arg;
    listener_pause(l, s->conns.relisten, &s->accept_failed_at, s->name, s->conns.n, s->conns.max);
}

static void relisten(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    http_server *s = arg;
    if (s->listener && !s->draining)
        evconnlistener_enable(s->listener);
}

/* ---- draining --------------------------------------------------------------------------------*/

static void grace_over(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    http_server *s = arg;
    ccz_log(CCZ_LOG_WARN, "%s: the drain's grace ran out with %u connections open", s->name,
            s->conns.n);
    while (s->conns.handshaking.head)
        conn_close((conn *)s->conns.handshaking.head);
    while (s->conns.ready.head)
        conn_close((conn *)s->conns.ready.head);
    event_base_loopexit(s->base, NULL);
}

static void do_drain(http_server *s, unsigned grace_ms)
{
    if (s->draining)
        return;
    s->draining = true;
    ccz_log(CCZ_LOG_INFO, "%s: draining (%u connections open, grace %u ms)", s->name, s->conns.n,
            grace_ms);
    if (s->listener) { /* connecting clients are refused at once, not queued */
        evconnlistener_free(s->listener);
        s->listener = NULL;
    }
    while (s->conns.handshaking.head)
        conn_close((conn *)s->conns.handshaking.head);
    for (listener_conn *x = s->conns.ready.head, *next; x; x = next) {
        next = x->next;
        conn *c = (conn *)x;
        if (c->state == C_IDLE && evbuffer_get_length(bufferevent_get_input(c->lc.bev)) == 0)
            conn_finish(c);
    }
    if (!s->conns.ready.head) {
        event_base_loopexit(s->base, NULL);
        return;
    }
    struct timeval tv = {(time_t)(grace_ms / 1000), (suseconds_t)(grace_ms % 1000) * 1000};
    evtimer_add(s->grace, &tv);
}

static void drain_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    http_server *s = arg;
    do_drain(s, __atomic_load_n(&s->pending_grace, __ATOMIC_ACQUIRE));
}

static void signal_cb(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    http_server *s = arg;
    ccz_log(CCZ_LOG_INFO, "%s: %s received", s->name, sig == SIGTERM ? "SIGTERM" : "SIGINT");
    do_drain(s, s->drain_ms);
}

void http_server_shutdown(http_server *s, unsigned grace_ms)
{
    __atomic_store_n(&s->pending_grace, grace_ms, __ATOMIC_RELEASE);
    event_active(s->drain, EV_TIMEOUT, 0);
}

/* ---- the server ------------------------------------------------------------------------------*/

ccz_status http_server_new(http_server **out, const http_server_opts *o)
{
    *out = NULL;
    CCZ_ENSURE(o, CCZ_ERR_INVALID_ARGUMENT, "an HTTP server needs its options");
    listener_use_threads();
    http_server *s = calloc(1, sizeof *s);
    CCZ_ENSURE(s, CCZ_ERR_NOMEM, "out of memory");
    snprintf(s->name, sizeof s->name, "%s", o->name ? o->name : "http");
    s->max_head = o->max_head ? o->max_head : 16 * 1024;
    s->max_body = o->max_body ? o->max_body : 1024 * 1024;
    s->max_held = o->max_held ? o->max_held : 64u * 1024 * 1024;
    s->conns.max = o->max_connections ? o->max_connections : 1024;
    unsigned room = listener_descriptor_room();
    if (s->conns.max > room)
        s->conns.max = room;
    s->conns.max_per_peer = o->max_per_peer ? o->max_per_peer : 64;
    s->conns.name = s->name;
    s->conns.idle = conn_idle;
    s->conns.close = conn_shed;
    s->handshake_ms = o->handshake_ms ? o->handshake_ms : 10000;
    s->request_ms = o->request_ms ? o->request_ms : 30000;
    s->idle_ms = o->idle_ms ? o->idle_ms : 60000;
    s->drain_ms = o->drain_ms ? o->drain_ms : 10000;
    s->other = (route){.method = "-", .path = "-"};
    bool peers = listener_conns_init(&s->conns) == CCZ_OK;
    s->base = event_base_new();
    if (s->base) {
        s->conns.relisten = evtimer_new(s->base, relisten, s);
        s->drain = event_new(s->base, -1, 0, drain_cb, s);
        s->grace = evtimer_new(s->base, grace_over, s);
    }
    if (!peers || !s->base || !s->conns.relisten || !s->drain || !s->grace) {
        http_server_free(s);
        return ccz_fail(CCZ_ERR_NOMEM, "cannot create the event loop");
    }
    evthread_make_base_notifiable(s->base);
    if (o->handle_signals) {
        s->sigterm = evsignal_new(s->base, SIGTERM, signal_cb, s);
        s->sigint = evsignal_new(s->base, SIGINT, signal_cb, s);
        if (!s->sigterm || !s->sigint || evsignal_add(s->sigterm, NULL) != 0 ||
            evsignal_add(s->sigint, NULL) != 0) {
            http_server_free(s);
            return ccz_fail(CCZ_ERR_IO, "cannot handle SIGTERM");
        }
    }
    s->string_errors = o->string_errors;
    s->tls = o->tls;
    if (s->tls)
        SSL_CTX_up_ref(s->tls);
    ccz_status st = http_route(s, "GET", "/healthz", false, healthz, s);
    if (st == CCZ_OK)
        st = http_route(s, "GET", "/metrics", false, metrics, s);
    if (st != CCZ_OK) {
        http_server_free(s);
        return st;
    }
    *out = s;
    return CCZ_OK;
}

void http_server_free(http_server *s)
{
    if (!s)
        return;
    s->draining = false;
    while (s->conns.handshaking.head)
        conn_close((conn *)s->conns.handshaking.head);
    while (s->conns.ready.head)
        conn_close((conn *)s->conns.ready.head);
    if (s->listener)
        evconnlistener_free(s->listener);
    struct event *evs[] = {s->conns.relisten, s->drain, s->grace, s->sigterm, s->sigint};
    for (size_t i = 0; i < CCZ_ARRAY_LEN(evs); i++)
        if (evs[i])
            event_free(evs[i]);
    for (size_t i = 0; i < s->n_routes; i++) {
        free(s->routes[i].method);
        free(s->routes[i].path);
    }
    free(s->routes);
    listener_conns_free(&s->conns);
    free(s->magic);
    free(s->preface.method);
    free(s->preface.path);
    SSL_CTX_free(s->tls);
    if (s->base)
        event_base_free(s->base);
    free(s);
}

ccz_status http_route(http_server *s, const char *method, const char *path, bool prefix,
                      http_handler h, void *payload)
{
    CCZ_ENSURE(method && path && path[0] == '/' && h && (!prefix || path[strlen(path) - 1] == '/'),
               CCZ_ERR_INVALID_ARGUMENT,
               "a route needs a method, a /path (a prefix ends in "
               "'/') and a handler");
    for (size_t i = 0; i < s->n_routes; i++)
        CCZ_ENSURE(strcmp(s->routes[i].method, method) || strcmp(s->routes[i].path, path),
                   CCZ_ERR_EXISTS, "%s %s is routed already", method, path);
    route *r = realloc(s->routes, (s->n_routes + 1) * sizeof *r);
    CCZ_ENSURE(r, CCZ_ERR_NOMEM, "out of memory");
    s->routes = r;
    r[s->n_routes] = (route){strdup(method), strdup(path), prefix, h, payload, {{0, 0}}, 0};
    if (!r[s->n_routes].method || !r[s->n_routes].path) {
        free(r[s->n_routes].method);
        free(r[s->n_routes].path);
        return ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    }
    s->n_routes++;
    return CCZ_OK;
}

ccz_status http_server_set_preface(http_server *s, ccz_span magic, const char *name, http_handler h,
                                   void *payload)
{
    CCZ_ENSURE(magic.len && name && h && !s->magic, CCZ_ERR_INVALID_ARGUMENT,
               "a preface needs magic bytes, a name and a handler, once");
    s->magic = malloc(magic.len);
    s->preface.method = strdup(name);
    s->preface.path = strdup("-");
    if (!s->magic || !s->preface.method || !s->preface.path) {
        /* no half-set preface: a connection would find its magic and call no handler */
        free(s->magic);
        free(s->preface.method);
        free(s->preface.path);
        s->magic = NULL;
        s->preface.method = s->preface.path = NULL;
        return ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    }
    memcpy(s->magic, magic.ptr, magic.len);
    s->magic_len = magic.len;
    s->preface.handler = h;
    s->preface.payload = payload;
    return CCZ_OK;
}

void http_server_set_metrics(http_server *s, http_metrics_fn fn, void *payload)
{
    s->metrics = fn;
    s->metrics_payload = payload;
}

struct event_base *http_server_base(http_server *s)
{
    return s->base;
}

ccz_status http_server_listen(http_server *s, const char *addr, int *port)
{
    return listener_bind(&s->listener, port, s->base, addr, accept_cb, accept_error, s);
}

ccz_status http_server_run(http_server *s)
{
    CCZ_ENSURE(s->listener || s->draining, CCZ_ERR_INVALID_ARGUMENT, "the server listens nowhere");
    return event_base_dispatch(s->base) < 0 ? ccz_fail(CCZ_ERR_IO, "the event loop failed")
                                            : CCZ_OK;
}
