/* SPDX-License-Identifier: Apache-2.0 */
/* The HE toolkit's sample database, us_state_capitals.csv (read in place from the shared data,
 * ../shared/data/he-toolkit or $CCZ_DATA): every one of the fifty states, asked for by its full
 * name (the longer ones cut to 8 bytes on both sides: "North Dakota" and "North Carolina" are
 * "North Da" and "North Ca"), and a key that is not there, answered right by the fast
 * algorithm; the packed one for a few states, and over a database of two packed blocks; the
 * sample's own algorithm for one. Labelled long (minutes); the named states of the issue run in
 * every build through the CLI (tests/cli/test_he_query.sh). */
#include <stdio.h>
#include <string.h>

#include "ccz/ccz.h"
#include "test.h"
#include "vectors.h"

static char path[2048];
static ccz_heq_db *db;
static ccz_heq_server *server;

static void lookup(ccz_heq_client *c, const char *key, size_t key_len, const char *want,
                   size_t want_len, double *search)
{
    ccz_heq_query q;
    ccz_span keys[CCZ_HEQ_KEY_CTS];
    ccz_heq_answer a;
    ccz_buf v = CCZ_BUF_INIT;
    int budget = 0;
    CHECK_OK(ccz_heq_client_query(&q, c, CCZ_SPAN(key, key_len)));
    ccz_heq_query_view qv = ccz_heq_query_view_of(&q, keys);
    CHECK_OK(ccz_heq_server_answer(&a, server, &qv));
    CHECK_OK(ccz_heq_client_decode(&v, &budget, c, ccz_buf_span(&a.value), a.block, a.chunks));
    bool right = v.len == want_len && (!want_len || memcmp(v.ptr, want, want_len) == 0);
    CHECK(right);
    CHECK(budget > 0);
    fprintf(stderr, "  %s %.*s -> %.*s%s (budget %d, search %.2f s)\n",
            ccz_heq_algorithm_name(q.algorithm), (int)key_len, key, (int)v.len, (const char *)v.ptr,
            right ? "" : " WRONG", budget, a.search_seconds);
    *search += a.search_seconds;
    ccz_buf_free(&v);
    ccz_buf_free(&a.value);
    ccz_heq_query_free(&q);
}

static void each_state(ccz_heq_algorithm alg, size_t step)
{
    ccz_heq_client *c;
    CHECK_OK(ccz_heq_client_new(&c, alg));
    double search = 0;
    size_t n = 0;
    for (size_t i = 0; i < ccz_heq_db_size(db); i += step, n++) {
        ccz_span k, v; /* the key as stored (cut to 8 bytes); full names: test_fast_all */
        ccz_heq_db_entry(&k, &v, db, i);
        lookup(c, (const char *)k.ptr, k.len, (const char *)v.ptr, v.len, &search);
    }
    lookup(c, "Atlantis", 8, "", 0, &search);
    n++;
    fprintf(stderr, "  %s: %zu lookups, %.1f records searched per second (server search)\n",
            ccz_heq_algorithm_name(alg), n, (double)(n * ccz_heq_db_size(db)) / search);
    ccz_heq_client_free(c);
}

static void test_fast_all(void)
{
    each_state(CCZ_HEQ_FAST, 1);
    /* the full names of states whose keys are cut */
    ccz_heq_client *c;
    CHECK_OK(ccz_heq_client_new(&c, CCZ_HEQ_FAST));
    double s = 0;
    lookup(c, "North Dakota", 12, "Bismarck", 8, &s);
    lookup(c, "North Carolina", 14, "Raleigh", 7, &s);
    lookup(c, "West Virginia", 13, "Charleston", 10, &s);
    ccz_heq_client_free(c);
}

static void test_packed(void)
{
    each_state(CCZ_HEQ_PACKED, 16);
}

/* A database past one packed block: a 255-byte value makes 128 chunks, so a block holds 128
 * entries and 130 take two; an entry of each block and a key that is not there. */
static void test_packed_two_blocks(void)
{
    ccz_buf csv = CCZ_BUF_INIT;
    char longest[256];
    memset(longest, 'L', 255);
    longest[255] = 0;
    for (int i = 0; i < 130; i++)
        CHECK_OK(ccz_buf_printf(&csv, "k%03d,%s\n", i, i == 7 ? longest : "v"));
    CHECK_OK(ccz_buf_printf(&csv, "k200,second block\n"));
    ccz_heq_db *two;
    CHECK_OK(ccz_heq_db_parse(&two, ccz_buf_span(&csv)));
    ccz_heq_server_opts o = CCZ_HEQ_SERVER_OPTS_INIT;
    o.db = two;
    ccz_heq_server *keep = server;
    CHECK_OK(ccz_heq_server_new(&server, &o));
    ccz_heq_client *c;
    CHECK_OK(ccz_heq_client_new(&c, CCZ_HEQ_PACKED));
    double t = 0;
    lookup(c, "k200", 4, "second block", 12, &t); /* entry 130: the second block */
    lookup(c, "k007", 4, longest, 255, &t);
    lookup(c, "k300", 4, "", 0, &t);
    ccz_heq_client_free(c);
    ccz_heq_server_free(server);
    server = keep;
    ccz_heq_db_free(two);
    ccz_buf_free(&csv);
}

static void test_faithful(void)
{
    ccz_heq_client *c;
    CHECK_OK(ccz_heq_client_new(&c, CCZ_HEQ_FAITHFUL));
    double s = 0;
    lookup(c, "Oregon", 6, "Salem", 5, &s);
    fprintf(stderr, "  faithful: %.2f records searched per second (server search)\n",
            (double)ccz_heq_db_size(db) / s);
    ccz_heq_client_free(c);
}

int main(int argc, char **argv)
{
    shared_data_require(path, sizeof path, "he-toolkit/us_state_capitals.csv");
    CHECK_OK(ccz_heq_db_load(&db, path));
    CHECK_INT(ccz_heq_db_size(db), 50);
    ccz_heq_server_opts o = CCZ_HEQ_SERVER_OPTS_INIT;
    o.db = db;
    CHECK_OK(ccz_heq_server_new(&server, &o));
    static const test_case cases[] = {T(test_fast_all), T(test_packed), T(test_packed_two_blocks),
                                      T(test_faithful)};
    int r = test_main(argc, argv, cases, CCZ_ARRAY_LEN(cases));
    ccz_heq_server_free(server);
    ccz_heq_db_free(db);
    return r;
}
