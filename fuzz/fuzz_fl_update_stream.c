/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: a streamed horizontal-FL update as the aggregator receives it (PushUpdateStream:
 * cczfl.UpdateChunk messages in gRPC frames, a header then slices), parsed chunk by chunk by
 * ccz_hfl_update_stream_parse for models of 15 parameters and of as many as the input would
 * hold in float32 (at most 4096), over a global model (sparse slices densified on it) and
 * without one. An accepted stream must give finite values and the header's fields in range;
 * anything else aborts. */
#include <stdlib.h>

#include "ccz/ccz.h"
#include "fl_update_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const uint8_t *data, size_t size, size_t dim)
{
    float *a = calloc(dim, sizeof *a), *g = calloc(dim, sizeof *g);
    if (!a || !g)
        abort();
    for (size_t i = 0; i < dim; i++)
        g[i] = (float)i / 8 - 1;
    for (int with_global = 0; with_global < 2; with_global++) {
        ccz_hfl_update u;
        if (ccz_hfl_update_stream_parse(&u, a, dim, with_global ? g : NULL, data, size) == CCZ_OK)
            fl_update_accepted(&u, a, dim);
    }
    free(a);
    free(g);
    ccz_error_clear();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fl_update_try_sizes(data, size, check, false);
    return 0;
}
