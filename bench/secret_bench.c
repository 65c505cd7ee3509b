/* SPDX-License-Identifier: Apache-2.0 */
/* Benchmark: secret provisions per second (ccz_secret_get against a ccz_secret_server running in
 * a thread of this process, over loopback TCP, a new connection and a full RA-TLS 1.3 handshake
 * each: no resumption) against plain RA-TLS handshakes over loopback in the same configuration
 * (the same kinds of contexts: the server presents its sim RA-TLS certificate and verifies the
 * client's, the client presents its own and verifies the server's; a server thread that accepts,
 * handshakes and closes), in the same run, in alternating blocks. Both are measured
 *   warm: one client context, so each side finds the peer's certificate in its context's cache
 *         of verified certificates (appraisal only, no evidence verification), and
 *   cold: a fresh client context (a new certificate, an empty cache) for every connection, so
 *         the server verifies the client's sim evidence and the client the server's: two
 *         evidence verifications per connection, as in ratls_bench's cold case.
 * The client contexts' verdict callbacks count cached and fresh verdicts (and the reference
 * server's; the secret server's context is internal to it, and its side follows from the
 * client's certificate being new or not). Client and server run in one process, so CPU time per
 * operation is both sides' (pin the process to one core). Prints one JSON object.
 *
 * usage: secret_bench SIM_DIR [SECONDS] */
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ccz/ccz.h"
#include "ccz/secret.h"
#include "clock.h"

#define ROUNDS 4 /* alternating blocks of each measurement */

typedef struct {
    long fresh, cached, refused;
} verdicts;

static void count(const ccz_ratls_verdict *v, void *payload)
{
    verdicts *n = payload;
    if (v->status)
        n->refused++;
    else if (v->cached)
        n->cached++;
    else
        n->fresh++;
}

static const ccz_attester *g_attester;
static const ccz_trust *g_trust;
static const ccz_policy *g_policy;

static SSL_CTX *client_ctx(verdicts *n)
{
    ccz_ratls_opts o = CCZ_RATLS_OPTS_INIT; /* two-way: presents its certificate and verifies */
    o.attester = g_attester;
    o.policy = g_policy;
    o.trust = g_trust;
    o.on_verdict = count;
    o.payload = n;
    SSL_CTX *ctx;
    if (ccz_ratls_ctx_new(&ctx, &o)) {
        fprintf(stderr, "secret_bench: %s\n", ccz_error_detail());
        exit(2);
    }
    return ctx;
}

/* ---- the reference: plain RA-TLS handshakes over loopback ------------------------------------*/

typedef struct {
    SSL_CTX *ctx;
    int fd;
    long handshakes, failures;
} ref_server;

static void *ref_serve(void *arg)
{
    ref_server *rs = arg;
    for (;;) {
        int c = accept(rs->fd, NULL, NULL);
        if (c < 0)
            break; /* the listening socket was shut down */
        SSL *ssl;
        if (ccz_ratls_accept(&ssl, rs->ctx, c) == CCZ_OK) {
            rs->handshakes++;
            SSL_free(ssl);
        } else {
            rs->failures++;
            ccz_error_clear();
        }
        close(c);
    }
    return NULL;
}

static int listen_loopback(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) || listen(fd, 128) ||
        getsockname(fd, (struct sockaddr *)&a, &len)) {
        perror("secret_bench: listen");
        exit(2);
    }
    *port = ntohs(a.sin_port);
    return fd;
}

static void *secret_serve(void *arg)
{
    if (ccz_secret_server_run(arg) != CCZ_OK)
        fprintf(stderr, "secret_bench: the secret server stopped: %s\n", ccz_error_detail());
    return NULL;
}

/* ---- the measured operations -----------------------------------------------------------------*/

typedef enum { OP_SECRET, OP_HANDSHAKE } op_kind;

static const char *g_secret_addr, *g_ref_addr;
static size_t g_secret_len;

static void op(op_kind k, SSL_CTX *cc)
{
    if (k == OP_SECRET) {
        ccz_buf s = CCZ_BUF_INIT;
        if (ccz_secret_get(&s, cc, g_secret_addr, 0) != CCZ_OK || s.len != g_secret_len) {
            fprintf(stderr, "secret_bench: a provision failed: %s\n", ccz_error_detail());
            exit(1);
        }
        ccz_buf_free(&s);
    } else {
        SSL *ssl;
        if (ccz_ratls_connect(&ssl, cc, g_ref_addr) != CCZ_OK) {
            fprintf(stderr, "secret_bench: a handshake failed: %s\n", ccz_error_detail());
            exit(1);
        }
        SSL_free(ssl);
    }
}

/* Runs op with one context (pool NULL) or one fresh context of the pool per operation, for at
 * most seconds, adding to *r. */
static void block(bench_run *r, op_kind k, SSL_CTX *cc, SSL_CTX **pool, long n_pool, double seconds)
{
    double t0 = bench_wall(), c0 = bench_cpu(), m0 = bench_thread_cpu(), t = t0;
    long i = 0;
    while (t - t0 < seconds && (!pool || i < n_pool)) {
        op(k, pool ? pool[i] : cc);
        i++;
        r->ops++;
        t = bench_wall();
    }
    r->wall += t - t0;
    r->cpu += bench_cpu() - c0;
    r->client += bench_thread_cpu() - m0;
}

static void report(const char *name, const bench_run *r, const verdicts *client,
                   const verdicts *server)
{
    printf("  \"%s_per_s\": %.0f, \"%s_cpu_us\": %.1f, \"%s_client_cpu_us\": %.1f, "
           "\"%s_ops\": %ld,\n  \"%s_client_fresh\": %ld, \"%s_client_cached\": %ld,",
           name, bench_rate(r), name, bench_cpu_us(r), name, bench_client_us(r), name, r->ops, name,
           client->fresh, name, client->cached);
    if (server)
        printf(" \"%s_server_fresh\": %ld, \"%s_server_cached\": %ld,", name, server->fresh, name,
               server->cached);
    printf("\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: secret_bench SIM_DIR [SECONDS]\n");
        return 2;
    }
    double seconds = argc > 2 ? atof(argv[2]) : 3.0, per = seconds / ROUNDS;
    ccz_log_set_level(CCZ_LOG_WARN);
    signal(SIGPIPE, SIG_IGN);
    char root[4096];
    snprintf(root, sizeof root, "%s/root.crt", argv[1]);
    ccz_attester_opts ao = CCZ_ATTESTER_OPTS_INIT;
    ao.tee = CCZ_TEE_SIM;
    ao.sim.dir = argv[1];
    ccz_attester *a;
    ccz_trust *t;
    ccz_policy *p;
    static const char doc[] = "{\"allow_sim\": true}";
    if (ccz_attester_new(&a, &ao) || ccz_trust_new(&t) || ccz_trust_add_sim_root_file(t, root) ||
        ccz_policy_parse(&p, doc, sizeof doc - 1)) {
        fprintf(stderr, "secret_bench: %s\n", ccz_error_detail());
        return 2;
    }
    g_attester = a;
    g_trust = t;
    g_policy = p;

    /* the secret server, as `ccz secret serve --tee sim` runs it, in a thread */
    static const uint8_t value[32] = "a 32-byte secret for the bench!";
    g_secret_len = sizeof value;
    ccz_secret_entry e = {"bench", NULL, CCZ_SPAN(value, sizeof value)};
    ccz_secret_server_opts so = CCZ_SECRET_SERVER_OPTS_INIT;
    so.listen = "127.0.0.1:0";
    so.attester = a;
    so.trust = t;
    so.policy = CCZ_SPAN(doc, sizeof doc - 1);
    so.secrets = &e;
    so.n_secrets = 1;
    ccz_secret_server *ss;
    if (ccz_secret_server_new(&ss, &so)) {
        fprintf(stderr, "secret_bench: %s\n", ccz_error_detail());
        return 2;
    }
    pthread_t st_thread, rt_thread;
    if (pthread_create(&st_thread, NULL, secret_serve, ss))
        return 2;
    char saddr[64], raddr[64];
    snprintf(saddr, sizeof saddr, "127.0.0.1:%d", ccz_secret_server_port(ss));
    g_secret_addr = saddr;

    /* the reference server: the secret server's TLS configuration (ratls server context that
     * presents and verifies the client, asking for a certificate without requiring one) */
    verdicts ref_seen = {0};
    ccz_ratls_opts ro = CCZ_RATLS_OPTS_INIT;
    ro.server = true;
    ro.mode = CCZ_RATLS_CLIENT;
    ro.attester = a;
    ro.policy = p;
    ro.trust = t;
    ro.on_verdict = count;
    ro.payload = &ref_seen;
    ref_server rs = {NULL, -1, 0, 0};
    int rport;
    if (ccz_ratls_ctx_new(&rs.ctx, &ro)) {
        fprintf(stderr, "secret_bench: %s\n", ccz_error_detail());
        return 2;
    }
    SSL_CTX_set_verify(rs.ctx, SSL_VERIFY_PEER, NULL);
    rs.fd = listen_loopback(&rport);
    snprintf(raddr, sizeof raddr, "127.0.0.1:%d", rport);
    g_ref_addr = raddr;
    if (pthread_create(&rt_thread, NULL, ref_serve, &rs))
        return 2;

    /* warm: one client context; its first exchanges fill both sides' caches */
    verdicts warm_seen = {0}, cold_seen = {0}, zero = {0};
    SSL_CTX *wc = client_ctx(&warm_seen);
    op(OP_SECRET, wc);
    op(OP_HANDSHAKE, wc);
    usleep(10000); /* the reference server's verdict on that first handshake */
    warm_seen = zero;
    ref_seen = zero;

    bench_run ws = {0}, wr = {0}, cs = {0}, cr = {0};
    verdicts ws_seen, wr_seen, wr_srv, cs_seen, cr_seen, cr_srv;
    verdicts ws_acc = {0}, wr_acc = {0}, wr_sacc = {0}, cs_acc = {0}, cr_acc = {0}, cr_sacc = {0};
    long n_pool = 64;
    for (int round = 0; round < ROUNDS; round++) {
        warm_seen = zero;
        block(&ws, OP_SECRET, wc, NULL, 0, per);
        ws_seen = warm_seen;
        warm_seen = zero;
        usleep(1000); /* let the reference server's last handshake land in its own block */
        ref_seen = zero;
        block(&wr, OP_HANDSHAKE, wc, NULL, 0, per);
        usleep(1000);
        wr_seen = warm_seen;
        wr_srv = ref_seen;
        /* cold: fresh client contexts, made outside the timed blocks; each serves one
         * provision and one handshake (the two servers have different certificates and
         * caches, so it is new to both and both are new to it) */
        SSL_CTX **pool = calloc((size_t)n_pool, sizeof *pool);
        for (long i = 0; i < n_pool; i++)
            pool[i] = client_ctx(&cold_seen);
        cold_seen = zero;
        long before = cs.ops;
        block(&cs, OP_SECRET, NULL, pool, n_pool, per);
        long used = cs.ops - before;
        cs_seen = cold_seen;
        cold_seen = zero;
        usleep(1000);
        ref_seen = zero;
        before = cr.ops;
        block(&cr, OP_HANDSHAKE, NULL, pool, n_pool, per);
        if (cr.ops - before > used)
            used = cr.ops - before;
        usleep(1000);
        cr_seen = cold_seen;
        cr_srv = ref_seen;
        for (long i = 0; i < n_pool; i++)
            SSL_CTX_free(pool[i]);
        free(pool);
        /* enough fresh contexts for the next block at the rate seen */
        if (used >= n_pool)
            n_pool = n_pool * 2;
        else if (used + used / 2 + 16 > n_pool)
            n_pool = used + used / 2 + 16;
#define ACC(acc, seen)                                                                             \
    (acc.fresh += seen.fresh, acc.cached += seen.cached, acc.refused += seen.refused)
        ACC(ws_acc, ws_seen);
        ACC(wr_acc, wr_seen);
        ACC(wr_sacc, wr_srv);
        ACC(cs_acc, cs_seen);
        ACC(cr_acc, cr_seen);
        ACC(cr_sacc, cr_srv);
    }
    if (ws_acc.refused + wr_acc.refused + wr_sacc.refused + cs_acc.refused + cr_acc.refused +
            cr_sacc.refused ||
        rs.failures) {
        fprintf(stderr, "secret_bench: refused verdicts or failed handshakes\n");
        return 1;
    }
    printf("{\n");
    report("secret_warm", &ws, &ws_acc, NULL);
    report("ratls_warm", &wr, &wr_acc, &wr_sacc);
    report("secret_cold", &cs, &cs_acc, NULL);
    report("ratls_cold", &cr, &cr_acc, &cr_sacc);
    printf("  \"warm_ratio\": %.3f, \"warm_cpu_ratio\": %.3f,\n"
           "  \"cold_ratio\": %.3f, \"cold_cpu_ratio\": %.3f\n}\n",
           bench_rate(&ws) / bench_rate(&wr), bench_cpu_us(&wr) / bench_cpu_us(&ws),
           bench_rate(&cs) / bench_rate(&cr), bench_cpu_us(&cr) / bench_cpu_us(&cs));

    ccz_secret_server_shutdown(ss, 1000);
    pthread_join(st_thread, NULL);
    shutdown(rs.fd, SHUT_RDWR);
    pthread_join(rt_thread, NULL);
    close(rs.fd);
    ccz_secret_server_free(ss);
    SSL_CTX_free(rs.ctx);
    SSL_CTX_free(wc);
    ccz_policy_free(p);
    ccz_trust_free(t);
    ccz_attester_free(a);
    return 0;
}
