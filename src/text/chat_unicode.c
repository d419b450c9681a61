/* chat_unicode.c -- the string builder and the Python str semantics the chat template
 * needs: UTF-8 decoding, str.strip() (jinja's trim), str.upper()/str.lower() (jinja's
 * upper filter and dictsort's case folding) and str.isprintable() (repr()).  The
 * tables come from Python itself (chat_utab.c), so results match CPython 3.11. */
#include "chat_impl.h"

#include <string.h>

/* ---- string builder ---- */

static int sb_grow(g4_chat_sb *b, size_t extra) {
    if (b->oom) return 0;
    if (b->n + extra + 1 <= b->cap) return 1;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->n + extra + 1) {
        if (cap > SIZE_MAX / 2) { b->oom = 1; return 0; }
        cap *= 2;
    }
    char *p = g4_realloc(b->p, cap);
    if (!p) { b->oom = 1; return 0; }
    b->p = p;
    b->cap = cap;
    return 1;
}

void g4_chat_sb_putn(g4_chat_sb *b, const char *s, size_t n) {
    if (!n || !sb_grow(b, n)) return;
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}

void g4_chat_sb_puts(g4_chat_sb *b, const char *s) { g4_chat_sb_putn(b, s, strlen(s)); }
void g4_chat_sb_putc(g4_chat_sb *b, char c) { g4_chat_sb_putn(b, &c, 1); }

void g4_chat_sb_free(g4_chat_sb *b) {
    g4_free(b->p);
    memset(b, 0, sizeof *b);
}

char *g4_chat_sb_take(g4_chat_sb *b, size_t *len) {
    sb_grow(b, 0); /* an empty result is a string too */
    if (b->oom) { g4_chat_sb_free(b); return NULL; }
    char *p = b->p;
    p[b->n] = 0;
    if (len) *len = b->n;
    memset(b, 0, sizeof *b);
    return p;
}

/* ---- UTF-8 ---- */

int g4_chat_utf8_next(const char *s, size_t n, uint32_t *cp) {
    const unsigned char *u = (const unsigned char *)s;
    unsigned c = u[0];
    int len;
    uint32_t v, min;
    if (c < 0x80) { *cp = c; return 1; }
    if (c >= 0xC2 && c <= 0xDF) { len = 2; v = c & 0x1F; min = 0x80; }
    else if (c >= 0xE0 && c <= 0xEF) { len = 3; v = c & 0x0F; min = 0x800; }
    else if (c >= 0xF0 && c <= 0xF4) { len = 4; v = c & 0x07; min = 0x10000; }
    else goto bad;
    if ((size_t)len > n) goto bad;
    for (int i = 1; i < len; i++) {
        if ((u[i] & 0xC0) != 0x80) goto bad;
        v = (v << 6) | (u[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v < 0xE000)) goto bad;
    *cp = v;
    return len;
bad:
    *cp = 0xDC00 + c; /* like Python's surrogateescape: one byte, never a letter or space */
    return 1;
}

void g4_chat_sb_put_cp(g4_chat_sb *b, uint32_t cp) {
    char o[4];
    int n;
    if (cp < 0x80) { o[0] = (char)cp; n = 1; }
    else if (cp < 0x800) { o[0] = (char)(0xC0 | (cp >> 6)); o[1] = (char)(0x80 | (cp & 0x3F)); n = 2; }
    else if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12)); o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F)); n = 3;
    } else {
        o[0] = (char)(0xF0 | (cp >> 18)); o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        o[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); o[3] = (char)(0x80 | (cp & 0x3F)); n = 4;
    }
    g4_chat_sb_putn(b, o, (size_t)n);
}

/* ---- character classes ---- */

int g4_chat_uni_isspace(uint32_t c) {
    if (c < 0x80) return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20);
    return c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 ||
           c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

int g4_chat_uni_isprintable(uint32_t c) {
    int lo = 0, hi = g4_chat_utab_n_nonprint - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (c < g4_chat_utab_nonprint[mid][0]) hi = mid - 1;
        else if (c > g4_chat_utab_nonprint[mid][1]) lo = mid + 1;
        else return 0;
    }
    return 1;
}

void g4_chat_uni_strip(const char *s, size_t n, size_t *a, size_t *b) {
    size_t i = 0, end = 0;
    int seen = 0;
    *a = n;
    while (i < n) {
        uint32_t cp;
        int k = g4_chat_utf8_next(s + i, n - i, &cp);
        if (!g4_chat_uni_isspace(cp)) {
            if (!seen) { *a = i; seen = 1; }
            end = i + (size_t)k;
        }
        i += (size_t)k;
    }
    *b = seen ? end : n;
}

/* ---- case mapping ---- */

static int map_cp(uint32_t cp, const g4_chat_utab_run *runs, int nruns, const g4_chat_utab_multi *multi,
                  int nmulti, uint32_t out[3]) {
    int lo = 0, hi = nmulti - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (cp < multi[mid].cp) hi = mid - 1;
        else if (cp > multi[mid].cp) lo = mid + 1;
        else {
            int k = 0;
            while (k < 3 && multi[mid].to[k]) { out[k] = multi[mid].to[k]; k++; }
            return k;
        }
    }
    lo = 0, hi = nruns - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (cp < runs[mid].first) hi = mid - 1;
        else if (cp > runs[mid].last) lo = mid + 1;
        else {
            if ((cp - runs[mid].first) % runs[mid].step == 0) {
                out[0] = (uint32_t)((int32_t)cp + runs[mid].delta);
                return 1;
            }
            break;
        }
    }
    out[0] = cp;
    return 1;
}

static void put_mapped(g4_chat_sb *b, const char *s, size_t n, int upper) {
    size_t i = 0;
    while (i < n) {
        uint32_t cp, to[3];
        int k = g4_chat_utf8_next(s + i, n - i, &cp);
        if (cp >= 0xDC80 && cp <= 0xDCFF && k == 1 && (unsigned char)s[i] >= 0x80) {
            g4_chat_sb_putn(b, s + i, 1); /* an invalid byte stays as it was */
        } else if (cp < 0x80) {
            char c = (char)cp;
            if (upper && c >= 'a' && c <= 'z') c = (char)(c - 32);
            if (!upper && c >= 'A' && c <= 'Z') c = (char)(c + 32);
            g4_chat_sb_putc(b, c);
        } else {
            int m = upper ? map_cp(cp, g4_chat_utab_upper, g4_chat_utab_n_upper, g4_chat_utab_upper_multi,
                                   g4_chat_utab_n_upper_multi, to)
                          : map_cp(cp, g4_chat_utab_lower, g4_chat_utab_n_lower, g4_chat_utab_lower_multi,
                                   g4_chat_utab_n_lower_multi, to);
            for (int j = 0; j < m; j++) g4_chat_sb_put_cp(b, to[j]);
        }
        i += (size_t)k;
    }
}

void g4_chat_sb_put_upper(g4_chat_sb *b, const char *s, size_t n) { put_mapped(b, s, n, 1); }
void g4_chat_sb_put_lower(g4_chat_sb *b, const char *s, size_t n) { put_mapped(b, s, n, 0); }
