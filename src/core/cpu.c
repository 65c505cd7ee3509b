/* SPDX-License-Identifier: Apache-2.0 */
/* The CPU-feature probe shared by the vector paths: once per process (pthread_once), so threads
 * that reach a kernel at the same time see the same answer; CCZ_CPU=portable turns every
 * feature off, CCZ_CPU=avx512 only IFMA. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cpu.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static unsigned features;

static void probe(void)
{
    const char *env = getenv("CCZ_CPU");
    if (env && strcmp(env, "portable") == 0)
        return;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    unsigned f = 0;
    if (__builtin_cpu_supports("avx512f"))
        f |= CPU_AVX512F;
    if (__builtin_cpu_supports("avx512dq"))
        f |= CPU_AVX512DQ;
    if (__builtin_cpu_supports("avx512ifma") && !(env && strcmp(env, "avx512") == 0))
        f |= CPU_AVX512IFMA;
    features = f;
#endif
}

unsigned cpu_features(void)
{
    pthread_once(&once, probe);
    return features;
}

bool cpu_has(unsigned mask)
{
    return (cpu_features() & mask) == mask;
}
