/* SPDX-License-Identifier: Apache-2.0 */
/* free, defined by the test program, keeping copies of what is freed while armed (freed.h). */
#include "freed.h"

#include <malloc.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#if FREED_SUPPORTED
extern void *__libc_malloc(size_t n);
extern void __libc_free(void *p);

static bool armed;
static struct {
    uint8_t *copy;
    size_t len;
} kept[FREED_MAX];
static size_t n_kept;

void free(void *p)
{
    if (p && armed && n_kept < FREED_MAX) {
        size_t len = malloc_usable_size(p);
        uint8_t *copy = __libc_malloc(len ? len : 1);
        if (copy) {
            memcpy(copy, p, len);
            kept[n_kept].copy = copy;
            kept[n_kept++].len = len;
        }
    }
    __libc_free(p);
}

static void drop(void)
{
    for (size_t b = 0; b < n_kept; b++)
        __libc_free(kept[b].copy);
    n_kept = 0;
}

void freed_start(void)
{
    armed = false;
    drop();
    armed = true;
}

size_t freed_stop(void)
{
    armed = false;
    return n_kept;
}

size_t freed_find(const void *needle, size_t len)
{
    size_t found = 0;
    for (size_t b = 0; b < n_kept; b++)
        if (kept[b].len >= len && memmem(kept[b].copy, kept[b].len, needle, len))
            found++;
    return found;
}
#else
void freed_start(void) {}

size_t freed_stop(void)
{
    return 0;
}

size_t freed_find(const void *needle, size_t len)
{
    (void)needle;
    (void)len;
    return 0;
}
#endif
