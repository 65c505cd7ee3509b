/* SPDX-License-Identifier: Apache-2.0 */
/* The KMS's actions: eHSM-KMS's payload checks (field by field, eHSM's messages), the keys'
 * metadata and wrapped material in the store, a cache of loaded key versions, and each action.
 * A key's material is only ever in the store wrapped under the domain key, with the key's id,
 * owner, spec, usage and version as AAD. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "core/guard.h"
#include "svc/kms/kms.h"

#define YEAR_MS (365LL * 24 * 3600 * 1000)
#define IMPORT_TTL_MS (24LL * 3600 * 1000)

/* ---- payload checks ------------------------------------------------------------------------*/

typedef enum { F_KEYID, F_B64, F_STR, F_INT, F_ENUM, F_UUID, F_HEX64 } field_type;

struct kms_field {
    const char *name;
    field_type type;
    bool required;
    int min, max;               /* lengths (strings) or values (integers); max 0: none */
    const char *const *choices; /* F_ENUM */
};

static const char *const specs[] = {
    "EH_AES_GCM_128", "EH_AES_GCM_192", "EH_AES_GCM_256", "EH_RSA_2048", "EH_RSA_3072",
    "EH_RSA_4096",    "EH_EC_P224",     "EH_EC_P256",     "EH_EC_P256K", "EH_EC_P384",
    "EH_EC_P521",     "EH_SM2",         "EH_SM4_CTR",     "EH_SM4_CBC",  NULL};
static const char *const origins[] = {"EH_INTERNAL_KEY", "EH_EXTERNAL_KEY", NULL};
static const char *const usages[] = {"EH_KEYUSAGE_ENCRYPT_DECRYPT", "EH_KEYUSAGE_SIGN_VERIFY",
                                     NULL};
static const char *const paddings[] = {"EH_PAD_NONE", "EH_RSA_PKCS1", "EH_RSA_PKCS1_PSS",
                                       "EH_RSA_PKCS1_OAEP", NULL};
static const char *const digests[] = {"EH_SHA_224", "EH_SHA_256", "EH_SHA_384",
                                      "EH_SHA_512", "EH_SM3",     NULL};
static const char *const message_types[] = {"EH_RAW", "EH_DIGEST", NULL};

#define KEYID                                                                                      \
    {                                                                                              \
        "keyid", F_KEYID, true, 36, 36, NULL                                                       \
    }
#define AAD                                                                                        \
    {                                                                                              \
        "aad", F_B64, false, 0, 8192, NULL                                                         \
    }
#define END                                                                                        \
    {                                                                                              \
        NULL, 0, false, 0, 0, NULL                                                                 \
    }

static bool is_b64(const char *s, size_t n)
{
    if (n == 0 || n % 4)
        return false;
    size_t pad = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                     c == '+' || c == '/';
        if (c == '=') {
            pad++;
        } else if (!alpha || pad) {
            return false;
        }
    }
    return pad <= 2;
}

/* eHSM-KMS's payload checker takes a key id as /^[a-z\d]{8}-[a-z\d]{4}-...-[a-z\d]{12}$/
 * (any lower-case letter, not only a-f); ids it would accept are accepted here. */
static bool is_uuid(const char *s)
{
    for (int i = 0; i < 36; i++) {
        char c = s[i];
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? c != '-' : !((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
            return false;
    }
    return s[36] == 0;
}

static bool is_hex64(const char *s)
{
    for (int i = 0; i < 64; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
              (s[i] >= 'A' && s[i] <= 'F')))
            return false;
    return s[64] == 0;
}

bool kms_payload_check(const kms_action *a, const json_t *payload, char *problem, size_t cap)
{
    for (const kms_field *f = a->fields; f && f->name; f++) {
        const json_t *v = payload ? json_object_get(payload, f->name) : NULL;
        bool empty = !v || json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0);
        if (empty) {
            if (f->required) {
                snprintf(problem, cap, "Missing required parameters, The %s cannot be empty.",
                         f->name);
                return false;
            }
            continue;
        }
        if (f->type == F_INT) {
            if (!json_is_integer(v)) {
                snprintf(problem, cap, "Parameter invalid, The %s must be of integer type.",
                         f->name);
                return false;
            }
            json_int_t n = json_integer_value(v);
            if (n < f->min) {
                snprintf(problem, cap,
                         "Parameter invalid, The %s value must be greater than or equal to %d.",
                         f->name, f->min);
                return false;
            }
            if (f->max && n > f->max) {
                snprintf(problem, cap,
                         "Parameter invalid, The %s value must be less than or equal to %d.",
                         f->name, f->max);
                return false;
            }
            continue;
        }
        if (!json_is_string(v)) {
            snprintf(problem, cap, "Parameter invalid, The %s must be of string type.", f->name);
            return false;
        }
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        if (f->type == F_ENUM) {
            bool found = false;
            for (const char *const *c = f->choices; *c && !found; c++)
                found = strcmp(*c, s) == 0;
            if (!found) {
                snprintf(problem, cap, "Parameter invalid, The %s type is incorrect.", f->name);
                return false;
            }
            continue;
        }
        if ((f->min && n < (size_t)f->min) || (f->max && n > (size_t)f->max)) {
            snprintf(problem, cap, "Parameter invalid, The %s length error.", f->name);
            return false;
        }
        bool ok = f->type == F_B64                          ? is_b64(s, n)
                  : f->type == F_KEYID || f->type == F_UUID ? n == 36 && is_uuid(s)
                  : f->type == F_HEX64                      ? n == 64 && is_hex64(s)
                                                            : true;
        if (!ok) {
            snprintf(problem, cap,
                     f->type == F_B64 ? "Parameter invalid, The %s not a vailed base64 string."
                                      : "Parameter invalid, The %s format wrong.",
                     f->name);
            return false;
        }
    }
    return true;
}

/* ---- payload access ------------------------------------------------------------------------*/

static const char *str(const kms_call *c, const char *name)
{
    const char *s = c->payload ? json_string_value(json_object_get(c->payload, name)) : NULL;
    return s && *s ? s : NULL;
}

static void server_error(kms_call *c, const char *what)
{
    ccz_log(CCZ_LOG_ERROR, "kms: %s: %s", what, ccz_error_detail());
    kms_refuse(c->k, c->r, 500, "Server exception.");
}

/* A checked base64 field's bytes (a missing optional field is empty). The payload checks ran,
 * so only memory can fail: the server's failure, not the field's. */
static bool bytes(kms_call *c, ccz_buf *out, const char *name)
{
    const char *s = str(c, name);
    if (!s || ccz_base64_decode(out, s, strlen(s)) == CCZ_OK)
        return true;
    server_error(c, name);
    return false;
}

/* bin in base64 as a JSON string; the encoding is wiped when freed (bin may be a plaintext or a
 * data key) */
static json_t *b64_json(ccz_span bin)
{
    ccz_buf b;
    ccz_buf_init(&b, 0, true);
    json_t *j = ccz_base64_encode(&b, bin) == CCZ_OK
                    ? json_stringn((const char *)(b.ptr ? b.ptr : (uint8_t *)""), b.len)
                    : NULL;
    ccz_buf_free(&b);
    return j;
}

/* ---- keys: metadata, material, the cache ---------------------------------------------------*/

typedef struct {
    bool found;
    char owner[KMS_APPID_LEN + 1];
    kms_spec spec;
    bool sign_usage;
    char usage[40], origin[24];
    int64_t state, created, expires, version;
} key_meta;

static ccz_status meta_row(const store_row *row, void *payload)
{
    key_meta *m = payload;
    const char *owner = store_row_text(row, 0), *spec = store_row_text(row, 1),
               *usage = store_row_text(row, 2), *origin = store_row_text(row, 3);
    CCZ_ENSURE(owner && spec && usage && origin && kms_spec_parse(&m->spec, spec) &&
                   strlen(owner) <= KMS_APPID_LEN && strlen(usage) < sizeof m->usage &&
                   strlen(origin) < sizeof m->origin,
               CCZ_ERR_MALFORMED, "a malformed key record");
    snprintf(m->owner, sizeof m->owner, "%s", owner);
    snprintf(m->usage, sizeof m->usage, "%s", usage);
    snprintf(m->origin, sizeof m->origin, "%s", origin);
    m->sign_usage = strcmp(usage, "EH_KEYUSAGE_SIGN_VERIFY") == 0;
    m->state = store_row_int(row, 4);
    m->created = store_row_int(row, 5);
    m->expires = store_row_int(row, 6);
    m->version = store_row_int(row, 7);
    m->found = true;
    return CCZ_OK;
}

static ccz_status meta_get(kms *k, const char *keyid, key_meta *m)
{
    memset(m, 0, sizeof *m);
    return store_exec(k->db, NULL,
                      "SELECT owner, spec, usage, origin, state, created, expires, version FROM "
                      "kms_keys WHERE keyid = ?",
                      STORE_PARAMS(STORE_TEXT(keyid)), meta_row, m);
}

/* The metadata cache: direct-mapped by key id, an entry dropped whenever this process changes
 * the key (the only writer: see kms.cache_meta). */
#define META_SLOTS 4096

typedef struct {
    char keyid[KMS_KEYID_LEN + 1];
    key_meta m;
} meta_slot;

static meta_slot *meta_slot_of(kms *k, const char *keyid)
{
    if (!k->cache_meta)
        return NULL;
    if (!k->meta_cache && (k->meta_cache = calloc(META_SLOTS, sizeof(meta_slot))) == NULL)
        return NULL;
    uint64_t h = 1469598103934665603ull;
    for (const char *p = keyid; *p; p++)
        h = (h ^ (uint8_t)*p) * 1099511628211ull;
    return &((meta_slot *)k->meta_cache)[h % META_SLOTS];
}

/* Forgets keyid's metadata, or (NULL) everyone's. */
static void meta_forget(kms *k, const char *keyid)
{
    if (!k->meta_cache)
        return;
    if (!keyid) {
        memset(k->meta_cache, 0, META_SLOTS * sizeof(meta_slot));
        return;
    }
    meta_slot *s = meta_slot_of(k, keyid);
    if (s && strcmp(s->keyid, keyid) == 0)
        memset(s, 0, sizeof *s);
}

static ccz_status meta_cached(kms *k, const char *keyid, key_meta *m)
{
    meta_slot *s = meta_slot_of(k, keyid);
    if (s && s->m.found && strcmp(s->keyid, keyid) == 0) {
        *m = s->m;
        return CCZ_OK;
    }
    CCZ_GUARD(meta_get(k, keyid, m));
    if (s && m->found && strlen(keyid) == KMS_KEYID_LEN) {
        memcpy(s->keyid, keyid, KMS_KEYID_LEN + 1);
        s->m = *m;
    }
    return CCZ_OK;
}

/* eHSM's find_cmk_by_keyid: the caller's key, enabled and not expired; refuses otherwise. */
static bool cmk(kms_call *c, const char *keyid, key_meta *m)
{
    if (meta_cached(c->k, keyid, m) != CCZ_OK) {
        server_error(c, "key lookup");
        return false;
    }
    const char *why = !m->found                                 ? "keyid error"
                      : strcmp(m->owner, c->appid) != 0         ? "appid error"
                      : m->state == 0                           ? "keyid is disabled"
                      : m->expires && kms_now_ms() > m->expires ? "keyid expire"
                                                                : NULL;
    if (why)
        kms_refuse(c->k, c->r, 400, why);
    return why == NULL;
}

/* The AAD a version's material is wrapped with. */
static ccz_status key_aad(ccz_buf *out, const char *keyid, const key_meta *m, int64_t version)
{
    char v[32];
    snprintf(v, sizeof v, "%lld", (long long)version);
    const char *parts[] = {"ccz kms key v1", keyid, m->owner, kms_spec_name(m->spec), m->usage, v};
    for (size_t i = 0; i < CCZ_ARRAY_LEN(parts); i++)
        CCZ_GUARD(ccz_buf_append(out, parts[i], strlen(parts[i]) + (i + 1 < CCZ_ARRAY_LEN(parts))));
    return CCZ_OK;
}

static size_t key_bucket(const char *keyid, int64_t version)
{
    uint64_t h = 1469598103934665603ull ^ (uint64_t)version;
    for (const char *p = keyid; *p; p++)
        h = (h ^ (uint8_t)*p) * 1099511628211ull;
    return (size_t)(h % KMS_KEY_BUCKETS);
}

static void lru_unlink(kms *k, kms_cached *e)
{
    if (e->lru_prev)
        e->lru_prev->lru_next = e->lru_next;
    else
        k->lru_head = e->lru_next;
    if (e->lru_next)
        e->lru_next->lru_prev = e->lru_prev;
    else
        k->lru_tail = e->lru_prev;
    e->lru_prev = e->lru_next = NULL;
}

static void lru_push(kms *k, kms_cached *e)
{
    e->lru_next = k->lru_head;
    if (k->lru_head)
        k->lru_head->lru_prev = e;
    k->lru_head = e;
    if (!k->lru_tail)
        k->lru_tail = e;
}

static void cache_drop(kms *k, kms_cached *e)
{
    kms_cached **pp = &k->keys[key_bucket(e->keyid, e->version)];
    while (*pp && *pp != e)
        pp = &(*pp)->next;
    if (*pp)
        *pp = e->next;
    lru_unlink(k, e);
    kms_key_free(e->key);
    free(e);
    k->n_cached--;
}

/* Forgets every cached version of keyid (deleted keys). */
static void cache_forget(kms *k, const char *keyid)
{
    for (kms_cached *e = k->lru_head, *n; e; e = n) {
        n = e->lru_next;
        if (strcmp(e->keyid, keyid) == 0)
            cache_drop(k, e);
    }
}

void kms_keys_free(kms *k)
{
    free(k->meta_cache);
    k->meta_cache = NULL;
    while (k->lru_head)
        cache_drop(k, k->lru_head);
}

static ccz_status material_row(const store_row *row, void *payload)
{
    ccz_span w = store_row_blob(row, 0);
    return ccz_buf_append(payload, w.ptr, w.len);
}

/* The loaded key of a version: from the cache, else unwrapped from the store and cached. */
static const kms_key *material(kms_call *c, const char *keyid, const key_meta *m, int64_t version)
{
    kms *k = c->k;
    size_t b = key_bucket(keyid, version);
    for (kms_cached *e = k->keys[b]; e; e = e->next) {
        if (e->version == version && strcmp(e->keyid, keyid) == 0 &&
            kms_key_spec(e->key) == m->spec) {
            lru_unlink(k, e);
            lru_push(k, e);
            return e->key;
        }
    }
    ccz_buf wrapped = CCZ_BUF_INIT, aad = CCZ_BUF_INIT, plain;
    ccz_buf_init(&plain, 0, true);
    kms_key *key = NULL;
    ccz_status st =
        store_exec(k->db, NULL, "SELECT material FROM kms_versions WHERE keyid = ? AND version = ?",
                   STORE_PARAMS(STORE_TEXT(keyid), STORE_INT(version)), material_row, &wrapped);
    if (st == CCZ_OK && !wrapped.len)
        st = ccz_fail(CCZ_ERR_NOT_FOUND, "key %s has no material for version %lld", keyid,
                      (long long)version);
    if (st == CCZ_OK)
        st = key_aad(&aad, keyid, m, version);
    if (st == CCZ_OK)
        st = kms_unwrap(&plain, k->domain_key, ccz_buf_span(&wrapped), ccz_buf_span(&aad));
    if (st == CCZ_OK)
        st = kms_key_load(&key, m->spec, ccz_buf_span(&plain));
    ccz_buf_free(&wrapped);
    ccz_buf_free(&aad);
    ccz_buf_free(&plain);
    kms_cached *e = st == CCZ_OK ? calloc(1, sizeof *e) : NULL;
    if (!e) {
        kms_key_free(key);
        server_error(c, "key material");
        return NULL;
    }
    snprintf(e->keyid, sizeof e->keyid, "%s", keyid);
    e->version = version;
    e->key = key;
    e->next = k->keys[b];
    k->keys[b] = e;
    lru_push(k, e);
    if (++k->n_cached > k->key_cache_max && k->lru_tail != e)
        cache_drop(k, k->lru_tail);
    return key;
}

/* Wraps material as version `version` of keyid and writes it. */
static ccz_status store_version(kms *k, const char *keyid, const key_meta *m, int64_t version,
                                ccz_span plain)
{
    ccz_buf aad = CCZ_BUF_INIT, wrapped = CCZ_BUF_INIT;
    ccz_status st = key_aad(&aad, keyid, m, version);
    if (st == CCZ_OK)
        st = kms_wrap(&wrapped, k->domain_key, plain, ccz_buf_span(&aad));
    if (st == CCZ_OK)
        st = store_exec(k->db, NULL,
                        "INSERT INTO kms_versions (keyid, version, material, created) VALUES (?, "
                        "?, ?, ?)",
                        STORE_PARAMS(STORE_TEXT(keyid), STORE_INT(version),
                                     STORE_BLOB(wrapped.ptr, wrapped.len), STORE_INT(kms_now_ms())),
                        NULL, NULL);
    ccz_buf_free(&aad);
    ccz_buf_free(&wrapped);
    return st;
}

/* A key of the right usage for the action; refuses otherwise. */
static bool usage_is(kms_call *c, const key_meta *m, bool sign)
{
    if (m->sign_usage == sign)
        return true;
    kms_refuse(c->k, c->r, 400,
               sign ? "Parameter invalid, this key's keyusage is EH_KEYUSAGE_ENCRYPT_DECRYPT, not "
                      "EH_KEYUSAGE_SIGN_VERIFY."
                    : "Parameter invalid, this key's keyusage is EH_KEYUSAGE_SIGN_VERIFY, not "
                      "EH_KEYUSAGE_ENCRYPT_DECRYPT.");
    return false;
}

static bool spec_is(kms_call *c, const key_meta *m, bool ok, const char *what)
{
    if (ok)
        return true;
    char msg[200];
    snprintf(msg, sizeof msg, "Parameter invalid, %s is not possible with a %s key.", what,
             kms_spec_name(m->spec));
    kms_refuse(c->k, c->r, 400, msg);
    return false;
}

static bool has_material(kms_call *c, const key_meta *m)
{
    if (m->version > 0)
        return true;
    kms_refuse(c->k, c->r, 400,
               "Parameter invalid, this external key has no key material yet (ImportKeyMaterial "
               "first).");
    return false;
}

/* A symmetric key's plaintext of ciphertext: the current version, and for AES-GCM, whose tag
 * tells, every older version (rotated keys); false when none decrypts. */
static ccz_status sym_decrypt(kms_call *c, ccz_buf *plain, const char *keyid, const key_meta *m,
                              ccz_span ct, ccz_span aad, int64_t *version)
{
    int64_t oldest = kms_spec_authenticated(m->spec) ? 1 : m->version;
    ccz_status st = CCZ_ERR_BAD_SIGNATURE;
    for (int64_t v = m->version; v >= oldest; v--) {
        const kms_key *key = material(c, keyid, m, v);
        if (!key)
            return CCZ_ERR_IO; /* answered */
        ccz_buf_reset(plain);
        st = kms_decrypt(plain, key, ct, aad);
        if (st == CCZ_OK) {
            if (version)
                *version = v;
            return CCZ_OK;
        }
        if (st != CCZ_ERR_BAD_SIGNATURE)
            break;
    }
    kms_refuse(c->k, c->r, 400,
               "Decryption failed, Please confirm that your parameters are correct.");
    return st;
}

/* ---- the actions ---------------------------------------------------------------------------*/

typedef struct {
    kms *k;
    const char *keyid;
    const key_meta *m;
    ccz_span plain; /* empty for an external key */
} create_args;

static ccz_status create_tx(store *s, void *payload)
{
    create_args *a = payload;
    const key_meta *m = a->m;
    CCZ_GUARD(store_exec(s, NULL,
                         "INSERT INTO kms_keys (keyid, owner, spec, origin, usage, state, "
                         "created, expires, version) VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?)",
                         STORE_PARAMS(STORE_TEXT(a->keyid), STORE_TEXT(m->owner),
                                      STORE_TEXT(kms_spec_name(m->spec)), STORE_TEXT(m->origin),
                                      STORE_TEXT(m->usage), STORE_INT(m->created),
                                      STORE_INT(m->expires), STORE_INT(m->version)),
                         NULL, NULL));
    return a->plain.len ? store_version(a->k, a->keyid, m, 1, a->plain) : CCZ_OK;
}

static void create_key(kms_call *c)
{
    kms_spec spec;
    (void)kms_spec_parse(&spec, str(c, "keyspec"));
    bool external = strcmp(str(c, "origin"), "EH_EXTERNAL_KEY") == 0;
    if (external && !kms_spec_symmetric(spec)) {
        kms_refuse(c->k, c->r, 400,
                   "Parameter invalid, only AES-GCM and SM4 keys can be EH_EXTERNAL_KEY.");
        return;
    }
    key_meta m = {.found = true, .spec = spec, .state = 1, .created = kms_now_ms()};
    snprintf(m.owner, sizeof m.owner, "%s", c->appid);
    snprintf(m.usage, sizeof m.usage, "%s", str(c, "keyusage"));
    snprintf(m.origin, sizeof m.origin, "%s", str(c, "origin"));
    m.expires = m.created + YEAR_MS;
    m.version = external ? 0 : 1;
    char keyid[37];
    ccz_buf plain;
    ccz_buf_init(&plain, 0, true);
    ccz_status st = kms_uuid(keyid);
    if (st == CCZ_OK && !external)
        st = kms_material_generate(&plain, spec);
    create_args a = {c->k, keyid, &m, ccz_buf_span(&plain)};
    if (st == CCZ_OK)
        st = store_tx(c->k->db, create_tx, &a); /* the key and its material, or neither */
    ccz_buf_free(&plain);
    if (st) {
        server_error(c, "CreateKey"); /* the store's, memory's or the crypto library's */
        return;
    }
    kms_answer(c->r, 200, "success!", json_pack("{s:s}", "keyid", keyid));
}

static void encrypt(kms_call *c)
{
    key_meta m;
    const char *keyid = str(c, "keyid");
    if (!cmk(c, keyid, &m) || !usage_is(c, &m, false) ||
        !spec_is(c, &m, kms_spec_symmetric(m.spec), "Encrypt") || !has_material(c, &m))
        return;
    ccz_buf pt, aad = CCZ_BUF_INIT, ct = CCZ_BUF_INIT;
    ccz_buf_init(&pt, 0, true);
    if (bytes(c, &pt, "plaintext") && bytes(c, &aad, "aad")) {
        const kms_key *key = material(c, keyid, &m, m.version);
        if (key) {
            ccz_status st = kms_encrypt(&ct, key, ccz_buf_span(&pt), ccz_buf_span(&aad));
            if (st == CCZ_ERR_INVALID_ARGUMENT)
                kms_refuse(c->k, c->r, 400, "Parameter invalid, The plaintext length error.");
            else if (st)
                server_error(c, "Encrypt");
            else
                kms_answer(c->r, 200, "success!",
                           json_pack("{s:o}", "ciphertext", b64_json(ccz_buf_span(&ct))));
        }
    }
    ccz_buf_free(&pt);
    ccz_buf_free(&aad);
    ccz_buf_free(&ct);
}

static void decrypt(kms_call *c)
{
    key_meta m;
    const char *keyid = str(c, "keyid");
    if (!cmk(c, keyid, &m) || !usage_is(c, &m, false) ||
        !spec_is(c, &m, kms_spec_symmetric(m.spec), "Decrypt") || !has_material(c, &m))
        return;
    ccz_buf ct = CCZ_BUF_INIT, aad = CCZ_BUF_INIT, pt;
    ccz_buf_init(&pt, 0, true);
    if (bytes(c, &ct, "ciphertext") && bytes(c, &aad, "aad") &&
        sym_decrypt(c, &pt, keyid, &m, ccz_buf_span(&ct), ccz_buf_span(&aad), NULL) == CCZ_OK)
        kms_answer(c->r, 200, "success!",
                   json_pack("{s:o}", "plaintext", b64_json(ccz_buf_span(&pt))));
    ccz_buf_free(&pt);
    ccz_buf_free(&aad);
    ccz_buf_free(&ct);
}

static void data_key(kms_call *c, bool with_plaintext)
{
    key_meta m;
    const char *keyid = str(c, "keyid");
    if (!cmk(c, keyid, &m) || !usage_is(c, &m, false) ||
        !spec_is(c, &m, kms_spec_symmetric(m.spec), "GenerateDataKey") || !has_material(c, &m))
        return;
    size_t n = (size_t)json_integer_value(json_object_get(c->payload, "keylen"));
    ccz_buf dk, aad = CCZ_BUF_INIT, ct = CCZ_BUF_INIT;
    ccz_buf_init(&dk, 0, true);
    if (bytes(c, &aad, "aad")) {
        const kms_key *key = material(c, keyid, &m, m.version);
        ccz_status st = key ? ccz_buf_reserve(&dk, n) : CCZ_ERR_IO;
        if (st == CCZ_OK && RAND_priv_bytes(dk.ptr, (int)n) != 1)
            st = ccz_fail(CCZ_ERR_CRYPTO, "no randomness");
        if (st == CCZ_OK) {
            dk.len = n;
            st = kms_encrypt(&ct, key, ccz_buf_span(&dk), ccz_buf_span(&aad));
        }
        if (st == CCZ_OK) {
            json_t *res = json_pack("{s:o}", "ciphertext", b64_json(ccz_buf_span(&ct)));
            if (with_plaintext && res)
                json_object_set_new(res, "plaintext", b64_json(ccz_buf_span(&dk)));
            kms_answer(c->r, 200, "success!", res);
        } else if (key) {
            server_error(c, "GenerateDataKey");
        }
    }
    ccz_buf_free(&dk);
    ccz_buf_free(&aad);
    ccz_buf_free(&ct);
}

static void generate_data_key(kms_call *c)
{
    data_key(c, true);
}

static void generate_data_key_wo(kms_call *c)
{
    data_key(c, false);
}

static bool asym_encryption_key(kms_call *c, const char *keyid, key_meta *m)
{
    return cmk(c, keyid, m) && usage_is(c, m, false) &&
           spec_is(c, m, kms_spec_rsa(m->spec) || m->spec == KMS_SM2, "asymmetric encryption");
}

static bool rsa_padding(kms_call *c, const key_meta *m, kms_padding *pad, bool for_sign)
{
    (void)kms_padding_parse(pad, str(c, "padding_mode"));
    if (!kms_spec_rsa(m->spec))
        return true; /* EC and SM2 ignore it, as eHSM does */
    bool ok = for_sign ? (*pad == KMS_PAD_PKCS1 || *pad == KMS_PAD_PKCS1_PSS)
                       : (*pad == KMS_PAD_PKCS1 || *pad == KMS_PAD_PKCS1_OAEP);
    if (!ok)
        kms_refuse(c->k, c->r, 400,
                   for_sign ? "Parameter invalid, RSA signatures take EH_RSA_PKCS1 or "
                              "EH_RSA_PKCS1_PSS as padding_mode."
                            : "Parameter invalid, RSA encryption takes EH_RSA_PKCS1 or "
                              "EH_RSA_PKCS1_OAEP as padding_mode.");
    return ok;
}

static void asym_encrypt(kms_call *c)
{
    key_meta m;
    kms_padding pad;
    const char *keyid = str(c, "keyid");
    if (!asym_encryption_key(c, keyid, &m) || !rsa_padding(c, &m, &pad, false))
        return;
    ccz_buf pt, ct = CCZ_BUF_INIT;
    ccz_buf_init(&pt, 0, true);
    const kms_key *key;
    if (bytes(c, &pt, "plaintext") && (key = material(c, keyid, &m, m.version)) != NULL) {
        ccz_status st = kms_asym_encrypt(&ct, key, pad, ccz_buf_span(&pt));
        if (st == CCZ_ERR_INVALID_ARGUMENT)
            kms_refuse(c->k, c->r, 400,
                       "Parameter invalid, The plaintext is too long for this key and padding.");
        else if (st)
            server_error(c, "AsymmetricEncrypt");
        else
            kms_answer(c->r, 200, "success!",
                       json_pack("{s:o}", "ciphertext", b64_json(ccz_buf_span(&ct))));
    }
    ccz_buf_free(&pt);
    ccz_buf_free(&ct);
}

/* PKCS#1 v1.5 decryption only when the operator turned it on (--pkcs1-decrypt). */
static bool pkcs1_allowed(kms_call *c, bool rsa, kms_padding pad)
{
    if (!rsa || pad != KMS_PAD_PKCS1 || c->k->pkcs1_decrypt)
        return true;
    kms_refuse(c->k, c->r, 400,
               "Parameter invalid, EH_RSA_PKCS1 decryption is off in this KMS (a padding "
               "oracle without implicit rejection): use EH_RSA_PKCS1_OAEP, or start the KMS "
               "with --pkcs1-decrypt.");
    return false;
}

static void asym_decrypt(kms_call *c)
{
    key_meta m;
    kms_padding pad;
    const char *keyid = str(c, "keyid");
    if (!asym_encryption_key(c, keyid, &m) || !rsa_padding(c, &m, &pad, false) ||
        !pkcs1_allowed(c, kms_spec_rsa(m.spec), pad))
        return;
    ccz_buf ct = CCZ_BUF_INIT, pt;
    ccz_buf_init(&pt, 0, true);
    const kms_key *key;
    if (bytes(c, &ct, "ciphertext") && (key = material(c, keyid, &m, m.version)) != NULL) {
        if (kms_asym_decrypt(&pt, key, pad, ccz_buf_span(&ct)) != CCZ_OK)
            kms_refuse(c->k, c->r, 400,
                       "Decryption failed, Please confirm that your parameters are correct.");
        else
            kms_answer(c->r, 200, "success!",
                       json_pack("{s:o}", "plaintext", b64_json(ccz_buf_span(&pt))));
    }
    ccz_buf_free(&pt);
    ccz_buf_free(&ct);
}

static void sign_or_verify(kms_call *c, bool verify)
{
    key_meta m;
    kms_padding pad;
    kms_digest dig;
    const char *keyid = str(c, "keyid");
    if (!cmk(c, keyid, &m) || !usage_is(c, &m, true) ||
        !spec_is(c, &m, !kms_spec_symmetric(m.spec), verify ? "Verify" : "Sign") ||
        !rsa_padding(c, &m, &pad, true))
        return;
    (void)kms_digest_parse(&dig, str(c, "digest_mode"));
    bool is_digest = strcmp(str(c, "message_type"), "EH_DIGEST") == 0;
    ccz_buf msg = CCZ_BUF_INIT, sig = CCZ_BUF_INIT;
    const kms_key *key;
    if (bytes(c, &msg, "message") && (!verify || bytes(c, &sig, "signature")) &&
        (key = material(c, keyid, &m, m.version)) != NULL) {
        ccz_status st;
        bool valid = false;
        if (verify)
            st = kms_verify(&valid, key, dig, pad, is_digest, ccz_buf_span(&msg),
                            ccz_buf_span(&sig));
        else
            st = kms_sign(&sig, key, dig, pad, is_digest, ccz_buf_span(&msg));
        if (st == CCZ_ERR_INVALID_ARGUMENT || st == CCZ_ERR_UNSUPPORTED)
            kms_refuse(c->k, c->r, 400,
                       is_digest ? "Parameter invalid, The message is not a digest of "
                                   "digest_mode's length (or this key takes no digest)."
                                 : "Parameter invalid, this key cannot sign with these modes.");
        else if (st)
            server_error(c, verify ? "Verify" : "Sign");
        else if (verify)
            kms_answer(c->r, 200, "success!", json_pack("{s:b}", "result", valid));
        else
            kms_answer(c->r, 200, "success!",
                       json_pack("{s:o}", "signature", b64_json(ccz_buf_span(&sig))));
    }
    ccz_buf_free(&msg);
    ccz_buf_free(&sig);
}

static void sign(kms_call *c)
{
    sign_or_verify(c, false);
}

static void verify(kms_call *c)
{
    sign_or_verify(c, true);
}

static void get_public_key(kms_call *c)
{
    key_meta m;
    const char *keyid = str(c, "keyid");
    if (!cmk(c, keyid, &m) ||
        !spec_is(c, &m, !kms_spec_symmetric(m.spec), "GetPublicKey (a symmetric key has none)"))
        return;
    const kms_key *key = material(c, keyid, &m, m.version);
    ccz_buf pem = CCZ_BUF_INIT;
    if (key && kms_public_pem(&pem, key) == CCZ_OK)
        kms_answer(
            c->r, 200, "success!",
            json_pack("{s:s%,s:s}", "pubkey", (const char *)pem.ptr, pem.len, "keyid", keyid));
    else if (key)
        server_error(c, "GetPublicKey");
    ccz_buf_free(&pem);
}

/* ExportDataKey: a data key (ciphertext under the symmetric keyid) re-encrypted to the public key
 * ukeyid (RSA-OAEP with SHA-256, or SM2), without the plaintext leaving the service. */
static void export_data_key(kms_call *c)
{
    key_meta m, u;
    const char *keyid = str(c, "keyid"), *ukeyid = str(c, "ukeyid");
    if (!cmk(c, keyid, &m) || !usage_is(c, &m, false) ||
        !spec_is(c, &m, kms_spec_symmetric(m.spec), "ExportDataKey") || !has_material(c, &m))
        return;
    if (strlen(ukeyid) != 36 || !is_uuid(ukeyid)) {
        kms_refuse(c->k, c->r, 400, "keyid error");
        return;
    }
    if (!asym_encryption_key(c, ukeyid, &u))
        return;
    ccz_buf ct = CCZ_BUF_INIT, aad = CCZ_BUF_INIT, dk, out = CCZ_BUF_INIT;
    ccz_buf_init(&dk, 0, true);
    const char *old = str(c, "olddatakey_base");
    const kms_key *ukey;
    if (ccz_base64_decode(&ct, old, strlen(old)) != CCZ_OK) {
        kms_refuse(c->k, c->r, 400,
                   "Parameter invalid, The olddatakey_base not a vailed base64 string.");
    } else if (bytes(c, &aad, "aad") &&
               sym_decrypt(c, &dk, keyid, &m, ccz_buf_span(&ct), ccz_buf_span(&aad), NULL) ==
                   CCZ_OK &&
               (ukey = material(c, ukeyid, &u, u.version)) != NULL) {
        if (kms_asym_encrypt(&out, ukey, KMS_PAD_PKCS1_OAEP, ccz_buf_span(&dk)) != CCZ_OK)
            kms_refuse(c->k, c->r, 400, "Failed datakeylen unavailable.");
        else
            kms_answer(c->r, 200, "success!",
                       json_pack("{s:o}", "newdatakey", b64_json(ccz_buf_span(&out))));
    }
    ccz_buf_free(&ct);
    ccz_buf_free(&aad);
    ccz_buf_free(&dk);
    ccz_buf_free(&out);
}

/* ---- bring your own key --------------------------------------------------------------------*/

static ccz_status import_token(ccz_buf *out, kms *k, const char *keyid, int64_t ts)
{
    char msg[96];
    int n = snprintf(msg, sizeof msg, "ccz kms import %s %lld", keyid, (long long)ts);
    uint8_t mac[32];
    CCZ_GUARD(kms_hmac_sha256(mac, CCZ_SPAN(k->domain_key, 32), CCZ_SPAN(msg, (size_t)n)));
    char mac64[48];
    CCZ_GUARD(kms_b64_fixed(mac64, sizeof mac64, CCZ_SPAN(mac, 32)));
    json_t *t =
        json_pack("{s:s,s:I,s:s}", "keyid", keyid, "timestamp", (json_int_t)ts, "hmac", mac64);
    char *text = t ? json_dumps(t, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(t);
    CCZ_ENSURE(text, CCZ_ERR_NOMEM, "out of memory");
    ccz_status st = ccz_base64_encode(out, CCZ_SPAN(text, strlen(text)));
    free(text);
    return st;
}

static ccz_status import_row(const store_row *row, void *payload)
{
    ccz_span w = store_row_blob(row, 0);
    return ccz_buf_append(payload, w.ptr, w.len);
}

static void get_parameters_for_import(kms_call *c)
{
    key_meta m;
    const char *keyid = str(c, "keyid");
    if (!cmk(c, keyid, &m))
        return;
    kms_spec wspec;
    (void)kms_spec_parse(&wspec, str(c, "keyspec"));
    if (strcmp(m.origin, "EH_EXTERNAL_KEY") != 0 || m.version != 0) {
        kms_refuse(c->k, c->r, 400,
                   "Parameter invalid, only an EH_EXTERNAL_KEY without key material imports.");
        return;
    }
    if (!kms_spec_rsa(wspec)) {
        kms_refuse(c->k, c->r, 400,
                   "Parameter invalid, The keyspec of the wrapping key is EH_RSA_2048, "
                   "EH_RSA_3072 or EH_RSA_4096.");
        return;
    }
    ccz_buf priv, wrapped = CCZ_BUF_INIT, pem = CCZ_BUF_INIT, token = CCZ_BUF_INIT,
                  aad = CCZ_BUF_INIT;
    ccz_buf_init(&priv, 0, true);
    kms_key *wk = NULL;
    int64_t now = kms_now_ms();
    ccz_status st = kms_material_generate(&priv, wspec);
    if (st == CCZ_OK)
        st = kms_key_load(&wk, wspec, ccz_buf_span(&priv));
    if (st == CCZ_OK)
        st = kms_public_pem(&pem, wk);
    if (st == CCZ_OK)
        st = ccz_buf_append_str(&aad, "ccz kms import v1");
    if (st == CCZ_OK)
        st = ccz_buf_append(&aad, keyid, 36);
    if (st == CCZ_OK)
        st = ccz_buf_append_u8(&wrapped, (uint8_t)wspec);
    if (st == CCZ_OK)
        st = kms_wrap(&wrapped, c->k->domain_key, ccz_buf_span(&priv), ccz_buf_span(&aad));
    if (st == CCZ_OK)
        st = store_exec(c->k->db, NULL, "DELETE FROM kms_imports WHERE keyid = ?",
                        STORE_PARAMS(STORE_TEXT(keyid)), NULL, NULL);
    if (st == CCZ_OK)
        st = store_exec(
            c->k->db, NULL, "INSERT INTO kms_imports (keyid, wrapping, created) VALUES (?, ?, ?)",
            STORE_PARAMS(STORE_TEXT(keyid), STORE_BLOB(wrapped.ptr, wrapped.len), STORE_INT(now)),
            NULL, NULL);
    if (st == CCZ_OK)
        st = import_token(&token, c->k, keyid, now);
    if (st == CCZ_OK)
        kms_answer(c->r, 200, "success!",
                   json_pack("{s:s%,s:s%}", "pubkey", (const char *)pem.ptr, pem.len, "importToken",
                             (const char *)token.ptr, token.len));
    else
        kms_refuse(c->k, c->r, 500, "GetParametersForImport failed.");
    kms_key_free(wk);
    ccz_buf_free(&priv);
    ccz_buf_free(&wrapped);
    ccz_buf_free(&pem);
    ccz_buf_free(&token);
    ccz_buf_free(&aad);
}

/* The import token: base64 JSON {"keyid", "timestamp", "hmac"} made by this KMS for this key in
 * the last 24 hours. */
static bool token_ok(kms_call *c, const char *keyid)
{
    const char *t = str(c, "importToken");
    ccz_buf raw = CCZ_BUF_INIT, want = CCZ_BUF_INIT;
    json_t *j = NULL;
    bool ok = false;
    ccz_status st = ccz_base64_decode(&raw, t, strlen(t));
    if (st == CCZ_OK &&
        (j = json_loadb((const char *)raw.ptr, raw.len, JSON_REJECT_DUPLICATES, NULL)) != NULL) {
        const char *id = json_string_value(json_object_get(j, "keyid"));
        json_int_t ts = json_integer_value(json_object_get(j, "timestamp"));
        if (id && strcmp(id, keyid) == 0 && ts > kms_now_ms() - IMPORT_TTL_MS &&
            (st = import_token(&want, c->k, keyid, ts)) == CCZ_OK)
            ok = want.len == strlen(t) && CRYPTO_memcmp(want.ptr, t, want.len) == 0;
    }
    json_decref(j);
    ccz_buf_free(&raw);
    ccz_buf_free(&want);
    if (!ok && ccz_status_class(st) == CCZ_CLASS_INTERNAL) /* memory's, the crypto library's */
        server_error(c, "ImportToken");
    else if (!ok)
        kms_refuse(c->k, c->r, 400,
                   "ImportToken failed: not this key's token, or older than 24 hours (send "
                   "GetParametersForImport again).");
    return ok;
}

static void import_key_material(kms_call *c)
{
    key_meta m;
    const char *keyid = str(c, "keyid");
    if (!cmk(c, keyid, &m) || !token_ok(c, keyid))
        return;
    if (m.version != 0) {
        kms_refuse(c->k, c->r, 400, "Parameter invalid, this key already has key material.");
        return;
    }
    kms_padding pad;
    (void)kms_padding_parse(&pad, str(c, "padding_mode"));
    if (!pkcs1_allowed(c, true, pad))
        return;
    ccz_buf wrapped = CCZ_BUF_INIT, priv, mat = CCZ_BUF_INIT, aad = CCZ_BUF_INIT;
    ccz_buf_init(&priv, 0, true);
    ccz_buf_init(&mat, 0, true);
    kms_key *wk = NULL;
    ccz_status st = store_exec(c->k->db, NULL, "SELECT wrapping FROM kms_imports WHERE keyid = ?",
                               STORE_PARAMS(STORE_TEXT(keyid)), import_row, &wrapped);
    if (st == CCZ_OK && wrapped.len < 2)
        st = ccz_fail(CCZ_ERR_NOT_FOUND, "no import parameters");
    if (st == CCZ_OK)
        st = ccz_buf_append_str(&aad, "ccz kms import v1");
    if (st == CCZ_OK)
        st = ccz_buf_append(&aad, keyid, 36);
    if (st == CCZ_OK)
        st = kms_unwrap(&priv, c->k->domain_key, CCZ_SPAN(wrapped.ptr + 1, wrapped.len - 1),
                        ccz_buf_span(&aad));
    if (st == CCZ_OK)
        st = kms_key_load(&wk, (kms_spec)wrapped.ptr[0], ccz_buf_span(&priv));
    ccz_buf km = CCZ_BUF_INIT;
    if (st && st != CCZ_ERR_NOT_FOUND)
        ccz_log(CCZ_LOG_ERROR, "kms: the import parameters of %s: %s", keyid, ccz_error_detail());
    if (st) {
        kms_refuse(c->k, c->r, 400,
                   "ImportToken failed: no import parameters for this key (send "
                   "GetParametersForImport first).");
    } else if (bytes(c, &km, "key_material")) {
        if (kms_asym_decrypt(&mat, wk, pad, ccz_buf_span(&km)) != CCZ_OK ||
            mat.len != kms_spec_key_len(m.spec)) {
            kms_refuse(c->k, c->r, 400,
                       "ImportKeyMaterial failed: the key material does not decrypt with the "
                       "wrapping key and padding_mode, or is not a key of this keyspec's length.");
        } else {
            int64_t changes = 0;
            st = store_version(c->k, keyid, &m, 1, ccz_buf_span(&mat));
            meta_forget(c->k, keyid);
            if (st == CCZ_OK)
                st = store_exec(c->k->db, &changes,
                                "UPDATE kms_keys SET version = 1 WHERE keyid = ? AND version = 0",
                                STORE_PARAMS(STORE_TEXT(keyid)), NULL, NULL);
            if (st == CCZ_OK)
                st = store_exec(c->k->db, NULL, "DELETE FROM kms_imports WHERE keyid = ?",
                                STORE_PARAMS(STORE_TEXT(keyid)), NULL, NULL);
            if (st == CCZ_OK)
                kms_answer(c->r, 200, "success!", json_pack("{s:b}", "result", changes == 1));
            else
                kms_refuse(c->k, c->r, 500, "Import key failed.");
        }
    }
    ccz_buf_free(&km);
    kms_key_free(wk);
    ccz_buf_free(&wrapped);
    ccz_buf_free(&priv);
    ccz_buf_free(&mat);
    ccz_buf_free(&aad);
}

/* ---- management ----------------------------------------------------------------------------*/

static ccz_status list_row(const store_row *row, void *payload)
{
    json_t *e = json_pack("{s:s,s:I,s:I,s:s,s:s,s:I}", "keyid", store_row_text(row, 0),
                          "creationDate", (json_int_t)store_row_int(row, 1), "expireTime",
                          (json_int_t)store_row_int(row, 2), "alias", "", "keyspec",
                          store_row_text(row, 3), "keyState", (json_int_t)store_row_int(row, 4));
    CCZ_ENSURE(e && json_array_append_new(payload, e) == 0, CCZ_ERR_NOMEM, "out of memory");
    return CCZ_OK;
}

static void list_key(kms_call *c)
{
    json_t *list = json_array();
    ccz_status st = list ? store_exec(c->k->db, NULL,
                                      "SELECT keyid, created, expires, spec, state FROM kms_keys "
                                      "WHERE owner = ? ORDER BY created, keyid",
                                      STORE_PARAMS(STORE_TEXT(c->appid)), list_row, list)
                         : CCZ_ERR_NOMEM;
    if (st) {
        json_decref(list);
        server_error(c, "ListKey");
        return;
    }
    kms_answer(c->r, 200, "successful", json_pack("{s:o}", "list", list));
}

typedef struct {
    const char *keyid, *owner;
} del_args;

static ccz_status delete_tx(store *s, void *payload)
{
    del_args *d = payload;
    int64_t changes = 0;
    CCZ_GUARD(store_exec(s, &changes, "DELETE FROM kms_keys WHERE keyid = ? AND owner = ?",
                         STORE_PARAMS(STORE_TEXT(d->keyid), STORE_TEXT(d->owner)), NULL, NULL));
    if (changes) {
        CCZ_GUARD(store_exec(s, NULL, "DELETE FROM kms_versions WHERE keyid = ?",
                             STORE_PARAMS(STORE_TEXT(d->keyid)), NULL, NULL));
        CCZ_GUARD(store_exec(s, NULL, "DELETE FROM kms_imports WHERE keyid = ?",
                             STORE_PARAMS(STORE_TEXT(d->keyid)), NULL, NULL));
    }
    return CCZ_OK;
}

static void delete_key(kms_call *c)
{
    del_args d = {str(c, "keyid"), c->appid};
    meta_forget(c->k, d.keyid);
    if (store_tx(c->k->db, delete_tx, &d) != CCZ_OK) {
        server_error(c, "DeleteKey");
        return;
    }
    cache_forget(c->k, d.keyid);
    kms_answer(c->r, 200, "successful", NULL); /* also for a key that is not the caller's */
}

static ccz_status id_row(const store_row *row, void *payload)
{
    const char *id = store_row_text(row, 0);
    CCZ_ENSURE(id && json_array_append_new(payload, json_string(id)) == 0, CCZ_ERR_NOMEM,
               "out of memory");
    return CCZ_OK;
}

static ccz_status delete_all_tx(store *s, void *payload)
{
    kms_call *c = payload;
    json_t *ids = json_array();
    CCZ_ENSURE(ids, CCZ_ERR_NOMEM, "out of memory");
    ccz_status st = store_exec(s, NULL, "SELECT keyid FROM kms_keys WHERE owner = ?",
                               STORE_PARAMS(STORE_TEXT(c->appid)), id_row, ids);
    for (size_t i = 0; st == CCZ_OK && i < json_array_size(ids); i++) {
        del_args d = {json_string_value(json_array_get(ids, i)), c->appid};
        st = delete_tx(s, &d);
        if (st == CCZ_OK)
            cache_forget(c->k, d.keyid);
    }
    json_decref(ids);
    return st;
}

static void delete_all_key(kms_call *c)
{
    meta_forget(c->k, NULL);
    if (store_tx(c->k->db, delete_all_tx, c) != CCZ_OK)
        server_error(c, "DeleteAllKey");
    else
        kms_answer(c->r, 200, "successful", NULL);
}

static void set_state(kms_call *c, int state)
{
    int64_t changes = 0;
    meta_forget(c->k, str(c, "keyid"));
    ccz_status st = store_exec(
        c->k->db, &changes, "UPDATE kms_keys SET state = ? WHERE keyid = ? AND owner = ?",
        STORE_PARAMS(STORE_INT(state), STORE_TEXT(str(c, "keyid")), STORE_TEXT(c->appid)), NULL,
        NULL);
    if (st)
        server_error(c, state ? "EnableKey" : "DisableKey");
    else if (changes == 0)
        kms_refuse(c->k, c->r, 400, "not find this keyid");
    else
        kms_answer(c->r, 200, "successful", NULL);
}

static void enable_key(kms_call *c)
{
    set_state(c, 1);
}

static void disable_key(kms_call *c)
{
    set_state(c, 0);
}

/* RotateKey (ccz): a new version of an AES-GCM key; Encrypt uses it from now on, Decrypt still
 * reads every older version's ciphertexts (the GCM tag tells which), and ReEncrypt moves a
 * ciphertext to the newest version without its plaintext leaving the service. */
static void rotate_key(kms_call *c)
{
    key_meta m;
    const char *keyid = str(c, "keyid");
    if (!cmk(c, keyid, &m) || !usage_is(c, &m, false) || !has_material(c, &m) ||
        !spec_is(c, &m, kms_spec_authenticated(m.spec),
                 "RotateKey (only AES-GCM keys rotate: their tag tells a ciphertext's version)"))
        return;
    ccz_buf plain;
    ccz_buf_init(&plain, 0, true);
    int64_t changes = 0;
    meta_forget(c->k, keyid);
    ccz_status st = kms_material_generate(&plain, m.spec);
    if (st == CCZ_OK)
        st = store_version(c->k, keyid, &m, m.version + 1, ccz_buf_span(&plain));
    if (st == CCZ_OK)
        st = store_exec(
            c->k->db, &changes, "UPDATE kms_keys SET version = ? WHERE keyid = ? AND version = ?",
            STORE_PARAMS(STORE_INT(m.version + 1), STORE_TEXT(keyid), STORE_INT(m.version)), NULL,
            NULL);
    ccz_buf_free(&plain);
    if (st == CCZ_ERR_EXISTS || (st == CCZ_OK && changes != 1))
        kms_refuse(c->k, c->r, 409, "the key was rotated by another request at the same time");
    else if (st)
        server_error(c, "RotateKey");
    else
        kms_answer(c->r, 200, "success!",
                   json_pack("{s:s,s:I}", "keyid", keyid, "version", (json_int_t)m.version + 1));
}

static void re_encrypt(kms_call *c)
{
    key_meta m;
    const char *keyid = str(c, "keyid");
    if (!cmk(c, keyid, &m) || !usage_is(c, &m, false) ||
        !spec_is(c, &m, kms_spec_symmetric(m.spec), "ReEncrypt") || !has_material(c, &m))
        return;
    ccz_buf ct = CCZ_BUF_INIT, aad = CCZ_BUF_INIT, pt, out = CCZ_BUF_INIT;
    ccz_buf_init(&pt, 0, true);
    int64_t from = 0;
    const kms_key *key;
    if (bytes(c, &ct, "ciphertext") && bytes(c, &aad, "aad") &&
        sym_decrypt(c, &pt, keyid, &m, ccz_buf_span(&ct), ccz_buf_span(&aad), &from) == CCZ_OK &&
        (key = material(c, keyid, &m, m.version)) != NULL) {
        if (kms_encrypt(&out, key, ccz_buf_span(&pt), ccz_buf_span(&aad)) != CCZ_OK)
            server_error(c, "ReEncrypt");
        else
            kms_answer(c->r, 200, "success!",
                       json_pack("{s:o,s:I,s:I}", "ciphertext", b64_json(ccz_buf_span(&out)),
                                 "version", (json_int_t)m.version, "from_version",
                                 (json_int_t)from));
    }
    ccz_buf_free(&ct);
    ccz_buf_free(&aad);
    ccz_buf_free(&pt);
    ccz_buf_free(&out);
}

/* ---- quotes --------------------------------------------------------------------------------*/

static void generate_quote(kms_call *c)
{
    ccz_buf ch = CCZ_BUF_INIT, ev = CCZ_BUF_INIT;
    uint8_t rd[64];
    if (bytes(c, &ch, "challenge")) {
        SHA512(ch.ptr, ch.len, rd);
        if (ccz_attest(&ev, c->k->sc->attester, rd) != CCZ_OK)
            server_error(c, "GenerateQuote");
        else
            kms_answer(c->r, 200, "success!",
                       json_pack("{s:s,s:o}", "challenge", str(c, "challenge"), "quote",
                                 b64_json(ccz_buf_span(&ev))));
    }
    ccz_buf_free(&ch);
    ccz_buf_free(&ev);
}

typedef struct {
    bool found;
    char mr_enclave[65], mr_signer[65];
    int64_t created;
} quote_policy;

static ccz_status qp_row(const store_row *row, void *payload)
{
    quote_policy *q = payload;
    const char *e = store_row_text(row, 0), *s = store_row_text(row, 1);
    CCZ_ENSURE(e && s && strlen(e) == 64 && strlen(s) == 64, CCZ_ERR_MALFORMED,
               "a malformed quote policy");
    memcpy(q->mr_enclave, e, 65);
    memcpy(q->mr_signer, s, 65);
    q->created = store_row_int(row, 2);
    q->found = true;
    return CCZ_OK;
}

static ccz_status qp_get(kms_call *c, const char *id, quote_policy *q)
{
    memset(q, 0, sizeof *q);
    return store_exec(c->k->db, NULL,
                      "SELECT mr_enclave, mr_signer, created FROM kms_quote_policies WHERE "
                      "policy_id = ? AND owner = ?",
                      STORE_PARAMS(STORE_TEXT(id), STORE_TEXT(c->appid)), qp_row, q);
}

/* sgx_ql_qv_result_t of Intel's quote verification library, from the TCB status. */
static unsigned qv_result(const ccz_claims *cl)
{
    static const struct {
        const char *status;
        unsigned code;
    } map[] = {{"UpToDate", 0},
               {"ConfigurationNeeded", 0xA001},
               {"OutOfDate", 0xA002},
               {"OutOfDateConfigurationNeeded", 0xA003},
               {"Revoked", 0xA005},
               {"SWHardeningNeeded", 0xA007},
               {"ConfigurationAndSWHardeningNeeded", 0xA008}};
    if (!cl->tcb_status[0])
        return 0; /* sim: no TCB (SIMULATED) */
    for (size_t i = 0; i < CCZ_ARRAY_LEN(map); i++)
        if (strcmp(map[i].status, cl->tcb_status) == 0)
            return map[i].code;
    return 0xA006; /* unspecified */
}

static void verify_quote(kms_call *c)
{
    ccz_buf q = CCZ_BUF_INIT, hex = CCZ_BUF_INIT;
    quote_policy qp = {0};
    const char *pid = str(c, "policyId");
    if (!bytes(c, &q, "quote"))
        goto out;
    /* eHSM-KMS's VerifyQuote appraises an SGX enclave (sim evidence has its shape): a TD's or a
     * VM's evidence would pass with zero for the MRENCLAVE and MRSIGNER the answer vouches for */
    ccz_tee tee = ccz_evidence_detect(ccz_buf_span(&q));
    if (tee != CCZ_TEE_SGX && tee != CCZ_TEE_SIM && tee != CCZ_TEE_NONE) {
        char why[128];
        snprintf(why, sizeof why, "quote is %s evidence: VerifyQuote appraises SGX quotes.",
                 ccz_tee_name(tee));
        kms_refuse(c->k, c->r, 400, why);
        goto out;
    }
    if (pid && qp_get(c, pid, &qp) != CCZ_OK) {
        server_error(c, "VerifyQuote policy");
        goto out;
    }
    if (pid && !qp.found) {
        kms_refuse(c->k, c->r, 400, "Invalid  policyId.");
        goto out;
    }
    ccz_verify_opts vo = CCZ_VERIFY_OPTS_INIT;
    vo.trust = c->k->sc->trust;
    vo.collateral = c->k->sc->collateral;
    vo.at_unix = kms_now_ms() / 1000;
    static ccz_result res; /* large; the loop thread is the only caller */
    ccz_status vst = ccz_verify(&res, ccz_buf_span(&q), &vo);
    if (ccz_status_class(vst) == CCZ_CLASS_INTERNAL) { /* memory, the crypto library */
        server_error(c, "VerifyQuote");
        goto out;
    }
    unsigned code = vst == CCZ_OK ? qv_result(&res.claims) : 0xA004;
    json_t *result = json_pack("{s:I,s:s}", "result", (json_int_t)code, "nonce", str(c, "nonce"));
    if (code != 0xA004 && result) {
        char e[65], s[65];
        for (int i = 0; i < 32; i++) {
            snprintf(e + 2 * i, 3, "%02x", res.claims.sgx.mr_enclave[i]);
            snprintf(s + 2 * i, 3, "%02x", res.claims.sgx.mr_signer[i]);
        }
        json_object_set_new(result, "mr_enclave", json_string(e));
        json_object_set_new(result, "mr_signer", json_string(s));
        if (pid && (strcasecmp(e, qp.mr_enclave) != 0 || strcasecmp(s, qp.mr_signer) != 0)) {
            json_decref(result);
            kms_refuse(c->k, c->r, 400, "Verify quote policy failed.");
            goto out;
        }
    }
    ccz_buf text = CCZ_BUF_INIT;
    uint8_t mac[32];
    char mac64[48];
    if (!result || kms_canonical(&text, result) != CCZ_OK ||
        kms_hmac_sha256(mac, CCZ_SPAN(c->apikey, KMS_APIKEY_LEN), ccz_buf_span(&text)) ||
        kms_b64_fixed(mac64, sizeof mac64, CCZ_SPAN(mac, 32))) {
        json_decref(result);
        server_error(c, "VerifyQuote");
    } else {
        json_object_set_new(result, "sign", json_string(mac64));
        kms_answer(c->r, 200, "success!", result);
    }
    ccz_buf_free(&text);
out:
    ccz_buf_free(&q);
    ccz_buf_free(&hex);
}

static void upload_quote_policy(kms_call *c)
{
    char id[37];
    char e[65], s[65];
    snprintf(e, sizeof e, "%s", str(c, "mr_enclave"));
    snprintf(s, sizeof s, "%s", str(c, "mr_signer"));
    for (int i = 0; i < 64; i++) {
        e[i] = (char)(e[i] >= 'A' && e[i] <= 'F' ? e[i] + 32 : e[i]);
        s[i] = (char)(s[i] >= 'A' && s[i] <= 'F' ? s[i] + 32 : s[i]);
    }
    ccz_status st = kms_uuid(id);
    if (st == CCZ_OK)
        st = store_exec(c->k->db, NULL,
                        "INSERT INTO kms_quote_policies (policy_id, owner, mr_enclave, mr_signer, "
                        "created) VALUES (?, ?, ?, ?, ?)",
                        STORE_PARAMS(STORE_TEXT(id), STORE_TEXT(c->appid), STORE_TEXT(e),
                                     STORE_TEXT(s), STORE_INT(kms_now_ms())),
                        NULL, NULL);
    if (st)
        server_error(c, "UploadQuotePolicy");
    else
        kms_answer(c->r, 200, "Upload quote policy success.", json_pack("{s:s}", "policyId", id));
}

static void get_quote_policy(kms_call *c)
{
    const char *id = str(c, "policyId");
    quote_policy q;
    if (qp_get(c, id, &q) != CCZ_OK) {
        server_error(c, "GetQuotePolicy");
        return;
    }
    json_t *res = q.found
                      ? json_pack("{s:s,s:s,s:s,s:I}", "policyId", id, "mr_enclave", q.mr_enclave,
                                  "mr_signer", q.mr_signer, "createTime", (json_int_t)q.created)
                      : json_pack("{s:s}", "policyId", id);
    kms_answer(c->r, 200, "Query quote policy success.", res);
}

/* ---- the table -----------------------------------------------------------------------------*/

static const kms_field f_create[] = {{"keyspec", F_ENUM, true, 0, 0, specs},
                                     {"origin", F_ENUM, true, 0, 0, origins},
                                     {"keyusage", F_ENUM, true, 0, 0, usages},
                                     END};
static const kms_field f_encrypt[] = {KEYID, {"plaintext", F_B64, true, 1, 8192, NULL}, AAD, END};
static const kms_field f_decrypt[] = {KEYID, {"ciphertext", F_B64, true, 1, 8232, NULL}, AAD, END};
static const kms_field f_datakey[] = {KEYID, {"keylen", F_INT, true, 1, 1024, NULL}, AAD, END};
static const kms_field f_export[] = {KEYID,
                                     {"ukeyid", F_STR, true, 1, 8192, NULL},
                                     AAD,
                                     {"olddatakey_base", F_STR, true, 1, 8232, NULL},
                                     END};
static const kms_field f_asym_enc[] = {KEYID,
                                       {"plaintext", F_B64, true, 1, 8192, NULL},
                                       {"padding_mode", F_ENUM, true, 0, 0, paddings},
                                       END};
static const kms_field f_asym_dec[] = {KEYID,
                                       {"ciphertext", F_B64, true, 1, 8192, NULL},
                                       {"padding_mode", F_ENUM, true, 0, 0, paddings},
                                       END};
static const kms_field f_sign[] = {KEYID,
                                   {"message", F_B64, true, 1, 8192, NULL},
                                   {"message_type", F_ENUM, true, 0, 0, message_types},
                                   {"digest_mode", F_ENUM, true, 0, 0, digests},
                                   {"padding_mode", F_ENUM, true, 0, 0, paddings},
                                   END};
static const kms_field f_verify[] = {KEYID,
                                     {"message", F_B64, true, 1, 8192, NULL},
                                     {"message_type", F_ENUM, true, 0, 0, message_types},
                                     {"digest_mode", F_ENUM, true, 0, 0, digests},
                                     {"padding_mode", F_ENUM, true, 0, 0, paddings},
                                     {"signature", F_B64, true, 1, 8192, NULL},
                                     END};
static const kms_field f_keyid[] = {KEYID, END};
static const kms_field f_import_params[] = {KEYID, {"keyspec", F_ENUM, true, 0, 0, specs}, END};
static const kms_field f_import[] = {KEYID,
                                     {"padding_mode", F_ENUM, true, 0, 0, paddings},
                                     {"key_material", F_B64, true, 1, 8192, NULL},
                                     {"importToken", F_STR, true, 1, 4096, NULL},
                                     END};
static const kms_field f_gen_quote[] = {{"challenge", F_B64, true, 1, 4096, NULL}, END};
static const kms_field f_verify_quote[] = {{"quote", F_B64, true, 1, 10924, NULL},
                                           {"nonce", F_B64, true, 1, 4096, NULL},
                                           {"policyId", F_UUID, false, 36, 36, NULL},
                                           END};
static const kms_field f_upload_policy[] = {
    {"mr_enclave", F_HEX64, true, 64, 64, NULL}, {"mr_signer", F_HEX64, true, 64, 64, NULL}, END};
static const kms_field f_get_policy[] = {{"policyId", F_UUID, true, 36, 36, NULL}, END};

static const kms_action actions[] = {
    {"CreateKey", create_key, true, f_create},
    {"Encrypt", encrypt, true, f_encrypt},
    {"Decrypt", decrypt, true, f_decrypt},
    {"GenerateDataKey", generate_data_key, true, f_datakey},
    {"GenerateDataKeyWithoutPlaintext", generate_data_key_wo, true, f_datakey},
    {"ExportDataKey", export_data_key, true, f_export},
    {"GetPublicKey", get_public_key, true, f_keyid},
    {"AsymmetricEncrypt", asym_encrypt, true, f_asym_enc},
    {"AsymmetricDecrypt", asym_decrypt, true, f_asym_dec},
    {"Sign", sign, true, f_sign},
    {"Verify", verify, true, f_verify},
    {"GetParametersForImport", get_parameters_for_import, true, f_import_params},
    {"ImportKeyMaterial", import_key_material, true, f_import},
    {"ListKey", list_key, false, NULL},
    {"DeleteKey", delete_key, false, f_keyid},
    {"DeleteAllKey", delete_all_key, false, NULL},
    {"EnableKey", enable_key, false, f_keyid},
    {"DisableKey", disable_key, false, f_keyid},
    {"GenerateQuote", generate_quote, false, f_gen_quote},
    {"VerifyQuote", verify_quote, false, f_verify_quote},
    {"UploadQuotePolicy", upload_quote_policy, false, f_upload_policy},
    {"GetQuotePolicy", get_quote_policy, false, f_get_policy},
    {"RotateKey", rotate_key, true, f_keyid},
    {"ReEncrypt", re_encrypt, true, f_decrypt},
};

const kms_action *kms_action_find(const char *name)
{
    for (size_t i = 0; name && i < CCZ_ARRAY_LEN(actions); i++)
        if (strcmp(actions[i].name, name) == 0)
            return &actions[i];
    return NULL;
}
