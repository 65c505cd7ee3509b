/* SPDX-License-Identifier: Apache-2.0 */
/* Secret provisioning inside the library (internal; prefix secret_). A secret_service holds the
 * secrets, the appraisal policy and the rules of its "secrets" section; it answers Gramine's
 * request on an http_server as a preface, so one listener can serve the REST APIs beside it.
 * The policy document is trusted configuration, but parsed as strictly as any input. */
#ifndef CCZ_SRC_SVC_SECRET_H
#define CCZ_SRC_SVC_SECRET_H

#include "ccz/secret.h"
#include "http/http.h"

#define SECRET_NAME_MAX 64

/* One entry of the secrets section: the claims it constrains (bit set = checked) and the
 * secret it releases. */
enum {
    SR_TEE = 1u << 0,
    SR_MR_ENCLAVE = 1u << 1,
    SR_MR_SIGNER = 1u << 2,
    SR_ISV_PROD_ID = 1u << 3,
    SR_ISV_SVN_MIN = 1u << 4,
    SR_MR_TD = 1u << 5,
    SR_SNP_MEASUREMENT = 1u << 6,
    SR_HOST_DATA = 1u << 7,
    SR_MEASUREMENT32 = 1u << 8, /* "measurement" of 32 bytes: SGX's or sim's MRENCLAVE */
    SR_MEASUREMENT48 = 1u << 9, /* "measurement" of 48 bytes: TDX's MRTD or SNP's */
};

typedef struct {
    unsigned fields;
    size_t secret; /* index into the service's secrets */
    unsigned tees; /* bit (1 << ccz_tee) */
    uint8_t mr_enclave[32];
    uint8_t mr_signer[32];
    uint16_t isv_prod_id;
    uint16_t isv_svn_min;
    uint8_t mr_td[48];
    uint8_t snp_measurement[48];
    uint8_t host_data[32];
    uint8_t measurement[48];
} secret_rule;

typedef struct {
    char name[SECRET_NAME_MAX + 1];
    ccz_buf value; /* secret: wiped on free */
} secret_item;

typedef struct secret_service secret_service;

/* Parses the policy document (its "secrets" section taken out before the rest goes to
 * ccz_policy_parse) and loads the secrets. With no section, exactly one secret is required. */
CCZ_NODISCARD ccz_status secret_service_new(secret_service **out, ccz_span policy,
                                            const ccz_secret_entry *secrets, size_t n);
void secret_service_free(secret_service *svc);
/* The appraisal policy (without the secrets section); owned by the service. */
const ccz_policy *secret_service_policy(const secret_service *svc);
/* Answers Gramine's request on s (a preface); svc must outlive s. */
CCZ_NODISCARD ccz_status secret_service_attach(secret_service *svc, http_server *s);
/* The secret for verified claims: its index, or -1 when no rule matches (*why says so). */
long secret_choose(const secret_service *svc, const ccz_claims *c, char *why, size_t why_len);
const secret_item *secret_service_item(const secret_service *svc, size_t i);
size_t secret_service_count(const secret_service *svc);

/* client.c: the head of the server's answer, CCZ_SECRET_RESPONSE with its NUL and the secret's
 * size (big-endian u32, 1 to max), into *size. */
CCZ_NODISCARD ccz_status secret_response_head(uint32_t *size, ccz_span head, size_t max);

#endif
