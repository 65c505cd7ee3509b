/* SPDX-License-Identifier: Apache-2.0 */
/* The DCAP quote header's QE vendor ID, byte by byte, on the recorded SGX and TDX samples of
 * dcap-qvl: any byte of the 16 changed is a quote from an unknown quoting enclave, refused at
 * parse as unsupported before any signature is looked at. Needs the vectors (vectors_require
 * before any check). */
#include <stdio.h>
#include <string.h>

#include "ccz/ccz.h"
#include "test.h"
#include "vectors.h"

#define VENDOR_AT 12 /* version 2, key type 2, TEE type 4, reserved 4 */

static void test_qe_vendor_id(void)
{
    vectors_require();
    static const struct {
        const char *quote, *collateral;
        int64_t at;
    } samples[] = {
        {"Phala-Network_dcap-qvl/sample/sgx_quote",
         "Phala-Network_dcap-qvl/sample/sgx_quote_collateral.json", 1752919277},
        {"Phala-Network_dcap-qvl/sample/tdx_quote",
         "Phala-Network_dcap-qvl/sample/tdx_quote_collateral.json", 1752919234},
    };
    ccz_trust *t;
    CHECK_OK(ccz_trust_new(&t));
    CHECK_OK(ccz_trust_add_builtin(t));
    for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
        test_name = samples[i].quote;
        ccz_buf q = CCZ_BUF_INIT, cb = CCZ_BUF_INIT;
        CHECK_OK(vectors_read(&q, samples[i].quote, false));
        CHECK_OK(vectors_read(&cb, samples[i].collateral, false));
        ccz_collateral *col;
        CHECK_OK(ccz_collateral_parse(&col, (const char *)cb.ptr, cb.len));
        ccz_verify_opts o = CCZ_VERIFY_OPTS_INIT;
        o.at_unix = samples[i].at;
        o.trust = t;
        o.collateral = col;
        static ccz_result r;
        CHECK_OK(ccz_verify(&r, ccz_buf_span(&q), &o)); /* as recorded */
        for (int b = 0; b < 16; b++) {
            q.ptr[VENDOR_AT + b] ^= 0x20;
            ccz_status s = ccz_verify(&r, ccz_buf_span(&q), &o);
            if (s != CCZ_ERR_UNSUPPORTED || !r.step || strcmp(r.step, "parse") != 0 ||
                !strstr(r.message, "QE vendor ID")) {
                fprintf(stderr, "%s: vendor id byte %d: got %s at %s (%s)\n", test_name, b,
                        ccz_status_name(s), r.step ? r.step : "-", r.message);
                test_failures++;
            }
            test_checks++;
            q.ptr[VENDOR_AT + b] ^= 0x20;
        }
        ccz_collateral_free(col);
        ccz_buf_free(&q);
        ccz_buf_free(&cb);
    }
    test_name = "test_qe_vendor_id";
    ccz_trust_free(t);
}

TEST_MAIN(T(test_qe_vendor_id))
