/* SPDX-License-Identifier: Apache-2.0 */
/* JWS compact serialization for JWTs (RFC 7515, 7519) with ES256 and ES384 (RFC 7518 §3.4:
 * raw r||s of fixed length), and the time and audience checks of a JWT's claims. Tokens are
 * untrusted: the header's alg is only ever compared with an allow-list and with the key's
 * curve, never used to pick a key type, so "none", HMAC with a public key as secret and
 * algorithm confusion cannot arise. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ecdsa.h>
#include <openssl/err.h>

#include "core/guard.h"
#include "jose/jose.h"
#include "x509/x509.h"

typedef struct {
    const char *name;
    unsigned bit;
    int curve_bits;
    size_t size; /* bytes of r and of s */
    const EVP_MD *(*md)(void);
} sig_alg;

static const sig_alg sig_algs[] = {
    {"ES256", JOSE_ES256, 256, 32, EVP_sha256},
    {"ES384", JOSE_ES384, 384, 48, EVP_sha384},
};

static const sig_alg *sig_alg_by_name(const char *name)
{
    for (size_t i = 0; name && i < CCZ_ARRAY_LEN(sig_algs); i++)
        if (strcmp(name, sig_algs[i].name) == 0)
            return &sig_algs[i];
    return NULL;
}

static const sig_alg *sig_alg_by_curve(int bits)
{
    for (size_t i = 0; i < CCZ_ARRAY_LEN(sig_algs); i++)
        if (sig_algs[i].curve_bits == bits)
            return &sig_algs[i];
    return NULL;
}

/* r||s of `size` bytes each from OpenSSL's DER ECDSA-Sig-Value (SEQUENCE of two INTEGERs). */
static ccz_status sig_der_to_rs(uint8_t *rs, size_t size, ccz_span der)
{
    ccz_cursor c, seq;
    ccz_span body, v;
    uint8_t tag;
    ccz_cursor_init(&c, der);
    if (ccz_cursor_der(&c, &tag, &body) || tag != 0x30 || ccz_cursor_expect_end(&c))
        goto bad;
    ccz_cursor_init(&seq, body);
    for (size_t i = 0; i < 2; i++) {
        if (ccz_cursor_der(&seq, &tag, &v) || tag != 0x02 || !v.len)
            goto bad;
        while (v.len > 1 && v.ptr[0] == 0) { /* the sign byte of a positive INTEGER */
            v.ptr++;
            v.len--;
        }
        if (v.len > size)
            goto bad;
        memset(rs + i * size, 0, size - v.len);
        memcpy(rs + i * size + size - v.len, v.ptr, v.len);
    }
    if (ccz_cursor_expect_end(&seq) == CCZ_OK)
        return CCZ_OK;
bad:
    return ccz_fail(CCZ_ERR_CRYPTO, "JWS: the signer's output is not an ECDSA signature");
}

/* A signing key made ready once: its algorithm, the encoded protected header followed by '.',
 * and an OpenSSL context initialised for signing digests, reused under a lock. */
struct jose_signer {
    const sig_alg *alg;
    EVP_PKEY *key;
    EVP_PKEY_CTX *ctx;
    EVP_MD *md;     /* fetched once: EVP_sha256() would be looked up in the provider per call */
    ccz_buf prefix; /* base64url(header) "." */
    pthread_mutex_t lock;
};

ccz_status jose_signer_new(jose_signer **out, EVP_PKEY *key, const char *kid)
{
    *out = NULL;
    const sig_alg *a = sig_alg_by_curve(jose_ec_bits(key));
    if (!a)
        return ccz_fail(CCZ_ERR_UNSUPPORTED, "JWS: signing needs an EC key on P-256 or P-384");
    char thumb[JOSE_THUMBPRINT_LEN + 1];
    if (!kid) {
        json_t *jwk;
        CCZ_GUARD(jose_jwk_from_key(&jwk, key, NULL, NULL));
        memcpy(thumb, json_string_value(json_object_get(jwk, "kid")), sizeof thumb);
        json_decref(jwk);
        kid = thumb;
    }
    jose_signer *sg = calloc(1, sizeof *sg);
    json_t *hdr = json_pack("{s:s, s:s, s:s}", "alg", a->name, "typ", "JWT", "kid", kid);
    ccz_buf text = CCZ_BUF_INIT;
    ccz_status s = sg && hdr ? CCZ_OK : ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    if (!s) {
        sg->alg = a;
        sg->key = key;
        EVP_PKEY_up_ref(key);
        pthread_mutex_init(&sg->lock, NULL);
        s = ccz_json_dump(&text, hdr, false);
    }
    if (!s)
        s = jose_b64url_encode(&sg->prefix, ccz_buf_span(&text));
    if (!s)
        s = ccz_buf_append_u8(&sg->prefix, '.');
    if (!s && (!(sg->ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL)) ||
               EVP_PKEY_sign_init(sg->ctx) != 1 ||
               !(sg->md = EVP_MD_fetch(NULL, EVP_MD_get0_name(a->md()), NULL))))
        s = ccz_fail_ossl(CCZ_ERR_CRYPTO, "JWS: cannot set up signing");
    json_decref(hdr);
    ccz_buf_free(&text);
    if (s) {
        jose_signer_free(sg);
        return s;
    }
    *out = sg;
    return CCZ_OK;
}

void jose_signer_free(jose_signer *sg)
{
    if (!sg)
        return;
    if (sg->alg)
        pthread_mutex_destroy(&sg->lock);
    EVP_PKEY_CTX_free(sg->ctx);
    EVP_MD_free(sg->md);
    EVP_PKEY_free(sg->key);
    ccz_buf_free(&sg->prefix);
    free(sg);
}

ccz_status jose_signer_sign(jose_signer *sg, ccz_buf *out, const json_t *claims)
{
    if (!json_is_object(claims))
        return ccz_fail(CCZ_ERR_INVALID_ARGUMENT, "JWS: the claims are not a JSON object");
    const sig_alg *a = sg->alg;
    size_t start = out->len;
    ccz_buf text = CCZ_BUF_INIT;
    uint8_t digest[EVP_MAX_MD_SIZE], sig[2 * 48], der[160];
    size_t der_len = sizeof der;
    ccz_status s = ccz_buf_reserve(&text, 2048); /* an EAR's claims, most often */
    if (!s)
        s = ccz_json_dump(&text, claims, false);
    if (!s)
        s = ccz_buf_append(out, sg->prefix.ptr, sg->prefix.len);
    if (!s)
        s = jose_b64url_encode(out, ccz_buf_span(&text));
    ccz_buf_free(&text);
    if (s)
        goto fail;
    /* the digest of the signing input, signed by the context made ready in jose_signer_new */
    unsigned md_len = 0;
    if (EVP_Digest(out->ptr + start, out->len - start, digest, &md_len, sg->md, NULL) != 1) {
        s = ccz_fail_ossl(CCZ_ERR_CRYPTO, "JWS: cannot hash the signing input");
        goto fail;
    }
    pthread_mutex_lock(&sg->lock);
    int ok = EVP_PKEY_sign(sg->ctx, der, &der_len, digest, md_len) == 1;
    pthread_mutex_unlock(&sg->lock);
    if (!ok) {
        s = ccz_fail_ossl(CCZ_ERR_CRYPTO, "JWS: cannot sign");
        goto fail;
    }
    CCZ_GUARD_GOTO(sig_der_to_rs(sig, a->size, CCZ_SPAN(der, der_len)), s, fail);
    CCZ_GUARD_GOTO(ccz_buf_append_u8(out, '.'), s, fail);
    CCZ_GUARD_GOTO(jose_b64url_encode(out, CCZ_SPAN(sig, 2 * a->size)), s, fail);
    return CCZ_OK;
fail:
    out->len = start;
    if (out->ptr)
        out->ptr[start] = 0;
    return s;
}

ccz_status jose_jwt_sign(ccz_buf *out, EVP_PKEY *key, const char *kid, const json_t *claims)
{
    jose_signer *sg;
    CCZ_GUARD(jose_signer_new(&sg, key, kid));
    ccz_status s = jose_signer_sign(sg, out, claims);
    jose_signer_free(sg);
    return s;
}

/* ---- verification ----------------------------------------------------------------------*/

/* A token split and decoded: the signing input, the parsed header and payload, the signature. */
typedef struct {
    ccz_span signing_input;
    json_t *header;
    json_t *payload;
    ccz_buf sig;
    const sig_alg *alg;
} jws_parts;

static void parts_free(jws_parts *p)
{
    json_decref(p->header);
    json_decref(p->payload);
    ccz_buf_free(&p->sig);
}

/* Decodes one base64url part holding a JSON object. */
static ccz_status json_part(json_t **out, const char *what, const char *text, size_t len)
{
    ccz_buf b = CCZ_BUF_INIT;
    ccz_status s = jose_b64url_decode(&b, text, len);
    if (s) {
        ccz_buf_free(&b);
        return ccz_fail_context(s == CCZ_ERR_NOMEM ? s : CCZ_ERR_MALFORMED, "JWS %s", what);
    }
    s = jose_json_parse(out, (const char *)b.ptr, b.len);
    ccz_buf_free(&b);
    if (s)
        return ccz_fail_context(s, "JWS %s", what);
    if (!json_is_object(*out))
        return ccz_fail(CCZ_ERR_MALFORMED, "JWS %s is not a JSON object", what);
    return CCZ_OK;
}

static ccz_status parse_token(jws_parts *p, const char *token, size_t len, unsigned algs)
{
    if (len > JOSE_MAX_INPUT)
        return ccz_fail(CCZ_ERR_TOO_LARGE, "JWS of %zu bytes exceeds the %u-byte limit", len,
                        JOSE_MAX_INPUT);
    const char *dot1 = memchr(token, '.', len);
    const char *dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
    if (!dot2 || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)))
        return ccz_fail(CCZ_ERR_MALFORMED, "JWS: not three dot-separated parts");
    const char *end = token + len;
    CCZ_GUARD(json_part(&p->header, "header", token, (size_t)(dot1 - token)));
    /* the header decides everything else: check it before looking at the payload */
    const json_t *alg = json_object_get(p->header, "alg");
    if (!json_is_string(alg))
        return ccz_fail(CCZ_ERR_MALFORMED, "JWS header: no \"alg\" string");
    p->alg = sig_alg_by_name(json_string_value(alg));
    if (!p->alg || !(p->alg->bit & (algs ? algs : JOSE_ALGS_DEFAULT)))
        return ccz_fail(CCZ_ERR_UNSUPPORTED, "JWS header: alg \"%.16s\" is not allowed",
                        json_string_value(alg));
    if (json_object_get(p->header, "crit"))
        return ccz_fail(CCZ_ERR_UNSUPPORTED, "JWS header: \"crit\" extensions are not supported");
    const json_t *typ = json_object_get(p->header, "typ");
    if (typ && !json_is_string(typ))
        return ccz_fail(CCZ_ERR_MALFORMED, "JWS header: \"typ\" is not a string");
    const json_t *kid = json_object_get(p->header, "kid");
    if (kid && !json_is_string(kid))
        return ccz_fail(CCZ_ERR_MALFORMED, "JWS header: \"kid\" is not a string");
    CCZ_GUARD(json_part(&p->payload, "payload", dot1 + 1, (size_t)(dot2 - dot1 - 1)));
    ccz_status s = jose_b64url_decode(&p->sig, dot2 + 1, (size_t)(end - dot2 - 1));
    if (s)
        return ccz_fail_context(s == CCZ_ERR_NOMEM ? s : CCZ_ERR_MALFORMED, "JWS signature");
    if (p->sig.len != 2 * p->alg->size)
        return ccz_fail(CCZ_ERR_MALFORMED, "JWS: %s signature of %zu bytes (expected %zu)",
                        p->alg->name, p->sig.len, 2 * p->alg->size);
    p->signing_input = CCZ_SPAN(token, (size_t)(dot2 - token));
    return CCZ_OK;
}

static ccz_status check_signature(const jws_parts *p, EVP_PKEY *key)
{
    if (jose_ec_bits(key) != p->alg->curve_bits)
        return ccz_fail(CCZ_ERR_BAD_SIGNATURE, "JWS: alg %s does not fit the key", p->alg->name);
    const uint8_t *sig = p->sig.ptr;
    if (x509_ecdsa_verify_rs(key, p->alg->md(), p->signing_input, sig, sig + p->alg->size,
                             p->alg->size) != CCZ_OK)
        return ccz_fail(CCZ_ERR_BAD_SIGNATURE, "JWS: the %s signature does not verify",
                        p->alg->name);
    return CCZ_OK;
}

ccz_status jose_jwt_verify(json_t **claims, EVP_PKEY *key, const char *token, size_t len,
                           unsigned algs)
{
    *claims = NULL;
    jws_parts p = {0};
    ccz_status s = parse_token(&p, token, len, algs);
    if (s == CCZ_OK)
        s = check_signature(&p, key);
    if (s == CCZ_OK) {
        *claims = p.payload;
        p.payload = NULL;
    }
    parts_free(&p);
    return s;
}

/* The JWKS member for the header's kid, with its alg and use agreeing with the token. */
static ccz_status jwks_key(EVP_PKEY **out, const json_t *jwks, const jws_parts *p)
{
    const json_t *jwk = NULL;
    const char *kid = json_string_value(json_object_get(p->header, "kid"));
    const json_t *keys = json_object_get(jwks, "keys");
    if (!kid && json_array_size(keys) == 1)
        jwk = json_array_get(keys, 0);
    else if (!kid)
        return ccz_fail(CCZ_ERR_NOT_FOUND, "JWS header: no kid, and the JWKS has %zu keys",
                        json_array_size(keys));
    else
        CCZ_GUARD(jose_jwks_find(&jwk, jwks, kid));
    const char *alg = json_string_value(json_object_get(jwk, "alg"));
    const char *use = json_string_value(json_object_get(jwk, "use"));
    if ((json_object_get(jwk, "alg") && (!alg || strcmp(alg, p->alg->name) != 0)) ||
        (json_object_get(jwk, "use") && (!use || strcmp(use, "sig") != 0)))
        return ccz_fail(CCZ_ERR_BAD_SIGNATURE, "JWS: the JWK's alg or use does not allow %s",
                        p->alg->name);
    return jose_jwk_to_key(out, jwk);
}

ccz_status jose_jwt_verify_jwks(json_t **claims, const json_t *jwks, const char *token, size_t len,
                                unsigned algs)
{
    *claims = NULL;
    jws_parts p = {0};
    EVP_PKEY *key = NULL;
    ccz_status s = parse_token(&p, token, len, algs);
    if (s == CCZ_OK)
        s = jwks_key(&key, jwks, &p);
    if (s == CCZ_OK)
        s = check_signature(&p, key);
    if (s == CCZ_OK) {
        *claims = p.payload;
        p.payload = NULL;
    }
    EVP_PKEY_free(key);
    parts_free(&p);
    return s;
}

/* ---- claims --------------------------------------------------------------------------*/

/* A NumericDate member: CCZ_ERR_NOT_FOUND when absent (no detail), MALFORMED when not an
 * integer. */
static ccz_status numeric_date(int64_t *out, const json_t *claims, const char *name)
{
    const json_t *v = json_object_get(claims, name);
    if (!v)
        return CCZ_ERR_NOT_FOUND;
    if (!json_is_integer(v))
        return ccz_fail(CCZ_ERR_MALFORMED, "JWT: \"%s\" is not an integer", name);
    *out = (int64_t)json_integer_value(v);
    return CCZ_OK;
}

/* a + b saturated, so huge times in a token cannot overflow */
static int64_t add_sat(int64_t a, int64_t b)
{
    if (b > 0 && a > INT64_MAX - b)
        return INT64_MAX;
    if (b < 0 && a < INT64_MIN - b)
        return INT64_MIN;
    return a + b;
}

static bool audience_has(const json_t *aud, const char *want)
{
    if (json_is_string(aud))
        return strcmp(json_string_value(aud), want) == 0;
    for (size_t i = 0; i < json_array_size(aud); i++) {
        const char *a = json_string_value(json_array_get(aud, i));
        if (a && strcmp(a, want) == 0)
            return true;
    }
    return false;
}

ccz_status jose_jwt_check_claims(const json_t *claims, const jose_claims_check *c)
{
    if (!json_is_object(claims) || c->leeway < 0)
        return ccz_fail(CCZ_ERR_INVALID_ARGUMENT, "JWT: no claims object, or a negative leeway");
    int64_t exp = 0, nbf = 0, iat = 0;
    ccz_status s = numeric_date(&exp, claims, "exp");
    if (s == CCZ_ERR_NOT_FOUND)
        return ccz_fail(CCZ_ERR_MALFORMED, "JWT: no \"exp\"");
    if (s)
        return s;
    if (c->now >= add_sat(exp, c->leeway))
        return ccz_fail(CCZ_ERR_EXPIRED, "JWT: expired at %lld (now %lld)", (long long)exp,
                        (long long)c->now);
    s = numeric_date(&nbf, claims, "nbf");
    if (s == CCZ_OK && add_sat(c->now, c->leeway) < nbf)
        return ccz_fail(CCZ_ERR_NOT_YET_VALID, "JWT: not valid before %lld (now %lld)",
                        (long long)nbf, (long long)c->now);
    if (s && s != CCZ_ERR_NOT_FOUND)
        return s;
    s = numeric_date(&iat, claims, "iat");
    if (s == CCZ_OK && add_sat(c->now, c->leeway) < iat)
        return ccz_fail(CCZ_ERR_NOT_YET_VALID, "JWT: issued in the future, at %lld (now %lld)",
                        (long long)iat, (long long)c->now);
    if (s && s != CCZ_ERR_NOT_FOUND)
        return s;
    const json_t *iss = json_object_get(claims, "iss");
    if (c->iss && (!json_is_string(iss) || strcmp(json_string_value(iss), c->iss) != 0))
        return ccz_fail(CCZ_ERR_POLICY_REJECTED, "JWT: issuer is not \"%s\"", c->iss);
    const json_t *aud = json_object_get(claims, "aud");
    if (aud && !json_is_string(aud) && !json_is_array(aud))
        return ccz_fail(CCZ_ERR_MALFORMED, "JWT: \"aud\" is not a string or an array");
    if (c->aud ? !audience_has(aud, c->aud) : aud != NULL)
        return ccz_fail(CCZ_ERR_POLICY_REJECTED, "JWT: audience is not \"%s\"",
                        c->aud ? c->aud : "(none expected)");
    return CCZ_OK;
}
