/* SPDX-License-Identifier: Apache-2.0 */
/* A model stored as a protected file (Gramine's format) loads with its key and bound path and
 * runs as the plain model does; a wrong key, a wrong path and an altered node are refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ccz/ml.h"
#include "ccz/pf.h"
#include "onnx_min.h"
#include "test.h"

static void test_model_in_protected_file(void)
{
    ccz_buf model = CCZ_BUF_INIT;
    onnx_relu_model(&model);
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
