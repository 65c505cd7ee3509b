/* SPDX-License-Identifier: Apache-2.0 */
/* ccz he_lr: logistic-regression inference on encrypted data, CCZoo's lr_infer_he_sgx over
 * RA-gRPC (package inference, proto/he_lr.proto). The client encrypts its samples with CKKS
 * under keys only it holds, feature by feature (ciphertext j holds feature j of up to N/2
 * samples); the server, in a TEE, multiplies them by its plaintext model, adds the bias,
 * evaluates the HE toolkit's degree-3 sigmoid and sends back encrypted probabilities that only
 * the client can decrypt. Model and data files and everything from the network are untrusted. */
#ifndef CCZ_HE_LR_H
#define CCZ_HE_LR_H

#include <stdio.h>

#include "ccz/core.h"
#include "ccz/lattice.h"
#include "ccz/rpc.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CCZ_HE_LR_MAX_FEATURES 256
#define CCZ_HE_LR_MAX_ROWS (1u << 22)
/* The data primes the evaluation uses: three rescales (the model's products, the square, the
 * cube) and the first prime to hold the probabilities. Ciphertexts above it are dropped to it. */
#define CCZ_HE_LR_LEVEL 4
/* The largest gRPC message either side should accept (ccz_rpc_*_opts.max_message): one batch of
 * CCZ_HE_LR_MAX_FEATURES ciphertexts at N = 8192 and level 4. */
#define CCZ_HE_LR_MAX_MESSAGE (128u << 20)

/* The HE toolkit's degree-3 approximation of the logistic function,
 * 0.5 + 0.15012 z - 0.001593008 z^3 (close to 1 / (1 + e^-z) for |z| below about 5). */
CCZ_API double ccz_he_lr_sigmoid(double z);

/* ---- model and data files ----------------------------------------------------------------------
 * CCZoo's CSV files: numbers separated by commas, lines ending in LF or CRLF, no quotes; a
 * UTF-8 byte-order mark at the start of a file is skipped. */

typedef struct {
    size_t features;
    double bias;
    double *weights; /* features of them, owned by the model */
} ccz_he_lr_model;

/* The model file: one line, the bias then one weight per feature. */
CCZ_API CCZ_NODISCARD ccz_status ccz_he_lr_model_parse(ccz_he_lr_model *out, ccz_span csv);
CCZ_API CCZ_NODISCARD ccz_status ccz_he_lr_model_load(ccz_he_lr_model *out, const char *path);
CCZ_API void ccz_he_lr_model_free(ccz_he_lr_model *m);

typedef struct {
    size_t rows, features;
    double *x;  /* rows x features, sample by sample, owned */
    uint8_t *y; /* rows labels, 0 or 1, owned */
} ccz_he_lr_data;

/* The data file: a header line (the columns' names: counted, not read), then one line per
 * sample: its features and last its label, 0 or 1. A NUL byte in a file is refused, its line
 * named. */
CCZ_API CCZ_NODISCARD ccz_status ccz_he_lr_data_parse(ccz_he_lr_data *out, ccz_span csv);
CCZ_API CCZ_NODISCARD ccz_status ccz_he_lr_data_load(ccz_he_lr_data *out, const char *path);
CCZ_API void ccz_he_lr_data_free(ccz_he_lr_data *d);

/* The cleartext inference with the same polynomial: p[i] = sigmoid(w . x_i + b) for each row
 * (p has d->rows entries). CCZ_ERR_INVALID_ARGUMENT when the feature counts differ. */
CCZ_API CCZ_NODISCARD ccz_status ccz_he_lr_predict(double *p, const ccz_he_lr_model *m,
                                                   const ccz_he_lr_data *d);
/* The fraction of rows whose class (1 when p >= 0.5, else 0) is their label. */
CCZ_API double ccz_he_lr_accuracy(const double *p, const ccz_he_lr_data *d);

/* ---- parameters and the evaluation -------------------------------------------------------------*/

typedef enum {
    /* N 8192, primes 50,45,45,28 and the special prime 50: 218 bits, within the 128-bit table;
     * scale 2^45. The 28-bit prime is the model's: the products by the weights are rescaled by
     * it and come back at the data's scale. */
    CCZ_HE_LR_SECURE = 0,
    /* The HE toolkit's and CCZoo's: N 8192, 60,45,45,45,45,60 (300 bits: beyond the 128-bit
     * table, so no_security_check is set), scale 2^45. */
    CCZ_HE_LR_TOOLKIT = 1
} ccz_he_lr_preset;

CCZ_API CCZ_NODISCARD ccz_status ccz_he_lr_params(ccz_lattice_params *p, ccz_he_lr_preset preset);

/* Checks that a context suits the evaluation: CKKS, at least CCZ_HE_LR_LEVEL data primes, the
 * two middle ones (the rescales of the square and the cube) within 4 bits of the scale, the
 * first one 4 bits above it and 4 bits above the result's scale (the scale cubed over the two
 * middle primes; probabilities up to 8 in magnitude), the model's prime at least 20 bits. An
 * error names what does not fit. */
CCZ_API CCZ_NODISCARD ccz_status ccz_he_lr_check_context(const ccz_lattice_context *ctx);

/* The server's side of one batch: out = sigmoid(w . x + b) slot by slot, from the model's
 * features serialized ciphertexts x (ccz_lattice_ciphertext_save of this context, each at a level
 * from CCZ_HE_LR_LEVEL up and at one scale). The weights multiply in as constant plaintexts at
 * the scale of the level's last prime; the result is at level 1, and carries a fresh public-key
 * encryption of the constant term (pk). threads: for loading and the products (0: one per
 * CPU). An error names the ciphertext at fault. */
CCZ_API CCZ_NODISCARD ccz_status ccz_he_lr_eval(ccz_lattice_ciphertext *out,
                                                const ccz_lattice_context *ctx,
                                                const ccz_lattice_relin_keys *rk,
                                                const ccz_lattice_public_key *pk,
                                                const ccz_he_lr_model *m, const ccz_span *x,
                                                size_t n, unsigned threads);

/* ---- the service -------------------------------------------------------------------------------
 * inference.Inference: InitCtx gives the connection a context (parameters, public and
 * relinearization keys, checked against each other and against ccz_he_lr_check_context);
 * Infer evaluates batches on a worker thread and answers with one ciphertext per batch, the
 * server's timings in the trailer ccz-he-lr-times. Contexts belong to connections; the least
 * recently used goes when max_contexts are held. docs/lattice.md has the whole protocol. */

typedef struct ccz_he_lr_service ccz_he_lr_service;

#define CCZ_HE_LR_SERVICE_OPTS_VERSION 1
typedef struct {
    unsigned version;             /* CCZ_HE_LR_SERVICE_OPTS_VERSION */
    const ccz_he_lr_model *model; /* borrowed: outlives the service; finite numbers */
    unsigned max_contexts;        /* held at once (0: 16) */
    unsigned workers;             /* calls computed at once (0: 2); up to 4 per worker wait */
    unsigned threads;             /* per call (0: one per CPU) */
    bool allow_insecure_params;   /* accept chains beyond the 128-bit table (security_level 0) */
    FILE *log;                    /* a line per context and batch (NULL: none) */
} ccz_he_lr_service_opts;

#define CCZ_HE_LR_SERVICE_OPTS_INIT                                                                \
    {                                                                                              \
        CCZ_HE_LR_SERVICE_OPTS_VERSION, NULL, 0, 0, 0, false, NULL                                 \
    }

/* Registers inference.Inference's methods on an RPC server (before it runs; give the server a
 * max_message of CCZ_HE_LR_MAX_MESSAGE). Free the service after the server has stopped running
 * and before the server is freed. */
CCZ_API CCZ_NODISCARD ccz_status ccz_he_lr_service_new(ccz_he_lr_service **out, ccz_rpc_server *rpc,
                                                       const ccz_he_lr_service_opts *o);
CCZ_API void ccz_he_lr_service_free(ccz_he_lr_service *s);

/* ---- the client --------------------------------------------------------------------------------*/

#define CCZ_HE_LR_INFER_OPTS_VERSION 1
typedef struct {
    unsigned version; /* CCZ_HE_LR_INFER_OPTS_VERSION */
    ccz_he_lr_preset preset;
    int64_t deadline_ms; /* per call (0: none) */
    unsigned threads;    /* for encryption (0: one per CPU) */
} ccz_he_lr_infer_opts;

#define CCZ_HE_LR_INFER_OPTS_INIT                                                                  \
    {                                                                                              \
        CCZ_HE_LR_INFER_OPTS_VERSION, CCZ_HE_LR_SECURE, 0, 0                                       \
    }

typedef struct {
    int code;           /* the gRPC status the run ended with (0: OK) */
    const char *method; /* the call that ended it ("InitCtx", "Infer") */
    char message[512];  /* grpc-message */
    double *p;          /* the decrypted probabilities, rows of them (free()) */
    size_t rows;
    unsigned level; /* the level the server computed at */
    /* bytes sent: the serialized parameters, keys and data ciphertexts; bytes received */
    size_t params_bytes, pk_bytes, rlk_bytes, data_bytes, result_bytes;
    /* seconds: key generation; encoding and encryption; the two calls (transfer and the
     * server's work); decryption and decoding */
    double keygen_s, encrypt_s, init_s, infer_s, decrypt_s;
    char server_times[160]; /* the server's ccz-he-lr-times trailer */
} ccz_he_lr_infer_result;

/* Runs the inference of d over a channel: keys, InitCtx, one Infer per N/2 samples, decryption.
 * CCZ_OK when the calls completed, whatever their status in out->code; an error when a call
 * could not be made or a local step failed. The secret key never leaves this function. */
CCZ_API CCZ_NODISCARD ccz_status ccz_he_lr_infer(ccz_rpc_channel *ch, const ccz_he_lr_infer_opts *o,
                                                 const ccz_he_lr_data *d,
                                                 ccz_he_lr_infer_result *out);
CCZ_API void ccz_he_lr_infer_result_free(ccz_he_lr_infer_result *r);

#ifdef __cplusplus
}
#endif
#endif
