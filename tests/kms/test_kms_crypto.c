/* SPDX-License-Identifier: Apache-2.0 */
/* The KMS's key operations (src/svc/kms/crypto.c): every spec generated, loaded and refused as
 * another spec; eHSM's ciphertext layouts checked against ciphertexts made independently (EVP
 * here for AES-GCM, the openssl command for SM4 and RSA); signatures checked by the openssl
 * command (RSA PKCS#1 and PSS, ECDSA, SM2 with eHSM's user id); tampering refused with its
 * exact status; wrapping under the domain key bound to its aad. */
#include <stdarg.h>
#include <pthread.h>
#include <string.h>
#include <sys/wait.h>

#include <openssl/evp.h>

#include "svc/kms/crypto.h"
#include "test.h"

/* ---- helpers -------------------------------------------------------------------------------*/

/* Material per spec, generated once (RSA-4096 takes a while). */
static ccz_buf materials[KMS_SPEC_COUNT];

static ccz_span material(kms_spec spec)
{
    ccz_buf *m = &materials[spec];
    if (m->len == 0) {
        ccz_buf_init(m, 0, true);
        CHECK_OK(kms_material_generate(m, spec));
    }
    return ccz_buf_span(m);
}

static kms_key *load(kms_spec spec)
{
    kms_key *k = NULL;
    CHECK_OK(kms_key_load(&k, spec, material(spec)));
    return k;
}

static const char *tmp(const char *name)
{
    static char paths[8][512];
    static int next;
    char *p = paths[next++ % 8];
    snprintf(p, sizeof paths[0], "%s/%s", test_tmpdir(), name);
    return p;
}

static void put(const char *name, ccz_span data)
{
    CHECK_OK(ccz_file_write(tmp(name), data, 0600));
}

static void get(ccz_buf *out, const char *name)
{
    ccz_buf_reset(out);
    CHECK_OK(ccz_file_read(out, tmp(name), 0));
}

/* Runs a shell command in the temporary directory; its exit status (-1 when it did not run). */
static int sh(const char *fmt, ...) CCZ_PRINTF(1, 2);
static int sh(const char *fmt, ...)
{
    char cmd[2048];
    int n = snprintf(cmd, sizeof cmd, "cd '%s' && ", test_tmpdir());
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd + n, sizeof cmd - (size_t)n, fmt, ap);
    va_end(ap);
    int rc = system(cmd);
    return rc == -1 || !WIFEXITED(rc) ? -1 : WEXITSTATUS(rc);
}

static const char *hex(ccz_span s)
{
    static char out[4][256];
    static int next;
    char *o = out[next++ % 4];
    ccz_buf b = CCZ_BUF_INIT;
    CHECK_OK(ccz_hex_encode(&b, s));
    snprintf(o, sizeof out[0], "%s", b.ptr ? (const char *)b.ptr : "");
    ccz_buf_free(&b);
    return o;
}

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(seed + i * 7);
}

static bool span_eq(ccz_span a, ccz_span b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static const kms_spec SYMMETRIC[] = {KMS_AES_GCM_128, KMS_AES_GCM_192, KMS_AES_GCM_256, KMS_SM4_CTR,
                                     KMS_SM4_CBC};
static const kms_spec EC[] = {KMS_EC_P224, KMS_EC_P256, KMS_EC_P256K, KMS_EC_P384, KMS_EC_P521};
static const char *const EC_CURVES[] = {"secp224r1", "prime256v1", "secp256k1", "secp384r1",
                                        "secp521r1"};
static const kms_digest SHA[] = {KMS_SHA_224, KMS_SHA_256, KMS_SHA_384, KMS_SHA_512};
static const char *const SHA_CLI[] = {"sha224", "sha256", "sha384", "sha512"};
static const char *const SHA_EVP[] = {"SHA224", "SHA256", "SHA384", "SHA512"};

/* ---- names ---------------------------------------------------------------------------------*/

static void test_names(void)
{
    for (int i = 0; i < KMS_SPEC_COUNT; i++) {
        kms_spec s;
        CHECK(kms_spec_parse(&s, kms_spec_name((kms_spec)i)) && s == (kms_spec)i);
    }
    CHECK_STR(kms_spec_name(KMS_EC_P256K), "EH_EC_P256K");
    CHECK_STR(kms_spec_name(KMS_SM4_CBC), "EH_SM4_CBC");
    CHECK_STR(kms_padding_name(KMS_PAD_PKCS1_OAEP), "EH_RSA_PKCS1_OAEP");
    CHECK_STR(kms_digest_name(KMS_SM3), "EH_SM3");
    kms_spec s;
    kms_padding p;
    kms_digest d;
    CHECK(!kms_spec_parse(&s, "eh_aes_gcm_128"));
    CHECK(!kms_spec_parse(&s, "EH_HMAC"));
    CHECK(!kms_spec_parse(&s, "EH_AES_GCM_128 "));
    CHECK(kms_padding_parse(&p, "EH_PAD_NONE") && p == KMS_PAD_NONE);
    CHECK(kms_padding_parse(&p, "EH_RSA_PKCS1_PSS") && p == KMS_PAD_PKCS1_PSS);
    CHECK(!kms_padding_parse(&p, "EH_PAD_RSA_PKCS1"));
    CHECK(!kms_padding_parse(&p, "EH_PAD_RSA_PKCS1_OAEP"));
    CHECK(!kms_padding_parse(&p, "EH_PAD_PKCS1"));
    CHECK(kms_digest_parse(&d, "EH_SHA_384") && d == KMS_SHA_384);
    for (int i = 0; i <= KMS_SM3; i++)
        CHECK(kms_digest_parse(&d, kms_digest_name((kms_digest)i)) && d == (kms_digest)i);
    for (int i = 0; i <= KMS_PAD_PKCS1_OAEP; i++)
        CHECK(kms_padding_parse(&p, kms_padding_name((kms_padding)i)) && p == (kms_padding)i);
    CHECK(!kms_digest_parse(&d, "EH_SHA_SHA256"));
    CHECK(kms_spec_symmetric(KMS_SM4_CTR) && !kms_spec_symmetric(KMS_SM2));
    CHECK(kms_spec_authenticated(KMS_AES_GCM_192) && !kms_spec_authenticated(KMS_SM4_CBC));
    CHECK(kms_spec_rsa(KMS_RSA_3072) && !kms_spec_rsa(KMS_EC_P256));
    CHECK(kms_spec_ec(KMS_EC_P521) && !kms_spec_ec(KMS_SM2));
    CHECK_INT(kms_spec_key_len(KMS_AES_GCM_192), 24);
    CHECK_INT(kms_spec_key_len(KMS_SM4_CBC), 16);
    CHECK_INT(kms_spec_key_len(KMS_RSA_2048), 0);
}

/* ---- material and loading ------------------------------------------------------------------*/

static void test_every_spec_loads(void)
{
    for (int i = 0; i < KMS_SPEC_COUNT; i++) {
        kms_key *k = load((kms_spec)i);
        CHECK(k && kms_key_spec(k) == (kms_spec)i);
        if (kms_spec_symmetric((kms_spec)i))
            CHECK_INT(material((kms_spec)i).len, kms_spec_key_len((kms_spec)i));
        else
            CHECK(material((kms_spec)i).ptr[0] == 0x30); /* DER SEQUENCE */
        kms_key_free(k);
    }
    kms_key_free(NULL); /* a no-op, as free(NULL) */
    /* two generations differ */
    ccz_buf a, b;
    ccz_buf_init(&a, 0, true);
    ccz_buf_init(&b, 0, true);
    CHECK_OK(kms_material_generate(&a, KMS_AES_GCM_256));
    CHECK_OK(kms_material_generate(&b, KMS_AES_GCM_256));
    CHECK(a.len == 32 && b.len == 32 && memcmp(a.ptr, b.ptr, 32) != 0);
    ccz_buf_free(&a);
    ccz_buf_free(&b);
}

static void refused(kms_spec as, ccz_span m)
{
    kms_key *k = (kms_key *)1;
    CHECK_STATUS(kms_key_load(&k, as, m), CCZ_ERR_KEY_MALFORMED);
    CHECK(k == NULL);
}

static void test_wrong_spec_refused(void)
{
    static const struct {
        kms_spec from, as;
    } cases[] = {
        {KMS_RSA_2048, KMS_RSA_3072},
        {KMS_RSA_2048, KMS_RSA_4096},
        {KMS_RSA_4096, KMS_RSA_2048},
        {KMS_RSA_3072, KMS_RSA_2048},
        {KMS_RSA_2048, KMS_EC_P256},
        {KMS_RSA_2048, KMS_SM2},
        {KMS_EC_P256, KMS_EC_P384},
        {KMS_EC_P384, KMS_EC_P256},
        {KMS_EC_P256, KMS_EC_P256K},
        {KMS_EC_P256K, KMS_EC_P256},
        {KMS_EC_P224, KMS_EC_P521},
        {KMS_EC_P521, KMS_EC_P224},
        {KMS_EC_P256, KMS_RSA_2048},
        {KMS_SM2, KMS_EC_P256},
        {KMS_EC_P256, KMS_SM2},
        {KMS_SM2, KMS_RSA_2048},
        {KMS_AES_GCM_128, KMS_AES_GCM_256},
        {KMS_AES_GCM_128, KMS_AES_GCM_192},
        {KMS_AES_GCM_256, KMS_AES_GCM_128},
        {KMS_AES_GCM_256, KMS_SM4_CTR},
        {KMS_AES_GCM_192, KMS_SM4_CBC},
        {KMS_AES_GCM_128, KMS_RSA_2048},
        {KMS_RSA_2048, KMS_AES_GCM_256},
        {KMS_EC_P256, KMS_AES_GCM_128},
    };
    for (size_t i = 0; i < CCZ_ARRAY_LEN(cases); i++)
        refused(cases[i].as, material(cases[i].from));
    /* a 16-byte key is an SM4 or AES-128 key */
    kms_key *k = NULL;
    CHECK_OK(kms_key_load(&k, KMS_SM4_CBC, material(KMS_AES_GCM_128)));
    kms_key_free(k);
    /* not DER, empty, truncated, trailing bytes */
    refused(KMS_RSA_2048, CCZ_LIT("not a key"));
    refused(KMS_RSA_2048, CCZ_SPAN("", 0));
    refused(KMS_AES_GCM_128, CCZ_SPAN("", 0));
    ccz_span p256 = material(KMS_EC_P256);
    refused(KMS_EC_P256, CCZ_SPAN(p256.ptr, p256.len - 1));
    ccz_buf longer;
    ccz_buf_init(&longer, 0, true);
    CHECK_OK(ccz_buf_append(&longer, p256.ptr, p256.len));
    CHECK_OK(ccz_buf_append_u8(&longer, 0));
    refused(KMS_EC_P256, ccz_buf_span(&longer));
    ccz_buf_free(&longer);
    /* the SEC1 form of a P-256 key (not PKCS#8) */
    put("p256.der", p256);
    CHECK_INT(sh("openssl ec -inform DER -in p256.der -outform DER -out sec1.der 2>/dev/null"), 0);
    ccz_buf sec1;
    ccz_buf_init(&sec1, 0, true);
    get(&sec1, "sec1.der");
    refused(KMS_EC_P256, ccz_buf_span(&sec1));
    ccz_buf_free(&sec1);
    /* a key the openssl command made loads (PKCS#8 from elsewhere) */
    CHECK_INT(sh("openssl genpkey -algorithm SM2 -out sm2.pem && openssl pkey -in sm2.pem "
                 "-outform DER -out sm2.sec1 && openssl pkcs8 -topk8 -nocrypt -in sm2.pem "
                 "-outform DER -out sm2.der"),
              0);
    ccz_buf sm2;
    ccz_buf_init(&sm2, 0, true);
    get(&sm2, "sm2.sec1"); /* SEC1, not PKCS#8 */
    refused(KMS_SM2, ccz_buf_span(&sm2));
    get(&sm2, "sm2.der");
    CHECK_OK(kms_key_load(&k, KMS_SM2, ccz_buf_span(&sm2)));
    kms_key_free(k);
    refused(KMS_EC_P256, ccz_buf_span(&sm2));
    /* an RSA-PSS key (rsassaPss) is not an RSA key of eHSM's */
    CHECK_INT(sh("openssl genpkey -algorithm RSA-PSS -pkeyopt rsa_keygen_bits:2048 -outform DER "
                 "-out pss.der 2>/dev/null"),
              0);
    get(&sm2, "pss.der");
    refused(KMS_RSA_2048, ccz_buf_span(&sm2));
    ccz_buf_free(&sm2);
}

/* ---- symmetric -----------------------------------------------------------------------------*/

static size_t expected_len(kms_spec s, size_t n)
{
    if (kms_spec_authenticated(s))
        return n + 28;
    if (s == KMS_SM4_CTR)
        return n + 16;
    return (n / 16 + 1) * 16 + 16;
}

static void test_symmetric_round_trips(void)
{
    static const size_t lens[] = {1, 15, 16, 17, 100, KMS_MAX_PLAINTEXT};
    uint8_t pt[KMS_MAX_PLAINTEXT + 1];
    fill(pt, sizeof pt, 3);
    ccz_span aad = CCZ_LIT("the aad"), other = CCZ_LIT("the aaD");
    for (size_t i = 0; i < CCZ_ARRAY_LEN(SYMMETRIC); i++) {
        kms_spec spec = SYMMETRIC[i];
        kms_key *k = load(spec);
        for (size_t j = 0; j < CCZ_ARRAY_LEN(lens); j++) {
            ccz_buf ct = CCZ_BUF_INIT, back;
            ccz_buf_init(&back, 0, true);
            CHECK_OK(kms_encrypt(&ct, k, CCZ_SPAN(pt, lens[j]), aad));
            CHECK_INT(ct.len, expected_len(spec, lens[j]));
            CHECK_OK(kms_decrypt(&back, k, ccz_buf_span(&ct), aad));
            CHECK(span_eq(ccz_buf_span(&back), CCZ_SPAN(pt, lens[j])));
            /* SM4 ignores aad as eHSM does; AES-GCM authenticates it */
            ccz_buf_reset(&back);
            CHECK_STATUS(kms_decrypt(&back, k, ccz_buf_span(&ct), other),
                         kms_spec_authenticated(spec) ? CCZ_ERR_BAD_SIGNATURE : CCZ_OK);
            ccz_buf_free(&ct);
            ccz_buf_free(&back);
        }
        /* two encryptions of one plaintext differ (random IV) */
        ccz_buf a = CCZ_BUF_INIT, b = CCZ_BUF_INIT, out = CCZ_BUF_INIT;
        CHECK_OK(kms_encrypt(&a, k, CCZ_SPAN(pt, 32), aad));
        CHECK_OK(kms_encrypt(&b, k, CCZ_SPAN(pt, 32), aad));
        CHECK(a.len == b.len && memcmp(a.ptr, b.ptr, a.len) != 0);
        CHECK_STATUS(kms_encrypt(&out, k, CCZ_SPAN(pt, 0), aad), CCZ_ERR_INVALID_ARGUMENT);
        CHECK_STATUS(kms_encrypt(&out, k, CCZ_SPAN(pt, KMS_MAX_PLAINTEXT + 1), aad),
                     CCZ_ERR_INVALID_ARGUMENT);
        CHECK_INT(out.len, 0);
        /* lengths that cannot be a ciphertext */
        size_t min = kms_spec_authenticated(spec) ? 28 : spec == KMS_SM4_CTR ? 16 : 31;
        CHECK_STATUS(kms_decrypt(&out, k, CCZ_SPAN(a.ptr, min), aad), CCZ_ERR_MALFORMED);
        CHECK_STATUS(kms_decrypt(&out, k, CCZ_SPAN(a.ptr, 0), aad), CCZ_ERR_MALFORMED);
        if (spec == KMS_SM4_CBC)
            CHECK_STATUS(kms_decrypt(&out, k, CCZ_SPAN(a.ptr, a.len - 1), aad), CCZ_ERR_MALFORMED);
        CHECK_INT(out.len, 0);
        /* another key of the spec */
        ccz_buf m2;
        ccz_buf_init(&m2, 0, true);
        CHECK_OK(kms_material_generate(&m2, spec));
        kms_key *k2 = NULL;
        CHECK_OK(kms_key_load(&k2, spec, ccz_buf_span(&m2)));
        if (kms_spec_authenticated(spec))
            CHECK_STATUS(kms_decrypt(&out, k2, ccz_buf_span(&a), aad), CCZ_ERR_BAD_SIGNATURE);
        kms_key_free(k2);
        ccz_buf_free(&m2);
        ccz_buf_free(&a);
        ccz_buf_free(&b);
        ccz_buf_free(&out);
        kms_key_free(k);
    }
}

static void test_gcm_tampering(void)
{
    uint8_t pt[40];
    fill(pt, sizeof pt, 9);
    ccz_span aad = CCZ_LIT("key id and owner");
    for (kms_spec spec = KMS_AES_GCM_128; spec <= KMS_AES_GCM_256; spec++) {
        kms_key *k = load(spec);
        ccz_buf ct = CCZ_BUF_INIT, out = CCZ_BUF_INIT;
        CHECK_OK(kms_encrypt(&ct, k, CCZ_SPAN(pt, sizeof pt), aad));
        /* every byte: ciphertext, iv, tag */
        for (size_t i = 0; i < ct.len; i++) {
            ct.ptr[i] ^= 0x01;
            CHECK_STATUS(kms_decrypt(&out, k, ccz_buf_span(&ct), aad), CCZ_ERR_BAD_SIGNATURE);
            ct.ptr[i] ^= 0x01;
        }
        CHECK_INT(out.len, 0);
        CHECK_STATUS(kms_decrypt(&out, k, ccz_buf_span(&ct), CCZ_LIT("key id and ownes")),
                     CCZ_ERR_BAD_SIGNATURE);
        CHECK_STATUS(kms_decrypt(&out, k, ccz_buf_span(&ct), CCZ_SPAN("", 0)),
                     CCZ_ERR_BAD_SIGNATURE);
        CHECK_OK(kms_decrypt(&out, k, ccz_buf_span(&ct), aad));
        CHECK(span_eq(ccz_buf_span(&out), CCZ_SPAN(pt, sizeof pt)));
        ccz_buf_free(&ct);
        ccz_buf_free(&out);
        kms_key_free(k);
    }
}

/* AES-GCM with EVP directly: ct, the tag; enc or dec. */
static bool evp_gcm(const char *name, const uint8_t *key, const uint8_t iv[12], ccz_span aad,
                    const uint8_t *in, size_t n, uint8_t *out, uint8_t tag[16], int enc)
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int l = 0, f = 0;
    bool ok = EVP_CipherInit_ex2(c, EVP_get_cipherbyname(name), key, iv, enc, NULL) == 1 &&
              EVP_CipherUpdate(c, NULL, &l, aad.ptr, (int)aad.len) == 1 &&
              EVP_CipherUpdate(c, out, &l, in, (int)n) == 1 &&
              (enc || EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, 16, tag) == 1) &&
              EVP_CipherFinal_ex(c, out + l, &f) == 1 &&
              (!enc || EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, 16, tag) == 1);
    EVP_CIPHER_CTX_free(c);
    return ok;
}

/* eHSM's layout ct ‖ iv(12) ‖ tag(16), both ways, against EVP with a fixed key and IV. */
static void test_gcm_layout(void)
{
    static const char *const names[] = {"AES-128-GCM", "AES-192-GCM", "AES-256-GCM"};
    uint8_t key[32], iv[12], pt[50], ct[50], tag[16];
    fill(key, sizeof key, 1);
    fill(iv, sizeof iv, 100);
    fill(pt, sizeof pt, 42);
    ccz_span aad = CCZ_LIT("aad bytes");
    for (int i = 0; i < 3; i++) {
        kms_spec spec = (kms_spec)(KMS_AES_GCM_128 + i);
        kms_key *k = NULL;
        CHECK_OK(kms_key_load(&k, spec, CCZ_SPAN(key, kms_spec_key_len(spec))));
        CHECK(evp_gcm(names[i], key, iv, aad, pt, sizeof pt, ct, tag, 1));
        ccz_buf wire = CCZ_BUF_INIT, out = CCZ_BUF_INIT;
        CHECK_OK(ccz_buf_append(&wire, ct, sizeof ct));
        CHECK_OK(ccz_buf_append(&wire, iv, sizeof iv));
        CHECK_OK(ccz_buf_append(&wire, tag, sizeof tag));
        CHECK_OK(kms_decrypt(&out, k, ccz_buf_span(&wire), aad));
        CHECK(span_eq(ccz_buf_span(&out), CCZ_SPAN(pt, sizeof pt)));
        /* the other way: kms_encrypt's output opened by EVP from the layout */
        ccz_buf_reset(&wire);
        CHECK_OK(kms_encrypt(&wire, k, CCZ_SPAN(pt, sizeof pt), aad));
        uint8_t back[50], t2[16];
        memcpy(t2, wire.ptr + 50 + 12, 16);
        CHECK(evp_gcm(names[i], key, wire.ptr + 50, aad, wire.ptr, 50, back, t2, 0));
        CHECK(memcmp(back, pt, sizeof pt) == 0);
        ccz_buf_free(&wire);
        ccz_buf_free(&out);
        kms_key_free(k);
    }
}

/* eHSM's SM4 layouts ct ‖ iv(16), both ways, against `openssl enc`. */
static void test_sm4_layout(void)
{
    uint8_t key[16], iv[16], pt[37];
    fill(key, sizeof key, 5);
    fill(iv, sizeof iv, 77);
    fill(pt, sizeof pt, 200);
    put("sm4.pt", CCZ_SPAN(pt, sizeof pt));
    static const struct {
        kms_spec spec;
        const char *cli;
    } modes[] = {{KMS_SM4_CBC, "sm4-cbc"}, {KMS_SM4_CTR, "sm4-ctr"}};
    for (size_t i = 0; i < CCZ_ARRAY_LEN(modes); i++) {
        kms_key *k = NULL;
        CHECK_OK(kms_key_load(&k, modes[i].spec, CCZ_SPAN(key, 16)));
        CHECK_INT(sh("openssl enc -%s -K %s -iv %s -in sm4.pt -out sm4.ct", modes[i].cli,
                     hex(CCZ_SPAN(key, 16)), hex(CCZ_SPAN(iv, 16))),
                  0);
        ccz_buf wire = CCZ_BUF_INIT, out = CCZ_BUF_INIT;
        get(&wire, "sm4.ct");
        CHECK_INT(wire.len, modes[i].spec == KMS_SM4_CBC ? 48 : 37);
        CHECK_OK(ccz_buf_append(&wire, iv, sizeof iv));
        CHECK_OK(kms_decrypt(&out, k, ccz_buf_span(&wire), CCZ_SPAN("", 0)));
        CHECK(span_eq(ccz_buf_span(&out), CCZ_SPAN(pt, sizeof pt)));
        /* the other way: kms_encrypt's ct opened by openssl with the trailing iv */
        ccz_buf_reset(&wire);
        CHECK_OK(kms_encrypt(&wire, k, CCZ_SPAN(pt, sizeof pt), CCZ_LIT("ignored")));
        size_t ctlen = wire.len - 16;
        put("kms.ct", CCZ_SPAN(wire.ptr, ctlen));
        CHECK_INT(sh("openssl enc -d -%s -K %s -iv %s -in kms.ct -out kms.pt", modes[i].cli,
                     hex(CCZ_SPAN(key, 16)), hex(CCZ_SPAN(wire.ptr + ctlen, 16))),
                  0);
        get(&out, "kms.pt");
        CHECK(span_eq(ccz_buf_span(&out), CCZ_SPAN(pt, sizeof pt)));
        ccz_buf_free(&wire);
        ccz_buf_free(&out);
        kms_key_free(k);
    }
    /* CBC with a wrong PKCS#7 padding: one block of zeros encrypted without padding */
    kms_key *k = NULL;
    CHECK_OK(kms_key_load(&k, KMS_SM4_CBC, CCZ_SPAN(key, 16)));
    uint8_t zeros[16] = {0};
    put("zeros", CCZ_SPAN(zeros, 16));
    CHECK_INT(sh("openssl enc -sm4-cbc -nopad -K %s -iv %s -in zeros -out zeros.ct",
                 hex(CCZ_SPAN(key, 16)), hex(CCZ_SPAN(iv, 16))),
              0);
    ccz_buf wire = CCZ_BUF_INIT, out = CCZ_BUF_INIT;
    get(&wire, "zeros.ct");
    CHECK_OK(ccz_buf_append(&wire, iv, sizeof iv));
    CHECK_STATUS(kms_decrypt(&out, k, ccz_buf_span(&wire), CCZ_SPAN("", 0)), CCZ_ERR_MALFORMED);
    CHECK_INT(out.len, 0);
    ccz_buf_free(&wire);
    ccz_buf_free(&out);
    kms_key_free(k);
}

static void test_wrong_key_kind(void)
{
    kms_key *aes = load(KMS_AES_GCM_128), *rsa = load(KMS_RSA_2048), *ec = load(KMS_EC_P256);
    ccz_buf out = CCZ_BUF_INIT;
    bool valid = true;
    CHECK_STATUS(kms_encrypt(&out, rsa, CCZ_LIT("x"), CCZ_SPAN("", 0)), CCZ_ERR_UNSUPPORTED);
    CHECK_STATUS(kms_decrypt(&out, ec, CCZ_LIT("0123456789012345678901234567890"), CCZ_SPAN("", 0)),
                 CCZ_ERR_UNSUPPORTED);
    CHECK_STATUS(kms_public_pem(&out, aes), CCZ_ERR_UNSUPPORTED);
    CHECK_STATUS(kms_asym_encrypt(&out, aes, KMS_PAD_PKCS1, CCZ_LIT("x")), CCZ_ERR_UNSUPPORTED);
    CHECK_STATUS(kms_asym_encrypt(&out, ec, KMS_PAD_PKCS1, CCZ_LIT("x")), CCZ_ERR_UNSUPPORTED);
    CHECK_STATUS(kms_asym_decrypt(&out, ec, KMS_PAD_PKCS1, CCZ_LIT("x")), CCZ_ERR_UNSUPPORTED);
    CHECK_STATUS(kms_sign(&out, aes, KMS_SHA_256, KMS_PAD_NONE, false, CCZ_LIT("x")),
                 CCZ_ERR_UNSUPPORTED);
    CHECK_STATUS(
        kms_verify(&valid, aes, KMS_SHA_256, KMS_PAD_NONE, false, CCZ_LIT("x"), CCZ_LIT("y")),
        CCZ_ERR_UNSUPPORTED);
    CHECK(!valid);
    CHECK_INT(out.len, 0);
    ccz_buf_free(&out);
    kms_key_free(aes);
    kms_key_free(rsa);
    kms_key_free(ec);
}

/* ---- public keys ---------------------------------------------------------------------------*/

/* Writes k's public PEM to name and checks its first and last lines. */
static void public_pem(const kms_key *k, const char *name, const char *header)
{
    ccz_buf pem = CCZ_BUF_INIT;
    CHECK_OK(kms_public_pem(&pem, k));
    char begin[64], end[64];
    snprintf(begin, sizeof begin, "-----BEGIN %s-----\n", header);
    snprintf(end, sizeof end, "\n-----END %s-----\n", header);
    CHECK(pem.len > strlen(begin) + strlen(end) && memcmp(pem.ptr, begin, strlen(begin)) == 0 &&
          memcmp(pem.ptr + pem.len - strlen(end), end, strlen(end)) == 0);
    put(name, ccz_buf_span(&pem));
    ccz_buf_free(&pem);
}

static void test_public_pem(void)
{
    for (kms_spec s = KMS_RSA_2048; s <= KMS_RSA_4096; s++) {
        kms_key *k = load(s);
        public_pem(k, "rsa.pub", "RSA PUBLIC KEY");
        /* PKCS#1 RSAPublicKey of the right size */
        CHECK_INT(sh("openssl rsa -RSAPublicKey_in -in rsa.pub -noout -text 2>/dev/null | "
                     "grep -q 'Public-Key: (%d bit)'",
                     s == KMS_RSA_2048   ? 2048
                     : s == KMS_RSA_3072 ? 3072
                                         : 4096),
                  0);
        kms_key_free(k);
    }
    for (size_t i = 0; i < CCZ_ARRAY_LEN(EC); i++) {
        kms_key *k = load(EC[i]);
        public_pem(k, "ec.pub", "PUBLIC KEY");
        CHECK_INT(sh("openssl pkey -pubin -in ec.pub -noout -text 2>/dev/null | "
                     "grep -q 'ASN1 OID: %s'",
                     EC_CURVES[i]),
                  0);
        kms_key_free(k);
    }
    kms_key *k = load(KMS_SM2);
    public_pem(k, "sm2.pub", "PUBLIC KEY");
    CHECK_INT(sh("openssl pkey -pubin -in sm2.pub -noout -text 2>/dev/null | grep -q 'ASN1 OID: "
                 "SM2'"),
              0);
    kms_key_free(k);
}

/* ---- asymmetric encryption -----------------------------------------------------------------*/

static void rsa_encrypt_one(kms_spec spec)
{
    kms_key *k = load(spec);
    size_t mod = spec == KMS_RSA_2048 ? 256 : spec == KMS_RSA_3072 ? 384 : 512;
    uint8_t pt[512];
    fill(pt, sizeof pt, 11);
    static const kms_padding pads[] = {KMS_PAD_PKCS1, KMS_PAD_PKCS1_OAEP};
    for (int p = 0; p < 2; p++) {
        size_t max = pads[p] == KMS_PAD_PKCS1 ? mod - 11 : mod - 66;
        static const size_t lens[] = {0, 1, 32};
        for (size_t i = 0; i < 4; i++) {
            size_t n = i < 3 ? lens[i] : max;
            ccz_buf ct = CCZ_BUF_INIT, back;
            ccz_buf_init(&back, 0, true);
            CHECK_OK(kms_asym_encrypt(&ct, k, pads[p], CCZ_SPAN(pt, n)));
            CHECK_INT(ct.len, mod);
            CHECK_OK(kms_asym_decrypt(&back, k, pads[p], ccz_buf_span(&ct)));
            CHECK(span_eq(ccz_buf_span(&back), CCZ_SPAN(pt, n)));
            /* A PKCS#1 ciphertext decrypted as OAEP, an OAEP one flipped, any truncated: the
             * same failure. (Not the converse: an OAEP block passes the v1.5 unpadding about
             * once in 256, and so would a flipped v1.5 ciphertext once in ~2^16.) */
            ccz_buf_reset(&back);
            if (pads[p] == KMS_PAD_PKCS1) {
                CHECK_STATUS(kms_asym_decrypt(&back, k, KMS_PAD_PKCS1_OAEP, ccz_buf_span(&ct)),
                             CCZ_ERR_BAD_SIGNATURE);
            } else {
                ct.ptr[mod / 2] ^= 0x40;
                CHECK_STATUS(kms_asym_decrypt(&back, k, pads[p], ccz_buf_span(&ct)),
                             CCZ_ERR_BAD_SIGNATURE);
            }
            CHECK_STATUS(kms_asym_decrypt(&back, k, pads[p], CCZ_SPAN(ct.ptr, mod - 1)),
                         CCZ_ERR_BAD_SIGNATURE);
            CHECK_STATUS(kms_asym_decrypt(&back, k, pads[p], CCZ_SPAN(ct.ptr, 0)),
                         CCZ_ERR_BAD_SIGNATURE);
            CHECK_INT(back.len, 0);
            ccz_buf_free(&ct);
            ccz_buf_free(&back);
        }
        /* the block 00…01 (1^d = 1) has no valid padding of either kind, deterministically */
        uint8_t one[512] = {0};
        one[mod - 1] = 1;
        ccz_buf out = CCZ_BUF_INIT;
        CHECK_STATUS(kms_asym_decrypt(&out, k, pads[p], CCZ_SPAN(one, mod)), CCZ_ERR_BAD_SIGNATURE);
        CHECK_STATUS(kms_asym_encrypt(&out, k, pads[p], CCZ_SPAN(pt, max + 1)),
                     CCZ_ERR_INVALID_ARGUMENT);
        CHECK_INT(out.len, 0);
        ccz_buf_free(&out);
    }
    ccz_buf out = CCZ_BUF_INIT;
    CHECK_STATUS(kms_asym_encrypt(&out, k, KMS_PAD_PKCS1_PSS, CCZ_LIT("x")),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(kms_asym_encrypt(&out, k, KMS_PAD_NONE, CCZ_LIT("x")), CCZ_ERR_INVALID_ARGUMENT);
    ccz_buf_free(&out);
    kms_key_free(k);
}

static void test_rsa_encrypt(void)
{
    for (kms_spec s = KMS_RSA_2048; s <= KMS_RSA_4096; s++)
        rsa_encrypt_one(s);
}

/* Ciphertexts of the openssl command decrypt, and ours decrypt there (OAEP SHA-256 with
 * MGF1-SHA-256, and PKCS#1 v1.5). */
static void test_rsa_encrypt_cli(void)
{
    kms_key *k = load(KMS_RSA_2048);
    public_pem(k, "rsa.pub", "RSA PUBLIC KEY");
    put("rsa.der", material(KMS_RSA_2048));
    uint8_t pt[100];
    fill(pt, sizeof pt, 17);
    put("rsa.pt", CCZ_SPAN(pt, sizeof pt));
    static const char *const opts[] = {
        "-pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256",
        "-pkeyopt rsa_padding_mode:pkcs1"};
    static const kms_padding pads[] = {KMS_PAD_PKCS1_OAEP, KMS_PAD_PKCS1};
    for (int p = 0; p < 2; p++) {
        ccz_buf ct = CCZ_BUF_INIT, back;
        ccz_buf_init(&back, 0, true);
        CHECK_INT(
            sh("openssl pkeyutl -encrypt -pubin -inkey rsa.pub %s -in rsa.pt -out rsa.ct", opts[p]),
            0);
        get(&ct, "rsa.ct");
        CHECK_OK(kms_asym_decrypt(&back, k, pads[p], ccz_buf_span(&ct)));
        CHECK(span_eq(ccz_buf_span(&back), CCZ_SPAN(pt, sizeof pt)));
        ccz_buf_reset(&ct);
        CHECK_OK(kms_asym_encrypt(&ct, k, pads[p], CCZ_SPAN(pt, sizeof pt)));
        put("kms.ct", ccz_buf_span(&ct));
        CHECK_INT(sh("openssl pkeyutl -decrypt -keyform DER -inkey rsa.der %s -in kms.ct "
                     "-out kms.pt",
                     opts[p]),
                  0);
        get(&back, "kms.pt");
        CHECK(span_eq(ccz_buf_span(&back), CCZ_SPAN(pt, sizeof pt)));
        ccz_buf_free(&ct);
        ccz_buf_free(&back);
    }
    /* OAEP with SHA-1 (OpenSSL's default) is not eHSM's OAEP */
    ccz_buf ct = CCZ_BUF_INIT, back = CCZ_BUF_INIT;
    CHECK_INT(sh("openssl pkeyutl -encrypt -pubin -inkey rsa.pub -pkeyopt rsa_padding_mode:oaep "
                 "-in rsa.pt -out sha1.ct"),
              0);
    get(&ct, "sha1.ct");
    CHECK_STATUS(kms_asym_decrypt(&back, k, KMS_PAD_PKCS1_OAEP, ccz_buf_span(&ct)),
                 CCZ_ERR_BAD_SIGNATURE);
    ccz_buf_free(&ct);
    ccz_buf_free(&back);
    kms_key_free(k);
}

static void test_sm2_encrypt(void)
{
    kms_key *k = load(KMS_SM2);
    uint8_t pt[300];
    fill(pt, sizeof pt, 23);
    for (size_t n = 1; n <= sizeof pt; n += 149) {
        ccz_buf ct = CCZ_BUF_INIT, back;
        ccz_buf_init(&back, 0, true);
        /* the padding is ignored */
        CHECK_OK(kms_asym_encrypt(&ct, k, KMS_PAD_PKCS1_OAEP, CCZ_SPAN(pt, n)));
        CHECK(ct.len > n + 96 && ct.ptr[0] == 0x30);
        CHECK_OK(kms_asym_decrypt(&back, k, KMS_PAD_NONE, ccz_buf_span(&ct)));
        CHECK(span_eq(ccz_buf_span(&back), CCZ_SPAN(pt, n)));
        ccz_buf_reset(&back);
        ct.ptr[ct.len - 1] ^= 1; /* C2 */
        CHECK_STATUS(kms_asym_decrypt(&back, k, KMS_PAD_NONE, ccz_buf_span(&ct)),
                     CCZ_ERR_BAD_SIGNATURE);
        CHECK_STATUS(kms_asym_decrypt(&back, k, KMS_PAD_NONE, CCZ_SPAN(ct.ptr, ct.len - 1)),
                     CCZ_ERR_BAD_SIGNATURE);
        CHECK_INT(back.len, 0);
        ccz_buf_free(&ct);
        ccz_buf_free(&back);
    }
    /* the openssl command's SM2 ciphertext decrypts; ours decrypts there */
    public_pem(k, "sm2.pub", "PUBLIC KEY");
    put("sm2.der", material(KMS_SM2));
    put("sm2.pt", CCZ_SPAN(pt, 64));
    ccz_buf ct = CCZ_BUF_INIT, back;
    ccz_buf_init(&back, 0, true);
    CHECK_INT(sh("openssl pkeyutl -encrypt -pubin -inkey sm2.pub -in sm2.pt -out sm2.ct"), 0);
    get(&ct, "sm2.ct");
    CHECK_OK(kms_asym_decrypt(&back, k, KMS_PAD_PKCS1, ccz_buf_span(&ct)));
    CHECK(span_eq(ccz_buf_span(&back), CCZ_SPAN(pt, 64)));
    ccz_buf_reset(&ct);
    CHECK_OK(kms_asym_encrypt(&ct, k, KMS_PAD_PKCS1, CCZ_SPAN(pt, 64)));
    put("kms.ct", ccz_buf_span(&ct));
    CHECK_INT(sh("openssl pkeyutl -decrypt -keyform DER -inkey sm2.der -in kms.ct -out kms.pt"), 0);
    get(&back, "kms.pt");
    CHECK(span_eq(ccz_buf_span(&back), CCZ_SPAN(pt, 64)));
    ccz_buf_reset(&ct);
    CHECK_STATUS(kms_asym_encrypt(&ct, k, KMS_PAD_PKCS1, CCZ_SPAN(pt, 0)),
                 CCZ_ERR_INVALID_ARGUMENT);
    ccz_buf_free(&ct);
    ccz_buf_free(&back);
    kms_key_free(k);
}

/* ---- sign and verify -----------------------------------------------------------------------*/

static void digest_of(ccz_buf *out, const char *md, ccz_span msg)
{
    uint8_t d[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    CHECK(EVP_Digest(msg.ptr, msg.len, d, &n, EVP_get_digestbyname(md), NULL) == 1);
    ccz_buf_reset(out);
    CHECK_OK(ccz_buf_append(out, d, n));
}

/* sig verifies with kms_verify; flipped signature or message do not (valid false, CCZ_OK). */
static void verify_and_tamper(const kms_key *k, kms_digest d, kms_padding pad, bool is_digest,
                              ccz_span msg, ccz_buf *sig)
{
    bool valid = false;
    CHECK_OK(kms_verify(&valid, k, d, pad, is_digest, msg, ccz_buf_span(sig)));
    CHECK(valid);
    sig->ptr[sig->len / 2] ^= 0x08;
    valid = true;
    CHECK_OK(kms_verify(&valid, k, d, pad, is_digest, msg, ccz_buf_span(sig)));
    CHECK(!valid);
    sig->ptr[sig->len / 2] ^= 0x08;
    valid = true;
    CHECK_OK(kms_verify(&valid, k, d, pad, is_digest, msg, CCZ_SPAN(sig->ptr, sig->len - 1)));
    CHECK(!valid);
    valid = true;
    CHECK_OK(kms_verify(&valid, k, d, pad, is_digest, msg, CCZ_SPAN("", 0)));
    CHECK(!valid);
    ccz_buf m2 = CCZ_BUF_INIT;
    CHECK_OK(ccz_buf_append(&m2, msg.ptr, msg.len));
    m2.ptr[0] ^= 0x01;
    valid = true;
    CHECK_OK(kms_verify(&valid, k, d, pad, is_digest, ccz_buf_span(&m2), ccz_buf_span(sig)));
    CHECK(!valid);
    ccz_buf_free(&m2);
}

static void test_rsa_sign(void)
{
    kms_key *k = load(KMS_RSA_2048);
    public_pem(k, "rsa.pub", "RSA PUBLIC KEY");
    ccz_span msg = CCZ_LIT("the message eHSM signs");
    put("msg", msg);
    ccz_buf sig = CCZ_BUF_INIT, dig = CCZ_BUF_INIT;
    static const kms_padding pads[] = {KMS_PAD_PKCS1, KMS_PAD_PKCS1_PSS};
    for (size_t i = 0; i < CCZ_ARRAY_LEN(SHA); i++) {
        digest_of(&dig, SHA_EVP[i], msg);
        for (int p = 0; p < 2; p++) {
            for (int is_digest = 0; is_digest < 2; is_digest++) {
                ccz_span m = is_digest ? ccz_buf_span(&dig) : msg;
                ccz_buf_reset(&sig);
                CHECK_OK(kms_sign(&sig, k, SHA[i], pads[p], is_digest, m));
                CHECK_INT(sig.len, 256);
                /* the openssl command verifies it over the message */
                put("sig", ccz_buf_span(&sig));
                CHECK_INT(sh("openssl dgst -%s -verify rsa.pub -signature sig %s msg >/dev/null",
                             SHA_CLI[i],
                             pads[p] == KMS_PAD_PKCS1_PSS
                                 ? "-sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:digest"
                                 : ""),
                          0);
                verify_and_tamper(k, SHA[i], pads[p], is_digest, m, &sig);
                /* RAW and DIGEST are the same signature scheme */
                bool valid = false;
                CHECK_OK(kms_verify(&valid, k, SHA[i], pads[p], !is_digest,
                                    is_digest ? msg : ccz_buf_span(&dig), ccz_buf_span(&sig)));
                CHECK(valid);
                /* the other padding does not verify it */
                valid = true;
                CHECK_OK(
                    kms_verify(&valid, k, SHA[i], pads[1 - p], is_digest, m, ccz_buf_span(&sig)));
                CHECK(!valid);
            }
        }
        /* a digest of the wrong length */
        ccz_buf_reset(&sig);
        CHECK_STATUS(kms_sign(&sig, k, SHA[i], KMS_PAD_PKCS1, true, CCZ_SPAN(dig.ptr, dig.len - 1)),
                     CCZ_ERR_INVALID_ARGUMENT);
        bool valid = true;
        CHECK_STATUS(kms_verify(&valid, k, SHA[i], KMS_PAD_PKCS1, true, msg, CCZ_LIT("sig")),
                     CCZ_ERR_INVALID_ARGUMENT);
        CHECK(!valid);
        CHECK_INT(sig.len, 0);
    }
    /* the PSS salt is the digest's length: a signature with another salt does not verify */
    put("rsa.der", material(KMS_RSA_2048));
    CHECK_INT(sh("openssl dgst -sha256 -keyform DER -sign rsa.der -sigopt rsa_padding_mode:pss "
                 "-sigopt rsa_pss_saltlen:20 -out pss20 msg"),
              0);
    get(&sig, "pss20");
    bool valid = true;
    CHECK_OK(kms_verify(&valid, k, KMS_SHA_256, KMS_PAD_PKCS1_PSS, false, msg, ccz_buf_span(&sig)));
    CHECK(!valid);
    CHECK_INT(sh("openssl dgst -sha256 -keyform DER -sign rsa.der -sigopt rsa_padding_mode:pss "
                 "-sigopt rsa_pss_saltlen:32 -out pss32 msg"),
              0);
    get(&sig, "pss32");
    CHECK_OK(kms_verify(&valid, k, KMS_SHA_256, KMS_PAD_PKCS1_PSS, false, msg, ccz_buf_span(&sig)));
    CHECK(valid);
    ccz_buf_reset(&sig);
    CHECK_STATUS(kms_sign(&sig, k, KMS_SHA_256, KMS_PAD_PKCS1_OAEP, false, msg),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(kms_sign(&sig, k, KMS_SHA_256, KMS_PAD_NONE, false, msg),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(kms_sign(&sig, k, KMS_SM3, KMS_PAD_PKCS1, false, msg), CCZ_ERR_INVALID_ARGUMENT);
    kms_key_free(k);
    /* the larger moduli */
    for (kms_spec s = KMS_RSA_3072; s <= KMS_RSA_4096; s++) {
        k = load(s);
        ccz_buf_reset(&sig);
        CHECK_OK(kms_sign(&sig, k, KMS_SHA_512, KMS_PAD_PKCS1_PSS, false, msg));
        CHECK_INT(sig.len, s == KMS_RSA_3072 ? 384 : 512);
        public_pem(k, "big.pub", "RSA PUBLIC KEY");
        put("sig", ccz_buf_span(&sig));
        CHECK_INT(sh("openssl dgst -sha512 -verify big.pub -signature sig -sigopt "
                     "rsa_padding_mode:pss -sigopt rsa_pss_saltlen:digest msg >/dev/null"),
                  0);
        verify_and_tamper(k, KMS_SHA_512, KMS_PAD_PKCS1_PSS, false, msg, &sig);
        kms_key_free(k);
    }
    ccz_buf_free(&sig);
    ccz_buf_free(&dig);
}

static void test_ec_sign(void)
{
    ccz_span msg = CCZ_LIT("an ECDSA message");
    put("msg", msg);
    ccz_buf sig = CCZ_BUF_INIT, dig = CCZ_BUF_INIT;
    for (size_t c = 0; c < CCZ_ARRAY_LEN(EC); c++) {
        kms_key *k = load(EC[c]);
        public_pem(k, "ec.pub", "PUBLIC KEY");
        for (size_t i = 0; i < CCZ_ARRAY_LEN(SHA); i++) {
            digest_of(&dig, SHA_EVP[i], msg);
            for (int is_digest = 0; is_digest < 2; is_digest++) {
                ccz_span m = is_digest ? ccz_buf_span(&dig) : msg;
                ccz_buf_reset(&sig);
                /* the padding is ignored */
                CHECK_OK(kms_sign(&sig, k, SHA[i], KMS_PAD_PKCS1_OAEP, is_digest, m));
                CHECK(sig.len > 8 && sig.ptr[0] == 0x30);
                put("sig", ccz_buf_span(&sig));
                CHECK_INT(
                    sh("openssl dgst -%s -verify ec.pub -signature sig msg >/dev/null", SHA_CLI[i]),
                    0);
                verify_and_tamper(k, SHA[i], KMS_PAD_NONE, is_digest, m, &sig);
            }
            ccz_buf_reset(&sig);
            CHECK_STATUS(kms_sign(&sig, k, SHA[i], KMS_PAD_NONE, true, msg),
                         CCZ_ERR_INVALID_ARGUMENT);
        }
        kms_key_free(k);
    }
    ccz_buf_free(&sig);
    ccz_buf_free(&dig);
}

static void test_sm2_sign(void)
{
    kms_key *k = load(KMS_SM2);
    public_pem(k, "sm2.pub", "PUBLIC KEY");
    ccz_span msg = CCZ_LIT("message for SM2");
    put("msg", msg);
    ccz_buf sig = CCZ_BUF_INIT;
    /* whatever the digest and padding, SM3 with eHSM's user id */
    static const kms_digest ds[] = {KMS_SM3, KMS_SHA_256};
    for (size_t i = 0; i < CCZ_ARRAY_LEN(ds); i++) {
        ccz_buf_reset(&sig);
        CHECK_OK(kms_sign(&sig, k, ds[i], KMS_PAD_PKCS1, false, msg));
        CHECK(sig.ptr[0] == 0x30);
        put("sig", ccz_buf_span(&sig));
        CHECK_INT(sh("openssl pkeyutl -verify -in msg -sigfile sig -pubin -inkey sm2.pub -rawin "
                     "-digest sm3 -pkeyopt distid:1234567812345678 >/dev/null"),
                  0);
        /* another user id does not verify */
        CHECK(sh("openssl pkeyutl -verify -in msg -sigfile sig -pubin -inkey sm2.pub -rawin "
                 "-digest sm3 -pkeyopt distid:1234567812345679 >/dev/null 2>&1") != 0);
        verify_and_tamper(k, ds[1 - i], KMS_PAD_NONE, false, msg, &sig);
    }
    /* the openssl command's signature verifies */
    put("sm2.der", material(KMS_SM2));
    CHECK_INT(sh("openssl pkeyutl -sign -in msg -keyform DER -inkey sm2.der -rawin -digest sm3 "
                 "-pkeyopt distid:1234567812345678 -out cli.sig"),
              0);
    get(&sig, "cli.sig");
    bool valid = false;
    CHECK_OK(kms_verify(&valid, k, KMS_SM3, KMS_PAD_NONE, false, msg, ccz_buf_span(&sig)));
    CHECK(valid);
    ccz_buf dig = CCZ_BUF_INIT;
    digest_of(&dig, "SM3", msg);
    ccz_buf_reset(&sig);
    CHECK_STATUS(kms_sign(&sig, k, KMS_SM3, KMS_PAD_NONE, true, ccz_buf_span(&dig)),
                 CCZ_ERR_UNSUPPORTED);
    CHECK_STATUS(
        kms_verify(&valid, k, KMS_SM3, KMS_PAD_NONE, true, ccz_buf_span(&dig), CCZ_LIT("x")),
        CCZ_ERR_UNSUPPORTED);
    ccz_buf_free(&dig);
    ccz_buf_free(&sig);
    kms_key_free(k);
}

/* ---- wrapping ------------------------------------------------------------------------------*/

static void test_wrap(void)
{
    uint8_t dk[32], other[32];
    fill(dk, sizeof dk, 61);
    memcpy(other, dk, sizeof dk);
    other[31] ^= 1;
    ccz_span m = material(KMS_RSA_2048), aad = CCZ_LIT("keyid|owner|EH_RSA_2048|usage|1");
    ccz_buf w = CCZ_BUF_INIT, back;
    ccz_buf_init(&back, 0, true);
    CHECK_OK(kms_wrap(&w, dk, m, aad));
    CHECK_INT(w.len, 12 + m.len + 16);
    /* a fresh random IV each time, not what the buffer held: the same material wrapped again
     * into the same buffer (whose reset zeroes its first byte) differs in the IV's others */
    ccz_buf again = CCZ_BUF_INIT;
    uint8_t iv[12];
    CHECK_OK(kms_wrap(&again, dk, m, aad));
    memcpy(iv, again.ptr, sizeof iv);
    ccz_buf_reset(&again);
    CHECK_OK(kms_wrap(&again, dk, m, aad));
    CHECK(again.len == w.len && memcmp(again.ptr + 1, iv + 1, sizeof iv - 1) != 0);
    ccz_buf_free(&again);
    CHECK_OK(kms_unwrap(&back, dk, ccz_buf_span(&w), aad));
    CHECK(span_eq(ccz_buf_span(&back), m));
    ccz_buf_reset(&back);
    CHECK_STATUS(
        kms_unwrap(&back, dk, ccz_buf_span(&w), CCZ_LIT("keyid|owner|EH_RSA_2048|usage|2")),
        CCZ_ERR_BAD_SIGNATURE);
    CHECK_STATUS(kms_unwrap(&back, dk, ccz_buf_span(&w), CCZ_SPAN("", 0)), CCZ_ERR_BAD_SIGNATURE);
    CHECK_STATUS(kms_unwrap(&back, other, ccz_buf_span(&w), aad), CCZ_ERR_BAD_SIGNATURE);
    size_t at[] = {0, 11, 12, w.len / 2, w.len - 17, w.len - 16, w.len - 1};
    for (size_t i = 0; i < CCZ_ARRAY_LEN(at); i++) {
        w.ptr[at[i]] ^= 0x80;
        CHECK_STATUS(kms_unwrap(&back, dk, ccz_buf_span(&w), aad), CCZ_ERR_BAD_SIGNATURE);
        w.ptr[at[i]] ^= 0x80;
    }
    CHECK_STATUS(kms_unwrap(&back, dk, CCZ_SPAN(w.ptr, w.len - 1), aad), CCZ_ERR_BAD_SIGNATURE);
    CHECK_STATUS(kms_unwrap(&back, dk, CCZ_SPAN(w.ptr, 27), aad), CCZ_ERR_BAD_SIGNATURE);
    CHECK_INT(back.len, 0);
    /* a short symmetric key, and the layout iv ‖ ct ‖ tag checked with EVP */
    ccz_span aes = material(KMS_AES_GCM_128);
    ccz_buf_reset(&w);
    CHECK_OK(kms_wrap(&w, dk, aes, aad));
    uint8_t pt[16], tag[16];
    memcpy(tag, w.ptr + 12 + 16, 16);
    CHECK(evp_gcm("AES-256-GCM", dk, w.ptr, aad, w.ptr + 12, 16, pt, tag, 0));
    CHECK(memcmp(pt, aes.ptr, 16) == 0);
    ccz_buf_free(&w);
    ccz_buf_free(&back);
}

/* ECDSA takes SM3 as well (eHSM passes the digest through for EC keys). */
static void test_ec_sm3(void)
{
    kms_key *k = load(KMS_EC_P256);
    public_pem(k, "ec.pub", "PUBLIC KEY");
    ccz_span msg = CCZ_LIT("an ECDSA message with SM3");
    put("msg", msg);
    ccz_buf sig = CCZ_BUF_INIT;
    CHECK_OK(kms_sign(&sig, k, KMS_SM3, KMS_PAD_NONE, false, msg));
    put("sig", ccz_buf_span(&sig));
    CHECK_INT(sh("openssl dgst -sm3 -verify ec.pub -signature sig msg >/dev/null"), 0);
    verify_and_tamper(k, KMS_SM3, KMS_PAD_NONE, false, msg, &sig);
    ccz_buf_free(&sig);
    kms_key_free(k);
}

/* One const key used by several threads at once: every operation gives its own answer. */
static kms_key *shared_keys[3];
static int thread_failures;

static void *worker(void *arg)
{
    uint8_t pt[64];
    fill(pt, sizeof pt, (uint8_t)(uintptr_t)arg);
    for (int i = 0; i < 30; i++) {
        ccz_buf ct = CCZ_BUF_INIT, back = CCZ_BUF_INIT, sig = CCZ_BUF_INIT;
        bool valid = false;
        bool ok = kms_encrypt(&ct, shared_keys[0], CCZ_SPAN(pt, sizeof pt), CCZ_LIT("a")) == 0 &&
                  kms_decrypt(&back, shared_keys[0], ccz_buf_span(&ct), CCZ_LIT("a")) == 0 &&
                  span_eq(ccz_buf_span(&back), CCZ_SPAN(pt, sizeof pt)) &&
                  kms_sign(&sig, shared_keys[1], KMS_SHA_256, KMS_PAD_NONE, false,
                           CCZ_SPAN(pt, sizeof pt)) == 0 &&
                  kms_verify(&valid, shared_keys[1], KMS_SHA_256, KMS_PAD_NONE, false,
                             CCZ_SPAN(pt, sizeof pt), ccz_buf_span(&sig)) == 0 &&
                  valid;
        ccz_buf_reset(&ct);
        ccz_buf_reset(&back);
        ok = ok && kms_asym_encrypt(&ct, shared_keys[2], KMS_PAD_NONE, CCZ_SPAN(pt, 16)) == 0 &&
             kms_asym_decrypt(&back, shared_keys[2], KMS_PAD_NONE, ccz_buf_span(&ct)) == 0 &&
             span_eq(ccz_buf_span(&back), CCZ_SPAN(pt, 16));
        if (!ok)
            __atomic_add_fetch(&thread_failures, 1, __ATOMIC_RELAXED);
        ccz_buf_free(&ct);
        ccz_buf_free(&back);
        ccz_buf_free(&sig);
    }
    return NULL;
}

static void test_threads(void)
{
    shared_keys[0] = load(KMS_AES_GCM_256);
    shared_keys[1] = load(KMS_EC_P256);
    shared_keys[2] = load(KMS_SM2);
    pthread_t t[4];
    for (uintptr_t i = 0; i < 4; i++)
        test_thread(&t[i], worker, (void *)i);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    CHECK_INT(thread_failures, 0);
    for (int i = 0; i < 3; i++)
        kms_key_free(shared_keys[i]);
}

static void cleanup(void)
{
    for (int i = 0; i < KMS_SPEC_COUNT; i++)
        ccz_buf_free(&materials[i]);
}

static int iv_cmp(const void *a, const void *b)
{
    return memcmp(a, b, 12);
}

/* IVs come from a pool (one RAND_bytes per 4 KiB): every IV differs across many refills, and
 * a forked child never repeats its parent's next IV (the pool is cleared at fork). */
static void test_iv_pool(void)
{
    kms_key *k = load(KMS_AES_GCM_256);
    enum { N = 3000 };
    static uint8_t ivs[N][12];
    for (int i = 0; i < N; i++) {
        ccz_buf ct = CCZ_BUF_INIT;
        CHECK_OK(kms_encrypt(&ct, k, CCZ_LIT("x"), CCZ_SPAN(NULL, 0)));
        CHECK_INT((long)ct.len, 1 + 12 + 16);
        memcpy(ivs[i], ct.ptr + 1, 12);
        ccz_buf_free(&ct);
    }
    qsort(ivs, N, 12, iv_cmp);
    for (int i = 1; i < N; i++)
        CHECK(memcmp(ivs[i - 1], ivs[i], 12) != 0);
    int fds[2];
    CHECK(pipe(fds) == 0);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid < 0) { /* no child to hear from */
        close(fds[0]);
        close(fds[1]);
        kms_key_free(k);
        return;
    }
    if (pid == 0) {
        ccz_buf ct = CCZ_BUF_INIT;
        int ok = kms_encrypt(&ct, k, CCZ_LIT("x"), CCZ_SPAN(NULL, 0)) == CCZ_OK &&
                 write(fds[1], ct.ptr + 1, 12) == 12;
        _exit(ok ? 0 : 1);
    }
    close(fds[1]); /* a child that dies before writing: end of file, not a wait for ever */
    ccz_buf ct = CCZ_BUF_INIT;
    CHECK_OK(kms_encrypt(&ct, k, CCZ_LIT("x"), CCZ_SPAN(NULL, 0)));
    uint8_t child[12];
    CHECK(read(fds[0], child, 12) == 12);
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(memcmp(child, ct.ptr + 1, 12) != 0);
    close(fds[0]);
    ccz_buf_free(&ct);
    kms_key_free(k);
}

/* ---- bounds and wiping ---------------------------------------------------------------------*/

/* Names and predicates past the end of their tables, and the first EC spec. */
static void test_names_out_of_range(void)
{
    CHECK_STR(kms_spec_name(KMS_SPEC_COUNT), "?");
    CHECK_STR(kms_padding_name((kms_padding)(KMS_PAD_PKCS1_OAEP + 1)), "?");
    CHECK_STR(kms_digest_name((kms_digest)(KMS_SM3 + 1)), "?");
    CHECK_INT(kms_spec_key_len(KMS_SPEC_COUNT), 0);
    CHECK(kms_spec_ec(KMS_EC_P224) && !kms_spec_ec(KMS_RSA_4096) && !kms_spec_ec(KMS_SM4_CTR));
    /* no material for a spec past the table */
    ccz_buf m;
    ccz_buf_init(&m, 0, true);
    CHECK_STATUS(kms_material_generate(&m, KMS_SPEC_COUNT), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "unknown key spec");
    CHECK_INT(m.len, 0);
    ccz_buf_free(&m);
}

/* A ciphertext one byte (CBC: one block) past the longest plaintext's, and a CBC ciphertext
 * that is only an IV: refused for their length, before any decryption. */
static void test_ciphertext_lengths(void)
{
    static uint8_t ct[KMS_MAX_PLAINTEXT + 64];
    static const struct {
        kms_spec spec;
        size_t len;
    } cases[] = {
        {KMS_AES_GCM_256, KMS_MAX_PLAINTEXT + 1 + 28},
        {KMS_SM4_CTR, KMS_MAX_PLAINTEXT + 1 + 16},
        {KMS_SM4_CBC, (KMS_MAX_PLAINTEXT / 16 + 2) * 16 + 16},
        {KMS_SM4_CBC, 16},
        {KMS_SM4_CBC, 16 + 17}, /* not whole blocks */
    };
    for (size_t i = 0; i < CCZ_ARRAY_LEN(cases); i++) {
        kms_key *k = load(cases[i].spec);
        ccz_buf out = CCZ_BUF_INIT;
        char want[96];
        snprintf(want, sizeof want, "%zu bytes cannot be a %s ciphertext", cases[i].len,
                 kms_spec_name(cases[i].spec));
        CHECK_STATUS(kms_decrypt(&out, k, CCZ_SPAN(ct, cases[i].len), CCZ_SPAN("", 0)),
                     CCZ_ERR_MALFORMED);
        CHECK_CONTAINS(ccz_error_detail(), want);
        CHECK_INT(out.len, 0);
        ccz_buf_free(&out);
        kms_key_free(k);
    }
    /* the longest GCM ciphertext is decrypted (and its zero tag refused) */
    kms_key *k = load(KMS_AES_GCM_256);
    ccz_buf out = CCZ_BUF_INIT;
    CHECK_STATUS(kms_decrypt(&out, k, CCZ_SPAN(ct, KMS_MAX_PLAINTEXT + 28), CCZ_SPAN("", 0)),
                 CCZ_ERR_BAD_SIGNATURE);
    ccz_buf_free(&out);
    kms_key_free(k);
}

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

/* A GCM ciphertext or wrapped key whose tag fails leaves no plaintext in the output's room
 * (EVP writes it before the tag is checked). */
static void test_failure_wipes(void)
{
    uint8_t pt[64], dk[32];
    fill(pt, sizeof pt, 31);
    fill(dk, sizeof dk, 7);
    kms_key *k = load(KMS_AES_GCM_128);
    ccz_buf ct = CCZ_BUF_INIT, out = CCZ_BUF_INIT;
    CHECK_OK(kms_encrypt(&ct, k, CCZ_SPAN(pt, sizeof pt), CCZ_LIT("aad")));
    ct.ptr[ct.len - 1] ^= 1; /* the tag */
    CHECK_STATUS(kms_decrypt(&out, k, ccz_buf_span(&ct), CCZ_LIT("aad")), CCZ_ERR_BAD_SIGNATURE);
    CHECK(out.ptr && out.cap >= sizeof pt && all_zero(out.ptr, sizeof pt));
    CHECK_INT(out.len, 0);
    ccz_buf_reset(&ct);
    CHECK_OK(kms_wrap(&ct, dk, CCZ_SPAN(pt, sizeof pt), CCZ_LIT("aad")));
    ct.ptr[ct.len - 1] ^= 1;
    ccz_buf_free(&out);
    CHECK_STATUS(kms_unwrap(&out, dk, ccz_buf_span(&ct), CCZ_LIT("aad")), CCZ_ERR_BAD_SIGNATURE);
    CHECK(out.ptr && out.cap >= sizeof pt && all_zero(out.ptr, sizeof pt));
    CHECK_INT(out.len, 0);
    ccz_buf_free(&ct);
    ccz_buf_free(&out);
    kms_key_free(k);
}

/* A ciphertext that does not decrypt leaves its whole room in the output zero, whatever the
 * buffer held before: OpenSSL 3.0 zeroes a failed SM2 output itself, but RSA's constant-time
 * unpadding leaves the bytes it found in place (and another version may leave more). */
static void test_asym_failure_wipes(void)
{
    static const struct {
        kms_spec spec;
        kms_padding pad;
    } cases[] = {
        {KMS_SM2, KMS_PAD_NONE}, {KMS_RSA_2048, KMS_PAD_PKCS1}, {KMS_RSA_2048, KMS_PAD_PKCS1_OAEP}};
    uint8_t pt[64];
    fill(pt, sizeof pt, 41);
    for (size_t c = 0; c < CCZ_ARRAY_LEN(cases); c++) {
        kms_key *k = load(cases[c].spec);
        ccz_buf ct = CCZ_BUF_INIT, out = CCZ_BUF_INIT;
        CHECK_OK(kms_asym_encrypt(&ct, k, cases[c].pad, CCZ_SPAN(pt, sizeof pt)));
        ct.ptr[ct.len - 1] ^= 1;            /* SM2: C2's last byte; RSA: the integer's */
        for (size_t i = 0; i < ct.len; i++) /* stale bytes in the room */
            CHECK_OK(ccz_buf_append_u8(&out, 0xAA));
        ccz_buf_reset(&out);
        CHECK_STATUS(kms_asym_decrypt(&out, k, cases[c].pad, ccz_buf_span(&ct)),
                     CCZ_ERR_BAD_SIGNATURE);
        CHECK(out.ptr && out.cap >= ct.len && all_zero(out.ptr, ct.len));
        CHECK_INT(out.len, 0);
        ccz_buf_free(&ct);
        ccz_buf_free(&out);
        kms_key_free(k);
    }
}

/* Empty material wraps to the IV and tag alone (28 bytes) and unwraps to nothing. */
static void test_wrap_empty(void)
{
    uint8_t dk[32];
    fill(dk, sizeof dk, 13);
    ccz_buf w = CCZ_BUF_INIT, back = CCZ_BUF_INIT;
    CHECK_OK(kms_wrap(&w, dk, CCZ_SPAN("", 0), CCZ_LIT("aad")));
    CHECK_INT(w.len, 28);
    CHECK_OK(kms_unwrap(&back, dk, ccz_buf_span(&w), CCZ_LIT("aad")));
    CHECK_INT(back.len, 0);
    CHECK_STATUS(kms_unwrap(&back, dk, ccz_buf_span(&w), CCZ_LIT("aaD")), CCZ_ERR_BAD_SIGNATURE);
    ccz_buf_free(&w);
    ccz_buf_free(&back);
}

/* SM2 encrypts up to KMS_MAX_PLAINTEXT bytes, not one more. */
static void test_sm2_max_plaintext(void)
{
    static uint8_t pt[KMS_MAX_PLAINTEXT + 1];
    fill(pt, sizeof pt, 3);
    kms_key *k = load(KMS_SM2);
    ccz_buf ct = CCZ_BUF_INIT, back;
    ccz_buf_init(&back, 0, true);
    CHECK_STATUS(kms_asym_encrypt(&ct, k, KMS_PAD_NONE, CCZ_SPAN(pt, sizeof pt)),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "a EH_SM2 plaintext has at most 6144 bytes, not 6145");
    CHECK_INT(ct.len, 0);
    CHECK_OK(kms_asym_encrypt(&ct, k, KMS_PAD_NONE, CCZ_SPAN(pt, KMS_MAX_PLAINTEXT)));
    CHECK_OK(kms_asym_decrypt(&back, k, KMS_PAD_NONE, ccz_buf_span(&ct)));
    CHECK(span_eq(ccz_buf_span(&back), CCZ_SPAN(pt, KMS_MAX_PLAINTEXT)));
    ccz_buf_free(&ct);
    ccz_buf_free(&back);
    kms_key_free(k);
}

/* A digest one byte longer than its algorithm's, and a digest past the table: refused before
 * signing or verifying (ECDSA would sign a longer digest truncated). */
static void test_digest_checks(void)
{
    static const size_t sizes[] = {28, 32, 48, 64};
    uint8_t d[65] = {0};
    kms_key *keys[] = {load(KMS_EC_P256), load(KMS_RSA_2048)};
    for (size_t j = 0; j < CCZ_ARRAY_LEN(keys); j++) {
        ccz_buf sig = CCZ_BUF_INIT;
        bool valid = true;
        for (size_t i = 0; i < CCZ_ARRAY_LEN(SHA); i++) {
            char want[64];
            snprintf(want, sizeof want, "a %s digest has %zu bytes, not %zu",
                     kms_digest_name(SHA[i]), sizes[i], sizes[i] + 1);
            CHECK_STATUS(
                kms_sign(&sig, keys[j], SHA[i], KMS_PAD_PKCS1, true, CCZ_SPAN(d, sizes[i] + 1)),
                CCZ_ERR_INVALID_ARGUMENT);
            CHECK_CONTAINS(ccz_error_detail(), want);
            CHECK_STATUS(kms_verify(&valid, keys[j], SHA[i], KMS_PAD_PKCS1, true,
                                    CCZ_SPAN(d, sizes[i] + 1), CCZ_LIT("sig")),
                         CCZ_ERR_INVALID_ARGUMENT);
            CHECK_CONTAINS(ccz_error_detail(), want);
        }
        kms_digest past = (kms_digest)(KMS_SM3 + 1);
        CHECK_STATUS(kms_sign(&sig, keys[j], past, KMS_PAD_PKCS1, false, CCZ_LIT("m")),
                     CCZ_ERR_INVALID_ARGUMENT);
        CHECK_CONTAINS(ccz_error_detail(), "unknown digest");
        CHECK_STATUS(
            kms_verify(&valid, keys[j], past, KMS_PAD_PKCS1, false, CCZ_LIT("m"), CCZ_LIT("s")),
            CCZ_ERR_INVALID_ARGUMENT);
        CHECK_CONTAINS(ccz_error_detail(), "unknown digest");
        CHECK(!valid);
        CHECK_INT(sig.len, 0);
        ccz_buf_free(&sig);
        kms_key_free(keys[j]);
    }
}

static void test_zz_cleanup(void)
{
    cleanup();
}

TEST_MAIN(T(test_names), T(test_every_spec_loads), T(test_wrong_spec_refused),
          T(test_symmetric_round_trips), T(test_gcm_tampering), T(test_gcm_layout),
          T(test_sm4_layout), T(test_wrong_key_kind), T(test_public_pem), T(test_rsa_encrypt),
          T(test_rsa_encrypt_cli), T(test_sm2_encrypt), T(test_rsa_sign), T(test_ec_sign),
          T(test_sm2_sign), T(test_ec_sm3), T(test_wrap), T(test_threads), T(test_iv_pool),
          T(test_names_out_of_range), T(test_ciphertext_lengths), T(test_failure_wipes),
          T(test_asym_failure_wipes), T(test_wrap_empty), T(test_sm2_max_plaintext),
          T(test_digest_checks), T(test_zz_cleanup))
