/* SPDX-License-Identifier: Apache-2.0 */
/* The layouts of the C structures the Python package mirrors with ctypes (python/src/ccz/_lib.py,
 * LAYOUT): one "name size" line each, then one "name.field offset" line per field (nested
 * fields as "name.outer.inner"); python/tests/test_layout.py compares them, so that two fields
 * swapped or retyped at the same total size fail there too. */
#include <stdio.h>

#include "ccz/ccz.h"

#define SIZE(t) printf("%s %zu\n", #t, sizeof(t))
/* the offset of a (possibly nested) field, measured on an object of the type */
#define OFF(t, f)                                                                                  \
    do {                                                                                           \
        static t v_;                                                                               \
        printf("%s.%s %zu\n", #t, #f, (size_t)((const char *)&v_.f - (const char *)&v_));          \
    } while (0)

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

    OFF(ccz_buf, ptr);
    OFF(ccz_buf, len);
    OFF(ccz_buf, cap);
    OFF(ccz_buf, max);
    OFF(ccz_buf, secret);
    OFF(ccz_span, ptr);
    OFF(ccz_span, len);
    OFF(ccz_attester_opts, version);
    OFF(ccz_attester_opts, tee);
    OFF(ccz_attester_opts, sim);
    OFF(ccz_attester_opts, sim.dir);
    OFF(ccz_attester_opts, sim.signer_key);
    OFF(ccz_attester_opts, sim.measurement);
    OFF(ccz_attester_opts, sim.product_id);
    OFF(ccz_attester_opts, sim.svn);
    OFF(ccz_attester_opts, sim.debug);
    OFF(ccz_attester_opts, sim.timestamp);
    OFF(ccz_attester_opts, device_root);
    OFF(ccz_attester_opts, tsm_entry);
    OFF(ccz_verify_opts, version);
    OFF(ccz_verify_opts, at_unix);
    OFF(ccz_verify_opts, trust);
    OFF(ccz_verify_opts, collateral);
    OFF(ccz_verify_opts, expected_report_data);
    OFF(ccz_verify_opts, eventlog);
    OFF(ccz_verify_opts, expected_init_data_hash);
    OFF(ccz_trust_sources, version);
    OFF(ccz_trust_sources, root_ca);
    OFF(ccz_trust_sources, sim_roots);
    OFF(ccz_trust_sources, n_sim_roots);
    OFF(ccz_trust_sources, sim_dir);
    OFF(ccz_trust_sources, sim_dir_required);
    OFF(ccz_paillier_number, c);
    OFF(ccz_paillier_number, exponent);
    OFF(ccz_lattice_params, scheme);
    OFF(ccz_lattice_params, log_n);
    OFF(ccz_lattice_params, n_primes);
    OFF(ccz_lattice_params, coeff_bits);
    OFF(ccz_lattice_params, coeff_primes);
    OFF(ccz_lattice_params, plain_modulus);
    OFF(ccz_lattice_params, scale);
    OFF(ccz_lattice_params, no_security_check);
    OFF(ccz_ratls_cert_opts, version);
    OFF(ccz_ratls_cert_opts, key);
    OFF(ccz_ratls_cert_opts, not_before);
    OFF(ccz_ratls_cert_opts, not_after);
    OFF(ccz_ratls_cert_opts, subject_cn);
    OFF(ccz_ratls_cert_opts, gramine_legacy);
    OFF(ccz_ratls_cert_opts, nonce);
    OFF(ccz_ratls_opts, version);
    OFF(ccz_ratls_opts, server);
    OFF(ccz_ratls_opts, mode);
    OFF(ccz_ratls_opts, cert);
    OFF(ccz_ratls_opts, key);
    OFF(ccz_ratls_opts, attester);
    OFF(ccz_ratls_opts, cert_opts);
    OFF(ccz_ratls_opts, policy);
    OFF(ccz_ratls_opts, trust);
    OFF(ccz_ratls_opts, collateral);
    OFF(ccz_ratls_opts, on_verdict);
    OFF(ccz_ratls_opts, payload);
    OFF(ccz_ratls_opts, cache_size);
    OFF(ccz_kms_opts, version);
    OFF(ccz_kms_opts, url);
    OFF(ccz_kms_opts, trust);
    OFF(ccz_kms_opts, policy);
    OFF(ccz_kms_opts, collateral);
    OFF(ccz_kms_opts, ca_file);
    OFF(ccz_kms_opts, attester);
    OFF(ccz_kms_opts, admin_token);
    OFF(ccz_kms_opts, timeout_ms);
    OFF(ccz_kbs_client_opts, version);
    OFF(ccz_kbs_client_opts, cacert);
    OFF(ccz_kbs_client_opts, tls_verify_insecure);
    OFF(ccz_kbs_client_opts, timeout_ms);
    OFF(ccz_kbs_client_opts, token);
    return 0;
}
