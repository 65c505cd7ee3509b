/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: two parties' DataUploadRequest messages as a TEE PSI session receives them
 * (protobuf-c unpacking, the item checks), through the set table, with the intersection
 * checked against a plain pairwise comparison of the accepted items: a wrong result aborts.
 * Input: 2 bytes (big-endian) of party 0's message length, party 0's message, party 1's. */
#include <stdlib.h>
#include <string.h>

#include "ccz/ccz.h"
#include "psi.pb-c.h"
#include "svc/psi/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ITEMS 512

static size_t accepted(const Psi__DataUploadRequest *r, const ProtobufCBinaryData **out)
{
    size_t n = 0;
    for (size_t i = 0; r && i < r->n_input_data && n < MAX_ITEMS; i++)
        if (r->input_data[i].len <= PSI_MAX_ITEM &&
            psi_utf8_ok(r->input_data[i].data, r->input_data[i].len))
            out[n++] = &r->input_data[i];
    return n;
}

static bool same(const ProtobufCBinaryData *a, const uint8_t *p, size_t len)
{
    return a->len == len && (!len || !memcmp(a->data, p, len));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t cut = (size_t)data[0] << 8 | data[1];
    if (cut > size - 2)
        cut = size - 2;
    Psi__DataUploadRequest *r[2] = {
        psi__data_upload_request__unpack(NULL, cut, data + 2),
        psi__data_upload_request__unpack(NULL, size - 2 - cut, data + 2 + cut)};
    static const ProtobufCBinaryData *items[2][MAX_ITEMS];
    size_t n[2] = {accepted(r[0], items[0]), accepted(r[1], items[1])};
    psi_table t;
    if (psi_table_init(&t) != CCZ_OK)
        abort();
    for (unsigned p = 0; p < 2; p++)
        for (size_t i = 0; i < n[p]; i++)
            if (psi_table_add(&t, p, items[p][i]->data, items[p][i]->len) != CCZ_OK)
                abort();
    psi_result res;
    if (psi_table_intersect(&res, &t, 3) != CCZ_OK)
        abort();
    /* every result item is in both sets, appears once, in order; every common item is there */
    size_t off = 0, count = 0;
    ccz_span it, prev = {NULL, 0};
    while (psi_result_next(&res, &off, &it)) {
        bool in[2] = {false, false};
        for (unsigned p = 0; p < 2; p++)
            for (size_t i = 0; i < n[p] && !in[p]; i++)
                in[p] = same(items[p][i], it.ptr, it.len);
        if (!in[0] || !in[1])
            abort();
        if (count) {
            size_t m = prev.len < it.len ? prev.len : it.len;
            int c = m ? memcmp(prev.ptr, it.ptr, m) : 0;
            if (c > 0 || (c == 0 && prev.len >= it.len))
                abort();
        }
        prev = it;
        count++;
    }
    size_t common = 0;
    for (size_t i = 0; i < n[0]; i++) {
        bool dup = false, in1 = false;
        for (size_t j = 0; j < i && !dup; j++)
            dup = same(items[0][j], items[0][i]->data, items[0][i]->len);
        for (size_t j = 0; j < n[1] && !in1 && !dup; j++)
            in1 = same(items[1][j], items[0][i]->data, items[0][i]->len);
        common += !dup && in1;
    }
    if (common != count || res.n != count)
        abort();
    ccz_buf_free(&res.data);
    psi_table_free(&t);
    for (unsigned p = 0; p < 2; p++)
        if (r[p])
            psi__data_upload_request__free_unpacked(r[p], NULL);
    ccz_error_clear();
    return 0;
}
