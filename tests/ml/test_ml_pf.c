/* SPDX-License-Identifier: Apache-2.0 */
/* A model stored as a protected file (Gramine's format) loads with its key and bound path and
 * runs as the plain model does; a wrong key, a wrong path and an altered node are refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ccz/ml.h"
#include "ccz/pf.h"
#include "test.h"

/* protobuf by hand: a Relu over X[N,3] (ir_version 8, opset 13) */
static void varint(ccz_buf *b, uint64_t v)
{
    do {
        uint8_t c = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v)
            c |= 0x80;
        CHECK_OK(ccz_buf_append(b, &c, 1));
    } while (v);
}

static void field(ccz_buf *b, unsigned num, const void *p, size_t n)
{
    varint(b, num << 3 | 2);
    varint(b, n);
    CHECK_OK(ccz_buf_append(b, p, n));
}

static void field_buf(ccz_buf *b, unsigned num, ccz_buf *inner)
{
    field(b, num, inner->ptr, inner->len);
    ccz_buf_free(inner);
}

static void value_info(ccz_buf *b, unsigned num, const char *name)
{
    ccz_buf dim0 = CCZ_BUF_INIT, dim1 = CCZ_BUF_INIT, shape = CCZ_BUF_INIT, tt = CCZ_BUF_INIT,
            type = CCZ_BUF_INIT, vi = CCZ_BUF_INIT;
    field(&dim0, 2, "N", 1); /* dim_param */
    varint(&dim1, 1 << 3);   /* dim_value */
    varint(&dim1, 3);
    field_buf(&shape, 1, &dim0);
    field_buf(&shape, 1, &dim1);
    varint(&tt, 1 << 3); /* elem_type FLOAT */
    varint(&tt, 1);
    field_buf(&tt, 2, &shape);
    field_buf(&type, 1, &tt);
    field(&vi, 1, name, strlen(name));
    field_buf(&vi, 2, &type);
    field_buf(b, num, &vi);
}

static void relu_model(ccz_buf *m)
{
    ccz_buf node = CCZ_BUF_INIT, graph = CCZ_BUF_INIT, opset = CCZ_BUF_INIT;
    field(&node, 1, "X", 1);
    field(&node, 2, "Y", 1);
    field(&node, 4, "Relu", 4);
    field_buf(&graph, 1, &node);
    field(&graph, 2, "g", 1);
    value_info(&graph, 11, "X");
    value_info(&graph, 12, "Y");
    varint(m, 1 << 3); /* ir_version */
    varint(m, 8);
    field_buf(m, 7, &graph);
    field(&opset, 1, "", 0);
    varint(&opset, 2 << 3);
    varint(&opset, 13);
    field_buf(m, 8, &opset);
}

static void test_model_in_protected_file(void)
{
    ccz_buf model = CCZ_BUF_INIT;
    relu_model(&model);
    char path[] = "/tmp/ccz-ml-pf-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    uint8_t key[CCZ_PF_KEY_SIZE];
    for (int i = 0; i < CCZ_PF_KEY_SIZE; i++)
        key[i] = (uint8_t)(i * 7 + 1);
    ccz_pf_opts o = CCZ_PF_OPTS_INIT;
    o.mode = CCZ_PF_CREATE;
    o.bound_path = "/models/relu.onnx";
    ccz_pf *pf;
    CHECK_OK(ccz_pf_open_path(&pf, path, key, &o));
    CHECK_OK(ccz_pf_write(pf, 0, model.ptr, model.len));
    CHECK_OK(ccz_pf_close(pf));

    ccz_ml_model *m = NULL;
    CHECK_OK(ccz_ml_model_load_pf(&m, path, key, "/models/relu.onnx"));
    if (m) {
        float in[6] = {-1, 2, -3, 4, 0, -0.5f}, out[6], want[6] = {0, 2, 0, 4, 0, 0};
        const float *ins[] = {in};
        float *outs[] = {out};
        CHECK_OK(ccz_ml_run(m, 2, ins, outs, 1));
        CHECK(!memcmp(out, want, sizeof want));
        ccz_ml_model_free(m);
    }
    m = NULL;
    CHECK_OK(ccz_ml_model_load_pf(&m, path, key, NULL));
    ccz_ml_model_free(m);

    CHECK_STATUS(ccz_ml_model_load_pf(&m, path, key, "/models/other.onnx"), CCZ_ERR_BINDING);
    key[0] ^= 1;
    CHECK_STATUS(ccz_ml_model_load_pf(&m, path, key, NULL), CCZ_ERR_BAD_SIGNATURE);
    key[0] ^= 1;
    /* a byte of the metadata node's encrypted part (the model lives there: under 3 KiB) */
    FILE *f = fopen(path, "r+b");
    CHECK(f != NULL);
    if (f) {
        fseek(f, 300, SEEK_SET);
        int c = fgetc(f);
        fseek(f, 300, SEEK_SET);
        fputc(c ^ 0x20, f);
        fclose(f);
    }
    CHECK_STATUS(ccz_ml_model_load_pf(&m, path, key, NULL), CCZ_ERR_BAD_SIGNATURE);
    CHECK_CONTAINS(ccz_error_detail(), "node");
    remove(path);
    ccz_buf_free(&model);
}

TEST_MAIN(T(test_model_in_protected_file))
