/* SPDX-License-Identifier: Apache-2.0 */
/* Hygon CSV's recorded evidence (more/cases.json, type csv), read in place: the HRK built in
 * is csv-rs's and trustee's, signs itself and the HSK; the HSK signs the CEK; csv-rs's version
 * 1 report verifies through the whole chain with its MAC; trustee's evidence verifies up to the
 * step that needs Hygon's KDS. Each mutation fails at its own step with its own status. */
#include <jansson.h>

#include "ccz/ccz.h"
#include "test.h"
#include "vectors.h"

#define CSVRS "more/wojiaohanliyang_csv-rs/"
#define TRUSTEE "more/confidential-containers_trustee/deps/verifier/"
#define NOW 1767225600

static ccz_trust *trust;

static ccz_trust *get_trust(void)
{
    if (!trust) {
        CHECK_OK(ccz_trust_new(&trust));
        CHECK_OK(ccz_trust_add_builtin(trust));
    }
    return trust;
}

static void read_vec(ccz_buf *b, const char *rel)
{
    ccz_buf_reset(b);
    CHECK_OK(vectors_read(b, rel, false));
}

static ccz_status verify(ccz_result *r, ccz_span ev, const ccz_collateral *col, const uint8_t *rd)
{
    ccz_verify_opts o = CCZ_VERIFY_OPTS_INIT;
    o.at_unix = NOW;
    o.trust = get_trust();
    o.collateral = col;
    o.expected_report_data = rd;
    return ccz_verify(r, ev, &o);
}

static void hex_is(const uint8_t *p, size_t n, const char *want)
{
    char s[257];
    ccz_hex_to_str(s, p, n);
    CHECK_STR(s, want);
}

/* csv-csvrs-hrk-selfsig, csv-csvrs-hrk-signs-hsk, csv-csvrs-hsk-signs-cek */
static void test_certs(void)
{
    vectors_require();
    ccz_buf hrk = CCZ_BUF_INIT, hsk = CCZ_BUF_INIT, cek = CCZ_BUF_INIT, bundle = CCZ_BUF_INIT;
    read_vec(&hrk, CSVRS "src/certs/builtin/hrk.cert");
    read_vec(&hsk, CSVRS "tests/test_data/hsk.cert");
    read_vec(&cek, CSVRS "tests/test_data/cek.cert");
    read_vec(&bundle, CSVRS "tests/test_data/hsk_cek.cert");
    ccz_buf tr = CCZ_BUF_INIT;
    read_vec(&tr, TRUSTEE "src/csv/hrk.cert");
    ccz_span builtin = ccz_csv_builtin_hrk();
    CHECK(builtin.len == hrk.len && memcmp(builtin.ptr, hrk.ptr, hrk.len) == 0);
    CHECK(tr.len == hrk.len && memcmp(tr.ptr, hrk.ptr, hrk.len) == 0);
    ccz_csv_cert a, b, c;
    CHECK_OK(ccz_csv_cert_parse(&a, ccz_buf_span(&hrk)));
    CHECK_INT(a.kind, CCZ_CSV_CERT_CA);
    CHECK_INT(a.usage, CCZ_CSV_USAGE_HRK);
    CHECK_STR(a.user_id, "HYGON-SSD-HRK");
    CHECK_OK(ccz_csv_cert_verify(&a, &a));
    CHECK_OK(ccz_csv_cert_parse(&b, ccz_buf_span(&hsk)));
    CHECK_INT(b.usage, CCZ_CSV_USAGE_HSK);
    CHECK_OK(ccz_csv_cert_verify(&a, &b));
    CHECK_OK(ccz_csv_cert_parse(&c, ccz_buf_span(&cek)));
    CHECK_INT(c.kind, CCZ_CSV_CERT_CSV);
    CHECK_INT(c.usage, CCZ_CSV_USAGE_CEK);
    CHECK_INT(c.sigs[0].usage, CCZ_CSV_USAGE_HSK);
    CHECK_INT(c.sigs[0].algo, 4);
    CHECK(c.sigs[1].algo != 4 && c.sigs[1].algo != 5); /* the second slot is empty */
    CHECK_OK(ccz_csv_cert_verify(&b, &c));
    /* the wrong signer: the HRK does not sign the CEK, the CEK not the HSK */
    CHECK_STATUS(ccz_csv_cert_verify(&a, &c), CCZ_ERR_BAD_SIGNATURE);
    CHECK_STATUS(ccz_csv_cert_verify(&c, &b), CCZ_ERR_BAD_SIGNATURE);
    /* hsk_cek.cert is hsk.cert then cek.cert */
    CHECK_INT(bundle.len, hsk.len + cek.len);
    CHECK(memcmp(bundle.ptr, hsk.ptr, hsk.len) == 0);
    CHECK(memcmp(bundle.ptr + hsk.len, cek.ptr, cek.len) == 0);
    char lines[512];
    CHECK_OK(ccz_csv_chain_check(lines, sizeof lines, ccz_buf_span(&bundle), get_trust()));
    CHECK_STR(lines, "HRK -> HSK: ok\nHSK -> CEK: ok\n");
    CHECK_OK(ccz_csv_chain_check(lines, sizeof lines, ccz_buf_span(&hrk), get_trust()));
    CHECK_STR(lines, "HRK self-signature: ok\n");
    /* a flipped bit in the signed part of each */
    for (int i = 0; i < 3; i++) {
        ccz_buf *m = i == 0 ? &hrk : i == 1 ? &hsk : &cek;
        m->ptr[300] ^= 1; /* in the user id area / reserved bytes, inside the signed part */
        ccz_csv_cert x;
        CHECK_OK(ccz_csv_cert_parse(&x, ccz_buf_span(m)));
        CHECK_STATUS(ccz_csv_cert_verify(i == 0   ? &x
                                         : i == 1 ? &a
                                                  : &b,
                                         &x),
                     CCZ_ERR_BAD_SIGNATURE);
        m->ptr[300] ^= 1;
    }
    bundle.ptr[CCZ_CSV_CA_CERT_SIZE + 1044 + 8] ^= 1; /* the CEK's r */
    CHECK_STATUS(ccz_csv_chain_check(lines, sizeof lines, ccz_buf_span(&bundle), get_trust()),
                 CCZ_ERR_CERT_CHAIN);
    CHECK_CONTAINS(ccz_error_detail(), "HSK -> CEK");
    /* sizes and curves */
    ccz_csv_cert x;
    CHECK_STATUS(ccz_csv_cert_parse(&x, CCZ_SPAN(hsk.ptr, 100)), CCZ_ERR_TRUNCATED);
    CHECK_STATUS(ccz_csv_cert_parse(&x, CCZ_SPAN(cek.ptr, 1000)), CCZ_ERR_MALFORMED);
    hsk.ptr[64] = 2; /* curve id */
    CHECK_STATUS(ccz_csv_cert_parse(&x, ccz_buf_span(&hsk)), CCZ_ERR_UNSUPPORTED);
    ccz_buf_free(&hrk);
    ccz_buf_free(&tr);
    ccz_buf_free(&hsk);
    ccz_buf_free(&cek);
    ccz_buf_free(&bundle);
}

/* csv-csvrs-report-v1-full-chain, and its mutations */
static void test_report_v1(void)
{
    vectors_require();
    ccz_buf rep = CCZ_BUF_INIT, bundle = CCZ_BUF_INIT;
    read_vec(&rep, CSVRS "tests/test_data/report.cert");
    read_vec(&bundle, CSVRS "tests/test_data/hsk_cek.cert");
    CHECK_INT(ccz_evidence_detect(ccz_buf_span(&rep)), CCZ_TEE_CSV);
    ccz_collateral *col = NULL;
    CHECK_OK(ccz_csv_collateral_new(&col, ccz_buf_span(&bundle)));
    static ccz_result r;
    for (int round = 0; round < 2; round++) { /* the second from the collateral's cache */
        CHECK_OK(verify(&r, ccz_buf_span(&rep), col, NULL));
        CHECK_INT(r.claims.tee, CCZ_TEE_CSV);
        CHECK_INT(r.claims.csv.version, 1);
        CHECK_STR(r.claims.csv.chip_serial, "NZA9T14052605");
        CHECK_INT(r.claims.csv.anonce, 0x1291429b);
        CHECK_INT(r.claims.csv.policy, 0x40000001);
        CHECK(r.claims.csv.mac_checked);
        CHECK(!r.claims.debug);
        hex_is(
            r.claims.report_data, 64,
            "75736572206461746100000000000000000000000000000000000000000000000000000000000000000000"
            "000000000000000000000000000000000000000000");
        hex_is(r.claims.csv.mnonce, 16, "67c6697351ff4aec29cdbaabf2fbe346");
        hex_is(r.claims.csv.measurement, 32,
               "1178dadbf826ec7a07444ba358376d81c312cb53d703f9da83b26c1eee2ea052");
    }
    json_t *j = ccz_claims_to_json(&r.claims);
    CHECK_STR(json_string_value(json_object_get(j, "tee")), "csv");
    CHECK_STR(json_string_value(json_object_get(j, "chip_serial")), "NZA9T14052605");
    CHECK_STR(json_string_value(json_object_get(j, "policy")), "0x40000001");
    CHECK(json_is_true(json_object_get(json_object_get(j, "policy_bits"), "nodbg")));
    json_decref(j);
    /* peek says the same without verifying */
    static ccz_claims pc;
    CHECK_OK(ccz_evidence_peek(&pc, ccz_buf_span(&rep)));
    CHECK_STR(pc.csv.chip_serial, "NZA9T14052605");
    /* expected report data */
    uint8_t rd[64] = "user data";
    CHECK_OK(verify(&r, ccz_buf_span(&rep), col, rd));
    rd[0] ^= 1;
    CHECK_STATUS(verify(&r, ccz_buf_span(&rep), col, rd), CCZ_ERR_REPORT_DATA_MISMATCH);
    CHECK_STR(r.step, "report_data");
    /* no HSK/CEK: the step that needs the network */
    CHECK_STATUS(verify(&r, ccz_buf_span(&rep), NULL, NULL), CCZ_ERR_COLLATERAL_MISSING);
    CHECK_STR(r.step, "collateral");
    CHECK_CONTAINS(r.message, "--hygon-kds");
    CHECK_CONTAINS(r.message, "NZA9T14052605");
    /* signed bytes (report data, policy), the signature, the MAC, the signer area */
    static const struct {
        size_t off;
        ccz_status want;
        const char *step;
    } m[] = {
        {0x40, CCZ_ERR_BAD_SIGNATURE, "signature"},       /* report data */
        {0xb0, CCZ_ERR_BAD_SIGNATURE, "signature"},       /* policy */
        {0xc4, CCZ_ERR_BAD_SIGNATURE, "signature"},       /* r */
        {0xc0 + 40, CCZ_ERR_MALFORMED, "parse"},          /* r above 256 bits (not signed) */
        {0x108 + 71, CCZ_ERR_MALFORMED, "parse"},         /* s's last byte */
        {0x80, CCZ_ERR_BAD_SIGNATURE, "signature"},       /* mnonce (signed; it keys the MAC) */
        {0x150 + 2084 + 3, CCZ_ERR_BINDING, "signature"}, /* the serial */
        {0x150 + 2084 + 64 + 32 + 5, CCZ_ERR_BINDING, "signature"},  /* the MAC */
        {0x150 + 2084 + 64 + 32 + 31, CCZ_ERR_BINDING, "signature"}, /* its last byte */
    };
    for (size_t i = 0; i < CCZ_ARRAY_LEN(m); i++) {
        rep.ptr[m[i].off] ^= 1;
        CHECK_STATUS(verify(&r, ccz_buf_span(&rep), col, NULL), m[i].want);
        CHECK_STR(r.step, m[i].step);
        rep.ptr[m[i].off] ^= 1;
    }
    /* the chain: a bit of the HSK's and of the CEK's signature */
    for (int i = 0; i < 2; i++) {
        size_t off = i == 0 ? 576 + 3 : CCZ_CSV_CA_CERT_SIZE + 1044 + 8 + 3;
        bundle.ptr[off] ^= 1;
        ccz_collateral *bad = NULL;
        CHECK_OK(ccz_csv_collateral_new(&bad, ccz_buf_span(&bundle)));
        CHECK_STATUS(verify(&r, ccz_buf_span(&rep), bad, NULL), CCZ_ERR_CERT_CHAIN);
        CHECK_STR(r.step, "platform_certificate");
        CHECK_CONTAINS(r.message, i == 0 ? "HRK -> HSK" : "HSK -> CEK");
        ccz_collateral_free(bad);
        bundle.ptr[off] ^= 1;
    }
    /* the anonce is outside the signed bytes: another anonce, the signer area written unmasked
     * (its PEK's usage then reads 0x1002) and sig_usage, sig_algo masked anew; the signature
     * still holds and the unmasked claims differ (the policy's nodbg bit flips). The MAC, keyed
     * with the mnonce the anonce unmasks, tells. */
    {
        ccz_buf t = CCZ_BUF_INIT;
        CHECK_OK(ccz_buf_append(&t, rep.ptr, rep.len));
        uint32_t a = get_le32(t.ptr + 0xbc), b = a ^ 1;
        put_le32(t.ptr + 0xbc, b);
        put_le32(t.ptr + 0xb4, CCZ_CSV_USAGE_PEK ^ b);
        put_le32(t.ptr + 0xb8, 4 ^ b);
        for (size_t i = 0; i < CCZ_CSV_CERT_SIZE + 64; i++)
            t.ptr[0x150 + i] ^= (uint8_t)(a >> (8 * (i % 4)));
        CHECK_STATUS(verify(&r, ccz_buf_span(&t), col, NULL), CCZ_ERR_BINDING);
        CHECK_STR(r.step, "signature");
        CHECK_CONTAINS(r.message, "the report's MAC");
        ccz_buf_free(&t);
    }
    /* another TEE's collateral: an SNP VCEK */
    {
        ccz_buf v = CCZ_BUF_INIT;
        read_vec(&v, "virtee_sev/tests/certs_data/vcek_milan.der");
        ccz_collateral *snp = NULL;
        CHECK_OK(ccz_snp_collateral_new(&snp, ccz_buf_span(&v), CCZ_SPAN(NULL, 0)));
        CHECK_STATUS(verify(&r, ccz_buf_span(&rep), snp, NULL), CCZ_ERR_COLLATERAL_MISMATCH);
        CHECK_STR(r.step, "collateral");
        ccz_collateral_free(snp);
        ccz_buf_free(&v);
    }
    CHECK_STATUS(verify(&r, CCZ_SPAN(rep.ptr, rep.len - 1), col, NULL), CCZ_ERR_UNKNOWN_FORMAT);
    CHECK_STATUS(ccz_csv_collateral_new(&(ccz_collateral *){NULL}, CCZ_SPAN(bundle.ptr, 832)),
                 CCZ_ERR_MALFORMED);
    ccz_collateral_free(col);
    ccz_buf_free(&rep);
    ccz_buf_free(&bundle);
}

/* csv-trustee-evidence-full: what can be checked offline */
static void test_trustee_evidence(void)
{
    vectors_require();
    ccz_buf ev = CCZ_BUF_INIT, bundle = CCZ_BUF_INIT;
    read_vec(&ev, TRUSTEE "test_data/csv_evidence.json");
    CHECK_INT(ccz_evidence_detect(ccz_buf_span(&ev)), CCZ_TEE_CSV);
    static ccz_csv_evidence e;
    CHECK_OK(ccz_csv_evidence_parse(&e, ccz_buf_span(&ev)));
    CHECK_INT(e.report.version, 1);
    CHECK_STR(e.serial, "KPA64911240507");
    CHECK_INT(e.report.anonce, 0x5dc7d726);
    CHECK_INT(e.report.policy, 0x45);
    CHECK(!e.has_hsk_cek);
    CHECK(e.eventlog.len > 0);
    hex_is(e.report.measure, 32,
           "ae2a2cf1f41a485fa37bf9ae92f678783c59fbc79de7b5d237743d58f5538034");
    static const uint8_t zero[64];
    CHECK(memcmp(e.report.report_data, zero, 64) == 0);
    ccz_csv_evidence_free(&e);
    static ccz_result r;
    /* the PEK signs the report; the chain needs Hygon's KDS */
    CHECK_STATUS(verify(&r, ccz_buf_span(&ev), NULL, NULL), CCZ_ERR_COLLATERAL_MISSING);
    CHECK_STR(r.step, "collateral");
    CHECK_CONTAINS(r.message, "KPA64911240507");
    /* another chip's HSK/CEK: its CEK did not sign this PEK */
    read_vec(&bundle, CSVRS "tests/test_data/hsk_cek.cert");
    ccz_collateral *col = NULL;
    CHECK_OK(ccz_csv_collateral_new(&col, ccz_buf_span(&bundle)));
    CHECK_STATUS(verify(&r, ccz_buf_span(&ev), col, NULL), CCZ_ERR_CERT_CHAIN);
    CHECK_STR(r.step, "platform_certificate");
    CHECK_CONTAINS(r.message, "CEK -> PEK");
    ccz_collateral_free(col);
    ccz_buf_free(&ev);
    ccz_buf_free(&bundle);
}

static void cleanup(void)
{
    ccz_trust_free(trust);
}

TEST_MAIN(T(test_certs), T(test_report_v1), T(test_trustee_evidence), T(cleanup))
