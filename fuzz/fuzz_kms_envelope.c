/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: a KMS request body as JSON: its canonical string (the same after a round trip
 * through jansson's text), its signature, and eHSM's payload checks of every action, which
 * either pass or name a problem. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "svc/kms/kms.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const names[] = {"CreateKey",
                                    "Encrypt",
                                    "Decrypt",
                                    "GenerateDataKey",
                                    "GenerateDataKeyWithoutPlaintext",
                                    "ExportDataKey",
                                    "GetPublicKey",
                                    "AsymmetricEncrypt",
                                    "AsymmetricDecrypt",
                                    "Sign",
                                    "Verify",
                                    "GetParametersForImport",
                                    "ImportKeyMaterial",
                                    "ListKey",
                                    "DeleteKey",
                                    "DeleteAllKey",
                                    "EnableKey",
                                    "DisableKey",
                                    "GenerateQuote",
                                    "VerifyQuote",
                                    "UploadQuotePolicy",
                                    "GetQuotePolicy",
                                    "RotateKey",
                                    "ReEncrypt"};

static void canonical_twice(const json_t *j)
{
    ccz_buf a = CCZ_BUF_INIT, b = CCZ_BUF_INIT;
    ccz_status s = kms_canonical(&a, j);
    if (s != CCZ_OK && s != CCZ_ERR_TOO_LARGE)
        abort();
    char *text = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    json_t *again = text ? json_loads(text, JSON_REJECT_DUPLICATES, NULL) : NULL;
    if (!again)
        abort(); /* what jansson wrote, it reads */
    if (kms_canonical(&b, again) != s)
        abort();
    if (s == CCZ_OK && (a.len != b.len || (a.len && memcmp(a.ptr, b.ptr, a.len) != 0)))
        abort(); /* the same document, the same canonical string */
    json_decref(again);
    free(text);
    ccz_buf_free(&a);
    ccz_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    if (!j || !json_is_object(j)) {
        if (j) {
            ccz_buf b = CCZ_BUF_INIT;
            if (kms_canonical(&b, j) != CCZ_ERR_INVALID_ARGUMENT)
                abort(); /* only objects have a canonical string */
            ccz_buf_free(&b);
        }
        json_decref(j);
        return 0;
    }
    canonical_twice(j);
    /* the envelope's fields, as the service takes them */
    const json_t *payload = json_object_get(j, "payload");
    const char *appid = json_string_value(json_object_get(j, "appid"));
    const char *nonce = json_string_value(json_object_get(j, "nonce"));
    const char *ts = json_string_value(json_object_get(j, "timestamp"));
    char sign[KMS_SIGN_LEN + 1];
    ccz_status s = kms_request_sign(sign, CCZ_LIT("44RPFy3SEqLbAahaP9PXSGQ6ABB6gctr"), appid, nonce,
                                    ts, json_is_object(payload) ? payload : NULL);
    if (s == CCZ_OK && strlen(sign) != KMS_SIGN_LEN)
        abort();
    /* every action's payload checks, on the payload and on the whole document */
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const kms_action *a = kms_action_find(names[i]);
        if (!a || strcmp(a->name, names[i]) != 0)
            abort();
        const json_t *docs[] = {json_is_object(payload) ? payload : NULL, j};
        for (size_t d = 0; d < 2; d++) {
            char problem[256];
            memset(problem, 0x55, sizeof problem);
            problem[0] = '\0';
            bool ok = kms_payload_check(a, docs[d], problem, sizeof problem);
            if (!memchr(problem, '\0', sizeof problem))
                abort();
            if (!ok && problem[0] == '\0')
                abort(); /* a refusal always says why */
        }
    }
    if (kms_action_find("createkey") || kms_action_find("") || kms_action_find(NULL))
        abort();
    json_decref(j);
    return 0;
}
