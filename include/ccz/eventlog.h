/* SPDX-License-Identifier: Apache-2.0 */
/* ccz eventlog: measured-boot event logs in the TCG2 crypto-agile format (TCG PC Client PFP
 * §10): the CC event log (CCEL) of TDX guests, the SM3 log of Hygon CSV guests, and any log of
 * TCG_PCR_EVENT2 records after a Spec ID event. Every event is parsed, its data decoded as
 * trustee's eventlog crate does (the same JSON), and the log replayed into the registers it
 * extends. Logs are untrusted input, read through the core cursor. Part of the tee module:
 * ccz_verify replays a log given in ccz_verify_opts into the evidence's runtime registers. */
#ifndef CCZ_EVENTLOG_H
#define CCZ_EVENTLOG_H

#include "ccz/core.h"
#include "ccz/tee.h"

#ifdef __cplusplus
extern "C" {
#endif

/* TCG algorithm identifiers (TPM_ALG_ID) of the digests a log may carry. */
#define CCZ_EVLOG_SHA1 0x0004
#define CCZ_EVLOG_SHA256 0x000B
#define CCZ_EVLOG_SHA384 0x000C
#define CCZ_EVLOG_SHA512 0x000D
#define CCZ_EVLOG_SM3 0x0012

/* The largest log parsed (an ACPI CCEL area is usually 64 KiB to 1 MiB, padded with 0xFF). */
#define CCZ_EVLOG_MAX_BYTES (16u << 20)
/* Most digests of one event, and most algorithms a Spec ID event may list. */
#define CCZ_EVLOG_MAX_ALGS 8

/* ccz_eventlog is declared in ccz/tee.h (verified claims refer to one). */

/* One digest of an event, borrowed from the log. */
typedef struct {
    uint16_t alg;
    const uint8_t *digest; /* ccz_eventlog_alg_size(alg) bytes */
} ccz_event_digest;

/* One TCG_PCR_EVENT2 record; spans borrow from the log object. */
typedef struct {
    uint32_t index; /* the measurement register's index as the log numbers it (CC MR index) */
    uint32_t type;  /* EV_* */
    size_t n_digests;
    ccz_event_digest digests[CCZ_EVLOG_MAX_ALGS];
    ccz_span data; /* the event data */
} ccz_event;

/* Parses a log: the first record must be a Spec ID event (TCG_PCClientPCREvent, EV_NO_ACTION)
 * listing the digest algorithms (SHA-1, SHA-256, SHA-384, SHA-512, SM3), then TCG_PCR_EVENT2
 * records up to the end of the input or 8 bytes of 0xFF or 0x00 (the unused rest of a CCEL
 * area). The log is copied: the input can go. Errors: CCZ_ERR_TRUNCATED, CCZ_ERR_MALFORMED (no
 * Spec ID event, a digest of an algorithm it does not list), CCZ_ERR_UNSUPPORTED (an unknown
 * algorithm), CCZ_ERR_TOO_LARGE. *out is the caller's (ccz_eventlog_free). */
CCZ_API CCZ_NODISCARD ccz_status ccz_eventlog_parse(ccz_eventlog **out, ccz_span log);
/* Parses a log given in any of the forms it travels in: the binary log, its base64 text
 * (whitespace allowed), or a JSON object carrying that text as "cc_eventlog" (trustee's TDX and
 * CSV evidence). CCZ_ERR_NOT_FOUND for a JSON object without a log. */
CCZ_API CCZ_NODISCARD ccz_status ccz_eventlog_load(ccz_eventlog **out, ccz_span in);
CCZ_API void ccz_eventlog_free(ccz_eventlog *l);

CCZ_API size_t ccz_eventlog_count(const ccz_eventlog *l);
/* The bytes the records take: from the Spec ID event to the end of the last event (the rest of
 * a CCEL area is padding). */
CCZ_API size_t ccz_eventlog_size(const ccz_eventlog *l);
/* Event i (0-based; the Spec ID event is not one), or NULL past the end. */
CCZ_API const ccz_event *ccz_eventlog_event(const ccz_eventlog *l, size_t i);
/* Whether the Spec ID event lists alg. */
CCZ_API bool ccz_eventlog_has_alg(const ccz_eventlog *l, uint16_t alg);
/* The algorithm the platform extends its registers with: SM3 when the log lists it (Hygon
 * CSV), else SHA-384 (TDX), else SHA-256, else the first listed. */
CCZ_API uint16_t ccz_eventlog_default_alg(const ccz_eventlog *l);

/* "sha1", "sha256", "sha384", "sha512", "sm3" (NULL for others), and back. */
CCZ_API const char *ccz_eventlog_alg_name(uint16_t alg);
CCZ_API CCZ_NODISCARD ccz_status ccz_eventlog_alg_parse(uint16_t *out, const char *name);
/* The digest size of alg, 0 for an unknown one. */
CCZ_API size_t ccz_eventlog_alg_size(uint16_t alg);
/* "EV_NO_ACTION", "EV_EFI_BOOT_SERVICES_APPLICATION", ... as trustee names them; NULL for a type
 * it does not know. */
CCZ_API const char *ccz_event_type_name(uint32_t type);

/* Replays register `index` with alg: starting from zeros, R = H(R || digest) for the digest of
 * alg of every event of that index, in log order (EV_NO_ACTION events too, as trustee does).
 * out receives ccz_eventlog_alg_size(alg) bytes (out_len must be at least that). An index no
 * event extends replays to zeros. CCZ_ERR_UNSUPPORTED for an algorithm the log does not list. */
CCZ_API CCZ_NODISCARD ccz_status ccz_eventlog_replay(uint8_t *out, size_t out_len,
                                                     const ccz_eventlog *l, uint32_t index,
                                                     uint16_t alg);

/* Most registers one call of ccz_eventlog_replay_many or ccz_eventlog_replay_bytes replays. */
#define CCZ_EVLOG_MAX_REPLAY 32

/* Replays the n registers `indices` names (at most CCZ_EVLOG_MAX_REPLAY) in one pass over the
 * log, as ccz_eventlog_replay each: out receives n * ccz_eventlog_alg_size(alg) bytes, register
 * indices[i] at i * that size (out_len must be at least that). Errors as ccz_eventlog_replay's,
 * and CCZ_ERR_INVALID_ARGUMENT for too many registers. */
CCZ_API CCZ_NODISCARD ccz_status ccz_eventlog_replay_many(uint8_t *out, size_t out_len,
                                                          const ccz_eventlog *l,
                                                          const uint32_t *indices, size_t n,
                                                          uint16_t alg);
/* The same from the log's bytes, without keeping them or its events: every record is read and
 * checked as ccz_eventlog_parse does (same errors) and extended as it is read, with no copy and
 * no allocation but OpenSSL's one digest context. *used (when not NULL) receives the bytes the
 * records took, as ccz_eventlog_size. For a verifier that needs the registers, not the events. */
CCZ_API CCZ_NODISCARD ccz_status ccz_eventlog_replay_bytes(uint8_t *out, size_t out_len,
                                                           size_t *used, ccz_span log,
                                                           const uint32_t *indices, size_t n,
                                                           uint16_t alg);

/* The registers a log is shown with: the platform's CC MR indices 1 to 4 (TDX RTMR0-3, CSV
 * RTMR1-4) and any other index an event names, ascending. Returns how many were written (at
 * most cap) to out. */
CCZ_API size_t ccz_eventlog_indices(uint32_t *out, size_t cap, const ccz_eventlog *l);

/* The events as trustee's eventlog crate serialises them ("uefi_event_logs"): an array of
 * {"details", "digest_matches_event", "digests": [{"alg", "digest"}], "event" (base64), "index",
 * "type_name"}. A new jansson array (ccz_json_free), or NULL when out of memory. Event data that
 * trustee's parser would reject (bad UTF-8 or UTF-16, lengths beyond the data) gets empty
 * details instead of failing the whole log. */
CCZ_API ccz_json *ccz_eventlog_events_json(const ccz_eventlog *l);
/* {"algorithm": "sha384", "events": [...], "registers": {"1": hex, ...}} replayed with alg
 * (0: ccz_eventlog_default_alg). At most 64 registers are shown (ccz_eventlog_indices); a log
 * that names more also has "registers_omitted": how many were not. NULL when out of memory or
 * alg is not listed. */
CCZ_API ccz_json *ccz_eventlog_to_json(const ccz_eventlog *l, uint16_t alg);

#ifdef __cplusplus
}
#endif
#endif
