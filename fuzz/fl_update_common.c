/* SPDX-License-Identifier: Apache-2.0 */
/* The horizontal-FL update targets' shared checks (fl_update_common.h). */
#include "fl_update_common.h"

#include <math.h>
#include <stdlib.h>

void fl_update_accepted(const ccz_hfl_update *u, const float *values, size_t dim)
{
    if (u->examples == 0 || u->examples > CCZ_HFL_MAX_EXAMPLES || !isfinite(u->loss))
        abort();
    for (size_t i = 0; i < dim; i++)
        if (!isfinite(values[i]))
            abort();
}

void fl_update_try_sizes(const uint8_t *data, size_t size,
                         void (*check)(const uint8_t *data, size_t size, size_t dim), bool half)
{
    check(data, size, 15);
    size_t guess = size / 4;
    if (guess >= 1 && guess <= 4096 && guess != 15)
        check(data, size, guess);
    if (half && size / 2 >= 1 && size / 2 <= 4096)
        check(data, size, size / 2);
}
