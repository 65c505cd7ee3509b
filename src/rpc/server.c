/* The gRPC server: libevent accepts TLS connections (RA-TLS contexts), nghttp2 speaks HTTP/2,
 * calls are dispatched to registered handlers that answer now or later from the loop. Every
 * byte from a client is untrusted: frames go through the cursor, messages are size-capped
 * before protobuf-c unpacks them, headers are checked before use. */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/thread.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <openssl/err.h>

#include "internal.h"

typedef struct {
    char *path;
    ccz_rpc_kind kind;
    const ProtobufCMessageDescriptor *in, *out;
    ccz_rpc_handler handler;
    void *payload;
} method;

typedef struct conn conn;

struct ccz_rpc_server {
    struct event_base *base;
    struct evconnlistener *listener;
    SSL_CTX *tls;
    size_t max_message;
    unsigned max_conns, n_conns;
    method *methods;
    size_t n_methods;
    conn *conns;
    bool shutting_down;
    struct event *grace;
};

struct conn {
    ccz_rpc_server *srv;
    struct bufferevent *bev;
    SSL *ssl;
    nghttp2_session *h2;
    int in_recv;
    bool closing;
    ccz_rpc_call *calls;
    conn *prev, *next;
};

struct ccz_rpc_call {
    conn *c;                 /* NULL once the stream is gone */
    int32_t id;
    const method *m;
    char path[256];
    bool bad_request;        /* wrong method or content type */
    ccz_rpc_metadata md, send_headers, send_trailers;
    ccz_buf in, out;
    size_t out_off;
    size_t in_messages;
    ProtobufCMessage *request;
    bool headers_sent, finished, deferred, dispatched, alive;
    int code;
    char *message;
    int64_t deadline; /* monotonic ms, 0: none */
    struct event *timer;
    int refs;
    void *user;
    void (*user_free)(void *);
    ccz_rpc_call *prev, *next;
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static pthread_once_t threads_once = PTHREAD_ONCE_INIT;

static void use_threads(void)
{
    evthread_use_pthreads();
}

/* ---- calls -----------------------------------------------------------------------------------*/

static void call_free(ccz_rpc_call *k)
{
    if (k->user_free)
        k->user_free(k->user);
    if (k->timer)
        event_free(k->timer);
    ccz_rpc_md_free(&k->md);
    ccz_rpc_md_free(&k->send_headers);
    ccz_rpc_md_free(&k->send_trailers);
    ccz_buf_free(&k->in);
    ccz_buf_free(&k->out);
    if (k->request)
        protobuf_c_message_free_unpacked(k->request, NULL);
    free(k->message);
    free(k);
}

void ccz_rpc_call_ref(ccz_rpc_call *k)
{
    k->refs++;
}

void ccz_rpc_call_unref(ccz_rpc_call *k)
{
    if (--k->refs == 0)
        call_free(k);
}

/* The stream is gone: the call stays as long as the application holds it. */
static void call_detach(ccz_rpc_call *k)
{
    conn *c = k->c;
    if (!c)
        return;
    if (k->prev)
        k->prev->next = k->next;
    else
        c->calls = k->next;
    if (k->next)
        k->next->prev = k->prev;
    k->c = NULL;
    k->alive = false;
    if (k->timer)
        event_del(k->timer);
    ccz_rpc_call_unref(k);
}

void ccz_rpc_call_set_user(ccz_rpc_call *k, void *user, void (*free_fn)(void *))
{
    k->user = user;
    k->user_free = free_fn;
}

void *ccz_rpc_call_user(const ccz_rpc_call *k)
{
    return k->user;
}

const char *ccz_rpc_call_path(const ccz_rpc_call *k)
{
    return k->path;
}

const ccz_rpc_metadata *ccz_rpc_call_metadata(const ccz_rpc_call *k)
{
    return &k->md;
}

const ccz_ratls_verdict *ccz_rpc_call_peer(const ccz_rpc_call *k)
{
    return k->c && k->c->ssl ? ccz_ratls_peer_verdict(k->c->ssl) : NULL;
}

int64_t ccz_rpc_call_remaining_ms(const ccz_rpc_call *k)
{
    if (!k->deadline)
        return -1;
    int64_t left = k->deadline - mono_ms();
    return left > 0 ? left : 0;
}

bool ccz_rpc_call_alive(const ccz_rpc_call *k)
{
    return k->alive && !k->finished;
}

ccz_status ccz_rpc_call_add_header(ccz_rpc_call *k, const char *key, ccz_span value)
{
    CCZ_ENSURE(!k->headers_sent, CCZ_ERR_INVALID_ARGUMENT, "headers were sent already");
    return ccz_rpc_md_add(&k->send_headers, key, value);
}

ccz_status ccz_rpc_call_add_trailer(ccz_rpc_call *k, const char *key, ccz_span value)
{
    CCZ_ENSURE(!k->finished, CCZ_ERR_INVALID_ARGUMENT, "the call is finished");
    return ccz_rpc_md_add(&k->send_trailers, key, value);
}

/* ---- sending ---------------------------------------------------------------------------------*/

static void conn_flush(conn *c);
static void conn_close(conn *c);

static ccz_status add_md(rpc_headers *h, const ccz_rpc_metadata *md)
{
    for (size_t i = 0; i < md->n; i++) {
        ccz_buf v = CCZ_BUF_INIT;
        ccz_status s = rpc_md_wire_value(&v, &md->entries[i]);
        if (s == CCZ_OK)
            s = rpc_headers_add(h, md->entries[i].key, ccz_buf_span(&v));
        ccz_buf_free(&v);
        CCZ_GUARD(s);
    }
    return CCZ_OK;
}

static ccz_status add_status(rpc_headers *h, const ccz_rpc_call *k)
{
    char code[8];
    snprintf(code, sizeof code, "%d", k->code);
    CCZ_GUARD(rpc_headers_add(h, "grpc-status", CCZ_SPAN(code, strlen(code))));
    if (k->message && k->message[0]) {
        ccz_buf m = CCZ_BUF_INIT;
        ccz_status s = rpc_percent_encode(&m, k->message);
        if (s == CCZ_OK)
            s = rpc_headers_add(h, "grpc-message", ccz_buf_span(&m));
        ccz_buf_free(&m);
        CCZ_GUARD(s);
    }
    return add_md(h, &k->send_trailers);
}

static ssize_t read_out(nghttp2_session *session, int32_t id, uint8_t *buf, size_t length,
                        uint32_t *flags, nghttp2_data_source *source, void *user_data)
{
    (void)user_data;
    ccz_rpc_call *k = source->ptr;
    size_t pending = k->out.len - k->out_off;
    if (pending) {
        size_t n = pending < length ? pending : length;
        memcpy(buf, k->out.ptr + k->out_off, n);
        k->out_off += n;
        if (k->out_off == k->out.len)
            k->out.len = k->out_off = 0;
        return (ssize_t)n;
    }
    if (!k->finished) {
        k->deferred = true;
        return NGHTTP2_ERR_DEFERRED;
    }
    *flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
    rpc_headers h;
    rpc_headers_init(&h);
    if (add_status(&h, k) == CCZ_OK)
        nghttp2_submit_trailer(session, id, rpc_headers_nv(&h), h.n);
    else
        nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, id, NGHTTP2_INTERNAL_ERROR);
    rpc_headers_free(&h);
    return 0;
}

/* Starts the response: headers with a data source, or (finished with nothing to send) a
 * trailers-only response. */
static ccz_status start_response(ccz_rpc_call *k)
{
    if (k->headers_sent || !k->c)
        return CCZ_OK;
    rpc_headers h;
    rpc_headers_init(&h);
    ccz_status s = rpc_headers_add(&h, ":status", CCZ_SPAN("200", 3));
    if (s == CCZ_OK)
        s = rpc_headers_add(&h, "content-type", CCZ_SPAN("application/grpc", 16));
    if (s == CCZ_OK)
        s = add_md(&h, &k->send_headers);
    bool trailers_only = k->finished && k->out.len == 0;
    if (s == CCZ_OK && trailers_only)
        s = add_status(&h, k);
    if (s == CCZ_OK) {
        nghttp2_data_provider prd = {.source.ptr = k, .read_callback = read_out};
        if (nghttp2_submit_response(k->c->h2, k->id, rpc_headers_nv(&h), h.n,
                                    trailers_only ? NULL : &prd) != 0)
            s = ccz_fail(CCZ_ERR_TLS, "cannot submit the response");
        else
            k->headers_sent = true;
    }
    rpc_headers_free(&h);
    return s;
}

static ccz_status kick(ccz_rpc_call *k)
{
    CCZ_GUARD(start_response(k));
    if (k->deferred && k->c) {
        k->deferred = false;
        nghttp2_session_resume_data(k->c->h2, k->id);
    }
    if (k->c)
        conn_flush(k->c);
    return CCZ_OK;
}

ccz_status ccz_rpc_send(ccz_rpc_call *k, const ProtobufCMessage *response)
{
    CCZ_ENSURE(k->alive && !k->finished, CCZ_ERR_INVALID_ARGUMENT,
               "the call is over (finished, cancelled, past its deadline or disconnected)");
    CCZ_ENSURE(response->descriptor == k->m->out, CCZ_ERR_INVALID_ARGUMENT,
               "%s answers %s, not %s", k->path, k->m->out->name, response->descriptor->name);
    CCZ_GUARD(rpc_pack(&k->out, response, k->c->srv->max_message));
    return kick(k);
}

ccz_status ccz_rpc_finish(ccz_rpc_call *k, int code, const char *message)
{
    CCZ_ENSURE(!k->finished, CCZ_ERR_INVALID_ARGUMENT, "the call is finished already");
    CCZ_ENSURE(code >= 0 && code <= 16, CCZ_ERR_INVALID_ARGUMENT, "status %d is not a gRPC code",
               code);
    if (!k->alive) {
        k->finished = true;
        return ccz_fail(CCZ_ERR_INVALID_ARGUMENT, "the call is over (cancelled, past its "
                                                  "deadline or disconnected)");
    }
    k->finished = true;
    k->code = code;
    free(k->message);
    k->message = message ? strdup(message) : NULL;
    if (k->timer)
        event_del(k->timer);
    return kick(k);
}

ccz_status ccz_rpc_reply(ccz_rpc_call *k, const ProtobufCMessage *response)
{
    CCZ_GUARD(ccz_rpc_send(k, response));
    return ccz_rpc_finish(k, CCZ_RPC_OK, NULL);
}

/* ---- receiving -------------------------------------------------------------------------------*/

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    ccz_rpc_call *k = arg;
    if (k->alive && !k->finished)
        (void)!ccz_rpc_finish(k, CCZ_RPC_DEADLINE_EXCEEDED, "deadline exceeded");
    k->alive = false; /* the client has given up: later answers go nowhere */
}

static void fail_call(ccz_rpc_call *k, int code, const char *message)
{
    if (!k->finished)
        (void)!ccz_rpc_finish(k, code, message);
}

static void dispatch(ccz_rpc_call *k, const ProtobufCMessage *req)
{
    ccz_rpc_call_ref(k);
    k->m->handler(k, req, k->m->payload);
    ccz_rpc_call_unref(k);
}

/* Parses the complete messages received so far. */
static void take_messages(ccz_rpc_call *k)
{
    ccz_cursor cur;
    ccz_cursor_init(&cur, ccz_buf_span(&k->in));
    size_t max = k->c->srv->max_message;
    for (;;) {
        ccz_span msg;
        ccz_status s = ccz_rpc_frame_read(&cur, max, &msg);
        if (s == CCZ_ERR_TRUNCATED)
            break;
        if (s) {
            fail_call(k, s == CCZ_ERR_TOO_LARGE ? CCZ_RPC_RESOURCE_EXHAUSTED : CCZ_RPC_INTERNAL,
                      ccz_error_detail());
            k->in.len = 0;
            return;
        }
        ProtobufCMessage *m = protobuf_c_message_unpack(k->m->in, NULL, msg.len, msg.ptr);
        if (!m) {
            fail_call(k, CCZ_RPC_INTERNAL, "the request cannot be parsed as the method's message");
            k->in.len = 0;
            return;
        }
        k->in_messages++;
        if (k->m->kind == CCZ_RPC_CLIENT_STREAMING) {
            if (!k->finished)
                dispatch(k, m);
            protobuf_c_message_free_unpacked(m, NULL);
        } else if (k->request) {
            protobuf_c_message_free_unpacked(m, NULL);
            fail_call(k, CCZ_RPC_UNIMPLEMENTED, "more than one request message on a unary call");
        } else {
            k->request = m;
        }
    }
    /* keep the incomplete tail */
    size_t used = cur.pos;
    memmove(k->in.ptr, k->in.ptr + used, k->in.len - used);
    k->in.len -= used;
}

static int on_begin_headers(nghttp2_session *session, const nghttp2_frame *frame, void *user_data)
{
    conn *c = user_data;
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0;
    ccz_rpc_call *k = calloc(1, sizeof *k);
    if (!k)
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    k->c = c;
    k->id = frame->hd.stream_id;
    k->alive = true;
    k->refs = 1; /* the stream's */
    /* room for a message and one more DATA frame (16 KiB): an oversize length is seen by
     * the frame reader, which names it */
    ccz_buf_init(&k->in, c->srv->max_message + 5 + 16384, false);
    ccz_buf_init(&k->out, 0, false);
    k->next = c->calls;
    if (c->calls)
        c->calls->prev = k;
    c->calls = k;
    nghttp2_session_set_stream_user_data(session, k->id, k);
    return 0;
}

static int on_header(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name,
                     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
                     void *user_data)
{
    (void)flags, (void)user_data;
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0;
    ccz_rpc_call *k = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
    if (!k)
        return 0;
    if (namelen == 5 && !memcmp(name, ":path", 5)) {
        if (valuelen >= sizeof k->path)
            k->bad_request = true;
        else
            memcpy(k->path, value, valuelen);
    } else if (namelen == 7 && !memcmp(name, ":method", 7)) {
        k->bad_request |= valuelen != 4 || memcmp(value, "POST", 4) != 0;
    } else if (namelen == 12 && !memcmp(name, "content-type", 12)) {
        k->bad_request |= valuelen < 16 || memcmp(value, "application/grpc", 16) != 0;
    } else if (namelen == 12 && !memcmp(name, "grpc-timeout", 12)) {
        char t[16];
        int64_t ms;
        if (valuelen < sizeof t) {
            memcpy(t, value, valuelen);
            t[valuelen] = '\0';
            if (ccz_rpc_timeout_parse(t, &ms) == CCZ_OK)
                k->deadline = mono_ms() + ms;
        }
    } else if (!rpc_header_reserved((const char *)name, namelen)) {
        char key[256];
        if (namelen < sizeof key) {
            memcpy(key, name, namelen);
            key[namelen] = '\0';
            if (rpc_md_add_wire(&k->md, key, value, valuelen) != CCZ_OK)
                k->bad_request = true;
        }
    }
    return 0;
}

static const method *find_method(ccz_rpc_server *s, const char *path)
{
    for (size_t i = 0; i < s->n_methods; i++)
        if (strcmp(s->methods[i].path, path) == 0)
            return &s->methods[i];
    return NULL;
}

/* The request headers are complete: find the method, arm the deadline. */
static void start_call(conn *c, ccz_rpc_call *k)
{
    if (k->bad_request) {
        fail_call(k, CCZ_RPC_INTERNAL, "not a gRPC request (method, content type or metadata)");
        return;
    }
    k->m = find_method(c->srv, k->path);
    if (!k->m) {
        char msg[320];
        snprintf(msg, sizeof msg, "unknown method %s", k->path);
        fail_call(k, CCZ_RPC_UNIMPLEMENTED, msg);
        return;
    }
    if (k->deadline) {
        int64_t left = k->deadline - mono_ms();
        if (left <= 0) {
            fail_call(k, CCZ_RPC_DEADLINE_EXCEEDED, "deadline exceeded");
            return;
        }
        k->timer = evtimer_new(c->srv->base, on_deadline, k);
        struct timeval tv = {left / 1000, (left % 1000) * 1000};
        if (k->timer)
            evtimer_add(k->timer, &tv);
    }
}

static int on_frame_recv(nghttp2_session *session, const nghttp2_frame *frame, void *user_data)
{
    conn *c = user_data;
    ccz_rpc_call *k = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
    if (!k)
        return 0;
    if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST)
        start_call(c, k);
    if ((frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA) &&
        (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) && !k->finished && k->m && !k->dispatched) {
        k->dispatched = true;
        if (k->in.len)
            fail_call(k, CCZ_RPC_INTERNAL, "the request stream ended inside a message");
        else if (k->m->kind == CCZ_RPC_CLIENT_STREAMING)
            dispatch(k, NULL);
        else if (!k->request)
            fail_call(k, CCZ_RPC_UNIMPLEMENTED, "no request message");
        else
            dispatch(k, k->request);
    }
    return 0;
}

static int on_data_chunk(nghttp2_session *session, uint8_t flags, int32_t id, const uint8_t *data,
                         size_t len, void *user_data)
{
    (void)flags, (void)user_data;
    ccz_rpc_call *k = nghttp2_session_get_stream_user_data(session, id);
    if (!k || k->finished || !k->m)
        return 0;
    if (ccz_buf_append(&k->in, data, len) != CCZ_OK) {
        fail_call(k, CCZ_RPC_RESOURCE_EXHAUSTED, "request message exceeds the limit");
        return 0;
    }
    take_messages(k);
    return 0;
}

static int on_stream_close(nghttp2_session *session, int32_t id, uint32_t error_code,
                           void *user_data)
{
    (void)error_code, (void)user_data;
    ccz_rpc_call *k = nghttp2_session_get_stream_user_data(session, id);
    if (k)
        call_detach(k);
    return 0;
}

/* ---- connections -----------------------------------------------------------------------------*/

static ssize_t send_cb(nghttp2_session *session, const uint8_t *data, size_t length, int flags,
                       void *user_data)
{
    (void)session, (void)flags;
    conn *c = user_data;
    if (bufferevent_write(c->bev, data, length) != 0)
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    return (ssize_t)length;
}

static void conn_flush(conn *c)
{
    if (c->in_recv || !c->h2)
        return;
    int rv = nghttp2_session_send(c->h2);
    /* done (after GOAWAY, the last stream closed) or broken: close once the output is out */
    if (rv != 0 || (!nghttp2_session_want_read(c->h2) && !nghttp2_session_want_write(c->h2)))
        c->closing = true;
    if (c->closing && evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
        conn_close(c);
}

static void conn_close(conn *c)
{
    ccz_rpc_server *s = c->srv;
    while (c->calls)
        call_detach(c->calls);
    if (c->h2)
        nghttp2_session_del(c->h2);
    if (c->bev)
        bufferevent_free(c->bev); /* closes the socket and frees the SSL */
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->n_conns--;
    free(c);
    if (s->shutting_down && !s->conns)
        event_base_loopexit(s->base, NULL);
}

static void read_cb(struct bufferevent *bev, void *arg)
{
    conn *c = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    c->in_recv = 1;
    while (evbuffer_get_length(in)) {
        size_t n = evbuffer_get_contiguous_space(in);
        unsigned char *data = evbuffer_pullup(in, (ssize_t)n);
        ssize_t used = nghttp2_session_mem_recv(c->h2, data, n);
        if (used < 0) {
            c->closing = true;
            break;
        }
        evbuffer_drain(in, (size_t)used);
    }
    c->in_recv = 0;
    conn_flush(c);
}

static void write_cb(struct bufferevent *bev, void *arg)
{
    (void)bev;
    conn *c = arg;
    if (c->closing)
        conn_close(c);
    else if (c->h2 && nghttp2_session_want_write(c->h2))
        conn_flush(c);
}

static ccz_status start_h2(conn *c)
{
    nghttp2_session_callbacks *cb;
    CCZ_ENSURE(nghttp2_session_callbacks_new(&cb) == 0, CCZ_ERR_NOMEM, "out of memory");
    nghttp2_session_callbacks_set_send_callback(cb, send_cb);
    nghttp2_session_callbacks_set_on_begin_headers_callback(cb, on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data_chunk);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
    int rv = nghttp2_session_server_new(&c->h2, cb, c);
    nghttp2_session_callbacks_del(cb);
    CCZ_ENSURE(rv == 0, CCZ_ERR_NOMEM, "cannot start HTTP/2");
    nghttp2_settings_entry iv[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 1000},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1u << 20},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, 16384},
    };
    nghttp2_submit_settings(c->h2, NGHTTP2_FLAG_NONE, iv, sizeof iv / sizeof iv[0]);
    nghttp2_session_set_local_window_size(c->h2, NGHTTP2_FLAG_NONE, 0, 16u << 20);
    return CCZ_OK;
}

static void event_cb(struct bufferevent *bev, short events, void *arg)
{
    (void)bev;
    conn *c = arg;
    if (events & BEV_EVENT_CONNECTED) {
        if (start_h2(c) != CCZ_OK) {
            conn_close(c);
            return;
        }
        conn_flush(c);
        return;
    }
    if (events & (BEV_EVENT_ERROR | BEV_EVENT_EOF)) {
        if (!c->h2) { /* the TLS handshake failed */
            const ccz_ratls_verdict *v = ccz_ratls_peer_verdict(c->ssl);
            unsigned long e = bufferevent_get_openssl_error(c->bev);
            char buf[256] = "";
            if (e)
                ERR_error_string_n(e, buf, sizeof buf);
            ccz_log(CCZ_LOG_WARN, "rpc: a client's handshake failed: %s",
                    v && v->status ? v->message : buf[0] ? buf : "connection closed");
        }
        conn_close(c);
    }
}

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *addr,
                      int len, void *arg)
{
    (void)l, (void)addr, (void)len;
    ccz_rpc_server *s = arg;
    if (s->shutting_down || s->n_conns >= s->max_conns) {
        evutil_closesocket(fd);
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    conn *c = calloc(1, sizeof *c);
    SSL *ssl = SSL_new(s->tls);
    if (!c || !ssl) {
        free(c);
        SSL_free(ssl);
        evutil_closesocket(fd);
        return;
    }
    c->srv = s;
    c->ssl = ssl;
    c->bev = bufferevent_openssl_socket_new(s->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                            BEV_OPT_CLOSE_ON_FREE);
    if (!c->bev) {
        SSL_free(ssl);
        evutil_closesocket(fd);
        free(c);
        return;
    }
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    s->n_conns++;
    bufferevent_setcb(c->bev, read_cb, write_cb, event_cb, c);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

/* ---- the server ------------------------------------------------------------------------------*/

/* gRPC clients require HTTP/2 by ALPN. */
static int select_h2(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                     const unsigned char *in, unsigned inlen, void *arg)
{
    (void)ssl, (void)arg;
    static const unsigned char h2[] = {2, 'h', '2'};
    unsigned char *sel;
    if (SSL_select_next_proto(&sel, outlen, h2, sizeof h2, in, inlen) != OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    *out = sel;
    return SSL_TLSEXT_ERR_OK;
}

ccz_status ccz_rpc_server_new(ccz_rpc_server **out, const ccz_rpc_server_opts *o)
{
    *out = NULL;
    CCZ_ENSURE(o && o->version == CCZ_RPC_SERVER_OPTS_VERSION && o->tls,
               CCZ_ERR_INVALID_ARGUMENT, "server options missing or without a TLS context");
    pthread_once(&threads_once, use_threads);
    ccz_rpc_server *s = calloc(1, sizeof *s);
    CCZ_ENSURE(s, CCZ_ERR_NOMEM, "out of memory");
    s->base = event_base_new();
    if (!s->base) {
        free(s);
        return ccz_fail(CCZ_ERR_NOMEM, "cannot create the event loop");
    }
    evthread_make_base_notifiable(s->base);
    s->tls = o->tls;
    SSL_CTX_up_ref(s->tls);
    SSL_CTX_set_alpn_select_cb(s->tls, select_h2, NULL);
    s->max_message = o->max_message ? o->max_message : CCZ_RPC_DEFAULT_MAX_MESSAGE;
    s->max_conns = o->max_connections ? o->max_connections : 1024;
    *out = s;
    return CCZ_OK;
}

void ccz_rpc_server_free(ccz_rpc_server *s)
{
    if (!s)
        return;
    s->shutting_down = false;
    while (s->conns)
        conn_close(s->conns);
    if (s->listener)
        evconnlistener_free(s->listener);
    if (s->grace)
        event_free(s->grace);
    for (size_t i = 0; i < s->n_methods; i++)
        free(s->methods[i].path);
    free(s->methods);
    SSL_CTX_free(s->tls);
    event_base_free(s->base);
    free(s);
}

ccz_status ccz_rpc_server_add(ccz_rpc_server *s, const char *path, ccz_rpc_kind kind,
                              const ProtobufCMessageDescriptor *in,
                              const ProtobufCMessageDescriptor *out, ccz_rpc_handler handler,
                              void *payload)
{
    CCZ_ENSURE(path && path[0] == '/' && strlen(path) < 256 && in && out && handler,
               CCZ_ERR_INVALID_ARGUMENT, "a method needs a /package.Service/Method path, "
                                         "message types and a handler");
    CCZ_ENSURE(!find_method(s, path), CCZ_ERR_EXISTS, "method %s is registered already", path);
    method *m = realloc(s->methods, (s->n_methods + 1) * sizeof *m);
    CCZ_ENSURE(m, CCZ_ERR_NOMEM, "out of memory");
    s->methods = m;
    m[s->n_methods] = (method){strdup(path), kind, in, out, handler, payload};
    CCZ_ENSURE(m[s->n_methods].path, CCZ_ERR_NOMEM, "out of memory");
    s->n_methods++;
    return CCZ_OK;
}

ccz_status ccz_rpc_server_add_service(ccz_rpc_server *s, const ProtobufCServiceDescriptor *d,
                                      const ccz_rpc_handler *handlers, void *payload)
{
    for (unsigned i = 0; i < d->n_methods; i++) {
        char path[256];
        snprintf(path, sizeof path, "/%s/%s", d->name, d->methods[i].name);
        CCZ_GUARD(ccz_rpc_server_add(s, path, CCZ_RPC_UNARY, d->methods[i].input,
                                     d->methods[i].output, handlers[i], payload));
    }
    return CCZ_OK;
}

ccz_status ccz_rpc_server_listen(ccz_rpc_server *s, const char *addr, int *port)
{
    char host[256] = "0.0.0.0";
    const char *colon = strrchr(addr, ':');
    CCZ_ENSURE(colon && colon[1], CCZ_ERR_INVALID_ARGUMENT, "'%s' is not HOST:PORT or :PORT",
               addr);
    if (colon != addr)
        snprintf(host, sizeof host, "%.*s", (int)(colon - addr), addr);
    if (host[0] == '[' && host[strlen(host) - 1] == ']') { /* [::1]:port */
        memmove(host, host + 1, strlen(host));
        host[strlen(host) - 1] = '\0';
    }
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE}, *ai = NULL;
    int gai = getaddrinfo(host, colon + 1, &hints, &ai);
    CCZ_ENSURE(gai == 0, CCZ_ERR_INVALID_ARGUMENT, "'%s' is not an address and port: %s", addr,
               gai_strerror(gai));
    s->listener = evconnlistener_new_bind(s->base, accept_cb, s,
                                          LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE |
                                              LEV_OPT_CLOSE_ON_EXEC,
                                          128, ai->ai_addr, (int)ai->ai_addrlen);
    freeaddrinfo(ai);
    CCZ_ENSURE(s->listener, CCZ_ERR_NETWORK, "cannot listen on %s: %s", addr, strerror(errno));
    if (port) {
        struct sockaddr_storage bound;
        socklen_t bl = sizeof bound;
        getsockname(evconnlistener_get_fd(s->listener), (struct sockaddr *)&bound, &bl);
        *port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                  : ((struct sockaddr_in *)&bound)->sin_port);
    }
    return CCZ_OK;
}

ccz_status ccz_rpc_server_run(ccz_rpc_server *s)
{
    CCZ_ENSURE(s->listener, CCZ_ERR_INVALID_ARGUMENT, "the server listens nowhere");
    return event_base_dispatch(s->base) < 0 ? ccz_fail(CCZ_ERR_IO, "the event loop failed")
                                            : CCZ_OK;
}

static void grace_over(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    event_base_loopexit(((ccz_rpc_server *)arg)->base, NULL);
}

typedef struct {
    ccz_rpc_server *s;
    int grace_ms;
} shutdown_req;

static void do_shutdown(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    shutdown_req *r = arg;
    ccz_rpc_server *s = r->s;
    if (!s->shutting_down) {
        s->shutting_down = true;
        if (s->listener) { /* new clients are refused at once, not left waiting */
            evconnlistener_free(s->listener);
            s->listener = NULL;
        }
        for (conn *c = s->conns, *next; c; c = next) {
            next = c->next;
            if (!c->h2) {
                conn_close(c);
                continue;
            }
            nghttp2_submit_goaway(c->h2, NGHTTP2_FLAG_NONE,
                                  nghttp2_session_get_last_proc_stream_id(c->h2),
                                  NGHTTP2_NO_ERROR, NULL, 0);
            conn_flush(c);
        }
        struct timeval tv = {r->grace_ms / 1000, (r->grace_ms % 1000) * 1000};
        s->grace = evtimer_new(s->base, grace_over, s);
        if (s->grace)
            evtimer_add(s->grace, &tv);
        if (!s->conns)
            event_base_loopexit(s->base, NULL);
    }
    free(r);
}

void ccz_rpc_server_shutdown(ccz_rpc_server *s, int grace_ms)
{
    shutdown_req *r = malloc(sizeof *r);
    if (!r)
        return;
    *r = (shutdown_req){s, grace_ms < 0 ? 0 : grace_ms};
    if (event_base_once(s->base, -1, EV_TIMEOUT, do_shutdown, r, NULL) != 0)
        free(r);
}

typedef struct {
    void (*fn)(void *);
    void *payload;
} deferred;

static void run_deferred(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    deferred *d = arg;
    d->fn(d->payload);
    free(d);
}

ccz_status ccz_rpc_server_defer(ccz_rpc_server *s, int delay_ms, void (*fn)(void *), void *payload)
{
    deferred *d = malloc(sizeof *d);
    CCZ_ENSURE(d, CCZ_ERR_NOMEM, "out of memory");
    *d = (deferred){fn, payload};
    struct timeval tv = {delay_ms / 1000, (delay_ms % 1000) * 1000};
    if (event_base_once(s->base, -1, EV_TIMEOUT, run_deferred, d, &tv) != 0) {
        free(d);
        return ccz_fail(CCZ_ERR_NOMEM, "cannot schedule");
    }
    return CCZ_OK;
}

/* For the fuzz target: one connection's bytes from a client (after TLS) through HTTP/2 and the
 * handlers, the answers discarded, then the connection closed. */
ccz_status rpc_server_feed(ccz_rpc_server *s, const uint8_t *data, size_t n)
{
    struct bufferevent *pair[2];
    CCZ_ENSURE(bufferevent_pair_new(s->base, 0, pair) == 0, CCZ_ERR_NOMEM, "out of memory");
    conn *c = calloc(1, sizeof *c);
    if (!c) {
        bufferevent_free(pair[0]);
        bufferevent_free(pair[1]);
        return ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    }
    c->srv = s;
    c->bev = pair[0];
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    s->n_conns++;
    bufferevent_setcb(c->bev, NULL, NULL, NULL, c);
    ccz_status st = start_h2(c);
    if (st == CCZ_OK) {
        c->in_recv = 1;
        ssize_t used = nghttp2_session_mem_recv(c->h2, data, n);
        c->in_recv = 0;
        st = used < 0 ? ccz_fail(CCZ_ERR_PROTOCOL, "HTTP/2: %s", nghttp2_strerror((int)used))
                      : CCZ_OK;
        conn_flush(c);
    }
    event_base_loop(s->base, EVLOOP_NONBLOCK);
    for (conn *x = s->conns; x; x = x->next)
        if (x == c) {
            conn_close(c);
            break;
        }
    bufferevent_free(pair[1]);
    return st;
}
