/* json_constrain.c -- the JSON-object prefix recogniser, its closing text and the vocabulary mask
 * (see json_constrain.h).  One byte at a time through a small pushdown automaton: the states say
 * what may come next; the stack holds the open containers.
 */
#include "json_constrain.h"

#include <math.h>
#include <string.h>

enum {
    S_START,      /* before the object: ws or '{' */
    S_OBJ_FIRST,  /* after '{': ws, '"' or '}' */
    S_OBJ_KEY,    /* after ',' in an object: ws or '"' */
    S_COLON,      /* after a key: ws or ':' */
    S_VALUE,      /* after ':' or ',' in an array: ws or a value */
    S_ARR_FIRST,  /* after '[': ws, a value or ']' */
    S_AFTER,      /* after a value: ws, ',' or the closer */
    S_STR,        /* in a string */
    S_STR_ESC,    /* after '\' */
    S_STR_U,      /* in \uXXXX (aux digits left) */
    S_NUM_MINUS,  /* '-': a digit must follow */
    S_NUM_ZERO,   /* a leading 0: '.', 'e' or the end */
    S_NUM_INT,    /* integer digits */
    S_NUM_DOT,    /* '.': a digit must follow */
    S_NUM_FRAC,   /* fraction digits */
    S_NUM_E,      /* 'e': sign or digit */
    S_NUM_ESIGN,  /* exponent sign: a digit must follow */
    S_NUM_EXP,    /* exponent digits */
    S_LIT,        /* in true/false/null (aux bytes matched) */
    S_DONE,       /* the object is closed */
};

static const char *const LIT[3] = {"true", "false", "null"};

static int push(g4_jsonc *s, char c, int next) {
    if (s->depth >= G4_JSONC_MAX_DEPTH) return 0;
    s->stack[s->depth++] = c;
    s->st = (uint8_t)next;
    return 1;
}

void g4_jsonc_init(g4_jsonc *s) { memset(s, 0, sizeof *s); }
void g4_jsonc_init_in_object(g4_jsonc *s) {
    g4_jsonc_init(s);
    push(s, '{', S_OBJ_FIRST);
}

int g4_jsonc_done(const g4_jsonc *s) { return s->st == S_DONE; }

static int is_ws(int c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
static int is_digit(int c) { return c >= '0' && c <= '9'; }
static int is_hex(int c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

static int close_container(g4_jsonc *s, char c) {
    if (!s->depth || s->stack[s->depth - 1] != c) return 0;
    s->depth--;
    s->st = s->depth ? S_AFTER : S_DONE;
    return 1;
}

static int value_start(g4_jsonc *s, int c) {
    switch (c) {
    case '"': s->st = S_STR, s->key = 0; return 1;
    case '{': return push(s, '{', S_OBJ_FIRST);
    case '[': return push(s, '[', S_ARR_FIRST);
    case '-': s->st = S_NUM_MINUS; return 1;
    case '0': s->st = S_NUM_ZERO; return 1;
    case 't': case 'f': case 'n': s->st = S_LIT, s->lit = c == 't' ? 0 : c == 'f' ? 1 : 2, s->aux = 1; return 1;
    default:
        if (c >= '1' && c <= '9') { s->st = S_NUM_INT; return 1; }
        return 0;
    }
}

/* A UTF-8 lead byte inside a string: how many continuation bytes and the first one's range. */
static int utf8_lead(g4_jsonc *s, int c) {
    s->u8lo = 0x80, s->u8hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) s->u8need = 1;
    else if (c == 0xE0) s->u8need = 2, s->u8lo = 0xA0;
    else if (c == 0xED) s->u8need = 2, s->u8hi = 0x9F;
    else if (c >= 0xE1 && c <= 0xEF) s->u8need = 2;
    else if (c == 0xF0) s->u8need = 3, s->u8lo = 0x90;
    else if (c == 0xF4) s->u8need = 3, s->u8hi = 0x8F;
    else if (c >= 0xF1 && c <= 0xF3) s->u8need = 3;
    else return 0;
    return 1;
}

static int step(g4_jsonc *s, int c) {
    const int ws = is_ws(c);
    switch (s->st) {
    case S_START: case S_OBJ_FIRST: case S_OBJ_KEY: case S_COLON: case S_VALUE: case S_ARR_FIRST: case S_AFTER:
        if (ws) return ++s->ws <= G4_JSONC_MAX_WS;
        s->ws = 0;
        switch (s->st) {
        case S_START: return c == '{' && push(s, '{', S_OBJ_FIRST);
        case S_OBJ_FIRST:
            if (c == '}') return close_container(s, '{');
            /* fall through */
        case S_OBJ_KEY:
            if (c != '"') return 0;
            s->st = S_STR, s->key = 1;
            return 1;
        case S_COLON:
            if (c != ':') return 0;
            s->st = S_VALUE;
            return 1;
        case S_ARR_FIRST:
            if (c == ']') return close_container(s, '[');
            return value_start(s, c);
        case S_VALUE: return value_start(s, c);
        default: /* S_AFTER */
            if (c == ',') {
                s->st = s->stack[s->depth - 1] == '{' ? S_OBJ_KEY : S_VALUE;
                return 1;
            }
            return close_container(s, c == '}' ? '{' : c == ']' ? '[' : 0);
        }
    case S_STR:
        if (s->u8need) {
            if (c < s->u8lo || c > s->u8hi) return 0;
            s->u8need--, s->u8lo = 0x80, s->u8hi = 0xBF;
            return 1;
        }
        if (c == '"') { s->st = s->key ? S_COLON : S_AFTER; return 1; }
        if (c == '\\') { s->st = S_STR_ESC; return 1; }
        if (c < 0x20) return 0;
        return c < 0x80 || utf8_lead(s, c);
    case S_STR_ESC:
        if (c == 'u') { s->st = S_STR_U, s->aux = 4; return 1; }
        if (!strchr("\"\\/bfnrt", c) || !c) return 0;
        s->st = S_STR;
        return 1;
    case S_STR_U:
        if (!is_hex(c)) return 0;
        if (--s->aux == 0) s->st = S_STR;
        return 1;
    case S_NUM_MINUS:
        if (!is_digit(c)) return 0;
        s->st = c == '0' ? S_NUM_ZERO : S_NUM_INT;
        return 1;
    case S_NUM_DOT: case S_NUM_ESIGN:
        if (!is_digit(c)) return 0;
        s->st = s->st == S_NUM_DOT ? S_NUM_FRAC : S_NUM_EXP;
        return 1;
    case S_NUM_E:
        if (c == '+' || c == '-') { s->st = S_NUM_ESIGN; return 1; }
        if (!is_digit(c)) return 0;
        s->st = S_NUM_EXP;
        return 1;
    case S_NUM_ZERO: case S_NUM_INT: case S_NUM_FRAC: case S_NUM_EXP:
        if (is_digit(c) && s->st != S_NUM_ZERO) return 1;
        if (c == '.' && (s->st == S_NUM_ZERO || s->st == S_NUM_INT)) { s->st = S_NUM_DOT; return 1; }
        if ((c == 'e' || c == 'E') && s->st != S_NUM_EXP) { s->st = S_NUM_E; return 1; }
        s->st = S_AFTER; /* the number ended: c belongs to what follows */
        return step(s, c);
    case S_LIT:
        if (c != LIT[s->lit][s->aux]) return 0;
        if (!LIT[s->lit][++s->aux]) s->st = S_AFTER;
        return 1;
    default: /* S_DONE: nothing more */
        return 0;
    }
}

int g4_jsonc_feed(g4_jsonc *s, const char *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!step(s, (unsigned char)p[i])) return 0;
    return 1;
}

size_t g4_jsonc_closing(const g4_jsonc *s, char *out) {
    size_t n = 0;
    int after_key = 0; /* a key string is being closed: ":0" follows */
    switch (s->st) {
    case S_DONE: return 0;
    case S_START: memcpy(out, "{}", 2); return 2;
    case S_STR_U:
        for (int i = 0; i < s->aux; i++) out[n++] = '0';
        out[n++] = '"', after_key = s->key;
        break;
    case S_STR_ESC: out[n++] = '"', out[n++] = '"', after_key = s->key; break;
    case S_STR:
        for (int i = 0; i < s->u8need; i++) out[n++] = (char)(i ? 0x80 : s->u8lo);
        out[n++] = '"', after_key = s->key;
        break;
    case S_OBJ_KEY: memcpy(out, "\"\":0", 4), n = 4; break;
    case S_COLON: after_key = 1; break;
    case S_VALUE: case S_NUM_MINUS: case S_NUM_DOT: case S_NUM_E: case S_NUM_ESIGN: out[n++] = '0'; break;
    case S_LIT:
        for (const char *l = LIT[s->lit] + s->aux; *l; l++) out[n++] = *l;
        break;
    default: break; /* S_OBJ_FIRST, S_ARR_FIRST, S_AFTER, finished numbers: just the closers */
    }
    if (after_key) out[n++] = ':', out[n++] = '0';
    for (int d = s->depth - 1; d >= 0; d--) out[n++] = s->stack[d] == '{' ? '}' : ']';
    return n;
}

/* ---- the vocabulary ---- */

g4_status g4_vocab_pieces_build(g4_vocab_pieces *vp, const g4_tokenizer *t, char *err) {
    memset(vp, 0, sizeof *vp);
    const int V = g4_tokenizer_n_vocab(t);
    size_t total = 0, len;
    unsigned char b;
    for (int v = 0; v < V; v++)
        if (!g4_tokenizer_is_special(t, v) && g4_tokenizer_piece(t, v, &len, &b)) total += len;
    vp->off = g4_malloc(sizeof(uint32_t) * (size_t)V);
    vp->len = g4_malloc(sizeof(uint32_t) * (size_t)V);
    vp->bytes = g4_malloc(total + 1);
    if (!vp->off || !vp->len || !vp->bytes || total > UINT32_MAX / 2) {
        g4_vocab_pieces_free(vp);
        return g4_errf(err, G4_ENOMEM, "out of memory for the vocabulary's pieces");
    }
    size_t at = 0;
    for (int v = 0; v < V; v++) {
        const char *p = g4_tokenizer_is_special(t, v) ? NULL : g4_tokenizer_piece(t, v, &len, &b);
        vp->off[v] = (uint32_t)at;
        vp->len[v] = p ? (uint32_t)len : UINT32_MAX;
        if (p) memcpy(vp->bytes + at, p, len), at += len;
    }
    vp->n_vocab = V;
    return G4_OK;
}

void g4_vocab_pieces_free(g4_vocab_pieces *vp) {
    g4_free(vp->off);
    g4_free(vp->len);
    g4_free(vp->bytes);
    memset(vp, 0, sizeof *vp);
}

void g4_jsonc_mask(const g4_jsonc *s, const g4_vocab_pieces *vp, const int *stop_ids, int n_stop, int budget,
                   float *logits) {
    char close[G4_JSONC_MAX_CLOSE];
    const size_t nclose = g4_jsonc_closing(s, close);
    const int closing = budget > 0 && (size_t)budget <= nclose + 1; /* only the closing text fits now */
    const int done = g4_jsonc_done(s);
    float stop_logit[16];
    n_stop = n_stop < 16 ? n_stop : 16;
    for (int i = 0; i < n_stop; i++)
        stop_logit[i] = stop_ids[i] >= 0 && stop_ids[i] < vp->n_vocab ? logits[stop_ids[i]] : 0;
    for (int v = 0; v < vp->n_vocab; v++) {
        if (!(logits[v] > -INFINITY)) continue;
        const uint32_t len = vp->len[v];
        const char *p = vp->bytes + vp->off[v];
        int ok;
        if (done || len == UINT32_MAX || len == 0) ok = 0;
        else if (closing) ok = len <= nclose && !memcmp(p, close, len);
        else { /* it must fit, and so must the closing text after it (plus the stop) in what is left */
            g4_jsonc t = *s;
            char c2[G4_JSONC_MAX_CLOSE];
            ok = g4_jsonc_feed(&t, p, len) && (budget <= 0 || (long)g4_jsonc_closing(&t, c2) + 1 <= budget - 1);
        }
        if (!ok) logits[v] = -INFINITY;
    }
    for (int i = 0; i < n_stop; i++) /* the stop ids: when, and only when, the object is complete */
        if (stop_ids[i] >= 0 && stop_ids[i] < vp->n_vocab)
            logits[stop_ids[i]] = !done ? -INFINITY : stop_logit[i] > -INFINITY ? stop_logit[i] : 0.0f;
}
