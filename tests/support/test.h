/* SPDX-License-Identifier: Apache-2.0 */
/* A minimal test harness: each check names the expression, the file and line, and the exact
 * status it expected; a test binary exits non-zero when any check failed. */
#ifndef CCZ_TEST_H
#define CCZ_TEST_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccz/core.h"

/* Atomic: checks also run on the threads a test starts (a server's loop, its handlers), and a
 * plain int's ++ from two threads at once is a data race (a lost update at best). */
extern atomic_int test_failures;
extern atomic_int test_checks; /* checks evaluated so far: a skip is honest only while it is 0 */
extern const char *test_name;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        test_checks++;                                                                             \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: %s: check failed: %s\n", __FILE__, __LINE__, test_name,        \
                    #cond);                                                                        \
            test_failures++;                                                                       \
        }                                                                                          \
    } while (0)

#define CHECK_STATUS(expr, want)                                                                   \
    do {                                                                                           \
        test_checks++;                                                                             \
        ccz_status got_ = (expr);                                                                  \
        if (got_ != (want)) {                                                                      \
            fprintf(stderr, "%s:%d: %s: %s gave %s, expected %s (detail: %s)\n", __FILE__,         \
                    __LINE__, test_name, #expr, ccz_status_name(got_), ccz_status_name(want),      \
                    ccz_error_detail());                                                           \
            test_failures++;                                                                       \
        }                                                                                          \
    } while (0)

#define CHECK_OK(expr) CHECK_STATUS(expr, CCZ_OK)

#define CHECK_INT(a, b)                                                                            \
    do {                                                                                           \
        test_checks++;                                                                             \
        long long a_ = (long long)(a), b_ = (long long)(b);                                        \
        if (a_ != b_) {                                                                            \
            fprintf(stderr, "%s:%d: %s: %s is %lld, expected %lld\n", __FILE__, __LINE__,          \
                    test_name, #a, a_, b_);                                                        \
            test_failures++;                                                                       \
        }                                                                                          \
    } while (0)

#define CHECK_STR(a, b)                                                                            \
    do {                                                                                           \
        test_checks++;                                                                             \
        const char *a_ = (a), *b_ = (b);                                                           \
        if (!a_ || !b_ || strcmp(a_, b_) != 0) {                                                   \
            fprintf(stderr, "%s:%d: %s: %s is \"%s\", expected \"%s\"\n", __FILE__, __LINE__,      \
                    test_name, #a, a_ ? a_ : "(null)", b_ ? b_ : "(null)");                        \
            test_failures++;                                                                       \
        }                                                                                          \
    } while (0)

#define CHECK_CONTAINS(hay, needle)                                                                \
    do {                                                                                           \
        test_checks++;                                                                             \
        const char *h_ = (hay), *n_ = (needle);                                                    \
        if (!h_ || !strstr(h_, n_)) {                                                              \
            fprintf(stderr, "%s:%d: %s: \"%s\" does not contain \"%s\"\n", __FILE__, __LINE__,     \
                    test_name, h_ ? h_ : "(null)", n_);                                            \
            test_failures++;                                                                       \
        }                                                                                          \
    } while (0)

typedef void (*test_fn)(void);
typedef struct {
    const char *name;
    test_fn fn;
} test_case;

/* Runs the listed tests (all, or those named on the command line). */
int test_main(int argc, char **argv, const test_case *cases, size_t n);

#define TEST_MAIN(...)                                                                             \
    int main(int argc, char **argv)                                                                \
    {                                                                                              \
        static const test_case cases[] = {__VA_ARGS__};                                            \
        return test_main(argc, argv, cases, sizeof cases / sizeof cases[0]);                       \
    }
#define T(fn)                                                                                      \
    {                                                                                              \
#fn, fn                                                                                    \
    }

/* Skips the whole binary (exit 77) because something it needs is absent. Honest only before
 * any check ran: afterwards the checks already counted would be discarded, so this counts a
 * failure instead and exits 1. Under CI (CI=true) nothing may be skipped for a missing
 * prerequisite unless allow_in_ci: then it is a failure too. */
_Noreturn void test_skip(bool allow_in_ci, const char *fmt, ...) CCZ_PRINTF(2, 3);

/* 1 in a build with AddressSanitizer (whose quarantine holds freed memory: resident-memory
 * bounds are checked outside it), else 0. */
#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

/* Little-endian stores and loads, for the structures tests build or read byte by byte (quotes,
 * reports, wire formats). */
static inline void put_le16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static inline void put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint32_t get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* A fresh private temporary directory for this test binary (removed at exit). */
const char *test_tmpdir(void);

/* Appends formatted text to the NUL-terminated text in buf (of cap bytes), cut at its end: what
 * a scripted peer or a callback saw, kept for one comparison. */
void test_appendf(char *buf, size_t cap, const char *fmt, ...) CCZ_PRINTF(3, 4);

/* pthread_create, or the binary ends at once (exit 1, the reason said): a peer thread that never
 * started (a machine out of threads) would leave the test's other side waiting for ever. */
void test_thread(pthread_t *t, void *(*fn)(void *), void *arg);

/* A log kept in memory (open_memstream) for a test to read: test_memlog_open gives the stream to
 * log to; test_memlog_close ends it, copies the text to standard error (for a failure's reader)
 * and returns it, the caller's to free. */
typedef struct {
    FILE *f;
    char *text;
    size_t len;
} test_memlog;
FILE *test_memlog_open(test_memlog *m);
char *test_memlog_close(test_memlog *m);

/* A free port on 127.0.0.1 below the kernel's ephemeral range (ip_local_port_range), for a
 * server stopped and started again on the same port: no connect() and no port-0 listener of
 * another test is given it in between. The binary ends (exit 1) when none is found. */
int test_quiet_port(void);

#endif
