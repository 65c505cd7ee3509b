/* SPDX-License-Identifier: Apache-2.0 */
/* Private to libccz: JOSE for the attestation service and the key broker — base64url, JWK and
 * JWKS (RFC 7517, thumbprints per RFC 7638), JWS compact tokens with ES256/ES384 (RFC 7515,
 * 7518, 7519), JWE flattened JSON with A256GCM as Trustee's KBS produces it (RFC 7516), and JSON
 * canonicalization (RFC 8785). Tokens, JWKs and JWEs handed in are untrusted; keys passed as
 * EVP_PKEY are trusted. Built only from OpenSSL 3 primitives and jansson. Never installed:
 * include it as "jose/jose.h" from src/ (tests reach it through the static library). */
#ifndef CCZ_JOSE_JOSE_H
#define CCZ_JOSE_JOSE_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "ccz/core.h"

/* Upper bound on any token, JWK or JWE text these functions parse (bytes). */
#define JOSE_MAX_INPUT (1u << 20)

/* ---- base64url without padding (RFC 7515 §2) ---------------------------------------------
 * The encoder appends to out and keeps it NUL-terminated. The decoder appends and is strict:
 * '=' padding, characters outside [A-Za-z0-9_-], a length of 1 mod 4 and non-zero unused
 * trailing bits are each CCZ_ERR_ENCODING, so every byte string has exactly one accepted text. */
ccz_status jose_b64url_encode(ccz_buf *out, ccz_span in);
ccz_status jose_b64url_decode(ccz_buf *out, const char *text, size_t len);

/* ---- JSON canonicalization (RFC 8785) ------------------------------------------------------
 * Appends the JCS form of v to out (NUL-terminated): members sorted by the UTF-16 code units of
 * their names, no whitespace, strings escaped as JCS says. Numbers: integers up to 2^53 in
 * magnitude, and reals with an integral value in that range, as decimal integers; anything else
 * (fractions, larger magnitudes, non-finite) is CCZ_ERR_UNSUPPORTED, since ECMAScript number
 * formatting is not implemented. Nesting deeper than 64 is CCZ_ERR_TOO_LARGE. */
ccz_status jose_jcs(ccz_buf *out, const json_t *v);

/* ---- JWK and JWKS (RFC 7517, 7518 §6, 7638) ------------------------------------------------*/

/* The public JWK of an EC key on P-256, P-384 or P-521: {"kty","crv","x","y","kid"[,"alg"]
 * [,"use"]}, kid being the RFC 7638 thumbprint. alg and use may be NULL. *out is the caller's
 * (json_decref). Other key types are CCZ_ERR_UNSUPPORTED. */
ccz_status jose_jwk_from_key(json_t **out, EVP_PKEY *key, const char *alg, const char *use);

/* The RFC 7638 thumbprint (base64url SHA-256 of the required members, canonical) of a public
 * JWK of kty EC or RSA, 43 characters and a NUL. The members are checked as text only. */
#define JOSE_THUMBPRINT_LEN 43
ccz_status jose_jwk_thumbprint(char out[JOSE_THUMBPRINT_LEN + 1], const json_t *jwk);

/* A public key from an untrusted JWK: kty EC (crv P-256, P-384 or P-521; x and y exactly the
 * field size; the point on the curve: full public-key validation) or kty RSA (n and e without
 * leading zero bytes; 2048 to 16384 bits). A JWK carrying private members ("d", "p", ...) is
 * refused. Errors: CCZ_ERR_KEY_MALFORMED (form), CCZ_ERR_UNSUPPORTED (kty, crv, RSA size),
 * CCZ_ERR_ENCODING (base64url). *out is the caller's (EVP_PKEY_free). */
ccz_status jose_jwk_to_key(EVP_PKEY **out, const json_t *jwk);

/* {"keys":[...]}: the JWK of each EC signing key with kid = thumbprint, use "sig" and the alg its
 * curve signs with (ES256, ES384); a key on another curve or of another type is
 * CCZ_ERR_UNSUPPORTED. */
ccz_status jose_jwks_from_keys(json_t **out, EVP_PKEY *const *keys, size_t n);

/* The member of jwks["keys"] whose "kid" is kid, borrowed from jwks: CCZ_ERR_NOT_FOUND when
 * none, CCZ_ERR_MALFORMED when jwks is not a JWKS or more than one member has that kid. */
ccz_status jose_jwks_find(const json_t **out, const json_t *jwks, const char *kid);

/* ---- JWS compact serialization, JWT (RFC 7515, 7518 §3.4, 7519) ----------------------------*/

/* Signature algorithms, as bits of an allow-list. */
#define JOSE_ES256 1u
#define JOSE_ES384 2u
#define JOSE_ALGS_DEFAULT (JOSE_ES256 | JOSE_ES384)

/* Signs claims (a JSON object) with an EC key: ES256 for P-256, ES384 for P-384 (anything else
 * CCZ_ERR_UNSUPPORTED). The header is {"alg","typ":"JWT","kid"}; kid NULL uses the key's RFC 7638
 * thumbprint. Appends the token (NUL-terminated) to out. */
ccz_status jose_jwt_sign(ccz_buf *out, EVP_PKEY *key, const char *kid, const json_t *claims);

/* The same, with the key made ready once for many tokens (the header encoded, OpenSSL's signing
 * context set up): what a service issuing tokens keeps. jose_signer_new takes its own reference
 * on key; jose_signer_sign is safe from any thread. */
typedef struct jose_signer jose_signer;
ccz_status jose_signer_new(jose_signer **out, EVP_PKEY *key, const char *kid);
ccz_status jose_signer_sign(jose_signer *sg, ccz_buf *out, const json_t *claims);
void jose_signer_free(jose_signer *sg);

/* Verifies a compact JWS and returns its payload as a JSON object in *claims (the caller's),
 * checking nothing of the claims (see jose_jwt_check_claims). Exactly three base64url parts;
 * the header a JSON object whose "alg" is in the allow-list `algs` (0: JOSE_ALGS_DEFAULT) and
 * matches the key's curve; no "crit"; a raw r||s signature of exactly twice the curve size.
 * With a JWKS the key is the one whose kid the header names (a JWKS of one key serves a header
 * without kid); its "alg" and "use", when present, must agree.
 * Statuses: CCZ_ERR_MALFORMED (parts, base64url, shapes, signature length, a kid that two JWKS
 * members carry), CCZ_ERR_JSON (header or payload not JSON), CCZ_ERR_UNSUPPORTED (alg not
 * allowed — "none", HS*, RS* —, "crit"), CCZ_ERR_NOT_FOUND (no key for the kid),
 * CCZ_ERR_BAD_SIGNATURE (alg for another curve, or the signature does not verify),
 * CCZ_ERR_TOO_LARGE. */
ccz_status jose_jwt_verify(json_t **claims, EVP_PKEY *key, const char *token, size_t len,
                           unsigned algs);
ccz_status jose_jwt_verify_jwks(json_t **claims, const json_t *jwks, const char *token, size_t len,
                                unsigned algs);

/* What jose_jwt_check_claims compares; iss and aud NULL are not checked (but a token that
 * names an audience is refused when aud is NULL: RFC 7519 §4.1.3). */
typedef struct {
    int64_t now;    /* unix seconds */
    int64_t leeway; /* seconds of clock skew tolerated on exp, nbf and iat (>= 0) */
    const char *iss;
    const char *aud;
} jose_claims_check;

/* exp (required): now >= exp + leeway is CCZ_ERR_EXPIRED; nbf: now + leeway < nbf, and iat:
 * now + leeway < iat, are CCZ_ERR_NOT_YET_VALID; a missing exp or a time that is not an integer
 * is CCZ_ERR_MALFORMED; iss or aud other than expected is CCZ_ERR_POLICY_REJECTED. */
ccz_status jose_jwt_check_claims(const json_t *claims, const jose_claims_check *c);

/* ---- JWE flattened JSON serialization (RFC 7516 §7.2.2), enc A256GCM -----------------------
 * Key management as Trustee's KBS offers it. RSA1_5 is deprecated (Bleichenbacher): encryption
 * only, for KBS clients that still ask for it. */
typedef enum {
    JOSE_JWE_ECDH_ES_A256KW = 1, /* EC P-256, P-384, P-521; Concat KDF SHA-256; AES key wrap */
    JOSE_JWE_RSA_OAEP_256 = 2,   /* RSAES-OAEP, SHA-256 and MGF1-SHA-256 */
    JOSE_JWE_RSA1_5 = 3          /* RSAES-PKCS1-v1_5, deprecated: encryption only */
} jose_jwe_alg;

/* "ECDH-ES+A256KW", "RSA-OAEP-256", "RSA1_5" (CCZ_ERR_UNSUPPORTED otherwise), and back. */
ccz_status jose_jwe_alg_parse(jose_jwe_alg *out, const char *name);
const char *jose_jwe_alg_name(jose_jwe_alg alg);

/* Encrypts payload to the recipient's public key: a fresh CEK and IV, the protected header
 * {"alg","enc":"A256GCM"[,"epk"]} whose base64url text is the AAD. *out is the JSON object
 * {"protected","encrypted_key","iv","ciphertext","tag"} (the caller's). A key that does not fit
 * alg (type, curve, RSA under 2048 bits) is CCZ_ERR_UNSUPPORTED. */
ccz_status jose_jwe_encrypt(json_t **out, EVP_PKEY *recipient, jose_jwe_alg alg, ccz_span payload);
/* The same for a KBS tee-pubkey JWK, whose "alg" names the key management algorithm. */
ccz_status jose_jwe_encrypt_jwk(json_t **out, const json_t *tee_pubkey, ccz_span payload);

/* Decrypts a flattened JWE (ECDH-ES+A256KW or RSA-OAEP-256 with A256GCM) with the private key,
 * appending the plaintext to out (pass a secret buffer for secrets). alg and enc must be in the
 * protected header; epk, apu, apv and kid may also sit in the unprotected "header" or
 * "unprotected" members (as jwcrypto puts epk), never twice. "zip", "crit", RSA1_5 and the
 * general serialization are CCZ_ERR_UNSUPPORTED. Every failure that depends on the key — a key
 * of another type or curve, a failed unwrap or OAEP decoding, a wrong tag — is one
 * CCZ_ERR_BAD_SIGNATURE ("cannot decrypt"); CEKs and derived keys are wiped. */
ccz_status jose_jwe_decrypt(ccz_buf *out, EVP_PKEY *key, const char *jwe_json, size_t len);

/* ---- shared helpers ------------------------------------------------------------------------*/

/* A JSON text parsed with duplicate keys refused, bounded by JOSE_MAX_INPUT (CCZ_ERR_JSON,
 * CCZ_ERR_TOO_LARGE). */
ccz_status jose_json_parse(json_t **out, const char *text, size_t len);
/* The curve of an EC key: 256, 384 or 521 for P-256, P-384, P-521; 0 otherwise. */
int jose_ec_bits(EVP_PKEY *key);

#endif
