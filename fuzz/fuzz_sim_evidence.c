/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: sim evidence, through the framing parser and the whole verifier (certificate
 * parsing, chain, signature, claims rendering). The trust anchor is the fixed test platform
 * whose evidence seeds the corpus (fuzz/corpus/sim_evidence), and the instant is fixed, so
 * runs are reproducible. Harness rules: no I/O, no global state beyond the anchor. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "ccz/ccz.h"

static const char root_pem[] = "-----BEGIN CERTIFICATE-----\n"
                               "MIIB1jCCAXygAwIBAgIQeJN4+25yYKHGw72gXkSlhzAKBggqhkjOPQQDAjBLMSkw\n"
                               "JwYDVQQKDCBjY3ogc2ltdWxhdGVkIFRFRSAobm90IGhhcmR3YXJlKTEeMBwGA1UE\n"
                               "AwwVY2N6IHNpbSBwbGF0Zm9ybSByb290MB4XDTI2MTEyMzE3MjYyNFoXDTM2MTEy\n"
                               "MDE3MjcyNFowSzEpMCcGA1UECgwgY2N6IHNpbXVsYXRlZCBURUUgKG5vdCBoYXJk\n"
                               "d2FyZSkxHjAcBgNVBAMMFWNjeiBzaW0gcGxhdGZvcm0gcm9vdDBZMBMGByqGSM49\n"
                               "AgEGCCqGSM49AwEHA0IABHc9BFWtIOVSyk6G4PkBJAbBT+TVcIH+BBquhmBigQLh\n"
                               "Fq5NPMSa9ZOMGIbB75LlG2Ge1CENuoKWBDaAz+u987GjQjBAMA8GA1UdEwEB/wQF\n"
                               "MAMBAf8wDgYDVR0PAQH/BAQDAgEGMB0GA1UdDgQWBBSMBrWQXTfE6+E7PnMeZG50\n"
                               "x023oDAKBggqhkjOPQQDAgNIADBFAiBgkpFkVof01JVXJZswLr8r1tT1PKkECdIB\n"
                               "2juRVjTfHwIhAJD99YN2lsAxkrIBpzEBTbllxETMml1S6H6xZv+LRY+F\n"
                               "-----END CERTIFICATE-----\n";

/* a day after the seed platform was made (2026-11-23) */
#define FUZZ_AT 1795541244

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static ccz_trust *trust;
    if (!trust && (ccz_trust_new(&trust) ||
                   ccz_trust_add_sim_root(trust, CCZ_SPAN(root_pem, sizeof root_pem - 1))))
        abort();
    ccz_sim_evidence e;
    if (ccz_sim_evidence_parse(&e, CCZ_SPAN(data, size)) == CCZ_OK && e.platform_cert.len == 0)
        abort(); /* the parser never accepts an empty certificate */

    static ccz_result r;
    static const uint8_t zero_rd[64];
    ccz_verify_opts o = CCZ_VERIFY_OPTS_INIT;
    o.at_unix = FUZZ_AT;
    o.trust = trust;
    o.expected_report_data = size % 2 ? zero_rd : NULL;
    if (ccz_verify(&r, CCZ_SPAN(data, size), &o) == CCZ_OK) {
        json_t *j = ccz_claims_to_json(&r.claims);
        if (!j)
            abort();
        json_decref(j);
    } else if (!r.step || !r.message[0]) {
        abort(); /* every failure names its step and says why */
    }
    return 0;
}
