/* SPDX-License-Identifier: Apache-2.0 */
/* Plaintext gRPC (h2c, HTTP/2 with prior knowledge): a ccz server without a TLS context answering
 * a ccz channel without one (unary, server streaming, a status, metadata both ways, the size
 * limit, no RA-TLS verdict on either side, one connection per channel), a TLS channel at the
 * plaintext server and a plaintext channel at an RA-TLS server both ending UNAVAILABLE at once,
 * a server that accepts TCP and never speaks HTTP/2 bounded by the call's deadline and the
 * connect timeout, and one that answers in HTTP/1.1 refused at once. (Stock gRPC's insecure
 * channels: test_rpc_h2c_grpcio.c; a flood of plaintext connections: test_rpc_hostile.c.) */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "ccz/ccz.h"
#include "greeter.pb-c.h"
#include "rpc_fixture.h"
#include "sim_side.h"
#include "test.h"

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- RA-TLS sides (for the mismatches): two-way sim attestation ------------------------------*/

/* ---- a server in a thread --------------------------------------------------------------------*/

typedef struct {
    ccz_rpc_server *srv;
    pthread_t thread;
    char target[64];
} server;

static atomic_int calls, verdicts;     /* calls served; of them, with an RA-TLS verdict */
static atomic_uint_fast64_t last_conn; /* the last call's connection */

/* Echoes x- metadata as headers and trailers; an empty name is INVALID_ARGUMENT. */
static void hello(ccz_rpc_call *call, const ProtobufCMessage *req, void *payload)
{
    (void)payload;
    atomic_fetch_add(&calls, 1);
    if (ccz_rpc_call_peer(call))
        atomic_fetch_add(&verdicts, 1);
    atomic_store(&last_conn, ccz_rpc_call_connection(call));
    greeter_hello_reply(call, ((const Ratls__HelloRequest *)req)->name);
}

/* A server on a free port: plaintext when tls is NULL. */
static void server_start(server *sv, SSL_CTX *tls)
{
    ccz_rpc_server_opts so = CCZ_RPC_SERVER_OPTS_INIT;
    so.tls = tls;
    so.max_message = 4096;
    CHECK_OK(ccz_rpc_server_new(&sv->srv, &so));
    CHECK_OK(ccz_rpc_server_add(sv->srv, "/ratls.Greeter/SayHello", CCZ_RPC_UNARY,
                                &ratls__hello_request__descriptor, &ratls__hello_reply__descriptor,
                                hello, NULL));
    CHECK_OK(ccz_rpc_server_add(sv->srv, "/test.Stream/Count", CCZ_RPC_SERVER_STREAMING,
                                &ratls__hello_request__descriptor, &ratls__hello_reply__descriptor,
                                greeter_count, NULL));
    rpc_serve(sv->srv, &sv->thread, sv->target);
}

static void server_stop(server *sv)
{
    rpc_serve_stop(sv->srv, sv->thread, 500);
    ccz_rpc_server_free(sv->srv);
    sv->srv = NULL;
}

/* A channel: plaintext when tls is NULL. */
static ccz_rpc_channel *channel(const char *target, SSL_CTX *tls, unsigned connect_ms)
{
    ccz_rpc_channel_opts o = CCZ_RPC_CHANNEL_OPTS_INIT;
    o.tls = tls;
    o.connect_timeout_ms = connect_ms;
    ccz_rpc_channel *ch = NULL;
    CHECK_OK(ccz_rpc_channel_new(&ch, target, &o));
    return ch;
}

/* A unary SayHello: the status code; the reply, or the status message, in text. */
static int say(ccz_rpc_channel *ch, const char *name, const ccz_rpc_call_opts *o,
               ccz_rpc_status *st, char *text, size_t cap)
{
    Ratls__HelloRequest req = RATLS__HELLO_REQUEST__INIT;
    req.name = (char *)name;
    ProtobufCMessage *resp = NULL;
    CHECK_OK(ccz_rpc_unary(ch, &resp, st, "/ratls.Greeter/SayHello", &req.base,
                           &ratls__hello_reply__descriptor, o));
    snprintf(text, cap, "%.300s", resp ? ((Ratls__HelloReply *)resp)->message : st->message);
    if (resp)
        protobuf_c_message_free_unpacked(resp, NULL);
    return st->code;
}

/* say on a new channel, which is freed after */
static int say_once(const char *target, SSL_CTX *tls, const char *name, int64_t deadline,
                    unsigned connect_ms, char *text, size_t cap)
{
    ccz_rpc_channel *ch = channel(target, tls, connect_ms);
    ccz_rpc_call_opts o = {CCZ_RPC_CALL_OPTS_VERSION, deadline, NULL};
    ccz_rpc_status st;
    int code = say(ch, name, &o, &st, text, cap);
    ccz_rpc_status_free(&st);
    ccz_rpc_channel_free(ch);
    return code;
}

typedef struct {
    char got[128];
    int n, code;
} collect;

static void on_msg(const ProtobufCMessage *m, void *p)
{
    collect *c = p;
    size_t l = strlen(c->got);
    snprintf(c->got + l, sizeof c->got - l, "%s%s", l ? "," : "",
             ((const Ratls__HelloReply *)m)->message);
    c->n++;
}

static void on_done(const ccz_rpc_status *st, void *p)
{
    ((collect *)p)->code = st->code;
}

/* ---- 1. ccz to ccz in plaintext --------------------------------------------------------------*/

static void test_plaintext(void)
{
    server sv;
    server_start(&sv, NULL);
    ccz_rpc_channel *ch = channel(sv.target, NULL, 0);
    ccz_rpc_status st;
    char text[512];
    CHECK_INT(say(ch, "world", NULL, &st, text, sizeof text), CCZ_RPC_OK);
    CHECK_STR(text, "Hello world");
    CHECK(ccz_rpc_channel_peer(ch) == NULL);
    uint64_t conn = atomic_load(&last_conn);
    ccz_rpc_status_free(&st);

    /* metadata both ways, text and binary (base64 on the wire), with a deadline */
    ccz_rpc_metadata md = {0};
    CHECK_OK(ccz_rpc_md_add(&md, "x-trace", CCZ_SPAN("t-1", 3)));
    CHECK_OK(ccz_rpc_md_add(&md, "x-raw-bin", CCZ_SPAN("\0\xff\x10", 3)));
    ccz_rpc_call_opts o = {CCZ_RPC_CALL_OPTS_VERSION, 5000, &md};
    CHECK_INT(say(ch, "md", &o, &st, text, sizeof text), CCZ_RPC_OK);
    CHECK_STR(text, "Hello md");
    const ccz_buf *h = ccz_rpc_md_get(&st.headers, "x-trace");
    CHECK(h && h->len == 3 && !memcmp(h->ptr, "t-1", 3));
    h = ccz_rpc_md_get(&st.trailers, "x-raw-bin");
    CHECK(h && h->len == 3 && !memcmp(h->ptr, "\0\xff\x10", 3));
    ccz_rpc_status_free(&st);
    ccz_rpc_md_free(&md);

    /* a status and its message; an unknown method; a request over the server's limit */
    CHECK_INT(say(ch, "", NULL, &st, text, sizeof text), CCZ_RPC_INVALID_ARGUMENT);
    CHECK_STR(text, "name is empty");
    ccz_rpc_status_free(&st);
    Ratls__HelloRequest req = RATLS__HELLO_REQUEST__INIT;
    req.name = "x";
    ProtobufCMessage *resp = NULL;
    CHECK_OK(ccz_rpc_unary(ch, &resp, &st, "/ratls.Greeter/SayGoodbye", &req.base,
                           &ratls__hello_reply__descriptor, NULL));
    CHECK(resp == NULL);
    CHECK_INT(st.code, CCZ_RPC_UNIMPLEMENTED);
    CHECK_STR(st.message, "unknown method /ratls.Greeter/SayGoodbye");
    ccz_rpc_status_free(&st);
    char big[5001];
    memset(big, 'b', 5000);
    big[5000] = '\0';
    CHECK_INT(say(ch, big, NULL, &st, text, sizeof text), CCZ_RPC_RESOURCE_EXHAUSTED);
    CHECK_CONTAINS(text, "exceeds the limit of 4096");
    ccz_rpc_status_free(&st);

    /* server streaming, and two calls at once */
    collect a = {0}, b = {0};
    req.name = "5";
    CHECK_OK(ccz_rpc_start(ch, NULL, "/test.Stream/Count", &req.base,
                           &ratls__hello_reply__descriptor, NULL, on_msg, on_done, &a));
    req.name = "2";
    CHECK_OK(ccz_rpc_start(ch, NULL, "/test.Stream/Count", &req.base,
                           &ratls__hello_reply__descriptor, NULL, on_msg, on_done, &b));
    CHECK_OK(ccz_rpc_channel_run(ch));
    CHECK_INT(a.code, CCZ_RPC_OK);
    CHECK_STR(a.got, "0,1,2,3,4");
    CHECK_INT(b.code, CCZ_RPC_OK);
    CHECK_STR(b.got, "0,1");

    /* every call of the channel on one connection; another channel has its own */
    CHECK_INT(say(ch, "again", NULL, &st, text, sizeof text), CCZ_RPC_OK);
    CHECK(atomic_load(&last_conn) == conn);
    ccz_rpc_status_free(&st);
    CHECK_INT(say_once(sv.target, NULL, "other", 0, 0, text, sizeof text), CCZ_RPC_OK);
    CHECK(atomic_load(&last_conn) != conn);
    CHECK_INT(atomic_load(&verdicts), 0); /* no RA-TLS: no verdict on the client */
    CHECK_INT(atomic_load(&calls), 5);    /* the others never reached the handler */
    ccz_rpc_channel_free(ch);
    server_stop(&sv);
}

/* ---- 2. TLS against plaintext, both ways -----------------------------------------------------*/

static void test_mismatch(void)
{
    test_side srv_side, cli_side;
    test_side_init(&srv_side, true, false);
    test_side_init(&cli_side, false, false);
    server sv;
    char text[512];

    /* a plaintext channel at an RA-TLS server: the server answers its preface with an alert,
     * or closes; either way no HTTP/2 SETTINGS, at once */
    server_start(&sv, srv_side.ctx);
    int64_t t0 = now_ms();
    CHECK_INT(say_once(sv.target, NULL, "x", 0, 0, text, sizeof text), CCZ_RPC_UNAVAILABLE);
    CHECK(now_ms() - t0 < 2000);
    CHECK_CONTAINS(text, "not a plaintext (h2c) gRPC server (a TLS one?)");
    fprintf(stderr, "a plaintext channel at a TLS server: %s\n", text);
    /* a call started on its own: the mismatch is a protocol error, not a timeout */
    ccz_rpc_channel *ch = channel(sv.target, NULL, 0);
    ccz_rpc_stream *s = NULL;
    CHECK_STATUS(ccz_rpc_start(ch, &s, "/test.Stream/Count", NULL, &ratls__hello_reply__descriptor,
                               NULL, NULL, NULL, NULL),
                 CCZ_ERR_PROTOCOL);
    CHECK_CONTAINS(ccz_error_detail(), "not a plaintext (h2c) gRPC server (a TLS one?)");
    CHECK(s == NULL);
    ccz_rpc_channel_free(ch);
    /* the same server serves its TLS clients meanwhile */
    CHECK_INT(say_once(sv.target, cli_side.ctx, "tls", 5000, 0, text, sizeof text), CCZ_RPC_OK);
    CHECK_STR(text, "Hello tls");
    server_stop(&sv);

    /* a TLS channel at a plaintext server: its ClientHello is not the HTTP/2 preface, and the
     * server's SETTINGS are no TLS record */
    server_start(&sv, NULL);
    t0 = now_ms();
    CHECK_INT(say_once(sv.target, cli_side.ctx, "x", 0, 0, text, sizeof text), CCZ_RPC_UNAVAILABLE);
    CHECK(now_ms() - t0 < 2000);
    CHECK_CONTAINS(text, "does not speak TLS");
    fprintf(stderr, "a TLS channel at a plaintext server: %s\n", text);
    CHECK_INT(say_once(sv.target, NULL, "plain", 5000, 0, text, sizeof text), CCZ_RPC_OK);
    CHECK_STR(text, "Hello plain");
    server_stop(&sv);
    test_side_free(&srv_side);
    test_side_free(&cli_side);
}

/* ---- 3. a server that accepts and never speaks -----------------------------------------------*/

/* Accepts one connection on the listener *arg, answers it in HTTP/1.1 and holds it until the
 * client goes. */
static void *http1_answer(void *arg)
{
    int fd = accept(*(int *)arg, NULL, NULL);
    if (fd < 0)
        return NULL;
    static const char no[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
    CHECK(write(fd, no, sizeof no - 1) == (ssize_t)(sizeof no - 1));
    char b[256];
    while (read(fd, b, sizeof b) > 0)
        ;
    close(fd);
    return NULL;
}

/* Accepts one connection on the listener *arg and ends it before any SETTINGS (a FIN, the
 * client's preface read to its end so that no reset follows). */
static void *hang_up(void *arg)
{
    int fd = accept(*(int *)arg, NULL, NULL);
    if (fd < 0)
        return NULL;
    shutdown(fd, SHUT_WR);
    char b[256];
    while (read(fd, b, sizeof b) > 0)
        ;
    close(fd);
    return NULL;
}

static void test_silent_server(void)
{
    char target[64], text[512];
    int l = silent_listener(target);

    /* TCP connects; the call's deadline bounds the wait for the server's SETTINGS */
    int64_t t0 = now_ms();
    CHECK_INT(say_once(target, NULL, "x", 300, 0, text, sizeof text), CCZ_RPC_DEADLINE_EXCEEDED);
    int64_t took = now_ms() - t0;
    CHECK(took >= 290 && took < 1500);
    CHECK_CONTAINS(text, "no HTTP/2 SETTINGS from the server in time");
    /* without one, the connect timeout: UNAVAILABLE */
    t0 = now_ms();
    CHECK_INT(say_once(target, NULL, "x", 0, 300, text, sizeof text), CCZ_RPC_UNAVAILABLE);
    took = now_ms() - t0;
    CHECK(took >= 290 && took < 1500);
    CHECK_CONTAINS(text, "no HTTP/2 SETTINGS from the server in time");
    /* a deadline no longer than the connect timeout is what ran out: DEADLINE_EXCEEDED */
    CHECK_INT(say_once(target, NULL, "x", 300, 300, text, sizeof text), CCZ_RPC_DEADLINE_EXCEEDED);
    CHECK_CONTAINS(text, "no HTTP/2 SETTINGS from the server in time");
    close(l);
    /* a server that answers in HTTP/1.1 and keeps the connection: refused at once */
    l = silent_listener(target);
    pthread_t th;
    test_thread(&th, http1_answer, &l);
    t0 = now_ms();
    CHECK_INT(say_once(target, NULL, "x", 0, 3000, text, sizeof text), CCZ_RPC_UNAVAILABLE);
    CHECK(now_ms() - t0 < 2000);
    CHECK_CONTAINS(text, "the server does not speak HTTP/2 (not a plaintext (h2c) gRPC server");
    pthread_join(th, NULL);
    close(l);
    /* a server that closes before its SETTINGS: refused at once, and told so */
    l = silent_listener(target);
    test_thread(&th, hang_up, &l);
    t0 = now_ms();
    CHECK_INT(say_once(target, NULL, "x", 0, 3000, text, sizeof text), CCZ_RPC_UNAVAILABLE);
    CHECK(now_ms() - t0 < 2000);
    CHECK_CONTAINS(text, "the server closed the connection before its HTTP/2 SETTINGS");
    pthread_join(th, NULL);
    close(l);
    /* nobody listening: refused at once */
    CHECK_INT(say_once(target, NULL, "x", 0, 0, text, sizeof text), CCZ_RPC_UNAVAILABLE);
    CHECK_CONTAINS(text, "Connection refused");
}

/* Options a server cannot keep: each refused by what to change; the boundaries accepted. */
static void test_server_options(void)
{
    ccz_rpc_server *srv = NULL;
    CHECK_STATUS(ccz_rpc_server_new(&srv, NULL), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "server options missing or of the wrong version");
    ccz_rpc_server_opts so = CCZ_RPC_SERVER_OPTS_INIT;
    so.version = CCZ_RPC_SERVER_OPTS_VERSION + 1;
    CHECK_STATUS(ccz_rpc_server_new(&srv, &so), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "server options missing or of the wrong version");
    so = (ccz_rpc_server_opts)CCZ_RPC_SERVER_OPTS_INIT;
    so.max_message = INT32_MAX - 65536;
    CHECK_STATUS(ccz_rpc_server_new(&srv, &so), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "max_message must be below 2 GiB");
    CHECK(srv == NULL);
    /* the connection's window holds a message and 64 KiB: 4 MiB + 65536 by default */
    so.max_message = 0;
    so.max_conn_buffer = (4u << 20) + 65535;
    CHECK_STATUS(ccz_rpc_server_new(&srv, &so), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "max_conn_buffer must hold a message and two frames (4259840 "
                                  "bytes) and be below 2 GiB");
    so.max_conn_buffer = (4u << 20) + 65536;
    so.max_buffer = so.max_conn_buffer - 1;
    CHECK_STATUS(ccz_rpc_server_new(&srv, &so), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "max_buffer must be at least max_conn_buffer (4259840 bytes)");
    so.max_buffer = so.max_conn_buffer;
    so.send_encoding = (ccz_rpc_encoding)(CCZ_RPC_DEFLATE + 1);
    CHECK_STATUS(ccz_rpc_server_new(&srv, &so), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "is not an encoding");
    so.send_encoding = CCZ_RPC_DEFLATE;
    CHECK_OK(ccz_rpc_server_new(&srv, &so));
    ccz_rpc_server_free(srv);
}

/* A caller's misuse of the channel is refused with what was wrong, before any connection is
 * made: no options or no target, a call without a /package.Service/Method path or a response
 * type, call options of another version, a unary call without a request; and a client stream's
 * request side used once it is closed (a message after the close, a second close). */
static void test_client_misuse(void)
{
    ccz_rpc_channel *ch = NULL;
    CHECK_STATUS(ccz_rpc_channel_new(&ch, "127.0.0.1:1", NULL), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "channel options or target missing");
    ccz_rpc_channel_opts co = CCZ_RPC_CHANNEL_OPTS_INIT;
    CHECK_STATUS(ccz_rpc_channel_new(&ch, NULL, &co), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "channel options or target missing");
    co.version = 0;
    CHECK_STATUS(ccz_rpc_channel_new(&ch, "127.0.0.1:1", &co), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "channel options or target missing");
    co.version = CCZ_RPC_CHANNEL_OPTS_VERSION + 1; /* options of a later library */
    CHECK_STATUS(ccz_rpc_channel_new(&ch, "127.0.0.1:1", &co), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "channel options or target missing");
    co.version = CCZ_RPC_CHANNEL_OPTS_VERSION;
    CHECK_STATUS(ccz_rpc_channel_new(&ch, "127.0.0.1", &co), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "'127.0.0.1' is not HOST:PORT");
    CHECK(ch == NULL);
    /* a target whose port is no port: the caller's mistake, not the call's status */
    ch = channel("127.0.0.1:http", NULL, 0);
    {
        Ratls__HelloRequest r = RATLS__HELLO_REQUEST__INIT;
        ProtobufCMessage *resp = NULL;
        ccz_rpc_status st;
        CHECK_STATUS(ccz_rpc_unary(ch, &resp, &st, "/ratls.Greeter/SayHello", &r.base,
                                   &ratls__hello_reply__descriptor, NULL),
                     CCZ_ERR_INVALID_ARGUMENT);
        CHECK_STR(ccz_error_detail(),
                  "'127.0.0.1:http': port 'http' is not a number from 1 to 65535");
        CHECK(resp == NULL);
        ccz_rpc_status_free(&st);
    }
    ccz_rpc_channel_free(ch);
    server sv;
    server_start(&sv, NULL);
    ch = channel(sv.target, NULL, 0);
    int before = atomic_load(&calls);
    Ratls__HelloRequest req = RATLS__HELLO_REQUEST__INIT;
    req.name = "x";
    const ProtobufCMessageDescriptor *out = &ratls__hello_reply__descriptor;
    ccz_rpc_stream *s = NULL;
    CHECK_STATUS(
        ccz_rpc_start(ch, &s, "ratls.Greeter/SayHello", &req.base, out, NULL, NULL, NULL, NULL),
        CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(),
              "a call needs a /package.Service/Method path and a response type");
    CHECK_STATUS(
        ccz_rpc_start(ch, &s, "/ratls.Greeter/SayHello", &req.base, NULL, NULL, NULL, NULL, NULL),
        CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(),
              "a call needs a /package.Service/Method path and a response type");
    ccz_rpc_call_opts o = {CCZ_RPC_CALL_OPTS_VERSION + 1, 1000, NULL};
    CHECK_STATUS(
        ccz_rpc_start(ch, &s, "/ratls.Greeter/SayHello", &req.base, out, &o, NULL, NULL, NULL),
        CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "call options of the wrong version");
    CHECK(s == NULL);
    ProtobufCMessage *resp = NULL;
    ccz_rpc_status st;
    CHECK_STATUS(ccz_rpc_unary(ch, &resp, &st, "/ratls.Greeter/SayHello", NULL, out, NULL),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "a unary call needs a request");
    CHECK_STATUS(ccz_rpc_unary(ch, &resp, &st, "/ratls.Greeter/SayHello", &req.base, out, &o),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "call options of the wrong version");
    CHECK(resp == NULL);
    CHECK_INT(atomic_load(&calls), before); /* nothing reached a handler */
    /* a client stream (the unary method: it ends UNIMPLEMENTED, no request message) */
    collect c = {"", 0, -1};
    o.version = CCZ_RPC_CALL_OPTS_VERSION;
    CHECK_OK(ccz_rpc_start(ch, &s, "/ratls.Greeter/SayHello", NULL, out, &o, on_msg, on_done, &c));
    CHECK_OK(ccz_rpc_stream_close(s));
    CHECK_STATUS(ccz_rpc_stream_send(s, &req.base), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "the call's request stream is closed");
    CHECK_STATUS(ccz_rpc_stream_close(s), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "the request stream is closed already");
    CHECK_OK(ccz_rpc_channel_run(ch));
    CHECK_INT(c.code, CCZ_RPC_UNIMPLEMENTED);
    CHECK_INT(c.n, 0);
    ccz_rpc_channel_free(ch);
    server_stop(&sv);
}

static void test_h2c(void)
{
    signal(SIGPIPE, SIG_IGN);
    test_plaintext();
    test_mismatch();
    test_silent_server();
    test_server_options();
    test_client_misuse();
}

TEST_MAIN(T(test_h2c))
