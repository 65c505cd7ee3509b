/* SPDX-License-Identifier: Apache-2.0 */
/* How fetched CRL bodies are read (dcap_fetch.c): DER, PEM and hex-encoded DER are told apart by
 * parsing. DER CRLs start with '0' (0x30); here they also end in every ASCII hex digit, the case
 * that a first-and-last-byte test mistook for hex text. The fetch itself, against PCS- and
 * PCCS-shaped servers, through a proxy and over TLS, is tests/cli/test_collateral_fetch.sh. */
#include <ctype.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <string.h>

#include "ccz/ccz.h"
#include "tee/internal.h"
#include "test.h"

/* A signed CRL (DER) whose last byte is `last`: ECDSA signatures are random, so sign until one
 * ends that way (about 256 tries). */
static void crl_ending_in(ccz_buf *der, EVP_PKEY *key, uint8_t last)
{
    X509_CRL *crl = X509_CRL_new();
    X509_NAME *n = X509_NAME_new();
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"Test CRL Issuer", -1,
                               -1, 0);
    X509_CRL_set_version(crl, 1);
    X509_CRL_set_issuer_name(crl, n);
    ASN1_TIME *t = ASN1_TIME_set(NULL, 1893456000);
    X509_CRL_set1_lastUpdate(crl, t);
    ASN1_TIME_set(t, 1893456000 + 86400);
    X509_CRL_set1_nextUpdate(crl, t);
    for (int tries = 0; tries < 20000; tries++) {
        X509_CRL_sign(crl, key, EVP_sha256());
        unsigned char *p = NULL;
        int len = i2d_X509_CRL(crl, &p);
        CHECK(len > 0);
        if (len > 0 && p[len - 1] == last) {
            ccz_buf_reset(der);
            CHECK_OK(ccz_buf_append(der, p, (size_t)len));
            OPENSSL_free(p);
            break;
        }
        OPENSSL_free(p);
    }
    CHECK(der->len > 0 && der->ptr[0] == 0x30 && der->ptr[der->len - 1] == last);
    ASN1_TIME_free(t);
    X509_NAME_free(n);
    X509_CRL_free(crl);
}

static void pem_of(ccz_buf *out, ccz_span der)
{
    const unsigned char *p = der.ptr;
    X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)der.len);
    BIO *b = BIO_new(BIO_s_mem());
    PEM_write_bio_X509_CRL(b, crl);
    char *text;
    long n = BIO_get_mem_data(b, &text);
    CHECK_OK(ccz_buf_append(out, text, (size_t)n));
    BIO_free(b);
    X509_CRL_free(crl);
}

/* body decodes to exactly want */
static void decodes_to(const char *what, ccz_span body, ccz_span want)
{
    ccz_buf got = CCZ_BUF_INIT;
    CHECK_OK(dcap_crl_body_der(&got, body, what));
    if (got.len != want.len || memcmp(got.ptr, want.ptr, want.len) != 0) {
        fprintf(stderr, "%s: %s decoded to %zu other bytes\n", test_name, what, got.len);
        test_failures++;
    }
    ccz_buf_free(&got);
}

static void test_every_encoding_whatever_the_last_byte(void)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    static const char digits[] = "0123456789abcdefABCDEF";
    ccz_buf der = CCZ_BUF_INIT;
    for (size_t i = 0; i < sizeof digits - 1; i++) {
        crl_ending_in(&der, key, (uint8_t)digits[i]);
        ccz_span d = ccz_buf_span(&der);
        decodes_to("DER", d, d);
        ccz_buf pem = CCZ_BUF_INIT, hex = CCZ_BUF_INIT;
        pem_of(&pem, d);
        decodes_to("PEM", ccz_buf_span(&pem), d);
        CHECK_OK(ccz_hex_encode(&hex, d));
        decodes_to("hex", ccz_buf_span(&hex), d);
        for (size_t k = 0; k < hex.len; k++)
            hex.ptr[k] = (uint8_t)toupper(hex.ptr[k]);
        CHECK_OK(ccz_buf_append_str(&hex, "\r\n"));
        decodes_to("upper-case hex with a line break", ccz_buf_span(&hex), d);
        ccz_buf_free(&pem);
        ccz_buf_free(&hex);
    }
    /* a DER CRL ending in a byte that is not a hex digit, and one ending in 0x00 */
    crl_ending_in(&der, key, 0xb4);
    decodes_to("DER", ccz_buf_span(&der), ccz_buf_span(&der));
    crl_ending_in(&der, key, 0x00);
    decodes_to("DER", ccz_buf_span(&der), ccz_buf_span(&der));
    ccz_buf_free(&der);
    EVP_PKEY_free(key);
}

static void test_not_a_crl(void)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    ccz_buf der = CCZ_BUF_INIT, body = CCZ_BUF_INIT, out = CCZ_BUF_INIT;
    crl_ending_in(&der, key, '3');
    /* DER with a byte more, or a byte less */
    CHECK_OK(ccz_buf_append(&body, der.ptr, der.len));
    CHECK_OK(ccz_buf_append_u8(&body, '3'));
    CHECK_STATUS(dcap_crl_body_der(&out, ccz_buf_span(&body), "root CA CRL"), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "root CA CRL is not a CRL");
    CHECK_STATUS(dcap_crl_body_der(&out, CCZ_SPAN(der.ptr, der.len - 1), "CRL"), CCZ_ERR_MALFORMED);
    /* hex of something else, odd-length hex, text, PEM of something else, nothing */
    static const char *const bad[] = {"3082",
                                      "308",
                                      "0123456789abcdef0123456789abcdef",
                                      "not a CRL",
                                      "-----BEGIN X509 CRL-----\nMIIB\n-----END X509 CRL-----\n",
                                      "",
                                      " \n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_STATUS(dcap_crl_body_der(&out, CCZ_SPAN(bad[i], strlen(bad[i])), "CRL"),
                     CCZ_ERR_MALFORMED);
    CHECK_INT(out.len, 0); /* nothing is left behind by a failure */
    ccz_buf_free(&der);
    ccz_buf_free(&body);
    ccz_buf_free(&out);
    EVP_PKEY_free(key);
}

TEST_MAIN(T(test_every_encoding_whatever_the_last_byte), T(test_not_a_crl))
