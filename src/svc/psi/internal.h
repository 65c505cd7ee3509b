/* SPDX-License-Identifier: Apache-2.0 */
/* Private to src/svc/psi: the set table of the TEE PSI service. */
#ifndef CCZ_SVC_PSI_INTERNAL_H
#define CCZ_SVC_PSI_INTERNAL_H

#include <sodium.h>

#include "ccz/core.h"

/* The parties' items, each stored once with the set of parties that uploaded it (a bit per
 * party, so a party's duplicates count once). Items are hashed with a keyed SipHash (a key per
 * session: parties cannot aim collisions) into 256 buckets, each an open-addressing table of
 * 8-byte slots (32 bits of hash, 32 bits of arena offset) that grows on its own, so a resize
 * never holds two copies of the whole index. An entry in the arena is the party mask (8
 * bytes), the length (2 bytes) and the item. */
#define PSI_BUCKETS 256
#define PSI_MAX_PARTIES 64
#define PSI_MAX_ITEM 4096

typedef struct {
    uint64_t *slots;
    uint32_t mask; /* capacity - 1 */
    uint32_t used;
} psi_bucket;

typedef struct {
    psi_bucket b[PSI_BUCKETS];
    uint8_t *arena;
    size_t len, cap;
    uint64_t entries;
    size_t slot_bytes; /* of every bucket */
    size_t limit;      /* the bytes it may reserve (arena and slots), 0: no bound */
    bool over;         /* an insertion was refused: it would have reserved past limit */
    uint8_t key[crypto_shorthash_KEYBYTES];
} psi_table;

ccz_status psi_table_init(psi_table *t);
void psi_table_free(psi_table *t);
/* Bytes the table holds (arena and slots), for the memory bound. */
size_t psi_table_bytes(const psi_table *t);
/* Records item (at most PSI_MAX_ITEM bytes) for party (0..63). */
ccz_status psi_table_add(psi_table *t, unsigned party, const uint8_t *item, size_t len);
/* The same in two steps, for a batch: the item's keyed hash, a hint to bring its slots into
 * the cache, then the insertion (h from psi_table_hash of the same bytes). Hashing a batch,
 * then inserting item i while prefetching item i + 16, hides most of the memory latency. */
uint64_t psi_table_hash(const psi_table *t, const uint8_t *item, size_t len);
void psi_table_prefetch(const psi_table *t, uint64_t h);
ccz_status psi_table_add_hashed(psi_table *t, unsigned party, uint64_t h, const uint8_t *item,
                                size_t len);

/* The items every party uploaded, sorted bytewise (shorter first on a common prefix, as
 * memcmp-then-length orders them), each as a 2-byte big-endian length and the bytes. */
typedef struct {
    ccz_buf data;
    size_t n;
} psi_result;

ccz_status psi_table_intersect(psi_result *out, const psi_table *t, uint64_t all);
/* The next item of a result from *off, or false at the end. */
bool psi_result_next(const psi_result *r, size_t *off, ccz_span *item);

/* Whether an item is UTF-8 (proto3 strings must be; CCZoo's clients parse them so). */
bool psi_utf8_ok(const uint8_t *p, size_t n);

#endif
