/* SPDX-License-Identifier: Apache-2.0 */
/* Hygon CSV, parsed: the CA and CSV certificates, the attestation report (versions 1 to 3, the
 * version 1 anonce mask removed), its version 1 MAC, and trustee's evidence JSON, after the
 * csv-rs crate (src/certs, src/api/guest/types.rs) and trustee's deps/verifier/src/csv. All of
 * it is untrusted: binary parts are read through the core cursor, JSON through jansson with a
 * size cap; the JSON form of a certificate is re-encoded to its binary form and parsed as that. */
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "ccz/csv.h"
#include "core/guard.h"
#include "x509/x509.h"

#define CURVE_SM2_256 3
#define ALGO_SM2_SA 4
#define ALGO_SM2_DH 5
#define NUM_FIELD 72 /* little-endian numbers are stored in 72 bytes; SM2 uses 32 */
#define UID_MAX 254
#define V1_INFO_SIZE 0x150
#define V2_INFO_SIZE 0x490
#define V1_SIGNED 0xb4
#define V2_SIGNED 0x400
#define SIGNER_SIZE (CCZ_CSV_CERT_SIZE + 64 + 32 + 32)
#define MAX_JSON (1u << 20)

/* A 72-byte little-endian number of at most 256 bits, as 32 big-endian bytes. */
static ccz_status le_number(ccz_cursor *c, uint8_t out[32], const char *what)
{
    uint8_t raw[NUM_FIELD];
    CCZ_GUARD(ccz_cursor_copy(c, raw, sizeof raw));
    for (int i = 32; i < NUM_FIELD; i++)
        CCZ_ENSURE(raw[i] == 0, CCZ_ERR_MALFORMED, "%s exceeds 256 bits", what);
    for (int i = 0; i < 32; i++)
        out[i] = raw[31 - i];
    return CCZ_OK;
}

static ccz_status user_id(ccz_cursor *c, ccz_csv_cert *out)
{
    uint16_t n;
    uint8_t raw[UID_MAX];
    CCZ_GUARD(ccz_cursor_u16le(c, &n));
    CCZ_GUARD(ccz_cursor_copy(c, raw, sizeof raw));
    CCZ_ENSURE(n <= UID_MAX, CCZ_ERR_MALFORMED, "user id of %u bytes (at most %d)", n, UID_MAX);
    memcpy(out->user_id, raw, n);
    out->user_id[n] = '\0';
    out->user_id_len = n;
    return CCZ_OK;
}

static ccz_status pubkey(ccz_cursor *c, ccz_csv_cert *out)
{
    uint32_t g;
    CCZ_GUARD(ccz_cursor_u32le(c, &g));
    CCZ_ENSURE(g == CURVE_SM2_256, CCZ_ERR_UNSUPPORTED, "key on curve %u, not SM2-256 (3)", g);
    CCZ_GUARD(le_number(c, out->x, "the key's x"));
    return le_number(c, out->y, "the key's y");
}

static ccz_status ca_cert(ccz_csv_cert *out, ccz_cursor *c)
{
    out->kind = CCZ_CSV_CERT_CA;
    CCZ_GUARD(ccz_cursor_u32le(c, &out->version));
    CCZ_GUARD(ccz_cursor_copy(c, out->kid, 16));
    CCZ_GUARD(ccz_cursor_copy(c, out->sid, 16));
    CCZ_GUARD(ccz_cursor_u32le(c, &out->usage));
    CCZ_GUARD(ccz_cursor_skip(c, 24));
    CCZ_GUARD(pubkey(c, out));
    CCZ_GUARD(user_id(c, out));
    CCZ_GUARD(ccz_cursor_skip(c, 108));
    out->signed_part = ccz_cursor_consumed(c);
    out->n_sigs = 1;
    out->sigs[0].usage = CCZ_CSV_USAGE_HRK; /* only an HRK signs CA certificates */
    out->sigs[0].algo = ALGO_SM2_SA;
    out->algo = ALGO_SM2_SA;
    CCZ_GUARD(le_number(c, out->sigs[0].r, "the signature's r"));
    CCZ_GUARD(le_number(c, out->sigs[0].s, "the signature's s"));
    return ccz_cursor_skip(c, 112);
}

static ccz_status csv_cert(ccz_csv_cert *out, ccz_cursor *c)
{
    out->kind = CCZ_CSV_CERT_CSV;
    CCZ_GUARD(ccz_cursor_u32le(c, &out->version));
    CCZ_GUARD(ccz_cursor_u8(c, &out->fw_major));
    CCZ_GUARD(ccz_cursor_u8(c, &out->fw_minor));
    CCZ_GUARD(ccz_cursor_skip(c, 2));
    CCZ_GUARD(ccz_cursor_u32le(c, &out->usage));
    CCZ_GUARD(ccz_cursor_u32le(c, &out->algo));
    CCZ_GUARD(pubkey(c, out));
    CCZ_GUARD(user_id(c, out));
    CCZ_GUARD(ccz_cursor_copy(c, out->sid, 16));
    CCZ_GUARD(ccz_cursor_skip(c, 608));
    out->signed_part = ccz_cursor_consumed(c);
    out->n_sigs = 2;
    for (int i = 0; i < 2; i++) {
        ccz_csv_sig *g = &out->sigs[i];
        ccz_span r, s;
        CCZ_GUARD(ccz_cursor_u32le(c, &g->usage));
        CCZ_GUARD(ccz_cursor_u32le(c, &g->algo));
        if (g->algo == ALGO_SM2_SA || g->algo == ALGO_SM2_DH) {
            CCZ_GUARD(le_number(c, g->r, "a signature's r"));
            CCZ_GUARD(le_number(c, g->s, "a signature's s"));
        } else { /* an empty slot: what it holds means nothing */
            CCZ_GUARD(ccz_cursor_take(c, &r, NUM_FIELD));
            CCZ_GUARD(ccz_cursor_take(c, &s, NUM_FIELD));
        }
        CCZ_GUARD(ccz_cursor_skip(c, 368));
    }
    return CCZ_OK;
}

ccz_status ccz_csv_cert_parse(ccz_csv_cert *out, ccz_span in)
{
    memset(out, 0, sizeof *out);
    ccz_cursor c;
    ccz_cursor_init(&c, in);
    ccz_status s;
    if (in.len == CCZ_CSV_CA_CERT_SIZE)
        s = ca_cert(out, &c);
    else if (in.len == CCZ_CSV_CERT_SIZE)
        s = csv_cert(out, &c);
    else
        return ccz_fail(in.len < CCZ_CSV_CA_CERT_SIZE ? CCZ_ERR_TRUNCATED : CCZ_ERR_MALFORMED,
                        "CSV certificate: %zu bytes (a CA certificate is %d, a CSV certificate "
                        "%d)",
                        in.len, CCZ_CSV_CA_CERT_SIZE, CCZ_CSV_CERT_SIZE);
    if (s == CCZ_OK)
        s = ccz_cursor_expect_end(&c);
    return s ? ccz_fail_context(s == CCZ_ERR_TRUNCATED ? CCZ_ERR_MALFORMED : s, "CSV %scertificate",
                                in.len == CCZ_CSV_CA_CERT_SIZE ? "CA " : "")
             : CCZ_OK;
}

ccz_status ccz_csv_cert_verify(const ccz_csv_cert *signer, const ccz_csv_cert *t)
{
    if (t->kind == CCZ_CSV_CERT_CA) {
        CCZ_ENSURE(signer->kind == CCZ_CSV_CERT_CA && signer->usage == CCZ_CSV_USAGE_HRK,
                   CCZ_ERR_BAD_SIGNATURE,
                   "a CA certificate is signed by an HRK, and the signer's usage is 0x%x",
                   signer->usage);
        CCZ_ENSURE(memcmp(t->sid, signer->kid, 16) == 0, CCZ_ERR_BAD_SIGNATURE,
                   "the certificate names another signer (its sid is not the HRK's kid)");
    }
    EVP_PKEY *key = NULL;
    CCZ_GUARD(x509_sm2_key_from_raw(&key, signer->x, signer->y));
    ccz_span id = CCZ_SPAN(signer->user_id, signer->user_id_len);
    bool tried = false, ok = false;
    for (size_t i = 0; i < t->n_sigs && !ok; i++) {
        const ccz_csv_sig *g = &t->sigs[i];
        if ((g->algo != ALGO_SM2_SA && g->algo != ALGO_SM2_DH) || g->usage != signer->usage)
            continue;
        tried = true;
        ok = x509_sm2_verify_rs(key, id, t->signed_part, g->r, g->s) == CCZ_OK;
    }
    EVP_PKEY_free(key);
    if (!ok)
        return ccz_fail(CCZ_ERR_BAD_SIGNATURE,
                        tried ? "the SM2 signature by the key of usage 0x%x does not verify"
                              : "the certificate has no signature by a key of usage 0x%x",
                        signer->usage);
    return CCZ_OK;
}

/* ---- the report ------------------------------------------------------------------------------*/

static void unmask(uint8_t *p, size_t n, uint32_t anonce)
{
    for (size_t i = 0; i < n; i++)
        p[i] ^= (uint8_t)(anonce >> (8 * (i % 4)));
}

/* The signer area: the PEK, the chip's serial, reserved bytes and the MAC. Firmware masks the
 * PEK and serial with the anonce in version 1; some leaves them as they are (the PEK's usage
 * tells which). */
static ccz_status signer_area(ccz_csv_report *r, ccz_cursor *c)
{
    ccz_span area;
    uint8_t sn[64];
    CCZ_GUARD(ccz_cursor_peek(c, &area, CCZ_CSV_CERT_SIZE + 64 + 32));
    r->mac_part = area;
    CCZ_GUARD(ccz_cursor_copy(c, r->pek, CCZ_CSV_CERT_SIZE));
    CCZ_GUARD(ccz_cursor_copy(c, sn, sizeof sn));
    CCZ_GUARD(ccz_cursor_skip(c, 32));
    CCZ_GUARD(ccz_cursor_copy(c, r->mac, 32));
    uint32_t usage = (uint32_t)r->pek[8] | (uint32_t)r->pek[9] << 8 | (uint32_t)r->pek[10] << 16 |
                     (uint32_t)r->pek[11] << 24;
    if (r->anonce && usage != CCZ_CSV_USAGE_PEK) {
        unmask(r->pek, sizeof r->pek, r->anonce);
        unmask(sn, sizeof sn, r->anonce);
        r->signer_masked = true;
    }
    size_t n = 0;
    while (n < sizeof sn && sn[n] >= 0x20 && sn[n] < 0x7f)
        n++;
    memcpy(r->serial, sn, n);
    r->serial[n] = '\0';
    return CCZ_OK;
}

ccz_status ccz_csv_report_parse(ccz_csv_report *r, ccz_span in, uint32_t version)
{
    memset(r, 0, sizeof *r);
    CCZ_ENSURE(version >= 1 && version <= 3, CCZ_ERR_UNSUPPORTED_VERSION,
               "CSV report version %u (1 to 3 are known)", version);
    r->version = version;
    ccz_cursor c;
    ccz_cursor_init(&c, in);
    ccz_status s;
    ccz_span signed_part;
    CCZ_GUARD_GOTO(ccz_cursor_peek(&c, &signed_part, version == 1 ? V1_SIGNED : V2_SIGNED), s, bad);
    CCZ_GUARD_GOTO(ccz_cursor_copy(&c, r->user_pubkey_digest, 32), s, bad);
    CCZ_GUARD_GOTO(ccz_cursor_copy(&c, r->vm_id, 16), s, bad);
    CCZ_GUARD_GOTO(ccz_cursor_copy(&c, r->vm_version, 16), s, bad);
    CCZ_GUARD_GOTO(ccz_cursor_copy(&c, r->report_data, 64), s, bad);
    CCZ_GUARD_GOTO(ccz_cursor_copy(&c, r->mnonce, 16), s, bad);
    CCZ_GUARD_GOTO(ccz_cursor_copy(&c, r->measure, 32), s, bad);
    CCZ_GUARD_GOTO(ccz_cursor_u32le(&c, &r->policy), s, bad);
    CCZ_GUARD_GOTO(ccz_cursor_u32le(&c, &r->sig_usage), s, bad);
    CCZ_GUARD_GOTO(ccz_cursor_u32le(&c, &r->sig_algo), s, bad);
    CCZ_GUARD_GOTO(ccz_cursor_u32le(&c, version == 1 ? &r->anonce : &r->build), s, bad);
    if (version >= 2) {
        CCZ_GUARD_GOTO(ccz_cursor_u16le(&c, &r->rtmr_version), s, bad);
        CCZ_GUARD_GOTO(ccz_cursor_skip(&c, 14), s, bad);
        CCZ_GUARD_GOTO(ccz_cursor_copy(&c, r->rtmr, sizeof r->rtmr), s, bad);
        CCZ_GUARD_GOTO(ccz_cursor_skip(&c, 592), s, bad);
        if (version == 3)
            CCZ_GUARD_GOTO(ccz_cursor_copy(&c, r->host_data, 64), s, bad);
        else
            CCZ_GUARD_GOTO(ccz_cursor_skip(&c, 64), s, bad);
    }
    r->signed_part = signed_part;
    CCZ_GUARD_GOTO(le_number(&c, r->sig_r, "the signature's r"), s, bad);
    CCZ_GUARD_GOTO(le_number(&c, r->sig_s, "the signature's s"), s, bad);
    CCZ_GUARD_GOTO(signer_area(r, &c), s, bad);
    /* the rest of the 4096 bytes the firmware hands out is padding */
    if (r->anonce) {
        unmask(r->user_pubkey_digest, 32, r->anonce);
        unmask(r->vm_id, 16, r->anonce);
        unmask(r->vm_version, 16, r->anonce);
        unmask(r->report_data, 64, r->anonce);
        unmask(r->mnonce, 16, r->anonce);
        unmask(r->measure, 32, r->anonce);
        r->policy ^= r->anonce;
        r->sig_usage ^= r->anonce;
        r->sig_algo ^= r->anonce;
    }
    CCZ_ENSURE(r->sig_usage == CCZ_CSV_USAGE_PEK && r->sig_algo == ALGO_SM2_SA, CCZ_ERR_UNSUPPORTED,
               "CSV report: signed by a key of usage 0x%x with algorithm %u, not the PEK "
               "(0x1002) with SM2 (4)",
               r->sig_usage, r->sig_algo);
    return CCZ_OK;
bad:
    return ccz_fail_context(s, "CSV report (version %u)", version);
}

ccz_status ccz_csv_report_check_mac(const ccz_csv_report *r)
{
    uint8_t mac[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    CCZ_ENSURE(r->version == 1, CCZ_ERR_UNSUPPORTED, "only version 1 reports carry a MAC");
    if (!HMAC(EVP_sm3(), r->mnonce, 16, r->mac_part.ptr, r->mac_part.len, mac, &n) || n != 32)
        return ccz_fail_ossl(CCZ_ERR_CRYPTO, "HMAC-SM3 failed");
    CCZ_ENSURE(ccz_ct_equal(mac, r->mac, 32), CCZ_ERR_BINDING,
               "the report's MAC (HMAC-SM3 keyed with its mnonce over the PEK and serial) does "
               "not match: the signer area is not the one the firmware wrote");
    return CCZ_OK;
}

/* ---- evidence ------------------------------------------------------------------------------*/

static const char ext_magic[16] = "ATTESTATION_EXT";

/* The version the wrapper's magic and flags say: 16 zero bytes is version 1; the extended
 * magic with flags 0, 1 (EXT) or 3 (EXT | EXT_HOST_DATA) is 1, 2 or 3. */
static ccz_status wrapper_version(uint32_t *v, const uint8_t magic[16], uint32_t flags)
{
    static const uint8_t zero[16];
    if (memcmp(magic, zero, 16) == 0) {
        *v = 1;
        return CCZ_OK;
    }
    CCZ_ENSURE(memcmp(magic, ext_magic, 16) == 0, CCZ_ERR_MALFORMED,
               "CSV report: the magic is neither zero nor \"ATTESTATION_EXT\"");
    CCZ_ENSURE(flags == 0 || flags == 1 || flags == 3, CCZ_ERR_UNSUPPORTED_VERSION,
               "CSV report: flags 0x%x (0, 1 or 3 are known)", flags);
    *v = flags == 0 ? 1 : flags == 1 ? 2 : 3;
    return CCZ_OK;
}

/* JSON, re-encoded: the member at a dotted path as a little-endian integer or a byte array. */
static const json_t *at(const json_t *o, const char *path)
{
    char key[32];
    while (o && *path) {
        size_t n = strcspn(path, ".");
        if (n >= sizeof key)
            return NULL;
        memcpy(key, path, n);
        key[n] = '\0';
        o = json_object_get(o, key);
        path += n + (path[n] == '.');
    }
    return o;
}

static ccz_status put_int(ccz_buf *b, const json_t *o, const char *path, int bytes)
{
    const json_t *v = at(o, path);
    json_int_t x = json_integer_value(v);
    CCZ_ENSURE(json_is_integer(v) && x >= 0 && (bytes == 4 || x < (1ll << (8 * bytes))) &&
                   x <= 0xffffffffll,
               CCZ_ERR_MALFORMED, "\"%s\" is not an unsigned %d-byte integer", path, bytes);
    for (int i = 0; i < bytes; i++)
        CCZ_GUARD(ccz_buf_append_u8(b, (uint8_t)((uint64_t)x >> (8 * i))));
    return CCZ_OK;
}

static ccz_status put_bytes(ccz_buf *b, const json_t *o, const char *path, size_t n)
{
    const json_t *v = at(o, path);
    CCZ_ENSURE(json_is_array(v) && json_array_size(v) == n, CCZ_ERR_MALFORMED,
               "\"%s\" is not an array of %zu bytes", path, n);
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_array_get(v, i);
        json_int_t x = json_integer_value(e);
        CCZ_ENSURE(json_is_integer(e) && x >= 0 && x <= 255, CCZ_ERR_MALFORMED,
                   "\"%s\"[%zu] is not a byte", path, i);
        CCZ_GUARD(ccz_buf_append_u8(b, (uint8_t)x));
    }
    return CCZ_OK;
}

static ccz_status put_key(ccz_buf *b, const json_t *o, const char *path)
{
    char p[64];
    static const char *const parts[] = {"g", "x", "y"};
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s.%s", path, parts[i]);
        CCZ_GUARD(i ? put_bytes(b, o, p, NUM_FIELD) : put_int(b, o, p, 4));
    }
    return CCZ_OK;
}

/* A CSV certificate (CEK, PEK) from its JSON form, field by field as the binary one. */
static ccz_status json_csv_cert(uint8_t out[CCZ_CSV_CERT_SIZE], const json_t *o)
{
    ccz_buf b = CCZ_BUF_INIT;
    ccz_status s;
    const json_t *sigs = json_object_get(o, "sigs");
    CCZ_GUARD_GOTO(put_int(&b, o, "body.ver", 4), s, out);
    CCZ_GUARD_GOTO(put_int(&b, o, "body.data.firmware.major", 1), s, out);
    CCZ_GUARD_GOTO(put_int(&b, o, "body.data.firmware.minor", 1), s, out);
    CCZ_GUARD_GOTO(put_int(&b, o, "body.data.reserved1", 2), s, out);
    CCZ_GUARD_GOTO(put_int(&b, o, "body.data.pubkey.usage", 4), s, out);
    CCZ_GUARD_GOTO(put_int(&b, o, "body.data.pubkey.algo", 4), s, out);
    CCZ_GUARD_GOTO(put_key(&b, o, "body.data.pubkey.key"), s, out);
    CCZ_GUARD_GOTO(put_int(&b, o, "body.data.uid_size", 2), s, out);
    CCZ_GUARD_GOTO(put_bytes(&b, o, "body.data.user_id", UID_MAX), s, out);
    CCZ_GUARD_GOTO(put_bytes(&b, o, "body.data.sid", 16), s, out);
    CCZ_GUARD_GOTO(put_bytes(&b, o, "body.data.reserved2", 608), s, out);
    if (!json_is_array(sigs) || json_array_size(sigs) != 2) {
        s = ccz_fail(CCZ_ERR_MALFORMED, "\"sigs\" is not an array of 2 signatures");
        goto out;
    }
    for (size_t i = 0; i < 2; i++) {
        const json_t *g = json_array_get(sigs, i);
        CCZ_GUARD_GOTO(put_int(&b, g, "usage", 4), s, out);
        CCZ_GUARD_GOTO(put_int(&b, g, "algo", 4), s, out);
        CCZ_GUARD_GOTO(put_bytes(&b, g, "signature.r", NUM_FIELD), s, out);
        CCZ_GUARD_GOTO(put_bytes(&b, g, "signature.s", NUM_FIELD), s, out);
        CCZ_GUARD_GOTO(put_bytes(&b, g, "_reserved", 368), s, out);
    }
    memcpy(out, b.ptr, CCZ_CSV_CERT_SIZE);
out:
    ccz_buf_free(&b);
    return s;
}

/* A CA certificate (HSK) from its JSON form. */
static ccz_status json_ca_cert(uint8_t out[CCZ_CSV_CA_CERT_SIZE], const json_t *o)
{
    ccz_buf b = CCZ_BUF_INIT;
    ccz_status s;
    CCZ_GUARD_GOTO(put_int(&b, o, "body.preamble.ver", 4), s, out);
    CCZ_GUARD_GOTO(put_bytes(&b, o, "body.preamble.data.kid", 16), s, out);
    CCZ_GUARD_GOTO(put_bytes(&b, o, "body.preamble.data.sid", 16), s, out);
    CCZ_GUARD_GOTO(put_int(&b, o, "body.preamble.data.usage", 4), s, out);
    CCZ_GUARD_GOTO(put_bytes(&b, o, "body.preamble.data.reserved", 24), s, out);
    CCZ_GUARD_GOTO(put_key(&b, o, "body.pubkey"), s, out);
    CCZ_GUARD_GOTO(put_int(&b, o, "body.uid_size", 2), s, out);
    CCZ_GUARD_GOTO(put_bytes(&b, o, "body.user_id", UID_MAX), s, out);
    CCZ_GUARD_GOTO(put_bytes(&b, o, "body.reserved", 108), s, out);
    CCZ_GUARD_GOTO(put_bytes(&b, o, "signature.r", NUM_FIELD), s, out);
    CCZ_GUARD_GOTO(put_bytes(&b, o, "signature.s", NUM_FIELD), s, out);
    CCZ_GUARD_GOTO(put_bytes(&b, o, "_reserved", 112), s, out);
    memcpy(out, b.ptr, CCZ_CSV_CA_CERT_SIZE);
out:
    ccz_buf_free(&b);
    return s;
}

static ccz_status evidence_json(ccz_csv_evidence *e, ccz_span in)
{
    ccz_json *doc = NULL;
    ccz_buf raw = CCZ_BUF_INIT;
    ccz_status s = ccz_json_parse(&doc, (const char *)in.ptr, in.len, MAX_JSON);
    if (s)
        return s;
    const json_t *rep = json_object_get((json_t *)doc, "attestation_report");
    const json_t *chain = json_object_get((json_t *)doc, "cert_chain");
    const json_t *hc = json_object_get(chain, "hsk_cek");
    const json_t *log = json_object_get((json_t *)doc, "cc_eventlog");
    uint8_t magic[16];
    uint32_t flags = 0, version = 0;
    CCZ_GUARD_GOTO(put_bytes(&raw, rep, "magic", 16), s, out);
    memcpy(magic, raw.ptr, 16);
    ccz_buf_reset(&raw);
    CCZ_GUARD_GOTO(put_int(&raw, rep, "flags", 4), s, out);
    flags = (uint32_t)raw.ptr[0] | (uint32_t)raw.ptr[1] << 8 | (uint32_t)raw.ptr[2] << 16 |
            (uint32_t)raw.ptr[3] << 24;
    CCZ_GUARD_GOTO(wrapper_version(&version, magic, flags), s, out);
    /* kept in the evidence: the parsed report's spans borrow these bytes */
    CCZ_GUARD_GOTO(put_bytes(&e->json_report, rep, "data", CCZ_CSV_REPORT_DATA_SIZE), s, out);
    CCZ_GUARD_GOTO(ccz_csv_report_parse(&e->report, ccz_buf_span(&e->json_report), version), s,
                   out);
    if (!json_is_object(json_object_get(chain, "pek"))) {
        s = ccz_fail(CCZ_ERR_MALFORMED, "no \"cert_chain\".\"pek\"");
        goto out;
    }
    CCZ_GUARD_GOTO(json_csv_cert(e->pek, json_object_get(chain, "pek")), s, out);
    if (hc && !json_is_null(hc)) {
        CCZ_GUARD_GOTO(json_ca_cert(e->hsk, json_object_get(hc, "hsk")), s, out);
        CCZ_GUARD_GOTO(json_csv_cert(e->cek, json_object_get(hc, "cek")), s, out);
        e->has_hsk_cek = true;
    }
    ccz_buf_reset(&raw);
    CCZ_GUARD_GOTO(put_bytes(&raw, (json_t *)doc, "serial_number", 64), s, out);
    size_t n = 0;
    while (n < 64 && raw.ptr[n] >= 0x20 && raw.ptr[n] < 0x7f)
        n++;
    memcpy(e->serial, raw.ptr, n);
    e->serial[n] = '\0';
    if (json_is_string(log))
        CCZ_GUARD_GOTO(
            ccz_base64_decode(&e->eventlog, json_string_value(log), json_string_length(log)), s,
            out);
    else if (log && !json_is_null(log))
        s = ccz_fail(CCZ_ERR_MALFORMED, "\"cc_eventlog\" is not a base64 string");
out:
    ccz_buf_free(&raw);
    ccz_json_free(doc);
    return s;
}

ccz_status ccz_csv_evidence_parse(ccz_csv_evidence *e, ccz_span in)
{
    memset(e, 0, sizeof *e);
    ccz_status s;
    size_t i = 0;
    while (i < in.len && (in.ptr[i] == ' ' || in.ptr[i] == '\n' || in.ptr[i] == '\t'))
        i++;
    if (i < in.len && in.ptr[i] == '{') {
        e->json = true;
        s = evidence_json(e, in);
        if (s)
            ccz_csv_evidence_free(e);
        return s ? ccz_fail_context(s, "CSV evidence JSON") : CCZ_OK;
    }
    if (in.len == CCZ_CSV_WRAPPED_SIZE) {
        ccz_cursor c;
        uint8_t magic[16];
        uint32_t flags, version = 0;
        ccz_span data;
        ccz_cursor_init(&c, in);
        CCZ_GUARD(ccz_cursor_copy(&c, magic, 16));
        CCZ_GUARD(ccz_cursor_u32le(&c, &flags));
        CCZ_GUARD(ccz_cursor_take(&c, &data, CCZ_CSV_REPORT_DATA_SIZE));
        CCZ_GUARD(wrapper_version(&version, magic, flags));
        CCZ_GUARD(ccz_csv_report_parse(&e->report, data, version));
    } else if (in.len == CCZ_CSV_REPORT_V1_SIZE) {
        CCZ_GUARD(ccz_csv_report_parse(&e->report, in, 1));
    } else {
        return ccz_fail(CCZ_ERR_MALFORMED,
                        "CSV evidence: %zu bytes is neither a version 1 report (%d), a wrapped "
                        "report (%d) nor JSON",
                        in.len, CCZ_CSV_REPORT_V1_SIZE, CCZ_CSV_WRAPPED_SIZE);
    }
    memcpy(e->pek, e->report.pek, sizeof e->pek);
    memcpy(e->serial, e->report.serial, sizeof e->serial);
    return CCZ_OK;
}

void ccz_csv_evidence_free(ccz_csv_evidence *e)
{
    if (!e)
        return;
    ccz_buf_free(&e->eventlog);
    ccz_buf_free(&e->json_report);
}
