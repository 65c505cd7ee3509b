/* SPDX-License-Identifier: Apache-2.0 */
/* ccz cca: Arm CCA attestation tokens, as Veraison's rust-ccatoken and TF-M's iat-verifier read
 * them: a CBOR collection (tag 399 with byte-string entries, or the CMW collection, tag 907, with
 * [263, bstr] entries) of the platform token (COSE_Sign1, signed by the CPAK) and the realm
 * delegated token (COSE_Sign1, signed by the RAK it carries), and their claims. Part of the tee
 * module: ccz_verify uses it for CCA tokens; these declarations expose the parsers for tools
 * and tests. Everything parsed here is untrusted input; spans borrow from it. */
#ifndef CCZ_CCA_H
#define CCZ_CCA_H

#include "ccz/core.h"
#include "ccz/tee.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CCZ_CCA_TAG_COLLECTION 399 /* {44234: bstr, 44241: bstr} */
#define CCZ_CCA_TAG_CMW 907        /* {44234: [263, bstr], 44241: [263, bstr]} */
#define CCZ_CCA_PLATFORM_LABEL 44234
#define CCZ_CCA_REALM_LABEL 44241
#define CCZ_CCA_MAX_BYTES (64u << 10) /* the largest token read */

/* COSE algorithms a token may be signed with (RFC 9053): ECDSA with SHA-2, r||s signatures. */
#define CCZ_COSE_ES256 (-7)
#define CCZ_COSE_ES384 (-35)
#define CCZ_COSE_ES512 (-36)

/* A COSE_Sign1 message (RFC 9052 §4.2), tag 18 optional. */
typedef struct {
    ccz_span protected_hdr; /* the protected header's bytes (a CBOR map) */
    ccz_span payload;
    ccz_span signature; /* r||s */
    int64_t alg;        /* the protected header's alg (label 1) */
} ccz_cose_sign1;

/* Parses a COSE_Sign1 message that is exactly `in`. The protected header must name an alg (an
 * integer); a detached (nil) payload is CCZ_ERR_UNSUPPORTED. */
CCZ_API CCZ_NODISCARD ccz_status ccz_cose_sign1_parse(ccz_cose_sign1 *out, ccz_span in);
/* Appends the Sig_structure ["Signature1", protected, h'' (external_aad), payload]: the bytes
 * the signature covers. */
CCZ_API CCZ_NODISCARD ccz_status ccz_cose_sig_structure(ccz_buf *out, const ccz_cose_sign1 *m);

/* The two tokens of a collection. */
typedef struct {
    unsigned tag;      /* CCZ_CCA_TAG_COLLECTION or CCZ_CCA_TAG_CMW */
    ccz_span platform; /* COSE_Sign1 */
    ccz_span realm;    /* COSE_Sign1 */
} ccz_cca_token;

/* Parses the collection (exactly `in`): both entries present, no other key. */
CCZ_API CCZ_NODISCARD ccz_status ccz_cca_token_parse(ccz_cca_token *out, ccz_span in);

/* A token decoded down to its claims, nothing verified. */
typedef struct {
    ccz_cca_token token;
    ccz_cose_sign1 platform, realm;
    ccz_cca_claims claims;
    uint8_t realm_challenge[64]; /* the verifier's challenge (the claims' report data) */
    uint8_t rem_len[4];
    ccz_span rak;         /* the realm public key exactly as carried (claim 44237) */
    bool rak_is_cose_key; /* a COSE_Key (realm profiles 1.0.0, 2.0.0), else a SEC1 point */
} ccz_cca_evidence;

/* Parses a token and both claim sets. The platform claims need challenge, implementation id,
 * instance id (33 bytes, first 0x01), lifecycle and software components; the realm claims need
 * challenge (64 bytes), personalization value (64), hash algorithm, RAK, RAK hash algorithm,
 * RIM and four REMs (of the RIM's size). */
CCZ_API CCZ_NODISCARD ccz_status ccz_cca_evidence_parse(ccz_cca_evidence *out, ccz_span in);

/* Whether the bytes start as a CCA token (tag 399 or 907); looks at the framing only. */
CCZ_API bool ccz_cca_detect(ccz_span in);

#ifdef __cplusplus
}
#endif
#endif
