/* SPDX-License-Identifier: Apache-2.0 */
/* Private to src/hequery and src/svc/hequery: the database's layout, the nibble encoding, the
 * server's prepared state. */
#ifndef CCZ_HEQUERY_INTERNAL_H
#define CCZ_HEQUERY_INTERNAL_H

#include "ccz/hequery.h"

typedef struct {
    uint8_t key[CCZ_HEQ_KEY_BYTES]; /* zero-padded */
    size_t key_len;                 /* 1..8 */
    size_t value_off, value_len;    /* into the db's text */
} heq_entry;

struct ccz_heq_db {
    ccz_buf text; /* the file's bytes */
    heq_entry *e;
    size_t n;
    size_t max_value; /* the longest value */
};

/* Nibble i (0..15) of a zero-padded 8-byte key: the high nibble of byte i / 2 first. */
static inline unsigned heq_nibble(const uint8_t key[CCZ_HEQ_KEY_BYTES], unsigned i)
{
    uint8_t b = key[i / 2];
    return i % 2 ? b & 15u : b >> 4;
}

/* Monotonic seconds. */
double heq_now(void);

#endif
