/* model.c -- load a Gemma 4 model from GGUF or a Hugging Face directory (see model.h).
 *
 * Both sources end in the same place: a table of canonical tensors (GGUF names) and a
 * g4_config.  bind_weights() then walks the layers like llama2.c's memory_map_weights,
 * checking every shape against the config so the forward pass can trust them.
 */
#include "model.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/quant.h"
#include "gguf.h"
#include "safetensors.h"

/* ---- HF name -> canonical (GGUF) name ---------------------------------------------------- */

static const struct { const char *hf, *gguf; } layer_names[] = {
    {"input_layernorm.weight", "attn_norm.weight"},
    {"self_attn.q_proj.weight", "attn_q.weight"},
    {"self_attn.k_proj.weight", "attn_k.weight"},
    {"self_attn.v_proj.weight", "attn_v.weight"},
    {"self_attn.o_proj.weight", "attn_output.weight"},
    {"self_attn.q_norm.weight", "attn_q_norm.weight"},
    {"self_attn.k_norm.weight", "attn_k_norm.weight"},
    {"post_attention_layernorm.weight", "post_attention_norm.weight"},
    {"pre_feedforward_layernorm.weight", "ffn_norm.weight"},
    {"mlp.gate_proj.weight", "ffn_gate.weight"},
    {"mlp.up_proj.weight", "ffn_up.weight"},
    {"mlp.down_proj.weight", "ffn_down.weight"},
    {"post_feedforward_layernorm.weight", "post_ffw_norm.weight"},
    {"layer_scalar", "layer_output_scale.weight"},
};

static const char *hf_prefixes[] = {"model.language_model.", "model.", "language_model.model.", ""};

/* The embedders under llama.cpp's mmproj names.  On disk (save_pretrained, the real checkpoint) the
 * vision embedder is "model.vision_embedder.*" and its projection "model.embed_vision.embedding_projection";
 * in memory transformers calls them embed_vision.* / embed_vision.multimodal_embedder.*: both read. */
static const struct { const char *hf, *gguf; } mm_names[] = {
    {"vision_embedder.patch_ln1.weight", "v.patch_norm.1.weight"},
    {"vision_embedder.patch_ln1.bias", "v.patch_norm.1.bias"},
    {"vision_embedder.patch_dense.weight", "v.patch_embd.weight"},
    {"vision_embedder.patch_dense.bias", "v.patch_embd.bias"},
    {"vision_embedder.patch_ln2.weight", "v.patch_norm.2.weight"},
    {"vision_embedder.patch_ln2.bias", "v.patch_norm.2.bias"},
    {"vision_embedder.pos_embedding", "v.position_embd.weight"},
    {"vision_embedder.pos_norm.weight", "v.patch_norm.3.weight"},
    {"vision_embedder.pos_norm.bias", "v.patch_norm.3.bias"},
    {"embed_vision.embedding_projection.weight", "mm.input_projection.weight"},
    {"embed_vision.patch_ln1.weight", "v.patch_norm.1.weight"},
    {"embed_vision.patch_ln1.bias", "v.patch_norm.1.bias"},
    {"embed_vision.patch_dense.weight", "v.patch_embd.weight"},
    {"embed_vision.patch_dense.bias", "v.patch_embd.bias"},
    {"embed_vision.patch_ln2.weight", "v.patch_norm.2.weight"},
    {"embed_vision.patch_ln2.bias", "v.patch_norm.2.bias"},
    {"embed_vision.pos_embedding", "v.position_embd.weight"},
    {"embed_vision.pos_norm.weight", "v.patch_norm.3.weight"},
    {"embed_vision.pos_norm.bias", "v.patch_norm.3.bias"},
    {"embed_vision.multimodal_embedder.embedding_projection.weight", "mm.input_projection.weight"},
    {"embed_audio.embedding_projection.weight", "mm.a.input_projection.weight"},
};

/* Writes the canonical name of HF tensor `hf` into out; returns 0 if the engine does not use it. */
static int hf_to_canonical(const char *hf, char *out, size_t outlen) {
    if (!strncmp(hf, "model.", 6))
        for (size_t i = 0; i < sizeof mm_names / sizeof *mm_names; i++)
            if (!strcmp(hf + 6, mm_names[i].hf)) { snprintf(out, outlen, "%s", mm_names[i].gguf); return 1; }
    for (size_t p = 0; p < sizeof hf_prefixes / sizeof *hf_prefixes; p++) {
        size_t pl = strlen(hf_prefixes[p]);
        if (strncmp(hf, hf_prefixes[p], pl) != 0) continue;
        const char *s = hf + pl;
        if (!strcmp(s, "embed_tokens.weight")) { snprintf(out, outlen, "token_embd.weight"); return 1; }
        if (!strcmp(s, "norm.weight")) { snprintf(out, outlen, "output_norm.weight"); return 1; }
        int layer, n = 0;
        if (sscanf(s, "layers.%d.%n", &layer, &n) == 1 && n > 0 && layer >= 0) {
            for (size_t i = 0; i < sizeof layer_names / sizeof *layer_names; i++)
                if (!strcmp(s + n, layer_names[i].hf)) {
                    snprintf(out, outlen, "blk.%d.%s", layer, layer_names[i].gguf);
                    return 1;
                }
        }
    }
    return 0;
}

/* ---- canonical tensor table -------------------------------------------------------------- */

/* The kernels read f32 data as floats and every other type (f16, bf16, quant blocks with f16
 * scales) as 16-bit units, so data must be 4- resp. 2-byte aligned.  GGUF's usual alignment (32)
 * and HF's safetensors writer guarantee it; a GGUF with general.alignment 1 or 2, an oddly packed
 * safetensors file or an odd in-memory buffer may not. */
static g4_status check_aligned(const g4_tensor *t, const char *name, const char *path, char *err) {
    const uintptr_t a = t->type == G4_TYPE_F32 ? 4 : 2;
    if ((uintptr_t)t->data % a == 0) return G4_OK;
    return g4_errf(err, G4_EFORMAT, "%s: tensor %s: data is not %d-byte aligned (file written with a smaller alignment)",
                   path, name, (int)a);
}

/* Appends the tensors of one source to m's table; their names go into *names_store. */
static g4_status table_build(g4_model *m, int n_src, const g4_tensor *(*get)(void *, int64_t), void *src,
                             int hf, char **names_store, char *err) {
    size_t names_len = 0;
    char buf[256];
    for (int i = 0; i < n_src; i++) {
        const g4_tensor *t = get(src, i);
        if (hf) { if (hf_to_canonical(t->name, buf, sizeof buf)) names_len += strlen(buf) + 1; }
        else names_len += strlen(t->name) + 1;
    }
    g4_tensor *nt = g4_realloc(m->tensors, ((size_t)m->n_tensors + (size_t)n_src + 1) * sizeof *m->tensors);
    if (nt) m->tensors = nt;
    *names_store = g4_malloc(names_len + 1);
    if (!nt || !*names_store) return g4_errf(err, G4_ENOMEM, "%s: out of memory", m->path);
    char *np = *names_store;
    for (int i = 0; i < n_src; i++) {
        const g4_tensor *t = get(src, i);
        const char *name = t->name;
        if (hf) {
            if (!hf_to_canonical(t->name, buf, sizeof buf)) continue;
            name = buf;
        }
        if (g4_model_tensor(m, name))
            return g4_errf(err, G4_EFORMAT, "%s: tensor %s appears twice", m->path, name);
        g4_status st = check_aligned(t, name, m->path, err);
        if (st) return st;
        size_t l = strlen(name) + 1;
        memcpy(np, name, l);
        g4_tensor *d = &m->tensors[m->n_tensors++];
        *d = *t;
        d->name = np;
        np += l;
    }
    return G4_OK;
}

const g4_tensor *g4_model_tensor(const g4_model *m, const char *name) {
    for (int i = 0; i < m->n_tensors; i++)
        if (!strcmp(m->tensors[i].name, name)) return &m->tensors[i];
    return NULL;
}

static const g4_tensor *gguf_get(void *f, int64_t i) { return g4_gguf_tensor(f, i); }
static const g4_tensor *st_get(void *s, int64_t i) { return g4_st_tensor(s, i); }

/* ---- config from GGUF keys --------------------------------------------------------------- */

static g4_status gguf_u32(const g4_gguf *f, const char *key, int *v, const char *path, char *err) {
    uint32_t u;
    if (!g4_gguf_get_u32(f, key, &u) || u > INT32_MAX)
        return g4_errf(err, G4_EFORMAT, "%s: missing or invalid key %s", path, key);
    *v = (int)u;
    return G4_OK;
}

/* A per-layer value stored as a scalar or as an array of n_layer integers. */
static g4_status gguf_layer_int(const g4_gguf *f, const char *key, int layer, int *v, const char *path, char *err) {
    g4_gguf_vtype et; uint64_t n; const void *data; int64_t x;
    if (g4_gguf_get_arr(f, key, &et, &n, &data)) {
        if ((uint64_t)layer >= n || !g4_gguf_arr_i64(f, key, (uint64_t)layer, &x) || x < 0 || x > INT32_MAX)
            return g4_errf(err, G4_EFORMAT, "%s: key %s has no valid entry for layer %d", path, key, layer);
        *v = (int)x;
        return G4_OK;
    }
    return gguf_u32(f, key, v, path, err);
}

static g4_status config_from_gguf(g4_model *m, char *err) {
    const g4_gguf *f = m->gguf;
    const char *path = m->path;
    g4_config *c = &m->cfg;
    const char *arch; size_t alen;
    if (!g4_gguf_get_str(f, "general.architecture", &arch, &alen))
        return g4_errf(err, G4_EFORMAT, "%s: missing general.architecture", path);
    const int is_g3 = alen == 6 && !memcmp(arch, "gemma3", 6);
    if (!(alen == 6 && !memcmp(arch, "gemma4", 6)) && !is_g3) {
        if (alen >= 4 && !memcmp(arch, "clip", 4))
            return g4_errf(err, G4_EINVAL, "%s: this is a multimodal projector (mmproj) file; load the text model "
                           "with -m and this file with --mmproj", path);
        return g4_errf(err, G4_EUNSUPPORTED, "%s: architecture '%.*s' not supported yet (want gemma4 or gemma3)", path,
                       (int)G4_MIN(alen, 64), arch);
    }
    g4_config_set_gemma4_defaults(c);
    const char *A = is_g3 ? "gemma3" : "gemma4";
    char kb[128];
#define K(sfx) (snprintf(kb, sizeof kb, "%s." sfx, A), kb)
    g4_status st;
    if ((st = gguf_u32(f, K("embedding_length"), &c->d_model, path, err))) return st;
    if ((st = gguf_u32(f, K("block_count"), &c->n_layer, path, err))) return st;
    if (c->n_layer < 1 || c->n_layer > G4_MAX_LAYERS)
        return g4_errf(err, G4_EINVAL, "%s: gemma4.block_count %d out of range (1..%d)", path, c->n_layer, G4_MAX_LAYERS);
    if ((st = gguf_layer_int(f, K("feed_forward_length"), 0, &c->d_ff, path, err))) return st;
    if ((st = gguf_layer_int(f, K("attention.head_count"), 0, &c->n_head, path, err))) return st;
    if ((st = gguf_u32(f, K("attention.key_length"), &c->d_head_full, path, err))) return st;
    if (is_g3) c->d_head_swa = c->d_head_full; /* one head size for every layer */
    else if ((st = gguf_u32(f, K("attention.key_length_swa"), &c->d_head_swa, path, err))) return st;
    if ((st = gguf_u32(f, K("attention.sliding_window"), &c->swa, path, err))) return st;
    if (gguf_u32(f, K("context_length"), &c->n_ctx_train, path, NULL)) c->n_ctx_train = 131072;
    int v = 0;
    if (!gguf_u32(f, K("attention.shared_kv_layers"), &v, path, NULL) && v != 0)
        return g4_errf(err, G4_EUNSUPPORTED, "%s: gemma4.attention.shared_kv_layers = %d: KV-shared layers not supported yet", path, v);
    if (!gguf_u32(f, K("embedding_length_per_layer_input"), &v, path, NULL) && v != 0)
        return g4_errf(err, G4_EUNSUPPORTED, "%s: per-layer inputs (embedding_length_per_layer_input = %d) not supported yet", path, v);
    if (!g4_gguf_get_f32(f, K("rope.freq_base"), &c->rope_theta_full)) c->rope_theta_full = 1e6f;
    if (!g4_gguf_get_f32(f, K("rope.freq_base_swa"), &c->rope_theta_swa)) c->rope_theta_swa = 1e4f;
    if (!g4_gguf_get_f32(f, K("attention.layer_norm_rms_epsilon"), &c->rms_eps)) c->rms_eps = 1e-6f;
    if (!g4_gguf_get_f32(f, K("final_logit_softcapping"), &c->final_softcap)) c->final_softcap = 0;
    /* layer pattern: bool array, true = sliding */
    g4_gguf_vtype et; uint64_t n; const void *pat;
    uint8_t g3_pat[G4_MAX_LAYERS];
    if (is_g3) { /* llama.cpp's gemma3: every 6th layer is global, the rest slide */
        for (int l = 0; l < c->n_layer; l++) g3_pat[l] = (l + 1) % 6 != 0;
        pat = g3_pat, et = G4_GGUF_BOOL, n = (uint64_t)c->n_layer;
    } else if (!g4_gguf_get_arr(f, K("attention.sliding_window_pattern"), &et, &n, &pat) || et != G4_GGUF_BOOL ||
        n != (uint64_t)c->n_layer)
        return g4_errf(err, G4_EFORMAT, "%s: gemma4.attention.sliding_window_pattern must be a bool array of %d entries",
                       path, c->n_layer);
    c->n_kv_swa = c->n_kv_full = 0;
    for (int l = 0; l < c->n_layer; l++) {
        c->is_full[l] = ((const uint8_t *)pat)[l] == 0;
        int nkv;
        if ((st = gguf_layer_int(f, K("attention.head_count_kv"), l, &nkv, path, err))) return st;
        if (nkv < 1)
            return g4_errf(err, G4_EFORMAT, "%s: gemma4.attention.head_count_kv is %d for layer %d (want >= 1)", path, nkv, l);
        int *slot = c->is_full[l] ? &c->n_kv_full : &c->n_kv_swa;
        if (*slot && *slot != nkv)
            return g4_errf(err, G4_EUNSUPPORTED, "%s: head_count_kv differs between layers of one type (layer %d: %d, want %d)",
                           path, l, nkv, *slot);
        *slot = nkv;
    }
    if (!c->n_kv_swa) c->n_kv_swa = c->n_kv_full ? c->n_kv_full : 1;
    if (!c->n_kv_full) c->n_kv_full = c->n_kv_swa;
    /* k_eq_v: full layers without attn_v */
    c->k_eq_v = 0;
    for (int l = 0; l < c->n_layer; l++) {
        char name[64];
        snprintf(name, sizeof name, "blk.%d.attn_v.weight", l);
        if (c->is_full[l]) { c->k_eq_v = g4_gguf_find_tensor(f, name) == NULL; break; }
    }
    /* proportional RoPE: rope_freqs holds 1.0 for rotated pairs and a huge factor for the rest */
    c->rope_partial_full = 1.0f;
    const g4_tensor *rf = g4_gguf_find_tensor(f, "rope_freqs.weight");
    if (rf && c->d_head_full >= 2 && c->d_head_full % 2 == 0) { /* else g4_config_validate says why */
        if (rf->type != G4_TYPE_F32 || rf->ne[0] != c->d_head_full / 2)
            return g4_errf(err, G4_EFORMAT, "%s: rope_freqs.weight must be f32 [%d]", path, c->d_head_full / 2);
        if ((st = check_aligned(rf, "rope_freqs.weight", path, err))) return st;
        const float *ff = rf->data;
        int rot = 0;
        while (rot < rf->ne[0] && ff[rot] == 1.0f) rot++;
        c->rope_partial_full = (float)(2 * rot) / (float)c->d_head_full;
    }
    if (is_g3) {
        /* Gemma 3 (transformers' gemma3 / llama.cpp's gemma3): sliding layers use theta 1e4, full layers the
         * file's base with optional linear scaling; q.k scaled by query_pre_attn_scalar^-0.5 = 1/sqrt(head_dim)
         * (1/sqrt(d_model/n_head) for the 62-layer 27B); no V norm, no layer scalar, no final softcap unless
         * given; norms already hold (1+w) in GGUF.  Stops at <eos> and <end_of_turn>. */
        c->arch = G4_ARCH_GEMMA3;
        c->rope_theta_swa = 1e4f;
        float factor;
        const char *st_type; size_t stl;
        if (g4_gguf_get_f32(f, K("rope.scaling.factor"), &factor) && g4_gguf_get_str(f, K("rope.scaling.type"), &st_type, &stl)) {
            if (!(stl == 6 && !memcmp(st_type, "linear", 6)))
                return g4_errf(err, G4_EUNSUPPORTED, "%s: rope scaling '%.*s' not supported yet (linear only)", path,
                               (int)G4_MIN(stl, 32), st_type);
            if (!(factor > 0)) return g4_errf(err, G4_EFORMAT, "%s: rope.scaling.factor must be > 0 (got %g)", path, factor);
            c->rope_freq_scale_full = 1.0f / factor;
        }
        c->attn_scale = c->n_layer == 62 && c->n_head > 0 ? 1.0f / sqrtf((float)(c->d_model / c->n_head))
                                                           : 1.0f / sqrtf((float)G4_MAX(c->d_head_full, 1));
        c->v_norm = 0;
        c->k_eq_v = 0;
        c->rope_partial_full = 1.0f;
        c->n_eos = 2;
        c->eos_ids[0] = 1;
        c->eos_ids[1] = 106;
        c->n_suppress = 0;
    }
    const g4_tensor *emb = g4_gguf_find_tensor(f, "token_embd.weight");
    if (!emb) return g4_errf(err, G4_EFORMAT, "%s: missing tensor token_embd.weight", path);
    if (emb->ne[1] > INT32_MAX) return g4_errf(err, G4_EFORMAT, "%s: token_embd.weight too large", path);
    c->n_vocab = (int)emb->ne[1];
    uint32_t u;
    if (g4_gguf_get_u32(f, "tokenizer.ggml.bos_token_id", &u)) c->bos_id = (int)u;
    if (g4_gguf_get_u32(f, "tokenizer.ggml.eos_token_id", &u)) c->eos_id = (int)u;
    if (g4_gguf_get_u32(f, "tokenizer.ggml.padding_token_id", &u)) c->pad_id = (int)u;
    for (int i = 0; i < G4_N_MM_IDS; i++)
        if (g4_gguf_get_u32(f, g4_mm_id_keys[i], &u) && u <= INT32_MAX) *g4_config_mm_id(c, i) = (int)u;
    if (g4_gguf_get_u32(f, "gemma4.image_soft_tokens", &u)) c->image_tokens = u <= INT32_MAX ? (int)u : -1;
    if (g4_gguf_get_arr(f, "gemma4.eos_token_ids", &et, &n, &pat)) { /* ours: every end id, not just the first */
        if (n < 1 || n > G4_MAX_EOS) return g4_errf(err, G4_EFORMAT, "%s: gemma4.eos_token_ids: %llu ids (want 1..%d)",
                                                     path, (unsigned long long)n, G4_MAX_EOS);
        for (uint64_t i = 0; i < n; i++) {
            int64_t x;
            if (!g4_gguf_arr_i64(f, "gemma4.eos_token_ids", i, &x) || x < 0 || x > INT32_MAX)
                return g4_errf(err, G4_EFORMAT, "%s: gemma4.eos_token_ids[%llu]: want a token id", path, (unsigned long long)i);
            c->eos_ids[i] = (int)x;
        }
        c->n_eos = (int)n;
    }
    if (g4_gguf_get_arr(f, "tokenizer.ggml.suppress_tokens", &et, &n, &pat)) {
        c->n_suppress = 0;
        for (uint64_t i = 0; i < n && c->n_suppress < G4_MAX_EOS; i++) {
            int64_t x;
            if (g4_gguf_arr_i64(f, "tokenizer.ggml.suppress_tokens", i, &x) && x >= 0 && x < INT32_MAX)
                c->suppress_ids[c->n_suppress++] = (int)x;
        }
    }
#undef K
    return G4_OK;
}

/* ---- binding weights with shape checks --------------------------------------------------- */

typedef struct {
    g4_model *m;
    float *owned;   /* cursor into m->owned */
    char *err;
    int plus_one;   /* HF Gemma 3 norms: stored as w, used as (1 + w) */
} binder;

static g4_status bind(binder *b, const char *name, int optional, int64_t ne0, int64_t ne1, const g4_tensor **out) {
    const g4_tensor *t = g4_model_tensor(b->m, name);
    *out = t;
    if (!t) {
        if (optional) return G4_OK;
        return g4_errf(b->err, G4_EFORMAT, "%s: missing tensor %s", b->m->path, name);
    }
    if (t->ne[0] != ne0 || t->ne[1] != ne1 || t->ne[2] != 1 || t->ne[3] != 1)
        return g4_errf(b->err, G4_EFORMAT, "%s: tensor %s has shape [%lld, %lld, %lld, %lld], want [%lld, %lld] from the config",
                       b->m->path, name, (long long)t->ne[0], (long long)t->ne[1], (long long)t->ne[2],
                       (long long)t->ne[3], (long long)ne0, (long long)ne1);
    if (!g4_type_get(t->type))
        return g4_errf(b->err, G4_EUNSUPPORTED, "%s: tensor %s has unknown type %d", b->m->path, name, (int)t->type);
    return G4_OK;
}

/* A vector the kernels read as f32: used in place when it is f32, else converted once.  A
 * (1 + w) norm of an HF Gemma 3 checkpoint is always copied, with the 1 added (GGUF has it folded in). */
static g4_status bind_vec(binder *b, const char *name, int64_t n, const g4_tensor **out) {
    g4_status st = bind(b, name, 0, n, 1, out);
    if (st) return st;
    g4_tensor *t = (g4_tensor *)*out; /* our own table entry */
    if (t->type == G4_TYPE_F32 && !b->plus_one) return G4_OK;
    const g4_type_info *ti = g4_type_get(t->type);
    if (n % ti->blck) return g4_errf(b->err, G4_EFORMAT, "%s: tensor %s: %lld elements is not a whole number of %s blocks",
                                     b->m->path, name, (long long)n, ti->name);
    ti->to_f32(t->data, b->owned, n);
    if (b->plus_one)
        for (int64_t i = 0; i < n; i++) b->owned[i] += 1.0f;
    t->data = b->owned;
    t->type = G4_TYPE_F32;
    t->nbytes = (size_t)n * sizeof(float);
    b->owned += n;
    return G4_OK;
}

/* The embedders, when their tensors are there (HF dir, our GGUF, or an mmproj file).  Sizes come
 * from the tensors and must agree with each other and with the config. */
static g4_status bind_mm(binder *b) {
    g4_model *m = b->m;
    g4_config *c = &m->cfg;
    g4_weights *w = &m->w;
    g4_vision_weights *v = &w->vis;
    g4_status st;
    const int64_t d = c->d_model, P = G4_PATCH_DIM_MODEL;
    const g4_tensor *dense = g4_model_tensor(m, "v.patch_embd.weight");
    if (dense) {
        if (m->source == G4_SRC_GGUF) c->mm_dim = (int)G4_MIN(dense->ne[1], (int64_t)INT32_MAX);
        const int64_t mm = c->mm_dim;
        if ((st = bind_vec(b, "v.patch_norm.1.weight", P, &v->ln1_w))) return st;
        if ((st = bind_vec(b, "v.patch_norm.1.bias", P, &v->ln1_b))) return st;
        if ((st = bind(b, "v.patch_embd.weight", 0, P, mm, &v->dense))) return st;
        if ((st = bind_vec(b, "v.patch_embd.bias", mm, &v->dense_b))) return st;
        if ((st = bind_vec(b, "v.patch_norm.2.weight", mm, &v->ln2_w))) return st;
        if ((st = bind_vec(b, "v.patch_norm.2.bias", mm, &v->ln2_b))) return st;
        if ((st = bind_vec(b, "v.patch_norm.3.weight", mm, &v->ln3_w))) return st;
        if ((st = bind_vec(b, "v.patch_norm.3.bias", mm, &v->ln3_b))) return st;
        if ((st = bind(b, "mm.input_projection.weight", 0, mm, d, &v->proj))) return st;
        const g4_tensor *pos = g4_model_tensor(m, "v.position_embd.weight");
        if (!pos) return g4_errf(b->err, G4_EFORMAT, "%s: missing tensor v.position_embd.weight", m->path);
        /* HF keeps [posemb][2][mm] (ne = mm, 2, posemb); llama.cpp's mmproj [2][posemb][mm] */
        v->pos_interleaved = m->source == G4_SRC_HF;
        if (!v->pos_interleaved) c->posemb_size = (int)G4_MIN(pos->ne[1], (int64_t)INT32_MAX);
        const int64_t want1 = v->pos_interleaved ? 2 : c->posemb_size, want2 = v->pos_interleaved ? c->posemb_size : 2;
        if (pos->ne[0] != mm || pos->ne[1] != want1 || pos->ne[2] != want2 || pos->ne[3] != 1 || !g4_type_get(pos->type) ||
            g4_type_get(pos->type)->blck != 1)
            return g4_errf(b->err, G4_EFORMAT, "%s: tensor v.position_embd.weight has shape [%lld, %lld, %lld] type %d, "
                           "want an f32/f16/bf16 [%lld, %lld, %lld]", m->path, (long long)pos->ne[0], (long long)pos->ne[1],
                           (long long)pos->ne[2], (int)pos->type, (long long)mm, (long long)want1, (long long)want2);
        v->pos = *pos;
        v->pos.ne[1] = 2 * (int64_t)c->posemb_size;
        v->pos.ne[2] = 1;
        v->patch_chw = m->source == G4_SRC_GGUF;
        w->has_vision = 1;
        const int vid[] = {c->boi_id, c->eoi_id, c->image_id, c->video_id};
        for (int i = 0; i < 4; i++)
            if (vid[i] < 0 || vid[i] >= c->n_vocab)
                return g4_errf(b->err, G4_EFORMAT, "%s: image token id %d outside the vocabulary (%d)", m->path, vid[i], c->n_vocab);
    }
    if (g4_model_tensor(m, "mm.a.input_projection.weight")) {
        if ((st = bind(b, "mm.a.input_projection.weight", 0, c->audio_dim, d, &w->audio_proj))) return st;
        w->has_audio = 1;
        const int aid[] = {c->boa_id, c->eoa_id, c->audio_id};
        for (int i = 0; i < 3; i++)
            if (aid[i] < 0 || aid[i] >= c->n_vocab)
                return g4_errf(b->err, G4_EFORMAT, "%s: audio token id %d outside the vocabulary (%d)", m->path, aid[i], c->n_vocab);
    }
    return G4_OK;
}

static g4_status bind_weights(g4_model *m, char *err) {
    g4_config *c = &m->cfg;
    /* converted vectors: at most every norm of every layer + output norm + scalars + embedder norms */
    const g4_tensor *dense = g4_model_tensor(m, "v.patch_embd.weight");
    const size_t mm_max = dense ? (size_t)G4_MAX(dense->ne[1], (int64_t)c->mm_dim) : 0;
    size_t floats = (size_t)c->d_model * (4 * (size_t)c->n_layer + 1) +
                    2 * (size_t)G4_MAX(c->d_head_full, c->d_head_swa) * (size_t)c->n_layer + (size_t)c->n_layer +
                    (dense ? 2 * (size_t)G4_PATCH_DIM_MODEL + 7 * mm_max : 0);
    m->owned = g4_malloc(floats * sizeof(float));
    if (!m->owned) return g4_errf(err, G4_ENOMEM, "%s: out of memory", m->path);
    binder b = {m, m->owned, err, m->source == G4_SRC_HF && c->arch == G4_ARCH_GEMMA3};
    g4_weights *w = &m->w;
    g4_status st;
    const int64_t d = c->d_model;
    if ((st = bind(&b, "token_embd.weight", 0, d, c->n_vocab, &w->tok_embd))) return st;
    if ((st = bind_vec(&b, "output_norm.weight", d, &w->output_norm))) return st;
    char name[96];
#define NAME(s) (snprintf(name, sizeof name, "blk.%d." s, l), name)
    for (int l = 0; l < c->n_layer; l++) {
        g4_layer_weights *L = &w->layer[l];
        const int64_t hd = g4_layer_d_head(c, l), nkv = g4_layer_n_kv(c, l);
        if ((st = bind_vec(&b, NAME("attn_norm.weight"), d, &L->attn_norm))) return st;
        if ((st = bind(&b, NAME("attn_q.weight"), 0, d, c->n_head * hd, &L->attn_q))) return st;
        if ((st = bind(&b, NAME("attn_k.weight"), 0, d, nkv * hd, &L->attn_k))) return st;
        int v_optional = c->is_full[l] && c->k_eq_v;
        if ((st = bind(&b, NAME("attn_v.weight"), v_optional, d, nkv * hd, &L->attn_v))) return st;
        if (v_optional && L->attn_v)
            return g4_errf(err, G4_EFORMAT, "%s: layer %d has attn_v but the config says full layers take V from K", m->path, l);
        if ((st = bind(&b, NAME("attn_output.weight"), 0, c->n_head * hd, d, &L->attn_output))) return st;
        if ((st = bind_vec(&b, NAME("attn_q_norm.weight"), hd, &L->attn_q_norm))) return st;
        if ((st = bind_vec(&b, NAME("attn_k_norm.weight"), hd, &L->attn_k_norm))) return st;
        if ((st = bind_vec(&b, NAME("post_attention_norm.weight"), d, &L->post_attn_norm))) return st;
        if ((st = bind_vec(&b, NAME("ffn_norm.weight"), d, &L->ffn_norm))) return st;
        if ((st = bind(&b, NAME("ffn_gate.weight"), 0, d, c->d_ff, &L->ffn_gate))) return st;
        if ((st = bind(&b, NAME("ffn_up.weight"), 0, d, c->d_ff, &L->ffn_up))) return st;
        if ((st = bind(&b, NAME("ffn_down.weight"), 0, c->d_ff, d, &L->ffn_down))) return st;
        if ((st = bind_vec(&b, NAME("post_ffw_norm.weight"), d, &L->post_ffn_norm))) return st;
        const g4_tensor *ls;
        if ((st = bind(&b, NAME("layer_output_scale.weight"), 1, 1, 1, &ls))) return st;
        L->layer_scalar = 1.0f;
        if (ls) {
            float tmp[1];
            const g4_type_info *ti = g4_type_get(ls->type);
            if (ti->blck != 1) return g4_errf(err, G4_EFORMAT, "%s: %s must be f32/f16/bf16", m->path, name);
            ti->to_f32(ls->data, tmp, 1);
            if (!isfinite(tmp[0])) return g4_errf(err, G4_EFORMAT, "%s: %s is not finite", m->path, name);
            L->layer_scalar = tmp[0];
        }
    }
#undef NAME
    if ((st = bind_mm(&b))) return st;
    m->owned_bytes = (size_t)((char *)b.owned - (char *)m->owned);
    return G4_OK;
}

/* ---- entry points ------------------------------------------------------------------------ */

static g4_status read_small_file(const char *path, char **out, size_t *len, char *err) {
    FILE *fp = fopen(path, "rb");
    if (!fp) return g4_errf(err, G4_EIO, "%s: %s", path, strerror(errno));
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n == cap) {
            if (cap >= (64u << 20)) { fclose(fp); g4_free(buf); return g4_errf(err, G4_EFORMAT, "%s: too large", path); }
            cap = cap ? cap * 2 : 4096;
            char *nb = g4_realloc(buf, cap);
            if (!nb) { fclose(fp); g4_free(buf); return g4_errf(err, G4_ENOMEM, "%s: out of memory", path); }
            buf = nb;
        }
        size_t r = fread(buf + n, 1, cap - n, fp);
        n += r;
        if (r == 0) break;
    }
    int bad = ferror(fp);
    fclose(fp);
    if (bad) { g4_free(buf); return g4_errf(err, G4_EIO, "%s: read error", path); }
    *out = buf;
    *len = n;
    return G4_OK;
}

static g4_status load_hf(g4_model *m, char *err) {
    char cfgpath[4096];
    snprintf(cfgpath, sizeof cfgpath, "%s/config.json", m->path);
    char *json = NULL;
    size_t len = 0;
    g4_status st = read_small_file(cfgpath, &json, &len, err);
    if (st) return st;
    st = g4_hfconfig_parse(json, len, cfgpath, &m->cfg, err);
    g4_free(json);
    if (st) return st;
    /* the processor's settings that the engine adopts as defaults (image soft tokens); optional */
    snprintf(cfgpath, sizeof cfgpath, "%s/processor_config.json", m->path);
    if (access(cfgpath, F_OK) == 0) {
        if ((st = read_small_file(cfgpath, &json, &len, err))) return st;
        st = g4_hfprocessor_parse(json, len, cfgpath, &m->cfg, err);
        g4_free(json);
        if (st) return st;
    }
    if ((st = g4_st_open_dir(&m->st, m->path, err))) return st;
    return table_build(m, (int)g4_st_n_tensors(m->st), st_get, m->st, 1, &m->names, err);
}

/* Everything after the GGUF is open (from a file or from memory). */
static g4_status load_gguf_opened(g4_model *m, char *err) {
    g4_status st;
    if (g4_gguf_n_tensors(m->gguf) > INT32_MAX) return g4_errf(err, G4_EFORMAT, "%s: too many tensors", m->path);
    if ((st = config_from_gguf(m, err))) return st;
    return table_build(m, (int)g4_gguf_n_tensors(m->gguf), gguf_get, m->gguf, 0, &m->names, err);
}

static g4_status load_gguf(g4_model *m, char *err) {
    g4_status st = g4_gguf_open(&m->gguf, m->path, err);
    return st ? st : load_gguf_opened(m, err);
}

/* Validate the config, bind the weights, and hand m out (or free it on error). */
static g4_status load_finish(g4_model **out, g4_model *m, g4_status st, char *err) {
    if (!st) st = g4_config_validate(&m->cfg, m->path, err);
    if (!st) st = bind_weights(m, err);
    if (st) { g4_model_free(m); return st; }
    *out = m;
    return G4_OK;
}

/* Attach a llama.cpp mmproj file: a `clip` GGUF with the gemma4uv / gemma4ua projectors. */
static g4_status load_mmproj(g4_model *m, const char *path, char *err) {
    g4_status st = g4_gguf_open(&m->mmproj, path, err);
    if (st) return st;
    const char *arch; size_t alen;
    if (!g4_gguf_get_str(m->mmproj, "general.architecture", &arch, &alen) || alen != 4 || memcmp(arch, "clip", 4))
        return g4_errf(err, G4_EINVAL, "%s: not a multimodal projector file (general.architecture must be \"clip\")", path);
    static const char *const keys[] = {"clip.vision.projector_type", "clip.audio.projector_type"};
    static const char *const want[] = {"gemma4uv", "gemma4ua"};
    int found = 0;
    for (int i = 0; i < 2; i++) {
        const char *pt; size_t pl;
        if (!g4_gguf_get_str(m->mmproj, keys[i], &pt, &pl)) continue;
        if (pl != strlen(want[i]) || memcmp(pt, want[i], pl))
            return g4_errf(err, G4_EUNSUPPORTED, "%s: %s '%.*s' not supported (want %s: Gemma 4 12B's encoder-free "
                           "embedders)", path, keys[i], (int)G4_MIN(pl, 64), pt, want[i]);
        found++;
    }
    if (!found) return g4_errf(err, G4_EFORMAT, "%s: no clip.vision/audio.projector_type key", path);
    /* (clip.vision.attention.layer_norm_epsilon is not read: llama.cpp's converter writes 1e-6 there, while
     * the reference's patch LayerNorms use torch's default 1e-5, which we keep) */
    for (int64_t i = 0; i < g4_gguf_n_tensors(m->mmproj); i++) {
        const char *name = g4_gguf_tensor(m->mmproj, i)->name;
        if (strncmp(name, "v.", 2) && strncmp(name, "mm.", 3)) continue;
        if (g4_model_tensor(m, name))
            return g4_errf(err, G4_EINVAL, "%s: tensor %s is already in the model file (it has its own embedders)", path, name);
    }
    if (g4_gguf_n_tensors(m->mmproj) > INT32_MAX) return g4_errf(err, G4_EFORMAT, "%s: too many tensors", path);
    return table_build(m, (int)g4_gguf_n_tensors(m->mmproj), gguf_get, m->mmproj, 0, &m->names_mm, err);
}

g4_status g4_model_load(g4_model **out, const char *path, char *err) { return g4_model_load_mm(out, path, NULL, err); }

g4_status g4_model_load_mm(g4_model **out, const char *path, const char *mmproj, char *err) {
    *out = NULL;
    struct stat sb;
    if (stat(path, &sb) != 0) return g4_errf(err, G4_EIO, "%s: %s", path, strerror(errno));
    g4_model *m = g4_calloc(1, sizeof *m);
    if (!m || !(m->path = g4_strdup(path))) {
        g4_free(m);
        return g4_errf(err, G4_ENOMEM, "%s: out of memory", path);
    }
    m->source = S_ISDIR(sb.st_mode) ? G4_SRC_HF : G4_SRC_GGUF;
    g4_status st = m->source == G4_SRC_HF ? load_hf(m, err) : load_gguf(m, err);
    if (!st && mmproj) st = load_mmproj(m, mmproj, err);
    return load_finish(out, m, st, err);
}

g4_status g4_model_load_gguf_mem(g4_model **out, const void *data, size_t size, const char *name, char *err) {
    *out = NULL;
    if (!name) name = "<memory>";
    g4_model *m = g4_calloc(1, sizeof *m);
    if (!m || !(m->path = g4_strdup(name))) {
        g4_free(m);
        return g4_errf(err, G4_ENOMEM, "%s: out of memory", name);
    }
    m->source = G4_SRC_GGUF;
    g4_status st = g4_gguf_open_mem(&m->gguf, data, size, name, err);
    if (!st) st = load_gguf_opened(m, err);
    return load_finish(out, m, st, err);
}

void g4_model_free(g4_model *m) {
    if (!m) return;
    if (m->gguf) g4_gguf_close(m->gguf);
    if (m->st) g4_st_close(m->st);
    if (m->mmproj) g4_gguf_close(m->mmproj);
    g4_free(m->packed);
    g4_free(m->tensors);
    g4_free(m->names);
    g4_free(m->names_mm);
    g4_free(m->owned);
    g4_free(m->path);
    g4_free(m);
}

size_t g4_model_weight_bytes(const g4_model *m) {
    size_t n = 0;
    for (int i = 0; i < m->n_tensors; i++) n += m->tensors[i].nbytes;
    return n;
}
