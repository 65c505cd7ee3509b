/* SPDX-License-Identifier: Apache-2.0 */
/* An LD_PRELOAD module for the CLI tests: every block a service frees is searched for the
 * strings in CCZ_FREE_SCAN (separated by '|'), and each block that holds one is reported by a
 * line "MARKER-INDEX SIZE" appended to the file CCZ_FREE_SCAN_OUT. A secret the service wipes
 * before it lets go of its memory is never found; one left in freed memory (a plaintext in a
 * JSON string, an answer copied into a network buffer) is. Nothing here allocates (but a
 * trace's first backtrace).
 * CCZ_FREE_SCAN_TRACE=1 also writes where each such block is freed (a backtrace) to stderr. */

#include <fcntl.h>
#include <stdbool.h>
#include <malloc.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <execinfo.h>

void __libc_free(void *p);

#define MAX_MARKERS 8

static struct {
    const char *ptr;
    size_t len;
} markers[MAX_MARKERS];
static atomic_int state; /* 0: not read yet, 1: reading, 2: read */
static int n_markers;
static const char *out_path;

static void read_markers(void)
{
    int expected = 0;
    if (!atomic_compare_exchange_strong(&state, &expected, 1))
        return;
    const char *s = getenv("CCZ_FREE_SCAN");
    out_path = getenv("CCZ_FREE_SCAN_OUT");
    while (s && *s && n_markers < MAX_MARKERS) {
        const char *bar = strchr(s, '|');
        size_t len = bar ? (size_t)(bar - s) : strlen(s);
        if (len) {
            markers[n_markers].ptr = s;
            markers[n_markers].len = len;
            n_markers++;
        }
        s = bar ? bar + 1 : NULL;
    }
    atomic_store(&state, 2);
}

static _Thread_local bool tracing;

static void report(int index, size_t size)
{
    const char *trace = getenv("CCZ_FREE_SCAN_TRACE");
    if (trace && *trace == '1' && !tracing) {
        tracing = true; /* backtrace may allocate (and free) the first time */
        void *frames[24];
        int n = backtrace(frames, 24);
        backtrace_symbols_fd(frames, n, STDERR_FILENO);
        (void)!write(STDERR_FILENO, "--\n", 3);
        tracing = false;
    }
    if (!out_path)
        return;
    char line[64];
    int n = snprintf(line, sizeof line, "%d %zu\n", index, size);
    int fd = open(out_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return;
    if (n > 0)
        (void)!write(fd, line, (size_t)n);
    close(fd);
}

__attribute__((visibility("default"))) void free(void *p)
{
    if (!p)
        return;
    if (atomic_load(&state) != 2)
        read_markers();
    if (atomic_load(&state) == 2) {
        size_t size = malloc_usable_size(p);
        for (int i = 0; i < n_markers; i++)
            if (memmem(p, size, markers[i].ptr, markers[i].len)) {
                report(i, size);
                break;
            }
    }
    __libc_free(p);
}
