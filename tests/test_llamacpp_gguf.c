/* test_llamacpp_gguf.c -- GGUF files written by llama.cpp's own converter load and run in ours.
 *
 * Interop, direction "llama.cpp -> ours" (issue 2).  tools/make_llamacpp_fixtures.py ran llama.cpp's
 * convert_hf_to_gguf.py (from the llama-cpp-python 0.3.36 sdist) on the tiny transformers checkpoints:
 * tiny-c as f32 and bf16, tiny-a (the 12B's layout: K=V full layers, per-layer KV head counts) as q8_0.
 * For each file: g4_model_load must accept it, read the same hyper-parameters as the HF config.json
 * of the checkpoint it came from, keep llama.cpp's weight type, and give transformers' logits (on the
 * GGUF's own dequantized weights; for f32 the checkpoint's expected.bin) for a prefill and 64
 * teacher-forced decode steps within 1e-4 * max|logit|, with the same greedy tokens.  Run twice: one
 * thread in one batch, and two threads with a 7-token batch (chunked prefill).
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>

#include "check.h"
#include "model/ctx.h"
#include "model/model.h"

#define MAX_TOK 256
#define DIR "tests/data/llamacpp/"

static const struct {
    const char *gguf;  /* written by llama.cpp's converter */
    const char *hf;    /* the checkpoint it was converted from */
    const char *ref;   /* expected.json + expected.bin (transformers) */
    g4_type wtype;     /* what llama.cpp stored the matrices as */
} fixtures[] = {
    {DIR "tiny-c-f32.gguf", "tests/data/model/tiny-c", "tests/data/model/tiny-c", G4_TYPE_F32},
    {DIR "tiny-c-bf16.gguf", "tests/data/model/tiny-c", DIR "tiny-c-bf16", G4_TYPE_BF16},
    {DIR "tiny-a-q8_0.gguf", "tests/data/model/tiny-a", DIR "tiny-a-q8_0", G4_TYPE_Q8_0},
};

typedef struct {
    int prompt[MAX_TOK], n_prompt;
    int greedy[MAX_TOK], n_decode;
    int n_vocab;
    float *logits; /* (n_prompt + n_decode) x n_vocab */
} expected;

static int read_ints(cJSON *arr, int *out, int max) {
    int n = cJSON_GetArraySize(arr);
    if (n > max) return -1;
    for (int i = 0; i < n; i++) out[i] = cJSON_GetArrayItem(arr, i)->valueint;
    return n;
}

static int load_expected(const char *dir, expected *e) {
    char p[1024];
    snprintf(p, sizeof p, "%s/expected.json", dir);
    char *js = check_slurp(p, NULL);
    cJSON *j = js ? cJSON_Parse(js) : NULL;
    free(js);
    if (!j) return 0;
    e->n_prompt = read_ints(cJSON_GetObjectItem(j, "prompt"), e->prompt, MAX_TOK);
    e->n_decode = read_ints(cJSON_GetObjectItem(j, "greedy"), e->greedy, MAX_TOK);
    cJSON *nv = cJSON_GetObjectItem(j, "n_vocab");
    e->n_vocab = nv ? nv->valueint : 0;
    cJSON_Delete(j);
    if (e->n_prompt < 1 || e->n_decode < 1 || e->n_vocab < 1) return 0;
    snprintf(p, sizeof p, "%s/expected.bin", dir);
    size_t len;
    e->logits = (float *)check_slurp(p, &len);
    return e->logits && len == (size_t)(e->n_prompt + e->n_decode) * (size_t)e->n_vocab * sizeof(float);
}

/* prefill (all logits), then the reference's greedy tokens one by one; returns all logits */
static float *run(const g4_model *m, const expected *e, int threads, int batch, const char *name) {
    g4_ctx_params p = {.n_ctx = 256, .n_batch = batch, .n_threads = threads};
    g4_ctx *c;
    char err[G4_ERR_LEN];
    if (g4_ctx_new(&c, m, &p, err)) { fprintf(stderr, "%s: %s\n", name, err); return NULL; }
    const int V = e->n_vocab;
    float *out = malloc(sizeof(float) * (size_t)(e->n_prompt + e->n_decode) * V);
    int ok = out && !g4_ctx_eval(c, e->prompt, e->n_prompt, out, 1, err);
    for (int s = 0; ok && s < e->n_decode; s++)
        ok = !g4_ctx_eval(c, &e->greedy[s], 1, out + (int64_t)(e->n_prompt + s) * V, 0, err);
    if (!ok) { fprintf(stderr, "%s: %s\n", name, err); free(out); out = NULL; }
    g4_ctx_free(c);
    return out;
}

/* the hyper-parameters read from llama.cpp's keys equal those of the checkpoint's config.json */
static void check_config(const char *name, const g4_config *a, const g4_config *b) {
#define SAME(f) CHECKF(a->f == b->f, "%s: " #f " %g from the GGUF, %g from config.json", name, (double)a->f, (double)b->f)
    SAME(n_vocab); SAME(d_model); SAME(n_layer); SAME(n_head); SAME(d_ff); SAME(n_kv_swa); SAME(n_kv_full);
    SAME(d_head_swa); SAME(d_head_full); SAME(swa); SAME(k_eq_v); SAME(rope_theta_swa); SAME(rope_theta_full);
    SAME(rope_partial_full); SAME(rms_eps); SAME(final_softcap); SAME(n_ctx_train); SAME(bos_id); SAME(eos_id);
    SAME(pad_id);
#undef SAME
    CHECKF(!memcmp(a->is_full, b->is_full, sizeof a->is_full), "%s: layer types differ", name);
}

static void check_fixture(int i) {
    const char *path = fixtures[i].gguf;
    expected e = {0};
    if (!load_expected(fixtures[i].ref, &e)) {
        CHECKF(0, "%s: cannot read %s/expected.json/bin", path, fixtures[i].ref);
        free(e.logits);
        return;
    }
    g4_model *m = NULL, *hf = NULL;
    char err[G4_ERR_LEN];
    g4_status st = g4_model_load(&m, path, err);
    CHECKF(st == G4_OK, "%s: %s", path, err);
    st = st ? st : g4_model_load(&hf, fixtures[i].hf, err);
    CHECKF(st == G4_OK, "%s: %s", fixtures[i].hf, err);
    if (st) { g4_model_free(m); free(e.logits); return; }
    check_config(path, &m->cfg, &hf->cfg);
    CHECK(m->cfg.n_vocab == e.n_vocab);
    CHECKF(m->w.tok_embd->type == fixtures[i].wtype && m->w.layer[0].ffn_down->type == fixtures[i].wtype,
           "%s: weight type %d, want %d", path, (int)m->w.tok_embd->type, (int)fixtures[i].wtype);
    const int V = e.n_vocab, rows = e.n_prompt + e.n_decode;
    float *a = run(m, &e, 1, 512, path), *b = run(m, &e, 2, 7, path);
    CHECK(a && b);
    if (a && b) {
        double pre = 0, dec = 0, pre_b = 0, dec_b = 0;
        for (int r = 0; r < rows; r++) {
            double ea = check_rel_err(a + (int64_t)r * V, e.logits + (int64_t)r * V, V);
            double eb = check_rel_err(b + (int64_t)r * V, e.logits + (int64_t)r * V, V);
            if (r < e.n_prompt) { pre = fmax(pre, ea); pre_b = fmax(pre_b, eb); }
            else { dec = fmax(dec, ea); dec_b = fmax(dec_b, eb); }
        }
        int greedy_ok = 1;
        for (int s = 0; s < e.n_decode; s++) {
            const int64_t row = e.n_prompt - 1 + s;
            greedy_ok &= check_argmax(a + row * V, V) == e.greedy[s] && check_argmax(b + row * V, V) == e.greedy[s];
        }
        printf("%s: max rel err prefill %.2e, decode %.2e (2 threads, batch 7: %.2e, %.2e), greedy %s\n", path, pre,
               dec, pre_b, dec_b, greedy_ok ? "identical" : "DIFFERENT");
        CHECKF(pre < 1e-4 && pre_b < 1e-4, "%s: prefill rel err %.3e / %.3e", path, pre, pre_b);
        CHECKF(dec < 1e-4 && dec_b < 1e-4, "%s: decode rel err %.3e / %.3e", path, dec, dec_b);
        CHECKF(greedy_ok, "%s: greedy tokens differ from transformers'", path);
    }
    free(a);
    free(b);
    free(e.logits);
    g4_model_free(m);
    g4_model_free(hf);
}

int main(void) {
    for (size_t i = 0; i < sizeof fixtures / sizeof *fixtures; i++) check_fixture((int)i);
    return check_done("llamacpp_gguf");
}
