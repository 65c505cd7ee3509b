/* SPDX-License-Identifier: Apache-2.0 */
/* JWK (RFC 7517, 7518 §6) and JWKS: EC public keys out with their RFC 7638 thumbprint as kid;
 * EC and RSA public keys in from untrusted JSON, validated by OpenSSL (point on the curve,
 * RSA modulus and exponent) before anything uses them. */
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>

#include "core/guard.h"
#include "jose/jose.h"

typedef struct {
    const char *crv;   /* JOSE name */
    const char *group; /* OpenSSL name */
    int bits;
    size_t size;         /* bytes of a coordinate */
    const char *sig_alg; /* the JWS algorithm this curve signs with (jws.c), or NULL */
} curve;

static const curve curves[] = {
    {"P-256", "prime256v1", 256, 32, "ES256"},
    {"P-384", "secp384r1", 384, 48, "ES384"},
    {"P-521", "secp521r1", 521, 66, NULL}, /* tokens are not signed with ES512 (jws.c) */
};

static const curve *curve_of_key(EVP_PKEY *key)
{
    char group[32] = "";
    size_t n = 0;
    if (!key || EVP_PKEY_get_base_id(key) != EVP_PKEY_EC ||
        !EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &n))
        return NULL;
    for (size_t i = 0; i < CCZ_ARRAY_LEN(curves); i++)
        if (strcmp(group, curves[i].group) == 0)
            return &curves[i];
    return NULL;
}

int jose_ec_bits(EVP_PKEY *key)
{
    const curve *c = curve_of_key(key);
    return c ? c->bits : 0;
}

/* Appends the base64url of a big number, left-padded to size bytes (0: its minimal length). */
static ccz_status put_bn(json_t *obj, const char *name, const BIGNUM *bn, size_t size)
{
    uint8_t raw[1024];
    if (!size)
        size = (size_t)BN_num_bytes(bn);
    if (size == 0 || size > sizeof raw || BN_bn2binpad(bn, raw, (int)size) != (int)size)
        return ccz_fail(CCZ_ERR_CRYPTO, "JWK: cannot encode %s", name);
    ccz_buf b = CCZ_BUF_INIT;
    ccz_status s = jose_b64url_encode(&b, CCZ_SPAN(raw, size));
    if (s == CCZ_OK && json_object_set_new(obj, name, json_string((const char *)b.ptr)) != 0)
        s = ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    ccz_buf_free(&b);
    return s;
}

static ccz_status set_str(json_t *obj, const char *name, const char *v)
{
    if (json_object_set_new(obj, name, json_string(v)) != 0)
        return ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    return CCZ_OK;
}

ccz_status jose_jwk_from_key(json_t **out, EVP_PKEY *key, const char *alg, const char *use)
{
    *out = NULL;
    const curve *c = curve_of_key(key);
    if (!c)
        return ccz_fail(CCZ_ERR_UNSUPPORTED, "JWK: not an EC key on P-256, P-384 or P-521");
    BIGNUM *x = NULL, *y = NULL;
    json_t *j = json_object();
    char kid[JOSE_THUMBPRINT_LEN + 1];
    ccz_status s = CCZ_OK;
    if (!j) {
        s = ccz_fail(CCZ_ERR_NOMEM, "out of memory");
        goto out;
    }
    if (!EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, &x) ||
        !EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, &y)) {
        s = ccz_fail_ossl(CCZ_ERR_CRYPTO, "JWK: cannot read the public point");
        goto out;
    }
    CCZ_GUARD_GOTO(set_str(j, "kty", "EC"), s, out);
    CCZ_GUARD_GOTO(set_str(j, "crv", c->crv), s, out);
    CCZ_GUARD_GOTO(put_bn(j, "x", x, c->size), s, out);
    CCZ_GUARD_GOTO(put_bn(j, "y", y, c->size), s, out);
    CCZ_GUARD_GOTO(jose_jwk_thumbprint(kid, j), s, out);
    CCZ_GUARD_GOTO(set_str(j, "kid", kid), s, out);
    if (alg)
        CCZ_GUARD_GOTO(set_str(j, "alg", alg), s, out);
    if (use)
        CCZ_GUARD_GOTO(set_str(j, "use", use), s, out);
    *out = j;
    j = NULL;
out:
    json_decref(j);
    BN_free(x);
    BN_free(y);
    return s;
}

static ccz_status copy_str_member(json_t *dst, const json_t *jwk, const char *name)
{
    const json_t *v = json_object_get(jwk, name);
    if (!json_is_string(v))
        return ccz_fail(CCZ_ERR_KEY_MALFORMED, "JWK: \"%s\" is missing or not a string", name);
    if (json_object_set_new(dst, name, json_stringn(json_string_value(v), json_string_length(v))))
        return ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    return CCZ_OK;
}

ccz_status jose_jwk_thumbprint(char out[JOSE_THUMBPRINT_LEN + 1], const json_t *jwk)
{
    out[0] = 0;
    const char *kty = json_string_value(json_object_get(jwk, "kty"));
    static const char *const ec[] = {"crv", "kty", "x", "y"};
    static const char *const rsa[] = {"e", "kty", "n"};
    const char *const *names;
    size_t n;
    if (kty && strcmp(kty, "EC") == 0)
        names = ec, n = CCZ_ARRAY_LEN(ec);
    else if (kty && strcmp(kty, "RSA") == 0)
        names = rsa, n = CCZ_ARRAY_LEN(rsa);
    else
        return ccz_fail(CCZ_ERR_UNSUPPORTED, "JWK thumbprint: kty is not EC or RSA");
    /* RFC 7638 §3.2: the required members only, in JCS form (sorted names, no whitespace) */
    json_t *req = json_object();
    ccz_buf canon = CCZ_BUF_INIT, b64 = CCZ_BUF_INIT;
    uint8_t md[32];
    ccz_status s = req ? CCZ_OK : ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n && s == CCZ_OK; i++)
        s = copy_str_member(req, jwk, names[i]);
    if (s == CCZ_OK)
        s = jose_jcs(&canon, req);
    if (s == CCZ_OK && EVP_Digest(canon.ptr, canon.len, md, NULL, EVP_sha256(), NULL) != 1)
        s = ccz_fail_ossl(CCZ_ERR_CRYPTO, "JWK thumbprint: SHA-256 failed");
    if (s == CCZ_OK)
        s = jose_b64url_encode(&b64, CCZ_SPAN(md, sizeof md));
    if (s == CCZ_OK)
        memcpy(out, b64.ptr, JOSE_THUMBPRINT_LEN + 1);
    json_decref(req);
    ccz_buf_free(&canon);
    ccz_buf_free(&b64);
    return s;
}

/* The base64url member `name` of a JWK, decoded into b. */
static ccz_status get_b64(ccz_buf *b, const json_t *jwk, const char *name)
{
    const json_t *v = json_object_get(jwk, name);
    if (!json_is_string(v))
        return ccz_fail(CCZ_ERR_KEY_MALFORMED, "JWK: \"%s\" is missing or not a string", name);
    ccz_status s = jose_b64url_decode(b, json_string_value(v), json_string_length(v));
    if (s)
        return ccz_fail_context(s, "JWK \"%s\"", name);
    return CCZ_OK;
}

/* Builds a public key from params and checks it. EC: the point is on the curve and not at
 * infinity (the quick check: every curve accepted has cofactor 1, so that is the group; the
 * full check's multiplication by the order costs as much as a P-384 verification). RSA: the
 * caller checked n's size and e; the key only ever verifies, where a malformed modulus can only
 * make signatures fail, so SP 800-56B's public-key test (a gcd with a primorial and primality
 * rounds on n: several RSA operations' worth) is replaced by n odd and 1 < e < n. */
static ccz_status key_from_params(EVP_PKEY **out, const char *type, OSSL_PARAM *params)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    EVP_PKEY_CTX *check = NULL;
    int ok = ctx && EVP_PKEY_fromdata_init(ctx) == 1 &&
             EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) == 1;
    if (ok && strcmp(type, "EC") == 0) {
        check = EVP_PKEY_CTX_new_from_pkey(NULL, *out, NULL);
        ok = check && EVP_PKEY_public_check_quick(check) == 1;
    } else if (ok) {
        BIGNUM *n = NULL, *e = NULL;
        ok = EVP_PKEY_get_bn_param(*out, OSSL_PKEY_PARAM_RSA_N, &n) == 1 &&
             EVP_PKEY_get_bn_param(*out, OSSL_PKEY_PARAM_RSA_E, &e) == 1 && BN_is_odd(n) &&
             BN_is_odd(e) && !BN_is_one(e) && BN_cmp(e, n) < 0;
        BN_free(n);
        BN_free(e);
    }
    EVP_PKEY_CTX_free(check);
    EVP_PKEY_CTX_free(ctx);
    if (!ok) {
        EVP_PKEY_free(*out);
        *out = NULL;
        return ccz_fail_ossl(CCZ_ERR_KEY_MALFORMED, "JWK: not a valid %s public key", type);
    }
    return CCZ_OK;
}

static ccz_status ec_from_jwk(EVP_PKEY **out, const json_t *jwk)
{
    const char *crv = json_string_value(json_object_get(jwk, "crv"));
    const curve *c = NULL;
    for (size_t i = 0; crv && i < CCZ_ARRAY_LEN(curves); i++)
        if (strcmp(crv, curves[i].crv) == 0)
            c = &curves[i];
    if (!c)
        return ccz_fail(CCZ_ERR_UNSUPPORTED, "JWK: crv is not P-256, P-384 or P-521");
    ccz_buf x = CCZ_BUF_INIT, y = CCZ_BUF_INIT;
    uint8_t point[1 + 2 * 66];
    ccz_status s;
    CCZ_GUARD_GOTO(get_b64(&x, jwk, "x"), s, out);
    CCZ_GUARD_GOTO(get_b64(&y, jwk, "y"), s, out);
    if (x.len != c->size || y.len != c->size) {
        s = ccz_fail(CCZ_ERR_KEY_MALFORMED, "JWK: %s coordinates must be %zu bytes", c->crv,
                     c->size);
        goto out;
    }
    point[0] = 0x04;
    memcpy(point + 1, x.ptr, c->size);
    memcpy(point + 1 + c->size, y.ptr, c->size);
    OSSL_PARAM params[] = {
        OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)c->group, 0),
        OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point, 1 + 2 * c->size),
        OSSL_PARAM_END,
    };
    s = key_from_params(out, "EC", params);
out:
    ccz_buf_free(&x);
    ccz_buf_free(&y);
    return s;
}

#define RSA_MIN_BITS 2048
#define RSA_MAX_BITS 16384

static ccz_status rsa_from_jwk(EVP_PKEY **out, const json_t *jwk)
{
    ccz_buf n = CCZ_BUF_INIT, e = CCZ_BUF_INIT;
    BIGNUM *bn_n = NULL, *bn_e = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    OSSL_PARAM *params = NULL;
    ccz_status s;
    CCZ_GUARD_GOTO(get_b64(&n, jwk, "n"), s, out);
    CCZ_GUARD_GOTO(get_b64(&e, jwk, "e"), s, out);
    /* RFC 7518 §6.3.1: minimal big-endian, so one key has one JWK (and one thumbprint) */
    if (n.len == 0 || e.len == 0 || n.ptr[0] == 0 || e.ptr[0] == 0 || e.len > 8) {
        s = ccz_fail(CCZ_ERR_KEY_MALFORMED, "JWK: n or e empty, not minimal, or e too long");
        goto out;
    }
    bn_n = BN_bin2bn(n.ptr, (int)n.len, NULL);
    bn_e = BN_bin2bn(e.ptr, (int)e.len, NULL);
    if (!bn_n || !bn_e) {
        s = ccz_fail(CCZ_ERR_NOMEM, "out of memory");
        goto out;
    }
    int bits = BN_num_bits(bn_n);
    if (bits < RSA_MIN_BITS || bits > RSA_MAX_BITS) {
        s = ccz_fail(CCZ_ERR_UNSUPPORTED, "JWK: RSA key of %d bits (%d to %d accepted)", bits,
                     RSA_MIN_BITS, RSA_MAX_BITS);
        goto out;
    }
    bld = OSSL_PARAM_BLD_new();
    if (!bld || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) ||
        !(params = OSSL_PARAM_BLD_to_param(bld))) {
        s = ccz_fail_ossl(CCZ_ERR_NOMEM, "out of memory");
        goto out;
    }
    s = key_from_params(out, "RSA", params);
out:
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn_n);
    BN_free(bn_e);
    ccz_buf_free(&n);
    ccz_buf_free(&e);
    return s;
}

ccz_status jose_jwk_to_key(EVP_PKEY **out, const json_t *jwk)
{
    *out = NULL;
    if (!json_is_object(jwk))
        return ccz_fail(CCZ_ERR_KEY_MALFORMED, "JWK: not a JSON object");
    static const char *const private_members[] = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"};
    for (size_t i = 0; i < CCZ_ARRAY_LEN(private_members); i++)
        if (json_object_get(jwk, private_members[i]))
            return ccz_fail(CCZ_ERR_KEY_MALFORMED, "JWK: carries the private member \"%s\"",
                            private_members[i]);
    const char *kty = json_string_value(json_object_get(jwk, "kty"));
    if (kty && strcmp(kty, "EC") == 0)
        return ec_from_jwk(out, jwk);
    if (kty && strcmp(kty, "RSA") == 0)
        return rsa_from_jwk(out, jwk);
    return ccz_fail(CCZ_ERR_UNSUPPORTED, "JWK: kty is not EC or RSA");
}

ccz_status jose_jwks_from_keys(json_t **out, EVP_PKEY *const *keys, size_t n)
{
    *out = NULL;
    json_t *arr = json_array(), *doc = json_object();
    ccz_status s = arr && doc ? CCZ_OK : ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n && s == CCZ_OK; i++) {
        const curve *c = curve_of_key(keys[i]);
        json_t *jwk = NULL;
        s = c && c->sig_alg
                ? jose_jwk_from_key(&jwk, keys[i], c->sig_alg, "sig")
                : ccz_fail(CCZ_ERR_UNSUPPORTED,
                           "JWKS: key %zu is not on P-256 or P-384, the curves of ES256 and ES384",
                           i);
        if (s == CCZ_OK && json_array_append_new(arr, jwk) != 0)
            s = ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    }
    if (s == CCZ_OK && json_object_set(doc, "keys", arr) != 0)
        s = ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    json_decref(arr);
    if (s == CCZ_OK)
        *out = doc;
    else
        json_decref(doc);
    return s;
}

ccz_status jose_jwks_find(const json_t **out, const json_t *jwks, const char *kid)
{
    *out = NULL;
    const json_t *keys = json_object_get(jwks, "keys");
    if (!json_is_array(keys))
        return ccz_fail(CCZ_ERR_MALFORMED, "JWKS: no \"keys\" array");
    const json_t *match = NULL;
    for (size_t i = 0; i < json_array_size(keys); i++) {
        const json_t *k = json_array_get(keys, i);
        const char *id = json_string_value(json_object_get(k, "kid"));
        if (!id || !kid || strcmp(id, kid) != 0)
            continue;
        if (match) /* which of the two a token means is not known: neither */
            return ccz_fail(CCZ_ERR_MALFORMED, "JWKS: more than one key with kid \"%.64s\"", kid);
        match = k;
    }
    if (!match)
        return ccz_fail(CCZ_ERR_NOT_FOUND, "JWKS: no key with kid \"%.64s\"", kid ? kid : "");
    *out = match;
    return CCZ_OK;
}
