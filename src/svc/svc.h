/* SPDX-License-Identifier: Apache-2.0 */
/* The service layer's shared parts (internal; prefix svc_): the option registry behind
 * ccz_svc_config, the data directory, the listener's TLS context, trust and policy, and the
 * registry of services. A service is a table of options and a start function that registers
 * its routes on the HTTP server; see docs/internals/services.md. */
#ifndef CCZ_SRC_SVC_H
#define CCZ_SRC_SVC_H

#include <jansson.h>
#include <openssl/ssl.h>

#include "ccz/ccz.h"
#include "ccz/svc.h"
#include "http/http.h"

struct ccz_svc_config {
    const struct svc_def *def;
    json_t *values;     /* name -> value, after defaults and the file */
    json_t *from_flags; /* options a flag has set (a list: replaced the file's already) */
};

typedef struct svc_common svc_common;

typedef struct svc_def {
    const char *name;
    const ccz_svc_option *opts; /* the service's own options (the common ones are added) */
    size_t n_opts;
    /* registers routes on the server; *state is freed by stop after the loop ended */
    ccz_status (*start)(void **state, svc_common *common, const ccz_svc_config *c);
    void (*stop)(void *state);
} svc_def;

/* What every service has: its configuration, data directory, listener, trust and policy. */
struct svc_common {
    const ccz_svc_config *config;
    char data_dir[4096];
    http_server *http;
    SSL_CTX *tls;
    ccz_trust *trust;
    ccz_policy *policy;         /* the appraisal policy (--policy, else the default) */
    json_t *policy_doc;         /* the policy file's JSON, with sections services read (secrets) */
    ccz_attester *attester;     /* the service's own TEE, when --tee is set */
    ccz_collateral *collateral; /* cached collateral for quotes (--collateral) */
};

/* Typed reads of the effective configuration (the option must exist in the table). */
const char *svc_str(const ccz_svc_config *c, const char *name);
unsigned svc_uint(const ccz_svc_config *c, const char *name);
bool svc_bool(const ccz_svc_config *c, const char *name);
size_t svc_list_len(const ccz_svc_config *c, const char *name);
const char *svc_list_at(const ccz_svc_config *c, const char *name, size_t i);
/* ccz_svc_config_load_file on a document already read (path names it in errors); a document
 * refused changes nothing. */
ccz_status svc_config_load_text(ccz_svc_config *c, const char *path, const char *text, size_t len);

/* A file inside the data directory. */
CCZ_NODISCARD ccz_status svc_path(char *out, size_t cap, const svc_common *sc, const char *name);
/* Reads the file at path, or makes it with make() and writes it (mode 0600) when absent. */
CCZ_NODISCARD ccz_status svc_load_or_make(ccz_buf *out, const char *path,
                                          ccz_status (*make)(ccz_buf *out, void *payload),
                                          void *payload);

/* The admin token: DATA_DIR/admin-token, made at first start (32 random bytes in hex), at least
 * 16 bytes; *hash gets its SHA-256 (the token itself is not kept). */
CCZ_NODISCARD ccz_status svc_admin_token_load(uint8_t hash[32], const svc_common *sc);
/* Whether an Authorization header is "Bearer TOKEN" with the admin token (constant time).
 * header may be NULL. */
bool svc_admin_token_ok(const uint8_t hash[32], const char *header);

/* Per-address quotas: at most per_peer takes by one client address in a window of window_s
 * seconds (a fixed window from its first take), for peers addresses at a time (past that, the
 * address whose window began longest ago is forgotten). Thread-safe. */
typedef struct svc_quota svc_quota;
CCZ_NODISCARD ccz_status svc_quota_new(svc_quota **out, unsigned per_peer, unsigned window_s,
                                       size_t peers);
void svc_quota_free(svc_quota *q);
/* Takes one of addr's quota at now (unix seconds): 0 when taken, else the seconds until its
 * window ends (nothing taken). */
unsigned svc_quota_take(svc_quota *q, const char *addr, int64_t now);

extern const svc_def svc_attestation;
extern const svc_def svc_kms;

#endif
