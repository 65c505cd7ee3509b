/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: a horizontal-FL update as the aggregator receives it (a cczfl.Update), parsed by
 * ccz_hfl_update_parse for models of 15 parameters and of as many as its bytes field would hold
 * in float32 (at most 4096), then by ccz_hfl_update_parse_on over a global model (top-k sparse
 * updates densified: indices, counts and deltas checked). Accepted values must be finite and
 * survive encoding and a second parse unchanged; anything else aborts. */
#include <stdlib.h>
#include <string.h>

#include "ccz/ccz.h"
#include "fl_update_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const uint8_t *data, size_t size, size_t dim)
{
    float *a = calloc(dim, sizeof *a), *b = calloc(dim, sizeof *b);
    if (!a || !b)
        abort();
    ccz_hfl_update u;
    if (ccz_hfl_update_parse(&u, a, dim, data, size) == CCZ_OK) {
        fl_update_accepted(&u, a, dim);
        ccz_buf out = CCZ_BUF_INIT;
        if (ccz_hfl_tensor_encode(&out, a, dim, CCZ_HFL_F32) != CCZ_OK ||
            ccz_hfl_tensor_decode(b, dim, CCZ_HFL_F32, out.ptr, out.len) != CCZ_OK ||
            memcmp(a, b, dim * sizeof *a))
            abort();
        ccz_buf_free(&out);
    }
    /* with the round's model: sparse (top-k) updates too, densified on it */
    for (size_t i = 0; i < dim; i++)
        b[i] = (float)i / 8 - 1;
    if (ccz_hfl_update_parse_on(&u, a, dim, b, data, size) == CCZ_OK)
        fl_update_accepted(&u, a, dim);
    free(a);
    free(b);
    ccz_error_clear();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fl_update_try_sizes(data, size, check, true);
    return 0;
}
