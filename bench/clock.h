/* SPDX-License-Identifier: Apache-2.0 */
/* Clocks shared by the benchmarks: wall-clock (monotonic) and this process's CPU time (all
 * threads), so every rate comes with the CPU time it cost (the machines are shared). */
#ifndef CCZ_BENCH_CLOCK_H
#define CCZ_BENCH_CLOCK_H
#include <stdbool.h>
#include <time.h>

static inline double bench_wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static inline double bench_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The calling thread's CPU time: in a benchmark whose server runs in other threads of the
 * process, the client's share. */
static inline double bench_thread_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A measured run: operations, wall seconds and CPU seconds (of the process; client: of the
 * measuring thread, where a benchmark records it). */
typedef struct {
    long ops;
    double wall, cpu, client;
} bench_run;

/* Calls op(arg) in batches of `batch` until `seconds` of wall-clock time have passed; ops
 * counts the calls that returned true. */
static inline bench_run bench_repeat(bool (*op)(void *arg), void *arg, int batch, double seconds)
{
    bench_run r = {0};
    double t0 = bench_wall(), c0 = bench_cpu(), t;
    do {
        for (int i = 0; i < batch; i++)
            r.ops += op(arg);
        t = bench_wall();
    } while (t - t0 < seconds);
    r.wall = t - t0;
    r.cpu = bench_cpu() - c0;
    return r;
}

static inline double bench_rate(const bench_run *r)
{
    return r->wall > 0 ? r->ops / r->wall : 0;
}
static inline double bench_cpu_us(const bench_run *r)
{
    return r->ops ? r->cpu * 1e6 / r->ops : 0;
}
static inline double bench_client_us(const bench_run *r)
{
    return r->ops ? r->client * 1e6 / r->ops : 0;
}
#endif
