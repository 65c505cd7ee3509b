/* SPDX-License-Identifier: Apache-2.0 */
/* Horizontal FL (include/ccz/hfl.h, include/ccz/mlp.h): FedAvg against NumPy's weighted mean,
 * tensors and checkpoints, and the aggregator on plaintext h2c with raw clients:
 * a mis-shaped update refused while the round goes on, a straggler dropped at the deadline and
 * its late update refused, a restart resumed from the checkpoint. */
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ccz/hfl.h"
#include "fl.pb-c.h"
#include "hfl_server.h"
#include "rng_fail.h"
#include "svc/fl/party.h"
#include "test.h"

static uint64_t rng = 42;
static float frand(void)
{
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((double)(rng >> 11) / 9007199254740992.0 * 2 - 1);
}

/* Runs NumPy's weighted mean of n models of dim float32 values; false when NumPy is absent. */
static bool numpy_mean(double *out, const float *const *models, const double *w, size_t n,
                       size_t dim)
{
    char in[1100], res[1100], cmd[3000];
    snprintf(in, sizeof in, "%s/models.bin", test_tmpdir());
    snprintf(res, sizeof res, "%s/mean.bin", test_tmpdir());
    FILE *f = fopen(in, "wb");
    CHECK(f != NULL);
    for (size_t k = 0; k < n; k++)
        fwrite(models[k], sizeof(float), dim, f);
    fclose(f);
    char ws[512] = "";
    for (size_t k = 0; k < n; k++)
        snprintf(ws + strlen(ws), sizeof ws - strlen(ws), "%s%.17g", k ? "," : "", w[k]);
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 -c 'import numpy as np\n"
             "m = np.fromfile(\"%s\", dtype=\"<f4\").reshape(%zu, %zu).astype(np.float64)\n"
             "w = np.array([%s])\n"
             "np.average(m, axis=0, weights=w).astype(\"<f8\").tofile(\"%s\")'",
             in, n, dim, ws, res);
    if (system(cmd) != 0)
        return false;
    f = fopen(res, "rb");
    CHECK(f != NULL);
    CHECK(fread(out, sizeof(double), dim, f) == dim);
    fclose(f);
    return true;
}

/* NumPy is there, checked before a test's first check (a skip after one would hide it). */
static void need_numpy(void)
{
    if (system("/usr/bin/python3 -c 'import numpy' 2>/dev/null") != 0)
        test_skip(false, "python3-numpy is missing (scripts/setup installs it)");
}

static double max_diff(const float *a, const double *b, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++)
        m = fmax(m, fabs((double)a[i] - b[i]));
    return m;
}

static void fedavg_matches_numpy(void)
{
    need_numpy();
    enum { N = 5, DIM = 200003 };
    float *models[N];
    double w[N] = {600, 1200, 7, 3000.5, 1};
    for (int k = 0; k < N; k++) {
        models[k] = malloc(DIM * sizeof(float));
        for (int i = 0; i < DIM; i++)
            models[k][i] = frand() * (float)(k + 1);
    }
    float *out = malloc(DIM * sizeof(float));
    double *ref = malloc(DIM * sizeof(double));
    CHECK_OK(ccz_hfl_fedavg(out, (const float *const *)models, w, N, DIM, 2));
    CHECK(numpy_mean(ref, (const float *const *)models, w, N, DIM));
    double d = max_diff(out, ref, DIM);
    fprintf(stderr, "fedavg: %d models of %d values, max |ccz - numpy| = %.3g\n", N, DIM, d);
    CHECK(d <= 1e-6);
    /* weights must be positive */
    w[2] = 0;
    CHECK_STATUS(ccz_hfl_fedavg(out, (const float *const *)models, w, N, DIM, 1),
                 CCZ_ERR_INVALID_ARGUMENT);
    for (int k = 0; k < N; k++)
        free(models[k]);
    free(out);
    free(ref);
}

static void tensors(void)
{
    float v[6] = {0, -1.5f, 65504.0f, 1e-7f, 3.14159f, -2e-5f}, back[6];
    ccz_buf b = CCZ_BUF_INIT;
    CHECK_OK(ccz_hfl_tensor_encode(&b, v, 6, CCZ_HFL_F32));
    CHECK_INT(b.len, 24);
    CHECK_OK(ccz_hfl_tensor_decode(back, 6, CCZ_HFL_F32, b.ptr, b.len));
    CHECK(!memcmp(v, back, sizeof v));
    /* one value short, one too many, an odd length, an unknown type */
    CHECK_STATUS(ccz_hfl_tensor_decode(back, 6, CCZ_HFL_F32, b.ptr, 20), CCZ_ERR_MALFORMED);
    CHECK_STATUS(ccz_hfl_tensor_decode(back, 5, CCZ_HFL_F32, b.ptr, 24), CCZ_ERR_MALFORMED);
    CHECK_STATUS(ccz_hfl_tensor_decode(back, 6, CCZ_HFL_F32, b.ptr, 23), CCZ_ERR_MALFORMED);
    CHECK_STATUS(ccz_hfl_tensor_decode(back, 6, 7, b.ptr, 24), CCZ_ERR_MALFORMED);
    /* a NaN is refused; with an infinity after it, the first is named */
    b.ptr[7] = 0x7f;
    b.ptr[6] = 0xc0;
    CHECK_STATUS(ccz_hfl_tensor_decode(back, 6, CCZ_HFL_F32, b.ptr, 24), CCZ_ERR_MALFORMED);
    CHECK_STR(ccz_error_detail(), "weight 1 is not a finite number");
    memcpy(b.ptr + 12, (const uint8_t[]){0, 0, 0x80, 0x7f}, 4);
    CHECK_STATUS(ccz_hfl_tensor_decode(back, 6, CCZ_HFL_F32, b.ptr, 24), CCZ_ERR_MALFORMED);
    CHECK_STR(ccz_error_detail(), "weight 1 is not a finite number");
    b.len = 0;
    CHECK_OK(ccz_hfl_tensor_encode(&b, v, 6, CCZ_HFL_F16));
    CHECK_INT(b.len, 12);
    CHECK_OK(ccz_hfl_tensor_decode(back, 6, CCZ_HFL_F16, b.ptr, b.len));
    for (int i = 0; i < 6; i++)
        CHECK(fabsf(back[i] - v[i]) <= fabsf(v[i]) * 1e-3f + 6e-8f);
    CHECK(back[2] == 65504.0f);
    /* the type after float16 is no type, even with float16's length */
    CHECK_STATUS(ccz_hfl_tensor_decode(back, 6, CCZ_HFL_F16 + 1, b.ptr, b.len), CCZ_ERR_MALFORMED);
    CHECK_STR(ccz_error_detail(), "dtype 2 (F32 = 0, F16 = 1)");
    /* float16's own NaN, infinities and overflow (which the decoder refuses, as float32's) */
    float odd[4] = {NAN, INFINITY, -INFINITY, 70000.0f};
    b.len = 0;
    CHECK_OK(ccz_hfl_tensor_encode(&b, odd, 4, CCZ_HFL_F16));
    CHECK_INT(b.len, 8);
    static const uint8_t odd16[8] = {0x00, 0x7e, 0x00, 0x7c, 0x00, 0xfc, 0x00, 0x7c};
    CHECK(b.len == 8 && !memcmp(b.ptr, odd16, 8));
    CHECK_STATUS(ccz_hfl_tensor_decode(back, 4, CCZ_HFL_F16, b.ptr, b.len), CCZ_ERR_MALFORMED);
    CHECK_STR(ccz_error_detail(), "weight 0 is not a finite number");
    /* a mantissa that rounds up to 1024 carries into the exponent, odd exponents too: 2047.9
     * is 2048 (0x6800), -1.9999 is -2 (0xc000) */
    float carry[2] = {2047.9f, -1.9999f};
    b.len = 0;
    CHECK_OK(ccz_hfl_tensor_encode(&b, carry, 2, CCZ_HFL_F16));
    static const uint8_t carry16[4] = {0x00, 0x68, 0x00, 0xc0};
    CHECK(b.len == 4 && !memcmp(b.ptr, carry16, 4));
    ccz_buf_free(&b);
}

static void update_parse(void)
{
    float w[15], got[15];
    for (int i = 0; i < 15; i++)
        w[i] = (float)i / 4;
    ccz_buf t = CCZ_BUF_INIT;
    CHECK_OK(ccz_hfl_tensor_encode(&t, w, 15, CCZ_HFL_F32));
    Cczfl__Update u = CCZFL__UPDATE__INIT;
    u.round = 3;
    u.examples = 17;
    u.loss = 0.5;
    u.weights = (ProtobufCBinaryData){t.len, t.ptr};
    uint8_t msg[200];
    size_t len = cczfl__update__pack(&u, msg);
    ccz_hfl_update up;
    CHECK_OK(ccz_hfl_update_parse(&up, got, 15, msg, len));
    CHECK_INT(up.round, 3);
    CHECK_INT(up.examples, 17);
    CHECK(up.loss == 0.5); /* the client's reported loss, carried through */
    CHECK(!memcmp(got, w, sizeof w));
    CHECK_STATUS(ccz_hfl_update_parse(&up, got, 14, msg, len), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "not the model's 14 float32 values");
    CHECK_STATUS(ccz_hfl_update_parse(&up, got, 15, msg, len - 1), CCZ_ERR_MALFORMED);
    u.examples = 0;
    len = cczfl__update__pack(&u, msg);
    CHECK_STATUS(ccz_hfl_update_parse(&up, got, 15, msg, len), CCZ_ERR_MALFORMED);
    /* exactly as large as the model allows (a field this side does not know pads it): taken */
    u.examples = 17;
    size_t max = ccz_hfl_max_message(15);
    uint8_t *edge = calloc(1, max);
    len = cczfl__update__pack(&u, edge);
    size_t pad = max - len - 4; /* field 1000, bytes: a two-byte tag, a two-byte length */
    CHECK(pad >= 128 && pad < 16384);
    memcpy(edge + len, (const uint8_t[]){0xc2, 0x3e, (uint8_t)(pad | 0x80), (uint8_t)(pad >> 7)},
           4);
    CHECK_OK(ccz_hfl_update_parse(&up, got, 15, edge, max));
    CHECK_INT(up.examples, 17);
    CHECK(!memcmp(got, w, sizeof w));
    free(edge);
    /* larger than the model allows: refused before unpacking */
    uint8_t *big = calloc(1, ccz_hfl_max_message(15) + 1);
    CHECK_STATUS(ccz_hfl_update_parse(&up, got, 15, big, ccz_hfl_max_message(15) + 1),
                 CCZ_ERR_TOO_LARGE);
    free(big);
    ccz_buf_free(&t);
}

static void checkpoints(void)
{
    enum { DIM = 1000 };
    char path[1100];
    snprintf(path, sizeof path, "%s/ck.bin", test_tmpdir());
    ccz_hfl_strategy_opts so = CCZ_HFL_STRATEGY_OPTS_INIT;
    ccz_hfl_strategy *s, *s2, *avg;
    CHECK_OK(ccz_hfl_strategy_new(&s, CCZ_HFL_FEDADAM, DIM, &so));
    CHECK_OK(ccz_hfl_strategy_new(&s2, CCZ_HFL_FEDADAM, DIM, &so));
    CHECK_OK(ccz_hfl_strategy_new(&avg, CCZ_HFL_FEDAVG, DIM, &so));
    float g[DIM], a[DIM], b[DIM], g2[DIM];
    for (int i = 0; i < DIM; i++) {
        g[i] = frand();
        a[i] = g[i] + 0.1f;
        b[i] = g[i] + 0.3f;
    }
    const float *m[2] = {a, b};
    double w[2] = {1, 3};
    CHECK_OK(ccz_hfl_strategy_aggregate(s, g, m, w, 2));
    /* FedAdam's first step moves each weight by lr m / (sqrt(v) + tau) toward the mean */
    CHECK(g[0] > a[0] - 0.1f && g[0] - (a[0] - 0.1f) < 0.011f);
    CHECK_OK(ccz_hfl_checkpoint_write(path, 7, s, g, DIM));
    ccz_buf f = CCZ_BUF_INIT;
    CHECK_OK(ccz_file_read(&f, path, 1 << 20));
    unsigned round = 0;
    CHECK_OK(ccz_hfl_checkpoint_parse(&round, s2, g2, DIM, ccz_buf_span(&f)));
    CHECK_INT(round, 7);
    CHECK(!memcmp(g, g2, sizeof g));
    /* the same step from both states gives the same model */
    CHECK_OK(ccz_hfl_strategy_aggregate(s, g, m, w, 2));
    CHECK_OK(ccz_hfl_strategy_aggregate(s2, g2, m, w, 2));
    CHECK(!memcmp(g, g2, sizeof g));
    /* another strategy, another size, a truncated or extended file */
    CHECK_STATUS(ccz_hfl_checkpoint_parse(&round, avg, g2, DIM, ccz_buf_span(&f)),
                 CCZ_ERR_MALFORMED);
    CHECK_STATUS(ccz_hfl_checkpoint_parse(&round, s2, g2, DIM - 1, ccz_buf_span(&f)),
                 CCZ_ERR_MALFORMED);
    CHECK(ccz_hfl_checkpoint_parse(&round, s2, g2, DIM, (ccz_span){f.ptr, f.len - 1}) != CCZ_OK);
    CHECK_OK(ccz_buf_append(&f, "x", 1));
    CHECK_STATUS(ccz_hfl_checkpoint_parse(&round, s2, g2, DIM, ccz_buf_span(&f)),
                 CCZ_ERR_MALFORMED);
    ccz_buf_free(&f);
    ccz_hfl_strategy_free(s);
    ccz_hfl_strategy_free(s2);
    ccz_hfl_strategy_free(avg);
}

/* FedYogi by hand: global 0, one model at 1 (d = 1), tau = 0.001 so v starts at 1e-6:
 * m = 0.1, v = 1e-6 + 0.01 (sign(v - d^2) = -1), global = 0.01 * 0.1 / (0.1 + 0.001);
 * a second identical step (d = 1 - g1) keeps v below d^2, so v grows by 0.01 d^2 again. */
static void fedyogi_by_hand(void)
{
    ccz_hfl_strategy_opts so = CCZ_HFL_STRATEGY_OPTS_INIT;
    ccz_hfl_strategy *s;
    CHECK_OK(ccz_hfl_strategy_new(&s, CCZ_HFL_FEDYOGI, 1, &so));
    CHECK_INT(ccz_hfl_strategy_kind_of(s), CCZ_HFL_FEDYOGI);
    ccz_hfl_strategy_kind k;
    CHECK_OK(ccz_hfl_strategy_parse(&k, "fedyogi"));
    CHECK_INT(k, CCZ_HFL_FEDYOGI);
    CHECK_STR(ccz_hfl_strategy_name(CCZ_HFL_FEDYOGI), "fedyogi");
    float g = 0, one = 1;
    const float *m[1] = {&one};
    double w[1] = {1};
    CHECK_OK(ccz_hfl_strategy_aggregate(s, &g, m, w, 1));
    double v1 = 1e-6 + 0.01, g1 = 0.01 * 0.1 / (sqrt(v1) + 0.001);
    CHECK(fabs(g - g1) < 1e-7);
    /* its state survives a checkpoint: a resumed strategy takes the same second step */
    char path[1100];
    snprintf(path, sizeof path, "%s/yogi.ckpt", test_tmpdir());
    CHECK_OK(ccz_hfl_checkpoint_write(path, 1, s, &g, 1));
    ccz_buf f = CCZ_BUF_INIT;
    CHECK_OK(ccz_file_read(&f, path, 1 << 10));
    ccz_hfl_strategy *r;
    CHECK_OK(ccz_hfl_strategy_new(&r, CCZ_HFL_FEDYOGI, 1, &so));
    unsigned round = 0;
    float gr = 0;
    CHECK_OK(ccz_hfl_checkpoint_parse(&round, r, &gr, 1, ccz_buf_span(&f)));
    CHECK(round == 1 && gr == g);
    CHECK_OK(ccz_hfl_strategy_aggregate(r, &gr, m, w, 1));
    ccz_hfl_strategy_free(r);
    ccz_buf_free(&f);
    CHECK_OK(ccz_hfl_strategy_aggregate(s, &g, m, w, 1));
    double d = 1 - g1, m2 = 0.9 * 0.1 + 0.1 * d, v2 = v1 + 0.01 * d * d;
    double g2 = g1 + 0.01 * m2 / (sqrt(v2) + 0.001);
    fprintf(stderr, "fedyogi by hand: %.9g after two steps (expected %.9g)\n", (double)g, g2);
    CHECK(fabs(g - g2) < 1e-6);
    CHECK(gr == g);
    ccz_hfl_strategy_free(s);
}

/* FedAdam by hand with the default options (lr 0.01, beta1 0.9, beta2 0.99, tau 0.001): global
 * 0, one model at 2 (d = 2): m = 0.2, v = 0.01 d^2 = 0.04, global = 0.01 * 0.2 / (0.2 + 0.001);
 * a second step from there (d = 2 - g1) decays both moments. */
static void fedadam_by_hand(void)
{
    ccz_hfl_strategy_opts so = CCZ_HFL_STRATEGY_OPTS_INIT;
    ccz_hfl_strategy *s;
    CHECK_OK(ccz_hfl_strategy_new(&s, CCZ_HFL_FEDADAM, 1, &so));
    float g = 0, two = 2;
    const float *m[1] = {&two};
    double w[1] = {1};
    CHECK_OK(ccz_hfl_strategy_aggregate(s, &g, m, w, 1));
    double g1 = 0.01 * 0.2 / (sqrt(0.04) + 0.001);
    CHECK(fabs(g - g1) < 1e-7);
    CHECK_OK(ccz_hfl_strategy_aggregate(s, &g, m, w, 1));
    double d = 2 - g1, m2 = 0.9 * 0.2 + 0.1 * d, v2 = 0.99 * 0.04 + 0.01 * d * d;
    double g2 = g1 + 0.01 * m2 / (sqrt(v2) + 0.001);
    fprintf(stderr, "fedadam by hand: %.9g after two steps (expected %.9g)\n", (double)g, g2);
    CHECK(fabs(g - g2) < 1e-6);
    ccz_hfl_strategy_free(s);
}

/* Five rounds of FedYogi on 3 clients' models against the same recurrence in NumPy (float64),
 * with updates both above and below v, so both signs of Yogi's step are taken. */
static void fedyogi_matches_numpy(void)
{
    need_numpy();
    enum { N = 3, D = 4096, R = 5 };
    ccz_hfl_strategy_opts so = CCZ_HFL_STRATEGY_OPTS_INIT;
    so.server_lr = 0.05f;
    ccz_hfl_strategy *s;
    CHECK_OK(ccz_hfl_strategy_new(&s, CCZ_HFL_FEDYOGI, D, &so));
    static float g[D], models[R][N][D];
    double w[N] = {100, 250, 40};
    for (int i = 0; i < D; i++)
        g[i] = frand();
    char in[1100], res[1100], cmd[4000];
    snprintf(in, sizeof in, "%s/yogi.bin", test_tmpdir());
    snprintf(res, sizeof res, "%s/yogi-out.bin", test_tmpdir());
    FILE *f = fopen(in, "wb");
    CHECK(f != NULL);
    fwrite(g, sizeof(float), D, f);
    for (int r = 0; r < R; r++) {
        /* early rounds move far (v grows), later ones little (v shrinks toward d^2) */
        float scale = r < 2 ? 0.5f : 0.01f;
        for (int k = 0; k < N; k++)
            for (int i = 0; i < D; i++)
                models[r][k][i] = g[i] + scale * frand();
        fwrite(models[r], sizeof(float), (size_t)N * D, f);
    }
    fclose(f);
    for (int r = 0; r < R; r++) {
        const float *m[N] = {models[r][0], models[r][1], models[r][2]};
        CHECK_OK(ccz_hfl_strategy_aggregate(s, g, m, w, N));
    }
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 -c 'import numpy as np\n"
             "a = np.fromfile(\"%s\", dtype=\"<f4\").astype(np.float64)\n"
             "D, N, R = %d, %d, %d\n"
             "x = a[:D].copy(); ms = a[D:].reshape(R, N, D)\n"
             "w = np.array([100.0, 250.0, 40.0])\n"
             "b1, b2, lr, tau = 0.9, 0.99, 0.05, 1e-3\n"
             "m = np.zeros(D); v = np.full(D, tau * tau)\n"
             "for r in range(R):\n"
             "    d = np.average(ms[r], axis=0, weights=w) - x\n"
             "    m = b1 * m + (1 - b1) * d\n"
             "    v = v - (1 - b2) * d * d * np.sign(v - d * d)\n"
             "    x = x + lr * m / (np.sqrt(v) + tau)\n"
             "x.astype(\"<f8\").tofile(\"%s\")'",
             in, D, N, R, res);
    CHECK(system(cmd) == 0);
    static double ref[D];
    f = fopen(res, "rb");
    CHECK(f != NULL);
    CHECK(fread(ref, sizeof(double), D, f) == D);
    fclose(f);
    double dmax = max_diff(g, ref, D);
    fprintf(stderr, "fedyogi: %d rounds of %d clients, %d values: max |ccz - numpy| = %.3g\n", R, N,
            D, dmax);
    CHECK(dmax <= 1e-5);
    ccz_hfl_strategy_free(s);
}

/* Top-k picks the largest magnitudes (ties: lower indices) in index order. */
static void topk_selection(void)
{
    float d[7] = {0.1f, -5, 3, 0, 3, -0.2f, 7}, vals[7];
    uint32_t idx[7];
    CHECK_OK(ccz_hfl_topk(idx, vals, d, 7, 3));
    CHECK_INT(idx[0], 1);
    CHECK_INT(idx[1], 2);
    CHECK_INT(idx[2], 6);
    CHECK(vals[0] == -5 && vals[1] == 3 && vals[2] == 7);
    CHECK_OK(ccz_hfl_topk(idx, vals, d, 7, 7));
    for (uint32_t i = 0; i < 7; i++)
        CHECK(idx[i] == i && vals[i] == d[i]);
    CHECK_STATUS(ccz_hfl_topk(idx, vals, d, 7, 0), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(ccz_hfl_topk(idx, vals, d, 7, 8), CCZ_ERR_INVALID_ARGUMENT);
    d[3] = NAN;
    CHECK_STATUS(ccz_hfl_topk(idx, vals, d, 7, 2), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "value 3 is not a finite number");
    d[3] = -INFINITY; /* not a NaN, and not finite either */
    CHECK_STATUS(ccz_hfl_topk(idx, vals, d, 7, 2), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "value 3 is not a finite number");
    /* many equal magnitudes: exactly k, increasing, none left out larger than one taken */
    enum { N = 10007 };
    static float big[N], v[N];
    static uint32_t ix[N];
    static bool taken[N];
    for (int i = 0; i < N; i++)
        big[i] = (float)((int)(frand() * 20)) / 4;
    for (size_t k = 1; k <= N; k += 1111) {
        CHECK_OK(ccz_hfl_topk(ix, v, big, N, k));
        memset(taken, 0, sizeof taken);
        float least = INFINITY, most_left = 0;
        for (size_t j = 0; j < k; j++) {
            CHECK(j == 0 || ix[j] > ix[j - 1]);
            CHECK(v[j] == big[ix[j]]);
            taken[ix[j]] = true;
            least = fminf(least, fabsf(v[j]));
        }
        for (int i = 0; i < N; i++)
            if (!taken[i])
                most_left = fmaxf(most_left, fabsf(big[i]));
        CHECK(least >= most_left);
    }
}

/* Densifying a sparse update on the global model, and every inconsistency refused. */
static void sparse_decoding(void)
{
    float g[6] = {1, 2, 3, 4, 5, 6}, out[6], dv[3] = {0.5f, -2, 10};
    uint32_t idx[3] = {0, 3, 5};
    ccz_buf b = CCZ_BUF_INIT;
    CHECK_OK(ccz_hfl_tensor_encode(&b, dv, 3, CCZ_HFL_F32));
    CHECK_OK(ccz_hfl_sparse_decode(out, g, 6, idx, 3, CCZ_HFL_F32, b.ptr, b.len));
    float want[6] = {1.5f, 2, 3, 2, 5, 16};
    CHECK(!memcmp(out, want, sizeof want));
    CHECK_OK(ccz_hfl_sparse_decode(out, g, 6, idx, 0, CCZ_HFL_F32, b.ptr, 0));
    CHECK(!memcmp(out, g, sizeof g));
    /* an index beyond the model, repeated or decreasing indices, counts that disagree */
    uint32_t far[3] = {0, 3, 6}, same[3] = {0, 3, 3}, down[3] = {3, 0, 5};
    CHECK_STATUS(ccz_hfl_sparse_decode(out, g, 6, far, 3, CCZ_HFL_F32, b.ptr, b.len),
                 CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "index 2 is 6, beyond the model's 6 values");
    CHECK_STATUS(ccz_hfl_sparse_decode(out, g, 6, same, 3, CCZ_HFL_F32, b.ptr, b.len),
                 CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "indices must increase");
    CHECK_STATUS(ccz_hfl_sparse_decode(out, g, 6, down, 3, CCZ_HFL_F32, b.ptr, b.len),
                 CCZ_ERR_MALFORMED);
    CHECK_STATUS(ccz_hfl_sparse_decode(out, g, 6, idx, 3, CCZ_HFL_F32, b.ptr, b.len - 4),
                 CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "8 bytes of deltas are not the 3 float32 values");
    CHECK_STATUS(ccz_hfl_sparse_decode(out, g, 6, idx, 2, CCZ_HFL_F32, b.ptr, b.len),
                 CCZ_ERR_MALFORMED);
    CHECK_STATUS(ccz_hfl_sparse_decode(out, g, 2, idx, 3, CCZ_HFL_F32, b.ptr, b.len),
                 CCZ_ERR_MALFORMED);
    CHECK_STR(ccz_error_detail(), "a sparse update of 3 values for a model of 2");
    CHECK_STATUS(ccz_hfl_sparse_decode(out, g, 6, idx, 3, 5, b.ptr, b.len), CCZ_ERR_MALFORMED);
    /* a finite delta whose sum with the global weight is not */
    float huge[6] = {3e38f, 0, 0, 0, 0, 0};
    dv[0] = 3e38f;
    b.len = 0;
    CHECK_OK(ccz_hfl_tensor_encode(&b, dv, 3, CCZ_HFL_F32));
    CHECK_STATUS(ccz_hfl_sparse_decode(out, huge, 6, idx, 3, CCZ_HFL_F32, b.ptr, b.len),
                 CCZ_ERR_MALFORMED);
    /* float16 deltas */
    b.len = 0;
    float hv[3] = {0.25f, -1, 2};
    CHECK_OK(ccz_hfl_tensor_encode(&b, hv, 3, CCZ_HFL_F16));
    CHECK_OK(ccz_hfl_sparse_decode(out, g, 6, idx, 3, CCZ_HFL_F16, b.ptr, b.len));
    CHECK(out[0] == 1.25f && out[3] == 3 && out[5] == 8 && out[1] == 2);
    /* through the message parser: sparse needs the round's model and no dense weights */
    Cczfl__Update u = CCZFL__UPDATE__INIT;
    u.round = 2;
    u.examples = 9;
    u.dtype = CCZFL__DTYPE__F16;
    u.sparse = true;
    u.n_indices = 3;
    u.indices = idx;
    u.deltas = (ProtobufCBinaryData){b.len, b.ptr};
    uint8_t msg[200];
    size_t len = cczfl__update__pack(&u, msg);
    ccz_hfl_update up;
    CHECK_OK(ccz_hfl_update_parse_on(&up, out, 6, g, msg, len));
    CHECK_INT(up.round, 2);
    CHECK(out[5] == 8);
    CHECK_STATUS(ccz_hfl_update_parse(&up, out, 6, msg, len), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "without the round's model");
    u.weights = (ProtobufCBinaryData){b.len, b.ptr};
    len = cczfl__update__pack(&u, msg);
    CHECK_STATUS(ccz_hfl_update_parse_on(&up, out, 6, g, msg, len), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "dense weights too");
    ccz_buf_free(&b);
}

/* ---- streamed updates ------------------------------------------------------------------------*/

/* Appends m as a gRPC frame to the buffer out. */
static void frame_chunk(const Cczfl__UpdateChunk *m, void *out)
{
    uint8_t msg[512];
    size_t n = cczfl__update_chunk__pack(m, msg);
    CHECK(n <= sizeof msg);
    CHECK_OK(ccz_rpc_frame_write(out, (ccz_span){msg, n}));
}

/* Appends one UpdateChunk as a gRPC frame: the header when h, else a slice. */
static void frame(ccz_buf *out, const Cczfl__UpdateHeader *h, const uint8_t *bytes, size_t len,
                  const uint32_t *indices, size_t n_indices)
{
    Cczfl__UpdateChunk m = CCZFL__UPDATE_CHUNK__INIT;
    m.header = (Cczfl__UpdateHeader *)h;
    if (indices) {
        m.n_indices = n_indices;
        m.indices = (uint32_t *)indices;
        m.deltas = (ProtobufCBinaryData){len, (uint8_t *)bytes};
    } else {
        m.weights = (ProtobufCBinaryData){len, (uint8_t *)bytes};
    }
    frame_chunk(&m, out);
}

/* The chunks of a dense streamed update, each given to emit with to: the header h, slices of 16
 * bytes of w up to stop, then a slice of w's first extra bytes (none when extra is 0). The
 * parser's tests frame them; the aggregator's clients send them on a PushUpdateStream. */
static void dense_chunks(const Cczfl__UpdateHeader *h, const uint8_t *w, size_t stop, size_t extra,
                         void (*emit)(const Cczfl__UpdateChunk *m, void *to), void *to)
{
    Cczfl__UpdateChunk m = CCZFL__UPDATE_CHUNK__INIT;
    m.header = (Cczfl__UpdateHeader *)h;
    emit(&m, to);
    m.header = NULL;
    for (size_t at = 0; at < stop; at += 16) {
        m.weights = (ProtobufCBinaryData){stop - at < 16 ? stop - at : 16, (uint8_t *)w + at};
        emit(&m, to);
    }
    if (extra) {
        m.weights = (ProtobufCBinaryData){extra, (uint8_t *)w};
        emit(&m, to);
    }
}

/* A header for 15 float32 weights, then slices of 16, 16, 16 and 12 bytes (or as told). */
static ccz_status dense_stream(float *got, ccz_hfl_update *up, const ccz_buf *t, uint64_t total,
                               size_t stop, size_t extra)
{
    Cczfl__UpdateHeader h = CCZFL__UPDATE_HEADER__INIT;
    h.round = 4;
    h.examples = 11;
    h.loss = 0.25;
    h.total = total;
    ccz_buf b = CCZ_BUF_INIT;
    dense_chunks(&h, t->ptr, stop, extra, frame_chunk, &b);
    ccz_status s = ccz_hfl_update_stream_parse(up, got, 15, NULL, b.ptr, b.len);
    ccz_buf_free(&b);
    return s;
}

/* The chunk parser alone: a dense update in slices equals the unary one; slices past the model,
 * a wrong total, a stream cut short, headers out of place and partial values are refused; a
 * sparse one in slices keeps its indices increasing across them. */
static void stream_parsing(void)
{
    float w[15], got[15];
    for (int i = 0; i < 15; i++)
        w[i] = (float)i / 4 - 1;
    ccz_buf t = CCZ_BUF_INIT;
    CHECK_OK(ccz_hfl_tensor_encode(&t, w, 15, CCZ_HFL_F32));
    ccz_hfl_update up;
    CHECK_OK(dense_stream(got, &up, &t, 60, 60, 0));
    CHECK_INT(up.round, 4);
    CHECK_INT(up.examples, 11);
    CHECK(up.loss == 0.25);
    CHECK(!memcmp(got, w, sizeof w));
    CHECK_STATUS(dense_stream(got, &up, &t, 60, 60, 4), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "chunk 6: 4 bytes past the update's 60 (60 in already)");
    CHECK_STATUS(dense_stream(got, &up, &t, 56, 56, 0), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "a total of 56 bytes, not the 60 of the model's float32");
    CHECK_STATUS(dense_stream(got, &up, &t, 64, 60, 4), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "a total of 64 bytes");
    CHECK_STATUS(dense_stream(got, &up, &t, 60, 32, 0), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "the stream ended after 32 of its 60 bytes");
    CHECK_STATUS(dense_stream(got, &up, &t, 60, 30, 0), CCZ_ERR_MALFORMED); /* half a value */
    CHECK_CONTAINS(ccz_error_detail(), "chunk 3: 14 bytes are not whole float32 values");
    CHECK_STATUS(ccz_hfl_update_stream_parse(&up, got, 15, NULL, NULL, 0), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "without a header");
    /* a slice first, a second header, a NaN in a slice */
    Cczfl__UpdateHeader h = CCZFL__UPDATE_HEADER__INIT;
    h.examples = 1;
    h.total = 60;
    ccz_buf b = CCZ_BUF_INIT;
    frame(&b, NULL, t.ptr, 16, NULL, 0);
    CHECK_STATUS(ccz_hfl_update_stream_parse(&up, got, 15, NULL, b.ptr, b.len), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "chunk 1 must be the header alone");
    /* a header carrying sparse deltas, or indices, alone: refused, not taken without them */
    static const uint32_t one_index[1] = {3};
    for (int k = 0; k < 2; k++) {
        Cczfl__UpdateChunk hd = CCZFL__UPDATE_CHUNK__INIT;
        hd.header = &h;
        if (k == 0)
            hd.deltas = (ProtobufCBinaryData){8, (uint8_t *)t.ptr};
        else
            hd.n_indices = 1, hd.indices = (uint32_t *)one_index;
        b.len = 0;
        frame_chunk(&hd, &b);
        CHECK_STATUS(ccz_hfl_update_stream_parse(&up, got, 15, NULL, b.ptr, b.len),
                     CCZ_ERR_MALFORMED);
        CHECK_STR(ccz_error_detail(), "chunk 1 must be the header alone");
    }
    b.len = 0;
    frame(&b, &h, NULL, 0, NULL, 0);
    frame(&b, &h, NULL, 0, NULL, 0);
    CHECK_STATUS(ccz_hfl_update_stream_parse(&up, got, 15, NULL, b.ptr, b.len), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "chunk 2: a second header");
    b.len = 0;
    frame(&b, &h, NULL, 0, NULL, 0);
    uint8_t nan[8] = {0, 0, 0, 0, 0, 0, 0xc0, 0x7f};
    frame(&b, NULL, nan, 8, NULL, 0);
    CHECK_STATUS(ccz_hfl_update_stream_parse(&up, got, 15, NULL, b.ptr, b.len), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "weight 1 is not a finite number");
    CHECK_CONTAINS(ccz_error_detail(), "chunk 2 (values from 0)");
    /* sparse: 4 deltas over two slices, on a global model */
    float g[15], d[4] = {1, 2, 3, 4};
    for (int i = 0; i < 15; i++)
        g[i] = (float)i;
    ccz_buf dv = CCZ_BUF_INIT;
    CHECK_OK(ccz_hfl_tensor_encode(&dv, d, 4, CCZ_HFL_F16));
    static const uint32_t idx[4] = {1, 5, 9, 14}, bad[4] = {1, 5, 5, 14};
    h.sparse = true;
    h.count = 4;
    h.dtype = CCZFL__DTYPE__F16;
    h.total = 8;
    for (int k = 0; k < 2; k++) {
        const uint32_t *ix = k ? bad : idx;
        b.len = 0;
        frame(&b, &h, NULL, 0, NULL, 0);
        frame(&b, NULL, dv.ptr, 4, ix, 2);
        frame(&b, NULL, dv.ptr + 4, 4, ix + 2, 2);
        ccz_status s = ccz_hfl_update_stream_parse(&up, got, 15, g, b.ptr, b.len);
        if (k == 0) {
            CHECK_OK(s);
            CHECK(got[0] == 0 && got[1] == 2 && got[5] == 7 && got[9] == 12 && got[14] == 18);
            CHECK(got[13] == 13);
            CHECK_STATUS(ccz_hfl_update_stream_parse(&up, got, 15, NULL, b.ptr, b.len),
                         CCZ_ERR_MALFORMED);
            CHECK_CONTAINS(ccz_error_detail(), "without the round's model");
        } else {
            CHECK_STATUS(s, CCZ_ERR_MALFORMED);
            CHECK_CONTAINS(ccz_error_detail(),
                           "index 2 (5) does not follow index 1 (5): indices must increase");
        }
    }
    /* indices that disagree with the deltas, dense weights in a sparse stream, too many */
    b.len = 0;
    frame(&b, &h, NULL, 0, NULL, 0);
    frame(&b, NULL, dv.ptr, 4, idx, 3);
    CHECK_STATUS(ccz_hfl_update_stream_parse(&up, got, 15, g, b.ptr, b.len), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "chunk 2: 3 indices for 4 bytes of deltas");
    b.len = 0;
    frame(&b, &h, NULL, 0, NULL, 0);
    frame(&b, NULL, dv.ptr, 4, NULL, 0);
    CHECK_STATUS(ccz_hfl_update_stream_parse(&up, got, 15, g, b.ptr, b.len), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "dense weights in a sparse update");
    h.count = 16;
    h.total = 32;
    b.len = 0;
    frame(&b, &h, NULL, 0, NULL, 0);
    CHECK_STATUS(ccz_hfl_update_stream_parse(&up, got, 15, g, b.ptr, b.len), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "a sparse update of 16 values for a model of 15");
    /* a sparse update of every value (a count of the model's 15) is taken */
    float ones[15];
    uint32_t every[15];
    for (int i = 0; i < 15; i++) {
        ones[i] = 1;
        every[i] = (uint32_t)i;
    }
    ccz_buf ov = CCZ_BUF_INIT;
    CHECK_OK(ccz_hfl_tensor_encode(&ov, ones, 15, CCZ_HFL_F16));
    h.count = 15;
    h.total = 30;
    b.len = 0;
    frame(&b, &h, NULL, 0, NULL, 0);
    frame(&b, NULL, ov.ptr, ov.len, every, 15);
    CHECK_OK(ccz_hfl_update_stream_parse(&up, got, 15, g, b.ptr, b.len));
    for (int i = 0; i < 15; i++)
        CHECK(got[i] == g[i] + 1);
    ccz_buf_free(&ov);
    h.count = 2;
    h.total = 4;
    b.len = 0;
    frame(&b, &h, NULL, 0, NULL, 0);
    frame(&b, NULL, dv.ptr, 4, idx, 2);
    frame(&b, NULL, dv.ptr + 4, 2, idx + 2, 1);
    CHECK_STATUS(ccz_hfl_update_stream_parse(&up, got, 15, g, b.ptr, b.len), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "chunk 3: 2 bytes past the update's 4");
    ccz_buf_free(&dv);
    ccz_buf_free(&b);
    ccz_buf_free(&t);
}

/* ---- the aggregator --------------------------------------------------------------------------*/

#define DIM 15 /* lr 4 -> 3 */

typedef hfl_test_server server;

/* The aggregator's options for the lr model (4 -> 3) over rounds, waiting for min clients. */
static ccz_hfl_service_opts lr_opts(unsigned rounds, unsigned min)
{
    ccz_hfl_service_opts o = CCZ_HFL_SERVICE_OPTS_INIT;
    o.model = "lr";
    o.shape = (ccz_mlp_shape){1, {4, 3}};
    o.rounds = rounds;
    o.min_clients = min;
    o.log = stderr;
    return o;
}

static void server_start(server *s, unsigned rounds, unsigned min, unsigned timeout_ms,
                         const char *checkpoint)
{
    memset(s, 0, sizeof *s);
    ccz_hfl_service_opts o = lr_opts(rounds, min);
    o.round_timeout_ms = timeout_ms;
    o.gather_ms = 3000;
    o.checkpoint = checkpoint;
    hfl_test_server_start(s, &o, DIM);
}

static void server_stop(server *s)
{
    hfl_test_server_stop(s);
}

typedef struct {
    const server *srv;
    const char *name;
    float w[DIM];
    uint64_t examples;
    uint64_t join_examples; /* the count it joins with (0: examples); its updates' count weighs */
    int shape_error;        /* send a mis-shaped update first */
    int sleep_ms;           /* before uploading round 1 (a straggler) */
    int codes[8];           /* of each PushUpdate */
    char msgs[8][512];
    unsigned pushes;
    float final[DIM];
    bool done;
    unsigned resumed_at; /* the plan's rounds done at join */
    bool sparse;         /* uploads w at 4 indices as top-k deltas, after 3 malformed ones */
    float global[DIM];   /* the round's model */
    float sent[DIM];     /* the model the sparse upload stands for */
    bool stream;         /* uploads with PushUpdateStream, in 16-byte slices */
    int stream_faults;   /* first: a slice past the model, a wrong total, a stream closed short */
    bool cut;            /* round 1: a stream cut after one slice, then a late one */
    bool retry;          /* round 1: a stream cut after one slice, then a whole one at once */
    double loss;         /* of its unary updates (0: 1) */
    unsigned acked;      /* the round its last accepted unary update's Ack named */
} client;

static int unary(ccz_rpc_channel *ch, const char *method, const ProtobufCMessage *req,
                 const ProtobufCMessageDescriptor *d, ProtobufCMessage **resp, char *msg)
{
    char path[80];
    snprintf(path, sizeof path, "/cczfl.Aggregator/%s", method);
    ccz_rpc_call_opts co = CCZ_RPC_CALL_OPTS_INIT;
    co.deadline_ms = 20000;
    ccz_rpc_status st;
    CHECK_OK(ccz_rpc_unary(ch, resp, &st, path, req, d, &co));
    if (msg)
        snprintf(msg, 512, "%s", st.message);
    int code = st.code;
    ccz_rpc_status_free(&st);
    return code;
}

static int push(client *c, ccz_rpc_channel *ch, unsigned round, size_t n)
{
    ccz_buf b = CCZ_BUF_INIT;
    float w[DIM + 1];
    memcpy(w, c->w, sizeof c->w);
    w[DIM] = 1;
    CHECK_OK(ccz_hfl_tensor_encode(&b, w, n, CCZ_HFL_F32));
    Cczfl__Update u = CCZFL__UPDATE__INIT;
    u.round = round;
    u.examples = c->examples;
    u.loss = c->loss ? c->loss : 1;
    u.weights = (ProtobufCBinaryData){b.len, b.ptr};
    ProtobufCMessage *resp = NULL;
    unsigned k = c->pushes < 8 ? c->pushes++ : 7;
    c->codes[k] = unary(ch, "PushUpdate", &u.base, &cczfl__ack__descriptor, &resp, c->msgs[k]);
    if (resp) {
        c->acked = ((const Cczfl__Ack *)resp)->round;
        protobuf_c_message_free_unpacked(resp, NULL);
    }
    ccz_buf_free(&b);
    return c->codes[k];
}

/* Three malformed sparse updates (an index beyond the model, indices out of order, fewer deltas
 * than indices), then the valid one: w's values at 4 indices as deltas from the global model. */
static void push_sparse(client *c, ccz_rpc_channel *ch, unsigned round)
{
    static const uint32_t good[4] = {0, 4, 9, 14}, far[4] = {0, 4, 9, 15}, order[4] = {4, 0, 9, 14};
    const uint32_t *cases[4] = {far, order, good, good};
    float d[4];
    memcpy(c->sent, c->global, sizeof c->sent);
    for (int j = 0; j < 4; j++) {
        d[j] = c->w[good[j]] - c->global[good[j]];
        c->sent[good[j]] = c->global[good[j]] + d[j];
    }
    for (int t = 0; t < 4; t++) {
        ccz_buf b = CCZ_BUF_INIT;
        CHECK_OK(ccz_hfl_tensor_encode(&b, d, t == 2 ? 3 : 4, CCZ_HFL_F32));
        Cczfl__Update u = CCZFL__UPDATE__INIT;
        u.round = round;
        u.examples = c->examples;
        u.loss = 1;
        u.sparse = true;
        u.n_indices = 4;
        u.indices = (uint32_t *)cases[t];
        u.deltas = (ProtobufCBinaryData){b.len, b.ptr};
        ProtobufCMessage *resp = NULL;
        unsigned k = c->pushes < 8 ? c->pushes++ : 7;
        c->codes[k] = unary(ch, "PushUpdate", &u.base, &cczfl__ack__descriptor, &resp, c->msgs[k]);
        if (resp)
            protobuf_c_message_free_unpacked(resp, NULL);
        ccz_buf_free(&b);
    }
}

typedef struct {
    int code;
    char message[512];
} stream_status;

static void stream_msg(const ProtobufCMessage *resp, void *payload)
{
    (void)resp, (void)payload;
}

static void stream_end(const ccz_rpc_status *st, void *payload)
{
    stream_status *r = payload;
    r->code = st->code;
    snprintf(r->message, sizeof r->message, "%s", st->message);
}

static void send_chunk(const Cczfl__UpdateChunk *m, void *st)
{
    CHECK_OK(ccz_rpc_stream_send(st, &m->base));
}

/* A PushUpdateStream of c's weights: a header announcing total bytes, slices of 16 bytes up to
 * stop, then a slice of extra bytes, then the end (not when close is false: the call is cut at
 * its deadline). */
static int push_stream(client *c, ccz_rpc_channel *ch, unsigned round, uint64_t total, size_t stop,
                       size_t extra, bool close, int64_t deadline_ms)
{
    ccz_buf b = CCZ_BUF_INIT;
    CHECK_OK(ccz_hfl_tensor_encode(&b, c->w, DIM, CCZ_HFL_F32));
    Cczfl__UpdateHeader h = CCZFL__UPDATE_HEADER__INIT;
    h.round = round;
    h.examples = c->examples;
    h.loss = 1;
    h.total = total;
    ccz_rpc_call_opts co = CCZ_RPC_CALL_OPTS_INIT;
    co.deadline_ms = deadline_ms;
    stream_status r = {-1, ""};
    ccz_rpc_stream *st;
    CHECK_OK(ccz_rpc_start(ch, &st, "/cczfl.Aggregator/PushUpdateStream", NULL,
                           &cczfl__ack__descriptor, &co, stream_msg, stream_end, &r));
    dense_chunks(&h, b.ptr, stop, extra, send_chunk, st);
    if (close)
        CHECK_OK(ccz_rpc_stream_close(st));
    CHECK_OK(ccz_rpc_channel_run(ch));
    unsigned k = c->pushes < 8 ? c->pushes++ : 7;
    c->codes[k] = r.code;
    snprintf(c->msgs[k], sizeof c->msgs[k], "%s", r.message);
    ccz_buf_free(&b);
    return r.code;
}

/* Round 1's streamed uploads of a client, with its faults first. */
static void push_streams(client *c, ccz_rpc_channel *ch, unsigned round)
{
    if (c->stream_faults && round == 1) {
        push_stream(c, ch, round, DIM * 4, DIM * 4, 4, true, 20000); /* a slice past the end */
        push_stream(c, ch, round, DIM * 4 - 4, DIM * 4 - 4, 0, true, 20000); /* wrong total */
        push_stream(c, ch, round, DIM * 4, 32, 0, true, 20000); /* closed before its end */
    }
    if ((c->cut || c->retry) && round == 1)
        push_stream(c, ch, round, DIM * 4, 16, 0, false, 500); /* cut after one slice */
    if (c->cut && round == 1)
        usleep(2000 * 1000); /* past the round's deadline */
    push_stream(c, ch, round, DIM * 4, DIM * 4, 0, true, 20000);
}

static void *client_run(void *arg)
{
    client *c = arg;
    ccz_rpc_channel_opts co = CCZ_RPC_CHANNEL_OPTS_INIT;
    ccz_rpc_channel *ch = NULL;
    CHECK_OK(ccz_rpc_channel_new(&ch, c->srv->target, &co));
    Cczfl__JoinRequest jr = CCZFL__JOIN_REQUEST__INIT;
    jr.name = (char *)c->name;
    jr.examples = c->join_examples ? c->join_examples : c->examples;
    jr.model = "lr";
    ProtobufCMessage *resp = NULL;
    CHECK_INT(unary(ch, "Join", &jr.base, &cczfl__plan__descriptor, &resp, NULL), 0);
    if (resp) {
        c->resumed_at = ((Cczfl__Plan *)resp)->round;
        protobuf_c_message_free_unpacked(resp, NULL);
    }
    unsigned after = 0;
    for (int guard = 0; guard < 10; guard++) {
        Cczfl__ModelRequest mr = CCZFL__MODEL_REQUEST__INIT;
        mr.after_round = after;
        resp = NULL;
        int code = unary(ch, "GetModel", &mr.base, &cczfl__model__descriptor, &resp, NULL);
        CHECK_INT(code, 0);
        if (code || !resp)
            break;
        const Cczfl__Model *m = (const Cczfl__Model *)resp;
        unsigned round = m->round;
        c->done = m->done;
        if (m->done)
            CHECK_OK(
                ccz_hfl_tensor_decode(c->final, DIM, m->dtype, m->weights.data, m->weights.len));
        else
            CHECK_OK(
                ccz_hfl_tensor_decode(c->global, DIM, m->dtype, m->weights.data, m->weights.len));
        protobuf_c_message_free_unpacked(resp, NULL);
        if (c->done)
            break;
        if (c->shape_error && round == 1)
            push(c, ch, round, DIM + 1);
        if (c->sleep_ms && round == 1)
            usleep((useconds_t)c->sleep_ms * 1000);
        if (c->sparse)
            push_sparse(c, ch, round);
        else if (c->stream)
            push_streams(c, ch, round);
        else
            push(c, ch, round, DIM);
        after = round;
    }
    ccz_rpc_channel_free(ch);
    return NULL;
}

static void start_clients(client *cs, size_t n, pthread_t *t)
{
    for (size_t i = 0; i < n; i++)
        test_thread(&t[i], client_run, &cs[i]);
}

static void join_clients(size_t n, pthread_t *t)
{
    for (size_t i = 0; i < n; i++)
        pthread_join(t[i], NULL);
}

/* One round of two clients, one of which sends a mis-shaped update first: refused with
 * INVALID_ARGUMENT, the round goes on, and the result is NumPy's weighted mean, weighed by the
 * examples of the updates (not those the clients joined with). */
static void round_with_misshaped_update(void)
{
    need_numpy();
    server s;
    server_start(&s, 1, 2, 20000, NULL);
    client cs[2] = {
        {.srv = &s, .name = "alice", .examples = 30, .join_examples = 1, .shape_error = 1},
        {.srv = &s, .name = "bob", .examples = 10, .join_examples = 90}};
    for (int i = 0; i < DIM; i++) {
        cs[0].w[i] = frand();
        cs[1].w[i] = frand() * 3;
    }
    pthread_t t[2];
    start_clients(cs, 2, t);
    join_clients(2, t);
    server_stop(&s);
    CHECK_INT(cs[0].pushes, 2);
    CHECK_INT(cs[0].codes[0], CCZ_RPC_INVALID_ARGUMENT);
    CHECK_CONTAINS(cs[0].msgs[0], "64 bytes of weights are not the model's 15 float32 values");
    CHECK_INT(cs[0].codes[1], CCZ_RPC_OK);
    CHECK_INT(cs[1].codes[0], CCZ_RPC_OK);
    CHECK(cs[0].done && cs[1].done);
    CHECK_INT(s.n_rounds, 1);
    CHECK_INT(s.rounds[0].received, 2);
    const float *m[2] = {cs[0].w, cs[1].w};
    double w[2] = {30, 10}, ref[DIM];
    CHECK(numpy_mean(ref, m, w, 2, DIM));
    double d = max_diff(cs[0].final, ref, DIM);
    fprintf(stderr, "aggregator's FedAvg: max |ccz - numpy| = %.3g\n", d);
    CHECK(d <= 1e-6);
    CHECK(!memcmp(cs[0].final, cs[1].final, sizeof cs[0].final));
}

/* A top-k sparse update densified on the round's model, after malformed ones were refused with
 * INVALID_ARGUMENT while the round went on: the result is NumPy's weighted mean of the
 * densified model and the other client's dense one. */
static void round_with_sparse_update(void)
{
    need_numpy();
    server s;
    server_start(&s, 1, 2, 20000, NULL);
    client cs[2] = {{.srv = &s, .name = "topk", .examples = 20, .sparse = true},
                    {.srv = &s, .name = "dense", .examples = 60}};
    for (int i = 0; i < DIM; i++) {
        cs[0].w[i] = frand() * 2;
        cs[1].w[i] = frand();
    }
    pthread_t t[2];
    start_clients(cs, 2, t);
    join_clients(2, t);
    server_stop(&s);
    CHECK_INT(cs[0].pushes, 4);
    for (int k = 0; k < 3; k++)
        CHECK_INT(cs[0].codes[k], CCZ_RPC_INVALID_ARGUMENT);
    CHECK_CONTAINS(cs[0].msgs[0], "index 3 is 15, beyond the model's 15 values");
    CHECK_CONTAINS(cs[0].msgs[1], "indices must increase");
    CHECK_CONTAINS(cs[0].msgs[2], "12 bytes of deltas are not the 4 float32 values");
    CHECK_INT(cs[0].codes[3], CCZ_RPC_OK);
    CHECK_INT(s.n_rounds, 1);
    CHECK_INT(s.rounds[0].received, 2);
    const float *m[2] = {cs[0].sent, cs[1].w};
    double w[2] = {20, 60}, ref[DIM];
    CHECK(numpy_mean(ref, m, w, 2, DIM));
    double d = max_diff(cs[1].final, ref, DIM);
    fprintf(stderr,
            "aggregator's FedAvg of a sparse and a dense update: max |ccz - numpy| = %.3g\n", d);
    CHECK(d <= 1e-6);
}

/* Streamed uploads (PushUpdateStream) in 16-byte slices: a stream with a slice past the model, one
 * announcing the wrong total, one closed before its end are refused with INVALID_ARGUMENT while
 * the round goes on; a stream cut mid-way contributes nothing: one client whose stream was cut
 * uploads again at once (accepted), another waits past the deadline (dropped; its later stream
 * is late, FAILED_PRECONDITION). The round's result is NumPy's weighted mean of the three
 * complete streams. */
static void round_with_streamed_updates(void)
{
    need_numpy();
    server s;
    server_start(&s, 1, 4, 1500, NULL);
    client cs[4] = {
        {.srv = &s, .name = "alice", .examples = 30, .stream = true, .stream_faults = 1},
        {.srv = &s, .name = "bob", .examples = 10, .stream = true},
        {.srv = &s, .name = "carol", .examples = 50, .stream = true, .cut = true},
        {.srv = &s, .name = "dave", .examples = 20, .stream = true, .retry = true}};
    for (int i = 0; i < DIM; i++) {
        cs[0].w[i] = frand();
        cs[1].w[i] = frand() * 3;
        cs[2].w[i] = 100;
        cs[3].w[i] = frand() - 2;
    }
    pthread_t t[4];
    start_clients(cs, 4, t);
    join_clients(4, t);
    server_stop(&s);
    CHECK_INT(cs[0].pushes, 4);
    CHECK_INT(cs[0].codes[0], CCZ_RPC_INVALID_ARGUMENT);
    CHECK_CONTAINS(cs[0].msgs[0], "chunk 6: 4 bytes past the update's 60");
    CHECK_INT(cs[0].codes[1], CCZ_RPC_INVALID_ARGUMENT);
    CHECK_CONTAINS(cs[0].msgs[1], "a total of 56 bytes, not the 60");
    CHECK_INT(cs[0].codes[2], CCZ_RPC_INVALID_ARGUMENT);
    CHECK_CONTAINS(cs[0].msgs[2], "the stream ended after 32 of its 60 bytes");
    CHECK_INT(cs[0].codes[3], CCZ_RPC_OK);
    CHECK_INT(cs[1].pushes, 1);
    CHECK_INT(cs[1].codes[0], CCZ_RPC_OK);
    CHECK_INT(cs[2].pushes, 2);
    CHECK_INT(cs[2].codes[0], CCZ_RPC_DEADLINE_EXCEEDED);
    CHECK_INT(cs[2].codes[1], CCZ_RPC_FAILED_PRECONDITION);
    CHECK_CONTAINS(cs[2].msgs[1], "late update for round 1: the round is closed");
    CHECK_INT(cs[3].pushes, 2);
    CHECK_INT(cs[3].codes[0], CCZ_RPC_DEADLINE_EXCEEDED);
    CHECK_INT(cs[3].codes[1], CCZ_RPC_OK);
    CHECK(cs[0].done && cs[1].done && cs[2].done && cs[3].done);
    CHECK_INT(s.n_rounds, 1);
    CHECK_INT(s.rounds[0].participants, 4);
    CHECK_INT(s.rounds[0].received, 3);
    CHECK_CONTAINS(s.rounds[0].names, "alice");
    CHECK_CONTAINS(s.rounds[0].names, "bob");
    CHECK_CONTAINS(s.rounds[0].names, "dave");
    CHECK_STR(s.rounds[0].dropped, "carol");
    const float *m[3] = {cs[0].w, cs[1].w, cs[3].w};
    double w[3] = {30, 10, 20}, ref[DIM];
    CHECK(numpy_mean(ref, m, w, 3, DIM));
    double d = max_diff(cs[0].final, ref, DIM);
    fprintf(stderr, "aggregator's FedAvg of streamed updates: max |ccz - numpy| = %.3g\n", d);
    CHECK(d <= 1e-6);
    CHECK(!memcmp(cs[0].final, cs[2].final, sizeof cs[0].final));
}

/* Three clients, one a straggler: round 1 closes at its deadline with the other two, round 2
 * does not wait for the dropped straggler, whose late update is refused; it still hears that
 * the training is over. */
static void straggler_dropped(void)
{
    server s;
    server_start(&s, 2, 2, 1000, NULL);
    client cs[3] = {{.srv = &s, .name = "a", .examples = 5},
                    {.srv = &s, .name = "b", .examples = 5},
                    {.srv = &s, .name = "slow", .examples = 5, .sleep_ms = 2000}};
    pthread_t t[3];
    start_clients(cs, 3, t);
    join_clients(3, t);
    server_stop(&s);
    CHECK_INT(s.n_rounds, 2);
    CHECK_INT(s.rounds[0].participants, 3);
    CHECK_INT(s.rounds[0].received, 2);
    CHECK_STR(s.rounds[0].dropped, "slow");
    CHECK(s.rounds[0].seconds >= 0.9 && s.rounds[0].seconds < 1.9);
    CHECK_INT(cs[2].codes[0], CCZ_RPC_FAILED_PRECONDITION);
    CHECK_CONTAINS(cs[2].msgs[0], "late update for round 1: the round is closed");
    CHECK_INT(s.rounds[1].participants, 2);
    CHECK_INT(s.rounds[1].received, 2);
    CHECK(cs[0].done && cs[1].done && cs[2].done);
}

/* An aggregator stopped after round 1 of 3 resumes from its checkpoint at round 2. */
static void resume_from_checkpoint(void)
{
    char ck[1100];
    snprintf(ck, sizeof ck, "%s/agg.ckpt", test_tmpdir());
    server s;
    server_start(&s, 1, 1, 20000, ck);
    client c = {.srv = &s, .name = "solo", .examples = 3};
    for (int i = 0; i < DIM; i++)
        c.w[i] = (float)i;
    pthread_t t;
    start_clients(&c, 1, &t);
    join_clients(1, &t);
    server_stop(&s);
    CHECK(c.done);
    /* the same checkpoint under a longer training: round 1 is done */
    server_start(&s, 3, 1, 20000, ck);
    CHECK_INT(ccz_hfl_service_status(s.svc)->rounds_done, 1);
    CHECK(!memcmp(ccz_hfl_service_status(s.svc)->weights, c.w, sizeof c.w));
    client d = {.srv = &s, .name = "solo", .examples = 3};
    for (int i = 0; i < DIM; i++)
        d.w[i] = (float)-i;
    start_clients(&d, 1, &t);
    join_clients(1, &t);
    server_stop(&s);
    CHECK_INT(d.resumed_at, 1);
    CHECK_INT(d.pushes, 2); /* rounds 2 and 3 */
    CHECK_INT(s.n_rounds, 2);
    CHECK_INT(s.rounds[0].round, 2);
    CHECK(d.done && !memcmp(d.final, d.w, sizeof d.w));
}

/* Protocol errors and caps, while the aggregator keeps serving: calls before Join, bad names, a
 * second name on one connection, a name taken, a second GetModel, the client cap. */
static void refusals_and_caps(void)
{
    server s;
    memset(&s, 0, sizeof s);
    ccz_hfl_service_opts o = lr_opts(1, 2);
    o.max_clients = 2;
    hfl_test_server_start(&s, &o, DIM);
    ccz_rpc_channel_opts co = CCZ_RPC_CHANNEL_OPTS_INIT;
    ccz_rpc_channel *ch[3];
    for (int i = 0; i < 3; i++)
        CHECK_OK(ccz_rpc_channel_new(&ch[i], s.target, &co));
    ProtobufCMessage *resp = NULL;
    char msg[512];
    Cczfl__ModelRequest mr = CCZFL__MODEL_REQUEST__INIT;
    CHECK_INT(unary(ch[0], "GetModel", &mr.base, &cczfl__model__descriptor, &resp, msg),
              CCZ_RPC_FAILED_PRECONDITION);
    CHECK_CONTAINS(msg, "call Join first");
    Cczfl__JoinRequest jr = CCZFL__JOIN_REQUEST__INIT;
    jr.examples = 5;
    const char *bad[] = {"",
                         "a b",
                         "a,b",
                         "a\tb",
                         "del\x7f",
                         "caf\xc3\xa9",
                         "0123456789012345678901234567890123456789012345678901234567890123456789"};
    for (size_t i = 0; i < CCZ_ARRAY_LEN(bad); i++) {
        jr.name = (char *)bad[i];
        CHECK_INT(unary(ch[0], "Join", &jr.base, &cczfl__plan__descriptor, &resp, msg),
                  CCZ_RPC_INVALID_ARGUMENT);
        CHECK_CONTAINS(msg, "name: 1 to 64 printable ASCII characters");
    }
    jr.name = "one";
    jr.model = "mlp";
    CHECK_INT(unary(ch[0], "Join", &jr.base, &cczfl__plan__descriptor, &resp, msg),
              CCZ_RPC_FAILED_PRECONDITION);
    CHECK_CONTAINS(msg, "trains the model 'lr', not 'mlp'");
    jr.model = "lr";
    jr.examples = 0;
    CHECK_INT(unary(ch[0], "Join", &jr.base, &cczfl__plan__descriptor, &resp, msg),
              CCZ_RPC_INVALID_ARGUMENT);
    CHECK_STR(msg, "examples: 1 to 1000000000");
    jr.examples = 1000000001;
    CHECK_INT(unary(ch[0], "Join", &jr.base, &cczfl__plan__descriptor, &resp, msg),
              CCZ_RPC_INVALID_ARGUMENT);
    CHECK_STR(msg, "examples: 1 to 1000000000");
    jr.examples = 5;
    CHECK_INT(unary(ch[0], "Join", &jr.base, &cczfl__plan__descriptor, &resp, msg), 0);
    if (resp) {
        const Cczfl__Plan *p = (const Cczfl__Plan *)resp;
        CHECK_INT(p->n_layers, 2);
        CHECK_INT(p->layers[0], 4);
        CHECK_STR(p->strategy, "fedavg");
        /* FedProx's mu goes to FedProx clients alone; no round is done; no masking */
        CHECK(p->mu == 0);
        CHECK_INT(p->rounds, 1);
        CHECK_INT(p->round, 0);
        CHECK(!p->secure_agg);
        protobuf_c_message_free_unpacked(resp, NULL);
    }
    jr.name = "other";
    CHECK_INT(unary(ch[0], "Join", &jr.base, &cczfl__plan__descriptor, &resp, msg),
              CCZ_RPC_ALREADY_EXISTS);
    CHECK_CONTAINS(msg, "joined as one already");
    jr.name = "one";
    CHECK_INT(unary(ch[1], "Join", &jr.base, &cczfl__plan__descriptor, &resp, msg), 0);
    if (resp) /* the same (unattested) identity, not waiting: it rejoins on the new connection */
        protobuf_c_message_free_unpacked(resp, NULL);
    jr.name = "two";
    CHECK_INT(unary(ch[2], "Join", &jr.base, &cczfl__plan__descriptor, &resp, msg), 0);
    if (resp)
        protobuf_c_message_free_unpacked(resp, NULL);
    ccz_rpc_channel *extra;
    CHECK_OK(ccz_rpc_channel_new(&extra, s.target, &co));
    jr.name = "three";
    CHECK_INT(unary(extra, "Join", &jr.base, &cczfl__plan__descriptor, &resp, msg),
              CCZ_RPC_RESOURCE_EXHAUSTED);
    CHECK_CONTAINS(msg, "its 2 clients already");
    /* an update when no round is open */
    float w[DIM] = {0};
    ccz_buf b = CCZ_BUF_INIT;
    CHECK_OK(ccz_hfl_tensor_encode(&b, w, DIM, CCZ_HFL_F32));
    Cczfl__Update u = CCZFL__UPDATE__INIT;
    u.round = 1;
    u.examples = 5;
    u.weights = (ProtobufCBinaryData){b.len, b.ptr};
    CHECK_INT(unary(ch[2], "PushUpdate", &u.base, &cczfl__ack__descriptor, &resp, msg),
              CCZ_RPC_FAILED_PRECONDITION);
    CHECK_CONTAINS(msg, "no round is open");
    ccz_buf_free(&b);
    ccz_rpc_channel_free(extra);
    for (int i = 0; i < 3; i++)
        ccz_rpc_channel_free(ch[i]);
    server_stop(&s);
}

/* A GetModel's end, for the calls run by a thread or started asynchronously. */
typedef struct {
    ccz_rpc_channel *ch;
    int code;
    char msg[512];
    unsigned round; /* of the model answered */
    bool done;
} model_call;

static void *get_model_run(void *arg)
{
    model_call *m = arg;
    Cczfl__ModelRequest mr = CCZFL__MODEL_REQUEST__INIT;
    ProtobufCMessage *resp = NULL;
    m->code = unary(m->ch, "GetModel", &mr.base, &cczfl__model__descriptor, &resp, m->msg);
    if (resp) {
        m->round = ((const Cczfl__Model *)resp)->round;
        m->done = ((const Cczfl__Model *)resp)->done;
        protobuf_c_message_free_unpacked(resp, NULL);
    }
    return NULL;
}

static void model_call_done(const ccz_rpc_status *st, void *payload)
{
    model_call *m = payload;
    m->code = st->code;
    snprintf(m->msg, sizeof m->msg, "%s", st->message);
}

/* Calls out of turn while a round is open: a second GetModel from a client that waits already,
 * an update from a client the round did not take, a second update from one it did. None of them
 * counts: the round closes on the two updates it asked for. */
static void out_of_turn(void)
{
    server s;
    memset(&s, 0, sizeof s);
    ccz_hfl_service_opts o = lr_opts(1, 2);
    o.gather_ms = 1;
    o.round_timeout_ms = 30000;
    hfl_test_server_start(&s, &o, DIM);
    ccz_rpc_channel_opts co = CCZ_RPC_CHANNEL_OPTS_INIT;
    ccz_rpc_channel *ch[3];
    client cs[3] = {
        {.name = "a", .examples = 10},
        {.name = "b", .examples = 30},
        {.name = "c", .examples = 1000000000}}; /* c joins with the most examples allowed */
    ProtobufCMessage *resp = NULL;
    for (int i = 0; i < 3; i++) {
        CHECK_OK(ccz_rpc_channel_new(&ch[i], s.target, &co));
        Cczfl__JoinRequest jr = CCZFL__JOIN_REQUEST__INIT;
        jr.name = (char *)cs[i].name;
        jr.examples = cs[i].examples;
        CHECK_INT(unary(ch[i], "Join", &jr.base, &cczfl__plan__descriptor, &resp, NULL), 0);
        if (resp)
            protobuf_c_message_free_unpacked(resp, NULL);
        resp = NULL;
        for (int k = 0; k < DIM; k++)
            cs[i].w[k] = (float)(i + 1);
    }
    /* a and b wait for the model together: the round opens with the two of them */
    pthread_t t;
    model_call first[2] = {{.ch = ch[0], .code = -1}, {.ch = ch[1], .code = -1}};
    test_thread(&t, get_model_run, &first[0]);
    get_model_run(&first[1]);
    pthread_join(t, NULL);
    CHECK_INT(first[0].code, 0);
    CHECK_INT(first[1].code, 0);
    /* c asks twice on one connection: the first waits (for the next round), the second is
     * refused at once */
    model_call got[2] = {{.code = -1}, {.code = -1}};
    ccz_rpc_call_opts wait = CCZ_RPC_CALL_OPTS_INIT;
    wait.deadline_ms = 300;
    Cczfl__ModelRequest mr = CCZFL__MODEL_REQUEST__INIT;
    for (int i = 0; i < 2; i++) {
        ccz_rpc_stream *st;
        CHECK_OK(ccz_rpc_start(ch[2], &st, "/cczfl.Aggregator/GetModel", &mr.base,
                               &cczfl__model__descriptor, &wait, NULL, model_call_done, &got[i]));
    }
    CHECK_OK(ccz_rpc_channel_run(ch[2]));
    CHECK_INT(got[0].code, CCZ_RPC_DEADLINE_EXCEEDED);
    CHECK_INT(got[1].code, CCZ_RPC_ALREADY_EXISTS);
    CHECK_CONTAINS(got[1].msg, "one GetModel at a time");
    /* c is not in the round; a's second update is one too many */
    CHECK_INT(push(&cs[2], ch[2], 1, DIM), CCZ_RPC_FAILED_PRECONDITION);
    CHECK_CONTAINS(cs[2].msgs[0], "update for round 1: this client does not take part in it");
    /* a's updates that say nothing true: no examples, too many, a loss that is not a number,
     * dense weights in a sparse update, indices in a dense one; refused, and a may still send
     * its update */
    ccz_buf b = CCZ_BUF_INIT;
    CHECK_OK(ccz_hfl_tensor_encode(&b, cs[0].w, DIM, CCZ_HFL_F32));
    static const struct {
        uint64_t examples;
        double loss;
        bool sparse, indices;
        const char *why;
    } bad[] = {
        {0, 1, false, false, "update rejected: examples 0 (1 to 1000000000), loss 1 (finite)"},
        {1000000001, 1, false, false, "examples 1000000001 (1 to 1000000000)"},
        {10, NAN, false, false, "loss nan (finite)"},
        {10, INFINITY, false, false, "loss inf (finite)"},
        {10, 1, true, false, "update rejected: a sparse update with dense weights too"},
        {10, 1, false, true, "update rejected: a dense update with sparse values too"},
    };
    uint32_t index0 = 0;
    for (size_t i = 0; i < CCZ_ARRAY_LEN(bad); i++) {
        Cczfl__Update u = CCZFL__UPDATE__INIT;
        u.round = 1;
        u.examples = bad[i].examples;
        u.loss = bad[i].loss;
        u.sparse = bad[i].sparse;
        u.weights = (ProtobufCBinaryData){b.len, b.ptr};
        if (bad[i].indices) {
            u.n_indices = 1;
            u.indices = &index0;
        }
        char msg[512];
        CHECK_INT(unary(ch[0], "PushUpdate", &u.base, &cczfl__ack__descriptor, &resp, msg),
                  CCZ_RPC_INVALID_ARGUMENT);
        CHECK_CONTAINS(msg, bad[i].why);
    }
    ccz_buf_free(&b);
    /* the most examples an update may count: accepted, acknowledged for its round */
    cs[0].examples = 1000000000;
    CHECK_INT(push(&cs[0], ch[0], 1, DIM), 0);
    CHECK_INT(cs[0].acked, 1);
    cs[0].w[0] = 100;
    CHECK_INT(push(&cs[0], ch[0], 1, DIM), CCZ_RPC_ALREADY_EXISTS);
    CHECK_CONTAINS(cs[0].msgs[1], "update for the round is in already");
    CHECK_INT(s.n_rounds, 0);
    /* c waits for a round (its GetModel held) when the training ends: it gets the final model
     * of round 1, done */
    usleep(300 * 1000); /* c's GetModel cut at its deadline above is gone */
    model_call last = {.ch = ch[2], .code = -1};
    test_thread(&t, get_model_run, &last);
    usleep(300 * 1000);
    cs[1].examples = 1000000000;
    CHECK_INT(push(&cs[1], ch[1], 1, DIM), 0);
    CHECK_INT(cs[1].acked, 1);
    pthread_join(t, NULL);
    CHECK_INT(last.code, 0);
    CHECK(last.done && last.round == 1);
    CHECK_INT(ccz_hfl_service_status(s.svc)->rounds_done, 1);
    /* the round closed on a's first update and b's, of equal weights: 1.5 everywhere */
    CHECK_INT(unary(ch[2], "GetModel", &mr.base, &cczfl__model__descriptor, &resp, NULL), 0);
    if (resp) {
        const Cczfl__Model *m = (const Cczfl__Model *)resp;
        CHECK(m->done && m->round == 1);
        float w[DIM];
        CHECK_OK(ccz_hfl_tensor_decode(w, DIM, m->dtype, m->weights.data, m->weights.len));
        for (int k = 0; k < DIM; k++)
            CHECK(w[k] == 1.5f);
        protobuf_c_message_free_unpacked(resp, NULL);
    }
    for (int i = 0; i < 3; i++)
        ccz_rpc_channel_free(ch[i]);
    server_stop(&s);
    CHECK_INT(s.n_rounds, 1);
    CHECK_INT(s.rounds[0].received, 2);
    CHECK_INT(s.rounds[0].participants, 2);
    CHECK_STR(s.rounds[0].names, "a,b");
}

/* A checkpoint whose magic is not ccz FL's, and one that gives FedAvg two state arrays. */
static void checkpoint_magic_and_states(void)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/avg.ckpt", test_tmpdir());
    ccz_hfl_strategy_opts so = CCZ_HFL_STRATEGY_OPTS_INIT;
    ccz_hfl_strategy *avg;
    CHECK_OK(ccz_hfl_strategy_new(&avg, CCZ_HFL_FEDAVG, 4, &so));
    float g[4] = {1, 2, 3, 4};
    CHECK_OK(ccz_hfl_checkpoint_write(path, 2, avg, g, 4));
    ccz_buf f = CCZ_BUF_INIT;
    CHECK_OK(ccz_file_read(&f, path, 1 << 10));
    unsigned round;
    f.ptr[0] ^= 1; /* magic */
    CHECK_STATUS(ccz_hfl_checkpoint_parse(&round, avg, g, 4, ccz_buf_span(&f)), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "not a ccz FL checkpoint");
    f.ptr[0] ^= 1;
    f.ptr[16] = 2; /* states: 2 arrays for FedAvg, which has none */
    uint8_t zeros[32] = {0};
    CHECK_OK(ccz_buf_append(&f, zeros, sizeof zeros));
    CHECK_STATUS(ccz_hfl_checkpoint_parse(&round, avg, g, 4, ccz_buf_span(&f)), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "2 state arrays for strategy fedavg");
    ccz_buf_free(&f);
    ccz_hfl_strategy_free(avg);
}

/* Bytes past the last whole value, float16 infinities and NaNs, more examples than any client
 * has and a loss that is no number, in a unary update; checkpoints of another strategy, of
 * another model size or with bytes after their arrays; sparse values in a dense stream and a
 * slice larger than any. */
static void partial_values_and_foreign_checkpoints(void)
{
    float v[5] = {1, 2, 3, 4, 5}, back[5];
    ccz_buf b = CCZ_BUF_INIT;
    CHECK_OK(ccz_hfl_tensor_encode(&b, v, 5, CCZ_HFL_F32));
    uint8_t z[4] = {0};
    CHECK_OK(ccz_buf_append(&b, z, 3)); /* 23 bytes: 5 values and 3 bytes of a sixth */
    CHECK_STATUS(ccz_hfl_tensor_decode(back, 5, CCZ_HFL_F32, b.ptr, 23), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(),
                   "23 bytes of weights are not the model's 5 float32 values (20 bytes)");
    uint32_t idx[3] = {0, 2, 4};
    float g[5] = {0};
    CHECK_STATUS(ccz_hfl_sparse_decode(back, g, 5, idx, 3, CCZ_HFL_F32, b.ptr, 13),
                 CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "13 bytes of deltas are not the 3 float32 values");
    /* float16: an infinity, then a NaN */
    uint8_t h[4] = {0x00, 0x3c, 0x00, 0x7c}; /* 1.0, +inf */
    CHECK_STATUS(ccz_hfl_tensor_decode(back, 2, CCZ_HFL_F16, h, 4), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "weight 1 is not a finite number");
    h[3] = 0x7e;
    CHECK_STATUS(ccz_hfl_tensor_decode(back, 2, CCZ_HFL_F16, h, 4), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "weight 1 is not a finite number");
    h[3] = 0x7b; /* 57344: finite */
    CHECK_OK(ccz_hfl_tensor_decode(back, 2, CCZ_HFL_F16, h, 4));
    CHECK(back[0] == 1.0f && back[1] == 57344.0f);
    /* unary updates: examples past the bound, a loss that is not finite */
    b.len = 0;
    CHECK_OK(ccz_hfl_tensor_encode(&b, v, 5, CCZ_HFL_F32));
    Cczfl__Update u = CCZFL__UPDATE__INIT;
    u.examples = CCZ_HFL_MAX_EXAMPLES + 1;
    u.weights = (ProtobufCBinaryData){b.len, b.ptr};
    uint8_t msg[128];
    size_t len = cczfl__update__pack(&u, msg);
    ccz_hfl_update up;
    CHECK_STATUS(ccz_hfl_update_parse(&up, back, 5, msg, len), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "examples 1000000001 (1 to 1000000000)");
    u.examples = CCZ_HFL_MAX_EXAMPLES;
    u.loss = INFINITY;
    len = cczfl__update__pack(&u, msg);
    CHECK_STATUS(ccz_hfl_update_parse(&up, back, 5, msg, len), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "loss inf (finite)");
    u.loss = 0.5;
    len = cczfl__update__pack(&u, msg);
    CHECK_OK(ccz_hfl_update_parse(&up, back, 5, msg, len));
    CHECK(up.examples == CCZ_HFL_MAX_EXAMPLES);

    /* checkpoints */
    char path[1100];
    snprintf(path, sizeof path, "%s/foreign.ckpt", test_tmpdir());
    ccz_hfl_strategy_opts so = CCZ_HFL_STRATEGY_OPTS_INIT;
    ccz_hfl_strategy *avg = NULL, *prox = NULL, *avg3 = NULL;
    CHECK_OK(ccz_hfl_strategy_new(&avg, CCZ_HFL_FEDAVG, 4, &so));
    CHECK_OK(ccz_hfl_strategy_new(&prox, CCZ_HFL_FEDPROX, 4, &so));
    CHECK_OK(ccz_hfl_strategy_new(&avg3, CCZ_HFL_FEDAVG, 3, &so));
    float w[4] = {1, 2, 3, 4}, r[4];
    CHECK_OK(ccz_hfl_checkpoint_write(path, 5, avg, w, 4));
    ccz_buf f = CCZ_BUF_INIT;
    CHECK_OK(ccz_file_read(&f, path, 1 << 10));
    unsigned round = 0;
    CHECK_OK(ccz_hfl_checkpoint_parse(&round, avg, r, 4, ccz_buf_span(&f)));
    CHECK_INT(round, 5);
    CHECK(!memcmp(r, w, sizeof w));
    CHECK_STATUS(ccz_hfl_checkpoint_parse(&round, prox, r, 4, ccz_buf_span(&f)), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "a checkpoint of strategy fedavg, not fedprox");
    /* a strategy past the known ones (its number at bytes 12 to 15) is named as unknown */
    uint8_t kind = f.ptr[12];
    f.ptr[12] = 4;
    CHECK_STATUS(ccz_hfl_checkpoint_parse(&round, avg, r, 4, ccz_buf_span(&f)), CCZ_ERR_MALFORMED);
    CHECK_STR(ccz_error_detail(), "a checkpoint of strategy unknown, not fedavg");
    f.ptr[12] = kind;
    CHECK_STATUS(ccz_hfl_checkpoint_parse(&round, avg3, r, 3, ccz_buf_span(&f)), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "a checkpoint of a model of 4 parameters; this one has 3");
    CHECK_OK(ccz_buf_append(&f, z, 4));
    CHECK_STATUS(ccz_hfl_checkpoint_parse(&round, avg, r, 4, ccz_buf_span(&f)), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "20 bytes of arrays; expected 16");
    ccz_buf_free(&f);
    ccz_hfl_strategy_free(avg);
    ccz_hfl_strategy_free(prox);
    ccz_hfl_strategy_free(avg3);

    /* streams: indices in a dense update; a slice past CCZ_HFL_CHUNK_MAX that its frame allows */
    size_t dim = CCZ_HFL_CHUNK_MAX / 4 + 2;
    float *vals = calloc(dim, sizeof *vals);
    uint8_t *big = calloc(1, CCZ_HFL_CHUNK_MAX + 4096);
    CHECK(vals && big);
    if (vals && big) {
        ccz_hfl_stream st;
        ccz_hfl_stream_init(&st, dim, NULL);
        Cczfl__UpdateHeader hd = CCZFL__UPDATE_HEADER__INIT;
        hd.examples = 1;
        hd.total = (uint64_t)dim * 4;
        Cczfl__UpdateChunk m = CCZFL__UPDATE_CHUNK__INIT;
        m.header = &hd;
        len = cczfl__update_chunk__pack(&m, big);
        CHECK_OK(ccz_hfl_stream_chunk(&st, vals, big, len));
        m.header = NULL;
        uint32_t one = 0;
        m.n_indices = 1;
        m.indices = &one;
        static uint8_t zeros16[16];
        m.weights = (ProtobufCBinaryData){sizeof zeros16, zeros16};
        len = cczfl__update_chunk__pack(&m, big);
        CHECK_STATUS(ccz_hfl_stream_chunk(&st, vals, big, len), CCZ_ERR_MALFORMED);
        CHECK_CONTAINS(ccz_error_detail(), "chunk 2: sparse values in a dense update");
        ccz_hfl_stream_init(&st, dim, NULL);
        m = (Cczfl__UpdateChunk)CCZFL__UPDATE_CHUNK__INIT;
        m.header = &hd;
        len = cczfl__update_chunk__pack(&m, big);
        CHECK_OK(ccz_hfl_stream_chunk(&st, vals, big, len));
        m.header = NULL;
        uint8_t *slice = calloc(1, CCZ_HFL_CHUNK_MAX + 4);
        CHECK(slice);
        if (slice) {
            m.weights = (ProtobufCBinaryData){CCZ_HFL_CHUNK_MAX + 4, slice};
            len = cczfl__update_chunk__pack(&m, big);
            CHECK(len <= CCZ_HFL_CHUNK_MAX + 4096);
            CHECK_STATUS(ccz_hfl_stream_chunk(&st, vals, big, len), CCZ_ERR_MALFORMED);
            CHECK_CONTAINS(ccz_error_detail(),
                           "chunk 2: a slice of 4194308 bytes (at most 4194304)");
        }
        free(slice);
    }
    free(vals);
    free(big);
    ccz_buf_free(&b);
}

/* A unary dense update that carries indices or deltas too is refused, as a streamed one is
 * ("sparse values in a dense update"): one update must not have two readings. */
static void dense_update_with_sparse_fields(void)
{
    float w[4] = {1, 2, 3, 4}, got[4];
    ccz_buf t = CCZ_BUF_INIT;
    CHECK_OK(ccz_hfl_tensor_encode(&t, w, 4, CCZ_HFL_F32));
    Cczfl__Update u = CCZFL__UPDATE__INIT;
    u.examples = 3;
    u.weights = (ProtobufCBinaryData){t.len, t.ptr};
    uint32_t idx[1] = {2};
    u.n_indices = 1;
    u.indices = idx;
    uint8_t msg[128];
    size_t len = cczfl__update__pack(&u, msg);
    ccz_hfl_update up;
    CHECK_STATUS(ccz_hfl_update_parse(&up, got, 4, msg, len), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "a dense update with sparse values too");
    u.n_indices = 0;
    u.deltas = (ProtobufCBinaryData){4, t.ptr};
    len = cczfl__update__pack(&u, msg);
    CHECK_STATUS(ccz_hfl_update_parse(&up, got, 4, msg, len), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "a dense update with sparse values too");
    u.deltas = (ProtobufCBinaryData){0, NULL};
    len = cczfl__update__pack(&u, msg);
    CHECK_OK(ccz_hfl_update_parse(&up, got, 4, msg, len));
    CHECK(!memcmp(got, w, sizeof w));
    ccz_buf_free(&t);
}

/* Feeds a fresh stream of 4 weights the chunk of header h: its status. */
static ccz_status header_chunk(const Cczfl__UpdateHeader *h)
{
    float g[4] = {0}, v[4];
    ccz_hfl_stream st;
    ccz_hfl_stream_init(&st, 4, g);
    Cczfl__UpdateChunk m = CCZFL__UPDATE_CHUNK__INIT;
    m.header = (Cczfl__UpdateHeader *)h;
    uint8_t msg[128];
    size_t n = cczfl__update_chunk__pack(&m, msg);
    return ccz_hfl_stream_chunk(&st, v, msg, n);
}

/* Streamed updates refused at their first chunk: bytes that are no chunk, a sparse header of
 * dtype 7, a client claiming 2^64 - 1 examples (it would outweigh every other in FedAvg). */
static void stream_headers_refused(void)
{
    float g[4] = {0}, v[4];
    ccz_hfl_stream st;
    ccz_hfl_stream_init(&st, 4, g);
    static const uint8_t junk[] = {0xff, 0xff, 0xff};
    CHECK_STATUS(ccz_hfl_stream_chunk(&st, v, junk, sizeof junk), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "not a cczfl.UpdateChunk message");
    Cczfl__UpdateHeader h = CCZFL__UPDATE_HEADER__INIT;
    h.examples = 1;
    h.dtype = 7;
    h.sparse = true;
    h.count = 1;
    h.total = 2;
    CHECK_STATUS(header_chunk(&h), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "dtype 7 (F32 = 0, F16 = 1)");
    h = (Cczfl__UpdateHeader)CCZFL__UPDATE_HEADER__INIT;
    h.examples = UINT64_MAX;
    h.total = 16;
    CHECK_STATUS(header_chunk(&h), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "examples 18446744073709551615 (1 to 1000000000)");
    /* a dense header with a count (only a sparse update has one) */
    h.examples = 1;
    h.count = 3;
    CHECK_STATUS(header_chunk(&h), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "a dense update with a count of 3");
    /* a chunk larger than any slice and its framing: refused before it is unpacked */
    size_t big = CCZ_HFL_CHUNK_MAX + 4097;
    uint8_t *junk2 = calloc(1, big);
    CHECK(junk2);
    CHECK_STATUS(ccz_hfl_stream_chunk(&st, v, junk2, big), CCZ_ERR_TOO_LARGE);
    CHECK_CONTAINS(ccz_error_detail(), "a chunk of 4198401 bytes");
    free(junk2);
}

/* The averaging and strategy calls refuse what a caller gets wrong: no models, a weight that is
 * 0, negative, NaN or infinite, an unknown strategy, options of another version, an empty model,
 * a checkpoint of a model the strategy was not made for. */
static void strategy_arguments(void)
{
    float a[2] = {1, 2}, b[2] = {3, 4}, out[2];
    const float *m[2] = {a, b};
    double bad[4] = {0, -1, NAN, INFINITY};
    CHECK_STATUS(ccz_hfl_fedavg(out, m, (double[]){1, 1}, 0, 2, 1), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "no models to average");
    for (int k = 0; k < 4; k++) {
        double w[2] = {1, bad[k]};
        CHECK_STATUS(ccz_hfl_fedavg(out, m, w, 2, 2, 1), CCZ_ERR_INVALID_ARGUMENT);
        CHECK_CONTAINS(ccz_error_detail(), "model 1 has weight");
        CHECK_CONTAINS(ccz_error_detail(), "(must be positive)");
    }
    CHECK_OK(ccz_hfl_fedavg(out, m, (double[]){1, 3}, 2, 2, 1));
    CHECK(out[0] == 2.5f && out[1] == 3.5f);
    ccz_hfl_strategy_kind k = CCZ_HFL_FEDADAM;
    CHECK_STATUS(ccz_hfl_strategy_parse(&k, "fedsgd"), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "unknown strategy 'fedsgd'");
    CHECK_STATUS(ccz_hfl_strategy_parse(&k, "FedAvg"), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_INT(k, CCZ_HFL_FEDADAM);
    ccz_hfl_strategy_opts so = CCZ_HFL_STRATEGY_OPTS_INIT;
    ccz_hfl_strategy *s = (ccz_hfl_strategy *)&so;
    CHECK_STATUS(ccz_hfl_strategy_new(&s, (ccz_hfl_strategy_kind)4, 2, &so),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK(s == NULL);
    CHECK_STATUS(ccz_hfl_strategy_new(&s, CCZ_HFL_FEDAVG, 0, &so), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "an empty model");
    CHECK_STATUS(ccz_hfl_strategy_new(&s, CCZ_HFL_FEDAVG, 2, NULL), CCZ_ERR_INVALID_ARGUMENT);
    so.version++;
    CHECK_STATUS(ccz_hfl_strategy_new(&s, CCZ_HFL_FEDAVG, 2, &so), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "ccz_hfl_strategy_opts: version");
    so.version--;
    CHECK_OK(ccz_hfl_strategy_new(&s, CCZ_HFL_FEDPROX, 2, &so));
    char path[1100];
    snprintf(path, sizeof path, "%s/dim.ckpt", test_tmpdir());
    CHECK_STATUS(ccz_hfl_checkpoint_write(path, 1, s, a, 1), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "a model of 1, the strategy's 2");
    CHECK(access(path, F_OK) != 0);
    ccz_hfl_strategy_free(s);
}

/* An aggregate that overflows a float (FedAdam from -FLT_MAX towards FLT_MAX) is refused, not
 * sent out as the next model. */
static void aggregate_not_finite(void)
{
    ccz_hfl_strategy_opts so = CCZ_HFL_STRATEGY_OPTS_INIT;
    ccz_hfl_strategy *s;
    CHECK_OK(ccz_hfl_strategy_new(&s, CCZ_HFL_FEDADAM, 1, &so));
    float glob = -FLT_MAX, big = FLT_MAX;
    const float *m[1] = {&big};
    double w[1] = {1};
    CHECK_STATUS(ccz_hfl_strategy_aggregate(s, &glob, m, w, 1), CCZ_ERR_OVERFLOW);
    CHECK_CONTAINS(ccz_error_detail(), "the aggregate's weight 0 is not finite");
    ccz_hfl_strategy_free(s);
    /* (that one is NaN: inf / inf); one that is +inf: a step of 1 taken with m / sqrt(v) of
     * about 2900 (beta1 ~ 0, beta2 ~ 1, tau ~ 0) and a server learning rate of 3.4e35 */
    so.server_lr = 3.4e35f;
    so.beta1 = 1e-30f;
    so.beta2 = 0.9999999f;
    so.tau = 1e-30f;
    CHECK_OK(ccz_hfl_strategy_new(&s, CCZ_HFL_FEDADAM, 1, &so));
    glob = 0;
    big = 1;
    CHECK_STATUS(ccz_hfl_strategy_aggregate(s, &glob, m, w, 1), CCZ_ERR_OVERFLOW);
    CHECK_CONTAINS(ccz_error_detail(), "the aggregate's weight 0 is not finite");
    CHECK(isinf(glob));
    ccz_hfl_strategy_free(s);
}

/* ---- a client's calls against the round's state, one step at a time -------------------------*/

static void join_as(ccz_rpc_channel *ch, const char *name)
{
    Cczfl__JoinRequest jr = CCZFL__JOIN_REQUEST__INIT;
    jr.name = (char *)name;
    jr.examples = 10;
    ProtobufCMessage *resp = NULL;
    CHECK_INT(unary(ch, "Join", &jr.base, &cczfl__plan__descriptor, &resp, NULL), 0);
    if (resp)
        protobuf_c_message_free_unpacked(resp, NULL);
}

/* A GetModel: the model's round, its weights in w (when w), whether the training is done. */
static unsigned model_round(ccz_rpc_channel *ch, float *w, bool *done)
{
    Cczfl__ModelRequest mr = CCZFL__MODEL_REQUEST__INIT;
    ProtobufCMessage *resp = NULL;
    unsigned round = 0;
    CHECK_INT(unary(ch, "GetModel", &mr.base, &cczfl__model__descriptor, &resp, NULL), 0);
    if (resp) {
        const Cczfl__Model *m = (const Cczfl__Model *)resp;
        round = m->round;
        if (done)
            *done = m->done;
        if (w)
            CHECK_OK(ccz_hfl_tensor_decode(w, DIM, m->dtype, m->weights.data, m->weights.len));
        protobuf_c_message_free_unpacked(resp, NULL);
    }
    return round;
}

typedef struct {
    ccz_rpc_stream *st;
    stream_status r;
    ccz_buf b;
} open_stream;

/* Starts a PushUpdateStream of c's weights for round on ch: its header and first 16-byte slice,
 * sent with the channel's next run. */
static void stream_begin(open_stream *s, const client *c, ccz_rpc_channel *ch, unsigned round)
{
    memset(s, 0, sizeof *s);
    s->r.code = -1;
    CHECK_OK(ccz_hfl_tensor_encode(&s->b, c->w, DIM, CCZ_HFL_F32));
    Cczfl__UpdateHeader h = CCZFL__UPDATE_HEADER__INIT;
    h.round = round;
    h.examples = c->examples;
    h.loss = 1;
    h.total = DIM * 4;
    ccz_rpc_call_opts co = CCZ_RPC_CALL_OPTS_INIT;
    co.deadline_ms = 20000;
    CHECK_OK(ccz_rpc_start(ch, &s->st, "/cczfl.Aggregator/PushUpdateStream", NULL,
                           &cczfl__ack__descriptor, &co, stream_msg, stream_end, &s->r));
    dense_chunks(&h, s->b.ptr, 16, 0, send_chunk, s->st);
}

/* Sends the rest of the stream and closes it: the status code it ends with. */
static int stream_finish(open_stream *s, ccz_rpc_channel *ch)
{
    Cczfl__UpdateChunk m = CCZFL__UPDATE_CHUNK__INIT;
    for (size_t at = 16; at < DIM * 4; at += 16) {
        m.weights = (ProtobufCBinaryData){DIM * 4 - at < 16 ? DIM * 4 - at : 16, s->b.ptr + at};
        send_chunk(&m, s->st);
    }
    CHECK_OK(ccz_rpc_stream_close(s->st));
    CHECK_OK(ccz_rpc_channel_run(ch));
    ccz_buf_free(&s->b);
    return s->r.code;
}

/* A client that streams its update may not send another at once (ALREADY_EXISTS); when it
 * rejoins on another connection, the stream it left on the first is superseded
 * (FAILED_PRECONDITION) and does not count; its update on the new connection closes the round
 * with exactly its weights. */
static void update_while_streaming(void)
{
    server s;
    memset(&s, 0, sizeof s);
    ccz_hfl_service_opts o = lr_opts(1, 1);
    o.gather_ms = 1;
    o.round_timeout_ms = 30000;
    hfl_test_server_start(&s, &o, DIM);
    ccz_rpc_channel_opts co = CCZ_RPC_CHANNEL_OPTS_INIT;
    ccz_rpc_channel *ch[2];
    for (int i = 0; i < 2; i++)
        CHECK_OK(ccz_rpc_channel_new(&ch[i], s.target, &co));
    client c = {.name = "a", .examples = 10};
    for (int k = 0; k < DIM; k++)
        c.w[k] = (float)k - 3;
    join_as(ch[0], "a");
    CHECK_INT(model_round(ch[0], NULL, NULL), 1);
    open_stream st;
    stream_begin(&st, &c, ch[0], 1);
    CHECK_INT(push(&c, ch[0], 1, DIM), CCZ_RPC_ALREADY_EXISTS);
    CHECK_STR(c.msgs[0], "this client's update for the round is being streamed");
    join_as(ch[1], "a"); /* back on another connection */
    CHECK_INT(stream_finish(&st, ch[0]), CCZ_RPC_FAILED_PRECONDITION);
    CHECK_STR(st.r.message, "this update stream was superseded; discarded");
    CHECK_INT(s.n_rounds, 0);
    c.w[0] = 42;
    CHECK_INT(push(&c, ch[1], 1, DIM), 0);
    float w[DIM];
    bool done = false;
    CHECK_INT(model_round(ch[1], w, &done), 1);
    CHECK(done);
    CHECK(!memcmp(w, c.w, sizeof w));
    for (int i = 0; i < 2; i++)
        ccz_rpc_channel_free(ch[i]);
    server_stop(&s);
    CHECK_INT(s.n_rounds, 1);
    CHECK_INT(s.rounds[0].received, 1);
}

/* A participant of round 2 sends an update labelled round 1 (stale) and one labelled round 3
 * (not open): both refused with FAILED_PRECONDITION, neither counted; its round-2 update is the
 * model. */
static void stale_and_future_rounds(void)
{
    server s;
    memset(&s, 0, sizeof s);
    ccz_hfl_service_opts o = lr_opts(2, 1);
    o.gather_ms = 1;
    o.round_timeout_ms = 30000;
    hfl_test_server_start(&s, &o, DIM);
    ccz_rpc_channel_opts co = CCZ_RPC_CHANNEL_OPTS_INIT;
    ccz_rpc_channel *ch;
    CHECK_OK(ccz_rpc_channel_new(&ch, s.target, &co));
    client c = {.name = "a", .examples = 10};
    join_as(ch, "a");
    CHECK_INT(model_round(ch, NULL, NULL), 1);
    CHECK_INT(push(&c, ch, 1, DIM), 0);
    CHECK_INT(model_round(ch, NULL, NULL), 2);
    for (int k = 0; k < DIM; k++)
        c.w[k] = 7;
    CHECK_INT(push(&c, ch, 1, DIM), CCZ_RPC_FAILED_PRECONDITION);
    CHECK_STR(c.msgs[1], "late update for round 1: the round is closed (1 done); discarded");
    CHECK_INT(push(&c, ch, 3, DIM), CCZ_RPC_FAILED_PRECONDITION);
    CHECK_CONTAINS(c.msgs[2], "update for round 3: ");
    CHECK_INT(s.n_rounds, 1);
    for (int k = 0; k < DIM; k++)
        c.w[k] = (float)k / 4;
    CHECK_INT(push(&c, ch, 2, DIM), 0);
    float w[DIM];
    bool done = false;
    CHECK_INT(model_round(ch, w, &done), 2);
    CHECK(done);
    CHECK(!memcmp(w, c.w, sizeof w));
    ccz_rpc_channel_free(ch);
    server_stop(&s);
    CHECK_INT(s.n_rounds, 2);
}

/* One client waiting is fewer than the 2 a round needs: no round opens for it. A stream begun in
 * the round and finished after the round closed at its deadline is late (FAILED_PRECONDITION)
 * and changes nothing: the round's model is the other client's. */
static void stream_outlives_its_round(void)
{
    server s;
    memset(&s, 0, sizeof s);
    ccz_hfl_service_opts o = lr_opts(1, 2);
    o.gather_ms = 1;
    o.round_timeout_ms = 1000;
    hfl_test_server_start(&s, &o, DIM);
    ccz_rpc_channel_opts co = CCZ_RPC_CHANNEL_OPTS_INIT;
    ccz_rpc_channel *ch[2];
    client cs[2] = {{.name = "a", .examples = 10}, {.name = "b", .examples = 10}};
    for (int i = 0; i < 2; i++) {
        CHECK_OK(ccz_rpc_channel_new(&ch[i], s.target, &co));
        join_as(ch[i], cs[i].name);
        for (int k = 0; k < DIM; k++)
            cs[i].w[k] = (float)(i + 1);
    }
    /* a alone is fewer than the round's 2: no round opens for it until b waits too */
    pthread_t t;
    model_call first = {.ch = ch[0], .code = -1};
    test_thread(&t, get_model_run, &first);
    usleep(700 * 1000);
    CHECK_INT(__atomic_load_n(&first.code, __ATOMIC_SEQ_CST), -1);
    CHECK_INT(model_round(ch[1], NULL, NULL), 1);
    pthread_join(t, NULL);
    CHECK_INT(first.code, 0);
    open_stream st;
    stream_begin(&st, &cs[0], ch[0], 1);
    join_as(ch[0], "a"); /* runs the channel: the stream's first chunks are sent */
    CHECK_INT(push(&cs[1], ch[1], 1, DIM), 0);
    usleep(1800 * 1000); /* past the deadline: the round closes with b's update */
    CHECK_INT(stream_finish(&st, ch[0]), CCZ_RPC_FAILED_PRECONDITION);
    CHECK_STR(st.r.message, "late update for round 1: the round is closed (1 done); discarded");
    float w[DIM];
    bool done = false;
    CHECK_INT(model_round(ch[0], w, &done), 1);
    CHECK(done);
    CHECK(!memcmp(w, cs[1].w, sizeof w));
    for (int i = 0; i < 2; i++)
        ccz_rpc_channel_free(ch[i]);
    server_stop(&s);
    CHECK_INT(s.n_rounds, 1);
    CHECK_INT(s.rounds[0].received, 1);
    CHECK_STR(s.rounds[0].dropped, "a");
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *model_round_run(void *arg)
{
    model_call *m = arg;
    m->code = (int)model_round(m->ch, NULL, NULL);
    return NULL;
}

/* After the first round, a round waits for every active client (up to gather_ms): b, back half a
 * second after a, takes part in round 2. Then b goes away while it waits (its GetModel cut at
 * its deadline, its connection closed): a client gone does not hold round 3 back, which opens
 * for a at once. When b joins again, it is active at once: round 4 waits for it. */
static void rounds_wait_for_active_clients(void)
{
    server s;
    memset(&s, 0, sizeof s);
    ccz_hfl_service_opts o = lr_opts(4, 1);
    o.gather_ms = 2500;
    o.round_timeout_ms = 30000;
    hfl_test_server_start(&s, &o, DIM);
    ccz_rpc_channel_opts co = CCZ_RPC_CHANNEL_OPTS_INIT;
    ccz_rpc_channel *ch[2];
    client cs[2] = {{.name = "a", .examples = 10, .loss = 0.5},
                    {.name = "b", .examples = 30, .loss = 2}};
    for (int i = 0; i < 2; i++) {
        CHECK_OK(ccz_rpc_channel_new(&ch[i], s.target, &co));
        join_as(ch[i], cs[i].name);
    }
    for (unsigned round = 1; round <= 2; round++) {
        pthread_t t;
        model_call first = {.ch = ch[0], .code = -1};
        test_thread(&t, model_round_run, &first);
        usleep(500 * 1000);
        if (round == 1) { /* a waits: its name is not for another connection to take */
            ccz_rpc_channel *other;
            CHECK_OK(ccz_rpc_channel_new(&other, s.target, &co));
            Cczfl__JoinRequest jr = CCZFL__JOIN_REQUEST__INIT;
            jr.name = "a";
            jr.examples = 10;
            ProtobufCMessage *resp = NULL;
            char msg[512];
            CHECK_INT(unary(other, "Join", &jr.base, &cczfl__plan__descriptor, &resp, msg),
                      CCZ_RPC_ALREADY_EXISTS);
            CHECK_CONTAINS(msg, "a client named a has joined already");
            ccz_rpc_channel_free(other);
        }
        CHECK_INT(model_round(ch[1], NULL, NULL), round);
        pthread_join(t, NULL);
        CHECK_INT(first.code, (int)round);
        for (int i = 0; i < 2; i++)
            CHECK_INT(push(&cs[i], ch[i], round, DIM), 0);
    }
    model_call gone = {.code = -1};
    ccz_rpc_call_opts wait = CCZ_RPC_CALL_OPTS_INIT;
    wait.deadline_ms = 300;
    Cczfl__ModelRequest mr = CCZFL__MODEL_REQUEST__INIT;
    ccz_rpc_stream *st;
    CHECK_OK(ccz_rpc_start(ch[1], &st, "/cczfl.Aggregator/GetModel", &mr.base,
                           &cczfl__model__descriptor, &wait, NULL, model_call_done, &gone));
    CHECK_OK(ccz_rpc_channel_run(ch[1]));
    CHECK_INT(gone.code, CCZ_RPC_DEADLINE_EXCEEDED);
    ccz_rpc_channel_free(ch[1]);
    usleep(400 * 1000); /* the aggregator's tick sees the call gone */
    int64_t t0 = now_ms();
    CHECK_INT(model_round(ch[0], NULL, NULL), 3);
    CHECK(now_ms() - t0 < 1500);
    CHECK_INT(push(&cs[0], ch[0], 3, DIM), 0);
    /* b joins again: active at once, so round 4 waits for its GetModel as for a's */
    CHECK_OK(ccz_rpc_channel_new(&ch[1], s.target, &co));
    join_as(ch[1], "b");
    pthread_t t;
    model_call first = {.ch = ch[0], .code = -1};
    test_thread(&t, model_round_run, &first);
    usleep(500 * 1000);
    CHECK_INT(model_round(ch[1], NULL, NULL), 4);
    pthread_join(t, NULL);
    CHECK_INT(first.code, 4);
    for (int i = 0; i < 2; i++)
        CHECK_INT(push(&cs[i], ch[i], 4, DIM), 0);
    for (int i = 0; i < 2; i++)
        ccz_rpc_channel_free(ch[i]);
    server_stop(&s);
    CHECK_INT(s.n_rounds, 4);
    CHECK_INT(s.rounds[0].participants, 2);
    CHECK(s.rounds[0].train_loss == 1.625); /* (0.5 * 10 + 2 * 30) / 40 */
    CHECK_INT(s.rounds[1].participants, 2);
    CHECK_INT(s.rounds[2].participants, 1);
    CHECK_INT(s.rounds[3].participants, 2);
}

/* A checkpoint of a round past the training's last is refused, not taken as a finished
 * training; one of FedAdam, with its state, resumes. */
static void checkpoint_past_the_training(void)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/late.ckpt", test_tmpdir());
    ccz_hfl_strategy_opts so = CCZ_HFL_STRATEGY_OPTS_INIT;
    ccz_hfl_strategy *avg;
    CHECK_OK(ccz_hfl_strategy_new(&avg, CCZ_HFL_FEDAVG, DIM, &so));
    float g[DIM] = {0};
    CHECK_OK(ccz_hfl_checkpoint_write(path, 3, avg, g, DIM));
    ccz_hfl_strategy_free(avg);
    ccz_hfl_service_opts o = lr_opts(2, 1);
    o.checkpoint = path;
    for (unsigned rounds = 2; rounds <= 3; rounds++) {
        ccz_rpc_server_opts ro = CCZ_RPC_SERVER_OPTS_INIT;
        ccz_rpc_server *rpc;
        CHECK_OK(ccz_rpc_server_new(&rpc, &ro));
        o.rounds = rounds;
        ccz_hfl_service *svc = NULL;
        ccz_status st = ccz_hfl_service_new(&svc, rpc, &o);
        if (rounds == 2) {
            CHECK_STATUS(st, CCZ_ERR_INVALID_ARGUMENT);
            CHECK_CONTAINS(ccz_error_detail(), "is of round 3; this training has 2 rounds");
            CHECK(svc == NULL);
        } else { /* a training of 3 rounds: over already */
            CHECK_OK(st);
            CHECK(svc && ccz_hfl_service_status(svc)->over);
            CHECK(svc && ccz_hfl_service_status(svc)->rounds_done == 3);
        }
        ccz_hfl_service_free(svc);
        ccz_rpc_server_free(rpc);
    }
    /* a FedAdam checkpoint (the model and its two state arrays, three times the model's bytes)
     * is read whole and resumed */
    ccz_hfl_strategy *adam;
    CHECK_OK(ccz_hfl_strategy_new(&adam, CCZ_HFL_FEDADAM, DIM, &so));
    CHECK_OK(ccz_hfl_checkpoint_write(path, 1, adam, g, DIM));
    ccz_hfl_strategy_free(adam);
    o.strategy = CCZ_HFL_FEDADAM;
    o.rounds = 3;
    ccz_rpc_server_opts ro = CCZ_RPC_SERVER_OPTS_INIT;
    ccz_rpc_server *rpc;
    CHECK_OK(ccz_rpc_server_new(&rpc, &ro));
    ccz_hfl_service *svc = NULL;
    CHECK_OK(ccz_hfl_service_new(&svc, rpc, &o));
    CHECK(svc && ccz_hfl_service_status(svc)->rounds_done == 1);
    CHECK(svc && !ccz_hfl_service_status(svc)->over);
    ccz_hfl_service_free(svc);
    ccz_rpc_server_free(rpc);
}

/* A PushUpdateStream whose first chunk is a slice, not the header: refused as such (the round
 * it would be for is in the header it lacks). */
static void stream_without_header(void)
{
    server s;
    memset(&s, 0, sizeof s);
    ccz_hfl_service_opts o = lr_opts(1, 1);
    o.gather_ms = 1;
    o.round_timeout_ms = 30000;
    hfl_test_server_start(&s, &o, DIM);
    ccz_rpc_channel_opts co = CCZ_RPC_CHANNEL_OPTS_INIT;
    ccz_rpc_channel *ch;
    CHECK_OK(ccz_rpc_channel_new(&ch, s.target, &co));
    join_as(ch, "a");
    CHECK_INT(model_round(ch, NULL, NULL), 1);
    ccz_rpc_call_opts call = CCZ_RPC_CALL_OPTS_INIT;
    call.deadline_ms = 20000;
    stream_status r = {-1, ""};
    ccz_rpc_stream *st;
    CHECK_OK(ccz_rpc_start(ch, &st, "/cczfl.Aggregator/PushUpdateStream", NULL,
                           &cczfl__ack__descriptor, &call, stream_msg, stream_end, &r));
    static const uint8_t slice[16] = {0};
    Cczfl__UpdateChunk m = CCZFL__UPDATE_CHUNK__INIT;
    m.weights = (ProtobufCBinaryData){sizeof slice, (uint8_t *)slice};
    CHECK_OK(ccz_rpc_stream_send(st, &m.base));
    CHECK_OK(ccz_rpc_stream_close(st));
    CHECK_OK(ccz_rpc_channel_run(ch));
    CHECK_INT(r.code, CCZ_RPC_INVALID_ARGUMENT);
    CHECK_STR(r.message, "update rejected: chunk 1 must be the header alone");
    ccz_rpc_channel_free(ch);
    server_stop(&s);
    CHECK_INT(s.n_rounds, 0);
}

/* An aggregate the strategy refuses (FedAdam stepping past FLT_MAX: see aggregate_not_finite)
 * ends the training with the reason, at the round before: it is not taken as round 1's model. */
static void aggregation_failure_ends_training(void)
{
    server s;
    memset(&s, 0, sizeof s);
    ccz_hfl_service_opts o = lr_opts(2, 1);
    o.gather_ms = 1;
    o.round_timeout_ms = 30000;
    o.strategy = CCZ_HFL_FEDADAM;
    o.strategy_opts.server_lr = 3.4e35f;
    o.strategy_opts.beta1 = 1e-30f;
    o.strategy_opts.beta2 = 0.9999999f;
    o.strategy_opts.tau = 1e-30f;
    hfl_test_server_start(&s, &o, DIM);
    ccz_rpc_channel_opts co = CCZ_RPC_CHANNEL_OPTS_INIT;
    ccz_rpc_channel *ch;
    CHECK_OK(ccz_rpc_channel_new(&ch, s.target, &co));
    join_as(ch, "a");
    client c = {.name = "a", .examples = 10};
    float g[DIM];
    CHECK_INT(model_round(ch, g, NULL), 1);
    for (int k = 0; k < DIM; k++)
        c.w[k] = g[k] + 1;
    CHECK_INT(push(&c, ch, 1, DIM), 0);
    bool done = false;
    CHECK_INT(model_round(ch, NULL, &done), 0);
    CHECK(done);
    const ccz_hfl_status *st = ccz_hfl_service_status(s.svc);
    CHECK(st->over);
    CHECK_INT(st->code, CCZ_RPC_INTERNAL);
    CHECK_CONTAINS(st->message, "round 1: ");
    CHECK_CONTAINS(st->message, "is not finite");
    CHECK_INT(st->rounds_done, 0);
    ccz_rpc_channel_free(ch);
    server_stop(&s);
    CHECK_INT(s.n_rounds, 0);
}

typedef struct {
    ccz_rpc_channel *ch;
    client c;
    unsigned chosen; /* rounds it took part in */
} picker;

/* A client that asks for the model and answers every round it is given, until the training is
 * over. */
static void *picker_run(void *arg)
{
    picker *p = arg;
    for (unsigned k = 0; k < 100; k++) {
        bool done = true;
        unsigned round = model_round(p->ch, NULL, &done);
        if (done || !round)
            break;
        p->chosen++;
        if (push(&p->c, p->ch, round, DIM) != 0)
            break;
    }
    return NULL;
}

/* clients_per_round: of the two clients that wait, one takes part in each round, not both; the
 * other waits on, and takes part in later rounds. */
static void one_client_a_round(void)
{
    enum { ROUNDS = 24 };
    server s;
    memset(&s, 0, sizeof s);
    ccz_hfl_service_opts o = lr_opts(ROUNDS, 1);
    o.clients_per_round = 1;
    o.gather_ms = 1500; /* the first round waits it out; later ones wait for both clients */
    o.round_timeout_ms = 30000;
    hfl_test_server_start(&s, &o, DIM);
    ccz_rpc_channel_opts co = CCZ_RPC_CHANNEL_OPTS_INIT;
    picker p[2] = {{.c = {.name = "a", .examples = 10}}, {.c = {.name = "b", .examples = 10}}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++) {
        CHECK_OK(ccz_rpc_channel_new(&p[i].ch, s.target, &co));
        join_as(p[i].ch, p[i].c.name);
    }
    for (int i = 0; i < 2; i++)
        test_thread(&t[i], picker_run, &p[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < 2; i++)
        ccz_rpc_channel_free(p[i].ch);
    server_stop(&s);
    CHECK_INT(p[0].chosen + p[1].chosen, ROUNDS);
    CHECK(p[0].chosen > 0 && p[1].chosen > 0);
    CHECK_INT(s.n_rounds, HFL_TEST_ROUNDS);
    for (unsigned r = 0; r < s.n_rounds; r++) {
        CHECK_INT(s.rounds[r].participants, 1);
        CHECK_INT(s.rounds[r].received, 1);
    }
}

/* The draw of clients_per_round (fl_draw): want distinct entries of the n, idx left a permutation
 * of them with nothing past n read or written, and every entry drawn as often as the others. Over
 * DRAWS draws of 3 of 10, each is drawn 9000 times on average, with a standard deviation of
 * sqrt(30000 * 0.3 * 0.7) = 79.4; the bound is 6 of them, so the test does not flake, while a
 * draw of always the first three, or one that cannot reach the last entries after its first
 * step, is thousands off. Drawing all n or none, and RAND failing, are said as such. */
static void client_draw(void)
{
    enum { N = 10, WANT = 3, DRAWS = 30000, PAD = 4 };
    unsigned count[N] = {0}, bad = 0;
    for (unsigned d = 0; d < DRAWS; d++) {
        unsigned idx[N + PAD];
        for (unsigned i = 0; i < N + PAD; i++)
            idx[i] = i < N ? i : 1000 + i;
        if (!fl_draw(idx, N, WANT)) {
            bad++;
            continue;
        }
        bool seen[N] = {false};
        for (unsigned i = 0; i < N + PAD; i++) {
            if (i >= N ? idx[i] != 1000 + i : idx[i] >= N || seen[idx[i]]) {
                bad++;
                break;
            }
            if (i < N)
                seen[idx[i]] = true;
        }
        for (unsigned j = 0; j < WANT; j++)
            if (idx[j] < N)
                count[idx[j]]++;
    }
    CHECK_INT(bad, 0);
    double mean = (double)DRAWS * WANT / N, sd = sqrt(DRAWS * 0.3 * 0.7);
    for (unsigned i = 0; i < N; i++)
        if (fabs(count[i] - mean) > 6 * sd) {
            fprintf(stderr, "client %u drawn %u times of %u; expected %.0f +- %.0f\n", i, count[i],
                    DRAWS, mean, 6 * sd);
            CHECK(fabs(count[i] - mean) <= 6 * sd);
        }
    unsigned all[4] = {7, 5, 3, 1};
    CHECK(fl_draw(all, 4, 4));
    CHECK_INT(all[0] + all[1] + all[2] + all[3], 16);
    CHECK_INT(all[0] * all[1] * all[2] * all[3], 105);
    CHECK(fl_draw(all, 4, 0));
    rng_fail_start();
    unsigned two[2] = {0, 1};
    CHECK(!fl_draw(two, 2, 1));
    rng_fail_stop();
    CHECK(two[0] == 0 && two[1] == 1);
}

/* The round's draw through the service: np clients (a, b) that ask for the model and answer
 * every round they are given, beside `idle` clients that join and never ask, through ROUNDS
 * rounds with clients_per_round per; each round must have `each` participants. With one client
 * the least, a round waits out the gathering window (gather_ms) while not every client waits. */
enum { PICK_ROUNDS = 3 };
static void pickers(picker *p, unsigned np, unsigned idle, unsigned per_round, unsigned max_clients,
                    unsigned min_clients, unsigned gather_ms, unsigned each)
{
    hfl_test_server s;
    memset(&s, 0, sizeof s);
    ccz_hfl_service_opts o = lr_opts(PICK_ROUNDS, min_clients);
    o.clients_per_round = per_round;
    o.max_clients = max_clients;
    o.gather_ms = gather_ms;
    o.round_timeout_ms = 30000;
    hfl_test_server_start(&s, &o, DIM);
    ccz_rpc_channel_opts co = CCZ_RPC_CHANNEL_OPTS_INIT;
    ccz_rpc_channel *quiet[2] = {NULL, NULL};
    for (unsigned i = 0; i < idle; i++) {
        CHECK_OK(ccz_rpc_channel_new(&quiet[i], s.target, &co));
        join_as(quiet[i], i ? "idle2" : "idle1");
    }
    pthread_t t[2];
    for (unsigned i = 0; i < np; i++) {
        CHECK_OK(ccz_rpc_channel_new(&p[i].ch, s.target, &co));
        join_as(p[i].ch, p[i].c.name);
    }
    for (unsigned i = 0; i < np; i++)
        test_thread(&t[i], picker_run, &p[i]);
    for (unsigned i = 0; i < np; i++)
        pthread_join(t[i], NULL);
    for (unsigned i = 0; i < np; i++)
        ccz_rpc_channel_free(p[i].ch);
    for (unsigned i = 0; i < idle; i++)
        ccz_rpc_channel_free(quiet[i]);
    server_stop(&s);
    CHECK_INT(s.n_rounds, PICK_ROUNDS);
    for (unsigned r = 0; r < s.n_rounds; r++)
        CHECK_INT(s.rounds[r].participants, each);
}

/* Every waiting client takes part when clients_per_round cannot be drawn: RAND fails (not none,
 * not the first alone), or no more clients wait than clients_per_round (two for three, one for
 * three). The draw is among the clients that wait: one of two, while a third joined and never
 * asks. */
static void draw_falls_back_to_all(void)
{
    picker p[2] = {{.c = {.name = "a", .examples = 10}}, {.c = {.name = "b", .examples = 10}}};
    rng_fail_start();
    pickers(p, 2, 0, 1, 0, 1, 1000, 2);
    rng_fail_stop();
    CHECK_INT(p[0].chosen, PICK_ROUNDS);
    CHECK_INT(p[1].chosen, PICK_ROUNDS);
    picker q[2] = {{.c = {.name = "a", .examples = 10}}, {.c = {.name = "b", .examples = 10}}};
    pickers(q, 2, 0, 3, 3, 2, 1, 2);
    CHECK_INT(q[0].chosen, PICK_ROUNDS);
    CHECK_INT(q[1].chosen, PICK_ROUNDS);
    picker one = {.c = {.name = "a", .examples = 10}};
    pickers(&one, 1, 0, 3, 3, 1, 1, 1);
    CHECK_INT(one.chosen, PICK_ROUNDS);
    picker u[2] = {{.c = {.name = "a", .examples = 10}}, {.c = {.name = "b", .examples = 10}}};
    pickers(u, 2, 1, 1, 3, 1, 300, 1);
    CHECK_INT(u[0].chosen + u[1].chosen, PICK_ROUNDS);
}

/* The service's options are refused outside their ranges, each with what was wrong: no round or
 * too many, clients per round beyond the clients there may be, a test set of another width,
 * options of another version. */
static void service_options_refused(void)
{
    ccz_rpc_server_opts ro = CCZ_RPC_SERVER_OPTS_INIT;
    ccz_rpc_server *rpc;
    CHECK_OK(ccz_rpc_server_new(&rpc, &ro));
    ccz_hfl_service *svc = NULL;
    ccz_hfl_service_opts o = lr_opts(0, 1);
    CHECK_STATUS(ccz_hfl_service_new(&svc, rpc, &o), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "1 to 100000 rounds, not 0");
    o.rounds = 100001;
    CHECK_STATUS(ccz_hfl_service_new(&svc, rpc, &o), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "1 to 100000 rounds, not 100001");
    o.rounds = 2;
    /* no minimum, a cap past the aggregator's, a minimum past the cap */
    o.min_clients = 0;
    CHECK_STATUS(ccz_hfl_service_new(&svc, rpc, &o), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "1 <= min clients (0) <= max clients (256) <= 256");
    o.min_clients = 1;
    o.max_clients = CCZ_HFL_MAX_CLIENTS + 1;
    CHECK_STATUS(ccz_hfl_service_new(&svc, rpc, &o), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "1 <= min clients (1) <= max clients (257) <= 256");
    o.min_clients = 4;
    o.max_clients = 3;
    CHECK_STATUS(ccz_hfl_service_new(&svc, rpc, &o), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "1 <= min clients (4) <= max clients (3) <= 256");
    o.min_clients = 1;
    o.max_clients = 3;
    o.clients_per_round = 4;
    CHECK_STATUS(ccz_hfl_service_new(&svc, rpc, &o), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "clients per round (4) between min clients (1) and 3");
    o.min_clients = 2; /* fewer a round than the round waits for */
    o.clients_per_round = 1;
    CHECK_STATUS(ccz_hfl_service_new(&svc, rpc, &o), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "clients per round (1) between min clients (2) and 3");
    o.min_clients = 1;
    o.clients_per_round = 3;
    float x[3] = {0};
    uint8_t y[1] = {0};
    ccz_mlp_data test = {1, 3, 2, x, y}; /* the model takes 4 features */
    o.test = &test;
    CHECK_STATUS(ccz_hfl_service_new(&svc, rpc, &o), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "the test set has 3 features; the model takes 4");
    o.test = NULL;
    for (unsigned v = 0; v <= CCZ_HFL_SERVICE_OPTS_VERSION + 1; v += 2) {
        o.version = v;
        CHECK_STATUS(ccz_hfl_service_new(&svc, rpc, &o), CCZ_ERR_INVALID_ARGUMENT);
        CHECK_STR(ccz_error_detail(), v ? "ccz_hfl_service_opts: version 2, expected 1"
                                        : "ccz_hfl_service_opts: version 0, expected 1");
    }
    CHECK(svc == NULL);
    ccz_rpc_server_free(rpc);
}

/* A round that gets no update before its deadline is opened again (not aggregated from nothing):
 * the update for it that comes between is refused, the one after the client asked again counts. */
static void round_without_updates_reopens(void)
{
    server s;
    memset(&s, 0, sizeof s);
    ccz_hfl_service_opts o = lr_opts(1, 1);
    o.gather_ms = 1;
    o.round_timeout_ms = 600;
    hfl_test_server_start(&s, &o, DIM);
    ccz_rpc_channel_opts co = CCZ_RPC_CHANNEL_OPTS_INIT;
    ccz_rpc_channel *ch;
    CHECK_OK(ccz_rpc_channel_new(&ch, s.target, &co));
    client c = {.name = "a", .examples = 10};
    for (int k = 0; k < DIM; k++)
        c.w[k] = (float)k * 2;
    join_as(ch, "a");
    bool done = true;
    CHECK_INT(model_round(ch, NULL, &done), 1);
    usleep(1200 * 1000); /* past the deadline */
    CHECK_INT(push(&c, ch, 1, DIM), CCZ_RPC_FAILED_PRECONDITION);
    CHECK_STR(c.msgs[0], "update for round 1: no round is open; discarded");
    done = true;
    CHECK_INT(model_round(ch, NULL, &done), 1);
    CHECK(!done);
    CHECK_INT(push(&c, ch, 1, DIM), 0);
    float w[DIM];
    CHECK_INT(model_round(ch, w, &done), 1);
    CHECK(done);
    CHECK(!memcmp(w, c.w, sizeof w));
    ccz_rpc_channel_free(ch);
    server_stop(&s);
    CHECK_INT(s.n_rounds, 1);
    CHECK_INT(s.rounds[0].received, 1);
}

TEST_MAIN(T(fedavg_matches_numpy), T(tensors), T(update_parse), T(checkpoints), T(fedyogi_by_hand),
          T(fedadam_by_hand), T(fedyogi_matches_numpy), T(topk_selection),
          T(partial_values_and_foreign_checkpoints), T(dense_update_with_sparse_fields),
          T(sparse_decoding), T(stream_parsing), T(round_with_sparse_update),
          T(round_with_misshaped_update), T(round_with_streamed_updates), T(straggler_dropped),
          T(resume_from_checkpoint), T(refusals_and_caps), T(out_of_turn),
          T(checkpoint_magic_and_states), T(stream_headers_refused), T(aggregate_not_finite),
          T(strategy_arguments), T(update_while_streaming), T(stale_and_future_rounds),
          T(stream_outlives_its_round), T(rounds_wait_for_active_clients),
          T(checkpoint_past_the_training), T(round_without_updates_reopens),
          T(service_options_refused), T(one_client_a_round), T(client_draw),
          T(draw_falls_back_to_all), T(stream_without_header), T(aggregation_failure_ends_training))
