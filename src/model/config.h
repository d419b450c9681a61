/* config.h -- hyper-parameters of a Gemma 4 text decoder (shared/spec/gemma4-12b.md §1.1).
 *
 * Filled from a Hugging Face config.json (config.c) or from GGUF `gemma4.*` keys
 * (model.c), then checked by g4_config_validate so that absurd values never reach the
 * allocator or the forward pass.  Names follow HF's Gemma4UnifiedTextConfig (in comments).
 */
#ifndef G4_CONFIG_H
#define G4_CONFIG_H

#include <stdint.h>

#include "../core/common.h"

#define G4_MAX_LAYERS 256
#define G4_MAX_EOS 8

typedef enum {
    G4_ARCH_GEMMA4 = 0,   /* gemma4_unified text decoder (the target) */
    G4_ARCH_GEMMA3 = 1,   /* Gemma 3 text (the real 270M check): no v_norm, no layer scalar,
                             attention scale 1/sqrt(head_dim), (1+w) norms folded in by converters */
} g4_arch;

typedef struct {
    g4_arch arch;
    int n_vocab;          /* vocab_size */
    int d_model;          /* hidden_size */
    int n_layer;          /* num_hidden_layers */
    int n_head;           /* num_attention_heads */
    int d_ff;             /* intermediate_size */
    int n_kv_swa;         /* num_key_value_heads (sliding layers) */
    int n_kv_full;        /* num_global_key_value_heads (full layers) */
    int d_head_swa;       /* head_dim */
    int d_head_full;      /* global_head_dim */
    int swa;              /* sliding_window */
    uint8_t is_full[G4_MAX_LAYERS]; /* layer_types[i] == "full_attention" */
    int k_eq_v;           /* attention_k_eq_v: full layers have no v_proj, V = raw K */
    float rope_theta_swa;   /* rope_parameters.sliding_attention.rope_theta */
    float rope_theta_full;  /* rope_parameters.full_attention.rope_theta */
    float rope_partial_full;/* full_attention.partial_rotary_factor ("proportional"); 1 = all dims */
    float rope_freq_scale_full; /* 1/factor of linear rope scaling on full layers (Gemma 3 4B+); 1 = none */
    float attn_scale;     /* q.k multiplier: 1.0 for Gemma 4 (query_pre_attn_scalar^-0.5 for Gemma 3) */
    int v_norm;           /* RMSNorm (no weight) on V: Gemma 4 yes, Gemma 3 no */
    float rms_eps;        /* rms_norm_eps */
    float final_softcap;  /* final_logit_softcapping; 0 = none */
    int n_ctx_train;      /* max_position_embeddings */
    int bos_id, eos_id, pad_id;
    int n_eos;  int eos_ids[G4_MAX_EOS];       /* generation stop ids */
    int n_suppress; int suppress_ids[G4_MAX_EOS]; /* logits forced to -inf when sampling */
    /* multimodal (Gemma4UnifiedConfig's vision_config / audio_config and token ids, §2-§4); whether
     * the embedders are there is decided by the weights (g4_weights.vision/audio) */
    int mm_dim;           /* vision_config.mm_embed_dim (patch dense output = projection input) */
    int posemb_size;      /* vision_config.mm_posemb_size: rows per axis of the position table */
    int audio_dim;        /* audio_config.audio_embed_dim: samples per audio token (640) */
    float vision_eps;     /* vision_config.rms_norm_eps (pre-projection RMSNorm) */
    float audio_eps;      /* audio_config.rms_norm_eps */
    float ln_eps;         /* the vision LayerNorms' eps (torch default 1e-5) */
    int bidir_vision;     /* use_bidirectional_attention == "vision": image blocks see each other in sliding layers */
    int boi_id, eoi_id, image_id, video_id, boa_id, eoa_id, audio_id;
    int image_tokens;     /* the image processor's max_soft_tokens (processor_config.json or the GGUF key
                           * gemma4.image_soft_tokens); 0 = not given, the engine's default (280) */
} g4_config;

/* Soft tokens per image when the user does not say: the model's own, else the processor's default 280. */
static inline int g4_config_image_tokens(const g4_config *c) { return c->image_tokens > 0 ? c->image_tokens : 280; }
/* The image soft-token budgets the reference processor allows. */
static inline int g4_image_tokens_valid(long t) { return t == 70 || t == 140 || t == 280 || t == 560 || t == 1120; }

static inline int g4_layer_d_head(const g4_config *c, int l) { return c->is_full[l] ? c->d_head_full : c->d_head_swa; }
static inline int g4_layer_n_kv(const g4_config *c, int l) { return c->is_full[l] ? c->n_kv_full : c->n_kv_swa; }

/* Number of rotated dims of a full-attention head (HF "proportional" rope:
 * 2*int(partial*d_head/2)); sliding heads rotate all d_head_swa dims. */
static inline int g4_rope_dims_full(const g4_config *c) {
    return 2 * (int)(c->rope_partial_full * (float)c->d_head_full / 2.0f);
}

/* The multimodal token ids in a fixed order (boi, eoi, image, video, boa, eoa, audio) with their GGUF
 * keys ("gemma4.boi_token_id", ...: ours; llama.cpp looks the tokens up by text instead). */
#define G4_N_MM_IDS 7
extern const char *const g4_mm_id_keys[G4_N_MM_IDS];
static inline int *g4_config_mm_id(g4_config *c, int i) {
    int *p[G4_N_MM_IDS] = {&c->boi_id, &c->eoi_id, &c->image_id, &c->video_id, &c->boa_id, &c->eoa_id, &c->audio_id};
    return p[i];
}
static inline int g4_config_mm_id_value(const g4_config *c, int i) { return *g4_config_mm_id((g4_config *)c, i); }

/* The 12B's generation defaults (eos 1,106,50; suppress 258883, 258882), used when the
 * file does not say otherwise. */
void g4_config_set_gemma4_defaults(g4_config *c);

/* Range checks: every count positive and sane, heads divide, layer count <= G4_MAX_LAYERS,
 * eps/thetas finite and > 0.  err names `what` (the file) and the field. */
g4_status g4_config_validate(const g4_config *c, const char *what, char *err);

/* Parse a Hugging Face config.json (gemma4_unified, or a bare gemma4 text config). */
g4_status g4_hfconfig_parse(const char *json, size_t len, const char *what, g4_config *c, char *err);

/* Parse a Hugging Face processor_config.json (optional beside config.json) into c: for now only
 * image_processor.max_soft_tokens -> c->image_tokens.  Other fields are the processor's and are ignored. */
g4_status g4_hfprocessor_parse(const char *json, size_t len, const char *what, g4_config *c, char *err);

/* The Gemma 3 reader (config_gemma3.c) behind g4_hfconfig_parse for model_type "gemma3" and
 * "gemma3_text": fills c (arch G4_ARCH_GEMMA3) from the parsed JSON root; does not validate. */
struct cJSON;
g4_status g4_hfconfig_parse_gemma3(const struct cJSON *root, const char *what, g4_config *c, char *err);

#endif
