/* chat.c -- the conversation model: building a g4_chat from C or from an OpenAI-style
 * request body, and freeing it.  Rendering is in chat_render.c, reading the model's
 * reply in chat_output.c, JSON helpers in chat_json.c.
 *
 * The request parser accepts what transformers can render and refuses the rest with
 * a message naming the field: messages[i] objects with a known role; content a
 * string, null or a list of parts {"type": text|image|audio|video, ...} (OpenAI's
 * image_url/input_image, input_audio/audio_url and video_url count as image, audio and
 * video); reasoning_content / reasoning / thinking strings; tool_calls
 * [{id?, function:{name, arguments: object|string}}]; Gemma-native tool_responses
 * [{name?, response}]; role tool with name / tool_call_id and a string, list-of-text,
 * null, number, boolean or object content; tools [{"type":"function","function":{..}}].
 */
#include "chat_impl.h"

#include <string.h>

/* ---- freeing ---- */

static void msg_free(g4_chat_msg *m) {
    g4_free(m->text);
    for (int i = 0; i < m->n_parts; i++) {
        g4_free(m->parts[i].text);
        cJSON_Delete(m->parts[i].json);
    }
    g4_free(m->parts);
    cJSON_Delete(m->value);
    g4_free(m->reasoning);
    for (int i = 0; i < m->n_tool_calls; i++) {
        g4_free(m->tool_calls[i].id);
        g4_free(m->tool_calls[i].name);
        cJSON_Delete(m->tool_calls[i].arguments);
    }
    g4_free(m->tool_calls);
    for (int i = 0; i < m->n_tool_responses; i++) {
        g4_free(m->tool_responses[i].name);
        cJSON_Delete(m->tool_responses[i].response);
    }
    g4_free(m->tool_responses);
    g4_free(m->name);
    g4_free(m->tool_call_id);
    memset(m, 0, sizeof *m);
}

void g4_chat_free(g4_chat *c) {
    if (!c) return;
    for (int i = 0; i < c->n_msgs; i++) msg_free(&c->msgs[i]);
    g4_free(c->msgs);
    cJSON_Delete(c->tools);
    g4_free(c);
}

g4_status g4_chat_new(g4_chat **out, char *err) {
    *out = g4_calloc(1, sizeof **out);
    if (!*out) return g4_errf(err, G4_ENOMEM, "chat: out of memory");
    return G4_OK;
}

/* ---- validation helpers ---- */

static int utf8_valid(const char *s) {
    size_t n = strlen(s), i = 0;
    while (i < n) {
        uint32_t cp;
        int k = g4_chat_utf8_next(s + i, n - i, &cp);
        if (k == 1 && (unsigned char)s[i] >= 0x80) return 0;
        i += (size_t)k;
    }
    return 1;
}

/* every string and key in a tree is valid UTF-8 (a tree from C may not be) */
static int json_utf8_valid(const cJSON *v) {
    for (; v; v = v->next) {
        if (v->string && !utf8_valid(v->string)) return 0;
        if (cJSON_IsString(v) && v->valuestring && !utf8_valid(v->valuestring)) return 0;
        if (cJSON_IsRaw(v)) return 0;
        if (v->child && !json_utf8_valid(v->child)) return 0;
    }
    return 1;
}

static g4_status dup_str(char **dst, const char *s, const char *where, char *err) {
    if (!utf8_valid(s)) return g4_errf(err, G4_EINVAL, "%s: invalid UTF-8", where);
    *dst = g4_strdup(s);
    if (!*dst) return g4_errf(err, G4_ENOMEM, "%s: out of memory", where);
    return G4_OK;
}

static g4_status dup_json(cJSON **dst, const cJSON *v, const char *where, char *err) {
    *dst = NULL;
    if (!v) return G4_OK;
    if (!json_utf8_valid(v)) return g4_errf(err, G4_EINVAL, "%s: invalid UTF-8 (or a raw node) in the value", where);
    *dst = g4_chat_json_dup(v);
    if (!*dst) return g4_errf(err, G4_ENOMEM, "%s: out of memory", where);
    return G4_OK;
}

static const char *json_kind(const cJSON *v) {
    if (!v) return "nothing";
    if (cJSON_IsString(v)) return "a string";
    if (cJSON_IsNumber(v)) return "a number";
    if (cJSON_IsBool(v)) return "a boolean";
    if (cJSON_IsNull(v)) return "null";
    if (cJSON_IsArray(v)) return "a list";
    if (cJSON_IsObject(v)) return "an object";
    return "a raw value";
}

static g4_chat_msg *last_msg(g4_chat *c) { return c->n_msgs ? &c->msgs[c->n_msgs - 1] : NULL; }

/* ---- C builders ---- */

g4_status g4_chat_add(g4_chat *c, g4_chat_role role, const char *text, char *err) {
    if ((unsigned)role > G4_CHAT_TOOL) return g4_errf(err, G4_EINVAL, "chat: unknown role %d", (int)role);
    if (c->n_msgs == c->cap_msgs) {
        int cap = c->cap_msgs ? c->cap_msgs * 2 : 8;
        g4_chat_msg *m = g4_realloc(c->msgs, (size_t)cap * sizeof *m);
        if (!m) return g4_errf(err, G4_ENOMEM, "chat: out of memory");
        c->msgs = m;
        c->cap_msgs = cap;
    }
    g4_chat_msg *m = &c->msgs[c->n_msgs];
    memset(m, 0, sizeof *m);
    m->role = role;
    if (text) {
        g4_status st = dup_str(&m->text, text, "chat: content", err);
        if (st != G4_OK) return st;
        m->content_kind = G4_CHAT_CONTENT_TEXT;
    }
    c->n_msgs++;
    return G4_OK;
}

/* a part whose json is {"type": ..., "text": ...} (text parts) or {"type": ...} */
static g4_status part_push(g4_chat_msg *m, g4_chat_part_type type, const char *text, cJSON *json, char *err) {
    g4_chat_part *p = g4_realloc(m->parts, (size_t)(m->n_parts + 1) * sizeof *p);
    if (!p) {
        cJSON_Delete(json);
        return g4_errf(err, G4_ENOMEM, "chat: out of memory");
    }
    m->parts = p;
    p = &m->parts[m->n_parts];
    memset(p, 0, sizeof *p);
    p->type = type;
    p->json = json;
    if (text) {
        p->text = g4_strdup(text);
        if (!p->text) {
            cJSON_Delete(json);
            p->json = NULL;
            return g4_errf(err, G4_ENOMEM, "chat: out of memory");
        }
    }
    m->n_parts++;
    m->content_kind = G4_CHAT_CONTENT_PARTS;
    return G4_OK;
}

static cJSON *part_json(g4_chat_part_type type, const char *text) {
    static const char *names[] = {"text", "image", "audio", "video"};
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    if (!cJSON_AddStringToObject(o, "type", names[type]) || (text && !cJSON_AddStringToObject(o, "text", text))) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

g4_status g4_chat_add_part(g4_chat *c, g4_chat_part_type type, const char *text, char *err) {
    g4_chat_msg *m = last_msg(c);
    if (!m) return g4_errf(err, G4_EINVAL, "chat: add_part needs a message first");
    if ((unsigned)type > G4_CHAT_PART_VIDEO) return g4_errf(err, G4_EINVAL, "chat: unknown part type %d", (int)type);
    if (type == G4_CHAT_PART_TEXT && !text) return g4_errf(err, G4_EINVAL, "chat: a text part needs text");
    if (type != G4_CHAT_PART_TEXT) text = NULL;
    if (text && !utf8_valid(text)) return g4_errf(err, G4_EINVAL, "chat: part text: invalid UTF-8");
    if (m->content_kind == G4_CHAT_CONTENT_VALUE)
        return g4_errf(err, G4_EINVAL, "chat: the last message holds a tool result value, not parts");
    if (m->content_kind == G4_CHAT_CONTENT_TEXT) { /* string content becomes the first part */
        cJSON *j = part_json(G4_CHAT_PART_TEXT, m->text);
        if (!j) return g4_errf(err, G4_ENOMEM, "chat: out of memory");
        g4_status st = part_push(m, G4_CHAT_PART_TEXT, m->text, j, err);
        if (st != G4_OK) return st;
        g4_free(m->text);
        m->text = NULL;
    }
    cJSON *j = part_json(type, text);
    if (!j) return g4_errf(err, G4_ENOMEM, "chat: out of memory");
    return part_push(m, type, text, j, err);
}

g4_status g4_chat_set_reasoning(g4_chat *c, const char *reasoning, char *err) {
    g4_chat_msg *m = last_msg(c);
    if (!m) return g4_errf(err, G4_EINVAL, "chat: set_reasoning needs a message first");
    char *r = NULL;
    if (reasoning) {
        g4_status st = dup_str(&r, reasoning, "chat: reasoning", err);
        if (st != G4_OK) return st;
    }
    g4_free(m->reasoning);
    m->reasoning = r;
    return G4_OK;
}

g4_status g4_chat_add_tool_call(g4_chat *c, const char *id, const char *name, const cJSON *arguments, char *err) {
    g4_chat_msg *m = last_msg(c);
    if (!m) return g4_errf(err, G4_EINVAL, "chat: add_tool_call needs a message first");
    if (!name) return g4_errf(err, G4_EINVAL, "chat: tool call without a name");
    if (arguments && !cJSON_IsObject(arguments) && !cJSON_IsString(arguments))
        return g4_errf(err, G4_EINVAL, "chat: tool call '%s': arguments must be an object or a string (got %s)",
                       name, json_kind(arguments));
    g4_chat_tool_call *t = g4_realloc(m->tool_calls, (size_t)(m->n_tool_calls + 1) * sizeof *t);
    if (!t) return g4_errf(err, G4_ENOMEM, "chat: out of memory");
    m->tool_calls = t;
    t = &m->tool_calls[m->n_tool_calls];
    memset(t, 0, sizeof *t);
    g4_status st = dup_str(&t->name, name, "chat: tool call name", err);
    if (st == G4_OK && id) st = dup_str(&t->id, id, "chat: tool call id", err);
    if (st == G4_OK) st = dup_json(&t->arguments, arguments, "chat: tool call arguments", err);
    if (st != G4_OK) {
        g4_free(t->name);
        g4_free(t->id);
        cJSON_Delete(t->arguments);
        return st;
    }
    m->n_tool_calls++;
    return G4_OK;
}

static g4_status set_tool_content(g4_chat_msg *m, const cJSON *v, const char *where, char *err) {
    if (!v) return G4_OK;
    if (cJSON_IsNull(v)) {
        m->content_kind = G4_CHAT_CONTENT_NULL;
        return G4_OK;
    }
    if (cJSON_IsString(v)) {
        g4_status st = dup_str(&m->text, v->valuestring, where, err);
        if (st == G4_OK) m->content_kind = G4_CHAT_CONTENT_TEXT;
        return st;
    }
    if (cJSON_IsNumber(v) || cJSON_IsBool(v) || cJSON_IsObject(v)) {
        g4_status st = dup_json(&m->value, v, where, err);
        if (st == G4_OK) m->content_kind = G4_CHAT_CONTENT_VALUE;
        return st;
    }
    return g4_errf(err, G4_EINVAL, "%s: a tool result must be a string, null, number, boolean or object (got %s)",
                   where, json_kind(v));
}

g4_status g4_chat_add_tool_result(g4_chat *c, const char *name, const char *tool_call_id, const cJSON *result,
                                  char *err) {
    g4_status st = g4_chat_add(c, G4_CHAT_TOOL, NULL, err);
    if (st != G4_OK) return st;
    g4_chat_msg *m = last_msg(c);
    if (name) st = dup_str(&m->name, name, "chat: tool result name", err);
    if (st == G4_OK && tool_call_id) st = dup_str(&m->tool_call_id, tool_call_id, "chat: tool_call_id", err);
    if (st == G4_OK) st = set_tool_content(m, result, "chat: tool result", err);
    if (st != G4_OK) {
        msg_free(m);
        c->n_msgs--;
    }
    return st;
}

g4_status g4_chat_add_tool_response(g4_chat *c, const char *name, const cJSON *response, char *err) {
    g4_chat_msg *m = last_msg(c);
    if (!m) return g4_errf(err, G4_EINVAL, "chat: add_tool_response needs a message first");
    g4_chat_tool_response *t = g4_realloc(m->tool_responses, (size_t)(m->n_tool_responses + 1) * sizeof *t);
    if (!t) return g4_errf(err, G4_ENOMEM, "chat: out of memory");
    m->tool_responses = t;
    t = &m->tool_responses[m->n_tool_responses];
    memset(t, 0, sizeof *t);
    g4_status st = name ? dup_str(&t->name, name, "chat: tool response name", err) : G4_OK;
    if (st == G4_OK) st = dup_json(&t->response, response, "chat: tool response", err);
    if (st != G4_OK) {
        g4_free(t->name);
        return st;
    }
    m->n_tool_responses++;
    return G4_OK;
}

static g4_status add_tool(g4_chat *c, const cJSON *tool, const char *where, char *err) {
    const cJSON *fn = g4_chat_json_get(tool, "function");
    if (!tool || !cJSON_IsObject(tool))
        return g4_errf(err, G4_EINVAL, "%s: a tool must be an object (got %s)", where, json_kind(tool));
    if (!fn || !cJSON_IsObject(fn))
        return g4_errf(err, G4_EINVAL, "%s.function: must be an object (got %s; want {\"type\":\"function\","
                                       "\"function\":{\"name\":...}})", where, json_kind(fn));
    const cJSON *name = g4_chat_json_get(fn, "name");
    if (!name || !cJSON_IsString(name))
        return g4_errf(err, G4_EINVAL, "%s.function.name: must be a string (got %s)", where, json_kind(name));
    const cJSON *type = g4_chat_json_get(tool, "type");
    if (type && !(cJSON_IsString(type) && !strcmp(type->valuestring, "function")))
        return g4_errf(err, G4_EUNSUPPORTED, "%s.type: only \"function\" tools are supported", where);
    if (!c->tools) {
        c->tools = cJSON_CreateArray();
        if (!c->tools) return g4_errf(err, G4_ENOMEM, "%s: out of memory", where);
    }
    cJSON *d;
    g4_status st = dup_json(&d, tool, where, err);
    if (st != G4_OK) return st;
    if (!cJSON_AddItemToArray(c->tools, d)) {
        cJSON_Delete(d);
        return g4_errf(err, G4_ENOMEM, "%s: out of memory", where);
    }
    return G4_OK;
}

g4_status g4_chat_add_tool(g4_chat *c, const cJSON *tool, char *err) { return add_tool(c, tool, "tool", err); }

/* ---- the request body ---- */

static g4_status parse_role(const cJSON *v, g4_chat_role *role, const char *where, char *err) {
    static const struct {
        const char *name;
        g4_chat_role role;
    } roles[] = {{"system", G4_CHAT_SYSTEM}, {"developer", G4_CHAT_DEVELOPER}, {"user", G4_CHAT_USER},
                 {"assistant", G4_CHAT_ASSISTANT}, {"model", G4_CHAT_MODEL}, {"tool", G4_CHAT_TOOL}};
    if (!v || !cJSON_IsString(v))
        return g4_errf(err, G4_EINVAL, "%s.role: must be a string (got %s)", where, json_kind(v));
    for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++)
        if (!strcmp(v->valuestring, roles[i].name)) {
            *role = roles[i].role;
            return G4_OK;
        }
    return g4_errf(err, G4_EINVAL, "%s.role: unknown role '%.64s' (want system, developer, user, assistant, model "
                                   "or tool)", where, v->valuestring);
}

static int part_type_of(const char *t, g4_chat_part_type *type) {
    static const struct {
        const char *name;
        g4_chat_part_type type;
    } types[] = {{"text", G4_CHAT_PART_TEXT},        {"image", G4_CHAT_PART_IMAGE},
                 {"image_url", G4_CHAT_PART_IMAGE},  {"input_image", G4_CHAT_PART_IMAGE},
                 {"audio", G4_CHAT_PART_AUDIO},      {"input_audio", G4_CHAT_PART_AUDIO},
                 {"audio_url", G4_CHAT_PART_AUDIO},  {"video", G4_CHAT_PART_VIDEO},
                 {"video_url", G4_CHAT_PART_VIDEO}};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (!strcmp(t, types[i].name)) {
            *type = types[i].type;
            return 1;
        }
    return 0;
}

static g4_status parse_parts(g4_chat_msg *m, const cJSON *list, const char *where, char *err) {
    char w[96];
    int i = 0;
    m->content_kind = G4_CHAT_CONTENT_PARTS;
    for (const cJSON *p = list->child; p; p = p->next, i++) {
        snprintf(w, sizeof w, "%s.content[%d]", where, i);
        if (!cJSON_IsObject(p)) return g4_errf(err, G4_EINVAL, "%s: a content part must be an object (got %s)", w,
                                               json_kind(p));
        const cJSON *t = g4_chat_json_get(p, "type");
        if (!t || !cJSON_IsString(t))
            return g4_errf(err, G4_EINVAL, "%s.type: must be a string (got %s)", w, json_kind(t));
        g4_chat_part_type type;
        if (!part_type_of(t->valuestring, &type))
            return g4_errf(err, G4_EUNSUPPORTED, "%s.type: '%.64s' is not supported (want text, image, audio or video)",
                           w, t->valuestring);
        const cJSON *text = g4_chat_json_get(p, "text");
        if (type == G4_CHAT_PART_TEXT && (!text || !cJSON_IsString(text)))
            return g4_errf(err, G4_EINVAL, "%s.text: must be a string (got %s)", w, json_kind(text));
        if (m->role == G4_CHAT_TOOL && type != G4_CHAT_PART_TEXT)
            return g4_errf(err, G4_EUNSUPPORTED, "%s: '%s' parts in a tool result are not supported (the template "
                                                 "keeps only text)", w, t->valuestring);
        cJSON *j;
        g4_status st = dup_json(&j, p, w, err);
        if (st != G4_OK) return st;
        st = part_push(m, type, type == G4_CHAT_PART_TEXT ? text->valuestring : NULL, j, err);
        if (st != G4_OK) return st;
    }
    return G4_OK;
}

static g4_status opt_string(const cJSON *msg, const char *key, const cJSON **out, const char *where, char *err) {
    *out = g4_chat_json_get(msg, key);
    if (*out && cJSON_IsNull(*out)) *out = NULL;
    if (*out && !cJSON_IsString(*out))
        return g4_errf(err, G4_EINVAL, "%s.%s: must be a string or null (got %s)", where, key, json_kind(*out));
    return G4_OK;
}

static g4_status parse_tool_calls(g4_chat *c, const cJSON *list, const char *where, char *err) {
    char w[96];
    int i = 0;
    for (const cJSON *tc = list->child; tc; tc = tc->next, i++) {
        snprintf(w, sizeof w, "%s.tool_calls[%d]", where, i);
        if (!cJSON_IsObject(tc)) return g4_errf(err, G4_EINVAL, "%s: must be an object (got %s)", w, json_kind(tc));
        const cJSON *fn = g4_chat_json_get(tc, "function");
        if (!fn || !cJSON_IsObject(fn))
            return g4_errf(err, G4_EINVAL, "%s.function: must be an object (got %s)", w, json_kind(fn));
        const cJSON *name = g4_chat_json_get(fn, "name");
        if (!name || !cJSON_IsString(name))
            return g4_errf(err, G4_EINVAL, "%s.function.name: must be a string (got %s)", w, json_kind(name));
        const cJSON *id;
        g4_status st = opt_string(tc, "id", &id, w, err);
        if (st != G4_OK) return st;
        const cJSON *args = g4_chat_json_get(fn, "arguments");
        if (args && cJSON_IsNull(args)) args = NULL;
        if (args && !cJSON_IsObject(args) && !cJSON_IsString(args))
            return g4_errf(err, G4_EINVAL, "%s.function.arguments: must be an object or a string (got %s)", w,
                           json_kind(args));
        st = g4_chat_add_tool_call(c, id ? id->valuestring : NULL, name->valuestring, args, err);
        if (st != G4_OK) return st;
    }
    return G4_OK;
}

static g4_status parse_tool_responses(g4_chat *c, const cJSON *list, const char *where, char *err) {
    char w[96];
    int i = 0;
    for (const cJSON *tr = list->child; tr; tr = tr->next, i++) {
        snprintf(w, sizeof w, "%s.tool_responses[%d]", where, i);
        if (!cJSON_IsObject(tr)) return g4_errf(err, G4_EINVAL, "%s: must be an object (got %s)", w, json_kind(tr));
        const cJSON *name = g4_chat_json_get(tr, "name");
        if (name && !cJSON_IsString(name))
            return g4_errf(err, G4_EINVAL, "%s.name: must be a string (got %s)", w, json_kind(name));
        g4_status st = g4_chat_add_tool_response(c, name ? name->valuestring : NULL, g4_chat_json_get(tr, "response"), err);
        if (st != G4_OK) return st;
    }
    return G4_OK;
}

static g4_status parse_message(g4_chat *c, const cJSON *msg, int idx, char *err) {
    char where[32];
    snprintf(where, sizeof where, "messages[%d]", idx);
    if (!cJSON_IsObject(msg)) return g4_errf(err, G4_EINVAL, "%s: must be an object (got %s)", where, json_kind(msg));
    g4_chat_role role = G4_CHAT_USER;
    g4_status st = parse_role(g4_chat_json_get(msg, "role"), &role, where, err);
    if (st != G4_OK) return st;
    st = g4_chat_add(c, role, NULL, err);
    if (st != G4_OK) return st;
    g4_chat_msg *m = last_msg(c);

    char w[48];
    snprintf(w, sizeof w, "%s.content", where);
    const cJSON *content = g4_chat_json_get(msg, "content");
    if (content && cJSON_IsArray(content)) {
        st = parse_parts(m, content, where, err);
    } else if (role == G4_CHAT_TOOL) {
        st = set_tool_content(m, content, w, err);
    } else if (content && cJSON_IsString(content)) {
        st = dup_str(&m->text, content->valuestring, w, err);
        if (st == G4_OK) m->content_kind = G4_CHAT_CONTENT_TEXT;
    } else if (content && cJSON_IsNull(content)) {
        m->content_kind = G4_CHAT_CONTENT_NULL;
    } else if (content) {
        st = g4_errf(err, G4_EINVAL, "%s: must be a string, a list of parts or null (got %s)", w, json_kind(content));
    }
    if (st != G4_OK) return st;

    /* transformers: reasoning_content = the first non-null of reasoning_content, thinking,
     * reasoning; the template then prefers a non-empty `reasoning` */
    const cJSON *rc, *th, *rs;
    if ((st = opt_string(msg, "reasoning_content", &rc, where, err)) != G4_OK) return st;
    if ((st = opt_string(msg, "thinking", &th, where, err)) != G4_OK) return st;
    if ((st = opt_string(msg, "reasoning", &rs, where, err)) != G4_OK) return st;
    const cJSON *think = rs && rs->valuestring[0] ? rs : rc ? rc : th ? th : rs;
    if (think && (st = g4_chat_set_reasoning(c, think->valuestring, err)) != G4_OK) return st;

    const cJSON *tcs = g4_chat_json_get(msg, "tool_calls");
    if (tcs && !cJSON_IsNull(tcs)) {
        if (!cJSON_IsArray(tcs))
            return g4_errf(err, G4_EINVAL, "%s.tool_calls: must be a list or null (got %s)", where, json_kind(tcs));
        if ((st = parse_tool_calls(c, tcs, where, err)) != G4_OK) return st;
    }
    const cJSON *trs = g4_chat_json_get(msg, "tool_responses");
    if (trs && !cJSON_IsNull(trs)) {
        if (!cJSON_IsArray(trs))
            return g4_errf(err, G4_EINVAL, "%s.tool_responses: must be a list or null (got %s)", where,
                           json_kind(trs));
        if ((st = parse_tool_responses(c, trs, where, err)) != G4_OK) return st;
    }
    if (role == G4_CHAT_TOOL) {
        const cJSON *name, *id;
        if ((st = opt_string(msg, "name", &name, where, err)) != G4_OK) return st;
        if ((st = opt_string(msg, "tool_call_id", &id, where, err)) != G4_OK) return st;
        if (name && (st = dup_str(&m->name, name->valuestring, where, err)) != G4_OK) return st;
        if (id && (st = dup_str(&m->tool_call_id, id->valuestring, where, err)) != G4_OK) return st;
    }
    return G4_OK;
}

static g4_status opt_bool(const cJSON *obj, const char *key, int *out, const char *where, char *err) {
    const cJSON *v = g4_chat_json_get(obj, key);
    if (!v || cJSON_IsNull(v)) return G4_OK;
    if (!cJSON_IsBool(v)) return g4_errf(err, G4_EINVAL, "%s%s: must be true or false (got %s)", where, key, json_kind(v));
    *out = cJSON_IsTrue(v);
    return G4_OK;
}

g4_status g4_chat_from_cjson(g4_chat **out, const cJSON *req, char *err) {
    *out = NULL;
    if (!req || !cJSON_IsObject(req))
        return g4_errf(err, G4_EINVAL, "request: must be a JSON object (got %s)", json_kind(req));
    const cJSON *msgs = g4_chat_json_get(req, "messages");
    if (!msgs || !cJSON_IsArray(msgs))
        return g4_errf(err, G4_EINVAL, "request.messages: must be a list (got %s)", json_kind(msgs));
    if (!msgs->child) return g4_errf(err, G4_EINVAL, "request.messages: empty (want at least one message)");
    const cJSON *tools = g4_chat_json_get(req, "tools");
    if (tools && !cJSON_IsNull(tools) && !cJSON_IsArray(tools))
        return g4_errf(err, G4_EINVAL, "request.tools: must be a list or null (got %s)", json_kind(tools));

    g4_chat *c;
    g4_status st = g4_chat_new(&c, err);
    if (st != G4_OK) return st;
    c->add_generation_prompt = 1;
    st = opt_bool(req, "add_generation_prompt", &c->add_generation_prompt, "request.", err);
    if (st == G4_OK) st = opt_bool(req, "enable_thinking", &c->enable_thinking, "request.", err);
    const cJSON *kw = g4_chat_json_get(req, "chat_template_kwargs");
    if (st == G4_OK && kw && !cJSON_IsNull(kw)) {
        if (!cJSON_IsObject(kw))
            st = g4_errf(err, G4_EINVAL, "request.chat_template_kwargs: must be an object (got %s)", json_kind(kw));
        else
            st = opt_bool(kw, "enable_thinking", &c->enable_thinking, "request.chat_template_kwargs.", err);
    }
    int i = 0;
    for (const cJSON *m = msgs->child; m && st == G4_OK; m = m->next, i++) st = parse_message(c, m, i, err);
    i = 0;
    for (const cJSON *t = tools && cJSON_IsArray(tools) ? tools->child : NULL; t && st == G4_OK; t = t->next, i++) {
        char where[32];
        snprintf(where, sizeof where, "request.tools[%d]", i);
        st = add_tool(c, t, where, err);
    }
    if (st != G4_OK) {
        g4_chat_free(c);
        return st;
    }
    *out = c;
    return G4_OK;
}

g4_status g4_chat_decode_json_arguments(g4_chat *c, char *err) {
    for (int i = 0; i < c->n_msgs; i++) {
        g4_chat_msg *m = &c->msgs[i];
        for (int t = 0; t < m->n_tool_calls; t++) {
            cJSON *a = m->tool_calls[t].arguments;
            if (!a || !cJSON_IsString(a)) continue;
            cJSON *obj;
            char what[64];
            snprintf(what, sizeof what, "messages[%d].tool_calls[%d].function.arguments", i, t);
            g4_status st = g4_chat_json_parse(&obj, a->valuestring, strlen(a->valuestring), what, err);
            if (st == G4_ENOMEM) return st;
            if (st != G4_OK) continue; /* not JSON: stays verbatim */
            if (!cJSON_IsObject(obj)) {
                cJSON_Delete(obj);
                continue;
            }
            cJSON_Delete(a);
            m->tool_calls[t].arguments = obj;
        }
    }
    return G4_OK;
}

g4_status g4_chat_from_json(g4_chat **out, const char *json, size_t len, char *err) {
    *out = NULL;
    cJSON *req;
    g4_status st = g4_chat_json_parse(&req, json, len, "request", err);
    if (st != G4_OK) return st;
    st = g4_chat_from_cjson(out, req, err);
    cJSON_Delete(req);
    return st;
}
