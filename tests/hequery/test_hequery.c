/* SPDX-License-Identifier: Apache-2.0 */
/* The encrypted query (include/ccz/hequery.h): the database parser (every refusal, with its line),
 * the algorithms' parameters, the client's checks of keys and of answers that are not values,
 * encrypted lookups of keys of 1 to 8 bytes and of longer keys cut to 8 (fast), the faithful and
 * packed algorithms (the packed answer's entries in a random order), the noise budget of a
 * worst-case value, a database of more than one batch, answers re-randomized, key ciphertexts of
 * three components, and the RA-gRPC service over plaintext h2c: hostile queries (wrong algorithm,
 * parameters, keys of other parameters, truncated, oversized, missing and extra ciphertexts, a
 * message over the limit) each refused with its gRPC status and reason, the server answering right
 * after all of them, its queue's default bound, its exact bound with the worker held inside a query
 * (tests/support/rng_fail.h), a packed lookup within CCZ_HEQ_MAX_MESSAGE, a query whose deadline
 * passes in the queue dropped, as is one whose client went away, an answer abandoned at its last
 * task, and its options. The state capitals are test_hequery_states.c. Sanitizer builds run fewer
 * lookups (each is thousands of products): the optimized build runs them all. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ccz/ccz.h"
#include "h2_client.h"
#include "he_query.pb-c.h"
#include "rng_fail.h"
#include "rpc_fixture.h"
#include "test.h"

static ccz_heq_db *db_of(const char *text)
{
    ccz_heq_db *db = NULL;
    CHECK_OK(ccz_heq_db_parse(&db, CCZ_SPAN(text, strlen(text))));
    return db;
}

static void refused(const char *text, ccz_status want, const char *detail)
{
    ccz_heq_db *db = NULL;
    CHECK_STATUS(ccz_heq_db_parse(&db, CCZ_SPAN(text, strlen(text))), want);
    CHECK_CONTAINS(ccz_error_detail(), detail);
    CHECK(db == NULL);
}

static void test_db(void)
{
    ccz_heq_db *db = db_of("Alabama,Montgomery\r\nAlaska,Juneau\n\n\r\nArizona,Phoenix");
    CHECK_INT(ccz_heq_db_size(db), 3);
    ccz_span k, v;
    ccz_heq_db_entry(&k, &v, db, 1);
    CHECK(k.len == 6 && memcmp(k.ptr, "Alaska", 6) == 0);
    CHECK(v.len == 6 && memcmp(v.ptr, "Juneau", 6) == 0);
    ccz_heq_db_entry(&k, &v, db, 2);
    CHECK(v.len == 7 && memcmp(v.ptr, "Phoenix", 7) == 0); /* no newline at the end */
    CHECK(ccz_heq_db_find(&v, db, CCZ_LIT("Alabama")) && v.len == 10);
    CHECK(!ccz_heq_db_find(&v, db, CCZ_LIT("Alabam")) && v.len == 0);
    ccz_heq_db_free(db);
    /* the value is everything after the first comma; keys are cut to 8 bytes */
    db = db_of("Massachusetts,Boston, MA\nk,\n");
    ccz_heq_db_entry(&k, &v, db, 0);
    CHECK(k.len == 8 && memcmp(k.ptr, "Massachu", 8) == 0);
    CHECK(v.len == 10 && memcmp(v.ptr, "Boston, MA", 10) == 0);
    CHECK(ccz_heq_db_find(&v, db, CCZ_LIT("Massachusetts")));
    CHECK(ccz_heq_db_find(&v, db, CCZ_LIT("MassachuXYZ")));
    CHECK(!ccz_heq_db_find(&v, db, CCZ_LIT("Massach")));
    CHECK(ccz_heq_db_find(&v, db, CCZ_LIT("k")) && v.len == 0); /* an empty value */
    ccz_heq_db_free(db);

    refused("Alabama,Montgomery\nAlaska", CCZ_ERR_MALFORMED, "line 2: no comma");
    refused("a,b\n\n,c", CCZ_ERR_MALFORMED, "line 3: the key is empty");
    char nul[] = "a,b\nc,d\0e";
    ccz_heq_db *bad = NULL;
    CHECK_STATUS(ccz_heq_db_parse(&bad, CCZ_SPAN(nul, sizeof nul - 1)), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "line 2: a NUL byte");
    /* a NUL byte as a line's last byte, before its CR and newline */
    char nul_last[] = "a,b\nc,d\0\r\ne,f";
    CHECK_STATUS(ccz_heq_db_parse(&bad, CCZ_SPAN(nul_last, sizeof nul_last - 1)),
                 CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "line 2: a NUL byte");
    CHECK(bad == NULL);
    /* a CR ending the file ends its last line as it ends the others */
    db = db_of("a,b\r\nc,d\r");
    ccz_heq_db_entry(&k, &v, db, 1);
    CHECK(v.len == 1 && v.ptr[0] == 'd');
    CHECK(ccz_heq_db_find(&v, db, CCZ_LIT("c")) && v.len == 1);
    ccz_heq_db_free(db);
    char big[CCZ_HEQ_MAX_VALUE + 8] = "k,";
    memset(big + 2, 'v', CCZ_HEQ_MAX_VALUE + 1);
    big[CCZ_HEQ_MAX_VALUE + 3] = 0;
    refused(big, CCZ_ERR_TOO_LARGE, "line 1: a value of 257 bytes (at most 256)");
    big[CCZ_HEQ_MAX_VALUE + 2] = 0; /* 256 bytes: fine */
    db = db_of(big);
    ccz_heq_db_free(db);
    refused("Massachusetts,Boston\nMassachuXYZ,Nowhere", CCZ_ERR_EXISTS,
            "the key \"Massachu\" is there twice");
    refused("", CCZ_ERR_MALFORMED, "no entries");
    refused("\n\r\n\n", CCZ_ERR_MALFORMED, "no entries");
    /* more lines than a database may have */
    size_t n = CCZ_HEQ_MAX_ENTRIES + 1;
    char *many = malloc(n * 12 + 1), *p = many;
    for (size_t i = 0; i < n; i++)
        p += sprintf(p, "%zx,v\n", i);
    refused(many, CCZ_ERR_TOO_LARGE, "line 65537: more than 65536 entries");
    free(many);
    refused("a,b\nx", CCZ_ERR_MALFORMED, "line 2: no comma"); /* a line of one byte */
    /* a short key is zero-padded whatever its entry's memory held: a database of 8-byte keys
     * freed, then one of 1-byte keys parsed into the memory it left (sanitizers fill new memory
     * with 0xbe: the same there) */
    db = db_of("AAAAAAAA,1\nBBBBBBBB,2\nCCCCCCCC,3\nDDDDDDDD,4\n");
    ccz_heq_db_free(db);
    db = db_of("a,1\nb,2\nc,3\nd,4\n");
    CHECK(ccz_heq_db_find(&v, db, CCZ_LIT("b")) && v.len == 1 && v.ptr[0] == '2');
    CHECK(ccz_heq_db_find(&v, db, CCZ_LIT("c")) && v.len == 1 && v.ptr[0] == '3');
    CHECK(ccz_heq_db_find(&v, db, CCZ_LIT("d")) && v.len == 1 && v.ptr[0] == '4');
    ccz_heq_db_free(db);
    CHECK_STATUS(ccz_heq_db_load(&db, "/nonexistent/capitals.csv"), CCZ_ERR_NOT_FOUND);
    CHECK_CONTAINS(ccz_error_detail(), "/nonexistent/capitals.csv");
    /* the largest database loads from a file: 65536 entries of 256-byte values (17 MB) */
    char path[512], value[CCZ_HEQ_MAX_VALUE + 1];
    snprintf(path, sizeof path, "%s/largest.csv", test_tmpdir());
    memset(value, 'v', CCZ_HEQ_MAX_VALUE);
    value[CCZ_HEQ_MAX_VALUE] = 0;
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    for (size_t i = 0; f && i < CCZ_HEQ_MAX_ENTRIES; i++)
        fprintf(f, "%08zx,%s\n", i, value);
    CHECK(f && fclose(f) == 0);
    CHECK_OK(ccz_heq_db_load(&db, path));
    if (db) {
        CHECK_INT(ccz_heq_db_size(db), CCZ_HEQ_MAX_ENTRIES);
        CHECK(ccz_heq_db_find(&v, db, CCZ_LIT("0000ffff")) && v.len == CCZ_HEQ_MAX_VALUE);
        ccz_heq_db_free(db);
    }
    /* a file's refusal names the file */
    f = fopen(path, "w");
    CHECK(f && fputs("a,b\nx\n", f) >= 0 && fclose(f) == 0);
    CHECK_STATUS(ccz_heq_db_load(&db, path), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "largest.csv");
    CHECK_CONTAINS(ccz_error_detail(), "line 2: no comma");
}

static void test_algorithms(void)
{
    ccz_heq_algorithm a;
    CHECK_OK(ccz_heq_algorithm_parse(&a, "faithful"));
    CHECK_INT(a, CCZ_HEQ_FAITHFUL);
    CHECK_OK(ccz_heq_algorithm_parse(&a, "packed"));
    CHECK_INT(a, CCZ_HEQ_PACKED);
    CHECK_STATUS(ccz_heq_algorithm_parse(&a, "Fast"), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "unknown algorithm 'Fast'");
    CHECK_STR(ccz_heq_algorithm_name(CCZ_HEQ_FAST), "fast");
    CHECK_STR(ccz_heq_algorithm_name((ccz_heq_algorithm)9), "?");
    ccz_lattice_params p;
    CHECK_OK(ccz_heq_params(&p, CCZ_HEQ_FAITHFUL)); /* the sample's: N 8192, t 17, BFVDefault */
    CHECK_INT(p.log_n, 13);
    CHECK_INT(p.plain_modulus, 17);
    CHECK_INT(p.n_primes, 5);
    CHECK(p.coeff_bits[0] == 43 && p.coeff_bits[4] == 44);
    CHECK_OK(ccz_heq_params(&p, CCZ_HEQ_PACKED));
    CHECK_INT(p.log_n, 14);
    CHECK_INT(p.plain_modulus, 65537);
    CHECK_STATUS(ccz_heq_params(&p, (ccz_heq_algorithm)0), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "unknown algorithm 0");
    CHECK_STATUS(ccz_heq_params(&p, (ccz_heq_algorithm)(CCZ_HEQ_PACKED + 1)),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "unknown algorithm 4");
    ccz_heq_client *c = NULL;
    CHECK_STATUS(ccz_heq_client_new(&c, (ccz_heq_algorithm)(CCZ_HEQ_PACKED + 1)),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "unknown algorithm 4");
    CHECK(c == NULL);
}

/* ---- answers the client refuses ---------------------------------------------------------------*/

/* An answer made by hand: coefficients (or slots) under the client's public key. */
static void forged(ccz_buf *out, const ccz_heq_client *c, const ccz_heq_query *q,
                   ccz_heq_algorithm a, const uint64_t *m, size_t n)
{
    ccz_lattice_params p;
    CHECK_OK(ccz_heq_params(&p, a));
    ccz_lattice_context *ctx;
    ccz_lattice_public_key *pk;
    ccz_lattice_plaintext *pt;
    ccz_lattice_ciphertext *ct;
    CHECK_OK(ccz_lattice_context_new(&ctx, &p));
    CHECK_OK(ccz_lattice_public_key_load(&pk, ctx, ccz_buf_span(&q->public_key)));
    CHECK_OK(ccz_lattice_plaintext_new(&pt, ctx));
    CHECK_OK(ccz_lattice_ciphertext_new(&ct, ctx));
    if (a == CCZ_HEQ_PACKED)
        CHECK_OK(ccz_lattice_bfv_encode(pt, ctx, m, n));
    else
        CHECK_OK(ccz_lattice_bfv_encode_coeffs(pt, ctx, m, n));
    CHECK_OK(ccz_lattice_encrypt(ct, ctx, pk, pt));
    CHECK_OK(ccz_lattice_ciphertext_save(out, ct));
    (void)c;
    ccz_lattice_ciphertext_free(ct);
    ccz_lattice_plaintext_free(pt);
    ccz_lattice_public_key_free(pk);
    ccz_lattice_context_free(ctx);
}

static void decodes(const ccz_heq_client *c, const ccz_heq_query *q, ccz_heq_algorithm a,
                    const uint64_t *m, size_t n, unsigned block, unsigned chunks, ccz_status want,
                    const char *got)
{
    ccz_buf ans = CCZ_BUF_INIT, v = CCZ_BUF_INIT;
    forged(&ans, c, q, a, m, n);
    int budget = -1;
    CHECK_STATUS(ccz_heq_client_decode(&v, &budget, c, ccz_buf_span(&ans), block, chunks), want);
    if (want == CCZ_OK)
        CHECK(v.len == strlen(got) && (!v.len || memcmp(v.ptr, got, v.len) == 0) && budget > 0);
    else
        CHECK_CONTAINS(ccz_error_detail(), got);
    ccz_buf_free(&ans);
    ccz_buf_free(&v);
}

static void test_client(void)
{
    ccz_heq_client *c;
    ccz_heq_query q;
    CHECK_OK(ccz_heq_client_new(&c, CCZ_HEQ_FAST));
    CHECK_STATUS(ccz_heq_client_query(&q, c, CCZ_LIT("")), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "the key is empty");
    CHECK_STATUS(ccz_heq_client_query(&q, c, CCZ_LIT("Ore\0gon")), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "NUL");
    CHECK_STATUS(ccz_heq_client_query(&q, c, CCZ_LIT("Oklahom\0City")), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "the key holds a NUL byte");        /* its 8th byte */
    CHECK_OK(ccz_heq_client_query(&q, c, CCZ_LIT("Oklahoma\0City"))); /* cut before the NUL */
    CHECK_INT(q.algorithm, CCZ_HEQ_FAST);
    for (int i = 0; i < CCZ_HEQ_KEY_CTS; i++)
        CHECK(q.key[i].len > 300000); /* N 8192, 4 primes of 43-44 bits: 356 KB each */
    /* answers: "Hi" as nibbles; a nibble of 16; a coefficient past the end; garbage */
    uint64_t hi[4] = {4, 8, 6, 9}, sixteen[2] = {4, 16}, late[40] = {4, 8, 6, 9};
    late[39] = 1;
    decodes(c, &q, CCZ_HEQ_FAST, hi, 4, 0, 0, CCZ_OK, "Hi");
    decodes(c, &q, CCZ_HEQ_FAST, hi, 0, 0, 0, CCZ_OK, "");
    decodes(c, &q, CCZ_HEQ_FAST, sixteen, 2, 0, 0, CCZ_ERR_MALFORMED, "coefficient 1 is 16");
    uint64_t high[2] = {16, 4}; /* the high nibble's turn */
    decodes(c, &q, CCZ_HEQ_FAST, high, 2, 0, 0, CCZ_ERR_MALFORMED, "coefficient 0 is 16");
    decodes(c, &q, CCZ_HEQ_FAST, late, 40, 0, 0, CCZ_ERR_MALFORMED,
            "coefficient 39 after its end is 1");
    /* 256 bytes "A" are a value; a 257th byte is past the longest a value can be */
    uint64_t longest[2 * CCZ_HEQ_MAX_VALUE + 2];
    char a256[CCZ_HEQ_MAX_VALUE + 1];
    for (size_t i = 0; i < CCZ_ARRAY_LEN(longest); i++)
        longest[i] = i % 2 ? 1 : 4;
    memset(a256, 'A', CCZ_HEQ_MAX_VALUE);
    a256[CCZ_HEQ_MAX_VALUE] = 0;
    decodes(c, &q, CCZ_HEQ_FAST, longest, 2 * CCZ_HEQ_MAX_VALUE, 0, 0, CCZ_OK, a256);
    decodes(c, &q, CCZ_HEQ_FAST, longest, CCZ_ARRAY_LEN(longest), 0, 0, CCZ_ERR_MALFORMED,
            "coefficient 512 after its end is 4");
    ccz_buf v = CCZ_BUF_INIT;
    int budget;
    CHECK_STATUS(ccz_heq_client_decode(&v, &budget, c, CCZ_LIT("CCZH junk"), 0, 0),
                 CCZ_ERR_TRUNCATED);
    CHECK_CONTAINS(ccz_error_detail(), "the answer");
    /* an answer under another client's key: no noise budget left under ours */
    ccz_heq_client *other;
    ccz_heq_query oq;
    CHECK_OK(ccz_heq_client_new(&other, CCZ_HEQ_FAST));
    CHECK_OK(ccz_heq_client_query(&oq, other, CCZ_LIT("Ohio")));
    ccz_buf theirs = CCZ_BUF_INIT;
    forged(&theirs, other, &oq, CCZ_HEQ_FAST, hi, 4);
    CHECK_STATUS(ccz_heq_client_decode(&v, &budget, c, ccz_buf_span(&theirs), 0, 0),
                 CCZ_ERR_CRYPTO);
    CHECK_CONTAINS(ccz_error_detail(), "the answer has no noise budget left");
    CHECK_INT(v.len, 0);
    ccz_buf_free(&theirs);
    ccz_heq_query_free(&oq);
    ccz_heq_client_free(other);
    ccz_heq_query_free(&q);
    ccz_heq_client_free(c);
    /* packed: slot c * block + j; one column at most */
    CHECK_OK(ccz_heq_client_new(&c, CCZ_HEQ_PACKED));
    CHECK_OK(ccz_heq_client_query(&q, c, CCZ_LIT("Utah")));
    uint64_t *m = calloc(16384, 8);
    m[3] = 'S' << 8 | 'a', m[100 + 3] = 'l' << 8 | 't'; /* block 100, 2 chunks, column 3 */
    decodes(c, &q, CCZ_HEQ_PACKED, m, 16384, 100, 2, CCZ_OK, "Salt");
    m[100 + 4] = 1;
    decodes(c, &q, CCZ_HEQ_PACKED, m, 16384, 100, 2, CCZ_ERR_MALFORMED,
            "slots of two entries are set");
    m[100 + 4] = 0;
    decodes(c, &q, CCZ_HEQ_PACKED, m, 16384, 100, 1, CCZ_ERR_MALFORMED, "slot 103 is set");
    m[200] = 1; /* the first slot past 2 x 100 */
    decodes(c, &q, CCZ_HEQ_PACKED, m, 16384, 100, 2, CCZ_ERR_MALFORMED, "slot 200 is set");
    m[200] = 0;
    decodes(c, &q, CCZ_HEQ_PACKED, m, 16384, 16384, 2, CCZ_ERR_MALFORMED, "a packed layout");
    /* more chunks than a value's 256 bytes take (the layout fits the slots) */
    decodes(c, &q, CCZ_HEQ_PACKED, m, 16384, 1, 129, CCZ_ERR_MALFORMED,
            "a packed layout of 129 x 1 slots");
    /* a layout of no slots (an answer that would say nothing, whatever its slots hold) */
    decodes(c, &q, CCZ_HEQ_PACKED, m, 16384, 0, 2, CCZ_ERR_MALFORMED,
            "a packed layout of 2 x 0 slots");
    decodes(c, &q, CCZ_HEQ_PACKED, m, 16384, 100, 0, CCZ_ERR_MALFORMED,
            "a packed layout of 0 x 100 slots");
    m[3] = 65536; /* a chunk is 2 bytes */
    decodes(c, &q, CCZ_HEQ_PACKED, m, 16384, 100, 2, CCZ_ERR_MALFORMED, "chunk 0 is 65536");
    m[3] = 'S', m[103] = 'l' << 8 | 't'; /* "\0S" "lt": a value does not hold a NUL */
    decodes(c, &q, CCZ_HEQ_PACKED, m, 16384, 100, 2, CCZ_ERR_MALFORMED, "byte 1 after its end");
    free(m);
    ccz_buf_free(&v);
    ccz_heq_query_free(&q);
    ccz_heq_client_free(c);
}

/* ---- encrypted lookups -------------------------------------------------------------------------*/

/* A query view's wanted(): counts the times it is asked and says no. */
static bool count_no(void *arg)
{
    (*(unsigned *)arg)++;
    return false;
}

/* A query view's wanted(): counts the times it is asked; says no at the last'th (0: never). */
typedef struct {
    unsigned asked, last;
} count_until;

static bool count_yes_until(void *arg)
{
    count_until *c = arg;
    return ++c->asked != c->last;
}

/* One lookup in process: the answer decrypts to want (NULL: no entry); the budget left. */
static int lookup(ccz_heq_server *s, const ccz_heq_client *c, const char *key, const char *want)
{
    ccz_heq_query q;
    ccz_span keys[CCZ_HEQ_KEY_CTS];
    ccz_heq_answer a;
    ccz_buf v = CCZ_BUF_INIT;
    int budget = 0;
    CHECK_OK(ccz_heq_client_query(&q, c, CCZ_SPAN(key, strlen(key))));
    ccz_heq_query_view qv = ccz_heq_query_view_of(&q, keys);
    CHECK_OK(ccz_heq_server_answer(&a, s, &qv));
    CHECK_OK(ccz_heq_client_decode(&v, &budget, c, ccz_buf_span(&a.value), a.block, a.chunks));
    const char *w = want ? want : "";
    if (v.len != strlen(w) || memcmp(v.ptr, w, v.len) != 0) {
        fprintf(stderr, "  %s: '%s' gave '%.*s', expected '%s'\n",
                ccz_heq_algorithm_name(q.algorithm), key, (int)v.len, (const char *)v.ptr, w);
        CHECK(!"the right value");
    }
    CHECK(budget > 0);
    CHECK(a.load_seconds > 0 && a.search_seconds > 0); /* the answer's times are measured */
    fprintf(stderr, "  %s '%s' -> '%.*s': budget %d bits, search %.2f s, answer %zu bytes\n",
            ccz_heq_algorithm_name(q.algorithm), key, (int)v.len, (const char *)v.ptr, budget,
            a.search_seconds, a.value.len);
    ccz_buf_free(&v);
    ccz_buf_free(&a.value);
    ccz_heq_query_free(&q);
    return budget;
}

static ccz_heq_server *server_of(const ccz_heq_db *db)
{
    ccz_heq_server *s = NULL;
    ccz_heq_server_opts o = CCZ_HEQ_SERVER_OPTS_INIT;
    o.db = db;
    CHECK_OK(ccz_heq_server_new(&s, &o));
    return s;
}

/* Keys of every length from 1 to 8 bytes, each finding its own entry and no other (the
 * shorter ones are the longer ones' prefixes: the zero padding tells them apart), a longer key
 * cut to 8 bytes, a key that is not there. (Database keys cut to 8 bytes: "North Dakota" in
 * test_hequery_states.) */
static void test_key_lengths(void)
{
    ccz_heq_db *db = db_of("a,v1\naa,v2\naaa,v3\naaaa,v4\naaaaa,v5\naaaaaa,v6\naaaaaaa,v7\n"
                           "aaaaaaaa,v8\n");
    ccz_heq_server *s = server_of(db);
    ccz_heq_client *c;
    CHECK_OK(ccz_heq_client_new(&c, CCZ_HEQ_FAST));
    static const char *const all[][2] = {
        {"a", "v1"},           {"aa", "v2"},     {"aaa", "v3"},     {"aaaa", "v4"},
        {"aaaaa", "v5"},       {"aaaaaa", "v6"}, {"aaaaaaa", "v7"}, {"aaaaaaaa", "v8"},
        {"aaaaaaaaXYZ", "v8"}, {"b", NULL}};
    static const int fewer[] = {0, 7, 8}; /* sanitizers: 1 byte, 8, cut */
    size_t n = UNDER_ASAN ? CCZ_ARRAY_LEN(fewer) : CCZ_ARRAY_LEN(all);
    if (UNDER_ASAN)
        fprintf(stderr, "  sanitizer build: %zu of %zu lookups (all in the optimized build)\n", n,
                CCZ_ARRAY_LEN(all));
    for (size_t i = 0; i < n; i++) {
        size_t k = UNDER_ASAN ? (size_t)fewer[i] : i;
        lookup(s, c, all[k][0], all[k][1]);
    }
    /* a caller of the C API (no service before it) with a key one ciphertext short, or an
     * algorithm that is none */
    ccz_heq_query q;
    ccz_span keys[CCZ_HEQ_KEY_CTS];
    ccz_heq_answer a;
    CHECK_OK(ccz_heq_client_query(&q, c, CCZ_LIT("a")));
    ccz_heq_query_view qv = ccz_heq_query_view_of(&q, keys);
    qv.n_key = CCZ_HEQ_KEY_CTS - 1;
    CHECK_STATUS(ccz_heq_server_answer(&a, s, &qv), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "(two nibbles for each of 8 bytes), not 15");
    ccz_span more[CCZ_HEQ_KEY_CTS + 1]; /* one ciphertext too many */
    qv = ccz_heq_query_view_of(&q, more);
    more[CCZ_HEQ_KEY_CTS] = more[0];
    qv.n_key = CCZ_HEQ_KEY_CTS + 1;
    CHECK_STATUS(ccz_heq_server_answer(&a, s, &qv), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "(two nibbles for each of 8 bytes), not 17");
    qv = ccz_heq_query_view_of(&q, keys);
    qv.algorithm = (ccz_heq_algorithm)(CCZ_HEQ_PACKED + 1);
    CHECK_STATUS(ccz_heq_server_answer(&a, s, &qv), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "unknown algorithm 4");
    qv.algorithm = (ccz_heq_algorithm)0; /* below the first */
    CHECK_STATUS(ccz_heq_server_answer(&a, s, &qv), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "unknown algorithm 0");
    ccz_heq_query_free(&q);
    /* a server needs a database, and options it knows */
    ccz_heq_server *none = NULL;
    ccz_heq_server_opts so = CCZ_HEQ_SERVER_OPTS_INIT;
    CHECK_STATUS(ccz_heq_server_new(&none, &so), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "server options: a database is needed");
    CHECK(none == NULL);
    so.db = db;
    so.version = 0;
    CHECK_STATUS(ccz_heq_server_new(&none, &so), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "server options: version 0, expected 1");
    CHECK(none == NULL);
    so.version = 2; /* a later header's options are not read as this one's */
    CHECK_STATUS(ccz_heq_server_new(&none, &so), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "server options: version 2, expected 1");
    CHECK(none == NULL);
    CHECK_STATUS(ccz_heq_server_new(&none, NULL), CCZ_ERR_INVALID_ARGUMENT);
    CHECK(none == NULL);
    ccz_heq_client_free(c);
    ccz_heq_server_free(s);
    ccz_heq_db_free(db);
}

/* The sample's own algorithm and the packed one give the same answers; the longest value has
 * budget to spare. */
static void test_algorithms_agree(void)
{
    if (UNDER_ASAN) {
        fprintf(stderr, "  sanitizer build: faithful and packed run in the optimized build\n");
        return;
    }
    /* (17 bytes, an odd length: the packed layout's last chunk ends in a zero byte, not in the
     * byte after the value) */
    ccz_heq_db *db = db_of("Oregon,Salem\nUtah,Salt Lake City UT\n");
    ccz_heq_server *s = server_of(db);
    ccz_heq_client *c;
    CHECK_OK(ccz_heq_client_new(&c, CCZ_HEQ_FAITHFUL));
    lookup(s, c, "Oregon", "Salem");
    /* Utah too: a mask of the power 15 (1 - 1/d, d the entry's nibble less the query's) is 0
     * only where d = 1, as Utah's first nibble is against Oregon's (Oregon's lookup is right
     * either way); no nibble of Oregon's is one more than Utah's, so its value would stay in */
    lookup(s, c, "Utah", "Salt Lake City UT");
    ccz_heq_client_free(c);
    CHECK_OK(ccz_heq_client_new(&c, CCZ_HEQ_PACKED));
    CHECK(lookup(s, c, "Utah", "Salt Lake City UT") >= 30);
    ccz_heq_client_free(c);
    ccz_heq_server_free(s);
    ccz_heq_db_free(db);
    /* a 256-byte value of nibbles 8 (the largest lifted plaintext coefficients) */
    char text[300] = "worst,";
    memset(text + 6, 0x88, CCZ_HEQ_MAX_VALUE);
    text[6 + CCZ_HEQ_MAX_VALUE] = 0;
    db = db_of(text);
    s = server_of(db);
    CHECK_OK(ccz_heq_client_new(&c, CCZ_HEQ_FAST));
    CHECK(lookup(s, c, "worst", text + 6) >= 4);
    ccz_heq_client_free(c);
    ccz_heq_server_free(s);
    ccz_heq_db_free(db);
}

/* The packed answer puts the entries in a random order: when the RNG fails, the query is
 * refused (CCZ_ERR_CRYPTO) rather than answered in the database's order. The server's contexts:
 * faithful and fast share N = 8192, t = 17; the packed one (N = 16384, t = 65537) is made by the
 * first packed query (NULL before it). */
static void test_no_randomness(void)
{
    ccz_heq_db *db = db_of("Oregon,Salem\nUtah,Salt Lake City\n");
    ccz_heq_server *s = server_of(db);
    const ccz_lattice_context *ctx17 = ccz_heq_server_context(s, CCZ_HEQ_FAST);
    CHECK(ctx17 != NULL && ccz_heq_server_context(s, CCZ_HEQ_FAITHFUL) == ctx17);
    if (ctx17) {
        CHECK_INT(ccz_lattice_context_params(ctx17)->log_n, 13);
        CHECK_INT(ccz_lattice_context_params(ctx17)->plain_modulus, 17);
    }
    CHECK(ccz_heq_server_context(s, CCZ_HEQ_PACKED) == NULL);
    ccz_heq_client *c;
    CHECK_OK(ccz_heq_client_new(&c, CCZ_HEQ_PACKED));
    ccz_heq_query q;
    ccz_span keys[CCZ_HEQ_KEY_CTS];
    ccz_heq_answer a;
    CHECK_OK(ccz_heq_client_query(&q, c, CCZ_LIT("Utah")));
    ccz_heq_query_view qv = ccz_heq_query_view_of(&q, keys);
    rng_fail_start();
    ccz_status st = ccz_heq_server_answer(&a, s, &qv);
    rng_fail_stop();
    CHECK_STATUS(st, CCZ_ERR_CRYPTO);
    CHECK_STR(ccz_error_detail(), "no randomness");
    CHECK(a.value.ptr == NULL && a.value.len == 0);
    const ccz_lattice_context *packed = ccz_heq_server_context(s, CCZ_HEQ_PACKED);
    CHECK(packed != NULL && packed != ctx17);
    if (packed) {
        CHECK_INT(ccz_lattice_context_params(packed)->log_n, 14);
        CHECK_INT(ccz_lattice_context_params(packed)->plain_modulus, 65537);
    }
    CHECK(ccz_heq_server_context(s, CCZ_HEQ_FAST) == ctx17);
    ccz_heq_query_free(&q);
    ccz_heq_client_free(c);
    ccz_heq_server_free(s);
    ccz_heq_db_free(db);
}

/* An answer's form, read in the server's context: the data primes it is switched down to and
 * its components (2: relinearized). */
static void answer_form(const ccz_heq_server *s, ccz_heq_algorithm alg, const ccz_buf *value,
                        unsigned level)
{
    const ccz_lattice_context *ctx = ccz_heq_server_context(s, alg);
    ccz_lattice_ciphertext *ct = NULL;
    CHECK(ctx != NULL);
    if (!ctx)
        return;
    CHECK_OK(ccz_lattice_ciphertext_new(&ct, ctx));
    CHECK_OK(ccz_lattice_ciphertext_load(ct, ctx, ccz_buf_span(value)));
    CHECK_INT(ccz_lattice_ciphertext_level(ct), level);
    CHECK_INT(ccz_lattice_ciphertext_size(ct), 2);
    ccz_lattice_ciphertext_free(ct);
}

/* A database whose values are all empty: the packed layout is one chunk per value (16384
 * entries a block), and a packed lookup answers the empty value. */
static void test_packed_empty_values(void)
{
    ccz_heq_db *db = db_of("a,\nb,\n");
    ccz_heq_server *s = server_of(db);
    ccz_heq_client *c;
    CHECK_OK(ccz_heq_client_new(&c, CCZ_HEQ_PACKED));
    ccz_heq_query q;
    ccz_span keys[CCZ_HEQ_KEY_CTS];
    ccz_heq_answer a;
    CHECK_OK(ccz_heq_client_query(&q, c, CCZ_LIT("a")));
    ccz_heq_query_view qv = ccz_heq_query_view_of(&q, keys);
    CHECK_OK(ccz_heq_server_answer(&a, s, &qv));
    CHECK_INT(a.block, 16384);
    CHECK_INT(a.chunks, 1);
    answer_form(s, CCZ_HEQ_PACKED, &a.value, 2); /* two data primes */
    ccz_buf v = CCZ_BUF_INIT;
    int budget = 0;
    CHECK_OK(ccz_heq_client_decode(&v, &budget, c, ccz_buf_span(&a.value), a.block, a.chunks));
    CHECK_INT(v.len, 0);
    CHECK(budget > 0);
    ccz_buf_free(&v);
    ccz_buf_free(&a.value);
    ccz_heq_query_free(&q);
    ccz_heq_client_free(c);
    ccz_heq_server_free(s);
    ccz_heq_db_free(db);
}

/* Whether the entry asked for is in column 0 of a fresh packed answer. A layout of one slot
 * tells: its decoding is refused with the first slot past it that is set, or succeeds. */
static bool in_column0(ccz_heq_server *s, const ccz_heq_client *c, const ccz_heq_query_view *qv)
{
    ccz_heq_answer a;
    ccz_buf v = CCZ_BUF_INIT;
    int budget;
    CHECK_OK(ccz_heq_server_answer(&a, s, qv));
    CHECK_INT(a.block, 16384);
    CHECK_INT(a.chunks, 1);
    CHECK_OK(ccz_heq_client_decode(&v, &budget, c, ccz_buf_span(&a.value), a.block, a.chunks));
    CHECK(v.len == 1 && v.ptr[0] == 'v');
    v.len = 0;
    ccz_status st = ccz_heq_client_decode(&v, &budget, c, ccz_buf_span(&a.value), 1, 1);
    if (st != CCZ_OK) {
        CHECK_STATUS(st, CCZ_ERR_MALFORMED);
        CHECK_CONTAINS(ccz_error_detail(), "the answer is not a value: slot ");
    }
    ccz_buf_free(&v);
    ccz_buf_free(&a.value);
    return st == CCZ_OK;
}

/* The packed answer's column is the entry's place in a random order, not in the file's: the
 * file's first entry of 512, asked for twice, is in column 0 both times with probability 2^-18.
 * And every order is possible: of two entries, the first is in column 0 as often as in column
 * 1, so 40 answers that never show both columns (probability 2^-39) mean an order that always
 * moves it (a shuffle drawing from one place too few) or never does. */
static void test_packed_order(void)
{
    if (UNDER_ASAN) {
        fprintf(stderr, "  sanitizer build: the packed order runs in the optimized build\n");
        return;
    }
    char csv[512 * 7 + 1], *p = csv;
    for (int i = 0; i < 512; i++)
        p += sprintf(p, "k%03x,v\n", i);
    const char *files[] = {csv, "k000,v\nk001,w\n"};
    for (int f = 0; f < 2; f++) {
        ccz_heq_db *db = db_of(files[f]);
        ccz_heq_server *s = server_of(db);
        ccz_heq_client *c;
        CHECK_OK(ccz_heq_client_new(&c, CCZ_HEQ_PACKED));
        ccz_heq_query q;
        ccz_span keys[CCZ_HEQ_KEY_CTS];
        CHECK_OK(ccz_heq_client_query(&q, c, CCZ_LIT("k000")));
        ccz_heq_query_view qv = ccz_heq_query_view_of(&q, keys);
        int seen[2] = {0, 0};
        for (int i = 0; i < (f == 0 ? 2 : 40) && !(f == 1 && seen[0] && seen[1]); i++)
            seen[in_column0(s, c, &qv)]++;
        CHECK(seen[0] > 0);
        if (f == 1)
            CHECK(seen[1] > 0);
        ccz_heq_query_free(&q);
        ccz_heq_client_free(c);
        ccz_heq_server_free(s);
        ccz_heq_db_free(db);
    }
}

/* Keys one nibble apart by 3, a non-residue mod 17 ('a' 0x61, 'd' 0x64): the fast algorithm's
 * mask there is 1 - 3^16 = 0 after four squarings; a power short of 16 (3^8 = -1 mod 17) would
 * leave the other entry in the sum twice. */
static void test_nibble_distance(void)
{
    ccz_heq_db *db = db_of("a,first\nd,second\n");
    ccz_heq_server *s = server_of(db);
    ccz_heq_client *c;
    CHECK_OK(ccz_heq_client_new(&c, CCZ_HEQ_FAST));
    lookup(s, c, "a", "first");
    lookup(s, c, "d", "second");
    ccz_heq_client_free(c);
    ccz_heq_server_free(s);
    ccz_heq_db_free(db);
}

/* More entries than the fast algorithm's batch of 64: the entry sorted last is in a second
 * batch of its own (its tree and its value); two positions have more than three nibbles (7 and
 * 10: "k00" to "k64"), so their masks come from the powers of the query nibble. */
static void test_batches(void)
{
    char csv[65 * 9 + 1], *p = csv;
    for (int i = 0; i < 65; i++)
        p += sprintf(p, "k%02d,v%02d\n", i, i);
    ccz_heq_db *db = db_of(csv);
    CHECK_INT(ccz_heq_db_size(db), 65);
    ccz_heq_server *s = server_of(db);
    ccz_heq_client *c;
    CHECK_OK(ccz_heq_client_new(&c, CCZ_HEQ_FAST));
    lookup(s, c, "k64", "v64");
    lookup(s, c, "k00", "v00"); /* the first batch's sum kept when the second's is added */
    ccz_heq_client_free(c);
    ccz_heq_server_free(s);
    ccz_heq_db_free(db);
}

/* A query answered twice: two ciphertexts (the answer is re-randomized by a fresh encryption
 * of zero), the same value, each a relinearized ciphertext at one data prime. A key ciphertext
 * of three components (a third of zeros: the same encryption) is relinearized before the search
 * and answered as well. */
static void test_answer_forms(void)
{
    ccz_heq_db *db = db_of("key,value\n");
    ccz_heq_server *s = server_of(db);
    ccz_heq_client *c;
    CHECK_OK(ccz_heq_client_new(&c, CCZ_HEQ_FAST));
    ccz_heq_query q;
    ccz_span keys[CCZ_HEQ_KEY_CTS];
    CHECK_OK(ccz_heq_client_query(&q, c, CCZ_LIT("key")));
    ccz_heq_query_view qv = ccz_heq_query_view_of(&q, keys);
    ccz_heq_answer a[2];
    ccz_buf v = CCZ_BUF_INIT;
    int budget;
    for (int i = 0; i < 2; i++) {
        CHECK_OK(ccz_heq_server_answer(&a[i], s, &qv));
        CHECK_OK(ccz_heq_client_decode(&v, &budget, c, ccz_buf_span(&a[i].value), 0, 0));
        CHECK(v.len == 5 && memcmp(v.ptr, "value", 5) == 0 && budget > 0);
        v.len = 0;
        answer_form(s, CCZ_HEQ_FAST, &a[i].value, 1); /* one data prime, relinearized */
    }
    CHECK(a[0].value.len == a[1].value.len);
    CHECK(memcmp(a[0].value.ptr, a[1].value.ptr, a[0].value.len) != 0);
    ccz_buf_free(&a[0].value);
    ccz_buf_free(&a[1].value);
    /* byte 20 of a ciphertext is its number of components; the residues follow at 31 */
    ccz_buf three = CCZ_BUF_INIT;
    size_t comp = (q.key[0].len - 31) / 2;
    CHECK_OK(ccz_buf_append(&three, q.key[0].ptr, q.key[0].len));
    CHECK_OK(ccz_buf_reserve(&three, comp));
    memset(three.ptr + three.len, 0, comp);
    three.len += comp;
    three.ptr[20] = 3;
    keys[0] = ccz_buf_span(&three);
    CHECK_OK(ccz_heq_server_answer(&a[0], s, &qv));
    CHECK_OK(ccz_heq_client_decode(&v, &budget, c, ccz_buf_span(&a[0].value), 0, 0));
    CHECK(v.len == 5 && memcmp(v.ptr, "value", 5) == 0 && budget > 0);
    ccz_buf_free(&a[0].value);
    ccz_buf_free(&three);
    ccz_buf_free(&v);
    ccz_heq_query_free(&q);
    ccz_heq_client_free(c);
    ccz_heq_server_free(s);
    ccz_heq_db_free(db);
}

/* ---- the service over plaintext gRPC -----------------------------------------------------------*/

typedef struct {
    ccz_rpc_server *rpc;
    ccz_heq_service *svc;
    pthread_t thread;
    char target[64];
    ccz_rpc_channel *ch;
} service;

/* The service of hs (max_pending 0: the default) on a loopback server, and a channel to it. */
/* Where service_start's service logs (NULL: nowhere). */
static FILE *service_log;

/* The server's and the channel's max_message (0: 16 MiB at the server, a fast query being
 * 7.5 MiB, and 32 MiB at the channel). */
static size_t service_max_message;

static void service_start(service *sv, ccz_heq_server *hs, unsigned max_pending)
{
    memset(sv, 0, sizeof *sv);
    ccz_rpc_server_opts so = CCZ_RPC_SERVER_OPTS_INIT;
    so.max_message = service_max_message ? service_max_message : 16u << 20;
    CHECK_OK(ccz_rpc_server_new(&sv->rpc, &so));
    ccz_heq_service_opts vo = CCZ_HEQ_SERVICE_OPTS_INIT;
    vo.server = hs;
    vo.max_pending = max_pending;
    vo.log = service_log;
    CHECK_OK(ccz_heq_service_new(&sv->svc, sv->rpc, &vo));
    rpc_serve(sv->rpc, &sv->thread, sv->target);
    ccz_rpc_channel_opts co = CCZ_RPC_CHANNEL_OPTS_INIT;
    co.max_message = service_max_message ? service_max_message : 32u << 20;
    CHECK_OK(ccz_rpc_channel_new(&sv->ch, sv->target, &co));
}

static void service_stop(service *sv)
{
    ccz_rpc_channel_free(sv->ch);
    rpc_serve_stop(sv->rpc, sv->thread, 500);
    ccz_heq_service_free(sv->svc);
    ccz_rpc_server_free(sv->rpc);
}

#define PATH "/ccz.hequery.HeQuery/Query"

/* A request from q with the given changes; the call's status code and message. */
static int call(ccz_rpc_channel *ch, const Ccz__Hequery__QueryRequest *r, char *msg, size_t cap)
{
    ccz_rpc_status st;
    ProtobufCMessage *resp = NULL;
    CHECK_OK(ccz_rpc_unary(ch, &resp, &st, PATH, &r->base, &ccz__hequery__query_reply__descriptor,
                           NULL));
    snprintf(msg, cap, "%s", st.message);
    int code = st.code;
    ccz_rpc_status_free(&st);
    if (resp)
        protobuf_c_message_free_unpacked(resp, NULL);
    return code;
}

static ProtobufCBinaryData bin(const ccz_buf *b)
{
    return (ProtobufCBinaryData){b->len, b->ptr};
}

static void request_of(Ccz__Hequery__QueryRequest *r, ProtobufCBinaryData *keys,
                       const ccz_heq_query *q)
{
    Ccz__Hequery__QueryRequest init = CCZ__HEQUERY__QUERY_REQUEST__INIT;
    *r = init;
    r->algorithm = (Ccz__Hequery__Algorithm)q->algorithm;
    r->params = bin(&q->params);
    r->public_key = bin(&q->public_key);
    r->relin_keys = bin(&q->relin_keys);
    for (int i = 0; i < CCZ_HEQ_KEY_CTS; i++)
        keys[i] = bin(&q->key[i]);
    r->n_key = CCZ_HEQ_KEY_CTS;
    r->key = keys;
}

static void hostile(ccz_rpc_channel *ch, const Ccz__Hequery__QueryRequest *r, int want,
                    const char *why)
{
    char msg[512];
    int code = call(ch, r, msg, sizeof msg);
    if (code != want)
        fprintf(stderr, "  expected %s for '%s', got %s: %s\n", ccz_rpc_code_name(want), why,
                ccz_rpc_code_name(code), msg);
    CHECK_INT(code, want);
    CHECK_CONTAINS(msg, why);
}

/* Parameters, keys and a ciphertext of another context (N = 4096, t = 17), and the fast
 * algorithm's parameters with only the plaintext modulus changed (t = 65537), or only the order
 * of its first two primes, or only its last prime (65537), or a sixth prime after its five, or only N (4096, the same primes),
 * or only the scheme (CKKS, the same N, primes and t). */
typedef struct {
    ccz_buf params, pk, rk, ct, t_params, primes_params, last_params, longer_params, n_params,
        ckks_params;
} other_kit;

static void other_kit_make(other_kit *o)
{
    memset(o, 0, sizeof *o);
    ccz_lattice_params p;
    ccz_lattice_context *ctx;
    ccz_lattice_secret_key *sk;
    ccz_lattice_public_key *pk;
    ccz_lattice_relin_keys *rk;
    ccz_lattice_plaintext *pt;
    ccz_lattice_ciphertext *ct;
    CHECK_OK(ccz_lattice_preset(&p, CCZ_LATTICE_BFV, 12));
    p.plain_modulus = 17;
    CHECK_OK(ccz_lattice_context_new(&ctx, &p));
    CHECK_OK(ccz_lattice_keygen(&sk, &pk, ctx));
    CHECK_OK(ccz_lattice_relin_keygen(&rk, ctx, sk));
    CHECK_OK(ccz_lattice_plaintext_new(&pt, ctx));
    CHECK_OK(ccz_lattice_ciphertext_new(&ct, ctx));
    uint64_t one = 1;
    CHECK_OK(ccz_lattice_bfv_encode_coeffs(pt, ctx, &one, 1));
    CHECK_OK(ccz_lattice_encrypt(ct, ctx, pk, pt));
    CHECK_OK(ccz_lattice_params_save(&o->params, ctx));
    CHECK_OK(ccz_lattice_public_key_save(&o->pk, pk));
    CHECK_OK(ccz_lattice_relin_keys_save(&o->rk, rk));
    CHECK_OK(ccz_lattice_ciphertext_save(&o->ct, ct));
    ccz_lattice_context *tctx;
    CHECK_OK(ccz_heq_params(&p, CCZ_HEQ_FAST));
    p.plain_modulus = 65537;
    CHECK_OK(ccz_lattice_context_new(&tctx, &p));
    CHECK_OK(ccz_lattice_params_save(&o->t_params, tctx));
    ccz_lattice_context_free(tctx);
    CHECK_OK(ccz_heq_params(&p, CCZ_HEQ_FAST));
    CHECK_OK(ccz_lattice_context_new(&tctx, &p));
    unsigned n_primes;
    const uint64_t *primes = ccz_lattice_context_primes(&n_primes, tctx);
    memcpy(p.coeff_primes, primes, n_primes * sizeof *primes);
    p.coeff_primes[0] = primes[1];
    p.coeff_primes[1] = primes[0];
    ccz_lattice_context_free(tctx);
    CHECK_OK(ccz_lattice_context_new(&tctx, &p));
    CHECK_OK(ccz_lattice_params_save(&o->primes_params, tctx));
    ccz_lattice_context_free(tctx);
    uint64_t swapped = p.coeff_primes[0]; /* the order put back */
    p.coeff_primes[0] = p.coeff_primes[1];
    p.coeff_primes[1] = swapped;
    p.coeff_primes[n_primes] = 65537; /* 1 mod 2N */
    p.n_primes = n_primes + 1;
    p.no_security_check = true;
    CHECK_OK(ccz_lattice_context_new(&tctx, &p));
    CHECK_OK(ccz_lattice_params_save(&o->longer_params, tctx));
    ccz_lattice_context_free(tctx);
    p.n_primes = n_primes; /* the five, the last one another */
    uint64_t last = p.coeff_primes[n_primes - 1];
    p.coeff_primes[n_primes - 1] = 65537;
    CHECK_OK(ccz_lattice_context_new(&tctx, &p));
    CHECK_OK(ccz_lattice_params_save(&o->last_params, tctx));
    ccz_lattice_context_free(tctx);
    p.coeff_primes[n_primes - 1] = last;
    p.n_primes = n_primes; /* the five again: at N = 4096 (1 mod 2N still; beyond its bound) */
    p.log_n = 12;
    CHECK_OK(ccz_lattice_context_new(&tctx, &p));
    CHECK_OK(ccz_lattice_params_save(&o->n_params, tctx));
    ccz_lattice_context_free(tctx);
    p.log_n = 13; /* N = 8192 and t = 17 again, as CKKS */
    p.no_security_check = false;
    p.scheme = CCZ_LATTICE_CKKS;
    p.scale = 0x1p40;
    CHECK_OK(ccz_lattice_context_new(&tctx, &p));
    CHECK_OK(ccz_lattice_params_save(&o->ckks_params, tctx));
    ccz_lattice_context_free(tctx);
    ccz_lattice_ciphertext_free(ct);
    ccz_lattice_plaintext_free(pt);
    ccz_lattice_relin_keys_free(rk);
    ccz_lattice_public_key_free(pk);
    ccz_lattice_secret_key_free(sk);
    ccz_lattice_context_free(ctx);
}

static void other_kit_free(other_kit *o)
{
    ccz_buf_free(&o->params);
    ccz_buf_free(&o->pk);
    ccz_buf_free(&o->rk);
    ccz_buf_free(&o->ct);
    ccz_buf_free(&o->t_params);
    ccz_buf_free(&o->primes_params);
    ccz_buf_free(&o->last_params);
    ccz_buf_free(&o->longer_params);
    ccz_buf_free(&o->n_params);
    ccz_buf_free(&o->ckks_params);
}

/* A ciphertext one level down. */
static void switched_down(ccz_buf *out, const ccz_buf *in)
{
    ccz_lattice_params p;
    ccz_lattice_context *ctx;
    ccz_lattice_ciphertext *ct;
    CHECK_OK(ccz_heq_params(&p, CCZ_HEQ_FAST));
    CHECK_OK(ccz_lattice_context_new(&ctx, &p));
    CHECK_OK(ccz_lattice_ciphertext_new(&ct, ctx));
    CHECK_OK(ccz_lattice_ciphertext_load(ct, ctx, ccz_buf_span(in)));
    CHECK_OK(ccz_lattice_mod_switch(ct, ctx));
    CHECK_OK(ccz_lattice_ciphertext_save(out, ct));
    ccz_lattice_ciphertext_free(ct);
    ccz_lattice_context_free(ctx);
}

static void test_service(void)
{
    ccz_heq_db *db = db_of("key,value\n");
    ccz_heq_server *hs = server_of(db);
    service sv;
    service_start(&sv, hs, 0);
    ccz_rpc_channel *ch = sv.ch;

    /* a lookup */
    ccz_heq_lookup_result res;
    ccz_heq_lookup_opts lo = CCZ_HEQ_LOOKUP_OPTS_INIT;
    CHECK_OK(ccz_heq_lookup(&res, ch, &lo, CCZ_LIT("key")));
    CHECK_INT(res.code, CCZ_RPC_OK);
    CHECK(res.value.len == 5 && memcmp(res.value.ptr, "value", 5) == 0);
    CHECK(res.noise_budget > 0 && res.sent > 7000000 && res.received < 100000);
    CHECK(res.server_load_s > 0 && res.server_search_s > 0); /* the server's times, as it took */
    ccz_buf_free(&res.value);

    /* hostile queries, each refused with its reason */
    ccz_heq_client *fast;
    ccz_heq_query q;
    other_kit ok;
    other_kit_make(&ok);
    CHECK_OK(ccz_heq_client_new(&fast, CCZ_HEQ_FAST));
    CHECK_OK(ccz_heq_client_query(&q, fast, CCZ_LIT("key")));
    Ccz__Hequery__QueryRequest r;
    ProtobufCBinaryData keys[CCZ_HEQ_KEY_CTS];
    request_of(&r, keys, &q);
    r.algorithm = CCZ__HEQUERY__ALGORITHM__ALGORITHM_UNSPECIFIED;
    hostile(ch, &r, CCZ_RPC_INVALID_ARGUMENT, "algorithm 0: FAITHFUL, FAST or PACKED");
    r.algorithm = (Ccz__Hequery__Algorithm)(CCZ__HEQUERY__ALGORITHM__PACKED + 1);
    hostile(ch, &r, CCZ_RPC_INVALID_ARGUMENT, "algorithm 4: FAITHFUL, FAST or PACKED");
    request_of(&r, keys, &q);
    r.n_key = 15;
    hostile(ch, &r, CCZ_RPC_INVALID_ARGUMENT, "the key is 16 ciphertexts (two nibbles for each");
    ProtobufCBinaryData more[CCZ_HEQ_KEY_CTS + 1]; /* one ciphertext too many */
    request_of(&r, more, &q);
    more[CCZ_HEQ_KEY_CTS] = more[0];
    r.n_key = CCZ_HEQ_KEY_CTS + 1;
    hostile(ch, &r, CCZ_RPC_INVALID_ARGUMENT,
            "the key is 16 ciphertexts (two nibbles for each of 8 bytes), not 17");
    request_of(&r, keys, &q); /* N = 4096 */
    r.params = bin(&ok.params);
    hostile(ch, &r, CCZ_RPC_INVALID_ARGUMENT,
            "parameters: the fast algorithm runs BFV with N = 8192, t = 17 and SEAL's default "
            "chain of 5 primes; the query has BFV with N = 4096, t = 17, 3 primes");
    request_of(&r, keys, &q); /* the same N and primes, another plaintext modulus */
    r.params = bin(&ok.t_params);
    hostile(ch, &r, CCZ_RPC_INVALID_ARGUMENT,
            "parameters: the fast algorithm runs BFV with N = 8192, t = 17 and SEAL's default "
            "chain of 5 primes; the query has BFV with N = 8192, t = 65537, 5 primes");
    request_of(&r, keys, &q); /* the same N, t and number of primes; two of them swapped */
    r.params = bin(&ok.primes_params);
    hostile(ch, &r, CCZ_RPC_INVALID_ARGUMENT,
            "parameters: the fast algorithm runs BFV with N = 8192, t = 17 and SEAL's default "
            "chain of 5 primes; the query has BFV with N = 8192, t = 17, 5 primes");
    request_of(&r, keys, &q); /* the same N, t and first four primes; another last one */
    r.params = bin(&ok.last_params);
    hostile(ch, &r, CCZ_RPC_INVALID_ARGUMENT,
            "parameters: the fast algorithm runs BFV with N = 8192, t = 17 and SEAL's default "
            "chain of 5 primes; the query has BFV with N = 8192, t = 17, 5 primes");
    request_of(&r, keys, &q); /* the five primes and one more */
    r.params = bin(&ok.longer_params);
    hostile(ch, &r, CCZ_RPC_INVALID_ARGUMENT,
            "parameters: the fast algorithm runs BFV with N = 8192, t = 17 and SEAL's default "
            "chain of 5 primes; the query has BFV with N = 8192, t = 17, 6 primes");
    request_of(&r, keys, &q); /* the five primes and t, another N */
    r.params = bin(&ok.n_params);
    hostile(ch, &r, CCZ_RPC_INVALID_ARGUMENT,
            "parameters: the fast algorithm runs BFV with N = 8192, t = 17 and SEAL's default "
            "chain of 5 primes; the query has BFV with N = 4096, t = 17, 5 primes");
    request_of(&r, keys, &q); /* N, the five primes and t, another scheme */
    r.params = bin(&ok.ckks_params);
    hostile(ch, &r, CCZ_RPC_INVALID_ARGUMENT,
            "parameters: the fast algorithm runs BFV with N = 8192, t = 17 and SEAL's default "
            "chain of 5 primes; the query has CKKS with N = 8192, t = 17, 5 primes");
    request_of(&r, keys, &q);
    r.algorithm = CCZ__HEQUERY__ALGORITHM__PACKED; /* fast parameters, asked as packed */
    hostile(ch, &r, CCZ_RPC_INVALID_ARGUMENT,
            "parameters: the packed algorithm runs BFV with "
            "N = 16384, t = 65537");
    request_of(&r, keys, &q); /* the right parameters, keys of other ones */
    r.public_key = bin(&ok.pk);
    hostile(ch, &r, CCZ_RPC_INVALID_ARGUMENT,
            "public key: the public key was made with other parameters");
    request_of(&r, keys, &q);
    r.relin_keys = bin(&ok.rk);
    hostile(ch, &r, CCZ_RPC_INVALID_ARGUMENT,
            "relinearization keys: the relinearization keys was made with other parameters");
    request_of(&r, keys, &q);
    keys[5] = bin(&ok.ct);
    hostile(ch, &r, CCZ_RPC_INVALID_ARGUMENT,
            "key ciphertext 5: the ciphertext was made with other parameters");
    request_of(&r, keys, &q); /* a good query; the server's RNG fails: its fault, not the query's */
    rng_fail_start();
    char why[512];
    int code = call(ch, &r, why, sizeof why);
    rng_fail_stop();
    CHECK_INT(code, CCZ_RPC_INTERNAL);
    CHECK_CONTAINS(why, "the RNG failed");
    ccz_buf lower = CCZ_BUF_INIT; /* a key ciphertext switched down a level: no room left */
    switched_down(&lower, &q.key[2]);
    request_of(&r, keys, &q);
    keys[2] = bin(&lower);
    hostile(ch, &r, CCZ_RPC_INVALID_ARGUMENT,
            "key ciphertext 2 is at level 3, not 4 (a fresh encryption)");
    ccz_buf_free(&lower);
    request_of(&r, keys, &q);
    keys[3].len /= 2; /* truncated */
    hostile(ch, &r, CCZ_RPC_INVALID_ARGUMENT, "key ciphertext 3: ");
    ccz_buf longer = CCZ_BUF_INIT; /* oversized: bytes after the ciphertext */
    CHECK_OK(ccz_buf_append(&longer, q.key[0].ptr, q.key[0].len));
    CHECK_OK(ccz_buf_append(&longer, "\0\0\0\0\0\0\0\0", 8));
    request_of(&r, keys, &q);
    keys[0] = bin(&longer);
    hostile(ch, &r, CCZ_RPC_INVALID_ARGUMENT, "key ciphertext 0: ");
    request_of(&r, keys, &q);
    r.params.len = 10;
    hostile(ch, &r, CCZ_RPC_INVALID_ARGUMENT, "parameters: ");
    request_of(&r, keys, &q);
    r.public_key.len = 0;
    hostile(ch, &r, CCZ_RPC_INVALID_ARGUMENT, "public key: ");
    /* a message over the server's limit: refused by the transport (on a channel of its own:
     * bytes it had in flight are lost to its connection) */
    ccz_rpc_channel *ch2;
    ccz_rpc_channel_opts co = CCZ_RPC_CHANNEL_OPTS_INIT;
    co.max_message = 32u << 20;
    CHECK_OK(ccz_rpc_channel_new(&ch2, sv.target, &co));
    ccz_buf huge = CCZ_BUF_INIT;
    CHECK_OK(ccz_buf_reserve(&huge, 17u << 20));
    memset(huge.ptr, 0x5a, 17u << 20);
    huge.len = 17u << 20;
    request_of(&r, keys, &q);
    r.relin_keys = bin(&huge);
    hostile(ch2, &r, CCZ_RPC_RESOURCE_EXHAUSTED, "exceeds the limit");
    ccz_rpc_channel_free(ch2);
    ccz_buf_free(&huge);
    ccz_buf_free(&longer);

    /* and the server still answers */
    CHECK_OK(ccz_heq_lookup(&res, ch, &lo, CCZ_LIT("nothing")));
    CHECK_INT(res.code, CCZ_RPC_OK);
    CHECK_INT(res.value.len, 0);
    ccz_buf_free(&res.value);

    ccz_heq_query_free(&q);
    ccz_heq_client_free(fast);
    other_kit_free(&ok);
    service_stop(&sv);
    ccz_heq_server_free(hs);
    ccz_heq_db_free(db);
}

/* A service that takes one query at a time: three sent at once on a connection (they arrive
 * together, interleaved), the first computed, the others refused at once while it runs; rounds
 * repeat (at most five) until one is refused. */
static void test_busy(void)
{
    ccz_heq_db *db = db_of("key,value\n");
    ccz_heq_server *hs = server_of(db);
    service sv;
    service_start(&sv, hs, 1);
    ccz_rpc_channel *ch = sv.ch;
    ccz_heq_client *fast;
    ccz_heq_query q;
    CHECK_OK(ccz_heq_client_new(&fast, CCZ_HEQ_FAST));
    CHECK_OK(ccz_heq_client_query(&q, fast, CCZ_LIT("key")));
    Ccz__Hequery__QueryRequest r;
    ProtobufCBinaryData keys[CCZ_HEQ_KEY_CTS];
    request_of(&r, keys, &q);
    unsigned busy = 0, rounds = 0;
    while (busy == 0 && rounds++ < 5) {
        rpc_outcome out[3];
        for (int i = 0; i < 3; i++) {
            out[i].code = -2;
            CHECK_OK(ccz_rpc_start(ch, NULL, PATH, &r.base, &ccz__hequery__query_reply__descriptor,
                                   NULL, NULL, rpc_outcome_done, &out[i]));
        }
        CHECK_OK(ccz_rpc_channel_run(ch));
        unsigned ran = 0;
        for (int i = 0; i < 3; i++) {
            if (out[i].code == CCZ_RPC_RESOURCE_EXHAUSTED) {
                CHECK_STR(out[i].message, "busy: 1 query is waiting or running");
                busy++;
            } else {
                CHECK_INT(out[i].code, CCZ_RPC_OK);
                ran++;
            }
        }
        CHECK(ran >= 1);
        printf("busy round %u: %u answered, %u refused\n", rounds, ran, 3 - ran);
    }
    CHECK(busy > 0);
    /* and the next query is answered */
    ccz_heq_lookup_result res;
    ccz_heq_lookup_opts lo = CCZ_HEQ_LOOKUP_OPTS_INIT;
    CHECK_OK(ccz_heq_lookup(&res, ch, &lo, CCZ_LIT("key")));
    CHECK_INT(res.code, CCZ_RPC_OK);
    CHECK(res.value.len == 5 && memcmp(res.value.ptr, "value", 5) == 0);
    ccz_buf_free(&res.value);
    ccz_heq_query_free(&q);
    ccz_heq_client_free(fast);
    service_stop(&sv);
    ccz_heq_server_free(hs);
    ccz_heq_db_free(db);
}

/* The bound on queries waiting or running, exactly: with max_pending 2 and the worker held
 * inside a fast query (at its first draw from the RNG), one more query waits and the next is
 * refused RESOURCE_EXHAUSTED at once, its refusal letting the worker go (were it taken instead,
 * its deadline of 3 s ends it and lets the worker go). The one that waited is then answered
 * (refused for its parameters: it has no objects), the held one too, and both places are given
 * back: two more sent at once are both taken. */
typedef struct {
    const char *target;
    const Ccz__Hequery__QueryRequest *r;
    int code;
    char msg[512];
    double setup_seconds; /* the reply's */
    int64_t deadline_ms;  /* the call's (0: none) */
} held_query;

static void *held_query_run(void *arg)
{
    held_query *h = arg;
    ccz_rpc_channel *ch;
    ccz_rpc_channel_opts co = CCZ_RPC_CHANNEL_OPTS_INIT;
    co.max_message = 32u << 20;
    CHECK_OK(ccz_rpc_channel_new(&ch, h->target, &co));
    ccz_rpc_status st;
    ProtobufCMessage *resp = NULL;
    ccz_rpc_call_opts o = CCZ_RPC_CALL_OPTS_INIT;
    o.deadline_ms = h->deadline_ms;
    CHECK_OK(ccz_rpc_unary(ch, &resp, &st, PATH, &h->r->base,
                           &ccz__hequery__query_reply__descriptor, &o));
    h->code = st.code;
    snprintf(h->msg, sizeof h->msg, "%s", st.message);
    ccz_rpc_status_free(&st);
    if (resp) {
        h->setup_seconds = ((Ccz__Hequery__QueryReply *)resp)->setup_seconds;
        protobuf_c_message_free_unpacked(resp, NULL);
    }
    ccz_rpc_channel_free(ch);
    return NULL;
}

static void let_worker_go(const ccz_rpc_status *st, void *payload)
{
    rpc_outcome_done(st, payload);
    rng_hold_release();
}

/* The service's one worker held inside a query of algorithm a (at its first draw from the RNG),
 * sent from a thread of its own; held_worker_join waits for that query's answer once the worker
 * is let go. */
typedef struct {
    ccz_heq_client *client;
    ccz_heq_query q;
    Ccz__Hequery__QueryRequest good;
    ProtobufCBinaryData good_keys[CCZ_HEQ_KEY_CTS];
    held_query h;
    pthread_t t;
} held_worker;

static void held_worker_start(held_worker *w, const char *target, ccz_heq_algorithm a)
{
    CHECK_OK(ccz_heq_client_new(&w->client, a));
    CHECK_OK(ccz_heq_client_query(&w->q, w->client, CCZ_LIT("key")));
    request_of(&w->good, w->good_keys, &w->q);
    w->h = (held_query){target, &w->good, -2, "", 0, 0};
    rng_hold_start(1);
    test_thread(&w->t, held_query_run, &w->h);
    CHECK(rng_hold_wait(30000));
}

static void held_worker_join(held_worker *w)
{
    pthread_join(w->t, NULL);
    rng_hold_stop();
    CHECK_INT(w->h.code, CCZ_RPC_OK);
    ccz_heq_query_free(&w->q);
    ccz_heq_client_free(w->client);
}

/* A fast query without its objects: quick to refuse once a worker takes it ("parameters: "). */
static void empty_request(Ccz__Hequery__QueryRequest *r, ProtobufCBinaryData *keys)
{
    *r = (Ccz__Hequery__QueryRequest)CCZ__HEQUERY__QUERY_REQUEST__INIT;
    memset(keys, 0, CCZ_HEQ_KEY_CTS * sizeof *keys);
    r->algorithm = CCZ__HEQUERY__ALGORITHM__FAST;
    r->n_key = CCZ_HEQ_KEY_CTS;
    r->key = keys;
}

static void test_pending_exact(void)
{
    ccz_heq_db *db = db_of("key,value\n");
    ccz_heq_server *hs = server_of(db);
    service sv;
    service_start(&sv, hs, 2);
    held_worker w;
    held_worker_start(&w, sv.target, CCZ_HEQ_FAST);
    Ccz__Hequery__QueryRequest r;
    ProtobufCBinaryData keys[CCZ_HEQ_KEY_CTS];
    empty_request(&r, keys);
    rpc_outcome out[2];
    for (int i = 0; i < 2; i++) {
        out[i].code = -2;
        ccz_rpc_call_opts co = {CCZ_RPC_CALL_OPTS_VERSION, i == 0 ? 60000 : 3000, NULL};
        CHECK_OK(ccz_rpc_start(sv.ch, NULL, PATH, &r.base, &ccz__hequery__query_reply__descriptor,
                               &co, NULL, i == 0 ? rpc_outcome_done : let_worker_go, &out[i]));
    }
    CHECK_OK(ccz_rpc_channel_run(sv.ch));
    held_worker_join(&w);
    CHECK_INT(out[0].code, CCZ_RPC_INVALID_ARGUMENT);
    CHECK_CONTAINS(out[0].message, "parameters: ");
    CHECK_INT(out[1].code, CCZ_RPC_RESOURCE_EXHAUSTED);
    CHECK_STR(out[1].message, "busy: 2 queries are waiting or running");
    for (int i = 0; i < 2; i++) {
        out[i].code = -2;
        CHECK_OK(ccz_rpc_start(sv.ch, NULL, PATH, &r.base, &ccz__hequery__query_reply__descriptor,
                               NULL, NULL, rpc_outcome_done, &out[i]));
    }
    CHECK_OK(ccz_rpc_channel_run(sv.ch));
    for (int i = 0; i < 2; i++) {
        CHECK_INT(out[i].code, CCZ_RPC_INVALID_ARGUMENT);
        CHECK_CONTAINS(out[i].message, "parameters: ");
    }
    service_stop(&sv);
    ccz_heq_server_free(hs);
    ccz_heq_db_free(db);
}

/* The packed algorithm through the service, at the request size a server must take for it
 * (CCZ_HEQ_MAX_MESSAGE, as 'ccz he query serve' sets): the query (about 40 MiB) within it, the
 * answer's block and chunks given back to the client, which decrypts the value with them. */
static void test_packed_service(void)
{
    ccz_heq_db *db = db_of("key,value\nother,thing\n");
    ccz_heq_server *hs = server_of(db);
    service sv;
    service_max_message = CCZ_HEQ_MAX_MESSAGE;
    service_start(&sv, hs, 0);
    service_max_message = 0;
    ccz_heq_lookup_result res;
    ccz_heq_lookup_opts lo = CCZ_HEQ_LOOKUP_OPTS_INIT;
    lo.algorithm = CCZ_HEQ_PACKED;
    CHECK_OK(ccz_heq_lookup(&res, sv.ch, &lo, CCZ_LIT("other")));
    CHECK_INT(res.code, CCZ_RPC_OK);
    CHECK(res.value.len == 5 && memcmp(res.value.ptr, "thing", 5) == 0);
    CHECK(res.sent > (32u << 20) && res.sent <= CCZ_HEQ_MAX_MESSAGE);
    printf("packed: %zu bytes sent, %zu received\n", res.sent, res.received);
    ccz_buf_free(&res.value);
    service_stop(&sv);
    ccz_heq_server_free(hs);
    ccz_heq_db_free(db);
}

/* The default of 4 queries waiting or running: eight requests sent at once, each small (no
 * objects: the worker refuses it at once, yet it waits its turn like any other); rounds repeat
 * (at most five) until the fifth and later ones find four pending. */
static void test_default_pending(void)
{
    ccz_heq_db *db = db_of("key,value\n");
    ccz_heq_server *hs = server_of(db);
    service sv;
    service_start(&sv, hs, 0);
    Ccz__Hequery__QueryRequest r = CCZ__HEQUERY__QUERY_REQUEST__INIT;
    ProtobufCBinaryData keys[CCZ_HEQ_KEY_CTS] = {{0, NULL}};
    r.algorithm = CCZ__HEQUERY__ALGORITHM__FAST;
    r.n_key = CCZ_HEQ_KEY_CTS;
    r.key = keys;
    unsigned busy = 0, rounds = 0;
    while (busy == 0 && rounds++ < 5) {
        rpc_outcome out[8];
        for (int i = 0; i < 8; i++) {
            out[i].code = -2;
            CHECK_OK(ccz_rpc_start(sv.ch, NULL, PATH, &r.base,
                                   &ccz__hequery__query_reply__descriptor, NULL, NULL,
                                   rpc_outcome_done, &out[i]));
        }
        CHECK_OK(ccz_rpc_channel_run(sv.ch));
        for (int i = 0; i < 8; i++) {
            if (out[i].code == CCZ_RPC_RESOURCE_EXHAUSTED) {
                CHECK_STR(out[i].message, "busy: 4 queries are waiting or running");
                busy++;
            } else {
                CHECK_INT(out[i].code, CCZ_RPC_INVALID_ARGUMENT);
                CHECK_CONTAINS(out[i].message, "parameters: ");
            }
        }
        CHECK(busy <= 4);
        printf("default pending round %u: %u refused as busy\n", rounds, busy);
    }
    CHECK(busy > 0);
    service_stop(&sv);
    ccz_heq_server_free(hs);
    ccz_heq_db_free(db);
}

/* The service of an empty database, logging into memory, its one worker held inside a query of
 * algorithm a (at its first draw from the RNG, from a thread of its own); r, a fast query without
 * its objects (empty_request: were it run, refused for its parameters) to queue behind it. */
typedef struct {
    ccz_heq_db *db;
    ccz_heq_server *hs;
    test_memlog log;
    service sv;
    held_worker w;
    Ccz__Hequery__QueryRequest r;
    ProtobufCBinaryData keys[CCZ_HEQ_KEY_CTS];
} held_service;

static void held_service_start(held_service *h, ccz_heq_algorithm a)
{
    h->db = db_of("key,value\n");
    h->hs = server_of(h->db);
    service_log = test_memlog_open(&h->log);
    service_start(&h->sv, h->hs, 0);
    held_worker_start(&h->w, h->sv.target, a);
    empty_request(&h->r, h->keys);
}

/* Lets the worker go (its held query answered), sends r again without a deadline and sees it
 * refused for its parameters (so the worker has been through whatever waited before it), stops
 * the service and returns its log (the caller frees it). */
static char *held_service_end(held_service *h)
{
    rng_hold_release();
    held_worker_join(&h->w);
    char why[512];
    CHECK_INT(call(h->sv.ch, &h->r, why, sizeof why), CCZ_RPC_INVALID_ARGUMENT);
    CHECK_CONTAINS(why, "parameters: ");
    service_stop(&h->sv); /* the worker is done: the log is whole */
    service_log = NULL;
    char *text = test_memlog_close(&h->log);
    ccz_heq_server_free(h->hs);
    ccz_heq_db_free(h->db);
    return text;
}

/* A query whose client's deadline passes while it waits behind another is not computed: the
 * worker drops it and logs why. The worker held inside a faithful query, r sent meanwhile with a
 * deadline of 200 ms ends DEADLINE_EXCEEDED for its client; let go, the worker answers the
 * faithful query (its setup time reported: the database encrypted), and the service's log says
 * the other was dropped, not that its parameters were looked at; the same query sent again
 * without a deadline is. */
static void test_deadline_in_queue(void)
{
    if (UNDER_ASAN) {
        fprintf(stderr, "  sanitizer build: the faithful lookup runs in the optimized build\n");
        return;
    }
    held_service h;
    held_service_start(&h, CCZ_HEQ_FAITHFUL);
    ccz_rpc_call_opts co = CCZ_RPC_CALL_OPTS_INIT;
    co.deadline_ms = 200;
    ccz_rpc_status st;
    ProtobufCMessage *resp = NULL;
    CHECK_OK(ccz_rpc_unary(h.sv.ch, &resp, &st, PATH, &h.r.base,
                           &ccz__hequery__query_reply__descriptor, &co));
    CHECK_INT(st.code, CCZ_RPC_DEADLINE_EXCEEDED);
    ccz_rpc_status_free(&st);
    if (resp)
        protobuf_c_message_free_unpacked(resp, NULL);
    char *log_text = held_service_end(&h);
    CHECK(h.w.h.setup_seconds > 0);
    CHECK_CONTAINS(log_text, "ccz he query: faithful query answered");
    /* two fast queries refused, in order: the first dropped, the second for its parameters */
    const char *first = strstr(log_text, "ccz he query: fast query refused: ");
    const char *second = first ? strstr(first + 1, "ccz he query: fast query refused: ") : NULL;
    CHECK(first != NULL && second != NULL);
    CHECK(second == NULL || strstr(second + 1, "ccz he query: fast query refused: ") == NULL);
    CHECK_CONTAINS(log_text, "ccz he query: fast query refused: network_error: the client's "
                             "deadline passed while the query waited: not computed\n");
    CHECK(first == NULL || strstr(first, "not computed") < second);
    CHECK(second == NULL || strstr(second, "parameters: ") != NULL);
    free(log_text);
}

/* A query whose client went away while it waited is not computed: the worker held inside a fast
 * query, a raw client sends r without a deadline and leaves; once the server has closed that
 * connection the worker is let go: it answers the held query, and the service's log says the
 * other was dropped, not that its parameters were looked at; the same query sent again is
 * refused for them after it. */
static void test_gone_in_queue(void)
{
    held_service h;
    held_service_start(&h, CCZ_HEQ_FAST);
    CHECK(h2_call_and_leave(h.sv.target, PATH, &h.r.base, 30000));
    char *log_text = held_service_end(&h);
    const char *answered = strstr(log_text, "ccz he query: fast query answered");
    const char *dropped = strstr(log_text, "ccz he query: fast query refused: network_error: the "
                                           "client went away while the query waited: not "
                                           "computed\n");
    const char *refused = strstr(log_text, "fast query refused: truncated: parameters: ");
    CHECK(answered != NULL && dropped != NULL && refused != NULL);
    CHECK(answered < dropped && dropped < refused);
    CHECK(refused == NULL || strstr(refused + strlen("fast query refused"), " refused: ") == NULL);
    CHECK(dropped == NULL || strstr(dropped + strlen("ccz he query: fast query refused: network"),
                                    "network") == NULL); /* once */
    free(log_text);
}

/* A query whose client stops waiting while it is computed is abandoned at the search's next
 * step. The server's one pool thread held inside a faithful query over 8 entries whose client
 * gives up after 300 ms; let go, it computes no more of it: the log says it was abandoned, not
 * answered, and the next query is refused for its parameters. In process, an answer whose
 * wanted() says no from the start asks once and computes nothing, for every algorithm. */
/* A fast answer abandoned at its last task (an entry's product, whose worker then adds its sum
 * to the answer): the answer is refused all the same, not given with the entries summed so
 * far. One worker, so the tasks come in the same order each time. */
static void test_abandoned_at_the_end(void)
{
    ccz_heq_db *db = db_of("a,1\nb,2\nc,3\nd,4\n");
    ccz_heq_server *hs = NULL;
    ccz_heq_server_opts so = CCZ_HEQ_SERVER_OPTS_INIT;
    so.db = db;
    so.threads = 1;
    CHECK_OK(ccz_heq_server_new(&hs, &so));
    ccz_heq_client *c = NULL;
    ccz_heq_query q;
    ccz_span keys[CCZ_HEQ_KEY_CTS];
    CHECK_OK(ccz_heq_client_new(&c, CCZ_HEQ_FAST));
    CHECK_OK(ccz_heq_client_query(&q, c, CCZ_LIT("d")));
    ccz_heq_query_view qv = ccz_heq_query_view_of(&q, keys);
    count_until n = {0, 0};
    qv.wanted = count_yes_until, qv.wanted_arg = &n;
    ccz_heq_answer ans;
    CHECK_OK(ccz_heq_server_answer(&ans, hs, &qv)); /* every task wanted: how many there are */
    ccz_buf_free(&ans.value);
    CHECK(n.asked > 4);
    n.last = n.asked, n.asked = 0;
    CHECK_STATUS(ccz_heq_server_answer(&ans, hs, &qv), CCZ_ERR_UNAVAILABLE);
    CHECK_STR(ccz_error_detail(), "the answer was abandoned: nobody waits for it");
    CHECK_INT(n.asked, n.last);
    CHECK(ans.value.ptr == NULL && ans.value.len == 0);
    /* two workers: the first task not wanted stops the other worker too (it finishes the task
     * it has and takes no more: asked twice, three times on a slow machine), rather than its
     * taking the other 15 leaf tasks, each asked */
    ccz_heq_server *two = NULL;
    so.threads = 2;
    CHECK_OK(ccz_heq_server_new(&two, &so));
    n = (count_until){0, 1};
    CHECK_STATUS(ccz_heq_server_answer(&ans, two, &qv), CCZ_ERR_UNAVAILABLE);
    CHECK_STR(ccz_error_detail(), "the answer was abandoned: nobody waits for it");
    CHECK(n.asked >= 1 && n.asked <= 3);
    CHECK(ans.value.ptr == NULL && ans.value.len == 0);
    ccz_heq_server_free(two);
    ccz_heq_query_free(&q);
    ccz_heq_client_free(c);
    ccz_heq_server_free(hs);
    ccz_heq_db_free(db);
}

static void test_abandoned_while_running(void)
{
    if (UNDER_ASAN) {
        fprintf(stderr, "  sanitizer build: the faithful lookup runs in the optimized build\n");
        return;
    }
    ccz_heq_db *db = db_of("a,1\nb,2\nc,3\nd,4\ne,5\nf,6\ng,7\nh,8\n");
    ccz_heq_server *hs = NULL;
    ccz_heq_server_opts so = CCZ_HEQ_SERVER_OPTS_INIT;
    so.db = db;
    so.threads = 1;
    CHECK_OK(ccz_heq_server_new(&hs, &so));
    for (ccz_heq_algorithm a = CCZ_HEQ_FAITHFUL; a <= CCZ_HEQ_PACKED; a++) {
        ccz_heq_client *c = NULL;
        ccz_heq_query q;
        ccz_span keys[CCZ_HEQ_KEY_CTS];
        CHECK_OK(ccz_heq_client_new(&c, a));
        CHECK_OK(ccz_heq_client_query(&q, c, CCZ_LIT("b")));
        ccz_heq_query_view qv = ccz_heq_query_view_of(&q, keys);
        unsigned asked = 0;
        qv.wanted = count_no, qv.wanted_arg = &asked;
        ccz_heq_answer ans;
        CHECK_STATUS(ccz_heq_server_answer(&ans, hs, &qv), CCZ_ERR_UNAVAILABLE);
        CHECK_STR(ccz_error_detail(), "the answer was abandoned: nobody waits for it");
        CHECK_INT(asked, 1);
        CHECK(ans.value.len == 0 && ans.search_seconds < 1);
        ccz_heq_query_free(&q);
        ccz_heq_client_free(c);
    }
    test_memlog log;
    service_log = test_memlog_open(&log);
    service sv;
    service_start(&sv, hs, 0);
    held_worker w;
    CHECK_OK(ccz_heq_client_new(&w.client, CCZ_HEQ_FAITHFUL));
    CHECK_OK(ccz_heq_client_query(&w.q, w.client, CCZ_LIT("b")));
    request_of(&w.good, w.good_keys, &w.q);
    w.h = (held_query){sv.target, &w.good, -2, "", 0, 300};
    rng_hold_start(1);
    test_thread(&w.t, held_query_run, &w.h);
    CHECK(rng_hold_wait(30000));
    pthread_join(w.t, NULL); /* its client gives up */
    CHECK_INT(w.h.code, CCZ_RPC_DEADLINE_EXCEEDED);
    rng_hold_release();
    rng_hold_stop();
    Ccz__Hequery__QueryRequest r;
    ProtobufCBinaryData rk[CCZ_HEQ_KEY_CTS];
    empty_request(&r, rk);
    char why[512];
    CHECK_INT(call(sv.ch, &r, why, sizeof why), CCZ_RPC_INVALID_ARGUMENT);
    CHECK_CONTAINS(why, "parameters: ");
    service_stop(&sv);
    service_log = NULL;
    char *text = test_memlog_close(&log);
    CHECK_CONTAINS(text, "ccz he query: faithful query refused: unavailable: the answer was "
                         "abandoned: nobody waits for it\n");
    CHECK(strstr(text, "faithful query answered") == NULL);
    free(text);
    ccz_heq_query_free(&w.q);
    ccz_heq_client_free(w.client);
    ccz_heq_server_free(hs);
    ccz_heq_db_free(db);
}

/* A service needs options, a query server and an RPC server. */
static void test_service_options(void)
{
    ccz_heq_db *db = db_of("key,value\n");
    ccz_heq_server *hs = server_of(db);
    ccz_rpc_server *rpc;
    ccz_rpc_server_opts so = CCZ_RPC_SERVER_OPTS_INIT;
    CHECK_OK(ccz_rpc_server_new(&rpc, &so));
    ccz_heq_service_opts vo = CCZ_HEQ_SERVICE_OPTS_INIT;
    ccz_heq_service *v = NULL;
    const char *why = "he query service: a server and an RPC server are needed";
    CHECK_STATUS(ccz_heq_service_new(&v, rpc, &vo), CCZ_ERR_INVALID_ARGUMENT); /* no server */
    CHECK_STR(ccz_error_detail(), why);
    CHECK(v == NULL);
    vo.server = hs;
    CHECK_STATUS(ccz_heq_service_new(&v, NULL, &vo), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), why);
    CHECK(v == NULL);
    vo.version = 0;
    CHECK_STATUS(ccz_heq_service_new(&v, rpc, &vo), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "he query service: options version 0, expected 1");
    CHECK(v == NULL);
    vo.version = 2;
    CHECK_STATUS(ccz_heq_service_new(&v, rpc, &vo), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "he query service: options version 2, expected 1");
    CHECK(v == NULL);
    CHECK_STATUS(ccz_heq_service_new(&v, rpc, NULL), CCZ_ERR_INVALID_ARGUMENT);
    CHECK(v == NULL);
    ccz_heq_service_free(v);
    ccz_rpc_server_free(rpc);
    ccz_heq_server_free(hs);
    ccz_heq_db_free(db);
}

/* The C API's check of a query's parameters, each field alone: the fast algorithm's with only
 * the first prime another (65537, 1 mod 2N), or only the plaintext modulus (65537); each is
 * refused before the keys are loaded, with what the query has. */
static void test_query_params(void)
{
    ccz_heq_db *db = db_of("key,value\n");
    ccz_heq_server *s = server_of(db);
    ccz_heq_client *c;
    CHECK_OK(ccz_heq_client_new(&c, CCZ_HEQ_FAST));
    ccz_heq_query q;
    ccz_span keys[CCZ_HEQ_KEY_CTS];
    CHECK_OK(ccz_heq_client_query(&q, c, CCZ_LIT("key")));
    ccz_lattice_params p;
    ccz_lattice_context *ctx;
    CHECK_OK(ccz_heq_params(&p, CCZ_HEQ_FAST));
    CHECK_OK(ccz_lattice_context_new(&ctx, &p));
    unsigned n_primes;
    const uint64_t *primes = ccz_lattice_context_primes(&n_primes, ctx);
    memcpy(p.coeff_primes, primes, n_primes * sizeof *primes);
    p.n_primes = n_primes;
    ccz_lattice_context_free(ctx);
    ccz_buf first = CCZ_BUF_INIT, t = CCZ_BUF_INIT;
    p.coeff_primes[0] = 65537; /* the other four as they are */
    CHECK_OK(ccz_lattice_context_new(&ctx, &p));
    CHECK_OK(ccz_lattice_params_save(&first, ctx));
    ccz_lattice_context_free(ctx);
    CHECK_OK(ccz_heq_params(&p, CCZ_HEQ_FAST));
    p.plain_modulus = 65537;
    CHECK_OK(ccz_lattice_context_new(&ctx, &p));
    CHECK_OK(ccz_lattice_params_save(&t, ctx));
    ccz_lattice_context_free(ctx);
    ccz_heq_answer a;
    ccz_heq_query_view qv = ccz_heq_query_view_of(&q, keys);
    qv.params = ccz_buf_span(&first);
    CHECK_STATUS(ccz_heq_server_answer(&a, s, &qv), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(),
                   "parameters: the fast algorithm runs BFV with N = 8192, t = 17 and SEAL's "
                   "default chain of 5 primes; the query has BFV with N = 8192, t = 17, 5 primes");
    CHECK(a.value.ptr == NULL && a.value.len == 0);
    qv.params = ccz_buf_span(&t);
    CHECK_STATUS(ccz_heq_server_answer(&a, s, &qv), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "the query has BFV with N = 8192, t = 65537, 5 primes");
    CHECK(a.value.ptr == NULL && a.value.len == 0);
    /* parameters that are no lattice object: the refusal names what was being loaded */
    uint8_t junk[64];
    memset(junk, 'x', sizeof junk);
    qv.params = CCZ_SPAN(junk, sizeof junk);
    CHECK_STATUS(ccz_heq_server_answer(&a, s, &qv), CCZ_ERR_UNKNOWN_FORMAT);
    CHECK_STR(ccz_error_detail(), "parameters: not a ccz lattice object (no CCZH magic)");
    /* a key ciphertext a level down, through the C API: well formed, yet not a query's (the
     * query's fault: INVALID_ARGUMENT) */
    ccz_buf lower = CCZ_BUF_INIT;
    switched_down(&lower, &q.key[7]);
    qv = ccz_heq_query_view_of(&q, keys);
    keys[7] = ccz_buf_span(&lower);
    CHECK_STATUS(ccz_heq_server_answer(&a, s, &qv), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "key ciphertext 7 is at level 3, not 4 (a fresh encryption)");
    CHECK(a.value.ptr == NULL && a.value.len == 0);
    ccz_buf_free(&lower);
    ccz_buf_free(&first);
    ccz_buf_free(&t);
    ccz_heq_query_free(&q);
    ccz_heq_client_free(c);
    ccz_heq_server_free(s);
    ccz_heq_db_free(db);
}

/* A packed database of two blocks: a 256-byte value makes 128 chunks a value, so 128 entries
 * a block, and 129 entries two blocks, the second of one entry. The entry asked for is in the
 * first block with probability 128/129 each time: its sum is kept when the second is added. */
static void test_packed_blocks(void)
{
    if (UNDER_ASAN) {
        fprintf(stderr, "  sanitizer build: two packed blocks run in the optimized build\n");
        return;
    }
    char *csv = malloc(128 * 10 + 5 + CCZ_HEQ_MAX_VALUE + 1), *p = csv;
    for (int i = 0; i < 128; i++)
        p += sprintf(p, "k%03d,v%03d\n", i, i);
    p += sprintf(p, "long,");
    memset(p, 'L', CCZ_HEQ_MAX_VALUE);
    p[CCZ_HEQ_MAX_VALUE] = 0;
    ccz_heq_db *db = db_of(csv);
    CHECK_INT(ccz_heq_db_size(db), 129);
    ccz_heq_server *s = server_of(db);
    ccz_heq_client *c;
    CHECK_OK(ccz_heq_client_new(&c, CCZ_HEQ_PACKED));
    ccz_heq_query q;
    ccz_span keys[CCZ_HEQ_KEY_CTS];
    CHECK_OK(ccz_heq_client_query(&q, c, CCZ_LIT("k005")));
    ccz_heq_query_view qv = ccz_heq_query_view_of(&q, keys);
    for (int i = 0; i < 2; i++) {
        ccz_heq_answer a;
        ccz_buf v = CCZ_BUF_INIT;
        int budget = 0;
        CHECK_OK(ccz_heq_server_answer(&a, s, &qv));
        CHECK_INT(a.block, 128);
        CHECK_INT(a.chunks, 128);
        CHECK_OK(ccz_heq_client_decode(&v, &budget, c, ccz_buf_span(&a.value), a.block, a.chunks));
        CHECK(v.len == 4 && memcmp(v.ptr, "v005", 4) == 0 && budget > 0);
        ccz_buf_free(&v);
        ccz_buf_free(&a.value);
    }
    ccz_heq_query_free(&q);
    ccz_heq_client_free(c);
    ccz_heq_server_free(s);
    ccz_heq_db_free(db);
    free(csv);
}

TEST_MAIN(T(test_db), T(test_algorithms), T(test_client), T(test_key_lengths),
          T(test_algorithms_agree), T(test_no_randomness), T(test_packed_empty_values),
          T(test_packed_order), T(test_nibble_distance), T(test_batches), T(test_answer_forms),
          T(test_service), T(test_busy), T(test_pending_exact), T(test_packed_service),
          T(test_default_pending), T(test_deadline_in_queue), T(test_gone_in_queue),
          T(test_abandoned_at_the_end), T(test_abandoned_while_running), T(test_service_options),
          T(test_query_params), T(test_packed_blocks))
