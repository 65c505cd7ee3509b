/* SPDX-License-Identifier: Apache-2.0 */
/* The small trainer and IDX files (include/ccz/mlp.h): an MLP and multinomial LR learn separable
 * blobs with SGD and Adam, FedProx's proximal term holds the model at its anchor, shards
 * partition the rows (IID and Dirichlet), IDX pairs parse and malformed ones are refused with
 * the field named; the loss and one step of SGD, Adam and FedProx equal a reference written
 * here in double precision from the definitions; wrong data, options and shapes refused. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
    CHECK_CONTAINS(ccz_error_detail(), "images: magic 0x00000801, expected 0x00000803");
    img[3] = 3;
    lab[3] = 3; /* labels with the images' magic */
    CHECK_STATUS(
        ccz_mlp_data_parse_idx(&d, (ccz_span){img, sizeof img}, (ccz_span){lab, sizeof lab}),
        CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "labels: magic 0x00000803, expected 0x00000801");
    lab[3] = 1;
    /* a byte after the images or after the labels */
    uint8_t img2[sizeof img + 1] = {0}, lab2[sizeof lab + 1] = {0};
    memcpy(img2, img, sizeof img);
    memcpy(lab2, lab, sizeof lab);
    CHECK_STATUS(
        ccz_mlp_data_parse_idx(&d, (ccz_span){img2, sizeof img2}, (ccz_span){lab, sizeof lab}),
        CCZ_ERR_TRAILING_DATA);
    CHECK_STATUS(
        ccz_mlp_data_parse_idx(&d, (ccz_span){img, sizeof img}, (ccz_span){lab2, sizeof lab2}),
        CCZ_ERR_TRAILING_DATA);
    /* images of 257 x 256 pixels: wider than a layer may be */
    img[10] = 1, img[11] = 1, img[14] = 1, img[15] = 0;
    CHECK_STATUS(
        ccz_mlp_data_parse_idx(&d, (ccz_span){img, sizeof img}, (ccz_span){lab, sizeof lab}),
        CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "of 257 x 256 pixels (1 to 65536 pixels each)");
}

/* The header's counts at their edges: no images, no rows of pixels, a layer's width exactly,
 * and more pixels than a data set may hold (refused before the bytes are looked for). */
static void idx_header_edges(void)
{
    static uint8_t img[16 + 256 * 256];
    uint8_t lab[8 + 1] = {0, 0, 8, 1, 0, 0, 0, 1, 7};
    static const uint8_t head[16] = {0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 1, 0};
    memcpy(img, head, sizeof head);
    ccz_mlp_data d;
    /* 256 x 256: the widest image a layer takes */
    CHECK_OK(ccz_mlp_data_parse_idx(&d, (ccz_span){img, sizeof img}, (ccz_span){lab, sizeof lab}));
    CHECK_INT(d.rows, 1);
    CHECK_INT(d.features, 65536);
    CHECK_INT(d.classes, 8);
    ccz_mlp_data_free(&d);
    /* no images (and no labels) */
    img[7] = 0, lab[7] = 0;
    CHECK_STATUS(ccz_mlp_data_parse_idx(&d, (ccz_span){img, 16}, (ccz_span){lab, 8}),
                 CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "images: 0 of 256 x 256 pixels");
    /* images of 0 x 256 pixels */
    img[7] = 1, lab[7] = 1, img[10] = 0;
    CHECK_STATUS(ccz_mlp_data_parse_idx(&d, (ccz_span){img, 16}, (ccz_span){lab, sizeof lab}),
                 CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "images: 1 of 0 x 256 pixels");
    /* 32768 images of 256 x 256: 2^31 pixels, over the 2^30 accepted, in a file of a header */
    img[10] = 1, img[6] = 0x80, img[7] = 0, lab[6] = 0x80, lab[7] = 0;
    CHECK_STATUS(ccz_mlp_data_parse_idx(&d, (ccz_span){img, 16}, (ccz_span){lab, 8}),
                 CCZ_ERR_TOO_LARGE);
    CHECK_CONTAINS(ccz_error_detail(), "images: 2147483648 pixels (at most 1073741824)");
}

static void copy_data(ccz_mlp_data *to, const ccz_mlp_data *from)
{
    *to = *from;
    to->x = malloc(from->rows * from->features * sizeof(float));
    to->y = malloc(from->rows);
    memcpy(to->x, from->x, from->rows * from->features * sizeof(float));
    memcpy(to->y, from->y, from->rows);
}

/* A shard is the seed's: the same seed picks the same rows, another seed others; a shard left
 * with no rows is refused, by name. */
static void shards(void)
{
    ccz_mlp_data d;
    make_blobs(&d, 300);
    for (int alpha = 0; alpha < 2; alpha++) {
        ccz_mlp_data a, b, c;
        copy_data(&a, &d), copy_data(&b, &d), copy_data(&c, &d);
        CHECK_OK(ccz_mlp_data_shard(&a, 1, 3, alpha ? 0.5 : 0, 9));
        CHECK_OK(ccz_mlp_data_shard(&b, 1, 3, alpha ? 0.5 : 0, 9));
        CHECK_OK(ccz_mlp_data_shard(&c, 1, 3, alpha ? 0.5 : 0, 10));
        CHECK(a.rows == b.rows && memcmp(a.x, b.x, a.rows * 4 * sizeof(float)) == 0);
        CHECK(a.rows != c.rows || memcmp(a.x, c.x, a.rows * 4 * sizeof(float)) != 0);
        ccz_mlp_data_free(&a), ccz_mlp_data_free(&b), ccz_mlp_data_free(&c);
    }
    /* Dirichlet shards partition the rows whatever the seed: the last shard takes the rest of
     * each class (its cumulative share, summed in floating point, may fall short of 1) */
    for (uint64_t seed = 1; seed <= 40; seed++) {
        size_t total = 0;
        for (unsigned s = 0; s < 7; s++) {
            ccz_mlp_data a;
            copy_data(&a, &d);
            if (ccz_mlp_data_shard(&a, s, 7, 0.3, seed) == CCZ_OK)
                total += a.rows;
            else
                ccz_error_clear(); /* an empty shard: none of the rows */
            ccz_mlp_data_free(&a);
        }
        CHECK_INT(total, 300);
    }
    /* with alpha 0.001 nearly every row of a class goes to one shard: some shards are empty */
    unsigned empty = 0;
    for (unsigned s = 0; s < 8; s++) {
        ccz_mlp_data a;
        copy_data(&a, &d);
        a.rows = 9;
        ccz_status st = ccz_mlp_data_shard(&a, s, 8, 0.001, 3);
        if (st) {
            CHECK_INT(st, CCZ_ERR_INVALID_ARGUMENT);
            CHECK_CONTAINS(ccz_error_detail(), "is empty (alpha 0.001): try another seed");
            empty++;
        }
        ccz_mlp_data_free(&a);
    }
    CHECK(empty >= 1);
    /* with alpha 1e-300 every draw underflows to 0: each class goes whole to one shard, the one
     * the seed picks (not every row to shard 0, as 0 / 0 made it) */
    unsigned all_first = 0;
    for (uint64_t seed = 1; seed <= 8; seed++) {
        size_t total = 0;
        for (unsigned s = 0; s < 3; s++) {
            ccz_mlp_data a;
            copy_data(&a, &d);
            if (ccz_mlp_data_shard(&a, s, 3, 1e-300, seed) == CCZ_OK) {
                size_t per[3] = {0};
                for (size_t r = 0; r < a.rows; r++)
                    per[a.y[r]]++;
                for (unsigned k = 0; k < 3; k++)
                    CHECK(per[k] == 0 || per[k] == 100);
                total += a.rows;
                all_first += s == 0 && a.rows == 300;
            } else {
                CHECK_CONTAINS(ccz_error_detail(), "is empty (alpha 1e-300)");
                ccz_error_clear();
            }
            ccz_mlp_data_free(&a);
        }
        CHECK_INT(total, 300);
    }
    CHECK(all_first < 8);
    ccz_mlp_data_free(&d);
}

/* A split refused before it starts: more shards than rows, and an infinite alpha (whose gamma
 * draws never end). The rows are left as they were. */
static void shard_arguments(void)
{
    ccz_mlp_data d;
    make_blobs(&d, 2);
    CHECK_STATUS(ccz_mlp_data_shard(&d, 0, 3, 0, 1), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "shard 0 of 3 of 2 rows");
    CHECK_INT(d.rows, 2);
    alarm(30); /* an infinite alpha taken would loop: end the test instead of hanging it */
    CHECK_STATUS(ccz_mlp_data_shard(&d, 0, 2, INFINITY, 1), CCZ_ERR_INVALID_ARGUMENT);
    alarm(0);
    CHECK_CONTAINS(ccz_error_detail(), "alpha inf");
    CHECK_INT(d.rows, 2);
    CHECK_OK(ccz_mlp_data_shard(&d, 1, 2, 0, 1)); /* one shard per row: allowed */
    CHECK_INT(d.rows, 1);
    ccz_mlp_data_free(&d);
}

/* ---- the trainer against a reference in double precision, written from the definitions ------*/

#define R_ROWS 5
static const ccz_mlp_shape R_SHAPE = {2, {3, 4, 3}};
#define R_PARAMS (4 * 4 + 5 * 3)

/* Mean cross-entropy of a ReLU MLP (weights in x out row-major, then out biases, per layer)
 * with softmax outputs, and its gradient by back-propagation. */
static double reference(const float *w, const float *x, const uint8_t *y, double *grad)
{
    double loss = 0;
    memset(grad, 0, R_PARAMS * sizeof *grad);
    const float *w1 = w, *b1 = w + 12, *w2 = w + 16, *b2 = w + 28;
    double *g1 = grad, *gb1 = grad + 12, *g2 = grad + 16, *gb2 = grad + 28;
    for (int r = 0; r < R_ROWS; r++) {
        const float *in = x + 3 * r;
        double z1[4], h[4], z2[3], p[3], mx = -1e300, sum = 0;
        for (int j = 0; j < 4; j++) {
            z1[j] = b1[j];
            for (int i = 0; i < 3; i++)
                z1[j] += (double)in[i] * w1[i * 4 + j];
            h[j] = z1[j] > 0 ? z1[j] : 0;
        }
        for (int k = 0; k < 3; k++) {
            z2[k] = b2[k];
            for (int j = 0; j < 4; j++)
                z2[k] += h[j] * w2[j * 3 + k];
            mx = fmax(mx, z2[k]);
        }
        for (int k = 0; k < 3; k++)
            sum += p[k] = exp(z2[k] - mx);
        for (int k = 0; k < 3; k++)
            p[k] /= sum;
        loss -= log(p[y[r]]) / R_ROWS;
        double d2[3], d1[4];
        for (int k = 0; k < 3; k++)
            d2[k] = (p[k] - (k == y[r])) / R_ROWS;
        for (int j = 0; j < 4; j++) {
            d1[j] = 0;
            for (int k = 0; k < 3; k++) {
                g2[j * 3 + k] += h[j] * d2[k];
                d1[j] += w2[j * 3 + k] * d2[k];
            }
            d1[j] = z1[j] > 0 ? d1[j] : 0;
        }
        for (int k = 0; k < 3; k++)
            gb2[k] += d2[k];
        for (int j = 0; j < 4; j++) {
            for (int i = 0; i < 3; i++)
                g1[i * 4 + j] += (double)in[i] * d1[j];
            gb1[j] += d1[j];
        }
    }
    return loss;
}

/* The loss ccz_mlp_evaluate reports and one full-batch step of SGD, Adam and SGD with the
 * proximal term, each against the reference: the step recovers the gradient. */
static void matches_reference(void)
{
    float x[3 * R_ROWS], w[R_PARAMS], w2[R_PARAMS], anchor[R_PARAMS];
    uint8_t y[R_ROWS] = {0, 2, 1, 2, 0};
    rng = 7;
    for (int i = 0; i < 3 * R_ROWS; i++)
        x[i] = 2 * frand();
    size_t n;
    CHECK_OK(ccz_mlp_shape_check(&R_SHAPE, &n));
    CHECK_INT(n, R_PARAMS);
    ccz_mlp_init(w, &R_SHAPE, 3);
    ccz_mlp_data d = {R_ROWS, 3, 3, x, y};
    double g[R_PARAMS], ref = reference(w, x, y, g), acc, loss;
    /* some hidden units are off for some rows: the ReLU is exercised */
    unsigned off = 0;
    for (int r = 0; r < R_ROWS; r++)
        for (int j = 0; j < 4; j++) {
            double z = w[12 + j];
            for (int i = 0; i < 3; i++)
                z += (double)x[3 * r + i] * w[i * 4 + j];
            off += z <= 0;
        }
    CHECK(off >= 3 && off <= 17);
    CHECK_OK(ccz_mlp_evaluate(&acc, &loss, w, &R_SHAPE, &d, 1));
    fprintf(stderr, "reference: loss %.9f, ccz %.9f; %u of 20 hidden units off\n", ref, loss, off);
    CHECK(fabs(loss - ref) < 1e-6);
    for (int opt = 0; opt < 3; opt++) {
        ccz_mlp_train_opts o = CCZ_MLP_TRAIN_OPTS_INIT;
        o.batch = R_ROWS;
        o.threads = 1;
        o.lr = opt == 1 ? 0.01f : 1.0f;
        o.optimizer = opt == 1 ? CCZ_MLP_ADAM : CCZ_MLP_SGD;
        if (opt == 2) {
            for (int i = 0; i < R_PARAMS; i++)
                anchor[i] = w[i] + 0.5f;
            o.mu = 0.2f;
            o.anchor = anchor;
        }
        memcpy(w2, w, sizeof w);
        double tl, worst = 0;
        CHECK_OK(ccz_mlp_train(w2, &R_SHAPE, &d, &o, &tl));
        CHECK(fabs(tl - ref) < 1e-6); /* the loss before the step */
        for (int i = 0; i < R_PARAMS; i++) {
            double step = (double)w[i] - w2[i], want;
            if (opt == 0)
                want = g[i];
            else if (opt == 1) /* Adam's first step: lr times g / (|g| + eps) */
                want = 0.01 * g[i] / (fabs(g[i]) + 1e-8);
            else
                want = g[i] - 0.2 * 0.5;
            worst = fmax(worst, fabs(step - want));
        }
        fprintf(stderr, "reference: %s step, largest difference %.3g\n",
                opt == 0   ? "SGD"
                : opt == 1 ? "Adam"
                           : "FedProx",
                worst);
        CHECK(worst < 1e-5);
    }
}

/* The edges of the options and of the loss: lr 0 is the optimizer's default (0.05 for SGD,
 * 0.001 for Adam); the loss training reports is the mean over all the epoch's rows, whatever the
 * batch; a confidently wrong prediction costs -log 1e-12, not infinity. */
static void option_edges(void)
{
    float x[3 * R_ROWS], w[R_PARAMS], w2[R_PARAMS];
    uint8_t y[R_ROWS] = {0, 2, 1, 2, 0};
    rng = 7;
    for (int i = 0; i < 3 * R_ROWS; i++)
        x[i] = 2 * frand();
    ccz_mlp_init(w, &R_SHAPE, 3);
    ccz_mlp_data d = {R_ROWS, 3, 3, x, y};
    double g[R_PARAMS], ref = reference(w, x, y, g), tl;
    for (int opt = 0; opt < 2; opt++) {
        ccz_mlp_train_opts o = CCZ_MLP_TRAIN_OPTS_INIT;
        o.batch = R_ROWS;
        o.threads = 1;
        o.lr = 0;
        o.optimizer = opt ? CCZ_MLP_ADAM : CCZ_MLP_SGD;
        memcpy(w2, w, sizeof w);
        CHECK_OK(ccz_mlp_train(w2, &R_SHAPE, &d, &o, &tl));
        double worst = 0;
        for (int i = 0; i < R_PARAMS; i++) {
            double step = (double)w[i] - w2[i];
            double want = opt ? 0.001 * g[i] / (fabs(g[i]) + 1e-8) : 0.05 * g[i];
            worst = fmax(worst, fabs(step - want));
        }
        CHECK(worst < 1e-5);
    }
    /* batches of 2 over 5 rows, steps too small to move a float: the epoch's mean loss */
    ccz_mlp_train_opts o = CCZ_MLP_TRAIN_OPTS_INIT;
    o.batch = 2;
    o.threads = 1;
    o.lr = 1e-30f;
    memcpy(w2, w, sizeof w);
    CHECK_OK(ccz_mlp_train(w2, &R_SHAPE, &d, &o, &tl));
    CHECK(fabs(tl - ref) < 1e-6);
    /* logits -1000 and 1000 for a row of class 0: its probability underflows to 0 */
    const ccz_mlp_shape s = {1, {1, 2}};
    float x1[1] = {1}, sure[4] = {-1000, 1000, 0, 0};
    uint8_t y1[1] = {0};
    ccz_mlp_data one = {1, 1, 2, x1, y1};
    double acc, loss;
    CHECK_OK(ccz_mlp_evaluate(&acc, &loss, sure, &s, &one, 1));
    CHECK(acc == 0);
    CHECK(fabs(loss - 27.631021115928547) < 1e-6);
}

/* Data and options the trainer refuses, each with its reason. */
static void refused(void)
{
    float x[3 * R_ROWS] = {0}, w[R_PARAMS] = {0};
    uint8_t y[R_ROWS] = {0, 1, 3, 2, 0};
    ccz_mlp_data d = {R_ROWS, 3, 4, x, y};
    double acc, loss;
    CHECK_STATUS(ccz_mlp_evaluate(&acc, &loss, w, &R_SHAPE, &d, 1), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "row 2 has class 3; the model has 3 classes");
    y[2] = 2;
    y[R_ROWS - 1] = 3; /* the last row's class is checked too */
    CHECK_STATUS(ccz_mlp_evaluate(&acc, &loss, w, &R_SHAPE, &d, 1), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "row 4 has class 3; the model has 3 classes");
    y[R_ROWS - 1] = 0;
    d.features = 4;
    CHECK_STATUS(ccz_mlp_evaluate(&acc, &loss, w, &R_SHAPE, &d, 1), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "the data has 4 features per row; the model takes 3");
    d.features = 3;
    d.rows = 0;
    CHECK_STATUS(ccz_mlp_evaluate(&acc, &loss, w, &R_SHAPE, &d, 1), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "no rows to train or evaluate on");
    d.rows = R_ROWS;
    ccz_mlp_train_opts o = CCZ_MLP_TRAIN_OPTS_INIT;
    o.mu = -0.5f;
    o.anchor = w;
    CHECK_STATUS(ccz_mlp_train(w, &R_SHAPE, &d, &o, &loss), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "the proximal term needs mu >= 0 and the global model");
    o.mu = 0.5f;
    o.anchor = NULL;
    CHECK_STATUS(ccz_mlp_train(w, &R_SHAPE, &d, &o, &loss), CCZ_ERR_INVALID_ARGUMENT);
    o.mu = 0;
    o.optimizer = (ccz_mlp_optimizer)2;
    CHECK_STATUS(ccz_mlp_train(w, &R_SHAPE, &d, &o, &loss), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "unknown optimizer 2");
    o.optimizer = CCZ_MLP_SGD;
    o.version = 0;
    CHECK_STATUS(ccz_mlp_train(w, &R_SHAPE, &d, &o, &loss), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "ccz_mlp_train_opts: version 0, expected 1");
    o.version = CCZ_MLP_TRAIN_OPTS_VERSION + 1;
    CHECK_STATUS(ccz_mlp_train(w, &R_SHAPE, &d, &o, &loss), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "ccz_mlp_train_opts: version 2, expected 1");
    size_t n;
    const ccz_mlp_shape one_class = {1, {3, 1}}, no_layer = {0, {3}}, too_wide = {1, {65537, 2}},
                        too_many = {2, {65536, 4097, 2}}, most = {2, {65536, 4095, 2}};
    CHECK_STATUS(ccz_mlp_shape_check(&one_class, &n), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "at least two classes");
    CHECK_STATUS(ccz_mlp_shape_check(&no_layer, &n), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(ccz_mlp_shape_check(&too_wide, &n), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(ccz_mlp_shape_check(&too_many, &n), CCZ_ERR_TOO_LARGE);
    CHECK_OK(ccz_mlp_shape_check(&most, &n));
    CHECK_INT(n, 65537ull * 4095 + 4096 * 2);
    /* exactly CCZ_MLP_MAX_PARAMS parameters: (4095 + 1) * 65536 = 2^28 */
    const ccz_mlp_shape exact = {1, {4095, 65536}}, nine = {9, {2, 2, 2, 2, 2, 2, 2, 2, 2}};
    CHECK_OK(ccz_mlp_shape_check(&exact, &n));
    CHECK_INT(n, CCZ_MLP_MAX_PARAMS);
    CHECK_STATUS(ccz_mlp_shape_check(&nine, &n), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "a model of 9 layers (1 to 8)");
    /* eight layers, the most there may be; an output layer as wide as a layer may not be */
    const ccz_mlp_shape eight = {8, {2, 2, 2, 2, 2, 2, 2, 2, 2}}, wide_out = {1, {3, 65537}};
    CHECK_OK(ccz_mlp_shape_check(&eight, &n));
    CHECK_INT(n, 8 * 6);
    CHECK_STATUS(ccz_mlp_shape_check(&wide_out, &n), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "layer size 1 is 65537 (1 to 65536)");
}

/* The initial weights of a seed are the same everywhere: splitmix64's stream, uniform in
 * +-sqrt(6 / inputs), biases zero (values from an independent computation). */
static void init_stream(void)
{
    const ccz_mlp_shape s = {1, {3, 2}};
    static const float want[8] = {0.188264564f,  0.695175767f, 1.33219695f, -0.157375902f,
                                  -0.157643229f, 0.7435776f,   0,           0};
    float w[8];
    memset(w, 0xff, sizeof w);
    ccz_mlp_init(w, &s, 1);
    for (int i = 0; i < 8; i++)
        CHECK(w[i] == want[i]);
}

/* The batches' order is the seed's shuffle (splitmix64, Fisher-Yates), so a run repeats
 * anywhere: one-row SGD batches over five rows, two epochs, from zero weights, against an
 * independent computation in doubles. */
static void seeded_order(void)
{
    const ccz_mlp_shape s = {1, {2, 2}};
    float x[] = {1, 0, 0, 1, 1, 1, 2, -1, -1, 2}, w[6] = {0};
    uint8_t y[] = {0, 1, 1, 0, 1};
    ccz_mlp_data d = {5, 2, 2, x, y};
    ccz_mlp_train_opts o = CCZ_MLP_TRAIN_OPTS_INIT;
    o.epochs = 2;
    o.batch = 1;
    o.lr = 0.5f;
    o.seed = 7;
    o.threads = 1;
    double loss;
    CHECK_OK(ccz_mlp_train(w, &s, &d, &o, &loss));
    static const double want[6] = {0.421139, -0.421139, -1.101350, 1.101350, -0.220656, 0.220656};
    for (int i = 0; i < 6; i++)
        CHECK(fabs(w[i] - want[i]) < 1e-4);
    /* a step past float's range: training says it diverged, not a model of infinities */
    for (int i = 0; i < 10; i++)
        x[i] *= 1000;
    memset(w, 0, sizeof w);
    o.lr = 1e38f;
    CHECK_STATUS(ccz_mlp_train(w, &s, &d, &o, &loss), CCZ_ERR_OVERFLOW);
    CHECK_CONTAINS(ccz_error_detail(), "training diverged: parameter");
}

TEST_MAIN(T(trainer), T(matches_reference), T(option_edges), T(refused), T(idx_files),
          T(idx_header_edges), T(shards), T(shard_arguments), T(init_stream), T(seeded_order))
