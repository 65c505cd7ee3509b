/* SPDX-License-Identifier: Apache-2.0 */
/* A scikit-learn model through the engine: LogisticRegression on the breast-cancer data,
 * standardised (Sub, Div) and exported as ai.onnx.ml LinearClassifier by tests/ml/models.py.
 * Labels and probabilities equal predict() and predict_proba() within 1e-5 relative (1e-6
 * absolute) on the whole test split, so the accuracy is the same. Skipped (77) without
 * python3-sklearn and python3-onnx. */
#include "ml_cases.h"

static void test_breast_cancer_lr(void)
{
    ml_generate("models.py lr", "python3-sklearn with python3-onnx");
    CHECK_INT(ml_replay(0), 1);
}

TEST_MAIN(T(test_breast_cancer_lr))
