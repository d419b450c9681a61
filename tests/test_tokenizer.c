/* test_tokenizer.c -- the tokenizer against Hugging Face `tokenizers` and sentencepiece.
 *
 * Oracles (none of them produced by our code):
 *   ../shared/fixtures/tokenizer/gemma3-*: Google's Gemma 3 tokenizer.json and ids/decodes from
 *     HF tokenizers 0.23.2 (skipped with a message when ../shared is absent);
 *   tests/data/tokenizer/small*: a small Gemma-format tokenizer and its variants, ids and
 *     decodes from HF tokenizers 0.23.3, the same vocab as a "gemma4" GGUF, and a
 *     sentencepiece BPE model as a "llama" GGUF with sentencepiece's ids
 *     (tools/make_tokenizer_fixtures.py).
 * Also: error paths, invalid UTF-8, the streaming decoder, an allocation-failure sweep,
 * fuzz regressions, and throughput printouts (no timed assertions).
 */
#include "text/tokenizer.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "check.h"

#define DATA "tests/data/tokenizer/"
#define SHARED "../shared/fixtures/tokenizer/"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)sz + 1);
    if (b && fread(b, 1, (size_t)sz, f) != (size_t)sz) {
        free(b);
        b = NULL;
    }
    fclose(f);
    if (b) b[sz] = 0;
    if (n) *n = (size_t)sz;
    return b;
}

/* JSON string value of "key" in one JSONL line, decoded with \u0000 kept (cJSON would cut it). */
static char *jstr(const char *line, const char *key, size_t *n) {
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(line, pat);
    if (!p) return NULL;
    p += strlen(pat);
    while (*p == ' ') p++;
    if (*p++ != '"') return NULL;
    char *o = malloc(strlen(p) + 1);
    size_t k = 0;
    while (*p && *p != '"') {
        if (*p != '\\') {
            o[k++] = *p++;
            continue;
        }
        p++;
        char c = *p++;
        if (c == 'n') o[k++] = '\n';
        else if (c == 't') o[k++] = '\t';
        else if (c == 'r') o[k++] = '\r';
        else if (c == 'b') o[k++] = '\b';
        else if (c == 'f') o[k++] = '\f';
        else if (c == 'u') {
            unsigned cp = (unsigned)strtoul((char[5]){p[0], p[1], p[2], p[3], 0}, NULL, 16);
            p += 4;
            if (cp >= 0xD800 && cp < 0xDC00 && p[0] == '\\' && p[1] == 'u') {
                unsigned lo = (unsigned)strtoul((char[5]){p[2], p[3], p[4], p[5], 0}, NULL, 16);
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                p += 6;
            }
            if (cp < 0x80) o[k++] = (char)cp;
            else if (cp < 0x800) {
                o[k++] = (char)(0xC0 | cp >> 6);
                o[k++] = (char)(0x80 | (cp & 63));
            } else if (cp < 0x10000) {
                o[k++] = (char)(0xE0 | cp >> 12);
                o[k++] = (char)(0x80 | ((cp >> 6) & 63));
                o[k++] = (char)(0x80 | (cp & 63));
            } else {
                o[k++] = (char)(0xF0 | cp >> 18);
                o[k++] = (char)(0x80 | ((cp >> 12) & 63));
                o[k++] = (char)(0x80 | ((cp >> 6) & 63));
                o[k++] = (char)(0x80 | (cp & 63));
            }
        } else o[k++] = c; /* \" \\ \/ */
    }
    o[k] = 0;
    *n = k;
    return o;
}

static int ids_eq(const int *a, int na, const cJSON *arr) {
    if (!cJSON_IsArray(arr) || na != cJSON_GetArraySize(arr)) return 0;
    int i = 0;
    const cJSON *x;
    cJSON_ArrayForEach(x, arr) if (a[i++] != x->valueint) return 0;
    return 1;
}

static void print_ids(const char *what, const int *a, int n) {
    fprintf(stderr, "  %s:", what);
    for (int i = 0; i < n && i < 40; i++) fprintf(stderr, " %d", a[i]);
    fprintf(stderr, "%s\n", n > 40 ? " ..." : "");
}

static int utf8_ok(const char *s, size_t n) { /* strict, for checking stream chunks */
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        unsigned c = p[i];
        int l = c < 0x80 ? 1 : c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
        if (!l || i + (size_t)l > n) return 0;
        for (int k = 1; k < l; k++)
            if ((p[i + (size_t)k] & 0xC0) != 0x80) return 0;
        if ((c == 0xE0 && p[i + 1] < 0xA0) || (c == 0xED && p[i + 1] > 0x9F) || (c == 0xF0 && p[i + 1] < 0x90) ||
            (c == 0xF4 && p[i + 1] > 0x8F))
            return 0;
        i += (size_t)l;
    }
    return 1;
}

/* Streaming decode of ids; every chunk must be valid UTF-8.  Returns the joined text (malloc). */
static char *stream_all(const g4_tokenizer *t, const int *ids, int n, int skip, size_t *len, int *chunks_ok) {
    size_t cap = g4_tok_stream_bufsize(t), used = 0, total = 64;
    char *buf = malloc(cap), *out = malloc(total);
    g4_tok_stream s;
    g4_tok_stream_init(&s, t, skip);
    *chunks_ok = 1;
    for (int i = 0; i <= n; i++) {
        size_t k = i < n ? g4_tok_stream_put(&s, ids[i], buf) : g4_tok_stream_flush(&s, buf);
        if (k > cap) *chunks_ok = 0;
        if (!utf8_ok(buf, k)) *chunks_ok = 0;
        if (used + k + 1 > total) {
            while (used + k + 1 > total) total *= 2;
            out = realloc(out, total);
        }
        memcpy(out + used, buf, k);
        used += k;
    }
    out[used] = 0;
    free(buf);
    *len = used;
    return out;
}

/* Encode and compare; decode ids_want and compare with decoded (both HF). */
static int check_case(const g4_tokenizer *t, const char *label, const char *text, size_t tn, const cJSON *want,
                      int parse_special) {
    char err[G4_ERR_LEN];
    int *ids = NULL, n = 0;
    g4_status st = g4_tokenizer_encode(t, text, tn, &ids, &n, parse_special, err);
    int ok = st == G4_OK && ids_eq(ids, n, want);
    if (!ok) {
        fprintf(stderr, "%s: encode mismatch (parse_special %d) for \"%.60s\" (st %d %s)\n", label, parse_special, text,
                st, st ? err : "");
        print_ids("got", ids, n);
        char *w = cJSON_PrintUnformatted(want);
        fprintf(stderr, "  want: %.300s\n", w);
        free(w);
    }
    g4_free(ids);
    return ok;
}

static int *json_ids(const cJSON *arr, int *n) {
    *n = cJSON_GetArraySize(arr);
    int *v = malloc(sizeof(int) * (size_t)(*n + 1)), i = 0;
    const cJSON *x;
    cJSON_ArrayForEach(x, arr) v[i++] = x->valueint;
    return v;
}

static int check_decode(const g4_tokenizer *t, const char *label, const int *ids, int n, int skip, const char *want,
                        size_t wn) {
    char err[G4_ERR_LEN], *d = NULL;
    size_t dn = 0;
    g4_status st = g4_tokenizer_decode(t, ids, n, skip, &d, &dn, err);
    int ok = st == G4_OK && dn == wn && memcmp(d, want, wn) == 0 && d[dn] == 0;
    if (!ok) fprintf(stderr, "%s: decode(skip %d) got \"%.80s\" want \"%.80s\"\n", label, skip, d ? d : "", want);
    /* the stream gives the same text when HF's has no U+FFFD (valid byte runs) */
    int chunks_ok;
    size_t sn;
    char *s = stream_all(t, ids, n, skip, &sn, &chunks_ok);
    CHECKF(chunks_ok, "%s: stream chunk not valid UTF-8 or too long", label);
    if (!strstr(want, "\xEF\xBF\xBD")) CHECKF(sn == wn && memcmp(s, want, wn) == 0, "%s: stream \"%.80s\" want \"%.80s\"", label, s, want);
    free(s);
    g4_free(d);
    return ok;
}

/* ---- Gemma 3 tokenizer.json (shared fixture) -------------------------------------------------- */

static void test_gemma3(void) {
    FILE *f = fopen(SHARED "gemma3-cases.jsonl", "r");
    if (!f) {
        check_skip("../shared/fixtures/tokenizer absent: Gemma 3 tokenizer.json cases not run");
        return;
    }
    char err[G4_ERR_LEN];
    g4_tokenizer *t = NULL;
    double t0 = now();
    g4_status st = g4_tokenizer_load_hf(&t, SHARED "gemma3-tokenizer.json", err);
    double dt = now() - t0;
    CHECKF(st == G4_OK, "%s", err);
    if (st) {
        fclose(f);
        return;
    }
    printf("gemma3 tokenizer.json (33 MB): loaded in %.3f s\n", dt);
    /* values from HF: get_vocab_size(with_added_tokens=True), token_to_id */
    CHECK(g4_tokenizer_n_vocab(t) == 262145);
    CHECK(g4_tok_find(t, "<bos>") == 2 && g4_tok_find(t, "<start_of_turn>") == 105 && g4_tok_find(t, "<end_of_turn>") == 106);
    CHECK(g4_tok_find(t, "<image_soft_token>") == 262144 && g4_tok_find(t, "\n") == 107 && g4_tok_find(t, "<0x0A>") == 248);
    CHECK(g4_tok_find(t, "no such token here") == -1);
    CHECK(g4_tokenizer_is_special(t, 2) && !g4_tokenizer_is_special(t, 107) && !g4_tokenizer_is_special(t, 6));
    size_t tl;
    const char *tt = g4_tokenizer_token_text(t, 262144, &tl);
    CHECK(tt && tl == 18 && !memcmp(tt, "<image_soft_token>", 18));
    char *line = NULL;
    size_t cap = 0;
    int n_cases = 0, n_ok = 0, n_dec = 0;
    size_t bytes = 0;
    char *all = NULL;
    while (getline(&line, &cap, f) > 0) {
        size_t tn, dn;
        char *text = jstr(line, "text", &tn), *dec = jstr(line, "decoded", &dn);
        cJSON *j = cJSON_Parse(line);
        const cJSON *want = cJSON_GetObjectItem(j, "ids");
        n_cases++;
        n_ok += check_case(t, "gemma3", text, tn, want, 1);
        int n;
        int *ids = json_ids(want, &n);
        n_dec += check_decode(t, "gemma3", ids, n, 0, dec, dn);
        all = realloc(all, bytes + tn + 1);
        memcpy(all + bytes, text, tn);
        bytes += tn;
        free(ids);
        free(text);
        free(dec);
        cJSON_Delete(j);
    }
    free(line);
    fclose(f);
    CHECKF(n_ok == n_cases && n_cases == 174, "gemma3: %d of %d cases encode exactly", n_ok, n_cases);
    CHECKF(n_dec == n_cases, "gemma3: %d of %d cases decode exactly", n_dec, n_cases);
    printf("gemma3: %d/%d cases encode to HF's ids, %d/%d decode to HF's text\n", n_ok, n_cases, n_dec, n_cases);

    /* throughput: the cases' text repeated to 1 MiB, and 1 MiB of one repeated character */
    size_t N = 1 << 20;
    char *big = malloc(N);
    for (size_t i = 0; i < N; i++) big[i] = all[i % bytes];
    size_t cut = N; /* keep it valid UTF-8 */
    while (cut > 0 && ((unsigned char)big[cut - 1] & 0xC0) == 0x80) cut--;
    if (cut > 0 && (unsigned char)big[cut - 1] >= 0xC0) cut--;
    const char *names[2] = {"mixed text", "one repeated char"};
    for (int k = 0; k < 2; k++) {
        if (k == 1) memset(big, 'a', cut = N);
        int *ids, n;
        t0 = now();
        st = g4_tokenizer_encode(t, big, cut, &ids, &n, 1, err);
        dt = now() - t0;
        CHECK(st == G4_OK && n > 0);
        printf("gemma3 encode, 1 MiB of %s: %d tokens, %.2f MB/s\n", names[k], n, (double)cut / 1e6 / dt);
        char *d;
        size_t dn;
        t0 = now();
        st = g4_tokenizer_decode(t, ids, n, 0, &d, &dn, err);
        dt = now() - t0;
        CHECK(st == G4_OK);
        if (k == 1) CHECK(st == G4_OK && dn == cut && !memcmp(d, big, cut));
        printf("gemma3 decode: %.1f MB/s\n", (double)dn / 1e6 / dt);
        g4_free(d);
        g4_free(ids);
    }
    free(big);
    free(all);
    g4_tokenizer_free(t);
}

/* ---- the small fixtures -------------------------------------------------------------------------- */

static cJSON *g_base, *g_variants;

static g4_status load_variant(const char *name, g4_tokenizer **t, char *err) {
    cJSON *j = cJSON_Duplicate(g_base, 1);
    const cJSON *ch = cJSON_GetObjectItem(cJSON_GetObjectItem(g_variants, "variants"), name), *x;
    cJSON_ArrayForEach(x, ch) {
        cJSON *parent = j;
        const char *key = x->string;
        if (!strncmp(key, "model.", 6)) {
            parent = cJSON_GetObjectItem(j, "model");
            key += 6;
        }
        cJSON_ReplaceItemInObject(parent, key, cJSON_Duplicate(x, 1));
    }
    char *s = cJSON_PrintUnformatted(j);
    g4_status st = g4_tokenizer_load_hf_mem(t, s, strlen(s), name, err);
    free(s);
    cJSON_Delete(j);
    return st;
}

static void test_small_cases(void) {
    FILE *f = fopen(DATA "small-cases.jsonl", "r");
    CHECK(f != NULL);
    if (!f) return;
    char *line = NULL, cur[64] = "", err[G4_ERR_LEN];
    size_t cap = 0;
    g4_tokenizer *t = NULL;
    int n_enc = 0, ok_enc = 0, n_dec = 0, ok_dec = 0, n_var = 0;
    while (getline(&line, &cap, f) > 0) {
        cJSON *j = cJSON_Parse(line);
        const char *var = cJSON_GetObjectItem(j, "variant")->valuestring;
        if (strcmp(var, cur)) {
            g4_tokenizer_free(t);
            t = NULL;
            snprintf(cur, sizeof cur, "%s", var);
            g4_status st = load_variant(var, &t, err);
            CHECKF(st == G4_OK, "variant %s: %s", var, err);
            if (st == G4_OK) {
                int want = cJSON_GetObjectItem(cJSON_GetObjectItem(g_variants, "n_vocab"), var)->valueint;
                CHECKF(g4_tokenizer_n_vocab(t) == want, "variant %s: n_vocab %d want %d", var, g4_tokenizer_n_vocab(t), want);
            }
            n_var++;
        }
        if (!t) {
            cJSON_Delete(j);
            continue;
        }
        size_t dn, dsn;
        char *dec = jstr(line, "decoded", &dn), *decs = jstr(line, "decoded_skip", &dsn);
        int n, *ids;
        if (cJSON_GetObjectItem(j, "decode_ids")) {
            ids = json_ids(cJSON_GetObjectItem(j, "decode_ids"), &n);
        } else {
            size_t tn;
            char *text = jstr(line, "text", &tn);
            n_enc += 2;
            ok_enc += check_case(t, var, text, tn, cJSON_GetObjectItem(j, "ids"), 1);
            ok_enc += check_case(t, var, text, tn, cJSON_GetObjectItem(j, "ids_nospecial"), 0);
            ids = json_ids(cJSON_GetObjectItem(j, "ids"), &n);
            free(text);
        }
        n_dec += 2;
        ok_dec += check_decode(t, var, ids, n, 0, dec, dn);
        ok_dec += check_decode(t, var, ids, n, 1, decs, dsn);
        free(ids);
        free(dec);
        free(decs);
        cJSON_Delete(j);
    }
    g4_tokenizer_free(t);
    free(line);
    fclose(f);
    CHECKF(ok_enc == n_enc && n_enc > 500, "small: %d of %d encodes match HF", ok_enc, n_enc);
    CHECKF(ok_dec == n_dec, "small: %d of %d decodes match HF", ok_dec, n_dec);
    printf("small tokenizer, %d variants: %d/%d encodes and %d/%d decodes match HF tokenizers\n", n_var, ok_enc, n_enc,
           ok_dec, n_dec);
}

static void test_lookups(void) {
    char err[G4_ERR_LEN];
    g4_tokenizer *t;
    if (load_variant("base", &t, err)) {
        CHECKF(0, "%s", err);
        return;
    }
    /* every vocab entry round-trips through the lookups (the JSON is the oracle) */
    const cJSON *v = cJSON_GetObjectItem(cJSON_GetObjectItem(g_base, "model"), "vocab"), *x;
    int bad = 0;
    cJSON_ArrayForEach(x, v) {
        size_t l;
        const char *s = g4_tokenizer_token_text(t, x->valueint, &l);
        if (g4_tok_find(t, x->string) != x->valueint || !s || l != strlen(x->string) || memcmp(s, x->string, l)) bad++;
    }
    CHECKF(bad == 0, "%d vocab entries do not round-trip", bad);
    static const char *g4names[] = {G4_TOK_PAD, G4_TOK_EOS, G4_TOK_BOS, G4_TOK_UNK, G4_TOK_TURN_START, G4_TOK_TURN_END,
                                    G4_TOK_THINK, G4_TOK_CHANNEL_START, G4_TOK_CHANNEL_END, G4_TOK_TOOL_START,
                                    G4_TOK_TOOL_END, G4_TOK_TOOL_CALL_START, G4_TOK_TOOL_CALL_END,
                                    G4_TOK_TOOL_RESPONSE_START, G4_TOK_TOOL_RESPONSE_END, G4_TOK_STRING_QUOTE,
                                    G4_TOK_IMAGE_START, G4_TOK_IMAGE_END, G4_TOK_IMAGE, G4_TOK_AUDIO_START,
                                    G4_TOK_AUDIO_END, G4_TOK_AUDIO, G4_TOK_VIDEO};
    for (size_t i = 0; i < sizeof g4names / sizeof *g4names; i++) {
        const cJSON *id = cJSON_GetObjectItem(v, g4names[i]);
        CHECKF(id && g4_tok_find(t, g4names[i]) == id->valueint && g4_tokenizer_is_special(t, id->valueint), "%s", g4names[i]);
    }
    int nv = g4_tokenizer_n_vocab(t);
    CHECK(g4_tok_find(t, "<image_soft_token>") == nv - 1 && g4_tokenizer_is_special(t, nv - 1));
    CHECK(g4_tokenizer_token_text(t, -1, NULL) == NULL && g4_tokenizer_token_text(t, nv, NULL) == NULL);
    CHECK(!g4_tokenizer_is_special(t, -5) && !g4_tokenizer_is_special(t, nv + 5));
    CHECK(g4_tok_find(t, "") == -1);

    /* invalid UTF-8 is refused with its offset */
    static const struct { const char *s; size_t n, at; } bad_utf8[] = {
        {"ab\xff", 3, 2}, {"abc\xc3", 4, 3}, {"\xc0\x80", 2, 0}, {"x\xed\xa0\x80", 4, 1}, {"xy\xf4\x90\x80\x80", 6, 2},
        {"\xe2\x82", 2, 0}, {"ok\x80", 3, 2}, {"\xf8\x88\x80\x80\x80", 5, 0},
    };
    for (size_t i = 0; i < sizeof bad_utf8 / sizeof *bad_utf8; i++) {
        int *ids = (int *)1, n = 7;
        char want[32];
        snprintf(want, sizeof want, "at byte %zu", bad_utf8[i].at);
        g4_status st = g4_tokenizer_encode(t, bad_utf8[i].s, bad_utf8[i].n, &ids, &n, 1, err);
        CHECKF(st == G4_EINVAL && ids == NULL && n == 0 && strstr(err, want), "bad utf8 %zu: %d %s", i, st, err);
    }
    int *ids, n;
    CHECK(g4_tokenizer_encode(t, "", 0, &ids, &n, 1, err) == G4_OK && n == 0 && ids == NULL);
    CHECK(g4_tokenizer_encode(t, NULL, 0, &ids, &n, 1, err) == G4_OK && n == 0);
    CHECK(g4_tokenizer_encode(t, NULL, 3, &ids, &n, 1, err) == G4_EINVAL);
    CHECK(g4_tokenizer_encode(t, "a", 1, NULL, &n, 1, err) == G4_EINVAL);
    /* embedded NUL is text */
    CHECK(g4_tokenizer_encode(t, "a\0b", 3, &ids, &n, 1, err) == G4_OK && n == 3 && ids[1] == g4_tok_find(t, "<0x00>"));
    g4_free(ids);
    char *d;
    CHECK(g4_tokenizer_decode(t, NULL, 0, 0, &d, NULL, err) == G4_OK && d && d[0] == 0);
    g4_free(d);
    CHECK(g4_tokenizer_decode(t, NULL, 1, 0, &d, NULL, err) == G4_EINVAL);
    CHECK(g4_tokenizer_decode(t, (int[]){1}, -1, 0, &d, NULL, err) == G4_EINVAL);

    /* round trip and streaming on a long text: decode(encode(x)) == x without "▁" in x */
    static const char *rt = "Grüße 😀 <|turn>user\n<b>x</b>\t\tdone  \x01 日本 ǅ <<bos>> \xf4\x8f\xbf\xbf end";
    CHECK(g4_tokenizer_encode(t, rt, strlen(rt), &ids, &n, 1, err) == G4_OK);
    size_t dn;
    CHECK(g4_tokenizer_decode(t, ids, n, 0, &d, &dn, err) == G4_OK && dn == strlen(rt) && !memcmp(d, rt, dn));
    g4_free(d);
    g4_free(ids);

    /* streaming: bytes are held until they complete a character */
    {
        g4_tok_stream s;
        char *buf = malloc(g4_tok_stream_bufsize(t));
        int e2 = g4_tok_find(t, "<0xE2>"), x82 = g4_tok_find(t, "<0x82>"), xac = g4_tok_find(t, "<0xAC>");
        int ff = g4_tok_find(t, "<0xFF>"), a = g4_tok_find(t, "a"), bos = g4_tok_find(t, "<bos>");
        g4_tok_stream_init(&s, t, 1);
        CHECK(g4_tok_stream_put(&s, e2, buf) == 0);
        CHECK(g4_tok_stream_put(&s, bos, buf) == 0); /* skipped special: the character stays open */
        CHECK(g4_tok_stream_put(&s, x82, buf) == 0);
        CHECK(g4_tok_stream_put(&s, xac, buf) == 3 && !memcmp(buf, "\xe2\x82\xac", 3));
        CHECK(g4_tok_stream_put(&s, ff, buf) == 3 && !memcmp(buf, "\xef\xbf\xbd", 3));
        CHECK(g4_tok_stream_put(&s, e2, buf) == 0);
        CHECK(g4_tok_stream_put(&s, a, buf) == 4 && !memcmp(buf, "\xef\xbf\xbd" "a", 4));
        CHECK(g4_tok_stream_put(&s, e2, buf) == 0 && g4_tok_stream_put(&s, x82, buf) == 0);
        CHECK(g4_tok_stream_put(&s, g4_tok_find(t, "<0x41>"), buf) == 7 && !memcmp(buf, "\xef\xbf\xbd\xef\xbf\xbd" "A", 7));
        CHECK(g4_tok_stream_put(&s, e2, buf) == 0 && g4_tok_stream_flush(&s, buf) == 3);
        CHECK(g4_tok_stream_put(&s, -3, buf) == 0 && g4_tok_stream_put(&s, 1 << 30, buf) == 0);
        g4_tok_stream_init(&s, t, 0);
        CHECK(g4_tok_stream_put(&s, bos, buf) == 5 && !memcmp(buf, "<bos>", 5));
        /* raw output (G4_TOK_SKIP_CONTROL): specials hidden except the ones llama.cpp always renders, which
         * this tokenizer.json flags special as Gemma 4's does */
        int tc = g4_tok_find(t, "<|tool_call>"), q = g4_tok_find(t, "<|\"|>");
        CHECK(tc >= 0 && q >= 0 && g4_tokenizer_is_special(t, tc));
        g4_tok_stream_init(&s, t, G4_TOK_SKIP_CONTROL);
        CHECK(g4_tok_stream_put(&s, bos, buf) == 0);
        CHECK(g4_tok_stream_put(&s, tc, buf) == 12 && !memcmp(buf, "<|tool_call>", 12));
        CHECK(g4_tok_stream_put(&s, q, buf) == 5 && !memcmp(buf, "<|\"|>", 5));
        g4_tok_stream_init(&s, t, 1);
        CHECK(g4_tok_stream_put(&s, tc, buf) == 0); /* HF's skip_special_tokens hides it */
        free(buf);
    }

    /* the repeated-character worst case stays fast (printed, not asserted) */
    size_t N = 1 << 20;
    char *big = malloc(N);
    memset(big, 'a', N);
    double t0 = now();
    CHECK(g4_tokenizer_encode(t, big, N, &ids, &n, 1, err) == G4_OK && n > 0);
    printf("small encode, 1 MiB of 'a': %d tokens, %.2f MB/s\n", n, (double)N / 1e6 / (now() - t0));
    CHECK(g4_tokenizer_decode(t, ids, n, 0, &d, &dn, err) == G4_OK && dn == N && !memcmp(d, big, N));
    g4_free(d);
    g4_free(ids);
    free(big);
    g4_tokenizer_free(t);
}

/* ---- GGUF ------------------------------------------------------------------------------------------- */

static void test_gguf_gemma4(void) {
    char err[G4_ERR_LEN];
    g4_gguf *f;
    g4_tokenizer *t, *h;
    g4_status st = g4_gguf_open(&f, DATA "small-gemma4.gguf", err);
    CHECKF(st == G4_OK, "%s", err);
    if (st) return;
    st = g4_tokenizer_load_gguf(&t, f, err);
    g4_gguf_close(f); /* the tokenizer keeps its own copy */
    CHECKF(st == G4_OK, "%s", err);
    if (st) return;
    if (load_variant("base", &h, err)) {
        g4_tokenizer_free(t);
        return;
    }
    CHECK(g4_tokenizer_n_vocab(t) == g4_tokenizer_n_vocab(h));
    FILE *fc = fopen(DATA "small-cases.jsonl", "r");
    char *line = NULL;
    size_t cap = 0;
    int n = 0, ok = 0;
    while (fc && getline(&line, &cap, fc) > 0) {
        if (!strstr(line, "\"variant\": \"base\"") || strstr(line, "decode_ids")) continue;
        cJSON *j = cJSON_Parse(line);
        size_t tn, dn;
        char *text = jstr(line, "text", &tn), *dec = jstr(line, "decoded", &dn);
        n += 3;
        ok += check_case(t, "gguf-gemma4", text, tn, cJSON_GetObjectItem(j, "ids"), 1);
        ok += check_case(t, "gguf-gemma4", text, tn, cJSON_GetObjectItem(j, "ids_nospecial"), 0);
        int ni, *ids = json_ids(cJSON_GetObjectItem(j, "ids"), &ni);
        ok += check_decode(t, "gguf-gemma4", ids, ni, 0, dec, dn);
        free(ids);
        free(text);
        free(dec);
        cJSON_Delete(j);
    }
    if (fc) fclose(fc);
    free(line);
    CHECKF(ok == n && n > 200, "gguf gemma4: %d of %d checks match HF", ok, n);
    printf("gguf \"gemma4\" tokenizer: %d/%d encodes/decodes match HF on the base cases\n", ok, n);
    g4_tokenizer_free(h);
    g4_tokenizer_free(t);
}

static void test_gguf_spm(void) {
    char err[G4_ERR_LEN];
    g4_gguf *f;
    g4_tokenizer *t;
    g4_status st = g4_gguf_open(&f, DATA "small-spm.gguf", err);
    CHECKF(st == G4_OK, "%s", err);
    if (st) return;
    st = g4_tokenizer_load_gguf(&t, f, err);
    g4_gguf_close(f);
    CHECKF(st == G4_OK, "%s", err);
    if (st) return;
    FILE *fc = fopen(DATA "small-spm-cases.jsonl", "r");
    char *line = NULL;
    size_t cap = 0;
    int n = 0, ok = 0;
    while (fc && getline(&line, &cap, fc) > 0) {
        cJSON *j = cJSON_Parse(line);
        size_t tn, dn;
        char *text = jstr(line, "text", &tn), *dec = jstr(line, "decoded", &dn);
        n += 2;
        ok += check_case(t, "gguf-spm", text, tn, cJSON_GetObjectItem(j, "ids"), 1);
        int ni, *ids = json_ids(cJSON_GetObjectItem(j, "ids"), &ni);
        ok += check_decode(t, "gguf-spm", ids, ni, 0, dec, dn);
        free(ids);
        free(text);
        free(dec);
        cJSON_Delete(j);
    }
    if (fc) fclose(fc);
    free(line);
    CHECKF(ok == n && n >= 20, "gguf spm: %d of %d checks match sentencepiece", ok, n);
    printf("gguf \"llama\" (SentencePiece) tokenizer: %d/%d encodes/decodes match sentencepiece\n", ok, n);
    g4_tokenizer_free(t);
}

/* GGUFs made here: error paths of the metadata reader */
static g4_status gguf_with(void (*edit)(g4_gguf_writer *), char *err) {
    const char *toks[] = {"<unk>", "a", "b", "ab", "<0x41>"};
    const char *merges[] = {"a b"};
    int32_t types[] = {2, 1, 1, 1, 6};
    float scores[] = {0, -1, -2, -0.5f, 0};
    g4_gguf_writer *w = g4_gguf_writer_new();
    g4_gguf_set_str(w, "tokenizer.ggml.model", "gemma4", 6);
    g4_gguf_set_arr_str(w, "tokenizer.ggml.tokens", toks, (size_t[]){5, 1, 1, 2, 6}, 5);
    g4_gguf_set_arr_str(w, "tokenizer.ggml.merges", merges, (size_t[]){3}, 1);
    g4_gguf_set_arr(w, "tokenizer.ggml.token_type", G4_GGUF_INT32, types, 5);
    g4_gguf_set_arr(w, "tokenizer.ggml.scores", G4_GGUF_FLOAT32, scores, 5);
    if (edit) edit(w);
    const char *path = "tests/tmp/tok_test.gguf";
    g4_status st = g4_gguf_writer_write(w, path, err);
    g4_gguf_writer_free(w);
    if (st) return st;
    g4_gguf *f;
    g4_tokenizer *t = NULL;
    if ((st = g4_gguf_open(&f, path, err))) return st;
    st = g4_tokenizer_load_gguf(&t, f, err);
    if (!st) { /* "ab" merges, "A" has no token but its byte token */
        int *ids, n;
        CHECK(g4_tokenizer_encode(t, "abA", 3, &ids, &n, 1, err) == G4_OK && n == 2 && ids[0] == 3 && ids[1] == 4);
        g4_free(ids);
    }
    g4_tokenizer_free(t);
    g4_gguf_close(f);
    remove(path);
    return st;
}
static void e_none(g4_gguf_writer *w) { (void)w; }
static void e_model(g4_gguf_writer *w) { g4_gguf_set_str(w, "tokenizer.ggml.model", "gpt2", 4); }
static void e_merge(g4_gguf_writer *w) {
    g4_gguf_set_arr_str(w, "tokenizer.ggml.merges", (const char *[]){"a c"}, (size_t[]){3}, 1);
}
static void e_merge_nospace(g4_gguf_writer *w) {
    g4_gguf_set_arr_str(w, "tokenizer.ggml.merges", (const char *[]){"ab"}, (size_t[]){2}, 1);
}
static void e_types(g4_gguf_writer *w) {
    g4_gguf_set_arr(w, "tokenizer.ggml.token_type", G4_GGUF_INT32, (int32_t[]){1, 1}, 2);
}
static void e_tokens(g4_gguf_writer *w) { g4_gguf_set_u32(w, "tokenizer.ggml.tokens", 3); }
static void e_utf8(g4_gguf_writer *w) {
    g4_gguf_set_arr_str(w, "tokenizer.ggml.tokens", (const char *[]){"<unk>", "a", "b", "ab", "\xff"},
                        (size_t[]){5, 1, 1, 2, 1}, 5);
}
static void e_spm_noscores(g4_gguf_writer *w) {
    g4_gguf_set_str(w, "tokenizer.ggml.model", "llama", 5);
    g4_gguf_set_arr(w, "tokenizer.ggml.scores", G4_GGUF_FLOAT32, (float[]){0}, 1);
}

static void test_gguf_errors(void) {
    char err[G4_ERR_LEN];
    CHECKF(gguf_with(e_none, err) == G4_OK, "%s", err);
    CHECK(gguf_with(e_model, err) == G4_EUNSUPPORTED && strstr(err, "gpt2"));
    CHECK(gguf_with(e_merge, err) == G4_EFORMAT && strstr(err, "merge 0"));
    CHECK(gguf_with(e_merge_nospace, err) == G4_EFORMAT && strstr(err, "no space"));
    CHECK(gguf_with(e_types, err) == G4_EFORMAT && strstr(err, "token_type"));
    CHECK(gguf_with(e_tokens, err) == G4_EFORMAT && strstr(err, "tokens"));
    CHECK(gguf_with(e_utf8, err) == G4_EFORMAT && strstr(err, "UTF-8"));
    CHECK(gguf_with(e_spm_noscores, err) == G4_EFORMAT && strstr(err, "scores"));
}

/* ---- refused and malformed tokenizer.json ------------------------------------------------------ */

static g4_status load_patched(const char *key, const char *json_value, char *err) {
    cJSON *j = cJSON_Duplicate(g_base, 1), *parent = j;
    if (!strncmp(key, "model.", 6)) {
        parent = cJSON_GetObjectItem(j, "model");
        key += 6;
    }
    cJSON *v = cJSON_Parse(json_value);
    if (cJSON_GetObjectItem(parent, key)) cJSON_ReplaceItemInObject(parent, key, v);
    else cJSON_AddItemToObject(parent, key, v);
    char *s = cJSON_PrintUnformatted(j);
    g4_tokenizer *t = NULL;
    g4_status st = g4_tokenizer_load_hf_mem(&t, s, strlen(s), "patched", err);
    g4_tokenizer_free(t);
    free(s);
    cJSON_Delete(j);
    return st;
}

static void test_refused(void) {
    static const struct {
        const char *key, *value, *needle;
        g4_status st;
    } cases[] = {
        {"normalizer", "{\"type\":\"NFKC\"}", "NFKC", G4_EUNSUPPORTED},
        {"normalizer", "{\"type\":\"Sequence\",\"normalizers\":[{\"type\":\"Lowercase\"}]}", "Lowercase", G4_EUNSUPPORTED},
        {"normalizer", "{\"type\":\"Replace\",\"pattern\":{\"Regex\":\" +\"},\"content\":\"x\"}", "Regex", G4_EUNSUPPORTED},
        {"pre_tokenizer", "{\"type\":\"ByteLevel\"}", "ByteLevel", G4_EUNSUPPORTED},
        {"pre_tokenizer", "{\"type\":\"Metaspace\",\"replacement\":\"x\"}", "Metaspace", G4_EUNSUPPORTED},
        {"pre_tokenizer", "{\"type\":\"Split\",\"pattern\":{\"Regex\":\"\\\\s+\"},\"behavior\":\"Isolated\",\"invert\":false}",
         "Regex", G4_EUNSUPPORTED},
        {"pre_tokenizer", "{\"type\":\"Split\",\"pattern\":{\"String\":\" \"},\"behavior\":\"Sideways\",\"invert\":false}",
         "Sideways", G4_EFORMAT},
        {"decoder", "{\"type\":\"Metaspace\"}", "Metaspace", G4_EUNSUPPORTED},
        {"decoder", "{\"type\":\"Sequence\",\"decoders\":[{\"type\":\"Fuse\"},{\"type\":\"ByteFallback\"}]}", "order",
         G4_EUNSUPPORTED},
        {"decoder", "{\"type\":\"Sequence\",\"decoders\":[{\"type\":\"Fuse\"},{\"type\":\"Strip\",\"content\":\" \",\"start\":0,\"stop\":1}]}",
         "stop", G4_EUNSUPPORTED},
        {"model.type", "\"WordPiece\"", "WordPiece", G4_EUNSUPPORTED},
        {"model.dropout", "0.1", "dropout", G4_EUNSUPPORTED},
        {"model.continuing_subword_prefix", "\"##\"", "continuing_subword_prefix", G4_EUNSUPPORTED},
        {"truncation", "{\"max_length\":8}", "truncation", G4_EUNSUPPORTED},
        {"padding", "{\"strategy\":\"BatchLongest\"}", "padding", G4_EUNSUPPORTED},
        {"model.merges", "[[\"zzz\",\"q\"]]", "not in the vocab", G4_EFORMAT},
        {"model.merges", "[\"a b c\"]", "one space", G4_EFORMAT},
        {"model.merges", "[7]", "merge 0", G4_EFORMAT},
        {"model.vocab", "{\"a\":0,\"b\":0}", "two tokens", G4_EFORMAT},
        {"model.vocab", "{\"a\":-1}", "integer", G4_EFORMAT},
        {"model.vocab", "{}", "empty", G4_EFORMAT},
        {"model.vocab", "{\"a\":100000}", "sparse", G4_EFORMAT},
        {"model.vocab", "[]", "vocab", G4_EFORMAT},
        {"model.byte_fallback", "\"yes\"", "boolean", G4_EFORMAT},
        {"added_tokens", "[{\"id\":1,\"content\":5}]", "content", G4_EFORMAT},
        {"added_tokens", "[{\"content\":\"x\"}]", "id", G4_EFORMAT},
        {"added_tokens", "[{\"id\":1,\"content\":\"x\",\"special\":true}]", "normalized", G4_EFORMAT},
        {"added_tokens", "{}", "added_tokens", G4_EFORMAT},
    };
    char err[G4_ERR_LEN];
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        err[0] = 0;
        g4_status st = load_patched(cases[i].key, cases[i].value, err);
        CHECKF(st == cases[i].st && strstr(err, cases[i].needle), "%s=%s: got %d \"%s\", want %d with \"%s\"",
               cases[i].key, cases[i].value, st, err, cases[i].st, cases[i].needle);
    }
    g4_tokenizer *t = (g4_tokenizer *)1;
    CHECK(g4_tokenizer_load_hf(&t, "tests/data/tokenizer/no-such-file.json", err) == G4_EIO && t == NULL);
    CHECK(g4_tokenizer_load_hf_mem(&t, "{\"model\":", 9, "x", err) == G4_EFORMAT && strstr(err, "JSON"));
    CHECK(g4_tokenizer_load_hf_mem(&t, "[1,2]", 5, "x", err) == G4_EFORMAT);
    CHECK(g4_tokenizer_load_hf_mem(&t, "{\"x\":\"\xff\"}", 9, "x", err) == G4_EFORMAT && strstr(err, "UTF-8"));
    CHECK(g4_tokenizer_load_hf_mem(&t, "{}", 2, "x", err) == G4_EFORMAT && strstr(err, "model"));
    g4_tokenizer_free(NULL);
}

/* ---- allocation failures ---------------------------------------------------------------------------- */

static void test_alloc_fail(void) {
    char err[G4_ERR_LEN];
    char *s = cJSON_PrintUnformatted(g_base);
    size_t n = strlen(s);
    g4_tokenizer *t = NULL;
    g4_alloc_fail_at(-1);
    CHECK(g4_tokenizer_load_hf_mem(&t, s, n, "small", err) == G4_OK);
    long total = g4_alloc_fail_at(-1);
    int bad = 0;
    for (long k = 0; k < total; k++) {
        g4_tokenizer *u = NULL;
        g4_alloc_fail_at(k);
        g4_status st = g4_tokenizer_load_hf_mem(&u, s, n, "small", err);
        g4_alloc_fail_at(-1);
        if (st != G4_ENOMEM || u) bad++;
        g4_tokenizer_free(u);
    }
    CHECKF(bad == 0 && total > 10, "load sweep: %d of %ld failures not reported as ENOMEM", bad, total);
    static const char *text = "Hello <|turn>user\n\n wörld 😀 <b>x</b>  ";
    int *ids, ni;
    g4_alloc_fail_at(-1);
    CHECK(g4_tokenizer_encode(t, text, strlen(text), &ids, &ni, 1, err) == G4_OK);
    total = g4_alloc_fail_at(-1);
    bad = 0;
    for (long k = 0; k < total; k++) {
        int *v = NULL, m = 0;
        g4_alloc_fail_at(k);
        g4_status st = g4_tokenizer_encode(t, text, strlen(text), &v, &m, 1, err);
        g4_alloc_fail_at(-1);
        if (st != G4_ENOMEM || v || m) bad++;
        g4_free(v);
    }
    CHECKF(bad == 0 && total > 2, "encode sweep: %d of %ld", bad, total);
    char *d;
    g4_alloc_fail_at(-1);
    CHECK(g4_tokenizer_decode(t, ids, ni, 0, &d, NULL, err) == G4_OK);
    g4_free(d);
    total = g4_alloc_fail_at(-1);
    bad = 0;
    for (long k = 0; k < total; k++) {
        d = NULL;
        g4_alloc_fail_at(k);
        g4_status st = g4_tokenizer_decode(t, ids, ni, 0, &d, NULL, err);
        g4_alloc_fail_at(-1);
        if (st != G4_ENOMEM || d) bad++;
        g4_free(d);
    }
    CHECKF(bad == 0 && total >= 1, "decode sweep: %d of %ld", bad, total);
    g4_free(ids);
    g4_tokenizer_free(t);
    free(s);

    g4_gguf *f; /* the GGUF loader too */
    if (g4_gguf_open(&f, DATA "small-spm.gguf", err) == G4_OK) {
        g4_alloc_fail_at(-1);
        CHECK(g4_tokenizer_load_gguf(&t, f, err) == G4_OK);
        g4_tokenizer_free(t);
        total = g4_alloc_fail_at(-1);
        bad = 0;
        for (long k = 0; k < total; k++) {
            g4_tokenizer *u = NULL;
            g4_alloc_fail_at(k);
            g4_status st = g4_tokenizer_load_gguf(&u, f, err);
            g4_alloc_fail_at(-1);
            if (st != G4_ENOMEM || u) bad++;
            g4_tokenizer_free(u);
        }
        CHECKF(bad == 0, "gguf load sweep: %d of %ld", bad, total);
        g4_gguf_close(f);
    }
}

/* ---- fuzz regressions: tests/data/tokenizer/fuzz-*.bin are inputs of fuzz/fuzz_tokenizer.c ---------- */

int g4_fuzz_tokenizer_one(const unsigned char *data, size_t size); /* fuzz/fuzz_tokenizer.c */

static void test_fuzz_regressions(void) {
    DIR *d = opendir(DATA);
    if (!d) return;
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, "fuzz-", 5)) continue;
        char p[512];
        snprintf(p, sizeof p, DATA "%s", e->d_name);
        size_t sz;
        char *b = slurp(p, &sz);
        if (b) CHECKF(g4_fuzz_tokenizer_one((const unsigned char *)b, sz) == 0, "fuzz regression %s", e->d_name);
        free(b);
        n++;
    }
    closedir(d);
    printf("fuzz regressions replayed: %d\n", n);
}

#include "../fuzz/fuzz_tokenizer.c"

int main(void) {
    mkdir("tests/tmp", 0755);
    size_t n;
    char *s = slurp(DATA "small.json", &n), *v = slurp(DATA "small-variants.json", NULL);
    CHECK(s && v);
    if (!s || !v) return check_done("tokenizer");
    g_base = cJSON_Parse(s);
    g_variants = cJSON_Parse(v);
    test_small_cases();
    test_lookups();
    test_gguf_gemma4();
    test_gguf_spm();
    test_gguf_errors();
    test_refused();
    test_alloc_fail();
    test_fuzz_regressions();
    test_gemma3();
    g4_fuzz_tokenizer_cleanup();
    cJSON_Delete(g_base);
    cJSON_Delete(g_variants);
    free(s);
    free(v);
    return check_done("tokenizer");
}
