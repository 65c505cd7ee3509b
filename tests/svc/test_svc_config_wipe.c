/* SPDX-License-Identifier: Apache-2.0 */
/* Secrets in freed memory, the services' configuration file: it may hold --db's URI with its
 * password. The blocks freed while the file is read and taken are searched for the password
 * (freed.h; skipped under AddressSanitizer, which owns free). */
#include <stdio.h>
#include <string.h>

#include "ccz/ccz.h"
#include "ccz/svc.h"
#include "freed.h"
#include "test.h"

/* The file's text is wiped before it is freed, also when the file is refused; the values taken
 * from it are jansson's, wiped as jansson frees them. */
static void test_config_file_freed_wiped(void)
{
#if !FREED_SUPPORTED
    test_skip(true, "AddressSanitizer owns free");
#else
    static const char password[] = "kms-db-password-6f1d3a9b";
    /* each document: its text before the password and after it */
    static const char *const docs[][2] = {
        {"{\"listen\": \"127.0.0.1:8443\", \"db\": \"postgres://kms:", "@db.internal/kms\"}"},
        /* refused after the parse: no such option */
        {"{\"db\": \"postgres://kms:", "@db.internal/kms\", \"no-such\": 1}"},
    };
    for (size_t i = 0; i < sizeof docs / sizeof *docs; i++) {
        char path[512], text[256];
        snprintf(path, sizeof path, "%s/kms-%zu.json", test_tmpdir(), i);
        snprintf(text, sizeof text, "%s%s%s", docs[i][0], password, docs[i][1]);
        FILE *f = fopen(path, "w");
        CHECK(f != NULL);
        if (!f)
            return;
        fputs(text, f);
        fclose(f);
        ccz_wipe(text, sizeof text);
        ccz_svc_config *c = NULL;
        CHECK_OK(ccz_svc_config_new(&c, "kms"));
        freed_start();
        ccz_status s = ccz_svc_config_load_file(c, path);
        size_t blocks = freed_stop();
        CHECK_STATUS(s, i == 0 ? CCZ_OK : CCZ_ERR_INVALID_ARGUMENT);
        CHECK(blocks > 0 && blocks < FREED_MAX);
        CHECK_INT(freed_find(password, sizeof password - 1), 0);
        ccz_svc_config_free(c);
    }
#endif
}

TEST_MAIN(T(test_config_file_freed_wiped))
