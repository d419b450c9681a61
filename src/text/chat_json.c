/* chat_json.c -- JSON the way Python sees it, for the chat template.
 *
 * The template prints values with Python's str(): a number prints as the int or float
 * json.loads made of its literal (1 vs 1.0 vs 1e+20, 12345678901234567890 exactly),
 * null as None, a list or dict nested where the template expects a string as its
 * repr().  cJSON keeps only a double, so g4_chat_json_parse first scans the text
 * strictly (the grammar json.loads accepts, valid UTF-8), lets cJSON build the tree and
 * then stores every number's literal in its node's valuestring (cJSON_Delete frees it;
 * cJSON_Duplicate copies it).  Duplicate keys are folded like a Python dict does.
 */
#include "chat_impl.h"

#include <math.h>
#include <string.h>

/* ---- strict scan: validate, collect number literals in document order ---- */

typedef struct {
    size_t *off, *len;
    size_t n, cap;
} numlits;

static int numlits_push(numlits *nl, size_t off, size_t len) {
    if (nl->n == nl->cap) {
        size_t cap = nl->cap ? nl->cap * 2 : 16;
        size_t *o = g4_realloc(nl->off, cap * sizeof *o);
        if (!o) return 0;
        nl->off = o;
        size_t *l = g4_realloc(nl->len, cap * sizeof *l);
        if (!l) return 0;
        nl->len = l;
        nl->cap = cap;
    }
    nl->off[nl->n] = off;
    nl->len[nl->n] = len;
    nl->n++;
    return 1;
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
int g4_chat_json_number_ok(const char *s, size_t n) {
    size_t i = 0;
    if (i < n && s[i] == '-') i++;
    if (i >= n || !is_digit(s[i])) return 0;
    if (s[i] == '0') i++;
    else while (i < n && is_digit(s[i])) i++;
    if (i < n && s[i] == '.') {
        i++;
        if (i >= n || !is_digit(s[i])) return 0;
        while (i < n && is_digit(s[i])) i++;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) i++;
        if (i >= n || !is_digit(s[i])) return 0;
        while (i < n && is_digit(s[i])) i++;
    }
    return i == n;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static g4_status scan(const char *s, size_t n, size_t start, const char *what, numlits *nl, char *err) {
    size_t i = start;
    while (i < n) {
        char c = s[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '{' || c == '}' || c == '[' ||
            c == ']' || c == ',' || c == ':') {
            i++;
        } else if (c == '"') {
            size_t at = i++;
            for (;;) {
                if (i >= n) return g4_errf(err, G4_EINVAL, "%s: unterminated string at byte %zu", what, at);
                unsigned char u = (unsigned char)s[i];
                if (u == '"') { i++; break; }
                if (u < 0x20)
                    return g4_errf(err, G4_EINVAL, "%s: control character 0x%02x in a string at byte %zu",
                                   what, u, i);
                if (u == '\\') {
                    if (i + 1 >= n) return g4_errf(err, G4_EINVAL, "%s: bad escape at byte %zu", what, i);
                    char e = s[i + 1];
                    if (e == 'u') {
                        int v = 0;
                        for (int k = 0; k < 4; k++) {
                            int h = i + 2 + (size_t)k < n ? hexval(s[i + 2 + k]) : -1;
                            if (h < 0) return g4_errf(err, G4_EINVAL, "%s: bad \\u escape at byte %zu", what, i);
                            v = v * 16 + h;
                        }
                        if (v == 0)
                            return g4_errf(err, G4_EUNSUPPORTED, "%s: \\u0000 (NUL) in a string at byte %zu",
                                           what, i);
                        i += 6;
                    } else if (strchr("\"\\/bfnrt", e) && e) {
                        i += 2;
                    } else {
                        return g4_errf(err, G4_EINVAL, "%s: bad escape at byte %zu", what, i);
                    }
                } else if (u < 0x80) {
                    i++;
                } else {
                    uint32_t cp;
                    int k = g4_chat_utf8_next(s + i, n - i, &cp);
                    if (cp >= 0xDC80 && cp <= 0xDCFF && k == 1)
                        return g4_errf(err, G4_EINVAL, "%s: invalid UTF-8 at byte %zu", what, i);
                    i += (size_t)k;
                }
            }
        } else if (c == '-' || is_digit(c)) {
            size_t at = i;
            while (i < n && (is_digit(s[i]) || s[i] == '-' || s[i] == '+' || s[i] == '.' || s[i] == 'e' ||
                             s[i] == 'E'))
                i++;
            if (!g4_chat_json_number_ok(s + at, i - at))
                return g4_errf(err, G4_EINVAL, "%s: bad number '%.*s' at byte %zu", what,
                               (int)G4_MIN(i - at, 40), s + at, at);
            if (!numlits_push(nl, at, i - at)) return g4_errf(err, G4_ENOMEM, "%s: out of memory", what);
        } else if (c == 't' || c == 'f' || c == 'n') {
            const char *w = c == 't' ? "true" : c == 'f' ? "false" : "null";
            size_t wl = strlen(w);
            if (n - i < wl || memcmp(s + i, w, wl))
                return g4_errf(err, G4_EINVAL, "%s: unexpected '%c' at byte %zu", what, c, i);
            i += wl;
        } else {
            unsigned char u = (unsigned char)c;
            if (u >= 0x20 && u < 0x7f)
                return g4_errf(err, G4_EINVAL, "%s: unexpected '%c' at byte %zu (not JSON)", what, c, i);
            return g4_errf(err, G4_EINVAL, "%s: unexpected byte 0x%02x at byte %zu (not JSON)", what, u, i);
        }
    }
    return G4_OK;
}

/* number nodes in document (pre-)order get their literal */
static int attach_literals(cJSON *v, const char *s, const numlits *nl, size_t *k) {
    for (; v; v = v->next) {
        if (cJSON_IsNumber(v)) {
            if (*k >= nl->n || v->valuestring) return 0;
            v->valuestring = g4_strndup(s + nl->off[*k], nl->len[*k]);
            if (!v->valuestring) return -1;
            (*k)++;
        }
        if (v->child) {
            int r = attach_literals(v->child, s, nl, k);
            if (r != 1) return r;
        }
    }
    return 1;
}

/* ---- duplicate keys: first position, last value (a Python dict) ---- */

typedef struct {
    cJSON *node;
    size_t pos;
} keyref;

static int keyref_cmp(const void *a, const void *b) {
    const keyref *x = a, *y = b;
    int c = strcmp(x->node->string, y->node->string);
    if (c) return c;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static int dedupe(cJSON *v) {
    for (; v; v = v->next) {
        if (cJSON_IsObject(v) && v->child) {
            size_t n = 0;
            for (cJSON *c = v->child; c; c = c->next) n++;
            if (n > 1) {
                keyref *r = g4_malloc(n * sizeof *r);
                if (!r) return 0;
                size_t i = 0;
                for (cJSON *c = v->child; c; c = c->next, i++) r[i] = (keyref){c, i};
                qsort(r, n, sizeof *r, keyref_cmp);
                for (i = 0; i < n;) {
                    size_t j = i;
                    while (j + 1 < n && !strcmp(r[j + 1].node->string, r[i].node->string)) j++;
                    if (j > i) {
                        /* the last value takes the first one's place; the rest go */
                        cJSON *last = cJSON_DetachItemViaPointer(v, r[j].node);
                        for (size_t k = i + 1; k < j; k++) cJSON_Delete(cJSON_DetachItemViaPointer(v, r[k].node));
                        cJSON_ReplaceItemViaPointer(v, r[i].node, last);
                    }
                    i = j + 1;
                }
                g4_free(r);
            }
        }
        if (v->child && !dedupe(v->child)) return 0;
    }
    return 1;
}

g4_status g4_chat_json_parse(cJSON **out, const char *s, size_t n, const char *what, char *err) {
    *out = NULL;
    size_t start = 0;
    if (n >= 3 && !memcmp(s, "\xEF\xBB\xBF", 3)) start = 3; /* json.loads(bytes) accepts a BOM */
    numlits nl = {0};
    g4_status st = scan(s, n, start, what, &nl, err);
    if (st != G4_OK) goto done;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(s + start, n - start, &end, 0);
    if (!root) {
        size_t at = end && end >= s && end <= s + n ? (size_t)(end - s) : 0;
        st = g4_errf(err, G4_EINVAL, "%s: not valid JSON near byte %zu", what, at);
        goto done;
    }
    size_t at = (size_t)(end - s);
    while (at < n && (s[at] == ' ' || s[at] == '\t' || s[at] == '\n' || s[at] == '\r')) at++;
    if (at != n) {
        cJSON_Delete(root);
        st = g4_errf(err, G4_EINVAL, "%s: extra data after the JSON value at byte %zu", what, at);
        goto done;
    }
    size_t k = 0;
    int r = attach_literals(root, s, &nl, &k);
    if (r == 1 && k != nl.n) r = 0;
    if (r != 1) {
        cJSON_Delete(root);
        st = r < 0 ? g4_errf(err, G4_ENOMEM, "%s: out of memory", what)
                   : g4_errf(err, G4_EINVAL, "%s: numbers do not match the parsed tree", what);
        goto done;
    }
    if (!dedupe(root)) {
        cJSON_Delete(root);
        st = g4_errf(err, G4_ENOMEM, "%s: out of memory", what);
        goto done;
    }
    *out = root;
done:
    g4_free(nl.off);
    g4_free(nl.len);
    return st;
}

/* ---- Python printing ---- */

static int lit_is_int(const char *lit) { return !strpbrk(lit, ".eE"); }

void g4_chat_py_float(g4_chat_sb *b, double x) {
    if (isnan(x)) { g4_chat_sb_puts(b, "nan"); return; }
    if (isinf(x)) { g4_chat_sb_puts(b, x < 0 ? "-inf" : "inf"); return; }
    if (x == 0) { g4_chat_sb_puts(b, signbit(x) ? "-0.0" : "0.0"); return; }
    char buf[64], digits[32];
    int nd = 0, e10 = 0;
    for (int p = 1; p <= 17; p++) {
        snprintf(buf, sizeof buf, "%.*e", p - 1, fabs(x));
        double y = strtod(buf, NULL);
        /* digits and exponent of buf: d[.ddd]e[+-]XX */
        nd = 0;
        const char *q = buf;
        for (; *q && *q != 'e'; q++)
            if (is_digit(*q)) digits[nd++] = *q;
        e10 = atoi(q + 1);
        if (y == fabs(x)) break;
        /* the correctly rounded p digits missed; the neighbour on the other side of x may not */
        char alt[32];
        int na = nd, ea = e10;
        memcpy(alt, digits, (size_t)nd);
        int up = y < fabs(x), i = na - 1;
        if (up) {
            while (i >= 0 && alt[i] == '9') alt[i--] = '0';
            if (i < 0) { memmove(alt + 1, alt, (size_t)na - 1); alt[0] = '1'; ea++; }
            else alt[i]++;
        } else {
            while (i >= 0 && alt[i] == '0') alt[i--] = '9';
            if (i >= 0) alt[i]--;
            if (alt[0] == '0') continue; /* fewer digits: covered by a smaller p */
        }
        char tmp[64];
        snprintf(tmp, sizeof tmp, "%c.%.*se%d", alt[0], na - 1, alt + 1, ea);
        if (strtod(tmp, NULL) == fabs(x)) {
            memcpy(digits, alt, (size_t)na);
            e10 = ea;
            break;
        }
    }
    while (nd > 1 && digits[nd - 1] == '0') nd--;
    if (x < 0) g4_chat_sb_putc(b, '-');
    if (e10 < -4 || e10 >= 16) {
        g4_chat_sb_putc(b, digits[0]);
        if (nd > 1) { g4_chat_sb_putc(b, '.'); g4_chat_sb_putn(b, digits + 1, (size_t)nd - 1); }
        char ex[16];
        snprintf(ex, sizeof ex, "e%c%02d", e10 < 0 ? '-' : '+', abs(e10));
        g4_chat_sb_puts(b, ex);
    } else if (e10 >= 0) {
        if (nd <= e10 + 1) {
            g4_chat_sb_putn(b, digits, (size_t)nd);
            for (int i = nd; i < e10 + 1; i++) g4_chat_sb_putc(b, '0');
            g4_chat_sb_puts(b, ".0");
        } else {
            g4_chat_sb_putn(b, digits, (size_t)e10 + 1);
            g4_chat_sb_putc(b, '.');
            g4_chat_sb_putn(b, digits + e10 + 1, (size_t)(nd - e10 - 1));
        }
    } else {
        g4_chat_sb_puts(b, "0.");
        for (int i = 0; i < -e10 - 1; i++) g4_chat_sb_putc(b, '0');
        g4_chat_sb_putn(b, digits, (size_t)nd);
    }
}

void g4_chat_py_number(g4_chat_sb *b, const cJSON *v) {
    const char *lit = v->valuestring;
    if (lit) {
        if (lit_is_int(lit)) g4_chat_sb_puts(b, strcmp(lit, "-0") ? lit : "0");
        else g4_chat_py_float(b, strtod(lit, NULL));
        return;
    }
    double d = v->valuedouble;
    if (isfinite(d) && d == floor(d) && fabs(d) < 9.2e18) {
        char buf[32];
        snprintf(buf, sizeof buf, "%.0f", d == 0 ? 0.0 : d);
        g4_chat_sb_puts(b, buf);
    } else {
        g4_chat_py_float(b, d);
    }
}

static void py_repr_str(g4_chat_sb *b, const char *s) {
    size_t n = strlen(s);
    char q = '\'';
    if (memchr(s, '\'', n) && !memchr(s, '"', n)) q = '"';
    g4_chat_sb_putc(b, q);
    size_t i = 0;
    while (i < n) {
        uint32_t cp;
        int k = g4_chat_utf8_next(s + i, n - i, &cp);
        char esc[16];
        if (cp == (uint32_t)q || cp == '\\') { g4_chat_sb_putc(b, '\\'); g4_chat_sb_putc(b, (char)cp); }
        else if (cp == '\t') g4_chat_sb_puts(b, "\\t");
        else if (cp == '\n') g4_chat_sb_puts(b, "\\n");
        else if (cp == '\r') g4_chat_sb_puts(b, "\\r");
        else if (cp < 0x20 || cp == 0x7f) { snprintf(esc, sizeof esc, "\\x%02x", cp); g4_chat_sb_puts(b, esc); }
        else if (cp < 0x7f) g4_chat_sb_putc(b, (char)cp);
        else if (g4_chat_uni_isprintable(cp)) g4_chat_sb_putn(b, s + i, (size_t)k);
        else {
            if (cp <= 0xff) snprintf(esc, sizeof esc, "\\x%02x", cp);
            else if (cp <= 0xffff) snprintf(esc, sizeof esc, "\\u%04x", cp);
            else snprintf(esc, sizeof esc, "\\U%08x", cp);
            g4_chat_sb_puts(b, esc);
        }
        i += (size_t)k;
    }
    g4_chat_sb_putc(b, q);
}

void g4_chat_py_repr(g4_chat_sb *b, const cJSON *v) {
    if (!v) return;
    if (cJSON_IsString(v)) { py_repr_str(b, v->valuestring ? v->valuestring : ""); return; }
    if (cJSON_IsArray(v)) {
        g4_chat_sb_putc(b, '[');
        for (const cJSON *c = v->child; c; c = c->next) {
            g4_chat_py_repr(b, c);
            if (c->next) g4_chat_sb_puts(b, ", ");
        }
        g4_chat_sb_putc(b, ']');
        return;
    }
    if (cJSON_IsObject(v)) {
        g4_chat_sb_putc(b, '{');
        for (const cJSON *c = v->child; c; c = c->next) {
            py_repr_str(b, c->string ? c->string : "");
            g4_chat_sb_puts(b, ": ");
            g4_chat_py_repr(b, c);
            if (c->next) g4_chat_sb_puts(b, ", ");
        }
        g4_chat_sb_putc(b, '}');
        return;
    }
    g4_chat_py_str(b, v);
}

void g4_chat_py_str(g4_chat_sb *b, const cJSON *v) {
    if (!v) return; /* jinja's Undefined prints nothing */
    if (cJSON_IsString(v)) g4_chat_sb_puts(b, v->valuestring ? v->valuestring : "");
    else if (cJSON_IsNumber(v)) g4_chat_py_number(b, v);
    else if (cJSON_IsTrue(v)) g4_chat_sb_puts(b, "True");
    else if (cJSON_IsFalse(v)) g4_chat_sb_puts(b, "False");
    else if (cJSON_IsNull(v)) g4_chat_sb_puts(b, "None");
    else if (cJSON_IsArray(v) || cJSON_IsObject(v)) g4_chat_py_repr(b, v);
    else if (cJSON_IsRaw(v) && v->valuestring) g4_chat_sb_puts(b, v->valuestring);
}

/* ---- comparison, copies ---- */

static int same_number(const cJSON *a, const cJSON *b) {
    g4_chat_sb x = {0}, y = {0};
    g4_chat_py_number(&x, a);
    g4_chat_py_number(&y, b);
    int same = !x.oom && !y.oom && x.n == y.n && (x.n == 0 || !memcmp(x.p, y.p, x.n));
    g4_chat_sb_free(&x);
    g4_chat_sb_free(&y);
    return same;
}

int g4_chat_json_py_equal(const cJSON *a, const cJSON *b) {
    if (!a || !b) return a == b;
    if (cJSON_IsNumber(a) && cJSON_IsNumber(b)) return same_number(a, b);
    if ((a->type & 0xFF) != (b->type & 0xFF)) return 0;
    if (cJSON_IsString(a)) return !strcmp(a->valuestring ? a->valuestring : "", b->valuestring ? b->valuestring : "");
    if (cJSON_IsArray(a)) {
        const cJSON *x = a->child, *y = b->child;
        for (; x && y; x = x->next, y = y->next)
            if (!g4_chat_json_py_equal(x, y)) return 0;
        return !x && !y;
    }
    if (cJSON_IsObject(a)) {
        int na = 0, nb = 0;
        for (const cJSON *x = a->child; x; x = x->next) {
            na++;
            if (!g4_chat_json_py_equal(x, g4_chat_json_get(b, x->string))) return 0;
        }
        for (const cJSON *y = b->child; y; y = y->next) nb++;
        return na == nb;
    }
    return 1; /* true, false, null */
}

cJSON *g4_chat_json_dup(const cJSON *v) { return cJSON_Duplicate(v, 1); }

cJSON *g4_chat_json_number_lit(const char *lit, size_t n) {
    char *s = g4_strndup(lit, n);
    if (!s) return NULL;
    cJSON *v = cJSON_CreateNumber(strtod(s, NULL));
    if (!v) { g4_free(s); return NULL; }
    v->valuestring = s;
    return v;
}

const cJSON *g4_chat_json_get(const cJSON *v, const char *key) {
    if (!v || !cJSON_IsObject(v) || !key) return NULL;
    for (const cJSON *c = v->child; c; c = c->next)
        if (c->string && !strcmp(c->string, key)) return c;
    return NULL;
}

/* ---- printing JSON (json.dumps(v, ensure_ascii=False, separators=(",", ":"))) ---- */

static void json_str(g4_chat_sb *b, const char *s) {
    g4_chat_sb_putc(b, '"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[8];
        switch (c) {
        case '"': g4_chat_sb_puts(b, "\\\""); break;
        case '\\': g4_chat_sb_puts(b, "\\\\"); break;
        case '\n': g4_chat_sb_puts(b, "\\n"); break;
        case '\r': g4_chat_sb_puts(b, "\\r"); break;
        case '\t': g4_chat_sb_puts(b, "\\t"); break;
        case '\b': g4_chat_sb_puts(b, "\\b"); break;
        case '\f': g4_chat_sb_puts(b, "\\f"); break;
        default:
            if (c < 0x20) {
                snprintf(esc, sizeof esc, "\\u%04x", c);
                g4_chat_sb_puts(b, esc);
            } else {
                g4_chat_sb_putc(b, (char)c);
            }
        }
    }
    g4_chat_sb_putc(b, '"');
}

static int json_put(g4_chat_sb *b, const cJSON *v, int depth) {
    if (depth > 10000) return 0;
    if (cJSON_IsString(v)) json_str(b, v->valuestring ? v->valuestring : "");
    else if (cJSON_IsNumber(v)) {
        if (v->valuestring && !lit_is_int(v->valuestring) && isinf(strtod(v->valuestring, NULL)))
            g4_chat_sb_puts(b, v->valuestring); /* 1e400 stays a (valid) literal, not "inf" */
        else if (!v->valuestring && !isfinite(v->valuedouble))
            g4_chat_sb_puts(b, "null");
        else
            g4_chat_py_number(b, v);
    } else if (cJSON_IsTrue(v)) g4_chat_sb_puts(b, "true");
    else if (cJSON_IsFalse(v)) g4_chat_sb_puts(b, "false");
    else if (cJSON_IsNull(v)) g4_chat_sb_puts(b, "null");
    else if (cJSON_IsArray(v) || cJSON_IsObject(v)) {
        int obj = cJSON_IsObject(v);
        g4_chat_sb_putc(b, obj ? '{' : '[');
        for (const cJSON *c = v->child; c; c = c->next) {
            if (obj) {
                json_str(b, c->string ? c->string : "");
                g4_chat_sb_putc(b, ':');
            }
            if (!json_put(b, c, depth + 1)) return 0;
            if (c->next) g4_chat_sb_putc(b, ',');
        }
        g4_chat_sb_putc(b, obj ? '}' : ']');
    } else return 0; /* raw or invalid node */
    return 1;
}

g4_status g4_chat_json_print(const cJSON *v, char **out, char *err) {
    *out = NULL;
    if (!v) return g4_errf(err, G4_EINVAL, "json print: no value");
    g4_chat_sb b = {0};
    if (!json_put(&b, v, 0)) {
        g4_chat_sb_free(&b);
        return g4_errf(err, G4_EINVAL, "json print: a raw or invalid cJSON node");
    }
    *out = g4_chat_sb_take(&b, NULL);
    if (!*out) return g4_errf(err, G4_ENOMEM, "json print: out of memory");
    return G4_OK;
}
