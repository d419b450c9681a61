/* convert_mm.c -- the vision/audio embedders written the way llama.cpp's mmproj stores them.
 *
 * llama.cpp feeds the patch embedder im2col output in (c, y, x) order, so its converter permutes
 * patch_dense's columns and patch_ln1 from HF's (y, x, c); and it stores the position table as
 * [2][posemb][D] (x table, then y table) where HF has [posemb][2][D].  We write the same, so our
 * files and llama.cpp's are interchangeable, inside the text GGUF or as a separate `clip` file.
 * Matrices take the target type when it is a float type, else f16 (llama.cpp's mmproj default).
 */
#include <string.h>

#include "../core/quant.h"
#include "convert.h"
#include "convert_internal.h"

/* f32 copy of tensor t (any readable type), in bl. */
static float *to_f32(g4_buflist *bl, const g4_tensor *t) {
    const int64_t n = g4_tensor_nelem(t);
    float *o = g4_buflist_alloc(bl, (size_t)n * sizeof(float));
    if (o) g4_type_get(t->type)->to_f32(t->data, o, n);
    return o;
}

/* The HF-order index of element i of a patch vector in (c, y, x) order. */
static int64_t hwc_of_chw(int64_t i) {
    const int64_t plane = G4_PATCH_DIM_MODEL / 3, px = 48;
    const int64_t ch = i / plane, row = (i % plane) / px, col = i % px;
    return (row * px + col) * 3 + ch;
}

static g4_status add_f32(g4_gguf_writer *w, g4_buflist *bl, const char *name, const float *data, int n_dims,
                         const int64_t *ne, int type, const char *path, char *err) {
    g4_tensor t = {0};
    t.name = name;
    t.type = G4_TYPE_F32;
    t.n_dims = n_dims;
    int64_t n = 1;
    for (int i = 0; i < 4; i++) t.ne[i] = i < n_dims ? ne[i] : 1, n *= t.ne[i];
    t.data = (void *)data;
    t.nbytes = (size_t)n * sizeof(float);
    return g4_convert_add_as(w, bl, &t, type, err, path);
}

g4_status g4_convert_add_mm(g4_gguf_writer *w, g4_buflist *bl, const g4_model *m, int type, const char *path, char *err) {
    const g4_config *c = &m->cfg;
    const int mtype = type == G4_TYPE_F32 || type == G4_TYPE_BF16 ? type : G4_TYPE_F16;
    g4_status st = G4_OK;
#define OOM() g4_errf(err, G4_ENOMEM, "%s: out of memory writing the embedders", path)
    if (m->w.has_vision) {
        const g4_vision_weights *v = &m->w.vis;
        const int64_t P = G4_PATCH_DIM_MODEL, mm = c->mm_dim, d = c->d_model, np = c->posemb_size;
        /* patch LayerNorm and dense, permuted to (c, y, x) unless they already are */
        float *ln[2] = {to_f32(bl, v->ln1_w), to_f32(bl, v->ln1_b)};
        float *dense = to_f32(bl, v->dense);
        float *pos = to_f32(bl, &v->pos);
        if (!ln[0] || !ln[1] || !dense || !pos) return OOM();
        if (!v->patch_chw) {
            float *pl[2] = {g4_buflist_alloc(bl, (size_t)P * sizeof(float)), g4_buflist_alloc(bl, (size_t)P * sizeof(float))};
            float *pd = g4_buflist_alloc(bl, (size_t)(P * mm) * sizeof(float));
            if (!pl[0] || !pl[1] || !pd) return OOM();
            for (int64_t i = 0; i < P; i++) {
                const int64_t src = hwc_of_chw(i);
                pl[0][i] = ln[0][src];
                pl[1][i] = ln[1][src];
                for (int64_t r = 0; r < mm; r++) pd[r * P + i] = dense[r * P + src];
            }
            ln[0] = pl[0], ln[1] = pl[1], dense = pd;
        }
        if (v->pos_interleaved) { /* [np][2][mm] -> [2][np][mm] */
            float *pp = g4_buflist_alloc(bl, (size_t)(2 * np * mm) * sizeof(float));
            if (!pp) return OOM();
            for (int64_t g = 0; g < np; g++)
                for (int a = 0; a < 2; a++) memcpy(pp + (a * np + g) * mm, pos + (g * 2 + a) * mm, (size_t)mm * sizeof(float));
            pos = pp;
        }
        const int64_t ne_p[1] = {P}, ne_d[2] = {P, mm}, ne_pos[3] = {mm, np, 2};
        if ((st = add_f32(w, bl, "v.patch_norm.1.weight", ln[0], 1, ne_p, G4_TYPE_F32, path, err))) return st;
        if ((st = add_f32(w, bl, "v.patch_norm.1.bias", ln[1], 1, ne_p, G4_TYPE_F32, path, err))) return st;
        if ((st = add_f32(w, bl, "v.patch_embd.weight", dense, 2, ne_d, mtype, path, err))) return st;
        if ((st = add_f32(w, bl, "v.position_embd.weight", pos, 3, ne_pos, mtype, path, err))) return st;
        const g4_tensor *vecs[] = {v->dense_b, v->ln2_w, v->ln2_b, v->ln3_w, v->ln3_b};
        const char *names[] = {"v.patch_embd.bias", "v.patch_norm.2.weight", "v.patch_norm.2.bias", "v.patch_norm.3.weight",
                               "v.patch_norm.3.bias"};
        for (int i = 0; i < 5; i++) {
            g4_tensor t = *vecs[i];
            t.name = names[i];
            if ((st = g4_convert_add_as(w, bl, &t, G4_TYPE_F32, err, path))) return st;
        }
        g4_tensor t = *v->proj;
        t.name = "mm.input_projection.weight";
        (void)d;
        if ((st = g4_convert_add_as(w, bl, &t, mtype, err, path))) return st;
    }
    if (m->w.has_audio) {
        g4_tensor t = *m->w.audio_proj;
        t.name = "mm.a.input_projection.weight";
        if ((st = g4_convert_add_as(w, bl, &t, mtype, err, path))) return st;
    }
#undef OOM
    return G4_OK;
}

g4_status g4_model_write_mmproj(const g4_model *m, const char *path, int type, char *err) {
    const g4_config *c = &m->cfg;
    if (!m->w.has_vision && !m->w.has_audio)
        return g4_errf(err, G4_EINVAL, "%s: the model has no vision or audio embedder to write", m->path);
    g4_gguf_writer *w = g4_gguf_writer_new();
    if (!w) return g4_errf(err, G4_ENOMEM, "%s: out of memory", path);
    g4_buflist bl = {0};
    if (err) err[0] = 0;
    g4_status st = G4_OK;
    const float zero3[3] = {0, 0, 0}, one3[3] = {1, 1, 1};
#define TRY(x) do { if (!st) st = (x); } while (0)
    TRY(g4_gguf_set_str(w, "general.architecture", "clip", 4));
    TRY(g4_gguf_set_u32(w, "general.file_type", type == G4_TYPE_F32 ? 0 : type == G4_TYPE_BF16 ? 32 : 1));
    TRY(g4_gguf_set_bool(w, "clip.has_vision_encoder", m->w.has_vision));
    TRY(g4_gguf_set_bool(w, "clip.has_audio_encoder", m->w.has_audio));
    TRY(g4_gguf_set_bool(w, "clip.use_gelu", true));
    if (m->w.has_vision) {
        TRY(g4_gguf_set_str(w, "clip.vision.projector_type", "gemma4uv", 8));
        TRY(g4_gguf_set_u32(w, "clip.vision.image_size", 224)); /* unused; llama.cpp's converter writes it too */
        TRY(g4_gguf_set_u32(w, "clip.vision.patch_size", 16));
        TRY(g4_gguf_set_u32(w, "clip.vision.embedding_length", (uint32_t)c->mm_dim));
        TRY(g4_gguf_set_u32(w, "clip.vision.feed_forward_length", 0));
        TRY(g4_gguf_set_u32(w, "clip.vision.projection_dim", (uint32_t)c->d_model));
        TRY(g4_gguf_set_u32(w, "clip.vision.block_count", 0));
        TRY(g4_gguf_set_u32(w, "clip.vision.attention.head_count", 0));
        TRY(g4_gguf_set_f32(w, "clip.vision.attention.layer_norm_epsilon", c->ln_eps));
        TRY(g4_gguf_set_arr(w, "clip.vision.image_mean", G4_GGUF_FLOAT32, zero3, 3));
        TRY(g4_gguf_set_arr(w, "clip.vision.image_std", G4_GGUF_FLOAT32, one3, 3));
    }
    if (m->w.has_audio) {
        TRY(g4_gguf_set_str(w, "clip.audio.projector_type", "gemma4ua", 8));
        TRY(g4_gguf_set_u32(w, "clip.audio.num_mel_bins", (uint32_t)c->audio_dim));
        TRY(g4_gguf_set_u32(w, "clip.audio.embedding_length", (uint32_t)c->audio_dim));
        TRY(g4_gguf_set_u32(w, "clip.audio.feed_forward_length", 0));
        TRY(g4_gguf_set_u32(w, "clip.audio.projection_dim", (uint32_t)c->d_model));
        TRY(g4_gguf_set_u32(w, "clip.audio.block_count", 0));
        TRY(g4_gguf_set_u32(w, "clip.audio.attention.head_count", 0));
        TRY(g4_gguf_set_f32(w, "clip.audio.attention.layer_norm_epsilon", c->audio_eps));
    }
#undef TRY
    if (st && err && !err[0]) g4_errf(err, st, "%s: cannot build the GGUF header", path);
    if (!st) st = g4_convert_add_mm(w, &bl, m, type, path, err);
    if (!st) st = g4_gguf_writer_write(w, path, err);
    g4_gguf_writer_free(w);
    g4_buflist_free(&bl);
    return st;
}
