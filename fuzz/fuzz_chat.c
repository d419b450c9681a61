/* fuzz_chat.c -- libFuzzer target for the chat format (src/text/chat*.c).
 *
 * The input is a request if its first byte is '{', else model output text:
 *   request: an OpenAI-style body -> g4_chat_from_json -> g4_chat_render, and the rendered
 *            prompt is then read back by the output parser;
 *   output:  g4_chat_parse_output, and the same text fed to a g4_chat_stream in chunks
 *            (sizes from the length) must give the same result.
 * Errors are fine; crashes, leaks, a failure without a message, or the stream
 * disagreeing with the one-shot parse are bugs (__builtin_trap).
 * Seeds: tests/data/chat (requests *.json, renderings *.txt) and fuzz/seeds-chat (model
 * replies).  tests/test_chat.c replays tests/data/chat/fuzz/ through chat_fuzz_one.
 */
#include "text/chat.h"
#include "text/chat_impl.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *p;
    size_t n;
} fz_buf;

static void fz_put(fz_buf *b, const char *s, size_t n) {
    char *p = realloc(b->p, b->n + n + 1);
    if (!p) abort();
    memcpy(p + b->n, s, n);
    b->p = p;
    b->n += n;
    b->p[b->n] = 0;
}

typedef struct {
    fz_buf content, thought;
    int n_calls, n_resps, stopped;
    g4_chat_stop stop;
} fz_events;

static void fz_on_event(void *user, const g4_chat_event *ev) {
    fz_events *e = user;
    if (e->stopped) __builtin_trap(); /* nothing may follow a stop */
    switch (ev->type) {
    case G4_CHAT_EV_CONTENT: fz_put(&e->content, ev->text, ev->len); break;
    case G4_CHAT_EV_THOUGHT: fz_put(&e->thought, ev->text, ev->len); break;
    case G4_CHAT_EV_TOOL_CALL:
        if (!ev->call->name || !cJSON_IsObject(ev->call->arguments)) __builtin_trap();
        e->n_calls++;
        break;
    case G4_CHAT_EV_TOOL_RESPONSE:
        if (!ev->response->name || !cJSON_IsObject(ev->response->response)) __builtin_trap();
        e->n_resps++;
        break;
    case G4_CHAT_EV_STOP:
        e->stopped = 1;
        e->stop = ev->stop;
        break;
    }
}

/* the one-shot result is the stream's text, stripped (NULL/"" when nothing is left) */
static int fz_same_trimmed(const char *got, const fz_buf *b) {
    size_t a, e;
    g4_chat_uni_strip(b->p ? b->p : "", b->n, &a, &e);
    if (!got) got = "";
    return strlen(got) == e - a && (e == a || !memcmp(got, b->p + a, e - a));
}

static void fz_output(const char *text, size_t len, unsigned chunk_seed) {
    char err[G4_ERR_LEN];
    err[0] = 0;
    g4_chat_output o;
    g4_status st = g4_chat_parse_output(text, len, &o, err);
    if (st != G4_OK && !err[0]) __builtin_trap();

    fz_events e;
    memset(&e, 0, sizeof e);
    g4_chat_stream *s;
    char err2[G4_ERR_LEN];
    if (g4_chat_stream_new(&s, fz_on_event, &e, err2) != G4_OK) abort();
    g4_status st2 = G4_OK;
    size_t i = 0, step = 1 + chunk_seed % 7;
    while (i < len && st2 == G4_OK) {
        size_t k = step < len - i ? step : len - i;
        st2 = g4_chat_stream_feed(s, text + i, k, err2);
        i += k;
        step = 1 + (step * 5 + chunk_seed) % 11;
    }
    if (st2 == G4_OK) st2 = g4_chat_stream_finish(s, err2);
    g4_chat_stream_free(s);

    if (st != st2) __builtin_trap();
    if (st == G4_OK) {
        if (o.n_calls != e.n_calls || o.n_responses != e.n_resps) __builtin_trap();
        if (o.stop != (e.stopped ? e.stop : G4_CHAT_STOP_NONE)) __builtin_trap();
        if (!fz_same_trimmed(o.content, &e.content) || !fz_same_trimmed(o.thought, &e.thought)) __builtin_trap();
        if (o.consumed > len) __builtin_trap();
        g4_chat_output_free(&o);
    }
    free(e.content.p);
    free(e.thought.p);
}

static int chat_fuzz_one(const uint8_t *data, size_t size) {
    const char *text = (const char *)data;
    unsigned seed = (unsigned)(size * 2654435761u >> 7);
    if (size > 0 && data[0] == '{') {
        char err[G4_ERR_LEN];
        err[0] = 0;
        g4_chat *c;
        g4_status st = g4_chat_from_json(&c, text, size, err);
        if (st != G4_OK) {
            if (!err[0]) __builtin_trap();
            return 0;
        }
        char *out;
        size_t n;
        err[0] = 0;
        st = g4_chat_render(c, &out, &n, err);
        if (st != G4_OK && !err[0]) __builtin_trap();
        if (st == G4_OK) {
            if (strlen(out) != n) __builtin_trap();
            fz_output(out, n, seed);
            g4_free(out);
        }
        g4_chat_free(c);
    } else {
        fz_output(text, size, seed);
    }
    return 0;
}

#ifndef CHAT_FUZZ_NO_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return chat_fuzz_one(data, size); }
#endif
