/* SPDX-License-Identifier: Apache-2.0 */
#ifndef CCZ_FUZZ_SERVING_MODELS_H
#define CCZ_FUZZ_SERVING_MODELS_H
#include "svc/serving/internal.h"

/* A server of three models, built at the first call: "two" (a [N,3] -> Relu -> r, b [N,2,2] ->
 * Identity -> i), "cls" (x [N,3] -> Softmax -> p) and "reg" (x [N,1] -> Relu -> y), version 1
 * each; no batcher threads (the targets run jobs themselves). */
sv_server *fuzz_serving_server(void);

#endif
