/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: a KMS server's HTTP answer as the KMS client reads it (src/svc/kms/client.c):
 * kms_answer_complete on every prefix as the bytes arrive (its buffer keeps a NUL after them),
 * then kms_parse_answer on the whole, read from a copy of its exact size. A body taken lies
 * inside the answer after its head, as long as its one Content-Length says, and an answer
 * complete by its length parses whole. */
#include <stdlib.h>
#include <string.h>

#include "ccz/ccz.h"
#include "svc/kms/kms.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *z = malloc(size + 1); /* the client's buffer: a NUL after the bytes */
    if (!z)
        return 0;
    memcpy(z, data, size);
    z[size] = 0;
    for (size_t n = size > 64 ? size - 64 : 0; n <= size; n++)
        (void)kms_answer_complete(CCZ_SPAN(z, n));
    bool complete = kms_answer_complete(CCZ_SPAN(z, size));
    free(z);

    uint8_t *exact = malloc(size ? size : 1);
    if (!exact)
        return 0;
    memcpy(exact, data, size);
    int status = 0;
    ccz_span body = {0};
    ccz_status s = kms_parse_answer(&status, &body, CCZ_SPAN(exact, size));
    if (s == CCZ_OK) {
        const uint8_t *head = memmem(exact, size, "\r\n\r\n", 4);
        if (status < 100 || status > 599 || !head || body.ptr != head + 4 ||
            body.ptr + body.len > exact + size)
            abort();
    } else if (complete && memcmp(data, "HTTP/1.1 200 ", 13) == 0 && s == CCZ_ERR_TRUNCATED) {
        abort(); /* whole by its length yet cut short */
    }
    free(exact);
    ccz_error_clear();
    return 0;
}
