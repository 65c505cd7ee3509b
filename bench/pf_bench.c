/* SPDX-License-Identifier: Apache-2.0 */
/* Benchmark: protected files (src/pf) against plain AES-128-GCM in the same run. A 64 MiB file
 * is encrypted (created, written in 1 MiB pieces, closed) and decrypted (opened, read whole)
 * over an in-memory host file, so the figures are the format's and OpenSSL's, not the disk's;
 * the reference seals and opens the same bytes with EVP AES-128-GCM in 4 KiB pieces, a fresh
 * key each (the format's unit of work: its floor), and in one piece (the speed of AES-GCM
 * itself, as `openssl speed -evp aes-128-gcm` reports it). Random 4 KiB reads of the file with
 * a cold cache say what random access costs. Prints one JSON object (MB/s are 10^6 bytes).
 *
 * usage: pf_bench [MIB] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "ccz/pf.h"
#include "clock.h"

typedef struct {
    uint8_t *p;
    size_t len, cap;
} mem;

static ccz_status mem_read(void *payload, uint64_t off, void *buf, size_t n)
{
    mem *m = payload;
    if (off > m->len || n > m->len - off)
        return ccz_fail(CCZ_ERR_TRUNCATED, "the file ends at byte %zu", m->len);
    memcpy(buf, m->p + off, n);
    return CCZ_OK;
}

static ccz_status mem_write(void *payload, uint64_t off, const void *buf, size_t n)
{
    mem *m = payload;
    if (off + n > m->cap)
        return ccz_fail(CCZ_ERR_TOO_LARGE, "bench host file full");
    memcpy(m->p + off, buf, n);
    if (off + n > m->len)
        m->len = off + n;
    return CCZ_OK;
}

static ccz_status mem_truncate(void *payload, uint64_t size)
{
    mem *m = payload;
    if (size > m->cap)
        return CCZ_ERR_TOO_LARGE;
    m->len = size;
    return CCZ_OK;
}

static ccz_status mem_size(void *payload, uint64_t *out)
{
    *out = ((mem *)payload)->len;
    return CCZ_OK;
}

static double gcm_pass(const uint8_t *in, uint8_t *out, size_t n, size_t piece, bool seal)
{
    EVP_CIPHER *c = EVP_CIPHER_fetch(NULL, "AES-128-GCM", NULL);
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    uint8_t key[16] = {1}, iv[12] = {0}, tag[16] = {0};
    int len;
    double t0 = bench_wall();
    for (size_t at = 0; at < n; at += piece) {
        size_t k = n - at < piece ? n - at : piece;
        if (seal) {
            RAND_bytes(key, sizeof key);
            EVP_EncryptInit_ex2(ctx, c, key, iv, NULL);
            EVP_EncryptUpdate(ctx, out + at, &len, in + at, (int)k);
            EVP_EncryptFinal_ex(ctx, out + at + len, &len);
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, tag);
        } else {
            EVP_DecryptInit_ex2(ctx, c, key, iv, NULL);
            EVP_DecryptUpdate(ctx, out + at, &len, in + at, (int)k);
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, tag);
            (void)EVP_DecryptFinal_ex(ctx, out + at + len, &len); /* the tag fails: timing only */
        }
    }
    double t = bench_wall() - t0;
    EVP_CIPHER_CTX_free(ctx);
    EVP_CIPHER_free(c);
    return n / t / 1e6;
}

static void die(const char *what)
{
    fprintf(stderr, "pf_bench: %s: %s\n", what, ccz_error_detail());
    exit(1);
}

int main(int argc, char **argv)
{
    size_t mib = argc > 1 ? (size_t)atoi(argv[1]) : 64, n = mib << 20;
    uint8_t *plain = malloc(n), *back = malloc(n), key[16] = "pf-bench-key-123";
    mem m = {malloc(n + n / 64 + (1 << 20)), 0, n + n / 64 + (1 << 20)};
    if (!plain || !back || !m.p || !mib)
        return 1;
    RAND_bytes(plain, (int)(n < (1u << 30) ? n : (1u << 30)));
    ccz_pf_io io = {mem_read, mem_write, mem_truncate, mem_size, NULL, &m};
    ccz_pf_opts o = CCZ_PF_OPTS_INIT;
    ccz_pf *pf;
    double best_enc = 0, best_dec = 0, enc_cpu = 0, dec_cpu = 0;
    for (int round = 0; round < 3; round++) {
        o.mode = CCZ_PF_CREATE;
        o.bound_path = "/bench/model.pf";
        double t0 = bench_wall(), c0 = bench_cpu();
        if (ccz_pf_open(&pf, &io, key, &o))
            die("create");
        for (size_t at = 0; at < n; at += 1 << 20)
            if (ccz_pf_write(pf, at, plain + at, n - at < (1u << 20) ? n - at : 1u << 20))
                die("write");
        if (ccz_pf_close(pf))
            die("close");
        double t = bench_wall() - t0, c = bench_cpu() - c0;
        if (n / t / 1e6 > best_enc)
            best_enc = n / t / 1e6, enc_cpu = c;
        o.mode = CCZ_PF_READ;
        t0 = bench_wall(), c0 = bench_cpu();
        size_t got;
        if (ccz_pf_open(&pf, &io, key, &o) || ccz_pf_read(pf, back, &got, 0, n) || got != n)
            die("read");
        ccz_pf_close(pf);
        t = bench_wall() - t0, c = bench_cpu() - c0;
        if (n / t / 1e6 > best_dec)
            best_dec = n / t / 1e6, dec_cpu = c;
        if (memcmp(plain, back, n))
            die("round trip differs");
    }
    /* random 4 KiB reads, each from a freshly opened file (a cold cache) */
    int reads = 2000;
    double t0 = bench_wall();
    for (int i = 0; i < reads; i++) {
        uint64_t at = ((uint64_t)rand() << 16 ^ (uint64_t)rand()) % (n - 4096);
        size_t got;
        if (ccz_pf_open(&pf, &io, key, &o) || ccz_pf_read(pf, back, &got, at, 4096))
            die("random read");
        ccz_pf_close(pf);
    }
    double random_us = (bench_wall() - t0) / reads * 1e6;
    double g4s = 0, g4o = 0, g1s = 0, g1o = 0;
    for (int round = 0; round < 3; round++) {
        double v;
        if ((v = gcm_pass(plain, back, n, 4096, true)) > g4s)
            g4s = v;
        if ((v = gcm_pass(back, plain, n, 4096, false)) > g4o)
            g4o = v;
        if ((v = gcm_pass(plain, back, n, n, true)) > g1s)
            g1s = v;
        if ((v = gcm_pass(back, back, n, n, false)) > g1o)
            g1o = v;
    }
    printf("{\"mib\": %zu, \"pf_encrypt_mbps\": %.0f, \"pf_encrypt_cpu_s\": %.3f, "
           "\"pf_decrypt_mbps\": %.0f, \"pf_decrypt_cpu_s\": %.3f, \"pf_random_4k_open_read_us\": "
           "%.1f, \"gcm_4k_fresh_key_seal_mbps\": %.0f, \"gcm_4k_open_mbps\": %.0f, "
           "\"gcm_one_piece_seal_mbps\": %.0f, \"gcm_one_piece_open_mbps\": %.0f, "
           "\"host_bytes\": %zu}\n",
           mib, best_enc, enc_cpu, best_dec, dec_cpu, random_us, g4s, g4o, g1s, g1o, m.len);
    free(plain);
    free(back);
    free(m.p);
    return 0;
}
