/* SPDX-License-Identifier: Apache-2.0 */
/* Paillier keys and encrypted numbers as JSON, in the three forms peers write: ccz's ({"n", "p",
 * "q"} as decimal strings), python-paillier's basic serialisation (integers as JSON numbers of
 * any size, encrypted numbers as [ciphertext, exponent]) and pheutil's JWK (kty "DAJ", base64url
 * integers; p and q, or the older lambda and mu, for a private key; {"v", "e"} numbers). All of
 * it is untrusted: sizes are bounded, a private key must agree with itself, and a DJN base is
 * verified against p and q or made afresh. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "core/guard.h"
#include "internal.h"

#define MAX_DIGITS 2500    /* decimal digits of an integer of a key (8192 bits: 2467) */
#define MAX_CT_DIGITS 5000 /* of a ciphertext (below n^2) */
#define MAX_B64 1400       /* base64url characters of a key integer */
#define MAX_DOC (4u << 20) /* a document of encrypted numbers */

/* ---- reading ---------------------------------------------------------------------------------*/

/* Copies JSON text, putting quotes around integer literals too long for jansson (more than 18
 * digits), so python-paillier's {"n": 1234...} parses; strings and other tokens are copied
 * unchanged. The scan follows JSON's lexical rules only as far as telling strings from the rest;
 * jansson then parses the result and reports any error. */
static ccz_status quote_big_integers(ccz_buf *out, const char *text, size_t len)
{
    ccz_cursor c;
    ccz_cursor_init(&c, CCZ_SPAN(text, len));
    uint8_t ch;
    bool in_string = false, escaped = false;
    while (ccz_cursor_u8(&c, &ch) == CCZ_OK) {
        if (in_string) {
            if (escaped)
                escaped = false;
            else if (ch == '\\')
                escaped = true;
            else if (ch == '"')
                in_string = false;
            CCZ_GUARD(ccz_buf_append_u8(out, ch));
            continue;
        }
        if (ch == '"')
            in_string = true;
        if (ch != '-' && (ch < '0' || ch > '9')) {
            CCZ_GUARD(ccz_buf_append_u8(out, ch));
            continue;
        }
        size_t start = c.pos - 1, digits = ch != '-';
        bool integer = true;
        ccz_span next;
        while (ccz_cursor_peek(&c, &next, 1) == CCZ_OK && next.ptr[0] &&
               strchr("0123456789.eE+-", next.ptr[0])) {
            if (next.ptr[0] >= '0' && next.ptr[0] <= '9')
                digits++;
            else
                integer = false;
            CCZ_GUARD(ccz_cursor_skip(&c, 1));
        }
        /* a JSON integer has no leading zero: 0123... is left to jansson, which refuses it */
        bool leading_zero = digits > 1 && text[start + (ch == '-')] == '0';
        bool quote = integer && digits > 18 && !leading_zero;
        if (quote)
            CCZ_GUARD(ccz_buf_append_u8(out, '"'));
        CCZ_GUARD(ccz_buf_append(out, text + start, c.pos - start));
        if (quote)
            CCZ_GUARD(ccz_buf_append_u8(out, '"'));
    }
    return CCZ_OK;
}

/* Parses untrusted JSON whose integers may be of any size (quoted by quote_big_integers). The
 * copy is a secret buffer: a private key's p and q pass through it. */
static ccz_status parse_doc(json_t **out, const char *text, size_t len, size_t max)
{
    *out = NULL;
    CCZ_ENSURE(len <= max, CCZ_ERR_TOO_LARGE, "the JSON document exceeds %zu bytes", max);
    ccz_buf b;
    ccz_buf_init(&b, 2 * max + 2, true);
    ccz_status s = quote_big_integers(&b, text, len);
    ccz_json *doc = NULL;
    if (s == CCZ_OK)
        s = ccz_json_parse(&doc, (const char *)b.ptr, b.len, b.max);
    ccz_buf_free(&b);
    *out = (json_t *)doc;
    return s;
}

/* A non-negative integer: a decimal string, or a JSON number (quoted by parse_doc when long). */
static ccz_status json_decimal(mpz_t out, json_t *v, size_t max_digits, const char *what)
{
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        char t[32];
        snprintf(t, sizeof t, "%lld", (long long)json_integer_value(v));
        mpz_set_str(out, t, 10);
        return CCZ_OK;
    }
    const char *t = json_string_value(v);
    size_t n = t ? strlen(t) : 0;
    CCZ_ENSURE(t && n && n <= max_digits && strspn(t, "0123456789") == n &&
                   mpz_set_str(out, t, 10) == 0,
               CCZ_ERR_JSON,
               "%s is not a non-negative decimal integer (a string or a number of "
               "at most %zu digits)",
               what, max_digits);
    return CCZ_OK;
}

/* A base64url integer (big-endian bytes, padding optional), as JWK and pheutil write them. */
static ccz_status json_b64(mpz_t out, json_t *v, const char *what)
{
    const char *t = json_string_value(v);
    size_t n = t ? strlen(t) : 0;
    while (n && t[n - 1] == '=')
        n--;
    CCZ_ENSURE(t && n && n <= MAX_B64 && n % 4 != 1 &&
                   strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
                       n,
               CCZ_ERR_ENCODING, "%s is not a base64url integer", what);
    char std[MAX_B64 + 4];
    for (size_t i = 0; i < n; i++)
        std[i] = t[i] == '-' ? '+' : t[i] == '_' ? '/' : t[i];
    size_t m = n;
    while (m % 4)
        std[m++] = '=';
    ccz_buf b;
    ccz_buf_init(&b, 0, true);
    ccz_status s = ccz_base64_decode(&b, std, m);
    if (s == CCZ_OK)
        mpz_import(out, b.len, 1, 1, 1, 0, b.ptr);
    else
        s = ccz_fail(CCZ_ERR_ENCODING, "%s is not a base64url integer", what);
    ccz_buf_free(&b);
    OPENSSL_cleanse(std, sizeof std);
    return s;
}

/* The integers of one key document, whatever its form. */
typedef struct {
    mpz_t n, g, p, q, lambda, mu, hs;
    bool has_g, has_pq, has_lm, has_hs;
} key_fields;

static ccz_status jwk_fields(key_fields *f, json_t *o)
{
    json_t *pub = json_object_get(o, "pub");
    bool private = pub != NULL;
    json_t *pk = private ? pub : o;
    CCZ_ENSURE(json_is_object(pk), CCZ_ERR_JSON, "Paillier JWK: \"pub\" is not an object");
    const char *top = json_string_value(json_object_get(o, "kty"));
    CCZ_ENSURE(top && !strcmp(top, "DAJ"), CCZ_ERR_JSON, "Paillier JWK: \"kty\" is not \"DAJ\"");
    const char *kty = json_string_value(json_object_get(pk, "kty"));
    const char *alg = json_string_value(json_object_get(pk, "alg"));
    CCZ_ENSURE(kty && !strcmp(kty, "DAJ"), CCZ_ERR_JSON, "Paillier JWK: \"kty\" is not \"DAJ\"");
    CCZ_ENSURE(alg && !strcmp(alg, "PAI-GN1"), CCZ_ERR_UNSUPPORTED,
               "Paillier JWK: \"alg\" is not \"PAI-GN1\" (g = n + 1)");
    CCZ_GUARD(json_b64(f->n, json_object_get(pk, "n"), "Paillier JWK: \"n\""));
    if (!private)
        return CCZ_OK;
    json_t *p = json_object_get(o, "p"), *q = json_object_get(o, "q");
    json_t *l = json_object_get(o, "lambda"), *mu = json_object_get(o, "mu");
    CCZ_ENSURE(!p == !q && !l == !mu && (p || l), CCZ_ERR_JSON,
               "Paillier JWK: a private key has \"p\" and \"q\", or \"lambda\" and \"mu\"");
    if (p) {
        CCZ_GUARD(json_b64(f->p, p, "Paillier JWK: \"p\""));
        CCZ_GUARD(json_b64(f->q, q, "Paillier JWK: \"q\""));
        f->has_pq = true;
    }
    if (l) {
        CCZ_GUARD(json_b64(f->lambda, l, "Paillier JWK: \"lambda\""));
        CCZ_GUARD(json_b64(f->mu, mu, "Paillier JWK: \"mu\""));
        f->has_lm = true;
    }
    return CCZ_OK;
}

static ccz_status plain_fields(key_fields *f, json_t *o)
{
    json_t *inner = json_object_get(o, "public_key"); /* python-paillier's basic document */
    json_t *pk = json_is_object(inner) ? inner : o;
    json_t *n = json_object_get(pk, "n"), *g = json_object_get(pk, "g");
    CCZ_ENSURE(n, CCZ_ERR_JSON, "Paillier key: \"n\" is missing");
    CCZ_GUARD(json_decimal(f->n, n, MAX_DIGITS, "Paillier key: \"n\""));
    if (g) {
        CCZ_GUARD(json_decimal(f->g, g, MAX_DIGITS, "Paillier key: \"g\""));
        f->has_g = true;
    }
    json_t *p = json_object_get(o, "p"), *q = json_object_get(o, "q");
    CCZ_ENSURE(!p == !q, CCZ_ERR_JSON, "Paillier key: \"p\" and \"q\" go together");
    if (p) {
        CCZ_GUARD(json_decimal(f->p, p, MAX_DIGITS, "Paillier key: \"p\""));
        CCZ_GUARD(json_decimal(f->q, q, MAX_DIGITS, "Paillier key: \"q\""));
        f->has_pq = true;
    }
    json_t *hs = json_object_get(o, "hs");
    if (hs) {
        CCZ_GUARD(json_decimal(f->hs, hs, 2 * MAX_DIGITS, "Paillier key: \"hs\""));
        f->has_hs = true;
    }
    return CCZ_OK;
}

/* root = floor(sqrt(x)) for x below 2^(GMP_NUMB_BITS limbs), digit by digit in base 2 over that
 * many limbs: the same operations for every x of that bound (GMP's mpz_sqrt and
 * mpz_perfect_square_p branch on the value; here x is (p - q)^2). */
static void ct_sqrt(mpz_t root, const mpz_t x, size_t limbs)
{
    mp_limb_t *w = calloc(4 * limbs, sizeof *w); /* num, res, t, bit */
    if (!w)
        abort(); /* as GMP does when out of memory */
    mp_limb_t *num = w, *res = w + limbs, *t = w + 2 * limbs, *bit = w + 3 * limbs;
    mpz_export(num, NULL, -1, sizeof *num, 0, 0, x); /* caller: x fits in limbs */
    for (size_t i = limbs * GMP_NUMB_BITS / 2; i-- > 0;) {
        size_t b = 2 * i; /* bit = 2^b: its position is public */
        bit[b / GMP_NUMB_BITS] = (mp_limb_t)1 << (b % GMP_NUMB_BITS);
        mpn_add_n(t, res, bit, (mp_size_t)limbs); /* no carry: res + bit < 2 sqrt(x) + 1 */
        mp_limb_t ge = 1 ^ mpn_sub_n(t, num, t, (mp_size_t)limbs); /* num >= res + bit */
        mpn_rshift(res, res, (mp_size_t)limbs, 1);
        mpn_cnd_add_n(ge, res, res, bit, (mp_size_t)limbs);
        mpn_cnd_swap(ge, num, t, (mp_size_t)limbs);
        bit[b / GMP_NUMB_BITS] = 0;
    }
    mpz_import(root, limbs, -1, sizeof *res, 0, 0, res);
    OPENSSL_cleanse(w, 4 * limbs * sizeof *w);
    free(w);
}

/* p and q from lambda = (p-1)(q-1) (what pheutil wrote before it stored p and q): p + q =
 * n - lambda + 1 and (p - q)^2 = (p + q)^2 - 4n. mu must be lambda^-1 mod n. The root is taken
 * in constant time (ct_sqrt): (p - q)^2 is as secret as p. */
static ccz_status primes_from_lambda(key_fields *f)
{
    mpz_t s, d, t;
    mpz_inits(s, d, t, NULL);
    mpz_sub(s, f->n, f->lambda);
    mpz_add_ui(s, s, 1);
    mpz_mul(d, s, s);
    mpz_submul_ui(d, f->n, 4);
    /* for a key, 0 <= p + q <= n, so (p - q)^2 < n^2: twice n's limbs hold it (a public bound) */
    size_t limbs = 2 * mpz_size(f->n);
    ccz_status st = CCZ_OK;
    if (mpz_sgn(d) < 0 || mpz_sizeinbase(d, 2) > limbs * GMP_NUMB_BITS) {
        st = ccz_fail(CCZ_ERR_INVALID_ARGUMENT,
                      "Paillier JWK: \"lambda\" is not (p-1)(q-1) for this n");
    } else {
        ct_sqrt(t, d, limbs);
        mpz_t r2; /* the root squared: (p - q)^2 again exactly when lambda is right */
        mpz_init(r2);
        mpz_mul(r2, t, t);
        if (mpz_cmp(r2, d) != 0)
            st = ccz_fail(CCZ_ERR_INVALID_ARGUMENT,
                          "Paillier JWK: \"lambda\" is not (p-1)(q-1) for this n");
        paillier_mpz_wipe(r2);
        mpz_swap(t, d); /* d: the root, |p - q| */
    }
    if (st == CCZ_OK) {
        mpz_add(t, s, d);
        mpz_tdiv_q_2exp(f->p, t, 1);
        mpz_sub(t, s, d);
        mpz_tdiv_q_2exp(f->q, t, 1);
        f->has_pq = true;
    }
    paillier_mpz_wipe(s);
    paillier_mpz_wipe(d);
    paillier_mpz_wipe(t);
    return st;
}

/* A private key's fields agree: n = p q; lambda = (p-1)(q-1) and lambda mu = 1 mod n when given. */
static ccz_status check_private(key_fields *f)
{
    if (f->has_lm && !f->has_pq)
        CCZ_GUARD(primes_from_lambda(f));
    mpz_t t, u;
    mpz_inits(t, u, NULL);
    ccz_status s = CCZ_OK;
    mpz_mul(t, f->p, f->q);
    if (mpz_cmp(t, f->n) != 0)
        s = ccz_fail(CCZ_ERR_INVALID_ARGUMENT, "Paillier key: n is not p * q");
    if (s == CCZ_OK && f->has_lm) {
        mpz_sub_ui(t, f->p, 1);
        mpz_sub_ui(u, f->q, 1);
        mpz_mul(t, t, u);
        bool lam = mpz_cmp(t, f->lambda) == 0;
        paillier_mpz_wipe(t); /* lambda: the product below would grow t, freeing it unwiped */
        mpz_init(t);
        mpz_mul(t, f->lambda, f->mu);
        mpz_mod(t, t, f->n);
        if (!lam || mpz_cmp_ui(t, 1) != 0)
            s = ccz_fail(CCZ_ERR_INVALID_ARGUMENT, "Paillier JWK: \"lambda\" and \"mu\" do not "
                                                   "belong to this key");
    }
    paillier_mpz_wipe(t);
    paillier_mpz_wipe(u);
    return s;
}

ccz_status ccz_paillier_load_json(ccz_paillier_pub **pub, ccz_paillier_key **key, const char *text,
                                  size_t len)
{
    *pub = NULL;
    if (key)
        *key = NULL;
    json_t *o;
    CCZ_GUARD(parse_doc(&o, text, len, 64 << 10));
    key_fields f = {0};
    mpz_inits(f.n, f.g, f.p, f.q, f.lambda, f.mu, f.hs, NULL);
    ccz_status s =
        json_is_object(o) ? CCZ_OK : ccz_fail(CCZ_ERR_JSON, "a Paillier key is a JSON object");
    if (s == CCZ_OK)
        s = json_object_get(o, "kty") ? jwk_fields(&f, o) : plain_fields(&f, o);
    if (s == CCZ_OK && f.has_g) {
        mpz_sub_ui(f.g, f.g, 1);
        if (mpz_cmp(f.g, f.n) != 0)
            s = ccz_fail(CCZ_ERR_UNSUPPORTED, "Paillier key: g is not n + 1 (the only g ccz and "
                                              "python-paillier use)");
    }
    bool private = key && (f.has_pq || f.has_lm);
    if (s == CCZ_OK && private)
        s = check_private(&f);
    ccz_paillier_key *k = NULL;
    ccz_paillier_pub *pk = NULL;
    if (s == CCZ_OK && private) {
        s = ccz_paillier_key_from_primes(&k, f.p, f.q);
        if (s == CCZ_OK)
            pk = k->pub;
    } else if (s == CCZ_OK) {
        s = ccz_paillier_pub_new(&pk, f.n);
    }
    /* DJN: a private key's h_s is verified against p and q. A public key's cannot be (whether
     * it is an n-th residue depends on the factorisation, and a base of small order or one that
     * is not a residue would expose or corrupt every ciphertext), so the encryptor makes its own
     * h_s = (-x^2)^n from its own random x: as fast, and secure whoever wrote the file. */
    if (s == CCZ_OK && f.has_hs && k)
        s = paillier_check_hs(k, f.hs);
    if (s == CCZ_OK && f.has_hs)
        s = ccz_paillier_pub_set_djn(pk, k ? f.hs : NULL);
    if (s) {
        if (k)
            ccz_paillier_key_free(k);
        else
            ccz_paillier_pub_free(pk);
    } else {
        *pub = pk;
        if (key)
            *key = k;
    }
    paillier_mpz_wipe(f.p);
    paillier_mpz_wipe(f.q);
    paillier_mpz_wipe(f.lambda);
    paillier_mpz_wipe(f.mu);
    mpz_clears(f.n, f.g, f.hs, NULL);
    ccz_json_free((ccz_json *)o);
    return s;
}

/* ---- writing ---------------------------------------------------------------------------------*/

static void gmp_free_str(char *t)
{
    void (*freefunc)(void *, size_t);
    mp_get_memory_functions(NULL, NULL, &freefunc);
    size_t n = strlen(t) + 1; /* before the wipe, which leaves strlen 0 */
    OPENSSL_cleanse(t, n);
    freefunc(t, n);
}

/* "key": "<decimal>" (quoted) or "key": <decimal> (a JSON number) */
static ccz_status put_decimal(ccz_buf *out, const char *sep, const char *key, const mpz_t v,
                              bool quoted)
{
    char *t = mpz_get_str(NULL, 10, v);
    CCZ_ENSURE(t, CCZ_ERR_NOMEM, "out of memory");
    const char *q = quoted ? "\"" : "";
    /* the digits are appended, not formatted: printf's counting pass copies what it formats
     * through a buffer on its stack, which nothing wipes */
    ccz_status s = ccz_buf_printf(out, "%s\"%s\": %s", sep, key, q);
    if (s == CCZ_OK && (s = ccz_buf_append_str(out, t)) == CCZ_OK)
        s = ccz_buf_append_str(out, q);
    gmp_free_str(t);
    return s;
}

static ccz_status put_b64(ccz_buf *out, const char *sep, const char *key, const mpz_t v)
{
    size_t n = (mpz_sizeinbase(v, 2) + 7) / 8;
    uint8_t *bytes = OPENSSL_secure_zalloc(n + 1);
    CCZ_ENSURE(bytes, CCZ_ERR_NOMEM, "out of memory");
    size_t got = 0;
    mpz_export(bytes, &got, 1, 1, 1, 0, v);
    ccz_buf b;
    ccz_buf_init(&b, 0, true);
    ccz_status s = ccz_base64_encode(&b, CCZ_SPAN(bytes, got ? got : 1));
    if (s == CCZ_OK) {
        size_t m = 0;
        for (size_t i = 0; i < b.len && b.ptr[i] != '='; i++, m++)
            b.ptr[i] = b.ptr[i] == '+' ? '-' : b.ptr[i] == '/' ? '_' : b.ptr[i];
        s = ccz_buf_printf(out, "%s\"%s\": \"%.*s\"", sep, key, (int)m, (const char *)b.ptr);
    }
    ccz_buf_free(&b);
    OPENSSL_secure_clear_free(bytes, n + 1);
    return s;
}

static ccz_status jwk_public(const ccz_paillier_pub *pk, ccz_buf *out, const char *indent)
{
    CCZ_GUARD(ccz_buf_printf(out,
                             "{\"kty\": \"DAJ\", \"alg\": \"PAI-GN1\", \"key_ops\": "
                             "[\"encrypt\"],\n%s \"kid\": \"Paillier public key (ccz, %u "
                             "bits)\"",
                             indent, pk->bits));
    char sep[16];
    snprintf(sep, sizeof sep, ",\n%s ", indent);
    CCZ_GUARD(put_b64(out, sep, "n", pk->n));
    return ccz_buf_append_str(out, "}");
}

ccz_status ccz_paillier_pub_write_json(ccz_buf *out, const ccz_paillier_pub *pk,
                                       ccz_paillier_json_format fmt)
{
    switch (fmt) {
    case CCZ_PAILLIER_JSON_CCZ:
        CCZ_GUARD(put_decimal(out, "{\n  ", "n", pk->n, true));
        if (pk->djn)
            CCZ_GUARD(put_decimal(out, ",\n  ", "hs", pk->hs, true));
        return ccz_buf_append_str(out, "\n}\n");
    case CCZ_PAILLIER_JSON_PHE: {
        mpz_t g;
        mpz_init(g);
        mpz_add_ui(g, pk->n, 1);
        ccz_status s = put_decimal(out, "{", "g", g, false);
        mpz_clear(g);
        CCZ_GUARD(s);
        CCZ_GUARD(put_decimal(out, ", ", "n", pk->n, false));
        return ccz_buf_append_str(out, "}\n");
    }
    case CCZ_PAILLIER_JSON_JWK:
        CCZ_GUARD(jwk_public(pk, out, ""));
        return ccz_buf_append_str(out, "\n");
    }
    return ccz_fail(CCZ_ERR_INVALID_ARGUMENT, "unknown Paillier JSON format %d", (int)fmt);
}

/* lambda = (p-1)(q-1) and mu = lambda^-1 mod n, by CRT with constant-time inversions (pheutil's
 * older private keys carry them). */
static void lambda_mu(const ccz_paillier_key *k, mpz_t lambda, mpz_t mu)
{
    mpz_t a, b, e;
    mpz_inits(a, b, e, NULL);
    mpz_mul(lambda, k->pm1, k->qm1);
    /* lambda mod p = (-1)(q-1) mod p; its inverse by Fermat, likewise mod q */
    paillier_sec_mod(a, lambda, k->p);
    mpz_sub_ui(e, k->pm1, 1);
    paillier_sec_invert(a, a, e, k->p);
    paillier_sec_mod(b, lambda, k->q);
    mpz_sub_ui(e, k->qm1, 1);
    paillier_sec_invert(b, b, e, k->q);
    /* mu = b + q ((a - b) q^-1 mod p) */
    paillier_sec_sub_mod(a, a, b, k->p);
    mpz_mul(a, a, k->qinv);
    paillier_sec_mod(a, a, k->p);
    mpz_mul(a, a, k->q);
    mpz_add(mu, a, b);
    paillier_mpz_wipe(a);
    paillier_mpz_wipe(b);
    paillier_mpz_wipe(e);
}

static ccz_status jwk_private(const ccz_paillier_key *k, ccz_buf *out)
{
    CCZ_GUARD(ccz_buf_printf(out,
                             "{\"kty\": \"DAJ\", \"key_ops\": [\"decrypt\"],\n \"kid\": "
                             "\"Paillier private key (ccz, %u bits)\",\n \"pub\": ",
                             k->pub->bits));
    CCZ_GUARD(jwk_public(k->pub, out, " "));
    mpz_t lambda, mu;
    mpz_inits(lambda, mu, NULL);
    lambda_mu(k, lambda, mu);
    ccz_status s = put_b64(out, ",\n ", "p", k->p);
    if (s == CCZ_OK)
        s = put_b64(out, ",\n ", "q", k->q);
    if (s == CCZ_OK)
        s = put_b64(out, ",\n ", "lambda", lambda);
    if (s == CCZ_OK)
        s = put_b64(out, ",\n ", "mu", mu);
    paillier_mpz_wipe(lambda);
    paillier_mpz_wipe(mu);
    CCZ_GUARD(s);
    return ccz_buf_append_str(out, "}\n");
}

ccz_status ccz_paillier_key_write_json(ccz_buf *out, const ccz_paillier_key *k,
                                       ccz_paillier_json_format fmt)
{
    bool quoted = fmt == CCZ_PAILLIER_JSON_CCZ;
    switch (fmt) {
    case CCZ_PAILLIER_JSON_CCZ:
    case CCZ_PAILLIER_JSON_PHE:
        CCZ_GUARD(put_decimal(out, "{\n  ", "n", k->pub->n, quoted));
        if (!quoted) {
            mpz_t g;
            mpz_init(g);
            mpz_add_ui(g, k->pub->n, 1);
            ccz_status s = put_decimal(out, ",\n  ", "g", g, false);
            mpz_clear(g);
            CCZ_GUARD(s);
        }
        CCZ_GUARD(put_decimal(out, ",\n  ", "p", k->p, quoted));
        CCZ_GUARD(put_decimal(out, ",\n  ", "q", k->q, quoted));
        if (k->pub->djn && quoted)
            CCZ_GUARD(put_decimal(out, ",\n  ", "hs", k->pub->hs, true));
        return ccz_buf_append_str(out, "\n}\n");
    case CCZ_PAILLIER_JSON_JWK:
        return jwk_private(k, out);
    }
    return ccz_fail(CCZ_ERR_INVALID_ARGUMENT, "unknown Paillier JSON format %d", (int)fmt);
}

ccz_status ccz_paillier_pub_to_json(ccz_buf *out, const ccz_paillier_pub *pk)
{
    return ccz_paillier_pub_write_json(out, pk, CCZ_PAILLIER_JSON_CCZ);
}

ccz_status ccz_paillier_key_to_json(ccz_buf *out, const ccz_paillier_key *k)
{
    return ccz_paillier_key_write_json(out, k, CCZ_PAILLIER_JSON_CCZ);
}

/* ---- encrypted numbers -----------------------------------------------------------------------*/

ccz_status ccz_paillier_number_write_json(ccz_buf *out, const ccz_paillier_number *x,
                                          ccz_paillier_json_format fmt)
{
    char *t = mpz_get_str(NULL, 10, x->c);
    CCZ_ENSURE(t, CCZ_ERR_NOMEM, "out of memory");
    ccz_status s;
    switch (fmt) {
    case CCZ_PAILLIER_JSON_CCZ:
        s = ccz_buf_printf(out, "{\"ciphertext\": \"%s\", \"exponent\": %d}", t, x->exponent);
        break;
    case CCZ_PAILLIER_JSON_JWK:
        s = ccz_buf_printf(out, "{\"v\": \"%s\", \"e\": %d}", t, x->exponent);
        break;
    case CCZ_PAILLIER_JSON_PHE:
        s = ccz_buf_printf(out, "[\"%s\", %d]", t, x->exponent);
        break;
    default:
        s = ccz_fail(CCZ_ERR_INVALID_ARGUMENT, "unknown Paillier JSON format %d", (int)fmt);
    }
    gmp_free_str(t);
    return s;
}

ccz_status ccz_paillier_number_to_json(ccz_buf *out, const ccz_paillier_number *x)
{
    return ccz_paillier_number_write_json(out, x, CCZ_PAILLIER_JSON_CCZ);
}

/* One encrypted number: {"ciphertext", "exponent"}, {"v", "e"} or [ciphertext, exponent]. */
static ccz_status number_from(const ccz_paillier_pub *pk, ccz_paillier_number *x, json_t *o,
                              size_t index)
{
    json_t *c, *e;
    if (json_is_array(o) && json_array_size(o) == 2) {
        c = json_array_get(o, 0);
        e = json_array_get(o, 1);
    } else if (json_is_object(o) && json_object_get(o, "v")) {
        c = json_object_get(o, "v");
        e = json_object_get(o, "e");
    } else if (json_is_object(o)) {
        c = json_object_get(o, "ciphertext");
        e = json_object_get(o, "exponent");
    } else {
        return ccz_fail(CCZ_ERR_JSON,
                        "encrypted number %zu: not {\"ciphertext\", \"exponent\"}, "
                        "{\"v\", \"e\"} or [ciphertext, exponent]",
                        index);
    }
    CCZ_ENSURE(c, CCZ_ERR_JSON, "encrypted number %zu: the ciphertext is missing", index);
    CCZ_ENSURE(json_is_integer(e) && json_integer_value(e) >= -10000 &&
                   json_integer_value(e) <= 10000,
               CCZ_ERR_JSON,
               "encrypted number %zu: \"exponent\" is not an integer in "
               "[-10000, 10000]",
               index);
    CCZ_GUARD(json_decimal(x->c, c, MAX_CT_DIGITS, "encrypted number: the ciphertext"));
    CCZ_ENSURE(mpz_sgn(x->c) > 0 && mpz_cmp(x->c, pk->n2) < 0, CCZ_ERR_INVALID_ARGUMENT,
               "encrypted number %zu: the ciphertext is not in [1, n^2): not under this key",
               index);
    x->exponent = (int)json_integer_value(e);
    return CCZ_OK;
}

ccz_status ccz_paillier_number_from_json(ccz_paillier_number *x, const ccz_paillier_pub *pk,
                                         const char *text, size_t len)
{
    json_t *o;
    CCZ_GUARD(parse_doc(&o, text, len, 64 << 10)); /* one number */
    ccz_status s = number_from(pk, x, o, 0);
    ccz_json_free((ccz_json *)o);
    return s;
}

void ccz_paillier_numbers_free(ccz_paillier_number *x, size_t count)
{
    for (size_t i = 0; x && i < count; i++)
        ccz_paillier_number_clear(&x[i]);
    free(x);
}

ccz_status ccz_paillier_numbers_from_json(ccz_paillier_number **out, size_t *count,
                                          const ccz_paillier_pub *pk, const char *text, size_t len)
{
    *out = NULL;
    *count = 0;
    json_t *o;
    CCZ_GUARD(parse_doc(&o, text, len, MAX_DOC));
    json_t *values = json_object_get(o, "values");
    ccz_status s = CCZ_OK;
    json_t *pkj = json_object_get(o, "public_key");
    if (values && pkj) { /* the document names its key: it must be this one */
        mpz_t n;
        mpz_init(n);
        json_t *nj = json_is_object(pkj) ? json_object_get(pkj, "n") : NULL;
        s = json_decimal(n, nj, MAX_DIGITS, "\"public_key\": \"n\"");
        if (s == CCZ_OK && mpz_cmp(n, pk->n) != 0)
            s = ccz_fail(CCZ_ERR_INVALID_ARGUMENT, "the numbers are under another public key");
        mpz_clear(n);
    }
    size_t total = values ? json_array_size(values) : 1;
    if (s == CCZ_OK && values && (!json_is_array(values) || total == 0 || total > 100000))
        s = ccz_fail(CCZ_ERR_JSON, "\"values\" is not an array of 1 to 100000 encrypted numbers");
    ccz_paillier_number *x = NULL;
    if (s == CCZ_OK && !(x = calloc(total, sizeof *x)))
        s = ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    size_t done = 0;
    for (; s == CCZ_OK && done < total; done++) {
        ccz_paillier_number_init(&x[done]);
        s = number_from(pk, &x[done], values ? json_array_get(values, done) : o, done);
    }
    ccz_json_free((ccz_json *)o);
    if (s) {
        ccz_paillier_numbers_free(x, done);
        return s;
    }
    *out = x;
    *count = total;
    return CCZ_OK;
}
