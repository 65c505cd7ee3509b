/* SPDX-License-Identifier: Apache-2.0 */
/* Private to libccz: guards for library calls that do not return a ccz_status. The public
 * CCZ_GUARD, CCZ_GUARD_GOTO and CCZ_ENSURE stay in ccz/core.h because the ccz command uses
 * them; these are for src/ only. */
#ifndef CCZ_CORE_GUARD_H
#define CCZ_CORE_GUARD_H

#include "ccz/core.h"

/* OpenSSL's "1 is success" calls: anything else fails with `code`, the detail formatted from
 * the remaining arguments and OpenSSL's most recent error (ccz_fail_ossl). */
#define CCZ_GUARD_OSSL(expr, code, ...)                 \
    do {                                                \
        if ((expr) != 1)                                \
            return ccz_fail_ossl((code), __VA_ARGS__);  \
    } while (0)

/* The same, storing the status in st and jumping to label (for paths with cleanup). */
#define CCZ_GUARD_OSSL_GOTO(expr, st, label, code, ...)  \
    do {                                                 \
        if ((expr) != 1) {                               \
            (st) = ccz_fail_ossl((code), __VA_ARGS__);   \
            goto label;                                  \
        }                                                \
    } while (0)

#endif
