/* SPDX-License-Identifier: Apache-2.0 */
/* Benchmark: Hygon CSV report verifications per second on one core, with the HSK/CEK chain and
 * the PEK already verified (cached in the collateral object) and cold (a fresh collateral each
 * time: HRK -> HSK -> CEK -> PEK -> report), next to one SM2 signature verification with SM3
 * and a distinguishing id through the same OpenSSL, the unit the goal is stated in.
 *
 * usage: csv_bench REPORT HSK_CEK [SECONDS] */
#include <stdio.h>
#include <stdlib.h>

#include <openssl/evp.h>

#include "ccz/ccz.h"
#include "clock.h"

/* SM2 verifications of a 180-byte message (a version 1 report's signed part) with an id. */
static bench_run sm2_verify_run(double seconds)
{
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "SM2");
    static const char id[] = "HYGON-SSD-PEK";
    unsigned char msg[180] = {1}, sig[80];
    size_t sig_len = sizeof sig;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_pkey(NULL, k, NULL);
    EVP_PKEY_CTX_set1_id(pctx, id, sizeof id - 1);
    EVP_MD_CTX_set_pkey_ctx(md, pctx);
    EVP_DigestSignInit(md, NULL, EVP_sm3(), NULL, k);
    EVP_DigestSign(md, sig, &sig_len, msg, sizeof msg);
    EVP_MD_CTX_free(md);
    EVP_PKEY_CTX_free(pctx);
    bench_run r = {0};
    double t0 = bench_wall(), c0 = bench_cpu(), t;
    do {
        for (int i = 0; i < 20; i++) {
            md = EVP_MD_CTX_new();
            pctx = EVP_PKEY_CTX_new_from_pkey(NULL, k, NULL);
            EVP_PKEY_CTX_set1_id(pctx, id, sizeof id - 1);
            EVP_MD_CTX_set_pkey_ctx(md, pctx);
            r.ops += EVP_DigestVerifyInit(md, NULL, EVP_sm3(), NULL, k) == 1 &&
                     EVP_DigestVerify(md, sig, sig_len, msg, sizeof msg) == 1;
            EVP_MD_CTX_free(md);
            EVP_PKEY_CTX_free(pctx);
        }
        t = bench_wall();
    } while (t - t0 < seconds);
    r.wall = t - t0;
    r.cpu = bench_cpu() - c0;
    EVP_PKEY_free(k);
    return r;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: csv_bench REPORT HSK_CEK [SECONDS]\n");
        return 2;
    }
    double seconds = argc > 3 ? atof(argv[3]) : 2.0;
    ccz_buf rep = CCZ_BUF_INIT, bundle = CCZ_BUF_INIT;
    if (ccz_file_read(&rep, argv[1], 1 << 20) || ccz_file_read(&bundle, argv[2], 1 << 20))
        return 2;
    ccz_trust *trust;
    ccz_collateral *col;
    if (ccz_trust_new(&trust) || ccz_trust_add_builtin(trust) ||
        ccz_csv_collateral_new(&col, ccz_buf_span(&bundle)))
        return 2;
    ccz_verify_opts o = CCZ_VERIFY_OPTS_INIT;
    o.at_unix = 1767225600;
    o.trust = trust;
    o.collateral = col;
    static ccz_result r;
    if (ccz_verify(&r, ccz_buf_span(&rep), &o) != CCZ_OK) {
        fprintf(stderr, "csv_bench: the report does not verify: %s\n", r.message);
        return 1;
    }
    bench_run warm = {0}, cold = {0};
    double t0 = bench_wall(), c0 = bench_cpu(), t;
    do {
        for (int i = 0; i < 20; i++)
            warm.ops += ccz_verify(&r, ccz_buf_span(&rep), &o) == CCZ_OK;
        t = bench_wall();
    } while (t - t0 < seconds);
    warm.wall = t - t0;
    warm.cpu = bench_cpu() - c0;
    t0 = bench_wall(), c0 = bench_cpu();
    do {
        for (int i = 0; i < 5; i++) {
            ccz_collateral *fresh;
            if (ccz_csv_collateral_new(&fresh, ccz_buf_span(&bundle)))
                return 2;
            o.collateral = fresh;
            cold.ops += ccz_verify(&r, ccz_buf_span(&rep), &o) == CCZ_OK;
            ccz_collateral_free(fresh);
        }
        t = bench_wall();
    } while (t - t0 < seconds);
    cold.wall = t - t0;
    cold.cpu = bench_cpu() - c0;
    bench_run sm2 = sm2_verify_run(seconds);
    printf("{\"warm_per_s\":%.0f,\"cold_per_s\":%.0f,\"sm2_verify_per_s\":%.0f,"
           "\"cost_in_sm2_verifies\":%.3f,\"cold_cost_in_sm2_verifies\":%.3f,"
           "\"warm_cpu_us\":%.2f,\"cold_cpu_us\":%.2f,\"sm2_verify_cpu_us\":%.2f}\n",
           bench_rate(&warm), bench_rate(&cold), bench_rate(&sm2),
           bench_cpu_us(&warm) / bench_cpu_us(&sm2), bench_cpu_us(&cold) / bench_cpu_us(&sm2),
           bench_cpu_us(&warm), bench_cpu_us(&cold), bench_cpu_us(&sm2));
    ccz_collateral_free(col);
    ccz_trust_free(trust);
    ccz_buf_free(&rep);
    ccz_buf_free(&bundle);
    return 0;
}
