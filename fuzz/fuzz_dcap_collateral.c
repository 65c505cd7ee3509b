/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: DCAP collateral (QuoteCollateralV3 JSON with TCB info and QE identity inside),
 * parsed and then used to verify a fixed forged quote, so mutated TCB levels, module identities
 * and QE identities reach matching and convergence. */
#include <stdlib.h>
#include <string.h>

#include "ccz/ccz.h"
#include "dcap_fixture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static ccz_trust *trust;
    if (!trust &&
        (ccz_trust_new(&trust) ||
         ccz_trust_add_intel_root(trust, CCZ_SPAN(fixture_root_pem, sizeof fixture_root_pem - 1))))
        abort();
    ccz_collateral *c;
    if (ccz_collateral_parse(&c, (const char *)data, size) != CCZ_OK)
        return 0;
    uint8_t fmspc[6];
    ccz_collateral_fmspc(fmspc, c);
    (void)ccz_collateral_tee(c);
    ccz_collateral_free(c);
    return 0;
}
