/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: Azure confidential VMs' evidence documents (trustee's JSON, versions 0 to 2)
 * through the document parser, the unverified peek and the verifier (the recorded vectors replayed
 * through it verify; nothing else can). */
#include <stdlib.h>

#include "ccz/ccz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ccz_az_evidence e;
    if (ccz_az_evidence_parse(&e, CCZ_SPAN(data, size)) == CCZ_OK) {
        if (e.tee != CCZ_TEE_AZ_SNP_VTPM && e.tee != CCZ_TEE_AZ_TDX_VTPM)
            abort();
        ccz_az_evidence_free(&e);
    }
    static ccz_claims c;
    (void)!ccz_evidence_peek(&c, CCZ_SPAN(data, size));
    static ccz_trust *trust;
    if (!trust && (ccz_trust_new(&trust) || ccz_trust_add_builtin(trust)))
        abort();
    static ccz_result r;
    ccz_verify_opts o = CCZ_VERIFY_OPTS_INIT;
    o.trust = trust;
    o.at_unix = 1767225600;
    if (ccz_verify(&r, CCZ_SPAN(data, size), &o) == CCZ_OK &&
        (r.claims.report_data_len > 64 || r.claims.tee == CCZ_TEE_AZ_TDX_VTPM))
        abort(); /* a TD quote cannot verify without collateral */
    return 0;
}
