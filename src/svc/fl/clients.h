/* SPDX-License-Identifier: Apache-2.0 */
/* What the FL clients take from their server's first answer, checked before anything is made of
 * it (internal; the fuzz target fl_client_plan reads them without a server): the homo-LR
 * worker's key and plan (client.c), the HFL client's plan (hfl_client.c), the hetero-LR
 * party's plan (hetero_client.c). */
#ifndef CCZ_SRC_SVC_FL_CLIENTS_H
#define CCZ_SRC_SVC_FL_CLIENTS_H

#include "ccz/fl.h"
#include "ccz/hfl.h"
#include "ccz/mlp.h"
#include "fl.pb-c.h"
#include "hetero_lr.pb-c.h"
#include "homo_lr.pb-c.h"

typedef struct {
    ccz_paillier_pub *pk; /* the caller frees it, also on failure */
    unsigned iterations, every;
    double alpha, learning_rate;
} fl_hlr_plan;

/* The key and the plan from KeyReply, for data set d. */
CCZ_NODISCARD ccz_status fl_hlr_read_plan(fl_hlr_plan *p, const Homolr__KeyReply *r,
                                          const ccz_ml_dataset *d);

typedef struct {
    ccz_mlp_shape shape;
    size_t dim;
    unsigned rounds;
    ccz_mlp_train_opts train;
    bool prox;
    bool secure; /* secure aggregation: ccz_hfl_secagg_upload */
} fl_hfl_plan;

/* The aggregator's plan, for data d. */
CCZ_NODISCARD ccz_status fl_hfl_read_plan(fl_hfl_plan *p, const Cczfl__Plan *r,
                                          const ccz_mlp_data *d, const ccz_hfl_join_opts *o);

/* The arbiter's plan in JoinReply (epochs, batches, ids, alpha, learning rate, momentum). */
CCZ_NODISCARD ccz_status fl_vlr_plan_check(const Heterolr__JoinReply *j);

#endif
