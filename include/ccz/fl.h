/* SPDX-License-Identifier: Apache-2.0 */
/* ccz fl: federated learning on Paillier and RA-gRPC. Homomorphic logistic regression is
 * CCZoo's (cczoo/phe_homo_lr, package homolr, proto/homo_lr.proto): workers train on their own
 * rows with the model encrypted under the parameter server's Paillier key; the server, in a TEE,
 * averages their encrypted weights, decrypts and encrypts them afresh. Keys, ciphertexts and
 * messages from peers are untrusted and checked. docs/fl.md has the algorithm and the protocol. */
#ifndef CCZ_FL_H
#define CCZ_FL_H

#include <stdio.h>

#include "ccz/ml.h"
#include "ccz/paillier.h"
#include "ccz/rpc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- the algorithm ---------------------------------------------------------------------------
 * Every scalar is a double encoded exactly (python-paillier's encoding, trailing zero hex digits
 * dropped), so sums and products of encrypted numbers are exact and the only rounding is the
 * server's decryption to doubles before it encrypts them afresh. */

/* The largest |exponent| an encrypted weight from a peer may carry. */
#define CCZ_FL_HLR_MAX_EXPONENT 1024

typedef struct ccz_fl_hlr_worker ccz_fl_hlr_worker;

#define CCZ_FL_HLR_OPTS_VERSION 1
typedef struct {
    unsigned version;     /* CCZ_FL_HLR_OPTS_VERSION */
    double alpha;         /* L2 weight (0: CCZoo's 0.01) */
    double learning_rate; /* step t uses learning_rate / sqrt(1 + t) (0: CCZoo's 0.15) */
    unsigned threads;     /* for the encrypted products (0: every core) */
} ccz_fl_hlr_opts;
#define CCZ_FL_HLR_OPTS_INIT                                                                       \
    {                                                                                              \
        CCZ_FL_HLR_OPTS_VERSION, 0, 0, 0                                                           \
    }

/* A worker of the data set d under the server's public key pk (both borrowed; they must outlive
 * the worker): its rows behind a bias column, encoded once. */
CCZ_API CCZ_NODISCARD ccz_status ccz_fl_hlr_worker_new(ccz_fl_hlr_worker **out,
                                                       const ccz_paillier_pub *pk,
                                                       const ccz_ml_dataset *d,
                                                       const ccz_fl_hlr_opts *o);
CCZ_API void ccz_fl_hlr_worker_free(ccz_fl_hlr_worker *w);
/* The model's size: the features and the bias. */
CCZ_API size_t ccz_fl_hlr_worker_dim(const ccz_fl_hlr_worker *w);
/* The initial weights, Enc(1) each (CCZoo's). w holds dim initialised numbers. */
CCZ_API CCZ_NODISCARD ccz_status ccz_fl_hlr_initial(ccz_paillier_number *w,
                                                    const ccz_fl_hlr_worker *wk);
/* Step t on the encrypted weights: z = Enc(w) . x per row, the Taylor sigmoid 0.5 + 0.25 z,
 * the gradient X^T (sigmoid - y) * (1 / rows) + alpha w, and w - lr_t gradient, all on
 * ciphertexts. out and in hold dim numbers each (they may be the same array). */
CCZ_API CCZ_NODISCARD ccz_status ccz_fl_hlr_step(ccz_fl_hlr_worker *wk, ccz_paillier_number *out,
                                                 const ccz_paillier_number *in, unsigned t);

/* The server's part: the average of `workers` encrypted weight vectors of dim numbers
 * (in[k][i]: worker k's weight i), times the double 1 / workers, decrypted into plain (doubles)
 * and encrypted afresh into out. A weight whose average overflowed or is not a finite double
 * fails with CCZ_ERR_OVERFLOW naming it. */
CCZ_API CCZ_NODISCARD ccz_status ccz_fl_hlr_aggregate(ccz_paillier_number *out, double *plain,
                                                      const ccz_paillier_key *key,
                                                      const ccz_paillier_number *const *in,
                                                      size_t workers, size_t dim, unsigned threads);

/* Encrypted weights as sent on the wire (homolr.EncryptedVector: ciphertexts big-endian,
 * exponents), checked against the key: dim values, each ciphertext in [1, n^2) and prime to n,
 * |exponent| <= CCZ_FL_HLR_MAX_EXPONENT. CCZ_ERR_MALFORMED names the value that is wrong. out
 * holds dim initialised numbers. */
CCZ_API CCZ_NODISCARD ccz_status ccz_fl_hlr_weights_parse(ccz_paillier_number *out, size_t dim,
                                                          const ccz_paillier_pub *pk,
                                                          const uint8_t *msg, size_t len);
/* Appends the message of dim encrypted weights. */
CCZ_API CCZ_NODISCARD ccz_status ccz_fl_hlr_weights_write(ccz_buf *out,
                                                          const ccz_paillier_number *w, size_t dim);

/* ---- the service (homolr.Host over RA-gRPC) ---------------------------------------------------
 * The parameter server holds the Paillier key. Each worker calls GetPubKey (the key and the
 * plan: iterations, features, alpha, learning rate), then per iteration AggregateModel with its
 * encrypted weights, answered when every worker's are in: their average, decrypted and encrypted
 * afresh inside the server. Validation on the server's test set follows every validate_every-th
 * iteration (and the last); Validate returns the latest figures; Finish ends a worker's part. A
 * worker is its connection (the calls of one channel); two-way RA-TLS admits it by policy before
 * any call. Training that waits timeout_ms without progress, a worker that leaves while the
 * others wait, or weights that overflow end it for everyone with a message saying which. */

typedef struct ccz_fl_hlr_service ccz_fl_hlr_service;

#define CCZ_FL_HLR_MAX_WORKERS 64

/* Where the training stands (the final figures once it is over). */
typedef struct {
    bool over;             /* finished or failed */
    int code;              /* the gRPC status it ended with (0: trained) */
    char message[512];     /* why it failed */
    unsigned iterations;   /* iterations aggregated */
    int validated;         /* the iteration of acc and loss (-1: none) */
    double acc, loss;      /* on the test set */
    const double *weights; /* the last average (dim doubles; NULL before the first) */
    size_t dim;
    double seconds; /* from the first weights to the last average */
} ccz_fl_hlr_status;

#define CCZ_FL_HLR_SERVICE_OPTS_VERSION 1
typedef struct {
    unsigned version;            /* CCZ_FL_HLR_SERVICE_OPTS_VERSION */
    const ccz_paillier_key *key; /* borrowed */
    unsigned workers;            /* 1..CCZ_FL_HLR_MAX_WORKERS */
    unsigned iterations;         /* 1..1000000 */
    const ccz_ml_dataset *test;  /* the validation set (borrowed; NULL: none) */
    size_t features;             /* without a test set: the features per row */
    unsigned validate_every;     /* 0: 10, as CCZoo's; at most 1000000 */
    double alpha, learning_rate; /* in [0, 1e6) (0: CCZoo's 0.01 and 0.15) */
    unsigned timeout_ms;         /* the longest wait for a worker (0: 60 s) */
    unsigned threads;            /* for decryption and encryption (0: every core) */
    FILE *log;                   /* a line per worker event and validation (NULL: none) */
    /* testing only: each iteration's decrypted weights, every worker's and the average, as JSON
     * lines. They leave the TEE: never in production. */
    FILE *trace;
    /* called on the server's loop when the training is over (trained, or failed) */
    void (*on_over)(const ccz_fl_hlr_status *st, void *payload);
    void *payload;
} ccz_fl_hlr_service_opts;

#define CCZ_FL_HLR_SERVICE_OPTS_INIT                                                               \
    {                                                                                              \
        CCZ_FL_HLR_SERVICE_OPTS_VERSION, NULL, 0, 0, NULL, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL,     \
            NULL                                                                                   \
    }

/* Registers homolr.Host's methods on an RPC server (before it runs). Free the service after the
 * server has stopped and before the server is freed. */
CCZ_API CCZ_NODISCARD ccz_status ccz_fl_hlr_service_new(ccz_fl_hlr_service **out,
                                                        ccz_rpc_server *rpc,
                                                        const ccz_fl_hlr_service_opts *o);
CCZ_API void ccz_fl_hlr_service_free(ccz_fl_hlr_service *v);
/* The training's state (owned by the service; read it on the loop or after the server ran). */
CCZ_API const ccz_fl_hlr_status *ccz_fl_hlr_service_status(const ccz_fl_hlr_service *v);

/* A worker's side: GetPubKey, the plan's iterations of AggregateModel (with Validate after the
 * validated ones), Finish, over one channel. */
#define CCZ_FL_HLR_WORK_OPTS_VERSION 1
typedef struct {
    unsigned version;    /* CCZ_FL_HLR_WORK_OPTS_VERSION */
    int id;              /* KeyRequest.id, unique among the workers */
    const char *name;    /* for the server's log (NULL: none) */
    int64_t deadline_ms; /* for each call (0: none) */
    unsigned threads;    /* for the encrypted products (0: every core) */
    /* after each iteration: seconds it took; validated >= 0 with the server's figures */
    void (*progress)(unsigned iter, unsigned iterations, double seconds, int validated, double acc,
                     double loss, void *payload);
    void *payload;
} ccz_fl_hlr_work_opts;
#define CCZ_FL_HLR_WORK_OPTS_INIT                                                                  \
    {                                                                                              \
        CCZ_FL_HLR_WORK_OPTS_VERSION, 0, NULL, 0, 0, NULL, NULL                                    \
    }

typedef struct {
    int code;           /* the gRPC status the work ended with (0: trained) */
    const char *method; /* the call that ended it */
    char message[512];
    unsigned iterations; /* done */
    int validated;       /* the iteration of acc and loss (-1: none) */
    double acc, loss;
    double seconds; /* of the iterations */
} ccz_fl_hlr_work_result;

/* Trains on d. CCZ_OK when every call completed, whatever the training's status in out->code;
 * an error when a call could not be made or the server sent something malformed. */
CCZ_API CCZ_NODISCARD ccz_status ccz_fl_hlr_work(ccz_rpc_channel *ch, const ccz_fl_hlr_work_opts *o,
                                                 const ccz_ml_dataset *d,
                                                 ccz_fl_hlr_work_result *out);

/* ---- vertical (hetero) LR ---------------------------------------------------------------------
 * FATE's hetero-LR with an arbiter: a guest holds the labels and some features (and the
 * intercept), hosts hold other features of the same ids, the arbiter (in a TEE) the Paillier key.
 * A step on a mini-batch: each host sends [[u_h]] = Enc(X_h w_h) (and [[sum u_h^2]]); the guest
 * makes the encrypted residuals [[4 d]] = [[u_h]] + u_g + 2 - 4 y (the Taylor sigmoid: d =
 * 0.5 + 0.25 u - y) and the encrypted Taylor loss, and the residuals go to the hosts; each party
 * computes its encrypted gradient [[X^T 4d]], adds a mask R uniform mod n, the arbiter decrypts
 * it, and the party removes R, scales by 1 / (4 rows), adds alpha w (not the intercept) and takes
 * a Nesterov step at lr / sqrt(1 + epoch). Reals cross the encryption as fixed-point integers
 * round(v 2^CCZ_FL_VLR_SCALE_BITS) mod n; the only roundings are those encodings and the final
 * conversion to double (relative error about 2^-48). Batches are consecutive runs of the aligned
 * rows (the last one shorter). */

#define CCZ_FL_VLR_SCALE_BITS 48

typedef struct ccz_fl_vlr_party ccz_fl_vlr_party;

#define CCZ_FL_VLR_OPTS_VERSION 1
typedef struct {
    unsigned version;     /* CCZ_FL_VLR_OPTS_VERSION */
    double alpha;         /* L2 weight, not on the intercept (0: 0.01) */
    double learning_rate; /* epoch e uses learning_rate / sqrt(1 + e) (0: 0.15) */
    double momentum;      /* Nesterov's coefficient (0: 0.9; negative: plain SGD) */
    size_t batch_size;    /* rows per mini-batch (0: all) */
    unsigned threads;     /* for the encrypted products (0: every core) */
} ccz_fl_vlr_opts;
#define CCZ_FL_VLR_OPTS_INIT                                                                       \
    {                                                                                              \
        CCZ_FL_VLR_OPTS_VERSION, 0, 0, 0, 0, 0                                                     \
    }

/* A party of the aligned rows d (a guest when d has labels: it holds the intercept) under the
 * arbiter's public key pk (borrowed; it must outlive the party). Weights start at zero. */
CCZ_API CCZ_NODISCARD ccz_status ccz_fl_vlr_party_new(ccz_fl_vlr_party **out,
                                                      const ccz_paillier_pub *pk,
                                                      const ccz_ml_dataset *d,
                                                      const ccz_fl_vlr_opts *o);
CCZ_API void ccz_fl_vlr_party_free(ccz_fl_vlr_party *p);
/* The party's weights: the guest's intercept first, then one per feature. */
CCZ_API size_t ccz_fl_vlr_dim(const ccz_fl_vlr_party *p);
CCZ_API const double *ccz_fl_vlr_weights(const ccz_fl_vlr_party *p);
/* Mini-batches per epoch, and the rows of step's batch (step counts over epochs). */
CCZ_API size_t ccz_fl_vlr_batches(const ccz_fl_vlr_party *p);
CCZ_API size_t ccz_fl_vlr_batch_rows(const ccz_fl_vlr_party *p, unsigned step);
/* This party's scores u = X w (+ the intercept) on step's batch, in the clear (rows doubles). */
CCZ_API CCZ_NODISCARD ccz_status ccz_fl_vlr_scores(const ccz_fl_vlr_party *p, double *u,
                                                   unsigned step);

/* Host: fwd[r] = Enc(U_r), U = round(u 2^S) for the batch's rows, and sq = Enc(sum U_r^2). */
CCZ_API CCZ_NODISCARD ccz_status ccz_fl_vlr_forward(ccz_fl_vlr_party *p, mpz_t *fwd, mpz_t sq,
                                                    unsigned step);
/* Guest: from the hosts' forward sums (fwd: rows ciphertexts, sq), the residuals res[r] =
 * Enc(4 d_r 2^S) and loss = Enc(sum u^2 + (4 - 8 y) u, at 2^2S) (ccz_fl_vlr_loss decodes it).
 * loss may be NULL. */
CCZ_API CCZ_NODISCARD ccz_status ccz_fl_vlr_residuals(ccz_fl_vlr_party *p, mpz_t *res, mpz_t *loss,
                                                      const mpz_t *fwd, const mpz_t sq,
                                                      unsigned step);
/* Any party: masked[j] = Enc(sum_r 4 d_r x_rj 2^2S + R_j) for its dim weights; R (uniform mod n)
 * stays in the party for ccz_fl_vlr_update. */
CCZ_API CCZ_NODISCARD ccz_status ccz_fl_vlr_gradient(ccz_fl_vlr_party *p, mpz_t *masked,
                                                     const mpz_t *res, unsigned step);
/* Any party: the arbiter's decryptions of masked (dim values in [0, n)): unmasks them and takes
 * the step. CCZ_ERR_OVERFLOW when a gradient is not a plausible value (a wrong decryption). */
CCZ_API CCZ_NODISCARD ccz_status ccz_fl_vlr_update(ccz_fl_vlr_party *p, const mpz_t *plain,
                                                   unsigned step);
/* Arbiter: the Taylor loss of a batch of rows from its decrypted loss value m (in [0, n)). */
CCZ_API CCZ_NODISCARD ccz_status ccz_fl_vlr_loss(double *loss, const ccz_paillier_pub *pk,
                                                 const mpz_t m, size_t rows);

/* The rows of d with the given ids, in their order, into out (owned by the caller; free with
 * ccz_ml_dataset_free). d must have ids; an id d lacks is CCZ_ERR_NOT_FOUND. */
CCZ_API CCZ_NODISCARD ccz_status ccz_fl_vlr_align(ccz_ml_dataset *out, const ccz_ml_dataset *d,
                                                  const int64_t *ids, size_t n);
/* Each feature of d to mean 0 and standard deviation 1 (a constant one to 0). */
CCZ_API void ccz_fl_vlr_zscore(ccz_ml_dataset *d);
/* Area under the ROC curve of scores against labels (ties count half). */
CCZ_API double ccz_fl_vlr_auc(const double *score, const uint8_t *y, size_t n);

/* ---- the hetero-LR service (heterolr.Arbiter over RA-gRPC, proto/hetero_lr.proto) -------------
 * The arbiter holds the Paillier key. The guest and the hosts Join (answered when all have: the
 * key, the plan and the ids every party has); per step the hosts' encrypted scores go to the
 * guest, the guest's encrypted residuals to the hosts (relayed, never decrypted), and each
 * party's masked gradient is decrypted. The arbiter decodes the guest's encrypted Taylor loss
 * (one host only, as FATE) and stops when an epoch's loss moved less than tol, or after the last
 * epoch. A party is its connection, admitted by two-way RA-TLS before any call; a party that
 * sends nothing for timeout_ms or leaves while others wait ends the training for everyone. */

typedef struct ccz_fl_vlr_service ccz_fl_vlr_service;

#define CCZ_FL_VLR_MAX_HOSTS 16

typedef struct {
    bool over;
    int code; /* the gRPC status it ended with (0: trained) */
    char message[512];
    unsigned epochs, steps; /* the steps done, and the epochs they reach into (the last one partly
                             * done when the training ended within it) */
    bool converged;
    double loss[1024]; /* per epoch (NaN: not available) */
    double seconds;    /* from the first step to the last */
} ccz_fl_vlr_status;

#define CCZ_FL_VLR_SERVICE_OPTS_VERSION 1
typedef struct {
    unsigned version;                      /* CCZ_FL_VLR_SERVICE_OPTS_VERSION */
    const ccz_paillier_key *key;           /* borrowed */
    unsigned hosts;                        /* 1..CCZ_FL_VLR_MAX_HOSTS */
    unsigned epochs;                       /* 1..1024 */
    size_t batch_size;                     /* 0: all rows */
    double alpha, learning_rate, momentum; /* as ccz_fl_vlr_opts, checked (0: the defaults) */
    double tol;                            /* convergence on the loss (0: 1e-4; negative: never) */
    unsigned timeout_ms;                   /* the longest wait for a party (0: 60 s) */
    unsigned threads;                      /* for decryption (0: every core) */
    FILE *log;                             /* a line per party event and epoch (NULL: none) */
    void (*on_over)(const ccz_fl_vlr_status *st, void *payload);
    void *payload;
} ccz_fl_vlr_service_opts;
#define CCZ_FL_VLR_SERVICE_OPTS_INIT                                                               \
    {                                                                                              \
        CCZ_FL_VLR_SERVICE_OPTS_VERSION, NULL, 0, 0, 0, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL         \
    }

CCZ_API CCZ_NODISCARD ccz_status ccz_fl_vlr_service_new(ccz_fl_vlr_service **out,
                                                        ccz_rpc_server *rpc,
                                                        const ccz_fl_vlr_service_opts *o);
CCZ_API void ccz_fl_vlr_service_free(ccz_fl_vlr_service *v);
CCZ_API const ccz_fl_vlr_status *ccz_fl_vlr_service_status(const ccz_fl_vlr_service *v);

/* A party's side: Join, the steps, the evaluation (hosts send their scores, the guest gets
 * their sum), Finish, over one channel. d has ids (and labels for the guest). */
#define CCZ_FL_VLR_RUN_OPTS_VERSION 1
typedef struct {
    unsigned version;    /* CCZ_FL_VLR_RUN_OPTS_VERSION */
    int id;              /* unique among the parties */
    const char *name;    /* for the arbiter's log (NULL: none) */
    int64_t deadline_ms; /* for each call (0: none) */
    unsigned threads;    /* for the encrypted products (0: every core) */
    FILE *trace;         /* the party's own weights after each epoch, JSON lines (NULL: none) */
    /* after each epoch: its loss (NaN: not available) and seconds */
    void (*progress)(unsigned epoch, double loss, double seconds, void *payload);
    void *payload;
} ccz_fl_vlr_run_opts;
#define CCZ_FL_VLR_RUN_OPTS_INIT                                                                   \
    {                                                                                              \
        CCZ_FL_VLR_RUN_OPTS_VERSION, 0, NULL, 0, 0, NULL, NULL, NULL                               \
    }

typedef struct {
    int code;           /* the gRPC status the run ended with (0: trained) */
    const char *method; /* the call that ended it */
    char message[512];
    unsigned epochs, steps;
    bool converged;
    size_t rows;     /* aligned */
    double auc, acc; /* the guest's evaluation on the aligned rows (NaN on a host) */
    double seconds;  /* of the steps */
    double *weights; /* the party's final weights (dim; owned: free()) */
    size_t dim;
} ccz_fl_vlr_run_result;

CCZ_API CCZ_NODISCARD ccz_status ccz_fl_vlr_run(ccz_rpc_channel *ch, const ccz_fl_vlr_run_opts *o,
                                                const ccz_ml_dataset *d,
                                                ccz_fl_vlr_run_result *out);

#ifdef __cplusplus
}
#endif
#endif
