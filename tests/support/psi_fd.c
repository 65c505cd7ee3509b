/* SPDX-License-Identifier: Apache-2.0 */
/* A PSI byte stream over a socket (psi_fd.h). */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "psi_fd.h"

ccz_status psi_fd_write(void *payload, const uint8_t *p, size_t n)
{
    psi_fd *f = payload;
    while (n) {
        ssize_t w = send(f->fd, p, n, MSG_NOSIGNAL);
        if (w <= 0)
            return ccz_fail(CCZ_ERR_NETWORK, "send: %s", strerror(errno));
        p += w;
        n -= (size_t)w;
    }
    return CCZ_OK;
}

ccz_status psi_fd_read(void *payload, uint8_t *p, size_t n)
{
    psi_fd *f = payload;
    while (n) {
        ssize_t r = recv(f->fd, p, n, 0);
        if (r == 0)
            return ccz_fail(CCZ_ERR_PROTOCOL, "the peer closed the connection");
        if (r < 0)
            return ccz_fail(CCZ_ERR_NETWORK, "recv: %s", strerror(errno));
        if (f->tap && ccz_buf_append(f->tap, p, (size_t)r))
            return CCZ_ERR_NOMEM;
        p += r;
        n -= (size_t)r;
    }
    return CCZ_OK;
}
