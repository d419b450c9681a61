/* backend.h -- the compute interface the model code calls; the CPU implements it now, CUDA later.
 *
 * A backend is {iface, ctx} (ggml-backend style).  Activations are float buffers obtained from
 * g4_be_alloc (host memory for the CPU backend, device memory for a GPU one); weights are
 * g4_tensor views.  Every op is synchronous from the caller's point of view unless the backend
 * says otherwise through `sync`.  Ops are deterministic: the same inputs and thread count give
 * bit-identical outputs.  A backend object is used by one context (one thread) at a time.
 */
#ifndef G4_BACKEND_H
#define G4_BACKEND_H

#include <stdint.h>

#include "common.h"
#include "types.h"

typedef struct {
    const char *name;
    void (*free)(void *ctx);
    /* Prepare for weight rows of up to max_row elements and matmuls of up to max_tok tokens (scratch);
     * G4_ENOMEM on failure. */
    g4_status (*reserve)(void *ctx, int64_t max_row, int max_tok);
    void *(*alloc)(void *ctx, size_t nbytes);           /* zeroed; NULL on failure */
    void (*release)(void *ctx, void *buf);
    /* y[t][r] = sum_i w[r][i] * x[t][i] for t < n_tok; w has ne[0] = n_in, ne[1] = n_out. */
    void (*matmul)(void *ctx, const g4_tensor *w, const float *x, int n_tok, float *y);
    /* out[i][:] = row ids[i] of w (as f32) * scale */
    void (*get_rows)(void *ctx, const g4_tensor *w, const int *ids, int n, float scale, float *out);
    /* x[r][:] = x[r][:] / sqrt(mean(x^2) + eps) * (w ? w : 1), rows of n, in place */
    void (*rmsnorm)(void *ctx, float *x, const float *w, int64_t n_rows, int64_t n, float eps);
    /* torch LayerNorm in place: x[r][:] = (x - mean) / sqrt(var + eps) * w + b (biased variance) */
    void (*layernorm)(void *ctx, float *x, const float *w, const float *b, int64_t n_rows, int64_t n, float eps);
    /* y[r][:] += b[:] for n_rows rows of n (a Linear layer's bias) */
    void (*add_bias)(void *ctx, float *y, const float *b, int64_t n_rows, int64_t n);
    /* NeoX rope in place: x is [n_tok][n_heads][hd]; pairs (i, i + hd/2) for i < n_pairs are rotated by
     * cos/sin tables of [n_tok][n_pairs]; other dims are untouched. */
    void (*rope)(void *ctx, float *x, int n_tok, int n_heads, int hd, int n_pairs, const float *cos_t, const float *sin_t);
    /* Causal (optionally sliding) attention over a KV ring.  q: [n_tok][n_head][hd];
     * k, v: [cap][n_kv][hd], the key of position p at slot p % cap; query t sits at position
     * pos = pos0 + t and sees keys at positions max(0, pos-window+1) .. pos.  last >= 0 makes the
     * batch one bidirectional block [pos0, last = pos0 + n_tok - 1] (an image's soft tokens, spec §2.5):
     * every query also sees the whole block, i.e. min(pos-window+1, pos0) .. last.  out: [n_tok][n_head][hd].
     * kv_type: G4_TYPE_F32 or G4_TYPE_F16 (rows of n_kv * hd values of that type). */
    void (*attention)(void *ctx, const float *q, int n_tok, int n_head, int n_kv, int hd, const void *k,
                      const void *v, int kv_type, int64_t cap, int64_t pos0, int64_t window, int64_t last, float scale,
                      float *out);
    /* dst (n values of kv_type, F32 or F16) = src (f32), rounded to nearest for f16 */
    void (*store_kv)(void *ctx, void *dst, int kv_type, const float *src, int64_t n);
    /* gate[i] = gelu_tanh(gate[i]) * up[i] */
    void (*geglu)(void *ctx, float *gate, const float *up, int64_t n);
    /* y[i] = (y[i] + x[i]) * s */
    void (*add_scale)(void *ctx, float *y, const float *x, int64_t n, float s);
    /* x[i] = cap * tanh(x[i] / cap) */
    void (*softcap)(void *ctx, float *x, int64_t n, float cap);
    void (*copy)(void *ctx, float *dst, const float *src, int64_t n);
    void (*download)(void *ctx, float *host_dst, const float *src, int64_t n);
    void (*upload)(void *ctx, float *dst, const float *host_src, int64_t n);
    void (*sync)(void *ctx); /* (optional) wait for queued work; NULL = ops are synchronous */
} g4_backend_iface;

typedef struct {
    const g4_backend_iface *iface;
    void *ctx;
} g4_backend;

/* The CPU backend with its own thread pool of n_threads (>= 1).  int8_act: matmuls on q8_0/q4_0/q4_K/q6_K weights
 * quantize the activations to 8 bits and use integer dot products (qdot.h; within half an activation step
 * of the f32 result): all of them for weights with a packed layout (g4_tensor.packed), decode-sized ones
 * (<= G4_MULTI_MAX tokens) otherwise; 0 keeps activations in f32. */
g4_status g4_backend_cpu_new(g4_backend *be, int n_threads, int int8_act, char *err);
static inline void g4_backend_free(g4_backend *be) { if (be->iface) be->iface->free(be->ctx); be->iface = NULL; }

#endif
