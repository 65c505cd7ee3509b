/* SPDX-License-Identifier: Apache-2.0 */
/* ccz serving: a model server in the image of TensorFlow Serving. It serves ONNX models (ccz/ml.h),
 * which may be Gramine protected files decrypted only in memory, over TensorFlow Serving's REST
 * API and KServe's Open Inference Protocol v2 on one HTTP/1.1 listener, and TensorFlow Serving's
 * gRPC API (proto/tf_serving.proto) on another. Concurrent requests for one model are run as one
 * batch (dynamic batching with a latency bound). Requests are untrusted: bodies, messages,
 * shapes and counts are bounded and checked (docs/serving.md). */
#ifndef CCZ_SERVING_H
#define CCZ_SERVING_H

#include <openssl/ssl.h>

#include "ccz/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ccz_serving ccz_serving;

/* One model version to serve. */
typedef struct {
    const char *name;   /* letters, digits, '.', '_', '-'; at most 64 */
    const char *path;   /* an ONNX file, or a protected file (needs key) */
    int64_t version;    /* 1 and up */
    const uint8_t *key; /* 16 bytes: the protected file's key (NULL: the file is plain ONNX) */
} ccz_serving_model;

#define CCZ_SERVING_OPTS_VERSION 2

typedef struct {
    unsigned version; /* CCZ_SERVING_OPTS_VERSION */
    const ccz_serving_model *models;
    size_t n_models;
    /* the listeners: at least one. A NULL context serves in plaintext (plain HTTP, h2c); the
     * two must be distinct contexts (each sets its own ALPN) and are borrowed */
    const char *rest_listen, *grpc_listen;
    SSL_CTX *rest_tls, *grpc_tls;
    unsigned batch_max_rows;   /* rows of one batch (0: 64) */
    unsigned batch_timeout_us; /* how long a batch waits for more requests (0: not at all; a
                                * batch still takes every request that came while the one
                                * before ran) */
    unsigned threads;          /* threads of one batch's inference (0: one per CPU) */
    size_t max_body;           /* one REST body, one gRPC message (0: 16 MiB) */
    size_t max_queued;         /* input bytes waiting for inference, all models (0: 256 MiB) */
    unsigned max_connections;  /* per listener (0: 1024) */
    unsigned idle_ms;          /* keep-alive (0: 60 s) */
    unsigned request_ms;       /* one REST request, from its first byte to its answer (0: 30 s) */
    /* version 2 (not read from version 1 options: those get the defaults) */
    unsigned max_per_peer; /* connections from one address, an IPv6 one's /64, per listener (0:
                            * 64): at that cap the peer's own oldest handshake or idle connection
                            * makes room, never another peer's */
    unsigned handshake_ms; /* TLS must be done this long after accept, both listeners (0: 10 s) */
} ccz_serving_opts;

#define CCZ_SERVING_OPTS_INIT                                                                      \
    {                                                                                              \
        CCZ_SERVING_OPTS_VERSION, NULL, 0, NULL, NULL, NULL, NULL, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0    \
    }

/* Loads every model (a failure names the model and its path) and binds the listeners. */
CCZ_API CCZ_NODISCARD ccz_status ccz_serving_new(ccz_serving **out, const ccz_serving_opts *o);
/* The bound ports (0 for a listener not asked for). */
CCZ_API int ccz_serving_rest_port(const ccz_serving *s);
CCZ_API int ccz_serving_grpc_port(const ccz_serving *s);
/* Serves until ccz_serving_shutdown, then returns once both listeners have drained. */
CCZ_API CCZ_NODISCARD ccz_status ccz_serving_run(ccz_serving *s);
/* From any thread: stop accepting, answer what is in flight within grace_ms. */
CCZ_API void ccz_serving_shutdown(ccz_serving *s, unsigned grace_ms);
/* Frees the server and its models (after run returned, or without running). */
CCZ_API void ccz_serving_free(ccz_serving *s);

#ifdef __cplusplus
}
#endif

#endif
