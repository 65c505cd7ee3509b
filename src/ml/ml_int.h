/* SPDX-License-Identifier: Apache-2.0 */
/* Private to src/ml: the loaded model (values and nodes in run order, every shape known up to
 * the batch dimension) and the kernels. Everything here was checked by model.c: kernels trust
 * the shapes and indices they are given. */
#ifndef CCZ_ML_INT_H
#define CCZ_ML_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <pthread.h>
#include <stdint.h>

#include "ccz/ml.h"

#define ML_MAX_NODES 4096
#define ML_MAX_VALUES 16384
#define ML_MAX_IN 16              /* inputs of one node (Concat) */
#define ML_MAX_ELEMS (1ull << 28) /* floats in one tensor row (or one constant) */
#define ML_MAX_DIM (1ll << 28)    /* one dimension */
#define ML_MAX_BATCH (1ull << 20) /* rows of one run */
#define ML_NONE SIZE_MAX          /* an absent optional input */

/* A value of the graph: an input, a constant (initializer) or a node's output. When batched,
 * dims[0] is the batch dimension (its stored value is 1) and `elems` counts one row. */
typedef struct {
    char *name;
    size_t rank;
    int64_t dims[CCZ_ML_MAX_RANK];
    bool batched;
    size_t elems;
    float *data;   /* a float constant, else NULL */
    float *data_t; /* a float matrix constant transposed, made once for all Gemm with transB */
    int64_t *ints; /* an int64 constant (Reshape's shape), else NULL */
    bool is_const;
    bool defined; /* produced by an input, a constant or a node already placed */
} ml_value;

typedef enum {
    ML_GEMM,
    ML_MATMUL,
    ML_ADD,
    ML_SUB,
    ML_MUL,
    ML_DIV,
    ML_RELU,
    ML_SIGMOID,
    ML_TANH,
    ML_SOFTMAX,
    ML_CONV,
    ML_MAXPOOL,
    ML_AVGPOOL,
    ML_GLOBALAVGPOOL,
    ML_BATCHNORM,
    ML_COPY, /* Identity, Dropout, Flatten, Reshape: the same floats under another shape */
    ML_TRANSPOSE,
    ML_CONCAT,
    ML_LINEAR_CLASSIFIER,
    ML_LINEAR_REGRESSOR
} ml_kind;

typedef enum { ML_POST_NONE, ML_POST_LOGISTIC, ML_POST_SOFTMAX, ML_POST_SOFTMAX_ZERO } ml_post;

typedef struct {
    ml_kind kind;
    size_t n_in, n_out;
    size_t in[ML_MAX_IN], out[2];
    /* Gemm */
    float alpha, beta;
    bool trans_a, trans_b;
    const float *b_t; /* Gemm: a constant B as K x N (its value's data or data_t), else NULL */
    /* Softmax, Concat */
    int axis;
    bool softmax_2d; /* opset < 13: over the flattened dims from axis on */
    /* Conv and pools (2-D): kernel, strides, dilations, pads (top, left, bottom, right) */
    int64_t kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, group;
    bool count_include_pad;
    /* Transpose */
    size_t perm[CCZ_ML_MAX_RANK];
    /* BatchNormalization: y = x * scale + shift per channel, folded from inputs 1-4 by a run */
    float eps;
    /* LinearClassifier / LinearRegressor: rows x feats coefficients */
    float *coef, *icpt, *labels;
    size_t rows, feats;
    ml_post post;
    bool binary; /* one row of coefficients, two labels */
} ml_node;

/* The buffers of a run kept for the next one, so that a steady stream of runs does not map and
 * fault in fresh pages every time: one run at a time holds it (others allocate their own). */
typedef struct {
    pthread_mutex_t mu;
    float *ptr;
    size_t cap; /* floats */
} ml_workspace;

struct ccz_ml_model {
    ml_workspace *ws;
    ml_value *values;
    size_t n_values;
    ml_node *nodes;
    size_t n_nodes;
    size_t *inputs, *outputs;
    size_t n_inputs, n_outputs;
};

/* The dims of value v in a run of `batch` rows. */
static inline void ml_dims(const ml_value *v, size_t batch, int64_t *dims)
{
    for (size_t i = 0; i < v->rank; i++)
        dims[i] = v->dims[i];
    if (v->batched)
        dims[0] = (int64_t)batch;
}

/* C[M,N] = A[M,K] B[K,N] (+ C when accumulate), row-major with leading dimensions. */
void ml_gemm(size_t m, size_t n, size_t k, const float *a, size_t lda, const float *b, size_t ldb,
             float *c, size_t ldc, bool accumulate);
/* The same split over threads (by rows, or by columns when there are few rows). */
ccz_status ml_gemm_parallel(size_t m, size_t n, size_t k, const float *a, size_t lda,
                            const float *b, size_t ldb, float *c, size_t ldc, bool accumulate,
                            unsigned threads);
/* Whether ml_gemm takes the AVX-512 path (the CPU has it and CCZ_CPU is not portable). */
bool ml_gemm_avx512(void);

/* Runs node n of model m on the buffers of a run (bufs[i]: value i's floats). */
ccz_status ml_node_run(const ccz_ml_model *m, const ml_node *n, float *const *bufs, size_t batch,
                       unsigned threads);

#endif
