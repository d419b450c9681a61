/* tok_write_gguf.c -- store a tokenizer as GGUF tokenizer.ggml.* keys, as llama.cpp's gemma4
 * converter (convert_hf_to_gguf.py, Gemma4Model.set_vocab over LlamaHfVocab) does:
 *
 *   tokenizer.ggml.model        "gemma4"
 *   tokenizer.ggml.tokens       every id's string, in id order
 *   tokenizer.ggml.scores       -1000.0 for every token (BPE ignores them)
 *   tokenizer.ggml.token_type   BYTE (6) for "<0xXX>", CONTROL (3) for special added tokens,
 *                               USER_DEFINED (4) for the other added tokens and for the tokens
 *                               llama.cpp always renders (<|channel>, <|tool_call>, <|"|> ...),
 *                               NORMAL (1) otherwise
 *   tokenizer.ggml.merges       "A B" in rank order
 *   tokenizer.ggml.unknown_token_id (when the BPE model names an unk_token)
 *   tokenizer.ggml.add_bos_token true, tokenizer.ggml.add_space_prefix false
 *
 * Ids the model has but the tokenizer lacks (a holey or short vocab) become "[PAD<id>]" of type
 * UNUSED (5), llama.cpp's padding convention, so the token list matches the embedding rows.
 * bos/eos/padding ids are the caller's (convert.c takes them from config.json).
 * Only BPE tokenizers are written; tok_load_gguf.c reads the result back.
 */
#include "tok_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { TT_NORMAL = 1, TT_CONTROL = 3, TT_USER_DEFINED = 4, TT_UNUSED = 5, TT_BYTE = 6 };


static int is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

static int is_byte_token(const char *s, size_t n) {
    return n == 6 && !memcmp(s, "<0x", 3) && is_hex(s[3]) && is_hex(s[4]) && s[5] == '>';
}

static int is_visible(const char *s, size_t n) { return g4_tok_always_rendered(s, n); }

static int cmp_rank(const void *a, const void *b) {
    const tok_mslot *x = *(const tok_mslot *const *)a, *y = *(const tok_mslot *const *)b;
    return x->rank < y->rank ? -1 : x->rank > y->rank;
}

/* tokens, scores, token types */
static g4_status write_vocab(const g4_tokenizer *t, g4_gguf_writer *w, int n, char *err) {
    const char **s = g4_calloc((size_t)n, sizeof *s);
    size_t *len = g4_calloc((size_t)n, sizeof *len);
    float *score = g4_malloc((size_t)n * sizeof *score);
    int32_t *type = g4_malloc((size_t)n * sizeof *type);
    char *pads = g4_malloc((size_t)n * 20); /* "[PAD<id>]" strings for ids without a token */
    g4_status st = G4_OK;
    if (!s || !len || !score || !type || !pads) {
        st = g4_errf(err, G4_ENOMEM, "tokenizer: out of memory writing GGUF vocab");
        goto done;
    }
    for (int i = 0; i < n; i++) {
        const char *x = i < t->n_vocab ? g4_tokenizer_token_text(t, i, &len[i]) : NULL;
        score[i] = -1000.0f;
        if (!x) {
            s[i] = pads + (size_t)i * 20;
            len[i] = (size_t)snprintf(pads + (size_t)i * 20, 20, "[PAD%d]", i);
            type[i] = TT_UNUSED;
            continue;
        }
        s[i] = x;
        type[i] = is_byte_token(x, len[i]) ? TT_BYTE : TT_NORMAL;
    }
    for (int a = 0; a < t->n_added; a++) {
        int id = t->added[a].id;
        if (id < 0 || id >= n || type[id] == TT_UNUSED) continue;
        type[id] = t->special[id] && !is_visible(s[id], len[id]) ? TT_CONTROL : TT_USER_DEFINED;
    }
    for (int i = 0; i < n; i++)
        if (type[i] != TT_UNUSED && is_visible(s[i], len[i])) type[i] = TT_USER_DEFINED;
    if ((st = g4_gguf_set_arr_str(w, "tokenizer.ggml.tokens", s, len, (uint64_t)n)) ||
        (st = g4_gguf_set_arr(w, "tokenizer.ggml.scores", G4_GGUF_FLOAT32, score, (uint64_t)n)) ||
        (st = g4_gguf_set_arr(w, "tokenizer.ggml.token_type", G4_GGUF_INT32, type, (uint64_t)n)))
        st = g4_errf(err, st, "tokenizer: out of memory writing GGUF vocab");
done:
    g4_free(s);
    g4_free(len);
    g4_free(score);
    g4_free(type);
    g4_free(pads);
    return st;
}

/* merges as "A B" strings in rank order */
static g4_status write_merges(const g4_tokenizer *t, g4_gguf_writer *w, char *err) {
    size_t cap = t->mh ? (size_t)t->mh_mask + 1 : 0, nm = 0, bytes = 0;
    const tok_mslot **ms = g4_malloc((cap ? cap : 1) * sizeof *ms);
    if (!ms) return g4_errf(err, G4_ENOMEM, "tokenizer: out of memory writing GGUF merges");
    for (size_t i = 0; i < cap; i++)
        if (t->mh[i].key) ms[nm++] = &t->mh[i];
    qsort(ms, nm, sizeof *ms, cmp_rank);
    const char **s = g4_malloc((nm ? nm : 1) * sizeof *s);
    size_t *len = g4_malloc((nm ? nm : 1) * sizeof *len);
    char *buf = NULL;
    g4_status st = G4_OK;
    if (!s || !len) {
        st = g4_errf(err, G4_ENOMEM, "tokenizer: out of memory writing GGUF merges");
        goto done;
    }
    for (size_t i = 0; i < nm; i++) {
        uint64_t k = ms[i]->key - 1;
        size_t al = 0, bl = 0;
        const char *a = g4_tokenizer_token_text(t, (int)(k >> 32), &al);
        const char *b = g4_tokenizer_token_text(t, (int)(uint32_t)k, &bl);
        if (!a || !b) {
            st = g4_errf(err, G4_EFORMAT, "tokenizer: merge %zu names an id without a token", i);
            goto done;
        }
        /* a GGUF merge splits at the first space after its first byte */
        if (al == 0 || (al > 1 && memchr(a + 1, ' ', al - 1))) {
            st = g4_errf(err, G4_EUNSUPPORTED, "tokenizer: merge %zu \"%.*s\" cannot be written as \"A B\" "
                         "(its left part is empty or holds a space)", i, (int)G4_MIN(al, 64), a);
            goto done;
        }
        len[i] = al + 1 + bl;
        bytes += len[i];
    }
    if (!(buf = g4_malloc(bytes ? bytes : 1))) {
        st = g4_errf(err, G4_ENOMEM, "tokenizer: out of memory writing GGUF merges");
        goto done;
    }
    size_t o = 0;
    for (size_t i = 0; i < nm; i++) {
        uint64_t k = ms[i]->key - 1;
        size_t al, bl;
        const char *a = g4_tokenizer_token_text(t, (int)(k >> 32), &al);
        const char *b = g4_tokenizer_token_text(t, (int)(uint32_t)k, &bl);
        s[i] = buf + o;
        memcpy(buf + o, a, al);
        buf[o + al] = ' ';
        memcpy(buf + o + al + 1, b, bl);
        o += len[i];
    }
    if ((st = g4_gguf_set_arr_str(w, "tokenizer.ggml.merges", s, len, (uint64_t)nm)))
        st = g4_errf(err, st, "tokenizer: out of memory writing GGUF merges");
done:
    g4_free(ms);
    g4_free(s);
    g4_free(len);
    g4_free(buf);
    return st;
}

g4_status g4_tokenizer_write_gguf(const g4_tokenizer *t, g4_gguf_writer *w, int n_vocab, char *err) {
    if (!t || !w) return g4_errf(err, G4_EINVAL, "tokenizer: NULL argument");
    if (t->model != TOK_MODEL_BPE)
        return g4_errf(err, G4_EUNSUPPORTED, "tokenizer: only BPE tokenizers can be written to GGUF");
    if (n_vocab <= 0) n_vocab = t->n_vocab;
    if (t->n_vocab > n_vocab)
        return g4_errf(err, G4_EFORMAT, "tokenizer: %d ids do not fit the model's vocabulary (got %d, want <= %d)",
                       t->n_vocab, t->n_vocab, n_vocab);
    g4_status st;
    if ((st = g4_gguf_set_str(w, "tokenizer.ggml.model", "gemma4", 6)))
        return g4_errf(err, st, "tokenizer: out of memory writing GGUF keys");
    if ((st = write_vocab(t, w, n_vocab, err)) || (st = write_merges(t, w, err))) return st;
    int unk = t->unk_token ? g4_tok_vocab_find(t, t->unk_token, strlen(t->unk_token)) : -1;
    if ((unk >= 0 && (st = g4_gguf_set_u32(w, "tokenizer.ggml.unknown_token_id", (uint32_t)unk))) ||
        (st = g4_gguf_set_bool(w, "tokenizer.ggml.add_bos_token", true)) ||
        (st = g4_gguf_set_bool(w, "tokenizer.ggml.add_space_prefix", false)))
        return g4_errf(err, st, "tokenizer: out of memory writing GGUF keys");
    return G4_OK;
}
