/* test_convert.c -- GGUF conversion and quantized weights against the reference.
 *
 *  1. An F32 (BF16, F16) GGUF written by convert gives bit-identical logits to the HF directory it
 *     came from (same kernels on the same weights).
 *  2. Q8_0 / Q4_0 / Q4_K+Q6_K models: our quantized kernels equal a dequantize-then-F32 model (the
 *     same file re-written as f32) within 1e-4 of max|logit|.
 *  3. Q8_0 / Q4_0 of tiny-a: top-1 agreement and KL divergence against transformers' unquantized
 *     logits are reported, with loose floors that a broken quantizer would miss.
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "check.h"
#include "core/quant.h"
#include "model/convert.h"
#include "model/ctx.h"
#include "model/model.h"

#define TMP "tests/tmp"

/* prompt and greedy tokens of a fixture; returns the number of prompt tokens */
static int read_fixture(const char *dir, int *ids, int *n_decode, int *greedy, int *vocab) {
    char p[512];
    snprintf(p, sizeof p, "%s/expected.json", dir);
    FILE *f = fopen(p, "rb");
    if (!f) return 0;
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    cJSON *j = cJSON_Parse(buf);
    if (!j) return 0;
    cJSON *pr = cJSON_GetObjectItem(j, "prompt"), *gr = cJSON_GetObjectItem(j, "greedy");
    int np = cJSON_GetArraySize(pr);
    *n_decode = cJSON_GetArraySize(gr);
    for (int i = 0; i < np; i++) ids[i] = cJSON_GetArrayItem(pr, i)->valueint;
    for (int i = 0; i < *n_decode; i++) greedy[i] = cJSON_GetArrayItem(gr, i)->valueint;
    *vocab = cJSON_GetObjectItem(j, "n_vocab")->valueint;
    cJSON_Delete(j);
    return np;
}

static int g_q8_act; /* contexts use 8-bit activations (g4_ctx_params.q8_act) */
static int g_pack;   /* models get g4_model_pack_q8 */
static int g_packed; /* tensors the last run() found packed */
static int g_threads = 1;

/* prefill ids[0..np) with all logits, then decode the `dec` tokens one by one (last-token logits);
 * returns (np + n_dec) x vocab logits */
static float *run(const char *path, const int *ids, int np, const int *dec, int n_dec) {
    g4_model *m;
    g4_ctx *c;
    char err[G4_ERR_LEN];
    if (g4_model_load(&m, path, err)) { fprintf(stderr, "%s\n", err); return NULL; }
    if (g_pack && g4_model_pack_q8(m, err)) { fprintf(stderr, "%s\n", err); g4_model_free(m); return NULL; }
    g_packed = 0;
    for (int i = 0; i < m->n_tensors; i++) g_packed += m->tensors[i].packed != NULL;
    g4_ctx_params cp = {.n_ctx = 256, .n_batch = 64, .n_threads = g_threads, .q8_act = g_q8_act};
    if (g4_ctx_new(&c, m, &cp, err)) { fprintf(stderr, "%s\n", err); g4_model_free(m); return NULL; }
    const int V = m->cfg.n_vocab;
    float *out = malloc(sizeof(float) * (size_t)(np + n_dec) * V);
    int ok = !g4_ctx_eval(c, ids, np, out, 1, err);
    for (int s = 0; ok && s < n_dec; s++) ok = !g4_ctx_eval(c, &dec[s], 1, out + (int64_t)(np + s) * V, 0, err);
    if (!ok) { fprintf(stderr, "%s: %s\n", path, err); free(out); out = NULL; }
    g4_ctx_free(c);
    g4_model_free(m);
    return out;
}

static int convert(const char *in, const char *out, int type) {
    g4_model *m;
    char err[G4_ERR_LEN];
    if (g4_model_load(&m, in, err)) { fprintf(stderr, "%s\n", err); return 0; }
    g4_status st = g4_model_write_gguf(m, out, type, err);
    if (st) fprintf(stderr, "%s\n", err);
    g4_model_free(m);
    return st == G4_OK;
}

static void softmax(const float *x, double *p, int n) {
    double mx = -INFINITY, s = 0;
    for (int i = 0; i < n; i++) mx = fmax(mx, x[i]);
    for (int i = 0; i < n; i++) s += p[i] = exp((double)x[i] - mx);
    for (int i = 0; i < n; i++) p[i] /= s;
}

static float *read_expected(const char *dir, int64_t n) {
    char p[512];
    snprintf(p, sizeof p, "%s/expected.bin", dir);
    FILE *f = fopen(p, "rb");
    if (!f) return NULL;
    float *x = malloc(sizeof(float) * (size_t)n);
    if (fread(x, sizeof(float), (size_t)n, f) != (size_t)n) { free(x); x = NULL; }
    fclose(f);
    return x;
}

static int ids[256], greedy[256];

/* 1: HF dir vs its GGUF, bitwise */
static void check_bit_identical(const char *dir, const char *type_name, int type) {
    int nd, V;
    int np = read_fixture(dir, ids, &nd, greedy, &V);
    CHECKF(np > 0, "%s: no fixture", dir);
    char out[512];
    snprintf(out, sizeof out, TMP "/conv-%s.gguf", type_name);
    CHECK(convert(dir, out, type));
    float *a = run(dir, ids, np, greedy, 8), *b = run(out, ids, np, greedy, 8);
    CHECK(a && b);
    if (a && b) {
        int same = !memcmp(a, b, sizeof(float) * (size_t)(np + 8) * V);
        printf("%s -> %s GGUF: logits %s\n", dir, type_name, same ? "bit-identical" : "DIFFER");
        CHECKF(same, "%s: %s GGUF logits differ from the HF directory", dir, type_name);
    }
    free(a); free(b);
}

/* 2: quantized kernels vs dequantize-then-f32 */
static void check_vs_dequant(const char *qpath, const int *pids, int np, const int *dec, int nd, int V, const char *what) {
    char deq[512];
    const char *base = strrchr(qpath, '/');
    snprintf(deq, sizeof deq, TMP "/%s.f32.gguf", base ? base + 1 : qpath);
    CHECK(convert(qpath, deq, G4_TYPE_F32));
    float *q = run(qpath, pids, np, dec, nd), *f = run(deq, pids, np, dec, nd);
    CHECK(q && f);
    if (q && f) {
        double worst = 0;
        for (int r = 0; r < np + nd; r++) worst = fmax(worst, check_rel_err(q + (int64_t)r * V, f + (int64_t)r * V, V));
        printf("%s: quantized kernels vs dequantized f32: max rel err %.2e\n", what, worst);
        CHECKF(worst < 1e-4, "%s: quantized vs dequantized rel err %.3e", what, worst);
    }
    free(q); free(f);
}

/* 3: agreement with transformers' unquantized logits */
static void report_vs_reference(const char *dir, const char *qpath, const char *what, double min_top1, double max_kl) {
    int nd, V;
    int np = read_fixture(dir, ids, &nd, greedy, &V);
    float *q = run(qpath, ids, np, greedy, nd);
    float *ref = read_expected(dir, (int64_t)(np + nd) * V);
    CHECK(q && ref);
    if (q && ref) {
        double *p = malloc(sizeof(double) * V), *pq = malloc(sizeof(double) * V), kl = 0;
        int agree = 0, rows = np + nd;
        for (int r = 0; r < rows; r++) {
            softmax(ref + (int64_t)r * V, p, V);
            softmax(q + (int64_t)r * V, pq, V);
            double k = 0;
            for (int i = 0; i < V; i++) if (p[i] > 0) k += p[i] * log(p[i] / fmax(pq[i], 1e-300));
            kl += k;
            agree += check_argmax(ref + (int64_t)r * V, V) == check_argmax(q + (int64_t)r * V, V);
        }
        printf("%s vs transformers (unquantized): top-1 agreement %.3f, mean KL %.2e over %d positions\n", what,
               (double)agree / rows, kl / rows, rows);
        CHECKF((double)agree / rows >= min_top1, "%s: top-1 agreement %.3f < %.3f", what, (double)agree / rows, min_top1);
        CHECKF(kl / rows <= max_kl, "%s: mean KL %.3e > %.3e", what, kl / rows, max_kl);
        free(p); free(pq);
    }
    free(q); free(ref);
}

/* What the GGUF keeps of the config beyond llama.cpp's keys: every end id and the image budget. */
static void check_metadata_roundtrip(void) {
    g4_model *m, *g;
    char err[G4_ERR_LEN];
    if (g4_model_load(&m, "tests/data/model/tiny-a", err)) { CHECKF(0, "%s", err); return; }
    CHECK(m->cfg.image_tokens == 0); /* no processor_config.json there */
    m->cfg.image_tokens = 140;
    m->cfg.n_eos = 2, m->cfg.eos_ids[0] = 7, m->cfg.eos_ids[1] = 300;
    CHECKF(g4_model_write_gguf(m, TMP "/meta.gguf", G4_TYPE_F32, err) == G4_OK, "%s", err);
    g4_model_free(m);
    if (g4_model_load(&g, TMP "/meta.gguf", err)) { CHECKF(0, "%s", err); return; }
    CHECK(g->cfg.image_tokens == 140 && g4_config_image_tokens(&g->cfg) == 140);
    CHECK(g->cfg.n_eos == 2 && g->cfg.eos_ids[0] == 7 && g->cfg.eos_ids[1] == 300);
    g4_model_free(g);
}

int main(void) {
    mkdir(TMP, 0755);
    check_metadata_roundtrip();
    check_bit_identical("tests/data/model/tiny-a", "f32", G4_TYPE_F32);
    check_bit_identical("tests/data/model/tiny-b", "f32b", G4_TYPE_F32);
    check_bit_identical("tests/data/model/tiny-a-bf16", "bf16", G4_TYPE_BF16);
    check_bit_identical("tests/data/model/tiny-a-f16", "f16", G4_TYPE_F16);

    const char *dir = "tests/data/model/tiny-a";
    int nd, V;
    int np = read_fixture(dir, ids, &nd, greedy, &V);
    CHECK(convert(dir, TMP "/tiny-a-q8_0.gguf", G4_TYPE_Q8_0));
    CHECK(convert(dir, TMP "/tiny-a-q4_0.gguf", G4_TYPE_Q4_0));
    /* quantize from a quantized file too (q8_0 -> q4_0 goes through f32) */
    CHECK(convert(TMP "/tiny-a-q8_0.gguf", TMP "/tiny-a-q8-q4_0.gguf", G4_TYPE_Q4_0));
    check_vs_dequant(TMP "/tiny-a-q8_0.gguf", ids, np, greedy, nd, V, "tiny-a q8_0");
    check_vs_dequant(TMP "/tiny-a-q4_0.gguf", ids, np, greedy, nd, V, "tiny-a q4_0");
    int kids[40], kdec[16];
    for (int i = 0; i < 40; i++) kids[i] = (i * 37 + 11) % 512;
    for (int i = 0; i < 16; i++) kdec[i] = (i * 101 + 5) % 512;
    check_vs_dequant("tests/data/kquant/tiny-q4_k_m.gguf", kids, 40, kdec, 16, 512, "random q4_K/q6_K");
    report_vs_reference(dir, TMP "/tiny-a-q8_0.gguf", "tiny-a q8_0", 0.90, 0.1);
    report_vs_reference(dir, TMP "/tiny-a-q4_0.gguf", "tiny-a q4_0", 0.60, 2.5);
    /* 8-bit activations (--q8-act): decode steps move by the activations' rounding, and must still meet the
     * same bar against transformers as the exact path */
    g_q8_act = 1;
    report_vs_reference(dir, TMP "/tiny-a-q8_0.gguf", "tiny-a q8_0 --q8-act", 0.90, 0.1);
    report_vs_reference(dir, TMP "/tiny-a-q4_0.gguf", "tiny-a q4_0 --q8-act", 0.60, 2.5);
    /* with the q4_0 matrices packed 8 rows at a time, prefill goes through the integer kernels too */
    g_pack = 1;
    report_vs_reference(dir, TMP "/tiny-a-q4_0.gguf", "tiny-a q4_0 --q8-act, packed", 0.60, 2.5);
    CHECKF(g_packed > 0, "no q4_0 matrix was packed");
    printf("tiny-a q4_0: %d matrices packed\n", g_packed);
    report_vs_reference(dir, TMP "/tiny-a-q8_0.gguf", "tiny-a q8_0 --q8-act, packed", 0.90, 0.1);
    CHECKF(g_packed > 0, "no q8_0 matrix was packed");
    {   /* the packed integer path does not depend on the thread count (a row group is one thread's) */
        float *one = run(TMP "/tiny-a-q4_0.gguf", ids, np, greedy, nd);
        g_threads = 3;
        float *three = run(TMP "/tiny-a-q4_0.gguf", ids, np, greedy, nd);
        g_threads = 1;
        CHECKF(one && three && !memcmp(one, three, sizeof(float) * (size_t)(np + nd) * V),
               "q4_0 --q8-act packed: 1 and 3 threads differ");
        free(one), free(three);
    }
    /* packing alone changes nothing on the exact path */
    g_q8_act = 0;
    float *a = run(TMP "/tiny-a-q4_0.gguf", ids, np, greedy, nd);
    g_pack = 0;
    float *b = run(TMP "/tiny-a-q4_0.gguf", ids, np, greedy, nd);
    CHECK(a && b && !memcmp(a, b, sizeof(float) * (size_t)(np + nd) * V));
    free(a), free(b);
    {   /* Q4_K_M with --q8-act: q4_K matrices packed 8 rows at a time (x8 kernel), q6_K through the per-row
         * integer kernel.  One-token steps give the same sums packed or not (the per-row q4_K kernel then), up
         * to the order of float additions; the packed path does not depend on the thread count.  (Against the
         * exact path this random-weight file moves by the activations' rounding, amplified layer by layer.) */
        const char *kq = "tests/data/kquant/tiny-q4_k_m.gguf";
        g_q8_act = 1, g_pack = 1, g_threads = 1;
        float *p1 = run(kq, kids, 1, kdec, 16);
        const int packed = g_packed;
        g_threads = 3;
        float *p3 = run(kq, kids, 1, kdec, 16);
        float *big1 = run(kq, kids, 40, kdec, 16);
        g_threads = 1;
        float *big3 = run(kq, kids, 40, kdec, 16);
        g_pack = 0;
        float *u = run(kq, kids, 1, kdec, 16);
        g_q8_act = 0;
        CHECKF(packed > 0, "Q4_K_M --q8-act: no q4_K matrix was packed");
        CHECK(p1 && p3 && u && big1 && big3);
        if (p1 && p3 && u && big1 && big3) {
            double worst = 0;
            for (int r = 0; r < 17; r++) worst = fmax(worst, check_rel_err(p1 + (int64_t)r * 512, u + (int64_t)r * 512, 512));
            printf("Q4_K_M --q8-act, %d matrices packed: one-token steps packed vs per-row, max rel err %.2e\n", packed, worst);
            CHECKF(worst < 1e-4, "Q4_K_M --q8-act: packed vs per-row integer kernels, rel err %.3e", worst);
            CHECKF(!memcmp(p1, p3, sizeof(float) * 17 * 512) && !memcmp(big1, big3, sizeof(float) * 56 * 512),
                   "Q4_K_M --q8-act packed: 1 and 3 threads differ");
        }
        free(p1), free(p3), free(u), free(big1), free(big3);
    }
    return check_done("convert");
}
