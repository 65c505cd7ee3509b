/* SPDX-License-Identifier: Apache-2.0 */
/* ccz core: status codes, buffers, the bounds-checked cursor, hex/base64, JSON, logging, files.
 * Everything above core reads untrusted bytes only through ccz_cursor; nothing here trusts its
 * input beyond the lengths the caller states. */
#ifndef CCZ_CORE_H
#define CCZ_CORE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define CCZ_API __attribute__((visibility("default")))
#define CCZ_NODISCARD __attribute__((warn_unused_result))
#define CCZ_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define CCZ_API
#define CCZ_NODISCARD
#define CCZ_PRINTF(f, a)
#endif

#define CCZ_VERSION_MAJOR 0
#define CCZ_VERSION_MINOR 1
#define CCZ_VERSION_PATCH 0
#define CCZ_VERSION_STRING "0.1.0"

/* ---- status ----------------------------------------------------------------------------------
 * One list gives the enum, the stable snake_case name, the message and the class, so no code
 * can lack any of them. Codes are only ever appended: never renumber or remove one. The class
 * (CCZ_CLASS_<class>) says whose the failure is: the caller's arguments (USAGE), the input's
 * form (INPUT), a verdict on the input's trustworthiness (VERIFICATION), the environment
 * (IO: files, devices, the network) or ccz itself (INTERNAL: memory, the crypto library). */
#define CCZ_STATUS_LIST(X)                                                                         \
    X(CCZ_OK, 0, "ok", "success", OK)                                                              \
    X(CCZ_ERR_INVALID_ARGUMENT, -1, "invalid_argument", "invalid argument", USAGE)                 \
    X(CCZ_ERR_NOMEM, -2, "out_of_memory", "out of memory", INTERNAL)                               \
    X(CCZ_ERR_IO, -3, "io_error", "input/output error", IO)                                        \
    X(CCZ_ERR_TRUNCATED, -4, "truncated", "input ends before the structure it declares", INPUT)    \
    X(CCZ_ERR_MALFORMED, -5, "malformed", "malformed input", INPUT)                                \
    X(CCZ_ERR_UNSUPPORTED, -6, "unsupported", "unsupported feature or format", INPUT)              \
    X(CCZ_ERR_TOO_LARGE, -7, "too_large", "input exceeds the size limit", INPUT)                   \
    X(CCZ_ERR_CRYPTO, -8, "crypto_error", "cryptographic library failure", INTERNAL)               \
    X(CCZ_ERR_BAD_SIGNATURE, -9, "signature_invalid", "signature does not verify", VERIFICATION)   \
    X(CCZ_ERR_CERT_MALFORMED, -10, "certificate_malformed", "certificate cannot be parsed", INPUT) \
    X(CCZ_ERR_CERT_CHAIN, -11, "chain_invalid",                                                    \
      "certificate chain does not verify to a trusted root", VERIFICATION)                         \
    X(CCZ_ERR_EXPIRED, -12, "expired", "not valid any more at the given instant", VERIFICATION)    \
    X(CCZ_ERR_NOT_YET_VALID, -13, "not_yet_valid", "not yet valid at the given instant",           \
      VERIFICATION)                                                                                \
    X(CCZ_ERR_REPORT_DATA_MISMATCH, -14, "report_data_mismatch",                                   \
      "report data differs from the expected value", VERIFICATION)                                 \
    X(CCZ_ERR_UNKNOWN_FORMAT, -15, "unknown_evidence_format", "evidence format not recognised",    \
      INPUT)                                                                                       \
    X(CCZ_ERR_UNSUPPORTED_VERSION, -16, "unsupported_version", "unsupported format version",       \
      INPUT)                                                                                       \
    X(CCZ_ERR_TRAILING_DATA, -17, "trailing_data", "unexpected bytes after the structure", INPUT)  \
    X(CCZ_ERR_NOT_FOUND, -18, "not_found", "not found", IO)                                        \
    X(CCZ_ERR_JSON, -19, "invalid_json", "invalid JSON", INPUT)                                    \
    X(CCZ_ERR_POLICY, -20, "policy_invalid", "invalid policy document", INPUT)                     \
    X(CCZ_ERR_NO_BACKEND, -21, "no_backend", "no backend for this TEE", USAGE)                     \
    X(CCZ_ERR_TEE_UNAVAILABLE, -22, "tee_unavailable",                                             \
      "the TEE device or platform is unavailable", IO)                                             \
    X(CCZ_ERR_KEY_MALFORMED, -23, "key_malformed", "key cannot be parsed", INPUT)                  \
    X(CCZ_ERR_EXISTS, -24, "already_exists", "already exists", USAGE)                              \
    X(CCZ_ERR_ENCODING, -25, "invalid_encoding", "invalid hex or base64 encoding", INPUT)          \
    X(CCZ_ERR_REVOKED, -26, "revoked", "a certificate in the chain is revoked", VERIFICATION)      \
    X(CCZ_ERR_TCB_LEVEL_NOT_FOUND, -27, "tcb_level_not_found",                                     \
      "no TCB level in the collateral matches the platform", VERIFICATION)                         \
    X(CCZ_ERR_COLLATERAL_OUT_OF_DATE, -28, "collateral_out_of_date",                               \
      "collateral is expired or not yet valid at the given instant", VERIFICATION)                 \
    X(CCZ_ERR_COLLATERAL_MISMATCH, -29, "collateral_mismatch",                                     \
      "collateral is for another platform or TEE", VERIFICATION)                                   \
    X(CCZ_ERR_QE_IDENTITY_MISMATCH, -30, "qe_identity_mismatch",                                   \
      "the quoting enclave is not the one Intel's QE identity describes", VERIFICATION)            \
    X(CCZ_ERR_COLLATERAL_MISSING, -31, "collateral_missing",                                       \
      "this evidence needs collateral and none was given", VERIFICATION)                           \
    X(CCZ_ERR_NETWORK, -32, "network_error", "network request failed", IO)                         \
    X(CCZ_ERR_TDX_MODULE_MISMATCH, -33, "tdx_module_mismatch",                                     \
      "the TDX module is not one the TCB info describes", VERIFICATION)                            \
    X(CCZ_ERR_TCB_MISMATCH, -34, "tcb_mismatch",                                                   \
      "the report's TCB is not the one the signing certificate was issued for", VERIFICATION)      \
    X(CCZ_ERR_CHIP_ID_MISMATCH, -35, "chip_id_mismatch",                                           \
      "the report's chip id is not the one the signing certificate was issued for", VERIFICATION)  \
    X(CCZ_ERR_POLICY_REJECTED, -36, "policy_rejected", "the policy rejects the peer",              \
      VERIFICATION)                                                                                \
    X(CCZ_ERR_BINDING, -37, "binding_mismatch",                                                    \
      "the evidence is not bound to the key or data it vouches for", VERIFICATION)                 \
    X(CCZ_ERR_TLS, -38, "tls_error", "TLS handshake or I/O failed", IO)                            \
    X(CCZ_ERR_PROTOCOL, -39, "protocol_error", "the peer does not speak the expected protocol",    \
      IO)                                                                                          \
    X(CCZ_ERR_UNAVAILABLE, -40, "unavailable", "the service is going away or overloaded", IO)      \
    X(CCZ_ERR_OVERFLOW, -41, "overflow", "the value does not fit its encoding (overflow)", INPUT)  \
    X(CCZ_ERR_COLLATERAL_UNSUPPORTED, -42, "collateral_unsupported",                               \
      "collateral of an id, version or type this verifier does not support", VERIFICATION)         \
    X(CCZ_ERR_REPLAY_MISMATCH, -43, "replay_mismatch",                                             \
      "the event log does not replay to the measurement registers", VERIFICATION)                  \
    X(CCZ_ERR_PCR_MISMATCH, -44, "pcr_mismatch",                                                   \
      "the PCR values are not the ones the TPM quote covers", VERIFICATION)                        \
    X(CCZ_ERR_INIT_DATA_MISMATCH, -45, "init_data_mismatch",                                       \
      "the evidence measured other init data than expected", VERIFICATION)                         \
    X(CCZ_ERR_PLATFORM_KEY_UNKNOWN, -46, "platform_key_unknown",                                   \
      "the platform's attestation key is not among the trust anchors", VERIFICATION)

typedef enum {
#define CCZ_X_ENUM(sym, val, name, msg, cls) sym = val,
    CCZ_STATUS_LIST(CCZ_X_ENUM)
#undef CCZ_X_ENUM
} ccz_status;

typedef enum {
    CCZ_CLASS_OK = 0,
    CCZ_CLASS_USAGE = 1,        /* the caller asked for something impossible or unknown */
    CCZ_CLASS_INPUT = 2,        /* the input is not in the form it must have */
    CCZ_CLASS_VERIFICATION = 3, /* the input is well formed and not trustworthy */
    CCZ_CLASS_IO = 4,           /* a file, device or peer could not be reached or read */
    CCZ_CLASS_INTERNAL = 5      /* out of memory, or the crypto library failed */
} ccz_class;

/* The class of a status (CCZ_CLASS_INTERNAL for unknown codes), so a program maps statuses to
 * exit codes or retry decisions in one place. */
CCZ_API ccz_class ccz_status_class(ccz_status s);
/* "ok", "usage", "input", "verification", "io" or "internal"; never NULL. */
CCZ_API const char *ccz_class_name(ccz_class c);

/* Human-readable message for a status; never NULL (unknown codes get a generic message). */
CCZ_API const char *ccz_strerror(ccz_status s);
/* Stable snake_case identifier ("signature_invalid"), for JSON and scripts; never NULL. */
CCZ_API const char *ccz_status_name(ccz_status s);

/* Detail of the last failure on this thread ("sim evidence: version 7 not supported"), set by
 * the function that failed; "" when none. Output only: nothing reads it to decide anything. */
CCZ_API const char *ccz_error_detail(void);
CCZ_API void ccz_error_clear(void);
/* Sets the detail and returns s, so failing paths read `return ccz_fail(CCZ_ERR_X, "...")`. */
CCZ_API ccz_status ccz_fail(ccz_status s, const char *fmt, ...) CCZ_PRINTF(2, 3);

/* Prefixes the current detail with context ("policy sgx_mrs[2]: <detail>") and returns s. */
CCZ_API ccz_status ccz_fail_context(ccz_status s, const char *fmt, ...) CCZ_PRINTF(2, 3);
/* Like ccz_fail, and appends OpenSSL's most recent error (then clears OpenSSL's queue). */
CCZ_API ccz_status ccz_fail_ossl(ccz_status s, const char *fmt, ...) CCZ_PRINTF(2, 3);

/* ---- spans and buffers -----------------------------------------------------------------------
 * ccz_span borrows bytes; ccz_buf owns them. A buf grows up to `max` bytes (0 = no cap) and,
 * when `secret` is set, wipes every allocation it lets go of. */
typedef struct {
    const uint8_t *ptr;
    size_t len;
} ccz_span;

typedef struct {
    uint8_t *ptr;
    size_t len;
    size_t cap;
    size_t max;
    bool secret;
} ccz_buf;

#define CCZ_BUF_INIT                                                                               \
    {                                                                                              \
        NULL, 0, 0, 0, false                                                                       \
    }
#define CCZ_SPAN(p, n) ((ccz_span){(const uint8_t *)(p), (n)})
/* The bytes of a string literal without its NUL: CCZ_LIT("CCZS") is a 4-byte span. Only
 * literals compile (the "" before s), so no length is ever counted by hand. */
#define CCZ_LIT(s) ((ccz_span){(const uint8_t *)("" s), sizeof(s) - 1})
/* Whether NUL-terminated s (or span sp) begins with a string literal; needs <string.h>. */
#define CCZ_STARTS_WITH(s, lit) (strncmp((s), "" lit, sizeof(lit) - 1) == 0)
#define CCZ_SPAN_STARTS_WITH(sp, lit)                                                              \
    ((sp).len >= sizeof(lit) - 1 && memcmp((sp).ptr, "" lit, sizeof(lit) - 1) == 0)
/* The number of elements of an array (not of a pointer). */
#define CCZ_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

CCZ_API void ccz_buf_init(ccz_buf *b, size_t max, bool secret);
CCZ_API CCZ_NODISCARD ccz_status ccz_buf_reserve(ccz_buf *b, size_t extra);
CCZ_API CCZ_NODISCARD ccz_status ccz_buf_append(ccz_buf *b, const void *p, size_t n);
CCZ_API CCZ_NODISCARD ccz_status ccz_buf_append_u8(ccz_buf *b, uint8_t v);
CCZ_API CCZ_NODISCARD ccz_status ccz_buf_append_u16le(ccz_buf *b, uint16_t v);
CCZ_API CCZ_NODISCARD ccz_status ccz_buf_append_u32le(ccz_buf *b, uint32_t v);
CCZ_API CCZ_NODISCARD ccz_status ccz_buf_append_u64le(ccz_buf *b, uint64_t v);
CCZ_API CCZ_NODISCARD ccz_status ccz_buf_append_str(ccz_buf *b, const char *s);
/* Appends formatted text; the buffer stays NUL-terminated after ptr[len]. */
CCZ_API CCZ_NODISCARD ccz_status ccz_buf_printf(ccz_buf *b, const char *fmt, ...) CCZ_PRINTF(2, 3);
/* Empties the buffer (wiping it when secret) but keeps the allocation. */
CCZ_API void ccz_buf_reset(ccz_buf *b);
/* Frees the storage (wiped first when secret); b can be reused after ccz_buf_init. */
CCZ_API void ccz_buf_free(ccz_buf *b);
CCZ_API ccz_span ccz_buf_span(const ccz_buf *b);

/* Wipes memory so the compiler cannot elide it (OPENSSL_cleanse). */
CCZ_API void ccz_wipe(void *p, size_t n);
/* Constant-time equality of two equal-length regions: true when equal. */
CCZ_API bool ccz_ct_equal(const void *a, const void *b, size_t n);

/* ---- cursor ----------------------------------------------------------------------------------
 * The one reader of untrusted bytes. Every read checks the remaining length first and leaves the
 * cursor where it was on failure (CCZ_ERR_TRUNCATED). Multi-byte integers name their order. */
typedef struct {
    const uint8_t *base;
    size_t len;
    size_t pos;
} ccz_cursor;

CCZ_API void ccz_cursor_init(ccz_cursor *c, ccz_span s);
CCZ_API size_t ccz_cursor_remaining(const ccz_cursor *c);
CCZ_API CCZ_NODISCARD ccz_status ccz_cursor_u8(ccz_cursor *c, uint8_t *out);
CCZ_API CCZ_NODISCARD ccz_status ccz_cursor_u16le(ccz_cursor *c, uint16_t *out);
CCZ_API CCZ_NODISCARD ccz_status ccz_cursor_u32le(ccz_cursor *c, uint32_t *out);
CCZ_API CCZ_NODISCARD ccz_status ccz_cursor_u64le(ccz_cursor *c, uint64_t *out);
CCZ_API CCZ_NODISCARD ccz_status ccz_cursor_u16be(ccz_cursor *c, uint16_t *out);
CCZ_API CCZ_NODISCARD ccz_status ccz_cursor_u32be(ccz_cursor *c, uint32_t *out);
/* Copies n bytes out. */
CCZ_API CCZ_NODISCARD ccz_status ccz_cursor_copy(ccz_cursor *c, void *out, size_t n);
/* Borrows the next n bytes as a span into the cursor's input. */
CCZ_API CCZ_NODISCARD ccz_status ccz_cursor_take(ccz_cursor *c, ccz_span *out, size_t n);
CCZ_API CCZ_NODISCARD ccz_status ccz_cursor_skip(ccz_cursor *c, size_t n);
/* Looks at the next n bytes without moving. */
CCZ_API CCZ_NODISCARD ccz_status ccz_cursor_peek(const ccz_cursor *c, ccz_span *out, size_t n);
/* CCZ_OK when every byte was consumed, else CCZ_ERR_TRAILING_DATA. */
CCZ_API CCZ_NODISCARD ccz_status ccz_cursor_expect_end(const ccz_cursor *c);
/* Reads one DER element: a single-byte tag and a definite, minimally encoded length of at
 * most 4 bytes; the value is borrowed. Indefinite lengths and multi-byte tags are
 * CCZ_ERR_MALFORMED; a value longer than the input is CCZ_ERR_TRUNCATED. */
CCZ_API CCZ_NODISCARD ccz_status ccz_cursor_der(ccz_cursor *c, uint8_t *tag, ccz_span *value);
/* CBOR (RFC 8949), read through the cursor. A head is a major type (0..7) and its argument
 * (length, count, tag number or value). Indefinite lengths, reserved additional-information
 * values and lengths beyond the input are errors; the cursor moves only on success. */
typedef struct {
    uint8_t major;
    uint64_t arg;
} ccz_cbor_head;

CCZ_API CCZ_NODISCARD ccz_status ccz_cbor_head_read(ccz_cursor *c, ccz_cbor_head *out);
/* A byte string (major 2) or text string (major 3), borrowed. */
CCZ_API CCZ_NODISCARD ccz_status ccz_cbor_bstr(ccz_cursor *c, ccz_span *out);
CCZ_API CCZ_NODISCARD ccz_status ccz_cbor_tstr(ccz_cursor *c, ccz_span *out);
/* Skips one whole item, nested at most 32 deep. */
CCZ_API CCZ_NODISCARD ccz_status ccz_cbor_skip(ccz_cursor *c);
/* Everything read so far, as a span (for signatures over a prefix). */
CCZ_API ccz_span ccz_cursor_consumed(const ccz_cursor *c);

/* ---- hex and base64 --------------------------------------------------------------------------
 * Decoders reject odd lengths, non-alphabet characters and (base64) bad padding with
 * CCZ_ERR_ENCODING. Output is appended to `out`. */
CCZ_API CCZ_NODISCARD ccz_status ccz_hex_encode(ccz_buf *out, ccz_span in);
CCZ_API CCZ_NODISCARD ccz_status ccz_hex_decode(ccz_buf *out, const char *hex, size_t len);
/* Decodes exactly n bytes of hex into out (len must be 2n). */
CCZ_API CCZ_NODISCARD ccz_status ccz_hex_decode_fixed(uint8_t *out, size_t n, const char *hex,
                                                      size_t len);

/* Splits an address as users write it, "HOST:PORT", "[IPv6]:PORT" or ":PORT" (the host is then
 * default_host; NULL: a host is required), into host and port (decimal, 1 to 65535, or 0 too
 * when allow_zero: "any port" for a listener). A bad port is an error that names it. */
CCZ_API CCZ_NODISCARD ccz_status ccz_host_port_split(char *host, size_t host_cap, char port[6],
                                                     const char *addr, const char *default_host,
                                                     bool allow_zero);
/* Writes 2n+1 chars (lower case, NUL-terminated) to out. */
CCZ_API void ccz_hex_to_str(char *out, const uint8_t *in, size_t n);
CCZ_API CCZ_NODISCARD ccz_status ccz_base64_encode(ccz_buf *out, ccz_span in);
CCZ_API CCZ_NODISCARD ccz_status ccz_base64_decode(ccz_buf *out, const char *b64, size_t len);

/* ---- logging ---------------------------------------------------------------------------------
 * Messages go to the sink (stderr by default) when at or above the level. Never pass secrets. */
typedef enum {
    CCZ_LOG_DEBUG = 0,
    CCZ_LOG_INFO = 1,
    CCZ_LOG_WARN = 2,
    CCZ_LOG_ERROR = 3,
    CCZ_LOG_OFF = 4
} ccz_log_level;

typedef void (*ccz_log_sink)(ccz_log_level level, const char *msg, void *payload);

CCZ_API void ccz_log_set_level(ccz_log_level level);
CCZ_API ccz_log_level ccz_log_get_level(void);
/* NULL restores the stderr sink. */
CCZ_API void ccz_log_set_sink(ccz_log_sink sink, void *payload);
/* Parses "debug", "info", "warn", "error", "off". */
CCZ_API CCZ_NODISCARD ccz_status ccz_log_level_parse(ccz_log_level *out, const char *s);
CCZ_API void ccz_log(ccz_log_level level, const char *fmt, ...) CCZ_PRINTF(2, 3);

/* ---- files -----------------------------------------------------------------------------------*/
/* Reads a whole file into out (appending), failing with CCZ_ERR_TOO_LARGE beyond max bytes.
 * On failure out is as it was: nothing of the file is kept (what was read is wiped). */
CCZ_API CCZ_NODISCARD ccz_status ccz_file_read(ccz_buf *out, const char *path, size_t max);
/* Writes data to path atomically (temporary file, fsync, rename) with the given mode. */
CCZ_API CCZ_NODISCARD ccz_status ccz_file_write(const char *path, ccz_span data, unsigned mode);
/* The same for a file that must not exist yet (a key): CCZ_ERR_EXISTS when path exists, even
 * one made while this was writing; an existing file is never replaced. */
CCZ_API CCZ_NODISCARD ccz_status ccz_file_create(const char *path, ccz_span data, unsigned mode);
/* A new file beside path (path.tmp-XXXXXX, mode 0600) for a writer that streams, to be renamed
 * over path once whole, so that a failure leaves path as it was: *tmp is the caller's to free
 * (also on failure), *fd its descriptor or -1. Refused when path exists and is not a regular
 * file (a FIFO, a device, a directory would be replaced). */
CCZ_API CCZ_NODISCARD ccz_status ccz_file_temp_beside(char **tmp, int *fd, const char *path);
/* Creates a directory and its parents with the given mode; existing directories are fine. */
CCZ_API CCZ_NODISCARD ccz_status ccz_mkdir_p(const char *path, unsigned mode);
CCZ_API bool ccz_file_exists(const char *path);

/* ---- parallel loops --------------------------------------------------------------------------*/

/* The number of CPUs this process may run on. */
CCZ_API unsigned ccz_cpu_count(void);
/* Runs fn(begin, end, arg) over [0, n) split into contiguous chunks on `threads` threads (0: one
 * per CPU; never more than n); the calling thread takes a chunk too. Returns the first failure
 * with its detail. */
CCZ_API CCZ_NODISCARD ccz_status ccz_parallel(size_t n, unsigned threads,
                                              ccz_status (*fn)(size_t begin, size_t end, void *arg),
                                              void *arg);
/* The same with chunks whose sizes are multiples of `grain` (the last one excepted) and up to
 * four per thread, claimed as threads come free, so that a core shared with other work does
 * not hold the loop up: for work done `grain` items at a time (eight lanes of a vector unit). */
CCZ_API CCZ_NODISCARD ccz_status ccz_parallel_grain(size_t n, unsigned threads, size_t grain,
                                                    ccz_status (*fn)(size_t begin, size_t end,
                                                                     void *arg),
                                                    void *arg);

/* ---- JSON (jansson) --------------------------------------------------------------------------
 * Thin, checked access to JSON documents; the document type is jansson's json_t, kept opaque
 * here so this header needs no jansson include. */
typedef struct json_t ccz_json;

/* Parses text (at most max bytes; no duplicate keys) into *out, which the caller releases with
 * ccz_json_free. Errors name line and column. */
CCZ_API CCZ_NODISCARD ccz_status ccz_json_parse(ccz_json **out, const char *text, size_t len,
                                                size_t max);
CCZ_API void ccz_json_free(ccz_json *j);
/* The same, wiping every string in j first (keys excepted): for a document that holds a
 * plaintext, a key or a token, whose copies jansson frees as they are. */
CCZ_API void ccz_json_free_wiped(ccz_json *j);
/* Appends j (any JSON value) as text to out: indented by two spaces, or compact on one line;
 * object keys in insertion order; no trailing newline. */
CCZ_API CCZ_NODISCARD ccz_status ccz_json_dump(ccz_buf *out, const ccz_json *j, bool indent);
/* Appends j in Python's marshal format (version 4: marshal.loads of the bytes is the value
 * json.loads makes of its text, keys in insertion order), for the Python binding. */
CCZ_API CCZ_NODISCARD ccz_status ccz_json_dump_marshal(ccz_buf *out, const ccz_json *j);
/* Finds member `key` of the top-level object in JSON text and returns its value's exact bytes
 * (a signature may cover them byte for byte). Does not validate the rest of the document;
 * CCZ_ERR_NOT_FOUND when absent, CCZ_ERR_JSON when the text is not an object. */
CCZ_API CCZ_NODISCARD ccz_status ccz_json_raw_member(ccz_span *value, ccz_span doc,
                                                     const char *key);

#ifdef __cplusplus
}
#endif
#endif
