/* SPDX-License-Identifier: Apache-2.0 */
/* Secrets in freed memory: a KMS request holds its payload (a plaintext, a data key). The blocks
 * freed while ccz_kms_call runs are searched for it (freed.h; skipped under AddressSanitizer,
 * which owns free). */
#include <jansson.h>

#include "ccz/ccz.h"
#include "freed.h"
#include "svc/kms/internal.h"
#include "test.h"

/* A request holds its payload (a plaintext, a data key): each copy the client makes of it, the
 * canonical string it signs and the JSON text it sends, is wiped before it is freed, also when
 * the call ends before it connects (here: no trust anchors for the KMS's certificate). */
static void test_request_freed_wiped(void)
{
#if !FREED_SUPPORTED
    test_skip(true, "AddressSanitizer owns free");
#else
    static const char appid[] = "0d5fb6c9-0f2c-4ce5-9e5a-4f3e2cb0e6a1";
    static const char apikey[] = "44RPFy3SEqLbAahaP9PXSGQ6ABB6gctr";
    static const char secret[] = "c2VjcmV0IG1vZGVsIGtleSAwMTIzNDU2Nzg5";
    json_t *payload = json_pack("{s:s,s:s}", "keyid", "k", "plaintext", secret);
    CHECK(payload != NULL);
    ccz_kms_opts o = CCZ_KMS_OPTS_INIT;
    o.url = "https://127.0.0.1:9/ehsm";
    ccz_json *r = NULL;
    freed_start();
    ccz_status s = ccz_kms_call(&r, &o, appid, apikey, "Encrypt", payload);
    size_t blocks = freed_stop();
    CHECK_STATUS(s, CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "give trust anchors for its RA-TLS evidence");
    CHECK(r == NULL);
    CHECK(blocks > 0 && blocks < FREED_MAX);
    CHECK_INT(freed_find(secret, sizeof secret - 1), 0);
    json_decref(payload);
#endif
}

TEST_MAIN(T(test_request_freed_wiped))
