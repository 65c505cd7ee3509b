/* SPDX-License-Identifier: Apache-2.0 */
/* CCZoo's homomorphic LR (src/fl/homo_lr.c) on CCZoo's breast data (read in place from the
 * shared data): three iterations of two workers' encrypted steps and the server's average
 * against the same steps in double precision (ccz_ml_lr_step, src/ml/lr.c) to 1e-9; the
 * aggregation's refusals. The exact reference (tests/fl/homo_lr_ref.py) checks the service's
 * trace in tests/cli/test_fl_cli.sh. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ccz/ccz.h"
#include "ccz/fl.h"
#include "test.h"
#include "vectors.h"

static ccz_ml_dataset data[2];

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
static ccz_paillier_key *key;

static void load(void)
{
    const char *dir = shared_data_dir();
    if (!dir)
        test_skip(false, "CCZoo's breast data set is absent");
    const char *names[2] = {"guest", "host"};
    for (int k = 0; k < 2; k++) {
        char path[2048];
        snprintf(path, sizeof path, "%s/cczoo/phe_homo_lr/breast_homo_%s.csv", dir, names[k]);
        if (!ccz_file_exists(path))
            test_skip(false, "%s is absent", path);
        CHECK_OK(ccz_ml_dataset_load(&data[k], path));
    }
    CHECK_INT(data[0].rows, 227);
    CHECK_INT(data[1].rows, 228);
    CHECK_INT(data[0].features, 30);
    CHECK_OK(ccz_paillier_keygen(&key, 1024));
}

static double decrypt(const ccz_paillier_number *x)
{
    ccz_paillier_encoded e;
    ccz_paillier_encoded_init(&e);
    double v = NAN;
    CHECK_OK(ccz_paillier_decrypt_encoded(&e, key, x));
    CHECK_OK(ccz_paillier_decode_double(&v, ccz_paillier_key_pub(key), &e));
    ccz_paillier_encoded_clear(&e);
    return v;
}

static void test_steps(void)
{
    load();
    const ccz_paillier_pub *pk = ccz_paillier_key_pub(key);
    ccz_fl_hlr_opts o = CCZ_FL_HLR_OPTS_INIT;
    ccz_fl_hlr_worker *wk[2] = {NULL, NULL};
    for (int k = 0; k < 2; k++)
        CHECK_OK(ccz_fl_hlr_worker_new(&wk[k], pk, &data[k], &o));
    if (!wk[0] || !wk[1])
        return;
    enum { D = 31 };
    CHECK_INT(ccz_fl_hlr_worker_dim(wk[0]), D);
    ccz_paillier_number w[2][D], avg[D];
    double clear[2][D], plain[D];
    for (int i = 0; i < D; i++) {
        ccz_paillier_number_init(&avg[i]);
        for (int k = 0; k < 2; k++) {
            ccz_paillier_number_init(&w[k][i]);
            clear[k][i] = 1;
        }
    }
    CHECK_OK(ccz_fl_hlr_initial(avg, wk[0]));
    ccz_ml_lr_opts lo = CCZ_ML_LR_OPTS_INIT;
    double worst = 0;
    for (unsigned t = 0; t < 3; t++) {
        for (int k = 0; k < 2; k++) {
            double t0 = now();
            CHECK_OK(ccz_fl_hlr_step(wk[k], w[k], avg, t));
            printf("iteration %u, worker %d: %.3f s\n", t, k, now() - t0);
            CHECK_OK(ccz_ml_lr_step(clear[k], D, &data[k], t, &lo));
            for (int i = 0; i < D; i++)
                worst = fmax(worst, fabs(decrypt(&w[k][i]) - clear[k][i]));
        }
        const ccz_paillier_number *in[2] = {w[0], w[1]};
        CHECK_OK(ccz_fl_hlr_aggregate(avg, plain, key, in, 2, D, 0));
        for (int i = 0; i < D; i++) {
            double a = (clear[0][i] + clear[1][i]) * 0.5;
            worst = fmax(worst, fabs(plain[i] - a));
            worst = fmax(worst, fabs(decrypt(&avg[i]) - plain[i]));
            clear[0][i] = clear[1][i] = plain[i];
        }
    }
    printf("largest difference from the double-precision steps: %.3g\n", worst);
    CHECK(worst < 1e-9);
    /* an average that overflows the encoding is refused, naming the weight */
    mpz_t big, n;
    mpz_inits(big, n, NULL);
    ccz_paillier_pub_n(n, pk);
    mpz_tdiv_q_ui(big, n, 16); /* times 8 (the average's 0.5), between n/3 and 2n/3 */
    CHECK_OK(ccz_paillier_encrypt(w[1][3].c, pk, big));
    w[1][3].exponent = w[0][3].exponent;
    const ccz_paillier_number *in[2] = {w[0], w[1]};
    CHECK_STATUS(ccz_fl_hlr_aggregate(avg, plain, key, in, 2, D, 0), CCZ_ERR_OVERFLOW);
    CHECK_CONTAINS(ccz_error_detail(), "weight 3 of the average");
    mpz_clears(big, n, NULL);
    for (int i = 0; i < D; i++) {
        ccz_paillier_number_clear(&avg[i]);
        for (int k = 0; k < 2; k++)
            ccz_paillier_number_clear(&w[k][i]);
    }
    for (int k = 0; k < 2; k++) {
        ccz_fl_hlr_worker_free(wk[k]);
        ccz_ml_dataset_free(&data[k]);
    }
    ccz_paillier_key_free(key);
}

TEST_MAIN(T(test_steps))
