/* tokenizer.c -- the tokenizer's tables: vocab and merge hashes, added tokens and their
 * tries, the decoder's per-token pieces; public lookups; the normalizer.
 *
 * Loaders (tok_load_hf.c, tok_load_gguf.c) fill the tables through the tok_* helpers here
 * and call g4_tok_finish.  Ids follow HF: a merge's rank is its position, an added token takes
 * its vocab id or the next free one after the vocab (AddedVocabulary::add_tokens), and a
 * normalized added token is shown (id_to_token, decode) in its normalized form.
 * Building is linear: open-addressing hashes, no pairwise comparisons.
 */
#include "tok_internal.h"

#include <string.h>

/* ---- hashing ----------------------------------------------------------------------- */

uint64_t g4_tok_hash(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    h ^= h >> 32;
    h *= 0xd6e8feb86659fd93ull;
    return h ^ (h >> 32);
}

static uint64_t mix64(uint64_t x) {
    x ^= x >> 30; x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27; x *= 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static uint32_t pow2_at_least(size_t n) {
    uint32_t c = 16;
    while (c < n && c < (1u << 31)) c <<= 1;
    return c;
}

/* ---- building ---------------------------------------------------------------------- */

g4_tokenizer *g4_tok_new(void) {
    g4_tokenizer *t = g4_calloc(1, sizeof *t);
    if (!t) return NULL;
    t->unk_id = -1;
    for (int i = 0; i < 256; i++) t->byte_id[i] = -1;
    for (int i = 0; i < 128; i++) t->ascii_id[i] = -1;
    for (int i = 0; i < 256; i++) t->raw.root[i] = t->norm.root[i] = -1;
    return t;
}

static g4_status grow_ids(g4_tokenizer *t, int n, char *err) {
    if (n <= t->n_vocab) return G4_OK;
    size_t old = (size_t)t->n_vocab, nn = (size_t)n;
    uint32_t *off = g4_realloc(t->off, nn * sizeof *off);
    if (off) t->off = off;
    uint32_t *len = g4_realloc(t->len, nn * sizeof *len);
    if (len) t->len = len;
    uint8_t *im = g4_realloc(t->in_model, nn);
    if (im) t->in_model = im;
    uint8_t *sp = g4_realloc(t->special, nn);
    if (sp) t->special = sp;
    float *sc = t->score ? g4_realloc(t->score, nn * sizeof *sc) : NULL;
    if (sc) t->score = sc;
    if (!off || !len || !im || !sp || (t->score && !sc))
        return g4_errf(err, G4_ENOMEM, "tokenizer: out of memory for %d ids", n);
    for (size_t i = old; i < nn; i++) {
        off[i] = TOK_NOSTR;
        len[i] = 0;
        im[i] = sp[i] = 0;
        if (sc) sc[i] = 0.0f;
    }
    t->n_vocab = n;
    return G4_OK;
}

g4_status g4_tok_set_n_vocab(g4_tokenizer *t, int n, int with_scores, char *err) {
    if (with_scores && !t->score) { /* grow_ids keeps it the size of the other per-id arrays */
        t->score = g4_calloc(t->n_vocab > 0 ? (size_t)t->n_vocab : 1, sizeof(float));
        if (!t->score) return g4_errf(err, G4_ENOMEM, "tokenizer: out of memory");
    }
    return grow_ids(t, n, err);
}

static g4_status pool_add(g4_tokenizer *t, const char *s, size_t n, uint32_t *off, char *err) {
    if (t->pool_len + n + 1 > UINT32_MAX - 1)
        return g4_errf(err, G4_EFORMAT, "tokenizer: token strings too large (over 4 GiB)");
    if (t->pool_len + n + 1 > t->pool_cap) {
        size_t c = t->pool_cap ? t->pool_cap : 4096;
        while (c < t->pool_len + n + 1) c *= 2;
        char *p = g4_realloc(t->pool, c);
        if (!p) return g4_errf(err, G4_ENOMEM, "tokenizer: out of memory for token strings");
        t->pool = p;
        t->pool_cap = c;
    }
    if (n) memcpy(t->pool + t->pool_len, s, n);
    t->pool[t->pool_len + n] = 0;
    *off = (uint32_t)t->pool_len;
    t->pool_len += n + 1;
    return G4_OK;
}

g4_status g4_tok_vocab_alloc(g4_tokenizer *t, size_t n, char *err) {
    if (n > (1u << 29)) return g4_errf(err, G4_EFORMAT, "tokenizer: vocab too large (got %zu entries)", n);
    uint32_t cap = pow2_at_least(2 * n + 1);
    t->vh = g4_calloc(cap, sizeof *t->vh);
    if (!t->vh) return g4_errf(err, G4_ENOMEM, "tokenizer: out of memory for the vocab hash");
    t->vh_mask = cap - 1;
    return G4_OK;
}

/* the slot holding s, or the empty slot where it would go */
static uint64_t *vocab_slot(const g4_tokenizer *t, const char *s, size_t n) {
    uint64_t h = g4_tok_hash(s, n);
    uint32_t i = (uint32_t)h & t->vh_mask, tag = (uint32_t)(h >> 32);
    for (;;) {
        uint64_t v = t->vh[i];
        if (!v) return &t->vh[i];
        if ((uint32_t)(v >> 32) == tag) {
            int32_t id = (int32_t)(uint32_t)v - 1;
            if (t->len[id] == n && memcmp(t->pool + t->off[id], s, n) == 0) return &t->vh[i];
        }
        i = (i + 1) & t->vh_mask;
    }
}

int g4_tok_vocab_find(const g4_tokenizer *t, const char *s, size_t n) {
    if (n == 1 && (unsigned char)s[0] < 128) return t->ascii_id[(unsigned char)s[0]];
    if (!t->vh) return -1;
    return (int)(uint32_t)*vocab_slot(t, s, n) - 1;
}

g4_status g4_tok_vocab_insert(g4_tokenizer *t, int id, const char *s, size_t n, int drop_old, char *err) {
    g4_status st = grow_ids(t, id + 1, err);
    if (st) return st;
    if (t->off[id] != TOK_NOSTR)
        return g4_errf(err, G4_EFORMAT, "tokenizer: vocab id %d given twice", id);
    uint64_t *slot = vocab_slot(t, s, n);
    if (*slot && drop_old) {
        int old = (int)(uint32_t)*slot - 1;
        t->off[old] = TOK_NOSTR;
        t->len[old] = 0;
        t->in_model[old] = 0;
    }
    if ((st = pool_add(t, s, n, &t->off[id], err))) return st;
    t->len[id] = (uint32_t)n;
    t->in_model[id] = 1;
    *slot = (g4_tok_hash(s, n) >> 32 << 32) | (uint32_t)(id + 1); /* keys are compared through this id */
    if (n == 1 && (unsigned char)s[0] < 128) t->ascii_id[(unsigned char)s[0]] = id;
    return G4_OK;
}

g4_status g4_tok_merges_alloc(g4_tokenizer *t, size_t n, char *err) {
    if (n > (1u << 29)) return g4_errf(err, G4_EFORMAT, "tokenizer: too many merges (got %zu)", n);
    uint32_t cap = pow2_at_least(2 * n + 1);
    t->mh = g4_calloc(cap, sizeof *t->mh);
    if (!t->mh) return g4_errf(err, G4_ENOMEM, "tokenizer: out of memory for merges");
    t->mh_mask = cap - 1;
    return G4_OK;
}

g4_status g4_tok_add_merge(g4_tokenizer *t, const char *a, size_t an, const char *b, size_t bn, uint32_t rank,
                        const char *what, char *err) {
    int ia = g4_tok_vocab_find(t, a, an), ib = g4_tok_vocab_find(t, b, bn);
    if (ia < 0 || ib < 0)
        return g4_errf(err, G4_EFORMAT, "%s: merge %u: token \"%.*s\" not in the vocab", what, rank,
                       (int)G4_MIN(ia < 0 ? an : bn, 64), ia < 0 ? a : b);
    char stackbuf[256], *ab = an + bn <= sizeof stackbuf ? stackbuf : g4_malloc(an + bn);
    if (!ab) return g4_errf(err, G4_ENOMEM, "%s: out of memory", what);
    memcpy(ab, a, an);
    memcpy(ab + an, b, bn);
    int inew = g4_tok_vocab_find(t, ab, an + bn);
    if (ab != stackbuf) g4_free(ab);
    if (inew < 0)
        return g4_errf(err, G4_EFORMAT, "%s: merge %u: \"%.*s\" + \"%.*s\" is not in the vocab", what, rank,
                       (int)G4_MIN(an, 64), a, (int)G4_MIN(bn, 64), b);
    if ((uint64_t)t->n_merges >= (uint64_t)t->mh_mask / 2 + 1)
        return g4_errf(err, G4_EFORMAT, "%s: more merges than announced", what);
    uint64_t key = ((uint64_t)ia << 32 | (uint32_t)ib) + 1;
    uint32_t i = (uint32_t)mix64(key) & t->mh_mask;
    while (t->mh[i].key && t->mh[i].key != key) i = (i + 1) & t->mh_mask;
    if (!t->mh[i].key) t->n_merges++;
    t->mh[i] = (tok_mslot){key, rank, inew}; /* a repeated pair: the later merge wins (HashMap collect) */
    return G4_OK;
}

/* rank and merged id of the pair (a, b); 0 if there is no such merge */
static inline int merge_find(const g4_tokenizer *t, int a, int b, uint32_t *rank, int *nid) {
    if (!t->mh) return 0;
    uint64_t key = ((uint64_t)(uint32_t)a << 32 | (uint32_t)b) + 1;
    uint32_t i = (uint32_t)mix64(key) & t->mh_mask;
    for (;;) {
        const tok_mslot *m = &t->mh[i];
        if (!m->key) return 0;
        if (m->key == key) {
            *rank = m->rank;
            *nid = m->nid;
            return 1;
        }
        i = (i + 1) & t->mh_mask;
    }
}
int g4_tok_merge_find(const g4_tokenizer *t, int a, int b, uint32_t *rank, int *nid) {
    return merge_find(t, a, b, rank, nid);
}

/* ---- added tokens ------------------------------------------------------------------- */

static int32_t *added_slot(const g4_tokenizer *t, const char *s, size_t n) {
    uint32_t i = (uint32_t)g4_tok_hash(s, n) & t->ah_mask;
    for (;;) {
        int32_t a = t->ah[i];
        if (a < 0 || (t->added[a].len == n && memcmp(t->pool + t->added[a].off, s, n) == 0)) return &t->ah[i];
        i = (i + 1) & t->ah_mask;
    }
}

static int added_find(const g4_tokenizer *t, const char *s, size_t n) {
    return t->ah ? *added_slot(t, s, n) : -1;
}

static g4_status added_hash_grow(g4_tokenizer *t, char *err) {
    if (t->ah && (uint32_t)t->n_added * 2 < t->ah_mask) return G4_OK;
    uint32_t cap = t->ah ? (t->ah_mask + 1) * 2 : 256;
    int32_t *old = t->ah;
    uint32_t old_cap = t->ah ? t->ah_mask + 1 : 0;
    if (!(t->ah = g4_malloc(sizeof(int32_t) * cap))) {
        t->ah = old;
        return g4_errf(err, G4_ENOMEM, "tokenizer: out of memory for added tokens");
    }
    memset(t->ah, 0xff, sizeof(int32_t) * cap);
    t->ah_mask = cap - 1;
    for (uint32_t i = 0; i < old_cap; i++)
        if (old[i] >= 0) *added_slot(t, t->pool + t->added[old[i]].off, t->added[old[i]].len) = old[i];
    g4_free(old);
    return G4_OK;
}

g4_status g4_tok_add_added(g4_tokenizer *t, const char *s, size_t n, int special, int normalized, int lstrip,
                        int rstrip, int single_word, char *err) {
    if (n == 0) return G4_OK; /* HF ignores empty added tokens */
    if (g4_tok_utf8_check(s, n) != n) return g4_errf(err, G4_EFORMAT, "tokenizer: added token is not valid UTF-8");
    g4_status st = added_hash_grow(t, err);
    if (st) return st;
    if (t->n_added == 0) {
        t->max_added_id = -1;
        t->n_in_model = 0;
        for (int i = 0; i < t->n_vocab; i++) t->n_in_model += t->in_model[i];
    }
    int first = added_find(t, s, n), id;
    if (first >= 0) id = t->added[first].id;
    else if ((id = g4_tok_vocab_find(t, s, n)) < 0) { /* HF: max added id + 1 past the vocab, else its size */
        id = t->max_added_id >= t->n_in_model ? t->max_added_id + 1 : t->n_in_model;
        if (id < t->n_vocab && t->off[id] != TOK_NOSTR)
            return g4_errf(err, G4_EFORMAT, "tokenizer: added token \"%.*s\" would get id %d, which the vocab uses",
                           (int)G4_MIN(n, 64), s, id);
    }
    if (t->n_added % 64 == 0) {
        tok_added *a = g4_realloc(t->added, sizeof *a * (size_t)(t->n_added + 64));
        if (!a) return g4_errf(err, G4_ENOMEM, "tokenizer: out of memory for added tokens");
        t->added = a;
    }
    if ((st = grow_ids(t, id + 1, err))) return st;
    tok_added *a = &t->added[t->n_added];
    if (first >= 0) a->off = t->added[first].off;
    else if ((st = pool_add(t, s, n, &a->off, err))) return st;
    a->len = (uint32_t)n;
    a->id = id;
    a->special = special != 0;
    a->normalized = normalized != 0;
    a->lstrip = lstrip != 0;
    a->rstrip = rstrip != 0;
    a->single_word = single_word != 0;
    a->first = first >= 0 ? first : t->n_added;
    t->added[a->first].last = t->n_added;
    if (first < 0) *added_slot(t, t->pool + a->off, n) = t->n_added; /* (s may point into the old pool) */
    t->n_added++;
    if (id > t->max_added_id) t->max_added_id = id;
    if (t->off[id] == TOK_NOSTR) { /* a new id: its text is the content */
        t->off[id] = a->off;
        t->len[id] = a->len;
    }
    if (special) t->special[id] = 1;
    return G4_OK;
}

static g4_status trie_insert(tok_trie *tr, const char *s, size_t n, int added, char *err) {
    int32_t nd = -1; /* -1: the root */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        int32_t x = nd < 0 ? tr->root[c] : tr->node[nd].child, prev = -1;
        while (x >= 0 && tr->node[x].byte != c) {
            prev = x;
            x = tr->node[x].sibling;
        }
        if (x < 0) {
            if (tr->n == tr->cap) {
                int cap = tr->cap ? tr->cap * 2 : 256;
                tok_tnode *nn = g4_realloc(tr->node, sizeof *nn * (size_t)cap);
                if (!nn) return g4_errf(err, G4_ENOMEM, "tokenizer: out of memory for the added-token trie");
                tr->node = nn;
                tr->cap = cap;
            }
            x = tr->n++;
            tr->node[x] = (tok_tnode){.child = -1, .sibling = -1, .added = -1, .byte = c};
            if (nd < 0) tr->root[c] = x;
            else if (prev < 0) tr->node[nd].child = x;
            else tr->node[prev].sibling = x;
        }
        nd = x;
    }
    if (tr->node[nd].added < 0) tr->node[nd].added = added; /* equal patterns: the first wins */
    return G4_OK;
}

/* HF's tries: first the special contents (their first special entry), then every entry of
 * the other contents, each in the trie its `normalized` flag says. */
static g4_status build_tries(g4_tokenizer *t, char *err) {
    g4_status st = G4_OK;
    uint8_t *done = g4_calloc((size_t)t->n_added + 1, 1);
    if (!done) return g4_errf(err, G4_ENOMEM, "tokenizer: out of memory");
    for (int pass = 0; pass < 2 && !st; pass++)
        for (int i = 0; i < t->n_added && !st; i++) {
            tok_added *a = &t->added[i];
            if (pass == 0 && (!a->special || done[a->first])) continue;
            if (pass == 1 && t->special[a->id]) continue;
            done[a->first] = 1;
            if (!a->normalized) {
                st = trie_insert(&t->raw, t->pool + a->off, a->len, i, err);
                continue;
            }
            char *nb = NULL;
            size_t nn = 0;
            if (g4_tok_normalize(t, t->pool + a->off, a->len, &nb, &nn)) {
                st = g4_errf(err, G4_ENOMEM, "tokenizer: out of memory normalizing added tokens");
                break;
            }
            if (nn) st = trie_insert(&t->norm, nb, nn, i, err);
            g4_free(nb);
        }
    g4_free(done);
    return st;
}

/* ---- decoder pieces ------------------------------------------------------------------ */

/* Apply the decoder's Replace steps to s into a g4_malloc'ed buffer. */
static g4_status replace_all(const char *s, size_t n, const char *pat, size_t pn, const char *rep, size_t rn,
                             char **out, size_t *on) {
    size_t cnt = 0;
    for (size_t i = 0; pn && i + pn <= n;) {
        if (memcmp(s + i, pat, pn) == 0) { cnt++; i += pn; }
        else i++;
    }
    size_t m = n - cnt * pn + cnt * rn;
    char *o = g4_malloc(m + 1);
    if (!o) return G4_ENOMEM;
    size_t j = 0;
    for (size_t i = 0; i < n;) {
        if (pn && i + pn <= n && memcmp(s + i, pat, pn) == 0) {
            memcpy(o + j, rep, rn);
            j += rn;
            i += pn;
        } else o[j++] = s[i++];
    }
    o[j] = 0;
    *out = o;
    *on = j;
    return G4_OK;
}

static int hexv(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* HF ByteFallback: a 6-byte "<0x..>" whose two characters parse as a u8 in base 16
 * (Rust from_str_radix, which also takes a leading '+'). */
static int byte_token_value(const char *s, size_t n) {
    if (n != 6 || memcmp(s, "<0x", 3) != 0 || s[5] != '>') return -1;
    if (s[3] == '+') return hexv(s[4]);
    int h = hexv(s[3]), l = hexv(s[4]);
    return h < 0 || l < 0 ? -1 : h * 16 + l;
}

static g4_status build_pieces(g4_tokenizer *t, char *err) {
    size_t nv = (size_t)t->n_vocab, cap = t->pool_len + 16, used = 0;
    t->doff = g4_malloc(sizeof *t->doff * (nv ? nv : 1));
    t->dlen = g4_malloc(sizeof *t->dlen * (nv ? nv : 1));
    t->dbyte = g4_malloc(sizeof *t->dbyte * (nv ? nv : 1));
    t->dpool = g4_malloc(cap);
    if (!t->doff || !t->dlen || !t->dbyte || !t->dpool) goto oom;
    t->max_piece = 0;
    for (size_t id = 0; id < nv; id++) {
        t->dbyte[id] = -1;
        t->doff[id] = (uint32_t)used;
        t->dlen[id] = 0;
        if (t->off[id] == TOK_NOSTR) continue;
        const char *s = t->pool + t->off[id];
        size_t n = t->len[id];
        char *cur = NULL;
        for (int k = 0; k < t->n_dreps; k++) {
            const tok_replace *r = &t->dreps[k];
            char *nx;
            size_t nn;
            if (replace_all(s, n, r->pat, r->pat_len, r->rep, r->rep_len, &nx, &nn)) {
                g4_free(cur);
                goto oom;
            }
            g4_free(cur);
            cur = nx;
            s = nx;
            n = nn;
        }
        if (t->dec_byte_fallback) t->dbyte[id] = (int16_t)byte_token_value(s, n);
        if (used + n > UINT32_MAX - 1) {
            g4_free(cur);
            return g4_errf(err, G4_EFORMAT, "tokenizer: decoded token strings too large");
        }
        if (used + n > cap) {
            while (cap < used + n) cap *= 2;
            char *p = g4_realloc(t->dpool, cap);
            if (!p) {
                g4_free(cur);
                goto oom;
            }
            t->dpool = p;
        }
        memcpy(t->dpool + used, s, n);
        t->dlen[id] = (uint32_t)n;
        used += n;
        if (n > t->max_piece) t->max_piece = n;
        g4_free(cur);
    }
    return G4_OK;
oom:
    return g4_errf(err, G4_ENOMEM, "tokenizer: out of memory for the decoder table");
}

g4_status g4_tok_finish(g4_tokenizer *t, char *err) {
    g4_status st;
    if (t->n_vocab == 0) return g4_errf(err, G4_EFORMAT, "tokenizer: empty vocab");
    if (t->n_vocab > INT32_MAX / 2) return g4_errf(err, G4_EFORMAT, "tokenizer: too many ids (%d)", t->n_vocab);
    for (int b = 0; b < 256; b++) {
        char name[8];
        snprintf(name, sizeof name, "<0x%02X>", b);
        t->byte_id[b] = g4_tok_vocab_find(t, name, 6);
    }
    if (t->unk_token) t->unk_id = g4_tok_vocab_find(t, t->unk_token, strlen(t->unk_token));
    if ((st = build_tries(t, err))) return st;
    /* HF id_to_token (and so decode) gives a normalized added token in its normalized form */
    for (int i = 0; i < t->n_added; i++) {
        const tok_added *a = &t->added[i];
        if (a->first != i || !t->added[a->last].normalized) continue;
        char *nb;
        size_t nn;
        uint32_t off;
        if (g4_tok_normalize(t, t->pool + a->off, a->len, &nb, &nn))
            return g4_errf(err, G4_ENOMEM, "tokenizer: out of memory normalizing added tokens");
        st = pool_add(t, nb, nn, &off, err);
        g4_free(nb);
        if (st) return st;
        t->off[a->id] = off;
        t->len[a->id] = (uint32_t)nn;
    }
    return build_pieces(t, err);
}

void g4_tokenizer_free(g4_tokenizer *t) {
    if (!t) return;
    g4_free(t->pool);
    g4_free(t->off);
    g4_free(t->len);
    g4_free(t->in_model);
    g4_free(t->special);
    g4_free(t->score);
    g4_free(t->vh);
    g4_free(t->mh);
    g4_free(t->unk_token);
    g4_free(t->added);
    g4_free(t->ah);
    g4_free(t->raw.node);
    g4_free(t->norm.node);
    for (int i = 0; i < t->n_norms; i++) {
        g4_free(t->norms[i].pat);
        g4_free(t->norms[i].rep);
    }
    g4_free(t->norms);
    for (int i = 0; i < t->n_splits; i++) g4_free(t->splits[i].pat);
    g4_free(t->splits);
    for (int i = 0; i < t->n_dreps; i++) {
        g4_free(t->dreps[i].pat);
        g4_free(t->dreps[i].rep);
    }
    g4_free(t->dreps);
    g4_free(t->dpool);
    g4_free(t->doff);
    g4_free(t->dlen);
    g4_free(t->dbyte);
    g4_free(t);
}

/* ---- lookups ------------------------------------------------------------------------- */

int g4_tokenizer_n_vocab(const g4_tokenizer *t) { return t->n_vocab; }

const char *g4_tokenizer_token_text(const g4_tokenizer *t, int id, size_t *len) {
    if (id < 0 || id >= t->n_vocab || t->off[id] == TOK_NOSTR) {
        if (len) *len = 0;
        return NULL;
    }
    if (len) *len = t->len[id];
    return t->pool + t->off[id];
}

int g4_tokenizer_find(const g4_tokenizer *t, const char *text, size_t len) {
    int a = added_find(t, text, len);
    if (a >= 0) return t->added[a].id;
    return g4_tok_vocab_find(t, text, len);
}

int g4_tok_find(const g4_tokenizer *t, const char *text) { return g4_tokenizer_find(t, text, strlen(text)); }

int g4_tokenizer_is_special(const g4_tokenizer *t, int id) {
    return id >= 0 && id < t->n_vocab && t->special[id];
}

/* ---- normalizer ---------------------------------------------------------------------- */

g4_status g4_tok_normalize(const g4_tokenizer *t, const char *s, size_t n, char **out, size_t *out_n) {
    char *cur = g4_malloc(n + 1);
    if (!cur) return G4_ENOMEM;
    memcpy(cur, s, n);
    cur[n] = 0;
    size_t cn = n;
    for (int k = 0; k < t->n_norms; k++) {
        const tok_norm *nm = &t->norms[k];
        char *nx;
        size_t nn;
        if (nm->kind == TOK_NORM_REPLACE) {
            if (replace_all(cur, cn, nm->pat, nm->pat_len, nm->rep, nm->rep_len, &nx, &nn)) goto oom;
        } else { /* Prepend: only to a non-empty string */
            if (cn == 0) continue;
            nn = cn + nm->rep_len;
            if (!(nx = g4_malloc(nn + 1))) goto oom;
            memcpy(nx, nm->rep, nm->rep_len);
            memcpy(nx + nm->rep_len, cur, cn);
            nx[nn] = 0;
        }
        g4_free(cur);
        cur = nx;
        cn = nn;
    }
    *out = cur;
    *out_n = cn;
    return G4_OK;
oom:
    g4_free(cur);
    return G4_ENOMEM;
}

int g4_tok_always_rendered(const char *s, size_t n) {
    static const char *const names[] = {"<|channel>", "<channel|>", "<|tool_call>", "<tool_call|>",
                                        "<|tool_response>", "<tool_response|>", "<|\"|>"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (strlen(names[i]) == n && !memcmp(names[i], s, n)) return 1;
    return 0;
}
