/* SPDX-License-Identifier: Apache-2.0 */
/* Unverified decoding of evidence, for inspection: what the evidence says, parsed through the
 * same parsers as verification, with no signature or chain checked. */
#include <string.h>

#include "core/guard.h"
#include "ccz/dcap.h"
#include "ccz/snp.h"
#include "internal.h"

ccz_status ccz_evidence_peek(ccz_claims *c, ccz_span ev)
{
    memset(c, 0, sizeof *c);
    c->tee = ccz_evidence_detect(ev);
    switch (c->tee) {
    case CCZ_TEE_SIM: {
        ccz_sim_evidence e;
        CCZ_GUARD(ccz_sim_evidence_parse(&e, ev));
        c->simulated = true;
        c->debug = (e.flags & CCZ_SIM_FLAG_DEBUG) != 0;
        memcpy(c->report_data, e.report_data, 64);
        memcpy(c->sgx.mr_enclave, e.measurement, 32);
        memcpy(c->sgx.mr_signer, e.signer, 32);
        c->sgx.isv_prod_id = e.product_id;
        c->sgx.isv_svn = e.svn;
        c->sim.timestamp = e.timestamp;
        return CCZ_OK;
    }
    case CCZ_TEE_SGX:
    case CCZ_TEE_TDX: {
        ccz_dcap_quote q;
        CCZ_GUARD(ccz_dcap_quote_parse(&q, ev));
        if (c->tee == CCZ_TEE_SGX) {
            CCZ_GUARD(ccz_dcap_sgx_report_decode(&c->sgx, c->report_data, q.body));
            c->debug = (c->sgx.attributes[0] & 0x02) != 0;
        } else {
            CCZ_GUARD(ccz_dcap_td_report_decode(&c->tdx, c->report_data, q.body));
            c->debug = (c->tdx.td_attributes[0] & 0x01) != 0;
        }
        return CCZ_OK;
    }
    case CCZ_TEE_SNP: {
        static __thread ccz_snp_report r;
        CCZ_GUARD(ccz_snp_report_parse(&r, ev, CCZ_SNP_UNKNOWN));
        c->snp = r.claims;
        c->debug = (r.claims.policy >> 19) & 1;
        memcpy(c->report_data, r.report_data, 64);
        return CCZ_OK;
    }
    case CCZ_TEE_AZ_SNP_VTPM:
    case CCZ_TEE_AZ_TDX_VTPM:
        return tee_az_peek(c, ev);
    case CCZ_TEE_CSV:
        return tee_csv_peek(c, ev);
    case CCZ_TEE_CCA:
        return tee_cca_peek(c, ev);
    default:
        return ccz_fail(CCZ_ERR_UNKNOWN_FORMAT, "evidence (%zu bytes) is in no known format",
                        ev.len);
    }
}
