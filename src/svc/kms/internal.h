/* SPDX-License-Identifier: Apache-2.0 */
/* Private to src/svc/kms: the KMS service's state and the parts its files share. */
#ifndef CCZ_SVC_KMS_INTERNAL_H
#define CCZ_SVC_KMS_INTERNAL_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "ccz/ccz.h"
#include "http/http.h"
#include "store/store.h"
#include "svc/kms/crypto.h"
#include "svc/svc.h"

#define KMS_SIGN_LEN 44      /* base64 of an HMAC-SHA256 */
#define KMS_APPID_LEN 36     /* a UUID */
#define KMS_APIKEY_LEN 32    /* eHSM's alphabet */
#define KMS_KEYID_LEN 36     /* a UUID */
#define KMS_WINDOW_MS 600000 /* a request's timestamp is within 10 minutes of now */

/* ---- canon.c ---------------------------------------------------------------------------------*/

/* The canonical string of a JSON object (see canon.c). */
CCZ_NODISCARD ccz_status kms_canonical(ccz_buf *out, const json_t *obj);
/* canonical({appid, nonce, timestamp, payload}) (NULL fields are left out): what a request's
 * sign covers. */
CCZ_NODISCARD ccz_status kms_request_canonical(ccz_buf *out, const char *appid, const char *nonce,
                                               const char *timestamp, const json_t *payload);
/* base64(HMAC-SHA256(apikey, kms_request_canonical(...))): a request's sign. */
CCZ_NODISCARD ccz_status kms_request_sign(char out[KMS_SIGN_LEN + 1], ccz_span apikey,
                                          const char *appid, const char *nonce,
                                          const char *timestamp, const json_t *payload);
CCZ_NODISCARD ccz_status kms_hmac_sha256(uint8_t out[32], ccz_span key, ccz_span msg);
/* Standard base64 with padding of in, NUL-terminated, into a buffer of cap bytes. */
CCZ_NODISCARD ccz_status kms_b64_fixed(char *out, size_t cap, ccz_span in);

/* ---- the replay window (replay.c) -----------------------------------------------------------
 * (appid, nonce, timestamp) triples seen with a good signature, each kept until its timestamp
 * leaves the window; a bounded table (max entries), so a flood cannot grow it without end. */
typedef struct kms_replay kms_replay;
/* Whether a window of max requests may be made (1 to 2^26): checked before the KMS opens its
 * store, the window itself made after the checks that refuse to start (its pages touched). */
CCZ_NODISCARD ccz_status kms_replay_max_ok(size_t max);
CCZ_NODISCARD ccz_status kms_replay_new(kms_replay **out, size_t max);
void kms_replay_free(kms_replay *r);
/* CCZ_OK and remembers it when new; CCZ_ERR_EXISTS when seen; CCZ_ERR_UNAVAILABLE when the
 * table is full of live entries. */
CCZ_NODISCARD ccz_status kms_replay_check(kms_replay *r, const char *appid, const char *nonce,
                                          const char *timestamp, int64_t now_ms);
size_t kms_replay_size(const kms_replay *r);

#endif
