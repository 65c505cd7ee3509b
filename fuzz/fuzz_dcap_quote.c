/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: DCAP quotes, through the framing parser, the report decoders, the PCK chain and
 * its SGX extensions, and the whole verifier against a fixed forged collateral (SGX and TDX) at a
 * fixed instant (fuzz/dcap_fixture.h), so mutated seeds reach every verification step. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ccz/ccz.h"
#include "dcap_fixture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static ccz_trust *trust;
    static ccz_collateral *sgx, *tdx;
    if (!trust) {
        if (ccz_trust_new(&trust) ||
            ccz_trust_add_intel_root(trust,
                                     CCZ_SPAN(fixture_root_pem, sizeof fixture_root_pem - 1)) ||
            ccz_collateral_parse(&sgx, fixture_sgx_collateral, sizeof fixture_sgx_collateral - 1) ||
            ccz_collateral_parse(&tdx, fixture_tdx_collateral, sizeof fixture_tdx_collateral - 1))
            abort();
    }
    ccz_dcap_quote q;
    if (ccz_dcap_quote_parse(&q, CCZ_SPAN(data, size)) == CCZ_OK) {
        ccz_sgx_claims g;
        ccz_tdx_claims t;
        uint8_t rd[64];
        if (q.body_type == CCZ_DCAP_BODY_SGX)
            (void)!ccz_dcap_sgx_report_decode(&g, rd, q.body);
        else
            (void)!ccz_dcap_td_report_decode(&t, rd, q.body);
        if (q.signed_part.len > size || q.cert_data.ptr + q.cert_data.len > data + size)
            abort();
    }
    static ccz_result r;
    ccz_verify_opts o = CCZ_VERIFY_OPTS_INIT;
    o.at_unix = FIXTURE_AT;
    o.trust = trust;
    o.collateral = size > 6 && data[4] == 0x81 ? tdx : sgx;
    if (ccz_verify(&r, CCZ_SPAN(data, size), &o) == CCZ_OK) {
        json_t *j = ccz_claims_to_json(&r.claims);
        if (!j || !r.claims.tcb_status[0])
            abort();
        json_decref(j);
    } else if (!r.step || !r.message[0]) {
        abort();
    }
    return 0;
}
