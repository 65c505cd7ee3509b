/* SPDX-License-Identifier: Apache-2.0 */
/* ccz he: lattice HE presets and timings. params lists the presets and where they stand in the
 * HomomorphicEncryption.org 128-bit table; bench times the operations (microseconds each, one
 * core) and prints JSON, the figures bench/lattice sets beside Microsoft SEAL. The encrypted
 * database query (he query) is cmd_he_query.c. */
#include <complex.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

const char cli_he_usage[] =
    "usage: ccz he params [--json]\n"
    "       ccz he bench [--log-n 13|14] [--seconds S] [--plain-modulus T]\n"
    "       ccz he lr serve --model FILE.csv --listen ADDR [--insecure-params] [--threads N]\n"
    "                       [--mode server|two-way] [--max-conns N] [--max-per-peer N]\n"
    "                       [--handshake-timeout MS] [--idle-timeout MS]\n"
    "                       [--cert CERT --key KEY | attester options]\n"
    "                       [verify options]\n"
    "       ccz he lr infer HOST:PORT --data FILE.csv [--insecure-params] [--out FILE]\n"
    "                       [--deadline MS] [--threads N] [--mode server|two-way]\n"
    "                       [--cert CERT --key KEY | attester options] [verify options]\n"
    "       ccz he query serve --db FILE.csv --listen ADDR [--threads N] [--max-pending N]\n"
    "                          [--mode two-way|server] [--handshake-timeout MS]\n"
    "                          [--idle-timeout MS] [--max-conns N] [--max-per-peer N]\n"
    "                          [--cert CERT --cert-key KEY | attester options] [verify options]\n"
    "       ccz he query lookup HOST:PORT --key KEY [--algorithm faithful|fast|packed]\n"
    "                          [--deadline MS] [--timeout MS] [--mode two-way|server]\n"
    "                          [--cert CERT --cert-key KEY | attester options] [verify options]\n"
    "\n"
    "params lists the BFV and CKKS presets for N = 4096 to 32768: the prime chain (bits; the\n"
    "last prime is the special prime for key switching), its total against the 128-bit\n"
    "security limit, the slots, and t (BFV) or the scale (CKKS).\n"
    "bench times, in microseconds on one core: the NTT of one 49-bit and one 60-bit prime\n"
    "(forward, inverse), and BFV and CKKS encryption, decryption, multiplication with\n"
    "relinearization, rescaling and rotation with the presets (CKKS: 60,40,40,60 at 8192,\n"
    "60,50x6,60 at 16384), printed as JSON. --plain-modulus sets BFV's t (17 for the encrypted\n"
    "query's products; a t that cannot batch encodes coefficients).\n"
    "lr is CCZoo's encrypted logistic-regression inference (lr_infer_he_sgx; package\n"
    "inference, proto/he_lr.proto) over RA-gRPC. serve holds the model in the clear inside\n"
    "the TEE: a CSV line, the bias then one weight per feature. infer reads the data (a header\n"
    "line, then per sample its features and last its label, 0 or 1), makes fresh CKKS keys,\n"
    "sends the parameters, public and relinearization keys (InitCtx), then the samples\n"
    "encrypted feature by feature, 4096 samples per ciphertext (Infer). The server multiplies\n"
    "them by the weights, adds the bias and evaluates the sigmoid 0.5 + 0.15012 z -\n"
    "0.001593008 z^3; infer decrypts, takes class 1 at 0.5 and above, prints 'accuracy:\n"
    "0.xxx' on standard output and the sizes and timings on standard error; --out FILE\n"
    "writes the probabilities, one per line. Parameters: N 8192, scale 2^45, primes\n"
    "50,45,45,28 and the special prime 50 (128-bit secure: the default), or with\n"
    "--insecure-params the HE toolkit's 60,45,45,45,45,60 (300 bits, beyond the 128-bit\n"
    "table), which the server takes only when started with --insecure-params too. Mode:\n"
    "server (the default: only the server is attested; the client needs no TEE) or two-way.\n"
    "--threads sets the threads of one encryption or evaluation (default: one per CPU).\n"
    "query: the HE toolkit's secure-query sample over RA-gRPC (ccz.hequery.HeQuery). serve\n"
    "holds FILE.csv (\"key,value\" lines; keys compared on their first 8 bytes, unique) and\n"
    "answers lookups without seeing the key or the value: each lookup brings a fresh BFV key\n"
    "pair's public and relinearization keys and the key encrypted nibble by nibble. lookup\n"
    "prints the value on standard output (an empty line when no key matches; keys longer than\n"
    "8 bytes are cut to 8) and the noise budget left, timings and bytes on standard error.\n"
    "--algorithm: fast (the default: N = 8192, t = 17, the sample's parameters and answer with\n"
    "less work), faithful (the sample's own algorithm, for comparison: slow), packed (N =\n"
    "16384, t = 65537, entries in slots). --threads: the server's threads per query (default:\n"
    "one per CPU); --max-pending: queries waiting or running at once (default 4; more get\n"
    "RESOURCE_EXHAUSTED). A query the server cannot use (wrong parameters, keys or ciphertexts\n"
    "of other parameters, truncated or oversized) gets INVALID_ARGUMENT and the reason.\n"
    "Modes: two-way (the default: both sides attested), server (the client has no TEE); the\n"
    "RA-TLS identity is --cert/--cert-key or the attester options.\n" CLI_VERIFY_HELP
        CLI_ATTESTER_HELP;

static int params(bool json)
{
    if (json)
        printf("[");
    bool first = true;
    for (unsigned l = 12; l <= 15; l++)
        for (int s = CCZ_LATTICE_BFV; s <= CCZ_LATTICE_CKKS; s++) {
            ccz_lattice_params p;
            if (ccz_lattice_preset(&p, (ccz_lattice_scheme)s, l))
                return cli_fail(CCZ_ERR_INVALID_ARGUMENT, "he params: %s", ccz_error_detail());
            unsigned total = 0;
            char chain[256] = "";
            for (unsigned i = 0; i < p.n_primes; i++) {
                total += p.coeff_bits[i];
                size_t len = strlen(chain);
                snprintf(chain + len, sizeof chain - len, "%s%u", i ? "," : "", p.coeff_bits[i]);
            }
            unsigned max = ccz_lattice_max_bits_128(l);
            size_t slots = s == CCZ_LATTICE_BFV ? (size_t)1 << l : (size_t)1 << (l - 1);
            if (json) {
                printf(
                    "%s\n  {\"scheme\": \"%s\", \"n\": %u, \"coeff_bits\": [%s], \"total_bits\": "
                    "%u, \"max_bits_128\": %u, \"security\": \"128-bit\", \"slots\": %zu, ",
                    first ? "" : ",", s == CCZ_LATTICE_BFV ? "bfv" : "ckks", 1u << l, chain, total,
                    max, slots);
                if (s == CCZ_LATTICE_BFV)
                    printf("\"plain_modulus\": %llu}", (unsigned long long)p.plain_modulus);
                else
                    printf("\"scale_bits\": %d}", (int)log2(p.scale));
            } else {
                printf("%-5s N=%-6u primes %-52s %3u bits (128-bit limit %u)  %zu slots  ",
                       s == CCZ_LATTICE_BFV ? "BFV" : "CKKS", 1u << l, chain, total, max, slots);
                if (s == CCZ_LATTICE_BFV)
                    printf("t=%llu\n", (unsigned long long)p.plain_modulus);
                else
                    printf("scale=2^%d\n", (int)log2(p.scale));
            }
            first = false;
        }
    if (json)
        printf("\n]\n");
    return EXIT_OK;
}

static double secs = 1;
static uint64_t bench_t; /* BFV's plain modulus when set (--plain-modulus) */
static double cpu_us_;   /* the CPU time per operation of the last TIME() */

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

#define TIME(expr)                                                                                 \
    ({                                                                                             \
        (void)!(expr); /* warm */                                                                  \
        double t0_ = cli_now(), c0_ = cpu_now(), t_;                                               \
        long k_ = 0;                                                                               \
        do {                                                                                       \
            if ((expr) != CCZ_OK)                                                                  \
                return cli_fail(CCZ_ERR_CRYPTO, "he bench: %s", ccz_error_detail());               \
            k_++;                                                                                  \
            t_ = cli_now();                                                                        \
        } while (t_ - t0_ < secs);                                                                 \
        cpu_us_ = 1e6 * (cpu_now() - c0_) / (double)k_;                                            \
        1e6 * (t_ - t0_) / (double)k_;                                                             \
    })

/* "PRE_NAME_us" (wall clock) and "PRE_NAME_cpu_us" (this process's CPU time) of expr */
#define EMIT(pre, name, expr)                                                                      \
    do {                                                                                           \
        double w_ = TIME(expr);                                                                    \
        printf(", \"%s_%s_us\": %.1f, \"%s_%s_cpu_us\": %.1f", pre, name, w_, pre, name, cpu_us_); \
    } while (0)

enum { BATCH = 16 };

static int bench_many_run(const char *pre, const ccz_lattice_context *ctx,
                          const ccz_lattice_public_key *pk, const ccz_lattice_relin_keys *rk,
                          ccz_lattice_ciphertext **in, ccz_lattice_ciphertext **out,
                          const ccz_lattice_plaintext **pts, const ccz_lattice_ciphertext **a,
                          const ccz_lattice_ciphertext **b)
{
    double w = TIME(ccz_lattice_encrypt_many(in, ctx, pk, pts, BATCH, 0));
    printf(", \"%s_encrypt_many_us\": %.1f, \"%s_encrypt_many_cpu_us\": %.1f", pre, w / BATCH, pre,
           cpu_us_ / BATCH);
    w = TIME(ccz_lattice_mul_many(out, ctx, a, b, BATCH, rk, 0));
    printf(", \"%s_mul_relin_many_us\": %.1f, \"%s_mul_relin_many_cpu_us\": %.1f", pre, w / BATCH,
           pre, cpu_us_ / BATCH);
    return EXIT_OK;
}

/* A batch of BATCH encryptions and then BATCH products on every CPU (ccz_lattice_encrypt_many,
 * ccz_lattice_mul_many): "PRE_encrypt_many_us" and "PRE_mul_relin_many_us", wall clock and this
 * process's CPU time per ciphertext. */
static int bench_many(const char *pre, const ccz_lattice_context *ctx,
                      const ccz_lattice_public_key *pk, const ccz_lattice_relin_keys *rk,
                      const ccz_lattice_plaintext *pt)
{
    ccz_lattice_ciphertext *in[BATCH] = {0}, *out[BATCH] = {0};
    const ccz_lattice_plaintext *pts[BATCH];
    const ccz_lattice_ciphertext *a[BATCH], *b[BATCH];
    int rc = EXIT_OK;
    for (int i = 0; i < BATCH && rc == EXIT_OK; i++) {
        pts[i] = pt;
        if (ccz_lattice_ciphertext_new(&in[i], ctx) || ccz_lattice_ciphertext_new(&out[i], ctx))
            rc = cli_fail(CCZ_ERR_NOMEM, "he bench: %s", ccz_error_detail());
    }
    for (int i = 0; i < BATCH; i++) {
        a[i] = in[i];
        b[i] = in[(i + 1) % BATCH];
    }
    if (rc == EXIT_OK)
        rc = bench_many_run(pre, ctx, pk, rk, in, out, pts, a, b);
    for (int i = 0; i < BATCH; i++) {
        ccz_lattice_ciphertext_free(in[i]);
        ccz_lattice_ciphertext_free(out[i]);
    }
    return rc;
}

static int bench(unsigned log_n)
{
    size_t n = (size_t)1 << log_n;
    printf("{\"n\": %zu, \"simd\": \"%s\"", n, ccz_lattice_simd());
    unsigned bits[2] = {49, 60};
    for (int b = 0; b < 2; b++) {
        double f, iv, w0 = cli_now(), c0 = cpu_now();
        if (ccz_lattice_ntt_bench(&f, &iv, log_n, bits[b], secs))
            return cli_fail(CCZ_ERR_CRYPTO, "he bench: %s", ccz_error_detail());
        /* CPU time: the run's share of wall clock, applied to both directions */
        double share = (cpu_now() - c0) / (cli_now() - w0);
        printf(", \"ntt_fwd_%u_us\": %.2f, \"ntt_inv_%u_us\": %.2f, \"ntt_fwd_%u_cpu_us\": %.2f, "
               "\"ntt_inv_%u_cpu_us\": %.2f",
               bits[b], f, bits[b], iv, bits[b], f * share, bits[b], iv * share);
    }
    for (int s = CCZ_LATTICE_BFV; s <= CCZ_LATTICE_CKKS; s++) {
        ccz_lattice_params p;
        ccz_lattice_context *ctx;
        ccz_lattice_secret_key *sk;
        ccz_lattice_public_key *pk;
        ccz_lattice_relin_keys *rk;
        ccz_lattice_galois_keys *gk;
        ccz_lattice_plaintext *pt, *out;
        ccz_lattice_ciphertext *c1, *c2, *c3;
        static const int steps[4] = {1, 2, 3, 4};
        if (ccz_lattice_preset(&p, (ccz_lattice_scheme)s, log_n) ||
            (s == CCZ_LATTICE_BFV && bench_t && !(p.plain_modulus = bench_t)) ||
            ccz_lattice_context_new(&ctx, &p) || ccz_lattice_keygen(&sk, &pk, ctx) ||
            ccz_lattice_relin_keygen(&rk, ctx, sk) ||
            ccz_lattice_galois_keygen(&gk, ctx, sk, steps, 4, false) ||
            ccz_lattice_plaintext_new(&pt, ctx) || ccz_lattice_plaintext_new(&out, ctx) ||
            ccz_lattice_ciphertext_new(&c1, ctx) || ccz_lattice_ciphertext_new(&c2, ctx) ||
            ccz_lattice_ciphertext_new(&c3, ctx))
            return cli_fail(CCZ_ERR_CRYPTO, "he bench: %s", ccz_error_detail());
        size_t slots = ccz_lattice_slots(ctx);
        const char *pre = s == CCZ_LATTICE_BFV ? "bfv" : "ckks";
        if (s == CCZ_LATTICE_BFV) {
            uint64_t *v = calloc(n, 8);
            for (size_t i = 0; i < n; i++)
                v[i] = 3 % p.plain_modulus;
            /* batching when t allows it, else coefficients */
            bool batch = ccz_lattice_bfv_encode(pt, ctx, v, slots) == CCZ_OK;
            if (batch)
                EMIT("bfv", "encode", ccz_lattice_bfv_encode(pt, ctx, v, slots));
            else
                EMIT("bfv", "encode", ccz_lattice_bfv_encode_coeffs(pt, ctx, v, n));
            free(v);
            printf(", \"bfv_plain_modulus\": %llu", (unsigned long long)p.plain_modulus);
        } else {
            double complex *v = calloc(slots, sizeof *v);
            for (size_t i = 0; i < slots; i++)
                v[i] = 1.5;
            EMIT("ckks", "encode", ccz_lattice_ckks_encode(pt, ctx, v, slots, p.scale, 0));
            free(v);
        }
        if (ccz_lattice_encrypt(c1, ctx, pk, pt) || ccz_lattice_encrypt(c2, ctx, pk, pt))
            return cli_fail(CCZ_ERR_CRYPTO, "he bench: %s", ccz_error_detail());
        EMIT(pre, "encrypt", ccz_lattice_encrypt(c3, ctx, pk, pt));
        EMIT(pre, "decrypt", ccz_lattice_decrypt(out, ctx, sk, c1));
        EMIT(pre, "add", ccz_lattice_add(c3, ctx, c1, c2));
        EMIT(pre, "mul_relin", ccz_lattice_mul(c3, ctx, c1, c2, rk));
        if (s == CCZ_LATTICE_CKKS) {
            ccz_lattice_ciphertext *m;
            if (ccz_lattice_ciphertext_new(&m, ctx) || ccz_lattice_mul(m, ctx, c1, c2, rk))
                return cli_fail(CCZ_ERR_CRYPTO, "he bench: %s", ccz_error_detail());
            EMIT("ckks", "rescale", ccz_lattice_ckks_rescale_to(c3, ctx, m));
            /* precision of 1.5 * 1.5 after relinearization and rescaling */
            double complex *got = calloc(slots, sizeof *got), *want = calloc(slots, sizeof *want);
            for (size_t i = 0; i < slots; i++)
                want[i] = 2.25;
            if (ccz_lattice_decrypt(out, ctx, sk, c3) || ccz_lattice_ckks_decode(got, ctx, out))
                return cli_fail(CCZ_ERR_CRYPTO, "he bench: %s", ccz_error_detail());
            printf(", \"ckks_mul_precision_bits\": %.1f",
                   ccz_lattice_ckks_precision_bits(want, got, slots));
            free(got);
            free(want);
            ccz_lattice_ciphertext_free(m);
        }
        EMIT(pre, "rotate", ccz_lattice_rotate(c3, ctx, c1, 1, gk));
        {
            /* four rotations of one ciphertext, hoisted: per rotation */
            ccz_lattice_ciphertext *r4[4] = {c2, c3, c3, c3};
            double w = TIME(ccz_lattice_rotate_hoisted(r4, ctx, c1, steps, 4, gk));
            printf(", \"%s_rotate_hoisted_us\": %.1f, \"%s_rotate_hoisted_cpu_us\": %.1f", pre,
                   w / 4, pre, cpu_us_ / 4);
        }
        int rc = bench_many(pre, ctx, pk, rk, pt);
        if (rc != EXIT_OK)
            return rc;
        ccz_lattice_ciphertext_free(c1);
        ccz_lattice_ciphertext_free(c2);
        ccz_lattice_ciphertext_free(c3);
        ccz_lattice_plaintext_free(pt);
        ccz_lattice_plaintext_free(out);
        ccz_lattice_galois_keys_free(gk);
        ccz_lattice_relin_keys_free(rk);
        ccz_lattice_public_key_free(pk);
        ccz_lattice_secret_key_free(sk);
        ccz_lattice_context_free(ctx);
    }
    printf("}\n");
    return EXIT_OK;
}

static int he_command(int argc, char **argv);

static const cli_command he_cmds[] = {
    {"params", he_command, NULL, 0},
    {"bench", he_command, NULL, 0},
    {"lr", cmd_he_lr, NULL, 0},
    {"query", cmd_he_query, NULL, 0},
};
static const cli_group he_group = CLI_GROUP("he", cli_he_usage, he_cmds, "he command", NULL, NULL);

int cmd_he(int argc, char **argv)
{
    return cli_dispatch(&he_group, argc, argv);
}

/* params or bench (argv[0]) and their options */
static int he_command(int argc, char **argv)
{
    bool json = false, is_params = !strcmp(argv[0], "params"), is_bench = !is_params;
    unsigned log_n = 13;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            return cli_help(&he_group);
        } else if (is_params && !strcmp(argv[i], "--json")) {
            json = true;
        } else if (is_bench && !strcmp(argv[i], "--log-n") && i + 1 < argc) {
            unsigned long long v;
            if (cli_number(argv[++i], 15, &v) != CCZ_OK || v < 12)
                return cli_usage_error("he", "--log-n: 12 to 15, not '%s'", argv[i]);
            log_n = (unsigned)v;
        } else if (is_bench && !strcmp(argv[i], "--seconds") && i + 1 < argc) {
            if (cli_seconds(argv[++i], 600, &secs) != CCZ_OK)
                return cli_usage_error("he", "--seconds: %s", ccz_error_detail());
        } else if (is_bench && !strcmp(argv[i], "--plain-modulus") && i + 1 < argc) {
            unsigned long long t;
            /* digits only: strtoull would take "-3" as 2^64 - 3, which wraps to 3 */
            if (cli_number(argv[++i], (1ull << 60) - 1, &t) != CCZ_OK || t < 2)
                return cli_usage_error("he", "--plain-modulus: an integer from 2 to 2^60, not '%s'",
                                       argv[i]);
            bench_t = t;
        } else if (is_bench && (!strcmp(argv[i], "--log-n") || !strcmp(argv[i], "--seconds") ||
                                !strcmp(argv[i], "--plain-modulus"))) {
            return cli_usage_error("he", "%s needs a value", argv[i]); /* the last argument */
        } else {
            return cli_usage_error(
                "he", "'%s' is not an option of 'he %s'%s", argv[i], argv[0],
                is_bench && !strcmp(argv[i], "--json") ? " (bench always prints JSON)" : "");
        }
    }
    return is_params ? params(json) : bench(log_n);
}
