/* SPDX-License-Identifier: Apache-2.0 */
/* The encrypted query's client side: the algorithms' parameters, a key pair, the key encrypted
 * nibble by nibble as constant polynomials, and the answer decrypted and checked to be a value
 * (anything else is refused, not printed). The answer is untrusted input. */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "core/guard.h"
#include "internal.h"

struct ccz_heq_client {
    ccz_heq_algorithm algorithm;
    ccz_lattice_context *ctx;
    ccz_lattice_secret_key *sk;
    ccz_lattice_public_key *pk;
    ccz_lattice_relin_keys *rk;
};

const char *ccz_heq_algorithm_name(ccz_heq_algorithm a)
{
    switch (a) {
    case CCZ_HEQ_FAITHFUL:
        return "faithful";
    case CCZ_HEQ_FAST:
        return "fast";
    case CCZ_HEQ_PACKED:
        return "packed";
    }
    return "?";
}

ccz_status ccz_heq_algorithm_parse(ccz_heq_algorithm *out, const char *name)
{
    for (ccz_heq_algorithm a = CCZ_HEQ_FAITHFUL; a <= CCZ_HEQ_PACKED; a++)
        if (!strcmp(name, ccz_heq_algorithm_name(a))) {
            *out = a;
            return CCZ_OK;
        }
    return ccz_fail(CCZ_ERR_INVALID_ARGUMENT, "unknown algorithm '%s' (faithful, fast or packed)",
                    name);
}

ccz_status ccz_heq_params(ccz_lattice_params *out, ccz_heq_algorithm a)
{
    CCZ_ENSURE(a >= CCZ_HEQ_FAITHFUL && a <= CCZ_HEQ_PACKED, CCZ_ERR_INVALID_ARGUMENT,
               "unknown algorithm %d", (int)a);
    bool packed = a == CCZ_HEQ_PACKED;
    CCZ_GUARD(ccz_lattice_preset(out, CCZ_LATTICE_BFV, packed ? 14 : 13));
    out->plain_modulus = packed ? 65537 : 17;
    return CCZ_OK;
}

ccz_status ccz_heq_client_new(ccz_heq_client **out, ccz_heq_algorithm a)
{
    *out = NULL;
    ccz_lattice_params p;
    CCZ_GUARD(ccz_heq_params(&p, a));
    ccz_heq_client *c = calloc(1, sizeof *c);
    CCZ_ENSURE(c, CCZ_ERR_NOMEM, "out of memory");
    c->algorithm = a;
    ccz_status s = ccz_lattice_context_new(&c->ctx, &p);
    if (s == CCZ_OK)
        s = ccz_lattice_keygen(&c->sk, &c->pk, c->ctx);
    if (s == CCZ_OK)
        s = ccz_lattice_relin_keygen(&c->rk, c->ctx, c->sk);
    if (s) {
        ccz_heq_client_free(c);
        return s;
    }
    *out = c;
    return CCZ_OK;
}

void ccz_heq_client_free(ccz_heq_client *c)
{
    if (!c)
        return;
    ccz_lattice_relin_keys_free(c->rk);
    ccz_lattice_public_key_free(c->pk);
    ccz_lattice_secret_key_free(c->sk);
    ccz_lattice_context_free(c->ctx);
    free(c);
}

ccz_heq_query_view ccz_heq_query_view_of(const ccz_heq_query *q, ccz_span keys[CCZ_HEQ_KEY_CTS])
{
    for (int i = 0; i < CCZ_HEQ_KEY_CTS; i++)
        keys[i] = ccz_buf_span(&q->key[i]);
    return (ccz_heq_query_view){.algorithm = q->algorithm,
                                .params = ccz_buf_span(&q->params),
                                .public_key = ccz_buf_span(&q->public_key),
                                .relin_keys = ccz_buf_span(&q->relin_keys),
                                .key = keys,
                                .n_key = CCZ_HEQ_KEY_CTS};
}

void ccz_heq_query_free(ccz_heq_query *q)
{
    ccz_buf_free(&q->params);
    ccz_buf_free(&q->public_key);
    ccz_buf_free(&q->relin_keys);
    for (int i = 0; i < CCZ_HEQ_KEY_CTS; i++)
        ccz_buf_free(&q->key[i]);
}

/* The nibble ciphertexts: public-key encryptions of constant polynomials, as the sample's, on
 * every CPU at once. */
static ccz_status encrypt_key(ccz_heq_query *q, const ccz_heq_client *c,
                              const uint8_t key[CCZ_HEQ_KEY_BYTES])
{
    ccz_lattice_plaintext *pt[CCZ_HEQ_KEY_CTS] = {0};
    ccz_lattice_ciphertext *ct[CCZ_HEQ_KEY_CTS] = {0};
    ccz_status s = CCZ_OK;
    for (unsigned i = 0; s == CCZ_OK && i < CCZ_HEQ_KEY_CTS; i++) {
        uint64_t v = heq_nibble(key, i);
        s = ccz_lattice_plaintext_new(&pt[i], c->ctx);
        if (s == CCZ_OK)
            s = ccz_lattice_ciphertext_new(&ct[i], c->ctx);
        if (s == CCZ_OK)
            s = ccz_lattice_bfv_encode_coeffs(pt[i], c->ctx, &v, 1);
    }
    if (s == CCZ_OK)
        s = ccz_lattice_encrypt_many(ct, c->ctx, c->pk, (const ccz_lattice_plaintext *const *)pt,
                                     CCZ_HEQ_KEY_CTS, 0);
    for (unsigned i = 0; s == CCZ_OK && i < CCZ_HEQ_KEY_CTS; i++)
        s = ccz_lattice_ciphertext_save(&q->key[i], ct[i]);
    for (unsigned i = 0; i < CCZ_HEQ_KEY_CTS; i++) {
        ccz_lattice_ciphertext_free(ct[i]);
        ccz_lattice_plaintext_free(pt[i]);
    }
    return s;
}

ccz_status ccz_heq_client_query(ccz_heq_query *q, const ccz_heq_client *c, ccz_span key)
{
    memset(q, 0, sizeof *q);
    q->algorithm = c->algorithm;
    CCZ_ENSURE(key.len > 0, CCZ_ERR_INVALID_ARGUMENT, "the key is empty");
    size_t len = key.len < CCZ_HEQ_KEY_BYTES ? key.len : CCZ_HEQ_KEY_BYTES;
    CCZ_ENSURE(!memchr(key.ptr, 0, len), CCZ_ERR_INVALID_ARGUMENT, "the key holds a NUL byte");
    uint8_t k[CCZ_HEQ_KEY_BYTES] = {0};
    memcpy(k, key.ptr, len);
    ccz_status s = ccz_lattice_params_save(&q->params, c->ctx);
    if (s == CCZ_OK)
        s = ccz_lattice_public_key_save(&q->public_key, c->pk);
    if (s == CCZ_OK)
        s = ccz_lattice_relin_keys_save(&q->relin_keys, c->rk);
    if (s == CCZ_OK)
        s = encrypt_key(q, c, k);
    OPENSSL_cleanse(k, sizeof k);
    if (s)
        ccz_heq_query_free(q);
    return s;
}

/* Coefficients 2i, 2i+1 are byte i's nibbles; the value ends at the first zero byte and every
 * coefficient after it is zero. */
static ccz_status decode_nibbles(ccz_buf *value, const uint64_t *m, size_t n)
{
    size_t end = 0;
    while (2 * end + 1 < n && end < CCZ_HEQ_MAX_VALUE && (m[2 * end] || m[2 * end + 1])) {
        size_t bad = m[2 * end] < 16 ? 2 * end + 1 : 2 * end;
        CCZ_ENSURE(m[bad] < 16, CCZ_ERR_MALFORMED,
                   "the answer is not a value: coefficient %zu is %llu", bad,
                   (unsigned long long)m[bad]);
        end++;
    }
    for (size_t i = 2 * end; i < n; i++)
        CCZ_ENSURE(m[i] == 0, CCZ_ERR_MALFORMED,
                   "the answer is not a value: coefficient %zu after its end is %llu", i,
                   (unsigned long long)m[i]);
    for (size_t i = 0; i < end; i++)
        CCZ_GUARD(ccz_buf_append_u8(value, (uint8_t)(m[2 * i] << 4 | m[2 * i + 1])));
    return CCZ_OK;
}

/* Slot c * block + j holds 2-byte chunk c of entry j's value (zero for every entry that did not
 * match): the chunks are the column sums, and one column at most may be nonzero. */
static ccz_status decode_slots(ccz_buf *value, const uint64_t *m, size_t n, unsigned block,
                               unsigned chunks)
{
    CCZ_ENSURE(block > 0 && chunks > 0 && chunks <= CCZ_HEQ_MAX_VALUE / 2 &&
                   (size_t)block * chunks <= n,
               CCZ_ERR_MALFORMED, "a packed layout of %u x %u slots", chunks, block);
    size_t used = (size_t)block * chunks, column = SIZE_MAX;
    for (size_t i = used; i < n; i++)
        CCZ_ENSURE(m[i] == 0, CCZ_ERR_MALFORMED, "the answer is not a value: slot %zu is set", i);
    for (size_t i = 0; i < used; i++) {
        if (!m[i])
            continue;
        CCZ_ENSURE(column == SIZE_MAX || column == i % block, CCZ_ERR_MALFORMED,
                   "the answer is not a value: slots of two entries are set");
        column = i % block;
    }
    uint8_t bytes[CCZ_HEQ_MAX_VALUE];
    size_t len = 0;
    for (unsigned ch = 0; column != SIZE_MAX && ch < chunks; ch++) {
        uint64_t v = m[(size_t)ch * block + column];
        CCZ_ENSURE(v < 65536, CCZ_ERR_MALFORMED, "the answer is not a value: chunk %u is %llu", ch,
                   (unsigned long long)v);
        bytes[len++] = (uint8_t)(v >> 8);
        bytes[len++] = (uint8_t)v;
    }
    size_t end = 0;
    while (end < len && bytes[end])
        end++;
    for (size_t i = end; i < len; i++)
        CCZ_ENSURE(bytes[i] == 0, CCZ_ERR_MALFORMED,
                   "the answer is not a value: byte %zu after its end is set", i);
    return ccz_buf_append(value, bytes, end);
}

ccz_status ccz_heq_client_decode(ccz_buf *value, int *noise_budget, const ccz_heq_client *c,
                                 ccz_span answer, unsigned block, unsigned chunks)
{
    *noise_budget = 0;
    ccz_lattice_ciphertext *ct = NULL;
    ccz_lattice_plaintext *pt = NULL;
    size_t n = ccz_lattice_slots(c->ctx);
    uint64_t *m = calloc(n, sizeof *m);
    CCZ_ENSURE(m, CCZ_ERR_NOMEM, "out of memory");
    ccz_status s = ccz_lattice_ciphertext_new(&ct, c->ctx);
    if (s == CCZ_OK)
        s = ccz_lattice_plaintext_new(&pt, c->ctx);
    if (s == CCZ_OK && (s = ccz_lattice_ciphertext_load(ct, c->ctx, answer)) != CCZ_OK)
        s = ccz_fail_context(s, "the answer");
    if (s == CCZ_OK)
        s = ccz_lattice_bfv_noise_budget(noise_budget, c->ctx, c->sk, ct);
    if (s == CCZ_OK && *noise_budget <= 0)
        s = ccz_fail(CCZ_ERR_CRYPTO, "the answer has no noise budget left: it cannot be "
                                     "decrypted reliably");
    if (s == CCZ_OK)
        s = ccz_lattice_decrypt(pt, c->ctx, c->sk, ct);
    if (s == CCZ_OK && c->algorithm == CCZ_HEQ_PACKED) {
        s = ccz_lattice_bfv_decode(m, c->ctx, pt);
        if (s == CCZ_OK)
            s = decode_slots(value, m, n, block, chunks);
    } else if (s == CCZ_OK) {
        s = ccz_lattice_bfv_decode_coeffs(m, c->ctx, pt);
        if (s == CCZ_OK)
            s = decode_nibbles(value, m, n);
    }
    OPENSSL_cleanse(m, n * sizeof *m);
    free(m);
    ccz_lattice_plaintext_free(pt);
    ccz_lattice_ciphertext_free(ct);
    return s;
}
