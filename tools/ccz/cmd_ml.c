/* SPDX-License-Identifier: Apache-2.0 */
/* ccz ml: ONNX models through the inference engine (docs/ml.md). info loads and checks a model
 * and lists its inputs and outputs; run feeds it rows of raw float32 and prints the outputs as
 * JSON. The model and input files are untrusted: the library checks the model, this file the
 * input sizes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"

static const char ml_usage[] =
    "usage: ccz ml info MODEL [--json]\n"
    "       ccz ml run MODEL --input FILE... [--threads N]\n"
    "\n"
    "info loads an ONNX model, checking every node and shape as the engine does (docs/ml.md),\n"
    "and lists its inputs and outputs with their shapes (N: the batch dimension); a model the\n"
    "engine cannot run is refused with the node and operator named (exit 2).\n"
    "run runs it on the rows in the --input files (one per graph input, in order: raw\n"
    "little-endian float32, whole rows, the same number of rows in each) on N threads (default:\n"
    "one per CPU), and prints {\"batch\": ROWS, \"outputs\": {NAME: [[ROW], ...], ...}}.\n";

#define ML_MAX_INPUT (1u << 30) /* bytes of one input file */

static json_t *shape_json(const ccz_ml_tensor_info *t)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < t->rank; i++)
        json_array_append_new(a, i ? json_integer(t->dims[i]) : json_string("N"));
    return a;
}

static void shape_text(char *s, size_t cap, const ccz_ml_tensor_info *t)
{
    size_t at = (size_t)snprintf(s, cap, "[N");
    for (size_t i = 1; i < t->rank && at < cap; i++)
        at += (size_t)snprintf(s + at, cap - at, ",%lld", (long long)t->dims[i]);
    if (at < cap)
        snprintf(s + at, cap - at, "]");
}

static int info(const ccz_ml_model *m, bool json)
{
    json_t *doc = json_object(), *lists[2] = {json_array(), json_array()};
    for (int io = 0; io < 2; io++) {
        size_t n = io ? ccz_ml_output_count(m) : ccz_ml_input_count(m);
        for (size_t i = 0; i < n; i++) {
            ccz_ml_tensor_info t;
            ccz_status s = io ? ccz_ml_output_info(m, i, &t) : ccz_ml_input_info(m, i, &t);
            if (s != CCZ_OK) {
                json_decref(doc), json_decref(lists[0]), json_decref(lists[1]);
                return cli_fail(s, "ml info");
            }
            if (json) {
                json_array_append_new(lists[io], json_pack("{s:s, s:o, s:I}", "name", t.name,
                                                           "shape", shape_json(&t), "row_elems",
                                                           (json_int_t)t.row_elems));
            } else {
                char shape[256];
                shape_text(shape, sizeof shape, &t);
                printf("%-6s %s %s\n", io ? "output" : "input", t.name, shape);
            }
        }
    }
    json_object_set_new(doc, "inputs", lists[0]);
    json_object_set_new(doc, "outputs", lists[1]);
    if (json) {
        char *text = json_dumps(doc, JSON_INDENT(2));
        if (text)
            printf("%s\n", text);
        free(text);
    }
    json_decref(doc);
    return EXIT_OK;
}

/* The rows of each input file: whole rows, the same count in every file. */
static int read_inputs(const ccz_ml_model *m, const char **files, size_t n_files, ccz_buf *bufs,
                       size_t *batch)
{
    size_t n = ccz_ml_input_count(m);
    if (n_files != n)
        return cli_usage_error("ml", "the model has %zu inputs: give %zu --input files", n, n);
    for (size_t i = 0; i < n; i++) {
        ccz_ml_tensor_info t;
        ccz_status s = ccz_ml_input_info(m, i, &t);
        if (s == CCZ_OK)
            s = ccz_file_read(&bufs[i], files[i], ML_MAX_INPUT);
        if (s != CCZ_OK)
            return cli_fail(s, "ml run: %s", files[i]);
        size_t row = t.row_elems * sizeof(float), rows = row ? bufs[i].len / row : 0;
        if (!rows || bufs[i].len % row != 0 || (i && rows != *batch))
            return cli_fail(CCZ_ERR_MALFORMED,
                            "ml run: %s: %zu bytes is not a whole number of rows of input '%s' "
                            "(%zu floats each)%s",
                            files[i], bufs[i].len, t.name, t.row_elems,
                            i ? ", as many as the first input's" : "");
        *batch = rows;
    }
    return EXIT_OK;
}

static int run(const ccz_ml_model *m, const char **files, size_t n_files, unsigned threads)
{
    ccz_buf bufs[16];
    float *outs[16] = {0};
    const float *ins[16] = {0};
    size_t batch = 0, no = ccz_ml_output_count(m);
    for (size_t i = 0; i < 16; i++)
        ccz_buf_init(&bufs[i], ML_MAX_INPUT, false);
    int rc = n_files > 16 ? cli_usage_error("ml", "at most 16 --input files")
                          : read_inputs(m, files, n_files, bufs, &batch);
    json_t *doc = NULL;
    for (size_t i = 0; rc == EXIT_OK && i < no && i < 16; i++) {
        ccz_ml_tensor_info t;
        ccz_status s = ccz_ml_output_info(m, i, &t);
        outs[i] = s == CCZ_OK ? malloc(batch * t.row_elems * sizeof(float) + 1) : NULL;
        if (!outs[i])
            rc = cli_fail(s == CCZ_OK ? CCZ_ERR_NOMEM : s, "ml run");
    }
    for (size_t i = 0; i < n_files && i < 16; i++)
        ins[i] = (const float *)(const void *)bufs[i].ptr; /* malloc'd: aligned for floats */
    ccz_status s = CCZ_OK;
    if (rc == EXIT_OK && (s = ccz_ml_run(m, batch, ins, outs, threads)) != CCZ_OK)
        rc = cli_fail(s, "ml run");
    if (rc == EXIT_OK) {
        json_t *o = json_object();
        doc = json_pack("{s:I, s:o}", "batch", (json_int_t)batch, "outputs", o);
        for (size_t i = 0; i < no && i < 16; i++) {
            ccz_ml_tensor_info t;
            if (ccz_ml_output_info(m, i, &t) != CCZ_OK)
                continue;
            json_t *rows = json_array();
            for (size_t r = 0; r < batch; r++) {
                json_t *row = json_array();
                for (size_t j = 0; j < t.row_elems; j++)
                    json_array_append_new(row, json_real(outs[i][r * t.row_elems + j]));
                json_array_append_new(rows, row);
            }
            json_object_set_new(o, t.name, rows);
        }
        char *text = json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(9));
        if (text)
            printf("%s\n", text);
        free(text);
    }
    json_decref(doc);
    for (size_t i = 0; i < 16; i++) {
        ccz_buf_free(&bufs[i]);
        free(outs[i]);
    }
    return rc;
}

static int ml_command(int argc, char **argv);

static const cli_command ml_cmds[] = {
    {"info", ml_command, NULL, 0},
    {"run", ml_command, NULL, 0},
};
static const cli_group ml_group = CLI_GROUP("ml", ml_usage, ml_cmds, "ml command", NULL, NULL);

int cmd_ml(int argc, char **argv)
{
    return cli_dispatch(&ml_group, argc, argv);
}

/* info or run (argv[0]), the model and their options */
static int ml_command(int argc, char **argv)
{
    bool json = false, is_info = !strcmp(argv[0], "info"), threads_given = false;
    const char *model = NULL, *files[17];
    size_t n_files = 0;
    unsigned long long threads = 0;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            return cli_help(&ml_group);
        } else if (is_info && !strcmp(argv[i], "--json")) {
            json = true;
        } else if (!is_info && !strcmp(argv[i], "--input") && i + 1 < argc) {
            if (n_files == 17)
                return cli_usage_error("ml", "at most 16 --input files");
            files[n_files++] = argv[++i];
        } else if (!is_info && !strcmp(argv[i], "--threads") && i + 1 < argc) {
            if (threads_given)
                return cli_usage_error("ml", "'--threads' is given twice; give it once");
            threads_given = true;
            if (cli_number(argv[++i], 256, &threads) != CCZ_OK)
                return cli_usage_error("ml", "--threads: 0 (one per CPU) to 256");
        } else if (!is_info && (!strcmp(argv[i], "--input") || !strcmp(argv[i], "--threads"))) {
            return cli_usage_error("ml", "'%s' needs a value", argv[i]); /* the last word */
        } else if (argv[i][0] != '-' && !model) {
            model = argv[i];
        } else {
            return cli_usage_error("ml", "'%s' is not an option of 'ml %s'", argv[i], argv[0]);
        }
    }
    if (!model)
        return cli_usage_error("ml", "ml %s: no MODEL", argv[0]);
    ccz_ml_model *m;
    ccz_status s = ccz_ml_model_load_file(&m, model);
    if (s != CCZ_OK)
        return cli_fail(s, "%s", model);
    int rc = is_info ? info(m, json) : run(m, files, n_files, (unsigned)threads);
    ccz_ml_model_free(m);
    return rc;
}
