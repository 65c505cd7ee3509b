/* SPDX-License-Identifier: Apache-2.0 */
/* Arm CCA tokens, parsed: the collection (tag 399 or the CMW tag 907), the two COSE_Sign1
 * messages and their claims (rust-ccatoken src/token/platform.rs, realm.rs; the CCA RMM and
 * PSA token specs). Everything read here is untrusted and read through the core cursor's CBOR
 * reader; nothing is verified. */
#include <stdio.h>
#include <string.h>

#include "ccz/cca.h"
#include "core/guard.h"

#define COSE_SIGN1_TAG 18
#define CMW_CONTENT_FORMAT 263 /* application/eat-cwt; profile=... as a CoAP content format */

/* platform claim keys */
#define P_PROFILE 265
#define P_CHALLENGE 10
#define P_IMPLEMENTATION 2396
#define P_INSTANCE 256
#define P_CONFIG 2401
#define P_LIFECYCLE 2395
#define P_SW_COMPONENTS 2399
#define P_VERIFICATION_SERVICE 2400
#define P_HASH_ALG 2402
/* realm claim keys */
#define R_CHALLENGE 10
#define R_PROFILE 265
#define R_PV 44235
#define R_HASH_ALG 44236
#define R_RAK 44237
#define R_RIM 44238
#define R_REM 44239
#define R_RAK_HASH_ALG 44240

/* ---- CBOR items beyond the core reader ------------------------------------------------------*/

/* s with `what` prefixed to its detail when it is a failure. */
static ccz_status named(ccz_status s, const char *what)
{
    return s ? ccz_fail_context(s, "%s", what) : CCZ_OK;
}

/* An integer (major 0 or 1) that fits int64. */
static ccz_status cbor_int(ccz_cursor *c, int64_t *out)
{
    ccz_cursor t = *c;
    ccz_cbor_head h;
    CCZ_GUARD(ccz_cbor_head_read(&t, &h));
    CCZ_ENSURE(h.major <= 1, CCZ_ERR_MALFORMED, "CBOR: integer expected at offset %zu", c->pos);
    CCZ_ENSURE(h.arg <= (uint64_t)INT64_MAX, CCZ_ERR_OVERFLOW,
               "CBOR: integer at offset %zu does not fit 64 bits", c->pos);
    *out = h.major == 0 ? (int64_t)h.arg : -1 - (int64_t)h.arg;
    *c = t;
    return CCZ_OK;
}

/* A head of the given major type; its argument in *arg. */
static ccz_status cbor_expect(ccz_cursor *c, uint8_t major, uint64_t *arg, const char *what)
{
    ccz_cursor t = *c;
    ccz_cbor_head h;
    CCZ_GUARD(ccz_cbor_head_read(&t, &h));
    CCZ_ENSURE(h.major == major, CCZ_ERR_MALFORMED, "CBOR: %s expected at offset %zu", what,
               c->pos);
    /* every element of an array or map takes at least one byte */
    CCZ_ENSURE(major < 4 || major > 5 || h.arg <= ccz_cursor_remaining(&t), CCZ_ERR_TRUNCATED,
               "CBOR: %s of %llu elements exceeds the input", what, (unsigned long long)h.arg);
    *arg = h.arg;
    *c = t;
    return CCZ_OK;
}

/* A byte string of at most max bytes, copied; *len gets its size. */
static ccz_status bstr_copy(ccz_cursor *c, uint8_t *out, size_t max, uint8_t *len, const char *what)
{
    ccz_span b;
    CCZ_GUARD(named(ccz_cbor_bstr(c, &b), what));
    CCZ_ENSURE(b.len <= max, CCZ_ERR_MALFORMED, "%s: %zu bytes, more than %zu", what, b.len, max);
    if (b.len)
        memcpy(out, b.ptr, b.len);
    if (len)
        *len = (uint8_t)b.len;
    return CCZ_OK;
}

/* A byte string of exactly n bytes, copied. */
static ccz_status bstr_fixed(ccz_cursor *c, uint8_t *out, size_t n, const char *what)
{
    ccz_span b;
    ccz_status s = ccz_cbor_bstr(c, &b);
    if (s)
        return ccz_fail_context(s, "%s", what);
    CCZ_ENSURE(b.len == n, CCZ_ERR_MALFORMED, "%s: %zu bytes, not %zu", what, b.len, n);
    memcpy(out, b.ptr, n);
    return CCZ_OK;
}

/* A text string copied NUL-terminated into cap bytes (longer is malformed; no NUL inside). */
static ccz_status tstr_copy(ccz_cursor *c, char *out, size_t cap, const char *what)
{
    ccz_span t;
    ccz_status s = ccz_cbor_tstr(c, &t);
    if (s)
        return ccz_fail_context(s, "%s", what);
    CCZ_ENSURE(t.len < cap, CCZ_ERR_MALFORMED, "%s: %zu characters, more than %zu", what, t.len,
               cap - 1);
    CCZ_ENSURE(!memchr(t.ptr, 0, t.len), CCZ_ERR_MALFORMED, "%s: a NUL inside the text", what);
    memcpy(out, t.ptr, t.len);
    out[t.len] = '\0';
    return CCZ_OK;
}

/* Reads tag n (or none when optional); CCZ_ERR_MALFORMED for another tag. */
static ccz_status cbor_tag(ccz_cursor *c, uint64_t want, bool optional, const char *what)
{
    ccz_cursor t = *c;
    ccz_cbor_head h;
    CCZ_GUARD(ccz_cbor_head_read(&t, &h));
    if (h.major != 6) {
        CCZ_ENSURE(optional, CCZ_ERR_MALFORMED, "%s: CBOR tag %llu expected", what,
                   (unsigned long long)want);
        return CCZ_OK;
    }
    CCZ_ENSURE(h.arg == want, CCZ_ERR_MALFORMED, "%s: CBOR tag %llu, not %llu", what,
               (unsigned long long)h.arg, (unsigned long long)want);
    *c = t;
    return CCZ_OK;
}

/* ---- COSE_Sign1 -----------------------------------------------------------------------------*/

/* The protected header: a map with alg (label 1) an integer; other labels are skipped, except
 * crit (label 2): it names parameters the verifier must understand (RFC 9052 §3.1), and ccz
 * understands none beyond alg. */
static ccz_status read_protected(ccz_cose_sign1 *m)
{
    ccz_cursor c;
    ccz_cursor_init(&c, m->protected_hdr);
    uint64_t n;
    CCZ_GUARD(cbor_expect(&c, 5, &n, "COSE protected header map"));
    bool have_alg = false;
    for (uint64_t i = 0; i < n; i++) {
        ccz_cursor k = c;
        int64_t label = 0;
        if (cbor_int(&k, &label) == CCZ_OK && label == 1) {
            CCZ_ENSURE(!have_alg, CCZ_ERR_MALFORMED, "COSE protected header: alg given twice");
            c = k;
            CCZ_GUARD(named(cbor_int(&c, &m->alg), "COSE alg"));
            have_alg = true;
            continue;
        }
        CCZ_ENSURE(label != 2, CCZ_ERR_UNSUPPORTED,
                   "COSE protected header: critical parameters (crit, label 2) are not understood");
        ccz_error_clear();
        CCZ_GUARD(ccz_cbor_skip(&c));
        CCZ_GUARD(ccz_cbor_skip(&c));
    }
    CCZ_GUARD(named(ccz_cursor_expect_end(&c), "COSE protected header"));
    CCZ_ENSURE(have_alg, CCZ_ERR_MALFORMED, "COSE protected header: no alg");
    return CCZ_OK;
}

ccz_status ccz_cose_sign1_parse(ccz_cose_sign1 *out, ccz_span in)
{
    memset(out, 0, sizeof *out);
    ccz_cursor c;
    ccz_cursor_init(&c, in);
    uint64_t n;
    CCZ_GUARD(cbor_tag(&c, COSE_SIGN1_TAG, true, "COSE_Sign1"));
    CCZ_GUARD(cbor_expect(&c, 4, &n, "COSE_Sign1 array"));
    CCZ_ENSURE(n == 4, CCZ_ERR_MALFORMED, "COSE_Sign1: %llu elements, not 4",
               (unsigned long long)n);
    CCZ_GUARD(ccz_cbor_bstr(&c, &out->protected_hdr));
    CCZ_GUARD(cbor_expect(&c, 5, &n, "COSE unprotected header map"));
    for (uint64_t i = 0; i < 2 * n; i++)
        CCZ_GUARD(ccz_cbor_skip(&c));
    ccz_span peek;
    CCZ_GUARD(ccz_cursor_peek(&c, &peek, 1));
    CCZ_ENSURE(peek.ptr[0] != 0xf6, CCZ_ERR_UNSUPPORTED, "COSE_Sign1: detached payload");
    CCZ_GUARD(ccz_cbor_bstr(&c, &out->payload));
    CCZ_GUARD(ccz_cbor_bstr(&c, &out->signature));
    CCZ_GUARD(named(ccz_cursor_expect_end(&c), "COSE_Sign1"));
    return read_protected(out);
}

/* A CBOR head of major type `major` with argument n, in the shortest form. */
static ccz_status put_head(ccz_buf *b, uint8_t major, uint64_t n)
{
    uint8_t h[9];
    size_t len;
    if (n < 24) {
        h[0] = (uint8_t)(major << 5 | n);
        len = 1;
    } else {
        int bytes = n <= 0xff ? 1 : n <= 0xffff ? 2 : n <= 0xffffffffu ? 4 : 8;
        h[0] = (uint8_t)(major << 5 | (bytes == 1 ? 24 : bytes == 2 ? 25 : bytes == 4 ? 26 : 27));
        for (int i = 0; i < bytes; i++)
            h[1 + i] = (uint8_t)(n >> (8 * (bytes - 1 - i)));
        len = 1 + (size_t)bytes;
    }
    return ccz_buf_append(b, h, len);
}

ccz_status ccz_cose_sig_structure(ccz_buf *out, const ccz_cose_sign1 *m)
{
    static const char ctx[] = "Signature1";
    CCZ_GUARD(put_head(out, 4, 4));
    CCZ_GUARD(put_head(out, 3, sizeof ctx - 1));
    CCZ_GUARD(ccz_buf_append(out, ctx, sizeof ctx - 1));
    CCZ_GUARD(put_head(out, 2, m->protected_hdr.len));
    CCZ_GUARD(ccz_buf_append(out, m->protected_hdr.ptr, m->protected_hdr.len));
    CCZ_GUARD(put_head(out, 2, 0)); /* external_aad: none */
    CCZ_GUARD(put_head(out, 2, m->payload.len));
    return ccz_buf_append(out, m->payload.ptr, m->payload.len);
}

/* ---- the collection -------------------------------------------------------------------------*/

bool ccz_cca_detect(ccz_span in)
{
    ccz_cursor c;
    ccz_cursor_init(&c, in);
    ccz_cbor_head h;
    bool ok = ccz_cbor_head_read(&c, &h) == CCZ_OK && h.major == 6 &&
              (h.arg == CCZ_CCA_TAG_COLLECTION || h.arg == CCZ_CCA_TAG_CMW) &&
              ccz_cbor_head_read(&c, &h) == CCZ_OK && h.major == 5;
    ccz_error_clear();
    return ok;
}

/* One entry's value: a bstr (tag 399), or [263, bstr] (CMW). */
static ccz_status entry_value(ccz_cursor *c, unsigned tag, ccz_span *out, const char *what)
{
    if (tag == CCZ_CCA_TAG_CMW) {
        uint64_t n;
        int64_t type;
        CCZ_GUARD(cbor_expect(c, 4, &n, what));
        CCZ_ENSURE(n == 2, CCZ_ERR_MALFORMED, "%s: a CMW record of %llu elements, not 2", what,
                   (unsigned long long)n);
        CCZ_GUARD(cbor_int(c, &type));
        CCZ_ENSURE(type == CMW_CONTENT_FORMAT, CCZ_ERR_UNSUPPORTED,
                   "%s: CMW content format %lld, not %d (EAT CWT)", what, (long long)type,
                   CMW_CONTENT_FORMAT);
    }
    ccz_status s = ccz_cbor_bstr(c, out);
    return s ? ccz_fail_context(s, "%s", what) : CCZ_OK;
}

ccz_status ccz_cca_token_parse(ccz_cca_token *out, ccz_span in)
{
    memset(out, 0, sizeof *out);
    ccz_cursor c;
    ccz_cursor_init(&c, in);
    ccz_cbor_head h;
    CCZ_GUARD(ccz_cbor_head_read(&c, &h));
    CCZ_ENSURE(h.major == 6 && (h.arg == CCZ_CCA_TAG_COLLECTION || h.arg == CCZ_CCA_TAG_CMW),
               CCZ_ERR_MALFORMED, "CCA token: CBOR tag 399 or 907 expected");
    out->tag = (unsigned)h.arg;
    uint64_t n;
    CCZ_GUARD(cbor_expect(&c, 5, &n, "CCA token collection map"));
    for (uint64_t i = 0; i < n; i++) {
        int64_t label;
        CCZ_GUARD(named(cbor_int(&c, &label), "CCA token: collection key"));
        ccz_span *slot = label == CCZ_CCA_PLATFORM_LABEL ? &out->platform
                         : label == CCZ_CCA_REALM_LABEL  ? &out->realm
                                                         : NULL;
        CCZ_ENSURE(slot, CCZ_ERR_MALFORMED, "CCA token: unexpected collection key %lld",
                   (long long)label);
        CCZ_ENSURE(!slot->ptr, CCZ_ERR_MALFORMED, "CCA token: key %lld given twice",
                   (long long)label);
        CCZ_GUARD(entry_value(&c, out->tag, slot,
                              label == CCZ_CCA_PLATFORM_LABEL ? "CCA platform token"
                                                              : "CCA realm token"));
    }
    CCZ_GUARD(named(ccz_cursor_expect_end(&c), "CCA token"));
    CCZ_ENSURE(out->platform.ptr, CCZ_ERR_MALFORMED, "CCA token: no platform token (44234)");
    CCZ_ENSURE(out->realm.ptr, CCZ_ERR_MALFORMED, "CCA token: no realm token (44241)");
    return CCZ_OK;
}

/* ---- claims ---------------------------------------------------------------------------------*/

/* Marks key bit i seen; a claim given twice is malformed. */
static ccz_status seen(uint32_t *mask, unsigned bit, int64_t key, const char *token)
{
    CCZ_ENSURE(!(*mask & (1u << bit)), CCZ_ERR_MALFORMED, "%s claim %lld given twice", token,
               (long long)key);
    *mask |= 1u << bit;
    return CCZ_OK;
}

static ccz_status sw_component(ccz_cursor *c, ccz_cca_sw_component *sw)
{
    uint64_t n;
    uint32_t mask = 0;
    CCZ_GUARD(cbor_expect(c, 5, &n, "software component map"));
    for (uint64_t i = 0; i < n; i++) {
        int64_t key = 0;
        CCZ_GUARD(cbor_int(c, &key));
        switch (key) {
        case 1:
            CCZ_GUARD(seen(&mask, 1, key, "software component"));
            CCZ_GUARD(tstr_copy(c, sw->type, sizeof sw->type, "measurement type"));
            break;
        case 2:
            CCZ_GUARD(seen(&mask, 2, key, "software component"));
            CCZ_GUARD(bstr_copy(c, sw->measurement, sizeof sw->measurement, &sw->measurement_len,
                                "measurement value"));
            break;
        case 4:
            CCZ_GUARD(seen(&mask, 4, key, "software component"));
            CCZ_GUARD(tstr_copy(c, sw->version, sizeof sw->version, "version"));
            break;
        case 5:
            CCZ_GUARD(seen(&mask, 5, key, "software component"));
            CCZ_GUARD(
                bstr_copy(c, sw->signer_id, sizeof sw->signer_id, &sw->signer_id_len, "signer id"));
            break;
        case 6:
            CCZ_GUARD(seen(&mask, 6, key, "software component"));
            CCZ_GUARD(tstr_copy(c, sw->hash_alg, sizeof sw->hash_alg, "hash algorithm"));
            break;
        default:
            CCZ_GUARD(ccz_cbor_skip(c));
        }
    }
    CCZ_ENSURE(mask & (1u << 2), CCZ_ERR_MALFORMED, "software component without a measurement");
    CCZ_ENSURE(mask & (1u << 5), CCZ_ERR_MALFORMED, "software component without a signer id");
    return CCZ_OK;
}

/* One platform claim into the ccz_cca_claims at arg. */
static ccz_status platform_claim(ccz_cursor *c, int64_t key, void *arg, uint32_t *mask)
{
    ccz_cca_claims *cl = arg;
    uint64_t n;
    int64_t v;
    switch (key) {
    case P_PROFILE:
        CCZ_GUARD(seen(mask, 0, key, "platform"));
        return tstr_copy(c, cl->platform_profile, sizeof cl->platform_profile, "profile");
    case P_CHALLENGE:
        CCZ_GUARD(seen(mask, 1, key, "platform"));
        CCZ_GUARD(bstr_copy(c, cl->platform_challenge, sizeof cl->platform_challenge,
                            &cl->platform_challenge_len, "challenge"));
        CCZ_ENSURE(cl->platform_challenge_len == 32 || cl->platform_challenge_len == 48 ||
                       cl->platform_challenge_len == 64,
                   CCZ_ERR_MALFORMED, "challenge: %u bytes, not 32, 48 or 64",
                   cl->platform_challenge_len);
        return CCZ_OK;
    case P_IMPLEMENTATION:
        CCZ_GUARD(seen(mask, 2, key, "platform"));
        return bstr_fixed(c, cl->implementation_id, 32, "implementation id");
    case P_INSTANCE:
        CCZ_GUARD(seen(mask, 3, key, "platform"));
        CCZ_GUARD(bstr_fixed(c, cl->instance_id, 33, "instance id"));
        CCZ_ENSURE(cl->instance_id[0] == 0x01, CCZ_ERR_MALFORMED,
                   "instance id: type byte 0x%02x, not 0x01 (a RAND EUID)", cl->instance_id[0]);
        return CCZ_OK;
    case P_CONFIG:
        CCZ_GUARD(seen(mask, 4, key, "platform"));
        return bstr_copy(c, cl->platform_config, sizeof cl->platform_config,
                         &cl->platform_config_len, "platform configuration");
    case P_LIFECYCLE:
        CCZ_GUARD(seen(mask, 5, key, "platform"));
        CCZ_GUARD(cbor_int(c, &v));
        CCZ_ENSURE(v >= 0 && v <= 0xffff, CCZ_ERR_MALFORMED, "lifecycle %lld out of range",
                   (long long)v);
        cl->lifecycle = (uint16_t)v;
        return CCZ_OK;
    case P_SW_COMPONENTS:
        CCZ_GUARD(seen(mask, 6, key, "platform"));
        CCZ_GUARD(cbor_expect(c, 4, &n, "software components"));
        CCZ_ENSURE(n >= 1 && n <= CCZ_CCA_MAX_SW_COMPONENTS, CCZ_ERR_MALFORMED,
                   "%llu software components (1 to %d are read)", (unsigned long long)n,
                   CCZ_CCA_MAX_SW_COMPONENTS);
        for (uint64_t i = 0; i < n; i++) {
            ccz_status s = sw_component(c, &cl->sw_components[i]);
            if (s)
                return ccz_fail_context(s, "software component %llu", (unsigned long long)i);
        }
        cl->n_sw_components = (size_t)n;
        return CCZ_OK;
    case P_VERIFICATION_SERVICE:
        CCZ_GUARD(seen(mask, 7, key, "platform"));
        return tstr_copy(c, cl->verification_service, sizeof cl->verification_service,
                         "verification service");
    case P_HASH_ALG:
        CCZ_GUARD(seen(mask, 8, key, "platform"));
        return tstr_copy(c, cl->platform_hash_alg, sizeof cl->platform_hash_alg, "hash algorithm");
    default:
        return ccz_cbor_skip(c);
    }
}

/* One realm claim into the ccz_cca_evidence at arg. */
static ccz_status realm_claim(ccz_cursor *c, int64_t key, void *arg, uint32_t *mask)
{
    ccz_cca_evidence *e = arg;
    ccz_cca_claims *cl = &e->claims;
    uint64_t n;
    uint8_t len = 0;
    switch (key) {
    case R_CHALLENGE:
        CCZ_GUARD(seen(mask, 0, key, "realm"));
        return bstr_fixed(c, e->realm_challenge, 64, "challenge");
    case R_PROFILE:
        CCZ_GUARD(seen(mask, 1, key, "realm"));
        return tstr_copy(c, cl->realm_profile, sizeof cl->realm_profile, "profile");
    case R_PV:
        CCZ_GUARD(seen(mask, 2, key, "realm"));
        return bstr_fixed(c, cl->personalization_value, 64, "personalization value");
    case R_HASH_ALG:
        CCZ_GUARD(seen(mask, 3, key, "realm"));
        return tstr_copy(c, cl->realm_hash_alg, sizeof cl->realm_hash_alg, "hash algorithm");
    case R_RAK:
        CCZ_GUARD(seen(mask, 4, key, "realm"));
        return named(ccz_cbor_bstr(c, &e->rak), "public key");
    case R_RIM:
        CCZ_GUARD(seen(mask, 5, key, "realm"));
        CCZ_GUARD(bstr_copy(c, cl->rim, sizeof cl->rim, &cl->rim_len, "initial measurement"));
        CCZ_ENSURE(cl->rim_len == 32 || cl->rim_len == 48 || cl->rim_len == 64, CCZ_ERR_MALFORMED,
                   "initial measurement: %u bytes, not 32, 48 or 64", cl->rim_len);
        return CCZ_OK;
    case R_REM:
        CCZ_GUARD(seen(mask, 6, key, "realm"));
        CCZ_GUARD(cbor_expect(c, 4, &n, "extensible measurements"));
        CCZ_ENSURE(n == 4, CCZ_ERR_MALFORMED, "%llu extensible measurements, not 4",
                   (unsigned long long)n);
        for (int i = 0; i < 4; i++) {
            CCZ_GUARD(bstr_copy(c, cl->rem[i], sizeof cl->rem[i], &len, "extensible measurement"));
            /* the RIM's size is checked once all claims are read */
            CCZ_ENSURE(len == 32 || len == 48 || len == 64, CCZ_ERR_MALFORMED,
                       "extensible measurement %d: %u bytes, not 32, 48 or 64", i, len);
            e->rem_len[i] = len;
        }
        return CCZ_OK;
    case R_RAK_HASH_ALG:
        CCZ_GUARD(seen(mask, 7, key, "realm"));
        return tstr_copy(c, cl->rak_hash_alg, sizeof cl->rak_hash_alg, "RAK hash algorithm");
    default:
        return ccz_cbor_skip(c);
    }
}

typedef struct {
    unsigned bit;
    const char *name;
} required_claim;

/* Walks a token's claims map, each integer-keyed claim through claim (a text key is not a claim
 * of this profile: skipped), then checks that every required claim was seen. */
static ccz_status claims_map(ccz_span payload,
                             ccz_status (*claim)(ccz_cursor *c, int64_t key, void *arg,
                                                 uint32_t *mask),
                             void *arg, const required_claim *required, size_t n_required)
{
    ccz_cursor c;
    ccz_cursor_init(&c, payload);
    uint64_t n;
    uint32_t mask = 0;
    CCZ_GUARD(cbor_expect(&c, 5, &n, "claims map"));
    for (uint64_t i = 0; i < n; i++) {
        int64_t key;
        ccz_cursor k = c;
        if (cbor_int(&k, &key) != CCZ_OK) {
            ccz_error_clear();
            CCZ_GUARD(ccz_cbor_skip(&c));
            CCZ_GUARD(ccz_cbor_skip(&c));
            continue;
        }
        c = k;
        ccz_status s = claim(&c, key, arg, &mask);
        if (s)
            return ccz_fail_context(s, "claim %lld", (long long)key);
    }
    CCZ_GUARD(named(ccz_cursor_expect_end(&c), "claims map"));
    for (size_t i = 0; i < n_required; i++)
        CCZ_ENSURE(mask & (1u << required[i].bit), CCZ_ERR_MALFORMED, "no %s", required[i].name);
    return CCZ_OK;
}

/* The profiles whose claims this file reads (docs/cca.md); another profile's claims may mean
 * something else, so its token is refused rather than read as one of these. */
static const char *const platform_profiles[] = {"http://arm.com/CCA-SSD/1.0.0",
                                                "tag:arm.com,2023:cca_platform#1.0.0"};
static const char *const realm_profiles[] = {"tag:arm.com,2023:realm#1.0.0",
                                             "tag:arm.com,2024:realm#2.0.0"};

/* An absent profile (""), or one of the n known. */
static ccz_status known_profile(const char *p, const char *const *known, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(p, known[i]) == 0)
            return CCZ_OK;
    CCZ_ENSURE(!p[0], CCZ_ERR_UNSUPPORTED, "profile \"%s\" is not one ccz reads", p);
    return CCZ_OK;
}

/* Platform claims: every required claim present, the profile a known one. */
static ccz_status platform_claims(ccz_cca_evidence *e)
{
    static const required_claim required[] = {{1, "challenge (10)"},
                                              {2, "implementation id (2396)"},
                                              {3, "instance id (256)"},
                                              {5, "lifecycle (2395)"},
                                              {6, "software components (2399)"}};
    CCZ_GUARD(claims_map(e->platform.payload, platform_claim, &e->claims, required,
                         CCZ_ARRAY_LEN(required)));
    return known_profile(e->claims.platform_profile, platform_profiles,
                         CCZ_ARRAY_LEN(platform_profiles));
}

static ccz_status realm_claims(ccz_cca_evidence *e)
{
    static const required_claim required[] = {{0, "challenge (10)"},
                                              {2, "personalization value (44235)"},
                                              {3, "hash algorithm (44236)"},
                                              {4, "public key (44237)"},
                                              {5, "initial measurement (44238)"},
                                              {6, "extensible measurements (44239)"},
                                              {7, "public key hash algorithm (44240)"}};
    CCZ_GUARD(claims_map(e->realm.payload, realm_claim, e, required, CCZ_ARRAY_LEN(required)));
    for (int i = 0; i < 4; i++)
        CCZ_ENSURE(e->rem_len[i] == e->claims.rim_len, CCZ_ERR_MALFORMED,
                   "extensible measurement %d: %u bytes, the initial measurement %u", i,
                   e->rem_len[i], e->claims.rim_len);
    CCZ_GUARD(
        known_profile(e->claims.realm_profile, realm_profiles, CCZ_ARRAY_LEN(realm_profiles)));
    /* the legacy profile carries the RAK as a SEC1 point; the later ones as a COSE_Key */
    e->rak_is_cose_key = e->claims.realm_profile[0] != '\0';
    return CCZ_OK;
}

ccz_status ccz_cca_evidence_parse(ccz_cca_evidence *e, ccz_span in)
{
    memset(e, 0, sizeof *e);
    CCZ_GUARD(ccz_cca_token_parse(&e->token, in));
    CCZ_GUARD(named(ccz_cose_sign1_parse(&e->platform, e->token.platform), "CCA platform token"));
    CCZ_GUARD(named(ccz_cose_sign1_parse(&e->realm, e->token.realm), "CCA realm token"));
    CCZ_GUARD(named(platform_claims(e), "CCA platform token"));
    CCZ_GUARD(named(realm_claims(e), "CCA realm token"));
    return CCZ_OK;
}
