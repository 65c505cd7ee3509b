/* SPDX-License-Identifier: Apache-2.0 */
/* The served models and their batchers. Each model version has a queue and a thread: the thread
 * takes the request at the head, waits up to the batch timeout for more (or until the batch is
 * full), runs the rows of every request it took as one batch, and hands each request its own
 * rows of the outputs. Queued input bytes are bounded server-wide; a request's buffers, the
 * model's intermediate ones included, are bounded before they are allocated. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/guard.h"
#include "svc/serving/internal.h"

/* "GRAFS_PF", the first bytes of a Gramine protected file (version 1 and 2) */
static const uint8_t pf_magic[8] = {'G', 'R', 'A', 'F', 'S', '_', 'P', 'F'};

/* Intermediate buffers kept from a run larger than a batch at most (16 Mi floats, 64 MiB). */
#define SV_KEEP_WS_FLOATS ((size_t)16 << 20)

static bool name_ok(const char *n)
{
    size_t len = strlen(n);
    if (len == 0 || len > SV_MAX_NAME)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!((n[i] >= 'a' && n[i] <= 'z') || (n[i] >= 'A' && n[i] <= 'Z') ||
              (n[i] >= '0' && n[i] <= '9') || n[i] == '.' || n[i] == '_' || n[i] == '-'))
            return false;
    return true;
}

static ccz_status load_one(sv_model *m, const ccz_serving_model *spec)
{
    if (spec->key) {
        CCZ_GUARD(ccz_ml_model_load_pf(&m->ml, spec->path, spec->key, spec->path));
    } else {
        uint8_t head[8] = {0};
        FILE *f = fopen(spec->path, "rb");
        CCZ_ENSURE(f, CCZ_ERR_IO, "%s: %s", spec->path, strerror(errno));
        size_t got = fread(head, 1, sizeof head, f);
        fclose(f);
        CCZ_ENSURE(
            got < sizeof head || memcmp(head, pf_magic, sizeof head) != 0, CCZ_ERR_INVALID_ARGUMENT,
            "%s is a protected file: its key is needed (--key or --secret-server)", spec->path);
        CCZ_GUARD(ccz_ml_model_load_file(&m->ml, spec->path));
    }
    return sv_model_describe(m);
}

ccz_status sv_model_describe(sv_model *m)
{
    m->n_in = ccz_ml_input_count(m->ml);
    m->n_out = ccz_ml_output_count(m->ml);
    CCZ_ENSURE(m->n_in <= SV_MAX_IO && m->n_out <= SV_MAX_IO, CCZ_ERR_UNSUPPORTED,
               "the model has %zu inputs and %zu outputs; at most %d of each are served", m->n_in,
               m->n_out, SV_MAX_IO);
    for (size_t i = 0; i < m->n_in; i++)
        CCZ_GUARD(ccz_ml_input_info(m->ml, i, &m->in[i]));
    for (size_t i = 0; i < m->n_out; i++)
        CCZ_GUARD(ccz_ml_output_info(m->ml, i, &m->out[i]));
    /* what a run allocates beside the request's own buffers grows with its rows too */
    size_t ws = ccz_ml_workspace_floats(m->ml, SV_MAX_ROWS);
    m->ws_row_floats = (ws + SV_MAX_ROWS - 1) / SV_MAX_ROWS;
    return CCZ_OK;
}

static void *batcher(void *arg);

ccz_status sv_models_load(sv_server *s)
{
    const ccz_serving_opts *o = &s->o;
    CCZ_ENSURE(o->n_models > 0, CCZ_ERR_INVALID_ARGUMENT, "no model to serve");
    s->models = calloc(o->n_models, sizeof *s->models);
    CCZ_ENSURE(s->models, CCZ_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < o->n_models; i++) {
        const ccz_serving_model *spec = &o->models[i];
        sv_model *m = &s->models[i];
        m->srv = s;
        CCZ_ENSURE(spec->name && name_ok(spec->name), CCZ_ERR_INVALID_ARGUMENT,
                   "model name '%s': 1 to %d letters, digits, '.', '_' or '-'",
                   spec->name ? spec->name : "", SV_MAX_NAME);
        CCZ_ENSURE(spec->path, CCZ_ERR_INVALID_ARGUMENT, "model %s: no path", spec->name);
        CCZ_ENSURE(spec->version >= 1, CCZ_ERR_INVALID_ARGUMENT,
                   "model %s: version %lld; versions start at 1", spec->name,
                   (long long)spec->version);
        for (size_t k = 0; k < i; k++)
            CCZ_ENSURE(strcmp(s->models[k].name, spec->name) != 0 ||
                           s->models[k].version != spec->version,
                       CCZ_ERR_INVALID_ARGUMENT, "model %s version %lld is given twice", spec->name,
                       (long long)spec->version);
        snprintf(m->name, sizeof m->name, "%s", spec->name);
        m->version = spec->version;
        s->n_models = i + 1;
        ccz_status st = load_one(m, spec);
        if (st != CCZ_OK)
            return ccz_fail_context(st, "model %s version %lld (%s)", spec->name,
                                    (long long)spec->version, spec->path);
        pthread_condattr_t ca; /* timed waits on the monotonic clock */
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        int rc = pthread_cond_init(&m->wake, &ca);
        pthread_condattr_destroy(&ca);
        CCZ_ENSURE(rc == 0, CCZ_ERR_NOMEM, "out of memory");
        CCZ_ENSURE(pthread_create(&m->thread, NULL, batcher, m) == 0, CCZ_ERR_NOMEM,
                   "cannot start the batcher of model %s", m->name);
        m->started = true;
    }
    return CCZ_OK;
}

void sv_models_stop(sv_server *s)
{
    pthread_mutex_lock(&s->lock);
    s->stopping = true;
    for (size_t i = 0; i < s->n_models; i++)
        if (s->models[i].started)
            pthread_cond_signal(&s->models[i].wake);
    pthread_mutex_unlock(&s->lock);
    for (size_t i = 0; i < s->n_models; i++) {
        sv_model *m = &s->models[i];
        if (m->started) {
            pthread_join(m->thread, NULL);
            pthread_cond_destroy(&m->wake);
            m->started = false;
        }
    }
}

void sv_models_cancel_queued(sv_server *s, void (*deliver)(sv_job *j), const char *why)
{
    sv_job *list = NULL, **tail = &list;
    pthread_mutex_lock(&s->lock);
    if (!deliver) /* every front end's: none is taken any more */
        s->stopping = true;
    for (size_t i = 0; i < s->n_models; i++) {
        sv_model *m = &s->models[i];
        sv_job *keep = NULL, *kept_last = NULL;
        for (sv_job *j = m->head, *next; j; j = next) {
            next = j->next;
            j->next = NULL;
            if (deliver && j->deliver != deliver) {
                if (kept_last)
                    kept_last->next = j;
                else
                    keep = j;
                kept_last = j;
                continue;
            }
            m->queued_rows -= j->rows;
            s->queued_bytes -= j->bytes;
            *tail = j;
            tail = &j->next;
        }
        m->head = keep;
        m->tail = kept_last;
        if (m->started)
            pthread_cond_signal(&m->wake);
    }
    pthread_mutex_unlock(&s->lock);
    for (sv_job *j = list, *next; j; j = next) {
        next = j->next;
        j->st = CCZ_ERR_UNAVAILABLE;
        snprintf(j->error, sizeof j->error, "%s", why);
        j->deliver(j); /* the job is the front end's from here */
    }
}

void sv_models_free(sv_server *s)
{
    sv_models_stop(s);
    for (size_t i = 0; i < s->n_models; i++)
        ccz_ml_model_free(s->models[i].ml);
    /* requests never answered (the loops ended first) */
    while (s->live)
        sv_job_free(s->live);
    free(s->models);
    s->models = NULL;
    s->n_models = 0;
}

sv_model *sv_model_find(sv_server *s, const char *name, int64_t version)
{
    sv_model *best = NULL;
    for (size_t i = 0; i < s->n_models; i++) {
        sv_model *m = &s->models[i];
        if (strcmp(m->name, name) != 0)
            continue;
        if (version ? m->version == version : !best || m->version > best->version)
            best = m;
    }
    return best;
}

bool sv_model_known(sv_server *s, const char *name)
{
    return sv_model_find(s, name, 0) != NULL;
}

/* ---- jobs ------------------------------------------------------------------------------------*/

ccz_status sv_job_new(sv_job **out, sv_model *m, size_t rows)
{
    *out = NULL;
    /* a request's size is claimed before its values are read: bound it before allocating */
    size_t bytes = 0;
    for (size_t i = 0; i < m->n_in; i++)
        bytes += m->in[i].row_elems * sizeof(float);
    for (size_t i = 0; i < m->n_out; i++)
        bytes += m->out[i].row_elems * sizeof(float);
    bytes += m->ws_row_floats * sizeof(float);
    CCZ_ENSURE(rows >= 1 && rows <= SV_MAX_ROWS && bytes <= m->srv->o.max_queued / rows,
               CCZ_ERR_TOO_LARGE,
               "the request holds %zu rows (%zu bytes a row of inputs, outputs and the model's "
               "intermediate buffers); at most %d rows and %zu bytes are taken",
               rows, bytes, SV_MAX_ROWS, m->srv->o.max_queued);
    sv_job *j = calloc(1, sizeof *j);
    CCZ_ENSURE(j, CCZ_ERR_NOMEM, "out of memory");
    j->m = m;
    j->rows = rows;
    ccz_status st = CCZ_OK;
    for (size_t i = 0; i < m->n_in && st == CCZ_OK; i++) {
        j->in[i] = malloc(rows * m->in[i].row_elems * sizeof(float) + 1);
        j->bytes += rows * m->in[i].row_elems * sizeof(float);
        if (!j->in[i])
            st = ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < m->n_out && st == CCZ_OK; i++)
        if (!(j->out[i] = malloc(rows * m->out[i].row_elems * sizeof(float) + 1)))
            st = ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    sv_server *s = m->srv;
    pthread_mutex_lock(&s->lock);
    j->live_next = s->live;
    if (s->live)
        s->live->live_prev = j;
    s->live = j;
    pthread_mutex_unlock(&s->lock);
    if (st != CCZ_OK) {
        sv_job_free(j);
        return st;
    }
    *out = j;
    return CCZ_OK;
}

void sv_job_free(sv_job *j)
{
    if (!j)
        return;
    sv_server *s = j->m->srv;
    pthread_mutex_lock(&s->lock);
    if (j->live_prev)
        j->live_prev->live_next = j->live_next;
    else
        s->live = j->live_next;
    if (j->live_next)
        j->live_next->live_prev = j->live_prev;
    pthread_mutex_unlock(&s->lock);
    for (size_t i = 0; i < SV_MAX_IO; i++) {
        free(j->in[i]);
        free(j->out[i]);
    }
    free(j);
}

ccz_status sv_job_submit(sv_job *j)
{
    sv_model *m = j->m;
    sv_server *s = m->srv;
    pthread_mutex_lock(&s->lock);
    ccz_status st = CCZ_OK;
    if (s->stopping)
        st = ccz_fail(CCZ_ERR_UNAVAILABLE, "the server is stopping");
    else if (s->queued_bytes + j->bytes > s->o.max_queued)
        st = ccz_fail(CCZ_ERR_UNAVAILABLE,
                      "the server holds as many requests as it may (%zu bytes of inputs); "
                      "try again later",
                      s->o.max_queued);
    if (st == CCZ_OK) {
        s->queued_bytes += j->bytes;
        m->queued_rows += j->rows;
        m->requests++;
        j->next = NULL;
        if (m->tail)
            m->tail->next = j;
        else
            m->head = j;
        m->tail = j;
        pthread_cond_signal(&m->wake);
    }
    pthread_mutex_unlock(&s->lock);
    return st;
}

/* ---- the batcher -----------------------------------------------------------------------------*/

static void deadline_after(struct timespec *ts, unsigned us)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_nsec += (long)(us % 1000000) * 1000;
    ts->tv_sec += us / 1000000 + ts->tv_nsec / 1000000000;
    ts->tv_nsec %= 1000000000;
}

int64_t sv_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void (*sv_batch_hook)(sv_job *first, size_t n_jobs);

/* Runs the jobs taken (every one still wanted) as one batch; each gets its rows or the error. */
static void run_batch(sv_model *m, sv_job *first, size_t n_jobs)
{
    const ccz_serving_opts *o = &m->srv->o;
    /* whether a job is wanted is read once, here: a front end marks a job gone from its own
     * thread at any time (or its client leaves), and rows counted, copied in and copied out must
     * be the same ones, or a job would get another's rows */
    int64_t now = sv_mono_ms();
    size_t rows = 0, wanted = 0;
    sv_job *j = first, *alone = NULL;
    for (size_t k = 0; k < n_jobs; k++, j = j->next) {
        j->run = !atomic_load(&j->gone) && !(j->deadline_ms && j->deadline_ms <= now) &&
                 (!j->alive || j->alive(j));
        if (j->run) {
            rows += j->rows;
            wanted++;
            alone = j;
        }
    }
    if (sv_batch_hook)
        sv_batch_hook(first, n_jobs);
    ccz_status st = CCZ_OK;
    if (wanted == 1) { /* alone: its own buffers */
        st =
            ccz_ml_run(m->ml, alone->rows, (const float *const *)alone->in, alone->out, o->threads);
    } else if (wanted > 1) {
        float *in[SV_MAX_IO] = {0}, *out[SV_MAX_IO] = {0};
        for (size_t i = 0; i < m->n_in && st == CCZ_OK; i++)
            if (!(in[i] = malloc(rows * m->in[i].row_elems * sizeof(float))))
                st = ccz_fail(CCZ_ERR_NOMEM, "out of memory");
        for (size_t i = 0; i < m->n_out && st == CCZ_OK; i++)
            if (!(out[i] = malloc(rows * m->out[i].row_elems * sizeof(float))))
                st = ccz_fail(CCZ_ERR_NOMEM, "out of memory");
        size_t at = 0;
        j = first;
        for (size_t k = 0; k < n_jobs && st == CCZ_OK; k++, j = j->next) {
            if (!j->run) /* copy in */
                continue;
            for (size_t i = 0; i < m->n_in; i++)
                memcpy(in[i] + at * m->in[i].row_elems, j->in[i],
                       j->rows * m->in[i].row_elems * sizeof(float));
            at += j->rows;
        }
        if (st == CCZ_OK)
            st = ccz_ml_run(m->ml, rows, (const float *const *)in, out, o->threads);
        at = 0;
        j = first;
        for (size_t k = 0; k < n_jobs && st == CCZ_OK; k++, j = j->next) {
            if (!j->run) /* copy out */
                continue;
            for (size_t i = 0; i < m->n_out; i++)
                memcpy(j->out[i], out[i] + at * m->out[i].row_elems,
                       j->rows * m->out[i].row_elems * sizeof(float));
            at += j->rows;
        }
        for (size_t i = 0; i < SV_MAX_IO; i++) {
            free(in[i]);
            free(out[i]);
        }
    }
    /* a request larger than a batch ran alone: its intermediate buffers are not kept */
    if (wanted && rows > o->batch_max_rows && rows * m->ws_row_floats > SV_KEEP_WS_FLOATS)
        ccz_ml_model_trim(m->ml);
    char error[256] = "";
    if (st != CCZ_OK)
        snprintf(error, sizeof error, "%s", ccz_error_detail());
    sv_server *s = m->srv;
    pthread_mutex_lock(&s->lock);
    if (wanted) {
        m->batches++;
        m->batch_rows += rows;
        if (st != CCZ_OK)
            m->failures += wanted;
    }
    pthread_mutex_unlock(&s->lock);
    j = first;
    for (size_t k = 0; k < n_jobs; k++) {
        sv_job *next = j->next;
        if (j->run) {
            j->st = st;
            memcpy(j->error, error, sizeof error);
        } else { /* its outputs were never written: it must not be answered as a success */
            j->st = CCZ_ERR_UNAVAILABLE;
            snprintf(j->error, sizeof j->error,
                     "the request was not run: its client left or its deadline passed while it "
                     "was queued");
        }
        j->deliver(j); /* the job is the front end's from here */
        j = next;
    }
}

static void *batcher(void *arg)
{
    sv_model *m = arg;
    sv_server *s = m->srv;
    const ccz_serving_opts *o = &s->o;
    pthread_mutex_lock(&s->lock);
    for (;;) {
        while (!m->head && !s->stopping)
            pthread_cond_wait(&m->wake, &s->lock);
        if (s->stopping)
            break;
        if (o->batch_timeout_us && m->queued_rows < o->batch_max_rows) {
            /* the first request waits a little for company */
            struct timespec until;
            deadline_after(&until, o->batch_timeout_us);
            while (!s->stopping && m->queued_rows < o->batch_max_rows &&
                   pthread_cond_timedwait(&m->wake, &s->lock, &until) != ETIMEDOUT)
                ;
            if (s->stopping)
                break;
            if (!m->head) /* answered meanwhile (sv_models_cancel_queued): nothing to run */
                continue;
        }
        /* take whole requests up to the batch's rows (always at least one) */
        sv_job *first = m->head, *last = first;
        size_t rows = first->rows, n = 1, bytes = first->bytes;
        size_t max_rows = o->batch_max_rows < SV_MAX_ROWS ? o->batch_max_rows : SV_MAX_ROWS;
        while (last->next && rows + last->next->rows <= max_rows) {
            last = last->next;
            rows += last->rows;
            bytes += last->bytes;
            n++;
        }
        m->head = last->next;
        if (!m->head)
            m->tail = NULL;
        last->next = NULL;
        m->queued_rows -= rows;
        s->queued_bytes -= bytes;
        pthread_mutex_unlock(&s->lock);
        run_batch(m, first, n);
        pthread_mutex_lock(&s->lock);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

void sv_metrics(ccz_buf *out, void *payload)
{
    sv_server *s = payload;
    static const char help[] =
        "# HELP ccz_serving_requests_total Inference requests queued, by model version.\n"
        "# TYPE ccz_serving_requests_total counter\n"
        "# HELP ccz_serving_batches_total Batches run, by model version.\n"
        "# TYPE ccz_serving_batches_total counter\n"
        "# HELP ccz_serving_batch_rows_total Rows run in batches, by model version.\n"
        "# TYPE ccz_serving_batch_rows_total counter\n"
        "# HELP ccz_serving_failures_total Requests whose inference failed, by model version.\n"
        "# TYPE ccz_serving_failures_total counter\n";
    if (ccz_buf_append(out, help, sizeof help - 1) != CCZ_OK)
        return;
    pthread_mutex_lock(&s->lock);
    for (size_t i = 0; i < s->n_models; i++) {
        const sv_model *m = &s->models[i];
        const char *names[4] = {"requests", "batches", "batch_rows", "failures"};
        uint64_t v[4] = {m->requests, m->batches, m->batch_rows, m->failures};
        for (int k = 0; k < 4; k++) {
            char line[256];
            int n = snprintf(line, sizeof line,
                             "ccz_serving_%s_total{model=\"%s\",version=\"%lld\"} %llu\n", names[k],
                             m->name, (long long)m->version, (unsigned long long)v[k]);
            if (n > 0 && (size_t)n < sizeof line && ccz_buf_append(out, line, (size_t)n) != CCZ_OK)
                break;
        }
    }
    pthread_mutex_unlock(&s->lock);
}
