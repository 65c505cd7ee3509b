/* SPDX-License-Identifier: Apache-2.0 */
/* RA-TLS against the recorded certificates of Gramine, rats-tls and the Intel SGX SDK in
 * ../shared/vectors: each format read back, bound to its key, and the Gramine legacy certificate
 * verified with its collateral. Needs the vectors: every test calls vectors_require() first
 * (tests without vectors: test_ratls.c). */
#include <stdio.h>
#include <string.h>

#include <openssl/pem.h>

#include "ccz/ccz.h"
#include "test.h"
#include "vectors.h"

static ccz_policy *policy(const char *doc)
{
    ccz_policy *p;
    CHECK_OK(ccz_policy_parse(&p, doc, strlen(doc)));
    return p;
}

static X509 *vector_cert(const char *rel)
{
    ccz_buf b = CCZ_BUF_INIT;
    CHECK_OK(vectors_read(&b, rel, false));
    BIO *bio = BIO_new_mem_buf(b.ptr, (int)b.len);
    X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    BIO_free(bio);
    ccz_buf_free(&b);
    CHECK(x != NULL);
    return x;
}

static void test_recorded_certificates(void)
{
    vectors_require();
    static const struct {
        const char *path;
        ccz_ratls_format format;
        uint64_t tag;
        bool legacy, sdk;
        const char *mr_enclave_prefix;
    } certs[] = {
        {"ratls/gramine-cert.pem", CCZ_RATLS_FORMAT_DICE, 60000, true, false, NULL},
        {"ratls/intel-sgxsdk-cert.pem", CCZ_RATLS_FORMAT_DICE, 60000, false, true, NULL},
        {"ratls/rats-tls-cert.pem", CCZ_RATLS_FORMAT_DICE, 60000, false, false, NULL},
        {"konvera_gramine-ratls-golang/test/tls/tlscert.pem", CCZ_RATLS_FORMAT_GRAMINE_LEGACY, 0,
         true, false, "f94ccbe6a504676b"},
    };
    for (size_t i = 0; i < sizeof certs / sizeof certs[0]; i++) {
        test_name = certs[i].path;
        X509 *x = vector_cert(certs[i].path);
        ccz_ratls_info info;
        CHECK_OK(ccz_ratls_inspect(&info, x));
        CHECK_INT(info.format, certs[i].format);
        CHECK_INT(info.tee, CCZ_TEE_SGX);
        CHECK(info.binding_ok);
        CHECK(info.has_legacy == certs[i].legacy && info.has_sgx_sdk == certs[i].sdk);
        if (certs[i].tag)
            CHECK_INT(info.cbor_tag, certs[i].tag);
        ccz_claims c;
        CHECK_OK(ccz_evidence_peek(&c, ccz_buf_span(&info.evidence)));
        CHECK(memcmp(c.report_data, info.report_data, 64) == 0); /* bound to the key */
        if (certs[i].mr_enclave_prefix) {
            char hex[65];
            ccz_hex_to_str(hex, c.sgx.mr_enclave, 32);
            CHECK(strncmp(hex, certs[i].mr_enclave_prefix, 16) == 0);
        }
        ccz_ratls_info_free(&info);
        X509_free(x);
    }
    test_name = "test_recorded_certificates";
    /* the Gramine legacy certificate verifies as case ratls-gramine-sgx-v3 */
    X509 *x = vector_cert("konvera_gramine-ratls-golang/test/tls/tlscert.pem");
    ccz_buf cb = CCZ_BUF_INIT;
    CHECK_OK(vectors_read(&cb, "derived/automata_sgx_0825_collateral.json", false));
    ccz_collateral *col;
    CHECK_OK(ccz_collateral_parse(&col, (const char *)cb.ptr, cb.len));
    ccz_trust *t;
    CHECK_OK(ccz_trust_new(&t));
    CHECK_OK(ccz_trust_add_builtin(t));
    ccz_policy *p = policy("{\"allow_outdated_tcb\": true}");
    ccz_verify_opts vo = CCZ_VERIFY_OPTS_INIT;
    vo.at_unix = 1755236700;
    vo.trust = t;
    vo.collateral = col;
    static ccz_ratls_verdict v;
    CHECK_OK(ccz_ratls_verify_cert(&v, x, p, &vo));
    CHECK_STR(v.result.claims.tcb_status, "OutOfDate");
    CHECK_INT(v.result.claims.n_advisories, 6);
    /* the same genuine quote under another key, the certificate re-signed by that key: the
     * quote's report data is not the new key's hash, the only binding this format has */
    EVP_PKEY *other = EVP_EC_gen("P-256");
    X509 *swapped = X509_dup(x);
    X509_set_pubkey(swapped, other);
    CHECK(X509_sign(swapped, other, EVP_sha256()) > 0);
    CHECK_STATUS(ccz_ratls_verify_cert(&v, swapped, p, &vo), CCZ_ERR_BINDING);
    CHECK_STR(v.step, "binding");
    CHECK_INT(v.format, CCZ_RATLS_FORMAT_GRAMINE_LEGACY);
    X509_free(swapped);
    EVP_PKEY_free(other);
    ccz_policy_free(p);
    ccz_trust_free(t);
    ccz_collateral_free(col);
    ccz_buf_free(&cb);
    X509_free(x);
}

TEST_MAIN(T(test_recorded_certificates))
