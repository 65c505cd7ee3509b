/* SPDX-License-Identifier: Apache-2.0 */
/* Benchmark: SEV-SNP report verifications per second on one core with the VEK chain already
 * verified (cached in the collateral object), next to one P-384 signature verification through
 * the same OpenSSL, the unit the goal is stated in.
 *
 * usage: snp_bench REPORT VEK AT [SECONDS] */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <openssl/ec.h>
#include <openssl/evp.h>

#include "ccz/ccz.h"
#include "clock.h"
#include "sigrate.h"

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: snp_bench REPORT VEK AT [SECONDS]\n");
        return 2;
    }
    double seconds = argc > 4 ? atof(argv[4]) : 2.0;
    ccz_buf raw = CCZ_BUF_INIT, rep = CCZ_BUF_INIT, vek = CCZ_BUF_INIT;
    if (ccz_file_read(&raw, argv[1], 1 << 20) || ccz_file_read(&vek, argv[2], 1 << 20))
        return 2;
    if (raw.len && isxdigit(raw.ptr[0]) && raw.len != CCZ_SNP_REPORT_SIZE) {
        size_t n = raw.len;
        while (n && isspace(raw.ptr[n - 1]))
            n--;
        if (ccz_hex_decode(&rep, (const char *)raw.ptr, n))
            return 2;
    } else {
        rep = raw;
        raw = (ccz_buf)CCZ_BUF_INIT;
    }
    ccz_trust *trust;
    ccz_collateral *col;
    if (ccz_trust_new(&trust) || ccz_trust_add_builtin(trust) ||
        ccz_snp_collateral_new(&col, ccz_buf_span(&vek), CCZ_SPAN(NULL, 0)))
        return 2;
    ccz_verify_opts o = CCZ_VERIFY_OPTS_INIT;
    o.at_unix = atoll(argv[3]);
    o.trust = trust;
    o.collateral = col;
    static ccz_result r;
    if (ccz_verify(&r, ccz_buf_span(&rep), &o) != CCZ_OK) {
        fprintf(stderr, "snp_bench: the report does not verify: %s\n", r.message);
        return 1;
    }
    bench_run warm = {0};
    double t0 = bench_wall(), c0 = bench_cpu(), t;
    do {
        for (int i = 0; i < 20; i++)
            warm.ops += ccz_verify(&r, ccz_buf_span(&rep), &o) == CCZ_OK;
        t = bench_wall();
    } while (t - t0 < seconds);
    warm.wall = t - t0;
    warm.cpu = bench_cpu() - c0;
    bench_run p384 = bench_ec_verify_run("P-384", 48, seconds);
    printf("{\"warm_per_s\":%.0f,\"p384_verify_per_s\":%.0f,\"cost_in_p384_verifies\":%.3f,"
           "\"warm_cpu_us\":%.2f,\"p384_verify_cpu_us\":%.2f}\n",
           bench_rate(&warm), bench_rate(&p384), bench_cpu_us(&warm) / bench_cpu_us(&p384),
           bench_cpu_us(&warm), bench_cpu_us(&p384));
    ccz_collateral_free(col);
    ccz_trust_free(trust);
    ccz_buf_free(&rep);
    ccz_buf_free(&raw);
    ccz_buf_free(&vek);
    return 0;
}
