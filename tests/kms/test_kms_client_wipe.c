/* SPDX-License-Identifier: Apache-2.0 */
/* Secrets in freed memory: a KMS request holds its payload (a plaintext, a data key). The blocks
 * freed while ccz_kms_call runs are searched for it (freed.h; skipped under AddressSanitizer,
 * which owns free); so are those a loaded key frees. */
#include <jansson.h>
#include <stdint.h>
#include <string.h>

#include "ccz/ccz.h"
#include "freed.h"
#include "svc/kms/crypto.h"
#include "svc/kms/internal.h"
#include "test.h"
#include "tls_fake.h"

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

/* A loaded symmetric key's copy of its material is wiped when the key is freed (a key cache
 * entry dropped, a key deleted). */
static void test_key_free_wiped(void)
{
#if !FREED_SUPPORTED
    test_skip(true, "AddressSanitizer owns free");
#else
    uint8_t raw[32];
    for (size_t i = 0; i < sizeof raw; i++)
        raw[i] = (uint8_t)(0xA5 ^ (i * 29));
    kms_key *k = NULL;
    CHECK_OK(kms_key_load(&k, KMS_AES_GCM_256, CCZ_SPAN(raw, sizeof raw)));
    CHECK(k != NULL);
    freed_start();
    kms_key_free(k);
    size_t blocks = freed_stop();
    CHECK(blocks > 0 && blocks < FREED_MAX);
    CHECK_INT(freed_find(raw, sizeof raw), 0);
#endif
}

#if FREED_SUPPORTED
/* Whether the stack below the caller's frame, where the calls it just made kept their locals,
 * still holds needle: a frame as deep as theirs, its bytes left as they were (the empty asm
 * stands for a write the compiler cannot see). Not under AddressSanitizer, whose fake stacks
 * put locals elsewhere. */
static __attribute__((noinline)) bool stack_holds(const void *needle, size_t len)
{
    uint8_t probe[256 * 1024];
    __asm__ volatile("" : : "r"(probe) : "memory");
    return memmem(probe, sizeof probe, needle, len) != NULL;
}

/* Clears that stack: each case below finds only what its own call left. */
static __attribute__((noinline)) void stack_clear(void)
{
    uint8_t probe[256 * 1024];
    ccz_wipe(probe, sizeof probe);
    __asm__ volatile("" : : "r"(probe) : "memory");
}
#endif

/* The admin token rides in the Enroll request's head, built on the client's stack: wiped when
 * the call is over, whether it reached the KMS or ended before connecting (no trust anchors) or
 * on a token too long for the header. */
static void test_enroll_token_stack_wiped(void)
{
#if !FREED_SUPPORTED
    test_skip(true, "AddressSanitizer owns the stack");
#else
    static const char token[] = "adm1n-T0ken-9f3c2e81d7b64a05bb";
    tls_fake f = {.mode = TLS_FAKE_ANSWER,
                  .request_whole = tls_fake_http_whole,
                  .answer = "HTTP/1.1 401 Unauthorized\r\nContent-Length: 54\r\n\r\n"
                            "{\"code\":401,\"message\":\"bad admin token\",\"result\":{}}\r\n"};
    tls_fake_start(&f);
    char url[96];
    snprintf(url, sizeof url, "https://%s/ehsm", f.addr);
    ccz_kms_opts o = CCZ_KMS_OPTS_INIT;
    o.url = url;
    o.ca_file = tls_certs_get()->ca_file;
    o.timeout_ms = 5000;
    o.admin_token = token;
    char id[37] = "", key[33] = "";
    stack_clear();
    CHECK_STATUS(ccz_kms_enroll(id, key, &o), CCZ_ERR_POLICY_REJECTED);
    CHECK(!stack_holds(token, sizeof token - 1));
    tls_fake_stop(&f);
    CHECK_CONTAINS(f.request, token); /* it was sent */

    /* no trust anchors: the call ends before it connects */
    o = (ccz_kms_opts)CCZ_KMS_OPTS_INIT;
    o.url = "https://127.0.0.1:9/ehsm";
    o.admin_token = token;
    stack_clear();
    CHECK_STATUS(ccz_kms_enroll(id, key, &o), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "give trust anchors for its RA-TLS evidence");
    CHECK(!stack_holds(token, sizeof token - 1));

    /* a token too long for the header: refused, what was copied of it wiped */
    char longtok[700];
    memset(longtok, 'Q', sizeof longtok - 1);
    memcpy(longtok, token, sizeof token - 1);
    longtok[sizeof longtok - 1] = 0;
    o.admin_token = longtok;
    stack_clear();
    CHECK_STATUS(ccz_kms_enroll(id, key, &o), CCZ_ERR_TOO_LARGE);
    CHECK_CONTAINS(ccz_error_detail(), "the admin token is too long");
    ccz_wipe(longtok, sizeof longtok);
    CHECK(!stack_holds(token, sizeof token - 1));
#endif
}

TEST_MAIN(T(test_request_freed_wiped), T(test_enroll_token_stack_wiped), T(test_key_free_wiped))
