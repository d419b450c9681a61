/* chat_output.c -- reading what the model writes: the thought channel, the answer,
 * tool calls and inline tool results, as a stream of events (g4_chat_stream) or all
 * at once (g4_chat_parse_output, which is the stream fed one chunk).
 *
 * The model's turn, as the template writes it (and the model was trained on):
 *   [<|channel>thought\n THOUGHT <channel|>] [<|tool_call>call:NAME{ARGS}<tool_call|>]...
 *   [<|tool_response>response:NAME{...}<tool_response|>]... ANSWER <turn|>
 * A bare <|tool_response> (no "response:" after it) is where the model stops to let
 * the caller run the tools.  ARGS use format_argument's syntax: bare or <|"|>-quoted
 * keys, <|"|>strings<|"|>, Python-printed numbers, true/false, None, {..} and [..].
 * Text that could still become a marker is held back until the next chunk decides.
 */
#include "chat_impl.h"

#include <string.h>

#define QT "<|\"|>"
#define QT_LEN 5
#define MAX_DEPTH 256

/* ---- the ARGS grammar ---- */

typedef struct {
    const char *s;
    size_t n, i;
    size_t base; /* stream offset of s[0], for messages */
    int depth;
    const char *what;
    char *err;
    g4_status st;
} ap;

static cJSON *ap_fail(ap *p, g4_status st, const char *msg) {
    if (p->st == G4_OK) {
        if (p->i < p->n)
            p->st = g4_errf(p->err, st, "%s: %s at byte %zu (near '%.12s')", p->what, msg, p->base + p->i,
                            p->s + p->i);
        else
            p->st = g4_errf(p->err, st, "%s: %s at byte %zu (end of the block)", p->what, msg, p->base + p->i);
    }
    return NULL;
}

static cJSON *ap_oom(ap *p) { return ap_fail(p, G4_ENOMEM, "out of memory"); }

static void ap_ws(ap *p) {
    while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\t' || p->s[p->i] == '\n' || p->s[p->i] == '\r'))
        p->i++;
}

static int ap_at(ap *p, const char *lit) {
    size_t k = strlen(lit);
    return p->n - p->i >= k && !memcmp(p->s + p->i, lit, k);
}

static int hex4(const char *s, uint32_t *v) {
    *v = 0;
    for (int k = 0; k < 4; k++) {
        char c = s[k];
        int h = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (h < 0) return 0;
        *v = *v * 16 + (uint32_t)h;
    }
    return 1;
}

/* a string as a NUL-terminated copy: <|"|>raw<|"|> or a JSON "string" */
static char *ap_string(ap *p) {
    if (ap_at(p, QT)) {
        size_t a = p->i + QT_LEN;
        const char *end = NULL;
        for (size_t k = a; k + QT_LEN <= p->n; k++)
            if (!memcmp(p->s + k, QT, QT_LEN)) { end = p->s + k; break; }
        if (!end) { ap_fail(p, G4_EFORMAT, "unterminated <|\"|> string"); return NULL; }
        char *r = g4_strndup(p->s + a, (size_t)(end - (p->s + a)));
        if (!r) { ap_oom(p); return NULL; }
        p->i = (size_t)(end - p->s) + QT_LEN;
        return r;
    }
    /* JSON string */
    g4_chat_sb b = {0};
    size_t i = p->i + 1;
    for (;;) {
        if (i >= p->n) { g4_chat_sb_free(&b); p->i = i; ap_fail(p, G4_EFORMAT, "unterminated string"); return NULL; }
        char c = p->s[i];
        if (c == '"') break;
        if (c != '\\') { g4_chat_sb_putc(&b, c); i++; continue; }
        if (i + 1 >= p->n) { g4_chat_sb_free(&b); p->i = i; ap_fail(p, G4_EFORMAT, "bad escape"); return NULL; }
        char e = p->s[i + 1];
        const char *map = "\"\"\\\\//b\bf\fn\nr\rt\t";
        const char *m = strchr(map, e);
        if (e && m && ((m - map) % 2 == 0)) { g4_chat_sb_putc(&b, m[1]); i += 2; continue; }
        uint32_t cp;
        if (e != 'u' || i + 6 > p->n || !hex4(p->s + i + 2, &cp)) {
            g4_chat_sb_free(&b); p->i = i; ap_fail(p, G4_EFORMAT, "bad escape"); return NULL;
        }
        i += 6;
        if (cp >= 0xD800 && cp < 0xDC00 && i + 6 <= p->n && p->s[i] == '\\' && p->s[i + 1] == 'u') {
            uint32_t lo;
            if (hex4(p->s + i + 2, &lo) && lo >= 0xDC00 && lo < 0xE000) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                i += 6;
            }
        }
        if (cp == 0 || (cp >= 0xD800 && cp < 0xE000)) {
            g4_chat_sb_free(&b); p->i = i; ap_fail(p, G4_EFORMAT, "unsupported \\u escape (NUL or lone surrogate)");
            return NULL;
        }
        g4_chat_sb_put_cp(&b, cp);
    }
    p->i = i + 1;
    char *r = g4_chat_sb_take(&b, NULL);
    if (!r) ap_oom(p);
    return r;
}

static cJSON *ap_value(ap *p);

static cJSON *ap_object(ap *p) {
    if (++p->depth > MAX_DEPTH) return ap_fail(p, G4_EFORMAT, "nested too deep");
    p->i++; /* { */
    cJSON *o = cJSON_CreateObject();
    if (!o) return ap_oom(p);
    ap_ws(p);
    if (p->i < p->n && p->s[p->i] == '}') { p->i++; p->depth--; return o; }
    for (;;) {
        ap_ws(p);
        char *key;
        if (ap_at(p, QT) || (p->i < p->n && p->s[p->i] == '"')) {
            key = ap_string(p);
            if (!key) goto fail;
        } else { /* a bare key runs to the ':' */
            size_t a = p->i;
            while (p->i < p->n && !strchr(":{}[],", p->s[p->i])) p->i++;
            size_t b = p->i;
            while (b > a && strchr(" \t\r\n", p->s[b - 1])) b--;
            if (b == a) { ap_fail(p, G4_EFORMAT, "expected a key"); goto fail; }
            key = g4_strndup(p->s + a, b - a);
            if (!key) { ap_oom(p); goto fail; }
        }
        ap_ws(p);
        if (p->i >= p->n || p->s[p->i] != ':') { g4_free(key); ap_fail(p, G4_EFORMAT, "expected ':' after a key"); goto fail; }
        p->i++;
        cJSON *v = ap_value(p);
        if (!v) { g4_free(key); goto fail; }
        /* a repeated key keeps its first place and its last value, like a Python dict */
        cJSON *old = NULL;
        for (cJSON *c = o->child; c; c = c->next)
            if (!strcmp(c->string, key)) { old = c; break; }
        if (old) {
            g4_free(v->string);
            v->string = key;
            cJSON_ReplaceItemViaPointer(o, old, v);
        } else {
            if (!cJSON_AddItemToObject(o, key, v)) { g4_free(key); cJSON_Delete(v); ap_oom(p); goto fail; }
            g4_free(key);
        }
        ap_ws(p);
        if (p->i < p->n && p->s[p->i] == ',') { p->i++; continue; }
        if (p->i < p->n && p->s[p->i] == '}') { p->i++; break; }
        ap_fail(p, G4_EFORMAT, "expected ',' or '}'");
        goto fail;
    }
    p->depth--;
    return o;
fail:
    cJSON_Delete(o);
    return NULL;
}

static cJSON *ap_array(ap *p) {
    if (++p->depth > MAX_DEPTH) return ap_fail(p, G4_EFORMAT, "nested too deep");
    p->i++; /* [ */
    cJSON *a = cJSON_CreateArray();
    if (!a) return ap_oom(p);
    ap_ws(p);
    if (p->i < p->n && p->s[p->i] == ']') { p->i++; p->depth--; return a; }
    for (;;) {
        cJSON *v = ap_value(p);
        if (!v) goto fail;
        if (!cJSON_AddItemToArray(a, v)) { cJSON_Delete(v); ap_oom(p); goto fail; }
        ap_ws(p);
        if (p->i < p->n && p->s[p->i] == ',') { p->i++; continue; }
        if (p->i < p->n && p->s[p->i] == ']') { p->i++; break; }
        ap_fail(p, G4_EFORMAT, "expected ',' or ']'");
        goto fail;
    }
    p->depth--;
    return a;
fail:
    cJSON_Delete(a);
    return NULL;
}

static cJSON *ap_value(ap *p) {
    ap_ws(p);
    if (p->i >= p->n) return ap_fail(p, G4_EFORMAT, "expected a value");
    char c = p->s[p->i];
    if (c == '{') return ap_object(p);
    if (c == '[') return ap_array(p);
    if (c == '"' || ap_at(p, QT)) {
        char *s = ap_string(p);
        if (!s) return NULL;
        cJSON *v = cJSON_CreateString(s);
        g4_free(s);
        return v ? v : ap_oom(p);
    }
    static const struct {
        const char *word;
        int type;
    } words[] = {{"true", cJSON_True}, {"false", cJSON_False}, {"null", cJSON_NULL}, {"None", cJSON_NULL},
                 {"True", cJSON_True}, {"False", cJSON_False}};
    for (size_t k = 0; k < sizeof words / sizeof words[0]; k++) {
        if (ap_at(p, words[k].word)) {
            p->i += strlen(words[k].word);
            cJSON *v = words[k].type == cJSON_True ? cJSON_CreateTrue()
                       : words[k].type == cJSON_False ? cJSON_CreateFalse() : cJSON_CreateNull();
            return v ? v : ap_oom(p);
        }
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
        size_t a = p->i;
        while (p->i < p->n && strchr("0123456789+-.eE", p->s[p->i]) && p->s[p->i]) p->i++;
        if (!g4_chat_json_number_ok(p->s + a, p->i - a)) { p->i = a; return ap_fail(p, G4_EFORMAT, "bad number"); }
        cJSON *v = g4_chat_json_number_lit(p->s + a, p->i - a);
        return v ? v : ap_oom(p);
    }
    return ap_fail(p, G4_EFORMAT, "expected a value");
}

/* "PREFIX:NAME{ARGS}" -> name, object, the text between the braces */
static g4_status parse_block(const char *s, size_t n, size_t base, const char *prefix, const char *what,
                             char **name, cJSON **obj, char **text, char *err) {
    *name = NULL;
    *obj = NULL;
    if (text) *text = NULL;
    size_t pl = strlen(prefix);
    if (n < pl || memcmp(s, prefix, pl))
        return g4_errf(err, G4_EFORMAT, "%s: expected '%s' at byte %zu", what, prefix, base);
    const char *brace = memchr(s + pl, '{', n - pl);
    if (!brace) return g4_errf(err, G4_EFORMAT, "%s: no '{' after the name at byte %zu", what, base);
    size_t a = pl, b = (size_t)(brace - s);
    while (a < b && strchr(" \t\r\n", s[a])) a++;
    while (b > a && strchr(" \t\r\n", s[b - 1])) b--;
    if (a == b) return g4_errf(err, G4_EFORMAT, "%s: empty name at byte %zu", what, base + pl);
    if (memchr(s + a, 0, b - a)) return g4_errf(err, G4_EFORMAT, "%s: NUL byte in the name", what);
    ap p = {s, n, (size_t)(brace - s), base, 0, what, err, G4_OK};
    cJSON *o = ap_object(&p);
    if (!o) return p.st;
    size_t close = p.i;
    ap_ws(&p);
    if (p.i != n) {
        cJSON_Delete(o);
        ap_fail(&p, G4_EFORMAT, "unexpected text after the arguments");
        return p.st;
    }
    *name = g4_strndup(s + a, b - a);
    if (text) *text = g4_strndup(brace + 1, close - 1 - (size_t)(brace + 1 - s));
    if (!*name || (text && !*text)) {
        g4_free(*name);
        if (text) g4_free(*text);
        *name = NULL;
        if (text) *text = NULL;
        cJSON_Delete(o);
        return g4_errf(err, G4_ENOMEM, "%s: out of memory", what);
    }
    *obj = o;
    return G4_OK;
}

/* ---- the stream ---- */

enum { S_START, S_TEXT, S_THOUGHT_HEAD, S_THOUGHT, S_CALL, S_RESP_HEAD, S_RESP, S_STOP };

struct g4_chat_stream {
    g4_chat_event_fn fn;
    void *user;
    int state;
    g4_chat_sb buf;      /* bytes not consumed yet */
    size_t buf_off; /* stream offset of buf.p[0] */
    size_t scanned; /* S_CALL/S_RESP: buf bytes already searched for the end marker */
    int n_calls, n_resps;
    int finishing;
    int thought_open;
    g4_chat_stop stop;
    size_t consumed;
    g4_status failed; /* sticky */
};

g4_status g4_chat_stream_new(g4_chat_stream **out, g4_chat_event_fn fn, void *user, char *err) {
    if (!fn) return g4_errf(err, G4_EINVAL, "chat stream: no event callback");
    *out = g4_calloc(1, sizeof **out);
    if (!*out) return g4_errf(err, G4_ENOMEM, "chat stream: out of memory");
    (*out)->fn = fn;
    (*out)->user = user;
    return G4_OK;
}

void g4_chat_stream_free(g4_chat_stream *s) {
    if (!s) return;
    g4_chat_sb_free(&s->buf);
    g4_free(s);
}

static void emit_text(g4_chat_stream *s, g4_chat_event_type t, const char *p, size_t n) {
    if (!n) return;
    g4_chat_event ev = {0};
    ev.type = t;
    ev.text = p;
    ev.len = n;
    s->fn(s->user, &ev);
}

static void emit_stop(g4_chat_stream *s, g4_chat_stop why, size_t consumed) {
    s->state = S_STOP;
    s->stop = why;
    s->consumed = consumed;
    g4_chat_event ev = {0};
    ev.type = G4_CHAT_EV_STOP;
    ev.stop = why;
    s->fn(s->user, &ev);
}

/* 1: p[0..n) starts with m; 0: cannot; -1: p is a proper prefix of m (undecided) */
static int match(const char *p, size_t n, const char *m) {
    size_t k = strlen(m);
    if (n >= k) return !memcmp(p, m, k);
    return !memcmp(p, m, n) ? -1 : 0;
}

typedef struct {
    const char *m;
    int what;
} marker;

enum { M_CHANNEL, M_CHANNEL_END, M_CALL, M_RESP, M_TURN_END, M_EOS };

static const marker text_markers[] = {{"<|channel>", M_CHANNEL}, {"<|tool_call>", M_CALL},
                                      {"<|tool_response>", M_RESP}, {"<turn|>", M_TURN_END}, {"<eos>", M_EOS}};
static const marker thought_markers[] = {{"<channel|>", M_CHANNEL_END}, {"<turn|>", M_TURN_END}, {"<eos>", M_EOS}};

/* Run the state machine over buf[0..n); returns the bytes consumed. */
static size_t run(g4_chat_stream *s, size_t n, char *err) {
    const char *b = s->buf.p;
    size_t i = 0;
    while (i < n && s->state != S_STOP && s->failed == G4_OK) {
        if (s->state == S_START) {
            int m = match(b + i, n - i, "<|turn>model\n");
            if (m < 0 && !s->finishing) break;
            if (m > 0) i += 13;
            s->state = S_TEXT;
        } else if (s->state == S_TEXT || s->state == S_THOUGHT) {
            int thought = s->state == S_THOUGHT;
            g4_chat_event_type et = thought ? G4_CHAT_EV_THOUGHT : G4_CHAT_EV_CONTENT;
            const char *lt = memchr(b + i, '<', n - i);
            size_t j = lt ? (size_t)(lt - b) : n;
            emit_text(s, et, b + i, j - i);
            i = j;
            if (i == n) break;
            const marker *ms = thought ? thought_markers : text_markers;
            size_t nm = thought ? sizeof thought_markers / sizeof *ms : sizeof text_markers / sizeof *ms;
            int found = -1, partial = 0;
            for (size_t k = 0; k < nm; k++) {
                int r = match(b + i, n - i, ms[k].m);
                if (r > 0) { found = (int)k; break; }
                if (r < 0) partial = 1;
            }
            if (found < 0) {
                if (partial && !s->finishing) break;
                emit_text(s, et, b + i, 1);
                i++;
                continue;
            }
            i += strlen(ms[found].m);
            switch (ms[found].what) {
            case M_CHANNEL: s->state = S_THOUGHT_HEAD; s->thought_open = 1; break;
            case M_CHANNEL_END: s->state = S_TEXT; s->thought_open = 0; break;
            case M_CALL: s->state = S_CALL; s->scanned = 0; break;
            case M_RESP: s->state = S_RESP_HEAD; break;
            case M_TURN_END: emit_stop(s, G4_CHAT_STOP_TURN, s->buf_off + i); break;
            case M_EOS: emit_stop(s, G4_CHAT_STOP_EOS, s->buf_off + i); break;
            }
        } else if (s->state == S_THOUGHT_HEAD) {
            int m = match(b + i, n - i, "thought\n");
            if (m < 0 && !s->finishing) break;
            if (m > 0) i += 8;
            s->state = S_THOUGHT;
        } else if (s->state == S_RESP_HEAD) {
            int m = match(b + i, n - i, "response:");
            if (m < 0 && !s->finishing) break;
            if (m > 0) { s->state = S_RESP; s->scanned = 0; }
            else emit_stop(s, G4_CHAT_STOP_TOOL_RESPONSE, s->buf_off + i);
        } else { /* S_CALL, S_RESP: wait for the end marker */
            int call = s->state == S_CALL;
            const char *end_m = call ? "<tool_call|>" : "<tool_response|>";
            size_t ml = strlen(end_m), from = i + s->scanned, k;
            const char *hit = NULL;
            for (k = from; k + ml <= n; k++)
                if (b[k] == '<' && !memcmp(b + k, end_m, ml)) { hit = b + k; break; }
            if (!hit) {
                s->scanned = n - i >= ml ? n - i - ml + 1 : 0;
                break;
            }
            size_t body = i, body_len = (size_t)(hit - b) - i;
            char what[80];
            snprintf(what, sizeof what, "model output: %s %d", call ? "tool call" : "tool response",
                     call ? s->n_calls : s->n_resps);
            char *name, *text;
            cJSON *obj;
            g4_status st = parse_block(b + body, body_len, s->buf_off + body, call ? "call:" : "response:", what,
                                      &name, &obj, call ? &text : NULL, err);
            if (st != G4_OK) { s->failed = st; break; }
            g4_chat_event ev = {0};
            if (call) {
                g4_chat_out_call oc = {name, obj, text};
                ev.type = G4_CHAT_EV_TOOL_CALL;
                ev.call = &oc;
                s->fn(s->user, &ev);
                g4_free(text);
                s->n_calls++;
            } else {
                g4_chat_tool_response tr = {name, obj};
                ev.type = G4_CHAT_EV_TOOL_RESPONSE;
                ev.response = &tr;
                s->fn(s->user, &ev);
                s->n_resps++;
            }
            g4_free(name);
            cJSON_Delete(obj);
            i = (size_t)(hit - b) + ml;
            s->state = S_TEXT;
        }
    }
    return i; /* after a stop the caller drops the rest */
}

static g4_status pump(g4_chat_stream *s, char *err) {
    if (!s->buf.n) return G4_OK;
    /* the results are C strings, so a NUL byte is an error -- unless a stop comes first */
    const char *nul = memchr(s->buf.p, 0, s->buf.n);
    size_t lim = nul ? (size_t)(nul - s->buf.p) : s->buf.n;
    size_t used = run(s, lim, err);
    if (s->failed != G4_OK) return s->failed;
    if (nul && s->state != S_STOP)
        return s->failed = g4_errf(err, G4_EFORMAT, "model output: NUL byte at byte %zu", s->buf_off + lim);
    if (s->state == S_STOP) used = s->buf.n;
    if (used) {
        memmove(s->buf.p, s->buf.p + used, s->buf.n - used);
        s->buf.n -= used;
        s->buf.p[s->buf.n] = 0;
        s->buf_off += used;
    }
    return G4_OK;
}

g4_status g4_chat_stream_feed(g4_chat_stream *s, const char *text, size_t len, char *err) {
    if (s->failed != G4_OK) return g4_errf(err, s->failed, "chat stream: already failed");
    if (s->state == S_STOP) return G4_OK;
    g4_chat_sb_putn(&s->buf, text, len);
    if (s->buf.oom) return s->failed = g4_errf(err, G4_ENOMEM, "chat stream: out of memory");
    return pump(s, err);
}

g4_status g4_chat_stream_finish(g4_chat_stream *s, char *err) {
    if (s->failed != G4_OK) return g4_errf(err, s->failed, "chat stream: already failed");
    s->finishing = 1;
    g4_status st = s->buf.n ? pump(s, err) : G4_OK;
    if (st != G4_OK) return st;
    if (s->state == S_CALL)
        return s->failed = g4_errf(err, G4_EFORMAT, "model output: tool call %d: no <tool_call|> before the end "
                                                    "(at byte %zu)", s->n_calls, s->buf_off + s->buf.n);
    if (s->state == S_RESP)
        return s->failed = g4_errf(err, G4_EFORMAT, "model output: tool response %d: no <tool_response|> before the "
                                                    "end (at byte %zu)", s->n_resps, s->buf_off + s->buf.n);
    if (s->state == S_RESP_HEAD) emit_stop(s, G4_CHAT_STOP_TOOL_RESPONSE, s->buf_off);
    if (s->state != S_STOP) {
        s->stop = G4_CHAT_STOP_NONE;
        s->consumed = s->buf_off + s->buf.n;
    }
    return G4_OK;
}

/* ---- all at once ---- */

typedef struct {
    g4_chat_output *o;
    g4_chat_sb thought, content;
    int oom;
} collect;

static void on_event(void *user, const g4_chat_event *ev) {
    collect *c = user;
    g4_chat_output *o = c->o;
    if (ev->type == G4_CHAT_EV_CONTENT) g4_chat_sb_putn(&c->content, ev->text, ev->len);
    else if (ev->type == G4_CHAT_EV_THOUGHT) g4_chat_sb_putn(&c->thought, ev->text, ev->len);
    else if (ev->type == G4_CHAT_EV_TOOL_CALL) {
        g4_chat_out_call *calls = g4_realloc(o->calls, (size_t)(o->n_calls + 1) * sizeof *calls);
        if (!calls) { c->oom = 1; return; }
        o->calls = calls;
        g4_chat_out_call *d = &o->calls[o->n_calls];
        d->name = g4_strdup(ev->call->name);
        d->text = g4_strdup(ev->call->text);
        d->arguments = g4_chat_json_dup(ev->call->arguments);
        o->n_calls++;
        if (!d->name || !d->text || !d->arguments) c->oom = 1;
    } else if (ev->type == G4_CHAT_EV_TOOL_RESPONSE) {
        g4_chat_tool_response *rs = g4_realloc(o->responses, (size_t)(o->n_responses + 1) * sizeof *rs);
        if (!rs) { c->oom = 1; return; }
        o->responses = rs;
        g4_chat_tool_response *d = &o->responses[o->n_responses];
        d->name = g4_strdup(ev->response->name);
        d->response = g4_chat_json_dup(ev->response->response);
        o->n_responses++;
        if (!d->name || !d->response) c->oom = 1;
    }
}

void g4_chat_output_free(g4_chat_output *o) {
    if (!o) return;
    g4_free(o->thought);
    g4_free(o->content);
    for (int i = 0; i < o->n_calls; i++) {
        g4_free(o->calls[i].name);
        g4_free(o->calls[i].text);
        cJSON_Delete(o->calls[i].arguments);
    }
    g4_free(o->calls);
    for (int i = 0; i < o->n_responses; i++) {
        g4_free(o->responses[i].name);
        cJSON_Delete(o->responses[i].response);
    }
    g4_free(o->responses);
    memset(o, 0, sizeof *o);
}

static char *take_trimmed(g4_chat_sb *b, int *oom) {
    size_t a, e;
    g4_chat_uni_strip(b->p ? b->p : "", b->n, &a, &e);
    char *r = g4_strndup(b->p ? b->p + a : "", e - a);
    if (!r || b->oom) *oom = 1;
    g4_chat_sb_free(b);
    return r;
}

g4_status g4_chat_parse_output(const char *text, size_t len, g4_chat_output *out, char *err) {
    memset(out, 0, sizeof *out);
    collect c = {out, {0}, {0}, 0};
    g4_chat_stream s = {0};
    s.fn = on_event;
    s.user = &c;
    g4_status st = g4_chat_stream_feed(&s, text, len, err);
    if (st == G4_OK) st = g4_chat_stream_finish(&s, err);
    g4_chat_sb_free(&s.buf);
    if (st == G4_OK) {
        out->content = take_trimmed(&c.content, &c.oom);
        char *t = take_trimmed(&c.thought, &c.oom);
        if (t && !t[0]) { /* an empty channel is no thought */
            g4_free(t);
            t = NULL;
        }
        out->thought = t;
        out->thought_open = s.thought_open;
        out->stop = s.stop;
        out->consumed = s.consumed;
        if (c.oom) st = g4_errf(err, G4_ENOMEM, "model output: out of memory");
    }
    g4_chat_sb_free(&c.content);
    g4_chat_sb_free(&c.thought);
    if (st != G4_OK) g4_chat_output_free(out);
    return st;
}
