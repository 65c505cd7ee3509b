/* SPDX-License-Identifier: Apache-2.0 */
/* Private to libccz: the CPU features behind the vector paths (the lattice NTT and kernels, the
 * Paillier IFMA engine), probed once for the whole process. CCZ_CPU=portable in the environment
 * reports none, so every caller takes its portable path; CCZ_CPU=avx512 reports the CPU's
 * features but IFMA, the paths of AVX-512 CPUs without it (Skylake-SP, Cascade Lake); absent or
 * any other value: the CPU decides. */
#ifndef CCZ_CORE_CPU_H
#define CCZ_CORE_CPU_H

#include <stdbool.h>

#define CPU_AVX512F 1u
#define CPU_AVX512DQ 2u
#define CPU_AVX512IFMA 4u

/* The features found (a mask of CPU_*; 0 under CCZ_CPU=portable). The first call probes the CPU
 * and reads CCZ_CPU; every later one, from any thread, returns the same. */
unsigned cpu_features(void);
/* Whether every feature of the mask is there. */
bool cpu_has(unsigned mask);

#endif
