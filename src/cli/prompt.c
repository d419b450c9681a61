/* prompt.c -- tokenizer loading and prompt building for the CLI (see prompt.h). */
#include "prompt.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "model/gguf.h"
#include "text/chat.h"

g4_status cli_load_tokenizer(const g4_model *m, g4_tokenizer **out, char *err) {
    *out = NULL;
    if (m->gguf) {
        const char *tm; size_t len;
        if (!g4_gguf_get_str(m->gguf, "tokenizer.ggml.model", &tm, &len) || (len == 4 && !memcmp(tm, "none", 4)))
            return G4_OK;
        return g4_tokenizer_load_gguf(out, m->gguf, err);
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/tokenizer.json", m->path);
    if (access(path, R_OK) != 0) return G4_OK;
    return g4_tokenizer_load_hf(out, path, err);
}

/* Gemma 3's chat format: a system prompt goes in front of the first user turn. */
static char *gemma3_chat(const char *text, const char *system) {
    const char *pre = "<bos><start_of_turn>user\n", *post = "<end_of_turn>\n<start_of_turn>model\n";
    size_t n = strlen(pre) + (system ? strlen(system) + 2 : 0) + strlen(text) + strlen(post) + 1;
    char *s = g4_malloc(n);
    if (s) snprintf(s, n, "%s%s%s%s%s", pre, system ? system : "", system ? "\n\n" : "", text, post);
    return s;
}

static g4_status gemma4_chat(const char *text, const cli_prompt_opts *o, char **out, char *err) {
    g4_chat *c;
    size_t len;
    g4_status st = g4_chat_new(&c, err);
    if (st) return st;
    c->add_generation_prompt = 1;
    c->enable_thinking = o->think;
    if (o->system) st = g4_chat_add(c, G4_CHAT_SYSTEM, o->system, err);
    if (!st) st = g4_chat_add(c, G4_CHAT_USER, text, err);
    if (!st) st = g4_chat_render(c, out, &len, err);
    g4_chat_free(c);
    return st;
}

g4_status cli_encode_prompt(const g4_model *m, const g4_tokenizer *t, const char *text, const cli_prompt_opts *o,
                            int **ids, int *n, char *err) {
    char *s = NULL;
    g4_status st = G4_OK;
    if (o->raw) {
        size_t n2 = strlen(text) + 6;
        if ((s = g4_malloc(n2))) snprintf(s, n2, "<bos>%s", text);
    } else if (m->cfg.arch == G4_ARCH_GEMMA3) {
        s = gemma3_chat(text, o->system);
    } else {
        st = gemma4_chat(text, o, &s, err);
        if (st) return st;
    }
    if (!s) return g4_errf(err, G4_ENOMEM, "prompt: out of memory");
    st = g4_tokenizer_encode(t, s, strlen(s), ids, n, 1, err);
    g4_free(s);
    return st;
}
