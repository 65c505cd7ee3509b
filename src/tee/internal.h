/* Private to src/tee: the backend table, the trust store's layout and result helpers. */
#ifndef CCZ_TEE_INTERNAL_H
#define CCZ_TEE_INTERNAL_H

#include <openssl/x509.h>

#include "ccz/tee.h"

/* One TEE backend. detect looks only at framing; verify fills a ccz_result; the attester
 * functions are NULL where this build cannot produce that evidence. */
typedef struct {
    ccz_tee tee;
    bool (*detect)(ccz_span evidence);
    ccz_status (*verify)(ccz_result *out, ccz_span evidence, const ccz_verify_opts *o);
    ccz_status (*attester_new)(void **state, const ccz_attester_opts *o);
    ccz_status (*attest)(const void *state, const uint8_t report_data[64], ccz_buf *evidence);
    void (*attester_free)(void *state);
} ccz_backend;

extern const ccz_backend ccz_backend_sim;

struct ccz_trust {
    X509_STORE *sim_store;      /* sim platform roots, for X509_verify_cert */
    STACK_OF(X509) *sim_roots;  /* the same roots, counted and listed */
};

/* Records a failure at `step` in r, taking the message from ccz_error_detail() (or the
 * status's text), and returns s. */
ccz_status ccz_result_fail(ccz_result *r, const char *step, ccz_status s);

/* SHA-256 of a byte span. */
ccz_status ccz_sha256(uint8_t out[32], ccz_span in);

#endif
