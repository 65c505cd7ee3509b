/* Paillier: known answers with fixed primes (textbook formulas computed here with GMP alone),
 * the homomorphic properties on random values, negatives, python-paillier's encoding of
 * integers and reals with overflow detection, DJN randomizers, encryption by the key holder,
 * the randomizer pool, batches, the IFMA engine against GMP, JSON keys, and bad input. */
#include <math.h>
#include <string.h>

#include "ccz/ccz.h"
#include "he/internal.h"
#include "test.h"

/* Two 512-bit primes (n of 1024 bits, for speed) and two 1024-bit ones. */
static const char P512[] = /* next_prime(2^511 + 2^510 + 3^200) */
    "10055855947456947824680518748654384595609524365444295033292936696780198897324499013923"
    "441503252006804220177288135839113102054504599861229642819621453607129";
static const char Q512[] = /* next_prime(2^511 + 2^510 + 2^509 + 7^150) */
    "11731831938699772462127271879247208295368788258450868208899807428176403176033694137329"
    "207218503697358263134871479765002391245405327280862324850570376514939";

static gmp_randstate_t rnd;

static ccz_paillier_key *fixed_key(void)
{
    mpz_t p, q;
    mpz_init_set_str(p, P512, 10);
    mpz_init_set_str(q, Q512, 10);
    ccz_paillier_key *k = NULL;
    CHECK_OK(ccz_paillier_key_from_primes(&k, p, q));
    mpz_clears(p, q, NULL);
    return k;
}

/* Textbook Paillier with lambda = lcm(p-1, q-1), mu = L(g^lambda mod n^2)^-1 mod n. */
static void textbook_decrypt(mpz_t m, const mpz_t c, const mpz_t p, const mpz_t q)
{
    mpz_t n, n2, lam, g, t, mu, a, b;
    mpz_inits(n, n2, lam, g, t, mu, a, b, NULL);
    mpz_mul(n, p, q);
    mpz_mul(n2, n, n);
    mpz_sub_ui(a, p, 1);
    mpz_sub_ui(b, q, 1);
    mpz_lcm(lam, a, b);
    mpz_add_ui(g, n, 1);
    mpz_powm(t, g, lam, n2);
    mpz_sub_ui(t, t, 1);
    mpz_divexact(t, t, n);
    mpz_invert(mu, t, n);
    mpz_powm(t, c, lam, n2);
    mpz_sub_ui(t, t, 1);
    mpz_divexact(t, t, n);
    mpz_mul(m, t, mu);
    mpz_mod(m, m, n);
    mpz_clears(n, n2, lam, g, t, mu, a, b, NULL);
}

static void test_known_answers(void)
{
    ccz_paillier_key *k = fixed_key();
    ccz_paillier_pub *pk = ccz_paillier_key_pub(k);
    CHECK_INT(ccz_paillier_bits(pk), 1024);
    mpz_t p, q, n, n2, m, r, c, out;
    mpz_init_set_str(p, P512, 10);
    mpz_init_set_str(q, Q512, 10);
    mpz_inits(n, n2, m, r, c, out, NULL);
    mpz_mul(n, p, q);
    mpz_mul(n2, n, n);
    /* c = (n+1)^m r^n mod n^2 with fixed m and r, then ccz decrypts it */
    mpz_set_str(m, "123456789012345678901234567890", 10);
    mpz_set_ui(r, 7);
    mpz_add_ui(c, n, 1);
    mpz_powm(c, c, m, n2);
    mpz_powm(out, r, n, n2);
    mpz_mul(c, c, out);
    mpz_mod(c, c, n2);
    CHECK_OK(ccz_paillier_decrypt(k, out, c));
    CHECK(mpz_cmp(out, m) == 0);
    /* and ccz's ciphertexts decrypt by the textbook formula (public and CRT encryption) */
    CHECK_OK(ccz_paillier_encrypt(pk, c, m));
    textbook_decrypt(out, c, p, q);
    CHECK(mpz_cmp(out, m) == 0);
    CHECK_OK(ccz_paillier_encrypt_priv(k, c, m));
    textbook_decrypt(out, c, p, q);
    CHECK(mpz_cmp(out, m) == 0);
    /* 0 and n - 1 */
    mpz_set_ui(m, 0);
    CHECK_OK(ccz_paillier_encrypt(pk, c, m));
    CHECK_OK(ccz_paillier_decrypt(k, out, c));
    CHECK(mpz_sgn(out) == 0);
    mpz_sub_ui(m, n, 1);
    CHECK_OK(ccz_paillier_encrypt(pk, c, m));
    CHECK_OK(ccz_paillier_decrypt(k, out, c));
    CHECK(mpz_cmp(out, m) == 0);
    /* out of range */
    CHECK_STATUS(ccz_paillier_encrypt(pk, c, n), CCZ_ERR_INVALID_ARGUMENT);
    mpz_set_si(m, -1);
    CHECK_STATUS(ccz_paillier_encrypt(pk, c, m), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(ccz_paillier_decrypt(k, out, n2), CCZ_ERR_INVALID_ARGUMENT);
    mpz_set_ui(m, 0);
    CHECK_STATUS(ccz_paillier_decrypt(k, out, m), CCZ_ERR_INVALID_ARGUMENT);
    mpz_clears(p, q, n, n2, m, r, c, out, NULL);
    ccz_paillier_key_free(k);
}

static void test_properties(void)
{
    ccz_paillier_key *k = fixed_key();
    ccz_paillier_pub *pk = ccz_paillier_key_pub(k);
    mpz_t n, a, b, ca, cb, cc, out, want, kk;
    mpz_inits(n, a, b, ca, cb, cc, out, want, kk, NULL);
    ccz_paillier_pub_n(pk, n);
    for (int i = 0; i < 20; i++) {
        mpz_urandomm(a, rnd, n);
        mpz_urandomm(b, rnd, n);
        CHECK_OK(ccz_paillier_encrypt(pk, ca, a));
        CHECK_OK(ccz_paillier_encrypt(pk, cb, b));
        /* Dec(Enc(a) + Enc(b)) = a + b mod n */
        CHECK_OK(ccz_paillier_add(pk, cc, ca, cb));
        CHECK_OK(ccz_paillier_decrypt(k, out, cc));
        mpz_add(want, a, b);
        mpz_mod(want, want, n);
        CHECK(mpz_cmp(out, want) == 0);
        /* Enc(a) + b */
        CHECK_OK(ccz_paillier_add_plain(pk, cc, ca, b));
        CHECK_OK(ccz_paillier_decrypt(k, out, cc));
        CHECK(mpz_cmp(out, want) == 0);
        /* k Enc(a), k of either sign */
        mpz_urandomb(kk, rnd, 200);
        if (i % 2)
            mpz_neg(kk, kk);
        CHECK_OK(ccz_paillier_mul_plain(pk, cc, ca, kk));
        CHECK_OK(ccz_paillier_decrypt(k, out, cc));
        mpz_mul(want, a, kk);
        mpz_mod(want, want, n);
        CHECK(mpz_cmp(out, want) == 0);
        /* re-randomised: another ciphertext, the same plaintext */
        CHECK_OK(ccz_paillier_rerandomize(pk, cc, ca));
        CHECK(mpz_cmp(cc, ca) != 0);
        CHECK_OK(ccz_paillier_decrypt(k, out, cc));
        CHECK(mpz_cmp(out, a) == 0);
    }
    /* two encryptions of one value differ */
    CHECK_OK(ccz_paillier_encrypt(pk, ca, a));
    CHECK_OK(ccz_paillier_encrypt(pk, cb, a));
    CHECK(mpz_cmp(ca, cb) != 0);
    CHECK_STATUS(ccz_paillier_mul_plain(pk, cc, ca, n), CCZ_ERR_INVALID_ARGUMENT);
    mpz_clears(n, a, b, ca, cb, cc, out, want, kk, NULL);
    ccz_paillier_key_free(k);
}

static void test_encoding(void)
{
    ccz_paillier_key *k = fixed_key();
    ccz_paillier_pub *pk = ccz_paillier_key_pub(k);
    ccz_paillier_encoded e, f;
    ccz_paillier_number x, y, z;
    ccz_paillier_encoded_init(&e);
    ccz_paillier_encoded_init(&f);
    ccz_paillier_number_init(&x);
    ccz_paillier_number_init(&y);
    ccz_paillier_number_init(&z);
    mpz_t v, max;
    mpz_inits(v, max, NULL);

    /* integers, negatives included */
    CHECK_OK(ccz_paillier_encode_int(pk, &e, -42));
    CHECK_INT(e.exponent, 0);
    CHECK_OK(ccz_paillier_encrypt_encoded(pk, &x, &e));
    CHECK_OK(ccz_paillier_encode_int(pk, &f, 17));
    CHECK_OK(ccz_paillier_encrypt_encoded(pk, &y, &f));
    CHECK_OK(ccz_paillier_number_add(pk, &z, &x, &y));
    CHECK_OK(ccz_paillier_decrypt_encoded(k, &e, &z));
    CHECK_OK(ccz_paillier_decode_mpz(pk, &e, v));
    CHECK(mpz_cmp_si(v, -25) == 0);
    /* -25 * -3 = 75: a negative scalar multiplies by the inverse */
    CHECK_OK(ccz_paillier_encode_int(pk, &f, -3));
    CHECK_OK(ccz_paillier_number_mul_encoded(pk, &x, &z, &f));
    CHECK_OK(ccz_paillier_decrypt_encoded(k, &e, &x));
    CHECK_OK(ccz_paillier_decode_mpz(pk, &e, v));
    CHECK(mpz_cmp_si(v, 75) == 0);
    CHECK_OK(ccz_paillier_encode_int(pk, &e, INT64_MIN));
    CHECK_OK(ccz_paillier_decode_mpz(pk, &e, v));
    CHECK(mpz_get_si(v) == INT64_MIN);

    /* reals: python-paillier's exponent for 3.14159 is floor((2 - 53) / 4) = -13 */
    CHECK_OK(ccz_paillier_encode_double(pk, &e, 3.14159, 0));
    CHECK_INT(e.exponent, -13);
    double d;
    CHECK_OK(ccz_paillier_decode_double(pk, &e, &d));
    CHECK(d == 3.14159);
    CHECK_OK(ccz_paillier_encode_double(pk, &e, 0.1, 0));
    CHECK_INT(e.exponent, -14); /* frexp(0.1) exponent -3: floor(-56 / 4) */
    CHECK_OK(ccz_paillier_decode_double(pk, &e, &d));
    CHECK(d == 0.1);
    /* with a precision: floor(log16(1e-6)) = -5 */
    CHECK_OK(ccz_paillier_encode_double(pk, &e, -2.5, 1e-6));
    CHECK_INT(e.exponent, -5);
    CHECK_OK(ccz_paillier_decode_double(pk, &e, &d));
    CHECK(d == -2.5);
    /* encrypted reals: 1.5 * -2.25 + 0.125 */
    CHECK_OK(ccz_paillier_encode_double(pk, &e, 1.5, 0));
    CHECK_OK(ccz_paillier_encrypt_encoded(pk, &x, &e));
    CHECK_OK(ccz_paillier_encode_double(pk, &f, -2.25, 0));
    CHECK_OK(ccz_paillier_number_mul_encoded(pk, &y, &x, &f));
    CHECK_OK(ccz_paillier_encode_double(pk, &f, 0.125, 0));
    CHECK_OK(ccz_paillier_number_add_encoded(pk, &z, &y, &f));
    CHECK_OK(ccz_paillier_decrypt_encoded(k, &e, &z));
    CHECK_OK(ccz_paillier_decode_double(pk, &e, &d));
    CHECK(d == 1.5 * -2.25 + 0.125);
    /* round half to even, as Python's round(): 2.5 at exponent 0 is 2, 3.5 is 4 */
    CHECK_OK(ccz_paillier_encode_double(pk, &e, 2.5, 1));
    CHECK(mpz_cmp_ui(e.mantissa, 2) == 0);
    CHECK_OK(ccz_paillier_encode_double(pk, &e, 3.5, 1));
    CHECK(mpz_cmp_ui(e.mantissa, 4) == 0);
    CHECK_STATUS(ccz_paillier_encode_double(pk, &e, NAN, 0), CCZ_ERR_INVALID_ARGUMENT);

    /* overflow: above max_int on encoding, and a product past n/3 on decoding */
    ccz_paillier_max_int(pk, max);
    CHECK_OK(ccz_paillier_encode_mpz(pk, &e, max));
    mpz_add_ui(v, max, 1);
    CHECK_STATUS(ccz_paillier_encode_mpz(pk, &e, v), CCZ_ERR_OVERFLOW);
    mpz_neg(v, v);
    CHECK_STATUS(ccz_paillier_encode_mpz(pk, &e, v), CCZ_ERR_OVERFLOW);
    CHECK_OK(ccz_paillier_encode_mpz(pk, &e, max));
    CHECK_OK(ccz_paillier_encrypt_encoded(pk, &x, &e));
    CHECK_OK(ccz_paillier_encode_int(pk, &f, 2));
    CHECK_OK(ccz_paillier_number_mul_encoded(pk, &y, &x, &f));
    CHECK_OK(ccz_paillier_decrypt_encoded(k, &e, &y));
    CHECK_STATUS(ccz_paillier_decode_mpz(pk, &e, v), CCZ_ERR_OVERFLOW);
    CHECK_CONTAINS(ccz_error_detail(), "overflowed");
    CHECK_STATUS(ccz_paillier_decode_double(pk, &e, &d), CCZ_ERR_OVERFLOW);

    /* encrypted numbers as JSON, and what is refused */
    CHECK_OK(ccz_paillier_encode_double(pk, &e, -0.75, 0));
    CHECK_OK(ccz_paillier_encrypt_encoded(pk, &x, &e));
    ccz_buf j = CCZ_BUF_INIT;
    CHECK_OK(ccz_paillier_number_to_json(&x, &j));
    CHECK_OK(ccz_paillier_number_from_json(pk, &y, (const char *)j.ptr, j.len));
    CHECK(mpz_cmp(x.c, y.c) == 0 && x.exponent == y.exponent);
    CHECK_OK(ccz_paillier_decrypt_encoded(k, &f, &y));
    CHECK_OK(ccz_paillier_decode_double(pk, &f, &d));
    CHECK(d == -0.75);
    ccz_buf_free(&j);
    static const char *const bad_numbers[] = {
        "{\"ciphertext\": \"0\", \"exponent\": 0}",
        "{\"ciphertext\": \"12a\", \"exponent\": 0}",
        "{\"ciphertext\": \"5\", \"exponent\": 1.5}",
        "{\"ciphertext\": \"5\", \"exponent\": 99999}",
        "{\"exponent\": 0}",
        "[\"5\"]",
        "[\"5\", 0, 1]",
        "{\"v\": \"5\"}",
        "{\"v\": \"-5\", \"e\": 0}",
        "5",
    };
    for (size_t i = 0; i < sizeof bad_numbers / sizeof bad_numbers[0]; i++)
        CHECK(ccz_paillier_number_from_json(pk, &y, bad_numbers[i], strlen(bad_numbers[i])) !=
              CCZ_OK);

    mpz_clears(v, max, NULL);
    ccz_paillier_encoded_clear(&e);
    ccz_paillier_encoded_clear(&f);
    ccz_paillier_number_clear(&x);
    ccz_paillier_number_clear(&y);
    ccz_paillier_number_clear(&z);
    ccz_paillier_key_free(k);
}

static void test_djn_and_pool(void)
{
    ccz_paillier_key *k = fixed_key();
    ccz_paillier_pub *pk = ccz_paillier_key_pub(k);
    CHECK(!ccz_paillier_pub_djn(pk));
    CHECK_OK(ccz_paillier_pub_set_djn(pk, NULL));
    CHECK(ccz_paillier_pub_djn(pk));
    mpz_t m, c, c2, out;
    mpz_inits(m, c, c2, out, NULL);
    for (int i = 0; i < 10; i++) {
        mpz_urandomb(m, rnd, 900);
        CHECK_OK(ccz_paillier_encrypt(pk, c, m));
        CHECK_OK(ccz_paillier_encrypt(pk, c2, m));
        CHECK(mpz_cmp(c, c2) != 0);
        CHECK_OK(ccz_paillier_decrypt(k, out, c));
        CHECK(mpz_cmp(out, m) == 0);
    }
    /* randomizers made ahead by a background thread */
    CHECK_OK(ccz_paillier_pub_precompute(pk, 64));
    for (int i = 0; i < 100; i++) {
        mpz_set_ui(m, (unsigned long)i * 1000003);
        CHECK_OK(ccz_paillier_encrypt(pk, c, m));
        CHECK_OK(ccz_paillier_decrypt(k, out, c));
        CHECK(mpz_cmp(out, m) == 0);
    }
    CHECK_STATUS(ccz_paillier_pub_set_djn(pk, NULL), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_OK(ccz_paillier_pub_precompute(pk, 0));
    mpz_clears(m, c, c2, out, NULL);
    ccz_paillier_key_free(k);
}

static void test_batches(void)
{
    ccz_paillier_key *k = NULL;
    CHECK_OK(ccz_paillier_keygen(&k, 2048));
    ccz_paillier_pub *pk = ccz_paillier_key_pub(k);
    CHECK_INT(ccz_paillier_bits(pk), 2048);
    enum { N = 37 }; /* not a multiple of 8 or 4: partial lane groups */
    mpz_t m[N], c[N], out[N], sum[N];
    for (int i = 0; i < N; i++) {
        mpz_inits(m[i], c[i], out[i], sum[i], NULL);
        mpz_urandomb(m[i], rnd, 2000);
    }
    for (int djn = 0; djn < 2; djn++) {
        if (djn)
            CHECK_OK(ccz_paillier_pub_set_djn(pk, NULL));
        CHECK_OK(ccz_paillier_encrypt_batch(pk, c, (const mpz_t *)m, N, 0));
        CHECK_OK(ccz_paillier_decrypt_batch(k, out, (const mpz_t *)c, N, 0));
        int ok = 0;
        for (int i = 0; i < N; i++)
            ok += mpz_cmp(out[i], m[i]) == 0;
        CHECK_INT(ok, N);
        /* single-threaded gives the same plaintexts */
        CHECK_OK(ccz_paillier_decrypt_batch(k, out, (const mpz_t *)c, N, 1));
        ok = 0;
        for (int i = 0; i < N; i++)
            ok += mpz_cmp(out[i], m[i]) == 0;
        CHECK_INT(ok, N);
    }
    CHECK_OK(ccz_paillier_add_batch(pk, sum, (const mpz_t *)c, (const mpz_t *)c, N, 2));
    CHECK_OK(ccz_paillier_decrypt_batch(k, out, (const mpz_t *)sum, N, 2));
    mpz_t n, want;
    mpz_inits(n, want, NULL);
    ccz_paillier_pub_n(pk, n);
    int ok = 0;
    for (int i = 0; i < N; i++) {
        mpz_mul_2exp(want, m[i], 1);
        mpz_mod(want, want, n);
        ok += mpz_cmp(out[i], want) == 0;
    }
    CHECK_INT(ok, N);
    /* scalar products in a batch, both signs and sizes (eight-lane groups on IFMA) */
    mpz_t sc[N];
    for (int i = 0; i < N; i++) {
        mpz_init(sc[i]);
        mpz_urandomb(sc[i], rnd, i % 3 ? 64 : 700);
        if (i % 2)
            mpz_neg(sc[i], sc[i]);
    }
    CHECK_OK(ccz_paillier_mul_plain_batch(pk, sum, (const mpz_t *)c, (const mpz_t *)sc, N, 2));
    CHECK_OK(ccz_paillier_decrypt_batch(k, out, (const mpz_t *)sum, N, 2));
    ok = 0;
    for (int i = 0; i < N; i++) {
        mpz_mul(want, m[i], sc[i]);
        mpz_mod(want, want, n);
        ok += mpz_cmp(out[i], want) == 0;
        mpz_clear(sc[i]);
    }
    CHECK_INT(ok, N);
    /* a bad ciphertext in a batch names its index */
    mpz_set_ui(c[30], 0);
    CHECK_STATUS(ccz_paillier_decrypt_batch(k, out, (const mpz_t *)c, N, 2),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "ciphertext 30");
    for (int i = 0; i < N; i++)
        mpz_clears(m[i], c[i], out[i], sum[i], NULL);
    mpz_clears(n, want, NULL);
    ccz_paillier_key_free(k);
}

/* The IFMA engine against GMP on random lanes of several sizes, with edge values. */
static void test_ifma_engine(void)
{
    if (!mbx_available()) {
        fprintf(stderr, "  (no AVX-512 IFMA here: the engine is not exercised)\n");
        CHECK_STATUS(mbx_powm(NULL, NULL, NULL, NULL, 1, 64, 1), CCZ_ERR_UNSUPPORTED);
        return;
    }
    unsigned sizes[] = {521, 1024, 2048, 3072, 4096};
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        unsigned B = sizes[si];
        mpz_t b[8], e[8], m[8], o[8], ref;
        mpz_init(ref);
        for (int l = 0; l < 8; l++) {
            mpz_inits(b[l], e[l], m[l], o[l], NULL);
            mpz_urandomb(m[l], rnd, B - (l % 3) * 7); /* lanes of different sizes */
            mpz_setbit(m[l], 0);
            mpz_urandomb(b[l], rnd, B + 20); /* bases above the modulus */
            mpz_urandomb(e[l], rnd, B / 2);
        }
        mpz_set_ui(e[1], 0);
        mpz_set_ui(b[2], 0);
        mpz_set_ui(e[3], 1);
        mpz_sub_ui(b[4], m[4], 1); /* -1 */
        mpz_set(b[5], m[5]);       /* 0 mod m */
        CHECK_OK(mbx_powm(o, (const mpz_t *)b, (const mpz_t *)e, (const mpz_t *)m, 8, B, B / 2));
        int ok = 0;
        for (int l = 0; l < 8; l++) {
            mpz_powm(ref, b[l], e[l], m[l]);
            ok += mpz_cmp(ref, o[l]) == 0;
        }
        CHECK_INT(ok, 8);
        /* fewer lanes */
        CHECK_OK(mbx_powm(o, (const mpz_t *)b, (const mpz_t *)e, (const mpz_t *)m, 3, B, B / 2));
        mpz_powm(ref, b[0], e[0], m[0]);
        CHECK(mpz_cmp(ref, o[0]) == 0);
        for (int l = 0; l < 8; l++)
            mpz_clears(b[l], e[l], m[l], o[l], NULL);
        mpz_clear(ref);
    }
    /* fixed base */
    mpz_t mod, base, e[8], o[8], ref;
    mpz_inits(mod, base, ref, NULL);
    mpz_urandomb(mod, rnd, 2048);
    mpz_setbit(mod, 2047);
    mpz_setbit(mod, 0);
    mpz_urandomb(base, rnd, 2000);
    mbx_fixed *f = NULL;
    CHECK_OK(mbx_fixed_new(&f, base, mod, 512));
    for (int l = 0; l < 8; l++) {
        mpz_inits(e[l], o[l], NULL);
        mpz_urandomb(e[l], rnd, 512);
    }
    mpz_set_ui(e[0], 0);
    CHECK_OK(mbx_fixed_powm(f, o, (const mpz_t *)e, 8));
    int ok = 0;
    for (int l = 0; l < 8; l++) {
        mpz_powm(ref, base, e[l], mod);
        ok += mpz_cmp(ref, o[l]) == 0;
    }
    CHECK_INT(ok, 8);
    mpz_setbit(e[1], 600);
    CHECK_STATUS(mbx_fixed_powm(f, o, (const mpz_t *)e, 8), CCZ_ERR_INVALID_ARGUMENT);
    mbx_fixed_free(f);
    for (int l = 0; l < 8; l++)
        mpz_clears(e[l], o[l], NULL);
    mpz_clears(mod, base, ref, NULL);
}

static void test_json_and_keys(void)
{
    ccz_paillier_key *k = fixed_key();
    ccz_buf j;
    ccz_buf_init(&j, 0, true);
    CHECK_OK(ccz_paillier_key_to_json(k, &j));
    CHECK_OK(ccz_buf_append_u8(&j, 0));
    CHECK_CONTAINS((const char *)j.ptr, P512);
    ccz_paillier_pub *pk2;
    ccz_paillier_key *k2;
    CHECK_OK(ccz_paillier_load_json((const char *)j.ptr, j.len - 1, &pk2, &k2));
    CHECK(k2 != NULL);
    mpz_t m, c, out;
    mpz_inits(m, c, out, NULL);
    mpz_set_ui(m, 99);
    CHECK_OK(ccz_paillier_encrypt(ccz_paillier_key_pub(k), c, m));
    CHECK_OK(ccz_paillier_decrypt(k2, out, c));
    CHECK(mpz_cmp(out, m) == 0);
    ccz_paillier_key_free(k2);
    /* public only */
    ccz_buf pj = CCZ_BUF_INIT;
    CHECK_OK(ccz_paillier_pub_to_json(ccz_paillier_key_pub(k), &pj));
    CHECK_OK(ccz_paillier_load_json((const char *)pj.ptr, pj.len, &pk2, &k2));
    CHECK(k2 == NULL);
    CHECK_OK(ccz_paillier_encrypt(pk2, c, m));
    CHECK_OK(ccz_paillier_decrypt(k, out, c));
    CHECK(mpz_cmp(out, m) == 0);
    ccz_paillier_pub_free(pk2);
    ccz_buf_free(&pj);
    /* bad keys */
    static const struct {
        const char *doc;
        ccz_status want;
        const char *says;
    } bad[] = {
        {"[]", CCZ_ERR_JSON, "JSON object"},
        {"{\"p\": \"3\"}", CCZ_ERR_JSON, "\"n\" is missing"},
        {"{\"n\": \"12x4\"}", CCZ_ERR_JSON, "not a non-negative decimal integer"},
        {"{\"n\": 1234}", CCZ_ERR_INVALID_ARGUMENT, "odd and of 512 to 8192 bits"},
        {"{\"n\": 12.5}", CCZ_ERR_JSON, "not a non-negative decimal integer"},
        {"{\"n\": -15}", CCZ_ERR_JSON, "not a non-negative decimal integer"},
        {"{\"n\": -123456789012345678901234567890}", CCZ_ERR_JSON, "not a non-negative"},
        {"{\"n\": \"-15\"}", CCZ_ERR_JSON, "not a non-negative decimal integer"},
        {"{\"n\": \"1234\"}", CCZ_ERR_INVALID_ARGUMENT, "odd and of 512 to 8192 bits"},
        {"{\"n\": \"1\", \"p\": \"3\"}", CCZ_ERR_JSON, "go together"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_STATUS(ccz_paillier_load_json(bad[i].doc, strlen(bad[i].doc), &pk2, &k2),
                     bad[i].want);
        CHECK_CONTAINS(ccz_error_detail(), bad[i].says);
    }
    /* n that is not p q */
    char doc[1200];
    snprintf(doc, sizeof doc, "{\"n\": \"%s\", \"p\": \"%s\", \"q\": \"%s\"}", P512, P512, Q512);
    CHECK_STATUS(ccz_paillier_load_json(doc, strlen(doc), &pk2, &k2), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "n is not p * q");
    /* primes too close, not prime */
    mpz_t p, q;
    mpz_init_set_str(p, P512, 10);
    mpz_init(q);
    mpz_nextprime(q, p);
    CHECK_STATUS(ccz_paillier_key_from_primes(&k2, p, q), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "too close");
    mpz_add_ui(q, p, 2);
    CHECK_STATUS(ccz_paillier_key_from_primes(&k2, p, q), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(ccz_paillier_keygen(&k2, 1000), CCZ_ERR_INVALID_ARGUMENT);
    mpz_clears(p, q, m, c, out, NULL);
    ccz_buf_free(&j);
    ccz_paillier_key_free(k);
}

static void setup(void)
{
    gmp_randinit_default(rnd);
    gmp_randseed_ui(rnd, 20261123);
}

static void test_all(void)
{
    setup();
    test_known_answers();
    test_properties();
    test_encoding();
    test_djn_and_pool();
    test_batches();
    test_ifma_engine();
    test_json_and_keys();
}

TEST_MAIN(T(test_all))
