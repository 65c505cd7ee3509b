/* SPDX-License-Identifier: Apache-2.0 */
/* Protected files (src/pf): round trips at every size edge in both format versions, random
 * reads, writes and truncates against a plain buffer, and tampering of every kind (a flipped
 * byte in each node type, truncation, extra nodes, swapped, reordered and transplanted nodes, a
 * wrong key, a wrong path), each refused with its exact status and a message naming the node.
 * Interoperability with an independent implementation is tests/cli/test_pf_cli.sh. */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "ccz/pf.h"
#include "test.h"

static const uint8_t key[16] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
static const char bound[] = "/models/model.onnx";

static uint64_t rng_state = 0x9e3779b97f4a7c15u;
static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void fill(uint8_t *p, size_t n, uint64_t seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)((i * 131 + seed * 7 + (i >> 12)) ^ (seed >> 3));
}

static char *tmp(const char *name)
{
    static char paths[8][512];
    static int next;
    char *p = paths[next++ % 8];
    snprintf(p, 512, "%s/%s", test_tmpdir(), name);
    return p;
}

static ccz_pf_opts opts(ccz_pf_mode mode, const char *path, unsigned format)
{
    ccz_pf_opts o = CCZ_PF_OPTS_INIT;
    o.mode = mode;
    o.bound_path = path;
    o.format = format;
    return o;
}

/* Writes data as a protected file, in chunks of `chunk` bytes. */
static void make(const char *file, const uint8_t *data, size_t n, unsigned format, size_t chunk)
{
    ccz_pf *pf;
    ccz_pf_opts o = opts(CCZ_PF_CREATE, bound, format);
    CHECK_OK(ccz_pf_open_path(&pf, file, key, &o));
    if (!pf)
        return;
    for (size_t at = 0; at < n; at += chunk)
        CHECK_OK(ccz_pf_write(pf, at, data + at, n - at < chunk ? n - at : chunk));
    CHECK_OK(ccz_pf_close(pf));
}

static void expect_contents(const char *file, const uint8_t *data, size_t n, unsigned format)
{
    ccz_pf *pf;
    ccz_pf_opts o = opts(CCZ_PF_READ, bound, 0);
    CHECK_OK(ccz_pf_open_path(&pf, file, key, &o));
    if (!pf)
        return;
    CHECK_INT(ccz_pf_size(pf), n);
    CHECK_INT(ccz_pf_format(pf), format);
    CHECK_STR(ccz_pf_bound_path(pf), bound);
    uint8_t *back = malloc(n + 1);
    size_t got = 0;
    CHECK_OK(ccz_pf_read(pf, back, &got, 0, n + 1));
    CHECK_INT(got, n);
    CHECK(n == 0 || memcmp(back, data, n) == 0);
    CHECK_OK(ccz_pf_check(pf));
    CHECK_OK(ccz_pf_read(pf, back, &got, n, 1));
    CHECK_INT(got, 0);
    free(back);
    CHECK_OK(ccz_pf_close(pf));
    struct stat st;
    CHECK(stat(file, &st) == 0);
    CHECK_INT(st.st_size, ccz_pf_node_count(n) * 4096);
}

static void test_node_count(void)
{
    CHECK_INT(ccz_pf_node_count(0), 1);
    CHECK_INT(ccz_pf_node_count(3072), 1);
    CHECK_INT(ccz_pf_node_count(3073), 3);
    CHECK_INT(ccz_pf_node_count(3072 + 4096), 3);
    CHECK_INT(ccz_pf_node_count(3072 + 4096 + 1), 4);
    CHECK_INT(ccz_pf_node_count(3072 + 4096 * 96), 98);
    CHECK_INT(ccz_pf_node_count(3072 + 4096 * 96 + 1), 100);
}

/* Every size edge: empty, inside the metadata node, the first data node, the first MHT node's
 * last data node, a second MHT node; both formats; written in odd chunks. */
static void test_round_trip_edges(void)
{
    static const size_t sizes[] = {0,
                                   1,
                                   3071,
                                   3072,
                                   3073,
                                   7168,
                                   7169,
                                   8000,
                                   4096 * 96 + 3071,
                                   4096 * 96 + 3072,
                                   4096 * 96 + 3073};
    size_t max = 4096 * 96 + 3073;
    uint8_t *data = malloc(max);
    fill(data, max, 1);
    for (unsigned format = 1; format <= 2; format++)
        for (size_t i = 0; i < CCZ_ARRAY_LEN(sizes); i++) {
            char *f = tmp("edge.pf");
            make(f, data, sizes[i], format, 1000 + i);
            expect_contents(f, data, sizes[i], format);
        }
    free(data);
}

/* Three levels of MHT nodes: MHT node 33 is the first child of MHT node 1. */
static void flip(const char *f, off_t at);
static void expect_read(const char *f, uint64_t at, ccz_status want, const char *msg);

static void test_round_trip_three_levels(void)
{
    size_t n = 3072 + (size_t)4096 * 96 * 33 + 5;
    uint8_t *data = malloc(n);
    fill(data, n, 2);
    char *f = tmp("deep.pf");
    make(f, data, n, 2, 1 << 20);
    expect_contents(f, data, n, 2);
    /* random reads of single bytes across the tree, with a small cache */
    ccz_pf *pf;
    ccz_pf_opts o = opts(CCZ_PF_READ, NULL, 0);
    o.cache_nodes = 16;
    CHECK_OK(ccz_pf_open_path(&pf, f, key, &o));
    for (int i = 0; i < 2000 && pf; i++) {
        uint64_t at = rng() % n;
        uint8_t b = 0;
        size_t got = 0;
        CHECK_OK(ccz_pf_read(pf, &b, &got, at, 1));
        CHECK_INT(got, 1);
        CHECK_INT(b, data[at]);
    }
    CHECK_OK(ccz_pf_close(pf));
    /* MHT node 33 stays in a small cache while its parent, MHT node 1, leaves it (reads under
     * the root in between); a write under MHT node 33 then changes both */
    o = opts(CCZ_PF_READ_WRITE, bound, 0);
    o.cache_nodes = 16;
    CHECK_OK(ccz_pf_open_path(&pf, f, key, &o));
    uint64_t deep = 3072 + (uint64_t)4096 * 96 * 33; /* data node 3168, under MHT node 33 */
    for (int i = 0; i < 40 && pf; i++) {
        uint8_t b[8];
        size_t got;
        CHECK_OK(ccz_pf_read(pf, b, &got, 3072 + (uint64_t)4096 * (i % 90), sizeof b));
        CHECK_OK(ccz_pf_read(pf, b, &got, deep + 4096 * (i % 2), sizeof b));
    }
    CHECK_OK(ccz_pf_write(pf, deep + 1, "deep", 4));
    memcpy(data + deep + 1, "deep", 4);
    CHECK_OK(ccz_pf_close(pf));
    expect_contents(f, data, n, 2);
    free(data);
    /* MHT node 1 altered: reading under MHT node 33, its child, fails at MHT node 1 */
    flip(f, 98 * 4096 + 100);
    expect_read(f, deep, CCZ_ERR_BAD_SIGNATURE,
                "protected file: MHT node 1 (node 98 at file offset 401408): GCM tag mismatch");
}

/* Random writes (also past the end), truncates and reads against a plain buffer, a cache of 16
 * nodes (flushes under pressure), closing and reopening now and then. */
static void random_ops(size_t max, unsigned format)
{
    uint8_t *model = calloc(1, max), *buf = malloc(max);
    size_t size = 0;
    char *f = tmp("random.pf");
    ccz_pf *pf;
    ccz_pf_opts o = opts(CCZ_PF_CREATE, bound, format);
    o.cache_nodes = 16;
    CHECK_OK(ccz_pf_open_path(&pf, f, key, &o));
    for (int step = 0; step < 600 && pf; step++) {
        uint64_t r = rng() % 100;
        if (r < 45) {
            size_t at = rng() % (max - 1), n = rng() % (r < 10 ? 40000 : 5000);
            if (n > max - at)
                n = max - at;
            fill(buf, n, (uint64_t)step);
            CHECK_OK(ccz_pf_write(pf, at, buf, n));
            if (n && at > size)
                memset(model + size, 0, at - size);
            memcpy(model + at, buf, n);
            if (n && at + n > size)
                size = at + n;
        } else if (r < 55) {
            size_t to = rng() % max;
            if (rng() % 2)
                to = to % (size + 1);
            CHECK_OK(ccz_pf_truncate(pf, to));
            if (to > size)
                memset(model + size, 0, to - size);
            size = to;
        } else if (r < 90) {
            size_t at = rng() % (size + 100), n = rng() % 20000, got = 0, want;
            CHECK_OK(ccz_pf_read(pf, buf, &got, at, n));
            want = at >= size ? 0 : (size - at < n ? size - at : n);
            CHECK_INT(got, want);
            CHECK(got == 0 || memcmp(buf, model + at, got) == 0);
        } else if (r < 95) {
            CHECK_OK(ccz_pf_flush(pf));
        } else {
            CHECK_OK(ccz_pf_close(pf));
            ccz_pf_opts rw = opts(CCZ_PF_READ_WRITE, bound, 0);
            rw.cache_nodes = 16;
            CHECK_OK(ccz_pf_open_path(&pf, f, key, &rw));
        }
        CHECK_INT(pf ? ccz_pf_size(pf) : 0, size);
    }
    CHECK_OK(ccz_pf_close(pf));
    expect_contents(f, model, size, format);
    free(model);
    free(buf);
}

static void test_random_ops(void)
{
    random_ops(3072 + 4096 * 200, 2);
    /* three MHT levels: writes far apart share MHT nodes 1 and 33.. */
    random_ops(3072 + (size_t)4096 * 96 * 35, 1);
}

/* A file with data nodes under two MHT nodes: 104 nodes (0 metadata, 1 root, 2..97 data 0..95,
 * 98 MHT 1, 99..103 data 96..100). */
#define T_SIZE (3072 + 4096 * 100 + 500)
static uint8_t t_data[T_SIZE];

static char *tamper_file(const char *name, unsigned format)
{
    fill(t_data, T_SIZE, 3);
    char *f = tmp(name);
    make(f, t_data, T_SIZE, format, 65536);
    return f;
}

static void patch(const char *f, off_t at, const void *bytes, size_t n)
{
    int fd = open(f, O_RDWR);
    CHECK(fd >= 0 && pwrite(fd, bytes, n, at) == (ssize_t)n);
    close(fd);
}

static void flip(const char *f, off_t at)
{
    uint8_t b = 0;
    int fd = open(f, O_RDWR);
    CHECK(fd >= 0 && pread(fd, &b, 1, at) == 1);
    b ^= 0x40;
    CHECK(pwrite(fd, &b, 1, at) == 1);
    close(fd);
}

static void node_copy(const char *from, uint64_t src, const char *to, uint64_t dst)
{
    uint8_t node[4096];
    int fd = open(from, O_RDONLY);
    CHECK(fd >= 0 && pread(fd, node, sizeof node, (off_t)src * 4096) == 4096);
    close(fd);
    patch(to, (off_t)dst * 4096, node, sizeof node);
}

static void swap_nodes(const char *f, uint64_t a, uint64_t b)
{
    uint8_t na[4096], nb[4096];
    int fd = open(f, O_RDWR);
    CHECK(fd >= 0 && pread(fd, na, 4096, (off_t)a * 4096) == 4096 &&
          pread(fd, nb, 4096, (off_t)b * 4096) == 4096);
    CHECK(pwrite(fd, na, 4096, (off_t)b * 4096) == 4096 &&
          pwrite(fd, nb, 4096, (off_t)a * 4096) == 4096);
    close(fd);
}

/* Opening fails with want, the detail "<file>: <msg>". */
static void expect_open(const char *f, const uint8_t *k, const char *path, ccz_status want,
                        const char *msg)
{
    ccz_pf *pf = NULL;
    ccz_pf_opts o = opts(CCZ_PF_READ, path, 0);
    CHECK_STATUS(ccz_pf_open_path(&pf, f, k, &o), want);
    CHECK(pf == NULL);
    char full[1024];
    snprintf(full, sizeof full, "%s: %s", f, msg);
    CHECK_STR(ccz_error_detail(), full);
    ccz_pf_close(pf);
}

/* Opening succeeds; reading at `at` fails with want and msg, and so does everything after. */
static void expect_read(const char *f, uint64_t at, ccz_status want, const char *msg)
{
    ccz_pf *pf = NULL;
    ccz_pf_opts o = opts(CCZ_PF_READ, bound, 0);
    CHECK_OK(ccz_pf_open_path(&pf, f, key, &o));
    if (!pf)
        return;
    uint8_t b[16];
    size_t got = 7;
    CHECK_STATUS(ccz_pf_read(pf, b, &got, at, sizeof b), want);
    CHECK_INT(got, 0);
    CHECK_STR(ccz_error_detail(), msg);
    CHECK_STATUS(ccz_pf_read(pf, b, &got, 0, sizeof b), want); /* the handle stays failed */
    CHECK_STR(ccz_error_detail(), msg);
    CHECK_OK(ccz_pf_close(pf));
    CHECK_OK(ccz_pf_open_path(&pf, f, key, &o));
    CHECK_STATUS(ccz_pf_check(pf), want);
    CHECK_STR(ccz_error_detail(), msg);
    CHECK_OK(ccz_pf_close(pf));
}

static const char md_mismatch[] = "protected file: metadata node (node 0): GCM tag mismatch (a "
                                  "wrong key, or the node was altered)";

static void test_tamper_metadata(void)
{
    for (unsigned format = 1; format <= 2; format++) {
        char *f = tamper_file("md.pf", format);
        expect_contents(f, t_data, T_SIZE, format);
        flip(f, 200); /* inside the encrypted part */
        expect_open(f, key, bound, CCZ_ERR_BAD_SIGNATURE, md_mismatch);
        f = tamper_file("md.pf", format);
        flip(f, 20); /* the KDF nonce */
        expect_open(f, key, bound, CCZ_ERR_BAD_SIGNATURE, md_mismatch);
        f = tamper_file("md.pf", format);
        flip(f, 50); /* the tag */
        expect_open(f, key, bound, CCZ_ERR_BAD_SIGNATURE, md_mismatch);
        f = tamper_file("md.pf", format);
        flip(f, 3); /* the file id */
        expect_open(f, key, bound, CCZ_ERR_MALFORMED,
                    "protected file: metadata node (node 0): file id 46505f5306415247 is not "
                    "Gramine's (46505f5346415247): not a protected file");
        f = tamper_file("md.pf", format);
        patch(f, 8, "\x03", 1);
        expect_open(f, key, bound, CCZ_ERR_UNSUPPORTED_VERSION,
                    "protected file: metadata node (node 0): format version 3.0 (ccz reads 1.0 and "
                    "2.0)");
        f = tamper_file("md.pf", format);
        flip(f, 4000); /* the padding */
        expect_open(f, key, bound, CCZ_ERR_MALFORMED,
                    "protected file: metadata node (node 0): padding byte at offset 4000 is not "
                    "zero");
    }
    char *f;
    f = tamper_file("md.pf", 2);
    patch(f, 58, "\x01", 1);
    expect_open(
        f, key, bound, CCZ_ERR_UNSUPPORTED,
        "protected file: metadata node (node 0): a write was interrupted (has-pending-write "
        "flag set): recover the file with Gramine and its recovery file first");
    f = tamper_file("md.pf", 2);
    patch(f, 58, "\x02", 1); /* a feature flag Gramine 1.9 does not define */
    expect_open(f, key, bound, CCZ_ERR_UNSUPPORTED,
                "protected file: metadata node (node 0): unknown feature flags 0x02");
    /* a version-2 file read as version 1: the encrypted part moves by a byte, and its last byte
     * lands on version 1's first padding byte. That byte comes out of the encryption, zero one
     * time in 256 (then the padding passes and GCM refuses the node instead): it is made
     * non-zero here, so that the test does not depend on the file's random nonce */
    f = tamper_file("md.pf", 2);
    patch(f, 8, "\x01", 1);
    uint8_t last = 0;
    int fd = open(f, O_RDONLY);
    CHECK(fd >= 0 && pread(fd, &last, 1, 3942) == 1);
    close(fd);
    if (last == 0)
        patch(f, 3942, "\x01", 1);
    expect_open(f, key, bound, CCZ_ERR_MALFORMED,
                "protected file: metadata node (node 0): padding byte at offset 3942 is not "
                "zero");
}

static void test_tamper_mht_and_data(void)
{
    char *f = tamper_file("mht.pf", 1);
    flip(f, 4096 + 77); /* the root MHT node: checked at open */
    expect_open(f, key, bound, CCZ_ERR_BAD_SIGNATURE,
                "protected file: root MHT node (node 1 at file offset 4096): GCM tag mismatch");

    f = tamper_file("mht.pf", 2);
    flip(f, 98 * 4096 + 4095); /* MHT node 1: found when data node 96 is read */
    static const char mht1[] =
        "protected file: MHT node 1 (node 98 at file offset 401408): GCM tag mismatch";
    expect_read(f, 3072 + 4096 * 96, CCZ_ERR_BAD_SIGNATURE, mht1);
    /* nodes under the root alone still read before the failure */
    ccz_pf *pf;
    ccz_pf_opts o = opts(CCZ_PF_READ, bound, 0);
    CHECK_OK(ccz_pf_open_path(&pf, f, key, &o));
    uint8_t b[4096];
    size_t got = 0;
    CHECK_OK(ccz_pf_read(pf, b, &got, 3072 + 4096 * 95, sizeof b));
    CHECK_INT(got, 4096);
    CHECK(memcmp(b, t_data + 3072 + 4096 * 95, 4096) == 0);
    CHECK_OK(ccz_pf_close(pf));

    f = tamper_file("data.pf", 1);
    flip(f, 9 * 4096 + 1); /* data node 7 */
    expect_read(f, 3072 + 4096 * 7 + 10, CCZ_ERR_BAD_SIGNATURE,
                "protected file: data node 7 (node 9 at file offset 36864, plaintext offset "
                "31744): GCM tag mismatch");
    /* a read that copied data node 6 before it met node 7 reports nothing read, not 4096 */
    o = opts(CCZ_PF_READ, bound, 0);
    CHECK_OK(ccz_pf_open_path(&pf, f, key, &o));
    got = 7;
    CHECK_STATUS(ccz_pf_read(pf, b, &got, 3072 + 4096 * 6 + 100, sizeof b), CCZ_ERR_BAD_SIGNATURE);
    CHECK_INT(got, 0);
    CHECK_OK(ccz_pf_close(pf));
    /* a writable handle: the write that meets the node fails, close says the changes are lost,
     * and nothing was written */
    o = opts(CCZ_PF_READ_WRITE, bound, 0);
    CHECK_OK(ccz_pf_open_path(&pf, f, key, &o));
    CHECK_OK(ccz_pf_write(pf, 0, "early", 5));
    CHECK_STATUS(ccz_pf_write(pf, 3072 + 4096 * 7, "x", 1), CCZ_ERR_BAD_SIGNATURE);
    CHECK_STATUS(ccz_pf_flush(pf), CCZ_ERR_BAD_SIGNATURE);
    CHECK_STATUS(ccz_pf_close(pf), CCZ_ERR_BAD_SIGNATURE);
    CHECK_CONTAINS(ccz_error_detail(), "data node 7 (node 9 at file offset 36864");
    o = opts(CCZ_PF_READ, bound, 0);
    CHECK_OK(ccz_pf_open_path(&pf, f, key, &o));
    CHECK_OK(ccz_pf_read(pf, b, &got, 0, 5));
    CHECK(memcmp(b, t_data, 5) == 0);
    CHECK_OK(ccz_pf_close(pf));
    f = tamper_file("data.pf", 2);
    flip(f, 103 * 4096); /* the last data node, 100 */
    expect_read(f, T_SIZE - 1, CCZ_ERR_BAD_SIGNATURE,
                "protected file: data node 100 (node 103 at file offset 421888, plaintext offset "
                "412672): GCM tag mismatch");
}

static void test_swap_reorder_transplant(void)
{
    char *f = tamper_file("swap.pf", 1);
    swap_nodes(f, 4, 5); /* data nodes 2 and 3 */
    expect_read(f, 3072 + 4096 * 2, CCZ_ERR_BAD_SIGNATURE,
                "protected file: data node 2 (node 4 at file offset 16384, plaintext offset "
                "11264): GCM tag mismatch");
    f = tamper_file("swap.pf", 2);
    swap_nodes(f, 10, 11); /* reorder three: 10 11 12 -> 12 10 11 */
    swap_nodes(f, 10, 12);
    expect_read(f, 3072 + 4096 * 8, CCZ_ERR_BAD_SIGNATURE,
                "protected file: data node 8 (node 10 at file offset 40960, plaintext offset "
                "35840): GCM tag mismatch");
    f = tamper_file("swap.pf", 1);
    swap_nodes(f, 98, 99); /* MHT node 1 and its first data node */
    expect_read(f, 3072 + 4096 * 96, CCZ_ERR_BAD_SIGNATURE,
                "protected file: MHT node 1 (node 98 at file offset 401408): GCM tag mismatch");
    /* the same node of another file under the same key */
    char *g = tmp("other.pf");
    make(g, t_data, T_SIZE, 1, 65536);
    f = tamper_file("swap.pf", 1);
    node_copy(g, 7, f, 7);
    expect_read(f, 3072 + 4096 * 5, CCZ_ERR_BAD_SIGNATURE,
                "protected file: data node 5 (node 7 at file offset 28672, plaintext offset "
                "23552): GCM tag mismatch");
    /* metadata nodes of two files are not interchangeable either */
    f = tamper_file("swap.pf", 1);
    node_copy(g, 0, f, 0);
    expect_open(f, key, bound, CCZ_ERR_BAD_SIGNATURE,
                "protected file: root MHT node (node 1 at file offset 4096): GCM tag mismatch");
}

static void test_truncated_and_extended(void)
{
    char *f = tamper_file("trunc.pf", 1);
    CHECK(truncate(f, 103 * 4096) == 0);
    expect_open(f, key, bound, CCZ_ERR_TRUNCATED,
                "protected file: truncated: 103 nodes where size 413172 needs 104 (data node 100 "
                "(node 103 at file offset 421888, plaintext offset 412672) is missing)");
    CHECK(truncate(f, 98 * 4096) == 0);
    expect_open(f, key, bound, CCZ_ERR_TRUNCATED,
                "protected file: truncated: 98 nodes where size 413172 needs 104 (MHT node 1 (node "
                "98 at file offset 401408) is missing)");
    CHECK(truncate(f, 98 * 4096 + 1) == 0);
    expect_open(f, key, bound, CCZ_ERR_MALFORMED,
                "protected file: 401409 bytes is not a whole number of 4096-byte nodes");
    CHECK(truncate(f, 0) == 0);
    expect_open(f, key, bound, CCZ_ERR_TRUNCATED,
                "protected file: the file is empty (a protected file has at least its metadata "
                "node)");
    f = tamper_file("trunc.pf", 2);
    CHECK(truncate(f, 105 * 4096) == 0);
    expect_open(f, key, bound, CCZ_ERR_TRAILING_DATA,
                "protected file: 105 nodes where size 413172 needs 104");
}

/* The host file shrinks under an open handle: the read that meets the missing node says it is
 * truncated, where the file ends, and which node it wanted. */
static void test_shrunk_after_open(void)
{
    char *f = tamper_file("shrunk.pf", 1);
    ccz_pf *pf = NULL;
    ccz_pf_opts o = opts(CCZ_PF_READ, bound, 0);
    CHECK_OK(ccz_pf_open_path(&pf, f, key, &o));
    if (!pf)
        return;
    CHECK(truncate(f, 50 * 4096 + 100) == 0);
    uint8_t b[16];
    size_t got = 7;
    CHECK_OK(ccz_pf_read(pf, b, &got, 3072 + 4096 * 40, sizeof b)); /* node 42: still there */
    CHECK_INT(got, sizeof b);
    static const char msg[] = "protected file: data node 60 (node 62 at file offset 253952, "
                              "plaintext offset 248832): the file ends at byte 204900";
    CHECK_STATUS(ccz_pf_read(pf, b, &got, 3072 + 4096 * 60, sizeof b), CCZ_ERR_TRUNCATED);
    CHECK_INT(got, 0);
    CHECK_STR(ccz_error_detail(), msg);
    CHECK_OK(ccz_pf_close(pf));
    /* a node cut in the middle */
    f = tamper_file("shrunk.pf", 2);
    CHECK_OK(ccz_pf_open_path(&pf, f, key, &o));
    CHECK(truncate(f, 50 * 4096 + 100) == 0);
    CHECK_STATUS(ccz_pf_read(pf, b, &got, 3072 + 4096 * 48, sizeof b), CCZ_ERR_TRUNCATED);
    CHECK_STR(ccz_error_detail(), "protected file: data node 48 (node 50 at file offset 204800, "
                                  "plaintext offset 199680): the file ends at byte 204900");
    CHECK_OK(ccz_pf_close(pf));
}

static void test_wrong_key_and_path(void)
{
    char *f = tamper_file("kp.pf", 2);
    uint8_t other[16];
    memcpy(other, key, 16);
    other[15] ^= 1;
    expect_open(f, other, bound, CCZ_ERR_BAD_SIGNATURE, md_mismatch);
    expect_open(f, key, "/models/other.onnx", CCZ_ERR_BINDING,
                "protected file: bound to path '/models/model.onnx', not '/models/other.onnx'");
    expect_open(f, key, "/models/model.onnx/", CCZ_ERR_BINDING,
                "protected file: bound to path '/models/model.onnx', not '/models/model.onnx/'");
    ccz_pf *pf;
    ccz_pf_opts o = opts(CCZ_PF_READ, NULL, 0); /* no path check */
    CHECK_OK(ccz_pf_open_path(&pf, f, key, &o));
    CHECK_STR(ccz_pf_bound_path(pf), bound);
    CHECK_STATUS(ccz_pf_write(pf, 0, "x", 1), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "protected file: opened read-only");
    CHECK_STATUS(ccz_pf_truncate(pf, 0), CCZ_ERR_INVALID_ARGUMENT);
    /* the caller's mistake does not fail the handle: it still reads */
    uint8_t b[8];
    size_t got = 0;
    CHECK_OK(ccz_pf_read(pf, b, &got, 0, sizeof b));
    CHECK_INT(got, sizeof b);
    CHECK(memcmp(b, t_data, sizeof b) == 0);
    CHECK_OK(ccz_pf_check(pf));
    CHECK_OK(ccz_pf_close(pf));
}

/* Node 0 of f decrypted with the metadata key (SP 800-108 CMAC as docs/pf.md has it), its
 * plaintext (path 772 | size 8 | ...) changed by edit, and sealed again under the same key: a
 * header the key's holder wrote, which the reader must still check. */
static void reseal(const char *f, unsigned format, void (*edit)(uint8_t *plain, void *arg),
                   void *arg)
{
    enum { HEAD_V1 = 58, ENC = 772 + 8 + 16 + 16 + 3072 };
    size_t head = format == 1 ? HEAD_V1 : HEAD_V1 + 1;
    uint8_t node[4096], in[104] = {1}, mk[16], plain[ENC], tag[16];
    int fd = open(f, O_RDWR);
    CHECK(fd >= 0 && pread(fd, node, sizeof node, 0) == (ssize_t)sizeof node);
    memcpy(in + 4, "SGX-PROTECTED-FS-METADATA-KEY", 29);
    memcpy(in + 68, node + 10, 32);
    in[100] = 128;
    size_t n = 0;
    EVP_MAC *cmac = EVP_MAC_fetch(NULL, "CMAC", NULL);
    EVP_MAC_CTX *mc = EVP_MAC_CTX_new(cmac);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, "AES-128-CBC", 0),
        OSSL_PARAM_construct_end()};
    CHECK(EVP_MAC_init(mc, key, 16, params) == 1 && EVP_MAC_update(mc, in, sizeof in) == 1 &&
          EVP_MAC_final(mc, mk, &n, sizeof mk) == 1 && n == 16);
    EVP_MAC_CTX_free(mc);
    EVP_MAC_free(cmac);
    static const uint8_t iv[12];
    int len = 0;
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    CHECK(EVP_DecryptInit_ex(c, EVP_aes_128_gcm(), NULL, mk, iv) == 1 &&
          EVP_DecryptUpdate(c, plain, &len, node + head, ENC) == 1 &&
          EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, node + 42) == 1 &&
          EVP_DecryptFinal_ex(c, plain + len, &len) == 1);
    edit(plain, arg);
    CHECK(EVP_EncryptInit_ex(c, EVP_aes_128_gcm(), NULL, mk, iv) == 1 &&
          EVP_EncryptUpdate(c, node + head, &len, plain, ENC) == 1 &&
          EVP_EncryptFinal_ex(c, node + head + len, &len) == 1 &&
          EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tag) == 1);
    EVP_CIPHER_CTX_free(c);
    memcpy(node + 42, tag, sizeof tag);
    CHECK(pwrite(fd, node, sizeof node, 0) == (ssize_t)sizeof node);
    close(fd);
}

static void set_size(uint8_t *plain, void *arg)
{
    uint64_t size = *(const uint64_t *)arg;
    for (int i = 0; i < 8; i++)
        plain[772 + i] = (uint8_t)(size >> (8 * i));
}

static void fill_path(uint8_t *plain, void *arg)
{
    (void)arg;
    memset(plain, 'a', 772);
}

/* A header sealed with the right key but holding what no writer makes: a size past the limit,
 * past or short of the nodes there are, a path without its NUL. */
static void test_resealed_metadata(void)
{
    for (unsigned format = 1; format <= 2; format++) {
        char *f = tamper_file("reseal.pf", format);
        uint64_t size = T_SIZE;
        reseal(f, format, set_size, &size); /* the same header again: it still opens */
        expect_contents(f, t_data, T_SIZE, format);
        size = CCZ_PF_MAX_SIZE + 1;
        reseal(f, format, set_size, &size);
        expect_open(f, key, bound, CCZ_ERR_MALFORMED,
                    "protected file: metadata node (node 0): size 1152921504606846977 is beyond "
                    "the 1152921504606846976-byte limit");
        size = T_SIZE + 4096 * 96; /* nodes the host file does not have */
        reseal(f, format, set_size, &size);
        expect_open(f, key, bound, CCZ_ERR_TRUNCATED,
                    "protected file: truncated: 104 nodes where size 806388 needs 201 (data node "
                    "101 (node 104 at file offset 425984, plaintext offset 416768) is missing)");
        size = 3072; /* all of it in node 0: the other 103 nodes are extra */
        reseal(f, format, set_size, &size);
        expect_open(f, key, bound, CCZ_ERR_TRAILING_DATA,
                    "protected file: 104 nodes where size 3072 needs 1");
        f = tamper_file("reseal.pf", format);
        reseal(f, format, fill_path, NULL);
        expect_open(f, key, NULL, CCZ_ERR_MALFORMED,
                    "protected file: metadata node (node 0): the bound path has no terminating "
                    "NUL");
    }
}

/* Every single byte flipped anywhere in a small file (metadata, root, two data nodes) is
 * refused by open or by the check of every node. */
static void test_every_byte(void)
{
    size_t n = 3072 + 4096 + 100;
    uint8_t *data = malloc(n);
    fill(data, n, 4);
    char *f = tmp("every.pf");
    for (unsigned format = 1; format <= 2; format++) {
        make(f, data, n, format, n);
        int caught = 0, total = 0;
        for (off_t at = 0; at < 4 * 4096; at += (at < 4096 ? 1 : 61)) {
            flip(f, at);
            ccz_pf *pf = NULL;
            ccz_pf_opts o = opts(CCZ_PF_READ, bound, 0);
            ccz_status s = ccz_pf_open_path(&pf, f, key, &o);
            if (s == CCZ_OK)
                s = ccz_pf_check(pf);
            ccz_pf_close(pf);
            caught += s != CCZ_OK;
            total++;
            flip(f, at);
        }
        CHECK_INT(caught, total);
        expect_contents(f, data, n, format);
    }
    free(data);
}

static void test_api_edges(void)
{
    ccz_pf *pf = NULL;
    ccz_pf_opts o = opts(CCZ_PF_CREATE, NULL, 1);
    CHECK_STATUS(ccz_pf_open_path(&pf, tmp("e.pf"), key, &o), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "protected file: a new file needs the path to bind");
    o = opts(CCZ_PF_CREATE, bound, 3);
    CHECK_STATUS(ccz_pf_open_path(&pf, tmp("e.pf"), key, &o), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "protected file: format 3 (1 for Gramine <= 1.8, 2 for >= 1.9)");
    o = opts((ccz_pf_mode)7, bound, 1);
    CHECK_STATUS(ccz_pf_open_path(&pf, tmp("e.pf"), key, &o), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "protected file: unknown mode 7");
    char longpath[800];
    memset(longpath, 'a', sizeof longpath);
    longpath[772] = 0;
    o = opts(CCZ_PF_CREATE, longpath, 1);
    CHECK_STATUS(ccz_pf_open_path(&pf, tmp("e.pf"), key, &o), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "protected file: the bound path is longer than 771 bytes");
    longpath[771] = 0; /* the longest that fits */
    o = opts(CCZ_PF_CREATE, longpath, 2);
    CHECK_OK(ccz_pf_open_path(&pf, tmp("e.pf"), key, &o));
    CHECK_STATUS(ccz_pf_write(pf, CCZ_PF_MAX_SIZE, "x", 1), CCZ_ERR_TOO_LARGE);
    CHECK_OK(ccz_pf_close(pf));
    o = opts(CCZ_PF_READ, longpath, 0);
    CHECK_OK(ccz_pf_open_path(&pf, tmp("e.pf"), key, &o));
    CHECK_INT(ccz_pf_size(pf), 0);
    CHECK_OK(ccz_pf_close(pf));
    o = opts(CCZ_PF_READ, NULL, 0);
    CHECK_STATUS(ccz_pf_open_path(&pf, tmp("absent.pf"), key, &o), CCZ_ERR_NOT_FOUND);
    o.version = 2;
    CHECK_STATUS(ccz_pf_open_path(&pf, tmp("e.pf"), key, &o), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "protected file: options of version 2 (this library reads 1)");
    o = opts(CCZ_PF_READ, NULL, 0);
    CHECK_STATUS(ccz_pf_open_path(&pf, NULL, key, &o), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "protected file: no path or key");
    CHECK_STATUS(ccz_pf_open_path(&pf, tmp("e.pf"), NULL, &o), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "protected file: no path or key");
    o = opts(CCZ_PF_READ_WRITE, NULL, 0); /* a directory cannot be opened for writing */
    CHECK_STATUS(ccz_pf_open_path(&pf, test_tmpdir(), key, &o), CCZ_ERR_IO);
    char want[640];
    snprintf(want, sizeof want, "cannot open %s: Is a directory", test_tmpdir());
    CHECK_STR(ccz_error_detail(), want);
    /* no handle (an open that failed): refused, not dereferenced */
    uint8_t b[4];
    size_t got = 3;
    CHECK_STATUS(ccz_pf_read(NULL, b, &got, 0, sizeof b), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "protected file: no handle");
    CHECK_INT(got, 0);
    CHECK_STATUS(ccz_pf_write(NULL, 0, b, sizeof b), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "protected file: no handle");
    CHECK_STATUS(ccz_pf_check(NULL), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(ccz_pf_flush(NULL), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(ccz_pf_truncate(NULL, 0), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "protected file: no handle");
    CHECK_OK(ccz_pf_close(NULL));
}

static void test_normalize(void)
{
    static const char *cases[][2] = {
        {"/a/b/c", "/a/b/c"},
        {"a//b/./c/", "a/b/c"},
        {"./a", "a"},
        {"/a/../..", "/"},
        {"../../x", "../../x"},
        {"a/../../b", "../b"},
        {"/../a", "/a"},
        {".", ""},
        {"/", "/"},
        {"a/b/../c", "a/c"},
        {"..", ".."},
        {"a/..", ""},
        {"/x/./y/../z", "/x/z"},
        {"x/../..", ".."},
        {"//a//", "/a"},
        {"a/./.", "a"},
    };
    for (size_t i = 0; i < CCZ_ARRAY_LEN(cases); i++) {
        char out[64];
        ccz_pf_normalize_path(out, cases[i][0]);
        CHECK_STR(out, cases[i][1]);
    }
}

/* A minor version other than 0 is refused, though node 0's header is not authenticated. */
static void test_minor_version(void)
{
    for (unsigned format = 1; format <= 2; format++) {
        char *f = tamper_file("minor.pf", format);
        patch(f, 9, "\x01", 1);
        char msg[160];
        snprintf(msg, sizeof msg,
                 "protected file: metadata node (node 0): format version %u.1 (ccz "
                 "reads 1.0 and "
                 "2.0)",
                 format);
        expect_open(f, key, bound, CCZ_ERR_UNSUPPORTED_VERSION, msg);
    }
}

static void read_node(const char *f, uint64_t node, uint8_t out[4096])
{
    int fd = open(f, O_RDONLY);
    CHECK(fd >= 0 && pread(fd, out, 4096, (off_t)node * 4096) == 4096);
    close(fd);
}

static size_t differing(const uint8_t *a, const uint8_t *b, size_t n)
{
    size_t d = 0;
    for (size_t i = 0; i < n; i++)
        d += a[i] != b[i];
    return d;
}

/* The IV is always zero: every seal must use a fresh key (data and MHT nodes: a key in the parent's slot; the root: a key in node 0; node 0: a key derived from a fresh nonce). The same plaintext written again shares no keystream with its first seal: (nearly) every byte of each node's ciphertext changes. */
static void test_fresh_keys(void)
{
    size_t n = 3072 + 4096 + 100;
    uint8_t *data = malloc(n);
    fill(data, n, 5);
    for (unsigned format = 1; format <= 2; format++) {
        char *f = tmp("fresh.pf");
        make(f, data, n, format, n);
        uint8_t before[3][4096], after[3][4096];
        for (int i = 0; i < 3; i++)
            read_node(f, (uint64_t)i, before[i]);
        ccz_pf *pf;
        ccz_pf_opts o = opts(CCZ_PF_READ_WRITE, bound, 0);
        CHECK_OK(ccz_pf_open_path(&pf, f, key, &o));
        CHECK_OK(ccz_pf_write(pf, 3072, data + 3072, 10)); /* the same bytes: data node 0 */
        CHECK_OK(ccz_pf_close(pf));
        for (int i = 0; i < 3; i++)
            read_node(f, (uint64_t)i, after[i]);
        size_t head = format == 1 ? 58 : 59;
        CHECK(differing(before[0] + head, after[0] + head, 3884) > 3800); /* node 0 */
        CHECK(differing(before[1], after[1], 4096) > 4000);               /* the root */
        CHECK(differing(before[2], after[2], 4096) > 4000);               /* data node 0 */
        expect_contents(f, data, n, format);
    }
    free(data);
}

/* A cache asked for fewer than 16 nodes holds 16: a chain of MHT nodes and a data node always fit. */
static void test_small_cache(void)
{
    char *f = tamper_file("cache.pf", 2);
    ccz_pf *pf;
    ccz_pf_opts o = opts(CCZ_PF_READ, bound, 0);
    o.cache_nodes = 1;
    CHECK_OK(ccz_pf_open_path(&pf, f, key, &o));
    CHECK_OK(ccz_pf_check(pf));
    uint8_t *back = malloc(T_SIZE);
    size_t got = 0;
    CHECK_OK(ccz_pf_read(pf, back, &got, 0, T_SIZE));
    CHECK_INT(got, T_SIZE);
    CHECK(memcmp(back, t_data, T_SIZE) == 0);
    free(back);
    CHECK_OK(ccz_pf_close(pf));
}

/* The host file is a regular file (not a directory, a FIFO, a device). */
static void test_not_regular(void)
{
    ccz_pf *pf = NULL;
    ccz_pf_opts o = opts(CCZ_PF_READ, NULL, 0);
    CHECK_STATUS(ccz_pf_open_path(&pf, test_tmpdir(), key, &o), CCZ_ERR_IO);
    CHECK(pf == NULL);
    char want[640];
    snprintf(want, sizeof want, "%s: protected file: not a regular file", test_tmpdir());
    CHECK_STR(ccz_error_detail(), want);
    /* a FIFO with no writer: refused at once, not waited on (a blocking open would hang until
     * the alarm kills the test), read or created */
    char *fifo = tmp("fifo.pf");
    unlink(fifo);
    CHECK(mkfifo(fifo, 0600) == 0);
    snprintf(want, sizeof want, "%s: protected file: not a regular file", fifo);
    alarm(5);
    CHECK_STATUS(ccz_pf_open_path(&pf, fifo, key, &o), CCZ_ERR_IO);
    CHECK(pf == NULL);
    CHECK_STR(ccz_error_detail(), want);
    o = opts(CCZ_PF_CREATE, bound, 1);
    CHECK_STATUS(ccz_pf_open_path(&pf, fifo, key, &o), CCZ_ERR_IO);
    CHECK(pf == NULL);
    CHECK_STR(ccz_error_detail(), want);
    alarm(0);
    unlink(fifo);
}

/* The chain being walked stays in the cache: with every other cached node dirty, the MHT node just loaded to reach a data node is not the one that leaves to make room for it (the dirty nodes are written first), so the write under it marks it dirty and the file stays whole. */
static void test_pinned_chain(void)
{
    char *f = tamper_file("pinned.pf", 1);
    ccz_pf *pf;
    ccz_pf_opts o = opts(CCZ_PF_READ_WRITE, bound, 0);
    o.cache_nodes = 16;
    CHECK_OK(ccz_pf_open_path(&pf, f, key, &o));
    for (int d = 0; d < 15; d++) { /* 15 dirty data nodes under the root */
        CHECK_OK(ccz_pf_write(pf, 3072 + 4096 * (uint64_t)d, "dirty", 5));
        memcpy(t_data + 3072 + 4096 * d, "dirty", 5);
    }
    /* data node 96, under MHT node 1: the 16th and 17th nodes */
    CHECK_OK(ccz_pf_write(pf, 3072 + 4096 * 96, "under", 5));
    memcpy(t_data + 3072 + 4096 * 96, "under", 5);
    CHECK_OK(ccz_pf_close(pf));
    expect_contents(f, t_data, T_SIZE, 1);
}

/* ---- an io in memory, whose calls fail on demand ---- */

typedef struct {
    uint8_t *buf;
    size_t len, cap;   /* cap: writes past it fail */
    int64_t fail_read; /* the node whose read fails, or -1 */
    bool fail_write, fail_sync;
    ccz_status write_status;  /* what a failing write returns (0: CCZ_ERR_IO) */
    uint64_t fail_write_from; /* writes to this node and past it fail (0: none) */
} mem_file;

static ccz_status mem_read(void *payload, uint64_t off, void *buf, size_t n)
{
    mem_file *m = payload;
    if (m->fail_read >= 0 && off / 4096 == (uint64_t)m->fail_read)
        return ccz_fail(CCZ_ERR_IO, "memory io: cannot read node %llu",
                        (unsigned long long)(off / 4096));
    if (off > m->len || n > m->len - off)
        return ccz_fail(CCZ_ERR_TRUNCATED, "memory io: the file ends at byte %zu", m->len);
    memcpy(buf, m->buf + off, n);
    return CCZ_OK;
}

static ccz_status mem_write(void *payload, uint64_t off, const void *buf, size_t n)
{
    mem_file *m = payload;
    if (m->fail_write || (m->fail_write_from && off / 4096 >= m->fail_write_from) || off > m->cap ||
        n > m->cap - off)
        return ccz_fail(m->write_status ? m->write_status : CCZ_ERR_IO,
                        "memory io: cannot write node %llu", (unsigned long long)(off / 4096));
    memcpy(m->buf + off, buf, n);
    if (off + n > m->len)
        m->len = off + n;
    return CCZ_OK;
}

static ccz_status mem_truncate(void *payload, uint64_t size)
{
    mem_file *m = payload;
    if (size > m->cap)
        return ccz_fail(CCZ_ERR_IO, "memory io: cannot grow");
    if (size > m->len)
        memset(m->buf + m->len, 0, size - m->len);
    m->len = size;
    return CCZ_OK;
}

static ccz_status mem_size(void *payload, uint64_t *out)
{
    *out = ((mem_file *)payload)->len;
    return CCZ_OK;
}

static ccz_status mem_sync(void *payload)
{
    if (((mem_file *)payload)->fail_sync)
        return ccz_fail(CCZ_ERR_IO, "memory io: sync failed");
    return CCZ_OK;
}

static ccz_pf_io mem_io(mem_file *m)
{
    return (ccz_pf_io){mem_read, mem_write, mem_truncate, mem_size, mem_sync, m};
}

/* ---- a sparse io: the host file's size, its MHT nodes and the few data nodes a test uses
 * (the rest of a 400 MiB file is written and forgotten) ---- */

#define SPARSE_MHT 1100
#define SPARSE_DATA 24
typedef struct {
    uint64_t len;
    bool mht_set[SPARSE_MHT];
    uint8_t mht[SPARSE_MHT][4096];
    size_t n;
    uint64_t phys[SPARSE_DATA];
    uint8_t node[SPARSE_DATA][4096];
} sparse_file;

/* Where node p is kept: MHT nodes (and the root) by number, node 0, the first data nodes and
 * the first data node under MHT node 1057 (data node 101472) in a list; NULL: not kept. */
static uint8_t *sparse_slot(sparse_file *f, uint64_t p, bool add)
{
    if (p >= 1 && (p - 1) % 97 == 0 && (p - 1) / 97 < SPARSE_MHT) {
        if (add)
            f->mht_set[(p - 1) / 97] = true;
        return f->mht_set[(p - 1) / 97] ? f->mht[(p - 1) / 97] : NULL;
    }
    if (p >= 16 && p != 102531)
        return NULL;
    for (size_t i = 0; i < f->n; i++)
        if (f->phys[i] == p)
            return f->node[i];
    if (!add || f->n == SPARSE_DATA)
        return NULL;
    f->phys[f->n] = p;
    return f->node[f->n++];
}

static ccz_status sparse_read(void *payload, uint64_t off, void *buf, size_t n)
{
    uint8_t *node = n == 4096 && off % 4096 == 0 ? sparse_slot(payload, off / 4096, false) : NULL;
    if (!node)
        return ccz_fail(CCZ_ERR_IO, "sparse io: node %llu not kept",
                        (unsigned long long)(off / 4096));
    memcpy(buf, node, n);
    return CCZ_OK;
}

static ccz_status sparse_write(void *payload, uint64_t off, const void *buf, size_t n)
{
    sparse_file *f = payload;
    if (off + n > f->len)
        f->len = off + n;
    uint8_t *node = n == 4096 && off % 4096 == 0 ? sparse_slot(f, off / 4096, true) : NULL;
    if (node)
        memcpy(node, buf, n);
    return CCZ_OK;
}

static ccz_status sparse_truncate(void *payload, uint64_t size)
{
    ((sparse_file *)payload)->len = size;
    return CCZ_OK;
}

static ccz_status sparse_size(void *payload, uint64_t *out)
{
    *out = ((sparse_file *)payload)->len;
    return CCZ_OK;
}

/* Four levels of MHT nodes (root, 1, 33, 1057): reaching data node 101472 walks a chain of three
 * MHT nodes below the root. With every other cached node dirty, none of the three may leave to
 * make room for the data node (the dirty nodes are written first): the write under it marks all
 * three dirty, and the file reads back whole. */
static void test_pinned_chain_four_levels(void)
{
    sparse_file *sf = calloc(1, sizeof *sf);
    ccz_pf_io io = {sparse_read, sparse_write, sparse_truncate, sparse_size, NULL, sf};
    uint64_t deep = 3072 + (uint64_t)4096 * 101472; /* data node 101472, under MHT node 1057 */
    ccz_pf *pf = NULL;
    ccz_pf_opts o = opts(CCZ_PF_CREATE, bound, 1);
    CHECK_OK(ccz_pf_open(&pf, &io, key, &o));
    CHECK_OK(ccz_pf_truncate(pf, deep + 4096));
    CHECK_OK(ccz_pf_close(pf));
    CHECK_INT(sf->len, ccz_pf_node_count(deep + 4096) * 4096);
    CHECK_INT(sf->len, 102532 * 4096);

    o = opts(CCZ_PF_READ_WRITE, bound, 0);
    o.cache_nodes = 16;
    CHECK_OK(ccz_pf_open(&pf, &io, key, &o));
    for (uint64_t d = 0; d < 13 && pf; d++) /* 13 dirty data nodes under the root */
        CHECK_OK(ccz_pf_write(pf, 3072 + 4096 * d, "dirty", 5));
    /* MHT nodes 1, 33, 1057 (clean) fill the cache; data node 101472 needs a 17th place */
    CHECK_OK(ccz_pf_write(pf, deep + 7, "deepest", 7));
    CHECK_OK(ccz_pf_close(pf));

    o = opts(CCZ_PF_READ, bound, 0);
    CHECK_OK(ccz_pf_open(&pf, &io, key, &o));
    uint8_t b[16];
    size_t got = 0;
    CHECK_OK(ccz_pf_read(pf, b, &got, deep, sizeof b));
    CHECK_INT(got, sizeof b);
    CHECK(memcmp(b, "\0\0\0\0\0\0\0deepest\0\0", 16) == 0);
    CHECK_OK(ccz_pf_read(pf, b, &got, 3072 + 4096 * 12, 8));
    CHECK(memcmp(b, "dirty\0\0\0", 8) == 0);
    CHECK_OK(ccz_pf_close(pf));
    free(sf);
}

/* What the io must offer, and limits checked before anything is written (a bounded io: a size past the limit would otherwise fill it with zeros). */
static void test_io_and_limits(void)
{
    mem_file m = {calloc(64, 4096), 0, 64 * 4096, -1, false, false, CCZ_OK, 0};
    ccz_pf_io io = mem_io(&m), partial;
    ccz_pf *pf = NULL;
    ccz_pf_opts o = opts(CCZ_PF_CREATE, bound, 2);
    partial = io;
    partial.size = NULL;
    CHECK_STATUS(ccz_pf_open(&pf, &partial, key, &o), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "protected file: io needs read and size, and a key");
    partial = io;
    partial.write = NULL;
    o.mode = CCZ_PF_READ_WRITE;
    CHECK_STATUS(ccz_pf_open(&pf, &partial, key, &o), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "protected file: writing needs an io with write");
    CHECK(pf == NULL);
    partial = io;
    partial.truncate = NULL;
    o.mode = CCZ_PF_CREATE;
    CHECK_STATUS(ccz_pf_open(&pf, &partial, key, &o), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "protected file: creating needs an io with truncate");
    CHECK_OK(ccz_pf_open(&pf, &io, key, &o));
    CHECK_STATUS(ccz_pf_write(pf, UINT64_MAX, "x", 1), CCZ_ERR_TOO_LARGE);
    CHECK_STR(ccz_error_detail(),
              "protected file: writing past the 1152921504606846976-byte limit");
    CHECK_STATUS(ccz_pf_write(pf, CCZ_PF_MAX_SIZE - 1, "xy", 2), CCZ_ERR_TOO_LARGE);
    /* no buffer: refused, not written as zeros; with nothing to write, nothing to do */
    CHECK_STATUS(ccz_pf_write(pf, 0, NULL, 5), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "protected file: no buffer for 5 bytes to write");
    CHECK_OK(ccz_pf_write(pf, 0, NULL, 0));
    /* nothing written at the limit itself: within it */
    CHECK_OK(ccz_pf_write(pf, CCZ_PF_MAX_SIZE, "x", 0));
    CHECK_STATUS(ccz_pf_truncate(pf, CCZ_PF_MAX_SIZE + 1), CCZ_ERR_TOO_LARGE);
    CHECK_STR(ccz_error_detail(), "protected file: 1152921504606846977 bytes is past the "
                                  "1152921504606846976-byte limit");
    CHECK_INT(ccz_pf_size(pf), 0);
    uint8_t data[3072 + 4096 * 3];
    fill(data, sizeof data, 6);
    CHECK_OK(ccz_pf_write(pf, 0, data, sizeof data)); /* still usable */
    CHECK_OK(ccz_pf_close(pf));
    CHECK_INT(m.len, 5 * 4096); /* node 0, the root, three data nodes */
    /* an io without truncate cannot shrink a file */
    partial = io;
    partial.truncate = NULL;
    o = opts(CCZ_PF_READ_WRITE, bound, 0);
    CHECK_OK(ccz_pf_open(&pf, &partial, key, &o));
    CHECK_STATUS(ccz_pf_truncate(pf, 100), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "protected file: io has no truncate");
    /* nor does it need one to keep the size it has, or to grow */
    CHECK_OK(ccz_pf_truncate(pf, sizeof data));
    CHECK_INT(ccz_pf_size(pf), sizeof data);
    CHECK_OK(ccz_pf_truncate(pf, sizeof data + 1));
    CHECK_INT(ccz_pf_size(pf), sizeof data + 1);
    CHECK_OK(ccz_pf_close(pf));
    free(m.buf);
}

/* A failing read names the node; a failing write or sync fails the handle: every later call, and close, say so again. */
static void test_io_failures(void)
{
    mem_file m = {calloc(64, 4096), 0, 64 * 4096, -1, false, false, CCZ_OK, 0};
    ccz_pf_io io = mem_io(&m);
    ccz_pf *pf = NULL;
    ccz_pf_opts o = opts(CCZ_PF_CREATE, bound, 1);
    size_t size = 3072 + 4096 * 40;
    uint8_t *data = malloc(size), b[16];
    fill(data, size, 7);
    CHECK_OK(ccz_pf_open(&pf, &io, key, &o));
    CHECK_OK(ccz_pf_write(pf, 0, data, size));
    CHECK_OK(ccz_pf_close(pf));

    static const char node3[] = "protected file: data node 1 (node 3 at file offset 12288, "
                                "plaintext offset 7168): memory io: cannot read node 3";
    m.fail_read = 3;
    o = opts(CCZ_PF_READ, bound, 0);
    CHECK_OK(ccz_pf_open(&pf, &io, key, &o));
    size_t got = 9;
    CHECK_STATUS(ccz_pf_read(pf, b, &got, 3072 + 4096 + 5, sizeof b), CCZ_ERR_IO);
    CHECK_INT(got, 0);
    CHECK_STR(ccz_error_detail(), node3);
    CHECK_STATUS(ccz_pf_read(pf, b, &got, 0, sizeof b), CCZ_ERR_IO);
    CHECK_STR(ccz_error_detail(), node3);
    CHECK_OK(ccz_pf_close(pf));
    m.fail_read = -1;

    /* a write that flushes nodes under cache pressure, and fails */
    o = opts(CCZ_PF_READ_WRITE, bound, 0);
    o.cache_nodes = 16;
    CHECK_OK(ccz_pf_open(&pf, &io, key, &o));
    m.fail_write = true;
    CHECK_STATUS(ccz_pf_write(pf, 0, data, size), CCZ_ERR_IO);
    CHECK_CONTAINS(ccz_error_detail(), "memory io: cannot write node");
    CHECK_STATUS(ccz_pf_read(pf, b, &got, 0, sizeof b), CCZ_ERR_IO);
    m.fail_write = false;
    CHECK_STATUS(ccz_pf_close(pf), CCZ_ERR_IO);

    /* a sync that fails */
    CHECK_OK(ccz_pf_open(&pf, &io, key, &o));
    CHECK_OK(ccz_pf_write(pf, 0, "z", 1));
    m.fail_sync = true;
    CHECK_STATUS(ccz_pf_flush(pf), CCZ_ERR_IO);
    CHECK_STR(ccz_error_detail(), "memory io: sync failed");
    m.fail_sync = false;
    CHECK_STATUS(ccz_pf_read(pf, b, &got, 0, sizeof b), CCZ_ERR_IO);
    CHECK_STR(ccz_error_detail(), "memory io: sync failed");
    CHECK_STATUS(ccz_pf_close(pf), CCZ_ERR_IO);

    /* a write the io refuses as an invalid argument (its own verdict, not the caller's
     * argument to ccz_pf_write) fails the handle all the same: half of that write is in the
     * cache, and close must not seal it into the file */
    CHECK_OK(ccz_pf_open(&pf, &io, key, &o));
    m.fail_write = true;
    m.write_status = CCZ_ERR_INVALID_ARGUMENT;
    CHECK_STATUS(ccz_pf_write(pf, 0, data, size), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "memory io: cannot write node");
    m.fail_write = false;
    CHECK_STATUS(ccz_pf_read(pf, b, &got, 0, sizeof b), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "memory io: cannot write node");
    CHECK_STATUS(ccz_pf_close(pf), CCZ_ERR_INVALID_ARGUMENT);

    /* a flush whose data node write fails while the metadata and root nodes' would succeed:
     * the flush fails, and says which node */
    m.write_status = CCZ_OK;
    o.cache_nodes = 0;
    CHECK_OK(ccz_pf_open(&pf, &io, key, &o));
    CHECK_OK(ccz_pf_write(pf, 3072 + 4096 * 5, "y", 1));
    m.fail_write_from = 2;
    CHECK_STATUS(ccz_pf_flush(pf), CCZ_ERR_IO);
    CHECK_CONTAINS(ccz_error_detail(), "memory io: cannot write node 7");
    m.fail_write_from = 0;
    CHECK_STATUS(ccz_pf_close(pf), CCZ_ERR_IO);

    /* close syncs what it flushed: a sync that fails there is close's failure */
    CHECK_OK(ccz_pf_open(&pf, &io, key, &o));
    CHECK_OK(ccz_pf_write(pf, 1, "s", 1));
    m.fail_sync = true;
    CHECK_STATUS(ccz_pf_close(pf), CCZ_ERR_IO);
    CHECK_STR(ccz_error_detail(), "memory io: sync failed");
    m.fail_sync = false;
    free(data);
    free(m.buf);
}

static void copy_md_data(uint8_t *plain, void *arg)
{
    memcpy(arg, plain + 772 + 8 + 16 + 16, 3072);
}

/* Bytes cut off the metadata node's data by a truncate leave the file: they are zeros in node
 * 0's plaintext when it is written again, not the old data under the key. */
static void test_truncate_wipes_metadata_data(void)
{
    char *f = tmp("shrink.pf");
    uint8_t data[3072], md[3072];
    memset(data, 'A', sizeof data);
    for (unsigned format = 1; format <= 2; format++) {
        make(f, data, sizeof data, format, sizeof data);
        ccz_pf *pf = NULL;
        ccz_pf_opts o = opts(CCZ_PF_READ_WRITE, bound, 0);
        CHECK_OK(ccz_pf_open_path(&pf, f, key, &o));
        if (!pf)
            return;
        CHECK_OK(ccz_pf_truncate(pf, 100));
        CHECK_OK(ccz_pf_close(pf));
        memset(md, 0x55, sizeof md);
        reseal(f, format, copy_md_data, md);
        CHECK(memcmp(md, data, 100) == 0);
        size_t nonzero = 0;
        for (size_t i = 100; i < sizeof md; i++)
            nonzero += md[i] != 0;
        CHECK_INT(nonzero, 0);
        expect_contents(f, data, 100, format);
    }
}

/* Bytes cut off a data node by a truncate inside it are zeros in that node's plaintext, not the
 * old data under the key: the file's size, resealed to the node's end, shows them. */
static void test_truncate_wipes_cut_node(void)
{
    char *f = tmp("shrink-data.pf");
    enum { N = 3072 + 4096 + 904, CUT = 3072 + 1000, NODE_END = 3072 + 4096 };
    uint8_t *data = malloc(N), *back = malloc(N);
    CHECK(data && back);
    if (!data || !back)
        goto out;
    fill(data, N, 9);
    for (unsigned format = 1; format <= 2; format++) {
        make(f, data, N, format, N);
        ccz_pf *pf = NULL;
        ccz_pf_opts o = opts(CCZ_PF_READ_WRITE, bound, 0);
        CHECK_OK(ccz_pf_open_path(&pf, f, key, &o));
        if (!pf)
            break;
        CHECK_OK(ccz_pf_truncate(pf, CUT));
        CHECK_OK(ccz_pf_close(pf));
        uint64_t size = NODE_END;
        reseal(f, format, set_size, &size);
        o = opts(CCZ_PF_READ, bound, 0);
        CHECK_OK(ccz_pf_open_path(&pf, f, key, &o));
        if (!pf)
            break;
        size_t got = 0;
        CHECK_OK(ccz_pf_read(pf, back, &got, 0, N));
        CHECK_INT(got, NODE_END);
        CHECK(memcmp(back, data, CUT) == 0);
        size_t nonzero = 0;
        for (size_t i = CUT; i < NODE_END; i++)
            nonzero += back[i] != 0;
        CHECK_INT(nonzero, 0);
        CHECK_OK(ccz_pf_close(pf));
    }
out:
    free(data);
    free(back);
}

/* A writable handle that changed nothing writes nothing at flush or close: node 0 (whose nonce
 * would be fresh) and every other node keep their bytes. */
static void test_unchanged_not_rewritten(void)
{
    char *f = tmp("unchanged.pf");
    uint8_t data[3072 + 4096 * 2];
    fill(data, sizeof data, 8);
    make(f, data, sizeof data, 2, sizeof data);
    uint8_t before[4][4096], after[4096];
    for (uint64_t i = 0; i < 4; i++)
        read_node(f, i, before[i]);
    ccz_pf *pf = NULL;
    ccz_pf_opts o = opts(CCZ_PF_READ_WRITE, bound, 0);
    CHECK_OK(ccz_pf_open_path(&pf, f, key, &o));
    if (!pf)
        return;
    uint8_t b[sizeof data];
    size_t got = 0;
    CHECK_OK(ccz_pf_read(pf, b, &got, 0, sizeof b));
    CHECK_INT(got, sizeof data);
    CHECK_OK(ccz_pf_flush(pf));
    CHECK_OK(ccz_pf_close(pf));
    for (uint64_t i = 0; i < 4; i++) {
        read_node(f, i, after);
        CHECK(memcmp(before[i], after, 4096) == 0);
    }
    expect_contents(f, data, sizeof data, 2);
}

/* A new file without a format is version 1 (what every Gramine reads); a write of no bytes
 * past the end changes nothing (as pwrite of 0 bytes does not extend a file). */
static void test_default_format_and_empty_write(void)
{
    char *f = tmp("default.pf");
    ccz_pf *pf = NULL;
    ccz_pf_opts o = opts(CCZ_PF_CREATE, bound, 0);
    CHECK_OK(ccz_pf_open_path(&pf, f, key, &o));
    if (!pf)
        return;
    CHECK_INT(ccz_pf_format(pf), 1);
    CHECK_OK(ccz_pf_write(pf, 0, "0123456789", 10));
    CHECK_OK(ccz_pf_write(pf, 5000, "x", 0));
    CHECK_INT(ccz_pf_size(pf), 10);
    CHECK_OK(ccz_pf_close(pf));
    expect_contents(f, (const uint8_t *)"0123456789", 10, 1);
    uint8_t node[4096];
    read_node(f, 0, node);
    CHECK_INT(node[8], 1); /* major version */
}

TEST_MAIN(T(test_node_count), T(test_round_trip_edges), T(test_round_trip_three_levels),
          T(test_random_ops), T(test_tamper_metadata), T(test_tamper_mht_and_data),
          T(test_swap_reorder_transplant), T(test_truncated_and_extended),
          T(test_shrunk_after_open), T(test_wrong_key_and_path), T(test_resealed_metadata),
          T(test_every_byte), T(test_api_edges), T(test_normalize), T(test_minor_version),
          T(test_fresh_keys), T(test_small_cache), T(test_pinned_chain),
          T(test_pinned_chain_four_levels), T(test_not_regular), T(test_io_and_limits),
          T(test_io_failures), T(test_default_format_and_empty_write),
          T(test_unchanged_not_rewritten), T(test_truncate_wipes_metadata_data),
          T(test_truncate_wipes_cut_node))
