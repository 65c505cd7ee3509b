/* SPDX-License-Identifier: Apache-2.0 */
/* The sizes of the C structures the Python package mirrors with ctypes (python/src/ccz/_lib.py,
 * LAYOUT), one "name size" line each; python/tests/test_layout.py compares them. */
#include <stdio.h>

#include "ccz/ccz.h"

#define SIZE(t) printf("%s %zu\n", #t, sizeof(t))

int main(void)
{
    SIZE(ccz_buf);
    SIZE(ccz_span);
    SIZE(ccz_attester_opts);
    SIZE(ccz_verify_opts);
    SIZE(ccz_trust_sources);
    SIZE(mpz_t);
    SIZE(ccz_paillier_number);
    SIZE(ccz_lattice_params);
    SIZE(ccz_ratls_cert_opts);
    SIZE(ccz_ratls_opts);
    SIZE(ccz_kms_opts);
    SIZE(ccz_kbs_client_opts);
    return 0;
}
