/* SPDX-License-Identifier: Apache-2.0 */
#include <stdlib.h>

#include "core/pb.h"

typedef struct {
    bool failed;
} noting;

/* malloc, noting a failure; free stays the system's, which frees the message later */
static void *noting_alloc(void *data, size_t size)
{
    void *p = malloc(size);
    if (!p)
        ((noting *)data)->failed = true;
    return p;
}

static void noting_free(void *data, void *p)
{
    (void)data;
    free(p);
}

ProtobufCMessage *ccz_pb_unpack(ccz_status *st, const ProtobufCMessageDescriptor *d, ccz_span bytes,
                                const char *what)
{
    noting n = {false};
    ProtobufCAllocator a = {noting_alloc, noting_free, &n};
    ProtobufCMessage *m = protobuf_c_message_unpack(d, &a, bytes.len, bytes.ptr);
    *st = m          ? CCZ_OK
          : n.failed ? ccz_fail(CCZ_ERR_NOMEM, "out of memory")
                     : ccz_fail(CCZ_ERR_MALFORMED, "%s", what);
    return m;
}
