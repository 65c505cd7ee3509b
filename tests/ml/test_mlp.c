/* SPDX-License-Identifier: Apache-2.0 */
/* The small trainer and IDX files (include/ccz/mlp.h): an MLP and multinomial LR learn separable
 * blobs with SGD and Adam, FedProx's proximal term holds the model at its anchor, shards
 * partition the rows (IID and Dirichlet), IDX pairs parse and malformed ones are refused with
 * the field named. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccz/mlp.h"
#include "test.h"

static uint64_t rng = 42;
static float frand(void)
{
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((double)(rng >> 11) / 9007199254740992.0 * 2 - 1);
}

/* Two well-separated Gaussian blobs per class: the MLP and LR learn them. */
static void make_blobs(ccz_mlp_data *d, size_t rows)
{
    d->rows = rows;
    d->features = 4;
    d->classes = 3;
    d->x = malloc(rows * 4 * sizeof(float));
    d->y = malloc(rows);
    for (size_t r = 0; r < rows; r++) {
        d->y[r] = (uint8_t)(r % 3);
        for (int j = 0; j < 4; j++)
            d->x[r * 4 + (size_t)j] = frand() * 0.5f + (j == d->y[r] ? 2.0f : 0.0f);
    }
}

static void trainer(void)
{
    ccz_mlp_data d;
    make_blobs(&d, 600);
    ccz_mlp_shape shapes[2] = {{1, {4, 3}}, {2, {4, 16, 3}}};
    for (int k = 0; k < 2; k++) {
        size_t n;
        CHECK_OK(ccz_mlp_shape_check(&shapes[k], &n));
        CHECK_INT(n, k ? (5 * 16 + 17 * 3) : 15);
        float *w = malloc(n * sizeof(float));
        ccz_mlp_init(w, &shapes[k], 1);
        double acc0, loss0, acc, loss, tl;
        CHECK_OK(ccz_mlp_evaluate(&acc0, &loss0, w, &shapes[k], &d, 1));
        for (int opt = 0; opt < 2; opt++) {
            ccz_mlp_train_opts o = CCZ_MLP_TRAIN_OPTS_INIT;
            o.epochs = 5;
            o.optimizer = opt ? CCZ_MLP_ADAM : CCZ_MLP_SGD;
            o.lr = opt ? 0.01f : 0.1f;
            CHECK_OK(ccz_mlp_train(w, &shapes[k], &d, &o, &tl));
        }
        CHECK_OK(ccz_mlp_evaluate(&acc, &loss, w, &shapes[k], &d, 1));
        fprintf(stderr, "trainer %s: accuracy %.3f -> %.3f, loss %.3f -> %.3f\n", k ? "mlp" : "lr",
                acc0, acc, loss0, loss);
        CHECK(acc >= 0.97 && loss < loss0 / 4);
        /* FedProx: a large mu keeps the model at its anchor */
        float *anchor = malloc(n * sizeof(float));
        memcpy(anchor, w, n * sizeof(float));
        for (size_t i = 0; i < n; i++)
            anchor[i] += 0.5f;
        ccz_mlp_train_opts o = CCZ_MLP_TRAIN_OPTS_INIT;
        o.mu = 5;
        o.anchor = anchor;
        o.epochs = 20;
        o.lr = 0.1f;
        CHECK_OK(ccz_mlp_train(w, &shapes[k], &d, &o, &tl));
        double far = 0;
        for (size_t i = 0; i < n; i++)
            far = fmax(far, fabs((double)w[i] - anchor[i]));
        CHECK(far < 0.3);
        free(anchor);
        free(w);
    }
    /* a shape the data does not fit */
    ccz_mlp_shape bad = {1, {5, 3}};
    float w[18];
    double a, l;
    CHECK_STATUS(ccz_mlp_evaluate(&a, &l, w, &bad, &d, 1), CCZ_ERR_INVALID_ARGUMENT);
    /* IID shards partition the rows; Dirichlet shards too */
    size_t total = 0;
    for (unsigned s = 0; s < 4; s++) {
        ccz_mlp_data c;
        make_blobs(&c, 600);
        CHECK_OK(ccz_mlp_data_shard(&c, s, 4, s == 3 ? 0 : 0, 9));
        total += c.rows;
        ccz_mlp_data_free(&c);
    }
    CHECK_INT(total, 600);
    total = 0;
    for (unsigned s = 0; s < 4; s++) {
        ccz_mlp_data c;
        make_blobs(&c, 600);
        CHECK_OK(ccz_mlp_data_shard(&c, s, 4, 0.5, 9));
        total += c.rows;
        ccz_mlp_data_free(&c);
    }
    CHECK_INT(total, 600);
    ccz_mlp_data_free(&d);
}

static void idx_files(void)
{
    uint8_t img[16 + 2 * 4] = {0, 0, 8, 3, 0, 0,   0, 2, 0,  0, 0, 2,
                               0, 0, 0, 2, 0, 255, 0, 0, 51, 0, 0, 0};
    uint8_t lab[8 + 2] = {0, 0, 8, 1, 0, 0, 0, 2, 1, 4};
    ccz_mlp_data d;
    CHECK_OK(ccz_mlp_data_parse_idx(&d, (ccz_span){img, sizeof img}, (ccz_span){lab, sizeof lab}));
    CHECK_INT(d.rows, 2);
    CHECK_INT(d.features, 4);
    CHECK_INT(d.classes, 5);
    CHECK(d.x[1] == 1.0f && fabsf(d.x[4] - 0.2f) < 1e-6f);
    ccz_mlp_data_free(&d);
    CHECK_STATUS(
        ccz_mlp_data_parse_idx(&d, (ccz_span){img, sizeof img - 1}, (ccz_span){lab, sizeof lab}),
        CCZ_ERR_TRUNCATED);
    lab[7] = 3;
    CHECK_STATUS(
        ccz_mlp_data_parse_idx(&d, (ccz_span){img, sizeof img}, (ccz_span){lab, sizeof lab}),
        CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "2 images but 3 labels");
    lab[7] = 2;
    img[3] = 1;
    CHECK_STATUS(
        ccz_mlp_data_parse_idx(&d, (ccz_span){img, sizeof img}, (ccz_span){lab, sizeof lab}),
        CCZ_ERR_MALFORMED);
}

TEST_MAIN(T(trainer), T(idx_files))
