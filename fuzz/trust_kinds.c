/* SPDX-License-Identifier: Apache-2.0 */
/* The trust-anchor readers by kind, shared by fuzz/trust_anchors and tests/alloc. */
#include "trust_kinds.h"

ccz_status fuzz_trust_add(ccz_trust *t, unsigned kind, ccz_span in, bool *partial)
{
    ccz_status s;
    *partial = false;
    switch (kind % 5) {
    case 0:
        s = ccz_trust_add_sim_root(t, in);
        *partial = ccz_trust_sim_root_count(t) != (s == CCZ_OK ? 1u : 0u);
        break;
    case 1:
        s = ccz_trust_add_intel_root(t, in);
        break;
    case 2:
        s = ccz_trust_add_amd_ark(t, in);
        break;
    case 3:
        s = ccz_trust_add_hygon_hrk(t, in);
        break;
    default:
        s = ccz_trust_add_cca_anchors(t, in);
        *partial = s != CCZ_OK && ccz_trust_cca_anchor_count(t) != 0;
        break;
    }
    return s;
}
