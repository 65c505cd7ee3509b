/* SPDX-License-Identifier: Apache-2.0 */
/* Status classes (the fifth column of CCZ_STATUS_LIST) and the literal/array macros. */
#include <string.h>

#include "test.h"

static void test_every_status_has_a_class(void)
{
    static const struct {
        ccz_status s;
        ccz_class c;
    } all[] = {
#define X(sym, val, name, msg, cls) {sym, CCZ_CLASS_##cls},
        CCZ_STATUS_LIST(X)
#undef X
    };
    for (size_t i = 0; i < CCZ_ARRAY_LEN(all); i++) {
        CHECK_INT(ccz_status_class(all[i].s), all[i].c);
        CHECK(all[i].s == CCZ_OK ? all[i].c == CCZ_CLASS_OK : all[i].c != CCZ_CLASS_OK);
    }
    /* the classes the CLI's exit codes will follow (docs/cli.md: 1 rejects, 2 usage/input) */
    CHECK_INT(ccz_status_class(CCZ_OK), CCZ_CLASS_OK);
    CHECK_INT(ccz_status_class(CCZ_ERR_INVALID_ARGUMENT), CCZ_CLASS_USAGE);
    CHECK_INT(ccz_status_class(CCZ_ERR_TRUNCATED), CCZ_CLASS_INPUT);
    CHECK_INT(ccz_status_class(CCZ_ERR_JSON), CCZ_CLASS_INPUT);
    CHECK_INT(ccz_status_class(CCZ_ERR_BAD_SIGNATURE), CCZ_CLASS_VERIFICATION);
    CHECK_INT(ccz_status_class(CCZ_ERR_POLICY_REJECTED), CCZ_CLASS_VERIFICATION);
    CHECK_INT(ccz_status_class(CCZ_ERR_NOT_FOUND), CCZ_CLASS_IO);
    CHECK_INT(ccz_status_class(CCZ_ERR_NETWORK), CCZ_CLASS_IO);
    CHECK_INT(ccz_status_class(CCZ_ERR_NOMEM), CCZ_CLASS_INTERNAL);
    CHECK_INT(ccz_status_class((ccz_status)-9999), CCZ_CLASS_INTERNAL);
    CHECK_STR(ccz_class_name(CCZ_CLASS_OK), "ok");
    CHECK_STR(ccz_class_name(CCZ_CLASS_USAGE), "usage");
    CHECK_STR(ccz_class_name(CCZ_CLASS_INPUT), "input");
    CHECK_STR(ccz_class_name(CCZ_CLASS_VERIFICATION), "verification");
    CHECK_STR(ccz_class_name(CCZ_CLASS_IO), "io");
    CHECK_STR(ccz_class_name(CCZ_CLASS_INTERNAL), "internal");
    CHECK_STR(ccz_class_name((ccz_class)42), "internal");
    CHECK_STR(ccz_class_name((ccz_class)(CCZ_CLASS_INTERNAL + 1)), "internal"); /* one past */
}

static void test_lit_and_array_len(void)
{
    ccz_span s = CCZ_LIT("CCZS");
    CHECK_INT(s.len, 4);
    CHECK(memcmp(s.ptr, "CCZS", 4) == 0);
    CHECK_INT(CCZ_LIT("").len, 0);
    static const int a[7] = {0};
    CHECK_INT(CCZ_ARRAY_LEN(a), 7);
}

TEST_MAIN(T(test_every_status_has_a_class), T(test_lit_and_array_len))
