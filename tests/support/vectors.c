/* SPDX-License-Identifier: Apache-2.0 */
/* Locating and reading the shared vectors. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "core/guard.h"
#include "test.h"
#include "vectors.h"

const char *vectors_dir(void)
{
    static char dir[1024];
    if (dir[0])
        return dir;
    const char *env = getenv("CCZ_VECTORS"), *src = getenv("CCZ_SOURCE_DIR");
    if (env && env[0])
        snprintf(dir, sizeof dir, "%s", env);
    else
        snprintf(dir, sizeof dir, "%s/../shared/vectors", src && src[0] ? src : ".");
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        printf("no vectors at %s (set CCZ_VECTORS to the shared vectors folder)\n", dir);
        dir[0] = '\0';
        return NULL;
    }
    return dir;
}

const char *shared_data_dir(void)
{
    static char dir[1024];
    if (dir[0])
        return dir;
    const char *env = getenv("CCZ_DATA"), *vec = getenv("CCZ_VECTORS"),
               *src = getenv("CCZ_SOURCE_DIR");
    if (env && env[0])
        snprintf(dir, sizeof dir, "%s", env);
    else if (vec && vec[0])
        snprintf(dir, sizeof dir, "%s/../data", vec);
    else
        snprintf(dir, sizeof dir, "%s/../shared/data", src && src[0] ? src : ".");
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        printf("no shared data at %s (set CCZ_DATA to the shared data folder)\n", dir);
        dir[0] = '\0';
        return NULL;
    }
    return dir;
}

void vectors_require(void)
{
    if (!vectors_dir())
        test_skip(false, "the recorded vectors are absent");
}

void shared_data_require(char *out, size_t cap, const char *rel)
{
    const char *dir = shared_data_dir();
    struct stat st;
    if (dir)
        snprintf(out, cap, "%s/%s", dir, rel);
    if (!dir || stat(out, &st) != 0)
        test_skip(false, "the shared data set %s is absent", rel);
}

ccz_status vectors_read(ccz_buf *out, const char *rel, bool hex)
{
    char path[2048];
    const char *dir = vectors_dir();
    CCZ_ENSURE(dir, CCZ_ERR_NOT_FOUND, "no vectors directory for %s", rel);
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    ccz_buf raw = CCZ_BUF_INIT;
    ccz_status s = ccz_file_read(&raw, path, 16u << 20);
    if (s == CCZ_OK && hex) {
        size_t n = raw.len;
        while (n && isspace(raw.ptr[n - 1]))
            n--;
        s = ccz_hex_decode(out, (const char *)raw.ptr, n);
    } else if (s == CCZ_OK) {
        s = ccz_buf_append(out, raw.ptr, raw.len);
    }
    ccz_buf_free(&raw);
    return s;
}
