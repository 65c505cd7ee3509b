/* SPDX-License-Identifier: Apache-2.0 */
/* Access to the recorded real evidence in ../shared/vectors (or $CCZ_VECTORS), read in place.
 * Tests that need it live in their own binaries (test_*_vectors.c) and call vectors_require()
 * before any check: absent vectors are then a skip (exit 77), or a failure under CI=true or once
 * a check has run (see test_skip). */
#ifndef CCZ_TEST_VECTORS_H
#define CCZ_TEST_VECTORS_H

#include "ccz/core.h"

/* The vectors directory, or NULL (after printing why) when it is absent. */
const char *vectors_dir(void);
/* Returns when the vectors are present; otherwise test_skip(): exit 77 if no check ran yet and
 * CI is not set, exit 1 (a failure) otherwise. */
void vectors_require(void);
/* Reads a file under the vectors directory; hex text is decoded when hex is true. */
ccz_status vectors_read(ccz_buf *out, const char *rel, bool hex);

/* The shared sample data sets, read in place: $CCZ_DATA, else "data" beside the vectors
 * directory ($CCZ_VECTORS, else ../shared/vectors from the source tree), as the CLI tests find
 * them; NULL (after printing why) when absent. */
const char *shared_data_dir(void);
/* A file under the shared data directory (path written to out), or a skip as vectors_require
 * does when the data set is absent. */
void shared_data_require(char *out, size_t cap, const char *rel);

#endif
