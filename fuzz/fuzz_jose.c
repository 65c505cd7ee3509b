/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the JOSE module's parsers of untrusted text (src/jose). Every input is tried as a
 * compact JWS (verified against a fixed key and a JWKS, then its claims checked), as a flattened
 * JWE (decrypted with a fixed EC and a fixed RSA key), as base64url, and as JSON: a JWK to
 * import and thumbprint, a JWKS to search, a document to canonicalize. Invariants: base64url
 * decoding is canonical (re-encoding gives the input back), JCS is idempotent (its output
 * parses back to the same canonical bytes) and ccz_json_dump's compact text is jansson's, byte
 * for byte. The keys below exist only for this target and the seeds in fuzz/corpus/jose. */
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/pem.h>

#include "jose/jose.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char ec_pem[] = "-----BEGIN PRIVATE KEY-----\n"
                             "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgKGnao8QgQzf0fhRX\n"
                             "k0dkG/BPSTBg4e4eSBxmH9wKysmhRANCAAQQb4KuZbIbHS+Xw25TefLb/vQggBiF\n"
                             "fdjo83gxlxTJPhfGWi0WlHYLnYbIKKNmAQVcEI43KM6ugOs+Wh1Gfwi+\n"
                             "-----END PRIVATE KEY-----\n";

static const char rsa_pem[] = "-----BEGIN PRIVATE KEY-----\n"
                              "MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQCmKAQtTsyZHg0k\n"
                              "MTXi8Iv3u06gwBIMbcN8thlEv0StAmoXHKeZxMznefnQES9/hzgNu1PeC6zWW8dS\n"
                              "p2MUGGWBIJkl1RKQZegi6Jr7/WeUWfeOhZYSHkejl8u2kv+pZoXOHg5brOO4KrNG\n"
                              "VJAlclp9gUYaUdz1Nz4c1urS/7Uy29ly0yyg82ubJr6l7TAlJRIslxXd7qTWBYGp\n"
                              "t0nnBcdRlUi1j9+lPQ02/rf6wAwLNogMfvA7aMXOpGzZn3hvjbTwrg2mbNyh83Js\n"
                              "NvFDyRsywsyUIIAyYcqgKthSHNnRwrm5Xr4V/oZc3Ejt2GpYxfZbVOycLZ6KYoiq\n"
                              "WOx7HLuRAgMBAAECggEAIzCmcdIWkvdCYT/q4b2AZ19ML89+AxPcKzWF9IFt0haI\n"
                              "0YxIEtETdJLozaBWJvREcuQRxx1B5cRaWq8I1OC13rtAtDqETADJQVtyN5xbq5fC\n"
                              "TnUMa5nuIj+r7WcErqQAAr9q2w+qyv6AKY0PWl71u079weVEnsqsZP8/jKCLh9Gg\n"
                              "vKhWgbuQPWZp9rVtdhJSaq/qIT0urs5CT3b+VsOBbaxD/ha90wgKgKNvt+PG5/jF\n"
                              "hVZ1FONn2BaM/YMjd5kS0PrsGOJXP8PTMT2fovrlyt7L1qcuvm+YQK/y6AMGoyn2\n"
                              "D1swt656k9szRwJLF7j1enRTDKDnev+tXu2rdhGX4QKBgQDU1ZLV23gXP2QE86yz\n"
                              "V+fImF+ax/sfu+hpIk2nZsfSlr4wU1ESGLZ0tMezrfZoDapaxFJb8VH//0rgUv0y\n"
                              "Vc3OHLYNdmVdHsQi1Cp3cYIqRhFrMSoCNnEAmBbGZpDKAtJkCGd9F0EM4qZxtydZ\n"
                              "n1cm85tf2Uic8WI0b6cDfPuV3wKBgQDH2uhXLQYjWprmA7YCH23Sj5mDU8md9ufP\n"
                              "PQXuYhuSvBAqovgznwJJ2guhYTuSXN7/uUWeQtmZevsF4o4wXDYLh7oVXVsoH63a\n"
                              "ycIYIcKS+eNGuhwEmBRffrSJ4RvyxjjoLz72SBZn4DVp/E52fzknSENockJUcvLl\n"
                              "JkbkWYR8jwKBgDVhP4udmNgT0Q0g5H6ynHKGLOxQHd7OrTK5JMrIj3N01UyfiOTG\n"
                              "B/TrZm7dQcDFNKXBOXrP4qYXLHtotRJLzOtV7h8gQ7oAPmcR2XjNojziB/pfgU6+\n"
                              "wsbIXmXyUXwpCwWFyhbonysRKXe53QewXBZr4NtATuL185B9NGE+lob3AoGBAKMP\n"
                              "UWfnHU31G9K1jme2+uTEMw06bJKMo9+rO06fDz4uYMZYx0de4gAdfkXCTleBnJRq\n"
                              "tomEo4OdGnhXu4lrgtDvgXzy+XAIQNH0sX789IL0jWHkcP2yk1TCzUx9tU7kOgP+\n"
                              "oFFSya0g+pOpvt7huGD7jbwHFWVPkCw0iby/6N+zAoGBAKvyvA5Pp+nJeq6FhDO8\n"
                              "NPS8Cq/VxbkCyGqn2nm15z5ESLXYm5iZ6mHFDoFvnfmto+SOYh/F9CGtgyTgwY1I\n"
                              "bGFed3LqsljZIJadXwm4m2O3CGwwRvrkEfUcx5LAfozrOauMdClZ6pezeGgKLedv\n"
                              "uuWrdPRHI4hx8Od1Lmcg+1kD\n"
                              "-----END PRIVATE KEY-----\n";

static EVP_PKEY *ec_key, *rsa_key;
static json_t *jwks;

static EVP_PKEY *load(const char *pem)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    if (!k)
        abort();
    return k;
}

static void init(void)
{
    if (ec_key)
        return;
    ec_key = load(ec_pem);
    rsa_key = load(rsa_pem);
    if (jose_jwks_from_keys(&jwks, &ec_key, 1) != CCZ_OK)
        abort();
}

static void fuzz_jws(const char *text, size_t size)
{
    json_t *claims = NULL;
    if (jose_jwt_verify(&claims, ec_key, text, size, 0) == CCZ_OK) {
        jose_claims_check c = {.now = 1700000000, .leeway = 60, .iss = "ccz", .aud = NULL};
        (void)jose_jwt_check_claims(claims, &c);
    }
    json_decref(claims);
    claims = NULL;
    (void)jose_jwt_verify_jwks(&claims, jwks, text, size, JOSE_ES256);
    json_decref(claims);
}

static void fuzz_jwe(const char *text, size_t size)
{
    ccz_buf out = CCZ_BUF_INIT;
    ccz_buf_init(&out, 0, true);
    (void)jose_jwe_decrypt(&out, ec_key, text, size);
    ccz_buf_reset(&out);
    (void)jose_jwe_decrypt(&out, rsa_key, text, size);
    ccz_buf_free(&out);
}

static void fuzz_b64url(const char *text, size_t size)
{
    ccz_buf raw = CCZ_BUF_INIT, back = CCZ_BUF_INIT;
    if (jose_b64url_decode(&raw, text, size) == CCZ_OK) {
        if (jose_b64url_encode(&back, ccz_buf_span(&raw)) != CCZ_OK || back.len != size ||
            (size && memcmp(back.ptr, text, size) != 0))
            abort(); /* two texts for one byte string */
    }
    ccz_buf_free(&raw);
    ccz_buf_free(&back);
}

static void fuzz_json(const char *text, size_t size)
{
    json_t *j = NULL;
    if (jose_json_parse(&j, text, size) != CCZ_OK)
        return;
    EVP_PKEY *k = NULL;
    if (jose_jwk_to_key(&k, j) == CCZ_OK) {
        json_t *back = NULL;
        if (jose_ec_bits(k) && jose_jwk_from_key(&back, k, NULL, NULL) != CCZ_OK)
            abort(); /* an imported EC key always exports */
        json_decref(back);
        EVP_PKEY_free(k);
    }
    char tp[JOSE_THUMBPRINT_LEN + 1];
    (void)jose_jwk_thumbprint(tp, j);
    const json_t *found = NULL;
    (void)jose_jwks_find(&found, j, "kid");
    json_t *enc = NULL;
    (void)jose_jwe_encrypt_jwk(&enc, j, CCZ_LIT("payload"));
    json_decref(enc);
    ccz_buf c1 = CCZ_BUF_INIT, c2 = CCZ_BUF_INIT;
    if (jose_jcs(&c1, j) == CCZ_OK) {
        json_t *again = NULL;
        if (jose_json_parse(&again, (const char *)c1.ptr, c1.len) != CCZ_OK ||
            jose_jcs(&c2, again) != CCZ_OK || c1.len != c2.len ||
            memcmp(c1.ptr, c2.ptr, c1.len) != 0)
            abort(); /* JCS output is JSON and its own canonical form */
        json_decref(again);
    }
    ccz_buf_free(&c1);
    ccz_buf_free(&c2);
    /* the compact writer (tokens, verdicts) writes exactly what jansson writes */
    ccz_buf d = CCZ_BUF_INIT;
    char *ref = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!ref || ccz_json_dump(&d, j, false) != CCZ_OK || d.len != strlen(ref) ||
        memcmp(d.ptr, ref, d.len) != 0)
        abort();
    free(ref);
    ccz_buf_free(&d);
    json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init();
    const char *text = (const char *)data;
    fuzz_jws(text, size);
    fuzz_jwe(text, size);
    fuzz_b64url(text, size);
    fuzz_json(text, size);
    return 0;
}
