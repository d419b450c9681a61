/* sampler.h -- next-token sampling: penalties, temperature, top-k/top-p/min-p, draw.
 *
 * One g4_sampler per request (it holds the token history and the RNG; no globals).
 * The pipeline and its semantics equal Hugging Face transformers' generate() with
 * do_sample=True and min_tokens_to_keep=1, in this order:
 *
 *   suppress    ids from g4_sampler_set_suppress -> -inf
 *   repetition  for each distinct token in the last repeat_last_n accepted tokens:
 *               logit < 0 ? logit * repeat_penalty : logit / repeat_penalty
 *               (RepetitionPenaltyLogitsProcessor; 1.0 = off)
 *   presence /  logit -= presence_penalty * (count > 0) + frequency_penalty * count,
 *   frequency   count over the same window (OpenAI semantics; not in HF, 0 = off)
 *   temperature logit /= temperature (TemperatureLogitsWarper; <= 0 means greedy:
 *               argmax after the penalties, ties -> lowest id, no warpers)
 *   top_k       keep logits >= the k-th largest, so ties at the cut are all kept
 *               (TopKLogitsWarper; <= 0 or >= n_vocab = off)
 *   top_p       sort ascending, drop while the cumulative probability <= 1 - top_p,
 *               always keep the largest (TopPLogitsWarper; >= 1 = off).  Equal logits
 *               straddling the cut: lower ids are dropped first (a stable sort;
 *               torch's unstable sort leaves that order unspecified)
 *   min_p       drop p < min_p * p_max (MinPLogitsWarper; 0 = off)
 *   draw        softmax over the survivors, one uniform from our xoshiro256** state
 *
 * NaN logits are treated as -inf (HF would fail in torch.multinomial instead).
 * Sampling is deterministic for a given seed, parameters, history and logits.
 */
#ifndef G4_SAMPLER_H
#define G4_SAMPLER_H

#include <stdint.h>

#include "../core/common.h"

/* g4_sampler_params and g4_sampler are declared in include/gemma4.h */

/* Gemma 4 12B generation_config: temperature 1.0, top_k 64, top_p 0.95; min_p 0,
 * repeat_penalty 1.0, repeat_last_n 64, presence/frequency 0, seed 0xC0FFEE. */
void g4_sampler_params_default(g4_sampler_params *p);

/* G4_EINVAL with a message if a parameter is out of range (NaN, top_p or min_p
 * outside [0,1], repeat_penalty <= 0, repeat_last_n < 0 or > 1<<24, n_vocab < 1). */
g4_status g4_sampler_params_check(const g4_sampler_params *p, int n_vocab, char *err);

/* NULL if the parameters fail g4_sampler_params_check or on allocation failure. */
g4_sampler *g4_sampler_new(const g4_sampler_params *p, int n_vocab);
void g4_sampler_free(g4_sampler *s); /* NULL is fine */

/* Forget the history and restart the RNG from params.seed (suppress list kept). */
void g4_sampler_reset(g4_sampler *s);

/* Record a token (prompt or generated) for the penalties; ids outside
 * [0, n_vocab) are ignored.  Only the last repeat_last_n are kept. */
void g4_sampler_accept(g4_sampler *s, int token);

/* Replace the suppressed set; ids outside [0, n_vocab) are ignored; n = 0 clears
 * (ids may then be NULL).  Never allocates. */
void g4_sampler_set_suppress(g4_sampler *s, const int *ids, int n);

/* Apply everything except the draw to logits[n_vocab] in place: filtered tokens
 * become -inf, the rest hold the processed (penalised, temperature-scaled) logits.
 * Returns the number of survivors (0 when every logit is -inf or NaN). */
int g4_sampler_filter(g4_sampler *s, float *logits);

/* Filter, then draw.  Returns the token id, or -1 when no token survives.
 * Does not call g4_sampler_accept (the caller decides what enters the history). */
int g4_sampler_sample(g4_sampler *s, float *logits);

#endif
