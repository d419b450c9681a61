/* tok_decode.c -- ids -> text: HF's decode() and a streaming decoder for generation.
 *
 * Decoder chain (see tok_load_hf.c for what is accepted): the Replace steps are applied to
 * every token string once, at load (dpool); ByteFallback turns each run of consecutive
 * <0xXX> tokens into its bytes when they are valid UTF-8 and into one U+FFFD per byte
 * otherwise; Fuse only joins; Strip drops up to `start` leading copies of its character
 * from the joined text.  With no decoder at all HF joins the token strings with " ".
 */
#include "tok_internal.h"

#include <string.h>

static const char FFFD[3] = {(char)0xEF, (char)0xBF, (char)0xBD};

typedef struct {
    char *p;
    size_t n, cap;
    int oom;
} sbuf;

static void sb_put(sbuf *b, const void *s, size_t n) {
    if (b->oom || !n) return;
    if (b->n + n + 1 > b->cap) {
        size_t c = b->cap ? b->cap : 256;
        while (c < b->n + n + 1) c *= 2;
        char *p = g4_realloc(b->p, c);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = c;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
}

static int visible(const g4_tokenizer *t, int id, int skip_special) {
    if (id < 0 || id >= t->n_vocab || t->off[id] == TOK_NOSTR) return 0;
    if (!skip_special || !t->special[id]) return 1;
    return skip_special == G4_TOK_SKIP_CONTROL && g4_tok_always_rendered(t->pool + t->off[id], t->len[id]);
}

static void flush_bytes(sbuf *b, const unsigned char *bytes, size_t n) {
    if (!n) return;
    if (g4_tok_utf8_check((const char *)bytes, n) == n) sb_put(b, bytes, n);
    else
        for (size_t i = 0; i < n; i++) sb_put(b, FFFD, 3);
}

g4_status g4_tokenizer_decode(const g4_tokenizer *t, const int *ids, int n, int skip_special, char **text,
                              size_t *len, char *err) {
    if (!t || !text || n < 0 || (!ids && n)) return g4_errf(err, G4_EINVAL, "tokenizer: decode: bad arguments");
    *text = NULL;
    if (len) *len = 0;
    sbuf b = {0};
    unsigned char *run = NULL; /* bytes of the current ByteFallback run */
    size_t nrun = 0;
    if (t->dec_byte_fallback && n && !(run = g4_malloc((size_t)n))) goto oom;
    int first = 1;
    for (int i = 0; i < n; i++) {
        int id = ids[i];
        if (!visible(t, id, skip_special)) continue;
        if (!t->has_decoder) {
            if (!first) sb_put(&b, " ", 1);
            sb_put(&b, t->pool + t->off[id], t->len[id]);
            first = 0;
            continue;
        }
        if (t->dbyte[id] >= 0) {
            run[nrun++] = (unsigned char)t->dbyte[id];
            continue;
        }
        flush_bytes(&b, run, nrun);
        nrun = 0;
        sb_put(&b, t->dpool + t->doff[id], t->dlen[id]);
    }
    flush_bytes(&b, run, nrun);
    g4_free(run);
    run = NULL;
    sb_put(&b, "", 0);
    if (b.oom) goto oom;
    size_t cut = 0; /* Strip */
    for (int k = 0; k < t->strip_start && b.n - cut >= (size_t)t->strip_ch_len &&
                    memcmp(b.p + cut, t->strip_ch, (size_t)t->strip_ch_len) == 0;
         k++)
        cut += (size_t)t->strip_ch_len;
    if (!b.p && !(b.p = g4_malloc(1))) goto oom;
    memmove(b.p, b.p + cut, b.n - cut);
    b.n -= cut;
    b.p[b.n] = 0;
    *text = b.p;
    if (len) *len = b.n;
    return G4_OK;
oom:
    g4_free(run);
    g4_free(b.p);
    return g4_errf(err, G4_ENOMEM, "tokenizer: out of memory decoding %d ids", n);
}

const char *g4_tokenizer_piece(const g4_tokenizer *t, int id, size_t *len, unsigned char *byte) {
    *len = 0;
    if (!visible(t, id, 0)) return NULL;
    if (!t->has_decoder) return *len = t->len[id], t->pool + t->off[id];
    if (t->dbyte[id] >= 0) return *byte = (unsigned char)t->dbyte[id], *len = 1, (const char *)byte;
    return *len = t->dlen[id], t->dpool + t->doff[id];
}

/* ---- streaming ------------------------------------------------------------------------------ */

void g4_tok_stream_init(g4_tok_stream *s, const g4_tokenizer *t, int skip_special) {
    memset(s, 0, sizeof *s);
    s->tok = t;
    s->skip_special = skip_special;
    s->strip_left = t->strip_start;
}

size_t g4_tok_stream_bufsize(const g4_tokenizer *t) { return t->max_piece + 32; }

/* append s[0..n) to out, dropping the Strip decoder's leading characters */
static size_t emit(g4_tok_stream *s, char *out, size_t at, const char *p, size_t n) {
    const g4_tokenizer *t = s->tok;
    size_t cl = (size_t)t->strip_ch_len;
    while (s->strip_left > 0 && n > 0) {
        if (n >= cl && memcmp(p, t->strip_ch, cl) == 0) {
            p += cl;
            n -= cl;
            s->strip_left--;
        } else s->strip_left = 0;
    }
    memcpy(out + at, p, n);
    return at + n;
}

static size_t emit_fffd(g4_tok_stream *s, char *out, size_t at, int count) {
    for (int i = 0; i < count; i++) at = emit(s, out, at, FFFD, 3);
    return at;
}

/* 1: pend is one complete character, 0: a valid beginning of one, -1: cannot be one */
static int pend_state(const g4_tok_stream *s) {
    const unsigned char *p = s->pend;
    int l = g4_tok_utf8_len(p[0]);
    if (p[0] >= 0x80 && l == 1) return -1;
    for (int i = 1; i < s->n_pend; i++) {
        unsigned char lo = 0x80, hi = 0xBF;
        if (i == 1) {
            if (p[0] == 0xE0) lo = 0xA0;
            else if (p[0] == 0xED) hi = 0x9F;
            else if (p[0] == 0xF0) lo = 0x90;
            else if (p[0] == 0xF4) hi = 0x8F;
        }
        if (p[i] < lo || p[i] > hi) return -1;
    }
    return s->n_pend == l ? 1 : 0;
}

static size_t put_byte(g4_tok_stream *s, unsigned char c, char *out, size_t at) {
    s->pend[s->n_pend++] = c;
    int st = pend_state(s);
    if (st == 1) {
        at = emit(s, out, at, (const char *)s->pend, (size_t)s->n_pend);
        s->n_pend = 0;
    } else if (st < 0) {
        if (s->n_pend == 1) { /* a byte that cannot start a character */
            s->n_pend = 0;
            return emit_fffd(s, out, at, 1);
        }
        at = emit_fffd(s, out, at, s->n_pend - 1); /* the held bytes; then c on its own */
        s->n_pend = 0;
        return put_byte(s, c, out, at);
    }
    return at;
}

size_t g4_tok_stream_put(g4_tok_stream *s, int id, char *out) {
    const g4_tokenizer *t = s->tok;
    if (!visible(t, id, s->skip_special)) return 0;
    if (!t->has_decoder) {
        size_t at = 0;
        if (s->any) out[at++] = ' ';
        s->any = 1;
        memcpy(out + at, t->pool + t->off[id], t->len[id]);
        return at + t->len[id];
    }
    if (t->dbyte[id] >= 0) return put_byte(s, (unsigned char)t->dbyte[id], out, 0);
    size_t at = emit_fffd(s, out, 0, s->n_pend); /* an unfinished character before a plain token */
    s->n_pend = 0;
    return emit(s, out, at, t->dpool + t->doff[id], t->dlen[id]);
}

size_t g4_tok_stream_flush(g4_tok_stream *s, char *out) {
    size_t at = emit_fffd(s, out, 0, s->n_pend);
    s->n_pend = 0;
    return at;
}
