/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the binary parts of Azure vTPM evidence: the HCL report (header, hardware report
 * area, IGVM request data, variable data) and the vTPM's TPMS_ATTEST, both from the same input. */
#include <stdlib.h>

#include "ccz/ccz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ccz_hcl_report h;
    if (ccz_hcl_report_parse(&h, CCZ_SPAN(data, size)) == CCZ_OK &&
        (h.hw_report.ptr < data || h.var_data.ptr + h.var_data.len > data + size))
        abort();
    ccz_tpm_quote_info q;
    if (ccz_tpm_quote_parse(&q, CCZ_SPAN(data, size)) == CCZ_OK && q.extra_data_len > 64)
        abort();
    return 0;
}
