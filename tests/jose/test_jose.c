/* SPDX-License-Identifier: Apache-2.0 */
/* The internal JOSE module: base64url strictness, JCS (Trustee's vector, RFC 8785's ordering
 * and escapes), JWK thumbprints (RFC 7638's example) and import checks, ES256/ES384 tokens and
 * every way a token is refused with its exact status, the claim checks, and the KBS JWE in each
 * algorithm with tampering refused. Interop with Python's JOSE libraries: test_jose_interop. */
#include <pthread.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "jose/jose.h"
#include "test.h"

static EVP_PKEY *p256, *p384, *p521, *p256b, *rsa;

static void setup(void)
{
    if (p256)
        return;
    p256 = EVP_EC_gen("P-256");
    p384 = EVP_EC_gen("P-384");
    p521 = EVP_EC_gen("P-521");
    p256b = EVP_EC_gen("P-256");
    rsa = EVP_RSA_gen(2048);
    CHECK(p256 && p384 && p521 && p256b && rsa);
}

static json_t *parse(const char *text)
{
    json_t *j = json_loads(text, JSON_DECODE_ANY, NULL);
    CHECK(j != NULL);
    return j;
}

/* ---- base64url ---------------------------------------------------------------------------*/

static const char *b64(const char *in, size_t n)
{
    static char out[256];
    ccz_buf b = CCZ_BUF_INIT;
    CHECK_OK(jose_b64url_encode(&b, CCZ_SPAN(in, n)));
    snprintf(out, sizeof out, "%s", b.ptr ? (const char *)b.ptr : "");
    ccz_buf_free(&b);
    return out;
}

static ccz_status unb64(const char *text, char *out, size_t cap)
{
    ccz_buf b = CCZ_BUF_INIT;
    ccz_status s = jose_b64url_decode(&b, text, strlen(text));
    if (s == CCZ_OK)
        snprintf(out, cap, "%.*s", (int)b.len, (const char *)b.ptr);
    ccz_buf_free(&b);
    return s;
}

static void test_b64url(void)
{
    /* RFC 4648 §10, unpadded */
    static const char *const vec[][2] = {
        {"", ""},           {"f", "Zg"},          {"fo", "Zm8"},         {"foo", "Zm9v"},
        {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"}};
    char out[64];
    for (size_t i = 0; i < CCZ_ARRAY_LEN(vec); i++) {
        CHECK_STR(b64(vec[i][0], strlen(vec[i][0])), vec[i][1]);
        CHECK_OK(unb64(vec[i][1], out, sizeof out));
        CHECK_STR(out, vec[i][0]);
    }
    CHECK_STR(b64("\xfb\xff\xbf", 3), "-_-_"); /* the URL alphabet */
    CHECK_OK(unb64("-_-_", out, sizeof out));
    CHECK(memcmp(out, "\xfb\xff\xbf", 3) == 0);
    CHECK_STATUS(unb64("Zg==", out, sizeof out), CCZ_ERR_ENCODING); /* padding */
    CHECK_STATUS(unb64("Zm8=", out, sizeof out), CCZ_ERR_ENCODING);
    CHECK_STATUS(unb64("Zh", out, sizeof out), CCZ_ERR_ENCODING); /* trailing bits */
    CHECK_STATUS(unb64("Zm9", out, sizeof out), CCZ_ERR_ENCODING);
    /* trailing bits set above the lowest one: 'i' leaves 0010, '-' leaves 10 */
    static const char *const high[] = {"Zi", "Zm-"};
    for (size_t i = 0; i < CCZ_ARRAY_LEN(high); i++) {
        CHECK_STATUS(unb64(high[i], out, sizeof out), CCZ_ERR_ENCODING);
        CHECK_STR(ccz_error_detail(), "base64url: non-zero trailing bits");
    }
    CHECK_STATUS(unb64("Z", out, sizeof out), CCZ_ERR_ENCODING); /* 1 mod 4 */
    CHECK_STATUS(unb64("Zm9vY", out, sizeof out), CCZ_ERR_ENCODING);
    CHECK_STATUS(unb64("+/8A", out, sizeof out), CCZ_ERR_ENCODING); /* standard alphabet */
    CHECK_STATUS(unb64("Zm 9", out, sizeof out), CCZ_ERR_ENCODING);
    CHECK_STATUS(unb64("Zm9v\n", out, sizeof out), CCZ_ERR_ENCODING);
    /* a length of 1 mod 4 even when the bits left over are zero (it would decode to nothing
     * more: a second text for the same bytes) */
    static const char *const odd[][2] = {{"A", "base64url: length 1 is impossible"},
                                         {"Zm9vA", "base64url: length 5 is impossible"}};
    for (size_t i = 0; i < CCZ_ARRAY_LEN(odd); i++) {
        CHECK_STATUS(unb64(odd[i][0], out, sizeof out), CCZ_ERR_ENCODING);
        CHECK_STR(ccz_error_detail(), odd[i][1]);
    }
    /* a failed decoding leaves the buffer as it was: its text NUL-terminated, and none of
     * the bytes decoded before the bad character behind it (they may be a key's) */
    static const char *const fails[] = {"Zm9vYmFy!AAA", "Zm9vYmFyZh", "Zm9vYmFy+/8A"};
    for (size_t i = 0; i < CCZ_ARRAY_LEN(fails); i++) {
        ccz_buf keep = CCZ_BUF_INIT;
        CHECK_OK(ccz_buf_append_str(&keep, "abc"));
        CHECK_STATUS(jose_b64url_decode(&keep, fails[i], strlen(fails[i])), CCZ_ERR_ENCODING);
        CHECK_INT(keep.len, 3);
        CHECK_STR((const char *)keep.ptr, "abc");
        size_t len = strlen(fails[i]), n = len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0), left = 0;
        CHECK(3 + n < keep.cap);
        for (size_t b = 3; b < 3 + n && b < keep.cap; b++) /* where the decoder wrote */
            left += keep.ptr[b] != 0;
        CHECK_INT(left, 0);
        ccz_buf_free(&keep);
    }
    /* each character of the standard alphabet and padding alone, inside the text */
    static const char *const std[] = {"Zm+v", "Zm/v", "Zm=v"};
    for (size_t i = 0; i < CCZ_ARRAY_LEN(std); i++) {
        CHECK_STATUS(unb64(std[i], out, sizeof out), CCZ_ERR_ENCODING);
        CHECK_STR(ccz_error_detail(), "base64url: character 2 is not in the alphabet");
    }
    /* the ASCII neighbours of each range of the alphabet: '@' and '[' around A-Z, '`' and '{'
     * around a-z, '/' and ':' around 0-9 (each would decode as a letter or digit next to it) */
    static const char *const edges[] = {"Zm@v", "Zm[v", "Zm`v", "Zm{v", "Zm/v", "Zm:v"};
    for (size_t i = 0; i < CCZ_ARRAY_LEN(edges); i++) {
        CHECK_STATUS(unb64(edges[i], out, sizeof out), CCZ_ERR_ENCODING);
        CHECK_STR(ccz_error_detail(), "base64url: character 2 is not in the alphabet");
    }
}

/* ---- JCS ---------------------------------------------------------------------------------*/

static char *jcs_text(const char *json)
{
    json_t *j = parse(json);
    ccz_buf b = CCZ_BUF_INIT;
    CHECK_OK(jose_jcs(&b, j));
    json_decref(j);
    return (char *)b.ptr; /* the caller frees */
}

static void test_jcs(void)
{
    /* a parse error names where, not the bytes there (a JWE's or a key's) */
    json_t *none = NULL;
    static const char bad[] = "{\"k\": hunter2secret}";
    CHECK_STATUS(jose_json_parse(&none, bad, strlen(bad)), CCZ_ERR_JSON);
    CHECK_CONTAINS(ccz_error_detail(), "invalid JSON at column");
    CHECK(strstr(ccz_error_detail(), "hunter") == NULL); /* jansson quotes 'hunter' */
    CHECK(none == NULL);
    /* Trustee's attestation-service vector: SHA-384 of the canonical runtime data */
    char *t = jcs_text("{\"b\": 1, \"a\": \"test\", \"c\": {\"d\": \"e\"}}");
    CHECK_STR(t, "{\"a\":\"test\",\"b\":1,\"c\":{\"d\":\"e\"}}");
    uint8_t md[48];
    char hex[97];
    CHECK(EVP_Digest(t, strlen(t), md, NULL, EVP_sha384(), NULL) == 1);
    ccz_hex_to_str(hex, md, sizeof md);
    CHECK_STR(hex, "e71ce8e70d814ba6639c3612ebee0ff1f76f650f8dbb5e47157e0f3f525cd22c4597480a18642"
                   "7c813ca941da78870c3");
    free(t);
    /* RFC 8785 §3.2.3: names sorted by UTF-16 code units (the emoji, a surrogate pair, sorts
     * before U+FB33, unlike by code point) */
    t = jcs_text("{\"\\u20ac\":\"Euro Sign\",\"\\r\":\"Carriage Return\",\"\\ufb33\":\"Hebrew "
                 "Letter Dalet With Dagesh\",\"1\":\"One\",\"\\ud83d\\ude00\":\"Emoji: Grinning "
                 "Face\",\"\\u0080\":\"Control\",\"\\u00f6\":\"Latin Small Letter O With "
                 "Diaeresis\"}");
    CHECK_STR(t, "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\xc2\x80\":\"Control\",\"\xc3\xb6\":"
                 "\"Latin Small Letter O With Diaeresis\",\"\xe2\x82\xac\":\"Euro Sign\","
                 "\"\xf0\x9f\x98\x80\":\"Emoji: Grinning Face\",\"\xef\xac\xb3\":\"Hebrew Letter "
                 "Dalet With Dagesh\"}");
    free(t);
    /* escapes: the short forms, \u00xx lower case for other controls, the rest as UTF-8 */
    t = jcs_text("[\"\\u0001\\b\\f\\n\\r\\t\\\"\\\\\\/\\u001f\\u007f\\u2028\\u00e9\"]");
    CHECK_STR(t, "[\"\\u0001\\b\\f\\n\\r\\t\\\"\\\\/\\u001f\x7f\xe2\x80\xa8\xc3\xa9\"]");
    free(t);
    t = jcs_text("{\"n\":[true,false,null,-3,0,9007199254740992,1.0,-0.0,1e2],\"e\":{},\"a\":[]}");
    CHECK_STR(t, "{\"a\":[],\"e\":{},\"n\":[true,false,null,-3,0,9007199254740992,1,0,100]}");
    free(t);
    static const char *const refused[] = {"[1.5]", "[9007199254740993]", "{\"x\":1e300}",
                                          "[-9007199254740993]"};
    for (size_t i = 0; i < CCZ_ARRAY_LEN(refused); i++) {
        json_t *j = parse(refused[i]);
        ccz_buf b = CCZ_BUF_INIT;
        CHECK_STATUS(jose_jcs(&b, j), CCZ_ERR_UNSUPPORTED);
        ccz_buf_free(&b);
        json_decref(j);
    }
    json_t *deep = json_array();
    for (int i = 0; i < 100; i++) {
        json_t *outer = json_array();
        json_array_append_new(outer, deep);
        deep = outer;
    }
    ccz_buf b = CCZ_BUF_INIT;
    CHECK_STATUS(jose_jcs(&b, deep), CCZ_ERR_TOO_LARGE);
    ccz_buf_free(&b);
    json_decref(deep);
    /* names with the same high surrogate order by their low ones; a name sorts before the
     * longer names it starts (inserted out of order: a tie would keep the insertion order) */
    t = jcs_text(
        "{\"\\ud83d\\ude01\":1,\"\\ud83d\\ude00\":2,\"ab\":3,\"a\":4,\"\\ud83d\\ude00x\":5,"
        "\"\\ue000\":6}");
    CHECK_STR(
        t,
        "{\"a\":4,\"ab\":3,\"\xf0\x9f\x98\x80\":2,\"\xf0\x9f\x98\x80x\":5,\"\xf0\x9f\x98\x81\":1,"
        "\"\xee\x80\x80\":6}");
    free(t);
    /* the limits exactly: reals of magnitude 2^53 are integers still, one step more is not;
     * 65 nested arrays are 64 levels below the top and pass, 66 do not */
    t = jcs_text("[9007199254740992.0,-9007199254740992.0]");
    CHECK_STR(t, "[9007199254740992,-9007199254740992]");
    free(t);
    json_t *big = parse("[9007199254740994.0]");
    CHECK_STATUS(jose_jcs(&b, big), CCZ_ERR_UNSUPPORTED);
    CHECK_CONTAINS(ccz_error_detail(), "is not an integer");
    json_decref(big);
    ccz_buf_free(&b);
    for (int levels = 65; levels <= 66; levels++) {
        json_t *nest = json_array();
        for (int i = 1; i < levels; i++) {
            json_t *outer = json_array();
            json_array_append_new(outer, nest);
            nest = outer;
        }
        ccz_buf_reset(&b);
        ccz_status s = jose_jcs(&b, nest);
        if (levels == 65) {
            CHECK_OK(s);
            CHECK_INT(b.len, 130);
        } else {
            CHECK_STATUS(s, CCZ_ERR_TOO_LARGE);
            CHECK_STR(ccz_error_detail(), "JCS: nesting deeper than 64");
        }
        json_decref(nest);
    }
    /* the same limit for objects: 65 nested {"a":...} pass, 66 do not */
    for (int levels = 65; levels <= 66; levels++) {
        json_t *nest = json_object();
        for (int i = 1; i < levels; i++) {
            json_t *outer = json_object();
            json_object_set_new(outer, "a", nest);
            nest = outer;
        }
        ccz_buf_reset(&b);
        ccz_status s = jose_jcs(&b, nest);
        if (levels == 65) {
            CHECK_OK(s);
            CHECK_INT(b.len, 64 * 6 + 2);
        } else {
            CHECK_STATUS(s, CCZ_ERR_TOO_LARGE);
            CHECK_STR(ccz_error_detail(), "JCS: nesting deeper than 64");
        }
        json_decref(nest);
    }
    ccz_buf_free(&b);
}

/* ---- JWK -------------------------------------------------------------------------------*/

/* RFC 7638 §3.1 */
#define RFC7638_N                                                                                   \
    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECP"  \
    "ebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY"  \
    "368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM" \
    "4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"

static void test_thumbprint(void)
{
    json_t *k = json_pack("{s:s, s:s, s:s, s:s, s:s}", "kty", "RSA", "n", RFC7638_N, "e", "AQAB",
                          "alg", "RS256", "kid", "2011-04-29");
    char tp[JOSE_THUMBPRINT_LEN + 1];
    CHECK_OK(jose_jwk_thumbprint(tp, k));
    CHECK_STR(tp, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    EVP_PKEY *key = NULL;
    CHECK_OK(jose_jwk_to_key(&key, k)); /* 2048 bits */
    CHECK_INT(EVP_PKEY_get_bits(key), 2048);
    EVP_PKEY_free(key);
    json_decref(k);
    /* an EC key (RFC 7517 A.1): crv, kty, x and y, the other members left out */
    k = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "kty", "EC", "crv", "P-256", "x",
                  "MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4", "y",
                  "4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM", "use", "enc", "kid", "1");
    CHECK_OK(jose_jwk_thumbprint(tp, k));
    CHECK_STR(tp, "cn-I_WNMClehiVp51i_0VpOENW1upEerA8sEam5hn-s");
    json_decref(k);
    k = parse("{\"kty\":\"oct\",\"k\":\"AAAA\"}");
    CHECK_STATUS(jose_jwk_thumbprint(tp, k), CCZ_ERR_UNSUPPORTED);
    json_decref(k);
    k = parse("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AAAA\"}");
    CHECK_STATUS(jose_jwk_thumbprint(tp, k), CCZ_ERR_KEY_MALFORMED);
    json_decref(k);
}

static void test_jwk_ec(void)
{
    setup();
    EVP_PKEY *keys[] = {p256, p384, p521};
    static const char *const crv[] = {"P-256", "P-384", "P-521"};
    static const size_t coord[] = {43, 64, 88}; /* base64url of 32, 48, 66 bytes */
    for (size_t i = 0; i < 3; i++) {
        json_t *jwk = NULL;
        CHECK_OK(jose_jwk_from_key(&jwk, keys[i], "ES256", "sig"));
        CHECK_STR(json_string_value(json_object_get(jwk, "kty")), "EC");
        CHECK_STR(json_string_value(json_object_get(jwk, "crv")), crv[i]);
        CHECK_STR(json_string_value(json_object_get(jwk, "alg")), "ES256");
        CHECK_STR(json_string_value(json_object_get(jwk, "use")), "sig");
        CHECK_INT(strlen(json_string_value(json_object_get(jwk, "x"))), coord[i]);
        CHECK_INT(strlen(json_string_value(json_object_get(jwk, "y"))), coord[i]);
        char tp[JOSE_THUMBPRINT_LEN + 1];
        CHECK_OK(jose_jwk_thumbprint(tp, jwk));
        CHECK_STR(json_string_value(json_object_get(jwk, "kid")), tp);
        EVP_PKEY *back = NULL;
        CHECK_OK(jose_jwk_to_key(&back, jwk));
        CHECK(back && EVP_PKEY_eq(back, keys[i]) == 1);
        EVP_PKEY_free(back);
        json_decref(jwk);
    }
    json_t *jwk = NULL;
    CHECK_OK(jose_jwk_from_key(&jwk, p256, NULL, NULL));
    CHECK(!json_object_get(jwk, "alg") && !json_object_get(jwk, "use"));
    EVP_PKEY *k = NULL;
    /* a point off the curve: y + 1 */
    json_t *bad = json_deep_copy(jwk);
    ccz_buf y = CCZ_BUF_INIT, y64 = CCZ_BUF_INIT;
    const char *ys = json_string_value(json_object_get(jwk, "y"));
    CHECK_OK(jose_b64url_decode(&y, ys, strlen(ys)));
    y.ptr[31] ^= 1;
    CHECK_OK(jose_b64url_encode(&y64, ccz_buf_span(&y)));
    json_object_set_new(bad, "y", json_string((const char *)y64.ptr));
    CHECK_STATUS(jose_jwk_to_key(&k, bad), CCZ_ERR_KEY_MALFORMED);
    CHECK(k == NULL);
    /* a coordinate one byte short */
    ccz_buf_reset(&y64);
    CHECK_OK(jose_b64url_encode(&y64, CCZ_SPAN(y.ptr, 31)));
    json_object_set_new(bad, "y", json_string((const char *)y64.ptr));
    CHECK_STATUS(jose_jwk_to_key(&k, bad), CCZ_ERR_KEY_MALFORMED);
    /* a coordinate one byte long: the right 32 bytes and one more */
    ccz_buf x = CCZ_BUF_INIT, x64 = CCZ_BUF_INIT;
    const char *xs = json_string_value(json_object_get(jwk, "x"));
    CHECK_OK(jose_b64url_decode(&x, xs, strlen(xs)));
    CHECK_OK(ccz_buf_append_u8(&x, 0));
    CHECK_OK(jose_b64url_encode(&x64, ccz_buf_span(&x)));
    json_object_set(bad, "y", json_object_get(jwk, "y"));
    json_object_set_new(bad, "x", json_string((const char *)x64.ptr));
    CHECK_STATUS(jose_jwk_to_key(&k, bad), CCZ_ERR_KEY_MALFORMED);
    json_object_set(bad, "x", json_object_get(jwk, "x"));
    ccz_buf_free(&x);
    ccz_buf_free(&x64);
    /* the P-256 point under another curve name */
    json_object_set(bad, "y", json_object_get(jwk, "y"));
    json_object_set_new(bad, "crv", json_string("P-384"));
    CHECK_STATUS(jose_jwk_to_key(&k, bad), CCZ_ERR_KEY_MALFORMED);
    json_object_set_new(bad, "crv", json_string("P-192"));
    CHECK_STATUS(jose_jwk_to_key(&k, bad), CCZ_ERR_UNSUPPORTED);
    json_object_set_new(bad, "crv", json_string("P-256"));
    json_object_set_new(bad, "x", json_string("not base64url!"));
    CHECK_STATUS(jose_jwk_to_key(&k, bad), CCZ_ERR_ENCODING);
    json_object_set_new(bad, "x", json_integer(3));
    CHECK_STATUS(jose_jwk_to_key(&k, bad), CCZ_ERR_KEY_MALFORMED);
    /* a private key is not a public JWK */
    json_t *priv = json_deep_copy(jwk);
    json_object_set_new(priv, "d", json_string("AAAA"));
    CHECK_STATUS(jose_jwk_to_key(&k, priv), CCZ_ERR_KEY_MALFORMED);
    json_decref(priv);
    json_t *oct = parse("{\"kty\":\"oct\"}");
    CHECK_STATUS(jose_jwk_to_key(&k, oct), CCZ_ERR_UNSUPPORTED);
    json_decref(oct);
    json_t *arr = parse("[]");
    CHECK_STATUS(jose_jwk_to_key(&k, arr), CCZ_ERR_KEY_MALFORMED);
    json_decref(arr);
    json_decref(bad);
    CHECK_STATUS(jose_jwk_from_key(&bad, rsa, NULL, NULL), CCZ_ERR_UNSUPPORTED);
    CHECK(bad == NULL);
    ccz_buf_free(&y);
    ccz_buf_free(&y64);
    json_decref(jwk);
}

/* A public RSA JWK of a key (n, e minimal big-endian). */
static json_t *rsa_jwk(EVP_PKEY *key)
{
    BIGNUM *n = NULL, *e = NULL;
    CHECK(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n) == 1);
    CHECK(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e) == 1);
    uint8_t raw[1024];
    ccz_buf nb = CCZ_BUF_INIT, eb = CCZ_BUF_INIT;
    int len = BN_bn2bin(n, raw);
    CHECK_OK(jose_b64url_encode(&nb, CCZ_SPAN(raw, (size_t)len)));
    len = BN_bn2bin(e, raw);
    CHECK_OK(jose_b64url_encode(&eb, CCZ_SPAN(raw, (size_t)len)));
    json_t *j = json_pack("{s:s, s:s, s:s}", "kty", "RSA", "n", (const char *)nb.ptr, "e",
                          (const char *)eb.ptr);
    ccz_buf_free(&nb);
    ccz_buf_free(&eb);
    BN_free(n);
    BN_free(e);
    return j;
}

static void test_jwk_rsa(void)
{
    setup();
    json_t *j = rsa_jwk(rsa);
    EVP_PKEY *k = NULL;
    CHECK_OK(jose_jwk_to_key(&k, j));
    CHECK(k && EVP_PKEY_eq(k, rsa) == 1);
    EVP_PKEY_free(k);
    k = NULL;
    /* a leading zero byte: another text for the same key */
    const char *n = json_string_value(json_object_get(j, "n"));
    ccz_buf raw = CCZ_BUF_INIT, text = CCZ_BUF_INIT;
    CHECK_OK(ccz_buf_append_u8(&raw, 0));
    CHECK_OK(jose_b64url_decode(&raw, n, strlen(n)));
    CHECK_OK(jose_b64url_encode(&text, ccz_buf_span(&raw)));
    json_t *z = json_deep_copy(j);
    json_object_set_new(z, "n", json_string((const char *)text.ptr));
    CHECK_STATUS(jose_jwk_to_key(&k, z), CCZ_ERR_KEY_MALFORMED);
    json_decref(z);
    /* an even modulus, an exponent of 1, an even exponent: not RSA public keys */
    ccz_buf_free(&raw);
    ccz_buf_free(&text);
    CHECK_OK(jose_b64url_decode(&raw, n, strlen(n)));
    raw.ptr[raw.len - 1] &= 0xfe;
    CHECK_OK(jose_b64url_encode(&text, ccz_buf_span(&raw)));
    z = json_deep_copy(j);
    json_object_set_new(z, "n", json_string((const char *)text.ptr));
    CHECK_STATUS(jose_jwk_to_key(&k, z), CCZ_ERR_KEY_MALFORMED);
    CHECK_STR(ccz_error_detail(), "JWK: not a valid RSA public key");
    CHECK(k == NULL); /* the key OpenSSL built is freed, and not handed out */
    static const char *const bad_e[] = {"AQ", "AQAA"}; /* 1, 65536 */
    for (size_t i = 0; i < CCZ_ARRAY_LEN(bad_e); i++) {
        json_object_set(z, "n", json_object_get(j, "n"));
        json_object_set_new(z, "e", json_string(bad_e[i]));
        CHECK_STATUS(jose_jwk_to_key(&k, z), CCZ_ERR_KEY_MALFORMED);
        CHECK(k == NULL);
    }
    /* an empty n or e is refused as such (not as a key of 0 bits, or an even exponent) */
    static const char *const empty[] = {"n", "e"};
    for (size_t i = 0; i < CCZ_ARRAY_LEN(empty); i++) {
        json_object_set(z, "n", json_object_get(j, "n"));
        json_object_set(z, "e", json_object_get(j, "e"));
        json_object_set_new(z, empty[i], json_string(""));
        CHECK_STATUS(jose_jwk_to_key(&k, z), CCZ_ERR_KEY_MALFORMED);
        CHECK_STR(ccz_error_detail(), "JWK: n or e empty, not minimal, or e too long");
        CHECK(k == NULL);
    }
    json_decref(z);
    ccz_buf_free(&raw);
    ccz_buf_free(&text);
    json_decref(j);
    /* under 2048 bits */
    EVP_PKEY *small = EVP_RSA_gen(1024);
    j = rsa_jwk(small);
    CHECK_STATUS(jose_jwk_to_key(&k, j), CCZ_ERR_UNSUPPORTED);
    json_decref(j);
    EVP_PKEY_free(small);
    /* an even exponent */
    j = rsa_jwk(rsa);
    json_object_set_new(j, "e", json_string("AQAC"));
    CHECK_STATUS(jose_jwk_to_key(&k, j), CCZ_ERR_KEY_MALFORMED);
    json_decref(j);
    /* an exponent of 8 bytes (2^56 + 1) is the longest taken; one of 9 bytes is refused */
    j = rsa_jwk(rsa);
    json_object_set_new(j, "e", json_string("AQAAAAAAAAE"));
    CHECK_OK(jose_jwk_to_key(&k, j));
    CHECK(k != NULL);
    EVP_PKEY_free(k);
    k = NULL;
    json_object_set_new(j, "e", json_string("AQAAAAAAAAAB"));
    CHECK_STATUS(jose_jwk_to_key(&k, j), CCZ_ERR_KEY_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "e too long");
    CHECK(k == NULL);
    json_decref(j);
}

static void test_jwks(void)
{
    setup();
    EVP_PKEY *keys[] = {p256, p384};
    json_t *jwks = NULL;
    CHECK_OK(jose_jwks_from_keys(&jwks, keys, 2));
    const json_t *arr = json_object_get(jwks, "keys");
    CHECK_INT(json_array_size(arr), 2);
    CHECK_STR(json_string_value(json_object_get(json_array_get(arr, 0), "alg")), "ES256");
    CHECK_STR(json_string_value(json_object_get(json_array_get(arr, 1), "alg")), "ES384");
    CHECK_STR(json_string_value(json_object_get(json_array_get(arr, 1), "use")), "sig");
    const char *kid = json_string_value(json_object_get(json_array_get(arr, 1), "kid"));
    const json_t *found = NULL;
    CHECK_OK(jose_jwks_find(&found, jwks, kid));
    CHECK(found == json_array_get(arr, 1));
    CHECK_STATUS(jose_jwks_find(&found, jwks, "no such kid"), CCZ_ERR_NOT_FOUND);
    CHECK(found == NULL);
    /* no kid asked for matches no key, not even one whose kid is empty */
    json_t *blank = parse("{\"keys\":[{\"kid\":\"\",\"kty\":\"EC\"}]}");
    CHECK_OK(jose_jwks_find(&found, blank, ""));
    CHECK_STATUS(jose_jwks_find(&found, blank, NULL), CCZ_ERR_NOT_FOUND);
    CHECK(found == NULL);
    json_decref(blank);
    json_t *notjwks = parse("{\"keys\":{}}");
    CHECK_STATUS(jose_jwks_find(&found, notjwks, kid), CCZ_ERR_MALFORMED);
    json_decref(notjwks);
    EVP_PKEY *bad[] = {p256, rsa};
    json_t *none = NULL;
    CHECK_STATUS(jose_jwks_from_keys(&none, bad, 2), CCZ_ERR_UNSUPPORTED);
    CHECK(none == NULL);
    /* a P-521 key would be advertised for ES512, which no token is signed or verified with */
    EVP_PKEY *big[] = {p256, p521};
    CHECK_STATUS(jose_jwks_from_keys(&none, big, 2), CCZ_ERR_UNSUPPORTED);
    CHECK_CONTAINS(ccz_error_detail(), "key 1 is not on P-256 or P-384");
    CHECK(none == NULL);
    json_decref(jwks);
}

/* ---- JWS / JWT -------------------------------------------------------------------------*/

static json_t *claims_at(int64_t iat, int64_t exp)
{
    return json_pack("{s:s, s:I, s:I, s:s}", "iss", "ccz-test", "iat", (json_int_t)iat, "exp",
                     (json_int_t)exp, "eat_profile", "tag:github.com,2023:veraison/ear");
}

static char *sign(EVP_PKEY *key, const char *kid, const json_t *claims)
{
    ccz_buf b = CCZ_BUF_INIT;
    CHECK_OK(jose_jwt_sign(&b, key, kid, claims));
    return (char *)b.ptr;
}

static ccz_status verify(EVP_PKEY *key, const char *token, unsigned algs)
{
    json_t *c = NULL;
    ccz_status s = jose_jwt_verify(&c, key, token, strlen(token), algs);
    CHECK((s == CCZ_OK) == (c != NULL));
    json_decref(c);
    return s;
}

static ccz_status verify_jwks(const json_t *jwks, const char *token)
{
    json_t *c = NULL;
    ccz_status s = jose_jwt_verify_jwks(&c, jwks, token, strlen(token), 0);
    CHECK((s == CCZ_OK) == (c != NULL));
    json_decref(c);
    return s;
}

/* A token over any header text, signed by key as raw r||s of n bytes with md (or with sig
 * given as text). */
static char *forge(const char *header, const char *payload, EVP_PKEY *key, const EVP_MD *md,
                   size_t n)
{
    ccz_buf t = CCZ_BUF_INIT;
    CHECK_OK(jose_b64url_encode(&t, CCZ_SPAN(header, strlen(header))));
    CHECK_OK(ccz_buf_append_u8(&t, '.'));
    CHECK_OK(jose_b64url_encode(&t, CCZ_SPAN(payload, strlen(payload))));
    uint8_t der[160], raw[132];
    size_t der_len = sizeof der;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    CHECK(EVP_DigestSignInit(ctx, NULL, md, NULL, key) == 1 &&
          EVP_DigestSign(ctx, der, &der_len, t.ptr, t.len) == 1);
    EVP_MD_CTX_free(ctx);
    const unsigned char *p = der;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
    CHECK(es && BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, (int)n) == (int)n &&
          BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + n, (int)n) == (int)n);
    ECDSA_SIG_free(es);
    CHECK_OK(ccz_buf_append_u8(&t, '.'));
    CHECK_OK(jose_b64url_encode(&t, CCZ_SPAN(raw, 2 * n)));
    return (char *)t.ptr;
}

static char *join3(const char *h, const char *p, const char *sig)
{
    ccz_buf t = CCZ_BUF_INIT;
    CHECK_OK(jose_b64url_encode(&t, CCZ_SPAN(h, strlen(h))));
    CHECK_OK(ccz_buf_append_u8(&t, '.'));
    CHECK_OK(jose_b64url_encode(&t, CCZ_SPAN(p, strlen(p))));
    CHECK_OK(ccz_buf_append_u8(&t, '.'));
    CHECK_OK(ccz_buf_append_str(&t, sig));
    return (char *)t.ptr;
}

static void test_jwt_roundtrip(void)
{
    setup();
    json_t *claims = claims_at(1000, 2000);
    char *t256 = sign(p256, "k1", claims), *t384 = sign(p384, NULL, claims);
    CHECK_OK(verify(p256, t256, 0));
    CHECK_OK(verify(p384, t384, 0));
    json_t *got = NULL;
    CHECK_OK(jose_jwt_verify(&got, p256, t256, strlen(t256), JOSE_ES256));
    CHECK(json_equal(got, claims));
    json_decref(got);
    /* the header is exactly {"alg","typ","kid"} */
    ccz_buf h = CCZ_BUF_INIT;
    CHECK_OK(jose_b64url_decode(&h, t256, (size_t)(strchr(t256, '.') - t256)));
    CHECK_STR((const char *)h.ptr, "{\"alg\":\"ES256\",\"typ\":\"JWT\",\"kid\":\"k1\"}");
    ccz_buf_reset(&h);
    CHECK_OK(jose_b64url_decode(&h, t384, (size_t)(strchr(t384, '.') - t384)));
    json_t *hdr = parse((const char *)h.ptr);
    json_t *jwk = NULL;
    CHECK_OK(jose_jwk_from_key(&jwk, p384, NULL, NULL));
    CHECK_STR(json_string_value(json_object_get(hdr, "alg")), "ES384");
    CHECK_STR(json_string_value(json_object_get(hdr, "kid")),
              json_string_value(json_object_get(jwk, "kid")));
    json_decref(hdr);
    json_decref(jwk);
    ccz_buf_free(&h);
    /* signature length: 64 and 96 bytes, so 86 and 128 characters */
    CHECK_INT(strlen(strrchr(t256, '.') + 1), 86);
    CHECK_INT(strlen(strrchr(t384, '.') + 1), 128);
    /* through a JWKS */
    EVP_PKEY *keys[] = {p256, p384};
    json_t *jwks = NULL;
    CHECK_OK(jose_jwks_from_keys(&jwks, keys, 2));
    char *k256 = sign(p256, NULL, claims);
    CHECK_OK(verify_jwks(jwks, k256));
    CHECK_OK(verify_jwks(jwks, t384));
    CHECK_STATUS(verify_jwks(jwks, t256), CCZ_ERR_NOT_FOUND); /* kid "k1" */
    /* no signing with RSA or P-521 */
    ccz_buf b = CCZ_BUF_INIT;
    CHECK_STATUS(jose_jwt_sign(&b, rsa, NULL, claims), CCZ_ERR_UNSUPPORTED);
    CHECK_STATUS(jose_jwt_sign(&b, p521, NULL, claims), CCZ_ERR_UNSUPPORTED);
    json_t *arr = json_array();
    CHECK_STATUS(jose_jwt_sign(&b, p256, NULL, arr), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_INT(b.len, 0);
    ccz_buf_free(&b);
    json_decref(arr);
    free(t256);
    free(t384);
    free(k256);
    json_decref(jwks);
    json_decref(claims);
}

/* A signer kept for many tokens: the same header as jose_jwt_sign, every token verifies, from
 * two threads at once, and r and s are left-padded to the curve size (of 2,000 signatures some
 * r or s starts with a zero byte almost surely: 1 - (255/256)^4000). */
typedef struct {
    jose_signer *sg;
    const json_t *claims;
    int n, bad, padded;
} signer_run;

static void *sign_many(void *arg)
{
    signer_run *r = arg;
    ccz_buf t = CCZ_BUF_INIT, sig = CCZ_BUF_INIT;
    for (int i = 0; i < r->n; i++) {
        ccz_buf_reset(&t);
        ccz_buf_reset(&sig);
        const char *dot;
        if (jose_signer_sign(r->sg, &t, r->claims) != CCZ_OK ||
            verify(p256, (const char *)t.ptr, JOSE_ES256) != CCZ_OK ||
            !(dot = strrchr((const char *)t.ptr, '.')) ||
            jose_b64url_decode(&sig, dot + 1, strlen(dot + 1)) != CCZ_OK || sig.len != 64) {
            r->bad++;
            continue;
        }
        r->padded += sig.ptr[0] == 0 || sig.ptr[32] == 0;
    }
    ccz_buf_free(&t);
    ccz_buf_free(&sig);
    return NULL;
}

static void test_jwt_signer(void)
{
    setup();
    json_t *claims = claims_at(1000, 2000);
    jose_signer *sg = NULL;
    CHECK_OK(jose_signer_new(&sg, p256, "k1"));
    ccz_buf a = CCZ_BUF_INIT, b = CCZ_BUF_INIT;
    CHECK_OK(jose_signer_sign(sg, &a, claims));
    CHECK_OK(jose_jwt_sign(&b, p256, "k1", claims));
    const char *da = strchr((const char *)a.ptr, '.'), *db = strchr((const char *)b.ptr, '.');
    CHECK(da - (const char *)a.ptr == db - (const char *)b.ptr &&
          memcmp(a.ptr, b.ptr, (size_t)(strrchr(da + 1, '.') - (const char *)a.ptr)) == 0);
    /* a failed call leaves what was in the buffer */
    json_t *arr = json_array();
    size_t len = a.len;
    CHECK_STATUS(jose_signer_sign(sg, &a, arr), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_INT(a.len, len);
    json_decref(arr);
    signer_run runs[2] = {{sg, claims, 1000, 0, 0}, {sg, claims, 1000, 0, 0}};
    pthread_t th;
    test_thread(&th, sign_many, &runs[1]);
    sign_many(&runs[0]);
    pthread_join(th, NULL);
    CHECK_INT(runs[0].bad + runs[1].bad, 0);
    CHECK(runs[0].padded + runs[1].padded > 0);
    jose_signer_free(sg);
    /* ES384 from the key's curve; the kid defaults to the thumbprint */
    CHECK_OK(jose_signer_new(&sg, p384, NULL));
    ccz_buf_reset(&a);
    CHECK_OK(jose_signer_sign(sg, &a, claims));
    CHECK_OK(verify(p384, (const char *)a.ptr, JOSE_ES384));
    jose_signer_free(sg);
    CHECK_STATUS(jose_signer_new(&sg, rsa, NULL), CCZ_ERR_UNSUPPORTED);
    CHECK(sg == NULL);
    jose_signer_free(NULL);
    ccz_buf_free(&a);
    ccz_buf_free(&b);
    json_decref(claims);
}

static void test_jwt_refused(void)
{
    setup();
    json_t *claims = claims_at(1000, 2000);
    char *tok = sign(p256, "k1", claims);
    const char *payload = "{\"exp\":2000}";
    /* another key */
    CHECK_STATUS(verify(p256b, tok, 0), CCZ_ERR_BAD_SIGNATURE);
    CHECK_STATUS(verify(p384, tok, 0), CCZ_ERR_BAD_SIGNATURE);
    CHECK_STATUS(verify(rsa, tok, 0), CCZ_ERR_BAD_SIGNATURE);
    /* outside the allow-list */
    CHECK_STATUS(verify(p256, tok, JOSE_ES384), CCZ_ERR_UNSUPPORTED);
    /* alg none, with and without a signature */
    char *t = join3("{\"alg\":\"none\",\"typ\":\"JWT\"}", payload, "");
    CHECK_STATUS(verify(p256, t, 0), CCZ_ERR_UNSUPPORTED);
    free(t);
    t = join3("{\"alg\":\"NONE\"}", payload, "AAAA");
    CHECK_STATUS(verify(p256, t, 0), CCZ_ERR_UNSUPPORTED);
    free(t);
    /* HS256 keyed with the public key's PEM (the classic confusion) */
    {
        ccz_buf in = CCZ_BUF_INIT, sig = CCZ_BUF_INIT;
        const char *h = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
        CHECK_OK(jose_b64url_encode(&in, CCZ_SPAN(h, strlen(h))));
        CHECK_OK(ccz_buf_append_u8(&in, '.'));
        CHECK_OK(jose_b64url_encode(&in, CCZ_SPAN(payload, strlen(payload))));
        unsigned char *der = NULL;
        int der_len = i2d_PUBKEY(p256, &der);
        uint8_t mac[32];
        size_t mac_len = 0;
        CHECK(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, der, (size_t)der_len, in.ptr, in.len,
                        mac, sizeof mac, &mac_len) != NULL);
        OPENSSL_free(der);
        CHECK_OK(ccz_buf_append_u8(&in, '.'));
        CHECK_OK(jose_b64url_encode(&in, CCZ_SPAN(mac, mac_len)));
        CHECK_STATUS(verify(p256, (const char *)in.ptr, 0), CCZ_ERR_UNSUPPORTED);
        ccz_buf_free(&in);
        ccz_buf_free(&sig);
    }
    /* header alg for another curve: an ES384 token checked with a P-256 key, and an ES256
     * header over a P-384 key's signature */
    t = forge("{\"alg\":\"ES384\"}", payload, p384, EVP_sha384(), 48);
    CHECK_OK(verify(p384, t, 0));
    CHECK_STATUS(verify(p256, t, 0), CCZ_ERR_BAD_SIGNATURE);
    free(t);
    t = forge("{\"alg\":\"ES256\"}", payload, p384, EVP_sha256(), 48);
    CHECK_STATUS(verify(p384, t, 0), CCZ_ERR_MALFORMED); /* 96-byte signature for ES256 */
    free(t);
    /* crit, even when signed */
    t = forge("{\"alg\":\"ES256\",\"crit\":[\"exp\"],\"exp\":1}", payload, p256, EVP_sha256(), 32);
    CHECK_STATUS(verify(p256, t, 0), CCZ_ERR_UNSUPPORTED);
    free(t);
    /* header shapes */
    t = forge("{\"alg\":\"ES256\",\"kid\":7}", payload, p256, EVP_sha256(), 32);
    CHECK_STATUS(verify(p256, t, 0), CCZ_ERR_MALFORMED);
    free(t);
    t = forge("[\"ES256\"]", payload, p256, EVP_sha256(), 32);
    CHECK_STATUS(verify(p256, t, 0), CCZ_ERR_MALFORMED);
    free(t);
    t = forge("{\"alg\":\"ES256\"", payload, p256, EVP_sha256(), 32);
    CHECK_STATUS(verify(p256, t, 0), CCZ_ERR_JSON);
    free(t);
    t = forge("{\"alg\":\"ES256\",\"alg\":\"ES256\"}", payload, p256, EVP_sha256(), 32);
    CHECK_STATUS(verify(p256, t, 0), CCZ_ERR_JSON); /* duplicate member */
    free(t);
    t = forge("{\"typ\":\"JWT\"}", payload, p256, EVP_sha256(), 32);
    CHECK_STATUS(verify(p256, t, 0), CCZ_ERR_MALFORMED);
    free(t);
    t = forge("{\"alg\":\"ES256\"}", "not json", p256, EVP_sha256(), 32);
    CHECK_STATUS(verify(p256, t, 0), CCZ_ERR_JSON);
    free(t);
    t = forge("{\"alg\":\"ES256\"}", "[1]", p256, EVP_sha256(), 32);
    CHECK_STATUS(verify(p256, t, 0), CCZ_ERR_MALFORMED);
    free(t);
    /* parts: two, four, truncated, padded */
    size_t len = strlen(tok);
    char *buf = malloc(len + 8);
    memcpy(buf, tok, len + 1);
    *strrchr(buf, '.') = 0;
    CHECK_STATUS(verify(p256, buf, 0), CCZ_ERR_MALFORMED);
    snprintf(buf, len + 8, "%s.", tok);
    CHECK_STATUS(verify(p256, buf, 0), CCZ_ERR_MALFORMED);
    snprintf(buf, len + 8, "%s.AAAA", tok);
    CHECK_STATUS(verify(p256, buf, 0), CCZ_ERR_MALFORMED);
    memcpy(buf, tok, len + 1);
    buf[len - 1] = 0;
    CHECK_STATUS(verify(p256, buf, 0), CCZ_ERR_MALFORMED);
    buf[len - 4] = 0;
    CHECK_STATUS(verify(p256, buf, 0), CCZ_ERR_MALFORMED);
    snprintf(buf, len + 8, "%s==", tok);
    CHECK_STATUS(verify(p256, buf, 0), CCZ_ERR_MALFORMED);
    CHECK_STATUS(verify(p256, "", 0), CCZ_ERR_MALFORMED);
    CHECK_STATUS(verify(p256, "..", 0), CCZ_ERR_JSON);
    /* one flipped bit in the signature, in the payload, in the header */
    {
        char *dot = strrchr(tok, '.');
        ccz_buf sig = CCZ_BUF_INIT;
        CHECK_OK(jose_b64url_decode(&sig, dot + 1, strlen(dot + 1)));
        for (size_t bit = 0; bit < 64 * 8; bit += 37) {
            sig.ptr[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            ccz_buf t2 = CCZ_BUF_INIT;
            CHECK_OK(ccz_buf_append(&t2, tok, (size_t)(dot + 1 - tok)));
            CHECK_OK(jose_b64url_encode(&t2, ccz_buf_span(&sig)));
            CHECK_STATUS(verify(p256, (const char *)t2.ptr, 0), CCZ_ERR_BAD_SIGNATURE);
            ccz_buf_free(&t2);
            sig.ptr[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        }
        ccz_buf_free(&sig);
        memcpy(buf, tok, len + 1);
        char *p = strchr(buf, '.') + 3;
        *p = *p == 'A' ? 'B' : 'A'; /* a payload character: still base64url, other bytes */
        ccz_status s = verify(p256, buf, 0);
        CHECK(s == CCZ_ERR_BAD_SIGNATURE || s == CCZ_ERR_JSON);
    }
    /* JWKS: a key whose alg or use forbids the token */
    json_t *jwk = NULL;
    CHECK_OK(jose_jwk_from_key(&jwk, p256, "ES384", NULL));
    json_object_set_new(jwk, "kid", json_string("k1"));
    json_t *jwks = json_pack("{s:[O]}", "keys", jwk);
    CHECK_STATUS(verify_jwks(jwks, tok), CCZ_ERR_BAD_SIGNATURE);
    json_object_set_new(jwk, "alg", json_string("ES256"));
    CHECK_OK(verify_jwks(jwks, tok));
    json_object_set_new(jwk, "use", json_string("enc"));
    CHECK_STATUS(verify_jwks(jwks, tok), CCZ_ERR_BAD_SIGNATURE);
    json_object_del(jwk, "use");
    /* a one-key JWKS serves a token without kid; two keys do not */
    t = forge("{\"alg\":\"ES256\"}", payload, p256, EVP_sha256(), 32);
    CHECK_OK(verify_jwks(jwks, t));
    json_array_append_new(json_object_get(jwks, "keys"), json_deep_copy(jwk));
    CHECK_STATUS(verify_jwks(jwks, t), CCZ_ERR_NOT_FOUND);
    free(t);
    json_decref(jwks);
    json_decref(jwk);
    free(buf);
    free(tok);
    json_decref(claims);
}

static ccz_status check(const char *claims, int64_t now, int64_t leeway, const char *iss,
                        const char *aud)
{
    json_t *c = parse(claims);
    jose_claims_check k = {.now = now, .leeway = leeway, .iss = iss, .aud = aud};
    ccz_status s = jose_jwt_check_claims(c, &k);
    json_decref(c);
    return s;
}

static void test_claims(void)
{
    const char *c = "{\"iss\":\"ccz\",\"iat\":1000,\"nbf\":1000,\"exp\":2000}";
    CHECK_OK(check(c, 1000, 0, NULL, NULL));
    CHECK_OK(check(c, 1999, 0, "ccz", NULL));
    CHECK_STATUS(check(c, 2000, 0, NULL, NULL), CCZ_ERR_EXPIRED);
    CHECK_OK(check(c, 2000, 1, NULL, NULL));
    CHECK_STATUS(check(c, 2001, 1, NULL, NULL), CCZ_ERR_EXPIRED);
    CHECK_STATUS(check(c, 999, 0, NULL, NULL), CCZ_ERR_NOT_YET_VALID);
    CHECK_OK(check(c, 995, 5, NULL, NULL));
    CHECK_STATUS(check(c, 994, 5, NULL, NULL), CCZ_ERR_NOT_YET_VALID);
    CHECK_STATUS(check("{\"nbf\":1500,\"exp\":2000}", 1000, 60, NULL, NULL), CCZ_ERR_NOT_YET_VALID);
    CHECK_OK(check("{\"nbf\":1500,\"exp\":2000}", 1440, 60, NULL, NULL));
    CHECK_STATUS(check("{\"iat\":1500,\"exp\":2000}", 1000, 60, NULL, NULL), CCZ_ERR_NOT_YET_VALID);
    CHECK_STATUS(check("{\"iat\":1000}", 1000, 0, NULL, NULL), CCZ_ERR_MALFORMED);
    CHECK_STATUS(check("{\"exp\":\"2000\"}", 1000, 0, NULL, NULL), CCZ_ERR_MALFORMED);
    CHECK_STATUS(check("{\"exp\":2000.5}", 1000, 0, NULL, NULL), CCZ_ERR_MALFORMED);
    CHECK_STATUS(check("{\"exp\":2000,\"nbf\":null}", 1000, 0, NULL, NULL), CCZ_ERR_MALFORMED);
    CHECK_STATUS(check("{\"exp\":9223372036854775807}", 1000, 60, NULL, NULL), CCZ_OK);
    CHECK_STATUS(check(c, 1000, 0, "other", NULL), CCZ_ERR_POLICY_REJECTED);
    CHECK_STATUS(check("{\"exp\":2000}", 1000, 0, "ccz", NULL), CCZ_ERR_POLICY_REJECTED);
    CHECK_OK(check("{\"exp\":2000,\"aud\":\"kbs\"}", 1000, 0, NULL, "kbs"));
    CHECK_OK(check("{\"exp\":2000,\"aud\":[\"x\",\"kbs\"]}", 1000, 0, NULL, "kbs"));
    /* the audience expected first in the array, and alone in it */
    CHECK_OK(check("{\"exp\":2000,\"aud\":[\"kbs\",\"x\"]}", 1000, 0, NULL, "kbs"));
    CHECK_OK(check("{\"exp\":2000,\"aud\":[\"kbs\"]}", 1000, 0, NULL, "kbs"));
    CHECK_STATUS(check("{\"exp\":2000,\"aud\":[\"x\"]}", 1000, 0, NULL, "kbs"),
                 CCZ_ERR_POLICY_REJECTED);
    CHECK_STATUS(check("{\"exp\":2000}", 1000, 0, NULL, "kbs"), CCZ_ERR_POLICY_REJECTED);
    CHECK_STATUS(check("{\"exp\":2000,\"aud\":\"kbs\"}", 1000, 0, NULL, NULL),
                 CCZ_ERR_POLICY_REJECTED);
    CHECK_STATUS(check("{\"exp\":2000,\"aud\":7}", 1000, 0, NULL, "kbs"), CCZ_ERR_MALFORMED);
    CHECK_STATUS(check(c, 1000, -1, NULL, NULL), CCZ_ERR_INVALID_ARGUMENT);
}

/* Bounds on untrusted tokens, claims and keys that the tests above leave out: a signature of
 * valid base64url one byte short (read as r||s it would be read past its end), a token over the
 * input limit that is otherwise valid, a claim or header member of the wrong type, an RSA JWK
 * beyond the size accepted or with an exponent that is not minimal. */
static void test_untrusted_bounds(void)
{
    setup();
    const char *payload = "{\"exp\":2000}";
    /* ES256 and ES384 signatures one byte short, and none at all */
    static const struct {
        const char *hdr, *alg;
        size_t n;
    } short_sig[] = {{"{\"alg\":\"ES256\"}", "ES256", 32}, {"{\"alg\":\"ES384\"}", "ES384", 48}};
    for (size_t i = 0; i < CCZ_ARRAY_LEN(short_sig); i++) {
        EVP_PKEY *key = short_sig[i].n == 32 ? p256 : p384;
        char *t = forge(short_sig[i].hdr, payload, key,
                        short_sig[i].n == 32 ? EVP_sha256() : EVP_sha384(), short_sig[i].n);
        char *dot = strrchr(t, '.');
        ccz_buf sig = CCZ_BUF_INIT, t2 = CCZ_BUF_INIT;
        CHECK_OK(jose_b64url_decode(&sig, dot + 1, strlen(dot + 1)));
        CHECK_OK(ccz_buf_append(&t2, t, (size_t)(dot + 1 - t)));
        CHECK_OK(jose_b64url_encode(&t2, CCZ_SPAN(sig.ptr, 2 * short_sig[i].n - 1)));
        CHECK_STATUS(verify(key, (const char *)t2.ptr, 0), CCZ_ERR_MALFORMED);
        char want[64];
        snprintf(want, sizeof want, "JWS: %s signature of %zu bytes (expected %zu)",
                 short_sig[i].alg, 2 * short_sig[i].n - 1, 2 * short_sig[i].n);
        CHECK_STR(ccz_error_detail(), want);
        ccz_buf_free(&sig);
        ccz_buf_free(&t2);
        free(t);
    }
    char *t = join3("{\"alg\":\"ES256\"}", payload, "");
    CHECK_STATUS(verify(p256, t, 0), CCZ_ERR_MALFORMED);
    CHECK_STR(ccz_error_detail(), "JWS: ES256 signature of 0 bytes (expected 64)");
    free(t);
    /* a token signed by the right key, one over JOSE_MAX_INPUT: refused before it is decoded */
    {
        size_t n = JOSE_MAX_INPUT / 4 * 3;
        char *big = malloc(n + 1);
        memset(big, 'a', n);
        big[n] = '\0';
        json_t *claims = json_pack("{s:I, s:s}", "exp", (json_int_t)2000, "pad", big);
        char *tok = sign(p256, "k1", claims);
        size_t len = strlen(tok);
        CHECK(len > JOSE_MAX_INPUT);
        CHECK_STATUS(verify(p256, tok, 0), CCZ_ERR_TOO_LARGE);
        char want[80];
        snprintf(want, sizeof want, "JWS of %zu bytes exceeds the %u-byte limit", len,
                 JOSE_MAX_INPUT);
        CHECK_STR(ccz_error_detail(), want);
        free(tok);
        json_decref(claims);
        free(big);
    }
    /* a header typ that is not a string */
    t = forge("{\"alg\":\"ES256\",\"typ\":7}", payload, p256, EVP_sha256(), 32);
    CHECK_STATUS(verify(p256, t, 0), CCZ_ERR_MALFORMED);
    CHECK_STR(ccz_error_detail(), "JWS header: \"typ\" is not a string");
    free(t);
    /* claims: iat of the wrong type; an aud array with a member that is not a string */
    CHECK_STATUS(check("{\"exp\":2000,\"iat\":\"1000\"}", 1000, 0, NULL, NULL), CCZ_ERR_MALFORMED);
    CHECK_STR(ccz_error_detail(), "JWT: \"iat\" is not an integer");
    CHECK_OK(check("{\"exp\":2000,\"aud\":[7,\"kbs\"]}", 1000, 0, NULL, "kbs"));
    CHECK_STATUS(check("{\"exp\":2000,\"aud\":[null]}", 1000, 0, NULL, "kbs"),
                 CCZ_ERR_POLICY_REJECTED);
    /* RSA: a modulus of 16392 bits (odd, so only the size refuses it), an exponent with a
     * leading zero byte, an exponent of 9 bytes (2^64 + 1: odd and below n) */
    {
        uint8_t raw[2049];
        for (size_t i = 0; i < sizeof raw; i++)
            raw[i] = (uint8_t)(0x9b + 37 * i);
        raw[0] = 0xc5;
        raw[sizeof raw - 1] |= 1;
        ccz_buf nb = CCZ_BUF_INIT;
        CHECK_OK(jose_b64url_encode(&nb, CCZ_SPAN(raw, sizeof raw)));
        json_t *j =
            json_pack("{s:s, s:s, s:s}", "kty", "RSA", "n", (const char *)nb.ptr, "e", "AQAB");
        EVP_PKEY *k = NULL;
        CHECK_STATUS(jose_jwk_to_key(&k, j), CCZ_ERR_UNSUPPORTED);
        CHECK_STR(ccz_error_detail(), "JWK: RSA key of 16392 bits (2048 to 16384 accepted)");
        CHECK(k == NULL);
        json_decref(j);
        ccz_buf_free(&nb);
        j = rsa_jwk(rsa);
        CHECK_OK(jose_jwk_to_key(&k, j));
        EVP_PKEY_free(k);
        k = NULL;
        static const char *const bad_e[] = {"AAEAAQ" /* 00 01 00 01 */,
                                            "AQAAAAAAAAAB" /* 01 00*7 01 */};
        for (size_t i = 0; i < CCZ_ARRAY_LEN(bad_e); i++) {
            json_object_set_new(j, "e", json_string(bad_e[i]));
            CHECK_STATUS(jose_jwk_to_key(&k, j), CCZ_ERR_KEY_MALFORMED);
            CHECK_STR(ccz_error_detail(), "JWK: n or e empty, not minimal, or e too long");
            CHECK(k == NULL);
        }
        json_decref(j);
    }
}

/* ---- JWE -------------------------------------------------------------------------------*/

static char *jwe_text(EVP_PKEY *key, jose_jwe_alg alg, const char *msg)
{
    json_t *j = NULL;
    CHECK_OK(jose_jwe_encrypt(&j, key, alg, CCZ_SPAN(msg, strlen(msg))));
    char *t = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    return t;
}

static ccz_status decrypt(ccz_buf *out, EVP_PKEY *key, const char *text)
{
    ccz_buf_reset(out);
    return jose_jwe_decrypt(out, key, text, strlen(text));
}

/* The JWE with member `name` replaced by the base64url of its bytes with one bit flipped. */
static char *flip_member(const char *text, const char *name, size_t byte)
{
    json_t *j = parse(text);
    const char *v = json_string_value(json_object_get(j, name));
    ccz_buf raw = CCZ_BUF_INIT, enc = CCZ_BUF_INIT;
    CHECK_OK(jose_b64url_decode(&raw, v, strlen(v)));
    CHECK(byte < raw.len);
    if (byte < raw.len)
        raw.ptr[byte] ^= 0x04;
    CHECK_OK(jose_b64url_encode(&enc, ccz_buf_span(&raw)));
    json_object_set_new(j, name, json_string((const char *)enc.ptr));
    char *out = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    ccz_buf_free(&raw);
    ccz_buf_free(&enc);
    return out;
}

static char *with_header(const char *text, const char *header_json)
{
    json_t *j = parse(text);
    ccz_buf enc = CCZ_BUF_INIT;
    CHECK_OK(jose_b64url_encode(&enc, CCZ_SPAN(header_json, strlen(header_json))));
    json_object_set_new(j, "protected", json_string((const char *)enc.ptr));
    char *out = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    ccz_buf_free(&enc);
    return out;
}

static void test_jwe_roundtrip(void)
{
    setup();
    const char *msg = "the resource: a 32-byte model key and some more text";
    struct {
        EVP_PKEY *key;
        jose_jwe_alg alg;
    } cases[] = {{p256, JOSE_JWE_ECDH_ES_A256KW},
                 {p384, JOSE_JWE_ECDH_ES_A256KW},
                 {p521, JOSE_JWE_ECDH_ES_A256KW},
                 {rsa, JOSE_JWE_RSA_OAEP_256}};
    ccz_buf out = CCZ_BUF_INIT;
    ccz_buf_init(&out, 0, true);
    for (size_t i = 0; i < CCZ_ARRAY_LEN(cases); i++) {
        char *t = jwe_text(cases[i].key, cases[i].alg, msg);
        CHECK_OK(decrypt(&out, cases[i].key, t));
        CHECK_INT(out.len, strlen(msg));
        CHECK_STR((const char *)out.ptr, msg);
        /* the shape Trustee's KBS sends */
        json_t *j = parse(t);
        CHECK_INT(json_object_size(j), 5);
        const char *members[] = {"protected", "encrypted_key", "iv", "ciphertext", "tag"};
        for (size_t m = 0; m < 5; m++)
            CHECK(json_is_string(json_object_get(j, members[m])));
        const char *prot = json_string_value(json_object_get(j, "protected"));
        ccz_buf h = CCZ_BUF_INIT;
        CHECK_OK(jose_b64url_decode(&h, prot, strlen(prot)));
        json_t *hdr = parse((const char *)h.ptr);
        CHECK_STR(json_string_value(json_object_get(hdr, "alg")), jose_jwe_alg_name(cases[i].alg));
        CHECK_STR(json_string_value(json_object_get(hdr, "enc")), "A256GCM");
        CHECK(!json_object_get(hdr, "epk") == (cases[i].alg != JOSE_JWE_ECDH_ES_A256KW));
        json_decref(hdr);
        json_decref(j);
        ccz_buf_free(&h);
        /* one bit anywhere that matters: one status */
        static const char *const flip[] = {"encrypted_key", "iv", "ciphertext", "tag"};
        for (size_t f = 0; f < CCZ_ARRAY_LEN(flip); f++) {
            char *bad = flip_member(t, flip[f], 3);
            CHECK_STATUS(decrypt(&out, cases[i].key, bad), CCZ_ERR_BAD_SIGNATURE);
            /* one reason too: a failed unwrap or OAEP decoding reads as a wrong tag */
            CHECK_STR(ccz_error_detail(), "JWE: cannot decrypt with this key");
            CHECK_INT(out.len, 0);
            free(bad);
        }
        /* every byte of the 16-byte tag is checked, the last ones too (not a truncated tag) */
        for (size_t b = 0; b < 16; b++) {
            char *bad = flip_member(t, "tag", b);
            CHECK_STATUS(decrypt(&out, cases[i].key, bad), CCZ_ERR_BAD_SIGNATURE);
            CHECK_STR(ccz_error_detail(), "JWE: cannot decrypt with this key");
            CHECK_INT(out.len, 0);
            free(bad);
        }
        free(t);
    }
    /* an empty payload */
    char *t = jwe_text(p256, JOSE_JWE_ECDH_ES_A256KW, "");
    CHECK_OK(decrypt(&out, p256, t));
    CHECK_INT(out.len, 0);
    free(t);
    /* the plaintext is NUL-terminated as text even where the buffer held longer text before */
    ccz_buf stale = CCZ_BUF_INIT;
    CHECK_OK(ccz_buf_append_str(&stale, "stale bytes left in the buffer past the plaintext"));
    t = jwe_text(p256, JOSE_JWE_ECDH_ES_A256KW, "short");
    CHECK_OK(decrypt(&stale, p256, t));
    CHECK_INT(stale.len, 5);
    CHECK_STR((const char *)stale.ptr, "short");
    free(t);
    ccz_buf_free(&stale);
    /* the KBS tee-pubkey path */
    json_t *tee = NULL, *jwe = NULL;
    CHECK_OK(jose_jwk_from_key(&tee, p384, "ECDH-ES+A256KW", NULL));
    CHECK_OK(jose_jwe_encrypt_jwk(&jwe, tee, CCZ_SPAN(msg, strlen(msg))));
    t = json_dumps(jwe, JSON_COMPACT);
    CHECK_OK(decrypt(&out, p384, t));
    CHECK_STR((const char *)out.ptr, msg);
    free(t);
    json_decref(jwe);
    json_object_set_new(tee, "alg", json_string("ECDH-ES"));
    CHECK_STATUS(jose_jwe_encrypt_jwk(&jwe, tee, CCZ_SPAN(msg, 1)), CCZ_ERR_UNSUPPORTED);
    json_decref(tee);
    tee = rsa_jwk(rsa);
    json_object_set_new(tee, "alg", json_string("RSA-OAEP-256"));
    CHECK_OK(jose_jwe_encrypt_jwk(&jwe, tee, CCZ_SPAN(msg, strlen(msg))));
    t = json_dumps(jwe, JSON_COMPACT);
    CHECK_OK(decrypt(&out, rsa, t));
    free(t);
    json_decref(jwe);
    json_decref(tee);
    /* RSA1_5: encrypted for old clients, never decrypted here */
    t = jwe_text(rsa, JOSE_JWE_RSA1_5, msg);
    CHECK_STATUS(decrypt(&out, rsa, t), CCZ_ERR_UNSUPPORTED);
    free(t);
    /* keys that do not fit the algorithm */
    json_t *none = NULL;
    CHECK_STATUS(jose_jwe_encrypt(&none, rsa, JOSE_JWE_ECDH_ES_A256KW, CCZ_SPAN(msg, 1)),
                 CCZ_ERR_UNSUPPORTED);
    CHECK_STATUS(jose_jwe_encrypt(&none, p256, JOSE_JWE_RSA_OAEP_256, CCZ_SPAN(msg, 1)),
                 CCZ_ERR_UNSUPPORTED);
    EVP_PKEY *small = EVP_RSA_gen(1024);
    CHECK_STATUS(jose_jwe_encrypt(&none, small, JOSE_JWE_RSA1_5, CCZ_SPAN(msg, 1)),
                 CCZ_ERR_UNSUPPORTED);
    EVP_PKEY_free(small);
    CHECK(none == NULL);
    jose_jwe_alg a;
    CHECK_OK(jose_jwe_alg_parse(&a, "RSA1_5"));
    CHECK_INT(a, JOSE_JWE_RSA1_5);
    CHECK_STATUS(jose_jwe_alg_parse(&a, "dir"), CCZ_ERR_UNSUPPORTED);
    ccz_buf_free(&out);
}

static void test_jwe_refused(void)
{
    setup();
    const char *msg = "secret";
    ccz_buf out = CCZ_BUF_INIT;
    char *ec = jwe_text(p256, JOSE_JWE_ECDH_ES_A256KW, msg);
    char *rs = jwe_text(rsa, JOSE_JWE_RSA_OAEP_256, msg);
    /* another key, of the same kind or not */
    CHECK_STATUS(decrypt(&out, p256b, ec), CCZ_ERR_BAD_SIGNATURE);
    CHECK_STATUS(decrypt(&out, p384, ec), CCZ_ERR_BAD_SIGNATURE);
    CHECK_STATUS(decrypt(&out, rsa, ec), CCZ_ERR_BAD_SIGNATURE);
    CHECK_STATUS(decrypt(&out, p256, rs), CCZ_ERR_BAD_SIGNATURE);
    EVP_PKEY *rsa2 = EVP_RSA_gen(2048);
    CHECK_STATUS(decrypt(&out, rsa2, rs), CCZ_ERR_BAD_SIGNATURE);
    EVP_PKEY_free(rsa2);
    CHECK_INT(out.len, 0);
    /* the protected header re-encoded with a change that keeps it decryptable: the AAD differs */
    json_t *j = parse(rs);
    const char *prot = json_string_value(json_object_get(j, "protected"));
    ccz_buf h = CCZ_BUF_INIT;
    CHECK_OK(jose_b64url_decode(&h, prot, strlen(prot)));
    json_decref(j);
    json_t *hdr = parse((const char *)h.ptr);
    json_object_set_new(hdr, "kid", json_string("x"));
    char *hdr_text = json_dumps(hdr, JSON_COMPACT);
    char *t = with_header(rs, hdr_text);
    CHECK_STATUS(decrypt(&out, rsa, t), CCZ_ERR_BAD_SIGNATURE);
    free(t);
    free(hdr_text);
    json_decref(hdr);
    ccz_buf_free(&h);
    /* same for the EC header: a changed epk, and the original's epk moved out */
    j = parse(ec);
    prot = json_string_value(json_object_get(j, "protected"));
    CHECK_OK(jose_b64url_decode(&h, prot, strlen(prot)));
    json_decref(j);
    hdr = parse((const char *)h.ptr);
    json_t *epk = json_incref(json_object_get(hdr, "epk"));
    json_object_del(hdr, "epk");
    hdr_text = json_dumps(hdr, JSON_COMPACT);
    t = with_header(ec, hdr_text);
    CHECK_STATUS(decrypt(&out, p256, t), CCZ_ERR_MALFORMED); /* no epk */
    free(t);
    /* another epk in its place */
    json_t *other = NULL;
    CHECK_OK(jose_jwk_from_key(&other, p256b, NULL, NULL));
    json_object_del(other, "kid");
    json_object_set(hdr, "epk", other);
    free(hdr_text);
    hdr_text = json_dumps(hdr, JSON_COMPACT);
    t = with_header(ec, hdr_text);
    CHECK_STATUS(decrypt(&out, p256, t), CCZ_ERR_BAD_SIGNATURE);
    free(t);
    json_decref(other);
    free(hdr_text);
    /* unprotected headers: kid is fine, epk given twice is not */
    j = parse(ec);
    json_object_set_new(j, "header", json_pack("{s:s}", "kid", "tee"));
    t = json_dumps(j, JSON_COMPACT);
    CHECK_OK(decrypt(&out, p256, t));
    CHECK_STR((const char *)out.ptr, msg);
    free(t);
    json_object_set_new(j, "unprotected", json_pack("{s:O}", "epk", epk));
    t = json_dumps(j, JSON_COMPACT);
    CHECK_STATUS(decrypt(&out, p256, t), CCZ_ERR_MALFORMED);
    free(t);
    json_object_set_new(j, "unprotected", json_pack("{s:s}", "enc", "A256GCM"));
    t = json_dumps(j, JSON_COMPACT);
    CHECK_STATUS(decrypt(&out, p256, t), CCZ_ERR_UNSUPPORTED);
    free(t);
    json_object_set_new(j, "unprotected", json_string("x"));
    t = json_dumps(j, JSON_COMPACT);
    CHECK_STATUS(decrypt(&out, p256, t), CCZ_ERR_MALFORMED);
    free(t);
    json_decref(j);
    /* header parameters */
    static const char *const hdrs[][2] = {
        {"{\"alg\":\"RSA-OAEP-256\",\"enc\":\"A128GCM\"}", "unsupported"},
        {"{\"alg\":\"RSA-OAEP-256\",\"enc\":\"A256GCM\",\"zip\":\"DEF\"}", "unsupported"},
        {"{\"alg\":\"RSA-OAEP-256\",\"enc\":\"A256GCM\",\"crit\":[\"x\"],\"x\":1}", "unsupported"},
        {"{\"alg\":\"RSA-OAEP\",\"enc\":\"A256GCM\"}", "unsupported"},
        {"{\"alg\":\"dir\",\"enc\":\"A256GCM\"}", "unsupported"},
        {"{\"enc\":\"A256GCM\"}", "malformed"},
        {"{\"alg\":\"RSA-OAEP-256\"}", "malformed"},
        {"[\"RSA-OAEP-256\"]", "malformed"},
        {"{\"alg\":\"RSA-OAEP-256\",", "invalid_json"},
    };
    for (size_t i = 0; i < CCZ_ARRAY_LEN(hdrs); i++) {
        t = with_header(rs, hdrs[i][0]);
        CHECK_STR(ccz_status_name(decrypt(&out, rsa, t)), hdrs[i][1]);
        free(t);
    }
    /* the document's members */
    j = parse(rs);
    json_t *d = json_deep_copy(j);
    json_object_set_new(d, "recipients", json_array());
    t = json_dumps(d, JSON_COMPACT);
    CHECK_STATUS(decrypt(&out, rsa, t), CCZ_ERR_UNSUPPORTED);
    free(t);
    json_decref(d);
    d = json_deep_copy(j);
    json_object_set_new(d, "header", json_pack("{s:s}", "alg", "RSA1_5"));
    t = json_dumps(d, JSON_COMPACT);
    CHECK_STATUS(decrypt(&out, rsa, t), CCZ_ERR_UNSUPPORTED); /* alg must be protected */
    free(t);
    json_decref(d);
    d = json_deep_copy(j);
    json_object_set_new(d, "extra", json_true());
    t = json_dumps(d, JSON_COMPACT);
    CHECK_STATUS(decrypt(&out, rsa, t), CCZ_ERR_MALFORMED);
    free(t);
    json_decref(d);
    d = json_deep_copy(j);
    json_object_del(d, "tag");
    t = json_dumps(d, JSON_COMPACT);
    CHECK_STATUS(decrypt(&out, rsa, t), CCZ_ERR_MALFORMED);
    free(t);
    json_decref(d);
    d = json_deep_copy(j);
    json_object_set_new(d, "iv", json_string("AAAAAAAAAAAAAAAA")); /* 12 bytes: wrong iv */
    t = json_dumps(d, JSON_COMPACT);
    CHECK_STATUS(decrypt(&out, rsa, t), CCZ_ERR_BAD_SIGNATURE);
    free(t);
    json_object_set_new(d, "iv", json_string("AAAAAAAAAAAAAAA")); /* 11 bytes */
    t = json_dumps(d, JSON_COMPACT);
    CHECK_STATUS(decrypt(&out, rsa, t), CCZ_ERR_MALFORMED);
    free(t);
    json_decref(d);
    d = json_deep_copy(j);
    json_object_set_new(d, "aad", json_string("eA")); /* not authenticated when encrypting */
    t = json_dumps(d, JSON_COMPACT);
    CHECK_STATUS(decrypt(&out, rsa, t), CCZ_ERR_BAD_SIGNATURE);
    free(t);
    json_decref(d);
    d = json_deep_copy(j);
    json_object_set_new(d, "encrypted_key", json_string("AAAA"));
    t = json_dumps(d, JSON_COMPACT);
    CHECK_STATUS(decrypt(&out, rsa, t), CCZ_ERR_MALFORMED);
    free(t);
    json_decref(d);
    json_decref(j);
    { /* lengths: an ECDH-ES encrypted_key of 48 bytes, not 40; a tag of 15 bytes; an iv one
         * byte long (it would go unauthenticated); an RSA-wrapped CEK of 33 bytes */
        json_t *e = parse(ec);
        json_object_set_new(
            e, "encrypted_key",
            json_string(/* 48 bytes, not 40 */
                        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
        t = json_dumps(e, JSON_COMPACT);
        CHECK_STATUS(decrypt(&out, p256, t), CCZ_ERR_MALFORMED);
        CHECK_CONTAINS(ccz_error_detail(), "40-byte encrypted_key");
        free(t);
        json_decref(e);
        json_t *r = parse(rs);
        json_object_set_new(r, "tag", json_string("AAAAAAAAAAAAAAAAAAAA")); /* 15 bytes */
        t = json_dumps(r, JSON_COMPACT);
        CHECK_STATUS(decrypt(&out, rsa, t), CCZ_ERR_MALFORMED);
        CHECK_CONTAINS(ccz_error_detail(), "12-byte iv and a 16-byte tag");
        free(t);
        json_decref(r);
        r = parse(rs); /* the right iv and one byte more */
        ccz_buf iv = CCZ_BUF_INIT, iv64 = CCZ_BUF_INIT;
        const char *ivs = json_string_value(json_object_get(r, "iv"));
        CHECK_OK(jose_b64url_decode(&iv, ivs, strlen(ivs)));
        CHECK_OK(ccz_buf_append_u8(&iv, 0));
        CHECK_OK(jose_b64url_encode(&iv64, ccz_buf_span(&iv)));
        json_object_set_new(r, "iv", json_string((const char *)iv64.ptr));
        t = json_dumps(r, JSON_COMPACT);
        CHECK_STATUS(decrypt(&out, rsa, t), CCZ_ERR_MALFORMED);
        CHECK_CONTAINS(ccz_error_detail(), "12-byte iv and a 16-byte tag");
        free(t);
        ccz_buf_free(&iv);
        ccz_buf_free(&iv64);
        json_decref(r);
        /* the right CEK and one byte more, RSA-OAEP-256 encrypted: not an A256GCM key */
        r = parse(rs);
        const char *eks = json_string_value(json_object_get(r, "encrypted_key"));
        ccz_buf ek = CCZ_BUF_INIT, ek64 = CCZ_BUF_INIT;
        CHECK_OK(jose_b64url_decode(&ek, eks, strlen(eks)));
        uint8_t cek[512], wrapped[512];
        size_t cl = sizeof cek, wl = sizeof wrapped;
        EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(NULL, rsa, NULL);
        CHECK(EVP_PKEY_decrypt_init(c) == 1 &&
              EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_OAEP_PADDING) == 1 &&
              EVP_PKEY_CTX_set_rsa_oaep_md(c, EVP_sha256()) == 1 &&
              EVP_PKEY_CTX_set_rsa_mgf1_md(c, EVP_sha256()) == 1 &&
              EVP_PKEY_decrypt(c, cek, &cl, ek.ptr, ek.len) == 1 && cl == 32);
        cek[32] = 0;
        CHECK(EVP_PKEY_encrypt_init(c) == 1 &&
              EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_OAEP_PADDING) == 1 &&
              EVP_PKEY_CTX_set_rsa_oaep_md(c, EVP_sha256()) == 1 &&
              EVP_PKEY_CTX_set_rsa_mgf1_md(c, EVP_sha256()) == 1 &&
              EVP_PKEY_encrypt(c, wrapped, &wl, cek, 33) == 1);
        EVP_PKEY_CTX_free(c);
        CHECK_OK(jose_b64url_encode(&ek64, CCZ_SPAN(wrapped, wl)));
        json_object_set_new(r, "encrypted_key", json_string((const char *)ek64.ptr));
        t = json_dumps(r, JSON_COMPACT);
        CHECK_STATUS(decrypt(&out, rsa, t), CCZ_ERR_BAD_SIGNATURE);
        CHECK_STR(ccz_error_detail(), "JWE: cannot decrypt with this key");
        free(t);
        ccz_buf_free(&ek);
        ccz_buf_free(&ek64);
        json_decref(r);
    }
    CHECK_STATUS(decrypt(&out, rsa, "[]"), CCZ_ERR_MALFORMED);
    CHECK_STATUS(decrypt(&out, rsa, "{"), CCZ_ERR_JSON);
    CHECK_INT(out.len, 0);
    json_decref(epk);
    json_decref(hdr);
    ccz_buf_free(&h);
    free(ec);
    free(rs);
    ccz_buf_free(&out);
}

/* ---- checks the tests above reach only behind another check with the same status ---------*/

/* A P-256 key whose x (or y) coordinate starts with a zero byte (about one key in 256). */
static EVP_PKEY *key_with_zero_lead(const char *coord)
{
    for (int i = 0; i < 100000; i++) {
        EVP_PKEY *k = EVP_EC_gen("P-256");
        BIGNUM *v = NULL;
        CHECK(k && EVP_PKEY_get_bn_param(k, coord, &v) == 1);
        bool lead = BN_num_bytes(v) < 32;
        BN_free(v);
        if (lead)
            return k;
        EVP_PKEY_free(k);
    }
    CHECK(!"no key with a zero first byte");
    return NULL;
}

static void test_jws_checks_behind_others(void)
{
    setup();
    const char *payload = "{\"exp\":2000}";
    /* an alg for another curve, or another key type, is refused before the signature is
     * looked at (it would fail there too, with another reason) */
    char *t = forge("{\"alg\":\"ES256\",\"kid\":\"k1\"}", payload, p256, EVP_sha256(), 32);
    CHECK_OK(verify(p256, t, 0));
    CHECK_STATUS(verify(p384, t, 0), CCZ_ERR_BAD_SIGNATURE);
    CHECK_STR(ccz_error_detail(), "JWS: alg ES256 does not fit the key");
    CHECK_STATUS(verify(rsa, t, 0), CCZ_ERR_BAD_SIGNATURE);
    CHECK_STR(ccz_error_detail(), "JWS: alg ES256 does not fit the key");
    /* four parts are refused as such, not as a signature with a dot in it */
    size_t len = strlen(t);
    char *four = malloc(len + 6);
    snprintf(four, len + 6, "%s.AAAA", t);
    CHECK_STATUS(verify(p256, four, 0), CCZ_ERR_MALFORMED);
    CHECK_STR(ccz_error_detail(), "JWS: not three dot-separated parts");
    free(four);
    /* an alg that is not a string is a malformed header, not an algorithm refused */
    char *t2 = forge("{\"alg\":7}", payload, p256, EVP_sha256(), 32);
    CHECK_STATUS(verify(p256, t2, 0), CCZ_ERR_MALFORMED);
    CHECK_STR(ccz_error_detail(), "JWS header: no \"alg\" string");
    free(t2);
    /* a JWKS member whose alg or use is not a string allows nothing */
    json_t *jwk = NULL;
    CHECK_OK(jose_jwk_from_key(&jwk, p256, NULL, NULL));
    json_object_set_new(jwk, "kid", json_string("k1"));
    json_t *jwks = json_pack("{s:[O]}", "keys", jwk);
    json_t *member = json_array_get(json_object_get(jwks, "keys"), 0);
    CHECK_OK(verify_jwks(jwks, t));
    static const char *const names[] = {"use", "alg"};
    for (size_t i = 0; i < CCZ_ARRAY_LEN(names); i++) {
        json_object_set_new(member, names[i], json_integer(7));
        CHECK_STATUS(verify_jwks(jwks, t), CCZ_ERR_BAD_SIGNATURE);
        CHECK_STR(ccz_error_detail(), "JWS: the JWK's alg or use does not allow ES256");
        json_object_del(member, names[i]);
    }
    CHECK_OK(verify_jwks(jwks, t));
    /* a kid matches whole: not by a prefix, either way round */
    static const char *const near[] = {"{\"alg\":\"ES256\",\"kid\":\"k10\"}",
                                       "{\"alg\":\"ES256\",\"kid\":\"k\"}"};
    for (size_t i = 0; i < CCZ_ARRAY_LEN(near); i++) {
        char *n = forge(near[i], payload, p256, EVP_sha256(), 32);
        CHECK_STATUS(verify_jwks(jwks, n), CCZ_ERR_NOT_FOUND);
        CHECK_CONTAINS(ccz_error_detail(), "JWKS: no key with kid");
        free(n);
    }
    json_decref(jwks);
    json_decref(jwk);
    free(t);
    /* a kid that two members carry names no key: which one the token means is not known (the
     * first would verify one token and refuse another signed as validly) */
    {
        const json_t *found = NULL;
        json_t *claims = claims_at(1000, 2000);
        char *tok = sign(p256, "k1", claims);
        json_t *mine = NULL, *other = NULL;
        CHECK_OK(jose_jwk_from_key(&mine, p256, NULL, NULL));
        CHECK_OK(jose_jwk_from_key(&other, p256b, NULL, NULL));
        json_object_set_new(mine, "kid", json_string("k1"));
        json_object_set_new(other, "kid", json_string("k1"));
        json_t *both[] = {json_pack("{s:[O,O]}", "keys", mine, other),
                          json_pack("{s:[O,O]}", "keys", other, mine)};
        for (size_t i = 0; i < CCZ_ARRAY_LEN(both); i++) {
            CHECK_STATUS(jose_jwks_find(&found, both[i], "k1"), CCZ_ERR_MALFORMED);
            CHECK_STR(ccz_error_detail(), "JWKS: more than one key with kid \"k1\"");
            CHECK(found == NULL);
            CHECK_STATUS(verify_jwks(both[i], tok), CCZ_ERR_MALFORMED);
            json_decref(both[i]);
        }
        json_t *one = json_pack("{s:[O]}", "keys", mine);
        CHECK_OK(verify_jwks(one, tok));
        json_decref(one);
        json_decref(mine);
        json_decref(other);
        json_decref(claims);
        free(tok);
    }
    /* claims that are not an object */
    json_t *arr = parse("[{\"exp\":2000}]");
    jose_claims_check k = {.now = 1000};
    CHECK_STATUS(jose_jwt_check_claims(arr, &k), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "JWT: no claims object, or a negative leeway");
    json_decref(arr);
}

static void test_jwk_checks_behind_others(void)
{
    setup();
    /* a y coordinate one byte long: the right 32 bytes and one more */
    json_t *jwk = NULL;
    CHECK_OK(jose_jwk_from_key(&jwk, p256, NULL, NULL));
    const char *ys = json_string_value(json_object_get(jwk, "y"));
    ccz_buf y = CCZ_BUF_INIT, y64 = CCZ_BUF_INIT;
    CHECK_OK(jose_b64url_decode(&y, ys, strlen(ys)));
    CHECK_OK(ccz_buf_append_u8(&y, 0));
    CHECK_OK(jose_b64url_encode(&y64, ccz_buf_span(&y)));
    json_t *bad = json_deep_copy(jwk);
    json_object_set_new(bad, "y", json_string((const char *)y64.ptr));
    EVP_PKEY *k = NULL;
    CHECK_STATUS(jose_jwk_to_key(&k, bad), CCZ_ERR_KEY_MALFORMED);
    CHECK_STR(ccz_error_detail(), "JWK: P-256 coordinates must be 32 bytes");
    CHECK(k == NULL);
    json_decref(bad);
    /* and one byte short (the first dropped): RFC 7518 §6.2.1.2 wants the full size */
    ccz_buf_reset(&y64);
    CHECK_OK(jose_b64url_encode(&y64, CCZ_SPAN(y.ptr + 1, 31)));
    bad = json_deep_copy(jwk);
    json_object_set_new(bad, "y", json_string((const char *)y64.ptr));
    CHECK_STATUS(jose_jwk_to_key(&k, bad), CCZ_ERR_KEY_MALFORMED);
    CHECK_STR(ccz_error_detail(), "JWK: P-256 coordinates must be 32 bytes");
    CHECK(k == NULL);
    json_decref(bad);
    ccz_buf_free(&y);
    ccz_buf_free(&y64);
    json_decref(jwk);
    /* every private member of RFC 7518 §6, on an RSA JWK that is otherwise fine */
    static const char *const priv[] = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"};
    for (size_t i = 0; i < CCZ_ARRAY_LEN(priv); i++) {
        json_t *j = rsa_jwk(rsa);
        CHECK_OK(jose_jwk_to_key(&k, j));
        EVP_PKEY_free(k);
        k = NULL;
        json_object_set_new(j, priv[i], json_string("AQAB"));
        CHECK_STATUS(jose_jwk_to_key(&k, j), CCZ_ERR_KEY_MALFORMED);
        char want[64];
        snprintf(want, sizeof want, "JWK: carries the private member \"%s\"", priv[i]);
        CHECK_STR(ccz_error_detail(), want);
        CHECK(k == NULL);
        json_decref(j);
    }
    /* RFC 7518 §6.2.1.2: a coordinate is the full size of the curve even when its first byte
     * is zero (a shorter one changes the thumbprint and other readers refuse it) */
    static const char *const coord[][2] = {{OSSL_PKEY_PARAM_EC_PUB_X, "x"},
                                           {OSSL_PKEY_PARAM_EC_PUB_Y, "y"}};
    for (size_t i = 0; i < CCZ_ARRAY_LEN(coord); i++) {
        EVP_PKEY *key = key_with_zero_lead(coord[i][0]);
        CHECK_OK(jose_jwk_from_key(&jwk, key, NULL, NULL));
        const char *v = json_string_value(json_object_get(jwk, coord[i][1]));
        CHECK_INT(strlen(v), 43);
        ccz_buf raw = CCZ_BUF_INIT;
        CHECK_OK(jose_b64url_decode(&raw, v, strlen(v)));
        CHECK(raw.len == 32 && raw.ptr[0] == 0);
        ccz_buf_free(&raw);
        CHECK_OK(jose_jwk_to_key(&k, jwk));
        CHECK(k && EVP_PKEY_eq(k, key) == 1);
        EVP_PKEY_free(k);
        k = NULL;
        json_decref(jwk);
        EVP_PKEY_free(key);
    }
}

static void test_jwe_checks_behind_others(void)
{
    setup();
    const char *msg = "secret resource";
    ccz_buf out = CCZ_BUF_INIT;
    char *ec = jwe_text(p256, JOSE_JWE_ECDH_ES_A256KW, msg);
    char *rs = jwe_text(rsa, JOSE_JWE_RSA_OAEP_256, msg);
    /* apu and apv must be base64url strings, wherever they sit */
    static const char *const party[][2] = {
        {"{\"apu\":7}", "JWE: \"apu\" is not base64url"},
        {"{\"apv\":true}", "JWE: \"apv\" is not base64url"},
        {"{\"apu\":\"!!\"}", "JWE: \"apu\" is not base64url"},
        {"{\"apv\":\"Zh\"}", "JWE: \"apv\" is not base64url"},
    };
    for (size_t i = 0; i < CCZ_ARRAY_LEN(party); i++) {
        json_t *j = parse(ec);
        json_object_set_new(j, "header", parse(party[i][0]));
        char *t = json_dumps(j, JSON_COMPACT);
        CHECK_STATUS(decrypt(&out, p256, t), CCZ_ERR_MALFORMED);
        CHECK_STR(ccz_error_detail(), party[i][1]);
        free(t);
        json_decref(j);
    }
    /* an "aad" that is not base64url is malformed (it is authenticated as its text) */
    {
        json_t *j = parse(rs);
        json_object_set_new(j, "aad", json_string("a+b"));
        char *t = json_dumps(j, JSON_COMPACT);
        CHECK_STATUS(decrypt(&out, rsa, t), CCZ_ERR_MALFORMED);
        CHECK_CONTAINS(ccz_error_detail(), "JWE \"aad\"");
        free(t);
        json_decref(j);
    }
    /* a tag of 17 bytes (GCM would read its first 16: another text for the same JWE), and an
     * ECDH-ES encrypted_key of 32 bytes (the AES key wrap of a 24-byte key) */
    {
        json_t *j = parse(rs);
        const char *tags = json_string_value(json_object_get(j, "tag"));
        ccz_buf tag = CCZ_BUF_INIT, tag64 = CCZ_BUF_INIT;
        CHECK_OK(jose_b64url_decode(&tag, tags, strlen(tags)));
        CHECK_OK(ccz_buf_append_u8(&tag, 0));
        CHECK_OK(jose_b64url_encode(&tag64, ccz_buf_span(&tag)));
        json_object_set_new(j, "tag", json_string((const char *)tag64.ptr));
        char *t = json_dumps(j, JSON_COMPACT);
        CHECK_STATUS(decrypt(&out, rsa, t), CCZ_ERR_MALFORMED);
        CHECK_STR(ccz_error_detail(), "JWE: A256GCM needs a 12-byte iv and a 16-byte tag");
        free(t);
        json_decref(j);
        ccz_buf_free(&tag);
        ccz_buf_free(&tag64);
        j = parse(ec);
        json_object_set_new(j, "encrypted_key",
                            json_string("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")); /* 32 */
        t = json_dumps(j, JSON_COMPACT);
        CHECK_STATUS(decrypt(&out, p256, t), CCZ_ERR_MALFORMED);
        CHECK_STR(ccz_error_detail(),
                  "JWE: ECDH-ES+A256KW needs an epk and a 40-byte encrypted_key");
        free(t);
        json_decref(j);
    }
    /* a wrong tag leaves no plaintext in the buffer: GCM wrote it before the tag was checked */
    const struct {
        EVP_PKEY *key;
        const char *text;
    } wiped[] = {{p256, ec}, {rsa, rs}};
    for (size_t i = 0; i < CCZ_ARRAY_LEN(wiped); i++) {
        char *bad = flip_member(wiped[i].text, "tag", 0);
        ccz_buf o = CCZ_BUF_INIT;
        CHECK_STATUS(decrypt(&o, wiped[i].key, bad), CCZ_ERR_BAD_SIGNATURE);
        CHECK_INT(o.len, 0);
        CHECK(o.ptr != NULL);
        size_t nonzero = 0;
        for (size_t b = 0; o.ptr && b < strlen(msg); b++)
            nonzero += o.ptr[b] != 0;
        CHECK_INT(nonzero, 0);
        ccz_buf_free(&o);
        free(bad);
    }
    /* a payload one byte over 16 times JOSE_MAX_INPUT is refused before it is read */
    {
        size_t n = (size_t)JOSE_MAX_INPUT * 16u + 1;
        uint8_t *big = calloc(1, n);
        CHECK(big != NULL);
        json_t *j = NULL;
        CHECK_STATUS(jose_jwe_encrypt(&j, p256, JOSE_JWE_ECDH_ES_A256KW, CCZ_SPAN(big, n)),
                     CCZ_ERR_TOO_LARGE);
        char want[64];
        snprintf(want, sizeof want, "JWE: payload of %zu bytes is too large", n);
        CHECK_STR(ccz_error_detail(), want);
        CHECK(j == NULL);
        free(big);
    }
    /* the JWE text itself: JOSE_MAX_INPUT bytes are parsed (a JSON array, so refused as not a
     * JWE), one byte more is refused unread */
    {
        size_t n = JOSE_MAX_INPUT + 1;
        char *big = malloc(n + 1);
        CHECK(big != NULL);
        memset(big, ' ', n);
        big[0] = '[';
        big[n - 2] = ']';
        big[n] = 0;
        CHECK_STATUS(jose_jwe_decrypt(&out, rsa, big, n - 1), CCZ_ERR_MALFORMED);
        CHECK_STR(ccz_error_detail(), "JWE: not a JSON object");
        CHECK_STATUS(jose_jwe_decrypt(&out, rsa, big, n), CCZ_ERR_TOO_LARGE);
        CHECK_STR(ccz_error_detail(), "JSON of 1048577 bytes exceeds the 1048576-byte limit");
        CHECK_INT(out.len, 0);
        free(big);
    }
    free(ec);
    free(rs);
    ccz_buf_free(&out);
}

/* ---- the JWE's key derivation and CEK fallback against an independent construction -------*/

/* AES-256-GCM (12-byte iv, 16-byte tag) with OpenSSL directly, as a JWE's content is made. */
static void gcm_seal(uint8_t *ct, uint8_t tag[16], const uint8_t key[32], const uint8_t iv[12],
                     const char *aad, const char *msg)
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int n = 0, m = 0;
    CHECK(c && EVP_EncryptInit_ex2(c, EVP_aes_256_gcm(), key, iv, NULL) == 1 &&
          EVP_EncryptUpdate(c, NULL, &n, (const uint8_t *)aad, (int)strlen(aad)) == 1 &&
          EVP_EncryptUpdate(c, ct, &n, (const uint8_t *)msg, (int)strlen(msg)) == 1 &&
          EVP_EncryptFinal_ex(c, ct + n, &m) == 1 &&
          EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, 16, tag) == 1);
    EVP_CIPHER_CTX_free(c);
}

/* A flattened JWE from its protected header text and raw parts. */
static char *jwe_from_parts(const char *prot_json, ccz_span ek, const uint8_t iv[12],
                            const uint8_t *key, const char *msg)
{
    ccz_buf prot = CCZ_BUF_INIT, b = CCZ_BUF_INIT;
    CHECK_OK(jose_b64url_encode(&prot, CCZ_SPAN(prot_json, strlen(prot_json))));
    uint8_t ct[256], tag[16];
    CHECK(strlen(msg) <= sizeof ct);
    gcm_seal(ct, tag, key, iv, (const char *)prot.ptr, msg);
    json_t *j = json_pack("{s:s}", "protected", (const char *)prot.ptr);
    const struct {
        const char *name;
        ccz_span v;
    } parts[] = {{"encrypted_key", ek},
                 {"iv", CCZ_SPAN(iv, 12)},
                 {"ciphertext", CCZ_SPAN(ct, strlen(msg))},
                 {"tag", CCZ_SPAN(tag, 16)}};
    for (size_t i = 0; i < CCZ_ARRAY_LEN(parts); i++) {
        ccz_buf_reset(&b);
        CHECK_OK(jose_b64url_encode(&b, parts[i].v));
        json_object_set_new(j, parts[i].name, json_string(b.ptr ? (const char *)b.ptr : ""));
    }
    char *out = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    ccz_buf_free(&prot);
    ccz_buf_free(&b);
    return out;
}

static void put_be32(uint8_t *p, size_t v)
{
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* The ECDH-ES+A256KW JWE of msg to recipient, built here from RFC 7518 §4.6 with OpenSSL's
 * primitives (ECDH, SHA-256, AES key wrap, AES-GCM): the Concat KDF is one SHA-256 of
 * 00000001 || Z || OtherInfo, OtherInfo = len "ECDH-ES+A256KW" len apu len apv 00000100. The
 * header names apu and apv (NULL: not at all), in the protected header or, when unprotected,
 * in the "header" member; the key-encryption key is derived with kdf_apu and kdf_apv. */
static char *ecdh_jwe_by_hand(EVP_PKEY *recipient, const char *apu, const char *apv,
                              bool unprotected, const char *kdf_apu, const char *kdf_apv,
                              const char *msg)
{
    EVP_PKEY *eph = EVP_EC_gen("P-256");
    uint8_t z[32];
    size_t z_len = sizeof z;
    EVP_PKEY_CTX *d = EVP_PKEY_CTX_new_from_pkey(NULL, eph, NULL);
    CHECK(d && EVP_PKEY_derive_init(d) == 1 && EVP_PKEY_derive_set_peer(d, recipient) == 1 &&
          EVP_PKEY_derive(d, z, &z_len) == 1 && z_len == 32);
    EVP_PKEY_CTX_free(d);
    /* the Concat KDF's input: counter, Z, OtherInfo (apu and apv decoded) */
    uint8_t in[512];
    size_t n = 0;
    ccz_buf u = CCZ_BUF_INIT, v = CCZ_BUF_INIT;
    CHECK_OK(jose_b64url_decode(&u, kdf_apu, strlen(kdf_apu)));
    CHECK_OK(jose_b64url_decode(&v, kdf_apv, strlen(kdf_apv)));
    CHECK(u.len + v.len < 256);
    put_be32(in + n, 1), n += 4;
    memcpy(in + n, z, 32), n += 32;
    put_be32(in + n, 14), n += 4;
    memcpy(in + n, "ECDH-ES+A256KW", 14), n += 14;
    put_be32(in + n, u.len), n += 4;
    if (u.len)
        memcpy(in + n, u.ptr, u.len), n += u.len;
    put_be32(in + n, v.len), n += 4;
    if (v.len)
        memcpy(in + n, v.ptr, v.len), n += v.len;
    put_be32(in + n, 256), n += 4;
    uint8_t kek[32];
    CHECK(EVP_Digest(in, n, kek, NULL, EVP_sha256(), NULL) == 1);
    /* a CEK wrapped with AES-256 key wrap (RFC 3394) */
    uint8_t cek[32], wrapped[40], iv[12];
    for (size_t i = 0; i < 32; i++)
        cek[i] = (uint8_t)(0xa0 + i);
    memset(iv, 0x5c, sizeof iv);
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int w = 0, f = 0;
    CHECK(c != NULL);
    EVP_CIPHER_CTX_set_flags(c, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
    CHECK(EVP_EncryptInit_ex2(c, EVP_aes_256_wrap(), kek, NULL, NULL) == 1 &&
          EVP_EncryptUpdate(c, wrapped, &w, cek, 32) == 1 &&
          EVP_EncryptFinal_ex(c, wrapped + w, &f) == 1 && w + f == 40);
    EVP_CIPHER_CTX_free(c);
    json_t *epk = NULL;
    CHECK_OK(jose_jwk_from_key(&epk, eph, NULL, NULL));
    json_object_del(epk, "kid");
    json_t *hdr =
        json_pack("{s:s, s:s, s:O}", "alg", "ECDH-ES+A256KW", "enc", "A256GCM", "epk", epk);
    json_t *party = unprotected ? json_object() : json_incref(hdr);
    if (apu)
        json_object_set_new(party, "apu", json_string(apu));
    if (apv)
        json_object_set_new(party, "apv", json_string(apv));
    char *hdr_text = json_dumps(hdr, JSON_COMPACT);
    char *text = jwe_from_parts(hdr_text, CCZ_SPAN(wrapped, 40), iv, cek, msg);
    char *out = text;
    if (unprotected) {
        json_t *j = parse(text);
        json_object_set(j, "header", party);
        out = json_dumps(j, JSON_COMPACT);
        json_decref(j);
        free(text);
    }
    free(hdr_text);
    json_decref(party);
    json_decref(hdr);
    json_decref(epk);
    ccz_buf_free(&u);
    ccz_buf_free(&v);
    EVP_PKEY_free(eph);
    return out;
}

static void test_jwe_independent(void)
{
    setup();
    const char *msg = "made without jose_jwe_encrypt";
    ccz_buf out = CCZ_BUF_INIT;
    /* apu and apv enter the Concat KDF decoded and length-prefixed, apu first, from the
     * protected header or the unprotected one; absent, they are empty */
    static const struct {
        const char *apu, *apv;
        bool unprotected;
        const char *kdf_apu, *kdf_apv;
    } ok[] = {{"QWxpY2U", "Qm9i", false, "QWxpY2U", "Qm9i"},
              {"QWxpY2U", "Qm9i", true, "QWxpY2U", "Qm9i"},
              {NULL, "Qm9i", false, "", "Qm9i"},
              {"QWxpY2U", NULL, true, "QWxpY2U", ""},
              {NULL, NULL, false, "", ""}};
    for (size_t i = 0; i < CCZ_ARRAY_LEN(ok); i++) {
        char *t = ecdh_jwe_by_hand(p256, ok[i].apu, ok[i].apv, ok[i].unprotected, ok[i].kdf_apu,
                                   ok[i].kdf_apv, msg);
        CHECK_OK(decrypt(&out, p256, t));
        CHECK_STR(out.ptr ? (const char *)out.ptr : "", msg);
        free(t);
    }
    /* a key-encryption key derived with apu and apv swapped, or without them, does not
     * unwrap the CEK of a JWE whose header names them */
    static const char *const bad[][2] = {{"Qm9i", "QWxpY2U"}, {"", ""}, {"QWxpY2U", ""}};
    for (size_t i = 0; i < CCZ_ARRAY_LEN(bad); i++) {
        char *t = ecdh_jwe_by_hand(p256, "QWxpY2U", "Qm9i", false, bad[i][0], bad[i][1], msg);
        CHECK_STATUS(decrypt(&out, p256, t), CCZ_ERR_BAD_SIGNATURE);
        CHECK_STR(ccz_error_detail(), "JWE: cannot decrypt with this key");
        CHECK_INT(out.len, 0);
        free(t);
    }
    /* RSA-OAEP-256: an encrypted_key of the right length that does not decode (the integer
     * 2) must not leave a predictable CEK behind. Content sealed under the all-zero CEK (what
     * a zeroed buffer would give) is refused as any wrong tag is. */
    {
        size_t n = (size_t)EVP_PKEY_get_size(rsa);
        uint8_t *ek = calloc(1, n), zero[32] = {0}, iv[12] = {0};
        CHECK(ek != NULL);
        ek[n - 1] = 2;
        char *t = jwe_from_parts("{\"alg\":\"RSA-OAEP-256\",\"enc\":\"A256GCM\"}", CCZ_SPAN(ek, n),
                                 iv, zero, msg);
        CHECK_STATUS(decrypt(&out, rsa, t), CCZ_ERR_BAD_SIGNATURE);
        CHECK_STR(ccz_error_detail(), "JWE: cannot decrypt with this key");
        CHECK_INT(out.len, 0);
        free(t);
        free(ek);
    }
    ccz_buf_free(&out);
}

/* Limits at their exact values: an RSA JWK of 2047 bits is refused and one of 16384 accepted
 * (only its size is checked here: an odd modulus, e = 65537); a 2047-bit RSA key is not a JWE
 * recipient; a JWE without "protected" is malformed, not JSON read from nothing. */
static void test_limits_exact(void)
{
    setup();
    static const struct {
        size_t bytes;
        uint8_t top;
        ccz_status want;
        const char *detail;
    } rsa_sizes[] = {
        {256, 0x7f, CCZ_ERR_UNSUPPORTED, "JWK: RSA key of 2047 bits (2048 to 16384 accepted)"},
        {2048, 0x80, CCZ_OK, NULL},
    };
    for (size_t i = 0; i < CCZ_ARRAY_LEN(rsa_sizes); i++) {
        uint8_t *raw = malloc(rsa_sizes[i].bytes);
        CHECK(raw != NULL);
        for (size_t b = 0; b < rsa_sizes[i].bytes; b++)
            raw[b] = (uint8_t)(0x9b + 37 * b);
        raw[0] = rsa_sizes[i].top;
        raw[rsa_sizes[i].bytes - 1] |= 1;
        ccz_buf nb = CCZ_BUF_INIT;
        CHECK_OK(jose_b64url_encode(&nb, CCZ_SPAN(raw, rsa_sizes[i].bytes)));
        json_t *j =
            json_pack("{s:s, s:s, s:s}", "kty", "RSA", "n", (const char *)nb.ptr, "e", "AQAB");
        EVP_PKEY *k = NULL;
        CHECK_STATUS(jose_jwk_to_key(&k, j), rsa_sizes[i].want);
        if (rsa_sizes[i].detail) {
            CHECK_STR(ccz_error_detail(), rsa_sizes[i].detail);
            CHECK(k == NULL);
        } else {
            CHECK(k && EVP_PKEY_get_bits(k) == 16384);
        }
        EVP_PKEY_free(k);
        json_decref(j);
        ccz_buf_free(&nb);
        free(raw);
    }
    /* (0, 0), what a point at infinity would read as in fixed-size coordinates: not a key */
    {
        json_t *j = json_pack("{s:s, s:s, s:s, s:s}", "kty", "EC", "crv", "P-256", "x",
                              "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "y",
                              "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
        EVP_PKEY *k = NULL;
        CHECK_STATUS(jose_jwk_to_key(&k, j), CCZ_ERR_KEY_MALFORMED);
        CHECK_CONTAINS(ccz_error_detail(), "JWK: not a valid EC public key");
        CHECK(k == NULL);
        json_decref(j);
    }
    EVP_PKEY *small = EVP_RSA_gen(2047);
    CHECK(small && EVP_PKEY_get_bits(small) == 2047);
    json_t *none = NULL;
    const char *msg = "x";
    static const jose_jwe_alg algs[] = {JOSE_JWE_RSA_OAEP_256, JOSE_JWE_RSA1_5};
    for (size_t i = 0; i < CCZ_ARRAY_LEN(algs); i++) {
        CHECK_STATUS(jose_jwe_encrypt(&none, small, algs[i], CCZ_SPAN(msg, 1)),
                     CCZ_ERR_UNSUPPORTED);
        char want[80];
        snprintf(want, sizeof want, "JWE: %s needs an RSA key of 2048 bits or more",
                 jose_jwe_alg_name(algs[i]));
        CHECK_STR(ccz_error_detail(), want);
        CHECK(none == NULL);
    }
    EVP_PKEY_free(small);
    /* a JWE without "protected", or with one that is not a string */
    char *rs = jwe_text(rsa, JOSE_JWE_RSA_OAEP_256, msg);
    ccz_buf out = CCZ_BUF_INIT;
    for (int i = 0; i < 2; i++) {
        json_t *j = parse(rs);
        if (i)
            json_object_set_new(j, "protected", json_integer(7));
        else
            json_object_del(j, "protected");
        char *t = json_dumps(j, JSON_COMPACT);
        CHECK_STATUS(decrypt(&out, rsa, t), CCZ_ERR_MALFORMED);
        CHECK_STR(ccz_error_detail(), "JWE: \"protected\" is missing or not a string");
        free(t);
        json_decref(j);
    }
    ccz_buf_free(&out);
    free(rs);
}

/* Exact outcomes the tests above leave to chance: the alg allow-list matches whole names only
 * (a prefix of ES256 is not ES256), a token of exactly JOSE_MAX_INPUT bytes is read, and a
 * signer refuses a key that is not on P-256 or P-384 before it signs anything. */
static void test_jws_exact_edges(void)
{
    setup();
    const char *payload = "{\"exp\":2000}";
    static const char *const prefixes[] = {"{\"alg\":\"ES25\"}", "{\"alg\":\"E\"}",
                                           "{\"alg\":\"\"}"};
    for (size_t i = 0; i < CCZ_ARRAY_LEN(prefixes); i++) {
        char *t = forge(prefixes[i], payload, p256, EVP_sha256(), 32);
        CHECK_STATUS(verify(p256, t, 0), CCZ_ERR_UNSUPPORTED);
        CHECK_CONTAINS(ccz_error_detail(), "is not allowed");
        free(t);
    }
    /* a token of exactly the limit: the padding claim's length decides the token's (base64url
     * never ends at 4k+1 characters, so a longer kid shifts the rest when needed) */
    bool exact = false;
    static const char *const kids[] = {"k1", "k12", "k123"};
    char *s = malloc(JOSE_MAX_INPUT);
    CHECK(s != NULL);
    memset(s, 'a', JOSE_MAX_INPUT);
    for (size_t i = 0; i < CCZ_ARRAY_LEN(kids) && !exact; i++) {
        size_t pad = JOSE_MAX_INPUT / 2, first = 0;
        for (size_t round = 0; round < 13 && !exact; round++) {
            json_t *c = json_pack("{s:I, s:s%}", "exp", (json_int_t)2000, "p", s, pad);
            ccz_buf tok = CCZ_BUF_INIT;
            CHECK_OK(jose_jwt_sign(&tok, p256, kids[i], c));
            if (tok.len == JOSE_MAX_INPUT) {
                exact = true;
                CHECK_OK(verify(p256, (const char *)tok.ptr, 0));
            }
            if (round == 0) /* four characters of token for three bytes of claims */
                first = pad + (JOSE_MAX_INPUT - tok.len) / 4 * 3 - 6;
            pad = first + round;
            ccz_buf_free(&tok);
            json_decref(c);
        }
    }
    free(s);
    CHECK(exact);
    /* RSA: no JWS algorithm here signs with it, whatever kid is given */
    json_t *claims = claims_at(1000, 2000);
    ccz_buf out = CCZ_BUF_INIT;
    CHECK_STATUS(jose_jwt_sign(&out, rsa, "k1", claims), CCZ_ERR_UNSUPPORTED);
    CHECK_STR(ccz_error_detail(), "JWS: signing needs an EC key on P-256 or P-384");
    CHECK(out.len == 0);
    jose_signer *sg = NULL;
    CHECK_STATUS(jose_signer_new(&sg, p521, "k1"), CCZ_ERR_UNSUPPORTED);
    CHECK(sg == NULL);
    ccz_buf_free(&out);
    json_decref(claims);
}

/* Issuer and audience are compared whole, in both orders: an issuer that sorts after the one
 * expected, an audience that shares its first bytes with the one expected. */
static void test_claims_exact_names(void)
{
    const char *c = "{\"iss\":\"zcz\",\"exp\":2000}";
    CHECK_STATUS(check(c, 1000, 0, "ccz", NULL), CCZ_ERR_POLICY_REJECTED);
    CHECK_STR(ccz_error_detail(), "JWT: issuer is not \"ccz\"");
    CHECK_OK(check(c, 1000, 0, "zcz", NULL));
    CHECK_STATUS(check("{\"exp\":2000,\"aud\":\"kbs-other\"}", 1000, 0, NULL, "kbs-mine"),
                 CCZ_ERR_POLICY_REJECTED);
    CHECK_STATUS(check("{\"exp\":2000,\"aud\":\"kbs-mine2\"}", 1000, 0, NULL, "kbs-mine"),
                 CCZ_ERR_POLICY_REJECTED);
    CHECK_STATUS(check("{\"exp\":2000,\"aud\":[\"kbs-other\",\"zzz\"]}", 1000, 0, NULL, "kbs-mine"),
                 CCZ_ERR_POLICY_REJECTED);
    CHECK_STR(ccz_error_detail(), "JWT: audience is not \"kbs-mine\"");
    CHECK_OK(check("{\"exp\":2000,\"aud\":[\"zzz\",\"kbs-mine\"]}", 1000, 0, NULL, "kbs-mine"));
}

/* A JWK's crv is one of the names whole: a name that only begins like one is not that curve. */
static void test_jwk_crv_exact(void)
{
    setup();
    json_t *jwk = NULL;
    CHECK_OK(jose_jwk_from_key(&jwk, p256, NULL, NULL));
    static const char *const near[] = {"P-2", "P-25", "P-256 ", "P-2560", "p-256"};
    for (size_t i = 0; i < CCZ_ARRAY_LEN(near); i++) {
        json_object_set_new(jwk, "crv", json_string(near[i]));
        EVP_PKEY *k = NULL;
        CHECK_STATUS(jose_jwk_to_key(&k, jwk), CCZ_ERR_UNSUPPORTED);
        CHECK_STR(ccz_error_detail(), "JWK: crv is not P-256, P-384 or P-521");
        CHECK(k == NULL);
    }
    json_decref(jwk);
}

/* RSA-OAEP-256 and RSA1_5 need an RSA key: an RSA-PSS key of 2048 bits is refused before any
 * encryption is tried. */
static void test_jwe_rsa_key_type(void)
{
    EVP_PKEY *pss = NULL;
    EVP_PKEY_CTX *gen = EVP_PKEY_CTX_new_from_name(NULL, "RSA-PSS", NULL);
    CHECK(gen && EVP_PKEY_keygen_init(gen) == 1 &&
          EVP_PKEY_CTX_set_rsa_keygen_bits(gen, 2048) == 1 && EVP_PKEY_keygen(gen, &pss) == 1);
    EVP_PKEY_CTX_free(gen);
    CHECK(pss && EVP_PKEY_get_bits(pss) == 2048);
    json_t *out = NULL;
    CHECK_STATUS(jose_jwe_encrypt(&out, pss, JOSE_JWE_RSA_OAEP_256, CCZ_SPAN("x", 1)),
                 CCZ_ERR_UNSUPPORTED);
    CHECK_STR(ccz_error_detail(), "JWE: RSA-OAEP-256 needs an RSA key of 2048 bits or more");
    CHECK(out == NULL);
    EVP_PKEY_free(pss);
}

/* An ECDH-ES JWE offered to a key that is not EC fails as a wrong key, before its own shape is
 * looked at (as RSA-OAEP-256 with a key that is not RSA does). */
static void test_jwe_ecdh_key_type(void)
{
    setup();
    char *t = jwe_text(p256, JOSE_JWE_ECDH_ES_A256KW, "x");
    json_t *j = parse(t);
    json_object_set_new(j, "encrypted_key", json_string("AAAA"));
    char *bad = json_dumps(j, JSON_COMPACT);
    ccz_buf out = CCZ_BUF_INIT;
    CHECK_STATUS(decrypt(&out, rsa, bad), CCZ_ERR_BAD_SIGNATURE);
    CHECK_STR(ccz_error_detail(), "JWE: cannot decrypt with this key");
    CHECK_INT(out.len, 0);
    /* the same JWE to the P-256 key: now its encrypted_key is what is wrong */
    CHECK_STATUS(decrypt(&out, p256, bad), CCZ_ERR_MALFORMED);
    ccz_buf_free(&out);
    json_decref(j);
    free(bad);
    free(t);
}

/* Each base64url member of a JWE is checked as itself: a missing or undecodable iv is named,
 * not reported as an iv of the wrong length. */
static void test_jwe_iv_named(void)
{
    setup();
    char *rs = jwe_text(rsa, JOSE_JWE_RSA_OAEP_256, "x");
    ccz_buf out = CCZ_BUF_INIT;
    json_t *j = parse(rs);
    json_object_del(j, "iv");
    char *t = json_dumps(j, JSON_COMPACT);
    CHECK_STATUS(decrypt(&out, rsa, t), CCZ_ERR_MALFORMED);
    CHECK_STR(ccz_error_detail(), "JWE: \"iv\" is missing or not a string");
    free(t);
    json_object_set_new(j, "iv", json_string("AAAAAAAAAAAAAAA*"));
    t = json_dumps(j, JSON_COMPACT);
    CHECK_STATUS(decrypt(&out, rsa, t), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "JWE \"iv\"");
    free(t);
    CHECK_INT(out.len, 0);
    json_decref(j);
    ccz_buf_free(&out);
    free(rs);
}

/* Refusals whose status another check would also give, told apart by their detail: a protected
 * header that is not an object, an epk that is not a JWK object, apu or apv that are not
 * base64url, and a token without kid against a JWKS of two keys. */
static void test_refusals_named(void)
{
    setup();
    ccz_buf out = CCZ_BUF_INIT;
    char *rs = jwe_text(rsa, JOSE_JWE_RSA_OAEP_256, "x");
    char *t = with_header(rs, "[\"RSA-OAEP-256\",\"A256GCM\"]");
    CHECK_STATUS(decrypt(&out, rsa, t), CCZ_ERR_MALFORMED);
    CHECK_STR(ccz_error_detail(), "JWE: the protected header is not a JSON object");
    free(t);
    free(rs);
    char *ec = jwe_text(p256, JOSE_JWE_ECDH_ES_A256KW, "x");
    t = with_header(ec, "{\"alg\":\"ECDH-ES+A256KW\",\"enc\":\"A256GCM\",\"epk\":\"P-256\"}");
    CHECK_STATUS(decrypt(&out, p256, t), CCZ_ERR_MALFORMED);
    CHECK_STR(ccz_error_detail(), "JWE: ECDH-ES+A256KW needs an epk and a 40-byte encrypted_key");
    free(t);
    /* made without apu and apv, so decoding them as nothing would decrypt */
    static const char *const party[][2] = {{"apu", "JWE: \"apu\" is not base64url"},
                                           {"apv", "JWE: \"apv\" is not base64url"}};
    for (size_t i = 0; i < CCZ_ARRAY_LEN(party); i++) {
        json_t *j = parse(ec);
        json_object_set_new(j, "header", json_pack("{s:s}", party[i][0], "QUJD!"));
        t = json_dumps(j, JSON_COMPACT);
        CHECK_STATUS(decrypt(&out, p256, t), CCZ_ERR_MALFORMED);
        CHECK_STR(ccz_error_detail(), party[i][1]);
        free(t);
        json_decref(j);
    }
    /* a member of another JSON type is refused as such, not read as empty bytes */
    json_t *j = parse(ec);
    json_object_set_new(j, "ciphertext", json_integer(5));
    t = json_dumps(j, JSON_COMPACT);
    CHECK_STATUS(decrypt(&out, p256, t), CCZ_ERR_MALFORMED);
    CHECK_STR(ccz_error_detail(), "JWE: \"ciphertext\" is missing or not a string");
    free(t);
    json_decref(j);
    CHECK_INT(out.len, 0);
    free(ec);
    /* a header or payload that is not base64url is a malformed token (not an encoding error of
     * the caller's) */
    json_t *claims = claims_at(1000, 2000);
    char *tok = sign(p256, "k1", claims);
    static const char *const part[] = {"JWS header", "JWS payload"};
    for (size_t i = 0; i < CCZ_ARRAY_LEN(part); i++) {
        char *bad = strdup(tok);
        *(i ? strchr(bad, '.') + 1 : bad) = '*';
        CHECK_STATUS(verify(p256, bad, 0), CCZ_ERR_MALFORMED);
        CHECK_CONTAINS(ccz_error_detail(), part[i]);
        CHECK_CONTAINS(ccz_error_detail(), "character 0 is not in the alphabet");
        free(bad);
    }
    free(tok);
    json_decref(claims);
    /* no kid, two keys: refused for the missing kid, not looked up as kid "" */
    json_t *jwks = NULL;
    EVP_PKEY *keys[] = {p256, p256b};
    CHECK_OK(jose_jwks_from_keys(&jwks, keys, 2));
    t = forge("{\"alg\":\"ES256\"}", "{\"exp\":2000}", p256, EVP_sha256(), 32);
    CHECK_STATUS(verify_jwks(jwks, t), CCZ_ERR_NOT_FOUND);
    CHECK_STR(ccz_error_detail(), "JWS header: no kid, and the JWKS has 2 keys");
    free(t);
    json_decref(jwks);
    ccz_buf_free(&out);
}

TEST_MAIN(T(test_b64url), T(test_jcs), T(test_thumbprint), T(test_jwk_ec), T(test_jwk_rsa),
          T(test_jwks), T(test_jwt_roundtrip), T(test_jwt_signer), T(test_jwt_refused),
          T(test_claims), T(test_untrusted_bounds), T(test_jwe_roundtrip), T(test_jwe_refused),
          T(test_jws_checks_behind_others), T(test_jwk_checks_behind_others),
          T(test_jwe_checks_behind_others), T(test_jwe_independent), T(test_limits_exact),
          T(test_jws_exact_edges), T(test_claims_exact_names), T(test_jwk_crv_exact),
          T(test_jwe_rsa_key_type), T(test_jwe_ecdh_key_type), T(test_jwe_iv_named),
          T(test_refusals_named))
