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

typedef struct {
    const g4_tensor *tok_embd;       /* embed_tokens (d_model x n_vocab), also the tied LM head */
    const g4_tensor *output_norm;    /* final norm (d_model) f32 */
    g4_layer_weights layer[G4_MAX_LAYERS];
} g4_weights;

typedef enum { G4_SRC_GGUF, G4_SRC_HF } g4_source_kind;

struct g4_model {
    g4_config cfg;
    g4_weights w;
    g4_source_kind source;
    char *path;
    struct g4_gguf *gguf;    /* when source == G4_SRC_GGUF */
    struct g4_st *st;        /* when source == G4_SRC_HF */
    /* canonical name -> tensor, for everything the model uses (n_tensors entries) */
    int n_tensors;
    g4_tensor *tensors;      /* canonical views (names owned by `names`) */
    char *names;
    size_t owned_bytes;      /* bytes converted/copied at load (reported by info) */
    void *owned;             /* one block for converted f32 vectors */
};

/* Load a GGUF file or an HF directory (auto-detected).  On error *out is NULL and err names
 * the path and the problem. */
g4_status g4_model_load(g4_model **out, const char *path, char *err);
/* Same, for GGUF bytes in memory (not copied: they must outlive the model); name stands in for
 * the path in messages.  For fuzzing and tests. */
g4_status g4_model_load_gguf_mem(g4_model **out, const void *data, size_t size, const char *name, char *err);
void g4_model_free(g4_model *m);

/* Canonical tensor by name (GGUF spelling), NULL if absent. */
const g4_tensor *g4_model_tensor(const g4_model *m, const char *name);

/* Total bytes of weights referenced in place (mapped). */
size_t g4_model_weight_bytes(const g4_model *m);

#endif
