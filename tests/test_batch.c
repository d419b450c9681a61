/* test_batch.c -- g4_ctx_decode_multi (continuous batching: several sequences' decode steps as one
 * batch) against transformers and against decoding each sequence alone.
 *
 * Sequence 0 is tests/data/model/tiny-a's fixture prompt: its batched greedy decode must give
 * transformers' logits (1e-4 x max|logit|) and greedy tokens at every one of the 64 steps, while
 * sequences 1..3 (other prompts, other lengths, so other positions and ring offsets) decode beside
 * it; each of those must match its own one-sequence decode (1e-5: the batched products sum in
 * another order than the single-row dot kernels).  Plus the argument checks.
 */
#include <cjson/cJSON.h>

#include "../src/model/ctx.h"
#include "check.h"

#define DIR "tests/data/model/tiny-a"
#define NSEQ 4

int main(void) {
    char *js = check_slurp(DIR "/expected.json", NULL);
    cJSON *j = js ? cJSON_Parse(js) : NULL;
    free(js);
    CHECKF(j != NULL, "cannot read %s/expected.json", DIR);
    if (!j) return check_done("test_batch");
    cJSON *pr = cJSON_GetObjectItem(j, "prompt"), *gr = cJSON_GetObjectItem(j, "greedy");
    const int n_prompt = cJSON_GetArraySize(pr), n_dec = cJSON_GetArraySize(gr);
    const int V = cJSON_GetObjectItem(j, "n_vocab")->valueint;
    int *prompt = malloc(sizeof(int) * (size_t)n_prompt), *greedy = malloc(sizeof(int) * (size_t)n_dec);
    for (int i = 0; i < n_prompt; i++) prompt[i] = cJSON_GetArrayItem(pr, i)->valueint;
    for (int i = 0; i < n_dec; i++) greedy[i] = cJSON_GetArrayItem(gr, i)->valueint;
    cJSON_Delete(j);
    size_t len;
    float *ref = (float *)check_slurp(DIR "/expected.bin", &len);
    CHECK(ref && len == sizeof(float) * (size_t)(n_prompt + n_dec) * (size_t)V);

    char err[G4_ERR_LEN];
    g4_model *m;
    CHECKF(!g4_model_load(&m, DIR, err), "%s", err);
    g4_ctx *c[NSEQ], *solo[NSEQ];
    g4_ctx_params cp = {.n_ctx = 256, .n_batch = 16, .n_threads = 2};
    int plen[NSEQ] = {n_prompt, 5, 17, 1}, next[NSEQ], solo_next[NSEQ];
    float *lg = malloc(sizeof(float) * (size_t)V * NSEQ), *sl = malloc(sizeof(float) * (size_t)V);
    for (int s = 0; s < NSEQ; s++) {
        CHECKF(!g4_ctx_new(&c[s], m, &cp, err), "%s", err);
        CHECKF(!g4_ctx_new(&solo[s], m, &cp, err), "%s", err);
        int *p = s == 0 ? prompt : prompt + 3 * s; /* other prompts: other slices of the fixture's ids */
        CHECK(!g4_ctx_eval(c[s], p, plen[s], sl, 0, err));
        next[s] = check_argmax(sl, V);
        CHECK(!g4_ctx_eval(solo[s], p, plen[s], sl, 0, err));
        solo_next[s] = check_argmax(sl, V);
    }
    double worst_ref = 0, worst_solo = 0;
    int same_ref = 1, same_solo = 1;
    for (int step = 0; step < n_dec; step++) {
        if (next[0] != greedy[step]) same_ref = 0;
        CHECKF(!g4_ctx_decode_multi(c, next, NSEQ, lg, err), "%s", err);
        worst_ref = fmax(worst_ref, check_rel_err(lg, ref + (size_t)(n_prompt + step) * (size_t)V, V));
        for (int s = 1; s < NSEQ; s++) {
            CHECK(!g4_ctx_eval(solo[s], &solo_next[s], 1, sl, 0, err));
            worst_solo = fmax(worst_solo, check_rel_err(lg + (size_t)s * V, sl, V));
            solo_next[s] = check_argmax(sl, V);
            if (check_argmax(lg + (size_t)s * V, V) != solo_next[s]) same_solo = 0;
        }
        for (int s = 0; s < NSEQ; s++) next[s] = check_argmax(lg + (size_t)s * V, V);
    }
    printf("batched decode, %d sequences x %d steps: vs transformers rel err %.2e (greedy %s), vs one-sequence "
           "decode %.2e (greedy %s)\n", NSEQ, n_dec, worst_ref, same_ref ? "identical" : "DIFFERENT", worst_solo,
           same_solo ? "identical" : "DIFFERENT");
    CHECKF(worst_ref <= 1e-4, "vs transformers %.3g", worst_ref);
    CHECKF(worst_solo <= 1e-5, "vs one-sequence decode %.3g", worst_solo);
    CHECK(same_ref && same_solo);
    for (int s = 0; s < NSEQ; s++) CHECK(g4_ctx_n_past(c[s]) == plen[s] + n_dec);
    /* argument checks */
    g4_ctx *dup[2] = {c[1], c[1]};
    int toks[2] = {1, 2}, bad[1] = {V};
    CHECK(g4_ctx_decode_multi(dup, toks, 2, lg, err) == G4_EINVAL && strstr(err, "twice"));
    CHECK(g4_ctx_decode_multi(c, bad, 1, lg, err) == G4_EINVAL && strstr(err, "out of range"));
    CHECK(g4_ctx_decode_multi(c, toks, 0, lg, err) == G4_EINVAL);
    g4_ctx_params big = {.n_ctx = 8, .n_batch = 1, .n_threads = 1};
    g4_ctx *one;
    CHECK(!g4_ctx_new(&one, m, &big, err));
    g4_ctx *two[2] = {one, c[2]};
    CHECK(g4_ctx_decode_multi(two, toks, 2, lg, err) == G4_EINVAL && strstr(err, "batch size"));
    g4_ctx_free(one);
    for (int s = 0; s < NSEQ; s++) g4_ctx_free(c[s]), g4_ctx_free(solo[s]);
    g4_model_free(m);
    free(prompt);
    free(greedy);
    free(ref);
    free(lg);
    free(sl);
    return check_done("test_batch");
}
