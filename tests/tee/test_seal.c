/* SPDX-License-Identifier: Apache-2.0 */
/* Sealing keys (ccz_attester_seal_key): sim keys bound to exactly what their policy names (the
 * platform, the measurement, or the signer and product); SGX keys derived from Gramine's
 * 16-byte key files under the device root, checked against HKDF-SHA256 computed here with EVP;
 * a malformed or missing key file, and a TDX guest, refused with their own statuses. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include "ccz/ccz.h"
#include "test.h"

static char plat[512], other[512];

static void setup(void)
{
    if (plat[0])
        return;
    snprintf(plat, sizeof plat, "%s/plat", test_tmpdir());
    snprintf(other, sizeof other, "%s/other", test_tmpdir());
    CHECK_OK(ccz_sim_platform_init(plat, false));
    CHECK_OK(ccz_sim_platform_init(other, false));
}

typedef struct {
    const char *dir, *signer_key;
    uint8_t meas;
    uint16_t product;
    uint16_t svn;
} sim_id;

/* The sim sealing key of an attester with that identity. */
static void sim_key(uint8_t key[32], const sim_id *id, ccz_seal_policy policy)
{
    uint8_t meas[32];
    memset(meas, id->meas, sizeof meas);
    ccz_attester_opts o = CCZ_ATTESTER_OPTS_INIT;
    o.tee = CCZ_TEE_SIM;
    o.sim.dir = id->dir;
    o.sim.signer_key = id->signer_key;
    o.sim.measurement = meas;
    o.sim.product_id = id->product;
    o.sim.svn = id->svn;
    ccz_attester *a = NULL;
    memset(key, 0, 32);
    CHECK_OK(ccz_attester_new(&a, &o));
    if (a)
        CHECK_OK(ccz_attester_seal_key(a, policy, key));
    ccz_attester_free(a);
}

static bool same(const uint8_t a[32], const uint8_t b[32])
{
    return memcmp(a, b, 32) == 0;
}

static void test_sim(void)
{
    setup();
    char other_signer[600];
    snprintf(other_signer, sizeof other_signer, "%s/signer.key", other);
    const sim_id base = {plat, NULL, 0x11, 7, 1};
    uint8_t enc[32], sig[32], k[32], zero[32] = {0};

    sim_key(enc, &base, CCZ_SEAL_MRENCLAVE);
    sim_key(sig, &base, CCZ_SEAL_MRSIGNER);
    CHECK(!same(enc, zero));
    CHECK(!same(sig, zero));
    CHECK(!same(enc, sig));
    /* the same attester again: the same keys */
    sim_key(k, &base, CCZ_SEAL_MRENCLAVE);
    CHECK(same(k, enc));
    sim_key(k, &base, CCZ_SEAL_MRSIGNER);
    CHECK(same(k, sig));
    /* another measurement (an upgrade): another MRENCLAVE key, the same MRSIGNER key */
    sim_id id = base;
    id.meas = 0x12;
    sim_key(k, &id, CCZ_SEAL_MRENCLAVE);
    CHECK(!same(k, enc));
    sim_key(k, &id, CCZ_SEAL_MRSIGNER);
    CHECK(same(k, sig));
    /* another svn: both keys unchanged */
    id = base;
    id.svn = 2;
    sim_key(k, &id, CCZ_SEAL_MRENCLAVE);
    CHECK(same(k, enc));
    sim_key(k, &id, CCZ_SEAL_MRSIGNER);
    CHECK(same(k, sig));
    /* another signer: another MRSIGNER key; the MRENCLAVE key is the measurement's */
    id = base;
    id.signer_key = other_signer;
    sim_key(k, &id, CCZ_SEAL_MRSIGNER);
    CHECK(!same(k, sig));
    sim_key(k, &id, CCZ_SEAL_MRENCLAVE);
    CHECK(same(k, enc));
    /* another product of the same signer: another MRSIGNER key */
    id = base;
    id.product = 8;
    sim_key(k, &id, CCZ_SEAL_MRSIGNER);
    CHECK(!same(k, sig));
    id.product = 7 + 256; /* both bytes of the product id count */
    sim_key(k, &id, CCZ_SEAL_MRSIGNER);
    CHECK(!same(k, sig));
    /* another platform (its own secret), even with this platform's signer: other keys */
    char plat_signer[600];
    snprintf(plat_signer, sizeof plat_signer, "%s/signer.key", plat);
    id = base;
    id.dir = other;
    id.signer_key = plat_signer;
    sim_key(k, &id, CCZ_SEAL_MRENCLAVE);
    CHECK(!same(k, enc));
    sim_key(k, &id, CCZ_SEAL_MRSIGNER);
    CHECK(!same(k, sig));
    /* an unknown policy */
    ccz_attester_opts o = CCZ_ATTESTER_OPTS_INIT;
    o.tee = CCZ_TEE_SIM;
    o.sim.dir = plat;
    o.sim.measurement = zero;
    ccz_attester *a = NULL;
    CHECK_OK(ccz_attester_new(&a, &o));
    CHECK_STATUS(ccz_attester_seal_key(a, (ccz_seal_policy)2, k), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "unknown sealing policy 2");
    CHECK_STATUS(ccz_attester_seal_key(a, (ccz_seal_policy)-1, k), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "unknown sealing policy -1");
    /* no attester, nowhere to put the key */
    CHECK_STATUS(ccz_attester_seal_key(NULL, CCZ_SEAL_MRENCLAVE, k), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "missing argument");
    CHECK_STATUS(ccz_attester_seal_key(a, CCZ_SEAL_MRENCLAVE, NULL), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "missing argument");
    uint8_t rd[64] = {0};
    ccz_buf ev = CCZ_BUF_INIT;
    CHECK_STATUS(ccz_attest(NULL, a, rd), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "missing argument");
    CHECK_STATUS(ccz_attest(&ev, a, NULL), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(ccz_attest(&ev, NULL, rd), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_INT(ev.len, 0);
    ccz_buf_free(&ev);
    ccz_attester_free(a);
}

/* HKDF-SHA256(ikm, no salt, info of n bytes) with EVP_KDF, independently of src/tee. */
static void hkdf_bin(uint8_t out[32], const uint8_t *ikm, size_t n, const uint8_t *info,
                     size_t info_len)
{
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm, n),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, info_len),
        OSSL_PARAM_construct_end()};
    CHECK(ctx && EVP_KDF_derive(ctx, out, 32, params) == 1);
    EVP_KDF_CTX_free(ctx);
    EVP_KDF_free(kdf);
}

/* HKDF-SHA256(ikm, no salt, info) with EVP_KDF, independently of src/tee. */
static void hkdf(uint8_t out[32], const uint8_t *ikm, size_t n, const char *info)
{
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm, n),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, strlen(info)),
        OSSL_PARAM_construct_end()};
    CHECK(ctx && EVP_KDF_derive(ctx, out, 32, params) == 1);
    EVP_KDF_CTX_free(ctx);
    EVP_KDF_free(kdf);
}

/* The sim keys against HKDF-SHA256 computed here: the platform's attestation key file (PEM) as
 * the secret; as info the label and its NUL, then the measurement (MRENCLAVE), or the signer's
 * key hash and the product id, big-endian (MRSIGNER). */
static void test_sim_kat(void)
{
    setup();
    const sim_id base = {plat, NULL, 0x11, 0x0107, 1};
    char path[600];
    snprintf(path, sizeof path, "%s/ak.key", plat);
    ccz_buf ak = CCZ_BUF_INIT;
    CHECK_OK(ccz_file_read(&ak, path, 64 * 1024));
    uint8_t info[16 + 32 + 2], want[32], k[32];
    memcpy(info, "ccz sim seal v1", 16);
    memset(info + 16, 0x11, 32);
    hkdf_bin(want, ak.ptr, ak.len, info, 16 + 32);
    sim_key(k, &base, CCZ_SEAL_MRENCLAVE);
    CHECK(same(k, want));
    snprintf(path, sizeof path, "%s/signer.key", plat);
    CHECK_OK(ccz_sim_signer_of_key_file(info + 16, path));
    info[48] = 0x01;
    info[49] = 0x07;
    hkdf_bin(want, ak.ptr, ak.len, info, sizeof info);
    sim_key(k, &base, CCZ_SEAL_MRSIGNER);
    CHECK(same(k, want));
    ccz_buf_free(&ak);
}

static void write_file(const char *path, const uint8_t *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f)
        return;
    CHECK_INT(fwrite(data, 1, n, f), n);
    fclose(f);
}

static ccz_status dev_seal_key(ccz_tee tee, const char *root, ccz_seal_policy policy,
                               uint8_t key[32])
{
    ccz_attester_opts o = CCZ_ATTESTER_OPTS_INIT;
    o.tee = tee;
    o.device_root = root;
    ccz_attester *a = NULL;
    ccz_status s = ccz_attester_new(&a, &o);
    if (s == CCZ_OK)
        s = ccz_attester_seal_key(a, policy, key);
    ccz_attester_free(a);
    return s;
}

static void test_sgx(void)
{
    char root[512], dir[600], enc_path[700], sig_path[700];
    snprintf(root, sizeof root, "%s/sgx", test_tmpdir());
    snprintf(dir, sizeof dir, "%s/dev/attestation/keys", root);
    char mk[700];
    snprintf(mk, sizeof mk, "%s", root);
    CHECK(mkdir(mk, 0700) == 0);
    snprintf(mk, sizeof mk, "%s/dev", root);
    CHECK(mkdir(mk, 0700) == 0);
    snprintf(mk, sizeof mk, "%s/dev/attestation", root);
    CHECK(mkdir(mk, 0700) == 0);
    CHECK(mkdir(dir, 0700) == 0);
    snprintf(enc_path, sizeof enc_path, "%s/_sgx_mrenclave", dir);
    snprintf(sig_path, sizeof sig_path, "%s/_sgx_mrsigner", dir);

    uint8_t key[32], want[32];
    /* missing: no Gramine here */
    CHECK_STATUS(dev_seal_key(CCZ_TEE_SGX, root, CCZ_SEAL_MRENCLAVE, key), CCZ_ERR_TEE_UNAVAILABLE);
    CHECK_STATUS(dev_seal_key(CCZ_TEE_SGX, root, CCZ_SEAL_MRSIGNER, key), CCZ_ERR_TEE_UNAVAILABLE);

    uint8_t raw_enc[16], raw_sig[16];
    for (int i = 0; i < 16; i++) {
        raw_enc[i] = (uint8_t)(0xe0 + i);
        raw_sig[i] = (uint8_t)(0x50 + 3 * i);
    }
    write_file(enc_path, raw_enc, 16);
    write_file(sig_path, raw_sig, 16);
    CHECK_OK(dev_seal_key(CCZ_TEE_SGX, root, CCZ_SEAL_MRENCLAVE, key));
    hkdf(want, raw_enc, 16, "ccz sgx seal v1");
    CHECK(same(key, want));
    CHECK_OK(dev_seal_key(CCZ_TEE_SGX, root, CCZ_SEAL_MRSIGNER, key));
    hkdf(want, raw_sig, 16, "ccz sgx seal v1");
    CHECK(same(key, want));
    /* a known answer, from `openssl kdf -keylen 32 -kdfopt digest:SHA256 -kdfopt
     * hexkey:000102030405060708090a0b0c0d0e0f -kdfopt info:"ccz sgx seal v1" HKDF` */
    uint8_t seq[16];
    for (int i = 0; i < 16; i++)
        seq[i] = (uint8_t)i;
    write_file(enc_path, seq, 16);
    static const uint8_t kat[32] = {0x1d, 0xa4, 0x95, 0xf0, 0xe0, 0xc3, 0xc0, 0xf8,
                                    0x58, 0xea, 0xa1, 0xea, 0x16, 0x52, 0x29, 0xbc,
                                    0x72, 0xd8, 0x62, 0xc4, 0x39, 0x36, 0x5f, 0xe0,
                                    0xdb, 0x39, 0xeb, 0x00, 0x98, 0x52, 0x1e, 0x5a};
    CHECK_OK(dev_seal_key(CCZ_TEE_SGX, root, CCZ_SEAL_MRENCLAVE, key));
    hkdf(want, seq, 16, "ccz sgx seal v1");
    CHECK(same(key, want));
    CHECK(same(key, kat));

    /* 15 and 17 bytes: not a sealing key */
    write_file(enc_path, raw_enc, 15);
    CHECK_STATUS(dev_seal_key(CCZ_TEE_SGX, root, CCZ_SEAL_MRENCLAVE, key), CCZ_ERR_MALFORMED);
    uint8_t long_key[17] = {0};
    write_file(enc_path, long_key, 17);
    CHECK_STATUS(dev_seal_key(CCZ_TEE_SGX, root, CCZ_SEAL_MRENCLAVE, key), CCZ_ERR_MALFORMED);
    write_file(enc_path, raw_enc, 0);
    CHECK_STATUS(dev_seal_key(CCZ_TEE_SGX, root, CCZ_SEAL_MRENCLAVE, key), CCZ_ERR_MALFORMED);
    /* the other policy's file is still fine */
    CHECK_OK(dev_seal_key(CCZ_TEE_SGX, root, CCZ_SEAL_MRSIGNER, key));
    hkdf(want, raw_sig, 16, "ccz sgx seal v1");
    CHECK(same(key, want));
    remove(sig_path);
    CHECK_STATUS(dev_seal_key(CCZ_TEE_SGX, root, CCZ_SEAL_MRSIGNER, key), CCZ_ERR_TEE_UNAVAILABLE);

    /* TDX and SEV-SNP guests have no sealing key (their attesters need no device to be made) */
    CHECK_STATUS(dev_seal_key(CCZ_TEE_TDX, root, CCZ_SEAL_MRSIGNER, key), CCZ_ERR_UNSUPPORTED);
    CHECK_STATUS(dev_seal_key(CCZ_TEE_TDX, root, CCZ_SEAL_MRENCLAVE, key), CCZ_ERR_UNSUPPORTED);
    CHECK_STR(ccz_error_detail(), "a tdx guest has no sealing key: obtain secrets from a peer or a "
                                  "key broker instead");
    CHECK_STATUS(dev_seal_key(CCZ_TEE_SNP, root, CCZ_SEAL_MRSIGNER, key), CCZ_ERR_UNSUPPORTED);
    CHECK_STR(ccz_error_detail(), "a snp guest has no sealing key: obtain secrets from a peer or a "
                                  "key broker instead");
}

TEST_MAIN(T(test_sim), T(test_sim_kat), T(test_sgx))
