/* SPDX-License-Identifier: Apache-2.0 */
/* Every operator of src/ml against NumPy: tests/ml/op_ref.py builds single-operator models with
 * python3-onnx's helper API and computes the references; each runs here on one thread and on
 * all, on the AVX-512 path where the CPU has it (CTest runs this again with CCZ_CPU=portable).
 * The refusals carry their exact status and detail. Skipped (77) without python3-onnx. */
#include <pthread.h>

#include "ml/ml_int.h"
#include "ml_cases.h"

static void test_ops_one_thread(void)
{
    ml_generate("op_ref.py", "python3-onnx with python3-numpy");
    size_t n = ml_replay(1);
    fprintf(stderr, "%s: %zu cases\n", test_name, n);
    CHECK(n >= 80);
}

static void test_ops_all_threads(void)
{
    CHECK(ml_replay(0) >= 80);
}

/* The API refuses what it cannot do, and says so. */
static void test_api_arguments(void)
{
    ccz_ml_model *m = NULL;
    CHECK_STATUS(ccz_ml_model_load(NULL, CCZ_LIT("x")), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(ccz_ml_model_load(&m, CCZ_SPAN("", 0)), CCZ_ERR_MALFORMED); /* no graph */
    CHECK_CONTAINS(ccz_error_detail(), "the model has no graph");
    CHECK_STATUS(ccz_ml_model_load_file(&m, "/nonexistent/model.onnx"), CCZ_ERR_NOT_FOUND);
    CHECK_OK(ccz_ml_model_load_file(&m, ml_path("Relu", ".onnx")));
    if (!m)
        return;
    ccz_ml_tensor_info info;
    CHECK_OK(ccz_ml_input_info(m, 0, &info));
    CHECK_STR(info.name, "X");
    CHECK_INT(info.rank, 3);
    CHECK_INT(info.dims[0], -1);
    CHECK_INT(info.dims[1], 4);
    CHECK_INT(info.dims[2], 7);
    CHECK_INT(info.row_elems, 28);
    CHECK_STATUS(ccz_ml_input_info(m, 1, &info), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(ccz_ml_output_info(m, 1, &info), CCZ_ERR_INVALID_ARGUMENT);
    float x[28] = {-1, 2}, y[28];
    const float *in[] = {x};
    float *out[] = {y};
    CHECK_STATUS(ccz_ml_run(m, 0, in, out, 1), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "ml: a batch of 0 rows (1 to 1048576)");
    CHECK_STATUS(ccz_ml_run(m, (size_t)1 << 21, in, out, 1), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "ml: a batch of 2097152 rows (1 to 1048576)");
    const float *no_in[] = {NULL};
    float *no_out[] = {NULL};
    CHECK_STATUS(ccz_ml_run(m, 1, no_in, out, 1), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "ml: input 0 has no buffer");
    CHECK_STATUS(ccz_ml_run(m, 1, in, no_out, 1), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "ml: output 0 has no buffer");
    CHECK_STATUS(ccz_ml_run(NULL, 1, in, out, 1), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "ml: no model or buffers");
    CHECK_OK(ccz_ml_run(m, 1, in, out, 1));
    CHECK(y[0] == 0.0f && y[1] == 2.0f);
    /* the model's workspace, now allocated, holds what that run took (the capacity a larger
     * run compares with before it reuses the block) */
    CHECK(m->ws->ptr != NULL);
    CHECK_INT(m->ws->cap, ccz_ml_workspace_floats(m, 1));
    ccz_ml_model_free(m);
}

/* Logits all far below zero (e^-104 is 0 in floats): softmax subtracts the row's maximum, not
 * zero, so a row of -500 - j still gives e^-j / sum e^-k, not 0 / 0. */
static void test_softmax_negative_logits(void)
{
    ccz_ml_model *m = NULL;
    CHECK_OK(ccz_ml_model_load_file(&m, ml_path("Softmax_last", ".onnx")));
    if (!m)
        return;
    float x[18], y[18];
    for (int i = 0; i < 18; i++)
        x[i] = -500.0f - (float)(i % 6);
    const float *in[] = {x};
    float *out[] = {y};
    CHECK_OK(ccz_ml_run(m, 1, in, out, 1));
    double sum = 0;
    for (int j = 0; j < 6; j++)
        sum += exp(-j);
    int good = 0;
    for (int i = 0; i < 18; i++)
        good += fabs((double)y[i] - exp(-(i % 6)) / sum) <= 1e-6;
    CHECK_INT(good, 18);
    /* no output array at all: refused before anything is run */
    CHECK_STATUS(ccz_ml_run(m, 1, in, NULL, 1), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "ml: no model or buffers");
    CHECK_STATUS(ccz_ml_run(m, 1, NULL, out, 1), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "ml: no model or buffers");
    ccz_ml_model_free(m);
    /* a batch of 0 rows has no workspace, even where a node's output does not depend on the
     * batch (here A' B, 2 x 4 floats, before it is added to X) */
    CHECK_OK(ccz_ml_model_load_file(&m, ml_path("Gemm_transA_const", ".onnx")));
    if (!m)
        return;
    CHECK_INT(ccz_ml_workspace_floats(m, 1), 32);
    CHECK_INT(ccz_ml_workspace_floats(m, 0), 0);
    ccz_ml_model_free(m);
}

/* One loaded model run from several threads at once (one holds the model's workspace, the
 * others allocate their own): every run gets the reference. */
typedef struct {
    const ccz_ml_model *m;
    const float *x, *want;
    size_t batch, n_out;
    int bad;
} shared_run;

static void *run_many(void *arg)
{
    shared_run *r = arg;
    float *y = malloc(r->n_out * sizeof *y);
    for (int i = 0; y && i < 20; i++) {
        const float *in[] = {r->x};
        float *out[] = {y};
        if (ccz_ml_run(r->m, r->batch, in, out, 1) != CCZ_OK)
            r->bad++;
        for (size_t j = 0; j < r->n_out; j++)
            if (!(fabs((double)y[j] - r->want[j]) <= ABS_TOL + REL_TOL * fabs((double)r->want[j])))
                r->bad++;
    }
    free(y);
    return NULL;
}

static void test_concurrent_runs(void)
{
    ccz_ml_model *m = NULL;
    CHECK_OK(ccz_ml_model_load_file(&m, ml_path("Conv_lenet1", ".onnx")));
    if (!m)
        return;
    ccz_ml_tensor_info ii, oi;
    CHECK_OK(ccz_ml_input_info(m, 0, &ii));
    CHECK_OK(ccz_ml_output_info(m, 0, &oi));
    shared_run r = {.m = m, .batch = 3, .n_out = 3 * oi.row_elems};
    float *x = ml_read_floats(ml_path("Conv_lenet1", ".in0"), 3 * ii.row_elems);
    float *want = ml_read_floats(ml_path("Conv_lenet1", ".out0"), r.n_out);
    r.x = x;
    r.want = want;
    shared_run runs[4];
    pthread_t t[4];
    for (int i = 0; x && want && i < 4; i++) {
        runs[i] = r;
        test_thread(&t[i], run_many, &runs[i]);
    }
    for (int i = 0; x && want && i < 4; i++) {
        pthread_join(t[i], NULL);
        CHECK_INT(runs[i].bad, 0);
    }
    free(x);
    free(want);
    ccz_ml_model_free(m);
}

TEST_MAIN(T(test_ops_one_thread), T(test_ops_all_threads), T(test_api_arguments),
          T(test_concurrent_runs), T(test_softmax_negative_logits))
