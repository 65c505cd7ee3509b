/* SPDX-License-Identifier: Apache-2.0 */
/* What the federated-learning services and their clients share: the log line, a peer's
 * attested identity in a line, party names, a uniform draw of some of them, the parties' held
 * calls and their failure, and a client's unary call with its status kept for the caller. The
 * services (service.c: homo-LR, hetero_service.c: hetero-LR, hfl_service.c: horizontal FL)
 * embed an fl_party as the first member of their own party records and hand the table to these
 * functions as an fl_parties view; everything runs on the RPC server's loop. */
#ifndef CCZ_SVC_FL_PARTY_H
#define CCZ_SVC_FL_PARTY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ccz/ratls.h"
#include "ccz/rpc.h"
#include "core/listener.h"

#define FL_NAME_MAX 64
#define FL_TICK_MS 200
#define FL_LINGER_MS 5000 /* after a failure, the longest wait for the parties to hear why */

typedef struct {
    int id;
    char name[FL_NAME_MAX + 1];
    uint64_t conn;      /* the connection the party's calls come on */
    ccz_rpc_call *held; /* a call waiting for the others (a reference), or NULL */
    bool finished;
    bool told; /* it has heard why the training failed */
} fl_party;

/* A service's table of parties: `n` records of `stride` bytes from `first`, each beginning
 * with its fl_party. */
typedef struct {
    void *first;
    size_t stride;
    unsigned n;
} fl_parties;

#define FL_PARTIES(array, count) ((fl_parties){(array), sizeof *(array), (count)})

static inline fl_party *fl_at(fl_parties t, unsigned i)
{
    return (fl_party *)((char *)t.first + (size_t)i * t.stride);
}

/* A party's name: at most FL_NAME_MAX printable ASCII characters; a required name is not
 * empty and has no space or comma (names are listed with them). */
bool fl_name_ok(const char *s, bool required);

/* Draws want of the n entries of idx (want <= n) uniformly with OpenSSL's RAND, by a partial
 * Fisher-Yates shuffle: the draw is idx[0..want), and idx stays a permutation of its entries.
 * False when RAND fails (idx then drawn in part). */
CCZ_NODISCARD bool fl_draw(unsigned *idx, unsigned n, unsigned want);

/* The party whose calls come on connection conn, or NULL. */
fl_party *fl_find(fl_parties t, uint64_t conn);

/* Keeps call (a reference) as the party's held call. */
void fl_hold(fl_party *p, ccz_rpc_call *call);
void fl_release(fl_party *p);

/* Every held call still alive is finished with code and why (the party has then heard it), and
 * released. */
void fl_tell_all(fl_parties t, int code, const char *why);

/* Whether every party has heard why the training failed, or has finished. */
bool fl_all_told(fl_parties t);

/* The parties neither holding a call nor finished, as "label, label", for a timeout's message;
 * `none` when there is no such party. */
void fl_waiting_for(char *out, size_t cap, fl_parties t,
                    const char *(*label)(const fl_party *p, char *buf, size_t cap),
                    const char *none);

/* A training's end, as the services share it: a failure is told to every party holding a call
 * at once and to the others on their next call, and the service's caller hears that the
 * training is over (on_over) once every party has heard why, or FL_LINGER_MS after the
 * failure. The service's status (over, code, message) is written through the pointers. */
typedef struct {
    ccz_rpc_timer *tick; /* the service's timer (FL_TICK_MS) */
    FILE *log;
    bool *over;
    int *code;
    char *message;
    size_t message_cap;
    void (*on_over)(void *svc); /* calls the caller's callback with the typed status */
    void *svc;
    int64_t failed_at;
    bool notified;
} fl_room;

/* The status fields of a service's status struct st, for fl_room_init. */
#define FL_ROOM_STATUS(st) &(st).over, &(st).code, (st).message, sizeof(st).message

void fl_room_init(fl_room *r, FILE *log, bool *over, int *code, char *message, size_t cap,
                  void (*on_over)(void *svc), void *svc);
/* The caller is told once that the training is over (the timer stops). */
void fl_room_notify(fl_room *r);
/* The same once every party has heard why the training failed, or finished. */
void fl_room_notify_when_told(fl_room *r, fl_parties t);
/* Ends the training with a gRPC code and why (the first failure wins), logged. */
void fl_room_fail(fl_room *r, fl_parties t, int code, const char *why);
/* For the tick of a training that is over: tells the caller when the linger is over, else
 * re-arms the timer; false (nothing done) while the training runs. */
bool fl_room_over_tick(fl_room *r);

/* The status of a client's unary call, kept for its result. */
typedef struct {
    int *code;
    const char **method;
    char *message;
    size_t message_cap;
} fl_call_status;

/* One unary call to /SERVICE/METHOD: CCZ_OK when it completed (its gRPC status in st, so the
 * caller stops on any code but OK); an error when it could not be made. */
CCZ_NODISCARD ccz_status fl_unary(ccz_rpc_channel *ch, const char *service, const char *method,
                                  int64_t deadline_ms, const ProtobufCMessage *req,
                                  const ProtobufCMessageDescriptor *desc, ProtobufCMessage **resp,
                                  fl_call_status st);

/* Seconds on the monotonic clock. */
double fl_now(void);
/* Sleeps ms milliseconds (the whole of them, through signals). */
void fl_sleep_ms(unsigned ms);

#endif
