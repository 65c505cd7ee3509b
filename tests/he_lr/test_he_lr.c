/* SPDX-License-Identifier: Apache-2.0 */
/* Encrypted LR inference without the network: CCZoo's model and data files and hostile ones;
 * the cleartext model's accuracy on CCZoo's 2,000 samples (0.944); the HE evaluation of every
 * sample, with the 128-bit-secure preset and with the HE toolkit's chain, against the cleartext
 * polynomial (the same class for each sample, the probability within 1e-5); the parameter checks;
 * and ciphertexts the evaluation must refuse (truncated, oversized, another context's, too low,
 * at another scale, unrelinearized). CCZoo's files are read in place (../shared/data). */
#include <libgen.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ccz/he_lr.h"
#include "test.h"

static char data_dir[1024];

/* $CCZ_DATA, else the data folder beside the vectors (../shared/data) */
static const char *shared_data(void)
{
    if (data_dir[0])
        return data_dir;
    const char *env = getenv("CCZ_DATA"), *vec = getenv("CCZ_VECTORS"),
               *src = getenv("CCZ_SOURCE_DIR");
    if (env && env[0]) {
        snprintf(data_dir, sizeof data_dir, "%s", env);
    } else if (vec && vec[0]) {
        char tmp[1024];
        snprintf(tmp, sizeof tmp, "%s", vec);
        snprintf(data_dir, sizeof data_dir, "%s/data", dirname(tmp));
    } else {
        snprintf(data_dir, sizeof data_dir, "%s/../shared/data", src && src[0] ? src : ".");
    }
    return data_dir;
}

static void load_cczoo(ccz_he_lr_model *m, ccz_he_lr_data *d)
{
    char mp[1200], dp[1200];
    snprintf(mp, sizeof mp, "%s/cczoo/lr_infer_he_sgx/datasets/lrtest_mid_lrmodel.csv",
             shared_data());
    snprintf(dp, sizeof dp, "%s/cczoo/lr_infer_he_sgx/datasets/lrtest_mid_eval.csv", shared_data());
    if (!ccz_file_exists(mp) || !ccz_file_exists(dp))
        test_skip(false, "CCZoo's LR data set is absent at %s (set CCZ_DATA)", dp);
    int before = test_failures;
    CHECK_OK(ccz_he_lr_model_load(m, mp));
    CHECK_OK(ccz_he_lr_data_load(d, dp));
    if (test_failures != before) /* nothing after can run on files that did not load */
        exit(1);
}

/* ---- files -------------------------------------------------------------------------------------*/

static void test_files(void)
{
    ccz_he_lr_model m;
    ccz_he_lr_data d;
    CHECK_OK(ccz_he_lr_model_parse(&m, CCZ_LIT("-0.5, 1.25,2e-1\r\n\r\n")));
    CHECK_INT(m.features, 2);
    CHECK(m.features == 2 && m.bias == -0.5 && m.weights[0] == 1.25 && m.weights[1] == 0.2);
    ccz_he_lr_model_free(&m);
    CHECK_OK(ccz_he_lr_data_parse(&d, CCZ_LIT("a,b,target\r\n1,2,0\r\n-3.5,0x1p2,1")));
    CHECK_INT(d.rows, 2);
    CHECK_INT(d.features, 2);
    CHECK(d.rows == 2 && d.features == 2 && d.x[0] == 1 && d.x[3] == 4 && d.y[0] == 0 &&
          d.y[1] == 1); /* (what was read only) */
    ccz_he_lr_data_free(&d);

    static const struct {
        bool model;
        const char *text, *want;
    } bad[] = {
        {true, "", "the file is empty"},
        {true, "\n \n", "the file is empty"},
        {true, "0.1", "0 weights"},
        {true, "0.1,0.2\n0.3,0.4", "the model is one line"},
        {true, "0.1,,0.2", "line 1, column 2: empty field"},
        {true, "0.1,nan", "not a finite number"},
        {true, "0.1,1e999", "not a finite number"},
        {true, "0.1,2x", "'2x' is not a finite number"},
        {true, "x,1", "line 1, column 1: 'x' is not a finite number"}, /* the bias */
        {true, "\n \n0.1,x\n", "line 3, column 2: 'x' is not a finite number"},
        /* below the smallest double: not read as 0 (or a denormal) */
        {true, "0.1,1e-400", "line 1, column 2: '1e-400' is not a finite number"},
        {true, "0.1,-4e-320", "line 1, column 2: '-4e-320' is not a finite number"},
        {false, "a,target\n1e-999,1\n", "line 2, column 1: '1e-999' is not a finite number"},
        {true, "\"0.1\",2", "quoted fields"},
        {true, "1,000000000000000000000000000000000000000000000000000000000000000000001",
         "is not a number"},
        /* 64 characters: one more than a field holds */
        {true, "1,0.00000000000000000000000000000000000000000000000000000000000001",
         "line 1, column 2: a field of 64 characters is not a number"},
        {false, "", "the file is empty"},
        {false, "a,target\n", "no samples after the header"},
        {false, "target\n1", "the header names 0 features"},
        {false, "a,b,\"target\"\n1,2,1\n", "line 1: quoted fields"},
        {false, "a,b,target\n1,2,1\n\"1\",2,1\n", "line 3: quoted fields"},
        {false, "a,target\n-inf,1\n", "'-inf' is not a finite number"},
        {false, "a,target\n1,NaN\n", "line 2, column 2: 'NaN' is not a finite number"},
        {false, "a,target\n1,2\n", "the label (last column) is 2"},
        {false, "a,target\n1,-1\n", "the label (last column) is -1"},
        {false, "a,b,target\n1,2,1\n1,2\n", "line 3 has 2 fields; the header has 3"},
        {false, "a,b,target\n1,2,1,4\n", "line 2 has 4 fields"},
        {false, "a,b,target\n1,2,0.5\n", "the label (last column) is 0.5"},
        {false, "a,b,target\n1,inf,1\n", "line 2, column 2: 'inf' is not a finite number"},
        {false, "a,\"b\",target\n1,2,1\n", "quoted fields"},
    };
    for (size_t i = 0; i < CCZ_ARRAY_LEN(bad); i++) {
        ccz_span t = CCZ_SPAN(bad[i].text, strlen(bad[i].text));
        ccz_status s = bad[i].model ? ccz_he_lr_model_parse(&m, t) : ccz_he_lr_data_parse(&d, t);
        CHECK(s != CCZ_OK);
        CHECK_CONTAINS(ccz_error_detail(), bad[i].want);
    }
    /* more features than the service takes */
    ccz_buf big = CCZ_BUF_INIT;
    CHECK_OK(ccz_buf_append_str(&big, "0"));
    for (int i = 0; i <= CCZ_HE_LR_MAX_FEATURES; i++)
        CHECK_OK(ccz_buf_append_str(&big, ",1"));
    CHECK_STATUS(ccz_he_lr_model_parse(&m, ccz_buf_span(&big)), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "257 weights");
    ccz_buf_free(&big);
    /* a data file whose header names more features than a model may have */
    for (int i = 0; i <= CCZ_HE_LR_MAX_FEATURES; i++)
        CHECK_OK(ccz_buf_append_str(&big, "f,"));
    CHECK_OK(ccz_buf_append_str(&big, "target\n"));
    for (int i = 0; i <= CCZ_HE_LR_MAX_FEATURES; i++)
        CHECK_OK(ccz_buf_append_str(&big, "1,"));
    CHECK_OK(ccz_buf_append_str(&big, "0\n"));
    CHECK_STATUS(ccz_he_lr_data_parse(&d, ccz_buf_span(&big)), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "the header names 257 features and the label");
    CHECK(d.x == NULL && d.rows == 0);
    ccz_buf_free(&big);
    /* a NUL byte is no text: refused as such, its line and byte named, in a number (not read up
     * to the NUL), in the data's header (where it passed unseen) and on a line of its own */
    static const char nul_model[] = "0.5,1\0002";
    CHECK_STATUS(ccz_he_lr_model_parse(&m, CCZ_SPAN(nul_model, sizeof nul_model - 1)),
                 CCZ_ERR_MALFORMED);
    CHECK_STR(ccz_error_detail(), "model: line 1, byte 6: a NUL byte (the file must be text)");
    CHECK(m.weights == NULL && m.features == 0);
    static const char nul_data[] = "a,target\n1\000,1\n";
    CHECK_STATUS(ccz_he_lr_data_parse(&d, CCZ_SPAN(nul_data, sizeof nul_data - 1)),
                 CCZ_ERR_MALFORMED);
    CHECK_STR(ccz_error_detail(), "data: line 2, byte 2: a NUL byte (the file must be text)");
    CHECK(d.x == NULL && d.rows == 0);
    static const char nul_header[] = "a\000,target\n1,1\n";
    CHECK_STATUS(ccz_he_lr_data_parse(&d, CCZ_SPAN(nul_header, sizeof nul_header - 1)),
                 CCZ_ERR_MALFORMED);
    CHECK_STR(ccz_error_detail(), "data: line 1, byte 2: a NUL byte (the file must be text)");
    CHECK(d.x == NULL && d.rows == 0);
    static const char nul_line[] = "a,target\n1,1\n\000\n";
    CHECK_STATUS(ccz_he_lr_data_parse(&d, CCZ_SPAN(nul_line, sizeof nul_line - 1)),
                 CCZ_ERR_MALFORMED);
    CHECK_STR(ccz_error_detail(), "data: line 3, byte 1: a NUL byte (the file must be text)");
    CHECK(d.x == NULL && d.rows == 0);
    /* a UTF-8 byte-order mark (as spreadsheets write them) opens a file: skipped, not read as
     * part of the bias ("'-0.5' is not a finite number", the mark invisible); anywhere else it is
     * no number */
    CHECK_OK(ccz_he_lr_model_parse(&m, CCZ_LIT("\xEF\xBB\xBF-0.5,1.25\r\n")));
    CHECK(m.features == 1 && m.bias == -0.5 && m.weights[0] == 1.25);
    ccz_he_lr_model_free(&m);
    CHECK_OK(ccz_he_lr_data_parse(&d, CCZ_LIT("\xEF\xBB\xBF"
                                              "a,target\n2,1\n")));
    CHECK(d.features == 1 && d.rows == 1 && d.x[0] == 2 && d.y[0] == 1);
    ccz_he_lr_data_free(&d);
    CHECK_STATUS(ccz_he_lr_model_parse(&m, CCZ_LIT("0.5,\xEF\xBB\xBF"
                                                   "1")),
                 CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "line 1, column 2: '");
    CHECK_STATUS(ccz_he_lr_model_parse(&m, CCZ_LIT("\xEF\xBB\xBF")), CCZ_ERR_MALFORMED);
    CHECK_STR(ccz_error_detail(), "model: the file is empty");
    /* 63 characters: the longest field read */
    CHECK_OK(ccz_he_lr_model_parse(
        &m, CCZ_LIT("1,0.0000000000000000000000000000000000000000000000000000000000001")));
    CHECK(m.features == 1 && m.weights[0] == 1e-61);
    ccz_he_lr_model_free(&m);
    /* blanks: a line of spaces and tabs is skipped; a field's tabs around the number are
     * trimmed like its spaces, before the length is counted */
    CHECK_OK(ccz_he_lr_data_parse(&d, CCZ_LIT("a,target\n\t \n2\t,1\n\t\n")));
    CHECK(d.features == 1 && d.rows == 1 && d.x[0] == 2 && d.y[0] == 1);
    ccz_he_lr_data_free(&d);
    CHECK_OK(
        ccz_he_lr_model_parse(&m, CCZ_LIT("0.5\t,\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t"
                                          "\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t"
                                          "\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t"
                                          "1.25")));
    CHECK(m.features == 1 && m.bias == 0.5 && m.weights[0] == 1.25);
    ccz_he_lr_model_free(&m);
    /* CCZ_HE_LR_MAX_FEATURES weights: the most a model has */
    CHECK_OK(ccz_buf_append_str(&big, "0"));
    for (int i = 0; i < CCZ_HE_LR_MAX_FEATURES; i++)
        CHECK_OK(ccz_buf_append_str(&big, ",1"));
    CHECK_OK(ccz_he_lr_model_parse(&m, ccz_buf_span(&big)));
    CHECK_INT(m.features, CCZ_HE_LR_MAX_FEATURES);
    ccz_he_lr_model_free(&m);
    ccz_buf_free(&big);
    /* a model file of more than 1 MiB: refused before it is read as a model */
    {
        char path[512];
        snprintf(path, sizeof path, "%s/big_model.csv", test_tmpdir());
        FILE *f = fopen(path, "w");
        CHECK(f != NULL);
        fputs("0.5,1", f);
        for (size_t i = 5; i <= (size_t)1 << 20; i++)
            fputc(' ', f);
        fclose(f);
        CHECK_STATUS(ccz_he_lr_model_load(&m, path), CCZ_ERR_TOO_LARGE);
        CHECK(m.weights == NULL);
    }
    /* one sample more than CCZ_HE_LR_MAX_ROWS: refused, not grown without end */
    CHECK_OK(ccz_buf_append_str(&big, "a,target\n"));
    for (unsigned r = 0; r <= CCZ_HE_LR_MAX_ROWS; r++)
        CHECK_OK(ccz_buf_append(&big, "0,1\n", 4));
    CHECK_STATUS(ccz_he_lr_data_parse(&d, ccz_buf_span(&big)), CCZ_ERR_TOO_LARGE);
    CHECK_STR(ccz_error_detail(), "data: more than 4194304 samples");
    CHECK(d.x == NULL && d.rows == 0);
    ccz_buf_free(&big);
    /* the cleartext model against data of another width; a probability of exactly 0.5 is
     * class 1 */
    CHECK_OK(ccz_he_lr_model_parse(&m, CCZ_LIT("0,1,2")));
    CHECK_OK(ccz_he_lr_data_parse(&d, CCZ_LIT("a,b,c,y\n1,2,3,1\n")));
    double p[2] = {0.5, 0.4999};
    CHECK_STATUS(ccz_he_lr_predict(p, &m, &d), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "the model has 2 features, the data 3");
    CHECK(p[0] == 0.5);
    ccz_he_lr_data_free(&d);
    CHECK_OK(ccz_he_lr_data_parse(&d, CCZ_LIT("a,b,y\n1,2,1\n3,4,0\n")));
    CHECK(ccz_he_lr_accuracy(p, &d) == 1.0);
    ccz_he_lr_data_free(&d);
    ccz_he_lr_model_free(&m);
}

/* ---- the cleartext model -----------------------------------------------------------------------*/

static void test_cleartext(void)
{
    ccz_he_lr_model m;
    ccz_he_lr_data d;
    load_cczoo(&m, &d);
    CHECK_INT(m.features, 80);
    CHECK_INT(d.rows, 2000);
    CHECK_INT(d.features, 80);
    double *p = calloc(d.rows, sizeof *p);
    CHECK_OK(ccz_he_lr_predict(p, &m, &d));
    char acc[16];
    snprintf(acc, sizeof acc, "%.3f", ccz_he_lr_accuracy(p, &d));
    CHECK_STR(acc, "0.944");
    CHECK(fabs(ccz_he_lr_sigmoid(0) - 0.5) < 1e-15);
    CHECK(fabs(ccz_he_lr_sigmoid(2) - (0.5 + 0.30024 - 0.001593008 * 8)) < 1e-12);
    free(p);
    ccz_he_lr_model_free(&m);
    ccz_he_lr_data_free(&d);
}

/* ---- the evaluation ------------------------------------------------------------------------------*/

typedef struct {
    ccz_lattice_context *ctx;
    ccz_lattice_secret_key *sk;
    ccz_lattice_public_key *pk;
    ccz_lattice_relin_keys *rk;
} keys;

static void keys_new(keys *k, const ccz_lattice_params *p)
{
    CHECK_OK(ccz_lattice_context_new(&k->ctx, p));
    CHECK_OK(ccz_lattice_keygen(&k->sk, &k->pk, k->ctx));
    CHECK_OK(ccz_lattice_relin_keygen(&k->rk, k->ctx, k->sk));
}

static void keys_free(keys *k)
{
    ccz_lattice_relin_keys_free(k->rk);
    ccz_lattice_public_key_free(k->pk);
    ccz_lattice_secret_key_free(k->sk);
    ccz_lattice_context_free(k->ctx);
}

/* The batch's ciphertexts, feature by feature, at a level (public-key encryption); only the
 * first `features` are made (the others stay empty). */
static ccz_buf *encrypt_batch(const keys *k, const ccz_he_lr_data *d, size_t count, unsigned level,
                              size_t features)
{
    ccz_buf *cts = calloc(d->features, sizeof *cts);
    double *v = calloc(count, sizeof *v);
    ccz_lattice_plaintext *pt;
    ccz_lattice_ciphertext *ct;
    CHECK_OK(ccz_lattice_plaintext_new(&pt, k->ctx));
    CHECK_OK(ccz_lattice_ciphertext_new(&ct, k->ctx));
    double scale = ccz_lattice_context_params(k->ctx)->scale;
    for (size_t f = 0; f < features; f++) {
        for (size_t i = 0; i < count; i++)
            v[i] = d->x[i * d->features + f];
        CHECK_OK(ccz_lattice_ckks_encode_real(pt, k->ctx, v, count, scale, level));
        CHECK_OK(ccz_lattice_encrypt(ct, k->ctx, k->pk, pt));
        CHECK_OK(ccz_lattice_ciphertext_save(&cts[f], ct));
    }
    ccz_lattice_plaintext_free(pt);
    ccz_lattice_ciphertext_free(ct);
    free(v);
    return cts;
}

static ccz_span *spans(ccz_buf *cts, size_t n)
{
    ccz_span *s = calloc(n, sizeof *s);
    for (size_t i = 0; i < n; i++)
        s[i] = ccz_buf_span(&cts[i]);
    return s;
}

static void free_cts(ccz_buf *cts, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ccz_buf_free(&cts[i]);
    free(cts);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Every sample of CCZoo's data, encrypted at `level`, evaluated, decrypted, against the
 * cleartext polynomial. */
static void he_against_clear(ccz_he_lr_preset preset, unsigned level)
{
    ccz_he_lr_model m;
    ccz_he_lr_data d;
    load_cczoo(&m, &d);
    ccz_lattice_params p;
    CHECK_OK(ccz_he_lr_params(&p, preset));
    keys k = {0};
    keys_new(&k, &p);
    CHECK_OK(ccz_he_lr_check_context(k.ctx));
    size_t slots = ccz_lattice_slots(k.ctx);
    CHECK(d.rows <= slots); /* one batch */
    double t0 = now();
    ccz_buf *cts = encrypt_batch(&k, &d, d.rows, level, d.features);
    double t1 = now();
    ccz_span *x = spans(cts, d.features);
    ccz_lattice_ciphertext *out;
    CHECK_OK(ccz_lattice_ciphertext_new(&out, k.ctx));
    CHECK_OK(ccz_he_lr_eval(out, k.ctx, k.rk, k.pk, &m, x, d.features, 0));
    double t2 = now();
    CHECK_INT(ccz_lattice_ciphertext_level(out), 1);
    ccz_lattice_plaintext *pt;
    CHECK_OK(ccz_lattice_plaintext_new(&pt, k.ctx));
    double complex *v = calloc(slots, sizeof *v);
    CHECK_OK(ccz_lattice_decrypt(pt, k.ctx, k.sk, out));
    CHECK_OK(ccz_lattice_ckks_decode(v, k.ctx, pt));
    double *he = calloc(d.rows, sizeof *he), *clear = calloc(d.rows, sizeof *clear);
    CHECK_OK(ccz_he_lr_predict(clear, &m, &d));
    double worst = 0;
    size_t differ = 0;
    for (size_t i = 0; i < d.rows; i++) {
        he[i] = creal(v[i]);
        worst = fmax(worst, fabs(he[i] - clear[i]));
        differ += (he[i] >= 0.5) != (clear[i] >= 0.5);
    }
    printf("%s at level %u: encrypt %.0f ms, eval %.0f ms; largest error %.2e; %zu classes "
           "differ\n",
           preset == CCZ_HE_LR_SECURE ? "secure" : "toolkit", level, 1e3 * (t1 - t0),
           1e3 * (t2 - t1), worst, differ);
    CHECK_INT(differ, 0);
    CHECK(worst < 1e-5);
    char acc[16];
    snprintf(acc, sizeof acc, "%.3f", ccz_he_lr_accuracy(he, &d));
    CHECK_STR(acc, "0.944");
    free(he);
    free(clear);
    free(v);
    free(x);
    free_cts(cts, d.features);
    ccz_lattice_plaintext_free(pt);
    ccz_lattice_ciphertext_free(out);
    keys_free(&k);
    ccz_he_lr_model_free(&m);
    ccz_he_lr_data_free(&d);
}

static void test_he_secure(void)
{
    ccz_lattice_params p;
    CHECK_OK(ccz_he_lr_params(&p, CCZ_HE_LR_SECURE));
    CHECK(!p.no_security_check);
    unsigned total = 0;
    for (unsigned i = 0; i < p.n_primes; i++)
        total += p.coeff_bits[i];
    CHECK_INT(total, 218);
    CHECK_INT(total <= ccz_lattice_max_bits_128(13), 1);
    he_against_clear(CCZ_HE_LR_SECURE, 4);
}

static void test_he_toolkit(void)
{
    ccz_lattice_params p;
    CHECK_OK(ccz_he_lr_params(&p, CCZ_HE_LR_TOOLKIT));
    /* beyond the 128-bit table: refused unless the check is off */
    p.no_security_check = false;
    ccz_lattice_context *ctx = NULL;
    CHECK_STATUS(ccz_lattice_context_new(&ctx, &p), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "300 bits");
    /* fresh at the top (level 5), dropped to 4 by the evaluation (the service's clients send
     * level 4: tests/he_lr/test_he_lr_service.c) */
    he_against_clear(CCZ_HE_LR_TOOLKIT, 5);
}

/* ---- what the evaluation refuses ----------------------------------------------------------------*/

static void expect_context_error(const ccz_lattice_params *p, const char *want)
{
    ccz_lattice_context *ctx = NULL;
    CHECK_OK(ccz_lattice_context_new(&ctx, p));
    CHECK_STATUS(ccz_he_lr_check_context(ctx), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), want);
    ccz_lattice_context_free(ctx);
}

static void test_contexts(void)
{
    ccz_lattice_params p;
    CHECK_OK(ccz_lattice_preset(&p, CCZ_LATTICE_BFV, 13));
    expect_context_error(&p, "BFV parameters");
    CHECK_OK(ccz_lattice_preset(&p, CCZ_LATTICE_CKKS, 13)); /* 60,40,40,60: two data primes short */
    expect_context_error(&p, "3 data primes: the inference needs 4");
    CHECK_OK(ccz_he_lr_params(&p, CCZ_HE_LR_SECURE));
    p.scale = 0x1p35;
    expect_context_error(&p, "prime 1 has 45 bits, the scale 2^35");
    CHECK_OK(ccz_he_lr_params(&p, CCZ_HE_LR_SECURE));
    p.coeff_bits[0] = 47;
    expect_context_error(&p, "the first prime (47 bits) must exceed the scale (2^45) by 4 bits");
    CHECK_OK(ccz_he_lr_params(&p, CCZ_HE_LR_SECURE));
    p.coeff_bits[3] = 18;
    expect_context_error(&p, "prime 3 (the model's) has 18 bits");
    /* prime 2 (the cube's rescale) off the scale, prime 1 on it */
    CHECK_OK(ccz_he_lr_params(&p, CCZ_HE_LR_SECURE));
    p.coeff_bits[2] = 36;
    expect_context_error(&p, "prime 2 has 36 bits, the scale 2^45");
    /* scales outside 2^20 to 2^55 (the scale is checked before the primes) */
    CHECK_OK(ccz_he_lr_params(&p, CCZ_HE_LR_SECURE));
    p.scale = 0x1p19;
    expect_context_error(&p, "scale 2^19.0: the inference needs 2^20 to 2^55");
    p.scale = 0x1p56;
    expect_context_error(&p, "scale 2^56.0: the inference needs 2^20 to 2^55");
    /* an unknown preset */
    CHECK_STATUS(ccz_he_lr_params(&p, (ccz_he_lr_preset)7), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "unknown preset 7");
}

/* The context checks' bounds, taken: a model prime of 21 bits (2^20 and more: the weights' 20
 * bits) and a first prime exactly 4 bits above the scale (the scale q0 / 16; primes 1 and 2 at
 * 48 bits, above it, so the result's scale is below the scale); the model prime's 20 bits
 * (below 2^20) and a scale a little above q0 / 16 refused; the accuracy of no samples is 0. */
static void test_context_bounds(void)
{
    ccz_he_lr_data none = {0, 0, NULL, NULL};
    CHECK(ccz_he_lr_accuracy(NULL, &none) == 0); /* no samples: no accuracy */
    ccz_lattice_params p;
    ccz_lattice_context *ctx = NULL;
    CHECK_OK(ccz_he_lr_params(&p, CCZ_HE_LR_SECURE));
    p.coeff_bits[3] = 21;
    CHECK_OK(ccz_lattice_context_new(&ctx, &p));
    CHECK_OK(ccz_he_lr_check_context(ctx));
    ccz_lattice_context_free(ctx);
    p.coeff_bits[3] = 20;
    expect_context_error(
        &p, "prime 3 (the model's) has 20 bits: the weights need 21 (a prime of 2^20 or more)");
    CHECK_OK(ccz_he_lr_params(&p, CCZ_HE_LR_SECURE));
    p.coeff_bits[0] = 51;
    p.coeff_bits[1] = p.coeff_bits[2] = 48;
    p.no_security_check = true;
    CHECK_OK(ccz_lattice_context_new(&ctx, &p));
    unsigned count;
    uint64_t q0 = ccz_lattice_context_primes(&count, ctx)[0];
    ccz_lattice_context_free(ctx);
    p.scale = (double)q0 / 16;
    CHECK(log2((double)q0) - log2(p.scale) == 4);
    CHECK_OK(ccz_lattice_context_new(&ctx, &p));
    CHECK_OK(ccz_he_lr_check_context(ctx));
    ccz_lattice_context_free(ctx);
    p.scale = (double)q0 / 16 * 1.0001; /* 4 - 1.4e-4 bits below the first prime */
    expect_context_error(&p, "the first prime (51 bits) must exceed the scale");
}

static void test_refused(void)
{
    ccz_he_lr_model m;
    ccz_he_lr_data d;
    load_cczoo(&m, &d);
    d.rows = 100; /* enough for the checks */
    ccz_lattice_params p, other;
    CHECK_OK(ccz_he_lr_params(&p, CCZ_HE_LR_SECURE));
    CHECK_OK(ccz_he_lr_params(&other, CCZ_HE_LR_TOOLKIT));
    keys k = {0}, o = {0};
    keys_new(&k, &p);
    keys_new(&o, &other);
    ccz_buf *cts = encrypt_batch(&k, &d, d.rows, 4, 12); /* the checks fail by ciphertext 11 */
    ccz_span *x = spans(cts, d.features);
    ccz_lattice_ciphertext *out;
    CHECK_OK(ccz_lattice_ciphertext_new(&out, k.ctx));

    /* a model of no features (a caller's struct: the files hold at least one) and no
     * ciphertexts: refused, there is no sum to evaluate */
    ccz_he_lr_model empty = {0, 0.5, NULL};
    CHECK_STATUS(ccz_he_lr_eval(out, k.ctx, k.rk, k.pk, &empty, x, 0, 1), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "a model of no features");
    /* one ciphertext fewer than the model's features */
    CHECK_STATUS(ccz_he_lr_eval(out, k.ctx, k.rk, k.pk, &m, x, d.features - 1, 1),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "79 ciphertexts for a model of 80 features");
    /* truncated, oversized */
    ccz_span keep = x[7];
    x[7].len -= 100;
    CHECK_STATUS(ccz_he_lr_eval(out, k.ctx, k.rk, k.pk, &m, x, d.features, 1), CCZ_ERR_TRUNCATED);
    CHECK_CONTAINS(ccz_error_detail(), "ciphertext 7: the data ends early");
    CHECK_OK(ccz_buf_append_str(&cts[7], "more"));
    x[7] = ccz_buf_span(&cts[7]);
    CHECK_STATUS(ccz_he_lr_eval(out, k.ctx, k.rk, k.pk, &m, x, d.features, 1),
                 CCZ_ERR_TRAILING_DATA);
    CHECK_CONTAINS(ccz_error_detail(), "ciphertext 7");
    x[7] = keep;
    /* another context's ciphertext, keys of another context */
    ccz_buf *theirs = encrypt_batch(&o, &d, 10, 4, 4);
    x[3] = ccz_buf_span(&theirs[3]);
    CHECK_STATUS(ccz_he_lr_eval(out, k.ctx, k.rk, k.pk, &m, x, d.features, 1), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(),
                   "ciphertext 3: the ciphertext was made with other parameters");
    x[3] = ccz_buf_span(&cts[3]);
    ccz_lattice_ciphertext *out2;
    CHECK_OK(ccz_lattice_ciphertext_new(&out2, o.ctx));
    m.features = 12; /* the ciphertexts made */
    CHECK_STATUS(ccz_he_lr_eval(out2, k.ctx, o.rk, k.pk, &m, x, 12, 1), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "of another context");
    CHECK_STATUS(ccz_he_lr_eval(out, k.ctx, k.rk, o.pk, &m, x, 12, 1), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "a public key of another context");
    CHECK_OK(ccz_he_lr_eval(out, k.ctx, k.rk, k.pk, &m, x, 12, 1));
    m.features = d.features;
    ccz_lattice_ciphertext_free(out2);
    free_cts(theirs, d.features);
    /* too low a level; another scale; three components */
    ccz_buf *low = encrypt_batch(&k, &d, 10, 3, 6);
    x[5] = ccz_buf_span(&low[5]);
    CHECK_STATUS(ccz_he_lr_eval(out, k.ctx, k.rk, k.pk, &m, x, d.features, 1),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "ciphertext 5 is at level 3: the inference needs 4");
    x[5] = ccz_buf_span(&cts[5]);
    free_cts(low, d.features);
    ccz_lattice_plaintext *pt;
    ccz_lattice_ciphertext *ct;
    ccz_buf one = CCZ_BUF_INIT;
    double v[4] = {1, 2, 3, 4};
    CHECK_OK(ccz_lattice_plaintext_new(&pt, k.ctx));
    CHECK_OK(ccz_lattice_ciphertext_new(&ct, k.ctx));
    CHECK_OK(ccz_lattice_ckks_encode_real(pt, k.ctx, v, 4, 0x1p40, 4));
    CHECK_OK(ccz_lattice_encrypt(ct, k.ctx, k.pk, pt));
    CHECK_OK(ccz_lattice_ciphertext_save(&one, ct));
    x[9] = ccz_buf_span(&one);
    CHECK_STATUS(ccz_he_lr_eval(out, k.ctx, k.rk, k.pk, &m, x, d.features, 1),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "ciphertext 9 is at scale 2^40.00, the parameters' is 2^45");
    /* a scale 1% off the parameters' (2^45.01): refused too, not only whole bits off */
    CHECK_OK(ccz_lattice_ckks_encode_real(pt, k.ctx, v, 4, 0x1p45 * 1.01, 4));
    CHECK_OK(ccz_lattice_encrypt(ct, k.ctx, k.pk, pt));
    ccz_buf_reset(&one);
    CHECK_OK(ccz_lattice_ciphertext_save(&one, ct));
    x[9] = ccz_buf_span(&one);
    CHECK_STATUS(ccz_he_lr_eval(out, k.ctx, k.rk, k.pk, &m, x, d.features, 1),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "ciphertext 9 is at scale 2^45.01, the parameters' is 2^45");
    CHECK_OK(ccz_lattice_ckks_encode_real(pt, k.ctx, v, 4, 0x1p45, 4));
    CHECK_OK(ccz_lattice_encrypt(ct, k.ctx, k.pk, pt));
    CHECK_OK(ccz_lattice_mul(ct, k.ctx, ct, ct, NULL)); /* three components */
    ccz_buf_reset(&one);
    CHECK_OK(ccz_lattice_ciphertext_save(&one, ct));
    x[9] = ccz_buf_span(&one);
    CHECK_STATUS(ccz_he_lr_eval(out, k.ctx, k.rk, k.pk, &m, x, d.features, 1),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "ciphertext 9 has 3 components: relinearize it");
    ccz_buf_free(&one);
    ccz_lattice_plaintext_free(pt);
    ccz_lattice_ciphertext_free(ct);

    free(x);
    free_cts(cts, d.features);
    ccz_lattice_ciphertext_free(out);
    keys_free(&k);
    keys_free(&o);
    ccz_he_lr_model_free(&m);
    ccz_he_lr_data_free(&d);
}

/* ---- the result's scale and edge inputs ----------------------------------------------------------*/

/* The largest difference between the HE evaluation and the cleartext polynomial over d's rows
 * (one batch, the ciphertexts at level 4); the evaluation's status in *st, -1 when it failed. */
static double he_worst(const ccz_lattice_params *p, const ccz_he_lr_model *m,
                       const ccz_he_lr_data *d, ccz_status *st)
{
    keys k = {0};
    keys_new(&k, p);
    ccz_buf *cts = encrypt_batch(&k, d, d->rows, 4, d->features);
    ccz_span *x = spans(cts, d->features);
    ccz_lattice_ciphertext *out;
    ccz_lattice_plaintext *pt;
    CHECK_OK(ccz_lattice_ciphertext_new(&out, k.ctx));
    CHECK_OK(ccz_lattice_plaintext_new(&pt, k.ctx));
    double worst = -1;
    *st = ccz_he_lr_eval(out, k.ctx, k.rk, k.pk, m, x, d->features, 1);
    if (*st == CCZ_OK) {
        double complex *v = calloc(ccz_lattice_slots(k.ctx), sizeof *v);
        double *clear = calloc(d->rows, sizeof *clear);
        CHECK_OK(ccz_lattice_decrypt(pt, k.ctx, k.sk, out));
        CHECK_OK(ccz_lattice_ckks_decode(v, k.ctx, pt));
        CHECK_OK(ccz_he_lr_predict(clear, m, d));
        worst = 0;
        for (size_t i = 0; i < d->rows; i++)
            worst = fmax(worst, fabs(creal(v[i]) - clear[i]));
        free(v);
        free(clear);
    }
    ccz_lattice_plaintext_free(pt);
    ccz_lattice_ciphertext_free(out);
    free(x);
    free_cts(cts, d->features);
    keys_free(&k);
    return worst;
}

/* A batch of one feature, every one of its 4096 rows at z. */
static void full_batch(ccz_he_lr_data *d, double z)
{
    d->rows = 4096;
    d->features = 1;
    d->x = calloc(d->rows, sizeof *d->x);
    d->y = calloc(d->rows, 1);
    for (size_t i = 0; i < d->rows; i++)
        d->x[i] = z;
}

/* Primes 1 and 2 at 43 bits, within 4 bits of the scale 2^45: the cube comes back at
 * 2^(3 x 45 - 43 - 43) = 2^49, one bit below the first prime (50 bits), which then cannot hold a
 * probability of 1.06 in every slot (z = 5.6, where the polynomial peaks): it came back as -0.94,
 * the other class. Refused, by the context check and by the evaluation; the secure preset's
 * 45-bit primes hold the same batch. */
static void test_result_scale(void)
{
    ccz_he_lr_model m;
    ccz_he_lr_data d;
    CHECK_OK(ccz_he_lr_model_parse(&m, CCZ_LIT("0,1")));
    full_batch(&d, 5.6);
    ccz_lattice_params p;
    CHECK_OK(ccz_he_lr_params(&p, CCZ_HE_LR_SECURE));
    ccz_status st;
    double worst = he_worst(&p, &m, &d, &st);
    CHECK_OK(st);
    CHECK(worst >= 0 && worst < 1e-5);
    p.coeff_bits[1] = p.coeff_bits[2] = 43;
    expect_context_error(&p, "the result comes back at scale 2^49.0 (the scale cubed over primes "
                             "1 and 2): the first prime (50 bits) must exceed it by 4 bits");
    worst = he_worst(&p, &m, &d, &st);
    CHECK_STATUS(st, CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "the result comes back at scale 2^49.0");
    CHECK(worst == -1);
    ccz_he_lr_data_free(&d);
    ccz_he_lr_model_free(&m);
}

/* Edge inputs with the secure preset, each in every slot: z = 0 (the bias alone), and z = +-18.5,
 * where the polynomial reaches -6.8 and 7.8, near the 8 in magnitude the first prime holds (4
 * bits above the result's scale): the probability within 1e-5 of the cleartext polynomial's. */
static void test_edges(void)
{
    ccz_lattice_params p;
    CHECK_OK(ccz_he_lr_params(&p, CCZ_HE_LR_SECURE));
    static const struct {
        const char *model;
        double x;
    } cases[] = {{"0.75,3", 0}, {"0,1", 18.5}, {"-1,2", -8.75}};
    for (size_t i = 0; i < CCZ_ARRAY_LEN(cases); i++) {
        ccz_he_lr_model m;
        ccz_he_lr_data d;
        CHECK_OK(ccz_he_lr_model_parse(&m, CCZ_SPAN(cases[i].model, strlen(cases[i].model))));
        full_batch(&d, cases[i].x);
        ccz_status st;
        double worst = he_worst(&p, &m, &d, &st);
        CHECK_OK(st);
        printf("model %s, x %g: largest error %.2e\n", cases[i].model, cases[i].x, worst);
        CHECK(worst >= 0 && worst < 1e-5);
        ccz_he_lr_data_free(&d);
        ccz_he_lr_model_free(&m);
    }
}

TEST_MAIN(T(test_files), T(test_cleartext), T(test_he_secure), T(test_he_toolkit), T(test_contexts),
          T(test_context_bounds), T(test_refused), T(test_result_scale), T(test_edges))
