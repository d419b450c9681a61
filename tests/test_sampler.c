/* test_sampler.c -- the sampler against Hugging Face transformers' logits warpers.
 *
 * tests/data/sampler/ (tools/make_sampler_fixtures.py) holds, per parameter set,
 * random logits and the probabilities left after transformers' processors and
 * warpers.  We check: the same survivor set, the same probabilities (1e-6), the
 * same greedy token as do_sample=False, empirical frequencies of 20k draws within
 * 0.01 of the oracle's probabilities, same seed -> same tokens, NaN = -inf,
 * parameter checking and the allocation-failure sweep.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/common.h"
#include "text/sampler.h"

#define DIR "tests/data/sampler/"
#define MAX_CASES 64
#define MAX_IDS 512

typedef struct {
    char name[64];
    int n_vocab;
    g4_sampler_params p;
    int n_hist, hist[MAX_IDS];
    int n_supp, supp[MAX_IDS];
    int greedy;
    float *logits;  /* n_vocab */
    float *probs;   /* n_vocab, -1 = filtered */
} tcase;

static int n_cases;
static tcase cases[MAX_CASES];

static void *read_file(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *buf = malloc(len > 0 ? (size_t)len : 1);
    if (buf && fread(buf, 1, (size_t)len, f) != (size_t)len) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *n = (size_t)len;
    return buf;
}

static int load_cases(float **all_logits, float **all_probs) {
    FILE *f = fopen(DIR "cases.txt", "r");
    if (!f) return 0;
    char line[256];
    size_t total = 0;
    if (!fgets(line, sizeof(line), f) || line[0] != '#') { /* the header comment */
        fclose(f);
        return 0;
    }
    while (n_cases < MAX_CASES) {
        tcase *c = &cases[n_cases];
        g4_sampler_params_default(&c->p);
        if (fscanf(f, " case %63s %d %f %d %f %f %f %d %f %f %d", c->name, &c->n_vocab, &c->p.temperature,
                   &c->p.top_k, &c->p.top_p, &c->p.min_p, &c->p.repeat_penalty, &c->p.repeat_last_n,
                   &c->p.presence_penalty, &c->p.frequency_penalty, &c->n_hist) != 11)
            break;
        int ok = c->n_vocab > 0 && c->n_vocab <= (1 << 20) && c->n_hist >= 0 && c->n_hist <= MAX_IDS;
        for (int i = 0; ok && i < c->n_hist; i++) ok = fscanf(f, "%d", &c->hist[i]) == 1;
        ok = ok && fscanf(f, "%d", &c->n_supp) == 1 && c->n_supp >= 0 && c->n_supp <= MAX_IDS;
        for (int i = 0; ok && i < c->n_supp; i++) ok = fscanf(f, "%d", &c->supp[i]) == 1;
        ok = ok && fscanf(f, "%d", &c->greedy) == 1;
        if (!ok) break;
        total += (size_t)c->n_vocab;
        n_cases++;
    }
    fclose(f);
    size_t nl, np;
    *all_logits = read_file(DIR "logits.bin", &nl);
    *all_probs = read_file(DIR "probs.bin", &np);
    if (!*all_logits || !*all_probs || nl != total * 4 || np != total * 4) return 0;
    for (size_t i = 0, off = 0; i < (size_t)n_cases; off += (size_t)cases[i].n_vocab, i++) {
        cases[i].logits = *all_logits + off;
        cases[i].probs = *all_probs + off;
    }
    return n_cases;
}

/* A sampler for case c with its suppress list (plus ids that must be ignored) and history. */
static g4_sampler *make_sampler(const tcase *c, const g4_sampler_params *p) {
    const int n_vocab = c->n_vocab;
    g4_sampler *s = g4_sampler_new(p, n_vocab);
    if (!s) return NULL;
    int supp[MAX_IDS + 3];
    memcpy(supp, c->supp, (size_t)c->n_supp * sizeof(int));
    supp[c->n_supp] = -1;
    supp[c->n_supp + 1] = n_vocab;
    supp[c->n_supp + 2] = n_vocab + 12345;
    g4_sampler_set_suppress(s, supp, c->n_supp + 3);
    g4_sampler_accept(s, -7);      /* out of range: ignored */
    g4_sampler_accept(s, n_vocab); /* (the window still ends with the real history) */
    for (int i = 0; i < c->n_hist; i++) g4_sampler_accept(s, c->hist[i]);
    return s;
}

static void test_oracle(const tcase *c, float *buf) {
    const int n_vocab = c->n_vocab;
    g4_sampler *s = make_sampler(c, &c->p);
    CHECKF(s != NULL, "%s: g4_sampler_new", c->name);
    if (!s) return;
    memcpy(buf, c->logits, (size_t)n_vocab * sizeof(float));
    int n = g4_sampler_filter(s, buf);
    float max = -INFINITY;
    int same_set = 1, n_oracle = 0;
    for (int i = 0; i < n_vocab; i++) {
        int ours = buf[i] > -INFINITY, theirs = c->probs[i] >= 0;
        n_oracle += theirs;
        if (ours != theirs) {
            if (same_set) fprintf(stderr, "%s: token %d ours %d hf %d\n", c->name, i, ours, theirs);
            same_set = 0;
        }
        if (buf[i] > max) max = buf[i];
    }
    CHECKF(same_set && n == n_oracle, "%s: survivors (got %d, want %d)", c->name, n, n_oracle);
    double z = 0, worst = 0;
    for (int i = 0; i < n_vocab; i++)
        if (buf[i] > -INFINITY) z += exp((double)buf[i] - max);
    for (int i = 0; i < n_vocab; i++) {
        double ours = buf[i] > -INFINITY ? exp((double)buf[i] - max) / z : 0.0;
        double theirs = c->probs[i] >= 0 ? c->probs[i] : 0.0;
        worst = fmax(worst, fabs(ours - theirs));
    }
    CHECKF(worst <= 1e-6, "%s: max |p - p_hf| = %.3g", c->name, worst);
    g4_sampler_free(s);

    /* Greedy: temperature 0 is generate(do_sample=False) with the same processors. */
    g4_sampler_params gp = c->p;
    gp.temperature = 0.0f;
    s = make_sampler(c, &gp);
    CHECK(s != NULL);
    if (!s) return;
    memcpy(buf, c->logits, (size_t)n_vocab * sizeof(float));
    int tok = g4_sampler_sample(s, buf);
    CHECKF(tok == c->greedy, "%s: greedy (got %d, want %d)", c->name, tok, c->greedy);
    g4_sampler_free(s);
}

/* 20k draws: frequencies within 0.01 of the oracle's probabilities, never a filtered id. */
static void test_stats(const tcase *c, float *buf) {
    const int n_vocab = c->n_vocab;
    enum { N = 20000 };
    g4_sampler *s = make_sampler(c, &c->p);
    CHECK(s != NULL);
    if (!s) return;
    int *hits = calloc((size_t)n_vocab, sizeof(int));
    int bad = 0;
    for (int k = 0; k < N; k++) {
        memcpy(buf, c->logits, (size_t)n_vocab * sizeof(float));
        int t = g4_sampler_sample(s, buf);
        if (t < 0 || t >= n_vocab || c->probs[t] < 0) bad++;
        else hits[t]++;
    }
    double worst = 0;
    for (int i = 0; i < n_vocab; i++) {
        double want = c->probs[i] >= 0 ? c->probs[i] : 0.0;
        worst = fmax(worst, fabs((double)hits[i] / N - want));
    }
    CHECKF(bad == 0, "%s: %d draws of filtered tokens", c->name, bad);
    CHECKF(worst <= 0.01, "%s: max |freq - p| = %.4f", c->name, worst);
    free(hits);
    g4_sampler_free(s);
}

static void draw_seq(const tcase *c, uint64_t seed, int *out, int n, float *buf) {
    const int n_vocab = c->n_vocab;
    g4_sampler_params p = c->p;
    p.seed = seed;
    g4_sampler *s = make_sampler(c, &p);
    CHECK(s != NULL);
    for (int k = 0; k < n; k++) {
        memcpy(buf, c->logits, (size_t)n_vocab * sizeof(float));
        out[k] = s ? g4_sampler_sample(s, buf) : -2;
    }
    if (s) { /* reset restarts the RNG: the first draws repeat */
        g4_sampler_reset(s);
        for (int k = 0; k < 10; k++) {
            memcpy(buf, c->logits, (size_t)n_vocab * sizeof(float));
            int t = g4_sampler_sample(s, buf);
            CHECKF(t == out[k], "%s: draw %d after reset (got %d, want %d)", c->name, k, t, out[k]);
        }
    }
    g4_sampler_free(s);
}

static void test_repro(const tcase *c, float *buf) {
    enum { N = 300 };
    int a[N], b[N], d[N];
    draw_seq(c, 0xC0FFEE, a, N, buf);
    draw_seq(c, 0xC0FFEE, b, N, buf);
    draw_seq(c, 12345, d, N, buf);
    CHECKF(memcmp(a, b, sizeof(a)) == 0, "%s: same seed, same tokens", c->name);
    CHECKF(memcmp(a, d, sizeof(a)) != 0, "%s: other seed, other tokens", c->name);
}

/* NaN logits behave like -inf. */
static void test_nan(const tcase *c, float *buf) {
    const int n_vocab = c->n_vocab;
    float *ref = malloc((size_t)n_vocab * sizeof(float));
    memcpy(ref, c->logits, (size_t)n_vocab * sizeof(float));
    memcpy(buf, c->logits, (size_t)n_vocab * sizeof(float));
    for (int i = 0; i < n_vocab; i += 7) {
        ref[i] = -INFINITY;
        buf[i] = NAN;
    }
    g4_sampler *s1 = make_sampler(c, &c->p), *s2 = make_sampler(c, &c->p);
    CHECK(s1 && s2);
    if (s1 && s2) {
        int n1 = g4_sampler_filter(s1, ref), n2 = g4_sampler_filter(s2, buf);
        CHECK(n1 == n2 && n1 > 0);
        CHECK(memcmp(ref, buf, (size_t)n_vocab * sizeof(float)) == 0);
    }
    g4_sampler_free(s1);
    g4_sampler_free(s2);
    free(ref);
}

static void test_edges(void) {
    g4_sampler_params p;
    g4_sampler_params_default(&p);
    CHECK(p.temperature == 1.0f && p.top_k == 64 && p.top_p == 0.95f && p.min_p == 0.0f);
    CHECK(p.repeat_penalty == 1.0f && p.repeat_last_n == 64 && p.presence_penalty == 0.0f &&
          p.frequency_penalty == 0.0f && p.seed == 0xC0FFEE);

    /* Everything suppressed or -inf: nothing to draw. */
    float l[4] = {1, 2, 3, 4};
    int all[4] = {0, 1, 2, 3};
    g4_sampler *s = g4_sampler_new(&p, 4);
    CHECK(s != NULL);
    if (s) {
        g4_sampler_set_suppress(s, all, 4);
        CHECK(g4_sampler_sample(s, l) == -1);
        g4_sampler_set_suppress(s, NULL, 0); /* cleared */
        float m[4] = {1, 5, 5, 2};
        CHECK(g4_sampler_filter(s, m) == 2 && m[1] == 5 && m[2] == 5); /* top_p 0.95 drops 1, 2 */
        float n[4] = {-INFINITY, -INFINITY, NAN, -INFINITY};
        CHECK(g4_sampler_filter(s, n) == 0);
        g4_sampler_free(s);
    }
    /* Greedy ties -> lowest id; +inf logits are the only candidates. */
    p.temperature = 0.0f;
    s = g4_sampler_new(&p, 5);
    float t[5] = {1, 7, 3, 7, 7};
    CHECK(s && g4_sampler_sample(s, t) == 1);
    g4_sampler_free(s);
    p.temperature = 0.7f;
    p.top_k = 0;
    p.top_p = 1.0f;
    s = g4_sampler_new(&p, 5);
    int ok = s != NULL;
    for (int k = 0; s && k < 200; k++) {
        float u[5] = {1e30f, INFINITY, 3, INFINITY, -2};
        int tok = g4_sampler_sample(s, u);
        ok &= tok == 1 || tok == 3;
    }
    CHECK(ok);
    g4_sampler_free(s);

    /* Parameter checks. */
    char err[G4_ERR_LEN];
    g4_sampler_params q;
    g4_sampler_params_default(&q);
    CHECK(g4_sampler_params_check(&q, 10, err) == G4_OK);
    CHECK(g4_sampler_params_check(&q, 0, err) == G4_EINVAL && strstr(err, "n_vocab"));
    q.top_p = 1.5f;
    CHECK(g4_sampler_params_check(&q, 10, err) == G4_EINVAL && strstr(err, "top_p"));
    CHECK(g4_sampler_new(&q, 10) == NULL);
    g4_sampler_params_default(&q);
    q.min_p = -0.1f;
    CHECK(g4_sampler_params_check(&q, 10, err) == G4_EINVAL && strstr(err, "min_p"));
    g4_sampler_params_default(&q);
    q.repeat_penalty = 0.0f;
    CHECK(g4_sampler_params_check(&q, 10, err) == G4_EINVAL && strstr(err, "repeat_penalty"));
    g4_sampler_params_default(&q);
    q.repeat_last_n = -1;
    CHECK(g4_sampler_params_check(&q, 10, err) == G4_EINVAL && strstr(err, "repeat_last_n"));
    g4_sampler_params_default(&q);
    q.temperature = NAN;
    CHECK(g4_sampler_params_check(&q, 10, err) == G4_EINVAL && strstr(err, "temperature"));
    g4_sampler_params_default(&q);
    q.frequency_penalty = INFINITY;
    CHECK(g4_sampler_params_check(&q, 10, err) == G4_EINVAL && strstr(err, "frequency"));
    CHECK(g4_sampler_params_check(NULL, 10, err) == G4_EINVAL);
    g4_sampler_free(NULL);

    /* Allocation-failure sweep. */
    g4_sampler_params_default(&q);
    g4_alloc_fail_at(-1);
    s = g4_sampler_new(&q, 1000);
    long n_alloc = g4_alloc_fail_at(-1);
    g4_sampler_free(s);
    CHECK(n_alloc >= 2);
    for (long k = 0; k < n_alloc; k++) {
        g4_alloc_fail_at(k);
        s = g4_sampler_new(&q, 1000);
        g4_alloc_fail_at(-1);
        CHECKF(s == NULL, "allocation %ld failing must fail g4_sampler_new", k);
        g4_sampler_free(s);
    }
}

static const tcase *find(const char *name) {
    for (int i = 0; i < n_cases; i++)
        if (strcmp(cases[i].name, name) == 0) return &cases[i];
    return NULL;
}

int main(void) {
    float *all_logits = NULL;
    float *all_probs = NULL;
    if (!load_cases(&all_logits, &all_probs) || n_cases < 20) {
        CHECKF(0, "cannot load " DIR " (%d cases)", n_cases);
        free(all_logits);
        free(all_probs);
        return check_done("sampler");
    }
    int max_vocab = 0;
    for (int i = 0; i < n_cases; i++) max_vocab = G4_MAX(max_vocab, cases[i].n_vocab);
    float *buf = malloc((size_t)max_vocab * sizeof(float));
    for (int i = 0; i < n_cases; i++) test_oracle(&cases[i], buf);
    const char *stat_cases[] = {"gemma_defaults", "t15_minp005", "pres_freq", "flat_t2", "t05_minp01",
                                "ties_k", "all_on"};
    for (size_t i = 0; i < sizeof(stat_cases) / sizeof(stat_cases[0]); i++) {
        const tcase *c = find(stat_cases[i]);
        CHECKF(c != NULL, "case %s", stat_cases[i]);
        if (c) test_stats(c, buf);
    }
    const tcase *c = find("gemma_defaults");
    if (c) {
        test_repro(c, buf);
        test_nan(c, buf);
    }
    if ((c = find("rep13_window"))) test_nan(c, buf);
    test_edges();
    free(buf);
    free(all_logits);
    free(all_probs);
    return check_done("sampler");
}
