/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: what the KBS protocol (src/svc/attestation/kbs.c) takes from a client besides the
 * evidence itself: a resource path (REPO/TYPE/TAG), held to a plain reading of the rule that
 * keeps it from naming anything else; and an Attestation body's runtime-data, whose tee-pubkey
 * (a JWK) the resources are encrypted to, and its tee-evidence's primary_evidence (base64 or
 * base64url, in an object or a string holding one), read by att_kbs_attest_read. A key taken must
 * give a JWE in the flattened JSON form. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "svc/attestation/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The resource path rule, read plainly: 1 to 255 bytes, three segments of A-Z a-z 0-9 . _ -,
 * none empty, "." or "..". */
static bool path_ok(const char *p)
{
    size_t n = strlen(p);
    if (n == 0 || n > 255)
        return false;
    int parts = 0;
    const char *start = p;
    for (const char *q = p;; q++) {
        if (*q != '/' && *q)
            continue;
        size_t len = (size_t)(q - start);
        if (len == 0 || (len == 1 && start[0] == '.') ||
            (len == 2 && start[0] == '.' && start[1] == '.'))
            return false;
        for (size_t i = 0; i < len; i++)
            if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-",
                        start[i]))
                return false;
        parts++;
        if (!*q)
            break;
        start = q + 1;
    }
    return parts == 3;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = 0;
    if (att_kbs_resource_path_ok(text) != path_ok(text))
        abort();
    json_t *body = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    json_t *rd = json_object_get(body, "runtime-data");
    json_t *pubkey = json_object_get(rd, "tee-pubkey");
    if (json_is_object(pubkey)) {
        json_t *jwe = NULL;
        ccz_status s = jose_jwe_encrypt_jwk(&jwe, pubkey, CCZ_LIT("probe"));
        if (s == CCZ_OK && (!json_is_string(json_object_get(jwe, "protected")) ||
                            !json_is_string(json_object_get(jwe, "ciphertext"))))
            abort();
        json_decref(jwe);
    }
    /* the Attestation body as the KBS reads it, for a sim and an sgx session whose nonce is the
     * body's own (so the reading goes past the nonce) */
    static const char *const tees[] = {"sim", "sgx"};
    const char *nonce = json_string_value(json_object_get(rd, "nonce"));
    for (size_t i = 0; i < 2 && body; i++) {
        att_kbs_attest_req q = {CCZ_BUF_INIT, {0}, NULL, NULL};
        char msg[200];
        int status = 0;
        const char *why =
            att_kbs_attest_read(&q, body, tees[i], nonce ? nonce : "", &status, msg, sizeof msg);
        const char *b64 = json_string_value(json_object_get(
            json_object_get(json_object_get(body, "tee-evidence"), "primary_evidence"),
            i ? "quote" : "evidence"));
        if (why && why != att_out_of_memory && status != 400 && status != 401)
            abort(); /* a refusal is a SerdeError or an AttestationError */
        if (!why && (!q.evidence.len || !json_is_object(q.pubkey) || !q.nonce ||
                     (b64 && q.evidence.len > strlen(b64))))
            abort(); /* read: evidence, a key, a nonce; never more bytes than the text */
        ccz_buf_free(&q.evidence);
    }
    json_decref(body);
    free(text);
    ccz_error_clear();
    return 0;
}
