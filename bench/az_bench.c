/* SPDX-License-Identifier: Apache-2.0 */
/* Benchmark: Azure confidential VM evidence (trustee's az-snp-vtpm JSON: HCL report, vTPM quote,
 * SEV-SNP report) verified per second on one core with a trust store kept between calls (the
 * AMD chain and the VCEK parsed once), and with a fresh trust store each time; beside the
 * signature verifications it rests on, through the same OpenSSL: RSA-2048 PKCS#1 v1.5 with
 * SHA-256 (the vTPM's attestation key over the TPM quote) and ECDSA P-384 with SHA-384 (the VCEK
 * over the SNP report). The cost is given in those units: one of each is the least any verifier
 * can do per evidence.
 *
 * usage: az_bench EVIDENCE.json [SECONDS] */
#include <stdio.h>
#include <stdlib.h>

#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "ccz/ccz.h"
#include "clock.h"

#define AZ_NOW 1767225600 /* cases.json's now_unix: 2026-01-01 */

/* Verifications of one signature over a message of msg_len bytes with a fresh key of the kind
 * keygen makes (RSA-2048 or P-384). */
static bench_run verify_run(EVP_PKEY *k, const EVP_MD *md_type, size_t msg_len, double seconds)
{
    unsigned char msg[1184] = {1}, sig[512];
    size_t sig_len = sizeof sig;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_DigestSignInit(md, NULL, md_type, NULL, k);
    EVP_DigestSign(md, sig, &sig_len, msg, msg_len);
    EVP_MD_CTX_free(md);
    bench_run r = {0};
    double t0 = bench_wall(), c0 = bench_cpu(), t;
    do {
        for (int i = 0; i < 20; i++) {
            md = EVP_MD_CTX_new();
            r.ops += EVP_DigestVerifyInit(md, NULL, md_type, NULL, k) == 1 &&
                     EVP_DigestVerify(md, sig, sig_len, msg, msg_len) == 1;
            EVP_MD_CTX_free(md);
        }
        t = bench_wall();
    } while (t - t0 < seconds);
    r.wall = t - t0;
    r.cpu = bench_cpu() - c0;
    return r;
}

static bench_run evidence_run(ccz_span ev, ccz_trust *kept, double seconds)
{
    ccz_verify_opts o = CCZ_VERIFY_OPTS_INIT;
    o.at_unix = AZ_NOW;
    static ccz_result r;
    bench_run b = {0};
    double t0 = bench_wall(), c0 = bench_cpu(), t;
    do {
        for (int i = 0; i < 10; i++) {
            ccz_trust *fresh = NULL;
            if (!kept && (ccz_trust_new(&fresh) || ccz_trust_add_builtin(fresh)))
                exit(2);
            o.trust = kept ? kept : fresh;
            b.ops += ccz_verify(&r, ev, &o) == CCZ_OK;
            ccz_trust_free(fresh);
        }
        t = bench_wall();
    } while (t - t0 < seconds);
    b.wall = t - t0;
    b.cpu = bench_cpu() - c0;
    return b;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: az_bench EVIDENCE.json [SECONDS]\n");
        return 2;
    }
    double seconds = argc > 2 ? atof(argv[2]) : 2.0;
    ccz_buf ev = CCZ_BUF_INIT;
    if (ccz_file_read(&ev, argv[1], 1 << 20))
        return 2;
    ccz_trust *trust;
    if (ccz_trust_new(&trust) || ccz_trust_add_builtin(trust))
        return 2;
    ccz_verify_opts o = CCZ_VERIFY_OPTS_INIT;
    o.at_unix = AZ_NOW;
    o.trust = trust;
    static ccz_result r;
    if (ccz_verify(&r, ccz_buf_span(&ev), &o) != CCZ_OK) {
        fprintf(stderr, "az_bench: the evidence does not verify: %s\n", r.message);
        return 1;
    }
    bench_run warm = evidence_run(ccz_buf_span(&ev), trust, seconds);
    bench_run cold = evidence_run(ccz_buf_span(&ev), NULL, seconds);
    EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    EVP_PKEY *p384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    if (!rsa || !p384)
        return 2;
    /* a TPM quote's attest structure is about 150 bytes; the SNP report's signed part 672 */
    bench_run rv = verify_run(rsa, EVP_sha256(), 150, seconds);
    bench_run ev384 = verify_run(p384, EVP_sha384(), 672, seconds);
    double unit = bench_cpu_us(&rv) + bench_cpu_us(&ev384);
    printf("{\"warm_per_s\":%.0f,\"cold_per_s\":%.0f,\"rsa2048_verify_per_s\":%.0f,"
           "\"p384_verify_per_s\":%.0f,\"warm_cpu_us\":%.2f,\"cold_cpu_us\":%.2f,"
           "\"rsa2048_verify_cpu_us\":%.2f,\"p384_verify_cpu_us\":%.2f,"
           "\"cost_in_rsa_plus_p384\":%.3f,\"cold_cost_in_rsa_plus_p384\":%.3f,"
           "\"cost_in_p384_verifies\":%.3f}\n",
           bench_rate(&warm), bench_rate(&cold), bench_rate(&rv), bench_rate(&ev384),
           bench_cpu_us(&warm), bench_cpu_us(&cold), bench_cpu_us(&rv), bench_cpu_us(&ev384),
           bench_cpu_us(&warm) / unit, bench_cpu_us(&cold) / unit,
           bench_cpu_us(&warm) / bench_cpu_us(&ev384));
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(p384);
    ccz_trust_free(trust);
    ccz_buf_free(&ev);
    return 0;
}
