/* test_mm.c -- images, audio and video through the embedders and the decoder vs transformers.
 *
 * tests/data/mm/tiny-mm (tools/make_mm_fixtures.py): a tiny gemma4_unified model with the real
 * 48-px / 6912-wide patch embedder, [1120, 2, D] position table and 640-sample audio projection;
 * pixel patches and audio frames exactly as transformers' processors made them; the reference's
 * soft-token embeddings; and fp32 logits of a prompt interleaving text, two images, a speech clip
 * and a two-frame video, as generate() computes them (each image/video block sees itself whole in
 * every layer), then 16 greedy decode steps.  Checked: embeddings within 1e-5 relative, every
 * logit within 1e-4 x max|logit|, greedy tokens identical; from the HF directory, from a GGUF
 * written by `convert` (embedders inside, llama.cpp's permuted layout), and from a text GGUF + a
 * separate mmproj file; plus the errors for wrong pairings and blocks larger than a batch.
 */
#include <cjson/cJSON.h>

#include "../src/model/convert.h"
#include "../src/model/ctx.h"
#include "check.h"

#define DIR "tests/data/mm/tiny-mm"
#define MAXSEG 32

typedef struct {
    int n_ids, *ids, n_decode, *greedy, n_vocab, d;
    int n_seg;
    struct { char kind[8]; int start, n, index, frame; } seg[MAXSEG];
    int n_soft[2], n_audio, n_frames, n_per_frame;
    float *logits;
} fixture;

static void *read_bin(const char *name, size_t want) {
    char p[256];
    snprintf(p, sizeof p, "%s/%s", DIR, name);
    size_t len = 0;
    char *b = check_slurp(p, &len);
    if (!b || len != want) {
        fprintf(stderr, "%s: %zu bytes, want %zu\n", p, len, want);
        free(b);
        return NULL;
    }
    return b;
}

static int load_fixture(fixture *f) {
    char *js = check_slurp(DIR "/expected.json", NULL);
    if (!js) return 0;
    cJSON *j = cJSON_Parse(js);
    free(js);
    if (!j) return 0;
    cJSON *ids = cJSON_GetObjectItem(j, "ids"), *gr = cJSON_GetObjectItem(j, "greedy"),
          *segs = cJSON_GetObjectItem(j, "segments");
    f->n_ids = cJSON_GetArraySize(ids);
    f->n_decode = cJSON_GetArraySize(gr);
    f->ids = malloc(sizeof(int) * (size_t)f->n_ids);
    f->greedy = malloc(sizeof(int) * (size_t)f->n_decode);
    for (int i = 0; i < f->n_ids; i++) f->ids[i] = cJSON_GetArrayItem(ids, i)->valueint;
    for (int i = 0; i < f->n_decode; i++) f->greedy[i] = cJSON_GetArrayItem(gr, i)->valueint;
    f->n_vocab = cJSON_GetObjectItem(j, "n_vocab")->valueint;
    f->d = cJSON_GetObjectItem(j, "d_model")->valueint;
    f->n_audio = cJSON_GetObjectItem(j, "n_audio")->valueint;
    f->n_frames = cJSON_GetObjectItem(j, "n_frames")->valueint;
    f->n_per_frame = cJSON_GetObjectItem(j, "n_per_frame")->valueint;
    for (int i = 0; i < 2; i++) f->n_soft[i] = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "n_soft"), i)->valueint;
    f->n_seg = 0;
    cJSON *s;
    cJSON_ArrayForEach(s, segs) {
        if (f->n_seg == MAXSEG) break;
        snprintf(f->seg[f->n_seg].kind, 8, "%s", cJSON_GetObjectItem(s, "kind")->valuestring);
        f->seg[f->n_seg].start = cJSON_GetObjectItem(s, "start")->valueint;
        f->seg[f->n_seg].n = cJSON_GetObjectItem(s, "n")->valueint;
        cJSON *ix = cJSON_GetObjectItem(s, "index"), *fr = cJSON_GetObjectItem(s, "frame");
        f->seg[f->n_seg].index = ix ? ix->valueint : 0;
        f->seg[f->n_seg].frame = fr ? fr->valueint : 0;
        f->n_seg++;
    }
    cJSON_Delete(j);
    f->logits = read_bin("expected.bin", sizeof(float) * (size_t)(f->n_ids + f->n_decode) * (size_t)f->n_vocab);
    return f->logits != NULL;
}

/* patches as the processor made them: byte * float32(1/255) */
static float *patches_of(const char *name, int n) {
    uint8_t *u = read_bin(name, (size_t)n * 6912);
    if (!u) return NULL;
    float *p = malloc(sizeof(float) * (size_t)n * 6912);
    const float inv = (float)(1.0 / 255.0);
    for (size_t i = 0; i < (size_t)n * 6912; i++) p[i] = (float)u[i] * inv;
    free(u);
    return p;
}

/* The soft-token rows of one segment, from our embedders. */
static float *embed_segment(g4_ctx *c, const fixture *f, int si, char *err) {
    const int n = f->seg[si].n;
    float *out = malloc(sizeof(float) * (size_t)n * (size_t)f->d), *px = NULL;
    int *pos = NULL;
    g4_status st = G4_OK;
    char name[32];
    if (!strcmp(f->seg[si].kind, "audio")) {
        float *fr = read_bin("audio.f32", sizeof(float) * (size_t)n * 640);
        st = fr ? g4_ctx_embed_audio(c, fr, n, out, err) : G4_EIO;
        free(fr);
    } else {
        const int video = !strcmp(f->seg[si].kind, "video");
        snprintf(name, sizeof name, video ? "vid.u8" : "img%d.u8", f->seg[si].index);
        const int total = video ? f->n_frames * f->n_per_frame : n, off = video ? f->seg[si].frame * n : 0;
        px = patches_of(name, total);
        snprintf(name, sizeof name, video ? "vid.pos" : "img%d.pos", f->seg[si].index);
        pos = read_bin(name, sizeof(int) * 2 * (size_t)total);
        st = px && pos ? g4_ctx_embed_image(c, px + (size_t)off * 6912, pos + 2 * off, n, out, err) : G4_EIO;
    }
    free(px);
    free(pos);
    if (st) { fprintf(stderr, "embed: %s\n", err); free(out); return NULL; }
    return out;
}

/* Prefill segment by segment (all logits), then greedy decode; returns [(T + n_decode)][V]. */
static float *run(const g4_model *m, const fixture *f, int threads, int batch) {
    char err[G4_ERR_LEN];
    g4_ctx_params cp = {.n_ctx = 512, .n_batch = batch, .n_threads = threads};
    g4_ctx *c;
    if (g4_ctx_new(&c, m, &cp, err)) { fprintf(stderr, "%s\n", err); return NULL; }
    const int V = f->n_vocab;
    float *lg = calloc((size_t)(f->n_ids + f->n_decode) * (size_t)V, sizeof(float));
    int ok = 1;
    for (int s = 0; s < f->n_seg && ok; s++) {
        float *dst = lg + (size_t)f->seg[s].start * (size_t)V;
        if (!strcmp(f->seg[s].kind, "text")) {
            ok = !g4_ctx_eval(c, f->ids + f->seg[s].start, f->seg[s].n, dst, 1, err);
        } else {
            float *e = embed_segment(c, f, s, err);
            ok = e && !g4_ctx_eval_embd(c, e, f->seg[s].n, strcmp(f->seg[s].kind, "audio") != 0, dst, 1, err);
            free(e);
        }
    }
    int tok = ok ? check_argmax(lg + (size_t)(f->n_ids - 1) * (size_t)V, V) : 0;
    for (int i = 0; i < f->n_decode && ok; i++) {
        float *dst = lg + (size_t)(f->n_ids + i) * (size_t)V;
        ok = !g4_ctx_eval(c, &tok, 1, dst, 0, err);
        tok = check_argmax(dst, V);
    }
    if (!ok) { fprintf(stderr, "run: %s\n", err); free(lg); lg = NULL; }
    g4_ctx_free(c);
    return lg;
}

static void check_logits(const g4_model *m, const fixture *f, const char *what, int threads, int batch) {
    float *lg = run(m, f, threads, batch);
    CHECKF(lg != NULL, "%s: run failed", what);
    if (!lg) return;
    const int V = f->n_vocab;
    const double pre = check_rel_err(lg, f->logits, (int64_t)f->n_ids * V);
    double dec = 0;
    for (int i = 0; i < f->n_decode; i++)
        dec = fmax(dec, check_rel_err(lg + (size_t)(f->n_ids + i) * V, f->logits + (size_t)(f->n_ids + i) * V, V));
    int same = 1;
    for (int i = 0; i < f->n_decode; i++) {
        const int t = check_argmax(lg + (size_t)(f->n_ids - 1 + i) * V, V);
        if (t != f->greedy[i]) same = 0;
    }
    printf("%s (threads %d, batch %d): prefill rel err %.2e, decode %.2e, greedy %s\n", what, threads, batch, pre, dec,
           same ? "identical" : "DIFFERENT");
    CHECKF(pre <= 1e-4, "%s: prefill logits rel err %.3g", what, pre);
    CHECKF(dec <= 1e-4, "%s: decode logits rel err %.3g", what, dec);
    CHECKF(same, "%s: greedy tokens differ", what);
    free(lg);
}

static void check_embeddings(const g4_model *m, const fixture *f) {
    char err[G4_ERR_LEN];
    g4_ctx_params cp = {.n_ctx = 64, .n_batch = 64, .n_threads = 1};
    g4_ctx *c;
    if (g4_ctx_new(&c, m, &cp, err)) { CHECKF(0, "%s", err); return; }
    for (int s = 0; s < f->n_seg; s++) {
        const char *k = f->seg[s].kind;
        if (!strcmp(k, "text") || !strcmp(k, "video")) continue;
        char name[32];
        if (!strcmp(k, "audio")) snprintf(name, sizeof name, "embd_audio.f32");
        else snprintf(name, sizeof name, "embd_img%d.f32", f->seg[s].index);
        float *ref = read_bin(name, sizeof(float) * (size_t)f->seg[s].n * (size_t)f->d);
        float *got = embed_segment(c, f, s, err);
        CHECK(ref && got);
        if (ref && got) {
            const double e = check_rel_err(got, ref, (int64_t)f->seg[s].n * f->d);
            printf("embeddings %-8s (%d rows): rel err %.2e\n", name, f->seg[s].n, e);
            CHECKF(e <= 1e-5, "%s rel err %.3g", name, e);
        }
        free(ref);
        free(got);
    }
    g4_ctx_free(c);
}

int main(void) {
    fixture f;
    if (!load_fixture(&f)) {
        CHECKF(0, "cannot read the fixture in %s", DIR);
        return check_done("test_mm");
    }
    char err[G4_ERR_LEN];
    g4_model *m;
    g4_status st = g4_model_load(&m, DIR, err);
    CHECKF(st == G4_OK, "%s", err);
    if (!st) {
        CHECK(m->w.has_vision && m->w.has_audio);
        CHECK(!m->w.vis.patch_chw && m->w.vis.pos_interleaved);
        CHECK(m->cfg.image_id == 18 && m->cfg.eoa_id == 20 && m->cfg.video_id == 22);
        check_embeddings(m, &f);
        check_logits(m, &f, "HF dir", 1, 128);
        check_logits(m, &f, "HF dir", 2, 70);
        /* a block that does not fit one batch is refused, not computed wrongly */
        g4_ctx_params cp = {.n_ctx = 256, .n_batch = 16, .n_threads = 1};
        g4_ctx *c;
        if (!g4_ctx_new(&c, m, &cp, err)) {
            float *e = calloc((size_t)40 * (size_t)f.d, sizeof(float));
            CHECK(g4_ctx_eval_embd(c, e, 40, 1, NULL, 0, err) == G4_EINVAL && strstr(err, "batch"));
            CHECK(g4_ctx_eval_embd(c, e, 40, 0, NULL, 0, err) == G4_OK); /* audio: any batch size */
            free(e);
            g4_ctx_free(c);
        }
        /* convert: embedders inside the GGUF, or a text GGUF + a separate mmproj (llama.cpp layout) */
        const char *one = "build/test_mm_all.gguf", *txt = "build/test_mm_text.gguf", *mmp = "build/test_mm_mmproj.gguf";
        CHECKF(!g4_model_write_gguf(m, one, G4_TYPE_F32, err), "%s", err);
        CHECKF(!g4_model_write_gguf_ex(m, txt, G4_TYPE_F32, 0, err), "%s", err);
        CHECKF(!g4_model_write_mmproj(m, mmp, G4_TYPE_F32, err), "%s", err);
        g4_model_free(m);
        if (!g4_model_load(&m, one, err)) {
            CHECK(m->w.has_vision && m->w.has_audio && m->w.vis.patch_chw && !m->w.vis.pos_interleaved);
            check_embeddings(m, &f);
            check_logits(m, &f, "GGUF with embedders", 2, 128);
            g4_model_free(m);
        } else CHECKF(0, "%s", err);
        if (!g4_model_load(&m, txt, err)) {
            CHECK(!m->w.has_vision && !m->w.has_audio);
            g4_model_free(m);
        } else CHECKF(0, "%s", err);
        if (!g4_model_load_mm(&m, txt, mmp, err)) {
            CHECK(m->w.has_vision && m->w.has_audio);
            check_logits(m, &f, "text GGUF + mmproj", 1, 128);
            g4_model_free(m);
        } else CHECKF(0, "%s", err);
        /* an mmproj written by llama.cpp's own converter (tools/check_llamacpp_mmproj.sh passes it in) */
        const char *ext = getenv("G4_LLAMACPP_MMPROJ");
        if (ext && !g4_model_load_mm(&m, txt, ext, err)) {
            check_embeddings(m, &f);
            check_logits(m, &f, "text GGUF + llama.cpp's mmproj", 1, 128);
            g4_model_free(m);
        } else if (ext) CHECKF(0, "%s", err);
        /* wrong pairings: an mmproj as the model, a model as the mmproj, embedders twice */
        CHECK(g4_model_load(&m, mmp, err) == G4_EINVAL && strstr(err, "--mmproj"));
        CHECK(g4_model_load_mm(&m, txt, txt, err) == G4_EINVAL && strstr(err, "not a multimodal projector"));
        CHECK(g4_model_load_mm(&m, one, mmp, err) == G4_EINVAL && strstr(err, "already in the model file"));
        remove(one);
        remove(txt);
        remove(mmp);
    }
    /* an image asked of a text-only model */
    if (!g4_model_load(&m, "tests/data/model/tiny-a", err)) {
        g4_ctx *c;
        g4_ctx_params cp = {.n_ctx = 64, .n_batch = 64, .n_threads = 1};
        if (!g4_ctx_new(&c, m, &cp, err)) {
            float px[6912] = {0}, out[64];
            int pos[2] = {0, 0};
            CHECK(g4_ctx_embed_image(c, px, pos, 1, out, err) == G4_EINVAL && strstr(err, "no vision"));
            CHECK(g4_ctx_embed_audio(c, px, 1, out, err) == G4_EINVAL && strstr(err, "no audio"));
            g4_ctx_free(c);
        }
        g4_model_free(m);
    }
    free(f.ids);
    free(f.greedy);
    free(f.logits);
    return check_done("test_mm");
}
