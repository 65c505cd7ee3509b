/* SPDX-License-Identifier: Apache-2.0 */
/* The Java binding's native half (libccz_jni.so): the JNI functions of org.ccz.Native, thin
 * over libccz's public API. Handles are C pointers carried as jlong by Java objects that own
 * them (AutoCloseable, with a Cleaner behind). A failing ccz call throws org.ccz.CczException
 * with its status, the status's stable name and ccz_error_detail(); after a throw a function
 * returns at once with a dummy value, as JNI requires. Byte arrays from Java are untrusted
 * input for libccz (evidence, certificates, policies): they go to it as spans, unparsed here.
 * Big integers cross as magnitudes (big-endian bytes) and a sign. */
#include <gmp.h>
#include <jni.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ccz/ccz.h"
#include "ccz/dcap.h"
#include "ccz/paillier.h"
#include "ccz/ratls.h"
#include "ccz/sim.h"

/* ---- errors --------------------------------------------------------------------------------*/

/* A Java String from standard UTF-8 (what libccz writes, with input echoed in it): NewStringUTF
 * takes modified UTF-8 and mangles characters outside the BMP; invalid bytes become U+FFFD. */
static jstring new_string(JNIEnv *env, const char *s)
{
    size_t n = strlen(s);
    if (n > INT32_MAX)
        n = INT32_MAX;
    jclass cls = (*env)->FindClass(env, "java/lang/String");
    if (!cls)
        return NULL;
    jmethodID ctor = (*env)->GetMethodID(env, cls, "<init>", "([BLjava/lang/String;)V");
    jbyteArray b = ctor ? (*env)->NewByteArray(env, (jsize)n) : NULL;
    jstring cs = b ? (*env)->NewStringUTF(env, "UTF-8") : NULL;
    jstring res = NULL;
    if (cs) {
        (*env)->SetByteArrayRegion(env, b, 0, (jsize)n, (const jbyte *)s);
        res = (jstring)(*env)->NewObject(env, cls, ctor, b, cs);
    }
    if (b)
        (*env)->DeleteLocalRef(env, b);
    if (cs)
        (*env)->DeleteLocalRef(env, cs);
    (*env)->DeleteLocalRef(env, cls);
    return res;
}

static void throw_status(JNIEnv *env, ccz_status st, const char *what)
{
    if ((*env)->ExceptionCheck(env))
        return;
    jclass cls = (*env)->FindClass(env, "org/ccz/CczException");
    if (!cls)
        return;
    jmethodID ctor =
        (*env)->GetMethodID(env, cls, "<init>", "(ILjava/lang/String;Ljava/lang/String;)V");
    if (!ctor)
        return;
    const char *detail = ccz_error_detail();
    if (!detail || !*detail)
        detail = ccz_strerror(st);
    if (!what)
        what = "ccz";
    size_t wn = strlen(what);
    char msg[1024];
    if (strncmp(detail, what, wn) == 0 && detail[wn] == ':') /* it names what already */
        snprintf(msg, sizeof msg, "%s", detail);
    else
        snprintf(msg, sizeof msg, "%s: %s", what, detail);
    jstring name = (*env)->NewStringUTF(env, ccz_status_name(st));
    jstring text = new_string(env, msg);
    if (!name || !text)
        return;
    jthrowable e = (jthrowable)(*env)->NewObject(env, cls, ctor, (jint)st, name, text);
    if (e)
        (*env)->Throw(env, e);
}

/* true when st is CCZ_OK; else throws and returns false */
static bool ok(JNIEnv *env, ccz_status st, const char *what)
{
    if (st == CCZ_OK)
        return true;
    throw_status(env, st, what);
    return false;
}

static void throw_arg(JNIEnv *env, const char *msg)
{
    ccz_error_clear();
    (void)ccz_fail(CCZ_ERR_INVALID_ARGUMENT, "%s", msg);
    throw_status(env, CCZ_ERR_INVALID_ARGUMENT, "argument");
}

/* ---- Java arrays and strings ---------------------------------------------------------------*/

/* A copy of a Java byte[] (NULL stays NULL: *present false). */
typedef struct {
    uint8_t *ptr;
    size_t len;
    bool present;
} jbytes;

static bool bytes_get(JNIEnv *env, jbytes *out, jbyteArray a)
{
    *out = (jbytes){0};
    if (!a)
        return true;
    jsize n = (*env)->GetArrayLength(env, a);
    out->ptr = malloc(n ? (size_t)n : 1);
    if (!out->ptr) {
        (void)ok(env, ccz_fail(CCZ_ERR_NOMEM, "out of memory"), "copy");
        return false;
    }
    (*env)->GetByteArrayRegion(env, a, 0, n, (jbyte *)out->ptr);
    out->len = (size_t)n;
    out->present = true;
    return !(*env)->ExceptionCheck(env);
}

static void bytes_free(jbytes *b)
{
    if (b->ptr)
        ccz_wipe(b->ptr, b->len);
    free(b->ptr);
    *b = (jbytes){0};
}

static ccz_span bytes_span(const jbytes *b)
{
    return (ccz_span){b->ptr, b->len};
}

static jbyteArray new_bytes(JNIEnv *env, const void *p, size_t n)
{
    jbyteArray a = (*env)->NewByteArray(env, (jsize)n);
    if (a && n)
        (*env)->SetByteArrayRegion(env, a, 0, (jsize)n, (const jbyte *)p);
    return a;
}

/* A copy of a Java String as standard UTF-8 (NULL stays NULL). Not GetStringUTFChars: its
 * modified UTF-8 writes U+0000 as C0 80 and a character outside the BMP as two surrogates. A
 * NUL is refused: C would read the string only up to it. */
static bool string_get(JNIEnv *env, char **out, jstring s)
{
    *out = NULL;
    if (!s)
        return true;
    jclass cls = (*env)->GetObjectClass(env, s);
    jmethodID get =
        cls ? (*env)->GetMethodID(env, cls, "getBytes", "(Ljava/lang/String;)[B") : NULL;
    jstring cs = get ? (*env)->NewStringUTF(env, "UTF-8") : NULL;
    jbyteArray a = cs ? (jbyteArray)(*env)->CallObjectMethod(env, s, get, cs) : NULL;
    jbytes b = {0};
    bool good = a && bytes_get(env, &b, a);
    if (good && memchr(b.ptr, 0, b.len)) {
        throw_arg(env, "a string with a NUL character: C would read only what precedes it");
        good = false;
    }
    if (good && !(*out = malloc(b.len + 1))) {
        (void)ok(env, ccz_fail(CCZ_ERR_NOMEM, "out of memory"), "copy");
        good = false;
    }
    if (good) {
        memcpy(*out, b.ptr, b.len);
        (*out)[b.len] = '\0';
    }
    bytes_free(&b);
    if (a)
        (*env)->DeleteLocalRef(env, a);
    if (cs)
        (*env)->DeleteLocalRef(env, cs);
    if (cls)
        (*env)->DeleteLocalRef(env, cls);
    return good;
}

/* ---- sim -----------------------------------------------------------------------------------*/

JNIEXPORT void JNICALL Java_org_ccz_Native_simInit(JNIEnv *env, jclass cls, jstring dir,
                                                   jboolean force)
{
    (void)cls;
    char *d = NULL;
    if (!string_get(env, &d, dir))
        return;
    (void)ok(env, ccz_sim_platform_init(d, force), "sim platform");
    free(d);
}

JNIEXPORT jbyteArray JNICALL Java_org_ccz_Native_simMeasure(JNIEnv *env, jclass cls, jstring path)
{
    (void)cls;
    char *p = NULL;
    uint8_t m[32];
    if (!string_get(env, &p, path))
        return NULL;
    if (!p) {
        throw_arg(env, "path: null");
        return NULL;
    }
    bool good = ok(env, ccz_sim_measure_file(m, p), "sim measure");
    free(p);
    return good ? new_bytes(env, m, sizeof m) : NULL;
}

/* ---- attesters -----------------------------------------------------------------------------*/

JNIEXPORT jlong JNICALL Java_org_ccz_Native_attesterNew(JNIEnv *env, jclass cls, jstring tee,
                                                        jstring sim_dir, jbyteArray measurement,
                                                        jint product_id, jint svn, jboolean debug,
                                                        jstring device_root)
{
    (void)cls;
    char *t = NULL, *dir = NULL, *root = NULL;
    jbytes m = {0};
    ccz_attester *a = NULL;
    ccz_attester_opts o = CCZ_ATTESTER_OPTS_INIT;
    if (!string_get(env, &t, tee) || !string_get(env, &dir, sim_dir) ||
        !string_get(env, &root, device_root) || !bytes_get(env, &m, measurement))
        goto out;
    if (m.present && m.len != 32) {
        throw_arg(env, "measurement: 32 bytes");
        goto out;
    }
    if (product_id < 0 || product_id > 65535 || svn < 0 || svn > 65535) {
        throw_arg(env, "productId and svn: 0..65535");
        goto out;
    }
    if (!ok(env, ccz_tee_parse(&o.tee, t ? t : "sim"), "tee"))
        goto out;
    o.sim.dir = dir;
    o.sim.measurement = m.present ? m.ptr : NULL;
    o.sim.product_id = (uint16_t)product_id;
    o.sim.svn = (uint16_t)svn;
    o.sim.debug = debug;
    o.device_root = root;
    (void)ok(env, ccz_attester_new(&a, &o), "attester");
out:
    free(t);
    free(dir);
    free(root);
    bytes_free(&m);
    return (jlong)(intptr_t)a;
}

JNIEXPORT void JNICALL Java_org_ccz_Native_attesterFree(JNIEnv *env, jclass cls, jlong h)
{
    (void)env, (void)cls;
    ccz_attester_free((ccz_attester *)(intptr_t)h);
}

JNIEXPORT jstring JNICALL Java_org_ccz_Native_attesterTee(JNIEnv *env, jclass cls, jlong h)
{
    (void)cls;
    return (*env)->NewStringUTF(env, ccz_tee_name(ccz_attester_tee((ccz_attester *)(intptr_t)h)));
}

JNIEXPORT jbyteArray JNICALL Java_org_ccz_Native_attest(JNIEnv *env, jclass cls, jlong h,
                                                        jbyteArray report_data)
{
    (void)cls;
    jbytes rd = {0};
    uint8_t rd64[64] = {0};
    jbyteArray res = NULL;
    if (!bytes_get(env, &rd, report_data))
        return NULL;
    if (rd.len > 64) {
        throw_arg(env, "report data: at most 64 bytes");
    } else {
        if (rd.len)
            memcpy(rd64, rd.ptr, rd.len);
        ccz_buf ev = CCZ_BUF_INIT;
        if (ok(env, ccz_attest(&ev, (ccz_attester *)(intptr_t)h, rd64), "attest"))
            res = new_bytes(env, ev.ptr, ev.len);
        ccz_buf_free(&ev);
    }
    bytes_free(&rd);
    return res;
}

/* ---- verification: evidence or an RA-TLS certificate ---------------------------------------*/

/* Returns the verdict's JSON (what `ccz verify --json` prints) and sets ok_out[0]. Throws only
 * for unusable arguments (collateral, root CA, policy that do not parse; bad sizes). */
JNIEXPORT jstring JNICALL Java_org_ccz_Native_verify(JNIEnv *env, jclass cls, jbyteArray evidence,
                                                     jbyteArray collateral, jbyteArray root_ca,
                                                     jobjectArray sim_roots, jstring sim_dir,
                                                     jlong at_unix, jbyteArray policy,
                                                     jbyteArray report_data, jbooleanArray ok_out)
{
    (void)cls;
    jbytes ev = {0}, col = {0}, root = {0}, pol = {0}, rd = {0};
    char *dir = NULL;
    ccz_trust *trust = NULL;
    ccz_collateral *c = NULL;
    ccz_policy *p = NULL;
    jstring res = NULL;
    ccz_buf out = CCZ_BUF_INIT;
    if (!bytes_get(env, &ev, evidence) || !bytes_get(env, &col, collateral) ||
        !bytes_get(env, &root, root_ca) || !bytes_get(env, &pol, policy) ||
        !bytes_get(env, &rd, report_data) || !string_get(env, &dir, sim_dir))
        goto out;
    if (!ev.present) {
        throw_arg(env, "evidence: null");
        goto out;
    }
    if (rd.present && rd.len != 64) {
        throw_arg(env, "report data: 64 bytes (pad shorter data with zeros)");
        goto out;
    }
    if (!ok(env, ccz_trust_new(&trust), "trust"))
        goto out;
    if (root.present ? !ok(env, ccz_trust_add_intel_root(trust, bytes_span(&root)), "root CA")
                     : !ok(env, ccz_trust_add_builtin(trust), "built-in roots"))
        goto out;
    jsize n_roots = sim_roots ? (*env)->GetArrayLength(env, sim_roots) : 0;
    for (jsize i = 0; i < n_roots; i++) {
        jbytes r = {0};
        jbyteArray ra = (jbyteArray)(*env)->GetObjectArrayElement(env, sim_roots, i);
        bool good = bytes_get(env, &r, ra) && r.present &&
                    ok(env, ccz_trust_add_sim_root(trust, bytes_span(&r)), "sim root");
        bytes_free(&r);
        (*env)->DeleteLocalRef(env, ra); /* a native frame holds only so many */
        if (!good) {
            if (!(*env)->ExceptionCheck(env))
                throw_arg(env, "sim roots: null element");
            goto out;
        }
    }
    if (dir) {
        ccz_buf path = CCZ_BUF_INIT;
        bool good = ok(env, ccz_buf_printf(&path, "%s/root.crt%c", dir, '\0'), "sim dir") &&
                    ok(env, ccz_trust_add_sim_root_file(trust, (const char *)path.ptr), "sim dir");
        ccz_buf_free(&path);
        if (!good)
            goto out;
    }
    if (col.present &&
        !ok(env, ccz_collateral_parse(&c, (const char *)col.ptr, col.len), "collateral"))
        goto out;
    if (pol.present ? !ok(env, ccz_policy_parse(&p, (const char *)pol.ptr, pol.len), "policy")
                    : !ok(env, ccz_policy_default(&p), "policy"))
        goto out;
    ccz_verify_opts o = CCZ_VERIFY_OPTS_INIT;
    o.at_unix = at_unix;
    o.trust = trust;
    o.collateral = c;
    o.expected_report_data = rd.present ? rd.ptr : NULL;
    bool accepted = false;
    if (!ok(env, ccz_verdict_json(&out, &accepted, bytes_span(&ev), &o, p), "verify"))
        goto out;
    if (ok_out && (*env)->GetArrayLength(env, ok_out) > 0) {
        jboolean b = accepted ? JNI_TRUE : JNI_FALSE;
        (*env)->SetBooleanArrayRegion(env, ok_out, 0, 1, &b);
    }
    if (ok(env, ccz_buf_append(&out, "", 1), "verify"))
        res = new_string(env, (const char *)out.ptr);
out:
    ccz_buf_free(&out);
    ccz_policy_free(p);
    ccz_collateral_free(c);
    ccz_trust_free(trust);
    free(dir);
    bytes_free(&ev);
    bytes_free(&col);
    bytes_free(&root);
    bytes_free(&pol);
    bytes_free(&rd);
    return res;
}

/* ---- RA-TLS certificates -------------------------------------------------------------------*/

static bool pem_of(JNIEnv *env, jobjectArray out, jsize i, BIO *bio)
{
    char *data = NULL;
    long n = BIO_get_mem_data(bio, &data);
    jbyteArray a = new_bytes(env, data, n > 0 ? (size_t)n : 0);
    if (!a)
        return false;
    (*env)->SetObjectArrayElement(env, out, i, a);
    return !(*env)->ExceptionCheck(env);
}

/* -> {certificate PEM, private key PEM} */
JNIEXPORT jobjectArray JNICALL Java_org_ccz_Native_ratlsCertCreate(JNIEnv *env, jclass cls,
                                                                   jlong attester,
                                                                   jstring subject_cn,
                                                                   jboolean p384)
{
    (void)cls;
    char *cn = NULL;
    X509 *cert = NULL;
    EVP_PKEY *key = NULL;
    BIO *cb = NULL, *kb = NULL;
    jobjectArray res = NULL;
    if (!string_get(env, &cn, subject_cn))
        return NULL;
    ccz_ratls_cert_opts o = CCZ_RATLS_CERT_OPTS_INIT;
    o.subject_cn = cn;
    o.key = p384 ? CCZ_RATLS_KEY_P384 : CCZ_RATLS_KEY_P256;
    if (!ok(env, ccz_ratls_cert_create(&cert, &key, (ccz_attester *)(intptr_t)attester, &o),
            "RA-TLS certificate"))
        goto out;
    cb = BIO_new(BIO_s_mem());
    kb = BIO_new(BIO_s_mem());
    if (!cb || !kb || PEM_write_bio_X509(cb, cert) != 1 ||
        PEM_write_bio_PrivateKey(kb, key, NULL, NULL, 0, NULL, NULL) != 1) {
        (void)ok(env, ccz_fail(CCZ_ERR_CRYPTO, "cannot write PEM"), "RA-TLS certificate");
        goto out;
    }
    jclass bytes_cls = (*env)->FindClass(env, "[B");
    if (!bytes_cls)
        goto out;
    res = (*env)->NewObjectArray(env, 2, bytes_cls, NULL);
    if (res && (!pem_of(env, res, 0, cb) || !pem_of(env, res, 1, kb)))
        res = NULL;
out:
    BIO_free(cb);
    BIO_free(kb);
    X509_free(cert);
    EVP_PKEY_free(key);
    free(cn);
    return res;
}

/* ---- Paillier ------------------------------------------------------------------------------*/

/* Java (sign, magnitude big-endian) -> mpz */
static bool mpz_from_java(JNIEnv *env, mpz_t out, jint sign, jbyteArray mag)
{
    jbytes b = {0};
    if (!bytes_get(env, &b, mag)) {
        bytes_free(&b);
        return false;
    }
    if (!b.present) {
        throw_arg(env, "a null number");
        return false;
    }
    mpz_import(out, b.len, 1, 1, 1, 0, b.ptr);
    if (sign < 0)
        mpz_neg(out, out);
    bytes_free(&b);
    return true;
}

/* a non-negative mpz -> its magnitude, big-endian */
static jbyteArray mpz_to_java(JNIEnv *env, const mpz_t v)
{
    size_t n = (mpz_sizeinbase(v, 2) + 7) / 8;
    uint8_t *p = malloc(n ? n : 1);
    if (!p) {
        (void)ok(env, ccz_fail(CCZ_ERR_NOMEM, "out of memory"), "number");
        return NULL;
    }
    size_t written = 0;
    mpz_export(p, &written, 1, 1, 1, 0, v);
    jbyteArray a = new_bytes(env, p, written);
    ccz_wipe(p, n ? n : 1); /* a decrypted plaintext, too */
    free(p);
    return a;
}

JNIEXPORT jlong JNICALL Java_org_ccz_Native_paillierKeygen(JNIEnv *env, jclass cls, jint bits)
{
    (void)cls;
    ccz_paillier_key *k = NULL;
    if (bits < 0) {
        throw_arg(env, "bits: positive");
        return 0;
    }
    (void)ok(env, ccz_paillier_keygen(&k, (unsigned)bits), "generate_paillier_keypair");
    return (jlong)(intptr_t)k;
}

JNIEXPORT void JNICALL Java_org_ccz_Native_paillierKeyFree(JNIEnv *env, jclass cls, jlong h)
{
    (void)env, (void)cls;
    ccz_paillier_key_free((ccz_paillier_key *)(intptr_t)h);
}

JNIEXPORT jbyteArray JNICALL Java_org_ccz_Native_paillierKeyN(JNIEnv *env, jclass cls, jlong h)
{
    (void)cls;
    mpz_t n;
    mpz_init(n);
    ccz_paillier_pub_n(n, ccz_paillier_key_pub((ccz_paillier_key *)(intptr_t)h));
    jbyteArray a = mpz_to_java(env, n);
    mpz_clear(n);
    return a;
}

JNIEXPORT jlong JNICALL Java_org_ccz_Native_paillierPubNew(JNIEnv *env, jclass cls, jbyteArray n)
{
    (void)cls;
    ccz_paillier_pub *pk = NULL;
    mpz_t v;
    mpz_init(v);
    if (mpz_from_java(env, v, 1, n))
        (void)ok(env, ccz_paillier_pub_new(&pk, v), "public key");
    mpz_clear(v);
    return (jlong)(intptr_t)pk;
}

JNIEXPORT void JNICALL Java_org_ccz_Native_paillierPubFree(JNIEnv *env, jclass cls, jlong h)
{
    (void)env, (void)cls;
    ccz_paillier_pub_free((ccz_paillier_pub *)(intptr_t)h);
}

/* op: 0 encrypt(a), 1 add(a, b), 2 add_plain(a, b), 3 mul_plain(a, b), 4 rerandomize(a);
 * a is a non-negative plaintext or ciphertext, b a ciphertext, a plaintext in [0, n) or, for
 * mul_plain, any integer with |b| < n (bsign its sign). */
JNIEXPORT jbyteArray JNICALL Java_org_ccz_Native_paillierOp(JNIEnv *env, jclass cls, jlong pub,
                                                            jint op, jbyteArray a, jint bsign,
                                                            jbyteArray b)
{
    (void)cls;
    const ccz_paillier_pub *pk = (const ccz_paillier_pub *)(intptr_t)pub;
    mpz_t x, y, c;
    mpz_inits(x, y, c, NULL);
    jbyteArray res = NULL;
    ccz_status st = CCZ_ERR_INVALID_ARGUMENT;
    if (!mpz_from_java(env, x, 1, a))
        goto out;
    if (op >= 1 && op <= 3 && !mpz_from_java(env, y, bsign, b))
        goto out;
    switch (op) {
    case 0:
        st = ccz_paillier_encrypt(c, pk, x);
        break;
    case 1:
        st = ccz_paillier_add(c, pk, x, y);
        break;
    case 2:
        st = ccz_paillier_add_plain(c, pk, x, y);
        break;
    case 3:
        st = ccz_paillier_mul_plain(c, pk, x, y);
        break;
    case 4:
        st = ccz_paillier_rerandomize(c, pk, x);
        break;
    default:
        throw_arg(env, "unknown Paillier operation");
        goto out;
    }
    if (ok(env, st, "paillier"))
        res = mpz_to_java(env, c);
out:
    mpz_clears(x, y, c, NULL);
    return res;
}

JNIEXPORT jbyteArray JNICALL Java_org_ccz_Native_paillierDecrypt(JNIEnv *env, jclass cls, jlong key,
                                                                 jbyteArray ciphertext)
{
    (void)cls;
    mpz_t c, m;
    mpz_inits(c, m, NULL);
    jbyteArray res = NULL;
    if (mpz_from_java(env, c, 1, ciphertext) &&
        ok(env, ccz_paillier_decrypt(m, (const ccz_paillier_key *)(intptr_t)key, c), "decrypt"))
        res = mpz_to_java(env, m);
    if (m->_mp_alloc > 0 && m->_mp_d) /* the plaintext: wiped before GMP frees it */
        ccz_wipe(m->_mp_d, (size_t)m->_mp_alloc * sizeof(mp_limb_t));
    mpz_clears(c, m, NULL);
    return res;
}
