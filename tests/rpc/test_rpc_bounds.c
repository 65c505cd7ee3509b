/* SPDX-License-Identifier: Apache-2.0 */
/* A plaintext (h2c) server's bounds on what a client's calls hold, against a raw HTTP/2 client:
 * request metadata counts towards the server-wide bound (a call whose headers would pass it is
 * refused RESOURCE_EXHAUSTED) and is uncounted when its call ends; a call the server ends while
 * its client still sends is reset (RST_STREAM NO_ERROR) once its status is out, so that it
 * stops holding one of the connection's streams; a call its client cancels (RST_STREAM) while
 * the handler holds it refuses the handler's late answer; a status that cannot be sent (more
 * headers than a response takes) resets the stream instead of leaving the client waiting; an
 * answer a client never opens its window for is reset after the idle timeout; a handler's
 * misuse of its call and a server's misconfiguration are refused with what was wrong; a rapid
 * reset flood (CVE-2023-44487) ends its connection while others are served; a request its
 * client's trailers end is answered; the SETTINGS announce the header list and window enforced;
 * windows are credited as request bytes are consumed (an unfinished message is not), those of
 * refused calls at once; a header list at the bound is taken, one byte more refused; headers
 * HTTP/2 and gRPC define are not metadata; a client stream of many times the server-wide bound
 * is served whole (bytes leave the count as they are consumed) and a buffer much larger than what
 * it holds is given back; a connection's bound sheds its own calls only; a graceful shutdown
 * serves the calls in flight on every connection before its loop ends. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <nghttp2/nghttp2.h>

#include "ccz/ccz.h"
#include "greeter.pb-c.h"
#include "h2_client.h"
#include "rpc_fixture.h"
#include "test.h"

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static ccz_rpc_server *current;

/* What the late answer to a call its client cancelled found. */
static struct {
    atomic_int done;
    bool alive;
    ccz_status send, send_packed, finish;
    char send_why[128], finish_why[128];
} late;

static void answer_late(void *arg)
{
    ccz_rpc_call *call = arg;
    late.alive = ccz_rpc_call_alive(call);
    Ratls__HelloReply r = RATLS__HELLO_REPLY__INIT;
    r.message = "late";
    late.send = ccz_rpc_send(call, &r.base);
    snprintf(late.send_why, sizeof late.send_why, "%s", ccz_error_detail());
    ccz_rpc_packed *p;
    CHECK_OK(ccz_rpc_packed_new(&p, &r.base));
    late.send_packed = ccz_rpc_send_packed(call, p);
    ccz_rpc_packed_free(p);
    late.finish = ccz_rpc_finish(call, CCZ_RPC_OK, NULL);
    snprintf(late.finish_why, sizeof late.finish_why, "%s", ccz_error_detail());
    ccz_rpc_call_unref(call);
    atomic_store(&late.done, 1);
}

static ccz_status too_many; /* what finishing with 70 trailers gave */

/* What a handler's misuse of its call gave: a header after the headers went out, a trailer
 * a second status and a message after the call was finished; whether the call was alive before and
 * after it was finished. */
static struct {
    ccz_status header, trailer, finish, send;
    bool alive_before, alive_after;
    char header_why[128], trailer_why[128], finish_why[128], send_why[128];
} misuse;

/* "drip" sends a message now and one every 100 ms after, twelve in all, and never finishes */
static atomic_int drips;

static void drip_more(void *arg)
{
    ccz_rpc_call *call = arg;
    Ratls__HelloReply r = RATLS__HELLO_REPLY__INIT;
    r.message = "drip";
    if (ccz_rpc_call_alive(call) && atomic_load(&drips) < 12 &&
        ccz_rpc_send(call, &r.base) == CCZ_OK) {
        atomic_fetch_add(&drips, 1);
        CHECK_OK(ccz_rpc_server_defer(current, 100, drip_more, call));
        return;
    }
    ccz_rpc_call_unref(call);
}

/* "later" is answered 200 ms on; "drip" as drip_more says; "trailers" with 70 trailers (more
 * headers than a response takes); others at once */
static void hello(ccz_rpc_call *call, const ProtobufCMessage *req, void *payload)
{
    (void)payload;
    const char *name = ((const Ratls__HelloRequest *)req)->name;
    if (!strcmp(name, "trailers")) {
        for (int i = 0; i < 70; i++)
            CHECK_OK(ccz_rpc_call_add_trailer(call, "x-t", CCZ_SPAN("v", 1)));
        too_many = ccz_rpc_finish(call, CCZ_RPC_OK, NULL);
        return;
    }
    if (!strcmp(name, "sent-trailers")) { /* the same after a message: its trailers fail */
        Ratls__HelloReply r = RATLS__HELLO_REPLY__INIT;
        r.message = "sent";
        CHECK_OK(ccz_rpc_send(call, &r.base));
        for (int i = 0; i < 70; i++)
            CHECK_OK(ccz_rpc_call_add_trailer(call, "x-t", CCZ_SPAN("v", 1)));
        CHECK_OK(ccz_rpc_finish(call, CCZ_RPC_OK, NULL));
        return;
    }
    if (!strcmp(name, "misuse")) {
        Ratls__HelloReply r = RATLS__HELLO_REPLY__INIT;
        r.message = "misuse";
        CHECK_OK(ccz_rpc_send(call, &r.base));
        misuse.header = ccz_rpc_call_add_header(call, "x-late", CCZ_SPAN("v", 1));
        snprintf(misuse.header_why, sizeof misuse.header_why, "%s", ccz_error_detail());
        misuse.alive_before = ccz_rpc_call_alive(call);
        CHECK_OK(ccz_rpc_finish(call, CCZ_RPC_OK, NULL));
        misuse.alive_after = ccz_rpc_call_alive(call);
        misuse.send = ccz_rpc_send(call, &r.base);
        snprintf(misuse.send_why, sizeof misuse.send_why, "%s", ccz_error_detail());
        misuse.trailer = ccz_rpc_call_add_trailer(call, "x-late", CCZ_SPAN("v", 1));
        snprintf(misuse.trailer_why, sizeof misuse.trailer_why, "%s", ccz_error_detail());
        misuse.finish = ccz_rpc_finish(call, CCZ_RPC_INTERNAL, "again");
        snprintf(misuse.finish_why, sizeof misuse.finish_why, "%s", ccz_error_detail());
        return;
    }
    if (!strncmp(name, "refuse", 6)) { /* a trailers-only answer as large as the name */
        CHECK_OK(ccz_rpc_finish(call, CCZ_RPC_INVALID_ARGUMENT, name));
        return;
    }
    if (!strcmp(name, "drip")) {
        ccz_rpc_call_ref(call);
        drip_more(call);
        return;
    }
    if (!strcmp(name, "keys")) { /* OK, with the keys of the metadata the handler sees */
        char keys[160] = "";
        const ccz_rpc_metadata *md = ccz_rpc_call_metadata(call);
        for (size_t i = 0; i < md->n; i++)
            snprintf(keys + strlen(keys), sizeof keys - strlen(keys), "%s%s", i ? "," : "",
                     md->entries[i].key);
        CHECK_OK(ccz_rpc_finish(call, CCZ_RPC_OK, keys));
        return;
    }
    if (strcmp(name, "later") != 0) {
        greeter_hello_reply(call, name);
        return;
    }
    ccz_rpc_call_ref(call);
    CHECK_OK(ccz_rpc_server_defer(current, 200, answer_late, call));
}

/* Client streaming: answers OK with "messages/bytes", the count of messages and their names'
 * total length. */
static void total(ccz_rpc_call *call, const ProtobufCMessage *req, void *payload)
{
    (void)payload;
    size_t *t = ccz_rpc_call_user(call);
    if (!t) {
        t = calloc(2, sizeof *t);
        ccz_rpc_call_set_user(call, t, free);
    }
    if (req) {
        t[0]++;
        t[1] += strlen(((const Ratls__HelloRequest *)req)->name);
        return;
    }
    char msg[64];
    snprintf(msg, sizeof msg, "%zu/%zu", t[0], t[1]);
    CHECK_OK(ccz_rpc_finish(call, CCZ_RPC_OK, msg));
}

/* ---- a raw client: its streams 1, 3, 5, ... in slots 0, 1, 2, ... ---------------------------*/

#define SLOTS 16
#define SLOT(id) ((size_t)(id) / 2)

typedef struct {
    int fd;
    nghttp2_session *h2;
    int status[SLOTS]; /* grpc-status, -1 if none */
    char message[SLOTS][160];
    bool closed[SLOTS];
    uint32_t error[SLOTS]; /* the HTTP/2 code it was closed with */
    bool goaway;
    uint32_t goaway_error;  /* the GOAWAY's code */
    uint32_t credit_conn;   /* what the server's WINDOW_UPDATEs credited the connection */
    uint32_t credit[SLOTS]; /* and each stream */
    uint32_t pings;         /* the server's PING ACKs */
} peer;

static ssize_t peer_send(nghttp2_session *s, const uint8_t *d, size_t n, int f, void *u)
{
    (void)s, (void)f;
    ssize_t w = send(((peer *)u)->fd, d, n, MSG_NOSIGNAL);
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return NGHTTP2_ERR_WOULDBLOCK;
    return w < 0 ? NGHTTP2_ERR_CALLBACK_FAILURE : w;
}

static int peer_header(nghttp2_session *s, const nghttp2_frame *fr, const uint8_t *name, size_t nl,
                       const uint8_t *value, size_t vl, uint8_t flags, void *u)
{
    (void)s, (void)flags;
    peer *p = u;
    size_t i = SLOT(fr->hd.stream_id);
    if (i >= SLOTS)
        return 0;
    if (nl == 11 && !memcmp(name, "grpc-status", 11))
        p->status[i] = atoi((const char *)value); /* nghttp2 NUL-terminates values */
    else if (nl == 12 && !memcmp(name, "grpc-message", 12))
        snprintf(p->message[i], sizeof p->message[i], "%.*s", (int)vl, value);
    return 0;
}

static int peer_close(nghttp2_session *s, int32_t id, uint32_t error, void *u)
{
    (void)s;
    peer *p = u;
    if (SLOT(id) < SLOTS) {
        p->closed[SLOT(id)] = true;
        p->error[SLOT(id)] = error;
    }
    return 0;
}

static int peer_frame(nghttp2_session *s, const nghttp2_frame *fr, void *u)
{
    (void)s;
    peer *p = u;
    if (fr->hd.type == NGHTTP2_GOAWAY) {
        p->goaway = true;
        p->goaway_error = fr->goaway.error_code;
    }
    if (fr->hd.type == NGHTTP2_WINDOW_UPDATE) {
        uint32_t n = (uint32_t)fr->window_update.window_size_increment;
        if (!fr->hd.stream_id)
            p->credit_conn += n;
        else if (SLOT(fr->hd.stream_id) < SLOTS)
            p->credit[SLOT(fr->hd.stream_id)] += n;
    }
    if (fr->hd.type == NGHTTP2_PING && (fr->hd.flags & NGHTTP2_FLAG_ACK))
        p->pings++;
    return 0;
}

static const h2_client_callbacks peer_callbacks = {
    .send = peer_send, .header = peer_header, .frame = peer_frame, .close = peer_close};

static void peer_open(peer *p, const char *target)
{
    memset(p, 0, sizeof *p);
    for (int i = 0; i < SLOTS; i++)
        p->status[i] = -1;
    int port = atoi(strrchr(target, ':') + 1);
    p->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(connect(p->fd, (struct sockaddr *)&a, sizeof a) == 0);
    p->h2 = h2_client_new(&peer_callbacks, p, NULL, 0);
}

static void peer_close_all(peer *p)
{
    nghttp2_session_del(p->h2);
    close(p->fd);
}

/* Sends and reads for up to ms, until stream id has its status (or, closed set, is closed). */
static void peer_until(peer *p, int32_t id, bool closed, int ms)
{
    int64_t end = now_ms() + ms;
    uint8_t buf[16384];
    while (now_ms() < end) {
        CHECK_INT(nghttp2_session_send(p->h2), 0);
        if (closed ? p->closed[SLOT(id)] : p->status[SLOT(id)] >= 0)
            return;
        struct pollfd pf = {p->fd, POLLIN, 0};
        if (poll(&pf, 1, 20) <= 0)
            continue;
        ssize_t n = recv(p->fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n <= 0)
            return;
        CHECK((ssize_t)nghttp2_session_mem_recv(p->h2, buf, (size_t)n) == n);
    }
}

/* Sends and reads until the server closes the connection, for up to ms after t0: when it
 * closed, in ms after t0, or -1. */
static int64_t peer_until_eof(peer *p, int64_t t0, int ms)
{
    uint8_t buf[4096];
    while (now_ms() - t0 < ms) {
        nghttp2_session_send(p->h2);
        struct pollfd pf = {p->fd, POLLIN, 0};
        if (poll(&pf, 1, 20) <= 0)
            continue;
        ssize_t n = recv(p->fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
            return now_ms() - t0;
        if (n > 0)
            nghttp2_session_mem_recv(p->h2, buf, (size_t)n);
    }
    return -1;
}

/* A SayHello request with metadata of about md_bytes (three x-m headers), its body b: the
 * stream's id. */
static int32_t peer_call(peer *p, const char *path, size_t md_bytes, h2_body *b)
{
    static char value[3][8192];
    static const char *const names[3] = {"x-m0", "x-m1", "x-m2"};
    nghttp2_nv nv[9];
    size_t n = h2_grpc_headers(nv, path, "application/grpc");
    for (int i = 0; md_bytes && i < 3; i++) {
        memset(value[i], 'm', md_bytes / 3);
        value[i][md_bytes / 3] = '\0';
        nv[n++] = h2_nv(names[i], value[i]);
    }
    nghttp2_data_provider prd = {.source.ptr = b, .read_callback = h2_body_read};
    int32_t id = nghttp2_submit_request(p->h2, NULL, nv, n, &prd, NULL);
    CHECK(id > 0 && SLOT(id) < SLOTS);
    return id;
}

/* Sends and reads for ms, or until *watch (when not NULL) is want. */
static void peer_pump(peer *p, int ms, const uint32_t *watch, uint32_t want)
{
    int64_t end = now_ms() + ms;
    uint8_t buf[16384];
    while (now_ms() < end && !(watch && *watch == want)) {
        CHECK_INT(nghttp2_session_send(p->h2), 0);
        struct pollfd pf = {p->fd, POLLIN, 0};
        if (poll(&pf, 1, 20) <= 0)
            continue;
        ssize_t n = recv(p->fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n <= 0)
            return;
        CHECK((ssize_t)nghttp2_session_mem_recv(p->h2, buf, (size_t)n) == n);
    }
}

/* Until the server has read all that p sent: a PING after it, answered (the server reads a
 * connection's frames in order), however late the server's thread is scheduled. What is queued
 * goes out first: nghttp2 sends a PING before the HEADERS and DATA queued with it. */
static void peer_sync(peer *p)
{
    CHECK_INT(nghttp2_session_send(p->h2), 0);
    uint32_t want = p->pings + 1;
    CHECK_INT(nghttp2_submit_ping(p->h2, NGHTTP2_FLAG_NONE, NULL), 0);
    peer_pump(p, 5000, &p->pings, want);
    CHECK_INT(p->pings, want);
}

/* A request body the test doles out: the avail bytes at p, then (once end is set) the end of
 * the stream; after changing either, nghttp2_session_resume_data. */
typedef struct {
    const uint8_t *p;
    size_t avail;
    bool end;
} doled;

static ssize_t doled_read(nghttp2_session *s, int32_t id, uint8_t *buf, size_t len, uint32_t *flags,
                          nghttp2_data_source *src, void *u)
{
    (void)s, (void)id, (void)u;
    doled *b = src->ptr;
    if (!b->avail && !b->end)
        return NGHTTP2_ERR_DEFERRED;
    size_t n = b->avail < len ? b->avail : len;
    memcpy(buf, b->p, n);
    b->p += n;
    b->avail -= n;
    if (!b->avail && b->end)
        *flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)n;
}

/* A SayHello request, its body doled out by b: the stream's id. */
static int32_t peer_call_doled(peer *p, doled *b)
{
    nghttp2_nv nv[6];
    size_t n = h2_grpc_headers(nv, "/ratls.Greeter/SayHello", "application/grpc");
    nghttp2_data_provider prd = {.source.ptr = b, .read_callback = doled_read};
    int32_t id = nghttp2_submit_request(p->h2, NULL, nv, n, &prd, NULL);
    CHECK(id > 0 && SLOT(id) < SLOTS);
    return id;
}

/* A gRPC frame of exactly n bytes holding a HelloRequest (a name of 'a's); the caller frees it. */
static uint8_t *hello_frame(size_t n)
{
    uint8_t *f = malloc(n);
    char *name = malloc(n);
    memset(name, 'a', n);
    Ratls__HelloRequest r = RATLS__HELLO_REQUEST__INIT;
    size_t len = n - 5;
    do { /* the name's length, less its tag and length */
        name[len] = '\0';
        r.name = name;
    } while (5 + ratls__hello_request__get_packed_size(&r) > n && len--);
    CHECK_INT(5 + ratls__hello_request__get_packed_size(&r), n);
    size_t m = ratls__hello_request__pack(&r, f + 5);
    f[0] = 0;
    f[1] = (uint8_t)(m >> 24), f[2] = (uint8_t)(m >> 16), f[3] = (uint8_t)(m >> 8),
    f[4] = (uint8_t)m;
    free(name);
    return f;
}

static unsigned idle_ms; /* the next server's idle timeout (0: the default) */

/* A Greeter server of these options, serving on a thread */
static ccz_rpc_server *server_of(const ccz_rpc_server_opts *so, pthread_t *thread, char target[64])
{
    ccz_rpc_server *srv;
    CHECK_OK(ccz_rpc_server_new(&srv, so));
    CHECK_OK(ccz_rpc_server_add(srv, "/ratls.Greeter/SayHello", CCZ_RPC_UNARY,
                                &ratls__hello_request__descriptor, &ratls__hello_reply__descriptor,
                                hello, NULL));
    CHECK_OK(ccz_rpc_server_add(srv, "/test.Stream/Total", CCZ_RPC_CLIENT_STREAMING,
                                &ratls__hello_request__descriptor, &ratls__hello_reply__descriptor,
                                total, NULL));
    current = srv;
    rpc_serve(srv, thread, target);
    return srv;
}

static ccz_rpc_server *server_new(size_t max_message, size_t max_buffer, pthread_t *thread,
                                  char target[64])
{
    ccz_rpc_server_opts so = CCZ_RPC_SERVER_OPTS_INIT;
    so.idle_timeout_ms = idle_ms;
    so.max_message = max_message;
    so.max_conn_buffer = max_buffer;
    so.max_buffer = max_buffer;
    return server_of(&so, thread, target);
}

/* A server for messages of 1 KiB (a server-wide bound of 66560 bytes) and one raw peer of it. */
static ccz_rpc_server *small_server(pthread_t *thread, peer *p)
{
    signal(SIGPIPE, SIG_IGN);
    char target[64];
    ccz_rpc_server *srv = server_new(1024, 1024 + 65536, thread, target);
    peer_open(p, target);
    return srv;
}

/* Four calls whose headers carry `metadata` bytes of metadata and that never send a request:
 * they hold that much of the server-wide bound until they end. */
static void hold_four(peer *p, h2_body held[4], int32_t ids[4], size_t metadata)
{
    for (int i = 0; i < 4; i++) {
        held[i] = (h2_body){NULL, 0};
        ids[i] = peer_call(p, "/ratls.Greeter/SayHello", metadata, &held[i]);
    }
}

static void small_server_stop(ccz_rpc_server *srv, pthread_t thread, peer *p)
{
    peer_close_all(p);
    rpc_serve_stop(srv, thread, 500);
    ccz_rpc_server_free(srv);
}

static const uint8_t hello_z[] = {0, 0, 0, 0, 3, 0x0a, 0x01, 'z'};

/* Metadata counts towards the server-wide bound (here 66560 bytes, the least for messages of
 * 1 KiB): four calls that hold 15 KB each and never send their request leave no room for a
 * fifth's 15 KB; once they are cancelled, their metadata are uncounted and the next is served. */
static void test_metadata_bound(void)
{
    pthread_t thread;
    peer p;
    ccz_rpc_server *srv = small_server(&thread, &p);
    h2_body held[4];
    int32_t ids[4];
    hold_four(&p, held, ids, 15000);
    h2_body b = {hello_z, sizeof hello_z};
    int32_t fifth = peer_call(&p, "/ratls.Greeter/SayHello", 15000, &b);
    peer_until(&p, fifth, false, 3000);
    CHECK_INT(p.status[SLOT(fifth)], CCZ_RPC_RESOURCE_EXHAUSTED);
    CHECK_STR(p.message[SLOT(fifth)],
              "the request headers exceed 16384 bytes, or the server's bound");
    for (int i = 0; i < 4; i++)
        CHECK_INT(p.status[SLOT(ids[i])], -1); /* still waiting for their requests */
    /* the four cancelled: their 60 KB are the server's again */
    for (int i = 0; i < 4; i++)
        CHECK_INT(nghttp2_submit_rst_stream(p.h2, NGHTTP2_FLAG_NONE, ids[i], NGHTTP2_CANCEL), 0);
    b = (h2_body){hello_z, sizeof hello_z};
    int32_t next = peer_call(&p, "/ratls.Greeter/SayHello", 15000, &b);
    peer_until(&p, next, false, 3000);
    CHECK_INT(p.status[SLOT(next)], CCZ_RPC_OK);
    CHECK_STR(p.message[SLOT(next)], "");
    small_server_stop(srv, thread, &p);
}

/* Metadata is never shed, whichever connection holds it: four calls of an older connection
 * hold 60 KB of metadata and no request bytes; a newer connection's call with 15 KB of metadata
 * passes the bound of 66560 bytes and is refused, the older calls are kept (there is no
 * unfinished request to shed). */
static void test_metadata_other_connection(void)
{
    signal(SIGPIPE, SIG_IGN);
    pthread_t thread;
    char target[64];
    ccz_rpc_server *srv = server_new(1024, 1024 + 65536, &thread, target);
    peer p, q;
    peer_open(&p, target);
    h2_body held[4];
    int32_t ids[4];
    hold_four(&p, held, ids, 15000);
    peer_pump(&p, 300, NULL, 0); /* the four are the server's before the next connection */
    peer_open(&q, target);
    h2_body b = {hello_z, sizeof hello_z};
    int32_t other = peer_call(&q, "/ratls.Greeter/SayHello", 15000, &b);
    peer_until(&q, other, false, 3000);
    CHECK_INT(q.status[SLOT(other)], CCZ_RPC_RESOURCE_EXHAUSTED);
    CHECK_STR(q.message[SLOT(other)],
              "the request headers exceed 16384 bytes, or the server's bound");
    peer_pump(&p, 300, NULL, 0);
    for (int i = 0; i < 4; i++) {
        CHECK_INT(p.status[SLOT(ids[i])], -1); /* still waiting for their requests */
        CHECK(!p.closed[SLOT(ids[i])]);
    }
    peer_close_all(&q);
    small_server_stop(srv, thread, &p);
}

/* At the server-wide bound a new call's metadata makes room the way request data does: four
 * calls hold 60 KB of metadata (which is not shed) and a fifth 4 KiB of an unfinished message;
 * a sixth call's 3 KB of metadata pass the bound of 66560 bytes, so the unfinished request is
 * shed (RESOURCE_EXHAUSTED) and the sixth is served, not refused. */
static void test_metadata_sheds_request(void)
{
    pthread_t thread;
    peer p;
    ccz_rpc_server *srv = small_server(&thread, &p);
    h2_body held[4];
    int32_t ids[4];
    hold_four(&p, held, ids, 15000);
    uint8_t *f = hello_frame(1029);
    doled part = {f, 1000, false};
    int32_t big = peer_call_doled(&p, &part);
    peer_pump(&p, 300, NULL, 0); /* its 1000 bytes are sent before the next call's headers */
    CHECK_INT(p.status[SLOT(big)], -1);
    h2_body b = {hello_z, sizeof hello_z};
    int32_t next = peer_call(&p, "/ratls.Greeter/SayHello", 3000, &b);
    peer_until(&p, next, false, 3000);
    CHECK_INT(p.status[SLOT(next)], CCZ_RPC_OK);
    CHECK_STR(p.message[SLOT(next)], "");
    peer_until(&p, big, false, 3000);
    CHECK_INT(p.status[SLOT(big)], CCZ_RPC_RESOURCE_EXHAUSTED);
    CHECK_STR(p.message[SLOT(big)], "the server holds too many request bytes (66560 bytes): the "
                                    "largest unfinished request was shed");
    for (int i = 0; i < 4; i++)
        CHECK_INT(p.status[SLOT(ids[i])], -1); /* still waiting for their requests */
    free(f);
    small_server_stop(srv, thread, &p);
}

/* At the server-wide bound the largest unfinished request is the one shed, not a smaller one:
 * with a bound of 81920 bytes, four calls hold 60 KB of metadata, one call 12000 bytes of a
 * 16389-byte message (a buffer of 12288) and another 1000 bytes of a 1029-byte one (4096); a
 * sixth call's 15 KB of metadata pass the bound, and shedding the larger request makes room
 * enough: the smaller is kept, and answered once its message is complete. */
static void test_largest_shed(void)
{
    signal(SIGPIPE, SIG_IGN);
    pthread_t thread;
    char target[64];
    ccz_rpc_server *srv = server_new(16384, 16384 + 65536, &thread, target);
    peer p;
    peer_open(&p, target);
    h2_body held[4];
    int32_t ids[4];
    hold_four(&p, held, ids, 15000);
    uint8_t *fa = hello_frame(16389), *fb = hello_frame(1029);
    doled a = {fa, 12000, false}, b = {fb, 1000, false};
    int32_t big = peer_call_doled(&p, &a), small = peer_call_doled(&p, &b);
    peer_pump(&p, 300, NULL, 0); /* their bytes are sent before the next call's headers */
    CHECK_INT(p.status[SLOT(big)], -1);
    CHECK_INT(p.status[SLOT(small)], -1);
    h2_body h = {hello_z, sizeof hello_z};
    int32_t next = peer_call(&p, "/ratls.Greeter/SayHello", 15000, &h);
    peer_until(&p, next, false, 3000);
    CHECK_INT(p.status[SLOT(next)], CCZ_RPC_OK);
    peer_until(&p, big, false, 3000);
    CHECK_INT(p.status[SLOT(big)], CCZ_RPC_RESOURCE_EXHAUSTED);
    CHECK_INT(p.status[SLOT(small)], -1); /* kept */
    b.avail = 29;
    b.end = true;
    CHECK_INT(nghttp2_session_resume_data(p.h2, small), 0);
    peer_until(&p, small, false, 3000);
    CHECK_INT(p.status[SLOT(small)], CCZ_RPC_OK);
    CHECK_STR(p.message[SLOT(small)], "");
    free(fa);
    free(fb);
    peer_close_all(&p);
    rpc_serve_stop(srv, thread, 500);
    ccz_rpc_server_free(srv);
}

/* Held request bytes exactly at the server-wide bound are within it: four calls hold 58368
 * bytes of metadata (3 x (4 + 4860) each) and two a page (4096 bytes) each for the first 1000
 * bytes of a 1029-byte message, 66560 in all, the bound: neither is shed, and both are
 * answered once their messages are complete. */
static void test_held_at_bound(void)
{
    pthread_t thread;
    peer p;
    ccz_rpc_server *srv = small_server(&thread, &p);
    h2_body held[4];
    int32_t holding[4];
    hold_four(&p, held, holding, 3 * 4860);
    uint8_t *f = hello_frame(1029);
    doled part[2];
    int32_t ids[2];
    for (int i = 0; i < 2; i++) {
        part[i] = (doled){f, 1000, false};
        ids[i] = peer_call_doled(&p, &part[i]);
    }
    peer_pump(&p, 300, NULL, 0);
    for (int i = 0; i < 2; i++) {
        CHECK_INT(p.status[SLOT(ids[i])], -1); /* not shed */
        part[i].avail = 29;
        part[i].end = true;
        CHECK_INT(nghttp2_session_resume_data(p.h2, ids[i]), 0);
    }
    for (int i = 0; i < 2; i++) {
        peer_until(&p, ids[i], false, 3000);
        CHECK_INT(p.status[SLOT(ids[i])], CCZ_RPC_OK);
        CHECK_STR(p.message[SLOT(ids[i])], "");
    }
    free(f);
    small_server_stop(srv, thread, &p);
}

/* A server of 64 KiB messages, a connection's bound of two (its window) and a server-wide bound
 * of 1 MiB, far. */
static ccz_rpc_server *window_server(pthread_t *thread, char *target)
{
    signal(SIGPIPE, SIG_IGN);
    ccz_rpc_server_opts so = CCZ_RPC_SERVER_OPTS_INIT;
    so.max_message = 65536;
    so.max_conn_buffer = 65536 + 65536;
    so.max_buffer = 1u << 20;
    return server_of(&so, thread, target);
}

/* A connection's unfinished requests may fill its window (131072 bytes for messages of 64 KiB)
 * up to a credit step and a frame (32768 bytes) short of it, not further: three calls holding
 * 98304 bytes between them are kept, one byte more and the largest is shed (the server-wide
 * bound, 1 MiB here, is far). */
static void test_conn_window_margin(void)
{
    pthread_t thread;
    char target[64];
    ccz_rpc_server *srv = window_server(&thread, target);
    peer p;
    peer_open(&p, target);
    uint8_t *f = hello_frame(65541);
    doled a = {f, 65000, false}, b = {f, 16652, false}, c = {f, 16652, false};
    int32_t big = peer_call_doled(&p, &a), small = peer_call_doled(&p, &b),
            other = peer_call_doled(&p, &c);
    peer_pump(&p, 300, NULL, 0);
    CHECK_INT(p.status[SLOT(big)], -1); /* 98304 bytes held: within the margin */
    CHECK_INT(p.status[SLOT(small)], -1);
    CHECK_INT(p.status[SLOT(other)], -1);
    c.avail = 1;
    CHECK_INT(nghttp2_session_resume_data(p.h2, other), 0);
    peer_until(&p, big, false, 3000);
    CHECK_INT(p.status[SLOT(big)], CCZ_RPC_RESOURCE_EXHAUSTED);
    CHECK_STR(p.message[SLOT(big)], "the connection's window is full of unfinished requests "
                                    "(131072 bytes): the largest unfinished request was shed");
    CHECK_INT(p.status[SLOT(small)], -1); /* kept */
    CHECK_INT(p.status[SLOT(other)], -1);
    free(f);
    peer_close_all(&p);
    rpc_serve_stop(srv, thread, 500);
    ccz_rpc_server_free(srv);
}

/* A connection's bound sheds that connection's own calls, never another's: connections a and
 * c (opened before and after b) each hold a larger unfinished request (65000 bytes, a heap
 * buffer of 112 KiB) than any of b's (the largest 50000 bytes, 100 KiB); b's three pass its
 * window's margin (98305 bytes), and b's largest is shed while a's and c's are kept and
 * answered once complete. */
static void test_conn_bound_own_calls(void)
{
    pthread_t thread;
    char target[64];
    ccz_rpc_server *srv = window_server(&thread, target);
    uint8_t *f = hello_frame(65541);
    peer a, b, c;
    peer_open(&a, target);
    peer_open(&b, target);
    peer_open(&c, target);
    doled da = {f, 65000, false}, dc = {f, 65000, false};
    int32_t ia = peer_call_doled(&a, &da), ic = peer_call_doled(&c, &dc);
    peer_pump(&a, 150, NULL, 0);
    peer_pump(&c, 150, NULL, 0);
    doled d[3] = {{f, 50000, false}, {f, 24152, false}, {f, 24152, false}};
    int32_t ids[3];
    for (int i = 0; i < 3; i++)
        ids[i] = peer_call_doled(&b, &d[i]);
    peer_pump(&b, 300, NULL, 0);
    for (int i = 0; i < 3; i++)
        CHECK_INT(b.status[SLOT(ids[i])], -1); /* 98304 bytes: within the margin */
    d[2].avail = 1;
    CHECK_INT(nghttp2_session_resume_data(b.h2, ids[2]), 0);
    peer_until(&b, ids[0], false, 3000);
    CHECK_INT(b.status[SLOT(ids[0])], CCZ_RPC_RESOURCE_EXHAUSTED);
    CHECK_INT(b.status[SLOT(ids[1])], -1);
    peer *other[2] = {&a, &c};
    doled *od[2] = {&da, &dc};
    int32_t oid[2] = {ia, ic};
    for (int i = 0; i < 2; i++) {
        peer_pump(other[i], 50, NULL, 0);
        CHECK_INT(other[i]->status[SLOT(oid[i])], -1); /* kept */
        od[i]->avail = 541;
        od[i]->end = true;
        CHECK_INT(nghttp2_session_resume_data(other[i]->h2, oid[i]), 0);
        peer_until(other[i], oid[i], false, 3000);
        CHECK_INT(other[i]->status[SLOT(oid[i])], CCZ_RPC_OK);
    }
    free(f);
    peer_close_all(&a);
    peer_close_all(&b);
    peer_close_all(&c);
    rpc_serve_stop(srv, thread, 500);
    ccz_rpc_server_free(srv);
}

/* Shutting down tells a connected client with GOAWAY NO_ERROR (a graceful end, not an error),
 * and a server left without connections (its last one closed, or none ever) stops at once,
 * not at the end of its grace time (3 s here). */
static void test_shutdown_goaway(void)
{
    pthread_t thread;
    peer p;
    ccz_rpc_server *srv = small_server(&thread, &p);
    h2_body b = {hello_z, sizeof hello_z};
    int32_t id = peer_call(&p, "/ratls.Greeter/SayHello", 0, &b);
    peer_until(&p, id, false, 2000);
    CHECK_INT(p.status[SLOT(id)], CCZ_RPC_OK);
    ccz_rpc_server_shutdown(srv, 3000);
    int64_t closed = peer_until_eof(&p, now_ms(), 2000);
    CHECK(p.goaway);
    CHECK_INT(p.goaway_error, NGHTTP2_NO_ERROR);
    CHECK(closed >= 0 && closed < 1500); /* the connection is closed with its last call over */
    int64_t t0 = now_ms();
    pthread_join(thread, NULL);
    CHECK(now_ms() - t0 < 1500);
    peer_close_all(&p);
    ccz_rpc_server_free(srv);
    /* a server no client ever reached */
    char target[64];
    srv = server_new(1024, 1024 + 65536, &thread, target);
    t0 = now_ms();
    rpc_serve_stop(srv, thread, 3000);
    CHECK(now_ms() - t0 < 1500);
    ccz_rpc_server_free(srv);
}

/* Request bytes leave the server-wide count as their messages are consumed: one client stream
 * sends 48 messages back to back, 12 MiB in all, through a server whose bound is 320 KiB (the
 * least for messages of 256 KiB), alternating messages of 256 KiB (received into a reserved
 * buffer, their next message's first bytes moved to a heap buffer of their own) and of 261995
 * bytes (below the reserved buffers' size: a heap buffer grown by doubling, its last growth
 * capped at a message and a frame, 276 KiB, where doubling would hold about 500 KiB). None is shed, and the count is back to nothing: two
 * calls on a new connection, each with a message of 256 KiB, are answered after it. */
static void test_stream_over_bound(void)
{
    signal(SIGPIPE, SIG_IGN);
    pthread_t thread;
    char target[64];
    ccz_rpc_server *srv = server_new(262144, 262144 + 65536, &thread, target);
    enum { N = 48 };
    const size_t sizes[2] = {262149, 262000}; /* frames: prefix and message */
    size_t total_len = 0, names = 0;
    for (int i = 0; i < N; i++)
        total_len += sizes[i % 2];
    uint8_t *body = malloc(total_len), *at = body;
    for (int i = 0; i < N; i++) {
        uint8_t *f = hello_frame(sizes[i % 2]);
        memcpy(at, f, sizes[i % 2]);
        at += sizes[i % 2];
        names += sizes[i % 2] - 9; /* less the prefix, the tag and 3 bytes of length */
        free(f);
    }
    peer p;
    peer_open(&p, target);
    h2_body b = {body, total_len};
    int32_t id = peer_call(&p, "/test.Stream/Total", 0, &b);
    peer_until(&p, id, false, 20000);
    CHECK_INT(p.status[SLOT(id)], CCZ_RPC_OK);
    char want[64];
    snprintf(want, sizeof want, "%d/%zu", N, names);
    CHECK_STR(p.message[SLOT(id)], want);
    peer_close_all(&p);
    /* later calls, on a connection of their own, still have the whole bound */
    uint8_t *f = hello_frame(262149);
    peer_open(&p, target);
    for (int i = 0; i < 2; i++) {
        h2_body one = {f, 262149};
        id = peer_call(&p, "/test.Stream/Total", 0, &one);
        peer_until(&p, id, false, 5000);
        CHECK_INT(p.status[SLOT(id)], CCZ_RPC_OK);
        CHECK_STR(p.message[SLOT(id)], "1/262140");
    }
    free(f);
    free(body);
    peer_close_all(&p);
    rpc_serve_stop(srv, thread, 500);
    ccz_rpc_server_free(srv);
}

/* A request buffer much larger than what it still holds is given back: one stream's message of
 * 261995 bytes grew its heap buffer to 276 KiB, and the 100 bytes of its next message that came
 * with its end leave a page charged, not 276 KiB; so a 256 KiB message on another connection
 * fits the server-wide bound (320 KiB) beside it, and neither call is shed. */
static void test_buffer_shrunk(void)
{
    signal(SIGPIPE, SIG_IGN);
    pthread_t thread;
    char target[64];
    ccz_rpc_server *srv = server_new(262144, 262144 + 65536, &thread, target);
    uint8_t *body = malloc(262000 + 262149), *big = hello_frame(262149);
    uint8_t *f = hello_frame(262000);
    memcpy(body, f, 262000);
    memcpy(body + 262000, big, 262149);
    free(f);
    peer p, q;
    peer_open(&p, target);
    peer_open(&q, target);
    doled d = {body, 262000 + 100, false};
    nghttp2_nv nv[6];
    size_t n = h2_grpc_headers(nv, "/test.Stream/Total", "application/grpc");
    nghttp2_data_provider prd = {.source.ptr = &d, .read_callback = doled_read};
    int32_t held = nghttp2_submit_request(p.h2, NULL, nv, n, &prd, NULL);
    CHECK_INT(held, 1);
    /* the first message is consumed (credited back), its buffer shrunk: however long the
     * server's thread takes to be scheduled */
    for (int64_t end = now_ms() + 5000; p.credit_conn < 262000 - 16384 && now_ms() < end;)
        peer_pump(&p, 20, NULL, 0);
    CHECK(p.credit_conn >= 262000 - 16384);
    h2_body b = {big, 262149};
    int32_t id = peer_call(&q, "/test.Stream/Total", 0, &b);
    peer_until(&q, id, false, 3000);
    CHECK_INT(q.status[SLOT(id)], CCZ_RPC_OK);
    CHECK_STR(q.message[SLOT(id)], "1/262140");
    peer_pump(&p, 50, NULL, 0);
    CHECK_INT(p.status[SLOT(held)], -1); /* not shed */
    d.avail = 262149 - 100;
    d.end = true;
    CHECK_INT(nghttp2_session_resume_data(p.h2, held), 0);
    peer_until(&p, held, false, 3000);
    CHECK_INT(p.status[SLOT(held)], CCZ_RPC_OK);
    CHECK_STR(p.message[SLOT(held)], "2/524131");
    free(big);
    free(body);
    peer_close_all(&p);
    peer_close_all(&q);
    rpc_serve_stop(srv, thread, 500);
    ccz_rpc_server_free(srv);
}

/* A graceful shutdown with calls in flight on two connections: both clients get GOAWAY
 * NO_ERROR naming their calls as processed (before any call ends); one connection's call is
 * answered by its handler 200 ms on, and that connection closes; the other's request is not
 * complete yet, and the server keeps serving it (its loop runs on) until the client sends the
 * rest: it is answered, its connection closed, and only then the loop ends, well before the
 * end of its grace time (5 s). */
static void test_shutdown_two_connections(void)
{
    pthread_t thread;
    char target[64];
    ccz_rpc_server *srv = server_new(1024, 1024 + 65536, &thread, target);
    signal(SIGPIPE, SIG_IGN);
    memset(&late, 0, sizeof late);
    peer p, q;
    peer_open(&p, target);
    peer_open(&q, target);
    static const uint8_t hello_later[] = {0, 0, 0, 0, 7, 0x0a, 0x05, 'l', 'a', 't', 'e', 'r'};
    h2_body b = {hello_later, sizeof hello_later};
    int32_t pid = peer_call(&p, "/ratls.Greeter/SayHello", 0, &b);
    doled d = {hello_z, 3, false};
    int32_t qid = peer_call_doled(&q, &d);
    peer_sync(&p); /* both calls read before the shutdown, not only sent */
    peer_sync(&q);
    ccz_rpc_server_shutdown(srv, 5000); /* p's call is answered 200 ms after it came */
    for (int64_t end = now_ms() + 3000; !q.goaway && now_ms() < end;)
        peer_pump(&q, 20, NULL, 0);
    CHECK(q.goaway); /* while its call is in flight */
    CHECK_INT(q.goaway_error, NGHTTP2_NO_ERROR);
    CHECK_INT(q.status[SLOT(qid)], -1);
    CHECK(!q.closed[SLOT(qid)]);
    int64_t closed = peer_until_eof(&p, now_ms(), 2000);
    CHECK(p.goaway);
    CHECK_INT(p.goaway_error, NGHTTP2_NO_ERROR);
    CHECK_INT(p.status[SLOT(pid)], CCZ_RPC_OK); /* answered, then its connection closed */
    CHECK(closed >= 0);
    CHECK(atomic_load(&late.done));
    CHECK_OK(late.finish);
    peer_pump(&q, 200, NULL, 0);
    CHECK_INT(q.status[SLOT(qid)], -1); /* still in flight, its connection served */
    d.p = hello_z + 3;
    d.avail = sizeof hello_z - 3;
    d.end = true;
    CHECK_INT(nghttp2_session_resume_data(q.h2, qid), 0);
    peer_until(&q, qid, false, 2000);
    CHECK_INT(q.status[SLOT(qid)], CCZ_RPC_OK);
    closed = peer_until_eof(&q, now_ms(), 4000);
    CHECK(closed >= 0 && closed < 3000); /* not at the end of the grace time (5 s) */
    int64_t t0 = now_ms();
    pthread_join(thread, NULL);
    CHECK(now_ms() - t0 < 3000);
    peer_close_all(&p);
    peer_close_all(&q);
    ccz_rpc_server_free(srv);
    memset(&late, 0, sizeof late); /* for the next test's late answer */
}

/* A message's length prefix is read anew for each message: a DATA frame with a whole message
 * of 1029 bytes and the first 3 bytes of an 8-byte one, then a frame with the rest, makes the
 * second message whole (here one too many on a unary call), not one that waits for 1029
 * bytes. */
static void test_second_prefix(void)
{
    pthread_t thread;
    peer p;
    ccz_rpc_server *srv = small_server(&thread, &p);
    uint8_t two[1029 + sizeof hello_z];
    uint8_t *f = hello_frame(1029);
    memcpy(two, f, 1029);
    memcpy(two + 1029, hello_z, sizeof hello_z);
    free(f);
    doled b = {two, 1029 + 3, false};
    int32_t id = peer_call_doled(&p, &b);
    peer_pump(&p, 300, NULL, 0);
    CHECK_INT(p.status[SLOT(id)], -1);
    b.avail = sizeof hello_z - 3;
    b.end = true;
    CHECK_INT(nghttp2_session_resume_data(p.h2, id), 0);
    peer_until(&p, id, false, 3000);
    CHECK_INT(p.status[SLOT(id)], CCZ_RPC_UNIMPLEMENTED);
    CHECK_STR(p.message[SLOT(id)], "more than one request message on a unary call");
    small_server_stop(srv, thread, &p);
}

/* A call the server ends before its client has finished sending (an unknown method; its stream
 * left open by the client) is reset with NO_ERROR once its status is out, as gRPC does; one
 * whose client had finished is not. */
static void test_early_end_reset(void)
{
    pthread_t thread;
    peer p;
    ccz_rpc_server *srv = small_server(&thread, &p);
    h2_body open_body = {NULL, 0};
    int32_t id = peer_call(&p, "/ratls.Greeter/Nothing", 0, &open_body);
    peer_until(&p, id, true, 2000);
    CHECK_INT(p.status[SLOT(id)], CCZ_RPC_UNIMPLEMENTED);
    CHECK_STR(p.message[SLOT(id)], "unknown method /ratls.Greeter/Nothing");
    CHECK(p.closed[SLOT(id)]);
    CHECK_INT(p.error[SLOT(id)], NGHTTP2_NO_ERROR);
    h2_body b = {hello_z, sizeof hello_z};
    id = peer_call(&p, "/ratls.Greeter/Nothing", 0, &b);
    peer_until(&p, id, true, 2000);
    CHECK_INT(p.status[SLOT(id)], CCZ_RPC_UNIMPLEMENTED);
    CHECK(p.closed[SLOT(id)]);
    CHECK_INT(p.error[SLOT(id)], NGHTTP2_NO_ERROR);
    small_server_stop(srv, thread, &p);
}

/* A call its client cancels (RST_STREAM) after its request, while the handler holds it for a
 * later answer: the answer finds it over, and sending or finishing it is refused. */
static void test_cancelled_call(void)
{
    pthread_t thread;
    peer p;
    ccz_rpc_server *srv = small_server(&thread, &p);
    static const uint8_t later[] = {0, 0, 0, 0, 7, 0x0a, 0x05, 'l', 'a', 't', 'e', 'r'};
    h2_body b = {later, sizeof later};
    int32_t id = peer_call(&p, "/ratls.Greeter/SayHello", 0, &b);
    peer_until(&p, id, true, 100); /* the request goes out; nothing comes back yet */
    CHECK(!p.closed[SLOT(id)]);
    CHECK_INT(nghttp2_submit_rst_stream(p.h2, NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL), 0);
    peer_until(&p, id, true, 1000);
    CHECK(p.closed[SLOT(id)]);
    for (int i = 0; i < 200 && !atomic_load(&late.done); i++)
        usleep(10000);
    CHECK(atomic_load(&late.done));
    CHECK(!late.alive);
    CHECK_STATUS(late.send, CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(late.send_why,
              "the call is over (finished, cancelled, past its deadline or disconnected)");
    CHECK_STATUS(late.send_packed, CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(late.finish, CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(late.finish_why, "the call is over (cancelled, past its deadline or disconnected)");
    CHECK_INT(p.status[SLOT(id)], -1); /* nothing was sent for it */
    /* the connection serves the next call */
    b = (h2_body){hello_z, sizeof hello_z};
    id = peer_call(&p, "/ratls.Greeter/SayHello", 0, &b);
    peer_until(&p, id, false, 2000);
    CHECK_INT(p.status[SLOT(id)], CCZ_RPC_OK);
    small_server_stop(srv, thread, &p);
}

/* A status that cannot be sent (the handler's 70 trailers are more headers than a response
 * takes): finishing fails, and the stream is reset rather than left open, the client waiting
 * for an answer that never comes. */
static void test_unsendable_status(void)
{
    pthread_t thread;
    peer p;
    ccz_rpc_server *srv = small_server(&thread, &p);
    static const uint8_t trailers[] = {0,   0,   0,   0,   10,  0x0a, 0x08, 't',
                                       'r', 'a', 'i', 'l', 'e', 'r',  's'};
    h2_body b = {trailers, sizeof trailers};
    int32_t id = peer_call(&p, "/ratls.Greeter/SayHello", 0, &b);
    peer_until(&p, id, true, 2000);
    CHECK(p.closed[SLOT(id)]);
    CHECK_INT(p.error[SLOT(id)], NGHTTP2_INTERNAL_ERROR);
    CHECK_INT(p.status[SLOT(id)], -1);
    CHECK_STATUS(too_many, CCZ_ERR_TOO_LARGE);
    /* the same trailers after a message: the message comes, then the reset */
    static const uint8_t sent[] = {0,   0,   0,   0,   15,  0x0a, 0x0d, 's', 'e', 'n',
                                   't', '-', 't', 'r', 'a', 'i',  'l',  'e', 'r', 's'};
    b = (h2_body){sent, sizeof sent};
    id = peer_call(&p, "/ratls.Greeter/SayHello", 0, &b);
    peer_until(&p, id, true, 2000);
    CHECK(p.closed[SLOT(id)]);
    CHECK_INT(p.error[SLOT(id)], NGHTTP2_INTERNAL_ERROR);
    CHECK_INT(p.status[SLOT(id)], -1);
    b = (h2_body){hello_z, sizeof hello_z};
    id = peer_call(&p, "/ratls.Greeter/SayHello", 0, &b);
    peer_until(&p, id, false, 2000);
    CHECK_INT(p.status[SLOT(id)], CCZ_RPC_OK);
    small_server_stop(srv, thread, &p);
}

/* A client that never opens its stream window (SETTINGS_INITIAL_WINDOW_SIZE 0) cannot hold
 * its answer, and the stream, in the server for good: an answer none of whose bytes the
 * connection could take for the idle timeout (300 ms) is reset (RST_STREAM CANCEL). */
static void test_zero_window_stall(void)
{
    signal(SIGPIPE, SIG_IGN);
    pthread_t thread;
    char target[64];
    idle_ms = 300;
    ccz_rpc_server *srv = server_new(1024, 1024 + 65536, &thread, target);
    idle_ms = 0;
    peer p;
    peer_open(&p, target);
    nghttp2_session_del(p.h2);
    const nghttp2_settings_entry iv[] = {{NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 0}};
    p.h2 = h2_client_new(&peer_callbacks, &p, iv, 1);
    h2_body b = {hello_z, sizeof hello_z};
    int32_t id = peer_call(&p, "/ratls.Greeter/SayHello", 0, &b);
    int64_t start = now_ms();
    peer_until(&p, id, true, 2000);
    CHECK(p.closed[SLOT(id)]);
    CHECK_INT(p.error[SLOT(id)], NGHTTP2_CANCEL);
    CHECK_INT(p.status[SLOT(id)], -1); /* its status never went out */
    CHECK(now_ms() - start >= 250);
    /* the stall counts from the first byte that waits, not the last queued: a handler that
     * keeps queueing messages (one every 100 ms for 1.2 s) does not keep the stream */
    static const uint8_t drip[] = {0, 0, 0, 0, 6, 0x0a, 0x04, 'd', 'r', 'i', 'p'};
    h2_body d = {drip, sizeof drip};
    atomic_store(&drips, 0);
    id = peer_call(&p, "/ratls.Greeter/SayHello", 0, &d);
    peer_until(&p, id, true, 3000);
    CHECK(p.closed[SLOT(id)]);
    CHECK_INT(p.error[SLOT(id)], NGHTTP2_CANCEL);
    CHECK_INT(p.status[SLOT(id)], -1);
    /* reset before the handler's last message (at 300 to 600 ms; counted from the last queued
     * it would come after all twelve): the drips tell it on a loaded machine, not the clock */
    CHECK(atomic_load(&drips) < 12);
    peer_close_all(&p);
    rpc_serve_stop(srv, thread, 500);
    ccz_rpc_server_free(srv);
}

/* The idle timeout is kept, not merely eventually: a request that sends its headers and then
 * nothing is cancelled at the idle time (1 s here), not at twice it, and the connection, then
 * without calls, is closed about one idle time later (not two). The upper bounds leave 0.9 s
 * for a loaded machine. */
/* One stalled call on a server with a 1 s idle timeout: when it was cancelled and when the
 * connection closed, in ms from the call's start. */
static void idle_run(int64_t *cancelled, int64_t *closed)
{
    pthread_t thread;
    char target[64];
    idle_ms = 1000;
    ccz_rpc_server *srv = server_new(1024, 1024 + 65536, &thread, target);
    idle_ms = 0;
    peer p;
    peer_open(&p, target);
    h2_body b = {NULL, 0}; /* no bytes, ever: the stream stays open */
    int32_t id = peer_call(&p, "/ratls.Greeter/SayHello", 0, &b);
    int64_t t0 = now_ms();
    peer_until(&p, id, false, 4000);
    *cancelled = now_ms() - t0;
    CHECK_INT(p.status[SLOT(id)], CCZ_RPC_CANCELLED);
    CHECK_STR(p.message[SLOT(id)], "the request made no progress for 1000 ms");
    *closed = peer_until_eof(&p, t0, 5000);
    peer_close_all(&p);
    rpc_serve_stop(srv, thread, 500);
    ccz_rpc_server_free(srv);
}

/* The stalled call is cancelled after 1 s, not 2, and the connection then closed after its own
 * idle second. A loaded machine can delay either by most of a second, so a run outside the
 * bounds is tried once more: twice the timeout misses them every time. */
static void test_idle_timely(void)
{
    signal(SIGPIPE, SIG_IGN);
    int64_t cancelled, closed;
    idle_run(&cancelled, &closed);
    if (!(cancelled >= 950 && cancelled < 1900 && closed >= 1400 && closed < 2900)) {
        fprintf(stderr, "idle_timely: cancelled at %lld ms, closed at %lld ms; once more\n",
                (long long)cancelled, (long long)closed);
        idle_run(&cancelled, &closed);
    }
    CHECK(cancelled >= 950 && cancelled < 1900);
    CHECK(closed >= 1400 && closed < 2900);
}

/* An idle connection is closed one idle time after its last call ended, not after the idle
 * check that found it busy or too recent plus a whole idle time: a call answered 300 ms into
 * a connection with a 1 s idle timeout leaves it idle from then, so the check at 1 s waits
 * only the 300 ms left and the connection goes at about 1.3 s (2 s if it waited a whole idle
 * time again). Returns when it closed, in ms from its opening. */
static int64_t idle_after_call_run(void)
{
    pthread_t thread;
    char target[64];
    idle_ms = 1000;
    ccz_rpc_server *srv = server_new(1024, 1024 + 65536, &thread, target);
    idle_ms = 0;
    peer p;
    int64_t t0 = now_ms();
    peer_open(&p, target);
    usleep(300 * 1000);
    h2_body b = {hello_z, sizeof hello_z};
    int32_t id = peer_call(&p, "/ratls.Greeter/SayHello", 0, &b);
    peer_until(&p, id, false, 2000);
    CHECK_INT(p.status[SLOT(id)], CCZ_RPC_OK);
    int64_t closed = peer_until_eof(&p, t0, 5000);
    peer_close_all(&p);
    rpc_serve_stop(srv, thread, 500);
    ccz_rpc_server_free(srv);
    return closed;
}

static void test_idle_after_call(void)
{
    signal(SIGPIPE, SIG_IGN);
    int64_t closed = idle_after_call_run();
    if (!(closed >= 1250 && closed < 1800)) {
        fprintf(stderr, "idle_after_call: closed at %lld ms; once more\n", (long long)closed);
        closed = idle_after_call_run();
    }
    CHECK(closed >= 1250 && closed < 1800);
}

/* A handler's misuse of its call is refused with what was wrong: a header once the headers
 * went out, a trailer or a second status once the call is finished (the client gets the
 * first status). */
static void test_call_misuse(void)
{
    pthread_t thread;
    peer p;
    ccz_rpc_server *srv = small_server(&thread, &p);
    static const uint8_t req[] = {0, 0, 0, 0, 8, 0x0a, 0x06, 'm', 'i', 's', 'u', 's', 'e'};
    h2_body b = {req, sizeof req};
    int32_t id = peer_call(&p, "/ratls.Greeter/SayHello", 0, &b);
    peer_until(&p, id, false, 2000);
    CHECK_INT(p.status[SLOT(id)], CCZ_RPC_OK);
    CHECK_STATUS(misuse.header, CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(misuse.header_why, "headers were sent already");
    CHECK_STATUS(misuse.trailer, CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(misuse.trailer_why, "the call is finished");
    CHECK_STATUS(misuse.finish, CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(misuse.finish_why, "the call is finished already");
    CHECK(misuse.alive_before);
    CHECK(!misuse.alive_after); /* a finished call is over for its handler */
    CHECK_STATUS(misuse.send, CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(misuse.send_why,
              "the call is over (finished, cancelled, past its deadline or disconnected)");
    small_server_stop(srv, thread, &p);
}

/* Registering a method without a /package.Service/Method path (or of 256 characters or more),
 * or one registered already, is refused; so is running a server that listens nowhere. Options
 * of version 2 are read (a max_conn_buffer too small for a message is refused); version 1 has
 * no such field, so the same options are taken. */
static void test_server_setup_refused(void)
{
    ccz_rpc_server_opts so = CCZ_RPC_SERVER_OPTS_INIT;
    ccz_rpc_server *srv = NULL;
    CHECK_OK(ccz_rpc_server_new(&srv, &so));
    if (!srv)
        return;
    const ProtobufCMessageDescriptor *in = &ratls__hello_request__descriptor,
                                     *out = &ratls__hello_reply__descriptor;
    CHECK_STATUS(
        ccz_rpc_server_add(srv, "ratls.Greeter/SayHello", CCZ_RPC_UNARY, in, out, hello, NULL),
        CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(),
              "a method needs a /package.Service/Method path, message types and a handler");
    char path[257];
    path[0] = '/';
    memset(path + 1, 'm', 255);
    path[256] = '\0';
    CHECK_STATUS(ccz_rpc_server_add(srv, path, CCZ_RPC_UNARY, in, out, hello, NULL),
                 CCZ_ERR_INVALID_ARGUMENT);
    path[255] = '\0'; /* 255 characters: taken */
    CHECK_OK(ccz_rpc_server_add(srv, path, CCZ_RPC_UNARY, in, out, hello, NULL));
    CHECK_STATUS(
        ccz_rpc_server_add(srv, "/ratls.Greeter/SayHello", CCZ_RPC_UNARY, in, out, NULL, NULL),
        CCZ_ERR_INVALID_ARGUMENT);
    CHECK_OK(
        ccz_rpc_server_add(srv, "/ratls.Greeter/SayHello", CCZ_RPC_UNARY, in, out, hello, NULL));
    CHECK_STATUS(
        ccz_rpc_server_add(srv, "/ratls.Greeter/SayHello", CCZ_RPC_UNARY, in, out, hello, NULL),
        CCZ_ERR_EXISTS);
    CHECK_STR(ccz_error_detail(), "method /ratls.Greeter/SayHello is registered already");
    CHECK_STATUS(ccz_rpc_server_run(srv), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "the server listens nowhere");
    ccz_rpc_server_free(srv);
    so.version = 2;
    so.max_conn_buffer = 1000;
    srv = NULL;
    CHECK_STATUS(ccz_rpc_server_new(&srv, &so), CCZ_ERR_INVALID_ARGUMENT);
    CHECK(srv == NULL);
    CHECK_CONTAINS(ccz_error_detail(), "max_conn_buffer must hold a message and two frames");
    so.version = 1;
    CHECK_OK(ccz_rpc_server_new(&srv, &so));
    ccz_rpc_server_free(srv);
}

/* Rapid reset (CVE-2023-44487): a client that opens streams and resets them at once, in a
 * loop, has its connection ended (GOAWAY, then closed) rather than having the server start a
 * call for each for ever; nghttp2's limit on resets (a burst of 1000) is what holds it. */
static void test_rapid_reset(void)
{
    signal(SIGPIPE, SIG_IGN);
    pthread_t thread;
    char target[64];
    ccz_rpc_server *srv = server_new(1024, 1024 + 65536, &thread, target);
    peer p;
    peer_open(&p, target);
    bool ended = false;
    uint8_t buf[16384];
    for (int i = 0; i < 3000 && !ended; i++) {
        h2_body held = {NULL, 0};
        nghttp2_nv nv[6];
        size_t n = h2_grpc_headers(nv, "/ratls.Greeter/SayHello", "application/grpc");
        nghttp2_data_provider prd = {.source.ptr = &held, .read_callback = h2_body_read};
        int32_t id = nghttp2_submit_request(p.h2, NULL, nv, n, &prd, NULL);
        /* the HEADERS go out first: a stream reset before they did is never sent at all */
        if (id < 0 || nghttp2_session_send(p.h2) != 0 ||
            nghttp2_submit_rst_stream(p.h2, NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL) != 0 ||
            nghttp2_session_send(p.h2) != 0)
            break; /* the session has seen the server's GOAWAY */
        ssize_t r;
        while ((r = recv(p.fd, buf, sizeof buf, MSG_DONTWAIT)) > 0)
            if (nghttp2_session_mem_recv(p.h2, buf, (size_t)r) < 0)
                break;
        ended = r == 0 || !nghttp2_session_want_read(p.h2);
    }
    for (int64_t end = now_ms() + 2000; !ended && now_ms() < end;) {
        struct pollfd pf = {p.fd, POLLIN, 0};
        if (poll(&pf, 1, 20) <= 0)
            continue;
        ssize_t r = recv(p.fd, buf, sizeof buf, 0);
        ended = r <= 0;
        if (r > 0)
            (void)nghttp2_session_mem_recv(p.h2, buf, (size_t)r);
        ended |= !nghttp2_session_want_read(p.h2);
    }
    CHECK(ended);
    peer_close_all(&p);
    /* the server still serves others */
    peer_open(&p, target);
    h2_body b = {hello_z, sizeof hello_z};
    int32_t id = peer_call(&p, "/ratls.Greeter/SayHello", 0, &b);
    peer_until(&p, id, false, 2000);
    CHECK_INT(p.status[SLOT(id)], CCZ_RPC_OK);
    peer_close_all(&p);
    rpc_serve_stop(srv, thread, 500);
    ccz_rpc_server_free(srv);
}

/* What a client that stopped reading got: statuses, and whether a GOAWAY came. */
static struct {
    int statuses;
    bool goaway;
} unread;

static int unread_header(nghttp2_session *s, const nghttp2_frame *fr, const uint8_t *name,
                         size_t nl, const uint8_t *value, size_t vl, uint8_t flags, void *u)
{
    (void)s, (void)fr, (void)value, (void)vl, (void)flags, (void)u;
    if (nl == 11 && !memcmp(name, "grpc-status", 11))
        unread.statuses++;
    return 0;
}

static int unread_frame(nghttp2_session *s, const nghttp2_frame *fr, void *u)
{
    (void)s, (void)u;
    if (fr->hd.type == NGHTTP2_GOAWAY)
        unread.goaway = true;
    return 0;
}

/* After a hostile client: the server answers the next client's call, then stops cleanly. */
static void serves_next_then_stops(ccz_rpc_server *srv, pthread_t thread, const char *target)
{
    peer p;
    peer_open(&p, target);
    h2_body ok = {hello_z, sizeof hello_z};
    int32_t id = peer_call(&p, "/ratls.Greeter/SayHello", 0, &ok);
    peer_until(&p, id, false, 2000);
    CHECK_INT(p.status[SLOT(id)], CCZ_RPC_OK);
    peer_close_all(&p);
    rpc_serve_stop(srv, thread, 500);
    ccz_rpc_server_free(srv);
}

/* A client that stops reading once its calls are answered with statuses only (trailers-only
 * responses: no DATA, so no answer bytes wait in a call's queue) cannot hold the connection,
 * its calls and the output queued for it for good: a call whose status the connection could
 * not send for the idle timeout (300 ms) is reset, and when even that cannot go out the
 * connection is closed. 100 statuses of 60 KB each, more than the socket and the server's
 * 1 MiB of output take: some are never sent, and no GOAWAY comes (the connection was not
 * closed as an idle one, after the client read again). */
static void test_unread_statuses(void)
{
    signal(SIGPIPE, SIG_IGN);
    pthread_t thread;
    char target[64];
    idle_ms = 300;
    /* a window of 8 MiB: the 6 MB of requests go out without the server's WINDOW_UPDATEs */
    ccz_rpc_server *srv = server_new(65536, 8u << 20, &thread, target);
    idle_ms = 0;
    int port = atoi(strrchr(target, ':') + 1);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int small = 4096;
    CHECK(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small) == 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(connect(fd, (struct sockaddr *)&a, sizeof a) == 0);
    peer p = {.fd = fd};
    static const h2_client_callbacks cb = {
        .send = peer_send, .header = unread_header, .frame = unread_frame};
    p.h2 = h2_client_new(&cb, &p, NULL, 0);
    memset(&unread, 0, sizeof unread);
    /* the server's SETTINGS (its 100 streams) and the WINDOW_UPDATE of its 8 MiB connection
     * window read, then nothing more */
    uint8_t buf[16384];
    int64_t end = now_ms() + 2000;
    while (now_ms() < end && nghttp2_session_get_remote_window_size(p.h2) < (4 << 20)) {
        CHECK_INT(nghttp2_session_send(p.h2), 0);
        struct pollfd pf = {fd, POLLIN, 0};
        if (poll(&pf, 1, 20) <= 0)
            continue;
        ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        CHECK(n > 0 && nghttp2_session_mem_recv(p.h2, buf, (size_t)n) == n);
    }
    CHECK_INT(nghttp2_session_get_remote_settings(p.h2, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS),
              100);
    /* the header list it enforces; its stream window, the whole connection buffer */
    CHECK_INT(nghttp2_session_get_remote_settings(p.h2, NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE),
              16384);
    CHECK_INT(nghttp2_session_get_remote_settings(p.h2, NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE),
              8 << 20);
    /* requests of one string field (1: name) of NAME bytes: "refuse", then i's letter */
    enum { CALLS = 100, NAME = 60000, FRAME = 5 + 4 + NAME };
    uint8_t *bodies = malloc((size_t)CALLS * FRAME);
    h2_body b[CALLS];
    for (int i = 0; i < CALLS; i++) {
        uint8_t *m = bodies + (size_t)i * FRAME;
        const uint8_t head[] = {0,
                                0,
                                (uint8_t)((FRAME - 5) >> 16),
                                (uint8_t)((FRAME - 5) >> 8),
                                (uint8_t)(FRAME - 5),
                                0x0a,
                                (uint8_t)(0x80 | (NAME & 0x7f)),
                                (uint8_t)(0x80 | ((NAME >> 7) & 0x7f)),
                                (uint8_t)(NAME >> 14)};
        memcpy(m, head, sizeof head);
        memset(m + 9, 'a' + i % 26, NAME);
        memcpy(m + 9, "refuse", 6);
        b[i] = (h2_body){m, FRAME};
        nghttp2_nv nv[6];
        size_t n = h2_grpc_headers(nv, "/ratls.Greeter/SayHello", "application/grpc");
        nghttp2_data_provider prd = {.source.ptr = &b[i], .read_callback = h2_body_read};
        CHECK(nghttp2_submit_request(p.h2, NULL, nv, n, &prd, NULL) > 0);
    }
    int flags = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    for (end = now_ms() + 1500; now_ms() < end && nghttp2_session_want_write(p.h2);) {
        CHECK_INT(nghttp2_session_send(p.h2), 0);
        poll(NULL, 0, 5);
    }
    CHECK(!nghttp2_session_want_write(p.h2)); /* every request is out */
    /* the server's idle checks, 300 ms apart, end the connection: waited for without reading
     * (its end, not a time: a loaded machine may take longer to run the 100 calls) */
    for (end = now_ms() + 8000; now_ms() < end;) {
        struct pollfd hang = {fd, POLLRDHUP, 0};
        if (poll(&hang, 1, 50) > 0 && (hang.revents & (POLLRDHUP | POLLHUP | POLLERR)))
            break;
    }
    /* read again: what the server still sends, until it closes */
    bool eof = false;
    for (end = now_ms() + 3000; now_ms() < end && !eof;) {
        struct pollfd pf = {fd, POLLIN, 0};
        if (poll(&pf, 1, 20) <= 0)
            continue;
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0 && !(n < 0 && errno == EAGAIN))
            eof = true;
        else if (n > 0)
            (void)nghttp2_session_mem_recv(p.h2, buf, (size_t)n);
    }
    fprintf(stderr, "a client that stopped reading: %d statuses of %d, goaway %d, eof %d\n",
            unread.statuses, CALLS, unread.goaway, eof);
    CHECK(eof);
    CHECK(unread.statuses < CALLS);
    CHECK(!unread.goaway);
    nghttp2_session_del(p.h2);
    close(fd);
    free(bodies);
    serves_next_then_stops(srv, thread, target);
}

/* A PING flood from a client that does not read (each PING asks for an ACK of as many bytes):
 * the server queues no more than 1 MiB of output for it, so the ACKs pile up in nghttp2, which
 * ends the connection at its bound on them (1000) instead of buffering one per PING for ever.
 * 600000 PINGs (10 MB) get far fewer ACKs back, then the connection's end. */
static void test_ping_flood(void)
{
    signal(SIGPIPE, SIG_IGN);
    pthread_t thread;
    char target[64];
    ccz_rpc_server *srv = server_new(1024, 1024 + 65536, &thread, target);
    int port = atoi(strrchr(target, ':') + 1);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int small = 4096;
    CHECK(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small) == 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(connect(fd, (struct sockaddr *)&a, sizeof a) == 0);
    enum { PINGS = 600000, PING = 17 };
    static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
                                  "\0\0\0\4\0\0\0\0\0"; /* and an empty SETTINGS */
    size_t n = sizeof preface - 1 + (size_t)PINGS * PING;
    uint8_t *out = calloc(1, n);
    memcpy(out, preface, sizeof preface - 1);
    for (size_t i = 0; i < PINGS; i++) /* length 8, type PING, no flags, stream 0 */
        memcpy(out + sizeof preface - 1 + i * PING, "\0\0\x08\x06\0\0\0\0\0", 9);
    int64_t end = now_ms() + 3000;
    for (size_t off = 0; off < n && now_ms() < end;) {
        ssize_t w = send(fd, out + off, n - off, MSG_NOSIGNAL);
        if (w <= 0)
            break; /* the server closed the connection */
        off += (size_t)w;
    }
    free(out);
    /* what comes back: far fewer ACKs than PINGs, then the end of the connection */
    size_t got = 0;
    bool eof = false;
    uint8_t buf[65536];
    for (end = now_ms() + 3000; now_ms() < end && !eof;) {
        struct pollfd pf = {fd, POLLIN, 0};
        if (poll(&pf, 1, 20) <= 0)
            continue;
        ssize_t r = recv(fd, buf, sizeof buf, 0);
        if (r <= 0)
            eof = true;
        else
            got += (size_t)r;
    }
    fprintf(stderr, "a PING flood: %zu bytes back for %d PINGs, eof %d\n", got, PINGS, eof);
    CHECK(eof);
    CHECK(got < (size_t)PINGS * PING / 2);
    close(fd);
    serves_next_then_stops(srv, thread, target);
}

/* What a raw client that sends a request's header block in a HEADERS frame and `frames`
 * CONTINUATION frames of a 1 KB field each (the last with END_HEADERS when `ends`) gets: whether
 * the server answered on stream 1, and whether it ended the connection. */
static void continuation_run(const char *target, int frames, bool ends, bool *answered, bool *eof)
{
    int port = atoi(strrchr(target, ':') + 1);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(connect(fd, (struct sockaddr *)&a, sizeof a) == 0);
    /* HEADERS of stream 1 (END_STREAM, not END_HEADERS): :method POST, :scheme http, :path,
     * :authority x, content-type application/grpc (HPACK: static names, literal values) */
    static const char start[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
                                "\0\0\0\4\0\0\0\0\0" /* SETTINGS */
                                "\0\0\x30\1\1\0\0\0\1"
                                "\x83\x86"
                                "\x44\x17/ratls.Greeter/SayHello"
                                "\x41\x01x"
                                "\x5f\x10"
                                "application/grpc";
    enum { FIELD = 1 + 1 + 3 + 3 + 1000, FRAME = 9 + FIELD };
    size_t n = sizeof start - 1 + (size_t)frames * FRAME;
    uint8_t *out = malloc(n);
    memcpy(out, start, sizeof start - 1);
    for (int i = 0; i < frames; i++) {
        uint8_t *f = out + sizeof start - 1 + (size_t)i * FRAME;
        /* CONTINUATION of stream 1: y-a, a literal value of 1000 bytes */
        const uint8_t h[] = {0,
                             FIELD >> 8,
                             FIELD & 0xff,
                             9,
                             ends && i == frames - 1 ? 4 : 0,
                             0,
                             0,
                             0,
                             1,
                             0,
                             3,
                             'y',
                             '-',
                             'a',
                             0x7f,
                             0xe9,
                             0x06};
        memcpy(f, h, sizeof h);
        memset(f + sizeof h, 'v', 1000);
    }
    int64_t end = now_ms() + 3000;
    for (size_t off = 0; off < n && now_ms() < end;) {
        ssize_t w = send(fd, out + off, n - off, MSG_NOSIGNAL);
        if (w <= 0)
            break; /* the server closed the connection */
        off += (size_t)w;
    }
    free(out);
    /* the server's frames, until it closes or 500 ms of silence */
    *eof = *answered = false;
    uint8_t in[65536];
    size_t got = 0;
    for (int64_t quiet = now_ms() + 500; now_ms() < quiet && !*eof && got < sizeof in;) {
        struct pollfd pf = {fd, POLLIN, 0};
        if (poll(&pf, 1, 20) <= 0)
            continue;
        ssize_t r = recv(fd, in + got, sizeof in - got, 0);
        *eof = r <= 0;
        got += r > 0 ? (size_t)r : 0;
    }
    for (size_t at = 0; at + 9 <= got;) {
        size_t len = (size_t)in[at] << 16 | (size_t)in[at + 1] << 8 | in[at + 2];
        *answered |= in[at + 3] == 1 && in[at + 8] == 1 && in[at + 5] == 0 && in[at + 6] == 0 &&
                     in[at + 7] == 0;
        at += 9 + len;
    }
    close(fd);
}

/* A header block that never ends (CVE-2024-27316's family: CONTINUATION frames without
 * END_HEADERS, 2000 of 1 KB each): the connection is ended at once rather than read for ever
 * (nghttp2 ends a header block after 8 CONTINUATION frames, Debian's fix for CVE-2024-28182),
 * and the server serves the next client. The same request in three CONTINUATION frames, the
 * last ending it, is answered. */
static void test_continuation_flood(void)
{
    signal(SIGPIPE, SIG_IGN);
    pthread_t thread;
    char target[64];
    ccz_rpc_server *srv = server_new(1024, 1024 + 65536, &thread, target);
    bool answered, eof;
    continuation_run(target, 3, true, &answered, &eof);
    CHECK(answered);
    CHECK(!eof);
    int64_t t0 = now_ms();
    continuation_run(target, 2000, false, &answered, &eof);
    CHECK(!answered);
    CHECK(eof);
    CHECK(now_ms() - t0 < 1000);
    serves_next_then_stops(srv, thread, target);
}

/* A request body of hello_z that the client's trailers end (a HEADERS frame with END_STREAM),
 * not its last DATA frame. */
static ssize_t trailed_body(nghttp2_session *s, int32_t id, uint8_t *buf, size_t len,
                            uint32_t *flags, nghttp2_data_source *src, void *u)
{
    (void)len, (void)src, (void)u;
    static nghttp2_nv nv[1];
    nv[0] = h2_nv("x-trailer", "t");
    memcpy(buf, hello_z, sizeof hello_z);
    *flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
    CHECK_INT(nghttp2_submit_trailer(s, id, nv, 1), 0);
    return (ssize_t)sizeof hello_z;
}

/* A request that the client's trailers end is a whole request: it is answered. */
static void test_client_trailers(void)
{
    pthread_t thread;
    peer p;
    ccz_rpc_server *srv = small_server(&thread, &p);
    nghttp2_nv nv[6];
    size_t n = h2_grpc_headers(nv, "/ratls.Greeter/SayHello", "application/grpc");
    nghttp2_data_provider prd = {.read_callback = trailed_body};
    int32_t id = nghttp2_submit_request(p.h2, NULL, nv, n, &prd, NULL);
    CHECK(id > 0);
    peer_until(&p, id, true, 2000);
    CHECK_INT(p.status[SLOT(id)], CCZ_RPC_OK);
    CHECK_STR(p.message[SLOT(id)], "");
    CHECK(p.closed[SLOT(id)]);
    CHECK_INT(p.error[SLOT(id)], NGHTTP2_NO_ERROR);
    small_server_stop(srv, thread, &p);
}

/* A client that makes the server reset its streams (each call answered 200 ms later), up to
 * 1500 times: with a WINDOW_UPDATE that overflows each stream's window right after its request,
 * or with a request longer than its content-length (RFC 9113, 8.1.1). The code the server
 * resets them with, how many it opened, and whether the server ended the connection (GOAWAY
 * ENHANCE_YOUR_CALM, then closed it within a second). */
static void made_you_reset_run(const char *target, bool long_body, uint32_t *code, int *opened,
                               bool *ended)
{
    peer p;
    peer_open(&p, target);
    static const uint8_t later[] = {0, 0, 0, 0, 7, 0x0a, 0x05, 'l', 'a', 't', 'e', 'r'};
    uint8_t buf[16384];
    int one = 1;
    setsockopt(p.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    *opened = 0;
    *code = 0xff;
    bool gone = false; /* the server's GOAWAY read, or its end of the connection */
    for (int i = 0; i < 1500 && !gone; i++) {
        h2_body b = {later, sizeof later};
        nghttp2_nv nv[7];
        size_t n = h2_grpc_headers(nv, "/ratls.Greeter/SayHello", "application/grpc");
        if (long_body)
            nv[n++] = h2_nv("content-length", "1");
        nghttp2_data_provider prd = {.source.ptr = &b, .read_callback = h2_body_read};
        int32_t id = nghttp2_submit_request(p.h2, NULL, nv, n, &prd, NULL);
        if (id < 0 || nghttp2_session_send(p.h2) != 0)
            break; /* the session has seen the server's GOAWAY */
        (*opened)++;
        /* WINDOW_UPDATE of stream id by 2^31-1: past the largest window, a stream error
         * (RFC 9113, 6.9.1) */
        const uint8_t wu[] = {0,
                              0,
                              4,
                              NGHTTP2_WINDOW_UPDATE,
                              0,
                              (uint8_t)(id >> 24),
                              (uint8_t)(id >> 16),
                              (uint8_t)(id >> 8),
                              (uint8_t)id,
                              0x7f,
                              0xff,
                              0xff,
                              0xff};
        if (!long_body && send(p.fd, wu, sizeof wu, MSG_NOSIGNAL) != (ssize_t)sizeof wu)
            break;
        /* the server's reset of it (its place among the 100 free again) */
        ssize_t r = 1;
        for (int64_t end = now_ms() + 1000;
             r > 0 && nghttp2_session_find_stream(p.h2, id) && now_ms() < end;) {
            struct pollfd pf = {p.fd, POLLIN, 0};
            if (poll(&pf, 1, 20) <= 0)
                continue;
            r = recv(p.fd, buf, sizeof buf, 0);
            if (r > 0 && nghttp2_session_mem_recv(p.h2, buf, (size_t)r) < 0)
                break;
        }
        if (SLOT(id) < SLOTS && p.closed[SLOT(id)])
            *code = p.error[SLOT(id)];
        gone = r <= 0 || !nghttp2_session_want_read(p.h2);
    }
    /* the GOAWAY, then the end of the connection within a second */
    bool eof = false;
    for (int64_t end = now_ms() + 1000; !eof && now_ms() < end;) {
        struct pollfd pf = {p.fd, POLLIN, 0};
        if (poll(&pf, 1, 20) <= 0)
            continue;
        ssize_t r = recv(p.fd, buf, sizeof buf, 0);
        eof = r <= 0;
        if (r > 0)
            (void)nghttp2_session_mem_recv(p.h2, buf, (size_t)r);
    }
    *ended = p.goaway && p.goaway_error == NGHTTP2_ENHANCE_YOUR_CALM && eof;
    peer_close_all(&p);
}

/* "MadeYouReset" (CVE-2025-8671): a client that makes the server reset its streams right after
 * each request (a stream error: a WINDOW_UPDATE that overflows the stream's window, or a
 * request longer than its content-length) frees each stream's place among the connection's 100
 * while the handler's work for it goes on (each of these calls is answered 200 ms later): a
 * rapid reset by the server's hand, which nghttp2's limit on the resets it receives does not
 * count. The connection is ended (GOAWAY ENHANCE_YOUR_CALM, then closed) after 1000 such
 * resets instead of starting a call for each for ever; others are served. */
static void test_made_you_reset(void)
{
    signal(SIGPIPE, SIG_IGN);
    pthread_t thread;
    char target[64];
    ccz_rpc_server *srv = server_new(1024, 1024 + 65536, &thread, target);
    for (int long_body = 0; long_body < 2; long_body++) {
        uint32_t code;
        int opened;
        bool ended;
        made_you_reset_run(target, long_body, &code, &opened, &ended);
        fprintf(stderr, "made-you-reset: %d streams opened, reset with %u, ended %d\n", opened,
                code, ended);
        CHECK_INT(code, long_body ? NGHTTP2_PROTOCOL_ERROR : NGHTTP2_FLOW_CONTROL_ERROR);
        CHECK(ended);
        CHECK(opened >= 1000 && opened <= 1100);
    }
    /* the server still serves others */
    peer p;
    peer_open(&p, target);
    h2_body b = {hello_z, sizeof hello_z};
    int32_t id = peer_call(&p, "/ratls.Greeter/SayHello", 0, &b);
    peer_until(&p, id, false, 2000);
    CHECK_INT(p.status[SLOT(id)], CCZ_RPC_OK);
    peer_close_all(&p);
    rpc_serve_stop(srv, thread, 500);
    ccz_rpc_server_free(srv);
}

/* A stream's credit starts again from nothing once announced: a message of 16384 bytes is
 * credited to its stream (one step); a second message of 8 bytes, one too many on a unary
 * call, is consumed with it refused and adds 8 bytes of credit, below a step: the stream is
 * credited no further, not the step again with the 8 bytes. */
static void test_stream_credit_restarts(void)
{
    signal(SIGPIPE, SIG_IGN);
    pthread_t thread;
    char target[64];
    ccz_rpc_server *srv = server_new(131072, 131072 + 65536, &thread, target);
    peer p;
    peer_open(&p, target);
    uint8_t two[16384 + sizeof hello_z];
    uint8_t *step = hello_frame(16384);
    memcpy(two, step, 16384);
    memcpy(two + 16384, hello_z, sizeof hello_z);
    free(step);
    doled b = {two, 16384, false};
    int32_t id = peer_call_doled(&p, &b);
    peer_pump(&p, 2000, &p.credit[SLOT(id)], 16384);
    CHECK_INT(p.credit[SLOT(id)], 16384);
    b.avail = sizeof hello_z;
    CHECK_INT(nghttp2_session_resume_data(p.h2, id), 0);
    peer_until(&p, id, false, 2000);
    CHECK_INT(p.status[SLOT(id)], CCZ_RPC_UNIMPLEMENTED);
    CHECK_STR(p.message[SLOT(id)], "more than one request message on a unary call");
    peer_pump(&p, 100, NULL, 0);
    CHECK_INT(p.credit[SLOT(id)], 16384);
    peer_close_all(&p);
    rpc_serve_stop(srv, thread, 500);
    ccz_rpc_server_free(srv);
}

/* Windows are credited as the server consumes request bytes, not as they arrive (the option
 * that stops nghttp2's own updates), in steps of 16384 bytes: a message of exactly 16384 bytes
 * is credited to the connection and to its stream at once; one of 120005 held unfinished at
 * 110000 bytes, past half the windows of 196608 (where nghttp2 would credit what it received),
 * is credited nothing until its last byte comes, then all of it. The connection's first credit
 * is the window's rise from HTTP/2's 65535. */
static void test_window_credit(void)
{
    signal(SIGPIPE, SIG_IGN);
    pthread_t thread;
    char target[64];
    const uint32_t window = 131072 + 65536;
    ccz_rpc_server *srv = server_new(131072, window, &thread, target);
    peer p;
    peer_open(&p, target);
    uint8_t *step = hello_frame(16384);
    doled b = {step, 16384, false};
    int32_t id = peer_call_doled(&p, &b);
    uint32_t want = window - 65535 + 16384;
    peer_pump(&p, 2000, &p.credit_conn, want);
    peer_pump(&p, 100, NULL, 0);
    CHECK_INT(p.credit_conn, want);
    CHECK_INT(p.credit[SLOT(id)], 16384);
    b.end = true;
    CHECK_INT(nghttp2_session_resume_data(p.h2, id), 0);
    peer_until(&p, id, false, 2000);
    CHECK_INT(p.status[SLOT(id)], CCZ_RPC_OK);
    uint8_t *big = hello_frame(120005);
    b = (doled){big, 110000, false};
    id = peer_call_doled(&p, &b);
    peer_pump(&p, 300, NULL, 0);
    CHECK_INT(p.credit_conn, want);
    CHECK_INT(p.credit[SLOT(id)], 0);
    CHECK_INT(p.status[SLOT(id)], -1); /* neither shed nor answered */
    b.avail = 120005 - 110000;
    CHECK_INT(nghttp2_session_resume_data(p.h2, id), 0);
    want += 120005;
    peer_pump(&p, 2000, &p.credit_conn, want);
    peer_pump(&p, 100, NULL, 0);
    CHECK_INT(p.credit_conn, want);
    CHECK_INT(p.credit[SLOT(id)], 120005);
    b.end = true;
    CHECK_INT(nghttp2_session_resume_data(p.h2, id), 0);
    peer_until(&p, id, false, 2000);
    CHECK_INT(p.status[SLOT(id)], CCZ_RPC_OK);
    free(step);
    free(big);
    peer_close_all(&p);
    rpc_serve_stop(srv, thread, 500);
    ccz_rpc_server_free(srv);
}

/* The bytes of calls nobody reads are credited back to the connection at once: those of a call
 * refused (an unknown method) while its client sends, and DATA that comes after the server
 * reset its stream, which nghttp2 drops and would announce only at half the window (here 65536
 * bytes), a count the server's own updates erase: the connection's window leaked a little at
 * each reset until calls stalled. Then a call of 60005 bytes, within a window of 131072 only
 * if the rest was credited, is answered. (Credit goes back in steps of at least 16384 bytes:
 * what is short of a step waits.) */
static void test_refused_credit(void)
{
    signal(SIGPIPE, SIG_IGN);
    pthread_t thread;
    char target[64];
    ccz_rpc_server *srv = server_new(65536, 131072, &thread, target);
    peer p;
    peer_open(&p, target);
    uint8_t *f = hello_frame(60005);
    h2_body b = {f, 60000};
    int32_t id = peer_call(&p, "/ratls.Greeter/Nothing", 0, &b);
    uint32_t want = 131072 - 65535 + 60000;
    peer_until(&p, id, true, 2000);
    CHECK_INT(p.status[SLOT(id)], CCZ_RPC_UNIMPLEMENTED);
    CHECK_STR(p.message[SLOT(id)], "unknown method /ratls.Greeter/Nothing");
    peer_pump(&p, 300, &p.credit_conn, want);
    CHECK(p.credit_conn + 16383 >= want && p.credit_conn <= want); /* the rest below a step */
    /* three DATA frames of 16000 bytes on the stream the server reset, behind nghttp2's back */
    CHECK_INT(p.error[SLOT(id)], NGHTTP2_NO_ERROR);
    CHECK_INT(nghttp2_session_send(p.h2), 0);
    uint8_t frame[9 + 16000] = {0x00, 0x3e, 0x80, NGHTTP2_DATA, 0, 0, 0, 0, (uint8_t)id};
    for (int i = 0; i < 3; i++)
        CHECK(send(p.fd, frame, sizeof frame, MSG_NOSIGNAL) == (ssize_t)sizeof frame);
    want += 3 * 16000;
    peer_pump(&p, 300, &p.credit_conn, want);
    CHECK(p.credit_conn + 16383 >= want && p.credit_conn <= want);
    b = (h2_body){f, 60005};
    id = peer_call(&p, "/ratls.Greeter/SayHello", 0, &b);
    peer_until(&p, id, false, 2000);
    CHECK_INT(p.status[SLOT(id)], CCZ_RPC_OK);
    free(f);
    peer_close_all(&p);
    rpc_serve_stop(srv, thread, 500);
    ccz_rpc_server_free(srv);
}

/* Request headers of exactly the 16384 bytes announced (HTTP/2's count: name, value and 32
 * bytes a field) are taken; one byte more is refused RESOURCE_EXHAUSTED. */
static void test_header_list_edge(void)
{
    pthread_t thread;
    peer p;
    ccz_rpc_server *srv = small_server(&thread, &p);
    nghttp2_nv nv[7];
    size_t n = h2_grpc_headers(nv, "/ratls.Greeter/SayHello", "application/grpc");
    size_t used = 0;
    for (size_t i = 0; i < n; i++)
        used += nv[i].namelen + nv[i].valuelen + 32;
    size_t fill = 16384 - used - 32 - strlen("y-fill"); /* the value that makes 16384 */
    char *value = malloc(fill + 2);
    for (int extra = 0; extra < 2; extra++) {
        memset(value, 'v', fill + (size_t)extra);
        value[fill + (size_t)extra] = '\0';
        nv[n] = h2_nv("y-fill", value);
        h2_body b = {hello_z, sizeof hello_z};
        nghttp2_data_provider prd = {.source.ptr = &b, .read_callback = h2_body_read};
        int32_t id = nghttp2_submit_request(p.h2, NULL, nv, n + 1, &prd, NULL);
        CHECK(id > 0 && SLOT(id) < SLOTS);
        peer_until(&p, id, false, 2000);
        if (!extra) {
            CHECK_INT(p.status[SLOT(id)], CCZ_RPC_OK);
        } else {
            CHECK_INT(p.status[SLOT(id)], CCZ_RPC_RESOURCE_EXHAUSTED);
            CHECK_STR(p.message[SLOT(id)],
                      "the request headers exceed 16384 bytes, or the server's bound");
        }
    }
    free(value);
    small_server_stop(srv, thread, &p);
}

/* The headers HTTP/2 and gRPC define (user-agent, host, accept-encoding, content-length, te,
 * grpc-*) are not the handler's metadata: only the call's own y-kept reaches it. */
static void test_reserved_headers(void)
{
    pthread_t thread;
    peer p;
    ccz_rpc_server *srv = small_server(&thread, &p);
    static const uint8_t keys[] = {0, 0, 0, 0, 6, 0x0a, 0x04, 'k', 'e', 'y', 's'};
    nghttp2_nv nv[12];
    size_t n = h2_grpc_headers(nv, "/ratls.Greeter/SayHello", "application/grpc");
    nv[n++] = h2_nv("user-agent", "grpc-c/1.0");
    nv[n++] = h2_nv("host", "x");
    nv[n++] = h2_nv("accept-encoding", "gzip");
    nv[n++] = h2_nv("content-length", "11");
    nv[n++] = h2_nv("grpc-previous-rpc-attempts", "1");
    nv[n++] = h2_nv("y-kept", "v");
    h2_body b = {keys, sizeof keys};
    nghttp2_data_provider prd = {.source.ptr = &b, .read_callback = h2_body_read};
    int32_t id = nghttp2_submit_request(p.h2, NULL, nv, n, &prd, NULL);
    CHECK(id > 0 && SLOT(id) < SLOTS);
    peer_until(&p, id, false, 2000);
    CHECK_INT(p.status[SLOT(id)], CCZ_RPC_OK);
    CHECK_STR(p.message[SLOT(id)], "y-kept");
    small_server_stop(srv, thread, &p);
}

TEST_MAIN(T(test_metadata_bound), T(test_metadata_other_connection), T(test_metadata_sheds_request),
          T(test_held_at_bound), T(test_largest_shed), T(test_conn_window_margin),
          T(test_conn_bound_own_calls), T(test_shutdown_goaway), T(test_shutdown_two_connections),
          T(test_stream_over_bound), T(test_buffer_shrunk), T(test_second_prefix),
          T(test_early_end_reset), T(test_cancelled_call), T(test_unsendable_status),
          T(test_zero_window_stall), T(test_idle_timely), T(test_idle_after_call),
          T(test_call_misuse), T(test_server_setup_refused), T(test_rapid_reset),
          T(test_unread_statuses), T(test_ping_flood), T(test_continuation_flood),
          T(test_made_you_reset), T(test_client_trailers), T(test_window_credit),
          T(test_stream_credit_restarts), T(test_refused_credit), T(test_header_list_edge),
          T(test_reserved_headers))
