/* SPDX-License-Identifier: Apache-2.0 */
/* Benchmark: Arm CCA token verifications per second on one core, next to one P-384 signature
 * verification through the same OpenSSL, the unit the goal is stated in (the TF-M token is
 * signed with P-384 twice). "warm": the realm's platform token already verified (remembered),
 * as for every token of a realm after its first; "fresh": a new trust store per token, so both
 * signatures are checked (and the anchors parsed) every time.
 *
 * usage: cca_bench TOKEN ANCHORS [SECONDS] */
#include <stdio.h>
#include <stdlib.h>

#include <openssl/evp.h>

#include "ccz/ccz.h"
#include "clock.h"
#include "sigrate.h"

static bool verify_once(ccz_result *r, ccz_span token, ccz_span anchors, ccz_trust *warm)
{
    ccz_trust *t = warm;
    if (!t && (ccz_trust_new(&t) || ccz_trust_add_cca_anchors(t, anchors)))
        return false;
    ccz_verify_opts o = CCZ_VERIFY_OPTS_INIT;
    o.trust = t;
    o.at_unix = 1767225600;
    bool ok = ccz_verify(r, token, &o) == CCZ_OK;
    if (!warm)
        ccz_trust_free(t);
    return ok;
}

static bench_run run(ccz_span token, ccz_span anchors, ccz_trust *warm, double seconds)
{
    static ccz_result r;
    bench_run b = {0};
    double t0 = bench_wall(), c0 = bench_cpu(), t;
    do {
        for (int i = 0; i < 20; i++)
            b.ops += verify_once(&r, token, anchors, warm);
        t = bench_wall();
    } while (t - t0 < seconds);
    b.wall = t - t0;
    b.cpu = bench_cpu() - c0;
    return b;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: cca_bench TOKEN ANCHORS [SECONDS]\n");
        return 2;
    }
    double seconds = argc > 3 ? atof(argv[3]) : 2.0;
    ccz_buf token = CCZ_BUF_INIT, anchors = CCZ_BUF_INIT;
    ccz_trust *trust;
    if (ccz_file_read(&token, argv[1], 1 << 20) || ccz_file_read(&anchors, argv[2], 1 << 20) ||
        ccz_trust_new(&trust) || ccz_trust_add_cca_anchors(trust, ccz_buf_span(&anchors)))
        return 2;
    static ccz_result r;
    if (!verify_once(&r, ccz_buf_span(&token), ccz_buf_span(&anchors), trust)) {
        fprintf(stderr, "cca_bench: the token does not verify: %s\n", r.message);
        return 1;
    }
    bench_run warm = run(ccz_buf_span(&token), ccz_buf_span(&anchors), trust, seconds);
    bench_run fresh = run(ccz_buf_span(&token), ccz_buf_span(&anchors), NULL, seconds);
    bench_run p384 = bench_ec_verify_run("P-384", 48, seconds);
    printf("{\"warm_per_s\":%.0f,\"fresh_per_s\":%.0f,\"p384_verify_per_s\":%.0f,"
           "\"warm_cost_in_p384_verifies\":%.3f,\"fresh_cost_in_p384_verifies\":%.3f,"
           "\"warm_cpu_us\":%.2f,\"fresh_cpu_us\":%.2f,\"p384_verify_cpu_us\":%.2f}\n",
           bench_rate(&warm), bench_rate(&fresh), bench_rate(&p384),
           bench_cpu_us(&warm) / bench_cpu_us(&p384), bench_cpu_us(&fresh) / bench_cpu_us(&p384),
           bench_cpu_us(&warm), bench_cpu_us(&fresh), bench_cpu_us(&p384));
    ccz_trust_free(trust);
    ccz_buf_free(&token);
    ccz_buf_free(&anchors);
    return 0;
}
