/* SPDX-License-Identifier: Apache-2.0 */
/* Benchmark: measured-boot event log replay on one core, beside raw SHA-384 of the same OpenSSL.
 * A replay reads every record of the log (checked as ccz_eventlog_parse checks it) and extends
 * registers 1 to 4 (R = SHA-384(R || digest) per event), straight from the log's bytes
 * (ccz_eventlog_replay_bytes: no copy, no allocation, one digest context); the verifier's way
 * (ccz_eventlog_parse, which keeps the events for the policy, then ccz_eventlog_replay_many) is
 * timed too. Rates: MB of log per second (the log's used bytes, without the padding of its CCEL
 * area) beside SHA-384 over the same bytes, and extends per second beside SHA-384 of 96-byte
 * messages (what one extend must hash: the least work a replay can do is one such hash per
 * extend). Both raw figures use the strongest form of the same API: the digest fetched once, one
 * context reused with EVP_DigestInit_ex2. Goal: replay >= 0.8x raw.
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

enum { REPLAY, PARSE_REPLAY, RAW_LOG, RAW_96, N_KINDS };

typedef struct {
    ccz_span log;
    const EVP_MD *md;
    EVP_MD_CTX *ctx; /* the raw hashes' context, reused */
    bool primed;
} bench_ctx;

static const uint32_t mr[] = {1, 2, 3, 4};
static const uint8_t m96[96];

/* One operation of a kind: a replay of registers 1-4 from the log's bytes, the verifier's parse
 * and replay, SHA-384 of the log's bytes, SHA-384 of 96 bytes. */
static void op(bench_ctx *b, int kind)
{
    uint8_t reg[4][48];
    ccz_eventlog *l = NULL;
    switch (kind) {
    case REPLAY:
        if (ccz_eventlog_replay_bytes(reg[0], sizeof reg, NULL, b->log, mr, 4, CCZ_EVLOG_SHA384))
            exit(1);
        break;
    case PARSE_REPLAY:
        if (ccz_eventlog_parse(&l, b->log) != CCZ_OK ||
            ccz_eventlog_replay_many(reg[0], sizeof reg, l, mr, 4, CCZ_EVLOG_SHA384))
            exit(1);
        ccz_eventlog_free(l);
        break;
    default: { /* NULL: the same digest again, OpenSSL 3.0's cheapest re-init (a replay's too) */
        ccz_span m = kind == RAW_LOG ? b->log : CCZ_SPAN(m96, sizeof m96);
        if (EVP_DigestInit_ex2(b->ctx, b->primed ? NULL : b->md, NULL) != 1 ||
            EVP_DigestUpdate(b->ctx, m.ptr, m.len) != 1 ||
            EVP_DigestFinal_ex(b->ctx, reg[0], NULL) != 1)
            exit(1);
        b->primed = true;
    }
    }
}

/* All kinds in turns of about 10 ms each until `seconds` of wall time per kind: on a shared
 * machine every kind then sees the same conditions, and the ratios hold better than the rates. */
static void measure(run_t r[N_KINDS], bench_ctx *b, double seconds)
{
    for (double spent = 0; spent < seconds;) {
        for (int k = 0; k < N_KINDS; k++) {
            double t0 = bench_wall(), c0 = bench_cpu(), t;
            do {
                for (int i = 0; i < 10; i++)
                    op(b, k);
                r[k].ops += 10;
                t = bench_wall();
            } while (t - t0 < 0.01);
            r[k].wall += t - t0;
            r[k].cpu += bench_cpu() - c0;
        }
        spent = r[REPLAY].wall;
    }
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
    size_t extends = 0; /* SHA-384 digests of events of registers 1 to 4 */
    if (ccz_eventlog_parse(&l, log) != CCZ_OK)
        return 2;
    for (size_t i = 0; i < ccz_eventlog_count(l); i++) {
        const ccz_event *e = ccz_eventlog_event(l, i);
        for (size_t k = 0; k < e->n_digests; k++)
            extends += e->index >= 1 && e->index <= 4 && e->digests[k].alg == CCZ_EVLOG_SHA384;
    }
    ccz_eventlog_free(l);
    bench_ctx bc = {.log = log, .md = EVP_MD_fetch(NULL, "SHA384", NULL), .ctx = EVP_MD_CTX_new()};
    if (!bc.md || !bc.ctx)
        return 2;
    run_t r[N_KINDS] = {0};
    measure(r, &bc, seconds);
    run_t rp = r[REPLAY], pv = r[PARSE_REPLAY], rawlog = r[RAW_LOG], raw96 = r[RAW_96];
    double replay_mbs = rp.ops * (double)used / rp.cpu / 1e6;
    double parse_mbs = pv.ops * (double)used / pv.cpu / 1e6;
    double raw_mbs = rawlog.ops * (double)used / rawlog.cpu / 1e6;
    double extend_s = rp.ops * (double)extends / rp.cpu, raw96_s = raw96.ops / raw96.cpu;
    double parse_extend_s = pv.ops * (double)extends / pv.cpu;
    /* the least hashing a replay must do: one SHA-384 of 96 bytes per extend, i.e. extends x 96
     * bytes hashed; its raw time per replay, against the replay's */
    double min_work_us = extends / raw96_s * 1e6, replay_us = rp.cpu / rp.ops * 1e6;
    printf("{\"log_bytes\": %zu, \"events\": %zu, \"extends\": %zu, \"replays_per_s\": %.1f, "
           "\"replay_mb_s\": %.1f, \"sha384_mb_s\": %.1f, \"extends_per_s\": %.0f, "
           "\"sha384_96b_per_s\": %.0f, \"replay_vs_raw\": %.3f, "
           "\"min_hashed_bytes\": %zu, \"replay_us\": %.3f, \"min_work_raw_us\": %.3f, "
           "\"parse_replay_mb_s\": %.1f, \"parse_extends_per_s\": %.0f, "
           "\"parse_replay_vs_raw\": %.3f}\n",
           used, events, extends, rp.ops / rp.cpu, replay_mbs, raw_mbs, extend_s, raw96_s,
           extend_s / raw96_s, extends * 96, replay_us, min_work_us, parse_mbs, parse_extend_s,
           parse_extend_s / raw96_s);
    EVP_MD_CTX_free(bc.ctx);
    EVP_MD_free((EVP_MD *)bc.md);
    ccz_buf_free(&b);
    return 0;
}
