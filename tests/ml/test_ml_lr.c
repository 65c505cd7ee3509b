/* SPDX-License-Identifier: Apache-2.0 */
/* Logistic regression in the clear (src/ml/lr.c): CCZoo's CSV, each refusal with its line and
 * field; evaluation (accuracy, log loss, NaN when a prediction saturates); one gradient step
 * against a hand computation, Taylor and exact sigmoid. */
#include <math.h>
#include <string.h>

#include "ccz/ccz.h"
#include "ccz/ml.h"
#include "test.h"

static ccz_status csv(ccz_ml_dataset *d, const char *text)
{
    return ccz_ml_dataset_csv(d, text, strlen(text));
}

static void test_csv(void)
{
    ccz_ml_dataset d;
    CHECK_OK(csv(&d, "id,y,x0,x1\r\n7,1,0.5,-2e-1\r\n\r\n8,0.0,3,4\n"));
    CHECK_INT(d.rows, 2);
    CHECK_INT(d.features, 2);
    CHECK(d.x[0] == 0.5 && d.x[1] == -0.2 && d.x[2] == 3 && d.x[3] == 4);
    CHECK(d.y[0] == 1 && d.y[1] == 0);
    ccz_ml_dataset_free(&d);
    CHECK_OK(csv(&d, "id,y,x0\n1,1,2.5E-1\n")); /* an exponent's E as well as its e */
    CHECK(d.rows == 1 && d.x[0] == 0.25);
    ccz_ml_dataset_free(&d);
    static const struct {
        const char *text;
        ccz_status s;
        const char *detail;
    } bad[] = {
        {"", CCZ_ERR_MALFORMED, "no header line"},
        {"id,y\n1,0\n", CCZ_ERR_MALFORMED, "the header has 2 columns"},
        {"id,y,x0\n", CCZ_ERR_MALFORMED, "a header and no rows"},
        {"id,y,x0\n1,2,0.5\n", CCZ_ERR_MALFORMED, "line 2: the label y must be 0 or 1"},
        {"id,y,x0,x1\n1,0,0.5\n", CCZ_ERR_MALFORMED, "line 2 has 3 fields; the header has 4"},
        {"id,y,x0\n1,0,0.5,1\n", CCZ_ERR_MALFORMED, "line 2 has more than 3 fields"},
        {"id,y,x0\n1,0,nan\n", CCZ_ERR_MALFORMED, "line 2, field 3: not a decimal number"},
        {"id,y,x0\n1,0,1e999\n", CCZ_ERR_MALFORMED, "is not a finite number"},
        {"id,y,x0\n1,0,1..2\n", CCZ_ERR_MALFORMED, "is not a finite number"},
        {"id,y,x0\n1,0,\n", CCZ_ERR_MALFORMED, "line 2, field 3: empty"},
        {"id,y,x0\n1,0,0.5\n2,1,0x1p3\n", CCZ_ERR_MALFORMED, "line 3, field 3"},
    };
    for (size_t i = 0; i < CCZ_ARRAY_LEN(bad); i++) {
        CHECK_STATUS(csv(&d, bad[i].text), bad[i].s);
        CHECK_CONTAINS(ccz_error_detail(), bad[i].detail);
    }
}

static void test_evaluate_and_step(void)
{
    ccz_ml_dataset d;
    CHECK_OK(csv(&d, "id,y,x0\n1,1,2\n2,0,-1\n3,1,-3\n"));
    double w[2] = {0.5, 1}, acc, loss;
    CHECK_OK(ccz_ml_lr_evaluate(&acc, &loss, w, 2, &d));
    CHECK(fabs(acc - 2.0 / 3) < 1e-15);
    double s[3] = {1 / (1 + exp(-2.5)), 1 / (1 + exp(0.5)), 1 / (1 + exp(2.5))};
    double want = -(log(s[0]) + log(1 - s[1]) + log(s[2])) / 3;
    CHECK(fabs(loss - want) < 1e-15);
    double big[2] = {0, 1000};
    CHECK_OK(ccz_ml_lr_evaluate(&acc, &loss, big, 2, &d));
    CHECK(isnan(loss));
    CHECK_STATUS(ccz_ml_lr_evaluate(&acc, &loss, w, 3, &d), CCZ_ERR_INVALID_ARGUMENT);
    /* one Taylor step by hand: e = 0.5 + 0.25 z - y */
    ccz_ml_lr_opts o = CCZ_ML_LR_OPTS_INIT;
    double e[3] = {0.5 + 0.25 * 2.5 - 1, 0.5 + 0.25 * -0.5, 0.5 + 0.25 * -2.5 - 1};
    double g0 = (e[0] + e[1] + e[2]) / 3, g1 = (2 * e[0] - e[1] - 3 * e[2]) / 3;
    double lr = 0.15 / sqrt(2.0);
    double w0 = 0.5 - lr * (g0 + 0.01 * 0.5), w1 = 1 - lr * (g1 + 0.01 * 1);
    CHECK_OK(ccz_ml_lr_step(w, 2, &d, 1, &o));
    CHECK(fabs(w[0] - w0) < 1e-15 && fabs(w[1] - w1) < 1e-15);
    o.taylor = false;
    double v[2] = {0.5, 1};
    CHECK_OK(ccz_ml_lr_step(v, 2, &d, 0, &o));
    double f0 = (s[0] - 1 + s[1] + s[2] - 1) / 3;
    CHECK(fabs(v[0] - (0.5 - 0.15 * (f0 + 0.005))) < 1e-15);
    o.version = 99;
    CHECK_STATUS(ccz_ml_lr_step(v, 2, &d, 0, &o), CCZ_ERR_INVALID_ARGUMENT);
    ccz_ml_dataset_free(&d);
}

/* A data set's bounds at the edges a hostile file reaches: a field past its 64 bytes, ids past
 * 2^53 - 1 (one past a long long too), a header of no features. */
static void refused(ccz_ml_csv_layout layout, const char *text, const char *detail)
{
    ccz_ml_dataset d;
    ccz_status s = layout ? ccz_ml_dataset_parse(&d, text, strlen(text), layout)
                          : ccz_ml_dataset_csv(&d, text, strlen(text));
    if (s == CCZ_OK)
        ccz_ml_dataset_free(&d);
    CHECK_STATUS(s, CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), detail);
}

static void test_csv_limits(void)
{
    char longf[400];
    snprintf(longf, sizeof longf, "id,y,x0\n1,0,%0300d\n", 1);
    refused(0, longf, "line 2, field 3: longer than 64 bytes");
    refused(CCZ_ML_CSV_ID, "id,x0\n12345678901234567890,1\n", "line 2: the id must be an integer");
    refused(CCZ_ML_CSV_ID, "id,x0\n9007199254740992,1\n", "line 2: the id must be an integer");
    ccz_ml_dataset d;
    static const char top[] = "id,x0\n9007199254740991,1\n"; /* 2^53 - 1: taken */
    CHECK_OK(ccz_ml_dataset_parse(&d, top, sizeof top - 1, CCZ_ML_CSV_ID));
    CHECK(d.ids && d.ids[0] == 9007199254740991LL);
    ccz_ml_dataset_free(&d);
    refused(CCZ_ML_CSV_SKLEARN, "1,0\n1\n", "the header announces 1 rows of 0 features");
    /* 4096 features are taken, 4097 not */
    ccz_buf t = CCZ_BUF_INIT;
    for (int features = 4096; features <= 4097; features++) {
        ccz_buf_reset(&t);
        CHECK_OK(ccz_buf_append(&t, "id,y", 4));
        for (int f = 0; f < features; f++)
            CHECK_OK(ccz_buf_append(&t, ",x", 2));
        CHECK_OK(ccz_buf_append(&t, "\n1,0", 4));
        for (int f = 0; f < features; f++)
            CHECK_OK(ccz_buf_append(&t, ",1", 2));
        ccz_status st = ccz_ml_dataset_csv(&d, (const char *)t.ptr, t.len);
        if (features == 4096) {
            CHECK_OK(st);
            CHECK_INT(d.features, 4096);
            ccz_ml_dataset_free(&d);
        } else {
            CHECK_STATUS(st, CCZ_ERR_MALFORMED);
            CHECK_CONTAINS(ccz_error_detail(),
                           "the header has 4099 columns: id, y and 1 to 4096 features");
        }
    }
    /* a million rows are taken; one more is refused, whether the text ends its last line or not */
    ccz_buf_reset(&t);
    CHECK_OK(ccz_buf_append(&t, "id,y,x0", 7));
    for (int r = 0; r < 1000000; r++)
        CHECK_OK(ccz_buf_append(&t, "\n1,0,1", 6));
    CHECK_OK(ccz_ml_dataset_csv(&d, (const char *)t.ptr, t.len));
    CHECK_INT(d.rows, 1000000);
    ccz_ml_dataset_free(&d);
    CHECK_OK(ccz_buf_append(&t, "\n", 1)); /* the last line ended: still a million */
    CHECK_OK(ccz_ml_dataset_csv(&d, (const char *)t.ptr, t.len));
    CHECK_INT(d.rows, 1000000);
    ccz_ml_dataset_free(&d);
    CHECK_OK(ccz_buf_append(&t, "1,0,1", 5));
    CHECK_STATUS(ccz_ml_dataset_csv(&d, (const char *)t.ptr, t.len), CCZ_ERR_TOO_LARGE);
    CHECK_CONTAINS(ccz_error_detail(), "more than 1000000 rows");
    CHECK_OK(ccz_buf_append(&t, "\n", 1));
    CHECK_STATUS(ccz_ml_dataset_csv(&d, (const char *)t.ptr, t.len), CCZ_ERR_TOO_LARGE);
    CHECK_CONTAINS(ccz_error_detail(), "more than 1000000 rows");
    ccz_buf_free(&t);
}

/* The id and scikit-learn layouts' own fields: an id with a letter in it, a header that does
 * not start with the two counts, a row count past the bound; and a layout that does not exist.
 * A scikit-learn file is read with its row numbers as ids. */
static void test_layout_fields(void)
{
    refused(CCZ_ML_CSV_ID, "id,x0\n1a,1\n", "line 2: the id must be an integer from 0 to 2^53 - 1");
    refused(CCZ_ML_CSV_SKLEARN, "x,1,f0\n0.5,1\n",
            "the header must start with the number of rows and of features");
    refused(CCZ_ML_CSV_SKLEARN, "1000001,1,f0\n0.5,1\n",
            "the header announces 1000001 rows of 1 features");
    refused(CCZ_ML_CSV_SKLEARN, "1,4097\n0.5,1\n", "the header announces 1 rows of 4097 features");
    ccz_ml_dataset d;
    static const char ok[] = "2,1,f0\n0.5,1\n-1,0\n";
    CHECK_OK(ccz_ml_dataset_parse(&d, ok, sizeof ok - 1, CCZ_ML_CSV_SKLEARN));
    CHECK_INT(d.rows, 2);
    CHECK_INT(d.features, 1);
    CHECK(d.x[0] == 0.5 && d.x[1] == -1 && d.y[0] == 1 && d.y[1] == 0);
    CHECK(d.ids && d.ids[0] == 0 && d.ids[1] == 1);
    ccz_ml_dataset_free(&d);
    CHECK_STATUS(ccz_ml_dataset_parse(&d, ok, sizeof ok - 1, (ccz_ml_csv_layout)4),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "unknown CSV layout 4");
    CHECK_STATUS(ccz_ml_dataset_parse(&d, ok, sizeof ok - 1, (ccz_ml_csv_layout)0),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "unknown CSV layout 0");
}

/* The id layout's rows are all features (no label); ids are unique, the smallest one too; a
 * scikit-learn file has as many rows as its header says; a trailing comma is one field more; a
 * number that underflows is refused; a field of 64 bytes is taken, and a count of 7 digits. */
static void test_ids_rows_and_fields(void)
{
    ccz_ml_dataset d;
    static const char ids[] = "id,x0,x1\n4,0.5,2\n9,1,-1\n";
    CHECK_OK(ccz_ml_dataset_parse(&d, ids, sizeof ids - 1, CCZ_ML_CSV_ID));
    CHECK_INT(d.rows, 2);
    CHECK_INT(d.features, 2);
    CHECK(d.y == NULL);
    CHECK(d.x[0] == 0.5 && d.x[1] == 2 && d.x[2] == 1 && d.x[3] == -1);
    CHECK(d.ids && d.ids[0] == 4 && d.ids[1] == 9);
    ccz_ml_dataset_free(&d);
    refused(CCZ_ML_CSV_ID, "id\n1\n", "the header has 1 columns: id and 1 to 4096 features");
    refused(CCZ_ML_CSV_ID, "id,x0\n5,1\n3,2\n5,3\n", "id 5 appears more than once");
    refused(CCZ_ML_CSV_ID, "id,x0\n3,1\n7,2\n3,3\n", "id 3 appears more than once");
    refused(CCZ_ML_CSV_ID_Y, "id,y,x0\n8,1,1\n2,0,2\n6,1,3\n2,1,4\n",
            "id 2 appears more than once");
    refused(CCZ_ML_CSV_SKLEARN, "3,1,f0\n0.5,1\n-1,0\n",
            "the header announces 3 rows; the file has 2");
    refused(0, "id,y,x0\n1,0,0.5,\n", "line 2 has more than 3 fields");
    refused(0, "id,y,x0\n1,0,1e-400\n", "line 2, field 3: \"1e-400\" is not a finite number");
    char f64[128];
    snprintf(f64, sizeof f64, "id,y,x0\n1,0,1.%062d\n", 0); /* 64 bytes */
    CHECK_OK(csv(&d, f64));
    CHECK(d.x[0] == 1);
    ccz_ml_dataset_free(&d);
    snprintf(f64, sizeof f64, "id,y,x0\n1,0,1.%063d\n", 0); /* 65 bytes */
    refused(0, f64, "line 2, field 3: longer than 64 bytes");
    static const char seven[] = "0000001,0000001,f0\n0.5,1\n";
    CHECK_OK(ccz_ml_dataset_parse(&d, seven, sizeof seven - 1, CCZ_ML_CSV_SKLEARN));
    CHECK_INT(d.rows, 1);
    CHECK_INT(d.features, 1);
    ccz_ml_dataset_free(&d);
    refused(CCZ_ML_CSV_SKLEARN, "00000001,1,f0\n0.5,1\n",
            "the header must start with the number of rows and of features");
}

/* A prediction of exactly 0.5 is the label 1; a saturated prediction makes the loss NaN, whether
 * it is 1 or 0. */
static void test_evaluate_edges(void)
{
    ccz_ml_dataset d;
    double acc, loss, w[2] = {0, 1}, big[2] = {0, 1000};
    CHECK_OK(csv(&d, "id,y,x0\n1,1,0\n"));
    CHECK_OK(ccz_ml_lr_evaluate(&acc, &loss, w, 2, &d));
    CHECK(acc == 1);
    CHECK(fabs(loss - log(2.0)) < 1e-15);
    ccz_ml_dataset_free(&d);
    CHECK_OK(csv(&d, "id,y,x0\n1,1,2\n")); /* p == 1 */
    CHECK_OK(ccz_ml_lr_evaluate(&acc, &loss, big, 2, &d));
    CHECK(acc == 1 && isnan(loss));
    ccz_ml_dataset_free(&d);
    CHECK_OK(csv(&d, "id,y,x0\n1,0,-1\n")); /* p == 0 */
    CHECK_OK(ccz_ml_lr_evaluate(&acc, &loss, big, 2, &d));
    CHECK(acc == 1 && isnan(loss));
    ccz_ml_dataset_free(&d);
}

/* A NUL byte is no text: refused as such, its line and byte named, in a header (where it was
 * counted as part of a name, a host file's "id<NUL>,x0" read) and in a row, whatever the layout;
 * through the file reader the file is named too. The header's names are only counted: a first
 * name other than "id" and a name twice are taken, as are CRLF and a last line without its LF. */
static void nul_refused(ccz_ml_csv_layout layout, const char *text, size_t len, const char *detail)
{
    ccz_ml_dataset d;
    ccz_status s =
        layout ? ccz_ml_dataset_parse(&d, text, len, layout) : ccz_ml_dataset_csv(&d, text, len);
    if (s == CCZ_OK)
        ccz_ml_dataset_free(&d);
    CHECK_STATUS(s, CCZ_ERR_MALFORMED);
    CHECK_STR(ccz_error_detail(), detail);
    CHECK(d.x == NULL && d.rows == 0);
}

static void test_text_only(void)
{
    static const char host[] = "id\0,x0\n1,2\n", guest[] = "id,y\0,x0\n1,1,2\n",
                      homo[] = "id,y,x0\n1,0,0.5\n\n2,1,1\0\n", sk[] = "1,1\0,f0\n0.5,1\n",
                      line[] = "id,x0\n1,2\n\0\n", id[] = "id,x0\n1\0,2\n";
    nul_refused(CCZ_ML_CSV_ID, host, sizeof host - 1,
                "line 1, byte 3: a NUL byte (the CSV must be text)");
    nul_refused(CCZ_ML_CSV_ID_Y, guest, sizeof guest - 1,
                "line 1, byte 5: a NUL byte (the CSV must be text)");
    nul_refused(0, homo, sizeof homo - 1, "line 4, byte 6: a NUL byte (the CSV must be text)");
    nul_refused(CCZ_ML_CSV_SKLEARN, sk, sizeof sk - 1,
                "line 1, byte 4: a NUL byte (the CSV must be text)");
    nul_refused(CCZ_ML_CSV_ID, line, sizeof line - 1,
                "line 3, byte 1: a NUL byte (the CSV must be text)");
    nul_refused(CCZ_ML_CSV_ID, id, sizeof id - 1,
                "line 2, byte 2: a NUL byte (the CSV must be text)");
    char path[512];
    snprintf(path, sizeof path, "%s/host_nul.csv", test_tmpdir());
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f)
        return;
    fwrite(host, 1, sizeof host - 1, f);
    fclose(f);
    ccz_ml_dataset d;
    CHECK_STATUS(ccz_ml_dataset_read(&d, path, CCZ_ML_CSV_ID), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), path);
    CHECK_CONTAINS(ccz_error_detail(), "line 1, byte 3: a NUL byte");
    CHECK(d.x == NULL);
    f = fopen(path, "wb"); /* CCZoo's layout, through ccz_ml_dataset_load */
    CHECK(f != NULL);
    if (!f)
        return;
    fwrite(homo, 1, sizeof homo - 1, f);
    fclose(f);
    CHECK_STATUS(ccz_ml_dataset_load(&d, path), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), path);
    CHECK_CONTAINS(ccz_error_detail(), "line 4, byte 6: a NUL byte");
    CHECK(d.x == NULL);
    /* names only counted; CRLF and an unended last line taken */
    static const char named[] = "key,x,x\r\n5,0.5,2\r\n6,1,-1";
    CHECK_OK(ccz_ml_dataset_parse(&d, named, sizeof named - 1, CCZ_ML_CSV_ID));
    CHECK_INT(d.rows, 2);
    CHECK_INT(d.features, 2);
    CHECK(d.ids[0] == 5 && d.ids[1] == 6 && d.x[2] == 1 && d.x[3] == -1);
    ccz_ml_dataset_free(&d);
}

TEST_MAIN(T(test_csv), T(test_evaluate_and_step), T(test_csv_limits), T(test_layout_fields),
          T(test_ids_rows_and_fields), T(test_evaluate_edges), T(test_text_only))
