/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: a he-query server's answer as the client decodes it (ccz_heq_client_decode,
 * src/hequery/client.c), under a fixed client key of the fast and the packed algorithm. Byte 0
 * picks the algorithm and whether the rest is the answer's bytes as sent (a ciphertext to load)
 * or values (2 bytes each, big-endian) the target encrypts under the client's key into the
 * coefficients or slots of an answer (modulo the plaintext modulus); bytes 1-2 are the packed layout's block (big-endian) and
 * byte 3 its chunks. A decoded value is at most CCZ_HEQ_MAX_VALUE bytes with no NUL, and is
 * only reported with a positive noise budget; a failure appends nothing; a fast answer the target
 * encrypted decodes exactly when its coefficients are a value's nibbles, to that value. */
#include <stdlib.h>
#include <string.h>

#include "ccz/hequery.h"
#include "ccz/lattice.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct {
    ccz_heq_client *c;
    ccz_lattice_context *ctx;
    ccz_lattice_public_key *pk;
} fixed_client;

static fixed_client *client(ccz_heq_algorithm a)
{
    static fixed_client fc[2];
    fixed_client *f = &fc[a == CCZ_HEQ_PACKED];
    if (f->c)
        return f;
    ccz_heq_query q;
    ccz_lattice_params p;
    if (ccz_heq_client_new(&f->c, a) != CCZ_OK || ccz_heq_client_query(&q, f->c, CCZ_LIT("k")) ||
        ccz_heq_params(&p, a) != CCZ_OK || ccz_lattice_context_new(&f->ctx, &p) != CCZ_OK ||
        ccz_lattice_public_key_load(&f->pk, f->ctx, ccz_buf_span(&q.public_key)) != CCZ_OK)
        abort();
    ccz_heq_query_free(&q);
    return f;
}

/* The answer whose coefficients (or slots, packed) are the values in v: 2 bytes each, into m
 * (n of them, the rest zero); the count of values is returned. */
static size_t forge(ccz_buf *out, uint64_t *m, const fixed_client *f, ccz_heq_algorithm a,
                    ccz_span v)
{
    size_t n = ccz_lattice_slots(f->ctx), k = v.len / 2 < n ? v.len / 2 : n;
    ccz_lattice_plaintext *pt = NULL;
    ccz_lattice_ciphertext *ct = NULL;
    if (ccz_lattice_plaintext_new(&pt, f->ctx) || ccz_lattice_ciphertext_new(&ct, f->ctx))
        abort();
    uint64_t t = ccz_lattice_context_params(f->ctx)->plain_modulus;
    for (size_t i = 0; i < k; i++)
        m[i] = ((uint64_t)v.ptr[2 * i] << 8 | v.ptr[2 * i + 1]) % t;
    ccz_status s = a == CCZ_HEQ_PACKED ? ccz_lattice_bfv_encode(pt, f->ctx, m, k)
                                       : ccz_lattice_bfv_encode_coeffs(pt, f->ctx, m, k);
    if (s || ccz_lattice_encrypt(ct, f->ctx, f->pk, pt) || ccz_lattice_ciphertext_save(out, ct))
        abort();
    ccz_lattice_ciphertext_free(ct);
    ccz_lattice_plaintext_free(pt);
    return k;
}

/* The fast algorithm's answer is a value's nibbles, high first, in its first coefficients and
 * zeros after them: whether the k values of m are one (of 0 to CCZ_HEQ_MAX_VALUE bytes, none
 * NUL), and its bytes into want. */
static bool nibbles_value(ccz_buf *want, const uint64_t *m, size_t k)
{
    size_t last = k;
    while (last > 0 && !m[last - 1])
        last--;
    size_t bytes = (last + 1) / 2;
    if (bytes > CCZ_HEQ_MAX_VALUE)
        return false;
    for (size_t j = 0; j < bytes; j++) {
        uint64_t hi = m[2 * j], lo = 2 * j + 1 < k ? m[2 * j + 1] : 0;
        if (hi >= 16 || lo >= 16 || (!hi && !lo))
            return false;
        if (ccz_buf_append_u8(want, (uint8_t)(hi << 4 | lo)) != CCZ_OK)
            abort();
    }
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4)
        return 0;
    ccz_heq_algorithm a = data[0] & 1 ? CCZ_HEQ_PACKED : CCZ_HEQ_FAST;
    bool raw = data[0] & 2;
    unsigned block = (unsigned)data[1] << 8 | data[2], chunks = data[3];
    fixed_client *f = client(a);
    ccz_span rest = CCZ_SPAN(data + 4, size - 4);
    ccz_buf answer = CCZ_BUF_INIT, value = CCZ_BUF_INIT, want = CCZ_BUF_INIT;
    uint64_t *m = calloc(ccz_lattice_slots(f->ctx), sizeof *m);
    if (!m)
        abort();
    size_t k = 0;
    if (!raw)
        k = forge(&answer, m, f, a, rest);
    else if (ccz_buf_append(&answer, rest.ptr, rest.len) != CCZ_OK)
        abort();
    int budget = -1;
    ccz_status s =
        ccz_heq_client_decode(&value, &budget, f->c, ccz_buf_span(&answer), block, chunks);
    if (s == CCZ_OK && (budget <= 0 || value.len > CCZ_HEQ_MAX_VALUE ||
                        (value.len && memchr(value.ptr, 0, value.len))))
        abort();
    if (s != CCZ_OK && value.len)
        abort();
    /* a fresh encryption under the client's key decrypts: the fast answer decodes exactly when
     * its coefficients are a value's nibbles, to that value */
    if (!raw && a == CCZ_HEQ_FAST) {
        bool is_value = nibbles_value(&want, m, k);
        if (is_value != (s == CCZ_OK) || (!is_value && s != CCZ_ERR_MALFORMED) ||
            (is_value &&
             (value.len != want.len || (value.len && memcmp(value.ptr, want.ptr, value.len) != 0))))
            abort();
    }
    ccz_error_clear();
    free(m);
    ccz_buf_free(&want);
    ccz_buf_free(&value);
    ccz_buf_free(&answer);
    return 0;
}
