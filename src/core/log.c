/* SPDX-License-Identifier: Apache-2.0 */
/* Levelled logging to a replaceable sink. Callers never pass secrets; the logger cannot tell. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ccz/core.h"

static ccz_log_level current_level = CCZ_LOG_WARN;
static ccz_log_sink current_sink;
static void *current_payload;

void ccz_log_set_level(ccz_log_level level)
{
    current_level = level;
}

ccz_log_level ccz_log_get_level(void)
{
    return current_level;
}

void ccz_log_set_sink(ccz_log_sink sink, void *payload)
{
    current_sink = sink;
    current_payload = payload;
}

ccz_status ccz_log_level_parse(ccz_log_level *out, const char *s)
{
    static const char *names[] = {"debug", "info", "warn", "error", "off"};
    for (int i = 0; i < 5; i++)
        if (strcasecmp(s, names[i]) == 0) {
            *out = (ccz_log_level)i;
            return CCZ_OK;
        }
    return ccz_fail(CCZ_ERR_INVALID_ARGUMENT,
                    "log level '%s' is not one of debug, info, warn, error, off", s);
}

void ccz_log(ccz_log_level level, const char *fmt, ...)
{
    static const char *tags[] = {"debug", "info", "warning", "error"};
    if (level < current_level || level >= CCZ_LOG_OFF)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (current_sink)
        current_sink(level, msg, current_payload);
    else
        fprintf(stderr, "ccz: %s: %s\n", tags[level], msg);
}
