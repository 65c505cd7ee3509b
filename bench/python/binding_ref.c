/* SPDX-License-Identifier: Apache-2.0 */
/* The C side of the Python binding's overhead benchmark (bench/python/run): the same operations
 * the binding's calls make, in C, timed the same way. Prints one JSON object.
 *   binding_ref verify EVIDENCE COLLATERAL ROOT_CA AT SECONDS   objects made once, SECONDS each:
 *                                        ccz_verdict_json (verify), ccz_verdict_run and
 *                                        ccz_verdict_to_json (verify_tree), ccz_verdict_marshal
 *   binding_ref paillier BITS SECONDS    ccz_paillier_encrypt one value at a time, then eight at
 *                                        a time (ccz_paillier_encrypt_batch, one thread) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "ccz/ccz.h"
#include "../clock.h"

static void die(const char *what)
{
    fprintf(stderr, "binding_ref: %s: %s\n", what, ccz_error_detail());
    exit(1);
}

static void report(const char *op, long n, double wall, double cpu)
{
    printf("{\"op\": \"%s\", \"n\": %ld, \"per_s\": %.2f, \"per_cpu_s\": %.2f}\n", op, n, n / wall,
           n / cpu);
}

static int verify(char **argv)
{
    ccz_buf ev = CCZ_BUF_INIT, col = CCZ_BUF_INIT, root = CCZ_BUF_INIT;
    if (ccz_file_read(&ev, argv[0], 1 << 22) || ccz_file_read(&col, argv[1], 1 << 22) ||
        ccz_file_read(&root, argv[2], 1 << 20))
        die("read");
    ccz_trust *t = NULL;
    ccz_collateral *c = NULL;
    ccz_policy *p = NULL;
    static const char doc[] = "{\"accepted_tcb_statuses\": [\"UpToDate\", "
                              "\"ConfigurationAndSWHardeningNeeded\"]}";
    if (ccz_trust_new(&t) || ccz_trust_add_intel_root(t, ccz_buf_span(&root)) ||
        ccz_collateral_parse(&c, (const char *)col.ptr, col.len) ||
        ccz_policy_parse(&p, doc, sizeof doc - 1))
        die("set-up");
    ccz_verify_opts o = CCZ_VERIFY_OPTS_INIT;
    o.at_unix = atoll(argv[3]);
    o.trust = t;
    o.collateral = c;
    double secs = atof(argv[4]);
    ccz_buf out = CCZ_BUF_INIT;
    /* the three forms of the full verdict: the JSON text (what the goal was set against), the
     * document as a jansson tree (the least a C caller does to have every field as the Python
     * dict has it), and the marshal bytes ccz.verify loads (its C part alone) */
    static const char *const ops[] = {"verify", "verify_tree", "verify_marshal"};
    for (int k = 0; k < 3; k++) {
        double w0 = bench_wall(), c0 = bench_thread_cpu(), w;
        long n = 0;
        do {
            bool ok;
            ccz_buf_reset(&out);
            ccz_status s;
            if (k == 0) {
                s = ccz_verdict_json(&out, &ok, ccz_buf_span(&ev), &o, p);
            } else if (k == 2) {
                s = ccz_verdict_marshal(&out, &ok, ccz_buf_span(&ev), &o, p);
            } else {
                ccz_verdict *v = malloc(sizeof *v);
                s = v ? ccz_verdict_run(v, ccz_buf_span(&ev), &o, p) : CCZ_ERR_NOMEM;
                ccz_json *tree = s ? NULL : ccz_verdict_to_json(v);
                ok = tree && v->ok;
                ccz_json_free(tree);
                free(v);
            }
            if (s || !ok)
                die("verdict");
            n++;
        } while ((w = bench_wall()) - w0 < secs);
        report(ops[k], n, w - w0, bench_thread_cpu() - c0);
    }
    ccz_buf_free(&out);
    ccz_policy_free(p);
    ccz_collateral_free(c);
    ccz_trust_free(t);
    ccz_buf_free(&ev);
    ccz_buf_free(&col);
    ccz_buf_free(&root);
    return 0;
}

static int paillier(char **argv)
{
    ccz_paillier_key *k;
    if (ccz_paillier_keygen(&k, (unsigned)atoi(argv[0])))
        die("keygen");
    const ccz_paillier_pub *pk = ccz_paillier_key_pub(k);
    mpz_t n, m, c;
    mpz_inits(n, m, c, NULL);
    ccz_paillier_pub_n(n, pk);
    unsigned char r[1024];
    RAND_bytes(r, sizeof r);
    mpz_import(m, sizeof r, 1, 1, 1, 0, r);
    mpz_mod(m, m, n);
    double secs = atof(argv[1]), w0 = bench_wall(), c0 = bench_thread_cpu(), w;
    long cnt = 0;
    do {
        if (ccz_paillier_encrypt(c, pk, m))
            die("encrypt");
        cnt++;
    } while ((w = bench_wall()) - w0 < secs);
    report("paillier_encrypt", cnt, w - w0, bench_thread_cpu() - c0);
    /* eight at a time on this thread: the IFMA engine's lanes, as ccz.paillier encrypts */
    mpz_t ms[8], cs[8];
    for (int i = 0; i < 8; i++) {
        mpz_init_set(ms[i], m);
        mpz_init(cs[i]);
    }
    w0 = bench_wall(), c0 = bench_thread_cpu(), cnt = 0;
    do {
        if (ccz_paillier_encrypt_batch(cs, pk, (const mpz_t *)ms, 8, 1))
            die("encrypt batch");
        cnt += 8;
    } while ((w = bench_wall()) - w0 < secs);
    report("paillier_encrypt_batch8", cnt, w - w0, bench_thread_cpu() - c0);
    for (int i = 0; i < 8; i++)
        mpz_clears(ms[i], cs[i], NULL);
    mpz_clears(n, m, c, NULL);
    ccz_paillier_key_free(k);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 7 && !strcmp(argv[1], "verify"))
        return verify(argv + 2);
    if (argc == 4 && !strcmp(argv[1], "paillier"))
        return paillier(argv + 2);
    fprintf(stderr, "usage: binding_ref verify EVIDENCE COLLATERAL ROOT_CA AT SECONDS\n"
                    "       binding_ref paillier BITS SECONDS\n");
    return 2;
}
