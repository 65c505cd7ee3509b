/* SPDX-License-Identifier: Apache-2.0 */
/* Plaintext gRPC against stock gRPC: Debian's python3-grpcio through tests/rpc/grpc_peer.py.
 * grpc.insecure_channel calls a ccz server without a TLS context (unary with metadata both ways,
 * a status, server streaming, an unknown method, 200 calls on one connection), and a ccz channel
 * without one calls a grpcio server on add_insecure_port (replies, trailers, a status, a
 * deadline). Skipped (77) when python3-grpcio is missing. */
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ccz/ccz.h"
#include "greeter.pb-c.h"
#include "rpc_fixture.h"
#include "test.h"

#define PY "/usr/bin/python3"

static char peer[1024];

/* ---- a ccz plaintext server in a thread ------------------------------------------------------*/

static ccz_rpc_server *srv;
static pthread_t srv_thread;
static char srv_target[64];

/* Echoes x- metadata as headers and trailers; an empty name is INVALID_ARGUMENT. */
static void hello(ccz_rpc_call *call, const ProtobufCMessage *req, void *payload)
{
    (void)payload;
    CHECK(ccz_rpc_call_peer(call) == NULL);
    greeter_hello_reply(call, ((const Ratls__HelloRequest *)req)->name);
}

static void *run(void *arg)
{
    (void)arg;
    CHECK_OK(ccz_rpc_server_run(srv));
    return NULL;
}

/* ---- the peer --------------------------------------------------------------------------------*/

/* Runs the grpcio client on one case against the ccz server: what it printed, parsed (NULL if it
 * printed no JSON). */
static json_t *py_client(const char *which)
{
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "timeout 60 " PY " %s client-insecure %s %s", peer, srv_target,
             which);
    FILE *f = popen(cmd, "r");
    CHECK(f != NULL);
    if (!f)
        return NULL;
    ccz_buf out = CCZ_BUF_INIT;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        CHECK_OK(ccz_buf_append(&out, chunk, n));
    int st = pclose(f);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    json_t *j = json_loadb((const char *)out.ptr, out.len, 0, NULL);
    if (!j)
        fprintf(stderr, "the grpcio client (%s) printed: %.*s\n", which, (int)out.len,
                (const char *)out.ptr);
    CHECK(j != NULL);
    ccz_buf_free(&out);
    return j;
}

/* A string at a path of keys ("initial", "x-trace"), or "" */
static const char *jstr(json_t *j, ...)
{
    va_list ap;
    va_start(ap, j);
    const char *k;
    while (j && (k = va_arg(ap, const char *)) != NULL)
        j = json_object_get(j, k);
    va_end(ap);
    return json_is_string(j) ? json_string_value(j) : "";
}

/* ---- 1. grpc.insecure_channel -> a ccz plaintext server --------------------------------------*/

static void test_grpcio_client(void)
{
    ccz_rpc_server_opts so = CCZ_RPC_SERVER_OPTS_INIT; /* tls NULL: plaintext */
    CHECK_OK(ccz_rpc_server_new(&srv, &so));
    CHECK_OK(ccz_rpc_server_add(srv, "/ratls.Greeter/SayHello", CCZ_RPC_UNARY,
                                &ratls__hello_request__descriptor, &ratls__hello_reply__descriptor,
                                hello, NULL));
    CHECK_OK(ccz_rpc_server_add(srv, "/test.Stream/Count", CCZ_RPC_SERVER_STREAMING,
                                &ratls__hello_request__descriptor, &ratls__hello_reply__descriptor,
                                greeter_count, NULL));
    int port = 0;
    CHECK_OK(ccz_rpc_server_listen(srv, &port, "127.0.0.1:0"));
    snprintf(srv_target, sizeof srv_target, "127.0.0.1:%d", port);
    test_thread(&srv_thread, run, NULL);

    json_t *j = py_client("hello"); /* with x-trace and x-raw-bin metadata */
    CHECK_STR(jstr(j, "code", NULL), "OK");
    CHECK_STR(jstr(j, "reply", NULL), "Hello python");
    CHECK_STR(jstr(j, "initial", "x-trace", NULL), "t-42");
    CHECK_STR(jstr(j, "trailing", "x-trace", NULL), "t-42");
    CHECK_STR(jstr(j, "trailing", "x-raw-bin", NULL), "00ff10");
    json_decref(j);
    j = py_client("empty");
    CHECK_STR(jstr(j, "code", NULL), "INVALID_ARGUMENT");
    CHECK_STR(jstr(j, "details", NULL), "name is empty");
    json_decref(j);
    j = py_client("unknown");
    CHECK_STR(jstr(j, "code", NULL), "UNIMPLEMENTED");
    CHECK_STR(jstr(j, "details", NULL), "unknown method /ratls.Greeter/SayGoodbye");
    json_decref(j);
    j = py_client("stream");
    CHECK_STR(jstr(j, "code", NULL), "OK");
    json_t *r = json_object_get(j, "replies");
    CHECK_INT(json_array_size(r), 3);
    CHECK_STR(json_string_value(json_array_get(r, 2)), "2");
    json_decref(j);
    j = py_client("many"); /* 200 calls, 50 at a time, on one connection */
    CHECK_STR(jstr(j, "code", NULL), "OK");
    CHECK(json_is_true(json_object_get(j, "ok")));
    json_decref(j);
    j = py_client("gzip"); /* a compressed request */
    CHECK_STR(jstr(j, "code", NULL), "OK");
    CHECK_CONTAINS(jstr(j, "reply", NULL), "Hello zzzz");
    json_decref(j);

    ccz_rpc_server_shutdown(srv, 500);
    pthread_join(srv_thread, NULL);
    ccz_rpc_server_free(srv);
}

/* ---- 2. a ccz plaintext channel -> grpcio's add_insecure_port --------------------------------*/

static pid_t py_server(int *port)
{
    char port_file[600], log[600];
    snprintf(port_file, sizeof port_file, "%s/pyport", test_tmpdir());
    snprintf(log, sizeof log, "%s/pyserver.log", test_tmpdir());
    unlink(port_file);
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(fd, 1);
        dup2(fd, 2);
        execl(PY, PY, peer, "server-insecure", port_file, (char *)NULL);
        _exit(127);
    }
    *port = 0;
    ccz_buf b = CCZ_BUF_INIT;
    for (int i = 0; i < 1200 && !*port; i++) { /* importing grpc takes a while: 60 s at most */
        usleep(50000);
        struct stat sb;
        if (stat(port_file, &sb) == 0 && ccz_file_read(&b, port_file, 64) == CCZ_OK) {
            CHECK_OK(ccz_buf_append_u8(&b, 0));
            *port = atoi((const char *)b.ptr);
        }
        ccz_buf_reset(&b);
    }
    ccz_buf_free(&b);
    CHECK(*port > 0);
    return pid;
}

static void test_grpcio_server(void)
{
    int port;
    pid_t pid = py_server(&port);
    char target[64];
    snprintf(target, sizeof target, "127.0.0.1:%d", port);
    ccz_rpc_channel_opts co = CCZ_RPC_CHANNEL_OPTS_INIT; /* tls NULL: plaintext */
    ccz_rpc_channel *ch = NULL;
    CHECK_OK(ccz_rpc_channel_new(&ch, target, &co));
    ccz_rpc_metadata md = {0};
    CHECK_OK(ccz_rpc_md_add(&md, "x-trace", CCZ_SPAN("abc", 3)));
    ccz_rpc_call_opts o = {CCZ_RPC_CALL_OPTS_VERSION, 10000, &md};
    const char *names[] = {"ccz", "fail", "slow"};
    int want[] = {CCZ_RPC_OK, CCZ_RPC_PERMISSION_DENIED, CCZ_RPC_DEADLINE_EXCEEDED};
    for (int i = 0; i < 3; i++) {
        Ratls__HelloRequest req = RATLS__HELLO_REQUEST__INIT;
        req.name = (char *)names[i];
        ProtobufCMessage *resp = NULL;
        ccz_rpc_status st;
        o.deadline_ms = i == 2 ? 300 : 10000; /* "slow" answers after 2 s */
        CHECK_OK(ccz_rpc_unary(ch, &resp, &st, "/ratls.Greeter/SayHello", &req.base,
                               &ratls__hello_reply__descriptor, &o));
        CHECK_INT(st.code, want[i]);
        if (i == 0) {
            CHECK(resp && !strcmp(((Ratls__HelloReply *)resp)->message, "Hi ccz from python"));
            const ccz_buf *v = ccz_rpc_md_get(&st.trailers, "x-echo");
            CHECK(v && v->len == 3 && !memcmp(v->ptr, "abc", 3));
            v = ccz_rpc_md_get(&st.trailers, "x-from-bin");
            CHECK(v && v->len == 4 && !memcmp(v->ptr, "\x00\x01\xfe\xff", 4));
            CHECK(ccz_rpc_channel_peer(ch) == NULL);
        } else if (i == 1) {
            CHECK_STR(st.message, "python says no");
        }
        if (resp)
            protobuf_c_message_free_unpacked(resp, NULL);
        ccz_rpc_status_free(&st);
    }
    ccz_rpc_md_free(&md);
    ccz_rpc_channel_free(ch);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

static void test_grpcio(void)
{
    signal(SIGPIPE, SIG_IGN);
    const char *src = getenv("CCZ_SOURCE_DIR");
    snprintf(peer, sizeof peer, "%s/tests/rpc/grpc_peer.py", src ? src : ".");
    if (system(PY " -c 'import grpc' 2>/dev/null") != 0)
        test_skip(false, PY " with python3-grpcio is not available (scripts/setup installs it)");
    test_grpcio_client();
    test_grpcio_server();
}

TEST_MAIN(T(test_grpcio))
