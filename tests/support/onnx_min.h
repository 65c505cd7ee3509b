/* SPDX-License-Identifier: Apache-2.0 */
/* A model for tests that need one without python3-onnx: Relu over X[N,3] into Y (ir_version 8,
 * opset 13), its protobuf written by hand. */
#ifndef CCZ_TEST_ONNX_MIN_H
#define CCZ_TEST_ONNX_MIN_H

#include "ccz/ccz.h"

/* Appends the model's bytes to m. */
void onnx_relu_model(ccz_buf *m);

#endif
