/* SPDX-License-Identifier: Apache-2.0 */
/* Private to src/tee/cca (and its fuzz target): the realm key as the token carries it. */
#ifndef CCZ_TEE_CCA_INTERNAL_H
#define CCZ_TEE_CCA_INTERNAL_H

#include <openssl/evp.h>

#include "ccz/cca.h"

/* The RAK of a parsed token as a public key: a SEC1 uncompressed point (legacy realm profile,
 * P-256/384/521 by its length) or a COSE_Key (EC2), on its curve. CCZ_ERR_KEY_MALFORMED or
 * CCZ_ERR_UNSUPPORTED otherwise. *out is the caller's. */
ccz_status tee_cca_rak_key(EVP_PKEY **out, const ccz_cca_evidence *e);

#endif
