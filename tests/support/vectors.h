/* Access to the recorded real evidence in ../shared/vectors (or $CCZ_VECTORS), read in place.
 * Tests that need it call vectors_dir() and exit with 77 (skipped) when it is absent. */
#ifndef CCZ_TEST_VECTORS_H
#define CCZ_TEST_VECTORS_H

#include "ccz/core.h"

/* The vectors directory, or NULL (after printing why) when it is absent. */
const char *vectors_dir(void);
/* Exits with 77 (CTest: skipped) when the vectors are absent. */
void vectors_require(void);
/* Reads a file under the vectors directory; hex text is decoded when hex is true. */
ccz_status vectors_read(ccz_buf *out, const char *rel, bool hex);

#endif
