/* SPDX-License-Identifier: Apache-2.0 */
/* ccz psi: private set intersection. The TEE PSI service is CCZoo's N-party PSI (package psi,
 * proto/psi.proto) on ccz's RA-gRPC: data providers attest the server, upload their sets into
 * it and get back the items every party has. Two-party ECDH PSI needs no TEE: Diffie-Hellman
 * over ristretto255. Everything from the network is untrusted. */
#ifndef CCZ_PSI_H
#define CCZ_PSI_H

#include <stdio.h>

#include <openssl/ssl.h>

#include "ccz/core.h"
#include "ccz/rpc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- the TEE PSI service ----------------------------------------------------------------------
 * A session gathers `parties` parties: each calls RemoteAttestation, Connect (answered when the
 * last party has connected), DataUpload (the set, in one call or in chunks; answered when every
 * party has uploaded) and CalPsi or CalPsiStream (the intersection, sorted bytewise). A party is
 * its connection: the calls of one client channel. Sessions follow one another; a session
 * that waits timeout_ms for a party without progress ends, and every party still in it gets
 * DEADLINE_EXCEEDED naming the parties it waited for. docs/psi.md has the whole protocol. */

typedef struct ccz_psi_service ccz_psi_service;

#define CCZ_PSI_SERVICE_OPTS_VERSION 1
#define CCZ_PSI_MAX_PARTIES 64
#define CCZ_PSI_MAX_ITEM 4096 /* bytes */

typedef struct {
    unsigned version;    /* CCZ_PSI_SERVICE_OPTS_VERSION */
    unsigned parties;    /* per session, 2..CCZ_PSI_MAX_PARTIES */
    unsigned timeout_ms; /* the longest a session waits for a party to act (0: 5 min) */
    size_t max_memory;   /* bytes of set data a session may hold (0: 1 GiB) */
    FILE *log;           /* a line per party and session event (NULL: none); never items */
} ccz_psi_service_opts;

#define CCZ_PSI_SERVICE_OPTS_INIT                                                                  \
    {                                                                                              \
        CCZ_PSI_SERVICE_OPTS_VERSION, 0, 0, 0, NULL                                                \
    }

/* Registers psi.PSI's methods on an RPC server (before it runs). Free the service after the
 * server has stopped running and before the server is freed. */
CCZ_API CCZ_NODISCARD ccz_status ccz_psi_service_new(ccz_psi_service **out, ccz_rpc_server *rpc,
                                                     const ccz_psi_service_opts *o);
CCZ_API void ccz_psi_service_free(ccz_psi_service *p);

/* A party's side: the four calls in order over one channel. */
#define CCZ_PSI_JOIN_OPTS_VERSION 1
typedef struct {
    unsigned version;    /* CCZ_PSI_JOIN_OPTS_VERSION */
    const char *name;    /* the party's name in the session (client_name) */
    bool chief;          /* is_chief */
    unsigned parties;    /* client_num (0: the server's) */
    int64_t deadline_ms; /* for each call (0: none; the server's own timeout applies) */
    size_t chunk_bytes;  /* the most set bytes per DataUpload call (0: 1 MiB) */
    /* after each chunk: items uploaded so far, of total */
    void (*progress)(uint64_t done, uint64_t total, void *payload);
    /* each item of the intersection, sorted bytewise and unique, once the session is over */
    void (*on_item)(ccz_span item, void *payload);
    void *payload;
} ccz_psi_join_opts;

#define CCZ_PSI_JOIN_OPTS_INIT                                                                     \
    {                                                                                              \
        CCZ_PSI_JOIN_OPTS_VERSION, NULL, false, 0, 0, 0, NULL, NULL, NULL                          \
    }

typedef struct {
    int code;               /* the gRPC status the session ended with (0: OK) */
    const char *method;     /* the call that ended it ("Connect", ...) */
    char message[512];      /* grpc-message */
    size_t n_items;         /* the intersection's size */
    char parties[1024];     /* the server's list of the session's parties (ccz-psi-parties) */
    char server_reply[256]; /* RemoteAttestation's message */
} ccz_psi_join_result;

/* Joins a session with items (duplicates and order do not matter). CCZ_OK when every call
 * completed, whatever the session's status in out->code; an error when a call could not be
 * made. */
CCZ_API CCZ_NODISCARD ccz_status ccz_psi_join(ccz_rpc_channel *ch, const ccz_psi_join_opts *o,
                                              const ccz_span *items, size_t n,
                                              ccz_psi_join_result *out);

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
#define CCZ_PSI_SET_ITEM_MAX 65536u

/* A set of byte strings. Items are added in any order with duplicates; sealing sorts them
 * bytewise and drops the duplicates, after which they are indexed 0..size-1 in that order and
 * the set takes no more. Owns copies of its items. */
typedef struct ccz_psi_set ccz_psi_set;

CCZ_API CCZ_NODISCARD ccz_status ccz_psi_set_new(ccz_psi_set **out);
CCZ_API void ccz_psi_set_free(ccz_psi_set *s);
/* Copies one item (at most CCZ_PSI_SET_ITEM_MAX bytes; empty items are allowed here). */
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
