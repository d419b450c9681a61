/* ctx.h -- per-sequence inference state: KV cache, activation buffers, backend.
 *
 * One g4_ctx per conversation/request, used by one thread at a time; many may share one
 * g4_model.  The KV cache keeps, per layer, a ring of slots: sliding layers need only the last
 * `sliding_window` positions (plus one batch), full layers keep every position up to n_ctx.
 * g4_ctx_eval runs the forward pass (forward.c) over new tokens at positions n_past..,
 * splitting long inputs into batches of at most n_batch tokens.
 */
#ifndef G4_CTX_H
#define G4_CTX_H

#include "../core/backend.h"
#include "model.h"

/* g4_ctx_params and the function prototypes are in include/gemma4.h */
struct g4_ctx {
    const g4_model *model;
    g4_backend be;
    g4_ctx_params p;
    int64_t n_past;                   /* positions already in the cache */
    void *k[G4_MAX_LAYERS];           /* [cap][n_kv][d_head] per layer (post k_norm + rope), kv_type */
    void *v[G4_MAX_LAYERS];           /* [cap][n_kv][d_head] per layer (post v_norm), kv_type */
    int kv_type;                      /* G4_TYPE_F32, or G4_TYPE_F16 with p.kv_f16 */
    int64_t cap[G4_MAX_LAYERS];       /* ring slots per layer */
    size_t kv_bytes;
    /* activations for one batch (n_batch rows) */
    float *h, *x, *q, *kr, *vr, *att, *o, *gate, *up;
    float *cos_swa, *sin_swa, *cos_full, *sin_full; /* rope tables [n_batch][pairs] */
};

/* Bytes the KV cache of a context with these sizes takes (f32 K and V, or f16 with kv_f16). */
size_t g4_ctx_kv_bytes(const g4_config *c, int n_ctx, int n_batch, int kv_f16);

g4_status g4_ctx_new(g4_ctx **out, const g4_model *m, const g4_ctx_params *p, char *err);
void g4_ctx_free(g4_ctx *c);
/* For benchmarks: pretend n positions were evaluated.  Every layer's K/V slots for them get pseudo-random
 * values in [-1, 1) and n_past = n, so the next steps attend over n positions and cost what they would
 * after a real prefill of that length (the values are meaningless).  EINVAL when n exceeds n_ctx. */
g4_status g4_ctx_fill_synthetic(g4_ctx *c, int64_t n, char *err);
/* Forget the sequence (the cache is simply overwritten from position 0). */
void g4_ctx_reset(g4_ctx *c);
/* Drop positions >= n_past (e.g. rejected draft tokens); n_past may only shrink. */
g4_status g4_ctx_truncate(g4_ctx *c, int64_t n_past, char *err);

/* Evaluate n tokens.  logits (host memory) receives n_vocab floats per token when all_logits,
 * else only for the last token.  Errors: id out of range, context full. */
g4_status g4_ctx_eval(g4_ctx *c, const int *ids, int n, float *logits, int all_logits, char *err);

/* Evaluate n rows of soft-token embeddings ([n][d_model], host memory) at the next positions;
 * bidir: the rows are one image block (they all see each other, in every layer, as transformers'
 * generate() computes it), which must fit in one batch.  logits as for g4_ctx_eval; NULL when none are wanted (also for g4_ctx_eval). */
g4_status g4_ctx_eval_embd(g4_ctx *c, const float *embd, int n, int bidir, float *logits, int all_logits, char *err);

/* One decode step of n sequences together (continuous batching): token i is appended to cs[i] at its
 * next position; the weight products run once for all n rows (cs[0]'s buffers and threads), each row
 * attends over its own context's cache.  logits: n rows of n_vocab.  The contexts must be distinct,
 * of one model, n <= cs[0]'s n_batch and <= G4_MAX_MULTI. */
#define G4_MAX_MULTI 256
g4_status g4_ctx_decode_multi(g4_ctx *const *cs, const int *tokens, int n, float *logits, char *err);

/* The embedders (embed.c): n patches of 6912 floats in HF order (y, x, c) with their (x, y) patch
 * positions, or n audio frames of 640 samples -> n rows of d_model floats in out (host memory). */
g4_status g4_ctx_embed_image(g4_ctx *c, const float *patches, const int *pos_xy, int n, float *out, char *err);
g4_status g4_ctx_embed_audio(g4_ctx *c, const float *frames, int n, float *out, char *err);

#endif
