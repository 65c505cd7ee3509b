/* SPDX-License-Identifier: Apache-2.0 */
/* The Azure vTPM parsers on inputs built here: the HCL report's framing, the TPMS_ATTEST of a
 * quote, and the evidence document of each version, with the exact status of each defect. */
#include <jansson.h>

#include "ccz/ccz.h"
#include "test.h"

static void hcl(ccz_buf *b, uint32_t sig, uint32_t type, uint32_t hash, const char *var)
{
    ccz_buf_reset(b);
    CHECK_OK(ccz_buf_append_u32le(b, sig));
    for (int i = 0; i < 7; i++)
        CHECK_OK(ccz_buf_append_u32le(b, (uint32_t)i));
    for (int i = 0; i < CCZ_HCL_HW_REPORT_SIZE; i++)
        CHECK_OK(ccz_buf_append_u8(b, (uint8_t)i));
    size_t n = strlen(var);
    CHECK_OK(ccz_buf_append_u32le(b, (uint32_t)(20 + n)));
    CHECK_OK(ccz_buf_append_u32le(b, 1));
    CHECK_OK(ccz_buf_append_u32le(b, type));
    CHECK_OK(ccz_buf_append_u32le(b, hash));
    CHECK_OK(ccz_buf_append_u32le(b, (uint32_t)n));
    CHECK_OK(ccz_buf_append_str(b, var));
}

#define HCLA 0x414c4348u

static void test_hcl_report(void)
{
    ccz_buf b = CCZ_BUF_INIT;
    ccz_hcl_report r;
    hcl(&b, HCLA, CCZ_HCL_REPORT_TYPE_SNP, 1, "{\"keys\": []}");
    CHECK_OK(ccz_hcl_report_parse(&r, ccz_buf_span(&b)));
    CHECK_INT(r.hw_report.len, 1184);
    CHECK_INT(r.hw_report.ptr - b.ptr, CCZ_HCL_HW_REPORT_OFFSET);
    CHECK_INT(r.var_data.ptr - b.ptr, CCZ_HCL_VAR_DATA_OFFSET);
    CHECK_INT(r.var_data.len, 12);
    CHECK_INT(r.version, 0);
    hcl(&b, HCLA, CCZ_HCL_REPORT_TYPE_TDX, 1, "{}");
    CHECK_OK(ccz_hcl_report_parse(&r, ccz_buf_span(&b)));
    CHECK_INT(r.hw_report.len, 1024); /* the TDREPORT */
    CHECK_OK(ccz_buf_append_str(&b, "padding after the variable data is allowed"));
    CHECK_OK(ccz_hcl_report_parse(&r, ccz_buf_span(&b)));
    hcl(&b, 0x41424344, CCZ_HCL_REPORT_TYPE_SNP, 1, "{}");
    CHECK_STATUS(ccz_hcl_report_parse(&r, ccz_buf_span(&b)), CCZ_ERR_MALFORMED);
    hcl(&b, HCLA, 3, 1, "{}");
    CHECK_STATUS(ccz_hcl_report_parse(&r, ccz_buf_span(&b)), CCZ_ERR_UNSUPPORTED);
    hcl(&b, HCLA, CCZ_HCL_REPORT_TYPE_SNP, 2, "{}"); /* SHA-384 binding */
    CHECK_STATUS(ccz_hcl_report_parse(&r, ccz_buf_span(&b)), CCZ_ERR_UNSUPPORTED);
    hcl(&b, HCLA, CCZ_HCL_REPORT_TYPE_SNP, 1, "{}");
    for (size_t cut = 0; cut < b.len; cut += 97) /* cut anywhere: truncated */
        CHECK_STATUS(ccz_hcl_report_parse(&r, CCZ_SPAN(b.ptr, cut)), CCZ_ERR_TRUNCATED);
    CHECK_STATUS(ccz_hcl_report_parse(&r, CCZ_SPAN(b.ptr, b.len - 1)), CCZ_ERR_TRUNCATED);
    ccz_buf_free(&b);
}

/* A TPMS_ATTEST of a quote: extraData "nonce", one bank, the selection and digest given. */
static void attest(ccz_buf *b, uint32_t magic, uint16_t type, uint32_t banks, uint16_t bank,
                   const uint8_t *sel, uint8_t nsel, uint16_t digest_len)
{
    uint8_t be[8];
    ccz_buf_reset(b);
#define BE(v, n)                                                                                   \
    do {                                                                                           \
        for (int i_ = 0; i_ < (n); i_++)                                                           \
            be[i_] = (uint8_t)((uint64_t)(v) >> (8 * ((n)-1 - i_)));                               \
        CHECK_OK(ccz_buf_append(b, be, (n)));                                                      \
    } while (0)
    BE(magic, 4);
    BE(type, 2);
    BE(4, 2);
    CHECK_OK(ccz_buf_append(b, "name", 4));
    BE(5, 2);
    CHECK_OK(ccz_buf_append(b, "nonce", 5));
    BE(0x1122334455667788ull, 8); /* clock */
    BE(7, 4);
    BE(9, 4);
    BE(1, 1);
    BE(0x0102030405060708ull, 8);
    BE(banks, 4);
    BE(bank, 2);
    BE(nsel, 1);
    CHECK_OK(ccz_buf_append(b, sel, nsel));
    BE(digest_len, 2);
    for (int i = 0; i < digest_len; i++)
        CHECK_OK(ccz_buf_append_u8(b, 0xdd));
#undef BE
}

static void test_tpm_quote(void)
{
    static const uint8_t all[] = {0xff, 0xff, 0xff, 0x00};
    ccz_buf b = CCZ_BUF_INIT;
    ccz_tpm_quote_info q;
    attest(&b, 0xff544347, 0x8018, 1, 0x000b, all, 3, 32);
    CHECK_OK(ccz_tpm_quote_parse(&q, ccz_buf_span(&b)));
    CHECK_INT(q.extra_data_len, 5);
    CHECK(memcmp(q.extra_data, "nonce", 5) == 0);
    CHECK_INT(q.qualified_signer.len, 4);
    CHECK(q.clock == 0x1122334455667788ull);
    CHECK_INT(q.reset_count, 7);
    CHECK_INT(q.restart_count, 9);
    CHECK_INT(q.safe, 1);
    CHECK(q.firmware_version == 0x0102030405060708ull);
    CHECK_INT(q.pcr_select, 0xffffff);
    CHECK_INT(q.pcr_digest[31], 0xdd);
    attest(&b, 0xff544347, 0x8018, 1, 0x000b, all, 4, 32);
    CHECK_OK(ccz_tpm_quote_parse(&q, ccz_buf_span(&b)));
    CHECK_OK(ccz_buf_append_u8(&b, 0));
    CHECK_STATUS(ccz_tpm_quote_parse(&q, ccz_buf_span(&b)), CCZ_ERR_TRAILING_DATA);
    attest(&b, 0xff544346, 0x8018, 1, 0x000b, all, 3, 32);
    CHECK_STATUS(ccz_tpm_quote_parse(&q, ccz_buf_span(&b)), CCZ_ERR_MALFORMED);
    attest(&b, 0xff544347, 0x8017, 1, 0x000b, all, 3, 32); /* a certify, not a quote */
    CHECK_STATUS(ccz_tpm_quote_parse(&q, ccz_buf_span(&b)), CCZ_ERR_UNSUPPORTED);
    attest(&b, 0xff544347, 0x8018, 2, 0x000b, all, 3, 32);
    CHECK_STATUS(ccz_tpm_quote_parse(&q, ccz_buf_span(&b)), CCZ_ERR_UNSUPPORTED);
    attest(&b, 0xff544347, 0x8018, 1, 0x000c, all, 3, 32); /* the SHA-384 bank */
    CHECK_STATUS(ccz_tpm_quote_parse(&q, ccz_buf_span(&b)), CCZ_ERR_UNSUPPORTED);
    attest(&b, 0xff544347, 0x8018, 1, 0x000b, all, 2, 32);
    CHECK_STATUS(ccz_tpm_quote_parse(&q, ccz_buf_span(&b)), CCZ_ERR_MALFORMED);
    attest(&b, 0xff544347, 0x8018, 1, 0x000b, all, 3, 20);
    CHECK_STATUS(ccz_tpm_quote_parse(&q, ccz_buf_span(&b)), CCZ_ERR_MALFORMED);
    attest(&b, 0xff544347, 0x8018, 1, 0x000b, all, 3, 48);
    CHECK_STATUS(ccz_tpm_quote_parse(&q, ccz_buf_span(&b)), CCZ_ERR_MALFORMED);
    attest(&b, 0xff544347, 0x8018, 1, 0x000b, all, 3, 32);
    b.ptr[12] = 0x41; /* extraData of 0x41 bytes, above TPM2B_DATA's 64 */
    CHECK_STATUS(ccz_tpm_quote_parse(&q, ccz_buf_span(&b)), CCZ_ERR_MALFORMED);
    /* a selection of 5 bytes: PCRs 32..39 do not exist (and would not fit pcr_select) */
    static const uint8_t five[] = {0xff, 0xff, 0xff, 0x00, 0x00};
    attest(&b, 0xff544347, 0x8018, 1, 0x000b, five, 5, 32);
    CHECK_STATUS(ccz_tpm_quote_parse(&q, ccz_buf_span(&b)), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "a PCR selection of 5 bytes");
    /* extraData of exactly 64 bytes (TPM2B_DATA's most) is read; 65 would overrun extra_data */
    attest(&b, 0xff544347, 0x8018, 1, 0x000b, all, 3, 32);
    for (size_t n = 63; n <= 65; n++) {
        ccz_buf x = CCZ_BUF_INIT;
        CHECK_OK(ccz_buf_append(&x, b.ptr, 12)); /* magic, type, qualifiedSigner */
        CHECK_OK(ccz_buf_append_u8(&x, (uint8_t)(n >> 8)));
        CHECK_OK(ccz_buf_append_u8(&x, (uint8_t)n));
        for (size_t i = 0; i < n; i++)
            CHECK_OK(ccz_buf_append_u8(&x, 0x6e));
        CHECK_OK(ccz_buf_append(&x, b.ptr + 19, b.len - 19)); /* after "nonce" */
        if (n <= 64) {
            CHECK_OK(ccz_tpm_quote_parse(&q, ccz_buf_span(&x)));
            CHECK_INT(q.extra_data_len, n);
        } else {
            CHECK_STATUS(ccz_tpm_quote_parse(&q, ccz_buf_span(&x)), CCZ_ERR_MALFORMED);
            CHECK_CONTAINS(ccz_error_detail(), "extraData of 65 bytes (at most 64)");
        }
        ccz_buf_free(&x);
    }
    /* qualifiedSigner of 66 bytes (TPM2B_NAME's most: a SHA-512 name) is read; 67 is refused */
    attest(&b, 0xff544347, 0x8018, 1, 0x000b, all, 3, 32);
    for (size_t n = 66; n <= 67; n++) {
        ccz_buf x = CCZ_BUF_INIT;
        CHECK_OK(ccz_buf_append(&x, b.ptr, 6)); /* magic, type */
        CHECK_OK(ccz_buf_append_u8(&x, (uint8_t)(n >> 8)));
        CHECK_OK(ccz_buf_append_u8(&x, (uint8_t)n));
        for (size_t i = 0; i < n; i++)
            CHECK_OK(ccz_buf_append_u8(&x, 0x0b));
        CHECK_OK(ccz_buf_append(&x, b.ptr + 12, b.len - 12)); /* from extraData on */
        if (n == 66) {
            CHECK_OK(ccz_tpm_quote_parse(&q, ccz_buf_span(&x)));
            CHECK_INT(q.qualified_signer.len, 66);
        } else {
            CHECK_STATUS(ccz_tpm_quote_parse(&q, ccz_buf_span(&x)), CCZ_ERR_MALFORMED);
            CHECK_CONTAINS(ccz_error_detail(), "qualifiedSigner of 67 bytes (at most 66)");
        }
        ccz_buf_free(&x);
    }
    attest(&b, 0xff544347, 0x8018, 1, 0x000b, all, 3, 32);
    for (size_t cut = 0; cut < b.len; cut++)
        CHECK_STATUS(ccz_tpm_quote_parse(&q, CCZ_SPAN(b.ptr, cut)), CCZ_ERR_TRUNCATED);
    ccz_buf_free(&b);
}

static ccz_status parse_json(ccz_az_evidence *e, const char *text)
{
    return ccz_az_evidence_parse(e, CCZ_SPAN(text, strlen(text)));
}

/* 24 PCRs of 32 bytes, as hex strings or as byte arrays */
static void pcrs(ccz_buf *b, bool hex, int n)
{
    CHECK_OK(ccz_buf_append_str(b, "["));
    for (int i = 0; i < n; i++) {
        CHECK_OK(ccz_buf_append_str(b, i ? "," : ""));
        if (hex) {
            CHECK_OK(ccz_buf_printf(b, "\"%02x", i));
            for (int k = 1; k < 32; k++)
                CHECK_OK(ccz_buf_append_str(b, "00"));
            CHECK_OK(ccz_buf_append_str(b, "\""));
        } else {
            CHECK_OK(ccz_buf_printf(b, "[%d", i));
            for (int k = 1; k < 32; k++)
                CHECK_OK(ccz_buf_append_str(b, ",0"));
            CHECK_OK(ccz_buf_append_str(b, "]"));
        }
    }
    CHECK_OK(ccz_buf_append_str(b, "]"));
}

static void test_evidence_document(void)
{
    ccz_az_evidence e;
    ccz_buf t = CCZ_BUF_INIT, p = CCZ_BUF_INIT;
    pcrs(&p, true, 24);
    /* v1, padded base64url (as trustee writes it) */
    CHECK_OK(ccz_buf_printf(&t,
                            "{\"version\": 1, \"tpm_quote\": {\"signature\": \"0102\", \"message\":"
                            " \"ff54\", \"pcrs\": %s}, \"hcl_report\": \"_-8=\", \"td_quote\": "
                            "\"AQID\"}",
                            (const char *)p.ptr));
    CHECK_OK(parse_json(&e, (const char *)t.ptr));
    CHECK_INT(e.tee, CCZ_TEE_AZ_TDX_VTPM);
    CHECK_INT(e.version, 1);
    CHECK_INT(e.hcl_report.len, 2);
    CHECK_INT(e.hcl_report.ptr[0], 0xff);
    CHECK_INT(e.hcl_report.ptr[1], 0xef);
    CHECK_INT(e.td_quote.len, 3);
    CHECK_INT(e.tpm_signature.len, 2);
    CHECK_INT(e.pcrs[23][0], 23);
    ccz_az_evidence_free(&e);
    CHECK_INT(ccz_evidence_detect(ccz_buf_span(&t)), CCZ_TEE_AZ_TDX_VTPM);
    /* v0 SNP: byte arrays, "quote" and "report", a PEM VCEK */
    ccz_buf_reset(&p);
    pcrs(&p, false, 24);
    ccz_buf_reset(&t);
    CHECK_OK(ccz_buf_printf(&t,
                            "{\"quote\": {\"signature\": [1], \"message\": [255, 84], \"pcrs\": "
                            "%s}, \"report\": [1, 2, 3], \"vcek\": \"-----BEGIN\"}",
                            (const char *)p.ptr));
    CHECK_OK(parse_json(&e, (const char *)t.ptr));
    CHECK_INT(e.tee, CCZ_TEE_AZ_SNP_VTPM);
    CHECK_INT(e.version, 0);
    CHECK_INT(e.tpm_message.len, 2);
    CHECK_INT(e.vcek.len, 10);
    CHECK_INT(e.pcrs[5][0], 5);
    ccz_az_evidence_free(&e);
    CHECK_INT(ccz_evidence_detect(ccz_buf_span(&t)), CCZ_TEE_AZ_SNP_VTPM);
    /* version 3; a byte out of range; 23 PCRs; bad base64url; '+' from the other alphabet */
    static const char *const bad[] = {
        "{\"version\": 3}",
        "{\"version\": \"1\"}",
        "{\"quote\": {\"signature\": [256]}}",
        "[1, 2]",
        "{\"version\": 1, \"tpm_quote\": {\"signature\": \"0\"}}",
    };
    static const ccz_status want[] = {CCZ_ERR_UNSUPPORTED, CCZ_ERR_UNSUPPORTED, CCZ_ERR_MALFORMED,
                                      CCZ_ERR_MALFORMED, CCZ_ERR_ENCODING};
    for (size_t i = 0; i < CCZ_ARRAY_LEN(bad); i++)
        CHECK_STATUS(parse_json(&e, bad[i]), want[i]);
    ccz_buf_reset(&p);
    pcrs(&p, true, 23);
    ccz_buf_reset(&t);
    CHECK_OK(ccz_buf_printf(&t,
                            "{\"version\": 2, \"tpm_quote\": {\"signature\": \"\", \"message\":"
                            " \"\", \"pcrs\": %s}}",
                            (const char *)p.ptr));
    CHECK_STATUS(parse_json(&e, (const char *)t.ptr), CCZ_ERR_MALFORMED);
    /* 25 PCRs: a TPM has 24 */
    ccz_buf_reset(&p);
    pcrs(&p, true, 25);
    ccz_buf_reset(&t);
    CHECK_OK(ccz_buf_printf(&t,
                            "{\"version\": 2, \"tpm_quote\": {\"signature\": \"\", \"message\":"
                            " \"\", \"pcrs\": %s}}",
                            (const char *)p.ptr));
    CHECK_STATUS(parse_json(&e, (const char *)t.ptr), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "is not a list of 24 PCRs");
    ccz_buf_reset(&p);
    pcrs(&p, true, 24);
    ccz_buf_reset(&t);
    CHECK_OK(ccz_buf_printf(&t,
                            "{\"version\": 2, \"tpm_quote\": {\"signature\": \"\", \"message\":"
                            " \"\", \"pcrs\": %s}, \"hcl_report\": \"a+b=\", \"vcek\": \"\"}",
                            (const char *)p.ptr));
    CHECK_STATUS(parse_json(&e, (const char *)t.ptr), CCZ_ERR_ENCODING);
    /* a PCR of 31 bytes, and an empty one (v1 hex, v0 byte array): each PCR is 32 bytes */
    static const char *const short_pcr[] = {"\"00\"", "\"\"", "[]"};
    for (size_t i = 0; i < CCZ_ARRAY_LEN(short_pcr); i++) {
        bool v0 = short_pcr[i][0] == '[';
        ccz_buf_reset(&p);
        pcrs(&p, !v0, 24);
        char *at = strstr((char *)p.ptr, v0 ? ",[5," : ",\"05"); /* pcrs[5] */
        CHECK(at != NULL);
        char *end = strchr(at + 2, v0 ? ']' : '"') + 1; /* past its closing ] or " */
        ccz_buf q = CCZ_BUF_INIT;
        CHECK_OK(ccz_buf_append(&q, p.ptr, (size_t)(at - (char *)p.ptr) + 1));
        if (i == 0) { /* 31 bytes */
            CHECK_OK(ccz_buf_append_str(&q, "\""));
            for (int k = 0; k < 31; k++)
                CHECK_OK(ccz_buf_append_str(&q, "00"));
            CHECK_OK(ccz_buf_append_str(&q, "\""));
        } else {
            CHECK_OK(ccz_buf_append_str(&q, short_pcr[i]));
        }
        CHECK_OK(ccz_buf_append_str(&q, end));
        ccz_buf_reset(&t);
        CHECK_OK(ccz_buf_printf(&t,
                                v0 ? "{\"quote\": {\"signature\": [1], \"message\": [255], "
                                     "\"pcrs\": %s}, \"report\": [1], \"vcek\": \"-\"}"
                                   : "{\"version\": 1, \"tpm_quote\": {\"signature\": \"01\", "
                                     "\"message\": \"ff\", \"pcrs\": %s}, \"hcl_report\": "
                                     "\"AQ\", \"vcek\": \"AQ\"}",
                                (const char *)q.ptr));
        ccz_buf_free(&q);
        CHECK_STATUS(parse_json(&e, (const char *)t.ptr), CCZ_ERR_MALFORMED);
        CHECK_CONTAINS(ccz_error_detail(),
                       i == 0 ? "pcrs[5] is 31 bytes, not 32" : "pcrs[5] is 0 bytes, not 32");
    }
    /* the same document well formed, then with one defect each */
    ccz_buf_reset(&p);
    pcrs(&p, true, 24);
    static const struct {
        const char *hcl, *vcek, *sig;
        ccz_status want;
        const char *detail;
    } doc[] = {
        {"AQ", "AQ", "01", CCZ_OK, NULL},
        {"AQ==", "AQ", "01", CCZ_OK, NULL},
        {"AQ=", "AQ", "01", CCZ_ERR_ENCODING, "misplaced '=' padding"},
        {"AQ", "AQ", NULL, CCZ_ERR_TOO_LARGE, "\"signature\" is too long"},
    };
    for (size_t i = 0; i < CCZ_ARRAY_LEN(doc); i++) {
        ccz_buf sig = CCZ_BUF_INIT;
        if (doc[i].sig)
            CHECK_OK(ccz_buf_append_str(&sig, doc[i].sig));
        else /* 4097 bytes: more than any RSA signature ccz reads (4096) */
            for (int k = 0; k < 4097; k++)
                CHECK_OK(ccz_buf_append_str(&sig, "00"));
        ccz_buf_reset(&t);
        CHECK_OK(ccz_buf_printf(&t,
                                "{\"version\": 2, \"tpm_quote\": {\"signature\": \"%s\", "
                                "\"message\": \"ff\", \"pcrs\": %s}, \"hcl_report\": \"%s\", "
                                "\"vcek\": \"%s\"}",
                                (const char *)sig.ptr, (const char *)p.ptr, doc[i].hcl,
                                doc[i].vcek));
        ccz_buf_free(&sig);
        CHECK_STATUS(parse_json(&e, (const char *)t.ptr), doc[i].want);
        if (doc[i].detail)
            CHECK_CONTAINS(ccz_error_detail(), doc[i].detail);
        ccz_az_evidence_free(&e);
    }
    /* v0: a byte of -1, and a VCEK that is not PEM text */
    ccz_buf_reset(&p);
    pcrs(&p, false, 24);
    static const char *const v0_bad[][2] = {
        {"[1, -1]", "\"-----BEGIN\""},
        {"[1]", "5"},
        {"[1, 256]", "\"-----BEGIN\""}, /* one more than a byte holds */
    };
    for (size_t i = 0; i < CCZ_ARRAY_LEN(v0_bad); i++) {
        ccz_buf_reset(&t);
        CHECK_OK(ccz_buf_printf(&t,
                                "{\"quote\": {\"signature\": [1], \"message\": [255], \"pcrs\": "
                                "%s}, \"report\": %s, \"vcek\": %s}",
                                (const char *)p.ptr, v0_bad[i][0], v0_bad[i][1]));
        CHECK_STATUS(parse_json(&e, (const char *)t.ptr), CCZ_ERR_MALFORMED);
        CHECK_CONTAINS(ccz_error_detail(), i != 1 ? "\"report\"[1] is not a byte"
                                                  : "\"vcek\" is missing or not PEM text");
    }
    /* v0: an array signature of 4097 bytes is refused before its bytes are read; one of 4096
     * is read whole */
    for (int n = 4097; n >= 4096; n--) {
        ccz_buf sig = CCZ_BUF_INIT;
        CHECK_OK(ccz_buf_append_str(&sig, "[0"));
        for (int k = 1; k < n; k++)
            CHECK_OK(ccz_buf_append_str(&sig, ",0"));
        ccz_buf_reset(&t);
        CHECK_OK(ccz_buf_printf(&t,
                                "{\"quote\": {\"signature\": %s], \"message\": [255], "
                                "\"pcrs\": %s}, \"report\": [1], \"vcek\": \"-\"}",
                                (const char *)sig.ptr, (const char *)p.ptr));
        ccz_buf_free(&sig);
        if (n == 4097) {
            CHECK_STATUS(parse_json(&e, (const char *)t.ptr), CCZ_ERR_TOO_LARGE);
            CHECK_CONTAINS(ccz_error_detail(), "\"signature\" is too long");
        } else {
            CHECK_OK(parse_json(&e, (const char *)t.ptr));
            CHECK_INT(e.tpm_signature.len, 4096);
            ccz_az_evidence_free(&e);
        }
    }
    /* not evidence: no VCEK and no TD quote; another JSON document */
    CHECK_INT(ccz_evidence_detect(CCZ_LIT("{\"hcl_report\": 1, \"tpm_quote\": 2}")), CCZ_TEE_NONE);
    CHECK_INT(ccz_evidence_detect(CCZ_LIT("{\"cc_eventlog\": \"\"}")), CCZ_TEE_NONE);
    ccz_buf_free(&t);
    ccz_buf_free(&p);
}

/* Each part refused by its member's name: missing or of another JSON type, a v0 byte that is
 * not an integer, an encoding error prefixed with the member it is in. */
static void test_document_members(void)
{
    ccz_az_evidence e;
    ccz_buf p = CCZ_BUF_INIT, t = CCZ_BUF_INIT;
    pcrs(&p, false, 24);
    static const struct {
        const char *report, *detail;
    } v0[] = {
        {"\"AQ\"", "\"report\" is missing or not an array"},
        {"[1, \"2\"]", "\"report\"[1] is not a byte"},
        {"[1, 2.0]", "\"report\"[1] is not a byte"},
        {"[1, null]", "\"report\"[1] is not a byte"},
    };
    for (size_t i = 0; i < CCZ_ARRAY_LEN(v0); i++) {
        ccz_buf_reset(&t);
        CHECK_OK(ccz_buf_printf(&t,
                                "{\"quote\": {\"signature\": [1], \"message\": [255], \"pcrs\": "
                                "%s}, \"report\": %s, \"vcek\": \"-\"}",
                                (const char *)p.ptr, v0[i].report));
        CHECK_STATUS(parse_json(&e, (const char *)t.ptr), CCZ_ERR_MALFORMED);
        CHECK_CONTAINS(ccz_error_detail(), v0[i].detail);
    }
    ccz_buf_reset(&p);
    pcrs(&p, true, 24);
    char quote[2048];
    snprintf(quote, sizeof quote, "{\"signature\": \"01\", \"message\": \"ff\", \"pcrs\": %s}",
             (const char *)p.ptr);
    static const struct {
        const char *tpm_quote, *hcl, *vcek; /* NULL: the member left out */
        ccz_status want;
        const char *detail;
    } v1[] = {
        {NULL, "\"AQ\"", "\"AQ\"", CCZ_ERR_MALFORMED, "the TPM quote is missing or not an object"},
        {"[]", "\"AQ\"", "\"AQ\"", CCZ_ERR_MALFORMED, "the TPM quote is missing or not an object"},
        {"", NULL, "\"AQ\"", CCZ_ERR_MALFORMED, "\"hcl_report\" is missing or not a string"},
        {"", "[1]", "\"AQ\"", CCZ_ERR_MALFORMED, "\"hcl_report\" is missing or not a string"},
        {"", "\"AQ\"", "5", CCZ_ERR_MALFORMED, "\"vcek\" is missing or not a string"},
        {"", "\"A\"", "\"AQ\"", CCZ_ERR_ENCODING, "\"hcl_report\": "},
        {"", "\"AQ\"", "\"A\"", CCZ_ERR_ENCODING, "\"vcek\": "},
    };
    for (size_t i = 0; i < CCZ_ARRAY_LEN(v1); i++) {
        ccz_buf_reset(&t);
        CHECK_OK(ccz_buf_append_str(&t, "{\"version\": 1"));
        if (v1[i].tpm_quote)
            CHECK_OK(ccz_buf_printf(&t, ", \"tpm_quote\": %s",
                                    *v1[i].tpm_quote ? v1[i].tpm_quote : quote));
        if (v1[i].hcl)
            CHECK_OK(ccz_buf_printf(&t, ", \"hcl_report\": %s", v1[i].hcl));
        if (v1[i].vcek)
            CHECK_OK(ccz_buf_printf(&t, ", \"vcek\": %s", v1[i].vcek));
        CHECK_OK(ccz_buf_append_str(&t, "}"));
        CHECK_STATUS(parse_json(&e, (const char *)t.ptr), v1[i].want);
        CHECK_CONTAINS(ccz_error_detail(), v1[i].detail);
    }
    /* not an object at all */
    CHECK_STATUS(parse_json(&e, "[1, 2]"), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "Azure vTPM evidence: not a JSON object");
    /* a VCEK of 3072 bytes is read; one of more than 64 KiB is too long */
    for (size_t n = 4096; n <= 2 * 65536 + 4; n += 2 * 65536 + 4 - 4096) {
        ccz_buf_reset(&t);
        CHECK_OK(ccz_buf_printf(&t,
                                "{\"version\": 1, \"tpm_quote\": %s, \"hcl_report\": \"AQ\", "
                                "\"vcek\": \"",
                                quote));
        for (size_t k = 0; k < n; k++)
            CHECK_OK(ccz_buf_append_u8(&t, 'A'));
        CHECK_OK(ccz_buf_append_str(&t, "\"}"));
        if (n == 4096) {
            CHECK_OK(parse_json(&e, (const char *)t.ptr));
            CHECK_INT(e.vcek.len, 3072);
            ccz_az_evidence_free(&e);
        } else {
            CHECK_STATUS(parse_json(&e, (const char *)t.ptr), CCZ_ERR_TOO_LARGE);
            CHECK_CONTAINS(ccz_error_detail(), "\"vcek\" is too long");
        }
    }
    /* the quote's hex, its member named */
    ccz_buf_reset(&t);
    CHECK_OK(ccz_buf_printf(&t,
                            "{\"version\": 1, \"tpm_quote\": {\"signature\": \"01\", \"message\": "
                            "\"fg\", \"pcrs\": %s}, \"hcl_report\": \"AQ\", \"vcek\": \"AQ\"}",
                            (const char *)p.ptr));
    CHECK_STATUS(parse_json(&e, (const char *)t.ptr), CCZ_ERR_ENCODING);
    CHECK_CONTAINS(ccz_error_detail(), "\"message\": ");
    /* detection: whitespace before the object; a document with both a VCEK and a TD quote is
     * read as TDX evidence, and detected as such */
    ccz_buf_reset(&t);
    CHECK_OK(ccz_buf_printf(&t,
                            "\r\n\t {\"version\": 1, \"tpm_quote\": %s, \"hcl_report\": \"AQ\", "
                            "\"vcek\": \"AQ\"}",
                            quote));
    CHECK_INT(ccz_evidence_detect(ccz_buf_span(&t)), CCZ_TEE_AZ_SNP_VTPM);
    ccz_buf_reset(&t);
    CHECK_OK(ccz_buf_printf(&t,
                            "{\"version\": 1, \"tpm_quote\": %s, \"hcl_report\": \"AQ\", "
                            "\"vcek\": \"AQ\", \"td_quote\": \"AQID\"}",
                            quote));
    CHECK_INT(ccz_evidence_detect(ccz_buf_span(&t)), CCZ_TEE_AZ_TDX_VTPM);
    CHECK_OK(parse_json(&e, (const char *)t.ptr));
    CHECK_INT(e.tee, CCZ_TEE_AZ_TDX_VTPM);
    CHECK_INT(e.td_quote.len, 3);
    CHECK_INT(e.vcek.len, 0);
    ccz_az_evidence_free(&e);
    ccz_buf_free(&t);
    ccz_buf_free(&p);
}

TEST_MAIN(T(test_hcl_report), T(test_tpm_quote), T(test_evidence_document),
          T(test_document_members))
