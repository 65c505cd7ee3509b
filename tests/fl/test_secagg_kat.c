/* SPDX-License-Identifier: Apache-2.0 */
/* Secure aggregation against known answers (tests/fl/secagg_kat.json, computed once by
 * tests/fl/gen_secagg_kat.py with python3-cryptography and a transcription of docs/fl.md, not by
 * ccz): the X25519 pair seed and share key, the mask stream, the fixed-point encoding and
 * decoding, Shamir over GF(2^8) with given coefficients and its reconstruction, a share sealed
 * as ShareKeys seals it, AES-256-GCM with AAD, and whole masked updates. tests/fl/
 * test_secagg_kat.py holds the Python client (solutions/hfl/client.py) to the same values. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "ccz/secagg.h"
#include "svc/fl/hfl_secagg.h"
#include "test.h"

static json_t *kat;

static json_t *load(void)
{
    if (kat)
        return kat;
    const char *src = getenv("CCZ_SOURCE_DIR");
    char path[1100];
    snprintf(path, sizeof path, "%s/tests/fl/secagg_kat.json", src ? src : ".");
    json_error_t err;
    kat = json_load_file(path, JSON_REJECT_DUPLICATES, &err);
    if (!kat)
        fprintf(stderr, "%s: %s (line %d)\n", path, err.text, err.line);
    CHECK(kat != NULL);
    return kat;
}

static json_t *at(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (!v)
        fprintf(stderr, "secagg_kat.json: no '%s'\n", key);
    CHECK(v != NULL);
    return v;
}

/* The hex string v into out, exactly n bytes. */
static void hexv(uint8_t *out, size_t n, json_t *v)
{
    const char *s = json_string_value(v);
    CHECK(s != NULL && strlen(s) == 2 * n);
    for (size_t i = 0; s && i < n; i++) {
        unsigned byte;
        CHECK(sscanf(s + 2 * i, "%2x", &byte) == 1);
        out[i] = (uint8_t)byte;
    }
}

static void hex(uint8_t *out, size_t n, json_t *o, const char *key)
{
    hexv(out, n, at(o, key));
}

static size_t hex_len(json_t *o, const char *key)
{
    return strlen(json_string_value(at(o, key))) / 2;
}

static uint32_t word(json_t *v)
{
    CHECK(json_is_integer(v) && json_integer_value(v) >= 0 &&
          json_integer_value(v) <= 0xffffffffll);
    return (uint32_t)json_integer_value(v);
}

/* X25519 between fixed keys (RFC 7748's and others): the public keys, the pair's seed
 * (SHA-256 of the agreement) from both ends, and the share key (HKDF-SHA256). */
static void x25519_pairs(void)
{
    json_t *a = at(load(), "x25519");
    CHECK_INT(json_array_size(a), 2);
    size_t i;
    json_t *p;
    json_array_foreach (a, i, p) {
        uint8_t ska[32], skb[32], pka[32], pkb[32], shared[32], seed[32], key[32], got[32];
        hex(ska, 32, p, "sk_a");
        hex(skb, 32, p, "sk_b");
        hex(pka, 32, p, "pk_a");
        hex(pkb, 32, p, "pk_b");
        hex(shared, 32, p, "shared");
        hex(seed, 32, p, "seed");
        hex(key, 32, p, "pair_key");
        CHECK_OK(ccz_secagg_public(got, ska));
        CHECK(!memcmp(got, pka, 32));
        CHECK_OK(ccz_secagg_public(got, skb));
        CHECK(!memcmp(got, pkb, 32));
        unsigned n = 0;
        CHECK(EVP_Digest(shared, 32, got, &n, EVP_sha256(), NULL) == 1 && n == 32);
        CHECK(!memcmp(got, seed, 32));
        CHECK_OK(ccz_secagg_agree(got, ska, pkb));
        CHECK(!memcmp(got, seed, 32));
        CHECK_OK(ccz_secagg_agree(got, skb, pka));
        CHECK(!memcmp(got, seed, 32));
        CHECK_OK(ccz_secagg_pair_key(got, ska, pkb));
        CHECK(!memcmp(got, key, 32));
        CHECK_OK(ccz_secagg_pair_key(got, skb, pka));
        CHECK(!memcmp(got, key, 32));
    }
}

/* The mask stream of a seed (AES-256-CTR, zero IV, little-endian words): its first and last
 * words and the SHA-256 of all of them, through the self mask added to zeros (and taken away). */
static void mask_streams(void)
{
    json_t *a = at(load(), "prg");
    CHECK_INT(json_array_size(a), 3);
    size_t i;
    json_t *p;
    json_array_foreach (a, i, p) {
        uint8_t seed[32], want[32], got[32];
        hex(seed, 32, p, "seed");
        hex(want, 32, p, "sha256");
        size_t n = (size_t)json_integer_value(at(p, "words"));
        uint32_t *w = calloc(n, sizeof *w);
        uint8_t *le = malloc(4 * n);
        CHECK(w && le);
        CHECK_OK(ccz_secagg_self_mask(w, n, seed, 1));
        json_t *first = at(p, "first"), *last = at(p, "last");
        for (size_t k = 0; k < json_array_size(first); k++)
            CHECK_INT(w[k], word(json_array_get(first, k)));
        for (size_t k = 0; k < json_array_size(last); k++)
            CHECK_INT(w[n - json_array_size(last) + k], word(json_array_get(last, k)));
        for (size_t k = 0; k < n; k++)
            for (int b = 0; b < 4; b++)
                le[4 * k + (size_t)b] = (uint8_t)(w[k] >> (8 * b));
        unsigned len = 0;
        CHECK(EVP_Digest(le, 4 * n, got, &len, EVP_sha256(), NULL) == 1 && len == 32);
        CHECK(!memcmp(got, want, 32));
        CHECK_OK(ccz_secagg_self_mask(w, n, seed, -1));
        for (size_t k = 0; k < n; k++)
            CHECK_INT(w[k], 0);
        free(w);
        free(le);
    }
}

/* Values times weight (in float32) times 2^22, rounded with ties to even, into Z_2^32 (the
 * client's encoding, with no peer to mask with); the overflows refused; the aggregator's decoding
 * of sums. */
static void fixed_point(void)
{
    json_t *fp = at(load(), "fixed_point");
    CHECK(json_integer_value(at(load(), "scale")) == 4194304 && HFL_SA_SCALE == 4194304.0f);
    static const uint8_t zero[32];
    static const bool none[1] = {true};
    size_t i;
    json_t *c;
    json_array_foreach (at(fp, "encode"), i, c) {
        float w = (float)json_real_value(at(c, "w"));
        double weight = json_real_value(at(c, "weight"));
        CHECK((double)w == json_real_value(at(c, "w"))); /* float32 values, exactly */
        uint8_t got[4];
        /* no pairwise mask (one client) and a self mask of zero words subtracted again */
        uint32_t self[1] = {0};
        CHECK_OK(ccz_secagg_self_mask(self, 1, zero, 1));
        CHECK_OK(hfl_sa_masked(got, &w, 1, weight, 0, zero, NULL, none, 1, zero));
        uint32_t v = get_le32(got) - self[0];
        if (v != word(at(c, "word")))
            fprintf(stderr, "encode %.9g x %.9g: %u, expected %u\n", (double)w, weight, v,
                    word(at(c, "word")));
        CHECK_INT(v, word(at(c, "word")));
        /* and ccz_secagg_mask alone on the product */
        float x = w * (float)weight;
        uint32_t m;
        CHECK_OK(ccz_secagg_mask(&m, &x, 1, HFL_SA_SCALE, 0, zero, NULL, NULL, 1));
        CHECK_INT(m, word(at(c, "word")));
    }
    json_array_foreach (at(fp, "overflow"), i, c) {
        float w = (float)json_real_value(at(c, "w"));
        uint8_t got[4];
        CHECK_STATUS(hfl_sa_masked(got, &w, 1, json_real_value(at(c, "weight")), 0, zero, NULL,
                                   none, 1, zero),
                     CCZ_ERR_OVERFLOW);
    }
    json_array_foreach (at(fp, "decode"), i, c) {
        uint32_t w = word(at(c, "word"));
        float v;
        ccz_secagg_decode(&v, &w, 1, HFL_SA_SCALE);
        CHECK((double)v == json_real_value(at(c, "value")));
    }
}

/* Shamir over GF(2^8) with the given coefficients: every share, and the secret again from the
 * listed subsets (in any order). */
static void shamir(void)
{
    json_t *a = at(load(), "shamir");
    CHECK_INT(json_array_size(a), 3);
    size_t i;
    json_t *p;
    json_array_foreach (a, i, p) {
        unsigned t = (unsigned)json_integer_value(at(p, "t")),
                 n = (unsigned)json_integer_value(at(p, "n"));
        uint8_t secret[32], coefs[32 * 8], shares[8][32], want[32], got[32];
        CHECK(t >= 1 && t <= n && n <= 8);
        hex(secret, 32, p, "secret");
        CHECK_INT(hex_len(p, "coefs"), 32 * (t - 1));
        if (t > 1)
            hex(coefs, 32 * (t - 1), p, "coefs");
        CHECK_OK(ccz_secagg_share_with(shares, secret, t, n, coefs));
        json_t *sh = at(p, "shares");
        CHECK_INT(json_array_size(sh), n);
        for (unsigned k = 0; k < n; k++) {
            hexv(want, 32, json_array_get(sh, k));
            CHECK(!memcmp(shares[k], want, 32));
        }
        size_t j;
        json_t *sub;
        json_array_foreach (at(p, "combine"), j, sub) {
            json_t *xs = at(sub, "xs");
            uint8_t x[8], picked[8][32];
            size_t m = json_array_size(xs);
            CHECK(m >= 1 && m <= 8);
            for (size_t k = 0; k < m; k++) {
                x[k] = (uint8_t)json_integer_value(json_array_get(xs, k));
                CHECK(x[k] >= 1 && x[k] <= n);
                memcpy(picked[k], shares[x[k] - 1], 32);
            }
            hex(want, 32, sub, "secret");
            CHECK_OK(ccz_secagg_combine(got, (const uint8_t(*)[32])picked, x, (unsigned)m));
            CHECK(!memcmp(got, want, 32));
        }
    }
}

/* A share sealed as ShareKeys seals it (its plaintext and nonce as docs/fl.md lays them out),
 * and opened again; AES-256-GCM with AAD. */
static void sealing(void)
{
    json_t *s = at(load(), "share_seal");
    uint8_t key[32], sh_s[32], sh_b[32], pt[HFL_SA_SHARE_PT], nonce[12], want[HFL_SA_SHARE_CT],
        got[HFL_SA_SHARE_CT], back[HFL_SA_SHARE_PT];
    hex(key, 32, s, "key");
    hex(sh_s, 32, s, "s_share");
    hex(sh_b, 32, s, "b_share");
    hex(pt, sizeof pt, s, "plaintext");
    hex(nonce, 12, s, "nonce");
    hex(want, sizeof want, s, "sealed");
    unsigned round = (unsigned)json_integer_value(at(s, "round")),
             from = (unsigned)json_integer_value(at(s, "from")),
             to = (unsigned)json_integer_value(at(s, "to"));
    CHECK_OK(hfl_sa_seal_share(got, key, round, from, to, sh_s, sh_b));
    CHECK(!memcmp(got, want, sizeof want));
    CHECK_OK(ccz_secagg_open(back, want, sizeof want, key, nonce, NULL, 0));
    CHECK(!memcmp(back, pt, sizeof pt));
    json_t *a = at(load(), "aead");
    size_t n = hex_len(a, "plaintext"), na = hex_len(a, "aad");
    uint8_t akey[32], anonce[12], aad[64], apt[64], asealed[80], aout[80];
    CHECK(n <= 64 && na <= 64);
    hex(akey, 32, a, "key");
    hex(anonce, 12, a, "nonce");
    hex(aad, na, a, "aad");
    hex(apt, n, a, "plaintext");
    hex(asealed, n + CCZ_SECAGG_TAG, a, "sealed");
    CHECK_OK(ccz_secagg_seal(aout, apt, n, akey, anonce, aad, na));
    CHECK(!memcmp(aout, asealed, n + CCZ_SECAGG_TAG));
}

/* Whole masked updates of client 1 of 3 (weight, pairwise masks with the present peers, self
 * mask), word for word. */
static void masked_updates(void)
{
    json_t *m = at(load(), "masked_update");
    unsigned n = (unsigned)json_integer_value(at(m, "n")),
             me = (unsigned)json_integer_value(at(m, "me"));
    double weight = json_real_value(at(m, "weight"));
    json_t *wj = at(m, "w");
    size_t dim = json_array_size(wj);
    CHECK(n == 3 && dim == 8);
    float w[8];
    for (size_t k = 0; k < dim; k++)
        w[k] = (float)json_real_value(json_array_get(wj, k));
    uint8_t sk[3][32], pk[3][32], b[32], got[32];
    for (unsigned k = 0; k < n; k++) {
        hexv(sk[k], 32, json_array_get(at(m, "s_sk"), k));
        hexv(pk[k], 32, json_array_get(at(m, "s_pk"), k));
    }
    hex(b, 32, m, "b");
    size_t i;
    json_t *c;
    json_array_foreach (at(m, "cases"), i, c) {
        bool present[3] = {false, false, false};
        size_t j;
        json_t *x;
        json_array_foreach (at(c, "present"), j, x)
            present[json_integer_value(x)] = true;
        CHECK_OK(hfl_sa_masked(got, w, dim, weight, me, sk[me], (const uint8_t(*)[32])pk, present,
                               n, b));
        json_t *words = at(c, "words");
        CHECK_INT(json_array_size(words), dim);
        for (size_t k = 0; k < dim; k++)
            CHECK_INT(get_le32(got + 4 * k), word(json_array_get(words, k)));
    }
}

TEST_MAIN(T(x25519_pairs), T(mask_streams), T(fixed_point), T(shamir), T(sealing),
          T(masked_updates))
