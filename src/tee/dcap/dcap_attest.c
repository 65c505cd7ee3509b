/* SPDX-License-Identifier: Apache-2.0 */
/* Attesters for DCAP quotes: SGX enclaves under Gramine (/dev/attestation) and TDX guests
 * through configfs-tsm, with the legacy /dev/tdx_guest ioctls (TDREPORT, then GetQuote with a
 * QGS message) as fallback. The quote that comes back is untrusted: it is parsed, and it must
 * carry the report data we asked for. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/guard.h"
#include "ccz/dcap.h"
#include "tee/internal.h"

#define QUOTE_MAX (64u << 10)

ccz_status tee_dev_attester_new(void **state, const ccz_attester_opts *o)
{
    tee_dev_attester *a = calloc(1, sizeof *a);
    CCZ_ENSURE(a, CCZ_ERR_NOMEM, "out of memory");
    if (o->device_root && strcmp(o->device_root, "/") != 0)
        snprintf(a->root, sizeof a->root, "%s", o->device_root);
    if (o->tsm_entry) {
        snprintf(a->entry, sizeof a->entry, "%s", o->tsm_entry);
        a->has_entry = true;
    }
    *state = a;
    return CCZ_OK;
}

void tee_dev_attester_free(void *state)
{
    free(state);
}

/* The quote must be of the expected TEE and bind our report data. */
static ccz_status check_quote(ccz_span quote, uint32_t tee, const uint8_t rd[64])
{
    ccz_dcap_quote q;
    CCZ_GUARD(ccz_dcap_quote_parse(&q, quote));
    CCZ_ENSURE(q.tee_type == tee, CCZ_ERR_MALFORMED, "the TEE returned a %s quote",
               q.tee_type == CCZ_DCAP_TEE_TDX ? "TDX" : "SGX");
    uint8_t got[64];
    if (tee == CCZ_DCAP_TEE_SGX) {
        ccz_sgx_claims g;
        CCZ_GUARD(ccz_dcap_sgx_report_decode(&g, got, q.body));
    } else {
        ccz_tdx_claims t;
        CCZ_GUARD(ccz_dcap_td_report_decode(&t, got, q.body));
    }
    CCZ_ENSURE(memcmp(got, rd, 64) == 0, CCZ_ERR_REPORT_DATA_MISMATCH,
               "the TEE returned a quote for other report data (a concurrent request?)");
    return CCZ_OK;
}

/* ---- SGX under Gramine -----------------------------------------------------------------------*/

static ccz_status sgx_attest(const void *state, const uint8_t rd[64], ccz_buf *ev, ccz_buf *certs)
{
    (void)certs; /* the quote carries its PCK chain */
    const tee_dev_attester *a = state;
    char path[4096];
    ccz_buf b = CCZ_BUF_INIT;
    CCZ_GUARD(tee_dev_path(path, sizeof path, a->root, "/dev/attestation/attestation_type"));
    ccz_status s = tee_dev_read(&b, path, 64);
    if (s) {
        ccz_buf_free(&b);
        return ccz_fail(CCZ_ERR_TEE_UNAVAILABLE,
                        "no Gramine attestation interface at %s (run "
                        "inside gramine-sgx with sgx.remote_attestation = \"dcap\")",
                        path);
    }
    size_t n = b.len;
    while (n && (b.ptr[n - 1] == '\n' || b.ptr[n - 1] == 0))
        n--;
    bool dcap = n == CCZ_LIT("dcap").len && CCZ_SPAN_STARTS_WITH(b, "dcap");
    ccz_buf_free(&b);
    CCZ_ENSURE(dcap, CCZ_ERR_TEE_UNAVAILABLE,
               "Gramine's attestation type is not dcap (set "
               "sgx.remote_attestation = \"dcap\" in the manifest)");
    CCZ_GUARD(tee_dev_path(path, sizeof path, a->root, "/dev/attestation/user_report_data"));
    CCZ_GUARD(tee_dev_write(path, CCZ_SPAN(rd, 64)));
    CCZ_GUARD(tee_dev_path(path, sizeof path, a->root, "/dev/attestation/quote"));
    CCZ_GUARD(tee_dev_read(&b, path, QUOTE_MAX));
    s = check_quote(ccz_buf_span(&b), CCZ_DCAP_TEE_SGX, rd);
    if (s == CCZ_OK)
        s = ccz_buf_append(ev, b.ptr, b.len);
    ccz_buf_free(&b);
    return s;
}

/* Gramine's sealing keys: 16 bytes from EGETKEY, bound to MRENCLAVE or to MRSIGNER (with the
 * ISV product id and SVN), stretched to 32 with HKDF. */
static ccz_status sgx_seal_key(const void *state, ccz_seal_policy policy, uint8_t key[32])
{
    const tee_dev_attester *a = state;
    char path[4096];
    CCZ_GUARD(tee_dev_path(path, sizeof path, a->root,
                           policy == CCZ_SEAL_MRENCLAVE ? "/dev/attestation/keys/_sgx_mrenclave"
                                                        : "/dev/attestation/keys/_sgx_mrsigner"));
    ccz_buf raw;
    ccz_buf_init(&raw, 0, true);
    ccz_status s = tee_dev_read(&raw, path, 64);
    if (s == CCZ_OK && raw.len != 16)
        s = ccz_fail(CCZ_ERR_MALFORMED, "%s: %zu bytes, not a 16-byte SGX sealing key", path,
                     raw.len);
    else if (s)
        s = ccz_fail(CCZ_ERR_TEE_UNAVAILABLE,
                     "no Gramine sealing key at %s (run inside gramine-sgx)", path);
    static const char info[] = "ccz sgx seal v1";
    if (s == CCZ_OK)
        s = tee_hkdf_sha256(key, ccz_buf_span(&raw), CCZ_SPAN(info, sizeof info - 1));
    ccz_buf_free(&raw);
    return s;
}

/* ---- TDX: /dev/tdx_guest and QGS messages ----------------------------------------------------*/

#define QGS_HEADER 16 /* major u16, minor u16, type u32, size u32, error u32 */
#define QGS_GET_QUOTE_REQ 0
#define QGS_GET_QUOTE_RESP 1
#define TDX_REPORT_LEN 1024
#define TDX_QUOTE_BUF (16u << 10)

ccz_status tee_tdx_qgs_request(ccz_buf *out, const uint8_t tdreport[1024])
{
    uint32_t msg = QGS_HEADER + 8 + TDX_REPORT_LEN;
    CCZ_GUARD(ccz_buf_append_u8(out, (uint8_t)(msg >> 24)));
    CCZ_GUARD(ccz_buf_append_u8(out, (uint8_t)(msg >> 16)));
    CCZ_GUARD(ccz_buf_append_u8(out, (uint8_t)(msg >> 8)));
    CCZ_GUARD(ccz_buf_append_u8(out, (uint8_t)msg));
    CCZ_GUARD(ccz_buf_append_u16le(out, 1)); /* major */
    CCZ_GUARD(ccz_buf_append_u16le(out, 0)); /* minor */
    CCZ_GUARD(ccz_buf_append_u32le(out, QGS_GET_QUOTE_REQ));
    CCZ_GUARD(ccz_buf_append_u32le(out, msg));
    CCZ_GUARD(ccz_buf_append_u32le(out, 0));              /* error code */
    CCZ_GUARD(ccz_buf_append_u32le(out, TDX_REPORT_LEN)); /* report size */
    CCZ_GUARD(ccz_buf_append_u32le(out, 0));              /* id list size */
    return ccz_buf_append(out, tdreport, TDX_REPORT_LEN);
}

ccz_status tee_tdx_qgs_response(ccz_span *quote, ccz_span buf)
{
    ccz_cursor c;
    ccz_cursor_init(&c, buf);
    uint32_t size, type, msg_size, err, id_size, quote_size;
    uint16_t major, minor;
    ccz_span msg;
    if (ccz_cursor_u32be(&c, &size) || ccz_cursor_take(&c, &msg, size))
        return ccz_fail(CCZ_ERR_TRUNCATED, "QGS response: length exceeds the buffer");
    ccz_cursor m;
    ccz_cursor_init(&m, msg);
    if (ccz_cursor_u16le(&m, &major) || ccz_cursor_u16le(&m, &minor) ||
        ccz_cursor_u32le(&m, &type) || ccz_cursor_u32le(&m, &msg_size) ||
        ccz_cursor_u32le(&m, &err) || ccz_cursor_u32le(&m, &id_size) ||
        ccz_cursor_u32le(&m, &quote_size))
        return ccz_fail(CCZ_ERR_TRUNCATED, "QGS response: header truncated");
    CCZ_ENSURE(major == 1 && type == QGS_GET_QUOTE_RESP, CCZ_ERR_MALFORMED,
               "QGS response: version %u.%u type %u is not a GET_QUOTE response", major, minor,
               type);
    CCZ_ENSURE(err == 0, CCZ_ERR_TEE_UNAVAILABLE,
               "the quote generation service failed (QGS "
               "error 0x%x)",
               err);
    if (ccz_cursor_skip(&m, id_size) || ccz_cursor_take(&m, quote, quote_size))
        return ccz_fail(CCZ_ERR_TRUNCATED, "QGS response: quote of %u bytes exceeds the message",
                        quote_size);
    return CCZ_OK;
}

struct tdx_report_req {
    uint8_t reportdata[64];
    uint8_t tdreport[TDX_REPORT_LEN];
};
struct tdx_quote_req {
    uint64_t buf;
    uint64_t len;
};
#define TDX_CMD_GET_REPORT0 _IOWR('T', 1, struct tdx_report_req)
#define TDX_CMD_GET_QUOTE _IOR('T', 4, struct tdx_quote_req)
#define GET_QUOTE_IN_FLIGHT 0xffffffffffffffffULL

static ccz_status tdx_guest_quote(const char *dev, const uint8_t rd[64], ccz_buf *quote)
{
    int fd = open(dev, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return ccz_fail(CCZ_ERR_TEE_UNAVAILABLE, "cannot open %s: %s", dev, strerror(errno));
    struct tdx_report_req rep = {0}; /* one per call: attesters may run on several threads */
    memcpy(rep.reportdata, rd, 64);
    ccz_status s = CCZ_OK;
    uint8_t *blob = NULL;
    ccz_buf msg = CCZ_BUF_INIT;
    if (ioctl(fd, TDX_CMD_GET_REPORT0, &rep) != 0) {
        s = ccz_fail(CCZ_ERR_TEE_UNAVAILABLE, "%s: TDX_CMD_GET_REPORT0: %s", dev, strerror(errno));
        goto out;
    }
    CCZ_GUARD_GOTO(tee_tdx_qgs_request(&msg, rep.tdreport), s, out);
    blob = calloc(1, TDX_QUOTE_BUF);
    if (!blob || msg.len + 24 > TDX_QUOTE_BUF) {
        s = ccz_fail(CCZ_ERR_NOMEM, "out of memory");
        goto out;
    }
    /* struct tdx_quote_hdr: version u64 = 1, status u64, in_len u32, out_len u32, data */
    uint64_t version = 1;
    uint32_t in_len = (uint32_t)msg.len;
    memcpy(blob, &version, 8);
    memcpy(blob + 16, &in_len, 4);
    memcpy(blob + 24, msg.ptr, msg.len);
    struct tdx_quote_req req = {(uint64_t)(uintptr_t)blob, TDX_QUOTE_BUF};
    if (ioctl(fd, TDX_CMD_GET_QUOTE, &req) != 0) {
        s = ccz_fail(CCZ_ERR_TEE_UNAVAILABLE, "%s: TDX_CMD_GET_QUOTE: %s", dev, strerror(errno));
        goto out;
    }
    uint64_t status;
    uint32_t out_len;
    memcpy(&status, blob + 8, 8);
    memcpy(&out_len, blob + 20, 4);
    if (status != 0 || out_len > TDX_QUOTE_BUF - 24) {
        s = ccz_fail(CCZ_ERR_TEE_UNAVAILABLE, "the VMM did not produce a quote (status 0x%llx%s)",
                     (unsigned long long)status,
                     status == GET_QUOTE_IN_FLIGHT ? ", still in flight" : "");
        goto out;
    }
    ccz_span q;
    CCZ_GUARD_GOTO(tee_tdx_qgs_response(&q, CCZ_SPAN(blob + 24, out_len)), s, out);
    s = ccz_buf_append(quote, q.ptr, q.len);
out:
    free(blob);
    ccz_buf_free(&msg);
    close(fd);
    return s;
}

static ccz_status tdx_attest(const void *state, const uint8_t rd[64], ccz_buf *ev, ccz_buf *certs)
{
    (void)certs;
    const tee_dev_attester *a = state;
    ccz_buf q = CCZ_BUF_INIT;
    ccz_status s;
    if (tee_tsm_available(a->root)) {
        tee_tsm_request rq = {"tdx_guest", rd, -1, a->has_entry ? a->entry : NULL, NULL, NULL};
        s = tee_tsm_report(a->root, &rq, &q, NULL);
    } else {
        char dev[4096];
        struct stat st;
        CCZ_GUARD(tee_dev_path(dev, sizeof dev, a->root, "/dev/tdx_guest"));
        if (stat(dev, &st) != 0)
            return ccz_fail(CCZ_ERR_TEE_UNAVAILABLE,
                            "no TDX guest interface: neither "
                            "configfs-tsm (%s/sys/kernel/config/tsm/report) nor %s exists",
                            a->root, dev);
        s = tdx_guest_quote(dev, rd, &q);
    }
    if (s == CCZ_OK)
        s = check_quote(ccz_buf_span(&q), CCZ_DCAP_TEE_TDX, rd);
    if (s == CCZ_OK)
        s = ccz_buf_append(ev, q.ptr, q.len);
    ccz_buf_free(&q);
    return s;
}

const tee_attester_ops tee_attester_sgx = {tee_dev_attester_new, sgx_attest, tee_dev_attester_free,
                                           sgx_seal_key};
const tee_attester_ops tee_attester_tdx = {tee_dev_attester_new, tdx_attest, tee_dev_attester_free,
                                           NULL};
