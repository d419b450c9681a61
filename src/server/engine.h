/* engine.h -- the generation engine behind `gemma4 serve`: one loaded model, N slots (each a g4_ctx
 * with its own KV cache), a bounded queue, and one scheduler thread that prefills new requests and runs
 * the decode steps of all active slots together as one batch (continuous batching).
 *
 * HTTP handler threads call g4_engine_generate, which blocks until the request is done; meanwhile the
 * scheduler thread calls the request's on_token for every generated token (return 1 from it to stop:
 * a stop string was seen, or the client went away).  A slot keeps its KV cache after a request, and the
 * next request on it reuses the longest common prefix of token ids (one conversation's turns).
 */
#ifndef G4_ENGINE_H
#define G4_ENGINE_H

#include "../core/common.h"
#include "../media/mm.h"
#include "../model/model.h"
#include "../text/sampler.h"
#include "../text/json_constrain.h"
#include "../text/tokenizer.h"

typedef struct g4_engine g4_engine;

typedef struct {
    const char *model_path;
    const char *mmproj_path; /* NULL = none */
    int n_parallel;          /* slots (>= 1) */
    int n_ctx;               /* positions per slot (0 = min(4096, the model's)) */
    int n_threads;
    int kv_f16;              /* K/V caches in f16 */
    int q8_act;             /* 8-bit activations in q8_0/q4_0/q4_K/q6_K matmuls (g4_ctx_params.q8_act) */
    int max_queue;           /* requests waiting for a slot; beyond it g4_engine_generate says G4_EBUSY */
} g4_engine_params;

enum { G4_FINISH_STOP = 0, G4_FINISH_LENGTH = 1, G4_FINISH_CANCELLED = 2 };

#define G4_MAX_TOP_LOGPROBS 20

/* A generated token's log-probability under the model's own distribution (log-softmax of the logits,
 * before penalties, temperature, truncation or constraints), and the n_top most likely alternatives
 * (highest first, ties -> lower id first). */
typedef struct {
    float logprob;
    int n_top;
    int top_ids[G4_MAX_TOP_LOGPROBS];
    float top_logprobs[G4_MAX_TOP_LOGPROBS];
} g4_token_logprobs;

typedef struct {
    const int *ids;           /* the prompt, expanded (media placeholders as ids) */
    int n_ids;
    const g4_mm_item *items;  /* its media in prompt order (caller-owned until the call returns) */
    int n_items;
    g4_sampler_params sampling;
    int max_tokens;           /* generated tokens at most (> 0) */
    int ignore_eos;
    int logprobs;             /* 1: on_token gets each token's g4_token_logprobs */
    int top_logprobs;         /* alternatives per token (0..G4_MAX_TOP_LOGPROBS) */
    const int *forced;        /* the first n_forced generated tokens are these, whatever the logits say */
    int n_forced;
    /* optional, on the scheduler thread before each draw (not for forced tokens): set the logits of the
     * tokens that may not come next to -INFINITY (constrained output).  n_gen: tokens generated so far. */
    void (*constrain)(void *ud, float *logits, int n_gen);
    /* every generated token, on the scheduler thread; stop ids are reported too (then the request ends).
     * lp is NULL unless logprobs was asked for.  Return 1 to end the request. */
    int (*on_token)(void *ud, int token, const g4_token_logprobs *lp);
    void *ud;
} g4_gen_req;

typedef struct {
    int n_prompt;    /* prompt tokens */
    int n_cached;    /* of those, reused from the slot's cache */
    int n_gen;       /* generated tokens (including a final stop id) */
    int finish;      /* G4_FINISH_* */
    double t_queue, t_prompt, t_gen; /* seconds waiting for a slot, prefilling, generating */
} g4_gen_result;

typedef struct {
    long requests, prompt_tokens, gen_tokens, rejected;
    int busy_slots, queued, n_slots;
    double gen_seconds; /* scheduler time spent in decode steps */
} g4_engine_stats;

g4_status g4_engine_new(g4_engine **out, const g4_engine_params *p, char *err);
/* Shutdown, step 1: cancel running and queued requests (their g4_engine_generate returns), refuse new
 * ones with G4_EBUSY.  e stays valid.  Step 2 (after the HTTP threads are gone): g4_engine_free. */
void g4_engine_stop(g4_engine *e);
void g4_engine_free(g4_engine *e); /* calls g4_engine_stop, waits for callers to leave, frees */
const g4_model *g4_engine_model(const g4_engine *e);
const g4_tokenizer *g4_engine_tokenizer(const g4_engine *e); /* NULL if the model has none */
const g4_vocab_pieces *g4_engine_pieces(const g4_engine *e);  /* every token's bytes (NULL without a tokenizer) */
int g4_engine_n_ctx(const g4_engine *e);

/* Run one request to completion (blocking).  G4_EBUSY: queue full; G4_EINVAL: prompt + max_tokens
 * over the context, or bad ids; other errors in err. */
g4_status g4_engine_generate(g4_engine *e, const g4_gen_req *r, g4_gen_result *res, char *err);

void g4_engine_stats_get(g4_engine *e, g4_engine_stats *s);

#endif
