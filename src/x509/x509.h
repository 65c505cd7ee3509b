/* SPDX-License-Identifier: Apache-2.0 */
/* Private to libccz: the one X.509 toolbox the TEE verifiers (and later RA-TLS and the CLI)
 * share — certificate time, the chain check at an instant with inclusive validity ends,
 * extensions by OID, issuing, hashes, raw r||s ECDSA, PEM. Certificates handed in may be
 * untrusted; nothing here decides trust beyond the X509_STORE the caller passes. Never
 * installed: include it as "x509/x509.h" from src/. */
#ifndef CCZ_X509_X509_H
#define CCZ_X509_X509_H

#include <stdbool.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "ccz/core.h"

/* ---- time --------------------------------------------------------------------------------*/

/* A certificate or CRL time as unix seconds; dflt when t is NULL or cannot be read. */
int64_t x509_time_unix(const ASN1_TIME *t, int64_t dflt);

/* A validity window [from, until], inclusive at both ends. */
typedef struct {
    int64_t from, until;
} x509_window;

#define X509_WINDOW_ALWAYS                                                                         \
    {                                                                                              \
        INT64_MIN, INT64_MAX                                                                       \
    }

void x509_window_narrow(x509_window *w, int64_t from, int64_t until);
/* Narrows to the certificate's notBefore..notAfter (an unreadable time empties the window). */
void x509_window_narrow_cert(x509_window *w, const X509 *x);
/* Narrows to the CRL's lastUpdate..nextUpdate (an unreadable time empties the window). */
void x509_window_narrow_crl(x509_window *w, const X509_CRL *crl);

/* ---- the chain check -----------------------------------------------------------------------*/

/* X509_verify_cert at the instant `at`, with every validity window inclusive at both ends: a
 * certificate is valid from its notBefore through its notAfter second, a CRL from its
 * lastUpdate through its nextUpdate second (RFC 5280; OpenSSL alone ends both a second early).
 * Returns what X509_verify_cert returns; the error is in ctx. */
int x509_verify_at(X509_STORE_CTX *ctx, int64_t at);

/* The status of an X509_V_ERR_* code. With `collateral`, an expired or not yet valid
 * certificate means the collateral is out of date rather than the evidence expired. */
ccz_status x509_status_of(int x509_err, bool collateral);

typedef struct {
    const char *what;          /* names the chain in the detail ("PCK chain") */
    X509_STORE *store;         /* the trusted roots */
    STACK_OF(X509) *untrusted; /* intermediates offered with the leaf, or NULL */
    X509_CRL *const *crls;     /* when n_crls > 0, every certificate is checked against them */
    int n_crls;
    int64_t at;      /* the instant (unix seconds) */
    bool collateral; /* see x509_status_of */
    bool name_cert;  /* the detail names the failing certificate's CN */
    /* With crl_leaf_only, OpenSSL checks the leaf alone against crls (none of the root), and
     * each certificate between leaf and root is checked here against ca_crls: the CRL its
     * issuer issued must be valid at `at`, signed by that issuer (not checked again when the
     * issuer is ca_crls_signer: the caller has verified that signer's CRL at this instant,
     * e.g. in another chain of the same collateral) and not list it. So a CRL that several
     * chains share is verified once. */
    bool crl_leaf_only;
    X509_CRL *const *ca_crls;
    int n_ca_crls;
    X509 *ca_crls_signer;
} x509_chain_check;

/* Verifies leaf to a root of check->store at check->at. On failure: the status of the OpenSSL
 * error (x509_status_of), the detail "<what>: <reason>[ (certificate '<CN>')]", and, when
 * x509_err is not NULL, OpenSSL's error code. On success: narrows w (when not NULL) to where
 * every certificate of the chain and every CRL is valid, and sets *root (when not NULL) to a
 * new reference to the trust anchor the chain ends in. */
ccz_status x509_verify_chain(const x509_chain_check *check, X509 *leaf, x509_window *w, X509 **root,
                             int *x509_err);

/* ---- reading, writing, finding -------------------------------------------------------------*/

/* Reads up to max PEM certificates (tolerating missing newlines, text between them and a
 * trailing NUL) into a new stack the caller frees, even on error. A certificate that cannot be
 * read (cut short, or not DER inside) fails the whole chain. */
ccz_status x509_read_pem_certs(STACK_OF(X509) **out, ccz_span pem, int max);
/* Reads one certificate: DER (exactly one element) when the bytes start with a SEQUENCE and
 * parse as one, else PEM (so a DER certificate that carries PEM inside is read as itself). */
ccz_status x509_read_cert(X509 **out, ccz_span in);
/* Reads one DER certificate that is exactly the bytes given. */
ccz_status x509_read_der(X509 **out, ccz_span in);
/* Both readers, and x509_p256_key_from_raw, keep what they parsed in a small process-wide
 * cache keyed by the exact input bytes (src/x509/cache.c): the objects they return may be
 * shared with other callers and other threads, so they are read-only (never X509_set_*,
 * X509_sign or EVP_PKEY_set_*); free them as usual. Only parsing is cached, never a check. */
/* X509_CACHE_CERT: one DER certificate (both readers); X509_CACHE_PEM_CERT: one certificate
 * x509_read_cert read as PEM, never a hit for x509_read_der. */
enum {
    X509_CACHE_CERT = 1,
    X509_CACHE_CHAIN,
    X509_CACHE_P256,
    X509_CACHE_SM2,
    X509_CACHE_PEM_CERT
};
/* On a hit, sets *certs (a new stack of new references) or *key (a new reference). */
bool x509_cache_get(int kind, ccz_span in, STACK_OF(X509) **certs, EVP_PKEY **key);
/* Remembers certs or key (new references are taken) as what in parses to. */
void x509_cache_put(int kind, ccz_span in, STACK_OF(X509) *certs, EVP_PKEY *key);
/* Reads a PEM private key, or else a PEM public key. Returns CCZ_ERR_KEY_MALFORMED WITHOUT
 * setting a detail and with OpenSSL's error queue kept: the caller names the file with
 * ccz_fail_ossl. */
ccz_status x509_key_from_pem(EVP_PKEY **out, ccz_span pem);
/* Appends the PEM of a private key (pass a secret buffer) or of a certificate. */
ccz_status x509_key_to_pem(ccz_buf *out, EVP_PKEY *key);
ccz_status x509_cert_to_pem(ccz_buf *out, X509 *x);

/* How many extensions with this dotted OID x carries: 0, 1, or 2 for two or more (RFC 5280 4.2
 * allows each once), with the first one's value, borrowed from x, in first (NULL when none);
 * -1 when the OID cannot be made (out of memory, or not dotted text). */
int x509_ext_count(const X509 *x, const char *oid, ASN1_OCTET_STRING **first);
/* The value of the first extension with this dotted OID, borrowed from x; NULL when absent. */
ASN1_OCTET_STRING *x509_find_ext(const X509 *x, const char *oid);

/* SHA-256 of the certificate's DER, or of a key's SubjectPublicKeyInfo DER. */
ccz_status x509_cert_sha256(uint8_t out[32], X509 *x);
ccz_status x509_spki_sha256(uint8_t out[32], EVP_PKEY *key);
/* The SubjectPublicKeyInfo DER hashed with md (RA-TLS claims name SHA-256, -384 or -512);
 * out holds EVP_MAX_MD_SIZE bytes, *len gets the digest's size. */
ccz_status x509_spki_digest(uint8_t *out, unsigned *len, EVP_PKEY *key, const EVP_MD *md);

/* ---- issuing -------------------------------------------------------------------------------*/

/* An extension given as its value's DER, under a dotted OID, not critical. */
typedef struct {
    const char *oid; /* "1.3.6.1..." */
    ccz_span value;  /* the extnValue's contents */
} x509_raw_ext;

typedef struct {
    const char *org;      /* subject O=, or NULL */
    const char *cn;       /* subject CN= */
    X509 *issuer;         /* NULL: self-signed (issuer_key is then the key itself) */
    EVP_PKEY *issuer_key; /* signs, with SHA-256 */
    bool ca;              /* CA:TRUE with keyCertSign, cRLSign; else digitalSignature */
    int64_t not_before;   /* unix seconds */
    int64_t not_after;
    const char *san;   /* subjectAltName in OpenSSL's text form ("DNS:x,IP:1.2.3.4"), or NULL */
    bool no_key_usage; /* leave key usage out (RA-TLS certificates carry none) */
    const EVP_MD *md;  /* the signature's digest; NULL: SHA-256 */
    const x509_raw_ext *exts; /* added last, in order */
    size_t n_exts;
} x509_issue_opts;

/* Issues a v3 certificate for key with a random positive 127-bit serial, critical basic
 * constraints and (unless no_key_usage) key usage, a subject key id, (when issued by another)
 * an authority key id, then the raw extensions. *out is the caller's. */
ccz_status x509_issue(X509 **out, EVP_PKEY *key, const x509_issue_opts *o);

/* ---- ECDSA with raw encodings --------------------------------------------------------------
 * r||s signatures and x||y public keys, as DCAP quotes, SNP reports and sim evidence carry
 * them. Verification returns CCZ_ERR_BAD_SIGNATURE without setting a detail; the caller says
 * what did not verify. */
bool x509_is_p256(EVP_PKEY *key);
bool x509_is_p384(EVP_PKEY *key);
/* Verifies big-endian r and s of n bytes each over msg, hashed with md. */
ccz_status x509_ecdsa_verify_rs(EVP_PKEY *key, const EVP_MD *md, ccz_span msg, const uint8_t *r,
                                const uint8_t *s, size_t n);
ccz_status x509_p256_key_from_raw(EVP_PKEY **out, const uint8_t xy[64]);
/* ECDSA P-256 with SHA-256 over msg, r||s. */
ccz_status x509_p256_verify(EVP_PKEY *key, ccz_span msg, const uint8_t sig[64]);
/* The same with a context made once per key (x509_p256_verifier_new, freed with
 * EVP_PKEY_CTX_free), which its owner uses from one thread at a time: a verifier that sees one
 * key again and again skips setting the verification up each time. */
ccz_status x509_p256_verifier_new(EVP_PKEY_CTX **out, EVP_PKEY *key);
ccz_status x509_p256_verify_with(EVP_PKEY_CTX *verifier, ccz_span msg, const uint8_t sig[64]);
/* SHA-256, fetched once per process (EVP_sha256() is fetched again on every use). */
const EVP_MD *x509_sha256(void);
ccz_status x509_p256_sign(uint8_t sig[64], EVP_PKEY *key, ccz_span msg);

/* ---- SM2 (GB/T 32918) with SM3, as Hygon's certificates and CSV reports use it (sm2.c) ------
 * An SM2 signature hashes Z = SM3(id, curve, key) before the message: id is the signer's
 * distinguishing identifier. Verification returns CCZ_ERR_BAD_SIGNATURE without a detail. */
ccz_status x509_sm2_key_from_raw(EVP_PKEY **out, const uint8_t x[32], const uint8_t y[32]);
ccz_status x509_sm2_verify_rs(EVP_PKEY *key, ccz_span id, ccz_span msg, const uint8_t r[32],
                              const uint8_t s[32]);

#endif
