/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: trust-anchor files as ccz_trust_* reads them (src/tee/trust.c,
 * src/tee/cca/cca_trust.c, src/tee/csv/csv_verify.c). The first byte picks the reader: a sim
 * root, an Intel root, an AMD ARK (PEM or DER certificates), a Hygon HRK (a CSV CA
 * certificate), or Arm CCA anchors (a Veraison-style JSON store, a JWK or a PEM key) on the
 * rest. An anchor taken counts once; CCA anchors count one per store entry. */
#include <jansson.h>
#include <stdlib.h>

#include "ccz/ccz.h"
#include "trust_kinds.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    ccz_trust *t = NULL;
    if (ccz_trust_new(&t) != CCZ_OK)
        return 0;
    ccz_span in = CCZ_SPAN(data + 1, size - 1);
    bool partial;
    ccz_status s = fuzz_trust_add(t, data[0], in, &partial);
    if (partial)
        abort(); /* a sim root counted as taken, a CCA store all or none */
    if (s == CCZ_OK && data[0] % 5 == 4) { /* one CCA anchor per store entry */
        json_t *doc = json_loadb((const char *)in.ptr, in.len, 0, NULL);
        size_t want = json_is_array(doc) ? json_array_size(doc) : 1;
        json_decref(doc);
        if (ccz_trust_cca_anchor_count(t) != want)
            abort();
    }
    if (s != CCZ_OK && !ccz_error_detail()[0])
        abort(); /* every refusal says why */
    ccz_trust_free(t);
    ccz_error_clear();
    return 0;
}
