/* SPDX-License-Identifier: Apache-2.0 */
/* Private to src/tee/eventlog: the parsed log and the helpers its JSON rendering shares. */
#ifndef CCZ_TEE_EVENTLOG_INTERNAL_H
#define CCZ_TEE_EVENTLOG_INTERNAL_H

#include <jansson.h>
#include <openssl/evp.h>

#include "ccz/eventlog.h"

struct ccz_eventlog {
    ccz_buf bytes; /* a copy of the input: the events' spans point into it */
    size_t n_algs;
    uint16_t algs[CCZ_EVLOG_MAX_ALGS];  /* as the Spec ID event lists them */
    uint16_t sizes[CCZ_EVLOG_MAX_ALGS]; /* their digest sizes */
    size_t used;                        /* the bytes up to the end of the last record */
    size_t n_events, cap;
    ccz_event *events;
};

/* OpenSSL's digest for a TCG algorithm id, NULL for an unknown one. */
const EVP_MD *evlog_md(uint16_t alg);
/* "SHA-384", "SM3": the names trustee's JSON gives algorithms. */
const char *evlog_alg_trustee_name(uint16_t alg);
/* The "details" object trustee's parser makes of an event's data (evlog_details.c): a new
 * object, empty where trustee has nothing to say or would fail; NULL when an allocation
 * failed. */
json_t *evlog_details_json(uint32_t type, ccz_span data);
/* How many registers the log names as ccz_eventlog_indices counts them (1 to 4 and every
 * event's index), however many: sorted, not compared pairwise, as a hostile log may name one
 * per event. SIZE_MAX: out of memory. */
size_t evlog_count_indices(const ccz_eventlog *l);

#endif
