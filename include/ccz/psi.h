/* SPDX-License-Identifier: Apache-2.0 */
/* ccz psi: private set intersection. Items are the caller's; everything a peer sends is
 * untrusted and read through the core cursor. */
#ifndef CCZ_PSI_H
#define CCZ_PSI_H

#include <openssl/ssl.h>

#include "ccz/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- two-party ECDH PSI ----------------------------------------------------------------------
 * Over ristretto255 (libsodium). The client C and the server S each hash their items to the
 * group and raise them to a fresh secret scalar (c, s); C sends H(y)^c, S returns H(y)^cs as
 * 16-byte tags (in order, or sorted when C asked for the size only), then S sends H(x)^s in a
 * random order and C raises them to c and looks the tags up. C learns the intersection (or its
 * size), S learns only |C|; both learn the other's set size. Semi-honest model: a side that
 * deviates from the protocol can learn more than this (docs/psi.md). */

#define CCZ_PSI_ECDH_VERSION 1
/* The largest set either side accepts from its peer by default. */
#define CCZ_PSI_ECDH_MAX_ITEMS (1ull << 28)
/* The most points (or tags) one message may carry, and the default batch. */
#define CCZ_PSI_ECDH_BATCH_MAX 16384u
#define CCZ_PSI_ECDH_BATCH_DEFAULT 4096u
/* The longest item a set takes (bytes). */
#define CCZ_PSI_ITEM_MAX 65536u

/* A set of byte strings. Items are added in any order with duplicates; sealing sorts them
 * bytewise and drops the duplicates, after which they are indexed 0..size-1 in that order and
 * the set takes no more. Owns copies of its items. */
typedef struct ccz_psi_set ccz_psi_set;

CCZ_API CCZ_NODISCARD ccz_status ccz_psi_set_new(ccz_psi_set **out);
CCZ_API void ccz_psi_set_free(ccz_psi_set *s);
/* Copies one item (at most CCZ_PSI_ITEM_MAX bytes; empty items are allowed here). */
CCZ_API CCZ_NODISCARD ccz_status ccz_psi_set_add(ccz_psi_set *s, ccz_span item);
/* Adds one item per line of text: a trailing "\r" is dropped and empty lines are ignored. */
CCZ_API CCZ_NODISCARD ccz_status ccz_psi_set_add_lines(ccz_psi_set *s, ccz_span text);
/* The same for a file, read in pieces (its size is not bounded by memory for the text). */
CCZ_API CCZ_NODISCARD ccz_status ccz_psi_set_add_file(ccz_psi_set *s, const char *path);
/* Sorts and removes duplicates; idempotent. */
CCZ_API CCZ_NODISCARD ccz_status ccz_psi_set_seal(ccz_psi_set *s);
/* The number of items (after sealing: unique items). */
CCZ_API size_t ccz_psi_set_size(const ccz_psi_set *s);
/* Item i of a sealed set, borrowed from the set. */
CCZ_API ccz_span ccz_psi_set_item(const ccz_psi_set *s, size_t i);

/* The byte stream between the sides: write sends all n bytes, read fills exactly n bytes (a
 * peer that closes first is CCZ_ERR_PROTOCOL or CCZ_ERR_NETWORK, with a detail). */
typedef struct {
    ccz_status (*write)(void *payload, const uint8_t *p, size_t n);
    ccz_status (*read)(void *payload, uint8_t *p, size_t n);
    void *payload;
} ccz_psi_io;

/* A stream over a connected TLS session (borrowed). Timeouts are the socket's (SO_RCVTIMEO,
 * SO_SNDTIMEO): a read or write that times out fails with CCZ_ERR_NETWORK. */
CCZ_API void ccz_psi_io_ssl(ccz_psi_io *io, SSL *ssl);

#define CCZ_PSI_ECDH_OPTS_VERSION 1

typedef struct {
    unsigned version;        /* CCZ_PSI_ECDH_OPTS_VERSION */
    bool size_only;          /* client: learn only the size of the intersection */
    unsigned threads;        /* threads for the group operations (0: one per CPU) */
    unsigned batch;          /* points per message, 1..CCZ_PSI_ECDH_BATCH_MAX (0: default) */
    uint64_t max_peer_items; /* the largest peer set accepted (0: CCZ_PSI_ECDH_MAX_ITEMS) */
} ccz_psi_ecdh_opts;

#define CCZ_PSI_ECDH_OPTS_INIT                                                                     \
    {                                                                                              \
        CCZ_PSI_ECDH_OPTS_VERSION, false, 0, 0, 0                                                  \
    }

/* What a run found and cost. Free with ccz_psi_ecdh_result_free. */
typedef struct {
    bool size_only;        /* the mode the client asked for */
    uint64_t local_items;  /* this side's unique items */
    uint64_t peer_items;   /* the peer's, as it announced */
    uint64_t intersection; /* client: the size of the intersection (server: 0) */
    uint64_t bytes_sent;   /* protocol bytes (inside TLS) */
    uint64_t bytes_received;
    size_t *indices; /* client in full mode: the set's items in the intersection, ascending
                        (so bytewise sorted), `intersection` of them; else NULL */
} ccz_psi_ecdh_result;

CCZ_API void ccz_psi_ecdh_result_free(ccz_psi_ecdh_result *r);

/* Runs the client side over io with the items of set (sealed here). On failure *out holds
 * what was counted so far and the detail says which step failed; an invalid point from the
 * peer is CCZ_ERR_MALFORMED, a message out of place CCZ_ERR_PROTOCOL, an unknown version
 * CCZ_ERR_UNSUPPORTED_VERSION, a count beyond the limits CCZ_ERR_TOO_LARGE. */
CCZ_API CCZ_NODISCARD ccz_status ccz_psi_ecdh_client(ccz_psi_ecdh_result *out, ccz_psi_set *set,
                                                     const ccz_psi_io *io,
                                                     const ccz_psi_ecdh_opts *o);
/* Runs the server side for one client; the set is sealed here (seal it first to share it
 * between threads, which may then run sessions on it at once). o->size_only is ignored: the
 * client chooses the mode. */
CCZ_API CCZ_NODISCARD ccz_status ccz_psi_ecdh_server(ccz_psi_ecdh_result *out, ccz_psi_set *set,
                                                     const ccz_psi_io *io,
                                                     const ccz_psi_ecdh_opts *o);

/* An ordinary TLS 1.3 context with a fresh self-signed P-256 certificate that verifies no peer:
 * it keeps the protocol from eavesdroppers but authenticates no one (use RA-TLS contexts,
 * ccz/ratls.h, for that). The caller owns *out. */
CCZ_API CCZ_NODISCARD ccz_status ccz_psi_tls_ctx_new_insecure(SSL_CTX **out, bool server);

#ifdef __cplusplus
}
#endif
#endif
