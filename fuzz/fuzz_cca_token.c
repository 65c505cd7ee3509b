/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: Arm CCA tokens (tag 399 and CMW 907 collections, COSE_Sign1, platform and realm
 * claims, the RAK as a SEC1 point or a COSE_Key) through the parsers, the unverified peek and
 * the verifier with TF-A's test CPAK as the anchor for any instance (the recorded tokens of that
 * platform verify; nothing else can). */
#include <stdlib.h>
#include <string.h>

#include "ccz/ccz.h"
#include "tee/cca/cca_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char tfa_cpak[] =
    "{\"kty\":\"EC\",\"crv\":\"P-384\","
    "\"x\":\"IShnxS4rlQiwpCCpBWDzlNLfqiG911FP8akBr-fh94uxHU5m-Kijivp2r2oxxN6M\","
    "\"y\":\"hM4tr8mWQli1P61xh3T0ViDREbF26DGOEYfbAjWjGNN7pZf-6A4OTHYqEryz6m7U\"}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ccz_span in = CCZ_SPAN(data, size);
    ccz_cose_sign1 m;
    if (ccz_cose_sign1_parse(&m, in) == CCZ_OK) {
        ccz_buf tbs = CCZ_BUF_INIT;
        if (ccz_cose_sig_structure(&tbs, &m) == CCZ_OK && tbs.len < m.payload.len)
            abort();
        ccz_buf_free(&tbs);
    }
    static ccz_cca_evidence e;
    if (ccz_cca_evidence_parse(&e, in) == CCZ_OK) {
        if (e.claims.n_sw_components > CCZ_CCA_MAX_SW_COMPONENTS || e.claims.rim_len > 64 ||
            (e.token.tag != CCZ_CCA_TAG_COLLECTION && e.token.tag != CCZ_CCA_TAG_CMW))
            abort();
        EVP_PKEY *k = NULL;
        if (tee_cca_rak_key(&k, &e) == CCZ_OK && !k)
            abort();
        EVP_PKEY_free(k);
    }
    static ccz_claims c;
    (void)!ccz_evidence_peek(&c, in);
    static ccz_trust *trust;
    if (!trust && (ccz_trust_new(&trust) ||
                   ccz_trust_add_cca_anchors(trust, CCZ_SPAN(tfa_cpak, strlen(tfa_cpak)))))
        abort();
    static ccz_result r;
    ccz_verify_opts o = CCZ_VERIFY_OPTS_INIT;
    o.trust = trust;
    o.at_unix = 1767225600;
    /* a verified token has the claims every token must carry */
    if (ccz_verify(&r, in, &o) == CCZ_OK && r.claims.tee == CCZ_TEE_CCA &&
        (r.claims.cca.rim_len == 0 || r.claims.cca.n_sw_components == 0))
        abort();
    return 0;
}
