/* SPDX-License-Identifier: Apache-2.0 */
/* ccz psi: private set intersection. The TEE PSI service is CCZoo's N-party PSI (package psi,
 * proto/psi.proto) on ccz's RA-gRPC: data providers attest the server, upload their sets into
 * it and get back the items every party has. Everything from the network is untrusted. */
#ifndef CCZ_PSI_H
#define CCZ_PSI_H

#include <stdio.h>

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

#ifdef __cplusplus
}
#endif
#endif
