/* SPDX-License-Identifier: Apache-2.0 */
/* Private: the aggregator's side of secure aggregation (Bonawitz et al., CCS 2017) for
 * hfl_service.c, one round at a time, and the client's side for hfl_client.c. The aggregator
 * sees the participants' keys, the encrypted shares they send each other and their masked
 * updates; it learns the weighted sum of the survivors' models and nothing of one alone. */
#ifndef CCZ_SVC_FL_HFL_SECAGG_H
#define CCZ_SVC_FL_HFL_SECAGG_H

#include "ccz/hfl.h"
#include "ccz/secagg.h"
#include "fl.pb-c.h"

typedef struct hfl_sa hfl_sa;
typedef enum { HFL_SA_WAIT = 0, HFL_SA_DONE = 1, HFL_SA_FAILED = 2 } hfl_sa_event;

/* Observes each accepted masked update (tests, audits). */
typedef void (*hfl_sa_observer)(const char *name, const uint8_t *words_le, size_t dim,
                                void *payload);

CCZ_NODISCARD ccz_status hfl_sa_new(hfl_sa **out, size_t dim, FILE *log);
void hfl_sa_free(hfl_sa *a);
/* A round opens for n participants known by their slots (the service's client indexes), with
 * their examples (the weights of the mean) and names (borrowed until the round ends). Calls held
 * from an earlier round are answered ABORTED. */
CCZ_NODISCARD ccz_status hfl_sa_open(hfl_sa *a, unsigned round, const unsigned *slots,
                                     const uint64_t *examples, const char *const *names,
                                     unsigned n);
/* The four calls of a participant (slot). Each answers or holds call; the event says whether the
 * round can close (DONE: hfl_sa_mean) or failed (hfl_sa_why). */
hfl_sa_event hfl_sa_advertise(hfl_sa *a, ccz_rpc_call *call, unsigned slot,
                              const Cczfl__RoundKeys *r);
hfl_sa_event hfl_sa_share(hfl_sa *a, ccz_rpc_call *call, unsigned slot, const Cczfl__KeyShares *r);
hfl_sa_event hfl_sa_push(hfl_sa *a, ccz_rpc_call *call, unsigned slot, const Cczfl__MaskedUpdate *r,
                         hfl_sa_observer obs, void *payload);
hfl_sa_event hfl_sa_unmask(hfl_sa *a, ccz_rpc_call *call, unsigned slot,
                           const Cczfl__UnmaskShares *r);
/* Closes a phase whose deadline (timeout_ms from its start) passed. */
hfl_sa_event hfl_sa_tick(hfl_sa *a, unsigned timeout_ms);
/* After DONE: the weighted mean of the survivors' models (dim floats). */
const float *hfl_sa_mean(const hfl_sa *a);
/* After DONE: whether slot's masked update is in the mean, and its loss. */
bool hfl_sa_survived(const hfl_sa *a, unsigned slot, double *loss);
const char *hfl_sa_why(const hfl_sa *a);
/* Ends the round: held calls are answered ABORTED with why. */
void hfl_sa_close(hfl_sa *a, const char *why);

/* The fixed point of masked updates: values times 2^22 in Z_2^32 (|weight x value| < 512). */
#define HFL_SA_SCALE 4194304.0f
/* The magnitude a client's values stay below (2^31 / HFL_SA_SCALE), whatever its weight: the
 * survivors' weighted mean of them then fits as well. */
#define HFL_SA_LIMIT 512.0f

/* A share as ShareKeys sends it: round, from and to (32-bit little endian), the share of the
 * mask key and that of the self-mask seed, sealed with AES-256-GCM under key (the pair's,
 * ccz_secagg_pair_key) with the nonce from || to || round and no AAD. */
#define HFL_SA_SHARE_PT (12 + 32 + 32)
#define HFL_SA_SHARE_CT (HFL_SA_SHARE_PT + CCZ_SECAGG_TAG)
CCZ_NODISCARD ccz_status hfl_sa_seal_share(uint8_t out[HFL_SA_SHARE_CT], const uint8_t key[32],
                                           unsigned round, unsigned from, unsigned to,
                                           const uint8_t s_share[32], const uint8_t b_share[32]);
/* A masked update's dim words (little endian, into out): w (each value below HFL_SA_LIMIT in
 * magnitude, CCZ_ERR_OVERFLOW otherwise) times weight (in float32) in fixed point, plus the
 * pairwise masks of client me with the present of the n clients whose mask public keys are s_pks
 * (ccz_secagg_mask), plus the self mask of seed b. */
CCZ_NODISCARD ccz_status hfl_sa_masked(uint8_t *out, const float *w, size_t dim, double weight,
                                       unsigned me, const uint8_t s_sk[32],
                                       const uint8_t (*s_pks)[32], const bool *present, unsigned n,
                                       const uint8_t b[32]);

/* The fuzz target (fuzz/fuzz_fl_secagg.c): data[0] % 3 picks a KeyList, SharesForYou or
 * UnmaskPlan from the aggregator, the rest is its bytes, checked by the client's parsers for
 * round 7 (client 0 of three for the last two); non-zero when an accepted one breaks an
 * invariant. */
int hfl_sa_client_fuzz(const uint8_t *data, size_t size);

#endif
