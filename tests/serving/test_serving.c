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
#include "onnx_build.h"
#include "onnx_min.h"
#include "test.h"

static char model_path[600], flat_path[600];

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

/* A server of the Relu model and the Flatten one on the listeners given, its loop run in a
 * thread (NULL when it could not be made). */
static ccz_serving *serving_start(pthread_t *t, const char *rest, const char *grpc)
{
    ccz_serving_model m[2] = {{"relu", model_path, 1, NULL}, {"flat", flat_path, 1, NULL}};
    ccz_serving_opts o = CCZ_SERVING_OPTS_INIT;
    o.models = m;
    o.n_models = 2;
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

/* The REST API's refusals that tests/serving/serve_check.py leaves out (it also needs
 * python3-grpcio), each with its HTTP code and detail: an empty columnar batch, a columnar
 * object naming no input of the model, a v2 request with fewer or more tensors than the model
 * has inputs, a v2 path other than infer; and the columnar predict answer. */
static void test_rest_errors(void)
{
    static const struct {
        const char *path, *body;
        int code;
        const char *text;
    } cases[] = {
        {"/v1/models/relu:predict", "{\"inputs\": []}", 400,
         "input 'X': expected a non-empty list of rows"},
        {"/v1/models/relu:predict", "{\"inputs\": {\"Z\": [[1, 2, 3]]}}", 400,
         "'inputs': 'Z' is not an input of the model"},
        {"/v1/models/relu:predict", "{\"inputs\": {}}", 400,
         "'inputs': the model takes 1 inputs, 0 given"},
        {"/v1/models/relu:predict", "{\"inputs\": [[1, -2, 3]]}", 200, "{\"outputs\":[[1,0,3]]}"},
        {"/v2/models/relu/infer",
         "{\"inputs\": [{\"name\": \"X\", \"datatype\": \"FP32\", \"shape\": [1, 3], "
         "\"data\": [1, 2, 3]}, {\"name\": \"X\", \"datatype\": \"FP32\", \"shape\": [1, 3], "
         "\"data\": [1, 2, 3]}]}",
         400, "the model takes 1 inputs, 2 given"},
        {"/v2/models/relu/infer", "{\"inputs\": []}", 400, "the model takes 1 inputs, 0 given"},
        {"/v2/models/relu/predict", "{}", 404, "no such endpoint: /v2/models/relu/predict"},
        {"/v2/models/relu/infer",
         "{\"id\": \"r1\", \"inputs\": [{\"name\": \"X\", \"datatype\": \"FP32\", "
         "\"shape\": [1, 3], \"data\": [[-1, 2, -3]]}]}",
         200,
         "\"id\":\"r1\",\"outputs\":[{\"name\":\"Y\",\"datatype\":\"FP32\",\"shape\":[1,3],"
         "\"data\":[0,2,0]}]"},
    };
    pthread_t t;
    ccz_serving *sv = serving_start(&t, "127.0.0.1:0", NULL);
    if (!sv)
        return;
    int port = ccz_serving_rest_port(sv);
    for (size_t i = 0; i < CCZ_ARRAY_LEN(cases); i++) {
        char answer[4096], status[32];
        post(answer, sizeof answer, port, cases[i].path, cases[i].body);
        snprintf(status, sizeof status, "HTTP/1.1 %d", cases[i].code);
        if (strncmp(answer, status, strlen(status)) != 0 || !strstr(answer, cases[i].text))
            fprintf(stderr, "%s: case %zu (%s %s): %s\n", test_name, i, cases[i].path,
                    cases[i].body, answer);
        CHECK(strncmp(answer, status, strlen(status)) == 0);
        CHECK_CONTAINS(answer, cases[i].text);
    }
    serving_stop(sv, t);
}

/* Examples of a rank-3 input whose first dimension holds as many values as the row (X[N,3,1]):
 * the nested form is read as nested, the flat one as flat. */
static void test_rest_nested_examples(void)
{
    static const struct {
        const char *path, *body, *want;
    } cases[] = {
        {"/v1/models/flat:classify", "{\"examples\": [{\"X\": [[1], [-2], [3]]}]}",
         "{\"results\":[[[\"0\",1],[\"1\",-2],[\"2\",3]]]}"},
        {"/v1/models/flat:classify", "{\"examples\": [{\"X\": [1, -2, 3]}]}",
         "{\"results\":[[[\"0\",1],[\"1\",-2],[\"2\",3]]]}"},
        {"/v1/models/flat:predict", "{\"instances\": [[[1], [2], [3]]]}",
         "{\"predictions\":[[1,2,3]]}"},
    };
    pthread_t t;
    ccz_serving *sv = serving_start(&t, "127.0.0.1:0", NULL);
    if (!sv)
        return;
    int port = ccz_serving_rest_port(sv);
    for (size_t i = 0; i < CCZ_ARRAY_LEN(cases); i++) {
        char answer[4096];
        post(answer, sizeof answer, port, cases[i].path, cases[i].body);
        if (!strstr(answer, cases[i].want))
            fprintf(stderr, "%s: case %zu: %s\n", test_name, i, answer);
        CHECK_CONTAINS(answer, "HTTP/1.1 200");
        CHECK_CONTAINS(answer, cases[i].want);
    }
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

/* Flatten over X[N,3,1] into Y[N,3] (ir_version 8, opset 13) */
static void flatten_model(ccz_buf *b)
{
    onnx_build(b, &(model_spec){
                      .op = "Flatten", .n_in = 1, .in = {"X"}, .x_rank = 3, .x_dims = {0, 3, 1}});
}

static void setup(void)
{
    ccz_buf model = CCZ_BUF_INIT;
    onnx_relu_model(&model);
    snprintf(model_path, sizeof model_path, "%s/relu.onnx", test_tmpdir());
    CHECK_OK(ccz_file_write(model_path, ccz_buf_span(&model), 0600));
    ccz_buf_reset(&model);
    flatten_model(&model);
    snprintf(flat_path, sizeof flat_path, "%s/flat.onnx", test_tmpdir());
    CHECK_OK(ccz_file_write(flat_path, ccz_buf_span(&model), 0600));
    ccz_buf_free(&model);
}

TEST_MAIN(T(setup), T(test_refused_options), T(test_rest_only), T(test_rest_errors),
          T(test_rest_nested_examples), T(test_grpc_only))
