/* SPDX-License-Identifier: Apache-2.0 */
/* Files: atomic writes with modes, bounded reads, directories. */
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test.h"

static void test_write_read(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s/a/b/c", test_tmpdir());
    CHECK_OK(ccz_mkdir_p(path, 0700));
    CHECK_OK(ccz_mkdir_p(path, 0700)); /* existing is fine */
    strcat(path, "/key.pem");
    CHECK_OK(ccz_file_write(path, CCZ_SPAN("0123456789", 10), 0600));
    struct stat st;
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
    ccz_buf b = CCZ_BUF_INIT;
    CHECK_OK(ccz_file_read(&b, path, 10));
    CHECK_STR((const char *)b.ptr, "0123456789");
    ccz_buf_reset(&b);
    CHECK_STATUS(ccz_file_read(&b, path, 9), CCZ_ERR_TOO_LARGE);
    CHECK_CONTAINS(ccz_error_detail(), "9-byte limit");
    CHECK_OK(ccz_file_write(path, CCZ_SPAN("new", 3), 0644));   /* replaces */
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0644); /* with its own mode */
    /* and leaves no temporary file beside it */
    char dir[512];
    snprintf(dir, sizeof dir, "%s/a/b/c", test_tmpdir());
    DIR *d = opendir(dir);
    int entries = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        entries += e->d_name[0] != '.';
    if (d)
        closedir(d);
    CHECK_INT(entries, 1);
    ccz_buf_reset(&b);
    CHECK_OK(ccz_file_read(&b, path, 0));
    CHECK_STR((const char *)b.ptr, "new");
    CHECK(ccz_file_exists(path));
    ccz_buf_free(&b);
}

static void test_errors(void)
{
    ccz_buf b = CCZ_BUF_INIT;
    CHECK_STATUS(ccz_file_read(&b, "/nonexistent/x", 0), CCZ_ERR_NOT_FOUND);
    CHECK_CONTAINS(ccz_error_detail(), "/nonexistent/x");
    CHECK_STATUS(ccz_file_read(&b, test_tmpdir(), 0), CCZ_ERR_IO);
    CHECK_CONTAINS(ccz_error_detail(), "is a directory");
    CHECK_STATUS(ccz_file_write("/nonexistent/dir/x", CCZ_SPAN("a", 1), 0600), CCZ_ERR_IO);
    char path[512];
    snprintf(path, sizeof path, "%s/file", test_tmpdir());
    CHECK_OK(ccz_file_write(path, CCZ_SPAN("a", 1), 0600));
    CHECK_STATUS(ccz_mkdir_p(path, 0700), CCZ_ERR_IO); /* a file where the directory should be */
    CHECK_CONTAINS(ccz_error_detail(), "is not a directory");
    strcat(path, "/sub");
    CHECK_STATUS(ccz_mkdir_p(path, 0700), CCZ_ERR_IO);
    CHECK_STATUS(ccz_mkdir_p("", 0700), CCZ_ERR_INVALID_ARGUMENT);
    ccz_buf_free(&b);
}

/* A write never renames its file over what is not a regular file: a pipe stays a pipe (and, as
 * root, /dev/full a device); a directory is refused the same way. */
static void test_write_not_regular(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s/fifo", test_tmpdir());
    CHECK(mkfifo(path, 0600) == 0);
    CHECK_STATUS(ccz_file_write(path, CCZ_SPAN("key", 3), 0600), CCZ_ERR_IO);
    CHECK_CONTAINS(ccz_error_detail(), "fifo: not a regular file");
    struct stat st;
    CHECK(lstat(path, &st) == 0 && S_ISFIFO(st.st_mode));
    CHECK_STATUS(ccz_file_write(test_tmpdir(), CCZ_SPAN("a", 1), 0600), CCZ_ERR_IO);
    CHECK_CONTAINS(ccz_error_detail(), "not a regular file");
}

/* A read that fails keeps nothing of the file: the buffer is as it was, and what was read is
 * wiped (a caller that finds its cached copy damaged fetches again into the same buffer). */
static void test_failed_read_keeps_nothing(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s/big", test_tmpdir());
    static uint8_t big[40000];
    memset(big, 'k', sizeof big);
    CHECK_OK(ccz_file_write(path, CCZ_SPAN(big, sizeof big), 0600));
    ccz_buf b = CCZ_BUF_INIT;
    CHECK_OK(ccz_buf_append(&b, "pre", 3));
    /* the first 16384 bytes are within the limit, the next read is not */
    CHECK_STATUS(ccz_file_read(&b, path, 16384), CCZ_ERR_TOO_LARGE);
    CHECK_CONTAINS(ccz_error_detail(), "is larger than the 16384-byte limit");
    CHECK_INT(b.len, 3);
    CHECK(memcmp(b.ptr, "pre", 4) == 0); /* still NUL-terminated */
    CHECK(memchr(b.ptr, 'k', b.cap) == NULL);
    ccz_buf_free(&b);
    /* the buffer's own cap, reached after a chunk was appended */
    ccz_buf_init(&b, 20000, false);
    CHECK_STATUS(ccz_file_read(&b, path, 0), CCZ_ERR_TOO_LARGE);
    CHECK_CONTAINS(ccz_error_detail(), "buffer would exceed its 20000-byte limit");
    CHECK_INT(b.len, 0);
    CHECK(b.ptr == NULL || memchr(b.ptr, 'k', b.cap) == NULL);
    ccz_buf_free(&b);
}

/* ccz_file_create makes a file that does not exist, and never replaces one: not a file made
 * since a check (it links the new file in place, which fails when a name is there), nor a
 * link to one; nothing is left beside it either way. */
static void test_create_never_replaces(void)
{
    char dir[512], path[600], other[600];
    snprintf(dir, sizeof dir, "%s/create", test_tmpdir());
    CHECK_OK(ccz_mkdir_p(dir, 0700));
    snprintf(path, sizeof path, "%s/key", dir);
    snprintf(other, sizeof other, "%s/other", dir);
    CHECK_OK(ccz_file_create(path, CCZ_SPAN("first", 5), 0600));
    struct stat st;
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600 && st.st_nlink == 1);
    CHECK_STATUS(ccz_file_create(path, CCZ_SPAN("second", 6), 0600), CCZ_ERR_EXISTS);
    char want[700];
    snprintf(want, sizeof want, "%s exists", path);
    CHECK_STR(ccz_error_detail(), want);
    CHECK_OK(ccz_file_write(other, CCZ_SPAN("x", 1), 0600));
    char link[600];
    snprintf(link, sizeof link, "%s/link", dir);
    CHECK(symlink(other, link) == 0);
    CHECK_STATUS(ccz_file_create(link, CCZ_SPAN("second", 6), 0600), CCZ_ERR_EXISTS);
    ccz_buf b = CCZ_BUF_INIT;
    CHECK_OK(ccz_file_read(&b, path, 0));
    CHECK_STR((const char *)b.ptr, "first");
    ccz_buf_reset(&b);
    CHECK_OK(ccz_file_read(&b, other, 0));
    CHECK_STR((const char *)b.ptr, "x");
    ccz_buf_free(&b);
    DIR *d = opendir(dir);
    int entries = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        entries += e->d_name[0] != '.';
    if (d)
        closedir(d);
    CHECK_INT(entries, 3); /* key, other, link: no temporary file */
}

TEST_MAIN(T(test_write_read), T(test_errors), T(test_write_not_regular),
          T(test_failed_read_keeps_nothing), T(test_create_never_replaces))
