/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: an FL aggregator's checkpoint file (ccz_hfl_checkpoint_parse) for FedAvg and
 * FedAdam models of 4 parameters and of as many as the header claims (at most 4096). An
 * accepted checkpoint must hold finite values and a round; anything else aborts. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ccz/ccz.h"
#include "ccz/hfl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const uint8_t *data, size_t size, ccz_hfl_strategy_kind k, size_t dim)
{
    ccz_hfl_strategy_opts so = CCZ_HFL_STRATEGY_OPTS_INIT;
    so.threads = 1;
    ccz_hfl_strategy *s;
    if (ccz_hfl_strategy_new(&s, k, dim, &so) != CCZ_OK)
        abort();
    float *g = calloc(dim, sizeof *g);
    if (!g)
        abort();
    unsigned round = 0;
    if (ccz_hfl_checkpoint_parse(&round, s, g, dim, (ccz_span){data, size}) == CCZ_OK)
        for (size_t i = 0; i < dim; i++)
            if (!isfinite(g[i]))
                abort();
    free(g);
    ccz_hfl_strategy_free(s);
    ccz_error_clear();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t dim = 4;
    if (size >= 28) {
        uint64_t n = 0;
        for (int i = 7; i >= 0; i--)
            n = n << 8 | data[20 + i];
        if (n >= 1 && n <= 4096)
            dim = (size_t)n;
    }
    for (int k = 0; k < 3; k++)
        check(data, size, (ccz_hfl_strategy_kind)k, dim);
    if (dim != 4)
        check(data, size, CCZ_HFL_FEDAVG, 4);
    return 0;
}
