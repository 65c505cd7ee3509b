/* SPDX-License-Identifier: Apache-2.0 */
/* Linux configfs-tsm (/sys/kernel/config/tsm/report): the kernel's one interface for TDX and
 * SEV-SNP reports. An entry directory takes report data in `inblob` and returns the TEE's
 * evidence in `outblob` (and certificates in `auxblob`); `generation` counts writes, so a
 * count beyond our own writes, from before them to after our reads, means another writer
 * raced us. What the files hold is untrusted (it comes from the kernel and, behind it, the
 * host); callers parse it. */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/guard.h"
#include "internal.h"

#define TSM_BLOB_MAX (1u << 20)
#define TSM_RETRIES 3

static atomic_uint entry_counter;

static ccz_status path_of(char *out, size_t cap, const char *root, const char *rel)
{
    int n = snprintf(out, cap, "%s%s", root ? root : "", rel);
    CCZ_ENSURE(n > 0 && (size_t)n < cap, CCZ_ERR_INVALID_ARGUMENT, "device path too long");
    return CCZ_OK;
}

ccz_status tee_dev_path(char *out, size_t cap, const char *root, const char *rel)
{
    return path_of(out, cap, root, rel);
}

ccz_status tee_dev_write(const char *path, ccz_span data)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return ccz_fail(CCZ_ERR_TEE_UNAVAILABLE, "cannot open %s: %s", path, strerror(errno));
    size_t off = 0;
    ccz_status s = CCZ_OK;
    while (off < data.len) {
        ssize_t w = write(fd, data.ptr + off, data.len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            s = ccz_fail(CCZ_ERR_TEE_UNAVAILABLE, "cannot write %s: %s", path,
                         w < 0 ? strerror(errno) : "short write");
            break;
        }
        off += (size_t)w;
    }
    close(fd);
    return s;
}

ccz_status tee_dev_read(ccz_buf *out, const char *path, size_t max)
{
    ccz_status s = ccz_file_read(out, path, max);
    if (s == CCZ_ERR_NOT_FOUND || s == CCZ_ERR_IO)
        return ccz_fail_context(CCZ_ERR_TEE_UNAVAILABLE, "TEE device");
    return s;
}

/* Reads a small text attribute, trimmed of surrounding whitespace. */
static ccz_status read_text(char *out, size_t cap, const char *path)
{
    ccz_buf b = CCZ_BUF_INIT;
    CCZ_GUARD(tee_dev_read(&b, path, 4096));
    size_t a = 0, e = b.len;
    while (a < e && (b.ptr[a] == ' ' || b.ptr[a] == '\n' || b.ptr[a] == '\t' || !b.ptr[a]))
        a++;
    while (e > a &&
           (b.ptr[e - 1] == ' ' || b.ptr[e - 1] == '\n' || b.ptr[e - 1] == '\t' || !b.ptr[e - 1]))
        e--;
    snprintf(out, cap, "%.*s", (int)(e - a), b.ptr ? (const char *)b.ptr + a : "");
    ccz_buf_free(&b);
    return CCZ_OK;
}

static ccz_status read_generation(unsigned long long *g, const char *dir)
{
    char path[4096], text[32];
    CCZ_GUARD(path_of(path, sizeof path, dir, "/generation"));
    CCZ_GUARD(read_text(text, sizeof text, path));
    char *end;
    errno = 0;
    *g = strtoull(text, &end, 10);
    CCZ_ENSURE(!errno && end != text && !*end, CCZ_ERR_MALFORMED, "%s holds '%s', not a number",
               path, text);
    return CCZ_OK;
}

bool tee_tsm_available(const char *root)
{
    char path[4096];
    struct stat st;
    return path_of(path, sizeof path, root, "/sys/kernel/config/tsm/report") == CCZ_OK &&
           stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* One round, as the kernel's ABI document prescribes: read generation, write the attributes
 * (each write advances generation by one), read outblob (and auxblob), read generation again.
 * Only our own writes in between leave it at before + writes; a writer who came between our
 * write and any of our reads leaves it beyond, even one who came before our first read after the
 * write. A generation that does not move under our own writes is not the kernel's counter (an
 * entry of plain files, as tests replay): the kernel counts every write, so a real entry never
 * looks like that, and there is nothing to compare. */
static ccz_status tsm_round(const char *dir, const tee_tsm_request *rq, ccz_buf *out, ccz_buf *aux,
                            bool *raced)
{
    char path[4096];
    unsigned long long g0, g1, writes = 0;
    CCZ_GUARD(read_generation(&g0, dir));
    if (rq->privlevel >= 0) {
        char lvl[16];
        snprintf(lvl, sizeof lvl, "%d\n", rq->privlevel);
        CCZ_GUARD(path_of(path, sizeof path, dir, "/privlevel"));
        CCZ_GUARD(tee_dev_write(path, CCZ_SPAN(lvl, strlen(lvl))));
        writes++;
        if (rq->written)
            rq->written(rq->written_arg, path);
    }
    CCZ_GUARD(path_of(path, sizeof path, dir, "/inblob"));
    CCZ_GUARD(tee_dev_write(path, CCZ_SPAN(rq->report_data, 64)));
    writes++;
    if (rq->written)
        rq->written(rq->written_arg, path);
    CCZ_GUARD(path_of(path, sizeof path, dir, "/outblob"));
    CCZ_GUARD(tee_dev_read(out, path, TSM_BLOB_MAX));
    if (aux) {
        CCZ_GUARD(path_of(path, sizeof path, dir, "/auxblob"));
        ccz_status s = tee_dev_read(aux, path, TSM_BLOB_MAX);
        if (s && s != CCZ_ERR_TEE_UNAVAILABLE)
            return s; /* no auxblob is fine: certificates then come from elsewhere */
        ccz_error_clear();
    }
    CCZ_GUARD(read_generation(&g1, dir));
    *raced = g1 != g0 + writes && g1 != g0;
    return CCZ_OK;
}

ccz_status tee_tsm_report(const char *root, const tee_tsm_request *rq, ccz_buf *out, ccz_buf *aux)
{
    char base[4096], dir[4096], path[4096], provider[64];
    CCZ_GUARD(path_of(base, sizeof base, root, "/sys/kernel/config/tsm/report"));
    bool created = false;
    if (rq->entry) {
        CCZ_GUARD(path_of(dir, sizeof dir, base, "/"));
        /* a name of the report directory's own: not ".", "..", "" (they name the directory
         * itself or its parent) and without '/' */
        bool named = rq->entry[0] && strcmp(rq->entry, ".") && strcmp(rq->entry, "..");
        CCZ_ENSURE(named && strlen(dir) + strlen(rq->entry) < sizeof dir && !strchr(rq->entry, '/'),
                   CCZ_ERR_INVALID_ARGUMENT, "bad configfs-tsm entry name '%s'", rq->entry);
        strcat(dir, rq->entry);
    } else {
        int n = snprintf(dir, sizeof dir, "%.4000s/ccz-%ld-%u", base, (long)getpid(),
                         atomic_fetch_add(&entry_counter, 1));
        CCZ_ENSURE(n > 0 && (size_t)n < sizeof dir, CCZ_ERR_INVALID_ARGUMENT, "path too long");
    }
    if (mkdir(dir, 0700) == 0)
        created = true;
    else if (errno != EEXIST || !rq->entry)
        return ccz_fail(CCZ_ERR_TEE_UNAVAILABLE, "cannot create configfs-tsm entry %s: %s", dir,
                        strerror(errno));
    ccz_status s;
    CCZ_GUARD_GOTO(path_of(path, sizeof path, dir, "/provider"), s, out);
    CCZ_GUARD_GOTO(read_text(provider, sizeof provider, path), s, out);
    if (strcmp(provider, rq->provider) != 0) {
        s = ccz_fail(CCZ_ERR_TEE_UNAVAILABLE,
                     "configfs-tsm provider is '%s', not '%s' (this is "
                     "not the TEE asked for)",
                     provider, rq->provider);
        goto out;
    }
    bool raced = true;
    for (int i = 0; i < TSM_RETRIES && raced; i++) {
        ccz_buf_reset(out);
        if (aux)
            ccz_buf_reset(aux);
        CCZ_GUARD_GOTO(tsm_round(dir, rq, out, aux, &raced), s, out);
    }
    if (raced)
        s = ccz_fail(CCZ_ERR_TEE_UNAVAILABLE,
                     "configfs-tsm entry %s kept changing under us "
                     "(another writer); giving up after %d tries: retry when it is idle, or "
                     "give this process an entry of its own",
                     dir, TSM_RETRIES);
out:
    if (created)
        rmdir(dir);
    return s;
}
