/* cmd_bench.c -- `gemma4 bench`: llama-bench style pp (prompt) and tg (generation) tokens/s.
 *
 * pp N: one prefill of N tokens into an empty context.  tg N: N single-token decode steps from an
 * empty context.  Each test runs -r times (after a short warm-up); the mean and spread are reported
 * with the weight bytes streamed per generated token and the peak RSS of the process. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "model/ctx.h"
#include "model/gguf.h"
#include "model/model.h"
#include "core/membw.h"
#include "text/tokenizer.h"

static int bench_eval(g4_ctx *c, long depth, int n_prompt, int n_gen, float *logits, int n_vocab, double *secs) {
    char err[G4_ERR_LEN];
    int *ids = malloc(sizeof(int) * (size_t)(n_prompt > 0 ? n_prompt : 1));
    if (!ids) return 0;
    uint64_t s = 0x9E3779B97F4A7C15ull;
    for (int i = 0; i < n_prompt; i++) { s = s * 6364136223846793005ull + 1442695040888963407ull; ids[i] = (int)((s >> 33) % (uint64_t)n_vocab); }
    g4_ctx_reset(c);
    if (depth > 0 && g4_ctx_fill_synthetic(c, depth, err)) {
        fprintf(stderr, "error: %s\n", err);
        free(ids);
        return 0;
    }
    double t0 = cli_now();
    int ok = 1;
    if (n_prompt > 0) ok = !g4_ctx_eval(c, ids, n_prompt, logits, 0, err);
    for (int i = 0; ok && i < n_gen; i++) {
        int tok = (int)((unsigned)(i * 7919 + 13) % (unsigned)n_vocab);
        ok = !g4_ctx_eval(c, &tok, 1, logits, 0, err);
    }
    *secs = cli_now() - t0;
    if (!ok) fprintf(stderr, "error: %s\n", err);
    free(ids);
    return ok;
}

/* Multimodal: embedding time and prefill time of a 280-token image (a 14 x 20 patch grid of
 * pseudo-random pixels) and a 30 s clip (750 frames of a tone), each as a block into an empty context. */
static int bench_media(g4_ctx *c, const g4_model *m, long reps) {
    char err[G4_ERR_LEN];
    const int d = m->cfg.d_model;
    for (int kind = 0; kind < 2; kind++) {
        if (kind == 0 ? !m->w.has_vision : !m->w.has_audio) continue;
        const int n = kind == 0 ? 280 : 750, width = kind == 0 ? 6912 : 640;
        float *in = malloc(sizeof(float) * (size_t)n * (size_t)width), *e = malloc(sizeof(float) * (size_t)n * (size_t)d);
        int *pos = malloc(sizeof(int) * 2 * (size_t)n);
        if (!in || !e || !pos) { free(in); free(e); free(pos); return 0; }
        uint64_t s = 1;
        for (size_t i = 0; i < (size_t)n * (size_t)width; i++) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            in[i] = kind == 0 ? (float)((s >> 33) % 256) / 255.0f : 0.3f * sinf((float)i * 0.1727f);
        }
        for (int i = 0; i < n; i++) pos[2 * i] = i % 20, pos[2 * i + 1] = i / 20;
        double te = 0, tp = 0;
        int ok = 1;
        for (long r = 0; r <= reps && ok; r++) { /* r == 0: warm-up */
            g4_ctx_reset(c);
            double t0 = cli_now();
            ok = !(kind == 0 ? g4_ctx_embed_image(c, in, pos, n, e, err) : g4_ctx_embed_audio(c, in, n, e, err));
            double t1 = cli_now();
            /* the warm-up (r == 0) pages the weights in with a few rows only */
            ok = ok && !g4_ctx_eval_embd(c, e, r ? n : 8, kind == 0, NULL, 0, err);
            if (r) te += t1 - t0, tp += cli_now() - t1;
        }
        if (!ok) fprintf(stderr, "error: %s\n", err);
        else
            printf("| %s | %d soft tokens | embed %.1f ms | prefill %.1f ms (%.1f t/s) |\n",
                   kind == 0 ? "image (280-token budget)" : "audio (30 s clip)", n, 1e3 * te / (double)reps,
                   1e3 * tp / (double)reps, n * (double)reps / tp);
        free(in);
        free(e);
        free(pos);
        if (!ok) return 0;
    }
    return 1;
}

/* One encode + decode of text; prints MB/s.  Returns 0 on error. */
static int bench_text(const g4_tokenizer *t, const char *what, const char *text, size_t len) {
    char err[G4_ERR_LEN];
    int *ids = NULL, n = 0;
    double t0 = cli_now();
    if (g4_tokenizer_encode(t, text, len, &ids, &n, 1, err)) { fprintf(stderr, "error: %s\n", err); return 0; }
    double t_enc = cli_now() - t0;
    char *out = NULL;
    size_t out_len = 0;
    t0 = cli_now();
    g4_status st = g4_tokenizer_decode(t, ids, n, 0, &out, &out_len, err);
    double t_dec = cli_now() - t0;
    if (st) { fprintf(stderr, "error: %s\n", err); g4_free(ids); return 0; }
    printf("| %s | %.2f MiB | %d tokens | encode %.2f MB/s | decode %.2f MB/s |\n", what, (double)len / 1048576.0, n,
           (double)len / 1e6 / t_enc, (double)out_len / 1e6 / t_dec);
    g4_free(ids);
    g4_free(out);
    return 1;
}

/* `gemma4 bench --tokenizer FILE [--text FILE]`: load time and encode/decode speed of a tokenizer
 * (tokenizer.json or a GGUF's vocabulary) on a text file, or on 1 MiB of mixed text and 1 MiB of one
 * repeated character (which must not go quadratic). */
static int bench_tokenizer(const char *path, const char *text_path) {
    char err[G4_ERR_LEN];
    g4_tokenizer *t = NULL;
    g4_gguf *f = NULL;
    double t0 = cli_now();
    size_t pl = strlen(path);
    g4_status st = pl > 5 && !strcmp(path + pl - 5, ".gguf")
                       ? (g4_gguf_open(&f, path, err) ? G4_EIO : g4_tokenizer_load_gguf(&t, f, err))
                       : g4_tokenizer_load_hf(&t, path, err);
    if (st) { fprintf(stderr, "error: %s\n", err); g4_gguf_close(f); return 1; }
    printf("tokenizer %s: %d ids, loaded in %.2f s\n", path, g4_tokenizer_n_vocab(t), cli_now() - t0);
    int ok = 1;
    if (text_path) {
        FILE *fp = fopen(text_path, "rb");
        char *text = fp ? cli_read_all(fp, 1u << 30) : NULL;
        if (fp) fclose(fp);
        if (!text) { fprintf(stderr, "error: %s: cannot read the text\n", text_path); ok = 0; }
        else { ok = bench_text(t, text_path, text, strlen(text)); free(text); }
    } else {
        const size_t n = 1u << 20;
        static const char sample[] = "The quick brown fox jumps over the lazy dog. 1234567890 caf\xc3\xa9 "
                                     "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \xf0\x9f\x98\x80\n"
                                     "def f(x):\n    return x * 2  # code\n\n";
        char *text = malloc(n + 1);
        if (!text) { g4_tokenizer_free(t); g4_gguf_close(f); return 1; }
        for (size_t i = 0; i < n; i++) text[i] = sample[i % (sizeof sample - 1)];
        size_t cut = n; /* don't end inside a UTF-8 character */
        while (cut > 0 && ((unsigned char)text[cut - 1] & 0xC0) == 0x80) cut--;
        if (cut > 0 && ((unsigned char)text[cut - 1] & 0x80)) cut--;
        ok = bench_text(t, "1 MiB mixed text", text, cut);
        memset(text, 'a', n);
        ok = ok && bench_text(t, "1 MiB of 'a'", text, n);
        free(text);
    }
    g4_tokenizer_free(t);
    g4_gguf_close(f);
    return ok ? 0 : 1;
}

int cmd_bench(int argc, char **argv) {
    const char *path = NULL, *tok_path = NULL, *text_path = NULL, *mmproj = NULL;
    int media = 0, membw = 0, kv_f16 = 0, q8_act = 0;
    long n_prompt = 512, n_gen = 128, threads = 2, reps = 3, depth = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            printf("usage: gemma4 bench -m MODEL [-p 512] [-n 128] [-t THREADS] [-r REPS] [--membw] [--kv-type f16] [--q8-act]\n"
                   "                    [-d DEPTH]   (tests start after DEPTH positions of synthetic K/V, not a real prefill)\n"
                   "       gemma4 bench --membw [-t THREADS]   (memory read bandwidth: the decode ceiling)\n"
                   "       gemma4 bench -m MODEL [--mmproj FILE] --media   (280-token image, 30 s audio)\n"
                   "       gemma4 bench --tokenizer tokenizer.json|FILE.gguf [--text FILE]\n");
            return 0;
        } else if (!strcmp(a, "-m") && v) { path = v; i++; }
        else if (!strcmp(a, "--tokenizer") && v) { tok_path = v; i++; }
        else if (!strcmp(a, "--text") && v) { text_path = v; i++; }
        else if (!strcmp(a, "--mmproj") && v) { mmproj = v; i++; }
        else if (!strcmp(a, "--media")) media = 1;
        else if (!strcmp(a, "--membw")) membw = 1;
        else if (!strcmp(a, "-p")) { if (!cli_int(a, v, 0, 1 << 20, &n_prompt)) return 2; i++; }
        else if (!strcmp(a, "-n")) { if (!cli_int(a, v, 0, 1 << 20, &n_gen)) return 2; i++; }
        else if (!strcmp(a, "-t")) { if (!cli_int(a, v, 1, 1024, &threads)) return 2; i++; }
        else if (!strcmp(a, "--kv-type")) { if (!cli_kv_type(v, &kv_f16)) return 2; i++; }
        else if (!strcmp(a, "--q8-act")) q8_act = 1;
        else if (!strcmp(a, "-d") || !strcmp(a, "--depth")) { if (!cli_int(a, v, 0, 1 << 24, &depth)) return 2; i++; }
        else if (!strcmp(a, "-r")) { if (!cli_int(a, v, 1, 1000, &reps)) return 2; i++; }
        else { fprintf(stderr, "error: unknown or incomplete option '%s'\n", a); return 2; }
    }
    if (tok_path) return bench_tokenizer(tok_path, text_path);
    char err[G4_ERR_LEN];
    double bw = 0;
    if (membw) {
        if (g4_membw_read((int)threads, (size_t)1 << 30, 5, &bw, err)) { fprintf(stderr, "error: %s\n", err); return 1; }
        printf("memory read bandwidth: %.1f GB/s (%ld threads, 1 GiB buffer, best of 5)\n", bw, threads);
        if (!path) return 0;
    }
    if (!path) { fprintf(stderr, "error: no model given (-m PATH)\nusage: gemma4 bench -m MODEL [-p 512] [-n 128] [-t THREADS] [-r REPS]\n"); return 2; }
    g4_model *m;
    if (g4_model_load_mm(&m, path, mmproj, err)) { fprintf(stderr, "error: %s\n", err); return 1; }
    if (q8_act && g4_model_pack_q8(m, err)) { fprintf(stderr, "error: %s\n", err); g4_model_free(m); return 1; }
    const g4_config *cf = &m->cfg;
    if (media && !m->w.has_vision && !m->w.has_audio) {
        fprintf(stderr, "error: %s has no vision or audio embedder (--mmproj FILE)\n", path);
        g4_model_free(m);
        return 1;
    }
    long n_ctx = media ? 751 : depth + G4_MAX(n_prompt, n_gen) + 1;
    g4_ctx_params cp = {.n_ctx = (int)G4_MIN(n_ctx, cf->n_ctx_train), .n_batch = media ? 750 : 512, .n_threads = (int)threads,
                        .kv_f16 = kv_f16, .q8_act = q8_act};
    g4_ctx *c;
    if (g4_ctx_new(&c, m, &cp, err)) { fprintf(stderr, "error: %s\n", err); g4_model_free(m); return 1; }
    float *logits = malloc(sizeof(float) * (size_t)cf->n_vocab);
    const double gib = (double)g4_model_weight_bytes(m) / (1024.0 * 1024 * 1024);
    int rc = 0;
    if (media) {
        printf("| input | tokens | embedding | prefill |\n|---|---|---|---|\n");
        rc = !bench_media(c, m, reps);
        printf("peak RSS %.1f MiB\n", cli_peak_rss_mb());
        free(logits);
        g4_ctx_free(c);
        g4_model_free(m);
        return rc;
    }
    printf("| model | size | threads | test | t/s | \n|---|---|---|---|---|\n");
    for (int test = 0; test < 2 && logits; test++) {
        const int np = test == 0 ? (int)n_prompt : 0, ng = test == 0 ? 0 : (int)n_gen;
        if (np + ng == 0) continue;
        double warm, sum = 0, sum2 = 0;
        /* a short warm-up pages the weights in and starts the threads */
        if (!bench_eval(c, depth, G4_MIN(np, 8), G4_MIN(ng, 2), logits, cf->n_vocab, &warm)) { rc = 1; break; }
        for (long r = 0; r < reps; r++) {
            double s;
            if (!bench_eval(c, depth, np, ng, logits, cf->n_vocab, &s)) { rc = 1; break; }
            double tps = (np + ng) / s;
            sum += tps;
            sum2 += tps * tps;
        }
        double mean = sum / (double)reps, sd = sqrt(fmax(0, sum2 / (double)reps - mean * mean));
        char dtag[32] = "";
        if (depth > 0) snprintf(dtag, sizeof dtag, " @ d%ld", depth);
        printf("| %s | %.2f GiB | %ld | %s%d%s | %.2f ± %.2f |\n", path, gib, threads, test == 0 ? "pp" : "tg",
               np + ng, dtag, mean, sd);
        if (test == 1)
            printf("(tg streams %.2f GiB of weights per token: %.1f GB/s effective)\n", gib,
                   gib * 1.073741824 * mean);
        if (test == 1 && bw > 0)
            printf("(ceiling at %.1f GB/s: %.2f t/s; tg reached %.0f %% of it)\n", bw, bw / (gib * 1.073741824),
                   100 * mean * gib * 1.073741824 / bw);
    }
    printf("peak RSS %.1f MiB\n", cli_peak_rss_mb());
    free(logits);
    g4_ctx_free(c);
    g4_model_free(m);
    return rc;
}
