/* SPDX-License-Identifier: Apache-2.0 */
/* Secrets in freed memory, buffers: a secret buffer wipes the block it leaves when it grows and
 * the block it frees; a plain one does neither, which is what the search finds without the
 * wipe. The blocks freed are searched for the secret (freed.h; skipped under AddressSanitizer). */
#include <stdbool.h>

#include "freed.h"
#include "test.h"

static const char key[] = "secret-key-material-0123456789";

/* How many blocks freed by growing, then by freeing, a buffer holding the key still hold it. */
static void grow_and_free(bool secret, size_t *after_growth, size_t *after_free)
{
    ccz_buf b;
    ccz_buf_init(&b, 0, secret);
    CHECK_OK(ccz_buf_append(&b, key, sizeof key - 1));
    uint8_t *first = b.ptr;
    freed_start();
    CHECK_OK(ccz_buf_reserve(&b, 4096)); /* beyond the first block: the key moves */
    CHECK(b.ptr != first);
    CHECK(freed_stop() >= 1);
    *after_growth = freed_find(key, sizeof key - 1);
    freed_start();
    ccz_buf_free(&b);
    CHECK(freed_stop() >= 1);
    *after_free = freed_find(key, sizeof key - 1);
}

static void test_secret_growth_and_free_wiped(void)
{
    if (!FREED_SUPPORTED)
        test_skip(true, "AddressSanitizer owns free");
    size_t grown, freed;
    grow_and_free(false, &grown, &freed); /* the search sees a key left as it stands */
    CHECK_INT(grown, 1);
    CHECK_INT(freed, 1);
    grow_and_free(true, &grown, &freed);
    CHECK_INT(grown, 0);
    CHECK_INT(freed, 0);
}

/* A secret buffer cut short by its len (as parsers do) still held the key past len: growing it
 * wipes the whole block it leaves, not only the bytes in use */
static void test_secret_truncated_growth_wiped(void)
{
    if (!FREED_SUPPORTED)
        test_skip(true, "AddressSanitizer owns free");
    ccz_buf b;
    ccz_buf_init(&b, 0, true);
    CHECK_OK(ccz_buf_append(&b, key, sizeof key - 1));
    b.len = 1;
    uint8_t *first = b.ptr;
    freed_start();
    CHECK_OK(ccz_buf_reserve(&b, 4096));
    CHECK(b.ptr != first);
    CHECK(freed_stop() >= 1);
    CHECK_INT(freed_find(key + 1, sizeof key - 2), 0);
    CHECK_INT(b.len, 1);
    CHECK(b.ptr[0] == (uint8_t)key[0]);
    ccz_buf_free(&b);
}

TEST_MAIN(T(test_secret_growth_and_free_wiped), T(test_secret_truncated_growth_wiped))
