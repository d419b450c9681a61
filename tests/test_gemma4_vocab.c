/* test_gemma4_vocab.c -- the real Gemma 4 vocabulary (llama.cpp's ggml-vocab-gemma-4.gguf, fetched from the
 * llama-cpp-python sdist by tools/fetch-gemma4-vocab.sh): the special tokens sit at the ids of the spec's §5
 * table, and every test text of llama.cpp's .inp file encodes to the ids of its .out file (made with HF's
 * tokenizer for that vocabulary).  Skips, saying so, when the files are absent. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "model/gguf.h"
#include "text/tokenizer.h"

int main(void) {
    char dir[1024], gguf[1100], inp_p[1200], out_p[1200];
    const char *env = getenv("G4_VOCAB_DIR");
    snprintf(dir, sizeof dir, "%s", env && *env ? env : "");
    if (!*dir) snprintf(dir, sizeof dir, "%s/.cache/gemma4c-vocab", getenv("HOME") ? getenv("HOME") : "");
    snprintf(gguf, sizeof gguf, "%s/ggml-vocab-gemma-4.gguf", dir);
    snprintf(inp_p, sizeof inp_p, "%s.inp", gguf);
    snprintf(out_p, sizeof out_p, "%s.out", gguf);
    if (access(gguf, R_OK) || access(inp_p, R_OK) || access(out_p, R_OK)) {
        check_skip("real Gemma 4 vocabulary not found (run tools/fetch-gemma4-vocab.sh)");
        return check_done("gemma4_vocab");
    }
    g4_gguf *f;
    g4_tokenizer *t = NULL;
    char err[G4_ERR_LEN];
    CHECKF(g4_gguf_open(&f, gguf, err) == G4_OK && g4_tokenizer_load_gguf(&t, f, err) == G4_OK, "%s", err);
    if (!t) return check_done("gemma4_vocab");
    /* shared/spec/gemma4-12b.md §5 */
    static const struct { const char *tok; int id; } spec[] = {
        {"<pad>", 0}, {"<eos>", 1}, {"<bos>", 2}, {"<|tool>", 46}, {"<tool|>", 47}, {"<|tool_call>", 48},
        {"<tool_call|>", 49}, {"<|tool_response>", 50}, {"<tool_response|>", 51}, {"<|\"|>", 52}, {"<|think|>", 98},
        {"<|channel>", 100}, {"<channel|>", 101}, {"<|turn>", 105}, {"<turn|>", 106}, {"\n", 107},
        {"<|image>", 255999}, {"<|audio>", 256000}, {"<|image|>", 258880}, {"<|audio|>", 258881},
        {"<image|>", 258882}, {"<audio|>", 258883}, {"<|video|>", 258884},
    };
    for (size_t i = 0; i < sizeof spec / sizeof *spec; i++)
        CHECKF(g4_tok_find(t, spec[i].tok) == spec[i].id, "%s: id %d, spec says %d", spec[i].tok,
               g4_tok_find(t, spec[i].tok), spec[i].id);
    CHECK(g4_tokenizer_n_vocab(t) == 262144);
    char *inp = check_slurp(inp_p, NULL), *out = check_slurp(out_p, NULL), *p = inp, *o = out;
    const char *sep = "\n__ggml_vocab_test__\n";
    int cases = 0;
    while (p && o) {
        char *e = strstr(p, sep), *oe = strchr(o, '\n');
        if (!e || !oe) break;
        *e = 0;
        *oe = 0;
        int *ids = NULL, n = 0;
        CHECKF(g4_tokenizer_encode(t, p, strlen(p), &ids, &n, 0, err) == G4_OK, "%s", err);
        char got[16384];
        size_t gl = 0;
        got[0] = 0;
        for (int i = 0; i < n && gl < sizeof got - 16; i++) gl += (size_t)snprintf(got + gl, sizeof got - gl, i ? " %d" : "%d", ids[i]);
        CHECKF(!strcmp(got, o), "case %d [%s]: want %s, got %s", cases, p, o, got);
        g4_free(ids);
        cases++;
        p = e + strlen(sep);
        o = oe + 1;
    }
    printf("gemma4 vocab: %d texts checked against the HF ids\n", cases);
    CHECK(cases >= 40);
    free(inp);
    free(out);
    g4_tokenizer_free(t);
    g4_gguf_close(f);
    return check_done("gemma4_vocab");
}
