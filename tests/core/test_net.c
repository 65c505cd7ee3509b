/* SPDX-License-Identifier: Apache-2.0 */
/* Addresses as users write them: HOST:PORT, [IPv6]:PORT, :PORT, and every bad port refused. */
#include "test.h"

static void test_host_port(void)
{
    char host[64], port[6];
    CHECK_OK(ccz_host_port_split(host, sizeof host, port, "127.0.0.1:8443", NULL, false));
    CHECK_STR(host, "127.0.0.1");
    CHECK_STR(port, "8443");
    CHECK_OK(ccz_host_port_split(host, sizeof host, port, "[::1]:65535", NULL, false));
    CHECK_STR(host, "::1");
    CHECK_STR(port, "65535");
    CHECK_OK(ccz_host_port_split(host, sizeof host, port, ":0", "0.0.0.0", true));
    CHECK_STR(host, "0.0.0.0");
    CHECK_STR(port, "0");
    CHECK_OK(ccz_host_port_split(host, sizeof host, port, "enclave.example:1", NULL, false));
    CHECK_STR(host, "enclave.example");
    CHECK_STR(port, "1");
    /* ports outside 1..65535 (0 only for a listener), and not decimal */
    static const char *const bad[] = {"h:99999", "h:65536", "h:-1",     "h:",     "h:8a",
                                      "h: 80",   "h:+80",   "h:000001", "h:0x50", "h"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_STATUS(ccz_host_port_split(host, sizeof host, port, bad[i], NULL, true),
                     CCZ_ERR_INVALID_ARGUMENT);
    }
    CHECK_STATUS(ccz_host_port_split(host, sizeof host, port, "h:99999", NULL, true),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "port '99999' is not a number from 0 to 65535");
    CHECK_STATUS(ccz_host_port_split(host, sizeof host, port, "h:0", NULL, false),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "from 1 to 65535");
    /* a host is required unless a default is given; IPv6 needs brackets */
    CHECK_STATUS(ccz_host_port_split(host, sizeof host, port, ":80", NULL, false),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(ccz_host_port_split(host, sizeof host, port, "::1:80", NULL, false),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "brackets");
    CHECK_STATUS(ccz_host_port_split(host, sizeof host, port, ":80", NULL, false),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "':80' names no host (HOST:PORT)");
    CHECK_STATUS(ccz_host_port_split(host, sizeof host, port, NULL, NULL, false),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "missing address");
    /* an address in brackets without a port: the port is what is missing, not the brackets */
    CHECK_STATUS(ccz_host_port_split(host, sizeof host, port, "[::1]", NULL, false),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "'[::1]' has no port ([ADDRESS]:PORT)");
    CHECK_STATUS(ccz_host_port_split(host, sizeof host, port, "[fe80::1:2]", "::", true),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "has no port");
    /* a scope (zone) id stays with the address, for getaddrinfo */
    CHECK_OK(ccz_host_port_split(host, sizeof host, port, "[fe80::1%eth0]:443", NULL, false));
    CHECK_STR(host, "fe80::1%eth0");
    CHECK_STR(port, "443");
    /* a host longer than the buffer */
    char small[4];
    CHECK_STATUS(ccz_host_port_split(small, sizeof small, port, "abcd:80", NULL, false),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "'abcd:80': the host name is too long");
    CHECK_OK(ccz_host_port_split(small, sizeof small, port, "abc:80", NULL, false));
    CHECK_STR(small, "abc");
}

TEST_MAIN(T(test_host_port))
