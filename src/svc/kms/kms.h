/* SPDX-License-Identifier: Apache-2.0 */
/* Private to src/svc/kms: the KMS service's state, shared by its files. */
#ifndef CCZ_SVC_KMS_KMS_H
#define CCZ_SVC_KMS_KMS_H

#include "svc/kms/internal.h"

#ifndef CCZ_GIT_SHA
#define CCZ_GIT_SHA "unknown"
#endif

#define KMS_APP_BUCKETS 4096

typedef struct kms_app {
    struct kms_app *next;
    char appid[KMS_APPID_LEN + 1];
    uint8_t apikey[KMS_APIKEY_LEN];
    struct evp_mac_ctx_st *mac; /* HMAC-SHA256 keyed with the apikey, duplicated per request */
    double tokens;              /* the rate limit's bucket */
    int64_t refill_ms;
} kms_app;

/* A loaded key version, cached (versions never change once written). */
typedef struct kms_cached {
    struct kms_cached *next, *lru_prev, *lru_next;
    char keyid[KMS_KEYID_LEN + 1];
    int64_t version;
    kms_key *key;
} kms_cached;

#define KMS_KEY_BUCKETS 8192

typedef struct kms {
    svc_common *sc;
    store *db;
    uint8_t domain_key[32];
    uint8_t admin_hash[32];
    ccz_seal_policy seal;
    const char *peer;
    ccz_policy *peer_policy;
    kms_replay *replay;
    unsigned rate, burst;
    kms_app *apps[KMS_APP_BUCKETS];
    kms_cached *keys[KMS_KEY_BUCKETS];
    kms_cached *lru_head, *lru_tail; /* head: most recently used */
    size_t n_cached, key_cache_max;
    bool pkcs1_decrypt; /* --pkcs1-decrypt */
    /* keys' metadata cached in memory: only when this process is the store's one writer (a
     * SQLite file it holds the lock of); replicas on PostgreSQL read it every time */
    bool cache_meta;
    void *meta_cache;
    int db_lock_fd;
    unsigned long long requests, served, refused, limited, enrolled;
} kms;

/* One signed request, authenticated: its app and payload (NULL when none was sent). */
typedef struct {
    kms *k;
    http_request *r;
    const char *appid;
    const uint8_t *apikey; /* KMS_APIKEY_LEN bytes */
    const json_t *payload;
} kms_call;

typedef struct kms_field kms_field;

typedef struct {
    const char *name;
    void (*run)(kms_call *c);
    bool needs_payload; /* eHSM's "cryptographic" actions */
    const kms_field *fields;
} kms_action;

/* kms.c */
int64_t kms_now_ms(void);
CCZ_NODISCARD ccz_status kms_uuid(char out[37]);
/* {code, message, result} with HTTP status code; result (may be NULL: {}) is taken. */
void kms_answer(http_request *r, int code, const char *message, json_t *result);
void kms_refuse(kms *k, http_request *r, int code, const char *message);
bool kms_admin_ok(kms *k, http_request *r);
/* Whether app a may make a request at now_ms under k's --rate and --burst (a token taken if so):
 * its bucket refills at rate a second since its last refill, never above burst. */
bool kms_rate_ok(const kms *k, kms_app *a, int64_t now_ms);
CCZ_NODISCARD ccz_status kms_domain_seal(kms *k, const uint8_t key[32]);

/* actions.c */
const kms_action *kms_action_find(const char *name);
/* eHSM's payload checks for the action; false with eHSM's message in problem. */
bool kms_payload_check(const kms_action *a, const json_t *payload, char *problem, size_t cap);
void kms_keys_free(kms *k);

/* client.c: one HTTPS request on its own connection (ctx: RA-TLS or ordinary), connected,
 * sent and answered within timeout_ms (0: 30 s); the body of the answer is appended to answer
 * (its max bounds it). */
CCZ_NODISCARD ccz_status kms_https(int *status, ccz_buf *answer, SSL_CTX *ctx,
                                   const char *host_port, long timeout_ms, const char *method,
                                   const char *target, const char *headers, const void *body,
                                   size_t body_len);
/* Whether the answer so far (a NUL after its bytes) is whole by its Content-Length. */
bool kms_answer_complete(ccz_span in);
/* Splits a whole answer into its status and its body (within in). */
CCZ_NODISCARD ccz_status kms_parse_answer(int *status, ccz_span *body, ccz_span in);

/* domain.c: the domain key between replicas */
void kms_domain_serve(http_request *r, void *payload);
CCZ_NODISCARD ccz_status kms_domain_fetch(kms *k, const char *peer);

#endif
