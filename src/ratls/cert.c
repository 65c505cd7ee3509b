/* SPDX-License-Identifier: Apache-2.0 */
/* RA-TLS certificates: making them (a fresh key, DICE claims carrying its hash, evidence over
 * the claims' hash, a self-signed X.509 v3 certificate) and reading them (the evidence
 * extension found through OpenSSL, its CBOR decoded on the core cursor, the binding checked).
 * Peer certificates are untrusted; the evidence goes to ccz_verify. */
#include <string.h>
#include <time.h>

#include <cbor.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "core/guard.h"
#include "ccz/ratls.h"
#include "x509/x509.h"

#define HASH_SHA256 1
#define HASH_SHA384 7
#define HASH_SHA512 8

static const char *const format_names[] = {"none", "dice", "gramine-legacy", "intel-sgx-sdk"};

const char *ccz_ratls_format_name(ccz_ratls_format f)
{
    return (unsigned)f < 4 ? format_names[f] : "none";
}

static const EVP_MD *hash_md(int alg)
{
    return alg == HASH_SHA256   ? EVP_sha256()
           : alg == HASH_SHA384 ? EVP_sha384()
           : alg == HASH_SHA512 ? EVP_sha512()
                                : NULL;
}

/* Hash of the DER SubjectPublicKeyInfo. */
/* ---- creating --------------------------------------------------------------------------------*/

/* claims = { "pubkey-hash": bstr(cbor([1, sha256(spki)])) [, "nonce": bstr] } */
static ccz_status make_claims(ccz_buf *out, EVP_PKEY *key, ccz_span nonce)
{
    uint8_t h[64];
    unsigned hl = 0;
    CCZ_GUARD(x509_spki_digest(h, &hl, key, EVP_sha256()));
    ccz_status s = CCZ_ERR_NOMEM;
    unsigned char *inner = NULL, *outer = NULL;
    size_t inner_len = 0, outer_len = 0, cap;
    cbor_item_t *arr = cbor_new_definite_array(2);
    cbor_item_t *map = cbor_new_definite_map(nonce.len ? 2 : 1);
    if (!arr || !map || !cbor_array_push(arr, cbor_move(cbor_build_uint8(HASH_SHA256))) ||
        !cbor_array_push(arr, cbor_move(cbor_build_bytestring(h, hl))))
        goto out;
    inner_len = cbor_serialize_alloc(arr, &inner, &cap);
    if (!inner_len)
        goto out;
    if (!cbor_map_add(map, (struct cbor_pair){cbor_move(cbor_build_string("pubkey-hash")),
                                              cbor_move(cbor_build_bytestring(inner, inner_len))}))
        goto out;
    if (nonce.len &&
        !cbor_map_add(map,
                      (struct cbor_pair){cbor_move(cbor_build_string("nonce")),
                                         cbor_move(cbor_build_bytestring(nonce.ptr, nonce.len))}))
        goto out;
    outer_len = cbor_serialize_alloc(map, &outer, &cap);
    if (outer_len)
        s = ccz_buf_append(out, outer, outer_len);
out:
    if (arr)
        cbor_decref(&arr);
    if (map)
        cbor_decref(&map);
    free(inner);
    free(outer);
    return s == CCZ_ERR_NOMEM ? ccz_fail(s, "cannot encode the RA-TLS claims") : s;
}

static ccz_status dice_value(ccz_buf *out, uint64_t tag, ccz_span evidence, ccz_span claims)
{
    cbor_item_t *arr = cbor_new_definite_array(2);
    cbor_item_t *tagged = NULL;
    unsigned char *buf = NULL;
    size_t len = 0, cap;
    if (arr && cbor_array_push(arr, cbor_move(cbor_build_bytestring(evidence.ptr, evidence.len))) &&
        cbor_array_push(arr, cbor_move(cbor_build_bytestring(claims.ptr, claims.len)))) {
        tagged = cbor_build_tag(tag, arr);
        if (tagged)
            len = cbor_serialize_alloc(tagged, &buf, &cap);
    }
    ccz_status s = len ? ccz_buf_append(out, buf, len)
                       : ccz_fail(CCZ_ERR_NOMEM, "cannot encode the RA-TLS extension");
    if (arr)
        cbor_decref(&arr);
    if (tagged)
        cbor_decref(&tagged);
    free(buf);
    return s;
}

static uint64_t evidence_tag(ccz_tee t)
{
    switch (t) {
    case CCZ_TEE_SIM:
        return CCZ_RATLS_TAG_CCZ_SIM;
    case CCZ_TEE_SNP:
        return CCZ_RATLS_TAG_RATS_SNP;
    default:
        return CCZ_RATLS_TAG_INTEL_QUOTE;
    }
}

/* A self-signed certificate for key carrying the evidence extensions: O=ccz, CN from the
 * options, basic constraints (CA:FALSE) and a subject key id, no key usage, signed with SHA-256
 * (SHA-384 for a P-384 key). */
static ccz_status issue_cert(X509 **out, EVP_PKEY *key, const ccz_ratls_cert_opts *o, ccz_span dice,
                             ccz_span legacy)
{
    time_t now = time(NULL);
    int64_t nb = o->not_before ? o->not_before : (int64_t)now - 3600;
    int64_t na = o->not_after ? o->not_after : (int64_t)now + 365L * 86400;
    CCZ_ENSURE(nb < na, CCZ_ERR_INVALID_ARGUMENT,
               "the validity starts (%lld) after it ends "
               "(%lld): the certificate would never be valid",
               (long long)nb, (long long)na);
    const x509_raw_ext exts[] = {{CCZ_RATLS_OID_DICE, dice}, {CCZ_RATLS_OID_GRAMINE, legacy}};
    const x509_issue_opts io = {
        .org = "ccz",
        .cn = o->subject_cn ? o->subject_cn : "ccz RA-TLS",
        .issuer_key = key,
        .not_before = nb,
        .not_after = na,
        .no_key_usage = true,
        .md = EVP_PKEY_get_bits(key) > 256 ? EVP_sha384() : EVP_sha256(),
        .exts = exts,
        .n_exts = legacy.len ? 2 : 1,
    };
    return x509_issue(out, key, &io);
}

ccz_status ccz_ratls_cert_create(X509 **cert, EVP_PKEY **key, const ccz_attester *a,
                                 const ccz_ratls_cert_opts *o)
{
    *cert = NULL;
    *key = NULL;
    CCZ_ENSURE(o && o->version == CCZ_RATLS_CERT_OPTS_VERSION && a, CCZ_ERR_INVALID_ARGUMENT,
               "certificate options missing or of the wrong version");
    EVP_PKEY *k = EVP_EC_gen(o->key == CCZ_RATLS_KEY_P384 ? "P-384" : "P-256");
    if (!k)
        return ccz_fail_ossl(CCZ_ERR_CRYPTO, "cannot generate the certificate key");
    ccz_buf claims = CCZ_BUF_INIT, evidence = CCZ_BUF_INIT, dice = CCZ_BUF_INIT;
    ccz_buf legacy_ev = CCZ_BUF_INIT;
    X509 *x = NULL;
    uint8_t rd[64] = {0};
    unsigned hl;
    ccz_status s;
    CCZ_GUARD_GOTO(make_claims(&claims, k, o->nonce), s, fail);
    if (!EVP_Digest(claims.ptr, claims.len, rd, &hl, EVP_sha256(), NULL)) {
        s = ccz_fail_ossl(CCZ_ERR_CRYPTO, "SHA-256 failed");
        goto fail;
    }
    CCZ_GUARD_GOTO(ccz_attest(&evidence, a, rd), s, fail);
    ccz_tee tee = ccz_evidence_detect(ccz_buf_span(&evidence));
    CCZ_GUARD_GOTO(
        dice_value(&dice, evidence_tag(tee), ccz_buf_span(&evidence), ccz_buf_span(&claims)), s,
        fail);
    if (o->gramine_legacy && tee == CCZ_TEE_SGX) {
        /* the legacy form binds SHA-256 of the key directly: a second quote */
        memset(rd, 0, sizeof rd);
        CCZ_GUARD_GOTO(x509_spki_digest(rd, &hl, k, EVP_sha256()), s, fail);
        CCZ_GUARD_GOTO(ccz_attest(&legacy_ev, a, rd), s, fail);
    }
    CCZ_GUARD_GOTO(issue_cert(&x, k, o, ccz_buf_span(&dice), ccz_buf_span(&legacy_ev)), s, fail);
    *cert = x;
    *key = k;
    x = NULL;
    k = NULL;
fail:
    X509_free(x);
    EVP_PKEY_free(k);
    ccz_buf_free(&claims);
    ccz_buf_free(&evidence);
    ccz_buf_free(&dice);
    ccz_buf_free(&legacy_ev);
    return s;
}

/* ---- reading ---------------------------------------------------------------------------------*/

static ccz_span span_of(ASN1_OCTET_STRING *v)
{
    return CCZ_SPAN(ASN1_STRING_get0_data(v), (size_t)ASN1_STRING_length(v));
}

/* Decodes the claims map: pubkey-hash (a bstr holding cbor [alg, hash], or the array itself)
 * and nonce. Returns the hash. */
static ccz_status decode_claims(ccz_ratls_info *info, ccz_span claims, ccz_span *hash)
{
    ccz_cursor c;
    ccz_cursor_init(&c, claims);
    ccz_cbor_head h;
    CCZ_GUARD(ccz_cbor_head_read(&c, &h));
    CCZ_ENSURE(h.major == 5, CCZ_ERR_MALFORMED, "RA-TLS claims are not a CBOR map");
    bool found = false;
    for (uint64_t i = 0; i < h.arg; i++) {
        ccz_span key;
        CCZ_GUARD(ccz_cbor_tstr(&c, &key));
        if (key.len == 11 && memcmp(key.ptr, "pubkey-hash", 11) == 0) {
            ccz_cursor v = c, arr;
            ccz_span inner;
            if (ccz_cbor_bstr(&v, &inner) == CCZ_OK)
                ccz_cursor_init(&arr, inner); /* wrapped, as Gramine and rats-tls write it */
            else
                arr = c;
            ccz_cbor_head a, alg;
            CCZ_GUARD(ccz_cbor_head_read(&arr, &a));
            CCZ_ENSURE(a.major == 4 && a.arg == 2, CCZ_ERR_MALFORMED,
                       "RA-TLS claims: pubkey-hash is not [algorithm, hash]");
            CCZ_GUARD(ccz_cbor_head_read(&arr, &alg));
            CCZ_ENSURE(alg.major == 0, CCZ_ERR_UNSUPPORTED,
                       "RA-TLS claims: the pubkey-hash algorithm is not an unsigned integer (CBOR "
                       "major type %d)",
                       (int)alg.major);
            CCZ_ENSURE(hash_md((int)alg.arg) && alg.arg <= 8, CCZ_ERR_UNSUPPORTED,
                       "RA-TLS claims: pubkey-hash algorithm %llu is not SHA-256 (1), SHA-384 (7)"
                       " or SHA-512 (8)",
                       (unsigned long long)alg.arg);
            info->hash_alg = (int)alg.arg;
            CCZ_GUARD(ccz_cbor_bstr(&arr, hash));
            found = true;
        } else if (key.len == 5 && memcmp(key.ptr, "nonce", 5) == 0) {
            ccz_span n;
            ccz_cursor v = c;
            if (ccz_cbor_bstr(&v, &n) == CCZ_OK) {
                CCZ_GUARD(ccz_buf_append(&info->nonce, n.ptr, n.len));
                info->has_nonce = true;
            }
        }
        CCZ_GUARD(ccz_cbor_skip(&c));
    }
    size_t trailing = ccz_cursor_remaining(&c);
    CCZ_ENSURE(trailing == 0, CCZ_ERR_TRAILING_DATA,
               "RA-TLS claims: %zu unexpected bytes after the map", trailing);
    CCZ_ENSURE(found, CCZ_ERR_MALFORMED, "RA-TLS claims carry no pubkey-hash");
    return CCZ_OK;
}

/* tag(N)[bstr evidence, bstr claims] */
static ccz_status decode_dice(ccz_ratls_info *info, X509 *x, ccz_span value)
{
    ccz_cursor c;
    ccz_cursor_init(&c, value);
    ccz_cbor_head tag, arr;
    ccz_span evidence, claims, hash;
    CCZ_GUARD(ccz_cbor_head_read(&c, &tag));
    CCZ_ENSURE(tag.major == 6, CCZ_ERR_MALFORMED,
               "the DICE evidence extension is not a tagged "
               "CBOR item");
    CCZ_GUARD(ccz_cbor_head_read(&c, &arr));
    CCZ_ENSURE(arr.major == 4 && arr.arg == 2, CCZ_ERR_MALFORMED,
               "the DICE evidence extension is not [evidence, claims]");
    CCZ_GUARD(ccz_cbor_bstr(&c, &evidence));
    CCZ_GUARD(ccz_cbor_bstr(&c, &claims));
    size_t extra = ccz_cursor_remaining(&c);
    CCZ_ENSURE(extra == 0, CCZ_ERR_TRAILING_DATA,
               "the DICE evidence extension has %zu unexpected bytes after [evidence, claims]",
               extra);
    info->cbor_tag = tag.arg;
    CCZ_GUARD(ccz_buf_append(&info->evidence, evidence.ptr, evidence.len));
    CCZ_GUARD(ccz_buf_append(&info->claims, claims.ptr, claims.len));
    CCZ_GUARD(decode_claims(info, claims, &hash));
    const EVP_MD *md = hash_md(info->hash_alg);
    uint8_t mine[64];
    unsigned ml = 0;
    CCZ_GUARD(x509_spki_digest(mine, &ml, X509_get0_pubkey(x), md));
    info->binding_ok = hash.len == ml && CRYPTO_memcmp(hash.ptr, mine, ml) == 0;
    /* the evidence binds hash(claims) with the same algorithm, zero-padded to 64 bytes */
    if (!EVP_Digest(claims.ptr, claims.len, info->report_data, &ml, md, NULL))
        return ccz_fail_ossl(CCZ_ERR_CRYPTO, "hash failed");
    return CCZ_OK;
}

/* The value of the evidence extension oid, or NULL. RFC 5280 (4.2) allows each extension once:
 * of two copies, which one counts would be up to the reader (another verifier may read the
 * other), so a second one is refused. */
static ccz_status evidence_ext(ASN1_OCTET_STRING **out, X509 *x, const char *oid_text)
{
    int n = x509_ext_count(x, oid_text, out);
    CCZ_ENSURE(n >= 0, CCZ_ERR_NOMEM, "out of memory");
    CCZ_ENSURE(n < 2, CCZ_ERR_MALFORMED,
               "the certificate carries the RA-TLS evidence extension %s twice (a certificate "
               "carries each extension once)",
               oid_text);
    return CCZ_OK;
}

ccz_status ccz_ratls_inspect(ccz_ratls_info *info, X509 *x)
{
    memset(info, 0, sizeof *info);
    ccz_buf_init(&info->evidence, 1u << 20, false);
    ccz_buf_init(&info->claims, 64u << 10, false);
    ccz_buf_init(&info->nonce, 1024, false);
    ASN1_OCTET_STRING *dice, *legacy, *misencoded, *sdk;
    CCZ_GUARD(evidence_ext(&dice, x, CCZ_RATLS_OID_DICE));
    CCZ_GUARD(evidence_ext(&legacy, x, CCZ_RATLS_OID_GRAMINE));
    CCZ_GUARD(evidence_ext(&misencoded, x, CCZ_RATLS_OID_GRAMINE_MISENCODED));
    CCZ_GUARD(evidence_ext(&sdk, x, CCZ_RATLS_OID_SGX_SDK));
    if (!legacy)
        legacy = misencoded;
    info->has_legacy = legacy != NULL;
    info->has_sgx_sdk = sdk != NULL;
    EVP_PKEY *key = X509_get0_pubkey(x);
    CCZ_ENSURE(key, CCZ_ERR_CERT_MALFORMED, "the certificate's key cannot be read");
    if (dice) {
        info->format = CCZ_RATLS_FORMAT_DICE;
        CCZ_GUARD(decode_dice(info, x, span_of(dice)));
    } else if (legacy || sdk) {
        /* a raw quote whose report data is SHA-256 of the key, zero-padded */
        info->format = legacy ? CCZ_RATLS_FORMAT_GRAMINE_LEGACY : CCZ_RATLS_FORMAT_SGX_SDK;
        ccz_span q = span_of(legacy ? legacy : sdk);
        CCZ_GUARD(ccz_buf_append(&info->evidence, q.ptr, q.len));
        info->hash_alg = HASH_SHA256;
        unsigned hl;
        CCZ_GUARD(x509_spki_digest(info->report_data, &hl, key, EVP_sha256()));
        info->binding_ok = true; /* decided by the evidence's report data */
    } else {
        return ccz_fail(CCZ_ERR_NOT_FOUND,
                        "the certificate carries no RA-TLS evidence "
                        "extension (%s, %s or %s)",
                        CCZ_RATLS_OID_DICE, CCZ_RATLS_OID_GRAMINE, CCZ_RATLS_OID_SGX_SDK);
    }
    info->tee = ccz_evidence_detect(ccz_buf_span(&info->evidence));
    return CCZ_OK;
}

void ccz_ratls_info_free(ccz_ratls_info *info)
{
    ccz_buf_free(&info->evidence);
    ccz_buf_free(&info->claims);
    ccz_buf_free(&info->nonce);
}

/* ---- verifying -------------------------------------------------------------------------------*/

/* The first critical extension neither OpenSSL nor the RA-TLS reader understands, as dotted
 * text in oid, or false. The TLS verify callback replaces OpenSSL's chain check, which is what
 * would refuse it (RFC 5280 4.2: a verifier must reject an unrecognised critical extension). */
static bool unknown_critical(char *oid, size_t cap, X509 *x)
{
    static const char *const ours[] = {CCZ_RATLS_OID_DICE, CCZ_RATLS_OID_GRAMINE,
                                       CCZ_RATLS_OID_GRAMINE_MISENCODED, CCZ_RATLS_OID_SGX_SDK};
    for (int i = 0; i < X509_get_ext_count(x); i++) {
        X509_EXTENSION *e = X509_get_ext(x, i);
        if (!X509_EXTENSION_get_critical(e) || X509_supported_extension(e))
            continue;
        OBJ_obj2txt(oid, (int)cap, X509_EXTENSION_get_object(e), 1);
        bool known = false;
        for (size_t k = 0; k < CCZ_ARRAY_LEN(ours) && !known; k++)
            known = strcmp(oid, ours[k]) == 0;
        if (!known)
            return true;
    }
    return false;
}

static ccz_status fail_at(ccz_ratls_verdict *v, const char *step, ccz_status s)
{
    const char *d = ccz_error_detail();
    v->status = s;
    v->step = step;
    snprintf(v->message, sizeof v->message, "%s", d[0] ? d : ccz_strerror(s));
    return s;
}

ccz_status ccz_ratls_verify_cert(ccz_ratls_verdict *v, X509 *x, const ccz_policy *policy,
                                 const ccz_verify_opts *vo)
{
    memset(v, 0, sizeof *v);
    ccz_error_clear();
    EVP_PKEY *key = X509_get0_pubkey(x);
    if (!key || X509_verify(x, key) != 1) {
        ERR_clear_error();
        ccz_fail(CCZ_ERR_BAD_SIGNATURE, "the certificate is not signed by its own key");
        return fail_at(v, CCZ_RATLS_STEP_CERTIFICATE, CCZ_ERR_BAD_SIGNATURE);
    }
    int64_t nb = x509_time_unix(X509_get0_notBefore(x), INT64_MAX); /* no time: never valid */
    int64_t na = x509_time_unix(X509_get0_notAfter(x), 0);
    if (vo->at_unix < nb || vo->at_unix > na) {
        ccz_status s = vo->at_unix < nb ? CCZ_ERR_NOT_YET_VALID : CCZ_ERR_EXPIRED;
        ccz_fail(s, "the certificate is valid from %lld to %lld, not at %lld", (long long)nb,
                 (long long)na, (long long)vo->at_unix);
        return fail_at(v, CCZ_RATLS_STEP_CERTIFICATE, s);
    }
    char oid[80];
    if (unknown_critical(oid, sizeof oid, x)) {
        ccz_fail(CCZ_ERR_UNSUPPORTED,
                 "the certificate has a critical extension %s, which ccz does not understand", oid);
        return fail_at(v, CCZ_RATLS_STEP_CERTIFICATE, CCZ_ERR_UNSUPPORTED);
    }
    ccz_ratls_info info;
    ccz_status s = ccz_ratls_inspect(&info, x);
    v->format = info.format;
    if (s) {
        ccz_ratls_info_free(&info);
        return fail_at(v, CCZ_RATLS_STEP_EXTENSION, s);
    }
    if (!info.binding_ok) {
        ccz_ratls_info_free(&info);
        ccz_fail(CCZ_ERR_BINDING, "the claims' pubkey-hash is not the hash of the certificate's "
                                  "key (the key was swapped)");
        return fail_at(v, CCZ_RATLS_STEP_BINDING, CCZ_ERR_BINDING);
    }
    ccz_verify_opts o = *vo;
    o.expected_report_data = info.report_data;
    s = ccz_verify(&v->result, ccz_buf_span(&info.evidence), &o);
    ccz_ratls_info_free(&info);
    if (s) {
        v->status = s;
        /* report data not bound to this certificate is a binding failure */
        v->step = s == CCZ_ERR_REPORT_DATA_MISMATCH ? CCZ_RATLS_STEP_BINDING : v->result.step;
        if (s == CCZ_ERR_REPORT_DATA_MISMATCH)
            v->status = s = CCZ_ERR_BINDING;
        snprintf(v->message, sizeof v->message, "%s", v->result.message);
        return s;
    }
    ccz_policy *dflt = NULL;
    if (!policy && (s = ccz_policy_default(&dflt)) != CCZ_OK)
        return fail_at(v, CCZ_RATLS_STEP_POLICY, s);
    s = ccz_appraise(&v->appraisal, policy ? policy : dflt, &v->result.claims);
    ccz_policy_free(dflt);
    if (s)
        return fail_at(v, CCZ_RATLS_STEP_POLICY, s);
    if (!v->appraisal.accepted) {
        const ccz_reason *r = &v->appraisal.reasons[0];
        ccz_fail(CCZ_ERR_POLICY_REJECTED, "%s: %s%s", r->code, r->message,
                 v->appraisal.n_reasons > 1 ? " (and more reasons)" : "");
        return fail_at(v, CCZ_RATLS_STEP_POLICY, CCZ_ERR_POLICY_REJECTED);
    }
    return CCZ_OK;
}
