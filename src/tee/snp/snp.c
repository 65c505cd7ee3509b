/* SPDX-License-Identifier: Apache-2.0 */
/* AMD SEV-SNP: the attestation report (1184 bytes, versions 2 to 5), VEK certificates (VCEK,
 * VLEK) with AMD's extensions, the VEK -> ASK/ASVK -> ARK chain (RSA-PSS), and the report's
 * ECDSA P-384 signature, after the AMD SEV-SNP ABI specification and go-sev-guest. Reports and
 * certificates are untrusted; ARKs are trust anchors. The collateral object remembers a
 * verified chain until its validity window ends, so a report then costs one P-384 check. */
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "core/guard.h"
#include "tee/dcap/dcap_internal.h"
#include "tee/internal.h"

#define SIG_ALGO_ECDSA_P384_SHA384 1
#define POLICY_DEBUG (1ull << 19)

static const char *const product_names[] = {"", "Milan", "Genoa", "Turin"};

const char *ccz_snp_product_name(ccz_snp_product p)
{
    return (unsigned)p < 4 ? product_names[p] : "";
}

ccz_status ccz_snp_product_parse(ccz_snp_product *out, const char *name)
{
    for (int i = 1; i < 4; i++) {
        size_t n = strlen(product_names[i]);
        /* the name alone or before a stepping ("Milan-B0"): not a longer word ("Turing") */
        if (strncasecmp(name, product_names[i], n) == 0 && (name[n] == '\0' || name[n] == '-')) {
            *out = (ccz_snp_product)i;
            return CCZ_OK;
        }
    }
    return ccz_fail(CCZ_ERR_INVALID_ARGUMENT,
                    "unknown SEV-SNP product '%s' (Milan, Genoa or "
                    "Turin)",
                    name);
}

void ccz_snp_tcb_decode(ccz_snp_tcb *t, uint64_t raw, ccz_snp_product p)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(raw >> (8 * i));
    memset(t, 0, sizeof *t);
    if (p == CCZ_SNP_TURIN) {
        t->fmc = b[0], t->bootloader = b[1], t->tee = b[2], t->snp = b[3];
    } else {
        t->bootloader = b[0], t->tee = b[1], t->snp = b[6];
    }
    t->microcode = b[7];
}

/* Family 19h models 00-0Fh are Milan, 10-1Fh and A0-AFh Genoa; family 1Ah is Turin. */
static ccz_snp_product product_of_cpuid(uint8_t family, uint8_t model)
{
    if (family == 0x19 && model <= 0x0f)
        return CCZ_SNP_MILAN;
    if (family == 0x19 && ((model >= 0x10 && model <= 0x1f) || (model >= 0xa0 && model <= 0xaf)))
        return CCZ_SNP_GENOA;
    if (family == 0x1a && model <= 0x11)
        return CCZ_SNP_TURIN;
    return CCZ_SNP_UNKNOWN;
}

static void reverse_copy(uint8_t *out, const uint8_t *in, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = in[n - 1 - i];
}

ccz_status ccz_snp_report_parse(ccz_snp_report *r, ccz_span in, ccz_snp_product hint)
{
    memset(r, 0, sizeof *r);
    ccz_snp_claims *c = &r->claims;
    if (in.len != CCZ_SNP_REPORT_SIZE)
        return ccz_fail(in.len < CCZ_SNP_REPORT_SIZE ? CCZ_ERR_TRUNCATED : CCZ_ERR_TRAILING_DATA,
                        "an SNP report is %d bytes, not %zu", CCZ_SNP_REPORT_SIZE, in.len);
    ccz_cursor k;
    ccz_cursor_init(&k, in);
    uint32_t signer, reserved;
    uint8_t cpuid[3], pad[64], sig[144];
    ccz_status s;
    CCZ_GUARD_GOTO(ccz_cursor_u32le(&k, &c->version), s, bad);
    CCZ_GUARD_GOTO(ccz_cursor_u32le(&k, &c->guest_svn), s, bad);
    CCZ_GUARD_GOTO(ccz_cursor_u64le(&k, &c->policy), s, bad);
    CCZ_GUARD_GOTO(ccz_cursor_copy(&k, c->family_id, 16), s, bad);
    CCZ_GUARD_GOTO(ccz_cursor_copy(&k, c->image_id, 16), s, bad);
    CCZ_GUARD_GOTO(ccz_cursor_u32le(&k, &c->vmpl), s, bad);
    CCZ_GUARD_GOTO(ccz_cursor_u32le(&k, &c->signature_algo), s, bad);
    CCZ_GUARD_GOTO(ccz_cursor_u64le(&k, &r->current_tcb_raw), s, bad);
    CCZ_GUARD_GOTO(ccz_cursor_u64le(&k, &c->platform_info), s, bad);
    CCZ_GUARD_GOTO(ccz_cursor_u32le(&k, &signer), s, bad);
    CCZ_GUARD_GOTO(ccz_cursor_u32le(&k, &reserved), s, bad);
    CCZ_GUARD_GOTO(ccz_cursor_copy(&k, r->report_data, 64), s, bad);
    CCZ_GUARD_GOTO(ccz_cursor_copy(&k, c->measurement, 48), s, bad);
    CCZ_GUARD_GOTO(ccz_cursor_copy(&k, c->host_data, 32), s, bad);
    CCZ_GUARD_GOTO(ccz_cursor_copy(&k, c->id_key_digest, 48), s, bad);
    CCZ_GUARD_GOTO(ccz_cursor_copy(&k, c->author_key_digest, 48), s, bad);
    CCZ_GUARD_GOTO(ccz_cursor_copy(&k, c->report_id, 32), s, bad);
    CCZ_GUARD_GOTO(ccz_cursor_copy(&k, c->report_id_ma, 32), s, bad);
    CCZ_GUARD_GOTO(ccz_cursor_u64le(&k, &r->reported_tcb_raw), s, bad);
    CCZ_GUARD_GOTO(ccz_cursor_copy(&k, cpuid, 3), s, bad);
    CCZ_GUARD_GOTO(ccz_cursor_skip(&k, 21), s, bad);
    CCZ_GUARD_GOTO(ccz_cursor_copy(&k, c->chip_id, 64), s, bad);
    CCZ_GUARD_GOTO(ccz_cursor_u64le(&k, &r->committed_tcb_raw), s, bad);
    CCZ_GUARD_GOTO(ccz_cursor_skip(&k, 8), s, bad); /* current and committed versions */
    CCZ_GUARD_GOTO(ccz_cursor_u64le(&k, &r->launch_tcb_raw), s, bad);
    while (k.pos < CCZ_SNP_SIGNED_SIZE)
        CCZ_GUARD_GOTO(
            ccz_cursor_copy(&k, pad,
                            CCZ_SNP_SIGNED_SIZE - k.pos > 64 ? 64 : CCZ_SNP_SIGNED_SIZE - k.pos),
            s, bad);
    r->signed_part = ccz_cursor_consumed(&k);
    CCZ_GUARD_GOTO(ccz_cursor_copy(&k, sig, sizeof sig), s, bad);
    reverse_copy(r->signature_r, sig, 48); /* 72-byte little-endian fields, 48 significant */
    reverse_copy(r->signature_s, sig + 72, 48);
    for (int i = 48; i < 72; i++)
        if (sig[i] || sig[72 + i])
            return ccz_fail(CCZ_ERR_MALFORMED, "SNP report: signature component exceeds 384 bits");
    if (c->version < 2 || c->version > 5)
        return ccz_fail(CCZ_ERR_UNSUPPORTED,
                        "SNP report version %u is not supported (2 to 5 "
                        "are)",
                        c->version);
    if (c->signature_algo != SIG_ALGO_ECDSA_P384_SHA384)
        return ccz_fail(CCZ_ERR_UNSUPPORTED,
                        "SNP report signature algorithm %u is not ECDSA "
                        "P-384 with SHA-384 (1)",
                        c->signature_algo);
    c->author_key_en = signer & 1;
    c->mask_chip_key = (signer >> 1) & 1;
    unsigned key = (signer >> 2) & 7;
    if (key != CCZ_SNP_KEY_VCEK && key != CCZ_SNP_KEY_VLEK && key != CCZ_SNP_KEY_NONE)
        return ccz_fail(CCZ_ERR_MALFORMED, "SNP report: signing key selector %u is reserved", key);
    c->signing_key = (ccz_snp_key)key;
    if (c->version >= 3) {
        r->cpuid_family = cpuid[0], r->cpuid_model = cpuid[1], r->cpuid_stepping = cpuid[2];
        r->product = product_of_cpuid(cpuid[0], cpuid[1]);
    }
    if (r->product == CCZ_SNP_UNKNOWN)
        r->product = hint;
    ccz_snp_tcb_decode(&c->current_tcb, r->current_tcb_raw, r->product);
    ccz_snp_tcb_decode(&c->reported_tcb, r->reported_tcb_raw, r->product);
    ccz_snp_tcb_decode(&c->committed_tcb, r->committed_tcb_raw, r->product);
    ccz_snp_tcb_decode(&c->launch_tcb, r->launch_tcb_raw, r->product);
    snprintf(c->product, sizeof c->product, "%s", ccz_snp_product_name(r->product));
    return CCZ_OK;
bad:
    return ccz_fail_context(s, "SNP report");
}

/* ---- VEK certificates ------------------------------------------------------------------------*/

/* The content of a DER INTEGER extension value: 1 or 2 bytes (a leading zero for >= 0x80). */
static ccz_status spl_value(uint8_t *out, ASN1_OCTET_STRING *v, const char *what)
{
    ccz_cursor c;
    ccz_cursor_init(&c, CCZ_SPAN(ASN1_STRING_get0_data(v), (size_t)ASN1_STRING_length(v)));
    uint8_t tag;
    ccz_span n;
    ccz_status s = ccz_cursor_der(&c, &tag, &n);
    if (s)
        return ccz_fail_context(s, "VEK certificate: %s", what);
    CCZ_ENSURE(tag == 0x02 && n.len >= 1 && n.len <= 2 && !(n.ptr[0] & 0x80) &&
                   (n.len == 1 || n.ptr[0] == 0),
               CCZ_ERR_MALFORMED, "VEK certificate: %s is not an INTEGER 0..255", what);
    *out = n.ptr[n.len - 1];
    s = ccz_cursor_expect_end(&c);
    return s ? ccz_fail_context(s, "VEK certificate: %s", what) : CCZ_OK;
}

static ccz_status vek_info(ccz_snp_vek_info *info, X509 *x)
{
    memset(info, 0, sizeof *info);
    char cn[64] = "";
    X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof cn);
    if (strcmp(cn, "SEV-VCEK") && strcmp(cn, "SEV-VLEK"))
        return ccz_fail(CCZ_ERR_MALFORMED, "certificate '%s' is not a VCEK or VLEK", cn);
    info->vlek = strcmp(cn, "SEV-VLEK") == 0;
    ASN1_OCTET_STRING *v = x509_find_ext(x, "1.3.6.1.4.1.3704.1.2");
    if (v) { /* productName: IA5String */
        ccz_cursor c;
        ccz_cursor_init(&c, CCZ_SPAN(ASN1_STRING_get0_data(v), (size_t)ASN1_STRING_length(v)));
        uint8_t tag;
        ccz_span name;
        if (ccz_cursor_der(&c, &tag, &name) == CCZ_OK && tag == 0x16 &&
            name.len < sizeof info->product_name)
            memcpy(info->product_name, name.ptr, name.len);
    }
    static const struct {
        const char *oid, *what;
        size_t off;
    } spl[] = {
        {"1.3.6.1.4.1.3704.1.3.1", "blSPL", offsetof(ccz_snp_tcb, bootloader)},
        {"1.3.6.1.4.1.3704.1.3.2", "teeSPL", offsetof(ccz_snp_tcb, tee)},
        {"1.3.6.1.4.1.3704.1.3.3", "snpSPL", offsetof(ccz_snp_tcb, snp)},
        {"1.3.6.1.4.1.3704.1.3.8", "ucodeSPL", offsetof(ccz_snp_tcb, microcode)},
    };
    for (size_t i = 0; i < CCZ_ARRAY_LEN(spl); i++) {
        v = x509_find_ext(x, spl[i].oid);
        CCZ_ENSURE(v, CCZ_ERR_MALFORMED, "VEK certificate lacks %s", spl[i].what);
        CCZ_GUARD(spl_value((uint8_t *)&info->tcb + spl[i].off, v, spl[i].what));
    }
    if ((v = x509_find_ext(x, "1.3.6.1.4.1.3704.1.3.9")) != NULL) {
        CCZ_GUARD(spl_value(&info->tcb.fmc, v, "fmcSPL"));
        info->has_fmc = true;
    }
    if (info->vlek)
        return CCZ_OK;
    /* hwID: the raw chip id (64 bytes; 8 on Turin) or the same wrapped in an OCTET STRING */
    v = x509_find_ext(x, "1.3.6.1.4.1.3704.1.4");
    CCZ_ENSURE(v, CCZ_ERR_MALFORMED, "VCEK certificate lacks hwID");
    ccz_span raw = CCZ_SPAN(ASN1_STRING_get0_data(v), (size_t)ASN1_STRING_length(v));
    ccz_cursor c;
    ccz_cursor_init(&c, raw);
    uint8_t tag;
    ccz_span inner;
    if (raw.len != 64 && raw.len != 8 && ccz_cursor_der(&c, &tag, &inner) == CCZ_OK &&
        tag == 0x04 && ccz_cursor_remaining(&c) == 0)
        raw = inner;
    CCZ_ENSURE(raw.len == 64 || raw.len == 8, CCZ_ERR_MALFORMED,
               "VCEK hwID is %zu bytes (64, or 8 on Turin, expected)", raw.len);
    memcpy(info->hwid, raw.ptr, raw.len);
    info->hwid_len = raw.len;
    return CCZ_OK;
}

ccz_status ccz_snp_vek_info_parse(ccz_snp_vek_info *out, ccz_span cert)
{
    X509 *x;
    CCZ_GUARD(x509_read_cert(&x, cert));
    ccz_status s = vek_info(out, x);
    X509_free(x);
    return s;
}

ccz_status ccz_snp_collateral_new(ccz_collateral **out, ccz_span vek, ccz_span chain)
{
    *out = NULL;
    ccz_collateral *c = calloc(1, sizeof *c);
    CCZ_ENSURE(c, CCZ_ERR_NOMEM, "out of memory");
    pthread_mutex_init(&c->lock, NULL);
    c->kind = COLLATERAL_SNP;
    ccz_status s = x509_read_cert(&c->snp.vek, vek);
    if (s)
        ccz_fail_context(s, "VEK certificate");
    if (s == CCZ_OK)
        s = vek_info(&c->snp.info, c->snp.vek);
    if (s == CCZ_OK && chain.len && (s = x509_read_pem_certs(&c->snp.chain, chain, 4)) != CCZ_OK)
        ccz_fail_context(s, "VEK certificate chain");
    if (s == CCZ_OK && !c->snp.chain && !(c->snp.chain = sk_X509_new_null()))
        s = ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    if (s) {
        ccz_collateral_free(c);
        return s;
    }
    *out = c;
    return CCZ_OK;
}

/* ---- verification ----------------------------------------------------------------------------*/

/* What a verified VEK chain establishes, kept in the trust store's chain cache. */
typedef struct {
    ccz_snp_vek_info info;
    int product; /* ccz_snp_product the ARK names */
} snp_chain_facts;

_Static_assert(sizeof(snp_chain_facts) <= TEE_CHAIN_FACTS_MAX, "SNP chain facts too large");

/* The trust store's key of a VEK chain: the VEK's bytes and those of the chain the caller gave
 * (none: the store's own ASKs and ASVKs complete it, and the store's id stands for them). */
static ccz_status chain_key(uint8_t key[32], ccz_span vek, const STACK_OF(X509) *chain)
{
    ccz_span parts[1 + 4];
    uint8_t *der[4] = {0};
    size_t n = 0;
    parts[n++] = vek;
    ccz_status s = CCZ_OK;
    for (int i = 0; chain && i < sk_X509_num(chain) && i < 4 && s == CCZ_OK; i++) {
        int len = i2d_X509(sk_X509_value(chain, i), &der[i]);
        if (len <= 0)
            s = ccz_fail_ossl(CCZ_ERR_CRYPTO, "encoding the VEK chain");
        else
            parts[n++] = CCZ_SPAN(der[i], (size_t)len);
    }
    if (s == CCZ_OK && chain && sk_X509_num(chain) > 4)
        s = ccz_fail(CCZ_ERR_CERT_CHAIN, "a VEK chain of more than 4 certificates");
    if (s == CCZ_OK)
        s = tee_chain_key(key, "ccz snp vek chain", parts, n);
    for (int i = 0; i < 4; i++)
        OPENSSL_free(der[i]);
    return s;
}

/* Verifies VEK -> ASK/ASVK -> ARK at the instant and remembers the chain in the trust store
 * under key. Called with the collateral locked (or on a collateral of the caller's own). */
static ccz_status verify_chain(ccz_result *r, snp_collateral *k, const ccz_trust *t, int64_t at,
                               const uint8_t key[32])
{
    if (sk_X509_num(t->amd_roots) <= 0)
        return ccz_result_failf(r, CCZ_AT_PLATFORM_CERT, CCZ_ERR_CERT_CHAIN,
                                "no AMD root is trusted");
    ccz_status s = CCZ_OK;
    STACK_OF(X509) *untrusted = sk_X509_dup(k->chain);
    X509 *root = NULL;
    x509_window w = X509_WINDOW_ALWAYS;
    /* a chain the caller gives is used alone; otherwise the built-in ASKs and ASVKs */
    for (int i = 0; untrusted && !sk_X509_num(k->chain) && i < sk_X509_num(t->amd_intermediates);
         i++)
        if (!sk_X509_push(untrusted, sk_X509_value(t->amd_intermediates, i))) {
            sk_X509_free(untrusted);
            untrusted = NULL;
        }
    if (!untrusted) {
        s = ccz_fail(CCZ_ERR_NOMEM, "cannot set up verification");
        goto out;
    }
    const x509_chain_check check = {
        .what = "VEK chain",
        .store = t->amd_store,
        .untrusted = untrusted,
        .at = at,
    };
    CCZ_GUARD_GOTO(x509_verify_chain(&check, k->vek, &w, &root, NULL), s, out);
    char ark[64] = "";
    X509_NAME_get_text_by_NID(X509_get_subject_name(root), NID_commonName, ark, sizeof ark);
    ccz_snp_product p = CCZ_SNP_UNKNOWN;
    if (!CCZ_STARTS_WITH(ark, "ARK-") ||
        ccz_snp_product_parse(&p, ark + CCZ_LIT("ARK-").len) != CCZ_OK) {
        s = ccz_fail(CCZ_ERR_CERT_CHAIN, "the VEK chain ends in '%s', not an AMD ARK", ark);
        goto out;
    }
    EVP_PKEY *vk = X509_get0_pubkey(k->vek);
    if (!x509_is_p384(vk)) {
        s = ccz_fail(CCZ_ERR_KEY_MALFORMED, "the VEK's key is not an EC P-384 key");
        goto out;
    }
    EVP_PKEY_free(k->vek_key);
    EVP_PKEY_up_ref(vk);
    k->vek_key = vk;
    k->product = p;
    k->checked_trust_id = t->id;
    k->checked_from = w.from;
    k->checked_until = w.until;
    snp_chain_facts f = {.info = k->info, .product = p};
    tee_chain_remember(t->chains, key, t->id, w.from, w.until, vk, &f, sizeof f);
out:
    X509_free(root);
    sk_X509_free(untrusted);
    return s ? ccz_result_fail(r, CCZ_AT_PLATFORM_CERT, s) : CCZ_OK;
}

/* VEK -> ASK/ASVK -> ARK at the instant, unless already verified for these roots and this
 * instant (by this collateral, or by the trust store for the same certificates' bytes). Called
 * with the collateral locked. */
static ccz_status check_chain(ccz_result *r, snp_collateral *k, const ccz_trust *t, int64_t at)
{
    if (k->vek_key && k->checked_trust_id == t->id && at >= k->checked_from &&
        at <= k->checked_until)
        return CCZ_OK;
    uint8_t key[32];
    uint8_t *vek_der = NULL;
    int vek_len = i2d_X509(k->vek, &vek_der);
    ccz_status s = vek_len > 0 ? chain_key(key, CCZ_SPAN(vek_der, (size_t)vek_len), k->chain)
                               : ccz_fail_ossl(CCZ_ERR_CRYPTO, "encoding the VEK");
    OPENSSL_free(vek_der);
    if (s)
        return ccz_result_fail(r, CCZ_AT_PLATFORM_CERT, s);
    tee_chain_hit hit;
    if (!tee_chain_lookup(t->chains, &hit, key, t->id, at, sizeof(snp_chain_facts)))
        return verify_chain(r, k, t, at, key);
    const snp_chain_facts *f = (const snp_chain_facts *)hit.facts;
    EVP_PKEY_free(k->vek_key);
    k->vek_key = hit.leaf_key;
    k->product = f->product;
    k->checked_trust_id = t->id;
    k->checked_from = hit.valid_from;
    k->checked_until = hit.valid_until;
    return CCZ_OK;
}

static bool tcb_equal(const ccz_snp_tcb *a, const ccz_snp_tcb *b, bool turin)
{
    return a->bootloader == b->bootloader && a->tee == b->tee && a->snp == b->snp &&
           a->microcode == b->microcode && (!turin || a->fmc == b->fmc);
}

static ccz_status verify_signature(ccz_result *r, EVP_PKEY *key, const ccz_snp_report *rep)
{
    bool ok = x509_ecdsa_verify_rs(key, EVP_sha384(), rep->signed_part, rep->signature_r,
                                   rep->signature_s, 48) == CCZ_OK;
    if (!ok) {
        return ccz_result_failf(r, CCZ_AT_SIGNATURE, CCZ_ERR_BAD_SIGNATURE,
                                "the report signature does not verify with the %s",
                                rep->claims.signing_key == CCZ_SNP_KEY_VLEK ? "VLEK" : "VCEK");
    }
    return CCZ_OK;
}

/* Checks the VEK against the report: kind, product, TCB, chip id; then the signature. */
static ccz_status check_report(ccz_result *r, const snp_collateral *k, ccz_snp_report *rep)
{
    ccz_snp_claims *c = &rep->claims;
    const ccz_snp_vek_info *v = &k->info;
    if (c->signing_key == CCZ_SNP_KEY_NONE) {
        return ccz_result_failf(r, CCZ_AT_PARSE, CCZ_ERR_UNSUPPORTED,
                                "the report is not signed (signing key selector 7)");
    }
    if ((c->signing_key == CCZ_SNP_KEY_VLEK) != v->vlek) {
        return ccz_result_failf(r, CCZ_AT_COLLATERAL, CCZ_ERR_COLLATERAL_MISMATCH,
                                "the report is signed by a %s, the certificate given is a %s",
                                c->signing_key == CCZ_SNP_KEY_VLEK ? "VLEK" : "VCEK",
                                v->vlek ? "VLEK" : "VCEK");
    }
    ccz_snp_product cpu =
        rep->cpuid_family ? product_of_cpuid(rep->cpuid_family, rep->cpuid_model) : CCZ_SNP_UNKNOWN;
    if (cpu != CCZ_SNP_UNKNOWN && cpu != (ccz_snp_product)k->product) {
        return ccz_result_failf(r, CCZ_AT_COLLATERAL, CCZ_ERR_COLLATERAL_MISMATCH,
                                "the report comes from a %s CPU, the VEK chain is %s's",
                                ccz_snp_product_name(cpu), ccz_snp_product_name(k->product));
    }
    /* decode the TCB for the chain's product (a v2 report does not name its CPU) */
    rep->product = (ccz_snp_product)k->product;
    ccz_snp_tcb_decode(&c->current_tcb, rep->current_tcb_raw, rep->product);
    ccz_snp_tcb_decode(&c->reported_tcb, rep->reported_tcb_raw, rep->product);
    ccz_snp_tcb_decode(&c->committed_tcb, rep->committed_tcb_raw, rep->product);
    ccz_snp_tcb_decode(&c->launch_tcb, rep->launch_tcb_raw, rep->product);
    snprintf(c->product, sizeof c->product, "%s", ccz_snp_product_name(rep->product));
    bool turin = rep->product == CCZ_SNP_TURIN;
    if (!tcb_equal(&c->reported_tcb, &v->tcb, turin)) {
        return ccz_result_failf(r, CCZ_AT_PLATFORM_CERT, CCZ_ERR_TCB_MISMATCH,
                                "reported TCB (bootloader %u, tee %u, snp %u, microcode %u%s) is "
                                "not the VEK's (%u, %u, %u, %u)",
                                c->reported_tcb.bootloader, c->reported_tcb.tee,
                                c->reported_tcb.snp, c->reported_tcb.microcode,
                                turin ? ", fmc" : "", v->tcb.bootloader, v->tcb.tee, v->tcb.snp,
                                v->tcb.microcode);
    }
    /* a VCEK is for one chip of the chain's product: its hwID has that product's size */
    size_t hwid_len = turin ? 8 : 64;
    if (!v->vlek && v->hwid_len != hwid_len) {
        return ccz_result_failf(r, CCZ_AT_PLATFORM_CERT, CCZ_ERR_CHIP_ID_MISMATCH,
                                "the VCEK's hwID is %zu bytes, a %s VCEK's %zu", v->hwid_len,
                                ccz_snp_product_name(rep->product), hwid_len);
    }
    if (!v->vlek && !c->mask_chip_key) {
        static const uint8_t zero[64];
        bool same = memcmp(c->chip_id, v->hwid, v->hwid_len) == 0 &&
                    memcmp(c->chip_id + v->hwid_len, zero, 64 - v->hwid_len) == 0;
        if (!same) {
            return ccz_result_failf(r, CCZ_AT_PLATFORM_CERT, CCZ_ERR_CHIP_ID_MISMATCH,
                                    "the report's chip id is not the VCEK's hwID");
        }
    }
    return verify_signature(r, k->vek_key, rep);
}

/* The report data check and the claims of a report whose signature verified. */
static ccz_status finish(ccz_result *r, const ccz_snp_report *rep, const ccz_verify_opts *o)
{
    if (o->expected_report_data && !ccz_ct_equal(o->expected_report_data, rep->report_data, 64)) {
        return ccz_result_failf(r, CCZ_AT_REPORT_DATA, CCZ_ERR_REPORT_DATA_MISMATCH,
                                "report data in the report is not the expected value");
    }
    ccz_claims *c = &r->claims;
    c->tee = CCZ_TEE_SNP;
    c->snp = rep->claims;
    c->debug = (rep->claims.policy & POLICY_DEBUG) != 0;
    memcpy(c->report_data, rep->report_data, 64);
    return CCZ_OK;
}

static ccz_status snp_verify(ccz_result *r, ccz_span ev, const ccz_verify_opts *o)
{
    static __thread ccz_snp_report rep;
    ccz_status s = ccz_snp_report_parse(&rep, ev, CCZ_SNP_UNKNOWN);
    if (s)
        return ccz_result_fail(r, CCZ_AT_PARSE, s);
    ccz_collateral *col = (ccz_collateral *)o->collateral;
    if (!col || col->kind != COLLATERAL_SNP) {
        return ccz_result_failf(r, CCZ_AT_COLLATERAL,
                                col ? CCZ_ERR_COLLATERAL_MISMATCH : CCZ_ERR_COLLATERAL_MISSING,
                                "SNP reports are verified with the certificate of the key that "
                                "signed them: pass --vek FILE (the VCEK or VLEK), or fetch the "
                                "VCEK with 'ccz collateral fetch REPORT --kds URL'");
    }
    pthread_mutex_lock(&col->lock);
    s = check_chain(r, &col->snp, o->trust, o->at_unix);
    if (s == CCZ_OK)
        s = check_report(r, &col->snp, &rep);
    pthread_mutex_unlock(&col->lock);
    return s ? s : finish(r, &rep, o);
}

ccz_status tee_snp_verify_with_vek(ccz_result *r, ccz_span report, ccz_span vek,
                                   const ccz_verify_opts *o)
{
    static __thread ccz_snp_report rep;
    ccz_status s = ccz_snp_report_parse(&rep, report, CCZ_SNP_UNKNOWN);
    if (s)
        return ccz_result_fail(r, CCZ_AT_PARSE, s);
    const ccz_trust *t = o->trust;
    uint8_t key[32];
    if ((s = chain_key(key, vek, NULL)) != CCZ_OK)
        return ccz_result_fail(r, CCZ_AT_PLATFORM_CERT, s);
    tee_chain_hit hit;
    if (tee_chain_lookup(t->chains, &hit, key, t->id, o->at_unix, sizeof(snp_chain_facts))) {
        /* the same bytes verified under these roots, valid now: the VEK as that verification
         * left it, without parsing it again */
        const snp_chain_facts *f = (const snp_chain_facts *)hit.facts;
        snp_collateral k = {.vek_key = hit.leaf_key, .product = f->product, .info = f->info};
        s = check_report(r, &k, &rep);
        EVP_PKEY_free(hit.leaf_key);
        return s ? s : finish(r, &rep, o);
    }
    ccz_collateral *col = NULL;
    if ((s = ccz_snp_collateral_new(&col, vek, CCZ_SPAN(NULL, 0))) != CCZ_OK)
        return ccz_result_fail(r, CCZ_AT_PARSE, ccz_fail_context(s, "the evidence's \"vcek\""));
    s = verify_chain(r, &col->snp, t, o->at_unix, key);
    if (s == CCZ_OK)
        s = check_report(r, &col->snp, &rep);
    ccz_collateral_free(col);
    return s ? s : finish(r, &rep, o);
}

static bool snp_detect(ccz_span ev)
{
    if (ev.len != CCZ_SNP_REPORT_SIZE)
        return false;
    /* version at 0x00, signature algorithm at 0x34 */
    ccz_cursor c;
    ccz_cursor_init(&c, ev);
    uint32_t version, algo;
    return ccz_cursor_u32le(&c, &version) == CCZ_OK && ccz_cursor_skip(&c, 0x30) == CCZ_OK &&
           ccz_cursor_u32le(&c, &algo) == CCZ_OK && version >= 2 && version <= 5 &&
           algo == SIG_ALGO_ECDSA_P384_SHA384;
}

const tee_backend tee_backend_snp = {
    .tee = CCZ_TEE_SNP,
    .detect = snp_detect,
    .verify = snp_verify,
    .attester = &tee_attester_snp,
};
