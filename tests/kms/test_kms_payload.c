/* SPDX-License-Identifier: Apache-2.0 */
/* The KMS's payload checks (kms_payload_check in src/svc/kms/actions.c), run on every signed
 * request before the app is looked up: each field's presence, type, length, base64, key id,
 * enum and integer range, with eHSM's exact message, without a running KMS. */
#include <stdio.h>
#include <string.h>

#include "svc/kms/kms.h"
#include "test.h"

#define KEYID "0d5fb6c9-0f2c-4ce5-9e5a-4f3e2cb0e6a1"

/* The check of action on the payload text: NULL when it passes, else its message. */
static const char *check(const char *action, const char *text)
{
    static char problem[256];
    const kms_action *a = kms_action_find(action);
    CHECK(a != NULL);
    if (!a)
        return "no such action";
    json_t *p = NULL;
    if (text) {
        json_error_t err;
        p = json_loads(text, JSON_REJECT_DUPLICATES, &err);
        if (!p) {
            fprintf(stderr, "bad JSON in the test: %s: %s\n", text, err.text);
            CHECK(p != NULL);
            return "bad JSON";
        }
    }
    problem[0] = 0;
    bool ok = kms_payload_check(a, p, problem, sizeof problem);
    json_decref(p);
    return ok ? NULL : problem;
}

/* check() is refused with exactly want */
#define REFUSED(action, text, want)                                                                \
    do {                                                                                           \
        const char *got_ = check(action, text);                                                    \
        CHECK(got_ != NULL);                                                                       \
        CHECK_STR(got_ ? got_ : "(passed)", want);                                                 \
    } while (0)

#define P "Parameter invalid, The "

static void test_action_names(void)
{
    CHECK(kms_action_find("Encrypt") != NULL);
    CHECK(kms_action_find("ReEncrypt") != NULL);
    CHECK(kms_action_find("encrypt") == NULL);
    CHECK(kms_action_find("Encrypt2") == NULL);
    CHECK(kms_action_find("") == NULL);
    CHECK(kms_action_find(NULL) == NULL);
    /* eHSM's cryptographic actions need a payload, its management ones do not */
    CHECK(kms_action_find("Encrypt")->needs_payload);
    CHECK(!kms_action_find("ListKey")->needs_payload);
    CHECK(check("ListKey", NULL) == NULL);
    CHECK(check("ListKey", "{\"anything\": [1, {}]}") == NULL);
}

/* Required fields: absent, null and "" are all missing, in the table's order. */
static void test_required(void)
{
    REFUSED("Encrypt", NULL, "Missing required parameters, The keyid cannot be empty.");
    REFUSED("Encrypt", "{}", "Missing required parameters, The keyid cannot be empty.");
    REFUSED("Encrypt", "{\"keyid\": null, \"plaintext\": \"QQ==\"}",
            "Missing required parameters, The keyid cannot be empty.");
    REFUSED("Encrypt", "{\"keyid\": \"" KEYID "\", \"plaintext\": \"\"}",
            "Missing required parameters, The plaintext cannot be empty.");
    CHECK(check("Encrypt", "{\"keyid\": \"" KEYID "\", \"plaintext\": \"QQ==\"}") == NULL);
    /* an optional field may be absent, null or "" */
    CHECK(check("Encrypt", "{\"keyid\": \"" KEYID "\", \"plaintext\": \"QQ==\", \"aad\": \"\"}") ==
          NULL);
    CHECK(check("Encrypt", "{\"keyid\": \"" KEYID "\", \"plaintext\": \"QQ==\", \"aad\": null}") ==
          NULL);
    /* but not of another type */
    REFUSED("Encrypt", "{\"keyid\": \"" KEYID "\", \"plaintext\": \"QQ==\", \"aad\": 12}",
            P "aad must be of string type.");
    REFUSED("Encrypt", "{\"keyid\": \"" KEYID "\", \"plaintext\": [\"QQ==\"]}",
            P "plaintext must be of string type.");
}

/* Key ids: 36 characters, eHSM's pattern (lower-case letters and digits, dashes at 8, 13, 18
 * and 23). */
static void test_keyid(void)
{
    CHECK(check("GetPublicKey", "{\"keyid\": \"" KEYID "\"}") == NULL);
    CHECK(check("GetPublicKey", "{\"keyid\": \"zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz\"}") == NULL);
    REFUSED("GetPublicKey", "{\"keyid\": \"0d5fb6c9-0f2c-4ce5-9e5a-4f3e2cb0e6a\"}",
            P "keyid length error.");
    REFUSED("GetPublicKey", "{\"keyid\": \"0d5fb6c9-0f2c-4ce5-9e5a-4f3e2cb0e6a12\"}",
            P "keyid length error.");
    REFUSED("GetPublicKey", "{\"keyid\": \"0D5FB6C9-0f2c-4ce5-9e5a-4f3e2cb0e6a1\"}",
            P "keyid format wrong.");
    /* each dash in its place, and only there */
    static const char *const moved[] = {
        "0d5fb6c90-f2c-4ce5-9e5a-4f3e2cb0e6a1", "0d5fb6c9-0f2c4-ce5-9e5a-4f3e2cb0e6a1",
        "0d5fb6c9-0f2c-4ce59-e5a-4f3e2cb0e6a1", "0d5fb6c9-0f2c-4ce5-9e5a4-f3e2cb0e6a1",
        "0d5fb6c9-0f2c-4ce5-9e5a-4f3e2-b0e6a1"};
    for (size_t i = 0; i < CCZ_ARRAY_LEN(moved); i++) {
        char text[96];
        snprintf(text, sizeof text, "{\"keyid\": \"%s\"}", moved[i]);
        REFUSED("GetPublicKey", text, P "keyid format wrong.");
    }
    /* ExportDataKey's ukeyid is only a string here (its action checks it) */
    REFUSED("ExportDataKey", "{\"keyid\": \"" KEYID "\", \"ukeyid\": 7}",
            P "ukeyid must be of string type.");
}

/* Base64: whole quanta, the standard alphabet, at most two '=' and only at the end; lengths in
 * base64 characters. */
static void test_base64(void)
{
    static const char *const good[] = {"QUJD", "QUI=", "QQ==", "+/+/", "AAAAQQ=="};
    static const char *const bad[] = {"QUJ",  "Q===",    "QQ=A", "=QQQ", "QU-D",
                                      "QU_D", "QUJD\\n", "QU D", "QUJDQ"};
    for (size_t i = 0; i < CCZ_ARRAY_LEN(good); i++) {
        char text[128];
        snprintf(text, sizeof text, "{\"keyid\": \"%s\", \"plaintext\": \"%s\"}", KEYID, good[i]);
        CHECK(check("Encrypt", text) == NULL);
    }
    for (size_t i = 0; i < CCZ_ARRAY_LEN(bad); i++) {
        char text[128];
        snprintf(text, sizeof text, "{\"keyid\": \"%s\", \"plaintext\": \"%s\"}", KEYID, bad[i]);
        REFUSED("Encrypt", text, P "plaintext not a vailed base64 string.");
    }
    /* 8192 characters (6144 bytes) pass, 8196 are too long; a Decrypt ciphertext up to 8232 */
    static char text[8400];
    char b64[8240];
    memset(b64, 'A', sizeof b64);
    b64[8192] = 0;
    snprintf(text, sizeof text, "{\"keyid\": \"%s\", \"plaintext\": \"%s\"}", KEYID, b64);
    CHECK(check("Encrypt", text) == NULL);
    b64[8192] = 'A';
    b64[8196] = 0;
    snprintf(text, sizeof text, "{\"keyid\": \"%s\", \"plaintext\": \"%s\"}", KEYID, b64);
    REFUSED("Encrypt", text, P "plaintext length error.");
    snprintf(text, sizeof text, "{\"keyid\": \"%s\", \"ciphertext\": \"%s\"}", KEYID, b64);
    CHECK(check("Decrypt", text) == NULL);
    b64[8196] = 'A';
    b64[8236] = 0;
    snprintf(text, sizeof text, "{\"keyid\": \"%s\", \"ciphertext\": \"%s\"}", KEYID, b64);
    REFUSED("Decrypt", text, P "ciphertext length error.");
    /* an aad is base64 too */
    REFUSED("Encrypt", "{\"keyid\": \"" KEYID "\", \"plaintext\": \"QQ==\", \"aad\": \"***\"}",
            P "aad not a vailed base64 string.");
}

/* The longest value of each length-limited field passes, one more base64 quantum (or, for a
 * plain string, one more character) is too long. */
static void test_length_limits(void)
{
    static const struct {
        const char *action, *before, *field, *after;
        size_t max, step;
    } cases[] = {
        {"AsymmetricDecrypt", "\"keyid\": \"" KEYID "\", ", "ciphertext",
         ", \"padding_mode\": \"EH_RSA_PKCS1_OAEP\"", 8192, 4},
        {"Verify",
         "\"keyid\": \"" KEYID "\", \"message\": \"QQ==\", \"message_type\": \"EH_RAW\", "
         "\"digest_mode\": \"EH_SHA_256\", \"padding_mode\": \"EH_PAD_NONE\", ",
         "signature", "", 8192, 4},
        {"ImportKeyMaterial", "\"keyid\": \"" KEYID "\", \"padding_mode\": \"EH_RSA_PKCS1_OAEP\", ",
         "key_material", ", \"importToken\": \"t\"", 8192, 4},
        {"ImportKeyMaterial",
         "\"keyid\": \"" KEYID "\", \"padding_mode\": \"EH_RSA_PKCS1_OAEP\", "
         "\"key_material\": \"QQ==\", ",
         "importToken", "", 4096, 1},
        {"GenerateQuote", "", "challenge", "", 4096, 4},
        {"VerifyQuote", "\"quote\": \"QQ==\", ", "nonce", "", 4096, 4},
        {"VerifyQuote", "", "quote", ", \"nonce\": \"QQ==\"", 10924, 4},
        {"ReEncrypt", "\"keyid\": \"" KEYID "\", ", "ciphertext", "", 8232, 4},
    };
    static char value[11000], text[11400], want[96];
    for (size_t i = 0; i < CCZ_ARRAY_LEN(cases); i++) {
        for (size_t extra = 0; extra <= cases[i].step; extra += cases[i].step) {
            size_t n = cases[i].max + extra;
            memset(value, 'A', n);
            value[n] = 0;
            snprintf(text, sizeof text, "{%s\"%s\": \"%s\"%s}", cases[i].before, cases[i].field,
                     value, cases[i].after);
            if (extra == 0) {
                const char *got = check(cases[i].action, text);
                if (got)
                    fprintf(stderr, "%s %s of %zu: %s\n", cases[i].action, cases[i].field, n, got);
                CHECK(got == NULL);
            } else {
                snprintf(want, sizeof want, P "%s length error.", cases[i].field);
                REFUSED(cases[i].action, text, want);
            }
        }
    }
}

/* Integers: of integer type (not a string, a real or a boolean) and within the range. */
static void test_integers(void)
{
    static const struct {
        const char *keylen, *want;
    } cases[] = {
        {"1", NULL},
        {"1024", NULL},
        {"0", P "keylen value must be greater than or equal to 1."},
        {"-5", P "keylen value must be greater than or equal to 1."},
        {"1025", P "keylen value must be less than or equal to 1024."},
        {"\"32\"", P "keylen must be of integer type."},
        {"32.0", P "keylen must be of integer type."},
        {"true", P "keylen must be of integer type."},
        {"\"\"", "Missing required parameters, The keylen cannot be empty."},
    };
    for (size_t i = 0; i < CCZ_ARRAY_LEN(cases); i++) {
        char text[128];
        snprintf(text, sizeof text, "{\"keyid\": \"%s\", \"keylen\": %s}", KEYID, cases[i].keylen);
        if (cases[i].want)
            REFUSED("GenerateDataKey", text, cases[i].want);
        else
            CHECK(check("GenerateDataKeyWithoutPlaintext", text) == NULL);
    }
}

/* Enums: exactly one of the names, case and all. */
static void test_enums(void)
{
    CHECK(check("CreateKey", "{\"keyspec\": \"EH_SM4_CBC\", \"origin\": \"EH_INTERNAL_KEY\", "
                             "\"keyusage\": \"EH_KEYUSAGE_SIGN_VERIFY\"}") == NULL);
    REFUSED("CreateKey",
            "{\"keyspec\": \"EH_AES_GCM_512\", \"origin\": \"EH_INTERNAL_KEY\", "
            "\"keyusage\": \"EH_KEYUSAGE_ENCRYPT_DECRYPT\"}",
            P "keyspec type is incorrect.");
    REFUSED("CreateKey",
            "{\"keyspec\": \"EH_AES_GCM_256\", \"origin\": \"eh_internal_key\", "
            "\"keyusage\": \"EH_KEYUSAGE_ENCRYPT_DECRYPT\"}",
            P "origin type is incorrect.");
    REFUSED("CreateKey",
            "{\"keyspec\": \"EH_AES_GCM_256\", \"origin\": \"EH_INTERNAL_KEY\", "
            "\"keyusage\": \"EH_KEYUSAGE_ENCRYPT_DECRYPT \"}",
            P "keyusage type is incorrect.");
    REFUSED("CreateKey",
            "{\"keyspec\": 3, \"origin\": \"EH_INTERNAL_KEY\", "
            "\"keyusage\": \"EH_KEYUSAGE_ENCRYPT_DECRYPT\"}",
            P "keyspec must be of string type.");
    REFUSED("Sign",
            "{\"keyid\": \"" KEYID "\", \"message\": \"QQ==\", \"message_type\": \"EH_RAW\", "
            "\"digest_mode\": \"EH_SHA_1\", \"padding_mode\": \"EH_PAD_NONE\"}",
            P "digest_mode type is incorrect.");
    REFUSED("Sign",
            "{\"keyid\": \"" KEYID "\", \"message\": \"QQ==\", \"message_type\": \"EH_HASH\", "
            "\"digest_mode\": \"EH_SHA_256\", \"padding_mode\": \"EH_PAD_NONE\"}",
            P "message_type type is incorrect.");
}

/* Quote policies: 64 hexadecimal digits (either case); a policy id is a key id's pattern. */
static void test_quote_fields(void)
{
    char e[65], text[256];
    memset(e, 'a', 64);
    e[64] = 0;
    snprintf(text, sizeof text, "{\"mr_enclave\": \"%s\", \"mr_signer\": \"%s\"}", e, e);
    CHECK(check("UploadQuotePolicy", text) == NULL);
    e[0] = 'F';
    snprintf(text, sizeof text, "{\"mr_enclave\": \"%s\", \"mr_signer\": \"%s\"}", e, e);
    CHECK(check("UploadQuotePolicy", text) == NULL);
    e[63] = 'g';
    snprintf(text, sizeof text, "{\"mr_enclave\": \"%s\", \"mr_signer\": \"%s\"}", e, e);
    REFUSED("UploadQuotePolicy", text, P "mr_enclave format wrong.");
    e[63] = 'a';
    e[63] = 0;
    snprintf(text, sizeof text, "{\"mr_enclave\": \"%s\", \"mr_signer\": \"%s\"}", e, e);
    REFUSED("UploadQuotePolicy", text, P "mr_enclave length error.");
    CHECK(check("VerifyQuote", "{\"quote\": \"QQ==\", \"nonce\": \"QQ==\"}") == NULL);
    CHECK(check("VerifyQuote",
                "{\"quote\": \"QQ==\", \"nonce\": \"QQ==\", \"policyId\": \"" KEYID "\"}") == NULL);
    REFUSED("VerifyQuote",
            "{\"quote\": \"QQ==\", \"nonce\": \"QQ==\", \"policyId\": "
            "\"0d5fb6c9_0f2c_4ce5_9e5a_4f3e2cb0e6a1\"}",
            P "policyId format wrong.");
    REFUSED("GetQuotePolicy", "{}", "Missing required parameters, The policyId cannot be empty.");
}

/* The key ids (and appids, policy ids) the KMS makes: random RFC 4122 version 4 UUIDs in
 * lower case, which its own key id check takes. */
static void test_uuid_made(void)
{
    for (int i = 0; i < 64; i++) {
        char id[37], text[96];
        CHECK_OK(kms_uuid(id));
        CHECK_INT(strlen(id), 36);
        CHECK(id[14] == '4');
        CHECK(strchr("89ab", id[19]) != NULL && id[19] != 0);
        snprintf(text, sizeof text, "{\"keyid\": \"%s\"}", id);
        CHECK(check("GetPublicKey", text) == NULL);
    }
}

TEST_MAIN(T(test_action_names), T(test_required), T(test_keyid), T(test_base64),
          T(test_length_limits), T(test_integers), T(test_enums), T(test_quote_fields),
          T(test_uuid_made))
