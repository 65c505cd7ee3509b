/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: measured-boot event logs, in every form ccz_eventlog_load takes (binary, base64,
 * JSON), with the JSON rendering of every event and the replay of every register; and the input
 * as the data of one event of each type in a well-formed log, so every details parser (device
 * paths, EFI variables, tagged events, AAEL) sees arbitrary bytes. The replay from the bytes
 * (ccz_eventlog_replay_bytes) must agree with parse and replay: same status, same registers. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ccz/ccz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void exercise(const ccz_eventlog *l)
{
    uint32_t idx[64];
    size_t n = ccz_eventlog_indices(idx, 64, l);
    for (size_t i = 0; i < n; i++) {
        uint8_t r[64];
        if (ccz_eventlog_replay(r, sizeof r, l, idx[i], ccz_eventlog_default_alg(l)) != CCZ_OK)
            abort(); /* the default algorithm is always listed */
    }
    json_t *j = ccz_eventlog_to_json(l, 0);
    if (!j)
        abort();
    char *s = json_dumps(j, JSON_COMPACT);
    free(s);
    json_decref(j);
}

/* A log with a Spec ID event (SHA-384) and one event of `type` whose data is the input. */
static void one_event(uint32_t type, const uint8_t *data, size_t size)
{
    ccz_buf b = CCZ_BUF_INIT;
    static const uint8_t zero[48];
    bool ok = !ccz_buf_append_u32le(&b, 0) && !ccz_buf_append_u32le(&b, 3) &&
              !ccz_buf_append(&b, zero, 20) && !ccz_buf_append_u32le(&b, 33) &&
              !ccz_buf_append(&b, zero, 24) && !ccz_buf_append_u32le(&b, 1) &&
              !ccz_buf_append_u16le(&b, CCZ_EVLOG_SHA384) && !ccz_buf_append_u16le(&b, 48) &&
              !ccz_buf_append_u8(&b, 0) && !ccz_buf_append_u32le(&b, 1) &&
              !ccz_buf_append_u32le(&b, type) && !ccz_buf_append_u32le(&b, 1) &&
              !ccz_buf_append_u16le(&b, CCZ_EVLOG_SHA384) && !ccz_buf_append(&b, zero, 48) &&
              !ccz_buf_append_u32le(&b, (uint32_t)size) && !ccz_buf_append(&b, data, size);
    ccz_eventlog *l = NULL;
    if (!ok || ccz_eventlog_parse(&l, ccz_buf_span(&b)) != CCZ_OK || ccz_eventlog_count(l) != 1)
        abort();
    exercise(l);
    ccz_eventlog_free(l);
    ccz_buf_free(&b);
}

/* The binary input replayed from its bytes and parsed: the same verdict and registers. */
static void same_replay(const uint8_t *data, size_t size)
{
    ccz_eventlog *l = NULL;
    ccz_status parsed = ccz_eventlog_parse(&l, CCZ_SPAN(data, size));
    uint16_t alg = parsed == CCZ_OK ? ccz_eventlog_default_alg(l) : CCZ_EVLOG_SHA384;
    static const uint32_t idx[] = {1, 2, 3, 4, 0};
    uint8_t streamed[5 * 64], kept[5 * 64]; /* five registers of n bytes each */
    size_t used = 0, n = ccz_eventlog_alg_size(alg);
    ccz_status s = ccz_eventlog_replay_bytes(streamed, sizeof streamed, &used, CCZ_SPAN(data, size),
                                             idx, 5, alg);
    if (parsed == CCZ_OK) {
        if (s != CCZ_OK || used != ccz_eventlog_size(l) ||
            ccz_eventlog_replay_many(kept, sizeof kept, l, idx, 5, alg) != CCZ_OK)
            abort();
        for (size_t i = 0; i < 5; i++)
            if (memcmp(streamed + i * n, kept + i * n, n) != 0)
                abort();
    } else if (s != parsed && s != CCZ_ERR_UNSUPPORTED) {
        abort(); /* UNSUPPORTED: a log that parses but lists no SHA-384 cannot be here */
    }
    ccz_eventlog_free(l);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ccz_eventlog *l = NULL;
    if (ccz_eventlog_load(&l, CCZ_SPAN(data, size)) == CCZ_OK) {
        exercise(l);
        ccz_eventlog_free(l);
    }
    same_replay(data, size);
    static const uint32_t types[] = {0x1,        0x5,        0x6,        0xa,        0xd,
                                     0x80000002, 0x80000003, 0x80000007, 0x8000000a, 0x8000000b};
    if (size > 0 && size < 1 << 16) /* the first byte picks the type */
        one_event(types[data[0] % (sizeof types / sizeof types[0])], data + 1, size - 1);
    return 0;
}
