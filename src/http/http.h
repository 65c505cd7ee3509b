/* SPDX-License-Identifier: Apache-2.0 */
/* The service layer's HTTP/1.1 server (internal; prefix http_). One event loop accepts TLS
 * connections (an ordinary or RA-TLS SSL_CTX), reads requests through a bounded parser, routes
 * them by method and path to handlers that answer on the loop, and keeps connections alive
 * between requests. Every byte from a client is untrusted: the head and the body have size
 * limits, handshakes, requests and idle connections have deadlines, connections are capped per
 * peer address and in all, and the bytes held for unfinished requests are bounded server-wide.
 * GET /healthz and GET /metrics (Prometheus text) are built in; each request is logged in one
 * access-log line without query strings, headers or bodies. See docs/internals/http.md. */
#ifndef CCZ_SRC_HTTP_H
#define CCZ_SRC_HTTP_H

#include <jansson.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ccz/core.h"
#include "ccz/ratls.h"

/* ---- the request head parser (parse.c; pure, fuzzed) ------------------------------------------*/

#define HTTP_MAX_HEADERS 64

typedef struct {
    ccz_span name, value; /* borrowed from the parsed bytes; value without surrounding blanks */
} http_header;

typedef struct {
    ccz_span method, target, path, query; /* path and query split at the first '?' */
    int minor;                            /* HTTP/1.<minor>: 0 or 1 */
    http_header headers[HTTP_MAX_HEADERS];
    size_t n_headers;
    bool has_length;
    uint64_t content_length;
    bool chunked;         /* Transfer-Encoding: chunked (then there is no Content-Length) */
    bool keep_alive;      /* after this request (HTTP/1.1 unless "close"; 1.0 only on request) */
    bool expect_continue; /* Expect: 100-continue */
    size_t head_len;      /* bytes of the head, through the blank line */
} http_head;

/* Parses a request head from the start of in. CCZ_ERR_TRUNCATED: the blank line that ends the
 * head is not there yet (read more, unless in.len already reached max_head: then
 * CCZ_ERR_TOO_LARGE). Every other failure sets *http_status to the answer the client gets:
 * 400 (malformed: bare LF, obsolete line folding, a space before a colon, control bytes,
 * conflicting or non-numeric Content-Length, no Host header in HTTP/1.1, several in any request
 * or one that is not host[:port], both Transfer-Encoding and Content-Length, Transfer-Encoding
 * in HTTP/1.0), 415 (a Content-Encoding other than identity), 417 (an Expect other than
 * 100-continue), 431 (head too large or too many headers), 505 (not HTTP/1.0 or 1.1), 501 (a
 * method this server does not know, a transfer coding other than chunked alone). */
CCZ_NODISCARD ccz_status http_parse_head(http_head *out, int *http_status, ccz_span in,
                                         size_t max_head);
/* The value of the first header named name (case-insensitive), or false. */
bool http_head_get(const http_head *h, const char *name, ccz_span *value);

/* A chunked body's framing, decoded a step at a time (zero-initialised to start). */
typedef enum {
    HTTP_CHUNK_SIZE,     /* a chunk-size line (extensions are checked and ignored) */
    HTTP_CHUNK_DATA,     /* left bytes of the current chunk's data */
    HTTP_CHUNK_DATA_END, /* the CRLF after them */
    HTTP_CHUNK_TRAILER,  /* after the last chunk: trailer fields (checked, dropped), a blank line */
    HTTP_CHUNK_DONE,
} http_chunk_state;

typedef struct {
    http_chunk_state state;
    uint64_t left;      /* data bytes left in the current chunk */
    size_t trailer_len; /* bytes of the trailer section so far */
    size_t line_seen;   /* bytes of the line under way looked at (no line end among them) */
} http_chunked;

/* One step over the bytes at the start of in. CCZ_OK: *used bytes were consumed (0 only in
 * HTTP_CHUNK_DONE), of which *data (in HTTP_CHUNK_DATA, up to left bytes) are the body's; a step
 * that reads a chunk-size line leaves the new chunk's size in left, for the caller to admit before
 * its data arrive. CCZ_ERR_TRUNCATED: nothing consumed, read on. Every other failure sets
 * *http_status: 400 (a malformed size line, data longer than its size, a bare CR or LF, a chunk
 * size line over max_line bytes), 413 (a size of more than 16 hex digits), 431 (a trailer
 * section over max_line bytes). */
CCZ_NODISCARD ccz_status http_chunked_step(http_chunked *ck, int *http_status, ccz_span in,
                                           size_t max_line, size_t *used, ccz_span *data);

/* ---- the server ------------------------------------------------------------------------------*/

typedef struct http_server http_server;
typedef struct http_request http_request;

/* A handler answers the request before it returns (http_reply and its forms), or defers it
 * (http_request_defer); one that does neither is answered 500. It runs on the loop thread. */
typedef void (*http_handler)(http_request *r, void *payload);

typedef struct {
    SSL_CTX *tls;             /* the server takes a reference; NULL: plain HTTP (the caller
                               * decides where that is acceptable) */
    const char *name;         /* for logs and metrics ("attestation") */
    size_t max_head;          /* request line and headers (0: 16 KiB) */
    size_t max_body;          /* one request body (0: 1 MiB) */
    size_t max_held;          /* all request bytes held server-wide (0: 64 MiB) */
    unsigned max_connections; /* 0: 1024, and at most what RLIMIT_NOFILE leaves room for */
    unsigned max_per_peer;    /* connections from one address, an IPv6 one's /64 (0: 64) */
    unsigned handshake_ms;    /* TLS handshake (0: 10 s) */
    unsigned request_ms;      /* from a request's first byte to its last (0: 30 s) */
    unsigned idle_ms;         /* keep-alive between requests (0: 60 s) */
    bool handle_signals;      /* SIGTERM and SIGINT drain the server (grace: drain_ms) */
    unsigned drain_ms;        /* 0: 10 s */
    bool string_errors;       /* errors as {"error": "message"} (TensorFlow Serving's form) */
} http_server_opts;

CCZ_NODISCARD ccz_status http_server_new(http_server **out, const http_server_opts *o);
void http_server_free(http_server *s);

/* Routes: an exact path ("/v1/nonce"), or a prefix ending in '/' when prefix is set
 * ("/v1/policies/": the rest is http_request_rest()). A path that matches with another method
 * is answered 405 with Allow; no match, 404. HEAD runs the GET route's handler, which sees the
 * method GET; every answer to HEAD goes out without its body. */
CCZ_NODISCARD ccz_status http_route(http_server *s, const char *method, const char *path,
                                    bool prefix, http_handler h, void *payload);
/* Extra lines for GET /metrics (Prometheus text format, each ending in '\n'). */
typedef void (*http_metrics_fn)(ccz_buf *out, void *payload);
void http_server_set_metrics(http_server *s, http_metrics_fn fn, void *payload);

/* A binary protocol beside HTTP on the same listener: a connection whose first bytes are magic
 * (Gramine's "SECRET_PROVISION_RA_TLS_REQUEST_V1\0") goes to h instead, with the request's
 * method set to name and an empty path; h answers with http_reply_raw and the connection is
 * closed after it. Deadlines, caps and the drain apply as to HTTP requests. */
CCZ_NODISCARD ccz_status http_server_set_preface(http_server *s, ccz_span magic, const char *name,
                                                 http_handler h, void *payload);

/* Listens on ADDR ("127.0.0.1:8443", ":0"); *port gets the bound port when not NULL. */
CCZ_NODISCARD ccz_status http_server_listen(http_server *s, const char *addr, int *port);
/* Runs the loop until the server is shut down and drained. */
CCZ_NODISCARD ccz_status http_server_run(http_server *s);
/* From any thread: stop accepting, finish the requests in progress (answered with
 * Connection: close), close idle connections, and return from run within grace_ms. */
void http_server_shutdown(http_server *s, unsigned grace_ms);
/* The server's event loop (for timers of the service). */
struct event_base *http_server_base(http_server *s);

/* ---- requests --------------------------------------------------------------------------------*/

const char *http_request_method(const http_request *r);
const char *http_request_path(const http_request *r); /* without the query */
const char *http_request_rest(const http_request *r); /* after a prefix route's prefix */
/* The value of a query parameter, percent-decoded, in *out (NUL-terminated); false if absent or
 * not decodable (a bad escape, or a %00: the string would end there for whoever reads it). */
bool http_request_query(const http_request *r, const char *name, ccz_buf *out);
/* A request header's value as a NUL-terminated string (NULL when absent). */
const char *http_request_header(const http_request *r, const char *name);
ccz_span http_request_body(const http_request *r);
const char *http_request_peer(const http_request *r); /* "127.0.0.1" */
/* What the per-peer caps count the client by (listener_peer_group). */
const char *http_request_peer_group(const http_request *r);
/* The RA-TLS verdict on the client's certificate, when it presented one. */
const ccz_ratls_verdict *http_request_tls_verdict(const http_request *r);
SSL *http_request_ssl(const http_request *r);
/* The body as a JSON object: 415 unless Content-Type is application/json, 400 on bad JSON or
 * not an object; on failure the request has been answered and NULL is returned. */
json_t *http_request_json(http_request *r);
/* The same, for a body with one long string member: when the top-level member `key` is a string
 * of plain ASCII characters (no escapes) over 256 bytes, its characters go to *lifted (NUL-ended)
 * and the object holds "" in its place; otherwise *lifted stays empty and the object is the whole
 * body's. Faster for a large base64 value (jansson reads text a byte per call). */
json_t *http_request_json_lifted(http_request *r, const char *key, ccz_buf *lifted);
/* The same without answering, for a service that words its own refusals: NULL with *status
 * (415 or 400) and the reason, NUL-ended, in why. */
json_t *http_request_json_parse(const http_request *r, const char *key, ccz_buf *lifted,
                                int *status, char *why, size_t why_len);

/* The handler answers later, from the loop thread (event_base_once on http_server_base is
 * safe from any thread): the connection reads no further request until then. When the
 * connection goes away first (the client left, the drain's grace ran out) or the answer takes
 * longer than the request deadline (answered 503), gone(arg) runs on the loop and r must not be
 * used any more. */
void http_request_defer(http_request *r, void (*gone)(void *arg), void *arg);

/* Adds a response header (before the reply). INVALID_ARGUMENT for a name that is not a token
 * or a value with a line break: neither may split the response. */
CCZ_NODISCARD ccz_status http_add_header(http_request *r, const char *name, const char *value);
/* Answers the request. Content-Length, Connection and Cache-Control: no-store are added. */
void http_reply(http_request *r, int status, const char *content_type, ccz_span body);
void http_reply_json(http_request *r, int status, const json_t *body);
/* http_reply for a body that holds a secret: the connection's output references one copy of it,
 * wiped and freed once sent or dropped (libevent's buffers never copy it). */
void http_reply_secret(http_request *r, int status, const char *content_type, ccz_span body);
/* {"error": {"code": status, "status": name, "message": message}}, or with string_errors
 * {"error": message} */
void http_reply_error(http_request *r, int status, const char *fmt, ...) CCZ_PRINTF(3, 4);
const char *http_reason(int status);
/* Answers a preface request with raw bytes (status is for the access log and metrics only). */
void http_reply_raw(http_request *r, int status, ccz_span bytes);
/* The same for bytes that hold a secret: they are copied once into an allocation of their own,
 * which the connection's output references (libevent's buffers never copy them) and which is
 * wiped and freed when the bytes have been sent or the connection is dropped. */
void http_reply_raw_secret(http_request *r, int status, ccz_span bytes);

#endif
