/* SPDX-License-Identifier: Apache-2.0 */
/* Internal to ccz fl: the check of ciphertexts a peer sends (hetero-LR's repeated bytes), shared
 * by the arbiter (src/svc/fl/hetero_service.c) and its fuzz target (fuzz/fuzz_hetero_lr.c). */
#ifndef CCZ_FL_INT_H
#define CCZ_FL_INT_H

#include <protobuf-c/protobuf-c.h>

#include "ccz/fl.h"

/* count ciphertexts of the key with modulus n (n2 = n^2) from in (n_in values) into out: each
 * 1 to len(n^2) bytes, unsigned big-endian, in [1, n^2) and prime to n. CCZ_ERR_MALFORMED names
 * the count or the value (prefixed by what) that is wrong. */
ccz_status vlr_ciphertexts(mpz_t *out, const mpz_t n, const mpz_t n2, const ProtobufCBinaryData *in,
                           size_t n_in, size_t count, const char *what);

#endif
