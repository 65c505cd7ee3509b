/* SPDX-License-Identifier: Apache-2.0 */
/* The gRPC client against a hostile plaintext (h2c) server, written here on nghttp2's server
 * API: a response that ends inside a message, one without trailers, trailers without
 * grpc-status, one that is not gRPC (HTTP 503, or 200 of application/json), one whose message
 * announces more than the channel's limit, one whose message is not the method's, two messages
 * for a unary call, none, a message flagged compressed without an encoding or with one never
 * offered, a grpc-status of 99 (or empty, or not digits, or of three), a stream reset with each
 * code gRPC maps, HTTP errors by gRPC's mapping, a trailers-only answer (its metadata are
 * trailers), response headers past the 16 KiB this client announces. Each call ends with its
 * code and reason; none passes for a success, and a well-formed answer from the same server
 * does. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <nghttp2/nghttp2.h>

#include "ccz/ccz.h"
#include "greeter.pb-c.h"
#include "test.h"

typedef enum {
    WELL_FORMED,
    CUT_MESSAGE,
    NO_TRAILERS,
    NO_STATUS,
    NOT_GRPC,
    TOO_LARGE,
    NOT_THE_MESSAGE,
    TWO_REPLIES,      /* two messages for a unary call */
    NO_MESSAGE,       /* status OK and no message */
    COMPRESSED,       /* a message flagged compressed, no grpc-encoding */
    UNKNOWN_ENCODING, /* one compressed with an encoding the client never offered */
    WRONG_TYPE,       /* HTTP 200, but application/json (as long as gRPC's type) */
    STATUS_99,        /* grpc-status past the 17 codes, or as bad_status says */
    HTTP_ERROR,       /* HTTP http_error, not gRPC */
    TRAILERS_ONLY,    /* grpc-status 5 and metadata in the response's only HEADERS */
    HEADER_FLOOD,     /* 5000 response headers of 3000 bytes (a byte each, by HPACK's table) */
    SILENT,           /* no answer; the connection closed after 2 s of silence */
    RESET_REFUSED,    /* RST_STREAM instead of an answer, with each code gRPC maps */
    RESET_CANCEL,
    RESET_CALM,
    RESET_SECURITY,
    RESET_PROTOCOL
} misdeed;

typedef struct {
    int listen_fd, fd;
    misdeed what;
    const uint8_t *body;
    size_t body_len, sent;
    bool trailers;
} hostile;

static const char *bad_status = "99";  /* STATUS_99's grpc-status */
static const char *http_error = "503"; /* HTTP_ERROR's :status */
/* the last call's x-note metadata, in its headers and in its trailers ("" if none) */
static char note_header[64], note_trailer[64];
static size_t headers_kept;        /* metadata entries the last call kept in its headers */
static int64_t deadline_ms = 5000; /* the calls' */

#define NV(n, v)                                                                                   \
    {                                                                                              \
        (uint8_t *)n, (uint8_t *)v, sizeof n - 1, sizeof v - 1, NGHTTP2_NV_FLAG_NONE               \
    }

static ssize_t send_cb(nghttp2_session *s, const uint8_t *data, size_t len, int flags, void *user)
{
    (void)s, (void)flags;
    hostile *h = user;
    ssize_t n = send(h->fd, data, len, MSG_NOSIGNAL);
    return n < 0 ? NGHTTP2_ERR_CALLBACK_FAILURE : n;
}

static ssize_t read_body(nghttp2_session *s, int32_t id, uint8_t *buf, size_t len, uint32_t *flags,
                         nghttp2_data_source *src, void *user)
{
    (void)src;
    hostile *h = user;
    size_t n = h->body_len - h->sent < len ? h->body_len - h->sent : len;
    memcpy(buf, h->body + h->sent, n);
    h->sent += n;
    if (h->sent == h->body_len) {
        *flags |= NGHTTP2_DATA_FLAG_EOF;
        if (h->trailers) {
            nghttp2_nv t[] = {h->what == NO_STATUS ? (nghttp2_nv)NV("x-note", "no status")
                                                   : (nghttp2_nv)NV("grpc-status", "0")};
            if (h->what == STATUS_99)
                t[0].value = (uint8_t *)bad_status, t[0].valuelen = strlen(bad_status);
            *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
            if (nghttp2_submit_trailer(s, id, t, 1) != 0)
                return NGHTTP2_ERR_CALLBACK_FAILURE;
        }
    }
    return (ssize_t)n;
}

/* The request is in (its END_STREAM): the answer of this case. */
static int on_frame(nghttp2_session *s, const nghttp2_frame *f, void *user)
{
    hostile *h = user;
    if (!(f->hd.flags & NGHTTP2_FLAG_END_STREAM) ||
        (f->hd.type != NGHTTP2_DATA && f->hd.type != NGHTTP2_HEADERS))
        return 0;
    static const uint8_t reply[] = {0, 0, 0, 0, 4, 0x0a, 0x02, 'h', 'i'}; /* message: "hi" */
    static const uint8_t cut[] = {0, 0, 0, 0, 10, 0x0a, 0x08, 'h'};       /* 10 announced, 3 sent */
    static const uint8_t empty[] = {0, 0, 0, 0, 0};
    static const uint8_t big[] = {0, 0, 0x10, 0, 0};                   /* 1 MiB announced */
    static const uint8_t garbage[] = {0, 0, 0, 0, 3, 0x0a, 0x7f, 'h'}; /* a string past its end */
    static const uint8_t busy[] = "busy";
    static const uint8_t twice[] = {0, 0, 0, 0, 4, 0x0a, 0x02, 'h', 'i',
                                    0, 0, 0, 0, 4, 0x0a, 0x02, 'h', 'o'};
    static const uint8_t packed[] = {1, 0, 0, 0, 4, 0x0a, 0x02, 'h', 'i'}; /* "compressed" */
    static const uint32_t reset[] = {NGHTTP2_REFUSED_STREAM, NGHTTP2_CANCEL,
                                     NGHTTP2_ENHANCE_YOUR_CALM, NGHTTP2_INADEQUATE_SECURITY,
                                     NGHTTP2_PROTOCOL_ERROR};
    if (h->what == TRAILERS_ONLY) {
        nghttp2_nv t[] = {NV(":status", "200"), NV("content-type", "application/grpc"),
                          NV("grpc-status", "5"), NV("grpc-message", "gone"),
                          NV("x-note", "t-only")};
        return nghttp2_submit_response(s, f->hd.stream_id, t, 5, NULL)
                   ? NGHTTP2_ERR_CALLBACK_FAILURE
                   : 0;
    }
    if (h->what == HEADER_FLOOD) {
        static char value[3001];
        static nghttp2_nv flood[5002] = {NV(":status", "200"),
                                         NV("content-type", "application/grpc")};
        memset(value, 'v', 3000);
        for (int i = 2; i < 5002; i++)
            flood[i] =
                (nghttp2_nv){(uint8_t *)"x-flood", (uint8_t *)value, 7, 3000, NGHTTP2_NV_FLAG_NONE};
        h->trailers = true;
        h->sent = 0;
        h->body = reply, h->body_len = sizeof reply;
        nghttp2_data_provider p = {.read_callback = read_body};
        return nghttp2_submit_response(s, f->hd.stream_id, flood, 5002, &p)
                   ? NGHTTP2_ERR_CALLBACK_FAILURE
                   : 0;
    }
    if (h->what == SILENT)
        return 0;
    if (h->what >= RESET_REFUSED)
        return nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, f->hd.stream_id,
                                         reset[h->what - RESET_REFUSED])
                   ? NGHTTP2_ERR_CALLBACK_FAILURE
                   : 0;
    h->trailers = h->what != NO_TRAILERS && h->what != NOT_GRPC && h->what != WRONG_TYPE &&
                  h->what != HTTP_ERROR;
    h->sent = 0;
    switch (h->what) {
    case WELL_FORMED:
    case STATUS_99:
        h->body = reply, h->body_len = sizeof reply;
        break;
    case TWO_REPLIES:
        h->body = twice, h->body_len = sizeof twice;
        break;
    case NO_MESSAGE:
        h->body = empty, h->body_len = 0;
        break;
    case COMPRESSED:
    case UNKNOWN_ENCODING:
        h->body = packed, h->body_len = sizeof packed;
        break;
    case CUT_MESSAGE:
        h->body = cut, h->body_len = sizeof cut;
        break;
    case NO_TRAILERS:
    case NO_STATUS:
        h->body = empty, h->body_len = sizeof empty;
        break;
    case NOT_GRPC:
    case WRONG_TYPE:
    case HTTP_ERROR:
        h->body = busy, h->body_len = 4;
        break;
    case TOO_LARGE:
        h->body = big, h->body_len = sizeof big;
        break;
    case NOT_THE_MESSAGE:
        h->body = garbage, h->body_len = sizeof garbage;
        break;
    default: /* the resets, answered above */
        break;
    }
    nghttp2_nv grpc[] = {NV(":status", "200"), NV("content-type", "application/grpc"),
                         NV("grpc-encoding", "snappy")};
    nghttp2_nv http[] = {NV(":status", "503"), NV("content-type", "text/plain")};
    nghttp2_nv json[] = {NV(":status", "200"), NV("content-type", "application/json")};
    nghttp2_data_provider p = {.read_callback = read_body};
    nghttp2_nv *nv = h->what == NOT_GRPC ? http : h->what == WRONG_TYPE ? json : grpc;
    if (h->what == HTTP_ERROR) {
        http[0].value = (uint8_t *)http_error;
        http[0].valuelen = strlen(http_error);
        nv = http;
    }
    return nghttp2_submit_response(s, f->hd.stream_id, nv, h->what == UNKNOWN_ENCODING ? 3 : 2, &p)
               ? NGHTTP2_ERR_CALLBACK_FAILURE
               : 0;
}

/* One connection: the server's SETTINGS, then answers until the client goes. */
static void *serve(void *arg)
{
    hostile *h = arg;
    h->fd = accept(h->listen_fd, NULL, NULL);
    if (h->fd < 0) /* the client never came: call() shut the listener down */
        return NULL;
    nghttp2_session_callbacks *cb;
    nghttp2_session *s;
    CHECK_INT(nghttp2_session_callbacks_new(&cb), 0);
    nghttp2_session_callbacks_set_send_callback(cb, send_cb);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame);
    nghttp2_option *opt;
    CHECK_INT(nghttp2_option_new(&opt), 0);
    /* nghttp2 bounds a header block by its fields' plain size: HEADER_FLOOD's 15 MB must go */
    nghttp2_option_set_max_send_header_block_length(opt, 64u << 20);
    CHECK_INT(nghttp2_session_server_new2(&s, cb, h, opt), 0);
    nghttp2_option_del(opt);
    nghttp2_session_callbacks_del(cb);
    CHECK_INT(nghttp2_submit_settings(s, NGHTTP2_FLAG_NONE, NULL, 0), 0);
    uint8_t buf[16384];
    while (nghttp2_session_want_read(s) || nghttp2_session_want_write(s)) {
        if (nghttp2_session_send(s) != 0)
            break;
        struct pollfd pf = {h->fd, POLLIN, 0};
        if (h->what == SILENT && poll(&pf, 1, 2000) == 0)
            break; /* a client that does not keep its deadline is not held for ever */
        ssize_t n = recv(h->fd, buf, sizeof buf, 0);
        if (n <= 0 || nghttp2_session_mem_recv(s, buf, (size_t)n) < 0)
            break;
    }
    nghttp2_session_del(s);
    close(h->fd);
    return NULL;
}

/* A SayHello to a server that answers as `what` says: the status code, and the reply's text or
 * the status message. */
static int call(misdeed what, char *text, size_t cap)
{
    hostile h = {.what = what};
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    h.listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(h.listen_fd >= 0 && bind(h.listen_fd, (struct sockaddr *)&a, sizeof a) == 0 &&
          listen(h.listen_fd, 1) == 0 && getsockname(h.listen_fd, (struct sockaddr *)&a, &al) == 0);
    pthread_t t;
    test_thread(&t, serve, &h);
    char target[64];
    snprintf(target, sizeof target, "127.0.0.1:%d", ntohs(a.sin_port));
    ccz_rpc_channel_opts o = CCZ_RPC_CHANNEL_OPTS_INIT;
    o.max_message = 1024;
    ccz_rpc_channel *ch = NULL;
    CHECK_OK(ccz_rpc_channel_new(&ch, target, &o));
    Ratls__HelloRequest req = RATLS__HELLO_REQUEST__INIT;
    req.name = "client";
    ProtobufCMessage *resp = NULL;
    ccz_rpc_status st;
    ccz_rpc_call_opts co = {CCZ_RPC_CALL_OPTS_VERSION, deadline_ms, NULL};
    CHECK_OK(ccz_rpc_unary(ch, &resp, &st, "/ratls.Greeter/SayHello", &req.base,
                           &ratls__hello_reply__descriptor, &co));
    CHECK((resp != NULL) == (st.code == CCZ_RPC_OK));
    snprintf(text, cap, "%s", resp ? ((Ratls__HelloReply *)resp)->message : st.message);
    const ccz_buf *note = ccz_rpc_md_get(&st.headers, "x-note");
    snprintf(note_header, sizeof note_header, "%.*s", note ? (int)note->len : 0,
             note ? (const char *)note->ptr : "");
    note = ccz_rpc_md_get(&st.trailers, "x-note");
    snprintf(note_trailer, sizeof note_trailer, "%.*s", note ? (int)note->len : 0,
             note ? (const char *)note->ptr : "");
    headers_kept = st.headers.n;
    if (resp)
        protobuf_c_message_free_unpacked(resp, NULL);
    int code = st.code;
    ccz_rpc_status_free(&st);
    ccz_rpc_channel_free(ch);         /* the connection closes: the server's thread ends */
    shutdown(h.listen_fd, SHUT_RDWR); /* and one still in accept() returns */
    pthread_join(t, NULL);
    close(h.listen_fd);
    return code;
}

static void test_hostile_answers(void)
{
    signal(SIGPIPE, SIG_IGN);
    char text[600];
    CHECK_INT(call(WELL_FORMED, text, sizeof text), CCZ_RPC_OK);
    CHECK_STR(text, "hi");
    CHECK_INT(call(CUT_MESSAGE, text, sizeof text), CCZ_RPC_INTERNAL);
    CHECK_STR(text, "the response ended inside a message");
    CHECK_INT(call(NO_TRAILERS, text, sizeof text), CCZ_RPC_INTERNAL);
    CHECK_STR(text, "the server closed the stream without a status");
    CHECK_INT(call(NO_STATUS, text, sizeof text), CCZ_RPC_INTERNAL);
    CHECK_STR(text, "the response ended without grpc-status");
    CHECK_INT(call(NOT_GRPC, text, sizeof text), CCZ_RPC_UNAVAILABLE);
    CHECK_CONTAINS(text, "the server answered HTTP status 503, not a gRPC response");
    CHECK_INT(call(TOO_LARGE, text, sizeof text), CCZ_RPC_RESOURCE_EXHAUSTED);
    CHECK_CONTAINS(text, "gRPC message of 1048576 bytes exceeds the limit of 1024");
    CHECK_INT(call(NOT_THE_MESSAGE, text, sizeof text), CCZ_RPC_INTERNAL);
    CHECK_CONTAINS(text, "cannot be parsed as the method's message");
    CHECK_INT(call(TWO_REPLIES, text, sizeof text), CCZ_RPC_INTERNAL);
    CHECK_STR(text, "more than one response to a unary call");
    CHECK_INT(call(NO_MESSAGE, text, sizeof text), CCZ_RPC_UNIMPLEMENTED);
    CHECK_STR(text, "the server sent no response message");
    CHECK_INT(call(COMPRESSED, text, sizeof text), CCZ_RPC_INTERNAL);
    CHECK_STR(text, "a compressed response without a grpc-encoding");
    CHECK_INT(call(UNKNOWN_ENCODING, text, sizeof text), CCZ_RPC_INTERNAL);
    CHECK_STR(text, "the response is compressed with an unsupported grpc-encoding");
    /* gRPC's mapping of HTTP answers: 200 that is not gRPC is UNKNOWN; a status past the 17
     * codes is UNKNOWN too */
    CHECK_INT(call(WRONG_TYPE, text, sizeof text), CCZ_RPC_UNKNOWN);
    CHECK_CONTAINS(text, "the server answered HTTP status 200, not a gRPC response");
    CHECK_INT(call(STATUS_99, text, sizeof text), CCZ_RPC_UNKNOWN);
    /* a stream reset instead of an answer, by gRPC's mapping of HTTP/2 error codes */
    CHECK_INT(call(RESET_REFUSED, text, sizeof text), CCZ_RPC_UNAVAILABLE);
    CHECK_STR(text, "the server refused the stream (going away)");
    CHECK_INT(call(RESET_CANCEL, text, sizeof text), CCZ_RPC_CANCELLED);
    CHECK_STR(text, "the server cancelled the call");
    CHECK_INT(call(RESET_CALM, text, sizeof text), CCZ_RPC_RESOURCE_EXHAUSTED);
    CHECK_STR(text, "the server reset the stream: ENHANCE_YOUR_CALM (too much traffic)");
    CHECK_INT(call(RESET_SECURITY, text, sizeof text), CCZ_RPC_PERMISSION_DENIED);
    CHECK_STR(text, "the server reset the stream: INADEQUATE_SECURITY");
    CHECK_INT(call(RESET_PROTOCOL, text, sizeof text), CCZ_RPC_INTERNAL);
    CHECK_CONTAINS(text, "the server reset the stream: ");
}

/* A server that never answers: the call's deadline is the client's to keep. */
static void test_silent_answer(void)
{
    signal(SIGPIPE, SIG_IGN);
    char text[600];
    deadline_ms = 300;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK_INT(call(SILENT, text, sizeof text), CCZ_RPC_DEADLINE_EXCEEDED);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    CHECK_STR(text, "deadline exceeded");
    int64_t took = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    CHECK(took >= 290 && took < 1800);
    deadline_ms = 5000;
}

/* A grpc-status that is not one or two digits is UNKNOWN, never a code its digits start. */
static void test_malformed_status(void)
{
    signal(SIGPIPE, SIG_IGN);
    static const char *const bad[] = {"", "0x", "000", "1x"};
    char text[600];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        bad_status = bad[i];
        CHECK_INT(call(STATUS_99, text, sizeof text), CCZ_RPC_UNKNOWN);
    }
    bad_status = "16";
    CHECK_INT(call(STATUS_99, text, sizeof text), CCZ_RPC_UNAUTHENTICATED);
    bad_status = "99";
}

/* HTTP errors without grpc-status, by gRPC's mapping of HTTP status codes. */
static void test_http_errors(void)
{
    signal(SIGPIPE, SIG_IGN);
    static const struct {
        const char *http;
        int code;
    } map[] = {{"400", CCZ_RPC_INTERNAL},          {"401", CCZ_RPC_UNAUTHENTICATED},
               {"403", CCZ_RPC_PERMISSION_DENIED}, {"404", CCZ_RPC_UNIMPLEMENTED},
               {"429", CCZ_RPC_UNAVAILABLE},       {"502", CCZ_RPC_UNAVAILABLE},
               {"504", CCZ_RPC_UNAVAILABLE},       {"500", CCZ_RPC_UNKNOWN}};
    char text[600], want[128];
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        http_error = map[i].http;
        CHECK_INT(call(HTTP_ERROR, text, sizeof text), map[i].code);
        snprintf(want, sizeof want, "the server answered HTTP status %s, not a gRPC response",
                 map[i].http);
        CHECK_STR(text, want);
    }
    http_error = "503";
}

/* A trailers-only answer: its status, and its metadata as trailers, not headers. */
static void test_trailers_only(void)
{
    signal(SIGPIPE, SIG_IGN);
    char text[600];
    CHECK_INT(call(TRAILERS_ONLY, text, sizeof text), CCZ_RPC_NOT_FOUND);
    CHECK_STR(text, "gone");
    CHECK_STR(note_trailer, "t-only");
    CHECK_STR(note_header, "");
    CHECK_INT(call(WELL_FORMED, text, sizeof text), CCZ_RPC_OK);
    CHECK_STR(note_trailer, "");
}

/* Response headers past the 16 KiB the client announces (SETTINGS_MAX_HEADER_LIST_SIZE): 5000
 * of 3000 bytes, 15 MB that HPACK's table sends as a byte each. The call ends
 * RESOURCE_EXHAUSTED, and they are not kept. */
static void test_header_flood(void)
{
    signal(SIGPIPE, SIG_IGN);
    char text[600];
    CHECK_INT(call(HEADER_FLOOD, text, sizeof text), CCZ_RPC_RESOURCE_EXHAUSTED);
    CHECK_STR(text, "the response headers exceed 16384 bytes");
    CHECK(headers_kept <= 5); /* what fits in 16 KiB */
}

TEST_MAIN(T(test_hostile_answers), T(test_silent_answer), T(test_malformed_status),
          T(test_http_errors), T(test_trailers_only), T(test_header_flood))
