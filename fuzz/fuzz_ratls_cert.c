/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: RA-TLS certificates (DER) through OpenSSL's parser, then ccz's extension reading
 * (DICE CBOR, Gramine legacy, SGX SDK), binding and full verification; and the same bytes as a
 * bare DICE extension value through the CBOR reader. */
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "ccz/ccz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static ccz_trust *trust;
    if (!trust && (ccz_trust_new(&trust) || ccz_trust_add_builtin(trust)))
        abort();
    /* the bytes as CBOR: every item skippable or rejected */
    ccz_cursor c;
    ccz_cursor_init(&c, CCZ_SPAN(data, size));
    while (ccz_cursor_remaining(&c) && ccz_cbor_skip(&c) == CCZ_OK)
        ;
    const unsigned char *p = data;
    X509 *x = d2i_X509(NULL, &p, (long)size);
    if (!x)
        return 0;
    ccz_ratls_info info;
    if (ccz_ratls_inspect(&info, x) == CCZ_OK) {
        ccz_claims claims;
        (void)!ccz_evidence_peek(&claims, ccz_buf_span(&info.evidence));
    }
    ccz_ratls_info_free(&info);
    static ccz_ratls_verdict v;
    ccz_verify_opts o = CCZ_VERIFY_OPTS_INIT;
    o.at_unix = 1800000000;
    o.trust = trust;
    if (ccz_ratls_verify_cert(&v, x, NULL, &o) != CCZ_OK && !v.step)
        abort(); /* every failure names its step */
    X509_free(x);
    return 0;
}
