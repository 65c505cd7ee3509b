/* SPDX-License-Identifier: Apache-2.0 */
/* What the horizontal-FL update targets (fuzz_fl_update, fuzz_fl_update_stream) share: the
 * invariants of an accepted update, and the model sizes an input is tried at. */
#ifndef CCZ_FUZZ_FL_UPDATE_COMMON_H
#define CCZ_FUZZ_FL_UPDATE_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ccz/hfl.h"

/* Aborts unless an accepted update keeps its invariants: examples in 1..CCZ_HFL_MAX_EXAMPLES,
 * a finite loss and dim finite values. */
void fl_update_accepted(const ccz_hfl_update *u, const float *values, size_t dim);

/* Runs check(data, size, dim) for a model of 15 parameters, then of as many as the input would
 * hold in float32 (size / 4, from 1 to 4096, unless 15), then, when half, in float16 (size / 2,
 * from 1 to 4096). */
void fl_update_try_sizes(const uint8_t *data, size_t size,
                         void (*check)(const uint8_t *data, size_t size, size_t dim), bool half);

#endif
