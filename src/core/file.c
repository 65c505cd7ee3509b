/* SPDX-License-Identifier: Apache-2.0 */
/* File helpers: bounded reads and atomic writes (temporary file, fsync, rename), so a crash
 * never leaves a half-written key or evidence file behind. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ccz/core.h"
#include "core/guard.h"

ccz_status ccz_file_read(ccz_buf *out, const char *path, size_t max)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ccz_fail(errno == ENOENT ? CCZ_ERR_NOT_FOUND : CCZ_ERR_IO, "cannot open %s: %s",
                        path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        close(fd);
        return ccz_fail(CCZ_ERR_IO, "%s is a directory", path);
    }
    ccz_status s = CCZ_OK;
    size_t total = 0, start = out->len;
    uint8_t chunk[16384];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            s = ccz_fail(CCZ_ERR_IO, "cannot read %s: %s", path, strerror(errno));
            break;
        }
        if (n == 0)
            break;
        total += (size_t)n;
        if (max && total > max) {
            s = ccz_fail(CCZ_ERR_TOO_LARGE, "%s is larger than the %zu-byte limit", path, max);
            break;
        }
        s = ccz_buf_append(out, chunk, (size_t)n);
        if (s)
            break;
    }
    ccz_wipe(chunk, sizeof chunk); /* the file may hold a key: wiped on every way out */
    close(fd);
    if (s && out->len > start) { /* nothing of a file that failed is kept (nor left behind) */
        ccz_wipe(out->ptr + start, out->len - start);
        out->len = start;
        out->ptr[start] = 0;
    }
    return s;
}

ccz_status ccz_file_temp_beside(char **tmp, int *fd, const char *path)
{
    *tmp = NULL;
    *fd = -1;
    /* the new file is renamed over path: never over a device, a pipe or a directory (as root,
     * -o /dev/full would replace the device node with a regular file) */
    struct stat st;
    CCZ_ENSURE(stat(path, &st) != 0 || S_ISREG(st.st_mode), CCZ_ERR_IO,
               "cannot write %s: not a regular file", path);
    size_t n = strlen(path) + 16;
    *tmp = malloc(n);
    CCZ_ENSURE(*tmp, CCZ_ERR_NOMEM, "out of memory");
    snprintf(*tmp, n, "%s.tmp-XXXXXX", path);
    *fd = mkstemp(*tmp);
    /* named by path: the temporary file's name is ours, the folder and its rights the caller's */
    CCZ_ENSURE(*fd >= 0, CCZ_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    return CCZ_OK;
}

/* Writes data to a new file beside path, synced, mode set; then renames it over path, or (excl)
 * links it there, failing with CCZ_ERR_EXISTS when path exists: link never replaces. */
static ccz_status write_beside(const char *path, ccz_span data, unsigned mode, bool excl)
{
    char *tmp;
    int fd;
    ccz_status s = ccz_file_temp_beside(&tmp, &fd, path);
    if (s) {
        free(tmp);
        return s;
    }
    if (fchmod(fd, (mode_t)mode) != 0)
        s = ccz_fail(CCZ_ERR_IO, "cannot set mode of %s: %s", tmp, strerror(errno));
    size_t off = 0;
    while (s == CCZ_OK && off < data.len) {
        ssize_t w = write(fd, data.ptr + off, data.len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            s = ccz_fail(CCZ_ERR_IO, "cannot write %s: %s", path, strerror(errno));
        else
            off += (size_t)w;
    }
    if (s == CCZ_OK && fsync(fd) != 0)
        s = ccz_fail(CCZ_ERR_IO, "cannot sync %s: %s", path, strerror(errno));
    if (close(fd) != 0 && s == CCZ_OK)
        s = ccz_fail(CCZ_ERR_IO, "cannot close %s: %s", path, strerror(errno));
    if (s == CCZ_OK && !excl && rename(tmp, path) != 0)
        s = ccz_fail(CCZ_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    if (s == CCZ_OK && excl && link(tmp, path) != 0)
        s = errno == EEXIST ? ccz_fail(CCZ_ERR_EXISTS, "%s exists", path)
                            : ccz_fail(CCZ_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    if (s || excl)
        unlink(tmp);
    free(tmp);
    return s;
}

ccz_status ccz_file_write(const char *path, ccz_span data, unsigned mode)
{
    return write_beside(path, data, mode, false);
}

ccz_status ccz_file_create(const char *path, ccz_span data, unsigned mode)
{
    return write_beside(path, data, mode, true);
}

ccz_status ccz_mkdir_p(const char *path, unsigned mode)
{
    size_t n = strlen(path);
    if (n == 0)
        return ccz_fail(CCZ_ERR_INVALID_ARGUMENT, "empty directory path");
    char *p = strdup(path);
    if (!p)
        return ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    ccz_status s = CCZ_OK;
    for (size_t i = 1; i <= n && s == CCZ_OK; i++) {
        if (p[i] != '/' && p[i] != '\0')
            continue;
        char save = p[i];
        p[i] = '\0';
        if (mkdir(p, (mode_t)mode) != 0 && errno != EEXIST)
            s = ccz_fail(CCZ_ERR_IO, "cannot create directory %s: %s", p, strerror(errno));
        p[i] = save;
    }
    struct stat st;
    if (s == CCZ_OK && (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)))
        s = ccz_fail(CCZ_ERR_IO, "%s is not a directory", path);
    free(p);
    return s;
}

bool ccz_file_exists(const char *path)
{
    return access(path, F_OK) == 0;
}
