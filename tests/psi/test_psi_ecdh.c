/* SPDX-License-Identifier: Apache-2.0 */
/* Two-party ECDH PSI (src/psi/ecdh.c, set.c, wire.c): both roles in one process over a
 * socketpair, against a plain set intersection of random data with duplicates, empty sets, an
 * empty intersection and full overlap, in full and size-only mode (whose tags must arrive
 * sorted); hostile peers written byte by byte get the exact error. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sodium.h>

#include "ccz/psi.h"
#include "psi/ecdh.h"
#include "psi_fd.h"
#include "test.h"

/* ---- sets and the reference intersection -----------------------------------------------------*/

static ccz_psi_set *set_of(const char *const *items, size_t n)
{
    ccz_psi_set *s;
    if (ccz_psi_set_new(&s))
        abort();
    for (size_t i = 0; i < n; i++)
        if (ccz_psi_set_add(s, CCZ_SPAN(items[i], strlen(items[i]))))
            abort();
    return s;
}

/* A random set: n draws (so with duplicates) of "item-K" for K in [lo, lo + range). */
static ccz_psi_set *random_set(size_t n, unsigned lo, unsigned range)
{
    ccz_psi_set *s;
    if (ccz_psi_set_new(&s))
        abort();
    for (size_t i = 0; i < n; i++) {
        char item[32];
        int len = snprintf(item, sizeof item, "item-%u", lo + randombytes_uniform(range));
        if (ccz_psi_set_add(s, CCZ_SPAN(item, (size_t)len)))
            abort();
    }
    return s;
}

static bool span_eq(ccz_span a, ccz_span b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static int span_cmp(ccz_span a, ccz_span b)
{
    size_t n = a.len < b.len ? a.len : b.len;
    int c = n ? memcmp(a.ptr, b.ptr, n) : 0;
    return c ? c : (a.len > b.len) - (a.len < b.len);
}

/* The plain intersection, as indices into a (both sealed, so sorted and unique). */
static size_t plain_intersection(size_t *out, const ccz_psi_set *a, const ccz_psi_set *b)
{
    size_t i = 0, j = 0, n = 0;
    while (i < ccz_psi_set_size(a) && j < ccz_psi_set_size(b)) {
        int c = span_cmp(ccz_psi_set_item(a, i), ccz_psi_set_item(b, j));
        if (c == 0)
            out[n++] = i;
        i += c <= 0;
        j += c >= 0;
    }
    return n;
}

/* ---- both roles over a socketpair ------------------------------------------------------------*/

typedef struct {
    ccz_psi_set *set;
    ccz_psi_ecdh_opts o;
    psi_fd f;
    ccz_psi_ecdh_result r;
    ccz_status s;
    char detail[512];
} party;

static void *server_thread(void *arg)
{
    party *p = arg;
    ccz_psi_io io = {psi_fd_write, psi_fd_read, &p->f};
    p->s = ccz_psi_ecdh_server(&p->r, p->set, &io, &p->o);
    snprintf(p->detail, sizeof p->detail, "%s", ccz_error_detail());
    shutdown(p->f.fd, SHUT_WR);
    return NULL;
}

/* Runs client c against server s; statuses and details in the parties. */
static void run_pair(party *c, party *s)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
        abort();
    c->f.fd = sv[0];
    s->f.fd = sv[1];
    pthread_t t;
    test_thread(&t, server_thread, s);
    ccz_psi_io io = {psi_fd_write, psi_fd_read, &c->f};
    c->s = ccz_psi_ecdh_client(&c->r, c->set, &io, &c->o);
    snprintf(c->detail, sizeof c->detail, "%s", ccz_error_detail());
    close(sv[0]); /* a server still writing sees the client gone */
    pthread_join(t, NULL);
    close(sv[1]);
    if (c->s || s->s)
        fprintf(stderr, "client: %s: %s; server: %s: %s\n", ccz_status_name(c->s), c->detail,
                ccz_status_name(s->s), s->detail);
}

static party party_of(ccz_psi_set *set, unsigned batch, bool size_only)
{
    party p = {.set = set, .o = CCZ_PSI_ECDH_OPTS_INIT};
    p.o.batch = batch;
    p.o.size_only = size_only;
    return p;
}

/* Runs a against b with a as the client, in both modes, and checks the result against the
 * plain intersection. */
static void check_against_plain(ccz_psi_set *a, ccz_psi_set *b, unsigned batch)
{
    CHECK_OK(ccz_psi_set_seal(a));
    CHECK_OK(ccz_psi_set_seal(b));
    size_t *want = malloc((ccz_psi_set_size(a) + 1) * sizeof *want);
    size_t n = plain_intersection(want, a, b);
    for (int size_only = 0; size_only <= 1; size_only++) {
        party c = party_of(a, batch, size_only), s = party_of(b, batch + 1, false);
        run_pair(&c, &s);
        CHECK_OK(c.s);
        CHECK_OK(s.s);
        CHECK_INT(c.r.intersection, n);
        CHECK_INT(c.r.local_items, ccz_psi_set_size(a));
        CHECK_INT(c.r.peer_items, ccz_psi_set_size(b));
        CHECK_INT(s.r.peer_items, ccz_psi_set_size(a));
        CHECK_INT(s.r.intersection, 0); /* the server learns nothing of it */
        CHECK(s.r.size_only == (bool)size_only);
        CHECK(c.r.size_only == (bool)size_only);
        CHECK_INT(c.r.bytes_sent, s.r.bytes_received);
        CHECK_INT(s.r.bytes_sent, c.r.bytes_received);
        if (size_only) {
            CHECK(c.r.indices == NULL);
        } else {
            bool same = c.r.intersection == n;
            for (size_t i = 0; same && i < n; i++)
                same = c.r.indices[i] == want[i];
            CHECK(same);
        }
        ccz_psi_ecdh_result_free(&c.r);
        ccz_psi_ecdh_result_free(&s.r);
    }
    free(want);
}

static void test_random_both_roles(void)
{
    for (int round = 0; round < 3; round++) {
        /* overlapping ranges, duplicates inside each set, batches that do not divide the sets */
        ccz_psi_set *a = random_set(400, 0, 300), *b = random_set(600, 200, 500);
        unsigned batch = round == 0 ? 7 : round == 1 ? 64 : 0;
        check_against_plain(a, b, batch); /* a's side learns */
        check_against_plain(b, a, batch); /* and the other way round */
        ccz_psi_set_free(a);
        ccz_psi_set_free(b);
    }
}

static void test_edge_sets(void)
{
    static const char *const some[] = {"car", "bicycle", "train", "cat", "dog", "car"};
    static const char *const other[] = {"apple", "pear"};
    ccz_psi_set *e1 = set_of(NULL, 0), *e2 = set_of(NULL, 0);
    ccz_psi_set *s1 = set_of(some, 6), *s2 = set_of(some, 6), *o = set_of(other, 2);
    check_against_plain(e1, e2, 0); /* both empty */
    check_against_plain(e1, s1, 0); /* the client's empty */
    check_against_plain(s1, e1, 0); /* the server's empty */
    check_against_plain(s1, o, 0);  /* an empty intersection */
    check_against_plain(s1, s2, 2); /* full overlap */
    CHECK_INT(ccz_psi_set_size(s1), 5);
    ccz_psi_set_free(e1);
    ccz_psi_set_free(e2);
    ccz_psi_set_free(s1);
    ccz_psi_set_free(s2);
    ccz_psi_set_free(o);
}

/* The client's lookup table keeps free slots: sets of 16 and 64 items (a size the table could
 * have exactly) look up tags they do not hold; the alarm stops a lookup that goes round a full
 * table for ever. */
static void test_lookup_table_sizes(void)
{
    for (size_t n = 16; n <= 64; n *= 4) {
        ccz_psi_set *a, *b = random_set(300, 10, 100);
        CHECK_OK(ccz_psi_set_new(&a));
        for (size_t i = 0; i < n; i++) {
            char item[32];
            int len = snprintf(item, sizeof item, "item-%zu", i);
            CHECK_OK(ccz_psi_set_add(a, CCZ_SPAN(item, (size_t)len)));
        }
        alarm(20);
        check_against_plain(a, b, 0);
        alarm(0);
        CHECK_INT(ccz_psi_set_size(a), n);
        ccz_psi_set_free(a);
        ccz_psi_set_free(b);
    }
}

static void test_set_lines(void)
{
    ccz_psi_set *s;
    CHECK_OK(ccz_psi_set_new(&s));
    CHECK_OK(ccz_psi_set_add_lines(s, CCZ_LIT("b\r\n\na\nb\n\r\na\xff\nc")));
    CHECK_OK(ccz_psi_set_seal(s));
    CHECK_INT(ccz_psi_set_size(s), 4); /* a, a\xff, b, c */
    CHECK(span_eq(ccz_psi_set_item(s, 0), CCZ_LIT("a")));
    CHECK(span_eq(ccz_psi_set_item(s, 1), CCZ_LIT("a\xff")));
    CHECK(span_eq(ccz_psi_set_item(s, 2), CCZ_LIT("b")));
    CHECK(span_eq(ccz_psi_set_item(s, 3), CCZ_LIT("c")));
    /* past the end: nothing, though the index still holds a duplicate there */
    CHECK(span_eq(ccz_psi_set_item(s, 4), CCZ_LIT("")));
    CHECK_STATUS(ccz_psi_set_add(s, CCZ_LIT("d")), CCZ_ERR_INVALID_ARGUMENT);
    ccz_psi_set_free(s);
    CHECK_OK(ccz_psi_set_new(&s));
    CHECK_OK(ccz_psi_set_add(s, CCZ_LIT("a")));
    CHECK(span_eq(ccz_psi_set_item(s, 0), CCZ_LIT(""))); /* not sealed: no items yet */
    ccz_psi_set_free(s);
    CHECK_OK(ccz_psi_set_new(&s));
    CHECK_STATUS(ccz_psi_set_add_file(s, "/nonexistent/psi"), CCZ_ERR_NOT_FOUND);
    /* an item of the bound is taken, one byte more is refused */
    static uint8_t big[CCZ_PSI_SET_ITEM_MAX + 1];
    CHECK_OK(ccz_psi_set_add(s, CCZ_SPAN(big, CCZ_PSI_SET_ITEM_MAX)));
    CHECK_STATUS(ccz_psi_set_add(s, CCZ_SPAN(big, sizeof big)), CCZ_ERR_TOO_LARGE);
    CHECK_CONTAINS(ccz_error_detail(), "an item of 65537 bytes (at most 65536)");
    ccz_psi_set_free(s);
}

/* A file's lines as items: "\n" and "\r\n" ends, empty lines skipped, a last line without
 * its end; a line too long is refused naming the file and the line. */
static void test_set_file(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s/set.txt", test_tmpdir());
    FILE *f = fopen(path, "wb");
    CHECK(f && fwrite("b\r\n\na\nb\nc", 1, 9, f) == 9 && fclose(f) == 0);
    ccz_psi_set *s;
    CHECK_OK(ccz_psi_set_new(&s));
    CHECK_OK(ccz_psi_set_add_file(s, path));
    CHECK_OK(ccz_psi_set_seal(s));
    CHECK_INT(ccz_psi_set_size(s), 3);
    CHECK(span_eq(ccz_psi_set_item(s, 0), CCZ_LIT("a")));
    CHECK(span_eq(ccz_psi_set_item(s, 1), CCZ_LIT("b")));
    CHECK(span_eq(ccz_psi_set_item(s, 2), CCZ_LIT("c")));
    ccz_psi_set_free(s);

    static char line[CCZ_PSI_SET_ITEM_MAX + 1];
    memset(line, 'x', sizeof line);
    f = fopen(path, "wb");
    CHECK(f && fwrite("ok\n", 1, 3, f) == 3 && fwrite(line, 1, sizeof line, f) == sizeof line &&
          fclose(f) == 0);
    CHECK_OK(ccz_psi_set_new(&s));
    CHECK_STATUS(ccz_psi_set_add_file(s, path), CCZ_ERR_TOO_LARGE);
    char want[600];
    snprintf(want, sizeof want, "%s line 2: psi set: an item of 65537 bytes (at most 65536)", path);
    CHECK_STR(ccz_error_detail(), want);
    ccz_psi_set_free(s);
}

/* Size only: the server's tags arrive sorted, so they say nothing of which item they came
 * from (in item order, the client would learn the intersection itself). */
/* Runs a (the client, size only, in batches of batch) against b (the server, in batches of
 * server_batch): the tags it read, how many of them came after a larger one, and in how many
 * messages. */
static void size_only_tags(ccz_psi_set *a, ccz_psi_set *b, unsigned batch, unsigned server_batch,
                           size_t *n_tags, size_t *n_unsorted, size_t *n_frames)
{
    ccz_buf tap = CCZ_BUF_INIT;
    party c = party_of(a, batch, true), s = party_of(b, server_batch, false);
    c.f.tap = &tap;
    run_pair(&c, &s);
    CHECK_OK(c.s);
    ccz_cursor cur;
    ccz_cursor_init(&cur, ccz_buf_span(&tap));
    uint8_t h[PSI_ECDH_FRAME_HEADER], type, prev[PSI_ECDH_TAG_BYTES] = {0};
    uint32_t len;
    size_t tags = 0, unsorted = 0, frames = 0;
    while (ccz_cursor_copy(&cur, h, sizeof h) == CCZ_OK &&
           psi_ecdh_parse_header(&type, &len, h) == CCZ_OK) {
        ccz_span body, elems;
        uint32_t count;
        if (ccz_cursor_take(&cur, &body, len))
            break;
        if (type != PSI_ECDH_TAGS)
            continue;
        frames++;
        CHECK_OK(psi_ecdh_parse_batch(&count, &elems, body, PSI_ECDH_TAG_BYTES, 1u << 20));
        for (uint32_t i = 0; i < count; i++, tags++) {
            const uint8_t *t = elems.ptr + (size_t)i * PSI_ECDH_TAG_BYTES;
            unsorted += tags > 0 && memcmp(prev, t, sizeof prev) > 0;
            memcpy(prev, t, sizeof prev);
        }
    }
    *n_tags = tags;
    *n_unsorted = unsorted;
    *n_frames = frames;
    ccz_buf_free(&tap);
}

static void test_size_only_tags_sorted(void)
{
    ccz_psi_set *a = random_set(300, 0, 1000), *b = random_set(300, 0, 1000);
    size_t tags, unsorted, frames;
    size_only_tags(a, b, 50, 128, &tags, &unsorted, &frames);
    CHECK_INT(tags, ccz_psi_set_size(a));
    CHECK_INT(unsorted, 0);
    /* sent in messages of the server's batch, not one per tag */
    CHECK_INT(frames, (ccz_psi_set_size(a) + 127) / 128);
    /* two items, whose tags would come sorted half of the time anyway: 20 runs */
    static const char *const two[] = {"x", "y"};
    ccz_psi_set *pair = set_of(two, 2);
    size_t all = 0, out_of_order = 0;
    for (int i = 0; i < 20; i++) {
        size_only_tags(pair, b, 0, 0, &tags, &unsorted, &frames);
        all += tags;
        out_of_order += unsorted;
    }
    CHECK_INT(all, 40);
    CHECK_INT(out_of_order, 0);
    ccz_psi_set_free(pair);
    ccz_psi_set_free(a);
    ccz_psi_set_free(b);
}

/* ---- hostile peers ---------------------------------------------------------------------------*/

static void put_hello(ccz_buf *b, uint16_t version, uint8_t flags, uint64_t items)
{
    if (psi_ecdh_put_header(b, PSI_ECDH_HELLO, 15) || ccz_buf_append(b, "CZPE", 4) ||
        ccz_buf_append_u16le(b, version) || ccz_buf_append_u8(b, flags) ||
        ccz_buf_append_u64le(b, items))
        abort();
}

static void put_points(ccz_buf *b, uint32_t count, uint8_t fill, size_t n_points)
{
    uint8_t pt[32];
    memset(pt, fill, sizeof pt);
    if (psi_ecdh_put_header(b, PSI_ECDH_POINTS, (uint32_t)(4 + n_points * 32)) ||
        ccz_buf_append_u32le(b, count))
        abort();
    for (size_t i = 0; i < n_points; i++)
        if (ccz_buf_append(b, pt, sizeof pt))
            abort();
}

/* A POINTS message of n copies of the group's generator: valid points, so a side that takes
 * the batch raises them without complaint. */
static void put_generator_points(ccz_buf *b, uint32_t n)
{
    uint8_t g[32], one[32] = {1};
    if (sodium_init() < 0 || crypto_scalarmult_ristretto255_base(g, one) ||
        psi_ecdh_put_header(b, PSI_ECDH_POINTS, 4 + n * 32) || ccz_buf_append_u32le(b, n))
        abort();
    for (uint32_t i = 0; i < n; i++)
        if (ccz_buf_append(b, g, sizeof g))
            abort();
}

/* A TAGS message saying count, with n_tags 16-byte tags. */
static void put_tags(ccz_buf *b, uint32_t count, size_t n_tags)
{
    if (psi_ecdh_put_header(b, PSI_ECDH_TAGS, (uint32_t)(4 + n_tags * 16)) ||
        ccz_buf_append_u32le(b, count))
        abort();
    for (size_t i = 0; i < n_tags; i++)
        if (ccz_buf_append(b, "0123456789abcdef", 16))
            abort();
}

/* Runs the real side (server, or client) with options o against the bytes of a hostile peer,
 * which then stops writing (or, close_peer, closes at once: what the side writes fails); returns
 * its status with the detail in `detail` and, when written is not NULL, what the side wrote. */
static ccz_status against_with(bool server, const ccz_buf *bytes, ccz_psi_set *set,
                               const ccz_psi_ecdh_opts *o, bool close_peer, ccz_buf *written,
                               char detail[512])
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
        abort();
    psi_fd mine = {sv[0], NULL}, peer = {sv[1], NULL};
    if (bytes->len && psi_fd_write(&peer, bytes->ptr, bytes->len))
        abort();
    if (close_peer) {
        close(sv[1]); /* what it wrote is still there to read */
        sv[1] = -1;
    } else {
        shutdown(sv[1], SHUT_WR); /* then the peer says nothing more */
    }
    ccz_psi_io io = {psi_fd_write, psi_fd_read, &mine};
    ccz_psi_ecdh_result r;
    ccz_status s =
        server ? ccz_psi_ecdh_server(&r, set, &io, o) : ccz_psi_ecdh_client(&r, set, &io, o);
    snprintf(detail, 512, "%s", ccz_error_detail());
    ccz_psi_ecdh_result_free(&r);
    close(sv[0]);
    if (written) { /* the side is done: its bytes are all there, then the end of the stream */
        uint8_t chunk[4096];
        ssize_t n;
        while ((n = recv(sv[1], chunk, sizeof chunk, 0)) > 0)
            if (ccz_buf_append(written, chunk, (size_t)n))
                abort();
    }
    if (sv[1] >= 0)
        close(sv[1]);
    return s;
}

static ccz_status against(bool server, const ccz_buf *bytes, ccz_psi_set *set, uint64_t max_peer,
                          char detail[512])
{
    ccz_psi_ecdh_opts o = CCZ_PSI_ECDH_OPTS_INIT;
    o.max_peer_items = max_peer;
    return against_with(server, bytes, set, &o, false, NULL, detail);
}

static void test_hostile_client(void)
{
    static const char *const some[] = {"x", "y"};
    ccz_psi_set *set = set_of(some, 2);
    char d[512];
    ccz_buf b = CCZ_BUF_INIT;

    put_hello(&b, 2, 0, 1);
    CHECK_STATUS(against(true, &b, set, 0, d), CCZ_ERR_UNSUPPORTED_VERSION);
    CHECK_STR(d, "psi ecdh: the peer speaks version 2 (this side: 1)");

    ccz_buf_reset(&b);
    put_hello(&b, 1, 0, 1001);
    CHECK_STATUS(against(true, &b, set, 1000, d), CCZ_ERR_TOO_LARGE);
    CHECK_STR(d, "psi ecdh: the peer announces 1001 items (at most 1000 accepted)");

    ccz_buf_reset(&b);
    put_hello(&b, 1, 0, 1ull << 40);
    CHECK_STATUS(against(true, &b, set, 0, d), CCZ_ERR_TOO_LARGE);

    ccz_buf_reset(&b); /* the default bound: 2^28 items, one more refused */
    put_hello(&b, 1, 0, CCZ_PSI_ECDH_MAX_ITEMS + 1);
    CHECK_STATUS(against(true, &b, set, 0, d), CCZ_ERR_TOO_LARGE);
    CHECK_STR(d, "psi ecdh: the peer announces 268435457 items (at most 268435456 accepted)");
    ccz_buf_reset(&b);
    put_hello(&b, 1, 0, CCZ_PSI_ECDH_MAX_ITEMS);
    CHECK_STATUS(against(true, &b, set, 0, d), CCZ_ERR_PROTOCOL);
    CHECK_STR(d, "psi ecdh: waiting for points: the peer closed the connection");

    ccz_buf_reset(&b);
    put_hello(&b, 1, 0x02, 1);
    CHECK_STATUS(against(true, &b, set, 0, d), CCZ_ERR_PROTOCOL);
    CHECK_STR(d, "psi ecdh: unknown flags 0x02 in the hello");

    /* an invalid encoding, and the identity (a valid encoding every product of which is the
     * identity): both refused */
    for (int fill = 0; fill <= 0xff; fill += 0xff) {
        ccz_buf_reset(&b);
        put_hello(&b, 1, 0, 1);
        put_points(&b, 1, (uint8_t)fill, 1);
        CHECK_STATUS(against(true, &b, set, 0, d), CCZ_ERR_MALFORMED);
        CHECK_STR(d, "psi ecdh: point 0 of batch 0 is not a valid ristretto255 point");
    }

    ccz_buf_reset(&b);
    put_hello(&b, 1, 0, 1);
    put_points(&b, 2, 0xff, 2); /* more than announced */
    CHECK_STATUS(against(true, &b, set, 0, d), CCZ_ERR_PROTOCOL);
    CHECK_STR(d, "psi ecdh: a batch of 2 where only 1 are still due");

    ccz_buf_reset(&b);
    put_hello(&b, 1, 0, 100000);
    put_points(&b, CCZ_PSI_ECDH_BATCH_MAX + 1, 0xff, 0);
    CHECK_STATUS(against(true, &b, set, 0, d), CCZ_ERR_TOO_LARGE);
    CHECK_STR(d, "psi ecdh: a batch of 16385 (1 to 16384)");

    ccz_buf_reset(&b);
    put_hello(&b, 1, 0, 3);
    put_points(&b, 3, 0xff, 2); /* a count its body does not hold */
    CHECK_STATUS(against(true, &b, set, 0, d), CCZ_ERR_TRUNCATED);
    CHECK_STR(d, "psi ecdh: a batch of 3 ends early");

    ccz_buf_reset(&b);
    put_hello(&b, 1, 0, 1);
    CHECK(psi_ecdh_put_header(&b, PSI_ECDH_POINTS, PSI_ECDH_BODY_MAX + 1) == CCZ_OK);
    CHECK_STATUS(against(true, &b, set, 0, d), CCZ_ERR_TOO_LARGE);
    CHECK_STR(d, "psi ecdh: a message of 524293 bytes (at most 524292)");

    ccz_buf_reset(&b);
    put_hello(&b, 1, 0, 1);
    CHECK(psi_ecdh_put_header(&b, PSI_ECDH_DONE, 0) == CCZ_OK);
    CHECK_STATUS(against(true, &b, set, 0, d), CCZ_ERR_PROTOCOL);
    CHECK_STR(d, "psi ecdh: expected points, got done");

    ccz_buf_reset(&b);
    CHECK(psi_ecdh_put_header(&b, 9, 0) == CCZ_OK);
    CHECK_STATUS(against(true, &b, set, 0, d), CCZ_ERR_PROTOCOL);
    CHECK_STR(d, "psi ecdh: unknown message type 9");

    /* the types just outside the known ones, 0 and 6 */
    for (unsigned type = 0; type <= 6; type += 6) {
        char want[64];
        ccz_buf_reset(&b);
        CHECK(psi_ecdh_put_header(&b, (uint8_t)type, 0) == CCZ_OK);
        CHECK_STATUS(against(true, &b, set, 0, d), CCZ_ERR_PROTOCOL);
        snprintf(want, sizeof want, "psi ecdh: unknown message type %u", type);
        CHECK_STR(d, want);
    }

    ccz_buf_reset(&b); /* a version below this side's is not taken either */
    put_hello(&b, 0, 0, 1);
    CHECK_STATUS(against(true, &b, set, 0, d), CCZ_ERR_UNSUPPORTED_VERSION);
    CHECK_STR(d, "psi ecdh: the peer speaks version 0 (this side: 1)");

    ccz_buf_reset(&b);
    CHECK(psi_ecdh_put_header(&b, PSI_ECDH_HELLO, 15) == CCZ_OK);
    CHECK(ccz_buf_append(&b, "HTTP/1.1 200 OK", 15) == CCZ_OK);
    CHECK_STATUS(against(true, &b, set, 0, d), CCZ_ERR_PROTOCOL);
    CHECK_STR(d, "psi ecdh: the peer does not speak ECDH PSI (no magic)");

    /* the second batch's second point, so named */
    uint8_t base[32], one[32] = {1};
    CHECK(crypto_scalarmult_ristretto255_base(base, one) == 0);
    ccz_buf_reset(&b);
    put_hello(&b, 1, 0, 3);
    CHECK(psi_ecdh_put_header(&b, PSI_ECDH_POINTS, 4 + 32) == CCZ_OK &&
          ccz_buf_append_u32le(&b, 1) == CCZ_OK && ccz_buf_append(&b, base, 32) == CCZ_OK);
    CHECK(psi_ecdh_put_header(&b, PSI_ECDH_POINTS, 4 + 64) == CCZ_OK &&
          ccz_buf_append_u32le(&b, 2) == CCZ_OK && ccz_buf_append(&b, base, 32) == CCZ_OK &&
          ccz_buf_append(&b, one, 32) == CCZ_OK);
    CHECK_STATUS(against(true, &b, set, 0, d), CCZ_ERR_MALFORMED);
    CHECK_STR(d, "psi ecdh: point 1 of batch 1 is not a valid ristretto255 point");

    /* a later batch may not take the client past the items it announced either: of 3, a
     * batch of 1 leaves 2 due, and a batch of 3 (valid points all) is refused */
    ccz_buf_reset(&b);
    put_hello(&b, 1, 0, 3);
    put_generator_points(&b, 1);
    put_generator_points(&b, 3);
    CHECK_STATUS(against(true, &b, set, 0, d), CCZ_ERR_PROTOCOL);
    CHECK_STR(d, "psi ecdh: a batch of 3 where only 2 are still due");

    ccz_buf_reset(&b); /* a done message that says something */
    put_hello(&b, 1, 0, 0);
    CHECK(psi_ecdh_put_header(&b, PSI_ECDH_DONE, 1) == CCZ_OK &&
          ccz_buf_append_u8(&b, 0) == CCZ_OK);
    CHECK_STATUS(against(true, &b, set, 0, d), CCZ_ERR_TRAILING_DATA);
    CHECK_STR(d, "psi ecdh: bytes in the done message");

    ccz_buf_reset(&b);
    put_hello(&b, 1, 0, 5); /* then silence */
    CHECK_STATUS(against(true, &b, set, 0, d), CCZ_ERR_PROTOCOL);
    CHECK_STR(d, "psi ecdh: waiting for points: the peer closed the connection");

    ccz_buf_free(&b);
    ccz_psi_set_free(set);
}

static void test_hostile_server(void)
{
    static const char *const some[] = {"x"};
    ccz_psi_set *set = set_of(some, 1);
    char d[512];
    ccz_buf b = CCZ_BUF_INIT;

    put_hello(&b, 1, 0, 1001);
    CHECK_STATUS(against(false, &b, set, 1000, d), CCZ_ERR_TOO_LARGE);

    ccz_buf_reset(&b);
    put_hello(&b, 1, PSI_ECDH_FLAG_SIZE_ONLY, 1); /* not the mode asked for */
    CHECK_STATUS(against(false, &b, set, 0, d), CCZ_ERR_PROTOCOL);
    CHECK_STR(d, "psi ecdh: the server answers in the other mode");

    /* a tag for the client's point, then an invalid point of its own */
    ccz_buf_reset(&b);
    put_hello(&b, 1, 0, 1);
    put_tags(&b, 1, 1);
    put_points(&b, 1, 0xff, 1);
    CHECK_STATUS(against(false, &b, set, 0, d), CCZ_ERR_MALFORMED);
    CHECK_STR(d, "psi ecdh: point 0 of batch 0 is not a valid ristretto255 point");

    /* two tags for a batch of one */
    ccz_buf_reset(&b);
    put_hello(&b, 1, 0, 0);
    put_tags(&b, 2, 2);
    CHECK_STATUS(against(false, &b, set, 0, d), CCZ_ERR_PROTOCOL);
    CHECK_STR(d, "psi ecdh: a batch of 2 where only 1 are still due");

    /* one tag for a batch of two */
    static const char *const two[] = {"x", "y"};
    ccz_psi_set *pair = set_of(two, 2);
    ccz_buf_reset(&b);
    put_hello(&b, 1, 0, 0);
    put_tags(&b, 1, 1);
    CHECK_STATUS(against(false, &b, pair, 0, d), CCZ_ERR_PROTOCOL);
    CHECK_STR(d, "psi ecdh: 1 tags answer a batch of 2 points");

    /* batches of one: the answer to the first may not hold the second's tag too */
    ccz_psi_ecdh_opts b1 = CCZ_PSI_ECDH_OPTS_INIT;
    b1.batch = 1;
    ccz_buf_reset(&b);
    put_hello(&b, 1, 0, 0);
    put_tags(&b, 2, 2);
    CHECK_STATUS(against_with(false, &b, pair, &b1, false, NULL, d), CCZ_ERR_PROTOCOL);
    CHECK_STR(d, "psi ecdh: a batch of 2 where only 1 are still due");
    ccz_psi_set_free(pair);

    /* size only: the sorted tags may not outnumber the client's items */
    ccz_psi_ecdh_opts so = CCZ_PSI_ECDH_OPTS_INIT;
    so.size_only = true;
    ccz_buf_reset(&b);
    put_hello(&b, 1, PSI_ECDH_FLAG_SIZE_ONLY, 0);
    put_tags(&b, 2, 2);
    CHECK_STATUS(against_with(false, &b, set, &so, false, NULL, d), CCZ_ERR_PROTOCOL);
    CHECK_STR(d, "psi ecdh: a batch of 2 where only 1 are still due");

    /* the server's points may not outnumber the items it announced */
    ccz_buf_reset(&b);
    put_hello(&b, 1, 0, 1);
    put_tags(&b, 1, 1);
    put_points(&b, 2, 0xff, 2);
    CHECK_STATUS(against(false, &b, set, 0, d), CCZ_ERR_PROTOCOL);
    CHECK_STR(d, "psi ecdh: a batch of 2 where only 1 are still due");

    /* nor in a later batch: of 3 announced, 1 then 3 valid points */
    ccz_buf_reset(&b);
    put_hello(&b, 1, 0, 3);
    put_tags(&b, 1, 1);
    put_generator_points(&b, 1);
    put_generator_points(&b, 3);
    CHECK_STATUS(against(false, &b, set, 0, d), CCZ_ERR_PROTOCOL);
    CHECK_STR(d, "psi ecdh: a batch of 3 where only 2 are still due");

    /* the server gives up: its reason reaches the client */
    ccz_buf_reset(&b);
    CHECK(psi_ecdh_put_header(&b, PSI_ECDH_ABORT, 12) == CCZ_OK);
    CHECK(ccz_buf_append(&b, "no\x01 thanks!", 12) == CCZ_OK);
    CHECK_STATUS(against(false, &b, set, 0, d), CCZ_ERR_PROTOCOL);
    CHECK_STR(d, "psi ecdh: the peer gave up: no? thanks!?");

    /* DEL and bytes past ASCII are not printed either */
    ccz_buf_reset(&b);
    CHECK(psi_ecdh_put_header(&b, PSI_ECDH_ABORT, 6) == CCZ_OK);
    CHECK(ccz_buf_append(&b, "\x7f\x80 ~ok", 6) == CCZ_OK);
    CHECK_STATUS(against(false, &b, set, 0, d), CCZ_ERR_PROTOCOL);
    CHECK_STR(d, "psi ecdh: the peer gave up: ?? ~ok");

    /* a reason of 300 bytes is shown as its first 256 */
    ccz_buf_reset(&b);
    CHECK(psi_ecdh_put_header(&b, PSI_ECDH_ABORT, 300) == CCZ_OK);
    for (int i = 0; i < 300; i++)
        CHECK(ccz_buf_append_u8(&b, (uint8_t)('a' + i % 26)) == CCZ_OK);
    CHECK_STATUS(against(false, &b, set, 0, d), CCZ_ERR_PROTOCOL);
    char want[300] = "psi ecdh: the peer gave up: ", *w = want + strlen(want);
    for (int i = 0; i < 256; i++)
        *w++ = (char)('a' + i % 26);
    *w = '\0';
    CHECK_STR(d, want);

    ccz_buf_free(&b);
    ccz_psi_set_free(set);
}

/* The frame types in what a side wrote, as text ("hello points ..."), the stream whole. */
static void frame_types(char *out, size_t cap, const ccz_buf *written)
{
    static const char *const names[] = {"?", "hello", "points", "tags", "done", "abort"};
    ccz_cursor cur;
    ccz_cursor_init(&cur, ccz_buf_span(written));
    uint8_t h[PSI_ECDH_FRAME_HEADER], type;
    uint32_t len;
    ccz_span body;
    out[0] = 0;
    while (ccz_cursor_copy(&cur, h, sizeof h) == CCZ_OK &&
           psi_ecdh_parse_header(&type, &len, h) == CCZ_OK &&
           ccz_cursor_take(&cur, &body, len) == CCZ_OK)
        test_appendf(out, cap, "%s%s", out[0] ? " " : "", names[type]);
    if (ccz_cursor_remaining(&cur))
        test_appendf(out, cap, " (%zu bytes more)", ccz_cursor_remaining(&cur));
}

/* Options out of range are refused before a byte is sent or read. */
static ccz_status io_unused(void *payload, uint8_t *p, size_t n)
{
    (void)p, (void)n;
    (*(int *)payload)++;
    return ccz_fail(CCZ_ERR_NETWORK, "no I/O expected");
}

static ccz_status io_unused_write(void *payload, const uint8_t *p, size_t n)
{
    return io_unused(payload, (uint8_t *)p, n);
}

static void test_options_refused(void)
{
    static const char *const some[] = {"x"};
    ccz_psi_set *set = set_of(some, 1);
    int calls = 0;
    ccz_psi_io io = {io_unused_write, io_unused, &calls};
    ccz_psi_ecdh_result r;
    for (int server = 0; server <= 1; server++) {
        ccz_psi_ecdh_opts o = CCZ_PSI_ECDH_OPTS_INIT;
        o.version = CCZ_PSI_ECDH_OPTS_VERSION + 1;
        CHECK_STATUS(server ? ccz_psi_ecdh_server(&r, set, &io, &o)
                            : ccz_psi_ecdh_client(&r, set, &io, &o),
                     CCZ_ERR_INVALID_ARGUMENT);
        CHECK_STR(ccz_error_detail(), "psi ecdh: options of version 2 (this library: 1)");
        o = (ccz_psi_ecdh_opts)CCZ_PSI_ECDH_OPTS_INIT;
        o.batch = CCZ_PSI_ECDH_BATCH_MAX + 1;
        CHECK_STATUS(server ? ccz_psi_ecdh_server(&r, set, &io, &o)
                            : ccz_psi_ecdh_client(&r, set, &io, &o),
                     CCZ_ERR_INVALID_ARGUMENT);
        CHECK_STR(ccz_error_detail(), "psi ecdh: a batch of 16385 (at most 16384)");
    }
    CHECK_INT(calls, 0);
    /* the largest batch itself is taken, by both roles */
    static const char *const more[] = {"x", "y"};
    ccz_psi_set *other = set_of(more, 2);
    party c = party_of(set, CCZ_PSI_ECDH_BATCH_MAX, false),
          s = party_of(other, CCZ_PSI_ECDH_BATCH_MAX, false);
    run_pair(&c, &s);
    CHECK_OK(c.s);
    CHECK_OK(s.s);
    CHECK_INT(c.r.intersection, 1);
    ccz_psi_ecdh_result_free(&c.r);
    ccz_psi_set_free(other);
    ccz_psi_set_free(set);
}

/* Hashes an item to the group as the protocol does (docs/psi.md). */
static void hash_to_group(uint8_t p[32], ccz_span item)
{
    static const char domain[] = "ccz psi ecdh v1: hash to ristretto255";
    uint8_t digest[crypto_hash_sha512_BYTES];
    crypto_hash_sha512_state h;
    crypto_hash_sha512_init(&h);
    crypto_hash_sha512_update(&h, (const uint8_t *)domain, sizeof domain); /* with its NUL */
    crypto_hash_sha512_update(&h, item.ptr, item.len);
    crypto_hash_sha512_final(&h, digest);
    CHECK(crypto_core_ristretto255_from_hash(p, digest) == 0);
}

static void tag_of(uint8_t tag[PSI_ECDH_TAG_BYTES], const uint8_t p[32])
{
    static const char domain[] = "ccz psi ecdh v1: tag of a doubly blinded point";
    crypto_generichash_state h;
    crypto_generichash_init(&h, NULL, 0, PSI_ECDH_TAG_BYTES);
    crypto_generichash_update(&h, (const uint8_t *)domain, sizeof domain);
    crypto_generichash_update(&h, p, 32);
    crypto_generichash_final(&h, tag, PSI_ECDH_TAG_BYTES);
}

/* The server sends its items in a random order: a client that does not blind its points (a
 * scalar of 1, which it may choose) gets the tags of H(x)^s for its own items in order, and
 * finds where each of the server's points H(x)^s falls among them. The same 24 items on both
 * sides: each of the server's points is found once, and the order is not the server's (sorted)
 * one but for a chance of 1 in 24!. */
static void test_server_items_shuffled(void)
{
    enum { N = 24 };
    if (sodium_init() < 0)
        abort();
    char names[N][8];
    const char *items[N];
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof names[i], "it-%02d", i);
        items[i] = names[i];
    }
    ccz_psi_set *set = set_of(items, N);
    ccz_buf b = CCZ_BUF_INIT, written = CCZ_BUF_INIT;
    put_hello(&b, 1, 0, N);
    if (psi_ecdh_put_header(&b, PSI_ECDH_POINTS, 4 + N * 32) || ccz_buf_append_u32le(&b, N))
        abort();
    for (int i = 0; i < N; i++) {
        uint8_t p[32];
        hash_to_group(p, CCZ_SPAN(items[i], strlen(items[i])));
        if (ccz_buf_append(&b, p, sizeof p))
            abort();
    }
    if (psi_ecdh_put_header(&b, PSI_ECDH_DONE, 0))
        abort();
    char d[512];
    ccz_psi_ecdh_opts o = CCZ_PSI_ECDH_OPTS_INIT;
    CHECK_OK(against_with(true, &b, set, &o, false, &written, d));
    /* hello (20 bytes), the tags of our N points, the server's N points */
    const size_t tags_at = 20 + 9, points_at = tags_at + N * 16 + 9;
    CHECK_INT(written.len, points_at + N * 32);
    int found[N], seen[N] = {0}, in_order = 0, placed = 0;
    for (int j = 0; written.len == points_at + N * 32 && j < N; j++) {
        uint8_t t[PSI_ECDH_TAG_BYTES];
        tag_of(t, written.ptr + points_at + j * 32);
        found[j] = -1;
        for (int i = 0; i < N; i++)
            if (memcmp(written.ptr + tags_at + i * 16, t, sizeof t) == 0)
                found[j] = i;
        if (found[j] >= 0 && !seen[found[j]]++)
            placed++;
        in_order += found[j] == j;
    }
    CHECK_INT(placed, N);
    CHECK(in_order < N);
    ccz_buf_free(&b);
    ccz_buf_free(&written);
    ccz_psi_set_free(set);
}

/* The order is uniform, not merely not the identity: over runs with 3 items, every item lands
 * at every place (a shuffle that skips its last swap never puts item 1 first; one that draws
 * from one place too few, Sattolo's, never leaves an item in its place). Each of the 9 pairs is
 * missed by 60 runs with probability (2/3)^60, about 3e-11. */
static void test_server_order_uniform(void)
{
    enum { N = 3, RUNS = 60 };
    static const char *const items[N] = {"u-0", "u-1", "u-2"};
    ccz_psi_set *set = set_of(items, N);
    ccz_buf b = CCZ_BUF_INIT;
    put_hello(&b, 1, 0, N);
    if (psi_ecdh_put_header(&b, PSI_ECDH_POINTS, 4 + N * 32) || ccz_buf_append_u32le(&b, N))
        abort();
    for (int i = 0; i < N; i++) {
        uint8_t p[32];
        hash_to_group(p, CCZ_SPAN(items[i], strlen(items[i])));
        if (ccz_buf_append(&b, p, sizeof p))
            abort();
    }
    if (psi_ecdh_put_header(&b, PSI_ECDH_DONE, 0))
        abort();
    const size_t tags_at = 20 + 9, points_at = tags_at + N * 16 + 9;
    int at[N][N] = {{0}};
    for (int r = 0; r < RUNS; r++) {
        ccz_buf written = CCZ_BUF_INIT;
        char d[512];
        ccz_psi_ecdh_opts o = CCZ_PSI_ECDH_OPTS_INIT;
        CHECK_OK(against_with(true, &b, set, &o, false, &written, d));
        CHECK_INT(written.len, points_at + N * 32);
        for (int j = 0; written.len == points_at + N * 32 && j < N; j++) {
            uint8_t t[PSI_ECDH_TAG_BYTES];
            tag_of(t, written.ptr + points_at + j * 32);
            for (int i = 0; i < N; i++)
                if (memcmp(written.ptr + tags_at + i * 16, t, sizeof t) == 0)
                    at[i][j]++;
        }
        ccz_buf_free(&written);
    }
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++)
            if (!at[i][j])
                CHECK(!"an item never lands at some place");
    int total = 0;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++)
            total += at[i][j];
    CHECK_INT(total, N * RUNS);
    ccz_buf_free(&b);
    ccz_psi_set_free(set);
}

/* The points a side sends are its items blinded by a scalar drawn for the run: none of them is
 * an item's H(x) (which anyone can compute and test guesses against), and two runs over the same
 * set share no point. Each side runs twice against bytes written in advance: the server against
 * a client of no items, the client against a server of none that answers its batch. */
static void side_points(uint8_t (*out)[32], bool server, ccz_psi_set *set, size_t n)
{
    ccz_buf b = CCZ_BUF_INIT, w = CCZ_BUF_INIT;
    put_hello(&b, 1, 0, 0);
    if (server) {
        if (psi_ecdh_put_header(&b, PSI_ECDH_DONE, 0))
            abort();
    } else {
        put_tags(&b, (uint32_t)n, n);
    }
    char d[512];
    ccz_psi_ecdh_opts o = CCZ_PSI_ECDH_OPTS_INIT;
    CHECK_OK(against_with(server, &b, set, &o, false, &w, d));
    /* a hello (20 bytes), then one POINTS message of n */
    CHECK(w.len >= 20 + 9 + n * 32);
    if (w.len >= 20 + 9 + n * 32) {
        CHECK_INT(w.ptr[20], PSI_ECDH_POINTS);
        memcpy(out, w.ptr + 29, n * 32);
    }
    ccz_buf_free(&b);
    ccz_buf_free(&w);
}

static void test_points_blinded_fresh(void)
{
    enum { N = 3 };
    static const char *const items[N] = {"x", "y", "z"};
    if (sodium_init() < 0)
        abort();
    ccz_psi_set *set = set_of(items, N);
    CHECK_OK(ccz_psi_set_seal(set));
    uint8_t h[N][32];
    for (int i = 0; i < N; i++)
        hash_to_group(h[i], CCZ_SPAN(items[i], 1));
    for (int server = 0; server <= 1; server++) {
        uint8_t run[2][N][32];
        memset(run, 0, sizeof run);
        side_points(run[0], server, set, N);
        side_points(run[1], server, set, N);
        int unblinded = 0, repeated = 0;
        for (int i = 0; i < N; i++)
            for (int j = 0; j < N; j++) {
                unblinded += memcmp(run[0][i], h[j], 32) == 0;
                unblinded += memcmp(run[1][i], h[j], 32) == 0;
                repeated += memcmp(run[0][i], run[1][j], 32) == 0;
            }
        CHECK_INT(unblinded, 0);
        CHECK_INT(repeated, 0);
    }
    ccz_psi_set_free(set);
}

/* A server that answers the client's points with the tags of those very points and then sends
 * them back as its own (a reflection): the client raises them to its scalar, so none matches
 * and it reports no item. */
typedef struct {
    int fd;
    size_t announce; /* the client's items: as many reflected */
    size_t reflected;
} reflector;

static void read_frame(int fd, uint8_t *type, ccz_buf *body)
{
    psi_fd f = {fd, NULL};
    uint8_t h[PSI_ECDH_FRAME_HEADER];
    uint32_t len = 0;
    ccz_buf_reset(body);
    if (psi_fd_read(&f, h, sizeof h) || psi_ecdh_parse_header(type, &len, h) ||
        ccz_buf_reserve(body, len + 1) || (len && psi_fd_read(&f, body->ptr, len))) {
        *type = 0;
        return;
    }
    body->len = len;
}

static void *reflect_thread(void *arg)
{
    reflector *r = arg;
    psi_fd f = {r->fd, NULL};
    ccz_buf body = CCZ_BUF_INIT, out = CCZ_BUF_INIT;
    uint8_t type;
    read_frame(r->fd, &type, &body); /* the client's hello */
    put_hello(&out, 1, 0, r->announce);
    if (type != PSI_ECDH_HELLO || psi_fd_write(&f, out.ptr, out.len))
        goto done;
    ccz_buf_reset(&out);
    read_frame(r->fd, &type, &body); /* its points */
    size_t n = body.len < 4 ? 0 : (body.len - 4) / 32;
    if (type != PSI_ECDH_POINTS || n != r->announce)
        goto done;
    if (psi_ecdh_put_header(&out, PSI_ECDH_TAGS, (uint32_t)(4 + n * 16)) ||
        ccz_buf_append_u32le(&out, (uint32_t)n))
        abort();
    for (size_t i = 0; i < n; i++) {
        uint8_t t[PSI_ECDH_TAG_BYTES];
        tag_of(t, body.ptr + 4 + i * 32);
        if (ccz_buf_append(&out, t, sizeof t))
            abort();
    }
    if (psi_ecdh_put_header(&out, PSI_ECDH_POINTS, (uint32_t)body.len) ||
        ccz_buf_append(&out, body.ptr, body.len) || psi_fd_write(&f, out.ptr, out.len))
        goto done;
    r->reflected = n;
    read_frame(r->fd, &type, &body); /* the client's done */
done:
    shutdown(r->fd, SHUT_WR);
    ccz_buf_free(&body);
    ccz_buf_free(&out);
    return NULL;
}

/* The client with {"car", "cat", "dog"} against a scripted server: server(arg) on its own
 * thread, on the socket *server_fd is set to before it starts; the client's status. */
static ccz_status client_vs_script(ccz_psi_ecdh_result *res, void *(*server)(void *), void *arg,
                                   int *server_fd)
{
    static const char *const items[] = {"car", "cat", "dog"};
    if (sodium_init() < 0)
        abort();
    ccz_psi_set *set = set_of(items, 3);
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
        abort();
    *server_fd = sv[1];
    pthread_t t;
    test_thread(&t, server, arg);
    psi_fd mine = {sv[0], NULL};
    ccz_psi_io io = {psi_fd_write, psi_fd_read, &mine};
    ccz_psi_ecdh_opts o = CCZ_PSI_ECDH_OPTS_INIT;
    ccz_status s = ccz_psi_ecdh_client(res, set, &io, &o);
    shutdown(sv[0], SHUT_WR);
    pthread_join(t, NULL);
    close(sv[0]);
    close(sv[1]);
    ccz_psi_set_free(set);
    return s;
}

static void test_reflected_points(void)
{
    reflector r = {-1, 3, 0};
    ccz_psi_ecdh_result res;
    CHECK_OK(client_vs_script(&res, reflect_thread, &r, &r.fd));
    CHECK_INT(r.reflected, 3);
    CHECK_INT(res.peer_items, 3);
    CHECK_INT(res.intersection, 0);
    ccz_psi_ecdh_result_free(&res);
}

/* A server that answers honestly with its own scalar b, then sends one of its items twice (its
 * set is sealed, so an honest server never repeats a point): the client's item it matches is in
 * the intersection once, not once per copy. */
typedef struct {
    int fd;
    const char *item; /* the server's item, sent twice */
    size_t sent;
} repeater;

static void *repeat_thread(void *arg)
{
    repeater *r = arg;
    psi_fd f = {r->fd, NULL};
    ccz_buf body = CCZ_BUF_INIT, out = CCZ_BUF_INIT;
    uint8_t type, b[crypto_core_ristretto255_SCALARBYTES], h[32], q[32];
    crypto_core_ristretto255_scalar_random(b);
    read_frame(r->fd, &type, &body); /* the client's hello */
    put_hello(&out, 1, 0, 2);
    if (type != PSI_ECDH_HELLO || psi_fd_write(&f, out.ptr, out.len))
        goto done;
    ccz_buf_reset(&out);
    read_frame(r->fd, &type, &body); /* its points: their tags under b */
    size_t n = body.len < 4 ? 0 : (body.len - 4) / 32;
    if (type != PSI_ECDH_POINTS || n == 0)
        goto done;
    if (psi_ecdh_put_header(&out, PSI_ECDH_TAGS, (uint32_t)(4 + n * 16)) ||
        ccz_buf_append_u32le(&out, (uint32_t)n))
        abort();
    for (size_t i = 0; i < n; i++) {
        uint8_t t[PSI_ECDH_TAG_BYTES];
        if (crypto_scalarmult_ristretto255(q, b, body.ptr + 4 + i * 32))
            abort();
        tag_of(t, q);
        if (ccz_buf_append(&out, t, sizeof t))
            abort();
    }
    hash_to_group(h, CCZ_SPAN(r->item, strlen(r->item)));
    if (crypto_scalarmult_ristretto255(q, b, h) ||
        psi_ecdh_put_header(&out, PSI_ECDH_POINTS, 4 + 2 * 32) || ccz_buf_append_u32le(&out, 2) ||
        ccz_buf_append(&out, q, 32) || ccz_buf_append(&out, q, 32) ||
        psi_fd_write(&f, out.ptr, out.len))
        goto done;
    r->sent = 2;
    read_frame(r->fd, &type, &body); /* the client's done */
done:
    shutdown(r->fd, SHUT_WR);
    sodium_memzero(b, sizeof b);
    ccz_buf_free(&body);
    ccz_buf_free(&out);
    return NULL;
}

static void test_repeated_server_point(void)
{
    repeater r = {-1, "cat", 0};
    ccz_psi_ecdh_result res;
    CHECK_OK(client_vs_script(&res, repeat_thread, &r, &r.fd));
    CHECK_INT(r.sent, 2);
    CHECK_INT(res.peer_items, 2);
    CHECK_INT(res.intersection, 1);
    if (res.intersection >= 1)
        CHECK_INT(res.indices[0], 1); /* "cat", the second of the sealed (sorted) set */
    ccz_psi_ecdh_result_free(&res);
}

/* What a side sends when it stops: an ABORT with its reason when the peer can still read it;
 * none after the peer's own ABORT, or once the channel failed; and a failed ABORT does not
 * replace the reason. */
static void test_abort_rules(void)
{
    static const char *const some[] = {"x"};
    ccz_psi_set *set = set_of(some, 1);
    ccz_psi_ecdh_opts o = CCZ_PSI_ECDH_OPTS_INIT;
    ccz_buf b = CCZ_BUF_INIT, w = CCZ_BUF_INIT;
    char d[512], types[256];

    put_hello(&b, 2, 0, 1); /* refused: the reason goes back */
    CHECK_STATUS(against_with(true, &b, set, &o, false, &w, d), CCZ_ERR_UNSUPPORTED_VERSION);
    frame_types(types, sizeof types, &w);
    CHECK_STR(types, "abort");
    CHECK(w.len > 5 && memmem(w.ptr, w.len, "unsupported_version: psi ecdh: the peer speaks", 46));

    ccz_buf_reset(&w); /* the same with the peer gone: the reason stays this side's */
    CHECK_STATUS(against_with(true, &b, set, &o, true, NULL, d), CCZ_ERR_UNSUPPORTED_VERSION);
    CHECK_STR(d, "psi ecdh: the peer speaks version 2 (this side: 1)");

    ccz_buf_reset(&b); /* the peer's silence: nothing more is written */
    put_hello(&b, 1, 0, 5);
    CHECK_STATUS(against_with(true, &b, set, &o, false, &w, d), CCZ_ERR_PROTOCOL);
    CHECK_STR(d, "psi ecdh: waiting for points: the peer closed the connection");
    frame_types(types, sizeof types, &w);
    CHECK_STR(types, "hello");

    ccz_buf_reset(&b); /* a message cut short: nothing more is written either */
    ccz_buf_reset(&w);
    put_hello(&b, 1, 0, 1);
    CHECK(psi_ecdh_put_header(&b, PSI_ECDH_POINTS, 36) == CCZ_OK);
    CHECK(ccz_buf_append_u32le(&b, 1) == CCZ_OK);
    CHECK_STATUS(against_with(true, &b, set, &o, false, &w, d), CCZ_ERR_PROTOCOL);
    CHECK_STR(d, "psi ecdh: reading points: the peer closed the connection");
    frame_types(types, sizeof types, &w);
    CHECK_STR(types, "hello");

    ccz_buf_reset(&b); /* the server gives up: the client does not answer with its own */
    ccz_buf_reset(&w);
    CHECK(psi_ecdh_put_header(&b, PSI_ECDH_ABORT, 3) == CCZ_OK);
    CHECK(ccz_buf_append(&b, "bye", 3) == CCZ_OK);
    CHECK_STATUS(against_with(false, &b, set, &o, false, &w, d), CCZ_ERR_PROTOCOL);
    CHECK_STR(d, "psi ecdh: the peer gave up: bye");
    frame_types(types, sizeof types, &w);
    CHECK_STR(types, "hello");

    ccz_buf_free(&b);
    ccz_buf_free(&w);
    ccz_psi_set_free(set);
}

/* Writes that fail, counted; reads from a socket. */
typedef struct {
    psi_fd in;
    int writes;
} failing_io;

static ccz_status failing_write(void *payload, const uint8_t *p, size_t n)
{
    (void)p, (void)n;
    ((failing_io *)payload)->writes++;
    return ccz_fail(CCZ_ERR_NETWORK, "send: refused by the test");
}

static ccz_status failing_read(void *payload, uint8_t *p, size_t n)
{
    return psi_fd_read(&((failing_io *)payload)->in, p, n);
}

/* A write that failed is the end: no ABORT is tried after it, and its reason is the result. */
static void test_no_abort_after_failed_write(void)
{
    static const char *const some[] = {"x"};
    ccz_psi_set *set = set_of(some, 1);
    ccz_psi_ecdh_opts o = CCZ_PSI_ECDH_OPTS_INIT;
    for (int server = 0; server <= 1; server++) {
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
            abort();
        ccz_buf b = CCZ_BUF_INIT;
        put_hello(&b, 1, 0, 1);
        psi_fd peer = {sv[1], NULL};
        if (psi_fd_write(&peer, b.ptr, b.len))
            abort();
        shutdown(sv[1], SHUT_WR);
        failing_io f = {{sv[0], NULL}, 0};
        ccz_psi_io io = {failing_write, failing_read, &f};
        ccz_psi_ecdh_result r;
        CHECK_STATUS(server ? ccz_psi_ecdh_server(&r, set, &io, &o)
                            : ccz_psi_ecdh_client(&r, set, &io, &o),
                     CCZ_ERR_NETWORK);
        CHECK_STR(ccz_error_detail(), "send: refused by the test");
        CHECK_INT(f.writes, 1); /* the hello, and no ABORT after it */
        ccz_psi_ecdh_result_free(&r);
        ccz_buf_free(&b);
        close(sv[0]);
        close(sv[1]);
    }
    ccz_psi_set_free(set);
}

/* A real server that refuses the client's size tells the real client why. */
static void test_refusal_reaches_peer(void)
{
    ccz_psi_set *a = random_set(50, 0, 1000), *b = random_set(50, 0, 1000);
    party c = party_of(a, 0, false), s = party_of(b, 0, false);
    s.o.max_peer_items = 10;
    run_pair(&c, &s);
    CHECK_INT(s.s, CCZ_ERR_TOO_LARGE);
    CHECK_INT(c.s, CCZ_ERR_PROTOCOL);
    CHECK_CONTAINS(c.detail, "psi ecdh: the peer gave up: too_large: psi ecdh: the peer announces");
    ccz_psi_set_free(a);
    ccz_psi_set_free(b);
}

/* The hello and batch bodies a peer sends, each cut short or followed by a byte more: refused
 * with the status and message naming where they end. */
static void test_wire_bodies(void)
{
    psi_ecdh_hello h;
    uint8_t hello[16] = {'C', 'Z', 'P', 'E', 1, 0, 0, 7};
    CHECK_OK(psi_ecdh_parse_hello(&h, CCZ_SPAN(hello, 15), 100));
    CHECK_INT(h.items, 7);
    CHECK_INT(h.version, 1);
    static const struct {
        size_t len;
        ccz_status want;
        const char *msg;
    } cut[] = {{4, CCZ_ERR_TRUNCATED, "psi ecdh: hello ends before its version"},
               {5, CCZ_ERR_TRUNCATED, "psi ecdh: hello ends before its version"},
               {6, CCZ_ERR_TRUNCATED, "psi ecdh: hello ends before its item count"},
               {7, CCZ_ERR_TRUNCATED, "psi ecdh: hello ends before its item count"},
               {14, CCZ_ERR_TRUNCATED, "psi ecdh: hello ends before its item count"},
               {16, CCZ_ERR_TRAILING_DATA, "psi ecdh: bytes after the hello"}};
    for (size_t i = 0; i < sizeof cut / sizeof cut[0]; i++) {
        CHECK_STATUS(psi_ecdh_parse_hello(&h, CCZ_SPAN(hello, cut[i].len), 100), cut[i].want);
        CHECK_STR(ccz_error_detail(), cut[i].msg);
    }

    uint32_t count;
    ccz_span elems;
    uint8_t batch[4 + 2 * 16 + 1] = {2};
    CHECK_OK(psi_ecdh_parse_batch(&count, &elems, CCZ_SPAN(batch, 36), 16, 2));
    CHECK_INT(count, 2);
    CHECK(elems.ptr == batch + 4 && elems.len == 32);
    for (size_t n = 0; n < 4; n++) {
        CHECK_STATUS(psi_ecdh_parse_batch(&count, &elems, CCZ_SPAN(batch, n), 16, 2),
                     CCZ_ERR_TRUNCATED);
        CHECK_STR(ccz_error_detail(), "psi ecdh: a batch without its count");
    }
    CHECK_STATUS(psi_ecdh_parse_batch(&count, &elems, CCZ_SPAN(batch, 35), 16, 2),
                 CCZ_ERR_TRUNCATED);
    CHECK_STR(ccz_error_detail(), "psi ecdh: a batch of 2 ends early");
    CHECK_STATUS(psi_ecdh_parse_batch(&count, &elems, CCZ_SPAN(batch, 37), 16, 2),
                 CCZ_ERR_TRAILING_DATA);
    CHECK_STR(ccz_error_detail(), "psi ecdh: bytes after a batch of 2");
    batch[0] = 0; /* an empty batch */
    CHECK_STATUS(psi_ecdh_parse_batch(&count, &elems, CCZ_SPAN(batch, 4), 16, 2),
                 CCZ_ERR_TOO_LARGE);
    CHECK_STR(ccz_error_detail(), "psi ecdh: a batch of 0 (1 to 16384)");
}

TEST_MAIN(T(test_set_lines), T(test_set_file), T(test_random_both_roles), T(test_edge_sets),
          T(test_lookup_table_sizes), T(test_size_only_tags_sorted), T(test_hostile_client),
          T(test_hostile_server), T(test_options_refused), T(test_server_items_shuffled),
          T(test_server_order_uniform), T(test_points_blinded_fresh), T(test_reflected_points),
          T(test_repeated_server_point), T(test_abort_rules), T(test_no_abort_after_failed_write),
          T(test_refusal_reaches_peer), T(test_wire_bodies))
