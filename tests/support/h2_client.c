/* SPDX-License-Identifier: Apache-2.0 */
/* The RPC tests' raw HTTP/2 client (h2_client.h). */
#include "h2_client.h"

#include <string.h>

#include "test.h"

nghttp2_session *h2_client_new(const h2_client_callbacks *cb, void *u,
                               const nghttp2_settings_entry *iv, size_t niv)
{
    nghttp2_session_callbacks *c;
    CHECK_INT(nghttp2_session_callbacks_new(&c), 0);
    nghttp2_session_callbacks_set_send_callback(c, cb->send);
    if (cb->header)
        nghttp2_session_callbacks_set_on_header_callback(c, cb->header);
    if (cb->frame)
        nghttp2_session_callbacks_set_on_frame_recv_callback(c, cb->frame);
    if (cb->data)
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(c, cb->data);
    if (cb->close)
        nghttp2_session_callbacks_set_on_stream_close_callback(c, cb->close);
    nghttp2_session *h2 = NULL;
    CHECK_INT(nghttp2_session_client_new(&h2, c, u), 0);
    nghttp2_session_callbacks_del(c);
    nghttp2_submit_settings(h2, NGHTTP2_FLAG_NONE, iv, niv);
    return h2;
}

nghttp2_nv h2_nv(const char *name, const char *value)
{
    return (nghttp2_nv){(uint8_t *)name, (uint8_t *)value, strlen(name), strlen(value),
                        NGHTTP2_NV_FLAG_NONE};
}

size_t h2_grpc_headers(nghttp2_nv *nv, const char *path, const char *ctype)
{
    nv[0] = h2_nv(":method", "POST");
    nv[1] = h2_nv(":scheme", "https");
    nv[2] = h2_nv(":path", path);
    nv[3] = h2_nv(":authority", "x");
    nv[4] = h2_nv("content-type", ctype);
    nv[5] = h2_nv("te", "trailers");
    return 6;
}

ssize_t h2_body_read(nghttp2_session *s, int32_t id, uint8_t *buf, size_t len, uint32_t *flags,
                     nghttp2_data_source *src, void *u)
{
    (void)s, (void)id, (void)u;
    h2_body *b = src->ptr;
    if (!b->p)
        return NGHTTP2_ERR_DEFERRED;
    size_t n = b->n < len ? b->n : len;
    memcpy(buf, b->p, n);
    b->p += n;
    b->n -= n;
    if (!b->n)
        *flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)n;
}
