/* SPDX-License-Identifier: Apache-2.0 */
/* One-node ONNX models for tests, built with protobuf-c (no python3-onnx needed): an operator
 * over X[N, ...] into Y, with up to two initializers and one attribute, and the faults a hostile
 * file may carry (see model_spec); and a model of many inputs. */
#ifndef CCZ_TEST_ONNX_BUILD_H
#define CCZ_TEST_ONNX_BUILD_H

#include <stdbool.h>
#include <stdint.h>

#include "ccz/ccz.h"

#define SYM -1 /* a symbolic (dim_param) dimension */

typedef struct {
    const char *name;
    size_t rank;
    int64_t dims[4];
    int type; /* ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT or __INT64 */
    size_t n_f;
    const float *f;
    size_t n_i;
    const int64_t *i;
    bool has_raw;
    size_t raw_len;
    const uint8_t *raw;
    bool external;
} init_spec;

typedef struct {
    const char *op;
    size_t n_in;
    const char *in[3];
    size_t x_rank; /* X: [N, x_dims[1..]] */
    int64_t x_dims[5];
    size_t y_rank; /* Y's declared shape; 0: none */
    int64_t y_dims[5];
    size_t n_init;
    init_spec init[2];
    int64_t ir, opset;     /* 0: 8 and 13 */
    const char *attr_name; /* one attribute: ints when n_attr_ints, else an int */
    int64_t attr_int;
    size_t n_attr_ints;
    int64_t attr_ints[4];
    size_t attr_str_len; /* the attribute is a string of these bytes when attr_str is set */
    const char *attr_str;
    const char *attr2_name; /* a second attribute, of ints */
    size_t n_attr2_ints;
    int64_t attr2_ints[4];
    bool no_input, no_output; /* the graph lists no input (X), no output (Y) */
    const char *op2;          /* a second node "n1": op2(in2) -> out2, after the first */
    const char *in2, *out2;
    bool out2_output; /* the graph's outputs are Y, then out2 (of Y's type) */
} model_spec;

/* Writes the model of s into b, which is empty (ir_version 8 and opset 13 unless s says
 * otherwise). */
void onnx_build(ccz_buf *b, const model_spec *s);

/* Wraps graph g in a model of opset and IR version ir and packs it into b. */
typedef struct Onnx__GraphProto Onnx__GraphProto;
void onnx_build_pack(ccz_buf *b, Onnx__GraphProto *g, int64_t opset, int64_t ir);

/* Writes into b (empty) a model of n inputs X0..X<n-1>, each [N, 1], concatenated in their order
 * into Y[N, n] (Concat nodes of at most 16 inputs each, then one over theirs; n: 1 to 256). */
void onnx_build_concat(ccz_buf *b, size_t n);

#endif
