/* SPDX-License-Identifier: Apache-2.0 */
/* Unverified decoding (ccz_evidence_peek, what `ccz ratls` shows of a peer's certificate): the
 * TEE, the report data and the debug flag of sim evidence, SGX and TDX quotes (forged, then
 * their attribute bytes set) and an SNP report (its policy's debug bit), and evidence in no
 * known format refused. */
#include <string.h>

#include "ccz/ccz.h"
#include "dcap_forge.h"
#include "sim_side.h"
#include "test.h"

static void test_sim(void)
{
    for (int debug = 0; debug < 2; debug++) {
        ccz_attester *a = test_sim_attester(debug);
        uint8_t rd[64] = {1, 2, 3};
        ccz_buf ev = CCZ_BUF_INIT;
        CHECK_OK(ccz_attest(&ev, a, rd));
        ccz_claims c;
        CHECK_OK(ccz_evidence_peek(&c, ccz_buf_span(&ev)));
        CHECK_INT(c.tee, CCZ_TEE_SIM);
        CHECK(c.simulated);
        CHECK_INT(c.debug, debug);
        CHECK(memcmp(c.report_data, rd, 64) == 0);
        CHECK(c.sgx.mr_enclave[0] == 0x52 && c.sgx.mr_enclave[1] == 0x50); /* "RP..." */
        ccz_buf_free(&ev);
        ccz_attester_free(a);
    }
}

/* A forged quote with the debug attribute bit set or not (the byte at `at`, bit `bit`). */
static void dcap_case(forge *f, bool tdx, size_t at, uint8_t bit)
{
    forge_quote_opts o;
    forge_quote_defaults(&o);
    o.tdx = tdx;
    o.version = tdx ? 4 : 3;
    memset(o.report_data, 0x5a, 64);
    for (int debug = 0; debug < 2; debug++) {
        ccz_buf q = CCZ_BUF_INIT;
        CHECK_OK(forge_quote(f, &q, &o));
        q.ptr[at] = (uint8_t)(debug ? q.ptr[at] | bit : q.ptr[at] & ~bit);
        ccz_claims c;
        CHECK_OK(ccz_evidence_peek(&c, ccz_buf_span(&q)));
        CHECK_INT(c.tee, tdx ? CCZ_TEE_TDX : CCZ_TEE_SGX);
        CHECK_INT(c.debug, debug);
        CHECK(!c.simulated);
        CHECK(memcmp(c.report_data, o.report_data, 64) == 0);
        ccz_buf_free(&q);
    }
}

static void test_dcap(void)
{
    forge *f = forge_new();
    /* the SGX report body after the 48-byte header: attributes at 48, DEBUG is bit 1 */
    dcap_case(f, false, 48 + 48, 0x02);
    /* the TD report body: td_attributes at 120 (after TEE_TCB_SVN, MRSEAM, MRSIGNERSEAM and
     * SEAM_ATTRIBUTES), DEBUG is bit 0 */
    dcap_case(f, true, 48 + 120, 0x01);
    forge_free(f);
}

static void test_snp(void)
{
    uint8_t rep[CCZ_SNP_REPORT_SIZE] = {0};
    rep[0] = 3;    /* version */
    rep[0x34] = 1; /* ECDSA P-384 */
    memset(rep + 0x50, 0x77, 64);
    for (int debug = 0; debug < 2; debug++) {
        rep[0x0a] = (uint8_t)(debug ? 0x08 : 0x00); /* policy bit 19: DEBUG */
        ccz_claims c;
        CHECK_OK(ccz_evidence_peek(&c, CCZ_SPAN(rep, sizeof rep)));
        CHECK_INT(c.tee, CCZ_TEE_SNP);
        CHECK_INT(c.debug, debug);
        CHECK(c.report_data[0] == 0x77 && c.report_data[63] == 0x77);
    }
}

static void test_unknown(void)
{
    ccz_claims c;
    CHECK_STATUS(ccz_evidence_peek(&c, CCZ_LIT("not evidence")), CCZ_ERR_UNKNOWN_FORMAT);
    CHECK_CONTAINS(ccz_error_detail(), "evidence (12 bytes) is in no known format");
}

TEST_MAIN(T(test_sim), T(test_dcap), T(test_snp), T(test_unknown))
