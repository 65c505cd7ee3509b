/* SPDX-License-Identifier: Apache-2.0 */
/* Horizontal FL's aggregation: FedAvg of K client updates of a 1M-parameter float32 model on one
 * thread, and the decoding of the updates from the wire (the aggregator's per-update work), as
 * GB/s of float32 updates per CPU second; and secure aggregation's share of it: one client's
 * masking against K - 1 peers (AES-256-CTR streams) and the aggregator's sum in Z_2^32.
 * `hfl_bench rounds [REPS [K...]]`: whole rounds over loopback h2c with the aggregator and K
 * simulated clients (4, 16, 64; no training) in this process, plain and with secure aggregation:
 * round time, the aggregator thread's CPU time per MB of updates and MB of updates per CPU
 * second of it (the whole round: receiving and decoding the updates, FedAvg, sending the model
 * back), and the kernel's share of that CPU. HFL_SECURE=0 runs the plain rounds only, =1 the
 * secure ones. Prints one JSON object per case. */
#include <pthread.h>
#include <stdio.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>

#include "../clock.h"
#include "ccz/hfl.h"
#include "ccz/secagg.h"
#include "fl.pb-c.h"

#define DIM (1u << 20)

/* ---- rounds over loopback: the aggregator and K simulated clients in one process -------------*/

#define ROUND_SHAPE ((ccz_mlp_shape){1, {1023, 1024}}) /* 1023 x 1024 + 1024 = 2^20 parameters */

typedef struct {
    ccz_rpc_server *rpc;
    ccz_hfl_service *svc;
    unsigned n;
    double wall[16], cpu[16]; /* per round: its seconds, the aggregator thread's CPU seconds */
    double sys[16];           /* of which in the kernel */
    double last_cpu, last_sys;
} agg;

typedef struct {
    const char *target;
    char name[16];
    bool secure;
    const ccz_buf *plain; /* the update's bytes (plain) */
    const float *w;
    int failed;
} sim;

static double thread_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The calling thread's CPU seconds in the kernel. */
static double thread_sys(void)
{
    struct rusage ru;
    getrusage(RUSAGE_THREAD, &ru);
    return (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static void *agg_run(void *arg)
{
    agg *a = arg;
    pthread_setname_np(pthread_self(), "aggregator"); /* for perf report --comm aggregator */
    a->last_cpu = thread_cpu();
    a->last_sys = thread_sys();
    if (ccz_rpc_server_run(a->rpc) != CCZ_OK)
        fprintf(stderr, "hfl_bench: %s\n", ccz_error_detail());
    return NULL;
}

static void agg_round(const ccz_hfl_round *r, void *payload)
{
    agg *a = payload;
    double c = thread_cpu(), k = thread_sys();
    if (a->n < 16) {
        a->wall[a->n] = r->seconds;
        a->sys[a->n] = k - a->last_sys;
        a->cpu[a->n++] = c - a->last_cpu;
    }
    a->last_cpu = c;
    a->last_sys = k;
}

static void agg_over(const ccz_hfl_status *st, void *payload)
{
    (void)st;
    ccz_rpc_server_shutdown(((agg *)payload)->rpc, 1000);
}

static int unary(ccz_rpc_channel *ch, const char *method, const ProtobufCMessage *req,
                 const ProtobufCMessageDescriptor *d, ProtobufCMessage **resp)
{
    char path[80];
    snprintf(path, sizeof path, "/cczfl.Aggregator/%s", method);
    ccz_rpc_call_opts co = CCZ_RPC_CALL_OPTS_INIT;
    co.deadline_ms = 600000;
    ccz_rpc_status st;
    *resp = NULL;
    if (ccz_rpc_unary(ch, resp, &st, path, req, d, &co) != CCZ_OK)
        return -1;
    int code = st.code;
    if (code)
        fprintf(stderr, "hfl_bench: %s: %d %s\n", method, code, st.message);
    ccz_rpc_status_free(&st);
    return code;
}

/* Join, then per round GetModel and the upload, without training. */
static void *sim_run(void *arg)
{
    sim *c = arg;
    ccz_rpc_channel_opts co = CCZ_RPC_CHANNEL_OPTS_INIT;
    co.max_message = ccz_hfl_max_message(DIM);
    ccz_rpc_channel *ch = NULL;
    if (ccz_rpc_channel_new(&ch, c->target, &co) != CCZ_OK) {
        c->failed = 1;
        return NULL;
    }
    Cczfl__JoinRequest jr = CCZFL__JOIN_REQUEST__INIT;
    jr.name = c->name;
    jr.examples = 100;
    ProtobufCMessage *resp;
    c->failed = unary(ch, "Join", &jr.base, &cczfl__plan__descriptor, &resp) != 0;
    if (resp)
        protobuf_c_message_free_unpacked(resp, NULL);
    unsigned after = 0;
    while (!c->failed) {
        Cczfl__ModelRequest mr = CCZFL__MODEL_REQUEST__INIT;
        mr.after_round = after;
        if (unary(ch, "GetModel", &mr.base, &cczfl__model__descriptor, &resp) != 0 || !resp) {
            c->failed = 1;
            break;
        }
        unsigned round = ((Cczfl__Model *)resp)->round;
        bool done = ((Cczfl__Model *)resp)->done;
        protobuf_c_message_free_unpacked(resp, NULL);
        if (done)
            break;
        if (c->secure) {
            ccz_hfl_join_opts o = CCZ_HFL_JOIN_OPTS_INIT;
            o.name = c->name;
            o.deadline_ms = 600000;
            ccz_hfl_join_result res = {0};
            c->failed = ccz_hfl_secagg_upload(ch, &o, round, c->w, DIM, 1.0, &res) != CCZ_OK ||
                        res.code != 0;
        } else {
            Cczfl__Update u = CCZFL__UPDATE__INIT;
            u.round = round;
            u.examples = 100;
            u.loss = 1;
            u.weights = (ProtobufCBinaryData){c->plain->len, c->plain->ptr};
            c->failed = unary(ch, "PushUpdate", &u.base, &cczfl__ack__descriptor, &resp) != 0;
            if (resp)
                protobuf_c_message_free_unpacked(resp, NULL);
        }
        after = round;
    }
    ccz_rpc_channel_free(ch);
    return NULL;
}

static int compare_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* rounds of k clients, plain or secure: min and median round time and aggregator CPU */
static int rounds(unsigned k, bool secure, unsigned reps, const float *w, const ccz_buf *plain)
{
    agg a = {0};
    ccz_rpc_server_opts so = CCZ_RPC_SERVER_OPTS_INIT;
    so.max_message = ccz_hfl_max_message(DIM);
    so.max_connections = 1024;
    /* every client's upload in flight at once (the default 64 MiB sheds all but 16) */
    so.max_buffer = (size_t)(k + 1) * so.max_message;
    if (ccz_rpc_server_new(&a.rpc, &so) != CCZ_OK)
        return 1;
    ccz_hfl_service_opts o = CCZ_HFL_SERVICE_OPTS_INIT;
    o.model = "lr";
    o.shape = ROUND_SHAPE;
    o.rounds = reps + 1; /* the first round waits for the clients to gather: not counted */
    o.min_clients = k;
    o.gather_ms = 100;
    o.round_timeout_ms = 600000;
    o.threads = 1;
    o.secure_agg = secure;
    o.on_round = agg_round;
    o.on_over = agg_over;
    o.payload = &a;
    int port = 0;
    if (ccz_hfl_service_new(&a.svc, a.rpc, &o) != CCZ_OK ||
        ccz_rpc_server_listen(a.rpc, &port, "127.0.0.1:0") != CCZ_OK) {
        fprintf(stderr, "hfl_bench: %s\n", ccz_error_detail());
        return 1;
    }
    char target[64];
    snprintf(target, sizeof target, "127.0.0.1:%d", port);
    pthread_t at, *t = malloc(k * sizeof *t);
    sim *c = calloc(k, sizeof *c);
    pthread_create(&at, NULL, agg_run, &a);
    double c0 = bench_cpu();
    for (unsigned i = 0; i < k; i++) {
        c[i] = (sim){target, "", secure, plain, w, 0};
        snprintf(c[i].name, sizeof c[i].name, "sim%u", i);
        pthread_create(&t[i], NULL, sim_run, &c[i]);
    }
    int failed = 0;
    for (unsigned i = 0; i < k; i++) {
        pthread_join(t[i], NULL);
        failed |= c[i].failed;
    }
    pthread_join(at, NULL);
    double proc = bench_cpu() - c0;
    ccz_hfl_service_free(a.svc);
    ccz_rpc_server_free(a.rpc);
    free(t);
    free(c);
    if (failed || a.n < 2)
        return fprintf(stderr, "hfl_bench: a simulated client failed\n"), 1;
    /* round 1 waited for the clients to gather */
    unsigned n = a.n - 1;
    double wall[16], cpu[16], sys = 0, all = 0;
    memcpy(wall, a.wall + 1, n * sizeof *wall);
    memcpy(cpu, a.cpu + 1, n * sizeof *cpu);
    for (unsigned i = 1; i < a.n; i++)
        sys += a.sys[i], all += a.cpu[i];
    qsort(wall, n, sizeof *wall, compare_d);
    qsort(cpu, n, sizeof *cpu, compare_d);
    double mb = (double)k * DIM * 4 / 1e6;
    printf(
        "{\"bench\": \"fl_round\", \"secure\": %s, \"clients\": %u, \"params\": %u, "
        "\"rounds\": %u, \"round_s_min\": %.3f, \"round_s_median\": %.3f, "
        "\"agg_cpu_s_min\": %.3f, \"agg_cpu_s_median\": %.3f, \"agg_cpu_ms_per_mb\": %.3f, "
        "\"agg_mb_per_cpu_s\": %.1f, \"agg_mb_per_cpu_s_best\": %.1f, \"agg_kernel_share\": %.2f, "
        "\"process_cpu_s_per_round\": %.3f}\n",
        secure ? "true" : "false", k, DIM, n, wall[0], wall[(n - 1) / 2], cpu[0], cpu[(n - 1) / 2],
        cpu[(n - 1) / 2] * 1e3 / mb, mb / cpu[(n - 1) / 2], mb / cpu[0], all > 0 ? sys / all : 0,
        proc / a.n);
    fflush(stdout);
    return 0;
}

static int rounds_main(unsigned reps, int argc, char **argv)
{
    float *w = malloc(DIM * sizeof(float));
    for (size_t j = 0; j < DIM; j++)
        w[j] = (float)((j * 2654435761u) % 1000) / 1000.0f - 0.5f;
    ccz_buf plain = CCZ_BUF_INIT;
    if (ccz_hfl_tensor_encode(&plain, w, DIM, CCZ_HFL_F32) != CCZ_OK)
        return 1;
    unsigned ks[3] = {4, 16, 64}, nk = 3;
    if (argc > 3) { /* clients given */
        nk = 0;
        for (int i = 3; i < argc && nk < 3; i++)
            ks[nk++] = (unsigned)atoi(argv[i]);
    }
    /* HFL_SECURE=0: plain rounds only, 1: secure only; unset: both */
    const char *only = getenv("HFL_SECURE");
    int first = only && !strcmp(only, "1"), last = only && !strcmp(only, "0") ? 0 : 1;
    int r = 0;
    for (unsigned i = 0; i < nk && !r; i++)
        for (int secure = first; secure <= last && !r; secure++)
            r = rounds(ks[i], secure, reps, w, &plain);
    ccz_buf_free(&plain);
    free(w);
    return r;
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "rounds"))
        return rounds_main(argc > 2 ? (unsigned)atoi(argv[2]) : 3, argc, argv);
    unsigned reps = argc > 1 ? (unsigned)atoi(argv[1]) : 5;
    unsigned ks[] = {4, 16, 64};
    float *global = malloc(DIM * sizeof(float));
    ccz_buf wire = CCZ_BUF_INIT;
    for (size_t c = 0; c < sizeof ks / sizeof ks[0]; c++) {
        unsigned k = ks[c];
        float **m = malloc(k * sizeof *m);
        double *w = malloc(k * sizeof *w);
        for (unsigned i = 0; i < k; i++) {
            m[i] = malloc(DIM * sizeof(float));
            w[i] = 100 + i;
            for (size_t j = 0; j < DIM; j++)
                m[i][j] = (float)((j * 2654435761u + i) % 1000) / 1000.0f;
        }
        wire.len = 0;
        if (ccz_hfl_tensor_encode(&wire, m[0], DIM, CCZ_HFL_F32) != CCZ_OK)
            return 1;
        double bytes = (double)k * DIM * 4 * reps;
        double c0 = bench_cpu(), t0 = bench_wall();
        for (unsigned r = 0; r < reps; r++)
            if (ccz_hfl_fedavg(global, (const float *const *)m, w, k, DIM, 1) != CCZ_OK)
                return 1;
        double cpu = bench_cpu() - c0, wall = bench_wall() - t0;
        double d0 = bench_cpu();
        for (unsigned r = 0; r < reps; r++)
            for (unsigned i = 0; i < k; i++)
                if (ccz_hfl_tensor_decode(m[i], DIM, CCZ_HFL_F32, wire.ptr, wire.len) != CCZ_OK)
                    return 1;
        double dcpu = bench_cpu() - d0;
        printf("{\"bench\": \"fl_fedavg\", \"clients\": %u, \"params\": %u, \"reps\": %u, "
               "\"wall_s\": %.4f, \"cpu_s\": %.4f, \"gb_per_cpu_s\": %.3f, "
               "\"decode_gb_per_cpu_s\": %.3f, \"cpu_ms_per_mb\": %.4f}\n",
               k, DIM, reps, wall, cpu, bytes / cpu / 1e9, bytes / dcpu / 1e9,
               (cpu + dcpu) * 1e3 / (bytes / 1e6));
        /* secure aggregation: client 0's mask against k - 1 peers, and the sum of k masked */
        uint8_t(*sk)[32] = malloc(k * 32), (*pk)[32] = malloc(k * 32);
        uint32_t *masked = malloc(DIM * sizeof(uint32_t)), *sum = calloc(DIM, sizeof(uint32_t));
        for (unsigned i = 0; i < k; i++)
            if (ccz_secagg_keygen(sk[i], pk[i]) != CCZ_OK)
                return 1;
        double m0 = bench_cpu();
        if (ccz_secagg_mask(masked, m[0], DIM, 65536.0f, 0, sk[0], (const uint8_t(*)[32])pk, NULL,
                            k) != CCZ_OK)
            return 1;
        double mcpu = bench_cpu() - m0, s0 = bench_cpu();
        for (unsigned i = 0; i < k; i++)
            for (size_t j = 0; j < DIM; j++)
                sum[j] += masked[j];
        double scpu = bench_cpu() - s0;
        printf("{\"bench\": \"fl_secagg\", \"clients\": %u, \"params\": %u, "
               "\"client_mask_cpu_s\": %.4f, \"server_sum_gb_per_cpu_s\": %.3f, "
               "\"server_sum_vs_fedavg\": %.2f}\n",
               k, DIM, mcpu, (double)k * DIM * 4 / scpu / 1e9, (scpu) / (cpu / reps));
        free(sk);
        free(pk);
        free(masked);
        free(sum);
        for (unsigned i = 0; i < k; i++)
            free(m[i]);
        free(m);
        free(w);
    }
    ccz_buf_free(&wire);
    free(global);
    return 0;
}
