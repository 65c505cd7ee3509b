/* SPDX-License-Identifier: Apache-2.0 */
/* Regenerates the DCAP fuzz fixture (fuzz/dcap_fixture.h: a forged root and collateral) and the
 * seed corpora (fuzz/corpus/dcap_quote, fuzz/corpus/dcap_collateral) from the test forge. Run
 * by hand from the source directory: build/fuzz/gen_dcap_seeds fuzz. The outputs are committed;
 * they are synthetic, signed by throwaway keys, and not Intel's. */
#include <stdio.h>
#include <string.h>

#include "ccz/ccz.h"
#include "dcap_forge.h"

#define DATES "\"issueDate\":\"2025-01-01T00:00:00Z\",\"nextUpdate\":\"2035-01-01T00:00:00Z\""

static void comps(char *out, int svn)
{
    out[0] = '\0';
    for (int i = 0; i < 16; i++)
        sprintf(out + strlen(out), "%s{\"svn\":%d}", i ? "," : "", svn);
}

static int put(const char *dir, const char *name, ccz_span data)
{
    char path[1024];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path) {
        fprintf(stderr, "%s/%s: the path is too long\n", dir, name);
        return 1;
    }
    if (ccz_file_write(path, data, 0644)) {
        fprintf(stderr, "%s\n", ccz_error_detail());
        return 1;
    }
    return 0;
}

static void c_string(FILE *f, const char *name, ccz_span s)
{
    fprintf(f, "static const char %s[] =\n    \"", name);
    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = s.ptr[i];
        if (c == '\n')
            fprintf(f, "\\n\"\n    \"");
        else if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else
            fputc(c, f);
    }
    fprintf(f, "\";\n\n");
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: gen_dcap_seeds FUZZ_DIR\n");
        return 2;
    }
    const char *dir = argv[1];
    char qdir[1024], cdir[1024], sgx[2048], tdx[2048], ti[8192], tti[8192], qe[1024], tqe[1024];
    snprintf(qdir, sizeof qdir, "%s/corpus/dcap_quote", dir);
    snprintf(cdir, sizeof cdir, "%s/corpus/dcap_collateral", dir);
    comps(sgx, 5);
    comps(tdx, 0);
    memcpy(tdx, "{\"svn\":2},{\"svn\":1},{\"svn\":2}", 29); /* same length as three {"svn":0} */
    snprintf(ti, sizeof ti,
             "{\"id\":\"SGX\",\"version\":3," DATES
             ",\"fmspc\":\"00906ED50000\",\"pceId\":\"0000\","
             "\"tcbType\":0,\"tcbEvaluationDataNumber\":17,\"tcbLevels\":[{\"tcb\":{"
             "\"sgxtcbcomponents\":[%s],\"pcesvn\":10},\"tcbDate\":\"2024-01-01T00:00:00Z\","
             "\"tcbStatus\":\"SWHardeningNeeded\",\"advisoryIDs\":[\"INTEL-SA-00615\"]}]}",
             sgx);
    snprintf(tti, sizeof tti,
             "{\"id\":\"TDX\",\"version\":3," DATES
             ",\"fmspc\":\"00906ED50000\",\"pceId\":\"0000\","
             "\"tcbType\":0,\"tcbEvaluationDataNumber\":17,\"tdxModule\":{\"mrsigner\":\"%096d\","
             "\"attributes\":\"0000000000000000\",\"attributesMask\":\"FFFFFFFFFFFFFFFF\"},"
             "\"tdxModuleIdentities\":[{\"id\":\"TDX_01\",\"mrsigner\":\"%096d\",\"attributes\":"
             "\"0000000000000000\",\"attributesMask\":\"FFFFFFFFFFFFFFFF\",\"tcbLevels\":[{\"tcb\":"
             "{\"isvsvn\":2},\"tcbDate\":\"2024-01-01T00:00:00Z\",\"tcbStatus\":\"UpToDate\"}]}],"
             "\"tcbLevels\":[{\"tcb\":{\"sgxtcbcomponents\":[%s],\"pcesvn\":10,\"tdxtcbcomponents\""
             ":[%s]},\"tcbDate\":\"2024-01-01T00:00:00Z\",\"tcbStatus\":\"UpToDate\"}]}",
             0, 0, sgx, tdx);
    static const char qe_fmt[] =
        "{\"id\":\"%s\",\"version\":2," DATES ",\"tcbEvaluationDataNumber\":17,\"miscselect\":"
        "\"00000000\",\"miscselectMask\":\"FFFFFFFF\",\"attributes\":"
        "\"11000000000000000000000000000000\",\"attributesMask\":"
        "\"FBFFFFFFFFFFFFFF0000000000000000\",\"mrsigner\":"
        "\"8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C\",\"isvprodid\":%d,"
        "\"tcbLevels\":[{\"tcb\":{\"isvsvn\":8},\"tcbDate\":\"2024-01-01T00:00:00Z\","
        "\"tcbStatus\":\"UpToDate\"}]}";
    snprintf(qe, sizeof qe, qe_fmt, "QE", 1);
    snprintf(tqe, sizeof tqe, qe_fmt, "TD_QE", 2);

    forge *f = forge_new();
    ccz_buf sc = CCZ_BUF_INIT, tc = CCZ_BUF_INIT;
    forge_collateral_opts co = {ti, qe, 1735689600, 2051222400, false, false};
    int bad = forge_collateral(f, &sc, &co) != CCZ_OK;
    co.tcb_info = tti;
    co.qe_identity = tqe;
    bad |= forge_collateral(f, &tc, &co) != CCZ_OK;
    bad |= put(cdir, "sgx.json", ccz_buf_span(&sc)) | put(cdir, "tdx.json", ccz_buf_span(&tc));

    static const struct {
        const char *name;
        int version;
        bool tdx, td15;
    } quotes[] = {{"sgx_v3", 3, false, false},
                  {"sgx_v4", 4, false, false},
                  {"sgx_v5", 5, false, false},
                  {"tdx_v4", 4, true, false},
                  {"td15_v5", 5, true, true}};
    for (size_t i = 0; i < sizeof quotes / sizeof quotes[0]; i++) {
        forge_quote_opts qo;
        forge_quote_defaults(&qo);
        qo.version = quotes[i].version;
        qo.tdx = quotes[i].tdx;
        qo.td15 = quotes[i].td15;
        if (qo.tdx) {
            qo.qe_isvprodid = 2;
            qo.tee_tcb_svn[0] = 2;
            qo.tee_tcb_svn[1] = 1;
            qo.tee_tcb_svn[2] = 2;
        }
        ccz_buf q = CCZ_BUF_INIT;
        bad |= forge_quote(f, &q, &qo) != CCZ_OK;
        bad |= put(qdir, quotes[i].name, ccz_buf_span(&q));
        ccz_buf_free(&q);
    }

    char path[1024];
    snprintf(path, sizeof path, "%s/dcap_fixture.h", dir);
    FILE *h = fopen(path, "w");
    if (!h)
        return 1;
    fprintf(h, "/* Generated by fuzz/gen_dcap_seeds.c: a forged DCAP root and collateral that the "
               "seed quotes\n * in fuzz/corpus/dcap_quote verify against (synthetic, not Intel's). "
               "*/\n\n");
    c_string(h, "fixture_root_pem", forge_root_pem(f));
    c_string(h, "fixture_sgx_collateral", ccz_buf_span(&sc));
    c_string(h, "fixture_tdx_collateral", ccz_buf_span(&tc));
    fprintf(h, "#define FIXTURE_AT 1893456000 /* 2030-01-01 */\n");
    fclose(h);
    ccz_buf_free(&sc);
    ccz_buf_free(&tc);
    forge_free(f);
    return bad;
}
