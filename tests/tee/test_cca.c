/* SPDX-License-Identifier: Apache-2.0 */
/* Arm CCA tokens built and signed here (keys generated per run): every signature algorithm,
 * both collections, the legacy and COSE_Key RAKs, both binding hashes, and each failure with its
 * code and step; the Sig_structure against bytes written out by hand; malformed framings; each
 * claim's rule (sizes, type byte, ranges, counts, required and repeated claims) on unsigned
 * tokens; the trust-anchor documents (PEM, JWK, store) and their bound of 4096 anchors. */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "ccz/ccz.h"
#include "jose/jose.h"
#include "test.h"

/* ---- a CBOR writer for the tests ----------------------------------------------------------*/
static void head(ccz_buf *b, uint8_t major, uint64_t n)
{
    uint8_t h[9];
    size_t len = 1;
    if (n < 24) {
        h[0] = (uint8_t)(major << 5 | n);
    } else {
        int k = n <= 0xff ? 1 : n <= 0xffff ? 2 : n <= 0xffffffffu ? 4 : 8;
        h[0] = (uint8_t)(major << 5 | (k == 1 ? 24 : k == 2 ? 25 : k == 4 ? 26 : 27));
        for (int i = 0; i < k; i++)
            h[1 + i] = (uint8_t)(n >> (8 * (k - 1 - i)));
        len += (size_t)k;
    }
    CHECK_OK(ccz_buf_append(b, h, len));
}
static void num(ccz_buf *b, int64_t v)
{
    v >= 0 ? head(b, 0, (uint64_t)v) : head(b, 1, (uint64_t)(-1 - v));
}
static void bstr(ccz_buf *b, const void *p, size_t n)
{
    head(b, 2, n);
    CHECK_OK(ccz_buf_append(b, p, n));
}
static void tstr(ccz_buf *b, const char *s)
{
    head(b, 3, strlen(s));
    CHECK_OK(ccz_buf_append(b, s, strlen(s)));
}

typedef struct {
    unsigned tag;            /* 399 or 907 */
    const char *plat_curve;  /* "P-256", ... */
    int64_t plat_alg;        /* the alg written (may disagree with the curve) */
    const char *realm_curve; /* the RAK's */
    int64_t realm_alg;
    const char *realm_profile; /* NULL: legacy (SEC1 RAK) */
    const char *rak_hash;      /* the RAK hash algorithm claimed */
    const char *bind_hash;     /* the one the challenge is made with */
    uint16_t lifecycle;
    bool break_realm_sig;
    bool pad_challenge; /* the challenge: the RAK's hash, then zeros to 64 bytes */
    bool hybrid_rak;    /* the legacy RAK in SEC1's hybrid form (0x06/0x07), not 0x04 */
    int64_t kty, crv;   /* the COSE_Key's kty and crv when not 0 */
    size_t y_cut;       /* the COSE_Key's y this many bytes short */
    size_t y_extra;     /* the COSE_Key's y this many (zero) bytes long */
    bool rak_trailing;  /* a zero byte after the RAK's COSE_Key (the challenge binds it too) */
    bool sec1_rak;      /* the RAK a SEC1 point whatever the realm profile */
    size_t rak_cut;     /* the SEC1 RAK this many bytes short */
    bool rak_off_curve; /* the SEC1 RAK's last byte flipped: a point off the curve */
} spec;

static size_t sig_extra; /* bytes after r||s in every signature made */

static size_t coord(const char *curve)
{
    return !strcmp(curve, "P-256") ? 32 : !strcmp(curve, "P-384") ? 48 : 66;
}

/* raw r||s of an ECDSA signature over the Sig_structure */
static void sign(ccz_buf *out, EVP_PKEY *k, const char *curve, int64_t alg, ccz_span payload)
{
    ccz_buf prot = CCZ_BUF_INIT, tbs = CCZ_BUF_INIT;
    head(&prot, 5, 1);
    num(&prot, 1);
    num(&prot, alg);
    ccz_cose_sign1 m = {ccz_buf_span(&prot), payload, {0}, alg};
    CHECK_OK(ccz_cose_sig_structure(&tbs, &m));
    const EVP_MD *md = alg == -7 ? EVP_sha256() : alg == -35 ? EVP_sha384() : EVP_sha512();
    uint8_t der[256];
    size_t dl = sizeof der;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    CHECK(EVP_DigestSignInit(ctx, NULL, md, NULL, k) == 1 &&
          EVP_DigestSign(ctx, der, &dl, tbs.ptr, tbs.len) == 1);
    EVP_MD_CTX_free(ctx);
    const uint8_t *p = der;
    ECDSA_SIG *s = d2i_ECDSA_SIG(NULL, &p, (long)dl);
    size_t n = coord(curve);
    uint8_t rs[140] = {0};
    BN_bn2binpad(ECDSA_SIG_get0_r(s), rs, (int)n);
    BN_bn2binpad(ECDSA_SIG_get0_s(s), rs + n, (int)n);
    ECDSA_SIG_free(s);
    head(out, 6, 18);
    head(out, 4, 4);
    bstr(out, prot.ptr, prot.len);
    head(out, 5, 0);
    bstr(out, payload.ptr, payload.len);
    bstr(out, rs, 2 * n + sig_extra);
    ccz_buf_free(&prot);
    ccz_buf_free(&tbs);
}

static const uint8_t instance[33] = {0x01, 7, 6, 5, 4, 3, 2, 1};

/* the RAK as the realm token carries it */
static void rak_bytes(ccz_buf *out, EVP_PKEY *k, const spec *s)
{
    size_t n = coord(s->realm_curve);
    BIGNUM *x = NULL, *y = NULL;
    CHECK(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_X, &x) &&
          EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_Y, &y));
    uint8_t xb[66], yb[67] = {0};
    BN_bn2binpad(x, xb, (int)n);
    BN_bn2binpad(y, yb, (int)n);
    BN_free(x);
    BN_free(y);
    if (!s->realm_profile || s->sec1_rak) {
        CHECK_OK(ccz_buf_append_u8(out, s->hybrid_rak ? 0x06 | (yb[n - 1] & 1) : 0x04));
        CHECK_OK(ccz_buf_append(out, xb, n));
        yb[n - 1] ^= s->rak_off_curve;
        CHECK_OK(ccz_buf_append(out, yb, n - s->rak_cut));
        return;
    }
    head(out, 5, 4);
    num(out, 1), num(out, s->kty ? s->kty : 2);
    num(out, -1), num(out, s->crv ? s->crv : n == 32 ? 1 : n == 48 ? 2 : 3);
    num(out, -2), bstr(out, xb, n);
    num(out, -3), bstr(out, yb, n - s->y_cut + s->y_extra);
    if (s->rak_trailing)
        CHECK_OK(ccz_buf_append_u8(out, 0));
}

/* Builds a token per spec, signed by plat and realm. */
static void build(ccz_buf *tok, const spec *s, EVP_PKEY *plat, EVP_PKEY *realm)
{
    ccz_buf rak = CCZ_BUF_INIT, pp = CCZ_BUF_INIT, rp = CCZ_BUF_INIT, pc = CCZ_BUF_INIT,
            rc = CCZ_BUF_INIT;
    rak_bytes(&rak, realm, s);
    uint8_t ch[64] = {0};
    unsigned chl = 0;
    EVP_Digest(rak.ptr, rak.len, ch, &chl,
               !strcmp(s->bind_hash, "sha-256") ? EVP_sha256() : EVP_sha512(), NULL);
    if (s->pad_challenge)
        chl = 64;
    static const uint8_t id32[32] = {0x7f, 0x45}, m32[32] = {0x11};
    head(&pp, 5, 7);
    num(&pp, 265), tstr(&pp, "tag:arm.com,2023:cca_platform#1.0.0");
    num(&pp, 10), bstr(&pp, ch, chl);
    num(&pp, 2396), bstr(&pp, id32, 32);
    num(&pp, 256), bstr(&pp, instance, 33);
    num(&pp, 2395), num(&pp, s->lifecycle);
    num(&pp, 2399), head(&pp, 4, 1), head(&pp, 5, 3);
    num(&pp, 1), tstr(&pp, "BL"), num(&pp, 2), bstr(&pp, m32, 32), num(&pp, 5), bstr(&pp, m32, 32);
    num(&pp, 2402), tstr(&pp, "sha-256");
    uint8_t chal[64], pv[64] = {0}, rim[32] = {0x31};
    memset(chal, 0xab, 64);
    head(&rp, 5, s->realm_profile ? 8 : 7);
    if (s->realm_profile)
        num(&rp, 265), tstr(&rp, s->realm_profile);
    num(&rp, 10), bstr(&rp, chal, 64);
    num(&rp, 44235), bstr(&rp, pv, 64);
    num(&rp, 44236), tstr(&rp, "sha-256");
    num(&rp, 44237), bstr(&rp, rak.ptr, rak.len);
    num(&rp, 44238), bstr(&rp, rim, 32);
    num(&rp, 44239), head(&rp, 4, 4);
    for (int i = 0; i < 4; i++)
        bstr(&rp, rim, 32);
    num(&rp, 44240), tstr(&rp, s->rak_hash);
    sign(&pc, plat, s->plat_curve, s->plat_alg, ccz_buf_span(&pp));
    sign(&rc, realm, s->realm_curve, s->realm_alg, ccz_buf_span(&rp));
    if (s->break_realm_sig)
        rc.ptr[rc.len - 1] ^= 1;
    head(tok, 6, s->tag);
    head(tok, 5, 2);
    num(tok, 44234);
    if (s->tag == 907)
        head(tok, 4, 2), num(tok, 263);
    bstr(tok, pc.ptr, pc.len);
    num(tok, 44241);
    if (s->tag == 907)
        head(tok, 4, 2), num(tok, 263);
    bstr(tok, rc.ptr, rc.len);
    ccz_buf_free(&rak), ccz_buf_free(&pp), ccz_buf_free(&rp), ccz_buf_free(&pc);
    ccz_buf_free(&rc);
}

/* A trust store whose one anchor is key (PEM public), for any instance. */
static ccz_trust *trust_for(EVP_PKEY *key)
{
    ccz_trust *t;
    CHECK_OK(ccz_trust_new(&t));
    BIO *bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(bio, key);
    char *p;
    long n = BIO_get_mem_data(bio, &p);
    CHECK_OK(ccz_trust_add_cca_anchors(t, CCZ_SPAN(p, (size_t)n)));
    BIO_free(bio);
    return t;
}

static const uint8_t *run_report_data; /* the report data run() expects; NULL: none */

static ccz_status run(ccz_result *r, const spec *s, const char *anchor_curve)
{
    EVP_PKEY *plat = EVP_EC_gen(s->plat_curve), *realm = EVP_EC_gen(s->realm_curve);
    EVP_PKEY *anchor = anchor_curve ? EVP_EC_gen(anchor_curve) : plat;
    ccz_buf tok = CCZ_BUF_INIT;
    build(&tok, s, plat, realm);
    ccz_trust *t = trust_for(anchor);
    ccz_verify_opts o = CCZ_VERIFY_OPTS_INIT;
    o.trust = t;
    o.at_unix = 1767225600;
    o.expected_report_data = run_report_data;
    ccz_status st = ccz_verify(r, ccz_buf_span(&tok), &o);
    ccz_trust_free(t);
    ccz_buf_free(&tok);
    if (anchor != plat)
        EVP_PKEY_free(anchor);
    EVP_PKEY_free(plat);
    EVP_PKEY_free(realm);
    return st;
}

static const spec base = {.tag = 399,
                          .plat_curve = "P-256",
                          .plat_alg = -7,
                          .realm_curve = "P-384",
                          .realm_alg = -35,
                          .rak_hash = "sha-256",
                          .bind_hash = "sha-256",
                          .lifecycle = 0x3003};

static void test_every_algorithm_and_form(void)
{
    static ccz_result r;
    CHECK_OK(run(&r, &base, NULL));
    CHECK_INT(r.claims.tee, CCZ_TEE_CCA);
    CHECK_INT(r.claims.cca.lifecycle, 0x3003);
    CHECK(!r.claims.debug);
    uint8_t chal[64];
    memset(chal, 0xab, sizeof chal); /* build()'s realm challenge, all 64 bytes of it */
    CHECK(memcmp(r.claims.report_data, chal, 64) == 0);
    CHECK_INT(r.claims.cca.rim_len, 32);
    spec s = base;
    s.tag = 907, s.plat_curve = "P-521", s.plat_alg = -36, s.realm_curve = "P-521";
    s.realm_alg = -36, s.realm_profile = "tag:arm.com,2024:realm#2.0.0";
    s.rak_hash = s.bind_hash = "sha-512";
    CHECK_OK(run(&r, &s, NULL));
    CHECK_STR(r.claims.cca.realm_profile, "tag:arm.com,2024:realm#2.0.0");
    CHECK_STR(r.claims.cca.rak_hash_alg, "sha-512");
    CHECK_INT(r.claims.cca.platform_challenge_len, 64);
    s = base, s.plat_curve = "P-384", s.plat_alg = -35,
    s.realm_profile = "tag:arm.com,2023:realm#1.0.0";
    CHECK_OK(run(&r, &s, NULL));
    /* a lifecycle outside "secured" is debug */
    s = base, s.lifecycle = 0x5000;
    CHECK_OK(run(&r, &s, NULL));
    CHECK(r.claims.debug);
    /* "secured" is 0x3000..0x30ff, not 0x3100 */
    s = base, s.lifecycle = 0x30ff;
    CHECK_OK(run(&r, &s, NULL));
    CHECK(!r.claims.debug);
    s = base, s.lifecycle = 0x3100;
    CHECK_OK(run(&r, &s, NULL));
    CHECK(r.claims.debug);
}

static void test_each_failure(void)
{
    static ccz_result r;
    spec s = base;
    /* the platform token claims ES384 with a P-256 key */
    s.plat_alg = -35;
    CHECK_STATUS(run(&r, &s, NULL), CCZ_ERR_BAD_SIGNATURE);
    CHECK_STR(r.step, "platform_token");
    /* another key than the anchor's */
    CHECK_STATUS(run(&r, &base, "P-256"), CCZ_ERR_BAD_SIGNATURE);
    CHECK_STR(r.step, "platform_token");
    s = base, s.break_realm_sig = true;
    CHECK_STATUS(run(&r, &s, NULL), CCZ_ERR_BAD_SIGNATURE);
    CHECK_STR(r.step, "realm_token");
    /* the challenge made with SHA-256, the claim says SHA-512 */
    s = base, s.rak_hash = "sha-512";
    CHECK_STATUS(run(&r, &s, NULL), CCZ_ERR_BINDING);
    CHECK_STR(r.step, "realm_binding");
    s = base, s.rak_hash = "md5";
    CHECK_STATUS(run(&r, &s, NULL), CCZ_ERR_UNSUPPORTED);
    CHECK_STR(r.step, "realm_binding");
    /* the challenge is the RAK's SHA-256 followed by 32 zero bytes: not the RAK's hash */
    s = base, s.pad_challenge = true;
    CHECK_STATUS(run(&r, &s, NULL), CCZ_ERR_BINDING);
    CHECK_STR(r.step, "realm_binding");
    /* ES256 written over a P-384 key's signature: the alg names another curve */
    s = base, s.plat_curve = "P-384";
    CHECK_STATUS(run(&r, &s, NULL), CCZ_ERR_BAD_SIGNATURE);
    CHECK_STR(r.step, "platform_token");
    CHECK_CONTAINS(r.message, "the key (384 bits) is not on the curve COSE alg -7 signs with");
    /* a realm profile ccz does not know, the token otherwise signed and bound (its RAK a
     * COSE_Key, as the known later profiles carry it) */
    s = base, s.realm_profile = "tag:arm.com,2025:realm#3.0.0";
    CHECK_STATUS(run(&r, &s, NULL), CCZ_ERR_UNSUPPORTED);
    CHECK_STR(r.step, "parse");
    CHECK_CONTAINS(r.message, "profile \"tag:arm.com,2025:realm#3.0.0\" is not one ccz reads");
    /* alg -8 (EdDSA) over a P-521 key's ES512 signature: only ES256/384/512 are verified */
    s = base, s.plat_curve = "P-521", s.plat_alg = -8;
    CHECK_STATUS(run(&r, &s, NULL), CCZ_ERR_UNSUPPORTED);
    CHECK_STR(r.step, "platform_token");
    CHECK_CONTAINS(r.message, "COSE alg -8 is not ES256, ES384 or ES512");
    /* a byte after r||s (the signature over the rest holds) */
    sig_extra = 1;
    CHECK_STATUS(run(&r, &base, NULL), CCZ_ERR_BAD_SIGNATURE);
    sig_extra = 0;
    CHECK_STR(r.step, "platform_token");
    CHECK_CONTAINS(r.message, "a 65-byte signature, not 64 (r||s)");
}

/* The RAK as a COSE_Key: EC2 only, crv 1 to 3, x and y of the curve's size; as a SEC1 point:
 * the uncompressed form only. Each token is signed by its RAK and bound by its platform. */
static void test_rak_forms(void)
{
    static ccz_result r;
    static const struct {
        int64_t kty, crv;
        size_t y_cut;
        bool hybrid;
        ccz_status want;
        const char *detail;
    } cases[] = {
        {3, 0, 0, false, CCZ_ERR_UNSUPPORTED, "COSE_Key: kty 3, not 2 (EC2)"},
        {0, 4, 0, false, CCZ_ERR_UNSUPPORTED, "COSE_Key: crv 4 is not P-256, P-384 or P-521"},
        {0, 0, 1, false, CCZ_ERR_KEY_MALFORMED, "COSE_Key: x and y must be 66 bytes on P-521"},
        {0, 0, 0, true, CCZ_ERR_KEY_MALFORMED,
         "a 133-byte public key is not an uncompressed point on P-256, P-384 or P-521"},
    };
    for (size_t i = 0; i < CCZ_ARRAY_LEN(cases); i++) {
        spec s = base;
        s.realm_curve = "P-521", s.realm_alg = -36;
        s.realm_profile = cases[i].hybrid ? NULL : "tag:arm.com,2023:realm#1.0.0";
        s.kty = cases[i].kty, s.crv = cases[i].crv, s.y_cut = cases[i].y_cut;
        s.hybrid_rak = cases[i].hybrid;
        CHECK_STATUS(run(&r, &s, NULL), cases[i].want);
        CHECK_STR(r.step, "realm_token");
        CHECK_CONTAINS(r.message, cases[i].detail);
    }
    /* a y one byte longer than P-384's 48: refused, not read as its first 48 bytes */
    spec s = base;
    s.realm_profile = "tag:arm.com,2023:realm#1.0.0";
    s.y_extra = 1;
    CHECK_STATUS(run(&r, &s, NULL), CCZ_ERR_KEY_MALFORMED);
    CHECK_STR(r.step, "realm_token");
    CHECK_CONTAINS(r.message, "COSE_Key: x and y must be 48 bytes on P-384");
    /* a later profile's RAK given as a SEC1 point: not a COSE_Key, not read as one */
    s = base, s.realm_profile = "tag:arm.com,2023:realm#1.0.0", s.sec1_rak = true;
    CHECK_STATUS(run(&r, &s, NULL), CCZ_ERR_KEY_MALFORMED);
    CHECK_STR(r.step, "realm_token");
    CHECK_CONTAINS(r.message, "the realm token's public key (RAK): COSE_Key: not a map");
    /* a legacy RAK of 66 bytes (an even size: no uncompressed point has it), and one off its
     * curve */
    s = base, s.rak_cut = 31;
    CHECK_STATUS(run(&r, &s, NULL), CCZ_ERR_KEY_MALFORMED);
    CHECK_STR(r.step, "realm_token");
    CHECK_CONTAINS(r.message, "a 66-byte public key is not an uncompressed point on P-256, P-384 "
                              "or P-521");
    s = base, s.rak_off_curve = true;
    CHECK_STATUS(run(&r, &s, NULL), CCZ_ERR_KEY_MALFORMED);
    CHECK_STR(r.step, "realm_token");
    CHECK_CONTAINS(r.message, "the realm token's public key (RAK): not a point on P-384");
}

/* The realm challenge is the report data: the expected 64 bytes verify, one other byte is
 * report_data_mismatch at its own step, after every signature and the binding held. */
static void test_expected_report_data(void)
{
    static ccz_result r;
    uint8_t want[64];
    memset(want, 0xab, sizeof want); /* build()'s realm challenge */
    run_report_data = want;
    CHECK_OK(run(&r, &base, NULL));
    want[63] ^= 1;
    CHECK_STATUS(run(&r, &base, NULL), CCZ_ERR_REPORT_DATA_MISMATCH);
    CHECK_STR(r.step, "report_data");
    CHECK_CONTAINS(r.message, "the realm challenge is not the expected report data");
    run_report_data = NULL;
}

/* A platform token verified once is remembered by its bytes, the trust store and the anchor:
 * the same bytes under another store, and other bytes under the same store, are checked anew. */
static void test_platform_cache(void)
{
    EVP_PKEY *plat = EVP_EC_gen("P-256"), *realm = EVP_EC_gen("P-384"),
             *other = EVP_EC_gen("P-256");
    ccz_buf tok = CCZ_BUF_INIT;
    build(&tok, &base, plat, realm);
    ccz_trust *t = trust_for(plat), *u = trust_for(other);
    ccz_verify_opts o = CCZ_VERIFY_OPTS_INIT;
    static ccz_result r;
    o.trust = t;
    CHECK_OK(ccz_verify(&r, ccz_buf_span(&tok), &o));
    CHECK_OK(ccz_verify(&r, ccz_buf_span(&tok), &o));
    o.trust = u;
    CHECK_STATUS(ccz_verify(&r, ccz_buf_span(&tok), &o), CCZ_ERR_BAD_SIGNATURE);
    CHECK_STR(r.step, "platform_token");
    /* the platform token's signature, its last byte flipped */
    ccz_cca_token ct;
    CHECK_OK(ccz_cca_token_parse(&ct, ccz_buf_span(&tok)));
    size_t last = (size_t)(ct.platform.ptr - tok.ptr) + ct.platform.len - 1;
    o.trust = t;
    tok.ptr[last] ^= 1;
    CHECK_STATUS(ccz_verify(&r, ccz_buf_span(&tok), &o), CCZ_ERR_BAD_SIGNATURE);
    CHECK_STR(r.step, "platform_token");
    tok.ptr[last] ^= 1;
    CHECK_OK(ccz_verify(&r, ccz_buf_span(&tok), &o));
    ccz_trust_free(t);
    ccz_trust_free(u);
    ccz_buf_free(&tok);
    EVP_PKEY_free(plat);
    EVP_PKEY_free(realm);
    EVP_PKEY_free(other);
}

/* Which anchor vouches: the entry of the token's instance id, all 33 bytes of it, before a key
 * given for any instance; an entry needs a "pkey" and a hex "instance-id". */
static void test_anchor_choice(void)
{
    EVP_PKEY *plat = EVP_EC_gen("P-256"), *realm = EVP_EC_gen("P-384"),
             *other = EVP_EC_gen("P-256");
    ccz_buf tok = CCZ_BUF_INIT;
    build(&tok, &base, plat, realm);
    json_t *jwk = NULL;
    CHECK_OK(jose_jwk_from_key(&jwk, plat, NULL, NULL));
    uint8_t near[33];
    memcpy(near, instance, 33);
    near[32] ^= 1; /* another instance: its last byte */
    static ccz_result r;
    ccz_verify_opts o = CCZ_VERIFY_OPTS_INIT;
    for (int own = 0; own < 2; own++) {
        char hex[67];
        ccz_hex_to_str(hex, own ? instance : near, 33);
        json_t *store = json_pack("[{s:s,s:O}]", "instance-id", hex, "pkey", jwk);
        char *text = json_dumps(store, 0);
        /* the token's own instance: after a key for any instance, which is not the CPAK */
        ccz_trust *t = own ? trust_for(other) : NULL;
        if (!t)
            CHECK_OK(ccz_trust_new(&t));
        CHECK_OK(ccz_trust_add_cca_anchors(t, CCZ_SPAN(text, strlen(text))));
        o.trust = t;
        if (own) {
            CHECK_OK(ccz_verify(&r, ccz_buf_span(&tok), &o));
        } else {
            CHECK_STATUS(ccz_verify(&r, ccz_buf_span(&tok), &o), CCZ_ERR_PLATFORM_KEY_UNKNOWN);
            CHECK_STR(r.step, "platform_token");
        }
        ccz_trust_free(t);
        free(text);
        json_decref(store);
    }
    ccz_trust *t;
    CHECK_OK(ccz_trust_new(&t));
    CHECK_STATUS(
        ccz_trust_add_cca_anchors(
            t, CCZ_LIT("[{\"instance-id\":"
                       "\"010706050403020100000000000000000000000000000000000000000000000000\"}]")),
        CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "no \"pkey\" JWK");
    CHECK_STATUS(ccz_trust_add_cca_anchors(t, CCZ_LIT("[{\"instance-id\":1,\"pkey\":{}}]")),
                 CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "\"instance-id\" is not a string");
    CHECK_INT(ccz_trust_cca_anchor_count(t), 0);
    ccz_trust_free(t);
    json_decref(jwk);
    ccz_buf_free(&tok);
    EVP_PKEY_free(plat);
    EVP_PKEY_free(realm);
    EVP_PKEY_free(other);
}

static void test_anchor_lookup(void)
{
    EVP_PKEY *plat = EVP_EC_gen("P-256"), *realm = EVP_EC_gen("P-384");
    ccz_buf tok = CCZ_BUF_INIT;
    build(&tok, &base, plat, realm);
    ccz_trust *t;
    CHECK_OK(ccz_trust_new(&t));
    ccz_verify_opts o = CCZ_VERIFY_OPTS_INIT;
    o.trust = t;
    static ccz_result r;
    CHECK_STATUS(ccz_verify(&r, ccz_buf_span(&tok), &o), CCZ_ERR_PLATFORM_KEY_UNKNOWN);
    CHECK_STR(r.step, "platform_token");
    /* a store entry of another instance does not vouch */
    static const char other[] =
        "[{\"instance-id\":\"01AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\","
        "\"pkey\":{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"TKRFE_RwSXooI8DdatPOYg_uiKm2XrtT_uEMEvqQZrw\","
        "\"y\":\"CRx3H8NHN1lcxqKi92P0OsZBxX3VFaktllpD3SjtN7s\"}}]";
    CHECK_OK(ccz_trust_add_cca_anchors(t, CCZ_SPAN(other, sizeof other - 1)));
    CHECK_INT(ccz_trust_cca_anchor_count(t), 1);
    CHECK_STATUS(ccz_verify(&r, ccz_buf_span(&tok), &o), CCZ_ERR_PLATFORM_KEY_UNKNOWN);
    /* not a store, a JWK or a PEM key */
    CHECK_STATUS(ccz_trust_add_cca_anchors(t, CCZ_LIT("[1]")), CCZ_ERR_MALFORMED);
    CHECK_STATUS(ccz_trust_add_cca_anchors(t, CCZ_LIT("[{\"pkey\":{}}]")), CCZ_ERR_MALFORMED);
    /* a store with a malformed entry is refused whole: its good entries are not kept */
    char two[sizeof other + 32];
    snprintf(two, sizeof two, "%.*s,{\"instance-id\":\"01\"}]", (int)(sizeof other - 2), other);
    CHECK_STATUS(ccz_trust_add_cca_anchors(t, CCZ_SPAN(two, strlen(two))), CCZ_ERR_ENCODING);
    CHECK_CONTAINS(ccz_error_detail(), "trust-anchor store entry 1");
    CHECK_INT(ccz_trust_cca_anchor_count(t), 1);
    ccz_trust_free(t);
    ccz_buf_free(&tok);
    EVP_PKEY_free(plat);
    EVP_PKEY_free(realm);
}

/* An RSA public key as a JWK (the store's "pkey" may hold any key; a CCA platform key is EC). */
static json_t *rsa_jwk(void)
{
    EVP_PKEY *k = EVP_RSA_gen(2048);
    BIGNUM *n = NULL;
    CHECK(k && EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_N, &n) == 1);
    uint8_t nb[256];
    CHECK(BN_bn2binpad(n, nb, sizeof nb) == sizeof nb);
    ccz_buf b = CCZ_BUF_INIT;
    CHECK_OK(jose_b64url_encode(&b, CCZ_SPAN(nb, sizeof nb)));
    json_t *j =
        json_pack("{s:s,s:s,s:s#}", "kty", "RSA", "e", "AQAB", "n", (const char *)b.ptr, b.len);
    ccz_buf_free(&b);
    BN_free(n);
    EVP_PKEY_free(k);
    return j;
}

/* A store entry for the token's own instance: taken without an implementation id and with the
 * token's, refused with another; an entry whose key is RSA, or not a key, is kept as the reason
 * the token cannot verify (the rest of the store still loads); an RSA key in PEM is refused when
 * it is added. */
static void test_anchor_store_entry(void)
{
    EVP_PKEY *plat = EVP_EC_gen("P-256"), *realm = EVP_EC_gen("P-384");
    ccz_buf tok = CCZ_BUF_INIT;
    build(&tok, &base, plat, realm);
    json_t *ec = NULL;
    CHECK_OK(jose_jwk_from_key(&ec, plat, NULL, NULL));
    json_t *rsa = rsa_jwk();
    char inst[67];
    ccz_hex_to_str(inst, instance, 33);
    enum { EC_KEY, RSA_KEY, NOT_A_KEY };
    static const struct {
        int key;
        const char *impl;
        ccz_status want;
        const char *detail;
    } cases[] = {
        {EC_KEY, NULL, CCZ_OK, NULL},
        {EC_KEY, "7f45000000000000000000000000000000000000000000000000000000000000", CCZ_OK, NULL},
        {EC_KEY, "7f46000000000000000000000000000000000000000000000000000000000000",
         CCZ_ERR_PLATFORM_KEY_UNKNOWN, "is for another implementation id"},
        {RSA_KEY, NULL, CCZ_ERR_BAD_SIGNATURE, "is unusable (not an EC key)"},
        {NOT_A_KEY, NULL, CCZ_ERR_BAD_SIGNATURE, "is unusable (JWK"},
    };
    json_t *bad = json_pack("{s:s,s:s,s:s,s:s}", "kty", "EC", "crv", "P-256", "x", "AA", "y", "AA");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *e = json_pack("{s:s,s:O}", "instance-id", inst, "pkey",
                              cases[i].key == EC_KEY    ? ec
                              : cases[i].key == RSA_KEY ? rsa
                                                        : bad);
        if (cases[i].impl)
            json_object_set_new(e, "implementation-id", json_string(cases[i].impl));
        json_t *store = json_pack("[o]", e);
        char *text = json_dumps(store, 0);
        ccz_trust *t;
        CHECK_OK(ccz_trust_new(&t));
        CHECK_OK(ccz_trust_add_cca_anchors(t, CCZ_SPAN(text, strlen(text))));
        ccz_verify_opts o = CCZ_VERIFY_OPTS_INIT;
        o.trust = t;
        o.at_unix = 1767225600;
        static ccz_result r;
        CHECK_STATUS(ccz_verify(&r, ccz_buf_span(&tok), &o), cases[i].want);
        if (cases[i].detail) {
            CHECK_CONTAINS(r.message, cases[i].detail);
            CHECK_STR(r.step, "platform_token");
        }
        ccz_trust_free(t);
        free(text);
        json_decref(store);
    }
    EVP_PKEY *rk = EVP_RSA_gen(2048);
    BIO *bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(bio, rk);
    char *p;
    long n = BIO_get_mem_data(bio, &p);
    ccz_trust *t;
    CHECK_OK(ccz_trust_new(&t));
    CHECK_STATUS(ccz_trust_add_cca_anchors(t, CCZ_SPAN(p, (size_t)n)), CCZ_ERR_UNSUPPORTED);
    CHECK_CONTAINS(ccz_error_detail(), "a CCA platform key is an EC key");
    CHECK_INT(ccz_trust_cca_anchor_count(t), 0);
    ccz_trust_free(t);
    BIO_free(bio);
    EVP_PKEY_free(rk);
    json_decref(ec);
    json_decref(rsa);
    json_decref(bad);
    ccz_buf_free(&tok);
    EVP_PKEY_free(plat);
    EVP_PKEY_free(realm);
}

/* The trust-anchor documents: a PEM key after blank space, a PEM armour without a key, an entry
 * that is not an object, a JWK that is not a key (each refused as what it is); at most 4096
 * anchors, the 4097th refused. */
static void test_anchor_documents(void)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    BIO *bio = BIO_new(BIO_s_mem());
    BIO_puts(bio, "\n\t \r\n");
    PEM_write_bio_PUBKEY(bio, k);
    char *pem;
    size_t pem_len = (size_t)BIO_get_mem_data(bio, &pem);
    ccz_trust *t;
    CHECK_OK(ccz_trust_new(&t));
    CHECK_OK(ccz_trust_add_cca_anchors(t, CCZ_SPAN(pem, pem_len)));
    CHECK_INT(ccz_trust_cca_anchor_count(t), 1);
    CHECK_STATUS(ccz_trust_add_cca_anchors(
                     t, CCZ_LIT("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")),
                 CCZ_ERR_KEY_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "not a PEM key");
    CHECK_STATUS(ccz_trust_add_cca_anchors(t, CCZ_LIT("[1]")), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "trust-anchor store entry 0: not an object");
    CHECK_STATUS(ccz_trust_add_cca_anchors(t, CCZ_LIT("{\"kty\":\"OKP\"}")), CCZ_ERR_UNSUPPORTED);
    CHECK_CONTAINS(ccz_error_detail(), "CCA platform key (JWK): JWK: kty is not EC or RSA");
    CHECK_INT(ccz_trust_cca_anchor_count(t), 1);
    ccz_trust_free(t);
    /* 4096 entries (their keys unusable, kept as the reason), then one more */
    ccz_buf doc = CCZ_BUF_INIT;
    CHECK_OK(ccz_buf_append_u8(&doc, '['));
    for (int i = 0; i < 4096; i++) {
        char e[128];
        int n =
            snprintf(e, sizeof e, "%s{\"instance-id\":\"01%064x\",\"pkey\":{}}", i ? "," : "", i);
        CHECK_OK(ccz_buf_append(&doc, e, (size_t)n));
    }
    CHECK_OK(ccz_buf_append_u8(&doc, ']'));
    CHECK_OK(ccz_trust_new(&t));
    CHECK_OK(ccz_trust_add_cca_anchors(t, ccz_buf_span(&doc)));
    CHECK_INT(ccz_trust_cca_anchor_count(t), 4096);
    CHECK_STATUS(ccz_trust_add_cca_anchors(t, CCZ_SPAN(pem, pem_len)), CCZ_ERR_TOO_LARGE);
    CHECK_CONTAINS(ccz_error_detail(), "more than 4096 CCA trust anchors");
    CHECK_INT(ccz_trust_cca_anchor_count(t), 4096);
    ccz_trust_free(t);
    ccz_buf_free(&doc);
    BIO_free(bio);
    EVP_PKEY_free(k);
}

/* The Sig_structure of RFC 9052 §4.4, written out: ["Signature1", h'a10126', h'', h'6869'] */
static void test_sig_structure(void)
{
    static const uint8_t prot[] = {0xa1, 0x01, 0x26},
                         want[] = {0x84, 0x6a, 'S',  'i',  'g',  'n',  'a',  't',  'u', 'r',
                                   'e',  '1',  0x43, 0xa1, 0x01, 0x26, 0x40, 0x42, 'h', 'i'};
    ccz_cose_sign1 m = {CCZ_SPAN(prot, 3), CCZ_LIT("hi"), {0}, -7};
    ccz_buf b = CCZ_BUF_INIT;
    CHECK_OK(ccz_cose_sig_structure(&b, &m));
    CHECK(b.len == sizeof want && memcmp(b.ptr, want, sizeof want) == 0);
    ccz_buf_free(&b);
}

static void test_malformed(void)
{
    ccz_cose_sign1 m;
    /* 18([h'a10126', {}, h'', h'']) parses; with 3 elements, a nil payload or no alg it does not */
    static const uint8_t ok[] = {0xd2, 0x84, 0x43, 0xa1, 0x01, 0x26, 0xa0, 0x40, 0x40};
    CHECK_OK(ccz_cose_sign1_parse(&m, CCZ_SPAN(ok, sizeof ok)));
    CHECK_INT(m.alg, -7);
    static const uint8_t three[] = {0x83, 0x43, 0xa1, 0x01, 0x26, 0xa0, 0x40};
    CHECK_STATUS(ccz_cose_sign1_parse(&m, CCZ_SPAN(three, sizeof three)), CCZ_ERR_MALFORMED);
    static const uint8_t nil[] = {0x84, 0x43, 0xa1, 0x01, 0x26, 0xa0, 0xf6, 0x40};
    CHECK_STATUS(ccz_cose_sign1_parse(&m, CCZ_SPAN(nil, sizeof nil)), CCZ_ERR_UNSUPPORTED);
    static const uint8_t noalg[] = {0x84, 0x43, 0xa1, 0x04, 0x40, 0xa0, 0x40, 0x40};
    CHECK_STATUS(ccz_cose_sign1_parse(&m, CCZ_SPAN(noalg, sizeof noalg)), CCZ_ERR_MALFORMED);
    CHECK_STATUS(ccz_cose_sign1_parse(&m, CCZ_SPAN(ok, sizeof ok - 1)), CCZ_ERR_TRUNCATED);
    /* alg given twice; the tag of another COSE message (17: COSE_Mac0) */
    static const uint8_t alg2[] = {0x84, 0x45, 0xa2, 0x01, 0x26, 0x01, 0x26, 0xa0, 0x40, 0x40};
    CHECK_STATUS(ccz_cose_sign1_parse(&m, CCZ_SPAN(alg2, sizeof alg2)), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "COSE protected header: alg given twice");
    static const uint8_t mac0[] = {0xd1, 0x84, 0x43, 0xa1, 0x01, 0x26, 0xa0, 0x40, 0x40};
    CHECK_STATUS(ccz_cose_sign1_parse(&m, CCZ_SPAN(mac0, sizeof mac0)), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "COSE_Sign1: CBOR tag 17, not 18");
    /* crit (label 2) names parameters that must be understood: ccz understands none */
    static const uint8_t crit[] = {0xd2, 0x84, 0x46, 0xa2, 0x01, 0x26,
                                   0x02, 0x81, 0x04, 0xa0, 0x40, 0x40};
    CHECK_STATUS(ccz_cose_sign1_parse(&m, CCZ_SPAN(crit, sizeof crit)), CCZ_ERR_UNSUPPORTED);
    CHECK_CONTAINS(ccz_error_detail(),
                   "COSE protected header: critical parameters (crit, label 2) are not understood");
    /* an unprotected header (a kid) is skipped whole, key and value */
    static const uint8_t kid[] = {0xd2, 0x84, 0x43, 0xa1, 0x01, 0x26, 0xa1, 0x04,
                                  0x43, 'k',  'i',  'd',  0x42, 'h',  'i',  0x40};
    CHECK_OK(ccz_cose_sign1_parse(&m, CCZ_SPAN(kid, sizeof kid)));
    CHECK(m.payload.len == 2 && memcmp(m.payload.ptr, "hi", 2) == 0);
    CHECK_INT(m.signature.len, 0);
    /* collections: another key, a key twice, an entry missing */
    ccz_cca_token t;
    static const uint8_t extra[] = {0xd9, 0x01, 0x8f, 0xa3, 0x19, 0xac, 0xca,
                                    0x40, 0x19, 0xac, 0xd1, 0x40, 0x01, 0x40};
    CHECK_STATUS(ccz_cca_token_parse(&t, CCZ_SPAN(extra, sizeof extra)), CCZ_ERR_MALFORMED);
    static const uint8_t twice[] = {0xd9, 0x01, 0x8f, 0xa2, 0x19, 0xac,
                                    0xca, 0x40, 0x19, 0xac, 0xca, 0x40};
    CHECK_STATUS(ccz_cca_token_parse(&t, CCZ_SPAN(twice, sizeof twice)), CCZ_ERR_MALFORMED);
    static const uint8_t one[] = {0xd9, 0x01, 0x8f, 0xa1, 0x19, 0xac, 0xca, 0x40};
    CHECK_STATUS(ccz_cca_token_parse(&t, CCZ_SPAN(one, sizeof one)), CCZ_ERR_MALFORMED);
    static const uint8_t realm_only[] = {0xd9, 0x01, 0x8f, 0xa1, 0x19, 0xac, 0xd1, 0x40};
    CHECK_STATUS(ccz_cca_token_parse(&t, CCZ_SPAN(realm_only, sizeof realm_only)),
                 CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "CCA token: no platform token (44234)");
    /* a text key ("a") is not read as the integer its head carries */
    static const uint8_t text_key[] = {0xd9, 0x01, 0x8f, 0xa2, 0x61, 0x61,
                                       0x40, 0x19, 0xac, 0xd1, 0x40};
    CHECK_STATUS(ccz_cca_token_parse(&t, CCZ_SPAN(text_key, sizeof text_key)), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(),
                   "CCA token: collection key: CBOR: integer expected at offset 4");
    /* tag 399 around an array is not a CCA token */
    static const uint8_t tagged_array[] = {0xd9, 0x01, 0x8f, 0x82, 0x40, 0x40};
    CHECK(!ccz_cca_detect(CCZ_SPAN(tagged_array, sizeof tagged_array)));
    static const uint8_t good[] = {0xd9, 0x01, 0x8f, 0xa2, 0x19, 0xac,
                                   0xca, 0x40, 0x19, 0xac, 0xd1, 0x40};
    CHECK_OK(ccz_cca_token_parse(&t, CCZ_SPAN(good, sizeof good)));
    CHECK(ccz_cca_detect(CCZ_SPAN(good, sizeof good)));
    CHECK_INT(ccz_evidence_detect(CCZ_SPAN(good, sizeof good)), CCZ_TEE_CCA);
    /* the CMW form wants [263, bstr] */
    static const uint8_t cmw[] = {0xd9, 0x03, 0x8b, 0xa2, 0x19, 0xac, 0xca, 0x82, 0x19, 0x01,
                                  0x08, 0x40, 0x19, 0xac, 0xd1, 0x82, 0x19, 0x01, 0x07, 0x40};
    CHECK_STATUS(ccz_cca_token_parse(&t, CCZ_SPAN(cmw, sizeof cmw)), CCZ_ERR_UNSUPPORTED);
    static const uint8_t cmw3[] = {0xd9, 0x03, 0x8b, 0xa1, 0x19, 0xac, 0xca, 0x83,
                                   0x19, 0x01, 0x07, 0x40, 0x19, 0xac, 0xd1};
    CHECK_STATUS(ccz_cca_token_parse(&t, CCZ_SPAN(cmw3, sizeof cmw3)), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "a CMW record of 3 elements, not 2");
    CHECK_STR(ccz_tee_name(CCZ_TEE_CCA), "cca");
    ccz_tee tee;
    CHECK_OK(ccz_tee_parse(&tee, "cca"));
    CHECK_INT(tee, CCZ_TEE_CCA);
    CHECK_STATUS(ccz_tee_parse(&tee, "unknown"), CCZ_ERR_INVALID_ARGUMENT);
}

/* ---- claims, parsed (no signature is checked by ccz_cca_evidence_parse) ----------------------*/

typedef struct {
    size_t challenge;    /* the platform challenge's bytes */
    uint8_t instance0;   /* the instance id's type byte */
    int64_t lifecycle;   /* the platform lifecycle */
    unsigned sw;         /* software components */
    size_t rim, rem3;    /* the RIM's bytes and REM[3]'s */
    unsigned rems;       /* extensible measurements */
    int64_t drop;        /* a claim key left out of either token (0: none) */
    int64_t twice;       /* a claim key given twice (0: none) */
    const char *profile; /* the realm profile (NULL: legacy) */
} claims_spec;

/* drop and twice: -11 the platform's challenge only, -10 the realm's only; twice -265 the realm's
 * profile only. Besides the spec, claims_token
 * makes one of these oddities (0: none), and a personalization value of claims_pv bytes (0:
 * 64). */
enum {
    SW_NO_SIGNER = 1,
    SW_NO_MEASUREMENT,
    SW_LONG_MEASUREMENT,
    RAK_HASH_NUL,
    LIFECYCLE_WRAP,
    PAYLOAD_TRAILING, /* a zero byte after the platform token's claims map */
    SW_NOT_ARRAY,     /* the software components a byte string, not an array */
    TEXT_KEY,         /* a claim with a text key ("x": 1) in the platform token */
    CONFIG_LONG       /* a platform configuration (2401) of 65 bytes */
};
static int claims_odd;
static int64_t claims_sw_twice; /* a software component's key given twice (0: none) */
static size_t claims_pv;
static const char *claims_platform_profile; /* the platform profile (NULL: CCA platform 1.0.0) */

static const claims_spec good_claims = {32, 0x01, 0x3000, 1, 32, 32, 4, 0, 0, NULL};

/* 18([h'a10126', {}, payload, h'']) */
static void unsigned_sign1(ccz_buf *out, const ccz_buf *payload)
{
    static const uint8_t prot[] = {0xa1, 0x01, 0x26};
    head(out, 6, 18);
    head(out, 4, 4);
    bstr(out, prot, sizeof prot);
    head(out, 5, 0);
    bstr(out, payload->ptr, payload->len);
    bstr(out, "", 0);
}

/* One claim of key k into b, counted in *n, unless the spec drops it; twice if it says so. */
#define CLAIM(b, n, c, k, ...)                                                                     \
    for (int rep_ = 0; rep_ < ((c)->drop == (k) ? 0 : (c)->twice == (k) ? 2 : 1); rep_++) {        \
        num(b, k);                                                                                 \
        __VA_ARGS__;                                                                               \
        (*(n))++;                                                                                  \
    }

/* A software component: type (1), measurement (2), version (4), signer id (5), hash algorithm
 * (6), but for claims_odd; the key claims_sw_twice twice. */
static void sw_component(ccz_buf *b, const uint8_t *big)
{
    static const int64_t keys[] = {1, 2, 4, 5, 6};
    ccz_buf m = CCZ_BUF_INIT;
    unsigned n = 0;
    for (size_t i = 0; i < CCZ_ARRAY_LEN(keys); i++) {
        int64_t k = keys[i];
        if ((k == 2 && claims_odd == SW_NO_MEASUREMENT) || (k == 5 && claims_odd == SW_NO_SIGNER))
            continue;
        for (int rep = 0; rep < (claims_sw_twice == k ? 2 : 1); rep++, n++) {
            num(&m, k);
            if (k == 2 || k == 5)
                bstr(&m, big, k == 2 && claims_odd == SW_LONG_MEASUREMENT ? 65 : 32);
            else
                tstr(&m, k == 1 ? "BL" : k == 4 ? "1.0.0" : "sha-256");
        }
    }
    head(b, 5, n);
    CHECK_OK(ccz_buf_append(b, m.ptr, m.len));
    ccz_buf_free(&m);
}

static void claims_token(ccz_buf *tok, const claims_spec *c)
{
    uint8_t big[72] = {0x11}, inst[33];
    memcpy(inst, instance, 33);
    inst[0] = c->instance0;
    claims_spec pch = *c, rch = *c; /* the challenges' drops */
    pch.drop = c->drop == -11 ? 10 : c->drop == -10 ? 0 : c->drop;
    rch.drop = c->drop == -10 ? 10 : c->drop == -11 ? 0 : c->drop;
    pch.twice = c->twice == -11 ? 10 : c->twice == -10 || c->twice == -265 ? 0 : c->twice;
    rch.twice = c->twice == -10 ? 10 : c->twice == -265 ? 265 : c->twice == -11 ? 0 : c->twice;
    ccz_buf pm = CCZ_BUF_INIT, rm = CCZ_BUF_INIT, pp = CCZ_BUF_INIT, rp = CCZ_BUF_INIT;
    unsigned np = 0, nr = 0;
    CLAIM(&pm, &np, c, 265,
          tstr(&pm, claims_platform_profile ? claims_platform_profile
                                            : "tag:arm.com,2023:cca_platform#1.0.0"));
    CLAIM(&pm, &np, &pch, 10, bstr(&pm, big, c->challenge));
    if (claims_odd == TEXT_KEY)
        tstr(&pm, "x"), num(&pm, 1), np++;
    CLAIM(&pm, &np, c, 2401, bstr(&pm, big, claims_odd == CONFIG_LONG ? 65 : 32));
    CLAIM(&pm, &np, c, 2400,
          tstr(&pm, "https://veraison.example/.well-known/veraison/verification"));
    CLAIM(&pm, &np, c, 2402, tstr(&pm, "sha-256"));
    CLAIM(&pm, &np, c, 2396, bstr(&pm, big, 32));
    CLAIM(&pm, &np, c, 256, bstr(&pm, inst, 33));
    CLAIM(&pm, &np, c, 2395,
          claims_odd == LIFECYCLE_WRAP ? head(&pm, 1, UINT64_MAX) : num(&pm, c->lifecycle));
    CLAIM(
        &pm, &np, c, 2399, if (claims_odd == SW_NOT_ARRAY) bstr(&pm, big, 1); else {
            head(&pm, 4, c->sw);
            for (unsigned i = 0; i < c->sw; i++)
                sw_component(&pm, big);
        });
    head(&pp, 5, np);
    CHECK_OK(ccz_buf_append(&pp, pm.ptr, pm.len));
    if (claims_odd == PAYLOAD_TRAILING)
        CHECK_OK(ccz_buf_append_u8(&pp, 0));
    if (c->profile)
        CLAIM(&rm, &nr, &rch, 265, tstr(&rm, c->profile));
    CLAIM(&rm, &nr, &rch, 10, bstr(&rm, big, 64));
    CLAIM(&rm, &nr, c, 44235, bstr(&rm, big, claims_pv ? claims_pv : 64));
    CLAIM(&rm, &nr, c, 44236, tstr(&rm, "sha-256"));
    CLAIM(&rm, &nr, c, 44237, bstr(&rm, big, 33));
    CLAIM(&rm, &nr, c, 44238, bstr(&rm, big, c->rim));
    CLAIM(&rm, &nr, c, 44239, head(&rm, 4, c->rems);
          for (unsigned i = 0; i < c->rems; i++) bstr(&rm, big, i == 3 ? c->rem3 : c->rim));
    CLAIM(&rm, &nr, c, 44240, head(&rm, 3, claims_odd == RAK_HASH_NUL ? 9 : 7);
          CHECK_OK(ccz_buf_append(&rm, "sha-256\0x", claims_odd == RAK_HASH_NUL ? 9 : 7)));
    head(&rp, 5, nr);
    CHECK_OK(ccz_buf_append(&rp, rm.ptr, rm.len));
    ccz_buf ps = CCZ_BUF_INIT, rs = CCZ_BUF_INIT;
    unsigned_sign1(&ps, &pp);
    unsigned_sign1(&rs, &rp);
    head(tok, 6, 399);
    head(tok, 5, 2);
    num(tok, 44234), bstr(tok, ps.ptr, ps.len);
    num(tok, 44241), bstr(tok, rs.ptr, rs.len);
    ccz_buf_free(&pm), ccz_buf_free(&rm), ccz_buf_free(&pp), ccz_buf_free(&rp);
    ccz_buf_free(&ps), ccz_buf_free(&rs);
}

static ccz_status parse_claims(const claims_spec *c, ccz_cca_evidence *e)
{
    ccz_buf tok = CCZ_BUF_INIT;
    claims_token(&tok, c);
    ccz_status s = ccz_cca_evidence_parse(e, ccz_buf_span(&tok));
    ccz_buf_free(&tok);
    return s;
}

/* Nothing may follow an item where COSE and the collection end it: the COSE_Sign1 array, the
 * map inside the protected header's bstr, the collection map, a token's claims map (its
 * payload) and the RAK's COSE_Key; each is refused. A COSE_Sign1 of 5 elements, and an array
 * whose count exceeds the input, are refused for what they are. */
static void test_trailing_bytes(void)
{
    ccz_cose_sign1 m;
    static const uint8_t after[] = {0xd2, 0x84, 0x43, 0xa1, 0x01, 0x26, 0xa0, 0x40, 0x40, 0x00};
    CHECK_STATUS(ccz_cose_sign1_parse(&m, CCZ_SPAN(after, sizeof after)), CCZ_ERR_TRAILING_DATA);
    CHECK_CONTAINS(ccz_error_detail(), "COSE_Sign1: 1 unexpected bytes after offset 9");
    static const uint8_t prot[] = {0x84, 0x44, 0xa1, 0x01, 0x26, 0x00, 0xa0, 0x40, 0x40};
    CHECK_STATUS(ccz_cose_sign1_parse(&m, CCZ_SPAN(prot, sizeof prot)), CCZ_ERR_TRAILING_DATA);
    CHECK_CONTAINS(ccz_error_detail(), "COSE protected header: 1 unexpected bytes after offset 3");
    static const uint8_t five[] = {0x85, 0x43, 0xa1, 0x01, 0x26, 0xa0, 0x40, 0x40, 0x40};
    CHECK_STATUS(ccz_cose_sign1_parse(&m, CCZ_SPAN(five, sizeof five)), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "COSE_Sign1: 5 elements, not 4");
    static const uint8_t huge[] = {0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x40};
    CHECK_STATUS(ccz_cose_sign1_parse(&m, CCZ_SPAN(huge, sizeof huge)), CCZ_ERR_TRUNCATED);
    CHECK_CONTAINS(ccz_error_detail(), "exceeds the input");
    ccz_cca_token t;
    static const uint8_t tok[] = {0xd9, 0x01, 0x8f, 0xa2, 0x19, 0xac, 0xca,
                                  0x40, 0x19, 0xac, 0xd1, 0x40, 0x00};
    CHECK_STATUS(ccz_cca_token_parse(&t, CCZ_SPAN(tok, sizeof tok)), CCZ_ERR_TRAILING_DATA);
    CHECK_CONTAINS(ccz_error_detail(), "CCA token: 1 unexpected bytes after offset 12");
    static ccz_cca_evidence e;
    claims_odd = PAYLOAD_TRAILING;
    CHECK_STATUS(parse_claims(&good_claims, &e), CCZ_ERR_TRAILING_DATA);
    claims_odd = 0;
    CHECK_CONTAINS(ccz_error_detail(), "CCA platform token: claims map: 1 unexpected bytes");
    static ccz_result r;
    spec s = base;
    s.realm_profile = "tag:arm.com,2023:realm#1.0.0";
    s.rak_trailing = true;
    CHECK_STATUS(run(&r, &s, NULL), CCZ_ERR_TRAILING_DATA);
    CHECK_STR(r.step, "realm_token");
    CHECK_CONTAINS(r.message, "COSE_Key: 1 unexpected bytes after the map");
}

/* Each claim's rule, one change at a time from a token that parses. */
static void test_claims(void)
{
    static ccz_cca_evidence e;
    CHECK_OK(parse_claims(&good_claims, &e));
    CHECK_INT(e.claims.lifecycle, 0x3000);
    CHECK_STR(e.claims.sw_components[0].version, "1.0.0");
    CHECK_STR(e.claims.sw_components[0].hash_alg, "sha-256");
    CHECK_INT(e.claims.platform_config_len, 32);
    CHECK(!e.rak_is_cose_key); /* the legacy profile: the RAK is a SEC1 point */
    claims_spec c = good_claims;
    c.profile = "tag:arm.com,2023:realm#1.0.0";
    CHECK_OK(parse_claims(&c, &e));
    CHECK(e.rak_is_cose_key);
    for (size_t len = 32; len <= 64; len += 16) {
        c = good_claims;
        c.challenge = len;
        CHECK_OK(parse_claims(&c, &e));
        c.rim = c.rem3 = len;
        CHECK_OK(parse_claims(&c, &e));
    }
    static const struct {
        const char *field;
        claims_spec c;
        const char *detail;
    } bad[] = {
        {"challenge",
         {33, 1, 0x3000, 1, 32, 32, 4, 0, 0, NULL},
         "challenge: 33 bytes, not 32, 48 or 64"},
        {"instance",
         {32, 2, 0x3000, 1, 32, 32, 4, 0, 0, NULL},
         "instance id: type byte 0x02, not 0x01 (a RAND EUID)"},
        {"lifecycle", {32, 1, 0x10000, 1, 32, 32, 4, 0, 0, NULL}, "lifecycle 65536 out of range"},
        {"lifecycle", {32, 1, -1, 1, 32, 32, 4, 0, 0, NULL}, "lifecycle -1 out of range"},
        {"components", {32, 1, 0x3000, 0, 32, 32, 4, 0, 0, NULL}, "0 software components (1 to"},
        {"rim",
         {32, 1, 0x3000, 1, 33, 33, 4, 0, 0, NULL},
         "initial measurement: 33 bytes, not 32, 48 or 64"},
        {"rems", {32, 1, 0x3000, 1, 32, 32, 3, 0, 0, NULL}, "3 extensible measurements, not 4"},
        {"rems", {32, 1, 0x3000, 1, 32, 32, 5, 0, 0, NULL}, "5 extensible measurements, not 4"},
        {"rem size",
         {32, 1, 0x3000, 1, 32, 48, 4, 0, 0, NULL},
         "extensible measurement 3: 48 bytes, the initial measurement 32"},
        {"rem size",
         {32, 1, 0x3000, 1, 32, 33, 4, 0, 0, NULL},
         "extensible measurement 3: 33 bytes, not 32, 48 or 64"},
        {"drop", {32, 1, 0x3000, 1, 32, 32, 4, 2396, 0, NULL}, "no implementation id (2396)"},
        {"drop", {32, 1, 0x3000, 1, 32, 32, 4, 2399, 0, NULL}, "no software components (2399)"},
        {"drop", {32, 1, 0x3000, 1, 32, 32, 4, 44237, 0, NULL}, "no public key (44237)"},
        {"drop",
         {32, 1, 0x3000, 1, 32, 32, 4, 44240, 0, NULL},
         "no public key hash algorithm (44240)"},
        {"twice", {32, 1, 0x3000, 1, 32, 32, 4, 0, 256, NULL}, "platform claim 256 given twice"},
        {"twice", {32, 1, 0x3000, 1, 32, 32, 4, 0, 44238, NULL}, "realm claim 44238 given twice"},
        {"drop", {32, 1, 0x3000, 1, 32, 32, 4, -11, 0, NULL}, "no challenge (10)"},
        {"drop", {32, 1, 0x3000, 1, 32, 32, 4, -10, 0, NULL}, "no challenge (10)"},
        {"drop", {32, 1, 0x3000, 1, 32, 32, 4, 256, 0, NULL}, "no instance id (256)"},
        {"drop", {32, 1, 0x3000, 1, 32, 32, 4, 2395, 0, NULL}, "no lifecycle (2395)"},
        {"drop", {32, 1, 0x3000, 1, 32, 32, 4, 44235, 0, NULL}, "no personalization value (44235)"},
        {"drop", {32, 1, 0x3000, 1, 32, 32, 4, 44236, 0, NULL}, "no hash algorithm (44236)"},
        {"drop", {32, 1, 0x3000, 1, 32, 32, 4, 44238, 0, NULL}, "no initial measurement (44238)"},
        {"drop",
         {32, 1, 0x3000, 1, 32, 32, 4, 44239, 0, NULL},
         "no extensible measurements (44239)"},
        {"profile",
         {32, 1, 0x3000, 1, 32, 32, 4, 0, 0,
          "tag:arm.com,2023:realm#1.0.0-01234567890123456789012345678901234"},
         "profile: 64 characters, more than 63"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        test_name = bad[i].field;
        CHECK_STATUS(parse_claims(&bad[i].c, &e), CCZ_ERR_MALFORMED);
        CHECK_CONTAINS(ccz_error_detail(), bad[i].detail);
    }
    /* the oddities, each on the good claims */
    static const struct {
        int odd;
        size_t pv;
        const char *detail;
    } odd[] = {
        {0, 65, "personalization value: 65 bytes, not 64"},
        {0, 63, "personalization value: 63 bytes, not 64"},
        {SW_NO_SIGNER, 0, "software component without a signer id"},
        {SW_NO_MEASUREMENT, 0, "software component without a measurement"},
        {SW_LONG_MEASUREMENT, 0, "measurement value: 65 bytes, more than 64"},
        {RAK_HASH_NUL, 0, "RAK hash algorithm: a NUL inside the text"},
        {SW_NOT_ARRAY, 0, "claim 2399: CBOR: software components expected at offset"},
        {CONFIG_LONG, 0, "claim 2401: platform configuration: 65 bytes, more than 64"},
    };
    for (size_t i = 0; i < CCZ_ARRAY_LEN(odd); i++) {
        claims_odd = odd[i].odd, claims_pv = odd[i].pv;
        test_name = odd[i].detail;
        CHECK_STATUS(parse_claims(&good_claims, &e), CCZ_ERR_MALFORMED);
        CHECK_CONTAINS(ccz_error_detail(), odd[i].detail);
    }
    test_name = "test_claims";
    /* a claim with a text key is not one of the profile's: skipped */
    claims_odd = TEXT_KEY;
    CHECK_OK(parse_claims(&good_claims, &e));
    CHECK_INT(e.claims.lifecycle, 0x3000);
    claims_odd = 0;
    /* each claim given twice is refused, whichever it is (the later one is not read over the
     * earlier) */
    static const struct {
        int64_t key;
        const char *detail;
    } twice[] = {
        {265, "CCA platform token: claim 265: platform claim 265 given twice"},
        {-11, "CCA platform token: claim 10: platform claim 10 given twice"},
        {2396, "CCA platform token: claim 2396: platform claim 2396 given twice"},
        {2395, "CCA platform token: claim 2395: platform claim 2395 given twice"},
        {2399, "CCA platform token: claim 2399: platform claim 2399 given twice"},
        {2400, "CCA platform token: claim 2400: platform claim 2400 given twice"},
        {2401, "CCA platform token: claim 2401: platform claim 2401 given twice"},
        {2402, "CCA platform token: claim 2402: platform claim 2402 given twice"},
        {-265, "CCA realm token: claim 265: realm claim 265 given twice"},
        {-10, "CCA realm token: claim 10: realm claim 10 given twice"},
        {44235, "CCA realm token: claim 44235: realm claim 44235 given twice"},
        {44236, "CCA realm token: claim 44236: realm claim 44236 given twice"},
        {44237, "CCA realm token: claim 44237: realm claim 44237 given twice"},
        {44239, "CCA realm token: claim 44239: realm claim 44239 given twice"},
        {44240, "CCA realm token: claim 44240: realm claim 44240 given twice"},
    };
    for (size_t i = 0; i < CCZ_ARRAY_LEN(twice); i++) {
        c = good_claims;
        c.twice = twice[i].key;
        c.profile = "tag:arm.com,2023:realm#1.0.0";
        test_name = twice[i].detail;
        CHECK_STATUS(parse_claims(&c, &e), CCZ_ERR_MALFORMED);
        CHECK_CONTAINS(ccz_error_detail(), twice[i].detail);
    }
    /* each key of a software component given twice */
    static const int64_t sw_keys[] = {1, 2, 4, 5, 6};
    for (size_t i = 0; i < CCZ_ARRAY_LEN(sw_keys); i++) {
        char want[96];
        snprintf(want, sizeof want,
                 "claim 2399: software component 0: software component claim %lld given twice",
                 (long long)sw_keys[i]);
        claims_sw_twice = sw_keys[i];
        test_name = want;
        CHECK_STATUS(parse_claims(&good_claims, &e), CCZ_ERR_MALFORMED);
        CHECK_CONTAINS(ccz_error_detail(), want);
    }
    claims_sw_twice = 0;
    test_name = "test_claims";
    /* 32 software components are read, 33 would not fit */
    c = good_claims;
    c.sw = CCZ_CCA_MAX_SW_COMPONENTS;
    CHECK_OK(parse_claims(&c, &e));
    CHECK_INT(e.claims.n_sw_components, CCZ_CCA_MAX_SW_COMPONENTS);
    c.sw = CCZ_CCA_MAX_SW_COMPONENTS + 1;
    CHECK_STATUS(parse_claims(&c, &e), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "claim 2399: 33 software components (1 to 32 are read)");
    /* a lifecycle of -2^64: not an int64 (read modulo 2^64 it would be 0) */
    claims_odd = LIFECYCLE_WRAP, claims_pv = 0;
    CHECK_STATUS(parse_claims(&good_claims, &e), CCZ_ERR_OVERFLOW);
    CHECK_CONTAINS(ccz_error_detail(), "does not fit 64 bits");
    claims_odd = 0;
    /* profiles: the known ones read, another one refused (its claims may mean something else,
     * and a realm profile decides how the RAK is read), the platform's as the realm's */
    c = good_claims;
    c.profile = "tag:arm.com,2024:realm#2.0.0";
    claims_platform_profile = "http://arm.com/CCA-SSD/1.0.0";
    CHECK_OK(parse_claims(&c, &e));
    CHECK(e.rak_is_cose_key);
    CHECK_STR(e.claims.platform_profile, "http://arm.com/CCA-SSD/1.0.0");
    claims_platform_profile = "tag:arm.com,2023:cca_platform#2.0.0";
    CHECK_STATUS(parse_claims(&c, &e), CCZ_ERR_UNSUPPORTED);
    CHECK_CONTAINS(ccz_error_detail(),
                   "CCA platform token: profile \"tag:arm.com,2023:cca_platform#2.0.0\" is not "
                   "one ccz reads");
    claims_platform_profile = NULL;
    static const char *const unknown_realm[] = {"tag:arm.com,2025:realm#3.0.0",
                                                "tag:arm.com,2023:realm#1.0"};
    for (size_t i = 0; i < CCZ_ARRAY_LEN(unknown_realm); i++) {
        c.profile = unknown_realm[i];
        CHECK_STATUS(parse_claims(&c, &e), CCZ_ERR_UNSUPPORTED);
        CHECK_CONTAINS(ccz_error_detail(), "CCA realm token: profile");
        CHECK_CONTAINS(ccz_error_detail(), unknown_realm[i]);
    }
    /* the collection: a tag that is not CCA's, a key twice after both were given */
    ccz_buf tok = CCZ_BUF_INIT;
    claims_token(&tok, &good_claims);
    tok.ptr[2] = 0x90; /* tag 400 */
    CHECK_STATUS(ccz_cca_evidence_parse(&e, ccz_buf_span(&tok)), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "CCA token: CBOR tag 399 or 907 expected");
    ccz_buf_free(&tok);
    ccz_cca_token t;
    static const uint8_t thrice[] = {0xd9, 0x01, 0x8f, 0xa3, 0x19, 0xac, 0xca, 0x40,
                                     0x19, 0xac, 0xd1, 0x40, 0x19, 0xac, 0xca, 0x40};
    CHECK_STATUS(ccz_cca_token_parse(&t, CCZ_SPAN(thrice, sizeof thrice)), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "CCA token: key 44234 given twice");
}

TEST_MAIN(T(test_every_algorithm_and_form), T(test_each_failure), T(test_rak_forms),
          T(test_expected_report_data), T(test_platform_cache), T(test_anchor_lookup),
          T(test_anchor_choice), T(test_anchor_store_entry), T(test_anchor_documents),
          T(test_sig_structure), T(test_malformed), T(test_trailing_bytes), T(test_claims))
