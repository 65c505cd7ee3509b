/* SPDX-License-Identifier: Apache-2.0 */
/* Paillier: known answers with fixed primes (textbook formulas computed here with GMP alone),
 * the homomorphic properties on random values, negatives, python-paillier's encoding of
 * integers and reals with overflow detection, DJN randomizers, encryption by the key holder,
 * the randomizer pool, batches, the IFMA engine against GMP, JSON keys, and bad input; that no
 * private-key path reaches GMP's variable-time exponentiation or inversion (interposed here);
 * ciphertexts that are not units; hostile DJN bases; python-paillier's own keys, ciphertexts and
 * encodings (fixtures it wrote, tests/paillier/fixtures/python-paillier). */
#include <dlfcn.h>
#include <limits.h>
#include <malloc.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ccz/ccz.h"
#include "paillier/internal.h"
#include "test.h"

/* Two 512-bit primes (n of 1024 bits, for speed) and two 1024-bit ones. */
static const char P512[] = /* next_prime(2^511 + 2^510 + 3^200) */
    "10055855947456947824680518748654384595609524365444295033292936696780198897324499013923"
    "441503252006804220177288135839113102054504599861229642819621453607129";
static const char Q512[] = /* next_prime(2^511 + 2^510 + 2^509 + 7^150) */
    "11731831938699772462127271879247208295368788258450868208899807428176403176033694137329"
    "207218503697358263134871479765002391245405327280862324850570376514939";

/* Two 2112-bit primes (OpenSSL's, hexadecimal): n of 4224 bits, n^2 of 8448, beyond the IFMA
 * engine's 8192 bits. */
static const char P2112[] =
    "DD01248A5A541AF2D3D26059164BCACB740E84D25F6A1BDCC531BD5AD496DF440B0FEAD6E894BD848CD1BAFF"
    "ABC80A5106875DDCFC1C9C80091C47F7CA9859F1C17C4F7C095DA5679861BBC08F5E715C6A94344E84809402"
    "0475747EF11DD3A765DFE6EB642689091FF3FA37BBD78839ADF7B41840316173AED2FF7FC0AE4BDACAA1A4FD"
    "0A7FB2FF501405338916AB595DF84DFDB9F126AEE8C512BDDC4BD31FE4E0E0D01EDA3789272159FACD813F2A"
    "585FB35C382F4990B4A5B82F7CC7A38A9FC0A414DBCC84CBFB2A2CC9C0D4ADF09073321D58E3A2BBA52CC1D8"
    "0782D5C2209FA4751464CF04BA277962EC37A161E872B3A969F3922D14F5B7B9ECBD505E6FF58356CCE5DCB3";
static const char Q2112[] =
    "EE22AAE99B6D03FBDFF274F50B20C48739824C8064E3A177AC05F9570A3883907AB25981BC59CF21CB923385"
    "BA4D839D14BF67CD213827468F86C65279C382AE7559A12081819ECC86BA5839002BCCAE80A3AEAAB0B8B825"
    "F36C3E6BA9715F69DF3DD9B3FA04D1C38A9010EC6A7116DC70F86FBDBD56C318B173C22C05099ACB387DCBD7"
    "68BF3A7C79638F5FA20C40659C51861BCC2FA87425F1C5A26388E29BD54E1850792983D0A1D281B3AE2AC7D3"
    "2E3BDA014AB2082866BE481D0CCF7CD519F6F804178A7EBEE1B11A260503A724BBE10478E193FA1B2ABE33FD"
    "388A974928347F7DFED58835F9E4566D8AF8CF006C6B01AEB3D6B7B7152FC66957E0140261B1F10AF09942BB";

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
    CHECK_OK(ccz_paillier_decrypt(out, k, c));
    CHECK(mpz_cmp(out, m) == 0);
    /* and ccz's ciphertexts decrypt by the textbook formula (public and CRT encryption) */
    CHECK_OK(ccz_paillier_encrypt(c, pk, m));
    textbook_decrypt(out, c, p, q);
    CHECK(mpz_cmp(out, m) == 0);
    CHECK_OK(ccz_paillier_encrypt_priv(c, k, m));
    textbook_decrypt(out, c, p, q);
    CHECK(mpz_cmp(out, m) == 0);
    /* 0 and n - 1 */
    mpz_set_ui(m, 0);
    CHECK_OK(ccz_paillier_encrypt(c, pk, m));
    CHECK_OK(ccz_paillier_decrypt(out, k, c));
    CHECK(mpz_sgn(out) == 0);
    mpz_sub_ui(m, n, 1);
    CHECK_OK(ccz_paillier_encrypt(c, pk, m));
    CHECK_OK(ccz_paillier_decrypt(out, k, c));
    CHECK(mpz_cmp(out, m) == 0);
    /* out of range */
    CHECK_STATUS(ccz_paillier_encrypt(c, pk, n), CCZ_ERR_INVALID_ARGUMENT);
    mpz_set_si(m, -1);
    CHECK_STATUS(ccz_paillier_encrypt(c, pk, m), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(ccz_paillier_decrypt(out, k, n2), CCZ_ERR_INVALID_ARGUMENT);
    mpz_set_ui(m, 0);
    CHECK_STATUS(ccz_paillier_decrypt(out, k, m), CCZ_ERR_INVALID_ARGUMENT);
    mpz_clears(p, q, n, n2, m, r, c, out, NULL);
    ccz_paillier_key_free(k);
}

static void test_properties(void)
{
    ccz_paillier_key *k = fixed_key();
    ccz_paillier_pub *pk = ccz_paillier_key_pub(k);
    mpz_t n, a, b, ca, cb, cc, out, want, kk;
    mpz_inits(n, a, b, ca, cb, cc, out, want, kk, NULL);
    ccz_paillier_pub_n(n, pk);
    for (int i = 0; i < 20; i++) {
        mpz_urandomm(a, rnd, n);
        mpz_urandomm(b, rnd, n);
        CHECK_OK(ccz_paillier_encrypt(ca, pk, a));
        CHECK_OK(ccz_paillier_encrypt(cb, pk, b));
        /* Dec(Enc(a) + Enc(b)) = a + b mod n */
        CHECK_OK(ccz_paillier_add(cc, pk, ca, cb));
        CHECK_OK(ccz_paillier_decrypt(out, k, cc));
        mpz_add(want, a, b);
        mpz_mod(want, want, n);
        CHECK(mpz_cmp(out, want) == 0);
        /* Enc(a) + b */
        CHECK_OK(ccz_paillier_add_plain(cc, pk, ca, b));
        CHECK_OK(ccz_paillier_decrypt(out, k, cc));
        CHECK(mpz_cmp(out, want) == 0);
        /* k Enc(a), k of either sign */
        mpz_urandomb(kk, rnd, 200);
        if (i % 2)
            mpz_neg(kk, kk);
        CHECK_OK(ccz_paillier_mul_plain(cc, pk, ca, kk));
        CHECK_OK(ccz_paillier_decrypt(out, k, cc));
        mpz_mul(want, a, kk);
        mpz_mod(want, want, n);
        CHECK(mpz_cmp(out, want) == 0);
        /* re-randomised: another ciphertext, the same plaintext */
        CHECK_OK(ccz_paillier_rerandomize(cc, pk, ca));
        CHECK(mpz_cmp(cc, ca) != 0);
        CHECK_OK(ccz_paillier_decrypt(out, k, cc));
        CHECK(mpz_cmp(out, a) == 0);
    }
    /* two encryptions of one value differ */
    CHECK_OK(ccz_paillier_encrypt(ca, pk, a));
    CHECK_OK(ccz_paillier_encrypt(cb, pk, a));
    CHECK(mpz_cmp(ca, cb) != 0);
    CHECK_STATUS(ccz_paillier_mul_plain(cc, pk, ca, n), CCZ_ERR_INVALID_ARGUMENT);
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
    CHECK_OK(ccz_paillier_encode_int(&e, pk, -42));
    CHECK_INT(e.exponent, 0);
    CHECK_OK(ccz_paillier_encrypt_encoded(&x, pk, &e));
    CHECK_OK(ccz_paillier_encode_int(&f, pk, 17));
    CHECK_OK(ccz_paillier_encrypt_encoded(&y, pk, &f));
    CHECK_OK(ccz_paillier_number_add(&z, pk, &x, &y));
    CHECK_OK(ccz_paillier_decrypt_encoded(&e, k, &z));
    CHECK_OK(ccz_paillier_decode_mpz(v, pk, &e));
    CHECK(mpz_cmp_si(v, -25) == 0);
    /* -25 * -3 = 75: a negative scalar multiplies by the inverse */
    CHECK_OK(ccz_paillier_encode_int(&f, pk, -3));
    CHECK_OK(ccz_paillier_number_mul_encoded(&x, pk, &z, &f));
    CHECK_OK(ccz_paillier_decrypt_encoded(&e, k, &x));
    CHECK_OK(ccz_paillier_decode_mpz(v, pk, &e));
    CHECK(mpz_cmp_si(v, 75) == 0);
    CHECK_OK(ccz_paillier_encode_int(&e, pk, INT64_MIN));
    CHECK_OK(ccz_paillier_decode_mpz(v, pk, &e));
    CHECK(mpz_get_si(v) == INT64_MIN);

    /* reals: python-paillier's exponent for 3.14159 is floor((2 - 53) / 4) = -13 */
    CHECK_OK(ccz_paillier_encode_double(&e, pk, 3.14159, 0));
    CHECK_INT(e.exponent, -13);
    /* a real is not an integer: decoded as one it is refused; 2.5 * 16^2 exactly is */
    CHECK_STATUS(ccz_paillier_decode_mpz(v, pk, &e), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "the value is not an integer (exponent -13)");
    CHECK_OK(ccz_paillier_encode_double(&f, pk, 640, 1.0 / 256));
    CHECK_INT(f.exponent, -2);
    CHECK_OK(ccz_paillier_decode_mpz(v, pk, &f));
    CHECK(mpz_cmp_si(v, 640) == 0);
    /* 2^60 + 129 to a double: to nearest (2^60 + 256), not truncated (2^60) */
    mpz_set_ui(v, 1);
    mpz_mul_2exp(v, v, 60);
    mpz_add_ui(v, v, 129);
    CHECK_OK(ccz_paillier_encode_mpz(&f, pk, v));
    double d;
    CHECK_OK(ccz_paillier_decode_double(&d, pk, &f));
    CHECK(d == ldexp(1, 60) + 256);
    /* a scalar in the overflow band (above n/3, below 2n/3) is not an encoding */
    ccz_paillier_max_int(max, pk);
    mpz_t third; /* python-paillier's max_int: n // 3 - 1 */
    mpz_init(third);
    ccz_paillier_pub_n(third, pk);
    mpz_fdiv_q_ui(third, third, 3);
    mpz_sub_ui(third, third, 1);
    CHECK(mpz_cmp(max, third) == 0);
    mpz_clear(third);
    mpz_add_ui(f.mantissa, max, 1);
    f.exponent = 0;
    CHECK_STATUS(ccz_paillier_number_mul_encoded(&x, pk, &z, &f), CCZ_ERR_OVERFLOW);
    CHECK_CONTAINS(ccz_error_detail(), "the scalar is not a valid encoding");
    CHECK_OK(ccz_paillier_decode_double(&d, pk, &e));
    CHECK(d == 3.14159);
    CHECK_OK(ccz_paillier_encode_double(&e, pk, 0.1, 0));
    CHECK_INT(e.exponent, -14); /* frexp(0.1) exponent -3: floor(-56 / 4) */
    CHECK_OK(ccz_paillier_decode_double(&d, pk, &e));
    CHECK(d == 0.1);
    /* with a precision: floor(log16(1e-6)) = -5 */
    CHECK_OK(ccz_paillier_encode_double(&e, pk, -2.5, 1e-6));
    CHECK_INT(e.exponent, -5);
    CHECK_OK(ccz_paillier_decode_double(&d, pk, &e));
    CHECK(d == -2.5);
    /* encrypted reals: 1.5 * -2.25 + 0.125 */
    CHECK_OK(ccz_paillier_encode_double(&e, pk, 1.5, 0));
    CHECK_OK(ccz_paillier_encrypt_encoded(&x, pk, &e));
    CHECK_OK(ccz_paillier_encode_double(&f, pk, -2.25, 0));
    CHECK_OK(ccz_paillier_number_mul_encoded(&y, pk, &x, &f));
    CHECK_OK(ccz_paillier_encode_double(&f, pk, 0.125, 0));
    CHECK_OK(ccz_paillier_number_add_encoded(&z, pk, &y, &f));
    CHECK_OK(ccz_paillier_decrypt_encoded(&e, k, &z));
    CHECK_OK(ccz_paillier_decode_double(&d, pk, &e));
    CHECK(d == 1.5 * -2.25 + 0.125);
    /* round half to even, as Python's round(): 2.5 at exponent 0 is 2, 3.5 is 4 */
    CHECK_OK(ccz_paillier_encode_double(&e, pk, 2.5, 1));
    CHECK(mpz_cmp_ui(e.mantissa, 2) == 0);
    CHECK_OK(ccz_paillier_encode_double(&e, pk, 3.5, 1));
    CHECK(mpz_cmp_ui(e.mantissa, 4) == 0);
    CHECK_STATUS(ccz_paillier_encode_double(&e, pk, NAN, 0), CCZ_ERR_INVALID_ARGUMENT);

    /* overflow: above max_int on encoding, and a product past n/3 on decoding */
    ccz_paillier_max_int(max, pk);
    CHECK_OK(ccz_paillier_encode_mpz(&e, pk, max));
    mpz_add_ui(v, max, 1);
    CHECK_STATUS(ccz_paillier_encode_mpz(&e, pk, v), CCZ_ERR_OVERFLOW);
    mpz_neg(v, v);
    CHECK_STATUS(ccz_paillier_encode_mpz(&e, pk, v), CCZ_ERR_OVERFLOW);
    CHECK_OK(ccz_paillier_encode_mpz(&e, pk, max));
    CHECK_OK(ccz_paillier_encrypt_encoded(&x, pk, &e));
    CHECK_OK(ccz_paillier_encode_int(&f, pk, 2));
    CHECK_OK(ccz_paillier_number_mul_encoded(&y, pk, &x, &f));
    CHECK_OK(ccz_paillier_decrypt_encoded(&e, k, &y));
    CHECK_STATUS(ccz_paillier_decode_mpz(v, pk, &e), CCZ_ERR_OVERFLOW);
    CHECK_CONTAINS(ccz_error_detail(), "overflowed");
    CHECK_STATUS(ccz_paillier_decode_double(&d, pk, &e), CCZ_ERR_OVERFLOW);
    /* exponents as far apart as an int allows: the distance does not wrap past the bound */
    CHECK_OK(ccz_paillier_encode_int(&e, pk, 5));
    e.exponent = 1;
    CHECK_STATUS(ccz_paillier_encoded_lower(&e, pk, INT_MIN), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "exponents too far apart");
    CHECK_OK(ccz_paillier_encrypt_encoded(&x, pk, &e));
    y.exponent = INT_MIN;
    mpz_set(y.c, x.c);
    CHECK_STATUS(ccz_paillier_number_add(&z, pk, &x, &y), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "exponents too far apart");
    /* a product's exponents that add past an int; a decoding past 16^+-65536 (a caller's
     * exponent of a billion would have multiplied by 16 a billion times) */
    x.exponent = INT_MAX;
    CHECK_STATUS(ccz_paillier_number_mul_encoded(&z, pk, &x, &e), CCZ_ERR_OVERFLOW);
    CHECK_STR(ccz_error_detail(), "exponents 2147483647 and 1 add past an int");
    e.exponent = 3;
    CHECK_OK(ccz_paillier_decode_mpz(v, pk, &e));
    CHECK(mpz_cmp_ui(v, 5 * 4096) == 0);
    e.exponent = 65537;
    CHECK_STATUS(ccz_paillier_decode_mpz(v, pk, &e), CCZ_ERR_OVERFLOW);
    CHECK_STR(ccz_error_detail(), "exponent 65537 is past +-65536");
    e.exponent = INT_MIN;
    CHECK_STATUS(ccz_paillier_decode_mpz(v, pk, &e), CCZ_ERR_OVERFLOW);
    e.exponent = -65536;
    CHECK_STATUS(ccz_paillier_decode_mpz(v, pk, &e), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "not an integer (exponent -65536)");
    e.exponent = -65537; /* the bound holds below as above */
    CHECK_STATUS(ccz_paillier_decode_mpz(v, pk, &e), CCZ_ERR_OVERFLOW);
    CHECK_STR(ccz_error_detail(), "exponent -65537 is past +-65536");
    /* zero decodes (a mantissa of 0 is in [0, n)) */
    CHECK_OK(ccz_paillier_encode_int(&e, pk, 0));
    CHECK_OK(ccz_paillier_decode_mpz(v, pk, &e));
    CHECK(mpz_sgn(v) == 0);
    /* a 54-bit integer to a double rounds to nearest: 2^54 - 1 is 2^54, not 2^54 - 2 */
    mpz_set_ui(v, 1);
    mpz_mul_2exp(v, v, 54);
    mpz_sub_ui(v, v, 1);
    CHECK_OK(ccz_paillier_encode_mpz(&e, pk, v));
    CHECK_OK(ccz_paillier_decode_double(&d, pk, &e));
    CHECK(d == ldexp(1, 54));
    /* doubles at the far ends: 16^-260 is 2^-1040 (subnormal, not clamped to 2^-1000), zero at
     * 16^2000 is 0, and 16^(2^30) overflows (4 * 2^30 does not wrap an int to 16^0) */
    CHECK_OK(ccz_paillier_encode_int(&e, pk, 1));
    e.exponent = -260;
    CHECK_OK(ccz_paillier_decode_double(&d, pk, &e));
    CHECK(d == ldexp(1, -1040) && d > 0);
    e.exponent = 1 << 30;
    CHECK_STATUS(ccz_paillier_decode_double(&d, pk, &e), CCZ_ERR_OVERFLOW);
    CHECK_CONTAINS(ccz_error_detail(), "does not fit a double");
    CHECK_OK(ccz_paillier_encode_int(&e, pk, 0));
    e.exponent = 2000;
    CHECK_OK(ccz_paillier_decode_double(&d, pk, &e));
    CHECK(d == 0.0);
    /* lowering to the same exponent changes nothing; by exactly 4096 it is allowed (the
     * mantissa reduced mod n), by 4097 it is not */
    CHECK_OK(ccz_paillier_encode_int(&e, pk, 5));
    e.exponent = 7;
    CHECK_OK(ccz_paillier_encoded_lower(&e, pk, 7));
    CHECK(e.exponent == 7 && mpz_cmp_ui(e.mantissa, 5) == 0);
    e.exponent = 4096;
    CHECK_OK(ccz_paillier_encoded_lower(&e, pk, 0));
    CHECK_INT(e.exponent, 0);
    {
        mpz_t n, want;
        mpz_inits(n, want, NULL);
        ccz_paillier_pub_n(n, pk);
        mpz_ui_pow_ui(want, 16, 4096);
        mpz_mul_ui(want, want, 5);
        mpz_mod(want, want, n);
        CHECK(mpz_cmp(e.mantissa, want) == 0);
        CHECK(mpz_cmp(e.mantissa, n) < 0);
        e.exponent = 4097;
        CHECK_STATUS(ccz_paillier_encoded_lower(&e, pk, 0), CCZ_ERR_INVALID_ARGUMENT);
        /* a mantissa of n + 3 is no encoding: added at the same exponent it is refused, not
         * reduced to 3 */
        CHECK_OK(ccz_paillier_encode_int(&e, pk, 1));
        CHECK_OK(ccz_paillier_encrypt_encoded(&x, pk, &e));
        mpz_add_ui(f.mantissa, n, 3);
        f.exponent = 0;
        z.exponent = 12345; /* a refused sum leaves its output's exponent alone */
        CHECK_STATUS(ccz_paillier_number_add_encoded(&z, pk, &x, &f), CCZ_ERR_INVALID_ARGUMENT);
        CHECK_INT(z.exponent, 12345);
        mpz_clears(n, want, NULL);
    }
    /* ciphertexts 4096 apart pass the distance bound but 16^4096 is past n: an overflow */
    CHECK_OK(ccz_paillier_encode_int(&e, pk, 1));
    CHECK_OK(ccz_paillier_encrypt_encoded(&x, pk, &e));
    mpz_set(y.c, x.c);
    x.exponent = 4096;
    y.exponent = 0;
    z.exponent = 12345;
    CHECK_STATUS(ccz_paillier_number_add(&z, pk, &x, &y), CCZ_ERR_OVERFLOW);
    CHECK_STR(ccz_error_detail(), "aligning exponents 4096 and 0 overflows");
    CHECK_INT(z.exponent, 12345);
    /* a scalar of max_int is an encoding; exponents adding to exactly INT_MAX or INT_MIN fit */
    x.exponent = 0;
    ccz_paillier_max_int(max, pk);
    CHECK_OK(ccz_paillier_encode_mpz(&f, pk, max));
    CHECK_OK(ccz_paillier_number_mul_encoded(&z, pk, &x, &f));
    CHECK_OK(ccz_paillier_decrypt_encoded(&e, k, &z));
    CHECK_OK(ccz_paillier_decode_mpz(v, pk, &e));
    CHECK(mpz_cmp(v, max) == 0);
    CHECK_OK(ccz_paillier_encode_int(&f, pk, 1));
    x.exponent = INT_MAX;
    CHECK_OK(ccz_paillier_number_mul_encoded(&z, pk, &x, &f));
    CHECK(z.exponent == INT_MAX);
    x.exponent = INT_MIN;
    CHECK_OK(ccz_paillier_number_mul_encoded(&z, pk, &x, &f));
    CHECK(z.exponent == INT_MIN);

    /* encrypted numbers as JSON, and what is refused */
    CHECK_OK(ccz_paillier_encode_double(&e, pk, -0.75, 0));
    CHECK_OK(ccz_paillier_encrypt_encoded(&x, pk, &e));
    ccz_buf j = CCZ_BUF_INIT;
    CHECK_OK(ccz_paillier_number_to_json(&j, &x));
    CHECK_OK(ccz_paillier_number_from_json(&y, pk, (const char *)j.ptr, j.len));
    CHECK(mpz_cmp(x.c, y.c) == 0 && x.exponent == y.exponent);
    CHECK_OK(ccz_paillier_decrypt_encoded(&f, k, &y));
    CHECK_OK(ccz_paillier_decode_double(&d, pk, &f));
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
        "{\"ciphertext\": \"5\", \"exponent\": -10001}", /* below the bound */
        "{\"ciphertext\": \"5\", \"exponent\": 10001}",  /* above it */
        "5",
    };
    for (size_t i = 0; i < sizeof bad_numbers / sizeof bad_numbers[0]; i++)
        CHECK(ccz_paillier_number_from_json(&y, pk, bad_numbers[i], strlen(bad_numbers[i])) !=
              CCZ_OK);
    /* a number without its ciphertext is named as such */
    CHECK_STATUS(ccz_paillier_number_from_json(&y, pk, "{\"exponent\": 0}", 15), CCZ_ERR_JSON);
    CHECK_STR(ccz_error_detail(), "encrypted number 0: the ciphertext is missing");
    /* the exponent's range is [-10000, 10000], both ends included */
    for (int ex = -10001; ex <= 10001; ex += 20002) {
        char doc[128];
        for (int in = 0; in <= 1; in++) {
            int at = in ? (ex < 0 ? ex + 1 : ex - 1) : ex;
            snprintf(doc, sizeof doc, "{\"ciphertext\": \"5\", \"exponent\": %d}", at);
            if (in) {
                CHECK_OK(ccz_paillier_number_from_json(&y, pk, doc, strlen(doc)));
                CHECK_INT(y.exponent, at);
            } else {
                CHECK_STATUS(ccz_paillier_number_from_json(&y, pk, doc, strlen(doc)), CCZ_ERR_JSON);
                CHECK_STR(ccz_error_detail(),
                          "encrypted number 0: \"exponent\" is not an integer in [-10000, 10000]");
            }
        }
    }
    {
        /* the ciphertext's range is [1, n^2): n^2 - 1 loads, n^2 is not under this key */
        mpz_t n2;
        mpz_init(n2);
        ccz_paillier_pub_n(n2, pk);
        mpz_mul(n2, n2, n2);
        for (int over = 0; over <= 1; over++) {
            if (!over)
                mpz_sub_ui(n2, n2, 1);
            else
                mpz_add_ui(n2, n2, 1);
            char *digits = mpz_get_str(NULL, 10, n2), doc[2048];
            snprintf(doc, sizeof doc, "{\"ciphertext\": \"%s\", \"exponent\": 0}", digits);
            free(digits);
            if (!over) {
                CHECK_OK(ccz_paillier_number_from_json(&y, pk, doc, strlen(doc)));
            } else {
                CHECK_STATUS(ccz_paillier_number_from_json(&y, pk, doc, strlen(doc)),
                             CCZ_ERR_INVALID_ARGUMENT);
                CHECK_CONTAINS(ccz_error_detail(), "not in [1, n^2): not under this key");
            }
        }
        mpz_clear(n2);
    }

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
        CHECK_OK(ccz_paillier_encrypt(c, pk, m));
        CHECK_OK(ccz_paillier_encrypt(c2, pk, m));
        CHECK(mpz_cmp(c, c2) != 0);
        CHECK_OK(ccz_paillier_decrypt(out, k, c));
        CHECK(mpz_cmp(out, m) == 0);
    }
    /* randomizers made ahead by a background thread */
    CHECK_OK(ccz_paillier_pub_precompute(pk, 64));
    for (int i = 0; i < 100; i++) {
        mpz_set_ui(m, (unsigned long)i * 1000003);
        CHECK_OK(ccz_paillier_encrypt(c, pk, m));
        CHECK_OK(ccz_paillier_decrypt(out, k, c));
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
        CHECK_OK(ccz_paillier_encrypt_batch(c, pk, (const mpz_t *)m, N, 0));
        CHECK_OK(ccz_paillier_decrypt_batch(out, k, (const mpz_t *)c, N, 0));
        int ok = 0;
        for (int i = 0; i < N; i++)
            ok += mpz_cmp(out[i], m[i]) == 0;
        CHECK_INT(ok, N);
        /* single-threaded gives the same plaintexts */
        CHECK_OK(ccz_paillier_decrypt_batch(out, k, (const mpz_t *)c, N, 1));
        ok = 0;
        for (int i = 0; i < N; i++)
            ok += mpz_cmp(out[i], m[i]) == 0;
        CHECK_INT(ok, N);
    }
    CHECK_OK(ccz_paillier_add_batch(sum, pk, (const mpz_t *)c, (const mpz_t *)c, N, 2));
    CHECK_OK(ccz_paillier_decrypt_batch(out, k, (const mpz_t *)sum, N, 2));
    mpz_t n, want;
    mpz_inits(n, want, NULL);
    ccz_paillier_pub_n(n, pk);
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
    CHECK_OK(ccz_paillier_mul_plain_batch(sum, pk, (const mpz_t *)c, (const mpz_t *)sc, N, 2));
    CHECK_OK(ccz_paillier_decrypt_batch(out, k, (const mpz_t *)sum, N, 2));
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
    CHECK_STATUS(ccz_paillier_decrypt_batch(out, k, (const mpz_t *)c, N, 2),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "ciphertext 30");
    for (int i = 0; i < N; i++)
        mpz_clears(m[i], c[i], out[i], sum[i], NULL);
    mpz_clears(n, want, NULL);
    ccz_paillier_key_free(k);
}

/* A key of more than 4096 bits (n^2 beyond the IFMA engine's 8192 bits): the batches take GMP
 * there, as on a CPU without IFMA, and give the same plaintexts on both paths (run again under
 * CCZ_CPU=portable), not the engine's refusal. */
static void test_large_key_batches(void)
{
    mpz_t p, q, n, want, t;
    mpz_inits(p, q, n, want, t, NULL);
    CHECK(mpz_set_str(p, P2112, 16) == 0 && mpz_set_str(q, Q2112, 16) == 0);
    ccz_paillier_key *k = NULL;
    CHECK_OK(ccz_paillier_key_from_primes(&k, p, q));
    ccz_paillier_pub *pk = ccz_paillier_key_pub(k);
    CHECK_INT(ccz_paillier_bits(pk), 4224);
    ccz_paillier_pub_n(n, pk);
    enum { N = 9 }; /* a full lane group and one more */
    mpz_t m[N], c[N], out[N], sc[N], dot[1];
    mpz_init(dot[0]);
    for (int i = 0; i < N; i++) {
        mpz_inits(m[i], c[i], out[i], sc[i], NULL);
        mpz_urandomb(m[i], rnd, 4000);
        mpz_urandomb(sc[i], rnd, i % 2 ? 40 : 300);
        if (i % 3 == 1)
            mpz_neg(sc[i], sc[i]);
    }
    CHECK_OK(ccz_paillier_encrypt_batch(c, pk, (const mpz_t *)m, N, 1));
    CHECK_OK(ccz_paillier_decrypt_batch(out, k, (const mpz_t *)c, N, 1));
    int ok = 0;
    for (int i = 0; i < N; i++)
        ok += mpz_cmp(out[i], m[i]) == 0;
    CHECK_INT(ok, N);
    /* scalar products */
    mpz_t prod[N];
    for (int i = 0; i < N; i++)
        mpz_init(prod[i]);
    CHECK_OK(ccz_paillier_mul_plain_batch(prod, pk, (const mpz_t *)c, (const mpz_t *)sc, N, 1));
    CHECK_OK(ccz_paillier_decrypt_batch(out, k, (const mpz_t *)prod, N, 1));
    ok = 0;
    for (int i = 0; i < N; i++) {
        mpz_mul(want, m[i], sc[i]);
        mpz_mod(want, want, n);
        ok += mpz_cmp(out[i], want) == 0;
    }
    CHECK_INT(ok, N);
    /* one encrypted dot product of the nine */
    CHECK_OK(ccz_paillier_dot_batch(dot, pk, (const mpz_t *)c, N, (const mpz_t *)sc, 1, 1));
    CHECK_OK(ccz_paillier_decrypt(out[0], k, dot[0]));
    mpz_set_ui(want, 0);
    for (int i = 0; i < N; i++) {
        mpz_mul(t, m[i], sc[i]);
        mpz_add(want, want, t);
    }
    mpz_mod(want, want, n);
    CHECK(mpz_cmp(out[0], want) == 0);
    /* DJN encryption: its fixed-base table is GMP's here too */
    CHECK_OK(ccz_paillier_pub_set_djn(pk, NULL));
    CHECK_OK(ccz_paillier_encrypt_batch(c, pk, (const mpz_t *)m, N, 1));
    CHECK_OK(ccz_paillier_decrypt_batch(out, k, (const mpz_t *)c, N, 1));
    ok = 0;
    for (int i = 0; i < N; i++)
        ok += mpz_cmp(out[i], m[i]) == 0;
    CHECK_INT(ok, N);
    for (int i = 0; i < N; i++)
        mpz_clears(m[i], c[i], out[i], sc[i], prod[i], NULL);
    mpz_clears(p, q, n, want, t, dot[0], NULL);
    ccz_paillier_key_free(k);
}

/* The IFMA engine against GMP on random lanes of several sizes, with edge values. */
/* The IFMA engine against GMP is tests/paillier/test_paillier_ifma.c (skipped without IFMA); here,
 * only that it refuses to run where the CPU lacks it. */
static void test_ifma_unavailable(void)
{
    if (!mbx_available())
        CHECK_STATUS(mbx_powm(NULL, NULL, NULL, NULL, 1, 64, 1), CCZ_ERR_UNSUPPORTED);
}

static void test_json_and_keys(void)
{
    ccz_paillier_key *k = fixed_key();
    ccz_buf j;
    ccz_buf_init(&j, 0, true);
    CHECK_OK(ccz_paillier_key_to_json(&j, k));
    CHECK_OK(ccz_buf_append_u8(&j, 0));
    CHECK_CONTAINS((const char *)j.ptr, P512);
    ccz_paillier_pub *pk2;
    ccz_paillier_key *k2;
    CHECK_OK(ccz_paillier_load_json(&pk2, &k2, (const char *)j.ptr, j.len - 1));
    CHECK(k2 != NULL);
    mpz_t m, c, out;
    mpz_inits(m, c, out, NULL);
    mpz_set_ui(m, 99);
    CHECK_OK(ccz_paillier_encrypt(c, ccz_paillier_key_pub(k), m));
    CHECK_OK(ccz_paillier_decrypt(out, k2, c));
    CHECK(mpz_cmp(out, m) == 0);
    ccz_paillier_key_free(k2);
    /* public only */
    ccz_buf pj = CCZ_BUF_INIT;
    CHECK_OK(ccz_paillier_pub_to_json(&pj, ccz_paillier_key_pub(k)));
    CHECK_OK(ccz_paillier_load_json(&pk2, &k2, (const char *)pj.ptr, pj.len));
    CHECK(k2 == NULL);
    CHECK_OK(ccz_paillier_encrypt(c, pk2, m));
    CHECK_OK(ccz_paillier_decrypt(out, k, c));
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
        CHECK_STATUS(ccz_paillier_load_json(&pk2, &k2, bad[i].doc, strlen(bad[i].doc)),
                     bad[i].want);
        CHECK_CONTAINS(ccz_error_detail(), bad[i].says);
    }
    { /* a base64url integer of 1500 characters (the bound is 1400) */
        char big[1600];
        int o = snprintf(big, sizeof big, "{\"kty\": \"DAJ\", \"alg\": \"PAI-GN1\", \"n\": \"");
        memset(big + o, 'A', 1500);
        snprintf(big + o + 1500, sizeof big - (size_t)o - 1500, "\"}");
        CHECK_STATUS(ccz_paillier_load_json(&pk2, &k2, big, strlen(big)), CCZ_ERR_ENCODING);
        CHECK_CONTAINS(ccz_error_detail(), "\"n\" is not a base64url integer");
    }
    /* n that is not p q */
    char doc[1200];
    snprintf(doc, sizeof doc, "{\"n\": \"%s\", \"p\": \"%s\", \"q\": \"%s\"}", P512, P512, Q512);
    CHECK_STATUS(ccz_paillier_load_json(&pk2, &k2, doc, strlen(doc)), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "n is not p * q");
    /* primes too close, not prime */
    mpz_t p, q;
    mpz_init_set_str(p, P512, 10);
    mpz_init(q);
    mpz_nextprime(q, p);
    CHECK_STATUS(ccz_paillier_key_from_primes(&k2, p, q), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "too close");
    /* primes of 256 bits are the least taken (here n has 512 bits), of 255 bits refused */
    for (unsigned bits = 255; bits <= 256; bits++) {
        mpz_t a, b;
        mpz_inits(a, b, NULL);
        mpz_setbit(a, bits - 1);
        mpz_setbit(a, bits - 2); /* about 1.5 * 2^(bits-1): n has 2 * bits bits */
        mpz_nextprime(a, a);
        mpz_setbit(b, bits - 6);
        mpz_add(b, b, a);
        mpz_nextprime(b, b);
        if (bits == 255) {
            CHECK_STATUS(ccz_paillier_key_from_primes(&k2, a, b), CCZ_ERR_INVALID_ARGUMENT);
            CHECK_CONTAINS(ccz_error_detail(), "(255 and 255 bits), at least 256 bits");
        } else {
            CHECK_OK(ccz_paillier_key_from_primes(&k2, a, b));
            CHECK(k2 && ccz_paillier_bits(ccz_paillier_key_pub(k2)) == 512);
            ccz_paillier_key_free(k2);
            k2 = NULL;
        }
        mpz_clears(a, b, NULL);
    }
    /* the bound itself: |p - q| of 512 - 100 bits is too close, of one bit more it is not */
    for (unsigned bits = 412; bits <= 413; bits++) {
        mpz_set_ui(q, 1);
        mpz_mul_2exp(q, q, bits - 1);
        mpz_add(q, q, p);
        mpz_nextprime(q, q);
        if (bits == 412) {
            CHECK_STATUS(ccz_paillier_key_from_primes(&k2, p, q), CCZ_ERR_INVALID_ARGUMENT);
            CHECK_CONTAINS(ccz_error_detail(), "too close");
        } else {
            CHECK_OK(ccz_paillier_key_from_primes(&k2, p, q));
            ccz_paillier_key_free(k2);
            k2 = NULL;
        }
    }
    mpz_add_ui(q, p, 2);
    CHECK_STATUS(ccz_paillier_key_from_primes(&k2, p, q), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(ccz_paillier_keygen(&k2, 1000), CCZ_ERR_INVALID_ARGUMENT);
    /* the size range's ends: 512 bits is the smallest key made, 496 too small */
    CHECK_STATUS(ccz_paillier_keygen(&k2, 496), CCZ_ERR_INVALID_ARGUMENT);
    CHECK(k2 == NULL);
    CHECK_OK(ccz_paillier_keygen(&k2, 512));
    if (k2)
        CHECK_INT(ccz_paillier_bits(ccz_paillier_key_pub(k2)), 512);
    ccz_paillier_key_free(k2);
    k2 = NULL;
    mpz_clears(p, q, m, c, out, NULL);
    ccz_buf_free(&j);
    ccz_paillier_key_free(k);
}

/* ---- constant time: GMP's variable-time entry points, interposed ----------------------------
 * This executable defines mpz_powm, mpz_invert and mpz_probab_prime_p itself, so the library's
 * calls (linked statically into it) come here first and are forwarded to GMP. While armed, a
 * call is "secret" when its modulus is neither n nor n^2, or when it is modulo n^2 with an
 * exponent other than n (the public r^n): the exponentiations of decryption, CRT encryption, key
 * set-up and DJN checks are modulo p, q, p^2, q^2 and must go through mpz_powm_sec instead. */
static struct {
    atomic_bool armed;
    mpz_t n, n2;
    atomic_ulong calls, secret, sec;
} vt;

static void vt_note(mpz_srcptr e, mpz_srcptr m)
{
    if (!atomic_load(&vt.armed))
        return;
    atomic_fetch_add(&vt.calls, 1);
    bool mod_n = mpz_cmp(m, vt.n) == 0, mod_n2 = mpz_cmp(m, vt.n2) == 0;
    if ((!mod_n && !mod_n2) || (mod_n2 && e && mpz_cmp(e, vt.n) != 0))
        atomic_fetch_add(&vt.secret, 1);
}

void mpz_powm(mpz_ptr r, mpz_srcptr b, mpz_srcptr e, mpz_srcptr m)
{
    static void (*real)(mpz_ptr, mpz_srcptr, mpz_srcptr, mpz_srcptr);
    if (!real)
        *(void **)&real = dlsym(RTLD_NEXT, "__gmpz_powm");
    vt_note(e, m);
    real(r, b, e, m);
}

void mpz_powm_sec(mpz_ptr r, mpz_srcptr b, mpz_srcptr e, mpz_srcptr m)
{
    static void (*real)(mpz_ptr, mpz_srcptr, mpz_srcptr, mpz_srcptr);
    if (!real)
        *(void **)&real = dlsym(RTLD_NEXT, "__gmpz_powm_sec");
    if (atomic_load(&vt.armed))
        atomic_fetch_add(&vt.sec, 1);
    real(r, b, e, m);
}

int mpz_invert(mpz_ptr r, mpz_srcptr a, mpz_srcptr m)
{
    static int (*real)(mpz_ptr, mpz_srcptr, mpz_srcptr);
    if (!real)
        *(void **)&real = dlsym(RTLD_NEXT, "__gmpz_invert");
    vt_note(NULL, m);
    return real(r, a, m);
}

int mpz_probab_prime_p(mpz_srcptr x, int reps)
{
    static int (*real)(mpz_srcptr, int);
    if (!real)
        *(void **)&real = dlsym(RTLD_NEXT, "__gmpz_probab_prime_p");
    vt_note(NULL, x); /* a test of n is public; of p or q, secret */
    return real(x, reps);
}

/* Reductions and exact divisions: GMP's are variable-time too (their time follows the operands'
 * sizes and their quotient's corrections); modulo or by anything but n and n^2 they are secret
 * (p, q, p^2, q^2, p - 3, p(p - 1)) and must be paillier_sec_mod's and paillier_sec_div's. */
static void vt_note_div(mpz_srcptr d)
{
    if (!atomic_load(&vt.armed))
        return;
    if (mpz_cmp(d, vt.n) != 0 && mpz_cmp(d, vt.n2) != 0)
        atomic_fetch_add(&vt.secret, 1);
}

void mpz_mod(mpz_ptr r, mpz_srcptr a, mpz_srcptr m)
{
    static void (*real)(mpz_ptr, mpz_srcptr, mpz_srcptr);
    if (!real)
        *(void **)&real = dlsym(RTLD_NEXT, "__gmpz_mod");
    vt_note_div(m);
    real(r, a, m);
}

void mpz_divexact(mpz_ptr q, mpz_srcptr a, mpz_srcptr d)
{
    static void (*real)(mpz_ptr, mpz_srcptr, mpz_srcptr);
    if (!real)
        *(void **)&real = dlsym(RTLD_NEXT, "__gmpz_divexact");
    vt_note_div(d);
    real(q, a, d);
}

static void vt_arm(const ccz_paillier_pub *pk)
{
    ccz_paillier_pub_n(vt.n, pk);
    mpz_mul(vt.n2, vt.n, vt.n);
    atomic_store(&vt.calls, 0);
    atomic_store(&vt.secret, 0);
    atomic_store(&vt.sec, 0);
    atomic_store(&vt.armed, true);
}

/* Disarms; the number of secret variable-time calls since vt_arm (0 expected), and how many
 * went through mpz_powm_sec. */
static unsigned long vt_disarm(unsigned long *sec)
{
    atomic_store(&vt.armed, false);
    *sec = atomic_load(&vt.sec);
    return atomic_load(&vt.secret);
}

static void test_constant_time(void)
{
    /* the constant-time reduction agrees with mpz_mod on every shape of operand */
    mpz_t x, md, want, got;
    mpz_inits(x, md, want, got, NULL);
    int agree = 0, tried = 0;
    for (unsigned mb = 64; mb <= 2048; mb += 333) {
        mpz_urandomb(md, rnd, mb);
        mpz_setbit(md, mb - 1);
        for (unsigned xb = 1; xb <= 2 * mb + 70; xb += mb / 3 + 1, tried += 3) {
            mpz_urandomb(x, rnd, xb);
            mpz_mod(want, x, md);
            paillier_sec_mod(got, x, md);
            agree += mpz_cmp(want, got) == 0;
            mpz_mul(x, md, x); /* a multiple of m: 0 */
            paillier_sec_mod(got, x, md);
            agree += mpz_sgn(got) == 0;
            mpz_add_ui(x, x, 5);
            paillier_sec_mod(got, x, md);
            agree += mpz_cmp_ui(got, 5) == 0;
        }
    }
    CHECK_INT(agree, tried);
    mpz_clears(x, md, want, got, NULL);

    mpz_inits(vt.n, vt.n2, NULL);
    ccz_paillier_key *k = fixed_key();
    ccz_paillier_pub *pk = ccz_paillier_key_pub(k);
    mpz_t m, c, out, big, p, q;
    mpz_inits(m, c, out, big, NULL);
    mpz_init_set_str(p, P512, 10);
    mpz_init_set_str(q, Q512, 10);
    unsigned long sec;
    /* the interposition works: a public scalar product reaches mpz_powm modulo n^2 */
    mpz_set_ui(m, 5);
    CHECK_OK(ccz_paillier_encrypt(c, pk, m));
    mpz_set_str(big, "123456789012345678901234567890", 10);
    vt_arm(pk);
    CHECK_OK(ccz_paillier_mul_plain(out, pk, c, big));
    CHECK_INT(vt_disarm(&sec), 1);
    CHECK_INT(atomic_load(&vt.calls), 1);

    /* key set-up: h_p, h_q, q^-1, (q^2)^-1 and the primality tests */
    ccz_paillier_key *k2 = NULL;
    vt_arm(pk);
    CHECK_OK(ccz_paillier_key_from_primes(&k2, p, q));
    CHECK_INT(vt_disarm(&sec), 0);
    CHECK(sec >= 28); /* 2 x 12 Miller-Rabin rounds, h_p, h_q and their inverses, q^-1 */
    /* decryption: GMP's two constant-time exponentiations, or the IFMA engine's pairs */
    vt_arm(pk);
    CHECK_OK(ccz_paillier_decrypt(out, k2, c));
    CHECK_INT(vt_disarm(&sec), 0);
    CHECK_INT(sec, mbx_available() ? 0 : 2);
    CHECK(mpz_cmp_ui(out, 5) == 0);
    /* m = p: m_p = 0 below m_q = p mod q, so the recombination's difference is negative before
     * p is added; no variable-time reduction of it either */
    mpz_t mp_c;
    mpz_init(mp_c);
    CHECK_OK(ccz_paillier_encrypt(mp_c, pk, p));
    vt_arm(pk);
    CHECK_OK(ccz_paillier_decrypt(out, k2, mp_c));
    CHECK_INT(vt_disarm(&sec), 0);
    CHECK(mpz_cmp(out, p) == 0);
    mpz_clear(mp_c);
    /* encryption by the key holder (CRT randomizer): likewise */
    vt_arm(pk);
    CHECK_OK(ccz_paillier_encrypt_priv(c, k2, m));
    CHECK_INT(vt_disarm(&sec), 0);
    CHECK_INT(sec, mbx_available() ? 0 : 2);
    CHECK_OK(ccz_paillier_decrypt(out, k2, c));
    CHECK(mpz_cmp_ui(out, 5) == 0);
    /* batches: GMP's constant-time path without IFMA, the IFMA engine (no GMP) with it */
    mpz_t cs[5], ms[5];
    for (int i = 0; i < 5; i++) {
        mpz_inits(cs[i], ms[i], NULL);
        mpz_set(cs[i], c);
    }
    vt_arm(pk);
    CHECK_OK(ccz_paillier_decrypt_batch(ms, k2, (const mpz_t *)cs, 5, 2));
    CHECK_INT(vt_disarm(&sec), 0);
    if (!mbx_available())
        CHECK_INT(sec, 10);
    for (int i = 0; i < 5; i++) {
        CHECK(mpz_cmp_ui(ms[i], 5) == 0);
        mpz_clears(cs[i], ms[i], NULL);
    }
    /* private keys from JSON (JWK with lambda and mu, DJN base verified), and written as JWK
     * (mu = lambda^-1 mod n) */
    CHECK_OK(ccz_paillier_pub_set_djn(ccz_paillier_key_pub(k2), NULL));
    ccz_buf j;
    ccz_buf_init(&j, 0, true);
    vt_arm(pk);
    CHECK_OK(ccz_paillier_key_to_json(&j, k2));
    CHECK_OK(ccz_paillier_key_write_json(&j, k2, CCZ_PAILLIER_JSON_JWK));
    CHECK_INT(vt_disarm(&sec), 0);
    ccz_paillier_pub *pk3;
    ccz_paillier_key *k3;
    char *jwk = strstr((char *)j.ptr, "{\"kty\"");
    CHECK(jwk != NULL);
    vt_arm(pk);
    CHECK_OK(ccz_paillier_load_json(&pk3, &k3, (const char *)j.ptr, (size_t)(jwk - (char *)j.ptr)));
    CHECK(ccz_paillier_pub_djn(pk3));
    ccz_paillier_key_free(k3);
    CHECK_OK(ccz_paillier_load_json(&pk3, &k3, jwk, strlen(jwk)));
    CHECK_INT(vt_disarm(&sec), 0);
    CHECK_OK(ccz_paillier_decrypt(out, k3, c));
    CHECK(mpz_cmp_ui(out, 5) == 0);
    ccz_paillier_key_free(k3);
    ccz_buf_free(&j);
    ccz_paillier_key_free(k2);
    mpz_clears(m, c, out, big, p, q, NULL);
    ccz_paillier_key_free(k);
}

/* Decryption takes elements of Z*_{n^2} only: c = n decrypted to 0 and c = p reached a
 * non-exact division before. */
static void test_ciphertext_units(void)
{
    ccz_paillier_key *k = fixed_key();
    ccz_paillier_pub *pk = ccz_paillier_key_pub(k);
    mpz_t n, n2, c, out, p, q;
    mpz_inits(n, n2, c, out, NULL);
    mpz_init_set_str(p, P512, 10);
    mpz_init_set_str(q, Q512, 10);
    ccz_paillier_pub_n(n, pk);
    mpz_mul(n2, n, n);
    const mpz_t *bad[] = {&n, &p, &q};
    for (size_t i = 0; i < 3; i++) {
        CHECK_STATUS(ccz_paillier_decrypt(out, k, *bad[i]), CCZ_ERR_INVALID_ARGUMENT);
        CHECK_CONTAINS(ccz_error_detail(), "shares a factor with n");
    }
    /* a multiple of q below n^2, and n^2 - p */
    mpz_mul_ui(c, q, 12345);
    CHECK_STATUS(ccz_paillier_decrypt(out, k, c), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "gcd(c, n) is not 1");
    mpz_sub(c, n2, p);
    CHECK_STATUS(ccz_paillier_decrypt(out, k, c), CCZ_ERR_INVALID_ARGUMENT);
    mpz_sub_ui(c, n2, 1); /* a unit: -1 = Enc(0) with r = -1 */
    CHECK_OK(ccz_paillier_decrypt(out, k, c));
    CHECK(mpz_sgn(out) == 0);
    mpz_add_ui(c, n, 1); /* Enc(1) with r = 1 */
    CHECK_OK(ccz_paillier_decrypt(out, k, c));
    CHECK(mpz_cmp_ui(out, 1) == 0);
    CHECK_STATUS(ccz_paillier_decrypt(out, k, n2), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "not in [1, n^2)");
    /* batches, on both paths (this test runs again with CCZ_CPU=portable) */
    enum { N = 11 };
    mpz_t cs[N], ms[N];
    for (int i = 0; i < N; i++) {
        mpz_inits(cs[i], ms[i], NULL);
        mpz_set_ui(out, (unsigned long)i);
        CHECK_OK(ccz_paillier_encrypt(cs[i], pk, out));
    }
    CHECK_OK(ccz_paillier_decrypt_batch(ms, k, (const mpz_t *)cs, N, 1));
    CHECK(mpz_cmp_ui(ms[7], 7) == 0);
    mpz_mul(cs[7], cs[7], p); /* c p: not a unit */
    mpz_mod(cs[7], cs[7], n2);
    CHECK_STATUS(ccz_paillier_decrypt_batch(ms, k, (const mpz_t *)cs, N, 2),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "ciphertext 7 shares a factor with n");
    mpz_set(cs[7], n);
    CHECK_STATUS(ccz_paillier_decrypt_batch(ms, k, (const mpz_t *)cs, N, 1),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "ciphertext 7 shares a factor with n");
    /* products in a batch: Enc(i)^(+-i); a refusal names the item, on both paths */
    mpz_t ks[N];
    for (int i = 0; i < N; i++) {
        mpz_set_ui(out, (unsigned long)i);
        CHECK_OK(ccz_paillier_encrypt(cs[i], pk, out));
        mpz_init_set_si(ks[i], i % 2 ? -i : i);
    }
    CHECK_OK(ccz_paillier_mul_plain_batch(ms, pk, (const mpz_t *)cs, (const mpz_t *)ks, N, 2));
    int right = 0;
    for (int i = 0; i < N; i++) {
        CHECK_OK(ccz_paillier_decrypt(out, k, ms[i]));
        mpz_mul_si(c, ks[i], i);
        mpz_mod(c, c, n);
        right += mpz_cmp(out, c) == 0;
    }
    CHECK_INT(right, N);
    mpz_set_ui(cs[3], 0);
    CHECK_STATUS(ccz_paillier_mul_plain_batch(ms, pk, (const mpz_t *)cs, (const mpz_t *)ks, N, 2),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "ciphertext 3 is not in [1, n^2): not from this key");
    mpz_set(cs[3], n2);
    CHECK_STATUS(ccz_paillier_mul_plain_batch(ms, pk, (const mpz_t *)cs, (const mpz_t *)ks, N, 1),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "ciphertext 3 is not in [1, n^2): not from this key");
    /* sums in a batch refuse it too, on several threads or one */
    CHECK_STATUS(ccz_paillier_add_batch(ms, pk, (const mpz_t *)cs, (const mpz_t *)cs, N, 2),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "the ciphertext is not in [1, n^2): not from this key");
    CHECK_STATUS(ccz_paillier_add_batch(ms, pk, (const mpz_t *)cs, (const mpz_t *)cs, N, 1),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "the ciphertext is not in [1, n^2): not from this key");
    mpz_add_ui(cs[3], n, 1);
    for (int sign = 1; sign >= -1; sign -= 2) {
        mpz_mul_si(ks[5], n, sign);
        CHECK_STATUS(
            ccz_paillier_mul_plain_batch(ms, pk, (const mpz_t *)cs, (const mpz_t *)ks, N, 2),
            CCZ_ERR_INVALID_ARGUMENT);
        CHECK_STR(ccz_error_detail(), "scalar 5: magnitude not below n");
    }
    mpz_set_si(ks[5], -5);
    mpz_mul(cs[5], cs[5], p); /* not a unit: no inverse for the negative scalar */
    mpz_mod(cs[5], cs[5], n2);
    CHECK_STATUS(ccz_paillier_mul_plain_batch(ms, pk, (const mpz_t *)cs, (const mpz_t *)ks, N, 2),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "ciphertext 5 is not invertible");
    /* plaintexts outside [0, n) */
    for (int i = 0; i < N; i++)
        mpz_set_ui(ms[i], (unsigned long)i);
    mpz_set(ms[4], n);
    CHECK_STATUS(ccz_paillier_encrypt_batch(cs, pk, (const mpz_t *)ms, N, 2),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "plaintext 4 is not in [0, n)");
    mpz_set_si(ms[4], -1);
    CHECK_STATUS(ccz_paillier_encrypt_batch(cs, pk, (const mpz_t *)ms, N, 1),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "plaintext 4 is not in [0, n)");
    for (int i = 0; i < N; i++)
        mpz_clears(cs[i], ms[i], ks[i], NULL);
    mpz_clears(n, n2, c, out, p, q, NULL);
    ccz_paillier_key_free(k);
}

/* A key document with "hs" = v (decimal), with or without p and q. */
static ccz_status load_with_hs(const mpz_t hs, bool private, ccz_paillier_pub **pk,
                               ccz_paillier_key **k)
{
    char *h = mpz_get_str(NULL, 10, hs);
    char doc[3000];
    mpz_t n, p, q;
    mpz_init_set_str(p, P512, 10);
    mpz_init_set_str(q, Q512, 10);
    mpz_init(n);
    mpz_mul(n, p, q);
    gmp_snprintf(doc, sizeof doc, "{\"n\": \"%Zd\", \"hs\": \"%s\"%s%s%s%s%s}", n, h,
                 private ? ", \"p\": \"" : "", private ? P512 : "", private ? "\", \"q\": \"" : "",
                 private ? Q512 : "", private ? "\"" : "");
    free(h);
    mpz_clears(n, p, q, NULL);
    return ccz_paillier_load_json(pk, k, doc, strlen(doc));
}

/* Hostile DJN bases: hs = 1 made every ciphertext 1 + m n. A private key's hs is verified
 * against p and q; a public key's is replaced by a fresh one. */
static void test_hostile_hs(void)
{
    ccz_paillier_key *k = fixed_key();
    ccz_paillier_pub *pk = ccz_paillier_key_pub(k);
    mpz_t n, n2, hs, x, m, c, want, out;
    mpz_inits(n, n2, hs, x, m, c, want, out, NULL);
    ccz_paillier_pub_n(n, pk);
    mpz_mul(n2, n, n);
    ccz_paillier_pub *pk2;
    ccz_paillier_key *k2;
    /* a public key with hs = 1: loads, but encrypts with a base of its own */
    mpz_set_ui(hs, 1);
    mpz_set_ui(m, 77);
    CHECK_OK(load_with_hs(hs, false, &pk2, &k2));
    if (pk2) {
        CHECK(k2 == NULL && ccz_paillier_pub_djn(pk2));
        CHECK(mpz_cmp_ui(pk2->hs, 1) > 0);
        CHECK_OK(ccz_paillier_encrypt(c, pk2, m));
        mpz_mul(want, m, n);
        mpz_add_ui(want, want, 1);
        CHECK(mpz_cmp(c, want) != 0);
        CHECK_OK(ccz_paillier_decrypt(out, k, c));
        CHECK(mpz_cmp(out, m) == 0);
        ccz_paillier_pub_free(pk2);
    }
    /* the same document with p and q, its public key alone asked for (key NULL): a public key
     * like any other, whose hs is not used (a base of its own), not a private key's */
    CHECK_OK(load_with_hs(hs, true, &pk2, NULL));
    if (pk2) {
        CHECK(ccz_paillier_pub_djn(pk2) && mpz_cmp_ui(pk2->hs, 1) > 0);
        ccz_paillier_pub_free(pk2);
    }
    /* the same with p and q: refused, as are other bases that are not (-x^2)^n */
    static const char *const says[] = {"h_s is not in [2, n^2)", "1 or -1 modulo n",
                                       "shares a factor with n", "not a DJN base",
                                       "not a DJN base",         "not a DJN base"};
    for (int i = 0; i < 6; i++) {
        switch (i) {
        case 0:
            mpz_set_ui(hs, 1);
            break;
        case 1:
            mpz_add_ui(hs, n, 1);
            break; /* g: every "randomizer" shifts m */
        case 2:
            mpz_set_str(hs, P512, 10);
            break;
        case 3:
            mpz_set_ui(hs, 4);
            break; /* a square, not -x^2, not an n-th power */
        case 4:    /* -x^2, but not an n-th residue */
            mpz_set_ui(x, 12345);
            mpz_mul(hs, x, x);
            mpz_sub(hs, n2, hs);
            break;
        case 5: /* (x^2)^n: an n-th residue, not -x^2 */
            mpz_set_ui(x, 12345);
            mpz_mul(hs, x, x);
            mpz_powm(hs, hs, n, n2);
            break;
        }
        CHECK_STATUS(load_with_hs(hs, true, &pk2, &k2), CCZ_ERR_INVALID_ARGUMENT);
        CHECK_CONTAINS(ccz_error_detail(), says[i]);
        if (i < 3) /* what can be seen without p and q is refused by the API too */
            CHECK_STATUS(ccz_paillier_pub_set_djn(pk, hs), CCZ_ERR_INVALID_ARGUMENT);
    }
    /* a genuine base with its private key is kept */
    mpz_set_ui(x, 12345);
    mpz_mul(hs, x, x);
    mpz_neg(hs, hs);
    mpz_mod(hs, hs, n);
    mpz_powm(hs, hs, n, n2);
    CHECK_OK(load_with_hs(hs, true, &pk2, &k2));
    if (k2) {
        CHECK(ccz_paillier_pub_djn(pk2) && mpz_cmp(pk2->hs, hs) == 0);
        CHECK_OK(ccz_paillier_encrypt(c, pk2, m));
        CHECK_OK(ccz_paillier_decrypt(out, k, c));
        CHECK(mpz_cmp(out, m) == 0);
        ccz_paillier_key_free(k2);
    }
    mpz_clears(n, n2, hs, x, m, c, want, out, NULL);
    ccz_paillier_key_free(k);
}

/* The checks on keys, scalars and DJN bases that no other test reaches one by one: each input
 * below is refused by exactly one check, with its own message. */
static void test_key_checks(void)
{
    ccz_paillier_key *k = fixed_key(), *k2 = NULL;
    ccz_paillier_pub *pk = ccz_paillier_key_pub(k), *pk2 = NULL;
    mpz_t n, n2, p, q, v, c, hs;
    mpz_inits(n, n2, v, c, hs, NULL);
    mpz_init_set_str(p, P512, 10);
    mpz_init_set_str(q, Q512, 10);
    ccz_paillier_pub_n(n, pk);
    mpz_mul(n2, n, n);
    /* freeing nothing is a no-op, as free(NULL) */
    ccz_paillier_pub_free(NULL);
    ccz_paillier_key_free(NULL);
    /* moduli: even, 511 and 8193 bits, a square, a prime */
    mpz_add_ui(v, n, 1);
    CHECK_STATUS(ccz_paillier_pub_new(&pk2, v), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "(this one: 1024 bits, even)");
    mpz_set_ui(v, 1);
    mpz_mul_2exp(v, v, 509);
    mpz_add_ui(v, v, 1);
    mpz_mul_ui(v, v, 3); /* odd, composite, 511 bits */
    CHECK_STATUS(ccz_paillier_pub_new(&pk2, v), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "(this one: 511 bits)");
    mpz_ui_pow_ui(v, 3, 5169); /* odd, not a square, 8193 bits */
    CHECK_STATUS(ccz_paillier_pub_new(&pk2, v), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "(this one: 8193 bits)");
    /* 512 and 8192 bits are the bounds themselves: taken (2^511 + 1 and 2^8191 + 1 are odd,
     * multiples of 3 and not squares) */
    for (unsigned bits = 512; bits <= 8192; bits += 8192 - 512) {
        mpz_set_ui(v, 1);
        mpz_mul_2exp(v, v, bits - 1);
        mpz_add_ui(v, v, 1);
        CHECK_OK(ccz_paillier_pub_new(&pk2, v));
        CHECK(pk2 && ccz_paillier_bits(pk2) == bits);
        ccz_paillier_pub_free(pk2);
        pk2 = NULL;
    }
    mpz_mul(v, p, p);
    CHECK_STATUS(ccz_paillier_pub_new(&pk2, v), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "the modulus is prime or a square");
    mpz_nextprime(v, n);
    CHECK_STATUS(ccz_paillier_pub_new(&pk2, v), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "the modulus is prime or a square");
    CHECK(pk2 == NULL);
    /* primes of different sizes; a composite beside a prime */
    mpz_set_ui(v, 1);
    mpz_mul_2exp(v, v, 520);
    mpz_nextprime(v, v);
    CHECK_STATUS(ccz_paillier_key_from_primes(&k2, p, v), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "p and q must be primes of the same size (512 and 521");
    mpz_add_ui(v, q, 2);
    while (mpz_probab_prime_p(v, 30))
        mpz_add_ui(v, v, 2);
    CHECK_STATUS(ccz_paillier_key_from_primes(&k2, p, v), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "p or q is not prime");
    CHECK_STATUS(ccz_paillier_key_from_primes(&k2, v, q), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "p or q is not prime");
    CHECK(k2 == NULL);
    /* scalars: -n is out of range as n is; a negative scalar needs an invertible ciphertext */
    mpz_set_ui(v, 5);
    CHECK_OK(ccz_paillier_encrypt(c, pk, v));
    mpz_neg(v, n);
    CHECK_STATUS(ccz_paillier_mul_plain(hs, pk, c, v), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "the scalar's magnitude is not below n");
    mpz_mul(c, c, p);
    mpz_mod(c, c, n2);
    mpz_set_si(v, -3);
    CHECK_STATUS(ccz_paillier_mul_plain(hs, pk, c, v), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "the ciphertext is not invertible modulo n^2");
    /* only a negative scalar inverts: 0 times such a ciphertext is 1 (an encryption of 0, as
     * python-paillier's c^0 mod n^2), 3 times it c^3, alone and in a batch */
    mpz_set_ui(v, 0);
    mpz_set_ui(hs, 7);
    CHECK_OK(ccz_paillier_mul_plain(hs, pk, c, v));
    CHECK(mpz_cmp_ui(hs, 1) == 0);
    mpz_set_ui(v, 3);
    CHECK_OK(ccz_paillier_mul_plain(hs, pk, c, v));
    mpz_t want3;
    mpz_init(want3);
    mpz_powm_ui(want3, c, 3, n2);
    CHECK(mpz_cmp(hs, want3) == 0);
    {
        mpz_t bc[2], bk[2], bo[2];
        for (int i = 0; i < 2; i++) {
            mpz_inits(bc[i], bk[i], bo[i], NULL);
            mpz_set(bc[i], c);
            mpz_set_ui(bk[i], i ? 3 : 0);
        }
        CHECK_OK(ccz_paillier_mul_plain_batch(bo, pk, (const mpz_t *)bc, (const mpz_t *)bk, 2, 1));
        CHECK(mpz_cmp_ui(bo[0], 1) == 0);
        CHECK(mpz_cmp(bo[1], want3) == 0);
        for (int i = 0; i < 2; i++)
            mpz_clears(bc[i], bk[i], bo[i], NULL);
    }
    mpz_clear(want3);
    /* both operands of a sum are checked */
    mpz_add_ui(c, n, 1);
    CHECK_STATUS(ccz_paillier_add(hs, pk, c, n2), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "the ciphertext is not in [1, n^2): not from this key");
    /* a batch checks every ciphertext's range: c + n^2 is not c */
    mpz_t cs[2], ms[2];
    for (int i = 0; i < 2; i++) {
        mpz_inits(cs[i], ms[i], NULL);
        mpz_set_ui(v, (unsigned long)i + 1);
        CHECK_OK(ccz_paillier_encrypt(cs[i], pk, v));
    }
    mpz_add(cs[1], cs[1], n2);
    CHECK_STATUS(ccz_paillier_decrypt_batch(ms, k, (const mpz_t *)cs, 2, 1),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "ciphertext 1 is not in [1, n^2): not from this key");
    for (int i = 0; i < 2; i++)
        mpz_clears(cs[i], ms[i], NULL);
    /* the randomizer pool's bound */
    CHECK_STATUS(ccz_paillier_pub_precompute(pk, ((size_t)1 << 20) + 1), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "at most 2^20 randomizers ahead");
    /* DJN bases that the public checks refuse, each by its own check: n^2 (out of range, though it
     * shares a factor with n too), -1 mod n (its negation 1 is a square), and a unit whose
     * negation has Jacobi symbol -1 */
    CHECK_STATUS(ccz_paillier_pub_set_djn(pk, n2), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "h_s is not in [2, n^2)");
    mpz_sub_ui(hs, n, 1);
    CHECK_STATUS(ccz_paillier_pub_set_djn(pk, hs), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "h_s is 1 or -1 modulo n: not a DJN base");
    mpz_set_ui(hs, 2);
    for (;; mpz_add_ui(hs, hs, 1)) {
        mpz_sub(v, n, hs);
        if (mpz_jacobi(v, n) == -1)
            break;
    }
    CHECK_STATUS(ccz_paillier_pub_set_djn(pk, hs), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "-h_s is not a square modulo n: not a DJN base");
    CHECK(!ccz_paillier_pub_djn(pk));
    /* an n-th residue y^n whose negation has Jacobi symbol 1 modulo n, but is a square modulo
     * neither p nor q: only the private check can tell */
    mpz_set_ui(v, 2);
    for (;; mpz_add_ui(v, v, 1)) {
        mpz_sub(c, p, v);
        mpz_sub(hs, q, v);
        if (mpz_jacobi(c, p) == -1 && mpz_jacobi(hs, q) == -1)
            break;
    }
    mpz_powm(hs, v, n, n2);
    CHECK_OK(ccz_paillier_pub_set_djn(pk, hs)); /* passes what can be seen without p and q */
    CHECK_STATUS(load_with_hs(hs, true, &pk2, &k2), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "h_s is not (-x^2)^n mod n^2 for this key");
    CHECK(k2 == NULL);
    mpz_clears(n, n2, p, q, v, c, hs, NULL);
    ccz_paillier_key_free(k);
}

/* base64url of v, as a JWK writes it (no padding) */
static char *b64url(const mpz_t v)
{
    size_t len = (mpz_sizeinbase(v, 2) + 7) / 8, got = 0;
    uint8_t *bytes = calloc(1, len + 1);
    mpz_export(bytes, &got, 1, 1, 1, 0, v);
    ccz_buf b = CCZ_BUF_INIT;
    CHECK_OK(ccz_base64_encode(&b, CCZ_SPAN(bytes, got)));
    char *t = calloc(1, b.len + 1);
    size_t m = 0;
    for (size_t i = 0; i < b.len && b.ptr[i] != '='; i++)
        t[m++] = b.ptr[i] == '+' ? '-' : b.ptr[i] == '/' ? '_' : (char)b.ptr[i];
    ccz_buf_free(&b);
    free(bytes);
    return t;
}

/* Encodings at their bounds, and JSON that each check alone refuses. */
static void test_encoding_and_json_checks(void)
{
    ccz_paillier_key *k = fixed_key(), *k2 = NULL;
    ccz_paillier_pub *pk = ccz_paillier_key_pub(k), *pk2 = NULL;
    ccz_paillier_encoded e;
    ccz_paillier_number x, y;
    ccz_paillier_encoded_init(&e);
    ccz_paillier_number_init(&x);
    ccz_paillier_number_init(&y);
    mpz_t n, n2, max, v;
    mpz_inits(n, n2, max, v, NULL);
    ccz_paillier_pub_n(n, pk);
    mpz_mul(n2, n, n);
    ccz_paillier_max_int(max, pk);
    /* mantissas: max_int and n - max_int decode to +-max_int; n and -1 are not mantissas */
    CHECK_OK(ccz_paillier_encode_mpz(&e, pk, max));
    CHECK_OK(ccz_paillier_decode_mpz(v, pk, &e));
    CHECK(mpz_cmp(v, max) == 0);
    mpz_neg(v, max);
    CHECK_OK(ccz_paillier_encode_mpz(&e, pk, v));
    mpz_sub(v, n, max);
    CHECK(mpz_cmp(e.mantissa, v) == 0);
    CHECK_OK(ccz_paillier_decode_mpz(v, pk, &e));
    CHECK(mpz_cmpabs(v, max) == 0 && mpz_sgn(v) < 0);
    /* and -max_int is a scalar: Enc(-1) * -max_int = Enc(max_int) */
    CHECK_OK(ccz_paillier_encode_int(&e, pk, -1));
    CHECK_OK(ccz_paillier_encrypt_encoded(&x, pk, &e));
    mpz_neg(v, max);
    CHECK_OK(ccz_paillier_encode_mpz(&e, pk, v));
    CHECK_OK(ccz_paillier_number_mul_encoded(&y, pk, &x, &e));
    CHECK_OK(ccz_paillier_decrypt_encoded(&e, k, &y));
    CHECK_OK(ccz_paillier_decode_mpz(v, pk, &e));
    CHECK(mpz_cmp(v, max) == 0);
    mpz_set(e.mantissa, n);
    e.exponent = 0;
    CHECK_STATUS(ccz_paillier_decode_mpz(v, pk, &e), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "the mantissa is not in [0, n)");
    mpz_set_si(e.mantissa, -1);
    CHECK_STATUS(ccz_paillier_decode_mpz(v, pk, &e), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "the mantissa is not in [0, n)");
    /* exponents: lowered only, at most 4096 apart; a ciphertext aligned past n overflows */
    CHECK_OK(ccz_paillier_encode_int(&e, pk, 3));
    CHECK_STATUS(ccz_paillier_encoded_lower(&e, pk, 1), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "the exponent can only be lowered (0 to 1)");
    CHECK_STATUS(ccz_paillier_encoded_lower(&e, pk, -4097), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "exponents too far apart");
    CHECK_OK(ccz_paillier_encoded_lower(&e, pk, -2));
    CHECK(mpz_cmp_ui(e.mantissa, 3 * 256) == 0);
    CHECK_OK(ccz_paillier_encode_int(&e, pk, 3));
    CHECK_OK(ccz_paillier_encrypt_encoded(&x, pk, &e));
    mpz_set(y.c, x.c);
    y.exponent = -4097;
    CHECK_STATUS(ccz_paillier_number_add(&y, pk, &x, &y), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "exponents too far apart");
    y.exponent = -300; /* 16^300 = 2^1200 > n */
    CHECK_STATUS(ccz_paillier_number_add(&y, pk, &x, &y), CCZ_ERR_OVERFLOW);
    CHECK_STR(ccz_error_detail(), "aligning exponents 0 and -300 overflows");
    /* reals: a negative precision; a value past a double */
    CHECK_STATUS(ccz_paillier_encode_double(&e, pk, 1.0, -1.0), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "the precision must be positive");
    mpz_set_ui(e.mantissa, 1);
    e.exponent = 300; /* 2^1200 */
    double d = 0;
    CHECK_STATUS(ccz_paillier_decode_double(&d, pk, &e), CCZ_ERR_OVERFLOW);
    CHECK_STR(ccz_error_detail(), "the value does not fit a double");
    e.exponent = 200; /* 2^800 fits */
    CHECK_OK(ccz_paillier_decode_double(&d, pk, &e));
    CHECK(d == ldexp(1, 800));

    /* JSON keys */
    char *doc = malloc(80000);
    /* a 2501-digit n (the bound is 2500), and digits with a space among them */
    int o = snprintf(doc, 80000, "{\"n\": \"");
    memset(doc + o, '7', 2501);
    snprintf(doc + o + 2501, 100, "\"}");
    CHECK_STATUS(ccz_paillier_load_json(&pk2, &k2, doc, strlen(doc)), CCZ_ERR_JSON);
    CHECK_CONTAINS(ccz_error_detail(), "Paillier key: \"n\" is not a non-negative decimal integer");
    gmp_snprintf(doc, 80000, "{\"n\": \"%Zd 1\"}", n);
    CHECK_STATUS(ccz_paillier_load_json(&pk2, &k2, doc, strlen(doc)), CCZ_ERR_JSON);
    CHECK_CONTAINS(ccz_error_detail(), "Paillier key: \"n\" is not a non-negative decimal integer");
    /* a key document is at most 64 KiB (a valid key padded past it) */
    o = gmp_snprintf(doc, 80000, "{\"n\": \"%Zd\"", n);
    memset(doc + o, ' ', (64u << 10) - (size_t)o);
    snprintf(doc + (64u << 10), 100, "}");
    CHECK_STATUS(ccz_paillier_load_json(&pk2, &k2, doc, strlen(doc)), CCZ_ERR_TOO_LARGE);
    CHECK_CONTAINS(ccz_error_detail(), "the JSON document exceeds 65536 bytes");
    /* JWK private keys: lambda that is (p-1)(q-1) + n (so mu still inverts it modulo n); no
     * secret at all; p without q; lambda without mu; a public part of another type */
    ccz_buf j;
    ccz_buf_init(&j, 0, true);
    CHECK_OK(ccz_paillier_key_write_json(&j, k, CCZ_PAILLIER_JSON_JWK));
    json_t *jo = json_loadb((const char *)j.ptr, j.len, 0, NULL);
    CHECK(jo != NULL);
    mpz_t lam, pm1;
    mpz_init_set_str(lam, P512, 10);
    mpz_init_set_str(pm1, Q512, 10);
    mpz_sub_ui(lam, lam, 1);
    mpz_sub_ui(pm1, pm1, 1);
    mpz_mul(lam, lam, pm1);
    mpz_add(lam, lam, n);
    char *b = b64url(lam);
    json_t *wrong = json_deep_copy(jo);
    json_object_set_new(wrong, "lambda", json_string(b));
    free(b);
    char *t = json_dumps(wrong, 0);
    CHECK_STATUS(ccz_paillier_load_json(&pk2, &k2, t, strlen(t)), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "Paillier JWK: \"lambda\" and \"mu\" do not belong to this key");
    free(t);
    json_decref(wrong);
    static const char *const drop[][2] = {{"p", "q"}, {"lambda", "mu"}};
    for (int i = 0; i < 4; i++) {
        wrong = json_deep_copy(jo);
        if (i == 0) { /* nothing secret */
            json_object_del(wrong, "p"), json_object_del(wrong, "q");
            json_object_del(wrong, "lambda"), json_object_del(wrong, "mu");
        } else if (i < 3) { /* one of a pair */
            json_object_del(wrong, drop[i - 1][1]);
        } else {
            json_object_set_new(json_object_get(wrong, "pub"), "kty", json_string("RSA"));
        }
        t = json_dumps(wrong, 0);
        CHECK_STATUS(ccz_paillier_load_json(&pk2, &k2, t, strlen(t)), CCZ_ERR_JSON);
        CHECK_CONTAINS(ccz_error_detail(), i < 3
                                               ? "a private key has \"p\" and \"q\", or \"lambda\""
                                               : "Paillier JWK: \"kty\" is not \"DAJ\"");
        free(t);
        json_decref(wrong);
    }
    static const char pub_not_object[] = "{\"kty\": \"DAJ\", \"pub\": \"x\", \"p\": \"AQ\"}";
    CHECK_STATUS(ccz_paillier_load_json(&pk2, &k2, pub_not_object, strlen(pub_not_object)),
                 CCZ_ERR_JSON);
    CHECK_STR(ccz_error_detail(), "Paillier JWK: \"pub\" is not an object");
    json_decref(jo);
    ccz_buf_free(&j);
    mpz_clears(lam, pm1, NULL);

    /* encrypted numbers: a 19-digit JSON number; a 5001-digit ciphertext; 100001 values */
    static const char nineteen[] = "[9999999999999999999, 2]";
    CHECK_OK(ccz_paillier_number_from_json(&x, pk, nineteen, strlen(nineteen)));
    CHECK(mpz_cmp_ui(x.c, 0) > 0 && x.exponent == 2);
    mpz_set_str(v, "9999999999999999999", 10);
    CHECK(mpz_cmp(x.c, v) == 0);
    o = snprintf(doc, 80000, "{\"ciphertext\": \"");
    memset(doc + o, '1', 5001);
    snprintf(doc + o + 5001, 100, "\", \"exponent\": 0}");
    CHECK_STATUS(ccz_paillier_number_from_json(&x, pk, doc, strlen(doc)), CCZ_ERR_JSON);
    CHECK_CONTAINS(ccz_error_detail(), "at most 5000 digits");
    free(doc);
    size_t many = 100001, len = 0;
    char *vals = malloc(many * 6 + 32);
    len += (size_t)sprintf(vals, "{\"values\": [");
    for (size_t i = 0; i < many; i++)
        len += (size_t)sprintf(vals + len, "%s[1,0]", i ? "," : "");
    len += (size_t)sprintf(vals + len, "]}");
    ccz_paillier_number *xs = NULL;
    size_t count = 0;
    CHECK_STATUS(ccz_paillier_numbers_from_json(&xs, &count, pk, vals, len), CCZ_ERR_JSON);
    CHECK_CONTAINS(ccz_error_detail(), "\"values\" is not an array of 1 to 100000");
    CHECK(xs == NULL && count == 0);
    vals[len - 8] = ']', vals[len - 7] = '}'; /* 100000 values load */
    CHECK_OK(ccz_paillier_numbers_from_json(&xs, &count, pk, vals, len - 6));
    CHECK(count == 100000);
    ccz_paillier_numbers_free(xs, count);
    free(vals);
    mpz_clears(n, n2, max, v, NULL);
    ccz_paillier_encoded_clear(&e);
    ccz_paillier_number_clear(&x);
    ccz_paillier_number_clear(&y);
    ccz_paillier_key_free(k);
}

/* ---- python-paillier's own files (tests/paillier/fixtures/python-paillier, see its README) --*/

static char *fixture(const char *name, size_t *len)
{
    const char *dir = getenv("CCZ_SOURCE_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/paillier/fixtures/python-paillier/%s", dir ? dir : ".",
             name);
    ccz_buf b = CCZ_BUF_INIT;
    if (ccz_file_read(&b, path, 1 << 20) != CCZ_OK || ccz_buf_append_u8(&b, 0) != CCZ_OK) {
        fprintf(stderr, "  cannot read %s (CCZ_SOURCE_DIR set?)\n", path);
        ccz_buf_free(&b);
        return NULL;
    }
    *len = b.len - 1;
    return (char *)b.ptr;
}

static void test_python_paillier(void)
{
    size_t len;
    char *cases = fixture("cases.json", &len);
    CHECK(cases != NULL);
    if (!cases)
        return;
    json_error_t jerr;
    json_t *doc = json_loads(cases, 0, &jerr);
    CHECK(doc != NULL);
    free(cases);
    /* keys: pheutil's private JWK (p, q), its legacy one (lambda, mu), the public JWKs and the
     * basic serialisation (n and g as JSON numbers) */
    ccz_paillier_pub *pk = NULL, *pub = NULL;
    ccz_paillier_key *k = NULL;
    char *text = fixture("pheutil-priv.jwk", &len);
    CHECK(text != NULL);
    CHECK_OK(ccz_paillier_load_json(&pk, &k, text, len));
    free(text);
    CHECK(k != NULL);
    CHECK_INT(ccz_paillier_bits(pk), 1024);
    mpz_t n, n2, m, c, out;
    mpz_inits(n, n2, m, c, out, NULL);
    static const char *const same_n[] = {"pheutil-pub.jwk", "phe-basic.json"};
    for (int i = 0; i < 2; i++) {
        text = fixture(same_n[i], &len);
        CHECK(text != NULL);
        ccz_paillier_key *none = NULL;
        CHECK_OK(ccz_paillier_load_json(&pub, &none, text, len));
        CHECK(none == NULL);
        free(text);
        ccz_paillier_pub_n(n, pub);
        ccz_paillier_pub_n(m, pk);
        CHECK(mpz_cmp(n, m) == 0);
        ccz_paillier_pub_free(pub);
    }
    ccz_paillier_key *legacy = NULL;
    text = fixture("pheutil-legacy-priv.jwk", &len);
    CHECK(text != NULL);
    CHECK_OK(ccz_paillier_load_json(&pub, &legacy, text, len));
    free(text);
    CHECK(legacy != NULL);
    ccz_paillier_key_free(legacy);
    mpz_mul(n2, n, n);

    /* raw plaintexts across [0, n), encrypted by python-paillier's raw_encrypt: one by one,
     * in a batch, and back through ccz's encryption (public and CRT) */
    json_t *raw = json_object_get(json_object_get(doc, "raw"), "values");
    size_t count = json_array_size(raw);
    CHECK(count >= 20);
    mpz_t *cs = calloc(count, sizeof *cs), *ms = calloc(count, sizeof *ms);
    int ok = 0;
    for (size_t i = 0; i < count; i++) {
        json_t *v = json_array_get(raw, i);
        mpz_inits(cs[i], ms[i], NULL);
        mpz_set_str(m, json_string_value(json_object_get(v, "plaintext")), 10);
        mpz_set_str(cs[i], json_string_value(json_object_get(v, "ciphertext")), 10);
        ok += ccz_paillier_decrypt(out, k, cs[i]) == CCZ_OK && mpz_cmp(out, m) == 0;
        ok += ccz_paillier_encrypt(c, pk, m) == CCZ_OK &&
              ccz_paillier_decrypt(out, k, c) == CCZ_OK && mpz_cmp(out, m) == 0;
        ok += ccz_paillier_encrypt_priv(c, k, m) == CCZ_OK &&
              ccz_paillier_decrypt(out, k, c) == CCZ_OK && mpz_cmp(out, m) == 0;
    }
    CHECK_INT(ok, (int)(3 * count));
    CHECK_OK(ccz_paillier_decrypt_batch(ms, k, (const mpz_t *)cs, count, 2));
    ok = 0;
    for (size_t i = 0; i < count; i++) {
        mpz_set_str(m, json_string_value(json_object_get(json_array_get(raw, i), "plaintext")), 10);
        ok += mpz_cmp(ms[i], m) == 0;
        mpz_clears(cs[i], ms[i], NULL);
    }
    CHECK_INT(ok, (int)count);
    free(cs);
    free(ms);

    /* encrypted numbers as the library serialised them: the raw encoding and its exponent */
    json_t *all = json_object_get(doc, "cases");
    int checked = 0;
    ok = 0;
    for (size_t i = 0; i < json_array_size(all); i++) {
        json_t *cse = json_array_get(all, i);
        if (!json_object_get(cse, "encoding"))
            continue;
        char *ct = json_dumps(json_object_get(cse, "ciphertext"), 0);
        ccz_paillier_number x;
        ccz_paillier_encoded e;
        ccz_paillier_number_init(&x);
        ccz_paillier_encoded_init(&e);
        mpz_set_str(m, json_string_value(json_object_get(cse, "encoding")), 10);
        ok += ccz_paillier_number_from_json(&x, pk, ct, strlen(ct)) == CCZ_OK &&
              ccz_paillier_decrypt_encoded(&e, k, &x) == CCZ_OK && mpz_cmp(e.mantissa, m) == 0 &&
              e.exponent == (int)json_integer_value(json_object_get(cse, "exponent"));
        checked++;
        free(ct);
        ccz_paillier_number_clear(&x);
        ccz_paillier_encoded_clear(&e);
    }
    CHECK(checked >= 30);
    CHECK_INT(ok, checked);

    /* EncodedNumber.encode: ccz encodes each value to the same mantissa and exponent */
    json_t *enc = json_object_get(json_object_get(doc, "encodings"), "values");
    ok = 0;
    for (size_t i = 0; i < json_array_size(enc); i++) {
        json_t *v = json_array_get(enc, i);
        const char *value = json_string_value(json_object_get(v, "value"));
        bool is_float = !strcmp(json_string_value(json_object_get(v, "type")), "float");
        json_t *prec = json_object_get(v, "precision");
        ccz_paillier_encoded e;
        ccz_paillier_encoded_init(&e);
        ccz_status s;
        if (is_float) {
            s = ccz_paillier_encode_double(&e, pk, strtod(value, NULL),
                                           json_is_number(prec) ? json_number_value(prec) : 0);
        } else {
            mpz_set_str(m, value, 10);
            s = ccz_paillier_encode_mpz(&e, pk, m);
        }
        mpz_set_str(m, json_string_value(json_object_get(v, "encoding")), 10);
        bool same = s == CCZ_OK && mpz_cmp(e.mantissa, m) == 0 &&
                    e.exponent == (int)json_integer_value(json_object_get(v, "exponent"));
        if (!same)
            fprintf(stderr, "  encoding of %s differs from python-paillier's\n", value);
        ok += same;
        ccz_paillier_encoded_clear(&e);
    }
    CHECK(json_array_size(enc) >= 15);
    CHECK_INT(ok, (int)json_array_size(enc));
    mpz_clears(n, n2, m, c, out, NULL);
    ccz_paillier_key_free(k);
    json_decref(doc);
}

/* o as JSON refused by ccz_paillier_load_json with want, the detail holding `detail` (NULL: not
 * looked at). */
static void load_refused(json_t *o, ccz_status want, const char *detail)
{
    ccz_paillier_pub *pk = NULL;
    ccz_paillier_key *k = NULL;
    char *t = json_dumps(o, 0);
    CHECK_STATUS(ccz_paillier_load_json(&pk, &k, t, strlen(t)), want);
    if (detail)
        CHECK_CONTAINS(ccz_error_detail(), detail);
    free(t);
}

/* The JSON forms: integers of any size as numbers, JWK written and read back, lambda and mu
 * alone, and documents that disagree with themselves. */
static void test_json_forms(void)
{
    ccz_paillier_key *k = fixed_key();
    ccz_paillier_pub *pk = ccz_paillier_key_pub(k), *pk2;
    ccz_paillier_key *k2;
    mpz_t m, c, out;
    mpz_inits(m, c, out, NULL);
    mpz_set_ui(m, 4242);
    CHECK_OK(ccz_paillier_encrypt(c, pk, m));
    for (int f = 0; f < 3; f++) {
        ccz_buf j;
        ccz_buf_init(&j, 0, true);
        CHECK_OK(ccz_paillier_key_write_json(&j, k, (ccz_paillier_json_format)f));
        CHECK_OK(ccz_paillier_load_json(&pk2, &k2, (const char *)j.ptr, j.len));
        CHECK(k2 != NULL);
        CHECK_OK(ccz_paillier_decrypt(out, k2, c));
        CHECK(mpz_cmp(out, m) == 0);
        ccz_paillier_key_free(k2);
        ccz_buf_reset(&j);
        CHECK_OK(ccz_paillier_pub_write_json(&j, pk, (ccz_paillier_json_format)f));
        CHECK_OK(ccz_paillier_load_json(&pk2, &k2, (const char *)j.ptr, j.len));
        CHECK(k2 == NULL);
        ccz_paillier_pub_free(pk2);
        ccz_buf_free(&j);
    }
    /* python-paillier's form with n as a number of leading zeros: not JSON, refused as such */
    ccz_buf phe;
    ccz_buf_init(&phe, 0, true);
    CHECK_OK(ccz_paillier_pub_write_json(&phe, pk, CCZ_PAILLIER_JSON_PHE));
    const char *at = strstr((const char *)phe.ptr, "\"n\": ");
    CHECK(at != NULL);
    if (at) {
        size_t off = (size_t)(at - (const char *)phe.ptr) + 5;
        ccz_buf z;
        ccz_buf_init(&z, 0, true);
        CHECK_OK(ccz_buf_append(&z, phe.ptr, off));
        CHECK_OK(ccz_buf_append_str(&z, "00"));
        CHECK_OK(ccz_buf_append(&z, phe.ptr + off, phe.len - off));
        CHECK_STATUS(ccz_paillier_load_json(&pk2, &k2, (const char *)z.ptr, z.len), CCZ_ERR_JSON);
        CHECK_CONTAINS(ccz_error_detail(), "invalid token");
        /* the same document without the zeros loads */
        CHECK_OK(ccz_paillier_load_json(&pk2, &k2, (const char *)phe.ptr, phe.len));
        ccz_paillier_pub_free(pk2);
        ccz_buf_free(&z);
    }
    ccz_buf_free(&phe);
    /* JWK with lambda and mu only (pheutil before it stored p and q), and with a wrong mu */
    ccz_buf j;
    ccz_buf_init(&j, 0, true);
    CHECK_OK(ccz_paillier_key_write_json(&j, k, CCZ_PAILLIER_JSON_JWK));
    json_t *o = json_loadb((const char *)j.ptr, j.len, 0, NULL);
    CHECK(o != NULL);
    /* base64url with its padding, as other JWK writers leave it: the same key */
    json_t *padded = json_deep_copy(o);
    json_t *in[] = {json_object_get(padded, "pub"), padded, padded};
    const char *names[] = {"n", "p", "q"};
    int pads = 0;
    for (int i = 0; i < 3; i++) {
        const char *v = json_string_value(json_object_get(in[i], names[i]));
        size_t vl = v ? strlen(v) : 0;
        if (!vl || vl % 4 < 2)
            continue;
        char pv[1500];
        snprintf(pv, sizeof pv, "%s%s", v, vl % 4 == 2 ? "==" : "=");
        json_object_set_new(in[i], names[i], json_string(pv));
        pads++;
    }
    CHECK(pads > 0);
    char *pt = json_dumps(padded, 0);
    CHECK_OK(ccz_paillier_load_json(&pk2, &k2, pt, strlen(pt)));
    CHECK(k2 != NULL);
    if (k2) {
        CHECK_OK(ccz_paillier_decrypt(out, k2, c));
        CHECK(mpz_cmp(out, m) == 0);
        ccz_paillier_key_free(k2);
    }
    free(pt);
    json_decref(padded);
    json_object_del(o, "p");
    json_object_del(o, "q");
    char *t = json_dumps(o, 0);
    CHECK_OK(ccz_paillier_load_json(&pk2, &k2, t, strlen(t)));
    CHECK(k2 != NULL);
    CHECK_OK(ccz_paillier_decrypt(out, k2, c));
    CHECK(mpz_cmp(out, m) == 0);
    ccz_paillier_key_free(k2);
    free(t);
    json_object_set_new(o, "mu", json_string("AQAB"));
    load_refused(o, CCZ_ERR_INVALID_ARGUMENT, "do not belong to this key");
    json_object_set_new(o, "lambda", json_string("AQAB"));
    load_refused(o, CCZ_ERR_INVALID_ARGUMENT, "is not (p-1)(q-1)");
    /* a lambda far above n (1300 characters): (p + q)^2 - 4n would not fit the root's fixed
     * width (twice n's); 1400 base64url characters are still an integer (the bound is
     * inclusive): refused as a lambda, not as base64 */
    static const size_t lens[] = {1300, 1400};
    for (size_t i = 0; i < CCZ_ARRAY_LEN(lens); i++) {
        char wide[1401];
        memset(wide, '_', lens[i]);
        wide[lens[i]] = 0;
        json_object_set_new(o, "lambda", json_string(wide));
        load_refused(o, CCZ_ERR_INVALID_ARGUMENT, "is not (p-1)(q-1)");
    }
    json_object_set_new(json_object_get(o, "pub"), "alg", json_string("PAI-GN2"));
    load_refused(o, CCZ_ERR_UNSUPPORTED, NULL);
    /* the private key's own type, beside its public part's */
    json_object_set_new(json_object_get(o, "pub"), "alg", json_string("PAI-GN1"));
    json_object_set_new(o, "kty", json_string("RSA"));
    load_refused(o, CCZ_ERR_JSON, "Paillier JWK: \"kty\" is not \"DAJ\"");
    json_object_set_new(o, "kty", json_string("DAJ"));
    json_object_set_new(json_object_get(o, "pub"), "n", json_string("ab+c"));
    json_object_set_new(json_object_get(o, "pub"), "alg", json_string("PAI-GN1"));
    load_refused(o, CCZ_ERR_ENCODING, NULL);
    json_decref(o);
    ccz_buf_free(&j);
    /* big numbers beside strings full of digits, escapes and an exponent written as a number */
    mpz_t n;
    mpz_init(n);
    ccz_paillier_pub_n(n, pk);
    char doc[2000];
    gmp_snprintf(doc, sizeof doc,
                 "{\"kid\": \"12345678901234567890123 \\\" 99999999999999999999\", \"n\": %Zd, "
                 "\"g\": %Zd}",
                 n, n);
    CHECK_STATUS(ccz_paillier_load_json(&pk2, &k2, doc, strlen(doc)), CCZ_ERR_UNSUPPORTED);
    CHECK_CONTAINS(ccz_error_detail(), "g is not n + 1");
    mpz_add_ui(out, n, 1);
    gmp_snprintf(doc, sizeof doc,
                 "{\"kid\": \"12345678901234567890123 \\\" 99999999999999999999\", \"n\": %Zd, "
                 "\"g\": %Zd}",
                 n, out);
    CHECK_OK(ccz_paillier_load_json(&pk2, &k2, doc, strlen(doc)));
    ccz_paillier_pub_free(pk2);
    /* a long token that is not a JSON number (two decimal points) is refused, not read as a
     * string: only long integers are quoted for jansson */
    gmp_snprintf(doc, sizeof doc, "{\"kid\": 1234567890.1234567890.5, \"n\": %Zd, \"g\": %Zd}", n,
                 out);
    CHECK_STATUS(ccz_paillier_load_json(&pk2, &k2, doc, strlen(doc)), CCZ_ERR_JSON);
    /* encrypted numbers in every form, and python-paillier's document of several */
    ccz_paillier_number x, y;
    ccz_paillier_number_init(&x);
    ccz_paillier_number_init(&y);
    mpz_set(x.c, c);
    x.exponent = -3;
    for (int f = 0; f < 3; f++) {
        ccz_buf b = CCZ_BUF_INIT;
        CHECK_OK(ccz_paillier_number_write_json(&b, &x, (ccz_paillier_json_format)f));
        CHECK_OK(ccz_paillier_number_from_json(&y, pk, (const char *)b.ptr, b.len));
        CHECK(mpz_cmp(x.c, y.c) == 0 && y.exponent == -3);
        ccz_buf_free(&b);
    }
    gmp_snprintf(doc, sizeof doc,
                 "{\"public_key\": {\"n\": %Zd}, \"values\": [[\"%Zd\", 0], [%Zd, -2]]}", n, c, c);
    ccz_paillier_number *xs;
    size_t count;
    CHECK_OK(ccz_paillier_numbers_from_json(&xs, &count, pk, doc, strlen(doc)));
    CHECK(count == 2 && mpz_cmp(xs[1].c, c) == 0 && xs[1].exponent == -2);
    ccz_paillier_numbers_free(xs, count);
    gmp_snprintf(doc, sizeof doc, "{\"public_key\": {\"n\": %Zd}, \"values\": [[\"%Zd\", 0]]}", out,
                 c);
    CHECK_STATUS(ccz_paillier_numbers_from_json(&xs, &count, pk, doc, strlen(doc)),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "another public key");
    /* a ciphertext of 0 as a JSON number is a number, out of range (as the string "0" is) */
    CHECK_STATUS(ccz_paillier_number_from_json(&y, pk, "[0, 0]", 6), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "the ciphertext is not in [1, n^2)");
    /* no values, and a document past its bound */
    CHECK_STATUS(ccz_paillier_numbers_from_json(&xs, &count, pk, "{\"values\": []}", 14),
                 CCZ_ERR_JSON);
    CHECK_CONTAINS(ccz_error_detail(), "\"values\" is not an array of 1 to 100000");
    size_t huge = (4u << 20) + 1; /* a document of numbers is at most 4 MiB */
    char *big = malloc(huge + 2);
    memset(big, ' ', huge + 1);
    big[0] = '{', big[huge] = '}', big[huge + 1] = 0;
    CHECK_STATUS(ccz_paillier_numbers_from_json(&xs, &count, pk, big, huge + 1), CCZ_ERR_TOO_LARGE);
    CHECK_CONTAINS(ccz_error_detail(), "the JSON document exceeds");
    free(big);
    ccz_paillier_number_clear(&x);
    ccz_paillier_number_clear(&y);
    /* JWK integers are written unpadded (RFC 7518); python-paillier's form has no DJN base
     * (its readers know none), ccz's has */
    ccz_buf w;
    ccz_buf_init(&w, 0, true);
    CHECK_OK(ccz_paillier_key_write_json(&w, k, CCZ_PAILLIER_JSON_JWK));
    CHECK(w.len > 0 && memchr(w.ptr, '=', w.len) == NULL);
    CHECK_OK(ccz_paillier_pub_set_djn(pk, NULL));
    for (int f = 0; f < 3; f += 2) {
        ccz_buf_reset(&w);
        CHECK_OK(ccz_paillier_key_write_json(&w, k, (ccz_paillier_json_format)f));
        CHECK_OK(ccz_buf_append_u8(&w, 0));
        CHECK((strstr((const char *)w.ptr, "\"hs\"") != NULL) == (f == CCZ_PAILLIER_JSON_CCZ));
    }
    ccz_buf_free(&w);
    mpz_clears(m, c, out, n, NULL);
    ccz_paillier_key_free(k);
}

/* A private key document that does not parse (cut short, or a stray byte in p) is refused
 * without quoting the text the parser stopped at: jansson quotes up to 20 bytes of that token,
 * here the first digits of p. */
static void test_json_error_quotes_no_key(void)
{
    ccz_paillier_key *k = fixed_key();
    for (int f = 0; f < 3; f++) {
        ccz_buf j;
        ccz_buf_init(&j, 0, true);
        CHECK_OK(ccz_paillier_key_write_json(&j, k, (ccz_paillier_json_format)f));
        const char *p = strstr((const char *)j.ptr, "\"p\"");
        CHECK(p != NULL);
        if (!p) {
            ccz_buf_free(&j);
            continue;
        }
        p += 3;
        p += strspn(p, ": \"");
        char digits[13];
        memcpy(digits, p, 12); /* the first 12 characters of p (decimal or base64url) */
        digits[12] = 0;
        size_t at = (size_t)(p - (const char *)j.ptr) + 12;
        ccz_paillier_pub *pk2 = NULL;
        ccz_paillier_key *k2 = NULL;
        /* cut short after 12 characters of p */
        CHECK_STATUS(ccz_paillier_load_json(&pk2, &k2, (const char *)j.ptr, at), CCZ_ERR_JSON);
        CHECK(strstr(ccz_error_detail(), digits) == NULL);
        /* a newline after 12 characters of p */
        j.ptr[at] = '\n';
        CHECK_STATUS(ccz_paillier_load_json(&pk2, &k2, (const char *)j.ptr, j.len), CCZ_ERR_JSON);
        CHECK(strstr(ccz_error_detail(), digits) == NULL);
        if (strstr(ccz_error_detail(), digits))
            fprintf(stderr, "  the error quotes p: %s\n", ccz_error_detail());
        ccz_wipe(digits, sizeof digits);
        ccz_buf_free(&j);
    }
    ccz_paillier_key_free(k);
}

/* Edge ciphertexts (1, 2, n - 1, n + 1, n^2 - 2, n^2 - 1: units all) decrypt to what the
 * textbook formula gives, one by one and in a batch: the IFMA engine's pairs where the CPU has
 * IFMA, GMP otherwise (this test runs again with CCZ_CPU=portable). Reals: +-inf and NaN are
 * refused by name. */
static void test_edge_ciphertexts(void)
{
    ccz_paillier_key *k = fixed_key();
    ccz_paillier_pub *pk = ccz_paillier_key_pub(k);
    enum { N = 7 };
    mpz_t n, n2, p, q, want, cs[N], ms[N];
    mpz_inits(n, n2, want, NULL);
    mpz_init_set_str(p, P512, 10);
    mpz_init_set_str(q, Q512, 10);
    ccz_paillier_pub_n(n, pk);
    mpz_mul(n2, n, n);
    for (int i = 0; i < N; i++)
        mpz_inits(cs[i], ms[i], NULL);
    mpz_set_ui(cs[0], 1);
    mpz_set_ui(cs[1], 2);
    mpz_sub_ui(cs[2], n, 1);
    mpz_add_ui(cs[3], n, 1);
    mpz_sub_ui(cs[4], n2, 2);
    mpz_sub_ui(cs[5], n2, 1);
    mpz_urandomm(cs[6], rnd, n2);
    int right = 0;
    for (int i = 0; i < N; i++) {
        textbook_decrypt(want, cs[i], p, q);
        CHECK_OK(ccz_paillier_decrypt(ms[i], k, cs[i]));
        right += mpz_cmp(ms[i], want) == 0;
        mpz_set_ui(ms[i], 0);
    }
    CHECK_INT(right, N);
    CHECK_OK(ccz_paillier_decrypt_batch(ms, k, (const mpz_t *)cs, N, 1));
    right = 0;
    for (int i = 0; i < N; i++) {
        textbook_decrypt(want, cs[i], p, q);
        right += mpz_cmp(ms[i], want) == 0;
    }
    CHECK_INT(right, N);
    CHECK(mpz_sgn(ms[0]) == 0 && mpz_cmp_ui(ms[3], 1) == 0 && mpz_sgn(ms[5]) == 0);
    /* reals that are not numbers */
    ccz_paillier_encoded e;
    ccz_paillier_encoded_init(&e);
    CHECK_STATUS(ccz_paillier_encode_double(&e, pk, INFINITY, 0), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "cannot encode inf");
    CHECK_STATUS(ccz_paillier_encode_double(&e, pk, -INFINITY, 1e-3), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "cannot encode -inf");
    ccz_paillier_encoded_clear(&e);
    for (int i = 0; i < N; i++)
        mpz_clears(cs[i], ms[i], NULL);
    mpz_clears(n, n2, p, q, want, NULL);
    ccz_paillier_key_free(k);
}

/* Each operation checks its own operands (add_plain its ciphertext and its plaintext, rerandomize
 * its ciphertext), a modulus is positive, a public key's "hs" is read up to 5000 digits (an
 * 8192-bit key's), and one encrypted number is a document of at most 64 KiB. */
static void test_operand_checks(void)
{
    ccz_paillier_key *k = fixed_key(), *k2 = NULL;
    ccz_paillier_pub *pk = ccz_paillier_key_pub(k), *pk2 = NULL;
    mpz_t n, n2, c, m, bad, out;
    mpz_inits(n, n2, c, m, bad, out, NULL);
    ccz_paillier_pub_n(n, pk);
    mpz_mul(n2, n, n);
    mpz_set_ui(m, 5);
    CHECK_OK(ccz_paillier_encrypt(c, pk, m));
    for (int top = 0; top <= 1; top++) { /* 0 and n^2 */
        mpz_set_ui(bad, 0);
        if (top)
            mpz_set(bad, n2);
        CHECK_STATUS(ccz_paillier_add_plain(out, pk, bad, m), CCZ_ERR_INVALID_ARGUMENT);
        CHECK_STR(ccz_error_detail(), "the ciphertext is not in [1, n^2): not from this key");
        CHECK_STATUS(ccz_paillier_rerandomize(out, pk, bad), CCZ_ERR_INVALID_ARGUMENT);
        CHECK_STR(ccz_error_detail(), "the ciphertext is not in [1, n^2): not from this key");
    }
    for (int neg = 0; neg <= 1; neg++) { /* n and -1 */
        if (neg)
            mpz_set_si(bad, -1);
        else
            mpz_set(bad, n);
        CHECK_STATUS(ccz_paillier_add_plain(out, pk, c, bad), CCZ_ERR_INVALID_ARGUMENT);
        CHECK_STR(ccz_error_detail(),
                  "the plaintext is not in [0, n) (encode signed values first)");
    }
    mpz_neg(bad, n);
    CHECK_STATUS(ccz_paillier_pub_new(&pk2, bad), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "a Paillier modulus is odd and of 512 to 8192 bits");
    CHECK(pk2 == NULL);

    /* "hs" of a public key (made afresh, not used): 5000 digits load, 5001 do not */
    size_t cap = 12000;
    char *doc = malloc(cap);
    mpz_ui_pow_ui(bad, 2, 8191);
    mpz_add_ui(bad, bad, 1); /* odd, 8192 bits, a multiple of 3 */
    for (size_t digits = 5000; digits <= 5001; digits++) {
        int o = gmp_snprintf(doc, cap, "{\"n\": \"%Zd\", \"hs\": \"", bad);
        memset(doc + o, '1', digits);
        snprintf(doc + o + digits, cap - (size_t)o - digits, "\"}");
        if (digits == 5000) {
            CHECK_OK(ccz_paillier_load_json(&pk2, &k2, doc, strlen(doc)));
            CHECK(k2 == NULL && pk2 && ccz_paillier_pub_djn(pk2));
            ccz_paillier_pub_free(pk2);
        } else {
            CHECK_STATUS(ccz_paillier_load_json(&pk2, &k2, doc, strlen(doc)), CCZ_ERR_JSON);
            CHECK_STR(ccz_error_detail(), "Paillier key: \"hs\" is not a non-negative decimal "
                                          "integer (a string or a number of at most 5000 digits)");
        }
    }
    free(doc);

    /* one encrypted number: 65536 bytes load, 65537 do not */
    ccz_paillier_number x;
    ccz_paillier_number_init(&x);
    doc = malloc(65538);
    for (size_t len = 65536; len <= 65537; len++) {
        int o = snprintf(doc, 65538, "{\"ciphertext\": \"5\", \"exponent\": 0");
        memset(doc + o, ' ', len - 1 - (size_t)o);
        doc[len - 1] = '}', doc[len] = 0;
        if (len == 65536) {
            CHECK_OK(ccz_paillier_number_from_json(&x, pk, doc, len));
            CHECK(mpz_cmp_ui(x.c, 5) == 0);
        } else {
            CHECK_STATUS(ccz_paillier_number_from_json(&x, pk, doc, len), CCZ_ERR_TOO_LARGE);
            CHECK_STR(ccz_error_detail(), "the JSON document exceeds 65536 bytes");
        }
    }
    free(doc);
    ccz_paillier_number_clear(&x);
    mpz_clears(n, n2, c, m, bad, out, NULL);
    ccz_paillier_key_free(k);
}

/* ---- secrets in memory GMP frees ------------------------------------------------------------
 * GMP's allocation functions, replaced here: every block GMP frees or moves (an mpz cleared, or
 * grown by realloc) is searched for the limbs of the key's secrets before it goes back to the C
 * library. A value derived from p left there is as good as p: R^2 mod p (the IFMA engine's
 * Montgomery constant, R = 2^(52 D)) gives p as gcd(R^2 - it, n), and lambda = (p-1)(q-1) is
 * phi(n). */
enum { SECRETS_MAX = 900 };
static struct {
    bool armed;
    size_t count, hits;
    size_t bad_sizes;  /* frees whose size is not the block's (a sized allocator is misled) */
    const char *first; /* the name of the first secret found */
    bool units;        /* blocks searched by gs_unit_mod_factor too */
    mpz_t n;           /* the key's modulus, for gs_unit_mod_factor */
    struct {
        mp_limb_t *limbs;
        size_t len;
        const char *name;
    } s[SECRETS_MAX];
} gs;

/* Copies of the blocks freed while recording, searched afterwards for values known only then
 * (the randomizers of a batch's encryptions, from its ciphertexts). */
enum { RECORD_MAX = 4096 };
static struct {
    bool on;
    size_t count;
    void *copy[RECORD_MAX];
    size_t size[RECORD_MAX];
} gr;

static void gr_record(const void *block, size_t size)
{
    if (!gr.on || gr.count >= RECORD_MAX || !size)
        return;
    gr.copy[gr.count] = malloc(size);
    memcpy(gr.copy[gr.count], block, size);
    gr.size[gr.count++] = size;
}

/* How many recorded blocks hold the limbs of x; with drop, the records are dropped after. */
static size_t gr_hits(const mpz_t *x, size_t n, bool drop)
{
    size_t hits = 0;
    for (size_t b = 0; b < gr.count; b++) {
        for (size_t i = 0; i < n; i++) {
            size_t len = mpz_size(x[i]) * sizeof(mp_limb_t);
            hits += len && gr.size[b] >= len &&
                    memmem(gr.copy[b], gr.size[b], mpz_limbs_read(x[i]), len);
        }
        if (drop)
            free(gr.copy[b]);
    }
    if (drop)
        gr.count = 0;
    return hits;
}

/* A number in the block, its lowest limbs first, that is 0 or 1 modulo p or q but not modulo n
 * (the decryption's c^(p-1) mod p^2 before its last reduction, R A of the engine's pairs, a CRT
 * join's multiple of q^2): its gcd with n, or with n after subtracting 1, is p or q. Every length
 * of limbs from the block's start. */
static bool gs_unit_mod_factor(const void *block, size_t size)
{
    size_t limbs = size / sizeof(mp_limb_t);
    bool found = false;
    if (!gs.units || !limbs)
        return false;
    mp_limb_t *x = malloc(limbs * sizeof *x);
    memcpy(x, block, limbs * sizeof *x);
    mpz_t v, g;
    mpz_inits(v, g, NULL);
    for (size_t len = 1; len <= limbs && !found; len++) {
        if (x[len - 1] == 0)
            continue; /* the same number as a shorter length */
        mpz_import(v, len, -1, sizeof *x, 0, 0, x);
        for (int minus = 0; minus < 2 && !found; minus++) {
            mpz_sub_ui(v, v, (unsigned long)minus);
            mpz_gcd(g, v, gs.n);
            found = mpz_cmp_ui(g, 1) > 0 && mpz_cmp(g, gs.n) != 0;
        }
    }
    mpz_clears(v, g, NULL);
    free(x);
    return found;
}

static void gs_scan(const void *block, size_t size)
{
    gr_record(block, size);
    if (!gs.armed)
        return;
    for (size_t i = 0; i < gs.count; i++)
        if (size >= gs.s[i].len && memmem(block, size, gs.s[i].limbs, gs.s[i].len)) {
            if (!gs.hits++)
                gs.first = gs.s[i].name;
        }
    gs.armed = false; /* the search's own numbers are not searched */
    if (gs_unit_mod_factor(block, size) && !gs.hits++)
        gs.first = "a number 0 or 1 modulo p or q";
    gs.armed = true;
}

static void *gs_alloc(size_t n)
{
    void *p = malloc(n);
    if (!p)
        abort();
    return p;
}

static void *gs_realloc(void *old, size_t old_size, size_t new_size)
{
    void *p = gs_alloc(new_size);
    memcpy(p, old, old_size < new_size ? old_size : new_size);
    gs_scan(old, old_size);
    free(old);
    return p;
}

static void gs_free(void *p, size_t size)
{
    /* glibc gives at most 23 bytes more than asked (its chunks are 16-byte multiples, 32 at least) */
    if (gs.armed && malloc_usable_size(p) > size + 23)
        gs.bad_sizes++;
    gs_scan(p, size);
    free(p);
}

static void gs_add(const mpz_t x, const char *name)
{
    if (gs.count >= SECRETS_MAX || mpz_sgn(x) == 0)
        return;
    size_t len = mpz_size(x) * sizeof(mp_limb_t);
    gs.s[gs.count].limbs = malloc(len);
    memcpy(gs.s[gs.count].limbs, mpz_limbs_read(x), len);
    gs.s[gs.count].len = len;
    gs.s[gs.count++].name = name;
}

static void gs_arm(void)
{
    gs.hits = 0;
    gs.bad_sizes = 0;
    gs.first = "";
    gs.armed = true;
}

static size_t gs_disarm(const char *what)
{
    gs.armed = false;
    if (gs.hits)
        fprintf(stderr, "  %s: %zu freed GMP blocks hold a secret (%s)\n", what, gs.hits, gs.first);
    return gs.hits;
}

static void test_freed_gmp_secrets(void)
{
    ccz_paillier_key *k = fixed_key(), *k2 = NULL;
    ccz_paillier_pub *pk = ccz_paillier_key_pub(k), *pk2 = NULL;
    mpz_t p, q, t, u, r, m, c, out;
    mpz_inits(t, u, r, m, c, out, NULL);
    mpz_init_set_str(p, P512, 10);
    mpz_init_set_str(q, Q512, 10);
    /* the secrets: p, q, their derivatives, lambda, and R^2 modulo p, q, p^2, q^2 for every
     * digit count D with R^2 = 2^(104 D) above p (D >= 5) */
    gs.count = 0;
    gs_add(p, "p");
    gs_add(q, "q");
    gs_add(k->pm1, "p - 1");
    gs_add(k->qm1, "q - 1");
    gs_add(k->hp, "h_p");
    gs_add(k->hq, "h_q");
    gs_add(k->qinv, "q^-1 mod p");
    gs_add(k->q2inv, "(q^2)^-1 mod p^2");
    mpz_mul(t, k->pm1, k->qm1);
    gs_add(t, "lambda");
    mpz_add(t, p, q);
    gs_add(t, "p + q");
    mpz_sub(t, q, p);
    gs_add(t, "q - p");
    mpz_sub_ui(t, p, 2);
    gs_add(t, "p - 2");
    mpz_sub_ui(t, q, 2);
    gs_add(t, "q - 2");
    mpz_sub_ui(t, p, 3);
    gs_add(t, "p - 3");
    mpz_sub_ui(t, q, 3);
    gs_add(t, "q - 3");
    gs_add(k->p2, "p^2"); /* the engine's pairs keep the squares of the roots */
    gs_add(k->q2, "q^2");
    mpz_init_set(gs.n, p);
    mpz_mul(gs.n, gs.n, q);
    for (unsigned long d = 5; d <= 200; d++) {
        mpz_set_ui(t, 0);
        mpz_setbit(t, 104 * d);
        const mpz_t *mods[] = {&p, &q, &k->p2, &k->q2};
        for (int i = 0; i < 4; i++) {
            mpz_mod(u, t, *mods[i]);
            gs_add(u, "R^2 modulo p, q, p^2 or q^2");
        }
    }
    mpz_set_ui(m, 4242);
    CHECK_OK(ccz_paillier_encrypt(c, pk, m));
    /* and the decryption's halves: c^(p-1) - 1 mod p^2 is a multiple of p, so it gives p as its
     * gcd with n */
    mpz_powm(t, c, k->pm1, k->p2);
    gs_add(t, "c^(p-1) mod p^2");
    mpz_powm(t, c, k->qm1, k->q2);
    gs_add(t, "c^(q-1) mod q^2");
    ccz_buf jwk, lm;
    ccz_buf_init(&jwk, 0, true);
    ccz_buf_init(&lm, 0, true);
    CHECK_OK(ccz_paillier_key_write_json(&jwk, k, CCZ_PAILLIER_JSON_JWK));
    json_t *o = json_loadb((const char *)jwk.ptr, jwk.len, 0, NULL);
    CHECK(o != NULL);
    json_object_del(o, "p"); /* pheutil's older private key: lambda and mu only */
    json_object_del(o, "q");
    char *lm_text = json_dumps(o, 0);
    json_decref(o);

    mp_set_memory_functions(gs_alloc, gs_realloc, gs_free);
    /* decryption (the IFMA engine's pairs where the CPU has IFMA), one and a batch; from here
     * on every freed block is searched for numbers 0 or 1 modulo p or q too */
    gs.units = true;
    gs_arm();
    CHECK_OK(ccz_paillier_decrypt(out, k, c));
    CHECK_INT(gs_disarm("decryption"), 0);
    CHECK(mpz_cmp(out, m) == 0);
    mpz_t cs[3], ms[3];
    for (int i = 0; i < 3; i++)
        mpz_init_set(cs[i], c), mpz_init(ms[i]);
    gs_arm();
    CHECK_OK(ccz_paillier_decrypt_batch(ms, k, (const mpz_t *)cs, 3, 1));
    CHECK_INT(gs_disarm("batch decryption"), 0);
    CHECK(mpz_cmp(ms[2], m) == 0);
    for (int i = 0; i < 3; i++)
        mpz_clears(cs[i], ms[i], NULL);
    /* a batch's encryptions (one lane group and one more): their randomizers
     * rho = c (1 + m n)^-1 = c (1 - m n) mod n^2, each as good as its plaintext, are not left in
     * what GMP frees */
    mpz_t es[9], pm[9], rho, nn, n2;
    mpz_inits(rho, nn, n2, NULL);
    ccz_paillier_pub_n(nn, pk);
    mpz_mul(n2, nn, nn);
    for (int i = 0; i < 9; i++)
        mpz_init(es[i]), mpz_init_set_ui(pm[i], 1000 + (unsigned long)i);
    gr.on = true;
    CHECK_OK(ccz_paillier_encrypt_batch(es, pk, (const mpz_t *)pm, 9, 1));
    gr.on = false;
    size_t rho_hits = 0;
    for (int i = 0; i < 9; i++) {
        mpz_mul(t, pm[i], nn);
        mpz_ui_sub(t, 1, t); /* 1 - m n */
        mpz_mul(rho, es[i], t);
        mpz_mod(rho, rho, n2);
        rho_hits += gr_hits((const mpz_t *)&rho, 1, i == 8);
    }
    CHECK_INT(rho_hits, 0);
    for (int i = 0; i < 9; i++)
        mpz_clears(es[i], pm[i], NULL);
    mpz_clears(rho, nn, n2, NULL);
    /* key generation: what GMP freed meanwhile holds neither of the new primes nor a number 1
     * modulo one of them */
    ccz_paillier_key *fresh;
    gr.on = true;
    CHECK_OK(ccz_paillier_keygen(&fresh, 1024));
    gr.on = false;
    mpz_t fresh_pq[2], n_fixed;
    mpz_init_set(fresh_pq[0], fresh->p);
    mpz_init_set(fresh_pq[1], fresh->q);
    mpz_init_set(n_fixed, gs.n);
    mpz_mul(gs.n, fresh->p, fresh->q);
    size_t units = 0;
    for (size_t b = 0; b < gr.count; b++)
        units += gs_unit_mod_factor(gr.copy[b], gr.size[b]);
    CHECK_INT(units, 0);
    CHECK_INT(gr_hits((const mpz_t *)fresh_pq, 2, true), 0);
    mpz_set(gs.n, n_fixed);
    mpz_clears(fresh_pq[0], fresh_pq[1], n_fixed, NULL);
    ccz_paillier_key_free(fresh);
    /* encryption by CRT */
    gs_arm();
    CHECK_OK(ccz_paillier_encrypt_priv(out, k, m));
    CHECK_INT(gs_disarm("CRT encryption"), 0);
    /* JWK written and read back, with p and q and with lambda and mu alone, the key's CRT values
     * made afresh (h_p from g^(p-1) mod p^2, 1 modulo p) */
    gs_arm();
    CHECK_OK(ccz_paillier_key_write_json(&lm, k, CCZ_PAILLIER_JSON_JWK));
    CHECK_OK(ccz_paillier_load_json(&pk2, &k2, (const char *)jwk.ptr, jwk.len));
    ccz_paillier_key_free(k2);
    CHECK_INT(gs_disarm("JWK with p and q"), 0);
    gs_arm();
    CHECK_OK(ccz_paillier_load_json(&pk2, &k2, lm_text, strlen(lm_text)));
    CHECK(k2 != NULL);
    ccz_paillier_key_free(k2);
    CHECK_INT(gs_disarm("JWK with lambda and mu"), 0);
    /* ccz's form and python-paillier's: p and q as the decimal strings GMP made, wiped and handed
     * back to GMP with their own size */
    ccz_buf dec;
    ccz_buf_init(&dec, 0, true);
    gs_arm();
    CHECK_OK(ccz_paillier_key_to_json(&dec, k));
    CHECK_OK(ccz_paillier_key_write_json(&dec, k, CCZ_PAILLIER_JSON_PHE));
    CHECK_INT(gs_disarm("ccz's and python-paillier's JSON"), 0);
    CHECK_INT(gs.bad_sizes, 0);
    gs.units = false;
    ccz_buf_free(&dec);
    mp_set_memory_functions(NULL, NULL, NULL);

    for (size_t i = 0; i < gs.count; i++)
        free(gs.s[i].limbs);
    gs.count = 0;
    mpz_clear(gs.n);
    free(lm_text);
    ccz_buf_free(&jwk);
    ccz_buf_free(&lm);
    mpz_clears(p, q, t, u, r, m, c, out, NULL);
    ccz_paillier_key_free(k);
}

/* Random numbers of a given bit length: below 2^bits, whatever the bits past it in the last
 * byte drawn, and reaching the top bit (200 draws: it is clear in all with probability 2^-200). */
static void test_rand_bits(void)
{
    mpz_t x;
    mpz_init(x);
    const unsigned widths[] = {1, 9, 13, 255};
    for (size_t w = 0; w < sizeof widths / sizeof widths[0]; w++) {
        bool top = false, below = true;
        for (int i = 0; i < 200; i++) {
            CHECK_OK(paillier_rand_bits(x, widths[w]));
            below &= mpz_sizeinbase(x, 2) <= widths[w];
            top |= mpz_tstbit(x, widths[w] - 1) != 0;
        }
        CHECK(below);
        CHECK(top);
    }
    mpz_clear(x);
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
    test_large_key_batches();
    test_ifma_unavailable();
    test_json_and_keys();
    test_constant_time();
    test_ciphertext_units();
    test_hostile_hs();
    test_key_checks();
    test_encoding_and_json_checks();
    test_python_paillier();
    test_json_forms();
    test_json_error_quotes_no_key();
    test_edge_ciphertexts();
    test_operand_checks();
    test_freed_gmp_secrets();
    test_rand_bits();
}

TEST_MAIN(T(test_all))
