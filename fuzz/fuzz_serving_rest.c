/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the model server's REST requests (src/svc/serving/rest.c): a path after
 * /v1/models/ or /v2/ and a JSON body, against three small models (two inputs of ranks 2 and 3;
 * class scores; one value a row). A request that parses must hold exactly its rows of every
 * input; it is then run and its answer rendered, which must be JSON. Input: byte 0 picks v1 or
 * v2, then the path up to a newline, then the body. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "serving_models.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    sv_server *s = fuzz_serving_server();
    bool v2 = data[0] & 1;
    const uint8_t *nl = memchr(data + 1, '\n', size - 1);
    if (!nl || nl - data > 200)
        return 0;
    char path[256];
    memcpy(path, data + 1, (size_t)(nl - data - 1));
    path[nl - data - 1] = '\0';
    if (strlen(path) != (size_t)(nl - data - 1)) /* a NUL in the path: HTTP never gives one */
        return 0;
    ccz_span body = CCZ_SPAN(nl + 1, size - (size_t)(nl + 1 - data));
    sv_job *j = NULL;
    if (sv_rest_parse(&j, s, v2, path, body) != CCZ_OK) {
        if (j)
            abort(); /* a failure leaves nothing behind */
        return 0;
    }
    if (!j || j->rows == 0 || j->rows > (1u << 20))
        abort();
    if (j->rows <= 4096) {
        ccz_buf b = CCZ_BUF_INIT;
        if (ccz_ml_run(j->m->ml, j->rows, (const float *const *)j->in, j->out, 1) == CCZ_OK &&
            sv_rest_body(&b, j) == CCZ_OK) {
            /* NaN and Infinity are written as TensorFlow Serving writes them, outside JSON */
            json_error_t err;
            json_t *v = json_loadb((const char *)b.ptr, b.len, 0, &err);
            if (!v && !memmem(b.ptr, b.len, "NaN", 3) && !memmem(b.ptr, b.len, "Infinity", 8))
                abort(); /* the answer is not JSON */
            json_decref(v);
        }
        ccz_buf_free(&b);
    }
    sv_job_free(j);
    return 0;
}
