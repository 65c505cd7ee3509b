/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "ccz/rpc.h"
#include "svc/peer.h"

void svc_log(FILE *log, const char *who, const char *fmt, ...)
{
    if (!log)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(log, "ccz %s: ", who);
    vfprintf(log, fmt, ap);
    fputc('\n', log);
    fflush(log);
    va_end(ap);
}

static void identity(char *out, size_t cap, const ccz_ratls_verdict *vd, bool full)
{
    if (!vd || vd->status != CCZ_OK) {
        snprintf(out, cap, "not attested");
        return;
    }
    const ccz_claims *c = &vd->result.claims;
    const uint8_t *m = c->sgx.mr_enclave;
    size_t len = sizeof c->sgx.mr_enclave;
    const char *what = "mr_enclave";
    switch (c->tee) {
    case CCZ_TEE_TDX:
    case CCZ_TEE_AZ_TDX_VTPM:
        m = c->tdx.mr_td, len = sizeof c->tdx.mr_td, what = "mr_td";
        break;
    case CCZ_TEE_SNP:
    case CCZ_TEE_AZ_SNP_VTPM:
        m = c->snp.measurement, len = sizeof c->snp.measurement, what = "measurement";
        break;
    case CCZ_TEE_CSV:
        m = c->csv.measurement, len = sizeof c->csv.measurement, what = "measurement";
        break;
    case CCZ_TEE_CCA:
        m = c->cca.rim, len = c->cca.rim_len <= sizeof c->cca.rim ? c->cca.rim_len : 0,
        what = "rim";
        break;
    default:
        break;
    }
    if (!full && len > 8)
        len = 8;
    char hex[2 * 64 + 1] = "";
    for (size_t i = 0; i < len; i++)
        snprintf(hex + 2 * i, 3, "%02x", m[i]);
    snprintf(out, cap, "%s%s %s %s", ccz_tee_name(c->tee), c->simulated ? " (simulated)" : "", what,
             hex);
}

void svc_peer_identity(char *out, size_t cap, const ccz_ratls_verdict *vd)
{
    identity(out, cap, vd, false);
}

void svc_peer_identity_full(char *out, size_t cap, const ccz_ratls_verdict *vd)
{
    identity(out, cap, vd, true);
}

int svc_rpc_code(ccz_status s)
{
    if (s == CCZ_ERR_NOMEM)
        return CCZ_RPC_RESOURCE_EXHAUSTED;
    if (s == CCZ_ERR_INVALID_ARGUMENT || ccz_status_class(s) == CCZ_CLASS_INPUT)
        return CCZ_RPC_INVALID_ARGUMENT;
    return CCZ_RPC_INTERNAL;
}

int svc_rpc_input_code(ccz_status s)
{
    return s == CCZ_ERR_NOMEM ? CCZ_RPC_RESOURCE_EXHAUSTED : CCZ_RPC_INVALID_ARGUMENT;
}

ccz_status svc_defer_to_loop(ccz_rpc_server *s, void (*fn)(void *), void *payload)
{
    ccz_status st;
    while ((st = ccz_rpc_server_defer(s, 0, fn, payload)) == CCZ_ERR_NOMEM)
        usleep(10000);
    return st;
}
