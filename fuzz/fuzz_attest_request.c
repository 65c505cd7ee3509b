/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: what the attestation service (src/svc/attestation/attestation.c) reads from a
 * client's JSON before anything is verified: a POST /v1/attest body through att_attest_read
 * (evidence, nonce, runtime_data, collateral, policy), and a PUT /v1/policies/ID body through
 * att_policy_text, as http_request_json parses them. What is read must be sound: evidence never
 * empty, a policy id valid and not reserved, SEV-SNP collateral or text collateral but not both,
 * a kept policy that parses again to the same text: anything else aborts. */
#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "ccz/ccz.h"
#include "svc/attestation/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The policy id rule, read plainly: 1 to 64 of A-Z a-z 0-9 . _ -, and none of the ids tokens
 * give the service's own policies. */
static bool policy_id_ok(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > 64 || !strcmp(id, "default") || !strcmp(id, "file") || !strcmp(id, "kbs"))
        return false;
    return strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *body = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(body)) {
        json_decref(body);
        return 0;
    }
    att_attest_req q = ATT_ATTEST_REQ_INIT;
    ccz_buf lifted = CCZ_BUF_INIT;
    char msg[200];
    const char *why = att_attest_read(&q, body, &lifted, msg, sizeof msg);
    if (!why) {
        if (q.evidence.len == 0 || (q.snp && q.collateral_text.len) || (!q.snp && q.vek.len))
            abort();
        if (q.policy_id && !policy_id_ok(q.policy_id))
            abort();
        if (q.nonce && !json_is_string(json_object_get(body, "nonce")))
            abort();
        if (q.has_runtime_data != (json_object_get(body, "runtime_data") != NULL))
            abort();
    } else if (!*why || strlen(why) >= sizeof msg) {
        abort();
    }
    att_attest_req_free(&q);
    ccz_buf_free(&lifted);

    char *text = NULL;
    if (att_policy_text(&text, body) == CCZ_OK) {
        json_t *again = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
        char *text2 = NULL;
        if (!again || att_policy_text(&text2, again) != CCZ_OK || strcmp(text, text2) != 0)
            abort();
        free(text2);
        json_decref(again);
    }
    free(text);
    json_decref(body);
    ccz_error_clear();
    return 0;
}
