/* SPDX-License-Identifier: Apache-2.0 */
/* Secure aggregation's primitives (include/ccz/secagg.h): the masked updates of five clients sum
 * to the plain sum; one masked update does not show its client's values; a client that dropped
 * out has its key recovered from three of five Shamir shares and its masks removed, giving the
 * survivors' plain sum; two shares do not give the key; the helpers of the protocol around them
 * (public keys, the pair's share key, AES-GCM sealing with tampering refused, self masks); the
 * RNG failing, the bounds of a sharing and of AES-GCM, a low-order key when unmasking, and
 * decoding's length. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccz/secagg.h"
#include "rng_fail.h"
#include "svc/fl/hfl_secagg.h"
#include "test.h"

#define N 5
#define DIM 4099
#define SCALE 65536.0f

static uint8_t sk[N][32], pk[N][32];
static float x[N][DIM];

static void setup(void)
{
    static bool done;
    if (done)
        return;
    done = true;
    uint64_t r = 7;
    for (int i = 0; i < N; i++) {
        CHECK_OK(ccz_secagg_keygen(sk[i], pk[i]));
        for (int k = 0; k < DIM; k++) {
            r = r * 6364136223846793005ull + 1442695040888963407ull;
            x[i][k] = (float)((double)(r >> 11) / 9007199254740992.0 * 20 - 10);
        }
    }
}

static void agreement(void)
{
    setup();
    uint8_t a[32], b[32];
    CHECK_OK(ccz_secagg_agree(a, sk[0], pk[1]));
    CHECK_OK(ccz_secagg_agree(b, sk[1], pk[0]));
    CHECK(!memcmp(a, b, 32));
    CHECK_OK(ccz_secagg_agree(b, sk[2], pk[0]));
    CHECK(memcmp(a, b, 32) != 0);
}

static void sum_equals_plain_sum(void)
{
    setup();
    static uint32_t m[N][DIM];
    uint32_t sum[DIM] = {0};
    for (int i = 0; i < N; i++) {
        CHECK_OK(ccz_secagg_mask(m[i], x[i], DIM, SCALE, (unsigned)i, sk[i],
                                 (const uint8_t(*)[32])pk, NULL, N));
        for (int k = 0; k < DIM; k++)
            sum[k] += m[i][k];
    }
    float got[DIM];
    ccz_secagg_decode(got, sum, DIM, SCALE);
    double worst = 0;
    for (int k = 0; k < DIM; k++) {
        double plain = 0;
        for (int i = 0; i < N; i++)
            plain += x[i][k];
        worst = fmax(worst, fabs(got[k] - plain));
    }
    fprintf(stderr, "secure sum of %d clients: max |masked sum - plain sum| = %.3g\n", N, worst);
    CHECK(worst <= N * 0.5 / SCALE + 1e-5);
    /* one masked update alone: its words are not its values (the mask is a keyed stream) */
    int same = 0, near = 0;
    for (int k = 0; k < DIM; k++) {
        int32_t q = (int32_t)lrint((double)x[0][k] * SCALE);
        same += m[0][k] == (uint32_t)q;
        near += fabs((double)(int32_t)m[0][k] / SCALE - x[0][k]) < 1.0;
    }
    fprintf(stderr, "client 0's masked update: %d of %d words equal, %d within 1.0\n", same, DIM,
            near);
    CHECK(same == 0);
    CHECK(near < DIM / 100);
    /* overflow is refused */
    float big = 1e6f;
    uint32_t o;
    CHECK_STATUS(ccz_secagg_mask(&o, &big, 1, SCALE, 0, sk[0], (const uint8_t(*)[32])pk, NULL, N),
                 CCZ_ERR_OVERFLOW);
}

static void dropout_recovered(void)
{
    setup();
    /* client 2 masked nothing in: it dropped after the keys were exchanged; its key was shared
     * 3-of-5 beforehand */
    uint8_t shares[N][32];
    CHECK_OK(ccz_secagg_share(shares, sk[2], 3, N));
    static uint32_t m[N][DIM];
    uint32_t sum[DIM] = {0};
    bool survived[N] = {true, true, false, true, true};
    for (int i = 0; i < N; i++) {
        if (!survived[i])
            continue;
        CHECK_OK(ccz_secagg_mask(m[i], x[i], DIM, SCALE, (unsigned)i, sk[i],
                                 (const uint8_t(*)[32])pk, NULL, N));
        for (int k = 0; k < DIM; k++)
            sum[k] += m[i][k];
    }
    /* three survivors' shares (x = 1, 4, 5) give the key back */
    uint8_t pick[3][32], xs[3] = {1, 4, 5}, rec[32];
    memcpy(pick[0], shares[0], 32);
    memcpy(pick[1], shares[3], 32);
    memcpy(pick[2], shares[4], 32);
    CHECK_OK(ccz_secagg_combine(rec, (const uint8_t(*)[32])pick, xs, 3));
    CHECK(!memcmp(rec, sk[2], 32));
    /* two are not enough */
    uint8_t two[32];
    CHECK_OK(ccz_secagg_combine(two, (const uint8_t(*)[32])pick, xs, 2));
    CHECK(memcmp(two, sk[2], 32) != 0);
    CHECK_STATUS(ccz_secagg_combine(two, (const uint8_t(*)[32])pick, (const uint8_t[]){1, 1, 5}, 3),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "share 1 given twice");
    /* x = 0 is where the secret is: no share has that index */
    CHECK_STATUS(ccz_secagg_combine(two, (const uint8_t(*)[32])pick, (const uint8_t[]){1, 0, 5}, 3),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "share index 0");
    CHECK_OK(ccz_secagg_unmask_dropped(sum, DIM, 2, rec, (const uint8_t(*)[32])pk, survived, N));
    float got[DIM];
    ccz_secagg_decode(got, sum, DIM, SCALE);
    double worst = 0;
    for (int k = 0; k < DIM; k++) {
        double plain = 0;
        for (int i = 0; i < N; i++)
            plain += survived[i] ? x[i][k] : 0;
        worst = fmax(worst, fabs(got[k] - plain));
    }
    fprintf(stderr, "after client 2's masks were removed: max |sum - survivors' sum| = %.3g\n",
            worst);
    CHECK(worst <= N * 0.5 / SCALE + 1e-5);
}

/* The protocol's helpers: the public key of a secret, the pair's share key from both ends,
 * AES-GCM sealing with one flipped byte (ciphertext, tag, nonce) refused, a self mask removed. */
static void protocol_helpers(void)
{
    setup();
    uint8_t pk0[32], k01[32], k10[32], k02[32];
    CHECK_OK(ccz_secagg_public(pk0, sk[0]));
    CHECK(!memcmp(pk0, pk[0], 32));
    CHECK_OK(ccz_secagg_pair_key(k01, sk[0], pk[1]));
    CHECK_OK(ccz_secagg_pair_key(k10, sk[1], pk[0]));
    CHECK_OK(ccz_secagg_pair_key(k02, sk[0], pk[2]));
    CHECK(!memcmp(k01, k10, 32));
    CHECK(memcmp(k01, k02, 32) != 0);
    uint8_t pt[76], ct[76 + CCZ_SECAGG_TAG], back[76], nonce[12] = {1, 2, 3};
    for (int i = 0; i < 76; i++)
        pt[i] = (uint8_t)(i * 7);
    CHECK_OK(ccz_secagg_seal(ct, pt, sizeof pt, k01, nonce, NULL, 0));
    CHECK_OK(ccz_secagg_open(back, ct, sizeof ct, k10, nonce, NULL, 0));
    CHECK(!memcmp(back, pt, sizeof pt));
    for (size_t at = 0; at < sizeof ct; at += 37) { /* bytes 0, 37, 74 (ciphertext), 91 (tag) */
        ct[at] ^= 1;
        CHECK_STATUS(ccz_secagg_open(back, ct, sizeof ct, k10, nonce, NULL, 0),
                     CCZ_ERR_BAD_SIGNATURE);
        ct[at] ^= 1;
    }
    ct[sizeof ct - 1] ^= 0x80;
    CHECK_STATUS(ccz_secagg_open(back, ct, sizeof ct, k10, nonce, NULL, 0), CCZ_ERR_BAD_SIGNATURE);
    ct[sizeof ct - 1] ^= 0x80;
    /* another pair's key, another nonce */
    CHECK_STATUS(ccz_secagg_open(back, ct, sizeof ct, k02, nonce, NULL, 0), CCZ_ERR_BAD_SIGNATURE);
    nonce[0] ^= 1;
    CHECK_STATUS(ccz_secagg_open(back, ct, sizeof ct, k10, nonce, NULL, 0), CCZ_ERR_BAD_SIGNATURE);
    CHECK_STATUS(ccz_secagg_open(back, ct, CCZ_SECAGG_TAG - 1, k10, nonce, NULL, 0),
                 CCZ_ERR_MALFORMED);
    /* a self mask added and taken away */
    static uint32_t v[DIM], orig[DIM];
    for (int i = 0; i < DIM; i++)
        v[i] = orig[i] = (uint32_t)i * 2654435761u;
    CHECK_OK(ccz_secagg_self_mask(v, DIM, k01, 1));
    int same = 0;
    for (int i = 0; i < DIM; i++)
        same += v[i] == orig[i];
    CHECK(same < 3);
    CHECK_OK(ccz_secagg_self_mask(v, DIM, k01, -1));
    CHECK(!memcmp(v, orig, sizeof v));
}

/* What each check refuses on its own: a client number past n, a scale that is not positive and
 * finite, a value whose scaled magnitude reaches 2^31, a dropped client past n, zero shares; the
 * clients absent from a round (present) are left out of the masks; a dropped client's masks are
 * removed with the clients that survived only; a failed open leaves nothing of the plaintext; shares are random. */
static void refusals_and_absent_clients(void)
{
    setup();
    const uint8_t(*pks)[32] = (const uint8_t(*)[32])pk;
    uint32_t o[2];
    float v[2] = {1.0f, 32767.0f};
    CHECK_STATUS(ccz_secagg_mask(o, v, 2, SCALE, N, sk[0], pks, NULL, N), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "client 5 of 5");
    CHECK_STATUS(ccz_secagg_mask(o, v, 2, 0.0f, 0, sk[0], pks, NULL, N), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(ccz_secagg_mask(o, v, 2, INFINITY, 0, sk[0], pks, NULL, N),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_OK(ccz_secagg_mask(o, v, 2, SCALE, 0, sk[0], pks, NULL, N)); /* 2^31 - 2^16 fits */
    v[1] = 32768.0f;                                                   /* 2^31 does not */
    CHECK_STATUS(ccz_secagg_mask(o, v, 2, SCALE, 0, sk[0], pks, NULL, N), CCZ_ERR_OVERFLOW);
    CHECK_CONTAINS(ccz_error_detail(), "value 1 (32768) does not fit the fixed-point encoding");
    CHECK(o[0] == 0); /* value 0 was written unmasked before value 1 failed: wiped */
    /* 2^31 - 2^-15, below 2^31 but rounding to it: refused too, not wrapped to -2^31 */
    float edge = 1.0f + 0x1p-23f;
    CHECK_STATUS(ccz_secagg_mask(o, &edge, 1, 0x1p31f - 256.0f, 0, sk[0], pks, NULL, N),
                 CCZ_ERR_OVERFLOW);
    CHECK_CONTAINS(ccz_error_detail(), "value 0 (1) does not fit the fixed-point encoding");
    /* a low-order peer key (all zeros) fails the agreement after the masks of the peers before
     * it were added: the half-masked update is wiped */
    {
        uint8_t bad[N][32];
        memcpy(bad, pk, sizeof bad);
        memset(bad[3], 0, 32);
        v[1] = 2.0f;
        o[0] = o[1] = 7;
        CHECK_STATUS(ccz_secagg_mask(o, v, 2, SCALE, 0, sk[0], (const uint8_t(*)[32])bad, NULL, N),
                     CCZ_ERR_CRYPTO);
        CHECK_CONTAINS(ccz_error_detail(), "X25519 agreement failed");
        CHECK(o[0] == 0 && o[1] == 0);
    }
    /* clients 1 and 3 absent from the start: the others' masks cancel among themselves */
    bool present[N] = {true, false, true, false, true};
    static uint32_t m[DIM];
    uint32_t sum[DIM] = {0};
    for (int i = 0; i < N; i++) {
        if (!present[i])
            continue;
        CHECK_OK(ccz_secagg_mask(m, x[i], DIM, SCALE, (unsigned)i, sk[i], pks, present, N));
        for (int k = 0; k < DIM; k++)
            sum[k] += m[k];
    }
    float got[DIM];
    ccz_secagg_decode(got, sum, DIM, SCALE);
    double worst = 0;
    for (int k = 0; k < DIM; k++)
        worst = fmax(worst, fabs(got[k] - (x[0][k] + x[2][k] + x[4][k])));
    CHECK(worst <= N * 0.5 / SCALE + 1e-5);
    /* client 3 absent from the start, client 2 dropped after the keys were exchanged: 2's masks
     * are removed with the survivors only, not with 3, who added none */
    bool present3[N] = {true, true, true, false, true},
         survived[N] = {true, true, false, false, true};
    memset(sum, 0, sizeof sum);
    for (int i = 0; i < N; i++) {
        if (!survived[i])
            continue;
        CHECK_OK(ccz_secagg_mask(m, x[i], DIM, SCALE, (unsigned)i, sk[i], pks, present3, N));
        for (int k = 0; k < DIM; k++)
            sum[k] += m[k];
    }
    CHECK_STATUS(ccz_secagg_unmask_dropped(sum, DIM, N, sk[2], pks, survived, N),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "client 5 of 5");
    CHECK_OK(ccz_secagg_unmask_dropped(sum, DIM, 2, sk[2], pks, survived, N));
    ccz_secagg_decode(got, sum, DIM, SCALE);
    worst = 0;
    for (int k = 0; k < DIM; k++)
        worst = fmax(worst, fabs(got[k] - (x[0][k] + x[1][k] + x[4][k])));
    CHECK(worst <= N * 0.5 / SCALE + 1e-5);
    /* shares: none is no sharing; two sharings of one secret differ, and no share is it */
    uint8_t a[N][32], b[N][32], rec[32];
    CHECK_STATUS(ccz_secagg_combine(rec, (const uint8_t(*)[32])a, (const uint8_t[]){1}, 0),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "0 shares");
    CHECK_OK(ccz_secagg_share(a, sk[1], 3, N));
    CHECK_OK(ccz_secagg_share(b, sk[1], 3, N));
    CHECK(memcmp(a, b, sizeof a) != 0);
    for (int i = 0; i < N; i++)
        CHECK(memcmp(a[i], sk[1], 32) != 0);
    /* a failed open leaves zeros, not the decryption of a forged ciphertext */
    uint8_t key[32] = {9}, nonce[12] = {0}, pt[40] = {1, 2, 3}, ct[40 + CCZ_SECAGG_TAG], out[40];
    CHECK_OK(ccz_secagg_seal(ct, pt, sizeof pt, key, nonce, NULL, 0));
    ct[sizeof ct - 1] ^= 1;
    memset(out, 0xa5, sizeof out);
    CHECK_STATUS(ccz_secagg_open(out, ct, sizeof ct, key, nonce, NULL, 0), CCZ_ERR_BAD_SIGNATURE);
    static const uint8_t zero[40];
    CHECK(!memcmp(out, zero, sizeof out));
}

/* Two clients of weight 1/2 as hfl_sa_masked uploads them: the masked words' sum, without the
 * self masks, is the mean of their values to the fixed point's rounding, up to values just
 * below 512 (2^31 / 2^22); a value of 512 or more is refused even when it times its weight
 * fits, since the survivors' mean of it would wrap in Z_2^32 (600 and 600 would come out as
 * -424). */
static void mean_near_the_limit(void)
{
    setup();
    const uint8_t(*pks)[32] = (const uint8_t(*)[32])pk;
    const bool present[2] = {true, true};
    uint8_t b[2][32] = {{1}, {2}};
    const float w[2][5] = {{511.99997f, -511.99997f, 300.0f, 0.25f, -7.5f},
                           {511.99997f, -511.99997f, -300.0f, 0.75f, 100.0f}};
    uint8_t words[2][5 * 4];
    for (unsigned i = 0; i < 2; i++)
        CHECK_OK(hfl_sa_masked(words[i], w[i], 5, 0.5, i, sk[i], pks, present, 2, b[i]));
    uint32_t sum[5];
    for (size_t k = 0; k < 5; k++)
        sum[k] = get_le32(words[0] + 4 * k) + get_le32(words[1] + 4 * k);
    CHECK_OK(ccz_secagg_self_mask(sum, 5, b[0], -1));
    CHECK_OK(ccz_secagg_self_mask(sum, 5, b[1], -1));
    float mean[5];
    ccz_secagg_decode(mean, sum, 5, HFL_SA_SCALE);
    for (size_t k = 0; k < 5; k++)
        CHECK(fabs((double)mean[k] - ((double)w[0][k] + w[1][k]) / 2) <= 1.0 / HFL_SA_SCALE);
    /* 600 times 1/2 fits the encoding; the mean of 600 and 600 does not */
    const float big[2] = {1.0f, 600.0f};
    CHECK_STATUS(hfl_sa_masked(words[0], big, 2, 0.5, 0, sk[0], pks, present, 2, b[0]),
                 CCZ_ERR_OVERFLOW);
    CHECK_CONTAINS(ccz_error_detail(), "value 1 (600) is not below 512 in magnitude");
    /* 512 itself is at the limit, not below it, negative or not */
    const float edge[2] = {0.5f, -512.0f};
    CHECK_STATUS(hfl_sa_masked(words[0], edge, 2, 0.5, 0, sk[0], pks, present, 2, b[0]),
                 CCZ_ERR_OVERFLOW);
    CHECK_CONTAINS(ccz_error_detail(), "value 1 (-512) is not below 512 in magnitude");
    const float nan[1] = {NAN};
    CHECK_STATUS(hfl_sa_masked(words[0], nan, 1, 0.5, 0, sk[0], pks, present, 2, b[0]),
                 CCZ_ERR_OVERFLOW);
}

/* What fails with the RNG, at the bounds, or on a bad key, each with its own fault: a key pair
 * and a sharing need randomness (a 1-of-n sharing needs none: its shares are the secret); an
 * n-of-n sharing is taken and combines from every share, n + 1 of n refused; a dropped client's
 * masks cannot be removed against a low-order survivor key; AES-GCM refuses 2^31 bytes or more
 * of text or of associated data before it reads them. */
static void failures_and_bounds(void)
{
    setup();
    uint8_t s[32], p[32], shares[N][32], rec[32];
    rng_fail_start();
    ccz_status st = ccz_secagg_keygen(s, p);
    rng_fail_stop();
    CHECK_STATUS(st, CCZ_ERR_CRYPTO);
    CHECK_STR(ccz_error_detail(), "RAND_bytes failed");
    rng_fail_start();
    st = ccz_secagg_share(shares, sk[1], 3, N);
    ccz_status one = ccz_secagg_share(shares, sk[1], 1, N);
    rng_fail_stop();
    CHECK_STATUS(st, CCZ_ERR_CRYPTO);
    CHECK_OK(one);
    for (int i = 0; i < N; i++)
        CHECK(!memcmp(shares[i], sk[1], 32));
    /* N of N, drawn and given */
    const uint8_t xs[N] = {1, 2, 3, 4, 5};
    CHECK_OK(ccz_secagg_share(shares, sk[1], N, N));
    CHECK_OK(ccz_secagg_combine(rec, (const uint8_t(*)[32])shares, xs, N));
    CHECK(!memcmp(rec, sk[1], 32));
    static const uint8_t coefs[32 * (N - 1)] = {3, 1, 4, 1, 5, 9, 2, 6};
    CHECK_OK(ccz_secagg_share_with(shares, sk[1], N, N, coefs));
    CHECK_OK(ccz_secagg_combine(rec, (const uint8_t(*)[32])shares, xs, N));
    CHECK(!memcmp(rec, sk[1], 32));
    CHECK_STATUS(ccz_secagg_share_with(shares, sk[1], N + 1, N, coefs), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "a 6-of-5 sharing (1 <= t <= n <= 255)");
    /* client 2 dropped; survivor 3's key is low-order */
    uint8_t bad[N][32];
    memcpy(bad, pk, sizeof bad);
    memset(bad[3], 0, 32);
    bool survived[N] = {true, true, false, true, true};
    static uint32_t sum[DIM];
    CHECK_STATUS(
        ccz_secagg_unmask_dropped(sum, DIM, 2, sk[2], (const uint8_t(*)[32])bad, survived, N),
        CCZ_ERR_CRYPTO);
    CHECK_CONTAINS(ccz_error_detail(), "X25519 agreement failed");
    /* 2^31 bytes: refused by length alone (the buffers are not read) */
    uint8_t key[32] = {1}, nonce[12] = {0}, in[16] = {0}, out[16 + CCZ_SECAGG_TAG];
    size_t big = (size_t)INT32_MAX + 1;
    CHECK_STATUS(ccz_secagg_seal(out, in, big, key, nonce, NULL, 0), CCZ_ERR_TOO_LARGE);
    CHECK_STR(ccz_error_detail(), "2147483648 bytes and 0 of associated data: 2^31 or more");
    CHECK_STATUS(ccz_secagg_seal(out, in, 16, key, nonce, in, big), CCZ_ERR_TOO_LARGE);
    CHECK_STR(ccz_error_detail(), "16 bytes and 2147483648 of associated data: 2^31 or more");
    CHECK_OK(ccz_secagg_seal(out, in, 16, key, nonce, in, 16)); /* the same, small: taken */
    /* decoding writes dim values, not one more */
    const uint32_t words[3] = {65536, (uint32_t)-131072, 7};
    float dec[3] = {0, 0, 42.0f};
    ccz_secagg_decode(dec, words, 2, SCALE);
    CHECK(dec[0] == 1.0f && dec[1] == -2.0f && dec[2] == 42.0f);
}

TEST_MAIN(T(agreement), T(sum_equals_plain_sum), T(dropout_recovered), T(protocol_helpers),
          T(refusals_and_absent_clients), T(mean_near_the_limit), T(failures_and_bounds))
