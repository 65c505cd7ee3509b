/* SPDX-License-Identifier: Apache-2.0 */
/* ccz ml: float32 inference of ONNX models on the CPU. A model is loaded once (parsed, its
 * graph sorted and every shape inferred and checked, with the batch dimension symbolic) and then
 * run any number of times, from any number of threads, on batches of any size. The model file
 * is untrusted: every count, dimension and data length in it is checked (docs/ml.md). */
#ifndef CCZ_ML_H
#define CCZ_ML_H

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

#ifdef __cplusplus
}
#endif

#endif
