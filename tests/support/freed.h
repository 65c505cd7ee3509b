/* SPDX-License-Identifier: Apache-2.0 */
/* Secrets in freed memory, searched in-process: a test linked with freed.c defines free itself
 * (glibc's __libc_free underneath) and keeps a copy of every block freed between freed_start
 * and freed_stop. Under AddressSanitizer or ThreadSanitizer, whose runtimes own malloc and free
 * (a block of theirs given to glibc's __libc_free crashes), FREED_SUPPORTED is 0 and the test
 * skips. */
#ifndef CCZ_TEST_FREED_H
#define CCZ_TEST_FREED_H

#include <stddef.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define FREED_SUPPORTED 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define FREED_SUPPORTED 0
#endif
#endif
#ifndef FREED_SUPPORTED
#define FREED_SUPPORTED 1
#endif

enum { FREED_MAX = 256 };

/* Drops the copies kept so far and keeps every block freed from now on. */
void freed_start(void);
/* Keeps no more; returns how many blocks were kept (FREED_MAX: more were freed than kept). */
size_t freed_stop(void);
/* How many of the blocks kept hold needle (len bytes). */
size_t freed_find(const void *needle, size_t len);

#endif
