/* SPDX-License-Identifier: Apache-2.0 */
/* ccz ml: float32 inference of ONNX models on the CPU. A model is loaded once (parsed, its
 * graph sorted and every shape inferred and checked, with the batch dimension symbolic) and then
 * run any number of times, from any number of threads, on batches of any size. The model file
 * is untrusted: every count, dimension and data length in it is checked (docs/ml.md). */
#ifndef CCZ_ML_H
#define CCZ_ML_H

#include <stdbool.h>

#include "ccz/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ccz_ml_model ccz_ml_model;

#define CCZ_ML_MAX_RANK 8
#define CCZ_ML_MAX_MODEL (1u << 30) /* bytes of a model file */

/* A graph input or output: dims[0] is the batch dimension (-1: any batch size, fixed by
 * ccz_ml_run's `batch`); the other dims are fixed. The name belongs to the model. */
typedef struct {
    const char *name;
    size_t rank;
    int64_t dims[CCZ_ML_MAX_RANK];
    size_t row_elems; /* floats per batch row: the product of dims[1..rank) */
} ccz_ml_tensor_info;

/* Parses and checks an ONNX model (ModelProto bytes; the bytes may be freed afterwards).
 * Unsupported operators, attributes, data types or shapes fail with CCZ_ERR_UNSUPPORTED, an
 * inconsistent graph with CCZ_ERR_MALFORMED; the detail names the node and its operator. */
CCZ_API CCZ_NODISCARD ccz_status ccz_ml_model_load(ccz_ml_model **out, ccz_span onnx);
/* The same, from a file (at most CCZ_ML_MAX_MODEL bytes). */
CCZ_API CCZ_NODISCARD ccz_status ccz_ml_model_load_file(ccz_ml_model **out, const char *path);
/* The same, from a protected file in Gramine's format (ccz/pf.h) sealed with key (16 bytes),
 * whose bound path must be bound_path (NULL: not compared): the model is decrypted only in
 * memory. Protected-file failures as ccz_pf_open and ccz_pf_read report them. */
CCZ_API CCZ_NODISCARD ccz_status ccz_ml_model_load_pf(ccz_ml_model **out, const char *path,
                                                      const uint8_t key[16],
                                                      const char *bound_path);
CCZ_API void ccz_ml_model_free(ccz_ml_model *m);

CCZ_API size_t ccz_ml_input_count(const ccz_ml_model *m);
CCZ_API size_t ccz_ml_output_count(const ccz_ml_model *m);
/* Describes input (output) i; CCZ_ERR_INVALID_ARGUMENT when i is out of range. */
CCZ_API CCZ_NODISCARD ccz_status ccz_ml_input_info(const ccz_ml_model *m, size_t i,
                                                   ccz_ml_tensor_info *out);
CCZ_API CCZ_NODISCARD ccz_status ccz_ml_output_info(const ccz_ml_model *m, size_t i,
                                                    ccz_ml_tensor_info *out);

/* Runs the model on `batch` rows: inputs[i] holds batch * row_elems floats of input i in
 * row-major order, outputs[i] receives batch * row_elems floats of output i (caller-allocated).
 * Labels of ai.onnx.ml classifiers come out as floats. Work is split over `threads` threads
 * (0: one per CPU). A batch of 0, or one above the size limits, is CCZ_ERR_INVALID_ARGUMENT. */
CCZ_API CCZ_NODISCARD ccz_status ccz_ml_run(const ccz_ml_model *m, size_t batch,
                                            const float *const *inputs, float *const *outputs,
                                            unsigned threads);
/* Floats of the intermediate buffers a run of `batch` rows allocates (0 when batch is 0 or
 * above the limit), for a caller that bounds memory before it runs. */
CCZ_API size_t ccz_ml_workspace_floats(const ccz_ml_model *m, size_t batch);
/* Frees the intermediate buffers kept from the last run (kept so that a steady stream of runs
 * reuses them; after an unusually large run they would hold its size). A run in progress
 * keeps them. */
CCZ_API void ccz_ml_model_trim(const ccz_ml_model *m);

/* ---- logistic regression in the clear -------------------------------------------------------
 * Tabular data as CCZoo's and FATE's examples ship it, and CCZoo's homomorphic LR
 * (cczoo/phe_homo_lr) without encryption: the reference its encrypted runs are held to. */

#define CCZ_ML_CSV_MAX_ROWS 1000000u
#define CCZ_ML_CSV_MAX_FEATURES 4096u

/* Rows of features with a 0/1 label. x is rows * features doubles, row-major; owned. */
typedef struct {
    size_t rows, features;
    double *x;
    uint8_t *y;   /* NULL for a layout without labels */
    int64_t *ids; /* the rows' ids, when the layout keeps them (else NULL) */
} ccz_ml_dataset;

/* CCZoo's CSV (breast_homo_*.csv): a header line naming the columns, then one line per row:
 * an id (not used), the label y (0 or 1; "0.0" and "1.0" too) and the features (finite decimal
 * numbers). The header's names are not read, only counted: the columns are taken by position
 * (a first name other than "id", or a name twice, is not refused). Every row has the header's
 * number of fields (3 to CCZ_ML_CSV_MAX_FEATURES + 2); CRLF line ends, a last line without its
 * LF and empty lines are allowed; a NUL byte anywhere is refused; at most CCZ_ML_CSV_MAX_ROWS
 * rows. The text is untrusted: CCZ_ERR_MALFORMED names the line and field that is wrong. */
CCZ_API CCZ_NODISCARD ccz_status ccz_ml_dataset_csv(ccz_ml_dataset *out, const char *text,
                                                    size_t len);
/* The same from a file (at most 1 GiB). */
CCZ_API CCZ_NODISCARD ccz_status ccz_ml_dataset_load(ccz_ml_dataset *out, const char *path);

/* Other layouts, ids kept (vertical FL aligns parties' rows by id):
 * - CCZ_ML_CSV_ID_Y: CCZoo's and FATE's guest files, as above; the id an integer 0 to 2^53 - 1;
 * - CCZ_ML_CSV_ID: FATE's host files: id then the features, no label (y is NULL);
 * - CCZ_ML_CSV_SKLEARN: scikit-learn's bundled data (datasets/data/breast_cancer.csv): a header
 *   "ROWS,FEATURES,class names...", then the features and the label (0 or 1) last; the id is the
 *   row's number from 0, and the header's counts must match the rows and fields.
 * Ids must be unique. Same limits and errors as ccz_ml_dataset_csv. */
typedef enum { CCZ_ML_CSV_ID_Y = 1, CCZ_ML_CSV_ID = 2, CCZ_ML_CSV_SKLEARN = 3 } ccz_ml_csv_layout;
CCZ_API CCZ_NODISCARD ccz_status ccz_ml_dataset_parse(ccz_ml_dataset *out, const char *text,
                                                      size_t len, ccz_ml_csv_layout layout);
CCZ_API CCZ_NODISCARD ccz_status ccz_ml_dataset_read(ccz_ml_dataset *out, const char *path,
                                                     ccz_ml_csv_layout layout);
CCZ_API void ccz_ml_dataset_free(ccz_ml_dataset *d);

/* Accuracy (a row is predicted 1 when sigmoid(w . [1, x]) >= 0.5) and mean log loss of the
 * weights w (n = features + 1, the bias first) on d; the loss is NaN when a prediction is
 * exactly 0 or 1 in double precision, as in CCZoo's validation. */
CCZ_API CCZ_NODISCARD ccz_status ccz_ml_lr_evaluate(double *acc, double *loss, const double *w,
                                                    size_t n, const ccz_ml_dataset *d);

#define CCZ_ML_LR_OPTS_VERSION 1
typedef struct {
    unsigned version;     /* CCZ_ML_LR_OPTS_VERSION */
    double alpha;         /* L2 weight (CCZoo: 0.01) */
    double learning_rate; /* at step t: learning_rate / sqrt(1 + t) (CCZoo: 0.15) */
    bool taylor;          /* sigmoid(z) as 0.5 + 0.25 z, as the encrypted workers compute it */
} ccz_ml_lr_opts;
#define CCZ_ML_LR_OPTS_INIT                                                                        \
    {                                                                                              \
        CCZ_ML_LR_OPTS_VERSION, 0.01, 0.15, true                                                   \
    }

/* One full-batch gradient step t on w (n = features + 1): w -= lr_t (X^T (s(X w) - y) / rows +
 * alpha w), with X the features behind a column of ones, in double precision. */
CCZ_API CCZ_NODISCARD ccz_status ccz_ml_lr_step(double *w, size_t n, const ccz_ml_dataset *d,
                                                unsigned t, const ccz_ml_lr_opts *o);

#ifdef __cplusplus
}
#endif

#endif
