/* test_chat.c -- the Gemma 4 chat format against transformers' own rendering.
 *
 * Oracle: tools/make_chat_fixtures.py rendered each conversation in tests/data/chat with
 * google-gemma-4-31B-it.jinja through transformers (jinja2 3.1.6).  Checked here:
 *  - every NAME.json request renders byte-identical to NAME.txt;
 *  - NAME.out.json: the model's last turn, cut from that rendering, parses back into the
 *    thought, answer, tool calls and results it was rendered from (and chunked streaming
 *    gives the same as the one-shot parse);
 *  - random*.json: seeded random requests render byte-identical (or are refused where
 *    jinja2 raises);
 *  - compact.json: g4_chat_json_print equals json.dumps(json.loads(request));
 *  - errors.json: requests transformers cannot render (or we refuse) fail with the status
 *    and a message naming the field;
 *  - conversations built with the C API render like their JSON twins;
 *  - Python's float repr and str.upper/lower/strip/repr (pyfmt.json) for the helpers;
 *  - malformed model output gives G4_EFORMAT; every allocation failure gives G4_ENOMEM;
 *  - fuzz regressions in tests/data/chat/fuzz replay without crashing.
 */
#include "text/chat.h"
#include "text/chat_impl.h"

#include <dirent.h>
#include <string.h>

#include "check.h"

#define CHAT_FUZZ_NO_MAIN
#include "../fuzz/fuzz_chat.c"

#define DIR_ "tests/data/chat/"

static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc((size_t)n + 1);
    if (fread(p, 1, (size_t)n, f) != (size_t)n) { free(p); fclose(f); return NULL; }
    fclose(f);
    p[n] = 0;
    if (len) *len = (size_t)n;
    return p;
}

static cJSON *load_json(const char *path) {
    size_t n;
    char *s = slurp(path, &n);
    if (!s) return NULL;
    cJSON *v = NULL;
    char err[G4_ERR_LEN];
    if (g4_chat_json_parse(&v, s, n, path, err) != G4_OK) fprintf(stderr, "%s\n", err);
    free(s);
    return v;
}

static const char *st_name(g4_status s) {
    switch (s) {
    case G4_OK: return "OK";
    case G4_EIO: return "EIO";
    case G4_EFORMAT: return "EFORMAT";
    case G4_ENOMEM: return "ENOMEM";
    case G4_EINVAL: return "EINVAL";
    case G4_EUNSUPPORTED: return "EUNSUPPORTED";
    case G4_EBUSY: return "EBUSY";
    }
    return "?";
}

static int same_text(const char *name, const char *got, size_t gn, const char *want, size_t wn) {
    if (gn == wn && !memcmp(got, want, gn)) return 1;
    size_t i = 0;
    while (i < gn && i < wn && got[i] == want[i]) i++;
    size_t from = i > 40 ? i - 40 : 0;
    fprintf(stderr, "%s: differs at byte %zu (got %zu bytes, want %zu)\n  got:  ...%.*s\n  want: ...%.*s\n", name, i,
            gn, wn, (int)G4_MIN(gn - from, 100), got + from, (int)G4_MIN(wn - from, 100), want + from);
    return 0;
}

/* ---- renderings ---- */

static void check_render(const char *name) {
    char path[256];
    snprintf(path, sizeof path, DIR_ "%s.json", name);
    size_t n, wn;
    char *req = slurp(path, &n);
    snprintf(path, sizeof path, DIR_ "%s.txt", name);
    char *want = slurp(path, &wn);
    CHECKF(req && want, "%s: fixture files missing", name);
    if (!req || !want) { free(req); free(want); return; }
    char err[G4_ERR_LEN] = "";
    g4_chat *c = NULL;
    g4_status st = g4_chat_from_json(&c, req, n, err);
    CHECKF(st == G4_OK, "%s: from_json: %s", name, err);
    if (st == G4_OK && !strncmp(name, "decode_", 7)) {
        st = g4_chat_decode_json_arguments(c, err);
        CHECKF(st == G4_OK, "%s: decode: %s", name, err);
    }
    if (st == G4_OK) {
        char *out = NULL;
        size_t on = 0;
        st = g4_chat_render(c, &out, &on, err);
        CHECKF(st == G4_OK, "%s: render: %s", name, err);
        if (st == G4_OK) CHECKF(same_text(name, out, on, want, wn), "%s: rendering differs from transformers", name);
        g4_free(out);
    }
    g4_chat_free(c);
    free(req);
    free(want);
}

/* ---- model output ---- */

typedef struct {
    g4_chat_sb content, thought;
    int n_calls, n_resps;
    g4_chat_stop stop;
    int stopped;
} events;

static void on_ev(void *u, const g4_chat_event *ev) {
    events *e = u;
    if (ev->type == G4_CHAT_EV_CONTENT) g4_chat_sb_putn(&e->content, ev->text, ev->len);
    if (ev->type == G4_CHAT_EV_THOUGHT) g4_chat_sb_putn(&e->thought, ev->text, ev->len);
    if (ev->type == G4_CHAT_EV_TOOL_CALL) e->n_calls++;
    if (ev->type == G4_CHAT_EV_TOOL_RESPONSE) e->n_resps++;
    if (ev->type == G4_CHAT_EV_STOP) { e->stop = ev->stop; e->stopped = 1; }
}

static int trimmed_eq(const g4_chat_sb *b, const char *want) {
    size_t a, e;
    g4_chat_uni_strip(b->p ? b->p : "", b->n, &a, &e);
    if (!want) want = "";
    return strlen(want) == e - a && (e == a || !memcmp(b->p + a, want, e - a));
}

/* the same text streamed in chunks of `chunk` bytes */
static void check_stream(const char *name, const char *text, size_t len, const g4_chat_output *o, size_t chunk) {
    events e;
    memset(&e, 0, sizeof e);
    g4_chat_stream *s;
    char err[G4_ERR_LEN];
    CHECK(g4_chat_stream_new(&s, on_ev, &e, err) == G4_OK);
    g4_status st = G4_OK;
    for (size_t i = 0; i < len && st == G4_OK; i += chunk)
        st = g4_chat_stream_feed(s, text + i, G4_MIN(chunk, len - i), err);
    if (st == G4_OK) st = g4_chat_stream_finish(s, err);
    CHECKF(st == G4_OK, "%s: stream (chunk %zu): %s", name, chunk, err);
    CHECKF(trimmed_eq(&e.content, o->content), "%s: streamed content differs (chunk %zu)", name, chunk);
    CHECKF(trimmed_eq(&e.thought, o->thought), "%s: streamed thought differs (chunk %zu)", name, chunk);
    CHECKF(e.n_calls == o->n_calls && e.n_resps == o->n_responses, "%s: streamed calls differ (chunk %zu)", name,
           chunk);
    CHECKF((e.stopped ? e.stop : G4_CHAT_STOP_NONE) == o->stop, "%s: streamed stop differs (chunk %zu)", name, chunk);
    g4_chat_stream_free(s);
    g4_chat_sb_free(&e.content);
    g4_chat_sb_free(&e.thought);
}

static void check_output(const char *name) {
    char path[256];
    snprintf(path, sizeof path, DIR_ "%s.out.json", name);
    cJSON *x = load_json(path);
    CHECKF(x != NULL, "%s: cannot read", path);
    if (!x) return;
    const cJSON *text = g4_chat_json_get(x, "text");
    const char *t = text->valuestring;
    size_t len = strlen(t);
    g4_chat_output o;
    char err[G4_ERR_LEN] = "";
    g4_status st = g4_chat_parse_output(t, len, &o, err);
    if (g4_chat_json_get(x, "error")) {
        CHECKF(st == G4_EFORMAT, "%s: model output should not parse (got %s)", name, st_name(st));
        CHECKF(strstr(err, "tool call 0") != NULL, "%s: message should name the call: %s", name, err);
        if (st == G4_OK) g4_chat_output_free(&o);
        cJSON_Delete(x);
        return;
    }
    CHECKF(st == G4_OK, "%s: parse_output: %s", name, err);
    if (st != G4_OK) { cJSON_Delete(x); return; }

    const cJSON *th = g4_chat_json_get(x, "thought");
    if (cJSON_IsNull(th)) CHECKF(o.thought == NULL, "%s: unexpected thought '%s'", name, o.thought);
    else CHECKF(o.thought && !strcmp(o.thought, th->valuestring), "%s: thought '%s', want '%s'", name,
                o.thought ? o.thought : "(null)", th->valuestring);
    CHECKF(!strcmp(o.content, g4_chat_json_get(x, "content")->valuestring), "%s: content '%s', want '%s'", name, o.content,
           g4_chat_json_get(x, "content")->valuestring);

    const cJSON *calls = g4_chat_json_get(x, "calls");
    CHECKF(o.n_calls == cJSON_GetArraySize(calls), "%s: %d calls, want %d", name, o.n_calls,
           cJSON_GetArraySize(calls));
    int i = 0;
    for (const cJSON *c = calls->child; c && i < o.n_calls; c = c->next, i++) {
        CHECKF(!strcmp(o.calls[i].name, g4_chat_json_get(c, "name")->valuestring), "%s: call %d name '%s'", name, i,
               o.calls[i].name);
        const cJSON *args = g4_chat_json_get(c, "arguments");
        const cJSON *txt = g4_chat_json_get(c, "text");
        if (args) CHECKF(g4_chat_json_py_equal(o.calls[i].arguments, args), "%s: call %d arguments differ", name, i);
        if (txt) CHECKF(!strcmp(o.calls[i].text, txt->valuestring), "%s: call %d text '%s', want '%s'", name, i,
                        o.calls[i].text, txt->valuestring);
    }
    const cJSON *resps = g4_chat_json_get(x, "responses");
    CHECKF(o.n_responses == cJSON_GetArraySize(resps), "%s: %d responses, want %d", name, o.n_responses,
           cJSON_GetArraySize(resps));
    i = 0;
    for (const cJSON *r = resps->child; r && i < o.n_responses; r = r->next, i++) {
        CHECKF(!strcmp(o.responses[i].name, g4_chat_json_get(r, "name")->valuestring), "%s: response %d name '%s'", name,
               i, o.responses[i].name);
        CHECKF(g4_chat_json_py_equal(o.responses[i].response, g4_chat_json_get(r, "response")), "%s: response %d differs",
               name, i);
    }
    const char *stop = g4_chat_json_get(x, "stop")->valuestring;
    g4_chat_stop want = !strcmp(stop, "turn") ? G4_CHAT_STOP_TURN
                        : !strcmp(stop, "tool_response") ? G4_CHAT_STOP_TOOL_RESPONSE : G4_CHAT_STOP_NONE;
    CHECKF(o.stop == want, "%s: stop %d, want %s", name, (int)o.stop, stop);
    if (want == G4_CHAT_STOP_TURN) CHECK(o.consumed == (size_t)(strstr(t, "<turn|>") - t) + 7);
    if (want != G4_CHAT_STOP_TURN) CHECK(o.consumed == len);

    static const size_t chunks[] = {1, 2, 3, 5, 8, 13, 64};
    for (size_t k = 0; k < sizeof chunks / sizeof *chunks; k++) check_stream(name, t, len, &o, chunks[k]);
    g4_chat_output_free(&o);
    cJSON_Delete(x);
}

static void test_fixtures(void) {
    char *m = slurp(DIR_ "cases.txt", NULL);
    CHECKF(m != NULL, "tests/data/chat/cases.txt missing");
    if (!m) return;
    int n = 0, nout = 0;
    for (char *line = strtok(m, "\n"); line; line = strtok(NULL, "\n")) {
        if (line[0] == '#') continue;
        char name[128];
        int has_out = 0;
        if (sscanf(line, "%127s %d", name, &has_out) != 2) continue;
        check_render(name);
        if (has_out) { check_output(name); nout++; }
        n++;
    }
    free(m);
    CHECKF(n >= 30 && nout >= 15, "only %d cases (%d with outputs)", n, nout);
}

/* ---- random requests: byte-identical, or refused where transformers raises ---- */

static void test_random(void) {
    int n = 0, bad = 0;
    for (int file = 0;; file++) {
        char path[256];
        snprintf(path, sizeof path, DIR_ "random%d.json", file);
        cJSON *x = load_json(path);
        if (!x) break;
        for (const cJSON *e = x->child; e; e = e->next, n++) {
            const char *req = g4_chat_json_get(e, "request")->valuestring;
            const cJSON *want = g4_chat_json_get(e, "expected");
            char err[G4_ERR_LEN] = "", *out = NULL;
            size_t on = 0;
            g4_chat *c;
            g4_status st = g4_chat_from_json(&c, req, strlen(req), err);
            if (st == G4_OK) {
                st = g4_chat_render(c, &out, &on, err);
                g4_chat_free(c);
            }
            char name[32];
            snprintf(name, sizeof name, "random[%d]", n);
            if (cJSON_IsNull(want)) {
                if (st != G4_EINVAL) bad++;
            } else if (st != G4_OK) {
                if (bad++ < 3) fprintf(stderr, "%s: %s\n", name, err);
            } else if (!same_text(name, out, on, want->valuestring, strlen(want->valuestring))) {
                bad++;
            }
            g4_free(out);
        }
        cJSON_Delete(x);
    }
    CHECKF(bad == 0 && n >= 100, "%d of %d random requests differ from transformers", bad, n);
}

/* ---- JSON printing: json.dumps(json.loads(request)) ---- */

static void test_json_print(void) {
    cJSON *x = load_json(DIR_ "compact.json");
    CHECK(x != NULL);
    if (!x) return;
    int n = 0;
    for (const cJSON *e = x->child; e; e = e->next, n++) {
        char path[256];
        snprintf(path, sizeof path, DIR_ "%s.json", e->string);
        cJSON *req = load_json(path);
        char *out = NULL, err[G4_ERR_LEN] = "";
        CHECKF(req && g4_chat_json_print(req, &out, err) == G4_OK, "%s: json print: %s", e->string, err);
        if (out) CHECKF(same_text(e->string, out, strlen(out), e->valuestring, strlen(e->valuestring)),
                        "%s: json print differs from json.dumps", e->string);
        g4_free(out);
        cJSON_Delete(req);
    }
    CHECK(n >= 30);
    cJSON_Delete(x);
}

/* ---- errors ---- */

static void test_errors(void) {
    cJSON *x = load_json(DIR_ "errors.json");
    CHECK(x != NULL);
    if (!x) return;
    for (const cJSON *e = x->child; e; e = e->next) {
        const char *name = g4_chat_json_get(e, "name")->valuestring;
        const char *req = g4_chat_json_get(e, "request")->valuestring;
        const char *want = g4_chat_json_get(e, "status")->valuestring;
        const char *contains = g4_chat_json_get(e, "contains")->valuestring;
        char err[G4_ERR_LEN] = "";
        g4_chat *c = NULL;
        g4_status st = g4_chat_from_json(&c, req, strlen(req), err);
        if (st == G4_OK) {
            char *out = NULL;
            st = g4_chat_render(c, &out, NULL, err);
            g4_free(out);
            g4_chat_free(c);
        }
        CHECKF(!strcmp(st_name(st), want), "%s: got %s (%s), want %s", name, st_name(st), err, want);
        CHECKF(strstr(err, contains) != NULL, "%s: message '%s' should mention '%s'", name, err, contains);
    }
    cJSON_Delete(x);

    /* invalid UTF-8, from JSON and from C */
    char err[G4_ERR_LEN];
    g4_chat *c;
    const char bad[] = "{\"messages\":[{\"role\":\"user\",\"content\":\"a\xff\"}]}";
    CHECK(g4_chat_from_json(&c, bad, sizeof bad - 1, err) == G4_EINVAL && strstr(err, "UTF-8"));
    CHECK(g4_chat_new(&c, err) == G4_OK);
    CHECK(g4_chat_add(c, G4_CHAT_USER, "ok\xc3", err) == G4_EINVAL && strstr(err, "UTF-8"));
    char *out;
    CHECK(g4_chat_render(c, &out, NULL, err) == G4_EINVAL && strstr(err, "no messages"));
    CHECK(g4_chat_add_part(c, G4_CHAT_PART_IMAGE, NULL, err) == G4_EINVAL);
    g4_chat_free(c);
}

/* ---- the C builders ---- */

static void check_built(const char *name, g4_chat *c) {
    char path[256];
    snprintf(path, sizeof path, DIR_ "%s.txt", name);
    size_t wn;
    char *want = slurp(path, &wn);
    char *out = NULL;
    size_t on;
    char err[G4_ERR_LEN] = "";
    g4_status st = g4_chat_render(c, &out, &on, err);
    CHECKF(st == G4_OK, "%s (built): %s", name, err);
    if (st == G4_OK && want) CHECKF(same_text(name, out, on, want, wn), "%s: built conversation renders differently",
                                    name);
    g4_free(out);
    free(want);
    g4_chat_free(c);
}

static void test_builders(void) {
    char err[G4_ERR_LEN];
    g4_chat *c;
    cJSON *tool = NULL, *args = NULL;
    const char *weather =
        "{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"description\": \"Get the current "
        "weather for a city.\", \"parameters\": {\"type\": \"object\", \"properties\": {\"location\": {\"type\": "
        "\"string\", \"description\": \"City name, e.g. Paris\"}, \"unit\": {\"type\": \"string\", \"enum\": "
        "[\"celsius\", \"fahrenheit\"], \"description\": \"Temperature unit\"}}, \"required\": [\"location\"]}}}";
    CHECK(g4_chat_json_parse(&tool, weather, strlen(weather), "tool", err) == G4_OK);
    CHECK(g4_chat_json_parse(&args, "{\"location\": \"Paris\"}", 21, "args", err) == G4_OK);

    /* tool_round_trip */
    CHECK(g4_chat_new(&c, err) == G4_OK);
    CHECK(g4_chat_add(c, G4_CHAT_SYSTEM, "Use tools.", err) == G4_OK);
    CHECK(g4_chat_add(c, G4_CHAT_USER, "Weather in Paris?", err) == G4_OK);
    CHECK(g4_chat_add(c, G4_CHAT_ASSISTANT, NULL, err) == G4_OK);
    CHECK(g4_chat_add_tool_call(c, "c1", "get_weather", args, err) == G4_OK);
    cJSON *res = cJSON_CreateString("{\"temperature\": 21, \"sky\": \"clear\"}");
    CHECK(g4_chat_add_tool_result(c, NULL, "c1", res, err) == G4_OK);
    cJSON_Delete(res);
    CHECK(g4_chat_add(c, G4_CHAT_ASSISTANT, "It is 21 degrees and clear in Paris.", err) == G4_OK);
    CHECK(g4_chat_add_tool(c, tool, err) == G4_OK);
    c->add_generation_prompt = 0;
    check_built("tool_round_trip", c);

    /* media_parts */
    CHECK(g4_chat_new(&c, err) == G4_OK);
    CHECK(g4_chat_add(c, G4_CHAT_USER, "  Describe these:  ", err) == G4_OK);
    CHECK(g4_chat_add_part(c, G4_CHAT_PART_IMAGE, NULL, err) == G4_OK);
    CHECK(g4_chat_add_part(c, G4_CHAT_PART_AUDIO, NULL, err) == G4_OK);
    CHECK(g4_chat_add_part(c, G4_CHAT_PART_TEXT, "and", err) == G4_OK);
    CHECK(g4_chat_add_part(c, G4_CHAT_PART_VIDEO, NULL, err) == G4_OK);
    CHECK(g4_chat_add(c, G4_CHAT_ASSISTANT, NULL, err) == G4_OK);
    CHECK(g4_chat_add_part(c, G4_CHAT_PART_TEXT, "A cat<|channel>hidden<channel|>, a sound", err) == G4_OK);
    CHECK(g4_chat_add_part(c, G4_CHAT_PART_TEXT, " and a film. ", err) == G4_OK);
    CHECK(g4_chat_add(c, G4_CHAT_USER, NULL, err) == G4_OK);
    CHECK(g4_chat_add_part(c, G4_CHAT_PART_IMAGE, NULL, err) == G4_OK);
    CHECK(g4_chat_add_part(c, G4_CHAT_PART_IMAGE, NULL, err) == G4_OK);
    c->add_generation_prompt = 1;
    c->enable_thinking = 1;
    check_built("media_parts", c);

    /* reasoning_replay */
    CHECK(g4_chat_new(&c, err) == G4_OK);
    CHECK(g4_chat_add(c, G4_CHAT_USER, "Weather in Paris?", err) == G4_OK);
    CHECK(g4_chat_add(c, G4_CHAT_ASSISTANT, NULL, err) == G4_OK);
    CHECK(g4_chat_set_reasoning(c, "The user wants weather. I should call get_weather.", err) == G4_OK);
    CHECK(g4_chat_add_tool_call(c, "c1", "get_weather", args, err) == G4_OK);
    res = cJSON_CreateString("cloudy");
    CHECK(g4_chat_add_tool_result(c, NULL, "c1", res, err) == G4_OK);
    cJSON_Delete(res);
    CHECK(g4_chat_add(c, G4_CHAT_ASSISTANT, "Cloudy in Paris.", err) == G4_OK);
    CHECK(g4_chat_add_tool(c, tool, err) == G4_OK);
    c->enable_thinking = 1;
    check_built("reasoning_replay", c);

    /* tool_responses_native, numbers built without literals: -3.5 and 12 print like Python */
    CHECK(g4_chat_new(&c, err) == G4_OK);
    CHECK(g4_chat_add(c, G4_CHAT_USER, "Weather?", err) == G4_OK);
    CHECK(g4_chat_add(c, G4_CHAT_ASSISTANT, NULL, err) == G4_OK);
    cJSON *oslo = cJSON_CreateObject();
    cJSON_AddStringToObject(oslo, "location", "Oslo");
    CHECK(g4_chat_add_tool_call(c, NULL, "get_weather", oslo, err) == G4_OK);
    cJSON_Delete(oslo);
    cJSON *r1 = cJSON_CreateObject();
    cJSON_AddNumberToObject(r1, "temp", -3.5);
    cJSON_AddStringToObject(r1, "Sky", "snow");
    cJSON_AddNumberToObject(cJSON_AddObjectToObject(r1, "wind"), "kmh", 12);
    CHECK(g4_chat_add_tool_response(c, "get_weather", r1, err) == G4_OK);
    cJSON_Delete(r1);
    cJSON *r2 = cJSON_CreateString("no name -> unknown");
    CHECK(g4_chat_add_tool_response(c, NULL, r2, err) == G4_OK);
    cJSON_Delete(r2);
    CHECK(g4_chat_add(c, G4_CHAT_ASSISTANT, "Cold and snowy in Oslo.", err) == G4_OK);
    c->add_generation_prompt = 0;
    check_built("tool_responses_native", c);

    /* builder errors */
    CHECK(g4_chat_new(&c, err) == G4_OK);
    CHECK(g4_chat_add_tool_call(c, NULL, "f", NULL, err) == G4_EINVAL); /* no message yet */
    CHECK(g4_chat_add(c, G4_CHAT_ASSISTANT, NULL, err) == G4_OK);
    cJSON *arr = cJSON_CreateArray();
    CHECK(g4_chat_add_tool_call(c, NULL, "f", arr, err) == G4_EINVAL && strstr(err, "arguments"));
    CHECK(g4_chat_add_tool(c, arr, err) == G4_EINVAL);
    cJSON_Delete(arr);
    CHECK(g4_chat_add(c, (g4_chat_role)42, "x", err) == G4_EINVAL);
    g4_chat_free(c);
    cJSON_Delete(tool);
    cJSON_Delete(args);
}

/* ---- Python formatting helpers ---- */

static void test_pyfmt(void) {
    cJSON *x = load_json(DIR_ "pyfmt.json");
    CHECK(x != NULL);
    if (!x) return;
    int bad = 0, n = 0;
    for (const cJSON *f = g4_chat_json_get(x, "floats")->child; f; f = f->next, n++) {
        g4_chat_sb b = {0};
        g4_chat_py_float(&b, strtod(f->child->valuestring, NULL));
        if (!b.p || strcmp(b.p, f->child->next->valuestring)) {
            if (bad++ < 5) fprintf(stderr, "float %s: got %s want %s\n", f->child->valuestring, b.p,
                                   f->child->next->valuestring);
        }
        g4_chat_sb_free(&b);
    }
    CHECKF(bad == 0 && n >= 300, "%d of %d floats print unlike Python's repr", bad, n);
    bad = n = 0;
    for (const cJSON *s = g4_chat_json_get(x, "strings")->child; s; s = s->next, n++) {
        const char *str = cJSON_GetArrayItem(s, 0)->valuestring, *wu = cJSON_GetArrayItem(s, 1)->valuestring;
        const char *wl = cJSON_GetArrayItem(s, 2)->valuestring, *ws = cJSON_GetArrayItem(s, 3)->valuestring;
        const char *wr = cJSON_GetArrayItem(s, 4)->valuestring;
        g4_chat_sb u = {0}, l = {0}, r = {0};
        g4_chat_sb_put_upper(&u, str, strlen(str));
        g4_chat_sb_put_lower(&l, str, strlen(str));
        g4_chat_py_repr(&r, cJSON_GetArrayItem(s, 0));
        size_t a, e;
        g4_chat_uni_strip(str, strlen(str), &a, &e);
        int ok = !strcmp(u.p ? u.p : "", wu) && !strcmp(r.p ? r.p : "", wr) && strlen(ws) == e - a &&
                 !memcmp(str + a, ws, e - a);
        /* lower(): Python applies the final-sigma rule, which we do not (dictsort only) */
        if (!strstr(str, "\xce\xa3")) ok = ok && !strcmp(l.p ? l.p : "", wl);
        if (!ok && bad++ < 5) fprintf(stderr, "string %s: upper %s/%s lower %s/%s repr %s/%s\n", wr, u.p, wu, l.p, wl,
                                      r.p, wr);
        g4_chat_sb_free(&u);
        g4_chat_sb_free(&l);
        g4_chat_sb_free(&r);
    }
    CHECKF(bad == 0 && n > 100, "%d of %d strings differ from Python", bad, n);
    cJSON_Delete(x);

    /* numbers without a literal (built from C) */
    struct {
        double v;
        const char *want;
    } nums[] = {{3, "3"}, {-0.0, "0"}, {2.5, "2.5"}, {1e20, "1e+20"}, {123456789.0, "123456789"}, {1e300, "1e+300"}, {0.1, "0.1"}};
    for (size_t i = 0; i < sizeof nums / sizeof *nums; i++) {
        cJSON *v = cJSON_CreateNumber(nums[i].v);
        g4_chat_sb b = {0};
        g4_chat_py_str(&b, v);
        CHECKF(b.p && !strcmp(b.p, nums[i].want), "number %g printed %s, want %s", nums[i].v, b.p, nums[i].want);
        g4_chat_sb_free(&b);
        cJSON_Delete(v);
    }
}

/* ---- model output edge cases ---- */

static void test_output_edges(void) {
    struct {
        const char *text;
        g4_status st;
        const char *contains; /* in err (errors) or in content (success) */
    } cases[] = {
        {"<|tool_call>call:f{a:1<tool_call|>", G4_EFORMAT, "expected ',' or '}'"},
        {"<|tool_call>call:{a:1}<tool_call|>", G4_EFORMAT, "empty name"},
        {"<|tool_call>callf{}<tool_call|>", G4_EFORMAT, "expected 'call:'"},
        {"<|tool_call>call:f a:1<tool_call|>", G4_EFORMAT, "no '{'"},
        {"<|tool_call>call:f{a:<|\"|>x}<tool_call|>", G4_EFORMAT, "unterminated"},
        {"<|tool_call>call:f{a:1}", G4_EFORMAT, "no <tool_call|>"},
        {"<|tool_call>call:f{a:1} junk<tool_call|>", G4_EFORMAT, "unexpected text"},
        {"<|tool_call>call:f{a:01}<tool_call|>", G4_EFORMAT, "bad number"},
        {"<|tool_call>call:f{a:inf}<tool_call|>", G4_EFORMAT, "expected a value"},
        {"<|tool_call>call:f{:1}<tool_call|>", G4_EFORMAT, "expected a key"},
        {"<|tool_call>call:f{a:\"\\x\"}<tool_call|>", G4_EFORMAT, "bad escape"},
        {"ok<|tool_call>call:f{}<tool_call|><|tool_call>call:g{a:[1,}<tool_call|>", G4_EFORMAT, "tool call 1"},
        {"<|tool_response>response:f{value:1}", G4_EFORMAT, "no <tool_response|>"},
        {"<|tool_response>response:f{value:1}x<tool_response|>", G4_EFORMAT, "tool response 0"},
        {"Hello<turn|>garbage<|tool_call>", G4_OK, "Hello"},
        {"a < b <|chan", G4_OK, "a < b <|chan"},
        {"x<channel|>y", G4_OK, "x<channel|>y"},
        {"<|turn>model\nHi there<eos>", G4_OK, "Hi there"},
        {"<|turn>user\nHi", G4_OK, "<|turn>user\nHi"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        g4_chat_output o;
        char err[G4_ERR_LEN] = "";
        g4_status st = g4_chat_parse_output(cases[i].text, strlen(cases[i].text), &o, err);
        CHECKF(st == cases[i].st, "output '%s': got %s (%s)", cases[i].text, st_name(st), err);
        if (st != G4_OK) CHECKF(strstr(err, cases[i].contains) && strstr(err, "model output"),
                                "output '%s': message '%s'", cases[i].text, err);
        else {
            CHECKF(!strcmp(o.content, cases[i].contains), "output '%s': content '%s'", cases[i].text, o.content);
            g4_chat_output_free(&o);
        }
    }
    /* deep nesting is refused, not a stack overflow */
    char deep[1200];
    strcpy(deep, "<|tool_call>call:f{a:");
    size_t k = strlen(deep);
    for (int i = 0; i < 600; i++) deep[k++] = '[';
    strcpy(deep + k, "<tool_call|>");
    g4_chat_output o;
    char err[G4_ERR_LEN];
    CHECK(g4_chat_parse_output(deep, strlen(deep), &o, err) == G4_EFORMAT && strstr(err, "nested too deep"));

    /* NUL bytes: an error, unless the reply stopped before them */
    CHECK(g4_chat_parse_output("a\0b", 3, &o, err) == G4_EFORMAT && strstr(err, "NUL byte at byte 1"));
    CHECK(g4_chat_parse_output("a<turn|>\0b", 10, &o, err) == G4_OK && o.stop == G4_CHAT_STOP_TURN);
    g4_chat_output_free(&o);

    /* thought handling, JSON-style strings, quoted keys, stops */
    const char *t = "<|channel>thought\n  I should call f.  <channel|>Sure.<|tool_call>call:f{<|\"|>k y<|\"|>:"
                    "\"v\\n\\u00e9\\ud83d\\ude00\",n:[1, {} ,-2.5e-3],z:None,b:True}<tool_call|><|tool_response>";
    CHECK(g4_chat_parse_output(t, strlen(t), &o, err) == G4_OK);
    CHECK(o.thought && !strcmp(o.thought, "I should call f."));
    CHECK(!strcmp(o.content, "Sure.") && o.n_calls == 1 && o.stop == G4_CHAT_STOP_TOOL_RESPONSE && !o.thought_open);
    if (o.n_calls == 1) {
        cJSON *want = NULL;
        const char *w = "{\"k y\": \"v\\n\\u00e9\\ud83d\\ude00\", \"n\": [1, {}, -0.0025], \"z\": null, \"b\": true}";
        CHECK(g4_chat_json_parse(&want, w, strlen(w), "want", err) == G4_OK);
        CHECK(g4_chat_json_py_equal(o.calls[0].arguments, want));
        cJSON_Delete(want);
    }
    g4_chat_output_free(&o);
    t = "<|channel>thought\nstill thinking";
    CHECK(g4_chat_parse_output(t, strlen(t), &o, err) == G4_OK);
    CHECK(o.thought_open && o.thought && !strcmp(o.thought, "still thinking") && !o.content[0]);
    g4_chat_output_free(&o);
    t = "<|channel>thought\n<channel|>Answer";
    CHECK(g4_chat_parse_output(t, strlen(t), &o, err) == G4_OK);
    CHECK(!o.thought && !strcmp(o.content, "Answer") && o.stop == G4_CHAT_STOP_NONE && o.consumed == strlen(t));
    g4_chat_output_free(&o);
}

/* ---- allocation failures ---- */

static g4_status run_all(const char *req, size_t n, int *reached) {
    char err[G4_ERR_LEN];
    g4_chat *c;
    g4_status st = g4_chat_from_json(&c, req, n, err);
    if (st != G4_OK) return st;
    char *out;
    size_t on;
    st = g4_chat_render(c, &out, &on, err);
    g4_chat_free(c);
    if (st != G4_OK) return st;
    g4_chat_output o;
    st = g4_chat_parse_output(out, on, &o, err);
    g4_free(out);
    if (st == G4_OK) {
        g4_chat_output_free(&o);
        *reached = 1;
    }
    return st;
}

static void test_alloc_failures(void) {
    static const char *names[] = {"tools_nested", "numbers", "tool_round_trip", "unicode", "system_parts_repr"};
    for (size_t k = 0; k < sizeof names / sizeof *names; k++) {
        char path[256];
        snprintf(path, sizeof path, DIR_ "%s.json", names[k]);
        size_t n;
        char *req = slurp(path, &n);
        if (!req) { CHECK(0); continue; }
        int bad = 0, i;
        for (i = 0; i < 100000; i++) {
            int reached = 0;
            g4_alloc_fail_at(i);
            g4_status st = run_all(req, n, &reached);
            g4_alloc_fail_at(-1);
            if (st == G4_OK && reached) break;
            if (st != G4_ENOMEM && bad++ < 3) fprintf(stderr, "%s: failing allocation %d gave %s\n", names[k], i,
                                                      st_name(st));
        }
        CHECKF(bad == 0 && i > 10, "%s: %d allocation failures not reported as ENOMEM (%d tried)", names[k], bad, i);
        free(req);
    }
    /* the output parser alone, over a text with calls and results */
    size_t n;
    char *x = slurp(DIR_ "tool_chain_one_turn.txt", &n);
    if (x) {
        int bad = 0, i;
        for (i = 0; i < 10000; i++) {
            g4_chat_output o;
            char err[G4_ERR_LEN];
            g4_alloc_fail_at(i);
            g4_status st = g4_chat_parse_output(x, n, &o, err);
            g4_alloc_fail_at(-1);
            if (st == G4_OK) { g4_chat_output_free(&o); break; }
            if (st != G4_ENOMEM) bad++;
        }
        CHECKF(bad == 0, "parse_output: %d allocation failures not reported as ENOMEM", bad);
        free(x);
    }
}

/* ---- fuzz regressions ---- */

static void test_fuzz_regressions(void) {
    DIR *d = opendir(DIR_ "fuzz");
    if (!d) return;
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char path[512];
        snprintf(path, sizeof path, DIR_ "fuzz/%s", e->d_name);
        size_t len;
        char *data = slurp(path, &len);
        if (!data) continue;
        chat_fuzz_one((const uint8_t *)data, len);
        free(data);
        n++;
    }
    closedir(d);
    CHECK(n >= 0);
}

int main(void) {
    test_fixtures();
    test_random();
    test_json_print();
    test_errors();
    test_builders();
    test_pyfmt();
    test_output_edges();
    test_alloc_failures();
    test_fuzz_regressions();
    return check_done("chat");
}
