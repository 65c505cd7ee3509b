/* SPDX-License-Identifier: Apache-2.0 */
/* Private to libccz (prefix psi_ecdh_): the wire format of two-party ECDH PSI. Every message is
 * a frame, type u8 | length u32le | body; the parsers read bodies from the peer (untrusted)
 * through the core cursor and check every count against the caller's limits.
 *
 *   HELLO  (1)  magic "CZPE" | version u16le | flags u8 (bit 0: size only) | items u64le
 *   POINTS (2)  count u32le (1..CCZ_PSI_ECDH_BATCH_MAX) | count x 32-byte ristretto255 points
 *   TAGS   (3)  count u32le (1..CCZ_PSI_ECDH_BATCH_MAX) | count x 16-byte tags
 *   DONE   (4)  empty: the client got everything
 *   ABORT  (5)  reason: at most 256 bytes of text, for the peer's error message
 */
#ifndef CCZ_SRC_PSI_ECDH_H
#define CCZ_SRC_PSI_ECDH_H

#include "ccz/psi.h"

#define PSI_ECDH_MAGIC "CZPE"
#define PSI_ECDH_POINT_BYTES 32u
#define PSI_ECDH_TAG_BYTES 16u
#define PSI_ECDH_FRAME_HEADER 5u
#define PSI_ECDH_FLAG_SIZE_ONLY 0x01u
#define PSI_ECDH_ABORT_MAX 256u
/* The largest body: a full batch of points. */
#define PSI_ECDH_BODY_MAX (4u + CCZ_PSI_ECDH_BATCH_MAX * PSI_ECDH_POINT_BYTES)

enum {
    PSI_ECDH_HELLO = 1,
    PSI_ECDH_POINTS = 2,
    PSI_ECDH_TAGS = 3,
    PSI_ECDH_DONE = 4,
    PSI_ECDH_ABORT = 5,
};

typedef struct {
    uint16_t version;
    bool size_only;
    uint64_t items;
} psi_ecdh_hello;

/* A frame header: its type and body length (at most PSI_ECDH_BODY_MAX, else
 * CCZ_ERR_TOO_LARGE; an unknown type is CCZ_ERR_PROTOCOL). */
CCZ_NODISCARD ccz_status psi_ecdh_parse_header(uint8_t *type, uint32_t *len,
                                               const uint8_t h[PSI_ECDH_FRAME_HEADER]);
/* A HELLO body: the magic, a known version (else CCZ_ERR_UNSUPPORTED_VERSION), no unknown flag,
 * items at most max_items (else CCZ_ERR_TOO_LARGE). */
CCZ_NODISCARD ccz_status psi_ecdh_parse_hello(psi_ecdh_hello *out, ccz_span body,
                                              uint64_t max_items);
/* A POINTS or TAGS body (elem: 32 or 16 bytes): count in 1..CCZ_PSI_ECDH_BATCH_MAX and at most
 * `left` (what the peer announced and has not sent yet), then exactly count elements, borrowed
 * in *elems. */
CCZ_NODISCARD ccz_status psi_ecdh_parse_batch(uint32_t *count, ccz_span *elems, ccz_span body,
                                              size_t elem, uint64_t left);
/* An ABORT body as printable text (other bytes become '?'), cut to fit cap with its NUL. */
void psi_ecdh_parse_abort(char *out, size_t cap, ccz_span body);

/* Appends a frame to out. */
CCZ_NODISCARD ccz_status psi_ecdh_put_hello(ccz_buf *out, const psi_ecdh_hello *h);
CCZ_NODISCARD ccz_status psi_ecdh_put_header(ccz_buf *out, uint8_t type, uint32_t len);

#endif
