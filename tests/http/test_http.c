/* SPDX-License-Identifier: Apache-2.0 */
/* The service layer's HTTP/1.1 server over TLS, from a raw client that writes exactly the bytes
 * a test needs: routing (404, 405 with Allow, prefixes, queries), keep-alive and pipelining,
 * JSON bodies (415, 400), Expect: 100-continue, every refusal of the head parser with its
 * status, body and head limits, request and idle deadlines, the per-peer and server-wide caps
 * (an idle connection makes room, a request in progress never does), a flood of silent
 * connections while a client is served, /healthz and /metrics, and a drain that finishes the
 * request in progress; what setting a server up refuses, response headers that would split the
 * answer, the access log, slow senders (work linear in the bytes) and how far ahead the server
 * reads. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "ccz/ccz.h"
#include "core/listener.h"
#include "http/http.h"
#include "test.h"

static char plat[512];
static ccz_attester *attester;
static SSL_CTX *server_ctx, *client_ctx;

static void setup(void)
{
    if (server_ctx)
        return;
    snprintf(plat, sizeof plat, "%s/plat", test_tmpdir());
    CHECK_OK(ccz_sim_platform_init(plat, false));
    ccz_attester_opts ao = CCZ_ATTESTER_OPTS_INIT;
    ao.tee = CCZ_TEE_SIM;
    ao.sim.dir = plat;
    CHECK_OK(ccz_attester_new(&attester, &ao));
    ccz_ratls_opts o = CCZ_RATLS_OPTS_INIT;
    o.server = true;
    o.mode = CCZ_RATLS_SERVER;
    o.attester = attester;
    CHECK_OK(ccz_ratls_ctx_new(&server_ctx, &o));
    client_ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(client_ctx, SSL_VERIFY_NONE, NULL);
}

/* ---- a server in a thread --------------------------------------------------------------------*/

typedef struct {
    http_server *srv;
    pthread_t thread;
    int port;
    ccz_status run_status;
} server;

static void echo(http_request *r, void *payload)
{
    (void)payload;
    json_t *j = http_request_json(r);
    if (!j)
        return;
    json_object_set_new(j, "seen", json_true());
    http_reply_json(r, 200, j);
    json_decref(j);
}

/* A long string member taken out before jansson reads the rest (http_request_json_lifted). */
static void lift(http_request *r, void *payload)
{
    (void)payload;
    ccz_buf v = CCZ_BUF_INIT;
    json_t *j = http_request_json_lifted(r, "v", &v);
    if (j) {
        const char *in = json_string_value(json_object_get(j, "v"));
        char text[64];
        snprintf(text, sizeof text, "lifted %zu, left %zu", v.len, in ? strlen(in) : 0);
        http_reply(r, 200, "text/plain", CCZ_SPAN(text, strlen(text)));
    }
    json_decref(j);
    ccz_buf_free(&v);
}

static atomic_int gone; /* deferred requests given up (counted on the server's thread) */

static void on_gone(void *arg)
{
    (void)arg;
    gone++;
}

static void item(http_request *r, void *payload)
{
    (void)payload;
    if (strcmp(http_request_rest(r), "mute") == 0)
        return; /* a handler that forgets to answer */
    if (strcmp(http_request_rest(r), "none") == 0) {
        http_reply(r, 204, "text/plain", CCZ_LIT("stray")); /* a 204 given a body */
        return;
    }
    if (strcmp(http_request_rest(r), "peer") == 0) {
        char text[128];
        snprintf(text, sizeof text, "peer=%s group=%s", http_request_peer(r),
                 http_request_peer_group(r));
        http_reply(r, 200, "text/plain", CCZ_SPAN(text, strlen(text)));
        return;
    }
    if (strcmp(http_request_rest(r), "long-error") == 0) {
        /* a message longer than an error holds, in characters of two bytes each */
        char text[801] = "";
        for (int i = 0; i < 400; i++)
            memcpy(text + 2 * i, "\xc3\xa9", 2);
        http_reply_error(r, 422, "no: %s", text);
        return;
    }
    if (strcmp(http_request_rest(r), "edge-error") == 0) {
        /* a message of 512 bytes, one more than an error holds: its last character is cut */
        char text[509] = "";
        for (int i = 0; i < 254; i++)
            memcpy(text + 2 * i, "\xc3\xa9", 2);
        http_reply_error(r, 422, "no: %s", text);
        return;
    }
    if (strcmp(http_request_rest(r), "edge-whole") == 0) {
        /* 5 + 508 bytes: the buffer's 511 end with a whole character, which stays */
        char text[509] = "";
        for (int i = 0; i < 254; i++)
            memcpy(text + 2 * i, "\xc3\xa9", 2);
        http_reply_error(r, 422, "no:  %s", text);
        return;
    }
    /* "not now" answers with headers of their own: Retry-After: 1 is added unless one of them is
     * a Retry-After, whatever its case */
    static const struct {
        const char *rest, *name;
        int status;
    } busy[] = {{"busy-other", "X-Other", 429},
                {"busy-own", "Retry-After", 503},
                {"busy-lower", "retry-after", 429},
                {"busy-prefixed", "X-Retry-After", 503}};
    for (size_t i = 0; i < CCZ_ARRAY_LEN(busy); i++) {
        if (strcmp(http_request_rest(r), busy[i].rest) == 0) {
            CHECK_OK(http_add_header(r, busy[i].name, "30"));
            http_reply_error(r, busy[i].status, "busy");
            return;
        }
    }
    if (strcmp(http_request_rest(r), "long-type") == 0) {
        /* a content type too long for the head's buffer: left out, the rest of the head kept */
        char type[600];
        memset(type, 'x', sizeof type - 1);
        type[sizeof type - 1] = 0;
        memcpy(type, "text/", 5);
        http_reply(r, 200, type, CCZ_LIT("long"));
        return;
    }
    if (strcmp(http_request_rest(r), "twice") == 0) {
        /* a handler that answers twice: the first answer stands, the others are dropped */
        http_reply(r, 200, "text/plain", CCZ_LIT("first"));
        http_reply(r, 500, "text/plain", CCZ_LIT("second"));
        http_reply_error(r, 503, "third");
        return;
    }
    if (strncmp(http_request_rest(r), "type-", 5) == 0) { /* a content type of the length asked */
        char type[600];
        size_t n = (size_t)atoi(http_request_rest(r) + 5);
        CHECK(n >= 5 && n < sizeof type);
        memset(type, 'x', n);
        type[n] = 0;
        memcpy(type, "text/", 5);
        http_reply(r, 200, type, CCZ_LIT("type"));
        return;
    }
    if (strncmp(http_request_rest(r), "code-", 5) == 0) { /* the status asked for */
        http_reply(r, atoi(http_request_rest(r) + 5), "text/plain", CCZ_LIT("code"));
        return;
    }
    if (strcmp(http_request_rest(r), "later") == 0) {
        http_request_defer(r, on_gone, NULL); /* an answer that never comes */
        return;
    }
    ccz_buf q = CCZ_BUF_INIT;
    char text[256];
    bool has = http_request_query(r, "q", &q);
    snprintf(text, sizeof text, "item=%s q=%s m=%s", http_request_rest(r),
             has ? (const char *)q.ptr : "-", http_request_method(r));
    ccz_buf_free(&q);
    http_reply(r, 200, "text/plain", CCZ_SPAN(text, strlen(text)));
}

static atomic_bool pong_mute; /* the preface's handler forgets to answer */

static void pong(http_request *r, void *payload)
{
    (void)payload;
    CHECK_STR(http_request_method(r), "PING");
    if (!atomic_load(&pong_mute))
        http_reply_raw(r, 200, CCZ_LIT("PONG"));
}

/* Response headers from a handler: one with a line break in its value (or its name) is refused,
 * so a value taken from a request cannot split the response; a good one goes out. */
static void headers(http_request *r, void *payload)
{
    (void)payload;
    CHECK_STATUS(http_add_header(r, "X-Test", "a\r\nX-Injected: 1"), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "a response header value with a line break");
    CHECK_STATUS(http_add_header(r, "X-Test", "a\nX-Injected: 2"), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(http_add_header(r, "X-Test", "a\rX-Injected: 3"), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(http_add_header(r, "X-Injected: 4\r\nX-Test", "a"), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "a response header name that is not a token");
    CHECK_STATUS(http_add_header(r, "", "a"), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_OK(http_add_header(r, "X-Test", "ok; \tfine"));
    http_reply(r, 200, "text/plain", CCZ_LIT("headers"));
}

static void *run(void *arg)
{
    server *s = arg;
    s->run_status = http_server_run(s->srv);
    return NULL;
}

static const char *listen_on = "127.0.0.1:0"; /* test_ipv6_peers listens on [::1] */

static bool with_preface = true; /* server_start sets the PING preface */

static void server_start(server *s, http_server_opts *o)
{
    setup();
    o->tls = server_ctx;
    o->name = "test";
    CHECK_OK(http_server_new(&s->srv, o));
    CHECK_OK(http_route(s->srv, "POST", "/echo", false, echo, NULL));
    CHECK_OK(http_route(s->srv, "GET", "/items/", true, item, NULL));
    CHECK_OK(http_route(s->srv, "GET", "/headers", false, headers, NULL));
    CHECK_OK(http_route(s->srv, "POST", "/lift", false, lift, NULL));
    CHECK_STATUS(http_route(s->srv, "POST", "/echo", false, echo, NULL), CCZ_ERR_EXISTS);
    /* GET twice on one path: a prefix's and its own (405's Allow names GET once) */
    CHECK_OK(http_route(s->srv, "GET", "/items/dup", false, item, NULL));
    if (with_preface)
        CHECK_OK(http_server_set_preface(s->srv, CCZ_SPAN("PING\0", 5), "PING", pong, NULL));
    CHECK_OK(http_server_listen(s->srv, listen_on, &s->port));
    test_thread(&s->thread, run, s);
}

static void server_stop(server *s)
{
    http_server_shutdown(s->srv, 2000);
    pthread_join(s->thread, NULL);
    CHECK_OK(s->run_status);
    http_server_free(s->srv);
}

/* ---- a raw client ----------------------------------------------------------------------------*/

static int tcp_connect_from(int port, const char *from)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (from) {
        struct sockaddr_in src = {.sin_family = AF_INET};
        inet_pton(AF_INET, from, &src.sin_addr);
        bind(fd, (struct sockaddr *)&src, sizeof src);
    }
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

typedef struct {
    int fd;
    SSL *ssl;
    char left[16384]; /* bytes read past the last response (pipelining) */
    size_t n_left;
} client;

static bool client_open_from(client *c, int port, const char *from)
{
    c->fd = tcp_connect_from(port, from);
    c->ssl = NULL;
    c->n_left = 0;
    if (c->fd < 0)
        return false;
    c->ssl = SSL_new(client_ctx);
    SSL_set_fd(c->ssl, c->fd);
    if (SSL_connect(c->ssl) != 1) {
        SSL_free(c->ssl);
        close(c->fd);
        c->ssl = NULL;
        return false;
    }
    return true;
}

static bool client_open(client *c, int port)
{
    return client_open_from(c, port, NULL);
}

/* The same over IPv6, to [::1]. */
static bool client_open6(client *c, int port)
{
    c->ssl = NULL;
    c->n_left = 0;
    c->fd = socket(AF_INET6, SOCK_STREAM, 0);
    struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port)};
    inet_pton(AF_INET6, "::1", &a.sin6_addr);
    struct timeval tv = {5, 0};
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&a, sizeof a) != 0)
        return false;
    c->ssl = SSL_new(client_ctx);
    SSL_set_fd(c->ssl, c->fd);
    return SSL_connect(c->ssl) == 1;
}

static void client_close(client *c)
{
    if (c->ssl)
        SSL_free(c->ssl);
    if (c->fd >= 0)
        close(c->fd);
}

static void client_send(client *c, const char *text)
{
    CHECK_INT(SSL_write(c->ssl, text, (int)strlen(text)), (int)strlen(text));
}

/* Reads one response (head and Content-Length body) into buf; returns its status, 0 on EOF. */
static int client_read(client *c, char *buf, size_t cap)
{
    size_t n = c->n_left < cap - 1 ? c->n_left : cap - 1;
    memcpy(buf, c->left, n);
    buf[n] = 0;
    c->n_left = 0;
    for (;;) {
        char *end = strstr(buf, "\r\n\r\n");
        if (end) {
            const char *cl = strcasestr(buf, "content-length:");
            size_t body = cl ? strtoul(cl + 15, NULL, 10) : 0;
            size_t head = (size_t)(end + 4 - buf);
            if (strncmp(buf, "HTTP/1.1 100", 12) == 0) {
                memmove(buf, end + 4, n - head + 1);
                n -= head;
                continue;
            }
            if (n >= head + body) {
                c->n_left = n - head - body;
                memcpy(c->left, buf + head + body, c->n_left);
                buf[head + body] = 0;
                break;
            }
        }
        if (n + 1 >= cap)
            return -1;
        int k = SSL_read(c->ssl, buf + n, (int)(cap - n - 1));
        if (k <= 0)
            return n ? -1 : 0;
        n += (size_t)k;
        buf[n] = 0;
    }
    int status = 0;
    sscanf(buf, "HTTP/1.1 %d", &status);
    return status;
}

/* How many header lines of the response in buf start with name (case-insensitive). */
static int header_count(const char *buf, const char *name)
{
    int n = 0;
    const char *end = strstr(buf, "\r\n\r\n");
    for (const char *p = strstr(buf, "\r\n"); p && p < end; p = strstr(p + 2, "\r\n"))
        n += strncasecmp(p + 2, name, strlen(name)) == 0;
    return n;
}

/* Whether the server closed the connection (EOF) within a few seconds. */
static bool client_sees_eof(client *c)
{
    char b[4096];
    for (;;) {
        errno = 0;
        int k = SSL_read(c->ssl, b, sizeof b);
        if (k <= 0) /* close_notify, or a reset; not a timeout */
            return SSL_get_error(c->ssl, k) == SSL_ERROR_ZERO_RETURN ||
                   (errno != EAGAIN && errno != EWOULDBLOCK);
    }
}

/* Whether the server ended the TLS session with a close_notify (not a bare TCP close): a client
 * tells a whole answer from a cut by it. */
static bool client_sees_close_notify(client *c)
{
    char b[4096];
    for (;;) {
        int k = SSL_read(c->ssl, b, sizeof b);
        if (k <= 0)
            return SSL_get_error(c->ssl, k) == SSL_ERROR_ZERO_RETURN;
    }
}

/* Reads the server's interim 100 (Continue), which it sends as a body begins: from then on
 * the request is in progress as the server sees it. */
static bool client_read_continue(client *c)
{
    static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
    char b[sizeof cont];
    int n = 0;
    while (n < (int)sizeof cont - 1) {
        int k = SSL_read(c->ssl, b + n, (int)sizeof cont - 1 - n);
        if (k <= 0)
            return false;
        n += k;
    }
    return memcmp(b, cont, sizeof cont - 1) == 0;
}

/* Milliseconds from t0 to t1 (CLOCK_MONOTONIC readings). */
static long ms_between(const struct timespec *t0, const struct timespec *t1)
{
    return (long)(t1->tv_sec - t0->tv_sec) * 1000 + (t1->tv_nsec - t0->tv_nsec) / 1000000;
}

/* POSTs to /echo a JSON object of n bytes, blank inside; the answer's status, its text in buf. */
static int client_echo_blank(client *c, size_t n, char *buf, size_t cap)
{
    char *body = malloc(n + 1), head[160];
    CHECK(body != NULL && n >= 2);
    memset(body, ' ', n);
    body[0] = '{', body[n - 1] = '}', body[n] = 0;
    snprintf(head, sizeof head,
             "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
             "Content-Length: %zu\r\n\r\n",
             n);
    client_send(c, head);
    client_send(c, body);
    free(body);
    return client_read(c, buf, cap);
}

/* A connection with a request in progress: the head of a POST with Expect: 100-continue, the
 * server's 100 read; client_send(c, "{}") completes it. */
static bool client_open_busy(client *c, int port, const char *from)
{
    if (!client_open_from(c, port, from))
        return false;
    client_send(c, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                   "Content-Length: 2\r\nExpect: 100-continue\r\n\r\n");
    return client_read_continue(c);
}

static int request(int port, const char *text, char *buf, size_t cap)
{
    client c;
    if (!client_open(&c, port))
        return -1;
    client_send(&c, text);
    int st = client_read(&c, buf, cap);
    client_close(&c);
    return st;
}

#define GET(path) "GET " path " HTTP/1.1\r\nHost: t\r\n\r\n"

/* ---- tests -----------------------------------------------------------------------------------*/

static void test_routes_and_keepalive(void)
{
    server s;
    http_server_opts o = {0};
    server_start(&s, &o);
    client c;
    CHECK(client_open(&c, s.port));
    char buf[8192];
    client_send(&c, GET("/healthz"));
    CHECK_INT(client_read(&c, buf, sizeof buf), 200);
    CHECK_CONTAINS(buf, "{\"status\":\"ok\"}");
    CHECK_CONTAINS(buf, "Cache-Control: no-store");
    /* the same connection serves the next request, and two pipelined ones in order */
    client_send(&c, GET("/items/abc?q=a%20b+c&x=1") GET("/nope"));
    CHECK_INT(client_read(&c, buf, sizeof buf), 200);
    CHECK_CONTAINS(buf, "item=abc q=a b c");
    CHECK_INT(client_read(&c, buf, sizeof buf), 404);
    CHECK_CONTAINS(buf, "no such endpoint: /nope");
    /* an error says its status in the body too, and a JSON body ends its line */
    CHECK_CONTAINS(buf, "\"code\":404");
    CHECK(strlen(buf) > 2 && strcmp(buf + strlen(buf) - 2, "}\n") == 0);
    /* a query value that is no C string (a %00 in it) or has a bad escape is not there */
    client_send(&c,
                GET("/items/abc?q=Decrypt%00x") GET("/items/abc?q=a%4") GET("/items/abc?q=%41"));
    CHECK_INT(client_read(&c, buf, sizeof buf), 200);
    CHECK_CONTAINS(buf, "item=abc q=- m=GET");
    CHECK_INT(client_read(&c, buf, sizeof buf), 200);
    CHECK_CONTAINS(buf, "item=abc q=- m=GET");
    CHECK_INT(client_read(&c, buf, sizeof buf), 200);
    CHECK_CONTAINS(buf, "item=abc q=A m=GET");
    /* a parameter is found by its whole name: qq is not q */
    client_send(&c, GET("/items/abc?qq=1&q=2") GET("/items/abc?qq=1"));
    CHECK_INT(client_read(&c, buf, sizeof buf), 200);
    CHECK_CONTAINS(buf, "item=abc q=2 m=GET");
    CHECK_INT(client_read(&c, buf, sizeof buf), 200);
    CHECK_CONTAINS(buf, "item=abc q=- m=GET");
    client_send(&c, GET("/echo"));
    CHECK_INT(client_read(&c, buf, sizeof buf), 405);
    CHECK_CONTAINS(buf, "Allow: POST\r\n");
    client_send(&c, GET("/items/"));
    CHECK_INT(client_read(&c, buf, sizeof buf), 404);
    client_send(&c, "POST /items/x HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n");
    CHECK_INT(client_read(&c, buf, sizeof buf), 405);
    CHECK_CONTAINS(buf, "Allow: GET, HEAD\r\n");
    client_send(&c, "POST /items/dup HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n");
    CHECK_INT(client_read(&c, buf, sizeof buf), 405);
    CHECK_CONTAINS(buf, "Allow: GET, HEAD\r\n"); /* two GET routes hit: GET named once */
    /* a handler that answers twice: one answer goes out, and the next request's follows it */
    client_send(&c, GET("/items/twice") GET("/healthz"));
    CHECK_INT(client_read(&c, buf, sizeof buf), 200);
    CHECK_CONTAINS(buf, "\r\n\r\nfirst");
    CHECK_INT(client_read(&c, buf, sizeof buf), 200);
    CHECK_CONTAINS(buf, "{\"status\":\"ok\"}");
    /* HEAD: GET's head, its Content-Length included, and no body: the next answer follows the
     * blank line at once */
    client_send(&c, "HEAD /items/abc HTTP/1.1\r\nHost: t\r\n\r\n" GET("/healthz"));
    size_t got = 0;
    buf[0] = 0;
    while (!strstr(buf, "{\"status\":\"ok\"}") && got + 1 < sizeof buf) {
        int k = SSL_read(c.ssl, buf + got, (int)(sizeof buf - got - 1));
        CHECK(k > 0);
        if (k <= 0)
            break;
        got += (size_t)k;
        buf[got] = 0;
    }
    CHECK(strncmp(buf, "HTTP/1.1 200 OK\r\n", 17) == 0);
    CHECK_CONTAINS(buf, "Content-Length: 18\r\n"); /* of "item=abc q=- m=GET", not sent */
    char *blank = strstr(buf, "\r\n\r\n");
    CHECK(blank && strncmp(blank + 4, "HTTP/1.1 200 OK\r\n", 17) == 0);
    /* 204 (No Content): neither a Content-Length nor a body, not even one its handler gave (the
     * client reads none: it would take the bytes for the next answer) */
    client_send(&c, GET("/items/none") GET("/healthz"));
    got = 0;
    buf[0] = 0;
    while (!strstr(buf, "{\"status\":\"ok\"}") && got + 1 < sizeof buf) {
        int k = SSL_read(c.ssl, buf + got, (int)(sizeof buf - got - 1));
        CHECK(k > 0);
        if (k <= 0)
            break;
        got += (size_t)k;
        buf[got] = 0;
    }
    CHECK(strncmp(buf, "HTTP/1.1 204 No Content\r\n", 25) == 0);
    blank = strstr(buf, "\r\n\r\n");
    CHECK(blank && strncmp(blank + 4, "HTTP/1.1 200 OK\r\n", 17) == 0);
    CHECK(!blank || !memmem(buf, (size_t)(blank - buf), "Content-Length", 14));
    client_send(&c, "HEAD /echo HTTP/1.1\r\nHost: t\r\n\r\n");
    memset(buf, 0, sizeof buf);
    CHECK(SSL_read(c.ssl, buf, sizeof buf - 1) > 0);
    CHECK(strncmp(buf, "HTTP/1.1 405", 12) == 0);
    CHECK_CONTAINS(buf, "Allow: POST\r\n");
    CHECK(strstr(buf, "\r\n\r\n") && strstr(buf, "\r\n\r\n")[4] == 0); /* no body */
    const char *post = "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/json; "
                       "charset=utf-8\r\nContent-Length: 8\r\n\r\n{\"a\":1}\n";
    client_send(&c, post);
    CHECK_INT(client_read(&c, buf, sizeof buf), 200);
    CHECK_CONTAINS(buf, "{\"a\":1,\"seen\":true}");
    /* a media type is case-insensitive (RFC 9110 8.3.1) */
    client_send(&c, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: Application/JSON\r\n"
                    "Content-Length: 7\r\n\r\n{\"b\":2}");
    CHECK_INT(client_read(&c, buf, sizeof buf), 200);
    CHECK_CONTAINS(buf, "{\"b\":2,\"seen\":true}");
    client_send(&c, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: text/plain\r\n"
                    "Content-Length: 2\r\n\r\n{}");
    CHECK_INT(client_read(&c, buf, sizeof buf), 415);
    client_send(&c, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                    "Content-Length: 3\r\n\r\n{\"a");
    CHECK_INT(client_read(&c, buf, sizeof buf), 400);
    CHECK_CONTAINS(buf, "the body is not JSON");
    /* jansson's error text quotes the bytes it stopped at (here an unterminated string: a
     * password, a key): the answer names the reason, the line and the column, never the bytes */
    client_send(&c, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                    "Content-Length: 13\r\n\r\n{\"k\":\"s3cret!");
    CHECK_INT(client_read(&c, buf, sizeof buf), 400);
    CHECK_CONTAINS(buf, "the body is not JSON: premature end of input (line 1, column 13)");
    CHECK(strstr(buf, "s3cret") == NULL);
    /* an empty body is no JSON document (jansson's own words for it, not "wrong arguments") */
    client_send(&c, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                    "Content-Length: 0\r\n\r\n");
    CHECK_INT(client_read(&c, buf, sizeof buf), 400);
    CHECK_CONTAINS(buf, "the body is not JSON: '[' or '{' expected near end of file (line 1, "
                        "column 0)");
    client_send(&c, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                    "Content-Length: 2\r\n\r\n[]");
    CHECK_INT(client_read(&c, buf, sizeof buf), 400);
    CHECK_CONTAINS(buf, "must be a JSON object");
    /* Expect: 100-continue gets the interim answer first (client_read skips it) */
    client_send(&c, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                    "Content-Length: 2\r\nExpect: 100-continue\r\n\r\n");
    char interim[64] = {0};
    CHECK(SSL_read(c.ssl, interim, sizeof interim - 1) > 0);
    CHECK_CONTAINS(interim, "HTTP/1.1 100 Continue");
    client_send(&c, "{}");
    CHECK_INT(client_read(&c, buf, sizeof buf), 200);
    /* a chunked body (RFC 9112 7.1): sizes in either case, extensions ignored, trailer fields
     * dropped; sent in pieces, and followed by a pipelined request */
    client_send(&c, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                    "Transfer-Encoding: Chunked\r\n\r\n4;name=\"va;l\"\r\n{\"a");
    usleep(20 * 1000);
    client_send(&c, "\"\r\nA\r\n:[1,2,3]}\n\r\n00");
    usleep(20 * 1000);
    client_send(&c, "\r\nX-Checksum: 1\r\n\r\n" GET("/items/x"));
    CHECK_INT(client_read(&c, buf, sizeof buf), 200);
    CHECK_CONTAINS(buf, "{\"a\":[1,2,3],\"seen\":true}");
    CHECK_INT(client_read(&c, buf, sizeof buf), 200);
    CHECK_CONTAINS(buf, "item=x q=-");
    /* an empty chunked body is an empty body, and 100-continue comes first */
    client_send(&c, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                    "Transfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n");
    memset(interim, 0, sizeof interim);
    CHECK(SSL_read(c.ssl, interim, sizeof interim - 1) > 0);
    CHECK_CONTAINS(interim, "HTTP/1.1 100 Continue");
    client_send(&c, "0\r\n\r\n");
    CHECK_INT(client_read(&c, buf, sizeof buf), 400);
    CHECK_CONTAINS(buf, "the body is not JSON");
    /* a header a handler adds goes out; the ones it was refused do not */
    client_send(&c, GET("/headers"));
    CHECK_INT(client_read(&c, buf, sizeof buf), 200);
    CHECK_CONTAINS(buf, "\r\nX-Test: ok; \tfine\r\n");
    CHECK(strstr(buf, "X-Injected") == NULL);
    CHECK_INT(header_count(buf, "Retry-After:"), 0); /* only a "not now" says when */
    /* a 429 whose handler added another header: exactly one Retry-After, the server's */
    client_send(&c, GET("/items/busy-other"));
    CHECK_INT(client_read(&c, buf, sizeof buf), 429);
    CHECK_CONTAINS(buf, "\r\nX-Other: 30\r\n");
    CHECK_CONTAINS(buf, "\r\nRetry-After: 1\r\n");
    CHECK_INT(header_count(buf, "Retry-After:"), 1);
    /* a 503 whose handler said when: its Retry-After alone */
    client_send(&c, GET("/items/busy-own"));
    CHECK_INT(client_read(&c, buf, sizeof buf), 503);
    CHECK_CONTAINS(buf, "\r\nRetry-After: 30\r\n");
    CHECK_INT(header_count(buf, "Retry-After:"), 1);
    /* field names are case-insensitive: the handler's retry-after is a Retry-After */
    client_send(&c, GET("/items/busy-lower"));
    CHECK_INT(client_read(&c, buf, sizeof buf), 429);
    CHECK_CONTAINS(buf, "\r\nretry-after: 30\r\n");
    CHECK_INT(header_count(buf, "Retry-After:"), 1);
    /* and X-Retry-After is another field: the server's Retry-After is still added */
    client_send(&c, GET("/items/busy-prefixed"));
    CHECK_INT(client_read(&c, buf, sizeof buf), 503);
    CHECK_CONTAINS(buf, "\r\nX-Retry-After: 30\r\n");
    CHECK_CONTAINS(buf, "\r\nRetry-After: 1\r\n");
    CHECK_INT(header_count(buf, "Retry-After:"), 1);
    /* Expect: 100-continue on a request without a body: no interim answer, the final one only */
    client_send(&c, "GET /healthz HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n\r\n");
    memset(buf, 0, sizeof buf);
    CHECK(SSL_read(c.ssl, buf, sizeof buf - 1) > 0);
    CHECK(strncmp(buf, "HTTP/1.1 200 OK\r\n", 17) == 0);
    /* the chunks' reservations are all released */
    client_send(&c, GET("/metrics"));
    CHECK_INT(client_read(&c, buf, sizeof buf), 200);
    CHECK_CONTAINS(buf, "ccz_http_request_bytes_held{service=\"test\"} 0\n");
    /* Connection: close is honoured */
    client_send(&c, "GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    CHECK_INT(client_read(&c, buf, sizeof buf), 200);
    CHECK_CONTAINS(buf, "Connection: close");
    CHECK(client_sees_close_notify(&c)); /* a close_notify, not a bare close */
    client_close(&c);
    /* ... also when the answer's content type is too long to be sent */
    CHECK(client_open(&c, s.port));
    client_send(&c, "GET /items/long-type HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    CHECK_INT(client_read(&c, buf, sizeof buf), 200);
    CHECK_CONTAINS(buf, "\r\nConnection: close\r\n");
    CHECK_CONTAINS(buf, "\r\nContent-Length: 4\r\n");
    CHECK(strstr(buf, "xxxx") == NULL);
    CHECK(client_sees_eof(&c));
    client_close(&c);
    /* the head's buffer to the byte: a head of 511 bytes goes out whole; one of 512 (the
     * buffer's size, with no room for its NUL) has its content type left out, not its last byte
     * cut (77 bytes of head besides the type) */
    CHECK(client_open(&c, s.port));
    client_send(&c, GET("/items/type-434"));
    CHECK_INT(client_read(&c, buf, sizeof buf), 200);
    CHECK_CONTAINS(buf, "Content-Type: text/xxx");
    CHECK_CONTAINS(buf, "xxx\r\nContent-Length: 4\r\nCache-Control: no-store\r\n\r\ntype");
    client_send(&c, GET("/items/type-435"));
    CHECK_INT(client_read(&c, buf, sizeof buf), 200);
    CHECK(strstr(buf, "Content-Type") == NULL);
    CHECK_CONTAINS(buf, "\r\nContent-Length: 4\r\nCache-Control: no-store\r\n\r\ntype");
    client_close(&c);
    /* HTTP/1.0 closes unless asked */
    CHECK_INT(request(s.port, "GET /healthz HTTP/1.0\r\n\r\n", buf, sizeof buf), 200);
    CHECK_CONTAINS(buf, "Connection: close");
    /* ... and keeps it when asked, saying so (a 1.0 client assumes a close otherwise) */
    CHECK(client_open(&c, s.port));
    client_send(&c, "GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    CHECK_INT(client_read(&c, buf, sizeof buf), 200);
    CHECK_CONTAINS(buf, "\r\nConnection: keep-alive\r\n");
    client_send(&c, "GET /healthz HTTP/1.0\r\n\r\n");
    CHECK_INT(client_read(&c, buf, sizeof buf), 200);
    CHECK_CONTAINS(buf, "Connection: close");
    CHECK(client_sees_eof(&c));
    client_close(&c);
    /* HTTP/1.0 has no 100 (Continue) (RFC 9110 10.1.1): the final answer comes first */
    CHECK(client_open(&c, s.port));
    client_send(&c, "POST /echo HTTP/1.0\r\nContent-Type: application/json\r\n"
                    "Content-Length: 2\r\nExpect: 100-continue\r\n\r\n{}");
    memset(buf, 0, sizeof buf);
    CHECK(SSL_read(c.ssl, buf, sizeof buf - 1) > 0);
    CHECK(strncmp(buf, "HTTP/1.1 200 OK\r\n", 17) == 0);
    client_close(&c);
    /* a long plain string is lifted out of the body; one with a byte that is not UTF-8 is no
     * JSON, lifted or not (jansson's own check), and one of UTF-8 characters is jansson's */
    static const struct {
        const char *fill;
        int status;
        const char *said;
    } lifts[] = {
        {"a", 200, "lifted 300, left 0"},
        {"\xff", 400, "the body is not JSON: unable to decode byte 0xff"},
        {"\xc3", 400, "the body is not JSON: unable to decode byte 0xc3"},
        {"\xc3\xa9", 200, "lifted 0, left 600"},
    };
    for (size_t i = 0; i < CCZ_ARRAY_LEN(lifts); i++) {
        char value[700] = "", req[1024];
        for (int k = 0; k < 300; k++)
            strcat(value, lifts[i].fill);
        if (i == 1) /* one odd byte, at the start (in the eight-byte steps) */
            memset(value + 1, 'a', 299);
        if (i == 2) /* ... at the end (after them) */
            memset(value, 'a', 299);
        snprintf(req, sizeof req,
                 "POST /lift HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                 "Content-Length: %zu\r\n\r\n{\"v\":\"%s\"}",
                 strlen(value) + 8, value);
        CHECK_INT(request(s.port, req, buf, sizeof buf), lifts[i].status);
        CHECK_CONTAINS(buf, lifts[i].said);
    }
    /* a handler that returns without answering: the client hears 500, not silence */
    CHECK_INT(request(s.port, GET("/items/mute"), buf, sizeof buf), 500);
    CHECK_CONTAINS(buf, "the handler did not answer");
    /* an error message cut to its buffer is cut between characters, not in one (a JSON string
     * must be UTF-8): the client hears the handler's status and message, not 500 */
    CHECK_INT(request(s.port, GET("/items/long-error"), buf, sizeof buf), 422);
    CHECK_CONTAINS(buf, "\"message\":\"no: \xc3\xa9\xc3\xa9");
    CHECK_CONTAINS(buf, "\xc3\xa9\"}}");
    /* a character that ends exactly at the buffer's end is kept: 253 of them */
    CHECK_INT(request(s.port, GET("/items/edge-whole"), buf, sizeof buf), 422);
    {
        int n_chars = 0;
        for (const char *q = strstr(buf, "\"message\":\"no:  "); q && (q = strstr(q, "\xc3\xa9"));
             q += 2)
            n_chars++;
        CHECK_INT(n_chars, 253);
    }
    /* the same at the edge: 512 bytes, the last character cut whole */
    CHECK_INT(request(s.port, GET("/items/edge-error"), buf, sizeof buf), 422);
    CHECK_CONTAINS(buf, "\"message\":\"no: \xc3\xa9\xc3\xa9");
    CHECK_CONTAINS(buf, "\xc3\xa9\"}}");
    /* the default limits: a head of 16 KiB (one of 15 KiB is taken, one of 17 KiB is not) and a
     * body of 1 MiB (taken whole) */
    {
        static char req[20 * 1024];
        snprintf(req, sizeof req, "GET /healthz HTTP/1.1\r\nHost: t\r\nX-Big: %015000d\r\n\r\n", 1);
        CHECK_INT(request(s.port, req, buf, sizeof buf), 200);
        snprintf(req, sizeof req, "GET /healthz HTTP/1.1\r\nHost: t\r\nX-Big: %017000d\r\n\r\n", 1);
        CHECK_INT(request(s.port, req, buf, sizeof buf), 431);
        CHECK(client_open(&c, s.port));
        CHECK_INT(client_echo_blank(&c, 1024 * 1024, buf, sizeof buf), 200);
        CHECK_CONTAINS(buf, "{\"seen\":true}");
        client_close(&c);
    }
    server_stop(&s);
}

/* A server without a preface: /metrics counts the routes and the requests that matched none,
 * and no preface that is not there. */
static void test_metrics_without_preface(void)
{
    server s;
    http_server_opts o = {0};
    with_preface = false;
    server_start(&s, &o);
    with_preface = true;
    char buf[8192];
    CHECK_INT(request(s.port, GET("/healthz"), buf, sizeof buf), 200);
    CHECK_INT(request(s.port, GET("/metrics"), buf, sizeof buf), 200);
    CHECK_CONTAINS(buf, "ccz_http_request_seconds_sum{service=\"test\",method=\"GET\","
                        "route=\"/healthz\"} ");
    CHECK(strstr(buf, "(null)") == NULL);
    CHECK(strstr(buf, "method=\"PING\"") == NULL);
    server_stop(&s);
}

/* A drain with no connection open ends at once, not when its grace (2 s) runs out. */
static void test_empty_drain(void)
{
    server s;
    http_server_opts o = {0};
    server_start(&s, &o);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    server_stop(&s);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    CHECK(ms_between(&t0, &t1) < 1000);
}

/* /metrics counts each route's answers by status in a fixed number of slots: the statuses past
 * the last slot's are counted in it, none is lost. */
static void test_metrics_codes_overflow(void)
{
    server s;
    http_server_opts o = {0};
    server_start(&s, &o);
    client c;
    CHECK(client_open(&c, s.port));
    char buf[16384], req[128];
    for (int code = 230; code < 256; code++) { /* 26 statuses, 24 slots */
        snprintf(req, sizeof req, "GET /items/code-%d HTTP/1.1\r\nHost: t\r\n\r\n", code);
        client_send(&c, req);
        CHECK_INT(client_read(&c, buf, sizeof buf), code);
    }
    client_send(&c, GET("/metrics"));
    CHECK_INT(client_read(&c, buf, sizeof buf), 200);
    CHECK_CONTAINS(buf, "route=\"/items/\",code=\"252\"} 1\n");
    CHECK_CONTAINS(buf, "route=\"/items/\",code=\"253\"} 3\n"); /* its own, 254's and 255's */
    CHECK(strstr(buf, "code=\"254\"") == NULL);
    CHECK_CONTAINS(buf, "ccz_http_connections_accepted_total{service=\"test\"} 1\n");
    /* a connection gone in the middle of a body gives back the bytes reserved for it */
    client d;
    CHECK(client_open_busy(&d, s.port, NULL)); /* 2 bytes reserved */
    client_send(&c, GET("/metrics"));
    CHECK_INT(client_read(&c, buf, sizeof buf), 200);
    CHECK_CONTAINS(buf, "ccz_http_request_bytes_held{service=\"test\"} 2\n");
    client_close(&d);
    bool released = false;
    for (int i = 0; i < 100 && !released; i++) {
        usleep(20000);
        client_send(&c, GET("/metrics"));
        CHECK_INT(client_read(&c, buf, sizeof buf), 200);
        released = strstr(buf, "ccz_http_request_bytes_held{service=\"test\"} 0\n") != NULL;
    }
    CHECK(released);
    client_close(&c);
    server_stop(&s);
}

/* string_errors: an error is {"error": message} (TensorFlow Serving's form), a handler's and a
 * refusal's alike. */
static void test_string_errors(void)
{
    server s;
    http_server_opts o = {.string_errors = true};
    server_start(&s, &o);
    char buf[4096];
    CHECK_INT(request(s.port, GET("/nope"), buf, sizeof buf), 404);
    CHECK_CONTAINS(buf, "\r\n\r\n{\"error\":\"no such endpoint: /nope\"}");
    CHECK_INT(request(s.port, "GET /healthz HTTP/1.1\r\n\r\n", buf, sizeof buf), 400);
    CHECK_CONTAINS(buf, "\r\n\r\n{\"error\":\"");
    CHECK(strstr(buf, "\"code\"") == NULL);
    server_stop(&s);
}

static void test_preface(void)
{
    server s;
    http_server_opts o = {0};
    server_start(&s, &o);
    client c;
    char b[16] = {0};
    /* whole, and in two pieces */
    for (int split = 0; split < 2; split++) {
        CHECK(client_open(&c, s.port));
        if (split) {
            CHECK_INT(SSL_write(c.ssl, "PI", 2), 2);
            usleep(50 * 1000);
            CHECK_INT(SSL_write(c.ssl, "NG\0", 3), 3);
        } else {
            CHECK_INT(SSL_write(c.ssl, "PING\0", 5), 5);
        }
        CHECK_INT(SSL_read(c.ssl, b, sizeof b - 1), 4);
        CHECK_STR(b, "PONG");
        CHECK(client_sees_eof(&c));
        client_close(&c);
    }
    /* a preface handler that does not answer: the server answers 500 (nothing on the wire),
     * closes, and counts it */
    char buf[8192];
    atomic_store(&pong_mute, true);
    CHECK(client_open(&c, s.port));
    CHECK_INT(SSL_write(c.ssl, "PING\0", 5), 5);
    CHECK(client_sees_eof(&c));
    client_close(&c);
    atomic_store(&pong_mute, false);
    CHECK_INT(request(s.port, GET("/metrics"), buf, sizeof buf), 200);
    CHECK_CONTAINS(buf, "ccz_http_requests_total{service=\"test\",method=\"PING\",route=\"-\","
                        "code=\"500\"} 1\n");
    /* not the preface: HTTP decides */
    CHECK_INT(request(s.port, "PINX / HTTP/1.1\r\nHost: t\r\n\r\n", buf, sizeof buf), 501);
    /* after an HTTP request the preface is just a bad request line */
    CHECK(client_open(&c, s.port));
    client_send(&c, GET("/healthz"));
    CHECK_INT(client_read(&c, buf, sizeof buf), 200);
    CHECK_INT(SSL_write(c.ssl, "PING\0\r\n\r\n", 9), 9);
    CHECK_INT(client_read(&c, buf, sizeof buf), 400);
    client_close(&c);
    server_stop(&s);
}

static void test_refusals(void)
{
    server s;
    http_server_opts o = {.max_head = 2048, .max_body = 1000};
    server_start(&s, &o);
    char big[4096], buf[8192], chunks[2048];
    struct {
        const char *req;
        int status;
        const char *why;
    } cases[] = {
        {"GET /healthz HTTP/1.1\nHost: t\n\n", 400, "not ended by CRLF"},
        {"GET /healthz HTTP/1.1\r\nHost: t\r\n folded\r\n\r\n", 400, "line folding"},
        {"GET /healthz HTTP/1.1\r\nHost : t\r\n\r\n", 400, "malformed header"},
        {"GET /healthz HTTP/1.1\r\nX: a\x01\r\nHost: t\r\n\r\n", 400, "control byte"},
        {"GET /healthz HTTP/1.1\r\nX: a\x7f\r\nHost: t\r\n\r\n", 400, "control byte"},
        {"GET /healthz HTTP/1.1\r\n\r\n", 400, "no Host"},
        {"GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, "several Host"},
        /* RFC 9112 3.2: a Host that is not host[:port] is refused */
        {"GET /healthz HTTP/1.1\r\nHost: a b\r\n\r\n", 400, "a Host that is not host[:port]"},
        {"GET /healthz HTTP/1.1\r\nHost: t/x\r\n\r\n", 400, "a Host that is not host[:port]"},
        {"GET /healthz HTTP/1.1\r\nHost: u@t\r\n\r\n", 400, "a Host that is not host[:port]"},
        {"GET /healthz HTTP/1.0\r\nHost: t\xc3\xa9\r\n\r\n", 400, "a Host that is not host[:port]"},
        /* RFC 9112 3.2: more than one Host is refused in any request, HTTP/1.0's too */
        {"GET /healthz HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", 400, "several Host"},
        {"GET /healthz HTTP/1.1\r\nHost: t\r\n\tfolded\r\n\r\n", 400, "line folding"},
        {"GET /healthz HTTP/1.1\r\nHost: t\r\nX: a\rb\r\n\r\n", 400, "not ended by CRLF"},
        {"GET /healthz HTTP/1.1\r\nHost: t\r\nX\x01Y: b\r\n\r\n", 400, "malformed header"},
        /* methods are case-sensitive (RFC 9110 9.1): "get" is not GET */
        {"get /healthz HTTP/1.1\r\nHost: t\r\n\r\n", 501, "unknown method"},
        {"ABCDEFGHIJKLMNOPQ /healthz HTTP/1.1\r\nHost: t\r\n\r\n", 400, "a malformed request line"},
        /* absolute form (a proxy's) and asterisk form: not for this server */
        {"GET http://t/healthz HTTP/1.1\r\nHost: t\r\n\r\n", 400, "not a path"},
        {"OPTIONS * HTTP/1.1\r\nHost: t\r\n\r\n", 400, "not a path"},
        {"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n", 400,
         "conflicting Content-Length"},
        {"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: -1\r\n\r\n", 400,
         "malformed Content-Length"},
        /* 2^64 + 1: a length that would wrap to 1 in 64 bits, and frame "{" as the body */
        {"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
         "Content-Length: 18446744073709551617\r\n\r\n{}",
         400, "malformed Content-Length"},
        {"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501,
         "other than chunked"},
        {"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n"
         "Transfer-Encoding: chunked\r\n\r\n",
         501, "other than chunked"},
        {"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n"
         "\r\n5\r\nhello\r\n0\r\n\r\n",
         400, "both Transfer-Encoding and Content-Length"},
        {"POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, "in HTTP/1.0"},
        {"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nz\r\n", 400,
         "without a hexadecimal size"},
        {"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
         "2\r\n{}}\r\n0\r\n\r\n",
         400, "longer than its size"},
        {"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n2\n{}\r\n", 400,
         "not ended by CRLF"},
        {"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
         "11111111111111111\r\n",
         413, "16 hex digits"},
        {"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3E9\r\n", 413,
         "1000 bytes"},
        {chunks, 413, "1000 bytes"},
        {"POST /echo HTTP/1.1\r\nHost: t\r\nExpect: magic\r\n\r\n", 417, "expectation"},
        {"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Encoding: gzip\r\nContent-Length: 3\r\n\r\nabc",
         415, "send the body uncompressed"},
        {"GET /healthz HTTP/2.0\r\nHost: t\r\n\r\n", 505, "HTTP/1.0 or HTTP/1.1"},
        {"GET /healthz HTTP/1.10\r\nHost: t\r\n\r\n", 400, "a malformed HTTP version"},
        {"GET /healthz HTTP/0.9\r\nHost: t\r\n\r\n", 505, "HTTP/1.0 or HTTP/1.1"},
        {"GET /healthz HTTP/3.1\r\nHost: t\r\n\r\n", 505, "HTTP/1.0 or HTTP/1.1"},
        /* a space in the target: RFC 9112 3 has it a bad request, not a version */
        {"GET /a b HTTP/1.1\r\nHost: t\r\n\r\n", 400, "a malformed HTTP version"},
        {"GET /healthz http/1.1\r\nHost: t\r\n\r\n", 400, "a malformed HTTP version"},
        {"GET /healthz HTTP/1x1\r\nHost: t\r\n\r\n", 400, "a malformed HTTP version"},
        {"GET /healthz HTTP/x.1\r\nHost: t\r\n\r\n", 400, "a malformed HTTP version"},
        {"GET /healthz HTTP/1.1 \r\nHost: t\r\n\r\n", 400, "a malformed HTTP version"},
        /* one SP between the parts of the request line, none before it, no tab for one */
        {" /healthz HTTP/1.1\r\nHost: t\r\n\r\n", 400, "a malformed request line"},
        {"GET\t/healthz HTTP/1.1\r\nHost: t\r\n\r\n", 400, "a malformed request line"},
        {"GET  /healthz HTTP/1.1\r\nHost: t\r\n\r\n", 400, "a malformed request target"},
        {"GET /healthz HTTP/1.1\r\nHost: t\r\n: x\r\n\r\n", 400, "a malformed header line"},
        {"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: \r\n\r\n", 400,
         "malformed Content-Length"},
        /* "99z" is not 990 + 'z' - '0' (1064, over the limit) */
        {"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 99z\r\n\r\n", 400,
         "malformed Content-Length"},
        /* 18 digits are read (and this length is over the limit), 19 are not */
        {"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100000000000000000\r\n\r\n", 413,
         "1000 bytes"},
        {"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1000000000000000000\r\n\r\n", 400,
         "malformed Content-Length"},
        {"GET /healthz HTTP/1.2\r\nHost: t\r\n\r\n", 505, "HTTP/1.0 or HTTP/1.1"},
        {"BREW /healthz HTTP/1.1\r\nHost: t\r\n\r\n", 501, "unknown method"},
        {"GET healthz HTTP/1.1\r\nHost: t\r\n\r\n", 400, "not a path"},
        {"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1001\r\n\r\n", 413, "1000 bytes"},
        {big, 431, "exceeds its limit"},
    };
    snprintf(big, sizeof big, "GET /healthz HTTP/1.1\r\nHost: t\r\nX-Big: %03000d\r\n\r\n", 1);
    /* a chunked body over the limit in many small chunks: refused at the chunk that crosses it */
    size_t k = (size_t)snprintf(chunks, sizeof chunks,
                                "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n"
                                "Content-Type: application/json\r\n\r\n");
    for (int i = 0; i < 11; i++)
        k += (size_t)snprintf(chunks + k, sizeof chunks - k, "64\r\n%0100d\r\n", i);
    for (size_t i = 0; i < CCZ_ARRAY_LEN(cases); i++) {
        client c;
        CHECK(client_open(&c, s.port));
        client_send(&c, cases[i].req);
        int st = client_read(&c, buf, sizeof buf);
        if (st != cases[i].status)
            fprintf(stderr, "case %zu: %d\n%s\n", i, st, buf);
        CHECK_INT(st, cases[i].status);
        CHECK_CONTAINS(buf, cases[i].why);
        CHECK_CONTAINS(buf, "Connection: close");
        CHECK(client_sees_eof(&c)); /* the stream is not trusted after a refusal */
        client_close(&c);
    }
    /* a body of max_body bytes exactly is taken */
    {
        char req[1200];
        int at = snprintf(req, sizeof req,
                          "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                          "Content-Length: 1000\r\n\r\n{");
        memset(req + at, ' ', 998);
        memcpy(req + at + 998, "}", 2);
        CHECK_INT(request(s.port, req, buf, sizeof buf), 200);
        CHECK_CONTAINS(buf, "{\"seen\":true}");
    }
    /* a head that reaches its limit in a piece without a line end is refused all the same */
    {
        client e;
        CHECK(client_open(&e, s.port));
        client_send(&e, "GET /healthz HTTP/1.1\r\nHost: t\r\nX-Big: ");
        usleep(20 * 1000); /* the server has looked at the head so far */
        memset(big, 'a', 3000);
        big[3000] = 0;
        client_send(&e, big);
        CHECK_INT(client_read(&e, buf, sizeof buf), 431);
        CHECK_CONTAINS(buf, "exceeds its limit");
        client_close(&e);
    }
    /* a bare CR that ends one piece of a head, and the byte after it in the next */
    {
        client e;
        CHECK(client_open(&e, s.port));
        client_send(&e, "GET /healthz HTTP/1.1\r");
        usleep(20 * 1000);          /* the server has looked at the head so far */
        client_send(&e, "Host: t"); /* no line end of its own */
        CHECK_INT(client_read(&e, buf, sizeof buf), 400);
        CHECK_CONTAINS(buf, "not ended by CRLF");
        client_close(&e);
    }
    /* a body too large is refused before the client is told to send it: 413, never a 100 first */
    {
        client e;
        CHECK(client_open(&e, s.port));
        client_send(&e, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1001\r\n"
                        "Expect: 100-continue\r\n\r\n");
        memset(buf, 0, sizeof buf);
        CHECK(SSL_read(e.ssl, buf, sizeof buf - 1) > 0);
        CHECK(strncmp(buf, "HTTP/1.1 413 ", 13) == 0);
        /* the server's side is shut at once after the answer (close_notify, then a FIN): it
         * reads on, for the body the client may still send, but the client sees the end now,
         * not when the linger's 2 s run out */
        CHECK(client_sees_close_notify(&e));
        struct timeval quick = {1, 0};
        setsockopt(e.fd, SOL_SOCKET, SO_RCVTIMEO, &quick, sizeof quick);
        char b;
        CHECK_INT((int)recv(e.fd, &b, 1, 0), 0);
        client_close(&e);
    }
    /* a client that goes on sending the refused body: read and dropped after the answer, up
     * to 1 MiB, then the connection is closed (not for the 2 s a slow client gets) */
    client c;
    CHECK(client_open(&c, s.port));
    struct timeval tv = {5, 0};
    setsockopt(c.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    client_send(&c, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1000000000\r\n\r\n");
    CHECK_INT(client_read(&c, buf, sizeof buf), 413);
    static char junk[65536];
    size_t sent = 0;
    while (sent < (64u << 20) && SSL_write(c.ssl, junk, sizeof junk) > 0)
        sent += sizeof junk;
    printf("a refused body: the server closed after %.1f MiB sent\n", (double)sent / (1 << 20));
    CHECK(sent < (64u << 20));
    client_close(&c);
    /* and the server is still there */
    CHECK_INT(request(s.port, GET("/healthz"), buf, sizeof buf), 200);
    server_stop(&s);
}

static void test_deadlines(void)
{
    server s;
    http_server_opts o = {.request_ms = 400, .idle_ms = 600, .handshake_ms = 400};
    server_start(&s, &o);
    char buf[4096];
    /* a body that never arrives whole: 408 and closed */
    client c;
    CHECK(client_open(&c, s.port));
    client_send(&c, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                    "Content-Length: 10\r\n\r\n{\"a\"");
    CHECK_INT(client_read(&c, buf, sizeof buf), 408);
    CHECK(client_sees_eof(&c));
    client_close(&c);
    /* a head sent a byte at a time, slower than the deadline: 408 */
    CHECK(client_open(&c, s.port));
    client_send(&c, "GET /hea");
    CHECK_INT(client_read(&c, buf, sizeof buf), 408);
    client_close(&c);
    /* a whole head dribbled a byte at a time, each byte well within the deadline (slowloris):
     * the deadline runs from the request's first byte, not from its latest, so 408 all the same */
    CHECK(client_open(&c, s.port));
    const char *slow = GET("/healthz");
    for (size_t i = 0; slow[i]; i++) {
        (void)SSL_write(c.ssl, slow + i, 1); /* refused part way: the server drops the rest */
        usleep(30 * 1000);
    }
    CHECK_INT(client_read(&c, buf, sizeof buf), 408);
    CHECK_CONTAINS(buf, "the request did not arrive whole within 400 ms");
    client_close(&c);
    /* an idle keep-alive connection is closed after idle_ms */
    CHECK(client_open(&c, s.port));
    client_send(&c, GET("/healthz"));
    CHECK_INT(client_read(&c, buf, sizeof buf), 200);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK(client_sees_eof(&c));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ms = ms_between(&t0, &t1);
    CHECK(ms >= 400 && ms < 3000);
    client_close(&c);
    /* a deferred request not answered within request_ms: 503, the service told it is gone,
     * and the connection takes the next request */
    gone = 0;
    CHECK(client_open(&c, s.port));
    client_send(&c, GET("/items/later") GET("/items/x")); /* the next one pipelined behind */
    CHECK_INT(client_read(&c, buf, sizeof buf), 503);
    CHECK_CONTAINS(buf, "no answer within 400 ms");
    CHECK_CONTAINS(buf, "\r\nRetry-After: 1\r\n"); /* a "not now" says when to come back */
    CHECK_INT(gone, 1);
    CHECK_INT(client_read(&c, buf, sizeof buf), 200); /* served once the first is answered */
    CHECK_CONTAINS(buf, "item=x");
    client_send(&c, GET("/items/y"));
    CHECK_INT(client_read(&c, buf, sizeof buf), 200);
    CHECK_CONTAINS(buf, "item=y");
    /* and a client that leaves while its answer is awaited: the service is told too */
    client_send(&c, GET("/items/later"));
    client_close(&c);
    for (int i = 0; i < 300 && gone < 2; i++)
        usleep(10000);
    CHECK_INT(gone, 2);
    /* a TCP connection without a handshake is closed after handshake_ms */
    int fd = tcp_connect_from(s.port, NULL);
    char b;
    CHECK_INT(recv(fd, &b, 1, 0), 0);
    close(fd);
    server_stop(&s);
    /* the handshake's deadline is its own, not the idle one */
    http_server_opts h = {.request_ms = 8000, .idle_ms = 8000, .handshake_ms = 300};
    server_start(&s, &h);
    fd = tcp_connect_from(s.port, NULL);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK_INT(recv(fd, &b, 1, 0), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ms = ms_between(&t0, &t1);
    CHECK(ms >= 250 && ms < 4000);
    close(fd);
    server_stop(&s);
    /* a client that finishes its handshake and then sends nothing is closed at idle_ms, not at
     * the handshake's or a request's (later) deadline, while another client is served */
    http_server_opts idle = {.request_ms = 8000, .idle_ms = 300, .handshake_ms = 8000};
    server_start(&s, &idle);
    CHECK(client_open(&c, s.port));
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK_INT(request(s.port, GET("/healthz"), buf, sizeof buf), 200);
    CHECK(client_sees_eof(&c));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ms = ms_between(&t0, &t1);
    CHECK(ms >= 200 && ms < 3000);
    client_close(&c);
    /* ... and so is one that goes quiet after an answer: between requests the idle deadline
     * runs, not a request's */
    CHECK(client_open(&c, s.port));
    client_send(&c, GET("/healthz"));
    CHECK_INT(client_read(&c, buf, sizeof buf), 200);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK(client_sees_eof(&c));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ms = ms_between(&t0, &t1);
    CHECK(ms >= 200 && ms < 3000);
    client_close(&c);
    server_stop(&s);
    /* a deferred answer waits request_ms, not idle_ms: 503 long before the idle deadline */
    http_server_opts wait = {.request_ms = 300, .idle_ms = 8000, .handshake_ms = 8000};
    server_start(&s, &wait);
    CHECK(client_open(&c, s.port));
    clock_gettime(CLOCK_MONOTONIC, &t0);
    client_send(&c, GET("/items/later"));
    CHECK_INT(client_read(&c, buf, sizeof buf), 503);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ms = ms_between(&t0, &t1);
    CHECK(ms >= 200 && ms < 3000);
    CHECK_CONTAINS(buf, "no answer within 300 ms");
    /* the time it waited is counted in its route's seconds */
    client_send(&c, GET("/metrics"));
    CHECK_INT(client_read(&c, buf, sizeof buf), 200);
    static const char sum[] =
        "ccz_http_request_seconds_sum{service=\"test\",method=\"GET\",route=\"/items/\"} ";
    const char *at = strstr(buf, sum);
    CHECK(at && strtod(at + strlen(sum), NULL) >= 0.2);
    client_close(&c);
    server_stop(&s);
}

/* At a cap the connection idle the longest makes room: idle since its last answer, not since it
 * connected. */
static void test_shed_longest_idle(void)
{
    server s;
    http_server_opts o = {.max_per_peer = 2, .max_connections = 8};
    server_start(&s, &o);
    char buf[4096];
    client a, b;
    CHECK(client_open(&a, s.port));
    client_send(&a, GET("/healthz"));
    CHECK_INT(client_read(&a, buf, sizeof buf), 200);
    usleep(30000);
    CHECK(client_open(&b, s.port));
    client_send(&b, GET("/healthz"));
    CHECK_INT(client_read(&b, buf, sizeof buf), 200);
    usleep(30000);
    client_send(&a, GET("/healthz")); /* a, connected first, answered last */
    CHECK_INT(client_read(&a, buf, sizeof buf), 200);
    usleep(30000);
    CHECK_INT(request(s.port, GET("/healthz"), buf, sizeof buf), 200);
    CHECK(client_sees_eof(&b)); /* b made room */
    client_send(&a, GET("/healthz"));
    CHECK_INT(client_read(&a, buf, sizeof buf), 200);
    client_close(&a);
    client_close(&b);
    server_stop(&s);
}

/* The default cap per peer is 64 connections: 64 from one address are all kept. */
static void test_default_per_peer(void)
{
    server s;
    http_server_opts o = {0};
    server_start(&s, &o);
    static client cs[64];
    char buf[4096];
    for (int i = 0; i < 64; i++) {
        CHECK(client_open(&cs[i], s.port));
        client_send(&cs[i], GET("/healthz"));
        CHECK_INT(client_read(&cs[i], buf, sizeof buf), 200);
    }
    client_send(&cs[0], GET("/healthz")); /* the longest idle, not closed to make room */
    CHECK_INT(client_read(&cs[0], buf, sizeof buf), 200);
    for (int i = 0; i < 64; i++)
        client_close(&cs[i]);
    server_stop(&s);
}

static void test_caps(void)
{
    server s;
    http_server_opts o = {.max_per_peer = 4, .max_connections = 8, .request_ms = 20000};
    server_start(&s, &o);
    char buf[4096];
    /* four idle connections from 127.0.0.1: a fifth is served, one idle connection made room */
    client idle[4];
    for (int i = 0; i < 4; i++) {
        CHECK(client_open(&idle[i], s.port));
        client_send(&idle[i], GET("/healthz"));
        CHECK_INT(client_read(&idle[i], buf, sizeof buf), 200);
    }
    CHECK_INT(request(s.port, GET("/healthz"), buf, sizeof buf), 200);
    int closed = 0;
    for (int i = 0; i < 4; i++) {
        struct pollfd p = {idle[i].fd, POLLIN, 0};
        if (poll(&p, 1, 300) == 1 && client_sees_eof(&idle[i]))
            closed++;
        client_close(&idle[i]);
    }
    CHECK(closed >= 1);
    /* four connections from 127.0.0.1 in the middle of a request: a fifth is refused, as
     * nothing of that peer may be cut; a client from 127.0.0.2 is served all the same */
    client busy[4];
    for (int i = 0; i < 4; i++)
        CHECK(client_open_busy(&busy[i], s.port, NULL));
    client c;
    bool served = client_open(&c, s.port);
    if (served) {
        client_send(&c, GET("/healthz"));
        served = client_read(&c, buf, sizeof buf) == 200;
        client_close(&c);
    }
    CHECK(!served);
    CHECK(client_open_from(&c, s.port, "127.0.0.2"));
    client_send(&c, GET("/metrics"));
    CHECK_INT(client_read(&c, buf, sizeof buf), 200);
    CHECK_CONTAINS(buf, "ccz_http_connections_refused_total{service=\"test\"} 1\n");
    CHECK_CONTAINS(buf,
                   "ccz_http_requests_total{service=\"test\",method=\"GET\",route=\"/healthz\","
                   "code=\"200\"} 5\n");
    client_close(&c);
    /* the busy ones finish their requests */
    for (int i = 0; i < 4; i++) {
        client_send(&busy[i], "{}");
        CHECK_INT(client_read(&busy[i], buf, sizeof buf), 200);
        CHECK_CONTAINS(buf, "\"seen\":true");
        client_close(&busy[i]);
    }
    server_stop(&s);

    /* the server's own cap: four peers in the middle of a request fill it, a fifth peer is
     * refused, and served once one of them is done */
    http_server_opts all = {.max_per_peer = 100, .max_connections = 4, .request_ms = 20000};
    server_start(&s, &all);
    char from[16];
    for (int i = 0; i < 4; i++) {
        snprintf(from, sizeof from, "127.0.0.%d", 10 + i);
        CHECK(client_open_busy(&busy[i], s.port, from));
    }
    served = client_open_from(&c, s.port, "127.0.0.20");
    if (served) {
        client_send(&c, GET("/healthz"));
        served = client_read(&c, buf, sizeof buf) == 200;
        client_close(&c);
    }
    CHECK(!served);
    /* one finishes its request (the server answers, then waits idle for the next): room */
    client_send(&busy[0], "{}");
    CHECK_INT(client_read(&busy[0], buf, sizeof buf), 200);
    CHECK(client_open_from(&c, s.port, "127.0.0.20"));
    client_send(&c, GET("/metrics"));
    CHECK_INT(client_read(&c, buf, sizeof buf), 200);
    CHECK_CONTAINS(buf, "ccz_http_connections_refused_total{service=\"test\"} 1\n");
    CHECK_CONTAINS(buf, "ccz_http_connections_shed_total{service=\"test\"} 1\n");
    client_close(&c);
    CHECK(client_sees_eof(&busy[0])); /* the idle one made the room */
    client_close(&busy[0]);
    for (int i = 1; i < 4; i++) {
        client_send(&busy[i], "{}");
        CHECK_INT(client_read(&busy[i], buf, sizeof buf), 200);
        client_close(&busy[i]);
    }
    server_stop(&s);

    /* the bytes held for request bodies, across connections: a body that would take the total
     * past max_held is refused (503) before it is read, while the first one is served */
    http_server_opts held = {.max_held = 1000, .max_body = 900, .request_ms = 20000};
    server_start(&s, &held);
    client a, b;
    CHECK(client_open(&a, s.port));
    client_send(&a, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                    "Content-Length: 600\r\nExpect: 100-continue\r\n\r\n");
    CHECK(client_read_continue(&a));
    CHECK(client_open(&b, s.port));
    client_send(&b, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                    "Content-Length: 600\r\n\r\n{");
    CHECK_INT(client_read(&b, buf, sizeof buf), 503);
    CHECK_CONTAINS(buf, "the server holds as many request bytes as it may");
    CHECK_CONTAINS(buf, "\r\nRetry-After: 1\r\n");
    client_close(&b);
    /* what is left (400 bytes) is taken whole */
    CHECK(client_open(&b, s.port));
    CHECK_INT(client_echo_blank(&b, 400, buf, sizeof buf), 200);
    CHECK_CONTAINS(buf, "{\"seen\":true}");
    client_close(&b);
    char body[600];
    memset(body, ' ', sizeof body - 1);
    body[0] = '{';
    body[sizeof body - 2] = '}';
    body[sizeof body - 1] = 0;
    client_send(&a, " "); /* and the 599 bytes of body: 600 */
    client_send(&a, body);
    CHECK_INT(client_read(&a, buf, sizeof buf), 200);
    client_close(&a);
    server_stop(&s);

    /* a connection that lingers after a refusal (its client has not closed) makes room at the
     * per-peer cap: it waits for no request of its own */
    http_server_opts one = {.max_per_peer = 1, .max_body = 10, .request_ms = 20000};
    server_start(&s, &one);
    CHECK(client_open(&a, s.port));
    client_send(&a, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n");
    CHECK_INT(client_read(&a, buf, sizeof buf), 413);
    bool admitted = client_open(&b, s.port);
    CHECK(admitted);
    if (admitted) {
        client_send(&b, GET("/metrics"));
        CHECK_INT(client_read(&b, buf, sizeof buf), 200);
        CHECK_CONTAINS(buf, "ccz_http_connections_shed_total{service=\"test\"} 1\n");
        CHECK_CONTAINS(buf, "ccz_http_connections_refused_total{service=\"test\"} 0\n");
    }
    client_close(&b);
    client_close(&a);
    server_stop(&s);
}

static void test_flood(void)
{
    server s;
    http_server_opts o = {.max_connections = 64, .max_per_peer = 1000};
    server_start(&s, &o);
    /* 300 silent TCP connections and 50 that stop in the middle of a head, from the same
     * address as the client: the client is served every time */
    int fds[300];
    for (int i = 0; i < 300; i++)
        fds[i] = tcp_connect_from(s.port, NULL);
    client half[50];
    int n_half = 0;
    for (int i = 0; i < 50; i++)
        if (client_open(&half[n_half], s.port)) {
            client_send(&half[n_half], "GET /healthz HTTP/1.1\r\n");
            n_half++;
        }
    char buf[4096];
    int ok = 0;
    for (int i = 0; i < 20; i++)
        ok += request(s.port, GET("/healthz"), buf, sizeof buf) == 200;
    CHECK_INT(ok, 20);
    for (int i = 0; i < 300; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    for (int i = 0; i < n_half; i++)
        client_close(&half[i]);
    server_stop(&s);
}

/* Whether the server closed fd (EOF or a reset) within 300 ms. */
static bool fd_closed(int fd)
{
    struct pollfd p = {fd, POLLIN, 0};
    char b;
    return poll(&p, 1, 300) == 1 && recv(fd, &b, 1, MSG_DONTWAIT) <= 0;
}

/* Sends a whole ClientHello on fd, as a client that then stops: the server has answered it and
 * waits for the client's next flight, its handshake under way with nothing left to read. */
static bool send_client_hello(int fd)
{
    SSL *ssl = SSL_new(client_ctx);
    BIO *in = BIO_new(BIO_s_mem()), *out = BIO_new(BIO_s_mem());
    SSL_set_bio(ssl, in, out);
    SSL_set_connect_state(ssl);
    bool ok = SSL_do_handshake(ssl) == -1; /* wants to read the server's answer */
    char *hello;
    long n = BIO_get_mem_data(out, &hello);
    ok = ok && n > 0 && send(fd, hello, (size_t)n, MSG_NOSIGNAL) == n;
    SSL_free(ssl);
    return ok;
}

/* At a peer's cap the newcomer's room is made by the peer's oldest silent connection, not by
 * an older one whose handshake has started: half a ClientHello sent (in OpenSSL's buffer), or a
 * whole one answered (the server waits for the client's next flight). */
static void test_cap_keeps_started_handshake(void)
{
    server s;
    http_server_opts o = {.max_per_peer = 4, .max_connections = 64};
    server_start(&s, &o);
    uint8_t half[105] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03};
    int started = tcp_connect_from(s.port, "127.0.0.3");
    CHECK(started >= 0 && send(started, half, sizeof half, MSG_NOSIGNAL) == (ssize_t)sizeof half);
    int hello = tcp_connect_from(s.port, "127.0.0.3");
    CHECK(hello >= 0 && send_client_hello(hello));
    usleep(100 * 1000); /* the server has read them */
    char answer[16384]; /* the server's first flight, so that a close would be seen next */
    CHECK(recv(hello, answer, sizeof answer, MSG_DONTWAIT) > 0);
    int silent[2];
    for (int i = 0; i < 2; i++)
        CHECK((silent[i] = tcp_connect_from(s.port, "127.0.0.3")) >= 0);
    usleep(100 * 1000); /* all accepted */
    client c;
    char buf[4096];
    CHECK(client_open_from(&c, s.port, "127.0.0.3"));
    client_send(&c, GET("/healthz"));
    CHECK_INT(client_read(&c, buf, sizeof buf), 200);
    client_close(&c);
    CHECK(fd_closed(silent[0]));
    CHECK(!fd_closed(started));
    CHECK(!fd_closed(hello));
    close(started);
    close(hello);
    for (int i = 0; i < 2; i++)
        close(silent[i]);
    server_stop(&s);
}

typedef struct {
    server *s;
} drain_arg;

static void test_drain(void)
{
    server s;
    http_server_opts o = {0};
    server_start(&s, &o);
    char buf[4096];
    client busy, idle, probe;
    /* a TCP connection that never starts its handshake, accepted before the others are */
    int silent = tcp_connect_from(s.port, NULL);
    CHECK(silent >= 0);
    CHECK(client_open(&idle, s.port));
    CHECK(client_open(&busy, s.port));
    CHECK(client_open(&probe, s.port));
    /* the probe's head begun (on a connection past its handshake: one answer read), then the
     * busy one's whole: once the server has answered the latter's Expect (100), it has read
     * the bytes that came before on the other connection */
    client_send(&probe, GET("/healthz"));
    CHECK_INT(client_read(&probe, buf, sizeof buf), 200);
    client_send(&probe, "GET /healthz HTTP/1.1\r\n");
    client_send(&busy, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                       "Content-Length: 7\r\nExpect: 100-continue\r\n\r\n");
    CHECK(client_read_continue(&busy));
    client_send(&busy, "{\"a\":");
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    http_server_shutdown(s.srv, 20000);
    CHECK(client_sees_eof(&idle)); /* idle connections go at once (the drain has begun) */
    char b;
    CHECK_INT(recv(silent, &b, 1, 0), 0); /* and unfinished handshakes, not at the grace's end */
    clock_gettime(CLOCK_MONOTONIC, &t1);
    CHECK(ms_between(&t0, &t1) < 2500);
    close(silent);
    client_send(&busy, "2}\n");
    CHECK_INT(client_read(&busy, buf, sizeof buf), 200); /* the request in progress finishes */
    CHECK_CONTAINS(buf, "Connection: close");
    CHECK_CONTAINS(buf, "{\"a\":2,\"seen\":true}");
    /* a readiness probe under way hears that the server is going: 503, not ready */
    client_send(&probe, "Host: t\r\n\r\n");
    CHECK_INT(client_read(&probe, buf, sizeof buf), 503);
    CHECK_CONTAINS(buf, "{\"status\":\"draining\"}");
    client_close(&probe);
    client_close(&busy);
    client_close(&idle);
    pthread_join(s.thread, NULL);
    /* the loop ends once the last connection has closed, not at the grace's end (20 s) */
    clock_gettime(CLOCK_MONOTONIC, &t1);
    CHECK(ms_between(&t0, &t1) < 10000);
    CHECK_OK(s.run_status);
    CHECK(tcp_connect_from(s.port, NULL) < 0); /* no longer listening */
    http_server_free(s.srv);
}

static void nop(http_request *r, void *payload)
{
    (void)payload;
    http_reply(r, 204, NULL, CCZ_LIT(""));
}

/* The access log, captured: one line a request, with the path and never the query. */
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static char log_text[8192];

static void log_sink(ccz_log_level level, const char *msg, void *payload)
{
    (void)level, (void)payload;
    pthread_mutex_lock(&log_mu);
    test_appendf(log_text, sizeof log_text, "%s\n", msg);
    pthread_mutex_unlock(&log_mu);
}

/* The log from level up captured in log_text (empty at first): the level to restore. */
static ccz_log_level log_capture(ccz_log_level level)
{
    ccz_log_level before = ccz_log_get_level();
    log_text[0] = 0;
    ccz_log_set_sink(log_sink, NULL);
    ccz_log_set_level(level);
    return before;
}

static void log_release(ccz_log_level before)
{
    ccz_log_set_level(before);
    ccz_log_set_sink(NULL, NULL);
}

static void test_access_log(void)
{
    server s;
    http_server_opts o = {0};
    server_start(&s, &o);
    ccz_log_level before = log_capture(CCZ_LOG_INFO);
    char buf[4096], req[512], path[301];
    memset(path, 'p', sizeof path - 1);
    path[sizeof path - 1] = 0;
    snprintf(req, sizeof req, "GET /items/%s?token=s3cret HTTP/1.1\r\nHost: t\r\n\r\n", path);
    CHECK_INT(request(s.port, req, buf, sizeof buf), 200);
    CHECK_INT(request(s.port, GET("/items/short?token=s3cret"), buf, sizeof buf), 200);
    client h; /* a HEAD: its answer's Content-Length comes without a body, so no client_read */
    CHECK(client_open(&h, s.port));
    client_send(&h, "HEAD /items/head HTTP/1.1\r\nHost: t\r\n\r\n");
    memset(buf, 0, sizeof buf);
    CHECK(SSL_read(h.ssl, buf, sizeof buf - 1) > 0);
    CHECK(strncmp(buf, "HTTP/1.1 200 ", 13) == 0);
    client_close(&h);
    server_stop(&s); /* the loop has logged all it will */
    log_release(before);
    pthread_mutex_lock(&log_mu);
    /* a long path is cut, and says so; a short one is whole; no query either way */
    CHECK_CONTAINS(log_text, "\"GET /items/pppppppppp");
    CHECK_CONTAINS(log_text, "ppp...\" 200 ");
    CHECK_CONTAINS(log_text, "\"GET /items/short\" 200 ");
    CHECK_CONTAINS(log_text, "\"HEAD /items/head\" 200 0 "); /* HEAD, not GET: no body sent */
    CHECK(strstr(log_text, "s3cret") == NULL);
    CHECK(strstr(log_text, "token") == NULL);
    pthread_mutex_unlock(&log_mu);
}

/* A client that goes on sending while its request waits for a deferred answer: the server reads
 * no more than a head's worth ahead (the read watermark), so the client's sending stalls at what
 * the kernel buffers instead of the server holding all it sends. */
static void test_read_ahead(void)
{
    server s;
    http_server_opts o = {.request_ms = 10000};
    server_start(&s, &o);
    client c;
    CHECK(client_open(&c, s.port));
    struct timeval tv = {0, 500 * 1000};
    setsockopt(c.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    gone = 0;
    client_send(&c, GET("/items/later"));
    static char junk[65536];
    size_t sent = 0;
    while (sent < (48u << 20) && SSL_write(c.ssl, junk, sizeof junk) > 0)
        sent += sizeof junk;
    printf("pipelined behind a deferred request: %.1f MiB sent before the client stalled\n",
           (double)sent / (1 << 20));
    CHECK(sent < (48u << 20));
    client_close(&c);
    /* the server reads nothing more of it, so learns of its leaving when the drain ends it */
    http_server_shutdown(s.srv, 100);
    pthread_join(s.thread, NULL);
    CHECK_OK(s.run_status);
    http_server_free(s.srv);
    CHECK_INT(gone, 1);
}

/* A client that pipelines requests and never reads the answers: once 256 KiB of answers wait
 * for it, the server reads none of its requests, so what it holds for the client stays bounded
 * and the client's sending stalls (at what the kernels buffer) instead of the server answering
 * all it sends into memory. Then the server drains: the requests behind the answers queued,
 * not begun, are not served (no answer says "Connection: close"), and the answers reach the
 * client whole, then its close_notify: the server reads and drops what the client still sends
 * instead of closing on it, which would reset the connection and lose answers in flight. */
static void test_unread_answers(void)
{
    server s;
    http_server_opts o = {.request_ms = 10000, .idle_ms = 10000};
    server_start(&s, &o);
    client c;
    CHECK(client_open(&c, s.port));
    int small = 4096;
    setsockopt(c.fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    setsockopt(c.fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    struct timeval tv = {0, 500 * 1000};
    setsockopt(c.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    static char batch[100 * sizeof GET("/healthz")];
    size_t k = 0;
    for (int i = 0; i < 100; i++)
        k += (size_t)snprintf(batch + k, sizeof batch - k, GET("/healthz"));
    size_t sent = 0;
    while (sent < (4u << 20) && SSL_write(c.ssl, batch, (int)k) > 0)
        sent += k;
    printf("pipelined without reading an answer: %.1f MiB sent before the client stalled\n",
           (double)sent / (1 << 20));
    CHECK(sent < (4u << 20));
    http_server_shutdown(s.srv, 5000);
    usleep(200 * 1000);  /* the drain has begun, the connection still paused */
    int large = 4 << 20; /* the answers are read at loopback speed, not a small window's */
    setsockopt(c.fd, SOL_SOCKET, SO_RCVBUF, &large, sizeof large);
    size_t cap = 8u << 20, got = 0;
    char *all = malloc(cap + 1);
    CHECK(all != NULL);
    int r;
    while (got < cap && (r = SSL_read(c.ssl, all + got, (int)(cap - got))) > 0)
        got += (size_t)r;
    CHECK_INT(SSL_get_error(c.ssl, r), SSL_ERROR_ZERO_RETURN); /* close_notify, no reset */
    all[got] = '\0';
    CHECK(got >= 256u * 1024 && got < cap);
    const char *ok = "{\"status\":\"ok\"}\n";
    CHECK(got > strlen(ok) && strcmp(all + got - strlen(ok), ok) == 0);
    CHECK(strstr(all, "Connection: close") == NULL);
    free(all);
    client_close(&c);
    pthread_join(s.thread, NULL);
    CHECK_OK(s.run_status);
    http_server_free(s.srv);
}

/* An IPv6 client is counted by its /64 (one host holds a whole one) and logged by its address;
 * at the per-peer cap its own idle connection makes room. */
static void test_ipv6_peers(void)
{
    int probe = socket(AF_INET6, SOCK_STREAM, 0);
    struct sockaddr_in6 lo = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    bool v6 = probe >= 0 && bind(probe, (struct sockaddr *)&lo, sizeof lo) == 0;
    if (probe >= 0)
        close(probe);
    if (!v6) {
        printf("no IPv6 loopback: the IPv6 peers are not checked\n");
        return;
    }
    server s;
    http_server_opts o = {.max_per_peer = 1};
    listen_on = "[::]:0"; /* dual-stack where the system allows it */
    server_start(&s, &o);
    listen_on = "127.0.0.1:0";
    client a, b;
    char buf[4096];
    CHECK(client_open6(&a, s.port));
    client_send(&a, GET("/items/peer"));
    CHECK_INT(client_read(&a, buf, sizeof buf), 200);
    CHECK_CONTAINS(buf, "peer=::1 group=::/64");
    CHECK(client_open6(&b, s.port)); /* the cap of one: a, idle, makes room */
    client_send(&b, GET("/items/peer"));
    CHECK_INT(client_read(&b, buf, sizeof buf), 200);
    CHECK_CONTAINS(buf, "peer=::1 group=::/64");
    CHECK(client_sees_eof(&a));
    client_close(&a);
    client_close(&b);
    /* an IPv4 client of the dual-stack socket (mapped to ::ffff:127.0.0.1) is named and counted
     * as IPv4 */
    if (client_open(&a, s.port)) {
        client_send(&a, GET("/items/peer"));
        CHECK_INT(client_read(&a, buf, sizeof buf), 200);
        CHECK_CONTAINS(buf, "peer=127.0.0.1 group=127.0.0.1");
        client_close(&a);
    } else {
        printf("an IPv6-only socket: IPv4 clients mapped to IPv6 are not checked\n");
    }
    server_stop(&s);
}

/* The CPU time the server's thread has used, in ms. */
static double thread_cpu_ms(pthread_t t)
{
    clockid_t id;
    struct timespec ts;
    if (pthread_getcpuclockid(t, &id) != 0 || clock_gettime(id, &ts) != 0)
        return -1;
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* Sends prefix, then n pieces of 64 bytes (no line end), each its own TLS record, then suffix;
 * the answer's status, and in *ms the server thread's CPU time for the pieces and the rest. */
static int slow_send(server *s, const char *prefix, int n, const char *suffix, double *ms)
{
    client c;
    char buf[4096], piece[64];
    memset(piece, 'a', sizeof piece);
    if (!client_open(&c, s->port))
        return -1;
    client_send(&c, prefix);
    double t0 = thread_cpu_ms(s->thread);
    for (int i = 0; i < n; i++) {
        CHECK_INT(SSL_write(c.ssl, piece, sizeof piece), (int)sizeof piece);
        usleep(100);
    }
    client_send(&c, suffix);
    int st = client_read(&c, buf, sizeof buf);
    *ms = thread_cpu_ms(s->thread) - t0;
    client_close(&c);
    return st;
}

/* A slow sender: a long line in small pieces. The server's work is linear in the line, not a
 * parse of all of it so far for every piece: quadratic, ~500 ms of the server thread's CPU for
 * a 375 KiB line before, so ~8 s for these 1.5 MiB lines, against ~180 ms now (TLS included; up
 * to about 4x that on a loaded machine, hence a bound of 2 s). A head, and a chunk-size line
 * with its extension. The CPU bound is checked in the optimized build only: a sanitizer's
 * instrumentation multiplies both. */
static void test_slow_head(void)
{
    server s;
    http_server_opts o = {.max_head = 1600 * 1024, .request_ms = 20000};
    server_start(&s, &o);
    double ms;
    CHECK_INT(slow_send(&s, "GET /healthz HTTP/1.1\r\nHost: t\r\nX-Big: ", 24000, "\r\n\r\n", &ms),
              200);
    printf("a 1.5 MiB head in 64-byte pieces: %.1f ms of the server's CPU\n", ms);
    CHECK(ms >= 0 && (UNDER_ASAN || ms < 2000));
    CHECK_INT(slow_send(&s,
                        "GET /healthz HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                        "1;x=",
                        24000, "\r\n{\r\n0\r\n\r\n", &ms),
              200);
    printf("a 1.5 MiB chunk-size line in 64-byte pieces: %.1f ms of the server's CPU\n", ms);
    CHECK(ms >= 0 && (UNDER_ASAN || ms < 2000));
    server_stop(&s);
}

/* Out of descriptors: clients wait in the backlog while accept() fails (EMFILE). The server
 * pauses accepting (LISTENER_PAUSE_MS at a time) instead of its thread spinning on the readable
 * listener, logs the episode once, and serves the waiting clients once descriptors are free. */
static void test_out_of_descriptors(void)
{
    server s;
    http_server_opts o = {0};
    server_start(&s, &o);
    ccz_log_level before = log_capture(CCZ_LOG_WARN);
    /* a limit of 256 (the descriptors already open stay), every free one taken, then four given
     * back to four clients' sockets: each connects, and the server has none to accept it with */
    struct rlimit was, low;
    CHECK(getrlimit(RLIMIT_NOFILE, &was) == 0);
    low = was;
    low.rlim_cur = 256;
    CHECK(setrlimit(RLIMIT_NOFILE, &low) == 0);
    int spare[256], n_spare = 0;
    while (n_spare < 256 && (spare[n_spare] = open("/dev/null", O_RDONLY)) >= 0)
        n_spare++;
    CHECK_INT(errno, EMFILE);
    CHECK(n_spare >= 4);
    int fds[4];
    for (int i = 0; i < 4; i++) {
        close(spare[--n_spare]);
        fds[i] = tcp_connect_from(s.port, NULL);
        CHECK(fds[i] >= 0);
    }
    usleep(300000);
    double t0 = thread_cpu_ms(s.thread);
    usleep(1000000);
    double ms = thread_cpu_ms(s.thread) - t0;
    printf("out of descriptors for 1 s: %.1f ms of the server's CPU\n", ms);
    CHECK(ms >= 0 && ms < 300);
    while (n_spare > 0)
        close(spare[--n_spare]);
    CHECK(setrlimit(RLIMIT_NOFILE, &was) == 0);
    /* the waiting clients are served: the listener is enabled again within its pause */
    for (int i = 0; i < 4; i++) {
        client c = {.fd = fds[i], .n_left = 0};
        c.ssl = SSL_new(client_ctx);
        SSL_set_fd(c.ssl, c.fd);
        char buf[4096];
        bool up = SSL_connect(c.ssl) == 1;
        CHECK(up);
        if (up) {
            client_send(&c, GET("/healthz"));
            CHECK_INT(client_read(&c, buf, sizeof buf), 200);
        }
        client_close(&c);
    }
    server_stop(&s);
    log_release(before);
    pthread_mutex_lock(&log_mu);
    CHECK_CONTAINS(log_text,
                   "test: cannot accept connections: Too many open files (0 open, at most ");
    CHECK_CONTAINS(log_text, "pausing 250 ms at a time until it passes");
    int logged = 0;
    for (const char *p = log_text; (p = strstr(p, "cannot accept")) != NULL; p++)
        logged++;
    CHECK_INT(logged, 1);
    pthread_mutex_unlock(&log_mu);
}

/* Setting a server up: what it refuses, with the message that says why. */
static void test_setup_errors(void)
{
    http_server *srv = (http_server *)&srv;
    CHECK_STATUS(http_server_new(&srv, NULL), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "an HTTP server needs its options");
    CHECK(srv == NULL);
    http_server_opts o = {.name = "setup"};
    CHECK_OK(http_server_new(&srv, &o));
    /* a route needs a method, a path that starts with '/', a handler; a prefix ends in '/' */
    struct {
        const char *method, *path;
        bool prefix;
        http_handler h;
    } bad[] = {
        {NULL, "/a", false, nop}, {"GET", NULL, false, nop},  {"GET", "a", false, nop},
        {"GET", "", false, nop},  {"GET", "/a", false, NULL}, {"GET", "/a", true, nop},
    };
    for (size_t i = 0; i < CCZ_ARRAY_LEN(bad); i++) {
        CHECK_STATUS(http_route(srv, bad[i].method, bad[i].path, bad[i].prefix, bad[i].h, NULL),
                     CCZ_ERR_INVALID_ARGUMENT);
        CHECK_CONTAINS(ccz_error_detail(), "a route needs a method, a /path");
    }
    CHECK_OK(http_route(srv, "GET", "/a/", true, nop, NULL));
    CHECK_OK(http_route(srv, "GET", "/a", false, nop, NULL));
    CHECK_OK(http_route(srv, "POST", "/a", false, nop, NULL)); /* another method: another route */
    /* the same method and path twice, a built-in one included */
    CHECK_STATUS(http_route(srv, "GET", "/a", false, nop, NULL), CCZ_ERR_EXISTS);
    CHECK_CONTAINS(ccz_error_detail(), "GET /a is routed already");
    CHECK_STATUS(http_route(srv, "GET", "/a/", false, nop, NULL), CCZ_ERR_EXISTS);
    CHECK_STATUS(http_route(srv, "GET", "/healthz", false, nop, NULL), CCZ_ERR_EXISTS);
    CHECK_CONTAINS(ccz_error_detail(), "GET /healthz is routed already");
    /* a preface: magic bytes, a name, a handler, and only one */
    CHECK_STATUS(http_server_set_preface(srv, CCZ_SPAN("", 0), "P", nop, NULL),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "a preface needs magic bytes, a name and a handler, once");
    CHECK_STATUS(http_server_set_preface(srv, CCZ_LIT("PRE"), NULL, nop, NULL),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(http_server_set_preface(srv, CCZ_LIT("PRE"), "P", NULL, NULL),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_OK(http_server_set_preface(srv, CCZ_LIT("PRE"), "P", nop, NULL));
    CHECK_STATUS(http_server_set_preface(srv, CCZ_LIT("PRX"), "Q", nop, NULL),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "a preface needs magic bytes, a name and a handler, once");
    /* a server that listens nowhere does not run (it would wait for nothing forever) */
    CHECK_STATUS(http_server_run(srv), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "the server listens nowhere");
    http_server_free(srv);
}

/* The reason phrases of the statuses the server itself sends. */
static void test_status_unit(void)
{
    CHECK_STR(http_reason(408), "Request Timeout");
    CHECK_STR(http_reason(413), "Content Too Large");
    CHECK_STR(http_reason(431), "Request Header Fields Too Large");
    CHECK_STR(http_reason(505), "HTTP Version Not Supported");
    CHECK_STR(http_reason(599), "Unknown");
}

static void test_parser_unit(void)
{
    http_head h;
    int code;
    ccz_span in = CCZ_LIT("\r\nGET /a?b=c HTTP/1.1\r\nHost:  x \r\nConnection: Close\r\n\r\nrest");
    CHECK_OK(http_parse_head(&h, &code, in, 1024));
    CHECK_INT(h.head_len, in.len - 4);
    CHECK_INT(h.path.len, 2);
    CHECK_INT(h.query.len, 3);
    CHECK(!h.keep_alive);
    ccz_span v;
    CHECK(http_head_get(&h, "HOST", &v));
    CHECK_INT(v.len, 1);
    /* incomplete: read on; incomplete at the limit: too large */
    CHECK_STATUS(http_parse_head(&h, &code, CCZ_LIT("GET / HTTP/1.1\r\nHost: x\r\n"), 1024),
                 CCZ_ERR_TRUNCATED);
    CHECK_INT(code, 0);
    CHECK_STATUS(http_parse_head(&h, &code, CCZ_LIT("GET / HTTP/1.1\r\nHost: x\r\n"), 20),
                 CCZ_ERR_TOO_LARGE);
    CHECK_INT(code, 431);
    CHECK_STATUS(http_parse_head(&h, &code, CCZ_LIT("GET / HTTP/1.1\r"), 1024), CCZ_ERR_TRUNCATED);
    CHECK_STATUS(http_parse_head(&h, &code, CCZ_LIT("GET / HTTP/1.1\rX"), 1024), CCZ_ERR_MALFORMED);
    /* close wins over keep-alive, in one header or in two, in either order */
    static const char *const closing[] = {
        "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nConnection: keep-alive\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n",
        "GET / HTTP/1.0\r\nConnection: close\r\nConnection: keep-alive\r\n\r\n",
        "GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n",
    };
    for (size_t i = 0; i < CCZ_ARRAY_LEN(closing); i++) {
        CHECK_OK(http_parse_head(&h, &code, CCZ_SPAN(closing[i], strlen(closing[i])), 1024));
        CHECK(!h.keep_alive);
    }
    CHECK_OK(http_parse_head(&h, &code, CCZ_LIT("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"),
                             1024));
    CHECK(h.keep_alive);
    /* Host: a name, an IPv4 or IPv6 literal, with or without a port, or empty */
    static const char *const hosts_ok[] = {"a.example:8443", "127.0.0.1", "[::1]:443", "",
                                           "xn--bcher-kva.example"};
    for (size_t i = 0; i < CCZ_ARRAY_LEN(hosts_ok); i++) {
        char req[128];
        snprintf(req, sizeof req, "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", hosts_ok[i]);
        CHECK_OK(http_parse_head(&h, &code, CCZ_SPAN(req, strlen(req)), 1024));
    }
    /* a NUL in a header name or value, a NUL in the target */
    CHECK_STATUS(http_parse_head(&h, &code, CCZ_LIT("GET / HTTP/1.1\r\nHo\0st: x\r\n\r\n"), 1024),
                 CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "a malformed header line");
    CHECK_STATUS(http_parse_head(&h, &code, CCZ_LIT("GET / HTTP/1.1\r\nHost: x\0y\r\n\r\n"), 1024),
                 CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "a control byte in a header value");
    CHECK_STATUS(http_parse_head(&h, &code, CCZ_LIT("GET /a\0b HTTP/1.1\r\nHost: x\r\n\r\n"), 1024),
                 CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "a malformed request target");
    /* 64 headers fit, 65 do not */
    char many[4096];
    size_t n = (size_t)snprintf(many, sizeof many, "GET / HTTP/1.1\r\nHost: x\r\n");
    for (int i = 0; i < 64; i++)
        n += (size_t)snprintf(many + n, sizeof many - n, "X%d: y\r\n", i);
    snprintf(many + n, sizeof many - n, "\r\n");
    CHECK_STATUS(http_parse_head(&h, &code, CCZ_SPAN(many, strlen(many)), 8192), CCZ_ERR_TOO_LARGE);
    CHECK_INT(code, 431);
    /* up to four empty lines before the request line are ignored, a fifth is not */
    CHECK_OK(http_parse_head(&h, &code,
                             CCZ_LIT("\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n"), 1024));
    CHECK_INT(h.path.len, 1);
    CHECK_STATUS(http_parse_head(&h, &code,
                                 CCZ_LIT("\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n"),
                                 1024),
                 CCZ_ERR_MALFORMED);
    CHECK_INT(code, 400);
    CHECK_CONTAINS(ccz_error_detail(), "no request line");
    /* a value without the tabs around it */
    CHECK_OK(http_parse_head(&h, &code, CCZ_LIT("GET / HTTP/1.1\r\nHost: x\r\nX:\t v \t\r\n\r\n"),
                             1024));
    CHECK(http_head_get(&h, "x", &v));
    CHECK_INT(v.len, 1);
    CHECK_INT(v.ptr[0], 'v');
    /* a Connection token with blanks before its comma is still "close" */
    CHECK_OK(http_parse_head(
        &h, &code, CCZ_LIT("GET / HTTP/1.1\r\nHost: x\r\nConnection: close \t, te\r\n\r\n"), 1024));
    CHECK(!h.keep_alive);
    /* a Content-Encoding of identity, or an empty one, is no coding at all */
    CHECK_OK(http_parse_head(
        &h, &code, CCZ_LIT("POST / HTTP/1.1\r\nHost: x\r\nContent-Encoding: Identity\r\n\r\n"),
        1024));
    CHECK_OK(http_parse_head(
        &h, &code, CCZ_LIT("POST / HTTP/1.1\r\nHost: x\r\nContent-Encoding: \r\n\r\n"), 1024));
    CHECK_STATUS(
        http_parse_head(
            &h, &code, CCZ_LIT("POST / HTTP/1.1\r\nHost: x\r\nContent-Encoding: br\r\n\r\n"), 1024),
        CCZ_ERR_UNSUPPORTED);
    CHECK_INT(code, 415);
}

/* Decodes a chunked body whose bytes arrive step at a time; the body in out (NUL-ended) and 1,
 * 0 when the input ends inside the body, or -status. */
static int dechunk(const char *in, size_t step, char *out, size_t cap, size_t max_line)
{
    http_chunked ck = {0};
    size_t len = strlen(in), at = 0, got = 0, have = step < len ? step : len;
    while (ck.state != HTTP_CHUNK_DONE) {
        int code;
        size_t used;
        ccz_span data;
        ccz_status st =
            http_chunked_step(&ck, &code, CCZ_SPAN(in + at, have - at), max_line, &used, &data);
        if (st == CCZ_ERR_TRUNCATED) {
            CHECK_INT(code, 0);
            CHECK_INT(used, 0);
            if (have == len)
                return 0;
            have = have + step < len ? have + step : len;
            continue;
        }
        if (st != CCZ_OK) {
            CHECK_INT(used, 0); /* a failure consumes nothing */
            return -code;
        }
        CHECK(used > 0 && used <= have - at);
        CHECK(got + data.len < cap);
        if (data.len)
            memcpy(out + got, data.ptr, data.len);
        got += data.len;
        at += used;
    }
    out[got] = 0;
    CHECK_INT(at, len - strlen("rest")); /* every complete input ends in "rest", not consumed */
    return 1;
}

static void test_chunked_unit(void)
{
    http_head h;
    int code;
    CHECK_OK(http_parse_head(
        &h, &code, CCZ_LIT("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"),
        1024));
    CHECK(h.chunked);
    CHECK(!h.has_length);
    CHECK_STATUS(
        http_parse_head(&h, &code,
                        CCZ_LIT("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                                "Content-Length: 0\r\n\r\n"),
                        1024),
        CCZ_ERR_MALFORMED);
    CHECK_INT(code, 400);
    CHECK_STATUS(http_parse_head(&h, &code,
                                 CCZ_LIT("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity"
                                         "\r\n\r\n"),
                                 1024),
                 CCZ_ERR_UNSUPPORTED);
    CHECK_INT(code, 501);
    char out[256];
    const char *body = "4\r\nWiki\r\n7;a=b;c\r\npedia i\r\nB\r\nn \r\nchunks.\r\n000\r\n"
                       "Expires: x\r\nX-Empty:\r\n\r\nrest";
    for (size_t step = 1; step < 20; step++) {
        CHECK_INT(dechunk(body, step, out, sizeof out, 64), 1);
        CHECK_STR(out, "Wikipedia in \r\nchunks.");
    }
    CHECK_INT(dechunk("0\r\n\r\nrest", 1, out, sizeof out, 64), 1);
    CHECK_STR(out, "");
    CHECK_INT(dechunk("ff\r\nab", 3, out, sizeof out, 64), 0); /* data still to come */
    CHECK_INT(dechunk("2\r\nab\r\n0\r\n", 1, out, sizeof out, 64), 0);
    struct {
        const char *in;
        int status;
    } bad[] = {
        {"\r\n", 400},   /* no size */
        {"-1\r\n", 400}, /* not hex */
        {"g\r\n", 400},  /* the letter after f */
        {"G\r\n", 400},
        {"0x5\r\n", 400},                      /* not hex either */
        {"5 \r\nhello\r\n0\r\n\r\nrest", 400}, /* a blank and no extension */
        {"5 ;x\r\nhello\r\n0\r\n\r\nrest", 1}, /* BWS before an extension is allowed */
        {"5;\x01\r\n", 400},                   /* a control byte in an extension */
        {"5\r\nhelloX\r\n", 400},              /* longer than its size */
        {"5\r\nhello\n0\r\n", 400},            /* a bare LF after data */
        {"5\r\nhello\rX0\r\n\r\nrest", 400},   /* a bare CR after data */
        {"5\nhello", 400},                     /* a bare LF after the size */
        {"5\rhello", 400},                     /* a bare CR */
        {"0000000000000000f\r\n", 413},        /* 17 digits */
        {"ffffffffffffffff\r\n", 1},           /* 16 digits: admitted by the caller, or not */
        {"0\r\nno colon\r\n\r\n", 400},        /* a malformed trailer field */
        {"0\r\n folded: x\r\n\r\n", 400},      /* obsolete line folding in a trailer */
        {"0\r\nA: 0123456789012345678901234567890123456789012345678901234567890\r\n\r\nrest",
         431}, /* a trailer section over the line limit */
        {"0\r\nA: 01234567890123456789012345678\r\nB: 01234567890123456789012345678\r\n\r\nrest",
         431}, /* two trailer lines within it, over it together */
        {"0\r\nA: 01234567890123456789012345678\r\n\r\nrest", 1},
        {"1;00000000000000000000000000000000000000000000000000000000000000000000\r\n", 400},
    };
    for (size_t i = 0; i < CCZ_ARRAY_LEN(bad); i++) {
        int got = dechunk(bad[i].in, 1, out, sizeof out, 64);
        if (bad[i].status == 1 && strstr(bad[i].in, "rest") == NULL)
            CHECK_INT(got, 0); /* accepted so far */
        else
            CHECK_INT(got, bad[i].status == 1 ? 1 : -bad[i].status);
    }
}

/* The per-peer caps count an IPv6 client by its /64 (a host holds a whole one), an IPv4 client
 * by its address, also when a dual-stack socket sees it mapped to IPv6. */
static void test_peer_group_unit(void)
{
    static const struct {
        const char *in, *group;
    } cases[] = {
        {"2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"},
        {"2001:db8:1:2::1", "2001:db8:1:2::/64"},
        {"2001:db8:1:3::1", "2001:db8:1:3::/64"},
        {"::1", "::/64"},
        {"fe80::1234", "fe80::/64"},
        {"::ffff:192.0.2.7", "192.0.2.7"},
    };
    char g[LISTENER_PEER_GROUP_LEN];
    for (size_t i = 0; i < CCZ_ARRAY_LEN(cases); i++) {
        struct sockaddr_in6 a6 = {.sin6_family = AF_INET6};
        CHECK_INT(inet_pton(AF_INET6, cases[i].in, &a6.sin6_addr), 1);
        listener_peer_group(g, (const struct sockaddr *)&a6);
        CHECK_STR(g, cases[i].group);
    }
    struct sockaddr_in a4 = {.sin_family = AF_INET};
    CHECK_INT(inet_pton(AF_INET, "198.51.100.9", &a4.sin_addr), 1);
    listener_peer_group(g, (const struct sockaddr *)&a4);
    CHECK_STR(g, "198.51.100.9");
    /* the table of groups: a group is found only while it has connections open; a free slot is
     * taken for a new one only when asked, and there is none when every slot is in use */
    listener_peer peers[2] = {{"10.0.0.1", 1}, {"10.0.0.2", 0}};
    CHECK(listener_peer_find(peers, 2, "10.0.0.1", false) == &peers[0]);
    CHECK(listener_peer_find(peers, 2, "10.0.0.2", false) == NULL); /* its last one closed */
    CHECK(listener_peer_find(peers, 2, "10.0.0.3", false) == NULL);
    CHECK_STR(peers[1].addr, "10.0.0.2"); /* nothing taken */
    CHECK(listener_peer_find(peers, 2, "10.0.0.3", true) == &peers[1]);
    CHECK_STR(peers[1].addr, "10.0.0.3");
    peers[1].n = 1;
    CHECK(listener_peer_find(peers, 2, "10.0.0.4", true) == NULL);
}

static void test_all(void)
{
    signal(SIGPIPE, SIG_IGN);
    test_setup_errors();
    test_status_unit();
    test_parser_unit();
    test_chunked_unit();
    test_peer_group_unit();
    test_routes_and_keepalive();
    test_metrics_without_preface();
    test_empty_drain();
    test_metrics_codes_overflow();
    test_string_errors();
    test_preface();
    test_access_log();
    test_slow_head();
    test_read_ahead();
    test_unread_answers();
    test_ipv6_peers();
    test_refusals();
    test_deadlines();
    test_caps();
    test_shed_longest_idle();
    test_default_per_peer();
    test_cap_keeps_started_handshake();
    test_flood();
    test_out_of_descriptors();
    test_drain();
    SSL_CTX_free(server_ctx);
    SSL_CTX_free(client_ctx);
    ccz_attester_free(attester);
}

TEST_MAIN(T(test_all))
