/* SPDX-License-Identifier: Apache-2.0 */
/* The gRPC server: libevent accepts TLS connections (RA-TLS contexts), or plaintext ones (h2c,
 * HTTP/2 with prior knowledge) when the server has no context, nghttp2 speaks HTTP/2, calls are
 * dispatched to registered handlers that answer now or later from the loop. Every
 * byte from a client is untrusted: frames go through the cursor, messages are size-capped
 * (and inflated no further than the cap) before protobuf-c unpacks them, headers are checked
 * before use. A client cannot hold the server: handshakes and idle connections have deadlines,
 * the connection caps (the server's, and each peer's among its own) shed the oldest unfinished
 * handshake, running out of descriptors pauses accepting, and request bytes are bounded per
 * connection (its HTTP/2 window, credited only as the server consumes them) and server-wide. */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/thread.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <openssl/err.h>

#include "core/guard.h"
#include "core/listener.h"
#include "internal.h"

typedef struct {
    char *path;
    ccz_rpc_kind kind;
    const ProtobufCMessageDescriptor *in, *out;
    ccz_rpc_handler handler;
    void *payload;
} method;

typedef struct conn conn;

/* Large messages' receive buffers kept for reuse, at most. */
#define RPC_POOL 128

/* Packed response bytes (gRPC prefix and message), reference-counted: a call's queue and the
 * connection's output (libevent references them, not copies) each hold one, and so does the
 * application for the ones it packs to send to many calls (ccz_rpc_packed_new). */
struct ccz_rpc_packed {
    atomic_uint refs;
    const ProtobufCMessageDescriptor *d;
    bool compressed; /* flag 1 in the prefix */
    size_t len;      /* of data: the prefix and the message */
    uint8_t data[];
};

/* A call's response queue: the packed messages, sent in order. */
typedef struct out_seg {
    struct out_seg *next;
    ccz_rpc_packed *p;
    size_t off; /* bytes of it sent */
} out_seg;

struct ccz_rpc_server {
    struct event_base *base;
    atomic_int shutdown_grace_ms; /* of the shutdown asked for (ccz_rpc_server_shutdown) */
    struct evconnlistener *listener;
    int64_t accept_failed_at; /* the last accept() failure (an episode is logged once) */
    SSL_CTX *tls;             /* NULL: plaintext (h2c) */
    size_t max_message;
    unsigned max_streams;
    unsigned handshake_ms, idle_ms;
    size_t conn_window;    /* per connection: bytes received and not yet consumed */
    uint64_t conn_serial;  /* the last connection's identifier */
    size_t max_held, held; /* server-wide: request buffer bytes */
    ccz_rpc_encoding send_encoding;
    method *methods;
    size_t n_methods;
    listener_conns conns; /* in their TLS handshake (shed first at the caps), serving */
    struct {
        uint8_t *p;
        size_t cap;
    } pool[RPC_POOL]; /* large messages' buffers given back (lazily freed), for the next ones */
    unsigned n_pool;
    size_t pooled; /* their bytes, at most max_held */
    bool shutting_down;
    struct event *grace;
    /* work handed to the loop by other threads (ccz_rpc_server_defer): pending until it runs;
     * what is pending when the loop ends runs then; after that, none is taken */
    pthread_mutex_t defer_mu;
    struct deferred *deferred;
    bool loop_ended;
};

struct conn {
    listener_conn lc; /* first: a listener_conn * is a conn *; its timer: the handshake's
                       * deadline, then the idle check; last_active: its handshake finished or
                       * its last call ended */
    ccz_rpc_server *srv;
    nghttp2_session *h2;
    size_t unconsumed; /* bytes received on its streams, not yet consumed */
    int in_recv;
    bool closing;
    unsigned peer_resets; /* streams reset for the client's errors on them */
    ccz_rpc_call *calls;
    uint64_t serial; /* unique for the server's lifetime */
};

/* A request's bytes not yet parsed into messages. charge is what counts towards the bounds:
 * the capacity of a heap buffer; for a large message's reserved buffer (mapped: its frame's
 * full size, committed by the kernel page by page as bytes are written), the pages written so
 * far, which is what it occupies. */
typedef struct {
    uint8_t *p;
    size_t len, cap, charge;
    size_t frame; /* the first message's frame (prefix + message) once its prefix arrived */
    bool mapped;
} inbuf;

struct ccz_rpc_call {
    conn *c;             /* NULL once the stream is gone */
    ccz_rpc_server *srv; /* its server (which outlives its calls) */
    uint64_t conn_serial;
    int32_t id;
    const method *m;
    char path[256];
    bool bad_request;    /* wrong method or content type */
    bool got_type;       /* a content-type came (a request without one is not gRPC) */
    size_t header_bytes; /* as SETTINGS_MAX_HEADER_LIST_SIZE counts them */
    size_t md_held;      /* metadata bytes kept, counted in the server's bound */
    bool headers_over;   /* more header bytes than allowed: refused */
    ccz_rpc_metadata md, send_headers, send_trailers;
    inbuf in;
    out_seg *out, **out_tail;         /* responses queued, oldest first */
    size_t unsent;                    /* their bytes not handed to the connection yet */
    ccz_rpc_encoding in_enc, out_enc; /* grpc-encoding of the request, of the response */
    char bad_enc[32];                 /* an encoding this server does not read */
    unsigned accepts;                 /* grpc-accept-encoding, a set of 1 << encoding */
    size_t credit;                    /* consumed, not yet in a WINDOW_UPDATE of the stream */
    size_t in_messages;
    ProtobufCMessage *request;
    struct arena_block *request_arena;
    bool headers_sent, deferred, dispatched;
    /* written on the loop alone; atomic because ccz_rpc_call_alive may be asked from another
     * thread that holds a reference (a worker about to start a queued call's job) */
    atomic_bool finished, alive;
    int code;
    char *message;
    int64_t deadline; /* monotonic ms, 0: none */
    int64_t progress; /* monotonic ms of the request's last bytes */
    int64_t out_at;   /* monotonic ms the connection last took bytes of its answer */
    bool stalled;     /* reset for an answer nobody took: the connection goes if it stays */
    struct event *timer;
    int refs;
    void *user;
    void (*user_free)(void *);
    ccz_rpc_call *prev, *next;
};

/* ---- calls -----------------------------------------------------------------------------------*/

static void rpc_request_free(ccz_rpc_server *s, ProtobufCMessage *m, struct arena_block *arena);
static void inbuf_release(ccz_rpc_server *s, inbuf *b);

static void call_free(ccz_rpc_call *k)
{
    if (k->user_free)
        k->user_free(k->user);
    if (k->timer)
        event_free(k->timer);
    ccz_rpc_md_free(&k->md);
    ccz_rpc_md_free(&k->send_headers);
    ccz_rpc_md_free(&k->send_trailers);
    inbuf_release(NULL, &k->in); /* given back at detach; empty by now */
    while (k->out) {
        out_seg *g = k->out;
        k->out = g->next;
        ccz_rpc_packed_free(g->p);
        free(g);
    }
    if (k->request)
        rpc_request_free(k->srv, k->request, k->request_arena);
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

/* ---- request bytes: held, consumed, shed ---------------------------------------------------*/

/* Request header bytes per call (name + value + 32 per field, as HTTP/2 counts them). */
#define MAX_HEADER_LIST 16384u

/* Window credit goes back in steps of at least this, so a client's windows are never short of
 * what the server holds by more than a step: with nghttp2's own threshold (half the window)
 * consumed bytes could sit unannounced while unfinished messages fill the rest, a stall. */
#define CREDIT_STEP 16384

/* The connection's window is credited with what it received and its calls do not hold: bytes
 * consumed, and DATA nghttp2 dropped on streams already closed (and padding), which it counts as
 * consumed but announces only at half the window, a count the server's own updates erase. */
static void credit_connection(conn *c)
{
    int64_t due =
        (int64_t)nghttp2_session_get_effective_recv_data_length(c->h2) - (int64_t)c->unconsumed;
    if (due >= CREDIT_STEP)
        nghttp2_submit_window_update(c->h2, NGHTTP2_FLAG_NONE, 0, (int32_t)due);
}

/* n bytes of a stream (k, or an unknown stream id) leave the server: credited to the client's
 * connection and stream windows. */
static void credit(conn *c, ccz_rpc_call *k, int32_t id, size_t n)
{
    if (!n || !c->h2)
        return;
    credit_connection(c);
    if (!k) {
        nghttp2_submit_window_update(c->h2, NGHTTP2_FLAG_NONE, id, (int32_t)n);
        return;
    }
    k->credit += n;
    if (k->credit >= CREDIT_STEP) {
        nghttp2_submit_window_update(c->h2, NGHTTP2_FLAG_NONE, id, (int32_t)k->credit);
        k->credit = 0;
    }
}

/* n bytes held for a call are consumed (parsed into a message, or dropped). */
static void consume(conn *c, ccz_rpc_call *k, size_t n)
{
    c->unconsumed -= n;
    credit(c, k, k->id, n);
}

/* A message whose frame is at least this large is received into a buffer reserved once at the
 * frame's size (its length prefix says it), so it is never copied to grow; the server pools
 * those buffers, so that the next large message does not fault its pages in again (a 4 MiB
 * malloc/free per message was as many page faults, plus glibc's trimming). */
#define BIG_FRAME (256u << 10)
#define PAGE_ROUND(n) (((n) + 4095) & ~(size_t)4095)

/* Sanitizer builds take reserved buffers from malloc, so that ASan sees overruns of them. */
#if defined(__SANITIZE_ADDRESS__)
#define RPC_MAP 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RPC_MAP 0
#endif
#endif
#ifndef RPC_MAP
#define RPC_MAP 1
#endif

/* An anonymous mapping of at least want bytes (a multiple of the page; *cap gets its size), not
 * committed until written: one the server gave back before if one fits (at most twice the size
 * wanted), else a new one. */
static uint8_t *map_new(ccz_rpc_server *s, size_t want, size_t *cap)
{
    if (!RPC_MAP) {
        *cap = want;
        return malloc(want);
    }
    unsigned best = s->n_pool;
    for (unsigned i = 0; i < s->n_pool; i++)
        if (s->pool[i].cap >= want && s->pool[i].cap / 2 <= want &&
            (best == s->n_pool || s->pool[i].cap < s->pool[best].cap))
            best = i;
    if (best < s->n_pool) {
        uint8_t *p = s->pool[best].p;
        *cap = s->pool[best].cap;
        s->pooled -= *cap;
        s->pool[best] = s->pool[--s->n_pool];
        return p;
    }
    void *p = mmap(NULL, want, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    *cap = want;
    return p == MAP_FAILED ? NULL : p;
}

/* Grows a mapping (the kernel moves its pages, nothing is copied). */
static uint8_t *map_grow(uint8_t *p, size_t old, size_t cap)
{
    if (!RPC_MAP)
        return realloc(p, cap);
    void *q = mremap(p, old, cap, MREMAP_MAYMOVE);
    return q == MAP_FAILED ? NULL : q;
}

/* Gives a mapping back: to the server's pool (s may be NULL: not), its pages lazily freed
 * (MADV_FREE: the kernel takes them back when it needs memory, and a later write to one it
 * has not taken costs no page fault), or unmapped when the pool is full. */
static void map_free(ccz_rpc_server *s, uint8_t *p, size_t cap)
{
    if (!RPC_MAP) {
        free(p);
        return;
    }
    if (!p)
        return;
    if (s && s->n_pool < RPC_POOL && s->pooled + cap <= s->max_held &&
        madvise(p, cap, MADV_FREE) == 0) {
        s->pool[s->n_pool].p = p;
        s->pool[s->n_pool++].cap = cap;
        s->pooled += cap;
        return;
    }
    munmap(p, cap);
}

static void inbuf_release(ccz_rpc_server *s, inbuf *b)
{
    if (b->mapped)
        map_free(s, b->p, b->cap);
    else
        free(b->p);
    *b = (inbuf){0};
}

/* Gives the request buffer back: its bytes credited to the client, its memory uncounted. */
static void in_drop(ccz_rpc_call *k)
{
    if (k->c) {
        consume(k->c, k, k->in.len);
        k->c->srv->held -= k->in.charge;
    }
    inbuf_release(k->c ? k->c->srv : NULL, &k->in);
}

/* The first message's frame size once its length prefix is among the buffer's bytes and data
 * (0 before, and for a prefix the frame reader refuses). */
static size_t frame_size(const inbuf *b, const uint8_t *data, size_t n, size_t max)
{
    if (b->frame)
        return b->frame;
    if (b->len + n < 5)
        return 0;
    uint8_t h[5];
    size_t from = b->len < 5 ? b->len : 5;
    if (from)
        memcpy(h, b->p, from);
    memcpy(h + from, data, 5 - from);
    ccz_cursor cur;
    ccz_cursor_init(&cur, CCZ_SPAN(h, 5));
    uint8_t flag;
    uint32_t len;
    /* a bad flag or length is refused by the frame reader as soon as the prefix is in */
    if (ccz_cursor_u8(&cur, &flag) || ccz_cursor_u32be(&cur, &len) || flag > 1 || len > max)
        return 0;
    return (size_t)len + 5;
}

/* Makes room for need bytes in a reserved buffer of at least the frame's size: a new mapping
 * (the few bytes held so far moved in) or the mapping grown. */
static bool in_reserve(ccz_rpc_call *k, size_t frame, size_t need)
{
    ccz_rpc_server *s = k->c->srv;
    size_t cap = PAGE_ROUND(need > frame ? need : frame);
    if (k->in.mapped) {
        uint8_t *p = map_grow(k->in.p, k->in.cap, cap);
        if (!p)
            return false;
        k->in.p = p;
        k->in.cap = cap;
        return true;
    }
    uint8_t *p = map_new(s, cap, &cap);
    if (!p)
        return false;
    if (k->in.len)
        memcpy(p, k->in.p, k->in.len);
    free(k->in.p);
    s->held -= k->in.charge;
    k->in.p = p;
    k->in.cap = cap;
    k->in.mapped = true;
    k->in.charge = PAGE_ROUND(k->in.len); /* what it occupies: the pages written */
    s->held += k->in.charge;
    return true;
}

/* Appends a DATA chunk (at most a frame, 16 KiB: the frame size is never raised). A large
 * message goes into a buffer reserved at its frame's size, charged by the pages written; a
 * small one into a heap buffer that grows by doubling, every byte of it charged. */
static bool in_append(ccz_rpc_call *k, const uint8_t *data, size_t n)
{
    ccz_rpc_server *s = k->c->srv;
    size_t need = k->in.len + n;
    if (need > s->max_message + 5 + 16384) /* the frame reader sees an oversize length first */
        return false;
    k->in.frame = frame_size(&k->in, data, n, s->max_message);
    if (need > k->in.cap && (k->in.mapped || k->in.frame >= BIG_FRAME)) {
        if (!in_reserve(k, k->in.frame, need))
            return false;
    } else if (need > k->in.cap) {
        /* doubling: a large message arriving in small pieces is copied about twice, not
         * once per piece; what is held stays within twice what arrived */
        size_t extra = k->in.len;
        if (need + extra > s->max_message + 5 + 16384)
            extra = s->max_message + 5 + 16384 - need;
        size_t cap = (need + extra + 4095) & ~(size_t)4095;
        uint8_t *p = realloc(k->in.p, cap);
        if (!p)
            return false;
        s->held += cap - k->in.cap;
        k->in.p = p;
        k->in.cap = k->in.charge = cap;
    }
    memcpy(k->in.p + k->in.len, data, n);
    k->in.len += n;
    k->c->unconsumed += n;
    if (k->in.mapped && PAGE_ROUND(k->in.len) > k->in.charge) { /* pages written: committed */
        s->held += PAGE_ROUND(k->in.len) - k->in.charge;
        k->in.charge = PAGE_ROUND(k->in.len);
    }
    return true;
}

/* After parsing: the first used bytes are consumed; a buffer much larger than what it still
 * holds is given back. */
static void in_shift(ccz_rpc_call *k, size_t used)
{
    if (!used)
        return;
    if (used == k->in.len) {
        in_drop(k);
        return;
    }
    consume(k->c, k, used);
    k->in.frame = 0; /* the next message's prefix is read anew */
    size_t left = k->in.len - used;
    if (k->in.mapped) { /* the next message's first bytes go to a heap buffer of their own */
        size_t cap = PAGE_ROUND(left);
        uint8_t *p = malloc(cap);
        if (p) {
            memcpy(p, k->in.p + used, left);
            k->c->srv->held -= k->in.charge;
            map_free(k->c->srv, k->in.p, k->in.cap);
            k->in = (inbuf){p, left, cap, cap, 0, false};
            k->c->srv->held += cap;
            return;
        }
    }
    memmove(k->in.p, k->in.p + used, left);
    k->in.len = left;
    if (!k->in.mapped && k->in.cap > 2 * k->in.len + 65536) {
        size_t cap = PAGE_ROUND(k->in.len);
        uint8_t *p = realloc(k->in.p, cap);
        if (p) {
            k->c->srv->held -= k->in.cap - cap;
            k->in.p = p;
            k->in.cap = k->in.charge = cap;
        }
    }
}

/* The stream is gone: the call stays as long as the application holds it. */
static void call_detach(ccz_rpc_call *k)
{
    conn *c = k->c;
    if (!c)
        return;
    in_drop(k);
    c->srv->held -= k->md_held;
    k->md_held = 0;
    /* idle counts from the last call (pings do not reset it) */
    c->lc.last_active = listener_mono_ms();
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

uint64_t ccz_rpc_call_connection(const ccz_rpc_call *k)
{
    return k->conn_serial;
}

size_t ccz_rpc_call_unsent(const ccz_rpc_call *k)
{
    return k->unsent;
}

const ccz_ratls_verdict *ccz_rpc_call_peer(const ccz_rpc_call *k)
{
    return k->c && k->c->lc.ssl ? ccz_ratls_peer_verdict(k->c->lc.ssl) : NULL;
}

int64_t ccz_rpc_call_remaining_ms(const ccz_rpc_call *k)
{
    if (!k->deadline)
        return -1;
    int64_t left = k->deadline - listener_mono_ms();
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

/* A packed message of already framed bytes (prefix included). */
static ccz_status packed_of(ccz_rpc_packed **out, const ProtobufCMessageDescriptor *d,
                            ccz_span framed, bool compressed)
{
    ccz_rpc_packed *p = malloc(sizeof *p + framed.len);
    CCZ_ENSURE(p, CCZ_ERR_NOMEM, "out of memory");
    atomic_init(&p->refs, 1);
    p->d = d;
    p->compressed = compressed;
    p->len = framed.len;
    memcpy(p->data, framed.ptr, framed.len);
    *out = p;
    return CCZ_OK;
}

ccz_status ccz_rpc_packed_new(ccz_rpc_packed **out, const ProtobufCMessage *m)
{
    *out = NULL;
    CCZ_ENSURE(m && m->descriptor, CCZ_ERR_INVALID_ARGUMENT, "no message");
    size_t n = protobuf_c_message_get_packed_size(m);
    CCZ_ENSURE(n <= INT32_MAX, CCZ_ERR_TOO_LARGE, "message of %zu bytes: too large", n);
    ccz_rpc_packed *p = malloc(sizeof *p + 5 + n);
    CCZ_ENSURE(p, CCZ_ERR_NOMEM, "out of memory");
    atomic_init(&p->refs, 1);
    p->d = m->descriptor;
    p->compressed = false;
    p->len = 5 + n;
    p->data[0] = 0;
    p->data[1] = (uint8_t)(n >> 24), p->data[2] = (uint8_t)(n >> 16);
    p->data[3] = (uint8_t)(n >> 8), p->data[4] = (uint8_t)n;
    protobuf_c_message_pack(m, p->data + 5);
    *out = p;
    return CCZ_OK;
}

void ccz_rpc_packed_free(ccz_rpc_packed *p)
{
    if (p && atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) == 1)
        free(p);
}

static void packed_cleanup(const void *data, size_t len, void *extra)
{
    (void)data, (void)len;
    ccz_rpc_packed_free(extra);
}

/* Appends p (referenced, not copied) to the call's responses. */
static ccz_status queue(ccz_rpc_call *k, ccz_rpc_packed *p)
{
    out_seg *g = malloc(sizeof *g);
    CCZ_ENSURE(g, CCZ_ERR_NOMEM, "out of memory");
    atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed);
    *g = (out_seg){NULL, p, 0};
    if (!k->unsent) /* a stall counts from the first of its bytes to wait */
        k->out_at = listener_mono_ms();
    *k->out_tail = g;
    k->out_tail = &g->next;
    k->unsent += p->len;
    return CCZ_OK;
}

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

/* Takes n bytes off the front of the call's queue: copied to buf, or (buf NULL) referenced by
 * the connection's output. False when the output cannot take them. */
static bool out_take(ccz_rpc_call *k, uint8_t *buf, struct evbuffer *to, size_t n)
{
    k->out_at = listener_mono_ms();
    while (n) {
        out_seg *g = k->out;
        size_t m = g->p->len - g->off;
        if (m > n)
            m = n;
        if (buf) {
            memcpy(buf, g->p->data + g->off, m);
            buf += m;
        } else if (m < 4096) { /* a reference costs more than copying a few bytes */
            if (evbuffer_add(to, g->p->data + g->off, m) != 0)
                return false;
        } else {
            atomic_fetch_add_explicit(&g->p->refs, 1, memory_order_relaxed);
            if (evbuffer_add_reference(to, g->p->data + g->off, m, packed_cleanup, g->p) != 0) {
                ccz_rpc_packed_free(g->p);
                return false;
            }
        }
        g->off += m;
        k->unsent -= m;
        n -= m;
        if (g->off == g->p->len) {
            k->out = g->next;
            if (!k->out)
                k->out_tail = &k->out;
            ccz_rpc_packed_free(g->p);
            free(g);
        }
    }
    return true;
}

/* A DATA frame's payload: messages larger than a frame go out by reference (send_data), not
 * copied; smaller ones are copied into the frame, several to a frame. */
static ssize_t read_out(nghttp2_session *session, int32_t id, uint8_t *buf, size_t length,
                        uint32_t *flags, nghttp2_data_source *source, void *user_data)
{
    (void)user_data;
    ccz_rpc_call *k = source->ptr;
    if (k->unsent) {
        size_t n = k->unsent < length ? k->unsent : length;
        if (k->out->p->len - k->out->off >= n) {
            *flags |= NGHTTP2_DATA_FLAG_NO_COPY;
            return (ssize_t)n;
        }
        out_take(k, buf, NULL, n);
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
    /* what this server reads (required with UNIMPLEMENTED for an unknown grpc-encoding) */
    if (s == CCZ_OK)
        s = rpc_headers_add(&h, "grpc-accept-encoding",
                            CCZ_SPAN(RPC_ACCEPT_ENCODING, sizeof RPC_ACCEPT_ENCODING - 1));
    bool trailers_only = k->finished && !k->out;
    if (s == CCZ_OK && !trailers_only && k->out_enc != CCZ_RPC_IDENTITY) {
        const char *e = rpc_encoding_name(k->out_enc);
        s = rpc_headers_add(&h, "grpc-encoding", CCZ_SPAN(e, strlen(e)));
    }
    if (s == CCZ_OK)
        s = add_md(&h, &k->send_headers);
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
    CCZ_ENSURE(response->descriptor == k->m->out, CCZ_ERR_INVALID_ARGUMENT, "%s answers %s, not %s",
               k->path, k->m->out->name, response->descriptor->name);
    ccz_rpc_packed *p;
    if (k->out_enc == CCZ_RPC_IDENTITY) {
        size_t n = protobuf_c_message_get_packed_size(response);
        CCZ_ENSURE(n <= k->c->srv->max_message, CCZ_ERR_TOO_LARGE,
                   "message of %zu bytes exceeds the limit of %zu", n, k->c->srv->max_message);
        CCZ_GUARD(ccz_rpc_packed_new(&p, response));
    } else {
        ccz_buf b = CCZ_BUF_INIT;
        ccz_status s = rpc_pack(&b, response, k->c->srv->max_message, k->out_enc);
        if (s == CCZ_OK)
            s = packed_of(&p, response->descriptor, ccz_buf_span(&b), true);
        ccz_buf_free(&b);
        CCZ_GUARD(s);
    }
    ccz_status s = queue(k, p);
    ccz_rpc_packed_free(p);
    CCZ_GUARD(s);
    return kick(k);
}

ccz_status ccz_rpc_send_packed(ccz_rpc_call *k, ccz_rpc_packed *p)
{
    CCZ_ENSURE(k->alive && !k->finished, CCZ_ERR_INVALID_ARGUMENT,
               "the call is over (finished, cancelled, past its deadline or disconnected)");
    CCZ_ENSURE(p->d == k->m->out, CCZ_ERR_INVALID_ARGUMENT, "%s answers %s, not %s", k->path,
               k->m->out->name, p->d->name);
    size_t n = p->len - 5;
    CCZ_ENSURE(n <= k->c->srv->max_message, CCZ_ERR_TOO_LARGE,
               "message of %zu bytes exceeds the limit of %zu", n, k->c->srv->max_message);
    if (k->out_enc == CCZ_RPC_IDENTITY) {
        CCZ_GUARD(queue(k, p));
        return kick(k);
    }
    /* this client gets its answers compressed: its own copy */
    ccz_buf b = CCZ_BUF_INIT;
    uint8_t h[5] = {1, 0, 0, 0, 0};
    ccz_status s = ccz_buf_append(&b, h, 5);
    if (s == CCZ_OK)
        s = rpc_compress(&b, k->out_enc, CCZ_SPAN(p->data + 5, n));
    if (s == CCZ_OK && b.len - 5 > UINT32_MAX)
        s = ccz_fail(CCZ_ERR_TOO_LARGE, "message too large");
    ccz_rpc_packed *q = NULL;
    if (s == CCZ_OK) {
        size_t c = b.len - 5;
        b.ptr[1] = (uint8_t)(c >> 24), b.ptr[2] = (uint8_t)(c >> 16);
        b.ptr[3] = (uint8_t)(c >> 8), b.ptr[4] = (uint8_t)c;
        s = packed_of(&q, p->d, ccz_buf_span(&b), true);
    }
    ccz_buf_free(&b);
    if (s == CCZ_OK)
        s = queue(k, q);
    ccz_rpc_packed_free(q);
    CCZ_GUARD(s);
    return kick(k);
}

ccz_status ccz_rpc_reply_packed(ccz_rpc_call *k, ccz_rpc_packed *p)
{
    CCZ_GUARD(ccz_rpc_send_packed(k, p));
    return ccz_rpc_finish(k, CCZ_RPC_OK, NULL);
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
    if (!k->unsent) /* the status waits to go out from now: a stall counts from here */
        k->out_at = listener_mono_ms();
    k->code = code;
    free(k->message);
    k->message = message ? strdup(message) : NULL;
    if (k->timer)
        event_del(k->timer);
    ccz_status s = kick(k);
    /* the status cannot be sent (no memory for the headers, more of them than a response
     * takes, nghttp2 refusing them): the stream is reset instead, so that the client is not
     * left waiting for an answer that never comes */
    if (s != CCZ_OK && k->c) {
        nghttp2_submit_rst_stream(k->c->h2, NGHTTP2_FLAG_NONE, k->id, NGHTTP2_INTERNAL_ERROR);
        conn_flush(k->c);
    }
    return s;
}

ccz_status ccz_rpc_reply(ccz_rpc_call *k, const ProtobufCMessage *response)
{
    CCZ_GUARD(ccz_rpc_send(k, response));
    return ccz_rpc_finish(k, CCZ_RPC_OK, NULL);
}

/* ---- receiving -------------------------------------------------------------------------------*/

/* Ends a call the server refuses or abandons. When the status cannot be sent the stream is
 * reset instead (ccz_rpc_finish); a call already over has nobody to tell. */
static void fail_call(ccz_rpc_call *k, int code, const char *message)
{
    if (k->finished)
        return;
    bool alive = k->alive;
    char path[sizeof k->path]; /* the reset's flush may end the connection and its calls */
    snprintf(path, sizeof path, "%s", k->path[0] ? k->path : "a call");
    ccz_status s = ccz_rpc_finish(k, code, message);
    if (s == CCZ_OK || !alive)
        return;
    ccz_log(CCZ_LOG_WARN, "rpc: cannot end %s with %s (%s): %s; the stream was reset", path,
            ccz_rpc_code_name(code), ccz_status_name(s), ccz_error_detail());
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    ccz_rpc_call *k = arg;
    ccz_rpc_call_ref(k); /* ending the call may close its stream, which drops the last ref */
    if (k->alive)
        fail_call(k, CCZ_RPC_DEADLINE_EXCEEDED, "deadline exceeded");
    k->alive = false; /* the client has given up: later answers go nowhere */
    ccz_rpc_call_unref(k);
}

static void dispatch(ccz_rpc_call *k, const ProtobufCMessage *req)
{
    ccz_rpc_call_ref(k);
    k->m->handler(k, req, k->m->payload);
    ccz_rpc_call_unref(k);
}

/* A compressed message inflated into out (bounded by the message limit); false with the call
 * failed when it cannot be. */
static bool inflate_message(ccz_rpc_call *k, ccz_span *msg, ccz_buf *out)
{
    if (k->in_enc == CCZ_RPC_IDENTITY) {
        fail_call(k, CCZ_RPC_INTERNAL, "gRPC frame: a compressed message without a grpc-encoding");
        return false;
    }
    ccz_status s = rpc_decompress(out, k->in_enc, *msg, k->c->srv->max_message);
    if (s) {
        fail_call(k, s == CCZ_ERR_TOO_LARGE ? CCZ_RPC_RESOURCE_EXHAUSTED : CCZ_RPC_INTERNAL,
                  ccz_error_detail());
        return false;
    }
    ccz_log(CCZ_LOG_DEBUG, "rpc: a %s-compressed request message, %zu bytes inflated to %zu",
            rpc_encoding_name(k->in_enc), msg->len, out->len);
    *msg = ccz_buf_span(out);
    return true;
}

/* Parses the complete messages received so far. */
/* Requests are unpacked into an arena of their own (a repeated field of many small items is
 * then a few allocations, not one per item) and freed with it in one go. Sanitizer builds
 * allocate each piece on its own, so overflows inside a request are still caught. */
typedef struct arena_block {
    struct arena_block *next;
    size_t used, cap;
    size_t mapped; /* a large message's first block: the size of its mapping (else 0) */
    max_align_t data[];
} arena_block;

#if defined(__SANITIZE_ADDRESS__)
#define RPC_ARENA 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RPC_ARENA 0
#endif
#endif
#ifndef RPC_ARENA
#define RPC_ARENA 1
#endif

static void *arena_alloc(void *data, size_t n)
{
    arena_block **head = data;
    n = (n + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
    arena_block *b = *head;
    if (!b || b->cap - b->used < n) {
        size_t cap = b ? b->cap * 2 : 4096;
        if (cap < n)
            cap = n;
        arena_block *nb = malloc(sizeof *nb + cap);
        if (!nb)
            return NULL;
        nb->next = b;
        nb->used = 0;
        nb->cap = cap;
        nb->mapped = 0;
        *head = b = nb;
    }
    void *p = (char *)b->data + b->used;
    b->used += n;
    return p;
}

static void arena_keep(void *data, void *p)
{
    (void)data, (void)p; /* freed with the arena */
}

/* s: the server whose pool takes a large message's block back */
static void arena_free(ccz_rpc_server *s, arena_block *b)
{
    while (b) {
        arena_block *next = b->next;
        if (b->mapped)
            map_free(s, (uint8_t *)b, b->mapped);
        else
            free(b);
        b = next;
    }
}

/* Unpacks a request; *arena gets what to free it with (rpc_request_free). */
static ProtobufCMessage *rpc_request_unpack(ccz_rpc_server *s, const ProtobufCMessageDescriptor *d,
                                            ccz_span msg, arena_block **arena)
{
    *arena = NULL;
    if (!RPC_ARENA)
        return protobuf_c_message_unpack(d, NULL, msg.len, msg.ptr);
    /* a large message (mostly its bytes or packed numbers) unpacks into a mapping from the
     * server's pool, reused without page faults */
    if (RPC_MAP && msg.len >= BIG_FRAME) {
        size_t cap;
        arena_block *b =
            (arena_block *)map_new(s, PAGE_ROUND(sizeof *b + msg.len + msg.len / 8 + 65536), &cap);
        if (!b)
            return NULL;
        *b = (arena_block){NULL, 0, cap - sizeof *b, cap};
        *arena = b;
    }
    /* about what a message of many small items unpacks to, so one block usually does */
    else if (msg.len > 2048 && !arena_alloc(arena, msg.len + msg.len / 2)) {
        arena_free(s, *arena);
        *arena = NULL;
        return NULL;
    }
    if (*arena)
        (*arena)->used = 0;
    ProtobufCAllocator a = {arena_alloc, arena_keep, arena};
    ProtobufCMessage *m = protobuf_c_message_unpack(d, &a, msg.len, msg.ptr);
    if (!m) {
        arena_free(s, *arena);
        *arena = NULL;
    }
    return m;
}

static void rpc_request_free(ccz_rpc_server *s, ProtobufCMessage *m, arena_block *arena)
{
    if (!RPC_ARENA)
        protobuf_c_message_free_unpacked(m, NULL);
    arena_free(s, arena);
}

static void take_messages(ccz_rpc_call *k)
{
    if (k->in.frame && k->in.len < k->in.frame)
        return; /* the first message is incomplete still */
    ccz_cursor cur;
    ccz_cursor_init(&cur, CCZ_SPAN(k->in.p, k->in.len));
    size_t max = k->c->srv->max_message;
    for (;;) {
        ccz_span msg;
        bool compressed;
        ccz_status s = rpc_frame_read(&cur, max, &compressed, &msg);
        if (s == CCZ_ERR_TRUNCATED)
            break;
        if (s) {
            fail_call(k, s == CCZ_ERR_TOO_LARGE ? CCZ_RPC_RESOURCE_EXHAUSTED : CCZ_RPC_INTERNAL,
                      ccz_error_detail());
            in_drop(k);
            return;
        }
        ccz_buf plain = CCZ_BUF_INIT;
        if (compressed && !inflate_message(k, &msg, &plain)) {
            ccz_buf_free(&plain);
            in_drop(k);
            return;
        }
        arena_block *arena;
        ProtobufCMessage *m = rpc_request_unpack(k->srv, k->m->in, msg, &arena);
        ccz_buf_free(&plain);
        if (!m) {
            fail_call(k, CCZ_RPC_INTERNAL, "the request cannot be parsed as the method's message");
            in_drop(k);
            return;
        }
        k->in_messages++;
        if (k->m->kind == CCZ_RPC_CLIENT_STREAMING) {
            if (!k->finished)
                dispatch(k, m);
            rpc_request_free(k->srv, m, arena);
            if (!k->c) /* the handler's answer closed the connection */
                return;
        } else if (k->request) {
            rpc_request_free(k->srv, m, arena);
            fail_call(k, CCZ_RPC_UNIMPLEMENTED, "more than one request message on a unary call");
        } else {
            k->request = m;
            k->request_arena = arena;
        }
    }
    /* keep the incomplete tail */
    in_shift(k, cur.pos);
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
    k->srv = c->srv;
    k->conn_serial = c->serial;
    k->id = frame->hd.stream_id;
    k->alive = true;
    k->refs = 1; /* the stream's */
    k->accepts = 1u << CCZ_RPC_IDENTITY;
    k->progress = listener_mono_ms();
    k->out_tail = &k->out;
    k->next = c->calls;
    if (c->calls)
        c->calls->prev = k;
    c->calls = k;
    nghttp2_session_set_stream_user_data(session, k->id, k);
    return 0;
}

static ccz_rpc_call *largest_request(ccz_rpc_server *s, conn *only);
static void shed(ccz_rpc_call *k, const char *why, size_t limit);

static int on_header(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name,
                     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
                     void *user_data)
{
    (void)flags;
    conn *c = user_data;
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0;
    ccz_rpc_call *k = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
    if (!k || k->headers_over)
        return 0;
    /* nghttp2 does not hold clients to the header list size this server announces: it is
     * enforced here, and what metadata keeps counts towards the server-wide bound */
    k->header_bytes += namelen + valuelen + 32;
    /* at the server-wide bound a new request's headers make room the way data does: the
     * largest unfinished request is shed, so a flood cannot keep small calls out */
    ccz_rpc_server *srv = c->srv;
    ccz_rpc_call *big;
    while (srv->held + namelen + valuelen > srv->max_held &&
           (big = largest_request(srv, NULL)) != NULL && big != k)
        shed(big, "the server holds too many request bytes", srv->max_held);
    if (k->header_bytes > MAX_HEADER_LIST || srv->held + namelen + valuelen > srv->max_held) {
        k->headers_over = true;
        return 0;
    }
    if (namelen == 5 && !memcmp(name, ":path", 5)) {
        if (valuelen >= sizeof k->path)
            k->bad_request = true;
        else
            memcpy(k->path, value, valuelen);
    } else if (namelen == 7 && !memcmp(name, ":method", 7)) {
        k->bad_request |= valuelen != 4 || memcmp(value, "POST", 4) != 0;
    } else if (namelen == 12 && !memcmp(name, "content-type", 12)) {
        k->got_type = true;
        k->bad_request |= !rpc_content_type_ok(value, valuelen);
    } else if (namelen == 13 && !memcmp(name, "grpc-encoding", 13)) {
        int e = rpc_encoding_parse(value, valuelen);
        if (e >= 0)
            k->in_enc = (ccz_rpc_encoding)e;
        else
            snprintf(k->bad_enc, sizeof k->bad_enc, "%.*s", (int)(valuelen < 24 ? valuelen : 24),
                     value);
    } else if (namelen == 20 && !memcmp(name, "grpc-accept-encoding", 20)) {
        k->accepts = rpc_accept_parse(value, valuelen);
    } else if (namelen == 12 && !memcmp(name, "grpc-timeout", 12)) {
        char t[16];
        int64_t ms;
        if (valuelen < sizeof t) {
            memcpy(t, value, valuelen);
            t[valuelen] = '\0';
            if (ccz_rpc_timeout_parse(&ms, t) == CCZ_OK)
                k->deadline = listener_mono_ms() + ms;
        }
    } else if (!rpc_header_reserved((const char *)name, namelen)) {
        char key[256];
        if (namelen < sizeof key) {
            memcpy(key, name, namelen);
            key[namelen] = '\0';
            if (rpc_md_add_wire(&k->md, key, value, valuelen) != CCZ_OK)
                k->bad_request = true;
            k->md_held += namelen + valuelen;
            c->srv->held += namelen + valuelen;
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
    if (k->headers_over) {
        char msg[128];
        snprintf(msg, sizeof msg, "the request headers exceed %u bytes, or the server's bound",
                 MAX_HEADER_LIST);
        fail_call(k, CCZ_RPC_RESOURCE_EXHAUSTED, msg);
        return;
    }
    if (k->bad_request || !k->got_type) {
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
    if (k->bad_enc[0]) { /* the compression spec: UNIMPLEMENTED and what we accept */
        char msg[160];
        snprintf(msg, sizeof msg, "grpc-encoding '%s' is not supported (accepted: %s)", k->bad_enc,
                 RPC_ACCEPT_ENCODING);
        k->m = NULL; /* its bytes are not read */
        fail_call(k, CCZ_RPC_UNIMPLEMENTED, msg);
        return;
    }
    if (k->accepts & (1u << c->srv->send_encoding))
        k->out_enc = c->srv->send_encoding;
    if (k->deadline) {
        int64_t left = k->deadline - listener_mono_ms();
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

/* The call on one connection (or on any, when only is NULL) holding the most request bytes. */
static ccz_rpc_call *largest_request(ccz_rpc_server *s, conn *only)
{
    ccz_rpc_call *big = NULL;
    for (conn *c = only ? only : (conn *)s->conns.ready.head; c;
         c = only ? NULL : (conn *)c->lc.next)
        for (ccz_rpc_call *k = c->calls; k; k = k->next)
            if (k->in.charge && (!big || k->in.charge > big->in.charge))
                big = k;
    return big;
}

static void shed(ccz_rpc_call *k, const char *why, size_t limit)
{
    char msg[200];
    snprintf(msg, sizeof msg, "%s (%zu bytes): the largest unfinished request was shed", why,
             limit);
    in_drop(k);
    fail_call(k, CCZ_RPC_RESOURCE_EXHAUSTED, msg);
}

/* Keeps request bytes within bounds by ending the calls that hold the most: on this
 * connection before its window fills with unfinished messages (which would stall it for
 * good, since only consumed bytes are credited), and server-wide. */
static void enforce_bounds(conn *c)
{
    ccz_rpc_server *s = c->srv;
    ccz_rpc_call *k;
    while (c->unconsumed + CREDIT_STEP + 16384 > s->conn_window &&
           (k = largest_request(s, c)) != NULL)
        shed(k, "the connection's window is full of unfinished requests", s->conn_window);
    while (s->held > s->max_held && (k = largest_request(s, NULL)) != NULL)
        shed(k, "the server holds too many request bytes", s->max_held);
}

static int on_data_chunk(nghttp2_session *session, uint8_t flags, int32_t id, const uint8_t *data,
                         size_t len, void *user_data)
{
    (void)flags;
    conn *c = user_data;
    ccz_rpc_call *k = nghttp2_session_get_stream_user_data(session, id);
    if (k)
        k->progress = listener_mono_ms();
    if (!k || k->finished || !k->m) { /* nobody reads these: consumed at once */
        credit(c, k, id, len);
        return 0;
    }
    if (!in_append(k, data, len)) {
        credit(c, k, id, len);
        in_drop(k);
        fail_call(k, CCZ_RPC_RESOURCE_EXHAUSTED, "request message exceeds the limit");
        return 0;
    }
    take_messages(k);
    enforce_bounds(c);
    return 0;
}

/* Streams a connection may have reset for its client's errors on them, at most. */
#define MAX_PEER_RESETS 1000

/* A call the server ended while its client still sends (shed, refused, past its deadline) is
 * reset once the trailers are out, as gRPC does: the client stops sending and the stream stops
 * holding its connection. A client that makes nghttp2 reset its streams frees each stream's
 * place among its max_streams while the call's handler may still work for it, a rapid reset
 * (CVE-2023-44487) by the server's hand that nghttp2's limit on received resets does not count
 * ("MadeYouReset", CVE-2025-8671): past MAX_PEER_RESETS such resets the connection is ended
 * (GOAWAY ENHANCE_YOUR_CALM). nghttp2 resets an open stream for its client's error with two
 * codes: FLOW_CONTROL_ERROR (the stream's window overflowed) and PROTOCOL_ERROR (a request
 * longer than its content-length, a malformed header); a stream past max_streams is refused
 * (REFUSED_STREAM) before any call begins, and every other error a client can cause on a
 * stream is an error on its connection. */
static int on_frame_send(nghttp2_session *session, const nghttp2_frame *frame, void *user_data)
{
    conn *c = user_data;
    if (frame->hd.type == NGHTTP2_RST_STREAM) {
        uint32_t e = frame->rst_stream.error_code;
        if ((e == NGHTTP2_PROTOCOL_ERROR || e == NGHTTP2_FLOW_CONTROL_ERROR) &&
            ++c->peer_resets > MAX_PEER_RESETS)
            nghttp2_session_terminate_session(session, NGHTTP2_ENHANCE_YOUR_CALM);
    }
    if (frame->hd.type == NGHTTP2_HEADERS && (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) &&
        !nghttp2_session_get_stream_remote_close(session, frame->hd.stream_id))
        nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, frame->hd.stream_id,
                                  NGHTTP2_NO_ERROR);
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

/* Output waiting for a client that does not read: past this, nghttp2 is told to wait. */
#define OUTPUT_HIGH (1u << 20)
/* Bytes per read and write system call at most. */
#define IO_CHUNK (256u << 10)

static void arm(conn *c, int64_t ms)
{
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    evtimer_add(c->lc.timer, &tv);
}

static ssize_t send_cb(nghttp2_session *session, const uint8_t *data, size_t length, int flags,
                       void *user_data)
{
    (void)session, (void)flags;
    conn *c = user_data;
    /* a client that does not read its responses does not make the server buffer them */
    if (evbuffer_get_length(bufferevent_get_output(c->lc.bev)) >= OUTPUT_HIGH)
        return NGHTTP2_ERR_WOULDBLOCK;
    if (bufferevent_write(c->lc.bev, data, length) != 0)
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    return (ssize_t)length;
}

/* A DATA frame whose payload read_out left in the call's queue: its header copied, the payload
 * referenced (the bytes stay in the packed message until the connection has written them). */
static int send_data(nghttp2_session *session, nghttp2_frame *frame, const uint8_t *framehd,
                     size_t length, nghttp2_data_source *source, void *user_data)
{
    (void)session;
    conn *c = user_data;
    ccz_rpc_call *k = source->ptr;
    struct evbuffer *out = bufferevent_get_output(c->lc.bev);
    if (evbuffer_get_length(out) >= OUTPUT_HIGH)
        return NGHTTP2_ERR_WOULDBLOCK;
    /* no padding is ever asked for; the payload is what read_out saw queued */
    if (frame->data.padlen || length > k->unsent || evbuffer_add(out, framehd, 9) != 0 ||
        !out_take(k, NULL, out, length))
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    return 0;
}

static void conn_flush(conn *c)
{
    if (c->in_recv || !c->h2)
        return;
    int rv = nghttp2_session_send(c->h2);
    /* done (after GOAWAY, the last stream closed) or broken: close once the output is out */
    if (rv != 0 || (!nghttp2_session_want_read(c->h2) && !nghttp2_session_want_write(c->h2)))
        c->closing = true;
    if (c->closing && evbuffer_get_length(bufferevent_get_output(c->lc.bev)) == 0)
        conn_close(c);
}

static void conn_close(conn *c)
{
    ccz_rpc_server *s = c->srv;
    while (c->calls)
        call_detach(c->calls);
    if (c->h2)
        nghttp2_session_del(c->h2);
    if (c->lc.bev)
        bufferevent_free(c->lc.bev); /* closes the socket and frees the SSL */
    if (c->lc.timer)
        event_free(c->lc.timer);
    listener_conns_remove(&s->conns, &c->lc);
    free(c);
    if (s->shutting_down && !s->conns.ready.head && !s->conns.handshaking.head)
        event_base_loopexit(s->base, NULL);
}

/* The handshake deadline, then the idle check: a connection without calls for idle_ms (since
 * its handshake or its last call; frames such as PING do not count) gets GOAWAY and is closed
 * (a second later at the latest, if its client does not read); a call whose request stalls
 * for idle_ms is cancelled first. */
static void conn_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    conn *c = arg;
    ccz_rpc_server *s = c->srv;
    if (!c->h2 || c->closing) {
        if (!c->h2)
            ccz_log(CCZ_LOG_DEBUG, "rpc: a client did not finish its handshake within %u ms",
                    s->handshake_ms);
        conn_close(c);
        return;
    }
    int64_t now = listener_mono_ms(), idle = now - c->lc.last_active;
    /* a request that stalls (no bytes for idle_ms before its end) holds the connection as
     * surely as no call: it is cancelled (flushing waits until the list is walked) */
    c->in_recv = 1;
    bool hopeless = false;
    for (ccz_rpc_call *k = c->calls; k; k = k->next) {
        if (!k->finished && now - k->progress >= (int64_t)s->idle_ms &&
            !nghttp2_session_get_stream_remote_close(c->h2, k->id)) {
            char msg[96];
            snprintf(msg, sizeof msg, "the request made no progress for %u ms", s->idle_ms);
            in_drop(k);
            fail_call(k, CCZ_RPC_CANCELLED, msg);
        }
        /* an answer none of whose bytes the client took for idle_ms (a window it never
         * opens, a socket it never reads), or whose status has not gone out for as long (the
         * stream of a finished call lasts only until it has), holds the stream and the
         * answer: the stream is reset; if even that cannot go out, the connection is closed */
        if ((k->unsent || k->finished) && now - k->out_at >= (int64_t)s->idle_ms) {
            hopeless |= k->stalled;
            k->stalled = true;
            ccz_log(CCZ_LOG_DEBUG, "rpc: %s: the client took none of its answer for %u ms", k->path,
                    s->idle_ms);
            nghttp2_submit_rst_stream(c->h2, NGHTTP2_FLAG_NONE, k->id, NGHTTP2_CANCEL);
        }
    }
    c->in_recv = 0;
    if (hopeless) {
        conn_close(c);
        return;
    }
    if (c->calls || idle < (int64_t)s->idle_ms) {
        arm(c, c->calls ? (int64_t)s->idle_ms : (int64_t)s->idle_ms - idle);
        conn_flush(c); /* may close c */
        return;
    }
    nghttp2_submit_goaway(c->h2, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(c->h2),
                          NGHTTP2_NO_ERROR, (const uint8_t *)"idle", 4);
    c->closing = true;
    arm(c, 1000);
    conn_flush(c);
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
            ccz_log(CCZ_LOG_DEBUG, "rpc: closing a connection that broke HTTP/2: %s%s",
                    nghttp2_strerror((int)used),
                    used == NGHTTP2_ERR_BAD_CLIENT_MAGIC && !c->lc.ssl
                        ? " (a TLS client at this plaintext server?)"
                        : "");
            c->closing = true;
            break;
        }
        evbuffer_drain(in, (size_t)used);
    }
    if (c->h2 && !c->closing) /* DATA on closed streams calls nothing of the server's */
        credit_connection(c);
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
    ccz_rpc_server *s = c->srv;
    nghttp2_session_callbacks *cb;
    nghttp2_option *opt;
    CCZ_ENSURE(nghttp2_session_callbacks_new(&cb) == 0, CCZ_ERR_NOMEM, "out of memory");
    if (nghttp2_option_new(&opt) != 0) {
        nghttp2_session_callbacks_del(cb);
        return ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    }
    nghttp2_session_callbacks_set_send_callback(cb, send_cb);
    nghttp2_session_callbacks_set_send_data_callback(cb, send_data);
    nghttp2_session_callbacks_set_on_begin_headers_callback(cb, on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data_chunk);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
    nghttp2_session_callbacks_set_on_frame_send_callback(cb, on_frame_send);
    /* windows are credited as the server consumes request bytes (credit()), not on receipt */
    nghttp2_option_set_no_auto_window_update(opt, 1);
    int rv = nghttp2_session_server_new2(&c->h2, cb, c, opt);
    nghttp2_session_callbacks_del(cb);
    nghttp2_option_del(opt);
    CCZ_ENSURE(rv == 0, CCZ_ERR_NOMEM, "cannot start HTTP/2");
    /* one stream may use the whole connection window, so a message of max_message fits */
    uint32_t window = s->conn_window < INT32_MAX ? (uint32_t)s->conn_window : INT32_MAX;
    nghttp2_settings_entry iv[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, s->max_streams},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, window},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, MAX_HEADER_LIST},
    };
    nghttp2_submit_settings(c->h2, NGHTTP2_FLAG_NONE, iv, sizeof iv / sizeof iv[0]);
    nghttp2_session_set_local_window_size(c->h2, NGHTTP2_FLAG_NONE, 0, (int32_t)window);
    return CCZ_OK;
}

/* The connection speaks HTTP/2 from now on (after its TLS handshake, or at accept in
 * plaintext): the server's SETTINGS go out and the idle deadline starts. */
static void conn_ready(conn *c)
{
    c->lc.last_active = listener_mono_ms();
    if (start_h2(c) != CCZ_OK) {
        conn_close(c);
        return;
    }
    arm(c, c->srv->idle_ms);
    conn_flush(c);
}

static void event_cb(struct bufferevent *bev, short events, void *arg)
{
    (void)bev;
    conn *c = arg;
    ccz_rpc_server *s = c->srv;
    if (events & BEV_EVENT_CONNECTED) {
        listener_conns_ready(&s->conns, &c->lc);
        conn_ready(c);
        return;
    }
    if (events & (BEV_EVENT_ERROR | BEV_EVENT_EOF)) {
        if (!c->h2) /* the TLS handshake failed */
            listener_log_handshake_failure("rpc", c->lc.ssl,
                                           bufferevent_get_openssl_error(c->lc.bev));
        conn_close(c);
    }
}

/* At a cap, a connection without calls may make room (its client reconnects when it needs to). */
static bool conn_idle(const listener_conn *x)
{
    return !((const conn *)x)->calls;
}

static void conn_shed(listener_conn *x)
{
    conn_close((conn *)x);
}

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *addr, int len,
                      void *arg)
{
    (void)len;
    ccz_rpc_server *s = arg;
    if (s->shutting_down) {
        evutil_closesocket(fd);
        return;
    }
    listener_peer *p = listener_admit(&s->conns, l, addr);
    if (!p) {
        evutil_closesocket(fd);
        return;
    }
    conn *c = (conn *)listener_conn_new(sizeof *c, s->base, s->tls, fd, conn_timer);
    if (!c)
        return;
    c->srv = s;
    c->serial = ++s->conn_serial;
    listener_conns_add(&s->conns, &c->lc, p, c->lc.ssl != NULL);
    /* libevent reads and writes 16 KiB per system call unless told otherwise: a 4 MiB message
     * would be 256 of each (what a read may bring in is bounded by the HTTP/2 windows) */
    bufferevent_set_max_single_read(c->lc.bev, IO_CHUNK);
    bufferevent_set_max_single_write(c->lc.bev, IO_CHUNK);
    bufferevent_setcb(c->lc.bev, read_cb, write_cb, event_cb, c);
    bufferevent_enable(c->lc.bev, EV_READ | EV_WRITE);
    if (!c->lc.ssl) { /* plaintext: no handshake, the client's preface comes first */
        conn_ready(c);
        return;
    }
    arm(c, s->handshake_ms);
}

/* accept() failed for a reason other than a client giving up: out of descriptors (EMFILE,
 * ENFILE) or memory. The listening socket stays readable, so accepting pauses for a while
 * instead of spinning, and the episode is logged once. */
static void accept_error(struct evconnlistener *l, void *arg)
{
    ccz_rpc_server *s = arg;
    listener_pause(l, s->conns.relisten, &s->accept_failed_at, "rpc", s->conns.n, s->conns.max);
}

static void relisten(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    ccz_rpc_server *s = arg;
    if (s->listener && !s->shutting_down)
        evconnlistener_enable(s->listener);
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

static ccz_status apply_opts(ccz_rpc_server *s, const ccz_rpc_server_opts *o)
{
    s->max_message = o->max_message ? o->max_message : CCZ_RPC_DEFAULT_MAX_MESSAGE;
    CCZ_ENSURE(s->max_message < INT32_MAX - 65536, CCZ_ERR_INVALID_ARGUMENT,
               "max_message must be below 2 GiB");
    s->conns.max = o->max_connections ? o->max_connections : 1024;
    unsigned room = listener_descriptor_room();
    if (s->conns.max > room) {
        ccz_log(CCZ_LOG_DEBUG, "rpc: at most %u connections (the descriptor limit's room)", room);
        s->conns.max = room;
    }
    ccz_rpc_server_opts v2 = CCZ_RPC_SERVER_OPTS_INIT;
    if (o->version >= 2)
        v2 = *o;
    s->handshake_ms = v2.handshake_timeout_ms ? v2.handshake_timeout_ms : 10000;
    s->idle_ms = v2.idle_timeout_ms ? v2.idle_timeout_ms : 300000;
    s->max_streams = v2.max_streams ? v2.max_streams : 100;
    unsigned per_peer = o->version >= 3 ? o->max_per_peer : 0;
    s->conns.max_per_peer = per_peer ? per_peer : 64;
    s->conns.name = "rpc";
    s->conns.idle = conn_idle;
    s->conns.close = conn_shed;
    size_t least = s->max_message + 65536; /* a message, a frame, a credit step, and room */
    s->conn_window = v2.max_conn_buffer   ? v2.max_conn_buffer
                     : least > (8u << 20) ? least
                                          : (8u << 20);
    CCZ_ENSURE(s->conn_window >= least && s->conn_window <= INT32_MAX, CCZ_ERR_INVALID_ARGUMENT,
               "max_conn_buffer must hold a message and two frames (%zu bytes) and be below "
               "2 GiB",
               least);
    s->max_held = v2.max_buffer                  ? v2.max_buffer
                  : s->conn_window > (64u << 20) ? s->conn_window
                                                 : (64u << 20);
    CCZ_ENSURE(s->max_held >= s->conn_window, CCZ_ERR_INVALID_ARGUMENT,
               "max_buffer must be at least max_conn_buffer (%zu bytes)", s->conn_window);
    CCZ_ENSURE((unsigned)v2.send_encoding <= CCZ_RPC_DEFLATE, CCZ_ERR_INVALID_ARGUMENT,
               "send_encoding %d is not an encoding", (int)v2.send_encoding);
    s->send_encoding = v2.send_encoding;
    return CCZ_OK;
}

ccz_status ccz_rpc_server_new(ccz_rpc_server **out, const ccz_rpc_server_opts *o)
{
    *out = NULL;
    CCZ_ENSURE(o && o->version >= 1 && o->version <= CCZ_RPC_SERVER_OPTS_VERSION,
               CCZ_ERR_INVALID_ARGUMENT, "server options missing or of the wrong version");
    listener_use_threads();
    ccz_rpc_server *s = calloc(1, sizeof *s);
    CCZ_ENSURE(s, CCZ_ERR_NOMEM, "out of memory");
    ccz_status st = apply_opts(s, o);
    if (st) {
        free(s);
        return st;
    }
    if (listener_conns_init(&s->conns) != CCZ_OK) {
        free(s);
        return ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    }
    s->base = event_base_new();
    if (s->base)
        s->conns.relisten = evtimer_new(s->base, relisten, s);
    if (!s->base || !s->conns.relisten) {
        if (s->base)
            event_base_free(s->base);
        listener_conns_free(&s->conns);
        free(s);
        return ccz_fail(CCZ_ERR_NOMEM, "cannot create the event loop");
    }
    evthread_make_base_notifiable(s->base);
    pthread_mutex_init(&s->defer_mu, NULL);
    s->tls = o->tls; /* NULL: plaintext (h2c) */
    if (s->tls) {
        SSL_CTX_up_ref(s->tls);
        SSL_CTX_set_alpn_select_cb(s->tls, select_h2, NULL);
    }
    *out = s;
    return CCZ_OK;
}

static void drop_pending(ccz_rpc_server *s);

void ccz_rpc_server_free(ccz_rpc_server *s)
{
    if (!s)
        return;
    s->shutting_down = false;
    while (s->conns.handshaking.head)
        conn_close((conn *)s->conns.handshaking.head);
    while (s->conns.ready.head)
        conn_close((conn *)s->conns.ready.head);
    if (s->listener)
        evconnlistener_free(s->listener);
    if (s->grace)
        event_free(s->grace);
    event_free(s->conns.relisten);
    for (size_t i = 0; i < s->n_methods; i++)
        free(s->methods[i].path);
    free(s->methods);
    SSL_CTX_free(s->tls);
    drop_pending(s); /* handed to a loop that never ran: the caller's to give back */
    pthread_mutex_destroy(&s->defer_mu);
    event_base_free(s->base);
    while (s->n_pool--)
        munmap(s->pool[s->n_pool].p, s->pool[s->n_pool].cap);
    listener_conns_free(&s->conns);
    free(s);
}

ccz_status ccz_rpc_server_add(ccz_rpc_server *s, const char *path, ccz_rpc_kind kind,
                              const ProtobufCMessageDescriptor *in,
                              const ProtobufCMessageDescriptor *out, ccz_rpc_handler handler,
                              void *payload)
{
    CCZ_ENSURE(path && path[0] == '/' && strlen(path) < 256 && in && out && handler,
               CCZ_ERR_INVALID_ARGUMENT,
               "a method needs a /package.Service/Method path, "
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

ccz_status ccz_rpc_server_add_service_kinds(ccz_rpc_server *s, const ProtobufCServiceDescriptor *d,
                                            const ccz_rpc_kind *kinds,
                                            const ccz_rpc_handler *handlers, void *payload)
{
    for (unsigned i = 0; i < d->n_methods; i++) {
        if (!handlers[i])
            continue;
        char path[256];
        snprintf(path, sizeof path, "/%s/%s", d->name, d->methods[i].name);
        CCZ_GUARD(ccz_rpc_server_add(s, path, kinds ? kinds[i] : CCZ_RPC_UNARY, d->methods[i].input,
                                     d->methods[i].output, handlers[i], payload));
    }
    return CCZ_OK;
}

ccz_status ccz_rpc_server_add_service(ccz_rpc_server *s, const ProtobufCServiceDescriptor *d,
                                      const ccz_rpc_handler *handlers, void *payload)
{
    return ccz_rpc_server_add_service_kinds(s, d, NULL, handlers, payload);
}

ccz_status ccz_rpc_server_listen(ccz_rpc_server *s, int *port, const char *addr)
{
    return listener_bind(&s->listener, port, s->base, addr, accept_cb, accept_error, s);
}

static void run_pending(ccz_rpc_server *s);

ccz_status ccz_rpc_server_run(ccz_rpc_server *s)
{
    CCZ_ENSURE(s->listener, CCZ_ERR_INVALID_ARGUMENT, "the server listens nowhere");
    int r = event_base_dispatch(s->base);
    run_pending(s);
    return r < 0 ? ccz_fail(CCZ_ERR_IO, "the event loop failed") : CCZ_OK;
}

static void grace_over(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    event_base_loopexit(((ccz_rpc_server *)arg)->base, NULL);
}

static void do_shutdown(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    ccz_rpc_server *s = arg;
    int grace_ms = atomic_load(&s->shutdown_grace_ms);
    if (!s->shutting_down) {
        s->shutting_down = true;
        if (s->listener) { /* new clients are refused at once, not left waiting */
            evconnlistener_free(s->listener);
            s->listener = NULL;
        }
        while (s->conns.handshaking.head)
            conn_close((conn *)s->conns.handshaking.head);
        for (listener_conn *x = s->conns.ready.head, *next; x; x = next) {
            next = x->next;
            conn *c = (conn *)x;
            nghttp2_submit_goaway(c->h2, NGHTTP2_FLAG_NONE,
                                  nghttp2_session_get_last_proc_stream_id(c->h2), NGHTTP2_NO_ERROR,
                                  NULL, 0);
            conn_flush(c);
        }
        struct timeval tv = {grace_ms / 1000, (grace_ms % 1000) * 1000};
        s->grace = evtimer_new(s->base, grace_over, s);
        if (s->grace)
            evtimer_add(s->grace, &tv);
        if (!s->conns.ready.head)
            event_base_loopexit(s->base, NULL);
    }
}

/* The request carries nothing allocated: one asked for after the loop ended is never run, and
 * libevent frees its own part with the base. */
void ccz_rpc_server_shutdown(ccz_rpc_server *s, int grace_ms)
{
    atomic_store(&s->shutdown_grace_ms, grace_ms < 0 ? 0 : grace_ms);
    (void)event_base_once(s->base, -1, EV_TIMEOUT, do_shutdown, s, NULL);
}

typedef struct deferred {
    ccz_rpc_server *s;
    struct event *ev;
    void (*fn)(void *);
    void *payload;
    struct deferred *prev, *next;
} deferred;

static void deferred_unlink(ccz_rpc_server *s, deferred *d)
{
    if (d->prev)
        d->prev->next = d->next;
    else
        s->deferred = d->next;
    if (d->next)
        d->next->prev = d->prev;
}

static void run_deferred(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    deferred *d = arg;
    pthread_mutex_lock(&d->s->defer_mu);
    deferred_unlink(d->s, d);
    pthread_mutex_unlock(&d->s->defer_mu);
    event_free(d->ev);
    d->fn(d->payload);
    free(d);
}

/* At the loop's end: the work handed to it and not yet run runs now, on the loop's thread, so
 * that its payload (a call held for an answer, a job) is given back; work handed over from now
 * on is refused. */
static void run_pending(ccz_rpc_server *s)
{
    pthread_mutex_lock(&s->defer_mu);
    deferred *d = s->deferred;
    s->deferred = NULL;
    s->loop_ended = true;
    pthread_mutex_unlock(&s->defer_mu);
    while (d && d->next) /* the oldest first, as the loop would have run them */
        d = d->next;
    while (d) {
        deferred *prev = d->prev;
        event_free(d->ev);
        d->fn(d->payload);
        free(d);
        d = prev;
    }
}

static void drop_pending(ccz_rpc_server *s)
{
    for (deferred *d = s->deferred, *next; d; d = next) {
        next = d->next;
        event_free(d->ev);
        free(d);
    }
    s->deferred = NULL;
}

ccz_status ccz_rpc_server_defer(ccz_rpc_server *s, int delay_ms, void (*fn)(void *), void *payload)
{
    deferred *d = calloc(1, sizeof *d);
    CCZ_ENSURE(d, CCZ_ERR_NOMEM, "out of memory");
    *d = (deferred){.s = s, .fn = fn, .payload = payload};
    struct timeval tv = {delay_ms / 1000, (delay_ms % 1000) * 1000};
    pthread_mutex_lock(&s->defer_mu);
    ccz_status st = CCZ_OK;
    if (s->loop_ended)
        st = ccz_fail(CCZ_ERR_UNAVAILABLE, "the server's event loop has ended");
    else if (!(d->ev = evtimer_new(s->base, run_deferred, d)))
        st = ccz_fail(CCZ_ERR_NOMEM, "cannot schedule");
    if (st == CCZ_OK) { /* listed first: the loop may run it as soon as it is added */
        d->next = s->deferred;
        if (s->deferred)
            s->deferred->prev = d;
        s->deferred = d;
        if (evtimer_add(d->ev, &tv) != 0) {
            deferred_unlink(s, d);
            st = ccz_fail(CCZ_ERR_NOMEM, "cannot schedule");
        }
    }
    pthread_mutex_unlock(&s->defer_mu);
    if (st) {
        if (d->ev)
            event_free(d->ev);
        free(d);
    }
    return st;
}

struct ccz_rpc_timer {
    struct event *ev;
    void (*fn)(void *);
    void *payload;
};

static void timer_fired(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    ccz_rpc_timer *t = arg;
    t->fn(t->payload);
}

ccz_status ccz_rpc_timer_new(ccz_rpc_timer **out, ccz_rpc_server *s, void (*fn)(void *),
                             void *payload)
{
    ccz_rpc_timer *t = calloc(1, sizeof *t);
    CCZ_ENSURE(t, CCZ_ERR_NOMEM, "out of memory");
    *t = (ccz_rpc_timer){evtimer_new(s->base, timer_fired, t), fn, payload};
    if (!t->ev) {
        free(t);
        return ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    }
    *out = t;
    return CCZ_OK;
}

void ccz_rpc_timer_arm(ccz_rpc_timer *t, int delay_ms)
{
    if (delay_ms < 0)
        delay_ms = 0;
    struct timeval tv = {delay_ms / 1000, (delay_ms % 1000) * 1000};
    evtimer_add(t->ev, &tv);
}

void ccz_rpc_timer_stop(ccz_rpc_timer *t)
{
    if (t)
        evtimer_del(t->ev);
}

void ccz_rpc_timer_free(ccz_rpc_timer *t)
{
    if (!t)
        return;
    event_free(t->ev);
    free(t);
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
    c->lc.bev = pair[0];
    listener_conns_add(&s->conns, &c->lc, NULL, false);
    bufferevent_setcb(c->lc.bev, NULL, NULL, NULL, c);
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
    for (listener_conn *x = s->conns.ready.head; x; x = x->next)
        if (x == &c->lc) {
            conn_close(c);
            break;
        }
    bufferevent_free(pair[1]);
    return st;
}
