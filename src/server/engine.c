/* engine.c -- slots, queue and the scheduler thread behind `gemma4 serve` (see engine.h).
 *
 * One mutex guards the queue, the slot assignment and the stats; the scheduler thread is the only one
 * that touches contexts, samplers and the model.  Each loop: hand queued requests to free slots (the
 * one whose cache shares the longest prefix), prefill them, then run one decode step for every active
 * slot together (g4_ctx_decode_multi), sample each, report each token, retire finished requests.
 */
#include "engine.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../model/ctx.h"

typedef struct job {
    const g4_gen_req *r;
    g4_gen_result *res;
    g4_status st;
    char err[G4_ERR_LEN];
    int done;
    double t_submit, t_start;
    struct job *next;
} job;

typedef struct {
    g4_ctx *ctx;
    int *cache;       /* the ids whose K/V the context holds (cache[0..n_cache) == positions 0..) */
    int n_cache;
    job *j;           /* the running request, or NULL */
    int fresh;        /* assigned, not prefilled yet */
    g4_sampler *smp;
    int next;         /* the sampled token to feed in the next decode step */
    int finished;
    float *raw;       /* n_vocab: the logits before sampling touches them (requests with logprobs) */
} slot;

struct g4_engine {
    g4_model *m;
    g4_tokenizer *tok;
    g4_vocab_pieces pieces;
    int n_ctx, n_slots, max_queue;
    slot *slots;
    float *logits; /* n_slots rows of n_vocab */
    pthread_mutex_t mu;
    pthread_cond_t cv_work, cv_done;
    job *q_head, *q_tail;
    int n_queued, stop, n_callers;
    pthread_t thr;
    int thr_started;
    g4_engine_stats stats;
};

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- one request on one slot (scheduler thread) ---------------------------------------------- */

static int is_media_id(const g4_config *c, int id) { return id == c->image_id || id == c->audio_id || id == c->video_id; }

/* log(sum(exp(logits))) over the finite logits (NaN and -inf count as probability 0). */
static double log_sum_exp(const float *x, int n) {
    float mx = -INFINITY;
    for (int i = 0; i < n; i++) if (x[i] > mx) mx = x[i];
    if (!isfinite(mx)) return mx;
    double sum = 0;
    for (int i = 0; i < n; i++) if (x[i] > -INFINITY) sum += exp((double)x[i] - (double)mx);
    return (double)mx + log(sum);
}

/* The logprobs of token t and the k most likely tokens, from the raw logits x[n]. */
static void token_logprobs(const float *x, int n, int t, int k, g4_token_logprobs *lp) {
    const double lse = log_sum_exp(x, n);
    lp->logprob = x[t] > -INFINITY ? (float)((double)x[t] - lse) : -INFINITY;
    lp->n_top = 0;
    for (int i = 0; i < n && k > 0; i++) { /* insertion into a sorted list of at most k */
        if (!(x[i] > -INFINITY)) continue;
        int p = lp->n_top;
        while (p > 0 && x[lp->top_ids[p - 1]] < x[i]) p--;
        if (p >= k) continue;
        const int m = lp->n_top < k ? lp->n_top : k - 1;
        for (int q = m; q > p; q--) lp->top_ids[q] = lp->top_ids[q - 1];
        lp->top_ids[p] = i;
        if (lp->n_top < k) lp->n_top++;
    }
    for (int i = 0; i < lp->n_top; i++) lp->top_logprobs[i] = (float)((double)x[lp->top_ids[i]] - lse);
}

/* Token t for slot s (raw: its logits before sampling, for logprobs): report it, decide whether the
 * request goes on. */
static void take_token(g4_engine *e, slot *s, int t, const float *raw) {
    job *j = s->j;
    const g4_gen_req *r = j->r;
    j->res->n_gen++;
    g4_sampler_accept(s->smp, t);
    const int stop = !r->ignore_eos && g4_model_is_stop(e->m, t);
    g4_token_logprobs lp;
    if (r->logprobs && raw) token_logprobs(raw, e->m->cfg.n_vocab, t, G4_MIN(r->top_logprobs, G4_MAX_TOP_LOGPROBS), &lp);
    const int cancel = r->on_token ? r->on_token(r->ud, t, r->logprobs && raw ? &lp : NULL) : 0;
    s->next = t;
    if (cancel) j->res->finish = G4_FINISH_CANCELLED, s->finished = 1;
    else if (stop) j->res->finish = G4_FINISH_STOP, s->finished = 1;
    else if (j->res->n_gen >= r->max_tokens || g4_ctx_n_past(s->ctx) + 1 > e->n_ctx)
        j->res->finish = G4_FINISH_LENGTH, s->finished = 1;
}

/* The next token from logits (the forced prefix first, then the constraint and the sampler), then
 * take_token.  logits are clobbered. */
static void next_token(g4_engine *e, slot *s, float *logits) {
    job *j = s->j;
    const g4_gen_req *r = j->r;
    const int V = e->m->cfg.n_vocab, n_gen = j->res->n_gen;
    const float *raw = NULL;
    if (r->logprobs) {
        if (!s->raw && !(s->raw = g4_malloc(sizeof(float) * (size_t)V))) {
            j->st = g4_errf(j->err, G4_ENOMEM, "out of memory");
            s->finished = 1;
            return;
        }
        memcpy(s->raw, logits, sizeof(float) * (size_t)V);
        raw = s->raw;
    }
    int t;
    if (n_gen < r->n_forced) t = r->forced[n_gen];
    else {
        if (r->constrain) r->constrain(r->ud, logits, n_gen);
        if ((t = g4_sampler_sample(s->smp, logits)) < 0) {
            j->st = g4_errf(j->err, G4_EINVAL, r->constrain ? "no token can be sampled (the constraint allows none)"
                                                            : "no token can be sampled (every logit is NaN or -inf)");
            s->finished = 1;
            return;
        }
    }
    take_token(e, s, t, raw);
}

/* Prefill the request's prompt (reusing the slot's cached prefix) and sample its first token. */
static void start(g4_engine *e, slot *s, float *logits) {
    job *j = s->j;
    const g4_gen_req *r = j->r;
    const g4_config *c = &e->m->cfg;
    double t0 = now_s();
    j->res->t_queue = t0 - j->t_submit;
    g4_sampler_free(s->smp);
    s->smp = g4_sampler_new(&r->sampling, c->n_vocab);
    if (!s->smp) { j->st = g4_errf(j->err, G4_ENOMEM, "out of memory"); s->finished = 1; return; }
    g4_sampler_set_suppress(s->smp, c->suppress_ids, c->n_suppress);
    for (int i = 0; i < r->n_ids; i++) g4_sampler_accept(s->smp, r->ids[i]);
    /* the longest common prefix without media (same placeholder ids may stand for other pictures),
     * leaving at least the last prompt token to evaluate for its logits */
    int p = 0;
    while (p < s->n_cache && p < r->n_ids - 1 && s->cache[p] == r->ids[p] && !is_media_id(c, r->ids[p])) p++;
    char err[G4_ERR_LEN];
    if (g4_ctx_truncate(s->ctx, p, err)) { g4_ctx_reset(s->ctx); p = 0; }
    s->n_cache = p;
    j->res->n_cached = p;
    j->res->n_prompt = r->n_ids;
    /* the media of the part to evaluate: all of them, since the prefix stops before the first one */
    j->st = g4_mm_eval(s->ctx, r->ids + p, r->n_ids - p, r->items, r->n_items, logits, j->err);
    if (j->st) { g4_ctx_reset(s->ctx); s->n_cache = 0; s->finished = 1; return; }
    memcpy(s->cache + p, r->ids + p, sizeof(int) * (size_t)(r->n_ids - p));
    s->n_cache = r->n_ids;
    j->res->t_prompt = now_s() - t0;
    j->t_start = now_s();
    next_token(e, s, logits);
}

/* ---- the scheduler thread ------------------------------------------------------------------------ */

static size_t prefix_len(const int *a, int na, const int *b, int nb) {
    int i = 0;
    while (i < na && i < nb && a[i] == b[i]) i++;
    return (size_t)i;
}

static void *scheduler(void *arg) {
    g4_engine *e = arg;
    const int V = e->m->cfg.n_vocab;
    g4_ctx *ctxs[G4_MAX_MULTI];
    int toks[G4_MAX_MULTI], idx[G4_MAX_MULTI];
    char err[G4_ERR_LEN];
    pthread_mutex_lock(&e->mu);
    while (!e->stop) {
        /* queued requests -> free slots (longest cached prefix first) */
        while (e->q_head) {
            int best = -1;
            size_t best_p = 0;
            for (int i = 0; i < e->n_slots; i++) {
                if (e->slots[i].j) continue;
                size_t pl = prefix_len(e->slots[i].cache, e->slots[i].n_cache, e->q_head->r->ids, e->q_head->r->n_ids);
                if (best < 0 || pl > best_p) best = i, best_p = pl;
            }
            if (best < 0) break;
            job *j = e->q_head;
            e->q_head = j->next;
            if (!e->q_head) e->q_tail = NULL;
            e->n_queued--;
            e->slots[best].j = j;
            e->slots[best].fresh = 1;
            e->slots[best].finished = 0;
            e->stats.busy_slots++;
        }
        int active = 0;
        for (int i = 0; i < e->n_slots; i++) active += e->slots[i].j != NULL;
        if (!active) { pthread_cond_wait(&e->cv_work, &e->mu); continue; }
        pthread_mutex_unlock(&e->mu);

        for (int i = 0; i < e->n_slots; i++)
            if (e->slots[i].j && e->slots[i].fresh) {
                e->slots[i].fresh = 0;
                start(e, &e->slots[i], e->logits);
            }
        /* one decode step for every slot that goes on */
        int n = 0;
        for (int i = 0; i < e->n_slots; i++)
            if (e->slots[i].j && !e->slots[i].finished) ctxs[n] = e->slots[i].ctx, toks[n] = e->slots[i].next, idx[n++] = i;
        if (n) {
            double t0 = now_s();
            g4_status st = g4_ctx_decode_multi(ctxs, toks, n, e->logits, err);
            for (int k = 0; k < n; k++) {
                slot *s = &e->slots[idx[k]];
                if (st) {
                    s->j->st = st;
                    snprintf(s->j->err, sizeof s->j->err, "%s", err);
                    s->finished = 1;
                    g4_ctx_reset(s->ctx);
                    s->n_cache = 0;
                    continue;
                }
                s->cache[s->n_cache++] = toks[k];
                next_token(e, s, e->logits + (size_t)k * (size_t)V);
            }
            pthread_mutex_lock(&e->mu);
            e->stats.gen_seconds += now_s() - t0;
            pthread_mutex_unlock(&e->mu);
        }
        pthread_mutex_lock(&e->mu);
        for (int i = 0; i < e->n_slots; i++) {
            slot *s = &e->slots[i];
            if (!s->j || !s->finished) continue;
            job *j = s->j;
            j->res->t_gen = now_s() - (j->t_start > 0 ? j->t_start : now_s());
            e->stats.requests++;
            e->stats.prompt_tokens += j->res->n_prompt - j->res->n_cached;
            e->stats.gen_tokens += j->res->n_gen;
            e->stats.busy_slots--;
            j->done = 1;
            s->j = NULL;
        }
        pthread_cond_broadcast(&e->cv_done);
    }
    pthread_mutex_unlock(&e->mu);
    return NULL;
}

/* ---- public ---------------------------------------------------------------------------------------- */

g4_status g4_engine_new(g4_engine **out, const g4_engine_params *p, char *err) {
    *out = NULL;
    if (!p || !p->model_path) return g4_errf(err, G4_EINVAL, "engine: no model");
    if (p->n_parallel < 1 || p->n_parallel > 64)
        return g4_errf(err, G4_EINVAL, "engine: --parallel %d out of range (1..64)", p->n_parallel);
    if (p->max_queue < 0) return g4_errf(err, G4_EINVAL, "engine: negative queue size");
    g4_engine *e = g4_calloc(1, sizeof *e);
    if (!e) return g4_errf(err, G4_ENOMEM, "engine: out of memory");
    pthread_mutex_init(&e->mu, NULL);
    pthread_cond_init(&e->cv_work, NULL);
    pthread_cond_init(&e->cv_done, NULL);
    e->n_slots = p->n_parallel;
    e->max_queue = p->max_queue;
    g4_status st = g4_model_load_mm(&e->m, p->model_path, p->mmproj_path, err);
    if (st) goto fail;
    if (p->q8_act && (st = g4_model_pack_q8(e->m, err))) goto fail;
    if ((st = g4_tokenizer_load_model(e->m, &e->tok, err))) goto fail;
    if (e->tok && (st = g4_vocab_pieces_build(&e->pieces, e->tok, err))) goto fail;
    const g4_config *c = &e->m->cfg;
    e->n_ctx = p->n_ctx > 0 ? p->n_ctx : G4_MIN(4096, c->n_ctx_train);
    e->slots = g4_calloc((size_t)e->n_slots, sizeof *e->slots);
    e->logits = g4_malloc(sizeof(float) * (size_t)c->n_vocab * (size_t)e->n_slots);
    if (!e->slots || !e->logits) { st = g4_errf(err, G4_ENOMEM, "engine: out of memory"); goto fail; }
    g4_ctx_params cp = {.n_ctx = e->n_ctx, .n_batch = G4_MAX(e->n_slots, 512), .n_threads = p->n_threads > 0 ? p->n_threads : 1,
                          .kv_f16 = p->kv_f16, .q8_act = p->q8_act};
    for (int i = 0; i < e->n_slots; i++) {
        if ((st = g4_ctx_new(&e->slots[i].ctx, e->m, &cp, err))) goto fail;
        e->slots[i].cache = g4_malloc(sizeof(int) * (size_t)e->n_ctx);
        if (!e->slots[i].cache) { st = g4_errf(err, G4_ENOMEM, "engine: out of memory"); goto fail; }
    }
    e->stats.n_slots = e->n_slots;
    if (pthread_create(&e->thr, NULL, scheduler, e)) { st = g4_errf(err, G4_ENOMEM, "engine: cannot start a thread"); goto fail; }
    e->thr_started = 1;
    *out = e;
    return G4_OK;
fail:
    g4_engine_free(e);
    return st;
}

void g4_engine_stop(g4_engine *e) {
    if (!e) return;
    pthread_mutex_lock(&e->mu);
    const int was_running = e->thr_started && !e->stop;
    e->stop = 1;
    pthread_cond_signal(&e->cv_work);
    pthread_mutex_unlock(&e->mu);
    if (was_running) pthread_join(e->thr, NULL);
    /* anyone still waiting gets a cancelled request */
    pthread_mutex_lock(&e->mu);
    for (job *j = e->q_head; j; j = j->next) j->st = g4_errf(j->err, G4_EBUSY, "server shutting down"), j->done = 1;
    e->q_head = e->q_tail = NULL;
    e->n_queued = 0;
    for (int i = 0; e->slots && i < e->n_slots; i++)
        if (e->slots[i].j) e->slots[i].j->res->finish = G4_FINISH_CANCELLED, e->slots[i].j->done = 1, e->slots[i].j = NULL;
    pthread_cond_broadcast(&e->cv_done);
    pthread_mutex_unlock(&e->mu);
}

void g4_engine_free(g4_engine *e) {
    if (!e) return;
    g4_engine_stop(e);
    pthread_mutex_lock(&e->mu);
    while (e->n_callers > 0) pthread_cond_wait(&e->cv_done, &e->mu);
    pthread_mutex_unlock(&e->mu);
    for (int i = 0; e->slots && i < e->n_slots; i++) {
        g4_ctx_free(e->slots[i].ctx);
        g4_sampler_free(e->slots[i].smp);
        g4_free(e->slots[i].cache);
        g4_free(e->slots[i].raw);
    }
    g4_free(e->slots);
    g4_free(e->logits);
    g4_vocab_pieces_free(&e->pieces);
    g4_tokenizer_free(e->tok);
    g4_model_free(e->m);
    pthread_cond_destroy(&e->cv_work);
    pthread_cond_destroy(&e->cv_done);
    pthread_mutex_destroy(&e->mu);
    g4_free(e);
}

const g4_model *g4_engine_model(const g4_engine *e) { return e->m; }
const g4_tokenizer *g4_engine_tokenizer(const g4_engine *e) { return e->tok; }
int g4_engine_n_ctx(const g4_engine *e) { return e->n_ctx; }
const g4_vocab_pieces *g4_engine_pieces(const g4_engine *e) { return e->tok ? &e->pieces : NULL; }

g4_status g4_engine_generate(g4_engine *e, const g4_gen_req *r, g4_gen_result *res, char *err) {
    memset(res, 0, sizeof *res);
    const g4_config *c = &e->m->cfg;
    if (!r->ids || r->n_ids < 1) return g4_errf(err, G4_EINVAL, "empty prompt");
    if (r->max_tokens < 1) return g4_errf(err, G4_EINVAL, "max_tokens must be >= 1 (got %d)", r->max_tokens);
    if (r->n_ids + 1 > e->n_ctx)
        return g4_errf(err, G4_EINVAL, "the prompt has %d tokens; the context holds %d", r->n_ids, e->n_ctx);
    for (int i = 0; i < r->n_ids; i++)
        if (r->ids[i] < 0 || r->ids[i] >= c->n_vocab)
            return g4_errf(err, G4_EINVAL, "token id %d at %d out of range (vocab %d)", r->ids[i], i, c->n_vocab);
    if (r->n_forced < 0 || (r->n_forced && !r->forced) || r->top_logprobs < 0 || r->top_logprobs > G4_MAX_TOP_LOGPROBS)
        return g4_errf(err, G4_EINVAL, "bad forced tokens or top_logprobs");
    for (int i = 0; i < r->n_forced; i++)
        if (r->forced[i] < 0 || r->forced[i] >= c->n_vocab)
            return g4_errf(err, G4_EINVAL, "forced token id %d out of range (vocab %d)", r->forced[i], c->n_vocab);
    job j = {0};
    j.r = r;
    j.res = res;
    j.t_submit = now_s();
    pthread_mutex_lock(&e->mu);
    e->n_callers++;
    int free_slots = 0;
    for (int i = 0; i < e->n_slots; i++) free_slots += e->slots[i].j == NULL;
    if (e->stop || (free_slots - e->n_queued <= 0 && e->n_queued >= e->max_queue)) {
        e->stats.rejected++;
        e->n_callers--;
        pthread_cond_broadcast(&e->cv_done);
        pthread_mutex_unlock(&e->mu);
        return g4_errf(err, G4_EBUSY, "all %d slots are busy and the queue (%d) is full", e->n_slots, e->max_queue);
    }
    if (e->q_tail) e->q_tail->next = &j;
    else e->q_head = &j;
    e->q_tail = &j;
    e->n_queued++;
    pthread_cond_signal(&e->cv_work);
    while (!j.done) pthread_cond_wait(&e->cv_done, &e->mu);
    e->n_callers--;
    pthread_cond_broadcast(&e->cv_done);
    pthread_mutex_unlock(&e->mu);
    if (j.st) snprintf(err, G4_ERR_LEN, "%s", j.err);
    return j.st;
}

void g4_engine_stats_get(g4_engine *e, g4_engine_stats *s) {
    pthread_mutex_lock(&e->mu);
    *s = e->stats;
    s->queued = e->n_queued;
    pthread_mutex_unlock(&e->mu);
}
