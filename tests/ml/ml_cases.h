/* SPDX-License-Identifier: Apache-2.0 */
/* The shared half of the ml tests: runs a Python generator (tests/ml/op_ref.py, models.py)
 * into the test's temporary directory, then replays its manifest: each model is loaded, run on
 * the generator's inputs and compared with the NumPy / scikit-learn references within 1e-5
 * relative and 1e-6 absolute; refusals must carry their exact status and detail. */
#ifndef CCZ_TEST_ML_CASES_H
#define CCZ_TEST_ML_CASES_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "ccz/ml.h"
#include "test.h"

#define PY "/usr/bin/python3"
#define REL_TOL 1e-5
#define ABS_TOL 1e-6

/* Runs tests/ml/<script> into the temporary directory; skips (77) when the Python packages
 * are missing (a failure under CI=true). */
static void ml_generate(const char *script, const char *needs)
{
    const char *src = getenv("CCZ_SOURCE_DIR");
    char cmd[2048];
    snprintf(cmd, sizeof cmd, PY " %s/tests/ml/%s %s", src ? src : ".", script, test_tmpdir());
    int st = system(cmd);
    if (WIFEXITED(st) && WEXITSTATUS(st) == 77)
        test_skip(false, "%s is not available (tests/ml/%s)", needs, script);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static const char *ml_path(const char *name, const char *ext)
{
    static char p[4][1024];
    static int i;
    i = (i + 1) % 4;
    snprintf(p[i], sizeof p[i], "%s/%s%s", test_tmpdir(), name, ext);
    return p[i];
}

/* The floats of a file, exactly `n` of them (else NULL and a failed check). */
static float *ml_read_floats(const char *file, size_t n)
{
    ccz_buf b;
    ccz_buf_init(&b, 0, false);
    float *f = NULL;
    if (ccz_file_read(&b, file, 1u << 30) == CCZ_OK && b.len == n * sizeof(float)) {
        f = malloc(n * sizeof *f + 1);
        if (f)
            memcpy(f, b.ptr, b.len);
    }
    if (!f)
        fprintf(stderr, "%s: %s holds %zu bytes, %zu floats expected\n", test_name, file, b.len, n);
    CHECK(f != NULL);
    ccz_buf_free(&b);
    return f;
}

/* Compares got with want; reports the worst element. */
static void ml_compare(const char *name, size_t out, const float *got, const float *want, size_t n)
{
    size_t bad = 0, worst = 0;
    double worst_excess = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - (double)want[i]);
        double lim = ABS_TOL + REL_TOL * fabs((double)want[i]);
        if (!(d <= lim)) {
            if (d - lim > worst_excess || !bad)
                worst = i, worst_excess = d - lim;
            bad++;
        }
    }
    if (bad)
        fprintf(stderr, "%s: %s output %zu: %zu of %zu values differ; worst [%zu] %.9g vs %.9g\n",
                test_name, name, out, bad, n, worst, got[worst], want[worst]);
    CHECK_INT(bad, 0);
}

/* Loads and runs one case of the manifest; outputs[] receives the run's outputs (freed by the
 * caller) when not NULL. */
static void ml_run_case(const char *name, size_t batch, size_t n_in, size_t n_out, unsigned threads,
                        float ***keep)
{
    ccz_ml_model *m = NULL;
    ccz_status st = ccz_ml_model_load_file(&m, ml_path(name, ".onnx"));
    if (st != CCZ_OK)
        fprintf(stderr, "%s: %s: %s\n", test_name, name, ccz_error_detail());
    CHECK_OK(st);
    if (!m)
        return;
    CHECK_INT(ccz_ml_input_count(m), n_in);
    CHECK_INT(ccz_ml_output_count(m), n_out);
    float *in[8] = {0}, *out[8] = {0};
    size_t out_n[8] = {0};
    for (size_t i = 0; i < n_in && i < 8; i++) {
        ccz_ml_tensor_info info;
        CHECK_OK(ccz_ml_input_info(m, i, &info));
        char ext[16];
        snprintf(ext, sizeof ext, ".in%zu", i);
        in[i] = ml_read_floats(ml_path(name, ext), batch * info.row_elems);
    }
    for (size_t i = 0; i < n_out && i < 8; i++) {
        ccz_ml_tensor_info info;
        CHECK_OK(ccz_ml_output_info(m, i, &info));
        out_n[i] = batch * info.row_elems;
        out[i] = calloc(out_n[i] + 1, sizeof(float));
    }
    st = ccz_ml_run(m, batch, (const float *const *)in, out, threads);
    if (st != CCZ_OK)
        fprintf(stderr, "%s: %s: run: %s\n", test_name, name, ccz_error_detail());
    CHECK_OK(st);
    for (size_t i = 0; st == CCZ_OK && i < n_out && i < 8; i++) {
        char ext[16];
        snprintf(ext, sizeof ext, ".out%zu", i);
        float *want = ml_read_floats(ml_path(name, ext), out_n[i]);
        if (want && out[i])
            ml_compare(name, i, out[i], want, out_n[i]);
        free(want);
    }
    for (size_t i = 0; i < 8; i++) {
        free(in[i]);
        if (keep && i < n_out)
            (*keep)[i] = out[i];
        else
            free(out[i]);
    }
    ccz_ml_model_free(m);
}

static void ml_expect_error(const char *name, const char *status, const char *text)
{
    ccz_ml_model *m = NULL;
    ccz_status st = ccz_ml_model_load_file(&m, ml_path(name, ".onnx"));
    test_checks++;
    if (st == CCZ_OK || strcmp(ccz_status_name(st), status) != 0 ||
        !strstr(ccz_error_detail(), text)) {
        fprintf(stderr, "%s: %s: got %s (%s), expected %s with \"%s\"\n", test_name, name,
                ccz_status_name(st), ccz_error_detail(), status, text);
        test_failures++;
    }
    CHECK(m == NULL);
    ccz_ml_model_free(m);
}

/* Prediction of row r: the output itself when it has one value a row, else its argmax. */
static double ml_accuracy(const float *out, size_t row, const float *truth, size_t batch)
{
    size_t right = 0;
    for (size_t r = 0; r < batch; r++) {
        size_t arg = 0;
        for (size_t j = 1; j < row; j++)
            if (out[r * row + j] > out[r * row + arg])
                arg = j;
        float pred = row == 1 ? out[r] : (float)arg;
        right += pred == truth[r];
    }
    return (double)right / (double)batch;
}

/* Replays the manifest: "run NAME BATCH N_IN N_OUT", "error NAME STATUS TEXT...",
 * "accuracy NAME OUT ROW ACC" (the previous run's output OUT against NAME.truth). Returns the
 * number of cases. */
static size_t ml_replay(unsigned threads)
{
    FILE *f = fopen(ml_path("manifest", ""), "r");
    CHECK(f != NULL);
    if (!f)
        return 0;
    char line[1024];
    size_t cases = 0;
    float *last[8] = {0}, **keep = last;
    size_t last_batch = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        char name[256], status[64];
        size_t batch, n_in, n_out, out, row;
        int text_at = 0;
        double acc;
        if (sscanf(line, "run %255s %zu %zu %zu", name, &batch, &n_in, &n_out) == 4) {
            for (size_t i = 0; i < 8; i++)
                free(last[i]), last[i] = NULL;
            ml_run_case(name, batch, n_in, n_out, threads, &keep);
            last_batch = batch;
            cases++;
        } else if (sscanf(line, "error %255s %63s %n", name, status, &text_at) == 2 && text_at) {
            ml_expect_error(name, status, line + text_at);
            cases++;
        } else if (sscanf(line, "accuracy %255s %zu %zu %lf", name, &out, &row, &acc) == 4) {
            float *truth = ml_read_floats(ml_path(name, ".truth"), last_batch);
            if (truth && out < 8 && last[out]) {
                double got = ml_accuracy(last[out], row, truth, last_batch);
                fprintf(stderr, "%s: %s accuracy %.6f (reference %.6f)\n", test_name, name, got,
                        acc);
                CHECK(fabs(got - acc) < 1e-9);
            }
            free(truth);
        } else {
            fprintf(stderr, "%s: bad manifest line: %s\n", test_name, line);
            CHECK(0);
        }
    }
    for (size_t i = 0; i < 8; i++)
        free(last[i]);
    fclose(f);
    return cases;
}

#endif
