/* SPDX-License-Identifier: Apache-2.0 */
/* protobuf-c messages unpacked with ccz's allocations, so that memory's failure is told from the
 * bytes': protobuf-c's own unpack returns NULL for both. */
#ifndef CCZ_CORE_PB_H
#define CCZ_CORE_PB_H

#include <protobuf-c/protobuf-c.h>

#include "ccz/core.h"

/* d's message from bytes, or NULL with *st CCZ_ERR_NOMEM ("out of memory") or CCZ_ERR_MALFORMED
 * (the message `what`, e.g. "the update is not a cczfl.Update message"). The message is freed
 * with protobuf_c_message_free_unpacked(m, NULL) (or the type's __free_unpacked). */
ProtobufCMessage *ccz_pb_unpack(ccz_status *st, const ProtobufCMessageDescriptor *d, ccz_span bytes,
                                const char *what);

#endif
