/* SPDX-License-Identifier: Apache-2.0 */
/* The encrypted query's speed (include/ccz/hequery.h), in one process without the network:
 * for an algorithm and a database, each lookup's client work (key pair, encryption, decryption)
 * and the server's (loading the query, setup, the search as the HE toolkit's sample times it),
 * wall clock and CPU time, and records searched per second. Prints one JSON object.
 *   heq_bench DB.csv faithful|fast|packed THREADS KEY...   (bench/run part he-query) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../clock.h"
#include "ccz/ccz.h"

#define GUARD(x)                                                                                   \
    do {                                                                                           \
        ccz_status s_ = (x);                                                                       \
        if (s_) {                                                                                  \
            fprintf(stderr, "heq_bench: %s: %s\n", #x, ccz_error_detail());                        \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: heq_bench DB.csv faithful|fast|packed THREADS KEY...\n");
        return 2;
    }
    ccz_heq_algorithm alg;
    ccz_heq_db *db;
    ccz_heq_server *srv;
    GUARD(ccz_heq_algorithm_parse(&alg, argv[2]));
    GUARD(ccz_heq_db_load(&db, argv[1]));
    ccz_heq_server_opts so = CCZ_HEQ_SERVER_OPTS_INIT;
    so.db = db;
    so.threads = (unsigned)atoi(argv[3]);
    GUARD(ccz_heq_server_new(&srv, &so));
    size_t n = ccz_heq_db_size(db);
    double search_w = 0, search_c = 0, total_w = 0, total_c = 0;
    printf("{\"algorithm\": \"%s\", \"entries\": %zu, \"threads\": %u, \"lookups\": [", argv[2], n,
           so.threads);
    for (int i = 4; i < argc; i++) {
        double w0 = bench_wall(), c0 = bench_cpu();
        ccz_heq_client *c;
        ccz_heq_query q;
        GUARD(ccz_heq_client_new(&c, alg));
        double w1 = bench_wall();
        GUARD(ccz_heq_client_query(&q, c, CCZ_SPAN(argv[i], strlen(argv[i]))));
        double w2 = bench_wall(), c2 = bench_cpu();
        ccz_span keys[CCZ_HEQ_KEY_CTS];
        size_t sent = q.params.len + q.public_key.len + q.relin_keys.len;
        for (int k = 0; k < CCZ_HEQ_KEY_CTS; k++)
            sent += q.key[k].len;
        ccz_heq_query_view v = ccz_heq_query_view_of(&q, keys);
        ccz_heq_answer a;
        GUARD(ccz_heq_server_answer(&a, srv, &v));
        double w3 = bench_wall(), c3 = bench_cpu();
        ccz_buf val = CCZ_BUF_INIT;
        int budget;
        GUARD(ccz_heq_client_decode(&val, &budget, c, ccz_buf_span(&a.value), a.block, a.chunks));
        double w4 = bench_wall(), c4 = bench_cpu();
        /* the search's CPU time: the server's CPU time in proportion of its wall split */
        double server_w = w3 - w2, server_c = c3 - c2;
        double sc = server_w > 0 ? server_c * a.search_seconds / server_w : 0;
        printf(
            "%s{\"key\": \"%s\", \"value\": \"%.*s\", \"budget\": %d, \"keygen_s\": %.3f, "
            "\"encrypt_s\": %.3f, \"server_s\": %.3f, \"server_cpu_s\": %.3f, \"load_s\": %.3f, "
            "\"setup_s\": %.3f, \"search_s\": %.3f, \"search_cpu_s\": %.3f, \"decrypt_s\": %.3f, "
            "\"total_s\": %.3f, \"total_cpu_s\": %.3f, \"query_bytes\": %zu, "
            "\"answer_bytes\": %zu}",
            i > 4 ? ", " : "", argv[i], (int)val.len, (const char *)val.ptr, budget, w1 - w0,
            w2 - w1, server_w, server_c, a.load_seconds, a.setup_seconds, a.search_seconds, sc,
            w4 - w3, w4 - w0, c4 - c0, sent, a.value.len);
        fflush(stdout);
        search_w += a.search_seconds;
        search_c += sc;
        total_w += w4 - w0;
        total_c += c4 - c0;
        ccz_buf_free(&val);
        ccz_buf_free(&a.value);
        ccz_heq_query_free(&q);
        ccz_heq_client_free(c);
    }
    int k = argc - 4;
    printf("], \"records_per_s_search\": %.4f, \"records_per_cpu_s_search\": %.4f, "
           "\"records_per_s_end_to_end\": %.4f, \"records_per_cpu_s_end_to_end\": %.4f}\n",
           n * k / search_w, n * k / search_c, n * k / total_w, n * k / total_c);
    ccz_heq_server_free(srv);
    ccz_heq_db_free(db);
    return 0;
}
