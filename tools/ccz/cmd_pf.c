/* SPDX-License-Identifier: Apache-2.0 */
/* ccz pf: protected files in Gramine's format, as gramine-sgx-pf-crypt makes and reads them
 * (the same modes and option letters): a 16-byte raw wrap key file, files or directories
 * encrypted with the normalized output path bound into each file, decrypted with an optional
 * path check (-V), and verified node by node. Input files are untrusted; the key never leaves
 * wiped buffers. Options are parsed here (getopt_long), not through the shared option table. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "cli.h"

static const char pf_usage[] =
    "usage: ccz pf gen-key -w KEYFILE\n"
    "       ccz pf encrypt -w KEYFILE -i IN -o OUT [-p PATH] [--format 1|2] [-v]\n"
    "       ccz pf decrypt -w KEYFILE -i IN -o OUT [-V] [-p PATH] [-v]\n"
    "       ccz pf verify -w KEYFILE -i IN [-V] [-p PATH] [-v]\n"
    "\n"
    "Protected files in Gramine's format (its encrypted files; gramine-sgx-pf-crypt's modes\n"
    "and options). gen-key writes a 16-byte random wrap key (it refuses to overwrite a file).\n"
    "encrypt makes IN (a file, or a directory, recursively) a protected file OUT bound to the\n"
    "path OUT normalized, as Gramine's manifest must name it, or to PATH. decrypt writes the\n"
    "plaintext of IN to OUT; verify authenticates every node of IN and describes it. A wrong\n"
    "key, an altered, missing, swapped or extra node is refused, naming the node (exit 1).\n"
    "\n"
    "options:\n"
    "  -w, --wrap-key KEYFILE  the wrap key: exactly 16 raw bytes\n"
    "  -i, --input IN          the file or directory to read\n"
    "  -o, --output OUT        the file or directory to write (each file written whole, then\n"
    "                          renamed into place; decrypt's mode 0600)\n"
    "  -p, --path PATH         encrypt: bind PATH instead of OUT (with a directory, PATH is the\n"
    "                          directory's path); decrypt, verify: the path to check (implies -V)\n"
    "  -V, --verify            decrypt, verify: check that the bound path is IN normalized\n"
    "      --format 1|2        encrypt: format version 1 (Gramine <= 1.8, the default: every\n"
    "                          release reads it) or 2 (Gramine >= 1.9)\n"
    "  -v, --verbose           one line per file: its size, format and bound path\n"
    "  -h, --help              this help\n";

typedef struct {
    const char *key_file, *in, *out, *path;
    bool check, verbose;
    unsigned format;
    uint8_t key[CCZ_PF_KEY_SIZE];
} pf_args;

enum { OPT_FORMAT = 256 };

static int parse(pf_args *a, const char *cmd, int argc, char **argv)
{
    static const struct option opts[] = {
        {"wrap-key", required_argument, NULL, 'w'},
        {"input", required_argument, NULL, 'i'},
        {"output", required_argument, NULL, 'o'},
        {"path", required_argument, NULL, 'p'},
        {"verify", no_argument, NULL, 'V'},
        {"verbose", no_argument, NULL, 'v'},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "w:i:o:p:Vvh", opts, NULL)) != -1) {
        switch (c) {
        case 'w':
            a->key_file = optarg;
            break;
        case 'i':
            a->in = optarg;
            break;
        case 'o':
            a->out = optarg;
            break;
        case 'p':
            a->path = optarg;
            break;
        case 'V':
            a->check = true;
            break;
        case 'v':
            a->verbose = true;
            break;
        case OPT_FORMAT:
            if (strcmp(optarg, "1") && strcmp(optarg, "2"))
                return cli_usage_error(cmd, "--format: 1 or 2, not '%s'", optarg);
            a->format = (unsigned)(optarg[0] - '0');
            break;
        case 'h':
            fputs(pf_usage, stdout);
            return -1;
        default:
            return cli_bad_option(cmd, argv);
        }
    }
    if (optind != argc)
        return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    if (!a->key_file)
        return cli_usage_error(cmd, "the wrap key file (-w KEYFILE) is required");
    return EXIT_OK;
}

/* Failures of the file's contents (a verdict on it) exit 1, the rest 2. */
static int pf_fail(ccz_status s, const char *mode)
{
    int code = cli_fail(s, "pf %s", mode);
    ccz_class k = ccz_status_class(s);
    return k == CCZ_CLASS_VERIFICATION || k == CCZ_CLASS_INPUT ? EXIT_REJECT : code;
}

static ccz_status load_key(pf_args *a)
{
    ccz_buf b;
    ccz_buf_init(&b, 64, true);
    ccz_status s = ccz_file_read(&b, a->key_file, 64);
    if (s == CCZ_OK && b.len != CCZ_PF_KEY_SIZE)
        s = ccz_fail(CCZ_ERR_KEY_MALFORMED, "wrap key %s holds %zu bytes, not %d", a->key_file,
                     b.len, CCZ_PF_KEY_SIZE);
    if (s == CCZ_OK)
        memcpy(a->key, b.ptr, CCZ_PF_KEY_SIZE);
    ccz_buf_free(&b);
    return s;
}

static int gen_key(int argc, char **argv)
{
    pf_args a = {0};
    int r = parse(&a, "pf", argc, argv);
    if (r)
        return r < 0 ? EXIT_OK : r;
    if (a.in || a.out || a.path || a.check || a.format || a.verbose)
        return cli_usage_error("pf", "gen-key takes -w KEYFILE only");
    if (ccz_file_exists(a.key_file))
        return cli_fail(
            ccz_fail(CCZ_ERR_EXISTS, "%s exists (ccz never overwrites a key)", a.key_file),
            "pf gen-key");
    uint8_t key[CCZ_PF_KEY_SIZE];
    ccz_status s = RAND_bytes(key, sizeof key) == 1
                       ? ccz_file_create(a.key_file, CCZ_SPAN(key, sizeof key), 0600)
                       : ccz_fail_ossl(CCZ_ERR_CRYPTO, "RAND_bytes");
    ccz_wipe(key, sizeof key);
    if (s != CCZ_OK)
        return cli_fail(s, "gen-key %s", a.key_file);
    printf("wrap key saved to: %s\n", a.key_file);
    return EXIT_OK;
}

/* Joins dir and name into a new string (the caller frees it). */
static char *join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static ccz_status encrypt_file(const pf_args *a, const char *in, const char *out, const char *bind)
{
    char *norm = malloc(strlen(bind) + 1);
    CCZ_ENSURE(norm, CCZ_ERR_NOMEM, "out of memory");
    ccz_pf_normalize_path(norm, bind);
    int fd = open(in, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        free(norm);
        return ccz_fail(errno == ENOENT ? CCZ_ERR_NOT_FOUND : CCZ_ERR_IO, "cannot open %s: %s", in,
                        strerror(errno));
    }
    /* written beside OUT and renamed into place: a failure leaves OUT as it was */
    char *tmp = NULL;
    int tfd = -1;
    ccz_pf *pf = NULL;
    ccz_pf_opts o = CCZ_PF_OPTS_INIT;
    o.mode = CCZ_PF_CREATE;
    o.bound_path = norm;
    o.format = a->format;
    ccz_status s = ccz_file_temp_beside(&tmp, &tfd, out);
    if (s == CCZ_OK) { /* an encrypted file is not secret: 0644 under the umask, as open makes */
        mode_t mask = umask(0);
        umask(mask);
        if (fchmod(tfd, 0644 & ~mask) != 0)
            s = ccz_fail(CCZ_ERR_IO, "cannot create %s: %s", tmp, strerror(errno));
    }
    if (s == CCZ_OK)
        s = ccz_pf_open_path(&pf, tmp, a->key, &o);
    size_t cap = 1 << 20;
    uint8_t *buf = s == CCZ_OK ? malloc(cap) : NULL;
    if (s == CCZ_OK && !buf)
        s = ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    for (uint64_t at = 0; s == CCZ_OK;) {
        ssize_t n = read(fd, buf, cap);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            s = ccz_fail(CCZ_ERR_IO, "cannot read %s: %s", in, strerror(errno));
        if (n <= 0)
            break;
        s = ccz_pf_write(pf, at, buf, (size_t)n);
        at += (uint64_t)n;
    }
    if (buf)
        ccz_wipe(buf, cap);
    free(buf);
    close(fd);
    uint64_t size = pf ? ccz_pf_size(pf) : 0;
    ccz_status c = ccz_pf_close(pf);
    if (s == CCZ_OK)
        s = c;
    if (s == CCZ_OK && rename(tmp, out) != 0)
        s = ccz_fail(CCZ_ERR_IO, "cannot write %s: %s", out, strerror(errno));
    if (tfd >= 0)
        close(tfd);
    if (s != CCZ_OK && tfd >= 0)
        unlink(tmp);
    free(tmp);
    if (s == CCZ_OK) {
        printf("encrypted %s -> %s (bound to '%s')\n", in, out, norm);
        if (a->verbose)
            printf("  %llu bytes, format %u, %llu nodes\n", (unsigned long long)size,
                   a->format ? a->format : 1, (unsigned long long)ccz_pf_node_count(size));
    }
    free(norm);
    return s;
}

/* Opens IN read-only, checking the bound path when asked (-p PATH, or -V: IN normalized). */
static ccz_status open_input(ccz_pf **pf, const pf_args *a, const char *in, const char *check)
{
    char *norm = NULL;
    if (check) {
        norm = malloc(strlen(check) + 1);
        CCZ_ENSURE(norm, CCZ_ERR_NOMEM, "out of memory");
        ccz_pf_normalize_path(norm, check);
    }
    ccz_pf_opts o = CCZ_PF_OPTS_INIT;
    o.bound_path = norm;
    ccz_status s = ccz_pf_open_path(pf, in, a->key, &o);
    free(norm);
    return s;
}

static void describe(const ccz_pf *pf, const char *in)
{
    printf("  %s: %llu bytes, format %u, %llu nodes, bound to '%s'\n", in,
           (unsigned long long)ccz_pf_size(pf), ccz_pf_format(pf),
           (unsigned long long)ccz_pf_node_count(ccz_pf_size(pf)), ccz_pf_bound_path(pf));
}

static ccz_status decrypt_file(const pf_args *a, const char *in, const char *out, const char *check)
{
    ccz_pf *pf = NULL;
    CCZ_GUARD(open_input(&pf, a, in, check));
    char *tmp = NULL;
    int fd = -1;
    uint8_t *buf = malloc(1 << 20);
    ccz_status s =
        buf ? ccz_file_temp_beside(&tmp, &fd, out) : ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    for (uint64_t at = 0; s == CCZ_OK && at < ccz_pf_size(pf);) {
        size_t got = 0;
        s = ccz_pf_read(pf, buf, &got, at, 1 << 20);
        if (s != CCZ_OK)
            ccz_fail_context(s, "%s", in);
        for (size_t done = 0; s == CCZ_OK && done < got;) {
            ssize_t w = write(fd, buf + done, got - done);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                s = ccz_fail(CCZ_ERR_IO, "cannot write %s: %s", tmp, strerror(errno));
            else
                done += (size_t)w;
        }
        at += got;
    }
    if (s == CCZ_OK && (fsync(fd) != 0 || rename(tmp, out) != 0))
        s = ccz_fail(CCZ_ERR_IO, "cannot write %s: %s", out, strerror(errno));
    if (fd >= 0)
        close(fd);
    if (s != CCZ_OK && fd >= 0)
        unlink(tmp); /* no unverified plaintext is left behind */
    if (s == CCZ_OK) {
        printf("decrypted %s -> %s\n", in, out);
        if (a->verbose)
            describe(pf, in);
    }
    if (buf)
        ccz_wipe(buf, 1 << 20);
    free(buf);
    free(tmp);
    ccz_pf_close(pf);
    return s;
}

static ccz_status verify_file(const pf_args *a, const char *in, const char *check)
{
    ccz_pf *pf = NULL;
    CCZ_GUARD(open_input(&pf, a, in, check));
    ccz_status s = ccz_pf_check(pf);
    if (s != CCZ_OK)
        ccz_fail_context(s, "%s", in);
    if (s == CCZ_OK) {
        printf("ok: %s\n", in);
        if (a->verbose)
            describe(pf, in);
    }
    ccz_pf_close(pf);
    return s;
}

enum { MODE_ENCRYPT, MODE_DECRYPT, MODE_VERIFY };

/* One file, or a directory's files recursively (out mirrors in; bind: the bound or checked
 * path, NULL for none). */
static ccz_status walk(const pf_args *a, int mode, const char *in, const char *out,
                       const char *bind)
{
    struct stat st;
    if (stat(in, &st) != 0)
        return ccz_fail(errno == ENOENT ? CCZ_ERR_NOT_FOUND : CCZ_ERR_IO, "cannot open %s: %s", in,
                        strerror(errno));
    if (!S_ISDIR(st.st_mode)) {
        if (mode == MODE_ENCRYPT)
            return encrypt_file(a, in, out, bind);
        if (mode == MODE_DECRYPT)
            return decrypt_file(a, in, out, bind);
        return verify_file(a, in, bind);
    }
    if (out && mkdir(out, 0755) != 0 && errno != EEXIST)
        return ccz_fail(CCZ_ERR_IO, "cannot create directory %s: %s", out, strerror(errno));
    DIR *d = opendir(in);
    if (!d)
        return ccz_fail(CCZ_ERR_IO, "cannot open directory %s: %s", in, strerror(errno));
    ccz_status s = CCZ_OK;
    for (struct dirent *e; s == CCZ_OK && (e = readdir(d));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char *i = join(in, e->d_name), *o = out ? join(out, e->d_name) : NULL;
        char *b = bind ? join(bind, e->d_name) : NULL;
        if (!i || (out && !o) || (bind && !b))
            s = ccz_fail(CCZ_ERR_NOMEM, "out of memory");
        else if (lstat(i, &st) == 0 && (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)))
            s = walk(a, mode, i, o, b);
        else
            fprintf(stderr, "ccz: skipping %s (not a regular file)\n", i);
        free(i);
        free(o);
        free(b);
    }
    closedir(d);
    return s;
}

static int run(int mode, int argc, char **argv)
{
    static const char *names[] = {"encrypt", "decrypt", "verify"};
    pf_args a = {0};
    int r = parse(&a, "pf", argc, argv);
    if (r)
        return r < 0 ? EXIT_OK : r;
    if (!a.in || (mode != MODE_VERIFY && !a.out))
        return cli_usage_error("pf", "%s needs -i IN%s", names[mode],
                               mode == MODE_VERIFY ? "" : " and -o OUT");
    if (mode == MODE_VERIFY && a.out)
        return cli_usage_error("pf", "verify writes nothing (no -o)");
    if (mode == MODE_ENCRYPT && a.check)
        return cli_usage_error("pf", "-V checks the path when decrypting, not encrypting");
    if (mode != MODE_ENCRYPT && a.format)
        return cli_usage_error("pf", "--format chooses the version of new files (encrypt)");
    ccz_status s = load_key(&a);
    if (s != CCZ_OK)
        return cli_fail(s, "pf %s", names[mode]);
    const char *bind = mode == MODE_ENCRYPT ? (a.path ? a.path : a.out)
                                            : (a.path    ? a.path
                                               : a.check ? a.in
                                                         : NULL);
    s = walk(&a, mode, a.in, a.out, bind);
    ccz_wipe(a.key, sizeof a.key);
    if (s != CCZ_OK)
        return pf_fail(s, names[mode]);
    return EXIT_OK;
}

static int encrypt_cmd(int argc, char **argv)
{
    return run(MODE_ENCRYPT, argc, argv);
}

static int decrypt_cmd(int argc, char **argv)
{
    return run(MODE_DECRYPT, argc, argv);
}

static int verify_cmd(int argc, char **argv)
{
    return run(MODE_VERIFY, argc, argv);
}

static const cli_command pf_cmds[] = {
    {"gen-key", gen_key, NULL, 0},
    {"encrypt", encrypt_cmd, NULL, 0},
    {"decrypt", decrypt_cmd, NULL, 0},
    {"verify", verify_cmd, NULL, 0},
};

static const cli_group pf_group = CLI_GROUP("pf", pf_usage, pf_cmds, "pf command", NULL, NULL);

int cmd_pf(int argc, char **argv)
{
    return cli_dispatch(&pf_group, argc, argv);
}
