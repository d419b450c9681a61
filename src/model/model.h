/* model.h -- a loaded Gemma 4 model: config + weight views, immutable after load.
 *
 * g4_model_load opens either a GGUF file (llama.cpp's `gemma4` layout) or a Hugging Face
 * directory (config.json + safetensors), maps the weights and points g4_weights at them in
 * place.  Tensor names are canonicalised to the GGUF spelling (token_embd.weight,
 * blk.N.attn_q.weight, ...), shapes are checked against the config, and the few tensors that
 * must be f32 for the kernels (norm vectors, layer scalars) are converted once into `owned`
 * memory, which info reports.  A g4_model is read-only after load: any number of contexts
 * (g4_ctx, in ctx.h) on any threads may share it.
 */
#ifndef G4_MODEL_H
#define G4_MODEL_H

#include <stdbool.h>

#include "../core/common.h"
#include "../core/types.h"
#include "config.h"

#define G4_PATCH_DIM_MODEL 6912 /* 48 x 48 x 3 pixels per vision soft token */

typedef struct {
    const g4_tensor *attn_norm;      /* input_layernorm            (d_model) f32 */
    const g4_tensor *attn_q;         /* q_proj          (d_model -> n_head*d_head) */
    const g4_tensor *attn_k;         /* k_proj          (d_model -> n_kv*d_head) */
    const g4_tensor *attn_v;         /* v_proj, NULL on k_eq_v full layers */
    const g4_tensor *attn_output;    /* o_proj          (n_head*d_head -> d_model) */
    const g4_tensor *attn_q_norm;    /* q_norm          (d_head) f32 */
    const g4_tensor *attn_k_norm;    /* k_norm          (d_head) f32 */
    const g4_tensor *post_attn_norm; /* post_attention_layernorm (d_model) f32 */
    const g4_tensor *ffn_norm;       /* pre_feedforward_layernorm (d_model) f32 */
    const g4_tensor *ffn_gate;       /* mlp.gate_proj   (d_model -> d_ff) */
    const g4_tensor *ffn_up;         /* mlp.up_proj     (d_model -> d_ff) */
    const g4_tensor *ffn_down;       /* mlp.down_proj   (d_ff -> d_model) */
    const g4_tensor *post_ffn_norm;  /* post_feedforward_layernorm (d_model) f32 */
    float layer_scalar;              /* layer_scalar ("layer_output_scale") */
} g4_layer_weights;

/* The encoder-free vision embedder (HF Gemma4UnifiedVisionEmbedder, llama.cpp mmproj `gemma4uv`). */
typedef struct {
    const g4_tensor *ln1_w, *ln1_b;  /* patch_ln1 (6912) f32 */
    const g4_tensor *dense, *dense_b;/* patch_dense (6912 -> mm_dim), bias f32 */
    const g4_tensor *ln2_w, *ln2_b;  /* patch_ln2 (mm_dim) f32 */
    g4_tensor pos;                   /* pos_embedding viewed as rows of mm_dim: 2 * posemb_size rows */
    int pos_interleaved;             /* HF [posemb][2][mm]: row g*2+axis; GGUF [2][posemb][mm]: axis*posemb+g */
    const g4_tensor *ln3_w, *ln3_b;  /* pos_norm (mm_dim) f32 */
    const g4_tensor *proj;           /* embedding_projection (mm_dim -> d_model), after an unweighted RMSNorm */
    int patch_chw;                   /* patch vectors (c, y, x) as llama.cpp's mmproj permutes them; else (y, x, c) */
} g4_vision_weights;

typedef struct {
    const g4_tensor *tok_embd;       /* embed_tokens (d_model x n_vocab), also the tied LM head */
    const g4_tensor *output_norm;    /* final norm (d_model) f32 */
    g4_layer_weights layer[G4_MAX_LAYERS];
    int has_vision, has_audio;
    g4_vision_weights vis;
    const g4_tensor *audio_proj;     /* embed_audio.embedding_projection (640 -> d_model) */
} g4_weights;

typedef enum { G4_SRC_GGUF, G4_SRC_HF } g4_source_kind;

struct g4_model {
    g4_config cfg;
    g4_weights w;
    g4_source_kind source;
    char *path;
    struct g4_gguf *gguf;    /* when source == G4_SRC_GGUF */
    struct g4_gguf *mmproj;  /* a separate llama.cpp-style projector file (--mmproj), or NULL */
    struct g4_st *st;        /* when source == G4_SRC_HF */
    /* canonical name -> tensor, for everything the model uses (n_tensors entries) */
    int n_tensors;
    g4_tensor *tensors;      /* canonical views (names owned by `names`) */
    char *names;
    char *names_mm;          /* names of the tensors taken from the mmproj file */
    size_t owned_bytes;      /* bytes converted/copied at load (reported by info) */
    void *owned;             /* one block for converted f32 vectors */
    size_t packed_bytes;     /* g4_model_pack_q8: matrices in the kernels' layout */
    void *packed;
};

/* Load a GGUF file or an HF directory (auto-detected).  On error *out is NULL and err names
 * the path and the problem. */
g4_status g4_model_load(g4_model **out, const char *path, char *err);
/* Same, for GGUF bytes in memory (not copied: they must outlive the model); name stands in for
 * the path in messages.  For fuzzing and tests. */
g4_status g4_model_load_gguf_mem(g4_model **out, const void *data, size_t size, const char *name, char *err);
/* The same plus the vision/audio embedders from a separate mmproj GGUF (llama.cpp's
 * `clip` file with projector gemma4uv / gemma4ua); mmproj may be NULL. */
g4_status g4_model_load_mm(g4_model **out, const char *path, const char *mmproj, char *err);
void g4_model_free(g4_model *m);

/* Canonical tensor by name (GGUF spelling), NULL if absent. */
const g4_tensor *g4_model_tensor(const g4_model *m, const char *name);

/* Total bytes of weights referenced in place (mapped). */
size_t g4_model_weight_bytes(const g4_model *m);

#endif
