/* SPDX-License-Identifier: Apache-2.0 */
/* The SGX (Gramine) and TDX (configfs-tsm, /dev/tdx_guest) attesters, pointed at directories
 * that replay quotes the way the devices hand them out; and the QGS message framing. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "ccz/ccz.h"
#include "dcap_forge.h"
#include "tee/internal.h"
#include "test.h"

static forge *F;

static void put(const char *dir, const char *name, ccz_span data)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    CHECK_OK(ccz_mkdir_p(dir, 0700));
    CHECK_OK(ccz_file_write(path, data, 0644));
}

static void quote_for(ccz_buf *q, bool tdx, const uint8_t rd[64])
{
    if (!F)
        F = forge_new();
    forge_quote_opts o;
    forge_quote_defaults(&o);
    o.tdx = tdx;
    o.version = tdx ? 4 : 3;
    memcpy(o.report_data, rd, 64);
    CHECK_OK(forge_quote(F, q, &o));
}

static ccz_status attest(ccz_buf *ev, ccz_tee tee, const char *root, const char *entry,
                         const uint8_t rd[64])
{
    ccz_attester_opts o = CCZ_ATTESTER_OPTS_INIT;
    o.tee = tee;
    o.device_root = root;
    o.tsm_entry = entry;
    ccz_attester *a;
    ccz_status s = ccz_attester_new(&a, &o);
    if (s == CCZ_OK)
        s = ccz_attest(ev, a, rd);
    ccz_attester_free(a);
    return s;
}

static void test_gramine(void)
{
    uint8_t rd[64];
    for (int i = 0; i < 64; i++)
        rd[i] = (uint8_t)(0xa0 + i);
    char root[512], dev[600];
    snprintf(root, sizeof root, "%s/gramine", test_tmpdir());
    snprintf(dev, sizeof dev, "%s/dev/attestation", root);
    ccz_buf q = CCZ_BUF_INIT, ev = CCZ_BUF_INIT, written = CCZ_BUF_INIT;
    quote_for(&q, false, rd);
    put(dev, "attestation_type", CCZ_SPAN("dcap", 4));
    put(dev, "quote", ccz_buf_span(&q));
    CHECK_OK(attest(&ev, CCZ_TEE_SGX, root, NULL, rd));
    CHECK(ev.len == q.len && memcmp(ev.ptr, q.ptr, q.len) == 0);
    char path[700];
    snprintf(path, sizeof path, "%s/user_report_data", dev);
    CHECK_OK(ccz_file_read(&written, path, 0));
    CHECK(written.len == 64 && memcmp(written.ptr, rd, 64) == 0);
    /* the type as a C string: its NUL is dropped like a newline */
    put(dev, "attestation_type", CCZ_SPAN("dcap\0", 5));
    ccz_buf_reset(&ev);
    CHECK_OK(attest(&ev, CCZ_TEE_SGX, root, NULL, rd));
    CHECK(ev.len == q.len && memcmp(ev.ptr, q.ptr, q.len) == 0);
    /* a quote for other report data is refused */
    rd[0] ^= 1;
    ccz_buf_reset(&ev);
    CHECK_STATUS(attest(&ev, CCZ_TEE_SGX, root, NULL, rd), CCZ_ERR_REPORT_DATA_MISMATCH);
    CHECK_INT(ev.len, 0);
    rd[0] ^= 1, rd[63] ^= 1; /* all 64 bytes are compared */
    CHECK_STATUS(attest(&ev, CCZ_TEE_SGX, root, NULL, rd), CCZ_ERR_REPORT_DATA_MISMATCH);
    CHECK_INT(ev.len, 0);
    rd[63] ^= 1, rd[0] ^= 1;
    /* not DCAP */
    put(dev, "attestation_type", CCZ_SPAN("epid\n", 5));
    CHECK_STATUS(attest(&ev, CCZ_TEE_SGX, root, NULL, rd), CCZ_ERR_TEE_UNAVAILABLE);
    CHECK_CONTAINS(ccz_error_detail(), "not dcap");
    put(dev, "attestation_type", CCZ_SPAN("dcapx\n", 6));
    CHECK_STATUS(attest(&ev, CCZ_TEE_SGX, root, NULL, rd), CCZ_ERR_TEE_UNAVAILABLE);
    CHECK_CONTAINS(ccz_error_detail(), "not dcap");
    /* a TDX quote where an SGX one belongs */
    put(dev, "attestation_type", CCZ_SPAN("dcap\n", 5));
    ccz_buf_reset(&q);
    quote_for(&q, true, rd);
    put(dev, "quote", ccz_buf_span(&q));
    CHECK_STATUS(attest(&ev, CCZ_TEE_SGX, root, NULL, rd), CCZ_ERR_MALFORMED);
    ccz_buf_free(&q);
    ccz_buf_free(&ev);
    ccz_buf_free(&written);
}

static void test_configfs_tsm(void)
{
    uint8_t rd[64] = {1, 2, 3};
    char root[512], entry[700], base[600];
    snprintf(root, sizeof root, "%s/tdx", test_tmpdir());
    snprintf(base, sizeof base, "%s/sys/kernel/config/tsm/report", root);
    snprintf(entry, sizeof entry, "%s/replay", base);
    ccz_buf q = CCZ_BUF_INIT, ev = CCZ_BUF_INIT, inblob = CCZ_BUF_INIT;
    quote_for(&q, true, rd);
    put(entry, "provider", CCZ_SPAN("tdx_guest\n", 10));
    put(entry, "generation", CCZ_SPAN("1\n", 2));
    put(entry, "outblob", ccz_buf_span(&q));
    CHECK_OK(attest(&ev, CCZ_TEE_TDX, root, "replay", rd));
    CHECK(ev.len == q.len && memcmp(ev.ptr, q.ptr, q.len) == 0);
    char path[800];
    snprintf(path, sizeof path, "%s/inblob", entry);
    CHECK_OK(ccz_file_read(&inblob, path, 0));
    CHECK(inblob.len == 64 && memcmp(inblob.ptr, rd, 64) == 0);
    /* the quote must carry all of our report data */
    uint8_t other[64];
    memcpy(other, rd, 64);
    other[63] ^= 1;
    ccz_buf_reset(&ev);
    CHECK_STATUS(attest(&ev, CCZ_TEE_TDX, root, "replay", other), CCZ_ERR_REPORT_DATA_MISMATCH);
    CHECK_INT(ev.len, 0);
    struct stat st;
    CHECK(stat(entry, &st) == 0); /* an entry we did not create stays */
    put(entry, "provider", CCZ_SPAN("sev_guest\n", 10));
    CHECK_STATUS(attest(&ev, CCZ_TEE_TDX, root, "replay", rd), CCZ_ERR_TEE_UNAVAILABLE);
    CHECK_CONTAINS(ccz_error_detail(), "provider is 'sev_guest', not 'tdx_guest'");
    /* a fresh entry is created and removed again; a plain directory has no provider */
    CHECK_STATUS(attest(&ev, CCZ_TEE_TDX, root, NULL, rd), CCZ_ERR_TEE_UNAVAILABLE);
    int left = 0;
    for (int i = 0; i < 4; i++) {
        char p[900];
        snprintf(p, sizeof p, "%s/ccz-%ld-%d", base, (long)getpid(), i);
        left += stat(p, &st) == 0;
    }
    CHECK_INT(left, 0);
    CHECK_STATUS(attest(&ev, CCZ_TEE_TDX, root, "no/such", rd), CCZ_ERR_INVALID_ARGUMENT);
    ccz_buf_free(&q);
    ccz_buf_free(&ev);
    ccz_buf_free(&inblob);
}

/* A configfs-tsm `generation` attribute that answers each read with the next of a list of
 * values, then the last again until the test is done: a FIFO, written once per open. The reader
 * is this process's own thread, so the writer serves when that thread is asleep in open(2) (its
 * /proc syscall file) and has slept again since the last value (its count of voluntary context
 * switches): a FIFO's reader only sleeps in open() until a writer comes, so each value goes to
 * one open, and nothing here can run out (inotify instances are a per-user limit that a busy
 * machine can exhaust, which left the reader waiting for ever in CI once). */
typedef struct {
    char path[800];
    const char *const *values;
    int n, served, short_writes;
    pid_t reader;
    atomic_bool done;
} generation_feed;

/* Whether thread `tid` of this process is asleep in open(2), and its voluntary switches. */
static bool asleep_in_open(pid_t tid, unsigned long *switches)
{
    char path[96], line[512];
    snprintf(path, sizeof path, "/proc/self/task/%ld/syscall", (long)tid);
    FILE *f = fopen(path, "re");
    if (!f)
        return false;
    bool in_open = fgets(line, sizeof line, f) &&
                   (atol(line) == SYS_openat
#ifdef SYS_open
                    || atol(line) == SYS_open
#endif
                    ) &&
                   line[0] != 'r';
    fclose(f);
    if (!in_open)
        return false;
    snprintf(path, sizeof path, "/proc/self/task/%ld/status", (long)tid);
    if (!(f = fopen(path, "re")))
        return false;
    bool found = false;
    while (!found && fgets(line, sizeof line, f))
        found = sscanf(line, "voluntary_ctxt_switches: %lu", switches) == 1;
    fclose(f);
    return found;
}

static void *feed_generations(void *arg)
{
    generation_feed *g = arg;
    unsigned long last = (unsigned long)-1, now;
    while (!atomic_load(&g->done)) {
        int fd = -1;
        if (asleep_in_open(g->reader, &now) && now != last)
            fd = open(g->path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) { /* not in open() of this FIFO (ENXIO): look again */
            nanosleep(&(struct timespec){0, 1000000}, NULL);
            continue;
        }
        const char *v = g->values[g->served < g->n ? g->served : g->n - 1];
        g->short_writes += write(fd, v, strlen(v)) != (ssize_t)strlen(v);
        close(fd);
        g->served++;
        last = now;
    }
    return NULL;
}

/* tee_tsm_report with `generation` fed by a FIFO; returns how many values were read. */
static int tsm_with_generations(ccz_status *s, const char *root, const char *entry_dir,
                                const tee_tsm_request *rq, ccz_buf *out, const char *const *values,
                                int n)
{
    generation_feed g = {.values = values, .n = n, .reader = (pid_t)syscall(SYS_gettid)};
    atomic_init(&g.done, false);
    snprintf(g.path, sizeof g.path, "%s/generation", entry_dir);
    unlink(g.path);
    CHECK(mkfifo(g.path, 0600) == 0);
    pthread_t t;
    test_thread(&t, feed_generations, &g);
    ccz_buf_reset(out);
    *s = tee_tsm_report(root, rq, out, NULL);
    atomic_store(&g.done, true);
    pthread_join(t, NULL);
    CHECK_INT(g.short_writes, 0);
    return g.served;
}

static void test_tsm_rounds(void)
{
    uint8_t rd[64] = {7};
    char root[512], entry[700], path[800];
    snprintf(root, sizeof root, "%s/tsm", test_tmpdir());
    snprintf(entry, sizeof entry, "%s/sys/kernel/config/tsm/report/r", root);
    put(entry, "provider", CCZ_SPAN("sev_guest\n", 10));
    put(entry, "outblob", CCZ_SPAN("REPORT", 6));
    tee_tsm_request rq = {"sev_guest", rd, 0, "r", NULL, NULL};
    ccz_buf out = CCZ_BUF_INIT, text = CCZ_BUF_INIT;
    ccz_status s;
    /* generation moved in the first round, but not by our two writes (privlevel, inblob): another
     * writer, so a second round, which holds (a generation that stays put is a replayed entry) */
    static const char *const once[] = {"1\n", "2\n", "2\n", "2\n"};
    CHECK_INT(tsm_with_generations(&s, root, entry, &rq, &out, once, 4), 4);
    CHECK_OK(s);
    CHECK(out.len == 6 && memcmp(out.ptr, "REPORT", 6) == 0); /* one round's outblob, not two */
    /* the VMPL asked for is written, level 0 included */
    snprintf(path, sizeof path, "%s/privlevel", entry);
    CHECK_OK(ccz_file_read(&text, path, 0));
    CHECK(text.len == 2 && memcmp(text.ptr, "0\n", 2) == 0);
    /* a generation that changes in every round: three rounds, then a refusal */
    static const char *const always[] = {"1", "2", "3", "4", "5", "6"};
    CHECK_INT(tsm_with_generations(&s, root, entry, &rq, &out, always, 6), 6);
    CHECK_STATUS(s, CCZ_ERR_TEE_UNAVAILABLE);
    CHECK_CONTAINS(ccz_error_detail(), "kept changing under us");
    /* a generation that is not a number */
    static const char *const junk[] = {"7x\n"};
    CHECK_INT(tsm_with_generations(&s, root, entry, &rq, &out, junk, 1), 1);
    CHECK_STATUS(s, CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "holds '7x', not a number");
    /* an auxblob beyond the 1 MiB bound is an error, not a missing certificate table */
    snprintf(path, sizeof path, "%s/generation", entry);
    unlink(path);
    put(entry, "generation", CCZ_SPAN("5\n", 2));
    ccz_buf big = CCZ_BUF_INIT, aux = CCZ_BUF_INIT;
    CHECK_OK(ccz_buf_reserve(&big, (1u << 20) + 1));
    big.len = (1u << 20) + 1;
    memset(big.ptr, 'a', big.len);
    put(entry, "auxblob", ccz_buf_span(&big));
    CHECK_STATUS(tee_tsm_report(root, &rq, &out, &aux), CCZ_ERR_TOO_LARGE);
    ccz_buf_free(&big);
    ccz_buf_free(&aux);
    ccz_buf_free(&out);
    ccz_buf_free(&text);
}

/* A configfs-tsm entry of plain files kept the way the kernel keeps it: every attribute write
 * counts in `generation`, and `outblob` is the report for what `inblob` holds now. `racers` of
 * our inblob writes, the first ones, are each followed at once by another writer's inblob. */
typedef struct {
    char dir[800];
    int racers, inblob_writes;
} fake_kernel;

static void fake_kernel_count(fake_kernel *k, const char *attr, ccz_span data)
{
    char path[900];
    ccz_buf g = CCZ_BUF_INIT;
    snprintf(path, sizeof path, "%s/generation", k->dir);
    CHECK_OK(ccz_file_read(&g, path, 0));
    char text[32];
    snprintf(text, sizeof text, "%llu\n", strtoull((const char *)g.ptr, NULL, 10) + 1);
    put(k->dir, "generation", CCZ_SPAN(text, strlen(text)));
    ccz_buf_free(&g);
    if (strcmp(attr, "inblob") != 0)
        return;
    k->inblob_writes++;
    uint8_t report[6 + 64];
    memcpy(report, "REPORT", 6);
    memcpy(report + 6, data.ptr, data.len < 64 ? data.len : 64);
    put(k->dir, "outblob", CCZ_SPAN(report, sizeof report));
}

static void fake_kernel_written(void *arg, const char *path)
{
    fake_kernel *k = arg;
    const char *attr = strrchr(path, '/') + 1;
    ccz_buf data = CCZ_BUF_INIT;
    CHECK_OK(ccz_file_read(&data, path, 0));
    fake_kernel_count(k, attr, ccz_buf_span(&data));
    ccz_buf_free(&data);
    if (strcmp(attr, "inblob") == 0 && k->racers > 0) {
        k->racers--;
        static const uint8_t theirs[64] = {0xee, 0xee};
        put(k->dir, "inblob", CCZ_SPAN(theirs, 64));
        fake_kernel_count(k, "inblob", CCZ_SPAN(theirs, 64));
    }
}

static void test_tsm_interleaved_writer(void)
{
    uint8_t rd[64] = {5, 6, 7};
    char root[512];
    fake_kernel k = {.racers = 0};
    snprintf(root, sizeof root, "%s/tsm-race", test_tmpdir());
    snprintf(k.dir, sizeof k.dir, "%s/sys/kernel/config/tsm/report/k", root);
    put(k.dir, "provider", CCZ_SPAN("sev_guest\n", 10));
    put(k.dir, "generation", CCZ_SPAN("10\n", 3));
    tee_tsm_request rq = {"sev_guest", rd, 1, "k", fake_kernel_written, &k};
    ccz_buf out = CCZ_BUF_INIT;
    /* no other writer: one round, our report */
    CHECK_OK(tee_tsm_report(root, &rq, &out, NULL));
    CHECK_INT(k.inblob_writes, 1);
    CHECK(out.len == 70 && memcmp(out.ptr + 6, rd, 64) == 0);
    /* another writer right after our inblob write, before we look at generation: the round
     * is not ours, and the next one is */
    k.inblob_writes = 0;
    k.racers = 1;
    ccz_buf_reset(&out);
    CHECK_OK(tee_tsm_report(root, &rq, &out, NULL));
    CHECK_INT(k.inblob_writes, 3);
    CHECK(out.len == 70 && memcmp(out.ptr + 6, rd, 64) == 0);
    /* the same without a privlevel write */
    rq.privlevel = -1;
    k.inblob_writes = 0;
    k.racers = 1;
    ccz_buf_reset(&out);
    CHECK_OK(tee_tsm_report(root, &rq, &out, NULL));
    CHECK_INT(k.inblob_writes, 3);
    CHECK(out.len == 70 && memcmp(out.ptr + 6, rd, 64) == 0);
    /* another writer in every round: three rounds, then a refusal */
    k.inblob_writes = 0;
    k.racers = 100;
    ccz_buf_reset(&out);
    CHECK_STATUS(tee_tsm_report(root, &rq, &out, NULL), CCZ_ERR_TEE_UNAVAILABLE);
    CHECK_CONTAINS(ccz_error_detail(), "kept changing under us");
    CHECK_INT(k.inblob_writes, 6);
    ccz_buf_free(&out);
}

static void test_tdx_guest_device(void)
{
    uint8_t rd[64] = {0};
    char root[512], dev[600];
    snprintf(root, sizeof root, "%s/legacy", test_tmpdir());
    snprintf(dev, sizeof dev, "%s/dev", root);
    put(dev, "tdx_guest", CCZ_SPAN("", 0)); /* a plain file: the ioctls are refused */
    ccz_buf ev = CCZ_BUF_INIT;
    CHECK_STATUS(attest(&ev, CCZ_TEE_TDX, root, NULL, rd), CCZ_ERR_TEE_UNAVAILABLE);
    CHECK_CONTAINS(ccz_error_detail(), "TDX_CMD_GET_REPORT0");
    char empty[512];
    snprintf(empty, sizeof empty, "%s/empty", test_tmpdir());
    CHECK_OK(ccz_mkdir_p(empty, 0700));
    CHECK_STATUS(attest(&ev, CCZ_TEE_TDX, empty, NULL, rd), CCZ_ERR_TEE_UNAVAILABLE);
    CHECK_CONTAINS(ccz_error_detail(), "no TDX guest interface");
    ccz_buf_free(&ev);
}

/* ---- the guest devices' ioctls, answered by this test ----------------------------------------*/

static void snp_report(uint8_t rep[CCZ_SNP_REPORT_SIZE], const uint8_t rd[64]);

/* While `on`, this program's ioctl answers the TDX and SEV-SNP guest devices' requests as the
 * kernel would (the library calls it in place of libc's); every other ioctl goes to the kernel.
 * The request numbers carry the kernel ABI's structure sizes: struct tdx_report_req is 1088
 * bytes, struct tdx_quote_req 16, struct snp_guest_request_ioctl 32. */
static struct {
    bool on;
    unsigned calls;
    uint8_t rd[64]; /* the report data of the last SNP report request */
    ccz_buf quote;  /* the quote TDX_CMD_GET_QUOTE returns */
    ccz_buf quote2; /* the one it returns for a TDREPORT of report data rd2 */
    uint8_t rd2[64];
    unsigned stall_ms;      /* TDX_CMD_GET_REPORT0 sleeps before it reads the request */
    uint64_t quote_status;  /* its header's status */
    uint32_t out_len_extra; /* added to its out_len */
    uint32_t snp_status;    /* MSG_REPORT_RSP's status */
    uint32_t snp_size;      /* its report size (0: the report's) */
    uint32_t snp_fw_error;  /* an ioctl that fails (EIO) with this firmware error */
    bool other_data;        /* the report answers other report data */
} guest;

int ioctl(int fd, unsigned long req, ...)
{
    va_list ap;
    va_start(ap, req);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    if (!guest.on)
        return (int)syscall(SYS_ioctl, fd, req, arg);
    __atomic_fetch_add(&guest.calls, 1, __ATOMIC_SEQ_CST);
    if (_IOC_TYPE(req) == 'T' && _IOC_NR(req) == 1 && _IOC_SIZE(req) == 1088) {
        uint8_t *r = arg; /* reportdata[64], tdreport[1024] */
        usleep(guest.stall_ms * 1000);
        memset(r + 64, 0x5a, 1024);
        memcpy(r + 64 + 128, r, 64); /* a TDREPORT carries the report data at 128 */
        return 0;
    }
    if (_IOC_TYPE(req) == 'T' && _IOC_NR(req) == 4 && _IOC_SIZE(req) == 16) {
        const uint64_t *q = arg; /* buf, len */
        uint8_t *blob = (uint8_t *)(uintptr_t)q[0];
        uint32_t in_len;
        memcpy(&in_len, blob + 16, 4);
        /* the QGS request: size, header, id list size, report size, the TDREPORT */
        CHECK(blob[0] == 1 && in_len == 4 + 16 + 8 + 1024 && q[1] >= 24 + in_len);
        /* the quote of the TDREPORT's report data */
        const ccz_buf *quote = memcmp(blob + 24 + 28 + 128, guest.rd2, 64) == 0 && guest.quote2.len
                                   ? &guest.quote2
                                   : &guest.quote;
        ccz_buf m = CCZ_BUF_INIT;
        uint8_t h[4 + 24] = {0};
        uint32_t msg = 24 + (uint32_t)quote->len, ql = (uint32_t)quote->len;
        h[0] = (uint8_t)(msg >> 24), h[1] = (uint8_t)(msg >> 16), h[2] = (uint8_t)(msg >> 8),
        h[3] = (uint8_t)msg;
        h[4] = 1;                /* version 1.0 */
        h[8] = 1;                /* GET_QUOTE_RESP */
        memcpy(h + 12, &msg, 4); /* the message's size */
        memcpy(h + 24, &ql, 4);  /* no ids, then the quote */
        CHECK_OK(ccz_buf_append(&m, h, sizeof h));
        CHECK_OK(ccz_buf_append(&m, quote->ptr, quote->len));
        uint32_t out_len = (uint32_t)m.len + guest.out_len_extra;
        memcpy(blob + 8, &guest.quote_status, 8);
        memcpy(blob + 20, &out_len, 4);
        memcpy(blob + 24, m.ptr, m.len);
        ccz_buf_free(&m);
        return 0;
    }
    if (_IOC_TYPE(req) == 'S' && _IOC_NR(req) == 0 && _IOC_SIZE(req) == 32) {
        uint64_t *io = arg; /* msg_version, req_data, resp_data, exitinfo2 */
        CHECK_INT(*(uint8_t *)io, 1);
        const uint8_t *user_data = (const uint8_t *)(uintptr_t)io[1];
        uint8_t *resp = (uint8_t *)(uintptr_t)io[2];
        memcpy(guest.rd, user_data, 64);
        if (guest.snp_fw_error) {
            io[3] = guest.snp_fw_error;
            errno = EIO;
            return -1;
        }
        uint8_t rd[64];
        memcpy(rd, user_data, 64);
        rd[0] ^= guest.other_data;
        uint32_t size = guest.snp_size ? guest.snp_size : CCZ_SNP_REPORT_SIZE;
        memcpy(resp, &guest.snp_status, 4);
        memcpy(resp + 4, &size, 4);
        uint8_t rep[CCZ_SNP_REPORT_SIZE];
        snp_report(rep, rd);
        memcpy(resp + 0x20, rep, sizeof rep);
        return 0;
    }
    errno = ENOTTY;
    return -1;
}

typedef struct {
    const char *root;
    uint8_t rd[64];
    ccz_status s;
} tdx_racer;

static void *tdx_race_run(void *arg)
{
    tdx_racer *r = arg;
    ccz_buf ev = CCZ_BUF_INIT;
    r->s = attest(&ev, CCZ_TEE_TDX, r->root, NULL, r->rd);
    ccz_buf_free(&ev);
    return NULL;
}

/* /dev/tdx_guest: the TDREPORT for our report data, sent to the quote generation service in a
 * QGS message, and the quote that comes back taken if it carries our report data; a quote still
 * in flight, one longer than the buffer and one for other report data refused. */
static void test_tdx_guest_ioctls(void)
{
    uint8_t rd[64] = {0x42, 1, 2};
    char root[512], dev_dir[600];
    snprintf(root, sizeof root, "%s/tdx-ioctl", test_tmpdir());
    snprintf(dev_dir, sizeof dev_dir, "%s/dev", root);
    put(dev_dir, "tdx_guest", CCZ_SPAN("", 0));
    ccz_buf ev = CCZ_BUF_INIT;
    quote_for(&guest.quote, true, rd);
    guest.on = true;
    CHECK_OK(attest(&ev, CCZ_TEE_TDX, root, NULL, rd));
    CHECK_INT(guest.calls, 2);
    CHECK(ev.len == guest.quote.len && memcmp(ev.ptr, guest.quote.ptr, ev.len) == 0);
    guest.quote_status = 0xffffffffffffffffull;
    ccz_buf_reset(&ev);
    CHECK_STATUS(attest(&ev, CCZ_TEE_TDX, root, NULL, rd), CCZ_ERR_TEE_UNAVAILABLE);
    CHECK_STR(ccz_error_detail(),
              "the VMM did not produce a quote (status 0xffffffffffffffff, still in flight)");
    guest.quote_status = 0;
    guest.out_len_extra = 1u << 20;
    CHECK_STATUS(attest(&ev, CCZ_TEE_TDX, root, NULL, rd), CCZ_ERR_TEE_UNAVAILABLE);
    CHECK_CONTAINS(ccz_error_detail(), "the VMM did not produce a quote (status 0x0)");
    guest.out_len_extra = 0;
    uint8_t other[64] = {0x43};
    CHECK_STATUS(attest(&ev, CCZ_TEE_TDX, root, NULL, other), CCZ_ERR_REPORT_DATA_MISMATCH);
    CHECK_INT(ev.len, 0);
    /* two threads at once, each TDREPORT request held 100 ms in the kernel: each request is its
     * own, so each thread gets the quote of its report data */
    tdx_racer r[2] = {{root, {0x42, 1, 2}, CCZ_ERR_TEE_UNAVAILABLE},
                      {root, {0x44}, CCZ_ERR_TEE_UNAVAILABLE}};
    memcpy(guest.rd2, r[1].rd, 64);
    quote_for(&guest.quote2, true, guest.rd2);
    guest.stall_ms = 100;
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        CHECK_INT(pthread_create(&t[i], NULL, tdx_race_run, &r[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    CHECK_STATUS(r[0].s, CCZ_OK);
    CHECK_STATUS(r[1].s, CCZ_OK);
    guest.stall_ms = 0;
    guest.on = false;
    ccz_buf_free(&guest.quote);
    ccz_buf_free(&guest.quote2);
    ccz_buf_free(&ev);
}

static void test_qgs_messages(void)
{
    uint8_t report[1024];
    memset(report, 0x77, sizeof report);
    ccz_buf req = CCZ_BUF_INIT;
    CHECK_OK(tee_tdx_qgs_request(&req, report));
    CHECK_INT(req.len, 4 + 16 + 8 + 1024);
    CHECK(req.ptr[0] == 0 && req.ptr[1] == 0 && req.ptr[2] == 0x04 && req.ptr[3] == 0x18);
    CHECK(req.ptr[4] == 1 && req.ptr[6] == 0);         /* version 1.0 */
    CHECK(req.ptr[8] == 0);                            /* GET_QUOTE_REQ */
    CHECK(req.ptr[20] == 0x00 && req.ptr[21] == 0x04); /* report size 1024 */
    CHECK(req.ptr[24] == 0 && req.ptr[25] == 0 && req.ptr[26] == 0 && req.ptr[27] == 0);
    CHECK(memcmp(req.ptr + 28, report, sizeof report) == 0); /* no id list: the report next */

    /* a response: size, header (type 1), id size 2, quote size 5, id, quote */
    uint8_t resp[4 + 16 + 8 + 2 + 5] = {0,  0, 0, 31, 1,    0,    0,   0,   1,   0,   0,  0,
                                        31, 0, 0, 0,  0,    0,    0,   0,   2,   0,   0,  0,
                                        5,  0, 0, 0,  0xee, 0xee, 'Q', 'U', 'O', 'T', 'E'};
    ccz_span q;
    CHECK_OK(tee_tdx_qgs_response(&q, CCZ_SPAN(resp, sizeof resp)));
    CHECK(q.len == 5 && memcmp(q.ptr, "QUOTE", 5) == 0);
    CHECK_STATUS(tee_tdx_qgs_response(&q, CCZ_SPAN(resp, sizeof resp - 1)), CCZ_ERR_TRUNCATED);
    resp[24] = 6; /* quote size beyond the message */
    CHECK_STATUS(tee_tdx_qgs_response(&q, CCZ_SPAN(resp, sizeof resp)), CCZ_ERR_TRUNCATED);
    resp[24] = 5;
    resp[16] = 0x12; /* QGS error code */
    CHECK_STATUS(tee_tdx_qgs_response(&q, CCZ_SPAN(resp, sizeof resp)), CCZ_ERR_TEE_UNAVAILABLE);
    resp[16] = 0;
    resp[8] = 0; /* a request, not a response */
    CHECK_STATUS(tee_tdx_qgs_response(&q, CCZ_SPAN(resp, sizeof resp)), CCZ_ERR_MALFORMED);
    resp[8] = 1;
    resp[4] = 2; /* version 2.0: not the message format read here */
    CHECK_STATUS(tee_tdx_qgs_response(&q, CCZ_SPAN(resp, sizeof resp)), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "version 2.0 type 1 is not a GET_QUOTE response");
    resp[4] = 1;
    /* the message is as long as its size says, whatever follows it in the buffer */
    resp[3] = 30;
    CHECK_STATUS(tee_tdx_qgs_response(&q, CCZ_SPAN(resp, sizeof resp)), CCZ_ERR_TRUNCATED);
    CHECK_CONTAINS(ccz_error_detail(), "quote of 5 bytes exceeds the message");
    /* a message shorter than its header (24 bytes) */
    resp[3] = 23;
    CHECK_STATUS(tee_tdx_qgs_response(&q, CCZ_SPAN(resp, sizeof resp)), CCZ_ERR_TRUNCATED);
    CHECK_CONTAINS(ccz_error_detail(), "QGS response: header truncated");
    resp[3] = 31;
    CHECK_OK(tee_tdx_qgs_response(&q, CCZ_SPAN(resp, sizeof resp)));
    ccz_buf_free(&req);
}

/* A synthetic SNP report (not signed: the attester only parses and checks report data). */
static void snp_report(uint8_t rep[CCZ_SNP_REPORT_SIZE], const uint8_t rd[64])
{
    memset(rep, 0, CCZ_SNP_REPORT_SIZE);
    rep[0] = 3;    /* version */
    rep[0x34] = 1; /* ECDSA P-384 */
    memcpy(rep + 0x50, rd, 64);
}

static void test_snp_configfs(void)
{
    uint8_t rd[64] = {9, 9, 9}, rep[CCZ_SNP_REPORT_SIZE];
    snp_report(rep, rd);
    char root[512], entry[700];
    snprintf(root, sizeof root, "%s/snp", test_tmpdir());
    snprintf(entry, sizeof entry, "%s/sys/kernel/config/tsm/report/e1", root);
    put(entry, "provider", CCZ_SPAN("sev_guest\n", 10));
    put(entry, "generation", CCZ_SPAN("3\n", 2));
    put(entry, "outblob", CCZ_SPAN(rep, sizeof rep));
    ccz_buf ev = CCZ_BUF_INIT, certs = CCZ_BUF_INIT;
    ccz_attester_opts o = CCZ_ATTESTER_OPTS_INIT;
    o.tee = CCZ_TEE_SNP;
    o.device_root = root;
    o.tsm_entry = "e1";
    ccz_attester *a;
    CHECK_OK(ccz_attester_new(&a, &o));
    /* no auxblob: no certificates, which is fine */
    CHECK_OK(ccz_attest_with_certs(&ev, &certs, a, rd));
    CHECK_INT(ev.len, CCZ_SNP_REPORT_SIZE);
    CHECK_INT(certs.len, 0);
    /* an empty auxblob (the host gave no certificate table): no certificates either */
    put(entry, "auxblob", CCZ_SPAN("", 0));
    ccz_buf_reset(&ev);
    CHECK_OK(ccz_attest_with_certs(&ev, &certs, a, rd));
    CHECK_INT(ev.len, CCZ_SNP_REPORT_SIZE);
    CHECK_INT(certs.len, 0);
    /* without a place for certificates the auxblob is not read: one past the 1 MiB limit of a
     * configfs-tsm blob fails only a request for certificates */
    size_t big = (1u << 20) + 1;
    uint8_t *huge = calloc(1, big);
    CHECK(huge != NULL);
    put(entry, "auxblob", CCZ_SPAN(huge, big));
    free(huge);
    ccz_buf_reset(&ev);
    CHECK_OK(ccz_attest(&ev, a, rd));
    CHECK_INT(ev.len, CCZ_SNP_REPORT_SIZE);
    ccz_buf_reset(&ev);
    CHECK_STATUS(ccz_attest_with_certs(&ev, &certs, a, rd), CCZ_ERR_TOO_LARGE);
    CHECK_INT(ev.len, 0);
    CHECK_INT(certs.len, 0);
    put(entry, "auxblob", CCZ_SPAN("", 0));
    rd[0] = 8;
    CHECK_STATUS(ccz_attest(&ev, a, rd), CCZ_ERR_REPORT_DATA_MISMATCH);
    put(entry, "outblob", CCZ_SPAN(rep, 100));
    CHECK_STATUS(ccz_attest(&ev, a, rd), CCZ_ERR_TRUNCATED);
    ccz_attester_free(a);
    /* an entry name that is not one entry of the report directory */
    static const char *const bad[] = {"", ".", "..", "e1/../e1"};
    for (size_t i = 0; i < CCZ_ARRAY_LEN(bad); i++) {
        o.tsm_entry = bad[i];
        CHECK_OK(ccz_attester_new(&a, &o));
        CHECK_STATUS(ccz_attest(&ev, a, rd), CCZ_ERR_INVALID_ARGUMENT);
        CHECK_CONTAINS(ccz_error_detail(), "bad configfs-tsm entry name");
        ccz_attester_free(a);
    }
    /* /dev/sev-guest: the report at 0x20 of the response, if its status is 0, its size is a
     * report's and it carries our report data */
    char sev[512], sev_dev[600];
    snprintf(sev, sizeof sev, "%s/snp-ioctl", test_tmpdir());
    snprintf(sev_dev, sizeof sev_dev, "%s/dev", sev);
    put(sev_dev, "sev-guest", CCZ_SPAN("", 0));
    o.device_root = sev;
    o.tsm_entry = NULL;
    CHECK_OK(ccz_attester_new(&a, &o));
    guest.on = true;
    ccz_buf_reset(&ev);
    CHECK_OK(ccz_attest(&ev, a, rd));
    uint8_t want[CCZ_SNP_REPORT_SIZE];
    snp_report(want, rd);
    CHECK(ev.len == sizeof want && memcmp(ev.ptr, want, sizeof want) == 0);
    CHECK(memcmp(guest.rd, rd, 64) == 0);
    ccz_buf_reset(&ev);
    guest.snp_status = 0x16;
    CHECK_STATUS(ccz_attest(&ev, a, rd), CCZ_ERR_TEE_UNAVAILABLE);
    CHECK_STR(ccz_error_detail(), "SNP_GET_REPORT: firmware status 0x16");
    guest.snp_status = 0;
    guest.snp_size = 4000 - 0x20 + 1;
    CHECK_STATUS(ccz_attest(&ev, a, rd), CCZ_ERR_MALFORMED);
    CHECK_STR(ccz_error_detail(), "SNP_GET_REPORT: response size 3969 is impossible");
    guest.snp_size = CCZ_SNP_REPORT_SIZE - 1;
    CHECK_STATUS(ccz_attest(&ev, a, rd), CCZ_ERR_TRUNCATED);
    CHECK_CONTAINS(ccz_error_detail(), "an SNP report is 1184 bytes, not 1183");
    guest.snp_size = 0;
    guest.snp_fw_error = 0x7;
    CHECK_STATUS(ccz_attest(&ev, a, rd), CCZ_ERR_TEE_UNAVAILABLE);
    CHECK_CONTAINS(ccz_error_detail(), "SNP_GET_REPORT: Input/output error (firmware error 0x7)");
    guest.snp_fw_error = 0;
    guest.other_data = true;
    CHECK_STATUS(ccz_attest(&ev, a, rd), CCZ_ERR_REPORT_DATA_MISMATCH);
    guest.other_data = false;
    CHECK_INT(ev.len, 0);
    guest.on = false;
    ccz_attester_free(a);
    /* /dev/sev-guest as a plain file: the ioctl is refused */
    char legacy[512], dev[600];
    snprintf(legacy, sizeof legacy, "%s/snp-legacy", test_tmpdir());
    snprintf(dev, sizeof dev, "%s/dev", legacy);
    put(dev, "sev-guest", CCZ_SPAN("", 0));
    o.device_root = legacy;
    o.tsm_entry = NULL;
    CHECK_OK(ccz_attester_new(&a, &o));
    CHECK_STATUS(ccz_attest(&ev, a, rd), CCZ_ERR_TEE_UNAVAILABLE);
    CHECK_CONTAINS(ccz_error_detail(), "SNP_GET_REPORT");
    ccz_attester_free(a);
    ccz_buf_free(&ev);
    ccz_buf_free(&certs);
}

/* The GUIDs of the host's certificate table (GHCB specification, mixed-endian). */
static const uint8_t table_guid_vlek[16] = {0xc2, 0x4b, 0x07, 0xa8, 0x5a, 0xa2, 0x3e, 0x48,
                                            0xaa, 0xe6, 0x39, 0xc0, 0x45, 0xa0, 0xb8, 0xa1};
static const uint8_t table_guid_ask[16] = {0x79, 0xb3, 0xb7, 0x4a, 0xac, 0xbb, 0xe4, 0x4f,
                                           0xa0, 0x2f, 0x05, 0xae, 0xf3, 0x27, 0xc7, 0x82};
static const uint8_t table_guid_ark[16] = {0xa4, 0x06, 0xb4, 0xc0, 0x03, 0xa8, 0x52, 0x49,
                                           0x97, 0x43, 0x3f, 0xb6, 0x01, 0x4c, 0xd0, 0xae};

/* A certificate table whose n entries all point at one certificate after the zero entry. */
static void cert_table(ccz_buf *t, const uint8_t *const *guids, int n, ccz_span der)
{
    ccz_buf_reset(t);
    uint32_t at = (uint32_t)(n + 1) * 24;
    for (int i = 0; i < n; i++) {
        CHECK_OK(ccz_buf_append(t, guids[i], 16));
        CHECK_OK(ccz_buf_append_u32le(t, at));
        CHECK_OK(ccz_buf_append_u32le(t, (uint32_t)der.len));
    }
    uint8_t zero[24] = {0};
    CHECK_OK(ccz_buf_append(t, zero, 24));
    CHECK_OK(ccz_buf_append(t, der.ptr, der.len));
}

static int pem_count(const ccz_buf *b)
{
    int n = 0;
    for (size_t i = 0; i + 27 <= b->len; i++)
        n += memcmp(b->ptr + i, "-----BEGIN CERTIFICATE-----", 27) == 0;
    return n;
}

static void test_snp_cert_table(void)
{
    /* a table with a VCEK-tagged certificate (a forged one stands in) and an unknown GUID */
    if (!F)
        F = forge_new();
    ccz_buf der = CCZ_BUF_INIT, table = CCZ_BUF_INIT, vek = CCZ_BUF_INIT, chain = CCZ_BUF_INIT;
    BIO *b = BIO_new_mem_buf(forge_root_pem(F).ptr, (int)forge_root_pem(F).len);
    X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
    BIO_free(b);
    unsigned char *p = NULL;
    int n = i2d_X509(x, &p);
    X509_free(x);
    static const uint8_t vcek_guid[16] = {0x8d, 0x75, 0xda, 0x63, 0x64, 0xe6, 0x64, 0x45,
                                          0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd};
    uint8_t other[16] = {1};
    CHECK_OK(ccz_buf_append(&table, other, 16));
    CHECK_OK(ccz_buf_append_u32le(&table, 72));
    CHECK_OK(ccz_buf_append_u32le(&table, 4));
    CHECK_OK(ccz_buf_append(&table, vcek_guid, 16));
    CHECK_OK(ccz_buf_append_u32le(&table, 76));
    CHECK_OK(ccz_buf_append_u32le(&table, (uint32_t)n));
    uint8_t zero[24] = {0};
    CHECK_OK(ccz_buf_append(&table, zero, 24));
    CHECK_OK(ccz_buf_append(&table, "junk", 4));
    CHECK_OK(ccz_buf_append(&table, p, (size_t)n));
    CHECK_OK(ccz_snp_cert_table(&vek, &chain, ccz_buf_span(&table)));
    CHECK_CONTAINS((const char *)vek.ptr, "-----BEGIN CERTIFICATE-----");
    CHECK_INT(chain.len, 0);
    /* an entry pointing outside the table, and a table without its zero entry */
    table.ptr[43] = 0xff; /* the VCEK entry's offset */
    CHECK_STATUS(ccz_snp_cert_table(&vek, &chain, ccz_buf_span(&table)), CCZ_ERR_TRUNCATED);
    CHECK_STATUS(ccz_snp_cert_table(&vek, &chain, CCZ_SPAN(table.ptr, 30)), CCZ_ERR_TRUNCATED);
    /* a VLEK is the VEK too; the ASK and ARK go to the chain */
    ccz_span cert = CCZ_SPAN(p, (size_t)n);
    static const uint8_t *const vlek_ask_ark[] = {table_guid_vlek, table_guid_ask, table_guid_ark};
    cert_table(&table, vlek_ask_ark, 3, cert);
    ccz_buf_reset(&vek);
    CHECK_OK(ccz_snp_cert_table(&vek, &chain, ccz_buf_span(&table)));
    CHECK_INT(pem_count(&vek), 1);
    CHECK_INT(pem_count(&chain), 2);
    /* an entry with a zero GUID but an offset and length is not the end: the VCEK after it */
    static const uint8_t zero_guid[16] = {0};
    const uint8_t *const zero_vcek[] = {zero_guid, vcek_guid};
    cert_table(&table, zero_vcek, 2, cert);
    ccz_buf_reset(&vek);
    ccz_buf_reset(&chain);
    CHECK_OK(ccz_snp_cert_table(&vek, &chain, ccz_buf_span(&table)));
    CHECK_INT(pem_count(&vek), 1);
    CHECK_INT(chain.len, 0);
    /* a chain without a VEK */
    ccz_buf_reset(&vek);
    ccz_buf_reset(&chain);
    cert_table(&table, vlek_ask_ark + 1, 2, cert);
    CHECK_STATUS(ccz_snp_cert_table(&vek, &chain, ccz_buf_span(&table)), CCZ_ERR_NOT_FOUND);
    CHECK_CONTAINS(ccz_error_detail(), "holds no VCEK or VLEK");
    /* 32 entries are read; a 33rd is one too many */
    const uint8_t *many[33];
    for (int i = 0; i < 33; i++)
        many[i] = vcek_guid;
    cert_table(&table, many, 32, cert);
    ccz_buf_reset(&vek);
    CHECK_OK(ccz_snp_cert_table(&vek, &chain, ccz_buf_span(&table)));
    CHECK_INT(pem_count(&vek), 32);
    cert_table(&table, many, 33, cert);
    CHECK_STATUS(ccz_snp_cert_table(&vek, &chain, ccz_buf_span(&table)), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "too many entries");
    OPENSSL_free(p);
    ccz_buf_free(&der);
    ccz_buf_free(&table);
    ccz_buf_free(&vek);
    ccz_buf_free(&chain);
}

/* The SNP attester with the host's certificate table in auxblob: the VEK and then its chain
 * are appended to the caller's certificates; a table that does not parse leaves them as they
 * were; a report for report data that differs in its last byte only is refused. */
static void test_snp_configfs_certs(void)
{
    if (!F)
        F = forge_new();
    uint8_t rd[64] = {5, 5}, rep[CCZ_SNP_REPORT_SIZE];
    snp_report(rep, rd);
    BIO *b = BIO_new_mem_buf(forge_root_pem(F).ptr, (int)forge_root_pem(F).len);
    X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
    BIO_free(b);
    unsigned char *der = NULL;
    int n = i2d_X509(x, &der);
    X509_free(x);
    CHECK(n > 0);
    ccz_buf table = CCZ_BUF_INIT;
    static const uint8_t *const vlek_ask_ark[] = {table_guid_vlek, table_guid_ask, table_guid_ark};
    cert_table(&table, vlek_ask_ark, 3, CCZ_SPAN(der, (size_t)n));
    char root[512], entry[700];
    snprintf(root, sizeof root, "%s/snp-certs", test_tmpdir());
    snprintf(entry, sizeof entry, "%s/sys/kernel/config/tsm/report/e2", root);
    put(entry, "provider", CCZ_SPAN("sev_guest\n", 10));
    put(entry, "generation", CCZ_SPAN("1\n", 2));
    put(entry, "outblob", CCZ_SPAN(rep, sizeof rep));
    put(entry, "auxblob", ccz_buf_span(&table));
    ccz_attester_opts o = CCZ_ATTESTER_OPTS_INIT;
    o.tee = CCZ_TEE_SNP;
    o.device_root = root;
    o.tsm_entry = "e2";
    ccz_attester *a;
    CHECK_OK(ccz_attester_new(&a, &o));
    ccz_buf ev = CCZ_BUF_INIT, certs = CCZ_BUF_INIT;
    CHECK_OK(ccz_buf_append_str(&certs, "kept"));
    CHECK_OK(ccz_attest_with_certs(&ev, &certs, a, rd));
    CHECK_INT(ev.len, CCZ_SNP_REPORT_SIZE);
    CHECK(certs.len > 4 && memcmp(certs.ptr, "kept", 4) == 0);
    CHECK_INT(pem_count(&certs), 3); /* the VLEK, then the ASK and the ARK */
    /* room for the VEK but not for its chain: an error, the certificates as they were */
    size_t one = (certs.len - 4) / 3;
    ccz_buf tight;
    ccz_buf_init(&tight, 4 + one + one / 2, false);
    CHECK_OK(ccz_buf_append_str(&tight, "kept"));
    ccz_buf_reset(&ev);
    CHECK_STATUS(ccz_attest_with_certs(&ev, &tight, a, rd), CCZ_ERR_TOO_LARGE);
    CHECK_INT(tight.len, 4);
    CHECK_INT(ev.len, 0);
    ccz_buf_free(&tight);
    /* a table that does not parse: an error, the certificates as they were */
    put(entry, "auxblob", CCZ_SPAN(table.ptr, 30));
    ccz_buf_reset(&ev);
    size_t before = certs.len;
    CHECK_STATUS(ccz_attest_with_certs(&ev, &certs, a, rd), CCZ_ERR_TRUNCATED);
    CHECK_INT(certs.len, before);
    CHECK_INT(ev.len, 0);
    /* without a place for certificates the table is not read */
    CHECK_OK(ccz_attest(&ev, a, rd));
    CHECK_INT(ev.len, CCZ_SNP_REPORT_SIZE);
    /* report data differing in its last byte */
    rd[63] = 1;
    ccz_buf_reset(&ev);
    CHECK_STATUS(ccz_attest(&ev, a, rd), CCZ_ERR_REPORT_DATA_MISMATCH);
    CHECK_INT(ev.len, 0);
    ccz_attester_free(a);
    OPENSSL_free(der);
    ccz_buf_free(&table);
    ccz_buf_free(&ev);
    ccz_buf_free(&certs);
}

static void cleanup(void)
{
    forge_free(F);
}

TEST_MAIN(T(test_gramine), T(test_configfs_tsm), T(test_tsm_rounds), T(test_tsm_interleaved_writer),
          T(test_tdx_guest_device), T(test_tdx_guest_ioctls), T(test_qgs_messages),
          T(test_snp_configfs), T(test_snp_cert_table), T(test_snp_configfs_certs), T(cleanup))
