/* SPDX-License-Identifier: Apache-2.0 */
/* Benchmark: DCAP quote verifications per second on one core, warm (collateral parsed and its
 * chains and signatures already checked, as a server holding collateral has them) and cold
 * (a new collateral object from the document for every quote, every signature checked again).
 * Also times one P-256 signature verification through the same OpenSSL, the unit the goals are
 * stated in, in slices alternating with the warm quotes.
 *
 * usage: dcap_bench QUOTE COLLATERAL AT [SECONDS]   (QUOTE binary or hex) */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/ec.h>
#include <openssl/evp.h>

#include "ccz/ccz.h"
#include "clock.h"
#include "sigrate.h"

static int read_quote(ccz_buf *q, const char *path)
{
    ccz_buf raw = CCZ_BUF_INIT;
    if (ccz_file_read(&raw, path, 1 << 20))
        return 1;
    if (raw.len && isxdigit(raw.ptr[0]) && isxdigit(raw.ptr[1])) {
        size_t n = raw.len;
        while (n && isspace(raw.ptr[n - 1]))
            n--;
        int r = ccz_hex_decode(q, (const char *)raw.ptr, n) != CCZ_OK;
        ccz_buf_free(&raw);
        return r;
    }
    *q = raw;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: dcap_bench QUOTE COLLATERAL AT [SECONDS]\n");
        return 2;
    }
    double seconds = argc > 4 ? atof(argv[4]) : 2.0;
    ccz_buf q = CCZ_BUF_INIT, cb = CCZ_BUF_INIT;
    if (read_quote(&q, argv[1]) || ccz_file_read(&cb, argv[2], 1 << 20)) {
        fprintf(stderr, "dcap_bench: %s\n", ccz_error_detail());
        return 2;
    }
    ccz_trust *trust;
    ccz_collateral *col;
    if (ccz_trust_new(&trust) || ccz_trust_add_builtin(trust) ||
        ccz_collateral_parse(&col, (const char *)cb.ptr, cb.len)) {
        fprintf(stderr, "dcap_bench: %s\n", ccz_error_detail());
        return 2;
    }
    ccz_verify_opts o = CCZ_VERIFY_OPTS_INIT;
    o.at_unix = atoll(argv[3]);
    o.trust = trust;
    o.collateral = col;
    static ccz_result r;
    if (ccz_verify(&r, ccz_buf_span(&q), &o) != CCZ_OK) {
        fprintf(stderr, "dcap_bench: the quote does not verify: %s\n", r.message);
        return 1;
    }
    /* warm quotes and P-256 verifications in alternating slices: on a shared machine both see
     * the same load, so the cost of a quote in P-256 verifications holds */
    bench_run warm = {0}, cold = {0}, p256 = {0};
    bench_ec_sig e;
    bench_ec_sig_init(&e, "P-256", 32);
    double t0, c0, t;
    do {
        t0 = bench_wall();
        c0 = bench_cpu();
        for (int i = 0; i < 20; i++)
            warm.ops += ccz_verify(&r, ccz_buf_span(&q), &o) == CCZ_OK;
        t = bench_wall();
        warm.wall += t - t0;
        warm.cpu += bench_cpu() - c0;
        c0 = bench_cpu();
        for (int i = 0; i < 20; i++)
            p256.ops += bench_ec_verify_once(&e);
        p256.wall += bench_wall() - t;
        p256.cpu += bench_cpu() - c0;
    } while (warm.wall + p256.wall < 2 * seconds);
    EVP_PKEY_CTX_free(e.ctx);
    t0 = bench_wall();
    c0 = bench_cpu();
    do {
        ccz_collateral *c;
        if (ccz_collateral_parse(&c, (const char *)cb.ptr, cb.len))
            return 1;
        o.collateral = c;
        cold.ops += ccz_verify(&r, ccz_buf_span(&q), &o) == CCZ_OK;
        ccz_collateral_free(c);
        t = bench_wall();
    } while (t - t0 < seconds);
    cold.wall = t - t0;
    cold.cpu = bench_cpu() - c0;
    /* the cost in P-256 verifications is a ratio of CPU times in one process: it holds on a
     * loaded machine, where wall-clock rates do not */
    printf("{\"tee\":\"%s\",\"warm_per_s\":%.0f,\"cold_per_s\":%.0f,\"p256_verify_per_s\":%.0f,"
           "\"warm_cost_in_p256_verifies\":%.2f,\"warm_cpu_us\":%.2f,\"cold_cpu_us\":%.2f,"
           "\"p256_verify_cpu_us\":%.2f}\n",
           ccz_tee_name(r.claims.tee), bench_rate(&warm), bench_rate(&cold), bench_rate(&p256),
           bench_cpu_us(&warm) / bench_cpu_us(&p256), bench_cpu_us(&warm), bench_cpu_us(&cold),
           bench_cpu_us(&p256));
    ccz_collateral_free(col);
    ccz_trust_free(trust);
    ccz_buf_free(&q);
    ccz_buf_free(&cb);
    return 0;
}
