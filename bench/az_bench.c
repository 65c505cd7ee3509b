/* SPDX-License-Identifier: Apache-2.0 */
/* Benchmark: Azure confidential VM evidence (trustee's az-snp-vtpm JSON: HCL report, vTPM quote,
 * SEV-SNP report) verified per second on one core with a trust store kept between calls (the
 * AMD chain and the VCEK parsed once), and with a fresh trust store each time; beside the
 * signature verifications it rests on, through the same OpenSSL: RSA-2048 PKCS#1 v1.5 with
 * SHA-256 (the vTPM's attestation key over the TPM quote) and ECDSA P-384 with SHA-384 (the VCEK
 * over the SNP report). The cost is given in those units: one of each is the least any verifier
 * can do per evidence. The four are measured in turns of about 20 ms, not one after another, so
 * that load from elsewhere on a shared machine falls on all of them alike.
 *
 * usage: az_bench EVIDENCE.json [SECONDS] */
#include <stdio.h>
#include <stdlib.h>

#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "ccz/ccz.h"
#include "clock.h"

#define AZ_NOW 1767225600 /* cases.json's now_unix: 2026-01-01 */

/* The four kinds measured, in turns of about 20 ms each, so that on a shared machine each sees
 * the same conditions and the ratios between them hold better than the rates. */
enum { K_WARM, K_COLD, K_RSA, K_P384, N_KINDS };

typedef struct {
    ccz_span ev;
    ccz_trust *kept;
    EVP_PKEY *key[N_KINDS]; /* K_RSA and K_P384: the signing key */
    const EVP_MD *md[N_KINDS];
    unsigned char sig[N_KINDS][512];
    size_t sig_len[N_KINDS], msg_len[N_KINDS];
} bench_ctx;

static const unsigned char msg[1184] = {1};

/* A signature over a message of msg_len bytes, to verify (RSA-2048 or P-384). */
static void sign(bench_ctx *b, int kind, EVP_PKEY *k, const EVP_MD *md, size_t msg_len)
{
    b->key[kind] = k;
    b->md[kind] = md;
    b->msg_len[kind] = msg_len;
    b->sig_len[kind] = sizeof b->sig[kind];
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    if (!c || EVP_DigestSignInit(c, NULL, md, NULL, k) != 1 ||
        EVP_DigestSign(c, b->sig[kind], &b->sig_len[kind], msg, msg_len) != 1)
        exit(2);
    EVP_MD_CTX_free(c);
}

static int op(bench_ctx *b, int kind)
{
    static ccz_result r;
    if (kind == K_WARM || kind == K_COLD) {
        ccz_verify_opts o = CCZ_VERIFY_OPTS_INIT;
        o.at_unix = AZ_NOW;
        ccz_trust *fresh = NULL;
        if (kind == K_COLD && (ccz_trust_new(&fresh) || ccz_trust_add_builtin(fresh)))
            exit(2);
        o.trust = kind == K_WARM ? b->kept : fresh;
        int ok = ccz_verify(&r, b->ev, &o) == CCZ_OK;
        ccz_trust_free(fresh);
        return ok;
    }
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    int ok = c && EVP_DigestVerifyInit(c, NULL, b->md[kind], NULL, b->key[kind]) == 1 &&
             EVP_DigestVerify(c, b->sig[kind], b->sig_len[kind], msg, b->msg_len[kind]) == 1;
    EVP_MD_CTX_free(c);
    return ok;
}

static void measure(bench_run r[N_KINDS], bench_ctx *b, double seconds)
{
    while (r[K_WARM].wall < seconds)
        for (int k = 0; k < N_KINDS; k++) {
            double t0 = bench_wall(), c0 = bench_cpu(), t;
            do {
                r[k].ops += op(b, k);
                t = bench_wall();
            } while (t - t0 < 0.02);
            r[k].wall += t - t0;
            r[k].cpu += bench_cpu() - c0;
        }
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
    EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    EVP_PKEY *p384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    if (!rsa || !p384)
        return 2;
    bench_ctx bc = {.ev = ccz_buf_span(&ev), .kept = trust};
    /* a TPM quote's attest structure is about 150 bytes; the SNP report's signed part 672 */
    sign(&bc, K_RSA, rsa, EVP_sha256(), 150);
    sign(&bc, K_P384, p384, EVP_sha384(), 672);
    bench_run runs[N_KINDS] = {0};
    measure(runs, &bc, seconds);
    bench_run warm = runs[K_WARM], cold = runs[K_COLD], rv = runs[K_RSA], ev384 = runs[K_P384];
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
