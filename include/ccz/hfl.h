/* SPDX-License-Identifier: Apache-2.0 */
/* ccz hfl: horizontal federated learning with an attested aggregator (proto/fl.proto,
 * docs/fl.md). The aggregator runs rounds over two-way RA-gRPC: clients admitted by policy on
 * their attested claims fetch the global model, train on their own data (include/ccz/mlp.h) and
 * upload their weights, which a strategy (FedAvg, FedProx, FedAdam) combines. Updates and
 * checkpoints are untrusted input: sizes are checked against the model's shape first. */
#ifndef CCZ_HFL_H
#define CCZ_HFL_H

#include <stdio.h>

#include "ccz/mlp.h"
#include "ccz/rpc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- tensors on the wire ---------------------------------------------------------------------*/

typedef enum { CCZ_HFL_F32 = 0, CCZ_HFL_F16 = 1 } ccz_hfl_dtype;

/* Decodes dim little-endian values of dtype from bytes: exactly dim values (the length is
 * checked before anything is read), each finite. CCZ_ERR_MALFORMED says what is wrong. */
CCZ_API CCZ_NODISCARD ccz_status ccz_hfl_tensor_decode(float *out, size_t dim, int dtype,
                                                       const uint8_t *bytes, size_t len);
/* Appends dim values as dtype (float16: rounded to nearest even, saturating to infinity). */
CCZ_API CCZ_NODISCARD ccz_status ccz_hfl_tensor_encode(ccz_buf *out, const float *v, size_t dim,
                                                       ccz_hfl_dtype dtype);

/* An update as the aggregator receives it (a serialized cczfl.Update): its round, weight and
 * loss, and its dim values decoded into values. The parser of the aggregator and the fuzz
 * target: a message of the wrong size or kind is CCZ_ERR_MALFORMED. */
typedef struct {
    uint32_t round;
    uint64_t examples;
    double loss;
} ccz_hfl_update;
#define CCZ_HFL_MAX_EXAMPLES 1000000000ull
CCZ_API CCZ_NODISCARD ccz_status ccz_hfl_update_parse(ccz_hfl_update *out, float *values,
                                                      size_t dim, const uint8_t *msg, size_t len);

/* ---- top-k sparse updates --------------------------------------------------------------------
 * A client may upload only the k changes from the round's global model that are largest in
 * magnitude (indices strictly increasing, values as dtype); the aggregator adds them to the
 * global model. Clients keep what they did not send and add it to the next round's changes
 * (error feedback), so no change is lost, only delayed. */

/* Picks the k entries of delta (dim finite floats) largest in magnitude (of equal ones, the lower
 * indices) into indices (increasing) and values, k each, allocated by the caller. 1 <= k <= dim
 * <= 2^32; CCZ_ERR_INVALID_ARGUMENT otherwise or for a value that is not finite. */
CCZ_API CCZ_NODISCARD ccz_status ccz_hfl_topk(uint32_t *indices, float *values, const float *delta,
                                              size_t dim, size_t k);
/* out (dim floats) = global, plus count values of dtype (in bytes, whose length is checked
 * against count first) at indices: count <= dim, indices strictly increasing and below dim,
 * every value and every sum finite. CCZ_ERR_MALFORMED says what is wrong (out is then partly
 * written). */
CCZ_API CCZ_NODISCARD ccz_status ccz_hfl_sparse_decode(float *out, const float *global, size_t dim,
                                                       const uint32_t *indices, size_t count,
                                                       int dtype, const uint8_t *bytes, size_t len);
/* ccz_hfl_update_parse for updates of either form: a sparse one is densified on global (the
 * round's model, dim floats); global NULL refuses sparse updates (CCZ_ERR_MALFORMED). A sparse
 * update must leave weights empty. */
CCZ_API CCZ_NODISCARD ccz_status ccz_hfl_update_parse_on(ccz_hfl_update *out, float *values,
                                                         size_t dim, const float *global,
                                                         const uint8_t *msg, size_t len);

/* ---- streamed updates ------------------------------------------------------------------------
 * PushUpdateStream (proto/fl.proto): a header (cczfl.UpdateHeader: round, examples, loss, dtype,
 * sparse and count, total bytes), then slices of the weights or of the sparse indices and
 * deltas, each decoded into values as it arrives. The header's total must be exactly the
 * model's size (dense) or count values (sparse) in dtype, every slice whole values that stay
 * within it, sparse indices strictly increasing across slices; the update is complete when the
 * total arrived. Nothing but values (dim floats, the caller's) is held. */
#define CCZ_HFL_CHUNK_MAX (4u << 20)     /* bytes of one slice, at most */
#define CCZ_HFL_CHUNK_DEFAULT (1u << 20) /* what clients send */
typedef struct {
    size_t dim;
    const float *global; /* the round's model (NULL: sparse updates refused) */
    ccz_hfl_update head;
    int dtype;
    bool started, sparse;
    size_t count;      /* sparse: indices announced */
    uint64_t total;    /* bytes of weights or deltas announced */
    uint64_t got;      /* bytes so far */
    size_t at;         /* values so far */
    uint32_t last;     /* sparse: the last index */
    unsigned messages; /* chunks so far */
} ccz_hfl_stream;

CCZ_API void ccz_hfl_stream_init(ccz_hfl_stream *st, size_t dim, const float *global);
/* One chunk (a serialized cczfl.UpdateChunk) decoded into values (dim floats; for a sparse
 * update the header copies global there first). CCZ_ERR_MALFORMED says what is wrong; the
 * stream is then to be abandoned. */
CCZ_API CCZ_NODISCARD ccz_status ccz_hfl_stream_chunk(ccz_hfl_stream *st, float *values,
                                                      const uint8_t *msg, size_t len);
/* The end of the stream: CCZ_ERR_MALFORMED unless the header and all its bytes arrived; *out
 * then has the header's round, examples and loss. */
CCZ_API CCZ_NODISCARD ccz_status ccz_hfl_stream_end(const ccz_hfl_stream *st, ccz_hfl_update *out);
/* A whole stream at once (the fuzz target's entry): chunks as gRPC frames (a 0 byte, a 4-byte
 * big-endian length, the message), then the end. */
CCZ_API CCZ_NODISCARD ccz_status ccz_hfl_update_stream_parse(ccz_hfl_update *out, float *values,
                                                             size_t dim, const float *global,
                                                             const uint8_t *bytes, size_t len);

/* ---- strategies ------------------------------------------------------------------------------
 * One interface: a strategy takes the global model of the round and the clients' models with
 * their weights (examples) and replaces the global model. FedAvg is the weighted mean (McMahan
 * et al.); FedProx aggregates as FedAvg, its clients add mu/2 |w - global|^2 to their loss (Li
 * et al.); FedAdam treats the mean's difference from the global model as a gradient for Adam on
 * the server (Reddi et al., "Adaptive Federated Optimization"); FedYogi is the same with Yogi's
 * second moment, v -= (1 - beta2) d^2 sign(v - d^2), which grows v more slowly (its v starts at
 * tau^2, as in the paper's algorithm). */
typedef enum {
    CCZ_HFL_FEDAVG = 0,
    CCZ_HFL_FEDPROX = 1,
    CCZ_HFL_FEDADAM = 2,
    CCZ_HFL_FEDYOGI = 3
} ccz_hfl_strategy_kind;
typedef struct ccz_hfl_strategy ccz_hfl_strategy;

/* "fedavg", "fedprox", "fedadam", "fedyogi" */
CCZ_API const char *ccz_hfl_strategy_name(ccz_hfl_strategy_kind k);
/* CCZ_ERR_INVALID_ARGUMENT for other names. */
CCZ_API CCZ_NODISCARD ccz_status ccz_hfl_strategy_parse(ccz_hfl_strategy_kind *out,
                                                        const char *name);

#define CCZ_HFL_STRATEGY_OPTS_VERSION 1
typedef struct {
    unsigned version;        /* CCZ_HFL_STRATEGY_OPTS_VERSION */
    float server_lr;         /* FedAdam's and FedYogi's step (0: 0.01) */
    float beta1, beta2, tau; /* FedAdam, FedYogi (0: 0.9, 0.99, 0.001) */
    unsigned threads;        /* 0: every core */
} ccz_hfl_strategy_opts;
#define CCZ_HFL_STRATEGY_OPTS_INIT                                                                 \
    {                                                                                              \
        CCZ_HFL_STRATEGY_OPTS_VERSION, 0, 0, 0, 0, 0                                               \
    }

CCZ_API CCZ_NODISCARD ccz_status ccz_hfl_strategy_new(ccz_hfl_strategy **out,
                                                      ccz_hfl_strategy_kind kind, size_t dim,
                                                      const ccz_hfl_strategy_opts *o);
CCZ_API void ccz_hfl_strategy_free(ccz_hfl_strategy *s);
CCZ_API ccz_hfl_strategy_kind ccz_hfl_strategy_kind_of(const ccz_hfl_strategy *s);
/* Replaces global (dim floats) from n >= 1 client models with positive weights. */
CCZ_API CCZ_NODISCARD ccz_status ccz_hfl_strategy_aggregate(ccz_hfl_strategy *s, float *global,
                                                            const float *const *models,
                                                            const double *weights, size_t n);
/* The weighted mean alone: out[i] = sum_k weights[k] models[k][i] / sum_k weights[k], summed in
 * double precision, split over threads (0: every core). */
CCZ_API CCZ_NODISCARD ccz_status ccz_hfl_fedavg(float *out, const float *const *models,
                                                const double *weights, size_t n, size_t dim,
                                                unsigned threads);

/* ---- checkpoints -----------------------------------------------------------------------------
 * The global model after a round and the strategy's state, written atomically (a crash leaves
 * the previous one). A checkpoint is read back only for the same strategy and model size. */
CCZ_API CCZ_NODISCARD ccz_status ccz_hfl_checkpoint_write(const char *path, unsigned round,
                                                          const ccz_hfl_strategy *s,
                                                          const float *global, size_t dim);
/* Parses checkpoint bytes: *round and global (dim floats) and the strategy's state.
 * CCZ_ERR_MALFORMED when they are not a checkpoint of this strategy and size. */
CCZ_API CCZ_NODISCARD ccz_status ccz_hfl_checkpoint_parse(unsigned *round, ccz_hfl_strategy *s,
                                                          float *global, size_t dim,
                                                          ccz_span bytes);

/* ---- the aggregator (cczfl.Aggregator over RA-gRPC) ------------------------------------------
 * Rounds open when at least min_clients clients wait for the model (and every active client
 * does, or gather_ms passed since the first; the first round after a start always waits
 * gather_ms); every waiting client takes part, or clients_per_round of them. A round closes
 * when all its participants uploaded, or at its deadline with those that did (stragglers are
 * dropped; their late updates refused); a round without any update is opened again. After each
 * round the global model is evaluated on the test set and checkpointed. Clients are admitted by
 * the RA-TLS policy before any call and known by name; one that reconnects rejoins under its
 * name. Runs on the RPC server's loop. */

#define CCZ_HFL_MAX_CLIENTS 256
#define CCZ_HFL_NAME_MAX 64

typedef struct {
    unsigned round, rounds;
    unsigned participants, received;
    char names[1024];   /* the participants that uploaded, comma-separated */
    char dropped[1024]; /* those that did not before the deadline */
    double train_loss;  /* weighted mean of the clients' losses */
    double acc, loss;   /* on the test set (-1: none) */
    double seconds;     /* from the round's opening */
} ccz_hfl_round;

typedef struct {
    bool over;
    int code; /* 0: trained */
    char message[512];
    unsigned rounds_done;
    double acc, loss; /* after the last round (-1: no test set) */
    const float *weights;
    size_t dim;
} ccz_hfl_status;

#define CCZ_HFL_SERVICE_OPTS_VERSION 1
typedef struct {
    unsigned version;  /* CCZ_HFL_SERVICE_OPTS_VERSION */
    const char *model; /* "mlp" or "lr": a name for the plan */
    ccz_mlp_shape shape;
    unsigned rounds;      /* 1..100000 */
    unsigned min_clients; /* 1..CCZ_HFL_MAX_CLIENTS (2.. with secure_agg) */
    unsigned max_clients; /* 0: CCZ_HFL_MAX_CLIENTS */
    ccz_hfl_strategy_kind strategy;
    ccz_hfl_strategy_opts strategy_opts;
    float mu; /* FedProx (0: 0.01) */
    /* the clients' plan */
    unsigned epochs, batch; /* 0: 1 and 32 */
    float lr;               /* 0: the optimizer's default */
    ccz_mlp_optimizer optimizer;
    unsigned round_timeout_ms; /* a round's deadline (0: 120 s) */
    unsigned gather_ms;        /* 0: 2000 */
    const ccz_mlp_data *test;  /* borrowed; NULL: none */
    const char *checkpoint;    /* resumed from when it exists, written after each round */
    uint64_t seed;             /* of the initial model */
    unsigned threads;
    FILE *log;
    void (*on_round)(const ccz_hfl_round *r, void *payload);
    void (*on_over)(const ccz_hfl_status *st, void *payload);
    void *payload;
    /* Secure aggregation (Bonawitz et al.; include/ccz/secagg.h): the aggregator sees only the
     * survivors' weighted sum, unmasked with t = n/2 + 1 of their shares; every phase of a
     * round has round_timeout_ms. At most 255 participants a round. */
    bool secure_agg;
    /* Sees each masked update as it arrives (little-endian 32-bit words; tests, audits). */
    void (*on_masked)(const char *name, const uint8_t *words_le, size_t dim, void *payload);
    /* Client selection: at most this many of the waiting clients take part in a round, drawn
     * uniformly at random (OpenSSL's RAND); the others wait for a later round. 0: all. */
    unsigned clients_per_round;
} ccz_hfl_service_opts;
#define CCZ_HFL_SERVICE_OPTS_INIT                                                                  \
    {                                                                                              \
        CCZ_HFL_SERVICE_OPTS_VERSION, NULL, {0, {0}}, 0, 0, 0, CCZ_HFL_FEDAVG,                     \
            CCZ_HFL_STRATEGY_OPTS_INIT, 0, 0, 0, 0, CCZ_MLP_SGD, 0, 0, NULL, NULL, 0, 0, NULL,     \
            NULL, NULL, NULL, false, NULL, 0                                                       \
    }

typedef struct ccz_hfl_service ccz_hfl_service;
/* Registers cczfl.Aggregator on rpc (before it runs), resuming from the checkpoint when one
 * exists; the server's max_message must be at least ccz_hfl_max_message(shape). Free after the
 * server stopped, before it is freed. */
CCZ_API CCZ_NODISCARD ccz_status ccz_hfl_service_new(ccz_hfl_service **out, ccz_rpc_server *rpc,
                                                     const ccz_hfl_service_opts *o);
CCZ_API void ccz_hfl_service_free(ccz_hfl_service *v);
CCZ_API const ccz_hfl_status *ccz_hfl_service_status(const ccz_hfl_service *v);
/* The largest request the aggregator needs for a model of dim parameters: an update in float32
 * and its fields. Servers set max_message to it, so no larger update is ever buffered. */
CCZ_API size_t ccz_hfl_max_message(size_t dim);

/* ---- a client --------------------------------------------------------------------------------*/
#define CCZ_HFL_JOIN_OPTS_VERSION 1
typedef struct {
    unsigned version;  /* CCZ_HFL_JOIN_OPTS_VERSION */
    const char *name;  /* unique among the clients */
    const char *model; /* the model expected (NULL: any) */
    ccz_hfl_dtype dtype;
    unsigned threads;
    uint64_t seed;
    unsigned retry_ms;   /* how long to keep retrying an unreachable aggregator (0: 60 s) */
    int64_t deadline_ms; /* of a call (0: 30 min) */
    void (*progress)(unsigned round, unsigned rounds, double loss, double seconds, bool accepted,
                     const char *why, void *payload);
    void *payload;
    /* top-k sparse uploads with error feedback: 0 dense; below 1, that fraction of the model's
     * weights (rounded up); else that many. An upload that would not be smaller sparse is
     * sent dense. */
    double top_k;
    /* Testing: in round fault_round, a secure-aggregation client stops after sending its shares
     * (CCZ_HFL_FAULT_DROP, as a crash), uploads a truncated masked update
     * (CCZ_HFL_FAULT_TRUNCATE), advertises one key as both of its keys
     * (CCZ_HFL_FAULT_SAME_KEYS), asks to unmask before advertising its keys
     * (CCZ_HFL_FAULT_EARLY_UNMASK) or, without uploading, asks to unmask until the unmask phase
     * answers (CCZ_HFL_FAULT_UNMASK_UNUPLOADED): these three stop with the aggregator's answer;
     * or it gives its unmask shares 1.5 s late (CCZ_HFL_FAULT_LATE_UNMASK). */
    int fault;
    unsigned fault_round;
    /* Uploads go streamed (PushUpdateStream) in slices of at most chunk_bytes (0:
     * CCZ_HFL_CHUNK_DEFAULT; at most CCZ_HFL_CHUNK_MAX), or unary (PushUpdate) when unary is
     * set or the aggregator has no PushUpdateStream (UNIMPLEMENTED). */
    size_t chunk_bytes;
    bool unary;
} ccz_hfl_join_opts;
enum {
    CCZ_HFL_FAULT_NONE = 0,
    CCZ_HFL_FAULT_DROP = 1,
    CCZ_HFL_FAULT_TRUNCATE = 2,
    CCZ_HFL_FAULT_SAME_KEYS = 3,
    CCZ_HFL_FAULT_EARLY_UNMASK = 4,
    CCZ_HFL_FAULT_UNMASK_UNUPLOADED = 5,
    CCZ_HFL_FAULT_LATE_UNMASK = 6
};
#define CCZ_HFL_JOIN_OPTS_INIT                                                                     \
    {                                                                                              \
        CCZ_HFL_JOIN_OPTS_VERSION, NULL, NULL, CCZ_HFL_F32, 0, 0, 0, 0, NULL, NULL, 0, 0, 0, 0,    \
            false                                                                                  \
    }

typedef struct {
    int code; /* the gRPC status that ended the work (0: trained) */
    const char *method;
    char message[512];
    unsigned rounds;     /* rounds this client trained in */
    unsigned last_round; /* the aggregator's */
    double acc, loss;    /* the aggregator's figures at the end (-1: none) */
    size_t sent_values;  /* in the last upload: the model's size, or k when it was sparse */
    size_t model_values; /* the model's size */
    unsigned streamed;   /* updates accepted through PushUpdateStream */
} ccz_hfl_join_result;

/* Joins and trains on d until the aggregator says the training is over. CCZ_OK when it ran to
 * an answer (out->code); an error when the aggregator sent something malformed. */
CCZ_API CCZ_NODISCARD ccz_status ccz_hfl_join(ccz_rpc_channel *ch, const ccz_hfl_join_opts *o,
                                              const ccz_mlp_data *d, ccz_hfl_join_result *out);

/* One round's upload under secure aggregation, for a client that has the model w (dim floats)
 * it trained for round (GetModel's) with loss: AdvertiseKeys, ShareKeys, PushMasked and Unmask
 * (proto/fl.proto). ccz_hfl_join calls it when the plan says secure_agg; benchmarks and other
 * trainers call it alone. CCZ_OK when the calls ran (out->code: the first failure, 0: in);
 * an error when the aggregator or a peer sent something malformed. */
CCZ_API CCZ_NODISCARD ccz_status ccz_hfl_secagg_upload(ccz_rpc_channel *ch,
                                                       const ccz_hfl_join_opts *o, unsigned round,
                                                       const float *w, size_t dim, double loss,
                                                       ccz_hfl_join_result *out);

#ifdef __cplusplus
}
#endif
#endif
