/* SPDX-License-Identifier: Apache-2.0 */
/* Arm CCA tokens, verified as rust-ccatoken's Evidence::verify does it: the CPAK looked up by
 * the platform's instance id among the caller's trust anchors, the platform token's signature,
 * the realm token's signature by the RAK it carries, and the binding (the platform challenge is
 * the RAK's hash, with the realm's RAK hash algorithm). The token is untrusted; the anchors
 * come from the trust store the caller passes. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "ccz/cca.h"
#include "core/guard.h"
#include "tee/cca/cca_internal.h"
#include "tee/internal.h"

#define COSE_KTY_EC2 2
#define PLATFORM_CACHE_SLOTS 64

static const EVP_MD *md_named(const char *name)
{
    return !strcmp(name, "sha-256")   ? EVP_sha256()
           : !strcmp(name, "sha-384") ? EVP_sha384()
           : !strcmp(name, "sha-512") ? EVP_sha512()
                                      : NULL;
}

/* A public EC key from an uncompressed SEC1 point, checked to be on the curve. */
static ccz_status key_from_point(EVP_PKEY **out, const char *group, ccz_span pt)
{
    *out = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    OSSL_PARAM params[] = {
        OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)group, 0),
        OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)pt.ptr, pt.len),
        OSSL_PARAM_END,
    };
    int ok = ctx && EVP_PKEY_fromdata_init(ctx) == 1 &&
             EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) == 1;
    EVP_PKEY_CTX_free(ctx);
    if (ok) {
        EVP_PKEY_CTX *chk = EVP_PKEY_CTX_new_from_pkey(NULL, *out, NULL);
        /* on the curve (the quick check): with cofactor 1 (P-256, P-384, P-521) that is in the
         * group, so the full check's scalar multiplication by the order adds nothing */
        ok = chk && EVP_PKEY_public_check_quick(chk) == 1;
        EVP_PKEY_CTX_free(chk);
    }
    if (!ok) {
        EVP_PKEY_free(*out);
        *out = NULL;
        return ccz_fail_ossl(CCZ_ERR_KEY_MALFORMED, "not a point on %s", group);
    }
    return CCZ_OK;
}

static const char *group_of_size(size_t coord)
{
    return coord == 32 ? "P-256" : coord == 48 ? "P-384" : coord == 66 ? "P-521" : NULL;
}

/* A COSE_Key (RFC 9053 §7.1.1): kty 2 (EC2), crv 1..3, x and y of the curve's size. */
static ccz_status cose_key(EVP_PKEY **out, ccz_span in)
{
    ccz_cursor c;
    ccz_cursor_init(&c, in);
    ccz_cbor_head h;
    CCZ_GUARD(ccz_cbor_head_read(&c, &h));
    CCZ_ENSURE(h.major == 5 && h.arg <= ccz_cursor_remaining(&c), CCZ_ERR_KEY_MALFORMED,
               "COSE_Key: not a map");
    int64_t kty = 0, crv = 0;
    ccz_span x = {0}, y = {0};
    for (uint64_t i = 0; i < h.arg; i++) {
        ccz_cbor_head k, v;
        ccz_cursor t = c;
        CCZ_GUARD(ccz_cbor_head_read(&c, &k));
        if (k.major > 1 || k.arg > 16) { /* not a small integer label: skip the pair */
            c = t;
            CCZ_GUARD(ccz_cbor_skip(&c));
            CCZ_GUARD(ccz_cbor_skip(&c));
            continue;
        }
        int64_t label = k.major == 0 ? (int64_t)k.arg : -1 - (int64_t)k.arg;
        if (label == -2 || label == -3) {
            CCZ_GUARD(ccz_cbor_bstr(&c, label == -2 ? &x : &y));
            continue;
        }
        t = c;
        if ((label == 1 || label == -1) && ccz_cbor_head_read(&t, &v) == CCZ_OK && v.major == 0 &&
            v.arg < 16) {
            *(label == 1 ? &kty : &crv) = (int64_t)v.arg;
            c = t;
            continue;
        }
        ccz_error_clear();
        CCZ_GUARD(ccz_cbor_skip(&c));
    }
    CCZ_ENSURE(!ccz_cursor_remaining(&c), CCZ_ERR_TRAILING_DATA,
               "COSE_Key: %zu unexpected bytes after the map", ccz_cursor_remaining(&c));
    CCZ_ENSURE(kty == COSE_KTY_EC2, CCZ_ERR_UNSUPPORTED, "COSE_Key: kty %lld, not 2 (EC2)",
               (long long)kty);
    const char *group = crv == 1 ? "P-256" : crv == 2 ? "P-384" : crv == 3 ? "P-521" : NULL;
    CCZ_ENSURE(group, CCZ_ERR_UNSUPPORTED, "COSE_Key: crv %lld is not P-256, P-384 or P-521",
               (long long)crv);
    size_t n = crv == 1 ? 32 : crv == 2 ? 48 : 66;
    CCZ_ENSURE(x.len == n && y.len == n, CCZ_ERR_KEY_MALFORMED,
               "COSE_Key: x and y must be %zu bytes on %s", n, group);
    uint8_t pt[1 + 2 * 66];
    pt[0] = 0x04;
    memcpy(pt + 1, x.ptr, n);
    memcpy(pt + 1 + n, y.ptr, n);
    return key_from_point(out, group, CCZ_SPAN(pt, 1 + 2 * n));
}

/* The RAK: a SEC1 uncompressed point (legacy realm profile) or a COSE_Key. */
ccz_status tee_cca_rak_key(EVP_PKEY **out, const ccz_cca_evidence *e)
{
    if (e->rak_is_cose_key)
        return cose_key(out, e->rak);
    const char *group = e->rak.len ? group_of_size((e->rak.len - 1) / 2) : NULL;
    CCZ_ENSURE(group && e->rak.len % 2 == 1 && e->rak.ptr[0] == 0x04, CCZ_ERR_KEY_MALFORMED,
               "a %zu-byte public key is not an uncompressed point on P-256, P-384 or P-521",
               e->rak.len);
    return key_from_point(out, group, e->rak);
}

/* The COSE_Sign1 signature by key; the alg must be the key's curve's. */
static ccz_status cose_verify(const ccz_cose_sign1 *m, EVP_PKEY *key)
{
    const EVP_MD *md;
    size_t n;
    switch (m->alg) {
    case CCZ_COSE_ES256:
        md = EVP_sha256(), n = 32;
        break;
    case CCZ_COSE_ES384:
        md = EVP_sha384(), n = 48;
        break;
    case CCZ_COSE_ES512:
        md = EVP_sha512(), n = 66;
        break;
    default:
        return ccz_fail(CCZ_ERR_UNSUPPORTED, "COSE alg %lld is not ES256, ES384 or ES512",
                        (long long)m->alg);
    }
    CCZ_ENSURE((size_t)EVP_PKEY_get_bits(key) == (n == 66 ? 521 : n * 8), CCZ_ERR_BAD_SIGNATURE,
               "the key (%d bits) is not on the curve COSE alg %lld signs with",
               EVP_PKEY_get_bits(key), (long long)m->alg);
    CCZ_ENSURE(m->signature.len == 2 * n, CCZ_ERR_BAD_SIGNATURE,
               "a %zu-byte signature, not %zu (r||s)", m->signature.len, 2 * n);
    ccz_buf tbs = CCZ_BUF_INIT;
    ccz_status s = ccz_cose_sig_structure(&tbs, m);
    if (s == CCZ_OK)
        s = x509_ecdsa_verify_rs(key, md, ccz_buf_span(&tbs), m->signature.ptr,
                                 m->signature.ptr + n, n);
    ccz_buf_free(&tbs);
    if (s == CCZ_ERR_BAD_SIGNATURE)
        return ccz_fail(s, "the signature does not verify");
    return s;
}

/* ---- platform tokens already verified -------------------------------------------------------
 * A realm's platform token changes only with its RAK, so one platform token comes with many
 * realm tokens. A verified one is remembered by the SHA-256 of its bytes, the trust store's id
 * and the anchor that verified it: a hit skips one signature check, nothing else. */
static struct {
    pthread_mutex_t lock;
    struct {
        uint8_t digest[32];
        uint64_t trust_id;
        size_t anchor;
        bool used;
    } slot[PLATFORM_CACHE_SLOTS];
    size_t next;
} platform_cache = {.lock = PTHREAD_MUTEX_INITIALIZER};

static bool platform_cached(const uint8_t d[32], uint64_t trust_id, size_t anchor)
{
    bool hit = false;
    pthread_mutex_lock(&platform_cache.lock);
    for (size_t i = 0; i < PLATFORM_CACHE_SLOTS && !hit; i++)
        hit = platform_cache.slot[i].used && platform_cache.slot[i].trust_id == trust_id &&
              platform_cache.slot[i].anchor == anchor &&
              memcmp(platform_cache.slot[i].digest, d, 32) == 0;
    pthread_mutex_unlock(&platform_cache.lock);
    return hit;
}

static void platform_remember(const uint8_t d[32], uint64_t trust_id, size_t anchor)
{
    pthread_mutex_lock(&platform_cache.lock);
    size_t i = platform_cache.next++ % PLATFORM_CACHE_SLOTS;
    memcpy(platform_cache.slot[i].digest, d, 32);
    platform_cache.slot[i].trust_id = trust_id;
    platform_cache.slot[i].anchor = anchor;
    platform_cache.slot[i].used = true;
    pthread_mutex_unlock(&platform_cache.lock);
}

/* The anchor for this instance id: its own entry, else a key given for any instance. */
static const tee_cca_anchor *find_anchor(const ccz_trust *t, const uint8_t id[33], size_t *index)
{
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < t->n_cca; i++) {
            const tee_cca_anchor *a = &t->cca[i];
            if (pass == 0 ? a->has_instance && memcmp(a->instance_id, id, 33) == 0
                          : !a->has_instance) {
                *index = i;
                return a;
            }
        }
    return NULL;
}

static ccz_status check_platform(ccz_result *r, const ccz_cca_evidence *e, const ccz_trust *t)
{
    size_t idx = 0;
    const tee_cca_anchor *a = find_anchor(t, e->claims.instance_id, &idx);
    char id[67];
    ccz_hex_to_str(id, e->claims.instance_id, 33);
    if (!a)
        return ccz_result_failf(r, CCZ_AT_PLATFORM_TOKEN, CCZ_ERR_PLATFORM_KEY_UNKNOWN,
                                "no platform key (CPAK) for instance id %s among the %zu CCA "
                                "trust anchors (--cca-ta FILE)",
                                id, t->n_cca);
    if (a->has_implementation && memcmp(a->implementation_id, e->claims.implementation_id, 32) != 0)
        return ccz_result_failf(r, CCZ_AT_PLATFORM_TOKEN, CCZ_ERR_PLATFORM_KEY_UNKNOWN,
                                "the trust anchor of instance id %s is for another "
                                "implementation id",
                                id);
    if (!a->key)
        return ccz_result_failf(r, CCZ_AT_PLATFORM_TOKEN, CCZ_ERR_BAD_SIGNATURE,
                                "the platform key (CPAK) the trust anchors give for instance id "
                                "%s is unusable (%s): the platform token cannot verify",
                                id, a->why);
    uint8_t d[32];
    CCZ_GUARD(tee_sha256(d, e->token.platform));
    if (platform_cached(d, t->id, idx))
        return CCZ_OK;
    ccz_status s = cose_verify(&e->platform, a->key);
    if (s)
        return ccz_result_fail(r, CCZ_AT_PLATFORM_TOKEN,
                               ccz_fail_context(s, "the platform token (CPAK of instance %s)", id));
    platform_remember(d, t->id, idx);
    return CCZ_OK;
}

static ccz_status check_realm(ccz_result *r, const ccz_cca_evidence *e)
{
    EVP_PKEY *rak = NULL;
    ccz_status s = tee_cca_rak_key(&rak, e);
    if (s)
        return ccz_result_fail(r, CCZ_AT_REALM_TOKEN,
                               ccz_fail_context(s, "the realm token's public key (RAK)"));
    s = cose_verify(&e->realm, rak);
    EVP_PKEY_free(rak);
    if (s)
        return ccz_result_fail(r, CCZ_AT_REALM_TOKEN,
                               ccz_fail_context(s, "the realm token (by its RAK)"));
    return CCZ_OK;
}

/* The platform vouches for the realm's key: its challenge is the RAK's hash, taken with the
 * RAK hash algorithm (claim 44240, not the realm's own hash algorithm: rust-ccatoken bug 33). */
static ccz_status check_binding(ccz_result *r, const ccz_cca_evidence *e)
{
    const EVP_MD *md = md_named(e->claims.rak_hash_alg);
    if (!md)
        return ccz_result_failf(r, CCZ_AT_REALM_BINDING, CCZ_ERR_UNSUPPORTED,
                                "RAK hash algorithm \"%s\" is not sha-256, sha-384 or sha-512",
                                e->claims.rak_hash_alg);
    uint8_t h[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    if (EVP_Digest(e->rak.ptr, e->rak.len, h, &n, md, NULL) != 1)
        return ccz_result_fail(r, CCZ_AT_REALM_BINDING,
                               ccz_fail_ossl(CCZ_ERR_CRYPTO, "hashing the RAK"));
    if (n != e->claims.platform_challenge_len || !ccz_ct_equal(h, e->claims.platform_challenge, n))
        return ccz_result_failf(r, CCZ_AT_REALM_BINDING, CCZ_ERR_BINDING,
                                "the platform challenge (%u bytes) is not the %s of the realm's "
                                "public key (RAK): the platform does not vouch for this realm",
                                e->claims.platform_challenge_len, e->claims.rak_hash_alg);
    return CCZ_OK;
}

static void fill_claims(ccz_claims *c, const ccz_cca_evidence *e)
{
    c->tee = CCZ_TEE_CCA;
    c->cca = e->claims;
    memcpy(c->report_data, e->realm_challenge, 64);
    /* PSA lifecycle: only "secured" (0x3000..0x30ff) keeps debug off */
    c->debug = (e->claims.lifecycle & 0xff00) != 0x3000;
}

static ccz_status cca_verify(ccz_result *r, ccz_span evidence, const ccz_verify_opts *o)
{
    static __thread ccz_cca_evidence e;
    ccz_status s = ccz_cca_evidence_parse(&e, evidence);
    if (s)
        return ccz_result_fail(r, CCZ_AT_PARSE, s);
    CCZ_GUARD(check_platform(r, &e, o->trust));
    CCZ_GUARD(check_realm(r, &e));
    CCZ_GUARD(check_binding(r, &e));
    if (o->expected_report_data && !ccz_ct_equal(o->expected_report_data, e.realm_challenge, 64))
        return ccz_result_failf(r, CCZ_AT_REPORT_DATA, CCZ_ERR_REPORT_DATA_MISMATCH,
                                "the realm challenge is not the expected report data");
    fill_claims(&r->claims, &e);
    return CCZ_OK;
}

static bool cca_detect(ccz_span ev)
{
    return ccz_cca_detect(ev);
}

const tee_backend tee_backend_cca = {
    .tee = CCZ_TEE_CCA,
    .detect = cca_detect,
    .verify = cca_verify,
    .attester = NULL,
};

ccz_status tee_cca_peek(ccz_claims *c, ccz_span evidence)
{
    static __thread ccz_cca_evidence e;
    CCZ_GUARD(ccz_cca_evidence_parse(&e, evidence));
    fill_claims(c, &e);
    return CCZ_OK;
}
