/* SPDX-License-Identifier: Apache-2.0 */
/* Fetching DCAP collateral from a PCCS or Intel PCS (v4 API) with libcurl, and keeping it in an
 * on-disk cache keyed by TEE, FMSPC and PCK CA until it expires. Responses are untrusted: they
 * are size-capped, parsed strictly, and the assembled collateral must parse before it is
 * written; its signatures are checked when a quote is verified against it. */
#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "core/guard.h"
#include "tee/dcap/dcap_internal.h"
#include "tee/internal.h"

#define RESPONSE_MAX (2u << 20)

/* Percent-decodes an issuer-chain header into PEM text (no NUL bytes). */
static ccz_status url_decode(ccz_buf *out, ccz_span in, const char *what)
{
    for (size_t i = 0; i < in.len; i++) {
        uint8_t ch = in.ptr[i];
        if (ch == '%') {
            uint8_t v;
            if (i + 2 >= in.len || ccz_hex_decode_fixed(&v, 1, (const char *)in.ptr + i + 1, 2))
                return ccz_fail(CCZ_ERR_MALFORMED, "%s: bad percent-encoding", what);
            ch = v;
            i += 2;
        }
        /* the chain is kept as a C string: a NUL would cut it short unseen */
        CCZ_ENSURE(ch != 0, CCZ_ERR_MALFORMED, "%s: a NUL byte in the issuer chain", what);
        CCZ_GUARD(ccz_buf_append_u8(out, ch));
    }
    return CCZ_OK;
}

/* True when bytes are exactly one DER CRL. */
static bool is_der_crl(const uint8_t *p, size_t n)
{
    const unsigned char *q = p;
    X509_CRL *crl = n && n <= LONG_MAX ? d2i_X509_CRL(NULL, &q, (long)n) : NULL;
    bool ok = crl && q == p + n;
    X509_CRL_free(crl);
    ERR_clear_error();
    return ok;
}

/* Decided by parsing, never by looking at a byte or two: a DER CRL starts with 0x30 ('0') and
 * may end in any byte, an ASCII hex digit included (Intel's root CA CRL of 2025-03-20 ends in
 * '3'). Intel PCS serves DER (encoding=der) or PEM, a PCCS hex text (rootcacrl) or DER. */
ccz_status dcap_crl_body_der(ccz_buf *der, ccz_span body, const char *what)
{
    if (is_der_crl(body.ptr, body.len))
        return ccz_buf_append(der, body.ptr, body.len);
    size_t a = 0, b = body.len;
    while (a < b && isspace(body.ptr[a]))
        a++;
    while (b > a && isspace(body.ptr[b - 1]))
        b--;
    ccz_span text = CCZ_SPAN(body.ptr + a, b - a);
    if (text.len > CCZ_LIT("-----BEGIN").len && CCZ_SPAN_STARTS_WITH(text, "-----BEGIN")) {
        BIO *bio = BIO_new_mem_buf(text.ptr, (int)text.len);
        X509_CRL *crl = bio ? PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL) : NULL;
        BIO_free(bio);
        unsigned char *p = NULL;
        int n = crl ? i2d_X509_CRL(crl, &p) : -1;
        X509_CRL_free(crl);
        ccz_status s = n > 0 ? ccz_buf_append(der, p, (size_t)n)
                             : ccz_fail_ossl(CCZ_ERR_MALFORMED, "%s: PEM that holds no CRL", what);
        OPENSSL_free(p);
        return s;
    }
    size_t mark = der->len;
    ccz_status s = CCZ_ERR_MALFORMED;
    if (text.len && text.len % 2 == 0 &&
        (s = ccz_hex_decode(der, (const char *)text.ptr, text.len)) == CCZ_OK &&
        is_der_crl(der->ptr + mark, der->len - mark))
        return CCZ_OK;
    der->len = mark;
    if (s == CCZ_ERR_NOMEM) /* out of memory says nothing about the body */
        return s;
    ccz_error_clear();
    return ccz_fail(CCZ_ERR_MALFORMED, "%s is not a CRL (neither DER, PEM nor hex-encoded DER)",
                    what);
}

/* A CRL body as hex of its DER, appended to out. */
static ccz_status crl_body_hex(ccz_buf *out, ccz_span body, const char *what)
{
    ccz_buf der = CCZ_BUF_INIT;
    ccz_status s = dcap_crl_body_der(&der, body, what);
    if (s == CCZ_OK)
        s = ccz_hex_encode(out, ccz_buf_span(&der));
    ccz_buf_free(&der);
    return s;
}

/* ---- what the quote needs --------------------------------------------------------------------*/

typedef struct {
    bool tdx;
    char fmspc[13];
    const char *ca; /* "processor" or "platform" */
} needs;

static ccz_status quote_needs(needs *n, ccz_span quote)
{
    ccz_dcap_quote q;
    CCZ_GUARD(ccz_dcap_quote_parse(&q, quote));
    n->tdx = q.tee_type == CCZ_DCAP_TEE_TDX;
    STACK_OF(X509) *chain = NULL;
    ccz_status s = x509_read_pem_certs(&chain, q.cert_data, 4);
    if (s == CCZ_OK) {
        X509 *pck = sk_X509_value(chain, 0);
        char issuer[256] = "";
        X509_NAME_get_text_by_NID(X509_get_issuer_name(pck), NID_commonName, issuer, sizeof issuer);
        n->ca = strstr(issuer, "Platform") ? "platform" : "processor";
        ASN1_OCTET_STRING *v = x509_find_ext(pck, "1.2.840.113741.1.13.1");
        ccz_pck_ext ext;
        if (!v) {
            s = ccz_fail(CCZ_ERR_MALFORMED, "the PCK certificate has no SGX extension");
        } else {
            s = ccz_dcap_pck_ext_parse(
                &ext, CCZ_SPAN(ASN1_STRING_get0_data(v), (size_t)ASN1_STRING_length(v)));
        }
        if (s == CCZ_OK)
            snprintf(n->fmspc, sizeof n->fmspc, "%02X%02X%02X%02X%02X%02X", ext.fmspc[0],
                     ext.fmspc[1], ext.fmspc[2], ext.fmspc[3], ext.fmspc[4], ext.fmspc[5]);
    }
    sk_X509_pop_free(chain, X509_free);
    return s;
}

/* ---- fetching --------------------------------------------------------------------------------*/

typedef struct {
    ccz_buf pck_crl_chain, tcb_chain, qe_chain, pck_crl, root_crl, tcb_body, qe_body;
} fetched;

static void fetched_free(fetched *f)
{
    ccz_buf *all[] = {&f->pck_crl_chain, &f->tcb_chain, &f->qe_chain, &f->pck_crl,
                      &f->root_crl,      &f->tcb_body,  &f->qe_body};
    for (size_t i = 0; i < CCZ_ARRAY_LEN(all); i++)
        ccz_buf_free(all[i]);
}

static ccz_status get_with_chain(ccz_buf *body, ccz_buf *chain, const char *url,
                                 const char *const *headers, const tee_http_opts *h)
{
    tee_http_response r;
    tee_http_response_init(&r, headers);
    ccz_status s = tee_http_get(&r, url, h);
    if (s == CCZ_OK && r.header.len == 0)
        s = ccz_fail(CCZ_ERR_MALFORMED, "GET %s: no %s header with the issuer chain", url,
                     headers[0]);
    if (s == CCZ_OK)
        s = url_decode(chain, ccz_buf_span(&r.header), headers[0]);
    if (s == CCZ_OK)
        s = ccz_buf_append(body, r.body.ptr, r.body.len);
    tee_http_response_free(&r);
    return s;
}

/* The root CA CRL: a PCCS serves it; Intel PCS does not, so the URL in the root certificate's
 * CRL distribution point is used then. */
static ccz_status get_root_crl(ccz_buf *hex, const char *base, const ccz_buf *root_chain,
                               const tee_http_opts *h)
{
    char url[1024];
    snprintf(url, sizeof url, "%s/sgx/certification/v4/rootcacrl", base);
    tee_http_response r;
    tee_http_response_init(&r, NULL);
    ccz_status s = tee_http_get(&r, url, h);
    if (s == CCZ_OK) {
        s = crl_body_hex(hex, ccz_buf_span(&r.body), "root CA CRL");
        tee_http_response_free(&r);
        return s;
    }
    tee_http_response_free(&r);
    if (s != CCZ_ERR_NOT_FOUND)
        return s;
    /* the chain is not verified yet: its root's distribution point is followed only when that
     * root is the built-in Intel SGX Root CA, byte for byte (a server's own root would choose
     * the URL fetched next) */
    STACK_OF(X509) *chain = NULL, *intel = NULL;
    s = x509_read_pem_certs(&chain, ccz_buf_span(root_chain), 4);
    if (s == CCZ_OK)
        s = x509_read_pem_certs(&intel, ccz_dcap_intel_root_ca(), 1);
    X509 *root = s == CCZ_OK ? sk_X509_value(chain, sk_X509_num(chain) - 1) : NULL;
    if (root && X509_cmp(root, sk_X509_value(intel, 0)) != 0) {
        s = ccz_fail(CCZ_ERR_CERT_CHAIN,
                     "%s serves no root CA CRL, and the TCB info's issuer chain does not end in "
                     "the Intel SGX Root CA, whose CRL distribution point ccz would follow: use a "
                     "PCCS that serves /sgx/certification/v4/rootcacrl",
                     base);
        root = NULL;
    }
    STACK_OF(DIST_POINT) *dps =
        root ? X509_get_ext_d2i(root, NID_crl_distribution_points, NULL, NULL) : NULL;
    const char *cdp = NULL;
    for (int i = 0; dps && i < sk_DIST_POINT_num(dps) && !cdp; i++) {
        DIST_POINT *dp = sk_DIST_POINT_value(dps, i);
        if (!dp->distpoint || dp->distpoint->type != 0)
            continue;
        for (int j = 0; j < sk_GENERAL_NAME_num(dp->distpoint->name.fullname) && !cdp; j++) {
            GENERAL_NAME *gn = sk_GENERAL_NAME_value(dp->distpoint->name.fullname, j);
            if (gn->type == GEN_URI)
                cdp = (const char *)ASN1_STRING_get0_data(gn->d.uniformResourceIdentifier);
        }
    }
    if (s == CCZ_OK && !cdp)
        s = ccz_fail(CCZ_ERR_NOT_FOUND,
                     "%s serves no root CA CRL and the root certificate "
                     "names no CRL distribution point",
                     base);
    if (s == CCZ_OK) {
        snprintf(url, sizeof url, "%s", cdp);
        tee_http_response_init(&r, NULL);
        s = tee_http_get(&r, url, h);
        if (s == CCZ_OK)
            s = crl_body_hex(hex, ccz_buf_span(&r.body), "root CA CRL");
        tee_http_response_free(&r);
    }
    sk_DIST_POINT_pop_free(dps, DIST_POINT_free);
    sk_X509_pop_free(chain, X509_free);
    sk_X509_pop_free(intel, X509_free);
    return s;
}

static ccz_status fetch_all(fetched *f, const needs *n, const char *base, const tee_http_opts *h)
{
    static const char *const crl_hdr[] = {"SGX-PCK-CRL-Issuer-Chain", NULL};
    static const char *const tcb_hdr[] = {"TCB-Info-Issuer-Chain", "SGX-TCB-Info-Issuer-Chain",
                                          NULL};
    static const char *const qe_hdr[] = {"SGX-Enclave-Identity-Issuer-Chain",
                                         "Enclave-Identity-Issuer-Chain", NULL};
    const char *tee = n->tdx ? "tdx" : "sgx";
    char url[1024];
    ccz_buf crl_body = CCZ_BUF_INIT;
    snprintf(url, sizeof url, "%s/sgx/certification/v4/pckcrl?ca=%s&encoding=der", base, n->ca);
    ccz_status s = get_with_chain(&crl_body, &f->pck_crl_chain, url, crl_hdr, h);
    if (s == CCZ_OK)
        s = crl_body_hex(&f->pck_crl, ccz_buf_span(&crl_body), "PCK CRL");
    ccz_buf_free(&crl_body);
    if (s)
        return s;
    snprintf(url, sizeof url, "%s/%s/certification/v4/tcb?fmspc=%s", base, tee, n->fmspc);
    CCZ_GUARD(get_with_chain(&f->tcb_body, &f->tcb_chain, url, tcb_hdr, h));
    snprintf(url, sizeof url, "%s/%s/certification/v4/qe/identity", base, tee);
    CCZ_GUARD(get_with_chain(&f->qe_body, &f->qe_chain, url, qe_hdr, h));
    return get_root_crl(&f->root_crl, base, &f->tcb_chain, h);
}

/* Splits {"tcbInfo": {...}, "signature": "hex"} into the signed text and the signature. */
static ccz_status split_signed(ccz_span body, const char *member, char **text, const char **sig,
                               json_t **doc)
{
    ccz_span raw;
    if (ccz_json_raw_member(&raw, body, member))
        return ccz_fail_context(CCZ_ERR_MALFORMED, "%s response", member);
    CCZ_GUARD(ccz_json_parse(doc, (const char *)body.ptr, body.len, RESPONSE_MAX));
    *sig = json_string_value(json_object_get(*doc, "signature"));
    CCZ_ENSURE(*sig, CCZ_ERR_MALFORMED, "%s response has no signature", member);
    *text = strndup((const char *)raw.ptr, raw.len);
    CCZ_ENSURE(*text, CCZ_ERR_NOMEM, "out of memory");
    return CCZ_OK;
}

static ccz_status assemble(ccz_buf *out, fetched *f)
{
    char *tcb = NULL, *qe = NULL;
    const char *tsig, *qsig;
    json_t *tdoc = NULL, *qdoc = NULL, *j = NULL;
    ccz_status s;
    CCZ_GUARD_GOTO(split_signed(ccz_buf_span(&f->tcb_body), "tcbInfo", &tcb, &tsig, &tdoc), s, out);
    CCZ_GUARD_GOTO(split_signed(ccz_buf_span(&f->qe_body), "enclaveIdentity", &qe, &qsig, &qdoc), s,
                   out);
    j = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "pck_crl_issuer_chain",
                  (const char *)f->pck_crl_chain.ptr, "root_ca_crl", (const char *)f->root_crl.ptr,
                  "pck_crl", (const char *)f->pck_crl.ptr, "tcb_info_issuer_chain",
                  (const char *)f->tcb_chain.ptr, "tcb_info", tcb, "tcb_info_signature", tsig,
                  "qe_identity_issuer_chain", (const char *)f->qe_chain.ptr, "qe_identity", qe,
                  "qe_identity_signature", qsig);
    char *text = j ? json_dumps(j, JSON_INDENT(1) | JSON_PRESERVE_ORDER) : NULL;
    s = text ? ccz_buf_append_str(out, text)
             : ccz_fail(CCZ_ERR_MALFORMED, "a response holds "
                                           "text that is not "
                                           "UTF-8");
    free(text);
out:
    json_decref(j);
    json_decref(tdoc);
    json_decref(qdoc);
    free(tcb);
    free(qe);
    return s;
}

/* ---- the cache -------------------------------------------------------------------------------*/

static ccz_status cache_path(ccz_buf *p, const ccz_collateral_fetch_opts *o, const needs *n)
{
    return ccz_buf_printf(p, "%s/%s-%s-%s.json", o->cache_dir, n->tdx ? "tdx" : "sgx", n->fmspc,
                          n->ca);
}

/* Appends cached collateral that is still valid at o->now; CCZ_ERR_NOT_FOUND otherwise. */
static ccz_status cache_get(ccz_buf *out, const char *path, int64_t now)
{
    ccz_buf b = CCZ_BUF_INIT;
    ccz_collateral *c = NULL;
    ccz_status s = ccz_file_read(&b, path, RESPONSE_MAX);
    if (s == CCZ_OK && ccz_collateral_parse(&c, (const char *)b.ptr, b.len) != CCZ_OK)
        s = CCZ_ERR_NOT_FOUND; /* a damaged cache entry is fetched again */
    if (s == CCZ_OK && now > ccz_collateral_expiry(c))
        s = CCZ_ERR_NOT_FOUND;
    if (s == CCZ_OK)
        s = ccz_buf_append(out, b.ptr, b.len);
    ccz_collateral_free(c);
    ccz_buf_free(&b);
    ccz_error_clear();
    return s == CCZ_OK ? CCZ_OK : CCZ_ERR_NOT_FOUND;
}

ccz_status ccz_collateral_fetch(ccz_buf *out, bool *from_cache, ccz_span quote,
                                const ccz_collateral_fetch_opts *o)
{
    CCZ_ENSURE(o && o->version == CCZ_COLLATERAL_FETCH_OPTS_VERSION && o->base_url,
               CCZ_ERR_INVALID_ARGUMENT,
               "fetch options missing, of the wrong version or without a base URL");
    CCZ_GUARD(tee_url_base_check(o->base_url, "the base URL"));
    *from_cache = false;
    needs n;
    CCZ_GUARD(quote_needs(&n, quote));
    ccz_buf path = CCZ_BUF_INIT, doc = CCZ_BUF_INIT;
    ccz_status s = CCZ_OK;
    if (o->cache_dir) {
        CCZ_GUARD_GOTO(cache_path(&path, o, &n), s, done);
        /* 0: now (an instant of 0 would keep every cached entry for ever) */
        int64_t now = o->now ? o->now : (int64_t)time(NULL);
        if (cache_get(out, (const char *)path.ptr, now) == CCZ_OK) {
            *from_cache = true;
            goto done;
        }
    }
    /* the base may carry a /sgx/certification/v4 suffix; the paths add their own */
    char base[512];
    snprintf(base, sizeof base, "%s", o->base_url);
    char *cut = strstr(base, "/sgx/certification");
    if (!cut)
        cut = strstr(base, "/tdx/certification");
    if (cut)
        *cut = '\0';
    size_t bl = strlen(base);
    while (bl && base[bl - 1] == '/')
        base[--bl] = '\0';
    fetched f = {CCZ_BUF_INIT, CCZ_BUF_INIT, CCZ_BUF_INIT, CCZ_BUF_INIT,
                 CCZ_BUF_INIT, CCZ_BUF_INIT, CCZ_BUF_INIT};
    /* one deadline for the four or five requests: a server slow on each cannot stretch it */
    tee_http_opts h = tee_http_fetch_opts(o->ca_file, o->tls_verify_insecure, o->timeout_seconds);
    s = fetch_all(&f, &n, base, &h);
    if (s == CCZ_OK)
        s = assemble(&doc, &f);
    fetched_free(&f);
    ccz_collateral *check = NULL;
    if (s == CCZ_OK && (s = ccz_collateral_parse(&check, (const char *)doc.ptr, doc.len)) != CCZ_OK)
        ccz_fail_context(s, "the collateral %s served", base);
    ccz_collateral_free(check);
    if (s == CCZ_OK && o->cache_dir && ccz_mkdir_p(o->cache_dir, 0700) == CCZ_OK)
        if (ccz_file_write((const char *)path.ptr, ccz_buf_span(&doc), 0644) != CCZ_OK)
            /* the cache only saves a fetch next time: say so, and go on */
            ccz_log(CCZ_LOG_WARN, "cannot cache %s: %s", (const char *)path.ptr,
                    ccz_error_detail());
    if (s == CCZ_OK)
        s = ccz_buf_append(out, doc.ptr, doc.len);
done:
    ccz_buf_free(&path);
    ccz_buf_free(&doc);
    return s;
}
