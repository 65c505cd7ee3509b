/* SPDX-License-Identifier: Apache-2.0 */
/* FATE's hetero (vertical) LR (src/fl/hetero_lr.c) on scikit-learn's breast-cancer set (Debian's
 * python3-sklearn, read where it installs it), z-scored, 10 features to the guest and 20 to the
 * host: encrypted mini-batch steps against the same steps in double precision to 1e-9, the
 * training's AUC, the party's refusal of an implausible decryption; the CSV layouts with ids
 * (src/ml/lr.c) and the alignment by id. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ccz/ccz.h"
#include "ccz/fl.h"
#include "rng_fail.h"
#include "test.h"

#define SKLEARN_CSV "/usr/lib/python3/dist-packages/sklearn/datasets/data/breast_cancer.csv"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void test_layouts(void)
{
    ccz_ml_dataset d;
    static const char host[] = "id,x0,x1\n7,1.5,2\r\n\n3,-1,0.25\n";
    CHECK_OK(ccz_ml_dataset_parse(&d, host, sizeof host - 1, CCZ_ML_CSV_ID));
    CHECK_INT(d.rows, 2);
    CHECK_INT(d.features, 2);
    CHECK(d.y == NULL);
    CHECK(d.ids && d.ids[0] == 7 && d.ids[1] == 3 && d.x[3] == 0.25);
    ccz_ml_dataset al;
    int64_t want[2] = {3, 7};
    CHECK_OK(ccz_fl_vlr_align(&al, &d, want, 2));
    CHECK(al.rows == 2 && al.x[0] == -1 && al.x[2] == 1.5 && al.ids[0] == 3);
    ccz_ml_dataset_free(&al);
    int64_t missing[1] = {4};
    CHECK_STATUS(ccz_fl_vlr_align(&al, &d, missing, 1), CCZ_ERR_NOT_FOUND);
    CHECK_CONTAINS(ccz_error_detail(), "id 4 is not in this party's data");
    /* above every id (the search ends past the last row) and below every id */
    int64_t outside[2] = {8, 2};
    CHECK_STATUS(ccz_fl_vlr_align(&al, &d, outside, 1), CCZ_ERR_NOT_FOUND);
    CHECK_CONTAINS(ccz_error_detail(), "id 8 is not in this party's data");
    CHECK_STATUS(ccz_fl_vlr_align(&al, &d, outside + 1, 1), CCZ_ERR_NOT_FOUND);
    CHECK_CONTAINS(ccz_error_detail(), "id 2 is not in this party's data");
    ccz_ml_dataset_free(&d);
    static const char guest[] = "id,y,x0\n10,1,0.5\n11,0,-2\n";
    CHECK_OK(ccz_ml_dataset_parse(&d, guest, sizeof guest - 1, CCZ_ML_CSV_ID_Y));
    CHECK(d.y && d.y[0] == 1 && d.ids[1] == 11);
    /* a guest's labels follow its rows */
    int64_t order[2] = {11, 10};
    CHECK_OK(ccz_fl_vlr_align(&al, &d, order, 2));
    CHECK(al.y && al.y[0] == 0 && al.y[1] == 1 && al.x[0] == -2 && al.x[1] == 0.5);
    CHECK(al.ids[0] == 11 && al.ids[1] == 10);
    ccz_ml_dataset_free(&al);
    ccz_ml_dataset_free(&d);
    static const char sk[] = "2,2,a,b\n1,2,0\n3,4,1\n";
    CHECK_OK(ccz_ml_dataset_parse(&d, sk, sizeof sk - 1, CCZ_ML_CSV_SKLEARN));
    CHECK(d.rows == 2 && d.features == 2 && d.y[1] == 1 && d.ids[1] == 1 && d.x[2] == 3);
    ccz_ml_dataset_free(&d);
    /* refusals name what is wrong */
    static const char dup[] = "id,x0\n5,1\n5,2\n";
    CHECK_STATUS(ccz_ml_dataset_parse(&d, dup, sizeof dup - 1, CCZ_ML_CSV_ID), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "id 5 appears more than once");
    static const char neg[] = "id,x0\n-5,1\n";
    CHECK_STATUS(ccz_ml_dataset_parse(&d, neg, sizeof neg - 1, CCZ_ML_CSV_ID), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "line 2: the id must be an integer");
    static const char few[] = "3,2,a,b\n1,2,0\n3,4,1\n";
    CHECK_STATUS(ccz_ml_dataset_parse(&d, few, sizeof few - 1, CCZ_ML_CSV_SKLEARN),
                 CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "the header announces 3 rows; the file has 2");
    static const char bad[] = "x,2,a\n1,2,0\n";
    CHECK_STATUS(ccz_ml_dataset_parse(&d, bad, sizeof bad - 1, CCZ_ML_CSV_SKLEARN),
                 CCZ_ERR_MALFORMED);
    static const char label[] = "2,1,a\n1,2\n";
    CHECK_STATUS(ccz_ml_dataset_parse(&d, label, sizeof label - 1, CCZ_ML_CSV_SKLEARN),
                 CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "the label y must be 0 or 1");
}

/* ---- the breast-cancer split and the double-precision reference ----------------------------*/

static ccz_ml_dataset guest, host;

static void load(void)
{
    if (!ccz_file_exists(SKLEARN_CSV))
        test_skip(false, "%s is absent (Debian's python3-sklearn)", SKLEARN_CSV);
    ccz_ml_dataset all;
    CHECK_OK(ccz_ml_dataset_read(&all, SKLEARN_CSV, CCZ_ML_CSV_SKLEARN));
    CHECK_INT(all.rows, 569);
    CHECK_INT(all.features, 30);
    ccz_fl_vlr_zscore(&all);
    size_t R = all.rows;
    guest = (ccz_ml_dataset){R, 10, malloc(R * 10 * sizeof(double)), malloc(R), NULL};
    host = (ccz_ml_dataset){R, 20, malloc(R * 20 * sizeof(double)), NULL, NULL};
    for (size_t r = 0; r < R; r++) {
        memcpy(guest.x + r * 10, all.x + r * 30, 10 * sizeof(double));
        memcpy(host.x + r * 20, all.x + r * 30 + 10, 20 * sizeof(double));
        guest.y[r] = all.y[r];
    }
    ccz_ml_dataset_free(&all);
}

typedef struct {
    double w[32], m[32];
    size_t dim;
} ref_party;

/* One step of the same algorithm in doubles; returns the batch's Taylor loss. */
static double ref_step(ref_party *g, ref_party *h, unsigned step, size_t batch, double lr0)
{
    size_t nb = (guest.rows + batch - 1) / batch, off = (step % nb) * batch;
    size_t rows = guest.rows - off < batch ? guest.rows - off : batch;
    double lr = lr0 / sqrt(1.0 + (double)(step / nb)), mu = 0.9, alpha = 0.01, loss = 0;
    double gg[32] = {0}, gh[32] = {0};
    for (size_t r = off; r < off + rows; r++) {
        double u = g->w[0];
        for (int j = 0; j < 10; j++)
            u += g->w[j + 1] * guest.x[r * 10 + j];
        for (int j = 0; j < 20; j++)
            u += h->w[j] * host.x[r * 20 + j];
        double d = 0.25 * u + 0.5 - guest.y[r];
        loss += 0.125 * u * u + (0.5 - guest.y[r]) * u;
        gg[0] += d;
        for (int j = 0; j < 10; j++)
            gg[j + 1] += d * guest.x[r * 10 + j];
        for (int j = 0; j < 20; j++)
            gh[j] += d * host.x[r * 20 + j];
    }
    ref_party *p[2] = {g, h};
    double *grad[2] = {gg, gh};
    for (int k = 0; k < 2; k++)
        for (size_t j = 0; j < p[k]->dim; j++) {
            double v = grad[k][j] / (double)rows + (k == 0 && j == 0 ? 0 : alpha * p[k]->w[j]);
            double vel = mu * p[k]->m[j] - lr * v;
            double delta = mu * p[k]->m[j] - (1 + mu) * vel;
            p[k]->m[j] = vel;
            p[k]->w[j] -= delta;
        }
    return log(2.0) + loss / (double)rows;
}

static mpz_t *mpzs(size_t n)
{
    mpz_t *a = malloc(n * sizeof *a);
    for (size_t i = 0; i < n; i++)
        mpz_init(a[i]);
    return a;
}

static void mpzs_free(mpz_t *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        mpz_clear(a[i]);
    free(a);
}

/* One encrypted step of both parties and the arbiter; the batch's loss. */
static double enc_step(ccz_fl_vlr_party *g, ccz_fl_vlr_party *h, const ccz_paillier_key *key,
                       unsigned step)
{
    const ccz_paillier_pub *pk = ccz_paillier_key_pub(key);
    size_t rows = ccz_fl_vlr_batch_rows(g, step);
    mpz_t *fwd = mpzs(rows), *res = mpzs(rows), *mg = mpzs(11), *mh = mpzs(20), sq, loss, lm;
    mpz_inits(sq, loss, lm, NULL);
    CHECK_OK(ccz_fl_vlr_forward(h, fwd, sq, step));
    CHECK_OK(ccz_fl_vlr_residuals(g, res, &loss, (const mpz_t *)fwd, sq, step));
    CHECK_OK(ccz_fl_vlr_gradient(g, mg, (const mpz_t *)res, step));
    CHECK_OK(ccz_fl_vlr_gradient(h, mh, (const mpz_t *)res, step));
    CHECK_OK(ccz_paillier_decrypt_batch(mg, key, (const mpz_t *)mg, 11, 0));
    CHECK_OK(ccz_paillier_decrypt_batch(mh, key, (const mpz_t *)mh, 20, 0));
    CHECK_OK(ccz_fl_vlr_update(g, (const mpz_t *)mg, step));
    CHECK_OK(ccz_fl_vlr_update(h, (const mpz_t *)mh, step));
    CHECK_OK(ccz_paillier_decrypt(lm, key, loss));
    double l = NAN;
    CHECK_OK(ccz_fl_vlr_loss(&l, pk, lm, rows));
    mpz_clears(sq, loss, lm, NULL);
    mpzs_free(fwd, rows);
    mpzs_free(res, rows);
    mpzs_free(mg, 11);
    mpzs_free(mh, 20);
    return l;
}

static void test_steps(void)
{
    load();
    ccz_paillier_key *key = NULL;
    CHECK_OK(ccz_paillier_keygen(&key, 1024));
    const ccz_paillier_pub *pk = ccz_paillier_key_pub(key);
    ccz_fl_vlr_opts o = CCZ_FL_VLR_OPTS_INIT;
    o.batch_size = 320;
    ccz_fl_vlr_party *g = NULL, *h = NULL;
    CHECK_OK(ccz_fl_vlr_party_new(&g, pk, &guest, &o));
    CHECK_OK(ccz_fl_vlr_party_new(&h, pk, &host, &o));
    CHECK_INT(ccz_fl_vlr_dim(g), 11);
    CHECK_INT(ccz_fl_vlr_dim(h), 20);
    CHECK_INT(ccz_fl_vlr_batches(g), 2);
    CHECK_INT(ccz_fl_vlr_batch_rows(g, 1), 249);
    ref_party rg = {.dim = 11}, rh = {.dim = 20};
    double worst = 0;
    for (unsigned t = 0; t < 6; t++) {
        double t0 = now();
        double le = enc_step(g, h, key, t);
        printf("step %u (epoch %u): %.3f s, loss %.6f\n", t, t / 2, now() - t0, le);
        double lr = ref_step(&rg, &rh, t, 320, 0.15);
        worst = fmax(worst, fabs(le - lr));
        for (int j = 0; j < 11; j++)
            worst = fmax(worst, fabs(ccz_fl_vlr_weights(g)[j] - rg.w[j]));
        for (int j = 0; j < 20; j++)
            worst = fmax(worst, fabs(ccz_fl_vlr_weights(h)[j] - rh.w[j]));
    }
    printf("largest difference from the double-precision steps: %.3g\n", worst);
    CHECK(worst < 1e-9);
    /* the reference trained on: its training AUC (the encrypted run follows it to 1e-9) */
    for (unsigned t = 6; t < 60; t++)
        ref_step(&rg, &rh, t, 320, 0.15);
    double *score = malloc(guest.rows * sizeof *score);
    for (size_t r = 0; r < guest.rows; r++) {
        double u = rg.w[0];
        for (int j = 0; j < 10; j++)
            u += rg.w[j + 1] * guest.x[r * 10 + j];
        for (int j = 0; j < 20; j++)
            u += rh.w[j] * host.x[r * 20 + j];
        score[r] = u;
    }
    double auc = ccz_fl_vlr_auc(score, guest.y, guest.rows);
    printf("training AUC after 30 epochs: %.4f\n", auc);
    CHECK(auc >= 0.98);
    free(score);
    /* a decryption that is not the masked gradient is refused */
    mpz_t *junk = mpzs(20), n;
    mpz_init(n);
    ccz_paillier_pub_n(n, pk);
    for (int j = 0; j < 20; j++)
        mpz_tdiv_q_ui(junk[j], n, 3);
    CHECK_STATUS(ccz_fl_vlr_update(h, (const mpz_t *)junk, 6), CCZ_ERR_OVERFLOW);
    CHECK_CONTAINS(ccz_error_detail(), "an implausible value");
    mpz_set(junk[0], n);
    CHECK_STATUS(ccz_fl_vlr_update(h, (const mpz_t *)junk, 6), CCZ_ERR_OVERFLOW);
    CHECK_CONTAINS(ccz_error_detail(), "gradient 0: the arbiter's value is not in [0, n)");
    mpz_set_si(junk[0], -1);
    CHECK_STATUS(ccz_fl_vlr_update(h, (const mpz_t *)junk, 6), CCZ_ERR_OVERFLOW);
    CHECK_CONTAINS(ccz_error_detail(), "gradient 0: the arbiter's value is not in [0, n)");
    mpz_clear(n);
    mpzs_free(junk, 20);
    ccz_fl_vlr_party_free(g);
    ccz_fl_vlr_party_free(h);
    ccz_paillier_key_free(key);
    ccz_ml_dataset_free(&guest);
    ccz_ml_dataset_free(&host);
}

/* A host of four rows and two features, {0.5, -1}, {2, 0.25}, {-0.5, 1}, {0, 3} (column means
 * 0.5 and 0.8125), under a fresh 1024-bit key (*key, the caller's to free). */
static ccz_fl_vlr_party *small_host(ccz_paillier_key **key, const ccz_fl_vlr_opts *o)
{
    double x[8] = {0.5, -1, 2, 0.25, -0.5, 1, 0, 3}; /* copied by the party */
    ccz_ml_dataset d = {4, 2, x, NULL, NULL};
    ccz_fl_vlr_party *h = NULL;
    CHECK_OK(ccz_paillier_keygen(key, 1024));
    CHECK_OK(ccz_fl_vlr_party_new(&h, ccz_paillier_key_pub(*key), &d, o));
    return h;
}

/* The unmasked gradient's plausibility bound, 2 S + 64 bits of either sign: at it, taken; one bit
 * over, refused. (Residuals of zero: the gradient is 0, the unmasked value what is added.) */
static void test_gradient_bound(void)
{
    ccz_paillier_key *key = NULL;
    ccz_fl_vlr_opts o = CCZ_FL_VLR_OPTS_INIT;
    ccz_fl_vlr_party *h = small_host(&key, &o);
    const ccz_paillier_pub *pk = ccz_paillier_key_pub(key);
    mpz_t *res = mpzs(4), *m = mpzs(2), *p = mpzs(2), zero, big, n;
    mpz_inits(zero, big, n, NULL);
    ccz_paillier_pub_n(n, pk);
    for (int r = 0; r < 4; r++)
        CHECK_OK(ccz_paillier_encrypt(res[r], pk, zero));
    CHECK_OK(ccz_fl_vlr_gradient(h, m, (const mpz_t *)res, 0));
    CHECK_OK(ccz_paillier_decrypt_batch(m, key, (const mpz_t *)m, 2, 0));
    /* what the arbiter decrypts is the gradient (here 0) masked over all of Z_n: far outside the
     * gradient's range (a chance of 2^-800 or so of a mask that small) */
    for (int j = 0; j < 2; j++)
        CHECK(mpz_sizeinbase(m[j], 2) > 2 * CCZ_FL_VLR_SCALE_BITS + 64);
    for (int sign = 1; sign >= -1; sign -= 2) {
        for (unsigned bits = 2 * CCZ_FL_VLR_SCALE_BITS + 64; bits <= 2 * CCZ_FL_VLR_SCALE_BITS + 65;
             bits++) {
            mpz_set_ui(big, 0);
            mpz_setbit(big, bits - 1); /* a value of exactly `bits` bits */
            for (int j = 0; j < 2; j++) {
                if (sign > 0)
                    mpz_add(p[j], m[j], big);
                else
                    mpz_sub(p[j], m[j], big);
                mpz_mod(p[j], p[j], n);
            }
            ccz_status st = ccz_fl_vlr_update(h, (const mpz_t *)p, 0);
            if (bits == 2 * CCZ_FL_VLR_SCALE_BITS + 64) {
                CHECK_OK(st);
            } else {
                CHECK_STATUS(st, CCZ_ERR_OVERFLOW);
                CHECK_CONTAINS(ccz_error_detail(), "gradient 0: 161 bits after unmasking");
            }
        }
    }
    mpz_clears(zero, big, n, NULL);
    mpzs_free(res, 4);
    mpzs_free(m, 2);
    mpzs_free(p, 2);
    ccz_fl_vlr_party_free(h);
    ccz_paillier_key_free(key);
}

/* A negative momentum is plain SGD (include/ccz/fl.h), not Nesterov's with that coefficient:
 * a host's residuals of 1 (4 d 2^S = 2^(S+2)) make its gradient the column means, and each step
 * is w -= lr g, lr the learning rate over sqrt(1 + epoch); from the second step on, g has the
 * regularisation alpha w of every weight (a host has no intercept). */
static void test_negative_momentum_plain_sgd(void)
{
    ccz_paillier_key *key = NULL;
    ccz_fl_vlr_opts o = CCZ_FL_VLR_OPTS_INIT;
    o.momentum = -0.5;
    ccz_fl_vlr_party *h = small_host(&key, &o);
    const ccz_paillier_pub *pk = ccz_paillier_key_pub(key);
    mpz_t *res = mpzs(4), *m = mpzs(2), one;
    mpz_init_set_ui(one, 1);
    mpz_mul_2exp(one, one, CCZ_FL_VLR_SCALE_BITS + 2);
    for (int r = 0; r < 4; r++)
        CHECK_OK(ccz_paillier_encrypt(res[r], pk, one));
    const double mean[2] = {0.5, 0.8125};
    double want[2] = {0, 0};
    for (unsigned step = 0; step < 2; step++) {
        CHECK_OK(ccz_fl_vlr_gradient(h, m, (const mpz_t *)res, step));
        CHECK_OK(ccz_paillier_decrypt_batch(m, key, (const mpz_t *)m, 2, 0));
        CHECK_OK(ccz_fl_vlr_update(h, (const mpz_t *)m, step));
        double lr = 0.15 / sqrt(1.0 + step); /* one batch: the step is the epoch */
        for (int j = 0; j < 2; j++)
            want[j] -= lr * (mean[j] + 0.01 * want[j]);
        for (int j = 0; j < 2; j++)
            CHECK(fabs(ccz_fl_vlr_weights(h)[j] - want[j]) < 1e-12);
    }
    mpz_clear(one);
    mpzs_free(res, 4);
    mpzs_free(m, 2);
    ccz_fl_vlr_party_free(h);
    ccz_paillier_key_free(key);
}

/* z-scores column by column (the population's standard deviation); a constant column is 0. */
static void test_zscore(void)
{
    double x[] = {1, 10, 7, 100, 3, 30, 7, 300, 5, 20, 7, 200};
    ccz_ml_dataset d = {3, 4, x, NULL, NULL};
    ccz_fl_vlr_zscore(&d);
    double s = sqrt(1.5); /* (-1, 0, 1) / sqrt(2 / 3), in some order */
    const double want[] = {-s, -s, 0, -s, 0, s, 0, s, s, 0, 0, 0};
    int same = 0;
    for (int i = 0; i < 12; i++)
        same += fabs(x[i] - want[i]) < 1e-12;
    CHECK_INT(same, 12);
}

static void test_auc(void)
{
    double s[5] = {0.1, 0.4, 0.35, 0.8, 0.8};
    uint8_t y[5] = {0, 0, 1, 1, 0};
    /* positives 0.35, 0.8; negatives 0.1, 0.4, 0.8: pairs won 1 + 2.5 of 6 */
    CHECK(fabs(ccz_fl_vlr_auc(s, y, 5) - 3.5 / 6) < 1e-12);
    CHECK(isnan(ccz_fl_vlr_auc(s, y, 1)));
    /* the lowest score a positive's: it counts too (rank 1) */
    double s2[3] = {0.9, 0.1, 0.5};
    uint8_t y2[3] = {1, 1, 0};
    CHECK(ccz_fl_vlr_auc(s2, y2, 3) == 0.5);
}

/* The guest's gradient kept from its residuals serves only those residuals, for their step: given
 * others (the first `changed` residuals changed), or the same for another step (whose batch's
 * first rows they cover), the gradient is computed afresh, the same update as a party that never
 * kept one. */
static void kept_vs_fresh(size_t changed, unsigned step)
{
    load();
    ccz_paillier_key *key = NULL;
    CHECK_OK(ccz_paillier_keygen(&key, 1024));
    const ccz_paillier_pub *pk = ccz_paillier_key_pub(key);
    ccz_fl_vlr_opts o = CCZ_FL_VLR_OPTS_INIT;
    o.batch_size = 320;
    ccz_fl_vlr_party *g1 = NULL, *g2 = NULL, *h = NULL;
    CHECK_OK(ccz_fl_vlr_party_new(&g1, pk, &guest, &o));
    CHECK_OK(ccz_fl_vlr_party_new(&g2, pk, &guest, &o));
    CHECK_OK(ccz_fl_vlr_party_new(&h, pk, &host, &o));
    size_t rows = ccz_fl_vlr_batch_rows(g1, 0);
    mpz_t *fwd = mpzs(rows), *res = mpzs(rows), *m1 = mpzs(11), *m2 = mpzs(11), sq, loss, t;
    mpz_inits(sq, loss, t, NULL);
    CHECK_OK(ccz_fl_vlr_forward(h, fwd, sq, 0));
    CHECK_OK(ccz_fl_vlr_residuals(g1, res, &loss, (const mpz_t *)fwd, sq, 0));
    mpz_set_ui(t, 1000);
    mpz_mul_2exp(t, t, CCZ_FL_VLR_SCALE_BITS);
    for (size_t r = 0; r < changed && r < rows; r++) /* other residuals */
        CHECK_OK(ccz_paillier_add_plain(res[r], pk, res[r], t));
    CHECK_OK(ccz_fl_vlr_gradient(g1, m1, (const mpz_t *)res, step));
    CHECK_OK(ccz_fl_vlr_gradient(g2, m2, (const mpz_t *)res, step));
    CHECK_OK(ccz_paillier_decrypt_batch(m1, key, (const mpz_t *)m1, 11, 0));
    CHECK_OK(ccz_paillier_decrypt_batch(m2, key, (const mpz_t *)m2, 11, 0));
    CHECK_OK(ccz_fl_vlr_update(g1, (const mpz_t *)m1, step));
    CHECK_OK(ccz_fl_vlr_update(g2, (const mpz_t *)m2, step));
    int same = 0;
    for (int j = 0; j < 11; j++)
        same += ccz_fl_vlr_weights(g1)[j] == ccz_fl_vlr_weights(g2)[j];
    CHECK_INT(same, 11);
    mpz_clears(sq, loss, t, NULL);
    mpzs_free(fwd, rows);
    mpzs_free(res, rows);
    mpzs_free(m1, 11);
    mpzs_free(m2, 11);
    ccz_fl_vlr_party_free(g1);
    ccz_fl_vlr_party_free(g2);
    ccz_fl_vlr_party_free(h);
    ccz_paillier_key_free(key);
    ccz_ml_dataset_free(&guest);
    ccz_ml_dataset_free(&host);
}

static void test_kept_gradient(void)
{
    kept_vs_fresh(1, 0);        /* one residual changed */
    kept_vs_fresh(SIZE_MAX, 0); /* every one */
    kept_vs_fresh(0, 1);        /* none, but for the next step */
}

/* Residuals without the loss are the same ciphertexts as with it, and the gradient kept from them
 * the same as one computed afresh; the masks' randomness failing fails the gradient (it is never
 * sent unmasked). */
static void test_residuals_without_loss(void)
{
    load();
    ccz_paillier_key *key = NULL;
    CHECK_OK(ccz_paillier_keygen(&key, 1024));
    const ccz_paillier_pub *pk = ccz_paillier_key_pub(key);
    ccz_fl_vlr_opts o = CCZ_FL_VLR_OPTS_INIT;
    o.batch_size = 320;
    ccz_fl_vlr_party *g1 = NULL, *g2 = NULL, *h = NULL;
    CHECK_OK(ccz_fl_vlr_party_new(&g1, pk, &guest, &o));
    CHECK_OK(ccz_fl_vlr_party_new(&g2, pk, &guest, &o));
    CHECK_OK(ccz_fl_vlr_party_new(&h, pk, &host, &o));
    size_t rows = ccz_fl_vlr_batch_rows(g1, 0);
    mpz_t *fwd = mpzs(rows), *r1 = mpzs(rows), *r2 = mpzs(rows), *m1 = mpzs(11), *m2 = mpzs(11), sq,
          loss;
    mpz_inits(sq, loss, NULL);
    CHECK_OK(ccz_fl_vlr_forward(h, fwd, sq, 0));
    CHECK_OK(ccz_fl_vlr_residuals(g1, r1, &loss, (const mpz_t *)fwd, sq, 0));
    CHECK_OK(ccz_fl_vlr_residuals(g2, r2, NULL, (const mpz_t *)fwd, sq, 0));
    int same = 0;
    for (size_t r = 0; r < rows; r++)
        same += mpz_cmp(r1[r], r2[r]) == 0;
    CHECK_INT(same, rows);
    /* the RNG failing: no masks, no gradient */
    rng_fail_start();
    ccz_status st = ccz_fl_vlr_gradient(g1, m1, (const mpz_t *)r1, 0);
    rng_fail_stop();
    CHECK_STATUS(st, CCZ_ERR_CRYPTO);
    CHECK_CONTAINS(ccz_error_detail(), "the RNG failed");
    CHECK_OK(ccz_fl_vlr_gradient(g1, m1, (const mpz_t *)r1, 0)); /* afresh: the kept one went */
    CHECK_OK(ccz_fl_vlr_gradient(g2, m2, (const mpz_t *)r2, 0)); /* kept */
    CHECK_OK(ccz_paillier_decrypt_batch(m1, key, (const mpz_t *)m1, 11, 0));
    CHECK_OK(ccz_paillier_decrypt_batch(m2, key, (const mpz_t *)m2, 11, 0));
    CHECK_OK(ccz_fl_vlr_update(g1, (const mpz_t *)m1, 0));
    CHECK_OK(ccz_fl_vlr_update(g2, (const mpz_t *)m2, 0));
    same = 0;
    for (int j = 0; j < 11; j++)
        same += ccz_fl_vlr_weights(g1)[j] == ccz_fl_vlr_weights(g2)[j];
    CHECK_INT(same, 11);
    mpz_clears(sq, loss, NULL);
    mpzs_free(fwd, rows);
    mpzs_free(r1, rows);
    mpzs_free(r2, rows);
    mpzs_free(m1, 11);
    mpzs_free(m2, 11);
    ccz_fl_vlr_party_free(g1);
    ccz_fl_vlr_party_free(g2);
    ccz_fl_vlr_party_free(h);
    ccz_paillier_key_free(key);
    ccz_ml_dataset_free(&guest);
    ccz_ml_dataset_free(&host);
}

/* The scores' bound, 1e12 in magnitude: a host of one row (its feature 1) whose weight one plain
 * SGD step at learning rate 1 sets to exactly w (an unmasked gradient of -4 w 2^2S: one row, no
 * regularisation of a zero weight); the score is then w, refused at 1e12 of either sign and
 * taken just below. */
static void test_score_bound(void)
{
    ccz_paillier_key *key = NULL;
    CHECK_OK(ccz_paillier_keygen(&key, 1024));
    const ccz_paillier_pub *pk = ccz_paillier_key_pub(key);
    ccz_fl_vlr_opts o = CCZ_FL_VLR_OPTS_INIT;
    o.momentum = -1;
    o.learning_rate = 1;
    double x[1] = {1};
    ccz_ml_dataset d = {1, 1, x, NULL, NULL};
    static const double ws[] = {999999999999.0, 1e12, -999999999999.0, -1e12};
    mpz_t *res = mpzs(1), *m = mpzs(1), v, n;
    mpz_inits(v, n, NULL);
    ccz_paillier_pub_n(n, pk);
    for (size_t i = 0; i < CCZ_ARRAY_LEN(ws); i++) {
        ccz_fl_vlr_party *h = NULL;
        CHECK_OK(ccz_fl_vlr_party_new(&h, pk, &d, &o));
        if (!h)
            break;
        mpz_set_ui(v, 0);
        CHECK_OK(ccz_paillier_encrypt(res[0], pk, v));
        CHECK_OK(ccz_fl_vlr_gradient(h, m, (const mpz_t *)res, 0));
        CHECK_OK(ccz_paillier_decrypt_batch(m, key, (const mpz_t *)m, 1, 0));
        mpz_set_d(v, -4 * ws[i]);
        mpz_mul_2exp(v, v, 2 * CCZ_FL_VLR_SCALE_BITS);
        mpz_add(m[0], m[0], v);
        mpz_mod(m[0], m[0], n);
        CHECK_OK(ccz_fl_vlr_update(h, (const mpz_t *)m, 0));
        CHECK(ccz_fl_vlr_weights(h)[0] == ws[i]);
        double u[1] = {0};
        if (fabs(ws[i]) < 1e12) {
            CHECK_OK(ccz_fl_vlr_scores(h, u, 1));
            CHECK(u[0] == ws[i]);
        } else {
            CHECK_STATUS(ccz_fl_vlr_scores(h, u, 1), CCZ_ERR_OVERFLOW);
            CHECK_CONTAINS(ccz_error_detail(), "row 1: the score ");
        }
        ccz_fl_vlr_party_free(h);
    }
    mpz_clears(v, n, NULL);
    mpzs_free(res, 1);
    mpzs_free(m, 1);
    ccz_paillier_key_free(key);
}

/* A party's own arguments refused, each by what to change, the boundary beside it accepted. */
static void test_party_refusals(void)
{
    ccz_paillier_key *key = NULL;
    CHECK_OK(ccz_paillier_keygen(&key, 1024));
    const ccz_paillier_pub *pk = ccz_paillier_key_pub(key);
    ccz_ml_dataset d;
    static const char csv[] = "id,x0,x1\n7,1.5,2\n8,-1e6,0\n";
    CHECK_OK(ccz_ml_dataset_parse(&d, csv, sizeof csv - 1, CCZ_ML_CSV_ID));
    ccz_fl_vlr_opts o = CCZ_FL_VLR_OPTS_INIT;
    ccz_fl_vlr_party *p = NULL;
    CHECK_STATUS(ccz_fl_vlr_party_new(&p, pk, &d, &o), CCZ_ERR_OVERFLOW);
    CHECK_STR(ccz_error_detail(),
              "row 2: a feature of magnitude 1e6 or more (scale the features first)");
    /* a modulus of 1023 bits refused, 1024 taken (the rows refused then, as above) */
    mpz_t mod;
    mpz_init(mod);
    for (unsigned bits = 1023; bits <= 1024; bits++) {
        ccz_paillier_pub *pub = NULL;
        mpz_set_ui(mod, 0);
        mpz_setbit(mod, bits);
        mpz_sub_ui(mod, mod, 1);
        CHECK_OK(ccz_paillier_pub_new(&pub, mod));
        CHECK_STATUS(ccz_fl_vlr_party_new(&p, pub, &d, &o),
                     bits == 1023 ? CCZ_ERR_INVALID_ARGUMENT : CCZ_ERR_OVERFLOW);
        CHECK_CONTAINS(ccz_error_detail(), bits == 1023
                                               ? "hetero-LR needs a key of 1024 bits or more"
                                               : "row 2: a feature of magnitude 1e6");
        ccz_paillier_pub_free(pub);
    }
    mpz_clear(mod);
    /* the last feature of the last row is checked too */
    d.x[2] = 0;
    d.x[3] = 1e6;
    CHECK_STATUS(ccz_fl_vlr_party_new(&p, pk, &d, &o), CCZ_ERR_OVERFLOW);
    CHECK_STR(ccz_error_detail(),
              "row 2: a feature of magnitude 1e6 or more (scale the features first)");
    d.x[3] = 0;
    d.x[2] = -999999;
    CHECK_OK(ccz_fl_vlr_party_new(&p, pk, &d, &o));
    /* a decryption that passes as a gradient (2^60 after unmasking, within 2S + 64 bits) but
     * throws the weights to ~1e16: the next scores are refused before any is encrypted */
    {
        mpz_t *res = mpzs(2), *m = mpzs(2), t, n;
        mpz_inits(t, n, NULL);
        ccz_paillier_pub_n(n, pk);
        for (int r = 0; r < 2; r++)
            CHECK_OK(ccz_paillier_encrypt(res[r], pk, t));
        CHECK_OK(ccz_fl_vlr_gradient(p, m, (const mpz_t *)res, 0));
        CHECK_OK(ccz_paillier_decrypt_batch(m, key, (const mpz_t *)m, 2, 0));
        mpz_set_ui(t, 1);
        mpz_mul_2exp(t, t, 2 * CCZ_FL_VLR_SCALE_BITS + 60);
        mpz_add(m[1], m[1], t);
        mpz_mod(m[1], m[1], n);
        CHECK_OK(ccz_fl_vlr_update(p, (const mpz_t *)m, 0));
        double u[2];
        CHECK_STATUS(ccz_fl_vlr_scores(p, u, 1), CCZ_ERR_OVERFLOW);
        CHECK_CONTAINS(ccz_error_detail(), "row 1: the score ");
        CHECK_CONTAINS(ccz_error_detail(), " is out of range (the training diverged)");
        mpz_t sq;
        mpz_init(sq);
        CHECK_STATUS(ccz_fl_vlr_forward(p, res, sq, 1), CCZ_ERR_OVERFLOW);
        CHECK_CONTAINS(ccz_error_detail(), "(the training diverged)");
        mpz_clears(t, n, sq, NULL);
        mpzs_free(res, 2);
        mpzs_free(m, 2);
        ccz_fl_vlr_party_free(p);
        p = NULL;
    }
    CHECK_OK(ccz_fl_vlr_party_new(&p, pk, &d, &o));
    /* a host has no labels: no residuals */
    CHECK_STATUS(ccz_fl_vlr_residuals(p, NULL, NULL, NULL, NULL, 0), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "only the guest has the labels");
    /* the RNG failing: no scores encrypted, and the plain sum of their squares not given out */
    {
        mpz_t *fwd = mpzs(2), sq;
        mpz_init_set_ui(sq, 7);
        rng_fail_start();
        ccz_status st = ccz_fl_vlr_forward(p, fwd, sq, 0);
        rng_fail_stop();
        CHECK_STATUS(st, CCZ_ERR_CRYPTO);
        CHECK_STR(ccz_error_detail(), "the RNG failed");
        CHECK(mpz_cmp_ui(sq, 7) == 0);
        CHECK(mpz_sgn(fwd[0]) == 0 && mpz_sgn(fwd[1]) == 0);
        mpz_clear(sq);
        mpzs_free(fwd, 2);
    }
    ccz_fl_vlr_party_free(p);
    /* the arbiter's decrypted loss: 2 S + 96 bits at most, of either sign, and some rows */
    mpz_t lm, n;
    mpz_inits(lm, n, NULL);
    ccz_paillier_pub_n(n, pk);
    double l = NAN;
    mpz_setbit(lm, 2 * CCZ_FL_VLR_SCALE_BITS + 96);
    CHECK_STATUS(ccz_fl_vlr_loss(&l, pk, lm, 4), CCZ_ERR_OVERFLOW);
    CHECK_CONTAINS(ccz_error_detail(), "the loss is out of range (193 bits)");
    mpz_sub(lm, n, lm); /* its negative */
    CHECK_STATUS(ccz_fl_vlr_loss(&l, pk, lm, 4), CCZ_ERR_OVERFLOW);
    CHECK_CONTAINS(ccz_error_detail(), "the loss is out of range (193 bits)");
    mpz_set_ui(lm, 0);
    mpz_setbit(lm, 2 * CCZ_FL_VLR_SCALE_BITS + 95);
    CHECK_OK(ccz_fl_vlr_loss(&l, pk, lm, 4));
    CHECK(l == log(2.0) + 0x1p95 / 32);
    mpz_sub(lm, n, lm);
    CHECK_OK(ccz_fl_vlr_loss(&l, pk, lm, 4));
    CHECK(l == log(2.0) - 0x1p95 / 32);
    CHECK_STATUS(ccz_fl_vlr_loss(&l, pk, lm, 0), CCZ_ERR_OVERFLOW);
    mpz_clears(lm, n, NULL);
    p = NULL;
    /* no key, no rows, no features */
    CHECK_STATUS(ccz_fl_vlr_party_new(&p, NULL, &d, &o), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "a party needs a key and rows");
    ccz_ml_dataset empty = d;
    empty.rows = 0;
    CHECK_STATUS(ccz_fl_vlr_party_new(&p, pk, &empty, &o), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "a party needs a key and rows");
    empty = d;
    empty.features = 0;
    CHECK_STATUS(ccz_fl_vlr_party_new(&p, pk, &empty, &o), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "a party needs a key and rows");
    CHECK(p == NULL);
    ccz_fl_vlr_party_free(p); /* NULL: nothing to free */
    o.version = 0;
    CHECK_STATUS(ccz_fl_vlr_party_new(&p, pk, &d, &o), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "ccz_fl_vlr_opts: version 0, expected 1");
    static const struct {
        double alpha, lr, momentum;
    } bad[] = {{-1, 0.1, 0}, {1e6, 0.1, 0}, {0.1, -0.5, 0}, {0.1, 1e6, 0}, {0.1, 0.1, 1}};
    for (size_t i = 0; i < CCZ_ARRAY_LEN(bad); i++) {
        o = (ccz_fl_vlr_opts)CCZ_FL_VLR_OPTS_INIT;
        o.alpha = bad[i].alpha;
        o.learning_rate = bad[i].lr;
        o.momentum = bad[i].momentum;
        CHECK_STATUS(ccz_fl_vlr_party_new(&p, pk, &d, &o), CCZ_ERR_INVALID_ARGUMENT);
        CHECK_STR(ccz_error_detail(),
                  "alpha and the learning rate are in [0, 1e6), the momentum below 1");
    }
    o = (ccz_fl_vlr_opts)CCZ_FL_VLR_OPTS_INIT;
    o.momentum = 0.99;
    CHECK_OK(ccz_fl_vlr_party_new(&p, pk, &d, &o));
    ccz_fl_vlr_party_free(p);
    /* alignment to no ids */
    ccz_ml_dataset al;
    int64_t ids[1] = {7};
    CHECK_STATUS(ccz_fl_vlr_align(&al, &d, ids, 0), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "alignment needs ids");
    ccz_ml_dataset_free(&d);
    ccz_paillier_key_free(key);
}

TEST_MAIN(T(test_layouts), T(test_steps), T(test_kept_gradient), T(test_residuals_without_loss),
          T(test_gradient_bound), T(test_negative_momentum_plain_sgd), T(test_zscore), T(test_auc),
          T(test_party_refusals), T(test_score_bound))
