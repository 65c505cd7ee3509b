/* SPDX-License-Identifier: Apache-2.0 */
/* ccz collateral: fetch the Intel collateral a quote needs from a PCCS or Intel PCS, with an
 * on-disk cache, and inspect collateral files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static const char collateral_usage[] =
    "usage: ccz collateral fetch QUOTE --pccs URL -o FILE [--cache-dir D | --no-cache]\n"
    "                            [--at UNIX] [--cacert FILE] [--insecure-tls]\n"
    "       ccz collateral fetch REPORT --kds URL -o FILE [--product NAME] [--cache-dir D |\n"
    "                            --no-cache] [--cacert FILE] [--insecure-tls]\n"
    "       ccz collateral fetch EVIDENCE --hygon-kds URL -o FILE [--cache-dir D |\n"
    "                            --no-cache] [--cacert FILE] [--insecure-tls]\n"
    "       ccz collateral info FILE\n"
    "\n"
    "fetch: gets the PCK CRL, root CA CRL, TCB info and QE identity a quote (binary or hex,\n"
    "or the TD quote of Azure TDX evidence) needs from a PCCS or Intel PCS (v4 API) and\n"
    "writes them as QuoteCollateralV3 JSON.\n"
    "  --pccs URL       e.g. https://api.trustedservices.intel.com or https://pccs:8081\n"
    "  -o FILE          where to write the collateral ('-' for standard output)\n"
    "  --cache-dir D    keep fetched collateral here until it expires (default:\n"
    "                   $XDG_CACHE_HOME/ccz/collateral or ~/.cache/ccz/collateral)\n"
    "  --no-cache       always fetch\n"
    "  --at UNIX        the instant that decides whether cached collateral is still good\n"
    "  --cacert FILE    PEM roots for the server's TLS certificate\n"
    "  --insecure-tls   do not verify the server's TLS certificate (collateral is signed by\n"
    "                   Intel and checked when a quote is verified)\n"
    "With --kds (an SEV-SNP report): fetches the report's VCEK from AMD KDS\n"
    "(https://kdsintf.amd.com) by chip id and reported TCB and writes it (DER) for\n"
    "'ccz verify REPORT --vek FILE'. --product Milan|Genoa|Turin is needed for version 2\n"
    "reports, which do not name their CPU.\n"
    "With --hygon-kds (Hygon CSV evidence): fetches the chip's HSK/CEK bundle from Hygon's\n"
    "KDS (https://cert.hygon.cn/hsk_cek?snumber=CHIP) and writes it (binary, HSK then CEK)\n"
    "for 'ccz verify EVIDENCE --hsk-cek FILE'.\n"
    "info: prints the TEE, FMSPC and validity of a collateral file; for Hygon certificates\n"
    "(HRK, HSK, an HSK/CEK bundle, ... in chain order) checks each link from the built-in\n"
    "HRK.\n";

static int fetch(int argc, char **argv);
static int info(int argc, char **argv);

static const cli_command collateral_cmds[] = {
    {"fetch", fetch, NULL,
     CLI_OPT(CLI_O_PCCS) | CLI_OPT(CLI_O_KDS) | CLI_OPT(CLI_O_PRODUCT) | CLI_OPT(CLI_O_OUT) |
         CLI_OPT(CLI_O_AT) | CLI_FRAG_FETCH | CLI_OPT(CLI_O_HYGON_KDS) | CLI_FRAG_HELP},
    {"info", info, NULL, 0}, /* FILE alone, or --help */
};
static const cli_group collateral_group =
    CLI_GROUP("collateral", collateral_usage, collateral_cmds, "collateral command", NULL, NULL);

static ccz_status default_cache(ccz_buf *out)
{
    const char *d = getenv("XDG_CACHE_HOME");
    if (d && d[0])
        return ccz_buf_printf(out, "%s/ccz/collateral", d);
    d = getenv("HOME");
    CCZ_ENSURE(d && d[0], CCZ_ERR_NOT_FOUND, "no cache directory: set HOME or pass --cache-dir");
    return ccz_buf_printf(out, "%s/.cache/ccz/collateral", d);
}

/* Collateral is per kind of evidence: say which fetch (if any) a file's evidence needs. */
static int wrong_kind(const char *file, const ccz_buf *ev, bool kds)
{
    ccz_tee t = ccz_evidence_detect(ccz_buf_span(ev));
    if (kds ? t == CCZ_TEE_SNP : (t == CCZ_TEE_SGX || t == CCZ_TEE_TDX || t == CCZ_TEE_AZ_TDX_VTPM))
        return 0;
    if (t == CCZ_TEE_CSV)
        return cli_usage_error("collateral",
                               "%s holds Hygon CSV evidence: fetch its HSK/CEK with "
                               "--hygon-kds URL",
                               file);
    if (t == CCZ_TEE_AZ_SNP_VTPM)
        return cli_usage_error("collateral",
                               "%s holds Azure SEV-SNP evidence, which carries its VCEK: "
                               "verify it as it is",
                               file);
    if (t == CCZ_TEE_SIM)
        return cli_usage_error("collateral",
                               "%s holds sim evidence, which needs no collateral: "
                               "verify it with the platform's root (--sim-dir DIR)",
                               file);
    if (t == CCZ_TEE_SNP)
        return cli_usage_error("collateral",
                               "%s holds an SEV-SNP report: fetch its VCEK with "
                               "--kds URL",
                               file);
    if (t == CCZ_TEE_SGX || t == CCZ_TEE_TDX)
        return cli_usage_error("collateral",
                               "%s holds an Intel %s quote: fetch its collateral "
                               "with --pccs URL",
                               file, t == CCZ_TEE_SGX ? "SGX" : "TDX");
    return cli_usage_error("collateral",
                           "%s is not evidence of a known kind (an SGX or TDX "
                           "quote for --pccs, an SEV-SNP report for --kds)",
                           file);
}

static int fetch_vcek(const char *report, const char *kds, const char *out, const char *cache,
                      bool no_cache, ccz_snp_product product, const ccz_collateral_fetch_opts *fo)
{
    ccz_snp_vcek_fetch_opts o = {CCZ_SNP_VCEK_FETCH_OPTS_VERSION,
                                 kds,
                                 NULL,
                                 product,
                                 fo->ca_file,
                                 fo->tls_verify_insecure,
                                 fo->timeout_seconds};
    ccz_buf rep = CCZ_BUF_INIT, vcek = CCZ_BUF_INIT, dir = CCZ_BUF_INIT;
    bool from_cache = false;
    int r = EXIT_OK;
    ccz_status s = cli_read_evidence(&rep, report);
    if (s == CCZ_OK && (r = wrong_kind(report, &rep, true)) != 0) {
        ccz_buf_free(&rep);
        return r;
    }
    if (s == CCZ_OK && !no_cache) {
        s = cache ? ccz_buf_append_str(&dir, cache) : default_cache(&dir);
        o.cache_dir = (const char *)dir.ptr;
    }
    if (s == CCZ_OK)
        s = ccz_snp_vcek_fetch(&vcek, &from_cache, ccz_buf_span(&rep), &o);
    if (s == CCZ_OK && strcmp(out, "-") == 0)
        s = fwrite(vcek.ptr, 1, vcek.len, stdout) == vcek.len ? CCZ_OK : CCZ_ERR_IO;
    else if (s == CCZ_OK)
        s = ccz_file_write(out, ccz_buf_span(&vcek), 0644);
    if (s)
        r = cli_fail(s, "collateral fetch --kds");
    else
        fprintf(stderr, "VCEK %s (%zu bytes)\n", from_cache ? "from the cache" : "fetched",
                vcek.len);
    ccz_buf_free(&rep);
    ccz_buf_free(&vcek);
    ccz_buf_free(&dir);
    return r;
}

static int fetch_hsk_cek(const char *file, const char *kds, const char *out, const char *cache,
                         bool no_cache, const ccz_collateral_fetch_opts *fo)
{
    ccz_csv_fetch_opts o = CCZ_CSV_FETCH_OPTS_INIT;
    o.kds_url = kds;
    o.ca_file = fo->ca_file;
    o.tls_verify_insecure = fo->tls_verify_insecure;
    o.timeout_seconds = fo->timeout_seconds;
    ccz_buf ev = CCZ_BUF_INIT, bundle = CCZ_BUF_INIT, dir = CCZ_BUF_INIT;
    bool from_cache = false;
    ccz_status s = cli_read_evidence(&ev, file);
    if (s == CCZ_OK && ccz_evidence_detect(ccz_buf_span(&ev)) != CCZ_TEE_CSV) {
        ccz_buf_free(&ev);
        return cli_usage_error("collateral", "%s is not Hygon CSV evidence (--hygon-kds)", file);
    }
    if (s == CCZ_OK && !no_cache) {
        s = cache ? ccz_buf_append_str(&dir, cache) : default_cache(&dir);
        o.cache_dir = (const char *)dir.ptr;
    }
    if (s == CCZ_OK)
        s = ccz_csv_hsk_cek_fetch(&bundle, &from_cache, ccz_buf_span(&ev), &o);
    if (s == CCZ_OK && strcmp(out, "-") == 0)
        s = fwrite(bundle.ptr, 1, bundle.len, stdout) == bundle.len ? CCZ_OK : CCZ_ERR_IO;
    else if (s == CCZ_OK)
        s = ccz_file_write(out, ccz_buf_span(&bundle), 0644);
    int r = EXIT_OK;
    if (s)
        r = cli_fail(s, "collateral fetch --hygon-kds");
    else
        fprintf(stderr, "HSK/CEK %s (%zu bytes)\n", from_cache ? "from the cache" : "fetched",
                bundle.len);
    ccz_buf_free(&ev);
    ccz_buf_free(&bundle);
    ccz_buf_free(&dir);
    return r;
}

static int fetch(int argc, char **argv)
{
    cli_args a = {0};
    int r =
        cli_parse(&a, argc, argv, &collateral_group, cli_command_opts(&collateral_group, argv[0]));
    if (r)
        return r < 0 ? EXIT_OK : r;
    ccz_collateral_fetch_opts o = CCZ_COLLATERAL_FETCH_OPTS_INIT;
    const char *out = a.out, *cache = a.cache_dir, *kds = a.kds;
    ccz_snp_product product = a.product;
    bool no_cache = a.no_cache;
    o.now = a.have_at ? a.at : (int64_t)time(NULL);
    o.base_url = a.pccs;
    o.ca_file = a.cacert;
    o.tls_verify_insecure = a.insecure_tls;
    if (argc - optind != 1)
        return cli_usage_error("collateral", "give exactly one quote file");
    if (!out)
        return cli_usage_error("collateral", "-o FILE is required");
    if (kds && a.hygon_kds)
        return cli_usage_error("collateral", "--kds (AMD) and --hygon-kds exclude each other");
    if (kds)
        return fetch_vcek(argv[optind], kds, out, cache, no_cache, product, &o);
    if (a.hygon_kds)
        return fetch_hsk_cek(argv[optind], a.hygon_kds, out, cache, no_cache, &o);
    if (!o.base_url)
        return cli_usage_error("collateral", "--pccs URL is required (or --kds URL for an "
                                             "SEV-SNP report)");
    ccz_buf quote = CCZ_BUF_INIT, doc = CCZ_BUF_INIT, cache_dir = CCZ_BUF_INIT;
    bool from_cache = false;
    ccz_status s = cli_read_evidence(&quote, argv[optind]);
    if (s == CCZ_OK && (r = wrong_kind(argv[optind], &quote, false)) != 0) {
        ccz_buf_free(&quote);
        return r;
    }
    if (s == CCZ_OK && ccz_evidence_detect(ccz_buf_span(&quote)) == CCZ_TEE_AZ_TDX_VTPM) {
        ccz_az_evidence ev; /* the collateral is the TD quote's */
        if ((s = ccz_az_evidence_parse(&ev, ccz_buf_span(&quote))) == CCZ_OK) {
            ccz_buf_reset(&quote);
            s = ccz_buf_append(&quote, ev.td_quote.ptr, ev.td_quote.len);
            ccz_az_evidence_free(&ev);
        }
    }
    if (s == CCZ_OK && !no_cache) {
        s = cache ? ccz_buf_append_str(&cache_dir, cache) : default_cache(&cache_dir);
        o.cache_dir = (const char *)cache_dir.ptr;
    }
    if (s == CCZ_OK)
        s = ccz_collateral_fetch(&doc, &from_cache, ccz_buf_span(&quote), &o);
    ccz_collateral *col = NULL;
    if (s == CCZ_OK)
        s = ccz_collateral_parse(&col, (const char *)doc.ptr, doc.len);
    if (s) {
        r = cli_fail(s, "collateral fetch");
    } else if (!strcmp(out, "-") ? fwrite(doc.ptr, 1, doc.len, stdout) != doc.len
                                 : (s = ccz_file_write(out, ccz_buf_span(&doc), 0644)) != 0) {
        r = cli_fail(s ? s : CCZ_ERR_IO, "collateral fetch: cannot write %s", out);
    } else if ((s = ccz_collateral_problem(col)) != CCZ_OK) {
        fprintf(stderr,
                "ccz: collateral fetch: wrote %s, but ccz cannot verify quotes with it: "
                "%s: %s\n",
                out, ccz_status_name(s), ccz_error_detail());
        r = cli_exit_code(s, true);
    } else {
        uint8_t fmspc[6];
        ccz_collateral_fmspc(fmspc, col);
        time_t exp = (time_t)ccz_collateral_expiry(col);
        char when[32];
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&exp));
        fprintf(stderr, "%s collateral for FMSPC %02X%02X%02X%02X%02X%02X %s, valid until %s\n",
                ccz_collateral_tee(col), fmspc[0], fmspc[1], fmspc[2], fmspc[3], fmspc[4], fmspc[5],
                from_cache ? "from the cache" : "fetched", when);
    }
    ccz_collateral_free(col);
    ccz_buf_free(&quote);
    ccz_buf_free(&doc);
    ccz_buf_free(&cache_dir);
    return r;
}

/* Hygon's certificates are binary: some CA certificates (832 bytes) and CSV certificates
 * (2084 bytes), at most a whole chain (HRK, HSK, CEK, PEK). */
static bool looks_like_csv_certs(const char *path)
{
    ccz_buf b = CCZ_BUF_INIT;
    bool yes = false;
    if (ccz_file_read(&b, path, 1 << 20) == CCZ_OK && b.len && b.ptr[0] != '{')
        for (size_t ca = 0; ca <= 2 && !yes; ca++)
            for (size_t csv = 0; csv <= 2 && !yes; csv++)
                yes = ca + csv > 0 && ca * CCZ_CSV_CA_CERT_SIZE + csv * CCZ_CSV_CERT_SIZE == b.len;
    ccz_buf_free(&b);
    ccz_error_clear();
    return yes;
}

static int csv_info(const char *path)
{
    ccz_buf b = CCZ_BUF_INIT;
    ccz_trust *t = NULL;
    char lines[1024];
    ccz_status s = ccz_file_read(&b, path, 1 << 20);
    if (s == CCZ_OK)
        s = ccz_trust_load(&t, &(ccz_trust_sources)CCZ_TRUST_SOURCES_INIT);
    if (s == CCZ_OK)
        s = ccz_csv_chain_check(lines, sizeof lines, ccz_buf_span(&b), t);
    int r = EXIT_OK;
    printf("tee         CSV (Hygon certificates)\n");
    if (s == CCZ_OK) {
        printf("%s", lines);
        printf("chain       verified from the built-in HRK\n");
    } else {
        printf("chain       FAILED: %s: %s\n", ccz_status_name(s), ccz_error_detail());
        r = cli_exit_code(s, true);
    }
    ccz_trust_free(t);
    ccz_buf_free(&b);
    return r;
}

static int info(int argc, char **argv)
{
    if (argc == 2 && cli_is_help(argv[1]))
        return cli_help(&collateral_group);
    if (argc != 2 || argv[1][0] == '-')
        return cli_usage_error("collateral", "usage: ccz collateral info FILE");
    if (looks_like_csv_certs(argv[1]))
        return csv_info(argv[1]);
    ccz_collateral *c;
    ccz_status s = ccz_collateral_load_file(&c, argv[1]);
    if (s)
        return cli_fail(s, "collateral info");
    uint8_t fmspc[6];
    ccz_collateral_fmspc(fmspc, c);
    printf("tee         %s\nfmspc       %02X%02X%02X%02X%02X%02X\n", ccz_collateral_tee(c),
           fmspc[0], fmspc[1], fmspc[2], fmspc[3], fmspc[4], fmspc[5]);
    int r = EXIT_OK;
    if ((s = ccz_collateral_problem(c)) != CCZ_OK) {
        printf("usable      no: %s: %s\n", ccz_status_name(s), ccz_error_detail());
        r = cli_exit_code(s, true);
    } else {
        time_t exp = (time_t)ccz_collateral_expiry(c);
        char when[32];
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&exp));
        printf("valid until %s (%lld)\n", when, (long long)exp);
    }
    ccz_collateral_free(c);
    return r;
}

int cmd_collateral(int argc, char **argv)
{
    return cli_dispatch(&collateral_group, argc, argv);
}
