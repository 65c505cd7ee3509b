/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the encrypted query's database (CSV lines, src/hequery/db.c). What parses holds
 * only what the encrypted lookup can answer right: keys of 1 to 8 bytes without NUL, unique,
 * values of at most CCZ_HEQ_MAX_VALUE bytes without NUL, and the plaintext lookup of every key
 * finds its own value. */
#include <stdlib.h>
#include <string.h>

#include "ccz/ccz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ccz_heq_db *db;
    if (ccz_heq_db_parse(&db, CCZ_SPAN(data, size)) != CCZ_OK)
        return 0;
    size_t n = ccz_heq_db_size(db);
    if (n == 0 || n > CCZ_HEQ_MAX_ENTRIES)
        abort();
    for (size_t i = 0; i < n; i++) {
        ccz_span k, v, found;
        ccz_heq_db_entry(&k, &v, db, i);
        if (k.len < 1 || k.len > CCZ_HEQ_KEY_BYTES || v.len > CCZ_HEQ_MAX_VALUE ||
            memchr(k.ptr, 0, k.len) || (v.len && memchr(v.ptr, 0, v.len)))
            abort();
        if (!ccz_heq_db_find(&found, db, k) || found.ptr != v.ptr || found.len != v.len)
            abort(); /* unique keys: the first match is this entry */
    }
    ccz_heq_db_free(db);
    return 0;
}
