/* SPDX-License-Identifier: Apache-2.0 */
/* Status codes: names and messages from CCZ_STATUS_LIST, and the per-thread failure detail.
 * The detail is output for people; no code path reads it to decide anything. */
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

#include "ccz/core.h"

static _Thread_local char detail[1024];

const char *ccz_strerror(ccz_status s)
{
    switch (s) {
#define CCZ_X_MSG(sym, val, name, msg, cls)                                                        \
    case sym:                                                                                      \
        return msg;
        CCZ_STATUS_LIST(CCZ_X_MSG)
#undef CCZ_X_MSG
    }
    return "unknown status";
}

const char *ccz_status_name(ccz_status s)
{
    switch (s) {
#define CCZ_X_NAME(sym, val, name, msg, cls)                                                       \
    case sym:                                                                                      \
        return name;
        CCZ_STATUS_LIST(CCZ_X_NAME)
#undef CCZ_X_NAME
    }
    return "unknown";
}

ccz_class ccz_status_class(ccz_status s)
{
    switch (s) {
#define CCZ_X_CLASS(sym, val, name, msg, cls)                                                      \
    case sym:                                                                                      \
        return CCZ_CLASS_##cls;
        CCZ_STATUS_LIST(CCZ_X_CLASS)
#undef CCZ_X_CLASS
    }
    return CCZ_CLASS_INTERNAL;
}

const char *ccz_class_name(ccz_class c)
{
    static const char *const names[] = {"ok", "usage", "input", "verification", "io", "internal"};
    return (unsigned)c < CCZ_ARRAY_LEN(names) ? names[c] : "internal";
}

const char *ccz_error_detail(void)
{
    return detail;
}

void ccz_error_clear(void)
{
    detail[0] = '\0';
}

ccz_status ccz_fail(ccz_status s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    return s;
}

ccz_status ccz_fail_ossl(ccz_status s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    unsigned long e = ERR_peek_last_error();
    if (e && n >= 0 && (size_t)n < sizeof detail - 3) {
        char ossl[256];
        ERR_error_string_n(e, ossl, sizeof ossl);
        snprintf(detail + n, sizeof detail - (size_t)n, " (%s)", ossl);
    }
    ERR_clear_error();
    return s;
}

ccz_status ccz_fail_context(ccz_status s, const char *fmt, ...)
{
    char inner[sizeof detail];
    memcpy(inner, detail, sizeof inner);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < sizeof detail && inner[0]) {
        /* ": inner", cut to what is left */
        size_t len = (size_t)n;
        static const char sep[] = ": ";
        for (size_t i = 0; sep[i] && len + 1 < sizeof detail; i++)
            detail[len++] = sep[i];
        for (size_t i = 0; inner[i] && len + 1 < sizeof detail; i++)
            detail[len++] = inner[i];
        detail[len] = '\0';
    }
    return s;
}
