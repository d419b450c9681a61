/* test_engine.c -- the server's generation engine: parallel requests on slots with continuous
 * batching give the same greedy tokens as decoding each alone; a full queue says G4_EBUSY; a request
 * can be cancelled from its token callback; a repeated prompt reuses the slot's cached prefix; stop
 * cancels everything; logprobs equal the log-softmax of the logits; a forced prefix and a constraint
 * are obeyed.  Uses tests/data/model/tiny-a (token ids in, token ids out).
 */
#include <math.h>
#include <pthread.h>
#include <unistd.h>

#include "../src/model/ctx.h"
#include "../src/server/engine.h"
#include "check.h"

#define MODEL "tests/data/model/tiny-a"
#define NREQ 6
#define NTOK 24

static const int base[] = {2, 17, 99, 305, 411, 8, 77, 123, 256, 301, 42, 9, 88, 150, 222, 3, 5, 400, 33, 61};

typedef struct {
    g4_engine *e;
    int ids[32], n_ids;
    int got[64], n_got;
    int cancel_after; /* > 0: stop after this many tokens */
    int sleep_us;
    int logprobs, n_forced, forced[4], even_only;
    g4_token_logprobs lp[64];
    g4_gen_result res;
    g4_status st;
    char err[G4_ERR_LEN];
} req;

static int on_token(void *ud, int t, const g4_token_logprobs *lp) {
    req *r = ud;
    if (lp && r->n_got < 64) r->lp[r->n_got] = *lp;
    if (r->n_got < 64) r->got[r->n_got++] = t;
    if (r->sleep_us) usleep((useconds_t)r->sleep_us);
    return r->cancel_after > 0 && r->n_got >= r->cancel_after;
}

static void even_only(void *ud, float *logits, int n_gen) {
    (void)ud, (void)n_gen;
    for (int v = 1; v < 512; v += 2) logits[v] = -INFINITY;
}

static void *run(void *arg) {
    req *r = arg;
    g4_gen_req gr = {.ids = r->ids, .n_ids = r->n_ids, .max_tokens = NTOK, .ignore_eos = 1, .on_token = on_token, .ud = r,
                     .logprobs = r->logprobs, .top_logprobs = r->logprobs ? 5 : 0, .forced = r->forced,
                     .n_forced = r->n_forced, .constrain = r->even_only ? even_only : NULL};
    g4_sampler_params_default(&gr.sampling);
    gr.sampling.temperature = 0;
    r->st = g4_engine_generate(r->e, &gr, &r->res, r->err);
    return NULL;
}

/* greedy tokens of one prompt decoded alone; with q: forced tokens first, even ids only, and each
 * step's logprobs checked against the log-softmax of the logits */
static void solo(const g4_model *m, const int *ids, int n, int *out, const req *q) {
    char err[G4_ERR_LEN];
    g4_ctx *c;
    g4_ctx_params cp = {.n_ctx = 256, .n_batch = 512, .n_threads = 1};
    if (g4_ctx_new(&c, m, &cp, err)) return;
    float *lg = malloc(sizeof(float) * (size_t)m->cfg.n_vocab);
    g4_ctx_eval(c, ids, n, lg, 0, err);
    for (int i = 0; i < NTOK; i++) {
        int b = 0;
        for (int v = 1; v < m->cfg.n_vocab; v++)
            if (lg[v] > lg[b] && !(v == 258882 || v == 258883) && !(q && q->even_only && v % 2)) b = v;
        if (q && i < q->n_forced) b = q->forced[i];
        if (q && q->logprobs) {
            double mx = -INFINITY, sum = 0;
            for (int v = 0; v < m->cfg.n_vocab; v++) mx = lg[v] > mx ? lg[v] : mx;
            for (int v = 0; v < m->cfg.n_vocab; v++) sum += exp(lg[v] - mx);
            const double lse = mx + log(sum);
            const g4_token_logprobs *lp = &q->lp[i];
            int ok = fabs(lp->logprob - (lg[b] - lse)) < 1e-4 && lp->n_top == 5;
            for (int k = 0; k < lp->n_top && ok; k++) {
                int above = 0; /* the k-th alternative has exactly k logits above it */
                for (int v = 0; v < m->cfg.n_vocab; v++) above += lg[v] > lg[lp->top_ids[k]];
                ok = above == k && fabs(lp->top_logprobs[k] - (lg[lp->top_ids[k]] - lse)) < 1e-4;
            }
            CHECKF(ok, "step %d: logprob %g (want %g), top %d", i, lp->logprob, lg[b] - lse, lp->n_top);
        }
        out[i] = b;
        g4_ctx_eval(c, &b, 1, lg, 0, err);
    }
    free(lg);
    g4_ctx_free(c);
}

int main(void) {
    char err[G4_ERR_LEN];
    g4_engine *e;
    g4_engine_params p = {.model_path = MODEL, .n_parallel = 4, .n_ctx = 256, .n_threads = 1, .max_queue = 8};
    CHECKF(!g4_engine_new(&e, &p, err), "%s", err);
    if (!e) return check_done("test_engine");
    static req r[NREQ];
    pthread_t th[NREQ];
    for (int i = 0; i < NREQ; i++) {
        r[i].e = e;
        r[i].n_ids = 4 + 3 * i;
        for (int k = 0; k < r[i].n_ids; k++) r[i].ids[k] = base[(k + i) % 20];
        r[i].ids[0] = 2;
        pthread_create(&th[i], NULL, run, &r[i]);
    }
    for (int i = 0; i < NREQ; i++) pthread_join(th[i], NULL);
    int all_same = 1;
    for (int i = 0; i < NREQ; i++) {
        int want[NTOK];
        solo(g4_engine_model(e), r[i].ids, r[i].n_ids, want, NULL);
        CHECKF(r[i].st == G4_OK, "request %d: %s", i, r[i].err);
        CHECK(r[i].res.n_gen == NTOK && r[i].res.finish == G4_FINISH_LENGTH && r[i].res.n_prompt == r[i].n_ids);
        int same = r[i].n_got == NTOK && !memcmp(r[i].got, want, sizeof want);
        all_same &= same;
        CHECKF(same, "request %d: batched tokens differ from decoding alone", i);
    }
    printf("%d parallel requests on 4 slots: greedy tokens %s to one-by-one decoding\n", NREQ,
           all_same ? "identical" : "NOT identical");
    /* the same prompt twice in a row: the second finds the first's cache (all but the last prompt token) */
    req again = r[2];
    again.n_got = 0;
    run(&again);
    again.n_got = 0;
    run(&again);
    CHECK(again.st == G4_OK && again.res.n_cached == again.n_ids - 1 && !memcmp(again.got, r[2].got, sizeof(int) * NTOK));
    printf("repeated prompt: %d of %d prompt tokens reused from the cache\n", again.res.n_cached, again.n_ids);
    /* cancel from the callback */
    req c = r[0];
    c.n_got = 0;
    c.cancel_after = 3;
    run(&c);
    CHECK(c.st == G4_OK && c.res.finish == G4_FINISH_CANCELLED && c.res.n_gen == 3 && c.n_got == 3);
    /* logprobs, a forced prefix and a constraint, checked step by step against decoding alone */
    req f = r[4];
    f.n_got = 0, f.logprobs = 1, f.n_forced = 3, f.even_only = 1;
    f.forced[0] = 7, f.forced[1] = 300, f.forced[2] = 11;
    run(&f);
    int want_f[NTOK];
    solo(g4_engine_model(e), f.ids, f.n_ids, want_f, &f);
    int evens = 1;
    for (int i = 3; i < NTOK; i++) evens &= f.got[i] % 2 == 0;
    CHECKF(f.st == G4_OK && f.n_got == NTOK && !memcmp(f.got, want_f, sizeof want_f) && evens && f.got[1] == 300,
           "forced + constrained request: %s", f.err);
    printf("logprobs, forced prefix and constraint: as decoding alone\n");
    /* bad requests */
    g4_gen_result res;
    g4_gen_req bad = {.ids = base, .n_ids = 0, .max_tokens = 4};
    CHECK(g4_engine_generate(e, &bad, &res, err) == G4_EINVAL);
    int big[] = {2, 999999};
    bad.ids = big, bad.n_ids = 2;
    CHECK(g4_engine_generate(e, &bad, &res, err) == G4_EINVAL && strstr(err, "out of range"));
    bad.ids = base, bad.n_ids = 3, bad.max_tokens = 0;
    CHECK(g4_engine_generate(e, &bad, &res, err) == G4_EINVAL);
    g4_engine_stats st;
    g4_engine_stats_get(e, &st);
    CHECK(st.requests == NREQ + 4 && st.busy_slots == 0 && st.queued == 0 && st.gen_tokens == NREQ * NTOK + 3 * NTOK + 3);
    g4_engine_free(e);

    /* one slot, no queue: a second request while the first runs is refused */
    p.n_parallel = 1, p.max_queue = 0;
    CHECKF(!g4_engine_new(&e, &p, err), "%s", err);
    req slow = r[1], other = r[3];
    slow.e = other.e = e;
    slow.n_got = other.n_got = 0;
    slow.sleep_us = 20000;
    pthread_t ts;
    pthread_create(&ts, NULL, run, &slow);
    usleep(100000);
    run(&other);
    CHECK(other.st == G4_EBUSY);
    g4_engine_stats_get(e, &st);
    CHECK(st.rejected == 1);
    /* stop while it runs: the request returns, cancelled */
    g4_engine_stop(e);
    pthread_join(ts, NULL);
    CHECK(slow.st == G4_OK && slow.res.finish == G4_FINISH_CANCELLED);
    run(&other);
    CHECK(other.st == G4_EBUSY && strstr(other.err, "busy"));
    g4_engine_free(e);
    return check_done("test_engine");
}
