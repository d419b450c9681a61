/* sampler.c -- the sampling pipeline of sampler.h.
 *
 * All scratch memory is allocated once in g4_sampler_new (a few arrays of n_vocab
 * entries), so sampling never allocates and never fails.  Work per token is O(n_vocab)
 * for the element-wise steps, O(n_vocab log k) for top-k (a size-k min-heap) and,
 * for top-p, a quickselect plus a sort of only the top few hundred/thousand tokens.
 * Probabilities are computed in double as exp(l - max), so a huge or +inf logit
 * cannot overflow.  Timing at n_vocab = 262144 (one x86 core): ~1 ms per token
 * with the Gemma defaults (top_k 64), ~40 ms with top_k off and a very flat
 * distribution (top-p then keeps thousands of tokens and must sort them).
 */
#include "sampler.h"

#include <math.h>
#include <string.h>

typedef struct {
    float v;
    int id;
} g4_cand;

struct g4_sampler {
    g4_sampler_params p;
    int n_vocab;
    int *ring;       /* last repeat_last_n accepted tokens, circular */
    int ring_len, ring_pos;
    int *count;      /* n_vocab scratch, all zero between calls */
    int *supp;       /* suppressed ids, deduplicated */
    int n_supp;
    uint8_t *supp_mask; /* n_vocab scratch for deduplication, zero between calls */
    float *heap;     /* top-k min-heap, min(top_k, n_vocab) entries */
    g4_cand *cand;   /* n_vocab survivors */
    int n_cand;
    uint64_t rng[4]; /* xoshiro256** */
};

/* ---- RNG: splitmix64 seeds xoshiro256** (public-domain algorithms by Vigna) ---- */

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t rng_next(uint64_t s[4]) {
    uint64_t r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return r;
}

static double rng_uniform(uint64_t s[4]) { return (double)(rng_next(s) >> 11) * 0x1.0p-53; } /* [0,1) */

static void rng_seed(uint64_t s[4], uint64_t seed) {
    for (int i = 0; i < 4; i++) s[i] = splitmix64(&seed);
}

/* ---- parameters ---- */

void g4_sampler_params_default(g4_sampler_params *p) {
    memset(p, 0, sizeof(*p));
    p->temperature = 1.0f;
    p->top_k = 64;
    p->top_p = 0.95f;
    p->min_p = 0.0f;
    p->repeat_penalty = 1.0f;
    p->repeat_last_n = 64;
    p->presence_penalty = 0.0f;
    p->frequency_penalty = 0.0f;
    p->seed = 0xC0FFEE;
}

g4_status g4_sampler_params_check(const g4_sampler_params *p, int n_vocab, char *err) {
    if (!p) return g4_errf(err, G4_EINVAL, "sampler: params are NULL");
    if (n_vocab < 1) return g4_errf(err, G4_EINVAL, "sampler: n_vocab (got %d, want >= 1)", n_vocab);
    if (isnan(p->temperature) || isinf(p->temperature))
        return g4_errf(err, G4_EINVAL, "sampler: temperature (got %g, want finite)", (double)p->temperature);
    if (!(p->top_p >= 0.0f && p->top_p <= 1.0f))
        return g4_errf(err, G4_EINVAL, "sampler: top_p (got %g, want 0..1)", (double)p->top_p);
    if (!(p->min_p >= 0.0f && p->min_p <= 1.0f))
        return g4_errf(err, G4_EINVAL, "sampler: min_p (got %g, want 0..1)", (double)p->min_p);
    if (!(p->repeat_penalty > 0.0f) || isinf(p->repeat_penalty))
        return g4_errf(err, G4_EINVAL, "sampler: repeat_penalty (got %g, want > 0)", (double)p->repeat_penalty);
    if (p->repeat_last_n < 0 || p->repeat_last_n > (1 << 24))
        return g4_errf(err, G4_EINVAL, "sampler: repeat_last_n (got %d, want 0..%d)", p->repeat_last_n, 1 << 24);
    if (!isfinite(p->presence_penalty) || !isfinite(p->frequency_penalty))
        return g4_errf(err, G4_EINVAL, "sampler: presence/frequency penalty (got %g/%g, want finite)",
                       (double)p->presence_penalty, (double)p->frequency_penalty);
    return G4_OK;
}

g4_sampler *g4_sampler_new(const g4_sampler_params *p, int n_vocab) {
    if (g4_sampler_params_check(p, n_vocab, NULL) != G4_OK) return NULL;
    g4_sampler *s = g4_calloc(1, sizeof(*s));
    if (!s) return NULL;
    s->p = *p;
    s->n_vocab = n_vocab;
    int n_heap = p->top_k > 0 ? G4_MIN(p->top_k, n_vocab) : 1;
    s->ring = g4_calloc((size_t)G4_MAX(p->repeat_last_n, 1), sizeof(int));
    s->count = g4_calloc((size_t)n_vocab, sizeof(int));
    s->supp = g4_calloc((size_t)n_vocab, sizeof(int));
    s->supp_mask = g4_calloc((size_t)n_vocab, 1);
    s->heap = g4_calloc((size_t)n_heap, sizeof(float));
    s->cand = g4_calloc((size_t)n_vocab, sizeof(g4_cand));
    if (!s->ring || !s->count || !s->supp || !s->supp_mask || !s->heap || !s->cand) {
        g4_sampler_free(s);
        return NULL;
    }
    rng_seed(s->rng, p->seed);
    return s;
}

void g4_sampler_free(g4_sampler *s) {
    if (!s) return;
    g4_free(s->ring);
    g4_free(s->count);
    g4_free(s->supp);
    g4_free(s->supp_mask);
    g4_free(s->heap);
    g4_free(s->cand);
    g4_free(s);
}

void g4_sampler_reset(g4_sampler *s) {
    s->ring_len = s->ring_pos = 0;
    rng_seed(s->rng, s->p.seed);
}

void g4_sampler_accept(g4_sampler *s, int token) {
    int cap = s->p.repeat_last_n;
    if (token < 0 || token >= s->n_vocab || cap == 0) return;
    s->ring[s->ring_pos] = token;
    s->ring_pos = (s->ring_pos + 1) % cap;
    if (s->ring_len < cap) s->ring_len++;
}

void g4_sampler_set_suppress(g4_sampler *s, const int *ids, int n) {
    s->n_supp = 0;
    for (int i = 0; i < n; i++) {
        int t = ids[i];
        if (t < 0 || t >= s->n_vocab || s->supp_mask[t]) continue;
        s->supp_mask[t] = 1;
        s->supp[s->n_supp++] = t;
    }
    for (int i = 0; i < s->n_supp; i++) s->supp_mask[s->supp[i]] = 0;
}

/* ---- the pipeline ---- */

static void apply_penalties(g4_sampler *s, float *logits) {
    const g4_sampler_params *p = &s->p;
    if (s->ring_len == 0) return;
    if (p->repeat_penalty == 1.0f && p->presence_penalty == 0.0f && p->frequency_penalty == 0.0f) return;
    for (int i = 0; i < s->ring_len; i++) s->count[s->ring[i]]++;
    for (int i = 0; i < s->ring_len; i++) { /* each distinct token once, then zero its count */
        int t = s->ring[i], c = s->count[t];
        if (c == 0) continue;
        s->count[t] = 0;
        float l = logits[t];
        if (p->repeat_penalty != 1.0f) l = l < 0.0f ? l * p->repeat_penalty : l / p->repeat_penalty;
        if (p->presence_penalty != 0.0f || p->frequency_penalty != 0.0f)
            l -= p->presence_penalty + p->frequency_penalty * (float)c;
        logits[t] = l;
    }
}

static void heap_sift_down(float *h, int n, int i) {
    for (;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && h[l] < h[m]) m = l;
        if (r < n && h[r] < h[m]) m = r;
        if (m == i) return;
        float t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

/* k-th largest of x[0..n) with 1 <= k < n (a min-heap of the k largest seen). */
static float kth_largest(float *h, const float *x, int n, int k) {
    memcpy(h, x, (size_t)k * sizeof(float));
    for (int i = k / 2 - 1; i >= 0; i--) heap_sift_down(h, k, i);
    for (int i = k; i < n; i++)
        if (x[i] > h[0]) {
            h[0] = x[i];
            heap_sift_down(h, k, 0);
        }
    return h[0];
}

static int cand_cmp(const void *a, const void *b) { /* ascending value, then ascending id */
    const g4_cand *x = a, *y = b;
    if (x->v != y->v) return x->v < y->v ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

static inline void cand_swap(g4_cand *a, g4_cand *b) {
    g4_cand t = *a;
    *a = *b;
    *b = t;
}

static float cand_max(const g4_cand *c, int n) {
    float m = -INFINITY;
    for (int i = 0; i < n; i++) m = c[i].v > m ? c[i].v : m;
    return m;
}

/* Unnormalised probability: exp(v - max), exactly 1 for v == max (also +inf). */
static inline double cand_weight(float v, float max) {
    return v == max ? 1.0 : exp((double)v - (double)max);
}

/* Put the m largest candidates (in cand_cmp order, a strict total order since ids
 * differ) into c[n-m..n), in any order: iterative quickselect, median-of-3 pivot. */
static void cand_select_top(g4_cand *c, int n, int m) {
    int lo = 0, hi = n - 1, k = n - m;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (cand_cmp(&c[mid], &c[lo]) < 0) cand_swap(&c[mid], &c[lo]);
        if (cand_cmp(&c[hi], &c[lo]) < 0) cand_swap(&c[hi], &c[lo]);
        if (cand_cmp(&c[hi], &c[mid]) < 0) cand_swap(&c[hi], &c[mid]);
        cand_swap(&c[mid], &c[hi]); /* median as pivot at hi */
        int store = lo;
        for (int i = lo; i < hi; i++)
            if (cand_cmp(&c[i], &c[hi]) < 0) cand_swap(&c[i], &c[store++]);
        cand_swap(&c[store], &c[hi]);
        if (store == k) return;
        if (store < k) lo = store + 1;
        else hi = store - 1;
    }
}

/* HF's rule: sort ascending, drop while cumsum(p) <= 1 - top_p, keep the last.
 * Sorting all of a 262k vocabulary costs ~50 ms, so sort only the top m tokens
 * (m = 256, 1024, ...) once the mass below them is known to be dropped. */
static void top_p_filter(g4_sampler *s, float *logits) {
    g4_cand *c = s->cand;
    int n = s->n_cand, m = n;
    float max = cand_max(c, n);
    double z = 0.0, below = 0.0, cut = 1.0 - (double)s->p.top_p;
    for (int i = 0; i < n; i++) z += cand_weight(c[i].v, max);
    for (int try_m = 256; try_m < n; try_m *= 4) {
        cand_select_top(c, n, try_m);
        below = 0.0;
        for (int i = 0; i < n - try_m; i++) below += cand_weight(c[i].v, max);
        if (below / z <= cut) {
            m = try_m;
            break;
        }
    }
    if (m == n) below = 0.0;
    for (int i = 0; i < n - m; i++) logits[c[i].id] = -INFINITY;
    g4_cand *top = c + (n - m);
    qsort(top, (size_t)m, sizeof(*top), cand_cmp);
    double cum = below / z;
    int drop = 0;
    while (drop < m - 1) {
        cum += cand_weight(top[drop].v, max) / z;
        if (!(cum <= cut)) break;
        logits[top[drop].id] = -INFINITY;
        drop++;
    }
    memmove(c, top + drop, (size_t)(m - drop) * sizeof(*c));
    s->n_cand = m - drop;
}

static void min_p_filter(g4_sampler *s, float *logits) {
    g4_cand *c = s->cand;
    float max = cand_max(c, s->n_cand);
    double min_p = (double)s->p.min_p;
    int m = 0;
    for (int i = 0; i < s->n_cand; i++) {
        if (cand_weight(c[i].v, max) < min_p) logits[c[i].id] = -INFINITY; /* p_i < min_p * p_max */
        else c[m++] = c[i];
    }
    s->n_cand = m;
}

int g4_sampler_filter(g4_sampler *s, float *logits) {
    const g4_sampler_params *p = &s->p;
    int n = s->n_vocab;
    for (int i = 0; i < n; i++)
        if (isnan(logits[i])) logits[i] = -INFINITY;
    for (int i = 0; i < s->n_supp; i++) logits[s->supp[i]] = -INFINITY;
    apply_penalties(s, logits);

    if (!(p->temperature > 0.0f)) { /* greedy: keep the first maximum only */
        int best = -1;
        for (int i = 0; i < n; i++)
            if (logits[i] > -INFINITY && (best < 0 || logits[i] > logits[best])) best = i;
        s->n_cand = 0;
        if (best < 0) return 0;
        float v = logits[best];
        for (int i = 0; i < n; i++) logits[i] = -INFINITY;
        logits[best] = v;
        s->cand[0].v = v;
        s->cand[0].id = best;
        s->n_cand = 1;
        return 1;
    }
    if (p->temperature != 1.0f)
        for (int i = 0; i < n; i++) logits[i] /= p->temperature;
    if (p->top_k > 0 && p->top_k < n) {
        float kth = kth_largest(s->heap, logits, n, p->top_k);
        for (int i = 0; i < n; i++)
            if (logits[i] < kth) logits[i] = -INFINITY;
    }
    s->n_cand = 0;
    for (int i = 0; i < n; i++)
        if (logits[i] > -INFINITY) {
            s->cand[s->n_cand].v = logits[i];
            s->cand[s->n_cand].id = i;
            s->n_cand++;
        }
    if (s->n_cand == 0) return 0;
    if (p->top_p < 1.0f) top_p_filter(s, logits);
    if (p->min_p > 0.0f) min_p_filter(s, logits);
    return s->n_cand;
}

int g4_sampler_sample(g4_sampler *s, float *logits) {
    int n = g4_sampler_filter(s, logits);
    if (n == 0) return -1;
    const g4_cand *c = s->cand;
    if (n == 1) return c[0].id;
    float max = cand_max(c, n);
    double z = 0.0;
    for (int i = 0; i < n; i++) z += cand_weight(c[i].v, max);
    double r = rng_uniform(s->rng) * z, acc = 0.0;
    int last = c[0].id;
    for (int i = 0; i < n; i++) {
        double w = cand_weight(c[i].v, max);
        if (w <= 0.0) continue;
        acc += w;
        last = c[i].id;
        if (r < acc) return c[i].id;
    }
    return last; /* rounding put r at the very top: the last token with weight > 0 */
}
