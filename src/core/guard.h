/* SPDX-License-Identifier: Apache-2.0 */
/* Private to libccz (and the ccz command, which builds with src/ on its include path): the
 * guards. They are not part of the public API: a program using libccz checks statuses its own
 * way. */
#ifndef CCZ_CORE_GUARD_H
#define CCZ_CORE_GUARD_H

#include <string.h>

#include "ccz/core.h"

/* A function reads as its happy path and every failure carries its code. */
#define CCZ_GUARD(expr)                                                                            \
    do {                                                                                           \
        ccz_status ccz_guard_s_ = (expr);                                                          \
        if (ccz_guard_s_ != CCZ_OK)                                                                \
            return ccz_guard_s_;                                                                   \
    } while (0)
#define CCZ_GUARD_GOTO(expr, st, label)                                                            \
    do {                                                                                           \
        (st) = (expr);                                                                             \
        if ((st) != CCZ_OK)                                                                        \
            goto label;                                                                            \
    } while (0)
#define CCZ_ENSURE(cond, code, ...)                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            return ccz_fail((code), __VA_ARGS__);                                                  \
    } while (0)

/* OpenSSL's "1 is success" calls: anything else fails with `code`, the detail formatted from
 * the remaining arguments and OpenSSL's most recent error (ccz_fail_ossl). */
#define CCZ_GUARD_OSSL(expr, code, ...)                                                            \
    do {                                                                                           \
        if ((expr) != 1)                                                                           \
            return ccz_fail_ossl((code), __VA_ARGS__);                                             \
    } while (0)

/* The same, storing the status in st and jumping to label (for paths with cleanup). */
#define CCZ_GUARD_OSSL_GOTO(expr, st, label, code, ...)                                            \
    do {                                                                                           \
        if ((expr) != 1) {                                                                         \
            (st) = ccz_fail_ossl((code), __VA_ARGS__);                                             \
            goto label;                                                                            \
        }                                                                                          \
    } while (0)

/* jansson's error text (json_error_t.text) ends in " near '...'" quoting up to 20 bytes of the
 * token it stopped at: the digits of a key, a password, a plaintext. Cut there (" near end of
 * file" stays), so the error names the line and the reason, never the text. */
static inline const char *ccz_json_error_unquoted(char *text)
{
    char *quote = strstr(text, " near '");
    if (quote)
        *quote = 0;
    return text;
}

#endif
