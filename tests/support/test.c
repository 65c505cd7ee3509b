/* SPDX-License-Identifier: Apache-2.0 */
/* The harness's runner and temporary-directory helper. */
#include <arpa/inet.h>
#include <ftw.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "test.h"

atomic_int test_failures;
atomic_int test_checks;
const char *test_name = "";
static char tmpdir[256];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void cleanup(void)
{
    if (tmpdir[0])
        nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

void test_thread(pthread_t *t, void *(*fn)(void *), void *arg)
{
    int e = pthread_create(t, NULL, fn, arg);
    if (e) {
        fprintf(stderr, "%s: cannot start a thread: %s\n", test_name, strerror(e));
        exit(1);
    }
}

FILE *test_memlog_open(test_memlog *m)
{
    *m = (test_memlog){0};
    m->f = open_memstream(&m->text, &m->len);
    CHECK(m->f != NULL);
    return m->f;
}

char *test_memlog_close(test_memlog *m)
{
    fclose(m->f);
    m->f = NULL;
    fprintf(stderr, "%s", m->text);
    return m->text;
}

const char *test_tmpdir(void)
{
    if (!tmpdir[0]) {
        const char *base = getenv("TMPDIR");
        snprintf(tmpdir, sizeof tmpdir, "%s/ccz-test-XXXXXX", base && base[0] ? base : "/tmp");
        if (!mkdtemp(tmpdir)) {
            perror("mkdtemp");
            exit(2);
        }
        atexit(cleanup);
    }
    return tmpdir;
}

void test_skip(bool allow_in_ci, const char *fmt, ...)
{
    char why[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    const char *ci = getenv("CI");
    bool in_ci = ci && (strcmp(ci, "true") == 0 || strcmp(ci, "1") == 0);
    fflush(stdout);
    if (test_checks || test_failures) {
        fprintf(stderr,
                "FAIL %s: cannot skip (%s) after %d checks ran (%d failed): the test "
                "that needs it must run in its own CTest entry\n",
                test_name, why, test_checks, test_failures);
        exit(1);
    }
    if (in_ci && !allow_in_ci) {
        fprintf(stderr, "FAIL %s: %s, and CI=%s forbids skipping for it\n", test_name, why, ci);
        exit(1);
    }
    printf("skipped: %s\n", why);
    fflush(stdout);
    exit(77);
}

int test_main(int argc, char **argv, const test_case *cases, size_t n)
{
    int ran = 0;
    for (size_t i = 0; i < n; i++) {
        bool wanted = argc < 2;
        for (int a = 1; a < argc; a++)
            wanted |= strcmp(argv[a], cases[i].name) == 0;
        if (!wanted)
            continue;
        int before = test_failures;
        test_name = cases[i].name;
        cases[i].fn();
        printf("%s %s\n", test_failures == before ? "ok  " : "FAIL", cases[i].name);
        ran++;
    }
    printf("%d tests, %d failed checks\n", ran, test_failures);
    return test_failures ? 1 : 0;
}

void test_appendf(char *buf, size_t cap, const char *fmt, ...)
{
    size_t at = strlen(buf);
    if (at + 1 >= cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + at, cap - at, fmt, ap);
    va_end(ap);
}

int test_quiet_port(void)
{
    int lo = 0;
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
    if (!f || fscanf(f, "%d", &lo) != 1 || lo < 12000)
        lo = 32768;
    if (f)
        fclose(f);
    srand((unsigned)time(NULL) ^ (unsigned)getpid());
    for (int i = 0; i < 500; i++) {
        int port = lo - 10000 + rand() % 10000;
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        bool free_port = fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
        if (fd >= 0)
            close(fd);
        if (free_port)
            return port;
    }
    fprintf(stderr, "no free port on 127.0.0.1 below %d\n", lo);
    exit(1);
}
