/* SPDX-License-Identifier: Apache-2.0 */
/* ccz rpc: gRPC's wire protocol (HTTP/2, length-prefixed messages, status in trailers) on
 * nghttp2 and libevent, over RA-TLS contexts (or plaintext h2c), with protobuf-c messages. A
 * server dispatches calls to handlers that may answer at once or later without holding anything
 * up; a client channel makes synchronous or asynchronous calls. Everything from the network is
 * untrusted. */
#ifndef CCZ_RPC_H
#define CCZ_RPC_H

#include <protobuf-c/protobuf-c.h>

#include "ccz/core.h"
#include "ccz/ratls.h"

#ifdef __cplusplus
extern "C" {
#endif

/* gRPC status codes. */
typedef enum {
    CCZ_RPC_OK = 0,
    CCZ_RPC_CANCELLED = 1,
    CCZ_RPC_UNKNOWN = 2,
    CCZ_RPC_INVALID_ARGUMENT = 3,
    CCZ_RPC_DEADLINE_EXCEEDED = 4,
    CCZ_RPC_NOT_FOUND = 5,
    CCZ_RPC_ALREADY_EXISTS = 6,
    CCZ_RPC_PERMISSION_DENIED = 7,
    CCZ_RPC_RESOURCE_EXHAUSTED = 8,
    CCZ_RPC_FAILED_PRECONDITION = 9,
    CCZ_RPC_ABORTED = 10,
    CCZ_RPC_OUT_OF_RANGE = 11,
    CCZ_RPC_UNIMPLEMENTED = 12,
    CCZ_RPC_INTERNAL = 13,
    CCZ_RPC_UNAVAILABLE = 14,
    CCZ_RPC_DATA_LOSS = 15,
    CCZ_RPC_UNAUTHENTICATED = 16
} ccz_rpc_code;

/* "OK", "CANCELLED", ... */
CCZ_API const char *ccz_rpc_code_name(int code);

#define CCZ_RPC_DEFAULT_MAX_MESSAGE (4u << 20)

/* Message compression (grpc-encoding). Both sides read gzip and deflate (the zlib format, as
 * gRPC's "deflate" is), inflating no more than the size limit; they compress what they send
 * only when asked to (send_encoding) and, for a server, when the client accepts it. */
typedef enum { CCZ_RPC_IDENTITY = 0, CCZ_RPC_GZIP = 1, CCZ_RPC_DEFLATE = 2 } ccz_rpc_encoding;

/* ---- messages on the wire --------------------------------------------------------------------*/

/* Reads one length-prefixed message (flag byte, 4-byte big-endian length) from the cursor.
 * Compressed messages (flag 1) are CCZ_ERR_UNSUPPORTED (servers and channels read them when a
 * grpc-encoding says how); longer than max is CCZ_ERR_TOO_LARGE;
 * an incomplete frame is CCZ_ERR_TRUNCATED and leaves the cursor where it was. */
CCZ_API CCZ_NODISCARD ccz_status ccz_rpc_frame_read(ccz_cursor *c, ccz_span *message, size_t max);
/* Appends a length-prefixed message. */
CCZ_API CCZ_NODISCARD ccz_status ccz_rpc_frame_write(ccz_buf *out, ccz_span message);
/* Parses "grpc-timeout" ("100m", "5S", ...) into milliseconds (rounded up). */
CCZ_API CCZ_NODISCARD ccz_status ccz_rpc_timeout_parse(int64_t *ms, const char *s);

/* Metadata: ASCII keys (lower case); values of "-bin" keys are bytes (base64 on the wire). */
typedef struct {
    char *key;
    ccz_buf value;
} ccz_rpc_md_entry;

typedef struct {
    size_t n;
    ccz_rpc_md_entry *entries;
} ccz_rpc_metadata;

CCZ_API CCZ_NODISCARD ccz_status ccz_rpc_md_add(ccz_rpc_metadata *md, const char *key,
                                                ccz_span value);
/* The first value of key, or NULL. */
CCZ_API const ccz_buf *ccz_rpc_md_get(const ccz_rpc_metadata *md, const char *key);
CCZ_API void ccz_rpc_md_free(ccz_rpc_metadata *md);

/* ---- server ----------------------------------------------------------------------------------*/

typedef struct ccz_rpc_server ccz_rpc_server;
typedef struct ccz_rpc_call ccz_rpc_call;

typedef enum {
    CCZ_RPC_UNARY = 0,
    CCZ_RPC_SERVER_STREAMING = 1, /* one request, a stream of responses */
    CCZ_RPC_CLIENT_STREAMING = 2  /* a stream of requests, one response */
} ccz_rpc_kind;

/* Called once per request message (once for unary and server-streaming calls; per message for
 * client-streaming, with request NULL at the end of the stream). The request belongs to the
 * call and is freed after the handler returns. A handler answers with ccz_rpc_reply /
 * ccz_rpc_send + ccz_rpc_finish, now or later from the server's event loop (ccz_rpc_call_ref
 * keeps the call alive; ccz_rpc_server_defer runs code on the loop). */
typedef void (*ccz_rpc_handler)(ccz_rpc_call *call, const ProtobufCMessage *request, void *payload);

#define CCZ_RPC_SERVER_OPTS_VERSION 3

/* With the limits that keep hostile clients from starving the server (docs/rpc.md, "Hostile
 * clients"). */
typedef struct {
    unsigned version;
    SSL_CTX *tls;             /* an RA-TLS server context (ccz_ratls_ctx_new); borrowed. NULL:
                               * plaintext h2c (HTTP/2 with prior knowledge, as gRPC's insecure
                               * channels speak it); only for loopback or a trusted network */
    size_t max_message;       /* largest message accepted or sent, inflated (0: 4 MiB) */
    unsigned max_connections; /* 0: 1024; never more than RLIMIT_NOFILE leaves room for. At the
                               * cap a new connection closes the oldest one still in its TLS
                               * handshake, else the one idle longest without calls; it is
                               * refused only when every connection has calls in flight */
    /* version 2 */
    unsigned handshake_timeout_ms; /* TLS must be done this long after accept (0: 10 s; a
                                    * plaintext connection is ready at accept) */
    unsigned idle_timeout_ms;      /* a connection without calls this long is closed, a call
                                    * whose request stalls this long cancelled (0: 5 min) */
    unsigned max_streams;          /* concurrent calls per connection (0: 100) */
    size_t max_conn_buffer;        /* request bytes held per connection, its HTTP/2 receive window
                               * (0: 8 MiB or max_message + 64 KiB if larger; at least that) */
    size_t max_buffer; /* request bytes held server-wide (0: 64 MiB or max_conn_buffer if
                               * larger; at least max_conn_buffer) */
    ccz_rpc_encoding send_encoding; /* compress responses to clients that accept it */
    /* version 3 */
    unsigned max_per_peer; /* connections from one address, an IPv6 one's /64 (0: 64). At a
                            * peer's cap its newcomer closes that peer's own oldest connection
                            * still in its TLS handshake, else its own one idle longest without
                            * calls; it is refused only when every connection of that peer has
                            * calls in flight. Other peers' connections are never closed for it */
} ccz_rpc_server_opts;

#define CCZ_RPC_SERVER_OPTS_INIT                                                                   \
    {                                                                                              \
        CCZ_RPC_SERVER_OPTS_VERSION, NULL, 0, 0, 0, 0, 0, 0, 0, CCZ_RPC_IDENTITY, 0                \
    }

CCZ_API CCZ_NODISCARD ccz_status ccz_rpc_server_new(ccz_rpc_server **out,
                                                    const ccz_rpc_server_opts *o);
CCZ_API void ccz_rpc_server_free(ccz_rpc_server *s);
/* Registers a method ("/package.Service/Method") with its message types. */
CCZ_API CCZ_NODISCARD ccz_status ccz_rpc_server_add(ccz_rpc_server *s, const char *path,
                                                    ccz_rpc_kind kind,
                                                    const ProtobufCMessageDescriptor *in,
                                                    const ProtobufCMessageDescriptor *out,
                                                    ccz_rpc_handler handler, void *payload);
/* Registers every method of a protobuf-c service as unary calls; handlers[i] serves method i. */
CCZ_API CCZ_NODISCARD ccz_status ccz_rpc_server_add_service(ccz_rpc_server *s,
                                                            const ProtobufCServiceDescriptor *d,
                                                            const ccz_rpc_handler *handlers,
                                                            void *payload);
/* The same with each method's kind, kinds[i] for method i (protobuf-c's descriptors do not say
 * which methods stream; NULL: all unary). A NULL handlers[i] leaves method i unregistered: its
 * callers get UNIMPLEMENTED. */
CCZ_API CCZ_NODISCARD ccz_status ccz_rpc_server_add_service_kinds(
    ccz_rpc_server *s, const ProtobufCServiceDescriptor *d, const ccz_rpc_kind *kinds,
    const ccz_rpc_handler *handlers, void *payload);
/* Listens on ADDR ("127.0.0.1:50051", ":0" for any port); *port gets the port bound. */
CCZ_API CCZ_NODISCARD ccz_status ccz_rpc_server_listen(ccz_rpc_server *s, int *port,
                                                       const char *addr);
/* Runs the event loop until ccz_rpc_server_shutdown (which may be called from a handler or
 * another thread) has drained the calls in flight. */
CCZ_API CCZ_NODISCARD ccz_status ccz_rpc_server_run(ccz_rpc_server *s);
/* Graceful shutdown: stop accepting, send GOAWAY, let calls in flight finish (at most
 * grace_ms, then cancel them). Thread-safe. */
CCZ_API void ccz_rpc_server_shutdown(ccz_rpc_server *s, int grace_ms);
/* Runs fn(payload) on the server's loop after delay_ms (0: next iteration). Thread-safe. Work
 * still waiting when the loop ends (ccz_rpc_server_run returns) runs then, on the loop's thread,
 * so that what it holds is given back; once the loop has ended, CCZ_ERR_UNAVAILABLE, fn is not
 * run and payload stays the caller's. */
CCZ_API CCZ_NODISCARD ccz_status ccz_rpc_server_defer(ccz_rpc_server *s, int delay_ms,
                                                      void (*fn)(void *), void *payload);

/* A timer on the server's loop, for handlers that answer later: fn(payload) runs once,
 * delay_ms after each arm (arming again moves it). Used from the loop's thread only; freed
 * before the server. */
typedef struct ccz_rpc_timer ccz_rpc_timer;
CCZ_API CCZ_NODISCARD ccz_status ccz_rpc_timer_new(ccz_rpc_timer **out, ccz_rpc_server *s,
                                                   void (*fn)(void *), void *payload);
CCZ_API void ccz_rpc_timer_arm(ccz_rpc_timer *t, int delay_ms);
CCZ_API void ccz_rpc_timer_stop(ccz_rpc_timer *t);
CCZ_API void ccz_rpc_timer_free(ccz_rpc_timer *t);

/* Calls: what the client sent and who it is. */
CCZ_API const char *ccz_rpc_call_path(const ccz_rpc_call *c);
CCZ_API const ccz_rpc_metadata *ccz_rpc_call_metadata(const ccz_rpc_call *c);
/* The RA-TLS verdict on the client (NULL when the mode does not verify clients, and in
 * plaintext). */
CCZ_API const ccz_ratls_verdict *ccz_rpc_call_peer(const ccz_rpc_call *c);
/* The call's connection: an identifier never reused within the server's lifetime, so calls
 * from one client channel can be told apart from another's. */
CCZ_API uint64_t ccz_rpc_call_connection(const ccz_rpc_call *c);
/* Response bytes queued for the call and not yet handed to the connection (a handler that
 * streams a large answer sends its next message when this is low). */
CCZ_API size_t ccz_rpc_call_unsent(const ccz_rpc_call *c);
/* Milliseconds left before the client's deadline; -1 when it set none. */
CCZ_API int64_t ccz_rpc_call_remaining_ms(const ccz_rpc_call *c);
/* False once the client cancelled, the deadline passed or the connection went away. Unlike the
 * rest of the call's functions it may be called from any thread that holds a reference (a
 * worker deciding whether a queued job is still wanted). */
CCZ_API bool ccz_rpc_call_alive(const ccz_rpc_call *c);
/* Keeps a call allocated after the handler returns (for answers given later); every ref needs
 * an unref, after the answer or when abandoning the call. */
CCZ_API void ccz_rpc_call_ref(ccz_rpc_call *c);
CCZ_API void ccz_rpc_call_unref(ccz_rpc_call *c);
/* Per-call state for the handler (for client-streaming calls, across messages); free_fn (may
 * be NULL) runs when the call is freed. */
CCZ_API void ccz_rpc_call_set_user(ccz_rpc_call *c, void *user, void (*free_fn)(void *));
CCZ_API void *ccz_rpc_call_user(const ccz_rpc_call *c);
/* Metadata to send: initial headers (before the first message) and trailers. */
CCZ_API CCZ_NODISCARD ccz_status ccz_rpc_call_add_header(ccz_rpc_call *c, const char *key,
                                                         ccz_span value);
CCZ_API CCZ_NODISCARD ccz_status ccz_rpc_call_add_trailer(ccz_rpc_call *c, const char *key,
                                                          ccz_span value);
/* Answers a unary or client-streaming call with one message and status OK. */
CCZ_API CCZ_NODISCARD ccz_status ccz_rpc_reply(ccz_rpc_call *c, const ProtobufCMessage *response);
/* Sends one message of a server-streaming call. */
CCZ_API CCZ_NODISCARD ccz_status ccz_rpc_send(ccz_rpc_call *c, const ProtobufCMessage *response);
/* A response packed once to be sent to many calls (the same large answer to every client: it
 * is neither packed nor copied again per call; the connections write its bytes by reference).
 * Reference-counted: each call sending it holds a reference until its bytes are written, so
 * the caller may free its own right after sending. Calls whose clients asked for compressed
 * responses get a compressed copy of their own. */
typedef struct ccz_rpc_packed ccz_rpc_packed;
CCZ_API CCZ_NODISCARD ccz_status ccz_rpc_packed_new(ccz_rpc_packed **out,
                                                    const ProtobufCMessage *m);
/* Drops the caller's reference (NULL is ignored). */
CCZ_API void ccz_rpc_packed_free(ccz_rpc_packed *p);
/* As ccz_rpc_send and ccz_rpc_reply, with a packed message of the method's response type
 * (within the server's max_message). */
CCZ_API CCZ_NODISCARD ccz_status ccz_rpc_send_packed(ccz_rpc_call *c, ccz_rpc_packed *p);
CCZ_API CCZ_NODISCARD ccz_status ccz_rpc_reply_packed(ccz_rpc_call *c, ccz_rpc_packed *p);
/* Ends a call with a status (and message, may be NULL). */
CCZ_API CCZ_NODISCARD ccz_status ccz_rpc_finish(ccz_rpc_call *c, int code, const char *message);

/* ---- client ----------------------------------------------------------------------------------*/

typedef struct ccz_rpc_channel ccz_rpc_channel;

#define CCZ_RPC_CHANNEL_OPTS_VERSION 2

typedef struct {
    unsigned version;
    SSL_CTX *tls;          /* an RA-TLS client context; borrowed. NULL: plaintext h2c (HTTP/2
                            * with prior knowledge); only for loopback or a trusted network */
    size_t max_message;    /* 0: 4 MiB */
    const char *authority; /* :authority (default: the target) */
    /* version 2 */
    unsigned connect_timeout_ms;    /* TCP connect + TLS handshake (plaintext: + the server's
                                  * SETTINGS), and the call's deadline when it is shorter
                                  * (0: 10 s) */
    ccz_rpc_encoding send_encoding; /* compress requests (the server must read it) */
} ccz_rpc_channel_opts;

#define CCZ_RPC_CHANNEL_OPTS_INIT                                                                  \
    {                                                                                              \
        CCZ_RPC_CHANNEL_OPTS_VERSION, NULL, 0, NULL, 0, CCZ_RPC_IDENTITY                           \
    }

/* A channel to HOST:PORT. It connects on first use and again after the connection drops or the
 * server sends GOAWAY (calls in flight finish on the old connection, new ones use the new); a
 * connection that is not up (TCP and TLS, or in plaintext the server's HTTP/2 SETTINGS) within
 * the call's deadline ends the call DEADLINE_EXCEEDED, within connect_timeout_ms UNAVAILABLE. */
CCZ_API CCZ_NODISCARD ccz_status ccz_rpc_channel_new(ccz_rpc_channel **out, const char *target,
                                                     const ccz_rpc_channel_opts *o);
CCZ_API void ccz_rpc_channel_free(ccz_rpc_channel *ch);
/* The RA-TLS verdict on the server of the current connection (NULL when not verified, and in
 * plaintext). */
CCZ_API const ccz_ratls_verdict *ccz_rpc_channel_peer(const ccz_rpc_channel *ch);

typedef struct {
    int code;                 /* a gRPC status code, or -1 when the call never got one */
    char message[512];        /* grpc-message, or what failed */
    ccz_rpc_metadata headers; /* initial metadata */
    ccz_rpc_metadata trailers;
} ccz_rpc_status;

CCZ_API void ccz_rpc_status_free(ccz_rpc_status *st);

#define CCZ_RPC_CALL_OPTS_VERSION 1
/* A call's options (NULL: no deadline, no metadata). */
typedef struct {
    unsigned version;                 /* CCZ_RPC_CALL_OPTS_VERSION */
    int64_t deadline_ms;              /* 0: none */
    const ccz_rpc_metadata *metadata; /* to send, may be NULL */
} ccz_rpc_call_opts;
#define CCZ_RPC_CALL_OPTS_INIT                                                                     \
    {                                                                                              \
        CCZ_RPC_CALL_OPTS_VERSION, 0, NULL                                                         \
    }

/* A unary call, synchronous: runs the channel until it completes. *response (when status OK)
 * is the caller's, freed with protobuf_c_message_free_unpacked(*response, NULL). Returns CCZ_OK
 * when the call completed (whatever its gRPC status) and an error when it could not be made. */
CCZ_API CCZ_NODISCARD ccz_status ccz_rpc_unary(ccz_rpc_channel *ch, ProtobufCMessage **response,
                                               ccz_rpc_status *st, const char *path,
                                               const ProtobufCMessage *request,
                                               const ProtobufCMessageDescriptor *out,
                                               const ccz_rpc_call_opts *o);

/* Asynchronous calls: each message received goes to on_message (response owned by the
 * callee after the call returns: it is freed then), the end to on_done. They run inside
 * ccz_rpc_channel_run. */
typedef void (*ccz_rpc_on_message)(const ProtobufCMessage *response, void *payload);
typedef void (*ccz_rpc_on_done)(const ccz_rpc_status *st, void *payload);

typedef struct ccz_rpc_stream ccz_rpc_stream;

/* Starts a call of any kind. For unary and server-streaming calls give the request; for
 * client-streaming calls give NULL and send with ccz_rpc_stream_send, ending with
 * ccz_rpc_stream_close. The stream handle is valid until on_done returns. */
CCZ_API CCZ_NODISCARD ccz_status ccz_rpc_start(ccz_rpc_channel *ch, ccz_rpc_stream **stream,
                                               const char *path, const ProtobufCMessage *request,
                                               const ProtobufCMessageDescriptor *out,
                                               const ccz_rpc_call_opts *o,
                                               ccz_rpc_on_message on_message,
                                               ccz_rpc_on_done on_done, void *payload);
CCZ_API CCZ_NODISCARD ccz_status ccz_rpc_stream_send(ccz_rpc_stream *s,
                                                     const ProtobufCMessage *request);
CCZ_API CCZ_NODISCARD ccz_status ccz_rpc_stream_close(ccz_rpc_stream *s);
/* Runs the channel until no call is in flight. */
CCZ_API CCZ_NODISCARD ccz_status ccz_rpc_channel_run(ccz_rpc_channel *ch);

#ifdef __cplusplus
}
#endif
#endif
