/* SPDX-License-Identifier: Apache-2.0 */
/* ccz paillier: keys, encryption, decryption and homomorphic operations from the command line.
 * Keys are JSON in ccz's form ({"n", "p", "q"} as decimal strings), python-paillier's (JSON
 * numbers) or pheutil's JWK; ciphertexts are decimal integers or encrypted numbers as JSON in
 * any of those forms. Values are signed integers or reals, encoded as python-paillier encodes
 * them (mantissa * 16^exponent, negatives as n - |v|). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static const char paillier_usage[] =
    "usage: ccz paillier keygen --bits 2048|3072|4096 -o KEY.json [--public-only] [--djn]\n"
    "                           [--format ccz|jwk|phe]\n"
    "       ccz paillier encrypt --key KEY.json [--format F] VALUE...\n"
    "       ccz paillier decrypt --key KEY.json CIPHERTEXT|-\n"
    "       ccz paillier add --key KEY.json [--format F] CIPHERTEXT CIPHERTEXT|--plain VALUE\n"
    "       ccz paillier mul --key KEY.json [--format F] CIPHERTEXT SCALAR\n"
    "       ccz paillier bench [--bits N] [--seconds S] [--threads T]\n"
    "\n"
    "Keys are read in any of three forms: ccz's JSON (n, and p and q for a private key, as\n"
    "decimal strings; --djn adds hs, the Damgard-Jurik-Nielsen randomizer base), python-\n"
    "paillier's ({\"g\", \"n\"} as JSON numbers, or its {\"public_key\", \"values\"} document)\n"
    "and pheutil's JWK (kty DAJ; p and q, or lambda and mu). keygen writes the form --format\n"
    "names (ccz by default; --public-only writes the public key alone). Keys below 2048 bits\n"
    "are for tests only (a warning says so).\n"
    "\n"
    "VALUE and SCALAR are signed decimal integers of magnitude below n/3, or reals (3.5, 1e-10),\n"
    "encoded as python-paillier encodes them. A CIPHERTEXT is a decimal integer below n^2 (an\n"
    "integer, exponent 0) or an encrypted number as JSON: {\"ciphertext\", \"exponent\"},\n"
    "pheutil's {\"v\", \"e\"} or python-paillier's [ciphertext, exponent]; '-' reads it from\n"
    "standard input, where python-paillier's {\"public_key\", \"values\"} document is read too.\n"
    "encrypt (one line per VALUE, at most 64), add and mul print a ciphertext: a decimal integer\n"
    "when the exponent is 0 and no --format is given, else JSON in the form --format names.\n"
    "decrypt prints each value on its\n"
    "own line, as python-paillier decodes it: an integer for an exponent >= 0, a real otherwise\n"
    "(exit 1 when it overflowed). bench times each operation on one core and on every core and\n"
    "prints JSON.\n";

enum {
    OPT_BITS,
    OPT_OUT,
    OPT_PUBLIC,
    OPT_DJN,
    OPT_KEY,
    OPT_PLAIN,
    OPT_SECONDS,
    OPT_THREADS,
    OPT_FORMAT,
    OPT_HELP
};

typedef struct {
    unsigned bits;
    const char *out, *key, *plain;
    bool public_only, djn, has_format;
    ccz_paillier_json_format format;
    double seconds;
    unsigned threads;
    const char *ops[64];
    int n_ops;
    unsigned given;                 /* 1 << OPT_* of each option given */
    const char *given_as[OPT_HELP]; /* how the command line spelled it */
} args;

/* Options anywhere; everything else (negative numbers included) is an operand, kept in order
 * in a->ops. */
static int parse(args *a, int argc, char **argv)
{
    static const struct {
        const char *name;
        int id;
        bool arg;
    } opts[] = {
        {"--bits", OPT_BITS, true},
        {"--out", OPT_OUT, true},
        {"-o", OPT_OUT, true},
        {"--public-only", OPT_PUBLIC, false},
        {"--djn", OPT_DJN, false},
        {"--key", OPT_KEY, true},
        {"--plain", OPT_PLAIN, true},
        {"--seconds", OPT_SECONDS, true},
        {"--threads", OPT_THREADS, true},
        {"--format", OPT_FORMAT, true},
        {"--help", OPT_HELP, false},
        {"-h", OPT_HELP, false},
    };
    unsigned long long n;
    bool operands_only = false; /* after "--" */
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        bool negative_number = arg[0] == '-' && ((arg[1] >= '0' && arg[1] <= '9') || arg[1] == '.');
        if (!operands_only && !strcmp(arg, "--")) {
            operands_only = true;
            continue;
        }
        if (operands_only || arg[0] != '-' || negative_number || !arg[1]) {
            if (a->n_ops == (int)(sizeof a->ops / sizeof a->ops[0]))
                return cli_usage_error("paillier", "too many operands");
            a->ops[a->n_ops++] = arg;
            continue;
        }
        int id = -1;
        size_t k;
        for (k = 0; k < sizeof opts / sizeof opts[0]; k++)
            if (!strcmp(arg, opts[k].name)) {
                id = opts[k].id;
                break;
            }
        if (id < 0)
            return cli_usage_error("paillier", "unknown option '%s'", arg);
        if (id != OPT_HELP) {
            if (opts[k].arg && (a->given >> id & 1))
                return cli_usage_error("paillier", "'%s' is given twice; give it once", arg);
            a->given |= 1u << id;
            a->given_as[id] = arg;
        }
        const char *v = NULL;
        if (opts[k].arg) {
            if (i + 1 >= argc)
                return cli_usage_error("paillier", "%s needs a value", arg);
            v = argv[++i];
        }
        switch (id) {
        case OPT_BITS:
            if (cli_number(v, 8192, &n))
                return cli_usage_error("paillier", "--bits: %s", ccz_error_detail());
            a->bits = (unsigned)n;
            break;
        case OPT_OUT:
            a->out = v;
            break;
        case OPT_PUBLIC:
            a->public_only = true;
            break;
        case OPT_DJN:
            a->djn = true;
            break;
        case OPT_KEY:
            a->key = v;
            break;
        case OPT_PLAIN:
            a->plain = v;
            break;
        case OPT_FORMAT:
            if (!strcmp(v, "ccz"))
                a->format = CCZ_PAILLIER_JSON_CCZ;
            else if (!strcmp(v, "jwk"))
                a->format = CCZ_PAILLIER_JSON_JWK;
            else if (!strcmp(v, "phe"))
                a->format = CCZ_PAILLIER_JSON_PHE;
            else
                return cli_usage_error("paillier", "--format: ccz, jwk or phe, not '%s'", v);
            a->has_format = true;
            break;
        case OPT_SECONDS:
            if (cli_seconds(v, 600, &a->seconds) != CCZ_OK)
                return cli_usage_error("paillier", "--seconds: %s", ccz_error_detail());
            break;
        case OPT_THREADS:
            if (cli_number(v, 1024, &n))
                return cli_usage_error("paillier", "--threads: %s", ccz_error_detail());
            a->threads = (unsigned)n;
            break;
        default:
            fputs(paillier_usage, stdout); /* the group's usage (paillier_group) */
            return -1;
        }
    }
    return EXIT_OK;
}

/* A signed decimal integer (digits only, optional leading '-'). */
static ccz_status read_int(mpz_t v, const char *s, const char *what)
{
    const char *d = s[0] == '-' ? s + 1 : s;
    CCZ_ENSURE(d[0] && strlen(d) <= 5000 && strspn(d, "0123456789") == strlen(d),
               CCZ_ERR_INVALID_ARGUMENT, "%s '%.40s' is not a decimal integer", what, s);
    CCZ_ENSURE(mpz_set_str(v, s, 10) == 0, CCZ_ERR_INVALID_ARGUMENT,
               "%s '%.40s' is not a decimal integer", what, s);
    return CCZ_OK;
}

static ccz_status load_key(const char *path, ccz_paillier_pub **pub, ccz_paillier_key **key)
{
    CCZ_ENSURE(path, CCZ_ERR_INVALID_ARGUMENT, "--key KEY.json is required");
    ccz_buf b;
    ccz_buf_init(&b, 1 << 20, true);
    ccz_status s = ccz_file_read(&b, path, 1 << 20);
    if (s == CCZ_OK)
        s = ccz_paillier_load_json(pub, key, (const char *)b.ptr, b.len);
    ccz_buf_free(&b);
    if (s)
        return ccz_fail_context(s, "%s", path);
    if (ccz_paillier_bits(*pub) < 2048)
        fprintf(stderr,
                "ccz: warning: %s: a %u-bit Paillier key is too short to protect data "
                "(use 2048 bits or more); it is for tests only\n",
                path, ccz_paillier_bits(*pub));
    return CCZ_OK;
}

static void print_mpz(const mpz_t v)
{
    mpz_out_str(stdout, 10, v);
    putchar('\n');
}

/* A double as Python's repr() prints it: the shortest digits that read back to the same
 * value, positional for decimal exponents in [-4, 16), else d.ddde+XX. */
static void print_double(double d)
{
    char e[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(e, sizeof e, "%.*e", prec - 1, d);
        if (strtod(e, NULL) == d)
            break;
    }
    char digits[24];
    size_t nd = 0;
    const char *at = e;
    bool neg = *at == '-';
    if (neg)
        at++;
    for (; *at && *at != 'e'; at++)
        if (*at >= '0' && *at <= '9')
            digits[nd++] = *at;
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    digits[nd] = '\0';
    int exp10 = atoi(at + 1);
    char out[400];
    size_t o = 0;
    if (neg)
        out[o++] = '-';
    if (exp10 >= 16 || exp10 < -4) {
        out[o++] = digits[0];
        if (nd > 1) {
            out[o++] = '.';
            memcpy(out + o, digits + 1, nd - 1);
            o += nd - 1;
        }
        o += (size_t)snprintf(out + o, sizeof out - o, "e%c%02d", exp10 < 0 ? '-' : '+',
                              exp10 < 0 ? -exp10 : exp10);
    } else if (exp10 >= 0) {
        for (int i = 0; i <= exp10; i++)
            out[o++] = (size_t)i < nd ? digits[i] : '0';
        out[o++] = '.';
        if (nd > (size_t)exp10 + 1) {
            memcpy(out + o, digits + exp10 + 1, nd - (size_t)exp10 - 1);
            o += nd - (size_t)exp10 - 1;
        } else {
            out[o++] = '0';
        }
    } else {
        out[o++] = '0';
        out[o++] = '.';
        for (int i = -1; i > exp10; i--)
            out[o++] = '0';
        memcpy(out + o, digits, nd);
        o += nd;
    }
    out[o] = '\0';
    puts(out);
}

static int keygen(args *a)
{
    if (!a->bits || !a->out)
        return cli_usage_error("paillier", "keygen needs --bits N and -o KEY.json");
    if (a->djn && a->format != CCZ_PAILLIER_JSON_CCZ)
        return cli_usage_error("paillier", "--djn: only ccz's form carries hs");
    if (ccz_file_exists(a->out)) /* a private key replaced is data lost for good */
        return cli_fail(ccz_fail(CCZ_ERR_EXISTS, "%s exists (ccz never overwrites a key)", a->out),
                        "paillier keygen");
    ccz_paillier_key *k;
    ccz_status s = ccz_paillier_keygen(&k, a->bits);
    if (s)
        return cli_fail(s, "paillier keygen");
    if (a->bits < 2048)
        fprintf(stderr,
                "ccz: warning: a %u-bit Paillier key is too short to protect data (use "
                "2048 bits or more); it is for tests only\n",
                a->bits);
    if (a->djn)
        s = ccz_paillier_pub_set_djn(ccz_paillier_key_pub(k), NULL);
    ccz_buf j;
    ccz_buf_init(&j, 0, true);
    if (s == CCZ_OK)
        s = a->public_only ? ccz_paillier_pub_write_json(&j, ccz_paillier_key_pub(k), a->format)
                           : ccz_paillier_key_write_json(&j, k, a->format);
    if (s == CCZ_OK)
        s = ccz_file_create(a->out, ccz_buf_span(&j), a->public_only ? 0644 : 0600);
    ccz_buf_free(&j);
    ccz_paillier_key_free(k);
    if (s)
        return cli_fail(s, "paillier keygen");
    fprintf(stderr, "wrote a %u-bit Paillier %s key%s to %s\n", a->bits,
            a->public_only ? "public" : "private", a->djn ? " (with DJN h_s)" : "", a->out);
    return EXIT_OK;
}

/* A value as python-paillier encodes it: an integer at exponent 0, or a real as exactly as a
 * double allows. */
static ccz_status encode(const ccz_paillier_pub *pk, ccz_paillier_encoded *e, const char *text)
{
    const char *d = text[0] == '-' ? text + 1 : text;
    if (d[0] && strspn(d, "0123456789") == strlen(d)) {
        mpz_t v;
        mpz_init(v);
        ccz_status s = read_int(v, text, "value");
        if (s == CCZ_OK)
            s = ccz_paillier_encode_mpz(e, pk, v);
        mpz_clear(v);
        return s;
    }
    char *end;
    CCZ_ENSURE(strlen(text) <= 64 && strspn(d, "0123456789.eE+-") == strlen(d),
               CCZ_ERR_INVALID_ARGUMENT, "value '%.40s' is not a decimal integer or real", text);
    double v = strtod(text, &end);
    CCZ_ENSURE(end != text && *end == '\0' && isfinite(v), CCZ_ERR_INVALID_ARGUMENT,
               "value '%.40s' is not a decimal integer or a finite real", text);
    return ccz_paillier_encode_double(e, pk, v, 0);
}

/* Encrypted numbers from an operand: a decimal ciphertext (exponent 0), JSON, or '-' for
 * standard input (JSON or decimal; python-paillier's document of many values too). */
static ccz_status read_numbers(const ccz_paillier_pub *pk, const char *text,
                               ccz_paillier_number **x, size_t *count)
{
    ccz_buf in;
    ccz_buf_init(&in, 4u << 20, false);
    ccz_status s = CCZ_OK;
    if (!strcmp(text, "-")) {
        char chunk[65536];
        size_t got;
        while (s == CCZ_OK && (got = fread(chunk, 1, sizeof chunk, stdin)) > 0)
            s = ccz_buf_append(&in, chunk, got);
        if (s == CCZ_OK)
            s = ccz_buf_append_u8(&in, 0);
        if (s == CCZ_OK) {
            in.len--;
            while (in.len && strchr(" \t\r\n", in.ptr[in.len - 1]))
                in.ptr[--in.len] = 0;
            text = (const char *)in.ptr;
        }
        text += strspn(text, " \t\r\n");
    }
    if (s == CCZ_OK && (text[0] == '{' || text[0] == '[')) {
        s = ccz_paillier_numbers_from_json(x, count, pk, text, strlen(text));
    } else if (s == CCZ_OK) {
        *x = calloc(1, sizeof **x);
        s = *x ? CCZ_OK : ccz_fail(CCZ_ERR_NOMEM, "out of memory");
        if (s == CCZ_OK) {
            ccz_paillier_number_init(*x);
            *count = 1;
            s = read_int((*x)->c, text, "ciphertext");
        }
        if (s) {
            ccz_paillier_numbers_free(*x, *x ? 1 : 0);
            *x = NULL;
            *count = 0;
        }
    }
    ccz_buf_free(&in);
    return s;
}

/* One encrypted number from an operand. */
static ccz_status read_number(const ccz_paillier_pub *pk, const char *text,
                              ccz_paillier_number *out)
{
    ccz_paillier_number *x;
    size_t count;
    CCZ_GUARD(read_numbers(pk, text, &x, &count));
    ccz_status s = count == 1 ? CCZ_OK
                              : ccz_fail(CCZ_ERR_INVALID_ARGUMENT,
                                         "one encrypted number "
                                         "expected, not %zu",
                                         count);
    if (s == CCZ_OK) {
        mpz_swap(out->c, x->c);
        out->exponent = x->exponent;
    }
    ccz_paillier_numbers_free(x, count);
    return s;
}

static ccz_status print_number(const args *a, const ccz_paillier_number *x)
{
    if (!a->has_format && x->exponent == 0) {
        print_mpz(x->c);
        return CCZ_OK;
    }
    ccz_buf j = CCZ_BUF_INIT;
    ccz_status s = ccz_paillier_number_write_json(&j, x, a->format);
    if (s == CCZ_OK)
        printf("%.*s\n", (int)j.len, (const char *)j.ptr);
    ccz_buf_free(&j);
    return s;
}

/* Decrypts and prints each number as python-paillier decodes it. */
static ccz_status decrypt_print(const ccz_paillier_key *k, const ccz_paillier_number *x,
                                size_t count, int *rc)
{
    const ccz_paillier_pub *pk = ccz_paillier_key_pub(k);
    ccz_paillier_encoded e;
    ccz_paillier_encoded_init(&e);
    mpz_t v;
    mpz_init(v);
    ccz_status s = CCZ_OK;
    for (size_t i = 0; i < count && s == CCZ_OK; i++) {
        s = ccz_paillier_decrypt_encoded(&e, k, &x[i]);
        if (s)
            break;
        double d;
        if (e.exponent >= 0 && (s = ccz_paillier_decode_mpz(v, pk, &e)) == CCZ_OK)
            print_mpz(v);
        else if (e.exponent < 0 && (s = ccz_paillier_decode_double(&d, pk, &e)) == CCZ_OK)
            print_double(d);
        if (s == CCZ_ERR_OVERFLOW)
            *rc = EXIT_REJECT;
    }
    mpz_clear(v);
    ccz_paillier_encoded_clear(&e);
    return s;
}

static int run_op(const char *op, args *a)
{
    int want = !strcmp(op, "add") && a->plain             ? 1
               : !strcmp(op, "add") || !strcmp(op, "mul") ? 2
                                                          : 1;
    const char *const *ops = a->ops;
    if (!strcmp(op, "encrypt") && a->n_ops < 1)
        return cli_usage_error("paillier", "encrypt takes one or more values");
    if (strcmp(op, "encrypt") && a->n_ops != want)
        return cli_usage_error("paillier", "%s takes %d operand%s", op, want, want > 1 ? "s" : "");
    ccz_paillier_pub *pk = NULL;
    ccz_paillier_key *k = NULL;
    ccz_status s = load_key(a->key, &pk, !strcmp(op, "decrypt") ? &k : NULL);
    if (s)
        return cli_fail(s, "paillier %s", op);
    ccz_paillier_number x, y, r;
    ccz_paillier_number_init(&x);
    ccz_paillier_number_init(&y);
    ccz_paillier_number_init(&r);
    ccz_paillier_encoded e;
    ccz_paillier_encoded_init(&e);
    int rc = EXIT_OK;
    if (!strcmp(op, "decrypt") && !k) {
        s = ccz_fail(CCZ_ERR_INVALID_ARGUMENT, "%s is a public key: decryption needs p and q",
                     a->key);
    } else if (!strcmp(op, "encrypt")) {
        for (int i = 0; i < a->n_ops && s == CCZ_OK; i++)
            if ((s = encode(pk, &e, ops[i])) == CCZ_OK &&
                (s = ccz_paillier_encrypt_encoded(&r, pk, &e)) == CCZ_OK)
                s = print_number(a, &r);
    } else if (!strcmp(op, "decrypt")) {
        ccz_paillier_number *all = NULL;
        size_t count = 0;
        if ((s = read_numbers(pk, ops[0], &all, &count)) == CCZ_OK)
            s = decrypt_print(k, all, count, &rc);
        ccz_paillier_numbers_free(all, count);
    } else if (!strcmp(op, "add")) {
        if ((s = read_number(pk, ops[0], &x)) == CCZ_OK) {
            if (a->plain) {
                if ((s = encode(pk, &e, a->plain)) == CCZ_OK)
                    s = ccz_paillier_number_add_encoded(&r, pk, &x, &e);
            } else if ((s = read_number(pk, ops[1], &y)) == CCZ_OK) {
                s = ccz_paillier_number_add(&r, pk, &x, &y);
            }
        }
        if (s == CCZ_OK)
            s = print_number(a, &r);
    } else { /* mul */
        if ((s = read_number(pk, ops[0], &x)) == CCZ_OK && (s = encode(pk, &e, ops[1])) == CCZ_OK &&
            (s = ccz_paillier_number_mul_encoded(&r, pk, &x, &e)) == CCZ_OK)
            s = print_number(a, &r);
    }
    if (s && rc == EXIT_OK)
        rc = cli_fail(s, "paillier %s", op);
    else if (s)
        fprintf(stderr, "ccz: paillier %s: %s\n", op, ccz_error_detail());
    ccz_paillier_number_clear(&x);
    ccz_paillier_number_clear(&y);
    ccz_paillier_number_clear(&r);
    ccz_paillier_encoded_clear(&e);
    if (k)
        ccz_paillier_key_free(k);
    else
        ccz_paillier_pub_free(pk);
    return rc;
}

/* ---- bench -----------------------------------------------------------------------------------*/

typedef enum { B_ENC, B_DEC, B_ADD, B_MUL } bench_op;

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Operations per second of a batch operation over `threads`, repeated for about `secs`; *cpu_us
 * gets the process's CPU time per operation (every thread's). */
static double rate(ccz_paillier_key *k, bench_op op, unsigned threads, double secs, mpz_t *in,
                   mpz_t *in2, mpz_t *out, size_t n, double *cpu_us)
{
    const ccz_paillier_pub *pk = ccz_paillier_key_pub(k);
    double t0 = cli_now(), c0 = cpu_now(), t;
    size_t done = 0;
    do {
        ccz_status s =
            op == B_ENC   ? ccz_paillier_encrypt_batch(out, pk, (const mpz_t *)in, n, threads)
            : op == B_DEC ? ccz_paillier_decrypt_batch(out, k, (const mpz_t *)in, n, threads)
            : op == B_ADD
                ? ccz_paillier_add_batch(out, pk, (const mpz_t *)in, (const mpz_t *)in2, n, threads)
                : ccz_paillier_mul_plain_batch(out, pk, (const mpz_t *)in, (const mpz_t *)in2, n,
                                               threads);
        if (s)
            return -1;
        done += n;
        t = cli_now();
    } while (t - t0 < secs);
    *cpu_us = 1e6 * (cpu_now() - c0) / (double)done;
    return (double)done / (t - t0);
}

static int bench(args *a)
{
    unsigned bits = a->bits ? a->bits : 2048, all = a->threads ? a->threads : ccz_cpu_count();
    double secs = a->seconds > 0 ? a->seconds : 2;
    /* key generation: keys per second, one after another on one core */
    double t0 = cli_now(), c0 = cpu_now(), t;
    size_t keys = 0;
    ccz_paillier_key *k = NULL;
    do {
        ccz_paillier_key_free(k);
        ccz_status s = ccz_paillier_keygen(&k, bits);
        if (s)
            return cli_fail(s, "paillier bench");
        keys++;
        t = cli_now();
    } while (t - t0 < secs);
    double keygen_per_s = (double)keys / (t - t0);
    double keygen_cpu_us = 1e6 * (cpu_now() - c0) / (double)keys;
    ccz_paillier_pub *pk = ccz_paillier_key_pub(k);
    enum { N = 64 };
    mpz_t m[N], c[N], c2[N], out[N], sc[N], n;
    mpz_init(n);
    ccz_paillier_pub_n(n, pk);
    gmp_randstate_t r;
    gmp_randinit_default(r);
    for (int i = 0; i < N; i++) {
        mpz_inits(m[i], c[i], c2[i], out[i], sc[i], NULL);
        mpz_urandomm(m[i], r, n);
        mpz_urandomb(sc[i], r, 64); /* a 64-bit scalar, as a fixed-point weight */
    }
    if (ccz_paillier_encrypt_batch(c, pk, (const mpz_t *)m, N, 0) ||
        ccz_paillier_encrypt_batch(c2, pk, (const mpz_t *)m, N, 0))
        return cli_fail(CCZ_ERR_CRYPTO, "paillier bench: %s", ccz_error_detail());
    printf("{\n  \"bits\": %u, \"ifma\": %s, \"threads\": %u, \"keygen_per_s\": %.2f, "
           "\"keygen_cpu_us\": %.0f,\n",
           bits, ccz_paillier_ifma() ? "true" : "false", all, keygen_per_s, keygen_cpu_us);
    static const char *const names[] = {"encrypt", "decrypt", "add", "mul"};
    for (int djn = 0; djn < 2; djn++) {
        /* with DJN, the first encryption builds the fixed-base table: not timed */
        if (djn && (ccz_paillier_pub_set_djn(pk, NULL) ||
                    ccz_paillier_encrypt_batch(out, pk, (const mpz_t *)m, 1, 1)))
            return cli_fail(CCZ_ERR_CRYPTO, "paillier bench: %s", ccz_error_detail());
        for (int op = 0; op < 4; op++) {
            if (djn && op != B_ENC)
                continue;
            mpz_t *in = op == B_ENC ? m : c, *in2 = op == B_ADD ? c2 : sc;
            double one_cpu = 0, many_cpu = 0;
            double one = rate(k, (bench_op)op, 1, secs, in, in2, out, N, &one_cpu);
            /* --threads 1: "every core" is the one-core run */
            double many =
                all > 1 ? rate(k, (bench_op)op, all, secs, in, in2, out, N, &many_cpu) : one;
            if (all <= 1)
                many_cpu = one_cpu;
            printf("  \"%s%s_per_s\": {\"one_core\": %.0f, \"all_cores\": %.0f, "
                   "\"one_core_cpu_us\": %.2f, \"all_cores_cpu_us\": %.2f},\n",
                   names[op], djn ? "_djn" : "", one, many, one_cpu, many_cpu);
        }
    }
    /* the physical reference: one GMP mpz_powm of encryption's size (r^n mod n^2) */
    mpz_t n2, x;
    mpz_inits(n2, x, NULL);
    mpz_mul(n2, n, n);
    double t1 = cli_now();
    size_t done = 0;
    do {
        mpz_powm(x, m[done % N], n, n2);
        done++;
        t = cli_now();
    } while (t - t1 < secs);
    printf("  \"gmp_powm_n_mod_n2_per_s\": %.0f\n}\n", (double)done / (t - t1));
    for (int i = 0; i < N; i++)
        mpz_clears(m[i], c[i], c2[i], out[i], sc[i], NULL);
    mpz_clears(n, n2, x, NULL);
    gmp_randclear(r);
    ccz_paillier_key_free(k);
    return EXIT_OK;
}

/* keygen, encrypt, ..., bench (argv[0]) and their options and operands */
static int paillier_command(int argc, char **argv)
{
    const char *op = argv[0];
    args a = {0};
    int r = parse(&a, argc, argv);
    if (r)
        return r < 0 ? EXIT_OK : r;
    if (a.has_format && (!strcmp(op, "decrypt") || !strcmp(op, "bench")))
        return cli_usage_error("paillier", "--format: %s writes no key or ciphertext", op);
    /* each operation takes its own options and no other: one that would do nothing is refused */
    unsigned takes = !strcmp(op, "keygen") ? 1u << OPT_BITS | 1u << OPT_OUT | 1u << OPT_PUBLIC |
                                                 1u << OPT_DJN | 1u << OPT_FORMAT
                     : !strcmp(op, "bench") ? 1u << OPT_BITS | 1u << OPT_SECONDS | 1u << OPT_THREADS
                     : !strcmp(op, "add")   ? 1u << OPT_KEY | 1u << OPT_FORMAT | 1u << OPT_PLAIN
                     : !strcmp(op, "decrypt") ? 1u << OPT_KEY
                                              : 1u << OPT_KEY | 1u << OPT_FORMAT;
    for (int id = 0; id < OPT_HELP; id++)
        if ((a.given & ~takes) >> id & 1)
            return cli_usage_error("paillier", "'%s' does nothing for 'paillier %s'",
                                   a.given_as[id], op);
    if (!strcmp(op, "keygen") || !strcmp(op, "bench")) {
        if (a.n_ops)
            return cli_usage_error("paillier", "unexpected '%s'", a.ops[0]);
        return !strcmp(op, "keygen") ? keygen(&a) : bench(&a);
    }
    return run_op(op, &a);
}

static const cli_command paillier_cmds[] = {
    {"keygen", paillier_command, NULL, 0},  {"encrypt", paillier_command, NULL, 0},
    {"decrypt", paillier_command, NULL, 0}, {"add", paillier_command, NULL, 0},
    {"mul", paillier_command, NULL, 0},     {"bench", paillier_command, NULL, 0},
};
static const cli_group paillier_group =
    CLI_GROUP("paillier", paillier_usage, paillier_cmds, "paillier command", NULL, NULL);

int cmd_paillier(int argc, char **argv)
{
    return cli_dispatch(&paillier_group, argc, argv);
}
