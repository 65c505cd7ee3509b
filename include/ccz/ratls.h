/* SPDX-License-Identifier: Apache-2.0 */
/* ccz ratls: RA-TLS on OpenSSL. Certificates that carry TEE evidence bound to their key (the
 * TCG DICE tagged-evidence extension, as Gramine >= 1.8, rats-tls and the Intel SGX SDK write
 * it), their verification and appraisal, and configured SSL_CTXs for servers, clients and
 * mutual attestation. Peer certificates are untrusted input. */
#ifndef CCZ_RATLS_H
#define CCZ_RATLS_H

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "ccz/core.h"
#include "ccz/policy.h"
#include "ccz/tee.h"

#ifdef __cplusplus
extern "C" {
#endif

/* OIDs and CBOR tags. */
#define CCZ_RATLS_OID_DICE "2.23.133.5.4.9"           /* TCG DICE tagged evidence */
#define CCZ_RATLS_OID_GRAMINE "1.2.840.113741.1337.6" /* Gramine legacy: raw SGX quote */
#define CCZ_RATLS_OID_GRAMINE_MISENCODED "0.6.9.42.840.113741.1337.6" /* as Gramine wrote it */
#define CCZ_RATLS_OID_SGX_SDK "1.2.840.113741.1.13.1"                 /* Intel SGX SDK: raw quote */
#define CCZ_RATLS_TAG_INTEL_QUOTE 60000u         /* SGX/TDX quote (Gramine, interoperable RA-TLS) */
#define CCZ_RATLS_TAG_RATS_INTEL_QUOTE 0x1a7501u /* rats-tls: Intel TEE quote */
#define CCZ_RATLS_TAG_RATS_SNP 0x1a7504u         /* rats-tls: SEV-SNP report */
#define CCZ_RATLS_TAG_CCZ_SIM 0x63637a53u        /* ccz: sim evidence ("cczS"; not registered) */

typedef enum {
    CCZ_RATLS_KEY_P256 = 0, /* default: OpenSSL 3.0 signs P-384 about 40x slower */
    CCZ_RATLS_KEY_P384 = 1
} ccz_ratls_key;

#define CCZ_RATLS_CERT_OPTS_VERSION 1

typedef struct {
    unsigned version; /* CCZ_RATLS_CERT_OPTS_VERSION */
    ccz_ratls_key key;
    int64_t not_before;     /* 0: an hour before now */
    int64_t not_after;      /* 0: a year after now */
    const char *subject_cn; /* NULL: "ccz RA-TLS" */
    bool gramine_legacy;    /* also write the legacy Gramine extension (SGX quotes only) */
    ccz_span nonce;         /* optional claim "nonce" */
} ccz_ratls_cert_opts;

#define CCZ_RATLS_CERT_OPTS_INIT                                                                   \
    {                                                                                              \
        CCZ_RATLS_CERT_OPTS_VERSION, CCZ_RATLS_KEY_P256, 0, 0, NULL, false,                        \
        {                                                                                          \
            NULL, 0                                                                                \
        }                                                                                          \
    }

/* Makes a fresh key and a self-signed certificate whose evidence (from the attester) binds
 * SHA-256 of its DICE claims, which carry SHA-256 of the key. The caller owns *cert and *key. */
CCZ_API CCZ_NODISCARD ccz_status ccz_ratls_cert_create(X509 **cert, EVP_PKEY **key,
                                                       const ccz_attester *a,
                                                       const ccz_ratls_cert_opts *o);

typedef enum {
    CCZ_RATLS_FORMAT_NONE = 0,
    CCZ_RATLS_FORMAT_DICE = 1,           /* 2.23.133.5.4.9 */
    CCZ_RATLS_FORMAT_GRAMINE_LEGACY = 2, /* 1.2.840.113741.1337.6 (either encoding) */
    CCZ_RATLS_FORMAT_SGX_SDK = 3         /* 1.2.840.113741.1.13.1 */
} ccz_ratls_format;

/* "dice", "gramine-legacy", "intel-sgx-sdk" ("none"). */
CCZ_API const char *ccz_ratls_format_name(ccz_ratls_format f);

/* What a certificate carries, before the evidence is verified. Owns its buffers. */
typedef struct {
    ccz_ratls_format format;
    bool has_legacy;   /* a Gramine legacy extension is present too */
    bool has_sgx_sdk;  /* an Intel SGX SDK quote extension is present too */
    uint64_t cbor_tag; /* DICE: the evidence tag */
    ccz_tee tee;       /* the evidence type, by its framing */
    ccz_buf evidence;
    ccz_buf claims;          /* DICE: the encoded claims map */
    int hash_alg;            /* pubkey-hash algorithm (IANA named information: 1, 7, 8) */
    bool binding_ok;         /* the key hash in the claims (or report data) is the cert's key */
    uint8_t report_data[64]; /* what the evidence must bind */
    bool has_nonce;
    ccz_buf nonce;
} ccz_ratls_info;

/* Finds the evidence extension through OpenSSL, decodes it and checks the binding of the
 * claims to the certificate's key. Frees with ccz_ratls_info_free. */
CCZ_API CCZ_NODISCARD ccz_status ccz_ratls_inspect(ccz_ratls_info *out, X509 *cert);
CCZ_API void ccz_ratls_info_free(ccz_ratls_info *info);

/* Steps of RA-TLS certificate verification, in ccz_ratls_verdict.step (then the evidence
 * verifier's own steps, then "policy"). */
#define CCZ_RATLS_STEP_CERTIFICATE "certificate"
#define CCZ_RATLS_STEP_EXTENSION "extension"
#define CCZ_RATLS_STEP_BINDING "binding"
#define CCZ_RATLS_STEP_POLICY "policy"

typedef struct {
    ccz_status status; /* CCZ_OK: verified and accepted */
    const char *step;  /* failing step */
    char message[512];
    ccz_ratls_format format;
    ccz_result result;       /* the evidence verification (claims when verified) */
    ccz_appraisal appraisal; /* when the evidence verified */
    bool cached;             /* the evidence verdict came from the context's cache */
} ccz_ratls_verdict;

/* Verifies a certificate fully: its validity at vo->at_unix and self-signature, the extension,
 * the binding, the evidence (vo->trust, vo->collateral), then appraises the claims with policy
 * (NULL: the default policy). A policy rejection is CCZ_ERR_POLICY_REJECTED at step "policy". */
CCZ_API CCZ_NODISCARD ccz_status ccz_ratls_verify_cert(ccz_ratls_verdict *out, X509 *cert,
                                                       const ccz_policy *policy,
                                                       const ccz_verify_opts *vo);

/* ---- verdicts: `ccz verify` as functions ------------------------------------------------------
 * Evidence or an RA-TLS certificate in, the decision `ccz verify` makes out, and the JSON document
 * `ccz verify --json` prints: one code path for the command and for bindings (python/). */

/* What `ccz verify` decides. */
typedef struct {
    /* verified and accepted by the policy */
    bool ok;
    /* the input was a certificate, and its RA-TLS format (NONE when it failed before the
     * extension was read, and for evidence) */
    bool certificate;
    ccz_ratls_format format;
    /* the verification (a certificate's failing step may be an RA-TLS one: certificate,
     * extension, binding, policy) */
    ccz_result result;
    /* the policy's decision, when result.status is CCZ_OK */
    ccz_appraisal appraisal;
} ccz_verdict;

/* Verifies evidence (binary), or an RA-TLS certificate (PEM or DER: its validity at
 * o->at_unix, self-signature, extension and binding, then its evidence, whose report data the
 * binding decides: o->expected_report_data is not used), and appraises the claims with policy
 * (NULL: the default policy). Fills *out and returns CCZ_OK whatever the verdict; an error only
 * when none can be made (bad arguments, out of memory). */
CCZ_API CCZ_NODISCARD ccz_status ccz_verdict_run(ccz_verdict *out, ccz_span evidence,
                                                 const ccz_verify_opts *o,
                                                 const ccz_policy *policy);
/* The verdict as the JSON object `ccz verify --json` prints (docs/cli.md): ok, verified, tee,
 * simulated (and warning), tcb_status, advisories, claims, policy {accepted, reasons}, ratls
 * {format} for a certificate ("none" when it failed before its extension was read), error {code, step, message} when not verified. A new jansson
 * object (ccz_json_free), NULL when out of memory. */
CCZ_API ccz_json *ccz_verdict_to_json(const ccz_verdict *v);
/* Both in one call, for bindings: appends the JSON text to out (compact, on one line) and sets
 * *ok (may be NULL). Errors as ccz_verdict_run's. */
CCZ_API CCZ_NODISCARD ccz_status ccz_verdict_json(ccz_buf *out, bool *ok, ccz_span evidence,
                                                  const ccz_verify_opts *o,
                                                  const ccz_policy *policy);
/* The same document in Python's marshal format (ccz_json_dump_marshal), which the Python
 * binding turns into its dict with marshal.loads: no JSON text written and scanned per call. */
CCZ_API CCZ_NODISCARD ccz_status ccz_verdict_marshal(ccz_buf *out, bool *ok, ccz_span evidence,
                                                     const ccz_verify_opts *o,
                                                     const ccz_policy *policy);
/* ccz_verdict_marshal into cap bytes of the caller's memory at dst (nothing allocated for the
 * output), the evidence as pointer and length: the Python binding's per-call path. Sets *len to
 * the document's size; CCZ_ERR_TOO_LARGE when it needs more than cap - 1 bytes, *len then being
 * the size it needs (call again with a buffer of *len + 1 bytes). */
CCZ_API CCZ_NODISCARD ccz_status ccz_verdict_marshal_to(void *dst, size_t cap, size_t *len,
                                                        const void *evidence, size_t evidence_len,
                                                        const ccz_verify_opts *o,
                                                        const ccz_policy *policy);

/* ---- OpenSSL contexts ------------------------------------------------------------------------*/

typedef enum {
    CCZ_RATLS_TWO_WAY = 0, /* both sides present and verify evidence (the default) */
    CCZ_RATLS_SERVER = 1,  /* only the server is attested: the client verifies it */
    CCZ_RATLS_CLIENT = 2   /* only the client is attested: the server verifies it */
} ccz_ratls_mode;

/* "two-way", "server", "client". */
CCZ_API CCZ_NODISCARD ccz_status ccz_ratls_mode_parse(ccz_ratls_mode *out, const char *s);

typedef void (*ccz_ratls_verdict_cb)(const ccz_ratls_verdict *v, void *payload);

#define CCZ_RATLS_OPTS_VERSION 1

typedef struct {
    unsigned version; /* CCZ_RATLS_OPTS_VERSION */
    bool server;      /* the role of this side */
    ccz_ratls_mode mode;
    X509 *cert;    /* this side's certificate and key (the context takes references), */
    EVP_PKEY *key; /*   or NULL to make them from the attester */
    const ccz_attester *attester;
    ccz_ratls_cert_opts cert_opts;
    const ccz_policy *policy;         /* appraisal of the peer (NULL: default policy) */
    const ccz_trust *trust;           /* borrowed; must outlive the context */
    const ccz_collateral *collateral; /* borrowed, may be NULL */
    ccz_ratls_verdict_cb on_verdict;  /* called once per verified peer: a rejection when the
                                          peer's certificate arrives, an acceptance only when
                                          the handshake completes (the peer proved it holds the
                                          certificate's key) */
    void *payload;
    unsigned cache_size; /* verified peer certificates remembered (0: 256) */
} ccz_ratls_opts;

#define CCZ_RATLS_OPTS_INIT                                                                        \
    {                                                                                              \
        CCZ_RATLS_OPTS_VERSION, false, CCZ_RATLS_TWO_WAY, NULL, NULL, NULL,                        \
            CCZ_RATLS_CERT_OPTS_INIT, NULL, NULL, NULL, NULL, NULL, 0                              \
    }

/* A TLS 1.3 context that presents this side's RA-TLS certificate (server always; client in
 * two-way and client modes) and verifies the peer's when the mode says so. The policy, trust and
 * collateral are borrowed and must outlive the context. Every connection is attested afresh: the
 * server issues no session tickets and keeps no session cache, and a client's offer to resume
 * leads to a full handshake, never an error; clients offer no resumption. The context's info
 * callback reports accepted verdicts: an application that sets its own on the context or on a
 * connection should use the helpers below, which report them too. */
CCZ_API CCZ_NODISCARD ccz_status ccz_ratls_ctx_new(SSL_CTX **out, const ccz_ratls_opts *o);
/* After a handshake: the verdict on the peer, or NULL when this side did not verify it (or the
 * session was resumed, or the verdict accepted a certificate other than the peer's now). */
CCZ_API const ccz_ratls_verdict *ccz_ratls_peer_verdict(const SSL *ssl);

/* The default bound on connecting and handshaking, in milliseconds. */
#define CCZ_RATLS_TIMEOUT_MS 10000

/* Helpers: a TLS connection over a connected socket (which the caller keeps and closes) or to
 * HOST:PORT (a socket the connection owns: SSL_free closes it), handshake done, the socket left
 * in blocking mode. Connecting and the handshake together must finish within timeout_ms (0 or
 * less: CCZ_RATLS_TIMEOUT_MS; the plain forms use the default), else CCZ_ERR_NETWORK with a
 * detail that says it timed out. On failure *out is NULL and the detail names what failed (the
 * peer's rejection reason, or its TLS alert). */
CCZ_API CCZ_NODISCARD ccz_status ccz_ratls_accept(SSL **out, SSL_CTX *ctx, int fd);
CCZ_API CCZ_NODISCARD ccz_status ccz_ratls_connect(SSL **out, SSL_CTX *ctx, const char *host_port);
CCZ_API CCZ_NODISCARD ccz_status ccz_ratls_accept_timeout(SSL **out, SSL_CTX *ctx, int fd,
                                                          long timeout_ms);
CCZ_API CCZ_NODISCARD ccz_status ccz_ratls_connect_timeout(SSL **out, SSL_CTX *ctx,
                                                           const char *host_port, long timeout_ms);

#ifdef __cplusplus
}
#endif
#endif
