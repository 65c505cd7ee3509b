/* SPDX-License-Identifier: Apache-2.0 */
/* A small process-wide cache of parsed certificates and public keys, keyed by the exact bytes
 * they were read from. A verifier sees the same platform certificate, PCK chain or attestation
 * key in every piece of evidence from one machine, and OpenSSL 3.0 spends most of a short
 * verification decoding them again (d2i_X509 builds a key decoder for every certificate). The
 * objects are shared: callers get new references and must not modify them. Only parsing is
 * cached, never a verdict: every chain and signature is still checked on every call. */
#include <pthread.h>
#include <string.h>

#include "core/guard.h"
#include "x509/x509.h"

#define CACHE_ENTRIES 32
#define CACHE_MAX_INPUT (16 * 1024) /* a PCK chain in PEM is about 3.5 KiB */

typedef struct {
    int kind; /* 0: unused */
    uint8_t *bytes;
    size_t len;
    STACK_OF(X509) *certs;
    EVP_PKEY *key;
    uint64_t used;
} cache_entry;

static struct {
    pthread_mutex_t lock;
    cache_entry e[CACHE_ENTRIES];
    uint64_t clock;
} cache = {.lock = PTHREAD_MUTEX_INITIALIZER};

static cache_entry *find(int kind, ccz_span in)
{
    for (size_t i = 0; i < CACHE_ENTRIES; i++) {
        cache_entry *e = &cache.e[i];
        if (e->kind == kind && e->len == in.len && memcmp(e->bytes, in.ptr, in.len) == 0)
            return e;
    }
    return NULL;
}

/* A new stack holding new references to the certificates of src. */
static STACK_OF(X509) *share(STACK_OF(X509) *src)
{
    STACK_OF(X509) *out = sk_X509_new_reserve(NULL, sk_X509_num(src));
    for (int i = 0; out && i < sk_X509_num(src); i++) {
        X509 *x = sk_X509_value(src, i);
        if (!X509_up_ref(x) || !sk_X509_push(out, x)) {
            sk_X509_pop_free(out, X509_free);
            return NULL;
        }
    }
    return out;
}

bool x509_cache_get(int kind, ccz_span in, STACK_OF(X509) **certs, EVP_PKEY **key)
{
    if (in.len == 0 || in.len > CACHE_MAX_INPUT)
        return false;
    bool hit = false;
    pthread_mutex_lock(&cache.lock);
    cache_entry *e = find(kind, in);
    if (e && certs && e->certs)
        hit = (*certs = share(e->certs)) != NULL;
    else if (e && key && e->key)
        hit = EVP_PKEY_up_ref(e->key) == 1 && (*key = e->key) != NULL;
    if (hit)
        e->used = ++cache.clock;
    pthread_mutex_unlock(&cache.lock);
    return hit;
}

void x509_cache_put(int kind, ccz_span in, STACK_OF(X509) *certs, EVP_PKEY *key)
{
    if (in.len == 0 || in.len > CACHE_MAX_INPUT || kind == 0)
        return;
    uint8_t *bytes = malloc(in.len);
    STACK_OF(X509) *c = certs ? share(certs) : NULL;
    bool ok = bytes && (certs ? c != NULL : key && EVP_PKEY_up_ref(key) == 1);
    if (!ok) {
        free(bytes);
        sk_X509_pop_free(c, X509_free);
        return;
    }
    memcpy(bytes, in.ptr, in.len);
    pthread_mutex_lock(&cache.lock);
    cache_entry *e = find(kind, in);
    if (!e) { /* the least recently used entry makes room */
        e = &cache.e[0];
        for (size_t i = 1; i < CACHE_ENTRIES; i++)
            if (cache.e[i].used < e->used)
                e = &cache.e[i];
    }
    cache_entry old = *e;
    *e = (cache_entry){kind, bytes, in.len, c, c ? NULL : key, ++cache.clock};
    pthread_mutex_unlock(&cache.lock);
    free(old.bytes);
    sk_X509_pop_free(old.certs, X509_free);
    EVP_PKEY_free(old.key);
}
