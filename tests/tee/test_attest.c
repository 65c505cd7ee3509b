/* SPDX-License-Identifier: Apache-2.0 */
/* The SGX (Gramine) and TDX (configfs-tsm, /dev/tdx_guest) attesters, pointed at directories
 * that replay quotes the way the devices hand them out; and the QGS message framing. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "ccz/ccz.h"
#include "dcap_forge.h"
#include "tee/internal.h"
#include "test.h"

static forge *F;

static void put(const char *dir, const char *name, ccz_span data)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    CHECK_OK(ccz_mkdir_p(dir, 0700));
    CHECK_OK(ccz_file_write(path, data, 0644));
}

static void quote_for(ccz_buf *q, bool tdx, const uint8_t rd[64])
{
    if (!F)
        F = forge_new();
    forge_quote_opts o;
    forge_quote_defaults(&o);
    o.tdx = tdx;
    o.version = tdx ? 4 : 3;
    memcpy(o.report_data, rd, 64);
    CHECK_OK(forge_quote(F, q, &o));
}

static ccz_status attest(ccz_buf *ev, ccz_tee tee, const char *root, const char *entry,
                         const uint8_t rd[64])
{
    ccz_attester_opts o = CCZ_ATTESTER_OPTS_INIT;
    o.tee = tee;
    o.device_root = root;
    o.tsm_entry = entry;
    ccz_attester *a;
    ccz_status s = ccz_attester_new(&a, &o);
    if (s == CCZ_OK)
        s = ccz_attest(ev, a, rd);
    ccz_attester_free(a);
    return s;
}

static void test_gramine(void)
{
    uint8_t rd[64];
    for (int i = 0; i < 64; i++)
        rd[i] = (uint8_t)(0xa0 + i);
    char root[512], dev[600];
    snprintf(root, sizeof root, "%s/gramine", test_tmpdir());
    snprintf(dev, sizeof dev, "%s/dev/attestation", root);
    ccz_buf q = CCZ_BUF_INIT, ev = CCZ_BUF_INIT, written = CCZ_BUF_INIT;
    quote_for(&q, false, rd);
    put(dev, "attestation_type", CCZ_SPAN("dcap", 4));
    put(dev, "quote", ccz_buf_span(&q));
    CHECK_OK(attest(&ev, CCZ_TEE_SGX, root, NULL, rd));
    CHECK(ev.len == q.len && memcmp(ev.ptr, q.ptr, q.len) == 0);
    char path[700];
    snprintf(path, sizeof path, "%s/user_report_data", dev);
    CHECK_OK(ccz_file_read(&written, path, 0));
    CHECK(written.len == 64 && memcmp(written.ptr, rd, 64) == 0);
    /* a quote for other report data is refused */
    rd[0] ^= 1;
    ccz_buf_reset(&ev);
    CHECK_STATUS(attest(&ev, CCZ_TEE_SGX, root, NULL, rd), CCZ_ERR_REPORT_DATA_MISMATCH);
    CHECK_INT(ev.len, 0);
    /* not DCAP */
    put(dev, "attestation_type", CCZ_SPAN("epid\n", 5));
    CHECK_STATUS(attest(&ev, CCZ_TEE_SGX, root, NULL, rd), CCZ_ERR_TEE_UNAVAILABLE);
    CHECK_CONTAINS(ccz_error_detail(), "not dcap");
    /* a TDX quote where an SGX one belongs */
    put(dev, "attestation_type", CCZ_SPAN("dcap\n", 5));
    ccz_buf_reset(&q);
    quote_for(&q, true, rd);
    put(dev, "quote", ccz_buf_span(&q));
    CHECK_STATUS(attest(&ev, CCZ_TEE_SGX, root, NULL, rd), CCZ_ERR_MALFORMED);
    ccz_buf_free(&q);
    ccz_buf_free(&ev);
    ccz_buf_free(&written);
}

static void test_configfs_tsm(void)
{
    uint8_t rd[64] = {1, 2, 3};
    char root[512], entry[700], base[600];
    snprintf(root, sizeof root, "%s/tdx", test_tmpdir());
    snprintf(base, sizeof base, "%s/sys/kernel/config/tsm/report", root);
    snprintf(entry, sizeof entry, "%s/replay", base);
    ccz_buf q = CCZ_BUF_INIT, ev = CCZ_BUF_INIT, inblob = CCZ_BUF_INIT;
    quote_for(&q, true, rd);
    put(entry, "provider", CCZ_SPAN("tdx_guest\n", 10));
    put(entry, "generation", CCZ_SPAN("1\n", 2));
    put(entry, "outblob", ccz_buf_span(&q));
    CHECK_OK(attest(&ev, CCZ_TEE_TDX, root, "replay", rd));
    CHECK(ev.len == q.len && memcmp(ev.ptr, q.ptr, q.len) == 0);
    char path[800];
    snprintf(path, sizeof path, "%s/inblob", entry);
    CHECK_OK(ccz_file_read(&inblob, path, 0));
    CHECK(inblob.len == 64 && memcmp(inblob.ptr, rd, 64) == 0);
    struct stat st;
    CHECK(stat(entry, &st) == 0); /* an entry we did not create stays */
    put(entry, "provider", CCZ_SPAN("sev_guest\n", 10));
    CHECK_STATUS(attest(&ev, CCZ_TEE_TDX, root, "replay", rd), CCZ_ERR_TEE_UNAVAILABLE);
    CHECK_CONTAINS(ccz_error_detail(), "provider is 'sev_guest', not 'tdx_guest'");
    /* a fresh entry is created and removed again; a plain directory has no provider */
    CHECK_STATUS(attest(&ev, CCZ_TEE_TDX, root, NULL, rd), CCZ_ERR_TEE_UNAVAILABLE);
    int left = 0;
    for (int i = 0; i < 4; i++) {
        char p[900];
        snprintf(p, sizeof p, "%s/ccz-%ld-%d", base, (long)getpid(), i);
        left += stat(p, &st) == 0;
    }
    CHECK_INT(left, 0);
    CHECK_STATUS(attest(&ev, CCZ_TEE_TDX, root, "no/such", rd), CCZ_ERR_INVALID_ARGUMENT);
    ccz_buf_free(&q);
    ccz_buf_free(&ev);
    ccz_buf_free(&inblob);
}

static void test_tdx_guest_device(void)
{
    uint8_t rd[64] = {0};
    char root[512], dev[600];
    snprintf(root, sizeof root, "%s/legacy", test_tmpdir());
    snprintf(dev, sizeof dev, "%s/dev", root);
    put(dev, "tdx_guest", CCZ_SPAN("", 0)); /* a plain file: the ioctls are refused */
    ccz_buf ev = CCZ_BUF_INIT;
    CHECK_STATUS(attest(&ev, CCZ_TEE_TDX, root, NULL, rd), CCZ_ERR_TEE_UNAVAILABLE);
    CHECK_CONTAINS(ccz_error_detail(), "TDX_CMD_GET_REPORT0");
    char empty[512];
    snprintf(empty, sizeof empty, "%s/empty", test_tmpdir());
    CHECK_OK(ccz_mkdir_p(empty, 0700));
    CHECK_STATUS(attest(&ev, CCZ_TEE_TDX, empty, NULL, rd), CCZ_ERR_TEE_UNAVAILABLE);
    CHECK_CONTAINS(ccz_error_detail(), "no TDX guest interface");
    ccz_buf_free(&ev);
}

static void test_qgs_messages(void)
{
    uint8_t report[1024];
    memset(report, 0x77, sizeof report);
    ccz_buf req = CCZ_BUF_INIT;
    CHECK_OK(tee_tdx_qgs_request(&req, report));
    CHECK_INT(req.len, 4 + 16 + 8 + 1024);
    CHECK(req.ptr[0] == 0 && req.ptr[1] == 0 && req.ptr[2] == 0x04 && req.ptr[3] == 0x18);
    CHECK(req.ptr[4] == 1 && req.ptr[6] == 0);         /* version 1.0 */
    CHECK(req.ptr[8] == 0);                            /* GET_QUOTE_REQ */
    CHECK(req.ptr[20] == 0x00 && req.ptr[21] == 0x04); /* report size 1024 */

    /* a response: size, header (type 1), id size 2, quote size 5, id, quote */
    uint8_t resp[4 + 16 + 8 + 2 + 5] = {0,  0, 0, 31, 1,    0,    0,   0,   1,   0,   0,  0,
                                        31, 0, 0, 0,  0,    0,    0,   0,   2,   0,   0,  0,
                                        5,  0, 0, 0,  0xee, 0xee, 'Q', 'U', 'O', 'T', 'E'};
    ccz_span q;
    CHECK_OK(tee_tdx_qgs_response(&q, CCZ_SPAN(resp, sizeof resp)));
    CHECK(q.len == 5 && memcmp(q.ptr, "QUOTE", 5) == 0);
    CHECK_STATUS(tee_tdx_qgs_response(&q, CCZ_SPAN(resp, sizeof resp - 1)), CCZ_ERR_TRUNCATED);
    resp[24] = 6; /* quote size beyond the message */
    CHECK_STATUS(tee_tdx_qgs_response(&q, CCZ_SPAN(resp, sizeof resp)), CCZ_ERR_TRUNCATED);
    resp[24] = 5;
    resp[16] = 0x12; /* QGS error code */
    CHECK_STATUS(tee_tdx_qgs_response(&q, CCZ_SPAN(resp, sizeof resp)), CCZ_ERR_TEE_UNAVAILABLE);
    resp[16] = 0;
    resp[8] = 0; /* a request, not a response */
    CHECK_STATUS(tee_tdx_qgs_response(&q, CCZ_SPAN(resp, sizeof resp)), CCZ_ERR_MALFORMED);
    ccz_buf_free(&req);
}

/* A synthetic SNP report (not signed: the attester only parses and checks report data). */
static void snp_report(uint8_t rep[CCZ_SNP_REPORT_SIZE], const uint8_t rd[64])
{
    memset(rep, 0, CCZ_SNP_REPORT_SIZE);
    rep[0] = 3;    /* version */
    rep[0x34] = 1; /* ECDSA P-384 */
    memcpy(rep + 0x50, rd, 64);
}

static void test_snp_configfs(void)
{
    uint8_t rd[64] = {9, 9, 9}, rep[CCZ_SNP_REPORT_SIZE];
    snp_report(rep, rd);
    char root[512], entry[700];
    snprintf(root, sizeof root, "%s/snp", test_tmpdir());
    snprintf(entry, sizeof entry, "%s/sys/kernel/config/tsm/report/e1", root);
    put(entry, "provider", CCZ_SPAN("sev_guest\n", 10));
    put(entry, "generation", CCZ_SPAN("3\n", 2));
    put(entry, "outblob", CCZ_SPAN(rep, sizeof rep));
    ccz_buf ev = CCZ_BUF_INIT, certs = CCZ_BUF_INIT;
    ccz_attester_opts o = CCZ_ATTESTER_OPTS_INIT;
    o.tee = CCZ_TEE_SNP;
    o.device_root = root;
    o.tsm_entry = "e1";
    ccz_attester *a;
    CHECK_OK(ccz_attester_new(&a, &o));
    /* no auxblob: no certificates, which is fine */
    CHECK_OK(ccz_attest_with_certs(&ev, &certs, a, rd));
    CHECK_INT(ev.len, CCZ_SNP_REPORT_SIZE);
    CHECK_INT(certs.len, 0);
    rd[0] = 8;
    CHECK_STATUS(ccz_attest(&ev, a, rd), CCZ_ERR_REPORT_DATA_MISMATCH);
    put(entry, "outblob", CCZ_SPAN(rep, 100));
    CHECK_STATUS(ccz_attest(&ev, a, rd), CCZ_ERR_TRUNCATED);
    ccz_attester_free(a);
    /* /dev/sev-guest as a plain file: the ioctl is refused */
    char legacy[512], dev[600];
    snprintf(legacy, sizeof legacy, "%s/snp-legacy", test_tmpdir());
    snprintf(dev, sizeof dev, "%s/dev", legacy);
    put(dev, "sev-guest", CCZ_SPAN("", 0));
    o.device_root = legacy;
    o.tsm_entry = NULL;
    CHECK_OK(ccz_attester_new(&a, &o));
    CHECK_STATUS(ccz_attest(&ev, a, rd), CCZ_ERR_TEE_UNAVAILABLE);
    CHECK_CONTAINS(ccz_error_detail(), "SNP_GET_REPORT");
    ccz_attester_free(a);
    ccz_buf_free(&ev);
    ccz_buf_free(&certs);
}

static void test_snp_cert_table(void)
{
    /* a table with a VCEK-tagged certificate (a forged one stands in) and an unknown GUID */
    if (!F)
        F = forge_new();
    ccz_buf der = CCZ_BUF_INIT, table = CCZ_BUF_INIT, vek = CCZ_BUF_INIT, chain = CCZ_BUF_INIT;
    BIO *b = BIO_new_mem_buf(forge_root_pem(F).ptr, (int)forge_root_pem(F).len);
    X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
    BIO_free(b);
    unsigned char *p = NULL;
    int n = i2d_X509(x, &p);
    X509_free(x);
    static const uint8_t vcek_guid[16] = {0x8d, 0x75, 0xda, 0x63, 0x64, 0xe6, 0x64, 0x45,
                                          0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd};
    uint8_t other[16] = {1};
    CHECK_OK(ccz_buf_append(&table, other, 16));
    CHECK_OK(ccz_buf_append_u32le(&table, 72));
    CHECK_OK(ccz_buf_append_u32le(&table, 4));
    CHECK_OK(ccz_buf_append(&table, vcek_guid, 16));
    CHECK_OK(ccz_buf_append_u32le(&table, 76));
    CHECK_OK(ccz_buf_append_u32le(&table, (uint32_t)n));
    uint8_t zero[24] = {0};
    CHECK_OK(ccz_buf_append(&table, zero, 24));
    CHECK_OK(ccz_buf_append(&table, "junk", 4));
    CHECK_OK(ccz_buf_append(&table, p, (size_t)n));
    CHECK_OK(ccz_snp_cert_table(&vek, &chain, ccz_buf_span(&table)));
    CHECK_CONTAINS((const char *)vek.ptr, "-----BEGIN CERTIFICATE-----");
    CHECK_INT(chain.len, 0);
    /* an entry pointing outside the table, and a table without its zero entry */
    table.ptr[43] = 0xff; /* the VCEK entry's offset */
    CHECK_STATUS(ccz_snp_cert_table(&vek, &chain, ccz_buf_span(&table)), CCZ_ERR_TRUNCATED);
    CHECK_STATUS(ccz_snp_cert_table(&vek, &chain, CCZ_SPAN(table.ptr, 30)), CCZ_ERR_TRUNCATED);
    OPENSSL_free(p);
    ccz_buf_free(&der);
    ccz_buf_free(&table);
    ccz_buf_free(&vek);
    ccz_buf_free(&chain);
}

static void cleanup(void)
{
    forge_free(F);
}

TEST_MAIN(T(test_gramine), T(test_configfs_tsm), T(test_tdx_guest_device), T(test_qgs_messages),
          T(test_snp_configfs), T(test_snp_cert_table), T(cleanup))
