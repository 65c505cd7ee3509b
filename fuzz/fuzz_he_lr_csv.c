/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: CCZoo's model and data files for encrypted LR inference (the CSV readers of
 * src/svc/he_lr/csv.c). The first byte picks the reader (even: the model, odd: the data); what
 * parses must be sound: counts within bounds, every number finite, labels 0 or 1, and the
 * cleartext inference over it gives probabilities for every row (a model of the data's width
 * is made for that). */
#include <math.h>
#include <stdlib.h>

#include "ccz/ccz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    ccz_span text = CCZ_SPAN(data + 1, size - 1);
    if (data[0] % 2 == 0) {
        ccz_he_lr_model m;
        if (ccz_he_lr_model_parse(&m, text) != CCZ_OK)
            return 0;
        if (m.features < 1 || m.features > CCZ_HE_LR_MAX_FEATURES || !isfinite(m.bias))
            abort();
        for (size_t k = 0; k < m.features; k++)
            if (!isfinite(m.weights[k]))
                abort();
        ccz_he_lr_model_free(&m);
        return 0;
    }
    ccz_he_lr_data d;
    if (ccz_he_lr_data_parse(&d, text) != CCZ_OK)
        return 0;
    if (d.rows < 1 || d.rows > CCZ_HE_LR_MAX_ROWS || d.features < 1 ||
        d.features > CCZ_HE_LR_MAX_FEATURES)
        abort();
    for (size_t i = 0; i < d.rows * d.features; i++)
        if (!isfinite(d.x[i]))
            abort();
    for (size_t r = 0; r < d.rows; r++)
        if (d.y[r] > 1)
            abort();
    double *w = calloc(d.features, sizeof *w), *p = calloc(d.rows, sizeof *p);
    if (!w || !p)
        abort();
    for (size_t k = 0; k < d.features; k++)
        w[k] = 1.0 / (double)(k + 1);
    ccz_he_lr_model m = {d.features, 0.25, w};
    if (ccz_he_lr_predict(p, &m, &d) != CCZ_OK)
        abort();
    double acc = ccz_he_lr_accuracy(p, &d);
    if (!(acc >= 0 && acc <= 1))
        abort();
    free(w);
    free(p);
    ccz_he_lr_data_free(&d);
    return 0;
}
