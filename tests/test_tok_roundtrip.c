/* test_tok_roundtrip.c -- `convert` stores an HF directory's tokenizer.json in the GGUF.
 *
 * An HF directory (tests/data/model/tiny-a + tests/data/tokenizer/small-512.json, the small
 * tokenizer cut to the model's 512 ids by tools/make_tok_roundtrip_fixtures.py) is converted with
 * g4_model_write_gguf.  Checks:
 *   - the keys llama.cpp's gemma4 converter writes (model, token types, merges, flags), against
 *     the tokenizer.json read with cJSON;
 *   - the tokenizer read back from the GGUF has the same ids and strings, and encodes every text
 *     of small-512-cases.jsonl to the ids HF `tokenizers` 0.23.3 gives (special tokens parsed,
 *     and not parsed except for texts holding the tokens llama.cpp always renders, which the GGUF
 *     marks USER_DEFINED); decoding gives HF's text;
 *   - padding to a larger model vocab ("[PAD<id>]", UNUSED), refusal of a smaller one;
 *   - a directory without tokenizer.json still gets tokenizer.ggml.model "none".
 */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "model/convert.h"
#include "model/gguf.h"
#include "model/model.h"
#include "text/tokenizer.h"

#define TMP "tests/tmp"
#define HFDIR TMP "/tokrt_hf"
#define OUT TMP "/tokrt.gguf"
#define TOKJSON "tests/data/tokenizer/small-512.json"
#define CASES "tests/data/tokenizer/small-512-cases.jsonl"

static const char *const visible[] = {"<|channel>", "<channel|>", "<|tool_call>", "<tool_call|>",
                                      "<|tool_response>", "<tool_response|>", "<|\"|>"};

static char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)sz + 1);
    *n = fread(b, 1, (size_t)sz, f);
    b[*n] = 0;
    fclose(f);
    return b;
}

static int copy_file(const char *from, const char *to) {
    size_t n;
    char *b = slurp(from, &n);
    if (!b) return -1;
    FILE *f = fopen(to, "wb");
    int ok = f && fwrite(b, 1, n, f) == n;
    if (f) fclose(f);
    free(b);
    return ok ? 0 : -1;
}

static int make_hf_dir(void) {
    mkdir(TMP, 0755);
    mkdir(HFDIR, 0755);
    unlink(HFDIR "/config.json");
    unlink(HFDIR "/model.safetensors");
    return copy_file("tests/data/model/tiny-a/config.json", HFDIR "/config.json") ||
           symlink("../../data/model/tiny-a/model.safetensors", HFDIR "/model.safetensors") ||
           copy_file(TOKJSON, HFDIR "/tokenizer.json");
}

static int convert(const char *dir, const char *out) {
    g4_model *m;
    char err[G4_ERR_LEN];
    if (g4_model_load(&m, dir, err)) { fprintf(stderr, "%s\n", err); return -1; }
    g4_status st = g4_model_write_gguf(m, out, G4_TYPE_F32, err);
    if (st) fprintf(stderr, "%s\n", err);
    g4_model_free(m);
    return st ? -1 : 0;
}

static int64_t type_of(const g4_gguf *f, const g4_tokenizer *t, const char *s) {
    int64_t v = -1;
    int id = g4_tok_find(t, s);
    if (id >= 0) g4_gguf_arr_i64(f, "tokenizer.ggml.token_type", (uint64_t)id, &v);
    return v;
}

/* the keys, against tokenizer.json */
static void check_keys(const g4_gguf *f, const g4_tokenizer *tj) {
    const char *s;
    size_t l;
    CHECK(g4_gguf_get_str(f, "tokenizer.ggml.model", &s, &l) && l == 6 && !memcmp(s, "gemma4", 6));
    bool b = false;
    CHECK(g4_gguf_get_bool(f, "tokenizer.ggml.add_bos_token", &b) && b);
    CHECK(g4_gguf_get_bool(f, "tokenizer.ggml.add_space_prefix", &b) && !b);
    uint32_t u = 99;
    CHECK(g4_gguf_get_u32(f, "tokenizer.ggml.bos_token_id", &u) && u == 2);
    CHECK(g4_gguf_get_u32(f, "tokenizer.ggml.eos_token_id", &u) && u == 1);
    CHECK(g4_gguf_get_u32(f, "tokenizer.ggml.unknown_token_id", &u) && u == 3);
    CHECK(g4_gguf_find_key(f, "gemma4.vocab_size") < 0);
    g4_gguf_vtype et;
    uint64_t n = 0;
    const void *d;
    CHECK(g4_gguf_get_arr(f, "tokenizer.ggml.scores", &et, &n, &d) && et == G4_GGUF_FLOAT32 && n == 512);
    float sc = 0;
    CHECK(g4_gguf_arr_f32(f, "tokenizer.ggml.scores", 7, &sc) && sc == -1000.0f);

    size_t jn;
    char *js = slurp(TOKJSON, &jn);
    cJSON *j = js ? cJSON_Parse(js) : NULL;
    CHECK(j != NULL);
    if (!j) { free(js); return; }
    /* types: special added -> CONTROL (3), the rendered ones -> USER_DEFINED (4), other added
     * -> USER_DEFINED, <0xXX> -> BYTE (6), the rest NORMAL (1) */
    cJSON *a;
    int n_checked = 0;
    cJSON_ArrayForEach(a, cJSON_GetObjectItem(j, "added_tokens")) {
        const char *c = cJSON_GetObjectItem(a, "content")->valuestring;
        int vis = 0;
        for (size_t i = 0; i < sizeof visible / sizeof *visible; i++) vis |= !strcmp(c, visible[i]);
        int64_t want = cJSON_IsTrue(cJSON_GetObjectItem(a, "special")) && !vis ? 3 : 4;
        int64_t got = type_of(f, tj, c);
        CHECKF(got == want, "%s: type %lld, want %lld", c, (long long)got, (long long)want);
        n_checked++;
    }
    CHECK(n_checked > 40);
    CHECK(type_of(f, tj, "<|channel>") == 4 && type_of(f, tj, "<bos>") == 3 && type_of(f, tj, "<|turn>") == 3);
    CHECK(type_of(f, tj, "<0x41>") == 6 && type_of(f, tj, "<0x0A>") == 6);
    CHECK(type_of(f, tj, "a") == 1 && type_of(f, tj, "\xE2\x96\x81") == 1);
    /* merges: "A B" in the file's order */
    cJSON *mg = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "model"), "merges");
    CHECK(g4_gguf_get_arr(f, "tokenizer.ggml.merges", &et, &n, &d) && et == G4_GGUF_STRING &&
          n == (uint64_t)cJSON_GetArraySize(mg));
    int i = 0, bad = 0;
    cJSON_ArrayForEach(a, mg) {
        char want[256];
        snprintf(want, sizeof want, "%s %s", cJSON_GetArrayItem(a, 0)->valuestring,
                 cJSON_GetArrayItem(a, 1)->valuestring);
        if (!g4_gguf_get_arr_str(f, "tokenizer.ggml.merges", (uint64_t)i++, &s, &l) || l != strlen(want) ||
            memcmp(s, want, l))
            bad++;
    }
    CHECKF(bad == 0, "%d merges differ", bad);
    cJSON_Delete(j);
    free(js);
}

static int has_visible(const char *s) {
    for (size_t i = 0; i < sizeof visible / sizeof *visible; i++)
        if (strstr(s, visible[i])) return 1;
    return 0;
}

static int same_ids(const int *a, int na, const cJSON *want) {
    if (na != cJSON_GetArraySize(want)) return 0;
    for (int i = 0; i < na; i++)
        if (a[i] != cJSON_GetArrayItem(want, i)->valueint) return 0;
    return 1;
}

/* every case text: GGUF tokenizer == HF ids, and == the tokenizer.json one */
static void check_cases(const g4_tokenizer *tg, const g4_tokenizer *tj) {
    FILE *f = fopen(CASES, "r");
    CHECK(f != NULL);
    if (!f) return;
    char *line = NULL, err[G4_ERR_LEN];
    size_t cap = 0;
    int n_cases = 0, n_skipped = 0;
    while (getline(&line, &cap, f) > 0) {
        if (strstr(line, "\\u0000")) continue; /* cJSON strings stop at NUL */
        cJSON *c = cJSON_Parse(line);
        if (!c) { CHECK(c != NULL); continue; }
        const char *text = cJSON_GetObjectItem(c, "text")->valuestring;
        size_t len = strlen(text);
        for (int ps = 1; ps >= 0; ps--) {
            const cJSON *want = cJSON_GetObjectItem(c, ps ? "ids" : "ids_nospecial");
            int *ig = NULL, *ij = NULL, ng = 0, nj = 0;
            CHECK(!g4_tokenizer_encode(tj, text, len, &ij, &nj, ps, err));
            CHECK(!g4_tokenizer_encode(tg, text, len, &ig, &ng, ps, err));
            CHECKF(same_ids(ij, nj, want), "json tokenizer, parse_special=%d: %s", ps, text);
            if (!ps && has_visible(text)) n_skipped++; /* USER_DEFINED in llama.cpp's GGUF */
            else {
                CHECKF(same_ids(ig, ng, want), "gguf tokenizer, parse_special=%d: %s", ps, text);
                CHECKF(ng == nj && (!ng || !memcmp(ig, ij, sizeof *ig * (size_t)ng)), "gguf vs json: %s", text);
            }
            if (ps) {
                char *dec = NULL;
                size_t dl = 0;
                const char *wd = cJSON_GetObjectItem(c, "decoded")->valuestring;
                CHECK(!g4_tokenizer_decode(tg, ig, ng, 0, &dec, &dl, err));
                CHECKF(dec && dl == strlen(wd) && !memcmp(dec, wd, dl), "decode: %s", text);
                g4_free(dec);
            }
            g4_free(ig);
            g4_free(ij);
        }
        n_cases++;
        cJSON_Delete(c);
    }
    free(line);
    fclose(f);
    CHECK(n_cases > 50);
    printf("tok_roundtrip: %d texts, %d no-special encodings with always-rendered tokens not compared\n",
           n_cases, n_skipped);
}

/* writing with a larger model vocab pads; a smaller one is refused */
static void check_padding(const g4_tokenizer *tj) {
    char err[G4_ERR_LEN];
    g4_gguf_writer *w = g4_gguf_writer_new();
    CHECK(w != NULL);
    if (!w) return;
    CHECK(g4_tokenizer_write_gguf(tj, w, 511, err) == G4_EFORMAT && strstr(err, "512"));
    CHECK(!g4_tokenizer_write_gguf(tj, w, 520, err));
    CHECK(!g4_gguf_set_str(w, "general.architecture", "gemma4", 6));
    CHECK(!g4_gguf_writer_write(w, TMP "/tokrt_pad.gguf", err));
    g4_gguf_writer_free(w);
    g4_gguf *f;
    if (g4_gguf_open(&f, TMP "/tokrt_pad.gguf", err)) { CHECKF(0, "%s", err); return; }
    const char *s;
    size_t l;
    int64_t ty = 0;
    CHECK(g4_gguf_get_arr_str(f, "tokenizer.ggml.tokens", 515, &s, &l) && l == 8 && !memcmp(s, "[PAD515]", 8));
    CHECK(g4_gguf_arr_i64(f, "tokenizer.ggml.token_type", 515, &ty) && ty == 5);
    g4_tokenizer *t;
    CHECK(!g4_tokenizer_load_gguf(&t, f, err));
    if (t) {
        CHECK(g4_tokenizer_n_vocab(t) == 520);
        int *ids = NULL, n = 0;
        CHECK(!g4_tokenizer_encode(t, "<|turn>user\nHello", 17, &ids, &n, 1, err) && n > 2 && ids[0] == 4);
        g4_free(ids);
        g4_tokenizer_free(t);
    }
    g4_gguf_close(f);
}

int main(void) {
    char err[G4_ERR_LEN];
    CHECK(make_hf_dir() == 0);
    CHECK(convert(HFDIR, OUT) == 0);
    g4_gguf *f = NULL;
    g4_tokenizer *tg = NULL, *tj = NULL;
    CHECK(!g4_tokenizer_load_hf(&tj, TOKJSON, err));
    if (g4_gguf_open(&f, OUT, err)) CHECKF(0, "%s", err);
    else CHECKF(!g4_tokenizer_load_gguf(&tg, f, err), "%s", err);
    if (f && tg && tj) {
        check_keys(f, tj);
        CHECK(g4_tokenizer_n_vocab(tg) == 512 && g4_tokenizer_n_vocab(tj) == 512);
        int diff = 0;
        for (int i = 0; i < g4_tokenizer_n_vocab(tj); i++) {
            size_t a, b;
            const char *x = g4_tokenizer_token_text(tg, i, &a), *y = g4_tokenizer_token_text(tj, i, &b);
            diff += !x || !y || a != b || memcmp(x, y, a);
        }
        CHECKF(diff == 0, "%d token strings differ", diff);
        check_cases(tg, tj);
        check_padding(tj);
    }
    g4_tokenizer_free(tg);
    g4_gguf_close(f);
    g4_tokenizer_free(tj);

    /* no tokenizer.json: "none" + vocab_size, as before */
    CHECK(convert("tests/data/model/tiny-a", TMP "/tokrt_none.gguf") == 0);
    if (!g4_gguf_open(&f, TMP "/tokrt_none.gguf", err)) {
        const char *s;
        size_t l;
        uint32_t v = 0;
        CHECK(g4_gguf_get_str(f, "tokenizer.ggml.model", &s, &l) && l == 4 && !memcmp(s, "none", 4));
        CHECK(g4_gguf_get_u32(f, "gemma4.vocab_size", &v) && v == 512);
        CHECK(g4_gguf_find_key(f, "tokenizer.ggml.tokens") < 0);
        g4_gguf_close(f);
    } else CHECKF(0, "%s", err);
    unlink(OUT);
    unlink(TMP "/tokrt_none.gguf");
    unlink(TMP "/tokrt_pad.gguf");
    return check_done("tok_roundtrip");
}
