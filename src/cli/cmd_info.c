/* cmd_info.c -- `gemma4 info FILE`: what a model file holds and what it needs to run.
 *
 * Any GGUF (text model, mmproj, drafter) lists its keys and tensors; a gemma4 model (GGUF or HF
 * directory) also shows its hyper-parameters, bytes used in place vs converted at load, and the
 * memory a context of -c tokens needs. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "core/quant.h"
#include "model/ctx.h"
#include "model/gguf.h"
#include "model/model.h"

static double mib(size_t b) { return (double)b / (1024.0 * 1024.0); }

static void print_value(const g4_gguf *f, const char *key, g4_gguf_vtype t) {
    if (t == G4_GGUF_STRING) {
        const char *s; size_t n;
        g4_gguf_get_str(f, key, &s, &n);
        printf("\"%.*s%s\"", (int)(n > 60 ? 60 : n), s, n > 60 ? "..." : "");
    } else if (t == G4_GGUF_ARRAY) {
        g4_gguf_vtype et; uint64_t n; const void *d;
        g4_gguf_get_arr(f, key, &et, &n, &d);
        printf("[%llu x type %d]", (unsigned long long)n, (int)et);
        if (et != G4_GGUF_STRING && n <= 16) {
            printf(" =");
            for (uint64_t i = 0; i < n; i++) {
                int64_t iv; float fv;
                if (et == G4_GGUF_FLOAT32 || et == G4_GGUF_FLOAT64) { g4_gguf_arr_f32(f, key, i, &fv); printf(" %g", fv); }
                else if (g4_gguf_arr_i64(f, key, i, &iv)) printf(" %lld", (long long)iv);
            }
        }
    } else if (t == G4_GGUF_FLOAT32 || t == G4_GGUF_FLOAT64) {
        float v; g4_gguf_get_f32(f, key, &v); printf("%g", v);
    } else if (t == G4_GGUF_BOOL) {
        bool v; g4_gguf_get_bool(f, key, &v); printf("%s", v ? "true" : "false");
    } else {
        int64_t v;
        if (g4_gguf_get_i64(f, key, &v)) printf("%lld", (long long)v);
        else printf("(uint64 above 2^63)"); /* the only integer get_i64 refuses */
    }
}

static void print_gguf(const g4_gguf *f, int all_tensors) {
    printf("GGUF v%u, %.1f MiB, %lld keys, %lld tensors\n", g4_gguf_version(f), mib(g4_gguf_file_size(f)),
           (long long)g4_gguf_n_kv(f), (long long)g4_gguf_n_tensors(f));
    for (int64_t i = 0; i < g4_gguf_n_kv(f); i++) {
        const char *k = g4_gguf_kv_key(f, i);
        printf("  %-48s ", k);
        print_value(f, k, g4_gguf_kv_type(f, i));
        printf("\n");
    }
    size_t by_type[G4_TYPE_COUNT] = {0};
    int cnt[G4_TYPE_COUNT] = {0};
    for (int64_t i = 0; i < g4_gguf_n_tensors(f); i++) {
        const g4_tensor *t = g4_gguf_tensor(f, i);
        by_type[t->type] += t->nbytes;
        cnt[t->type]++;
        if (all_tensors || i < 24)
            printf("  %-40s %-5s [%lld, %lld, %lld, %lld] %.2f MiB\n", t->name, g4_type_get(t->type)->name,
                   (long long)t->ne[0], (long long)t->ne[1], (long long)t->ne[2], (long long)t->ne[3], mib(t->nbytes));
    }
    if (!all_tensors && g4_gguf_n_tensors(f) > 24) printf("  ... (--tensors lists all)\n");
    printf("tensor types:");
    for (int t = 0; t < G4_TYPE_COUNT; t++)
        if (cnt[t]) printf(" %s: %d (%.1f MiB)", g4_type_get(t)->name, cnt[t], mib(by_type[t]));
    printf("\n");
}

int cmd_info(int argc, char **argv) {
    const char *path = NULL;
    long n_ctx = 8192;
    int all = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            printf("usage: gemma4 info FILE|HF_DIR [-c CTX] [--tensors]\n");
            return 0;
        } else if (!strcmp(argv[i], "-c")) {
            if (!cli_int("-c", i + 1 < argc ? argv[i + 1] : NULL, 1, 1 << 24, &n_ctx)) return 2;
            i++;
        } else if (!strcmp(argv[i], "--tensors")) all = 1;
        else if (!path && argv[i][0] != '-') path = argv[i];
        else { fprintf(stderr, "error: unexpected argument '%s'\n", argv[i]); return 2; }
    }
    if (!path) { fprintf(stderr, "error: info: no model file given\nusage: gemma4 info FILE|HF_DIR [-c CTX] [--tensors]\n"); return 2; }
    char err[G4_ERR_LEN];
    struct stat sb;
    int is_gemma4 = 1;
    if (stat(path, &sb) == 0 && !S_ISDIR(sb.st_mode)) {
        g4_gguf *f;
        if (g4_gguf_open(&f, path, err)) { fprintf(stderr, "error: %s\n", err); return 1; }
        printf("%s\n", path);
        print_gguf(f, all);
        const char *arch; size_t al;
        is_gemma4 = g4_gguf_get_str(f, "general.architecture", &arch, &al) && al == 6 &&
                    (!memcmp(arch, "gemma4", 6) || !memcmp(arch, "gemma3", 6));
        g4_gguf_close(f);
    }
    if (!is_gemma4) return 0; /* mmproj / drafter: listing only */
    g4_model *m;
    if (g4_model_load(&m, path, err)) { fprintf(stderr, "error: %s\n", err); return 1; }
    const g4_config *c = &m->cfg;
    int n_full = 0;
    for (int l = 0; l < c->n_layer; l++) n_full += c->is_full[l];
    printf("model: %s (%s)\n", c->arch == G4_ARCH_GEMMA3 ? "gemma3" : "gemma4",
           m->source == G4_SRC_HF ? "Hugging Face directory" : "GGUF");
    printf("  vocab %d, d_model %d, layers %d (%d sliding, %d full), heads %d, kv heads %d sliding / %d full\n",
           c->n_vocab, c->d_model, c->n_layer, c->n_layer - n_full, n_full, c->n_head, c->n_kv_swa, c->n_kv_full);
    printf("  head dim %d sliding / %d full, d_ff %d, window %d, k_eq_v %s\n", c->d_head_swa, c->d_head_full, c->d_ff,
           c->swa, c->k_eq_v ? "yes" : "no");
    printf("  rope theta %g sliding / %g full (rotating %d of %d dims), rms eps %g, softcap %g, context %d\n",
           c->rope_theta_swa, c->rope_theta_full, g4_rope_dims_full(c), c->d_head_full, c->rms_eps, c->final_softcap,
           c->n_ctx_train);
    if (m->w.has_vision)
        printf("  vision embedder: 48-px patches (6912) -> %d, %d x 2 position table, -> %d (bidirectional image blocks: %s)\n",
               c->mm_dim, c->posemb_size, c->d_model, c->bidir_vision ? "yes" : "no");
    if (m->w.has_vision)
        printf("  images: %d soft tokens by default (%s)\n", g4_config_image_tokens(c),
               c->image_tokens ? "the model's processor setting" : "the processor's default");
    if (m->w.has_audio) printf("  audio projection: %d-sample frames (40 ms at 16 kHz) -> %d\n", c->audio_dim, c->d_model);
    if (!m->w.has_vision && !m->w.has_audio && c->arch == G4_ARCH_GEMMA4)
        printf("  text only here (a llama.cpp GGUF keeps the vision/audio embedders in an mmproj file: --mmproj)\n");
    const size_t wb = g4_model_weight_bytes(m), kv = g4_ctx_kv_bytes(c, (int)G4_MIN(n_ctx, c->n_ctx_train), 512, 0),
                 kv16 = g4_ctx_kv_bytes(c, (int)G4_MIN(n_ctx, c->n_ctx_train), 512, 1);
    printf("memory: weights %.1f MiB used in place (mmap), %.3f MiB converted at load (f32 norm vectors)\n", mib(wb),
           mib(m->owned_bytes));
    printf("memory at context %ld: KV cache %.1f MiB (f32), total about %.1f MiB plus activations\n", n_ctx, mib(kv),
           mib(wb + m->owned_bytes + kv));
    printf("  with --kv-type f16: KV cache %.1f MiB, total about %.1f MiB\n", mib(kv16), mib(wb + m->owned_bytes + kv16));
    g4_model_free(m);
    return 0;
}
