/* SPDX-License-Identifier: Apache-2.0 */
/* The model server's C API (include/ccz/serving.h; `ccz serve` and tests/cli/test_serve.sh
 * cover the protocols): options it refuses before it listens (none, no listener, one TLS
 * context for both listeners, no model), a REST-only server that answers TensorFlow Serving's
 * predict from a raw HTTP client and drains on shutdown, and a gRPC-only one that starts and
 * stops. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "ccz/serving.h"
#include "onnx_min.h"
#include "test.h"

static char model_path[600];

static void *run(void *arg)
{
    return (void *)(intptr_t)ccz_serving_run(arg);
}

static void test_refused_options(void)
{
    ccz_serving *sv = NULL;
    CHECK_STATUS(ccz_serving_new(&sv, NULL), CCZ_ERR_INVALID_ARGUMENT);
    ccz_serving_model m = {"relu", model_path, 1, NULL};
    ccz_serving_opts o = CCZ_SERVING_OPTS_INIT;
    o.models = &m;
    o.n_models = 1;
    o.version = 0;
    o.rest_listen = "127.0.0.1:0";
    CHECK_STATUS(ccz_serving_new(&sv, &o), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "use CCZ_SERVING_OPTS_INIT");
    o.version = CCZ_SERVING_OPTS_VERSION;
    o.rest_listen = NULL;
    CHECK_STATUS(ccz_serving_new(&sv, &o), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "no listener");
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    o.rest_listen = o.grpc_listen = "127.0.0.1:0";
    o.rest_tls = o.grpc_tls = ctx;
    CHECK_STATUS(ccz_serving_new(&sv, &o), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "TLS contexts of their own");
    SSL_CTX_free(ctx);
    o.rest_tls = o.grpc_tls = NULL;
    o.n_models = 0;
    CHECK_STATUS(ccz_serving_new(&sv, &o), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "no model to serve");
    CHECK(sv == NULL);
}

/* POSTs body to path on 127.0.0.1:port; the whole answer (the server closes after it). */
static void post(char *answer, size_t cap, int port, const char *path, const char *body)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(connect(fd, (struct sockaddr *)&a, sizeof a) == 0);
    char req[1024];
    int n = snprintf(req, sizeof req,
                     "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     "Connection: close\r\nContent-Length: %zu\r\n\r\n%s",
                     path, strlen(body), body);
    CHECK(write(fd, req, (size_t)n) == n);
    size_t got = 0;
    ssize_t r;
    while (got + 1 < cap && (r = read(fd, answer + got, cap - 1 - got)) > 0)
        got += (size_t)r;
    answer[got] = 0;
    close(fd);
}

/* A server of the Relu model on the listeners given, its loop run in a thread (NULL when it
 * could not be made). */
static ccz_serving *serving_start(pthread_t *t, const char *rest, const char *grpc)
{
    ccz_serving_model m = {"relu", model_path, 1, NULL};
    ccz_serving_opts o = CCZ_SERVING_OPTS_INIT;
    o.models = &m;
    o.n_models = 1;
    o.rest_listen = rest;
    o.grpc_listen = grpc;
    o.threads = 1;
    ccz_serving *sv = NULL;
    CHECK_OK(ccz_serving_new(&sv, &o));
    if (sv)
        test_thread(t, run, sv);
    return sv;
}

/* Shuts it down: its loop must end with CCZ_OK. */
static void serving_stop(ccz_serving *sv, pthread_t t)
{
    ccz_serving_shutdown(sv, 1000);
    void *rc = NULL;
    pthread_join(t, &rc);
    CHECK_INT((ccz_status)(intptr_t)rc, CCZ_OK);
    ccz_serving_free(sv);
}

static void test_rest_only(void)
{
    pthread_t t;
    ccz_serving *sv = serving_start(&t, "127.0.0.1:0", NULL);
    if (!sv)
        return;
    int port = ccz_serving_rest_port(sv);
    CHECK(port > 0);
    CHECK_INT(ccz_serving_grpc_port(sv), 0);
    char answer[4096];
    post(answer, sizeof answer, port, "/v1/models/relu:predict",
         "{\"instances\": [[-1, 2, -3], [4, 0, -0.5]]}");
    CHECK_CONTAINS(answer, "HTTP/1.1 200");
    CHECK_CONTAINS(answer, "{\"predictions\":[[0,2,0],[4,0,0]]}");
    post(answer, sizeof answer, port, "/v1/models/other:predict", "{\"instances\": [[1, 2, 3]]}");
    CHECK_CONTAINS(answer, "HTTP/1.1 404");
    serving_stop(sv, t);
}

static void test_grpc_only(void)
{
    pthread_t t;
    ccz_serving *sv = serving_start(&t, NULL, "127.0.0.1:0");
    if (!sv)
        return;
    CHECK(ccz_serving_grpc_port(sv) > 0);
    CHECK_INT(ccz_serving_rest_port(sv), 0);
    serving_stop(sv, t);
}

static void setup(void)
{
    ccz_buf model = CCZ_BUF_INIT;
    onnx_relu_model(&model);
    snprintf(model_path, sizeof model_path, "%s/relu.onnx", test_tmpdir());
    CHECK_OK(ccz_file_write(model_path, ccz_buf_span(&model), 0600));
    ccz_buf_free(&model);
}

TEST_MAIN(T(setup), T(test_refused_options), T(test_rest_only), T(test_grpc_only))
