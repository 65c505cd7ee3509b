/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: a service configuration file (src/svc/config.c), over the attestation service's
 * options after a flag of each kind: a document refused leaves the configuration as it was; one
 * taken leaves every option of its type, and the list a flag set untouched. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "svc/svc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ccz_svc_config *c;
    if (ccz_svc_config_new(&c, "attestation") != CCZ_OK)
        return 0;
    if (ccz_svc_config_set(c, "token-ttl", "60") != CCZ_OK ||
        ccz_svc_config_set(c, "sim-root", "flag.pem") != CCZ_OK)
        abort();
    json_t *before = ccz_svc_config_to_json(c);
    ccz_status s = svc_config_load_text(c, "fuzz.json", (const char *)data, size);
    json_t *after = ccz_svc_config_to_json(c);
    if (!before || !after)
        abort();
    if (s != CCZ_OK && s != CCZ_ERR_NOMEM && !json_equal(before, after))
        abort(); /* a refused document changed the configuration */
    const ccz_svc_option *o;
    size_t n;
    if (ccz_svc_options(&o, &n, "attestation") != CCZ_OK)
        abort();
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_object_get(after, o[i].name);
        bool ok = o[i].type == CCZ_SVC_STRING ? json_is_string(v) || json_is_null(v)
                  : o[i].type == CCZ_SVC_UINT ? json_is_integer(v) && json_integer_value(v) >= 0 &&
                                                    json_integer_value(v) <= 4294967295LL
                  : o[i].type == CCZ_SVC_BOOL ? json_is_boolean(v)
                                              : json_is_array(v);
        for (size_t k = 0; ok && o[i].type == CCZ_SVC_LIST && k < json_array_size(v); k++)
            ok = json_is_string(json_array_get(v, k));
        if (!ok)
            abort();
    }
    json_t *roots = json_object_get(after, "sim-root");
    if (json_array_size(roots) != 1 ||
        strcmp(json_string_value(json_array_get(roots, 0)), "flag.pem"))
        abort(); /* the file may not replace a list a flag set */
    json_decref(before);
    json_decref(after);
    ccz_svc_config_free(c);
    ccz_error_clear();
    return 0;
}
