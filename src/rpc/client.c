/* SPDX-License-Identifier: Apache-2.0 */
/* The gRPC client: a channel is one RA-TLS connection (its handshake done before any request
 * leaves, so the server's evidence is verified first), or without a TLS context a plaintext one
 * (h2c with prior knowledge, up once the server's SETTINGS arrive), driven by libevent and
 * nghttp2. Calls multiplex on it as HTTP/2 streams. After the server's GOAWAY new calls go to a
 * new connection, and the old one stays until its calls end. Connecting is bounded by the call's
 * deadline and a connect timeout. Responses are untrusted: headers are checked, frames go
 * through the cursor and are size-capped (and inflated no further than the cap) before
 * protobuf-c unpacks them. */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>

#include "core/guard.h"
#include "core/listener.h"
#include "internal.h"
#include "ratls/internal.h"
#include "core/pb.h"

/* One connection of a channel. After the server's GOAWAY it takes no new calls: they go to a
 * new connection while the calls already on this one finish here (gRPC's draining). */
typedef struct conn {
    ccz_rpc_channel *ch;
    struct bufferevent *bev;
    SSL *ssl; /* the bufferevent's (NULL in plaintext) */
    nghttp2_session *h2;
    bool broken;         /* no new streams on this connection */
    bool got_settings;   /* the server's preface arrived on this connection */
    char h2_broken[160]; /* why our GOAWAY ended the session for the server's error ("" if not) */
    int in_recv;
    int in_send;       /* inside nghttp2_session_send: a call's end may start another call */
    size_t n_streams;  /* calls on this connection */
    struct conn *next; /* in the channel's list of draining connections */
} conn;

struct ccz_rpc_channel {
    char *target, *authority;
    SSL_CTX *tls; /* NULL: plaintext (h2c) */
    size_t max_message;
    unsigned connect_ms;
    ccz_rpc_encoding send_enc;
    struct event_base *base;
    conn *cur;      /* the connection new calls go to, or NULL */
    conn *draining; /* connections after GOAWAY whose calls are finishing */
    SSL *ssl; /* a reference to the current connection's, or the last one's (for its verdict) */
    ccz_rpc_stream *streams;
    size_t n_streams;
};

/* Response header bytes per header list (name + value + 32 per field, as HTTP/2 counts them):
 * this client's SETTINGS_MAX_HEADER_LIST_SIZE. */
#define MAX_HEADER_LIST 16384u

struct ccz_rpc_stream {
    ccz_rpc_channel *ch;
    conn *c; /* the connection the call is on */
    int32_t id;
    const ProtobufCMessageDescriptor *out_desc;
    ccz_rpc_on_message on_message;
    ccz_rpc_on_done on_done;
    void *payload;
    ProtobufCMessage **keep; /* synchronous unary calls keep their response */
    /* the server refused the stream before it processed anything (REFUSED_STREAM, or above a
     * GOAWAY's last stream), or the request never left: safe to send again; told at the end to
     * *unprocessed_out when set (the synchronous unary call retries once) */
    bool unprocessed, *unprocessed_out;
    ccz_buf in, out;
    size_t out_off;
    bool closing, deferred, got_status, done, http_ok, got_headers;
    bool got_type;           /* the response headers had a content-type */
    bool status_from_server; /* st came with the response's grpc-status (not decided here) */
    ccz_rpc_encoding in_enc; /* the response's grpc-encoding */
    bool bad_enc;            /* one this client does not read */
    int http_status;
    size_t header_bytes[2]; /* of the headers, of the trailers */
    bool headers_over;      /* more than MAX_HEADER_LIST of either: the call failed */
    ccz_rpc_status st;
    struct event *timer;
    ccz_rpc_stream *prev, *next;
};

void ccz_rpc_status_free(ccz_rpc_status *st)
{
    ccz_rpc_md_free(&st->headers);
    ccz_rpc_md_free(&st->trailers);
}

static void conn_drop(conn *c, const char *why);
static void flush(conn *c);

/* ---- streams ---------------------------------------------------------------------------------*/

static void stream_set(ccz_rpc_stream *s, int code, const char *fmt, ...) CCZ_PRINTF(3, 4);

static void stream_set(ccz_rpc_stream *s, int code, const char *fmt, ...)
{
    if (s->got_status)
        return;
    s->got_status = true;
    s->status_from_server = false;
    s->st.code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->st.message, sizeof s->st.message, fmt, ap);
    va_end(ap);
}

/* The call is over: report it once and free it. */
static void stream_end(ccz_rpc_stream *s)
{
    ccz_rpc_channel *ch = s->ch;
    conn *c = s->c;
    if (s->done)
        return;
    s->done = true;
    if (!s->got_status)
        stream_set(s, CCZ_RPC_INTERNAL, "the server closed the stream without a status");
    if (s->timer)
        event_free(s->timer);
    if (c && c->h2 && s->id > 0)
        nghttp2_session_set_stream_user_data(c->h2, s->id, NULL);
    if (s->prev)
        s->prev->next = s->next;
    else
        ch->streams = s->next;
    if (s->next)
        s->next->prev = s->prev;
    ch->n_streams--;
    if (c)
        c->n_streams--;
    if (s->unprocessed_out)
        *s->unprocessed_out = s->unprocessed && !s->got_headers;
    if (s->on_done)
        s->on_done(&s->st, s->payload);
    ccz_rpc_status_free(&s->st);
    ccz_buf_free(&s->in);
    ccz_buf_free(&s->out);
    free(s);
}

/* Ends a call from this side: RST_STREAM and a status. */
static void stream_cancel(ccz_rpc_stream *s, int code, const char *message)
{
    stream_set(s, code, "%s", message);
    /* RST_STREAM closes an open stream (on_stream_close ends the call) or cancels a request
     * still queued; that call ends now, as its HEADERS may wait (behind the server's
     * SETTINGS_MAX_CONCURRENT_STREAMS) for another call's end */
    if (!s->c->h2 || s->id <= 0 ||
        nghttp2_submit_rst_stream(s->c->h2, NGHTTP2_FLAG_NONE, s->id, NGHTTP2_CANCEL) != 0 ||
        !nghttp2_session_find_stream(s->c->h2, s->id))
        stream_end(s);
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    ccz_rpc_stream *s = arg;
    conn *c = s->c;
    stream_cancel(s, CCZ_RPC_DEADLINE_EXCEEDED, "deadline exceeded");
    flush(c);
}

/* ---- nghttp2 callbacks -----------------------------------------------------------------------*/

static ssize_t send_cb(nghttp2_session *session, const uint8_t *data, size_t length, int flags,
                       void *user_data)
{
    (void)session, (void)flags;
    conn *c = user_data;
    if (bufferevent_write(c->bev, data, length) != 0)
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    return (ssize_t)length;
}

static ssize_t read_out(nghttp2_session *session, int32_t id, uint8_t *buf, size_t length,
                        uint32_t *flags, nghttp2_data_source *source, void *user_data)
{
    (void)session, (void)id, (void)user_data;
    ccz_rpc_stream *s = source->ptr;
    size_t pending = s->out.len - s->out_off;
    if (pending) {
        size_t n = pending < length ? pending : length;
        memcpy(buf, s->out.ptr + s->out_off, n);
        s->out_off += n;
        if (s->out_off == s->out.len)
            s->out.len = s->out_off = 0;
        if (s->closing && s->out.len == 0)
            *flags |= NGHTTP2_DATA_FLAG_EOF;
        return (ssize_t)n;
    }
    if (s->closing) {
        *flags |= NGHTTP2_DATA_FLAG_EOF;
        return 0;
    }
    s->deferred = true;
    return NGHTTP2_ERR_DEFERRED;
}

/* gRPC over HTTP/2: a non-200 response without grpc-status maps to a code. */
static int http_to_grpc(int http)
{
    switch (http) {
    case 400:
        return CCZ_RPC_INTERNAL;
    case 401:
        return CCZ_RPC_UNAUTHENTICATED;
    case 403:
        return CCZ_RPC_PERMISSION_DENIED;
    case 404:
        return CCZ_RPC_UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504:
        return CCZ_RPC_UNAVAILABLE;
    default:
        return CCZ_RPC_UNKNOWN;
    }
}

static int on_header(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name,
                     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
                     void *user_data)
{
    (void)flags, (void)user_data;
    if (frame->hd.type != NGHTTP2_HEADERS)
        return 0;
    ccz_rpc_stream *s = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
    if (!s)
        return 0;
    bool initial = frame->headers.cat == NGHTTP2_HCAT_RESPONSE;
    /* nghttp2 does not hold servers to the header list size this client announces (HPACK's
     * table lets a byte on the wire stand for a 4 KiB field): it is enforced here, and what is
     * past it is not kept */
    if (s->headers_over)
        return 0;
    s->header_bytes[!initial] += namelen + valuelen + 32;
    if (s->header_bytes[!initial] > MAX_HEADER_LIST) {
        s->headers_over = true;
        s->got_status = false; /* whatever status came before, this is the call's */
        char why[64];
        snprintf(why, sizeof why, "the response headers exceed %u bytes", MAX_HEADER_LIST);
        stream_cancel(s, CCZ_RPC_RESOURCE_EXHAUSTED, why);
        return 0;
    }
    if (namelen == 7 && !memcmp(name, ":status", 7)) {
        char t[4] = "";
        if (valuelen == 3)
            memcpy(t, value, 3);
        s->http_status = atoi(t);
        s->http_ok = s->http_status == 200;
    } else if (namelen == 12 && !memcmp(name, "content-type", 12)) {
        s->got_type = initial;
        if (!rpc_content_type_ok(value, valuelen))
            s->http_ok = false;
    } else if (namelen == 11 && !memcmp(name, "grpc-status", 11)) {
        char t[4] = "";
        int code = -1;
        if (valuelen >= 1 && valuelen <= 2 &&
            strspn((const char *)value, "0123456789") >= valuelen) {
            memcpy(t, value, valuelen);
            code = atoi(t);
        }
        if (!s->got_status) {
            s->st.code = code >= 0 && code <= 16 ? code : CCZ_RPC_UNKNOWN;
            s->got_status = true;
            s->status_from_server = true;
        }
    } else if (namelen == 13 && !memcmp(name, "grpc-encoding", 13)) {
        int e = rpc_encoding_parse(value, valuelen);
        s->in_enc = e >= 0 ? (ccz_rpc_encoding)e : CCZ_RPC_IDENTITY;
        s->bad_enc = e < 0;
    } else if (namelen == 12 && !memcmp(name, "grpc-message", 12)) {
        /* the first final status wins, with its message: not one decided here */
        if (!s->got_status || s->status_from_server)
            rpc_percent_decode(s->st.message, sizeof s->st.message, value, valuelen);
    } else if (!rpc_header_reserved((const char *)name, namelen)) {
        char key[256];
        if (namelen < sizeof key) {
            memcpy(key, name, namelen);
            key[namelen] = '\0';
            /* a malformed -bin value is dropped; the call goes on */
            ccz_status ms =
                rpc_md_add_wire(initial ? &s->st.headers : &s->st.trailers, key, value, valuelen);
            if (ms == CCZ_ERR_NOMEM) { /* a call short of its metadata has not succeeded */
                s->got_status = false;
                stream_cancel(s, CCZ_RPC_RESOURCE_EXHAUSTED, "out of memory");
            } else if (ms != CCZ_OK) {
                ccz_error_clear();
            }
        }
    }
    return 0;
}

static void take_messages(ccz_rpc_stream *s)
{
    ccz_cursor cur;
    ccz_cursor_init(&cur, ccz_buf_span(&s->in));
    for (;;) {
        ccz_span msg;
        bool compressed;
        ccz_status st = rpc_frame_read(&cur, s->ch->max_message, &compressed, &msg);
        if (st == CCZ_ERR_TRUNCATED)
            break;
        if (st) {
            stream_cancel(s,
                          st == CCZ_ERR_TOO_LARGE ? CCZ_RPC_RESOURCE_EXHAUSTED : CCZ_RPC_INTERNAL,
                          ccz_error_detail());
            s->in.len = 0;
            return;
        }
        ccz_buf plain = CCZ_BUF_INIT;
        if (compressed) {
            if (s->in_enc == CCZ_RPC_IDENTITY) {
                stream_cancel(s, CCZ_RPC_INTERNAL,
                              s->bad_enc
                                  ? "the response is compressed with an unsupported grpc-encoding"
                                  : "a compressed response without a grpc-encoding");
                s->in.len = 0;
                return;
            }
            st = rpc_decompress(&plain, s->in_enc, msg, s->ch->max_message);
            if (st) { /* too large, or out of memory: RESOURCE_EXHAUSTED; else the server's */
                stream_cancel(s,
                              st == CCZ_ERR_TOO_LARGE || st == CCZ_ERR_NOMEM
                                  ? CCZ_RPC_RESOURCE_EXHAUSTED
                                  : CCZ_RPC_INTERNAL,
                              ccz_error_detail());
                ccz_buf_free(&plain);
                s->in.len = 0;
                return;
            }
            ccz_log(CCZ_LOG_DEBUG,
                    "rpc: a %s-compressed response message, %zu bytes inflated "
                    "to %zu",
                    rpc_encoding_name(s->in_enc), msg.len, plain.len);
            msg = ccz_buf_span(&plain);
        }
        ccz_status ust;
        ProtobufCMessage *m = ccz_pb_unpack(&ust, s->out_desc, msg, "");
        ccz_buf_free(&plain);
        if (!m) { /* memory's failure, or the response's */
            stream_cancel(s, ust == CCZ_ERR_NOMEM ? CCZ_RPC_RESOURCE_EXHAUSTED : CCZ_RPC_INTERNAL,
                          ust == CCZ_ERR_NOMEM ? "out of memory"
                                               : "the response cannot be parsed as the method's "
                                                 "message");
            s->in.len = 0;
            return;
        }
        if (s->keep) {
            if (*s->keep) {
                protobuf_c_message_free_unpacked(m, NULL);
                stream_cancel(s, CCZ_RPC_INTERNAL, "more than one response to a unary call");
                s->in.len = 0;
                return;
            }
            *s->keep = m;
        } else {
            if (s->on_message)
                s->on_message(m, s->payload);
            protobuf_c_message_free_unpacked(m, NULL);
        }
    }
    size_t used = cur.pos;
    memmove(s->in.ptr, s->in.ptr + used, s->in.len - used);
    s->in.len -= used;
}

static int on_data_chunk(nghttp2_session *session, uint8_t flags, int32_t id, const uint8_t *data,
                         size_t len, void *user_data)
{
    (void)flags, (void)user_data;
    ccz_rpc_stream *s = nghttp2_session_get_stream_user_data(session, id);
    if (!s || s->got_status)
        return 0;
    if (!s->http_ok) {
        stream_set(s, http_to_grpc(s->http_status),
                   "the server answered HTTP status %d, not a "
                   "gRPC response",
                   s->http_status);
        stream_cancel(s, 0, "");
        return 0;
    }
    ccz_status as = ccz_buf_append(&s->in, data, len);
    if (as != CCZ_OK) {
        stream_cancel(s, CCZ_RPC_RESOURCE_EXHAUSTED,
                      as == CCZ_ERR_NOMEM ? "out of memory" : "response message exceeds the limit");
        return 0;
    }
    take_messages(s);
    return 0;
}

static int on_frame_recv(nghttp2_session *session, const nghttp2_frame *frame, void *user_data)
{
    (void)user_data;
    if (frame->hd.type != NGHTTP2_HEADERS)
        return 0;
    ccz_rpc_stream *s = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
    if (!s)
        return 0;
    if (frame->headers.cat == NGHTTP2_HCAT_RESPONSE) {
        s->got_headers = true;
        if (!s->got_type) /* a response without a content-type is not application/grpc */
            s->http_ok = false;
        if (s->got_status) { /* trailers-only: the metadata are trailers */
            ccz_rpc_metadata t = s->st.trailers;
            s->st.trailers = s->st.headers;
            s->st.headers = t;
        }
    }
    if ((frame->hd.flags & NGHTTP2_FLAG_END_STREAM) && !s->got_status) {
        if (!s->http_ok)
            stream_set(s, http_to_grpc(s->http_status),
                       "the server answered HTTP status %d, not "
                       "a gRPC response",
                       s->http_status);
        else
            stream_set(s, CCZ_RPC_INTERNAL, "the response ended without grpc-status");
    }
    if ((frame->hd.flags & NGHTTP2_FLAG_END_STREAM) && s->in.len && s->st.code == CCZ_RPC_OK) {
        s->st.code = CCZ_RPC_INTERNAL;
        snprintf(s->st.message, sizeof s->st.message, "the response ended inside a message");
    }
    return 0;
}

static int on_stream_close(nghttp2_session *session, int32_t id, uint32_t error_code,
                           void *user_data)
{
    (void)user_data;
    ccz_rpc_stream *s = nghttp2_session_get_stream_user_data(session, id);
    if (!s)
        return 0;
    if (!s->got_status) {
        if (error_code == NGHTTP2_REFUSED_STREAM) {
            stream_set(s, CCZ_RPC_UNAVAILABLE, "the server refused the stream (going away)");
            s->unprocessed = true; /* refused unseen */
        } else if (error_code == NGHTTP2_CANCEL)
            stream_set(s, CCZ_RPC_CANCELLED, "the server cancelled the call");
        else if (error_code == NGHTTP2_ENHANCE_YOUR_CALM) /* gRPC's mapping: bandwidth */
            stream_set(s, CCZ_RPC_RESOURCE_EXHAUSTED,
                       "the server reset the stream: ENHANCE_YOUR_CALM (too much traffic)");
        else if (error_code == NGHTTP2_INADEQUATE_SECURITY)
            stream_set(s, CCZ_RPC_PERMISSION_DENIED,
                       "the server reset the stream: INADEQUATE_SECURITY");
        else if (error_code != NGHTTP2_NO_ERROR)
            stream_set(s, CCZ_RPC_INTERNAL, "the server reset the stream: %s",
                       nghttp2_http2_strerror(error_code));
    }
    stream_end(s);
    return 0;
}

static int on_frame_recv_conn(nghttp2_session *session, const nghttp2_frame *frame, void *user_data)
{
    conn *c = user_data;
    if (frame->hd.type == NGHTTP2_GOAWAY)
        c->broken = true; /* the next call connects again; the calls here finish here */
    if (frame->hd.type == NGHTTP2_SETTINGS && !(frame->hd.flags & NGHTTP2_FLAG_ACK))
        c->got_settings = true;
    return on_frame_recv(session, frame, user_data);
}

/* nghttp2 ends the session on the server's connection error (a frame too large, DATA on stream
 * 0, bytes that are not HTTP/2 where its SETTINGS belong) with a GOAWAY of that error, returning
 * none, and the calls on the connection would wait for their deadlines: its sending is how the
 * client learns. The client sends no GOAWAY of its own. */
static int on_frame_send(nghttp2_session *session, const nghttp2_frame *frame, void *user_data)
{
    conn *c = user_data;
    if (frame->hd.type == NGHTTP2_RST_STREAM) {
        /* a call this side ended has its status already; any other reset is nghttp2's, for a
         * response it would not take (a header HTTP/2 forbids, DATA past the window) */
        ccz_rpc_stream *s = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
        if (s)
            stream_set(s, CCZ_RPC_INTERNAL,
                       "the server's response broke HTTP/2: the client reset the stream (%s)",
                       nghttp2_http2_strerror(frame->rst_stream.error_code));
        return 0;
    }
    const nghttp2_goaway *g = &frame->goaway;
    if (frame->hd.type != NGHTTP2_GOAWAY || g->error_code == NGHTTP2_NO_ERROR)
        return 0;
    /* the reason is nghttp2's own, as it told the server */
    int n = snprintf(c->h2_broken, sizeof c->h2_broken, "the server broke HTTP/2: %s",
                     nghttp2_http2_strerror(g->error_code));
    if (g->opaque_data_len && n > 0 && (size_t)n < sizeof c->h2_broken)
        snprintf(c->h2_broken + n, sizeof c->h2_broken - (size_t)n, " (%.*s)",
                 (int)g->opaque_data_len, (const char *)g->opaque_data);
    return 0;
}

/* A request that never left (the stream was refused or the connection is closing). */
static int on_frame_not_send(nghttp2_session *session, const nghttp2_frame *frame, int error,
                             void *user_data)
{
    (void)user_data;
    if (frame->hd.type != NGHTTP2_HEADERS)
        return 0;
    ccz_rpc_stream *s = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
    if (s && !s->done) {
        stream_set(s, CCZ_RPC_UNAVAILABLE, "the request could not be sent: %s",
                   nghttp2_strerror(error));
        s->unprocessed = true;
        stream_end(s);
    }
    return 0;
}

/* ---- the connection --------------------------------------------------------------------------*/

/* Sends what is queued; a draining connection whose last call ended is closed (c may be
 * freed). */
static void flush(conn *c)
{
    if (!c || !c->h2 || c->in_recv || c->in_send) /* the send under way takes what is queued */
        return;
    c->in_send = 1;
    int rv = nghttp2_session_send(c->h2);
    c->in_send = 0;
    if (rv != 0)
        conn_drop(c, "HTTP/2 error while sending");
    else if (c->h2_broken[0])
        conn_drop(c, c->h2_broken);
    else if (c != c->ch->cur && c->n_streams == 0)
        conn_drop(c, "drained");
}

static void read_cb(struct bufferevent *bev, void *arg)
{
    conn *c = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    c->in_recv = 1;
    while (c->h2 && evbuffer_get_length(in)) {
        size_t n = evbuffer_get_contiguous_space(in);
        unsigned char *data = evbuffer_pullup(in, (ssize_t)n);
        ssize_t used = nghttp2_session_mem_recv(c->h2, data, n);
        if (used < 0) {
            c->in_recv = 0;
            char why[128];
            snprintf(why, sizeof why, "the server broke HTTP/2: %s", nghttp2_strerror((int)used));
            conn_drop(c, why);
            return;
        }
        evbuffer_drain(in, (size_t)used);
    }
    c->in_recv = 0;
    flush(c);
}

static void event_cb(struct bufferevent *bev, short events, void *arg)
{
    (void)bev;
    conn *c = arg;
    if (!(events & (BEV_EVENT_ERROR | BEV_EVENT_EOF)))
        return;
    char why[300] = "the connection closed";
    unsigned long e;
    bool alert = false;
    while ((e = bufferevent_get_openssl_error(c->bev)) != 0) {
        if (ERR_GET_LIB(e) == ERR_LIB_SSL && ERR_GET_REASON(e) >= SSL_AD_REASON_OFFSET) {
            /* under TLS 1.3 a server rejects our certificate after our handshake ended */
            snprintf(why, sizeof why, "the server refused us (TLS alert: %s)",
                     SSL_alert_desc_string_long((int)(ERR_GET_REASON(e) - SSL_AD_REASON_OFFSET)));
            alert = true;
        } else if (!alert && ERR_GET_LIB(e) == ERR_LIB_SSL) {
            ERR_error_string_n(e, why, sizeof why);
        }
    }
    if (!c->ssl && (events & BEV_EVENT_ERROR) && EVUTIL_SOCKET_ERROR())
        snprintf(why, sizeof why, "the connection failed: %s",
                 evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
    if (c->ssl && !alert && (events & BEV_EVENT_WRITING)) {
        /* a write failed (the server closed first): its alert may still wait to be read */
        char b[256];
        ERR_clear_error();
        if (SSL_read(c->ssl, b, sizeof b) <= 0 && (e = ERR_peek_last_error()) != 0 &&
            ERR_GET_LIB(e) == ERR_LIB_SSL && ERR_GET_REASON(e) >= SSL_AD_REASON_OFFSET)
            snprintf(why, sizeof why, "the server refused us (TLS alert: %s)",
                     SSL_alert_desc_string_long((int)(ERR_GET_REASON(e) - SSL_AD_REASON_OFFSET)));
        ERR_clear_error();
    }
    conn_drop(c, why);
}

/* The connection is gone: every call on it ends UNAVAILABLE, and it is freed. */
static void conn_drop(conn *c, const char *why)
{
    ccz_rpc_channel *ch = c->ch;
    nghttp2_session *h2 = c->h2;
    c->h2 = NULL;
    c->broken = true;
    for (ccz_rpc_stream *s = ch->streams, *next; s; s = next) {
        next = s->next;
        if (s->c == c) {
            stream_set(s, CCZ_RPC_UNAVAILABLE, "%s", why);
            stream_end(s); /* its on_done may start calls: on another connection */
            next = ch->streams;
        }
    }
    if (h2)
        nghttp2_session_del(h2);
    if (c->bev)
        bufferevent_free(c->bev); /* the channel keeps its own reference to the SSL */
    if (ch->cur == c)
        ch->cur = NULL;
    for (conn **p = &ch->draining; *p; p = &(*p)->next)
        if (*p == c) {
            *p = c->next;
            break;
        }
    free(c);
}

/* TCP and the RA-TLS handshake (the server's evidence verified) by the deadline (monotonic
 * ms), through the connection ccz_ratls_connect_timeout makes; a connection that is not up by
 * then fails with *timed_out set. The socket, non-blocking for libevent, is the caller's to
 * close: libevent closes it (BEV_OPT_CLOSE_ON_FREE) and the SSL, which outlives the
 * bufferevent for its verdict, must not close it a second time. */
static ccz_status connect_by(SSL **out, SSL_CTX *ctx, const char *target, int64_t deadline,
                             bool *timed_out)
{
    *out = NULL;
    *timed_out = false;
    int64_t left = deadline - listener_mono_ms();
    if (left <= 0) {
        *timed_out = true;
        return ccz_fail(CCZ_ERR_NETWORK, "cannot connect to %s: timed out", target);
    }
    ratls_timeout late;
    SSL *ssl;
    ccz_status s = ratls_connect(&ssl, &late, ctx, target, (long)left);
    *timed_out = late != RATLS_IN_TIME;
    if (s != CCZ_OK && late == RATLS_TLS_TIMEOUT)
        return ccz_fail_context(s, "connect to %s: no TLS handshake in time", target);
    CCZ_GUARD(s);
    int fd = SSL_get_fd(ssl);
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
        s = ccz_fail(CCZ_ERR_NETWORK, "connect to %s: %s", target, strerror(errno));
        SSL_free(ssl); /* closes the socket */
        return s;
    }
    BIO_set_close(SSL_get_rbio(ssl), BIO_NOCLOSE);
    *out = ssl;
    return CCZ_OK;
}

/* Connecting may take the call's deadline or the connect timeout, whichever is shorter. */
static int64_t call_connect_deadline(const ccz_rpc_channel *ch, int64_t now, int64_t deadline_ms)
{
    return now + (deadline_ms && deadline_ms < ch->connect_ms ? deadline_ms : ch->connect_ms);
}

/* RA-TLS: the connection (c->bev) once the handshake is done and the server agreed to h2. */
static ccz_status open_tls(conn *c, int64_t deadline, bool *timed_out)
{
    ccz_rpc_channel *ch = c->ch;
    SSL *ssl;
    CCZ_GUARD(connect_by(&ssl, ch->tls, ch->target, deadline, timed_out));
    const unsigned char *alpn = NULL;
    unsigned alpn_len = 0;
    SSL_get0_alpn_selected(ssl, &alpn, &alpn_len);
    if (alpn_len != 2 || memcmp(alpn, "h2", 2) != 0) {
        close(SSL_get_fd(ssl));
        SSL_free(ssl);
        return ccz_fail(CCZ_ERR_PROTOCOL,
                        "%s did not agree to HTTP/2 (ALPN h2): not a gRPC "
                        "server",
                        ch->target);
    }
    /* calls are small writes that must not wait for an ACK (Nagle) */
    int one = 1;
    setsockopt(SSL_get_fd(ssl), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->bev = bufferevent_openssl_socket_new(ch->base, -1, ssl, BUFFEREVENT_SSL_OPEN,
                                            BEV_OPT_CLOSE_ON_FREE); /* libevent closes the socket */
    if (!c->bev) {
        close(SSL_get_fd(ssl));
        SSL_free(ssl);
        return ccz_fail(CCZ_ERR_NOMEM, "cannot set up the connection");
    }
    c->ssl = ssl;
    SSL_up_ref(ssl); /* the channel's, for the verdict */
    ch->ssl = ssl;
    bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
    return CCZ_OK;
}

/* Plaintext (h2c): the TCP connection (c->bev) by the deadline; HTTP/2 follows directly. */
static ccz_status open_plain(conn *c, int64_t deadline, bool *timed_out)
{
    ccz_rpc_channel *ch = c->ch;
    int64_t left = deadline - listener_mono_ms();
    *timed_out = left <= 0;
    CCZ_ENSURE(left > 0, CCZ_ERR_NETWORK, "cannot connect to %s: timed out", ch->target);
    ratls_timeout late;
    int fd;
    ccz_status s = ratls_tcp_connect(&fd, &late, ch->target, (long)left);
    *timed_out = late != RATLS_IN_TIME;
    CCZ_GUARD(s);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (evutil_make_socket_nonblocking(fd) != 0 ||
        !(c->bev = bufferevent_socket_new(ch->base, fd, BEV_OPT_CLOSE_ON_FREE))) {
        close(fd);
        return ccz_fail(CCZ_ERR_NOMEM, "cannot set up the connection");
    }
    return CCZ_OK;
}

/* Writes all n bytes to the non-blocking socket by the deadline: 0, or -1 with errno set. */
static int send_by(int fd, const uint8_t *p, size_t n, int64_t deadline)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w > 0) {
            p += w;
            n -= (size_t)w;
            continue;
        }
        if (w < 0 && errno != EAGAIN && errno != EINTR)
            return -1;
        int64_t left = deadline - listener_mono_ms();
        struct pollfd pf = {.fd = fd, .events = POLLOUT};
        if (left <= 0 || poll(&pf, 1, left < INT32_MAX ? (int)left : INT32_MAX) == 0) {
            errno = ETIMEDOUT;
            return -1;
        }
    }
    return 0;
}

/* Sends what nghttp2 has queued straight on the socket; "" in why, or why not. */
static void send_direct(conn *c, int fd, int64_t deadline, char *why, size_t why_size,
                        bool *timed_out)
{
    const uint8_t *data;
    ssize_t n;
    while (!why[0] && (n = nghttp2_session_mem_send(c->h2, &data)) != 0)
        if (n < 0 || send_by(fd, data, (size_t)n, deadline) != 0) {
            *timed_out = n > 0 && errno == ETIMEDOUT;
            snprintf(why, why_size, "cannot send to the server: %s",
                     n < 0 ? nghttp2_strerror((int)n) : strerror(errno));
        }
}

/* A plaintext connection is up once the server's SETTINGS (its preface) arrive, by the
 * deadline, as the TLS handshake bounds an RA-TLS one: a server that accepts TCP and does not
 * speak HTTP/2 (a TLS server among them) fails here instead of holding a call. The prefaces are
 * exchanged on the socket directly, not through libevent, whose loop may be the caller. */
static ccz_status await_settings(conn *c, int64_t deadline, bool *timed_out)
{
    ccz_rpc_channel *ch = c->ch;
    static const char hint[] = "not a plaintext (h2c) gRPC server (a TLS one?)";
    int fd = bufferevent_getfd(c->bev);
    char why[256] = "";
    send_direct(c, fd, deadline, why, sizeof why, timed_out);
    while (!why[0] && !c->got_settings) {
        int64_t left = deadline - listener_mono_ms();
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (left <= 0 || poll(&p, 1, left < INT32_MAX ? (int)left : INT32_MAX) == 0) {
            *timed_out = true;
            snprintf(why, sizeof why, "no HTTP/2 SETTINGS from the server in time");
            break;
        }
        uint8_t buf[4096];
        ssize_t got = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (got < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (got == 0)
            snprintf(why, sizeof why,
                     "the server closed the connection before its HTTP/2 SETTINGS");
        else if (got < 0)
            snprintf(why, sizeof why, "%s before the server's HTTP/2 SETTINGS", strerror(errno));
        else if (nghttp2_session_mem_recv(c->h2, buf, (size_t)got) != got)
            snprintf(why, sizeof why, "the server does not speak HTTP/2");
        else
            send_direct(c, fd, deadline, why, sizeof why, timed_out); /* a GOAWAY: c->h2_broken */
        if (!why[0] && c->h2_broken[0])
            snprintf(why, sizeof why, "the server does not speak HTTP/2");
    }
    if (!why[0])
        return CCZ_OK;
    size_t len = strlen(why);
    snprintf(why + len, sizeof why - len, " (%s)", hint);
    conn_drop(c, why);
    return ccz_fail(*timed_out ? CCZ_ERR_NETWORK : CCZ_ERR_PROTOCOL, "connect to %s: %s",
                    ch->target, why);
}

/* Connects unless connected: by the deadline (monotonic ms), and *timed_out when it passed. */
static ccz_status h2_start(conn *c);

static ccz_status channel_connect(ccz_rpc_channel *ch, int64_t deadline, bool *timed_out)
{
    *timed_out = false;
    conn *old = ch->cur;
    if (old && old->h2 && !old->broken)
        return CCZ_OK;
    if (old) {
        ch->cur = NULL;
        if (!old->h2) { /* being dropped (a call's on_done got here): conn_drop frees it */
        } else if (old->n_streams || old->in_recv || old->in_send) { /* draining */
            old->next = ch->draining;
            ch->draining = old;
        } else {
            conn_drop(old, "replaced");
        }
    }
    SSL_free(ch->ssl);
    ch->ssl = NULL;
    conn *c = calloc(1, sizeof *c);
    CCZ_ENSURE(c, CCZ_ERR_NOMEM, "out of memory");
    c->ch = ch;
    ccz_status st = ch->tls ? open_tls(c, deadline, timed_out) : open_plain(c, deadline, timed_out);
    if (st) {
        free(c);
        return st;
    }
    ch->cur = c;
    bufferevent_setcb(c->bev, read_cb, NULL, event_cb, c);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    CCZ_GUARD(h2_start(c));
    return ch->tls ? CCZ_OK : await_settings(c, deadline, timed_out);
}

/* The HTTP/2 session on the connection c->bev, our SETTINGS queued. */
static ccz_status h2_start(conn *c)
{
    nghttp2_session_callbacks *cb;
    CCZ_ENSURE(nghttp2_session_callbacks_new(&cb) == 0, CCZ_ERR_NOMEM, "out of memory");
    nghttp2_session_callbacks_set_send_callback(cb, send_cb);
    nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv_conn);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data_chunk);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
    nghttp2_session_callbacks_set_on_frame_not_send_callback(cb, on_frame_not_send);
    nghttp2_session_callbacks_set_on_frame_send_callback(cb, on_frame_send);
    int rv = nghttp2_session_client_new(&c->h2, cb, c);
    nghttp2_session_callbacks_del(cb);
    if (rv != 0) {
        conn_drop(c, "cannot start HTTP/2");
        return ccz_fail(CCZ_ERR_NOMEM, "cannot start HTTP/2");
    }
    nghttp2_settings_entry iv[] = {
        {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1u << 20},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, MAX_HEADER_LIST},
    };
    nghttp2_submit_settings(c->h2, NGHTTP2_FLAG_NONE, iv, sizeof iv / sizeof iv[0]);
    nghttp2_session_set_local_window_size(c->h2, NGHTTP2_FLAG_NONE, 0, 16u << 20);
    return CCZ_OK;
}

/* ---- the channel -----------------------------------------------------------------------------*/

ccz_status ccz_rpc_channel_new(ccz_rpc_channel **out, const char *target,
                               const ccz_rpc_channel_opts *o)
{
    *out = NULL;
    CCZ_ENSURE(o && o->version >= 1 && o->version <= CCZ_RPC_CHANNEL_OPTS_VERSION && target,
               CCZ_ERR_INVALID_ARGUMENT, "channel options or target missing");
    ccz_rpc_channel_opts v2 = CCZ_RPC_CHANNEL_OPTS_INIT;
    if (o->version >= 2)
        v2 = *o;
    CCZ_ENSURE((unsigned)v2.send_encoding <= CCZ_RPC_DEFLATE, CCZ_ERR_INVALID_ARGUMENT,
               "send_encoding %d is not an encoding", (int)v2.send_encoding);
    CCZ_ENSURE(strrchr(target, ':'), CCZ_ERR_INVALID_ARGUMENT, "'%s' is not HOST:PORT", target);
    static const unsigned char h2[] = {2, 'h', '2'};
    CCZ_ENSURE(!o->tls || SSL_CTX_set_alpn_protos(o->tls, h2, sizeof h2) == 0, CCZ_ERR_CRYPTO,
               "cannot offer ALPN h2");
    ccz_rpc_channel *ch = calloc(1, sizeof *ch);
    CCZ_ENSURE(ch, CCZ_ERR_NOMEM, "out of memory");
    ch->target = strdup(target);
    ch->authority = strdup(o->authority ? o->authority : target);
    ch->base = event_base_new();
    if (!ch->target || !ch->authority || !ch->base) {
        ccz_rpc_channel_free(ch);
        return ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    }
    ch->tls = o->tls; /* NULL: plaintext (h2c) */
    if (ch->tls)
        SSL_CTX_up_ref(ch->tls);
    ch->max_message = o->max_message ? o->max_message : CCZ_RPC_DEFAULT_MAX_MESSAGE;
    ch->connect_ms = v2.connect_timeout_ms ? v2.connect_timeout_ms : 10000;
    ch->send_enc = v2.send_encoding;
    *out = ch;
    return CCZ_OK;
}

void ccz_rpc_channel_free(ccz_rpc_channel *ch)
{
    if (!ch)
        return;
    while (ch->draining)
        conn_drop(ch->draining, "the channel was closed");
    if (ch->cur)
        conn_drop(ch->cur, "the channel was closed");
    SSL_free(ch->ssl);
    SSL_CTX_free(ch->tls);
    if (ch->base)
        event_base_free(ch->base);
    free(ch->target);
    free(ch->authority);
    free(ch);
}

const ccz_ratls_verdict *ccz_rpc_channel_peer(const ccz_rpc_channel *ch)
{
    return ch->ssl ? ccz_ratls_peer_verdict(ch->ssl) : NULL;
}

ccz_status ccz_rpc_start(ccz_rpc_channel *ch, ccz_rpc_stream **stream, const char *path,
                         const ProtobufCMessage *request, const ProtobufCMessageDescriptor *out,
                         const ccz_rpc_call_opts *o, ccz_rpc_on_message on_message,
                         ccz_rpc_on_done on_done, void *payload)
{
    if (stream)
        *stream = NULL;
    CCZ_ENSURE(path && path[0] == '/' && out, CCZ_ERR_INVALID_ARGUMENT,
               "a call needs a /package.Service/Method path and a response type");
    CCZ_ENSURE(!o || o->version == CCZ_RPC_CALL_OPTS_VERSION, CCZ_ERR_INVALID_ARGUMENT,
               "call options of the wrong version");
    int64_t start = listener_mono_ms(), deadline_ms = o && o->deadline_ms > 0 ? o->deadline_ms : 0;
    bool timed_out;
    CCZ_GUARD(channel_connect(ch, call_connect_deadline(ch, start, deadline_ms), &timed_out));
    if (deadline_ms) { /* what connecting took comes off the call's time */
        deadline_ms -= listener_mono_ms() - start;
        if (deadline_ms < 1)
            deadline_ms = 1;
    }
    ccz_rpc_stream *s = calloc(1, sizeof *s);
    CCZ_ENSURE(s, CCZ_ERR_NOMEM, "out of memory");
    s->ch = ch;
    s->c = ch->cur;
    s->out_desc = out;
    s->on_message = on_message;
    s->on_done = on_done;
    s->payload = payload;
    s->st.code = -1;
    /* a frame's header is seen (and its length checked) before the buffer can overflow: what
     * is left of a message plus one DATA frame (16 KiB: the frame size is never raised) */
    ccz_buf_init(&s->in, ch->max_message + 5 + 16384, false);
    ccz_buf_init(&s->out, 0, false);
    ccz_status st = CCZ_OK;
    if (request) {
        st = rpc_pack(&s->out, request, ch->max_message, ch->send_enc);
        s->closing = true;
    }

    rpc_headers h;
    rpc_headers_init(&h);
    char timeout[16];
    if (st == CCZ_OK)
        st = rpc_headers_add(&h, ":method", CCZ_SPAN("POST", 4));
    if (st == CCZ_OK)
        st = ch->tls ? rpc_headers_add(&h, ":scheme", CCZ_SPAN("https", 5))
                     : rpc_headers_add(&h, ":scheme", CCZ_SPAN("http", 4));
    if (st == CCZ_OK)
        st = rpc_headers_add(&h, ":path", CCZ_SPAN(path, strlen(path)));
    if (st == CCZ_OK)
        st = rpc_headers_add(&h, ":authority", CCZ_SPAN(ch->authority, strlen(ch->authority)));
    if (st == CCZ_OK)
        st = rpc_headers_add(&h, "content-type", CCZ_SPAN("application/grpc", 16));
    if (st == CCZ_OK)
        st = rpc_headers_add(&h, "te", CCZ_SPAN("trailers", 8));
    if (st == CCZ_OK)
        st = rpc_headers_add(&h, "user-agent", CCZ_SPAN("grpc-c-ccz/0.1", 14));
    if (st == CCZ_OK)
        st = rpc_headers_add(&h, "grpc-accept-encoding",
                             CCZ_SPAN(RPC_ACCEPT_ENCODING, sizeof RPC_ACCEPT_ENCODING - 1));
    if (st == CCZ_OK && ch->send_enc != CCZ_RPC_IDENTITY) {
        const char *e = rpc_encoding_name(ch->send_enc);
        st = rpc_headers_add(&h, "grpc-encoding", CCZ_SPAN(e, strlen(e)));
    }
    if (st == CCZ_OK && deadline_ms) {
        rpc_timeout_format(timeout, deadline_ms);
        st = rpc_headers_add(&h, "grpc-timeout", CCZ_SPAN(timeout, strlen(timeout)));
    }
    for (size_t i = 0; st == CCZ_OK && o && o->metadata && i < o->metadata->n; i++) {
        const ccz_rpc_md_entry *e = &o->metadata->entries[i];
        if (rpc_header_reserved(e->key, strlen(e->key))) {
            st = ccz_fail(CCZ_ERR_INVALID_ARGUMENT, "metadata key '%s' is reserved", e->key);
            break;
        }
        ccz_buf v = CCZ_BUF_INIT;
        st = rpc_md_wire_value(&v, e);
        if (st == CCZ_OK)
            st = rpc_headers_add(&h, e->key, ccz_buf_span(&v));
        ccz_buf_free(&v);
    }
    if (st) {
        rpc_headers_free(&h);
        ccz_buf_free(&s->in);
        ccz_buf_free(&s->out);
        free(s);
        return st;
    }
    nghttp2_data_provider prd = {.source.ptr = s, .read_callback = read_out};
    s->id = nghttp2_submit_request(s->c->h2, NULL, rpc_headers_nv(&h), h.n, &prd, s);
    rpc_headers_free(&h);
    if (s->id < 0) {
        int rv = s->id;
        ccz_buf_free(&s->in);
        ccz_buf_free(&s->out);
        free(s);
        return ccz_fail(CCZ_ERR_UNAVAILABLE, "cannot open a stream: %s", nghttp2_strerror(rv));
    }
    s->next = ch->streams;
    if (ch->streams)
        ch->streams->prev = s;
    ch->streams = s;
    ch->n_streams++;
    s->c->n_streams++;
    if (deadline_ms) {
        s->timer = evtimer_new(ch->base, on_timeout, s);
        struct timeval tv = {deadline_ms / 1000, (deadline_ms % 1000) * 1000};
        if (s->timer)
            evtimer_add(s->timer, &tv);
    }
    if (stream)
        *stream = s;
    flush(s->c);
    return CCZ_OK;
}

static void resume(ccz_rpc_stream *s)
{
    if (s->deferred && s->c->h2) {
        s->deferred = false;
        nghttp2_session_resume_data(s->c->h2, s->id);
    }
    flush(s->c);
}

ccz_status ccz_rpc_stream_send(ccz_rpc_stream *s, const ProtobufCMessage *request)
{
    CCZ_ENSURE(!s->closing && !s->got_status, CCZ_ERR_INVALID_ARGUMENT,
               "the call's request stream is closed");
    CCZ_GUARD(rpc_pack(&s->out, request, s->ch->max_message, s->ch->send_enc));
    resume(s);
    return CCZ_OK;
}

ccz_status ccz_rpc_stream_close(ccz_rpc_stream *s)
{
    CCZ_ENSURE(!s->closing, CCZ_ERR_INVALID_ARGUMENT, "the request stream is closed already");
    s->closing = true;
    resume(s);
    return CCZ_OK;
}

/* What the calls' ends queued (the reset of a call past its deadline) goes out now, not with
 * the next call: a channel may be freed, or left idle, right after. */
static void send_queued(ccz_rpc_channel *ch)
{
    (void)event_base_loop(ch->base, EVLOOP_NONBLOCK);
}

ccz_status ccz_rpc_channel_run(ccz_rpc_channel *ch)
{
    while (ch->n_streams)
        if (event_base_loop(ch->base, EVLOOP_ONCE) < 0)
            return ccz_fail(CCZ_ERR_IO, "the event loop failed");
    send_queued(ch);
    return CCZ_OK;
}

typedef struct {
    bool done;
    ccz_rpc_status *st;
} unary_wait;

static void unary_done(const ccz_rpc_status *st, void *payload)
{
    unary_wait *w = payload;
    /* take the metadata: the stream frees what is left */
    ccz_rpc_status *from = (ccz_rpc_status *)st;
    *w->st = *from;
    memset(&from->headers, 0, sizeof from->headers);
    memset(&from->trailers, 0, sizeof from->trailers);
    w->done = true;
}

/* One attempt of a unary call; *unprocessed: the server refused it unseen (see the stream's). */
static ccz_status unary_attempt(ccz_rpc_channel *ch, ProtobufCMessage **response,
                                ccz_rpc_status *st, const char *path,
                                const ProtobufCMessage *request,
                                const ProtobufCMessageDescriptor *out, const ccz_rpc_call_opts *o,
                                int64_t start, bool *unprocessed)
{
    unary_wait w = {false, st};
    ccz_rpc_stream *s;
    int64_t deadline_ms = o && o->deadline_ms > 0 ? o->deadline_ms : 0;
    int64_t connect_deadline = call_connect_deadline(ch, start, deadline_ms);
    bool timed_out;
    ccz_status r = channel_connect(ch, connect_deadline, &timed_out);
    if (r != CCZ_OK && r != CCZ_ERR_NOMEM && r != CCZ_ERR_INVALID_ARGUMENT) {
        /* no connection (unreachable, refused, too slow, or the server's evidence was
         * rejected): that is the call's status, as in gRPC; DEADLINE_EXCEEDED when the call's
         * own deadline is what ran out */
        st->code = timed_out && deadline_ms && deadline_ms <= ch->connect_ms
                       ? CCZ_RPC_DEADLINE_EXCEEDED
                       : CCZ_RPC_UNAVAILABLE;
        snprintf(st->message, sizeof st->message, "%s", ccz_error_detail());
        return CCZ_OK;
    }
    CCZ_GUARD(r);
    ccz_rpc_call_opts left;
    if (deadline_ms) { /* what connecting (and an earlier attempt) took comes off the call's time */
        left = *o;
        left.deadline_ms = deadline_ms - (listener_mono_ms() - start);
        if (left.deadline_ms < 1)
            left.deadline_ms = 1;
        o = &left;
    }
    CCZ_GUARD(ccz_rpc_start(ch, &s, path, request, out, o, NULL, unary_done, &w));
    s->keep = response;
    s->unprocessed_out = unprocessed;
    while (!w.done)
        if (event_base_loop(ch->base, EVLOOP_ONCE) < 0)
            return ccz_fail(CCZ_ERR_IO, "the event loop failed");
    send_queued(ch);
    return CCZ_OK;
}

ccz_status ccz_rpc_unary(ccz_rpc_channel *ch, ProtobufCMessage **response, ccz_rpc_status *st,
                         const char *path, const ProtobufCMessage *request,
                         const ProtobufCMessageDescriptor *out, const ccz_rpc_call_opts *o)
{
    *response = NULL;
    memset(st, 0, sizeof *st);
    st->code = -1;
    CCZ_ENSURE(request, CCZ_ERR_INVALID_ARGUMENT, "a unary call needs a request");
    CCZ_ENSURE(!o || o->version == CCZ_RPC_CALL_OPTS_VERSION, CCZ_ERR_INVALID_ARGUMENT,
               "call options of the wrong version");
    int64_t start = listener_mono_ms();
    bool unprocessed = false;
    CCZ_GUARD(unary_attempt(ch, response, st, path, request, out, o, start, &unprocessed));
    /* gRPC's transparent retry: a call the server refused without processing it (it was going
     * away, or its stream was refused) is sent once more, on a new connection after a GOAWAY */
    if (unprocessed && st->code == CCZ_RPC_UNAVAILABLE && !*response &&
        (!o || o->deadline_ms <= 0 || listener_mono_ms() - start < o->deadline_ms)) {
        ccz_rpc_status_free(st);
        memset(st, 0, sizeof *st);
        st->code = -1;
        unprocessed = false;
        CCZ_GUARD(unary_attempt(ch, response, st, path, request, out, o, start, &unprocessed));
    }
    if (st->code != CCZ_RPC_OK && *response) {
        protobuf_c_message_free_unpacked(*response, NULL);
        *response = NULL;
    } else if (st->code == CCZ_RPC_OK && !*response) {
        st->code = CCZ_RPC_UNIMPLEMENTED;
        snprintf(st->message, sizeof st->message, "the server sent no response message");
    }
    return CCZ_OK;
}

/* ---- fuzzing ---------------------------------------------------------------------------------*/

ccz_status rpc_client_feed(const uint8_t *data, size_t n, const rpc_client_feed_calls *c)
{
    ccz_rpc_channel_opts o = CCZ_RPC_CHANNEL_OPTS_INIT;
    o.max_message = c->max_message;
    ccz_rpc_channel *ch;
    CCZ_GUARD(ccz_rpc_channel_new(&ch, "fuzz:1", &o));
    struct bufferevent *pair[2];
    if (bufferevent_pair_new(ch->base, 0, pair) != 0) {
        ccz_rpc_channel_free(ch);
        return ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    }
    conn *k = calloc(1, sizeof *k);
    if (!k) {
        bufferevent_free(pair[0]);
        bufferevent_free(pair[1]);
        ccz_rpc_channel_free(ch);
        return ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    }
    k->ch = ch;
    k->bev = pair[0];
    ch->cur = k;
    ccz_status st = h2_start(k);
    k->got_settings = true;
    /* streams 1, 3 and 5: a unary call, a server-streaming one, a client-streaming one whose
     * two requests are sent */
    ProtobufCMessage *kept = NULL;
    ccz_rpc_stream *s[3] = {0};
    for (int i = 0; st == CCZ_OK && i < 3; i++)
        st = ccz_rpc_start(ch, &s[i], c->path[i], i < 2 ? c->request : NULL, c->out, NULL,
                           c->on_message, c->on_done, c->payload);
    if (st == CCZ_OK) {
        s[0]->keep = &kept;
        st = ccz_rpc_stream_send(s[2], c->request);
    }
    if (st == CCZ_OK)
        st = ccz_rpc_stream_send(s[2], c->request);
    if (st == CCZ_OK)
        st = ccz_rpc_stream_close(s[2]);
    if (st == CCZ_OK && ch->cur == k && k->h2) {
        k->in_recv = 1;
        ssize_t used = nghttp2_session_mem_recv(k->h2, data, n);
        k->in_recv = 0;
        if (used < 0)
            conn_drop(k, "the server broke HTTP/2");
        else
            flush(k);
        event_base_loop(ch->base, EVLOOP_NONBLOCK);
    }
    if (kept && c->on_message)
        c->on_message(kept, c->payload);
    if (kept)
        protobuf_c_message_free_unpacked(kept, NULL);
    bufferevent_free(pair[1]); /* before the channel's event base goes */
    ccz_rpc_channel_free(ch);  /* the calls still open end UNAVAILABLE */
    return st;
}
