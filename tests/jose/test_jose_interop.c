/* SPDX-License-Identifier: Apache-2.0 */
/* JOSE interop against independent implementations: Debian's python3-jwt (PyJWT),
 * python3-jwcrypto and python3-cryptography, driven through tests/jose/jose_peer.py. Our
 * ES256/ES384 tokens verify with PyJWT against our JWKS and PyJWT's verify with ours; forged
 * PyJWT tokens (another key, none, HS256 keyed with the public key, expired, not yet valid)
 * are refused with their exact status; our JWEs decrypt with jwcrypto and jwcrypto's with ours
 * (also with apu, apv and aad); thumbprints agree; JCS output matches a Python RFC 8785
 * serializer on names that sort differently by UTF-16 code unit and by code point. Skipped (77) when Python or those packages
 * are missing. */
#include <stdarg.h>
#include <sys/wait.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "jose/jose.h"
#include "test.h"

#define PY "/usr/bin/python3"

static char peer[1024];
static EVP_PKEY *p256, *p384, *p521, *rsa, *other;
static json_t *jwks;
static char kid256[JOSE_THUMBPRINT_LEN + 1], kid384[JOSE_THUMBPRINT_LEN + 1];

/* Runs the peer with the formatted arguments; its standard output (trimmed) goes to out. */
static int run(ccz_buf *out, const char *fmt, ...) CCZ_PRINTF(2, 3);
static int run(ccz_buf *out, const char *fmt, ...)
{
    char args[16384], cmd[sizeof args + sizeof peer + 32];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, PY " %s %s", peer, args);
    ccz_buf_reset(out);
    FILE *f = popen(cmd, "r");
    if (!f)
        return -1;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (ccz_buf_append(out, chunk, n) != CCZ_OK)
            break;
    int st = pclose(f);
    while (out->len && (out->ptr[out->len - 1] == '\n' || out->ptr[out->len - 1] == '\r'))
        out->ptr[--out->len] = 0;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static const char *path(const char *name)
{
    static char p[8][512];
    static int i;
    i = (i + 1) % 8;
    snprintf(p[i], sizeof p[i], "%s/%s", test_tmpdir(), name);
    return p[i];
}

static void write_text(const char *name, const char *text)
{
    CHECK_OK(ccz_file_write(path(name), CCZ_SPAN(text, strlen(text)), 0600));
}

static void write_key(const char *name, EVP_PKEY *key, bool priv)
{
    FILE *f = fopen(path(name), "w");
    CHECK(f != NULL);
    if (!f)
        return;
    CHECK((priv ? PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL)
                : PEM_write_PUBKEY(f, key)) == 1);
    fclose(f);
}

static void setup(void)
{
    if (p256)
        return;
    const char *src = getenv("CCZ_SOURCE_DIR");
    snprintf(peer, sizeof peer, "%s/tests/jose/jose_peer.py", src ? src : ".");
    if (system(PY " -c 'import jwt, jwcrypto, cryptography' 2>/dev/null") != 0)
        test_skip(false, PY " with python3-jwt, python3-jwcrypto and python3-cryptography "
                            "is not available");
    p256 = EVP_EC_gen("P-256");
    p384 = EVP_EC_gen("P-384");
    p521 = EVP_EC_gen("P-521");
    other = EVP_EC_gen("P-256");
    rsa = EVP_RSA_gen(2048);
    CHECK(p256 && p384 && p521 && other && rsa);
    EVP_PKEY *keys[] = {p256, p384};
    CHECK_OK(jose_jwks_from_keys(&jwks, keys, 2));
    char *text = json_dumps(jwks, JSON_COMPACT);
    write_text("jwks.json", text);
    free(text);
    snprintf(kid256, sizeof kid256, "%s",
             json_string_value(
                 json_object_get(json_array_get(json_object_get(jwks, "keys"), 0), "kid")));
    snprintf(kid384, sizeof kid384, "%s",
             json_string_value(
                 json_object_get(json_array_get(json_object_get(jwks, "keys"), 1), "kid")));
    static const struct {
        const char *name;
        EVP_PKEY **key;
    } k[] = {{"p256", &p256}, {"p384", &p384}, {"p521", &p521}, {"rsa", &rsa}, {"other", &other}};
    for (size_t i = 0; i < CCZ_ARRAY_LEN(k); i++) {
        char n[64];
        snprintf(n, sizeof n, "%s.key", k[i].name);
        write_key(n, *k[i].key, true);
        snprintf(n, sizeof n, "%s.pub", k[i].name);
        write_key(n, *k[i].key, false);
    }
}

static void test_our_tokens_verify_with_pyjwt(void)
{
    setup();
    json_t *claims =
        json_pack("{s:s, s:I, s:I, s:{s:s}}", "iss", "ccz", "iat", (json_int_t)1000, "exp",
                  (json_int_t)4000000000, "ear.verifier-id", "build", "ccz-test");
    char *want = json_dumps(claims, JSON_COMPACT | JSON_SORT_KEYS);
    EVP_PKEY *keys[] = {p256, p384};
    ccz_buf tok = CCZ_BUF_INIT, out = CCZ_BUF_INIT;
    for (size_t i = 0; i < 2; i++) {
        ccz_buf_reset(&tok);
        CHECK_OK(jose_jwt_sign(&tok, keys[i], NULL, claims));
        CHECK_INT(run(&out, "jwt-verify %s %s", path("jwks.json"), (const char *)tok.ptr), 0);
        CHECK_STR((const char *)out.ptr, want);
    }
    /* PyJWT refuses ours when the signature is changed: the peer is not a yes-man */
    size_t last = tok.len - 2;
    tok.ptr[last] = tok.ptr[last] == 'A' ? 'B' : 'A';
    CHECK_INT(run(&out, "jwt-verify %s %s 2>/dev/null", path("jwks.json"), (const char *)tok.ptr),
              1);
    free(want);
    json_decref(claims);
    ccz_buf_free(&tok);
    ccz_buf_free(&out);
}

/* A PyJWT token with the given claims, signed by the key file, with kid. */
static void pyjwt_sign(ccz_buf *tok, const char *key, const char *kid, const char *claims)
{
    write_text("claims.json", claims);
    CHECK_INT(run(tok, "jwt-sign %s %s %s", path(key), kid, path("claims.json")), 0);
}

static ccz_status verify_and_check(const char *token, int64_t now)
{
    json_t *claims = NULL;
    ccz_status s = jose_jwt_verify_jwks(&claims, jwks, token, strlen(token), 0);
    if (s == CCZ_OK) {
        jose_claims_check c = {.now = now, .leeway = 30, .iss = "peer"};
        s = jose_jwt_check_claims(claims, &c);
    }
    json_decref(claims);
    return s;
}

static void test_pyjwt_tokens_verify_with_ours(void)
{
    setup();
    ccz_buf tok = CCZ_BUF_INIT, out = CCZ_BUF_INIT;
    const char *claims = "{\"iss\":\"peer\",\"iat\":1000,\"nbf\":1000,\"exp\":2000}";
    pyjwt_sign(&tok, "p256.key", kid256, claims);
    CHECK_OK(verify_and_check((const char *)tok.ptr, 1500));
    json_t *got = NULL, *want = json_loads(claims, 0, NULL);
    CHECK_OK(jose_jwt_verify(&got, p256, (const char *)tok.ptr, tok.len, JOSE_ES256));
    CHECK(json_equal(got, want));
    json_decref(got);
    json_decref(want);
    pyjwt_sign(&tok, "p384.key", kid384, claims);
    CHECK_OK(verify_and_check((const char *)tok.ptr, 1500));
    /* expired, not yet valid (beyond the 30 s leeway), and just inside it */
    pyjwt_sign(&tok, "p256.key", kid256, claims);
    CHECK_STATUS(verify_and_check((const char *)tok.ptr, 2030), CCZ_ERR_EXPIRED);
    CHECK_OK(verify_and_check((const char *)tok.ptr, 2029));
    CHECK_STATUS(verify_and_check((const char *)tok.ptr, 969), CCZ_ERR_NOT_YET_VALID);
    CHECK_OK(verify_and_check((const char *)tok.ptr, 970));
    /* PyJWT's token cut short, with a fourth part, with one signature bit flipped */
    {
        ccz_buf t = CCZ_BUF_INIT, sig = CCZ_BUF_INIT;
        const char *tx = (const char *)tok.ptr, *dot = strrchr(tx, '.');
        CHECK_OK(ccz_buf_append(&t, tx, (size_t)(dot - tx)));
        CHECK_STATUS(verify_and_check((const char *)t.ptr, 1500), CCZ_ERR_MALFORMED);
        CHECK_OK(ccz_buf_append_str(&t, dot));
        CHECK_OK(ccz_buf_append_str(&t, ".e30"));
        CHECK_STATUS(verify_and_check((const char *)t.ptr, 1500), CCZ_ERR_MALFORMED);
        CHECK_OK(jose_b64url_decode(&sig, dot + 1, strlen(dot + 1)));
        sig.ptr[17] ^= 0x20;
        ccz_buf_reset(&t);
        CHECK_OK(ccz_buf_append(&t, tx, (size_t)(dot + 1 - tx)));
        CHECK_OK(jose_b64url_encode(&t, ccz_buf_span(&sig)));
        CHECK_STATUS(verify_and_check((const char *)t.ptr, 1500), CCZ_ERR_BAD_SIGNATURE);
        ccz_buf_free(&t);
        ccz_buf_free(&sig);
    }
    /* signed by another key under our kid */
    pyjwt_sign(&tok, "other.key", kid256, claims);
    CHECK_STATUS(verify_and_check((const char *)tok.ptr, 1500), CCZ_ERR_BAD_SIGNATURE);
    /* our P-384 key's signature under the P-256 kid: alg ES384 does not fit the key */
    pyjwt_sign(&tok, "p384.key", kid256, claims);
    CHECK_STATUS(verify_and_check((const char *)tok.ptr, 1500), CCZ_ERR_BAD_SIGNATURE);
    /* a kid the JWKS does not have */
    pyjwt_sign(&tok, "p256.key", "unknown", claims);
    CHECK_STATUS(verify_and_check((const char *)tok.ptr, 1500), CCZ_ERR_NOT_FOUND);
    /* alg none, and HS256 keyed with our public key's DER */
    write_text("claims.json", claims);
    CHECK_INT(run(&tok, "jwt-none %s %s", kid256, path("claims.json")), 0);
    CHECK_STATUS(verify_and_check((const char *)tok.ptr, 1500), CCZ_ERR_UNSUPPORTED);
    CHECK_INT(run(&tok, "jwt-hs256 %s %s %s", path("p256.pub"), kid256, path("claims.json")), 0);
    CHECK_STATUS(verify_and_check((const char *)tok.ptr, 1500), CCZ_ERR_UNSUPPORTED);
    ccz_buf_free(&tok);
    ccz_buf_free(&out);
}

static void test_our_jwe_decrypts_with_jwcrypto(void)
{
    setup();
    static const struct {
        const char *key;
        EVP_PKEY **pkey;
        jose_jwe_alg alg;
    } cases[] = {{"p256", &p256, JOSE_JWE_ECDH_ES_A256KW},
                 {"p384", &p384, JOSE_JWE_ECDH_ES_A256KW},
                 {"p521", &p521, JOSE_JWE_ECDH_ES_A256KW},
                 {"rsa", &rsa, JOSE_JWE_RSA_OAEP_256},
                 {"rsa", &rsa, JOSE_JWE_RSA1_5}};
    const char *msg = "a KBS resource \x01\xff";
    char hex[64];
    ccz_hex_to_str(hex, (const uint8_t *)msg, strlen(msg));
    ccz_buf out = CCZ_BUF_INIT;
    for (size_t i = 0; i < CCZ_ARRAY_LEN(cases); i++) {
        json_t *j = NULL;
        CHECK_OK(jose_jwe_encrypt(&j, *cases[i].pkey, cases[i].alg, CCZ_SPAN(msg, strlen(msg))));
        char *text = json_dumps(j, JSON_COMPACT), key[32];
        write_text("ours.jwe", text);
        snprintf(key, sizeof key, "%s.key", cases[i].key);
        CHECK_INT(run(&out, "jwe-decrypt %s %s", path(key), path("ours.jwe")), 0);
        CHECK_STR((const char *)out.ptr, hex);
        /* jwcrypto refuses it with a flipped tag bit: the peer checks */
        const char *tag = json_string_value(json_object_get(j, "tag"));
        char bad[32];
        snprintf(bad, sizeof bad, "%s", tag);
        bad[0] = bad[0] == 'A' ? 'B' : 'A';
        json_object_set_new(j, "tag", json_string(bad));
        free(text);
        text = json_dumps(j, JSON_COMPACT);
        write_text("ours.jwe", text);
        CHECK_INT(run(&out, "jwe-decrypt %s %s 2>/dev/null", path(key), path("ours.jwe")), 1);
        free(text);
        json_decref(j);
    }
    ccz_buf_free(&out);
}

static void test_jwcrypto_jwe_decrypts_with_ours(void)
{
    setup();
    static const struct {
        const char *key;
        EVP_PKEY **pkey;
        const char *alg;
    } cases[] = {{"p256", &p256, "ECDH-ES+A256KW"},
                 {"p384", &p384, "ECDH-ES+A256KW"},
                 {"p521", &p521, "ECDH-ES+A256KW"},
                 {"rsa", &rsa, "RSA-OAEP-256"}};
    const char *msg = "from jwcrypto";
    char hex[64];
    ccz_hex_to_str(hex, (const uint8_t *)msg, strlen(msg));
    ccz_buf jwe = CCZ_BUF_INIT, out = CCZ_BUF_INIT;
    for (size_t i = 0; i < CCZ_ARRAY_LEN(cases); i++) {
        char pub[32];
        snprintf(pub, sizeof pub, "%s.pub", cases[i].key);
        CHECK_INT(run(&jwe, "jwe-encrypt %s %s %s", path(pub), cases[i].alg, hex), 0);
        ccz_buf_reset(&out);
        CHECK_OK(jose_jwe_decrypt(&out, *cases[i].pkey, (const char *)jwe.ptr, jwe.len));
        CHECK_INT(out.len, strlen(msg));
        CHECK_STR((const char *)out.ptr, msg);
        /* tampered: ciphertext, tag, protected header */
        static const char *const members[] = {"ciphertext", "tag", "protected"};
        for (size_t m = 0; m < CCZ_ARRAY_LEN(members); m++) {
            json_t *j = json_loadb((const char *)jwe.ptr, jwe.len, 0, NULL);
            const char *v = json_string_value(json_object_get(j, members[m]));
            ccz_buf raw = CCZ_BUF_INIT, enc = CCZ_BUF_INIT;
            CHECK_OK(jose_b64url_decode(&raw, v, strlen(v)));
            if (m == 2) /* a space after the first colon: the same header, another AAD */
                memmove(raw.ptr + 8, raw.ptr + 7, raw.len - 7), raw.ptr[7] = ' ', raw.len++;
            else
                raw.ptr[0] ^= 0x80;
            CHECK_OK(jose_b64url_encode(&enc, CCZ_SPAN(raw.ptr, raw.len)));
            json_object_set_new(j, members[m], json_string((const char *)enc.ptr));
            char *text = json_dumps(j, JSON_COMPACT);
            ccz_buf_reset(&out);
            CHECK_STATUS(jose_jwe_decrypt(&out, *cases[i].pkey, text, strlen(text)),
                         CCZ_ERR_BAD_SIGNATURE);
            free(text);
            json_decref(j);
            ccz_buf_free(&raw);
            ccz_buf_free(&enc);
        }
    }
    ccz_buf_free(&jwe);
    ccz_buf_free(&out);
}

/* jwcrypto's JWEs with apu and apv in the protected header (ECDH-ES: they enter the Concat
 * KDF, RFC 7518 §4.6.2) and an "aad" member (authenticated as protected "." aad, RFC 7516
 * §5.1 step 14): ours decrypts them, and refuses them with the aad changed. */
static void test_jwcrypto_jwe_party_info_and_aad(void)
{
    setup();
    static const struct {
        const char *key;
        EVP_PKEY **pkey;
        const char *alg, *hdr;
    } cases[] = {{"p256", &p256, "ECDH-ES+A256KW", "{\"apu\":\"QWxpY2U\",\"apv\":\"Qm9i\"}"},
                 {"p384", &p384, "ECDH-ES+A256KW", "{\"apv\":\"Qm9i\"}"},
                 {"p521", &p521, "ECDH-ES+A256KW", "{\"apu\":\"QWxpY2U\"}"},
                 {"rsa", &rsa, "RSA-OAEP-256", "{}"}};
    const char *msg = "apu, apv and aad";
    char hex[64];
    ccz_hex_to_str(hex, (const uint8_t *)msg, strlen(msg));
    ccz_buf jwe = CCZ_BUF_INIT, out = CCZ_BUF_INIT;
    for (size_t i = 0; i < CCZ_ARRAY_LEN(cases); i++) {
        char pub[32];
        snprintf(pub, sizeof pub, "%s.pub", cases[i].key);
        CHECK_INT(run(&jwe, "jwe-encrypt %s %s %s '%s' ccz-aad", path(pub), cases[i].alg, hex,
                      cases[i].hdr),
                  0);
        json_t *j = json_loadb((const char *)jwe.ptr, jwe.len, 0, NULL);
        CHECK_STR(json_string_value(json_object_get(j, "aad")), "Y2N6LWFhZA");
        ccz_buf_reset(&out);
        CHECK_OK(jose_jwe_decrypt(&out, *cases[i].pkey, (const char *)jwe.ptr, jwe.len));
        CHECK_STR((const char *)out.ptr, msg);
        json_object_set_new(j, "aad", json_string("Y2N6LWFhZQ")); /* "ccz-aae" */
        char *text = json_dumps(j, JSON_COMPACT);
        ccz_buf_reset(&out);
        CHECK_STATUS(jose_jwe_decrypt(&out, *cases[i].pkey, text, strlen(text)),
                     CCZ_ERR_BAD_SIGNATURE);
        free(text);
        json_decref(j);
    }
    ccz_buf_free(&jwe);
    ccz_buf_free(&out);
}

static void test_thumbprints_agree(void)
{
    setup();
    static const struct {
        const char *name;
        EVP_PKEY **key;
    } k[] = {{"p256.pub", &p256}, {"p384.pub", &p384}, {"p521.pub", &p521}};
    ccz_buf out = CCZ_BUF_INIT;
    for (size_t i = 0; i < CCZ_ARRAY_LEN(k); i++) {
        json_t *jwk = NULL;
        CHECK_OK(jose_jwk_from_key(&jwk, *k[i].key, NULL, NULL));
        CHECK_INT(run(&out, "thumbprint %s", path(k[i].name)), 0);
        CHECK_STR((const char *)out.ptr, json_string_value(json_object_get(jwk, "kid")));
        json_decref(jwk);
    }
    ccz_buf_free(&out);
}

/* RFC 8785 as Trustee computes the KBS runtime data: every pair of characters whose order by
 * UTF-16 code unit differs from their order by code point or byte (U+E000..U+FFFF against
 * surrogate pairs, pairs sharing a high surrogate), names that start others, the escapes and
 * what must not be escaped, integral reals and -0. */
static void test_jcs_agrees_with_python(void)
{
    setup();
    static const char *const parts[] = {
        "a",       "\\u00e9",        "\\u0080",        "\\u20ac",        "\\ue000",
        "\\uffff", "\\ud800\\udc00", "\\ud83d\\ude00", "\\ud83d\\ude01", "\\udbff\\udfff",
        "\\r",     "\\u001f",        "\\\"",           "\\\\",           "/",
        "\\u007f", "\\u2028"};
    const size_t n = CCZ_ARRAY_LEN(parts);
    ccz_buf doc = CCZ_BUF_INIT, ours = CCZ_BUF_INIT, theirs = CCZ_BUF_INIT;
    CHECK_OK(ccz_buf_append_str(&doc, "{\"n\":[1.0,-0.0,1e2,-9007199254740992,true,null],"));
    for (size_t i = n; i-- > 0;) { /* in reverse, so that sorting has work to do */
        CHECK_OK(ccz_buf_printf(&doc, "\"%s\":{", parts[i]));
        for (size_t j = n; j-- > 0;)
            CHECK_OK(ccz_buf_printf(&doc, "\"%s%s\":%zu,", parts[i], parts[j], i * n + j));
        /* last, a name that starts all the others in the object */
        CHECK_OK(ccz_buf_printf(&doc, "\"%s\":\"%s\\b\\t\\u0000\"", parts[i], parts[i]));
        CHECK_OK(ccz_buf_append_str(&doc, i ? "}," : "}}"));
    }
    write_text("jcs.json", (const char *)doc.ptr);
    json_error_t err;
    json_t *j =
        json_loadb((const char *)doc.ptr, doc.len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &err);
    CHECK(j != NULL);
    CHECK_OK(jose_jcs(&ours, j));
    CHECK_INT(run(&theirs, "jcs %s", path("jcs.json")), 0);
    CHECK_INT(ours.len, theirs.len);
    CHECK_STR((const char *)ours.ptr, (const char *)theirs.ptr);
    json_decref(j);
    ccz_buf_free(&doc);
    ccz_buf_free(&ours);
    ccz_buf_free(&theirs);
}

TEST_MAIN(T(test_our_tokens_verify_with_pyjwt), T(test_pyjwt_tokens_verify_with_ours),
          T(test_our_jwe_decrypts_with_jwcrypto), T(test_jwcrypto_jwe_decrypts_with_ours),
          T(test_jwcrypto_jwe_party_info_and_aad), T(test_thumbprints_agree),
          T(test_jcs_agrees_with_python))
