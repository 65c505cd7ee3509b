/* SPDX-License-Identifier: Apache-2.0 */
/* ccz pf: protected files in Gramine's format (its "encrypted files", from Intel SGX SDK's
 * protected FS), format versions 1 (Gramine <= 1.8) and 2 (>= 1.9). A file is 4 KiB nodes: a
 * metadata node encrypted under a key derived from the 16-byte wrap key (SP 800-108 counter mode,
 * AES-128-CMAC), holding the bound path, the size, the first 3 KiB of data and the key of the
 * root of a Merkle tree of MHT nodes, whose slots hold the fresh random AES-128-GCM key and tag
 * of every data and child MHT node. Everything read from the host file is untrusted: each node
 * is authenticated before use, and a failure names the node. Reads and writes touch only the
 * nodes they need. See docs/pf.md. */
#ifndef CCZ_PF_H
#define CCZ_PF_H

#include "ccz/core.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CCZ_PF_KEY_SIZE 16
#define CCZ_PF_NODE_SIZE 4096
/* The longest bound path, in bytes without its NUL (the format holds 772 with the NUL). */
#define CCZ_PF_PATH_MAX 771
/* The largest plaintext size ccz writes or accepts (1 EiB). */
#define CCZ_PF_MAX_SIZE (UINT64_C(1) << 60)

typedef enum {
    CCZ_PF_READ = 0,       /* an existing file, read only */
    CCZ_PF_READ_WRITE = 1, /* an existing file, read and written; it keeps its format */
    CCZ_PF_CREATE = 2      /* a new, empty file (an existing host file is emptied first) */
} ccz_pf_mode;

/* Where the host file's bytes live. Every callback returns CCZ_OK or a failure with its
 * detail; read must fill all n bytes (CCZ_ERR_TRUNCATED when the file ends first). truncate and
 * sync may be NULL for a read-only file. */
typedef struct {
    ccz_status (*read)(void *payload, uint64_t offset, void *buf, size_t n);
    ccz_status (*write)(void *payload, uint64_t offset, const void *buf, size_t n);
    ccz_status (*truncate)(void *payload, uint64_t size);
    ccz_status (*size)(void *payload, uint64_t *out);
    ccz_status (*sync)(void *payload);
    void *payload;
} ccz_pf_io;

#define CCZ_PF_OPTS_VERSION 1

typedef struct {
    unsigned version; /* CCZ_PF_OPTS_VERSION */
    ccz_pf_mode mode;
    /* the path bound into the file (Gramine binds the normalized host path): CREATE stores it
     * (required); READ and READ_WRITE compare it with the stored one (NULL: not compared) */
    const char *bound_path;
    /* CREATE: format version 1 or 2 (0: 1, which every Gramine release reads) */
    unsigned format;
    /* decrypted nodes kept in memory (0: 256, i.e. 1 MiB; at least 16) */
    unsigned cache_nodes;
} ccz_pf_opts;

#define CCZ_PF_OPTS_INIT                                                                           \
    {                                                                                              \
        CCZ_PF_OPTS_VERSION, CCZ_PF_READ, NULL, 0, 0                                               \
    }

/* An open protected file; one thread at a time. */
typedef struct ccz_pf ccz_pf;

/* Opens a protected file over io with the wrap key. Reads and authenticates the metadata node
 * (and the root MHT node); checks the format version, the bound path and that the host file
 * holds exactly the nodes the size needs. Failures: CCZ_ERR_BAD_SIGNATURE (a GCM tag mismatch:
 * wrong key or altered node), CCZ_ERR_BINDING (another bound path), CCZ_ERR_TRUNCATED (nodes
 * missing), CCZ_ERR_TRAILING_DATA, CCZ_ERR_MALFORMED, CCZ_ERR_UNSUPPORTED_VERSION,
 * CCZ_ERR_UNSUPPORTED; the detail names the node. io must outlive the handle; *out is the
 * caller's, released by ccz_pf_close. */
CCZ_API CCZ_NODISCARD ccz_status ccz_pf_open(ccz_pf **out, const ccz_pf_io *io,
                                             const uint8_t key[CCZ_PF_KEY_SIZE],
                                             const ccz_pf_opts *opts);
/* The same over a host file at file_path (created with mode 0644 under CCZ_PF_CREATE). */
CCZ_API CCZ_NODISCARD ccz_status ccz_pf_open_path(ccz_pf **out, const char *file_path,
                                                  const uint8_t key[CCZ_PF_KEY_SIZE],
                                                  const ccz_pf_opts *opts);

/* Reads up to n bytes at offset into buf; *got is n, or fewer at the end of the file (0 at or
 * past it). Each data node is authenticated (and its MHT nodes up to the root) before any of
 * its bytes is copied; a failure names the node, and leaves the handle failed: every later call
 * returns the same status. */
CCZ_API CCZ_NODISCARD ccz_status ccz_pf_read(ccz_pf *pf, void *buf, size_t *got, uint64_t offset,
                                             size_t n);
/* Writes n bytes at offset; a gap past the end is filled with zeros. Not read-only handles. */
CCZ_API CCZ_NODISCARD ccz_status ccz_pf_write(ccz_pf *pf, uint64_t offset, const void *buf,
                                              size_t n);
/* Sets the size: shrinking drops whole nodes from the host file, growing appends zeros. */
CCZ_API CCZ_NODISCARD ccz_status ccz_pf_truncate(ccz_pf *pf, uint64_t size);
/* Encrypts every changed node with a fresh key, the metadata node last, and syncs the host
 * file. */
CCZ_API CCZ_NODISCARD ccz_status ccz_pf_flush(ccz_pf *pf);
/* Authenticates every node the size covers (what 'ccz pf verify' does). */
CCZ_API CCZ_NODISCARD ccz_status ccz_pf_check(ccz_pf *pf);
/* Flushes a writable handle, wipes every key and plaintext and frees it (NULL is fine). Returns
 * the flush's status (for a writable handle that failed earlier, that failure: its changes are
 * lost); the handle is gone either way. */
CCZ_API ccz_status ccz_pf_close(ccz_pf *pf);

/* The plaintext size. */
CCZ_API uint64_t ccz_pf_size(const ccz_pf *pf);
/* The format version: 1 or 2. */
CCZ_API unsigned ccz_pf_format(const ccz_pf *pf);
/* The path bound into the file (owned by the handle). */
CCZ_API const char *ccz_pf_bound_path(const ccz_pf *pf);
/* The number of 4 KiB nodes a file of this plaintext size holds (metadata, MHT and data). */
CCZ_API uint64_t ccz_pf_node_count(uint64_t size);

/* Normalizes a path as Gramine does before binding it: "." and empty components dropped, ".."
 * eating the component before it (kept at the start of a relative path, dropped at the root of
 * an absolute one). out must hold strlen(path) + 1 bytes. */
CCZ_API void ccz_pf_normalize_path(char *out, const char *path);

#ifdef __cplusplus
}
#endif
#endif
