/* SPDX-License-Identifier: Apache-2.0 */
/* Benchmark: two-party ECDH PSI with 2^LOG items per side (half of them shared), both roles in
 * this process over loopback TCP and unauthenticated TLS 1.3, the group operations on every
 * CPU. Prints JSON: wall and CPU time (both sides), protocol bytes sent per item by each side,
 * and the cost per item and side in units of one crypto_scalarmult_ristretto255 timed in the
 * same run on one thread (min and median of 7 rounds). The protocol's floor is 2 units.
 *   ecdh_bench LOG [ROUNDS]   (LOG 10..24; ROUNDS of the protocol, default 1) */
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sodium.h>

#include "../clock.h"
#include "ccz/psi.h"
#include "ccz/ratls.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Microseconds per hash to the group (SHA-512, then from_hash), median of 7 rounds: the part
 * of the cost above the floor that the protocol cannot avoid. */
static double time_hash_to_group(void)
{
    enum { N = 400, ROUNDS = 7 };
    uint8_t h[64], p[32], item[24] = "bench-item-000000000000";
    double r[ROUNDS];
    for (int j = 0; j < ROUNDS; j++) {
        double t0 = bench_thread_cpu();
        for (int i = 0; i < N; i++) {
            item[23] = (uint8_t)i;
            crypto_hash_sha512(h, item, sizeof item);
            if (crypto_core_ristretto255_from_hash(p, h) != 0)
                abort();
        }
        r[j] = (bench_thread_cpu() - t0) * 1e6 / N;
    }
    qsort(r, ROUNDS, sizeof r[0], cmp_double);
    return r[ROUNDS / 2];
}

/* Microseconds per scalar multiplication of a random point, min and median of 7 rounds. */
static void time_scalarmult(double *min_us, double *med_us)
{
    enum { N = 400, ROUNDS = 7 };
    static uint8_t pts[N][32], out[32];
    uint8_t k[32], h[64];
    crypto_core_ristretto255_scalar_random(k);
    for (int i = 0; i < N; i++) {
        randombytes_buf(h, sizeof h);
        crypto_core_ristretto255_from_hash(pts[i], h);
    }
    double r[ROUNDS];
    for (int j = 0; j < ROUNDS; j++) {
        double t0 = bench_thread_cpu();
        for (int i = 0; i < N; i++)
            if (crypto_scalarmult_ristretto255(out, k, pts[i]) != 0)
                abort();
        r[j] = (bench_thread_cpu() - t0) * 1e6 / N;
    }
    qsort(r, ROUNDS, sizeof r[0], cmp_double);
    *min_us = r[0];
    *med_us = r[ROUNDS / 2];
    sodium_memzero(k, sizeof k);
}

static ccz_psi_set *make_set(size_t first, size_t n)
{
    ccz_psi_set *s;
    if (ccz_psi_set_new(&s))
        abort();
    for (size_t i = first; i < first + n; i++) {
        char item[40];
        int len = snprintf(item, sizeof item, "bench-item-%012zu", i * 2654435761u);
        if (ccz_psi_set_add(s, CCZ_SPAN(item, (size_t)len)))
            abort();
    }
    if (ccz_psi_set_seal(s))
        abort();
    return s;
}

typedef struct {
    SSL_CTX *ctx;
    int lfd;
    ccz_psi_set *set;
    ccz_psi_ecdh_result r;
    ccz_status s;
} server_arg;

static void *server_main(void *p)
{
    server_arg *a = p;
    int fd = accept(a->lfd, NULL, NULL);
    SSL *ssl = NULL;
    a->s = fd < 0 ? CCZ_ERR_NETWORK : ccz_ratls_accept_timeout(&ssl, a->ctx, fd, 10000);
    if (a->s == CCZ_OK) {
        ccz_psi_io io;
        ccz_psi_io_ssl(&io, ssl);
        ccz_psi_ecdh_opts o = CCZ_PSI_ECDH_OPTS_INIT;
        a->s = ccz_psi_ecdh_server(&a->r, a->set, &io, &o);
        SSL_shutdown(ssl);
    }
    SSL_free(ssl);
    if (fd >= 0)
        close(fd);
    return NULL;
}

int main(int argc, char **argv)
{
    int lg = argc > 1 ? atoi(argv[1]) : 16, rounds = argc > 2 ? atoi(argv[2]) : 1;
    if (lg < 10 || lg > 24 || rounds < 1) {
        fprintf(stderr, "usage: ecdh_bench LOG [ROUNDS]   (LOG 10..24)\n");
        return 2;
    }
    if (sodium_init() < 0)
        return 1;
    size_t n = (size_t)1 << lg;
    ccz_psi_set *cset = make_set(0, n), *sset = make_set(n / 2, n);
    SSL_CTX *sctx, *cctx;
    if (ccz_psi_tls_ctx_new_insecure(&sctx, true) || ccz_psi_tls_ctx_new_insecure(&cctx, false))
        return 1;
    double sm_min, sm_med;
    time_scalarmult(&sm_min, &sm_med);
    double h2g_us = time_hash_to_group();
    double best_wall = 0, best_cpu = 0;
    ccz_psi_ecdh_result cr = {0};
    server_arg sa = {0};
    for (int round = 0; round < rounds; round++) {
        int lfd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
        struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t sl = sizeof sin;
        setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(lfd, (struct sockaddr *)&sin, sizeof sin) || listen(lfd, 1) ||
            getsockname(lfd, (struct sockaddr *)&sin, &sl))
            return 1;
        char addr[32];
        snprintf(addr, sizeof addr, "127.0.0.1:%d", ntohs(sin.sin_port));
        ccz_psi_ecdh_result_free(&cr);
        ccz_psi_ecdh_result_free(&sa.r);
        sa = (server_arg){.ctx = sctx, .lfd = lfd, .set = sset};
        double w0 = bench_wall(), c0 = bench_cpu();
        pthread_t t;
        pthread_create(&t, NULL, server_main, &sa);
        SSL *ssl;
        ccz_status s = ccz_ratls_connect_timeout(&ssl, cctx, addr, 10000);
        if (s == CCZ_OK) {
            ccz_psi_io io;
            ccz_psi_io_ssl(&io, ssl);
            ccz_psi_ecdh_opts o = CCZ_PSI_ECDH_OPTS_INIT;
            s = ccz_psi_ecdh_client(&cr, cset, &io, &o);
            SSL_shutdown(ssl);
            SSL_free(ssl);
        }
        pthread_join(t, NULL);
        double wall = bench_wall() - w0, cpu = bench_cpu() - c0;
        close(lfd);
        if (s || sa.s || cr.intersection != n / 2) {
            fprintf(stderr, "ecdh_bench: client %s, server %s (%s), intersection %llu of %zu\n",
                    ccz_status_name(s), ccz_status_name(sa.s), ccz_error_detail(),
                    (unsigned long long)cr.intersection, n / 2);
            return 1;
        }
        if (round == 0 || wall < best_wall) {
            best_wall = wall;
            best_cpu = cpu;
        }
    }
    double per_item_side_us = best_cpu * 1e6 / (2.0 * (double)n);
    printf("{\"items_per_side\": %zu, \"threads\": %u, \"wall_s\": %.3f, \"cpu_s\": %.3f,\n"
           " \"client_bytes_per_item\": %.2f, \"server_bytes_per_item\": %.2f,\n"
           " \"scalarmult_us_min\": %.2f, \"scalarmult_us_median\": %.2f,"
           " \"hash_to_group_us_median\": %.2f,\n"
           " \"cpu_us_per_item_per_side\": %.2f, \"scalarmult_units_per_item_per_side\": %.3f,\n"
           " \"intersection\": %llu}\n",
           n, ccz_cpu_count(), best_wall, best_cpu, (double)cr.bytes_sent / (double)n,
           (double)sa.r.bytes_sent / (double)n, sm_min, sm_med, h2g_us, per_item_side_us,
           per_item_side_us / sm_med, (unsigned long long)cr.intersection);
    ccz_psi_ecdh_result_free(&cr);
    ccz_psi_ecdh_result_free(&sa.r);
    SSL_CTX_free(sctx);
    SSL_CTX_free(cctx);
    ccz_psi_set_free(cset);
    ccz_psi_set_free(sset);
    return 0;
}
