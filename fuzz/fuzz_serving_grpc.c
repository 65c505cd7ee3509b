/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the model server's gRPC Predict requests (src/svc/serving/grpc.c): the bytes of
 * a tensorflow.serving.PredictRequest as a client sends them, unpacked by protobuf-c and checked
 * against three small models (two inputs of ranks 2 and 3; class scores; one value a row). A
 * request that parses must hold its rows of every input and ask for outputs the model has; it
 * is then run. */
#include <stdlib.h>

#include "serving_models.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sv_server *s = fuzz_serving_server();
    Tensorflow__Serving__PredictRequest *rq =
        tensorflow__serving__predict_request__unpack(NULL, size, data);
    if (!rq)
        return 0; /* the RPC layer answers INTERNAL before the service sees it */
    sv_job *j = NULL;
    if (sv_grpc_parse(&j, s, rq) != CCZ_OK) {
        if (j)
            abort(); /* a failure leaves nothing behind */
        protobuf_c_message_free_unpacked(&rq->base, NULL);
        return 0;
    }
    if (!j || j->rows == 0 || j->rows > (1u << 20))
        abort();
    if (j->out_mask == 0 || (j->m->n_out < 32 && j->out_mask >> j->m->n_out))
        abort(); /* an output the model does not have */
    if (j->rows <= 4096)
        (void)!ccz_ml_run(j->m->ml, j->rows, (const float *const *)j->in, j->out, 1);
    sv_job_free(j);
    protobuf_c_message_free_unpacked(&rq->base, NULL);
    return 0;
}
