/* tok_load_gguf.c -- build a g4_tokenizer from a GGUF's tokenizer.ggml.* metadata.
 *
 * The GGUF keeps the vocab as parallel arrays (tokens, scores, token_type) plus, for BPE,
 * merges as "a b" strings.  We map them onto the same pipeline a Gemma tokenizer.json
 * describes, so both sources encode identically:
 *   "gemma4": normalizer Replace " " -> "▁"; pre-tokenizer Split [^\n]+|[\n]+ (llama.cpp's
 *             gemma4 regex; the vocab has no token mixing newlines with other text, so it
 *             never changes the result); BPE by merge rank, byte fallback, fuse_unk.
 *   "llama":  SentencePiece as llama.cpp runs it for Gemma 3 GGUFs: spaces -> "▁", a "▁"
 *             in front of each text run when tokenizer.ggml.add_space_prefix (default true),
 *             highest-score pair merges, byte fallback; the decoder then strips that space.
 * token_type CONTROL (3) and UNKNOWN (2) become special added tokens, USER_DEFINED (4)
 * plain added tokens (matched in text before normalization, as llama.cpp does).
 */
#include "tok_internal.h"

#include <math.h>
#include <string.h>

#define K_MODEL "tokenizer.ggml.model"
#define K_TOKENS "tokenizer.ggml.tokens"
#define K_SCORES "tokenizer.ggml.scores"
#define K_TYPES "tokenizer.ggml.token_type"
#define K_MERGES "tokenizer.ggml.merges"

enum { TT_NORMAL = 1, TT_UNKNOWN = 2, TT_CONTROL = 3, TT_USER_DEFINED = 4, TT_UNUSED = 5, TT_BYTE = 6 };

static g4_status add_step(g4_tokenizer *t, int decoder, int kind, const char *pat, const char *rep, char *err) {
    if (decoder) {
        tok_replace *r = g4_realloc(t->dreps, sizeof *r * (size_t)(t->n_dreps + 1));
        if (!r) return g4_errf(err, G4_ENOMEM, "tokenizer: out of memory");
        t->dreps = r;
        r = &r[t->n_dreps++];
        r->pat = g4_strdup(pat);
        r->rep = g4_strdup(rep);
        if (!r->pat || !r->rep) return g4_errf(err, G4_ENOMEM, "tokenizer: out of memory");
        r->pat_len = strlen(pat);
        r->rep_len = strlen(rep);
        return G4_OK;
    }
    tok_norm *n = g4_realloc(t->norms, sizeof *n * (size_t)(t->n_norms + 1));
    if (!n) return g4_errf(err, G4_ENOMEM, "tokenizer: out of memory");
    t->norms = n;
    n = &n[t->n_norms++];
    memset(n, 0, sizeof *n);
    n->kind = kind;
    n->pat = pat ? g4_strdup(pat) : NULL;
    n->rep = g4_strdup(rep);
    if ((pat && !n->pat) || !n->rep) return g4_errf(err, G4_ENOMEM, "tokenizer: out of memory");
    n->pat_len = pat ? strlen(pat) : 0;
    n->rep_len = strlen(rep);
    return G4_OK;
}

static g4_status load(g4_tokenizer *t, const g4_gguf *f, const char *name, char *err) {
    const char *m;
    size_t ml;
    g4_status st;
    if (!g4_gguf_get_str(f, K_MODEL, &m, &ml)) return g4_errf(err, G4_EFORMAT, "%s: no %s key", name, K_MODEL);
    if (ml == 6 && !memcmp(m, "gemma4", 6)) t->model = TOK_MODEL_BPE;
    else if (ml == 5 && !memcmp(m, "llama", 5)) t->model = TOK_MODEL_SPM;
    else
        return g4_errf(err, G4_EUNSUPPORTED, "%s: %s \"%.*s\" is not supported (have gemma4, llama)", name, K_MODEL,
                       (int)G4_MIN(ml, 32), m);
    g4_gguf_vtype et;
    uint64_t n, nx;
    const void *data;
    if (!g4_gguf_get_arr(f, K_TOKENS, &et, &n, &data) || et != G4_GGUF_STRING)
        return g4_errf(err, G4_EFORMAT, "%s: %s missing or not a string array", name, K_TOKENS);
    if (n == 0 || n > (1u << 30))
        return g4_errf(err, G4_EFORMAT, "%s: %s has %llu entries (want 1 .. 2^30)", name, K_TOKENS,
                       (unsigned long long)n);
    int has_types = g4_gguf_get_arr(f, K_TYPES, &et, &nx, &data);
    if (has_types && nx != n)
        return g4_errf(err, G4_EFORMAT, "%s: %s has %llu entries (want %llu)", name, K_TYPES, (unsigned long long)nx,
                       (unsigned long long)n);
    int has_scores = g4_gguf_get_arr(f, K_SCORES, &et, &nx, &data);
    if (has_scores && nx != n)
        return g4_errf(err, G4_EFORMAT, "%s: %s has %llu entries (want %llu)", name, K_SCORES, (unsigned long long)nx,
                       (unsigned long long)n);
    if (t->model == TOK_MODEL_SPM && !has_scores)
        return g4_errf(err, G4_EFORMAT, "%s: %s missing (SentencePiece needs the scores)", name, K_SCORES);
    if ((st = g4_tok_set_n_vocab(t, (int)n, t->model == TOK_MODEL_SPM, err)) || (st = g4_tok_vocab_alloc(t, n, err)))
        return st;
    for (uint64_t i = 0; i < n; i++) {
        const char *s;
        size_t l;
        g4_gguf_get_arr_str(f, K_TOKENS, i, &s, &l);
        if (g4_tok_utf8_check(s, l) != l)
            return g4_errf(err, G4_EFORMAT, "%s: token %llu is not valid UTF-8", name, (unsigned long long)i);
        if ((st = g4_tok_vocab_insert(t, (int)i, s, l, 0, err))) return st;
        if (t->score) {
            float v = 0;
            if (!g4_gguf_arr_f32(f, K_SCORES, i, &v))
                return g4_errf(err, G4_EFORMAT, "%s: %s is not a float array", name, K_SCORES);
            t->score[i] = isnan(v) ? -INFINITY : v;
        }
    }
    if (t->model == TOK_MODEL_BPE) {
        if (!g4_gguf_get_arr(f, K_MERGES, &et, &nx, &data) || et != G4_GGUF_STRING)
            return g4_errf(err, G4_EFORMAT, "%s: %s missing or not a string array", name, K_MERGES);
        if ((st = g4_tok_merges_alloc(t, nx, err))) return st;
        for (uint64_t i = 0; i < nx; i++) {
            const char *s;
            size_t l, sp = 1;
            g4_gguf_get_arr_str(f, K_MERGES, i, &s, &l);
            while (sp < l && s[sp] != ' ') sp++; /* the first space after the first byte */
            if (sp >= l)
                return g4_errf(err, G4_EFORMAT, "%s: merge %llu \"%.*s\" has no space", name, (unsigned long long)i,
                               (int)G4_MIN(l, 64), s);
            if ((st = g4_tok_add_merge(t, s, sp, s + sp + 1, l - sp - 1, (uint32_t)i, name, err))) return st;
        }
    }
    uint32_t unk;
    if (g4_gguf_get_u32(f, "tokenizer.ggml.unknown_token_id", &unk) && unk < n && t->off[unk] != TOK_NOSTR) {
        if (!(t->unk_token = g4_strndup(t->pool + t->off[unk], t->len[unk])))
            return g4_errf(err, G4_ENOMEM, "%s: out of memory", name);
    } else if (g4_tok_vocab_find(t, "<unk>", 5) >= 0 && !(t->unk_token = g4_strdup("<unk>")))
        return g4_errf(err, G4_ENOMEM, "%s: out of memory", name);
    t->byte_fallback = 1;
    t->fuse_unk = 1;

    bool asp = t->model == TOK_MODEL_SPM;
    g4_gguf_get_bool(f, "tokenizer.ggml.add_space_prefix", &asp);
    if (asp && (st = add_step(t, 0, TOK_NORM_PREPEND, NULL, "\xE2\x96\x81", err))) return st;
    if ((st = add_step(t, 0, TOK_NORM_REPLACE, " ", "\xE2\x96\x81", err))) return st;
    if (t->model == TOK_MODEL_BPE) {
        if (!(t->splits = g4_calloc(1, sizeof *t->splits))) return g4_errf(err, G4_ENOMEM, "%s: out of memory", name);
        t->n_splits = 1;
        t->splits[0].newlines = 1;
        t->splits[0].behavior = TOK_SPLIT_ISOLATED;
    }
    t->has_decoder = 1;
    t->dec_byte_fallback = 1;
    if ((st = add_step(t, 1, 0, "\xE2\x96\x81", " ", err))) return st;
    if (asp) {
        t->strip_ch[0] = ' ';
        t->strip_ch_len = 1;
        t->strip_start = 1;
    }
    if (has_types)
        for (uint64_t i = 0; i < n; i++) {
            int64_t ty = TT_NORMAL;
            if (!g4_gguf_arr_i64(f, K_TYPES, i, &ty))
                return g4_errf(err, G4_EFORMAT, "%s: %s is not an integer array", name, K_TYPES);
            if (ty != TT_CONTROL && ty != TT_UNKNOWN && ty != TT_USER_DEFINED) continue;
            if (t->off[i] == TOK_NOSTR || t->len[i] == 0) continue;
            if ((st = g4_tok_add_added(t, t->pool + t->off[i], t->len[i], ty != TT_USER_DEFINED, 0, 0, 0, 0, err)))
                return st;
        }
    return g4_tok_finish(t, err);
}

g4_status g4_tokenizer_load_gguf(g4_tokenizer **out, const g4_gguf *f, char *err) {
    if (!out || !f) return g4_errf(err, G4_EINVAL, "tokenizer: NULL argument");
    *out = NULL;
    const char *name = g4_gguf_path(f);
    if (!name) name = "gguf";
    g4_tokenizer *t = g4_tok_new();
    if (!t) return g4_errf(err, G4_ENOMEM, "%s: out of memory", name);
    g4_status st = load(t, f, name, err);
    if (st) {
        g4_tokenizer_free(t);
        return st;
    }
    *out = t;
    return G4_OK;
}
