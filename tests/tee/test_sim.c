/* SPDX-License-Identifier: Apache-2.0 */
/* Sim TEE: platform creation, attest/verify round trip, and tampering: every byte of the
 * evidence flipped gives the specific failure its position implies. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ccz/ccz.h"
#include "test.h"

static char plat[512], other[512];
static uint8_t rd[64];
static int64_t T0; /* attestation time used throughout: an hour after the platforms were made */

static void setup_platforms(void)
{
    if (plat[0])
        return;
    snprintf(plat, sizeof plat, "%s/plat", test_tmpdir());
    snprintf(other, sizeof other, "%s/other", test_tmpdir());
    CHECK_OK(ccz_sim_platform_init(plat, false));
    CHECK_OK(ccz_sim_platform_init(other, false));
    T0 = (int64_t)time(NULL) + 3600;
    for (int i = 0; i < 64; i++)
        rd[i] = (uint8_t)(i * 7 + 1);
}

static void make_evidence(ccz_buf *ev, uint16_t svn, bool debug)
{
    setup_platforms();
    static const uint8_t meas[32] = {0xaa, 0xbb, 0xcc};
    ccz_attester_opts o = CCZ_ATTESTER_OPTS_INIT;
    o.tee = CCZ_TEE_SIM;
    o.sim.dir = plat;
    o.sim.measurement = meas;
    o.sim.product_id = 7;
    o.sim.svn = svn;
    o.sim.debug = debug;
    o.sim.timestamp = T0;
    ccz_attester *a;
    CHECK_OK(ccz_attester_new(&a, &o));
    CHECK_OK(ccz_attest(ev, a, rd));
    ccz_attester_free(a);
}

static ccz_trust *trust_of(const char *dir)
{
    char path[600];
    ccz_trust *t;
    CHECK_OK(ccz_trust_new(&t));
    snprintf(path, sizeof path, "%s/root.crt", dir);
    CHECK_OK(ccz_trust_add_sim_root_file(t, path));
    return t;
}

static ccz_status verify_at(ccz_result *r, ccz_span ev, const ccz_trust *t, int64_t at,
                            const uint8_t *want_rd)
{
    ccz_verify_opts o = CCZ_VERIFY_OPTS_INIT;
    o.at_unix = at;
    o.trust = t;
    o.expected_report_data = want_rd;
    return ccz_verify(r, ev, &o);
}

static void test_round_trip(void)
{
    ccz_buf ev = CCZ_BUF_INIT;
    make_evidence(&ev, 5, false);
    ccz_trust *t = trust_of(plat);
    static ccz_result r;
    CHECK_OK(verify_at(&r, ccz_buf_span(&ev), t, T0 + 10, rd));
    CHECK(r.step == NULL);
    CHECK_INT(r.claims.tee, CCZ_TEE_SIM);
    CHECK(r.claims.simulated);
    CHECK(!r.claims.debug);
    CHECK_INT(r.claims.sgx.isv_prod_id, 7);
    CHECK_INT(r.claims.sgx.isv_svn, 5);
    CHECK_INT(r.claims.sim.timestamp, T0);
    CHECK_INT(r.claims.sgx.mr_enclave[0], 0xaa);
    CHECK_INT(r.claims.sgx.mr_enclave[2], 0xcc);
    CHECK(memcmp(r.claims.report_data, rd, 64) == 0);
    CHECK_STR(r.claims.tcb_status, "");
    CHECK_INT(ccz_evidence_detect(ccz_buf_span(&ev)), CCZ_TEE_SIM);

    uint8_t signer[32];
    char key[600];
    snprintf(key, sizeof key, "%s/signer.key", plat);
    CHECK_OK(ccz_sim_signer_of_key_file(signer, key));
    CHECK(memcmp(signer, r.claims.sgx.mr_signer, 32) == 0);

    /* the size is fixed by the format: header, certificate, signature */
    ccz_sim_evidence e;
    CHECK_OK(ccz_sim_evidence_parse(&e, ccz_buf_span(&ev)));
    CHECK_INT(ev.len, CCZ_SIM_HEADER_SIZE + e.platform_cert.len + CCZ_SIM_SIG_SIZE);
    /* the parser itself refuses another magic (not only detection does) */
    ev.ptr[3] ^= 0x01;
    CHECK_STATUS(ccz_sim_evidence_parse(&e, ccz_buf_span(&ev)), CCZ_ERR_UNKNOWN_FORMAT);
    ev.ptr[3] ^= 0x01;
    /* the same evidence and trust with options of another version than this header's */
    ccz_verify_opts o = CCZ_VERIFY_OPTS_INIT;
    o.at_unix = T0 + 10;
    o.trust = t;
    for (unsigned v = 0; v <= CCZ_VERIFY_OPTS_VERSION + 1; v += 2) {
        o.version = v;
        CHECK_STATUS(ccz_verify(&r, ccz_buf_span(&ev), &o), CCZ_ERR_INVALID_ARGUMENT);
        CHECK_STR(r.step, "detect");
        CHECK_STR(ccz_error_detail(),
                  "verify options missing, of the wrong version or without trust anchors");
    }
    o.version = CCZ_VERIFY_OPTS_VERSION;
    CHECK_OK(ccz_verify(&r, ccz_buf_span(&ev), &o));
    ccz_trust_free(t);
    ccz_buf_free(&ev);
}

static void test_debug_flag(void)
{
    ccz_buf ev = CCZ_BUF_INIT;
    make_evidence(&ev, 0, true);
    ccz_trust *t = trust_of(plat);
    static ccz_result r;
    CHECK_OK(verify_at(&r, ccz_buf_span(&ev), t, T0, NULL));
    CHECK(r.claims.debug);
    ccz_trust_free(t);
    ccz_buf_free(&ev);
}

/* The code each position must give when its byte is XORed with mask (ev unmodified). */
static ccz_status expected_for(size_t off, uint8_t mask, const ccz_buf *ev, size_t cert_len)
{
    size_t cert_end = CCZ_SIM_HEADER_SIZE + cert_len;
    if (off < 4)
        return CCZ_ERR_UNKNOWN_FORMAT;
    if (off < 6)
        return CCZ_ERR_UNSUPPORTED_VERSION;
    if (off < 8) /* flags: the debug bit is signed over; other bits are unknown */
        return (off == 6 && mask == 0x01) ? CCZ_ERR_BAD_SIGNATURE : CCZ_ERR_MALFORMED;
    if (off == 83 && mask == 0x80)
        return CCZ_ERR_MALFORMED; /* timestamp beyond the signed 64-bit range */
    if (off < CCZ_SIM_HEADER_SIZE - 2)
        return CCZ_ERR_BAD_SIGNATURE; /* measurement .. report data */
    if (off < CCZ_SIM_HEADER_SIZE) {  /* certificate length */
        unsigned len = ev->ptr[CCZ_SIM_HEADER_SIZE - 2] | ev->ptr[CCZ_SIM_HEADER_SIZE - 1] << 8;
        unsigned flipped = len ^ ((unsigned)mask << (off == CCZ_SIM_HEADER_SIZE - 2 ? 0 : 8));
        return flipped > len ? CCZ_ERR_TRUNCATED : CCZ_ERR_TRAILING_DATA;
    }
    if (off < cert_end)
        return CCZ_ERR_CERT_CHAIN; /* or certificate_malformed: checked by the caller */
    return CCZ_ERR_BAD_SIGNATURE;
}

static void test_every_byte_flip(void)
{
    ccz_buf ev = CCZ_BUF_INIT;
    make_evidence(&ev, 1, false);
    ccz_trust *t = trust_of(plat);
    ccz_sim_evidence e;
    CHECK_OK(ccz_sim_evidence_parse(&e, ccz_buf_span(&ev)));
    size_t cert_len = e.platform_cert.len;
    static ccz_result r;
    static const uint8_t masks[] = {0x01, 0x80};
    size_t cert_malformed = 0, chain = 0;
    for (size_t off = 0; off < ev.len; off++) {
        for (size_t m = 0; m < sizeof masks; m++) {
            ccz_status want = expected_for(off, masks[m], &ev, cert_len);
            ev.ptr[off] ^= masks[m];
            ccz_status got = verify_at(&r, ccz_buf_span(&ev), t, T0, rd);
            ev.ptr[off] ^= masks[m];
            if (want == CCZ_ERR_CERT_CHAIN && got == CCZ_ERR_CERT_MALFORMED) {
                cert_malformed++;
                CHECK_STR(r.step, "platform_certificate");
                continue;
            }
            if (got != want) {
                fprintf(stderr, "offset %zu mask 0x%02x: got %s (%s at %s), want %s\n", off,
                        masks[m], ccz_status_name(got), r.message, r.step ? r.step : "-",
                        ccz_status_name(want));
                test_failures++;
            }
            chain += want == CCZ_ERR_CERT_CHAIN;
        }
    }
    /* both certificate outcomes occur, and nothing escaped */
    CHECK(cert_malformed > 0);
    CHECK(chain > 0);
    CHECK_OK(verify_at(&r, ccz_buf_span(&ev), t, T0, rd));
    ccz_trust_free(t);
    ccz_buf_free(&ev);
}

static void test_steps_named(void)
{
    ccz_buf ev = CCZ_BUF_INIT;
    make_evidence(&ev, 1, false);
    ccz_trust *t = trust_of(plat);
    static ccz_result r;
    ev.ptr[20] ^= 1; /* measurement */
    CHECK_STATUS(verify_at(&r, ccz_buf_span(&ev), t, T0, NULL), CCZ_ERR_BAD_SIGNATURE);
    CHECK_STR(r.step, "signature");
    CHECK_CONTAINS(r.message, "signature does not verify");
    ev.ptr[20] ^= 1;
    ev.ptr[4] = 9; /* version */
    CHECK_STATUS(verify_at(&r, ccz_buf_span(&ev), t, T0, NULL), CCZ_ERR_UNSUPPORTED_VERSION);
    CHECK_STR(r.step, "parse");
    CHECK_CONTAINS(r.message, "version 9");
    ev.ptr[4] = 1;
    ev.ptr[0] = 'X';
    CHECK_STATUS(verify_at(&r, ccz_buf_span(&ev), t, T0, NULL), CCZ_ERR_UNKNOWN_FORMAT);
    CHECK_STR(r.step, "detect");
    ccz_trust_free(t);
    ccz_buf_free(&ev);
}

static void test_truncation_and_trailing(void)
{
    ccz_buf ev = CCZ_BUF_INIT;
    make_evidence(&ev, 1, false);
    ccz_trust *t = trust_of(plat);
    static ccz_result r;
    for (size_t n = 0; n < ev.len; n++) {
        ccz_status want = n < 4 ? CCZ_ERR_UNKNOWN_FORMAT : CCZ_ERR_TRUNCATED;
        ccz_status got = verify_at(&r, CCZ_SPAN(ev.ptr, n), t, T0, NULL);
        if (got != want) {
            fprintf(stderr, "length %zu: got %s, want %s\n", n, ccz_status_name(got),
                    ccz_status_name(want));
            test_failures++;
        }
    }
    CHECK_OK(ccz_buf_append_u8(&ev, 0));
    CHECK_STATUS(verify_at(&r, ccz_buf_span(&ev), t, T0, NULL), CCZ_ERR_TRAILING_DATA);
    CHECK_STR(r.step, "parse");
    ccz_trust_free(t);
    ccz_buf_free(&ev);
}

static void test_report_data_mismatch(void)
{
    ccz_buf ev = CCZ_BUF_INIT;
    make_evidence(&ev, 1, false);
    ccz_trust *t = trust_of(plat);
    static ccz_result r;
    uint8_t other_rd[64];
    memcpy(other_rd, rd, 64);
    other_rd[63] ^= 0x40;
    CHECK_STATUS(verify_at(&r, ccz_buf_span(&ev), t, T0, other_rd), CCZ_ERR_REPORT_DATA_MISMATCH);
    CHECK_STR(r.step, "report_data");
    ccz_trust_free(t);
    ccz_buf_free(&ev);
}

/* The first 8 bytes of the subject key id and of the platform id (SHA-256 of the DER) of dir's
 * root, as hex. */
static void root_ids(char kid[17], char pid[17], const char *dir)
{
    char path[600];
    snprintf(path, sizeof path, "%s/root.crt", dir);
    kid[0] = pid[0] = '\0';
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    X509 *root = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
    if (f)
        fclose(f);
    CHECK(root != NULL);
    if (!root)
        return;
    const ASN1_OCTET_STRING *id = X509_get0_subject_key_id(root);
    CHECK(id != NULL && ASN1_STRING_length(id) >= 8);
    for (int k = 0; id && k < 8 && k < ASN1_STRING_length(id); k++)
        snprintf(kid + 2 * k, 3, "%02x", ASN1_STRING_get0_data(id)[k]);
    unsigned char *der = NULL;
    int n = i2d_X509(root, &der);
    uint8_t d[32];
    CHECK(n > 0 && EVP_Digest(der, (size_t)n, d, NULL, EVP_sha256(), NULL) == 1);
    ccz_hex_to_str(pid, d, 8);
    OPENSSL_free(der);
    X509_free(root);
}

static void test_untrusted_platform(void)
{
    ccz_buf ev = CCZ_BUF_INIT;
    make_evidence(&ev, 1, false);
    static ccz_result r;
    ccz_trust *t = trust_of(other);
    CHECK_STATUS(verify_at(&r, ccz_buf_span(&ev), t, T0, NULL), CCZ_ERR_CERT_CHAIN);
    CHECK_STR(r.step, "platform_certificate");
    CHECK_CONTAINS(r.message, "the evidence comes from another sim platform");
    /* both platforms named exactly: the evidence's root, and the one trusted */
    char kid[17], pid[17], want[200];
    root_ids(kid, pid, plat);
    snprintf(want, sizeof want, "certified by a root with key id %s…, and the trusted sim root is ",
             kid);
    CHECK_CONTAINS(r.message, want);
    root_ids(kid, pid, other);
    snprintf(want, sizeof want, "root is key id %s… (platform_id %s…)", kid, pid);
    CHECK_CONTAINS(r.message, want);
    ccz_trust_free(t);
    CHECK_OK(ccz_trust_new(&t));
    CHECK_STATUS(verify_at(&r, ccz_buf_span(&ev), t, T0, NULL), CCZ_ERR_CERT_CHAIN);
    CHECK_CONTAINS(r.message, "no sim platform root is trusted");
    ccz_trust_free(t);
    /* both roots trusted: the right one is found */
    t = trust_of(other);
    char path[600];
    snprintf(path, sizeof path, "%s/root.crt", plat);
    CHECK_OK(ccz_trust_add_sim_root_file(t, path));
    CHECK_INT(ccz_trust_sim_root_count(t), 2);
    CHECK_OK(verify_at(&r, ccz_buf_span(&ev), t, T0, NULL));
    ccz_trust_free(t);
    ccz_buf_free(&ev);
}

static void test_instant(void)
{
    ccz_buf ev = CCZ_BUF_INIT;
    make_evidence(&ev, 1, false);
    ccz_trust *t = trust_of(plat);
    static ccz_result r;
    int64_t now = (int64_t)time(NULL);
    /* the platform certificates were issued now, for ten years */
    CHECK_STATUS(verify_at(&r, ccz_buf_span(&ev), t, now - 86400, NULL), CCZ_ERR_NOT_YET_VALID);
    CHECK_STR(r.step, "platform_certificate");
    CHECK_STATUS(verify_at(&r, ccz_buf_span(&ev), t, now + 11LL * 365 * 86400, NULL),
                 CCZ_ERR_EXPIRED);
    CHECK_STR(r.step, "platform_certificate");
    ccz_trust_free(t);
    ccz_buf_free(&ev);

    /* evidence made after the instant of verification */
    ccz_attester_opts o = CCZ_ATTESTER_OPTS_INIT;
    o.tee = CCZ_TEE_SIM;
    o.sim.dir = plat;
    o.sim.timestamp = now + 3600;
    ccz_attester *a;
    CHECK_OK(ccz_attester_new(&a, &o));
    CHECK_OK(ccz_attest(&ev, a, rd));
    ccz_attester_free(a);
    t = trust_of(plat);
    CHECK_STATUS(verify_at(&r, ccz_buf_span(&ev), t, now, NULL), CCZ_ERR_NOT_YET_VALID);
    CHECK_STR(r.step, "timestamp");
    CHECK_OK(verify_at(&r, ccz_buf_span(&ev), t, now + 3600, NULL));
    ccz_trust_free(t);
    ccz_buf_free(&ev);
}

static void test_platform_init(void)
{
    setup_platforms();
    CHECK_STATUS(ccz_sim_platform_init(plat, false), CCZ_ERR_EXISTS);
    CHECK_CONTAINS(ccz_error_detail(), "--force");
    char dir[600];
    snprintf(dir, sizeof dir, "%s/forced", test_tmpdir());
    CHECK_OK(ccz_sim_platform_init(dir, false));
    uint8_t s1[32], s2[32];
    char key[700];
    snprintf(key, sizeof key, "%s/signer.key", dir);
    CHECK_OK(ccz_sim_signer_of_key_file(s1, key));
    CHECK_OK(ccz_sim_platform_init(dir, true));
    CHECK_OK(ccz_sim_signer_of_key_file(s2, key));
    CHECK(memcmp(s1, s2, 32) != 0); /* a new platform has new keys */
    /* the platform's directory is the owner's alone too */
    struct stat db;
    CHECK(stat(dir, &db) == 0);
    CHECK_INT(db.st_mode & 07777, 0700);
    /* the private keys are the owner's alone (also when --force replaced them); the
     * certificates are public */
    static const struct {
        const char *name;
        unsigned mode;
    } files[] = {{"root.key", 0600},
                 {"ak.key", 0600},
                 {"signer.key", 0600},
                 {"ak.crt", 0644},
                 {"root.crt", 0644}};
    for (size_t i = 0; i < CCZ_ARRAY_LEN(files); i++) {
        char f[700];
        snprintf(f, sizeof f, "%s/%s", dir, files[i].name);
        struct stat sb;
        CHECK(stat(f, &sb) == 0);
        if ((sb.st_mode & 07777) != files[i].mode) {
            fprintf(stderr, "%s has mode %04o, want %04o\n", files[i].name,
                    (unsigned)(sb.st_mode & 07777), files[i].mode);
            test_failures++;
        }
    }
    /* an attestation key that is not the certificate's: the attester refuses the platform */
    ccz_buf kb = CCZ_BUF_INIT;
    CHECK_OK(ccz_file_read(&kb, key, 64 * 1024)); /* signer.key */
    char ak[700];
    snprintf(ak, sizeof ak, "%s/ak.key", dir);
    CHECK_OK(ccz_file_write(ak, ccz_buf_span(&kb), 0600));
    ccz_buf_free(&kb);
    ccz_attester_opts ao = CCZ_ATTESTER_OPTS_INIT;
    ao.tee = CCZ_TEE_SIM;
    ao.sim.dir = dir;
    ccz_attester *bad = NULL;
    CHECK_STATUS(ccz_attester_new(&bad, &ao), CCZ_ERR_KEY_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "/ak.key does not match");
    CHECK(bad == NULL);
    /* no certificate for the attestation key: named as missing, not as malformed */
    char akc[700];
    snprintf(akc, sizeof akc, "%s/ak.crt", dir);
    CHECK(unlink(akc) == 0);
    CHECK_STATUS(ccz_attester_new(&bad, &ao), CCZ_ERR_TEE_UNAVAILABLE);
    CHECK_CONTAINS(ccz_error_detail(), "/ak.crt is missing");
    CHECK(bad == NULL);

    /* an attestation key or its certificate that is not PEM: the file named */
    snprintf(dir, sizeof dir, "%s/garbled", test_tmpdir());
    CHECK_OK(ccz_sim_platform_init(dir, false));
    ao.sim.dir = dir;
    char want[700];
    snprintf(akc, sizeof akc, "%s/ak.crt", dir);
    CHECK_OK(ccz_file_write(akc, CCZ_SPAN("junk\n", 5), 0644));
    CHECK_STATUS(ccz_attester_new(&bad, &ao), CCZ_ERR_CERT_MALFORMED);
    snprintf(want, sizeof want, "%s/ak.crt is not a PEM certificate", dir);
    CHECK_CONTAINS(ccz_error_detail(), want);
    snprintf(ak, sizeof ak, "%s/ak.key", dir);
    CHECK_OK(ccz_file_write(ak, CCZ_SPAN("junk\n", 5), 0600));
    CHECK_STATUS(ccz_attester_new(&bad, &ao), CCZ_ERR_KEY_MALFORMED);
    snprintf(want, sizeof want, "%s/ak.key is not a PEM key", dir);
    CHECK_CONTAINS(ccz_error_detail(), want);
    CHECK(bad == NULL);
    /* an empty directory name is none, for the platform and for the attester */
    CHECK_STATUS(ccz_sim_platform_init("", false), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "no platform directory given");
    ao.sim.dir = "";
    CHECK_STATUS(ccz_attester_new(&bad, &ao), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "sim attester: no platform directory");

    /* an attester without a platform says how to make one */
    ccz_attester_opts o = CCZ_ATTESTER_OPTS_INIT;
    o.tee = CCZ_TEE_SIM;
    snprintf(dir, sizeof dir, "%s/none", test_tmpdir());
    o.sim.dir = dir;
    ccz_attester *a;
    CHECK_STATUS(ccz_attester_new(&a, &o), CCZ_ERR_TEE_UNAVAILABLE);
    CHECK_CONTAINS(ccz_error_detail(), "ccz sim init");
    o.tee = CCZ_TEE_NONE;
    CHECK_STATUS(ccz_attester_new(&a, &o), CCZ_ERR_NO_BACKEND);
    CHECK_STR(ccz_error_detail(), "this build has no attester for TEE 'none'");
    /* a TEE this build verifies but cannot attest as, and one it does not know */
    o.tee = CCZ_TEE_CSV;
    CHECK_STATUS(ccz_attester_new(&a, &o), CCZ_ERR_NO_BACKEND);
    CHECK_STR(ccz_error_detail(), "this build has no attester for TEE 'csv'");
    o.tee = (ccz_tee)42;
    CHECK_STATUS(ccz_attester_new(&a, &o), CCZ_ERR_NO_BACKEND);
    CHECK_STR(ccz_error_detail(), "this build has no attester for TEE 'unknown'");
    /* options missing or of another version */
    CHECK_STATUS(ccz_attester_new(&a, NULL), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "attester options missing or of the wrong version");
    o.tee = CCZ_TEE_SIM;
    o.version = CCZ_ATTESTER_OPTS_VERSION + 1;
    CHECK_STATUS(ccz_attester_new(&a, &o), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "attester options missing or of the wrong version");
    CHECK(a == NULL);
}

static void test_measure(void)
{
    char path[600];
    snprintf(path, sizeof path, "%s/prog", test_tmpdir());
    CHECK_OK(ccz_file_write(path, CCZ_SPAN("abc", 3), 0644));
    uint8_t m[32];
    CHECK_OK(ccz_sim_measure_file(m, path));
    char hex[65];
    ccz_hex_to_str(hex, m, 32);
    CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    /* a read of one byte is data, not the end of the file */
    CHECK_OK(ccz_file_write(path, CCZ_SPAN("a", 1), 0644));
    CHECK_OK(ccz_sim_measure_file(m, path));
    ccz_hex_to_str(hex, m, 32);
    CHECK_STR(hex, "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb");
    CHECK_STATUS(ccz_sim_measure_file(m, "/nonexistent/prog"), CCZ_ERR_NOT_FOUND);

    /* the default measurement is the running executable's */
    setup_platforms();
    ccz_attester_opts o = CCZ_ATTESTER_OPTS_INIT;
    o.tee = CCZ_TEE_SIM;
    o.sim.dir = plat;
    ccz_attester *a;
    ccz_buf ev = CCZ_BUF_INIT;
    CHECK_OK(ccz_attester_new(&a, &o));
    int64_t before = (int64_t)time(NULL);
    CHECK_OK(ccz_attest(&ev, a, rd));
    int64_t after = (int64_t)time(NULL);
    ccz_attester_free(a);
    ccz_sim_evidence e;
    CHECK_OK(ccz_sim_evidence_parse(&e, ccz_buf_span(&ev)));
    CHECK_OK(ccz_sim_measure_file(m, "/proc/self/exe"));
    CHECK(memcmp(m, e.measurement, 32) == 0);
    /* without a timestamp in the options, the evidence carries the instant it was made */
    CHECK(e.timestamp >= before && e.timestamp <= after);
    ccz_buf_free(&ev);
}

static void test_bad_options(void)
{
    static ccz_result r;
    ccz_verify_opts o = CCZ_VERIFY_OPTS_INIT;
    CHECK_STATUS(ccz_verify(&r, CCZ_SPAN("CCZS", 4), &o), CCZ_ERR_INVALID_ARGUMENT);
    ccz_trust *t;
    CHECK_OK(ccz_trust_new(&t));
    o.trust = t;
    CHECK_STATUS(ccz_verify(&r, CCZ_SPAN("hello world", 11), &o), CCZ_ERR_UNKNOWN_FORMAT);
    CHECK_STR(r.step, "detect");
    CHECK_STATUS(ccz_verify(&r, CCZ_SPAN(NULL, 0), &o), CCZ_ERR_UNKNOWN_FORMAT);
    CHECK_STATUS(ccz_trust_add_sim_root(t, CCZ_SPAN("not a cert", 10)), CCZ_ERR_CERT_MALFORMED);
    ccz_trust_free(t);
}

/* Trust from a platform directory: its root when it has one; a directory given as required
 * without a root is an error naming the file, one given as optional is no root. */
static void test_trust_from_dir(void)
{
    setup_platforms();
    char none[600];
    snprintf(none, sizeof none, "%s/no-such-platform", test_tmpdir());
    ccz_trust_sources src = CCZ_TRUST_SOURCES_INIT;
    ccz_trust *t = NULL;
    src.sim_dir = plat;
    src.sim_dir_required = true;
    CHECK_OK(ccz_trust_load(&t, &src));
    CHECK_INT(t ? ccz_trust_sim_root_count(t) : 0, 1);
    ccz_trust_free(t);
    src.sim_dir = none;
    CHECK_STATUS(ccz_trust_load(&t, &src), CCZ_ERR_NOT_FOUND);
    CHECK(t == NULL);
    CHECK_CONTAINS(ccz_error_detail(), "no-such-platform/root.crt");
    src.sim_dir_required = false;
    CHECK_OK(ccz_trust_load(&t, &src));
    CHECK_INT(t ? ccz_trust_sim_root_count(t) : 1, 0);
    ccz_trust_free(t);
}

/* Sim roots named one by one: every one of them and nothing else (not the sim_dir's root too);
 * a file that is not there names its option; sources of another version are refused. */
static void test_trust_sim_roots_exact(void)
{
    setup_platforms();
    char root[600], none[600];
    snprintf(root, sizeof root, "%s/root.crt", plat);
    snprintf(none, sizeof none, "%s/no-such-root.crt", test_tmpdir());
    const char *one[] = {root}, *two[] = {root, none};
    ccz_trust_sources src = CCZ_TRUST_SOURCES_INIT;
    ccz_trust *t = NULL;
    src.sim_roots = one;
    src.n_sim_roots = 1;
    src.sim_dir = plat;
    CHECK_OK(ccz_trust_load(&t, &src));
    CHECK_INT(t ? ccz_trust_sim_root_count(t) : 0, 1);
    ccz_trust_free(t);
    t = NULL;
    src.sim_roots = two;
    src.n_sim_roots = 2;
    CHECK_STATUS(ccz_trust_load(&t, &src), CCZ_ERR_NOT_FOUND);
    CHECK(t == NULL);
    CHECK_CONTAINS(ccz_error_detail(), "--sim-root ");
    CHECK_CONTAINS(ccz_error_detail(), "no-such-root.crt");
    src = (ccz_trust_sources)CCZ_TRUST_SOURCES_INIT;
    src.version = CCZ_TRUST_SOURCES_VERSION + 1;
    CHECK_STATUS(ccz_trust_load(&t, &src), CCZ_ERR_INVALID_ARGUMENT);
    CHECK(t == NULL);
}

/* Each refusal of ccz_trust_load with its exact detail, naming the source and the file. */
static void test_trust_load_details(void)
{
    setup_platforms();
    char none[600], junk_dir[600], junk[640], want[2400];
    snprintf(none, sizeof none, "%s/no-such-root.crt", test_tmpdir());
    snprintf(junk_dir, sizeof junk_dir, "%s/junk-platform", test_tmpdir());
    snprintf(junk, sizeof junk, "%s/root.crt", junk_dir);
    CHECK_INT(mkdir(junk_dir, 0700), 0);
    CHECK_OK(ccz_file_write(junk, CCZ_LIT("not a certificate"), 0600));
    const char *missing[] = {none}, *bad[] = {junk};
    ccz_trust_sources src = CCZ_TRUST_SOURCES_INIT;
    ccz_trust *t = NULL;
    CHECK_STATUS(ccz_trust_load(&t, NULL), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "trust sources missing or of the wrong version");
    src.root_ca = none;
    CHECK_STATUS(ccz_trust_load(&t, &src), CCZ_ERR_NOT_FOUND);
    snprintf(want, sizeof want, "--root-ca %s: cannot open %s: No such file or directory", none,
             none);
    CHECK_STR(ccz_error_detail(), want);
    src.root_ca = junk;
    CHECK_STATUS(ccz_trust_load(&t, &src), CCZ_ERR_CERT_MALFORMED);
    snprintf(want, sizeof want, "--root-ca %s: cannot parse certificate", junk);
    CHECK_STR(ccz_error_detail(), want);
    src = (ccz_trust_sources)CCZ_TRUST_SOURCES_INIT;
    src.sim_roots = missing;
    src.n_sim_roots = 1;
    CHECK_STATUS(ccz_trust_load(&t, &src), CCZ_ERR_NOT_FOUND);
    snprintf(want, sizeof want,
             "--sim-root %s: sim root %s: cannot open %s: No such file or directory", none, none,
             none);
    CHECK_STR(ccz_error_detail(), want);
    /* a root that fails before one that loads: the load fails all the same */
    char root[600];
    snprintf(root, sizeof root, "%s/root.crt", plat);
    const char *first_missing[] = {none, root};
    src.sim_roots = first_missing;
    src.n_sim_roots = 2;
    CHECK_STATUS(ccz_trust_load(&t, &src), CCZ_ERR_NOT_FOUND);
    CHECK(t == NULL);
    CHECK_STR(ccz_error_detail(), want);
    src.sim_roots = bad;
    src.n_sim_roots = 1;
    CHECK_STATUS(ccz_trust_load(&t, &src), CCZ_ERR_CERT_MALFORMED);
    snprintf(want, sizeof want, "--sim-root %s: sim root %s: cannot parse certificate", junk, junk);
    CHECK_STR(ccz_error_detail(), want);
    src = (ccz_trust_sources)CCZ_TRUST_SOURCES_INIT;
    src.sim_dir = junk_dir;
    src.sim_dir_required = true;
    CHECK_STATUS(ccz_trust_load(&t, &src), CCZ_ERR_CERT_MALFORMED);
    snprintf(want, sizeof want, "sim root %s: cannot parse certificate", junk);
    CHECK_STR(ccz_error_detail(), want);
    CHECK(t == NULL);
    /* a platform given as optional whose root does not parse is no root, and no failure: the
     * swallowed failure leaves no detail behind */
    src.sim_dir_required = false;
    CHECK_OK(ccz_trust_load(&t, &src));
    CHECK_INT(t ? ccz_trust_sim_root_count(t) : 1, 0);
    CHECK_STR(ccz_error_detail(), "");
    ccz_trust_free(t);
    t = NULL;
    /* ... nor does a process without HOME, which has no default platform directory */
    const char *names[] = {"CCZ_SIM_DIR", "XDG_DATA_HOME", "HOME"};
    char *saved[3];
    for (size_t i = 0; i < 3; i++) {
        const char *v = getenv(names[i]);
        saved[i] = v ? strdup(v) : NULL;
        unsetenv(names[i]);
    }
    src = (ccz_trust_sources)CCZ_TRUST_SOURCES_INIT;
    CHECK_OK(ccz_trust_load(&t, &src));
    CHECK_INT(t ? ccz_trust_sim_root_count(t) : 1, 0);
    CHECK_STR(ccz_error_detail(), "");
    ccz_trust_free(t);
    t = NULL;
    /* sim_dir_required asks a root of a sim_dir given, not of the default platform's */
    char empty[600];
    snprintf(empty, sizeof empty, "%s/empty-platform", test_tmpdir());
    CHECK_INT(mkdir(empty, 0700), 0);
    setenv("CCZ_SIM_DIR", empty, 1);
    src.sim_dir_required = true;
    CHECK_OK(ccz_trust_load(&t, &src));
    CHECK_INT(t ? ccz_trust_sim_root_count(t) : 1, 0);
    ccz_trust_free(t);
    unsetenv("CCZ_SIM_DIR");
    for (size_t i = 0; i < 3; i++) {
        if (saved[i])
            setenv(names[i], saved[i], 1);
        free(saved[i]);
    }
}

/* The platform certificate's length: 1..CCZ_SIM_MAX_CERT, whatever the bytes that follow */
static void test_cert_length_bounds(void)
{
    ccz_buf ev = CCZ_BUF_INIT;
    make_evidence(&ev, 1, false);
    ccz_trust *t = trust_of(plat);
    static ccz_result r;
    static const unsigned lens[] = {0, CCZ_SIM_MAX_CERT + 1};
    for (size_t i = 0; i < CCZ_ARRAY_LEN(lens); i++) {
        ccz_buf b = CCZ_BUF_INIT;
        CHECK_OK(ccz_buf_append(&b, ev.ptr, CCZ_SIM_HEADER_SIZE - 2));
        CHECK_OK(ccz_buf_append_u16le(&b, (uint16_t)lens[i]));
        for (unsigned k = 0; k < lens[i]; k++)
            CHECK_OK(ccz_buf_append_u8(&b, 0x30));
        CHECK_OK(ccz_buf_append(&b, ev.ptr + ev.len - CCZ_SIM_SIG_SIZE, CCZ_SIM_SIG_SIZE));
        ccz_sim_evidence e;
        CHECK_STATUS(ccz_sim_evidence_parse(&e, ccz_buf_span(&b)), CCZ_ERR_MALFORMED);
        CHECK_CONTAINS(ccz_error_detail(), "platform certificate length");
        CHECK_STATUS(verify_at(&r, ccz_buf_span(&b), t, T0, NULL), CCZ_ERR_MALFORMED);
        CHECK_STR(r.step, "parse");
        ccz_buf_free(&b);
    }
    ccz_trust_free(t);
    ccz_buf_free(&ev);
}

/* The platform root, as its directory holds it (PEM). */
static void *read_pem(const char *dir, const char *name, bool key)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    CHECK(f);
    void *x = key ? (void *)PEM_read_PrivateKey(f, NULL, NULL, NULL)
                  : (void *)PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    CHECK(x);
    return x;
}

/* Evidence whose platform certificate the root did issue, for a key that is not EC P-256
 * (P-384): refused as a key ccz does not take for the sim signature, at the signature step,
 * not tried as a P-256 key. */
static void test_attestation_key_not_p256(void)
{
    ccz_buf ev = CCZ_BUF_INIT;
    make_evidence(&ev, 1, false);
    EVP_PKEY *root_key = read_pem(plat, "root.key", true);
    X509 *root = read_pem(plat, "root.crt", false);
    EVP_PKEY *ak = EVP_EC_gen("P-384");
    CHECK(ak);
    X509 *x = X509_new();
    CHECK(x && X509_set_version(x, 2) && ASN1_INTEGER_set(X509_get_serialNumber(x), 7));
    CHECK(X509_set_issuer_name(x, X509_get_subject_name(root)));
    X509_NAME *n = X509_NAME_new();
    CHECK(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"p384 ak", -1,
                                     -1, 0));
    CHECK(X509_set_subject_name(x, n));
    X509_NAME_free(n);
    CHECK(X509_gmtime_adj(X509_getm_notBefore(x), -60) &&
          X509_gmtime_adj(X509_getm_notAfter(x), 86400));
    CHECK(X509_set_pubkey(x, ak) && X509_sign(x, root_key, EVP_sha256()) > 0);
    unsigned char *der = NULL;
    int len = i2d_X509(x, &der);
    CHECK(len > 0 && len <= CCZ_SIM_MAX_CERT);
    ccz_buf b = CCZ_BUF_INIT;
    CHECK_OK(ccz_buf_append(&b, ev.ptr, CCZ_SIM_HEADER_SIZE - 2));
    CHECK_OK(ccz_buf_append_u16le(&b, (uint16_t)len));
    CHECK_OK(ccz_buf_append(&b, der, (size_t)len));
    CHECK_OK(ccz_buf_append(&b, ev.ptr + ev.len - CCZ_SIM_SIG_SIZE, CCZ_SIM_SIG_SIZE));
    ccz_trust *t = trust_of(plat);
    static ccz_result r;
    CHECK_STATUS(verify_at(&r, ccz_buf_span(&b), t, T0, NULL), CCZ_ERR_KEY_MALFORMED);
    CHECK_STR(r.step, "signature");
    CHECK_CONTAINS(ccz_error_detail(), "sim attestation key is not an EC P-256 key");
    /* the same certificate for the platform's own P-256 key passes that step: the evidence is
     * refused for its signature over the changed bytes, not for the key */
    EVP_PKEY *p256 = read_pem(plat, "ak.key", true);
    CHECK(X509_set_pubkey(x, p256) && X509_sign(x, root_key, EVP_sha256()) > 0);
    OPENSSL_free(der);
    der = NULL;
    len = i2d_X509(x, &der);
    CHECK(len > 0 && len <= CCZ_SIM_MAX_CERT);
    b.len = CCZ_SIM_HEADER_SIZE - 2;
    CHECK_OK(ccz_buf_append_u16le(&b, (uint16_t)len));
    CHECK_OK(ccz_buf_append(&b, der, (size_t)len));
    CHECK_OK(ccz_buf_append(&b, ev.ptr + ev.len - CCZ_SIM_SIG_SIZE, CCZ_SIM_SIG_SIZE));
    CHECK_STATUS(verify_at(&r, ccz_buf_span(&b), t, T0, NULL), CCZ_ERR_BAD_SIGNATURE);
    CHECK_STR(r.step, "signature");
    OPENSSL_free(der);
    X509_free(x);
    EVP_PKEY_free(p256);
    EVP_PKEY_free(ak);
    EVP_PKEY_free(root_key);
    X509_free(root);
    ccz_trust_free(t);
    ccz_buf_free(&b);
    ccz_buf_free(&ev);
}

/* Clock skew: evidence made up to SIM_MAX_SKEW (300 s) after the instant is accepted, one
 * second more is not. */
static void test_skew_bound(void)
{
    ccz_buf ev = CCZ_BUF_INIT;
    make_evidence(&ev, 1, false);
    ccz_trust *t = trust_of(plat);
    static ccz_result r;
    CHECK_OK(verify_at(&r, ccz_buf_span(&ev), t, T0 - 300, NULL));
    CHECK_STATUS(verify_at(&r, ccz_buf_span(&ev), t, T0 - 301, NULL), CCZ_ERR_NOT_YET_VALID);
    CHECK_STR(r.step, "timestamp");
    CHECK_CONTAINS(r.message, "after the verification instant");
    ccz_trust_free(t);
    ccz_buf_free(&ev);
}

/* The platform_id claim is the SHA-256 of the trusted root's DER: the root that verified. */
/* Evidence of a platform none of several trusted roots is: each root named, one after another */
static void test_other_platform_several_roots(void)
{
    ccz_buf ev = CCZ_BUF_INIT;
    make_evidence(&ev, 1, false);
    char third[600], path[700];
    snprintf(third, sizeof third, "%s/third", test_tmpdir());
    CHECK_OK(ccz_sim_platform_init(third, false));
    ccz_trust *t = trust_of(other);
    snprintf(path, sizeof path, "%s/root.crt", third);
    CHECK_OK(ccz_trust_add_sim_root_file(t, path));
    static ccz_result r;
    CHECK_STATUS(verify_at(&r, ccz_buf_span(&ev), t, T0, NULL), CCZ_ERR_CERT_CHAIN);
    char kid1[17], pid1[17], kid2[17], pid2[17], want[300];
    root_ids(kid1, pid1, other);
    root_ids(kid2, pid2, third);
    snprintf(want, sizeof want,
             "the trusted sim roots are key id %s… (platform_id %s…); key id %s… (platform_id %s…)",
             kid1, pid1, kid2, pid2);
    CHECK_CONTAINS(r.message, want);
    ccz_trust_free(t);
    ccz_buf_free(&ev);
}

/* The default platform directory: $CCZ_SIM_DIR, else under $XDG_DATA_HOME, else under $HOME */
static void test_default_dir(void)
{
    const char *names[] = {"CCZ_SIM_DIR", "XDG_DATA_HOME", "HOME"};
    char *saved[3];
    for (size_t i = 0; i < 3; i++) {
        const char *v = getenv(names[i]);
        saved[i] = v ? strdup(v) : NULL;
    }
    ccz_buf b = CCZ_BUF_INIT;
    setenv("CCZ_SIM_DIR", "/p", 1);
    setenv("XDG_DATA_HOME", "/x", 1);
    setenv("HOME", "/h", 1);
    CHECK_OK(ccz_sim_default_dir(&b));
    CHECK_INT(b.len, 2);
    CHECK(memcmp(b.ptr, "/p", 2) == 0);
    unsetenv("CCZ_SIM_DIR");
    ccz_buf_reset(&b);
    CHECK_OK(ccz_sim_default_dir(&b));
    CHECK_INT(b.len, strlen("/x/ccz/sim"));
    CHECK(memcmp(b.ptr, "/x/ccz/sim", b.len) == 0);
    unsetenv("XDG_DATA_HOME");
    ccz_buf_reset(&b);
    CHECK_OK(ccz_sim_default_dir(&b));
    CHECK_INT(b.len, strlen("/h/.local/share/ccz/sim"));
    CHECK(memcmp(b.ptr, "/h/.local/share/ccz/sim", b.len) == 0);
    unsetenv("HOME");
    ccz_buf_reset(&b);
    CHECK_STATUS(ccz_sim_default_dir(&b), CCZ_ERR_NOT_FOUND);
    CHECK_CONTAINS(ccz_error_detail(), "set CCZ_SIM_DIR, XDG_DATA_HOME or HOME");
    ccz_buf_free(&b);
    for (size_t i = 0; i < 3; i++) {
        if (saved[i])
            setenv(names[i], saved[i], 1);
        else
            unsetenv(names[i]);
        free(saved[i]);
    }
}

static void test_platform_id_claim(void)
{
    ccz_buf ev = CCZ_BUF_INIT;
    make_evidence(&ev, 1, false);
    ccz_trust *t = trust_of(plat);
    static ccz_result r;
    CHECK_OK(verify_at(&r, ccz_buf_span(&ev), t, T0, NULL));
    char path[600];
    snprintf(path, sizeof path, "%s/root.crt", plat);
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    X509 *root = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
    if (f)
        fclose(f);
    CHECK(root != NULL);
    unsigned char *der = NULL;
    int n = i2d_X509(root, &der);
    uint8_t want[32];
    CHECK(n > 0 && EVP_Digest(der, (size_t)n, want, NULL, EVP_sha256(), NULL) == 1);
    CHECK(memcmp(r.claims.sim.platform_id, want, 32) == 0);
    OPENSSL_free(der);
    X509_free(root);
    ccz_trust_free(t);
    ccz_buf_free(&ev);
}

TEST_MAIN(T(test_round_trip), T(test_debug_flag), T(test_every_byte_flip), T(test_steps_named),
          T(test_truncation_and_trailing), T(test_report_data_mismatch), T(test_untrusted_platform),
          T(test_instant), T(test_platform_init), T(test_measure), T(test_bad_options),
          T(test_trust_from_dir), T(test_trust_sim_roots_exact), T(test_trust_load_details),
          T(test_cert_length_bounds), T(test_attestation_key_not_p256), T(test_skew_bound),
          T(test_platform_id_claim), T(test_other_platform_several_roots), T(test_default_dir))
