/* SPDX-License-Identifier: Apache-2.0 */
/* ccz svc: the services as one kind of process. A service ("attestation": the attestation API
 * with secret provisioning and the KBS endpoints) is configured by named options — embedded
 * defaults, then a JSON file, then flags, each option the same name in all three — and then
 * serves over HTTPS until it is stopped or SIGTERM drains it. */
#ifndef CCZ_SVC_H
#define CCZ_SVC_H

#include "ccz/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    CCZ_SVC_STRING = 0,
    CCZ_SVC_UINT = 1, /* a decimal number */
    CCZ_SVC_BOOL = 2, /* true/false (a flag without a value is true) */
    CCZ_SVC_LIST = 3  /* repeatable strings: each flag adds one; a file gives an array */
} ccz_svc_type;

typedef struct {
    const char *name; /* "listen": the flag --listen, the key "listen" of a config file */
    ccz_svc_type type;
    const char *dflt; /* the embedded default (NULL: none) */
    const char *arg;  /* the value's name in help ("ADDR") */
    const char *help;
} ccz_svc_option;

/* The options of a service, in the order help lists them; CCZ_ERR_NOT_FOUND for an unknown
 * service. */
CCZ_API CCZ_NODISCARD ccz_status ccz_svc_options(const ccz_svc_option **out, size_t *n,
                                                 const char *service);

typedef struct ccz_svc_config ccz_svc_config;

CCZ_API CCZ_NODISCARD ccz_status ccz_svc_config_new(ccz_svc_config **out, const char *service);
CCZ_API void ccz_svc_config_free(ccz_svc_config *c);
/* Reads a JSON object of options; an unknown key or a value of the wrong type is an error that
 * names it. Flags set afterwards win over the file. */
CCZ_API CCZ_NODISCARD ccz_status ccz_svc_config_load_file(ccz_svc_config *c, const char *path);
/* Sets an option from its text (a flag's value; NULL for a bare boolean flag). The first flag
 * of a list option replaces the file's list, later ones add to it. */
CCZ_API CCZ_NODISCARD ccz_status ccz_svc_config_set(ccz_svc_config *c, const char *name,
                                                    const char *value);
/* The effective configuration (defaults, file and flags) as a JSON object. */
CCZ_API ccz_json *ccz_svc_config_to_json(const ccz_svc_config *c);

typedef struct ccz_svc ccz_svc;

/* Starts the service: its state opened, its keys loaded or made, listening, serving on a
 * thread of its own. With handle_signals, SIGTERM and SIGINT drain it. The service reads c
 * while it runs: c is borrowed and must outlive it (free c after ccz_svc_free). */
CCZ_API CCZ_NODISCARD ccz_status ccz_svc_start(ccz_svc **out, const ccz_svc_config *c,
                                               bool handle_signals);
/* The port it listens on (useful with "listen": "127.0.0.1:0"). */
CCZ_API int ccz_svc_port(const ccz_svc *s);
/* Waits until the service has drained and stopped; returns how it ended. */
CCZ_API CCZ_NODISCARD ccz_status ccz_svc_wait(ccz_svc *s);
/* Drains from any thread: requests in progress finish within grace_ms. */
CCZ_API void ccz_svc_stop(ccz_svc *s, unsigned grace_ms);
/* Stops if running, waits and frees. */
CCZ_API void ccz_svc_free(ccz_svc *s);

#ifdef __cplusplus
}
#endif
#endif
