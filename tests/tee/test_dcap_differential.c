/* SPDX-License-Identifier: Apache-2.0 */
/* Differential test of DCAP verdicts: seeded random TCB ladders (all seven statuses, advisory
 * IDs, repeated levels), QE identity levels, TDX module identities and their levels, TD report
 * 1.5 relaunch, and a few extra faults (MRSIGNERSEAM, QE MRSIGNER, quote signature), each
 * verified by ccz on the forged platform and compared — status, advisories, failing step —
 * with an oracle written from Intel's QVL as written (TcbInfo/TcbLevel parsing, QuoteVerifier::
 * verify's order, TcbLevelCheck's matchTcbLevels and checkTcbLevel, TdxModuleCheck,
 * convergeTcbStatusWithQeTcbStatus, TDRelaunchCheck). The oracle shares no code with ccz.
 *
 * Where ccz deliberately differs, the oracle says so: advisories are the union of the matched
 * TCB level's, TDX module level's and QE level's IDs (QvE's sa_list is the TCB level's alone;
 * the oracle checks that list is included), and a Revoked verdict is a verified quote whose
 * TCB status is "Revoked" (QvE returns it as an error).
 *
 * CCZ_DIFF_CASES sets the number of cases, CCZ_DIFF_SEED the seed; under ASan fewer run. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccz/ccz.h"
#include "dcap_forge.h"
#include "test.h"

#define AT 1893456000 /* 2030-01-01 */

#if defined(__SANITIZE_ADDRESS__)
#define DEFAULT_CASES 80
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define DEFAULT_CASES 80
#endif
#endif
#ifndef DEFAULT_CASES
#define DEFAULT_CASES 600
#endif

/* ---- a seeded generator ----------------------------------------------------------------------*/

static uint64_t rng_state;

static uint64_t next(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static int pick(int n) /* 0 .. n-1 */
{
    return (int)(next() % (uint64_t)n);
}

static bool chance(int percent)
{
    return pick(100) < percent;
}

/* ---- a case ----------------------------------------------------------------------------------*/

static const char *const TCB_STATUSES[] = {"UpToDate",
                                           "SWHardeningNeeded",
                                           "ConfigurationNeeded",
                                           "ConfigurationAndSWHardeningNeeded",
                                           "OutOfDate",
                                           "OutOfDateConfigurationNeeded",
                                           "Revoked"};
static const char *const QE_STATUSES[] = {"UpToDate", "OutOfDate", "Revoked", "ConfigurationNeeded",
                                          "OutOfDateConfigurationNeeded"};
static const char *const MODULE_STATUSES[] = {"UpToDate", "OutOfDate", "Revoked"};
static const char *const ADVISORIES[] = {"INTEL-SA-00086", "INTEL-SA-00289", "INTEL-SA-00334",
                                         "INTEL-SA-00615", "INTEL-SA-00657", "INTEL-SA-00828"};

#define MAX_LEVELS 8
#define MAX_ADV 3

typedef struct {
    const char *status;
    const char *adv[MAX_ADV + 1]; /* NULL-terminated */
} status_adv;

typedef struct {
    uint8_t sgx[16], tdx[16];
    unsigned pcesvn;
    status_adv st;
} tcb_level;

typedef struct {
    unsigned isvsvn;
    status_adv st;
} isv_level;

typedef struct {
    char id[8];
    size_t n;
    isv_level levels[4];
} module_identity;

typedef struct {
    bool tdx;
    size_t n_levels;
    tcb_level levels[MAX_LEVELS]; /* in document order */
    size_t n_qe;
    isv_level qe[4]; /* in document order */
    size_t n_modules;
    module_identity modules[2];
    forge_quote_opts q;
    bool break_signature;
} tcase;

/* A status, the first of the list (UpToDate) as often as all others together when favour_first. */
static void random_status(status_adv *s, const char *const *statuses, int n, bool favour_first)
{
    s->status = favour_first && chance(50) ? statuses[0] : statuses[pick(n)];
    int k = pick(MAX_ADV);
    for (int i = 0; i < k; i++)
        s->adv[i] = ADVISORIES[pick(6)];
    s->adv[k] = NULL;
}

/* Lowers up to `most` of the n components of v, each by 1 or 2, never below 0. */
static void lower_some(uint8_t *v, const int *which, int n, int most)
{
    for (int k = pick(most + 1); k > 0; k--) {
        int i = which[pick(n)];
        int d = 1 + pick(2);
        v[i] = v[i] >= d ? (uint8_t)(v[i] - d) : 0;
    }
}

static const int ALL16[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
static const int TDX_VARY[] = {0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

static void generate(tcase *c)
{
    memset(c, 0, sizeof *c);
    c->tdx = chance(50);
    uint8_t base_sgx[16], base_tdx[16] = {0};
    for (int i = 0; i < 16; i++)
        base_sgx[i] = (uint8_t)(2 + pick(5));
    if (c->tdx) {
        base_tdx[0] = (uint8_t)(2 + pick(4));
        base_tdx[2] = (uint8_t)(1 + pick(4));
        for (int i = 3; i < 16; i++)
            base_tdx[i] = (uint8_t)pick(2);
    }
    c->n_levels = 1 + (size_t)pick(6);
    for (size_t l = 0; l < c->n_levels; l++) {
        tcb_level *lv = &c->levels[l];
        memcpy(lv->sgx, base_sgx, 16);
        memcpy(lv->tdx, base_tdx, 16);
        lower_some(lv->sgx, ALL16, 16, 3);
        if (c->tdx)
            lower_some(lv->tdx, TDX_VARY, 15, 3);
        lv->pcesvn = 10 - (unsigned)pick(3);
        random_status(&lv->st, TCB_STATUSES, 7, false);
    }
    if (chance(4) && c->n_levels < MAX_LEVELS) { /* a repeated level, with its own status */
        tcb_level *dup = &c->levels[c->n_levels++];
        *dup = c->levels[pick((int)c->n_levels - 1)];
        random_status(&dup->st, TCB_STATUSES, 7, false);
    }
    c->n_qe = 1 + (size_t)pick(3);
    for (size_t i = 0; i < c->n_qe; i++) {
        c->qe[i].isvsvn = 5 + (unsigned)pick(5);
        random_status(&c->qe[i].st, QE_STATUSES, 5, true);
    }

    forge_quote_opts *q = &c->q;
    forge_quote_defaults(q);
    memcpy(q->ext.cpusvn_components, base_sgx, 16);
    if (chance(40))
        lower_some(q->ext.cpusvn_components, ALL16, 16, 2);
    q->ext.pcesvn = (uint16_t)(10 - pick(3));
    q->qe_isvsvn = (uint16_t)(4 + pick(6));
    if (c->tdx) {
        q->tdx = true;
        q->version = 4 + pick(2);
        q->qe_isvprodid = 2;
        memcpy(q->tee_tcb_svn, base_tdx, 16);
        if (chance(40))
            lower_some(q->tee_tcb_svn, TDX_VARY, 15, 2);
        q->tee_tcb_svn[1] = (uint8_t)(chance(50) ? 0 : 1 + pick(2)); /* module major version */
        q->tee_tcb_svn[0] = (uint8_t)(q->tee_tcb_svn[1] ? pick(7) : base_tdx[0] + 1 - pick(3));
        if (q->version == 5 && chance(70)) {
            q->td15 = true;
            memcpy(q->tee_tcb_svn2, q->tee_tcb_svn, 16);
            q->tee_tcb_svn2[0] = (uint8_t)pick(7);
            q->tee_tcb_svn2[1] = (uint8_t)(chance(50) ? 0 : 1 + pick(2));
            q->tee_tcb_svn2[2] = (uint8_t)(base_tdx[2] + pick(2));
        }
        /* TDX_01 usually described, TDX_02 sometimes; ids in either case */
        for (int major = 1; major <= 2; major++) {
            if (!chance(major == 1 ? 85 : 40))
                continue;
            module_identity *m = &c->modules[c->n_modules++];
            snprintf(m->id, sizeof m->id, chance(20) ? "tdx_%02x" : "TDX_%02X", major);
            m->n = 1 + (size_t)pick(3);
            unsigned used = 0;
            for (size_t i = 0; i < m->n; i++) {
                unsigned svn;
                do
                    svn = (unsigned)pick(7);
                while (used & (1u << svn));
                used |= 1u << svn;
                m->levels[i].isvsvn = svn;
                random_status(&m->levels[i].st, MODULE_STATUSES, 3, false);
            }
            if (chance(3)) /* a repeated module level */
                m->levels[m->n - 1].isvsvn = m->levels[0].isvsvn;
        }
        if (chance(25)) { /* a TD report 1.5 that may be advised to relaunch */
            q->version = 5;
            q->td15 = true;
            q->tee_tcb_svn[1] = 1;
            q->tee_tcb_svn[0] = (uint8_t)(2 + pick(2));
            q->tee_tcb_svn2[0] = (uint8_t)(3 + pick(2));
            q->tee_tcb_svn2[1] = (uint8_t)(chance(80) ? 1 : pick(3));
            q->tee_tcb_svn2[2] = (uint8_t)(base_tdx[2] + pick(2) - (chance(20) ? 1 : 0));
            module_identity *m = &c->modules[0];
            if (!c->n_modules)
                c->n_modules = 1;
            snprintf(m->id, sizeof m->id, "TDX_01");
            m->n = 2;
            m->levels[0] = (isv_level){4, {"UpToDate", {NULL}}};
            m->levels[1] = (isv_level){2, {"OutOfDate", {ADVISORIES[pick(6)], NULL}}};
            c->qe[0].st.status = "UpToDate";
        }
        if (chance(5))
            q->mr_signer_seam[0] = 1;
    }
    if (chance(4))
        q->qe_mrsigner[0] ^= 1;
    c->break_signature = chance(4);
}

/* ---- the oracle, from Intel's QVL as written --------------------------------------------------*/

typedef struct {
    const char *code; /* ccz status name of the failure, or NULL when verified */
    const char *step;
    const char *status;
    char adv[512];
    char intel_sa[512]; /* QvE's sa_list: the matched TCB level's advisory IDs */
} verdict;

static verdict fail(const char *code, const char *step)
{
    verdict v;
    memset(&v, 0, sizeof v);
    v.code = code;
    v.step = step;
    return v;
}

/* TcbLevel::operator>: CPU SVN components as a vector, then PCE SVN; for TDX with equal PCE
 * SVNs, the TDX components. */
static bool level_greater(const tcb_level *a, const tcb_level *b, bool tdx)
{
    int c = memcmp(a->sgx, b->sgx, 16);
    if (c)
        return c > 0;
    if (tdx && a->pcesvn == b->pcesvn)
        return memcmp(a->tdx, b->tdx, 16) > 0;
    return a->pcesvn > b->pcesvn;
}

static bool is(const char *a, const char *b)
{
    return strcmp(a, b) == 0;
}

static bool config_needed(const char *s)
{
    return is(s, "ConfigurationNeeded") || is(s, "OutOfDateConfigurationNeeded") ||
           is(s, "ConfigurationAndSWHardeningNeeded") ||
           is(s, "TDRelaunchAdvisedConfigurationNeeded");
}

static const module_identity *find_module(const tcase *c, unsigned major)
{
    char want[8];
    snprintf(want, sizeof want, "TDX_%02X", major);
    for (size_t i = 0; i < c->n_modules; i++) {
        char id[8];
        for (size_t k = 0; k < sizeof id; k++)
            id[k] = (char)(c->modules[i].id[k] >= 'a' && c->modules[i].id[k] <= 'z'
                               ? c->modules[i].id[k] - 32
                               : c->modules[i].id[k]);
        if (is(id, want))
            return &c->modules[i];
    }
    return NULL;
}

/* The highest module level at or below svn (the set is ordered by ISVSVN, highest first). */
static const isv_level *module_level(const module_identity *m, unsigned svn)
{
    const isv_level *best = NULL;
    for (size_t i = 0; i < m->n; i++)
        if (svn >= m->levels[i].isvsvn && (!best || m->levels[i].isvsvn > best->isvsvn))
            best = &m->levels[i];
    return best;
}

static unsigned module_latest(const module_identity *m)
{
    unsigned best = 0;
    for (size_t i = 0; i < m->n; i++)
        if (m->levels[i].isvsvn > best)
            best = m->levels[i].isvsvn;
    return best;
}

/* convergeTcbStatusWithQeTcbStatus and convergeTcbStatusWithTdxModuleStatus: an out-of-date
 * component (any status but UpToDate and Revoked) turns UpToDate/SWHardeningNeeded into
 * OutOfDate and the configuration statuses into OutOfDateConfigurationNeeded. */
static const char *fold(const char *s, const char *component)
{
    if (!is(component, "UpToDate") && !is(component, "Revoked")) {
        if (is(s, "UpToDate") || is(s, "SWHardeningNeeded"))
            return "OutOfDate";
        if (is(s, "ConfigurationNeeded") || is(s, "ConfigurationAndSWHardeningNeeded"))
            return "OutOfDateConfigurationNeeded";
    }
    if (is(component, "Revoked"))
        return "Revoked";
    return s;
}

static void add_adv(char *out, size_t cap, const status_adv *st)
{
    for (size_t i = 0; st && st->adv[i]; i++) {
        /* keep the list sorted and without repeats */
        char items[16][32];
        size_t n = 0;
        char copy[512];
        snprintf(copy, sizeof copy, "%s", out);
        for (char *save = NULL, *t = strtok_r(copy, ",", &save); t && n < 16;
             t = strtok_r(NULL, ",", &save))
            snprintf(items[n++], sizeof items[0], "%s", t);
        bool seen = false;
        for (size_t k = 0; k < n; k++)
            seen |= is(items[k], st->adv[i]);
        if (seen)
            continue;
        snprintf(items[n++], sizeof items[0], "%s", st->adv[i]);
        for (size_t a = 1; a < n; a++)
            for (size_t b = a; b > 0 && strcmp(items[b - 1], items[b]) > 0; b--) {
                char tmp[32];
                memcpy(tmp, items[b], 32);
                memcpy(items[b], items[b - 1], 32);
                memcpy(items[b - 1], tmp, 32);
            }
        out[0] = '\0';
        for (size_t k = 0; k < n; k++)
            snprintf(out + strlen(out), cap - strlen(out), "%s%s", k ? "," : "", items[k]);
    }
}

static verdict oracle(const tcase *c)
{
    const forge_quote_opts *q = &c->q;
    /* TcbInfo::parse: the levels are a set; a level equal to another makes it invalid. So are
     * a TDX module identity's levels (TdxModuleIdentity). */
    for (size_t a = 0; a < c->n_levels; a++)
        for (size_t b = a + 1; b < c->n_levels; b++)
            if (!level_greater(&c->levels[a], &c->levels[b], c->tdx) &&
                !level_greater(&c->levels[b], &c->levels[a], c->tdx))
                return fail("malformed", "collateral");
    for (size_t m = 0; m < c->n_modules; m++)
        for (size_t a = 0; a < c->modules[m].n; a++)
            for (size_t b = a + 1; b < c->modules[m].n; b++)
                if (c->modules[m].levels[a].isvsvn == c->modules[m].levels[b].isvsvn)
                    return fail("malformed", "collateral");
    /* the levels in the set's order, highest first */
    const tcb_level *sorted[MAX_LEVELS];
    for (size_t i = 0; i < c->n_levels; i++) {
        size_t k = i;
        for (; k > 0 && level_greater(&c->levels[i], sorted[k - 1], c->tdx); k--)
            sorted[k] = sorted[k - 1];
        sorted[k] = &c->levels[i];
    }
    /* QuoteVerifier::verify 4.1.2.4.11: the TDX module identity */
    const module_identity *mod = NULL;
    if (c->tdx) {
        if (q->version > 3 && q->tee_tcb_svn[1] > 0) {
            mod = find_module(c, q->tee_tcb_svn[1]);
            if (!mod)
                return fail("tdx_module_mismatch", "tdx_module");
        }
        /* every MRSIGNER in the forged TCB info is zero, and so are SEAMATTRIBUTES */
        static const uint8_t zero[48];
        if (memcmp(q->mr_signer_seam, zero, 48) != 0)
            return fail("tdx_module_mismatch", "tdx_module");
    }
    /* 4.1.2.4.15: the QE identity (EnclaveReportVerifier), then its TCB level: the first in
     * document order at or below the QE's ISVSVN */
    uint8_t qe_mrsigner[32]; /* the forged QE identity's MRSIGNER */
    memset(qe_mrsigner, 0x8c, 32);
    if (memcmp(q->qe_mrsigner, qe_mrsigner, 32) != 0)
        return fail("qe_identity_mismatch", "qe_identity");
    const isv_level *qe = NULL;
    for (size_t i = 0; i < c->n_qe && !qe; i++)
        if (c->qe[i].isvsvn <= q->qe_isvsvn)
            qe = &c->qe[i];
    /* 4.1.2.4.16: the quote signature */
    if (c->break_signature)
        return fail("signature_invalid", "quote_signature");
    /* 4.1.2.4.17 checkTcbLevel: matchTcbLevels */
    const tcb_level *sgx = NULL, *tdx = NULL;
    for (size_t i = 0; i < c->n_levels && !tdx; i++) {
        const tcb_level *l = sorted[i];
        bool ok = q->ext.pcesvn >= l->pcesvn;
        for (int k = 0; k < 16; k++)
            ok &= q->ext.cpusvn_components[k] >= l->sgx[k];
        if (!ok)
            continue;
        if (!c->tdx) {
            sgx = tdx = l;
            break;
        }
        if (!sgx)
            sgx = l;
        bool tdx_ok = true;
        for (int k = q->tee_tcb_svn[1] > 0 ? 2 : 0; k < 16; k++)
            tdx_ok &= q->tee_tcb_svn[k] >= l->tdx[k];
        if (tdx_ok)
            tdx = l;
    }
    if (!sgx || !tdx)
        return fail("tcb_level_not_found", "tcb_level");
    verdict v;
    memset(&v, 0, sizeof v);
    add_adv(v.intel_sa, sizeof v.intel_sa, &tdx->st);
    add_adv(v.adv, sizeof v.adv, &tdx->st);
    const char *status = tdx->st.status;
    if (c->tdx) {
        /* checkTdxModuleTcbStatus */
        const char *module_status = "UpToDate";
        if (mod) {
            const isv_level *ml = module_level(mod, q->tee_tcb_svn[0]);
            if (!ml)
                return fail("tcb_level_not_found", "tdx_module");
            module_status = ml->st.status;
            add_adv(v.adv, sizeof v.adv, &ml->st);
        }
        status = fold(status, module_status);
        if (is(status, "Revoked")) {
            if (qe)
                add_adv(v.adv, sizeof v.adv, &qe->st);
            v.status = "Revoked";
            return v;
        }
        /* checkForRelaunch */
        const char *sgx_status = sgx->st.status;
        if (q->td15 && qe && is(qe->st.status, "UpToDate") &&
            (is(sgx_status, "UpToDate") || is(sgx_status, "SWHardeningNeeded") ||
             is(sgx_status, "ConfigurationNeeded") ||
             is(sgx_status, "ConfigurationAndSWHardeningNeeded")) &&
            (is(status, "OutOfDate") || is(status, "OutOfDateConfigurationNeeded")) &&
            is(module_status, "OutOfDate")) {
            const tcb_level *latest = sorted[0];
            unsigned need0 = latest->tdx[0];
            if (q->tee_tcb_svn2[1] > 0) {
                const module_identity *m2 = find_module(c, q->tee_tcb_svn2[1]);
                if (!m2)
                    return fail("tdx_module_mismatch", "tdx_module");
                need0 = module_latest(m2);
            }
            if (q->tee_tcb_svn2[0] >= need0 && q->tee_tcb_svn2[2] >= latest->tdx[2])
                status = config_needed(sgx_status) || config_needed(status)
                             ? "TDRelaunchAdvisedConfigurationNeeded"
                             : "TDRelaunchAdvised";
        }
    }
    /* convergeTcbStatusWithQeTcbStatus */
    if (!qe)
        return fail("tcb_level_not_found", "qe_identity");
    add_adv(v.adv, sizeof v.adv, &qe->st);
    v.status = fold(status, qe->st.status);
    return v;
}

/* ---- ccz -------------------------------------------------------------------------------------*/

static json_t *tcb_info_json(const tcase *c)
{
    json_t *levels = json_array();
    for (size_t i = 0; i < c->n_levels; i++) {
        const tcb_level *l = &c->levels[i];
        json_array_append_new(levels, forge_tcb_level(l->sgx, l->pcesvn, c->tdx ? l->tdx : NULL,
                                                      l->st.status, l->st.adv));
    }
    json_t *modules = NULL;
    if (c->n_modules) {
        modules = json_array();
        for (size_t m = 0; m < c->n_modules; m++) {
            json_t *ml = json_array();
            for (size_t i = 0; i < c->modules[m].n; i++)
                json_array_append_new(ml, forge_isv_level(c->modules[m].levels[i].isvsvn,
                                                          c->modules[m].levels[i].st.status,
                                                          c->modules[m].levels[i].st.adv));
            json_array_append_new(modules, forge_module_identity(c->modules[m].id, ml));
        }
    }
    return forge_tcb_info(c->tdx, levels, modules);
}

static json_t *qe_identity_json(const tcase *c)
{
    json_t *levels = json_array();
    for (size_t i = 0; i < c->n_qe; i++)
        json_array_append_new(
            levels, forge_isv_level(c->qe[i].isvsvn, c->qe[i].st.status, c->qe[i].st.adv));
    return forge_qe_identity(c->tdx, levels);
}

static void flip_quote_signature(ccz_buf *q)
{
    ccz_dcap_quote dq;
    if (ccz_dcap_quote_parse(&dq, ccz_buf_span(q)) != CCZ_OK)
        abort();
    q->ptr[dq.signed_part.len + 4 + 5] ^= 0x01;
}

static bool contains_all(const char *list, const char *sub)
{
    char copy[512];
    snprintf(copy, sizeof copy, "%s", sub);
    for (char *save = NULL, *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        char hay[520];
        snprintf(hay, sizeof hay, ",%s,", list);
        char needle[40];
        snprintf(needle, sizeof needle, ",%s,", t);
        if (!strstr(hay, needle))
            return false;
    }
    return true;
}

static void test_against_qvl_rules(void)
{
    const char *env = getenv("CCZ_DIFF_CASES");
    int cases = env ? atoi(env) : DEFAULT_CASES;
    env = getenv("CCZ_DIFF_SEED");
    uint64_t seed = env ? strtoull(env, NULL, 0) : 0x51a7ec0ffeeull;
    rng_state = seed;
    forge *f = forge_new();
    int seen[7] = {0}, relaunch = 0, failures_by_kind[6] = {0}, mismatches = 0;
    static const char *const kinds[] = {"collateral",      "tdx_module", "qe_identity",
                                        "quote_signature", "tcb_level",  NULL};
    for (int n = 0; n < cases; n++) {
        tcase c;
        generate(&c);
        verdict want = oracle(&c);
        char *t = forge_dump(tcb_info_json(&c)), *qe = forge_dump(qe_identity_json(&c));
        forge_collateral_opts co = {t, qe, 1735689600, 2051222400, false, false};
        forge_outcome got =
            forge_verify(f, AT, &c.q, &co, c.break_signature ? flip_quote_signature : NULL);
        bool same;
        if (want.code)
            same = is(got.tcb, want.code) && is(got.step, want.step);
        else
            same = got.status == CCZ_OK && is(got.tcb, want.status) && is(got.adv, want.adv) &&
                   contains_all(got.adv, want.intel_sa);
        if (!same && mismatches++ < 10) {
            fprintf(stderr,
                    "%s: case %d (seed %#llx): ccz %s at '%s' [%s] (%s); QVL's rules %s "
                    "at '%s' [%s]\n  tcb_info %s\n  qe_identity %s\n",
                    test_name, n, (unsigned long long)seed, got.tcb, got.step, got.adv, got.message,
                    want.code ? want.code : want.status, want.code ? want.step : "", want.adv, t,
                    qe);
        }
        if (!same)
            test_failures++;
        for (int s = 0; s < 7 && !want.code; s++)
            seen[s] += is(want.status, TCB_STATUSES[s]);
        relaunch += !want.code && strstr(want.status, "TDRelaunch") != NULL;
        for (int k = 0; kinds[k] && want.code; k++)
            failures_by_kind[k] += is(want.step, kinds[k]);
        free(t);
        free(qe);
    }
    forge_free(f);
    fprintf(stderr, "  %d cases, %d differ; verdicts:", cases, mismatches);
    for (int s = 0; s < 7; s++)
        fprintf(stderr, " %s %d", TCB_STATUSES[s], seen[s]);
    fprintf(stderr, " TDRelaunch* %d; failures:", relaunch);
    for (int k = 0; kinds[k]; k++)
        fprintf(stderr, " %s %d", kinds[k], failures_by_kind[k]);
    fprintf(stderr, "\n");
    if (cases >= DEFAULT_CASES && DEFAULT_CASES >= 600) {
        /* the generator reaches every verdict the oracle knows */
        for (int s = 0; s < 7; s++)
            CHECK(seen[s] > 0);
        CHECK(relaunch > 0);
        for (int k = 0; kinds[k]; k++)
            CHECK(failures_by_kind[k] > 0);
    }
}

TEST_MAIN(T(test_against_qvl_rules))
