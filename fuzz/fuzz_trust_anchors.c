/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: trust-anchor files as ccz_trust_* reads them (src/tee/trust.c,
 * src/tee/cca/cca_trust.c, src/tee/csv/csv_verify.c). The first byte picks the reader: a sim
 * root, an Intel root, an AMD ARK (PEM or DER certificates), a Hygon HRK (a CSV CA
 * certificate), or Arm CCA anchors (a Veraison-style JSON store, a JWK or a PEM key) on the
 * rest. An anchor taken counts once; CCA anchors count one per store entry. */
#include <jansson.h>
#include <stdlib.h>

#include "ccz/ccz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    ccz_trust *t = NULL;
    if (ccz_trust_new(&t) != CCZ_OK)
        return 0;
    ccz_span in = CCZ_SPAN(data + 1, size - 1);
    ccz_status s;
    switch (data[0] % 5) {
    case 0:
        s = ccz_trust_add_sim_root(t, in);
        if (ccz_trust_sim_root_count(t) != (s == CCZ_OK ? 1u : 0u))
            abort();
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
    default: {
        s = ccz_trust_add_cca_anchors(t, in);
        size_t n = ccz_trust_cca_anchor_count(t);
        json_t *doc = json_loadb((const char *)in.ptr, in.len, 0, NULL);
        size_t want = json_is_array(doc) ? json_array_size(doc) : 1;
        json_decref(doc);
        if (s == CCZ_OK ? n != want : n != 0) /* all of a store, or none of it */
            abort();
        break;
    }
    }
    if (s != CCZ_OK && !ccz_error_detail()[0])
        abort(); /* every refusal says why */
    ccz_trust_free(t);
    ccz_error_clear();
    return 0;
}
