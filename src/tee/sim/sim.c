/* SPDX-License-Identifier: Apache-2.0 */
/* The simulated TEE: a local platform (root CA, attestation key, default signer), an attester
 * that signs SGX-shaped evidence with the attestation key, and its verifier. Evidence is
 * untrusted and read only through the cursor; platform files are the operator's own.
 * Nothing about sim is hardware-backed, and every claim it yields says simulated. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "core/guard.h"
#include "tee/internal.h"

/* Clock skew tolerated between an attester's clock and the verifier's instant. */
#define SIM_MAX_SKEW 300
#define SIM_CERT_YEARS 10
#define PLATFORM_FILE_MAX (64 * 1024)

/* ---- parsing -------------------------------------------------------------------------------*/

ccz_status ccz_sim_evidence_parse(ccz_sim_evidence *e, ccz_span in)
{
    memset(e, 0, sizeof *e);
    ccz_cursor c;
    ccz_cursor_init(&c, in);
    ccz_span magic;
    uint16_t cert_len;
    uint64_t ts;
    if (ccz_cursor_take(&c, &magic, CCZ_LIT(CCZ_SIM_MAGIC).len) ||
        !CCZ_SPAN_STARTS_WITH(magic, CCZ_SIM_MAGIC))
        return ccz_fail(CCZ_ERR_UNKNOWN_FORMAT, "not sim evidence (magic is not \"CCZS\")");
    if (ccz_cursor_u16le(&c, &e->version))
        return ccz_fail_context(CCZ_ERR_TRUNCATED, "sim evidence header");
    if (e->version != CCZ_SIM_VERSION)
        return ccz_fail(CCZ_ERR_UNSUPPORTED_VERSION,
                        "sim evidence version %u is not supported (this build reads %u)",
                        e->version, CCZ_SIM_VERSION);
    ccz_status s;
    CCZ_GUARD_GOTO(ccz_cursor_u16le(&c, &e->flags), s, truncated);
    CCZ_GUARD_GOTO(ccz_cursor_copy(&c, e->measurement, 32), s, truncated);
    CCZ_GUARD_GOTO(ccz_cursor_copy(&c, e->signer, 32), s, truncated);
    CCZ_GUARD_GOTO(ccz_cursor_u16le(&c, &e->product_id), s, truncated);
    CCZ_GUARD_GOTO(ccz_cursor_u16le(&c, &e->svn), s, truncated);
    CCZ_GUARD_GOTO(ccz_cursor_u64le(&c, &ts), s, truncated);
    CCZ_GUARD_GOTO(ccz_cursor_copy(&c, e->report_data, 64), s, truncated);
    CCZ_GUARD_GOTO(ccz_cursor_u16le(&c, &cert_len), s, truncated);
    CCZ_GUARD_GOTO(ccz_cursor_take(&c, &e->platform_cert, cert_len), s, truncated);
    e->signed_part = ccz_cursor_consumed(&c);
    CCZ_GUARD_GOTO(ccz_cursor_copy(&c, e->signature, CCZ_SIM_SIG_SIZE), s, truncated);
    if (ccz_cursor_expect_end(&c))
        return ccz_fail_context(CCZ_ERR_TRAILING_DATA, "sim evidence");
    if (e->flags & ~CCZ_SIM_FLAG_DEBUG)
        return ccz_fail(CCZ_ERR_MALFORMED, "sim evidence: unknown flag bits 0x%04x",
                        e->flags & ~CCZ_SIM_FLAG_DEBUG);
    if (cert_len == 0 || cert_len > CCZ_SIM_MAX_CERT)
        return ccz_fail(CCZ_ERR_MALFORMED,
                        "sim evidence: platform certificate length %u is outside 1..%u", cert_len,
                        CCZ_SIM_MAX_CERT);
    if (ts > INT64_MAX)
        return ccz_fail(CCZ_ERR_MALFORMED, "sim evidence: timestamp out of range");
    e->timestamp = (int64_t)ts;
    return CCZ_OK;
truncated:
    return ccz_fail_context(s, "sim evidence");
}

static bool sim_detect(ccz_span ev)
{
    ccz_cursor c;
    ccz_cursor_init(&c, ev);
    ccz_span magic;
    return ccz_cursor_peek(&c, &magic, CCZ_LIT(CCZ_SIM_MAGIC).len) == CCZ_OK &&
           CCZ_SPAN_STARTS_WITH(magic, CCZ_SIM_MAGIC);
}

/* ---- verification --------------------------------------------------------------------------*/

/* The first 8 bytes of a key identifier as hex ("" without one). */
static void key_id_hex(const ASN1_OCTET_STRING *kid, char out[17])
{
    out[0] = '\0';
    for (int k = 0; kid && k < ASN1_STRING_length(kid) && k < 8; k++)
        snprintf(out + 2 * k, 3, "%02x", ASN1_STRING_get0_data(kid)[k]);
}

/* "key id 1a2b3c4d… (platform_id 5e6f…)" for each trusted root, to name platforms in errors. */
static void describe_roots(const ccz_trust *t, char *out, size_t cap)
{
    size_t len = 0;
    out[0] = '\0';
    for (int i = 0; i < sk_X509_num(t->sim_roots); i++) {
        X509 *root = sk_X509_value(t->sim_roots, i);
        char kid[17];
        key_id_hex(X509_get0_subject_key_id(root), kid);
        uint8_t id[32] = {0};
        if (x509_cert_sha256(id, root) != CCZ_OK) /* only names the root in a message */
            memset(id, 0, sizeof id);
        int w = snprintf(
            out + len, cap - len, "%skey id %s… (platform_id %02x%02x%02x%02x%02x%02x%02x%02x…)",
            i ? "; " : "", kid, id[0], id[1], id[2], id[3], id[4], id[5], id[6], id[7]);
        if (w < 0 || len + (size_t)w >= cap)
            break;
        len += (size_t)w;
    }
}

/* Verifies cert to a trusted sim root at instant `at`; on success copies the root's id. */
static ccz_status verify_platform_cert(X509 *cert, const ccz_trust *t, int64_t at,
                                       uint8_t platform_id[32])
{
    CCZ_ENSURE(sk_X509_num(t->sim_roots) > 0, CCZ_ERR_CERT_CHAIN,
               "no sim platform root is trusted: the verifier needs the root.crt of the platform "
               "that made the evidence (a platform made now by 'ccz sim init' cannot verify "
               "evidence from another)");
    const x509_chain_check check = {
        .what = "sim platform certificate",
        .store = t->sim_store,
        .at = at,
    };
    X509 *root = NULL;
    int err;
    ccz_status s = x509_verify_chain(&check, cert, NULL, &root, &err);
    const ASN1_OCTET_STRING *akid = X509_get0_authority_key_id(cert);
    if (s &&
        (err == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
         err == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT) &&
        akid) {
        char roots[320], from[17];
        describe_roots(t, roots, sizeof roots);
        key_id_hex(akid, from);
        return ccz_fail(CCZ_ERR_CERT_CHAIN,
                        "the evidence comes from another sim platform: its "
                        "attestation key is certified by a root with key id %s…, and the "
                        "trusted sim root%s %s %s",
                        from, sk_X509_num(t->sim_roots) > 1 ? "s" : "",
                        sk_X509_num(t->sim_roots) > 1 ? "are" : "is", roots);
    }
    if (s == CCZ_OK)
        s = x509_cert_sha256(platform_id, root);
    X509_free(root);
    return s;
}

/* Checks the r||s signature over msg with the certified EC P-256 attestation key. */
static ccz_status verify_p256(EVP_PKEY *key, ccz_span msg, const uint8_t sig[64])
{
    CCZ_ENSURE(x509_is_p256(key), CCZ_ERR_KEY_MALFORMED,
               "sim attestation key is not an EC P-256 key");
    CCZ_ENSURE(x509_p256_verify(key, msg, sig) == CCZ_OK, CCZ_ERR_BAD_SIGNATURE,
               "sim evidence signature does not verify with the platform attestation key");
    return CCZ_OK;
}

static ccz_status sim_verify(ccz_result *r, ccz_span ev, const ccz_verify_opts *o)
{
    ccz_sim_evidence e;
    ccz_status s = ccz_sim_evidence_parse(&e, ev);
    if (s)
        return ccz_result_fail(r, s == CCZ_ERR_UNKNOWN_FORMAT ? CCZ_AT_DETECT : CCZ_AT_PARSE, s);

    X509 *cert;
    if (x509_read_der(&cert, e.platform_cert) != CCZ_OK) {
        return ccz_result_fail(
            r, CCZ_AT_PLATFORM_CERT,
            ccz_fail(CCZ_ERR_CERT_MALFORMED, "sim platform certificate cannot be parsed"));
    }
    ccz_claims *c = &r->claims;
    s = verify_platform_cert(cert, o->trust, o->at_unix, c->sim.platform_id);
    if (s) {
        X509_free(cert);
        return ccz_result_fail(r, CCZ_AT_PLATFORM_CERT, s);
    }
    s = verify_p256(X509_get0_pubkey(cert), e.signed_part, e.signature);
    X509_free(cert);
    if (s)
        return ccz_result_fail(r, CCZ_AT_SIGNATURE, s);

    if (e.timestamp > o->at_unix + SIM_MAX_SKEW) {
        return ccz_result_failf(r, CCZ_AT_TIMESTAMP, CCZ_ERR_NOT_YET_VALID,
                                "sim evidence was made at %lld, after the verification instant "
                                "%lld",
                                (long long)e.timestamp, (long long)o->at_unix);
    }
    if (o->expected_report_data && !ccz_ct_equal(o->expected_report_data, e.report_data, 64)) {
        return ccz_result_failf(r, CCZ_AT_REPORT_DATA, CCZ_ERR_REPORT_DATA_MISMATCH,
                                "report data in the evidence is not the expected value");
    }

    c->tee = CCZ_TEE_SIM;
    c->simulated = true;
    c->debug = (e.flags & CCZ_SIM_FLAG_DEBUG) != 0;
    memcpy(c->report_data, e.report_data, 64);
    memcpy(c->sgx.mr_enclave, e.measurement, 32);
    memcpy(c->sgx.mr_signer, e.signer, 32);
    c->sgx.isv_prod_id = e.product_id;
    c->sgx.isv_svn = e.svn;
    c->sim.timestamp = e.timestamp;
    return CCZ_OK;
}

/* ---- key and certificate helpers -----------------------------------------------------------*/

static ccz_status gen_p256(EVP_PKEY **out)
{
    *out = EVP_EC_gen("P-256");
    if (!*out)
        return ccz_fail_ossl(CCZ_ERR_CRYPTO, "cannot generate an EC P-256 key");
    return CCZ_OK;
}

/* Issues a certificate for key, signed by issuer_key (self-signed when issuer is NULL), valid
 * from a minute ago for SIM_CERT_YEARS. */
static ccz_status issue_cert(X509 **out, EVP_PKEY *key, const char *cn, X509 *issuer,
                             EVP_PKEY *issuer_key, bool ca)
{
    int64_t now = (int64_t)time(NULL);
    const x509_issue_opts o = {
        .org = "ccz simulated TEE (not hardware)",
        .cn = cn,
        .issuer = issuer,
        .issuer_key = issuer_key,
        .ca = ca,
        .not_before = now - 60,
        .not_after = now + (int64_t)365 * SIM_CERT_YEARS * 86400,
    };
    return x509_issue(out, key, &o);
}

static ccz_status write_key(const char *path, EVP_PKEY *key)
{
    ccz_buf pem;
    ccz_buf_init(&pem, 0, true);
    ccz_status s = x509_key_to_pem(&pem, key);
    if (s == CCZ_OK)
        s = ccz_file_write(path, ccz_buf_span(&pem), 0600);
    ccz_buf_free(&pem);
    return s;
}

static ccz_status write_cert(const char *path, X509 *x)
{
    ccz_buf pem = CCZ_BUF_INIT;
    ccz_status s = x509_cert_to_pem(&pem, x);
    if (s == CCZ_OK)
        s = ccz_file_write(path, ccz_buf_span(&pem), 0644);
    ccz_buf_free(&pem);
    return s;
}

static ccz_status load_pem(ccz_buf *out, const char *dir, const char *name)
{
    char path[4096];
    CCZ_ENSURE((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) < sizeof path,
               CCZ_ERR_INVALID_ARGUMENT, "path too long");
    ccz_status s = ccz_file_read(out, path, PLATFORM_FILE_MAX);
    if (s == CCZ_ERR_NOT_FOUND)
        return ccz_fail(CCZ_ERR_TEE_UNAVAILABLE,
                        "sim platform file %s is missing (run 'ccz sim init --dir %s')", path, dir);
    return s;
}

static ccz_status load_key(EVP_PKEY **out, const char *path_or_dir, const char *name)
{
    *out = NULL;
    ccz_buf b;
    ccz_buf_init(&b, 0, true);
    ccz_status s =
        name ? load_pem(&b, path_or_dir, name) : ccz_file_read(&b, path_or_dir, PLATFORM_FILE_MAX);
    if (s == CCZ_OK && x509_key_from_pem(out, ccz_buf_span(&b)) != CCZ_OK)
        s = ccz_fail_ossl(CCZ_ERR_KEY_MALFORMED, "%s%s%s is not a PEM key", path_or_dir,
                          name ? "/" : "", name ? name : "");
    ccz_buf_free(&b);
    return s;
}

/* ---- platform ------------------------------------------------------------------------------*/

ccz_status ccz_sim_platform_init(const char *dir, bool force)
{
    CCZ_ENSURE(dir && dir[0], CCZ_ERR_INVALID_ARGUMENT, "no platform directory given");
    char path[4096];
    CCZ_ENSURE(strlen(dir) < sizeof path - 32, CCZ_ERR_INVALID_ARGUMENT, "path too long");
    snprintf(path, sizeof path, "%s/root.crt", dir);
    CCZ_ENSURE(force || !ccz_file_exists(path), CCZ_ERR_EXISTS,
               "a sim platform exists in %s already (use --force to replace it)", dir);
    CCZ_GUARD(ccz_mkdir_p(dir, 0700));

    EVP_PKEY *root_key = NULL, *ak = NULL, *signer = NULL;
    X509 *root = NULL, *ak_cert = NULL;
    ccz_status s;
    CCZ_GUARD_GOTO(gen_p256(&root_key), s, out);
    CCZ_GUARD_GOTO(gen_p256(&ak), s, out);
    CCZ_GUARD_GOTO(gen_p256(&signer), s, out);
    CCZ_GUARD_GOTO(issue_cert(&root, root_key, "ccz sim platform root", NULL, root_key, true), s,
                   out);
    CCZ_GUARD_GOTO(issue_cert(&ak_cert, ak, "ccz sim attestation key", root, root_key, false), s,
                   out);
    static const char *const names[] = {"root.key", "ak.key", "signer.key", "ak.crt", "root.crt"};
    for (int i = 0; i < 5; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        EVP_PKEY *keys[] = {root_key, ak, signer};
        X509 *certs[] = {ak_cert, root};
        CCZ_GUARD_GOTO(i < 3 ? write_key(path, keys[i]) : write_cert(path, certs[i - 3]), s, out);
    }
out:
    EVP_PKEY_free(root_key);
    EVP_PKEY_free(ak);
    EVP_PKEY_free(signer);
    X509_free(root);
    X509_free(ak_cert);
    return s;
}

ccz_status ccz_sim_default_dir(ccz_buf *out)
{
    const char *d = getenv("CCZ_SIM_DIR");
    if (d && d[0])
        return ccz_buf_append_str(out, d);
    d = getenv("XDG_DATA_HOME");
    if (d && d[0])
        return ccz_buf_printf(out, "%s/ccz/sim", d);
    d = getenv("HOME");
    CCZ_ENSURE(d && d[0], CCZ_ERR_NOT_FOUND,
               "no sim directory: set CCZ_SIM_DIR, XDG_DATA_HOME or HOME, or pass --dir");
    return ccz_buf_printf(out, "%s/.local/share/ccz/sim", d);
}

ccz_status ccz_sim_measure_file(uint8_t out[32], const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ccz_fail(errno == ENOENT ? CCZ_ERR_NOT_FOUND : CCZ_ERR_IO, "cannot open %s: %s",
                        path, strerror(errno));
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    ccz_status s = CCZ_OK;
    if (!md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
        s = ccz_fail_ossl(CCZ_ERR_CRYPTO, "SHA-256 failed");
        goto out;
    }
    for (;;) {
        uint8_t chunk[65536];
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            s = ccz_fail(CCZ_ERR_IO, "cannot read %s: %s", path, strerror(errno));
            goto out;
        }
        if (n == 0)
            break;
        CCZ_GUARD_OSSL_GOTO(EVP_DigestUpdate(md, chunk, (size_t)n), s, out, CCZ_ERR_CRYPTO,
                            "SHA-256 failed");
    }
    CCZ_GUARD_OSSL_GOTO(EVP_DigestFinal_ex(md, out, NULL), s, out, CCZ_ERR_CRYPTO,
                        "SHA-256 failed");
out:
    EVP_MD_CTX_free(md);
    close(fd);
    return s;
}

ccz_status ccz_sim_signer_of_key_file(uint8_t out[32], const char *path)
{
    EVP_PKEY *k;
    CCZ_GUARD(load_key(&k, path, NULL));
    ccz_status s = x509_spki_sha256(out, k);
    EVP_PKEY_free(k);
    return s;
}

/* ---- attester ------------------------------------------------------------------------------*/

typedef struct {
    EVP_PKEY *ak;
    ccz_buf ak_der;
    uint8_t measurement[32];
    uint8_t signer[32];
    uint16_t product_id, svn, flags;
    int64_t timestamp;
} sim_attester;

static void sim_attester_free(void *state)
{
    sim_attester *a = state;
    if (!a)
        return;
    EVP_PKEY_free(a->ak);
    ccz_buf_free(&a->ak_der);
    free(a);
}

static ccz_status load_ak_cert(ccz_buf *der, const char *dir, EVP_PKEY *ak)
{
    ccz_buf pem = CCZ_BUF_INIT;
    CCZ_GUARD(load_pem(&pem, dir, "ak.crt"));
    X509 *x;
    ccz_status s = x509_read_cert(&x, ccz_buf_span(&pem));
    ccz_buf_free(&pem);
    if (s)
        return ccz_fail(CCZ_ERR_CERT_MALFORMED, "%s/ak.crt is not a PEM certificate", dir);
    unsigned char *d = NULL;
    int n = i2d_X509(x, &d);
    if (EVP_PKEY_eq(X509_get0_pubkey(x), ak) != 1)
        s = ccz_fail(CCZ_ERR_KEY_MALFORMED, "%s/ak.key does not match %s/ak.crt", dir, dir);
    else if (n <= 0 || n > CCZ_SIM_MAX_CERT)
        s = ccz_fail_ossl(CCZ_ERR_CERT_MALFORMED, "%s/ak.crt cannot be encoded", dir);
    else
        s = ccz_buf_append(der, d, (size_t)n);
    OPENSSL_free(d);
    X509_free(x);
    ERR_clear_error();
    return s;
}

static ccz_status sim_attester_new(void **state, const ccz_attester_opts *o)
{
    CCZ_ENSURE(o->sim.dir && o->sim.dir[0], CCZ_ERR_INVALID_ARGUMENT,
               "sim attester: no platform directory");
    sim_attester *a = calloc(1, sizeof *a);
    CCZ_ENSURE(a, CCZ_ERR_NOMEM, "out of memory");
    ccz_buf_init(&a->ak_der, CCZ_SIM_MAX_CERT, false);
    ccz_status s;
    EVP_PKEY *signer = NULL;
    CCZ_GUARD_GOTO(load_key(&a->ak, o->sim.dir, "ak.key"), s, fail);
    CCZ_GUARD_GOTO(load_ak_cert(&a->ak_der, o->sim.dir, a->ak), s, fail);
    if (o->sim.signer_key)
        CCZ_GUARD_GOTO(load_key(&signer, o->sim.signer_key, NULL), s, fail);
    else
        CCZ_GUARD_GOTO(load_key(&signer, o->sim.dir, "signer.key"), s, fail);
    CCZ_GUARD_GOTO(x509_spki_sha256(a->signer, signer), s, fail);
    if (o->sim.measurement)
        memcpy(a->measurement, o->sim.measurement, 32);
    else
        CCZ_GUARD_GOTO(ccz_sim_measure_file(a->measurement, "/proc/self/exe"), s, fail);
    a->product_id = o->sim.product_id;
    a->svn = o->sim.svn;
    a->flags = o->sim.debug ? CCZ_SIM_FLAG_DEBUG : 0;
    a->timestamp = o->sim.timestamp;
    EVP_PKEY_free(signer);
    *state = a;
    return CCZ_OK;
fail:
    EVP_PKEY_free(signer);
    sim_attester_free(a);
    return s;
}

static ccz_status sim_attest(const void *state, const uint8_t rd[64], ccz_buf *ev, ccz_buf *certs)
{
    (void)certs; /* the evidence carries the platform certificate */
    const sim_attester *a = state;
    int64_t ts = a->timestamp ? a->timestamp : (int64_t)time(NULL);
    size_t start = ev->len;
    ccz_status s;
    CCZ_GUARD_GOTO(ccz_buf_append(ev, CCZ_LIT(CCZ_SIM_MAGIC).ptr, CCZ_LIT(CCZ_SIM_MAGIC).len), s,
                   fail);
    CCZ_GUARD_GOTO(ccz_buf_append_u16le(ev, CCZ_SIM_VERSION), s, fail);
    CCZ_GUARD_GOTO(ccz_buf_append_u16le(ev, a->flags), s, fail);
    CCZ_GUARD_GOTO(ccz_buf_append(ev, a->measurement, 32), s, fail);
    CCZ_GUARD_GOTO(ccz_buf_append(ev, a->signer, 32), s, fail);
    CCZ_GUARD_GOTO(ccz_buf_append_u16le(ev, a->product_id), s, fail);
    CCZ_GUARD_GOTO(ccz_buf_append_u16le(ev, a->svn), s, fail);
    CCZ_GUARD_GOTO(ccz_buf_append_u64le(ev, (uint64_t)ts), s, fail);
    CCZ_GUARD_GOTO(ccz_buf_append(ev, rd, 64), s, fail);
    CCZ_GUARD_GOTO(ccz_buf_append_u16le(ev, (uint16_t)a->ak_der.len), s, fail);
    CCZ_GUARD_GOTO(ccz_buf_append(ev, a->ak_der.ptr, a->ak_der.len), s, fail);
    uint8_t sig[64];
    CCZ_GUARD_GOTO(x509_p256_sign(sig, a->ak, CCZ_SPAN(ev->ptr + start, ev->len - start)), s, fail);
    CCZ_GUARD_GOTO(ccz_buf_append(ev, sig, sizeof sig), s, fail);
    return CCZ_OK;
fail:
    ev->len = start;
    return s;
}

/* HKDF-SHA256 from the platform's attestation key (the sim platform's only secret), with the
 * measurement, or the signer and product, as info. */
static ccz_status sim_seal_key(const void *state, ccz_seal_policy policy, uint8_t key[32])
{
    const sim_attester *a = state;
    uint8_t info[16 + 32 + 2] = "ccz sim seal v1"; /* its NUL separates */
    size_t n = 16;
    if (policy == CCZ_SEAL_MRENCLAVE) {
        memcpy(info + n, a->measurement, 32);
        n += 32;
    } else { /* the signer and the product, as SGX's KEYREQUEST takes ISVPRODID */
        memcpy(info + n, a->signer, 32);
        info[n + 32] = (uint8_t)(a->product_id >> 8);
        info[n + 33] = (uint8_t)a->product_id;
        n += 34;
    }
    ccz_buf secret;
    ccz_buf_init(&secret, 0, true);
    ccz_status s = x509_key_to_pem(&secret, a->ak);
    if (s == CCZ_OK)
        s = tee_hkdf_sha256(key, ccz_buf_span(&secret), CCZ_SPAN(info, n));
    ccz_buf_free(&secret);
    return s;
}

static const tee_attester_ops sim_attester_ops = {sim_attester_new, sim_attest, sim_attester_free,
                                                  sim_seal_key};

const tee_backend tee_backend_sim = {
    .tee = CCZ_TEE_SIM,
    .detect = sim_detect,
    .verify = sim_verify,
    .attester = &sim_attester_ops,
};
