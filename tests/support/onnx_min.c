/* SPDX-License-Identifier: Apache-2.0 */
/* The smallest ONNX model the tests need, its protobuf written by hand (onnx_min.h). */
#include "onnx_min.h"

#include <string.h>

#include "test.h"

static void varint(ccz_buf *b, uint64_t v)
{
    do {
        uint8_t c = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v)
            c |= 0x80;
        CHECK_OK(ccz_buf_append(b, &c, 1));
    } while (v);
}

static void field(ccz_buf *b, unsigned num, const void *p, size_t n)
{
    varint(b, num << 3 | 2);
    varint(b, n);
    CHECK_OK(ccz_buf_append(b, p, n));
}

static void field_buf(ccz_buf *b, unsigned num, ccz_buf *inner)
{
    field(b, num, inner->ptr, inner->len);
    ccz_buf_free(inner);
}

static void value_info(ccz_buf *b, unsigned num, const char *name)
{
    ccz_buf dim0 = CCZ_BUF_INIT, dim1 = CCZ_BUF_INIT, shape = CCZ_BUF_INIT, tt = CCZ_BUF_INIT,
            type = CCZ_BUF_INIT, vi = CCZ_BUF_INIT;
    field(&dim0, 2, "N", 1); /* dim_param */
    varint(&dim1, 1 << 3);   /* dim_value */
    varint(&dim1, 3);
    field_buf(&shape, 1, &dim0);
    field_buf(&shape, 1, &dim1);
    varint(&tt, 1 << 3); /* elem_type FLOAT */
    varint(&tt, 1);
    field_buf(&tt, 2, &shape);
    field_buf(&type, 1, &tt);
    field(&vi, 1, name, strlen(name));
    field_buf(&vi, 2, &type);
    field_buf(b, num, &vi);
}

void onnx_relu_model(ccz_buf *m)
{
    ccz_buf node = CCZ_BUF_INIT, graph = CCZ_BUF_INIT, opset = CCZ_BUF_INIT;
    field(&node, 1, "X", 1);
    field(&node, 2, "Y", 1);
    field(&node, 4, "Relu", 4);
    field_buf(&graph, 1, &node);
    field(&graph, 2, "g", 1);
    value_info(&graph, 11, "X");
    value_info(&graph, 12, "Y");
    varint(m, 1 << 3); /* ir_version */
    varint(m, 8);
    field_buf(m, 7, &graph);
    field(&opset, 1, "", 0);
    varint(&opset, 2 << 3);
    varint(&opset, 13);
    field_buf(m, 8, &opset);
}
