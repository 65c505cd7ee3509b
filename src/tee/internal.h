/* SPDX-License-Identifier: Apache-2.0 */
/* Private to src/tee: the backend table, the trust store's layout and result helpers. */
#ifndef CCZ_TEE_INTERNAL_H
#define CCZ_TEE_INTERNAL_H

#include <openssl/x509.h>

#include "ccz/tee.h"
#include "tee/chain_cache.h"
#include "x509/x509.h"

/* Attester operations a backend may have (NULL when this build cannot attest for it). */
typedef struct {
    ccz_status (*create)(void **state, const ccz_attester_opts *o);
    /* certs, when not NULL, receives certificates the TEE handed out with the evidence */
    ccz_status (*attest)(const void *state, const uint8_t report_data[64], ccz_buf *evidence,
                         ccz_buf *certs);
    void (*destroy)(void *state);
    /* a 32-byte key only this enclave (or its signer's enclaves) can derive; NULL: none */
    ccz_status (*seal_key)(const void *state, ccz_seal_policy policy, uint8_t key[32]);
} tee_attester_ops;

/* HKDF-SHA256 (RFC 5869) of ikm with info, no salt, to a 32-byte key. */
ccz_status tee_hkdf_sha256(uint8_t out[32], ccz_span ikm, ccz_span info);

extern const tee_attester_ops tee_attester_sgx;
extern const tee_attester_ops tee_attester_tdx;
extern const tee_attester_ops tee_attester_snp;

/* The device attesters' shared state (dcap_attest.c). */
typedef struct {
    char root[2048];
    char entry[256];
    bool has_entry;
} tee_dev_attester;

ccz_status tee_dev_attester_new(void **state, const ccz_attester_opts *o);
void tee_dev_attester_free(void *state);

/* One TEE backend: detect looks only at framing; verify fills a ccz_result; attester is NULL
 * where this build cannot produce that evidence. */
typedef struct {
    ccz_tee tee;
    bool (*detect)(ccz_span evidence);
    ccz_status (*verify)(ccz_result *out, ccz_span evidence, const ccz_verify_opts *o);
    const tee_attester_ops *attester;
} tee_backend;

extern const tee_backend tee_backend_sim;
extern const tee_backend tee_backend_snp;
extern const tee_backend tee_backend_sgx;
extern const tee_backend tee_backend_tdx;
extern const tee_backend tee_backend_az_snp;
extern const tee_backend tee_backend_az_tdx;
extern const tee_backend tee_backend_csv;
extern const tee_backend tee_backend_cca;

/* The unverified claims of Azure vTPM evidence (azure/az_verify.c), for ccz_evidence_peek. */
ccz_status tee_az_peek(ccz_claims *c, ccz_span evidence);
/* The unverified claims of an Arm CCA token (cca/cca_verify.c), for ccz_evidence_peek. */
ccz_status tee_cca_peek(ccz_claims *c, ccz_span evidence);
/* An SEV-SNP report verified with the VEK given as certificate bytes (DER or PEM) and no chain:
 * the trust store's ASKs complete it, and the store remembers the verified chain by the VEK's
 * bytes, so the next report with the same VEK skips parsing and chain (snp/snp.c). */
ccz_status tee_snp_verify_with_vek(ccz_result *r, ccz_span report, ccz_span vek,
                                   const ccz_verify_opts *o);
/* A new trust id (the store changed). */
uint64_t tee_trust_next_id(void);

/* An Arm CCA platform attestation key (cca/cca_trust.c): the instance it belongs to (any
 * instance when has_instance is false) and the key, NULL when the store's key was unusable. */
typedef struct {
    bool has_instance;
    uint8_t instance_id[33];
    bool has_implementation;
    uint8_t implementation_id[32];
    EVP_PKEY *key;
    char why[160]; /* why key is NULL */
} tee_cca_anchor;

void tee_cca_anchors_free(tee_cca_anchor *a, size_t n);
/* The unverified claims of Hygon CSV evidence (csv/csv_verify.c), for ccz_evidence_peek. */
ccz_status tee_csv_peek(ccz_claims *c, ccz_span evidence);

struct ccz_trust {
    X509_STORE *sim_store;       /* sim platform roots, for X509_verify_cert */
    STACK_OF(X509) *sim_roots;   /* the same roots, counted and listed */
    STACK_OF(X509) *intel_roots; /* roots DCAP chains must end in */
    X509_STORE *intel_store;     /* the same roots, for X509_verify_cert */
    X509_STORE *amd_store;       /* AMD ARKs */
    STACK_OF(X509) *amd_roots;
    STACK_OF(X509) *amd_intermediates; /* built-in ASKs and ASVKs */
    uint64_t id;        /* changes whenever the roots change (keys verifier caches) */
    bool has_hygon_hrk; /* the Hygon root key CSV chains start from */
    uint8_t hygon_hrk[832];
    tee_cca_anchor *cca; /* Arm CCA platform keys */
    size_t n_cca;
    /* chains verified under this store's roots (SEV-SNP VEK chains); its own lock, so verifiers
     * holding a const store may add to it */
    tee_chain_cache *chains;
};

/* A fresh trust store id (trust.c): every change of a store's roots takes one. */

/* Device files under a configurable root (tests point it at recorded evidence). Missing or
 * unreadable devices are CCZ_ERR_TEE_UNAVAILABLE. */
ccz_status tee_dev_path(char *out, size_t cap, const char *root, const char *rel);
ccz_status tee_dev_write(const char *path, ccz_span data);
ccz_status tee_dev_read(ccz_buf *out, const char *path, size_t max);

/* configfs-tsm reports (tsm.c). */
typedef struct {
    const char *provider;       /* "tdx_guest", "sev_guest" */
    const uint8_t *report_data; /* 64 bytes for inblob */
    int privlevel;              /* SNP VMPL to request, or -1 */
    const char *entry;          /* an existing entry to use, or NULL for a fresh one */
    /* Called after each attribute write with the file's path, or NULL: tests use it to play the
     * kernel (which counts every write in `generation`) and another writer of the entry. */
    void (*written)(void *arg, const char *path);
    void *written_arg;
} tee_tsm_request;

bool tee_tsm_available(const char *root);
ccz_status tee_tsm_report(const char *root, const tee_tsm_request *rq, ccz_buf *out, ccz_buf *aux);

/* TDX quote via /dev/tdx_guest and the QGS message format (dcap_attest.c), exposed for tests. */
ccz_status tee_tdx_qgs_request(ccz_buf *out, const uint8_t tdreport[1024]);
ccz_status tee_tdx_qgs_response(ccz_span *quote, ccz_span buf);

/* HTTP GET (http.c). */

/* The longest collateral or KDS base URL the fetchers take: they build their URLs (the base and
 * a path of at most a few hundred characters) in fixed buffers. */
#define TEE_URL_BASE_MAX 400

/* CCZ_ERR_INVALID_ARGUMENT, naming `what` ("the base URL"), when url is longer than
 * TEE_URL_BASE_MAX: a longer base would be cut short in those buffers, unseen. */
ccz_status tee_url_base_check(const char *url, const char *what);

typedef struct {
    const char *ca_file;  /* PEM roots for TLS, NULL: the system's */
    bool insecure;        /* skip TLS server verification */
    long timeout_seconds; /* 0: 60 */
    int64_t deadline_ms;  /* when set (tee_http_fetch_opts), no request runs past it: a fetch of
                             several requests ends within its one timeout */
} tee_http_opts;

/* The options of one fetch, of one request or several: its deadline is timeout_seconds (0: 60)
 * from now on the monotonic clock. */
tee_http_opts tee_http_fetch_opts(const char *ca_file, bool insecure, long timeout_seconds);

typedef struct {
    ccz_buf body;
    ccz_buf header;           /* the value of the first wanted header found */
    const char *const *names; /* header names wanted (NULL-terminated), or NULL */
    bool overflow;
} tee_http_response;

void tee_http_response_init(tee_http_response *r, const char *const *names);
void tee_http_response_free(tee_http_response *r);
/* CCZ_ERR_NOT_FOUND for 404, CCZ_ERR_NETWORK for other failures and statuses. */
ccz_status tee_http_get(tee_http_response *r, const char *url, const tee_http_opts *o);

/* Appends the DER of a CRL served in any of the encodings collateral services use: DER, PEM or
 * hex-encoded DER, told apart by parsing (dcap_fetch.c). CCZ_ERR_MALFORMED when it is none. */
ccz_status dcap_crl_body_der(ccz_buf *der, ccz_span body, const char *what);

/* SHA-256 of a byte span. */
ccz_status tee_sha256(uint8_t out[32], ccz_span in);

#endif
