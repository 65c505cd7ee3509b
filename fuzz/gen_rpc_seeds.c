/* SPDX-License-Identifier: Apache-2.0 */
/* Writes the seed corpus of fuzz_rpc_request: what nghttp2's client sends for gRPC requests
 * (valid calls of each kind, metadata, deadlines, and the malformed cases the server must
 * refuse). Run by hand: gen_rpc_seeds fuzz/corpus/rpc_request */
#include <stdio.h>
#include <string.h>

#include <nghttp2/nghttp2.h>

#include "ccz/ccz.h"

static ccz_buf out;

static ssize_t send_cb(nghttp2_session *s, const uint8_t *d, size_t n, int f, void *u)
{
    (void)s, (void)f, (void)u;
    return ccz_buf_append(&out, d, n) == CCZ_OK ? (ssize_t)n : NGHTTP2_ERR_CALLBACK_FAILURE;
}

/* A request's body, read through the core reader as nghttp2 asks for it. */
static ssize_t read_cb(nghttp2_session *s, int32_t id, uint8_t *buf, size_t len, uint32_t *flags,
                       nghttp2_data_source *src, void *u)
{
    (void)s, (void)id, (void)u;
    ccz_cursor *b = src->ptr;
    size_t n = ccz_cursor_remaining(b) < len ? ccz_cursor_remaining(b) : len;
    if (ccz_cursor_copy(b, buf, n) != CCZ_OK)
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    if (!ccz_cursor_remaining(b))
        *flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)n;
}

#define NV(a, b)                                                                                   \
    {                                                                                              \
        (uint8_t *)a, (uint8_t *)b, strlen(a), strlen(b), NGHTTP2_NV_FLAG_NONE                     \
    }

static void seed(const char *dir, const char *name, const char *path, const char *ctype,
                 const char *extra_k, const char *extra_v, const void *data, size_t n, int streams)
{
    nghttp2_session_callbacks *cb;
    nghttp2_session_callbacks_new(&cb);
    nghttp2_session_callbacks_set_send_callback(cb, send_cb);
    nghttp2_session *h2;
    nghttp2_session_client_new(&h2, cb, NULL);
    nghttp2_session_callbacks_del(cb);
    ccz_buf_init(&out, 0, false);
    nghttp2_submit_settings(h2, NGHTTP2_FLAG_NONE, NULL, 0);
    ccz_cursor b[4];
    for (int i = 0; i < streams; i++) {
        nghttp2_nv nv[] = {NV(":method", "POST"),     NV(":scheme", "https"),
                           NV(":path", path),         NV(":authority", "localhost"),
                           NV("content-type", ctype), NV("te", "trailers"),
                           NV(extra_k, extra_v)};
        ccz_cursor_init(&b[i], CCZ_SPAN(data, n));
        nghttp2_data_provider prd = {.source.ptr = &b[i], .read_callback = read_cb};
        nghttp2_submit_request(h2, NULL, nv, extra_k[0] ? 7 : 6, &prd, NULL);
    }
    nghttp2_session_send(h2);
    nghttp2_session_del(h2);
    char file[512];
    snprintf(file, sizeof file, "%s/%s", dir, name);
    if (ccz_file_write(file, ccz_buf_span(&out), 0644) != CCZ_OK)
        fprintf(stderr, "%s\n", ccz_error_detail());
    ccz_buf_free(&out);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: gen_rpc_seeds DIR\n");
        return 2;
    }
    const char *d = argv[1];
    const char *H = "/ratls.Greeter/SayHello", *G = "application/grpc";
    seed(d, "unary", H, G, "", "", "\0\0\0\0\7\x0a\x05world", 12, 1);
    seed(d, "unary-md", H, G, "x-trace-bin", "AP8Q", "\0\0\0\0\3\x0a\x01z", 8, 1);
    seed(d, "unary-timeout", H, G, "grpc-timeout", "100m", "\0\0\0\0\3\x0a\x01z", 8, 1);
    seed(d, "unary-two-streams", H, G, "x-a", "b", "\0\0\0\0\3\x0a\x01z", 8, 2);
    seed(d, "server-streaming", "/t.S/Out", G, "", "", "\0\0\0\0\0", 5, 1);
    seed(d, "client-streaming", "/t.S/In", G, "", "", "\0\0\0\0\3\x0a\x01z\0\0\0\0\3\x0a\x01y", 16,
         1);
    seed(d, "unknown-method", "/x.Y/Z", G, "", "", "\0\0\0\0\0", 5, 1);
    seed(d, "oversize", H, G, "", "", "\0\x7f\xff\xff\xff", 5, 1);
    seed(d, "compressed", H, G, "grpc-encoding", "gzip", "\1\0\0\0\3\x0a\x01z", 8, 1);
    seed(d, "truncated", H, G, "", "", "\0\0\0\0\x09\x0a\x01z", 8, 1);
    seed(d, "not-grpc", H, "text/plain", "", "", "hello", 5, 1);
    return 0;
}
