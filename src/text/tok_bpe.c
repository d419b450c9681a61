/* tok_bpe.c -- the model step: one pre-tokenized piece -> ids.
 *
 * BPE (HF tokenizers' BPE::merge_word + Word::merge_all, reproduced step for step so the
 * ids match exactly): each character becomes its vocab id, or its <0xXX> byte tokens with
 * byte_fallback, or <unk> (fused with a neighbouring <unk> when fuse_unk).  Then a binary
 * heap of candidate merges ordered by (rank, position) is popped; an entry whose pair no
 * longer yields the same merged id is stale and skipped; a merge links the right symbol
 * out of a doubly linked list and pushes the new pairs on both sides.  O(n log n).
 *
 * SPM (llama.cpp's SentencePiece BPE for tokenizer.ggml.model "llama"): characters are
 * merged pairwise whenever the concatenation is a vocab entry, highest score first (ties:
 * leftmost), with the same stale-entry check on the symbol lengths; leftover characters
 * that are not in the vocab become <0xXX> byte tokens.
 */
#include "tok_internal.h"

#include <math.h>
#include <string.h>

typedef struct {
    int32_t c, prev, next, len; /* len 0: merged away */
} bsym;

typedef struct {
    uint32_t rank;
    int32_t pos, nid;
    int32_t a, b; /* the pair when pushed: if it is unchanged the entry is current */
} bmerge;

typedef struct {
    float score;
    int32_t left, right;
    uint32_t size;
} sbigram;

typedef struct {
    uint32_t off, n;
    int32_t prev, next;
} ssym;

struct tok_scratch {
    bsym *sym;
    size_t sym_cap;
    bmerge *heap;
    size_t heap_n, heap_cap;
    ssym *ssy;
    size_t ssy_cap;
    sbigram *bh;
    size_t bh_n, bh_cap;
};

tok_scratch *g4_tok_scratch_new(void) { return g4_calloc(1, sizeof(tok_scratch)); }

void g4_tok_scratch_free(tok_scratch *s) {
    if (!s) return;
    g4_free(s->sym);
    g4_free(s->heap);
    g4_free(s->ssy);
    g4_free(s->bh);
    g4_free(s);
}

static int reserve(void **p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return 0;
    size_t c = *cap ? *cap : 64;
    while (c < need) c *= 2;
    void *q = g4_realloc(*p, c * elem);
    if (!q) return -1;
    *p = q;
    *cap = c;
    return 0;
}

/* ---- BPE ------------------------------------------------------------------------------- */

static inline int bm_less(const bmerge *a, const bmerge *b) {
    return a->rank != b->rank ? a->rank < b->rank : a->pos < b->pos;
}

static int bheap_push(tok_scratch *sc, bmerge m) {
    if (reserve((void **)&sc->heap, &sc->heap_cap, sc->heap_n + 1, sizeof(bmerge))) return -1;
    size_t i = sc->heap_n++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!bm_less(&m, &sc->heap[p])) break;
        sc->heap[i] = sc->heap[p];
        i = p;
    }
    sc->heap[i] = m;
    return 0;
}

static bmerge bheap_pop(tok_scratch *sc) {
    bmerge top = sc->heap[0], last = sc->heap[--sc->heap_n];
    size_t i = 0, n = sc->heap_n;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        const bmerge *best = &last;
        if (l < n && bm_less(&sc->heap[l], best)) { m = l; best = &sc->heap[l]; }
        if (r < n && bm_less(&sc->heap[r], best)) m = r;
        if (m == i) break;
        sc->heap[i] = sc->heap[m];
        i = m;
    }
    if (n) sc->heap[i] = last;
    return top;
}

static int sym_add(tok_scratch *sc, size_t *ns, int c, int len) {
    if (reserve((void **)&sc->sym, &sc->sym_cap, *ns + 1, sizeof(bsym))) return -1;
    if (*ns > 0) sc->sym[*ns - 1].next = (int32_t)*ns;
    sc->sym[*ns] = (bsym){c, (int32_t)*ns - 1, -1, len};
    ++*ns;
    return 0;
}

static g4_status bpe_encode(const g4_tokenizer *t, tok_scratch *sc, const char *s, size_t n, tok_ivec *out,
                            char *err) {
    if (t->ignore_merges) {
        int id = g4_tok_vocab_find(t, s, n);
        if (id >= 0) return g4_tok_ivec_push(out, id) ? G4_ENOMEM : G4_OK;
    }
    size_t ns = 0;
    int unk_pending = 0, unk_len = 0;
    for (size_t i = 0; i < n;) {
        size_t l = (size_t)g4_tok_utf8_len((unsigned char)s[i]);
        if (l > n - i) l = n - i;
        int id = g4_tok_vocab_find(t, s + i, l);
        if (id >= 0) {
            if (unk_pending && sym_add(sc, &ns, t->unk_id, unk_len)) return G4_ENOMEM;
            unk_pending = 0;
            if (sym_add(sc, &ns, id, (int)l)) return G4_ENOMEM;
            i += l;
            continue;
        }
        if (t->byte_fallback) {
            size_t k = 0;
            while (k < l && t->byte_id[(unsigned char)s[i + k]] >= 0) k++;
            if (k == l) { /* HF leaves a pending <unk> pending across byte tokens */
                for (k = 0; k < l; k++)
                    if (sym_add(sc, &ns, t->byte_id[(unsigned char)s[i + k]], 1)) return G4_ENOMEM;
                i += l;
                continue;
            }
        }
        if (t->unk_token) {
            if (t->unk_id < 0)
                return g4_errf(err, G4_EFORMAT, "tokenizer: unk_token \"%s\" is not in the vocab", t->unk_token);
            if (unk_pending && t->fuse_unk) unk_len += (int)l;
            else {
                if (unk_pending && sym_add(sc, &ns, t->unk_id, unk_len)) return G4_ENOMEM;
                unk_pending = 1;
                unk_len = (int)l;
            }
        } /* no unk_token: HF drops the character */
        i += l;
    }
    if (unk_pending && sym_add(sc, &ns, t->unk_id, unk_len)) return G4_ENOMEM;

    bsym *sy = sc->sym;
    sc->heap_n = 0;
    uint32_t rank;
    int nid;
    for (size_t i = 0; i + 1 < ns; i++)
        if (g4_tok_merge_find(t, sy[i].c, sy[i + 1].c, &rank, &nid) &&
            bheap_push(sc, (bmerge){rank, (int32_t)i, nid, sy[i].c, sy[i + 1].c}))
            return G4_ENOMEM;
    while (sc->heap_n) {
        bmerge top = bheap_pop(sc);
        bsym *cur = &sy[top.pos];
        if (cur->len == 0 || cur->next < 0) continue;
        int32_t np = cur->next;
        bsym right = sy[np];
        if ((cur->c != top.a || right.c != top.b) && /* changed pair: HF's check is the merged id */
            (!g4_tok_merge_find(t, cur->c, right.c, &rank, &nid) || nid != top.nid))
            continue; /* stale */
        cur->c = top.nid;
        cur->len += right.len;
        cur->next = right.next;
        sy[np].len = 0;
        if (right.next >= 0) sy[right.next].prev = top.pos;
        if (cur->prev >= 0 && g4_tok_merge_find(t, sy[cur->prev].c, cur->c, &rank, &nid) &&
            bheap_push(sc, (bmerge){rank, cur->prev, nid, sy[cur->prev].c, cur->c}))
            return G4_ENOMEM;
        cur = &sy[top.pos]; /* (the heap push does not move sym, but keep it obvious) */
        if (cur->next >= 0 && g4_tok_merge_find(t, cur->c, sy[cur->next].c, &rank, &nid) &&
            bheap_push(sc, (bmerge){rank, top.pos, nid, cur->c, sy[cur->next].c}))
            return G4_ENOMEM;
    }
    for (size_t i = 0; i < ns; i++)
        if (sy[i].len && g4_tok_ivec_push(out, sy[i].c)) return G4_ENOMEM;
    return G4_OK;
}

/* ---- SPM (llama.cpp) ----------------------------------------------------------------------- */

static inline int sb_better(const sbigram *a, const sbigram *b) { /* a pops before b */
    return a->score != b->score ? a->score > b->score : a->left < b->left;
}

static int sheap_push(tok_scratch *sc, sbigram m) {
    if (reserve((void **)&sc->bh, &sc->bh_cap, sc->bh_n + 1, sizeof(sbigram))) return -1;
    size_t i = sc->bh_n++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!sb_better(&m, &sc->bh[p])) break;
        sc->bh[i] = sc->bh[p];
        i = p;
    }
    sc->bh[i] = m;
    return 0;
}

static sbigram sheap_pop(tok_scratch *sc) {
    sbigram top = sc->bh[0], last = sc->bh[--sc->bh_n];
    size_t i = 0, n = sc->bh_n;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        const sbigram *best = &last;
        if (l < n && sb_better(&sc->bh[l], best)) { m = l; best = &sc->bh[l]; }
        if (r < n && sb_better(&sc->bh[r], best)) m = r;
        if (m == i) break;
        sc->bh[i] = sc->bh[m];
        i = m;
    }
    if (n) sc->bh[i] = last;
    return top;
}

static int spm_try(const g4_tokenizer *t, tok_scratch *sc, const char *s, int32_t left, int32_t right) {
    if (left < 0 || right < 0) return 0;
    uint32_t size = sc->ssy[left].n + sc->ssy[right].n;
    int id = g4_tok_vocab_find(t, s + sc->ssy[left].off, size);
    if (id < 0) return 0;
    float score = t->score[id];
    return sheap_push(sc, (sbigram){isnan(score) ? -INFINITY : score, left, right, size});
}

static g4_status spm_encode(const g4_tokenizer *t, tok_scratch *sc, const char *s, size_t n, tok_ivec *out) {
    size_t ns = 0;
    for (size_t i = 0; i < n; ns++) {
        size_t l = (size_t)g4_tok_utf8_len((unsigned char)s[i]);
        if (l > n - i) l = n - i;
        if (reserve((void **)&sc->ssy, &sc->ssy_cap, ns + 1, sizeof(ssym))) return G4_ENOMEM;
        sc->ssy[ns] = (ssym){(uint32_t)i, (uint32_t)l, (int32_t)ns - 1, i + l < n ? (int32_t)ns + 1 : -1};
        i += l;
    }
    sc->bh_n = 0;
    for (size_t i = 1; i < ns; i++)
        if (spm_try(t, sc, s, (int32_t)i - 1, (int32_t)i)) return G4_ENOMEM;
    while (sc->bh_n) {
        sbigram b = sheap_pop(sc);
        ssym *L = &sc->ssy[b.left], *R = &sc->ssy[b.right];
        if (L->n == 0 || R->n == 0 || L->n + R->n != b.size) continue;
        L->n += R->n;
        R->n = 0;
        L->next = R->next;
        if (R->next >= 0) sc->ssy[R->next].prev = b.left;
        int32_t lp = L->prev, ln = L->next;
        if (spm_try(t, sc, s, lp, b.left) || spm_try(t, sc, s, b.left, ln)) return G4_ENOMEM;
    }
    for (int32_t i = ns ? 0 : -1; i >= 0; i = sc->ssy[i].next) {
        const ssym *y = &sc->ssy[i];
        int id = g4_tok_vocab_find(t, s + y->off, y->n);
        if (id >= 0) {
            if (g4_tok_ivec_push(out, id)) return G4_ENOMEM;
            continue;
        }
        for (uint32_t k = 0; k < y->n; k++) { /* byte token, else the byte as a token, else <unk> */
            unsigned char c = (unsigned char)s[y->off + k];
            int b = t->byte_id[c];
            if (b < 0) b = g4_tok_vocab_find(t, (const char *)&c, 1);
            if (b < 0) b = t->unk_id;
            if (b >= 0 && g4_tok_ivec_push(out, b)) return G4_ENOMEM;
        }
    }
    return G4_OK;
}

g4_status g4_tok_model_encode(const g4_tokenizer *t, tok_scratch *sc, const char *s, size_t n, tok_ivec *out,
                           char *err) {
    if (n == 0) return G4_OK;
    if (t->model == TOK_MODEL_SPM) return spm_encode(t, sc, s, n, out);
    return bpe_encode(t, sc, s, n, out, err);
}
