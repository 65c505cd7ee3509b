/* SPDX-License-Identifier: Apache-2.0 */
/* ccz mlp: a small float32 trainer for classification in the clear: multinomial logistic
 * regression and multi-layer perceptrons (ReLU hidden layers, softmax and cross-entropy), with
 * mini-batch SGD or Adam and an optional proximal term (FedProx), on the core thread pool; and
 * the IDX files MNIST and Fashion-MNIST ship in (gzip or plain). IDX files are untrusted: every
 * count and dimension is checked (docs/fl.md). The federated-learning clients train with it. */
#ifndef CCZ_MLP_H
#define CCZ_MLP_H

#include <stdbool.h>

#include "ccz/core.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CCZ_MLP_MAX_LAYERS 8          /* weight layers */
#define CCZ_MLP_MAX_WIDTH 65536u      /* units of one layer, input and classes included */
#define CCZ_MLP_MAX_PARAMS (1u << 28) /* floats of one model */

/* The shape: sizes[0] inputs, sizes[1..layers-1] hidden units, sizes[layers] classes. The
 * parameters are one float array: per layer its weights (in rows of out floats) then its
 * biases (out floats). layers == 1 is multinomial logistic regression. */
typedef struct {
    unsigned layers;
    unsigned sizes[CCZ_MLP_MAX_LAYERS + 1];
} ccz_mlp_shape;

/* Checks a shape (1..CCZ_MLP_MAX_LAYERS layers, every size 1..CCZ_MLP_MAX_WIDTH, at least two
 * classes, at most CCZ_MLP_MAX_PARAMS parameters) and returns its parameter count in *params. */
CCZ_API CCZ_NODISCARD ccz_status ccz_mlp_shape_check(const ccz_mlp_shape *s, size_t *params);
/* Initial parameters (He-uniform weights, zero biases) from a seed: the same on every machine. */
CCZ_API void ccz_mlp_init(float *w, const ccz_mlp_shape *s, uint64_t seed);

/* Examples: rows of `features` floats and a class each (owned). */
typedef struct {
    size_t rows, features;
    unsigned classes; /* 1 + the largest label */
    float *x;
    uint8_t *y;
} ccz_mlp_data;
CCZ_API void ccz_mlp_data_free(ccz_mlp_data *d);

/* An IDX pair as MNIST ships it: images (magic 0x00000803, uint8 pixels, scaled to [0, 1]) and
 * labels (0x00000801, uint8 classes), either gzipped; their counts must agree. At most 1 GiB of
 * pixels. CCZ_ERR_MALFORMED names the field that is wrong. */
CCZ_API CCZ_NODISCARD ccz_status ccz_mlp_data_load_idx(ccz_mlp_data *out, const char *images,
                                                       const char *labels);
/* The same from the files' bytes (already decompressed). */
CCZ_API CCZ_NODISCARD ccz_status ccz_mlp_data_parse_idx(ccz_mlp_data *out, ccz_span images,
                                                        ccz_span labels);
/* Keeps shard `index` of `count` of d in place: the rows of a seeded shuffle, dealt in turn
 * (IID), or, when alpha > 0, per class split by proportions drawn from Dirichlet(alpha) over the
 * shards (non-IID; the same seed gives every shard the same draw). */
CCZ_API CCZ_NODISCARD ccz_status ccz_mlp_data_shard(ccz_mlp_data *d, unsigned index, unsigned count,
                                                    double alpha, uint64_t seed);

typedef enum { CCZ_MLP_SGD = 0, CCZ_MLP_ADAM = 1 } ccz_mlp_optimizer;

#define CCZ_MLP_TRAIN_OPTS_VERSION 1
typedef struct {
    unsigned version; /* CCZ_MLP_TRAIN_OPTS_VERSION */
    unsigned epochs;  /* 0: 1 */
    unsigned batch;   /* 0: 32 */
    float lr;         /* 0: 0.05 for SGD, 0.001 for Adam */
    ccz_mlp_optimizer optimizer;
    float mu;            /* FedProx: adds mu/2 |w - anchor|^2 to the loss (0: none) */
    const float *anchor; /* the global model of the round, for mu (borrowed) */
    uint64_t seed;       /* of the batches' order */
    unsigned threads;    /* 0: every core */
} ccz_mlp_train_opts;
#define CCZ_MLP_TRAIN_OPTS_INIT                                                                    \
    {                                                                                              \
        CCZ_MLP_TRAIN_OPTS_VERSION, 0, 0, 0, CCZ_MLP_SGD, 0, NULL, 0, 0                            \
    }

/* Trains w (ccz_mlp_shape_check's count of floats) on d; *loss gets the mean training
 * cross-entropy of the last epoch. d's features must be sizes[0] and its labels below the
 * classes. */
CCZ_API CCZ_NODISCARD ccz_status ccz_mlp_train(float *w, const ccz_mlp_shape *s,
                                               const ccz_mlp_data *d, const ccz_mlp_train_opts *o,
                                               double *loss);
/* Accuracy and mean cross-entropy of w on d. */
CCZ_API CCZ_NODISCARD ccz_status ccz_mlp_evaluate(double *acc, double *loss, const float *w,
                                                  const ccz_mlp_shape *s, const ccz_mlp_data *d,
                                                  unsigned threads);

#ifdef __cplusplus
}
#endif
#endif
