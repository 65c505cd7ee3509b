/* ccz paillier: keys, encryption, decryption and homomorphic operations from the command line,
 * with keys as JSON ({"n", "p", "q"} as decimal strings) and ciphertexts as decimal integers,
 * the forms python-paillier users exchange. Values are signed integers (python-paillier's
 * encoding: negatives as n - |v|). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static const char paillier_usage[] =
    "usage: ccz paillier keygen --bits 2048|3072|4096 -o KEY.json [--public-only] [--djn]\n"
    "       ccz paillier encrypt --key KEY.json VALUE\n"
    "       ccz paillier decrypt --key KEY.json CIPHERTEXT\n"
    "       ccz paillier add --key KEY.json CIPHERTEXT CIPHERTEXT|--plain VALUE\n"
    "       ccz paillier mul --key KEY.json CIPHERTEXT SCALAR\n"
    "       ccz paillier bench [--bits N] [--seconds S] [--threads T]\n"
    "\n"
    "Keys are JSON with n, and p and q for a private key, as decimal strings (--public-only\n"
    "writes n alone; --djn adds hs, the Damgard-Jurik-Nielsen randomizer base, which\n"
    "encryptors then use). VALUE and SCALAR are signed decimal integers of magnitude below\n"
    "n/3; ciphertexts are decimal integers below n^2. encrypt, add and mul print a ciphertext,\n"
    "decrypt the value (exit 1 when it overflowed). bench times each operation on one core and\n"
    "on every core and prints JSON.\n";

enum { OPT_BITS, OPT_OUT, OPT_PUBLIC, OPT_DJN, OPT_KEY, OPT_PLAIN, OPT_SECONDS, OPT_THREADS,
       OPT_HELP };

typedef struct {
    unsigned bits;
    const char *out, *key, *plain;
    bool public_only, djn;
    double seconds;
    unsigned threads;
    const char *ops[4];
    int n_ops;
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
        {"--bits", OPT_BITS, true},         {"--out", OPT_OUT, true},
        {"-o", OPT_OUT, true},              {"--public-only", OPT_PUBLIC, false},
        {"--djn", OPT_DJN, false},          {"--key", OPT_KEY, true},
        {"--plain", OPT_PLAIN, true},       {"--seconds", OPT_SECONDS, true},
        {"--threads", OPT_THREADS, true},   {"--help", OPT_HELP, false},
        {"-h", OPT_HELP, false},
    };
    unsigned long long n;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        bool negative_number = arg[0] == '-' && arg[1] >= '0' && arg[1] <= '9';
        if (arg[0] != '-' || negative_number || !arg[1]) {
            if (a->n_ops == 4)
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
        case OPT_SECONDS:
            a->seconds = atof(v);
            if (a->seconds <= 0 || a->seconds > 600)
                return cli_usage_error("paillier", "--seconds: between 0 and 600");
            break;
        case OPT_THREADS:
            if (cli_number(v, 1024, &n))
                return cli_usage_error("paillier", "--threads: %s", ccz_error_detail());
            a->threads = (unsigned)n;
            break;
        default:
            fputs(paillier_usage, stdout);
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
        s = ccz_paillier_load_json((const char *)b.ptr, b.len, pub, key);
    ccz_buf_free(&b);
    return s ? ccz_fail_context(s, "%s", path) : CCZ_OK;
}

static void print_mpz(const mpz_t v)
{
    mpz_out_str(stdout, 10, v);
    putchar('\n');
}

static int keygen(args *a)
{
    if (!a->bits || !a->out)
        return cli_usage_error("paillier", "keygen needs --bits N and -o KEY.json");
    ccz_paillier_key *k;
    ccz_status s = ccz_paillier_keygen(&k, a->bits);
    if (s)
        return cli_fail(s, "paillier keygen");
    if (a->djn)
        s = ccz_paillier_pub_set_djn(ccz_paillier_key_pub(k), NULL);
    ccz_buf j;
    ccz_buf_init(&j, 0, true);
    if (s == CCZ_OK)
        s = a->public_only ? ccz_paillier_pub_to_json(ccz_paillier_key_pub(k), &j)
                           : ccz_paillier_key_to_json(k, &j);
    if (s == CCZ_OK)
        s = ccz_file_write(a->out, ccz_buf_span(&j), a->public_only ? 0644 : 0600);
    ccz_buf_free(&j);
    ccz_paillier_key_free(k);
    if (s)
        return cli_fail(s, "paillier keygen");
    fprintf(stderr, "wrote a %u-bit Paillier %s key%s to %s\n", a->bits,
            a->public_only ? "public" : "private", a->djn ? " (with DJN h_s)" : "", a->out);
    return EXIT_OK;
}

/* A value as python-paillier encodes an integer: v mod n, |v| <= n/3 - 1. */
static ccz_status encode(const ccz_paillier_pub *pk, mpz_t out, const char *text)
{
    ccz_paillier_encoded e;
    ccz_paillier_encoded_init(&e);
    mpz_t v;
    mpz_init(v);
    ccz_status s = read_int(v, text, "value");
    if (s == CCZ_OK)
        s = ccz_paillier_encode_mpz(pk, &e, v);
    if (s == CCZ_OK)
        mpz_set(out, e.mantissa);
    mpz_clear(v);
    ccz_paillier_encoded_clear(&e);
    return s;
}

static int run_op(const char *op, args *a)
{
    int want = !strcmp(op, "add") && a->plain ? 1 : !strcmp(op, "add") || !strcmp(op, "mul") ? 2 : 1;
    const char *const *ops = a->ops;
    if (a->n_ops != want)
        return cli_usage_error("paillier", "%s takes %d operand%s", op, want, want > 1 ? "s" : "");
    ccz_paillier_pub *pk = NULL;
    ccz_paillier_key *k = NULL;
    ccz_status s = load_key(a->key, &pk, !strcmp(op, "decrypt") ? &k : NULL);
    if (s)
        return cli_fail(s, "paillier %s", op);
    mpz_t x, y, r;
    mpz_inits(x, y, r, NULL);
    int rc = EXIT_OK;
    if (!strcmp(op, "decrypt") && !k) {
        s = ccz_fail(CCZ_ERR_INVALID_ARGUMENT, "%s is a public key: decryption needs p and q",
                     a->key);
    } else if (!strcmp(op, "encrypt")) {
        if ((s = encode(pk, x, ops[0])) == CCZ_OK &&
            (s = ccz_paillier_encrypt(pk, r, x)) == CCZ_OK)
            print_mpz(r);
    } else if (!strcmp(op, "decrypt")) {
        ccz_paillier_encoded e;
        ccz_paillier_encoded_init(&e);
        if ((s = read_int(x, ops[0], "ciphertext")) == CCZ_OK &&
            (s = ccz_paillier_decrypt(k, e.mantissa, x)) == CCZ_OK) {
            s = ccz_paillier_decode_mpz(pk, &e, r);
            if (s == CCZ_OK)
                print_mpz(r);
            else if (s == CCZ_ERR_OVERFLOW)
                rc = EXIT_REJECT;
        }
        ccz_paillier_encoded_clear(&e);
    } else if (!strcmp(op, "add")) {
        if ((s = read_int(x, ops[0], "ciphertext")) == CCZ_OK) {
            if (a->plain) {
                if ((s = encode(pk, y, a->plain)) == CCZ_OK)
                    s = ccz_paillier_add_plain(pk, r, x, y);
            } else if ((s = read_int(y, ops[1], "ciphertext")) == CCZ_OK) {
                s = ccz_paillier_add(pk, r, x, y);
            }
        }
        if (s == CCZ_OK)
            print_mpz(r);
    } else { /* mul */
        mpz_t max;
        mpz_init(max);
        ccz_paillier_max_int(pk, max);
        if ((s = read_int(x, ops[0], "ciphertext")) == CCZ_OK &&
            (s = read_int(y, ops[1], "scalar")) == CCZ_OK) {
            if (mpz_cmpabs(y, max) > 0)
                s = ccz_fail(CCZ_ERR_OVERFLOW, "the scalar's magnitude exceeds n/3");
            else if ((s = ccz_paillier_mul_plain(pk, r, x, y)) == CCZ_OK)
                print_mpz(r);
        }
        mpz_clear(max);
    }
    if (s && rc == EXIT_OK)
        rc = cli_fail(s, "paillier %s", op);
    else if (s)
        fprintf(stderr, "ccz: paillier %s: %s\n", op, ccz_error_detail());
    mpz_clears(x, y, r, NULL);
    if (k)
        ccz_paillier_key_free(k);
    else
        ccz_paillier_pub_free(pk);
    return rc;
}

/* ---- bench -----------------------------------------------------------------------------------*/

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef enum { B_ENC, B_DEC, B_ADD, B_MUL } bench_op;

/* Operations per second of a batch operation over `threads`, repeated for about `secs`. */
static double rate(ccz_paillier_key *k, bench_op op, unsigned threads, double secs, mpz_t *in,
                   mpz_t *in2, mpz_t *out, size_t n)
{
    const ccz_paillier_pub *pk = ccz_paillier_key_pub(k);
    double t0 = now(), t;
    size_t done = 0;
    do {
        ccz_status s = op == B_ENC   ? ccz_paillier_encrypt_batch(pk, out, (const mpz_t *)in, n, threads)
                       : op == B_DEC ? ccz_paillier_decrypt_batch(k, out, (const mpz_t *)in, n, threads)
                       : op == B_ADD ? ccz_paillier_add_batch(pk, out, (const mpz_t *)in,
                                                              (const mpz_t *)in2, n, threads)
                                     : ccz_paillier_mul_plain_batch(pk, out, (const mpz_t *)in,
                                                                    (const mpz_t *)in2, n, threads);
        if (s)
            return -1;
        done += n;
        t = now();
    } while (t - t0 < secs);
    return (double)done / (t - t0);
}

static int bench(args *a)
{
    unsigned bits = a->bits ? a->bits : 2048, all = a->threads ? a->threads : ccz_cpu_count();
    double secs = a->seconds > 0 ? a->seconds : 2;
    /* key generation: keys per second, one after another on one core */
    double t0 = now(), t;
    size_t keys = 0;
    ccz_paillier_key *k = NULL;
    do {
        ccz_paillier_key_free(k);
        ccz_status s = ccz_paillier_keygen(&k, bits);
        if (s)
            return cli_fail(s, "paillier bench");
        keys++;
        t = now();
    } while (t - t0 < secs);
    double keygen_per_s = (double)keys / (t - t0);
    ccz_paillier_pub *pk = ccz_paillier_key_pub(k);
    enum { N = 64 };
    mpz_t m[N], c[N], c2[N], out[N], sc[N], n;
    mpz_init(n);
    ccz_paillier_pub_n(pk, n);
    gmp_randstate_t r;
    gmp_randinit_default(r);
    for (int i = 0; i < N; i++) {
        mpz_inits(m[i], c[i], c2[i], out[i], sc[i], NULL);
        mpz_urandomm(m[i], r, n);
        mpz_urandomb(sc[i], r, 64); /* a 64-bit scalar, as a fixed-point weight */
    }
    if (ccz_paillier_encrypt_batch(pk, c, (const mpz_t *)m, N, 0) ||
        ccz_paillier_encrypt_batch(pk, c2, (const mpz_t *)m, N, 0))
        return cli_fail(CCZ_ERR_CRYPTO, "paillier bench: %s", ccz_error_detail());
    printf("{\n  \"bits\": %u, \"ifma\": %s, \"threads\": %u, \"keygen_per_s\": %.2f,\n", bits,
           ccz_paillier_ifma() ? "true" : "false", all, keygen_per_s);
    static const char *const names[] = {"encrypt", "decrypt", "add", "mul"};
    for (int djn = 0; djn < 2; djn++) {
        /* with DJN, the first encryption builds the fixed-base table: not timed */
        if (djn && (ccz_paillier_pub_set_djn(pk, NULL) ||
                    ccz_paillier_encrypt_batch(pk, out, (const mpz_t *)m, 1, 1)))
            return cli_fail(CCZ_ERR_CRYPTO, "paillier bench: %s", ccz_error_detail());
        for (int op = 0; op < 4; op++) {
            if (djn && op != B_ENC)
                continue;
            mpz_t *in = op == B_ENC ? m : c, *in2 = op == B_ADD ? c2 : sc;
            double one = rate(k, (bench_op)op, 1, secs, in, in2, out, N);
            double many = rate(k, (bench_op)op, all, secs, in, in2, out, N);
            printf("  \"%s%s_per_s\": {\"one_core\": %.0f, \"all_cores\": %.0f},\n", names[op],
                   djn ? "_djn" : "", one, many);
        }
    }
    /* the physical reference: one GMP mpz_powm of encryption's size (r^n mod n^2) */
    mpz_t n2, x;
    mpz_inits(n2, x, NULL);
    mpz_mul(n2, n, n);
    double t1 = now();
    size_t done = 0;
    do {
        mpz_powm(x, m[done % N], n, n2);
        done++;
        t = now();
    } while (t - t1 < secs);
    printf("  \"gmp_powm_n_mod_n2_per_s\": %.0f\n}\n", (double)done / (t - t1));
    for (int i = 0; i < N; i++)
        mpz_clears(m[i], c[i], c2[i], out[i], sc[i], NULL);
    mpz_clears(n, n2, x, NULL);
    gmp_randclear(r);
    ccz_paillier_key_free(k);
    return EXIT_OK;
}

int cmd_paillier(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(paillier_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    const char *op = argv[1];
    args a = {0};
    int r = parse(&a, argc - 1, argv + 1);
    if (r)
        return r < 0 ? EXIT_OK : r;
    if (!strcmp(op, "keygen") || !strcmp(op, "bench")) {
        if (a.n_ops)
            return cli_usage_error("paillier", "unexpected '%s'", a.ops[0]);
        return !strcmp(op, "keygen") ? keygen(&a) : bench(&a);
    }
    if (!strcmp(op, "encrypt") || !strcmp(op, "decrypt") || !strcmp(op, "add") ||
        !strcmp(op, "mul"))
        return run_op(op, &a);
    return cli_usage_error("paillier", "unknown paillier command '%s'", op);
}
