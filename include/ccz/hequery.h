/* SPDX-License-Identifier: Apache-2.0 */
/* ccz hequery: a key-value lookup in which the server sees neither the key asked for nor the
 * answer: Intel HE toolkit's secure-query sample (BFV, N = 8192, t = 17) on ccz's lattice engine,
 * served over RA-gRPC (proto/he_query.proto). The client encrypts the key's 16 nibbles (two per
 * character, 8 characters) under its own key pair and sends them with its public and
 * relinearization keys; the server compares them with every database key under encryption and
 * returns the sum of (match mask x value), which decrypts to the value of the matching entry or
 * to nothing. Three algorithms answer: the sample's own (faithful), a faster one with the same
 * parameters and the same answer (fast), and one that packs entries into slots (packed, N =
 * 16384, t = 65537). docs/he-solutions.md has the details. Everything from the network is
 * untrusted; the database file is the operator's. */
#ifndef CCZ_HEQUERY_H
#define CCZ_HEQUERY_H

#include <stdio.h>

#include "ccz/core.h"
#include "ccz/lattice.h"
#include "ccz/rpc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Keys are compared on their first 8 bytes: a longer key (in the database or asked for) is cut
 * to 8 bytes, a shorter one padded with zero nibbles, as the sample does. */
#define CCZ_HEQ_KEY_BYTES 8
#define CCZ_HEQ_KEY_CTS (2 * CCZ_HEQ_KEY_BYTES) /* one ciphertext per nibble */
#define CCZ_HEQ_MAX_VALUE 256                   /* bytes of a value */
#define CCZ_HEQ_MAX_ENTRIES 65536

typedef enum {
    CCZ_HEQ_FAITHFUL = 1, /* the sample: the database encrypted under the client's key, per
                           * entry 16 masks (k - q)^16 as products of 16 copies, the 17 factors
                           * multiplied as SEAL's multiply_many does, a relinearization after
                           * every product */
    CCZ_HEQ_FAST = 2,     /* the same parameters, query and answer: masks shared by the entries
                           * that have the same nibble (repeated squaring, or the 16 powers of
                           * the query nibble and a linear combination), a product tree shared by
                           * entries with common key parts, the database as plaintext operands,
                           * modulus switching as the noise budget allows, one relinearization
                           * of the sum, the work on the thread pool */
    CCZ_HEQ_PACKED = 3    /* N = 16384, t = 65537 (batching): entries in slots, masks by the
                           * product (j^2 - d^2) over j = 1..15, one ciphertext per 16384 / chunks
                           * entries; the answer's slots are summed by the client */
} ccz_heq_algorithm;

/* "faithful", "fast", "packed" ("?" for anything else). */
CCZ_API const char *ccz_heq_algorithm_name(ccz_heq_algorithm a);
CCZ_API CCZ_NODISCARD ccz_status ccz_heq_algorithm_parse(ccz_heq_algorithm *out, const char *name);
/* The lattice parameters an algorithm runs with: BFV, SEAL's default chain, N = 8192 and
 * t = 17 (faithful, fast), N = 16384 and t = 65537 (packed). */
CCZ_API CCZ_NODISCARD ccz_status ccz_heq_params(ccz_lattice_params *out, ccz_heq_algorithm a);

/* ---- the database ------------------------------------------------------------------------------
 * CSV as the sample reads it: one "key,value" a line, the key up to the first comma and the
 * value the rest (no quoting); a trailing CR and empty lines are dropped. Keys are cut to 8
 * bytes and must then be unique; neither keys nor values may hold a NUL byte, a key is not
 * empty, a value is at most CCZ_HEQ_MAX_VALUE bytes, at most CCZ_HEQ_MAX_ENTRIES lines. Errors
 * name the line. */
typedef struct ccz_heq_db ccz_heq_db;

CCZ_API CCZ_NODISCARD ccz_status ccz_heq_db_parse(ccz_heq_db **out, ccz_span csv);
CCZ_API CCZ_NODISCARD ccz_status ccz_heq_db_load(ccz_heq_db **out, const char *path);
CCZ_API void ccz_heq_db_free(ccz_heq_db *db);
CCZ_API size_t ccz_heq_db_size(const ccz_heq_db *db);
/* Entry i: its key (cut to 8 bytes) and value, borrowed from db. */
CCZ_API void ccz_heq_db_entry(ccz_span *key, ccz_span *value, const ccz_heq_db *db, size_t i);
/* The plaintext lookup (the reference the tests hold the encrypted one to): whether the key, cut
 * to 8 bytes, is in db; *value borrowed. */
CCZ_API bool ccz_heq_db_find(ccz_span *value, const ccz_heq_db *db, ccz_span key);

/* ---- the client --------------------------------------------------------------------------------
 * A key pair for one algorithm's parameters; the secret key never leaves the client. */
typedef struct ccz_heq_client ccz_heq_client;

/* A query as it goes on the wire: ccz's serialization of the parameters, public key,
 * relinearization keys and the 16 nibble ciphertexts (high nibble first, character by
 * character; constant polynomials, zero beyond the key's end). */
typedef struct {
    ccz_heq_algorithm algorithm;
    ccz_buf params, public_key, relin_keys;
    ccz_buf key[CCZ_HEQ_KEY_CTS];
} ccz_heq_query;

CCZ_API CCZ_NODISCARD ccz_status ccz_heq_client_new(ccz_heq_client **out, ccz_heq_algorithm a);
CCZ_API void ccz_heq_client_free(ccz_heq_client *c);
/* Encrypts key (1 or more bytes; cut to 8) into q (initialized here; free with
 * ccz_heq_query_free). */
CCZ_API CCZ_NODISCARD ccz_status ccz_heq_client_query(ccz_heq_query *q, const ccz_heq_client *c,
                                                      ccz_span key);
CCZ_API void ccz_heq_query_free(ccz_heq_query *q);
/* Decrypts an answer (ccz_heq_server_answer's or the service's) into value (appended: empty
 * when no entry matched) and the answer's noise budget in bits (0: the answer cannot be
 * trusted, and the call fails CCZ_ERR_CRYPTO). block and chunks: the packed layout, from the
 * answer (0 for the other algorithms). A value that is not what an answer can be (a nonzero
 * nibble after the end, a packed slot sum with bytes after a NUL) is CCZ_ERR_MALFORMED. */
CCZ_API CCZ_NODISCARD ccz_status ccz_heq_client_decode(ccz_buf *value, int *noise_budget,
                                                       const ccz_heq_client *c, ccz_span answer,
                                                       unsigned block, unsigned chunks);

/* ---- the server --------------------------------------------------------------------------------*/

typedef struct ccz_heq_server ccz_heq_server;

#define CCZ_HEQ_SERVER_OPTS_VERSION 1
typedef struct {
    unsigned version;
    const ccz_heq_db *db; /* borrowed; must outlive the server */
    unsigned threads;     /* for each answer (0: one per CPU) */
} ccz_heq_server_opts;
#define CCZ_HEQ_SERVER_OPTS_INIT                                                                   \
    {                                                                                              \
        CCZ_HEQ_SERVER_OPTS_VERSION, NULL, 0                                                       \
    }

/* A query as the server receives it: spans into the request. */
typedef struct {
    ccz_heq_algorithm algorithm;
    ccz_span params, public_key, relin_keys;
    const ccz_span *key;
    size_t n_key;
    /* NULL, or asked before each step of the search (from the answer's threads, at once): false
     * abandons the answer (CCZ_ERR_UNAVAILABLE), as when its client stopped waiting */
    bool (*wanted)(void *arg);
    void *wanted_arg;
} ccz_heq_query_view;

/* The view of a client's query for ccz_heq_server_answer in the same process (no wanted()):
 * keys, the caller's CCZ_HEQ_KEY_CTS spans, are set to q's key ciphertexts. The view points into
 * q and keys: both must outlive it. */
CCZ_API ccz_heq_query_view ccz_heq_query_view_of(const ccz_heq_query *q,
                                                 ccz_span keys[CCZ_HEQ_KEY_CTS]);

typedef struct {
    ccz_buf value;         /* the answer: one ciphertext, ccz's serialization */
    unsigned block;        /* packed: slots per value chunk; 0 otherwise */
    unsigned chunks;       /* packed: 2-byte chunks per value; 0 otherwise */
    double load_seconds;   /* reading the keys and ciphertexts */
    double setup_seconds;  /* faithful: encrypting the database under the client's key */
    double search_seconds; /* the search, as the sample times it */
} ccz_heq_answer;

/* Prepares db for every algorithm (the fast one's shared masks and product tree, the contexts). */
CCZ_API CCZ_NODISCARD ccz_status ccz_heq_server_new(ccz_heq_server **out,
                                                    const ccz_heq_server_opts *o);
CCZ_API void ccz_heq_server_free(ccz_heq_server *s);
/* The lattice context of an algorithm (owned by the server; the packed one is made at the
 * first packed query: NULL before). */
CCZ_API const ccz_lattice_context *ccz_heq_server_context(const ccz_heq_server *s,
                                                          ccz_heq_algorithm a);
/* Answers a query (thread-safe: answers may run at once). Everything in q is checked first;
 * what is wrong with it (parameters, keys or ciphertexts of other parameters, truncated or
 * oversized objects, a wrong number of ciphertexts) is CCZ_ERR_INVALID_ARGUMENT or an input
 * status (CCZ_ERR_MALFORMED, CCZ_ERR_TRUNCATED, ...) with the detail naming the field. out is
 * initialized here; free its value with ccz_buf_free. */
CCZ_API CCZ_NODISCARD ccz_status ccz_heq_server_answer(ccz_heq_answer *out, ccz_heq_server *s,
                                                       const ccz_heq_query_view *q);

/* ---- the RA-gRPC service (ccz.hequery.HeQuery, proto/he_query.proto) -----------------------*/

typedef struct ccz_heq_service ccz_heq_service;

#define CCZ_HEQ_SERVICE_OPTS_VERSION 1
typedef struct {
    unsigned version;
    ccz_heq_server *server; /* borrowed */
    unsigned max_pending;   /* queries queued or running; more get RESOURCE_EXHAUSTED (0: 4) */
    FILE *log;              /* one line per query (no key material), NULL: none */
} ccz_heq_service_opts;
#define CCZ_HEQ_SERVICE_OPTS_INIT                                                                  \
    {                                                                                              \
        CCZ_HEQ_SERVICE_OPTS_VERSION, NULL, 0, NULL                                                \
    }

/* The largest request a query makes (packed: about 40 MiB), for the server's max_message. */
#define CCZ_HEQ_MAX_MESSAGE (64u << 20)

/* Registers the service on rpc; queries run one at a time on a worker thread (each on the
 * thread pool), answers are given from the loop. Free after the server's loop has ended. */
CCZ_API CCZ_NODISCARD ccz_status ccz_heq_service_new(ccz_heq_service **out, ccz_rpc_server *rpc,
                                                     const ccz_heq_service_opts *o);
CCZ_API void ccz_heq_service_free(ccz_heq_service *v);

#define CCZ_HEQ_LOOKUP_OPTS_VERSION 1
typedef struct {
    unsigned version;
    ccz_heq_algorithm algorithm; /* 0: fast */
    int64_t deadline_ms;         /* 0: none */
} ccz_heq_lookup_opts;
#define CCZ_HEQ_LOOKUP_OPTS_INIT                                                                   \
    {                                                                                              \
        CCZ_HEQ_LOOKUP_OPTS_VERSION, CCZ_HEQ_FAST, 0                                               \
    }

typedef struct {
    int code;          /* the call's gRPC status */
    char message[512]; /* its message */
    ccz_buf value;     /* the value found (empty: none); free with ccz_buf_free */
    int noise_budget;  /* bits left in the answer */
    double keygen_s, encrypt_s, call_s, decrypt_s;         /* the client's stages */
    double server_load_s, server_setup_s, server_search_s; /* the server's, as it reports them */
    size_t sent, received;                                 /* message bytes */
} ccz_heq_lookup_result;

/* One lookup on ch: a key pair for the algorithm, the query, the call, the answer decrypted.
 * CCZ_OK when the call completed (out->code says how; on OK out->value is the answer); an error
 * when it could not be made or the answer could not be decrypted. */
CCZ_API CCZ_NODISCARD ccz_status ccz_heq_lookup(ccz_heq_lookup_result *out, ccz_rpc_channel *ch,
                                                const ccz_heq_lookup_opts *o, ccz_span key);

#ifdef __cplusplus
}
#endif
#endif
