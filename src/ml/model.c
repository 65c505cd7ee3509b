/* SPDX-License-Identifier: Apache-2.0 */
/* Loading an ONNX model: the ModelProto is parsed by protobuf-c, then every initializer, input,
 * node and attribute is checked and the graph is put in run order with each value's shape
 * inferred (the batch dimension symbolic). The file is untrusted: counts, dimensions, sizes
 * (overflow-checked products) and data lengths are bounded before use; anything this engine
 * cannot run exactly as ONNX defines it is refused with the node and operator named. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccz/pf.h"
#include "core/guard.h"
#include "ml_int.h"
#include "onnx.pb-c.h"
#include "core/pb.h"

typedef struct {
    ccz_ml_model *m;
    size_t *slots; /* value index + 1 by name hash, 0 empty */
    size_t n_slots, cap;
    int64_t opset, opset_ml;
} loader;

typedef struct {
    const Onnx__NodeProto *np;
    bool used[64];
} attrs;

/* ---- values ---------------------------------------------------------------------------------*/

static uint64_t name_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

static size_t value_find(const loader *L, const char *name)
{
    for (size_t i = name_hash(name) % L->n_slots;; i = (i + 1) % L->n_slots) {
        size_t v = L->slots[i];
        if (v == 0)
            return ML_NONE;
        if (strcmp(L->m->values[v - 1].name, name) == 0)
            return v - 1;
    }
}

/* A new value named `name`; a name may be defined once. */
static ccz_status value_add(loader *L, const char *name, size_t *out)
{
    ccz_ml_model *m = L->m;
    CCZ_ENSURE(name && name[0], CCZ_ERR_MALFORMED, "a value without a name");
    CCZ_ENSURE(value_find(L, name) == ML_NONE, CCZ_ERR_MALFORMED, "value '%s' is defined twice",
               name);
    CCZ_ENSURE(m->n_values < L->cap, CCZ_ERR_MALFORMED, "more values than the graph declares");
    ml_value *v = &m->values[m->n_values];
    memset(v, 0, sizeof *v);
    v->name = strdup(name);
    CCZ_ENSURE(v->name, CCZ_ERR_NOMEM, "out of memory");
    size_t i = name_hash(name) % L->n_slots;
    while (L->slots[i])
        i = (i + 1) % L->n_slots;
    L->slots[i] = ++m->n_values;
    *out = m->n_values - 1;
    return CCZ_OK;
}

/* Sets a value's shape, counting its elements (one row when batched) with overflow checks. */
static ccz_status value_shape(ml_value *v, size_t rank, const int64_t *dims, bool batched)
{
    CCZ_ENSURE(rank >= 1 && rank <= CCZ_ML_MAX_RANK, CCZ_ERR_UNSUPPORTED,
               "'%s' has rank %zu (1 to %d supported)", v->name, rank, CCZ_ML_MAX_RANK);
    uint64_t elems = 1;
    for (size_t i = 0; i < rank; i++) {
        int64_t d = batched && i == 0 ? 1 : dims[i];
        CCZ_ENSURE(d >= 1 && d <= ML_MAX_DIM, CCZ_ERR_UNSUPPORTED,
                   "'%s' dimension %zu is %lld (1 to %lld supported)", v->name, i, (long long)d,
                   (long long)ML_MAX_DIM);
        elems *= (uint64_t)d;
        CCZ_ENSURE(elems <= ML_MAX_ELEMS, CCZ_ERR_TOO_LARGE, "'%s' has more than %llu elements",
                   v->name, (unsigned long long)ML_MAX_ELEMS);
    }
    v->rank = rank;
    for (size_t i = 0; i < rank; i++)
        v->dims[i] = batched && i == 0 ? 1 : dims[i];
    v->batched = batched;
    v->elems = (size_t)elems;
    return CCZ_OK;
}

/* ---- initializers ---------------------------------------------------------------------------*/

static ccz_status tensor_load(ml_value *v, const Onnx__TensorProto *t)
{
    CCZ_ENSURE(!t->has_data_location ||
                   t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__DEFAULT,
               CCZ_ERR_UNSUPPORTED, "initializer '%s': external data is not supported", v->name);
    /* one data field, as ONNX's checker requires: raw_data beside float_data (say) would leave
     * which one holds the weights up to the reader */
    int fields = (t->has_raw_data ? 1 : 0) + (t->n_float_data ? 1 : 0) + (t->n_int32_data ? 1 : 0) +
                 (t->n_string_data ? 1 : 0) + (t->n_int64_data ? 1 : 0) +
                 (t->n_double_data ? 1 : 0) + (t->n_uint64_data ? 1 : 0);
    CCZ_ENSURE(fields <= 1, CCZ_ERR_MALFORMED, "initializer '%s' holds data in %d fields", v->name,
               fields);
    int64_t one = 1;
    if (t->n_dims == 0)
        CCZ_GUARD(value_shape(v, 1, &one, false)); /* a scalar: one element */
    else
        CCZ_GUARD(value_shape(v, t->n_dims, t->dims, false));
    size_t n = v->elems;
    v->is_const = v->defined = true;
    if (t->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT) {
        v->data = malloc(n ? n * sizeof(float) : 1);
        CCZ_ENSURE(v->data, CCZ_ERR_NOMEM, "out of memory");
        if (t->has_raw_data) {
            CCZ_ENSURE(t->raw_data.len == n * 4, CCZ_ERR_MALFORMED,
                       "initializer '%s': %zu bytes of data for %zu floats", v->name,
                       t->raw_data.len, n);
            for (size_t i = 0; i < n; i++) { /* little-endian on the wire */
                const uint8_t *p = t->raw_data.data + 4 * i;
                uint32_t w =
                    p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
                memcpy(&v->data[i], &w, 4);
            }
        } else {
            CCZ_ENSURE(t->n_float_data == n, CCZ_ERR_MALFORMED,
                       "initializer '%s': %zu floats of data for %zu elements", v->name,
                       t->n_float_data, n);
            if (n) /* no elements: no data pointer */
                memcpy(v->data, t->float_data, n * sizeof(float));
        }
        return CCZ_OK;
    }
    if (t->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__INT64) {
        v->ints = malloc(n ? n * sizeof(int64_t) : 1);
        CCZ_ENSURE(v->ints, CCZ_ERR_NOMEM, "out of memory");
        if (t->has_raw_data) {
            CCZ_ENSURE(t->raw_data.len == n * 8, CCZ_ERR_MALFORMED,
                       "initializer '%s': %zu bytes of data for %zu int64s", v->name,
                       t->raw_data.len, n);
            for (size_t i = 0; i < n; i++) {
                uint64_t w = 0;
                for (int b = 7; b >= 0; b--)
                    w = w << 8 | t->raw_data.data[8 * i + (size_t)b];
                v->ints[i] = (int64_t)w;
            }
        } else {
            CCZ_ENSURE(t->n_int64_data == n, CCZ_ERR_MALFORMED,
                       "initializer '%s': %zu int64s of data for %zu elements", v->name,
                       t->n_int64_data, n);
            if (n)
                memcpy(v->ints, t->int64_data, n * sizeof(int64_t));
        }
        return CCZ_OK;
    }
    return ccz_fail(CCZ_ERR_UNSUPPORTED,
                    "initializer '%s': data type %d (only float and int64 are supported)", v->name,
                    t->data_type);
}

/* ---- graph inputs and outputs ---------------------------------------------------------------*/

static const Onnx__TypeProto__Tensor *tensor_type(const Onnx__ValueInfoProto *vi)
{
    if (!vi->type || vi->type->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE)
        return NULL;
    return vi->type->tensor_type;
}

/* The first dimension of every input is the batch; the others must be fixed. */
static ccz_status input_load(ml_value *v, const Onnx__ValueInfoProto *vi)
{
    const Onnx__TypeProto__Tensor *tt = tensor_type(vi);
    CCZ_ENSURE(tt, CCZ_ERR_UNSUPPORTED, "input '%s' is not a tensor", v->name);
    CCZ_ENSURE(tt->elem_type == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, CCZ_ERR_UNSUPPORTED,
               "input '%s' has element type %d (only float is supported)", v->name, tt->elem_type);
    CCZ_ENSURE(tt->shape && tt->shape->n_dim >= 1, CCZ_ERR_UNSUPPORTED,
               "input '%s' has no shape (a batch dimension and fixed dimensions are needed)",
               v->name);
    size_t rank = tt->shape->n_dim;
    CCZ_ENSURE(rank <= CCZ_ML_MAX_RANK, CCZ_ERR_UNSUPPORTED, "input '%s' has rank %zu", v->name,
               rank);
    int64_t dims[CCZ_ML_MAX_RANK] = {1};
    for (size_t i = 1; i < rank; i++) {
        const Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[i];
        CCZ_ENSURE(d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE,
                   CCZ_ERR_UNSUPPORTED, "input '%s': dimension %zu is not fixed", v->name, i);
        dims[i] = d->dim_value;
    }
    CCZ_GUARD(value_shape(v, rank, dims, true));
    v->defined = true;
    return CCZ_OK;
}

/* "[N,6,14,14]": the batch dimension shown as N (rank <= 8: 8 dims of 20 characters fit) */
static void shape_str(char *s, size_t cap, size_t rank, const int64_t *dims)
{
    ccz_buf b;
    ccz_buf_init(&b, 0, false);
    bool ok = ccz_buf_printf(&b, "[N") == CCZ_OK;
    for (size_t i = 1; ok && i < rank; i++)
        ok = ccz_buf_printf(&b, ",%lld", (long long)dims[i]) == CCZ_OK;
    ok = ok && ccz_buf_printf(&b, "]") == CCZ_OK; /* printf keeps b NUL-terminated */
    snprintf(s, cap, "%s", ok ? (const char *)b.ptr : "?");
    ccz_buf_free(&b);
}

/* A declared output shape, where the model gives one, must be the inferred one. */
static ccz_status output_check(const ml_value *v, const Onnx__ValueInfoProto *vi)
{
    CCZ_ENSURE(v->batched, CCZ_ERR_UNSUPPORTED, "output '%s' does not depend on the batch",
               v->name);
    const Onnx__TypeProto__Tensor *tt = tensor_type(vi);
    if (!tt)
        return CCZ_OK;
    CCZ_ENSURE(tt->elem_type == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT ||
                   tt->elem_type == ONNX__TENSOR_PROTO__DATA_TYPE__INT64 || tt->elem_type == 0,
               CCZ_ERR_UNSUPPORTED, "output '%s' has element type %d", v->name, tt->elem_type);
    if (!tt->shape)
        return CCZ_OK;
    bool same = tt->shape->n_dim == v->rank;
    for (size_t i = 1; same && i < v->rank; i++) {
        const Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[i];
        if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE)
            same = d->dim_value == v->dims[i];
    }
    if (!same) {
        char s[200];
        shape_str(s, sizeof s, v->rank, v->dims);
        return ccz_fail(CCZ_ERR_MALFORMED,
                        "output '%s' is declared with %zu dimensions other than the %s inferred",
                        v->name, tt->shape->n_dim, s);
    }
    return CCZ_OK;
}

/* ---- attributes -----------------------------------------------------------------------------*/

static const Onnx__AttributeProto *attr_find(attrs *A, const char *name, int type)
{
    for (size_t i = 0; i < A->np->n_attribute; i++) {
        const Onnx__AttributeProto *a = A->np->attribute[i];
        if (a->name && strcmp(a->name, name) == 0) {
            A->used[i] = true;
            if (a->has_type && (int)a->type != type)
                return NULL;
            return a;
        }
    }
    return NULL;
}

static bool attr_present(attrs *A, const char *name)
{
    for (size_t i = 0; i < A->np->n_attribute; i++)
        if (A->np->attribute[i]->name && strcmp(A->np->attribute[i]->name, name) == 0)
            return true;
    return false;
}

#define ATTR_TYPE_CHECK(A, name, a)                                                                \
    CCZ_ENSURE((a) || !attr_present((A), (name)), CCZ_ERR_MALFORMED,                               \
               "attribute '%s' has the wrong type", (name))

static ccz_status attr_int(attrs *A, const char *name, int64_t dflt, int64_t *out)
{
    *out = dflt;
    const Onnx__AttributeProto *a = attr_find(A, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
    ATTR_TYPE_CHECK(A, name, a);
    *out = a ? a->i : dflt;
    return CCZ_OK;
}

static ccz_status attr_float(attrs *A, const char *name, float dflt, float *out)
{
    *out = dflt;
    const Onnx__AttributeProto *a =
        attr_find(A, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
    ATTR_TYPE_CHECK(A, name, a);
    *out = a ? a->f : dflt;
    return CCZ_OK;
}

/* n = 0 when absent; more than max values is refused */
static ccz_status attr_ints(attrs *A, const char *name, int64_t *out, size_t max, size_t *n)
{
    const Onnx__AttributeProto *a = attr_find(A, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
    ATTR_TYPE_CHECK(A, name, a);
    *n = a ? a->n_ints : 0;
    CCZ_ENSURE(*n <= max, CCZ_ERR_UNSUPPORTED, "attribute '%s' has %zu values (at most %zu)", name,
               *n, max);
    if (*n)
        memcpy(out, a->ints, *n * sizeof *out);
    return CCZ_OK;
}

static ccz_status attr_floats(attrs *A, const char *name, const float **out, size_t *n)
{
    const Onnx__AttributeProto *a =
        attr_find(A, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS);
    ATTR_TYPE_CHECK(A, name, a);
    *out = a ? a->floats : NULL;
    *n = a ? a->n_floats : 0;
    return CCZ_OK;
}

/* The string attribute as a NUL-terminated copy in out (dflt when absent). */
static ccz_status attr_string(attrs *A, const char *name, const char *dflt, char *out, size_t cap)
{
    const Onnx__AttributeProto *a =
        attr_find(A, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING);
    ATTR_TYPE_CHECK(A, name, a);
    if (!a) {
        snprintf(out, cap, "%s", dflt);
        return CCZ_OK;
    }
    CCZ_ENSURE(a->s.len < cap && (!a->s.len || !memchr(a->s.data, 0, a->s.len)),
               CCZ_ERR_UNSUPPORTED, "attribute '%s' has an unsupported value", name);
    if (a->s.len) /* an empty bytes field has no data pointer */
        memcpy(out, a->s.data, a->s.len);
    out[a->s.len] = 0;
    return CCZ_OK;
}

static ccz_status attrs_all_used(const attrs *A)
{
    for (size_t i = 0; i < A->np->n_attribute; i++)
        CCZ_ENSURE(A->used[i], CCZ_ERR_UNSUPPORTED, "attribute '%s' is not supported",
                   A->np->attribute[i]->name ? A->np->attribute[i]->name : "");
    return CCZ_OK;
}

/* ---- shape inference per operator -----------------------------------------------------------*/

typedef struct {
    loader *L;
    ml_node *n;
    attrs A;
    const char *op;
} compile;

static ml_value *in(compile *c, size_t i)
{
    return &c->L->m->values[c->n->in[i]];
}

static ml_value *out(compile *c, size_t i)
{
    return &c->L->m->values[c->n->out[i]];
}

static ccz_status need_inputs(compile *c, size_t lo, size_t hi)
{
    CCZ_ENSURE(c->n->n_in >= lo && c->n->n_in <= hi, CCZ_ERR_MALFORMED,
               "%zu inputs (%zu to %zu expected)", c->n->n_in, lo, hi);
    for (size_t i = 0; i < lo; i++)
        CCZ_ENSURE(c->n->in[i] != ML_NONE, CCZ_ERR_MALFORMED, "input %zu is missing", i);
    return CCZ_OK;
}

/* at least output 0; outputs from n on must be absent ("") */
static ccz_status need_outputs(compile *c, size_t n)
{
    CCZ_ENSURE(c->n->n_out >= 1 && c->n->out[0] != ML_NONE, CCZ_ERR_MALFORMED, "no output");
    for (size_t i = n; i < c->n->n_out && i < CCZ_ARRAY_LEN(c->n->out); i++) /* at most 2 */
        CCZ_ENSURE(c->n->out[i] == ML_NONE, CCZ_ERR_UNSUPPORTED, "output %zu is not supported", i);
    c->n->n_out = c->n->n_out > n ? n : c->n->n_out;
    return CCZ_OK;
}

static ccz_status need_const(compile *c, size_t i, const char *what)
{
    CCZ_ENSURE(c->n->in[i] != ML_NONE && in(c, i)->is_const, CCZ_ERR_UNSUPPORTED,
               "the %s must be an initializer", what);
    return CCZ_OK;
}

static ccz_status same_shape(compile *c, const ml_value *x)
{
    return value_shape(out(c, 0), x->rank, x->dims, x->batched);
}

static int64_t norm_axis(int64_t axis, size_t rank)
{
    return axis < 0 ? axis + (int64_t)rank : axis;
}

static ccz_status compile_binary(compile *c)
{
    CCZ_GUARD(need_inputs(c, 2, 2));
    const ml_value *a = in(c, 0), *b = in(c, 1);
    size_t r = a->rank > b->rank ? a->rank : b->rank;
    CCZ_ENSURE(!(a->batched && a->rank < r) && !(b->batched && b->rank < r), CCZ_ERR_UNSUPPORTED,
               "broadcasting would move the batch dimension");
    int64_t dims[CCZ_ML_MAX_RANK];
    for (size_t i = 0; i < r; i++) {
        int64_t da = i >= r - a->rank ? a->dims[i - (r - a->rank)] : 1;
        int64_t db = i >= r - b->rank ? b->dims[i - (r - b->rank)] : 1;
        if (i == 0 && (a->batched || b->batched)) {
            /* the batch meets a fixed dimension: only 1 broadcasts over every batch size */
            CCZ_ENSURE((a->batched || da == 1 || a->rank < r) &&
                           (b->batched || db == 1 || b->rank < r),
                       CCZ_ERR_UNSUPPORTED, "a fixed dimension %lld meets the batch dimension",
                       (long long)(a->batched ? db : da));
            dims[0] = 1;
            continue;
        }
        CCZ_ENSURE(da == db || da == 1 || db == 1, CCZ_ERR_MALFORMED,
                   "shapes do not broadcast (dimension %zu: %lld and %lld)", i, (long long)da,
                   (long long)db);
        dims[i] = da > db ? da : db;
    }
    return value_shape(out(c, 0), r, dims, a->batched || b->batched);
}

static ccz_status compile_unary(compile *c)
{
    CCZ_GUARD(need_inputs(c, 1, 1));
    return same_shape(c, in(c, 0));
}

static ccz_status compile_dropout(compile *c)
{
    CCZ_GUARD(need_inputs(c, 1, 3));
    CCZ_ENSURE(c->n->n_in == 1 || (c->n->in[1] == ML_NONE || in(c, 1)->is_const),
               CCZ_ERR_UNSUPPORTED, "the ratio must be an initializer");
    CCZ_ENSURE(c->n->n_in < 3 || c->n->in[2] == ML_NONE, CCZ_ERR_UNSUPPORTED,
               "training_mode is not supported (inference only)");
    int64_t seed, is_test;
    float ratio;
    CCZ_GUARD(attr_float(&c->A, "ratio", 0.5f, &ratio));
    CCZ_GUARD(attr_int(&c->A, "seed", 0, &seed));
    CCZ_GUARD(attr_int(&c->A, "is_test", 1, &is_test));
    CCZ_ENSURE(c->n->n_out == 1 || c->n->out[1] == ML_NONE, CCZ_ERR_UNSUPPORTED,
               "the mask output is not supported");
    c->n->n_out = 1;
    c->n->kind = ML_COPY;
    c->n->n_in = 1;
    return same_shape(c, in(c, 0));
}

static ccz_status compile_flatten(compile *c)
{
    CCZ_GUARD(need_inputs(c, 1, 1));
    const ml_value *x = in(c, 0);
    int64_t given;
    CCZ_GUARD(attr_int(&c->A, "axis", 1, &given));
    int64_t axis = norm_axis(given, x->rank);
    CCZ_ENSURE(axis >= 0 && axis <= (int64_t)x->rank, CCZ_ERR_MALFORMED,
               "axis %lld out of range for rank %zu", (long long)given, x->rank);
    int64_t dims[2] = {1, 1};
    for (size_t i = 0; i < x->rank; i++)
        dims[(int64_t)i < axis ? 0 : 1] *= x->dims[i]; /* each below 2^28 elements in all */
    CCZ_ENSURE(!x->batched || (axis >= 1 && dims[0] == 1), CCZ_ERR_UNSUPPORTED,
               "flattening axis %lld would merge the batch dimension", (long long)axis);
    c->n->kind = ML_COPY;
    return value_shape(out(c, 0), 2, dims, x->batched);
}

static ccz_status compile_reshape(compile *c)
{
    CCZ_GUARD(need_inputs(c, 2, 2));
    CCZ_GUARD(need_const(c, 1, "shape"));
    const ml_value *x = in(c, 0), *s = in(c, 1);
    int64_t allowzero;
    CCZ_GUARD(attr_int(&c->A, "allowzero", 0, &allowzero));
    CCZ_ENSURE(s->ints && s->rank == 1, CCZ_ERR_MALFORMED, "the shape must be a 1-D int64 tensor");
    CCZ_ENSURE(s->elems >= 1 && s->elems <= CCZ_ML_MAX_RANK, CCZ_ERR_UNSUPPORTED,
               "a shape of %zu dimensions", s->elems);
    int64_t dims[CCZ_ML_MAX_RANK];
    size_t unknown = ML_NONE;
    uint64_t known = 1;
    for (size_t i = 0; i < s->elems; i++) {
        int64_t d = s->ints[i];
        if (d == 0 && !allowzero) {
            CCZ_ENSURE(i < x->rank, CCZ_ERR_MALFORMED, "shape[%zu] = 0 copies no dimension", i);
            d = x->dims[i];
        }
        if (d == -1) {
            CCZ_ENSURE(unknown == ML_NONE, CCZ_ERR_MALFORMED, "more than one -1 in the shape");
            unknown = i;
            dims[i] = 1;
            continue;
        }
        CCZ_ENSURE(d >= 1 && d <= ML_MAX_DIM, CCZ_ERR_UNSUPPORTED, "shape[%zu] = %lld", i,
                   (long long)d);
        dims[i] = d;
        if (!(x->batched && i == 0))
            known *= (uint64_t)d;
        CCZ_ENSURE(known <= ML_MAX_ELEMS, CCZ_ERR_TOO_LARGE, "the shape is too large");
    }
    if (x->batched) {
        /* the batch stays first: copied (0), or -1 when the rest holds exactly one row */
        CCZ_ENSURE(s->ints[0] == 0 || (s->ints[0] == -1 && known == x->elems), CCZ_ERR_UNSUPPORTED,
                   "the shape must keep the batch dimension first (0, or -1 with one row after)");
        if (unknown == 0)
            unknown = ML_NONE;
    }
    if (unknown != ML_NONE) {
        CCZ_ENSURE(known && x->elems % known == 0, CCZ_ERR_MALFORMED,
                   "%zu elements do not reshape with -1", x->elems);
        dims[unknown] = (int64_t)(x->elems / known);
    } else {
        CCZ_ENSURE(known == x->elems, CCZ_ERR_MALFORMED, "%zu elements do not fit the new shape",
                   x->elems);
    }
    c->n->kind = ML_COPY;
    c->n->n_in = 1;
    return value_shape(out(c, 0), s->elems, dims, x->batched);
}

static ccz_status compile_transpose(compile *c)
{
    CCZ_GUARD(need_inputs(c, 1, 1));
    const ml_value *x = in(c, 0);
    int64_t perm[CCZ_ML_MAX_RANK];
    size_t n;
    CCZ_GUARD(attr_ints(&c->A, "perm", perm, CCZ_ML_MAX_RANK, &n));
    if (n == 0) {
        n = x->rank;
        for (size_t i = 0; i < n; i++)
            perm[i] = (int64_t)(n - 1 - i);
    }
    CCZ_ENSURE(n == x->rank, CCZ_ERR_MALFORMED, "perm has %zu entries for rank %zu", n, x->rank);
    bool seen[CCZ_ML_MAX_RANK] = {false};
    int64_t dims[CCZ_ML_MAX_RANK];
    for (size_t i = 0; i < n; i++) {
        CCZ_ENSURE(perm[i] >= 0 && perm[i] < (int64_t)n && !seen[perm[i]], CCZ_ERR_MALFORMED,
                   "perm is not a permutation");
        seen[perm[i]] = true;
        c->n->perm[i] = (size_t)perm[i];
        dims[i] = x->dims[perm[i]];
    }
    CCZ_ENSURE(!x->batched || perm[0] == 0, CCZ_ERR_UNSUPPORTED,
               "perm must keep the batch dimension first");
    return value_shape(out(c, 0), n, dims, x->batched);
}

static ccz_status compile_concat(compile *c)
{
    CCZ_GUARD(need_inputs(c, 1, ML_MAX_IN));
    const ml_value *x = in(c, 0);
    int64_t given;
    CCZ_ENSURE(attr_present(&c->A, "axis"), CCZ_ERR_MALFORMED, "attribute 'axis' is required");
    CCZ_GUARD(attr_int(&c->A, "axis", 0, &given));
    int64_t axis = norm_axis(given, x->rank);
    CCZ_ENSURE(axis >= 0 && axis < (int64_t)x->rank, CCZ_ERR_MALFORMED,
               "axis %lld out of range for rank %zu", (long long)given, x->rank);
    CCZ_ENSURE(!(x->batched && axis == 0), CCZ_ERR_UNSUPPORTED,
               "concatenation along the batch dimension");
    int64_t dims[CCZ_ML_MAX_RANK];
    memcpy(dims, x->dims, sizeof dims);
    dims[axis] = 0;
    for (size_t k = 0; k < c->n->n_in; k++) {
        CCZ_ENSURE(c->n->in[k] != ML_NONE, CCZ_ERR_MALFORMED, "input %zu is missing", k);
        const ml_value *y = in(c, k);
        CCZ_ENSURE(y->rank == x->rank && y->batched == x->batched, CCZ_ERR_MALFORMED,
                   "input %zu has another rank or batch", k);
        for (size_t i = 0; i < x->rank; i++)
            CCZ_ENSURE((int64_t)i == axis || y->dims[i] == x->dims[i], CCZ_ERR_MALFORMED,
                       "input %zu differs in dimension %zu", k, i);
        dims[axis] += y->dims[axis];
        CCZ_ENSURE(dims[axis] <= ML_MAX_DIM, CCZ_ERR_TOO_LARGE, "the result is too large");
    }
    c->n->axis = (int)axis;
    return value_shape(out(c, 0), x->rank, dims, x->batched);
}

static ccz_status compile_softmax(compile *c)
{
    CCZ_GUARD(need_inputs(c, 1, 1));
    const ml_value *x = in(c, 0);
    bool legacy = c->L->opset < 13;
    int64_t given;
    CCZ_GUARD(attr_int(&c->A, "axis", legacy ? 1 : -1, &given));
    int64_t axis = norm_axis(given, x->rank);
    CCZ_ENSURE(axis >= 0 && axis < (int64_t)x->rank, CCZ_ERR_MALFORMED,
               "axis %lld out of range for rank %zu", (long long)given, x->rank);
    CCZ_ENSURE(!(x->batched && axis == 0), CCZ_ERR_UNSUPPORTED,
               "softmax across the batch dimension");
    c->n->axis = (int)axis;
    c->n->softmax_2d = legacy;
    return same_shape(c, x);
}

static ccz_status compile_gemm(compile *c)
{
    CCZ_GUARD(need_inputs(c, 2, 3));
    ml_node *n = c->n;
    const ml_value *a = in(c, 0), *b = in(c, 1);
    int64_t ta, tb;
    CCZ_GUARD(attr_float(&c->A, "alpha", 1.0f, &n->alpha));
    CCZ_GUARD(attr_float(&c->A, "beta", 1.0f, &n->beta));
    CCZ_GUARD(attr_int(&c->A, "transA", 0, &ta));
    CCZ_GUARD(attr_int(&c->A, "transB", 0, &tb));
    n->trans_a = ta != 0;
    n->trans_b = tb != 0;
    CCZ_ENSURE(a->rank == 2 && b->rank == 2, CCZ_ERR_MALFORMED, "A and B must be matrices");
    CCZ_ENSURE(!(a->batched && n->trans_a), CCZ_ERR_UNSUPPORTED,
               "transA would move the batch dimension");
    CCZ_ENSURE(!b->batched, CCZ_ERR_UNSUPPORTED, "B must not depend on the batch");
    int64_t m = n->trans_a ? a->dims[1] : a->dims[0], k = n->trans_a ? a->dims[0] : a->dims[1];
    int64_t kb = n->trans_b ? b->dims[1] : b->dims[0], nn = n->trans_b ? b->dims[0] : b->dims[1];
    CCZ_ENSURE(k == kb, CCZ_ERR_MALFORMED, "A has %lld columns and B %lld rows", (long long)k,
               (long long)kb);
    if (n->n_in == 3 && n->in[2] != ML_NONE) {
        const ml_value *cc = in(c, 2);
        int64_t cm = cc->rank == 2 ? cc->dims[0] : 1, cn = cc->dims[cc->rank - 1];
        CCZ_ENSURE(cc->rank <= 2, CCZ_ERR_MALFORMED, "C has rank %zu", cc->rank);
        CCZ_ENSURE((cn == 1 || cn == nn) && (cm == 1 || (cm == m && cc->batched == a->batched)),
                   CCZ_ERR_MALFORMED, "C does not broadcast to the result");
        CCZ_ENSURE(!cc->batched || (a->batched && cc->rank == 2), CCZ_ERR_UNSUPPORTED,
                   "C depends on the batch differently from A");
    }
    if (b->is_const && b->data && n->trans_b) {
        /* B' kept as K x N with the constant, once for every node that reads it: a copy per
         * node would let one initializer shared by 4096 nodes cost 4096 times its size */
        ml_value *bv = in(c, 1);
        size_t kk = (size_t)k, nc = (size_t)nn;
        if (!bv->data_t) {
            bv->data_t = malloc(kk * nc * sizeof(float));
            CCZ_ENSURE(bv->data_t, CCZ_ERR_NOMEM, "out of memory");
            for (size_t i = 0; i < kk; i++)
                for (size_t j = 0; j < nc; j++)
                    bv->data_t[i * nc + j] = b->data[j * kk + i];
        }
        n->b_t = bv->data_t;
    } else if (b->is_const && b->data) {
        n->b_t = b->data; /* already K x N */
    }
    int64_t dims[2] = {m, nn};
    return value_shape(out(c, 0), 2, dims, a->batched);
}

static ccz_status compile_matmul(compile *c)
{
    CCZ_GUARD(need_inputs(c, 2, 2));
    const ml_value *a = in(c, 0), *b = in(c, 1);
    CCZ_ENSURE(a->rank >= 2 && b->rank >= 2, CCZ_ERR_UNSUPPORTED, "1-D operands are not supported");
    CCZ_ENSURE(a->dims[a->rank - 1] == b->dims[b->rank - 2], CCZ_ERR_MALFORMED,
               "inner dimensions %lld and %lld differ", (long long)a->dims[a->rank - 1],
               (long long)b->dims[b->rank - 2]);
    bool flat = b->rank == 2 && !b->batched;
    if (!flat) {
        /* a stack of products: the same leading dimensions on both sides */
        CCZ_ENSURE(a->rank == b->rank && a->batched == b->batched, CCZ_ERR_UNSUPPORTED,
                   "broadcasting of stacked matrices is not supported");
        for (size_t i = 0; i + 2 < a->rank; i++)
            CCZ_ENSURE(a->dims[i] == b->dims[i], CCZ_ERR_UNSUPPORTED,
                       "broadcasting of stacked matrices is not supported");
    }
    int64_t dims[CCZ_ML_MAX_RANK];
    memcpy(dims, a->dims, sizeof dims);
    dims[a->rank - 1] = b->dims[b->rank - 1];
    CCZ_ENSURE(!(a->batched && a->rank == 2 && !flat), CCZ_ERR_UNSUPPORTED,
               "B must not depend on the batch");
    return value_shape(out(c, 0), a->rank, dims, a->batched);
}

/* kernel, strides, dilations and pads of a 2-D window over x (rank 4, NCHW), and the output
 * size; auto_pad as ONNX defines it */
static ccz_status window(compile *c, const ml_value *x, int64_t kh, int64_t kw, bool dilations,
                         int64_t *oh, int64_t *ow)
{
    ml_node *n = c->n;
    int64_t v[4];
    size_t cnt;
    char pad[16];
    n->kh = kh;
    n->kw = kw;
    CCZ_GUARD(attr_ints(&c->A, "strides", v, 2, &cnt));
    CCZ_ENSURE(cnt == 0 || cnt == 2, CCZ_ERR_MALFORMED, "strides needs 2 values");
    n->sh = cnt ? v[0] : 1;
    n->sw = cnt ? v[1] : 1;
    n->dh = n->dw = 1;
    if (dilations) {
        CCZ_GUARD(attr_ints(&c->A, "dilations", v, 2, &cnt));
        CCZ_ENSURE(cnt == 0 || cnt == 2, CCZ_ERR_MALFORMED, "dilations needs 2 values");
        n->dh = cnt ? v[0] : 1;
        n->dw = cnt ? v[1] : 1;
    }
    CCZ_GUARD(attr_ints(&c->A, "pads", v, 4, &cnt));
    CCZ_ENSURE(cnt == 0 || cnt == 4, CCZ_ERR_MALFORMED, "pads needs 4 values");
    n->pt = cnt ? v[0] : 0;
    n->pl = cnt ? v[1] : 0;
    n->pb = cnt ? v[2] : 0;
    n->pr = cnt ? v[3] : 0;
    CCZ_GUARD(attr_string(&c->A, "auto_pad", "NOTSET", pad, sizeof pad));
    int64_t lim = 1 << 16;
    CCZ_ENSURE(n->kh >= 1 && n->kw >= 1 && n->kh <= lim && n->kw <= lim, CCZ_ERR_UNSUPPORTED,
               "kernel %lldx%lld", (long long)n->kh, (long long)n->kw);
    CCZ_ENSURE(n->sh >= 1 && n->sw >= 1 && n->sh <= lim && n->sw <= lim, CCZ_ERR_UNSUPPORTED,
               "strides %lld,%lld", (long long)n->sh, (long long)n->sw);
    CCZ_ENSURE(n->dh >= 1 && n->dw >= 1 && n->dh <= lim && n->dw <= lim, CCZ_ERR_UNSUPPORTED,
               "dilations %lld,%lld", (long long)n->dh, (long long)n->dw);
    CCZ_ENSURE(n->pt >= 0 && n->pl >= 0 && n->pb >= 0 && n->pr >= 0 && n->pt <= lim &&
                   n->pl <= lim && n->pb <= lim && n->pr <= lim,
               CCZ_ERR_UNSUPPORTED, "pads %lld,%lld,%lld,%lld", (long long)n->pt, (long long)n->pl,
               (long long)n->pb, (long long)n->pr);
    int64_t h = x->dims[2], w = x->dims[3];
    int64_t eh = (n->kh - 1) * n->dh + 1, ew = (n->kw - 1) * n->dw + 1;
    if (strcmp(pad, "NOTSET") == 0) {
        *oh = h + n->pt + n->pb - eh;
        *ow = w + n->pl + n->pr - ew;
        CCZ_ENSURE(*oh >= 0 && *ow >= 0, CCZ_ERR_MALFORMED,
                   "the window (%lldx%lld) is larger than the padded input (%lldx%lld)",
                   (long long)eh, (long long)ew, (long long)(h + n->pt + n->pb),
                   (long long)(w + n->pl + n->pr));
        *oh = *oh / n->sh + 1;
        *ow = *ow / n->sw + 1;
    } else if (strcmp(pad, "VALID") == 0) {
        CCZ_ENSURE(h >= eh && w >= ew, CCZ_ERR_MALFORMED, "the window is larger than the input");
        n->pt = n->pl = n->pb = n->pr = 0;
        *oh = (h - eh) / n->sh + 1;
        *ow = (w - ew) / n->sw + 1;
    } else if (strcmp(pad, "SAME_UPPER") == 0 || strcmp(pad, "SAME_LOWER") == 0) {
        bool upper = pad[5] == 'U';
        *oh = (h + n->sh - 1) / n->sh;
        *ow = (w + n->sw - 1) / n->sw;
        int64_t th = (*oh - 1) * n->sh + eh - h, tw = (*ow - 1) * n->sw + ew - w;
        th = th > 0 ? th : 0;
        tw = tw > 0 ? tw : 0;
        n->pt = upper ? th / 2 : th - th / 2;
        n->pb = th - n->pt;
        n->pl = upper ? tw / 2 : tw - tw / 2;
        n->pr = tw - n->pl;
    } else {
        return ccz_fail(CCZ_ERR_UNSUPPORTED, "auto_pad '%s' is not supported", pad);
    }
    return CCZ_OK;
}

static ccz_status need_image(const ml_value *x)
{
    CCZ_ENSURE(x->rank == 4, CCZ_ERR_UNSUPPORTED,
               "only 2-D images (N, C, H, W) are supported, not rank %zu", x->rank);
    return CCZ_OK;
}

static ccz_status compile_conv(compile *c)
{
    CCZ_GUARD(need_inputs(c, 2, 3));
    ml_node *n = c->n;
    const ml_value *x = in(c, 0), *w = in(c, 1);
    CCZ_GUARD(need_image(x));
    CCZ_ENSURE(w->rank == 4 && !w->batched, CCZ_ERR_MALFORMED,
               "the weights must be (M, C/group, kH, kW)");
    CCZ_GUARD(attr_int(&c->A, "group", 1, &n->group));
    CCZ_ENSURE(n->group >= 1 && x->dims[1] % n->group == 0 && w->dims[0] % n->group == 0,
               CCZ_ERR_MALFORMED, "group %lld does not divide the channels", (long long)n->group);
    CCZ_ENSURE(w->dims[1] * n->group == x->dims[1], CCZ_ERR_MALFORMED,
               "the weights have %lld channels per group, the input %lld in all",
               (long long)w->dims[1], (long long)x->dims[1]);
    int64_t ks[2];
    size_t cnt;
    CCZ_GUARD(attr_ints(&c->A, "kernel_shape", ks, 2, &cnt));
    CCZ_ENSURE(cnt == 0 || (cnt == 2 && ks[0] == w->dims[2] && ks[1] == w->dims[3]),
               CCZ_ERR_MALFORMED, "kernel_shape differs from the weights");
    if (n->n_in == 3 && n->in[2] != ML_NONE)
        CCZ_ENSURE(in(c, 2)->rank == 1 && in(c, 2)->dims[0] == w->dims[0] && !in(c, 2)->batched,
                   CCZ_ERR_MALFORMED, "the bias must have one value per output channel");
    int64_t oh, ow;
    CCZ_GUARD(window(c, x, w->dims[2], w->dims[3], true, &oh, &ow));
    /* the column buffer of one image: (C/group * kH * kW) x (oh * ow) */
    uint64_t col_k = (uint64_t)w->dims[1] * (uint64_t)(n->kh * n->kw); /* < 2^60 */
    uint64_t col_n = (uint64_t)oh * (uint64_t)ow;                      /* < 2^58 */
    CCZ_ENSURE(col_k <= ML_MAX_ELEMS && col_n <= ML_MAX_ELEMS && col_k * col_n <= ML_MAX_ELEMS,
               CCZ_ERR_TOO_LARGE, "the convolution is too large");
    int64_t dims[4] = {x->dims[0], w->dims[0], oh, ow};
    return value_shape(out(c, 0), 4, dims, x->batched);
}

static ccz_status compile_pool(compile *c, bool max)
{
    CCZ_GUARD(need_inputs(c, 1, 1));
    ml_node *n = c->n;
    const ml_value *x = in(c, 0);
    CCZ_GUARD(need_image(x));
    int64_t ks[2], ceil_mode, v;
    size_t cnt;
    CCZ_GUARD(attr_ints(&c->A, "kernel_shape", ks, 2, &cnt));
    CCZ_ENSURE(cnt == 2, CCZ_ERR_MALFORMED, "kernel_shape needs 2 values");
    CCZ_GUARD(attr_int(&c->A, "ceil_mode", 0, &ceil_mode));
    if (max) {
        CCZ_GUARD(attr_int(&c->A, "storage_order", 0, &v));
        CCZ_ENSURE(v == 0, CCZ_ERR_UNSUPPORTED, "storage_order %lld", (long long)v);
    } else {
        CCZ_GUARD(attr_int(&c->A, "count_include_pad", 0, &v));
        n->count_include_pad = v != 0;
    }
    int64_t oh, ow;
    CCZ_GUARD(window(c, x, ks[0], ks[1], max, &oh, &ow));
    CCZ_ENSURE(n->pt < n->kh && n->pb < n->kh && n->pl < n->kw && n->pr < n->kw,
               CCZ_ERR_UNSUPPORTED, "pads as large as the kernel");
    if (ceil_mode) {
        int64_t h = x->dims[2] + n->pt + n->pb - ((n->kh - 1) * n->dh + 1);
        int64_t w = x->dims[3] + n->pl + n->pr - ((n->kw - 1) * n->dw + 1);
        oh = (h + n->sh - 1) / n->sh + 1;
        ow = (w + n->sw - 1) / n->sw + 1;
        /* the last window starts inside the input or its left padding */
        if ((oh - 1) * n->sh >= x->dims[2] + n->pt)
            oh--;
        if ((ow - 1) * n->sw >= x->dims[3] + n->pl)
            ow--;
    }
    CCZ_ENSURE(oh >= 1 && ow >= 1, CCZ_ERR_MALFORMED, "empty output");
    int64_t dims[4] = {x->dims[0], x->dims[1], oh, ow};
    return value_shape(out(c, 0), 4, dims, x->batched);
}

static ccz_status compile_global_pool(compile *c)
{
    CCZ_GUARD(need_inputs(c, 1, 1));
    const ml_value *x = in(c, 0);
    CCZ_ENSURE(x->rank >= 3, CCZ_ERR_MALFORMED, "rank %zu (3 or more expected)", x->rank);
    int64_t dims[CCZ_ML_MAX_RANK];
    for (size_t i = 0; i < x->rank; i++)
        dims[i] = i < 2 ? x->dims[i] : 1;
    return value_shape(out(c, 0), x->rank, dims, x->batched);
}

static ccz_status compile_batchnorm(compile *c)
{
    CCZ_GUARD(need_inputs(c, 5, 5));
    ml_node *n = c->n;
    const ml_value *x = in(c, 0);
    float eps, momentum;
    int64_t training, spatial, is_test;
    CCZ_GUARD(attr_float(&c->A, "epsilon", 1e-5f, &eps));
    CCZ_GUARD(attr_float(&c->A, "momentum", 0.9f, &momentum));
    CCZ_GUARD(attr_int(&c->A, "training_mode", 0, &training));
    CCZ_GUARD(attr_int(&c->A, "spatial", 1, &spatial));
    CCZ_GUARD(attr_int(&c->A, "is_test", 1, &is_test));
    CCZ_ENSURE(training == 0, CCZ_ERR_UNSUPPORTED, "training_mode is not supported");
    CCZ_ENSURE(spatial == 1, CCZ_ERR_UNSUPPORTED, "spatial = 0 is not supported");
    CCZ_ENSURE(x->rank >= 2, CCZ_ERR_MALFORMED, "rank %zu (2 or more expected)", x->rank);
    size_t ch = (size_t)x->dims[1];
    for (size_t i = 1; i < 5; i++) {
        CCZ_GUARD(need_const(c, i, "scale, bias, mean and variance"));
        CCZ_ENSURE(in(c, i)->data && in(c, i)->rank == 1 && in(c, i)->elems == ch,
                   CCZ_ERR_MALFORMED, "input %zu must have one float per channel", i);
    }
    /* folded into a scale and shift per channel by each run, from the constants themselves: a
     * folded copy per node would let constants shared by 4096 nodes cost 4096 times their size */
    n->eps = eps;
    return same_shape(c, x);
}

static ccz_status post_transform(compile *c, bool classifier)
{
    char post[16];
    CCZ_GUARD(attr_string(&c->A, "post_transform", "NONE", post, sizeof post));
    if (strcmp(post, "NONE") == 0)
        c->n->post = ML_POST_NONE;
    else if (classifier && strcmp(post, "LOGISTIC") == 0)
        c->n->post = ML_POST_LOGISTIC;
    else if (classifier && strcmp(post, "SOFTMAX") == 0)
        c->n->post = ML_POST_SOFTMAX;
    else if (classifier && strcmp(post, "SOFTMAX_ZERO") == 0)
        c->n->post = ML_POST_SOFTMAX_ZERO;
    else
        return ccz_fail(CCZ_ERR_UNSUPPORTED, "post_transform '%s' is not supported", post);
    return CCZ_OK;
}

static ccz_status linear_common(compile *c, size_t *rows)
{
    ml_node *n = c->n;
    const ml_value *x = in(c, 0);
    CCZ_ENSURE(x->rank == 2 && x->batched, CCZ_ERR_UNSUPPORTED, "the input must be (N, features)");
    const float *coef = NULL, *icpt = NULL;
    size_t nc = 0, ni = 0;
    CCZ_GUARD(attr_floats(&c->A, "coefficients", &coef, &nc));
    CCZ_GUARD(attr_floats(&c->A, "intercepts", &icpt, &ni));
    n->feats = (size_t)x->dims[1];
    CCZ_ENSURE(nc >= 1 && nc % n->feats == 0, CCZ_ERR_MALFORMED,
               "%zu coefficients for %zu features", nc, n->feats);
    *rows = n->rows = nc / n->feats;
    CCZ_ENSURE(ni == 0 || ni == n->rows, CCZ_ERR_MALFORMED, "%zu intercepts for %zu targets", ni,
               n->rows);
    n->coef = malloc(nc * sizeof(float));
    n->icpt = calloc(n->rows, sizeof(float));
    CCZ_ENSURE(n->coef && n->icpt, CCZ_ERR_NOMEM, "out of memory");
    memcpy(n->coef, coef, nc * sizeof(float));
    if (ni)
        memcpy(n->icpt, icpt, ni * sizeof(float));
    return CCZ_OK;
}

static ccz_status compile_linear_classifier(compile *c)
{
    CCZ_GUARD(need_inputs(c, 1, 1));
    CCZ_GUARD(need_outputs(c, 2));
    ml_node *n = c->n;
    size_t rows, nl;
    int64_t multi, labels[1024];
    CCZ_GUARD(linear_common(c, &rows));
    CCZ_GUARD(post_transform(c, true));
    CCZ_GUARD(attr_int(&c->A, "multi_class", 0, &multi));
    CCZ_ENSURE(!attr_present(&c->A, "classlabels_strings"), CCZ_ERR_UNSUPPORTED,
               "string class labels are not supported (use classlabels_ints)");
    CCZ_GUARD(attr_ints(&c->A, "classlabels_ints", labels, CCZ_ARRAY_LEN(labels), &nl));
    n->binary = rows == 1 && nl == 2;
    CCZ_ENSURE(n->binary || nl == rows, CCZ_ERR_MALFORMED, "%zu class labels for %zu classes", nl,
               rows);
    CCZ_ENSURE(!n->binary || n->post == ML_POST_NONE || n->post == ML_POST_LOGISTIC,
               CCZ_ERR_UNSUPPORTED,
               "a binary classifier's post_transform must be NONE or LOGISTIC");
    n->labels = malloc(nl * sizeof(float));
    CCZ_ENSURE(n->labels, CCZ_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < nl; i++)
        n->labels[i] = (float)labels[i];
    int64_t ydims[1] = {1}, zdims[2] = {1, n->binary ? 2 : (int64_t)rows};
    CCZ_GUARD(value_shape(out(c, 0), 1, ydims, true));
    if (n->n_out == 2 && n->out[1] != ML_NONE)
        CCZ_GUARD(value_shape(out(c, 1), 2, zdims, true));
    return CCZ_OK;
}

static ccz_status compile_linear_regressor(compile *c)
{
    CCZ_GUARD(need_inputs(c, 1, 1));
    size_t rows;
    int64_t targets;
    CCZ_GUARD(linear_common(c, &rows));
    CCZ_GUARD(post_transform(c, false));
    CCZ_GUARD(attr_int(&c->A, "targets", 1, &targets));
    CCZ_ENSURE(targets >= 1 && (size_t)targets == rows, CCZ_ERR_MALFORMED,
               "%zu rows of coefficients for %lld targets", rows, (long long)targets);
    int64_t dims[2] = {1, targets};
    return value_shape(out(c, 0), 2, dims, true);
}

typedef struct {
    const char *op;
    bool ml; /* domain ai.onnx.ml */
    ml_kind kind;
    ccz_status (*fn)(compile *c);
} op_entry;

static ccz_status compile_maxpool(compile *c)
{
    return compile_pool(c, true);
}

static ccz_status compile_avgpool(compile *c)
{
    return compile_pool(c, false);
}

static const op_entry OPS[] = {
    {"Gemm", false, ML_GEMM, compile_gemm},
    {"MatMul", false, ML_MATMUL, compile_matmul},
    {"Add", false, ML_ADD, compile_binary},
    {"Sub", false, ML_SUB, compile_binary},
    {"Mul", false, ML_MUL, compile_binary},
    {"Div", false, ML_DIV, compile_binary},
    {"Relu", false, ML_RELU, compile_unary},
    {"Sigmoid", false, ML_SIGMOID, compile_unary},
    {"Tanh", false, ML_TANH, compile_unary},
    {"Softmax", false, ML_SOFTMAX, compile_softmax},
    {"Conv", false, ML_CONV, compile_conv},
    {"MaxPool", false, ML_MAXPOOL, compile_maxpool},
    {"AveragePool", false, ML_AVGPOOL, compile_avgpool},
    {"GlobalAveragePool", false, ML_GLOBALAVGPOOL, compile_global_pool},
    {"BatchNormalization", false, ML_BATCHNORM, compile_batchnorm},
    {"Flatten", false, ML_COPY, compile_flatten},
    {"Reshape", false, ML_COPY, compile_reshape},
    {"Transpose", false, ML_TRANSPOSE, compile_transpose},
    {"Concat", false, ML_CONCAT, compile_concat},
    {"Identity", false, ML_COPY, compile_unary},
    {"Dropout", false, ML_COPY, compile_dropout},
    {"LinearClassifier", true, ML_LINEAR_CLASSIFIER, compile_linear_classifier},
    {"LinearRegressor", true, ML_LINEAR_REGRESSOR, compile_linear_regressor},
};

/* ---- the graph ------------------------------------------------------------------------------*/

static bool domain_is(const char *d, bool ml)
{
    if (ml)
        return d && strcmp(d, "ai.onnx.ml") == 0;
    return !d || !d[0] || strcmp(d, "ai.onnx") == 0;
}

static ccz_status node_compile(loader *L, const Onnx__NodeProto *np, ml_node *n)
{
    const char *op = np->op_type ? np->op_type : "";
    const op_entry *e = NULL;
    for (size_t i = 0; i < CCZ_ARRAY_LEN(OPS) && !e; i++)
        if (strcmp(OPS[i].op, op) == 0 && domain_is(np->domain, OPS[i].ml))
            e = &OPS[i];
    CCZ_ENSURE(e, CCZ_ERR_UNSUPPORTED, "operator %s%s%s is not supported",
               np->domain && np->domain[0] ? np->domain : "",
               np->domain && np->domain[0] ? "." : "", op);
    CCZ_ENSURE(e->ml ? L->opset_ml >= 1 && L->opset_ml <= 3 : L->opset >= 7 && L->opset <= 18,
               CCZ_ERR_UNSUPPORTED, "opset version %lld of its domain is not supported",
               (long long)(e->ml ? L->opset_ml : L->opset));
    CCZ_ENSURE(np->n_attribute <= 64, CCZ_ERR_UNSUPPORTED, "more than 64 attributes");
    n->kind = e->kind;
    /* outputs: one new value each ("" is an unused optional output) */
    compile c = {.L = L, .n = n, .A = {.np = np}, .op = op};
    /* LinearClassifier has two outputs; Dropout's second (the mask) is refused by its compiler */
    CCZ_GUARD(
        need_outputs(&c, e->kind == ML_LINEAR_CLASSIFIER || e->fn == compile_dropout ? 2 : 1));
    /* int64 tensors are read only where an operator takes integers: Reshape's shape */
    for (size_t i = 0; i < n->n_in; i++)
        CCZ_ENSURE(n->in[i] == ML_NONE || !L->m->values[n->in[i]].ints ||
                       (strcmp(op, "Reshape") == 0 && i == 1),
                   CCZ_ERR_UNSUPPORTED, "input %zu is an int64 tensor (float expected)", i);
    CCZ_GUARD(e->fn(&c));
    CCZ_GUARD(attrs_all_used(&c.A));
    for (size_t i = 0; i < n->n_out; i++)
        if (n->out[i] != ML_NONE)
            L->m->values[n->out[i]].defined = true;
    return CCZ_OK;
}

/* Resolves a node's input and output names; outputs get their values here. */
static ccz_status node_names(loader *L, const Onnx__NodeProto *np, ml_node *n)
{
    CCZ_ENSURE(np->n_input <= ML_MAX_IN, CCZ_ERR_UNSUPPORTED, "%zu inputs", np->n_input);
    CCZ_ENSURE(np->n_output <= 2, CCZ_ERR_UNSUPPORTED, "%zu outputs", np->n_output);
    n->n_in = np->n_input;
    n->n_out = np->n_output;
    for (size_t i = 0; i < np->n_output; i++) {
        n->out[i] = ML_NONE;
        if (np->output[i][0])
            CCZ_GUARD(value_add(L, np->output[i], &n->out[i]));
    }
    return CCZ_OK;
}

static ccz_status node_inputs(loader *L, const Onnx__NodeProto *np, ml_node *n)
{
    for (size_t i = 0; i < np->n_input; i++) {
        n->in[i] = ML_NONE;
        if (!np->input[i][0])
            continue;
        n->in[i] = value_find(L, np->input[i]);
        CCZ_ENSURE(n->in[i] != ML_NONE, CCZ_ERR_MALFORMED, "input '%s' is never defined",
                   np->input[i]);
    }
    return CCZ_OK;
}

static bool node_ready(const loader *L, const ml_node *n)
{
    for (size_t i = 0; i < n->n_in; i++)
        if (n->in[i] != ML_NONE && !L->m->values[n->in[i]].defined)
            return false;
    return true;
}

static const char *node_label(const Onnx__NodeProto *np)
{
    return np->name && np->name[0] ? np->name
                                   : (np->n_output && np->output[0][0] ? np->output[0] : "");
}

/* Places the nodes in run order (each after the producers of its inputs), compiling each. */
static ccz_status graph_sort(loader *L, const Onnx__GraphProto *g)
{
    ccz_ml_model *m = L->m;
    size_t n = g->n_node;
    ml_node *tmp = calloc(n ? n : 1, sizeof *tmp);
    bool *placed = calloc(n ? n : 1, sizeof *placed);
    ccz_status st = CCZ_OK;
    if (!tmp || !placed) {
        st = ccz_fail(CCZ_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        CCZ_GUARD_GOTO(node_names(L, g->node[i], &tmp[i]), st, fail_node);
        continue;
    fail_node:
        st = ccz_fail_context(st, "node %zu '%s' (%s)", i, node_label(g->node[i]),
                              g->node[i]->op_type ? g->node[i]->op_type : "");
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        if ((st = node_inputs(L, g->node[i], &tmp[i])) != CCZ_OK) {
            st = ccz_fail_context(st, "node %zu '%s' (%s)", i, node_label(g->node[i]),
                                  g->node[i]->op_type ? g->node[i]->op_type : "");
            goto done;
        }
    while (m->n_nodes < n) {
        bool progress = false;
        for (size_t i = 0; i < n; i++) {
            if (placed[i] || !node_ready(L, &tmp[i]))
                continue;
            ml_node *dst = &m->nodes[m->n_nodes++];
            *dst = tmp[i];
            placed[i] = progress = true;
            st = node_compile(L, g->node[i], dst);
            if (st != CCZ_OK) {
                st = ccz_fail_context(st, "node %zu '%s' (%s)", i, node_label(g->node[i]),
                                      g->node[i]->op_type ? g->node[i]->op_type : "");
                goto done;
            }
        }
        if (!progress) {
            for (size_t i = 0; i < n; i++)
                if (!placed[i]) {
                    st = ccz_fail(CCZ_ERR_MALFORMED, "node %zu '%s' (%s) is part of a cycle", i,
                                  node_label(g->node[i]),
                                  g->node[i]->op_type ? g->node[i]->op_type : "");
                    goto done;
                }
        }
    }
done:
    free(tmp);
    free(placed);
    return st;
}

static ccz_status opsets(loader *L, const Onnx__ModelProto *mp)
{
    for (size_t i = 0; i < mp->n_opset_import; i++) {
        const Onnx__OperatorSetIdProto *o = mp->opset_import[i];
        if (domain_is(o->domain, false))
            L->opset = o->version;
        else if (domain_is(o->domain, true))
            L->opset_ml = o->version;
    }
    return CCZ_OK;
}

static ccz_status graph_load(loader *L, const Onnx__ModelProto *mp)
{
    ccz_ml_model *m = L->m;
    const Onnx__GraphProto *g = mp->graph;
    CCZ_ENSURE(g, CCZ_ERR_MALFORMED, "the model has no graph");
    CCZ_ENSURE(g->n_node <= ML_MAX_NODES, CCZ_ERR_TOO_LARGE, "more than %d nodes", ML_MAX_NODES);
    CCZ_ENSURE(g->n_input + g->n_initializer + 2 * g->n_node <= ML_MAX_VALUES, CCZ_ERR_TOO_LARGE,
               "more than %d values", ML_MAX_VALUES);
    CCZ_GUARD(opsets(L, mp));
    /* every value is an initializer, an input or a node's output (at most two per node) */
    L->cap = g->n_input + g->n_initializer + 2 * g->n_node;
    L->n_slots = 2 * L->cap + 1;
    L->slots = calloc(L->n_slots, sizeof *L->slots);
    m->values = calloc(L->cap ? L->cap : 1, sizeof *m->values);
    m->nodes = calloc(g->n_node ? g->n_node : 1, sizeof *m->nodes);
    m->inputs = calloc(g->n_input ? g->n_input : 1, sizeof *m->inputs);
    m->outputs = calloc(g->n_output ? g->n_output : 1, sizeof *m->outputs);
    CCZ_ENSURE(L->slots && m->values && m->nodes && m->inputs && m->outputs, CCZ_ERR_NOMEM,
               "out of memory");
    for (size_t i = 0; i < g->n_initializer; i++) {
        size_t v;
        CCZ_GUARD(value_add(L, g->initializer[i]->name, &v));
        CCZ_GUARD(tensor_load(&m->values[v], g->initializer[i]));
    }
    for (size_t i = 0; i < g->n_input; i++) {
        size_t v = value_find(L, g->input[i]->name ? g->input[i]->name : "");
        if (v != ML_NONE && m->values[v].is_const)
            continue; /* an initializer listed as an input (IR < 4): a constant here */
        CCZ_GUARD(value_add(L, g->input[i]->name, &v));
        CCZ_GUARD(input_load(&m->values[v], g->input[i]));
        m->inputs[m->n_inputs++] = v;
    }
    CCZ_ENSURE(m->n_inputs >= 1, CCZ_ERR_UNSUPPORTED, "the graph has no input");
    CCZ_GUARD(graph_sort(L, g));
    CCZ_ENSURE(g->n_output >= 1, CCZ_ERR_MALFORMED, "the graph has no output");
    for (size_t i = 0; i < g->n_output; i++) {
        const char *name = g->output[i]->name ? g->output[i]->name : "";
        size_t v = value_find(L, name);
        CCZ_ENSURE(v != ML_NONE, CCZ_ERR_MALFORMED, "output '%s' is never defined", name);
        CCZ_GUARD(output_check(&m->values[v], g->output[i]));
        m->outputs[m->n_outputs++] = v;
    }
    return CCZ_OK;
}

ccz_status ccz_ml_model_load(ccz_ml_model **out, ccz_span onnx)
{
    CCZ_ENSURE(out && (onnx.ptr || !onnx.len), CCZ_ERR_INVALID_ARGUMENT, "ml: no model");
    *out = NULL;
    CCZ_ENSURE(onnx.len <= CCZ_ML_MAX_MODEL, CCZ_ERR_TOO_LARGE, "ml: the model exceeds %u bytes",
               CCZ_ML_MAX_MODEL);
    ccz_status st;
    Onnx__ModelProto *mp =
        (Onnx__ModelProto *)ccz_pb_unpack(&st, &onnx__model_proto__descriptor, onnx,
                                          "ml: not an ONNX model (the protobuf does not parse)");
    if (!mp)
        return st;
    loader L = {.m = calloc(1, sizeof(ccz_ml_model))};
    if (!L.m) {
        st = ccz_fail(CCZ_ERR_NOMEM, "ml: out of memory");
        goto done;
    }
    if (mp->has_ir_version && (mp->ir_version < 3 || mp->ir_version > 9)) {
        st = ccz_fail(CCZ_ERR_UNSUPPORTED_VERSION, "ml: IR version %lld (3 to 9 supported)",
                      (long long)mp->ir_version);
        goto done;
    }
    st = graph_load(&L, mp);
    if (st != CCZ_OK)
        st = ccz_fail_context(st, "ml");
    if (st == CCZ_OK) {
        L.m->ws = calloc(1, sizeof *L.m->ws);
        if (!L.m->ws)
            st = ccz_fail(CCZ_ERR_NOMEM, "ml: out of memory");
        else
            pthread_mutex_init(&L.m->ws->mu, NULL);
    }
done:
    onnx__model_proto__free_unpacked(mp, NULL);
    free(L.slots);
    if (st != CCZ_OK) {
        ccz_ml_model_free(L.m);
        return st;
    }
    *out = L.m;
    return CCZ_OK;
}

ccz_status ccz_ml_model_load_file(ccz_ml_model **out, const char *path)
{
    CCZ_ENSURE(out && path, CCZ_ERR_INVALID_ARGUMENT, "ml: no model file");
    ccz_buf b;
    ccz_buf_init(&b, CCZ_ML_MAX_MODEL, false);
    CCZ_GUARD(ccz_file_read(&b, path, CCZ_ML_MAX_MODEL));
    ccz_status st = ccz_ml_model_load(out, ccz_buf_span(&b));
    ccz_buf_free(&b);
    return st;
}

ccz_status ccz_ml_model_load_pf(ccz_ml_model **out, const char *path,
                                const uint8_t key[CCZ_PF_KEY_SIZE], const char *bound_path)
{
    CCZ_ENSURE(out && path && key, CCZ_ERR_INVALID_ARGUMENT, "ml: no model file or key");
    ccz_pf_opts o = CCZ_PF_OPTS_INIT;
    o.bound_path = bound_path;
    ccz_pf *pf;
    CCZ_GUARD(ccz_pf_open_path(&pf, path, key, &o));
    uint64_t size = ccz_pf_size(pf);
    ccz_buf b;
    ccz_buf_init(&b, CCZ_ML_MAX_MODEL, true); /* the plaintext model: wiped when freed */
    ccz_status st =
        size > CCZ_ML_MAX_MODEL
            ? ccz_fail(CCZ_ERR_TOO_LARGE, "ml: %s holds %llu bytes; a model is at most %u", path,
                       (unsigned long long)size, CCZ_ML_MAX_MODEL)
            : ccz_buf_reserve(&b, size ? (size_t)size : 1);
    size_t got = 0;
    if (st == CCZ_OK)
        st = ccz_pf_read(pf, b.ptr, &got, 0, (size_t)size);
    ccz_status closed = ccz_pf_close(pf);
    if (st == CCZ_OK)
        st = closed;
    if (st == CCZ_OK) {
        b.len = got;
        st = ccz_ml_model_load(out, ccz_buf_span(&b));
    }
    ccz_buf_free(&b);
    return st;
}

void ccz_ml_model_free(ccz_ml_model *m)
{
    if (!m)
        return;
    for (size_t i = 0; m->values && i < m->n_values; i++) {
        free(m->values[i].name);
        free(m->values[i].data);
        free(m->values[i].data_t);
        free(m->values[i].ints);
    }
    for (size_t i = 0; m->nodes && i < m->n_nodes; i++) {
        ml_node *n = &m->nodes[i];
        free(n->coef);
        free(n->icpt);
        free(n->labels);
    }
    if (m->ws) {
        pthread_mutex_destroy(&m->ws->mu);
        free(m->ws->ptr);
        free(m->ws);
    }
    free(m->values);
    free(m->nodes);
    free(m->inputs);
    free(m->outputs);
    free(m);
}

size_t ccz_ml_input_count(const ccz_ml_model *m)
{
    return m ? m->n_inputs : 0;
}

size_t ccz_ml_output_count(const ccz_ml_model *m)
{
    return m ? m->n_outputs : 0;
}

static void info_fill(const ml_value *v, ccz_ml_tensor_info *out)
{
    memset(out, 0, sizeof *out);
    out->name = v->name;
    out->rank = v->rank;
    memcpy(out->dims, v->dims, sizeof out->dims);
    out->dims[0] = -1;
    out->row_elems = v->elems;
}

ccz_status ccz_ml_input_info(const ccz_ml_model *m, size_t i, ccz_ml_tensor_info *out)
{
    CCZ_ENSURE(m && out && i < m->n_inputs, CCZ_ERR_INVALID_ARGUMENT, "ml: no input %zu", i);
    info_fill(&m->values[m->inputs[i]], out);
    return CCZ_OK;
}

ccz_status ccz_ml_output_info(const ccz_ml_model *m, size_t i, ccz_ml_tensor_info *out)
{
    CCZ_ENSURE(m && out && i < m->n_outputs, CCZ_ERR_INVALID_ARGUMENT, "ml: no output %zu", i);
    info_fill(&m->values[m->outputs[i]], out);
    return CCZ_OK;
}
