/* SPDX-License-Identifier: Apache-2.0 */
/* Secrets in freed memory: a protected-file handle holds the wrap key, the first 3 KiB of
 * plaintext and each decrypted node. The blocks freed while a handle closes, or while an open or
 * a read fails, are searched for the key and for the plaintext (freed.h; skipped under
 * AddressSanitizer, which owns free). */
#include <fcntl.h>
#include <unistd.h>

#include "ccz/pf.h"
#include "freed.h"
#include "test.h"

#if FREED_SUPPORTED
static const uint8_t key[16] = {0x5a, 0x17, 0xc3, 0x88, 0x01, 0xfe, 0x42, 0x9d,
                                0x6b, 0x20, 0xe7, 0x33, 0xb4, 0x0c, 0x71, 0xaf};
static const char bound[] = "/models/secret.onnx";
/* in the metadata node's data area, and in data node 1 */
static const char md_secret[] = "metadata-area secret 7f3a9c1e0b52";
static const char node_secret[] = "data-node secret 2d6e81f4a09c5b37";
#define SIZE (3072 + 4096 * 3)
#define NODE_AT (3072 + 4096 + 1000)

static char *file(void)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/wipe.pf", test_tmpdir());
    return path;
}

static void expect_wiped(size_t blocks)
{
    CHECK(blocks > 0 && blocks < FREED_MAX);
    CHECK_INT(freed_find(key, sizeof key), 0);
    CHECK_INT(freed_find(md_secret, sizeof md_secret - 1), 0);
    CHECK_INT(freed_find(node_secret, sizeof node_secret - 1), 0);
}

#endif

static void test_freed_wiped(void)
{
#if !FREED_SUPPORTED
    test_skip(true, "AddressSanitizer owns free");
#else
    uint8_t *data = calloc(1, SIZE), *back = malloc(SIZE);
    memcpy(data + 100, md_secret, sizeof md_secret - 1);
    memcpy(data + NODE_AT, node_secret, sizeof node_secret - 1);
    ccz_pf *pf = NULL;
    ccz_pf_opts o = CCZ_PF_OPTS_INIT;
    /* writing, then closing: the handle and its dirty nodes */
    o.mode = CCZ_PF_CREATE;
    o.bound_path = bound;
    CHECK_OK(ccz_pf_open_path(&pf, file(), key, &o));
    CHECK_OK(ccz_pf_write(pf, 0, data, SIZE));
    freed_start();
    CHECK_OK(ccz_pf_close(pf));
    expect_wiped(freed_stop());

    /* reading every node, then closing */
    o = (ccz_pf_opts)CCZ_PF_OPTS_INIT;
    o.bound_path = bound;
    size_t got = 0;
    freed_start();
    CHECK_OK(ccz_pf_open_path(&pf, file(), key, &o));
    CHECK_OK(ccz_pf_read(pf, back, &got, 0, SIZE));
    CHECK_OK(ccz_pf_check(pf));
    CHECK_OK(ccz_pf_close(pf));
    expect_wiped(freed_stop());
    CHECK_INT(got, SIZE);
    CHECK(memcmp(back, data, SIZE) == 0);

    /* an open refused after node 0 decrypted (another bound path) */
    o.bound_path = "/models/other.onnx";
    freed_start();
    CHECK_STATUS(ccz_pf_open_path(&pf, file(), key, &o), CCZ_ERR_BINDING);
    expect_wiped(freed_stop());

    /* a read refused at a tampered data node (node 4: data node 2), after data node 1 was read;
     * the handle freed at close */
    int fd = open(file(), O_RDWR);
    uint8_t b = 0;
    CHECK(fd >= 0 && pread(fd, &b, 1, 4 * 4096 + 9) == 1);
    b ^= 1;
    CHECK(pwrite(fd, &b, 1, 4 * 4096 + 9) == 1);
    close(fd);
    o.bound_path = bound;
    freed_start();
    CHECK_OK(ccz_pf_open_path(&pf, file(), key, &o));
    CHECK_OK(ccz_pf_read(pf, back, &got, 0, NODE_AT + 100));
    CHECK_STATUS(ccz_pf_read(pf, back, &got, 3072 + 4096 * 2, 16), CCZ_ERR_BAD_SIGNATURE);
    CHECK_OK(ccz_pf_close(pf));
    expect_wiped(freed_stop());
    ccz_wipe(back, SIZE);
    free(back);
    free(data);
#endif
}

TEST_MAIN(T(test_freed_wiped))
