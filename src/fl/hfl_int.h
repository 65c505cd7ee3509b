/* SPDX-License-Identifier: Apache-2.0 */
/* Internal to ccz fl: one chunk of a streamed update (include/ccz/hfl.h, ccz_hfl_stream_chunk)
 * as the RPC layer unpacked it, for the aggregator's PushUpdateStream
 * (src/svc/fl/hfl_service.c). */
#ifndef CCZ_HFL_INT_H
#define CCZ_HFL_INT_H

#include "ccz/hfl.h"
#include "fl.pb-c.h"

/* ccz_hfl_stream_chunk without the unpacking. */
ccz_status hfl_stream_apply(ccz_hfl_stream *st, float *values, const Cczfl__UpdateChunk *m);

#endif
