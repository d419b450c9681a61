/* chat_render.c -- g4_chat_render: the prompt text of google-gemma-4-31B-it.jinja.
 *
 * A hand translation of the template, macro by macro, so the output is byte-identical
 * to transformers' rendering (tests/test_chat.c checks it against jinja2 renderings).
 * The template is evaluated by jinja2 over Python values; the JSON parts (tool
 * declarations, call arguments, results) are cJSON trees here, and the helpers below
 * give them jinja's meaning: a missing key is Undefined (NULL: falsy, prints ""),
 * truthiness is Python's, `| dictsort` orders keys by str.lower() (stable), `| upper`
 * is str.upper(), `{{ x }}` is str(x), iterating a string yields its characters and a
 * dict its keys.  Where jinja2 would raise (concatenating None, iterating a number),
 * rendering fails with G4_EINVAL naming the message or tool.
 */
#include "chat_impl.h"

#include <string.h>

#define Q "<|\"|>" /* the template's string delimiter token */

typedef enum { PT_NONE, PT_THINK, PT_TOOL, PT_TOOL_CALL, PT_TOOL_RESPONSE, PT_MEDIA } prev_type;

typedef struct {
    g4_chat_sb *b;
    char *err;
    g4_status st; /* first failure; once set, output is abandoned */
    const char *where;
} rctx;

static int ok(rctx *r) { return r->st == G4_OK && !r->b->oom; }

static void put(rctx *r, const char *s) { g4_chat_sb_puts(r->b, s); }

static void fail_type(rctx *r, const char *what, const cJSON *v) {
    if (r->st != G4_OK) return;
    const char *t = cJSON_IsNumber(v) ? "a number" : cJSON_IsBool(v) ? "a boolean" : cJSON_IsNull(v) ? "null"
                                                                                                       : "that value";
    r->st = g4_errf(r->err, G4_EINVAL, "%s: %s is not iterable (got %s, want a list)", r->where, what, t);
}

/* ---- jinja value semantics over cJSON (NULL = Undefined) ---- */

static int truthy(const cJSON *v) {
    if (!v) return 0;
    if (cJSON_IsBool(v)) return cJSON_IsTrue(v);
    if (cJSON_IsNull(v)) return 0;
    if (cJSON_IsNumber(v)) return v->valuedouble != 0;
    if (cJSON_IsString(v)) return v->valuestring && v->valuestring[0];
    if (cJSON_IsArray(v) || cJSON_IsObject(v)) return v->child != NULL;
    return 1;
}

/* str(v).upper() into out (out->p is "" when empty) */
static void upper_str(rctx *r, const cJSON *v, g4_chat_sb *out) {
    g4_chat_sb t = {0};
    g4_chat_py_str(&t, v);
    g4_chat_sb_put_upper(out, t.p ? t.p : "", t.n);
    g4_chat_sb_putn(out, "", 0);
    if (t.oom) out->oom = 1;
    g4_chat_sb_free(&t);
    if (out->oom) r->b->oom = 1;
}

static int upper_is(rctx *r, const cJSON *v, const char *want) {
    g4_chat_sb t = {0};
    upper_str(r, v, &t);
    int eq = t.n == strlen(want) && (!t.n || !memcmp(t.p, want, t.n));
    g4_chat_sb_free(&t);
    return eq;
}

/* `for x in v`, each x passed to emit as str(x); 0 if jinja would raise */
typedef void (*emit_fn)(rctx *r, const char *s, size_t n, int first);

static int iterate(rctx *r, const cJSON *v, emit_fn emit) {
    if (!v) return 1;
    int first = 1;
    if (cJSON_IsArray(v)) {
        for (const cJSON *c = v->child; c; c = c->next, first = 0) {
            g4_chat_sb t = {0};
            g4_chat_py_str(&t, c);
            if (t.oom) r->b->oom = 1;
            emit(r, t.p ? t.p : "", t.n, first);
            g4_chat_sb_free(&t);
        }
        return 1;
    }
    if (cJSON_IsObject(v)) {
        for (const cJSON *c = v->child; c; c = c->next, first = 0) emit(r, c->string, strlen(c->string), first);
        return 1;
    }
    if (cJSON_IsString(v)) {
        const char *s = v->valuestring;
        size_t n = strlen(s), i = 0;
        while (i < n) {
            uint32_t cp;
            int k = g4_chat_utf8_next(s + i, n - i, &cp);
            emit(r, s + i, (size_t)k, first);
            first = 0;
            i += (size_t)k;
        }
        return 1;
    }
    return 0;
}

static void emit_quoted(rctx *r, const char *s, size_t n, int first) { /* <|"|>x<|"|>, comma-separated */
    if (!first) put(r, ",");
    put(r, Q);
    g4_chat_sb_putn(r->b, s, n);
    put(r, Q);
}

static void emit_upper_quoted(rctx *r, const char *s, size_t n, int first) {
    if (!first) put(r, ",");
    put(r, Q);
    g4_chat_sb_put_upper(r->b, s, n);
    put(r, Q);
}

/* `| dictsort`: members ordered by key.lower(), ties in insertion order */
typedef struct {
    const cJSON *node;
    char *lkey;
    size_t pos;
} ditem;

static int ditem_cmp(const void *a, const void *b) {
    const ditem *x = a, *y = b;
    int c = strcmp(x->lkey, y->lkey);
    if (c) return c;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static void ditems_free(ditem *d, size_t n) {
    for (size_t i = 0; i < n; i++) g4_free(d[i].lkey);
    g4_free(d);
}

/* NULL with *n = 0 when empty or on failure (r->b->oom set) */
static ditem *dictsort(rctx *r, const cJSON *obj, size_t *n) {
    *n = 0;
    size_t k = 0;
    for (const cJSON *c = obj->child; c; c = c->next) k++;
    if (!k) return NULL;
    ditem *d = g4_calloc(k, sizeof *d);
    if (!d) { r->b->oom = 1; return NULL; }
    size_t i = 0;
    for (const cJSON *c = obj->child; c; c = c->next, i++) {
        g4_chat_sb t = {0};
        g4_chat_sb_put_lower(&t, c->string, strlen(c->string));
        d[i].lkey = g4_chat_sb_take(&t, NULL);
        d[i].node = c;
        d[i].pos = i;
        if (!d[i].lkey) { ditems_free(d, i); r->b->oom = 1; return NULL; }
    }
    qsort(d, k, sizeof *d, ditem_cmp);
    *n = k;
    return d;
}

/* ---- macros ---- */

/* format_argument(argument, escape_keys) */
static void format_argument(rctx *r, const cJSON *v, int escape_keys) {
    if (!ok(r)) return;
    if (v && cJSON_IsString(v)) {
        put(r, Q);
        put(r, v->valuestring);
        put(r, Q);
    } else if (v && cJSON_IsBool(v)) {
        put(r, cJSON_IsTrue(v) ? "true" : "false");
    } else if (v && cJSON_IsObject(v)) {
        size_t n;
        ditem *d = dictsort(r, v, &n);
        put(r, "{");
        for (size_t i = 0; i < n; i++) {
            if (i) put(r, ",");
            if (escape_keys) put(r, Q);
            put(r, d[i].node->string);
            if (escape_keys) put(r, Q);
            put(r, ":");
            format_argument(r, d[i].node, escape_keys);
        }
        put(r, "}");
        ditems_free(d, n);
    } else if (!v || cJSON_IsArray(v)) { /* jinja's Undefined passes `is sequence` too */
        put(r, "[");
        for (const cJSON *c = v ? v->child : NULL; c; c = c->next) {
            format_argument(r, c, escape_keys);
            if (c->next) put(r, ",");
        }
        put(r, "]");
    } else {
        g4_chat_py_str(r->b, v);
    }
}

static int is_standard_key(const char *k) {
    return !strcmp(k, "description") || !strcmp(k, "type") || !strcmp(k, "properties") ||
           !strcmp(k, "required") || !strcmp(k, "nullable");
}

static void comma(rctx *r, int *add_comma) {
    if (*add_comma) put(r, ",");
    else *add_comma = 1;
}

static void format_parameters(rctx *r, const cJSON *props);

/* the `items:{...}` of an ARRAY parameter */
static void format_items(rctx *r, const cJSON *items) {
    size_t n;
    ditem *d = dictsort(r, items, &n);
    int found_first = 0;
    put(r, "items:{");
    for (size_t i = 0; i < n && ok(r); i++) {
        const char *k = d[i].node->string;
        const cJSON *v = d[i].node;
        if (cJSON_IsNull(v)) continue;
        if (found_first) put(r, ",");
        found_first = 1;
        if (!strcmp(k, "properties")) {
            put(r, "properties:{");
            if (cJSON_IsObject(v)) format_parameters(r, v);
            put(r, "}");
        } else if (!strcmp(k, "required")) {
            put(r, "required:[");
            if (!iterate(r, v, emit_quoted)) fail_type(r, "items.required", v);
            put(r, "]");
        } else if (!strcmp(k, "type")) {
            put(r, "type:");
            if (cJSON_IsString(v)) {
                put(r, Q);
                g4_chat_sb_put_upper(r->b, v->valuestring, strlen(v->valuestring));
                put(r, Q);
            } else {
                put(r, "[");
                if (!iterate(r, v, emit_upper_quoted)) fail_type(r, "items.type", v);
                put(r, "]");
            }
        } else {
            put(r, k);
            put(r, ":");
            format_argument(r, v, 1);
        }
    }
    put(r, "}");
    ditems_free(d, n);
}

/* format_parameters(properties, required): one `name:{...}` per property */
static void format_parameters(rctx *r, const cJSON *props) {
    if (!ok(r)) return;
    if (!cJSON_IsObject(props)) {
        r->st = g4_errf(r->err, G4_EINVAL, "%s: properties must be an object (got %s)", r->where,
                        cJSON_IsArray(props) ? "a list" : "a scalar");
        return;
    }
    size_t n;
    ditem *d = dictsort(r, props, &n);
    int found_first = 0;
    for (size_t i = 0; i < n && ok(r); i++) {
        const char *key = d[i].node->string;
        const cJSON *value = d[i].node;
        int add_comma = 0;
        if (is_standard_key(key)) continue;
        if (found_first) put(r, ",");
        found_first = 1;
        put(r, key);
        put(r, ":{");
        const cJSON *desc = g4_chat_json_get(value, "description");
        if (truthy(desc)) {
            put(r, "description:" Q);
            g4_chat_py_str(r->b, desc);
            put(r, Q);
            add_comma = 1;
        }
        const cJSON *type = g4_chat_json_get(value, "type");
        int is_object = upper_is(r, type, "OBJECT");
        if (upper_is(r, type, "STRING")) {
            const cJSON *en = g4_chat_json_get(value, "enum");
            if (truthy(en)) {
                comma(r, &add_comma);
                put(r, "enum:");
                format_argument(r, en, 1);
            }
        } else if (upper_is(r, type, "ARRAY")) {
            const cJSON *items = g4_chat_json_get(value, "items");
            if (items && cJSON_IsObject(items) && items->child) {
                comma(r, &add_comma);
                format_items(r, items);
            }
        }
        if (truthy(g4_chat_json_get(value, "nullable"))) {
            comma(r, &add_comma);
            put(r, "nullable:true");
        }
        if (is_object) {
            const cJSON *p = g4_chat_json_get(value, "properties");
            if (p && cJSON_IsObject(p)) {
                comma(r, &add_comma);
                put(r, "properties:{");
                format_parameters(r, p);
                put(r, "}");
            } else if (cJSON_IsObject(value)) { /* the property's own keys, schema keywords skipped */
                comma(r, &add_comma);
                put(r, "properties:{");
                format_parameters(r, value);
                put(r, "}");
            }
            const cJSON *req = g4_chat_json_get(value, "required");
            if (truthy(req)) {
                comma(r, &add_comma);
                put(r, "required:[");
                if (!iterate(r, req, emit_quoted)) fail_type(r, "required", req);
                put(r, "]");
            }
        }
        comma(r, &add_comma);
        put(r, "type:" Q);
        g4_chat_sb t = {0};
        upper_str(r, type, &t);
        g4_chat_sb_putn(r->b, t.p ? t.p : "", t.n);
        g4_chat_sb_free(&t);
        put(r, Q "}");
    }
    ditems_free(d, n);
}

/* format_function_declaration(tool_data) */
static void format_function_declaration(rctx *r, const cJSON *tool) {
    const cJSON *fn = g4_chat_json_get(tool, "function");
    put(r, "declaration:");
    g4_chat_py_str(r->b, g4_chat_json_get(fn, "name"));
    put(r, "{description:" Q);
    g4_chat_py_str(r->b, g4_chat_json_get(fn, "description"));
    put(r, Q);
    const cJSON *params = g4_chat_json_get(fn, "parameters");
    if (truthy(params)) {
        put(r, ",parameters:{");
        const cJSON *props = g4_chat_json_get(params, "properties");
        if (truthy(props)) {
            put(r, "properties:{");
            format_parameters(r, props);
            put(r, "},");
        }
        const cJSON *req = g4_chat_json_get(params, "required");
        if (truthy(req)) {
            put(r, "required:[");
            if (!iterate(r, req, emit_quoted)) fail_type(r, "parameters.required", req);
            put(r, "],");
        }
        const cJSON *type = g4_chat_json_get(params, "type");
        if (truthy(type)) {
            put(r, "type:" Q);
            g4_chat_sb t = {0};
            upper_str(r, type, &t);
            g4_chat_sb_putn(r->b, t.p ? t.p : "", t.n);
            g4_chat_sb_free(&t);
            put(r, Q "}");
        }
    }
    const cJSON *resp = g4_chat_json_get(fn, "response");
    if (resp) {
        put(r, ",response:{");
        const cJSON *desc = g4_chat_json_get(resp, "description");
        if (truthy(desc)) {
            put(r, "description:" Q);
            g4_chat_py_str(r->b, desc);
            put(r, Q ",");
        }
        if (upper_is(r, g4_chat_json_get(resp, "type"), "OBJECT")) put(r, "type:" Q "OBJECT" Q "}");
    }
    put(r, "}");
}

/* strip_thinking(text): drop every <|channel>...<channel|> span, then strip */
static void strip_thinking(rctx *r, const char *s) {
    g4_chat_sb t = {0};
    const char *end = s + strlen(s);
    while (s <= end) {
        const char *close = strstr(s, "<channel|>");
        const char *part_end = close ? close : end;
        const char *open = NULL;
        for (const char *p = s; p + 10 <= part_end; p++)
            if (!memcmp(p, "<|channel>", 10)) { open = p; break; }
        g4_chat_sb_putn(&t, s, (size_t)((open ? open : part_end) - s));
        if (!close) break;
        s = close + 10;
    }
    size_t a, b;
    g4_chat_uni_strip(t.p ? t.p : "", t.n, &a, &b);
    g4_chat_sb_putn(r->b, t.p ? t.p + a : "", b - a);
    if (t.oom) r->b->oom = 1;
    g4_chat_sb_free(&t);
}

static void put_trimmed(rctx *r, const char *s, size_t n) {
    size_t a, b;
    g4_chat_uni_strip(s, n, &a, &b);
    g4_chat_sb_putn(r->b, s + a, b - a);
}

/* format_tool_response_block(tool_name, response) */
static void tool_response_block(rctx *r, const char *name, const cJSON *resp) {
    put(r, "<|tool_response>response:");
    put(r, name);
    if (resp && cJSON_IsObject(resp)) {
        size_t n;
        ditem *d = dictsort(r, resp, &n);
        put(r, "{");
        for (size_t i = 0; i < n; i++) {
            put(r, d[i].node->string);
            put(r, ":");
            format_argument(r, d[i].node, 0);
            if (i + 1 < n) put(r, ",");
        }
        put(r, "}");
        ditems_free(d, n);
    } else {
        put(r, "{value:");
        format_argument(r, resp, 0);
        put(r, "}");
    }
    put(r, "<tool_response|>");
}

static const char *role_name(g4_chat_role role) {
    switch (role) {
    case G4_CHAT_SYSTEM: return "system";
    case G4_CHAT_DEVELOPER: return "developer";
    case G4_CHAT_USER: return "user";
    case G4_CHAT_ASSISTANT: return "model";
    case G4_CHAT_MODEL: return "model";
    case G4_CHAT_TOOL: return "tool";
    }
    return "?";
}

static int content_truthy(const g4_chat_msg *m) {
    if (m->content_kind == G4_CHAT_CONTENT_TEXT) return m->text && m->text[0];
    if (m->content_kind == G4_CHAT_CONTENT_PARTS) return m->n_parts > 0;
    if (m->content_kind == G4_CHAT_CONTENT_VALUE) return truthy(m->value);
    return 0;
}

static int same_id(const char *a, const char *b) { return (!a && !b) || (a && b && !strcmp(a, b)); }

/* the results of consecutive role:tool messages after message i, inline */
static int render_tool_messages(rctx *r, const g4_chat *c, int i, char *where, size_t where_len) {
    const g4_chat_msg *m = &c->msgs[i];
    int any = 0;
    for (int k = i + 1; k < c->n_msgs && c->msgs[k].role == G4_CHAT_TOOL && ok(r); k++) {
        const g4_chat_msg *f = &c->msgs[k];
        snprintf(where, where_len, "messages[%d]", k);
        const char *name = f->name;
        for (int t = 0; t < m->n_tool_calls; t++)
            if (same_id(m->tool_calls[t].id, f->tool_call_id)) name = m->tool_calls[t].name;
        if (!name) {
            r->st = g4_errf(r->err, G4_EINVAL,
                            "%s: tool result has no name and its tool_call_id matches no call of messages[%d]",
                            where, i);
            return any;
        }
        if (f->content_kind == G4_CHAT_CONTENT_TEXT) {
            cJSON s = {0};
            s.type = cJSON_String;
            s.valuestring = f->text;
            tool_response_block(r, name, &s);
        } else if (f->content_kind == G4_CHAT_CONTENT_PARTS) {
            g4_chat_sb t = {0};
            for (int p = 0; p < f->n_parts; p++)
                if (f->parts[p].type == G4_CHAT_PART_TEXT && f->parts[p].text) g4_chat_sb_puts(&t, f->parts[p].text);
            g4_chat_sb_putn(&t, "", 0);
            if (t.oom) r->b->oom = 1;
            cJSON s = {0};
            s.type = cJSON_String;
            s.valuestring = t.p ? t.p : (char *)"";
            tool_response_block(r, name, &s);
            g4_chat_sb_free(&t);
        } else if (f->content_kind == G4_CHAT_CONTENT_VALUE) {
            tool_response_block(r, name, f->value);
        } else {
            cJSON nul = {0};
            nul.type = cJSON_NULL;
            tool_response_block(r, name, &nul);
        }
        any = 1;
    }
    return any;
}

g4_status g4_chat_render(const g4_chat *c, char **out, size_t *len, char *err) {
    *out = NULL;
    if (len) *len = 0;
    if (!c || c->n_msgs < 1) return g4_errf(err, G4_EINVAL, "chat: no messages (want at least one)");
    g4_chat_sb b = {0};
    char where[64] = "chat";
    rctx r = {&b, err, G4_OK, where};
    prev_type prev = PT_NONE;
    const g4_chat_msg *first = &c->msgs[0];
    int first_sys = first->role == G4_CHAT_SYSTEM || first->role == G4_CHAT_DEVELOPER;
    int have_tools = truthy(c->tools);

    put(&r, "<bos>");
    if (c->enable_thinking || have_tools || first_sys) {
        put(&r, "<|turn>system\n");
        if (c->enable_thinking) {
            put(&r, "<|think|>\n");
            prev = PT_THINK;
        }
        if (first_sys) { /* messages[0]['content'] | trim */
            g4_chat_sb t = {0};
            if (first->content_kind == G4_CHAT_CONTENT_TEXT) g4_chat_sb_puts(&t, first->text);
            else if (first->content_kind == G4_CHAT_CONTENT_NULL) g4_chat_sb_puts(&t, "None");
            else if (first->content_kind == G4_CHAT_CONTENT_VALUE) g4_chat_py_str(&t, first->value);
            else if (first->content_kind == G4_CHAT_CONTENT_PARTS) { /* str(list) */
                g4_chat_sb_putc(&t, '[');
                for (int p = 0; p < first->n_parts; p++) {
                    g4_chat_py_repr(&t, first->parts[p].json);
                    if (p + 1 < first->n_parts) g4_chat_sb_puts(&t, ", ");
                }
                g4_chat_sb_putc(&t, ']');
            }
            if (t.oom) b.oom = 1;
            put_trimmed(&r, t.p ? t.p : "", t.n);
            g4_chat_sb_free(&t);
        }
        if (have_tools) {
            int ti = 0;
            for (const cJSON *tool = c->tools->child; tool && ok(&r); tool = tool->next, ti++) {
                snprintf(where, sizeof where, "tools[%d]", ti);
                g4_chat_sb t = {0};
                r.b = &t;
                format_function_declaration(&r, tool);
                r.b = &b;
                if (t.oom) b.oom = 1;
                put(&r, "<|tool>");
                put_trimmed(&r, t.p ? t.p : "", t.n);
                put(&r, "<tool|>");
                g4_chat_sb_free(&t);
            }
            prev = PT_TOOL;
        }
        put(&r, "<turn|>\n");
    }

    int start = first_sys ? 1 : 0;
    int last_user = -1;
    for (int i = start; i < c->n_msgs; i++)
        if (c->msgs[i].role == G4_CHAT_USER) last_user = i;

    for (int i = start; i < c->n_msgs && ok(&r); i++) {
        const g4_chat_msg *m = &c->msgs[i];
        if (m->role == G4_CHAT_TOOL) continue;
        snprintf(where, sizeof where, "messages[%d]", i);
        prev = PT_NONE;
        int model = m->role == G4_CHAT_ASSISTANT || m->role == G4_CHAT_MODEL;
        int prev_assistant = 0;
        for (int j = i - 1; j >= start; j--)
            if (c->msgs[j].role != G4_CHAT_TOOL) {
                prev_assistant = c->msgs[j].role == G4_CHAT_ASSISTANT;
                break;
            }
        if (!(model && prev_assistant)) {
            put(&r, "<|turn>");
            put(&r, role_name(m->role));
            put(&r, "\n");
        }
        if (m->reasoning && m->reasoning[0] && i > last_user && m->n_tool_calls > 0) {
            put(&r, "<|channel>thought\n");
            put(&r, m->reasoning);
            put(&r, "\n<channel|>");
        }
        if (m->n_tool_calls > 0) {
            for (int t = 0; t < m->n_tool_calls && ok(&r); t++) {
                const g4_chat_tool_call *tc = &m->tool_calls[t];
                if (!tc->name) {
                    r.st = g4_errf(err, G4_EINVAL, "%s.tool_calls[%d]: no function name", where, t);
                    break;
                }
                put(&r, "<|tool_call>call:");
                put(&r, tc->name);
                put(&r, "{");
                if (tc->arguments && cJSON_IsObject(tc->arguments)) {
                    size_t n;
                    ditem *d = dictsort(&r, tc->arguments, &n);
                    for (size_t k = 0; k < n; k++) {
                        if (k) put(&r, ",");
                        put(&r, d[k].node->string);
                        put(&r, ":");
                        format_argument(&r, d[k].node, 0);
                    }
                    ditems_free(d, n);
                } else if (tc->arguments && cJSON_IsString(tc->arguments)) {
                    put(&r, tc->arguments->valuestring);
                }
                put(&r, "}<tool_call|>");
            }
            prev = PT_TOOL_CALL;
        }
        int tr_out = 0;
        if (m->n_tool_responses > 0) {
            for (int t = 0; t < m->n_tool_responses; t++) {
                const g4_chat_tool_response *tr = &m->tool_responses[t];
                tool_response_block(&r, tr->name ? tr->name : "unknown", tr->response);
            }
            tr_out = 1;
            prev = PT_TOOL_RESPONSE;
        } else if (m->n_tool_calls > 0) {
            if (render_tool_messages(&r, c, i, where, sizeof where)) {
                tr_out = 1;
                prev = PT_TOOL_RESPONSE;
            }
            snprintf(where, sizeof where, "messages[%d]", i);
        }
        if (m->content_kind == G4_CHAT_CONTENT_TEXT) {
            if (model) strip_thinking(&r, m->text);
            else put_trimmed(&r, m->text, strlen(m->text));
        } else if (m->content_kind == G4_CHAT_CONTENT_PARTS) {
            for (int p = 0; p < m->n_parts; p++) {
                const g4_chat_part *part = &m->parts[p];
                if (part->type == G4_CHAT_PART_TEXT) {
                    const char *t = part->text ? part->text : "";
                    if (model) strip_thinking(&r, t);
                    else put_trimmed(&r, t, strlen(t));
                } else {
                    put(&r, part->type == G4_CHAT_PART_IMAGE   ? "<|image|>"
                            : part->type == G4_CHAT_PART_AUDIO ? "<|audio|>"
                                                               : "<|video|>");
                    prev = PT_MEDIA;
                }
            }
        }
        if (prev == PT_TOOL_CALL && !tr_out) put(&r, "<|tool_response>");
        else if (!(tr_out && !content_truthy(m))) put(&r, "<turn|>\n");
    }

    if (ok(&r) && c->add_generation_prompt && prev != PT_TOOL_RESPONSE && prev != PT_TOOL_CALL) {
        put(&r, "<|turn>model\n");
        if (!c->enable_thinking) put(&r, "<|channel>thought\n<channel|>");
    }
    if (r.st != G4_OK) {
        g4_chat_sb_free(&b);
        return r.st;
    }
    *out = g4_chat_sb_take(&b, len);
    if (!*out) return g4_errf(err, G4_ENOMEM, "chat: out of memory while rendering");
    return G4_OK;
}
