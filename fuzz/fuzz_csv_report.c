/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: Hygon CSV's parsers from one input: evidence in every form (trustee's JSON, a
 * wrapped report, a bare version 1 report), the report data as each version, a certificate,
 * and an HSK/CEK bundle as collateral. */
#include <stdlib.h>
#include <string.h>

#include "ccz/ccz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static ccz_csv_evidence e;
    if (ccz_csv_evidence_parse(&e, CCZ_SPAN(data, size)) == CCZ_OK) {
        if (e.report.version < 1 || e.report.version > 3 || strlen(e.serial) > 64)
            abort();
        ccz_csv_evidence_free(&e);
    }
    static ccz_csv_report r;
    for (uint32_t v = 1; v <= 3; v++)
        if (ccz_csv_report_parse(&r, CCZ_SPAN(data, size), v) == CCZ_OK &&
            (r.signed_part.ptr != data || r.mac_part.ptr + r.mac_part.len > data + size))
            abort();
    ccz_csv_cert c;
    if (ccz_csv_cert_parse(&c, CCZ_SPAN(data, size)) == CCZ_OK &&
        (c.user_id_len > 254 || c.signed_part.len >= size))
        abort();
    ccz_collateral *col = NULL;
    if (ccz_csv_collateral_new(&col, CCZ_SPAN(data, size)) == CCZ_OK)
        ccz_collateral_free(col);
    static ccz_claims claims;
    if (ccz_evidence_peek(&claims, CCZ_SPAN(data, size)) == CCZ_OK && claims.tee == CCZ_TEE_NONE)
        abort();
    return 0;
}
