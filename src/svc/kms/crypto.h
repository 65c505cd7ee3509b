/* SPDX-License-Identifier: Apache-2.0 */
/* The KMS's key operations (internal; prefix kms_): every key spec of eHSM-KMS, its key
 * material, and the cryptography of each action, with eHSM's wire formats. Pure functions of
 * their inputs: no storage, no JSON, no HTTP. OpenSSL does every primitive.
 *
 * Key material (what the KMS stores, wrapped under its domain key): the raw key for AES and
 * SM4 (16, 24 or 32 bytes), the private key as PKCS#8 DER for RSA, EC and SM2. Material is
 * secret: outputs that hold it or a plaintext are secret ccz_bufs (wiped on free). */
#ifndef CCZ_SVC_KMS_CRYPTO_H
#define CCZ_SVC_KMS_CRYPTO_H

#include <stdbool.h>

#include "ccz/core.h"

typedef enum {
    KMS_AES_GCM_128,
    KMS_AES_GCM_192,
    KMS_AES_GCM_256,
    KMS_RSA_2048,
    KMS_RSA_3072,
    KMS_RSA_4096,
    KMS_EC_P224,
    KMS_EC_P256,
    KMS_EC_P256K,
    KMS_EC_P384,
    KMS_EC_P521,
    KMS_SM2,
    KMS_SM4_CTR,
    KMS_SM4_CBC,
    KMS_SPEC_COUNT
} kms_spec;

typedef enum { KMS_PAD_NONE, KMS_PAD_PKCS1, KMS_PAD_PKCS1_PSS, KMS_PAD_PKCS1_OAEP } kms_padding;
typedef enum { KMS_SHA_224, KMS_SHA_256, KMS_SHA_384, KMS_SHA_512, KMS_SM3 } kms_digest;

/* eHSM's names: "EH_AES_GCM_128" … "EH_SM4_CBC"; "EH_PAD_NONE", "EH_RSA_PKCS1",
 * "EH_RSA_PKCS1_PSS", "EH_RSA_PKCS1_OAEP"; "EH_SHA_224" … "EH_SHA_512", "EH_SM3". The parsers
 * return false for anything else (exact, case-sensitive). */
const char *kms_spec_name(kms_spec s);
bool kms_spec_parse(kms_spec *out, const char *name);
const char *kms_padding_name(kms_padding p);
bool kms_padding_parse(kms_padding *out, const char *name);
const char *kms_digest_name(kms_digest d);
bool kms_digest_parse(kms_digest *out, const char *name);

bool kms_spec_symmetric(kms_spec s);     /* AES-GCM and SM4 */
bool kms_spec_authenticated(kms_spec s); /* AES-GCM only: SM4-CTR/CBC have no tag */
bool kms_spec_rsa(kms_spec s);
bool kms_spec_ec(kms_spec s); /* the five ECDSA curves (not SM2) */
/* Bytes of raw key for a symmetric spec (16/24/32), 0 otherwise. */
size_t kms_spec_key_len(kms_spec s);

/* A loaded key: parsed once, used by many requests from many threads (every operation takes
 * it const and is thread-safe). Holds the material in memory wiped on free. */
typedef struct kms_key kms_key;

/* New key material for spec (RSA e = 65537; EC on the named curve; SM2 on its curve; raw
 * random bytes for AES and SM4), appended to material (pass a secret buffer). */
CCZ_NODISCARD ccz_status kms_material_generate(ccz_buf *material, kms_spec spec);
/* Loads material for spec; CCZ_ERR_KEY_MALFORMED when it is not a key of that spec (a raw
 * length that does not fit, a private key of another type, size or curve). */
CCZ_NODISCARD ccz_status kms_key_load(kms_key **out, kms_spec spec, ccz_span material);
void kms_key_free(kms_key *k);
kms_spec kms_key_spec(const kms_key *k);

/* ---- symmetric (AES-GCM, SM4-CTR, SM4-CBC) -------------------------------------------------
 * eHSM's ciphertexts, no header: AES-GCM ct(len pt) ‖ iv(12, random) ‖ tag(16) with aad
 * authenticated; SM4-CTR ct(len pt) ‖ iv(16); SM4-CBC ct(PKCS#7 padded) ‖ iv(16); SM4
 * ignores aad (eHSM does: they are unauthenticated). Plaintexts are 1..6144 bytes
 * (KMS_MAX_PLAINTEXT; CCZ_ERR_INVALID_ARGUMENT otherwise). Decrypt: CCZ_ERR_BAD_SIGNATURE
 * when the tag does not verify (wrong key, aad or ciphertext), CCZ_ERR_MALFORMED when the
 * length cannot be a ciphertext of the spec or the CBC padding is wrong. */
#define KMS_MAX_PLAINTEXT 6144
CCZ_NODISCARD ccz_status kms_encrypt(ccz_buf *out, const kms_key *k, ccz_span plaintext,
                                     ccz_span aad);
CCZ_NODISCARD ccz_status kms_decrypt(ccz_buf *out, const kms_key *k, ccz_span ciphertext,
                                     ccz_span aad);

/* ---- asymmetric ----------------------------------------------------------------------------*/

/* The public key as eHSM gives it, PEM text with its final newline: RSA as PKCS#1
 * "-----BEGIN RSA PUBLIC KEY-----", EC and SM2 as SubjectPublicKeyInfo "-----BEGIN PUBLIC
 * KEY-----". CCZ_ERR_UNSUPPORTED for a symmetric key. */
CCZ_NODISCARD ccz_status kms_public_pem(ccz_buf *out, const kms_key *k);
/* RSA: KMS_PAD_PKCS1 (v1.5) or KMS_PAD_PKCS1_OAEP (SHA-256, MGF1-SHA-256, empty label); SM2:
 * the padding is ignored, the ciphertext is OpenSSL's SM2 DER (C1C3C2 in ASN.1). EC keys and
 * symmetric keys: CCZ_ERR_UNSUPPORTED. A plaintext too long for the key or padding:
 * CCZ_ERR_INVALID_ARGUMENT. A ciphertext that does not decrypt: CCZ_ERR_BAD_SIGNATURE. RSA
 * decryption is constant-time as OpenSSL's implicit rejection gives it. */
CCZ_NODISCARD ccz_status kms_asym_encrypt(ccz_buf *out, const kms_key *k, kms_padding pad,
                                          ccz_span plaintext);
CCZ_NODISCARD ccz_status kms_asym_decrypt(ccz_buf *out, const kms_key *k, kms_padding pad,
                                          ccz_span ciphertext);

/* Sign and Verify. is_digest: msg is already the digest (its length must be the digest's:
 * CCZ_ERR_INVALID_ARGUMENT otherwise); else msg is hashed with digest. RSA: KMS_PAD_PKCS1
 * (DigestInfo) or KMS_PAD_PKCS1_PSS (MGF1 with the same digest, salt length = digest
 * length); the signature is the modulus-length block. EC: padding ignored, the signature is
 * DER ECDSA-Sig-Value. SM2: the digest is always SM3 with the user id "1234567812345678"
 * (eHSM's), is_digest is CCZ_ERR_UNSUPPORTED; DER signature. A symmetric key:
 * CCZ_ERR_UNSUPPORTED. kms_verify sets *valid (false for a signature that does not verify,
 * including one of the wrong length or encoding) and fails only for bad arguments. */
CCZ_NODISCARD ccz_status kms_sign(ccz_buf *sig, const kms_key *k, kms_digest digest,
                                  kms_padding pad, bool is_digest, ccz_span msg);
CCZ_NODISCARD ccz_status kms_verify(bool *valid, const kms_key *k, kms_digest digest,
                                    kms_padding pad, bool is_digest, ccz_span msg, ccz_span sig);

/* ---- wrapping key material under the domain key --------------------------------------------
 * AES-256-GCM under a 32-byte domain key: out = iv(12) ‖ ct ‖ tag(16), aad the key's
 * metadata (the caller's canonical bytes: key id, owner, spec, usage, version), so a wrapped
 * key moved to another record does not unwrap. Unwrap: CCZ_ERR_BAD_SIGNATURE on any
 * mismatch. */
CCZ_NODISCARD ccz_status kms_wrap(ccz_buf *out, const uint8_t domain_key[32], ccz_span material,
                                  ccz_span aad);
CCZ_NODISCARD ccz_status kms_unwrap(ccz_buf *material, const uint8_t domain_key[32],
                                    ccz_span wrapped, ccz_span aad);

#endif
