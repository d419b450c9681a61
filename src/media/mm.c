/* mm.c -- multimodal prompts (see mm.h). */
#include "mm.h"

#include <stdio.h>
#include <string.h>

static const char *const placeholder[3] = {"<|image|>", "<|audio|>", "<|video|>"}; /* by g4_mm_kind */

g4_status g4_mm_from_image(g4_mm_item *it, const g4_image *im, int max_soft_tokens, char *err) {
    memset(it, 0, sizeof *it);
    it->kind = G4_MM_IMAGE;
    it->n_frames = 1;
    return g4_image_patches(im, max_soft_tokens, 0, &it->data, &it->pos, &it->n_tok, err);
}

g4_status g4_mm_from_audio(g4_mm_item *it, const float *pcm, int64_t n, char *err) {
    memset(it, 0, sizeof *it);
    it->kind = G4_MM_AUDIO;
    it->n_frames = 1;
    if (n <= 0) return g4_errf(err, G4_EINVAL, "audio: the clip has no samples");
    const int64_t frames = (n + G4_AUDIO_FRAME - 1) / G4_AUDIO_FRAME;
    if (frames > INT32_MAX / G4_AUDIO_FRAME) return g4_errf(err, G4_EINVAL, "audio: clip too long");
    it->data = g4_calloc((size_t)frames * G4_AUDIO_FRAME, sizeof(float));
    if (!it->data) return g4_errf(err, G4_ENOMEM, "audio: out of memory");
    memcpy(it->data, pcm, (size_t)n * sizeof(float));
    it->n_tok = (int)frames;
    return G4_OK;
}

g4_status g4_mm_from_video(g4_mm_item *it, const g4_video *v, int max_soft_tokens, char *err) {
    memset(it, 0, sizeof *it);
    it->kind = G4_MM_VIDEO;
    if (v->n_frames <= 0) return g4_errf(err, G4_EINVAL, "video: no frames");
    it->t_sec = g4_malloc(sizeof(double) * (size_t)v->n_frames);
    if (!it->t_sec) return g4_errf(err, G4_ENOMEM, "video: out of memory");
    for (int f = 0; f < v->n_frames; f++) {
        float *p = NULL;
        int *pos = NULL, n = 0;
        g4_status st = g4_image_patches(&v->frames[f], max_soft_tokens, 0, &p, &pos, &n, err);
        if (st) return st;
        if (f == 0) {
            it->n_tok = n;
            it->data = g4_malloc(sizeof(float) * (size_t)n * G4_PATCH_DIM * (size_t)v->n_frames);
            it->pos = g4_malloc(sizeof(int) * 2 * (size_t)n * (size_t)v->n_frames);
            if (!it->data || !it->pos) { g4_free(p); g4_free(pos); return g4_errf(err, G4_ENOMEM, "video: out of memory"); }
        } else if (n != it->n_tok) {
            g4_free(p);
            g4_free(pos);
            return g4_errf(err, G4_EFORMAT, "video: frame %d has %d patches, frame 0 has %d (size changed mid-stream)", f, n,
                           it->n_tok);
        }
        memcpy(it->data + (size_t)f * (size_t)n * G4_PATCH_DIM, p, sizeof(float) * (size_t)n * G4_PATCH_DIM);
        memcpy(it->pos + (size_t)f * 2 * (size_t)n, pos, sizeof(int) * 2 * (size_t)n);
        g4_free(p);
        g4_free(pos);
        it->t_sec[f] = v->t_sec[f];
        it->n_frames = f + 1;
    }
    return G4_OK;
}

void g4_mm_item_free(g4_mm_item *it) {
    if (!it) return;
    g4_free(it->data);
    g4_free(it->pos);
    g4_free(it->t_sec);
    memset(it, 0, sizeof *it);
}

/* ---- placeholder expansion ----------------------------------------------------------------------- */

typedef struct {
    char *s;
    size_t n, cap;
    int oom;
} sbuf;

static void put(sbuf *b, const char *s, size_t n) {
    if (b->oom) return;
    if (b->n + n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap : 256;
        while (nc < b->n + n + 1) nc *= 2;
        char *ns = g4_realloc(b->s, nc);
        if (!ns) { b->oom = 1; return; }
        b->s = ns;
        b->cap = nc;
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = 0;
}
static void puts_(sbuf *b, const char *s) { put(b, s, strlen(s)); }
static void put_rep(sbuf *b, const char *s, int k) { for (int i = 0; i < k; i++) puts_(b, s); }

/* transformers' replacement strings (Gemma4UnifiedProcessor.replace_*_token) */
static void expand_item(sbuf *b, const g4_mm_item *it) {
    if (it->kind == G4_MM_IMAGE) {
        puts_(b, "<|image>");
        put_rep(b, "<|image|>", it->n_tok);
        puts_(b, "<image|>");
    } else if (it->kind == G4_MM_AUDIO) {
        puts_(b, "<|audio>");
        put_rep(b, "<|audio|>", it->n_tok);
        puts_(b, "<audio|>");
    } else {
        for (int f = 0; f < it->n_frames; f++) {
            /* f"{int(s // 60):02d}:{int(s % 60):02d}" */
            const double s = it->t_sec[f] < 0 ? 0 : it->t_sec[f];
            char ts[48];
            snprintf(ts, sizeof ts, "%s%02d:%02d <|image>", f ? " " : "", (int)(s / 60.0), (int)((long long)s % 60));
            puts_(b, ts);
            put_rep(b, "<|video|>", it->n_tok);
            puts_(b, "<image|>");
        }
    }
}

g4_status g4_mm_expand(const char *prompt, const g4_mm_item *items, int n_items, char **out, char *err) {
    *out = NULL;
    sbuf b = {0};
    int used[3] = {0, 0, 0}, have[3] = {0, 0, 0};
    for (int i = 0; i < n_items; i++) have[items[i].kind]++;
    const char *p = prompt;
    for (;;) {
        const char *next = NULL;
        int kind = -1;
        for (int k = 0; k < 3; k++) {
            const char *q = strstr(p, placeholder[k]);
            if (q && (!next || q < next)) next = q, kind = k;
        }
        if (!next) break;
        put(&b, p, (size_t)(next - p));
        /* the used[kind]-th item of this kind */
        int seen = 0, idx = -1;
        for (int i = 0; i < n_items && idx < 0; i++)
            if ((int)items[i].kind == kind && seen++ == used[kind]) idx = i;
        if (idx < 0) {
            g4_free(b.s);
            return g4_errf(err, G4_EINVAL, "prompt: more %s placeholders than %s inputs (%d)", placeholder[kind],
                           kind == 0 ? "image" : kind == 1 ? "audio" : "video", have[kind]);
        }
        used[kind]++;
        expand_item(&b, &items[idx]);
        p = next + strlen(placeholder[kind]);
    }
    puts_(&b, p);
    for (int k = 0; k < 3; k++)
        if (used[k] != have[k]) {
            g4_free(b.s);
            return g4_errf(err, G4_EINVAL, "prompt: %d %s placeholder(s) for %d %s input(s)", used[k], placeholder[k],
                           have[k], k == 0 ? "image" : k == 1 ? "audio" : "video");
        }
    if (b.oom || !b.s) {
        g4_free(b.s);
        return g4_errf(err, G4_ENOMEM, "prompt: out of memory");
    }
    *out = b.s;
    return G4_OK;
}

/* ---- evaluation ----------------------------------------------------------------------------------- */

g4_status g4_mm_eval(g4_ctx *c, const int *ids, int n_ids, const g4_mm_item *items, int n_items, float *logits,
                     char *err) {
    const g4_config *cf = &c->model->cfg;
    int next_item[3] = {0, 0, 0}, next_frame = 0;
    g4_status st = G4_OK;
    for (int i = 0; i < n_ids && !st;) {
        const int id = ids[i];
        const int kind = id == cf->image_id ? G4_MM_IMAGE : id == cf->audio_id ? G4_MM_AUDIO : id == cf->video_id ? G4_MM_VIDEO : -1;
        int j = i + 1;
        if (kind < 0) {
            while (j < n_ids && ids[j] != cf->image_id && ids[j] != cf->audio_id && ids[j] != cf->video_id) j++;
            st = g4_ctx_eval(c, ids + i, j - i, j == n_ids ? logits : NULL, 0, err);
            i = j;
            continue;
        }
        while (j < n_ids && ids[j] == id) j++;
        /* the next item of this kind (a video is consumed frame by frame) */
        const g4_mm_item *it = NULL;
        for (int k = 0, seen = 0; k < n_items && !it; k++)
            if ((int)items[k].kind == kind && seen++ == next_item[kind]) it = &items[k];
        if (!it) return g4_errf(err, G4_EINVAL, "prompt: a run of %s ids with no input left for it", placeholder[kind]);
        const int n = j - i;
        if (n != it->n_tok)
            return g4_errf(err, G4_EINVAL, "prompt: a run of %d %s ids for an input of %d soft tokens", n, placeholder[kind],
                           it->n_tok);
        float *e = g4_malloc(sizeof(float) * (size_t)n * (size_t)cf->d_model);
        if (!e) return g4_errf(err, G4_ENOMEM, "out of memory for %d soft tokens", n);
        if (kind == G4_MM_AUDIO) st = g4_ctx_embed_audio(c, it->data, n, e, err);
        else {
            const int f = kind == G4_MM_VIDEO ? next_frame : 0;
            st = g4_ctx_embed_image(c, it->data + (size_t)f * (size_t)n * G4_PATCH_DIM, it->pos + (size_t)f * 2 * (size_t)n, n,
                                    e, err);
        }
        if (!st) st = g4_ctx_eval_embd(c, e, n, kind != G4_MM_AUDIO, j == n_ids ? logits : NULL, 0, err);
        g4_free(e);
        if (kind == G4_MM_VIDEO && ++next_frame < it->n_frames) { /* same video, next frame */
        } else {
            next_item[kind]++;
            if (kind == G4_MM_VIDEO) next_frame = 0;
        }
        i = j;
    }
    return st;
}
