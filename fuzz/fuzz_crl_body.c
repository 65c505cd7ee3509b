/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: CRL bodies as collateral services send them (DER, PEM or hex-encoded DER), told
 * apart by parsing. Whatever is accepted must come out as DER that reads back as itself. */
#include <stdlib.h>
#include <string.h>

#include "ccz/ccz.h"
#include "tee/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ccz_buf der = CCZ_BUF_INIT, again = CCZ_BUF_INIT;
    if (dcap_crl_body_der(&der, CCZ_SPAN(data, size), "CRL") == CCZ_OK) {
        if (dcap_crl_body_der(&again, ccz_buf_span(&der), "CRL") != CCZ_OK ||
            again.len != der.len || memcmp(again.ptr, der.ptr, der.len) != 0)
            abort();
    } else if (der.len != 0) {
        abort(); /* a failure leaves nothing behind */
    }
    ccz_buf_free(&der);
    ccz_buf_free(&again);
    ccz_error_clear();
    return 0;
}
