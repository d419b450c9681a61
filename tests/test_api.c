/* test_api.c -- the public header alone is enough to load, evaluate and sample (what a user of
 * libgemma4 writes), and greedy generation through it reproduces transformers' tokens. */
#include <gemma4.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

int main(void) {
    /* tiny-c's prompt and transformers' first greedy tokens (tests/data/model/tiny-c/expected.json) */
    FILE *f = fopen("tests/data/model/tiny-c/expected.json", "rb");
    CHECK(f != NULL);
    if (!f) return check_done("api");
    char buf[8192];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    int prompt[64], greedy[64], np = 0, ng = 0;
    for (char *p = strstr(buf, "\"prompt\""); p && *p != ']'; p++)
        if (*p >= '0' && *p <= '9') { prompt[np++] = (int)strtol(p, &p, 10); p--; }
    for (char *p = strstr(buf, "\"greedy\""); p && *p != ']'; p++)
        if (*p >= '0' && *p <= '9') { greedy[ng++] = (int)strtol(p, &p, 10); p--; if (ng == 16) break; }
    CHECK(np > 4 && ng == 16);

    g4_model *m;
    g4_ctx *c;
    char err[G4_ERR_LEN];
    CHECKF(g4_model_load(&m, "tests/data/model/tiny-c", err) == G4_OK, "%s", err);
    g4_ctx_params cp = {.n_ctx = 128, .n_threads = 2};
    CHECKF(g4_ctx_new(&c, m, &cp, err) == G4_OK, "%s", err);
    g4_sampler_params sp;
    g4_sampler_params_default(&sp);
    sp.temperature = 0; /* greedy */
    g4_sampler *s = g4_sampler_new(&sp, g4_model_n_vocab(m));
    float *logits = malloc(sizeof(float) * (size_t)g4_model_n_vocab(m));
    CHECK(s && logits);
    CHECK(g4_ctx_eval(c, prompt, np, logits, 0, err) == G4_OK);
    int same = 1;
    for (int i = 0; i < ng; i++) {
        int tok = g4_sampler_sample(s, logits);
        g4_sampler_accept(s, tok);
        same &= tok == greedy[i];
        CHECK(g4_ctx_eval(c, &tok, 1, logits, 0, err) == G4_OK);
    }
    CHECKF(same, "greedy tokens through the public API differ from transformers'");
    CHECK(g4_ctx_n_past(c) == np + ng);
    CHECK(g4_model_is_stop(m, 1) && !g4_model_is_stop(m, 5));
    g4_model *bad;
    CHECK(g4_model_load(&bad, "no/such/model", err) == G4_EIO && bad == NULL && strstr(err, "no/such/model"));
    CHECK(strcmp(g4_status_str(G4_EUNSUPPORTED), "not supported yet") == 0);
    free(logits);
    g4_sampler_free(s);
    g4_ctx_free(c);
    g4_model_free(m);
    return check_done("api");
}
