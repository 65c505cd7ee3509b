/* SPDX-License-Identifier: Apache-2.0 */
/* Status codes: one list gives unique values, names and messages; details carry context. */
#include <ctype.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include "test.h"

static void test_list_is_consistent(void)
{
    static const struct {
        ccz_status s;
        const char *name;
    } all[] = {
#define X(sym, val, name, msg, cls) {sym, name},
        CCZ_STATUS_LIST(X)
#undef X
    };
    size_t n = sizeof all / sizeof all[0];
    for (size_t i = 0; i < n; i++) {
        CHECK_INT(all[i].s, -(long long)i); /* appended in order, never renumbered */
        CHECK_STR(ccz_status_name(all[i].s), all[i].name);
        CHECK(ccz_strerror(all[i].s)[0] != '\0');
        for (const char *p = all[i].name; *p; p++)
            CHECK(islower((unsigned char)*p) || *p == '_');
        for (size_t j = 0; j < i; j++)
            CHECK(strcmp(all[i].name, all[j].name) != 0);
    }
    CHECK_STR(ccz_status_name((ccz_status)-9999), "unknown");
    CHECK_STR(ccz_strerror((ccz_status)-9999), "unknown status");
    /* stable names other tools rely on */
    CHECK_STR(ccz_status_name(CCZ_ERR_BAD_SIGNATURE), "signature_invalid");
    CHECK_STR(ccz_status_name(CCZ_ERR_REPORT_DATA_MISMATCH), "report_data_mismatch");
}

static void test_detail(void)
{
    ccz_error_clear();
    CHECK_STR(ccz_error_detail(), "");
    CHECK_STATUS(ccz_fail(CCZ_ERR_MALFORMED, "field %s is %d", "x", 3), CCZ_ERR_MALFORMED);
    CHECK_STR(ccz_error_detail(), "field x is 3");
    CHECK_STATUS(ccz_fail_context(CCZ_ERR_MALFORMED, "file %s", "a.json"), CCZ_ERR_MALFORMED);
    CHECK_STR(ccz_error_detail(), "file a.json: field x is 3");
    ccz_error_clear();
    CHECK_STATUS(ccz_fail_context(CCZ_ERR_IO, "ctx"), CCZ_ERR_IO);
    CHECK_STR(ccz_error_detail(), "ctx");
    /* a context over a detail that fills the buffer: cut to 1023 characters, the context first */
    char long_inner[1100];
    memset(long_inner, 'i', sizeof long_inner - 1);
    long_inner[sizeof long_inner - 1] = '\0';
    (void)ccz_fail(CCZ_ERR_MALFORMED, "%s", long_inner);
    CHECK_INT(strlen(ccz_error_detail()), 1023);
    CHECK_STATUS(ccz_fail_context(CCZ_ERR_IO, "outer"), CCZ_ERR_IO);
    CHECK_INT(strlen(ccz_error_detail()), 1023);
    CHECK(strncmp(ccz_error_detail(), "outer: iii", 10) == 0);

    /* the context ends where it ends: nothing of an older, longer detail shows behind it */
    (void)ccz_fail(CCZ_ERR_MALFORMED, "%s", long_inner);
    (void)ccz_fail(CCZ_ERR_MALFORMED, "inner");
    CHECK_STATUS(ccz_fail_context(CCZ_ERR_IO, "ctx"), CCZ_ERR_IO);
    CHECK_STR(ccz_error_detail(), "ctx: inner");
    /* a context of 1022 characters: room for the ':' of the separator and nothing more */
    char ctx[1023];
    memset(ctx, 'c', sizeof ctx - 1);
    ctx[sizeof ctx - 1] = '\0';
    (void)ccz_fail(CCZ_ERR_MALFORMED, "inner");
    CHECK_STATUS(ccz_fail_context(CCZ_ERR_IO, "%s", ctx), CCZ_ERR_IO);
    CHECK_INT(strlen(ccz_error_detail()), 1023);
    CHECK(strncmp(ccz_error_detail(), ctx, 1022) == 0 && ccz_error_detail()[1022] == ':');
    /* a context longer than the buffer: cut to 1023 characters, the inner detail dropped */
    (void)ccz_fail(CCZ_ERR_MALFORMED, "inner");
    CHECK_STATUS(ccz_fail_context(CCZ_ERR_IO, "%s%s", ctx, ctx), CCZ_ERR_IO);
    CHECK_INT(strlen(ccz_error_detail()), 1023);
    CHECK(strchr(ccz_error_detail(), ':') == NULL);
}

/* ccz_fail_ossl: OpenSSL's last error appended in parentheses, and the queue emptied, so that a
 * later failure does not carry this one's reason */
static void test_detail_ossl(void)
{
    static const unsigned char junk[] = {0x30, 0x03, 0x02, 0x01};
    const unsigned char *p = junk;
    ERR_clear_error();
    CHECK(d2i_X509(NULL, &p, sizeof junk) == NULL);
    CHECK(ERR_peek_last_error() != 0);
    CHECK_STATUS(ccz_fail_ossl(CCZ_ERR_MALFORMED, "reading %s", "cert.der"), CCZ_ERR_MALFORMED);
    CHECK(strncmp(ccz_error_detail(), "reading cert.der (error:", 24) == 0);
    CHECK_INT(ERR_peek_last_error(), 0);
    /* OpenSSL's reason only where " (" and a byte of it fit: a detail of 1021 characters is
     * left as it is, one of 1020 gets the start of the reason, cut to the buffer */
    char msg[1022];
    memset(msg, 'm', sizeof msg - 1);
    msg[sizeof msg - 1] = '\0';
    for (size_t len = 1021; len >= 1020; len--) {
        msg[len] = '\0';
        p = junk;
        CHECK(d2i_X509(NULL, &p, sizeof junk) == NULL);
        CHECK_STATUS(ccz_fail_ossl(CCZ_ERR_MALFORMED, "%s", msg), CCZ_ERR_MALFORMED);
        CHECK_INT(strlen(ccz_error_detail()), len == 1021 ? 1021 : 1023);
        CHECK(strncmp(ccz_error_detail(), msg, len) == 0);
        if (len == 1020)
            CHECK_STR(ccz_error_detail() + 1020, " (e");
        CHECK_INT(ERR_peek_last_error(), 0);
    }
    /* with nothing queued, the detail alone */
    CHECK_STATUS(ccz_fail_ossl(CCZ_ERR_IO, "no reason"), CCZ_ERR_IO);
    CHECK_STR(ccz_error_detail(), "no reason");
}

TEST_MAIN(T(test_list_is_consistent), T(test_detail), T(test_detail_ossl))
