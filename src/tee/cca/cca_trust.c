/* SPDX-License-Identifier: Apache-2.0 */
/* Arm CCA trust anchors: the platform attestation keys (CPAKs) a caller trusts, from a
 * Veraison-style store (rust-ccatoken src/store/memo_trustanchorstore.rs), a JWK or a PEM key.
 * The documents are the caller's and trusted as anchors, but still parsed defensively. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "core/guard.h"
#include "jose/jose.h"
#include "tee/internal.h"

#define MAX_ANCHORS 4096

void tee_cca_anchors_free(tee_cca_anchor *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        EVP_PKEY_free(a[i].key);
    free(a);
}

static ccz_status push(ccz_trust *t, const tee_cca_anchor *a)
{
    CCZ_ENSURE(t->n_cca < MAX_ANCHORS, CCZ_ERR_TOO_LARGE, "more than %d CCA trust anchors",
               MAX_ANCHORS);
    tee_cca_anchor *n = realloc(t->cca, (t->n_cca + 1) * sizeof *n);
    CCZ_ENSURE(n, CCZ_ERR_NOMEM, "out of memory");
    t->cca = n;
    t->cca[t->n_cca++] = *a;
    t->id = tee_trust_next_id();
    return CCZ_OK;
}

/* A hex member of exactly n bytes; *has false when absent. */
static ccz_status hex_member(uint8_t *out, size_t n, bool *has, const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    *has = v != NULL;
    if (!v)
        return CCZ_OK;
    CCZ_ENSURE(json_is_string(v), CCZ_ERR_MALFORMED, "\"%s\" is not a string", key);
    ccz_status s = ccz_hex_decode_fixed(out, n, json_string_value(v), json_string_length(v));
    return s ? ccz_fail_context(s, "\"%s\" (%zu bytes of hex)", key, n) : CCZ_OK;
}

/* One store entry. An unusable key is kept as the reason it is unusable. */
static ccz_status store_entry(ccz_trust *t, const json_t *e)
{
    tee_cca_anchor a;
    memset(&a, 0, sizeof a);
    CCZ_ENSURE(json_is_object(e), CCZ_ERR_MALFORMED, "not an object");
    CCZ_GUARD(hex_member(a.instance_id, 33, &a.has_instance, e, "instance-id"));
    CCZ_ENSURE(a.has_instance, CCZ_ERR_MALFORMED, "no \"instance-id\"");
    CCZ_GUARD(hex_member(a.implementation_id, 32, &a.has_implementation, e, "implementation-id"));
    const json_t *jwk = json_object_get(e, "pkey");
    CCZ_ENSURE(json_is_object(jwk), CCZ_ERR_MALFORMED, "no \"pkey\" JWK");
    ccz_status s = jose_jwk_to_key(&a.key, jwk);
    if (s == CCZ_ERR_NOMEM)
        return s;
    if (s) {
        snprintf(a.why, sizeof a.why, "%s", ccz_error_detail());
        ccz_error_clear();
    } else if (EVP_PKEY_get_base_id(a.key) != EVP_PKEY_EC) {
        EVP_PKEY_free(a.key);
        a.key = NULL;
        snprintf(a.why, sizeof a.why, "not an EC key");
    }
    s = push(t, &a);
    if (s)
        EVP_PKEY_free(a.key);
    return s;
}

static ccz_status add_key(ccz_trust *t, EVP_PKEY *key)
{
    tee_cca_anchor a;
    memset(&a, 0, sizeof a);
    if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC) {
        EVP_PKEY_free(key);
        return ccz_fail(CCZ_ERR_UNSUPPORTED, "a CCA platform key is an EC key");
    }
    a.key = key;
    ccz_status s = push(t, &a);
    if (s)
        EVP_PKEY_free(key);
    return s;
}

ccz_status ccz_trust_add_cca_anchors(ccz_trust *t, ccz_span doc)
{
    CCZ_ENSURE(t, CCZ_ERR_INVALID_ARGUMENT, "missing argument");
    size_t i = 0;
    while (i < doc.len &&
           (doc.ptr[i] == ' ' || doc.ptr[i] == '\n' || doc.ptr[i] == '\r' || doc.ptr[i] == '\t'))
        i++;
    if (i < doc.len && doc.ptr[i] == '-') { /* PEM */
        EVP_PKEY *key = NULL;
        if (x509_key_from_pem(&key, doc) != CCZ_OK)
            return ccz_fail_ossl(CCZ_ERR_KEY_MALFORMED, "not a PEM key");
        return add_key(t, key);
    }
    ccz_json *j = NULL;
    CCZ_GUARD(ccz_json_parse(&j, (const char *)doc.ptr, doc.len, 1u << 20));
    json_t *root = (json_t *)j;
    ccz_status s = CCZ_OK;
    if (json_is_array(root)) {
        size_t k, before = t->n_cca;
        json_t *e;
        json_array_foreach (root, k, e) {
            if ((s = store_entry(t, e)) != CCZ_OK) {
                ccz_fail_context(s, "trust-anchor store entry %zu", k);
                break;
            }
        }
        for (; s != CCZ_OK && t->n_cca > before; t->n_cca--) /* a store is taken whole or not */
            EVP_PKEY_free(t->cca[t->n_cca - 1].key);
    } else if (json_is_object(root)) {
        EVP_PKEY *key = NULL;
        s = jose_jwk_to_key(&key, root);
        if (s == CCZ_OK)
            s = add_key(t, key);
        else
            ccz_fail_context(s, "CCA platform key (JWK)");
    } else {
        s = ccz_fail(CCZ_ERR_MALFORMED,
                     "CCA trust anchors: a store (JSON array), a JWK (object) or a PEM key");
    }
    ccz_json_free(j);
    return s;
}

ccz_status ccz_trust_add_cca_anchors_file(ccz_trust *t, const char *path)
{
    ccz_buf b = CCZ_BUF_INIT;
    ccz_status s = ccz_file_read(&b, path, 1u << 20);
    if (s == CCZ_OK)
        s = ccz_trust_add_cca_anchors(t, ccz_buf_span(&b));
    ccz_buf_free(&b);
    return s ? ccz_fail_context(s, "%s", path) : CCZ_OK;
}

size_t ccz_trust_cca_anchor_count(const ccz_trust *t)
{
    return t ? t->n_cca : 0;
}
