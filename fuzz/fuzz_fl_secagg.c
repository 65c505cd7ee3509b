/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: what a secure-aggregation client receives from the aggregator (proto/fl.proto's
 * KeyList, SharesForYou, UnmaskPlan; the first byte picks which), through the client's checks
 * (src/svc/fl/hfl_secagg_client.c). An accepted message must leave the client's invariants
 * standing: itself in the key list with a majority threshold, its own share in, never fewer
 * survivors than the threshold; anything else aborts. */
#include <stdlib.h>

#include "svc/fl/hfl_secagg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (hfl_sa_client_fuzz(data, size))
        abort();
    return 0;
}
