/* api_misc.c -- the small routes of `gemma4 serve` and the route table: POST /v1/completions (a raw
 * prompt through the same generation loop as chat), GET /v1/models, /health, /metrics (Prometheus
 * text from the engine's counters), POST /tokenize and /detokenize, and the chat page at /.
 */
#include "api.h"

#include <string.h>

void g4_api_completions(g4_http_req *r, void *ud) {
    g4_api *api = ud;
    g4_api_request q;
    char err[G4_ERR_LEN], param[64];
    size_t len;
    const char *body = g4_http_body(r, &len);
    g4_status st = g4_api_parse(&q, body, len, 0, NULL, 0, param, err);
    if (st) { g4_api_reply_status(r, st, param, err); return; }
    g4_api_generate(r, api, &q);
    g4_api_request_free(&q);
}

static void models(g4_http_req *r, void *ud) {
    g4_api *api = ud;
    cJSON *j = cJSON_CreateObject(), *a = cJSON_AddArrayToObject(j, "data"), *m = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "object", "list");
    cJSON_AddItemToArray(a, m);
    cJSON_AddStringToObject(m, "id", api->model_id);
    cJSON_AddStringToObject(m, "object", "model");
    cJSON_AddNumberToObject(m, "created", (double)api->created);
    cJSON_AddStringToObject(m, "owned_by", "gemma4.c");
    cJSON *meta = cJSON_AddObjectToObject(m, "meta");
    cJSON_AddNumberToObject(meta, "n_ctx", g4_engine_n_ctx(api->engine));
    cJSON_AddNumberToObject(meta, "n_vocab", g4_model_n_vocab(g4_engine_model(api->engine)));
    g4_http_reply_json(r, 200, j);
    cJSON_Delete(j);
}

static void health(g4_http_req *r, void *ud) {
    (void)ud;
    static const char ok[] = "{\"status\":\"ok\"}";
    g4_http_reply(r, 200, "application/json", ok, sizeof ok - 1);
}

static void metrics(g4_http_req *r, void *ud) {
    g4_api *api = ud;
    g4_engine_stats s;
    g4_engine_stats_get(api->engine, &s);
    char buf[2048];
    int n = snprintf(buf, sizeof buf,
        "# HELP gemma4_requests_total Generation requests started.\n# TYPE gemma4_requests_total counter\n"
        "gemma4_requests_total %ld\n"
        "# HELP gemma4_requests_rejected_total Requests refused because the queue was full.\n"
        "# TYPE gemma4_requests_rejected_total counter\ngemma4_requests_rejected_total %ld\n"
        "# HELP gemma4_prompt_tokens_total Prompt tokens processed.\n# TYPE gemma4_prompt_tokens_total counter\n"
        "gemma4_prompt_tokens_total %ld\n"
        "# HELP gemma4_generated_tokens_total Tokens generated.\n# TYPE gemma4_generated_tokens_total counter\n"
        "gemma4_generated_tokens_total %ld\n"
        "# HELP gemma4_generation_seconds_total Time spent in decode steps.\n"
        "# TYPE gemma4_generation_seconds_total counter\ngemma4_generation_seconds_total %.3f\n"
        "# HELP gemma4_tokens_per_second Generated tokens per second of decode time.\n"
        "# TYPE gemma4_tokens_per_second gauge\ngemma4_tokens_per_second %.3f\n"
        "# HELP gemma4_queue_depth Requests waiting for a slot.\n# TYPE gemma4_queue_depth gauge\n"
        "gemma4_queue_depth %d\n"
        "# HELP gemma4_busy_slots Slots running a request.\n# TYPE gemma4_busy_slots gauge\ngemma4_busy_slots %d\n"
        "# HELP gemma4_slots Slots.\n# TYPE gemma4_slots gauge\ngemma4_slots %d\n",
        s.requests, s.rejected, s.prompt_tokens, s.gen_tokens, s.gen_seconds,
        s.gen_seconds > 0 ? s.gen_tokens / s.gen_seconds : 0.0, s.queued, s.busy_slots, s.n_slots);
    g4_http_reply(r, 200, "text/plain; version=0.0.4", buf, (size_t)G4_MIN(n, (int)sizeof buf - 1));
}

/* Both take a JSON object body; NULL after replying with an error. */
static cJSON *json_body(g4_http_req *r, const g4_tokenizer *tok) {
    char err[G4_ERR_LEN];
    size_t len;
    const char *body = g4_http_body(r, &len);
    cJSON *j;
    if (!tok) { g4_http_error(r, 400, NULL, NULL, NULL, "the model has no tokenizer"); return NULL; }
    if (g4_chat_json_parse(&j, body, len, "request", err)) { g4_http_error(r, 400, NULL, NULL, NULL, "%s", err); return NULL; }
    if (!cJSON_IsObject(j)) {
        g4_http_error(r, 400, NULL, NULL, NULL, "request: must be a JSON object");
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

static void tokenize(g4_http_req *r, void *ud) {
    g4_api *api = ud;
    const g4_tokenizer *tok = g4_engine_tokenizer(api->engine);
    char err[G4_ERR_LEN];
    cJSON *j = json_body(r, tok);
    if (!j) return;
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "content"), *ps = cJSON_GetObjectItemCaseSensitive(j, "parse_special");
    int *ids = NULL, n = 0;
    if (!cJSON_IsString(c)) g4_http_error(r, 400, NULL, "content", NULL, "request.content: must be a string");
    else if (ps && !cJSON_IsBool(ps)) g4_http_error(r, 400, NULL, "parse_special", NULL, "request.parse_special: must be true or false");
    else if (g4_tokenizer_encode(tok, c->valuestring, strlen(c->valuestring), &ids, &n, !ps || cJSON_IsTrue(ps), err))
        g4_http_error(r, 400, NULL, "content", NULL, "%s", err);
    else {
        cJSON *o = cJSON_CreateObject(), *a = cJSON_AddArrayToObject(o, "tokens");
        for (int i = 0; i < n; i++) cJSON_AddItemToArray(a, cJSON_CreateNumber(ids[i]));
        g4_http_reply_json(r, 200, o);
        cJSON_Delete(o);
    }
    g4_free(ids);
    cJSON_Delete(j);
}

static void detokenize(g4_http_req *r, void *ud) {
    g4_api *api = ud;
    const g4_tokenizer *tok = g4_engine_tokenizer(api->engine);
    char err[G4_ERR_LEN];
    cJSON *j = json_body(r, tok);
    if (!j) return;
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "tokens"), *v;
    const int n = cJSON_IsArray(t) ? cJSON_GetArraySize(t) : -1;
    int *ids = n > 0 ? g4_malloc(sizeof(int) * (size_t)n) : NULL, k = 0, bad = n < 0 || (n > 0 && !ids);
    const int n_vocab = g4_tokenizer_n_vocab(tok);
    cJSON_ArrayForEach(v, (bad ? NULL : t)) {
        if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble >= n_vocab || v->valuedouble != (int)v->valuedouble) bad = 1;
        else ids[k++] = (int)v->valuedouble;
    }
    char *text = NULL;
    if (bad) g4_http_error(r, 400, NULL, "tokens", NULL, "request.tokens: must be a list of token ids in [0, %d)", n_vocab);
    else if (g4_tokenizer_decode(tok, ids, k, 0, &text, NULL, err)) g4_http_error(r, 500, NULL, NULL, NULL, "%s", err);
    else {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "content", text);
        g4_http_reply_json(r, 200, o);
        cJSON_Delete(o);
    }
    g4_free(text);
    g4_free(ids);
    cJSON_Delete(j);
}

static void page(g4_http_req *r, void *ud) {
    (void)ud;
    g4_http_reply(r, 200, "text/html; charset=utf-8", g4_api_page_html, strlen(g4_api_page_html));
}

static const g4_http_route routes[] = {
    {"POST", "/v1/chat/completions", g4_api_chat, 1, 0},
    {"POST", "/v1/completions", g4_api_completions, 1, 0},
    {"GET", "/v1/models", models, 0, 0},
    {"GET", "/health", health, 0, 1},
    {"GET", "/metrics", metrics, 0, 0},
    {"POST", "/tokenize", tokenize, 0, 0},
    {"POST", "/detokenize", detokenize, 0, 0},
    {"GET", "/", page, 0, 1},
};

const g4_http_route *g4_api_routes(int *n) {
    *n = (int)(sizeof routes / sizeof *routes);
    return routes;
}
