/* SPDX-License-Identifier: Apache-2.0 */
/* Intel DCAP ECDSA quotes: the v3/v4/v5 framing, SGX and TD reports, and the certification
 * data. Quotes are untrusted: every field is read through the cursor and every length is
 * checked against what contains it. Bytes after the declared signature data are ignored, as
 * quote buffers are often padded. */
#include <string.h>

#include "core/guard.h"
#include "ccz/dcap.h"

#define ATT_KEY_ECDSA_P256 2
#define CERT_PCK_CHAIN 5
#define CERT_QE_REPORT 6

static ccz_status ctx(ccz_status s, const char *what)
{
    return ccz_fail_context(s, "quote %s", what);
}

/* The QE report, its signature, the QE authentication data and the inner certification data,
 * in the order v3 lists them directly and v4/v5 wrap in certification data type 6. */
static ccz_status parse_qe_part(ccz_dcap_quote *q, ccz_cursor *c)
{
    uint16_t auth_len;
    uint32_t cert_len;
    if (ccz_cursor_take(c, &q->qe_report, CCZ_DCAP_SGX_REPORT_SIZE))
        return ctx(CCZ_ERR_TRUNCATED, "QE report");
    if (ccz_cursor_copy(c, q->qe_report_signature, 64))
        return ctx(CCZ_ERR_TRUNCATED, "QE report signature");
    if (ccz_cursor_u16le(c, &auth_len) || ccz_cursor_take(c, &q->qe_auth_data, auth_len))
        return ctx(CCZ_ERR_TRUNCATED, "QE authentication data");
    if (ccz_cursor_u16le(c, &q->cert_type) || ccz_cursor_u32le(c, &cert_len) ||
        ccz_cursor_take(c, &q->cert_data, cert_len))
        return ctx(CCZ_ERR_TRUNCATED, "certification data");
    if (q->cert_type != CERT_PCK_CHAIN)
        return ccz_fail(CCZ_ERR_UNSUPPORTED,
                        "quote certification data type %u is not supported (only 5, the PCK "
                        "certificate chain in PEM; give the PCK chain another way)",
                        q->cert_type);
    return CCZ_OK;
}

static ccz_status parse_signature_data(ccz_dcap_quote *q, ccz_span sig)
{
    ccz_cursor c;
    ccz_cursor_init(&c, sig);
    if (ccz_cursor_copy(&c, q->signature, 64) || ccz_cursor_copy(&c, q->attestation_key, 64))
        return ctx(CCZ_ERR_TRUNCATED, "signature and attestation key");
    if (q->version == 3)
        return parse_qe_part(q, &c);
    uint16_t type;
    uint32_t len;
    ccz_span inner;
    if (ccz_cursor_u16le(&c, &type) || ccz_cursor_u32le(&c, &len) ||
        ccz_cursor_take(&c, &inner, len))
        return ctx(CCZ_ERR_TRUNCATED, "certification data");
    if (type != CERT_QE_REPORT)
        return ccz_fail(CCZ_ERR_UNSUPPORTED,
                        "quote v%u: outer certification data type %u is not supported (expected "
                        "6, QE report certification data)",
                        q->version, type);
    ccz_cursor ic;
    ccz_cursor_init(&ic, inner);
    return parse_qe_part(q, &ic);
}

static ccz_status parse_body(ccz_dcap_quote *q, ccz_cursor *c)
{
    size_t size;
    if (q->version == 5) {
        uint16_t type;
        uint32_t len;
        if (ccz_cursor_u16le(c, &type) || ccz_cursor_u32le(c, &len))
            return ctx(CCZ_ERR_TRUNCATED, "body descriptor");
        static const size_t sizes[] = {0, CCZ_DCAP_SGX_REPORT_SIZE, CCZ_DCAP_TD10_REPORT_SIZE,
                                       CCZ_DCAP_TD15_REPORT_SIZE};
        if (type < 1 || type > 3)
            return ccz_fail(CCZ_ERR_UNSUPPORTED, "quote v5 body type %u is not supported", type);
        if (len != sizes[type])
            return ccz_fail(CCZ_ERR_MALFORMED, "quote v5 body type %u has size %u, expected %zu",
                            type, len, sizes[type]);
        if ((type == CCZ_DCAP_BODY_SGX) != (q->tee_type == CCZ_DCAP_TEE_SGX))
            return ccz_fail(CCZ_ERR_MALFORMED, "quote v5 body type %u does not fit TEE type 0x%x",
                            type, q->tee_type);
        q->body_type = (ccz_dcap_body_type)type;
        size = len;
    } else if (q->tee_type == CCZ_DCAP_TEE_SGX) {
        q->body_type = CCZ_DCAP_BODY_SGX;
        size = CCZ_DCAP_SGX_REPORT_SIZE;
    } else {
        if (q->version == 3)
            return ccz_fail(CCZ_ERR_MALFORMED, "quote v3 with TEE type 0x%x (v3 is SGX only)",
                            q->tee_type);
        q->body_type = CCZ_DCAP_BODY_TD10;
        size = CCZ_DCAP_TD10_REPORT_SIZE;
    }
    if (ccz_cursor_take(c, &q->body, size))
        return ctx(CCZ_ERR_TRUNCATED, "body");
    return CCZ_OK;
}

ccz_status ccz_dcap_quote_parse(ccz_dcap_quote *q, ccz_span in)
{
    memset(q, 0, sizeof *q);
    ccz_cursor c;
    ccz_cursor_init(&c, in);
    if (ccz_cursor_u16le(&c, &q->version) || ccz_cursor_u16le(&c, &q->att_key_type) ||
        ccz_cursor_u32le(&c, &q->tee_type) || ccz_cursor_u16le(&c, &q->qe_svn) ||
        ccz_cursor_u16le(&c, &q->pce_svn) || ccz_cursor_copy(&c, q->qe_vendor_id, 16) ||
        ccz_cursor_copy(&c, q->user_data, 20))
        return ctx(CCZ_ERR_TRUNCATED, "header");
    if (q->version < 3 || q->version > 5)
        return ccz_fail(CCZ_ERR_UNSUPPORTED, "quote version %u is not supported (3, 4, 5 are)",
                        q->version);
    if (q->tee_type != CCZ_DCAP_TEE_SGX && q->tee_type != CCZ_DCAP_TEE_TDX)
        return ccz_fail(CCZ_ERR_UNSUPPORTED, "quote TEE type 0x%x is not SGX (0) or TDX (0x81)",
                        q->tee_type);
    if (q->att_key_type != ATT_KEY_ECDSA_P256)
        return ccz_fail(CCZ_ERR_UNSUPPORTED,
                        "quote attestation key type %u is not supported "
                        "(2, ECDSA P-256, is)",
                        q->att_key_type);
    CCZ_GUARD(parse_body(q, &c));
    q->signed_part = ccz_cursor_consumed(&c);
    uint32_t sig_len;
    ccz_span sig;
    if (ccz_cursor_u32le(&c, &sig_len) || ccz_cursor_take(&c, &sig, sig_len))
        return ctx(CCZ_ERR_TRUNCATED, "signature data");
    return parse_signature_data(q, sig);
}

ccz_status ccz_dcap_sgx_report_decode(ccz_sgx_claims *g, uint8_t report_data[64], ccz_span in)
{
    memset(g, 0, sizeof *g);
    ccz_cursor c;
    ccz_cursor_init(&c, in);
    ccz_status s;
    CCZ_GUARD_GOTO(ccz_cursor_copy(&c, g->cpu_svn, 16), s, bad);
    CCZ_GUARD_GOTO(ccz_cursor_u32le(&c, &g->misc_select), s, bad);
    CCZ_GUARD_GOTO(ccz_cursor_skip(&c, 12), s, bad);
    CCZ_GUARD_GOTO(ccz_cursor_copy(&c, g->isv_ext_prod_id, 16), s, bad);
    CCZ_GUARD_GOTO(ccz_cursor_copy(&c, g->attributes, 16), s, bad);
    CCZ_GUARD_GOTO(ccz_cursor_copy(&c, g->mr_enclave, 32), s, bad);
    CCZ_GUARD_GOTO(ccz_cursor_skip(&c, 32), s, bad);
    CCZ_GUARD_GOTO(ccz_cursor_copy(&c, g->mr_signer, 32), s, bad);
    CCZ_GUARD_GOTO(ccz_cursor_skip(&c, 32), s, bad);
    CCZ_GUARD_GOTO(ccz_cursor_copy(&c, g->config_id, 64), s, bad);
    CCZ_GUARD_GOTO(ccz_cursor_u16le(&c, &g->isv_prod_id), s, bad);
    CCZ_GUARD_GOTO(ccz_cursor_u16le(&c, &g->isv_svn), s, bad);
    CCZ_GUARD_GOTO(ccz_cursor_u16le(&c, &g->config_svn), s, bad);
    CCZ_GUARD_GOTO(ccz_cursor_skip(&c, 42), s, bad);
    CCZ_GUARD_GOTO(ccz_cursor_copy(&c, g->isv_family_id, 16), s, bad);
    CCZ_GUARD_GOTO(ccz_cursor_copy(&c, report_data, 64), s, bad);
    CCZ_GUARD_GOTO(ccz_cursor_expect_end(&c), s, bad);
    return CCZ_OK;
bad:
    return ccz_fail_context(s, "SGX report");
}

ccz_status ccz_dcap_td_report_decode(ccz_tdx_claims *t, uint8_t report_data[64], ccz_span in)
{
    memset(t, 0, sizeof *t);
    ccz_cursor c;
    ccz_cursor_init(&c, in);
    ccz_status s;
    CCZ_GUARD_GOTO(ccz_cursor_copy(&c, t->tee_tcb_svn, 16), s, bad);
    CCZ_GUARD_GOTO(ccz_cursor_copy(&c, t->mr_seam, 48), s, bad);
    CCZ_GUARD_GOTO(ccz_cursor_copy(&c, t->mr_signer_seam, 48), s, bad);
    CCZ_GUARD_GOTO(ccz_cursor_copy(&c, t->seam_attributes, 8), s, bad);
    CCZ_GUARD_GOTO(ccz_cursor_copy(&c, t->td_attributes, 8), s, bad);
    CCZ_GUARD_GOTO(ccz_cursor_copy(&c, t->xfam, 8), s, bad);
    CCZ_GUARD_GOTO(ccz_cursor_copy(&c, t->mr_td, 48), s, bad);
    CCZ_GUARD_GOTO(ccz_cursor_copy(&c, t->mr_config_id, 48), s, bad);
    CCZ_GUARD_GOTO(ccz_cursor_copy(&c, t->mr_owner, 48), s, bad);
    CCZ_GUARD_GOTO(ccz_cursor_copy(&c, t->mr_owner_config, 48), s, bad);
    for (int i = 0; i < 4; i++)
        CCZ_GUARD_GOTO(ccz_cursor_copy(&c, t->rtmr[i], 48), s, bad);
    CCZ_GUARD_GOTO(ccz_cursor_copy(&c, report_data, 64), s, bad);
    if (ccz_cursor_remaining(&c)) {
        t->td_report_15 = true;
        CCZ_GUARD_GOTO(ccz_cursor_copy(&c, t->tee_tcb_svn2, 16), s, bad);
        CCZ_GUARD_GOTO(ccz_cursor_copy(&c, t->mr_servicetd, 48), s, bad);
    }
    CCZ_GUARD_GOTO(ccz_cursor_expect_end(&c), s, bad);
    return CCZ_OK;
bad:
    return ccz_fail_context(s, "TD report");
}

/* ---- PCK certificate SGX extensions ----------------------------------------------------------
 * SEQUENCE OF SEQUENCE { OID, value }, with the TCB value itself a SEQUENCE OF such pairs. */

/* 1.2.840.113741.1.13.1 in DER content octets */
static const uint8_t OID_SGX[] = {0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x01, 0x0d, 0x01};
#define OID_SGX_LEN sizeof OID_SGX

/* The arc after the SGX extension OID: .1 PPID, .2 TCB, .3 PCE-ID, .4 FMSPC, .5 SGX type;
 * within TCB: .2.1 .. .2.16 components, .2.17 PCESVN, .2.18 CPUSVN. Returns the arc list
 * length (0 when the OID is not under the SGX extension). */
static size_t sgx_arcs(ccz_span oid, unsigned arcs[2])
{
    if (oid.len <= OID_SGX_LEN || memcmp(oid.ptr, OID_SGX, OID_SGX_LEN) != 0)
        return 0;
    size_t n = 0;
    for (size_t i = OID_SGX_LEN; i < oid.len; i++) {
        if (oid.ptr[i] & 0x80 || n == 2)
            return 0; /* every arc we know fits in one byte */
        arcs[n++] = oid.ptr[i];
    }
    return n;
}

static ccz_status expect_octets(ccz_span v, uint8_t tag, uint8_t *out, size_t n, const char *what)
{
    if (tag != 0x04 || v.len != n)
        return ccz_fail(CCZ_ERR_MALFORMED, "PCK SGX extension: %s is not a %zu-byte OCTET STRING",
                        what, n);
    memcpy(out, v.ptr, n);
    return CCZ_OK;
}

/* A small non-negative DER INTEGER or ENUMERATED. */
static ccz_status small_int(ccz_span v, uint8_t tag, uint8_t want_tag, unsigned max, unsigned *out,
                            const char *what)
{
    if (tag != want_tag || v.len < 1 || v.len > 3 || (v.ptr[0] & 0x80))
        return ccz_fail(CCZ_ERR_MALFORMED, "PCK SGX extension: %s is not a small integer", what);
    unsigned x = 0;
    for (size_t i = 0; i < v.len; i++)
        x = x << 8 | v.ptr[i];
    if (x > max)
        return ccz_fail(CCZ_ERR_MALFORMED, "PCK SGX extension: %s %u exceeds %u", what, x, max);
    *out = x;
    return CCZ_OK;
}

/* Reads one { OID, value } pair. */
static ccz_status read_pair(ccz_cursor *c, ccz_span *oid, uint8_t *vtag, ccz_span *val)
{
    uint8_t tag, otag;
    ccz_span seq;
    CCZ_GUARD(ccz_cursor_der(c, &tag, &seq));
    if (tag != 0x30)
        return ccz_fail(CCZ_ERR_MALFORMED, "PCK SGX extension: entry is not a SEQUENCE");
    ccz_cursor s;
    ccz_cursor_init(&s, seq);
    CCZ_GUARD(ccz_cursor_der(&s, &otag, oid));
    if (otag != 0x06)
        return ccz_fail(CCZ_ERR_MALFORMED, "PCK SGX extension: entry does not start with an OID");
    CCZ_GUARD(ccz_cursor_der(&s, vtag, val));
    return ccz_cursor_expect_end(&s);
}

static ccz_status parse_tcb(ccz_pck_ext *x, ccz_span tcb, unsigned *seen)
{
    ccz_cursor c;
    ccz_cursor_init(&c, tcb);
    while (ccz_cursor_remaining(&c)) {
        ccz_span oid, v;
        uint8_t tag;
        unsigned arcs[2], val = 0;
        CCZ_GUARD(read_pair(&c, &oid, &tag, &v));
        if (sgx_arcs(oid, arcs) != 2 || arcs[0] != 2)
            continue;
        if (arcs[1] >= 1 && arcs[1] <= 16) {
            CCZ_GUARD(small_int(v, tag, 0x02, 255, &val, "TCB component"));
            x->cpusvn_components[arcs[1] - 1] = (uint8_t)val;
            *seen |= 1u << arcs[1];
        } else if (arcs[1] == 17) {
            CCZ_GUARD(small_int(v, tag, 0x02, 65535, &val, "PCESVN"));
            x->pcesvn = (uint16_t)val;
            *seen |= 1u << 17;
        } else if (arcs[1] == 18) {
            CCZ_GUARD(expect_octets(v, tag, x->cpusvn, 16, "CPUSVN"));
        }
    }
    return CCZ_OK;
}

ccz_status ccz_dcap_pck_ext_parse(ccz_pck_ext *x, ccz_span der)
{
    memset(x, 0, sizeof *x);
    x->sgx_type = -1;
    ccz_cursor outer;
    ccz_cursor_init(&outer, der);
    uint8_t tag;
    ccz_span body;
    CCZ_GUARD(ccz_cursor_der(&outer, &tag, &body));
    if (tag != 0x30)
        return ccz_fail(CCZ_ERR_MALFORMED, "PCK SGX extension is not a SEQUENCE");
    CCZ_GUARD(ccz_cursor_expect_end(&outer));
    ccz_cursor c;
    ccz_cursor_init(&c, body);
    unsigned seen = 0, arcs[2], val = 0;
    while (ccz_cursor_remaining(&c)) {
        ccz_span oid, v;
        CCZ_GUARD(read_pair(&c, &oid, &tag, &v));
        if (sgx_arcs(oid, arcs) != 1)
            continue;
        switch (arcs[0]) {
        case 1:
            CCZ_GUARD(expect_octets(v, tag, x->ppid, 16, "PPID"));
            break;
        case 2:
            if (tag != 0x30)
                return ccz_fail(CCZ_ERR_MALFORMED, "PCK SGX extension: TCB is not a SEQUENCE");
            CCZ_GUARD(parse_tcb(x, v, &seen));
            break;
        case 3:
            CCZ_GUARD(expect_octets(v, tag, x->pce_id, 2, "PCE-ID"));
            break;
        case 4:
            CCZ_GUARD(expect_octets(v, tag, x->fmspc, 6, "FMSPC"));
            break;
        case 5:
            CCZ_GUARD(small_int(v, tag, 0x0a, 2, &val, "SGX type"));
            x->sgx_type = (int)val;
            break;
        default:
            continue;
        }
        seen |= 1u << (arcs[0] + 17);
    }
    /* TCB components 1..16 and PCESVN (bits 1..17), TCB (19), PCE-ID (20), FMSPC (21) */
    unsigned need = 0x3fffeu | (1u << 19) | (1u << 20) | (1u << 21);
    if ((seen & need) != need)
        return ccz_fail(CCZ_ERR_MALFORMED, "PCK SGX extension lacks %s",
                        !(seen & (1u << 21))   ? "the FMSPC"
                        : !(seen & (1u << 20)) ? "the PCE-ID"
                                               : "TCB components or PCESVN");
    return CCZ_OK;
}
