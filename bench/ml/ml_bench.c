/* SPDX-License-Identifier: Apache-2.0 */
/* Inference latency of one model: ml_bench MODEL BATCH THREADS SECONDS. Loads the model (timed:
 * the first-request cost after the bytes are in memory), then runs batches of BATCH rows on
 * THREADS threads for SECONDS and prints JSON: the load time, runs, median and minimum
 * milliseconds per batch with the CPU time per batch, and rows per second. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../clock.h"
#include "ccz/ccz.h"

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: ml_bench MODEL BATCH THREADS SECONDS\n");
        return 2;
    }
    size_t batch = strtoul(argv[2], NULL, 10);
    unsigned threads = (unsigned)strtoul(argv[3], NULL, 10);
    double seconds = atof(argv[4]);
    ccz_buf b;
    ccz_buf_init(&b, 0, false);
    if (ccz_file_read(&b, argv[1], 1u << 30) != CCZ_OK) {
        fprintf(stderr, "ml_bench: %s\n", ccz_error_detail());
        return 1;
    }
    ccz_ml_model *m;
    double t0 = bench_wall();
    if (ccz_ml_model_load(&m, ccz_buf_span(&b)) != CCZ_OK) {
        fprintf(stderr, "ml_bench: %s\n", ccz_error_detail());
        return 1;
    }
    double load_ms = (bench_wall() - t0) * 1e3;
    size_t ni = ccz_ml_input_count(m), no = ccz_ml_output_count(m);
    float *in[8] = {0}, *out[8] = {0};
    for (size_t i = 0; i < ni && i < 8; i++) {
        ccz_ml_tensor_info info;
        if (ccz_ml_input_info(m, i, &info) != CCZ_OK)
            return 1;
        in[i] = malloc(batch * info.row_elems * sizeof(float));
        for (size_t j = 0; j < batch * info.row_elems; j++)
            in[i][j] = (float)(j % 97) / 97.0f;
    }
    for (size_t i = 0; i < no && i < 8; i++) {
        ccz_ml_tensor_info info;
        if (ccz_ml_output_info(m, i, &info) != CCZ_OK)
            return 1;
        out[i] = malloc(batch * info.row_elems * sizeof(float));
    }
    static double ms[1000000];
    size_t runs = 0;
    double start = bench_wall(), cpu0 = bench_cpu();
    /* a first run outside the timing: the thread pool starts on first use */
    if (ccz_ml_run(m, batch, (const float *const *)in, out, threads) != CCZ_OK) {
        fprintf(stderr, "ml_bench: %s\n", ccz_error_detail());
        return 1;
    }
    start = bench_wall();
    cpu0 = bench_cpu();
    while (runs < 1000000 && (runs < 5 || bench_wall() - start < seconds)) {
        double a = bench_wall();
        if (ccz_ml_run(m, batch, (const float *const *)in, out, threads) != CCZ_OK)
            return 1;
        ms[runs++] = (bench_wall() - a) * 1e3;
    }
    double cpu = bench_cpu() - cpu0, wall = bench_wall() - start;
    qsort(ms, runs, sizeof *ms, cmp);
    printf(
        "{\"batch\": %zu, \"threads\": %u, \"load_ms\": %.3f, \"runs\": %zu, \"ms_median\": %.4f, "
        "\"ms_min\": %.4f, \"cpu_ms_per_batch\": %.4f, \"rows_per_s\": %.1f}\n",
        batch, threads, load_ms, runs, ms[runs / 2], ms[0], cpu / (double)runs * 1e3,
        (double)batch * (double)runs / wall);
    for (size_t i = 0; i < 8; i++)
        free(in[i]), free(out[i]);
    ccz_ml_model_free(m);
    ccz_buf_free(&b);
    return 0;
}
