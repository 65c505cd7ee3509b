/* SPDX-License-Identifier: Apache-2.0 */
/* Benchmark: measured-boot event log replay on one core, beside raw SHA-384 of the same OpenSSL.
 * A replay parses the log and extends registers 1 to 4 (R = SHA-384(R || digest) per event);
 * its rate is given in MB of log per second (the log's used bytes, without the padding of its
 * CCEL area) and in extends per second, next to SHA-384 over the same bytes (MB/s) and SHA-384
 * of 96-byte messages (what one extend hashes, per second): the goal is replay >= 0.8x raw.
 *
 * usage: eventlog_bench LOG [SECONDS] */
#include <stdio.h>
#include <stdlib.h>

#include <openssl/evp.h>

#include "ccz/ccz.h"
#include "clock.h"

typedef struct {
    double wall, cpu;
    long ops;
} run_t;

static run_t raw_sha384(const uint8_t *p, size_t n, double seconds)
{
    EVP_MD *md = EVP_MD_fetch(NULL, "SHA384", NULL);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    uint8_t h[48];
    run_t r = {0};
    double t0 = bench_wall(), c0 = bench_cpu(), t;
    do {
        for (int i = 0; i < 20; i++)
            r.ops += EVP_DigestInit_ex2(ctx, md, NULL) == 1 && EVP_DigestUpdate(ctx, p, n) == 1 &&
                     EVP_DigestFinal_ex(ctx, h, NULL) == 1;
        t = bench_wall();
    } while (t - t0 < seconds);
    r.wall = t - t0;
    r.cpu = bench_cpu() - c0;
    EVP_MD_CTX_free(ctx);
    EVP_MD_free(md);
    return r;
}

static run_t replays(ccz_span log, double seconds, size_t *extends)
{
    run_t r = {0};
    double t0 = bench_wall(), c0 = bench_cpu(), t;
    do {
        ccz_eventlog *l = NULL;
        if (ccz_eventlog_parse(&l, log) != CCZ_OK)
            exit(1);
        uint8_t reg[64];
        for (uint32_t i = 1; i <= 4; i++)
            if (ccz_eventlog_replay(reg, sizeof reg, l, i, CCZ_EVLOG_SHA384) != CCZ_OK)
                exit(1);
        *extends = 0;
        for (size_t i = 0; i < ccz_eventlog_count(l); i++) {
            const ccz_event *e = ccz_eventlog_event(l, i);
            for (size_t k = 0; k < e->n_digests; k++)
                *extends += e->index >= 1 && e->index <= 4 && e->digests[k].alg == CCZ_EVLOG_SHA384;
        }
        ccz_eventlog_free(l);
        r.ops++;
        t = bench_wall();
    } while (t - t0 < seconds);
    r.wall = t - t0;
    r.cpu = bench_cpu() - c0;
    return r;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: eventlog_bench LOG [SECONDS]\n");
        return 2;
    }
    double seconds = argc > 2 ? atof(argv[2]) : 2.0;
    ccz_buf b = CCZ_BUF_INIT;
    ccz_eventlog *l = NULL;
    if (ccz_file_read(&b, argv[1], 64u << 20) || ccz_eventlog_load(&l, ccz_buf_span(&b))) {
        fprintf(stderr, "eventlog_bench: %s\n", ccz_error_detail());
        return 2;
    }
    size_t used = ccz_eventlog_size(l), events = ccz_eventlog_count(l);
    ccz_eventlog_free(l);
    ccz_span log = CCZ_SPAN(b.ptr, used);
    size_t extends = 0;
    run_t rp = replays(log, seconds, &extends);
    run_t rawlog = raw_sha384(b.ptr, used, seconds);
    static const uint8_t m96[96];
    run_t raw96 = raw_sha384(m96, sizeof m96, seconds);
    double replay_mbs = rp.ops * (double)used / rp.cpu / 1e6;
    double raw_mbs = rawlog.ops * (double)used / rawlog.cpu / 1e6;
    double extend_s = rp.ops * (double)extends / rp.cpu, raw96_s = raw96.ops / raw96.cpu;
    printf("{\"log_bytes\": %zu, \"events\": %zu, \"extends\": %zu, \"replays_per_s\": %.1f, "
           "\"replay_mb_s\": %.1f, \"sha384_mb_s\": %.1f, \"extends_per_s\": %.0f, "
           "\"sha384_96b_per_s\": %.0f, \"replay_vs_raw\": %.2f}\n",
           used, events, extends, rp.ops / rp.cpu, replay_mbs, raw_mbs, extend_s, raw96_s,
           extend_s / raw96_s);
    ccz_buf_free(&b);
    return 0;
}
