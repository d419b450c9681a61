/* api_req.c -- request bodies of /v1/chat/completions and /v1/completions -> g4_api_request.
 *
 * The JSON is read the way Python's json.loads reads it (g4_chat_json_parse) and the
 * conversation by g4_chat_from_cjson.  Sampling fields follow OpenAI's names and ranges (plus
 * llama.cpp's top_k, min_p, repeat_penalty, repeat_last_n, ignore_eos); unknown fields and nulls
 * are ignored.  Media parts become byte blobs in prompt order: data: URIs (base64), raw base64
 * (input_audio.data), or files under --media-dir (no way out of it: the real path must lie inside).
 * Decoding the media is left to the caller, so this file never needs the model (fuzz_request.c).
 */
#include "api.h"

#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#define FAIL(st, field, ...) (snprintf(param, 64, "%s", field), g4_errf(err, st, __VA_ARGS__))

static const char *kind_of(const cJSON *v) {
    if (!v) return "nothing";
    if (cJSON_IsNull(v)) return "null";
    if (cJSON_IsBool(v)) return "a boolean";
    if (cJSON_IsNumber(v)) return "a number";
    if (cJSON_IsString(v)) return "a string";
    if (cJSON_IsArray(v)) return "a list";
    return "an object";
}

/* v = root[key]; NULL when absent or null */
static const cJSON *field(const cJSON *root, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
    return v && !cJSON_IsNull(v) ? v : NULL;
}

static g4_status get_num(const cJSON *root, const char *key, double lo, double hi, int integer, double *out,
                         char *param, char *err) {
    const cJSON *v = field(root, key);
    if (!v) return G4_OK;
    double x = cJSON_IsNumber(v) ? v->valuedouble : NAN;
    if (!cJSON_IsNumber(v) || !isfinite(x) || x < lo || x > hi || (integer && x != floor(x)))
        return FAIL(G4_EINVAL, key, "request.%s: must be %s in [%g, %g] (got %s)", key,
                    integer ? "an integer" : "a number", lo, hi, cJSON_IsNumber(v) ? "a number out of range" : kind_of(v));
    *out = x;
    return G4_OK;
}

static g4_status get_bool(const cJSON *root, const char *key, int *out, char *param, char *err) {
    const cJSON *v = field(root, key);
    if (!v) return G4_OK;
    if (!cJSON_IsBool(v)) return FAIL(G4_EINVAL, key, "request.%s: must be true or false (got %s)", key, kind_of(v));
    *out = cJSON_IsTrue(v);
    return G4_OK;
}

/* ---- base64 ---- */

static int b64_val(unsigned char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
}

g4_status g4_api_base64(const char *s, size_t n, unsigned char **out, size_t *len, char *err) {
    *out = NULL, *len = 0;
    unsigned char *b = g4_malloc(n / 4 * 3 + 3);
    if (!b) return g4_errf(err, G4_ENOMEM, "base64: out of memory");
    size_t o = 0, pad = 0, k = 0;
    uint32_t acc = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\n' || c == '\r' || c == ' ' || c == '\t') continue;
        if (c == '=') { pad++; continue; }
        int v = b64_val(c);
        if (v < 0 || pad) {
            g4_free(b);
            return g4_errf(err, G4_EINVAL, "base64: invalid character at byte %zu", i);
        }
        acc = acc << 6 | (uint32_t)v;
        if (++k == 4) {
            b[o++] = (unsigned char)(acc >> 16), b[o++] = (unsigned char)(acc >> 8), b[o++] = (unsigned char)acc;
            k = 0, acc = 0;
        }
    }
    if (k == 1 || pad > 2 || (pad && (k + pad) % 4)) {
        g4_free(b);
        return g4_errf(err, G4_EINVAL, "base64: bad length or padding");
    }
    if (k == 2) b[o++] = (unsigned char)(acc >> 4);
    if (k == 3) b[o++] = (unsigned char)(acc >> 10), b[o++] = (unsigned char)(acc >> 2);
    *out = b, *len = o;
    return G4_OK;
}

/* ---- media ---- */

static g4_status read_local(g4_api_media *m, const char *path, const char *media_dir, size_t max, const char *where,
                            char *param, char *err) {
    if (!media_dir)
        return FAIL(G4_EINVAL, "messages", "%s: local files are not allowed (start the server with --media-dir DIR, "
                                           "or send a data: URI)", where);
    for (const char *p = path; *p; p++) /* no ".." component at all, whatever it would resolve to */
        if (p[0] == '.' && p[1] == '.' && (p == path || p[-1] == '/') && (p[2] == '/' || !p[2]))
            return FAIL(G4_EINVAL, "messages", "%s: '..' is not allowed in a media path", where);
    char dir[PATH_MAX], full[PATH_MAX], real[PATH_MAX];
    if (!realpath(media_dir, dir)) return FAIL(G4_EIO, "messages", "%s: --media-dir cannot be resolved", where);
    if (path[0] == '/') snprintf(full, sizeof full, "%s", path);
    else if (snprintf(full, sizeof full, "%s/%s", dir, path) >= (int)sizeof full)
        return FAIL(G4_EINVAL, "messages", "%s: path too long", where);
    size_t nd = strlen(dir);
    if (!realpath(full, real) || strncmp(real, dir, nd) || (real[nd] != '/' && strcmp(dir, "/")))
        return FAIL(G4_EINVAL, "messages", "%s: no such file under --media-dir", where);
    int fd = open(real, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) || !S_ISREG(sb.st_mode) || (size_t)sb.st_size > max || sb.st_size == 0) {
        int big = fd >= 0 && S_ISREG(sb.st_mode) && (size_t)sb.st_size > max;
        if (fd >= 0) close(fd);
        return FAIL(G4_EINVAL, "messages", "%s: %s", where, big ? "file too large" : "not a readable, non-empty file");
    }
    m->data = g4_malloc((size_t)sb.st_size);
    size_t got = 0;
    while (m->data && got < (size_t)sb.st_size) {
        ssize_t k = read(fd, m->data + got, (size_t)sb.st_size - got);
        if (k <= 0) break;
        got += (size_t)k;
    }
    close(fd);
    if (!m->data) return g4_errf(err, G4_ENOMEM, "%s: out of memory", where);
    if (got != (size_t)sb.st_size) return FAIL(G4_EIO, "messages", "%s: read error", where);
    m->len = got;
    return G4_OK;
}

static g4_status resolve_url(g4_api_media *m, const char *url, int raw_b64, const g4_api_request *q,
                             const char *media_dir, size_t max, const char *where, char *param, char *err) {
    (void)q;
    g4_status st;
    if (!strncmp(url, "data:", 5)) {
        const char *comma = strchr(url, ',');
        if (!comma || !memmem(url, (size_t)(comma - url), ";base64", 7))
            return FAIL(G4_EINVAL, "messages", "%s: a data: URI must be base64 (data:<type>;base64,...)", where);
        url = comma + 1;
    } else if (!raw_b64) {
        if (!strncmp(url, "http://", 7) || !strncmp(url, "https://", 8))
            return FAIL(G4_EUNSUPPORTED, "messages", "%s: remote URLs are not fetched (send a data: URI)", where);
        return read_local(m, !strncmp(url, "file://", 7) ? url + 7 : url, media_dir, max, where, param, err);
    }
    if (strlen(url) / 4 * 3 > max + 3) return FAIL(G4_EINVAL, "messages", "%s: media too large", where);
    char e2[G4_ERR_LEN];
    st = g4_api_base64(url, strlen(url), &m->data, &m->len, e2);
    if (st == G4_ENOMEM) return g4_errf(err, st, "%s: out of memory", where);
    if (st) return FAIL(st, "messages", "%s: %s", where, e2);
    if (!m->len) return FAIL(G4_EINVAL, "messages", "%s: empty media", where);
    return G4_OK;
}

/* The URL or data of a media part: {type: T, T: "url" | {url} | {data}} or {url} / {data} / {path}. */
static g4_status part_media(g4_api_request *q, const cJSON *p, g4_mm_kind kind, const char *media_dir, size_t max,
                            const char *where, char *param, char *err) {
    const cJSON *t = field(p, "type"), *v = t && cJSON_IsString(t) ? field(p, t->valuestring) : NULL;
    const char *url = NULL;
    int raw = 0;
    if (v && cJSON_IsString(v)) url = v->valuestring;
    else if (v && cJSON_IsObject(v)) {
        const cJSON *u = field(v, "url"), *d = field(v, "data");
        if (u && cJSON_IsString(u)) url = u->valuestring;
        else if (d && cJSON_IsString(d)) url = d->valuestring, raw = 1;
    }
    static const char *const keys[] = {"url", "data", "path", "image", "audio", "video"};
    for (size_t i = 0; !url && i < sizeof keys / sizeof *keys; i++) {
        const cJSON *u = field(p, keys[i]);
        if (u && cJSON_IsString(u)) url = u->valuestring, raw = i == 1;
    }
    if (!url) return FAIL(G4_EINVAL, "messages", "%s: no media URL or data found", where);
    if (q->n_media == G4_API_MAX_MEDIA)
        return FAIL(G4_EINVAL, "messages", "%s: more than %d media inputs", where, G4_API_MAX_MEDIA);
    g4_api_media *m = &q->media[q->n_media];
    m->kind = kind;
    g4_status st = resolve_url(m, url, raw, q, media_dir, max, where, param, err);
    if (st) { g4_free(m->data); m->data = NULL; return st; }
    q->n_media++;
    return G4_OK;
}

/* OpenAI-style "input_video" parts are taken as video_url (chat.c knows the latter). */
static void rename_input_video(cJSON *root) {
    cJSON *msgs = cJSON_GetObjectItemCaseSensitive(root, "messages");
    cJSON *m, *p;
    cJSON_ArrayForEach(m, (cJSON_IsArray(msgs) ? msgs : NULL)) {
        cJSON *c = cJSON_IsObject(m) ? cJSON_GetObjectItemCaseSensitive(m, "content") : NULL;
        cJSON_ArrayForEach(p, (cJSON_IsArray(c) ? c : NULL)) {
            cJSON *t = cJSON_IsObject(p) ? cJSON_GetObjectItemCaseSensitive(p, "type") : NULL;
            if (t && cJSON_IsString(t) && !strcmp(t->valuestring, "input_video")) {
                cJSON *v = cJSON_DetachItemFromObjectCaseSensitive(p, "input_video");
                cJSON_ReplaceItemInObjectCaseSensitive(p, "type", cJSON_CreateString("video_url"));
                if (v) cJSON_AddItemToObject(p, "video_url", v);
            }
        }
    }
}

/* tool_choice: "auto" (the default), "none" (tools left out of the prompt), "required" or
 * {"type":"function","function":{"name":N}} (the reply starts with a call, of N). */
static g4_status parse_tool_choice(g4_api_request *q, const cJSON *root, char *param, char *err) {
    const cJSON *tc = field(root, "tool_choice");
    if (!tc || cJSON_IsNull(tc)) return G4_OK;
    const int n_tools = q->conv->tools ? cJSON_GetArraySize(q->conv->tools) : 0;
    if (cJSON_IsString(tc)) {
        const char *s = tc->valuestring;
        if (!strcmp(s, "none")) {
            cJSON_Delete(q->conv->tools);
            q->conv->tools = NULL;
        } else if (!strcmp(s, "required")) q->tool_required = 1;
        else if (strcmp(s, "auto"))
            return FAIL(G4_EINVAL, "tool_choice", "request.tool_choice: '%.32s' (want auto, none, required or an object)", s);
    } else if (cJSON_IsObject(tc)) {
        const cJSON *f = field(tc, "function"), *name = f ? field(f, "name") : NULL;
        if (!name || !cJSON_IsString(name))
            return FAIL(G4_EINVAL, "tool_choice", "request.tool_choice: want {\"type\": \"function\", \"function\": "
                                                  "{\"name\": ...}}");
        int found = 0;
        const cJSON *t;
        cJSON_ArrayForEach(t, q->conv->tools) {
            const cJSON *tf = field(t, "function"), *tn = tf ? field(tf, "name") : NULL;
            found |= tn && cJSON_IsString(tn) && !strcmp(tn->valuestring, name->valuestring);
        }
        if (!found)
            return FAIL(G4_EINVAL, "tool_choice", "request.tool_choice: no tool named '%.64s' in tools", name->valuestring);
        if (!(q->tool_name = g4_strdup(name->valuestring))) return g4_errf(err, G4_ENOMEM, "request: out of memory");
        q->tool_required = 1;
    } else return FAIL(G4_EINVAL, "tool_choice", "request.tool_choice: must be a string or an object (got %s)", kind_of(tc));
    if (q->tool_required && !n_tools)
        return FAIL(G4_EINVAL, "tool_choice", "request.tool_choice: a call is required but no tools are given");
    if (q->tool_required && q->json)
        return FAIL(G4_EINVAL, "tool_choice", "request: tool_choice %s and response_format json_object exclude each other",
                    cJSON_IsString(tc) ? tc->valuestring : "(a function)");
    return G4_OK;
}

static g4_status parse_chat(g4_api_request *q, cJSON *root, const char *media_dir, size_t max_media, char *param,
                            char *err) {
    rename_input_video(root);
    g4_status st = g4_chat_from_cjson(&q->conv, root, err);
    /* OpenAI clients send tool-call arguments as JSON strings: the model was trained on the object form
     * (call:f{a:1}), which the template writes only for objects (as vLLM and llama.cpp do) */
    if (!st) st = g4_chat_decode_json_arguments(q->conv, err);
    if (st) return snprintf(param, 64, "messages"), st == G4_ENOMEM ? st : G4_EINVAL;
    const cJSON *kw = field(root, "chat_template_kwargs");
    const cJSON *re = field(root, "reasoning_effort");
    int explicit = field(root, "enable_thinking") || (kw && cJSON_IsObject(kw) && field(kw, "enable_thinking"));
    if (re && !cJSON_IsString(re))
        return FAIL(G4_EINVAL, "reasoning_effort", "request.reasoning_effort: must be a string (got %s)", kind_of(re));
    if (re && !explicit) {
        const char *s = re->valuestring;
        if (!strcmp(s, "none") || !strcmp(s, "minimal")) q->conv->enable_thinking = 0;
        else if (!strcmp(s, "low") || !strcmp(s, "medium") || !strcmp(s, "high")) q->conv->enable_thinking = 1;
        else return FAIL(G4_EINVAL, "reasoning_effort", "request.reasoning_effort: '%.32s' (want none, minimal, low, "
                                                        "medium or high)", s);
    }
    if ((st = parse_tool_choice(q, root, param, err))) return st;
    if (q->json || q->tool_required) q->conv->enable_thinking = 0; /* the constrained reply comes first */
    for (int i = 0; i < q->conv->n_msgs; i++) {
        const g4_chat_msg *m = &q->conv->msgs[i];
        for (int j = 0; j < m->n_parts; j++) {
            const g4_chat_part *p = &m->parts[j];
            if (p->type == G4_CHAT_PART_TEXT) continue;
            char where[64];
            snprintf(where, sizeof where, "messages[%d].content[%d]", i, j);
            g4_mm_kind kind = p->type == G4_CHAT_PART_IMAGE ? G4_MM_IMAGE : p->type == G4_CHAT_PART_AUDIO ? G4_MM_AUDIO
                                                                                                         : G4_MM_VIDEO;
            if ((st = part_media(q, p->json, kind, media_dir, max_media, where, param, err))) return st;
        }
    }
    return G4_OK;
}

static g4_status parse_prompt(g4_api_request *q, const cJSON *root, char *param, char *err) {
    const cJSON *p = field(root, "prompt");
    if (p && cJSON_IsArray(p) && cJSON_GetArraySize(p) == 1 && !cJSON_IsNumber(p->child)) p = p->child;
    if (p && cJSON_IsString(p)) {
        q->prompt = g4_strdup(p->valuestring);
        return q->prompt ? G4_OK : g4_errf(err, G4_ENOMEM, "request: out of memory");
    }
    int n = p && cJSON_IsArray(p) ? cJSON_GetArraySize(p) : 0;
    if (n < 1) return FAIL(G4_EINVAL, "prompt", "request.prompt: must be a string or a list of token ids (got %s)",
                           p && cJSON_IsArray(p) ? "an empty list" : kind_of(p));
    q->prompt_ids = g4_malloc(sizeof(int) * (size_t)n);
    if (!q->prompt_ids) return g4_errf(err, G4_ENOMEM, "request: out of memory");
    const cJSON *v;
    cJSON_ArrayForEach(v, p) {
        if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > INT_MAX || v->valuedouble != floor(v->valuedouble))
            return FAIL(G4_EINVAL, "prompt", "request.prompt[%d]: must be a token id (got %s)", q->n_prompt_ids, kind_of(v));
        q->prompt_ids[q->n_prompt_ids++] = (int)v->valuedouble;
    }
    return G4_OK;
}

static g4_status parse_stop(g4_api_request *q, const cJSON *root, char *param, char *err) {
    const cJSON *s = field(root, "stop"), *v;
    if (!s) return G4_OK;
    if (!cJSON_IsString(s) && !cJSON_IsArray(s))
        return FAIL(G4_EINVAL, "stop", "request.stop: must be a string or a list of strings (got %s)", kind_of(s));
    if (cJSON_IsArray(s) && cJSON_GetArraySize(s) > G4_API_MAX_STOP)
        return FAIL(G4_EINVAL, "stop", "request.stop: at most %d strings", G4_API_MAX_STOP);
    for (v = cJSON_IsString(s) ? s : s->child; v; v = cJSON_IsString(s) ? NULL : v->next) {
        if (!cJSON_IsString(v) || !*v->valuestring || strlen(v->valuestring) > 1024)
            return FAIL(G4_EINVAL, "stop", "request.stop: each stop must be a non-empty string of at most 1024 bytes");
        if (!(q->stop[q->n_stop++] = g4_strdup(v->valuestring))) return g4_errf(err, G4_ENOMEM, "request: out of memory");
    }
    return G4_OK;
}

/* chat: "logprobs": bool, "top_logprobs": 0..20 (needs logprobs); completions: "logprobs": 0..20 */
static g4_status parse_logprobs(g4_api_request *q, const cJSON *root, char *param, char *err) {
    const cJSON *lp = field(root, "logprobs"), *top = field(root, "top_logprobs");
    g4_status st;
    double x = NAN;
    if (!q->chat && lp && cJSON_IsNumber(lp)) {
        if ((st = get_num(root, "logprobs", 0, G4_MAX_TOP_LOGPROBS, 1, &x, param, err))) return st;
        q->logprobs = 1, q->top_logprobs = (int)x;
    } else if ((st = get_bool(root, "logprobs", &q->logprobs, param, err))) return st;
    if (top && !cJSON_IsNull(top)) {
        if ((st = get_num(root, "top_logprobs", 0, G4_MAX_TOP_LOGPROBS, 1, &x, param, err))) return st;
        if (!q->logprobs)
            return FAIL(G4_EINVAL, "top_logprobs", "request.top_logprobs: needs \"logprobs\": true");
        q->top_logprobs = (int)x;
    }
    return G4_OK;
}

static g4_status parse_sampling(g4_api_request *q, const cJSON *root, char *param, char *err) {
    g4_sampler_params *sp = &q->sp;
    double x;
    g4_status st;
#define NUM(key, lo, hi, integer, dst)                                                            \
    do {                                                                                          \
        x = NAN;                                                                                  \
        if ((st = get_num(root, key, lo, hi, integer, &x, param, err))) return st;                 \
        if (!isnan(x)) dst;                                                                       \
    } while (0)
    NUM("temperature", 0, 100, 0, sp->temperature = (float)x);
    NUM("top_p", 0, 1, 0, sp->top_p = (float)x);
    NUM("top_k", -1, 1 << 30, 1, sp->top_k = (int)x);
    NUM("min_p", 0, 1, 0, sp->min_p = (float)x);
    NUM("presence_penalty", -2, 2, 0, sp->presence_penalty = (float)x);
    NUM("frequency_penalty", -2, 2, 0, sp->frequency_penalty = (float)x);
    NUM("repeat_penalty", 1e-3, 100, 0, sp->repeat_penalty = (float)x);
    NUM("repeat_last_n", 0, 1 << 24, 1, sp->repeat_last_n = (int)x);
    NUM("seed", -9.2e18, 1.8e19, 1, sp->seed = x < 0 ? (uint64_t)(int64_t)x : (uint64_t)x);
    NUM("max_tokens", 1, 1 << 24, 1, q->max_tokens = (int)x);
    NUM("max_completion_tokens", 1, 1 << 24, 1, q->max_tokens = (int)x);
    NUM("n_predict", 1, 1 << 24, 1, q->max_tokens = (int)x); /* llama.cpp's name */
    NUM("n", 1, 1, 1, (void)0);
#undef NUM
    if ((st = get_bool(root, "stream", &q->stream, param, err))) return st;
    if ((st = get_bool(root, "ignore_eos", &q->ignore_eos, param, err))) return st;
    if ((st = parse_logprobs(q, root, param, err))) return st;
    const cJSON *rf = field(root, "response_format"), *rft = rf ? field(rf, "type") : NULL;
    if (rf && !cJSON_IsNull(rf) && (!cJSON_IsObject(rf) || !rft || !cJSON_IsString(rft)))
        return FAIL(G4_EINVAL, "response_format", "request.response_format: must be an object with a string type");
    if (rft && !strcmp(rft->valuestring, "json_object")) q->json = 1;
    else if (rft && !strcmp(rft->valuestring, "json_schema"))
        return FAIL(G4_EUNSUPPORTED, "response_format", "request.response_format: json_schema is not supported yet "
                                                        "(json_object is)");
    else if (rft && strcmp(rft->valuestring, "text"))
        return FAIL(G4_EINVAL, "response_format", "request.response_format: '%.32s' (want text or json_object)",
                    rft->valuestring);
    const cJSON *so = field(root, "stream_options");
    if (so && !cJSON_IsObject(so))
        return FAIL(G4_EINVAL, "stream_options", "request.stream_options: must be an object (got %s)", kind_of(so));
    if (so && (st = get_bool(so, "include_usage", &q->include_usage, param, err))) return st;
    return parse_stop(q, root, param, err);
}

g4_status g4_api_parse(g4_api_request *q, const char *body, size_t len, int chat, const char *media_dir,
                       size_t max_media, char param[64], char *err) {
    memset(q, 0, sizeof *q);
    param[0] = 0;
    q->chat = chat;
    g4_sampler_params_default(&q->sp);
    if (getrandom(&q->sp.seed, sizeof q->sp.seed, GRND_NONBLOCK) != sizeof q->sp.seed) q->sp.seed ^= (uint64_t)(uintptr_t)q;
    cJSON *root;
    g4_status st = g4_chat_json_parse(&root, body, len, "request", err);
    if (st) return st == G4_ENOMEM ? st : G4_EINVAL;
    if (!cJSON_IsObject(root)) st = FAIL(G4_EINVAL, "", "request: must be a JSON object (got %s)", kind_of(root));
    if (!st) st = parse_sampling(q, root, param, err);
    if (!st) st = chat ? parse_chat(q, root, media_dir, max_media, param, err) : parse_prompt(q, root, param, err);
    cJSON_Delete(root);
    if (st) g4_api_request_free(q);
    return st;
}

void g4_api_request_free(g4_api_request *q) {
    g4_chat_free(q->conv);
    g4_free(q->prompt);
    g4_free(q->prompt_ids);
    for (int i = 0; i < q->n_stop; i++) g4_free(q->stop[i]);
    for (int i = 0; i < q->n_media; i++) g4_free(q->media[i].data);
    g4_free(q->tool_name);
    memset(q, 0, sizeof *q);
}
