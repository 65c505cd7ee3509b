/* SPDX-License-Identifier: Apache-2.0 */
/* Protected files in Gramine's format (docs/pf.md): the metadata node, the Merkle tree of MHT
 * nodes and the data nodes, read and written a node at a time through a small cache. The host
 * file is untrusted: node 0's plaintext header is parsed through the cursor, every other byte
 * is used only after its AES-GCM tag verified, and a failure names the node. Secrets (the wrap
 * key, node keys, plaintext) are wiped when a node or the handle lets go of them. */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "ccz/pf.h"
#include "core/guard.h"
#include "pf/pf_format.h"

typedef struct pf_node {
    uint64_t number; /* logical: the n-th data node, or the n-th MHT node (0: the root) */
    bool mht, dirty;
    struct pf_node *prev, *next; /* the LRU list, most recent first */
    struct pf_node *chain;       /* the hash bucket */
    uint8_t plain[PF_NODE];      /* data, or 128 (key, tag) slots */
} pf_node;

struct ccz_pf {
    ccz_pf_io io;
    int fd; /* ccz_pf_open_path's host file, else -1 */
    bool writable;
    unsigned format;
    uint8_t key[CCZ_PF_KEY_SIZE];
    /* the decrypted part of the metadata node */
    char path[PF_PATH_FIELD];
    uint64_t size;
    uint8_t root_key[PF_KEY], root_tag[PF_TAG];
    uint8_t md_data[PF_MD_DATA];
    bool meta_dirty;
    pf_node root; /* never in the cache */
    /* the cache of other nodes, by physical number */
    pf_node **buckets;
    size_t n_buckets, n_cached, cap;
    pf_node *lru_head, *lru_tail;
    /* the first failure after open: every later call returns it */
    ccz_status failed;
    char failed_detail[512];
    EVP_CIPHER *gcm;
    EVP_CIPHER_CTX *ctx;
    EVP_MAC *cmac;
    uint8_t scratch[PF_NODE];
};

static const uint8_t zero_iv[PF_IV] = {0};

/* ---- node numbers -------------------------------------------------------------------------
 * Physical layout: node 0 metadata, node 1 the root MHT node, then 96 data nodes, one MHT
 * node, 96 data nodes, ... MHT node m (m >= 1) is child (m - 1) % 32 of MHT node (m - 1) / 32;
 * data node d is child d % 96 of MHT node d / 96. */
static uint64_t mht_phys(uint64_t m)
{
    return 1 + m * (PF_DATA_PER_MHT + 1);
}

static uint64_t data_phys(uint64_t d)
{
    return d + 2 + d / PF_DATA_PER_MHT;
}

uint64_t ccz_pf_node_count(uint64_t size)
{
    if (size <= PF_MD_DATA)
        return 1;
    return data_phys((size - PF_MD_DATA - 1) / PF_NODE) + 1;
}

/* A node's name in messages: its kind and number, where it is in the host file, and (data) the
 * plaintext it holds. */
static const char *node_name(char *out, size_t cap, bool mht, uint64_t number)
{
    if (mht && number == 0)
        snprintf(out, cap, "root MHT node (node 1 at file offset %d)", PF_NODE);
    else if (mht)
        snprintf(out, cap, "MHT node %llu (node %llu at file offset %llu)",
                 (unsigned long long)number, (unsigned long long)mht_phys(number),
                 (unsigned long long)(mht_phys(number) * PF_NODE));
    else
        snprintf(out, cap, "data node %llu (node %llu at file offset %llu, plaintext offset %llu)",
                 (unsigned long long)number, (unsigned long long)data_phys(number),
                 (unsigned long long)(data_phys(number) * PF_NODE),
                 (unsigned long long)(PF_MD_DATA + number * PF_NODE));
    return out;
}

/* The name of physical node p. */
static const char *phys_name(char *out, size_t cap, uint64_t p)
{
    if (p == 0) {
        snprintf(out, cap, "metadata node (node 0)");
        return out;
    }
    if (p == 1)
        return node_name(out, cap, true, 0);
    uint64_t q = p - 2, group = q / (PF_DATA_PER_MHT + 1), r = q % (PF_DATA_PER_MHT + 1);
    if (r == PF_DATA_PER_MHT)
        return node_name(out, cap, true, group + 1);
    return node_name(out, cap, false, group * PF_DATA_PER_MHT + r);
}

/* ---- crypto -------------------------------------------------------------------------------*/

static ccz_status gcm_seal(ccz_pf *pf, const uint8_t key[PF_KEY], const uint8_t *in, size_t n,
                           uint8_t *out, uint8_t tag[PF_TAG])
{
    int len = 0, fin = 0;
    CCZ_GUARD_OSSL(EVP_EncryptInit_ex2(pf->ctx, pf->gcm, key, zero_iv, NULL), CCZ_ERR_CRYPTO,
                   "protected file: AES-GCM");
    CCZ_GUARD_OSSL(EVP_EncryptUpdate(pf->ctx, out, &len, in, (int)n), CCZ_ERR_CRYPTO,
                   "protected file: AES-GCM");
    CCZ_GUARD_OSSL(EVP_EncryptFinal_ex(pf->ctx, out + len, &fin), CCZ_ERR_CRYPTO,
                   "protected file: AES-GCM");
    CCZ_GUARD_OSSL(EVP_CIPHER_CTX_ctrl(pf->ctx, EVP_CTRL_GCM_GET_TAG, PF_TAG, tag), CCZ_ERR_CRYPTO,
                   "protected file: AES-GCM tag");
    return CCZ_OK;
}

/* CCZ_OK, or CCZ_ERR_BAD_SIGNATURE (out wiped) naming `what`. */
static ccz_status gcm_open(ccz_pf *pf, const uint8_t key[PF_KEY], const uint8_t tag[PF_TAG],
                           const uint8_t *in, size_t n, uint8_t *out, const char *what,
                           const char *hint)
{
    int len = 0, fin = 0;
    uint8_t t[PF_TAG];
    memcpy(t, tag, PF_TAG);
    CCZ_GUARD_OSSL(EVP_DecryptInit_ex2(pf->ctx, pf->gcm, key, zero_iv, NULL), CCZ_ERR_CRYPTO,
                   "protected file: AES-GCM");
    CCZ_GUARD_OSSL(EVP_DecryptUpdate(pf->ctx, out, &len, in, (int)n), CCZ_ERR_CRYPTO,
                   "protected file: AES-GCM");
    CCZ_GUARD_OSSL(EVP_CIPHER_CTX_ctrl(pf->ctx, EVP_CTRL_GCM_SET_TAG, PF_TAG, t), CCZ_ERR_CRYPTO,
                   "protected file: AES-GCM tag");
    if (EVP_DecryptFinal_ex(pf->ctx, out + len, &fin) != 1) {
        ccz_wipe(out, n);
        return ccz_fail(CCZ_ERR_BAD_SIGNATURE, "protected file: %s: GCM tag mismatch%s", what,
                        hint);
    }
    return CCZ_OK;
}

/* The metadata key: SP 800-108 counter mode with AES-128-CMAC as the PRF, one block:
 * CMAC(wrap key, counter 1 | label padded to 64 bytes | nonce | 128), integers little-endian. */
static ccz_status metadata_key(ccz_pf *pf, const uint8_t nonce[PF_NONCE], uint8_t out[PF_KEY])
{
    uint8_t in[PF_KDF_INPUT] = {0};
    in[0] = 1;
    memcpy(in + 4, PF_KDF_LABEL, sizeof PF_KDF_LABEL - 1);
    memcpy(in + 4 + PF_KDF_LABEL_FIELD, nonce, PF_NONCE);
    in[4 + PF_KDF_LABEL_FIELD + PF_NONCE] = 128;
    ccz_status s = CCZ_OK;
    EVP_MAC_CTX *c = EVP_MAC_CTX_new(pf->cmac);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, "AES-128-CBC", 0),
        OSSL_PARAM_construct_end()};
    size_t n = 0;
    if (!c || EVP_MAC_init(c, pf->key, CCZ_PF_KEY_SIZE, params) != 1 ||
        EVP_MAC_update(c, in, sizeof in) != 1 || EVP_MAC_final(c, out, &n, PF_KEY) != 1 ||
        n != PF_KEY)
        s = ccz_fail_ossl(CCZ_ERR_CRYPTO, "protected file: AES-CMAC key derivation");
    EVP_MAC_CTX_free(c);
    ccz_wipe(in, sizeof in);
    return s;
}

static ccz_status fresh(void *out, size_t n)
{
    CCZ_GUARD_OSSL(RAND_bytes(out, (int)n), CCZ_ERR_CRYPTO, "protected file: RAND_bytes");
    return CCZ_OK;
}

/* ---- host I/O -----------------------------------------------------------------------------*/

static ccz_status node_read(ccz_pf *pf, uint64_t phys, uint8_t out[PF_NODE])
{
    ccz_status s = pf->io.read(pf->io.payload, phys * PF_NODE, out, PF_NODE);
    if (s != CCZ_OK) {
        char name[160];
        return ccz_fail_context(s, "protected file: %s", phys_name(name, sizeof name, phys));
    }
    return CCZ_OK;
}

static ccz_status node_write(ccz_pf *pf, uint64_t phys, const uint8_t in[PF_NODE])
{
    return pf->io.write(pf->io.payload, phys * PF_NODE, in, PF_NODE);
}

/* ---- the cache ----------------------------------------------------------------------------*/

static size_t bucket_of(const ccz_pf *pf, uint64_t phys)
{
    return (size_t)((phys * UINT64_C(0x9E3779B97F4A7C15)) >> 20) % pf->n_buckets;
}

static uint64_t node_phys(const pf_node *n)
{
    return n->mht ? mht_phys(n->number) : data_phys(n->number);
}

static pf_node *cache_find(ccz_pf *pf, uint64_t phys)
{
    for (pf_node *n = pf->buckets[bucket_of(pf, phys)]; n; n = n->chain)
        if (node_phys(n) == phys)
            return n;
    return NULL;
}

static void lru_unlink(ccz_pf *pf, pf_node *n)
{
    if (n->prev)
        n->prev->next = n->next;
    else
        pf->lru_head = n->next;
    if (n->next)
        n->next->prev = n->prev;
    else
        pf->lru_tail = n->prev;
    n->prev = n->next = NULL;
}

static void lru_push(ccz_pf *pf, pf_node *n)
{
    n->prev = NULL;
    n->next = pf->lru_head;
    if (pf->lru_head)
        pf->lru_head->prev = n;
    pf->lru_head = n;
    if (!pf->lru_tail)
        pf->lru_tail = n;
}

static void node_free(pf_node *n)
{
    if (n) {
        ccz_wipe(n->plain, sizeof n->plain);
        free(n);
    }
}

/* Takes n out of the cache without freeing it. */
static void cache_unlink(ccz_pf *pf, pf_node *n)
{
    pf_node **p = &pf->buckets[bucket_of(pf, node_phys(n))];
    while (*p != n)
        p = &(*p)->chain;
    *p = n->chain;
    lru_unlink(pf, n);
    pf->n_cached--;
}

static void cache_remove(ccz_pf *pf, pf_node *n)
{
    cache_unlink(pf, n);
    node_free(n);
}

static void cache_drop_all(ccz_pf *pf)
{
    while (pf->lru_tail)
        cache_remove(pf, pf->lru_tail);
}

static void cache_add(ccz_pf *pf, pf_node *n)
{
    size_t b = bucket_of(pf, node_phys(n));
    n->chain = pf->buckets[b];
    pf->buckets[b] = n;
    lru_push(pf, n);
    pf->n_cached++;
}

static ccz_status flush_nodes(ccz_pf *pf);

/* The most recent nodes are the chain being walked (at most 9 MHT nodes below the root for
 * CCZ_PF_MAX_SIZE, and a data node): they never leave to make room. */
#define PF_PINNED 12

/* Makes room for one more node: the least recently used clean node outside the pinned chain
 * leaves the cache and is handed back in *reuse (its plaintext is overwritten or wiped by the
 * caller); when there is none, every dirty node is written first. *reuse is NULL when the
 * cache was not full. */
static ccz_status cache_make_room(ccz_pf *pf, pf_node **reuse)
{
    *reuse = NULL;
    if (pf->n_cached < pf->cap)
        return CCZ_OK;
    for (int pass = 0; pass < 2; pass++) {
        size_t pos = pf->n_cached;
        for (pf_node *n = pf->lru_tail; n && --pos >= PF_PINNED; n = n->prev)
            if (!n->dirty) {
                cache_unlink(pf, n);
                *reuse = n;
                return CCZ_OK;
            }
        CCZ_GUARD(flush_nodes(pf));
    }
    return ccz_fail(CCZ_ERR_NOMEM, "protected file: the node cache is stuck");
}

/* ---- walking the tree ---------------------------------------------------------------------*/

/* Whether a node of the tree is on the host file (else it is new: zeros). A data node is when
 * its first byte is inside the size; an MHT node when its first data node is. */
static bool data_exists(const ccz_pf *pf, uint64_t d)
{
    return PF_MD_DATA + d * PF_NODE < pf->size;
}

static ccz_status get_mht(ccz_pf *pf, uint64_t m, pf_node **out);

/* Loads node (mht, number) whose parent's slot is `slot`, or makes it new. */
static ccz_status load_node(ccz_pf *pf, bool mht, uint64_t number, const uint8_t *slot, bool exists,
                            pf_node **out)
{
    pf_node *n;
    CCZ_GUARD(cache_make_room(pf, &n));
    if (!n)
        n = malloc(sizeof *n);
    CCZ_ENSURE(n, CCZ_ERR_NOMEM, "protected file: out of memory for a node");
    memset(n, 0, offsetof(pf_node, plain));
    n->mht = mht;
    n->number = number;
    if (!exists)
        memset(n->plain, 0, sizeof n->plain);
    else {
        char name[160];
        ccz_status s = node_read(pf, node_phys(n), pf->scratch);
        if (s == CCZ_OK)
            s = gcm_open(pf, slot, slot + PF_KEY, pf->scratch, PF_NODE, n->plain,
                         node_name(name, sizeof name, mht, number), "");
        if (s != CCZ_OK) {
            node_free(n);
            return s;
        }
    }
    cache_add(pf, n);
    *out = n;
    return CCZ_OK;
}

/* MHT node m, reached from the root: every MHT node above it is in the cache too and was just
 * used (so it is pinned), even when m itself was there already. */
static ccz_status get_mht(ccz_pf *pf, uint64_t m, pf_node **out)
{
    if (m == 0) {
        *out = &pf->root;
        return CCZ_OK;
    }
    pf_node *parent;
    CCZ_GUARD(get_mht(pf, (m - 1) / PF_CHILD_MHT, &parent));
    pf_node *n = cache_find(pf, mht_phys(m));
    if (n) {
        lru_unlink(pf, n);
        lru_push(pf, n);
        *out = n;
        return CCZ_OK;
    }
    const uint8_t *slot = parent->plain + PF_MHT_SLOTS_OFFSET + ((m - 1) % PF_CHILD_MHT) * PF_SLOT;
    return load_node(pf, true, m, slot, data_exists(pf, m * PF_DATA_PER_MHT), out);
}

/* Data node d, with its MHT nodes up to the root in the cache (a clean MHT node may have left
 * while its child stayed: it comes back, so that a write can mark it dirty). */
static ccz_status get_data(ccz_pf *pf, uint64_t d, pf_node **out)
{
    pf_node *parent;
    CCZ_GUARD(get_mht(pf, d / PF_DATA_PER_MHT, &parent));
    pf_node *n = cache_find(pf, data_phys(d));
    if (n) {
        lru_unlink(pf, n);
        lru_push(pf, n);
        *out = n;
        return CCZ_OK;
    }
    const uint8_t *slot = parent->plain + (d % PF_DATA_PER_MHT) * PF_SLOT;
    return load_node(pf, false, d, slot, data_exists(pf, d), out);
}

/* A data node changed: it and its MHT nodes up to the root are written at the next flush. Its
 * MHT nodes are in the cache (it was just reached through them) and, dirty, stay there. */
static void mark_dirty(ccz_pf *pf, pf_node *data)
{
    data->dirty = true;
    for (uint64_t m = data->number / PF_DATA_PER_MHT; m != 0; m = (m - 1) / PF_CHILD_MHT) {
        pf_node *n = cache_find(pf, mht_phys(m));
        if (n)
            n->dirty = true;
    }
    pf->root.dirty = true;
    pf->meta_dirty = true;
}

/* The slot of node n in its parent (the parent is in the cache: it is dirty too). */
static uint8_t *parent_slot(ccz_pf *pf, const pf_node *n)
{
    uint64_t pm = n->mht ? (n->number - 1) / PF_CHILD_MHT : n->number / PF_DATA_PER_MHT;
    pf_node *parent = pm == 0 ? &pf->root : cache_find(pf, mht_phys(pm));
    if (!parent)
        return NULL;
    if (n->mht)
        return parent->plain + PF_MHT_SLOTS_OFFSET + ((n->number - 1) % PF_CHILD_MHT) * PF_SLOT;
    return parent->plain + (n->number % PF_DATA_PER_MHT) * PF_SLOT;
}

/* Seals node n under a fresh key into its parent's slot and writes it. */
static ccz_status seal_node(ccz_pf *pf, pf_node *n)
{
    uint8_t *slot = parent_slot(pf, n);
    CCZ_ENSURE(slot, CCZ_ERR_CRYPTO, "protected file: a dirty node lost its parent");
    CCZ_GUARD(fresh(slot, PF_KEY));
    CCZ_GUARD(gcm_seal(pf, slot, n->plain, PF_NODE, pf->scratch, slot + PF_KEY));
    CCZ_GUARD(node_write(pf, node_phys(n), pf->scratch));
    n->dirty = false;
    return CCZ_OK;
}

static int by_number_desc(const void *a, const void *b)
{
    uint64_t x = (*(pf_node *const *)a)->number, y = (*(pf_node *const *)b)->number;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* Writes the metadata node: a fresh nonce, the derived key, the decrypted part sealed. */
static ccz_status write_metadata(ccz_pf *pf)
{
    uint8_t nonce[PF_NONCE], key[PF_KEY], tag[PF_TAG];
    uint8_t plain[PF_MD_ENC], *node = pf->scratch;
    memset(plain, 0, sizeof plain);
    memcpy(plain, pf->path, PF_PATH_FIELD);
    for (int i = 0; i < 8; i++)
        plain[PF_PATH_FIELD + i] = (uint8_t)(pf->size >> (8 * i));
    memcpy(plain + PF_PATH_FIELD + 8, pf->root_key, PF_KEY);
    memcpy(plain + PF_PATH_FIELD + 8 + PF_KEY, pf->root_tag, PF_TAG);
    memcpy(plain + PF_PATH_FIELD + 8 + PF_KEY + PF_TAG, pf->md_data, PF_MD_DATA);
    size_t head = pf->format == 1 ? PF_HEADER_V1 : PF_HEADER_V2;
    memset(node, 0, PF_NODE);
    ccz_status s = fresh(nonce, sizeof nonce);
    if (s == CCZ_OK)
        s = metadata_key(pf, nonce, key);
    if (s == CCZ_OK)
        s = gcm_seal(pf, key, plain, sizeof plain, node + head, tag);
    if (s == CCZ_OK) {
        for (int i = 0; i < 8; i++)
            node[i] = (uint8_t)(PF_FILE_ID >> (8 * i));
        node[8] = (uint8_t)pf->format;
        node[9] = 0; /* minor version */
        memcpy(node + 10, nonce, PF_NONCE);
        memcpy(node + 10 + PF_NONCE, tag, PF_TAG);
        /* version 2's feature flags (byte 58) stay 0: no pending write */
        s = node_write(pf, 0, node);
    }
    ccz_wipe(plain, sizeof plain);
    ccz_wipe(key, sizeof key);
    return s;
}

/* Seals every changed node bottom-up (data nodes, MHT nodes from the deepest, the root), each
 * under a fresh key kept in its parent, then the metadata node. */
static ccz_status flush_nodes(ccz_pf *pf)
{
    if (!pf->meta_dirty)
        return CCZ_OK;
    if (pf->size > PF_MD_DATA && pf->root.dirty) {
        pf_node **mhts = calloc(pf->n_cached + 1, sizeof *mhts);
        CCZ_ENSURE(mhts, CCZ_ERR_NOMEM, "protected file: out of memory");
        size_t k = 0;
        ccz_status s = CCZ_OK;
        /* every dirty node's parent is here (the walk keeps them): checked before anything is
         * written, so a broken invariant cannot leave a half-written file */
        for (pf_node *n = pf->lru_head; n && s == CCZ_OK; n = n->next)
            if (n->dirty && !parent_slot(pf, n))
                s = ccz_fail(CCZ_ERR_CRYPTO, "protected file: a dirty node lost its parent");
        for (pf_node *n = pf->lru_head; n && s == CCZ_OK; n = n->next) {
            if (n->dirty && !n->mht)
                s = seal_node(pf, n);
            else if (n->dirty)
                mhts[k++] = n;
        }
        qsort(mhts, k, sizeof *mhts, by_number_desc);
        for (size_t i = 0; i < k && s == CCZ_OK; i++)
            s = seal_node(pf, mhts[i]);
        free(mhts);
        CCZ_GUARD(s);
        CCZ_GUARD(fresh(pf->root_key, PF_KEY));
        CCZ_GUARD(gcm_seal(pf, pf->root_key, pf->root.plain, PF_NODE, pf->scratch, pf->root_tag));
        CCZ_GUARD(node_write(pf, 1, pf->scratch));
        pf->root.dirty = false;
    }
    CCZ_GUARD(write_metadata(pf));
    pf->meta_dirty = false;
    return CCZ_OK;
}

/* ---- opening ------------------------------------------------------------------------------*/

/* Parses and authenticates node 0 (in pf->scratch). */
static ccz_status read_metadata(ccz_pf *pf)
{
    static const char node0[] = "metadata node (node 0)";
    ccz_cursor c;
    ccz_cursor_init(&c, CCZ_SPAN(pf->scratch, PF_NODE));
    uint64_t id;
    uint8_t major, minor, flags = 0, nonce[PF_NONCE], tag[PF_TAG];
    CCZ_GUARD(ccz_cursor_u64le(&c, &id));
    CCZ_ENSURE(id == PF_FILE_ID, CCZ_ERR_MALFORMED,
               "protected file: %s: file id %016llx is not Gramine's (%016llx): not a protected "
               "file",
               node0, (unsigned long long)id, (unsigned long long)PF_FILE_ID);
    CCZ_GUARD(ccz_cursor_u8(&c, &major));
    CCZ_GUARD(ccz_cursor_u8(&c, &minor));
    CCZ_ENSURE((major == 1 || major == 2) && minor == 0, CCZ_ERR_UNSUPPORTED_VERSION,
               "protected file: %s: format version %u.%u (ccz reads 1.0 and 2.0)", node0, major,
               minor);
    pf->format = major;
    CCZ_GUARD(ccz_cursor_copy(&c, nonce, sizeof nonce));
    CCZ_GUARD(ccz_cursor_copy(&c, tag, sizeof tag));
    if (major == 2) {
        CCZ_GUARD(ccz_cursor_u8(&c, &flags));
        CCZ_ENSURE(!(flags & PF_FLAG_PENDING_WRITE), CCZ_ERR_UNSUPPORTED,
                   "protected file: %s: a write was interrupted (has-pending-write flag set): "
                   "recover the file with Gramine and its recovery file first",
                   node0);
        CCZ_ENSURE(flags == 0, CCZ_ERR_UNSUPPORTED,
                   "protected file: %s: unknown feature flags 0x%02x", node0, flags);
    }
    ccz_span enc, pad;
    CCZ_GUARD(ccz_cursor_take(&c, &enc, PF_MD_ENC));
    CCZ_GUARD(ccz_cursor_take(&c, &pad, ccz_cursor_remaining(&c)));
    for (size_t i = 0; i < pad.len; i++)
        CCZ_ENSURE(pad.ptr[i] == 0, CCZ_ERR_MALFORMED,
                   "protected file: %s: padding byte at offset %zu is not zero", node0,
                   PF_NODE - pad.len + i);

    uint8_t key[PF_KEY], plain[PF_MD_ENC];
    CCZ_GUARD(metadata_key(pf, nonce, key));
    ccz_status s = gcm_open(pf, key, tag, enc.ptr, enc.len, plain, node0,
                            " (a wrong key, or the node was altered)");
    ccz_wipe(key, sizeof key);
    CCZ_GUARD(s);
    ccz_cursor d;
    ccz_cursor_init(&d, CCZ_SPAN(plain, sizeof plain));
    s = ccz_cursor_copy(&d, pf->path, PF_PATH_FIELD);
    if (s == CCZ_OK)
        s = ccz_cursor_u64le(&d, &pf->size);
    if (s == CCZ_OK)
        s = ccz_cursor_copy(&d, pf->root_key, PF_KEY);
    if (s == CCZ_OK)
        s = ccz_cursor_copy(&d, pf->root_tag, PF_TAG);
    if (s == CCZ_OK)
        s = ccz_cursor_copy(&d, pf->md_data, PF_MD_DATA);
    if (s == CCZ_OK)
        s = ccz_cursor_expect_end(&d);
    ccz_wipe(plain, sizeof plain);
    CCZ_GUARD(s);
    CCZ_ENSURE(memchr(pf->path, 0, PF_PATH_FIELD), CCZ_ERR_MALFORMED,
               "protected file: %s: the bound path has no terminating NUL", node0);
    CCZ_ENSURE(pf->size <= CCZ_PF_MAX_SIZE, CCZ_ERR_MALFORMED,
               "protected file: %s: size %llu is beyond the %llu-byte limit", node0,
               (unsigned long long)pf->size, (unsigned long long)CCZ_PF_MAX_SIZE);
    return CCZ_OK;
}

static ccz_status open_existing(ccz_pf *pf, const char *bound_path)
{
    uint64_t host = 0;
    CCZ_GUARD(pf->io.size(pf->io.payload, &host));
    CCZ_ENSURE(host > 0, CCZ_ERR_TRUNCATED,
               "protected file: the file is empty (a protected file has at least its metadata "
               "node)");
    CCZ_ENSURE(host % PF_NODE == 0, CCZ_ERR_MALFORMED,
               "protected file: %llu bytes is not a whole number of %d-byte nodes",
               (unsigned long long)host, PF_NODE);
    CCZ_GUARD(node_read(pf, 0, pf->scratch));
    CCZ_GUARD(read_metadata(pf));
    if (bound_path)
        CCZ_ENSURE(strcmp(pf->path, bound_path) == 0, CCZ_ERR_BINDING,
                   "protected file: bound to path '%s', not '%s'", pf->path, bound_path);
    uint64_t need = ccz_pf_node_count(pf->size), have = host / PF_NODE;
    char name[160];
    CCZ_ENSURE(have >= need, CCZ_ERR_TRUNCATED,
               "protected file: truncated: %llu nodes where size %llu needs %llu (%s is missing)",
               (unsigned long long)have, (unsigned long long)pf->size, (unsigned long long)need,
               phys_name(name, sizeof name, have));
    CCZ_ENSURE(have == need, CCZ_ERR_TRAILING_DATA,
               "protected file: %llu nodes where size %llu needs %llu", (unsigned long long)have,
               (unsigned long long)pf->size, (unsigned long long)need);
    if (pf->size > PF_MD_DATA) {
        CCZ_GUARD(node_read(pf, 1, pf->scratch));
        CCZ_GUARD(gcm_open(pf, pf->root_key, pf->root_tag, pf->scratch, PF_NODE, pf->root.plain,
                           node_name(name, sizeof name, true, 0), ""));
    }
    return CCZ_OK;
}

static ccz_status fd_read(void *payload, uint64_t off, void *buf, size_t n)
{
    int fd = *(int *)payload;
    for (size_t done = 0; done < n;) {
        ssize_t r = pread(fd, (uint8_t *)buf + done, n - done, (off_t)(off + done));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return ccz_fail(CCZ_ERR_IO, "read failed: %s", strerror(errno));
        if (r == 0) { /* where the file ends, which a read wholly past it does not show */
            struct stat st;
            uint64_t end = off + done;
            if (fstat(fd, &st) == 0 && (uint64_t)st.st_size < end)
                end = (uint64_t)st.st_size;
            return ccz_fail(CCZ_ERR_TRUNCATED, "the file ends at byte %llu",
                            (unsigned long long)end);
        }
        done += (size_t)r;
    }
    return CCZ_OK;
}

static ccz_status fd_write(void *payload, uint64_t off, const void *buf, size_t n)
{
    int fd = *(int *)payload;
    for (size_t done = 0; done < n;) {
        ssize_t r = pwrite(fd, (const uint8_t *)buf + done, n - done, (off_t)(off + done));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return ccz_fail(CCZ_ERR_IO, "protected file: write failed: %s", strerror(errno));
        done += (size_t)r;
    }
    return CCZ_OK;
}

static ccz_status fd_truncate(void *payload, uint64_t size)
{
    if (ftruncate(*(int *)payload, (off_t)size) != 0)
        return ccz_fail(CCZ_ERR_IO, "protected file: truncate failed: %s", strerror(errno));
    return CCZ_OK;
}

static ccz_status fd_size(void *payload, uint64_t *out)
{
    struct stat st;
    if (fstat(*(int *)payload, &st) != 0)
        return ccz_fail(CCZ_ERR_IO, "protected file: stat failed: %s", strerror(errno));
    CCZ_ENSURE(S_ISREG(st.st_mode), CCZ_ERR_IO, "protected file: not a regular file");
    *out = (uint64_t)st.st_size;
    return CCZ_OK;
}

static ccz_status fd_sync(void *payload)
{
    if (fsync(*(int *)payload) != 0)
        return ccz_fail(CCZ_ERR_IO, "protected file: fsync failed: %s", strerror(errno));
    return CCZ_OK;
}

static void pf_free(ccz_pf *pf)
{
    if (!pf)
        return;
    if (pf->buckets)
        cache_drop_all(pf);
    free(pf->buckets);
    EVP_CIPHER_CTX_free(pf->ctx);
    EVP_CIPHER_free(pf->gcm);
    EVP_MAC_free(pf->cmac);
    if (pf->fd >= 0)
        close(pf->fd);
    ccz_wipe(pf, sizeof *pf);
    free(pf);
}

static ccz_status pf_new(ccz_pf **out, const ccz_pf_opts *o)
{
    CCZ_ENSURE(o && o->version == CCZ_PF_OPTS_VERSION, CCZ_ERR_INVALID_ARGUMENT,
               "protected file: options of version %u (this library reads %d)", o ? o->version : 0,
               CCZ_PF_OPTS_VERSION);
    CCZ_ENSURE(o->mode == CCZ_PF_READ || o->mode == CCZ_PF_READ_WRITE || o->mode == CCZ_PF_CREATE,
               CCZ_ERR_INVALID_ARGUMENT, "protected file: unknown mode %d", (int)o->mode);
    if (o->mode == CCZ_PF_CREATE) {
        CCZ_ENSURE(o->format <= 2, CCZ_ERR_INVALID_ARGUMENT,
                   "protected file: format %u (1 for Gramine <= 1.8, 2 for >= 1.9)", o->format);
        CCZ_ENSURE(o->bound_path, CCZ_ERR_INVALID_ARGUMENT,
                   "protected file: a new file needs the path to bind");
    }
    CCZ_ENSURE(!o->bound_path || strlen(o->bound_path) <= CCZ_PF_PATH_MAX, CCZ_ERR_INVALID_ARGUMENT,
               "protected file: the bound path is longer than %d bytes", CCZ_PF_PATH_MAX);
    ccz_pf *pf = calloc(1, sizeof *pf);
    CCZ_ENSURE(pf, CCZ_ERR_NOMEM, "protected file: out of memory");
    pf->fd = -1;
    pf->root.mht = true;
    pf->cap = o->cache_nodes ? (o->cache_nodes < 16 ? 16 : o->cache_nodes) : 256;
    pf->n_buckets = pf->cap * 2 + 1;
    pf->buckets = calloc(pf->n_buckets, sizeof *pf->buckets);
    pf->gcm = EVP_CIPHER_fetch(NULL, "AES-128-GCM", NULL);
    pf->ctx = EVP_CIPHER_CTX_new();
    pf->cmac = EVP_MAC_fetch(NULL, "CMAC", NULL);
    if (!pf->buckets || !pf->gcm || !pf->ctx || !pf->cmac) {
        pf_free(pf);
        return ccz_fail_ossl(CCZ_ERR_NOMEM, "protected file: cannot set up AES-GCM and CMAC");
    }
    *out = pf;
    return CCZ_OK;
}

static ccz_status pf_start(ccz_pf *pf, const uint8_t key[CCZ_PF_KEY_SIZE], const ccz_pf_opts *o)
{
    memcpy(pf->key, key, CCZ_PF_KEY_SIZE);
    pf->writable = o->mode != CCZ_PF_READ;
    if (o->mode != CCZ_PF_CREATE)
        return open_existing(pf, o->bound_path);
    CCZ_ENSURE(pf->io.truncate, CCZ_ERR_INVALID_ARGUMENT,
               "protected file: creating needs an io with truncate");
    CCZ_GUARD(pf->io.truncate(pf->io.payload, 0));
    pf->format = o->format ? o->format : 1;
    strcpy(pf->path, o->bound_path);
    pf->meta_dirty = true;
    return flush_nodes(pf);
}

ccz_status ccz_pf_open(ccz_pf **out, const ccz_pf_io *io, const uint8_t key[CCZ_PF_KEY_SIZE],
                       const ccz_pf_opts *opts)
{
    *out = NULL;
    CCZ_ENSURE(io && io->read && io->size && key, CCZ_ERR_INVALID_ARGUMENT,
               "protected file: io needs read and size, and a key");
    CCZ_ENSURE(!opts || opts->mode == CCZ_PF_READ || io->write, CCZ_ERR_INVALID_ARGUMENT,
               "protected file: writing needs an io with write");
    ccz_pf *pf;
    CCZ_GUARD(pf_new(&pf, opts));
    pf->io = *io;
    ccz_status s = pf_start(pf, key, opts);
    if (s != CCZ_OK) {
        pf_free(pf);
        return s;
    }
    *out = pf;
    return CCZ_OK;
}

ccz_status ccz_pf_open_path(ccz_pf **out, const char *file_path, const uint8_t key[CCZ_PF_KEY_SIZE],
                            const ccz_pf_opts *opts)
{
    *out = NULL;
    CCZ_ENSURE(file_path && key, CCZ_ERR_INVALID_ARGUMENT, "protected file: no path or key");
    ccz_pf *pf;
    CCZ_GUARD(pf_new(&pf, opts));
    int flags = opts->mode == CCZ_PF_READ ? O_RDONLY : O_RDWR;
    if (opts->mode == CCZ_PF_CREATE)
        flags |= O_CREAT;
    /* O_NONBLOCK: a FIFO without a writer is refused below, not waited on (it does nothing to a
     * regular file's reads and writes) */
    pf->fd = open(file_path, flags | O_CLOEXEC | O_NONBLOCK, 0644);
    if (pf->fd < 0) {
        int e = errno;
        pf_free(pf);
        return ccz_fail(e == ENOENT ? CCZ_ERR_NOT_FOUND : CCZ_ERR_IO, "cannot open %s: %s",
                        file_path, strerror(e));
    }
    pf->io = (ccz_pf_io){fd_read, fd_write, fd_truncate, fd_size, fd_sync, &pf->fd};
    uint64_t host;
    ccz_status s = fd_size(&pf->fd, &host); /* a regular file, in every mode */
    if (s == CCZ_OK)
        s = pf_start(pf, key, opts);
    if (s != CCZ_OK) {
        pf_free(pf);
        return ccz_fail_context(s, "%s", file_path);
    }
    *out = pf;
    return CCZ_OK;
}

/* ---- reading and writing ------------------------------------------------------------------*/

/* Every call after a failure returns it again. The caller's arguments are checked before
 * anything is touched and never reach record; what does is a failure of the file or of its io,
 * whatever status the io chose (a write it refused may be half done in the cache). */
static ccz_status usable(const ccz_pf *pf)
{
    CCZ_ENSURE(pf, CCZ_ERR_INVALID_ARGUMENT, "protected file: no handle");
    if (pf->failed != CCZ_OK)
        return ccz_fail(pf->failed, "%s", pf->failed_detail);
    return CCZ_OK;
}

static ccz_status record(ccz_pf *pf, ccz_status s)
{
    if (s != CCZ_OK && pf->failed == CCZ_OK) {
        pf->failed = s;
        snprintf(pf->failed_detail, sizeof pf->failed_detail, "%s", ccz_error_detail());
    }
    return s;
}

ccz_status ccz_pf_read(ccz_pf *pf, void *buf, size_t *got, uint64_t offset, size_t n)
{
    *got = 0;
    CCZ_GUARD(usable(pf));
    if (offset >= pf->size)
        return CCZ_OK;
    if (n > pf->size - offset)
        n = (size_t)(pf->size - offset);
    uint8_t *dst = buf;
    while (*got < n) {
        size_t k;
        if (offset < PF_MD_DATA) {
            k = PF_MD_DATA - (size_t)offset < n - *got ? PF_MD_DATA - (size_t)offset : n - *got;
            memcpy(dst + *got, pf->md_data + offset, k);
        } else {
            uint64_t d = (offset - PF_MD_DATA) / PF_NODE;
            size_t at = (size_t)((offset - PF_MD_DATA) % PF_NODE);
            k = PF_NODE - at < n - *got ? PF_NODE - at : n - *got;
            pf_node *node;
            ccz_status s = get_data(pf, d, &node);
            if (s != CCZ_OK) {
                *got = 0;
                return record(pf, s);
            }
            memcpy(dst + *got, node->plain + at, k);
        }
        *got += k;
        offset += k;
    }
    return CCZ_OK;
}

/* Writes n bytes of src (NULL: zeros) at offset, offset <= size. */
static ccz_status write_range(ccz_pf *pf, uint64_t offset, const uint8_t *src, uint64_t n)
{
    while (n > 0) {
        size_t k;
        if (offset < PF_MD_DATA) {
            k = PF_MD_DATA - (size_t)offset < n ? PF_MD_DATA - (size_t)offset : (size_t)n;
            if (src)
                memcpy(pf->md_data + offset, src, k);
            else
                memset(pf->md_data + offset, 0, k);
        } else {
            uint64_t d = (offset - PF_MD_DATA) / PF_NODE;
            size_t at = (size_t)((offset - PF_MD_DATA) % PF_NODE);
            k = PF_NODE - at < n ? PF_NODE - at : (size_t)n;
            pf_node *node;
            CCZ_GUARD(get_data(pf, d, &node));
            if (src)
                memcpy(node->plain + at, src, k);
            else
                memset(node->plain + at, 0, k);
            mark_dirty(pf, node);
        }
        pf->meta_dirty = true;
        offset += k;
        n -= k;
        if (src)
            src += k;
        if (offset > pf->size)
            pf->size = offset;
    }
    return CCZ_OK;
}

static ccz_status writable(const ccz_pf *pf)
{
    CCZ_GUARD(usable(pf));
    CCZ_ENSURE(pf->writable, CCZ_ERR_INVALID_ARGUMENT, "protected file: opened read-only");
    return CCZ_OK;
}

ccz_status ccz_pf_write(ccz_pf *pf, uint64_t offset, const void *buf, size_t n)
{
    CCZ_GUARD(writable(pf));
    CCZ_ENSURE(buf || n == 0, CCZ_ERR_INVALID_ARGUMENT,
               "protected file: no buffer for %zu bytes to write", n);
    CCZ_ENSURE(offset <= CCZ_PF_MAX_SIZE && n <= CCZ_PF_MAX_SIZE - offset, CCZ_ERR_TOO_LARGE,
               "protected file: writing past the %llu-byte limit",
               (unsigned long long)CCZ_PF_MAX_SIZE);
    if (n == 0)
        return CCZ_OK;
    if (offset > pf->size)
        CCZ_GUARD(record(pf, write_range(pf, pf->size, NULL, offset - pf->size)));
    return record(pf, write_range(pf, offset, buf, n));
}

ccz_status ccz_pf_truncate(ccz_pf *pf, uint64_t size)
{
    CCZ_GUARD(writable(pf));
    CCZ_ENSURE(size <= CCZ_PF_MAX_SIZE, CCZ_ERR_TOO_LARGE,
               "protected file: %llu bytes is past the %llu-byte limit", (unsigned long long)size,
               (unsigned long long)CCZ_PF_MAX_SIZE);
    if (size >= pf->size)
        return record(pf, write_range(pf, pf->size, NULL, size - pf->size));
    CCZ_ENSURE(pf->io.truncate, CCZ_ERR_INVALID_ARGUMENT, "protected file: io has no truncate");
    /* The cut bytes of the node the file now ends in (the metadata node's data, or a data
     * node) become zeros, not old data left under the key. */
    uint64_t node_end = PF_MD_DATA;
    if (size > PF_MD_DATA)
        node_end += (size - PF_MD_DATA + PF_NODE - 1) / PF_NODE * PF_NODE;
    uint64_t cut_end = node_end < pf->size ? node_end : pf->size;
    CCZ_GUARD(record(pf, write_range(pf, size, NULL, cut_end - size)));
    /* Whole nodes past the new size leave the host file; the slots that pointed at them stay
     * in their MHT nodes unused, as Gramine leaves them, until those nodes are written again. */
    CCZ_GUARD(record(pf, flush_nodes(pf)));
    cache_drop_all(pf);
    CCZ_GUARD(record(pf, pf->io.truncate(pf->io.payload, ccz_pf_node_count(size) * PF_NODE)));
    pf->size = size;
    pf->meta_dirty = true;
    return CCZ_OK;
}

ccz_status ccz_pf_flush(ccz_pf *pf)
{
    CCZ_GUARD(writable(pf));
    CCZ_GUARD(record(pf, flush_nodes(pf)));
    if (pf->io.sync)
        CCZ_GUARD(record(pf, pf->io.sync(pf->io.payload)));
    return CCZ_OK;
}

ccz_status ccz_pf_check(ccz_pf *pf)
{
    CCZ_GUARD(usable(pf));
    if (pf->size <= PF_MD_DATA)
        return CCZ_OK;
    uint64_t last = (pf->size - PF_MD_DATA - 1) / PF_NODE;
    for (uint64_t d = 0; d <= last; d++) {
        pf_node *node;
        CCZ_GUARD(record(pf, get_data(pf, d, &node)));
    }
    return CCZ_OK;
}

ccz_status ccz_pf_close(ccz_pf *pf)
{
    if (!pf)
        return CCZ_OK;
    ccz_status s = CCZ_OK;
    if (pf->writable && pf->failed != CCZ_OK) /* changes were lost: say so again */
        s = ccz_fail(pf->failed, "%s", pf->failed_detail);
    else if (pf->writable) {
        s = flush_nodes(pf);
        if (s == CCZ_OK && pf->io.sync)
            s = pf->io.sync(pf->io.payload);
    }
    pf_free(pf);
    return s;
}

uint64_t ccz_pf_size(const ccz_pf *pf)
{
    return pf->size;
}

unsigned ccz_pf_format(const ccz_pf *pf)
{
    return pf->format;
}

const char *ccz_pf_bound_path(const ccz_pf *pf)
{
    return pf->path;
}

void ccz_pf_normalize_path(char *out, const char *path)
{
    bool absolute = path[0] == '/';
    size_t len = 0, fixed = 0; /* fixed: a prefix ".." cannot eat ("/" or leading ".."s) */
    if (absolute)
        out[len++] = '/', fixed = 1;
    for (const char *p = path; *p;) {
        const char *end = strchr(p, '/');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == 2 && p[0] == '.' && p[1] == '.') {
            if (len > fixed) { /* drop the last component and its slash */
                while (len > fixed && out[len - 1] != '/')
                    len--;
                if (len > fixed)
                    len--;
            } else if (!absolute) {
                if (len > 0)
                    out[len++] = '/';
                out[len++] = '.', out[len++] = '.';
                fixed = len;
            }
        } else if (n > 0 && !(n == 1 && p[0] == '.')) {
            if (len > 0 && out[len - 1] != '/')
                out[len++] = '/';
            memcpy(out + len, p, n);
            len += n;
        }
        p += n + (end != NULL);
    }
    out[len] = '\0';
}
