/* SPDX-License-Identifier: Apache-2.0 */
/* The RPC tests' raw HTTP/2 client (h2_client.h). */
#include "h2_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ccz/rpc.h"
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

static ssize_t send_fd(nghttp2_session *s, const uint8_t *data, size_t len, int flags, void *u)
{
    (void)s, (void)flags;
    int fd = *(int *)u;
    size_t done = 0;
    while (done < len) {
        ssize_t n = send(fd, data + done, len - done, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return NGHTTP2_ERR_CALLBACK_FAILURE;
        done += (size_t)n;
    }
    return (ssize_t)len;
}

bool h2_call_and_leave(const char *target, const char *path, const ProtobufCMessage *request,
                       int timeout_ms)
{
    const char *colon = strrchr(target, ':');
    CHECK(colon != NULL);
    char host[64];
    snprintf(host, sizeof host, "%.*s", (int)(colon - target), target);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(colon + 1))};
    CHECK_INT(inet_pton(AF_INET, host, &a.sin_addr), 1);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(fd >= 0);
    CHECK_INT(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    size_t len = protobuf_c_message_get_packed_size(request);
    uint8_t *msg = malloc(len ? len : 1);
    CHECK(msg != NULL);
    protobuf_c_message_pack(request, msg);
    ccz_buf frame = CCZ_BUF_INIT;
    CHECK_OK(ccz_rpc_frame_write(&frame, CCZ_SPAN(msg, len)));
    free(msg);
    h2_client_callbacks cb = {send_fd, NULL, NULL, NULL, NULL};
    nghttp2_session *h2 = h2_client_new(&cb, &fd, NULL, 0);
    nghttp2_nv nv[6];
    size_t nnv = h2_grpc_headers(nv, path, "application/grpc");
    h2_body body = {frame.ptr, frame.len};
    nghttp2_data_provider dp = {.source.ptr = &body, .read_callback = h2_body_read};
    CHECK(nghttp2_submit_request(h2, NULL, nv, nnv, &dp, NULL) > 0);
    while (nghttp2_session_want_write(h2) && body.n)
        CHECK_INT(nghttp2_session_send(h2), 0);
    CHECK_INT(nghttp2_session_send(h2), 0);
    CHECK_INT((int)body.n, 0);
    CHECK_INT(shutdown(fd, SHUT_WR), 0);
    /* One deadline for the whole wait: a server that trickles bytes cannot stretch it. */
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    int64_t deadline = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000 + timeout_ms;
    bool closed = false;
    uint8_t buf[4096];
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        int64_t left = deadline - ((int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000);
        struct pollfd p = {fd, POLLIN, 0};
        if (left <= 0 || poll(&p, 1, (int)left) <= 0)
            break;
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0) {
            closed = n == 0 || errno == ECONNRESET;
            break;
        }
    }
    nghttp2_session_del(h2);
    close(fd);
    ccz_buf_free(&frame);
    return closed;
}
