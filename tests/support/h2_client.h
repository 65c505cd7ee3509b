/* SPDX-License-Identifier: Apache-2.0 */
/* A raw HTTP/2 client for the RPC tests (nghttp2): a client session with the callbacks a test
 * gives, and the headers of a gRPC request, to send what ccz's own channel never would. */
#ifndef CCZ_TEST_H2_CLIENT_H
#define CCZ_TEST_H2_CLIENT_H

#include <nghttp2/nghttp2.h>
#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>

typedef struct {
    nghttp2_send_callback send;
    nghttp2_on_header_callback header; /* NULL: none, as for the others */
    nghttp2_on_frame_recv_callback frame;
    nghttp2_on_data_chunk_recv_callback data;
    nghttp2_on_stream_close_callback close;
} h2_client_callbacks;

/* A client session whose callbacks get u, its SETTINGS (the niv entries of iv) submitted but not
 * yet sent; the caller deletes it (nghttp2_session_del). */
nghttp2_session *h2_client_new(const h2_client_callbacks *cb, void *u,
                               const nghttp2_settings_entry *iv, size_t niv);
/* A header of name and value (both NUL-terminated, kept by the caller until submitted). */
nghttp2_nv h2_nv(const char *name, const char *value);
/* The six headers of a gRPC call of path with content type ctype (over https, authority "x")
 * into nv[0..5]; returns 6. */
size_t h2_grpc_headers(nghttp2_nv *nv, const char *path, const char *ctype);

/* A request body for nghttp2_data_provider (source.ptr = the h2_body): its bytes, then the end
 * of the stream; p NULL: nothing, ever (the stream stays open). */
typedef struct {
    const uint8_t *p;
    size_t n;
} h2_body;
ssize_t h2_body_read(nghttp2_session *s, int32_t id, uint8_t *buf, size_t len, uint32_t *flags,
                     nghttp2_data_source *src, void *u);

/* A client that goes away: one gRPC request (path, the packed message in one gRPC frame) on a
 * fresh plaintext connection to target (HOST:PORT), the connection then half-closed; waits up to
 * timeout_ms in all for the server to close it. True when it did: the server has seen the client go
 * (the RPC server ends a connection's calls before it closes its socket). */
bool h2_call_and_leave(const char *target, const char *path, const ProtobufCMessage *request,
                       int timeout_ms);
#endif
