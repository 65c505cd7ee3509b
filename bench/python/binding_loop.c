/* SPDX-License-Identifier: Apache-2.0 */
/* The C loops of binding_ref's verify, as a module the Python benchmark loads (bench.py
 * verify_interleaved): the C reference and ccz.verify timed in one process, in alternating
 * short rounds, so that what the shared machine does to one it does to the other. */
#include <stdlib.h>

#include "ccz/ccz.h"

/* n verdicts on evidence in one of the forms of binding_ref: 0 the JSON text (ccz_verdict_json),
 * 1 the jansson tree (ccz_verdict_run + ccz_verdict_to_json), 2 the marshal bytes ccz.verify
 * reads (ccz_verdict_marshal); the first failure's status, or CCZ_ERR_POLICY_REJECTED for a
 * verdict that is not ok. */
CCZ_API int binding_loop_verify(int form, long n, const void *ev, size_t ev_len,
                                const ccz_verify_opts *o, const ccz_policy *p);

int binding_loop_verify(int form, long n, const void *ev, size_t ev_len, const ccz_verify_opts *o,
                        const ccz_policy *p)
{
    ccz_buf out = CCZ_BUF_INIT;
    ccz_status s = CCZ_OK;
    for (long i = 0; i < n && s == CCZ_OK; i++) {
        bool ok = false;
        ccz_buf_reset(&out);
        if (form == 0) {
            s = ccz_verdict_json(&out, &ok, CCZ_SPAN(ev, ev_len), o, p);
        } else if (form == 2) {
            s = ccz_verdict_marshal(&out, &ok, CCZ_SPAN(ev, ev_len), o, p);
        } else {
            ccz_verdict *v = malloc(sizeof *v);
            s = v ? ccz_verdict_run(v, CCZ_SPAN(ev, ev_len), o, p) : CCZ_ERR_NOMEM;
            ccz_json *tree = s ? NULL : ccz_verdict_to_json(v);
            ok = tree && v->ok;
            ccz_json_free(tree);
            free(v);
        }
        if (s == CCZ_OK && !ok)
            s = CCZ_ERR_POLICY_REJECTED;
    }
    ccz_buf_free(&out);
    return s;
}
