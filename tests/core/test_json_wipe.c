/* SPDX-License-Identifier: Apache-2.0 */
/* Secrets in freed memory, JSON: every block jansson frees is wiped (src/core/json.c sets its
 * allocator). Its parser keeps each token's raw text in a buffer of its own, which it frees as it
 * stands: a secret written last in a document is still there but for the first byte, which the
 * closing brace overwrote. The
 * blocks freed while a document is parsed, dumped and freed are searched for the secret
 * (freed.h; skipped under AddressSanitizer). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "freed.h"
#include "test.h"

static const char secret[] = "the-last-token-is-a-secret";

/* {"aad": "xxx…", "plaintext": SECRET}: the secret is the document's last string */
static size_t secret_last(char *doc, size_t cap)
{
    char pad[301];
    memset(pad, 'x', sizeof pad - 1);
    pad[sizeof pad - 1] = 0;
    return (size_t)snprintf(doc, cap, "{\"aad\": \"%s\", \"plaintext\": \"%s\"}", pad, secret);
}

static void test_parse_freed_wiped(void)
{
    if (!FREED_SUPPORTED)
        test_skip(true, "AddressSanitizer owns free");
    char doc[512];
    size_t len = secret_last(doc, sizeof doc);
    ccz_json *j;
    freed_start();
    CHECK_OK(ccz_json_parse(&j, doc, len, 0));
    CHECK_STR(json_string_value(json_object_get(j, "plaintext")), secret);
    ccz_json_free_wiped(j);
    size_t blocks = freed_stop();
    CHECK(blocks > 0 && blocks < FREED_MAX);
    CHECK_INT(freed_find(secret + 1, sizeof secret - 2), 0); /* the brace took its first byte */
    ccz_wipe(doc, sizeof doc);
}

/* plain json_decref, json_loadb and a dump wipe too: every free is jansson's allocator's */
static void test_any_free_wiped(void)
{
    if (!FREED_SUPPORTED)
        test_skip(true, "AddressSanitizer owns free");
    char doc[512];
    size_t len = secret_last(doc, sizeof doc);
    freed_start();
    json_t *j = json_loadb(doc, len, 0, NULL);
    CHECK(j != NULL);
    char *text = json_dumps(j, JSON_COMPACT);
    CHECK(text != NULL && strstr(text, secret) != NULL);
    ccz_wipe(text, strlen(text));
    free(text);
    json_decref(j);
    size_t blocks = freed_stop();
    CHECK(blocks > 1 && blocks < FREED_MAX);
    CHECK_INT(freed_find(secret, sizeof secret - 1), 0);
    ccz_wipe(doc, sizeof doc);
}

/* a program that gives jansson an allocator of its own after ccz did: ccz_json_free_wiped still
 * wipes the strings (the parser's buffer is then the program's business) */
static void test_free_wiped_own_allocator(void)
{
    if (!FREED_SUPPORTED)
        test_skip(true, "AddressSanitizer owns free");
    json_malloc_t ccz_malloc;
    json_free_t ccz_free;
    json_get_alloc_funcs(&ccz_malloc, &ccz_free);
    json_set_alloc_funcs(malloc, free);
    char doc[512];
    size_t len = secret_last(doc, sizeof doc);
    ccz_json *j;
    CHECK_OK(ccz_json_parse(&j, doc, len, 0));
    freed_start();
    ccz_json_free_wiped(j);
    size_t blocks = freed_stop();
    json_set_alloc_funcs(ccz_malloc, ccz_free);
    CHECK(blocks > 1 && blocks < FREED_MAX);
    CHECK_INT(freed_find(secret, sizeof secret - 1), 0);
    ccz_wipe(doc, sizeof doc);
}

/* likewise a secret in an array, and one in an object inside an array */
static void test_free_wiped_array(void)
{
    if (!FREED_SUPPORTED)
        test_skip(true, "AddressSanitizer owns free");
    json_malloc_t ccz_malloc;
    json_free_t ccz_free;
    json_get_alloc_funcs(&ccz_malloc, &ccz_free);
    json_set_alloc_funcs(malloc, free);
    char doc[512];
    size_t len = (size_t)snprintf(
        doc, sizeof doc, "{\"a\": [\"x\", \"%s\", {\"b\": \"%s!\"}], \"z\": 1}", secret, secret);
    ccz_json *j;
    CHECK_OK(ccz_json_parse(&j, doc, len, 0));
    freed_start();
    ccz_json_free_wiped(j);
    size_t blocks = freed_stop();
    json_set_alloc_funcs(ccz_malloc, ccz_free);
    CHECK(blocks > 1 && blocks < FREED_MAX);
    CHECK_INT(freed_find(secret, sizeof secret - 1), 0);
    ccz_wipe(doc, sizeof doc);
}

TEST_MAIN(T(test_parse_freed_wiped), T(test_any_free_wiped), T(test_free_wiped_own_allocator),
          T(test_free_wiped_array))
