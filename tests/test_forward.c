/* test_forward.c -- reference parity of the decoder against transformers' fp32 logits.
 *
 * For every fixture made by tools/make_model_fixtures.py (tiny random gemma4_unified
 * checkpoints of the 12B's structure): prefill a prompt 3x the sliding window, then 64 greedy
 * decode steps; every logit must be within 1e-4 * max|logit| of transformers', and our argmax must
 * equal its greedy token.  Repeated with 2 threads and a small batch (chunked prefill), and the
 * same-thread-count runs must be bit-identical.
 */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <math.h>
#include <stdlib.h>

#include "check.h"
#include "model/ctx.h"
#include "model/model.h"

#define MAX_TOK 256

typedef struct {
    int prompt[MAX_TOK], n_prompt;
    int greedy[MAX_TOK], n_decode;
    int n_vocab;
    float *logits; /* (n_prompt + n_decode) x n_vocab */
} expected;

static int load_expected(const char *dir, expected *e) {
    char p[1024];
    snprintf(p, sizeof p, "%s/expected.json", dir);
    char *js = check_slurp(p, NULL);
    if (!js) return 0;
    cJSON *j = cJSON_Parse(js);
    free(js);
    if (!j) return 0;
    cJSON *pr = cJSON_GetObjectItem(j, "prompt"), *gr = cJSON_GetObjectItem(j, "greedy");
    e->n_prompt = cJSON_GetArraySize(pr);
    e->n_decode = cJSON_GetArraySize(gr);
    e->n_vocab = cJSON_GetObjectItem(j, "n_vocab")->valueint;
    for (int i = 0; i < e->n_prompt && i < MAX_TOK; i++) e->prompt[i] = cJSON_GetArrayItem(pr, i)->valueint;
    for (int i = 0; i < e->n_decode && i < MAX_TOK; i++) e->greedy[i] = cJSON_GetArrayItem(gr, i)->valueint;
    cJSON_Delete(j);
    snprintf(p, sizeof p, "%s/expected.bin", dir);
    size_t len;
    e->logits = (float *)check_slurp(p, &len);
    return e->logits && len == (size_t)(e->n_prompt + e->n_decode) * (size_t)e->n_vocab * sizeof(float);
}

/* Runs prefill + greedy decode; returns all logits (caller frees) */
static float *run(const g4_model *m, const expected *e, int threads, int batch, int kv_f16, const char *name) {
    g4_ctx_params p = {.n_ctx = 512, .n_batch = batch, .n_threads = threads, .kv_f16 = kv_f16};
    g4_ctx *c;
    char err[G4_ERR_LEN];
    if (g4_ctx_new(&c, m, &p, err)) { fprintf(stderr, "%s: %s\n", name, err); return NULL; }
    const int V = e->n_vocab;
    float *out = malloc(sizeof(float) * (size_t)(e->n_prompt + e->n_decode) * V);
    int ok = !g4_ctx_eval(c, e->prompt, e->n_prompt, out, 1, err);
    for (int s = 0; ok && s < e->n_decode; s++) {
        /* feed the reference's token so a near-tie can't derail the rest of the comparison */
        int tok = e->greedy[s];
        ok = !g4_ctx_eval(c, &tok, 1, out + (int64_t)(e->n_prompt + s) * V, 0, err);
    }
    if (!ok) { fprintf(stderr, "%s: %s\n", name, err); free(out); out = NULL; }
    g4_ctx_free(c);
    return out;
}

static void check_model(const char *dir) {
    expected e = {0};
    if (!load_expected(dir, &e)) { CHECKF(0, "%s: cannot read expected.json/bin", dir); return; }
    g4_model *m;
    char err[G4_ERR_LEN];
    g4_status st = g4_model_load(&m, dir, err);
    CHECKF(st == G4_OK, "%s: %s", dir, err);
    if (st) { free(e.logits); return; }
    CHECK(m->cfg.n_vocab == e.n_vocab);
    const int V = e.n_vocab;
    float *a = run(m, &e, 1, 512, 0, dir);
    float *b = run(m, &e, 2, 7, 0, dir);
    float *a2 = run(m, &e, 1, 512, 0, dir);
    float *h = run(m, &e, 2, 7, 1, dir); /* K and V kept in f16 */
    CHECK(a && b && a2 && h);
    if (a && h) { /* f16 K/V (2^-11 rounding per value, amplified by 12 random layers): near the reference, and
                   * really not the f32 path */
        double worst = 0;
        for (int r = 0; r < e.n_prompt + e.n_decode; r++)
            worst = fmax(worst, check_rel_err(h + (int64_t)r * V, e.logits + (int64_t)r * V, V));
        const int differs = memcmp(a, h, sizeof(float) * (size_t)(e.n_prompt + e.n_decode) * V) != 0;
        printf("%s: f16 KV cache max rel err %.2e\n", dir, worst);
        CHECKF(worst < 1e-2 && differs, "%s: f16 KV rel err %.3e (differs from f32: %d)", dir, worst, differs);
    }
    if (a && b && a2) {
        double worst_pre = 0, worst_dec = 0;
        int greedy_ok = 1;
        for (int r = 0; r < e.n_prompt + e.n_decode; r++) {
            double er = check_rel_err(a + (int64_t)r * V, e.logits + (int64_t)r * V, V);
            if (r < e.n_prompt) worst_pre = fmax(worst_pre, er); else worst_dec = fmax(worst_dec, er);
            CHECKF(check_rel_err(b + (int64_t)r * V, e.logits + (int64_t)r * V, V) < 1e-4, "%s row %d (2 threads, batch 7)", dir, r);
        }
        /* greedy: our argmax after the prompt and after each decode step equals the reference's choice */
        for (int s = 0; s < e.n_decode; s++) {
            int row = e.n_prompt - 1 + s;
            if (check_argmax(a + (int64_t)row * V, V) != e.greedy[s]) greedy_ok = 0;
        }
        printf("%s: max rel err prefill %.2e, decode %.2e, greedy %s\n", dir, worst_pre, worst_dec,
               greedy_ok ? "identical" : "DIFFERENT");
        CHECKF(worst_pre < 1e-4, "%s: prefill rel err %.3e", dir, worst_pre);
        CHECKF(worst_dec < 1e-4, "%s: decode rel err %.3e", dir, worst_dec);
        CHECKF(greedy_ok, "%s: greedy tokens differ", dir);
        CHECKF(!memcmp(a, a2, sizeof(float) * (size_t)(e.n_prompt + e.n_decode) * V), "%s: run-to-run differs", dir);
    }
    free(a); free(b); free(a2); free(h);
    free(e.logits);
    g4_model_free(m);
}

int main(int argc, char **argv) {
    const char *root = "tests/data/model";
    if (argc > 1) { check_model(argv[1]); return check_done("forward"); }
    DIR *d = opendir(root);
    CHECKF(d != NULL, "no %s", root);
    struct dirent *de;
    int n = 0;
    while (d && (de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        char p[1024];
        snprintf(p, sizeof p, "%s/%s", root, de->d_name);
        check_model(p);
        n++;
    }
    if (d) closedir(d);
    CHECKF(n >= 5, "expected at least 5 model fixtures, found %d", n);
    return check_done("forward");
}
