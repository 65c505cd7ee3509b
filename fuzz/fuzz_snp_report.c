/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: SEV-SNP reports (every product's TCB layout), the host's certificate table, and
 * VEK certificates, all from the same input; the verifier's front (detection and the
 * collateral-missing path) too. */
#include <stdlib.h>
#include <string.h>

#include "ccz/ccz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static ccz_snp_report r;
    for (int p = CCZ_SNP_UNKNOWN; p <= CCZ_SNP_TURIN; p++)
        if (ccz_snp_report_parse(&r, CCZ_SPAN(data, size), (ccz_snp_product)p) == CCZ_OK &&
            (r.signed_part.len != CCZ_SNP_SIGNED_SIZE || size != CCZ_SNP_REPORT_SIZE))
            abort();
    ccz_buf vek = CCZ_BUF_INIT, chain = CCZ_BUF_INIT;
    (void)!ccz_snp_cert_table(&vek, &chain, CCZ_SPAN(data, size));
    ccz_buf_free(&vek);
    ccz_buf_free(&chain);
    ccz_snp_vek_info info;
    (void)!ccz_snp_vek_info_parse(&info, CCZ_SPAN(data, size));
    static ccz_trust *trust;
    if (!trust && (ccz_trust_new(&trust) || ccz_trust_add_builtin(trust)))
        abort();
    static ccz_result res;
    ccz_verify_opts o = CCZ_VERIFY_OPTS_INIT;
    o.trust = trust;
    if (ccz_verify(&res, CCZ_SPAN(data, size), &o) == CCZ_OK)
        abort(); /* nothing verifies without collateral */
    return 0;
}
