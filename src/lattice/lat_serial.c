/* SPDX-License-Identifier: Apache-2.0 */
/* Serialization of lattice objects. Layout (little-endian):
 *   "CCZH" | version (1) | type | scheme | log_n | n_primes | 3 reserved (0) |
 *   fingerprint (8 bytes: SHA-256 of the primes, t and the scale, truncated) | body
 * Bodies pack residues modulo q_i in bits(q_i) bits each, prime by prime, least significant
 * bits first. Everything read goes through the cursor and is range-checked. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "core/guard.h"
#include "lattice_internal.h"

enum {
    T_PARAMS = 1,
    T_SECRET = 2,
    T_PUBLIC = 3,
    T_RELIN = 4,
    T_GALOIS = 5,
    T_PLAIN = 6,
    T_CIPHER = 7,
    T_SEEDED = 8 /* a CKKS ciphertext whose second component is the seed it is drawn from */
};
static const char *const type_names[] = {"?",          "parameters",           "secret key",
                                         "public key", "relinearization keys", "Galois keys",
                                         "plaintext",  "ciphertext",           "seeded ciphertext"};
#define VERSION 1

static void fingerprint(const ccz_lattice_params *p, uint8_t out[8])
{
    uint8_t buf[8 * (MAXP + 2)];
    size_t len = 0;
    uint64_t t = p->scheme == CCZ_LATTICE_BFV ? p->plain_modulus : 0, sc;
    double scale = p->scheme == CCZ_LATTICE_CKKS ? p->scale : 0;
    memcpy(&sc, &scale, 8);
    for (unsigned i = 0; i < p->n_primes && i < MAXP; i++)
        for (int k = 0; k < 8; k++)
            buf[len++] = (uint8_t)(p->coeff_primes[i] >> (8 * k));
    for (int k = 0; k < 8; k++)
        buf[len++] = (uint8_t)(t >> (8 * k));
    for (int k = 0; k < 8; k++)
        buf[len++] = (uint8_t)(sc >> (8 * k));
    uint8_t d[EVP_MAX_MD_SIZE];
    unsigned dl = 0;
    if (EVP_Digest(buf, len, d, &dl, EVP_sha256(), NULL) != 1)
        memset(d, 0, sizeof d);
    memcpy(out, d, 8);
}

static ccz_status put_u64(ccz_buf *o, uint64_t v)
{
    uint8_t b[8];
    for (int k = 0; k < 8; k++)
        b[k] = (uint8_t)(v >> (8 * k));
    return ccz_buf_append(o, b, 8);
}

static ccz_status header(ccz_buf *o, const ccz_lattice_context *ctx, int type)
{
    const ccz_lattice_params *p = &ctx->params;
    uint8_t h[16] = {'C',
                     'C',
                     'Z',
                     'H',
                     VERSION,
                     (uint8_t)type,
                     (uint8_t)p->scheme,
                     (uint8_t)p->log_n,
                     (uint8_t)p->n_primes,
                     0,
                     0,
                     0};
    CCZ_GUARD(ccz_buf_append(o, h, 12));
    uint8_t f[8];
    fingerprint(p, f);
    return ccz_buf_append(o, f, 8);
}

static ccz_status read_header(ccz_cursor *c, const ccz_lattice_context *ctx, int type)
{
    uint8_t h[12], f[8], want[8];
    CCZ_ENSURE(ccz_cursor_copy(c, h, 12) == CCZ_OK && ccz_cursor_copy(c, f, 8) == CCZ_OK,
               CCZ_ERR_TRUNCATED, "%s: the header is incomplete", type_names[type]);
    CCZ_ENSURE(memcmp(h, "CCZH", 4) == 0, CCZ_ERR_UNKNOWN_FORMAT,
               "not a ccz lattice object (no CCZH magic)");
    CCZ_ENSURE(h[4] == VERSION, CCZ_ERR_UNSUPPORTED_VERSION,
               "format version %u (this ccz reads version %d)", h[4], VERSION);
    CCZ_ENSURE(h[5] == type, CCZ_ERR_MALFORMED, "the file holds %s, not %s",
               h[5] >= 1 && h[5] <= T_SEEDED ? type_names[h[5]] : "an unknown object",
               type_names[type]);
    CCZ_ENSURE(h[9] == 0 && h[10] == 0 && h[11] == 0, CCZ_ERR_MALFORMED,
               "%s: reserved header bytes are not zero", type_names[type]);
    if (ctx) {
        const ccz_lattice_params *p = &ctx->params;
        fingerprint(p, want);
        CCZ_ENSURE(h[6] == p->scheme && h[7] == p->log_n && h[8] == p->n_primes &&
                       memcmp(f, want, 8) == 0,
                   CCZ_ERR_MALFORMED, "the %s was made with other parameters", type_names[type]);
    }
    return CCZ_OK;
}

/* ---- bit packing ---------------------------------------------------------------------------------*/

typedef struct {
    ccz_buf *o;
    uint64_t acc;
    unsigned n;
    ccz_status s;
} packer;

static void pack(packer *p, uint64_t v, unsigned bits)
{
    while (bits && p->s == CCZ_OK) {
        unsigned take = 64 - p->n < bits ? 64 - p->n : bits;
        uint64_t part = take == 64 ? v : v & ((1ull << take) - 1);
        p->acc |= part << p->n;
        p->n += take;
        v = take == 64 ? 0 : v >> take;
        bits -= take;
        if (p->n == 64) {
            p->s = put_u64(p->o, p->acc);
            p->acc = 0;
            p->n = 0;
        }
    }
}

static ccz_status pack_end(packer *p)
{
    while (p->n > 0 && p->s == CCZ_OK) { /* whole bytes */
        uint8_t b = (uint8_t)p->acc;
        p->s = ccz_buf_append_u8(p->o, b);
        p->acc >>= 8;
        p->n = p->n > 8 ? p->n - 8 : 0;
    }
    return p->s;
}

typedef struct {
    ccz_cursor *c;
    uint64_t acc;
    unsigned n;
} unpacker;

static ccz_status unpack(unpacker *u, unsigned bits, uint64_t *v)
{
    uint64_t out = 0;
    unsigned got = 0;
    while (got < bits) {
        if (u->n == 0 && ccz_cursor_u64le(u->c, &u->acc) == CCZ_OK) {
            u->n = 64; /* eight bytes at once: the same bits, least significant first */
        } else if (u->n == 0) {
            uint8_t b;
            CCZ_ENSURE(ccz_cursor_u8(u->c, &b) == CCZ_OK, CCZ_ERR_TRUNCATED, "the data ends early");
            u->acc = b;
            u->n = 8;
        }
        unsigned take = u->n < bits - got ? u->n : bits - got;
        out |= (u->acc & ((1ull << take) - 1)) << got;
        u->acc >>= take;
        u->n -= take;
        got += take;
    }
    *v = out;
    return CCZ_OK;
}

static unsigned width(uint64_t q)
{
    return 64 - (unsigned)__builtin_clzll(q - 1 ? q - 1 : 1);
}

/* residues of np primes (indices idx or 0..np-1), N each */
static ccz_status pack_rns(packer *p, const ccz_lattice_context *ctx, const uint64_t *d,
                           unsigned np, const unsigned *idx)
{
    for (unsigned i = 0; i < np; i++) {
        uint64_t q = ctx->primes[idx ? idx[i] : i];
        unsigned w = width(q);
        for (size_t x = 0; x < ctx->n; x++)
            pack(p, d[(size_t)i * ctx->n + x], w);
    }
    return p->s;
}

static ccz_status unpack_rns(unpacker *u, const ccz_lattice_context *ctx, uint64_t *d, unsigned np,
                             const unsigned *idx, const char *what)
{
    for (unsigned i = 0; i < np; i++) {
        uint64_t q = ctx->primes[idx ? idx[i] : i];
        unsigned w = width(q);
        for (size_t x = 0; x < ctx->n; x++) {
            uint64_t v;
            CCZ_GUARD(unpack(u, w, &v));
            CCZ_ENSURE(v < q, CCZ_ERR_MALFORMED, "%s: residue %zu of prime %u is not below it",
                       what, x, i);
            d[(size_t)i * ctx->n + x] = v;
        }
    }
    return CCZ_OK;
}

/* Bytes of polys polynomials over primes 0 .. np - 1, packed: the bits rounded up to a byte */
static uint64_t packed_bytes(const ccz_lattice_context *ctx, uint64_t polys, unsigned np)
{
    uint64_t bits = 0;
    for (unsigned i = 0; i < np; i++)
        bits += width(ctx->primes[i]);
    return (polys * bits * ctx->n + 7) / 8;
}

/* The input holds a body of `bytes` more bytes: checked before the body's memory is allocated,
 * so that a message of a few bytes cannot have the loader reserve a key's megabytes. */
static ccz_status need(const ccz_cursor *c, uint64_t bytes, const char *what)
{
    CCZ_ENSURE(bytes <= ccz_cursor_remaining(c), CCZ_ERR_TRUNCATED,
               "the data ends early: %s of %llu bytes, %zu remain", what, (unsigned long long)bytes,
               ccz_cursor_remaining(c));
    return CCZ_OK;
}

static ccz_status finish(ccz_cursor *c, unpacker *u, const char *what)
{
    /* bits left in the last byte are padding; whole bytes read ahead are not */
    size_t extra = ccz_cursor_remaining(c) + u->n / 8;
    CCZ_ENSURE(extra == 0, CCZ_ERR_TRAILING_DATA, "%s: %zu bytes after the end", what, extra);
    return CCZ_OK;
}

/* ---- parameters -------------------------------------------------------------------------------*/

ccz_status ccz_lattice_params_save(ccz_buf *out, const ccz_lattice_context *ctx)
{
    CCZ_GUARD(header(out, ctx, T_PARAMS));
    const ccz_lattice_params *p = &ctx->params;
    for (unsigned i = 0; i < p->n_primes; i++)
        CCZ_GUARD(put_u64(out, p->coeff_primes[i]));
    CCZ_GUARD(put_u64(out, p->plain_modulus));
    uint64_t sc;
    memcpy(&sc, &p->scale, 8);
    CCZ_GUARD(put_u64(out, sc));
    return ccz_buf_append_u8(out, p->no_security_check);
}

ccz_status ccz_lattice_params_load(ccz_lattice_params *out, ccz_span in)
{
    memset(out, 0, sizeof *out);
    ccz_cursor c;
    ccz_cursor_init(&c, in);
    CCZ_GUARD(read_header(&c, NULL, T_PARAMS));
    const uint8_t *h = in.ptr;
    out->scheme = (ccz_lattice_scheme)h[6];
    out->log_n = h[7];
    out->n_primes = h[8];
    CCZ_ENSURE(out->n_primes >= 2 && out->n_primes <= MAXP, CCZ_ERR_MALFORMED,
               "parameters: %u primes", out->n_primes);
    for (unsigned i = 0; i < out->n_primes; i++)
        CCZ_ENSURE(ccz_cursor_u64le(&c, &out->coeff_primes[i]) == CCZ_OK, CCZ_ERR_TRUNCATED,
                   "parameters: the primes end early");
    uint64_t sc;
    uint8_t nsc;
    CCZ_ENSURE(ccz_cursor_u64le(&c, &out->plain_modulus) == CCZ_OK &&
                   ccz_cursor_u64le(&c, &sc) == CCZ_OK && ccz_cursor_u8(&c, &nsc) == CCZ_OK,
               CCZ_ERR_TRUNCATED, "parameters: incomplete");
    memcpy(&out->scale, &sc, 8);
    CCZ_ENSURE(nsc <= 1, CCZ_ERR_MALFORMED, "parameters: bad security flag");
    out->no_security_check = nsc;
    for (unsigned i = 0; i < out->n_primes; i++)
        out->coeff_bits[i] = width(out->coeff_primes[i] ? out->coeff_primes[i] : 2);
    CCZ_ENSURE(out->scheme == CCZ_LATTICE_BFV || out->scheme == CCZ_LATTICE_CKKS, CCZ_ERR_MALFORMED,
               "parameters: unknown scheme %d", (int)out->scheme);
    CCZ_ENSURE(out->scheme != CCZ_LATTICE_CKKS || isfinite(out->scale), CCZ_ERR_MALFORMED,
               "parameters: the scale is not a number");
    for (unsigned i = 0; i < out->n_primes; i++)
        CCZ_ENSURE(out->coeff_primes[i] > 2, CCZ_ERR_MALFORMED, "parameters: prime %u is %llu", i,
                   (unsigned long long)out->coeff_primes[i]);
    /* the fingerprint must match what was read */
    uint8_t f[8];
    fingerprint(out, f);
    CCZ_ENSURE(memcmp(f, in.ptr + 12, 8) == 0, CCZ_ERR_MALFORMED,
               "parameters: the fingerprint does not match the contents");
    return ccz_cursor_expect_end(&c) == CCZ_OK
               ? CCZ_OK
               : ccz_fail(CCZ_ERR_TRAILING_DATA, "parameters: bytes after the end");
}

/* ---- ciphertexts and plaintexts ------------------------------------------------------------------*/

ccz_status ccz_lattice_ciphertext_save(ccz_buf *out, const ccz_lattice_ciphertext *ct)
{
    const ccz_lattice_context *ctx = ct->ctx;
    CCZ_GUARD(ccz_buf_reserve(out, 40 + packed_bytes(ctx, ct->size, ct->level)));
    CCZ_GUARD(header(out, ctx, T_CIPHER));
    uint8_t h[3] = {(uint8_t)ct->size, (uint8_t)ct->level, ct->ntt};
    CCZ_GUARD(ccz_buf_append(out, h, 3));
    uint64_t sc;
    memcpy(&sc, &ct->scale, 8);
    CCZ_GUARD(put_u64(out, sc));
    packer p = {out, 0, 0, CCZ_OK};
    for (unsigned j = 0; j < ct->size; j++)
        CCZ_GUARD(pack_rns(&p, ctx, ct->d + (size_t)j * ct->level * ctx->n, ct->level, NULL));
    return pack_end(&p);
}

/* ---- seeded ciphertexts ----------------------------------------------------------------------
 * Header, then 2 (components), the level, 1 (NTT form), the scale, the 32-byte seed and c0
 * packed: c1 is the uniform polynomial lat_prng_init_seed(seed) draws, regenerated on loading. */

/* c0 = -a s + e + m for prime i, a drawn from ga (the seed's generator, prime after prime as the
 * loader draws it), e the error's residues (coefficient form): into c0, in NTT form. */
static ccz_status seeded_c0(uint64_t *c0, uint64_t *a, const ccz_lattice_context *ctx,
                            const ccz_lattice_secret_key *sk, const ccz_lattice_plaintext *pt,
                            lat_prng *ga, const int8_t *e, unsigned i)
{
    size_t n = ctx->n, o = (size_t)i * n;
    uint64_t q = ctx->primes[i];
    CCZ_GUARD(lat_sample_uniform(ga, ctx, &ctx->primes[i], 1, a));
    lat_small_to_rns(e, n, &ctx->primes[i], 1, c0);
    lat_ntt_forward(&ctx->ntt[i], c0);
    lat_vec_add(c0, c0, pt->poly.d + o, n, q);
    lat_vec_mul_w(a, a, sk->s + o, sk->s_w + o, n, q); /* a s */
    lat_vec_sub(c0, c0, a, n, q);
    return CCZ_OK;
}

ccz_status ccz_lattice_encrypt_sk_save(ccz_buf *out, const ccz_lattice_context *ctx,
                                       const ccz_lattice_secret_key *sk,
                                       const ccz_lattice_plaintext *pt)
{
    CCZ_ENSURE(ctx->params.scheme == CCZ_LATTICE_CKKS, CCZ_ERR_UNSUPPORTED,
               "seeded ciphertexts are CKKS's");
    CCZ_ENSURE(sk && sk->ctx == ctx, CCZ_ERR_INVALID_ARGUMENT, "a secret key of another context");
    CCZ_ENSURE(pt && pt->ctx == ctx, CCZ_ERR_INVALID_ARGUMENT, "a plaintext of another context");
    unsigned l = pt->poly.np;
    CCZ_ENSURE(l >= 1 && l <= ctx->L && pt->poly.ntt, CCZ_ERR_INVALID_ARGUMENT,
               "the plaintext is not encoded");
    uint8_t seed[32];
    CCZ_ENSURE(RAND_bytes(seed, sizeof seed) == 1, CCZ_ERR_CRYPTO, "the RNG failed");
    size_t n = ctx->n;
    /* prime by prime: two polynomials of one prime held, not the whole ciphertext */
    lat_prng g, ga;
    CCZ_GUARD(lat_prng_init(&g));
    ccz_status s = lat_prng_init_seed(&ga, seed);
    int8_t *e = malloc(n);
    uint64_t *c0 = lat_words(n), *a = lat_words(n);
    if (s == CCZ_OK && !(e && c0 && a))
        s = ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    if (s == CCZ_OK)
        s = lat_sample_cbd(&g, n, e);
    if (s == CCZ_OK)
        s = ccz_buf_reserve(out, 80 + packed_bytes(ctx, 1, l));
    if (s == CCZ_OK)
        s = header(out, ctx, T_SEEDED);
    uint8_t h[3] = {2, (uint8_t)l, 1};
    uint64_t sc;
    memcpy(&sc, &pt->scale, 8);
    if (s == CCZ_OK)
        s = ccz_buf_append(out, h, 3);
    if (s == CCZ_OK)
        s = put_u64(out, sc);
    if (s == CCZ_OK)
        s = ccz_buf_append(out, seed, sizeof seed);
    packer p = {out, 0, 0, CCZ_OK};
    for (unsigned i = 0; i < l && s == CCZ_OK; i++) {
        s = seeded_c0(c0, a, ctx, sk, pt, &ga, e, i);
        if (s == CCZ_OK)
            s = pack_rns(&p, ctx, c0, 1, &i);
    }
    if (s == CCZ_OK)
        s = pack_end(&p);
    if (e)
        OPENSSL_cleanse(e, n);
    if (a) /* it holds a s for the last prime, which gives the ternary secret away */
        OPENSSL_cleanse(a, n * 8);
    free(e);
    free(c0);
    free(a);
    lat_prng_free(&g);
    lat_prng_free(&ga);
    return s;
}

static ccz_status seeded_load(ccz_lattice_ciphertext *ct, const ccz_lattice_context *ctx,
                              ccz_cursor *c)
{
    CCZ_GUARD(read_header(c, ctx, T_SEEDED));
    uint8_t h[3], seed[32];
    uint64_t sc;
    CCZ_ENSURE(ccz_cursor_copy(c, h, 3) == CCZ_OK && ccz_cursor_u64le(c, &sc) == CCZ_OK &&
                   ccz_cursor_copy(c, seed, sizeof seed) == CCZ_OK,
               CCZ_ERR_TRUNCATED, "seeded ciphertext: incomplete");
    CCZ_ENSURE(ctx->params.scheme == CCZ_LATTICE_CKKS && h[0] == 2 && h[2] == 1, CCZ_ERR_MALFORMED,
               "seeded ciphertext: %u components, form %u", h[0], h[2]);
    CCZ_ENSURE(h[1] >= 1 && h[1] <= ctx->L, CCZ_ERR_MALFORMED,
               "seeded ciphertext: level %u (the chain has %u data primes)", h[1], ctx->L);
    double scale;
    memcpy(&scale, &sc, 8);
    CCZ_ENSURE(isfinite(scale) && scale >= 1, CCZ_ERR_MALFORMED, "seeded ciphertext: bad scale");
    unpacker u = {c, 0, 0};
    CCZ_GUARD(need(c, packed_bytes(ctx, 1, h[1]), "a seeded ciphertext"));
    CCZ_GUARD(lat_ct_reserve(ct, 2, h[1], false)); /* its storage may have been shrunk */
    CCZ_GUARD(unpack_rns(&u, ctx, ct->d, h[1], NULL, "seeded ciphertext"));
    CCZ_GUARD(finish(c, &u, "seeded ciphertext"));
    lat_prng g;
    ccz_status s = lat_prng_init_seed(&g, seed);
    if (s == CCZ_OK)
        s = lat_sample_uniform(&g, ctx, ctx->primes, h[1], ct->d + (size_t)h[1] * ctx->n);
    lat_prng_free(&g);
    CCZ_GUARD(s);
    ct->size = 2;
    ct->level = h[1];
    ct->ntt = true;
    ct->scale = scale;
    return CCZ_OK;
}

ccz_status ccz_lattice_ciphertext_load(ccz_lattice_ciphertext *ct, const ccz_lattice_context *ctx,
                                       ccz_span in)
{
    CCZ_ENSURE(ct->ctx == ctx, CCZ_ERR_INVALID_ARGUMENT, "a ciphertext of another context");
    ccz_cursor c;
    ccz_cursor_init(&c, in);
    ccz_span head;
    if (ccz_cursor_peek(&c, &head, 6) == CCZ_OK && head.ptr[5] == T_SEEDED)
        return seeded_load(ct, ctx, &c);
    CCZ_GUARD(read_header(&c, ctx, T_CIPHER));
    uint8_t h[3];
    uint64_t sc;
    CCZ_ENSURE(ccz_cursor_copy(&c, h, 3) == CCZ_OK && ccz_cursor_u64le(&c, &sc) == CCZ_OK,
               CCZ_ERR_TRUNCATED, "ciphertext: incomplete");
    CCZ_ENSURE(h[0] >= 2 && h[0] <= 3, CCZ_ERR_MALFORMED, "ciphertext: %u components", h[0]);
    CCZ_ENSURE(h[1] <= ctx->L && h[1] >= 1, CCZ_ERR_MALFORMED,
               "ciphertext: level %u (the chain has %u data primes)", h[1], ctx->L);
    bool want_ntt = ctx->params.scheme == CCZ_LATTICE_CKKS;
    CCZ_ENSURE(h[2] == want_ntt, CCZ_ERR_MALFORMED, "ciphertext: wrong form for the scheme");
    /* a level no BFV ciphertext reaches (ccz_lattice_mod_switch stops above it): Delta would be
     * 0 and it would decrypt to 0 whatever it held */
    CCZ_ENSURE(want_ntt || lat_modulus_above(ctx, h[1], ctx->params.plain_modulus),
               CCZ_ERR_MALFORMED,
               "ciphertext: level %u, whose data primes do not exceed the plain modulus %llu", h[1],
               (unsigned long long)ctx->params.plain_modulus);
    double scale;
    memcpy(&scale, &sc, 8);
    CCZ_ENSURE(ctx->params.scheme == CCZ_LATTICE_BFV || (isfinite(scale) && scale >= 1),
               CCZ_ERR_MALFORMED, "ciphertext: bad scale");
    unpacker u = {&c, 0, 0};
    CCZ_GUARD(need(&c, packed_bytes(ctx, h[0], h[1]), "a ciphertext"));
    CCZ_GUARD(lat_ct_reserve(ct, h[0], h[1], false));
    for (unsigned j = 0; j < h[0]; j++)
        CCZ_GUARD(unpack_rns(&u, ctx, ct->d + (size_t)j * h[1] * ctx->n, h[1], NULL, "ciphertext"));
    CCZ_GUARD(finish(&c, &u, "ciphertext"));
    ct->size = h[0];
    ct->level = h[1];
    ct->ntt = h[2];
    ct->scale = scale;
    return CCZ_OK;
}

ccz_status ccz_lattice_plaintext_save(ccz_buf *out, const ccz_lattice_plaintext *pt)
{
    const ccz_lattice_context *ctx = pt->ctx;
    CCZ_GUARD(header(out, ctx, T_PLAIN));
    packer p = {out, 0, 0, CCZ_OK};
    if (ctx->params.scheme == CCZ_LATTICE_BFV) {
        unsigned w = width(ctx->params.plain_modulus);
        for (size_t x = 0; x < ctx->n; x++)
            pack(&p, pt->coeffs[x], w);
        return pack_end(&p);
    }
    uint64_t sc;
    memcpy(&sc, &pt->scale, 8);
    CCZ_GUARD(ccz_buf_append_u8(out, (uint8_t)pt->poly.np));
    CCZ_GUARD(put_u64(out, sc));
    CCZ_GUARD(pack_rns(&p, ctx, pt->poly.d, pt->poly.np, NULL));
    return pack_end(&p);
}

ccz_status ccz_lattice_plaintext_load(ccz_lattice_plaintext *pt, const ccz_lattice_context *ctx,
                                      ccz_span in)
{
    CCZ_ENSURE(pt->ctx == ctx, CCZ_ERR_INVALID_ARGUMENT, "a plaintext of another context");
    ccz_cursor c;
    ccz_cursor_init(&c, in);
    CCZ_GUARD(read_header(&c, ctx, T_PLAIN));
    unpacker u = {&c, 0, 0};
    if (ctx->params.scheme == CCZ_LATTICE_BFV) {
        uint64_t t = ctx->params.plain_modulus;
        unsigned w = width(t);
        for (size_t x = 0; x < ctx->n; x++) {
            uint64_t v;
            CCZ_GUARD(unpack(&u, w, &v));
            CCZ_ENSURE(v < t, CCZ_ERR_MALFORMED, "plaintext: coefficient %zu is not below t", x);
            pt->coeffs[x] = v;
        }
        return finish(&c, &u, "plaintext");
    }
    uint8_t np;
    uint64_t sc;
    CCZ_ENSURE(ccz_cursor_u8(&c, &np) == CCZ_OK && ccz_cursor_u64le(&c, &sc) == CCZ_OK,
               CCZ_ERR_TRUNCATED, "plaintext: incomplete");
    CCZ_ENSURE(np >= 1 && np <= ctx->L, CCZ_ERR_MALFORMED, "plaintext: level %u", np);
    double scale;
    memcpy(&scale, &sc, 8);
    CCZ_ENSURE(isfinite(scale) && scale >= 1, CCZ_ERR_MALFORMED, "plaintext: bad scale");
    CCZ_GUARD(unpack_rns(&u, ctx, pt->poly.d, np, NULL, "plaintext"));
    CCZ_GUARD(finish(&c, &u, "plaintext"));
    pt->poly.np = np;
    pt->poly.ntt = true;
    pt->scale = scale;
    return CCZ_OK;
}

/* ---- keys --------------------------------------------------------------------------------------*/

ccz_status ccz_lattice_secret_key_save(ccz_buf *out, const ccz_lattice_secret_key *k)
{
    CCZ_GUARD(header(out, k->ctx, T_SECRET));
    packer p = {out, 0, 0, CCZ_OK};
    for (size_t x = 0; x < k->ctx->n; x++) /* 0, 1, 2 for -1, 0, 1 */
        pack(&p, (uint64_t)(k->coeffs[x] + 1), 2);
    return pack_end(&p);
}

ccz_status ccz_lattice_secret_key_load(ccz_lattice_secret_key **out, const ccz_lattice_context *ctx,
                                       ccz_span in)
{
    *out = NULL;
    ccz_cursor c;
    ccz_cursor_init(&c, in);
    CCZ_GUARD(read_header(&c, ctx, T_SECRET));
    size_t n = ctx->n;
    ccz_lattice_secret_key *k = calloc(1, sizeof *k);
    CCZ_ENSURE(k, CCZ_ERR_NOMEM, "out of memory");
    k->ctx = ctx;
    k->coeffs = malloc(n);
    k->s = aligned_alloc(64, (size_t)ctx->k * n * 8);
    ccz_status s = k->coeffs && k->s ? CCZ_OK : ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    unpacker u = {&c, 0, 0};
    for (size_t x = 0; x < n && s == CCZ_OK; x++) {
        uint64_t v;
        s = unpack(&u, 2, &v);
        if (s == CCZ_OK && v > 2)
            s = ccz_fail(CCZ_ERR_MALFORMED, "secret key: coefficient %zu is not ternary", x);
        if (s == CCZ_OK)
            k->coeffs[x] = (int8_t)((int)v - 1);
    }
    if (s == CCZ_OK)
        s = finish(&c, &u, "secret key");
    if (s) {
        ccz_lattice_secret_key_free(k);
        return s;
    }
    lat_small_to_rns(k->coeffs, n, ctx->primes, ctx->k, k->s);
    lat_rns_ntt(ctx, k->s, ctx->k, NULL);
    if ((s = lat_shoup_poly(ctx, k->s, ctx->k, &k->s_w)) != CCZ_OK) {
        ccz_lattice_secret_key_free(k);
        return s;
    }
    *out = k;
    return CCZ_OK;
}

/* A public key's body: b and a over the data primes, then, in keys that have it, b and a modulo
 * the special prime (older files end after the data primes, and load as keys without it). */
ccz_status ccz_lattice_public_key_save(ccz_buf *out, const ccz_lattice_public_key *k)
{
    const ccz_lattice_context *ctx = k->ctx;
    CCZ_GUARD(header(out, ctx, T_PUBLIC));
    packer p = {out, 0, 0, CCZ_OK};
    CCZ_GUARD(pack_rns(&p, ctx, k->b, ctx->L, NULL));
    CCZ_GUARD(pack_rns(&p, ctx, k->a, ctx->L, NULL));
    if (k->np == ctx->k) {
        unsigned sp = ctx->L;
        CCZ_GUARD(pack_rns(&p, ctx, k->b + (size_t)sp * ctx->n, 1, &sp));
        CCZ_GUARD(pack_rns(&p, ctx, k->a + (size_t)sp * ctx->n, 1, &sp));
    }
    return pack_end(&p);
}

ccz_status ccz_lattice_public_key_load(ccz_lattice_public_key **out, const ccz_lattice_context *ctx,
                                       ccz_span in)
{
    *out = NULL;
    ccz_cursor c;
    ccz_cursor_init(&c, in);
    CCZ_GUARD(read_header(&c, ctx, T_PUBLIC));
    CCZ_GUARD(need(&c, packed_bytes(ctx, 2, ctx->L), "a public key"));
    ccz_lattice_public_key *k = calloc(1, sizeof *k);
    CCZ_ENSURE(k, CCZ_ERR_NOMEM, "out of memory");
    k->ctx = ctx;
    k->np = ctx->k;
    size_t words = (size_t)ctx->k * ctx->n;
    k->b = lat_words(words);
    k->a = lat_words(words);
    unpacker u = {&c, 0, 0};
    unsigned sp = ctx->L;
    ccz_status s = k->a && k->b ? CCZ_OK : ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    if (s == CCZ_OK)
        s = unpack_rns(&u, ctx, k->b, ctx->L, NULL, "public key");
    if (s == CCZ_OK)
        s = unpack_rns(&u, ctx, k->a, ctx->L, NULL, "public key");
    /* the special prime's part, unless the file ends here (a key saved without it) */
    if (s == CCZ_OK && ccz_cursor_remaining(&c) + u.n / 8 == 0)
        k->np = ctx->L;
    if (s == CCZ_OK && k->np == ctx->k)
        s = unpack_rns(&u, ctx, k->b + (size_t)sp * ctx->n, 1, &sp, "public key");
    if (s == CCZ_OK && k->np == ctx->k)
        s = unpack_rns(&u, ctx, k->a + (size_t)sp * ctx->n, 1, &sp, "public key");
    if (s == CCZ_OK)
        s = finish(&c, &u, "public key");
    if (s == CCZ_OK)
        s = lat_shoup_poly(ctx, k->b, k->np, &k->b_w);
    if (s == CCZ_OK)
        s = lat_shoup_poly(ctx, k->a, k->np, &k->a_w);
    if (s) {
        ccz_lattice_public_key_free(k);
        return s;
    }
    *out = k;
    return CCZ_OK;
}

static ccz_status pack_ks(packer *p, const ccz_lattice_context *ctx, const lat_kswitch *ks)
{
    size_t per = (size_t)ctx->k * ctx->n;
    for (unsigned i = 0; i < ctx->L; i++) {
        CCZ_GUARD(pack_rns(p, ctx, ks->b + i * per, ctx->k, NULL));
        CCZ_GUARD(pack_rns(p, ctx, ks->a + i * per, ctx->k, NULL));
    }
    return CCZ_OK;
}

static ccz_status unpack_ks(unpacker *u, const ccz_lattice_context *ctx, lat_kswitch *ks,
                            const char *what)
{
    size_t per = (size_t)ctx->k * ctx->n;
    ks->b = aligned_alloc(64, ctx->L * per * 8);
    ks->a = aligned_alloc(64, ctx->L * per * 8);
    CCZ_ENSURE(ks->a && ks->b, CCZ_ERR_NOMEM, "out of memory");
    for (unsigned i = 0; i < ctx->L; i++) {
        CCZ_GUARD(unpack_rns(u, ctx, ks->b + i * per, ctx->k, NULL, what));
        CCZ_GUARD(unpack_rns(u, ctx, ks->a + i * per, ctx->k, NULL, what));
    }
    return lat_kswitch_finish(ctx, ks);
}

ccz_status ccz_lattice_relin_keys_save(ccz_buf *out, const ccz_lattice_relin_keys *k)
{
    CCZ_GUARD(header(out, k->ctx, T_RELIN));
    packer p = {out, 0, 0, CCZ_OK};
    CCZ_GUARD(pack_ks(&p, k->ctx, &k->k));
    return pack_end(&p);
}

ccz_status ccz_lattice_relin_keys_load(ccz_lattice_relin_keys **out, const ccz_lattice_context *ctx,
                                       ccz_span in)
{
    *out = NULL;
    ccz_cursor c;
    ccz_cursor_init(&c, in);
    CCZ_GUARD(read_header(&c, ctx, T_RELIN));
    CCZ_GUARD(need(&c, packed_bytes(ctx, 2 * (uint64_t)ctx->L, ctx->k), "relinearization keys"));
    ccz_lattice_relin_keys *k = calloc(1, sizeof *k);
    CCZ_ENSURE(k, CCZ_ERR_NOMEM, "out of memory");
    k->ctx = ctx;
    unpacker u = {&c, 0, 0};
    ccz_status s = unpack_ks(&u, ctx, &k->k, "relinearization keys");
    if (s == CCZ_OK)
        s = finish(&c, &u, "relinearization keys");
    if (s) {
        ccz_lattice_relin_keys_free(k);
        return s;
    }
    *out = k;
    return CCZ_OK;
}

ccz_status ccz_lattice_galois_keys_save(ccz_buf *out, const ccz_lattice_galois_keys *k)
{
    CCZ_GUARD(header(out, k->ctx, T_GALOIS));
    CCZ_GUARD(put_u64(out, k->n));
    for (size_t i = 0; i < k->n; i++)
        CCZ_GUARD(put_u64(out, k->elts[i]));
    packer p = {out, 0, 0, CCZ_OK};
    for (size_t i = 0; i < k->n; i++)
        CCZ_GUARD(pack_ks(&p, k->ctx, &k->keys[i]));
    return pack_end(&p);
}

ccz_status ccz_lattice_galois_keys_load(ccz_lattice_galois_keys **out,
                                        const ccz_lattice_context *ctx, ccz_span in)
{
    *out = NULL;
    ccz_cursor c;
    ccz_cursor_init(&c, in);
    CCZ_GUARD(read_header(&c, ctx, T_GALOIS));
    uint64_t n;
    CCZ_ENSURE(ccz_cursor_u64le(&c, &n) == CCZ_OK, CCZ_ERR_TRUNCATED, "Galois keys: incomplete");
    CCZ_ENSURE(n >= 1 && n <= 2 * ctx->n, CCZ_ERR_MALFORMED, "Galois keys: %llu keys",
               (unsigned long long)n);
    /* n <= 2N: neither product overflows */
    CCZ_GUARD(need(&c, 8 * n + packed_bytes(ctx, 2 * ctx->L * n, ctx->k), "Galois keys"));
    ccz_lattice_galois_keys *k = calloc(1, sizeof *k);
    CCZ_ENSURE(k, CCZ_ERR_NOMEM, "out of memory");
    k->ctx = ctx;
    k->elts = calloc(n, sizeof *k->elts);
    k->keys = calloc(n, sizeof *k->keys);
    ccz_status s = k->elts && k->keys ? CCZ_OK : ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    for (uint64_t i = 0; i < n && s == CCZ_OK; i++) {
        s = ccz_cursor_u64le(&c, &k->elts[i]) == CCZ_OK
                ? CCZ_OK
                : ccz_fail(CCZ_ERR_TRUNCATED, "Galois keys: the elements end early");
        if (s == CCZ_OK && (k->elts[i] % 2 == 0 || k->elts[i] >= 2 * ctx->n))
            s = ccz_fail(CCZ_ERR_MALFORMED, "Galois keys: %llu is not a Galois element",
                         (unsigned long long)k->elts[i]);
    }
    unpacker u = {&c, 0, 0};
    for (uint64_t i = 0; i < n && s == CCZ_OK; i++) {
        s = unpack_ks(&u, ctx, &k->keys[i], "Galois keys");
        k->n = (size_t)i + 1;
    }
    if (s == CCZ_OK)
        s = finish(&c, &u, "Galois keys");
    if (s) {
        ccz_lattice_galois_keys_free(k);
        return s;
    }
    *out = k;
    return CCZ_OK;
}
