/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: an FL server's first answer as its clients read it (src/svc/fl/clients.h). The
 * first byte picks the message, protobuf-c unpacks the rest: a homo-LR KeyReply (the worker's
 * Paillier key and plan, fl_hlr_read_plan), an HFL Plan (the model's layers and the training,
 * fl_hfl_read_plan), or a hetero-LR JoinReply (the plan, fl_vlr_plan_check, then its ids
 * aligned with ccz_fl_vlr_align), each for a data set of 2 features (2 classes, ids 1 to 4).
 * What is taken must be in range: the model's weights counted as its layers make them, the
 * aligned rows those of the ids in their order: anything else aborts. */
#include <math.h>
#include <stdlib.h>

#include "ccz/ccz.h"
#include "svc/fl/clients.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void homo(const uint8_t *data, size_t size)
{
    Homolr__KeyReply *r = homolr__key_reply__unpack(NULL, size, data);
    if (!r)
        return;
    double x[2] = {0.5, 0.25};
    ccz_ml_dataset d = {1, 2, x, NULL, NULL};
    fl_hlr_plan p = {0};
    if (fl_hlr_read_plan(&p, r, &d) == CCZ_OK &&
        (!p.pk || p.iterations < 1 || p.iterations > 1000000 || p.every < 1 || !isfinite(p.alpha) ||
         p.alpha < 0 || !(p.learning_rate > 0 && p.learning_rate < 1e6)))
        abort();
    ccz_paillier_pub_free(p.pk);
    homolr__key_reply__free_unpacked(r, NULL);
}

static void hfl(const uint8_t *data, size_t size)
{
    Cczfl__Plan *r = cczfl__plan__unpack(NULL, size, data);
    if (!r)
        return;
    float x[2] = {0.5f, 0.25f};
    uint8_t y[1] = {1};
    ccz_mlp_data d = {1, 2, 2, x, y};
    ccz_hfl_join_opts o = CCZ_HFL_JOIN_OPTS_INIT;
    fl_hfl_plan p;
    if (fl_hfl_read_plan(&p, r, &d, &o) == CCZ_OK) {
        size_t dim = 0;
        for (unsigned l = 0; l < p.shape.layers; l++)
            dim += (size_t)p.shape.sizes[l] * p.shape.sizes[l + 1] + p.shape.sizes[l + 1];
        if (p.shape.layers + 1 != r->n_layers || p.shape.sizes[0] != 2 || p.dim != dim ||
            p.dim == 0 || p.rounds < 1 || p.train.epochs < 1 || p.train.batch < 1 ||
            p.train.batch > 65536 || !(p.train.lr >= 0 && p.train.lr < 100))
            abort();
    }
    cczfl__plan__free_unpacked(r, NULL);
}

static void hetero(const uint8_t *data, size_t size)
{
    Heterolr__JoinReply *j = heterolr__join_reply__unpack(NULL, size, data);
    if (!j)
        return;
    if (fl_vlr_plan_check(j) == CCZ_OK) {
        if (j->epochs < 1 || j->batch_size < 1 || (size_t)j->batch_size > j->n_ids || j->n_ids < 2)
            abort();
        double x[8] = {0, 1, 2, 3, 4, 5, 6, 7};
        int64_t ids[4] = {1, 2, 3, 4};
        ccz_ml_dataset d = {4, 2, x, NULL, ids}, a = {0};
        if (ccz_fl_vlr_align(&a, &d, j->ids, j->n_ids) == CCZ_OK) {
            if (a.rows != j->n_ids || a.features != 2)
                abort();
            for (size_t i = 0; i < a.rows; i++)
                if (j->ids[i] < 1 || j->ids[i] > 4 || a.x[2 * i] != (double)(2 * (j->ids[i] - 1)))
                    abort();
        }
        ccz_ml_dataset_free(&a);
    }
    heterolr__join_reply__free_unpacked(j, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 4096)
        return 0;
    switch (data[0] % 3) {
    case 0:
        homo(data + 1, size - 1);
        break;
    case 1:
        hfl(data + 1, size - 1);
        break;
    default:
        hetero(data + 1, size - 1);
        break;
    }
    ccz_error_clear();
    return 0;
}
