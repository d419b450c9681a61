/* textout.c -- generated tokens to terminal text (see textout.h). */
#include "textout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void on_event(void *user, const g4_chat_event *ev) {
    text_out *o = user;
    switch (ev->type) {
    case G4_CHAT_EV_THOUGHT:
        if (!o->tty) return;
        if (!o->dim) { fputs("\033[2m", stdout); o->dim = 1; }
        fwrite(ev->text, 1, ev->len, stdout);
        break;
    case G4_CHAT_EV_CONTENT:
        if (o->dim) { fputs("\033[0m", stdout); o->dim = 0; }
        fwrite(ev->text, 1, ev->len, stdout);
        break;
    case G4_CHAT_EV_TOOL_CALL: {
        char *json = NULL, err[G4_ERR_LEN];
        if (o->dim) { fputs("\033[0m", stdout); o->dim = 0; }
        if (ev->call->arguments && !g4_chat_json_print(ev->call->arguments, &json, err))
            printf("\n[tool call] %s %s\n", ev->call->name, json);
        else printf("\n[tool call] %s\n", ev->call->name);
        free(json);
        break;
    }
    default:
        break;
    }
    fflush(stdout);
}

static void emit(text_out *o, const char *s, size_t n) {
    if (!n) return;
    char err[G4_ERR_LEN];
    if (o->cs) {
        if (g4_chat_stream_feed(o->cs, s, n, err)) { /* malformed markup: show it as it is */
            g4_chat_stream_free(o->cs);
            o->cs = NULL;
            fwrite(s, 1, n, stdout);
        }
    } else fwrite(s, 1, n, stdout);
    fflush(stdout);
}

g4_status text_out_init(text_out *o, const g4_tokenizer *t, int chat, const char **stops, int n_stops, char *err) {
    memset(o, 0, sizeof *o);
    o->tsbuf = malloc(g4_tok_stream_bufsize(t) + 1);
    if (!o->tsbuf) return g4_errf(err, G4_ENOMEM, "output: out of memory");
    g4_tok_stream_init(&o->ts, t, chat ? 0 : G4_TOK_SKIP_CONTROL); /* chat parsing needs the channel/tool markers */
    if (chat) {
        g4_status st = g4_chat_stream_new(&o->cs, on_event, o, err);
        if (st) { free(o->tsbuf); o->tsbuf = NULL; return st; }
    }
    o->tok = t;
    o->stops = stops;
    o->n_stops = n_stops;
    for (int i = 0; i < n_stops; i++) if (strlen(stops[i]) > o->max_stop) o->max_stop = strlen(stops[i]);
    o->tty = isatty(1);
    return G4_OK;
}

static int append(text_out *o, const char *s, size_t n) {
    if (o->len + n + 1 > o->cap) {
        size_t nc = (o->len + n + 1) * 2;
        char *g = realloc(o->gen, nc);
        if (!g) return 0;
        o->gen = g;
        o->cap = nc;
    }
    memcpy(o->gen + o->len, s, n);
    o->len += n;
    o->gen[o->len] = 0;
    return 1;
}

int text_out_put(text_out *o, int id) {
    size_t n = g4_tok_stream_put(&o->ts, id, o->tsbuf);
    if (!append(o, o->tsbuf, n)) return 1;
    /* a stop string anywhere in the text not yet shown ends the output just before it */
    size_t from = o->emitted > o->max_stop ? o->emitted - o->max_stop : 0;
    for (int i = 0; i < o->n_stops; i++) {
        char *hit = strstr(o->gen + from, o->stops[i]);
        if (hit && (size_t)(hit - o->gen) >= o->emitted) {
            emit(o, o->gen + o->emitted, (size_t)(hit - o->gen) - o->emitted);
            o->emitted = o->len;
            return 1;
        }
    }
    size_t keep = o->max_stop ? o->max_stop - 1 : 0, safe = o->len > keep ? o->len - keep : 0;
    if (safe > o->emitted) {
        emit(o, o->gen + o->emitted, safe - o->emitted);
        o->emitted = safe;
    }
    return 0;
}

void text_out_finish(text_out *o) {
    char err[G4_ERR_LEN];
    size_t n = g4_tok_stream_flush(&o->ts, o->tsbuf);
    if (n) append(o, o->tsbuf, n);
    if (o->emitted < o->len) emit(o, o->gen + o->emitted, o->len - o->emitted);
    o->emitted = o->len;
    if (o->cs) g4_chat_stream_finish(o->cs, err);
    if (o->dim) { fputs("\033[0m", stdout); o->dim = 0; }
    fflush(stdout);
}

void text_out_free(text_out *o) {
    g4_chat_stream_free(o->cs);
    free(o->tsbuf);
    free(o->gen);
    memset(o, 0, sizeof *o);
}
