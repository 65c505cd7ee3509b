/* SPDX-License-Identifier: Apache-2.0 */
#ifndef CCZ_FUZZ_TRUST_KINDS_H
#define CCZ_FUZZ_TRUST_KINDS_H
#include "ccz/ccz.h"

/* Adds the anchor of kind % 5 read from in to t: 0 a sim root, 1 an Intel root, 2 an AMD ARK,
 * 3 a Hygon HRK, 4 Arm CCA anchors (a store, a JWK or a PEM key). Its status; *partial is set
 * when the store's counts say the add was not all or nothing (a sim root counted though refused,
 * or not counted though taken; CCA anchors kept from a refused store). */
ccz_status fuzz_trust_add(ccz_trust *t, unsigned kind, ccz_span in, bool *partial);

#endif
