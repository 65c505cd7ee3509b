/* SPDX-License-Identifier: Apache-2.0 */
/* Fetching a CSV chip's HSK/CEK bundle from Hygon's KDS ({kds}/hsk_cek?snumber={chip}, as
 * trustee's csv verifier downloads it) with an on-disk cache. KDS responses and cache entries
 * are untrusted: the bundle must parse and its HSK verify under the built-in HRK before it is
 * cached or returned; the whole chain is verified again when evidence is checked. */
#include <stdio.h>
#include <string.h>

#include "ccz/csv.h"
#include "ccz/dcap.h"
#include "core/guard.h"
#include "tee/internal.h"

/* A chip serial is printable ASCII; anything else would not be a safe file or URL part. */
static ccz_status check_serial(const char *s)
{
    size_t n = strlen(s);
    CCZ_ENSURE(n > 0, CCZ_ERR_NOT_FOUND,
               "the evidence names no chip serial, so its HSK/CEK cannot be looked up");
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        CCZ_ENSURE((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                       c == '-' || c == '_',
                   CCZ_ERR_MALFORMED, "the chip serial holds a character other than [0-9A-Za-z_-]");
    }
    return CCZ_OK;
}

/* A bundle that parses and whose HSK the trusted HRK signed. */
static ccz_status check_bundle(ccz_span b)
{
    ccz_trust *t = NULL;
    ccz_collateral *col = NULL;
    char lines[256];
    CCZ_GUARD(ccz_csv_collateral_new(&col, b));
    ccz_collateral_free(col);
    CCZ_GUARD(ccz_trust_new(&t));
    ccz_status s = ccz_trust_add_hygon_hrk(t, ccz_csv_builtin_hrk());
    if (s == CCZ_OK)
        s = ccz_csv_chain_check(lines, sizeof lines, b, t);
    ccz_trust_free(t);
    return s;
}

ccz_status ccz_csv_hsk_cek_fetch(ccz_buf *out, bool *from_cache, ccz_span evidence,
                                 const ccz_csv_fetch_opts *o)
{
    CCZ_ENSURE(o && o->version == CCZ_CSV_FETCH_OPTS_VERSION && o->kds_url,
               CCZ_ERR_INVALID_ARGUMENT,
               "fetch options missing, of the wrong version or without a KDS URL");
    CCZ_GUARD(tee_url_base_check(o->kds_url, "the KDS URL"));
    *from_cache = false;
    static __thread ccz_csv_evidence e;
    CCZ_GUARD(ccz_csv_evidence_parse(&e, evidence));
    char serial[65];
    snprintf(serial, sizeof serial, "%s", e.serial);
    ccz_csv_evidence_free(&e);
    CCZ_GUARD(check_serial(serial));
    ccz_buf path = CCZ_BUF_INIT, body = CCZ_BUF_INIT;
    ccz_status s = CCZ_OK;
    if (o->cache_dir) {
        CCZ_GUARD_GOTO(ccz_buf_printf(&path, "%s/hsk_cek-%s.cert", o->cache_dir, serial), s, done);
        if (ccz_file_read(&body, (const char *)path.ptr, CCZ_CSV_HSK_CEK_SIZE + 1) == CCZ_OK &&
            check_bundle(ccz_buf_span(&body)) == CCZ_OK) {
            *from_cache = true;
            s = ccz_buf_append(out, body.ptr, body.len);
            goto done;
        }
        ccz_buf_reset(&body); /* a missing or damaged entry is fetched again */
        ccz_error_clear();
    }
    size_t bl = strlen(o->kds_url);
    while (bl && o->kds_url[bl - 1] == '/')
        bl--;
    char url[1024];
    snprintf(url, sizeof url, "%.*s/hsk_cek?snumber=%s", (int)bl, o->kds_url, serial);
    tee_http_response resp;
    tee_http_response_init(&resp, NULL);
    tee_http_opts h = tee_http_fetch_opts(o->ca_file, o->tls_verify_insecure, o->timeout_seconds);
    s = tee_http_get(&resp, url, &h);
    if (s == CCZ_OK && resp.body.len > CCZ_CSV_HSK_CEK_SIZE)
        s = ccz_fail(CCZ_ERR_TOO_LARGE, "%s answered with %zu bytes, not an HSK/CEK bundle", url,
                     resp.body.len);
    if (s == CCZ_OK)
        s = ccz_buf_append(&body, resp.body.ptr, resp.body.len);
    tee_http_response_free(&resp);
    if (s)
        goto done;
    if ((s = check_bundle(ccz_buf_span(&body))) != CCZ_OK) {
        ccz_fail_context(s, "the HSK/CEK %s served", url);
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
