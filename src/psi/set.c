/* SPDX-License-Identifier: Apache-2.0 */
/* A set of byte strings for PSI: one arena of item bytes and an index of (offset, length),
 * sorted bytewise and deduplicated when sealed. Items are the caller's own data (trusted as
 * bytes, bounded in length). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/guard.h"
#include "ccz/psi.h"

typedef struct {
    uint64_t off;
    uint32_t len;
} item_ref;

struct ccz_psi_set {
    ccz_buf bytes; /* the items, back to back */
    item_ref *refs;
    size_t n, cap;
    bool sealed;
};

ccz_status ccz_psi_set_new(ccz_psi_set **out)
{
    *out = calloc(1, sizeof **out);
    CCZ_ENSURE(*out, CCZ_ERR_NOMEM, "out of memory");
    ccz_buf_init(&(*out)->bytes, 0, false);
    return CCZ_OK;
}

void ccz_psi_set_free(ccz_psi_set *s)
{
    if (!s)
        return;
    ccz_buf_free(&s->bytes);
    free(s->refs);
    free(s);
}

ccz_status ccz_psi_set_add(ccz_psi_set *s, ccz_span item)
{
    CCZ_ENSURE(!s->sealed, CCZ_ERR_INVALID_ARGUMENT, "psi set: sealed, it takes no more items");
    CCZ_ENSURE(item.len <= CCZ_PSI_SET_ITEM_MAX, CCZ_ERR_TOO_LARGE,
               "psi set: an item of %zu bytes (at most %u)", item.len, CCZ_PSI_SET_ITEM_MAX);
    CCZ_ENSURE(s->n < CCZ_PSI_ECDH_MAX_ITEMS, CCZ_ERR_TOO_LARGE, "psi set: more than %llu items",
               (unsigned long long)CCZ_PSI_ECDH_MAX_ITEMS);
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 1024;
        item_ref *r = realloc(s->refs, cap * sizeof *r);
        CCZ_ENSURE(r, CCZ_ERR_NOMEM, "out of memory");
        s->refs = r;
        s->cap = cap;
    }
    s->refs[s->n] = (item_ref){s->bytes.len, (uint32_t)item.len};
    if (item.len)
        CCZ_GUARD(ccz_buf_append(&s->bytes, item.ptr, item.len));
    s->n++;
    return CCZ_OK;
}

/* One line without its "\n": drop a trailing "\r", skip it when empty. */
static ccz_status add_line(ccz_psi_set *s, const uint8_t *p, size_t n)
{
    if (n && p[n - 1] == '\r')
        n--;
    return n ? ccz_psi_set_add(s, CCZ_SPAN(p, n)) : CCZ_OK;
}

ccz_status ccz_psi_set_add_lines(ccz_psi_set *s, ccz_span text)
{
    size_t at = 0;
    while (at < text.len) {
        const uint8_t *nl = memchr(text.ptr + at, '\n', text.len - at);
        size_t n = nl ? (size_t)(nl - (text.ptr + at)) : text.len - at;
        CCZ_GUARD(add_line(s, text.ptr + at, n));
        at += n + 1;
    }
    return CCZ_OK;
}

ccz_status ccz_psi_set_add_file(ccz_psi_set *s, const char *path)
{
    FILE *f = fopen(path, "rb");
    CCZ_ENSURE(f, errno == ENOENT ? CCZ_ERR_NOT_FOUND : CCZ_ERR_IO, "cannot open %s: %s", path,
               strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    ccz_status st = CCZ_OK;
    size_t no = 0;
    while (st == CCZ_OK && (n = getline(&line, &cap, f)) >= 0) {
        no++;
        if (n && line[n - 1] == '\n')
            n--;
        if ((st = add_line(s, (const uint8_t *)line, (size_t)n)) != CCZ_OK)
            st = ccz_fail_context(st, "%s line %zu", path, no);
    }
    if (st == CCZ_OK && ferror(f))
        st = ccz_fail(CCZ_ERR_IO, "cannot read %s: %s", path, strerror(errno));
    free(line);
    fclose(f);
    return st;
}

static int cmp_refs(const void *a, const void *b, void *arg)
{
    const item_ref *x = a, *y = b;
    const uint8_t *base = arg;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = n ? memcmp(base + x->off, base + y->off, n) : 0;
    if (c)
        return c;
    return (x->len > y->len) - (x->len < y->len);
}

ccz_status ccz_psi_set_seal(ccz_psi_set *s)
{
    if (s->sealed)
        return CCZ_OK;
    if (s->n > 1)
        qsort_r(s->refs, s->n, sizeof *s->refs, cmp_refs, s->bytes.ptr);
    size_t w = 0;
    for (size_t i = 0; i < s->n; i++)
        if (w == 0 || cmp_refs(&s->refs[w - 1], &s->refs[i], s->bytes.ptr) != 0)
            s->refs[w++] = s->refs[i];
    s->n = w;
    s->sealed = true;
    return CCZ_OK;
}

size_t ccz_psi_set_size(const ccz_psi_set *s)
{
    return s->n;
}

ccz_span ccz_psi_set_item(const ccz_psi_set *s, size_t i)
{
    if (!s->sealed || i >= s->n || !s->bytes.ptr)
        return CCZ_SPAN("", 0);
    return CCZ_SPAN(s->bytes.ptr + s->refs[i].off, s->refs[i].len);
}
