/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: policy documents (ccz format and CCZoo dynamic_config.json), then appraisal of
 * fixed claims of every TEE and the normalised rendering, which must parse back. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "ccz/ccz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ccz_policy *p;
    if (ccz_policy_parse(&p, (const char *)data, size) != CCZ_OK)
        return 0;
    static ccz_claims c;
    static ccz_appraisal a;
    for (int t = CCZ_TEE_NONE; t <= CCZ_TEE_SNP; t++) {
        memset(&c, 0, sizeof c);
        c.tee = (ccz_tee)t;
        c.simulated = t == CCZ_TEE_SIM;
        c.debug = size % 2;
        strcpy(c.tcb_status, size % 3 ? "UpToDate" : "OutOfDate");
        memset(c.sgx.mr_enclave, 0xaa, 32);
        if (ccz_appraise(&a, p, &c) != CCZ_OK || a.accepted != (a.n_reasons == 0))
            abort();
    }
    json_t *j = ccz_policy_to_json(p);
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    ccz_policy *q = NULL;
    if (!text || ccz_policy_parse(&q, text, strlen(text)) != CCZ_OK)
        abort(); /* the normalised form is always a valid policy */
    free(text);
    json_decref(j);
    ccz_policy_free(q);
    ccz_policy_free(p);
    return 0;
}
