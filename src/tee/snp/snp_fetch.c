/* SPDX-License-Identifier: Apache-2.0 */
/* Fetching a VCEK from AMD KDS for an SNP report (by product, chip id and reported TCB) with an
 * on-disk cache, and reading the certificate table an SNP host hands a guest (configfs-tsm
 * auxblob). KDS responses and certificate tables are untrusted: the VCEK must parse, carry the
 * report's TCB and chip id, and is verified against AMD's roots when a report is checked. */
#include <stdio.h>
#include <string.h>

#include <openssl/pem.h>

#include "core/guard.h"
#include "tee/dcap/dcap_internal.h"
#include "tee/internal.h"

#define VCEK_MAX (16u << 10)

static void hex(char *out, const uint8_t *p, size_t n)
{
    ccz_hex_to_str(out, p, n);
}

/* Whether a cached VEK is the VCEK of the report's chip at its reported TCB (a file in the
 * cache directory is no more trusted than a KDS answer). */
static bool cached_vcek_matches(const ccz_snp_vek_info *info, const ccz_snp_claims *c, bool turin)
{
    static const uint8_t zero[64];
    ccz_snp_tcb got = info->tcb;
    if (!turin)
        got.fmc = 0;
    return !info->vlek && memcmp(&got, &c->reported_tcb, sizeof got) == 0 &&
           memcmp(info->hwid, c->chip_id, info->hwid_len) == 0 &&
           memcmp(c->chip_id + info->hwid_len, zero, 64 - info->hwid_len) == 0;
}

ccz_status ccz_snp_vcek_fetch(ccz_buf *out, bool *from_cache, ccz_span report,
                              const ccz_snp_vcek_fetch_opts *o)
{
    CCZ_ENSURE(o && o->version == CCZ_SNP_VCEK_FETCH_OPTS_VERSION && o->kds_url,
               CCZ_ERR_INVALID_ARGUMENT,
               "fetch options missing, of the wrong version or without a KDS URL");
    CCZ_GUARD(tee_url_base_check(o->kds_url, "the KDS URL"));
    *from_cache = false;
    static __thread ccz_snp_report r;
    CCZ_GUARD(ccz_snp_report_parse(&r, report, o->product));
    const ccz_snp_claims *c = &r.claims;
    CCZ_ENSURE(c->signing_key == CCZ_SNP_KEY_VCEK, CCZ_ERR_UNSUPPORTED,
               "the report is signed by a %s; AMD KDS serves VCEKs only (a VLEK comes from the "
               "cloud provider)",
               c->signing_key == CCZ_SNP_KEY_VLEK ? "VLEK" : "no key");
    CCZ_ENSURE(r.product != CCZ_SNP_UNKNOWN, CCZ_ERR_INVALID_ARGUMENT,
               "a version %u report does not name its CPU: give the product (Milan, Genoa, "
               "Turin)",
               c->version);
    CCZ_ENSURE(!c->mask_chip_key, CCZ_ERR_UNSUPPORTED,
               "the report masks its chip id, so its VCEK cannot be looked up");
    bool turin = r.product == CCZ_SNP_TURIN;
    char hwid[129], tcb[96], url[1024], name[512];
    hex(hwid, c->chip_id, turin ? 8 : 64);
    const ccz_snp_tcb *t = &c->reported_tcb;
    if (turin)
        snprintf(tcb, sizeof tcb, "fmcSPL=%u&blSPL=%u&teeSPL=%u&snpSPL=%u&ucodeSPL=%u", t->fmc,
                 t->bootloader, t->tee, t->snp, t->microcode);
    else
        snprintf(tcb, sizeof tcb, "blSPL=%u&teeSPL=%u&snpSPL=%u&ucodeSPL=%u", t->bootloader, t->tee,
                 t->snp, t->microcode);
    const char *product = ccz_snp_product_name(r.product);
    ccz_buf path = CCZ_BUF_INIT, body = CCZ_BUF_INIT;
    ccz_status s = CCZ_OK;
    snprintf(name, sizeof name, "%s-%s-%u-%u-%u-%u-%u.der", product, hwid, t->bootloader, t->tee,
             t->snp, t->microcode, t->fmc);
    if (o->cache_dir) {
        CCZ_GUARD_GOTO(ccz_buf_printf(&path, "%s/%s", o->cache_dir, name), s, done);
        if (ccz_file_read(&body, (const char *)path.ptr, VCEK_MAX) == CCZ_OK) {
            ccz_snp_vek_info info;
            if (ccz_snp_vek_info_parse(&info, ccz_buf_span(&body)) == CCZ_OK) {
                if (cached_vcek_matches(&info, c, turin)) {
                    *from_cache = true;
                    s = ccz_buf_append(out, body.ptr, body.len);
                    goto done;
                }
            }
            ccz_buf_reset(&body); /* a damaged or another chip's entry is fetched again */
        }
        ccz_error_clear();
    }
    size_t bl = strlen(o->kds_url);
    while (bl && o->kds_url[bl - 1] == '/')
        bl--;
    snprintf(url, sizeof url, "%.*s/vcek/v1/%s/%s?%s", (int)bl, o->kds_url, product, hwid, tcb);
    tee_http_response resp;
    tee_http_response_init(&resp, NULL);
    tee_http_opts h = tee_http_fetch_opts(o->ca_file, o->tls_verify_insecure, o->timeout_seconds);
    s = tee_http_get(&resp, url, &h);
    if (s == CCZ_OK)
        s = ccz_buf_append(&body, resp.body.ptr, resp.body.len);
    tee_http_response_free(&resp);
    if (s)
        goto done;
    ccz_snp_vek_info info;
    if ((s = ccz_snp_vek_info_parse(&info, ccz_buf_span(&body))) != CCZ_OK) {
        ccz_fail_context(s, "the VCEK %s served", url);
        goto done;
    }
    ccz_snp_tcb got = info.tcb;
    if (!turin)
        got.fmc = 0;
    if (memcmp(&got, t, sizeof got) != 0 || info.vlek ||
        memcmp(info.hwid, c->chip_id, info.hwid_len) != 0) {
        s = ccz_fail(CCZ_ERR_TCB_MISMATCH, "KDS answered with a VCEK for another chip or TCB");
        goto done;
    }
    if (o->cache_dir && ccz_mkdir_p(o->cache_dir, 0700) == CCZ_OK)
        if (ccz_file_write((const char *)path.ptr, ccz_buf_span(&body), 0644) != CCZ_OK)
            /* the cache only saves a fetch next time: say so, and go on */
            ccz_log(CCZ_LOG_WARN, "cannot cache %s: %s", (const char *)path.ptr,
                    ccz_error_detail());
    s = ccz_buf_append(out, body.ptr, body.len);
done:
    ccz_buf_free(&path);
    ccz_buf_free(&body);
    return s;
}

/* ---- the certificate table -------------------------------------------------------------------
 * { GUID[16], offset u32, length u32 }..., ended by an all-zero entry; offsets count from the
 * start of the table. GUIDs are stored in their mixed-endian binary form. */

static const struct {
    uint8_t guid[16];
    const char *name;
} table_guids[] = {
    /* 63da758d-e664-4564-adc5-f4b93be8accd: VCEK */
    {{0x8d, 0x75, 0xda, 0x63, 0x64, 0xe6, 0x64, 0x45, 0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac,
      0xcd},
     "VCEK"},
    /* a8074bc2-a25a-483e-aae6-39c045a0b8a1: VLEK */
    {{0xc2, 0x4b, 0x07, 0xa8, 0x5a, 0xa2, 0x3e, 0x48, 0xaa, 0xe6, 0x39, 0xc0, 0x45, 0xa0, 0xb8,
      0xa1},
     "VLEK"},
    /* 4ab7b379-bbac-4fe4-a02f-05aef327c782: ASK */
    {{0x79, 0xb3, 0xb7, 0x4a, 0xac, 0xbb, 0xe4, 0x4f, 0xa0, 0x2f, 0x05, 0xae, 0xf3, 0x27, 0xc7,
      0x82},
     "ASK"},
    /* c0b406a4-a803-4952-9743-3fb6014cd0ae: ARK */
    {{0xa4, 0x06, 0xb4, 0xc0, 0x03, 0xa8, 0x52, 0x49, 0x97, 0x43, 0x3f, 0xb6, 0x01, 0x4c, 0xd0,
      0xae},
     "ARK"},
};

static ccz_status der_to_pem(ccz_buf *out, ccz_span der, const char *what)
{
    const unsigned char *p = der.ptr;
    X509 *x = d2i_X509(NULL, &p, (long)der.len);
    if (!x)
        return ccz_fail_ossl(CCZ_ERR_CERT_MALFORMED, "certificate table: the %s is not DER", what);
    BIO *b = BIO_new(BIO_s_mem());
    char *pem;
    long n = b && PEM_write_bio_X509(b, x) ? BIO_get_mem_data(b, &pem) : 0;
    ccz_status s = n > 0 ? ccz_buf_append(out, pem, (size_t)n)
                         : ccz_fail_ossl(CCZ_ERR_CRYPTO, "cannot encode the %s", what);
    BIO_free(b);
    X509_free(x);
    return s;
}

ccz_status ccz_snp_cert_table(ccz_buf *vek_pem, ccz_buf *chain_pem, ccz_span table)
{
    ccz_cursor c;
    ccz_cursor_init(&c, table);
    for (int entries = 0;; entries++) {
        uint8_t guid[16];
        uint32_t off, len;
        if (ccz_cursor_copy(&c, guid, 16) || ccz_cursor_u32le(&c, &off) ||
            ccz_cursor_u32le(&c, &len))
            return ccz_fail(CCZ_ERR_TRUNCATED, "certificate table ends without its zero entry");
        static const uint8_t zero[16];
        if (memcmp(guid, zero, 16) == 0 && off == 0 && len == 0)
            break;
        CCZ_ENSURE(entries < 32, CCZ_ERR_MALFORMED, "certificate table: too many entries");
        ccz_cursor at;
        ccz_span der;
        ccz_cursor_init(&at, table);
        if (ccz_cursor_skip(&at, off) || ccz_cursor_take(&at, &der, len))
            return ccz_fail(CCZ_ERR_TRUNCATED,
                            "certificate table: entry %d lies outside the "
                            "table",
                            entries);
        for (size_t i = 0; i < CCZ_ARRAY_LEN(table_guids); i++) {
            if (memcmp(guid, table_guids[i].guid, 16) != 0)
                continue;
            bool vek = i < 2;
            CCZ_GUARD(der_to_pem(vek ? vek_pem : chain_pem, der, table_guids[i].name));
        }
    }
    CCZ_ENSURE(vek_pem->len > 0, CCZ_ERR_NOT_FOUND, "certificate table holds no VCEK or VLEK");
    return CCZ_OK;
}
