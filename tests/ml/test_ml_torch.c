/* SPDX-License-Identifier: Apache-2.0 */
/* A PyTorch model through the engine: a LeNet-style CNN trained for one pass over part of
 * Fashion-MNIST and exported by torch.onnx.export (tests/ml/models.py). Probabilities equal
 * torch's eager outputs within 1e-5 relative (1e-6 absolute) on the 10000 test images, with the
 * same accuracy. Skipped (77) without python3-torch, python3-onnx and dataset-fashion-mnist. */
#include "ml_cases.h"

static void test_lenet_fashion(void)
{
    ml_generate("models.py cnn", "python3-torch with python3-onnx and dataset-fashion-mnist");
    CHECK_INT(ml_replay(0), 1); /* one thread and all are ml/test_ml_ops's */
}

TEST_MAIN(T(test_lenet_fashion))
