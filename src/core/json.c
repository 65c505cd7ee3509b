/* JSON documents through jansson: size-capped parsing that rejects duplicate keys and reports
 * where the text went wrong. */
#include <jansson.h>

#include "ccz/core.h"

ccz_status ccz_json_parse(ccz_json **out, const char *text, size_t len, size_t max)
{
    *out = NULL;
    if (max && len > max)
        return ccz_fail(CCZ_ERR_TOO_LARGE, "JSON document of %zu bytes exceeds the %zu-byte limit",
                        len, max);
    json_error_t err;
    json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
    if (!j)
        return ccz_fail(CCZ_ERR_JSON, "invalid JSON at line %d, column %d: %s", err.line,
                        err.column, err.text);
    *out = j;
    return CCZ_OK;
}

void ccz_json_free(ccz_json *j)
{
    json_decref(j);
}
