/* SPDX-License-Identifier: Apache-2.0 */
/* The loader's refusals in C alone (tests/ml/op_ref.py checks most of them where python3-onnx
 * is installed; these are the ones it leaves out, or checks one way round only, and the common
 * ones again so that the loader is checked without Python): one-node models built here with
 * protobuf-c, each refused with its exact status and detail (initializer data that does not
 * match its shape, a dimension of 0, past the element limit or symbolic after the batch,
 * external data, a declared output of another shape, IR 10, opsets 6 and 19, an undefined input,
 * an unknown attribute, no graph input or output, a nameless initializer, Gemm, MatMul, Add and
 * Reshape operands that do not fit in either direction, the batch moved by Softmax, Flatten or
 * Transpose); the same models without the fault load and run; a run at the batch limit and
 * one past it, and the workspace a batch takes. */
#include <malloc.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ccz/ml.h"
#include "onnx.pb-c.h"
#include "onnx_build.h"
#include "test.h"

static ccz_status load(const model_spec *s, ccz_ml_model **out)
{
    ccz_buf b = CCZ_BUF_INIT;
    onnx_build(&b, s);
    ccz_ml_model *m = NULL;
    ccz_status st = ccz_ml_model_load(&m, ccz_buf_span(&b));
    ccz_buf_free(&b);
    if (out)
        *out = m;
    else
        ccz_ml_model_free(m);
    return st;
}

/* s must be refused with status and a detail holding text */
static void refused(const model_spec *s, ccz_status status, const char *text)
{
    ccz_ml_model *m = NULL;
    CHECK_STATUS(load(s, &m), status);
    CHECK_CONTAINS(ccz_error_detail(), text);
    CHECK(m == NULL);
    ccz_ml_model_free(m);
}

/* Relu over X[N,3] */
static model_spec relu(void)
{
    return (model_spec){.op = "Relu", .n_in = 1, .in = {"X"}, .x_rank = 2, .x_dims = {0, 3}};
}

static const float F3[3] = {1, 2, 3};
static const int64_t I2[2] = {0, 3};

/* The valid base of the cases below loads and runs. */
static void valid_models_run(void)
{
    model_spec r = relu();
    r.y_rank = 2;
    r.y_dims[1] = 3;
    ccz_ml_model *m = NULL;
    CHECK_OK(load(&r, &m));
    if (m) {
        float x[3] = {-1, 2, -3}, y[3] = {9, 9, 9};
        const float *in[] = {x};
        float *o[] = {y};
        CHECK_OK(ccz_ml_run(m, 1, in, o, 1));
        CHECK(y[0] == 0 && y[1] == 2 && y[2] == 0);
        ccz_ml_model_free(m);
    }
    /* Add with a float initializer, as float_data and as raw_data */
    model_spec add = {
        .op = "Add",
        .n_in = 2,
        .in = {"X", "B"},
        .x_rank = 2,
        .x_dims = {0, 3},
        .n_init = 1,
        .init = {{.name = "B", .rank = 1, .dims = {3}, .type = 1, .n_f = 3, .f = F3}}};
    CHECK_OK(load(&add, &m));
    if (m) {
        float x[3] = {1, 1, 1}, y[3];
        const float *in[] = {x};
        float *o[] = {y};
        CHECK_OK(ccz_ml_run(m, 1, in, o, 1));
        CHECK(y[0] == 2 && y[1] == 3 && y[2] == 4);
        ccz_ml_model_free(m);
    }
    add.init[0].n_f = 0;
    add.init[0].has_raw = true;
    add.init[0].raw_len = 12;
    add.init[0].raw = (const uint8_t *)F3; /* little-endian hosts only run ccz */
    CHECK_OK(load(&add, NULL));
    model_spec reshape = {
        .op = "Reshape",
        .n_in = 2,
        .in = {"X", "s"},
        .x_rank = 3,
        .x_dims = {0, 1, 3},
        .n_init = 1,
        .init = {{.name = "s", .rank = 1, .dims = {2}, .type = 7, .n_i = 2, .i = I2}}};
    CHECK_OK(load(&reshape, NULL));
}

/* Initializers whose data does not match their shape, or that live elsewhere.
 */
static void initializer_data(void)
{
    model_spec add = {
        .op = "Add",
        .n_in = 2,
        .in = {"X", "B"},
        .x_rank = 2,
        .x_dims = {0, 3},
        .n_init = 1,
        .init = {{.name = "B", .rank = 1, .dims = {3}, .type = 1, .n_f = 2, .f = F3}}};
    refused(&add, CCZ_ERR_MALFORMED, "initializer 'B': 2 floats of data for 3 elements");
    add.init[0].n_f = 0;
    add.init[0].has_raw = true;
    add.init[0].raw_len = 8;
    add.init[0].raw = (const uint8_t *)F3;
    refused(&add, CCZ_ERR_MALFORMED, "initializer 'B': 8 bytes of data for 3 floats");
    static const float F4[4] = {1, 2, 3, 4};
    add.init[0].raw_len = 16; /* longer than the shape says: refused too */
    add.init[0].raw = (const uint8_t *)F4;
    refused(&add, CCZ_ERR_MALFORMED, "initializer 'B': 16 bytes of data for 3 floats");
    add.init[0].raw_len = 12;
    add.init[0].external = true;
    refused(&add, CCZ_ERR_UNSUPPORTED, "initializer 'B': external data is not supported");

    model_spec reshape = {
        .op = "Reshape",
        .n_in = 2,
        .in = {"X", "s"},
        .x_rank = 3,
        .x_dims = {0, 1, 3},
        .n_init = 1,
        .init = {{.name = "s", .rank = 1, .dims = {2}, .type = 7, .n_i = 1, .i = I2}}};
    refused(&reshape, CCZ_ERR_MALFORMED, "initializer 's': 1 int64s of data for 2 elements");
    reshape.init[0].n_i = 0;
    reshape.init[0].has_raw = true;
    reshape.init[0].raw_len = 8;
    reshape.init[0].raw = (const uint8_t *)I2;
    refused(&reshape, CCZ_ERR_MALFORMED, "initializer 's': 8 bytes of data for 2 int64s");
    static const int64_t I3[3] = {0, 3, 0};
    reshape.init[0].raw_len = 24;
    reshape.init[0].raw = (const uint8_t *)I3;
    refused(&reshape, CCZ_ERR_MALFORMED, "initializer 's': 24 bytes of data for 2 int64s");

    /* raw_data beside typed data: which holds the weights would be the reader's choice */
    static const float Z3[3] = {0};
    add.init[0].external = false;
    add.init[0].n_f = 3;
    add.init[0].f = Z3;
    add.init[0].raw = (const uint8_t *)F3;
    refused(&add, CCZ_ERR_MALFORMED, "initializer 'B' holds data in 2 fields");
    reshape.init[0].raw_len = 16;
    reshape.init[0].raw = (const uint8_t *)I2;
    reshape.init[0].n_i = 2;
    refused(&reshape, CCZ_ERR_MALFORMED, "initializer 's' holds data in 2 fields");
    add.init[0].has_raw = false;
    add.init[0].n_i = 2; /* int64_data in a float tensor */
    add.init[0].i = I2;
    refused(&add, CCZ_ERR_MALFORMED, "initializer 'B' holds data in 2 fields");
    add.init[0].n_i = 0;
    add.init[0].type = 11; /* double */
    add.init[0].n_f = 0;
    add.init[0].has_raw = true;
    add.init[0].raw_len = 24;
    static const double D3[3] = {1, 2, 3};
    add.init[0].raw = (const uint8_t *)D3;
    refused(&add, CCZ_ERR_UNSUPPORTED,
            "initializer 'B': data type 11 (only float and int64 are supported)");
}

/* Dimensions of 0, past the element limit or symbolic after the batch; declared
 * outputs of another shape; versions this engine does not run. */
static void shapes_and_versions(void)
{
    model_spec s = relu();
    s.x_dims[1] = 0;
    refused(&s, CCZ_ERR_UNSUPPORTED, "'X' dimension 1 is 0 (1 to 268435456 supported)");
    s = relu();
    s.x_rank = 4;
    s.x_dims[1] = s.x_dims[2] = 16384;
    s.x_dims[3] = 2;
    refused(&s, CCZ_ERR_TOO_LARGE, "'X' has more than 268435456 elements");
    s = relu();
    s.x_rank = 3;
    s.x_dims[2] = SYM;
    refused(&s, CCZ_ERR_UNSUPPORTED, "input 'X': dimension 2 is not fixed");
    s = relu();
    s.y_rank = 2;
    s.y_dims[1] = 5;
    refused(&s, CCZ_ERR_MALFORMED,
            "output 'Y' is declared with 2 dimensions other than the [N,3] inferred");
    s = relu();
    s.ir = 10;
    refused(&s, CCZ_ERR_UNSUPPORTED_VERSION, "ml: IR version 10 (3 to 9 supported)");
    s = relu();
    s.opset = 19;
    refused(&s, CCZ_ERR_UNSUPPORTED, "opset version 19 of its domain is not supported");
    s.opset = 6;
    refused(&s, CCZ_ERR_UNSUPPORTED, "opset version 6 of its domain is not supported");
    s = relu();
    s.in[0] = "Q";
    refused(&s, CCZ_ERR_MALFORMED, "input 'Q' is never defined");
    s = relu();
    s.attr_name = "alpha";
    s.attr_int = 1;
    refused(&s, CCZ_ERR_UNSUPPORTED, "node 0 'n0' (Relu): attribute 'alpha' is not supported");
}

/* Graphs without an input or an output, an initializer without a name. */
static void graph_edges(void)
{
    model_spec s = relu();
    s.no_output = true;
    refused(&s, CCZ_ERR_MALFORMED, "the graph has no output");
    s = relu();
    s.in[0] = "B";
    s.n_init = 1;
    s.init[0] = (init_spec){.name = "B", .rank = 1, .dims = {3}, .type = 1, .n_f = 3, .f = F3};
    s.no_input = true;
    refused(&s, CCZ_ERR_UNSUPPORTED, "the graph has no input");
    s = relu();
    s.n_init = 1;
    s.init[0] = (init_spec){.name = "", .rank = 1, .dims = {3}, .type = 1, .n_f = 3, .f = F3};
    refused(&s, CCZ_ERR_MALFORMED, "a value without a name");
}

/* Operands that do not fit their operator. */
static void operands(void)
{
    static const float B8[8] = {0};
    model_spec s = {
        .op = "Gemm",
        .n_in = 2,
        .in = {"X", "B"},
        .x_rank = 2,
        .x_dims = {0, 3},
        .n_init = 1,
        .init = {{.name = "B", .rank = 2, .dims = {4, 2}, .type = 1, .n_f = 8, .f = B8}}};
    refused(&s, CCZ_ERR_MALFORMED, "A has 3 columns and B 4 rows");
    s.op = "MatMul";
    refused(&s, CCZ_ERR_MALFORMED, "inner dimensions 3 and 4 differ");
    s.op = "Add";
    s.init[0].rank = 1;
    s.init[0].dims[0] = 4;
    s.init[0].n_f = 4;
    refused(&s, CCZ_ERR_MALFORMED, "shapes do not broadcast (dimension 1: 3 and 4)");
    static const int64_t shape[2] = {0, 4};
    s = (model_spec){
        .op = "Reshape",
        .n_in = 2,
        .in = {"X", "s"},
        .x_rank = 2,
        .x_dims = {0, 3},
        .n_init = 1,
        .init = {{.name = "s", .rank = 1, .dims = {2}, .type = 7, .n_i = 2, .i = shape}}};
    refused(&s, CCZ_ERR_MALFORMED, "3 elements do not fit the new shape");
    static const int64_t halves[2] = {-1, 6}; /* -1 first: the batch would become N/2 */
    s.init[0].i = halves;
    refused(&s, CCZ_ERR_UNSUPPORTED,
            "the shape must keep the batch dimension first (0, or -1 with one row after)");
    s = relu();
    s.op = "Flatten";
    s.x_rank = 3;
    s.x_dims[1] = 2;
    s.x_dims[2] = 3;
    s.attr_name = "axis";
    s.attr_int = 2; /* [N*2, 3]: rows of the batch merged */
    refused(&s, CCZ_ERR_UNSUPPORTED, "flattening axis 2 would merge the batch dimension");
    s.attr_int = 1;
    CHECK_OK(load(&s, NULL));
    s = relu();
    s.op = "Softmax";
    s.attr_name = "axis";
    refused(&s, CCZ_ERR_UNSUPPORTED, "softmax across the batch dimension");
    s.op = "Flatten";
    refused(&s, CCZ_ERR_UNSUPPORTED, "flattening axis 0 would merge the batch dimension");
    s.op = "Transpose";
    s.attr_name = "perm";
    s.n_attr_ints = 2;
    refused(&s, CCZ_ERR_MALFORMED, "perm is not a permutation"); /* 0, 0 */
    s.attr_ints[0] = 1;
    refused(&s, CCZ_ERR_UNSUPPORTED, "perm must keep the batch dimension first");
}

/* Graphs that cannot run: a node consuming its own output, two nodes each needing the other's,
 * a name defined twice, an output computed from constants alone. */
static void graph_structure(void)
{
    model_spec s = relu();
    s.in[0] = "Y";
    refused(&s, CCZ_ERR_MALFORMED, "node 0 'n0' (Relu) is part of a cycle");
    s = relu();
    s.op = "Add";
    s.n_in = 2;
    s.in[1] = "Z";
    s.op2 = "Relu";
    s.in2 = "Y";
    s.out2 = "Z";
    refused(&s, CCZ_ERR_MALFORMED, "node 0 'n0' (Add) is part of a cycle");
    s.in[1] = "X"; /* no cycle: Y = X + X, Z = relu(Y) */
    CHECK_OK(load(&s, NULL));
    s.out2 = "Y";
    s.in2 = "X";
    refused(&s, CCZ_ERR_MALFORMED, "value 'Y' is defined twice");
    s = relu();
    s.n_init = 1;
    s.init[0] = (init_spec){.name = "Y", .rank = 1, .dims = {3}, .type = 1, .n_f = 3, .f = F3};
    refused(&s, CCZ_ERR_MALFORMED, "value 'Y' is defined twice");
    s = relu();
    s.op = "Add";
    s.n_in = 2;
    s.in[0] = s.in[1] = "B";
    s.n_init = 1;
    s.init[0] = (init_spec){.name = "B", .rank = 1, .dims = {3}, .type = 1, .n_f = 3, .f = F3};
    refused(&s, CCZ_ERR_UNSUPPORTED, "output 'Y' does not depend on the batch");
}

/* Attributes and operands out of range: each would index past a buffer or mean something
 * ONNX does not define. */
static void attribute_ranges(void)
{
    /* Reshape: two -1, a 0 copying a dimension the input does not have */
    static const int64_t two_unknown[3] = {0, -1, -1}, copy_missing[3] = {0, 6, 0};
    model_spec s = {
        .op = "Reshape",
        .n_in = 2,
        .in = {"X", "s"},
        .x_rank = 2,
        .x_dims = {0, 6},
        .n_init = 1,
        .init = {{.name = "s", .rank = 1, .dims = {3}, .type = 7, .n_i = 3, .i = two_unknown}}};
    refused(&s, CCZ_ERR_MALFORMED, "more than one -1 in the shape");
    s.init[0].i = copy_missing;
    refused(&s, CCZ_ERR_MALFORMED, "shape[2] = 0 copies no dimension");

    /* Softmax and Concat: an axis past the rank, either way */
    s = relu();
    s.op = "Softmax";
    s.attr_name = "axis";
    s.attr_int = 2;
    refused(&s, CCZ_ERR_MALFORMED, "axis 2 out of range for rank 2");
    s.attr_int = -3;
    refused(&s, CCZ_ERR_MALFORMED, "axis -3 out of range for rank 2");
    s.attr_int = -1;
    CHECK_OK(load(&s, NULL));
    s.op = "Concat";
    CHECK_OK(load(&s, NULL));
    s.attr_int = 2;
    refused(&s, CCZ_ERR_MALFORMED, "axis 2 out of range for rank 2");
    s.attr_name = NULL;
    refused(&s, CCZ_ERR_MALFORMED, "attribute 'axis' is required");

    /* broadcasting a fixed dimension against the batch, or the batch against another dim */
    static const float F6[6] = {0};
    s = relu();
    s.op = "Add";
    s.n_in = 2;
    s.in[1] = "B";
    s.n_init = 1;
    s.init[0] = (init_spec){.name = "B", .rank = 2, .dims = {2, 3}, .type = 1, .n_f = 6, .f = F6};
    refused(&s, CCZ_ERR_UNSUPPORTED, "a fixed dimension 2 meets the batch dimension");
    s.init[0].dims[0] = 1;
    s.init[0].n_f = 3;
    CHECK_OK(load(&s, NULL));
    s.init[0] =
        (init_spec){.name = "B", .rank = 3, .dims = {2, 1, 3}, .type = 1, .n_f = 6, .f = F6};
    refused(&s, CCZ_ERR_UNSUPPORTED, "broadcasting would move the batch dimension");

    /* Gemm: C of a width other than 1 or N */
    s = (model_spec){
        .op = "Gemm",
        .n_in = 3,
        .in = {"X", "B", "C"},
        .x_rank = 2,
        .x_dims = {0, 3},
        .n_init = 2,
        .init = {{.name = "B", .rank = 2, .dims = {3, 2}, .type = 1, .n_f = 6, .f = F6},
                 {.name = "C", .rank = 1, .dims = {3}, .type = 1, .n_f = 3, .f = F3}}};
    refused(&s, CCZ_ERR_MALFORMED, "C does not broadcast to the result");
    s.init[1].dims[0] = 2;
    s.init[1].n_f = 2;
    CHECK_OK(load(&s, NULL));
    s.init[1].rank = 2; /* (2, 2): two rows of C, not one per row of the batch */
    s.init[1].dims[0] = s.init[1].dims[1] = 2;
    s.init[1].n_f = 4;
    s.init[1].f = F6;
    refused(&s, CCZ_ERR_MALFORMED, "C does not broadcast to the result");

    /* Conv: a window larger than the padded image; strides and kernels of 0 */
    static float w25[25];
    s = (model_spec){
        .op = "Conv",
        .n_in = 2,
        .in = {"X", "W"},
        .x_rank = 4,
        .x_dims = {0, 1, 3, 3},
        .n_init = 1,
        .init = {{.name = "W", .rank = 4, .dims = {1, 1, 5, 5}, .type = 1, .n_f = 25, .f = w25}}};
    refused(&s, CCZ_ERR_MALFORMED, "the window (5x5) is larger than the padded input (3x3)");
    s.attr_name = "pads";
    s.n_attr_ints = 4;
    s.attr_ints[0] = s.attr_ints[1] = s.attr_ints[2] = s.attr_ints[3] = 1;
    CHECK_OK(load(&s, NULL)); /* 5x5 padded: one output */
    s.attr_name = "strides";
    s.n_attr_ints = 2;
    s.attr_ints[0] = 0;
    s.x_dims[2] = s.x_dims[3] = 5;
    refused(&s, CCZ_ERR_UNSUPPORTED, "strides 0,1");
    s.attr_ints[0] = 1;
    s.attr_ints[1] = -1;
    refused(&s, CCZ_ERR_UNSUPPORTED, "strides 1,-1");
    s = (model_spec){.op = "MaxPool",
                     .n_in = 1,
                     .in = {"X"},
                     .x_rank = 4,
                     .x_dims = {0, 1, 4, 4},
                     .attr_name = "kernel_shape",
                     .n_attr_ints = 2,
                     .attr_ints = {0, 2}};
    refused(&s, CCZ_ERR_UNSUPPORTED, "kernel 0x2");
    s.attr_ints[0] = 5;
    refused(&s, CCZ_ERR_MALFORMED, "the window (5x2) is larger than the padded input (4x4)");
}

/* X[N, k] through `nodes` nodes in a chain, every one reading the same constant: Gemm with B
 * (k x k) and transB = trans_b (Y0 = X B', Y1 = Y0 B', ...), or BatchNormalization with P (k
 * values) as its scale, bias, mean and variance; the last output named Y. */
static void shared_chain(ccz_buf *b, bool gemm, size_t nodes, size_t k, const float *bdata,
                         int64_t trans_b)
{
    Onnx__TensorShapeProto__Dimension d[2] = {ONNX__TENSOR_SHAPE_PROTO__DIMENSION__INIT,
                                              ONNX__TENSOR_SHAPE_PROTO__DIMENSION__INIT},
                                      *dp[2] = {&d[0], &d[1]};
    d[0].value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
    d[0].dim_param = "N";
    d[1].value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
    d[1].dim_value = (int64_t)k;
    Onnx__TensorShapeProto sh = ONNX__TENSOR_SHAPE_PROTO__INIT;
    sh.n_dim = 2;
    sh.dim = dp;
    Onnx__TypeProto__Tensor tt = ONNX__TYPE_PROTO__TENSOR__INIT;
    tt.has_elem_type = true;
    tt.elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    tt.shape = &sh;
    Onnx__TypeProto ty = ONNX__TYPE_PROTO__INIT;
    ty.value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    ty.tensor_type = &tt;
    Onnx__ValueInfoProto x = ONNX__VALUE_INFO_PROTO__INIT, y = ONNX__VALUE_INFO_PROTO__INIT;
    x.name = "X";
    x.type = &ty;
    y.name = "Y";
    Onnx__ValueInfoProto *xp = &x, *yp = &y;
    int64_t bd[2] = {(int64_t)k, (int64_t)k};
    Onnx__TensorProto t = ONNX__TENSOR_PROTO__INIT, *tp = &t;
    t.name = "B";
    t.n_dims = gemm ? 2 : 1;
    t.dims = bd;
    t.has_data_type = true;
    t.data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    t.n_float_data = gemm ? k * k : k;
    t.float_data = (float *)bdata;
    Onnx__AttributeProto a = ONNX__ATTRIBUTE_PROTO__INIT, *ap = &a;
    a.name = "transB";
    a.has_type = true;
    a.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
    a.has_i = true;
    a.i = trans_b;
    Onnx__NodeProto *n = calloc(nodes, sizeof *n), **np = calloc(nodes, sizeof *np);
    char(*names)[2][24] = calloc(nodes, sizeof *names);
    char **io = calloc(6 * nodes, sizeof *io);
    CHECK(n && np && names && io);
    if (!n || !np || !names || !io)
        goto out;
    for (size_t i = 0; i < nodes; i++) {
        n[i] = (Onnx__NodeProto)ONNX__NODE_PROTO__INIT;
        snprintf(names[i][0], sizeof names[i][0], "n%zu", i);
        snprintf(names[i][1], sizeof names[i][1], i + 1 == nodes ? "Y" : "Y%zu", i);
        io[6 * i] = i ? names[i - 1][1] : "X";
        io[6 * i + 1] = io[6 * i + 2] = io[6 * i + 3] = io[6 * i + 4] = "B";
        io[6 * i + 5] = names[i][1];
        n[i].name = names[i][0];
        n[i].op_type = gemm ? "Gemm" : "BatchNormalization";
        n[i].n_input = gemm ? 2 : 5;
        n[i].input = &io[6 * i];
        n[i].n_output = 1;
        n[i].output = &io[6 * i + 5];
        n[i].n_attribute = gemm ? 1 : 0;
        n[i].attribute = &ap;
        np[i] = &n[i];
    }
    Onnx__GraphProto g = ONNX__GRAPH_PROTO__INIT;
    g.name = "g";
    g.n_node = nodes;
    g.node = np;
    g.n_initializer = 1;
    g.initializer = &tp;
    g.n_input = g.n_output = 1;
    g.input = &xp;
    g.output = &yp;
    onnx_build_pack(b, &g, 13, 8);
out:
    free(n);
    free(np);
    free(names);
    free(io);
}

/* Gemm nodes sharing one constant B: the right products, and loading them costs memory in
 * proportion to the file, not one copy of B per node (a 1 MiB B in 64 nodes was 64 MiB). */
static void gemm_shared_weights(void)
{
    static const float B[9] = {1, 2, 0, 0, 1, 0, 0, 0, 2}; /* row-major 3 x 3 */
    for (int64_t tb = 0; tb <= 1; tb++) {
        ccz_buf b = CCZ_BUF_INIT;
        shared_chain(&b, true, 2, 3, B, tb);
        ccz_ml_model *m = NULL;
        CHECK_OK(ccz_ml_model_load(&m, ccz_buf_span(&b)));
        ccz_buf_free(&b);
        if (!m)
            continue;
        float x[6] = {1, 1, 1, 1, 2, 3}, y[6];
        const float *in[] = {x};
        float *o[] = {y};
        CHECK_OK(ccz_ml_run(m, 2, in, o, 1));
        /* x B B = [1,5,4], [1,6,12]; x B' B' = [5,1,4], [9,2,12] */
        static const float want[2][6] = {{1, 5, 4, 1, 6, 12}, {5, 1, 4, 9, 2, 12}};
        for (int i = 0; i < 6; i++)
            CHECK(y[i] == want[tb][i]);
        ccz_ml_model_free(m);
    }
    enum { K = 512, NODES = 64 };
    float *big = calloc((size_t)K * K, sizeof *big);
    CHECK(big != NULL);
    for (int64_t tb = 0; big && tb <= 1; tb++) {
        ccz_buf b = CCZ_BUF_INIT;
        shared_chain(&b, true, NODES, K, big, tb);
        struct mallinfo2 before = mallinfo2();
        ccz_ml_model *m = NULL;
        CHECK_OK(ccz_ml_model_load(&m, ccz_buf_span(&b)));
        struct mallinfo2 after = mallinfo2();
        size_t grew = after.uordblks + after.hblkhd - before.uordblks - before.hblkhd;
        /* B as read (1 MiB) and at most one transposed copy, with room for the bookkeeping */
        CHECK(grew < 4 * (size_t)K * K * sizeof(float));
        if (grew >= 4 * (size_t)K * K * sizeof(float))
            fprintf(stderr, "transB %lld: %zu bytes held by the model of %zu bytes\n",
                    (long long)tb, grew, b.len);
        ccz_ml_model_free(m);
        ccz_buf_free(&b);
    }
    free(big);
}

/* BatchNormalization nodes sharing their constants: the right values, and no copy per node
 * (64 nodes over 256 KiB of constants held 32 MiB of folded scales and shifts). */
static void batchnorm_shared_constants(void)
{
    static const float P[2] = {1, 4};
    ccz_buf b = CCZ_BUF_INIT;
    shared_chain(&b, false, 2, 2, P, 0);
    ccz_ml_model *m = NULL;
    CHECK_OK(ccz_ml_model_load(&m, ccz_buf_span(&b)));
    ccz_buf_free(&b);
    if (m) {
        float x[4] = {3, -2, 0.5f, 10}, y[4];
        const float *in[] = {x};
        float *o[] = {y};
        CHECK_OK(ccz_ml_run(m, 2, in, o, 1));
        for (int i = 0; i < 4; i++) {
            double p = P[i % 2], s = p / sqrt(p + 1e-5f), v = x[i];
            for (int k = 0; k < 2; k++)
                v = (float)v * (float)s + (float)(p - p * s);
            CHECK(fabs(y[i] - v) <= 1e-6 * fabs(v) + 1e-6);
        }
        ccz_ml_model_free(m);
    }
    enum { K = 1 << 16, NODES = 64 };
    float *big = calloc(K, sizeof *big);
    CHECK(big != NULL);
    for (size_t i = 0; big && i < K; i++)
        big[i] = 1;
    shared_chain(&b, false, NODES, K, big, 0);
    struct mallinfo2 before = mallinfo2();
    CHECK_OK(ccz_ml_model_load(&m, ccz_buf_span(&b)));
    struct mallinfo2 after = mallinfo2();
    size_t grew = after.uordblks + after.hblkhd - before.uordblks - before.hblkhd;
    CHECK(grew < 4 * (size_t)K * sizeof(float));
    if (grew >= 4 * (size_t)K * sizeof(float))
        fprintf(stderr, "%zu bytes held by the model of %zu bytes\n", grew, b.len);
    ccz_ml_model_free(m);
    ccz_buf_free(&b);
    free(big);
}

/* Pool windows: padding at the bottom or right as large as the kernel (a window wholly in the
 * padding), and a string attribute with a NUL inside, which would read as its prefix. */
static void pool_attributes(void)
{
    model_spec s = {.op = "MaxPool",
                    .n_in = 1,
                    .in = {"X"},
                    .x_rank = 4,
                    .x_dims = {0, 1, 4, 4},
                    .attr_name = "kernel_shape",
                    .n_attr_ints = 2,
                    .attr_ints = {2, 2},
                    .attr2_name = "pads",
                    .n_attr2_ints = 4,
                    .attr2_ints = {0, 0, 1, 1}};
    CHECK_OK(load(&s, NULL));
    s.attr2_ints[2] = 2; /* bottom */
    refused(&s, CCZ_ERR_UNSUPPORTED, "pads as large as the kernel");
    s.attr2_ints[2] = 1;
    s.attr2_ints[3] = 2; /* right */
    refused(&s, CCZ_ERR_UNSUPPORTED, "pads as large as the kernel");

    s = (model_spec){.op = "MaxPool",
                     .n_in = 1,
                     .in = {"X"},
                     .x_rank = 4,
                     .x_dims = {0, 1, 4, 4},
                     .attr_name = "auto_pad",
                     .attr_str = "VALID\0junk",
                     .attr_str_len = 5,
                     .attr2_name = "kernel_shape",
                     .n_attr2_ints = 2,
                     .attr2_ints = {2, 2}};
    CHECK_OK(load(&s, NULL));
    s.attr_str_len = 10;
    refused(&s, CCZ_ERR_UNSUPPORTED, "attribute 'auto_pad' has an unsupported value");
}

/* Attributes holding graphs whose nodes hold attributes holding graphs, 100000 deep (1.2 MB):
 * refused for what the model lacks, not a stack overflow in the protobuf parser (the subgraph
 * field is not in proto/onnx.proto, so it is skipped as an unknown field). The load runs on a
 * thread with a stack of 4 MiB so the outcome does not depend on the shell's ulimit. */
static size_t varint_len(size_t x)
{
    size_t n = 1;
    for (; x >= 128; x >>= 7)
        n++;
    return n;
}

static uint8_t *varint_put(uint8_t *p, size_t x)
{
    for (; x >= 128; x >>= 7)
        *p++ = (uint8_t)(x | 128);
    *p++ = (uint8_t)x;
    return p;
}

static void *load_thread(void *arg)
{
    ccz_span *onnx = arg;
    ccz_ml_model *m = NULL;
    static ccz_status st;
    st = ccz_ml_model_load(&m, *onnx);
    if (st)
        CHECK_CONTAINS(ccz_error_detail(), "the graph has no input");
    ccz_ml_model_free(m);
    return &st;
}

static void nested_subgraphs(void)
{
    enum { DEPTH = 100000 };
    size_t *g = calloc(DEPTH + 1, sizeof *g), *a = calloc(DEPTH + 1, sizeof *a),
           *n = calloc(DEPTH + 1, sizeof *n);
    CHECK(g && a && n);
    if (!g || !a || !n)
        goto out;
    for (size_t i = 1; i <= DEPTH; i++) {           /* sizes from the innermost (empty) graph out */
        a[i] = 1 + varint_len(g[i - 1]) + g[i - 1]; /* AttributeProto { g = 6 } */
        n[i] = 1 + varint_len(a[i]) + a[i];         /* NodeProto { attribute = 5 } */
        g[i] = 1 + varint_len(n[i]) + n[i];         /* GraphProto { node = 1 } */
    }
    size_t total = 1 + varint_len(g[DEPTH]) + g[DEPTH]; /* ModelProto { graph = 7 } */
    uint8_t *buf = malloc(total), *p = buf;
    CHECK(buf != NULL);
    if (!buf)
        goto out;
    *p++ = 0x3a;
    p = varint_put(p, g[DEPTH]);
    for (size_t i = DEPTH; i >= 1; i--) {
        *p++ = 0x0a;
        p = varint_put(p, n[i]);
        *p++ = 0x2a;
        p = varint_put(p, a[i]);
        *p++ = 0x32;
        p = varint_put(p, g[i - 1]);
    }
    CHECK(p == buf + total);
    ccz_span onnx = {buf, total};
    pthread_attr_t attr;
    pthread_t t;
    void *ret = NULL;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 4u << 20);
    CHECK_INT(pthread_create(&t, &attr, load_thread, &onnx), 0);
    CHECK_INT(pthread_join(t, &ret), 0);
    pthread_attr_destroy(&attr);
    CHECK(ret != NULL);
    if (ret)
        CHECK_STATUS(*(ccz_status *)ret, CCZ_ERR_UNSUPPORTED);
    free(buf);
out:
    free(g);
    free(a);
    free(n);
}

/* The run's bounds on the batch, at the limit and one past it, and the workspace a run of a
 * batch takes: each node output rounded up to 16 floats, nothing for a batch out of range. */
static void batch_bounds(void)
{
    model_spec s = relu();
    s.x_dims[1] = 1;
    ccz_ml_model *m = NULL;
    CHECK_OK(load(&s, &m));
    if (!m)
        return;
    CHECK_INT(ccz_ml_workspace_floats(m, 1), 16);
    CHECK_INT(ccz_ml_workspace_floats(m, 17), 32);
    CHECK_INT(ccz_ml_workspace_floats(m, (size_t)1 << 20), (size_t)1 << 20);
    CHECK_INT(ccz_ml_workspace_floats(m, ((size_t)1 << 20) + 1), 0);
    CHECK_INT(ccz_ml_workspace_floats(m, 0), 0);
    CHECK_INT(ccz_ml_workspace_floats(NULL, 1), 0);
    size_t n = (size_t)1 << 20;
    float *x = malloc((n + 1) * sizeof *x), *y = malloc((n + 1) * sizeof *y);
    CHECK(x && y);
    if (x && y) {
        for (size_t i = 0; i <= n; i++)
            x[i] = i % 2 ? -1.0f : (float)i;
        const float *in[] = {x};
        float *o[] = {y};
        CHECK_OK(ccz_ml_run(m, n, in, o, 1));
        size_t bad = 0;
        for (size_t i = 0; i < n; i++)
            bad += y[i] != (i % 2 ? 0.0f : (float)i);
        CHECK_INT(bad, 0);
        CHECK_STATUS(ccz_ml_run(m, n + 1, in, o, 1), CCZ_ERR_INVALID_ARGUMENT);
        CHECK_CONTAINS(ccz_error_detail(), "ml: a batch of 1048577 rows (1 to 1048576)");
    }
    free(x);
    free(y);
    ccz_ml_model_free(m);
}

TEST_MAIN(T(valid_models_run), T(initializer_data), T(shapes_and_versions), T(graph_edges),
          T(operands), T(graph_structure), T(attribute_ranges), T(gemm_shared_weights),
          T(batchnorm_shared_constants), T(pool_attributes), T(nested_subgraphs), T(batch_bounds))
