/* SPDX-License-Identifier: Apache-2.0 */
/* An LD_PRELOAD module for the CLI tests: CLOCK_REALTIME reads CCZ_FAKE_REALTIME_MS (Unix
 * milliseconds) when that is set, so a service's idea of "now" is known to the millisecond and
 * a window's edges can be hit exactly. Every other clock is the kernel's. */
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

__attribute__((visibility("default"))) int clock_gettime(clockid_t clk, struct timespec *ts);

__attribute__((visibility("default"))) int clock_gettime(clockid_t clk, struct timespec *ts)
{
    const char *fixed = getenv("CCZ_FAKE_REALTIME_MS");
    if (clk == CLOCK_REALTIME && fixed && *fixed) {
        long long ms = strtoll(fixed, NULL, 10);
        ts->tv_sec = (time_t)(ms / 1000);
        ts->tv_nsec = (long)(ms % 1000) * 1000000;
        return 0;
    }
    return (int)syscall(SYS_clock_gettime, clk, ts);
}
