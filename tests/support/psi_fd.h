/* SPDX-License-Identifier: Apache-2.0 */
/* A PSI byte stream (ccz_psi_io's write and read) over a socket, optionally recording what it
 * reads: a closed peer is CCZ_ERR_PROTOCOL "the peer closed the connection", a failed send or
 * recv CCZ_ERR_NETWORK with its errno. */
#ifndef CCZ_TEST_PSI_FD_H
#define CCZ_TEST_PSI_FD_H

#include <stddef.h>
#include <stdint.h>

#include "ccz/core.h"

typedef struct {
    int fd;
    ccz_buf *tap; /* NULL, or where the bytes read are appended */
} psi_fd;

ccz_status psi_fd_write(void *payload, const uint8_t *p, size_t n);
ccz_status psi_fd_read(void *payload, uint8_t *p, size_t n);

#endif
