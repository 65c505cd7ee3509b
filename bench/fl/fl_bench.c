/* SPDX-License-Identifier: Apache-2.0 */
/* Seconds per iteration of ccz's federated LR, without the network (bench/fl/run puts them beside
 * the same algorithms on python-paillier, bench/fl/phe_fl.py):
 *   fl_bench homo GUEST.csv HOST.csv ITERS THREADS: CCZoo's homo-LR, both workers' encrypted steps
 *       and the server's average (decrypt, encrypt afresh) per iteration;
 *   fl_bench hetero SKLEARN.csv EPOCHS THREADS: FATE's hetero-LR on breast cancer (10 + 20
 *       features, batches of 320), per epoch: the host's encrypted scores, the guest's residuals
 *       and loss, both masked gradients, the arbiter's decryptions and the updates.
 * Prints JSON: wall and CPU seconds per iteration (min and median), 1024-bit keys. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../clock.h"
#include "ccz/ccz.h"
#include "ccz/fl.h"

static int cmpd(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void report(const char *name, double *wall, double *cpu, unsigned n)
{
    qsort(wall, n, sizeof *wall, cmpd);
    qsort(cpu, n, sizeof *cpu, cmpd);
    printf("{\"bench\": \"%s\", \"iterations\": %u, \"wall_min\": %.4f, \"wall_median\": %.4f, "
           "\"cpu_min\": %.4f, \"cpu_median\": %.4f, \"ifma\": %s}\n",
           name, n, wall[0], wall[n / 2], cpu[0], cpu[n / 2],
           ccz_paillier_ifma() ? "true" : "false");
}

#define OK(x)                                                                                      \
    do {                                                                                           \
        if ((x) != CCZ_OK) {                                                                       \
            fprintf(stderr, "fl_bench: %s: %s\n", #x, ccz_error_detail());                         \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

static void homo(const char *g, const char *h, unsigned iters, unsigned threads)
{
    ccz_ml_dataset d[2];
    OK(ccz_ml_dataset_load(&d[0], g));
    OK(ccz_ml_dataset_load(&d[1], h));
    ccz_paillier_key *key;
    OK(ccz_paillier_keygen(&key, 1024));
    const ccz_paillier_pub *pk = ccz_paillier_key_pub(key);
    ccz_fl_hlr_opts o = CCZ_FL_HLR_OPTS_INIT;
    o.threads = threads;
    ccz_fl_hlr_worker *wk[2];
    OK(ccz_fl_hlr_worker_new(&wk[0], pk, &d[0], &o));
    OK(ccz_fl_hlr_worker_new(&wk[1], pk, &d[1], &o));
    size_t D = ccz_fl_hlr_worker_dim(wk[0]);
    ccz_paillier_number *w[2], *avg = calloc(D, sizeof *avg);
    double *plain = calloc(D, sizeof *plain), *wall = calloc(iters, 8), *cpu = calloc(iters, 8);
    for (int k = 0; k < 2; k++) {
        w[k] = calloc(D, sizeof *w[k]);
        for (size_t i = 0; i < D; i++)
            ccz_paillier_number_init(&w[k][i]);
    }
    for (size_t i = 0; i < D; i++)
        ccz_paillier_number_init(&avg[i]);
    OK(ccz_fl_hlr_initial(avg, wk[0]));
    for (unsigned t = 0; t < iters; t++) {
        double w0 = bench_wall(), c0 = bench_cpu();
        for (int k = 0; k < 2; k++)
            OK(ccz_fl_hlr_step(wk[k], w[k], avg, t));
        const ccz_paillier_number *in[2] = {w[0], w[1]};
        OK(ccz_fl_hlr_aggregate(avg, plain, key, in, 2, D, threads));
        wall[t] = bench_wall() - w0;
        cpu[t] = bench_cpu() - c0;
    }
    report("homo-lr", wall, cpu, iters);
}

static void hetero(const char *path, unsigned epochs, unsigned threads)
{
    ccz_ml_dataset all, g, h;
    OK(ccz_ml_dataset_read(&all, path, CCZ_ML_CSV_SKLEARN));
    ccz_fl_vlr_zscore(&all);
    size_t R = all.rows;
    g = (ccz_ml_dataset){R, 10, malloc(R * 10 * 8), malloc(R), NULL};
    h = (ccz_ml_dataset){R, 20, malloc(R * 20 * 8), NULL, NULL};
    for (size_t r = 0; r < R; r++) {
        memcpy(g.x + r * 10, all.x + r * 30, 80);
        memcpy(h.x + r * 20, all.x + r * 30 + 10, 160);
        g.y[r] = all.y[r];
    }
    ccz_paillier_key *key;
    OK(ccz_paillier_keygen(&key, 1024));
    /* the parties' copy of the public key, with DJN randomizers as ccz fl hetero-lr's parties
     * use them (each party makes its own h_s) */
    ccz_paillier_pub *pk;
    mpz_t n;
    mpz_init(n);
    ccz_paillier_pub_n(n, ccz_paillier_key_pub(key));
    OK(ccz_paillier_pub_new(&pk, n));
    if (!getenv("FL_BENCH_NO_DJN"))
        OK(ccz_paillier_pub_set_djn(pk, NULL));
    ccz_fl_vlr_opts o = CCZ_FL_VLR_OPTS_INIT;
    o.batch_size = 320;
    o.threads = threads;
    ccz_fl_vlr_party *pg, *ph;
    OK(ccz_fl_vlr_party_new(&pg, pk, &g, &o));
    OK(ccz_fl_vlr_party_new(&ph, pk, &h, &o));
    mpz_t fwd[320], res[320], mg[11], mh[20], sq, loss, lm;
    for (int i = 0; i < 320; i++)
        mpz_inits(fwd[i], res[i], NULL);
    for (int i = 0; i < 11; i++)
        mpz_init(mg[i]);
    for (int i = 0; i < 20; i++)
        mpz_init(mh[i]);
    mpz_inits(sq, loss, lm, NULL);
    double *wall = calloc(epochs, 8), *cpu = calloc(epochs, 8);
    unsigned nb = (unsigned)ccz_fl_vlr_batches(pg);
    for (unsigned e = 0; e < epochs; e++) {
        double w0 = bench_wall(), c0 = bench_cpu();
        for (unsigned b = 0; b < nb; b++) {
            unsigned step = e * nb + b;
            double l;
            OK(ccz_fl_vlr_forward(ph, fwd, sq, step));
            OK(ccz_fl_vlr_residuals(pg, res, &loss, (const mpz_t *)fwd, sq, step));
            OK(ccz_paillier_decrypt(lm, key, loss));
            OK(ccz_fl_vlr_loss(&l, pk, lm, ccz_fl_vlr_batch_rows(pg, step)));
            OK(ccz_fl_vlr_gradient(pg, mg, (const mpz_t *)res, step));
            OK(ccz_fl_vlr_gradient(ph, mh, (const mpz_t *)res, step));
            OK(ccz_paillier_decrypt_batch(mg, key, (const mpz_t *)mg, 11, threads));
            OK(ccz_paillier_decrypt_batch(mh, key, (const mpz_t *)mh, 20, threads));
            OK(ccz_fl_vlr_update(pg, (const mpz_t *)mg, step));
            OK(ccz_fl_vlr_update(ph, (const mpz_t *)mh, step));
        }
        wall[e] = bench_wall() - w0;
        cpu[e] = bench_cpu() - c0;
    }
    report("hetero-lr", wall, cpu, epochs);
}

int main(int argc, char **argv)
{
    if (argc == 6 && !strcmp(argv[1], "homo"))
        homo(argv[2], argv[3], (unsigned)atoi(argv[4]), (unsigned)atoi(argv[5]));
    else if (argc == 5 && !strcmp(argv[1], "hetero"))
        hetero(argv[2], (unsigned)atoi(argv[3]), (unsigned)atoi(argv[4]));
    else {
        fprintf(stderr,
                "usage: fl_bench homo GUEST HOST ITERS THREADS | hetero CSV EPOCHS THREADS\n");
        return 2;
    }
    return 0;
}
