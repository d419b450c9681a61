/* tok_encode.c -- the encode driver: added-token split -> normalizer -> pre-tokenizer ->
 * model (tok_bpe.c), as HF TokenizerImpl::encode with add_special_tokens = false.
 *
 * Added tokens follow HF's AddedVocabulary: non-normalized tokens are found in the raw
 * text, normalized ones in each normalized remainder, both leftmost-longest (aho-corasick
 * MatchKind::LeftmostLongest; a byte trie walked from each position gives the same
 * matches).  A match that is skipped (a special token with parse_special off, or a
 * single_word token inside a word) still consumes its text from the search, as in HF.
 * lstrip/rstrip widen the match over Unicode whitespace.
 *
 * Everything here is linear in the text: the trie walk is bounded by the longest added
 * token, splits are single passes, and the model step is O(n log n) per piece.
 */
#include "tok_internal.h"

#include <string.h>

/* ---- added-token split (HF AddedVocabulary::find_matches) ----------------------------- */

typedef struct {
    size_t a, b;
    int id; /* -1: text to tokenize further */
} seg;

typedef struct {
    seg *v;
    size_t n, cap;
} segvec;

static g4_status seg_push(segvec *sv, size_t a, size_t b, int id) {
    if (sv->n == sv->cap) {
        size_t c = sv->cap ? sv->cap * 2 : 16;
        seg *p = g4_realloc(sv->v, sizeof *p * c);
        if (!p) return G4_ENOMEM;
        sv->v = p;
        sv->cap = c;
    }
    sv->v[sv->n++] = (seg){a, b, id};
    return G4_OK;
}

g4_status g4_tok_ivec_push(tok_ivec *v, int x) {
    if (v->n == v->cap) {
        size_t c = v->cap ? v->cap * 2 : 64;
        int *p = g4_realloc(v->v, sizeof *p * c);
        if (!p) return G4_ENOMEM;
        v->v = p;
        v->cap = c;
    }
    v->v[v->n++] = x;
    return G4_OK;
}

/* leftmost-longest match at or after pos; returns the added index or -1 */
static int trie_next(const tok_trie *tr, const char *s, size_t n, size_t pos, size_t *ms, size_t *me) {
    for (size_t i = pos; i < n; i++) {
        int32_t nd = tr->root[(unsigned char)s[i]];
        if (nd < 0) continue;
        int best = -1;
        size_t end = 0;
        for (size_t j = i;;) {
            if (tr->node[nd].added >= 0) {
                best = tr->node[nd].added;
                end = j + 1;
            }
            if (++j >= n) break;
            int32_t c = tr->node[nd].child;
            while (c >= 0 && tr->node[c].byte != (unsigned char)s[j]) c = tr->node[c].sibling;
            if (c < 0) break;
            nd = c;
        }
        if (best >= 0) {
            *ms = i;
            *me = end;
            return best;
        }
    }
    return -1;
}

static uint32_t last_char(const char *s, size_t end) { /* the character ending at s[end-1] */
    size_t i = end - 1;
    while (i > 0 && ((unsigned char)s[i] & 0xC0) == 0x80) i--;
    uint32_t cp;
    g4_tok_utf8_decode(s + i, &cp);
    return cp;
}

static g4_status find_matches(const g4_tokenizer *t, const tok_trie *tr, const char *s, size_t n,
                              int parse_special, segvec *out) {
    size_t start_off = 0, pos = 0, ms, me;
    if (tr->node) {
        int a;
        while ((a = trie_next(tr, s, n, pos, &ms, &me)) >= 0) {
            pos = me;
            const tok_added *ad = &t->added[t->added[t->added[a].first].last]; /* its flags */
            size_t st = ms, sp = me;
            if (t->special[ad->id] && !parse_special) continue;
            if (ad->single_word) {
                uint32_t cp;
                int start_space = st == 0 || !g4_tok_is_word(last_char(s, st));
                int stop_space = sp == n || (g4_tok_utf8_decode(s + sp, &cp), !g4_tok_is_word(cp));
                if (!start_space || !stop_space) continue;
            }
            if (ad->lstrip) {
                size_t ns = st;
                while (ns > 0) {
                    size_t k = ns - 1;
                    while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80) k--;
                    uint32_t cp;
                    g4_tok_utf8_decode(s + k, &cp);
                    if (!g4_tok_is_space(cp)) break;
                    ns = k;
                }
                st = G4_MAX(ns, start_off);
            }
            if (ad->rstrip) {
                while (sp < n) {
                    uint32_t cp;
                    int l = g4_tok_utf8_decode(s + sp, &cp);
                    if (!g4_tok_is_space(cp)) break;
                    sp += (size_t)l;
                }
            }
            if (start_off < st && seg_push(out, start_off, st, -1)) return G4_ENOMEM;
            if (seg_push(out, st, sp, ad->id)) return G4_ENOMEM;
            start_off = sp;
        }
    }
    if (start_off < n && seg_push(out, start_off, n, -1)) return G4_ENOMEM;
    return G4_OK;
}

/* ---- pre-tokenizer (HF Split) ---------------------------------------------------------- */

typedef struct {
    size_t a, b;
    int m; /* is a match of the pattern */
} piece;

typedef struct {
    piece *v;
    size_t n, cap;
} piecevec;

static g4_status piece_push(piecevec *pv, size_t a, size_t b, int m) {
    if (pv->n == pv->cap) {
        size_t c = pv->cap ? pv->cap * 2 : 16;
        piece *p = g4_realloc(pv->v, sizeof *p * c);
        if (!p) return G4_ENOMEM;
        pv->v = p;
        pv->cap = c;
    }
    pv->v[pv->n++] = (piece){a, b, m};
    return G4_OK;
}

/* next match of the split pattern in s[pos..b); 0 if none */
static int split_next(const tok_split *sp, const char *s, size_t pos, size_t b, size_t *ms, size_t *me) {
    if (sp->newlines) { /* [^\n]+|[\n]+ : every maximal run of one class is a match */
        if (pos >= b) return 0;
        size_t e = pos + 1;
        int nl = s[pos] == '\n';
        while (e < b && (s[e] == '\n') == nl) e++;
        *ms = pos;
        *me = e;
        return 1;
    }
    for (size_t i = pos; i + sp->pat_len <= b; i++)
        if (memcmp(s + i, sp->pat, sp->pat_len) == 0) {
            *ms = i;
            *me = i + sp->pat_len;
            return 1;
        }
    return 0;
}

/* Split s[a..b) per HF NormalizedString::split and append the non-empty results to out. */
static g4_status split_one(const tok_split *sp, const char *s, size_t a, size_t b, piecevec *tmp, piecevec *out) {
    tmp->n = 0;
    size_t prev = a, ms, me, pos = a;
    while (split_next(sp, s, pos, b, &ms, &me)) {
        if (prev != ms && piece_push(tmp, prev, ms, sp->invert)) return G4_ENOMEM;
        if (piece_push(tmp, ms, me, !sp->invert)) return G4_ENOMEM;
        prev = pos = me;
    }
    if (prev != b && piece_push(tmp, prev, b, sp->invert)) return G4_ENOMEM;
    size_t first = out->n;
    int prev_match = 0;
    switch (sp->behavior) {
    case TOK_SPLIT_REMOVED:
        for (size_t i = 0; i < tmp->n; i++)
            if (!tmp->v[i].m && piece_push(out, tmp->v[i].a, tmp->v[i].b, 0)) return G4_ENOMEM;
        break;
    case TOK_SPLIT_ISOLATED:
        for (size_t i = 0; i < tmp->n; i++)
            if (piece_push(out, tmp->v[i].a, tmp->v[i].b, 0)) return G4_ENOMEM;
        break;
    case TOK_SPLIT_CONTIGUOUS:
        for (size_t i = 0; i < tmp->n; i++) {
            if (tmp->v[i].m == prev_match && out->n > first) out->v[out->n - 1].b = tmp->v[i].b;
            else if (piece_push(out, tmp->v[i].a, tmp->v[i].b, 0)) return G4_ENOMEM;
            prev_match = tmp->v[i].m;
        }
        break;
    case TOK_SPLIT_MERGED_PREV:
        for (size_t i = 0; i < tmp->n; i++) {
            if (tmp->v[i].m && !prev_match && out->n > first) out->v[out->n - 1].b = tmp->v[i].b;
            else if (piece_push(out, tmp->v[i].a, tmp->v[i].b, 0)) return G4_ENOMEM;
            prev_match = tmp->v[i].m;
        }
        break;
    case TOK_SPLIT_MERGED_NEXT: /* HF folds from the right */
        for (size_t k = tmp->n; k-- > 0;) {
            if (tmp->v[k].m && !prev_match && out->n > first) out->v[out->n - 1].a = tmp->v[k].a;
            else if (piece_push(out, tmp->v[k].a, tmp->v[k].b, 0)) return G4_ENOMEM;
            prev_match = tmp->v[k].m;
        }
        for (size_t i = first, j = out->n; i + 1 < j; i++, j--) { /* back to text order */
            piece x = out->v[i];
            out->v[i] = out->v[j - 1];
            out->v[j - 1] = x;
        }
        break;
    }
    size_t w = first; /* PreTokenizedString drops empty splits */
    for (size_t i = first; i < out->n; i++)
        if (out->v[i].b > out->v[i].a) out->v[w++] = out->v[i];
    out->n = w;
    return G4_OK;
}

/* Pre-tokenize s[a..b) and run the model on every piece. */
static g4_status pretok_and_model(const g4_tokenizer *t, tok_scratch *sc, const char *s, size_t a, size_t b,
                                  tok_ivec *out, piecevec pv[3], char *err) {
    if (t->n_splits == 0) return g4_tok_model_encode(t, sc, s + a, b - a, out, err);
    pv[0].n = 0;
    if (piece_push(&pv[0], a, b, 0)) return G4_ENOMEM;
    int cur = 0;
    for (int k = 0; k < t->n_splits; k++) {
        int nx = cur ^ 1;
        pv[nx].n = 0;
        for (size_t i = 0; i < pv[cur].n; i++)
            if (split_one(&t->splits[k], s, pv[cur].v[i].a, pv[cur].v[i].b, &pv[2], &pv[nx])) return G4_ENOMEM;
        cur = nx;
    }
    for (size_t i = 0; i < pv[cur].n; i++) {
        g4_status st = g4_tok_model_encode(t, sc, s + pv[cur].v[i].a, pv[cur].v[i].b - pv[cur].v[i].a, out, err);
        if (st) return st;
    }
    return G4_OK;
}

/* ---- encode ------------------------------------------------------------------------------ */

g4_status g4_tokenizer_encode(const g4_tokenizer *t, const char *text, size_t len, int **ids, int *n,
                              int parse_special, char *err) {
    if (!t || !ids || !n || (!text && len)) return g4_errf(err, G4_EINVAL, "tokenizer: encode: NULL argument");
    *ids = NULL;
    *n = 0;
    size_t bad = g4_tok_utf8_check(text, len);
    if (bad != len)
        return g4_errf(err, G4_EINVAL, "tokenizer: input is not valid UTF-8 at byte %zu (got 0x%02X)", bad,
                       (unsigned char)text[bad]);
    g4_status st = G4_OK;
    segvec raw = {0}, nsegs = {0};
    piecevec pv[3] = {{0}};
    tok_ivec out = {0};
    char *nb = NULL;
    tok_scratch *sc = g4_tok_scratch_new();
    if (!sc || find_matches(t, &t->raw, text, len, parse_special, &raw)) goto oom;
    for (size_t i = 0; i < raw.n; i++) {
        if (raw.v[i].id >= 0) {
            if (g4_tok_ivec_push(&out, raw.v[i].id)) goto oom;
            continue;
        }
        size_t nn;
        if (g4_tok_normalize(t, text + raw.v[i].a, raw.v[i].b - raw.v[i].a, &nb, &nn)) goto oom;
        nsegs.n = 0;
        if (find_matches(t, &t->norm, nb, nn, parse_special, &nsegs)) goto oom;
        for (size_t j = 0; j < nsegs.n; j++) {
            if (nsegs.v[j].id >= 0) {
                if (g4_tok_ivec_push(&out, nsegs.v[j].id)) goto oom;
            } else if ((st = pretok_and_model(t, sc, nb, nsegs.v[j].a, nsegs.v[j].b, &out, pv, err))) {
                if (st == G4_ENOMEM) goto oom;
                goto done;
            }
        }
        g4_free(nb);
        nb = NULL;
    }
    if (out.n > (size_t)INT32_MAX) {
        st = g4_errf(err, G4_EINVAL, "tokenizer: input too long (%zu tokens)", out.n);
        goto done;
    }
    *ids = out.v;
    *n = (int)out.n;
    out.v = NULL;
    goto done;
oom:
    st = g4_errf(err, G4_ENOMEM, "tokenizer: out of memory encoding %zu bytes", len);
done:
    g4_free(nb);
    g4_free(raw.v);
    g4_free(nsegs.v);
    for (int k = 0; k < 3; k++) g4_free(pv[k].v);
    g4_free(out.v);
    g4_tok_scratch_free(sc);
    return st;
}
