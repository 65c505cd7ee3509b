/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: an IDX pair (ccz_mlp_data_parse_idx), the input split at a position its first
 * byte chooses into images and labels. Accepted data must have as many labels as rows, pixels
 * in [0, 1] and classes above every label; anything else aborts. */
#include <stdlib.h>

#include "ccz/ccz.h"
#include "ccz/mlp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t cut = 1 + (size_t)data[0] * 4;
    if (cut > size)
        cut = size;
    ccz_mlp_data d;
    if (ccz_mlp_data_parse_idx(&d, (ccz_span){data + 1, cut - 1},
                               (ccz_span){data + cut, size - cut}) == CCZ_OK) {
        if (d.rows == 0 || d.features == 0)
            abort();
        for (size_t i = 0; i < d.rows * d.features; i++)
            if (!(d.x[i] >= 0 && d.x[i] <= 1))
                abort();
        for (size_t i = 0; i < d.rows; i++)
            if (d.y[i] >= d.classes)
                abort();
        ccz_mlp_data_free(&d);
    }
    ccz_error_clear();
    return 0;
}
