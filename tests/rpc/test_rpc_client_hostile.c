/* SPDX-License-Identifier: Apache-2.0 */
/* The gRPC client against a hostile plaintext (h2c) server, written here on nghttp2's server
 * API: a response that ends inside a message, one without trailers, trailers without
 * grpc-status, one that is not gRPC (HTTP 503, or 200 of application/json), one whose message
 * announces more than the channel's limit, one whose message is not the method's, two messages
 * for a unary call, none, a message flagged compressed without an encoding or with one never
 * offered, a grpc-status of 99 (or empty, or not digits, or of three), a stream reset with each
 * code gRPC maps, HTTP errors by gRPC's mapping (of application/grpc too, without a body), a
 * trailers-only answer (its metadata are trailers), response headers past the 16 KiB this
 * client announces. Each call ends with its code and reason (one the client decided is not
 * replaced by the trailers' grpc-message); none passes for a success, and a well-formed answer
 * from the same server does. A server that sends GOAWAY while a call streams: that call
 * finishes on its connection, new ones go to a new connection. Bytes that are not HTTP/2 frames
 * once the connection is up: the call ends at once, UNAVAILABLE. A server of one stream at a
 * time: a call queued behind another ends at its own deadline. */
#include <arpa/inet.h>
#include <netinet/in.h>
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
    RESET_PROTOCOL,
    GOAWAY_LONG,   /* GOAWAY, a first message, the rest once `answered` (another call's answer) */
    NO_TYPE,       /* HTTP 200 without a content-type, then a well-formed answer */
    TRAILER_FLOOD, /* a well-formed answer whose trailers are 5000 fields of 3000 bytes */
    GOAWAY_REFUSE, /* GOAWAY with last stream 0 (the request unprocessed); the next connection
                      is WELL_FORMED */
    GOAWAY_LATE,   /* the response's headers, then GOAWAY with last stream 0 all the same; the
                      next connection is WELL_FORMED */
    PADDED,        /* a well-formed answer whose headers add up to 16384 + pad_over bytes */
    LONG_KEYS,     /* a well-formed answer with metadata keys of 255 and of 256 bytes */
    TYPED_ERROR,   /* HTTP http_error of application/grpc, headers only (their END_STREAM) */
    GARBAGE,       /* bytes that are not HTTP/2 frames, the connection kept open */
    BAD_HEADER,    /* a well-formed answer whose headers hold one HTTP/2 forbids (connection) */
    SILENT_ONE,    /* SILENT, one stream at a time (SETTINGS_MAX_CONCURRENT_STREAMS 1) */
    STATUS_FIRST,  /* grpc-status 0 in the response's headers (not their END_STREAM), then a
                      well-formed answer */
    GOAWAY_ONE     /* one stream at a time, the first answered under a GOAWAY naming it last;
                      the next connection is WELL_FORMED */
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
static const char *first_status = "0"; /* STATUS_FIRST's grpc-status, in the headers */
/* the last call's x-note metadata, in its headers and in its trailers ("" if none) */
static char note_header[64], note_trailer[64];
static size_t headers_kept;        /* metadata entries the last call kept in its headers */
static size_t trailers_kept;       /* and in its trailers */
static int64_t deadline_ms = 5000; /* the calls' */
static atomic_bool answered;       /* a WELL_FORMED answer was given (for GOAWAY_LONG) */
static int64_t reset_code = -1;    /* the error code of the client's last RST_STREAM */
static int settings_delay_ms;      /* how long the server waits before its SETTINGS */
static char timeout_seen[32];      /* the grpc-timeout of the last request ("" if none) */
static atomic_int requests;        /* requests received whole, on every connection */
static atomic_int hung_up;         /* GOAWAY_LONG connections the client closed */
static int pad_over;               /* PADDED's headers: bytes past the client's 16384 */
/* the client's SETTINGS, as the last request found them */
static uint32_t told_header_list, told_push, told_window;

#define NV(n, v)                                                                                   \
    {                                                                                              \
        (uint8_t *)n, (uint8_t *)v, sizeof n - 1, sizeof v - 1, NGHTTP2_NV_FLAG_NONE               \
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
        if (h->trailers && h->what == TRAILER_FLOOD) {
            static char value[3001];
            static nghttp2_nv flood[5001] = {NV("grpc-status", "0")};
            memset(value, 'v', 3000);
            for (int i = 1; i < 5001; i++)
                flood[i] = (nghttp2_nv){(uint8_t *)"x-flood", (uint8_t *)value, 7, 3000,
                                        NGHTTP2_NV_FLAG_NONE};
            *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
            if (nghttp2_submit_trailer(s, id, flood, 5001) != 0)
                return NGHTTP2_ERR_CALLBACK_FAILURE;
        } else if (h->trailers) {
            /* a grpc-message that must not replace the reason of a call the client ended */
            nghttp2_nv t[] = {h->what == NO_STATUS ? (nghttp2_nv)NV("x-note", "no status")
                                                   : (nghttp2_nv)NV("grpc-status", "0"),
                              NV("grpc-message", "all%20is%20well")};
            if (h->what == STATUS_99)
                t[0].value = (uint8_t *)bad_status, t[0].valuelen = strlen(bad_status);
            *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
            if (nghttp2_submit_trailer(s, id, t, 2) != 0)
                return NGHTTP2_ERR_CALLBACK_FAILURE;
        }
        if (h->what == WELL_FORMED)
            atomic_store(&answered, true);
    }
    return (ssize_t)n;
}

/* GOAWAY_LONG's answer: a message, then (once `answered`, or after 3 s) the trailers. */
static ssize_t read_long(nghttp2_session *s, int32_t id, uint8_t *buf, size_t len, uint32_t *flags,
                         nghttp2_data_source *src, void *user)
{
    (void)src, (void)len;
    hostile *h = user;
    static const uint8_t reply[] = {0, 0, 0, 0, 4, 0x0a, 0x02, 'h', 'i'};
    if (!h->sent) {
        memcpy(buf, reply, sizeof reply);
        h->sent = sizeof reply;
        return sizeof reply;
    }
    if (!h->trailers)
        return NGHTTP2_ERR_DEFERRED;
    nghttp2_nv t[] = {NV("grpc-status", "0")};
    *flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
    return nghttp2_submit_trailer(s, id, t, 1) ? NGHTTP2_ERR_CALLBACK_FAILURE : 0;
}

static int on_req_header(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name,
                         size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
                         void *user)
{
    (void)s, (void)f, (void)flags, (void)user;
    if (namelen == 12 && !memcmp(name, "grpc-timeout", 12))
        snprintf(timeout_seen, sizeof timeout_seen, "%.*s", (int)valuelen, (const char *)value);
    return 0;
}

/* GOAWAY_LATE's answer: once its headers are out, GOAWAY with last stream 0, and nothing
 * more on the stream. */
static ssize_t read_goaway(nghttp2_session *s, int32_t id, uint8_t *buf, size_t len,
                           uint32_t *flags, nghttp2_data_source *src, void *user)
{
    (void)id, (void)buf, (void)len, (void)flags, (void)src;
    hostile *h = user;
    if (!h->sent++ && nghttp2_submit_goaway(s, NGHTTP2_FLAG_NONE, 0, NGHTTP2_NO_ERROR, NULL, 0))
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    return NGHTTP2_ERR_DEFERRED;
}

/* The request is in (its END_STREAM): the answer of this case. */
static int on_frame(nghttp2_session *s, const nghttp2_frame *f, void *user)
{
    hostile *h = user;
    if (f->hd.type == NGHTTP2_RST_STREAM)
        reset_code = f->rst_stream.error_code;
    if (!(f->hd.flags & NGHTTP2_FLAG_END_STREAM) ||
        (f->hd.type != NGHTTP2_DATA && f->hd.type != NGHTTP2_HEADERS))
        return 0;
    atomic_fetch_add(&requests, 1);
    told_header_list =
        nghttp2_session_get_remote_settings(s, NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE);
    told_push = nghttp2_session_get_remote_settings(s, NGHTTP2_SETTINGS_ENABLE_PUSH);
    told_window = nghttp2_session_get_remote_settings(s, NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE);
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
    if (h->what == PADDED || h->what == LONG_KEYS) {
        /* as HTTP/2 counts a header list: name + value + 32 a field; :status and content-type
         * take 42 + 60, x-pad 5 + 32 of the rest */
        static char pad[16384], key255[256], key256[257];
        size_t pad_len = (size_t)(16384 + pad_over - 42 - 60 - 37);
        memset(pad, 'p', pad_len);
        memset(key255, 'k', 255);
        memset(key256, 'k', 256);
        memcpy(key255, "x-", 2);
        memcpy(key256, "x-", 2);
        nghttp2_nv nv[] = {NV(":status", "200"),
                           NV("content-type", "application/grpc"),
                           {(uint8_t *)"x-pad", (uint8_t *)pad, 5, pad_len, NGHTTP2_NV_FLAG_NONE}};
        nghttp2_nv keys[] = {NV(":status", "200"),
                             NV("content-type", "application/grpc"),
                             {(uint8_t *)key255, (uint8_t *)"a", 255, 1, NGHTTP2_NV_FLAG_NONE},
                             {(uint8_t *)key256, (uint8_t *)"b", 256, 1, NGHTTP2_NV_FLAG_NONE}};
        h->trailers = true;
        h->sent = 0;
        h->body = reply, h->body_len = sizeof reply;
        nghttp2_data_provider p = {.read_callback = read_body};
        int rv = h->what == PADDED ? nghttp2_submit_response(s, f->hd.stream_id, nv, 3, &p)
                                   : nghttp2_submit_response(s, f->hd.stream_id, keys, 4, &p);
        return rv ? NGHTTP2_ERR_CALLBACK_FAILURE : 0;
    }
    if (h->what == TYPED_ERROR) {
        nghttp2_nv nv[] = {NV(":status", "503"), NV("content-type", "application/grpc")};
        nv[0].value = (uint8_t *)http_error;
        nv[0].valuelen = strlen(http_error);
        return nghttp2_submit_response(s, f->hd.stream_id, nv, 2, NULL)
                   ? NGHTTP2_ERR_CALLBACK_FAILURE
                   : 0;
    }
    if (h->what == SILENT || h->what == SILENT_ONE)
        return 0;
    if (h->what == GARBAGE) { /* read as a frame header of 7.6 MB: past any frame's size */
        static const char junk[] = "trash, not HTTP/2 frames";
        return send(h->fd, junk, sizeof junk - 1, MSG_NOSIGNAL) == sizeof junk - 1
                   ? 0
                   : NGHTTP2_ERR_CALLBACK_FAILURE;
    }
    if (h->what == GOAWAY_REFUSE) /* going away: nothing was processed */
        return nghttp2_submit_goaway(s, NGHTTP2_FLAG_NONE, 0, NGHTTP2_NO_ERROR, NULL, 0)
                   ? NGHTTP2_ERR_CALLBACK_FAILURE
                   : 0;
    if (h->what == GOAWAY_ONE) { /* this stream answered, no other opened here */
        h->trailers = true;
        h->sent = 0;
        h->body = reply, h->body_len = sizeof reply;
        nghttp2_nv ok[] = {NV(":status", "200"), NV("content-type", "application/grpc")};
        nghttp2_data_provider p = {.read_callback = read_body};
        return nghttp2_submit_goaway(s, NGHTTP2_FLAG_NONE, f->hd.stream_id, NGHTTP2_NO_ERROR, NULL,
                                     0) ||
                       nghttp2_submit_response(s, f->hd.stream_id, ok, 2, &p)
                   ? NGHTTP2_ERR_CALLBACK_FAILURE
                   : 0;
    }
    if (h->what == GOAWAY_LATE) { /* answering, then claiming it never saw the call */
        nghttp2_nv ok[] = {NV(":status", "200"), NV("content-type", "application/grpc")};
        nghttp2_data_provider p = {.read_callback = read_goaway};
        h->sent = 0;
        return nghttp2_submit_response(s, f->hd.stream_id, ok, 2, &p) ? NGHTTP2_ERR_CALLBACK_FAILURE
                                                                      : 0;
    }
    if (h->what == GOAWAY_LONG) { /* no stream after this one; this one goes on */
        nghttp2_nv ok[] = {NV(":status", "200"), NV("content-type", "application/grpc")};
        nghttp2_data_provider p = {.read_callback = read_long};
        h->sent = 0;
        h->trailers = false;
        return nghttp2_submit_goaway(s, NGHTTP2_FLAG_NONE, f->hd.stream_id, NGHTTP2_NO_ERROR, NULL,
                                     0) ||
                       nghttp2_submit_response(s, f->hd.stream_id, ok, 2, &p)
                   ? NGHTTP2_ERR_CALLBACK_FAILURE
                   : 0;
    }
    if (h->what >= RESET_REFUSED && h->what <= RESET_PROTOCOL)
        return nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, f->hd.stream_id,
                                         reset[h->what - RESET_REFUSED])
                   ? NGHTTP2_ERR_CALLBACK_FAILURE
                   : 0;
    h->trailers = h->what != NO_TRAILERS && h->what != NOT_GRPC && h->what != WRONG_TYPE &&
                  h->what != HTTP_ERROR;
    h->sent = 0;
    switch (h->what) {
    case WELL_FORMED:
    case STATUS_FIRST:
    case STATUS_99:
    case NO_TYPE:
    case TRAILER_FLOOD:
    case BAD_HEADER:
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
    if (h->what == BAD_HEADER)
        grpc[2] = (nghttp2_nv)NV("connection", "keep-alive");
    if (h->what == STATUS_FIRST) {
        grpc[2] = (nghttp2_nv)NV("grpc-status", "0");
        grpc[2].value = (uint8_t *)first_status;
        grpc[2].valuelen = strlen(first_status);
    }
    nghttp2_nv http[] = {NV(":status", "503"), NV("content-type", "text/plain")};
    nghttp2_nv json[] = {NV(":status", "200"), NV("content-type", "application/json")};
    nghttp2_data_provider p = {.read_callback = read_body};
    nghttp2_nv *nv = h->what == NOT_GRPC ? http : h->what == WRONG_TYPE ? json : grpc;
    if (h->what == HTTP_ERROR) {
        http[0].value = (uint8_t *)http_error;
        http[0].valuelen = strlen(http_error);
        nv = http;
    }
    size_t nvlen = h->what == UNKNOWN_ENCODING || h->what == BAD_HEADER || h->what == STATUS_FIRST
                       ? 3
                   : h->what == NO_TYPE ? 1
                                        : 2;
    return nghttp2_submit_response(s, f->hd.stream_id, nv, nvlen, &p) ? NGHTTP2_ERR_CALLBACK_FAILURE
                                                                      : 0;
}

/* What the session has to send, in one write: the client reads it at once (its own reset of a
 * call does not go out before the trailers behind the message it refused are read). */
static int send_all(nghttp2_session *s, int fd)
{
    uint8_t out[65536];
    size_t n = 0;
    const uint8_t *data;
    ssize_t got;
    while ((got = nghttp2_session_mem_send(s, &data)) != 0) {
        if (got < 0)
            return -1;
        if (n + (size_t)got > sizeof out) {
            if (send(fd, out, n, MSG_NOSIGNAL) != (ssize_t)n)
                return -1;
            n = 0;
        }
        if ((size_t)got > sizeof out)
            return send(fd, data, (size_t)got, MSG_NOSIGNAL) == got ? 0 : -1;
        memcpy(out + n, data, (size_t)got);
        n += (size_t)got;
    }
    return n && send(fd, out, n, MSG_NOSIGNAL) != (ssize_t)n ? -1 : 0;
}

static void *serve(void *arg);

/* One connection: the server's SETTINGS, then answers until the client goes. GOAWAY_LONG
 * serves the next connection (WELL_FORMED) from a second thread. */
static void *serve(void *arg)
{
    hostile *h = arg;
    h->fd = accept(h->listen_fd, NULL, NULL);
    if (h->fd < 0) /* the client never came: call() shut the listener down */
        return NULL;
    pthread_t next;
    hostile h2 = {.listen_fd = h->listen_fd, .what = WELL_FORMED};
    bool then = h->what == GOAWAY_LONG || h->what == GOAWAY_REFUSE || h->what == GOAWAY_LATE ||
                h->what == GOAWAY_ONE;
    if (then)
        test_thread(&next, serve, &h2);
    if (settings_delay_ms) /* a slow server: connecting takes this long */
        poll(NULL, 0, settings_delay_ms);
    nghttp2_session_callbacks *cb;
    nghttp2_session *s;
    CHECK_INT(nghttp2_session_callbacks_new(&cb), 0);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame);
    nghttp2_session_callbacks_set_on_header_callback(cb, on_req_header);
    nghttp2_option *opt;
    CHECK_INT(nghttp2_option_new(&opt), 0);
    /* nghttp2 bounds a header block by its fields' plain size: HEADER_FLOOD's 15 MB must go */
    nghttp2_option_set_max_send_header_block_length(opt, 64u << 20);
    CHECK_INT(nghttp2_session_server_new2(&s, cb, h, opt), 0);
    nghttp2_option_del(opt);
    nghttp2_session_callbacks_del(cb);
    nghttp2_settings_entry one = {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 1};
    CHECK_INT(nghttp2_submit_settings(s, NGHTTP2_FLAG_NONE, &one,
                                      h->what == SILENT_ONE || h->what == GOAWAY_ONE),
              0);
    uint8_t buf[16384];
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (nghttp2_session_want_read(s) || nghttp2_session_want_write(s)) {
        if (send_all(s, h->fd) != 0)
            break;
        struct pollfd pf = {h->fd, POLLIN, 0};
        if ((h->what == SILENT || h->what == SILENT_ONE || h->what == GARBAGE) &&
            poll(&pf, 1, 2000) == 0)
            break; /* a client that does not keep its deadline is not held for ever */
        if (h->what == GOAWAY_LONG && poll(&pf, 1, 20) == 0) {
            clock_gettime(CLOCK_MONOTONIC, &t);
            if (!h->trailers && h->sent && (atomic_load(&answered) || t.tv_sec - t0.tv_sec >= 3)) {
                h->trailers = true; /* the other call was answered (or never will be) */
                nghttp2_session_resume_data(s, 1);
            }
            continue;
        }
        ssize_t n = recv(h->fd, buf, sizeof buf, 0);
        if (n <= 0 || nghttp2_session_mem_recv(s, buf, (size_t)n) < 0)
            break;
    }
    nghttp2_session_del(s);
    if (h->what == GOAWAY_LONG) { /* its session is over: the client's end of the connection */
        while (recv(h->fd, buf, sizeof buf, 0) > 0)
            ;
        atomic_fetch_add(&hung_up, 1);
    }
    close(h->fd);
    if (then)
        pthread_join(next, NULL);
    return NULL;
}

/* h listening on a loopback port (backlog as given) and served by thread *t; its
 * "127.0.0.1:PORT" in target. */
static void hostile_start(hostile *h, int backlog, pthread_t *t, char target[64])
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    h->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(h->listen_fd >= 0 && bind(h->listen_fd, (struct sockaddr *)&a, sizeof a) == 0 &&
          listen(h->listen_fd, backlog) == 0 &&
          getsockname(h->listen_fd, (struct sockaddr *)&a, &al) == 0);
    test_thread(t, serve, h);
    snprintf(target, 64, "127.0.0.1:%d", ntohs(a.sin_port));
}

/* A SayHello to a server that answers as `what` says: the status code, and the reply's text or
 * the status message. */
static int call(misdeed what, char *text, size_t cap)
{
    hostile h = {.what = what};
    pthread_t t;
    char target[64];
    hostile_start(&h, 1, &t, target);
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
    trailers_kept = st.trailers.n;
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
    atomic_store(&requests, 0);
    CHECK_INT(call(NOT_GRPC, text, sizeof text), CCZ_RPC_UNAVAILABLE);
    CHECK_CONTAINS(text, "the server answered HTTP status 503, not a gRPC response");
    CHECK_INT(atomic_load(&requests), 1); /* answered, so not sent again */
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
    /* no content-type at all is not application/grpc either, whatever follows */
    CHECK_INT(call(NO_TYPE, text, sizeof text), CCZ_RPC_UNKNOWN);
    CHECK_CONTAINS(text, "the server answered HTTP status 200, not a gRPC response");
    CHECK_INT(call(STATUS_99, text, sizeof text), CCZ_RPC_UNKNOWN);
    /* a stream reset instead of an answer, by gRPC's mapping of HTTP/2 error codes; a refused
     * stream was not processed, so the call is sent once more (gRPC's transparent retry), and
     * refused again here */
    atomic_store(&requests, 0);
    CHECK_INT(call(RESET_REFUSED, text, sizeof text), CCZ_RPC_UNAVAILABLE);
    CHECK_STR(text, "the server refused the stream (going away)");
    CHECK_INT(atomic_load(&requests), 2);
    atomic_store(&requests, 0);
    CHECK_INT(call(RESET_CANCEL, text, sizeof text), CCZ_RPC_CANCELLED);
    CHECK_INT(atomic_load(&requests), 1); /* a call the server may have seen is not retried */
    CHECK_STR(text, "the server cancelled the call");
    CHECK_INT(call(RESET_CALM, text, sizeof text), CCZ_RPC_RESOURCE_EXHAUSTED);
    CHECK_STR(text, "the server reset the stream: ENHANCE_YOUR_CALM (too much traffic)");
    CHECK_INT(call(RESET_SECURITY, text, sizeof text), CCZ_RPC_PERMISSION_DENIED);
    CHECK_STR(text, "the server reset the stream: INADEQUATE_SECURITY");
    CHECK_INT(call(RESET_PROTOCOL, text, sizeof text), CCZ_RPC_INTERNAL);
    CHECK_CONTAINS(text, "the server reset the stream: ");
    /* a response HTTP/2 forbids: the client's nghttp2 resets the stream, and says so (it was
     * told as the server's reset) */
    CHECK_INT(call(BAD_HEADER, text, sizeof text), CCZ_RPC_INTERNAL);
    CHECK_STR(text, "the server's response broke HTTP/2: the client reset the stream "
                    "(PROTOCOL_ERROR)");
}

/* A server that breaks HTTP/2 once the connection is up (bytes that are not frames, the socket
 * kept open): nghttp2 ends the session with a GOAWAY and returns no error, and the call ends
 * UNAVAILABLE at once with the protocol error named, not at its deadline. */
static void test_broken_http2(void)
{
    signal(SIGPIPE, SIG_IGN);
    char text[600];
    deadline_ms = 3000;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK_INT(call(GARBAGE, text, sizeof text), CCZ_RPC_UNAVAILABLE);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    CHECK_STR(text, "the server broke HTTP/2: FRAME_SIZE_ERROR (too large frame size)");
    int64_t took = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    CHECK(took < 1000);
    deadline_ms = 5000;
}

/* A server going away before it processed the call (GOAWAY with last stream 0): the call is
 * sent again on a new connection and answered there, as gRPC's transparent retry does. */
static void test_goaway_unprocessed_retried(void)
{
    signal(SIGPIPE, SIG_IGN);
    char text[600];
    atomic_store(&requests, 0);
    CHECK_INT(call(GOAWAY_REFUSE, text, sizeof text), CCZ_RPC_OK);
    CHECK_STR(text, "hi");
    CHECK_INT(atomic_load(&requests), 2);
}

/* A server that answered the call's headers and then sends GOAWAY with last stream 0, as if it
 * had not seen the call: the call was processed (its headers came), so it ends UNAVAILABLE and
 * is not sent again, which would run it twice. */
static void test_goaway_after_headers_not_retried(void)
{
    signal(SIGPIPE, SIG_IGN);
    char text[600];
    atomic_store(&requests, 0);
    CHECK_INT(call(GOAWAY_LATE, text, sizeof text), CCZ_RPC_UNAVAILABLE);
    CHECK_STR(text, "the server refused the stream (going away)");
    CHECK_INT(atomic_load(&requests), 1);
}

/* A server that never answers: the call's deadline is the client's to keep, and the client
 * resets the stream (CANCEL) when it passes. */
static void test_silent_answer(void)
{
    signal(SIGPIPE, SIG_IGN);
    char text[600];
    deadline_ms = 300;
    reset_code = -1;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK_INT(call(SILENT, text, sizeof text), CCZ_RPC_DEADLINE_EXCEEDED);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    CHECK_STR(text, "deadline exceeded");
    int64_t took = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    CHECK(took >= 290 && took < 1800);
    CHECK_INT(reset_code, NGHTTP2_CANCEL); /* gRPC: a deadline resets the stream with CANCEL */
    deadline_ms = 5000;
}

/* The grpc-timeout the server saw on an 800 ms call after 300 ms of connecting: in
 * milliseconds, 1 to 500 (the connect time taken off). */
static void check_timeout_after_connect(void)
{
    size_t n = strlen(timeout_seen);
    CHECK(n > 1 && timeout_seen[n - 1] == 'm');
    int sent = atoi(timeout_seen);
    if (sent < 1 || sent > 500) {
        fprintf(stderr, "grpc-timeout %s after connecting for 300 ms of 800\n", timeout_seen);
        test_failures++;
    }
}

/* The time ccz_rpc_unary takes to connect comes off the call's deadline, as docs/rpc.md says:
 * a server whose SETTINGS come 300 ms late is told (grpc-timeout) 500 ms of an 800 ms deadline
 * at most, and the call ends at that deadline, not 300 ms after it. */
static void test_unary_connect_time_off_deadline(void)
{
    signal(SIGPIPE, SIG_IGN);
    char text[600];
    deadline_ms = 800;
    settings_delay_ms = 300;
    timeout_seen[0] = '\0';
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK_INT(call(SILENT, text, sizeof text), CCZ_RPC_DEADLINE_EXCEEDED);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    CHECK_STR(text, "deadline exceeded");
    check_timeout_after_connect();
    int64_t took = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    CHECK(took >= 790);
    settings_delay_ms = 0;
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

/* HTTP errors without grpc-status, by gRPC's mapping of HTTP status codes (200 alone is
 * gRPC's: another 2xx is not). */
static void test_http_errors(void)
{
    signal(SIGPIPE, SIG_IGN);
    static const struct {
        const char *http;
        int code;
    } map[] = {{"400", CCZ_RPC_INTERNAL},          {"401", CCZ_RPC_UNAUTHENTICATED},
               {"403", CCZ_RPC_PERMISSION_DENIED}, {"404", CCZ_RPC_UNIMPLEMENTED},
               {"429", CCZ_RPC_UNAVAILABLE},       {"502", CCZ_RPC_UNAVAILABLE},
               {"504", CCZ_RPC_UNAVAILABLE},       {"500", CCZ_RPC_UNKNOWN},
               {"201", CCZ_RPC_UNKNOWN},           {"299", CCZ_RPC_UNKNOWN}};
    char text[600], want[128];
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        http_error = map[i].http;
        CHECK_INT(call(HTTP_ERROR, text, sizeof text), map[i].code);
        snprintf(want, sizeof want, "the server answered HTTP status %s, not a gRPC response",
                 map[i].http);
        CHECK_STR(text, want);
    }
    /* a non-200 answer is not gRPC, whatever its content-type says; one of headers alone
     * (END_STREAM on them, no grpc-status) is mapped the same */
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        http_error = map[i].http;
        CHECK_INT(call(TYPED_ERROR, text, sizeof text), map[i].code);
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
    /* the trailers have 16 KiB of their own, no more */
    CHECK_INT(call(TRAILER_FLOOD, text, sizeof text), CCZ_RPC_RESOURCE_EXHAUSTED);
    CHECK_STR(text, "the response headers exceed 16384 bytes");
    CHECK(trailers_kept <= 5);
}

/* Response headers of exactly the 16 KiB the client announces (in its SETTINGS, as the server
 * sees them) are taken; one byte more is not. */
static void test_header_list_edge(void)
{
    signal(SIGPIPE, SIG_IGN);
    char text[600];
    pad_over = 0;
    CHECK_INT(call(PADDED, text, sizeof text), CCZ_RPC_OK);
    CHECK_STR(text, "hi");
    /* what the client told the server in its SETTINGS: the list it takes, no pushes, a
     * stream's window of 1 MiB */
    CHECK_INT(told_header_list, 16384);
    CHECK_INT(told_push, 0);
    CHECK_INT(told_window, 1u << 20);
    pad_over = 1;
    CHECK_INT(call(PADDED, text, sizeof text), CCZ_RPC_RESOURCE_EXHAUSTED);
    CHECK_STR(text, "the response headers exceed 16384 bytes");
    pad_over = 0;
}

/* Metadata keys up to 255 bytes are kept; a longer one is dropped (the call goes on). */
static void test_long_metadata_keys(void)
{
    signal(SIGPIPE, SIG_IGN);
    char text[600];
    CHECK_INT(call(LONG_KEYS, text, sizeof text), CCZ_RPC_OK);
    CHECK_STR(text, "hi");
    CHECK_INT(headers_kept, 1);
}

/* A status the client decided (a second message for a unary call, one past its limit) stays the
 * call's, with its reason: the trailers' grpc-status and grpc-message that follow in the same
 * read replace neither (gRPC: the first final status wins). */
static void test_local_status_sticks(void)
{
    signal(SIGPIPE, SIG_IGN);
    char text[600];
    CHECK_INT(call(TWO_REPLIES, text, sizeof text), CCZ_RPC_INTERNAL);
    CHECK_STR(text, "more than one response to a unary call");
    CHECK_INT(call(TOO_LARGE, text, sizeof text), CCZ_RPC_RESOURCE_EXHAUSTED);
    CHECK_CONTAINS(text, "gRPC message of 1048576 bytes exceeds the limit of 1024");
    CHECK_INT(call(NOT_THE_MESSAGE, text, sizeof text), CCZ_RPC_INTERNAL);
    CHECK_CONTAINS(text, "cannot be parsed as the method's message");
    /* a status in the response's headers is the call's: the messages after it are not taken
     * (the first final status wins, and a message past it is no response) */
    CHECK_INT(call(STATUS_FIRST, text, sizeof text), CCZ_RPC_UNIMPLEMENTED);
    CHECK_STR(text, "the server sent no response message");
    /* nor does the trailers' grpc-status (0) replace it: the call ends with the headers' 9 */
    first_status = "9";
    CHECK_INT(call(STATUS_FIRST, text, sizeof text), CCZ_RPC_FAILED_PRECONDITION);
    CHECK_STR(text, "all is well"); /* the trailers' grpc-message: the server's status stands */
    first_status = "0";
    /* a status the server decided comes with its message */
    bad_status = "9";
    CHECK_INT(call(STATUS_99, text, sizeof text), CCZ_RPC_FAILED_PRECONDITION);
    bad_status = "99";
}

/* A SayHello from name started on ch with a deadline, reporting to on_message and on_done. */
static ccz_status start_hello(ccz_rpc_channel *ch, const char *name, int ms,
                              ccz_rpc_on_message on_message, ccz_rpc_on_done on_done, void *payload)
{
    Ratls__HelloRequest req = RATLS__HELLO_REQUEST__INIT;
    req.name = (char *)name;
    ccz_rpc_call_opts co = {CCZ_RPC_CALL_OPTS_VERSION, ms, NULL};
    return ccz_rpc_start(ch, NULL, "/ratls.Greeter/SayHello", &req.base,
                         &ratls__hello_reply__descriptor, &co, on_message, on_done, payload);
}

/* A call's end kept: its code and (the first 63 bytes of) its message. */
static void keep_end(int *code, char text[64], const ccz_rpc_status *st)
{
    *code = st->code;
    snprintf(text, 64, "%.63s", st->message);
}

typedef struct {
    ccz_rpc_channel *ch;
    int messages, start_status[2], done[3];
    char text[3][64], reply[64];
} goaway_calls;

static void second_done(const ccz_rpc_status *st, void *payload)
{
    goaway_calls *g = payload;
    keep_end(&g->done[1], g->text[1], st);
}

static void second_message(const ProtobufCMessage *m, void *payload)
{
    goaway_calls *g = payload;
    snprintf(g->reply, sizeof g->reply, "%.63s", ((const Ratls__HelloReply *)m)->message);
}

/* The long call's first message (after the GOAWAY): a new call, from inside the loop. */
static void long_message(const ProtobufCMessage *m, void *payload)
{
    (void)m;
    goaway_calls *g = payload;
    if (g->messages++)
        return;
    g->start_status[0] = start_hello(g->ch, "second", 5000, second_message, second_done, g);
    ccz_error_clear();
}

static void third_done(const ccz_rpc_status *st, void *payload)
{
    goaway_calls *g = payload;
    keep_end(&g->done[2], g->text[2], st);
}

/* The long call's end: a third call, on the new connection while the old one is let go. */
static void long_done(const ccz_rpc_status *st, void *payload)
{
    goaway_calls *g = payload;
    keep_end(&g->done[0], g->text[0], st);
    g->start_status[1] = start_hello(g->ch, "third", 5000, NULL, third_done, g);
    ccz_error_clear();
}

/* The server sends GOAWAY (as at a graceful shutdown or a maximum connection age) while a
 * call streams: the call finishes on that connection, and a call started meanwhile goes to a
 * new connection (not refused, not held until the first ends) and is answered before the
 * first call's end; later calls use the new connection, and the old one, let go when its last
 * call ends, takes none of them with it. */
static void test_goaway_new_calls_reconnect(void)
{
    signal(SIGPIPE, SIG_IGN);
    atomic_store(&answered, false);
    hostile h = {.what = GOAWAY_LONG};
    pthread_t t;
    char target[64];
    hostile_start(&h, 4, &t, target);
    ccz_rpc_channel_opts o = CCZ_RPC_CHANNEL_OPTS_INIT;
    goaway_calls g = {.start_status = {-1, -1}, .done = {-1, -1, -1}};
    atomic_store(&hung_up, 0);
    CHECK_OK(ccz_rpc_channel_new(&g.ch, target, &o));
    Ratls__HelloRequest req = RATLS__HELLO_REQUEST__INIT;
    req.name = "long";
    ccz_rpc_call_opts co = {CCZ_RPC_CALL_OPTS_VERSION, 10000, NULL};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK_OK(ccz_rpc_start(g.ch, NULL, "/t.S/Long", &req.base, &ratls__hello_reply__descriptor, &co,
                           long_message, long_done, &g));
    CHECK_OK(ccz_rpc_channel_run(g.ch));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    CHECK_INT(g.start_status[0], CCZ_OK);
    CHECK_INT(g.done[1], CCZ_RPC_OK);
    CHECK_STR(g.reply, "hi");
    CHECK_STR(g.text[1], "all is well");
    CHECK_INT(g.messages, 1);
    CHECK_INT(g.done[0], CCZ_RPC_OK);
    CHECK_STR(g.text[0], "");
    /* a call started as the old connection is let go is not ended with it */
    CHECK_INT(g.start_status[1], CCZ_OK);
    CHECK_INT(g.done[2], CCZ_RPC_OK);
    CHECK_STR(g.text[2], "all is well");
    /* the first call ended when the second was answered, not at the server's 3 s */
    CHECK((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 < 2500);
    /* the old connection, its last call ended, is closed then: not kept until the channel goes
     * (its server reads the end within 2 s, while the channel is still open) */
    for (int i = 0; i < 200 && atomic_load(&hung_up) < 1; i++)
        poll(NULL, 0, 10);
    CHECK_INT(atomic_load(&hung_up), 1);
    /* the next call goes to the new connection too */
    ProtobufCMessage *resp = NULL;
    ccz_rpc_status st;
    CHECK_OK(ccz_rpc_unary(g.ch, &resp, &st, "/ratls.Greeter/SayHello", &req.base,
                           &ratls__hello_reply__descriptor, &co));
    CHECK_INT(st.code, CCZ_RPC_OK);
    CHECK(resp && !strcmp(((Ratls__HelloReply *)resp)->message, "hi"));
    if (resp)
        protobuf_c_message_free_unpacked(resp, NULL);
    ccz_rpc_status_free(&st);
    ccz_rpc_channel_free(g.ch);
    shutdown(h.listen_fd, SHUT_RDWR);
    pthread_join(t, NULL);
    close(h.listen_fd);
}

typedef struct {
    ccz_rpc_channel *ch;
    int codes[2], started;
    char text[2][64];
} chained;

static void chained_done(const ccz_rpc_status *st, void *payload)
{
    chained *c = payload;
    keep_end(&c->codes[1], c->text[1], st);
}

/* The first call's end (its deadline: the client's reset being sent) starts the next. */
static void chain_next(const ccz_rpc_status *st, void *payload)
{
    chained *c = payload;
    keep_end(&c->codes[0], c->text[0], st);
    c->started = start_hello(c->ch, "next", 200, NULL, chained_done, c);
    ccz_error_clear();
}

/* A call whose on_done starts another on the same connection, called while the client sends
 * the first call's reset at its deadline (inside nghttp2's send: the new call must wait for
 * that send, not start one of its own inside it, which crashed). Both end at their deadlines. */
static void test_deadline_then_new_call(void)
{
    signal(SIGPIPE, SIG_IGN);
    hostile h = {.what = SILENT};
    pthread_t t;
    char target[64];
    hostile_start(&h, 1, &t, target);
    ccz_rpc_channel_opts o = CCZ_RPC_CHANNEL_OPTS_INIT;
    chained c = {.codes = {-1, -1}, .started = -1};
    CHECK_OK(ccz_rpc_channel_new(&c.ch, target, &o));
    CHECK_OK(start_hello(c.ch, "first", 200, NULL, chain_next, &c));
    CHECK_OK(ccz_rpc_channel_run(c.ch));
    CHECK_INT(c.codes[0], CCZ_RPC_DEADLINE_EXCEEDED);
    CHECK_STR(c.text[0], "deadline exceeded");
    CHECK_INT(c.started, CCZ_OK);
    CHECK_INT(c.codes[1], CCZ_RPC_DEADLINE_EXCEEDED);
    CHECK_STR(c.text[1], "deadline exceeded");
    ccz_rpc_channel_free(c.ch);
    shutdown(h.listen_fd, SHUT_RDWR);
    pthread_join(t, NULL);
    close(h.listen_fd);
}

static int64_t mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

typedef struct {
    int code;
    int64_t at;
    char text[64];
} ended;

static void end_at(const ccz_rpc_status *st, void *payload)
{
    ended *e = payload;
    keep_end(&e->code, e->text, st);
    e->at = mono_ms();
}

/* A server that takes one stream at a time and never answers: a second call waits in the
 * client's queue, and its deadline (shorter than the first call's) is kept there all the same:
 * it ends then, DEADLINE_EXCEEDED, not when the first call frees the stream. */
static void test_queued_call_deadline(void)
{
    signal(SIGPIPE, SIG_IGN);
    hostile h = {.what = SILENT_ONE};
    pthread_t t;
    char target[64];
    hostile_start(&h, 1, &t, target);
    ccz_rpc_channel_opts o = CCZ_RPC_CHANNEL_OPTS_INIT;
    ccz_rpc_channel *ch = NULL;
    CHECK_OK(ccz_rpc_channel_new(&ch, target, &o));
    ended first = {-1, 0, ""}, second = {-1, 0, ""};
    int64_t t0 = mono_ms();
    CHECK_OK(start_hello(ch, "first", 1500, NULL, end_at, &first));
    CHECK_OK(start_hello(ch, "second", 200, NULL, end_at, &second));
    CHECK_OK(ccz_rpc_channel_run(ch));
    CHECK_INT(first.code, CCZ_RPC_DEADLINE_EXCEEDED);
    CHECK_INT(second.code, CCZ_RPC_DEADLINE_EXCEEDED);
    fprintf(stderr, "queued call ended after %lld ms, first after %lld ms\n",
            (long long)(second.at - t0), (long long)(first.at - t0));
    CHECK(second.at - t0 < 1000);
    ccz_rpc_channel_free(ch);
    shutdown(h.listen_fd, SHUT_RDWR);
    pthread_join(t, NULL);
    close(h.listen_fd);
}

/* A call queued behind the server's one stream when the server goes away (GOAWAY naming the
 * first call's stream last): nghttp2 cannot open its stream on that connection, so it ends
 * UNAVAILABLE at once, unsent (not at its deadline); a synchronous unary call in its place is
 * sent again on a new connection and answered there. */
static void test_queued_call_goaway_retried(void)
{
    signal(SIGPIPE, SIG_IGN);
    hostile h = {.what = GOAWAY_ONE};
    pthread_t t;
    char target[64];
    hostile_start(&h, 2, &t, target);
    ccz_rpc_channel_opts o = CCZ_RPC_CHANNEL_OPTS_INIT;
    ccz_rpc_channel *ch = NULL;
    CHECK_OK(ccz_rpc_channel_new(&ch, target, &o));
    ended first = {-1, 0, ""}, second = {-1, 0, ""};
    atomic_store(&requests, 0);
    int64_t t0 = mono_ms();
    CHECK_OK(start_hello(ch, "first", 3000, NULL, end_at, &first));
    CHECK_OK(start_hello(ch, "second", 3000, NULL, end_at, &second));
    CHECK_OK(ccz_rpc_channel_run(ch));
    CHECK_INT(first.code, CCZ_RPC_OK);
    CHECK_INT(second.code, CCZ_RPC_UNAVAILABLE);
    CHECK_STR(second.text, "the request could not be sent: request HEADERS is not allowed");
    CHECK_INT(atomic_load(&requests), 1);
    CHECK(second.at - t0 < 2000); /* not at its deadline */
    ccz_rpc_channel_free(ch);
    shutdown(h.listen_fd, SHUT_RDWR); /* no second connection came */
    pthread_join(t, NULL);
    close(h.listen_fd);

    /* the second call synchronous */
    h = (hostile){.what = GOAWAY_ONE};
    hostile_start(&h, 2, &t, target);
    CHECK_OK(ccz_rpc_channel_new(&ch, target, &o));
    atomic_store(&requests, 0);
    first = (ended){-1, 0, ""};
    CHECK_OK(start_hello(ch, "first", 3000, NULL, end_at, &first));
    Ratls__HelloRequest req = RATLS__HELLO_REQUEST__INIT;
    req.name = "second";
    ccz_rpc_call_opts co = CCZ_RPC_CALL_OPTS_INIT;
    co.deadline_ms = 3000;
    ccz_rpc_status st;
    ProtobufCMessage *resp = NULL;
    CHECK_OK(ccz_rpc_unary(ch, &resp, &st, "/ratls.Greeter/SayHello", &req.base,
                           &ratls__hello_reply__descriptor, &co));
    CHECK_INT(st.code, CCZ_RPC_OK);
    CHECK_STR(resp ? ((Ratls__HelloReply *)resp)->message : "", "hi");
    if (resp)
        protobuf_c_message_free_unpacked(resp, NULL);
    ccz_rpc_status_free(&st);
    CHECK_OK(ccz_rpc_channel_run(ch));
    CHECK_INT(first.code, CCZ_RPC_OK);
    CHECK_INT(atomic_load(&requests), 2);
    ccz_rpc_channel_free(ch);
    pthread_join(t, NULL);
    close(h.listen_fd);
}

/* ccz_rpc_start connects as a unary call does, and the time connecting took comes off its call's
 * deadline too: a server whose SETTINGS come 300 ms late is told (grpc-timeout) 500 ms of an
 * 800 ms deadline at most, and the call ends at that deadline. */
static void test_start_connect_time_off_deadline(void)
{
    signal(SIGPIPE, SIG_IGN);
    hostile h = {.what = SILENT};
    pthread_t t;
    char target[64];
    settings_delay_ms = 300;
    timeout_seen[0] = '\0';
    hostile_start(&h, 1, &t, target);
    ccz_rpc_channel_opts o = CCZ_RPC_CHANNEL_OPTS_INIT;
    ccz_rpc_channel *ch = NULL;
    CHECK_OK(ccz_rpc_channel_new(&ch, target, &o));
    ended e = {.code = -1};
    int64_t t0 = mono_ms();
    CHECK_OK(start_hello(ch, "late", 800, NULL, end_at, &e));
    CHECK_OK(ccz_rpc_channel_run(ch));
    CHECK_INT(e.code, CCZ_RPC_DEADLINE_EXCEEDED);
    CHECK_STR(e.text, "deadline exceeded");
    CHECK(e.at - t0 >= 790);
    check_timeout_after_connect();
    settings_delay_ms = 0;
    ccz_rpc_channel_free(ch);
    shutdown(h.listen_fd, SHUT_RDWR);
    pthread_join(t, NULL);
    close(h.listen_fd);
}

TEST_MAIN(T(test_hostile_answers), T(test_silent_answer), T(test_malformed_status),
          T(test_http_errors), T(test_trailers_only), T(test_header_flood),
          T(test_local_status_sticks), T(test_goaway_new_calls_reconnect),
          T(test_deadline_then_new_call), T(test_unary_connect_time_off_deadline),
          T(test_goaway_unprocessed_retried), T(test_goaway_after_headers_not_retried),
          T(test_header_list_edge), T(test_long_metadata_keys), T(test_broken_http2),
          T(test_queued_call_deadline), T(test_queued_call_goaway_retried),
          T(test_start_connect_time_off_deadline))
