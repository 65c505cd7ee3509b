/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: CCZoo's CSV data sets (ccz_ml_dataset_csv), as a homo-LR worker or server reads
 * them, and the layouts with ids (ccz_ml_dataset_parse: FATE's guest and host files, scikit-learn's
 * bundled CSV) as the hetero-LR parties read them. An accepted data set must have rows, features
 * within the limits, labels 0 or 1 (none without a label column), finite features and unique
 * ids; anything else aborts. */
#include <math.h>
#include <stdlib.h>

#include "ccz/ccz.h"
#include "ccz/ml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ccz_ml_dataset d;
    if (ccz_ml_dataset_csv(&d, (const char *)data, size) == CCZ_OK) {
        if (!d.rows || !d.features || d.features > CCZ_ML_CSV_MAX_FEATURES ||
            d.rows > CCZ_ML_CSV_MAX_ROWS)
            abort();
        for (size_t r = 0; r < d.rows; r++) {
            if (d.y[r] > 1)
                abort();
            for (size_t i = 0; i < d.features; i++)
                if (!isfinite(d.x[r * d.features + i]))
                    abort();
        }
        double w[8] = {0.5, -1, 2, 0, 1, 1, 1, 1}, acc, loss;
        if (d.features < 8 && (ccz_ml_lr_evaluate(&acc, &loss, w, d.features + 1, &d) != CCZ_OK ||
                               acc < 0 || acc > 1))
            abort();
        ccz_ml_dataset_free(&d);
    }
    ccz_error_clear();
    static const ccz_ml_csv_layout layouts[] = {CCZ_ML_CSV_ID_Y, CCZ_ML_CSV_ID, CCZ_ML_CSV_SKLEARN};
    for (size_t k = 0; k < 3; k++) {
        if (ccz_ml_dataset_parse(&d, (const char *)data, size, layouts[k]) == CCZ_OK) {
            if (!d.rows || !d.features || d.features > CCZ_ML_CSV_MAX_FEATURES || !d.ids ||
                (layouts[k] == CCZ_ML_CSV_ID) != (d.y == NULL))
                abort();
            for (size_t r = 0; r < d.rows; r++) {
                if ((d.y && d.y[r] > 1) || d.ids[r] < 0)
                    abort();
                for (size_t q = 0; q < r && q < 64; q++)
                    if (d.ids[q] == d.ids[r])
                        abort();
                for (size_t i = 0; i < d.features; i++)
                    if (!isfinite(d.x[r * d.features + i]))
                        abort();
            }
            ccz_ml_dataset_free(&d);
        }
        ccz_error_clear();
    }
    return 0;
}
