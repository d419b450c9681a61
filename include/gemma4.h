/* gemma4.h -- the public API of libgemma4: load a Gemma 4 model, run sequences, sample.
 *
 *   g4_model *m;  g4_ctx *c;  char err[G4_ERR_LEN];
 *   if (g4_model_load(&m, "gemma-4-12b-it-Q4_0.gguf", err)) { puts(err); return 1; }
 *   g4_ctx_params cp = {.n_ctx = 8192, .n_threads = 8};
 *   g4_ctx_new(&c, m, &cp, err);
 *   float *logits = malloc(sizeof(float) * g4_model_n_vocab(m));
 *   g4_ctx_eval(c, prompt_ids, n, logits, 0, err);       // prefill; logits of the last token
 *   g4_sampler_params sp; g4_sampler_params_default(&sp);
 *   g4_sampler *s = g4_sampler_new(&sp, g4_model_n_vocab(m));
 *   int tok = g4_sampler_sample(s, logits);              // then g4_ctx_eval(c, &tok, 1, ...)
 *
 * Ownership and threads: a g4_model is immutable after load and may be shared by any number
 * of contexts on any threads; a g4_ctx (KV cache, buffers, thread pool) and a g4_sampler
 * belong to one thread at a time.  Nothing here prints or exits: failures return a g4_status
 * and write a one-line message into `err` (G4_ERR_LEN bytes).
 */
#ifndef GEMMA4_H
#define GEMMA4_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define G4_ERR_LEN 512

typedef enum {
    G4_OK = 0,
    G4_EIO,          /* open/read/mmap failed */
    G4_EFORMAT,      /* file or input is malformed */
    G4_ENOMEM,       /* allocation failed */
    G4_EINVAL,       /* bad argument or hyper-parameter */
    G4_EUNSUPPORTED, /* valid, but not supported yet */
    G4_EBUSY,        /* all slots and the queue are full: try again later */
} g4_status;

const char *g4_status_str(g4_status s);

typedef struct g4_model g4_model;
typedef struct g4_ctx g4_ctx;
typedef struct g4_sampler g4_sampler;

/* A GGUF file (llama.cpp's gemma4 layout) or a Hugging Face directory (config.json + safetensors). */
g4_status g4_model_load(g4_model **out, const char *path, char *err);
void g4_model_free(g4_model *m);
/* For contexts with q8_act: repack the model's q4_0 matrices into the integer kernels' layout (as much
 * memory again as those weights; the file's pages for them are released as each is packed, so resident
 * memory stays about the same).  Call once after loading, before creating contexts. */
g4_status g4_model_pack_q8(g4_model *m, char *err);
int g4_model_n_vocab(const g4_model *m);
int g4_model_n_ctx_train(const g4_model *m);
/* 1 if generation should stop at this token (the model's end-of-turn ids). */
int g4_model_is_stop(const g4_model *m, int token);

typedef struct {
    int n_ctx;     /* positions this context can hold (0 = min(4096, the model's)) */
    int n_batch;   /* max tokens per forward step (0 = 512) */
    int n_threads; /* CPU threads (0 = 1) */
    int kv_f16;    /* 1: keep K and V in f16 (half the memory; attention still computes in f32) */
    int q8_act;    /* 1: decode steps quantize activations to 8 bits for q8_0/q4_0/q4_K/q6_K weights and use integer dot
                      products, as llama.cpp does (results move by up to half an activation step).  0: exact f32 */
} g4_ctx_params;

g4_status g4_ctx_new(g4_ctx **out, const g4_model *m, const g4_ctx_params *p, char *err);
void g4_ctx_free(g4_ctx *c);
void g4_ctx_reset(g4_ctx *c);
/* Evaluate n tokens at the next positions; logits gets n_vocab floats per token when
 * all_logits, else only the last token's. */
g4_status g4_ctx_eval(g4_ctx *c, const int *ids, int n, float *logits, int all_logits, char *err);
int64_t g4_ctx_n_past(const g4_ctx *c);

typedef struct {
    float temperature;       /* <= 0: greedy */
    int top_k;               /* <= 0: off */
    float top_p;             /* in [0, 1]; 1: off */
    float min_p;             /* in [0, 1]; 0: off */
    float repeat_penalty;    /* > 0; 1: off */
    int repeat_last_n;       /* >= 0: window for all three penalties; 0: no penalties */
    float presence_penalty;  /* 0: off */
    float frequency_penalty; /* 0: off */
    uint64_t seed;
} g4_sampler_params;

void g4_sampler_params_default(g4_sampler_params *p); /* the 12B's: temp 1.0, top_k 64, top_p 0.95 */
g4_sampler *g4_sampler_new(const g4_sampler_params *p, int n_vocab);
void g4_sampler_free(g4_sampler *s);
void g4_sampler_set_suppress(g4_sampler *s, const int *ids, int n);
void g4_sampler_accept(g4_sampler *s, int token);
int g4_sampler_sample(g4_sampler *s, float *logits); /* -1 if every token is filtered out */

#ifdef __cplusplus
}
#endif
#endif
