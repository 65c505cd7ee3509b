/* SPDX-License-Identifier: Apache-2.0 */
/* Network addresses as users write them: HOST:PORT, [IPv6]:PORT, :PORT. */
#include <string.h>

#include "core/guard.h"
#include "ccz/core.h"

ccz_status ccz_host_port_split(char *host, size_t host_cap, char port[6], const char *addr,
                               const char *default_host, bool allow_zero)
{
    CCZ_ENSURE(addr && host && host_cap, CCZ_ERR_INVALID_ARGUMENT, "missing address");
    const char *colon = strrchr(addr, ':');
    CCZ_ENSURE(colon, CCZ_ERR_INVALID_ARGUMENT, "'%s' is not HOST:PORT%s", addr,
               default_host ? " or :PORT" : "");
    /* "[::1]": the last colon is the address's own, so the port is what is missing */
    const char *bracket = addr[0] == '[' ? strchr(addr, ']') : NULL;
    CCZ_ENSURE(!bracket || bracket < colon, CCZ_ERR_INVALID_ARGUMENT,
               "'%s' has no port ([ADDRESS]:PORT)", addr);
    const char *h = addr;
    size_t hl = (size_t)(colon - addr);
    if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') { /* [::1]:port */
        h++;
        hl -= 2;
    } else if (memchr(h, ':', hl)) {
        return ccz_fail(CCZ_ERR_INVALID_ARGUMENT,
                        "'%s': an IPv6 address goes in brackets, "
                        "[ADDRESS]:PORT",
                        addr);
    }
    if (hl == 0) {
        CCZ_ENSURE(default_host, CCZ_ERR_INVALID_ARGUMENT, "'%s' names no host (HOST:PORT)", addr);
        h = default_host;
        hl = strlen(default_host);
    }
    CCZ_ENSURE(hl < host_cap, CCZ_ERR_INVALID_ARGUMENT, "'%s': the host name is too long", addr);
    const char *p = colon + 1;
    size_t pl = strlen(p);
    unsigned long v = 0;
    bool digits = pl > 0 && pl <= 5 && strspn(p, "0123456789") == pl;
    for (size_t i = 0; digits && i < pl; i++)
        v = v * 10 + (unsigned long)(p[i] - '0');
    CCZ_ENSURE(digits && v <= 65535 && (v > 0 || allow_zero), CCZ_ERR_INVALID_ARGUMENT,
               "'%s': port '%s' is not a number from %d to 65535", addr, p, allow_zero ? 0 : 1);
    memcpy(host, h, hl);
    host[hl] = '\0';
    memcpy(port, p, pl + 1);
    return CCZ_OK;
}
