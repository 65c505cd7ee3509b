/* SPDX-License-Identifier: Apache-2.0 */
/* Hygon CSV on evidence made here: a whole chain HRK -> HSK -> CEK -> PEK of fresh SM2 keys (the
 * test's HRK trusted instead of Hygon's), version 2 and 3 reports wrapped as the firmware hands
 * them out, each field where the claims say, and an SM3 event log replayed into the RTMRs. */
#include <jansson.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "ccz/ccz.h"
#include "test.h"

typedef struct {
    EVP_PKEY *key;
    uint8_t cert[CCZ_CSV_CERT_SIZE]; /* 832 or 2084 bytes used */
    size_t len;
    uint32_t usage;
    const char *uid;
    uint8_t kid[16];
} party;

/* a 32-byte big-endian number into a 72-byte little-endian field */
static void put_le(uint8_t *p, const uint8_t be[32])
{
    memset(p, 0, 72);
    for (int i = 0; i < 32; i++)
        p[i] = be[31 - i];
}

static void put_key(uint8_t *p, EVP_PKEY *k)
{
    uint8_t pt[65];
    size_t n = 0;
    CHECK(EVP_PKEY_get_octet_string_param(k, "pub", pt, sizeof pt, &n) == 1 && n == 65);
    put_le32(p, 3);
    put_le(p + 4, pt + 1);
    put_le(p + 76, pt + 33);
}

static void sign(uint8_t r_le[72], uint8_t s_le[72], const party *signer, const uint8_t *msg,
                 size_t n)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_pkey(NULL, signer->key, NULL);
    CHECK(EVP_PKEY_CTX_set1_id(pctx, signer->uid, strlen(signer->uid)) == 1);
    EVP_MD_CTX_set_pkey_ctx(md, pctx);
    uint8_t der[80];
    size_t dl = sizeof der;
    CHECK(EVP_DigestSignInit(md, NULL, EVP_sm3(), NULL, signer->key) == 1);
    CHECK(EVP_DigestSign(md, der, &dl, msg, n) == 1);
    const unsigned char *p = der;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)dl);
    uint8_t r[32], s[32];
    CHECK(sig && BN_bn2binpad(ECDSA_SIG_get0_r(sig), r, 32) == 32 &&
          BN_bn2binpad(ECDSA_SIG_get0_s(sig), s, 32) == 32);
    put_le(r_le, r);
    put_le(s_le, s);
    ECDSA_SIG_free(sig);
    EVP_MD_CTX_free(md);
    EVP_PKEY_CTX_free(pctx);
}

static void ca(party *p, uint32_t usage, const char *uid, const party *signer)
{
    p->key = EVP_PKEY_Q_keygen(NULL, NULL, "SM2");
    p->usage = usage, p->uid = uid, p->len = CCZ_CSV_CA_CERT_SIZE;
    memset(p->cert, 0, sizeof p->cert);
    for (int i = 0; i < 16; i++)
        p->kid[i] = (uint8_t)(usage + i + 1);
    put_le32(p->cert, 1);
    memcpy(p->cert + 4, p->kid, 16);
    memcpy(p->cert + 20, signer ? signer->kid : p->kid, 16);
    put_le32(p->cert + 36, usage);
    put_key(p->cert + 64, p->key);
    p->cert[212] = (uint8_t)strlen(uid);
    memcpy(p->cert + 214, uid, strlen(uid));
    sign(p->cert + 576, p->cert + 648, signer ? signer : p, p->cert, 576);
}

static void csv(party *p, uint32_t usage, const char *uid, const party *signer)
{
    p->key = EVP_PKEY_Q_keygen(NULL, NULL, "SM2");
    p->usage = usage, p->uid = uid, p->len = CCZ_CSV_CERT_SIZE;
    memset(p->cert, 0, sizeof p->cert);
    put_le32(p->cert, 1);
    put_le32(p->cert + 8, usage);
    put_le32(p->cert + 12, 4);
    put_key(p->cert + 16, p->key);
    p->cert[164] = (uint8_t)strlen(uid);
    memcpy(p->cert + 166, uid, strlen(uid));
    put_le32(p->cert + 1044, signer->usage);
    put_le32(p->cert + 1048, 4);
    sign(p->cert + 1052, p->cert + 1124, signer, p->cert, 1044);
}

static party hrk, hsk, cek, pek;
static uint32_t report_policy = 0x45;                 /* nodbg (bit 0) set */
static uint32_t report_sig_usage = CCZ_CSV_USAGE_PEK; /* whose signature the report says it is */
static uint32_t report_sig_algo = 4;                  /* and with which algorithm (4: SM2) */

/* A wrapped version 2 or 3 report with report data rd and the RTMRs given. */
static void report(ccz_buf *out, uint32_t version, const uint8_t rd[64], uint8_t rtmr[5][32])
{
    uint8_t d[CCZ_CSV_REPORT_DATA_SIZE] = {0};
    memset(d + 0x20, 0x11, 16);           /* vm_id */
    memset(d + 0x30, 0x22, 16);           /* vm_version */
    memcpy(d + 0x40, rd, 64);             /* report_data */
    memset(d + 0x90, 0x33, 32);           /* measure */
    put_le32(d + 0xb0, report_policy);    /* policy */
    put_le32(d + 0xb4, report_sig_usage); /* sig_usage */
    put_le32(d + 0xb8, report_sig_algo);  /* sig_algo */
    put_le32(d + 0xbc, 2100);             /* build */
    d[0xc0] = 1;                          /* rtmr_version */
    memcpy(d + 0xd0, rtmr, 5 * 32);
    if (version == 3)
        memset(d + 0x3c0, 0x44, 64); /* host_data */
    sign(d + 0x400, d + 0x400 + 72, &pek, d, 0x400);
    memcpy(d + 0x490, pek.cert, CCZ_CSV_CERT_SIZE);
    memcpy(d + 0x490 + CCZ_CSV_CERT_SIZE, "TESTCHIP0001", 12);
    ccz_buf_reset(out);
    CHECK_OK(ccz_buf_append(out, "ATTESTATION_EXT", 16));
    CHECK_OK(ccz_buf_append_u32le(out, version == 2 ? 1 : 3));
    CHECK_OK(ccz_buf_append(out, d, sizeof d));
}

static uint16_t log_alg = 0x12; /* the event log's digest algorithm (0x12: SM3) */

/* An SM3 CC event log: the Spec ID header, then one event per index 1..4 (and two for 1). */
static void eventlog(ccz_buf *log, uint8_t rtmr[5][32])
{
    ccz_buf_reset(log);
    uint8_t spec[33] = "Spec ID Event03";
    put_le32(spec + 24, 1);                     /* numberOfAlgorithms */
    spec[28] = (uint8_t)log_alg, spec[30] = 32; /* its algorithm, 32 bytes */
    CHECK_OK(ccz_buf_append_u32le(log, 0));
    CHECK_OK(ccz_buf_append_u32le(log, 3)); /* EV_NO_ACTION */
    CHECK_OK(ccz_buf_append(log, (uint8_t[20]){0}, 20));
    CHECK_OK(ccz_buf_append_u32le(log, sizeof spec));
    CHECK_OK(ccz_buf_append(log, spec, sizeof spec));
    memset(rtmr, 0, 5 * 32);
    static const uint32_t index[] = {1, 2, 1, 3, 4};
    for (size_t i = 0; i < CCZ_ARRAY_LEN(index); i++) {
        uint8_t digest[32], cat[64];
        unsigned dl = 32;
        char ev[16];
        snprintf(ev, sizeof ev, "event %zu", i);
        CHECK(EVP_Digest(ev, strlen(ev), digest, &dl, EVP_sm3(), NULL) == 1);
        CHECK_OK(ccz_buf_append_u32le(log, index[i]));
        CHECK_OK(ccz_buf_append_u32le(log, 0x0d)); /* EV_IPL */
        CHECK_OK(ccz_buf_append_u32le(log, 1));
        CHECK_OK(ccz_buf_append_u16le(log, log_alg));
        CHECK_OK(ccz_buf_append(log, digest, 32));
        CHECK_OK(ccz_buf_append_u32le(log, (uint32_t)strlen(ev)));
        CHECK_OK(ccz_buf_append(log, ev, strlen(ev)));
        memcpy(cat, rtmr[index[i]], 32);
        memcpy(cat + 32, digest, 32);
        CHECK(EVP_Digest(cat, 64, rtmr[index[i]], &dl, EVP_sm3(), NULL) == 1);
    }
    CHECK_OK(ccz_buf_append(log, "\xff\xff\xff\xff\xff\xff\xff\xff", 8));
}

static json_t *arr(const uint8_t *p, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_integer(p[i]));
    return a;
}

static int le32(const uint8_t *p)
{
    return (int)(p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24);
}

/* A CSV certificate in its JSON form (csv-rs's serde shape), as trustee's evidence has it. */
static json_t *cert_json(const uint8_t *b)
{
    json_t *sigs = json_array();
    for (int i = 0; i < 2; i++) {
        const uint8_t *g = b + 1044 + 520 * i;
        json_array_append_new(sigs, json_pack("{s:i,s:i,s:{s:o,s:o},s:o}", "usage", le32(g), "algo",
                                              le32(g + 4), "signature", "r", arr(g + 8, 72), "s",
                                              arr(g + 80, 72), "_reserved", arr(g + 152, 368)));
    }
    return json_pack("{s:{s:i,s:{s:{s:i,s:i},s:i,s:{s:i,s:i,s:{s:i,s:o,s:o}},s:i,s:o,s:o,s:o}},"
                     "s:o}",
                     "body", "ver", le32(b), "data", "firmware", "major", b[4], "minor", b[5],
                     "reserved1", b[6] | b[7] << 8, "pubkey", "usage", le32(b + 8), "algo",
                     le32(b + 12), "key", "g", le32(b + 16), "x", arr(b + 20, 72), "y",
                     arr(b + 92, 72), "uid_size", b[164] | b[165] << 8, "user_id",
                     arr(b + 166, 254), "sid", arr(b + 420, 16), "reserved2", arr(b + 436, 608),
                     "sigs", sigs);
}

/* A CA certificate (an HSK) in its JSON form */
static json_t *ca_json(const uint8_t *b)
{
    return json_pack(
        "{s:{s:{s:i,s:{s:o,s:o,s:i,s:o}},s:{s:i,s:o,s:o},s:i,s:o,s:o},s:{s:o,s:o},s:o}", "body",
        "preamble", "ver", le32(b), "data", "kid", arr(b + 4, 16), "sid", arr(b + 20, 16), "usage",
        le32(b + 36), "reserved", arr(b + 40, 24), "pubkey", "g", le32(b + 64), "x",
        arr(b + 68, 72), "y", arr(b + 140, 72), "uid_size", b[212] | b[213] << 8, "user_id",
        arr(b + 214, 254), "reserved", arr(b + 468, 108), "signature", "r", arr(b + 576, 72), "s",
        arr(b + 648, 72), "_reserved", arr(b + 720, 112));
}

static bool json_hsk_cek; /* evidence_json puts the HSK and CEK in "cert_chain" */

/* trustee's evidence JSON around a wrapped report, with an event log */
static void evidence_json(ccz_buf *out, const ccz_buf *wrapped, const ccz_buf *log)
{
    ccz_buf b64 = CCZ_BUF_INIT;
    CHECK_OK(ccz_base64_encode(&b64, ccz_buf_span(log)));
    CHECK_OK(ccz_buf_append_u8(&b64, 0));
    uint8_t serial[64] = "TESTCHIP0001";
    json_t *doc = json_pack("{s:{s:o,s:i,s:o},s:{s:o},s:o,s:s}", "attestation_report", "magic",
                            arr(wrapped->ptr, 16), "flags", le32(wrapped->ptr + 16), "data",
                            arr(wrapped->ptr + 20, CCZ_CSV_REPORT_DATA_SIZE), "cert_chain", "pek",
                            cert_json(pek.cert), "serial_number", arr(serial, 64), "cc_eventlog",
                            (const char *)b64.ptr);
    if (json_hsk_cek)
        json_object_set_new(
            json_object_get(doc, "cert_chain"), "hsk_cek",
            json_pack("{s:o,s:o}", "hsk", ca_json(hsk.cert), "cek", cert_json(cek.cert)));
    char *text = json_dumps(doc, JSON_COMPACT);
    ccz_buf_reset(out);
    CHECK_OK(ccz_buf_append_str(out, text));
    free(text);
    json_decref(doc);
    ccz_buf_free(&b64);
}

/* The chain HRK -> HSK -> CEK -> PEK, made afresh; chain_free frees its keys. */
static void chain_make(void)
{
    ca(&hrk, CCZ_CSV_USAGE_HRK, "HYGON-SSD-HRK", NULL);
    ca(&hsk, CCZ_CSV_USAGE_HSK, "HYGON-SSD-HSK", &hrk);
    csv(&cek, CCZ_CSV_USAGE_CEK, "HYGON-SSD-CEK", &hsk);
    csv(&pek, CCZ_CSV_USAGE_PEK, "HYGON-SSD-PEK", &cek);
}

static void chain_free(void)
{
    EVP_PKEY_free(hrk.key);
    EVP_PKEY_free(hsk.key);
    EVP_PKEY_free(cek.key);
    EVP_PKEY_free(pek.key);
}

/* A trust store of the chain's HRK, and the HSK and CEK as the collateral bundle (hsk_cek). */
static ccz_trust *chain_trust(void)
{
    ccz_trust *t;
    CHECK_OK(ccz_trust_new(&t));
    CHECK_OK(ccz_trust_add_hygon_hrk(t, CCZ_SPAN(hrk.cert, hrk.len)));
    return t;
}

static ccz_collateral *chain_collateral(void)
{
    uint8_t bundle[CCZ_CSV_HSK_CEK_SIZE];
    memcpy(bundle, hsk.cert, CCZ_CSV_CA_CERT_SIZE);
    memcpy(bundle + CCZ_CSV_CA_CERT_SIZE, cek.cert, CCZ_CSV_CERT_SIZE);
    ccz_collateral *col;
    CHECK_OK(ccz_csv_collateral_new(&col, CCZ_SPAN(bundle, sizeof bundle)));
    return col;
}

static void test_chain_v2_v3(void)
{
    chain_make();
    ccz_trust *t = chain_trust();
    /* an HSK is not an HRK */
    CHECK_STATUS(ccz_trust_add_hygon_hrk(t, CCZ_SPAN(hsk.cert, hsk.len)), CCZ_ERR_MALFORMED);
    ccz_collateral *col = chain_collateral();
    ccz_buf ev = CCZ_BUF_INIT, log = CCZ_BUF_INIT;
    uint8_t rd[64] = "nonce", rtmr[5][32];
    eventlog(&log, rtmr);
    ccz_eventlog *l;
    CHECK_OK(ccz_eventlog_parse(&l, ccz_buf_span(&log)));
    static ccz_result r;
    for (uint32_t v = 2; v <= 3; v++) {
        report(&ev, v, rd, rtmr);
        CHECK_INT(ccz_evidence_detect(ccz_buf_span(&ev)), CCZ_TEE_CSV);
        ccz_verify_opts o = CCZ_VERIFY_OPTS_INIT;
        o.trust = t;
        o.collateral = col;
        o.expected_report_data = rd;
        o.eventlog = l;
        CHECK_OK(ccz_verify(&r, ccz_buf_span(&ev), &o));
        const ccz_csv_claims *c = &r.claims.csv;
        CHECK_INT(c->version, v);
        CHECK_INT(c->build, 2100);
        CHECK_INT(c->rtmr_version, 1);
        CHECK_INT(c->policy, 0x45);
        CHECK_INT(c->vm_id[0], 0x11);
        CHECK_INT(c->vm_version[15], 0x22);
        CHECK_INT(c->measurement[31], 0x33);
        CHECK_INT(c->host_data[0], v == 3 ? 0x44 : 0);
        CHECK(memcmp(c->rtmr, rtmr, sizeof rtmr) == 0);
        CHECK_STR(c->chip_serial, "TESTCHIP0001");
        CHECK(!c->mac_checked);
        CHECK(r.claims.eventlog == l);
        json_t *j = ccz_claims_to_json(&r.claims);
        CHECK_STR(json_string_value(json_object_get(json_object_get(j, "eventlog"), "algorithm")),
                  "sm3");
        CHECK(json_object_get(j, "rtmr4") != NULL);
        CHECK((json_object_get(j, "host_data") != NULL) == (v == 3));
        json_decref(j);
        /* an RTMR the log does not replay to */
        ev.ptr[20 + 0xd0 + 32] ^= 1; /* rtmr1: the signature breaks first */
        CHECK_STATUS(ccz_verify(&r, ccz_buf_span(&ev), &o), CCZ_ERR_BAD_SIGNATURE);
        ev.ptr[20 + 0xd0 + 32] ^= 1;
        /* the same report, without the collateral's chain for the PEK: another CEK */
        ev.ptr[20 + 0x40] ^= 1;
        CHECK_STATUS(ccz_verify(&r, ccz_buf_span(&ev), &o), CCZ_ERR_BAD_SIGNATURE);
        CHECK_STR(r.step, "signature");
        ev.ptr[20 + 0x40] ^= 1;
    }
    /* trustee's JSON: the evidence's own event log replays to rtmr1..4 (version 2), or not */
    ccz_buf js = CCZ_BUF_INIT;
    report(&ev, 2, rd, rtmr);
    evidence_json(&js, &ev, &log);
    ccz_verify_opts jo = CCZ_VERIFY_OPTS_INIT;
    jo.trust = t;
    jo.collateral = col;
    CHECK_INT(ccz_evidence_detect(ccz_buf_span(&js)), CCZ_TEE_CSV);
    CHECK_OK(ccz_verify(&r, ccz_buf_span(&js), &jo));
    CHECK_STR(r.claims.csv.chip_serial, "TESTCHIP0001");
    /* a log whose replay differs from the report's RTMRs */
    uint8_t other[5][32];
    memcpy(other, rtmr, sizeof other);
    other[2][0] ^= 1;
    report(&ev, 2, rd, other);
    ccz_verify_opts o = CCZ_VERIFY_OPTS_INIT;
    o.trust = t;
    o.collateral = col;
    o.eventlog = l;
    CHECK_STATUS(ccz_verify(&r, ccz_buf_span(&ev), &o), CCZ_ERR_REPLAY_MISMATCH);
    CHECK_STR(r.step, "eventlog");
    CHECK_CONTAINS(r.message, "rtmr2");
    /* each register against its own RTMR, to the last byte */
    for (uint32_t i = 1; i <= 4; i++) {
        uint8_t one[5][32];
        memcpy(one, rtmr, sizeof one);
        one[i][31] ^= 1;
        report(&ev, 2, rd, one);
        CHECK_STATUS(ccz_verify(&r, ccz_buf_span(&ev), &o), CCZ_ERR_REPLAY_MISMATCH);
        CHECK_STR(r.step, "eventlog");
        char g[65], q[65], want[256];
        ccz_hex_to_str(g, rtmr[i], 32);
        ccz_hex_to_str(q, one[i], 32);
        snprintf(want, sizeof want,
                 "the event log's register %u replays to %s, rtmr%u in the report is %s", i, g, i,
                 q);
        CHECK_STR(r.message, want);
    }
    /* a caller's log of SHA-256 digests only: nothing it replays extends the RTMRs */
    log_alg = 0x0b;
    ccz_buf sha_log = CCZ_BUF_INIT;
    uint8_t sha_rtmr[5][32];
    eventlog(&sha_log, sha_rtmr);
    log_alg = 0x12;
    ccz_eventlog *sha_l;
    CHECK_OK(ccz_eventlog_parse(&sha_l, ccz_buf_span(&sha_log)));
    report(&ev, 2, rd, sha_rtmr);
    o.eventlog = sha_l;
    CHECK_STATUS(ccz_verify(&r, ccz_buf_span(&ev), &o), CCZ_ERR_UNSUPPORTED);
    CHECK_STR(r.step, "eventlog");
    CHECK_CONTAINS(r.message, "no SM3 digests, which CSV RTMRs extend");
    o.eventlog = l;
    ccz_eventlog_free(sha_l);
    ccz_buf_free(&sha_log);
    report(&ev, 2, rd, other);
    evidence_json(&js, &ev, &log);
    CHECK_STATUS(ccz_verify(&r, ccz_buf_span(&js), &jo), CCZ_ERR_REPLAY_MISMATCH);
    CHECK_STR(r.step, "eventlog");
    CHECK_CONTAINS(r.message, "cc_eventlog");
    ccz_buf_free(&js);
    /* the built-in HRK does not anchor this chain */
    ccz_trust *builtin;
    CHECK_OK(ccz_trust_new(&builtin));
    CHECK_OK(ccz_trust_add_builtin(builtin));
    o.trust = builtin;
    o.eventlog = NULL;
    CHECK_STATUS(ccz_verify(&r, ccz_buf_span(&ev), &o), CCZ_ERR_CERT_CHAIN);
    CHECK_CONTAINS(r.message, "HRK -> HSK");
    /* a PEK signed by the HSK instead of the CEK */
    party rogue;
    csv(&rogue, CCZ_CSV_USAGE_PEK, "HYGON-SSD-PEK", &hsk);
    ccz_csv_cert a, b;
    CHECK_OK(ccz_csv_cert_parse(&a, CCZ_SPAN(cek.cert, cek.len)));
    CHECK_OK(ccz_csv_cert_parse(&b, CCZ_SPAN(rogue.cert, rogue.len)));
    CHECK_STATUS(ccz_csv_cert_verify(&a, &b), CCZ_ERR_BAD_SIGNATURE);
    CHECK_CONTAINS(ccz_error_detail(), "no signature by a key of usage 0x1004");
    EVP_PKEY_free(rogue.key);
    /* with the collateral that has seen the right PEK: a report by another PEK that claims to
     * be one (signed by the HSK); a report by a certificate the CEK signed that is not a PEK
     * (usage PDH) */
    party good_pek = pek, not_pek;
    o.trust = t;
    o.eventlog = l;
    report(&ev, 2, rd, rtmr);
    CHECK_OK(ccz_verify(&r, ccz_buf_span(&ev), &o));
    csv(&rogue, CCZ_CSV_USAGE_PEK, "HYGON-SSD-PEK", &hsk);
    pek = rogue;
    report(&ev, 2, rd, rtmr);
    CHECK_STATUS(ccz_verify(&r, ccz_buf_span(&ev), &o), CCZ_ERR_CERT_CHAIN);
    CHECK_STR(r.step, "platform_certificate");
    CHECK_CONTAINS(r.message, "CEK -> PEK");
    csv(&not_pek, CCZ_CSV_USAGE_PDH, "HYGON-SSD-PDH", &cek);
    pek = not_pek;
    report(&ev, 2, rd, rtmr);
    CHECK_STATUS(ccz_verify(&r, ccz_buf_span(&ev), &o), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(r.message, "not the PEK's");
    pek = good_pek;
    EVP_PKEY_free(rogue.key);
    EVP_PKEY_free(not_pek.key);
    /* the policy's nodbg bit clear: a debug guest */
    report_policy = 0x44;
    report(&ev, 2, rd, rtmr);
    CHECK_OK(ccz_verify(&r, ccz_buf_span(&ev), &o));
    CHECK(r.claims.debug);
    report_policy = 0x45;
    report(&ev, 2, rd, rtmr);
    CHECK_OK(ccz_verify(&r, ccz_buf_span(&ev), &o));
    CHECK(!r.claims.debug);
    /* a chain given as certificates (ccz csv chain): from the trusted HRK, or from another HRK
     * that signs itself */
    {
        char lines[256];
        uint8_t certs[2 * CCZ_CSV_CA_CERT_SIZE + CCZ_CSV_CERT_SIZE];
        memcpy(certs, hrk.cert, CCZ_CSV_CA_CERT_SIZE);
        memcpy(certs + CCZ_CSV_CA_CERT_SIZE, hsk.cert, CCZ_CSV_CA_CERT_SIZE);
        memcpy(certs + 2 * CCZ_CSV_CA_CERT_SIZE, cek.cert, CCZ_CSV_CERT_SIZE);
        CHECK_OK(ccz_csv_chain_check(lines, sizeof lines, CCZ_SPAN(certs, sizeof certs), t));
        CHECK_STR(lines, "HRK self-signature: ok\nHRK -> HSK: ok\nHSK -> CEK: ok\n");
        party other_hrk;
        ca(&other_hrk, CCZ_CSV_USAGE_HRK, "HYGON-SSD-HRK", NULL);
        CHECK_STATUS(ccz_csv_chain_check(lines, sizeof lines,
                                         CCZ_SPAN(other_hrk.cert, CCZ_CSV_CA_CERT_SIZE), t),
                     CCZ_ERR_CERT_CHAIN);
        CHECK_CONTAINS(ccz_error_detail(), "signs itself but is not the trusted HRK");
        EVP_PKEY_free(other_hrk.key);
    }
    /* unknown wrapper flags */
    report(&ev, 2, rd, rtmr);
    ev.ptr[16] = 2;
    static ccz_csv_evidence e;
    CHECK_STATUS(ccz_csv_evidence_parse(&e, ccz_buf_span(&ev)), CCZ_ERR_UNSUPPORTED_VERSION);
    ccz_eventlog_free(l);
    ccz_collateral_free(col);
    ccz_trust_free(builtin);
    ccz_trust_free(t);
    ccz_buf_free(&ev);
    ccz_buf_free(&log);
    chain_free();
}

/* The chain's inputs: a bundle of exactly an HSK then a CEK; an HRK that signs itself; an HRK
 * first only in a chain given as certificates; a trust store whose HRK is replaced forgets the
 * chains it verified; trustee's JSON with its own "hsk_cek"; its event log replayed to rtmr1 and
 * rtmr4 too. */
static void test_chain_inputs(void)
{
    chain_make();
    uint8_t b[CCZ_CSV_HSK_CEK_SIZE + 1] = {0};
    ccz_collateral *col = NULL;
    memcpy(b, hrk.cert, CCZ_CSV_CA_CERT_SIZE);
    memcpy(b + CCZ_CSV_CA_CERT_SIZE, cek.cert, CCZ_CSV_CERT_SIZE);
    CHECK_STATUS(ccz_csv_collateral_new(&col, CCZ_SPAN(b, CCZ_CSV_HSK_CEK_SIZE)),
                 CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "the bundle's first certificate is not an HSK (usage 0x0)");
    memcpy(b, hsk.cert, CCZ_CSV_CA_CERT_SIZE);
    memcpy(b + CCZ_CSV_CA_CERT_SIZE, pek.cert, CCZ_CSV_CERT_SIZE);
    CHECK_STATUS(ccz_csv_collateral_new(&col, CCZ_SPAN(b, CCZ_CSV_HSK_CEK_SIZE)),
                 CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(),
                   "the bundle's second certificate is not a CEK (usage 0x1002)");
    memcpy(b + CCZ_CSV_CA_CERT_SIZE, cek.cert, CCZ_CSV_CERT_SIZE);
    CHECK_STATUS(ccz_csv_collateral_new(&col, CCZ_SPAN(b, sizeof b)), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "an HSK/CEK bundle is 2916 bytes (HSK 832, then CEK 2084), "
                                       "not 2917");
    CHECK(col == NULL);
    /* an HRK whose self-signature does not hold */
    ccz_trust *t;
    CHECK_OK(ccz_trust_new(&t));
    uint8_t bad[CCZ_CSV_CA_CERT_SIZE];
    memcpy(bad, hrk.cert, sizeof bad);
    bad[576] ^= 1; /* r's lowest byte */
    CHECK_STATUS(ccz_trust_add_hygon_hrk(t, CCZ_SPAN(bad, sizeof bad)), CCZ_ERR_BAD_SIGNATURE);
    CHECK_CONTAINS(ccz_error_detail(), "the HRK does not sign itself");
    CHECK_OK(ccz_trust_add_hygon_hrk(t, CCZ_SPAN(hrk.cert, hrk.len)));
    /* the trusted HRK twice */
    char lines[256];
    uint8_t two[2 * CCZ_CSV_CA_CERT_SIZE];
    memcpy(two, hrk.cert, CCZ_CSV_CA_CERT_SIZE);
    memcpy(two + CCZ_CSV_CA_CERT_SIZE, hrk.cert, CCZ_CSV_CA_CERT_SIZE);
    CHECK_STATUS(ccz_csv_chain_check(lines, sizeof lines, CCZ_SPAN(two, sizeof two), t),
                 CCZ_ERR_CERT_CHAIN);
    CHECK_CONTAINS(ccz_error_detail(), "an HRK can only come first");
    /* trustee's JSON with the HSK and CEK in it: no collateral needed */
    ccz_buf ev = CCZ_BUF_INIT, log = CCZ_BUF_INIT, js = CCZ_BUF_INIT;
    uint8_t rd[64] = "nonce", rtmr[5][32];
    eventlog(&log, rtmr);
    report(&ev, 2, rd, rtmr);
    json_hsk_cek = true;
    evidence_json(&js, &ev, &log);
    json_hsk_cek = false;
    ccz_verify_opts o = CCZ_VERIFY_OPTS_INIT;
    o.trust = t;
    static ccz_result r;
    CHECK_OK(ccz_verify(&r, ccz_buf_span(&js), &o));
    CHECK_STR(r.claims.csv.chip_serial, "TESTCHIP0001");
    /* its event log against rtmr1 and rtmr4 */
    col = chain_collateral();
    o.collateral = col;
    for (int i = 1; i <= 4; i += 3) {
        uint8_t other[5][32];
        memcpy(other, rtmr, sizeof other);
        other[i][31] ^= 1;
        report(&ev, 2, rd, other);
        evidence_json(&js, &ev, &log);
        CHECK_STATUS(ccz_verify(&r, ccz_buf_span(&js), &o), CCZ_ERR_REPLAY_MISMATCH);
        CHECK_STR(r.step, "eventlog");
        CHECK_CONTAINS(r.message, i == 1 ? "rtmr1 of" : "rtmr4 of");
    }
    /* an event log of SHA-256 digests only */
    log_alg = 0x0b;
    eventlog(&log, rtmr);
    log_alg = 0x12;
    report(&ev, 2, rd, rtmr);
    evidence_json(&js, &ev, &log);
    CHECK_STATUS(ccz_verify(&r, ccz_buf_span(&js), &o), CCZ_ERR_UNSUPPORTED);
    CHECK_STR(r.step, "eventlog");
    CHECK_CONTAINS(r.message, "the evidence's event log has no SM3 digests");
    eventlog(&log, rtmr);
    /* the collateral verified this chain under t; t's HRK replaced, it does not anchor it */
    report(&ev, 2, rd, rtmr);
    CHECK_OK(ccz_verify(&r, ccz_buf_span(&ev), &o));
    party other_hrk;
    ca(&other_hrk, CCZ_CSV_USAGE_HRK, "HYGON-SSD-HRK", NULL);
    CHECK_OK(ccz_trust_add_hygon_hrk(t, CCZ_SPAN(other_hrk.cert, other_hrk.len)));
    CHECK_STATUS(ccz_verify(&r, ccz_buf_span(&ev), &o), CCZ_ERR_CERT_CHAIN);
    CHECK_STR(r.step, "platform_certificate");
    CHECK_CONTAINS(r.message, "HRK -> HSK");
    EVP_PKEY_free(other_hrk.key);
    ccz_collateral_free(col);
    ccz_trust_free(t);
    ccz_buf_free(&ev);
    ccz_buf_free(&log);
    ccz_buf_free(&js);
    chain_free();
}

/* The checks of one certificate by its signer that a chain of genuine signatures can still fail:
 * a CA certificate names its signer (sid = the HRK's kid) and only an HRK signs one; a signature
 * slot counts only when its usage is the signer's; a report says the PEK signed it. */
static void test_signer_checks(void)
{
    chain_make();
    ccz_csv_cert h, k, x;
    CHECK_OK(ccz_csv_cert_parse(&h, CCZ_SPAN(hrk.cert, hrk.len)));
    CHECK_OK(ccz_csv_cert_parse(&k, CCZ_SPAN(hsk.cert, hsk.len)));
    /* an HSK the HRK signed, whose sid names another key */
    party other;
    ca(&other, CCZ_CSV_USAGE_HSK, "HYGON-SSD-HSK", &hrk);
    memset(other.cert + 20, 0xee, 16);
    sign(other.cert + 576, other.cert + 648, &hrk, other.cert, 576);
    CHECK_OK(ccz_csv_cert_parse(&x, CCZ_SPAN(other.cert, other.len)));
    CHECK_STATUS(ccz_csv_cert_verify(&h, &x), CCZ_ERR_BAD_SIGNATURE);
    CHECK_CONTAINS(ccz_error_detail(), "names another signer (its sid is not the HRK's kid)");
    /* all 16 bytes of the sid count: the HRK's kid but for its last byte */
    memcpy(other.cert + 20, hrk.kid, 16);
    other.cert[20 + 15] ^= 1;
    sign(other.cert + 576, other.cert + 648, &hrk, other.cert, 576);
    CHECK_OK(ccz_csv_cert_parse(&x, CCZ_SPAN(other.cert, other.len)));
    CHECK_STATUS(ccz_csv_cert_verify(&h, &x), CCZ_ERR_BAD_SIGNATURE);
    CHECK_CONTAINS(ccz_error_detail(), "names another signer (its sid is not the HRK's kid)");
    EVP_PKEY_free(other.key);
    /* a CA certificate the HSK signed (sid = the HSK's kid) */
    ca(&other, CCZ_CSV_USAGE_HSK, "HYGON-SSD-HSK", &hsk);
    CHECK_OK(ccz_csv_cert_parse(&x, CCZ_SPAN(other.cert, other.len)));
    CHECK_STATUS(ccz_csv_cert_verify(&k, &x), CCZ_ERR_BAD_SIGNATURE);
    CHECK_CONTAINS(ccz_error_detail(), "a CA certificate is signed by an HRK, and the signer's "
                                       "usage is 0x13");
    EVP_PKEY_free(other.key);
    /* a CEK the HSK signed, its signature slot saying another key's usage (the slot is not in
     * the signed part) */
    csv(&other, CCZ_CSV_USAGE_CEK, "HYGON-SSD-CEK", &hsk);
    CHECK_OK(ccz_csv_cert_parse(&x, CCZ_SPAN(other.cert, other.len)));
    CHECK_OK(ccz_csv_cert_verify(&k, &x));
    put_le32(other.cert + 1044, CCZ_CSV_USAGE_OCA);
    CHECK_OK(ccz_csv_cert_parse(&x, CCZ_SPAN(other.cert, other.len)));
    CHECK_STATUS(ccz_csv_cert_verify(&k, &x), CCZ_ERR_BAD_SIGNATURE);
    CHECK_CONTAINS(ccz_error_detail(), "no signature by a key of usage 0x13");
    EVP_PKEY_free(other.key);
    /* a report the PEK signed that says the CEK did */
    ccz_trust *t = chain_trust();
    ccz_collateral *col = chain_collateral();
    ccz_buf ev = CCZ_BUF_INIT;
    uint8_t rd[64] = "nonce", rtmr[5][32] = {{0}};
    ccz_verify_opts o = CCZ_VERIFY_OPTS_INIT;
    o.trust = t;
    o.collateral = col;
    o.expected_report_data = rd;
    static ccz_result r;
    report(&ev, 2, rd, rtmr);
    CHECK_OK(ccz_verify(&r, ccz_buf_span(&ev), &o));
    report_sig_usage = CCZ_CSV_USAGE_CEK;
    report(&ev, 2, rd, rtmr);
    report_sig_usage = CCZ_CSV_USAGE_PEK;
    CHECK_STATUS(ccz_verify(&r, ccz_buf_span(&ev), &o), CCZ_ERR_UNSUPPORTED);
    CHECK_CONTAINS(r.message, "signed by a key of usage 0x1004 with algorithm 4, not the PEK "
                              "(0x1002) with SM2 (4)");
    ccz_collateral_free(col);
    ccz_trust_free(t);
    ccz_buf_free(&ev);
    chain_free();
}

static void mask(uint8_t *p, size_t n, uint32_t anonce)
{
    for (size_t i = 0; i < n; i++)
        p[i] ^= (uint8_t)(anonce >> (8 * (i % 4)));
}

/* A wrapped version 1 report by the PEK, as firmware masks it with an anonce: its signer area
 * holds signer_pek (masked) and a MAC keyed with the mnonce over that area */
static void report_v1(ccz_buf *wrapped, const uint8_t rd[64], const uint8_t *signer_pek)
{
    const uint32_t anonce = 0x5a3c9617;
    uint8_t w[CCZ_CSV_WRAPPED_SIZE] = {0}; /* zero magic and flags: version 1 */
    uint8_t *d = w + 20, mnonce[16];
    memset(mnonce, 0x66, sizeof mnonce);
    memset(d + 0x20, 0x11, 16); /* vm_id */
    memcpy(d + 0x40, rd, 64);   /* report_data */
    memcpy(d + 0x80, mnonce, 16);
    memset(d + 0x90, 0x33, 32); /* measure */
    mask(d, 0xb0, anonce);
    put_le32(d + 0xb0, report_policy ^ anonce);
    put_le32(d + 0xb4, CCZ_CSV_USAGE_PEK ^ anonce);
    put_le32(d + 0xb8, 4 ^ anonce);
    put_le32(d + 0xbc, anonce);
    sign(d + 0xc0, d + 0xc0 + 72, &pek, d, 0xb4);
    uint8_t *area = d + 0x150;
    memcpy(area, signer_pek, CCZ_CSV_CERT_SIZE);
    memcpy(area + CCZ_CSV_CERT_SIZE, "TESTCHIP0001", 12);
    mask(area, CCZ_CSV_CERT_SIZE + 64, anonce);
    unsigned n = 0;
    CHECK(HMAC(EVP_sm3(), mnonce, 16, area, CCZ_CSV_CERT_SIZE + 96, area + CCZ_CSV_CERT_SIZE + 96,
               &n) &&
          n == 32);
    ccz_buf_reset(wrapped);
    CHECK_OK(ccz_buf_append(wrapped, w, sizeof w));
}

/* trustee's JSON around that version 1 report */
static void report_v1_json(ccz_buf *js, const uint8_t rd[64], const uint8_t *signer_pek,
                           const ccz_buf *log)
{
    ccz_buf wrapped = CCZ_BUF_INIT;
    report_v1(&wrapped, rd, signer_pek);
    evidence_json(js, &wrapped, log);
    ccz_buf_free(&wrapped);
}

/* Version 1 in trustee's JSON: the MAC is checked when the signer area's PEK is the one the
 * report is verified with (cert_chain's), and not otherwise (mac_checked says which); and a
 * caller's event log is replayed in place of the evidence's own "cc_eventlog". */
static void test_json_mac_and_eventlog(void)
{
    chain_make();
    ccz_trust *t = chain_trust();
    ccz_collateral *col = chain_collateral();
    ccz_buf js = CCZ_BUF_INIT, log = CCZ_BUF_INIT, ev = CCZ_BUF_INIT;
    uint8_t rd[64] = "v1 nonce", rtmr[5][32];
    eventlog(&log, rtmr);
    ccz_verify_opts o = CCZ_VERIFY_OPTS_INIT;
    o.trust = t;
    o.collateral = col;
    o.expected_report_data = rd;
    static ccz_result r;
    report_v1_json(&js, rd, pek.cert, &log);
    CHECK_INT(ccz_evidence_detect(ccz_buf_span(&js)), CCZ_TEE_CSV);
    CHECK_OK(ccz_verify(&r, ccz_buf_span(&js), &o));
    CHECK_INT(r.claims.csv.version, 1);
    CHECK_INT(r.claims.csv.anonce, 0x5a3c9617);
    CHECK_INT(r.claims.csv.vm_id[0], 0x11);
    CHECK_STR(r.claims.csv.chip_serial, "TESTCHIP0001");
    CHECK(r.claims.csv.mac_checked);
    /* the MAC broken: the signer area is not the firmware's */
    json_t *d = json_loadb((const char *)js.ptr, js.len, 0, NULL);
    json_t *data = json_object_get(json_object_get(d, "attestation_report"), "data");
    size_t mac_at = 0x150 + CCZ_CSV_CERT_SIZE + 96;
    json_array_set_new(data, mac_at,
                       json_integer(json_integer_value(json_array_get(data, mac_at)) ^ 1));
    char *text = json_dumps(d, JSON_COMPACT);
    CHECK_STATUS(ccz_verify(&r, CCZ_SPAN(text, strlen(text)), &o), CCZ_ERR_BINDING);
    CHECK_STR(r.step, "signature");
    CHECK_CONTAINS(r.message, "the report's MAC");
    free(text);
    json_decref(d);
    /* a signer area naming another PEK: its MAC binds nothing we verified, so it is not checked
     * and the claims say so */
    uint8_t other[CCZ_CSV_CERT_SIZE];
    memcpy(other, pek.cert, sizeof other);
    other[100] ^= 1;
    report_v1_json(&js, rd, other, &log);
    CHECK_OK(ccz_verify(&r, ccz_buf_span(&js), &o));
    CHECK_INT(r.claims.csv.version, 1);
    CHECK(!r.claims.csv.mac_checked);
    /* a caller's event log with a version 1 report: it has no RTMRs to replay the log into */
    ccz_eventlog *l1;
    CHECK_OK(ccz_eventlog_parse(&l1, ccz_buf_span(&log)));
    o.eventlog = l1;
    CHECK_STATUS(ccz_verify(&r, ccz_buf_span(&js), &o), CCZ_ERR_UNSUPPORTED);
    CHECK_STR(r.step, "eventlog");
    CHECK_CONTAINS(r.message, "a version 1 CSV report has no RTMRs");
    o.eventlog = NULL;
    ccz_eventlog_free(l1);
    /* version 2 JSON whose own log has no SM3 digests: refused, unless the caller gives a log,
     * which is replayed instead and is the one the claims carry */
    log_alg = 0x0b;
    ccz_buf sha = CCZ_BUF_INIT;
    uint8_t unused[5][32];
    eventlog(&sha, unused);
    log_alg = 0x12;
    report(&ev, 2, rd, rtmr);
    evidence_json(&js, &ev, &sha);
    CHECK_STATUS(ccz_verify(&r, ccz_buf_span(&js), &o), CCZ_ERR_UNSUPPORTED);
    CHECK_STR(r.step, "eventlog");
    CHECK_CONTAINS(r.message, "the evidence's event log has no SM3 digests");
    ccz_eventlog *l;
    CHECK_OK(ccz_eventlog_parse(&l, ccz_buf_span(&log)));
    o.eventlog = l;
    CHECK_OK(ccz_verify(&r, ccz_buf_span(&js), &o));
    CHECK(r.claims.eventlog == l);
    CHECK(memcmp(r.claims.csv.rtmr, rtmr, sizeof rtmr) == 0);
    ccz_eventlog_free(l);
    ccz_buf_free(&sha);
    ccz_buf_free(&ev);
    ccz_buf_free(&js);
    ccz_buf_free(&log);
    ccz_collateral_free(col);
    ccz_trust_free(t);
    chain_free();
}

/* What the parser refuses before any signature is checked, on evidence otherwise genuine: a
 * user id longer than its field, a 72-byte number above 256 bits (a signature's r or s is
 * outside what it signs: its high bytes would change nothing), a wrapper's magic, a report
 * that says another algorithm; and in trustee's JSON, numbers that do not fit their field (they
 * would be re-encoded modulo its size), an array longer than its field and an event log that is
 * not a string. */
static void test_parse_strict(void)
{
    chain_make();
    ccz_csv_cert x;
    /* uid_size: 254 is the field's size; 255 and 65535 are not */
    static const uint16_t uid[] = {254, 255, 0xffff};
    for (size_t i = 0; i < CCZ_ARRAY_LEN(uid); i++) {
        for (int k = 0; k < 2; k++) {
            party *p = k ? &pek : &hsk;
            size_t off = k ? 164 : 212;
            uint8_t save[2] = {p->cert[off], p->cert[off + 1]};
            p->cert[off] = (uint8_t)uid[i];
            p->cert[off + 1] = (uint8_t)(uid[i] >> 8);
            if (uid[i] <= 254) {
                CHECK_OK(ccz_csv_cert_parse(&x, CCZ_SPAN(p->cert, p->len)));
                CHECK_INT(x.user_id_len, 254);
            } else {
                CHECK_STATUS(ccz_csv_cert_parse(&x, CCZ_SPAN(p->cert, p->len)), CCZ_ERR_MALFORMED);
                CHECK_CONTAINS(ccz_error_detail(), "user id of");
            }
            memcpy(p->cert + off, save, 2);
        }
    }
    /* a byte above the 32 of a 72-byte number: the PEK's key x (signed), its signature's r
     * (not signed) */
    static const size_t high[] = {16 + 4 + 32, 16 + 4 + 40, 1052 + 32, 1052 + 40, 1124 + 71};
    for (size_t i = 0; i < CCZ_ARRAY_LEN(high); i++) {
        pek.cert[high[i]] ^= 1;
        CHECK_STATUS(ccz_csv_cert_parse(&x, CCZ_SPAN(pek.cert, pek.len)), CCZ_ERR_MALFORMED);
        CHECK_CONTAINS(ccz_error_detail(), "exceeds 256 bits");
        pek.cert[high[i]] ^= 1;
    }
    /* the PEK's second signature slot is empty (algorithm 0): what its r and s hold is not
     * read as numbers */
    CHECK_INT(pek.cert[1564 + 4], 0);
    pek.cert[1564 + 8 + 40] = 0xff;
    pek.cert[1564 + 8 + 72 + 71] = 0xff;
    CHECK_OK(ccz_csv_cert_parse(&x, CCZ_SPAN(pek.cert, pek.len)));
    CHECK_INT(x.n_sigs, 2);
    CHECK_INT(x.sigs[1].algo, 0);
    pek.cert[1564 + 8 + 40] = 0;
    pek.cert[1564 + 8 + 72 + 71] = 0;
    ccz_csv_cert c, p;
    CHECK_OK(ccz_csv_cert_parse(&c, CCZ_SPAN(cek.cert, cek.len)));
    CHECK_OK(ccz_csv_cert_parse(&p, CCZ_SPAN(pek.cert, pek.len)));
    CHECK_OK(ccz_csv_cert_verify(&c, &p));

    ccz_trust *t = chain_trust();
    ccz_collateral *col = chain_collateral();
    ccz_verify_opts o = CCZ_VERIFY_OPTS_INIT;
    o.trust = t;
    o.collateral = col;
    static ccz_result r;
    static ccz_csv_evidence e;
    ccz_buf ev = CCZ_BUF_INIT, log = CCZ_BUF_INIT, js = CCZ_BUF_INIT;
    uint8_t rd[64] = "nonce", rtmr[5][32];
    eventlog(&log, rtmr);
    report(&ev, 2, rd, rtmr);
    CHECK_OK(ccz_verify(&r, ccz_buf_span(&ev), &o));
    /* the report's r and s with a bit above 256 set: the signature over the rest still holds */
    static const size_t sig_high[] = {0x400 + 40, 0x400 + 72 + 71};
    for (size_t i = 0; i < CCZ_ARRAY_LEN(sig_high); i++) {
        ev.ptr[20 + sig_high[i]] ^= 1;
        CHECK_STATUS(ccz_verify(&r, ccz_buf_span(&ev), &o), CCZ_ERR_MALFORMED);
        CHECK_STR(r.step, "parse");
        CHECK_CONTAINS(r.message, "exceeds 256 bits");
        ev.ptr[20 + sig_high[i]] ^= 1;
    }
    /* the wrapper's magic: zero or "ATTESTATION_EXT", nothing else */
    ev.ptr[0] = 'X';
    CHECK_STATUS(ccz_csv_evidence_parse(&e, ccz_buf_span(&ev)), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "neither zero nor \"ATTESTATION_EXT\"");
    ev.ptr[0] = 'A';
    /* a magic of zeros but for its last byte is not the zero magic either */
    memset(ev.ptr, 0, 15);
    ev.ptr[15] = 1;
    CHECK_STATUS(ccz_csv_evidence_parse(&e, ccz_buf_span(&ev)), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "neither zero nor \"ATTESTATION_EXT\"");
    memcpy(ev.ptr, "ATTESTATION_EXT", 16);
    /* report versions are 1 to 3 */
    static ccz_csv_report rp;
    CHECK_OK(ccz_csv_report_parse(&rp, CCZ_SPAN(ev.ptr + 20, ev.len - 20), 3));
    CHECK_STATUS(ccz_csv_report_parse(&rp, CCZ_SPAN(ev.ptr + 20, ev.len - 20), 4),
                 CCZ_ERR_UNSUPPORTED_VERSION);
    CHECK_CONTAINS(ccz_error_detail(), "CSV report version 4 (1 to 3 are known)");
    /* the chip serial: printable ASCII (space to '~') up to the first other byte */
    uint8_t *sn = ev.ptr + 20 + 0x490 + CCZ_CSV_CERT_SIZE;
    memcpy(sn, "TEST CHIP~\x7fX", 12);
    CHECK_OK(ccz_csv_evidence_parse(&e, ccz_buf_span(&ev)));
    CHECK_STR(e.serial, "TEST CHIP~");
    ccz_csv_evidence_free(&e);
    memcpy(sn, "TESTCHIP0001", 12);
    /* blanks and then the byte after the evidence: not JSON (the '{' is not the evidence's) */
    static const char blank_brace[] = "  {";
    CHECK_STATUS(ccz_csv_evidence_parse(&e, CCZ_SPAN(blank_brace, 2)), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "CSV evidence: 2 bytes is neither a version 1 report");
    /* a report the PEK signed that says SM2_DH (5) */
    report_sig_algo = 5;
    report(&ev, 2, rd, rtmr);
    report_sig_algo = 4;
    CHECK_STATUS(ccz_verify(&r, ccz_buf_span(&ev), &o), CCZ_ERR_UNSUPPORTED);
    CHECK_CONTAINS(r.message, "with algorithm 5");
    /* trustee's JSON: as made, it verifies; then one defect each */
    report(&ev, 2, rd, rtmr);
    evidence_json(&js, &ev, &log);
    CHECK_OK(ccz_verify(&r, ccz_buf_span(&js), &o));
    static const struct {
        const char *what, *detail; /* the defect, what the error says */
    } bad[] = {
        {"data[64] + 256", "\"data\"[64] is not a byte"},
        {"data[64] = -1", "\"data\"[64] is not a byte"},
        {"data + one", "\"data\" is not an array of 4096 bytes"},
        {"flags + 2^32", "\"flags\" is not an unsigned 4-byte integer"},
        {"major + 256", "\"body.data.firmware.major\" is not an unsigned 1-byte integer"},
        {"magic", "neither zero nor \"ATTESTATION_EXT\""},
        {"cc_eventlog", "\"cc_eventlog\" is not a base64 string"},
        {"flags = -1", "\"flags\" is not an unsigned 4-byte integer"},
        {"sigs + one", "\"sigs\" is not an array of 2 signatures"},
    };
    /* "flags" of 2^32 - 1 is a 4-byte integer, just not a known one */
    {
        json_t *d = json_loadb((const char *)js.ptr, js.len, 0, NULL);
        json_object_set_new(json_object_get(d, "attestation_report"), "flags",
                            json_integer(0xffffffffll));
        char *text = json_dumps(d, JSON_COMPACT);
        json_decref(d);
        CHECK_STATUS(ccz_verify(&r, CCZ_SPAN(text, strlen(text)), &o), CCZ_ERR_UNSUPPORTED_VERSION);
        CHECK_CONTAINS(r.message, "flags 0xffffffff (0, 1 or 3 are known)");
        free(text);
    }
    for (size_t i = 0; i < CCZ_ARRAY_LEN(bad); i++) {
        json_t *d = json_loadb((const char *)js.ptr, js.len, 0, NULL);
        json_t *rep = json_object_get(d, "attestation_report");
        json_t *data = json_object_get(rep, "data");
        json_t *fw = json_object_get(
            json_object_get(
                json_object_get(json_object_get(json_object_get(d, "cert_chain"), "pek"), "body"),
                "data"),
            "firmware");
        switch (i) {
        case 0:
            json_array_set_new(data, 64,
                               json_integer(json_integer_value(json_array_get(data, 64)) + 256));
            break;
        case 1:
            json_array_set_new(data, 64, json_integer(-1));
            break;
        case 2:
            json_array_append_new(data, json_integer(0));
            break;
        case 3:
            json_object_set_new(
                rep, "flags",
                json_integer(json_integer_value(json_object_get(rep, "flags")) + (1ll << 32)));
            break;
        case 4:
            json_object_set_new(
                fw, "major", json_integer(json_integer_value(json_object_get(fw, "major")) + 256));
            break;
        case 5:
            json_array_set_new(json_object_get(rep, "magic"), 0, json_integer('X'));
            break;
        case 6:
            json_object_set_new(d, "cc_eventlog", json_integer(5));
            break;
        case 7:
            json_object_set_new(rep, "flags", json_integer(-1));
            break;
        case 8: {
            json_t *sigs =
                json_object_get(json_object_get(json_object_get(d, "cert_chain"), "pek"), "sigs");
            json_array_append(sigs, json_array_get(sigs, 1));
            break;
        }
        }
        char *text = json_dumps(d, JSON_COMPACT);
        json_decref(d);
        CHECK_STATUS(ccz_verify(&r, CCZ_SPAN(text, strlen(text)), &o), CCZ_ERR_MALFORMED);
        CHECK_STR(r.step, "parse");
        CHECK_CONTAINS(r.message, bad[i].detail);
        free(text);
    }
    ccz_collateral_free(col);
    ccz_trust_free(t);
    ccz_buf_free(&ev);
    ccz_buf_free(&log);
    ccz_buf_free(&js);
    chain_free();
}

/* One certificate against its signer, at the edges the chain above does not reach: the curve
 * and size a certificate must have; a signature found in either slot and with either SM2
 * algorithm (an SM2_DH slot's numbers are read as strictly as an SM2_SA one's); a slot of the
 * signer's usage that does not verify, named as such; a CSV certificate of usage 0 is no HRK,
 * neither as a CA certificate's signer nor as a trust anchor; a chain of no certificate, or
 * with no HRK trusted. */
static void test_cert_edges(void)
{
    chain_make();
    ccz_csv_cert x, c;
    CHECK_OK(ccz_csv_cert_parse(&c, CCZ_SPAN(cek.cert, cek.len)));
    /* a key on another curve than SM2-256 (3): a CSV and a CA certificate */
    put_le32(pek.cert + 16, 2);
    CHECK_STATUS(ccz_csv_cert_parse(&x, CCZ_SPAN(pek.cert, pek.len)), CCZ_ERR_UNSUPPORTED);
    CHECK_CONTAINS(ccz_error_detail(), "key on curve 2, not SM2-256 (3)");
    put_le32(pek.cert + 16, 3);
    put_le32(hsk.cert + 64, 4);
    CHECK_STATUS(ccz_csv_cert_parse(&x, CCZ_SPAN(hsk.cert, hsk.len)), CCZ_ERR_UNSUPPORTED);
    CHECK_CONTAINS(ccz_error_detail(), "key on curve 4, not SM2-256 (3)");
    put_le32(hsk.cert + 64, 3);
    /* a size that is neither: short of a CA certificate is truncated, between the two is not */
    CHECK_STATUS(ccz_csv_cert_parse(&x, CCZ_SPAN(hsk.cert, CCZ_CSV_CA_CERT_SIZE - 1)),
                 CCZ_ERR_TRUNCATED);
    CHECK_CONTAINS(ccz_error_detail(),
                   "CSV certificate: 831 bytes (a CA certificate is 832, a CSV certificate 2084)");
    CHECK_STATUS(ccz_csv_cert_parse(&x, CCZ_SPAN(pek.cert, CCZ_CSV_CA_CERT_SIZE + 1)),
                 CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "CSV certificate: 833 bytes");
    /* the CEK's signature in the second slot, the first an OCA's */
    uint8_t moved[CCZ_CSV_CERT_SIZE];
    memcpy(moved, pek.cert, sizeof moved);
    memcpy(moved + 1564, pek.cert + 1044, 520);
    put_le32(moved + 1044, CCZ_CSV_USAGE_OCA);
    CHECK_OK(ccz_csv_cert_parse(&x, CCZ_SPAN(moved, sizeof moved)));
    CHECK_OK(ccz_csv_cert_verify(&c, &x));
    /* the CEK's slot said SM2_DH (5): it still counts, and its r is read as a number */
    memcpy(moved, pek.cert, sizeof moved);
    put_le32(moved + 1048, 5);
    CHECK_OK(ccz_csv_cert_parse(&x, CCZ_SPAN(moved, sizeof moved)));
    CHECK_OK(ccz_csv_cert_verify(&c, &x));
    moved[1052 + 40] = 1;
    CHECK_STATUS(ccz_csv_cert_parse(&x, CCZ_SPAN(moved, sizeof moved)), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "a signature's r exceeds 256 bits");
    /* the CEK's slot there, its signature not the CEK's */
    memcpy(moved, pek.cert, sizeof moved);
    moved[1052] ^= 1;
    CHECK_OK(ccz_csv_cert_parse(&x, CCZ_SPAN(moved, sizeof moved)));
    CHECK_STATUS(ccz_csv_cert_verify(&c, &x), CCZ_ERR_BAD_SIGNATURE);
    CHECK_STR(ccz_error_detail(), "the SM2 signature by the key of usage 0x1004 does not verify");
    /* a CSV certificate of usage 0 (the HRK's) that signs itself, and a CA certificate whose sid
     * is its (zero) kid, signed by it */
    party fake;
    fake.usage = CCZ_CSV_USAGE_HRK, fake.uid = "HYGON-SSD-HRK";
    csv(&fake, CCZ_CSV_USAGE_HRK, "HYGON-SSD-HRK", &fake);
    ccz_csv_cert f;
    CHECK_OK(ccz_csv_cert_parse(&f, CCZ_SPAN(fake.cert, fake.len)));
    CHECK_OK(ccz_csv_cert_verify(&f, &f));
    ccz_trust *t;
    CHECK_OK(ccz_trust_new(&t));
    CHECK_STATUS(ccz_trust_add_hygon_hrk(t, CCZ_SPAN(fake.cert, fake.len)), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(),
                   "not an HRK (a CA certificate of usage 0, this one's is 0x0)");
    party h2 = hsk;
    memset(h2.cert + 20, 0, 16);
    sign(h2.cert + 576, h2.cert + 648, &fake, h2.cert, 576);
    CHECK_OK(ccz_csv_cert_parse(&x, CCZ_SPAN(h2.cert, h2.len)));
    CHECK_STATUS(ccz_csv_cert_verify(&f, &x), CCZ_ERR_BAD_SIGNATURE);
    CHECK_CONTAINS(ccz_error_detail(), "a CA certificate is signed by an HRK, and the signer's "
                                       "usage is 0x0");
    EVP_PKEY_free(fake.key);
    /* a chain given as certificates: with no HRK trusted; of no certificate */
    char lines[256];
    CHECK_STATUS(ccz_csv_chain_check(lines, sizeof lines, CCZ_SPAN(hsk.cert, hsk.len), t),
                 CCZ_ERR_CERT_CHAIN);
    CHECK_STR(ccz_error_detail(), "no Hygon root key (HRK) is trusted");
    CHECK_OK(ccz_trust_add_hygon_hrk(t, CCZ_SPAN(hrk.cert, hrk.len)));
    CHECK_OK(ccz_csv_chain_check(lines, sizeof lines, CCZ_SPAN(hsk.cert, hsk.len), t));
    CHECK_STR(lines, "HRK -> HSK: ok\n");
    CHECK_STATUS(ccz_csv_chain_check(lines, sizeof lines, CCZ_SPAN(hsk.cert, 0), t),
                 CCZ_ERR_TRUNCATED);
    CHECK_STR(ccz_error_detail(), "no certificate given");
    CHECK_STR(lines, "");
    ccz_trust_free(t);
    chain_free();
}

/* A JSON evidence document, edited: what edit does to it */
static char *json_edited(const ccz_buf *js, void (*edit)(json_t *))
{
    json_t *d = json_loadb((const char *)js->ptr, js->len, 0, NULL);
    CHECK(d != NULL);
    edit(d);
    char *text = json_dumps(d, JSON_COMPACT);
    json_decref(d);
    return text;
}

static void null_hsk_cek_and_log(json_t *d)
{
    json_object_set_new(json_object_get(d, "cert_chain"), "hsk_cek", json_null());
    json_object_set_new(d, "cc_eventlog", json_null());
}

static void no_pek(json_t *d)
{
    json_object_del(json_object_get(d, "cert_chain"), "pek");
}

static void serial_del(json_t *d)
{
    json_array_set_new(json_object_get(d, "serial_number"), 4, json_integer(0x7f));
}

static void own_hsk_broken(json_t *d)
{
    json_t *r = json_object_get(
        json_object_get(json_object_get(json_object_get(d, "cert_chain"), "hsk_cek"), "hsk"),
        "signature");
    json_t *a = json_object_get(r, "r");
    json_array_set_new(a, 3, json_integer(json_integer_value(json_array_get(a, 3)) ^ 1));
}

/* The report's forms and claims at their edges: version 1's fields unmasked for the claims
 * (policy, user_pubkey_digest, vm_version, measurement), "ATTESTATION_EXT" with flags 0 as
 * version 1, a MAC only version 1 has, the nodbg bit alone saying debug, JSON's null members,
 * a "cert_chain" without a PEK, the JSON serial cut at a control byte, blanks before JSON, the
 * caller's HSK/CEK taken over the evidence's, what is detected as CSV, a chip serial the
 * evidence lacks or that is no safe URL part. */
static void test_report_forms(void)
{
    chain_make();
    ccz_trust *t = chain_trust();
    ccz_collateral *col = chain_collateral();
    ccz_buf w = CCZ_BUF_INIT, js = CCZ_BUF_INIT, log = CCZ_BUF_INIT, ev = CCZ_BUF_INIT;
    uint8_t rd[64] = "v1 nonce", rtmr[5][32];
    static const uint8_t zero[32];
    eventlog(&log, rtmr);
    ccz_verify_opts o = CCZ_VERIFY_OPTS_INIT;
    o.trust = t;
    o.collateral = col;
    o.expected_report_data = rd;
    static ccz_result r;
    static ccz_csv_evidence e;
    /* version 1, masked: each field unmasked */
    report_v1(&w, rd, pek.cert);
    CHECK_OK(ccz_verify(&r, ccz_buf_span(&w), &o));
    CHECK_INT(r.claims.csv.version, 1);
    CHECK(r.claims.csv.mac_checked);
    CHECK_INT(r.claims.csv.policy, 0x45);
    CHECK(!r.claims.debug);
    CHECK(memcmp(r.claims.csv.user_pubkey_digest, zero, 32) == 0);
    CHECK(memcmp(r.claims.csv.vm_version, zero, 16) == 0);
    CHECK_INT(r.claims.csv.measurement[0], 0x33);
    CHECK_INT(r.claims.csv.measurement[31], 0x33);
    /* as a bare report: what detection looks at is the PEK's usage and SM2, once unmasked */
    ccz_span bare = CCZ_SPAN(w.ptr + 20, CCZ_CSV_REPORT_V1_SIZE);
    CHECK_INT(ccz_evidence_detect(bare), CCZ_TEE_CSV);
    CHECK_OK(ccz_verify(&r, bare, &o));
    CHECK(r.claims.csv.mac_checked);
    for (size_t off = 0xb4; off <= 0xb8; off += 4) {
        w.ptr[20 + off] ^= 1;
        CHECK(ccz_evidence_detect(bare) != CCZ_TEE_CSV);
        w.ptr[20 + off] ^= 1;
    }
    /* the report's MAC is version 1's */
    report(&ev, 2, rd, rtmr);
    static ccz_csv_report rp;
    CHECK_OK(ccz_csv_report_parse(&rp, CCZ_SPAN(ev.ptr + 20, ev.len - 20), 2));
    CHECK_STATUS(ccz_csv_report_check_mac(&rp), CCZ_ERR_UNSUPPORTED);
    CHECK_CONTAINS(ccz_error_detail(), "only version 1 reports carry a MAC");
    /* "ATTESTATION_EXT" with flags 0 is version 1 */
    memcpy(w.ptr, "ATTESTATION_EXT", 16);
    CHECK_INT(ccz_evidence_detect(ccz_buf_span(&w)), CCZ_TEE_CSV);
    CHECK_OK(ccz_verify(&r, ccz_buf_span(&w), &o));
    CHECK_INT(r.claims.csv.version, 1);
    CHECK(r.claims.csv.mac_checked);
    /* a wrapped report's size with another magic is not CSV */
    w.ptr[0] = 'X';
    CHECK(ccz_evidence_detect(ccz_buf_span(&w)) != CCZ_TEE_CSV);
    /* the nodbg bit alone: noks (bit 1) set, nodbg clear is a debug guest */
    report_policy = 0x46;
    report(&ev, 2, rd, rtmr);
    report_policy = 0x45;
    CHECK_OK(ccz_verify(&r, ccz_buf_span(&ev), &o));
    CHECK_INT(r.claims.csv.policy, 0x46);
    CHECK(r.claims.debug);
    /* trustee's JSON: "hsk_cek" and "cc_eventlog" null are absent */
    report(&ev, 2, rd, rtmr);
    evidence_json(&js, &ev, &log);
    char *text = json_edited(&js, null_hsk_cek_and_log);
    CHECK_OK(ccz_verify(&r, CCZ_SPAN(text, strlen(text)), &o));
    CHECK_OK(ccz_csv_evidence_parse(&e, CCZ_SPAN(text, strlen(text))));
    CHECK(!e.has_hsk_cek);
    CHECK_INT(e.eventlog.len, 0);
    ccz_csv_evidence_free(&e);
    free(text);
    /* no "cert_chain"."pek" */
    text = json_edited(&js, no_pek);
    CHECK_STATUS(ccz_verify(&r, CCZ_SPAN(text, strlen(text)), &o), CCZ_ERR_MALFORMED);
    CHECK_STR(r.step, "parse");
    CHECK_CONTAINS(r.message, "no \"cert_chain\".\"pek\"");
    free(text);
    /* "serial_number" up to its first byte outside space..'~' */
    text = json_edited(&js, serial_del);
    CHECK_OK(ccz_verify(&r, CCZ_SPAN(text, strlen(text)), &o));
    CHECK_STR(r.claims.csv.chip_serial, "TEST");
    free(text);
    /* blanks (a tab among them) before the JSON */
    ccz_buf blank = CCZ_BUF_INIT;
    CHECK_OK(ccz_buf_append_str(&blank, " \t\n"));
    CHECK_OK(ccz_buf_append(&blank, js.ptr, js.len));
    CHECK_OK(ccz_csv_evidence_parse(&e, ccz_buf_span(&blank)));
    CHECK(e.json);
    ccz_csv_evidence_free(&e);
    ccz_buf_free(&blank);
    /* JSON with "attestation_report" but no "cert_chain" is not CSV */
    static const char no_chain[] = "{\"attestation_report\": {}}";
    CHECK(ccz_evidence_detect(CCZ_SPAN(no_chain, sizeof no_chain - 1)) != CCZ_TEE_CSV);
    /* the evidence's own HSK/CEK broken: the caller's bundle is the one used */
    json_hsk_cek = true;
    evidence_json(&js, &ev, &log);
    json_hsk_cek = false;
    text = json_edited(&js, own_hsk_broken);
    CHECK_OK(ccz_verify(&r, CCZ_SPAN(text, strlen(text)), &o));
    o.collateral = NULL;
    CHECK_STATUS(ccz_verify(&r, CCZ_SPAN(text, strlen(text)), &o), CCZ_ERR_CERT_CHAIN);
    CHECK_CONTAINS(r.message, "HRK -> HSK");
    free(text);
    /* a serial of all 64 bytes is kept whole; a signer area that names no chip is said to */
    uint8_t *sn = ev.ptr + 20 + 0x490 + CCZ_CSV_CERT_SIZE;
    memset(sn, 'K', 64);
    CHECK_OK(ccz_csv_evidence_parse(&e, ccz_buf_span(&ev)));
    CHECK_INT(strlen(e.serial), 64);
    ccz_csv_evidence_free(&e);
    memset(sn, 0, 64);
    CHECK_STATUS(ccz_verify(&r, ccz_buf_span(&ev), &o), CCZ_ERR_COLLATERAL_MISSING);
    CHECK_CONTAINS(r.message, "the HSK and CEK of chip (unknown), which the evidence lacks");
    /* and fetching its HSK/CEK stops before any request: no serial; one that is no safe file
     * or URL part */
    ccz_csv_fetch_opts fo = CCZ_CSV_FETCH_OPTS_INIT;
    fo.kds_url = "https://127.0.0.1:1";
    ccz_buf out = CCZ_BUF_INIT;
    bool cached = true;
    CHECK_STATUS(ccz_csv_hsk_cek_fetch(&out, &cached, ccz_buf_span(&ev), &fo), CCZ_ERR_NOT_FOUND);
    CHECK_CONTAINS(ccz_error_detail(), "the evidence names no chip serial");
    static const char *const unsafe[] = {"TEST/CHIP", "TEST.CHIP", "TEST CHIP", "TEST~CHIP"};
    for (size_t i = 0; i < CCZ_ARRAY_LEN(unsafe); i++) {
        memcpy(sn, unsafe[i], 9);
        CHECK_STATUS(ccz_csv_hsk_cek_fetch(&out, &cached, ccz_buf_span(&ev), &fo),
                     CCZ_ERR_MALFORMED);
        CHECK_CONTAINS(ccz_error_detail(),
                       "the chip serial holds a character other than [0-9A-Za-z_-]");
    }
    CHECK_INT(out.len, 0);
    ccz_buf_free(&out);
    ccz_collateral_free(col);
    ccz_trust_free(t);
    ccz_buf_free(&w);
    ccz_buf_free(&js);
    ccz_buf_free(&log);
    ccz_buf_free(&ev);
    chain_free();
}

TEST_MAIN(T(test_chain_v2_v3), T(test_chain_inputs), T(test_signer_checks),
          T(test_json_mac_and_eventlog), T(test_parse_strict), T(test_cert_edges),
          T(test_report_forms))
