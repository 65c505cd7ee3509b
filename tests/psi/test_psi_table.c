/* SPDX-License-Identifier: Apache-2.0 */
/* The TEE PSI service's set table against a plain intersection: random sets over many parties
 * with duplicates, uploads interleaved item by item (as concurrent parties' chunks are), items
 * that share prefixes, empty and longest items, buckets growing past their first size, and the
 * result's order and framing. */
#include <stdlib.h>
#include <string.h>

#include "svc/psi/internal.h"
#include "test.h"

static uint64_t rng = 0x9e3779b97f4a7c15u;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* Items "i<k>" with k < universe; party p has item k when (k * (p + 3)) % 5 != 0 or k is in
 * the common range, so sets differ and overlap. */
static bool has(unsigned p, unsigned k, unsigned common)
{
    return k < common || (k * (p + 3) + p) % 5 != 0;
}

static int cmp_item(const void *a, const void *b)
{
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    size_t lx = strlen(x), ly = strlen(y);
    int c = memcmp(x, y, lx < ly ? lx : ly);
    return c ? c : (lx > ly) - (lx < ly);
}

static void check_parties(unsigned parties, unsigned universe, unsigned common)
{
    psi_table t;
    CHECK_OK(psi_table_init(&t));
    char buf[32];
    /* interleaved: item k of every party, then k + 1, each item twice for party 0 */
    for (unsigned k = 0; k < universe; k++)
        for (unsigned p = 0; p < parties; p++)
            if (has(p, k, common)) {
                int n = snprintf(buf, sizeof buf, "i%u", k);
                CHECK_OK(psi_table_add(&t, p, (const uint8_t *)buf, (size_t)n));
                if (p == 0)
                    CHECK_OK(psi_table_add(&t, p, (const uint8_t *)buf, (size_t)n));
            }
    /* the plain intersection */
    char **want = calloc(universe, sizeof *want);
    size_t n_want = 0;
    for (unsigned k = 0; k < universe; k++) {
        bool all = true;
        for (unsigned p = 0; p < parties && all; p++)
            all = has(p, k, common);
        if (all) {
            want[n_want] = malloc(16);
            snprintf(want[n_want++], 16, "i%u", k);
        }
    }
    qsort(want, n_want, sizeof *want, cmp_item);
    uint64_t mask = parties == 64 ? ~(uint64_t)0 : ((uint64_t)1 << parties) - 1;
    psi_result r;
    CHECK_OK(psi_table_intersect(&r, &t, mask));
    CHECK_INT(r.n, n_want);
    size_t off = 0, i = 0;
    ccz_span it;
    while (psi_result_next(&r, &off, &it) && i < n_want) {
        CHECK(it.len == strlen(want[i]) && !memcmp(it.ptr, want[i], it.len));
        i++;
    }
    CHECK_INT(i, n_want);
    CHECK_INT(off, r.data.len);
    for (size_t j = 0; j < n_want; j++)
        free(want[j]);
    free(want);
    ccz_buf_free(&r.data);
    psi_table_free(&t);
}

static void test_random_parties(void)
{
    check_parties(2, 50000, 100);
    check_parties(3, 20000, 7);
    check_parties(5, 5000, 0);
    check_parties(64, 3000, 300);
}

static void test_edges(void)
{
    psi_table t;
    CHECK_OK(psi_table_init(&t));
    static uint8_t longest[PSI_MAX_ITEM];
    memset(longest, 'x', sizeof longest);
    const char *items[] = {"", "a", "ab", "abc", "b", "a\0b"};
    size_t lens[] = {0, 1, 2, 3, 1, 3};
    for (unsigned p = 0; p < 2; p++) {
        for (size_t i = 0; i < 6; i++)
            CHECK_OK(psi_table_add(&t, p, (const uint8_t *)items[i], lens[i]));
        CHECK_OK(psi_table_add(&t, p, longest, sizeof longest));
    }
    CHECK_OK(psi_table_add(&t, 0, (const uint8_t *)"only0", 5));
    CHECK_OK(psi_table_add(&t, 1, (const uint8_t *)"only1", 5));
    CHECK_STATUS(psi_table_add(&t, 0, longest, sizeof longest + 1), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(psi_table_add(&t, 64, longest, 1), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_INT(t.entries, 9);
    psi_result r;
    CHECK_OK(psi_table_intersect(&r, &t, 3));
    CHECK_INT(r.n, 7);
    /* bytewise order, a prefix first: "", "a", "a\0b", "ab", "abc", "b", "xxx..." */
    const char *order[] = {"", "a", "a\0b", "ab", "abc", "b"};
    size_t olens[] = {0, 1, 3, 2, 3, 1};
    size_t off = 0;
    ccz_span it;
    for (size_t i = 0; i < 6; i++) {
        CHECK(psi_result_next(&r, &off, &it));
        CHECK(it.len == olens[i] && !memcmp(it.ptr, order[i], olens[i]));
    }
    CHECK(psi_result_next(&r, &off, &it));
    CHECK(it.len == sizeof longest && !memcmp(it.ptr, longest, sizeof longest));
    CHECK(!psi_result_next(&r, &off, &it));
    ccz_buf_free(&r.data);
    /* the items party 0 alone has: "only0" */
    CHECK_OK(psi_table_intersect(&r, &t, 1));
    CHECK_INT(r.n, 1);
    off = 0;
    CHECK(psi_result_next(&r, &off, &it) && it.len == 5 && !memcmp(it.ptr, "only0", 5));
    ccz_buf_free(&r.data);
    psi_table_free(&t);
}

/* A result whose only item is the empty one: its two-byte frame is the whole result. */
static void test_empty_item_alone(void)
{
    psi_table t;
    CHECK_OK(psi_table_init(&t));
    CHECK_OK(psi_table_add(&t, 0, (const uint8_t *)"", 0));
    CHECK_OK(psi_table_add(&t, 1, (const uint8_t *)"", 0));
    CHECK_OK(psi_table_add(&t, 1, (const uint8_t *)"b", 1));
    psi_result r;
    CHECK_OK(psi_table_intersect(&r, &t, 3));
    CHECK_INT(r.n, 1);
    CHECK_INT(r.data.len, 2);
    size_t off = 0;
    ccz_span it = CCZ_LIT("not read");
    CHECK(psi_result_next(&r, &off, &it));
    CHECK_INT(it.len, 0);
    CHECK_INT(off, 2);
    CHECK(!psi_result_next(&r, &off, &it));
    ccz_buf_free(&r.data);
    psi_table_free(&t);
}

/* The table's memory stays near the data: 200,000 random 24-byte items, all distinct, in
 * less than 2.5 times their bytes. */
static void test_memory(void)
{
    psi_table t;
    CHECK_OK(psi_table_init(&t));
    uint8_t item[24];
    for (int i = 0; i < 200000; i++) {
        for (int j = 0; j < 3; j++) {
            uint64_t r = next();
            memcpy(item + 8 * j, &r, 8);
        }
        CHECK_OK(psi_table_add(&t, (unsigned)i % 2, item, sizeof item));
    }
    CHECK_INT(t.entries, 200000);
    size_t raw = 200000 * sizeof item;
    CHECK(psi_table_bytes(&t) < raw * 5 / 2 + (2u << 20));
    psi_table_free(&t);
}

/* A table with a limit refuses the insertion that would reserve past it, before reserving:
 * what it holds never exceeds the limit, and it says so. */
static void test_limit(void)
{
    /* 100-byte items: the item store reaches the bound first; 4-byte items: the slots do
     * (the store at 512 KiB, the buckets growing past 900,000 bytes one by one) */
    static const struct {
        size_t limit, item;
    } cases[] = {{1u << 20, 100}, {3u << 20, 100}, {300000, 100}, {900000, 4}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        psi_table t;
        CHECK_OK(psi_table_init(&t));
        size_t limit = cases[k].limit;
        t.limit = limit;
        uint8_t item[100] = {0};
        ccz_status s = CCZ_OK;
        int added = 0;
        for (; added < 200000 && s == CCZ_OK; added++) {
            memcpy(item, &added, sizeof added);
            s = psi_table_add(&t, 0, item, cases[k].item);
            CHECK(psi_table_bytes(&t) <= limit);
        }
        CHECK_STATUS(s, CCZ_ERR_TOO_LARGE);
        CHECK(t.over);
        char want[80];
        snprintf(want, sizeof want, "the PSI table would hold more than %zu bytes", limit);
        CHECK_STR(ccz_error_detail(), want);
        /* it held items up to the bound: a 64 KiB item store and 128 KiB of slots at first */
        CHECK(added > 500);
        CHECK(t.entries == (uint64_t)added - 1);
        psi_table_free(&t);
    }
}

/* A limit is what the table may hold, itself included: the first item reserves a bucket's
 * first slots (64 x 8 bytes) and the first item store (64 KiB), exactly 66,048 bytes. */
static void test_limit_exact(void)
{
    for (size_t limit = 66047; limit <= 66048; limit++) {
        psi_table t;
        CHECK_OK(psi_table_init(&t));
        t.limit = limit;
        ccz_status s = psi_table_add(&t, 0, (const uint8_t *)"a", 1);
        if (limit == 66048) {
            CHECK_OK(s);
            CHECK_INT(psi_table_bytes(&t), 66048);
            CHECK(!t.over);
        } else {
            CHECK_STATUS(s, CCZ_ERR_TOO_LARGE);
            CHECK_STR(ccz_error_detail(), "the PSI table would hold more than 66047 bytes");
            CHECK_INT(psi_table_bytes(&t), 512); /* the slots, not the store */
            CHECK(t.over);
        }
        psi_table_free(&t);
    }
}

/* Items whose hashes collide (psi_table_add_hashed with one hash for all): each stays its own
 * entry, a prefix of another and an item of the same length included, and a party's mark lands
 * on its own item only. */
static void test_colliding_hashes(void)
{
    psi_table t;
    CHECK_OK(psi_table_init(&t));
    const uint64_t h = 0x0123456789abcdefu;
    CHECK_OK(psi_table_add_hashed(&t, 0, h, (const uint8_t *)"ab", 2));
    CHECK_OK(psi_table_add_hashed(&t, 1, h, (const uint8_t *)"a", 1));
    CHECK_OK(psi_table_add_hashed(&t, 1, h, (const uint8_t *)"ab", 2));
    CHECK_OK(psi_table_add_hashed(&t, 0, h, (const uint8_t *)"b", 1));
    CHECK_INT(t.entries, 3);
    psi_result r;
    size_t off = 0;
    ccz_span it;
    CHECK_OK(psi_table_intersect(&r, &t, 3));
    CHECK_INT(r.n, 1);
    CHECK(psi_result_next(&r, &off, &it) && it.len == 2 && !memcmp(it.ptr, "ab", 2));
    ccz_buf_free(&r.data);
    /* party 1 alone has "a", party 0 alone "b" */
    CHECK_OK(psi_table_intersect(&r, &t, 2));
    CHECK_INT(r.n, 1);
    off = 0;
    CHECK(psi_result_next(&r, &off, &it) && it.len == 1 && it.ptr[0] == 'a');
    ccz_buf_free(&r.data);
    CHECK_OK(psi_table_intersect(&r, &t, 1));
    CHECK_INT(r.n, 1);
    off = 0;
    CHECK(psi_result_next(&r, &off, &it) && it.len == 1 && it.ptr[0] == 'b');
    ccz_buf_free(&r.data);
    psi_table_free(&t);
}

/* The item store grows only for an item that does not fit: 16 entries of 4,096 bytes (a 10-byte
 * head and 4,086 bytes of item) fill its first 64 KiB exactly and it stays there; the next item
 * doubles it, which a limit of exactly the doubled store and one bucket's first slots allows.
 * A bucket is at most 3/4 full: its 49th item takes it from 64 slots to 128, past that limit. */
static void test_growth_exact(void)
{
    psi_table t;
    CHECK_OK(psi_table_init(&t));
    t.limit = (128u << 10) + 64 * 8;
    static uint8_t item[4086];
    memset(item, 'x', sizeof item);
    /* every item in bucket 0 (the hash's top byte), each with its own tag */
    for (unsigned k = 0; k < 16; k++) {
        item[0] = (uint8_t)k;
        CHECK_OK(psi_table_add_hashed(&t, 0, k, item, sizeof item));
    }
    CHECK_INT(t.len, 64u << 10);
    CHECK_INT(t.cap, 64u << 10);
    CHECK_INT(psi_table_bytes(&t), (64u << 10) + 64 * 8);
    CHECK_OK(psi_table_add_hashed(&t, 0, 16, (const uint8_t *)"a", 1));
    CHECK_INT(t.cap, 128u << 10);
    CHECK_INT(psi_table_bytes(&t), t.limit);
    CHECK(!t.over);
    uint8_t small[2] = {'s', 0};
    for (unsigned k = 17; k < 48; k++) {
        small[1] = (uint8_t)k;
        CHECK_OK(psi_table_add_hashed(&t, 0, k, small, 2));
    }
    CHECK_INT(t.b[0].used, 48);
    CHECK_INT(t.b[0].mask, 63);
    small[1] = 48;
    CHECK_STATUS(psi_table_add_hashed(&t, 0, 48, small, 2), CCZ_ERR_TOO_LARGE);
    CHECK(t.over);
    CHECK_INT(t.entries, 48);
    t.limit = 0;
    CHECK_OK(psi_table_add_hashed(&t, 0, 48, small, 2));
    CHECK_INT(t.b[0].mask, 127);
    CHECK_INT(psi_table_bytes(&t), (128u << 10) + 128 * 8);
    CHECK_INT(t.entries, 49);
    psi_table_free(&t);
}

/* Items must be UTF-8 as RFC 3629 has it: the longest and shortest forms of each length, and
 * every form it refuses (overlong, surrogates, past U+10FFFF, stray or missing continuation
 * bytes, a sequence cut by the item's end). */
static void test_utf8(void)
{
    static const char *const good[] = {"",
                                       "plain ascii",
                                       "\x7f",
                                       "\xc2\x80",
                                       "\xdf\xbf",
                                       "\xe0\xa0\x80",
                                       "\xed\x9f\xbf", /* U+D7FF */
                                       "\xee\x80\x80", /* U+E000 */
                                       "\xef\xbf\xbf",
                                       "\xf0\x90\x80\x80",
                                       "\xf4\x8f\xbf\xbf", /* U+10FFFF */
                                       "caf\xc3\xa9"};
    static const char *const bad[] = {
        "\x80",
        "\xc0\xaf",         /* overlong '/' */
        "\xc1\xbf",         /* overlong */
        "\xe0\x9f\xbf",     /* overlong U+07FF */
        "\xed\xa0\x80",     /* U+D800 */
        "\xed\xbf\xbf",     /* U+DFFF */
        "\xf0\x8f\xbf\xbf", /* overlong U+FFFF */
        "\xf4\x90\x80\x80", /* U+110000 */
        "\xf5\x80\x80\x80",
        "\xff",
        "\xc3\x28",
        "\xe2\x82\x28",
        "\xc3\xc0", /* a lead byte where a continuation byte belongs */
        "\xe2\xc2\xac"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        if (!psi_utf8_ok((const uint8_t *)good[i], strlen(good[i]))) {
            fprintf(stderr, "%s: good[%zu] refused\n", test_name, i);
            test_failures++;
        }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (psi_utf8_ok((const uint8_t *)bad[i], strlen(bad[i]))) {
            fprintf(stderr, "%s: bad[%zu] taken\n", test_name, i);
            test_failures++;
        }
    /* a sequence the item's end cuts, its continuation bytes still in memory after it */
    static const char cut2[] = "a\xc3\xa9", cut3[] = "\xe2\x82\xac", cut4[] = "\xf0\x9f\x98\x80";
    CHECK(!psi_utf8_ok((const uint8_t *)cut2, 2));
    CHECK(!psi_utf8_ok((const uint8_t *)cut3, 2));
    CHECK(!psi_utf8_ok((const uint8_t *)cut4, 3));
    CHECK(psi_utf8_ok((const uint8_t *)cut4, 4));
}

TEST_MAIN(T(test_random_parties), T(test_edges), T(test_empty_item_alone), T(test_memory),
          T(test_limit), T(test_limit_exact), T(test_colliding_hashes), T(test_growth_exact),
          T(test_utf8))
