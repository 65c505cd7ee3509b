/* SPDX-License-Identifier: Apache-2.0 */
/* Horizontal FL's aggregation: FedAvg of K client updates of a 1M-parameter float32 model on one
 * thread, and the decoding of the updates from the wire (the aggregator's per-update work), as
 * GB/s of float32 updates per CPU second; and secure aggregation's share of it: one client's
 * masking against K - 1 peers (AES-256-CTR streams) and the aggregator's sum in Z_2^32. Prints
 * one JSON object per case. */
#include <stdio.h>
#include <stdlib.h>

#include "../clock.h"
#include "ccz/hfl.h"
#include "ccz/secagg.h"

#define DIM (1u << 20)

int main(int argc, char **argv)
{
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
