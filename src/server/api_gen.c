/* api_gen.c -- one request's generation: the engine's on_token callback (on the scheduler thread)
 * turns ids into text, ends the request at a stop string, splits chat output into reasoning,
 * content and tool calls (g4_chat_stream), and either streams chat.completion.chunk /
 * text_completion events or collects them for one response object.
 *
 * Text flows: ids -> g4_tok_stream (never half a UTF-8 character) -> gen (all the raw text;
 * the last max_stop-1 bytes are held back until no stop string can start in them) -> the chat
 * stream parser (chat) or straight to content (completions) -> content/reasoning buffers, whose
 * unsent tails are sent as deltas after each token.  The model's stop ids end the text without
 * being part of it.
 *
 * Logprobs: each token's entry (its text, bytes, logprob, alternatives) waits in lp_pending and rides
 * on the next chunk sent (streaming) or goes into the response's choice.logprobs.  json_object: the
 * engine's constrain hook masks the logits with the JSON recogniser (json_constrain.h) fed with every
 * token taken; the text then bypasses the chat parser.  tool_choice required/named: the reply is
 * forced to start with the call marker (and the name); then the name is constrained to one of the
 * tools' names, the arguments to a JSON object (which the call parser reads; the model's own
 * <|"|> quoting is not offered there yet), and the call is closed with <tool_call|>, which ends
 * the reply.
 */
#include "api.h"

#include <math.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

typedef struct {
    char *s;
    size_t n, cap, sent;
} sbuf;

typedef struct {
    g4_http_req *r;
    g4_api *api;
    const g4_api_request *q;
    const g4_model *m;
    g4_tok_stream ts;
    char *tsbuf;
    g4_chat_stream *cs;
    sbuf gen;          /* raw text; gen.sent = bytes passed on */
    size_t max_stop;
    sbuf content, reasoning;
    cJSON *calls;      /* tool calls (non-streaming) */
    int n_calls;
    const g4_vocab_pieces *pieces;
    g4_jsonc jc;       /* json_object: the text so far */
    cJSON *lp_pending; /* logprob entries not sent yet (chat: list of objects; completions: see lp_add) */
    cJSON *lp_tokens, *lp_values, *lp_tops, *lp_offsets; /* completions' four parallel lists */
    size_t text_off;   /* completions: bytes of text before the next token */
    int started, done, stop_hit, finished, oom;
    int max_tokens;
    int n_tok;         /* tokens seen by on_token */
    int n_forced;
    int call_phase;    /* tool_choice: CALL_* */
    char call_name[160];
    size_t n_call_name;
    int call_end_id;   /* <tool_call|> */
    char id[48];
    long created;
} gen;

static void sb_add(gen *g, sbuf *b, const char *s, size_t n) {
    if (b->n + n + 1 > b->cap) {
        size_t cap = G4_MAX(b->n + n + 1, 2 * b->cap + 64);
        char *p = g4_realloc(b->s, cap);
        if (!p) { g->oom = g->done = 1; return; }
        b->s = p, b->cap = cap;
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = 0;
}

/* Bytes of s[0..n) up to the last complete UTF-8 character. */
static size_t utf8_whole(const char *s, size_t n) {
    size_t i = n, k = 0;
    while (i > 0 && k < 3 && ((unsigned char)s[i - 1] & 0xC0) == 0x80) i--, k++;
    if (i == 0) return n;
    const unsigned char c = (unsigned char)s[i - 1];
    const size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    return n - (i - 1) < need ? i - 1 : n;
}

static void rand_hex(char *out, int n) {
    unsigned char b[32];
    if (getrandom(b, sizeof b, GRND_NONBLOCK) != (ssize_t)sizeof b)
        for (size_t i = 0; i < sizeof b; i++) b[i] = (unsigned char)(rand() ^ (int)clock());
    for (int i = 0; i < n; i++) out[i] = "0123456789abcdef"[b[i % 32] >> (i & 1 ? 0 : 4) & 15];
    out[n] = 0;
}

/* ---- logprobs ---- */

/* A token's text as a JSON string (invalid UTF-8 -> U+FFFD) and its bytes. */
static cJSON *token_string(const gen *g, int id, cJSON **bytes) {
    const g4_tokenizer *tok = g4_engine_tokenizer(g->api->engine);
    size_t n = 0;
    const char *p = NULL;
    if (g->pieces && g->pieces->len[id] != UINT32_MAX) p = g->pieces->bytes + g->pieces->off[id], n = g->pieces->len[id];
    else p = g4_tokenizer_token_text(tok, id, &n);
    if (!p) p = "", n = 0;
    char *s = g4_malloc(3 * n + 1);
    size_t k = 0;
    for (size_t i = 0; s && i < n;) { /* valid runs as they are, each invalid byte as U+FFFD */
        const size_t len = g4_utf8_check(p + i, n - i);
        memcpy(s + k, p + i, len), k += len, i += len;
        if (i < n) memcpy(s + k, "\xEF\xBF\xBD", 3), k += 3, i++;
    }
    if (s) s[k] = 0;
    cJSON *j = cJSON_CreateString(s ? s : "");
    g4_free(s);
    if (bytes) {
        *bytes = cJSON_CreateArray();
        for (size_t i = 0; i < n; i++) cJSON_AddItemToArray(*bytes, cJSON_CreateNumber((unsigned char)p[i]));
    }
    return j;
}

/* An OpenAI logprob value: -9999 stands for -inf (JSON has no infinities), as OpenAI does. */
static double lp_value(float x) { return isfinite(x) ? (double)x : -9999.0; }

/* Record token id's logprobs: chat -> {token, logprob, bytes, top_logprobs: [...]} in lp_pending;
 * completions -> tokens / token_logprobs / top_logprobs ({text: logprob}) / text_offset. */
static void lp_add(gen *g, int id, const g4_token_logprobs *lp, size_t text_len) {
    cJSON *bytes;
    if (g->q->chat) {
        cJSON *e = cJSON_CreateObject(), *tops = cJSON_CreateArray();
        cJSON_AddItemToObject(e, "token", token_string(g, id, &bytes));
        cJSON_AddNumberToObject(e, "logprob", lp_value(lp->logprob));
        cJSON_AddItemToObject(e, "bytes", bytes);
        for (int k = 0; k < lp->n_top; k++) {
            cJSON *t = cJSON_CreateObject();
            cJSON_AddItemToObject(t, "token", token_string(g, lp->top_ids[k], &bytes));
            cJSON_AddNumberToObject(t, "logprob", lp_value(lp->top_logprobs[k]));
            cJSON_AddItemToObject(t, "bytes", bytes);
            cJSON_AddItemToArray(tops, t);
        }
        cJSON_AddItemToObject(e, "top_logprobs", tops);
        cJSON_AddItemToArray(g->lp_pending, e);
        return;
    }
    cJSON_AddItemToArray(g->lp_tokens, token_string(g, id, NULL));
    cJSON_AddItemToArray(g->lp_values, cJSON_CreateNumber(lp_value(lp->logprob)));
    cJSON *tops = cJSON_CreateObject();
    for (int k = 0; k < lp->n_top; k++) {
        cJSON *name = token_string(g, lp->top_ids[k], NULL);
        if (!cJSON_GetObjectItemCaseSensitive(tops, name->valuestring))
            cJSON_AddNumberToObject(tops, name->valuestring, lp_value(lp->top_logprobs[k]));
        cJSON_Delete(name);
    }
    cJSON_AddItemToArray(g->lp_tops, tops);
    cJSON_AddItemToArray(g->lp_offsets, cJSON_CreateNumber((double)g->text_off));
    g->text_off += text_len;
}

static void lp_lists_free(gen *g) {
    cJSON *const l[] = {g->lp_pending, g->lp_tokens, g->lp_values, g->lp_tops, g->lp_offsets};
    for (size_t i = 0; i < sizeof l / sizeof *l; i++) cJSON_Delete(l[i]);
    g->lp_pending = g->lp_tokens = g->lp_values = g->lp_tops = g->lp_offsets = NULL;
}

/* Fresh pending lists (after lp_take handed the old ones to a response); 0 when out of memory. */
static int lp_lists_new(gen *g) {
    g->lp_pending = cJSON_CreateArray();
    g->lp_tokens = cJSON_CreateArray(), g->lp_values = cJSON_CreateArray();
    g->lp_tops = cJSON_CreateArray(), g->lp_offsets = cJSON_CreateArray();
    return g->lp_pending && g->lp_tokens && g->lp_values && g->lp_tops && g->lp_offsets;
}

/* The logprobs object for a choice, taking what is pending (null when logprobs are off). */
static cJSON *lp_take(gen *g) {
    if (!g->q->logprobs) return cJSON_CreateNull();
    cJSON *o = cJSON_CreateObject();
    if (g->q->chat) {
        cJSON_AddItemToObject(o, "content", g->lp_pending);
        cJSON_AddNullToObject(o, "refusal");
        g->lp_pending = NULL;
    } else {
        cJSON_AddItemToObject(o, "tokens", g->lp_tokens);
        cJSON_AddItemToObject(o, "token_logprobs", g->lp_values);
        cJSON_AddItemToObject(o, "top_logprobs", g->lp_tops);
        cJSON_AddItemToObject(o, "text_offset", g->lp_offsets);
        g->lp_tokens = g->lp_values = g->lp_tops = g->lp_offsets = NULL;
    }
    lp_lists_free(g);
    if (!lp_lists_new(g)) g->oom = g->done = 1;
    return o;
}

/* ---- chunks ---- */

static cJSON *chunk_new(gen *g, cJSON **choice) {
    cJSON *j = cJSON_CreateObject(), *ch;
    cJSON_AddStringToObject(j, "id", g->id);
    cJSON_AddStringToObject(j, "object", g->q->chat ? "chat.completion.chunk" : "text_completion");
    cJSON_AddNumberToObject(j, "created", (double)g->created);
    cJSON_AddStringToObject(j, "model", g->api->model_id);
    ch = cJSON_AddArrayToObject(j, "choices");
    if (g->q->include_usage) cJSON_AddNullToObject(j, "usage");
    *choice = cJSON_CreateObject();
    cJSON_AddItemToArray(ch, *choice);
    cJSON_AddNumberToObject(*choice, "index", 0);
    return j;
}

static void send_chunk(gen *g, cJSON *j) {
    if (!j || g4_http_sse_send_json(g->r, j)) g->done = 1;
    cJSON_Delete(j);
}

/* A delta chunk: key = role | content | reasoning_content | tool_calls (value given) | text. */
static void send_delta(gen *g, const char *key, const char *s, size_t n, cJSON *value) {
    cJSON *choice, *j = chunk_new(g, &choice);
    if (g->q->chat) {
        cJSON *d = cJSON_AddObjectToObject(choice, "delta");
        if (value) cJSON_AddItemToObject(d, key, value);
        else {
            char *t = g4_strndup(s, n);
            cJSON_AddStringToObject(d, key, t ? t : "");
            g4_free(t);
        }
    } else {
        char *t = g4_strndup(s, n);
        cJSON_AddStringToObject(choice, "text", t ? t : "");
        g4_free(t);
    }
    cJSON_AddItemToObject(choice, "logprobs", strcmp(key, "role") ? lp_take(g) : cJSON_CreateNull());
    cJSON_AddNullToObject(choice, "finish_reason");
    send_chunk(g, j);
}

static void flush_deltas(gen *g, int all) {
    if (!g->q->stream || !g->started) return;
    sbuf *bs[2] = {&g->reasoning, &g->content};
    const char *keys[2] = {"reasoning_content", "content"};
    for (int i = 0; i < 2; i++) {
        if (bs[i]->n == bs[i]->sent) continue;
        size_t end = all ? bs[i]->n : bs[i]->sent + utf8_whole(bs[i]->s + bs[i]->sent, bs[i]->n - bs[i]->sent);
        if (end > bs[i]->sent) send_delta(g, keys[i], bs[i]->s + bs[i]->sent, end - bs[i]->sent, NULL);
        bs[i]->sent = end;
    }
}

/* ---- text ---- */

static void on_event(void *user, const g4_chat_event *ev) {
    gen *g = user;
    if (ev->type == G4_CHAT_EV_CONTENT) sb_add(g, &g->content, ev->text, ev->len);
    else if (ev->type == G4_CHAT_EV_THOUGHT) sb_add(g, &g->reasoning, ev->text, ev->len);
    else if (ev->type == G4_CHAT_EV_STOP) g->done = 1;
    else if (ev->type == G4_CHAT_EV_TOOL_CALL) {
        char *args = NULL, err[G4_ERR_LEN], cid[32] = "call_";
        rand_hex(cid + 5, 24);
        if (g4_chat_json_print(ev->call->arguments, &args, err)) { g->oom = g->done = 1; return; }
        cJSON *c = cJSON_CreateObject(), *f;
        cJSON_AddNumberToObject(c, "index", g->n_calls++);
        cJSON_AddStringToObject(c, "id", cid);
        cJSON_AddStringToObject(c, "type", "function");
        f = cJSON_AddObjectToObject(c, "function");
        cJSON_AddStringToObject(f, "name", ev->call->name);
        cJSON_AddStringToObject(f, "arguments", args);
        g4_free(args);
        if (g->q->stream) {
            flush_deltas(g, 1); /* what came before the call goes first */
            cJSON *a = cJSON_CreateArray();
            cJSON_AddItemToArray(a, c);
            send_delta(g, "tool_calls", NULL, 0, a);
        } else cJSON_AddItemToArray(g->calls, c);
    }
}

static void pass_on(gen *g, const char *s, size_t n) {
    if (!n) return;
    char err[G4_ERR_LEN];
    if (g->cs && g4_chat_stream_feed(g->cs, s, n, err)) { /* malformed markup: keep it as text */
        g4_chat_stream_free(g->cs);
        g->cs = NULL;
    } else if (g->cs) return;
    sb_add(g, &g->content, s, n);
}

/* New raw text: end at the first stop string, else pass on all that no stop string can reach. */
static void text_in(gen *g, const char *s, size_t n, int final) {
    sb_add(g, &g->gen, s, n);
    if (g->oom) return;
    const size_t from = g->gen.sent > g->max_stop ? g->gen.sent - g->max_stop : 0;
    const char *hit = NULL;
    for (int i = 0; i < g->q->n_stop; i++) {
        const char *h = memmem(g->gen.s + from, g->gen.n - from, g->q->stop[i], strlen(g->q->stop[i]));
        if (h && (size_t)(h - g->gen.s) >= g->gen.sent && (!hit || h < hit)) hit = h;
    }
    if (hit) {
        pass_on(g, g->gen.s + g->gen.sent, (size_t)(hit - g->gen.s) - g->gen.sent);
        g->gen.sent = g->gen.n;
        g->stop_hit = g->done = 1;
        return;
    }
    size_t keep = final || !g->max_stop ? 0 : g->max_stop - 1;
    size_t safe = g->gen.n > keep ? g->gen.n - keep : 0;
    if (safe > g->gen.sent) {
        safe = g->gen.sent + utf8_whole(g->gen.s + g->gen.sent, safe - g->gen.sent);
        pass_on(g, g->gen.s + g->gen.sent, safe - g->gen.sent);
        g->gen.sent = safe;
    }
}

/* End of the text: flush what the detokenizer, the stop-string hold-back and the parser keep. */
static void text_end(gen *g) {
    if (g->finished) return;
    g->finished = 1;
    char err[G4_ERR_LEN];
    if (!g->stop_hit) {
        size_t n = g4_tok_stream_flush(&g->ts, g->tsbuf);
        text_in(g, g->tsbuf, n, 1);
    }
    if (g->cs) g4_chat_stream_finish(g->cs, err); /* an unfinished call is dropped */
}

enum { CALL_NONE, CALL_NAME, CALL_ARGS, CALL_CLOSED };

/* tool_choice, after the forced "<|tool_call>call:": may name+piece still become "NAME{" of a tool? */
static int name_ok(const gen *g, const char *p, size_t n) {
    const cJSON *t;
    cJSON_ArrayForEach(t, g->q->conv->tools) {
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(t, "function");
        const cJSON *nm = f ? cJSON_GetObjectItemCaseSensitive(f, "name") : NULL;
        if (!nm || !cJSON_IsString(nm)) continue;
        const size_t len = strlen(nm->valuestring);
        if (g->n_call_name + n > len + 1) continue;
        int ok = 1;
        for (size_t i = 0; i < g->n_call_name + n && ok; i++) {
            const char want = i < len ? nm->valuestring[i] : '{';
            ok = (i < g->n_call_name ? g->call_name[i] : p[i - g->n_call_name]) == want;
        }
        if (ok) return 1;
    }
    return 0;
}

static void constrain(void *ud, float *logits, int n_gen) {
    gen *g = ud;
    const g4_config *c = &g->m->cfg;
    if (g->call_phase == CALL_NAME) {
        for (int v = 0; v < g->pieces->n_vocab; v++) {
            const uint32_t len = g->pieces->len[v];
            if (logits[v] > -INFINITY && (len == UINT32_MAX || !len || !name_ok(g, g->pieces->bytes + g->pieces->off[v], len)))
                logits[v] = -INFINITY;
        }
    } else if (g->call_phase == CALL_ARGS) g4_jsonc_mask(&g->jc, g->pieces, &g->call_end_id, 1, g->max_tokens - n_gen, logits);
    else if (g->q->json) g4_jsonc_mask(&g->jc, g->pieces, c->eos_ids, c->n_eos, g->max_tokens - n_gen, logits);
}

/* tool_choice: follow the token through the call's phases. */
static void call_track(gen *g, int token) {
    if (++g->n_tok == g->n_forced) g->call_phase = g->q->tool_name ? CALL_ARGS : CALL_NAME;
    if (g->n_tok <= g->n_forced) return;
    const uint32_t len = g->pieces->len[token];
    const char *p = g->pieces->bytes + g->pieces->off[token];
    if (g->call_phase == CALL_NAME && len != UINT32_MAX && g->n_call_name + len < sizeof g->call_name) {
        memcpy(g->call_name + g->n_call_name, p, len);
        g->n_call_name += len;
        if (g->n_call_name && g->call_name[g->n_call_name - 1] == '{') g->call_phase = CALL_ARGS;
    } else if (g->call_phase == CALL_ARGS && len != UINT32_MAX) g4_jsonc_feed(&g->jc, p, len);
    else if (g->call_phase == CALL_ARGS && token == g->call_end_id) g->call_phase = CALL_CLOSED;
}

static int on_token(void *ud, int token, const g4_token_logprobs *lp) {
    gen *g = ud;
    if (g4_http_gone(g->r)) return 1;
    if (!g->started && g->q->stream) {
        g4_http_sse_begin(g->r);
        g->started = 1;
        if (g->q->chat) send_delta(g, "role", "assistant", 9, NULL);
    }
    if (g->done) return 1;
    if (!g->q->ignore_eos && g4_model_is_stop(g->m, token)) text_end(g);
    else {
        if (g->q->tool_required && g->pieces) call_track(g, token);
        if (g->q->json && g->pieces && g->pieces->len[token] != UINT32_MAX)
            g4_jsonc_feed(&g->jc, g->pieces->bytes + g->pieces->off[token], g->pieces->len[token]);
        const size_t n = g4_tok_stream_put(&g->ts, token, g->tsbuf);
        if (lp) lp_add(g, token, lp, n);
        text_in(g, g->tsbuf, n, 0);
        if (g->call_phase == CALL_CLOSED) g->done = 1; /* the required call is complete: the reply ends */
    }
    flush_deltas(g, 0);
    return g->done || g4_http_gone(g->r);
}

/* ---- the response ---- */

static void add_usage(cJSON *j, const g4_gen_result *res) {
    cJSON *u = cJSON_AddObjectToObject(j, "usage");
    cJSON_AddNumberToObject(u, "prompt_tokens", res->n_prompt);
    cJSON_AddNumberToObject(u, "completion_tokens", res->n_gen);
    cJSON_AddNumberToObject(u, "total_tokens", res->n_prompt + res->n_gen);
    cJSON *d = cJSON_AddObjectToObject(u, "prompt_tokens_details");
    cJSON_AddNumberToObject(d, "cached_tokens", res->n_cached);
}

static void finish_stream(gen *g, const char *finish, const g4_gen_result *res) {
    flush_deltas(g, 1);
    cJSON *choice, *j = chunk_new(g, &choice);
    if (g->q->chat) cJSON_AddObjectToObject(choice, "delta");
    else cJSON_AddStringToObject(choice, "text", "");
    cJSON_AddItemToObject(choice, "logprobs", lp_take(g));
    cJSON_AddStringToObject(choice, "finish_reason", finish);
    send_chunk(g, j);
    if (g->q->include_usage) {
        j = chunk_new(g, &choice);
        cJSON_DeleteItemFromObject(j, "usage");
        cJSON_DeleteItemFromArray(cJSON_GetObjectItem(j, "choices"), 0);
        add_usage(j, res);
        send_chunk(g, j);
    }
    g4_http_sse_send(g->r, "[DONE]", 6);
}

static void reply_full(gen *g, const char *finish, const g4_gen_result *res) {
    cJSON *choice, *j = chunk_new(g, &choice);
    cJSON_ReplaceItemInObject(j, "object", cJSON_CreateString(g->q->chat ? "chat.completion" : "text_completion"));
    cJSON_DeleteItemFromObject(j, "usage");
    if (g->q->chat) {
        cJSON *msg = cJSON_AddObjectToObject(choice, "message");
        cJSON_AddStringToObject(msg, "role", "assistant");
        if (g->content.n || !g->n_calls) cJSON_AddStringToObject(msg, "content", g->content.s ? g->content.s : "");
        else cJSON_AddNullToObject(msg, "content");
        if (g->reasoning.n) cJSON_AddStringToObject(msg, "reasoning_content", g->reasoning.s);
        if (g->n_calls) {
            cJSON_AddItemToObject(msg, "tool_calls", g->calls);
            g->calls = NULL;
        }
    } else cJSON_AddStringToObject(choice, "text", g->content.s ? g->content.s : "");
    cJSON_AddItemToObject(choice, "logprobs", lp_take(g));
    cJSON_AddStringToObject(choice, "finish_reason", finish);
    add_usage(j, res);
    g4_http_reply_json(g->r, 200, j);
    cJSON_Delete(j);
}

void g4_api_run(g4_http_req *r, g4_api *api, const g4_api_request *q, const int *ids, int n_ids,
                const g4_mm_item *items, int n_items) {
    char err[G4_ERR_LEN];
    const g4_tokenizer *tok = g4_engine_tokenizer(api->engine);
    gen g = {.r = r, .api = api, .q = q, .m = g4_engine_model(api->engine), .created = (long)time(NULL)};
    snprintf(g.id, sizeof g.id, "%s", q->chat ? "chatcmpl-" : "cmpl-");
    rand_hex(g.id + strlen(g.id), 24);
    for (int i = 0; i < q->n_stop; i++) g.max_stop = G4_MAX(g.max_stop, strlen(q->stop[i]));
    g4_status st = G4_OK;
    if (tok) { /* chat parsing needs the channel and tool markers: keep special tokens then */
        g.tsbuf = g4_malloc(g4_tok_stream_bufsize(tok) + 1);
        if (!g.tsbuf) st = g4_errf(err, G4_ENOMEM, "out of memory");
        else g4_tok_stream_init(&g.ts, tok, q->chat ? 0 : G4_TOK_SKIP_CONTROL);
    }
    if (!st && q->chat && !q->json) st = g4_chat_stream_new(&g.cs, on_event, &g, err);
    const int lists = lp_lists_new(&g);
    if (!st && (!(g.calls = cJSON_CreateArray()) || !lists)) st = g4_errf(err, G4_ENOMEM, "out of memory");
    g.pieces = g4_engine_pieces(api->engine);
    g4_jsonc_init(&g.jc);
    if (q->tool_required) g4_jsonc_init_in_object(&g.jc);
    const int room = g4_engine_n_ctx(api->engine) - n_ids;
    g.max_tokens = q->max_tokens ? G4_MIN(q->max_tokens, room) : room;
    int *forced = NULL, n_forced = 0;
    if (!st && q->tool_required && tok) { /* the call marker, and the name when one is asked for */
        char pre[256];
        snprintf(pre, sizeof pre, "<|tool_call>call:%s%s", q->tool_name ? q->tool_name : "", q->tool_name ? "{" : "");
        st = g4_tokenizer_encode(tok, pre, strlen(pre), &forced, &n_forced, 1, err);
        if (!st && n_forced >= g.max_tokens)
            st = g4_errf(err, G4_EINVAL, "max_tokens %d is too few for the required tool call", g.max_tokens);
        g.n_forced = n_forced;
        if (!st && ((g.call_end_id = g4_tok_find(tok, "<tool_call|>")) < 0 || !n_forced || !g.pieces))
            st = g4_errf(err, G4_EINVAL, "the model's vocabulary has no tool-call markers");
    }
    g4_gen_req gr = {.ids = ids, .n_ids = n_ids, .items = items, .n_items = n_items, .sampling = q->sp,
                     .max_tokens = g.max_tokens, .ignore_eos = q->ignore_eos, .on_token = on_token, .ud = &g,
                     .logprobs = q->logprobs, .top_logprobs = q->top_logprobs, .forced = forced, .n_forced = n_forced,
                     .constrain = (q->json || q->tool_required) && g.pieces ? constrain : NULL};
    g4_gen_result res = {0};
    if (!st && !tok) st = g4_errf(err, G4_EINVAL, "the model has no tokenizer");
    if (!st) st = g4_engine_generate(api->engine, &gr, &res, err);
    if (!st) text_end(&g);
    if (!st && g.oom) st = g4_errf(err, G4_ENOMEM, "out of memory");
    const char *finish = g.stop_hit ? "stop" : g.n_calls ? "tool_calls"
                       : res.finish == G4_FINISH_LENGTH && !g.done ? "length" : "stop";
    if (g4_http_gone(r)) {
        /* nobody to tell */
    } else if (st && g.started) { /* the stream is open: say it in an event */
        cJSON *j = cJSON_CreateObject(), *e = cJSON_AddObjectToObject(j, "error");
        cJSON_AddStringToObject(e, "message", err);
        cJSON_AddStringToObject(e, "type", "server_error");
        g4_http_sse_send_json(r, j);
        cJSON_Delete(j);
    } else if (st == G4_EINVAL || st == G4_EBUSY || st == G4_ENOMEM) g4_api_reply_status(r, st, NULL, err);
    else if (st) g4_http_error(r, 500, NULL, NULL, NULL, "%s", err);
    else if (q->stream) {
        if (!g.started) { /* no token at all */
            g4_http_sse_begin(r);
            g.started = 1;
            if (q->chat) send_delta(&g, "role", "assistant", 9, NULL);
        }
        finish_stream(&g, finish, &res);
    } else reply_full(&g, finish, &res);
    g4_chat_stream_free(g.cs);
    g4_free(g.tsbuf);
    g4_free(g.gen.s);
    g4_free(g.content.s);
    g4_free(g.reasoning.s);
    cJSON_Delete(g.calls);
    lp_lists_free(&g);
    g4_free(forced);
}
