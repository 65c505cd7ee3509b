/* SPDX-License-Identifier: Apache-2.0 */
/* JWE flattened JSON serialization (RFC 7516 §7.2.2) with A256GCM content encryption, as
 * Trustee's KBS sends resources: key management ECDH-ES+A256KW (RFC 7518 §4.6, Concat KDF as
 * OpenSSL's SSKDF, AES key wrap RFC 3394), RSA-OAEP-256, and RSA1_5 for encryption only. The
 * JWE text handed to the decryptor is untrusted; keys are trusted. CEKs, shared secrets and
 * key-encryption keys live on the stack and are wiped on every path. */
#include <limits.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include "core/guard.h"
#include "jose/jose.h"

#define CEK_LEN 32
#define IV_LEN 12
#define TAG_LEN 16
#define WRAPPED_LEN (CEK_LEN + 8)
#define MAX_SECRET 66 /* ECDH shared secret of P-521 */

static const struct {
    jose_jwe_alg alg;
    const char *name;
} jwe_algs[] = {
    {JOSE_JWE_ECDH_ES_A256KW, "ECDH-ES+A256KW"},
    {JOSE_JWE_RSA_OAEP_256, "RSA-OAEP-256"},
    {JOSE_JWE_RSA1_5, "RSA1_5"},
};

ccz_status jose_jwe_alg_parse(jose_jwe_alg *out, const char *name)
{
    for (size_t i = 0; name && i < CCZ_ARRAY_LEN(jwe_algs); i++)
        if (strcmp(name, jwe_algs[i].name) == 0) {
            *out = jwe_algs[i].alg;
            return CCZ_OK;
        }
    return ccz_fail(CCZ_ERR_UNSUPPORTED, "JWE: key management \"%.32s\" is not supported",
                    name ? name : "");
}

const char *jose_jwe_alg_name(jose_jwe_alg alg)
{
    for (size_t i = 0; i < CCZ_ARRAY_LEN(jwe_algs); i++)
        if (jwe_algs[i].alg == alg)
            return jwe_algs[i].name;
    return "?";
}

/* ---- primitives ----------------------------------------------------------------------*/

/* Concat KDF (NIST SP 800-56A, RFC 7518 §4.6.2) with SHA-256: OpenSSL's single-step KDF with
 * OtherInfo = AlgorithmID || PartyUInfo || PartyVInfo || SuppPubInfo, each length-prefixed. */
static ccz_status concat_kdf(uint8_t kek[CEK_LEN], const uint8_t *z, size_t z_len, const char *alg,
                             ccz_span apu, ccz_span apv)
{
    ccz_buf info = CCZ_BUF_INIT;
    size_t alg_len = strlen(alg);
    uint8_t be[4];
    ccz_status s = CCZ_OK;
#define PUT_BE32(v)                                                                                \
    do {                                                                                           \
        uint32_t v_ = (uint32_t)(v);                                                               \
        be[0] = (uint8_t)(v_ >> 24), be[1] = (uint8_t)(v_ >> 16);                                  \
        be[2] = (uint8_t)(v_ >> 8), be[3] = (uint8_t)v_;                                           \
        CCZ_GUARD_GOTO(ccz_buf_append(&info, be, 4), s, out);                                      \
    } while (0)
    PUT_BE32(alg_len);
    CCZ_GUARD_GOTO(ccz_buf_append(&info, alg, alg_len), s, out);
    PUT_BE32(apu.len);
    CCZ_GUARD_GOTO(ccz_buf_append(&info, apu.ptr, apu.len), s, out);
    PUT_BE32(apv.len);
    CCZ_GUARD_GOTO(ccz_buf_append(&info, apv.ptr, apv.len), s, out);
    PUT_BE32(CEK_LEN * 8);
#undef PUT_BE32
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, OSSL_KDF_NAME_SSKDF, NULL);
    EVP_KDF_CTX *kctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    OSSL_PARAM params[] = {
        OSSL_PARAM_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0),
        OSSL_PARAM_octet_string(OSSL_KDF_PARAM_KEY, (void *)z, z_len),
        OSSL_PARAM_octet_string(OSSL_KDF_PARAM_INFO, info.ptr, info.len),
        OSSL_PARAM_END,
    };
    if (!kctx || EVP_KDF_derive(kctx, kek, CEK_LEN, params) != 1)
        s = ccz_fail_ossl(CCZ_ERR_CRYPTO, "JWE: Concat KDF failed");
    EVP_KDF_CTX_free(kctx);
    EVP_KDF_free(kdf);
out:
    ccz_buf_free(&info);
    return s;
}

/* ECDH between a private key and a peer public key on the same curve. */
static ccz_status ecdh(uint8_t z[MAX_SECRET], size_t *z_len, EVP_PKEY *priv, EVP_PKEY *peer)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, priv, NULL);
    *z_len = MAX_SECRET;
    int ok = ctx && EVP_PKEY_derive_init(ctx) == 1 && EVP_PKEY_derive_set_peer(ctx, peer) == 1 &&
             EVP_PKEY_derive(ctx, z, z_len) == 1;
    EVP_PKEY_CTX_free(ctx);
    return ok ? CCZ_OK : ccz_fail_ossl(CCZ_ERR_CRYPTO, "JWE: ECDH failed");
}

/* AES-256 key wrap (RFC 3394) of the CEK, or unwrap (false when the integrity check fails). */
static bool aes_kw(uint8_t *out, const uint8_t kek[CEK_LEN], const uint8_t *in, size_t in_len,
                   int enc)
{
    EVP_CIPHER *c = EVP_CIPHER_fetch(NULL, "AES-256-WRAP", NULL);
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n = 0, m = 0;
    if (ctx)
        EVP_CIPHER_CTX_set_flags(ctx, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
    bool ok = c && ctx && EVP_CipherInit_ex2(ctx, c, kek, NULL, enc, NULL) == 1 &&
              EVP_CipherUpdate(ctx, out, &n, in, (int)in_len) == 1 &&
              EVP_CipherFinal_ex(ctx, out + n, &m) == 1 &&
              (size_t)(n + m) == (enc ? in_len + 8 : in_len - 8);
    EVP_CIPHER_CTX_free(ctx);
    EVP_CIPHER_free(c);
    ERR_clear_error();
    return ok;
}

/* AES-256-GCM with a 12-byte IV and 16-byte tag; decryption reports only whether the tag
 * verified (GCM compares in constant time). */
static bool aes_gcm(uint8_t *out, const uint8_t cek[CEK_LEN], const uint8_t iv[IV_LEN],
                    ccz_span aad, ccz_span in, uint8_t tag[TAG_LEN], int enc)
{
    if (aad.len > INT_MAX || in.len > INT_MAX)
        return false;
    EVP_CIPHER *c = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n = 0, m = 0;
    bool ok = c && ctx && EVP_CipherInit_ex2(ctx, c, cek, iv, enc, NULL) == 1 &&
              EVP_CipherUpdate(ctx, NULL, &n, aad.ptr, (int)aad.len) == 1 &&
              (in.len == 0 || EVP_CipherUpdate(ctx, out, &n, in.ptr, (int)in.len) == 1) &&
              (enc || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, TAG_LEN, tag) == 1) &&
              EVP_CipherFinal_ex(ctx, out + (in.len ? n : 0), &m) == 1 &&
              (!enc || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, TAG_LEN, tag) == 1);
    EVP_CIPHER_CTX_free(ctx);
    EVP_CIPHER_free(c);
    ERR_clear_error();
    return ok;
}

static int rsa_padding(jose_jwe_alg alg)
{
    return alg == JOSE_JWE_RSA1_5 ? RSA_PKCS1_PADDING : RSA_PKCS1_OAEP_PADDING;
}

static bool rsa_ctx_setup(EVP_PKEY_CTX *ctx, jose_jwe_alg alg)
{
    if (EVP_PKEY_CTX_set_rsa_padding(ctx, rsa_padding(alg)) != 1)
        return false;
    return alg == JOSE_JWE_RSA1_5 || (EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha256()) == 1 &&
                                      EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) == 1);
}

/* ---- encryption ----------------------------------------------------------------------*/

static ccz_status set_b64(json_t *obj, const char *name, ccz_span v)
{
    ccz_buf b = CCZ_BUF_INIT;
    ccz_status s = jose_b64url_encode(&b, v);
    if (s == CCZ_OK && json_object_set_new(obj, name, json_string((const char *)b.ptr)) != 0)
        s = ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    ccz_buf_free(&b);
    return s;
}

/* ECDH-ES+A256KW: a fresh ephemeral key on the recipient's curve; its public part goes to the
 * header as epk. */
static ccz_status wrap_ecdh(ccz_buf *ek, json_t *hdr, EVP_PKEY *recipient,
                            const uint8_t cek[CEK_LEN])
{
    EVP_PKEY *eph = NULL;
    EVP_PKEY_CTX *gen = EVP_PKEY_CTX_new_from_pkey(NULL, recipient, NULL);
    json_t *jwk = NULL;
    uint8_t z[MAX_SECRET], kek[CEK_LEN], wrapped[WRAPPED_LEN];
    size_t z_len = 0;
    ccz_status s;
    if (!gen || EVP_PKEY_keygen_init(gen) != 1 || EVP_PKEY_keygen(gen, &eph) != 1) {
        s = ccz_fail_ossl(CCZ_ERR_CRYPTO, "JWE: cannot generate the ephemeral key");
        goto out;
    }
    CCZ_GUARD_GOTO(ecdh(z, &z_len, eph, recipient), s, out);
    CCZ_GUARD_GOTO(
        concat_kdf(kek, z, z_len, "ECDH-ES+A256KW", CCZ_SPAN(NULL, 0), CCZ_SPAN(NULL, 0)), s, out);
    if (!aes_kw(wrapped, kek, cek, CEK_LEN, 1)) {
        s = ccz_fail(CCZ_ERR_CRYPTO, "JWE: AES key wrap failed");
        goto out;
    }
    CCZ_GUARD_GOTO(ccz_buf_append(ek, wrapped, sizeof wrapped), s, out);
    CCZ_GUARD_GOTO(jose_jwk_from_key(&jwk, eph, NULL, NULL), s, out);
    json_t *epk = json_pack("{s:s, s:O, s:O, s:O}", "kty", "EC", "crv", json_object_get(jwk, "crv"),
                            "x", json_object_get(jwk, "x"), "y", json_object_get(jwk, "y"));
    if (!epk || json_object_set_new(hdr, "epk", epk) != 0)
        s = ccz_fail(CCZ_ERR_NOMEM, "out of memory");
out:
    ccz_wipe(z, sizeof z);
    ccz_wipe(kek, sizeof kek);
    json_decref(jwk);
    EVP_PKEY_free(eph);
    EVP_PKEY_CTX_free(gen);
    return s;
}

static ccz_status wrap_rsa(ccz_buf *ek, EVP_PKEY *recipient, jose_jwe_alg alg,
                           const uint8_t cek[CEK_LEN])
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, recipient, NULL);
    size_t n = (size_t)EVP_PKEY_get_size(recipient);
    ccz_status s = ccz_buf_reserve(ek, n);
    if (s == CCZ_OK && (!ctx || EVP_PKEY_encrypt_init(ctx) != 1 || !rsa_ctx_setup(ctx, alg) ||
                        EVP_PKEY_encrypt(ctx, ek->ptr + ek->len, &n, cek, CEK_LEN) != 1))
        s = ccz_fail_ossl(CCZ_ERR_CRYPTO, "JWE: RSA encryption of the CEK failed");
    else if (s == CCZ_OK)
        ek->len += n;
    EVP_PKEY_CTX_free(ctx);
    return s;
}

/* Whether the key can receive alg (ECDH on our curves; RSA of at least 2048 bits). */
static ccz_status key_fits(EVP_PKEY *key, jose_jwe_alg alg)
{
    if (alg == JOSE_JWE_ECDH_ES_A256KW) {
        if (!jose_ec_bits(key))
            return ccz_fail(CCZ_ERR_UNSUPPORTED, "JWE: ECDH-ES+A256KW needs P-256, P-384 or P-521");
        return CCZ_OK;
    }
    if (alg == JOSE_JWE_RSA_OAEP_256 || alg == JOSE_JWE_RSA1_5) {
        if (!key || EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA || EVP_PKEY_get_bits(key) < 2048)
            return ccz_fail(CCZ_ERR_UNSUPPORTED, "JWE: %s needs an RSA key of 2048 bits or more",
                            jose_jwe_alg_name(alg));
        return CCZ_OK;
    }
    return ccz_fail(CCZ_ERR_UNSUPPORTED, "JWE: unknown key management algorithm");
}

ccz_status jose_jwe_encrypt(json_t **out, EVP_PKEY *recipient, jose_jwe_alg alg, ccz_span payload)
{
    *out = NULL;
    CCZ_GUARD(key_fits(recipient, alg));
    if (payload.len > JOSE_MAX_INPUT * 16u)
        return ccz_fail(CCZ_ERR_TOO_LARGE, "JWE: payload of %zu bytes is too large", payload.len);
    uint8_t cek[CEK_LEN], iv[IV_LEN], tag[TAG_LEN];
    ccz_buf ek = CCZ_BUF_INIT, prot = CCZ_BUF_INIT, ct = CCZ_BUF_INIT;
    json_t *hdr = json_pack("{s:s, s:s}", "alg", jose_jwe_alg_name(alg), "enc", "A256GCM");
    json_t *jwe = json_object();
    char *hdr_text = NULL;
    ccz_status s = CCZ_OK;
    if (!hdr || !jwe) {
        s = ccz_fail(CCZ_ERR_NOMEM, "out of memory");
        goto out;
    }
    if (RAND_priv_bytes(cek, sizeof cek) != 1 || RAND_bytes(iv, sizeof iv) != 1) {
        s = ccz_fail_ossl(CCZ_ERR_CRYPTO, "JWE: no randomness");
        goto out;
    }
    if (alg == JOSE_JWE_ECDH_ES_A256KW)
        CCZ_GUARD_GOTO(wrap_ecdh(&ek, hdr, recipient, cek), s, out);
    else
        CCZ_GUARD_GOTO(wrap_rsa(&ek, recipient, alg, cek), s, out);
    /* the AAD is the protected header's base64url text, exactly as sent */
    hdr_text = json_dumps(hdr, JSON_COMPACT);
    if (!hdr_text) {
        s = ccz_fail(CCZ_ERR_NOMEM, "out of memory");
        goto out;
    }
    CCZ_GUARD_GOTO(jose_b64url_encode(&prot, CCZ_SPAN(hdr_text, strlen(hdr_text))), s, out);
    CCZ_GUARD_GOTO(ccz_buf_reserve(&ct, payload.len), s, out);
    if (!aes_gcm(ct.ptr, cek, iv, ccz_buf_span(&prot), payload, tag, 1)) {
        s = ccz_fail(CCZ_ERR_CRYPTO, "JWE: AES-GCM encryption failed");
        goto out;
    }
    ct.len = payload.len;
    if (json_object_set_new(jwe, "protected", json_string((const char *)prot.ptr)) != 0) {
        s = ccz_fail(CCZ_ERR_NOMEM, "out of memory");
        goto out;
    }
    CCZ_GUARD_GOTO(set_b64(jwe, "encrypted_key", ccz_buf_span(&ek)), s, out);
    CCZ_GUARD_GOTO(set_b64(jwe, "iv", CCZ_SPAN(iv, sizeof iv)), s, out);
    CCZ_GUARD_GOTO(set_b64(jwe, "ciphertext", ccz_buf_span(&ct)), s, out);
    CCZ_GUARD_GOTO(set_b64(jwe, "tag", CCZ_SPAN(tag, sizeof tag)), s, out);
    *out = jwe;
    jwe = NULL;
out:
    ccz_wipe(cek, sizeof cek);
    free(hdr_text);
    json_decref(hdr);
    json_decref(jwe);
    ccz_buf_free(&ek);
    ccz_buf_free(&prot);
    ccz_buf_free(&ct);
    return s;
}

ccz_status jose_jwe_encrypt_jwk(json_t **out, const json_t *tee_pubkey, ccz_span payload)
{
    *out = NULL;
    jose_jwe_alg alg = JOSE_JWE_ECDH_ES_A256KW;
    CCZ_GUARD(jose_jwe_alg_parse(&alg, json_string_value(json_object_get(tee_pubkey, "alg"))));
    EVP_PKEY *key;
    CCZ_GUARD(jose_jwk_to_key(&key, tee_pubkey));
    ccz_status s = jose_jwe_encrypt(out, key, alg, payload);
    EVP_PKEY_free(key);
    return s;
}

/* ---- decryption ----------------------------------------------------------------------*/

typedef struct {
    json_t *doc;
    json_t *hdr;         /* the decoded protected header */
    json_t *params;      /* its members and those of the unprotected headers (epk, apu, ...) */
    ccz_span protected_; /* its base64url text, the AAD */
    const char *aad;     /* the optional "aad" member's text */
    size_t aad_len;
    jose_jwe_alg alg;
    ccz_buf ek, iv, ct, tag;
} jwe_parts;

static void jwe_parts_free(jwe_parts *p)
{
    json_decref(p->doc);
    json_decref(p->hdr);
    json_decref(p->params);
    ccz_buf_free(&p->ek);
    ccz_buf_free(&p->iv);
    ccz_buf_free(&p->ct);
    ccz_buf_free(&p->tag);
}

static ccz_status member_b64(ccz_buf *out, const json_t *doc, const char *name)
{
    const json_t *v = json_object_get(doc, name);
    if (!json_is_string(v))
        return ccz_fail(CCZ_ERR_MALFORMED, "JWE: \"%s\" is missing or not a string", name);
    ccz_status s = jose_b64url_decode(out, json_string_value(v), json_string_length(v));
    if (s)
        return ccz_fail_context(s == CCZ_ERR_NOMEM ? s : CCZ_ERR_MALFORMED, "JWE \"%s\"", name);
    return CCZ_OK;
}

static ccz_status check_members(const json_t *doc)
{
    static const char *const known[] = {"protected", "encrypted_key", "iv",     "ciphertext",
                                        "tag",       "aad",           "header", "unprotected"};
    const char *k;
    json_t *v;
    json_object_foreach ((json_t *)doc, k, v) {
        bool ok = false;
        for (size_t i = 0; i < CCZ_ARRAY_LEN(known); i++)
            ok |= strcmp(k, known[i]) == 0;
        if (!ok && strcmp(k, "recipients") == 0)
            return ccz_fail(CCZ_ERR_UNSUPPORTED, "JWE: the general serialization is not supported");
        if (!ok)
            return ccz_fail(CCZ_ERR_MALFORMED, "JWE: unknown member \"%.32s\"", k);
    }
    return CCZ_OK;
}

/* Adds the members of an unprotected header ("header" or "unprotected") to p->params. Only
 * parameters whose change cannot go unnoticed may sit there: a changed epk, apu or apv gives
 * another key-encryption key, so the unwrap fails; alg, enc, zip and crit must be protected. */
static ccz_status merge_unprotected(jwe_parts *p, const char *member)
{
    static const char *const allowed[] = {"epk", "apu", "apv", "kid"};
    const json_t *u = json_object_get(p->doc, member);
    if (!u)
        return CCZ_OK;
    if (!json_is_object(u))
        return ccz_fail(CCZ_ERR_MALFORMED, "JWE: \"%s\" is not a JSON object", member);
    const char *k;
    json_t *v;
    json_object_foreach ((json_t *)u, k, v) {
        bool ok = false;
        for (size_t i = 0; i < CCZ_ARRAY_LEN(allowed); i++)
            ok |= strcmp(k, allowed[i]) == 0;
        if (!ok)
            return ccz_fail(CCZ_ERR_UNSUPPORTED, "JWE: \"%.32s\" must be in the protected header",
                            k);
        if (json_object_get(p->params, k))
            return ccz_fail(CCZ_ERR_MALFORMED, "JWE: header parameter \"%.32s\" given twice", k);
        if (json_object_set(p->params, k, v) != 0)
            return ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    }
    return CCZ_OK;
}

static ccz_status parse_header(jwe_parts *p)
{
    const json_t *prot = json_object_get(p->doc, "protected");
    if (!json_is_string(prot))
        return ccz_fail(CCZ_ERR_MALFORMED, "JWE: \"protected\" is missing or not a string");
    p->protected_ = CCZ_SPAN(json_string_value(prot), json_string_length(prot));
    ccz_buf b = CCZ_BUF_INIT;
    ccz_status s = jose_b64url_decode(&b, (const char *)p->protected_.ptr, p->protected_.len);
    if (s == CCZ_OK)
        s = jose_json_parse(&p->hdr, (const char *)b.ptr, b.len);
    else
        s = ccz_fail_context(s == CCZ_ERR_NOMEM ? s : CCZ_ERR_MALFORMED, "JWE protected header");
    ccz_buf_free(&b);
    if (s)
        return s;
    if (!json_is_object(p->hdr))
        return ccz_fail(CCZ_ERR_MALFORMED, "JWE: the protected header is not a JSON object");
    const char *enc = json_string_value(json_object_get(p->hdr, "enc"));
    if (!json_is_string(json_object_get(p->hdr, "alg")) || !enc)
        return ccz_fail(CCZ_ERR_MALFORMED, "JWE: the protected header lacks \"alg\" or \"enc\"");
    if (strcmp(enc, "A256GCM") != 0)
        return ccz_fail(CCZ_ERR_UNSUPPORTED, "JWE: enc \"%.16s\" is not supported", enc);
    if (json_object_get(p->hdr, "zip") || json_object_get(p->hdr, "crit"))
        return ccz_fail(CCZ_ERR_UNSUPPORTED, "JWE: \"zip\" and \"crit\" are not supported");
    CCZ_GUARD(jose_jwe_alg_parse(&p->alg, json_string_value(json_object_get(p->hdr, "alg"))));
    if (p->alg == JOSE_JWE_RSA1_5)
        return ccz_fail(CCZ_ERR_UNSUPPORTED, "JWE: RSA1_5 is not decrypted (deprecated)");
    p->params = json_copy(p->hdr);
    if (!p->params)
        return ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    CCZ_GUARD(merge_unprotected(p, "header"));
    return merge_unprotected(p, "unprotected");
}

static ccz_status parse_jwe(jwe_parts *p, const char *text, size_t len)
{
    CCZ_GUARD(jose_json_parse(&p->doc, text, len));
    if (!json_is_object(p->doc))
        return ccz_fail(CCZ_ERR_MALFORMED, "JWE: not a JSON object");
    CCZ_GUARD(check_members(p->doc));
    CCZ_GUARD(parse_header(p));
    const json_t *aad = json_object_get(p->doc, "aad");
    if (aad && !json_is_string(aad))
        return ccz_fail(CCZ_ERR_MALFORMED, "JWE: \"aad\" is not a string");
    if (aad) { /* checked as base64url; authenticated as its text */
        ccz_buf tmp = CCZ_BUF_INIT;
        ccz_status s = member_b64(&tmp, p->doc, "aad");
        ccz_buf_free(&tmp);
        CCZ_GUARD(s);
        p->aad = json_string_value(aad);
        p->aad_len = json_string_length(aad);
    }
    CCZ_GUARD(member_b64(&p->ek, p->doc, "encrypted_key"));
    CCZ_GUARD(member_b64(&p->iv, p->doc, "iv"));
    CCZ_GUARD(member_b64(&p->ct, p->doc, "ciphertext"));
    CCZ_GUARD(member_b64(&p->tag, p->doc, "tag"));
    if (p->iv.len != IV_LEN || p->tag.len != TAG_LEN)
        return ccz_fail(CCZ_ERR_MALFORMED, "JWE: A256GCM needs a %d-byte iv and a %d-byte tag",
                        IV_LEN, TAG_LEN);
    return CCZ_OK;
}

static ccz_status cannot_decrypt(void)
{
    return ccz_fail(CCZ_ERR_BAD_SIGNATURE, "JWE: cannot decrypt with this key");
}

/* The optional apu/apv header members, decoded. */
static ccz_status party_info(ccz_buf *out, const json_t *hdr, const char *name)
{
    const json_t *v = json_object_get(hdr, name);
    if (!v)
        return CCZ_OK;
    ccz_status s = json_is_string(v)
                       ? jose_b64url_decode(out, json_string_value(v), json_string_length(v))
                       : CCZ_ERR_MALFORMED;
    if (s == CCZ_ERR_NOMEM)
        return s;
    CCZ_ENSURE(s == CCZ_OK, CCZ_ERR_MALFORMED, "JWE: \"%s\" is not base64url", name);
    return CCZ_OK;
}

static ccz_status unwrap_ecdh(uint8_t cek[CEK_LEN], const jwe_parts *p, EVP_PKEY *key)
{
    int bits = jose_ec_bits(key);
    if (!bits)
        return cannot_decrypt();
    const json_t *epk_jwk = json_object_get(p->params, "epk");
    if (!json_is_object(epk_jwk) || p->ek.len != WRAPPED_LEN)
        return ccz_fail(CCZ_ERR_MALFORMED,
                        "JWE: ECDH-ES+A256KW needs an epk and a %d-byte "
                        "encrypted_key",
                        WRAPPED_LEN);
    EVP_PKEY *epk = NULL;
    uint8_t z[MAX_SECRET], kek[CEK_LEN];
    size_t z_len = 0;
    ccz_buf apu = CCZ_BUF_INIT, apv = CCZ_BUF_INIT;
    ccz_status s;
    CCZ_GUARD_GOTO(jose_jwk_to_key(&epk, epk_jwk), s, out);
    if (EVP_PKEY_get_base_id(epk) != EVP_PKEY_EC || jose_ec_bits(epk) != bits) {
        s = cannot_decrypt();
        goto out;
    }
    CCZ_GUARD_GOTO(party_info(&apu, p->params, "apu"), s, out);
    CCZ_GUARD_GOTO(party_info(&apv, p->params, "apv"), s, out);
    CCZ_GUARD_GOTO(ecdh(z, &z_len, key, epk), s, out);
    CCZ_GUARD_GOTO(
        concat_kdf(kek, z, z_len, "ECDH-ES+A256KW", ccz_buf_span(&apu), ccz_buf_span(&apv)), s,
        out);
    s = aes_kw(cek, kek, p->ek.ptr, p->ek.len, 0) ? CCZ_OK : cannot_decrypt();
out:
    ccz_wipe(z, sizeof z);
    ccz_wipe(kek, sizeof kek);
    ccz_buf_free(&apu);
    ccz_buf_free(&apv);
    EVP_PKEY_free(epk);
    return s;
}

/* RSA-OAEP-256. A failed decoding goes on with a random CEK, so it fails where a wrong tag
 * does, with the same status and without an early exit to time. */
static ccz_status unwrap_rsa(uint8_t cek[CEK_LEN], const jwe_parts *p, EVP_PKEY *key)
{
    if (!key || EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA)
        return cannot_decrypt();
    size_t n = (size_t)EVP_PKEY_get_size(key);
    if (p->ek.len != n)
        return ccz_fail(CCZ_ERR_MALFORMED, "JWE: encrypted_key of %zu bytes for a %zu-byte key",
                        p->ek.len, n);
    uint8_t *dec = OPENSSL_zalloc(n); /* read below even when the decoding fails */
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
    size_t dec_len = n;
    if (!dec || !ctx || RAND_priv_bytes(cek, CEK_LEN) != 1 || EVP_PKEY_decrypt_init(ctx) != 1 ||
        !rsa_ctx_setup(ctx, p->alg)) {
        OPENSSL_free(dec);
        EVP_PKEY_CTX_free(ctx);
        return ccz_fail_ossl(CCZ_ERR_CRYPTO, "JWE: cannot set up RSA decryption");
    }
    unsigned ok = EVP_PKEY_decrypt(ctx, dec, &dec_len, p->ek.ptr, p->ek.len) == 1;
    ok &= dec_len == CEK_LEN;
    uint8_t take = (uint8_t)(0u - ok); /* all ones when the decoding gave a CEK: no branch */
    for (size_t i = 0; i < CEK_LEN; i++)
        cek[i] = (uint8_t)((dec[i] & take) | (cek[i] & ~take));
    OPENSSL_clear_free(dec, n);
    EVP_PKEY_CTX_free(ctx);
    ERR_clear_error();
    return CCZ_OK;
}

ccz_status jose_jwe_decrypt(ccz_buf *out, EVP_PKEY *key, const char *jwe_json, size_t len)
{
    jwe_parts p = {0};
    uint8_t cek[CEK_LEN];
    ccz_buf aad = CCZ_BUF_INIT;
    size_t start = out->len;
    ccz_status s;
    CCZ_GUARD_GOTO(parse_jwe(&p, jwe_json, len), s, out);
    if (p.alg == JOSE_JWE_ECDH_ES_A256KW)
        CCZ_GUARD_GOTO(unwrap_ecdh(cek, &p, key), s, out);
    else
        CCZ_GUARD_GOTO(unwrap_rsa(cek, &p, key), s, out);
    /* RFC 7516 §5.2 step 14: ASCII(protected) or ASCII(protected || '.' || aad) */
    CCZ_GUARD_GOTO(ccz_buf_append(&aad, p.protected_.ptr, p.protected_.len), s, out);
    if (p.aad) {
        CCZ_GUARD_GOTO(ccz_buf_append_u8(&aad, '.'), s, out);
        CCZ_GUARD_GOTO(ccz_buf_append(&aad, p.aad, p.aad_len), s, out);
    }
    CCZ_GUARD_GOTO(ccz_buf_reserve(out, p.ct.len), s, out);
    if (!aes_gcm(out->ptr + start, cek, p.iv.ptr, ccz_buf_span(&aad), ccz_buf_span(&p.ct),
                 p.tag.ptr, 0)) {
        ccz_wipe(out->ptr + start, p.ct.len); /* no unauthenticated plaintext left behind */
        s = cannot_decrypt();
        goto out;
    }
    out->len = start + p.ct.len;
    out->ptr[out->len] = 0;
out:
    ccz_wipe(cek, sizeof cek);
    ccz_buf_free(&aad);
    jwe_parts_free(&p);
    return s;
}
