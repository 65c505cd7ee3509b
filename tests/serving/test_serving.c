/* SPDX-License-Identifier: Apache-2.0 */
/* The model server's C API (include/ccz/serving.h; `ccz serve` and tests/cli/test_serve.sh
 * cover the protocols): options it refuses before it listens (none, no listener, one TLS
 * context for both listeners, no model), a REST-only server that answers TensorFlow Serving's
 * predict from a raw HTTP client and drains on shutdown, and a gRPC-only one that starts and
 * stops; gRPC requests refused before they run (an answer over the message limit, buffers over
 * the queue bound, a connection's calls beyond its share of the queue while another client is
 * served), calls not run once their clients left (deadline, disconnection) and calls
 * queued at shutdown answered UNAVAILABLE; a model of two outputs through gRPC's output_filter
 * and KServe v2's outputs (one, the other, both, an unknown name, the answer's bound counting
 * only those asked for); the status codes of failures; and the batcher's
 * bookkeeping (src/svc/serving/internal.h) when a client leaves mid-batch. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "ccz/rpc.h"
#include "ccz/serving.h"
#include "h2_client.h"
#include "onnx_build.h"
#include "onnx_min.h"
#include "svc/serving/internal.h"
#include "test.h"

static char model_path[600], flat_path[600], wide_path[600], many_path[3][600], two_path[600],
    scalar_path[600], one_path[600];

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
    o.version = CCZ_SERVING_OPTS_VERSION + 1; /* a later header's: fields this one cannot read */
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
    o.grpc_listen = NULL;
    /* each model's name, path and version, and no version given twice */
    ccz_serving_model two[2] = {{"relu", model_path, 1, NULL}, {"relu", model_path, 1, NULL}};
    o.models = two;
    o.n_models = 2;
    CHECK_STATUS(ccz_serving_new(&sv, &o), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "model relu version 1 is given twice");
    two[1].name = "relu no";
    CHECK_STATUS(ccz_serving_new(&sv, &o), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "model name 'relu no'");
    two[1].name = "relu";
    two[1].path = NULL;
    CHECK_STATUS(ccz_serving_new(&sv, &o), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "model relu: no path");
    /* a file that is not a model: refused with the loader's reason */
    char bad[600];
    snprintf(bad, sizeof bad, "%s/not-a-model.onnx", test_tmpdir());
    CHECK_OK(ccz_file_write(bad, CCZ_SPAN("not onnx", 8), 0644));
    two[1].path = bad;
    two[1].version = 2;
    CHECK_STATUS(ccz_serving_new(&sv, &o), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "model relu version 2 (");
    CHECK_CONTAINS(ccz_error_detail(), "not an ONNX model");
    /* a protected file given without its key: named as such, not as a broken model */
    CHECK_OK(ccz_file_write(bad, CCZ_SPAN("GRAFS_PF and then its chunks", 28), 0644));
    CHECK_STATUS(ccz_serving_new(&sv, &o), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "is a protected file: its key is needed");
    CHECK(sv == NULL);
    /* every character a name may have, 64 of them; the same name in another version */
    char longest[66];
    memset(longest, 'x', 65);
    longest[65] = '\0'; /* 65 characters: one too many */
    memcpy(longest, "AZaz09.-_", 9);
    two[1].name = longest;
    two[1].path = model_path;
    CHECK_STATUS(ccz_serving_new(&sv, &o), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "model name 'AZaz09.-_x");
    longest[64] = '\0'; /* 64: the most there may be */
    two[0].name = two[1].name = longest;
    CHECK_OK(ccz_serving_new(&sv, &o));
    ccz_serving_free(sv);
    sv = NULL;
    o.models = &m;
    o.n_models = 0;
    CHECK_STATUS(ccz_serving_new(&sv, &o), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "no model to serve");
    CHECK(sv == NULL);
}

/* POSTs body to path on 127.0.0.1:port with the extra header lines given ("Name: value\r\n"
 * each); the whole answer (the server closes after it). */
static void post_with(char *answer, size_t cap, int port, const char *path, const char *headers,
                      const char *body)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(connect(fd, (struct sockaddr *)&a, sizeof a) == 0);
    char req[1024];
    int n = snprintf(req, sizeof req,
                     "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     "%sConnection: close\r\nContent-Length: %zu\r\n\r\n%s",
                     path, headers, strlen(body), body);
    CHECK(write(fd, req, (size_t)n) == n);
    size_t got = 0;
    ssize_t r;
    while (got + 1 < cap && (r = read(fd, answer + got, cap - 1 - got)) > 0)
        got += (size_t)r;
    answer[got] = 0;
    close(fd);
}

static void post(char *answer, size_t cap, int port, const char *path, const char *body)
{
    post_with(answer, cap, port, path, "", body);
}

/* GETs path from 127.0.0.1:port; the whole answer. */
static void get(char *answer, size_t cap, int port, const char *path)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(connect(fd, (struct sockaddr *)&a, sizeof a) == 0);
    char req[512];
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", path);
    CHECK(write(fd, req, (size_t)n) == n);
    size_t got = 0;
    ssize_t r;
    while (got + 1 < cap && (r = read(fd, answer + got, cap - 1 - got)) > 0)
        got += (size_t)r;
    answer[got] = 0;
    close(fd);
}

/* A server of the Relu model, the Flatten one, the wide one (X[N,1] -> Y[N,256]) and a Relu of
 * one value a row (X[N,1] -> Y[N,1]) on the listeners given, with o's batching and limits, its
 * loop run in a thread (NULL when it could not be made). */
static ccz_serving *serving_start_opts(pthread_t *t, ccz_serving_opts *o)
{
    ccz_serving_model m[5] = {{"relu", model_path, 1, NULL},
                              {"flat", flat_path, 1, NULL},
                              {"wide", wide_path, 1, NULL},
                              {"one", one_path, 1, NULL},
                              {"scalar", scalar_path, 1, NULL}};
    o->models = m;
    o->n_models = 5;
    o->threads = 1;
    ccz_serving *sv = NULL;
    CHECK_OK(ccz_serving_new(&sv, o));
    if (sv)
        test_thread(t, run, sv);
    return sv;
}

static ccz_serving *serving_start(pthread_t *t, const char *rest, const char *grpc)
{
    ccz_serving_opts o = CCZ_SERVING_OPTS_INIT;
    o.rest_listen = rest;
    o.grpc_listen = grpc;
    return serving_start_opts(t, &o);
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
    /* a model's status lists its versions alone (the other models are version 1 too) */
    get(answer, sizeof answer, port, "/v1/models/relu");
    CHECK_CONTAINS(answer, "HTTP/1.1 200");
    const char *first = strstr(answer, "\"state\"");
    CHECK(first && !strstr(first + 1, "\"state\""));
    get(answer, sizeof answer, port, "/v1/models/relu/versions/7");
    CHECK_CONTAINS(answer, "HTTP/1.1 404");
    CHECK_CONTAINS(answer, "Could not find version 7 of model relu");
    get(answer, sizeof answer, port, "/v1/models/nosuch");
    CHECK_CONTAINS(answer, "HTTP/1.1 404");
    CHECK_CONTAINS(answer, "Could not find any versions of model nosuch");
    /* v2: a model's readiness; a model that is not served */
    get(answer, sizeof answer, port, "/v2/models/relu/ready");
    CHECK_CONTAINS(answer, "HTTP/1.1 200");
    CHECK_CONTAINS(answer, "{\"name\":\"relu\",\"ready\":true}");
    get(answer, sizeof answer, port, "/v2/models/nosuch/ready");
    CHECK_CONTAINS(answer, "HTTP/1.1 404");
    CHECK_CONTAINS(answer, "Request for unknown model: 'nosuch' is not found");
    /* paths under a model that name nothing */
    static const struct {
        const char *path, *text;
    } unknown[] = {
        {"/v1/models/relu/foo", "Malformed request: GET /v1/models/relu/foo"},
        {"/v1/models/relu/metadataX", "Malformed request: GET /v1/models/relu/metadataX"},
        {"/v2/models/relu/foo", "no such endpoint: /v2/models/relu/foo"},
        {"/v2/health/foo", "no such endpoint: /v2/health/foo"},
    };
    for (size_t i = 0; i < CCZ_ARRAY_LEN(unknown); i++) {
        get(answer, sizeof answer, port, unknown[i].path);
        CHECK_CONTAINS(answer, "HTTP/1.1 404");
        CHECK_CONTAINS(answer, unknown[i].text);
    }
    /* the metadata's input shape: the batch unknown (-1), then the model's dims */
    get(answer, sizeof answer, port, "/v1/models/relu/metadata");
    CHECK_CONTAINS(answer, "HTTP/1.1 200");
    CHECK_CONTAINS(answer,
                   "\"X\":{\"dtype\":\"DT_FLOAT\",\"tensor_shape\":{\"dim\":[{\"size\":\"-1\","
                   "\"name\":\"\"},{\"size\":\"3\",\"name\":\"\"}],\"unknown_rank\":false}");
    serving_stop(sv, t);
}

/* Version 1 options end before max_per_peer: a caller of that header may leave anything in
 * the fields after, and none of it is read. A limit of one connection per peer there is not
 * applied: a second connection from 127.0.0.1 is served and the first, silent, is kept open
 * (with the limit applied it would be closed to make room). */
static void test_v1_options_tail_ignored(void)
{
    ccz_serving_opts o = CCZ_SERVING_OPTS_INIT;
    o.version = 1;
    o.rest_listen = "127.0.0.1:0";
    o.max_per_peer = 1;
    pthread_t t;
    ccz_serving *sv = serving_start_opts(&t, &o);
    if (!sv)
        return;
    int port = ccz_serving_rest_port(sv);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(connect(fd, (struct sockaddr *)&a, sizeof a) == 0);
    nanosleep(&(struct timespec){0, 100000000}, NULL); /* the first taken before the second */
    char answer[4096];
    get(answer, sizeof answer, port, "/v2/models/relu/ready");
    CHECK_CONTAINS(answer, "HTTP/1.1 200");
    struct pollfd pfd = {fd, POLLIN, 0};
    CHECK_INT(poll(&pfd, 1, 200), 0); /* neither closed nor answered */
    close(fd);
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
        /* the columnar object naming the model's input, answered as one JSON object; an
         * instance object naming an input the model lacks; a feature found in the context */
        {"/v1/models/relu:predict", "{\"inputs\": {\"X\": [[1, -2, 3]]}}", 200,
         "\r\n\r\n{\"outputs\":[[1,0,3]]}\n"},
        {"/v1/models/relu:predict", "{\"instances\": [{\"X\": [1, 2, 3], \"Z\": 1}]}", 400,
         "instance 0: 'Z' is not an input of the model"},
        {"/v1/models/flat:classify", "{\"context\": {\"X\": [1, 2, 3]}, \"examples\": [{}]}", 200,
         "{\"results\":[[[\"0\",1],[\"1\",2],[\"2\",3]]]}"},
        {"/v2/models/relu/infer",
         "{\"inputs\": [{\"name\": \"X\", \"datatype\": \"FP32\", \"shape\": [1, 3], "
         "\"data\": [1, 2, 3]}, {\"name\": \"X\", \"datatype\": \"FP32\", \"shape\": [1, 3], "
         "\"data\": [1, 2, 3]}]}",
         400, "the model takes 1 inputs, 2 given"},
        {"/v2/models/relu/infer", "{\"inputs\": []}", 400, "the model takes 1 inputs, 0 given"},
        /* a number beyond float32's range is refused, not read as an infinity */
        {"/v1/models/relu:predict", "{\"instances\": [[1e39, 0, 0]]}", 400,
         "input 'X': the value 1e+39 is out of range for float32"},
        {"/v1/models/relu:predict", "{\"inputs\": [[0, -1e300, 0]]}", 400,
         "input 'X': the value -1e+300 is out of range for float32"},
        {"/v1/models/flat:classify", "{\"examples\": [{\"X\": [1, 1e39, 3]}]}", 400,
         "input 'X': the value 1e+39 is out of range for float32"},
        {"/v2/models/relu/infer",
         "{\"inputs\": [{\"name\": \"X\", \"datatype\": \"FP32\", \"shape\": [1, 3], "
         "\"data\": [1, 2, 4e38]}]}",
         400, "input 'X': the value 4e+38 is out of range for float32"},
        {"/v1/models/relu:predict", "{\"instances\": [[3.4e38, -3.4e38, 1e-50]]}", 200,
         "{\"predictions\":[[3.39999995e+38,0,0]]}"},
        /* v2 data nested otherwise than the shape: ragged rows, a flat list with a nested
         * one in it, a nested list with a number in place of a row */
        {"/v2/models/relu/infer",
         "{\"inputs\": [{\"name\": \"X\", \"datatype\": \"FP32\", \"shape\": [2, 3], "
         "\"data\": [[1, 2], [3, 4, 5, 6]]}]}",
         400, "input 'X': data nested as the shape needs 3 values at dimension 1; 2 given"},
        {"/v2/models/relu/infer",
         "{\"inputs\": [{\"name\": \"X\", \"datatype\": \"FP32\", \"shape\": [2, 3], "
         "\"data\": [[1, 2, 3]]}]}",
         400, "input 'X': data nested as the shape needs 2 values at dimension 0; 1 given"},
        {"/v2/models/relu/infer",
         "{\"inputs\": [{\"name\": \"X\", \"datatype\": \"FP32\", \"shape\": [2, 3], "
         "\"data\": [1, 2, 3, [4, 5, 6]]}]}",
         400, "data must be numbers, flat or nested in lists as the shape"},
        {"/v2/models/relu/infer",
         "{\"inputs\": [{\"name\": \"X\", \"datatype\": \"FP32\", \"shape\": [2, 3], "
         "\"data\": [[1, 2, 3], 4]}]}",
         400, "data must be numbers, flat or nested in lists as the shape"},
        {"/v2/models/relu/infer",
         "{\"inputs\": [{\"name\": \"X\", \"datatype\": \"FP32\", \"shape\": [2, 3], "
         "\"data\": [[1, -2, 3], [-4, 5, -6]]}]}",
         200, "\"shape\":[2,3],\"data\":[1,0,3,0,5,0]"},
        /* a shape of another rank than the input's */
        {"/v2/models/relu/infer",
         "{\"inputs\": [{\"name\": \"X\", \"datatype\": \"FP32\", \"shape\": [3], "
         "\"data\": [1, 2, 3]}]}",
         400, "input 'X': shape must have 2 dimensions"},
        /* a datatype that holds no numbers */
        {"/v2/models/relu/infer",
         "{\"inputs\": [{\"name\": \"X\", \"datatype\": \"BYTES\", \"shape\": [1, 3], "
         "\"data\": [1, 2, 3]}]}",
         400, "input 'X': datatype must be numeric (FP32, ...)"},
        /* a parse error names where, not the body's bytes */
        {"/v1/models/relu:predict", "{\"instances\": [[1, 2, hunter2]]}", 400,
         "JSON Parse error: invalid token at offset: "},
        /* an integer datatype holds integers in its range; FP16 numbers in its */
        {"/v2/models/relu/infer",
         "{\"inputs\": [{\"name\": \"X\", \"datatype\": \"INT32\", \"shape\": [1, 3], "
         "\"data\": [1, 2.5, 3]}]}",
         400, "input 'X': INT32 data must be integers, not 2.5"},
        {"/v2/models/relu/infer",
         "{\"inputs\": [{\"name\": \"X\", \"datatype\": \"UINT8\", \"shape\": [1, 3], "
         "\"data\": [1, 256, 3]}]}",
         400, "input 'X': 256 is out of range for UINT8"},
        {"/v2/models/relu/infer",
         "{\"inputs\": [{\"name\": \"X\", \"datatype\": \"UINT8\", \"shape\": [1, 3], "
         "\"data\": [1, -1, 3]}]}",
         400, "input 'X': -1 is out of range for UINT8"},
        {"/v2/models/relu/infer",
         "{\"inputs\": [{\"name\": \"X\", \"datatype\": \"FP16\", \"shape\": [1, 3], "
         "\"data\": [1, 70000, 3]}]}",
         400, "input 'X': 70000 is out of range for FP16"},
        {"/v2/models/relu/infer",
         "{\"inputs\": [{\"name\": \"X\", \"datatype\": \"INT8\", \"shape\": [1, 3], "
         "\"data\": [-128, 127, -3]}]}",
         200, "\"shape\":[1,3],\"data\":[0,127,0]"},
        /* paths: labels, a version that is no number, a verb or a model that does not exist */
        {"/v1/models/relu/labels/stable:predict", "{\"instances\": [[1, 2, 3]]}", 501,
         "version labels are not served: ask for /versions/N or the latest"},
        {"/v1/models/relu/versions/x1:predict", "{\"instances\": [[1, 2, 3]]}", 400,
         "the version must be a number from 1 to 10^18 - 1"},
        {"/v1/models/relu/versions/0:predict", "{\"instances\": [[1, 2, 3]]}", 400,
         "the version must be a number from 1 to 10^18 - 1"},
        {"/v1/models/relu/versions/2:predict", "{\"instances\": [[1, 2, 3]]}", 404,
         "Servable not found for request: Specific(relu, 2)"},
        {"/v1/models/relu:explain", "{\"instances\": [[1, 2, 3]]}", 400,
         "Malformed request: POST /v1/models/relu:explain"},
        /* a version of 19 digits is refused, not read as its first 18 and a tail; 18 are
         * looked up */
        {"/v1/models/relu/versions/1000000000000000000:predict", "{\"instances\": [[1, 2, 3]]}",
         400, "the version must be a number from 1 to 10^18 - 1"},
        {"/v1/models/relu/versions/999999999999999999:predict", "{\"instances\": [[1, 2, 3]]}", 404,
         "Servable not found for request: Specific(relu, 999999999999999999)"},
        /* a signature name that is no string; a model that is not served, whatever the body */
        {"/v1/models/relu:predict", "{\"signature_name\": 5, \"instances\": [[1, 2, 3]]}", 400,
         "Serving signature name: \\\"(not a string)\\\" not found in signature def"},
        /* an output of one value a row is a regression's, not class scores */
        {"/v1/models/one:classify", "{\"examples\": [{\"X\": [2]}]}", 400,
         "model one takes 1 input and has no single output of class scores: use :predict"},
        {"/v1/models/one:regress", "{\"examples\": [{\"X\": [-2]}, {\"X\": [1.5]}]}", 200,
         "{\"results\":[0,1.5]}"},
        /* a rank-1 input (X[N]): a row is a number, bare or a list of one; the context's too */
        {"/v1/models/scalar:regress",
         "{\"examples\": [{\"X\": -2}, {\"X\": [1.5]}, {}], \"context\": {\"X\": 3}}", 200,
         "{\"results\":[0,1.5,3]}"},
        {"/v1/models/scalar:regress", "{\"examples\": [{\"X\": [1, 2]}]}", 400,
         "input 'X': a value is not a number"},
        {"/v1/models/scalar:regress", "{\"examples\": [{\"X\": []}]}", 400,
         "input 'X': a value is not a number"},
        {"/v1/models/scalar:predict", "{\"instances\": [1, -2, 0.5]}", 200,
         "{\"predictions\":[1,0,0.5]}"},
        {"/v1/models/nosuch:predict", "not JSON", 404,
         "Servable not found for request: Latest(nosuch)"},
        /* v2: a batch over 2^20 rows; data nested deeper than the shape */
        {"/v2/models/relu/infer",
         "{\"inputs\": [{\"name\": \"X\", \"datatype\": \"FP32\", \"shape\": [1048577, 3], "
         "\"data\": [1, 2, 3]}]}",
         400, "input 'X': the batch (shape[0]) must be 1 to 1048576"},
        {"/v2/models/relu/infer",
         "{\"inputs\": [{\"name\": \"X\", \"datatype\": \"FP32\", \"shape\": [1, 3], "
         "\"data\": [[[1], 2, 3]]}]}",
         400, "data must be numbers, flat or nested in lists as the shape"},
        {"/v2/models/nope/infer", "{\"inputs\": []}", 404,
         "Request for unknown model: 'nope' is not found"},
        /* v2 tensors: not a list, not numeric, a shape of non-integers, data not numbers, an
         * output the model does not have */
        {"/v2/models/relu/infer", "{\"inputs\": {\"X\": [1, 2, 3]}}", 400,
         "'inputs' must be a list of tensors"},
        {"/v2/models/relu/infer",
         "{\"inputs\": [{\"name\": \"X\", \"datatype\": \"BYTES\", \"shape\": [1, 3], "
         "\"data\": [1, 2, 3]}]}",
         400, "input 'X': datatype must be numeric (FP32, ...)"},
        {"/v2/models/relu/infer",
         "{\"inputs\": [{\"name\": \"X\", \"datatype\": \"FP32\", \"shape\": [1, 3.0], "
         "\"data\": [1, 2, 3]}]}",
         400, "input 'X': shape holds a value that is not an integer"},
        {"/v2/models/relu/infer",
         "{\"inputs\": [{\"name\": \"X\", \"datatype\": \"FP32\", \"shape\": [1, 3], "
         "\"data\": [1, \"2\", 3]}]}",
         400, "data must be numbers, flat or nested in lists as the shape"},
        {"/v2/models/relu/infer",
         "{\"inputs\": [{\"name\": \"X\", \"datatype\": \"FP32\", \"shape\": [1, 3], "
         "\"data\": [1, 2, 3]}], \"outputs\": [{\"name\": \"Z\"}]}",
         400, "'Z' is not an output of the model"},
        {"/v2/models/relu/predict", "{}", 404, "no such endpoint: /v2/models/relu/predict"},
        /* an id is echoed whole or refused: not cut (mid-character, the answer would fail) */
        {"/v2/models/relu/infer",
         "{\"id\": \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\", \"inputs\": [{\"name\": \"X\", \"datatype\": \"FP32\", "
         "\"shape\": [1, 3], \"data\": [1, 2, 3]}]}",
         400, "'id' may hold at most 127 bytes"},
        {"/v2/models/relu/infer",
         "{\"id\": \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\\u00e9\", \"inputs\": [{\"name\": \"X\", \"datatype\": \"FP32\", "
         "\"shape\": [1, 3], \"data\": [1, 2, 3]}]}",
         400, "'id' may hold at most 127 bytes"},
        {"/v2/models/relu/infer",
         "{\"id\": \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\", \"inputs\": [{\"name\": \"X\", \"datatype\": \"FP32\", "
         "\"shape\": [1, 3], \"data\": [1, 2, 3]}]}",
         200,
         "\"id\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\",\"outputs\":[{\"name\":\"Y\""},
        {"/v2/models/relu/infer",
         "{\"inputs\": [{\"name\": \"X\", \"datatype\": \"FP32\", \"shape\": [1, 3], "
         "\"data\": [1, 2, 3]}], \"outputs\": {}}",
         400, "'outputs' must be a list"},
        /* outputs: [] asks for none in particular: every output, as without it (and as gRPC's
         * empty output_filter) */
        {"/v2/models/relu/infer",
         "{\"inputs\": [{\"name\": \"X\", \"datatype\": \"FP32\", \"shape\": [1, 3], "
         "\"data\": [1, -2, 3]}], \"outputs\": []}",
         200,
         "\"outputs\":[{\"name\":\"Y\",\"datatype\":\"FP32\",\"shape\":[1,3],\"data\":[1,0,3]}]"},
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

/* KServe's binary tensor data extension is refused in its own words: a body whose JSON is only
 * its first Inference-Header-Content-Length bytes, or a length that is no number, and an input
 * whose values are binary_data_size bytes; a header that says the whole body is JSON is taken. */
static void test_rest_binary_refused(void)
{
    static const char json[] = "{\"inputs\": [{\"name\": \"X\", \"datatype\": \"FP32\", "
                               "\"shape\": [1, 3], \"data\": [1, -2, 3]}]}";
    static const char refused[] =
        "the binary tensor data extension is not served: send the values as JSON, in 'data'";
    pthread_t t;
    ccz_serving *sv = serving_start(&t, "127.0.0.1:0", NULL);
    if (!sv)
        return;
    int port = ccz_serving_rest_port(sv);
    char answer[4096], header[96], body[512];
    snprintf(body, sizeof body, "%s\x01\x02\x03\x04", json);
    snprintf(header, sizeof header, "Inference-Header-Content-Length: %zu\r\n", strlen(json));
    post_with(answer, sizeof answer, port, "/v2/models/relu/infer", header, body);
    CHECK_CONTAINS(answer, "HTTP/1.1 400");
    CHECK_CONTAINS(answer, refused);
    post_with(answer, sizeof answer, port, "/v2/models/relu/infer",
              "Inference-Header-Content-Length: x\r\n", json);
    CHECK_CONTAINS(answer, "HTTP/1.1 400");
    CHECK_CONTAINS(answer, refused);
    post(answer, sizeof answer, port, "/v2/models/relu/infer",
         "{\"inputs\": [{\"name\": \"X\", \"datatype\": \"FP32\", \"shape\": [1, 3], "
         "\"parameters\": {\"binary_data_size\": 12}}]}");
    CHECK_CONTAINS(answer, "HTTP/1.1 400");
    CHECK_CONTAINS(answer, "input 'X': the binary tensor data extension is not served");
    snprintf(header, sizeof header, "Inference-Header-Content-Length: %zu\r\n", strlen(json));
    post_with(answer, sizeof answer, port, "/v2/models/relu/infer", header, json);
    CHECK_CONTAINS(answer, "HTTP/1.1 200");
    CHECK_CONTAINS(answer, "\"shape\":[1,3],\"data\":[1,0,3]");
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

/* ---- gRPC Predict ----------------------------------------------------------------------------*/

/* A Predict of model's input X of rows x cols values, all v (float_val of one value), with a
 * deadline (0: none); *first gets the answer's first value. */
typedef struct {
    int port;
    const char *model;
    int64_t rows, cols, deadline_ms;
    float v;
    ccz_rpc_status st;
    float first;
} predict_call;

/* p's PredictRequest (q->rq), its parts in q. */
typedef struct {
    Tensorflow__Serving__ModelSpec spec;
    Tensorflow__Serving__TensorShapeProto__Dim d[2], *dp[2];
    Tensorflow__Serving__TensorShapeProto sh;
    Tensorflow__Serving__TensorProto t;
    Tensorflow__Serving__PredictRequest__InputsEntry e, *ep;
    Tensorflow__Serving__PredictRequest rq;
} predict_msg;

static void predict_msg_init(predict_msg *q, predict_call *p)
{
    Tensorflow__Serving__ModelSpec spec = TENSORFLOW__SERVING__MODEL_SPEC__INIT;
    Tensorflow__Serving__TensorShapeProto__Dim d =
        TENSORFLOW__SERVING__TENSOR_SHAPE_PROTO__DIM__INIT;
    Tensorflow__Serving__TensorShapeProto sh = TENSORFLOW__SERVING__TENSOR_SHAPE_PROTO__INIT;
    Tensorflow__Serving__TensorProto t = TENSORFLOW__SERVING__TENSOR_PROTO__INIT;
    Tensorflow__Serving__PredictRequest__InputsEntry e =
        TENSORFLOW__SERVING__PREDICT_REQUEST__INPUTS_ENTRY__INIT;
    Tensorflow__Serving__PredictRequest rq = TENSORFLOW__SERVING__PREDICT_REQUEST__INIT;
    q->spec = spec;
    q->spec.name = (char *)p->model;
    q->d[0] = q->d[1] = d;
    q->d[0].size = p->rows;
    q->d[1].size = p->cols;
    q->dp[0] = &q->d[0];
    q->dp[1] = &q->d[1];
    q->sh = sh;
    q->sh.n_dim = 2;
    q->sh.dim = q->dp;
    q->t = t;
    q->t.dtype = TENSORFLOW__SERVING__DATA_TYPE__DT_FLOAT;
    q->t.tensor_shape = &q->sh;
    q->t.n_float_val = 1;
    q->t.float_val = &p->v;
    q->e = e;
    q->e.key = "X";
    q->e.value = &q->t;
    q->ep = &q->e;
    q->rq = rq;
    q->rq.model_spec = &q->spec;
    q->rq.n_inputs = 1;
    q->rq.inputs = &q->ep;
}

static void grpc_predict(predict_call *p)
{
    char target[64];
    snprintf(target, sizeof target, "127.0.0.1:%d", p->port);
    ccz_rpc_channel_opts co = CCZ_RPC_CHANNEL_OPTS_INIT;
    co.max_message = 64u << 20;
    ccz_rpc_channel *ch = NULL;
    CHECK_OK(ccz_rpc_channel_new(&ch, target, &co));
    if (!ch)
        return;
    predict_msg q;
    predict_msg_init(&q, p);
    ccz_rpc_call_opts o = CCZ_RPC_CALL_OPTS_INIT;
    o.deadline_ms = p->deadline_ms;
    ProtobufCMessage *resp = NULL;
    CHECK_OK(ccz_rpc_unary(ch, &resp, &p->st, "/tensorflow.serving.PredictionService/Predict",
                           &q.rq.base, &tensorflow__serving__predict_response__descriptor, &o));
    p->first = -1000;
    const Tensorflow__Serving__PredictResponse *rs = (const void *)resp;
    if (rs && rs->n_outputs && rs->outputs[0]->value &&
        rs->outputs[0]->value->tensor_content.len >= sizeof(float))
        memcpy(&p->first, rs->outputs[0]->value->tensor_content.data, sizeof(float));
    if (resp)
        protobuf_c_message_free_unpacked(resp, NULL);
    ccz_rpc_channel_free(ch);
}

static void *grpc_predict_thread(void *arg)
{
    grpc_predict(arg);
    return NULL;
}

/* GetModelMetadata asks for fields: none, or one other than signature_def, is refused
 * INVALID_ARGUMENT naming it; signature_def is answered packed in an Any of its type. */
static void test_grpc_metadata_fields(void)
{
    pthread_t t;
    ccz_serving *sv = serving_start(&t, NULL, "127.0.0.1:0");
    if (!sv)
        return;
    char target[64];
    snprintf(target, sizeof target, "127.0.0.1:%d", ccz_serving_grpc_port(sv));
    ccz_rpc_channel_opts co = CCZ_RPC_CHANNEL_OPTS_INIT;
    ccz_rpc_channel *ch = NULL;
    CHECK_OK(ccz_rpc_channel_new(&ch, target, &co));
    static const struct {
        size_t n;
        const char *field;
        int code;
        const char *text;
    } cases[] = {
        {0, "", CCZ_RPC_INVALID_ARGUMENT,
         "GetModelMetadataRequest must specify at least one metadata_field"},
        {1, "other", CCZ_RPC_INVALID_ARGUMENT, "Metadata field other is not supported"},
        {1, "signature_def", CCZ_RPC_OK, ""},
    };
    for (size_t i = 0; ch && i < CCZ_ARRAY_LEN(cases); i++) {
        Tensorflow__Serving__ModelSpec spec = TENSORFLOW__SERVING__MODEL_SPEC__INIT;
        spec.name = "relu";
        char *fields[1] = {(char *)cases[i].field};
        Tensorflow__Serving__GetModelMetadataRequest rq =
            TENSORFLOW__SERVING__GET_MODEL_METADATA_REQUEST__INIT;
        rq.model_spec = &spec;
        rq.n_metadata_field = cases[i].n;
        rq.metadata_field = fields;
        ccz_rpc_call_opts o = CCZ_RPC_CALL_OPTS_INIT;
        ProtobufCMessage *resp = NULL;
        ccz_rpc_status st = {0};
        CHECK_OK(ccz_rpc_unary(ch, &resp, &st,
                               "/tensorflow.serving.PredictionService/GetModelMetadata", &rq.base,
                               &tensorflow__serving__get_model_metadata_response__descriptor, &o));
        CHECK_INT(st.code, cases[i].code);
        CHECK_CONTAINS(st.message ? st.message : "", cases[i].text);
        const Tensorflow__Serving__GetModelMetadataResponse *rs = (const void *)resp;
        if (cases[i].code == CCZ_RPC_OK) {
            CHECK(rs && rs->n_metadata == 1);
            if (rs && rs->n_metadata == 1) {
                CHECK_STR(rs->metadata[0]->key, "signature_def");
                CHECK_STR(rs->metadata[0]->value->type_url,
                          "type.googleapis.com/tensorflow.serving.SignatureDefMap");
                /* the input's shape: the batch unknown (-1), then the model's dims */
                const ProtobufCBinaryData *v = &rs->metadata[0]->value->value;
                Tensorflow__Serving__SignatureDefMap *map =
                    tensorflow__serving__signature_def_map__unpack(NULL, v->len, v->data);
                CHECK(map && map->n_signature_def == 1 &&
                      map->signature_def[0]->value->n_inputs == 1);
                if (map && map->n_signature_def == 1 &&
                    map->signature_def[0]->value->n_inputs == 1) {
                    const Tensorflow__Serving__TensorInfo *ti =
                        map->signature_def[0]->value->inputs[0]->value;
                    CHECK_STR(ti->name, "X:0");
                    CHECK(ti->tensor_shape && ti->tensor_shape->n_dim == 2);
                    if (ti->tensor_shape && ti->tensor_shape->n_dim == 2) {
                        CHECK_INT(ti->tensor_shape->dim[0]->size, -1);
                        CHECK_INT(ti->tensor_shape->dim[1]->size, 3);
                    }
                }
                if (map)
                    tensorflow__serving__signature_def_map__free_unpacked(map, NULL);
            }
        }
        if (resp)
            protobuf_c_message_free_unpacked(resp, NULL);
        ccz_rpc_status_free(&st);
    }
    ccz_rpc_channel_free(ch);
    serving_stop(sv, t);
}

/* An answer larger than a gRPC message is refused before its inference runs, with
 * RESOURCE_EXHAUSTED; one that fits is answered. */
static void test_grpc_answer_over_limit(void)
{
    ccz_serving_opts o = CCZ_SERVING_OPTS_INIT;
    o.grpc_listen = "127.0.0.1:0";
    o.max_body = 64u << 10;
    pthread_t t;
    ccz_serving *sv = serving_start_opts(&t, &o);
    if (!sv)
        return;
    predict_call p = {ccz_serving_grpc_port(sv), "relu", 6000, 3, 0, 2.5f, {0}, 0};
    grpc_predict(&p);
    CHECK_INT(p.st.code, CCZ_RPC_RESOURCE_EXHAUSTED);
    CHECK_STR(p.st.message, "the answer to 6000 rows would take 72449 bytes; a message may hold "
                            "65536");
    ccz_rpc_status_free(&p.st);
    predict_call ok = {ccz_serving_grpc_port(sv), "relu", 100, 3, 0, 2.5f, {0}, 0};
    grpc_predict(&ok);
    CHECK_INT(ok.st.code, CCZ_RPC_OK);
    CHECK(ok.first == 2.5f);
    ccz_rpc_status_free(&ok.st);
    serving_stop(sv, t);
}

/* REST answers are bounded by --max-body as gRPC's are: one that cannot fit (two bytes a value
 * at the least) is refused before it runs, one that turns out larger when written is refused
 * then, and one that fits is answered. The wide model answers 256 values a row ("0.5,"). */
static void test_rest_answer_over_limit(void)
{
    ccz_serving_opts o = CCZ_SERVING_OPTS_INIT;
    o.rest_listen = "127.0.0.1:0";
    o.max_body = 64u << 10;
    pthread_t t;
    ccz_serving *sv = serving_start_opts(&t, &o);
    if (!sv)
        return;
    static char answer[1 << 17];
    char body[800];
    static const struct {
        int rows, code;
        const char *text;
    } cases[] = {
        {150, 400,
         "the answer to 150 rows would take at least 76800 bytes; an answer may hold 65536 "
         "(--max-body): ask for fewer rows"},
        {100, 400,
         "the answer to 100 rows takes more than 65536 bytes (--max-body): ask for "
         "fewer rows"},
        {50, 200, "{\"predictions\":[[0.5,0.5,"},
    };
    for (size_t k = 0; k < CCZ_ARRAY_LEN(cases); k++) {
        int n = snprintf(body, sizeof body, "{\"instances\": [");
        for (int i = 0; i < cases[k].rows; i++)
            n += snprintf(body + n, sizeof body - (size_t)n, "%s[1]", i ? "," : "");
        snprintf(body + n, sizeof body - (size_t)n, "]}");
        post(answer, sizeof answer, ccz_serving_rest_port(sv), "/v1/models/wide:predict", body);
        char code[32];
        snprintf(code, sizeof code, "HTTP/1.1 %d", cases[k].code);
        CHECK_CONTAINS(answer, code);
        CHECK_CONTAINS(answer, cases[k].text);
    }
    serving_stop(sv, t);
}

/* A request whose model's intermediate buffers would pass the queue bound is refused before
 * anything is allocated (the wide model: 4 + 1024 bytes of input and output a row, and 1024 of
 * intermediate buffers: 3000 rows fit 4 MiB without them, not with them). */
static void test_grpc_workspace_bounded(void)
{
    ccz_serving_opts o = CCZ_SERVING_OPTS_INIT;
    o.grpc_listen = "127.0.0.1:0";
    o.max_queued = 4u << 20;
    pthread_t t;
    ccz_serving *sv = serving_start_opts(&t, &o);
    if (!sv)
        return;
    predict_call p = {ccz_serving_grpc_port(sv), "wide", 3000, 1, 0, 1.0f, {0}, 0};
    grpc_predict(&p);
    CHECK_INT(p.st.code, CCZ_RPC_RESOURCE_EXHAUSTED);
    CHECK_STR(p.st.message, "the request holds 3000 rows (2052 bytes a row of inputs, outputs and "
                            "the model's intermediate buffers); at most 1048576 rows and 4194304 "
                            "bytes are taken");
    ccz_rpc_status_free(&p.st);
    predict_call ok = {ccz_serving_grpc_port(sv), "wide", 1000, 1, 0, 1.0f, {0}, 0};
    grpc_predict(&ok);
    CHECK_INT(ok.st.code, CCZ_RPC_OK);
    CHECK(ok.first == 0.5f);
    ccz_rpc_status_free(&ok.st);
    serving_stop(sv, t);
}

/* A call whose deadline passed while it was queued is not run: the batch after it holds only
 * the next request's rows (by the metrics). */
static void test_grpc_expired_not_run(void)
{
    ccz_serving_opts o = CCZ_SERVING_OPTS_INIT;
    o.grpc_listen = o.rest_listen = "127.0.0.1:0";
    o.batch_timeout_us = 300000;
    pthread_t t;
    ccz_serving *sv = serving_start_opts(&t, &o);
    if (!sv)
        return;
    predict_call late = {ccz_serving_grpc_port(sv), "relu", 10, 3, 50, 1.0f, {0}, 0};
    grpc_predict(&late);
    CHECK_INT(late.st.code, CCZ_RPC_DEADLINE_EXCEEDED);
    ccz_rpc_status_free(&late.st);
    predict_call ok = {ccz_serving_grpc_port(sv), "relu", 2, 3, 0, 2.5f, {0}, 0};
    grpc_predict(&ok);
    CHECK_INT(ok.st.code, CCZ_RPC_OK);
    CHECK(ok.first == 2.5f);
    ccz_rpc_status_free(&ok.st);
    char answer[8192];
    get(answer, sizeof answer, ccz_serving_rest_port(sv), "/metrics");
    CHECK_CONTAINS(answer, "ccz_serving_requests_total{model=\"relu\",version=\"1\"} 2\n");
    CHECK_CONTAINS(answer, "ccz_serving_batch_rows_total{model=\"relu\",version=\"1\"} 2\n");
    serving_stop(sv, t);
}

static ssize_t fd_send(nghttp2_session *h, const uint8_t *d, size_t n, int flags, void *u)
{
    (void)h, (void)flags;
    ssize_t w = write(*(int *)u, d, n);
    return w < 0 ? NGHTTP2_ERR_CALLBACK_FAILURE : w;
}

/* Whether the metrics of sv's REST listener hold line (polled up to 5 s). */
static bool metrics_show(ccz_serving *sv, const char *line)
{
    char answer[8192];
    for (int i = 0; i < 500; i++) {
        get(answer, sizeof answer, ccz_serving_rest_port(sv), "/metrics");
        if (strstr(answer, line))
            return true;
        usleep(10000);
    }
    fprintf(stderr, "%s: no \"%s\" in %s\n", test_name, line, answer);
    return false;
}

/* A call whose client disconnected while it was queued is not run (its batch waits 1 s for
 * company; the client sends it and leaves): the batch holds only the next request's rows. */
static void test_grpc_disconnected_not_run(void)
{
    ccz_serving_opts o = CCZ_SERVING_OPTS_INIT;
    o.grpc_listen = o.rest_listen = "127.0.0.1:0";
    o.batch_timeout_us = 1000000;
    pthread_t t;
    ccz_serving *sv = serving_start_opts(&t, &o);
    if (!sv)
        return;
    predict_call leaver_call = {ccz_serving_grpc_port(sv), "relu", 10, 3, 0, 1.0f, {0}, 0};
    predict_msg q;
    predict_msg_init(&q, &leaver_call);
    char target[32];
    snprintf(target, sizeof target, "127.0.0.1:%d", ccz_serving_grpc_port(sv));
    CHECK(h2_call_and_leave(target, "/tensorflow.serving.PredictionService/Predict", &q.rq.base,
                            5000));
    CHECK(metrics_show(sv, "ccz_serving_requests_total{model=\"relu\",version=\"1\"} 1\n"));
    predict_call ok = {ccz_serving_grpc_port(sv), "relu", 2, 3, 0, 2.5f, {0}, 0};
    grpc_predict(&ok);
    CHECK_INT(ok.st.code, CCZ_RPC_OK);
    CHECK(ok.first == 2.5f);
    ccz_rpc_status_free(&ok.st);
    CHECK(metrics_show(sv, "ccz_serving_batch_rows_total{model=\"relu\",version=\"1\"} 2\n"));
    serving_stop(sv, t);
}

/* A raw client's streams 1, 3, 5, ... in slots 0, 1, 2, ...: their grpc-status (-1: none yet)
 * and grpc-message, and whether the server acknowledged a PING (it had read all before it). */
#define FLOOD 16
typedef struct {
    int fd; /* first: fd_send writes to the descriptor its user data points to */
    int status[FLOOD];
    char message[FLOOD][200];
    bool pinged;
} flooder;

static int flood_header(nghttp2_session *h, const nghttp2_frame *fr, const uint8_t *name, size_t nl,
                        const uint8_t *value, size_t vl, uint8_t flags, void *u)
{
    (void)h, (void)flags;
    flooder *f = u;
    size_t i = (size_t)fr->hd.stream_id / 2 % FLOOD; /* stream 2 * FLOOD + 1: slot 0 again */
    if (nl == 11 && !memcmp(name, "grpc-status", 11))
        f->status[i] = atoi((const char *)value);
    else if (nl == 12 && !memcmp(name, "grpc-message", 12))
        snprintf(f->message[i], sizeof f->message[i], "%.*s", (int)vl, value);
    return 0;
}

static int flood_frame(nghttp2_session *h, const nghttp2_frame *fr, void *u)
{
    (void)h;
    if (fr->hd.type == NGHTTP2_PING && (fr->hd.flags & NGHTTP2_FLAG_ACK))
        ((flooder *)u)->pinged = true;
    return 0;
}

/* Reads and sends for up to ms, until done(f) holds. */
static void flood_until(flooder *f, nghttp2_session *h2, bool (*done)(const flooder *), int ms)
{
    uint8_t buf[16384];
    for (int waited = 0; waited < ms && !done(f);) {
        CHECK_INT(nghttp2_session_send(h2), 0);
        struct pollfd pf = {f->fd, POLLIN, 0};
        if (poll(&pf, 1, 20) <= 0) {
            waited += 20;
            continue;
        }
        ssize_t n = recv(f->fd, buf, sizeof buf, 0);
        if (n <= 0)
            return;
        CHECK((ssize_t)nghttp2_session_mem_recv(h2, buf, (size_t)n) == n);
    }
}

static bool flood_pinged(const flooder *f)
{
    return f->pinged;
}

static bool flood_first_answered(const flooder *f)
{
    return f->status[0] >= 0;
}

static bool flood_answered(const flooder *f)
{
    for (int i = 0; i < FLOOD; i++)
        if (f->status[i] < 0)
            return false;
    return true;
}

/* p's PredictRequest as a gRPC message (the 5-byte prefix, then the protobuf) in framed (256
 * bytes); its length. */
static size_t predict_framed(uint8_t *framed, predict_call p)
{
    predict_msg q;
    predict_msg_init(&q, &p);
    size_t n = protobuf_c_message_get_packed_size(&q.rq.base);
    CHECK(5 + n <= 256);
    framed[0] = 0;
    for (int i = 0; i < 4; i++)
        framed[1 + i] = (uint8_t)(n >> (24 - 8 * i));
    protobuf_c_message_pack(&q.rq.base, framed + 5);
    return 5 + n;
}

/* A raw HTTP/2 connection to the gRPC port for f (its statuses unset), with or without
 * f's header callback. */
static nghttp2_session *flood_open(flooder *f, int port, bool headers)
{
    *f = (flooder){.fd = socket(AF_INET, SOCK_STREAM, 0)};
    for (int i = 0; i < FLOOD; i++)
        f->status[i] = -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(connect(f->fd, (struct sockaddr *)&a, sizeof a) == 0);
    h2_client_callbacks cb = {.send = fd_send, .frame = flood_frame};
    if (headers)
        cb.header = flood_header;
    return h2_client_new(&cb, f, NULL, 0);
}

/* Submits a Predict whose body is *b; its stream id. */
static int32_t flood_submit(nghttp2_session *h2, h2_body *b)
{
    nghttp2_nv nv[6];
    size_t nh =
        h2_grpc_headers(nv, "/tensorflow.serving.PredictionService/Predict", "application/grpc");
    nghttp2_data_provider prd = {.source.ptr = b, .read_callback = h2_body_read};
    return nghttp2_submit_request(h2, NULL, nv, nh, &prd, NULL);
}

/* The slot flood_slot_answered waits for. */
static int flood_slot;

static bool flood_slot_answered(const flooder *f)
{
    return f->status[flood_slot] >= 0;
}

/* Submits a Predict of rows x cols values to model on h2 (stream 2 slot + 1, in slot), its body
 * kept in *b and *framed, and pumps until it is answered, or for up to ms when it waits. */
static void flood_one(flooder *f, nghttp2_session *h2, int slot, predict_call p, uint8_t *framed,
                      h2_body *b, int ms)
{
    *b = (h2_body){framed, predict_framed(framed, p)};
    CHECK(flood_submit(h2, b) == 2 * slot + 1);
    f->status[slot] = -1;
    f->pinged = false;
    CHECK_INT(nghttp2_submit_ping(h2, NGHTTP2_FLAG_NONE, NULL), 0);
    flood_slot = slot;
    flood_until(f, h2, ms ? flood_pinged : flood_slot_answered, ms ? ms : 3000);
}

/* A connection whose earlier job is answered while another stays queued: only the queued one's
 * bytes still count. A Wide job of 511 rows (2044 bytes) waits for company (10 s), a Relu job
 * of 21675 rows (260100 bytes: the two exactly the connection's 262144) is answered at once
 * (a full batch); a second such job is accepted again, to the byte; beside one more Wide job of
 * one row (4 bytes), a third is refused, by the 2048 bytes still queued. */
static void connection_share_answered(void)
{
    ccz_serving_opts o = CCZ_SERVING_OPTS_INIT;
    o.grpc_listen = "127.0.0.1:0";
    o.max_queued = 1u << 20;
    o.batch_max_rows = 21675;
    o.batch_timeout_us = 10000000;
    pthread_t t;
    ccz_serving *sv = serving_start_opts(&t, &o);
    if (!sv)
        return;
    int port = ccz_serving_grpc_port(sv);
    flooder f;
    nghttp2_session *h2 = flood_open(&f, port, true);
    static uint8_t framed[5][256];
    static h2_body b[5];
    predict_call wide = {port, "wide", 511, 1, 0, 1.0f, {0}, 0};
    predict_call relu = {port, "relu", 21675, 3, 0, 1.0f, {0}, 0};
    flood_one(&f, h2, 0, wide, framed[0], &b[0], 2000); /* queued: read before the PING's ack */
    CHECK(f.pinged);
    CHECK_INT(f.status[0], -1);
    flood_one(&f, h2, 1, relu, framed[1], &b[1], 0);
    CHECK_INT(f.status[1], CCZ_RPC_OK);
    flood_one(&f, h2, 2, relu, framed[2], &b[2], 0); /* 2044 + 260100 bytes: the share */
    CHECK_INT(f.status[2], CCZ_RPC_OK);
    CHECK_STR(f.message[2], "");
    wide.rows = 1;
    flood_one(&f, h2, 3, wide, framed[3], &b[3], 2000);
    CHECK_INT(f.status[3], -1);
    flood_one(&f, h2, 4, relu, framed[4], &b[4], 0); /* 2048 + 260100 bytes: past it */
    CHECK_INT(f.status[4], CCZ_RPC_RESOURCE_EXHAUSTED);
    CHECK_STR(f.message[4], "this connection has 2 requests queued (2048 bytes of inputs); a "
                            "connection may hold 128 and 262144 bytes");
    CHECK_INT(f.status[0], -1); /* the Wide jobs still wait */
    nghttp2_session_del(h2);
    close(f.fd);
    serving_stop(sv, t);
}

/* One connection's streams cannot take the queue that every client shares: a client that
 * sends 16 Predicts of 8192 rows (98304 bytes of inputs each, ten of them a 1 MiB queue's
 * worth, with small messages: float_val of one value) on one connection has two of them queued
 * (a quarter of the queue) and the rest refused RESOURCE_EXHAUSTED, while a client on another
 * connection is queued and answered with them (the batch waits 1 s for company); once they
 * are answered the flooder's next call is queued again. */
static void test_grpc_connection_share(void)
{
    ccz_serving_opts o = CCZ_SERVING_OPTS_INIT;
    o.grpc_listen = "127.0.0.1:0";
    o.max_queued = 1u << 20;
    o.batch_max_rows = 1u << 21;
    o.batch_timeout_us = 1000000;
    pthread_t t;
    ccz_serving *sv = serving_start_opts(&t, &o);
    if (!sv)
        return;
    predict_call big = {ccz_serving_grpc_port(sv), "relu", 8192, 3, 0, 1.0f, {0}, 0};
    uint8_t framed[256];
    size_t len = predict_framed(framed, big);
    flooder f;
    nghttp2_session *h2 = flood_open(&f, big.port, true);
    h2_body b[FLOOD];
    for (int i = 0; i < FLOOD; i++) {
        b[i] = (h2_body){framed, len};
        CHECK(flood_submit(h2, &b[i]) == 2 * i + 1);
    }
    CHECK_INT(nghttp2_submit_ping(h2, NGHTTP2_FLAG_NONE, NULL), 0);
    flood_until(&f, h2, flood_pinged, 2000); /* the server has read (and queued) every call */
    CHECK(f.pinged);
    predict_call ok = {big.port, "relu", 6000, 3, 0, 2.5f, {0}, 0};
    grpc_predict(&ok);
    CHECK_INT(ok.st.code, CCZ_RPC_OK);
    CHECK(ok.first == 2.5f);
    ccz_rpc_status_free(&ok.st);
    flood_until(&f, h2, flood_answered, 3000);
    int served = 0, refused = 0;
    for (int i = 0; i < FLOOD; i++) {
        served += f.status[i] == CCZ_RPC_OK;
        if (f.status[i] == CCZ_RPC_RESOURCE_EXHAUSTED) {
            refused++;
            CHECK_STR(f.message[i], "this connection has 2 requests queued (196608 bytes of "
                                    "inputs); a connection may hold 128 and 262144 bytes");
        }
    }
    CHECK_INT(served, 2);
    CHECK_INT(refused, FLOOD - 2);
    /* answered, its calls no longer count: the connection's next one is queued and answered */
    b[0] = (h2_body){framed, len};
    CHECK(flood_submit(h2, &b[0]) == 2 * FLOOD + 1);
    f.status[0] = -1;
    flood_until(&f, h2, flood_first_answered, 3000);
    CHECK_INT(f.status[0], CCZ_RPC_OK);
    nghttp2_session_del(h2);
    close(f.fd);
    serving_stop(sv, t);
    connection_share_answered();
}

/* More connections with jobs queued than the server's first table of them holds (16; grown to 32
 * and 64): 33 connections each queue a Relu job of one row (12 bytes; the batch of 34 rows waits
 * 10 s for company); the 33rd connection's share is still its own, so a job that would take it
 * past its 262144 bytes is refused with its count; one more row fills the batch, and every job
 * queued is answered. */
static void test_grpc_many_connections(void)
{
    enum { CONNS = 33 };
    ccz_serving_opts o = CCZ_SERVING_OPTS_INIT;
    o.grpc_listen = o.rest_listen = "127.0.0.1:0";
    o.max_queued = 1u << 20;
    o.batch_max_rows = CONNS + 1;
    o.batch_timeout_us = 10000000;
    pthread_t t;
    ccz_serving *sv = serving_start_opts(&t, &o);
    if (!sv)
        return;
    int port = ccz_serving_grpc_port(sv);
    static flooder f[CONNS];
    static nghttp2_session *h2[CONNS];
    static uint8_t framed[CONNS + 2][256];
    static h2_body b[CONNS + 2];
    predict_call one = {port, "relu", 1, 3, 0, 2.0f, {0}, 0};
    for (int c = 0; c < CONNS; c++) {
        h2[c] = flood_open(&f[c], port, true);
        flood_one(&f[c], h2[c], 0, one, framed[c], &b[c], 2000);
        CHECK(f[c].pinged);
        CHECK_INT(f[c].status[0], -1);
    }
    predict_call big = {port, "relu", 21845, 3, 0, 1.0f, {0}, 0}; /* 262140 bytes */
    flood_one(&f[CONNS - 1], h2[CONNS - 1], 1, big, framed[CONNS], &b[CONNS], 0);
    CHECK_INT(f[CONNS - 1].status[1], CCZ_RPC_RESOURCE_EXHAUSTED);
    CHECK_STR(f[CONNS - 1].message[1], "this connection has 1 requests queued (12 bytes of "
                                       "inputs); a connection may hold 128 and 262144 bytes");
    flood_one(&f[0], h2[0], 1, one, framed[CONNS + 1], &b[CONNS + 1], 0);
    CHECK_INT(f[0].status[1], CCZ_RPC_OK);
    for (int c = 0; c < CONNS; c++) {
        flood_slot = 0;
        flood_until(&f[c], h2[c], flood_slot_answered, 3000);
        CHECK_INT(f[c].status[0], CCZ_RPC_OK);
        nghttp2_session_del(h2[c]);
        close(f[c].fd);
    }
    CHECK(metrics_show(sv, "ccz_serving_batch_rows_total{model=\"relu\",version=\"1\"} 34\n"));
    serving_stop(sv, t);
}

/* A connection that leaves the table of queued connections (its jobs answered) takes only its
 * own entry out: the next one's queued bytes still count. Connection A queues a Relu job of one
 * row (the batch of 21675 rows waits 10 s for company), then B a Wide job of 511 rows (2044
 * bytes, waiting too); A's job of 21674 rows fills the batch and both of A's jobs are answered;
 * B's Relu job of 21676 rows (260112 bytes) would take it past its 262144 bytes, and is refused
 * with B's count. */
static void test_grpc_connection_left(void)
{
    ccz_serving_opts o = CCZ_SERVING_OPTS_INIT;
    o.grpc_listen = "127.0.0.1:0";
    o.max_queued = 1u << 20;
    o.batch_max_rows = 21675;
    o.batch_timeout_us = 10000000;
    pthread_t t;
    ccz_serving *sv = serving_start_opts(&t, &o);
    if (!sv)
        return;
    int port = ccz_serving_grpc_port(sv);
    flooder a, b;
    nghttp2_session *ha = flood_open(&a, port, true), *hb = flood_open(&b, port, true);
    static uint8_t framed[4][256];
    static h2_body body[4];
    predict_call one = {port, "relu", 1, 3, 0, 1.0f, {0}, 0};
    predict_call wide = {port, "wide", 511, 1, 0, 1.0f, {0}, 0};
    predict_call rest = {port, "relu", 21674, 3, 0, 1.0f, {0}, 0};
    predict_call over = {port, "relu", 21676, 3, 0, 1.0f, {0}, 0};
    flood_one(&a, ha, 0, one, framed[0], &body[0], 2000);
    CHECK_INT(a.status[0], -1);
    flood_one(&b, hb, 0, wide, framed[1], &body[1], 2000);
    CHECK_INT(b.status[0], -1);
    flood_one(&a, ha, 1, rest, framed[2], &body[2], 0);
    CHECK_INT(a.status[1], CCZ_RPC_OK);
    flood_slot = 0;
    flood_until(&a, ha, flood_slot_answered, 3000);
    CHECK_INT(a.status[0], CCZ_RPC_OK);
    flood_one(&b, hb, 1, over, framed[3], &body[3], 0);
    CHECK_INT(b.status[1], CCZ_RPC_RESOURCE_EXHAUSTED);
    CHECK_STR(b.message[1], "this connection has 1 requests queued (2044 bytes of inputs); a "
                            "connection may hold 128 and 262144 bytes");
    CHECK_INT(b.status[0], -1); /* the Wide job still waits */
    nghttp2_session_del(ha);
    nghttp2_session_del(hb);
    close(a.fd);
    close(b.fd);
    serving_stop(sv, t);
}

/* The streams' cap does not bound what a connection queues: a client that resets each Predict
 * once it is sent (its job stays queued until its batch, which waits 1 s for company) could
 * queue any number on one connection; 200 such calls have 128 queued, the rest refused. */
static void test_grpc_connection_jobs(void)
{
    ccz_serving_opts o = CCZ_SERVING_OPTS_INIT;
    o.grpc_listen = o.rest_listen = "127.0.0.1:0";
    o.batch_max_rows = 1u << 21;
    o.batch_timeout_us = 1000000;
    pthread_t t;
    ccz_serving *sv = serving_start_opts(&t, &o);
    if (!sv)
        return;
    predict_call one = {ccz_serving_grpc_port(sv), "relu", 1, 3, 0, 1.0f, {0}, 0};
    uint8_t framed[256];
    size_t len = predict_framed(framed, one);
    flooder f;
    nghttp2_session *h2 = flood_open(&f, one.port, false);
    for (int i = 0; i < 200; i++) {
        h2_body b = {framed, len};
        int32_t id = flood_submit(h2, &b);
        CHECK(id > 0);
        CHECK_INT(nghttp2_session_send(h2), 0);
        CHECK_INT(nghttp2_submit_rst_stream(h2, NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL), 0);
        CHECK_INT(nghttp2_session_send(h2), 0);
    }
    CHECK_INT(nghttp2_submit_ping(h2, NGHTTP2_FLAG_NONE, NULL), 0);
    flood_until(&f, h2, flood_pinged, 2000); /* the server has read every call */
    CHECK(f.pinged);
    CHECK(metrics_show(sv, "ccz_serving_requests_total{model=\"relu\",version=\"1\"} 128\n"));
    nghttp2_session_del(h2);
    close(f.fd);
    serving_stop(sv, t);
}

/* Requests queued together whose rows pass the engine's 2^20 (with --batch-max above it) run in
 * batches of their own rather than failing together. */
static void test_grpc_batches_within_engine_limit(void)
{
    ccz_serving_opts o = CCZ_SERVING_OPTS_INIT;
    o.grpc_listen = "127.0.0.1:0";
    o.batch_max_rows = 1u << 21;
    o.batch_timeout_us = 1000000;
    pthread_t t, c[2];
    ccz_serving *sv = serving_start_opts(&t, &o);
    if (!sv)
        return;
    predict_call p[2] = {{ccz_serving_grpc_port(sv), "relu", (1 << 19) + 1, 3, 0, 1.5f, {0}, 0},
                         {ccz_serving_grpc_port(sv), "relu", (1 << 19) + 1, 3, 0, 2.5f, {0}, 0}};
    for (int k = 0; k < 2; k++)
        test_thread(&c[k], grpc_predict_thread, &p[k]);
    for (int k = 0; k < 2; k++) {
        pthread_join(c[k], NULL);
        if (p[k].st.code != CCZ_RPC_OK)
            fprintf(stderr, "%s: call %d: %s\n", test_name, k, p[k].st.message);
        CHECK_INT(p[k].st.code, CCZ_RPC_OK);
        CHECK(p[k].first == p[k].v);
        ccz_rpc_status_free(&p[k].st);
    }
    serving_stop(sv, t);
}

/* A call still queued when the server stops is answered UNAVAILABLE (its batch would wait 5 s
 * for company; the grace is 400 ms), not cut off with its connection. */
static void test_grpc_queued_at_shutdown(void)
{
    ccz_serving_opts o = CCZ_SERVING_OPTS_INIT;
    o.grpc_listen = o.rest_listen = "127.0.0.1:0";
    o.batch_timeout_us = 5000000;
    pthread_t t, c;
    ccz_serving *sv = serving_start_opts(&t, &o);
    if (!sv)
        return;
    predict_call p = {ccz_serving_grpc_port(sv), "relu", 1, 3, 0, 1.0f, {0}, 0};
    test_thread(&c, grpc_predict_thread, &p);
    CHECK(metrics_show(sv, "ccz_serving_requests_total{model=\"relu\",version=\"1\"} 1\n"));
    ccz_serving_shutdown(sv, 400);
    void *rc = NULL;
    pthread_join(t, &rc);
    CHECK_INT((ccz_status)(intptr_t)rc, CCZ_OK);
    ccz_serving_free(sv); /* the connection closes at the latest here */
    pthread_join(c, NULL);
    CHECK_INT(p.st.code, CCZ_RPC_UNAVAILABLE);
    CHECK_STR(p.st.message, "the server is stopping");
    ccz_rpc_status_free(&p.st);
}

/* Failures map to the protocols' codes: what the client sent is its fault (4xx,
 * INVALID_ARGUMENT), a failing inference or the server's own failure is not (5xx, INTERNAL). */
static void test_status_codes(void)
{
    static const struct {
        ccz_status st;
        bool ran;
        int http, grpc;
    } cases[] = {
        {CCZ_ERR_INVALID_ARGUMENT, false, 400, CCZ_RPC_INVALID_ARGUMENT},
        {CCZ_ERR_JSON, false, 400, CCZ_RPC_INVALID_ARGUMENT},
        {CCZ_ERR_TOO_LARGE, false, 400, CCZ_RPC_RESOURCE_EXHAUSTED},
        {CCZ_ERR_NOT_FOUND, false, 404, CCZ_RPC_NOT_FOUND},
        {CCZ_ERR_UNSUPPORTED, false, 501, CCZ_RPC_UNIMPLEMENTED},
        {CCZ_ERR_UNAVAILABLE, false, 503, CCZ_RPC_UNAVAILABLE},
        {CCZ_ERR_NOMEM, false, 500, CCZ_RPC_RESOURCE_EXHAUSTED},
        {CCZ_ERR_IO, false, 500, CCZ_RPC_INTERNAL},
        {CCZ_ERR_CRYPTO, false, 500, CCZ_RPC_INTERNAL},
        {CCZ_ERR_INVALID_ARGUMENT, true, 500, CCZ_RPC_INTERNAL},
        {CCZ_ERR_MALFORMED, true, 500, CCZ_RPC_INTERNAL},
        {CCZ_ERR_UNSUPPORTED, true, 500, CCZ_RPC_INTERNAL},
        {CCZ_ERR_NOMEM, true, 500, CCZ_RPC_RESOURCE_EXHAUSTED},
        {CCZ_ERR_UNAVAILABLE, true, 503, CCZ_RPC_UNAVAILABLE},
    };
    for (size_t i = 0; i < CCZ_ARRAY_LEN(cases); i++) {
        if (sv_rest_code(cases[i].st, cases[i].ran) != cases[i].http ||
            sv_grpc_code(cases[i].st, cases[i].ran) != cases[i].grpc)
            fprintf(stderr, "%s: case %zu\n", test_name, i);
        CHECK_INT(sv_rest_code(cases[i].st, cases[i].ran), cases[i].http);
        CHECK_INT(sv_grpc_code(cases[i].st, cases[i].ran), cases[i].grpc);
    }
}

/* ---- the batcher's bookkeeping -----------------------------------------------------------------*/

static pthread_mutex_t got_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t got_cv = PTHREAD_COND_INITIALIZER;
static size_t n_got;
static sv_job *leaver; /* marked gone by the hook, once the batch has read who is wanted */

static void got(sv_job *j)
{
    (void)j;
    pthread_mutex_lock(&got_mu);
    n_got++;
    pthread_cond_broadcast(&got_cv);
    pthread_mutex_unlock(&got_mu);
}

static void leave_mid_batch(sv_job *first, size_t n_jobs)
{
    (void)first, (void)n_jobs;
    if (leaver)
        atomic_store(&leaver->gone, true);
}

/* The Relu model's batcher (a batch of n rows waits up to 10 s for them); jobs[k] of one row
 * of three values k + 1, the ones in gone[] gone before they are queued, those in late[] past
 * their deadline, jobs[leave] (if < n) gone while its batch runs; returns once every job is
 * delivered. */
static void run_one_batch(sv_server *s, sv_job **jobs, size_t n, const bool *gone, const bool *late,
                          size_t leave)
{
    ccz_serving_model spec = {"relu", model_path, 1, NULL};
    *s = (sv_server){.o = CCZ_SERVING_OPTS_INIT};
    s->o.models = &spec;
    s->o.n_models = 1;
    s->o.batch_max_rows = (unsigned)n;
    s->o.batch_timeout_us = 10000000;
    s->o.max_queued = 1u << 20;
    s->o.threads = 1;
    pthread_mutex_init(&s->lock, NULL);
    CHECK_OK(sv_models_load(s));
    n_got = 0;
    for (size_t k = 0; k < n; k++) {
        CHECK_OK(sv_job_new(&jobs[k], &s->models[0], 1));
        for (size_t i = 0; i < 3; i++) {
            jobs[k]->in[0][i] = (float)(k + 1);
            jobs[k]->out[0][i] = -1;
        }
        jobs[k]->deliver = got;
        atomic_store(&jobs[k]->gone, gone[k]);
        if (late[k])
            jobs[k]->deadline_ms = sv_mono_ms() - 1;
    }
    leaver = leave < n ? jobs[leave] : NULL;
    sv_batch_hook = leave_mid_batch;
    for (size_t k = 0; k < n; k++)
        CHECK_OK(sv_job_submit(jobs[k]));
    pthread_mutex_lock(&got_mu);
    while (n_got < n)
        pthread_cond_wait(&got_cv, &got_mu);
    pthread_mutex_unlock(&got_mu);
    sv_batch_hook = NULL;
}

static void batch_done(sv_server *s, sv_job **jobs, size_t n)
{
    for (size_t k = 0; k < n; k++)
        sv_job_free(jobs[k]);
    sv_models_free(s);
    pthread_mutex_destroy(&s->lock);
}

/* A client leaving while its batch runs: the others still get their own rows (the rows counted,
 * copied in and copied out are the same), not the next one's. */
static void test_batch_leaver_keeps_rows(void)
{
    sv_server s;
    sv_job *jobs[3];
    const bool gone[3] = {false, false, false};
    run_one_batch(&s, jobs, 3, gone, gone, 1);
    for (size_t k = 0; k < 3; k += 2) {
        CHECK_INT(jobs[k]->st, CCZ_OK);
        for (size_t i = 0; i < 3; i++)
            CHECK(jobs[k]->out[0][i] == (float)(k + 1));
    }
    batch_done(&s, jobs, 3);
}

/* The one job still wanted leaving while its batch runs (the other left before): it is run
 * alone, as it was when the batch began. */
static void test_batch_last_leaver(void)
{
    sv_server s;
    sv_job *jobs[2];
    const bool gone[2] = {true, false}, late[2] = {false, false};
    run_one_batch(&s, jobs, 2, gone, late, 1);
    CHECK_INT(jobs[1]->st, CCZ_OK);
    for (size_t i = 0; i < 3; i++)
        CHECK(jobs[1]->out[0][i] == 2.0f);
    batch_done(&s, jobs, 2);
}

/* A job past its deadline when its batch begins is not run (and is answered as a failure, not
 * with outputs never written); the others are. */
static void test_batch_late_skipped(void)
{
    sv_server s;
    sv_job *jobs[2];
    const bool gone[2] = {false, false}, late[2] = {true, false};
    run_one_batch(&s, jobs, 2, gone, late, 2);
    for (size_t i = 0; i < 3; i++) {
        CHECK(jobs[0]->out[0][i] == -1.0f);
        CHECK(jobs[1]->out[0][i] == 2.0f);
    }
    CHECK_INT(s.models[0].batch_rows, 1);
    /* delivered as a failure: its outputs were never written */
    CHECK_INT(jobs[0]->st, CCZ_ERR_UNAVAILABLE);
    CHECK_CONTAINS(jobs[0]->error, "the request was not run");
    CHECK_INT(jobs[1]->st, CCZ_OK);
    batch_done(&s, jobs, 2);
}

/* Requests that together fill the batch to exactly its row limit run as one batch, each with
 * its own rows. */
static void test_batch_exactly_full(void)
{
    sv_server s;
    sv_job *jobs[3];
    const bool no[3] = {false, false, false};
    run_one_batch(&s, jobs, 3, no, no, 3);
    for (size_t k = 0; k < 3; k++) {
        CHECK_INT(jobs[k]->st, CCZ_OK);
        for (size_t i = 0; i < 3; i++)
            CHECK(jobs[k]->out[0][i] == (float)(k + 1));
    }
    CHECK_INT(s.models[0].batches, 1);
    CHECK_INT(s.models[0].batch_rows, 3);
    batch_done(&s, jobs, 3);
}

/* s loaded with the n models of spec, one thread, and the batcher's limits as given. */
static void batcher_load(sv_server *s, ccz_serving_model *spec, size_t n, unsigned max_rows,
                         unsigned timeout_us, size_t max_queued)
{
    *s = (sv_server){.o = CCZ_SERVING_OPTS_INIT};
    s->o.models = spec;
    s->o.n_models = n;
    s->o.batch_max_rows = max_rows;
    s->o.batch_timeout_us = timeout_us;
    s->o.max_queued = max_queued;
    s->o.threads = 1;
    pthread_mutex_init(&s->lock, NULL);
    CHECK_OK(sv_models_load(s));
}

/* Jobs answered by sv_models_cancel_queued (the gRPC listener's at shutdown) while the batcher
 * waits for company: once its wait is over it finds the queue empty and waits for the next
 * request (which it runs), not a batch of none. */
static void test_batch_cancelled_while_waiting(void)
{
    ccz_serving_model spec = {"relu", model_path, 1, NULL};
    sv_server s;
    batcher_load(&s, &spec, 1, 64, 50000, 1u << 20);
    n_got = 0;
    sv_job *j[2] = {0};
    for (size_t k = 0; k < 2; k++) {
        CHECK_OK(sv_job_new(&j[k], &s.models[0], 1));
        for (size_t i = 0; i < 3; i++)
            j[k]->in[0][i] = -1.0f + 3.0f * (float)i;
        j[k]->deliver = got;
    }
    CHECK_OK(sv_job_submit(j[0]));
    usleep(10000); /* the batcher is in its wait for company */
    sv_models_cancel_queued(&s, got, "the server is stopping");
    CHECK_INT(n_got, 1);
    CHECK_INT(j[0]->st, CCZ_ERR_UNAVAILABLE);
    CHECK_STR(j[0]->error, "the server is stopping");
    usleep(100000); /* past the end of that wait */
    CHECK_OK(sv_job_submit(j[1]));
    pthread_mutex_lock(&got_mu);
    while (n_got < 2)
        pthread_cond_wait(&got_cv, &got_mu);
    pthread_mutex_unlock(&got_mu);
    CHECK_INT(j[1]->st, CCZ_OK);
    CHECK(j[1]->out[0][0] == 0.0f && j[1]->out[0][1] == 2.0f && j[1]->out[0][2] == 5.0f);
    CHECK_INT(s.models[0].batches, 1);
    CHECK_INT(s.models[0].batch_rows, 1);
    for (size_t k = 0; k < 2; k++)
        sv_job_free(j[k]);
    sv_models_free(&s);
    pthread_mutex_destroy(&s.lock);
}

/* A batch that fills while its first request waits for company runs then, not at the end of
 * the wait (10 s); a name without a version finds the latest of its versions; once the server
 * stops, no request is queued. */
static void test_batch_full_ends_wait(void)
{
    ccz_serving_model spec[2] = {{"relu", model_path, 2, NULL}, {"relu", model_path, 1, NULL}};
    sv_server s;
    batcher_load(&s, spec, 2, 2, 10000000, 1u << 20);
    CHECK(sv_model_find(&s, "relu", 0) == &s.models[0]);
    CHECK(sv_model_find(&s, "relu", 1) == &s.models[1]);
    CHECK(sv_model_find(&s, "relu", 3) == NULL);
    CHECK(sv_model_find(&s, "relux", 0) == NULL);
    n_got = 0;
    sv_job *j[3] = {0};
    for (size_t k = 0; k < 3; k++) {
        CHECK_OK(sv_job_new(&j[k], &s.models[0], 1));
        for (size_t i = 0; i < 3; i++)
            j[k]->in[0][i] = (float)(k + 1);
        j[k]->deliver = got;
    }
    int64_t t0 = sv_mono_ms();
    CHECK_OK(sv_job_submit(j[0]));
    usleep(20000); /* the batcher is in its wait for company */
    CHECK_OK(sv_job_submit(j[1]));
    pthread_mutex_lock(&got_mu);
    while (n_got < 2)
        pthread_cond_wait(&got_cv, &got_mu);
    pthread_mutex_unlock(&got_mu);
    CHECK(sv_mono_ms() - t0 < 5000);
    CHECK_INT(j[0]->st, CCZ_OK);
    CHECK_INT(j[1]->st, CCZ_OK);
    CHECK_INT(s.models[0].batches, 1);
    CHECK_INT(s.models[0].batch_rows, 2);
    pthread_mutex_lock(&s.lock);
    s.stopping = true;
    pthread_mutex_unlock(&s.lock);
    CHECK_STATUS(sv_job_submit(j[2]), CCZ_ERR_UNAVAILABLE);
    CHECK_STR(ccz_error_detail(), "the server is stopping");
    for (size_t k = 0; k < 3; k++)
        sv_job_free(j[k]);
    sv_models_free(&s);
    pthread_mutex_destroy(&s.lock);
}

/* A model version below 1 is refused; a request of no rows, or of more rows than one request
 * may hold, is refused before anything is allocated for it. */
static void test_job_bounds(void)
{
    ccz_serving_model spec = {"relu", model_path, 0, NULL};
    sv_server s = {.o = CCZ_SERVING_OPTS_INIT};
    s.o.models = &spec;
    s.o.n_models = 1;
    s.o.max_queued = 1u << 30;
    pthread_mutex_init(&s.lock, NULL);
    CHECK_STATUS(sv_models_load(&s), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "model relu: version 0; versions start at 1");
    sv_models_free(&s);
    spec.version = 1;
    CHECK_OK(sv_models_load(&s));
    sv_job *j = NULL;
    CHECK_STATUS(sv_job_new(&j, &s.models[0], 0), CCZ_ERR_TOO_LARGE);
    CHECK_CONTAINS(ccz_error_detail(), "the request holds 0 rows");
    CHECK_STATUS(sv_job_new(&j, &s.models[0], SV_MAX_ROWS + 1), CCZ_ERR_TOO_LARGE);
    CHECK_CONTAINS(ccz_error_detail(), "the request holds 1048577 rows");
    CHECK(j == NULL);
    CHECK_OK(sv_job_new(&j, &s.models[0], 2));
    sv_job_free(j);
    sv_models_free(&s);
    pthread_mutex_destroy(&s.lock);
}

/* Queued input is bounded: a request that would take the queue past max_queued is refused
 * UNAVAILABLE (503) with a message saying to try again, and nothing of it is counted. The
 * batcher waits 10 s for a full batch, so the jobs stay queued. */
static void test_queue_full(void)
{
    ccz_serving_model spec = {"relu", model_path, 1, NULL};
    sv_server s;
    batcher_load(&s, &spec, 1, 1u << 20, 10000000, 24000);
    sv_model *m = &s.models[0];
    /* the largest request one job may be: three fit the queue's 24000 bytes of inputs (12 a
     * row), a fourth does not */
    size_t rows = s.o.max_queued / (24 + 4 * m->ws_row_floats);
    sv_job *j[4] = {0};
    for (size_t k = 0; k < 4; k++)
        CHECK_OK(sv_job_new(&j[k], m, rows));
    for (size_t k = 0; k < 3; k++)
        CHECK_OK(sv_job_submit(j[k]));
    CHECK(3 * j[0]->bytes <= s.o.max_queued && 4 * j[0]->bytes > s.o.max_queued);
    CHECK_STATUS(sv_job_submit(j[3]), CCZ_ERR_UNAVAILABLE);
    CHECK_CONTAINS(ccz_error_detail(), "the server holds as many requests as it may (24000 bytes "
                                       "of inputs); try again later");
    CHECK_INT(sv_rest_code(CCZ_ERR_UNAVAILABLE, false), 503);
    pthread_mutex_lock(&s.lock);
    CHECK_INT(s.queued_bytes, 3 * j[0]->bytes);
    CHECK_INT(m->requests, 3);
    pthread_mutex_unlock(&s.lock);
    sv_job_free(j[3]);
    sv_models_free(&s); /* the queued ones too */
    pthread_mutex_destroy(&s.lock);
}

static void got_elsewhere(sv_job *j) /* another front end's deliver */
{
    got(j);
}

/* sv_models_cancel_queued with a front end's deliver answers that front end's queued jobs only
 * and takes their rows and bytes off the queue; with none (every front end's) it answers the
 * rest and the server takes no more. The batcher waits 10 s for a full batch, so the jobs stay
 * queued. */
static void test_cancel_queued_by_front_end(void)
{
    ccz_serving_model spec = {"relu", model_path, 1, NULL};
    sv_server s;
    batcher_load(&s, &spec, 1, 64, 10000000, 1u << 20);
    n_got = 0;
    sv_job *j[4] = {0};
    for (size_t k = 0; k < 4; k++) {
        CHECK_OK(sv_job_new(&j[k], &s.models[0], 1));
        for (size_t i = 0; i < 3; i++)
            j[k]->in[0][i] = (float)(k + 1);
        j[k]->deliver = k == 1 ? got_elsewhere : got;
    }
    CHECK_OK(sv_job_submit(j[0]));
    CHECK_OK(sv_job_submit(j[1]));
    sv_models_cancel_queued(&s, got, "the REST listener is stopping");
    CHECK_INT(n_got, 1);
    CHECK_INT(j[0]->st, CCZ_ERR_UNAVAILABLE);
    CHECK_STR(j[0]->error, "the REST listener is stopping");
    pthread_mutex_lock(&s.lock);
    CHECK_INT(s.queued_bytes, j[1]->bytes);
    CHECK_INT(s.models[0].queued_rows, 1);
    CHECK(!s.stopping);
    pthread_mutex_unlock(&s.lock);
    CHECK_OK(sv_job_submit(j[2])); /* the other front end's are still taken */
    sv_models_cancel_queued(&s, NULL, "the server is stopping");
    CHECK_INT(n_got, 3);
    for (size_t k = 1; k < 3; k++) {
        CHECK_INT(j[k]->st, CCZ_ERR_UNAVAILABLE);
        CHECK_STR(j[k]->error, "the server is stopping");
    }
    pthread_mutex_lock(&s.lock);
    CHECK_INT(s.queued_bytes, 0);
    CHECK_INT(s.models[0].queued_rows, 0);
    pthread_mutex_unlock(&s.lock);
    CHECK_STATUS(sv_job_submit(j[3]), CCZ_ERR_UNAVAILABLE);
    CHECK_STR(ccz_error_detail(), "the server is stopping");
    CHECK_INT(s.models[0].batches, 0);
    for (size_t k = 0; k < 4; k++)
        sv_job_free(j[k]);
    sv_models_free(&s);
    pthread_mutex_destroy(&s.lock);
}

/* A version asked for is that version exactly, wherever it is listed, and none when it is not
 * served; no version is the latest. */
static void test_model_find_exact(void)
{
    ccz_serving_model spec[2] = {{"relu", model_path, 1, NULL}, {"relu", model_path, 3, NULL}};
    sv_server s = {.o = CCZ_SERVING_OPTS_INIT};
    s.o.models = spec;
    s.o.n_models = 2;
    s.o.max_queued = 1u << 20;
    pthread_mutex_init(&s.lock, NULL);
    CHECK_OK(sv_models_load(&s));
    CHECK(sv_model_find(&s, "relu", 1) == &s.models[0]);
    CHECK(sv_model_find(&s, "relu", 2) == NULL);
    CHECK(sv_model_find(&s, "relu", 3) == &s.models[1]);
    CHECK(sv_model_find(&s, "relu", 0) == &s.models[1]);
    sv_models_free(&s);
    pthread_mutex_destroy(&s.lock);
}

/* A request that takes the queue to exactly max_queued bytes of inputs is taken; one byte more
 * is not. */
static void test_queue_exactly_full(void)
{
    ccz_serving_model spec = {"relu", model_path, 1, NULL};
    sv_server s;
    batcher_load(&s, &spec, 1, 1u << 20, 10000000,
                 24000); /* 2000 rows of inputs (12 bytes a row) */
    sv_model *m = &s.models[0];
    size_t per = s.o.max_queued / (24 + 4 * m->ws_row_floats), left = 2000, n = 0;
    sv_job *j[65] = {0};
    while (left && n < 64) {
        size_t rows = left < per ? left : per;
        CHECK_OK(sv_job_new(&j[n], m, rows));
        CHECK_OK(sv_job_submit(j[n]));
        left -= rows;
        n++;
    }
    CHECK_INT(left, 0);
    pthread_mutex_lock(&s.lock);
    CHECK_INT(s.queued_bytes, s.o.max_queued);
    pthread_mutex_unlock(&s.lock);
    CHECK_OK(sv_job_new(&j[n], m, 1));
    CHECK_STATUS(sv_job_submit(j[n]), CCZ_ERR_UNAVAILABLE);
    sv_job_free(j[n]);
    sv_models_free(&s); /* the queued ones too */
    pthread_mutex_destroy(&s.lock);
}

/* Predict requests refused before anything is queued, each with its gRPC code and a message
 * naming what to fix: the tensor's dtype, rank, batch and other dimensions (negative or huge),
 * tensor_content or float_val disagreeing with the shape, inputs missing, unknown or given
 * twice, another signature, a version label, an unknown output; and one accepted, its
 * tensor_content copied exactly. */
static void test_grpc_parse_refusals(void)
{
    ccz_serving_model spec = {"relu", model_path, 1, NULL};
    sv_server s = {.o = CCZ_SERVING_OPTS_INIT};
    s.o.models = &spec;
    s.o.n_models = 1;
    s.o.max_body = 16u << 20;
    s.o.max_queued = 256u << 20;
    s.o.threads = 1;
    pthread_mutex_init(&s.lock, NULL);
    CHECK_OK(sv_models_load(&s));
    enum {
        DTYPE,
        DTYPEHALF,
        DTYPEODD,
        RANK,
        BATCH0,
        BATCHNEG,
        BATCHBIG,
        DIM,
        DIMHUGE,
        DIMNEG,
        SHORT,
        LONG,
        FEWVALS,
        NOINPUT,
        ALIAS,
        TWICE,
        SIGNATURE,
        LABEL,
        NOVERSION,
        FILTER,
        NOTENSOR,
        N_CASES
    };
    static const struct {
        int code;
        const char *text;
    } want[N_CASES] = {
        [DTYPE] = {CCZ_RPC_INVALID_ARGUMENT,
                   "input 'X': dtype DT_DOUBLE (2); the model takes DT_FLOAT"},
        [DTYPEHALF] = {CCZ_RPC_INVALID_ARGUMENT,
                       "input 'X': dtype DT_HALF (19); the model takes DT_FLOAT"},
        [DTYPEODD] = {CCZ_RPC_INVALID_ARGUMENT,
                      "input 'X': dtype unknown (1000); the model takes DT_FLOAT"},
        [RANK] = {CCZ_RPC_INVALID_ARGUMENT, "input 'X': the shape must have 2 dimensions"},
        [BATCH0] = {CCZ_RPC_INVALID_ARGUMENT,
                    "input 'X': the batch (dimension 0) must be 1 to 1048576"},
        [BATCHNEG] = {CCZ_RPC_INVALID_ARGUMENT,
                      "input 'X': the batch (dimension 0) must be 1 to 1048576"},
        [BATCHBIG] = {CCZ_RPC_INVALID_ARGUMENT,
                      "input 'X': the batch (dimension 0) must be 1 to 1048576"},
        [DIM] = {CCZ_RPC_INVALID_ARGUMENT, "input 'X': dimension 1 is 4; the model takes 3"},
        [DIMHUGE] = {CCZ_RPC_INVALID_ARGUMENT,
                     "input 'X': dimension 1 is 4611686018427387904; the model takes 3"},
        [DIMNEG] = {CCZ_RPC_INVALID_ARGUMENT, "input 'X': dimension 1 is -3; the model takes 3"},
        [SHORT] = {CCZ_RPC_INVALID_ARGUMENT,
                   "input 'X': tensor_content holds 20 bytes; the shape needs 24"},
        [LONG] = {CCZ_RPC_INVALID_ARGUMENT,
                  "input 'X': tensor_content holds 28 bytes; the shape needs 24"},
        [FEWVALS] = {CCZ_RPC_INVALID_ARGUMENT, "input 'X': 2 values in float_val; the shape "
                                               "needs 6"},
        [NOINPUT] = {CCZ_RPC_INVALID_ARGUMENT, "input size does not match signature: 0!=1"},
        [ALIAS] = {CCZ_RPC_INVALID_ARGUMENT, "input tensor alias not found in signature: Z"},
        [TWICE] = {CCZ_RPC_INVALID_ARGUMENT, "input size does not match signature: 2!=1"},
        [SIGNATURE] = {CCZ_RPC_INVALID_ARGUMENT,
                       "Serving signature name: \"other\" not found in signature def"},
        [LABEL] = {CCZ_RPC_UNIMPLEMENTED, "version labels are not served"},
        [NOVERSION] = {CCZ_RPC_NOT_FOUND, "Servable not found for request: Specific(relu, 7)"},
        [FILTER] = {CCZ_RPC_INVALID_ARGUMENT, "output tensor alias not found in signature: Q"},
        [NOTENSOR] = {CCZ_RPC_INVALID_ARGUMENT, "input 'X' has no tensor"},
    };
    float content[7] = {1, -2, 3, -4, 5, -6, 7};
    char *filter[1] = {"Q"};
    Tensorflow__Serving__Int64Value v7 = TENSORFLOW__SERVING__INT64_VALUE__INIT;
    v7.value = 7;
    for (int c = 0; c < N_CASES; c++) {
        predict_call p = {0, "relu", 2, 3, 0, 1.0f, {0}, 0};
        predict_msg q;
        predict_msg_init(&q, &p);
        Tensorflow__Serving__PredictRequest__InputsEntry *two[2] = {q.ep, q.ep};
        switch (c) {
        case DTYPE:
            q.t.dtype = TENSORFLOW__SERVING__DATA_TYPE__DT_DOUBLE;
            break;
        case DTYPEHALF:
            q.t.dtype = TENSORFLOW__SERVING__DATA_TYPE__DT_HALF;
            break;
        case DTYPEODD:
            q.t.dtype = (Tensorflow__Serving__DataType)1000;
            break;
        case RANK:
            q.sh.n_dim = 1;
            break;
        case BATCH0:
            q.d[0].size = 0;
            break;
        case BATCHNEG:
            q.d[0].size = -1;
            break;
        case BATCHBIG:
            q.d[0].size = (1 << 20) + 1;
            break;
        case DIM:
            q.d[1].size = 4;
            break;
        case DIMHUGE:
            q.d[1].size = INT64_C(1) << 62;
            break;
        case DIMNEG:
            q.d[1].size = -3;
            break;
        case SHORT:
            q.t.tensor_content = (ProtobufCBinaryData){20, (uint8_t *)content};
            break;
        case LONG:
            q.t.tensor_content = (ProtobufCBinaryData){28, (uint8_t *)content};
            break;
        case FEWVALS:
            q.t.n_float_val = 2;
            q.t.float_val = content;
            break;
        case NOINPUT:
            q.rq.n_inputs = 0;
            break;
        case ALIAS:
            q.e.key = "Z";
            break;
        case TWICE:
            q.rq.n_inputs = 2;
            q.rq.inputs = two;
            break;
        case SIGNATURE:
            q.spec.signature_name = "other";
            break;
        case LABEL:
            q.spec.version_choice_case =
                TENSORFLOW__SERVING__MODEL_SPEC__VERSION_CHOICE_VERSION_LABEL;
            q.spec.version_label = "stable";
            break;
        case NOVERSION:
            q.spec.version_choice_case = TENSORFLOW__SERVING__MODEL_SPEC__VERSION_CHOICE_VERSION;
            q.spec.version = &v7;
            break;
        case FILTER:
            q.rq.n_output_filter = 1;
            q.rq.output_filter = filter;
            break;
        case NOTENSOR:
            q.e.value = NULL;
            break;
        }
        sv_job *j = NULL;
        ccz_status st = sv_grpc_parse(&j, &s, &q.rq);
        if (st == CCZ_OK || sv_grpc_code(st, false) != want[c].code ||
            !strstr(ccz_error_detail(), want[c].text))
            fprintf(stderr, "%s: case %d: %d %s\n", test_name, c, (int)st, ccz_error_detail());
        CHECK(st != CCZ_OK);
        CHECK_INT(sv_grpc_code(st, false), want[c].code);
        CHECK_CONTAINS(ccz_error_detail(), want[c].text);
        CHECK(j == NULL);
        sv_job_free(j);
    }
    /* tensor_content of exactly the shape's size: its values, not float_val's */
    predict_call p = {0, "relu", 2, 3, 0, 9.0f, {0}, 0};
    predict_msg q;
    predict_msg_init(&q, &p);
    q.t.tensor_content = (ProtobufCBinaryData){24, (uint8_t *)content};
    sv_job *j = NULL;
    CHECK_OK(sv_grpc_parse(&j, &s, &q.rq));
    if (j) {
        CHECK_INT(j->rows, 2);
        CHECK(memcmp(j->in[0], content, 24) == 0);
        CHECK_INT(j->out_mask, 1);
    }
    sv_job_free(j);
    /* an output filter naming the model's output: that output */
    char *own[1] = {(char *)s.models[0].out[0].name};
    q.rq.n_output_filter = 1;
    q.rq.output_filter = own;
    j = NULL;
    CHECK_OK(sv_grpc_parse(&j, &s, &q.rq));
    if (j)
        CHECK_INT(j->out_mask, 1);
    sv_job_free(j);
    sv_models_free(&s);
    pthread_mutex_destroy(&s.lock);
}

/* A model of the most inputs served, 16 (onnx_build_concat: X0..X15 into Y[N,16]), answers
 * through gRPC (float_val) and REST (rows of named inputs, and columns) with its inputs in order,
 * its metadata naming all 16; models of 17 and 33 inputs, which the engine runs, are refused at
 * the start with the limit. */
static void test_many_inputs(void)
{
    enum { IN = 16, ROWS = 2 };
    ccz_serving_model m = {"many", many_path[0], 1, NULL};
    ccz_serving_opts o = CCZ_SERVING_OPTS_INIT;
    o.models = &m;
    o.n_models = 1;
    o.threads = 1;
    o.rest_listen = o.grpc_listen = "127.0.0.1:0";
    ccz_serving *sv = NULL;
    CHECK_OK(ccz_serving_new(&sv, &o));
    if (!sv)
        return;
    pthread_t t;
    test_thread(&t, run, sv);
    /* gRPC: input i holds i and 100 + i */
    Tensorflow__Serving__ModelSpec spec = TENSORFLOW__SERVING__MODEL_SPEC__INIT;
    spec.name = "many";
    Tensorflow__Serving__TensorShapeProto__Dim d[2], *dp[2];
    for (int k = 0; k < 2; k++) {
        d[k] = (Tensorflow__Serving__TensorShapeProto__Dim)
            TENSORFLOW__SERVING__TENSOR_SHAPE_PROTO__DIM__INIT;
        d[k].size = k ? 1 : ROWS;
        dp[k] = &d[k];
    }
    Tensorflow__Serving__TensorShapeProto sh = TENSORFLOW__SERVING__TENSOR_SHAPE_PROTO__INIT;
    sh.n_dim = 2;
    sh.dim = dp;
    static char keys[IN][8];
    float vals[IN][ROWS];
    Tensorflow__Serving__TensorProto tp[IN];
    Tensorflow__Serving__PredictRequest__InputsEntry e[IN], *ep[IN];
    for (int i = 0; i < IN; i++) { /* given last to first: matched by name, not order */
        int k = IN - 1 - i;
        snprintf(keys[k], sizeof keys[k], "X%d", k);
        vals[k][0] = (float)k;
        vals[k][1] = (float)(100 + k);
        tp[i] = (Tensorflow__Serving__TensorProto)TENSORFLOW__SERVING__TENSOR_PROTO__INIT;
        tp[i].dtype = TENSORFLOW__SERVING__DATA_TYPE__DT_FLOAT;
        tp[i].tensor_shape = &sh;
        tp[i].n_float_val = ROWS;
        tp[i].float_val = vals[k];
        e[i] = (Tensorflow__Serving__PredictRequest__InputsEntry)
            TENSORFLOW__SERVING__PREDICT_REQUEST__INPUTS_ENTRY__INIT;
        e[i].key = keys[k];
        e[i].value = &tp[i];
        ep[i] = &e[i];
    }
    Tensorflow__Serving__PredictRequest rq = TENSORFLOW__SERVING__PREDICT_REQUEST__INIT;
    rq.model_spec = &spec;
    rq.n_inputs = IN;
    rq.inputs = ep;
    char target[64];
    snprintf(target, sizeof target, "127.0.0.1:%d", ccz_serving_grpc_port(sv));
    ccz_rpc_channel_opts co = CCZ_RPC_CHANNEL_OPTS_INIT;
    ccz_rpc_channel *ch = NULL;
    CHECK_OK(ccz_rpc_channel_new(&ch, target, &co));
    ProtobufCMessage *resp = NULL;
    ccz_rpc_status st = {0};
    ccz_rpc_call_opts copts = CCZ_RPC_CALL_OPTS_INIT;
    if (ch)
        CHECK_OK(ccz_rpc_unary(ch, &resp, &st, "/tensorflow.serving.PredictionService/Predict",
                               &rq.base, &tensorflow__serving__predict_response__descriptor,
                               &copts));
    CHECK_INT(st.code, CCZ_RPC_OK);
    const Tensorflow__Serving__PredictResponse *rs = (const void *)resp;
    CHECK(rs && rs->n_outputs == 1);
    if (rs && rs->n_outputs == 1) {
        const Tensorflow__Serving__TensorProto *y = rs->outputs[0]->value;
        CHECK_STR(rs->outputs[0]->key, "Y");
        CHECK(y->tensor_shape && y->tensor_shape->n_dim == 2 &&
              y->tensor_shape->dim[0]->size == ROWS && y->tensor_shape->dim[1]->size == IN);
        CHECK_INT(y->tensor_content.len, ROWS * IN * sizeof(float));
        float want[ROWS * IN], got[ROWS * IN] = {0};
        for (int r = 0; r < ROWS; r++)
            for (int i = 0; i < IN; i++)
                want[r * IN + i] = (float)(100 * r + i);
        if (y->tensor_content.len == sizeof got)
            memcpy(got, y->tensor_content.data, sizeof got);
        CHECK(memcmp(got, want, sizeof got) == 0);
    }
    if (resp)
        protobuf_c_message_free_unpacked(resp, NULL);
    ccz_rpc_status_free(&st);
    ccz_rpc_channel_free(ch);
    /* REST: the same two rows, as instances and as columns */
    char rows[1024] = "{\"instances\": [", cols[1024] = "{\"inputs\": {";
    for (int r = 0; r < ROWS; r++) {
        size_t at = strlen(rows);
        snprintf(rows + at, sizeof rows - at, "%s{", r ? ", " : "");
        for (int i = 0; i < IN; i++) {
            at = strlen(rows);
            snprintf(rows + at, sizeof rows - at, "%s\"X%d\": [%d]", i ? ", " : "", i, 100 * r + i);
        }
        strcat(rows, "}");
    }
    strcat(rows, "]}");
    for (int i = 0; i < IN; i++) {
        size_t at = strlen(cols);
        snprintf(cols + at, sizeof cols - at, "%s\"X%d\": [[%d], [%d]]", i ? ", " : "", i, i,
                 100 + i);
    }
    strcat(cols, "}}");
    static const char out[] = "[[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15],"
                              "[100,101,102,103,104,105,106,107,108,109,110,111,112,113,114,115]]";
    int port = ccz_serving_rest_port(sv);
    char answer[4096];
    post(answer, sizeof answer, port, "/v1/models/many:predict", rows);
    CHECK_CONTAINS(answer, "HTTP/1.1 200");
    CHECK_CONTAINS(answer, out);
    post(answer, sizeof answer, port, "/v1/models/many:predict", cols);
    CHECK_CONTAINS(answer, "HTTP/1.1 200");
    CHECK_CONTAINS(answer, out);
    /* the columnar form of several inputs is an object; classify takes a model of one input */
    post(answer, sizeof answer, port, "/v1/models/many:predict", "{\"inputs\": [[1], [2]]}");
    CHECK_CONTAINS(answer, "HTTP/1.1 400");
    CHECK_CONTAINS(answer, "'inputs': the model takes 16 named inputs; expected an object");
    post(answer, sizeof answer, port, "/v1/models/many:classify",
         "{\"examples\": [{\"X0\": [1]}]}");
    CHECK_CONTAINS(answer, "HTTP/1.1 400");
    CHECK_CONTAINS(answer, "model many takes 16 inputs and has no single output of class scores: "
                           "use :predict");
    get(answer, sizeof answer, port, "/v1/models/many/metadata");
    CHECK_CONTAINS(answer, "HTTP/1.1 200");
    CHECK_CONTAINS(answer, "\"X0\":{\"dtype\":\"DT_FLOAT\"");
    CHECK_CONTAINS(answer, "\"X15\":{\"dtype\":\"DT_FLOAT\"");
    serving_stop(sv, t);
    /* 17 and 33 inputs: the engine loads them; the server refuses them */
    static const char *const refused[] = {
        "the model has 17 inputs and 1 outputs; at most 16 of each are served",
        "the model has 33 inputs and 1 outputs; at most 16 of each are served"};
    for (int k = 1; k < 3; k++) {
        ccz_ml_model *ml = NULL;
        CHECK_OK(ccz_ml_model_load_file(&ml, many_path[k]));
        CHECK_INT(ccz_ml_input_count(ml), k == 1 ? 17 : 33);
        ccz_ml_model_free(ml);
        m.path = many_path[k];
        sv = NULL;
        CHECK_STATUS(ccz_serving_new(&sv, &o), CCZ_ERR_UNSUPPORTED);
        CHECK_CONTAINS(ccz_error_detail(), refused[k - 1]);
        CHECK(sv == NULL);
    }
}

/* A gRPC Predict of the two-output model (Relu into Y, Identity into Z) on X = [[1, -2, 3]];
 * the outputs' keys and values in y, z ("" when absent); the status its code and message. */
static void predict_two(ccz_rpc_channel *ch, char *const *filter, size_t n_filter,
                        ccz_rpc_status *st, char *keys, size_t cap, float y[3], float z[3])
{
    Tensorflow__Serving__ModelSpec spec = TENSORFLOW__SERVING__MODEL_SPEC__INIT;
    spec.name = "two";
    Tensorflow__Serving__TensorShapeProto__Dim d[2], *dp[2];
    for (int k = 0; k < 2; k++) {
        d[k] = (Tensorflow__Serving__TensorShapeProto__Dim)
            TENSORFLOW__SERVING__TENSOR_SHAPE_PROTO__DIM__INIT;
        d[k].size = k ? 3 : 1;
        dp[k] = &d[k];
    }
    Tensorflow__Serving__TensorShapeProto sh = TENSORFLOW__SERVING__TENSOR_SHAPE_PROTO__INIT;
    sh.n_dim = 2;
    sh.dim = dp;
    float x[3] = {1, -2, 3};
    Tensorflow__Serving__TensorProto tp = TENSORFLOW__SERVING__TENSOR_PROTO__INIT;
    tp.dtype = TENSORFLOW__SERVING__DATA_TYPE__DT_FLOAT;
    tp.tensor_shape = &sh;
    tp.n_float_val = 3;
    tp.float_val = x;
    Tensorflow__Serving__PredictRequest__InputsEntry
        e = TENSORFLOW__SERVING__PREDICT_REQUEST__INPUTS_ENTRY__INIT,
        *ep = &e;
    e.key = "X";
    e.value = &tp;
    Tensorflow__Serving__PredictRequest rq = TENSORFLOW__SERVING__PREDICT_REQUEST__INIT;
    rq.model_spec = &spec;
    rq.n_inputs = 1;
    rq.inputs = &ep;
    rq.n_output_filter = n_filter;
    rq.output_filter = (char **)filter;
    ProtobufCMessage *resp = NULL;
    ccz_rpc_call_opts co = CCZ_RPC_CALL_OPTS_INIT;
    CHECK_OK(ccz_rpc_unary(ch, &resp, st, "/tensorflow.serving.PredictionService/Predict", &rq.base,
                           &tensorflow__serving__predict_response__descriptor, &co));
    keys[0] = 0;
    for (int i = 0; i < 3; i++)
        y[i] = z[i] = -99;
    const Tensorflow__Serving__PredictResponse *rs = (const void *)resp;
    for (size_t k = 0; rs && k < rs->n_outputs; k++) {
        const Tensorflow__Serving__TensorProto *t = rs->outputs[k]->value;
        const char *key = rs->outputs[k]->key;
        snprintf(keys + strlen(keys), cap - strlen(keys), "%s%s", k ? "," : "", key);
        CHECK(t->tensor_shape && t->tensor_shape->n_dim == 2 &&
              t->tensor_shape->dim[0]->size == 1 && t->tensor_shape->dim[1]->size == 3);
        CHECK_INT(t->tensor_content.len, 3 * sizeof(float));
        if (t->tensor_content.len == 3 * sizeof(float))
            memcpy(strcmp(key, "Y") == 0 ? y : z, t->tensor_content.data, 3 * sizeof(float));
    }
    if (resp)
        protobuf_c_message_free_unpacked(resp, NULL);
}

/* A model of two outputs (Y = Relu(X), Z = X): gRPC's output_filter naming one answers that one
 * alone, naming both (in either order) or none answers both in the model's order, and a name
 * the model lacks is refused INVALID_ARGUMENT with its name, alone or beside a known one;
 * REST's KServe v2 "outputs" the same. */
static void test_output_filter(void)
{
    ccz_serving_model m = {"two", two_path, 1, NULL};
    ccz_serving_opts o = CCZ_SERVING_OPTS_INIT;
    o.models = &m;
    o.n_models = 1;
    o.threads = 1;
    o.rest_listen = o.grpc_listen = "127.0.0.1:0";
    ccz_serving *sv = NULL;
    CHECK_OK(ccz_serving_new(&sv, &o));
    if (!sv)
        return;
    pthread_t t;
    test_thread(&t, run, sv);
    char target[64];
    snprintf(target, sizeof target, "127.0.0.1:%d", ccz_serving_grpc_port(sv));
    ccz_rpc_channel_opts co = CCZ_RPC_CHANNEL_OPTS_INIT;
    ccz_rpc_channel *ch = NULL;
    CHECK_OK(ccz_rpc_channel_new(&ch, target, &co));
    static char *const names[][2] = {{NULL},     {"Y"}, {"Z"},     {"Y", "Z"},
                                     {"Z", "Y"}, {"W"}, {"Y", "W"}};
    static const size_t counts[] = {0, 1, 1, 2, 2, 1, 2};
    static const char *const want[] = {"Y,Z", "Y", "Z", "Y,Z", "Y,Z", "", ""};
    const float relu[3] = {1, 0, 3}, ident[3] = {1, -2, 3};
    for (size_t c = 0; ch && c < sizeof counts / sizeof *counts; c++) {
        ccz_rpc_status st = {0};
        char keys[64];
        float y[3], z[3];
        predict_two(ch, names[c], counts[c], &st, keys, sizeof keys, y, z);
        fprintf(stderr, "filter case %zu: %d %s, outputs %s\n", c, st.code, st.message, keys);
        CHECK_STR(keys, want[c]);
        if (c >= 5) {
            CHECK_INT(st.code, CCZ_RPC_INVALID_ARGUMENT);
            CHECK_STR(st.message, "output tensor alias not found in signature: W");
        } else {
            CHECK_INT(st.code, CCZ_RPC_OK);
            bool has_y = strstr(want[c], "Y") != NULL, has_z = strstr(want[c], "Z") != NULL;
            CHECK(has_y ? memcmp(y, relu, sizeof y) == 0 : y[0] == -99);
            CHECK(has_z ? memcmp(z, ident, sizeof z) == 0 : z[0] == -99);
        }
        ccz_rpc_status_free(&st);
    }
    ccz_rpc_channel_free(ch);
    /* REST: KServe v2's outputs */
    static const char *const v2[][2] = {
        {"", "\"outputs\":[{\"name\":\"Y\",\"datatype\":\"FP32\",\"shape\":[1,3],\"data\":[1,0,3]},"
             "{\"name\":\"Z\",\"datatype\":\"FP32\",\"shape\":[1,3],\"data\":[1,-2,3]}]}"},
        {", \"outputs\": [{\"name\": \"Z\"}]",
         "\"outputs\":[{\"name\":\"Z\",\"datatype\":\"FP32\",\"shape\":[1,3],\"data\":[1,-2,3]}]}"},
        {", \"outputs\": [{\"name\": \"Y\"}]",
         "\"outputs\":[{\"name\":\"Y\",\"datatype\":\"FP32\",\"shape\":[1,3],\"data\":[1,0,3]}]}"},
        {", \"outputs\": [{\"name\": \"Z\"}, {\"name\": \"Y\"}]",
         "\"outputs\":[{\"name\":\"Y\",\"datatype\":\"FP32\",\"shape\":[1,3],\"data\":[1,0,3]},"
         "{\"name\":\"Z\",\"datatype\":\"FP32\",\"shape\":[1,3],\"data\":[1,-2,3]}]}"},
        {", \"outputs\": [{\"name\": \"Y\"}, {\"name\": \"W\"}]",
         "'W' is not an output of the model"},
    };
    int port = ccz_serving_rest_port(sv);
    for (size_t c = 0; c < sizeof v2 / sizeof *v2; c++) {
        char body[512], answer[4096];
        snprintf(body, sizeof body,
                 "{\"inputs\": [{\"name\": \"X\", \"datatype\": \"FP32\", \"shape\": [1, 3], "
                 "\"data\": [1, -2, 3]}]%s}",
                 v2[c][0]);
        post(answer, sizeof answer, port, "/v2/models/two/infer", body);
        CHECK_CONTAINS(answer, c == 4 ? "HTTP/1.1 400" : "HTTP/1.1 200");
        CHECK_CONTAINS(answer, v2[c][1]);
    }
    serving_stop(sv, t);
    /* the answer's bound counts the outputs asked for: at 1 row, 256 bytes and 205 an output (12
     * of values, 192 of shape and key, 1 of name), so a bound of 461 holds Y or Z alone, not both */
    o.rest_listen = NULL;
    o.max_body = 461;
    sv = NULL;
    CHECK_OK(ccz_serving_new(&sv, &o));
    if (!sv)
        return;
    test_thread(&t, run, sv);
    snprintf(target, sizeof target, "127.0.0.1:%d", ccz_serving_grpc_port(sv));
    CHECK_OK(ccz_rpc_channel_new(&ch, target, &co));
    for (size_t c = 0; ch && c < 4; c++) {
        ccz_rpc_status st = {0};
        char keys[64];
        float y[3], z[3];
        predict_two(ch, names[c], counts[c], &st, keys, sizeof keys, y, z);
        if (c == 1 || c == 2) {
            CHECK_INT(st.code, CCZ_RPC_OK);
            CHECK_STR(keys, want[c]);
        } else {
            CHECK_INT(st.code, CCZ_RPC_RESOURCE_EXHAUSTED);
            CHECK_STR(st.message,
                      "the answer to 1 rows would take 666 bytes; a message may hold 461");
        }
        ccz_rpc_status_free(&st);
    }
    ccz_rpc_channel_free(ch);
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
    ccz_buf_reset(&model);
    static float b[256];
    for (size_t i = 0; i < 256; i++)
        b[i] = 0.5f;
    onnx_build(
        &model,
        &(model_spec){
            .op = "MatMul",
            .n_in = 2,
            .in = {"X", "B"},
            .x_rank = 2,
            .x_dims = {0, 1},
            .n_init = 1,
            .init = {{.name = "B", .rank = 2, .dims = {1, 256}, .type = 1, .n_f = 256, .f = b}}});
    snprintf(wide_path, sizeof wide_path, "%s/wide.onnx", test_tmpdir());
    CHECK_OK(ccz_file_write(wide_path, ccz_buf_span(&model), 0600));
    ccz_buf_reset(&model);
    onnx_build(&model, &(model_spec){.op = "Relu",
                                     .n_in = 1,
                                     .in = {"X"},
                                     .x_rank = 2,
                                     .x_dims = {0, 3},
                                     .op2 = "Identity",
                                     .in2 = "X",
                                     .out2 = "Z",
                                     .out2_output = true});
    snprintf(two_path, sizeof two_path, "%s/two.onnx", test_tmpdir());
    CHECK_OK(ccz_file_write(two_path, ccz_buf_span(&model), 0600));
    ccz_buf_reset(&model);
    onnx_build(&model,
               &(model_spec){.op = "Relu", .n_in = 1, .in = {"X"}, .x_rank = 2, .x_dims = {0, 1}});
    snprintf(one_path, sizeof one_path, "%s/one.onnx", test_tmpdir());
    CHECK_OK(ccz_file_write(one_path, ccz_buf_span(&model), 0600));
    ccz_buf_reset(&model);
    onnx_build(&model,
               &(model_spec){.op = "Relu", .n_in = 1, .in = {"X"}, .x_rank = 1, .x_dims = {0}});
    snprintf(scalar_path, sizeof scalar_path, "%s/scalar.onnx", test_tmpdir());
    CHECK_OK(ccz_file_write(scalar_path, ccz_buf_span(&model), 0600));
    static const size_t many[3] = {16, 17, 33};
    for (int k = 0; k < 3; k++) {
        ccz_buf_reset(&model);
        onnx_build_concat(&model, many[k]);
        snprintf(many_path[k], sizeof many_path[k], "%s/many%zu.onnx", test_tmpdir(), many[k]);
        CHECK_OK(ccz_file_write(many_path[k], ccz_buf_span(&model), 0600));
    }
    ccz_buf_free(&model);
}

TEST_MAIN(T(setup), T(test_refused_options), T(test_rest_only), T(test_v1_options_tail_ignored),
          T(test_rest_errors), T(test_rest_answer_over_limit), T(test_rest_binary_refused),
          T(test_rest_nested_examples), T(test_grpc_only), T(test_grpc_metadata_fields),
          T(test_grpc_answer_over_limit), T(test_grpc_workspace_bounded),
          T(test_grpc_expired_not_run), T(test_grpc_disconnected_not_run),
          T(test_grpc_connection_share), T(test_grpc_connection_jobs),
          T(test_grpc_many_connections), T(test_grpc_connection_left),
          T(test_grpc_batches_within_engine_limit), T(test_grpc_queued_at_shutdown),
          T(test_status_codes), T(test_batch_leaver_keeps_rows), T(test_batch_last_leaver),
          T(test_batch_late_skipped), T(test_batch_exactly_full),
          T(test_batch_cancelled_while_waiting), T(test_batch_full_ends_wait), T(test_job_bounds),
          T(test_queue_full), T(test_cancel_queued_by_front_end), T(test_model_find_exact),
          T(test_queue_exactly_full), T(test_grpc_parse_refusals), T(test_many_inputs),
          T(test_output_filter))
