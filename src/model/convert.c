/* convert.c -- model -> GGUF writer (see convert.h). */
#include "convert.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../core/quant.h"
#include "../text/tokenizer.h"
#include "convert_internal.h"
#include "gguf.h"

/* llama.cpp's llama_ftype for general.file_type */
static int file_type_of(int type) {
    switch (type) {
    case G4_TYPE_F32: return 0;
    case G4_TYPE_F16: return 1;
    case G4_TYPE_Q4_0: return 2;
    case G4_TYPE_Q8_0: return 7;
    case G4_TYPE_BF16: return 32;
    default: return -1;
    }
}

void *g4_buflist_alloc(g4_buflist *b, size_t n) {
    if (b->n == b->cap) {
        int nc = b->cap ? b->cap * 2 : 64;
        void **nb = g4_realloc(b->bufs, (size_t)nc * sizeof *nb);
        if (!nb) return NULL;
        b->bufs = nb;
        b->cap = nc;
    }
    void *p = g4_malloc(n);
    if (p) b->bufs[b->n++] = p;
    return p;
}

void g4_buflist_free(g4_buflist *b) {
    for (int i = 0; i < b->n; i++) g4_free(b->bufs[i]);
    g4_free(b->bufs);
}

g4_status g4_convert_add_as(g4_gguf_writer *w, g4_buflist *bl, const g4_tensor *t, int type, char *err, const char *path) {
    if ((int)t->type == type)
        return g4_gguf_add_tensor(w, t->name, t->type, t->n_dims, t->ne, t->data, t->nbytes);
    const g4_type_info *src = g4_type_get(t->type), *dst = g4_type_get(type);
    const int64_t n = g4_tensor_nelem(t), row = t->ne[0], rows = n / row;
    const size_t rb = g4_row_size(type, row);
    if (!rb) return g4_errf(err, G4_EINVAL, "%s: tensor %s: row of %lld does not fit %s blocks", path, t->name,
                            (long long)row, dst->name);
    float *tmp = g4_malloc((size_t)row * sizeof(float));
    uint8_t *out = g4_buflist_alloc(bl, rb * (size_t)rows);
    if (!tmp || !out) { g4_free(tmp); return g4_errf(err, G4_ENOMEM, "%s: out of memory converting %s", path, t->name); }
    const size_t srb = g4_row_size(t->type, row);
    for (int64_t r = 0; r < rows; r++) {
        src->to_f32((const uint8_t *)t->data + (size_t)r * srb, tmp, row);
        dst->from_f32(tmp, out + (size_t)r * rb, row);
    }
    g4_free(tmp);
    return g4_gguf_add_tensor(w, t->name, (g4_type)type, t->n_dims, t->ne, out, rb * (size_t)rows);
}

/* An HF directory's tokenizer.json, stored as llama.cpp's gemma4 converter stores it.
 * *done = 0 when the directory has none. */
static g4_status write_hf_tokenizer(g4_gguf_writer *w, const g4_model *m, int *done, char *err) {
    char path[4200];
    *done = 0;
    if (m->source != G4_SRC_HF || !m->path) return G4_OK;
    snprintf(path, sizeof path, "%s/tokenizer.json", m->path);
    if (access(path, F_OK) != 0) return G4_OK;
    g4_tokenizer *t;
    g4_status st = g4_tokenizer_load_hf(&t, path, err);
    if (st) return st;
    st = g4_tokenizer_write_gguf(t, w, m->cfg.n_vocab, err);
    g4_tokenizer_free(t);
    *done = !st;
    return st;
}

static g4_status write_keys(g4_gguf_writer *w, const g4_model *m, int type, char *err) {
    const g4_config *c = &m->cfg;
    g4_status st = G4_OK;
    int32_t kv[G4_MAX_LAYERS];
    uint8_t pat[G4_MAX_LAYERS];
    for (int l = 0; l < c->n_layer; l++) {
        kv[l] = g4_layer_n_kv(c, l);
        pat[l] = !c->is_full[l];
    }
    /* tokenizer and other metadata of a GGUF source come along unchanged */
    if (m->gguf && (st = g4_gguf_copy_kvs(w, m->gguf))) return st;
#define TRY(x) do { if ((st = (x))) return st; } while (0)
    TRY(g4_gguf_set_str(w, "general.architecture", "gemma4", 6));
    TRY(g4_gguf_set_u32(w, "general.file_type", (uint32_t)file_type_of(type)));
    TRY(g4_gguf_set_u32(w, "general.quantization_version", 2));
    TRY(g4_gguf_set_u32(w, "gemma4.context_length", (uint32_t)c->n_ctx_train));
    TRY(g4_gguf_set_u32(w, "gemma4.embedding_length", (uint32_t)c->d_model));
    TRY(g4_gguf_set_u32(w, "gemma4.block_count", (uint32_t)c->n_layer));
    TRY(g4_gguf_set_u32(w, "gemma4.feed_forward_length", (uint32_t)c->d_ff));
    TRY(g4_gguf_set_u32(w, "gemma4.attention.head_count", (uint32_t)c->n_head));
    TRY(g4_gguf_set_arr(w, "gemma4.attention.head_count_kv", G4_GGUF_INT32, kv, (uint64_t)c->n_layer));
    TRY(g4_gguf_set_u32(w, "gemma4.attention.key_length", (uint32_t)c->d_head_full));
    TRY(g4_gguf_set_u32(w, "gemma4.attention.value_length", (uint32_t)c->d_head_full));
    TRY(g4_gguf_set_u32(w, "gemma4.attention.key_length_swa", (uint32_t)c->d_head_swa));
    TRY(g4_gguf_set_u32(w, "gemma4.attention.value_length_swa", (uint32_t)c->d_head_swa));
    TRY(g4_gguf_set_u32(w, "gemma4.rope.dimension_count", (uint32_t)c->d_head_full));
    TRY(g4_gguf_set_u32(w, "gemma4.rope.dimension_count_swa", (uint32_t)c->d_head_swa));
    TRY(g4_gguf_set_f32(w, "gemma4.rope.freq_base", c->rope_theta_full));
    TRY(g4_gguf_set_f32(w, "gemma4.rope.freq_base_swa", c->rope_theta_swa));
    TRY(g4_gguf_set_u32(w, "gemma4.attention.sliding_window", (uint32_t)c->swa));
    TRY(g4_gguf_set_arr(w, "gemma4.attention.sliding_window_pattern", G4_GGUF_BOOL, pat, (uint64_t)c->n_layer));
    TRY(g4_gguf_set_f32(w, "gemma4.attention.layer_norm_rms_epsilon", c->rms_eps));
    if (c->final_softcap > 0) TRY(g4_gguf_set_f32(w, "gemma4.final_logit_softcapping", c->final_softcap));
    TRY(g4_gguf_set_u32(w, "gemma4.attention.shared_kv_layers", 0));
    TRY(g4_gguf_set_u32(w, "gemma4.embedding_length_per_layer_input", 0));
    TRY(g4_gguf_set_u32(w, "tokenizer.ggml.bos_token_id", (uint32_t)c->bos_id));
    TRY(g4_gguf_set_u32(w, "tokenizer.ggml.eos_token_id", (uint32_t)c->eos_id));
    if (c->n_eos > 0) { /* llama.cpp's key holds one id; ours keeps them all (g4_config.eos_ids) */
        int32_t eos[G4_MAX_EOS];
        for (int i = 0; i < c->n_eos; i++) eos[i] = c->eos_ids[i];
        TRY(g4_gguf_set_arr(w, "gemma4.eos_token_ids", G4_GGUF_INT32, eos, (uint64_t)c->n_eos));
    }
    if (c->image_tokens) TRY(g4_gguf_set_u32(w, "gemma4.image_soft_tokens", (uint32_t)c->image_tokens));
    TRY(g4_gguf_set_u32(w, "tokenizer.ggml.padding_token_id", (uint32_t)c->pad_id));
    /* An HF directory's tokenizer.json goes in as llama.cpp's converter writes it.  No tokenizer
     * at all: say so the way llama.cpp understands ("none" + vocab_size), so it still loads the
     * file for id-level use. */
    const char *tm; size_t tml;
    int have_tok = 0;
    TRY(write_hf_tokenizer(w, m, &have_tok, err));
    if (!have_tok && (!m->gguf || !g4_gguf_get_str(m->gguf, "tokenizer.ggml.model", &tm, &tml))) {
        TRY(g4_gguf_set_str(w, "tokenizer.ggml.model", "none", 4));
        TRY(g4_gguf_set_u32(w, "gemma4.vocab_size", (uint32_t)c->n_vocab));
    }
    int32_t sup[G4_MAX_EOS];
    int n_sup = 0;
    for (int i = 0; i < c->n_suppress; i++) /* ids past a small vocabulary would be out of range */
        if (c->suppress_ids[i] < c->n_vocab) sup[n_sup++] = c->suppress_ids[i];
    if (n_sup) TRY(g4_gguf_set_arr(w, "tokenizer.ggml.suppress_tokens", G4_GGUF_INT32, sup, (uint64_t)n_sup));
    /* the multimodal token ids (llama.cpp finds them by their text; a tokenizer-less file needs them) */
    if (m->w.has_vision || m->w.has_audio)
        for (int i = 0; i < G4_N_MM_IDS; i++) TRY(g4_gguf_set_u32(w, g4_mm_id_keys[i], (uint32_t)g4_config_mm_id_value(c, i)));
#undef TRY
    return G4_OK;
}

static int is_mm_tensor(const char *name) { return !strncmp(name, "v.", 2) || !strncmp(name, "mm.", 3); }

g4_status g4_model_write_gguf(const g4_model *m, const char *path, int type, char *err) {
    return g4_model_write_gguf_ex(m, path, type, 1, err);
}

g4_status g4_model_write_gguf_ex(const g4_model *m, const char *path, int type, int with_mm, char *err) {
    const g4_type_info *ti = g4_type_get(type);
    if (!ti || !ti->from_f32 || file_type_of(type) < 0)
        return g4_errf(err, G4_EUNSUPPORTED, "%s: writing type %s not supported yet (f32, f16, bf16, q8_0, q4_0)", path,
                       ti ? ti->name : "?");
    const g4_config *c = &m->cfg;
    if (c->arch != G4_ARCH_GEMMA4)
        return g4_errf(err, G4_EUNSUPPORTED, "%s: writing Gemma 3 models not supported yet (gemma4 only)", path);
    g4_gguf_writer *w = g4_gguf_writer_new();
    g4_buflist bl = {0};
    float *rope = NULL;
    if (err) err[0] = 0;
    if (!w) return g4_errf(err, G4_ENOMEM, "%s: out of memory", path);
    g4_status st = write_keys(w, m, type, err);
    /* proportional RoPE as llama.cpp expresses it: freq factors 1 (rotated) or 1e30 (not) */
    const int pairs = g4_rope_dims_full(c) / 2, half = c->d_head_full / 2;
    if (!st && pairs < half) {
        rope = g4_malloc((size_t)half * sizeof(float));
        if (!rope) st = G4_ENOMEM;
        else {
            for (int i = 0; i < half; i++) rope[i] = i < pairs ? 1.0f : 1e30f;
            int64_t ne[1] = {half};
            st = g4_gguf_add_tensor(w, "rope_freqs.weight", G4_TYPE_F32, 1, ne, rope, (size_t)half * sizeof(float));
        }
    }
    if (st) {
        if (!err || !err[0]) g4_errf(err, st, "%s: cannot build the GGUF header: %s", path, g4_status_str(st));
        goto done;
    }
    for (int i = 0; i < m->n_tensors && !st; i++) {
        const g4_tensor *t = &m->tensors[i];
        if (!strcmp(t->name, "rope_freqs.weight")) continue; /* rewritten above */
        if (is_mm_tensor(t->name)) continue;                  /* below, in llama.cpp's mmproj layout */
        const int is_matrix = t->n_dims >= 2 && t->ne[1] > 1;
        int want = G4_TYPE_F32;
        if (is_matrix) want = g4_row_size(type, t->ne[0]) ? type : G4_TYPE_F16;
        st = g4_convert_add_as(w, &bl, t, want, err, path);
        if (st == G4_ENOMEM && err && !err[0]) g4_errf(err, st, "%s: out of memory", path);
    }
    if (!st && with_mm) st = g4_convert_add_mm(w, &bl, m, type, path, err);
    if (!st) st = g4_gguf_writer_write(w, path, err);
done:
    g4_gguf_writer_free(w);
    g4_buflist_free(&bl);
    g4_free(rope);
    return st;
}
