/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the secret-provisioning policy document (src/svc/secret/service.c): its "secrets"
 * section (one rule per entry: the secret it releases and the claims it constrains) taken out,
 * the rest parsed as an appraisal policy, for two secrets "a" and "b" (or one, by the input's
 * length). A document taken must leave every rule naming a secret given, and the choice for fixed
 * claims of every TEE must be -1 or one of those secrets, -1 only with a section. */
#include <stdlib.h>
#include <string.h>

#include "svc/secret/secret.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const ccz_secret_entry two[] = {{.name = "a", .value = {(const uint8_t *)"one", 3}},
                                           {.name = "b", .value = {(const uint8_t *)"two", 3}}};
    size_t n = 1 + size % 2;
    secret_service *svc;
    if (secret_service_new(&svc, CCZ_SPAN(data, size), two, n) != CCZ_OK) {
        ccz_error_clear();
        return 0;
    }
    if (!secret_service_policy(svc) || secret_service_count(svc) != n)
        abort();
    static ccz_claims c;
    for (int t = CCZ_TEE_NONE; t <= CCZ_TEE_SNP; t++) {
        for (int fill = 0; fill < 2; fill++) {
            memset(&c, 0, sizeof c);
            c.tee = (ccz_tee)t;
            memset(c.sgx.mr_enclave, fill ? 0xaa : 0, 32);
            memset(c.tdx.mr_td, fill ? 0xbb : 0, 48);
            memset(c.snp.measurement, fill ? 0xcc : 0, 48);
            c.sgx.isv_svn = fill ? 7 : 0;
            char why[128];
            long i = secret_choose(svc, &c, why, sizeof why);
            if (i < -1 || i >= (long)n || (i == -1 && !why[0]))
                abort();
            if (i >= 0 && secret_service_item(svc, (size_t)i)->value.len != 3)
                abort();
        }
    }
    secret_service_free(svc);
    return 0;
}
