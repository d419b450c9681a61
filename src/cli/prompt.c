/* prompt.c -- tokenizer loading and prompt building for the CLI (see prompt.h). */
#include "prompt.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "model/gguf.h"
#include "text/chat.h"

g4_status cli_load_tokenizer(const g4_model *m, g4_tokenizer **out, char *err) {
    return g4_tokenizer_load_model(m, out, err);
}

/* Gemma 3's chat format: a system prompt goes in front of the first user turn. */
static char *gemma3_chat(const char *text, const char *system) {
    const char *pre = "<bos><start_of_turn>user\n", *post = "<end_of_turn>\n<start_of_turn>model\n";
    size_t n = strlen(pre) + (system ? strlen(system) + 2 : 0) + strlen(text) + strlen(post) + 1;
    char *s = g4_malloc(n);
    if (s) snprintf(s, n, "%s%s%s%s%s", pre, system ? system : "", system ? "\n\n" : "", text, post);
    return s;
}

/* User markers for where media go, by g4_mm_kind, and the placeholders the template writes. */
static const char *const marker[3] = {"<image>", "<audio>", "<video>"};
static const char *const holder[3] = {"<|image|>", "<|audio|>", "<|video|>"};
static const g4_chat_part_type part_of[3] = {G4_CHAT_PART_IMAGE, G4_CHAT_PART_AUDIO, G4_CHAT_PART_VIDEO};
#define CLI_MAX_MARKED 256

/* Calls emit(kind or -1 for text, text, len) for the pieces of text: items without a marker first (the
 * first items of each kind), then the text with the rest at their markers; a video's attached sound
 * track right after it.  order[] gets the item indices in the order they are emitted. */
typedef g4_status (*piece_fn)(void *ud, int kind, const char *s, size_t n, char *err);
static g4_status split_media(const char *text, const cli_prompt_opts *o, piece_fn emit, void *ud, int *order, char *err) {
    int marked[3] = {0, 0, 0}, have[3] = {0, 0, 0};
    for (int i = 0; i < o->n_items; i++) have[o->items[i].kind] += !o->items[i].attached;
    for (int k = 0; k < 3; k++)
        for (const char *p = strstr(text, marker[k]); p; p = strstr(p + 1, marker[k])) marked[k]++;
    for (int k = 0; k < 3; k++)
        if (marked[k] > have[k])
            return g4_errf(err, G4_EINVAL, "prompt: %d %s marker(s) but %d such input(s)", marked[k], marker[k], have[k]);
    g4_status st = G4_OK;
    int n_order = 0;
#define EMIT_ITEM(idx)                                                                                \
    do {                                                                                              \
        const int i_ = (idx); /* evaluated once */                                                    \
        order[n_order++] = i_;                                                                        \
        st = emit(ud, o->items[i_].kind, NULL, 0, err);                                               \
        for (int a_ = i_ + 1; !st && a_ < o->n_items && o->items[a_].attached; a_++) {               \
            order[n_order++] = a_;                                                                    \
            st = emit(ud, o->items[a_].kind, NULL, 0, err);                                           \
        }                                                                                             \
    } while (0)
    int seen[3] = {0, 0, 0}, marker_item[3][CLI_MAX_MARKED], n_marker_item[3] = {0, 0, 0}, next_marked[3] = {0, 0, 0};
    for (int i = 0; i < o->n_items && !st; i++) {
        const int k = o->items[i].kind;
        if (o->items[i].attached) continue;
        if (seen[k]++ < have[k] - marked[k]) EMIT_ITEM(i);
        else if (n_marker_item[k] < CLI_MAX_MARKED) marker_item[k][n_marker_item[k]++] = i;
        else return g4_errf(err, G4_EINVAL, "prompt: more than %d %s markers", CLI_MAX_MARKED, marker[k]);
    }
    const char *p = text;
    while (!st) {
        const char *next = NULL;
        int kind = -1;
        for (int k = 0; k < 3; k++) {
            const char *q = strstr(p, marker[k]);
            if (q && (!next || q < next)) next = q, kind = k;
        }
        if (!next) break;
        if (next > p) st = emit(ud, -1, p, (size_t)(next - p), err);
        if (!st) EMIT_ITEM(marker_item[kind][next_marked[kind]++]);
        p = next + strlen(marker[kind]);
    }
    if (!st && *p) st = emit(ud, -1, p, strlen(p), err);
#undef EMIT_ITEM
    return st;
}

static g4_status emit_part(void *ud, int kind, const char *s, size_t n, char *err) {
    g4_chat *c = ud;
    if (kind >= 0) return g4_chat_add_part(c, part_of[kind], NULL, err);
    char *t = g4_malloc(n + 1);
    if (!t) return g4_errf(err, G4_ENOMEM, "prompt: out of memory");
    memcpy(t, s, n);
    t[n] = 0;
    g4_status st = g4_chat_add_part(c, G4_CHAT_PART_TEXT, t, err);
    g4_free(t);
    return st;
}

typedef struct { char *s; size_t n; } rawbuf;
static g4_status emit_raw(void *ud, int kind, const char *s, size_t n, char *err) {
    rawbuf *b = ud;
    const char *piece = kind >= 0 ? holder[kind] : s;
    const size_t len = kind >= 0 ? strlen(holder[kind]) : n;
    char *ns = g4_realloc(b->s, b->n + len + 1);
    if (!ns) return g4_errf(err, G4_ENOMEM, "prompt: out of memory");
    memcpy(ns + b->n, piece, len);
    b->s = ns;
    b->n += len;
    b->s[b->n] = 0;
    return G4_OK;
}

static g4_status gemma4_chat(const char *text, const cli_prompt_opts *o, int *order, char **out, char *err) {
    g4_chat *c;
    size_t len;
    g4_status st = g4_chat_new(&c, err);
    if (st) return st;
    c->add_generation_prompt = 1;
    c->enable_thinking = o->think;
    const cJSON *tool;
    cJSON_ArrayForEach(tool, o->tools) {
        if (!st) st = g4_chat_add_tool(c, tool, err);
    }
    if (!st && o->system) st = g4_chat_add(c, G4_CHAT_SYSTEM, o->system, err);
    if (!st && !o->n_items) st = g4_chat_add(c, G4_CHAT_USER, text, err);
    else if (!st) {
        st = g4_chat_add(c, G4_CHAT_USER, NULL, err);
        if (!st) st = split_media(text, o, emit_part, c, order, err);
    }
    if (!st) st = g4_chat_render(c, out, &len, err);
    g4_chat_free(c);
    return st;
}

g4_status cli_encode_prompt(const g4_model *m, const g4_tokenizer *t, const char *text, const cli_prompt_opts *o,
                            int **ids, int *n, char *err) {
    char *s = NULL;
    g4_status st = G4_OK;
    if (o->n_items && m->cfg.arch != G4_ARCH_GEMMA4)
        return g4_errf(err, G4_EUNSUPPORTED, "%s: images, audio and video need a Gemma 4 model", m->path);
    if (o->tools && (o->raw || m->cfg.arch != G4_ARCH_GEMMA4))
        return g4_errf(err, G4_EUNSUPPORTED, "%s", o->raw ? "--tools needs the chat format (not --raw)"
                                                           : "--tools: tool declarations need a Gemma 4 model");
    int order[4 * 64 + 64];
    if (o->n_items > (int)(sizeof order / sizeof *order)) return g4_errf(err, G4_EINVAL, "prompt: too many media inputs");
    for (int i = 0; i < o->n_items; i++) order[i] = i;
    if (o->raw) {
        rawbuf b = {0};
        st = emit_raw(&b, -1, "<bos>", 5, err);
        if (!st) st = split_media(text, o, emit_raw, &b, order, err);
        if (st) { g4_free(b.s); return st; }
        s = b.s;
    } else if (m->cfg.arch == G4_ARCH_GEMMA3) {
        s = gemma3_chat(text, o->system);
    } else {
        st = gemma4_chat(text, o, order, &s, err);
        if (st) return st;
    }
    if (o->n_items) { /* items in prompt order, for g4_mm_expand and g4_mm_eval */
        g4_mm_item tmp[sizeof order / sizeof *order];
        unsigned char used[sizeof order / sizeof *order] = {0};
        for (int i = 0; i < o->n_items; i++) {
            if (order[i] < 0 || order[i] >= o->n_items || used[order[i]]++) {
                g4_free(s);
                return g4_errf(err, G4_EINVAL, "prompt: media order is not a permutation (internal error)");
            }
            tmp[i] = o->items[order[i]];
        }
        memcpy(o->items, tmp, sizeof *tmp * (size_t)o->n_items);
    }
    if (!s) return g4_errf(err, G4_ENOMEM, "prompt: out of memory");
    if (o->n_items) { /* placeholders -> the processor's expansions */
        char *x;
        st = g4_mm_expand(s, o->items, o->n_items, &x, err);
        g4_free(s);
        if (st) return st;
        s = x;
    }
    st = g4_tokenizer_encode(t, s, strlen(s), ids, n, 1, err);
    g4_free(s);
    return st;
}
