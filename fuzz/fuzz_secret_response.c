/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the head of a secret-provisioning server's answer as the client reads it
 * (src/svc/secret/client.c): CCZ_SECRET_RESPONSE with its NUL, then the secret's size as a
 * big-endian u32, under a limit from the first byte (0: CCZ_SECRET_MAX_BYTES). A size taken is
 * the one sent, from 1 to the limit. */
#include <stdlib.h>
#include <string.h>

#include "ccz/ccz.h"
#include "svc/secret/secret.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t max = data[0] ? (size_t)data[0] * 4096 : CCZ_SECRET_MAX_BYTES;
    const size_t head = sizeof CCZ_SECRET_RESPONSE + 4;
    uint8_t *copy = malloc(size - 1 ? size - 1 : 1); /* exactly the bytes: reads past abort */
    if (!copy)
        return 0;
    memcpy(copy, data + 1, size - 1);
    uint32_t n = 0;
    ccz_status s = secret_response_head(&n, CCZ_SPAN(copy, size - 1), max);
    if (s == CCZ_OK) {
        const uint8_t *b = copy + sizeof CCZ_SECRET_RESPONSE;
        uint32_t sent = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
        if (size - 1 < head || memcmp(copy, CCZ_SECRET_RESPONSE, sizeof CCZ_SECRET_RESPONSE) ||
            n != sent || n == 0 || n > max)
            abort();
    }
    free(copy);
    ccz_error_clear();
    return 0;
}
