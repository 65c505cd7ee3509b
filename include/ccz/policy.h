/* SPDX-License-Identifier: Apache-2.0 */
/* ccz policy: which claims a relying party accepts, as data. Reads ccz's own JSON policy and
 * CCZoo's dynamic_config.json as it is; appraisal gives accept/reject with every reason.
 * Policy documents are untrusted text until parsed; a parsed ccz_policy is trusted. */
#ifndef CCZ_POLICY_H
#define CCZ_POLICY_H

#include "ccz/core.h"
#include "ccz/tee.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ccz_policy ccz_policy;

typedef enum {
    CCZ_POLICY_FORMAT_CCZ = 1,           /* ccz's policy document */
    CCZ_POLICY_FORMAT_DYNAMIC_CONFIG = 2 /* CCZoo's dynamic_config.json */
} ccz_policy_format;

/* Largest policy document accepted, and most measurement entries per TEE. */
#define CCZ_POLICY_MAX_BYTES (1u << 20)
#define CCZ_POLICY_MAX_ENTRIES 1024

/* Parses a policy document of either format (detected from its keys). On error *out is NULL
 * and ccz_error_detail() names the offending key. The caller frees *out. */
CCZ_API CCZ_NODISCARD ccz_status ccz_policy_parse(ccz_policy **out, const char *text, size_t len);
CCZ_API CCZ_NODISCARD ccz_status ccz_policy_load_file(ccz_policy **out, const char *path);
/* The default policy: real TEEs only, TCB UpToDate, no debug, no sim, any measurement. */
CCZ_API CCZ_NODISCARD ccz_status ccz_policy_default(ccz_policy **out);
CCZ_API void ccz_policy_free(ccz_policy *p);
CCZ_API ccz_policy_format ccz_policy_get_format(const ccz_policy *p);
/* The policy in ccz's own format (normalised: every default written out). New jansson object,
 * released by ccz_json_free; NULL when out of memory. */
CCZ_API ccz_json *ccz_policy_to_json(const ccz_policy *p);

#define CCZ_MAX_REASONS 32

typedef struct {
    const char *code;  /* stable snake_case: "simulated_not_allowed", "debug", ... */
    char message[256]; /* for people */
} ccz_reason;

typedef struct {
    bool accepted;
    size_t n_reasons; /* every reason the claims were rejected; 0 when accepted */
    ccz_reason reasons[CCZ_MAX_REASONS];
} ccz_appraisal;

/* Appraises verified claims against the policy. Returns CCZ_OK whether accepted or not (see
 * out->accepted); an error only for bad arguments. */
CCZ_API CCZ_NODISCARD ccz_status ccz_appraise(ccz_appraisal *out, const ccz_policy *p,
                                              const ccz_claims *c);

#ifdef __cplusplus
}
#endif
#endif
