/* SPDX-License-Identifier: Apache-2.0 */
/* The KMS's key operations with eHSM-KMS's wire formats (see crypto.h): OpenSSL 3 EVP does
 * every primitive. Inputs are untrusted bytes (ciphertexts, signatures, stored material after
 * unwrapping); a loaded kms_key is immutable, so every operation is thread-safe on it. */
#include <limits.h>
#include <stdlib.h>
#include <pthread.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/encoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "core/guard.h"
#include "svc/kms/crypto.h"

#define GCM_IV_LEN 12
#define GCM_TAG_LEN 16
#define SM4_IV_LEN 16
#define SM4_BLOCK 16
#define SM2_USER_ID "1234567812345678"

struct kms_key {
    kms_spec spec;
    uint8_t *raw; /* symmetric: the raw key (malloc'd, wiped on free) */
    size_t raw_len;
    EVP_CIPHER *cipher; /* symmetric: fetched once at load */
    EVP_PKEY *pkey;     /* asymmetric */
};

/* One row per spec: eHSM's name, the OpenSSL cipher (symmetric), key bytes, RSA bits or the
 * EC group name OpenSSL reports. */
static const struct {
    const char *name;
    const char *cipher;
    size_t key_len;
    int rsa_bits;
    const char *group;
} SPECS[KMS_SPEC_COUNT] = {
    [KMS_AES_GCM_128] = {"EH_AES_GCM_128", "AES-128-GCM", 16, 0, NULL},
    [KMS_AES_GCM_192] = {"EH_AES_GCM_192", "AES-192-GCM", 24, 0, NULL},
    [KMS_AES_GCM_256] = {"EH_AES_GCM_256", "AES-256-GCM", 32, 0, NULL},
    [KMS_RSA_2048] = {"EH_RSA_2048", NULL, 0, 2048, NULL},
    [KMS_RSA_3072] = {"EH_RSA_3072", NULL, 0, 3072, NULL},
    [KMS_RSA_4096] = {"EH_RSA_4096", NULL, 0, 4096, NULL},
    [KMS_EC_P224] = {"EH_EC_P224", NULL, 0, 0, "secp224r1"},
    [KMS_EC_P256] = {"EH_EC_P256", NULL, 0, 0, "prime256v1"},
    [KMS_EC_P256K] = {"EH_EC_P256K", NULL, 0, 0, "secp256k1"},
    [KMS_EC_P384] = {"EH_EC_P384", NULL, 0, 0, "secp384r1"},
    [KMS_EC_P521] = {"EH_EC_P521", NULL, 0, 0, "secp521r1"},
    [KMS_SM2] = {"EH_SM2", NULL, 0, 0, "SM2"},
    [KMS_SM4_CTR] = {"EH_SM4_CTR", "SM4-CTR", 16, 0, NULL},
    [KMS_SM4_CBC] = {"EH_SM4_CBC", "SM4-CBC", 16, 0, NULL},
};

static const char *const PADDINGS[] = {
    [KMS_PAD_NONE] = "EH_PAD_NONE",
    [KMS_PAD_PKCS1] = "EH_RSA_PKCS1",
    [KMS_PAD_PKCS1_PSS] = "EH_RSA_PKCS1_PSS",
    [KMS_PAD_PKCS1_OAEP] = "EH_RSA_PKCS1_OAEP",
};

static const struct {
    const char *name;
    const char *md;
} DIGESTS[] = {
    [KMS_SHA_224] = {"EH_SHA_224", "SHA224"},
    [KMS_SHA_256] = {"EH_SHA_256", "SHA256"},
    [KMS_SHA_384] = {"EH_SHA_384", "SHA384"},
    [KMS_SHA_512] = {"EH_SHA_512", "SHA512"},
    [KMS_SM3] = {"EH_SM3", "SM3"},
};

/* ---- names ---------------------------------------------------------------------------------*/

const char *kms_spec_name(kms_spec s)
{
    return (unsigned)s < KMS_SPEC_COUNT ? SPECS[s].name : "?";
}

bool kms_spec_parse(kms_spec *out, const char *name)
{
    for (size_t i = 0; name && i < KMS_SPEC_COUNT; i++)
        if (strcmp(name, SPECS[i].name) == 0) {
            *out = (kms_spec)i;
            return true;
        }
    return false;
}

const char *kms_padding_name(kms_padding p)
{
    return (unsigned)p < CCZ_ARRAY_LEN(PADDINGS) ? PADDINGS[p] : "?";
}

bool kms_padding_parse(kms_padding *out, const char *name)
{
    for (size_t i = 0; name && i < CCZ_ARRAY_LEN(PADDINGS); i++)
        if (strcmp(name, PADDINGS[i]) == 0) {
            *out = (kms_padding)i;
            return true;
        }
    return false;
}

const char *kms_digest_name(kms_digest d)
{
    return (unsigned)d < CCZ_ARRAY_LEN(DIGESTS) ? DIGESTS[d].name : "?";
}

bool kms_digest_parse(kms_digest *out, const char *name)
{
    for (size_t i = 0; name && i < CCZ_ARRAY_LEN(DIGESTS); i++)
        if (strcmp(name, DIGESTS[i].name) == 0) {
            *out = (kms_digest)i;
            return true;
        }
    return false;
}

bool kms_spec_symmetric(kms_spec s)
{
    return (unsigned)s < KMS_SPEC_COUNT && SPECS[s].cipher != NULL;
}

bool kms_spec_authenticated(kms_spec s)
{
    return s == KMS_AES_GCM_128 || s == KMS_AES_GCM_192 || s == KMS_AES_GCM_256;
}

bool kms_spec_rsa(kms_spec s)
{
    return s == KMS_RSA_2048 || s == KMS_RSA_3072 || s == KMS_RSA_4096;
}

bool kms_spec_ec(kms_spec s)
{
    return s >= KMS_EC_P224 && s <= KMS_EC_P521;
}

size_t kms_spec_key_len(kms_spec s)
{
    return (unsigned)s < KMS_SPEC_COUNT ? SPECS[s].key_len : 0;
}

/* ---- material and loading ------------------------------------------------------------------*/

/* The private key as PKCS#8 DER, appended to the secret buffer material. */
static ccz_status append_pkcs8(ccz_buf *material, EVP_PKEY *pkey)
{
    OSSL_ENCODER_CTX *e = OSSL_ENCODER_CTX_new_for_pkey(pkey, OSSL_KEYMGMT_SELECT_KEYPAIR, "DER",
                                                        "PrivateKeyInfo", NULL);
    uint8_t *der = NULL;
    size_t len = 0;
    ccz_status s = CCZ_OK;
    if (!e || OSSL_ENCODER_CTX_get_num_encoders(e) == 0 || OSSL_ENCODER_to_data(e, &der, &len) != 1)
        s = ccz_fail_ossl(CCZ_ERR_CRYPTO, "kms: cannot encode the private key as PKCS#8");
    else
        s = ccz_buf_append(material, der, len);
    OPENSSL_clear_free(der, len);
    OSSL_ENCODER_CTX_free(e);
    return s;
}

ccz_status kms_material_generate(ccz_buf *material, kms_spec spec)
{
    CCZ_ENSURE((unsigned)spec < KMS_SPEC_COUNT, CCZ_ERR_INVALID_ARGUMENT, "kms: unknown key spec");
    if (kms_spec_symmetric(spec)) {
        size_t n = SPECS[spec].key_len, at = material->len;
        CCZ_GUARD(ccz_buf_reserve(material, n));
        CCZ_GUARD_OSSL(RAND_priv_bytes(material->ptr + at, (int)n), CCZ_ERR_CRYPTO,
                       "kms: no random bytes for a %s key", SPECS[spec].name);
        material->len += n;
        material->ptr[material->len] = 0;
        return CCZ_OK;
    }
    EVP_PKEY *pkey = NULL;
    if (kms_spec_rsa(spec))
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)SPECS[spec].rsa_bits);
    else if (spec == KMS_SM2)
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "SM2");
    else
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", SPECS[spec].group);
    if (!pkey)
        return ccz_fail_ossl(CCZ_ERR_CRYPTO, "kms: cannot generate a %s key", SPECS[spec].name);
    ccz_status s = append_pkcs8(material, pkey);
    EVP_PKEY_free(pkey);
    return s;
}

static bool group_is(const EVP_PKEY *pkey, const char *want)
{
    char group[32] = "";
    size_t n = 0;
    return EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                          &n) == 1 &&
           strcmp(group, want) == 0;
}

/* Whether the decoded private key is one of spec: type, then size or curve. */
static ccz_status check_pkey(const EVP_PKEY *pkey, kms_spec spec)
{
    const char *name = SPECS[spec].name;
    if (kms_spec_rsa(spec)) {
        CCZ_ENSURE(EVP_PKEY_is_a(pkey, "RSA"), CCZ_ERR_KEY_MALFORMED,
                   "kms: the material is not an RSA key (%s)", name);
        CCZ_ENSURE(EVP_PKEY_get_bits(pkey) == SPECS[spec].rsa_bits, CCZ_ERR_KEY_MALFORMED,
                   "kms: the RSA key has %d bits, %s needs %d", EVP_PKEY_get_bits(pkey), name,
                   SPECS[spec].rsa_bits);
        return CCZ_OK;
    }
    if (spec == KMS_SM2) {
        /* OpenSSL 3 decodes a PKCS#8 key on the SM2 curve (id-ecPublicKey with the SM2 OID,
         * as eHSM and OpenSSL write it) as an "SM2" key, never as "EC". */
        CCZ_ENSURE(EVP_PKEY_is_a(pkey, "SM2") && group_is(pkey, "SM2"), CCZ_ERR_KEY_MALFORMED,
                   "kms: the material is not an SM2 key");
        return CCZ_OK;
    }
    CCZ_ENSURE(EVP_PKEY_is_a(pkey, "EC") && !EVP_PKEY_is_a(pkey, "SM2"), CCZ_ERR_KEY_MALFORMED,
               "kms: the material is not an EC key (%s)", name);
    CCZ_ENSURE(group_is(pkey, SPECS[spec].group), CCZ_ERR_KEY_MALFORMED,
               "kms: the EC key is not on %s (%s)", SPECS[spec].group, name);
    return CCZ_OK;
}

/* Exactly one PKCS#8 PrivateKeyInfo (OSSL_DECODER alone would also take a SEC1 or PKCS#1
 * private key for "PrivateKeyInfo", so the structure is parsed first). */
static ccz_status decode_pkcs8(EVP_PKEY **out, ccz_span der)
{
    *out = NULL;
    CCZ_ENSURE(der.len > 0 && der.len <= LONG_MAX, CCZ_ERR_KEY_MALFORMED,
               "kms: the material is not a PKCS#8 key");
    const uint8_t *p = der.ptr;
    PKCS8_PRIV_KEY_INFO *p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, (long)der.len);
    if (!p8)
        return ccz_fail_ossl(CCZ_ERR_KEY_MALFORMED, "kms: the material is not a PKCS#8 key");
    size_t left = der.len - (size_t)(p - der.ptr);
    if (left == 0)
        *out = EVP_PKCS82PKEY_ex(p8, NULL, NULL);
    PKCS8_PRIV_KEY_INFO_free(p8); /* its key octets are ASN1_SENSITIVE: cleansed on free */
    CCZ_ENSURE(left == 0, CCZ_ERR_KEY_MALFORMED, "kms: %zu bytes after the PKCS#8 key", left);
    if (!*out)
        return ccz_fail_ossl(CCZ_ERR_KEY_MALFORMED, "kms: the PKCS#8 key does not decode");
    return CCZ_OK;
}

ccz_status kms_key_load(kms_key **out, kms_spec spec, ccz_span material)
{
    *out = NULL;
    CCZ_ENSURE((unsigned)spec < KMS_SPEC_COUNT, CCZ_ERR_INVALID_ARGUMENT, "kms: unknown key spec");
    kms_key *k = calloc(1, sizeof *k);
    CCZ_ENSURE(k, CCZ_ERR_NOMEM, "kms: cannot allocate a key");
    k->spec = spec;
    ccz_status s = CCZ_OK;
    if (kms_spec_symmetric(spec)) {
        if (material.len != SPECS[spec].key_len) {
            s = ccz_fail(CCZ_ERR_KEY_MALFORMED, "kms: a %s key has %zu bytes, not %zu",
                         SPECS[spec].name, SPECS[spec].key_len, material.len);
            goto done;
        }
        k->raw = malloc(material.len);
        if (!k->raw) {
            s = ccz_fail(CCZ_ERR_NOMEM, "kms: cannot allocate a key");
            goto done;
        }
        memcpy(k->raw, material.ptr, material.len);
        k->raw_len = material.len;
        k->cipher = EVP_CIPHER_fetch(NULL, SPECS[spec].cipher, NULL);
        if (!k->cipher)
            s = ccz_fail_ossl(CCZ_ERR_CRYPTO, "kms: OpenSSL has no %s", SPECS[spec].cipher);
        goto done;
    }
    CCZ_GUARD_GOTO(decode_pkcs8(&k->pkey, material), s, done);
    CCZ_GUARD_GOTO(check_pkey(k->pkey, spec), s, done);
done:
    if (s != CCZ_OK) {
        kms_key_free(k);
        return s;
    }
    *out = k;
    return CCZ_OK;
}

void kms_key_free(kms_key *k)
{
    if (!k)
        return;
    if (k->raw) {
        ccz_wipe(k->raw, k->raw_len);
        free(k->raw);
    }
    EVP_CIPHER_free(k->cipher);
    EVP_PKEY_free(k->pkey);
    free(k);
}

kms_spec kms_key_spec(const kms_key *k)
{
    return k->spec;
}

/* ---- symmetric -----------------------------------------------------------------------------*/

/* One pass of cipher over in into out (room for in.len + a block), returning the bytes
 * written; aad and tag only for GCM (tag written on encryption, checked on decryption).
 * Every failure, the tag's included, is reported only as false. */
static bool cipher_run(uint8_t *out, size_t *out_len, const EVP_CIPHER *cipher, const uint8_t *key,
                       const uint8_t *iv, bool gcm, ccz_span aad, ccz_span in, uint8_t *tag,
                       int enc)
{
    if (in.len > INT_MAX || aad.len > INT_MAX)
        return false;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n = 0, m = 0;
    bool ok =
        ctx && EVP_CipherInit_ex2(ctx, cipher, key, iv, enc, NULL) == 1 &&
        (!gcm || aad.len == 0 || EVP_CipherUpdate(ctx, NULL, &n, aad.ptr, (int)aad.len) == 1) &&
        (in.len == 0 || EVP_CipherUpdate(ctx, out, &n, in.ptr, (int)in.len) == 1) &&
        (!gcm || enc || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, GCM_TAG_LEN, tag) == 1) &&
        EVP_CipherFinal_ex(ctx, out + (in.len ? n : 0), &m) == 1 &&
        (!gcm || !enc || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, GCM_TAG_LEN, tag) == 1);
    EVP_CIPHER_CTX_free(ctx);
    ERR_clear_error();
    *out_len = ok ? (size_t)(in.len ? n : 0) + (size_t)m : 0;
    return ok;
}

static ccz_status check_symmetric(const kms_key *k)
{
    CCZ_ENSURE(k && kms_spec_symmetric(k->spec), CCZ_ERR_UNSUPPORTED,
               "kms: %s is not a symmetric key", k ? SPECS[k->spec].name : "(null)");
    return CCZ_OK;
}

/* IVs come from a per-thread pool of RAND_bytes output, one call per 4 KiB rather than one per
 * encryption (OpenSSL 3.0 takes the DRBG's lock and calls getpid() on every call). An IV must
 * only never repeat under a key: a fork clears the forking thread's pool in the child (the only
 * thread there), so a child never reuses its parent's bytes. */
static __thread struct {
    uint8_t b[4096];
    size_t left;
} iv_pool;
static pthread_once_t iv_once = PTHREAD_ONCE_INIT;

static void iv_pool_clear(void)
{
    ccz_wipe(iv_pool.b, sizeof iv_pool.b);
    iv_pool.left = 0;
}

static void iv_pool_init(void)
{
    (void)pthread_atfork(NULL, NULL, iv_pool_clear);
}

static ccz_status fresh_iv(uint8_t *iv, size_t n)
{
    pthread_once(&iv_once, iv_pool_init);
    if (iv_pool.left < n) {
        CCZ_GUARD_OSSL(RAND_bytes(iv_pool.b, (int)sizeof iv_pool.b), CCZ_ERR_CRYPTO,
                       "kms: no random bytes for an IV");
        iv_pool.left = sizeof iv_pool.b;
    }
    uint8_t *p = iv_pool.b + sizeof iv_pool.b - iv_pool.left;
    memcpy(iv, p, n);
    ccz_wipe(p, n); /* used: never handed out again */
    iv_pool.left -= n;
    return CCZ_OK;
}

ccz_status kms_encrypt(ccz_buf *out, const kms_key *k, ccz_span plaintext, ccz_span aad)
{
    CCZ_GUARD(check_symmetric(k));
    CCZ_ENSURE(plaintext.len >= 1 && plaintext.len <= KMS_MAX_PLAINTEXT, CCZ_ERR_INVALID_ARGUMENT,
               "kms: a plaintext has 1 to %d bytes, not %zu", KMS_MAX_PLAINTEXT, plaintext.len);
    bool gcm = kms_spec_authenticated(k->spec);
    size_t iv_len = gcm ? GCM_IV_LEN : SM4_IV_LEN;
    size_t at = out->len;
    CCZ_GUARD(ccz_buf_reserve(out, plaintext.len + SM4_BLOCK + SM4_IV_LEN + GCM_TAG_LEN));
    uint8_t iv[SM4_IV_LEN], tag[GCM_TAG_LEN];
    CCZ_GUARD(fresh_iv(iv, iv_len));
    size_t n = 0;
    if (!cipher_run(out->ptr + at, &n, k->cipher, k->raw, iv, gcm, aad, plaintext, tag, 1))
        return ccz_fail(CCZ_ERR_CRYPTO, "kms: %s encryption failed", SPECS[k->spec].name);
    memcpy(out->ptr + at + n, iv, iv_len);
    n += iv_len;
    if (gcm) {
        memcpy(out->ptr + at + n, tag, GCM_TAG_LEN);
        n += GCM_TAG_LEN;
    }
    out->len = at + n;
    out->ptr[out->len] = 0;
    return CCZ_OK;
}

/* Whether len can be a ciphertext of a 1..KMS_MAX_PLAINTEXT-byte plaintext under spec. */
static bool ciphertext_len_ok(kms_spec spec, size_t len)
{
    if (kms_spec_authenticated(spec))
        return len > GCM_IV_LEN + GCM_TAG_LEN &&
               len - GCM_IV_LEN - GCM_TAG_LEN <= KMS_MAX_PLAINTEXT;
    if (spec == KMS_SM4_CTR)
        return len > SM4_IV_LEN && len - SM4_IV_LEN <= KMS_MAX_PLAINTEXT;
    return len >= SM4_IV_LEN + SM4_BLOCK && (len - SM4_IV_LEN) % SM4_BLOCK == 0 &&
           len - SM4_IV_LEN <= (KMS_MAX_PLAINTEXT / SM4_BLOCK + 1) * SM4_BLOCK;
}

ccz_status kms_decrypt(ccz_buf *out, const kms_key *k, ccz_span ciphertext, ccz_span aad)
{
    CCZ_GUARD(check_symmetric(k));
    CCZ_ENSURE(ciphertext_len_ok(k->spec, ciphertext.len), CCZ_ERR_MALFORMED,
               "kms: %zu bytes cannot be a %s ciphertext", ciphertext.len, SPECS[k->spec].name);
    bool gcm = kms_spec_authenticated(k->spec);
    size_t trailer = gcm ? GCM_IV_LEN + GCM_TAG_LEN : SM4_IV_LEN;
    ccz_span body = CCZ_SPAN(ciphertext.ptr, ciphertext.len - trailer);
    const uint8_t *iv = ciphertext.ptr + body.len;
    uint8_t tag[GCM_TAG_LEN] = {0};
    if (gcm)
        memcpy(tag, iv + GCM_IV_LEN, GCM_TAG_LEN);
    size_t at = out->len, n = 0;
    CCZ_GUARD(ccz_buf_reserve(out, body.len + SM4_BLOCK));
    if (!cipher_run(out->ptr + at, &n, k->cipher, k->raw, iv, gcm, aad, body, tag, 0)) {
        ccz_wipe(out->ptr + at, body.len + SM4_BLOCK);
        if (gcm)
            return ccz_fail(CCZ_ERR_BAD_SIGNATURE,
                            "kms: the ciphertext does not verify (wrong key, aad or ciphertext)");
        return ccz_fail(CCZ_ERR_MALFORMED, "kms: the %s ciphertext does not decrypt",
                        SPECS[k->spec].name);
    }
    out->len = at + n;
    out->ptr[out->len] = 0;
    return CCZ_OK;
}

/* ---- asymmetric ----------------------------------------------------------------------------*/

static ccz_status check_asymmetric(const kms_key *k)
{
    CCZ_ENSURE(k && k->pkey, CCZ_ERR_UNSUPPORTED, "kms: %s is not an asymmetric key",
               k ? SPECS[k->spec].name : "(null)");
    return CCZ_OK;
}

ccz_status kms_public_pem(ccz_buf *out, const kms_key *k)
{
    CCZ_GUARD(check_asymmetric(k));
    /* RSA as PKCS#1 RSAPublicKey ("type-specific"), EC and SM2 as SubjectPublicKeyInfo. */
    const char *structure = kms_spec_rsa(k->spec) ? "type-specific" : "SubjectPublicKeyInfo";
    OSSL_ENCODER_CTX *e = OSSL_ENCODER_CTX_new_for_pkey(k->pkey, OSSL_KEYMGMT_SELECT_PUBLIC_KEY,
                                                        "PEM", structure, NULL);
    uint8_t *pem = NULL;
    size_t len = 0;
    ccz_status s = CCZ_OK;
    if (!e || OSSL_ENCODER_CTX_get_num_encoders(e) == 0 || OSSL_ENCODER_to_data(e, &pem, &len) != 1)
        s = ccz_fail_ossl(CCZ_ERR_CRYPTO, "kms: cannot encode the %s public key",
                          SPECS[k->spec].name);
    else
        s = ccz_buf_append(out, pem, len);
    OPENSSL_free(pem);
    OSSL_ENCODER_CTX_free(e);
    return s;
}

/* RSA padding on an encrypt/decrypt context: PKCS#1 v1.5, or OAEP with SHA-256 and
 * MGF1-SHA-256 (eHSM's). */
static bool rsa_enc_padding(EVP_PKEY_CTX *ctx, kms_padding pad)
{
    if (pad == KMS_PAD_PKCS1)
        return EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1;
    return EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) == 1 &&
           EVP_PKEY_CTX_set_rsa_oaep_md_name(ctx, "SHA2-256", NULL) == 1 &&
           EVP_PKEY_CTX_set_rsa_mgf1_md_name(ctx, "SHA2-256", NULL) == 1;
}

/* The key can encrypt with pad: RSA with PKCS1 or OAEP, or SM2 (any padding). */
static ccz_status check_asym_cipher(const kms_key *k, kms_padding pad)
{
    CCZ_GUARD(check_asymmetric(k));
    CCZ_ENSURE(kms_spec_rsa(k->spec) || k->spec == KMS_SM2, CCZ_ERR_UNSUPPORTED,
               "kms: %s keys do not encrypt", SPECS[k->spec].name);
    CCZ_ENSURE(k->spec == KMS_SM2 || pad == KMS_PAD_PKCS1 || pad == KMS_PAD_PKCS1_OAEP,
               CCZ_ERR_INVALID_ARGUMENT, "kms: RSA encryption takes %s or %s, not %s",
               PADDINGS[KMS_PAD_PKCS1], PADDINGS[KMS_PAD_PKCS1_OAEP], kms_padding_name(pad));
    return CCZ_OK;
}

ccz_status kms_asym_encrypt(ccz_buf *out, const kms_key *k, kms_padding pad, ccz_span plaintext)
{
    CCZ_GUARD(check_asym_cipher(k, pad));
    size_t max = KMS_MAX_PLAINTEXT;
    if (kms_spec_rsa(k->spec)) {
        size_t mod = (size_t)EVP_PKEY_get_size(k->pkey);
        max = pad == KMS_PAD_PKCS1 ? mod - 11 : mod - 2 * 32 - 2;
    }
    CCZ_ENSURE(plaintext.len <= max, CCZ_ERR_INVALID_ARGUMENT,
               "kms: a %s plaintext has at most %zu bytes, not %zu", SPECS[k->spec].name, max,
               plaintext.len);
    CCZ_ENSURE(k->spec != KMS_SM2 || plaintext.len > 0, CCZ_ERR_INVALID_ARGUMENT,
               "kms: an SM2 plaintext is not empty");
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey, NULL);
    size_t at = out->len, n = 0;
    ccz_status s = CCZ_OK;
    CCZ_GUARD_OSSL_GOTO(ctx ? EVP_PKEY_encrypt_init(ctx) : 0, s, done, CCZ_ERR_CRYPTO,
                        "kms: %s encryption", SPECS[k->spec].name);
    CCZ_GUARD_OSSL_GOTO(k->spec == KMS_SM2 || rsa_enc_padding(ctx, pad), s, done, CCZ_ERR_CRYPTO,
                        "kms: %s padding", SPECS[k->spec].name);
    CCZ_GUARD_OSSL_GOTO(EVP_PKEY_encrypt(ctx, NULL, &n, plaintext.ptr, plaintext.len), s, done,
                        CCZ_ERR_CRYPTO, "kms: %s encryption", SPECS[k->spec].name);
    CCZ_GUARD_GOTO(ccz_buf_reserve(out, n), s, done);
    CCZ_GUARD_OSSL_GOTO(EVP_PKEY_encrypt(ctx, out->ptr + at, &n, plaintext.ptr, plaintext.len), s,
                        done, CCZ_ERR_CRYPTO, "kms: %s encryption", SPECS[k->spec].name);
    out->len = at + n;
    out->ptr[out->len] = 0;
done:
    EVP_PKEY_CTX_free(ctx);
    return s;
}

ccz_status kms_asym_decrypt(ccz_buf *out, const kms_key *k, kms_padding pad, ccz_span ciphertext)
{
    CCZ_GUARD(check_asym_cipher(k, pad));
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey, NULL);
    size_t at = out->len, room = 0, n = 0;
    ccz_status s = CCZ_OK;
    CCZ_GUARD_OSSL_GOTO(ctx ? EVP_PKEY_decrypt_init(ctx) : 0, s, done, CCZ_ERR_CRYPTO,
                        "kms: %s decryption", SPECS[k->spec].name);
    CCZ_GUARD_OSSL_GOTO(k->spec == KMS_SM2 || rsa_enc_padding(ctx, pad), s, done, CCZ_ERR_CRYPTO,
                        "kms: %s padding", SPECS[k->spec].name);
    /* An upper bound of the plaintext: the modulus for RSA, the ciphertext's length for SM2
     * (its DER holds C2 as long as the plaintext), so no length query touches the input. */
    room = kms_spec_rsa(k->spec) ? (size_t)EVP_PKEY_get_size(k->pkey) : ciphertext.len;
    CCZ_GUARD_GOTO(ccz_buf_reserve(out, room), s, done);
    n = room;
    /* Every failure (length, padding, encoding) is the same status and detail, without
     * OpenSSL's reason, so the answer says nothing about where decryption failed. OpenSSL
     * 3.0 has no implicit rejection for PKCS#1 v1.5: its unpadding is constant-time, but
     * success and failure are distinguishable by design of the API. */
    if (ciphertext.len == 0 ||
        EVP_PKEY_decrypt(ctx, out->ptr + at, &n, ciphertext.ptr, ciphertext.len) != 1) {
        ERR_clear_error();
        ccz_wipe(out->ptr + at, room);
        s = ccz_fail(CCZ_ERR_BAD_SIGNATURE, "kms: the %s ciphertext does not decrypt",
                     SPECS[k->spec].name);
        goto done;
    }
    out->len = at + n;
    out->ptr[out->len] = 0;
done:
    EVP_PKEY_CTX_free(ctx);
    return s;
}

/* ---- sign and verify -----------------------------------------------------------------------*/

/* The digest to use and checks common to sign and verify: the key signs, the padding fits,
 * a given digest has its length. */
static ccz_status sign_setup(const EVP_MD **md, const kms_key *k, kms_digest digest,
                             kms_padding pad, bool is_digest, ccz_span msg)
{
    *md = NULL;
    CCZ_GUARD(check_asymmetric(k));
    CCZ_ENSURE((unsigned)digest < CCZ_ARRAY_LEN(DIGESTS), CCZ_ERR_INVALID_ARGUMENT,
               "kms: unknown digest");
    if (k->spec == KMS_SM2) {
        CCZ_ENSURE(!is_digest, CCZ_ERR_UNSUPPORTED,
                   "kms: SM2 signs messages, not digests (the user id enters the hash)");
        digest = KMS_SM3;
    }
    if (kms_spec_rsa(k->spec)) {
        CCZ_ENSURE(pad == KMS_PAD_PKCS1 || pad == KMS_PAD_PKCS1_PSS, CCZ_ERR_INVALID_ARGUMENT,
                   "kms: RSA signatures take %s or %s, not %s", PADDINGS[KMS_PAD_PKCS1],
                   PADDINGS[KMS_PAD_PKCS1_PSS], kms_padding_name(pad));
        CCZ_ENSURE(digest != KMS_SM3, CCZ_ERR_INVALID_ARGUMENT,
                   "kms: OpenSSL's RSA signatures do not take SM3");
    }
    /* EVP_get_digestbyname: a built-in, immutable EVP_MD, no fetch to free per call. */
    *md = EVP_get_digestbyname(DIGESTS[digest].md);
    CCZ_ENSURE(*md, CCZ_ERR_CRYPTO, "kms: OpenSSL has no %s", DIGESTS[digest].md);
    CCZ_ENSURE(!is_digest || msg.len == (size_t)EVP_MD_get_size(*md), CCZ_ERR_INVALID_ARGUMENT,
               "kms: a %s digest has %d bytes, not %zu", DIGESTS[digest].name, EVP_MD_get_size(*md),
               msg.len);
    return CCZ_OK;
}

/* Padding, digest and the SM2 id on the pkey context of a sign or verify operation. */
static bool sign_params(EVP_PKEY_CTX *ctx, const kms_key *k, const EVP_MD *md, kms_padding pad,
                        bool is_digest)
{
    if (k->spec == KMS_SM2)
        return EVP_PKEY_CTX_set1_id(ctx, SM2_USER_ID, sizeof SM2_USER_ID - 1) == 1;
    /* A digest given for ECDSA is signed as it is (its length is checked), whatever the md. */
    if (!kms_spec_rsa(k->spec))
        return true;
    if (is_digest && EVP_PKEY_CTX_set_signature_md(ctx, md) != 1)
        return false;
    if (pad == KMS_PAD_PKCS1)
        return EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1;
    return EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) == 1 &&
           EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md) == 1 &&
           EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, RSA_PSS_SALTLEN_DIGEST) == 1;
}

ccz_status kms_sign(ccz_buf *sig, const kms_key *k, kms_digest digest, kms_padding pad,
                    bool is_digest, ccz_span msg)
{
    const EVP_MD *md = NULL;
    CCZ_GUARD(sign_setup(&md, k, digest, pad, is_digest, msg));
    EVP_MD_CTX *mctx = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    size_t at = sig->len, n = (size_t)EVP_PKEY_get_size(k->pkey);
    ccz_status s = CCZ_OK;
    CCZ_GUARD_GOTO(ccz_buf_reserve(sig, n), s, done);
    if (is_digest) {
        ctx = EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey, NULL);
        CCZ_GUARD_OSSL_GOTO(ctx ? EVP_PKEY_sign_init(ctx) : 0, s, done, CCZ_ERR_CRYPTO,
                            "kms: %s signing", SPECS[k->spec].name);
        CCZ_GUARD_OSSL_GOTO(sign_params(ctx, k, md, pad, true), s, done, CCZ_ERR_CRYPTO,
                            "kms: %s signature parameters", SPECS[k->spec].name);
        CCZ_GUARD_OSSL_GOTO(EVP_PKEY_sign(ctx, sig->ptr + at, &n, msg.ptr, msg.len), s, done,
                            CCZ_ERR_CRYPTO, "kms: %s signing", SPECS[k->spec].name);
    } else {
        EVP_PKEY_CTX *pctx = NULL; /* owned by mctx */
        mctx = EVP_MD_CTX_new();
        CCZ_GUARD_OSSL_GOTO(mctx ? EVP_DigestSignInit_ex(mctx, &pctx, EVP_MD_get0_name(md), NULL,
                                                         NULL, k->pkey, NULL)
                                 : 0,
                            s, done, CCZ_ERR_CRYPTO, "kms: %s signing", SPECS[k->spec].name);
        CCZ_GUARD_OSSL_GOTO(sign_params(pctx, k, md, pad, false), s, done, CCZ_ERR_CRYPTO,
                            "kms: %s signature parameters", SPECS[k->spec].name);
        CCZ_GUARD_OSSL_GOTO(EVP_DigestSign(mctx, sig->ptr + at, &n, msg.ptr, msg.len), s, done,
                            CCZ_ERR_CRYPTO, "kms: %s signing", SPECS[k->spec].name);
    }
    sig->len = at + n;
    sig->ptr[sig->len] = 0;
done:
    EVP_MD_CTX_free(mctx);
    EVP_PKEY_CTX_free(ctx);
    return s;
}

ccz_status kms_verify(bool *valid, const kms_key *k, kms_digest digest, kms_padding pad,
                      bool is_digest, ccz_span msg, ccz_span sig)
{
    *valid = false;
    const EVP_MD *md = NULL;
    CCZ_GUARD(sign_setup(&md, k, digest, pad, is_digest, msg));
    EVP_MD_CTX *mctx = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    ccz_status s = CCZ_OK;
    int r = 0;
    if (is_digest) {
        ctx = EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey, NULL);
        CCZ_GUARD_OSSL_GOTO(ctx ? EVP_PKEY_verify_init(ctx) : 0, s, done, CCZ_ERR_CRYPTO,
                            "kms: %s verification", SPECS[k->spec].name);
        CCZ_GUARD_OSSL_GOTO(sign_params(ctx, k, md, pad, true), s, done, CCZ_ERR_CRYPTO,
                            "kms: %s signature parameters", SPECS[k->spec].name);
        r = EVP_PKEY_verify(ctx, sig.ptr, sig.len, msg.ptr, msg.len);
    } else {
        EVP_PKEY_CTX *pctx = NULL; /* owned by mctx */
        mctx = EVP_MD_CTX_new();
        CCZ_GUARD_OSSL_GOTO(mctx ? EVP_DigestVerifyInit_ex(mctx, &pctx, EVP_MD_get0_name(md), NULL,
                                                           NULL, k->pkey, NULL)
                                 : 0,
                            s, done, CCZ_ERR_CRYPTO, "kms: %s verification", SPECS[k->spec].name);
        CCZ_GUARD_OSSL_GOTO(sign_params(pctx, k, md, pad, false), s, done, CCZ_ERR_CRYPTO,
                            "kms: %s signature parameters", SPECS[k->spec].name);
        r = EVP_DigestVerify(mctx, sig.ptr, sig.len, msg.ptr, msg.len);
    }
    /* 0 or a negative value: a signature that does not verify, of any length or encoding. */
    *valid = r == 1;
    ERR_clear_error();
done:
    EVP_MD_CTX_free(mctx);
    EVP_PKEY_CTX_free(ctx);
    return s;
}

/* ---- wrapping under the domain key ---------------------------------------------------------*/

ccz_status kms_wrap(ccz_buf *out, const uint8_t domain_key[32], ccz_span material, ccz_span aad)
{
    EVP_CIPHER *c = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
    CCZ_ENSURE(c, CCZ_ERR_CRYPTO, "kms: OpenSSL has no AES-256-GCM");
    size_t at = out->len, n = 0;
    ccz_status s = CCZ_OK;
    uint8_t *p = NULL;
    CCZ_GUARD_GOTO(ccz_buf_reserve(out, GCM_IV_LEN + material.len + GCM_TAG_LEN), s, done);
    p = out->ptr + at;
    CCZ_GUARD_OSSL_GOTO(RAND_bytes(p, GCM_IV_LEN), s, done, CCZ_ERR_CRYPTO,
                        "kms: no random bytes for an IV");
    if (!cipher_run(p + GCM_IV_LEN, &n, c, domain_key, p, true, aad, material,
                    p + GCM_IV_LEN + material.len, 1)) {
        s = ccz_fail(CCZ_ERR_CRYPTO, "kms: wrapping failed");
        goto done;
    }
    out->len = at + GCM_IV_LEN + n + GCM_TAG_LEN;
    out->ptr[out->len] = 0;
done:
    EVP_CIPHER_free(c);
    return s;
}

ccz_status kms_unwrap(ccz_buf *material, const uint8_t domain_key[32], ccz_span wrapped,
                      ccz_span aad)
{
    CCZ_ENSURE(wrapped.len >= GCM_IV_LEN + GCM_TAG_LEN, CCZ_ERR_BAD_SIGNATURE,
               "kms: %zu bytes cannot be a wrapped key", wrapped.len);
    EVP_CIPHER *c = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
    CCZ_ENSURE(c, CCZ_ERR_CRYPTO, "kms: OpenSSL has no AES-256-GCM");
    ccz_span body = CCZ_SPAN(wrapped.ptr + GCM_IV_LEN, wrapped.len - GCM_IV_LEN - GCM_TAG_LEN);
    uint8_t tag[GCM_TAG_LEN];
    memcpy(tag, body.ptr + body.len, GCM_TAG_LEN);
    size_t at = material->len, n = 0;
    ccz_status s = CCZ_OK;
    CCZ_GUARD_GOTO(ccz_buf_reserve(material, body.len + SM4_BLOCK), s, done);
    if (!cipher_run(material->ptr + at, &n, c, domain_key, wrapped.ptr, true, aad, body, tag, 0)) {
        ccz_wipe(material->ptr + at, body.len);
        s = ccz_fail(CCZ_ERR_BAD_SIGNATURE,
                     "kms: the wrapped key does not verify (wrong domain key, record or bytes)");
        goto done;
    }
    material->len = at + n;
    material->ptr[material->len] = 0;
done:
    EVP_CIPHER_free(c);
    return s;
}
