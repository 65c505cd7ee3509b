/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: arbitrary bytes opened as a protected file (src/pf) with a fixed key, every node
 * checked and the whole file read; a file that opens is then changed (a write past its end, a
 * truncation) in a copy, and the copy must reopen with exactly the expected contents. The key
 * exists only for this target and the seeds in fuzz/corpus/pf (valid files of both format
 * versions, made with it and bound to "/fuzz/seed"). */
#include <stdlib.h>
#include <string.h>

#include "ccz/pf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t key[CCZ_PF_KEY_SIZE] = "ccz-fuzz-pf-key";

/* a host file in memory, growable up to 1 MiB */
typedef struct {
    uint8_t *p;
    size_t len;
} mem;

static ccz_status mem_read(void *payload, uint64_t off, void *buf, size_t n)
{
    mem *m = payload;
    if (off > m->len || n > m->len - off)
        return ccz_fail(CCZ_ERR_TRUNCATED, "the file ends at byte %zu", m->len);
    memcpy(buf, m->p + off, n);
    return CCZ_OK;
}

static ccz_status mem_resize(mem *m, uint64_t size)
{
    if (size > (1u << 20))
        return ccz_fail(CCZ_ERR_TOO_LARGE, "fuzz host file limit");
    uint8_t *p = realloc(m->p, size ? size : 1);
    if (!p)
        return CCZ_ERR_NOMEM;
    if (size > m->len)
        memset(p + m->len, 0, size - m->len);
    m->p = p;
    m->len = size;
    return CCZ_OK;
}

static ccz_status mem_write(void *payload, uint64_t off, const void *buf, size_t n)
{
    mem *m = payload;
    if (off + n > m->len && mem_resize(m, off + n) != CCZ_OK)
        return CCZ_ERR_TOO_LARGE;
    memcpy(m->p + off, buf, n);
    return CCZ_OK;
}

static ccz_status mem_truncate(void *payload, uint64_t size)
{
    return mem_resize(payload, size);
}

static ccz_status mem_size(void *payload, uint64_t *out)
{
    *out = ((mem *)payload)->len;
    return CCZ_OK;
}

static void change_copy(const uint8_t *data, size_t size, const uint8_t *plain, uint64_t n)
{
    mem m = {malloc(size ? size : 1), size};
    if (!m.p)
        return;
    memcpy(m.p, data, size);
    ccz_pf_io io = {mem_read, mem_write, mem_truncate, mem_size, NULL, &m};
    ccz_pf_opts o = CCZ_PF_OPTS_INIT;
    o.mode = CCZ_PF_READ_WRITE;
    o.cache_nodes = 16;
    ccz_pf *pf;
    uint64_t cut = n / 2, at = cut + 5000;
    if (ccz_pf_open(&pf, &io, key, &o) != CCZ_OK)
        abort(); /* it opened read-only */
    if (ccz_pf_truncate(pf, cut) != CCZ_OK || ccz_pf_write(pf, at, "tail", 4) != CCZ_OK ||
        ccz_pf_close(pf) != CCZ_OK)
        abort();
    o.mode = CCZ_PF_READ;
    if (ccz_pf_open(&pf, &io, key, &o) != CCZ_OK || ccz_pf_size(pf) != at + 4)
        abort();
    uint8_t *back = malloc(at + 4);
    size_t got = 0;
    if (!back || ccz_pf_read(pf, back, &got, 0, at + 4) != CCZ_OK || got != at + 4 ||
        memcmp(back, plain, cut) != 0 || memcmp(back + at, "tail", 4) != 0)
        abort();
    for (uint64_t i = cut; i < at; i++)
        if (back[i] != 0)
            abort();
    free(back);
    ccz_pf_close(pf);
    free(m.p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mem m = {(uint8_t *)data, size};
    ccz_pf_io io = {mem_read, NULL, NULL, mem_size, NULL, &m};
    ccz_pf_opts o = CCZ_PF_OPTS_INIT;
    o.cache_nodes = 16;
    ccz_pf *pf;
    if (ccz_pf_open(&pf, &io, key, &o) != CCZ_OK)
        return 0;
    uint64_t n = ccz_pf_size(pf);
    if (n > size) /* every byte of the plaintext is in some node */
        abort();
    uint8_t *plain = malloc(n + 1);
    size_t got = 0;
    ccz_status s = ccz_pf_check(pf);
    if (s == CCZ_OK && plain)
        s = ccz_pf_read(pf, plain, &got, 0, n + 1);
    if (s == CCZ_OK && got != n)
        abort();
    ccz_pf_close(pf);
    if (s == CCZ_OK && plain && size <= (512u << 10))
        change_copy(data, size, plain, n);
    free(plain);
    return 0;
}
