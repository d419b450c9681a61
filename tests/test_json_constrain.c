/* test_json_constrain.c -- the JSON-object recogniser behind response_format json_object.
 *  1. 1,518 texts (random objects in several styles and byte mutations of them) labelled by Python's
 *     json.loads (tools/make_jsonc_fixtures.py): accepted-and-complete exactly when Python parses a dict;
 *  2. every prefix of every accepted text, closed with g4_jsonc_closing, is a complete object that
 *     cJSON parses too (except texts with \uD800-\uDFFF escapes, which cJSON refuses unpaired);
 *  3. the vocabulary mask on a small hand-made vocabulary: random walks under a shrinking token budget
 *     always end in a complete object that parses, within the budget; stop ids only at the end;
 *  4. nesting and whitespace caps.
 */
#include <math.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "../src/text/json_constrain.h"
#include "check.h"

/* cJSON refuses lone surrogate escapes, which json.loads (the reference) takes: skip those texts */
static int lone_surrogate(const char *s, size_t n) {
    for (size_t i = 0; i + 3 < n; i++)
        if (s[i] == '\\' && (s[i + 1] == 'u') && (s[i + 2] == 'd' || s[i + 2] == 'D') && strchr("89abcdefABCDEF", s[i + 3]))
            return 1;
    return 0;
}

static int parses(const char *s, size_t n) {
    if (lone_surrogate(s, n)) return 1;
    char *z = malloc(n + 1);
    memcpy(z, s, n);
    z[n] = 0;
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithOpts(z, &end, 1);
    int ok = j && cJSON_IsObject(j) && (size_t)(end - z) == n;
    cJSON_Delete(j);
    free(z);
    return ok;
}

static int hexval(int c) { return c <= '9' ? c - '0' : c - 'a' + 10; }

static void fixture_cases(void) {
    size_t len;
    char *all = check_slurp("tests/data/jsonc/cases.jsonl", &len);
    if (!all) { CHECKF(0, "tests/data/jsonc/cases.jsonl missing"); return; }
    int n = 0, agree = 0, closed_ok = 0, closed = 0;
    char *buf = malloc(len), *tmp = malloc(len + G4_JSONC_MAX_CLOSE);
    for (char *line = strtok(all, "\n"); line; line = strtok(NULL, "\n")) {
        const char *h = strstr(line, "\"hex\": \"") + 8;
        size_t nb = 0;
        for (; *h != '"'; h += 2) buf[nb++] = (char)(hexval(h[0]) * 16 + hexval(h[1]));
        const int want = strstr(line, "\"object\": 1") != NULL;
        g4_jsonc s;
        g4_jsonc_init(&s);
        const int got = g4_jsonc_feed(&s, buf, nb) && g4_jsonc_done(&s);
        n++;
        agree += got == want;
        if (got != want) printf("  disagree with Python (want %d): %.*s\n", want, (int)nb, buf);
        /* prefixes the recogniser takes, closed */
        g4_jsonc_init(&s);
        for (size_t i = 0; i <= nb; i++) {
            char c[G4_JSONC_MAX_CLOSE];
            const size_t nc = g4_jsonc_closing(&s, c);
            memcpy(tmp, buf, i);
            memcpy(tmp + i, c, nc);
            g4_jsonc t = s;
            const int ok = g4_jsonc_feed(&t, c, nc) && g4_jsonc_done(&t) && parses(tmp, i + nc);
            closed++;
            closed_ok += ok;
            if (!ok) printf("  bad closing %.*s + %.*s\n", (int)i, buf, (int)nc, c);
            if (i == nb || !g4_jsonc_feed(&s, buf + i, 1)) break;
        }
    }
    CHECKF(agree == n, "%d of %d texts as Python's json.loads labels them", agree, n);
    CHECKF(closed_ok == closed && closed > 10000, "%d of %d closed prefixes complete", closed_ok, closed);
    printf("%d texts: %d as json.loads says; %d prefixes closed into objects\n", n, agree, closed_ok);
    free(buf);
    free(tmp);
    free(all);
}

/* a small vocabulary: single bytes of JSON, some longer pieces, a special token and a stop id */
static const char *const VOCAB[] = {"<stop>", "{", "}", "[", "]", "\"", ":", ",", "0", "1", "7", ".", "e", "-", "+",
                                    " ", "\n", "a", "b", "r", "s", "u", "l", "t", "f", "n", "\\", "{\"", "\":", "\"}",
                                    "key", "\": \"", "true", "null", "12.5", "  ", "\xc3", "\xa9", "\x80", "é", "<special>", "x"};
#define NV ((int)(sizeof VOCAB / sizeof *VOCAB))

static void mask_walks(void) {
    g4_vocab_pieces vp = {.n_vocab = NV};
    uint32_t off[NV], len[NV];
    char bytes[512];
    size_t at = 0;
    for (int v = 0; v < NV; v++) {
        const size_t n = strlen(VOCAB[v]);
        off[v] = (uint32_t)at;
        len[v] = v == 0 || v == NV - 2 ? UINT32_MAX : (uint32_t)n; /* the stop and the special have no text */
        memcpy(bytes + at, VOCAB[v], n), at += n;
    }
    vp.off = off, vp.len = len, vp.bytes = bytes;
    const int stop = 0;
    float lg[NV];
    g4_jsonc s;
    /* at the start: only '{', '{"' and whitespace */
    g4_jsonc_init(&s);
    for (int v = 0; v < NV; v++) lg[v] = 1;
    g4_jsonc_mask(&s, &vp, &stop, 1, 0, lg);
    int allowed = 0;
    for (int v = 0; v < NV; v++) allowed += lg[v] > -INFINITY;
    CHECKF(allowed == 5 && lg[1] == 1 && lg[27] == 1 && lg[0] == -INFINITY, "start allows %d", allowed);
    /* done: only the stop, even when its logit was -inf */
    g4_jsonc_feed(&s, "{}", 2);
    for (int v = 0; v < NV; v++) lg[v] = 1;
    lg[0] = -INFINITY;
    g4_jsonc_mask(&s, &vp, &stop, 1, 0, lg);
    allowed = 0;
    for (int v = 0; v < NV; v++) allowed += lg[v] > -INFINITY;
    CHECK(allowed == 1 && lg[0] == 0);
    /* random walks with a budget: always a complete object within it */
    uint64_t x = 88172645463325252ull;
    int walks = 0, good = 0;
    for (int w = 0; w < 3000; w++) {
        const int budget = 6 + w % 40;
        char out[4096];
        size_t n = 0;
        g4_jsonc_init(&s);
        int ended = 0, used = 0;
        for (; used < budget; used++) {
            for (int v = 0; v < NV; v++) x ^= x << 13, x ^= x >> 7, x ^= x << 17, lg[v] = (float)(x % 1000) / 100.0f;
            g4_jsonc_mask(&s, &vp, &stop, 1, budget - used, lg);
            int best = -1;
            for (int v = 0; v < NV; v++) if (lg[v] > -INFINITY && (best < 0 || lg[v] > lg[best])) best = v;
            if (best < 0) break;
            if (best == stop) { ended = 1; used++; break; }
            memcpy(out + n, VOCAB[best], strlen(VOCAB[best])), n += strlen(VOCAB[best]);
            if (!g4_jsonc_feed(&s, VOCAB[best], strlen(VOCAB[best]))) break;
        }
        walks++;
        const int ok = ended && used <= budget && g4_jsonc_done(&s) && parses(out, n);
        good += ok;
        if (!ok) printf("  walk %d (budget %d): %.*s\n", w, budget, (int)n, out);
    }
    CHECKF(good == walks, "%d of %d budgeted walks end in a complete object", good, walks);
    printf("%d random walks under budgets of 6..45 tokens: %d complete, parsing objects\n", walks, good);
}

static void caps(void) {
    g4_jsonc s;
    g4_jsonc_init(&s);
    int ok = g4_jsonc_feed(&s, "{", 1);
    for (int i = 1; i < G4_JSONC_MAX_DEPTH; i++) ok &= g4_jsonc_feed(&s, "\"a\":{", 5);
    CHECK(ok && s.depth == G4_JSONC_MAX_DEPTH);
    g4_jsonc t = s;
    CHECK(!g4_jsonc_feed(&t, "\"a\":{", 5));
    char c[G4_JSONC_MAX_CLOSE];
    const size_t nc = g4_jsonc_closing(&s, c);
    CHECK(nc == G4_JSONC_MAX_DEPTH && g4_jsonc_feed(&s, c, nc) && g4_jsonc_done(&s));
    g4_jsonc_init(&s);
    CHECK(g4_jsonc_feed(&s, "{                ", 17)); /* 16 spaces */
    CHECK(!g4_jsonc_feed(&s, " ", 1));
}

int main(void) {
    fixture_cases();
    mask_walks();
    caps();
    return check_done("test_json_constrain");
}
