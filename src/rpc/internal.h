/* SPDX-License-Identifier: Apache-2.0 */
/* Private to src/rpc: helpers shared by the server and the client. */
#ifndef CCZ_RPC_INTERNAL_H
#define CCZ_RPC_INTERNAL_H

#include <nghttp2/nghttp2.h>

#include "ccz/rpc.h"

/* grpc-timeout for a number of milliseconds. */
void rpc_timeout_format(char out[16], int64_t ms);
bool rpc_key_is_binary(const char *key);
ccz_status rpc_md_add_wire(ccz_rpc_metadata *md, const char *key, const uint8_t *v, size_t n);
ccz_status rpc_md_wire_value(ccz_buf *out, const ccz_rpc_md_entry *e);
ccz_status rpc_percent_encode(ccz_buf *out, const char *msg);
void rpc_percent_decode(char *out, size_t cap, const uint8_t *in, size_t n);

/* Reserved header names that are not application metadata. */
bool rpc_header_reserved(const char *name, size_t len);

/* A list of nghttp2 headers built from owned strings. */
typedef struct {
    nghttp2_nv nv[64];
    size_t n;
    ccz_buf text; /* the names and values, NUL-separated */
    size_t offs[64][2];
    size_t lens[64][2];
} rpc_headers;

void rpc_headers_init(rpc_headers *h);
ccz_status rpc_headers_add(rpc_headers *h, const char *name, ccz_span value);
/* Fixes up the nghttp2_nv pointers once every header is added. */
nghttp2_nv *rpc_headers_nv(rpc_headers *h);
void rpc_headers_free(rpc_headers *h);

/* Packs a protobuf-c message into a length-prefixed frame appended to out, within max
 * (uncompressed), compressed with enc (flag 1) unless it is identity. */
ccz_status rpc_pack(ccz_buf *out, const ProtobufCMessage *m, size_t max, ccz_rpc_encoding enc);

/* Reads one length-prefixed message of either flag: *compressed is flag 1. Errors as for
 * ccz_rpc_frame_read; max bounds the length on the wire. */
ccz_status rpc_frame_read(ccz_cursor *c, size_t max, bool *compressed, ccz_span *message);

/* grpc-encoding names: "identity", "gzip", "deflate"; parse gives -1 for anything else. */
const char *rpc_encoding_name(ccz_rpc_encoding e);
int rpc_encoding_parse(const uint8_t *v, size_t n);
/* Whether a content-type is gRPC's: application/grpc, alone or followed by '+' (a subtype such
 * as +proto) or ';' (parameters); "application/grpcx" is not. */
bool rpc_content_type_ok(const uint8_t *v, size_t n);
/* grpc-accept-encoding ("gzip, deflate") as a set of 1 << encoding; identity always in. */
unsigned rpc_accept_parse(const uint8_t *v, size_t n);
/* What ccz accepts, in grpc-accept-encoding form. */
#define RPC_ACCEPT_ENCODING "identity,deflate,gzip"
/* gzip or deflate (the zlib format, as gRPC's "deflate" is) of in, appended to out. */
ccz_status rpc_compress(ccz_buf *out, ccz_rpc_encoding enc, ccz_span in);
/* Inflates in into out; more than max bytes is CCZ_ERR_TOO_LARGE (at most max + 1 bytes are
 * ever produced, so a zip bomb costs no more than one message), a corrupt stream
 * CCZ_ERR_MALFORMED, a short one CCZ_ERR_TRUNCATED, bytes after it CCZ_ERR_TRAILING_DATA. */
ccz_status rpc_decompress(ccz_buf *out, ccz_rpc_encoding enc, ccz_span in, size_t max);

/* Fuzzing: feeds one client connection's plaintext bytes to the server (server.c). */
ccz_status rpc_server_feed(ccz_rpc_server *s, const uint8_t *data, size_t n);

/* Fuzzing the client: a plaintext channel on a bufferevent pair opens calls on streams 1
 * (unary, request given), 3 (server streaming, request given) and 5 (client streaming, the
 * request sent twice and the stream closed) to the paths given, then reads data as the
 * server's bytes after its preface; each response message goes to on_message (the unary
 * call's after the feed), each call's end to on_done, once: calls still open end when the
 * channel is freed at the end. */
typedef struct {
    const char *path[3];
    const ProtobufCMessage *request;
    const ProtobufCMessageDescriptor *out;
    size_t max_message;
    ccz_rpc_on_message on_message;
    ccz_rpc_on_done on_done;
    void *payload;
} rpc_client_feed_calls;
ccz_status rpc_client_feed(const uint8_t *data, size_t n, const rpc_client_feed_calls *c);

#endif
