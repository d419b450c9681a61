/* tok_model.c -- the tokenizer that goes with a loaded model: its GGUF's tokenizer.ggml.* keys, or
 * the tokenizer.json next to a Hugging Face directory's config.json.  None (G4_OK, *out NULL) when the
 * GGUF says tokenizer.ggml.model "none" / has no vocabulary, or the directory has no tokenizer.json. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../model/gguf.h"
#include "../model/model.h"
#include "tokenizer.h"

g4_status g4_tokenizer_load_model(const g4_model *m, g4_tokenizer **out, char *err) {
    *out = NULL;
    if (m->gguf) {
        const char *tm;
        size_t len;
        if (!g4_gguf_get_str(m->gguf, "tokenizer.ggml.model", &tm, &len) || (len == 4 && !memcmp(tm, "none", 4)))
            return G4_OK;
        return g4_tokenizer_load_gguf(out, m->gguf, err);
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/tokenizer.json", m->path);
    if (access(path, R_OK) != 0) return G4_OK;
    return g4_tokenizer_load_hf(out, path, err);
}
