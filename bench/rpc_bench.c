/* SPDX-License-Identifier: Apache-2.0 */
/* RA-gRPC throughput and latency: the Greeter served and called by ccz over two-way RA-TLS
 * (sim evidence, verified once per connection), for bench/run to set beside gRPC C++.
 *   rpc_bench server SIM_DIR PORT_FILE
 *   rpc_bench client SIM_DIR HOST:PORT IN_FLIGHT SECONDS   -> JSON on stdout
 *   rpc_bench idle SIM_DIR HOST:PORT N HOLD_SECONDS        -> "ready" once connected */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ccz/ccz.h"
#include "greeter.pb-c.h"

static ccz_attester *att;
static ccz_trust *trust;
static ccz_policy *pol;

static SSL_CTX *context(const char *dir, bool server)
{
    char root[600];
    snprintf(root, sizeof root, "%s/root.crt", dir);
    if (!att) {
        if (access(root, R_OK) != 0 && ccz_sim_platform_init(dir, false) != CCZ_OK)
            goto fail;
        ccz_attester_opts o = CCZ_ATTESTER_OPTS_INIT;
        o.tee = CCZ_TEE_SIM;
        o.sim.dir = dir;
        static const char doc[] = "{\"allow_sim\": true}";
        if (ccz_attester_new(&att, &o) || ccz_trust_new(&trust) ||
            ccz_trust_add_sim_root_file(trust, root) || ccz_policy_parse(&pol, doc, strlen(doc)))
            goto fail;
    }
    ccz_ratls_opts o = CCZ_RATLS_OPTS_INIT;
    o.server = server;
    o.mode = CCZ_RATLS_TWO_WAY;
    o.attester = att;
    o.trust = trust;
    o.policy = pol;
    SSL_CTX *ctx;
    if (ccz_ratls_ctx_new(&ctx, &o) == CCZ_OK)
        return ctx;
fail:
    fprintf(stderr, "rpc_bench: %s\n", ccz_error_detail());
    exit(1);
}

static void say_hello(ccz_rpc_call *call, const ProtobufCMessage *request, void *payload)
{
    (void)payload;
    char text[300];
    snprintf(text, sizeof text, "Hello %s", ((const Ratls__HelloRequest *)request)->name);
    Ratls__HelloReply r = RATLS__HELLO_REPLY__INIT;
    r.message = text;
    if (ccz_rpc_reply(call, &r.base) != CCZ_OK)
        (void)!ccz_rpc_finish(call, CCZ_RPC_INTERNAL, "cannot reply");
}

static int server(const char *dir, const char *port_file)
{
    SSL_CTX *ctx = context(dir, true);
    ccz_rpc_server_opts so = CCZ_RPC_SERVER_OPTS_INIT;
    so.tls = ctx;
    so.max_connections = 10000;
    ccz_rpc_server *srv;
    ccz_rpc_handler h[] = {say_hello};
    int port;
    if (ccz_rpc_server_new(&srv, &so) ||
        ccz_rpc_server_add_service(srv, &ratls__greeter__descriptor, h, NULL) ||
        ccz_rpc_server_listen(srv, &port, "127.0.0.1:0")) {
        fprintf(stderr, "rpc_bench: %s\n", ccz_error_detail());
        return 1;
    }
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s.tmp", port_file);
    FILE *f = fopen(tmp, "w");
    fprintf(f, "%d", port);
    fclose(f);
    rename(tmp, port_file);
    return ccz_rpc_server_run(srv) == CCZ_OK ? 0 : 1;
}

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

typedef struct {
    ccz_rpc_channel *ch;
    double end;
    double *lat;
    size_t n, cap;
    long failed;
} run;

typedef struct {
    run *r;
    double start;
} call;

static Ratls__HelloRequest req = RATLS__HELLO_REQUEST__INIT;

static void issue(run *r, call *c);

static void on_message(const ProtobufCMessage *m, void *payload)
{
    call *c = payload;
    if (strcmp(((const Ratls__HelloReply *)m)->message, "Hello bench") != 0)
        c->r->failed++;
}

static void on_done(const ccz_rpc_status *st, void *payload)
{
    call *c = payload;
    run *r = c->r;
    double t = now_us();
    if (st->code == CCZ_RPC_OK && r->n < r->cap)
        r->lat[r->n++] = t - c->start;
    else if (st->code != CCZ_RPC_OK)
        r->failed++;
    if (t < r->end)
        issue(r, c);
    else
        free(c);
}

static void issue(run *r, call *c)
{
    c->start = now_us();
    if (ccz_rpc_start(r->ch, NULL, "/ratls.Greeter/SayHello", &req.base,
                      &ratls__hello_reply__descriptor, NULL, on_message, on_done, c) != CCZ_OK) {
        fprintf(stderr, "rpc_bench: %s\n", ccz_error_detail());
        r->failed++;
        free(c);
    }
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(const run *r, double p)
{
    if (!r->n)
        return 0;
    size_t i = (size_t)(p * (double)r->n);
    return r->lat[i < r->n ? i : r->n - 1];
}

static ccz_rpc_channel *channel(SSL_CTX *ctx, const char *target)
{
    ccz_rpc_channel_opts co = CCZ_RPC_CHANNEL_OPTS_INIT;
    co.tls = ctx;
    ccz_rpc_channel *ch;
    if (ccz_rpc_channel_new(&ch, target, &co) != CCZ_OK)
        return NULL;
    Ratls__HelloRequest q = RATLS__HELLO_REQUEST__INIT;
    q.name = "warm";
    ProtobufCMessage *resp;
    ccz_rpc_status st;
    if (ccz_rpc_unary(ch, &resp, &st, "/ratls.Greeter/SayHello", &q.base,
                      &ratls__hello_reply__descriptor, NULL) != CCZ_OK ||
        st.code != CCZ_RPC_OK) {
        fprintf(stderr, "rpc_bench: the first call failed: %s\n", st.message);
        exit(1);
    }
    protobuf_c_message_free_unpacked(resp, NULL);
    ccz_rpc_status_free(&st);
    return ch;
}

static int client(const char *dir, const char *target, int inflight, double seconds)
{
    SSL_CTX *ctx = context(dir, false);
    req.name = "bench";
    run r = {0};
    r.ch = channel(ctx, target);
    r.cap = 1u << 23;
    r.lat = malloc(r.cap * sizeof *r.lat);
    struct timespec c0, c1;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
    double start = now_us();
    r.end = start + seconds * 1e6;
    for (int i = 0; i < inflight; i++) {
        call *c = malloc(sizeof *c);
        c->r = &r;
        issue(&r, c);
    }
    if (ccz_rpc_channel_run(r.ch) != CCZ_OK)
        fprintf(stderr, "rpc_bench: %s\n", ccz_error_detail());
    double el = (now_us() - start) / 1e6;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
    double cpu = (double)(c1.tv_sec - c0.tv_sec) + (c1.tv_nsec - c0.tv_nsec) / 1e9;
    qsort(r.lat, r.n, sizeof *r.lat, cmp);
    printf("{\"calls\": %zu, \"failed\": %ld, \"calls_per_s\": %.0f, \"p50_us\": %.0f, "
           "\"p99_us\": %.0f, \"cpu_s\": %.3f}\n",
           r.n, r.failed, (double)r.n / el, pct(&r, 0.50), pct(&r, 0.99), cpu);
    free(r.lat);
    ccz_rpc_channel_free(r.ch);
    SSL_CTX_free(ctx);
    return r.failed ? 1 : 0;
}

static int idle(const char *dir, const char *target, int n, int hold)
{
    SSL_CTX *ctx = context(dir, false);
    for (int i = 0; i < n; i++)
        if (!channel(ctx, target))
            return 1;
    printf("ready\n");
    fflush(stdout);
    sleep((unsigned)hold);
    return 0;
}

int main(int argc, char **argv)
{
    const char *m = argc > 1 ? argv[1] : "";
    if (!strcmp(m, "server") && argc == 4)
        return server(argv[2], argv[3]);
    if (!strcmp(m, "client") && argc == 6)
        return client(argv[2], argv[3], atoi(argv[4]), atof(argv[5]));
    if (!strcmp(m, "idle") && argc == 6)
        return idle(argv[2], argv[3], atoi(argv[4]), atoi(argv[5]));
    fprintf(stderr, "usage: rpc_bench server SIM_DIR PORT_FILE | client SIM_DIR HOST:PORT "
                    "IN_FLIGHT SECONDS | idle SIM_DIR HOST:PORT N HOLD_SECONDS\n");
    return 2;
}
