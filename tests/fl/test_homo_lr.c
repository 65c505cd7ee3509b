/* SPDX-License-Identifier: Apache-2.0 */
/* CCZoo's homomorphic LR (src/fl/homo_lr.c) on CCZoo's breast data (read in place from the
 * shared data): three iterations of two workers' encrypted steps and the server's average
 * against the same steps in double precision (ccz_ml_lr_step, src/ml/lr.c) to 1e-9; the
 * aggregation's refusals. The exact reference (tests/fl/homo_lr_ref.py) checks the service's
 * trace in tests/cli/test_fl_cli.sh. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ccz/ccz.h"
#include "ccz/fl.h"
#include "homo_lr.pb-c.h"
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

/* A worker of `rows` rows of one feature (x[r] = xs[r], labels alternating) under k. */
static ccz_fl_hlr_worker *small_worker(ccz_paillier_key *k, const double *xs, size_t rows,
                                       const ccz_fl_hlr_opts *o, ccz_status want)
{
    static double x[4];
    static uint8_t y[4] = {0, 1, 0, 1};
    for (size_t r = 0; r < rows; r++)
        x[r] = xs[r];
    ccz_ml_dataset d = {rows, 1, x, y, NULL};
    ccz_fl_hlr_worker *w = NULL;
    CHECK_STATUS(ccz_fl_hlr_worker_new(&w, ccz_paillier_key_pub(k), &d, o), want);
    return w;
}

/* The worker's and the server's own refusals: no rows, no labels, rows whose features (or a column
 * across the rows) cannot be encoded exactly, weights too far apart to align, an update past
 * the key's encoding, nothing to aggregate, options of another version. */
static void test_refusals(void)
{
    ccz_paillier_key *k = NULL;
    CHECK_OK(ccz_paillier_keygen(&k, 1024));
    const ccz_paillier_pub *pk = ccz_paillier_key_pub(k);
    ccz_fl_hlr_opts o = CCZ_FL_HLR_OPTS_INIT;
    double ok[2] = {0.5, -2};
    /* no rows, no features */
    ccz_ml_dataset none = {0, 1, ok, (uint8_t[]){0}, NULL};
    ccz_fl_hlr_worker *w = NULL;
    CHECK_STATUS(ccz_fl_hlr_worker_new(&w, pk, &none, &o), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "a worker needs a key and rows");
    none.rows = 1;
    none.features = 0;
    CHECK_STATUS(ccz_fl_hlr_worker_new(&w, pk, &none, &o), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "a worker needs a key and rows");
    /* rows without labels (a vertical host's) */
    none.features = 1;
    none.y = NULL;
    CHECK_STATUS(ccz_fl_hlr_worker_new(&w, pk, &none, &o), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "a worker's rows need their labels");
    CHECK(w == NULL);
    /* a plan out of range: alpha and the learning rate each in [0, 1e6) */
    none.y = (uint8_t[]){0};
    static const double plans[][2] = {{-1, 0.15}, {1e6, 0.15}, {NAN, 0.15},
                                      {0.01, -1}, {0.01, 1e6}, {0.01, INFINITY}};
    for (size_t i = 0; i < CCZ_ARRAY_LEN(plans); i++) {
        ccz_fl_hlr_opts bad = o;
        bad.alpha = plans[i][0];
        bad.learning_rate = plans[i][1];
        CHECK_STATUS(ccz_fl_hlr_worker_new(&w, pk, &none, &bad), CCZ_ERR_INVALID_ARGUMENT);
        CHECK_STR(ccz_error_detail(), "alpha and the learning rate are in [0, 1e6)");
        CHECK(w == NULL);
    }
    /* options of another version than this header's, for rows it would take */
    ccz_fl_hlr_opts other = o;
    other.version = 0;
    CHECK_STATUS(ccz_fl_hlr_worker_new(&w, pk, &none, &other), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "ccz_fl_hlr_opts: version 0, expected 1");
    other.version = CCZ_FL_HLR_OPTS_VERSION + 1;
    CHECK_STATUS(ccz_fl_hlr_worker_new(&w, pk, &none, &other), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "ccz_fl_hlr_opts: version 2, expected 1");
    CHECK(w == NULL);
    /* a row of 1 (the bias) and 1e-300: 250 hex digits apart, past a 1024-bit key; the row
     * named is the one that spans them */
    double tiny[2] = {0.5, 1e-300};
    small_worker(k, tiny, 2, &o, CCZ_ERR_OVERFLOW);
    CHECK_STR(ccz_error_detail(), "row 2: the features span too many orders of magnitude to be "
                                  "encoded exactly under a 1024-bit key");
    /* each row within the key (1e-120 beside 1, 100 hex digits) but the feature's column
     * across the two rows twice that */
    double rows2[2] = {1e-120, 1e120};
    small_worker(k, rows2, 2, &o, CCZ_ERR_OVERFLOW);
    CHECK_STR(ccz_error_detail(), "feature 1: its values span too many orders of magnitude "
                                  "across the rows to be encoded exactly under a 1024-bit key");
    /* each scalar within the key, their products not: a row of 1 and 1.2e-80 (80 hex digits
     * below the bias) beside one of -1.4e40 (20 above), which puts that feature's gradient
     * scalars 180 hex digits apart across the rows; refused up front, naming the row and the
     * feature, rather than by the server's check of an average that wrapped */
    double apart[2] = {1.2345678901234e-80, -1.3579246801357e40};
    small_worker(k, apart, 2, &o, CCZ_ERR_OVERFLOW);
    CHECK_STR(ccz_error_detail(), "row 2, feature 1: the row's features and the feature's values "
                                  "across the rows span too many orders of magnitude together "
                                  "for the encrypted products to fit a 1024-bit key");
    /* the bound itself: a row of 1 beside 2^-896 puts the bias 224 hex digits up, 897 bits,
     * one past the 1024-bit key's 896 (refused as such, naming the row); beside 2^-892, 893
     * bits pass that bound and are refused by the products' */
    double edge[1] = {ldexp(1, -896)};
    small_worker(k, edge, 1, &o, CCZ_ERR_OVERFLOW);
    CHECK_STR(ccz_error_detail(), "row 1: the features span too many orders of magnitude to be "
                                  "encoded exactly under a 1024-bit key");
    edge[0] = ldexp(1, -892);
    small_worker(k, edge, 1, &o, CCZ_ERR_OVERFLOW);
    CHECK_STR(ccz_error_detail(), "row 1, feature 0: the row's features and the feature's values "
                                  "across the rows span too many orders of magnitude together "
                                  "for the encrypted products to fit a 1024-bit key");
    /* the products' bound itself: a row of 1 beside 2^-826 (4 at 16^-207) puts the bias at 829
     * bits and the feature's scalar at 3, with the 192 of room exactly the key's 1024 (taken);
     * two such rows take one bit more for their sum (refused, naming the first); two rows of
     * 2^-827 (a scalar of 2 bits) fit again */
    double exact[2] = {ldexp(1, -826), ldexp(1, -826)};
    w = small_worker(k, exact, 1, &o, CCZ_OK);
    ccz_fl_hlr_worker_free(w);
    small_worker(k, exact, 2, &o, CCZ_ERR_OVERFLOW);
    CHECK_STR(ccz_error_detail(), "row 1, feature 1: the row's features and the feature's values "
                                  "across the rows span too many orders of magnitude together "
                                  "for the encrypted products to fit a 1024-bit key");
    exact[0] = exact[1] = ldexp(1, -827);
    w = small_worker(k, exact, 2, &o, CCZ_OK);
    ccz_fl_hlr_worker_free(w);
    double rows1[2] = {1e-120, 1e-115};
    w = small_worker(k, rows1, 2, &o, CCZ_OK);
    ccz_fl_hlr_worker_free(w);

    ccz_paillier_number in[2], out[2];
    for (int i = 0; i < 2; i++) {
        ccz_paillier_number_init(&in[i]);
        ccz_paillier_number_init(&out[i]);
    }
    /* weights 2048 hex digits apart: not aligned within the key */
    w = small_worker(k, ok, 2, &o, CCZ_OK);
    if (w) {
        CHECK_OK(ccz_fl_hlr_initial(in, w));
        in[0].exponent = CCZ_FL_HLR_MAX_EXPONENT;
        in[1].exponent = -CCZ_FL_HLR_MAX_EXPONENT;
        CHECK_STATUS(ccz_fl_hlr_step(w, out, in, 0), CCZ_ERR_OVERFLOW);
        CHECK_STR(ccz_error_detail(),
                  "aligning the weights: exponents 2048 hex digits apart do not fit the key");
        /* an exponent past either bound: refused as such, before any alignment */
        in[0].exponent = CCZ_FL_HLR_MAX_EXPONENT + 1;
        in[1].exponent = 0;
        CHECK_STATUS(ccz_fl_hlr_step(w, out, in, 0), CCZ_ERR_INVALID_ARGUMENT);
        CHECK_STR(ccz_error_detail(), "weight 0: exponent 1025 out of range");
        in[0].exponent = 0;
        in[1].exponent = -CCZ_FL_HLR_MAX_EXPONENT - 1;
        CHECK_STATUS(ccz_fl_hlr_step(w, out, in, 0), CCZ_ERR_INVALID_ARGUMENT);
        CHECK_STR(ccz_error_detail(), "weight 1: exponent -1025 out of range");
        /* 255 apart still align within a 1024-bit key's 256, but a weight 16^255 times the
         * scalars of its row wraps: refused by the products; 190 apart fit */
        in[0].exponent = 0;
        in[1].exponent = -255;
        CHECK_STATUS(ccz_fl_hlr_step(w, out, in, 0), CCZ_ERR_OVERFLOW);
        CHECK_CONTAINS(ccz_error_detail(), "step 0, weight 0: its gradient's encrypted products "
                                           "would take up to ");
        in[1].exponent = -190;
        CHECK_OK(ccz_fl_hlr_step(w, out, in, 0));
        /* the bound itself: 196 apart take products of at most 960 bits, what the key leaves
         * past the server's 64; 197 apart take 961, refused */
        in[1].exponent = -196;
        CHECK_OK(ccz_fl_hlr_step(w, out, in, 0));
        in[1].exponent = -197;
        CHECK_STATUS(ccz_fl_hlr_step(w, out, in, 0), CCZ_ERR_OVERFLOW);
        CHECK_STR(ccz_error_detail(), "step 0, weight 1: its gradient's encrypted products would "
                                      "take up to 961 bits, past the 960 this 1024-bit key leaves "
                                      "room for (the features or the weights span too many orders "
                                      "of magnitude)");
        /* weights both far below 1: the labels' term (8 - 16 y) 16^-Ez, 4 bits and 4 per hex
         * digit, is the widest of a row's p; at 16^-210 the products fit, at 16^-211 they take
         * 961 bits */
        in[0].exponent = in[1].exponent = -210;
        CHECK_OK(ccz_fl_hlr_step(w, out, in, 0));
        in[0].exponent = in[1].exponent = -211;
        CHECK_STATUS(ccz_fl_hlr_step(w, out, in, 0), CCZ_ERR_OVERFLOW);
        CHECK_STR(ccz_error_detail(), "step 0, weight 0: its gradient's encrypted products would "
                                      "take up to 961 bits, past the 960 this 1024-bit key leaves "
                                      "room for (the features or the weights span too many orders "
                                      "of magnitude)");
        in[0].exponent = 0;
        in[1].exponent = -256;
        CHECK_STATUS(ccz_fl_hlr_step(w, out, in, 0), CCZ_ERR_OVERFLOW);
        CHECK_STR(ccz_error_detail(),
                  "aligning the weights: exponents 256 hex digits apart do not fit the key");
        /* weights as low as a peer may send them: the update's exponent falls below that */
        in[0].exponent = in[1].exponent = -CCZ_FL_HLR_MAX_EXPONENT;
        CHECK_STATUS(ccz_fl_hlr_step(w, out, in, 3), CCZ_ERR_OVERFLOW);
        CHECK_STR(ccz_error_detail(),
                  "step 3, weight 0: the update does not fit the key's encoding");
        ccz_fl_hlr_worker_free(w);
    }
    /* updates whose scalars leave no room below n: 1 - lr alpha of ~1100 bits (lr alpha
     * 1e-300, the gradient's scalar lr / rows at the same exponent as features of 1e-200 put
     * it), then the gradient's scalar 235 hex digits above the weight's (features of 1e200,
     * 1 - lr alpha at 16^-97) */
    static const struct {
        double x[2], alpha, lr;
        const char *error;
    } room[] = {
        {{1e-200, -2e-200},
         1e-200,
         1e-100,
         "step 0, weight 0: the update does not fit the key's "
         "encoding"},
        {{1e200, -2e200},
         1e-100,
         0,
         "step 0, weight 1: the update does not fit the key's "
         "encoding"},
    };
    for (size_t c = 0; c < CCZ_ARRAY_LEN(room); c++) {
        o.alpha = room[c].alpha;
        o.learning_rate = room[c].lr;
        w = small_worker(k, room[c].x, 2, &o, CCZ_OK);
        if (!w)
            continue;
        CHECK_OK(ccz_fl_hlr_initial(in, w));
        CHECK_STATUS(ccz_fl_hlr_step(w, out, in, 0), CCZ_ERR_OVERFLOW);
        CHECK_STR(ccz_error_detail(), room[c].error);
        ccz_fl_hlr_worker_free(w);
    }
    /* the update's bounds themselves, with lr 1 and alpha 16^-j so that 1 - lr alpha is
     * 16^j - 1 at 16^-j (4j bits) and sets the update's exponent, Ew - j: alpha 16^-240 puts
     * the weight's scalar at 960 bits, what the key leaves past the server's 64 (taken by the
     * update, refused by the products); 16^-241, 964 bits, refused by the update. Weights at
     * 16^-1020 and alpha 16^-4 put the update at 16^-1024, the lowest exponent a peer may send
     * (taken by the update, refused by the products); at 16^-1021, one below (refused). */
    static const struct {
        double alpha;
        int exponent;
        const char *error;
    } bound[] = {
        {0x1p-960, 0, "step 0, weight 0: its gradient's encrypted products would take up to "},
        {0x1p-964, 0, "step 0, weight 0: the update does not fit the key's encoding"},
        {0x1p-16, -1020, "step 0, weight 0: its gradient's encrypted products would take up to "},
        {0x1p-16, -1021, "step 0, weight 0: the update does not fit the key's encoding"},
    };
    for (size_t c = 0; c < CCZ_ARRAY_LEN(bound); c++) {
        o.alpha = bound[c].alpha;
        o.learning_rate = 1;
        w = small_worker(k, ok, 2, &o, CCZ_OK);
        if (!w)
            continue;
        CHECK_OK(ccz_fl_hlr_initial(in, w));
        in[0].exponent = in[1].exponent = bound[c].exponent;
        CHECK_STATUS(ccz_fl_hlr_step(w, out, in, 0), CCZ_ERR_OVERFLOW);
        CHECK_CONTAINS(ccz_error_detail(), bound[c].error);
        ccz_fl_hlr_worker_free(w);
    }
    /* data whose scalars and their products pass, but whose update does not: a feature of
     * 1.2e60 beside one of -1.4e140, its gradient (~1e280) aligned to the weight's exponent
     * would wrap in the worker's products; refused by the worker, naming the weight, not by the
     * server as "weights the workers did not compute" */
    o = (ccz_fl_hlr_opts)CCZ_FL_HLR_OPTS_INIT;
    double huge[2] = {1.2345678901234e60, -1.3579246801357e140};
    w = small_worker(k, huge, 2, &o, CCZ_OK);
    if (w) {
        CHECK_OK(ccz_fl_hlr_initial(in, w));
        CHECK_STATUS(ccz_fl_hlr_step(w, out, in, 0), CCZ_ERR_OVERFLOW);
        CHECK_STR(ccz_error_detail(), "step 0, weight 1: its gradient's encrypted products would "
                                      "take up to 1101 bits, past the 960 this 1024-bit key leaves "
                                      "room for (the features or the weights span too many orders "
                                      "of magnitude)");
        ccz_fl_hlr_worker_free(w);
    }
    /* nothing to aggregate */
    const ccz_paillier_number *ins[1] = {in};
    double plain[2];
    CHECK_STATUS(ccz_fl_hlr_aggregate(out, plain, k, ins, 0, 2, 1), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "nothing to aggregate");
    CHECK_STATUS(ccz_fl_hlr_aggregate(out, plain, k, ins, 1, 0, 1), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "nothing to aggregate");
    /* one worker (a training may have one): the average is its weights */
    for (int i = 0; i < 2; i++) {
        ccz_paillier_encoded e;
        ccz_paillier_encoded_init(&e);
        CHECK_OK(ccz_paillier_encode_double(&e, pk, ok[i], 0));
        CHECK_OK(ccz_paillier_encrypt_encoded(&in[i], pk, &e));
        ccz_paillier_encoded_clear(&e);
    }
    CHECK_OK(ccz_fl_hlr_aggregate(out, plain, k, ins, 1, 2, 1));
    CHECK(plain[0] == 0.5 && plain[1] == -2);
    /* the average's bound itself: a mantissa of 2^960 (961 bits) is one past the 960 a
     * 1024-bit key leaves, refused; 2^959, or its negative, is taken */
    mpz_t m, n;
    mpz_inits(m, n, NULL);
    ccz_paillier_pub_n(n, pk);
    CHECK_INT(mpz_sizeinbase(n, 2), 1024);
    mpz_setbit(m, 960);
    CHECK_OK(ccz_paillier_encrypt(in[0].c, pk, m));
    in[0].exponent = 0;
    CHECK_STATUS(ccz_fl_hlr_aggregate(out, plain, k, ins, 1, 1, 1), CCZ_ERR_OVERFLOW);
    CHECK_STR(ccz_error_detail(),
              "weight 0 of the average: its mantissa has 961 bits, past the 960 this 1024-bit "
              "key leaves room for (an overflow, or weights the workers did not compute)");
    mpz_set_ui(m, 0);
    mpz_setbit(m, 959);
    CHECK_OK(ccz_paillier_encrypt(in[0].c, pk, m));
    CHECK_OK(ccz_fl_hlr_aggregate(out, plain, k, ins, 1, 1, 1));
    CHECK(plain[0] == ldexp(1, 959));
    mpz_sub(m, n, m); /* -2^959 */
    CHECK_OK(ccz_paillier_encrypt(in[0].c, pk, m));
    CHECK_OK(ccz_fl_hlr_aggregate(out, plain, k, ins, 1, 1, 1));
    CHECK(plain[0] == -ldexp(1, 959));
    /* an average past a double's range (1 at 16^1024): refused, naming the weight */
    mpz_set_ui(m, 1);
    CHECK_OK(ccz_paillier_encrypt(in[0].c, pk, m));
    in[0].exponent = CCZ_FL_HLR_MAX_EXPONENT;
    CHECK_STATUS(ccz_fl_hlr_aggregate(out, plain, k, ins, 1, 1, 1), CCZ_ERR_OVERFLOW);
    CHECK_STR(ccz_error_detail(), "weight 0 of the average: the value does not fit a double");
    mpz_clears(m, n, NULL);
    for (int i = 0; i < 2; i++) {
        ccz_paillier_number_clear(&in[i]);
        ccz_paillier_number_clear(&out[i]);
    }
    ccz_paillier_key_free(k);
}

/* The weights a peer sends (src/fl/wire.c): each exponent within +-CCZ_FL_HLR_MAX_EXPONENT (the
 * bounds themselves accepted), each ciphertext 1 to n^2's bytes, in [1, n^2) and prime to n; the
 * first weight that is not is named. */
static void test_weights_wire(void)
{
    ccz_paillier_key *k = NULL;
    CHECK_OK(ccz_paillier_keygen(&k, 1024));
    const ccz_paillier_pub *pk = ccz_paillier_key_pub(k);
    mpz_t n, n2, x;
    mpz_inits(n, n2, x, NULL);
    ccz_paillier_pub_n(n, pk);
    mpz_mul(n2, n, n);
    size_t max_len = (mpz_sizeinbase(n2, 2) + 7) / 8;
    CHECK_INT(max_len, 256);
    /* three genuine ciphertexts, at exponents 0 and the two bounds */
    uint8_t ct[3][257];
    size_t ct_len[3];
    Homolr__EncryptedNumber num[3];
    Homolr__EncryptedNumber *ptr[3];
    static const int32_t ex[3] = {0, -CCZ_FL_HLR_MAX_EXPONENT, CCZ_FL_HLR_MAX_EXPONENT};
    for (int i = 0; i < 3; i++) {
        mpz_set_ui(x, (unsigned long)i + 1);
        CHECK_OK(ccz_paillier_encrypt(x, pk, x));
        mpz_export(ct[i], &ct_len[i], 1, 1, 1, 0, x);
        homolr__encrypted_number__init(&num[i]);
        num[i].ciphertext = (ProtobufCBinaryData){ct_len[i], ct[i]};
        num[i].exponent = ex[i];
        ptr[i] = &num[i];
    }
    Homolr__EncryptedVector v = HOMOLR__ENCRYPTED_VECTOR__INIT;
    v.n_values = 3;
    v.values = ptr;
    uint8_t msg[2048];
    ccz_paillier_number out[3];
    for (int i = 0; i < 3; i++)
        ccz_paillier_number_init(&out[i]);
    size_t len = homolr__encrypted_vector__pack(&v, msg);
    CHECK_OK(ccz_fl_hlr_weights_parse(out, 3, pk, msg, len));
    for (int i = 0; i < 3; i++) {
        CHECK_INT(out[i].exponent, ex[i]);
        mpz_import(x, ct_len[i], 1, 1, 1, 0, ct[i]);
        CHECK(mpz_cmp(out[i].c, x) == 0);
    }
    CHECK_STATUS(ccz_fl_hlr_weights_parse(out, 2, pk, msg, len), CCZ_ERR_MALFORMED);
    CHECK_STR(ccz_error_detail(),
              "3 encrypted weights; the model has 2 (the bias and one per feature)");
    /* an exponent one past each bound */
    num[1].exponent = -CCZ_FL_HLR_MAX_EXPONENT - 1;
    len = homolr__encrypted_vector__pack(&v, msg);
    CHECK_STATUS(ccz_fl_hlr_weights_parse(out, 3, pk, msg, len), CCZ_ERR_MALFORMED);
    CHECK_STR(ccz_error_detail(), "weight 1: exponent -1025 is outside [-1024, 1024]");
    num[1].exponent = ex[1];
    num[2].exponent = CCZ_FL_HLR_MAX_EXPONENT + 1;
    len = homolr__encrypted_vector__pack(&v, msg);
    CHECK_STATUS(ccz_fl_hlr_weights_parse(out, 3, pk, msg, len), CCZ_ERR_MALFORMED);
    CHECK_STR(ccz_error_detail(), "weight 2: exponent 1025 is outside [-1024, 1024]");
    num[2].exponent = ex[2];
    /* no bytes; a genuine ciphertext behind zeros that make it one byte longer than n^2 */
    num[0].ciphertext.len = 0;
    len = homolr__encrypted_vector__pack(&v, msg);
    CHECK_STATUS(ccz_fl_hlr_weights_parse(out, 3, pk, msg, len), CCZ_ERR_MALFORMED);
    CHECK_STR(ccz_error_detail(), "weight 0: a ciphertext of 0 bytes (1 to 256)");
    uint8_t padded[257] = {0};
    memcpy(padded + 257 - ct_len[0], ct[0], ct_len[0]);
    num[0].ciphertext = (ProtobufCBinaryData){257, padded};
    len = homolr__encrypted_vector__pack(&v, msg);
    CHECK_STATUS(ccz_fl_hlr_weights_parse(out, 3, pk, msg, len), CCZ_ERR_MALFORMED);
    CHECK_STR(ccz_error_detail(), "weight 0: a ciphertext of 257 bytes (1 to 256)");
    /* n^2 + 1 (prime to n, as long as n^2, out of range), n (not prime to n), zero */
    uint8_t bad[257];
    size_t bad_len;
    const char *why = "weight 1: not a ciphertext of this key (not in [1, n^2) or not prime to n)";
    num[0].ciphertext = (ProtobufCBinaryData){ct_len[0], ct[0]};
    num[1].ciphertext = (ProtobufCBinaryData){0, bad};
    mpz_add_ui(x, n2, 1);
    mpz_export(bad, &bad_len, 1, 1, 1, 0, x);
    CHECK_INT(bad_len, 256);
    num[1].ciphertext.len = bad_len;
    len = homolr__encrypted_vector__pack(&v, msg);
    CHECK_STATUS(ccz_fl_hlr_weights_parse(out, 3, pk, msg, len), CCZ_ERR_MALFORMED);
    CHECK_STR(ccz_error_detail(), why);
    mpz_export(bad, &bad_len, 1, 1, 1, 0, n);
    num[1].ciphertext.len = bad_len;
    len = homolr__encrypted_vector__pack(&v, msg);
    CHECK_STATUS(ccz_fl_hlr_weights_parse(out, 3, pk, msg, len), CCZ_ERR_MALFORMED);
    CHECK_STR(ccz_error_detail(), why);
    bad[0] = 0;
    num[1].ciphertext.len = 1;
    len = homolr__encrypted_vector__pack(&v, msg);
    CHECK_STATUS(ccz_fl_hlr_weights_parse(out, 3, pk, msg, len), CCZ_ERR_MALFORMED);
    CHECK_STR(ccz_error_detail(), why);
    /* not the message at all */
    CHECK_STATUS(ccz_fl_hlr_weights_parse(out, 3, pk, (const uint8_t *)"\xff", 1),
                 CCZ_ERR_MALFORMED);
    CHECK_STR(ccz_error_detail(), "the weights are not an EncryptedVector message");
    for (int i = 0; i < 3; i++)
        ccz_paillier_number_clear(&out[i]);
    mpz_clears(n, n2, x, NULL);
    ccz_paillier_key_free(k);
}

TEST_MAIN(T(test_steps), T(test_refusals), T(test_weights_wire))
