/* SPDX-License-Identifier: Apache-2.0 */
/* One-node ONNX models for tests (onnx_build.h). */
#include "onnx_build.h"

#include <stdio.h>

#include "onnx.pb-c.h"
#include "test.h"

static void shape_of(Onnx__TensorShapeProto *sh, Onnx__TensorShapeProto__Dimension *d,
                     Onnx__TensorShapeProto__Dimension **dp, size_t rank, const int64_t *dims)
{
    for (size_t i = 0; i < rank; i++) {
        d[i] = (Onnx__TensorShapeProto__Dimension)ONNX__TENSOR_SHAPE_PROTO__DIMENSION__INIT;
        if (i == 0 || dims[i] == SYM) {
            d[i].value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
            d[i].dim_param = i == 0 ? "N" : "M";
        } else {
            d[i].value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
            d[i].dim_value = dims[i];
        }
        dp[i] = &d[i];
    }
    sh->n_dim = rank;
    sh->dim = dp;
}

void onnx_build_pack(ccz_buf *b, Onnx__GraphProto *g, int64_t opset, int64_t ir)
{
    Onnx__OperatorSetIdProto op = ONNX__OPERATOR_SET_ID_PROTO__INIT, *opp = &op;
    op.domain = "";
    op.has_version = true;
    op.version = opset;
    Onnx__ModelProto m = ONNX__MODEL_PROTO__INIT;
    m.has_ir_version = true;
    m.ir_version = ir;
    m.n_opset_import = 1;
    m.opset_import = &opp;
    m.graph = g;
    size_t len = onnx__model_proto__get_packed_size(&m);
    CHECK_OK(ccz_buf_reserve(b, len));
    b->len = onnx__model_proto__pack(&m, b->ptr);
}

void onnx_build(ccz_buf *b, const model_spec *s)
{
    Onnx__TensorShapeProto__Dimension xd[5], yd[5], *xdp[5], *ydp[5];
    Onnx__TensorShapeProto xs = ONNX__TENSOR_SHAPE_PROTO__INIT, ys = ONNX__TENSOR_SHAPE_PROTO__INIT;
    shape_of(&xs, xd, xdp, s->x_rank, s->x_dims);
    shape_of(&ys, yd, ydp, s->y_rank, s->y_dims);
    Onnx__TypeProto__Tensor xt = ONNX__TYPE_PROTO__TENSOR__INIT,
                            yt = ONNX__TYPE_PROTO__TENSOR__INIT;
    xt.has_elem_type = yt.has_elem_type = true;
    xt.elem_type = yt.elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    xt.shape = &xs;
    yt.shape = s->y_rank ? &ys : NULL;
    Onnx__TypeProto xty = ONNX__TYPE_PROTO__INIT, yty = ONNX__TYPE_PROTO__INIT;
    xty.value_case = yty.value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    xty.tensor_type = &xt;
    yty.tensor_type = &yt;
    Onnx__ValueInfoProto x = ONNX__VALUE_INFO_PROTO__INIT, y = ONNX__VALUE_INFO_PROTO__INIT;
    x.name = "X";
    x.type = &xty;
    y.name = "Y";
    y.type = &yty;
    Onnx__ValueInfoProto z = y;
    z.name = (char *)s->out2;
    Onnx__ValueInfoProto *xp = &x, *yp[2] = {&y, &z};

    Onnx__TensorProto t[2], *tp[2];
    for (size_t k = 0; k < s->n_init; k++) {
        const init_spec *is = &s->init[k];
        t[k] = (Onnx__TensorProto)ONNX__TENSOR_PROTO__INIT;
        t[k].name = (char *)is->name;
        t[k].n_dims = is->rank;
        t[k].dims = (int64_t *)is->dims;
        t[k].has_data_type = true;
        t[k].data_type = is->type;
        t[k].n_float_data = is->n_f;
        t[k].float_data = (float *)is->f;
        t[k].n_int64_data = is->n_i;
        t[k].int64_data = (int64_t *)is->i;
        t[k].has_raw_data = is->has_raw;
        t[k].raw_data = (ProtobufCBinaryData){is->raw_len, (uint8_t *)is->raw};
        if (is->external) {
            t[k].has_data_location = true;
            t[k].data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
        }
        tp[k] = &t[k];
    }

    Onnx__AttributeProto a = ONNX__ATTRIBUTE_PROTO__INIT;
    a.name = (char *)s->attr_name;
    a.has_type = true;
    if (s->attr_str) {
        a.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING;
        a.has_s = true;
        a.s = (ProtobufCBinaryData){s->attr_str_len, (uint8_t *)s->attr_str};
    } else if (s->n_attr_ints) {
        a.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
        a.n_ints = s->n_attr_ints;
        a.ints = (int64_t *)s->attr_ints;
    } else {
        a.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
        a.has_i = true;
        a.i = s->attr_int;
    }
    Onnx__AttributeProto a2 = ONNX__ATTRIBUTE_PROTO__INIT;
    a2.name = (char *)s->attr2_name;
    a2.has_type = true;
    a2.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
    a2.n_ints = s->n_attr2_ints;
    a2.ints = (int64_t *)s->attr2_ints;
    Onnx__AttributeProto *aps[2] = {&a, &a2};
    Onnx__NodeProto n = ONNX__NODE_PROTO__INIT;
    char *out = "Y";
    n.n_input = s->n_in;
    n.input = (char **)s->in;
    n.n_output = 1;
    n.output = &out;
    n.name = "n0";
    n.op_type = (char *)s->op;
    n.n_attribute = s->attr_name ? (s->attr2_name ? 2 : 1) : 0;
    n.attribute = aps;

    Onnx__NodeProto n2 = ONNX__NODE_PROTO__INIT, *nps[2] = {&n, &n2};
    char *in2 = (char *)s->in2, *out2 = (char *)s->out2;
    n2.n_input = 1;
    n2.input = &in2;
    n2.n_output = 1;
    n2.output = &out2;
    n2.name = "n1";
    n2.op_type = (char *)s->op2;

    Onnx__GraphProto g = ONNX__GRAPH_PROTO__INIT;
    g.name = "g";
    g.n_node = s->op2 ? 2 : 1;
    g.node = nps;
    g.n_initializer = s->n_init;
    g.initializer = tp;
    g.n_input = s->no_input ? 0 : 1;
    g.input = &xp;
    g.n_output = s->no_output ? 0 : s->out2_output ? 2 : 1;
    g.output = yp;
    onnx_build_pack(b, &g, s->opset ? s->opset : 13, s->ir ? s->ir : 8);
}

void onnx_build_concat(ccz_buf *b, size_t n)
{
    enum { MAX = 256, PER = 16 };
    CHECK(n >= 1 && n <= MAX);
    if (n < 1 || n > MAX)
        return;
    Onnx__TensorShapeProto__Dimension d[2], *dp[2];
    Onnx__TensorShapeProto xs = ONNX__TENSOR_SHAPE_PROTO__INIT;
    shape_of(&xs, d, dp, 2, (const int64_t[]){0, 1});
    Onnx__TypeProto__Tensor xt = ONNX__TYPE_PROTO__TENSOR__INIT,
                            yt = ONNX__TYPE_PROTO__TENSOR__INIT;
    xt.has_elem_type = yt.has_elem_type = true;
    xt.elem_type = yt.elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    xt.shape = &xs;
    Onnx__TypeProto xty = ONNX__TYPE_PROTO__INIT, yty = ONNX__TYPE_PROTO__INIT;
    xty.value_case = yty.value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    xty.tensor_type = &xt;
    yty.tensor_type = &yt;
    static char names[MAX][24], parts[PER][24];
    char *xn[MAX], *pn[PER];
    Onnx__ValueInfoProto x[MAX], *xp[MAX], y = ONNX__VALUE_INFO_PROTO__INIT, *yp = &y;
    for (size_t i = 0; i < n; i++) {
        snprintf(names[i], sizeof names[i], "X%zu", i);
        xn[i] = names[i];
        x[i] = (Onnx__ValueInfoProto)ONNX__VALUE_INFO_PROTO__INIT;
        x[i].name = names[i];
        x[i].type = &xty;
        xp[i] = &x[i];
    }
    y.name = "Y";
    y.type = &yty;
    Onnx__AttributeProto a = ONNX__ATTRIBUTE_PROTO__INIT, *ap = &a;
    a.name = "axis";
    a.has_type = a.has_i = true;
    a.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
    a.i = 1;
    /* one node over the inputs, or one per PER of them and one over those */
    size_t groups = n <= PER ? 0 : (n + PER - 1) / PER;
    Onnx__NodeProto nodes[PER + 1], *np[PER + 1];
    static char node_names[PER + 1][24];
    char *y_name = "Y";
    for (size_t k = 0; k <= groups; k++) {
        Onnx__NodeProto *c = &nodes[k];
        *c = (Onnx__NodeProto)ONNX__NODE_PROTO__INIT;
        snprintf(node_names[k], sizeof node_names[k], "n%zu", k);
        c->name = node_names[k];
        c->op_type = "Concat";
        c->n_attribute = 1;
        c->attribute = &ap;
        c->n_output = 1;
        if (k < groups) {
            snprintf(parts[k], sizeof parts[k], "C%zu", k);
            pn[k] = parts[k];
            c->input = &xn[k * PER];
            c->n_input = n - k * PER < PER ? n - k * PER : PER;
            c->output = &pn[k];
        } else {
            c->input = groups ? pn : xn;
            c->n_input = groups ? groups : n;
            c->output = &y_name;
        }
        np[k] = c;
    }
    Onnx__GraphProto g = ONNX__GRAPH_PROTO__INIT;
    g.name = "g";
    g.n_node = groups + 1;
    g.node = np;
    g.n_input = n;
    g.input = xp;
    g.n_output = 1;
    g.output = &yp;
    onnx_build_pack(b, &g, 13, 8);
}
