/* SPDX-License-Identifier: Apache-2.0 */
/* HTTP GET for collateral services (Intel PCS/PCCS, AMD KDS) on libcurl: size-capped bodies,
 * one wanted header captured, redirects limited, http and https only. Responses are untrusted;
 * callers parse them. */
#include <ctype.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "core/guard.h"
#include "internal.h"

#define RESPONSE_MAX (2u << 20)
#define HEADER_MAX (64u << 10)

static size_t on_body(char *p, size_t size, size_t n, void *userdata)
{
    tee_http_response *r = userdata;
    if (ccz_buf_append(&r->body, p, size * n) != CCZ_OK) {
        r->overflow = true;
        return 0;
    }
    return size * n;
}

static size_t on_header(char *p, size_t size, size_t n, void *userdata)
{
    tee_http_response *r = userdata;
    size_t len = size * n;
    /* a status line starts the headers of another response (after a redirect): only the last
     * response's header goes with its body */
    if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) {
        ccz_buf_reset(&r->header);
        return len;
    }
    for (const char *const *name = r->names; name && *name && r->header.len == 0; name++) {
        size_t k = strlen(*name);
        if (len > k + 1 && strncasecmp(p, *name, k) == 0 && p[k] == ':') {
            size_t a = k + 1, b = len;
            while (a < b && isspace((unsigned char)p[a]))
                a++;
            while (b > a && isspace((unsigned char)p[b - 1]))
                b--;
            if (ccz_buf_append(&r->header, p + a, b - a) != CCZ_OK)
                r->overflow = true;
        }
    }
    return len;
}

ccz_status tee_url_base_check(const char *url, const char *what)
{
    size_t n = strlen(url);
    CCZ_ENSURE(n <= TEE_URL_BASE_MAX, CCZ_ERR_INVALID_ARGUMENT, "%s is %zu characters; at most %d",
               what, n, TEE_URL_BASE_MAX);
    return CCZ_OK;
}

static int64_t mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

tee_http_opts tee_http_fetch_opts(const char *ca_file, bool insecure, long timeout_seconds)
{
    return (tee_http_opts){ca_file, insecure, timeout_seconds,
                           mono_ms() + 1000 * (timeout_seconds > 0 ? timeout_seconds : 60L)};
}

ccz_status tee_http_get(tee_http_response *r, const char *url, const tee_http_opts *o)
{
    long timeout_ms = 1000 * (o->timeout_seconds > 0 ? o->timeout_seconds : 60L);
    if (o->deadline_ms) {
        int64_t left = o->deadline_ms - mono_ms();
        CCZ_ENSURE(left > 0, CCZ_ERR_NETWORK,
                   "GET %s: not sent: the fetch's %ld s (its timeout, for all its requests) "
                   "has run out",
                   url, timeout_ms / 1000);
        if (left < timeout_ms)
            timeout_ms = (long)left;
    }
    CURL *curl = curl_easy_init();
    CCZ_ENSURE(curl, CCZ_ERR_NOMEM, "cannot start libcurl");
    char err[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, err);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 3L);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    /* a redirect never takes an https request to http (the answer would be in the clear) */
    curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR,
                     strncmp(url, "https://", 8) == 0 ? "https" : "http,https");
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    if (o->ca_file)
        curl_easy_setopt(curl, CURLOPT_CAINFO, o->ca_file);
    if (o->insecure) {
        curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    CURLcode rc = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(curl);
    if (r->overflow)
        return ccz_fail(CCZ_ERR_TOO_LARGE, "GET %s: response larger than the limit", url);
    if (rc != CURLE_OK)
        return ccz_fail(CCZ_ERR_NETWORK, "GET %s: %s", url, err[0] ? err : curl_easy_strerror(rc));
    if (status < 200 || status > 299)
        return ccz_fail(status == 404 ? CCZ_ERR_NOT_FOUND : CCZ_ERR_NETWORK,
                        "GET %s: HTTP status %ld", url, status);
    return CCZ_OK;
}

void tee_http_response_init(tee_http_response *r, const char *const *names)
{
    ccz_buf_init(&r->body, RESPONSE_MAX, false);
    ccz_buf_init(&r->header, HEADER_MAX, false);
    r->names = names;
    r->overflow = false;
}

void tee_http_response_free(tee_http_response *r)
{
    ccz_buf_free(&r->body);
    ccz_buf_free(&r->header);
}
