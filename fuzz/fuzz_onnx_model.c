/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: arbitrary bytes as an ONNX model (protobuf-c unpacking, the graph, shape and
 * attribute checks of src/ml/model.c); a model that loads and is small enough is run on a batch
 * of one and of two rows, and row 0 must come out the same both times (rows are independent):
 * a difference aborts. */
#include <stdlib.h>
#include <string.h>

#include "ccz/ml.h"
#include "ml/ml_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* multiply-adds per batch row, saturating */
static uint64_t work(const ccz_ml_model *m)
{
    uint64_t w = 0;
    for (size_t i = 0; i < m->n_values; i++)
        w += m->values[i].elems;
    for (size_t i = 0; i < m->n_nodes; i++) {
        const ml_node *n = &m->nodes[i];
        uint64_t per = 1, out = m->values[n->out[0]].elems;
        const ml_value *x = &m->values[n->in[0]];
        if (n->kind == ML_CONV)
            per = (uint64_t)(n->kh * n->kw) * (uint64_t)m->values[n->in[1]].dims[1];
        else if (n->kind == ML_MAXPOOL || n->kind == ML_AVGPOOL)
            per = (uint64_t)(n->kh * n->kw);
        else if (n->kind == ML_GEMM || n->kind == ML_MATMUL)
            per = (uint64_t)x->dims[x->rank - 1] + (uint64_t)x->dims[0];
        else if (n->kind == ML_LINEAR_CLASSIFIER || n->kind == ML_LINEAR_REGRESSOR)
            per = n->rows + 2, out = n->feats;
        else if (n->kind == ML_GLOBALAVGPOOL)
            out = x->elems;
        if (per > (1u << 24) || out > (1u << 24))
            return UINT64_MAX;
        w += per * out;
    }
    return w;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ccz_ml_model *m = NULL;
    if (ccz_ml_model_load(&m, CCZ_SPAN(data, size)) != CCZ_OK)
        return 0;
    size_t ni = ccz_ml_input_count(m), no = ccz_ml_output_count(m);
    if (ni > 8 || no > 8 || work(m) > (1u << 20)) {
        ccz_ml_model_free(m);
        return 0;
    }
    float *in[8] = {0}, *one[8] = {0}, *two[8] = {0};
    size_t orow[8] = {0};
    bool ok = true;
    for (size_t i = 0; i < ni; i++) {
        ccz_ml_tensor_info info = {0};
        ok = ok && ccz_ml_input_info(m, i, &info) == CCZ_OK;
        in[i] = malloc(2 * info.row_elems * sizeof(float));
        ok = ok && in[i];
        for (size_t j = 0; ok && j < 2 * info.row_elems; j++)
            in[i][j] = (float)((j * 7 + i) % 13) * 0.25f - 1.5f;
    }
    for (size_t i = 0; i < no; i++) {
        ccz_ml_tensor_info info = {0};
        ok = ok && ccz_ml_output_info(m, i, &info) == CCZ_OK;
        orow[i] = info.row_elems;
        one[i] = malloc(info.row_elems * sizeof(float));
        two[i] = malloc(2 * info.row_elems * sizeof(float));
        ok = ok && one[i] && two[i];
    }
    if (ok && ccz_ml_run(m, 1, (const float *const *)in, one, 1) == CCZ_OK &&
        ccz_ml_run(m, 2, (const float *const *)in, two, 1) == CCZ_OK)
        for (size_t i = 0; i < no; i++)
            if (memcmp(one[i], two[i], orow[i] * sizeof(float)) != 0)
                abort();
    for (size_t i = 0; i < 8; i++) {
        free(in[i]);
        free(one[i]);
        free(two[i]);
    }
    ccz_ml_model_free(m);
    return 0;
}
