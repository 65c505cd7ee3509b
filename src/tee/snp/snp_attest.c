/* SPDX-License-Identifier: Apache-2.0 */
/* The SEV-SNP attester: configfs-tsm with provider sev_guest (report in outblob, the host's
 * certificate table in auxblob), else the /dev/sev-guest SNP_GET_REPORT ioctl. What comes back
 * is untrusted: the report is parsed and must carry the requested report data. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/guard.h"
#include "ccz/snp.h"
#include "tee/internal.h"

struct snp_report_req {
    uint8_t user_data[64];
    uint32_t vmpl;
    uint8_t rsvd[28];
};

struct snp_report_resp {
    uint8_t data[4000];
};

struct snp_guest_request_ioctl {
    uint8_t msg_version;
    uint64_t req_data;
    uint64_t resp_data;
    uint64_t exitinfo2; /* firmware error (low 32 bits) and VMM error (high 32) */
};

#define SNP_GET_REPORT _IOWR('S', 0x0, struct snp_guest_request_ioctl)
#define REPORT_RESP_OFFSET 0x20 /* status u32, size u32, reserved, then the report */

static ccz_status sev_guest_report(const char *dev, const uint8_t rd[64], ccz_buf *out)
{
    int fd = open(dev, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return ccz_fail(CCZ_ERR_TEE_UNAVAILABLE, "cannot open %s: %s", dev, strerror(errno));
    static __thread struct snp_report_req req;
    static __thread struct snp_report_resp resp;
    memset(&req, 0, sizeof req);
    memset(&resp, 0, sizeof resp);
    memcpy(req.user_data, rd, 64);
    struct snp_guest_request_ioctl io = {1, (uint64_t)(uintptr_t)&req, (uint64_t)(uintptr_t)&resp,
                                         0};
    int rc = ioctl(fd, SNP_GET_REPORT, &io);
    int err = errno;
    close(fd);
    if (rc != 0)
        return ccz_fail(CCZ_ERR_TEE_UNAVAILABLE, "%s: SNP_GET_REPORT: %s (firmware error 0x%x)",
                        dev, strerror(err), (unsigned)io.exitinfo2);
    ccz_cursor c;
    ccz_cursor_init(&c, CCZ_SPAN(resp.data, sizeof resp.data));
    uint32_t status = 0, size = 0;
    ccz_span report;
    if (ccz_cursor_u32le(&c, &status) || ccz_cursor_u32le(&c, &size) ||
        ccz_cursor_skip(&c, REPORT_RESP_OFFSET - 8) || ccz_cursor_take(&c, &report, size))
        return ccz_fail(CCZ_ERR_MALFORMED, "SNP_GET_REPORT: response size %u is impossible", size);
    CCZ_ENSURE(status == 0, CCZ_ERR_TEE_UNAVAILABLE, "SNP_GET_REPORT: firmware status 0x%x",
               status);
    return ccz_buf_append(out, report.ptr, report.len);
}

static ccz_status snp_attest(const void *state, const uint8_t rd[64], ccz_buf *ev, ccz_buf *certs)
{
    const tee_dev_attester *a = state;
    ccz_buf report = CCZ_BUF_INIT, aux = CCZ_BUF_INIT, chain = CCZ_BUF_INIT;
    ccz_status s;
    if (tee_tsm_available(a->root)) {
        tee_tsm_request rq = {"sev_guest", rd, -1, a->has_entry ? a->entry : NULL, NULL, NULL};
        s = tee_tsm_report(a->root, &rq, &report, certs ? &aux : NULL);
    } else {
        char dev[4096];
        struct stat st;
        CCZ_GUARD(tee_dev_path(dev, sizeof dev, a->root, "/dev/sev-guest"));
        if (stat(dev, &st) != 0)
            return ccz_fail(CCZ_ERR_TEE_UNAVAILABLE,
                            "no SEV-SNP guest interface: neither "
                            "configfs-tsm (%s/sys/kernel/config/tsm/report) nor %s exists",
                            a->root, dev);
        s = sev_guest_report(dev, rd, &report);
    }
    static __thread ccz_snp_report r;
    if (s == CCZ_OK)
        s = ccz_snp_report_parse(&r, ccz_buf_span(&report), CCZ_SNP_UNKNOWN);
    if (s == CCZ_OK && memcmp(r.report_data, rd, 64) != 0)
        s = ccz_fail(CCZ_ERR_REPORT_DATA_MISMATCH,
                     "the TEE returned a report for other report data (a concurrent request?)");
    if (s == CCZ_OK && certs && aux.len) {
        size_t before = certs->len;
        s = ccz_snp_cert_table(certs, &chain, ccz_buf_span(&aux));
        if (s == CCZ_OK)
            s = ccz_buf_append(certs, chain.ptr, chain.len);
        if (s)
            certs->len = before;
    }
    if (s == CCZ_OK)
        s = ccz_buf_append(ev, report.ptr, report.len);
    ccz_buf_free(&report);
    ccz_buf_free(&aux);
    ccz_buf_free(&chain);
    return s;
}

const tee_attester_ops tee_attester_snp = {tee_dev_attester_new, snp_attest, tee_dev_attester_free,
                                           NULL};
