/* SPDX-License-Identifier: Apache-2.0 */
/* An RNG that fails: between rng_fail_start and rng_fail_stop every RAND_bytes and
 * RAND_priv_bytes of the process returns 0, so a test sees what a server does when its own
 * randomness fails (its fault, never the client's). An RNG that holds: after
 * rng_hold_start(n) the first draw of each of the next n threads to draw, whichever they are,
 * waits until rng_hold_release (one release a thread), then draws as usual (their later draws
 * do not wait), so a test can hold a server's workers inside their jobs. */
#ifndef CCZ_TEST_RNG_FAIL_H
#define CCZ_TEST_RNG_FAIL_H

#include <stdbool.h>

void rng_fail_start(void);
void rng_fail_stop(void);

void rng_hold_start(int threads);
/* Waits until one more thread is held: false when none is within timeout_ms. */
bool rng_hold_wait(int timeout_ms);
/* Lets one held thread go on (or the next to be held, when none is yet: it then does not wait). */
void rng_hold_release(void);
/* OpenSSL's RNG again; once every held thread has been let go and is past its draw. */
void rng_hold_stop(void);

#endif
