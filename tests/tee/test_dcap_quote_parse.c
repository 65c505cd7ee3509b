/* SPDX-License-Identifier: Apache-2.0 */
/* DCAP quote and PCK-extension parsing (src/tee/dcap/dcap_quote.c) on quotes the test platform
 * forges (tests/support/dcap_forge), changed one field at a time: versions, attestation key
 * types and TEE types ccz does not read, a v3 TDX quote, v5 body descriptors (type, size, a type
 * that does not fit the TEE), the outer and inner certification data types, cuts at each part;
 * and the SGX extension of a PCK certificate written here in DER: the octet strings' sizes and
 * tags, small integers that are negative or too large, the SGX type, the required entries, and
 * OIDs outside the SGX arc ignored. Each with its exact status and message. */
#include <stdio.h>
#include <string.h>

#include "ccz/ccz.h"
#include "dcap_forge.h"
#include "test.h"

#define HEADER 48

static forge *F;

static void quote(ccz_buf *q, int version, bool tdx)
{
    if (!F)
        F = forge_new();
    forge_quote_opts o;
    forge_quote_defaults(&o);
    o.version = version;
    o.tdx = tdx;
    CHECK_OK(forge_quote(F, q, &o));
}

static ccz_status parse(const ccz_buf *q, size_t len)
{
    static ccz_dcap_quote d;
    return ccz_dcap_quote_parse(&d, CCZ_SPAN(q->ptr, len));
}

#define REFUSED(q, len, want, detail)                                                              \
    do {                                                                                           \
        CHECK_STATUS(parse(q, len), want);                                                         \
        CHECK_CONTAINS(ccz_error_detail(), detail);                                                \
    } while (0)

/* The offset of the signature data's length field: after the header and the body. */
static size_t sig_at(int version, bool tdx)
{
    size_t body = tdx ? 584 : 384;
    return HEADER + (version == 5 ? 6 : 0) + body;
}

static void headers(void)
{
    for (int v = 3; v <= 5; v++)
        for (int tdx = 0; tdx <= (v > 3); tdx++) {
            ccz_buf q = CCZ_BUF_INIT;
            quote(&q, v, tdx);
            static ccz_dcap_quote d;
            CHECK_OK(ccz_dcap_quote_parse(&d, ccz_buf_span(&q)));
            CHECK_INT(d.version, v);
            CHECK_INT(d.cert_type, 5);
            CHECK_INT(d.body_type, tdx ? CCZ_DCAP_BODY_TD10 : CCZ_DCAP_BODY_SGX);
            CHECK_INT(d.signed_part.len, sig_at(v, tdx));
            ccz_buf_free(&q);
        }
    ccz_buf q = CCZ_BUF_INIT;
    quote(&q, 4, false);
    put_le16(q.ptr, 6);
    REFUSED(&q, q.len, CCZ_ERR_UNSUPPORTED, "quote version 6 is not supported (3, 4, 5 are)");
    CHECK_INT(ccz_evidence_detect(ccz_buf_span(&q)), CCZ_TEE_NONE); /* not taken for a DCAP quote */
    put_le16(q.ptr, 5);
    CHECK_INT(ccz_evidence_detect(ccz_buf_span(&q)), CCZ_TEE_SGX);
    put_le16(q.ptr, 2);
    REFUSED(&q, q.len, CCZ_ERR_UNSUPPORTED, "quote version 2 is not supported");
    put_le16(q.ptr, 4);
    put_le16(q.ptr + 2, 3); /* ECDSA P-384 */
    REFUSED(&q, q.len, CCZ_ERR_UNSUPPORTED, "quote attestation key type 3 is not supported");
    /* still taken for a DCAP quote, so that the verifier says why it is refused */
    CHECK_INT(ccz_evidence_detect(ccz_buf_span(&q)), CCZ_TEE_SGX);
    put_le16(q.ptr + 2, 2);
    put_le32(q.ptr + 4, 0x80);
    REFUSED(&q, q.len, CCZ_ERR_UNSUPPORTED, "quote TEE type 0x80 is not SGX (0) or TDX (0x81)");
    put_le32(q.ptr + 4, 0);
    CHECK_OK(parse(&q, q.len));
    /* the outer certification data of v4 must be the QE report's (6) */
    size_t outer = sig_at(4, false) + 4 + 128;
    put_le16(q.ptr + outer, 5);
    REFUSED(&q, q.len, CCZ_ERR_UNSUPPORTED,
            "quote v4: outer certification data type 5 is not supported (expected 6");
    put_le16(q.ptr + outer, 6);
    /* the inner one must be the PCK chain (5) */
    size_t inner = outer + 6 + 384 + 64;
    uint16_t auth = (uint16_t)(q.ptr[inner] | q.ptr[inner + 1] << 8);
    put_le16(q.ptr + inner + 2 + auth, 3);
    REFUSED(&q, q.len, CCZ_ERR_UNSUPPORTED, "quote certification data type 3 is not supported");
    ccz_buf_free(&q);

    /* v3 is SGX only */
    quote(&q, 3, false);
    put_le32(q.ptr + 4, CCZ_DCAP_TEE_TDX);
    REFUSED(&q, q.len, CCZ_ERR_MALFORMED, "quote v3 with TEE type 0x81 (v3 is SGX only)");
    ccz_buf_free(&q);
}

static void v5_bodies(void)
{
    ccz_buf q = CCZ_BUF_INIT;
    quote(&q, 5, false);
    put_le16(q.ptr + HEADER, 4);
    REFUSED(&q, q.len, CCZ_ERR_UNSUPPORTED, "quote v5 body type 4 is not supported");
    put_le16(q.ptr + HEADER, 0);
    REFUSED(&q, q.len, CCZ_ERR_UNSUPPORTED, "quote v5 body type 0 is not supported");
    put_le16(q.ptr + HEADER, 1);
    put_le32(q.ptr + HEADER + 2, 385);
    REFUSED(&q, q.len, CCZ_ERR_MALFORMED, "quote v5 body type 1 has size 385, expected 384");
    put_le32(q.ptr + HEADER + 2, 383);
    REFUSED(&q, q.len, CCZ_ERR_MALFORMED, "quote v5 body type 1 has size 383, expected 384");
    /* a TD report's descriptor in an SGX quote */
    put_le16(q.ptr + HEADER, 2);
    put_le32(q.ptr + HEADER + 2, 584);
    REFUSED(&q, q.len, CCZ_ERR_MALFORMED, "quote v5 body type 2 does not fit TEE type 0x0");
    ccz_buf_free(&q);
    /* an SGX report's descriptor in a TDX quote */
    quote(&q, 5, true);
    put_le16(q.ptr + HEADER, 1);
    put_le32(q.ptr + HEADER + 2, 384);
    REFUSED(&q, q.len, CCZ_ERR_MALFORMED, "quote v5 body type 1 does not fit TEE type 0x81");
    ccz_buf_free(&q);
}

static void cuts(void)
{
    ccz_buf q = CCZ_BUF_INIT;
    quote(&q, 4, true);
    size_t sig = sig_at(4, true);
    static const struct {
        size_t at;
        const char *part;
    } cut[] = {{HEADER - 1, "quote header"},
               {HEADER + 583, "quote body"},
               {0, "quote signature data"},
               {0, "quote signature and attestation key"}};
    REFUSED(&q, cut[0].at, CCZ_ERR_TRUNCATED, cut[0].part);
    REFUSED(&q, cut[1].at, CCZ_ERR_TRUNCATED, cut[1].part);
    REFUSED(&q, sig + 2, CCZ_ERR_TRUNCATED, cut[2].part);
    /* a signature data length that says less than the signature and key */
    put_le32(q.ptr + sig, 100);
    REFUSED(&q, q.len, CCZ_ERR_TRUNCATED, cut[3].part);
    ccz_buf_free(&q);
}

/* ---- the PCK certificate's SGX extension, in DER -------------------------------------------*/

static void der(ccz_buf *b, uint8_t tag, const ccz_buf *content)
{
    CHECK_OK(ccz_buf_append_u8(b, tag));
    if (content->len < 128) {
        CHECK_OK(ccz_buf_append_u8(b, (uint8_t)content->len));
    } else {
        CHECK_OK(ccz_buf_append_u8(b, 0x82));
        CHECK_OK(ccz_buf_append_u8(b, (uint8_t)(content->len >> 8)));
        CHECK_OK(ccz_buf_append_u8(b, (uint8_t)content->len));
    }
    CHECK_OK(ccz_buf_append(b, content->ptr, content->len));
}

/* SEQUENCE { OID 1.2.840.113741.1.13.1.arcs (prefix's last byte `last`), value } */
static void pair(ccz_buf *b, uint8_t last, const uint8_t *arcs, size_t n_arcs, uint8_t vtag,
                 const void *v, size_t vlen)
{
    static const uint8_t prefix[] = {0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x01, 0x0d};
    ccz_buf oid = CCZ_BUF_INIT, val = CCZ_BUF_INIT, seq = CCZ_BUF_INIT;
    CHECK_OK(ccz_buf_append(&oid, prefix, sizeof prefix));
    CHECK_OK(ccz_buf_append_u8(&oid, last));
    CHECK_OK(ccz_buf_append(&oid, arcs, n_arcs));
    CHECK_OK(ccz_buf_append(&val, v, vlen));
    der(&seq, 0x06, &oid);
    der(&seq, vtag, &val);
    der(b, 0x30, &seq);
    ccz_buf_free(&oid), ccz_buf_free(&val), ccz_buf_free(&seq);
}

typedef struct {
    size_t ppid, fmspc; /* octet string sizes */
    uint8_t fmspc_tag;  /* 0x04 */
    uint8_t comp5[3];   /* component 5's INTEGER content */
    size_t comp5_len;
    uint8_t sgx_type; /* ENUMERATED value */
    int skip_comp;    /* a component left out (0: none) */
    bool skip_pcesvn, skip_fmspc;
    bool stray; /* an entry under 1.2.840.113741.1.13.2 (not the SGX arc) */
} ext_spec;

/* Set by the test, read by extension(): the TCB entry's value tag (0: SEQUENCE); a TCB entry
 * .2.0 (no component) with value 0x55; a TCB entry .2.1.1.1... (more arcs than any ccz reads). */
static uint8_t tcb_tag;
static bool arc0, long_oid, no_pce_id;

static const ext_spec good_ext = {16, 6, 0x04, {5}, 1, 1, 0, false, false, false};

static void extension(ccz_buf *out, const ext_spec *e)
{
    static const uint8_t bytes[32] = {0x00, 0x90, 0x6e, 0xd5, 0x00, 0x00, 7, 7, 7, 7, 7, 7, 7, 7};
    /* (17 bytes are read of it for a PPID one byte long) */
    ccz_buf body = CCZ_BUF_INIT, tcb = CCZ_BUF_INIT;
    pair(&body, 0x01, (const uint8_t[]){1}, 1, 0x04, bytes, e->ppid);
    for (uint8_t c = 1; c <= 16; c++) {
        if (c == e->skip_comp)
            continue;
        if (c == 5)
            pair(&tcb, 0x01, (const uint8_t[]){2, c}, 2, 0x02, e->comp5, e->comp5_len);
        else
            pair(&tcb, 0x01, (const uint8_t[]){2, c}, 2, 0x02, (const uint8_t[]){c}, 1);
    }
    if (!e->skip_pcesvn)
        pair(&tcb, 0x01, (const uint8_t[]){2, 17}, 2, 0x02, (const uint8_t[]){0x01, 0x00}, 2);
    pair(&tcb, 0x01, (const uint8_t[]){2, 18}, 2, 0x04, bytes, 16);
    if (arc0)
        pair(&tcb, 0x01, (const uint8_t[]){2, 0}, 2, 0x02, (const uint8_t[]){0x55}, 1);
    if (long_oid) {
        uint8_t arcs[100];
        memset(arcs, 1, sizeof arcs);
        arcs[0] = 2;
        pair(&tcb, 0x01, arcs, sizeof arcs, 0x02, (const uint8_t[]){0x55}, 1);
    }
    /* the TCB entry: { OID .2, SEQUENCE OF pairs } */
    pair(&body, 0x01, (const uint8_t[]){2}, 1, tcb_tag ? tcb_tag : 0x30, tcb.ptr, tcb.len);
    if (!no_pce_id)
        pair(&body, 0x01, (const uint8_t[]){3}, 1, 0x04, (const uint8_t[]){0, 0}, 2);
    if (e->stray)
        pair(&body, 0x02, (const uint8_t[]){4}, 1, 0x04, bytes, 3);
    if (!e->skip_fmspc)
        pair(&body, 0x01, (const uint8_t[]){4}, 1, e->fmspc_tag, bytes, e->fmspc);
    pair(&body, 0x01, (const uint8_t[]){5}, 1, 0x0a, &e->sgx_type, 1);
    der(out, 0x30, &body);
    ccz_buf_free(&body), ccz_buf_free(&tcb);
}

static ccz_status ext_parse(const ext_spec *e, ccz_pck_ext *x)
{
    ccz_buf b = CCZ_BUF_INIT;
    extension(&b, e);
    ccz_status s = ccz_dcap_pck_ext_parse(x, ccz_buf_span(&b));
    ccz_buf_free(&b);
    return s;
}

static void pck_extension(void)
{
    ccz_pck_ext x;
    CHECK_OK(ext_parse(&good_ext, &x));
    CHECK_INT(x.cpusvn_components[0], 1);
    CHECK_INT(x.cpusvn_components[4], 5);
    CHECK_INT(x.cpusvn_components[15], 16);
    CHECK_INT(x.pcesvn, 256);
    CHECK_INT(x.sgx_type, 1);
    CHECK_INT(x.fmspc[1], 0x90);
    ext_spec e = good_ext;
    e.stray = true; /* an entry outside the SGX arc is not read */
    CHECK_OK(ext_parse(&e, &x));
    CHECK_INT(x.fmspc[1], 0x90);
    e.comp5[0] = 0x00, e.comp5[1] = 0xff, e.comp5_len = 2; /* 255, with its sign byte */
    CHECK_OK(ext_parse(&e, &x));
    CHECK_INT(x.cpusvn_components[4], 255);
    e.sgx_type = 2;
    CHECK_OK(ext_parse(&e, &x));
    static const struct {
        ext_spec e;
        const char *detail;
    } bad[] = {
        {{15, 6, 0x04, {5}, 1, 1, 0, false, false, false}, "PPID is not a 16-byte OCTET STRING"},
        {{17, 6, 0x04, {5}, 1, 1, 0, false, false, false}, "PPID is not a 16-byte OCTET STRING"},
        {{16, 7, 0x04, {5}, 1, 1, 0, false, false, false}, "FMSPC is not a 6-byte OCTET STRING"},
        {{16, 6, 0x03, {5}, 1, 1, 0, false, false, false}, "FMSPC is not a 6-byte OCTET STRING"},
        {{16, 6, 0x04, {0x80}, 1, 1, 0, false, false, false},
         "TCB component is not a small integer"},
        {{16, 6, 0x04, {0x01, 0x00}, 2, 1, 0, false, false, false},
         "TCB component 256 exceeds 255"},
        {{16, 6, 0x04, {5}, 1, 3, 0, false, false, false}, "SGX type 3 exceeds 2"},
        {{16, 6, 0x04, {5}, 1, 1, 0, false, true, false}, "lacks the FMSPC"},
        {{16, 6, 0x04, {5}, 1, 1, 1, false, false, false}, "lacks TCB components or PCESVN"},
        {{16, 6, 0x04, {5}, 1, 1, 16, false, false, false}, "lacks TCB components or PCESVN"},
        {{16, 6, 0x04, {5}, 1, 1, 0, true, false, false}, "lacks TCB components or PCESVN"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        CHECK_STATUS(ext_parse(&bad[i].e, &x), CCZ_ERR_MALFORMED);
        CHECK_CONTAINS(ccz_error_detail(), bad[i].detail);
    }
    /* the stray entry with a 3-byte "FMSPC" must not stand in for the missing one */
    e = good_ext;
    e.stray = true;
    e.skip_fmspc = true;
    CHECK_STATUS(ext_parse(&e, &x), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "lacks the FMSPC");
    /* a TCB entry .2.0 names no component: ignored, nothing before the components written */
    arc0 = true;
    CHECK_OK(ext_parse(&good_ext, &x));
    arc0 = false;
    CHECK_INT(x.ppid[15], 0);
    CHECK_INT(x.ppid[1], 0x90);
    CHECK_INT(x.cpusvn_components[0], 1);
    /* an OID with more arcs than ccz reads is ignored, however long */
    long_oid = true;
    CHECK_OK(ext_parse(&good_ext, &x));
    long_oid = false;
    CHECK_INT(x.cpusvn_components[0], 1);
    CHECK_INT(x.cpusvn_components[1], 2);
    CHECK_INT(x.pcesvn, 256);
    /* the TCB entry must be a SEQUENCE (a SET of the same pairs is refused) */
    tcb_tag = 0x31;
    CHECK_STATUS(ext_parse(&good_ext, &x), CCZ_ERR_MALFORMED);
    tcb_tag = 0;
    CHECK_CONTAINS(ccz_error_detail(), "PCK SGX extension: TCB is not a SEQUENCE");
    /* the PCE-ID is required as the FMSPC is (the TCB info is matched on both) */
    no_pce_id = true;
    CHECK_STATUS(ext_parse(&good_ext, &x), CCZ_ERR_MALFORMED);
    no_pce_id = false;
    CHECK_CONTAINS(ccz_error_detail(), "PCK SGX extension lacks the PCE-ID");
}

/* A TD report is 584 bytes (1.0) or 648 (1.5, TEE_TCB_SVN2 and MRSERVICETD): nothing may
 * follow either, nor may a 1.5 report be cut short. */
static void td_report_lengths(void)
{
    static uint8_t body[649];
    static ccz_tdx_claims t;
    uint8_t rd[64];
    body[520] = 0x5a; /* the first byte of the report data */
    body[584] = 7;    /* TEE_TCB_SVN2[0] */
    CHECK_OK(ccz_dcap_td_report_decode(&t, rd, CCZ_SPAN(body, 584)));
    CHECK(!t.td_report_15);
    CHECK_INT(rd[0], 0x5a);
    CHECK_OK(ccz_dcap_td_report_decode(&t, rd, CCZ_SPAN(body, 648)));
    CHECK(t.td_report_15);
    CHECK_INT(t.tee_tcb_svn2[0], 7);
    CHECK_STATUS(ccz_dcap_td_report_decode(&t, rd, CCZ_SPAN(body, 649)), CCZ_ERR_TRAILING_DATA);
    CHECK_CONTAINS(ccz_error_detail(), "TD report");
    CHECK_STATUS(ccz_dcap_td_report_decode(&t, rd, CCZ_SPAN(body, 647)), CCZ_ERR_TRUNCATED);
    CHECK_STATUS(ccz_dcap_td_report_decode(&t, rd, CCZ_SPAN(body, 583)), CCZ_ERR_TRUNCATED);
}

static void cleanup(void)
{
    forge_free(F);
}

TEST_MAIN(T(headers), T(v5_bodies), T(cuts), T(pck_extension), T(td_report_lengths), T(cleanup))
