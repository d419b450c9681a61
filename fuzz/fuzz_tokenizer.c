/* fuzz_tokenizer.c -- libFuzzer target for the tokenizer.
 *
 * The input picks the mode by its first bytes:
 *   '{'     a tokenizer.json: load it; if it loads, encode/decode a few strings and the input
 *   "GGUF"  a GGUF file: load its tokenizer metadata, then the same
 *   other   text for a built-in tokenizer (byte 0 bit 0 = parse_special): valid UTF-8 must encode,
 *           invalid must be refused, ids must be in range, and decode(encode(x)) == x when x has
 *           no "▁" (which the decoder turns into a space); the streaming decoder must agree.
 * Seeds: tests/data/tokenizer (small.json, the GGUFs) and fuzz/seeds-tokenizer.
 * tests/test_tokenizer.c includes this file to replay tests/data/tokenizer/fuzz-* inputs.
 */
#include "text/tokenizer.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static g4_tokenizer *fz_builtin;

#define FZ_CHECK(x)                                                                                        \
    do {                                                                                                   \
        if (!(x)) {                                                                                        \
            fprintf(stderr, "fuzz_tokenizer: %s:%d: %s\n", __FILE__, __LINE__, #x);                       \
            __builtin_trap();                                                                              \
        }                                                                                                  \
    } while (0)

static g4_tokenizer *fz_make_builtin(void) {
    static const char head[] =
        "{\"version\":\"1.0\",\"added_tokens\":["
        "{\"id\":0,\"content\":\"<pad>\",\"special\":true,\"normalized\":false,\"lstrip\":false,\"rstrip\":false,\"single_word\":false},"
        "{\"id\":2,\"content\":\"<bos>\",\"special\":true,\"normalized\":false,\"lstrip\":false,\"rstrip\":false,\"single_word\":false},"
        "{\"id\":4,\"content\":\"<|turn>\",\"special\":true,\"normalized\":false,\"lstrip\":false,\"rstrip\":false,\"single_word\":false},"
        "{\"id\":5,\"content\":\"<turn|>\",\"special\":true,\"normalized\":false,\"lstrip\":false,\"rstrip\":false,\"single_word\":false},"
        "{\"id\":6,\"content\":\"\\n\",\"special\":false,\"normalized\":false,\"lstrip\":false,\"rstrip\":false,\"single_word\":false},"
        "{\"id\":7,\"content\":\"\\n\\n\",\"special\":false,\"normalized\":false,\"lstrip\":false,\"rstrip\":false,\"single_word\":false},"
        "{\"id\":8,\"content\":\"xy\",\"single_word\":true,\"normalized\":false,\"special\":false,\"lstrip\":false,\"rstrip\":false},"
        "{\"id\":9,\"content\":\"\\u2581q\",\"normalized\":true,\"special\":false,\"lstrip\":false,\"rstrip\":false,\"single_word\":false},"
        "{\"id\":0,\"content\":\"<new>\",\"special\":true,\"normalized\":false,\"lstrip\":false,\"rstrip\":false,\"single_word\":false}],"
        "\"normalizer\":{\"type\":\"Replace\",\"pattern\":{\"String\":\" \"},\"content\":\"\\u2581\"},"
        "\"pre_tokenizer\":{\"type\":\"Split\",\"pattern\":{\"String\":\" \"},\"behavior\":\"MergedWithPrevious\","
        "\"invert\":false},"
        "\"decoder\":{\"type\":\"Sequence\",\"decoders\":[{\"type\":\"Replace\",\"pattern\":{\"String\":\"\\u2581\"},"
        "\"content\":\" \"},{\"type\":\"ByteFallback\"},{\"type\":\"Fuse\"}]},"
        "\"model\":{\"type\":\"BPE\",\"unk_token\":\"<unk>\",\"fuse_unk\":true,\"byte_fallback\":true,\"vocab\":{"
        "\"<pad>\":0,\"<eos>\":1,\"<bos>\":2,\"<unk>\":3,\"<|turn>\":4,\"<turn|>\":5,\"\\n\":6,\"\\n\\n\":7,\"xy\":8,"
        "\"\\u2581q\":9,\"\\u2581\":10,\"t\":11,\"h\":12,\"e\":13,\"a\":14,\"\\u2581t\":15,\"he\":16,\"\\u2581the\":17,"
        "\"aa\":18,\"aaaa\":19,\"\\u2581\\u2581\":20,\"x\":21,\"y\":22,\"q\":23";
    static const char tail[] = "},\"merges\":[[\"\\u2581\",\"t\"],[\"h\",\"e\"],[\"\\u2581t\",\"he\"],[\"a\",\"a\"],"
                               "[\"aa\",\"aa\"],[\"\\u2581\",\"\\u2581\"],[\"x\",\"y\"],[\"\\u2581\",\"q\"]]}}";
    char *js = malloc(sizeof head + sizeof tail + 256 * 16);
    if (!js) return NULL;
    size_t n = (size_t)sprintf(js, "%s", head);
    for (int b = 0; b < 256; b++) n += (size_t)sprintf(js + n, ",\"<0x%02X>\":%d", b, 24 + b);
    n += (size_t)sprintf(js + n, "%s", tail);
    g4_tokenizer *t = NULL;
    char err[G4_ERR_LEN];
    if (g4_tokenizer_load_hf_mem(&t, js, n, "builtin", err) != G4_OK) {
        fprintf(stderr, "fuzz_tokenizer: builtin tokenizer: %s\n", err);
        __builtin_trap();
    }
    free(js);
    return t;
}

void g4_fuzz_tokenizer_cleanup(void) {
    g4_tokenizer_free(fz_builtin);
    fz_builtin = NULL;
}

/* decode and stream-decode ids; returns the decoded text (g4_free) */
static char *fz_decode(const g4_tokenizer *t, const int *ids, int n, size_t *len) {
    char err[G4_ERR_LEN], *d = NULL;
    g4_status st = g4_tokenizer_decode(t, ids, n, 0, &d, len, err);
    FZ_CHECK(st == G4_OK || st == G4_ENOMEM);
    if (st) return NULL;
    size_t cap = g4_tok_stream_bufsize(t), at = 0, k;
    char *buf = malloc(cap), *all = malloc(*len * 4 + 16 * (size_t)n + 16);
    FZ_CHECK(buf && all);
    g4_tok_stream s;
    g4_tok_stream_init(&s, t, 0);
    for (int i = 0; i <= n; i++) {
        k = i < n ? g4_tok_stream_put(&s, ids[i], buf) : g4_tok_stream_flush(&s, buf);
        FZ_CHECK(k <= cap);
        memcpy(all + at, buf, k);
        at += k;
    }
    /* equal unless HF replaced a whole invalid byte run by U+FFFDs */
    if (!memmem(d, *len, "\xEF\xBF\xBD", 3)) FZ_CHECK(at == *len && memcmp(all, d, at) == 0);
    free(buf);
    free(all);
    return d;
}

static void fz_exercise(const g4_tokenizer *t, const char *text, size_t n, int parse_special) {
    char err[G4_ERR_LEN];
    int *ids = NULL, ni = 0;
    g4_status st = g4_tokenizer_encode(t, text, n, &ids, &ni, parse_special, err);
    if (st) {
        FZ_CHECK(ids == NULL && ni == 0);
        return;
    }
    for (int i = 0; i < ni; i++) FZ_CHECK(ids[i] >= 0 && ids[i] < g4_tokenizer_n_vocab(t));
    size_t dl;
    g4_free(fz_decode(t, ids, ni, &dl));
    g4_free(ids);
}

int g4_fuzz_tokenizer_one(const unsigned char *data, size_t size) {
    char err[G4_ERR_LEN];
    if (size >= 1 && data[0] == '{') {
        g4_tokenizer *t = NULL;
        if (g4_tokenizer_load_hf_mem(&t, (const char *)data, size, "fuzz.json", err) != G4_OK) return 0;
        static const char *probe[] = {"Hello world", " a  b ", "<bos><|turn>x\n\n", "\xc3\xa9\xe6\x97\xa5 \xf0\x9f\x98\x80", ""};
        for (int i = 0; i < 5; i++) fz_exercise(t, probe[i], strlen(probe[i]), i & 1);
        fz_exercise(t, (const char *)data, size > 4096 ? 4096 : size, 1);
        g4_tokenizer_free(t);
        return 0;
    }
    if (size >= 4 && !memcmp(data, "GGUF", 4)) {
        g4_gguf *f;
        g4_tokenizer *t = NULL;
        if (g4_gguf_open_mem(&f, data, size, "fuzz.gguf", err) != G4_OK) return 0;
        if (g4_tokenizer_load_gguf(&t, f, err) == G4_OK) {
            g4_gguf_close(f);
            fz_exercise(t, "Hello world <|turn>\n", 20, 1);
            g4_tokenizer_free(t);
        } else g4_gguf_close(f);
        return 0;
    }
    if (!fz_builtin) fz_builtin = fz_make_builtin();
    if (size == 0) return 0;
    const g4_tokenizer *t = fz_builtin;
    const char *text = (const char *)data + 1;
    size_t n = size - 1;
    int *ids = NULL, ni = 0;
    g4_status st = g4_tokenizer_encode(t, text, n, &ids, &ni, data[0] & 1, err);
    int valid = 1; /* is text valid UTF-8?  decide independently of the library */
    for (size_t i = 0; i < n;) {
        unsigned c = (unsigned char)text[i];
        int l = c < 0x80 ? 1 : c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
        if (!l || i + (size_t)l > n) { valid = 0; break; }
        unsigned c1 = l > 1 ? (unsigned char)text[i + 1] : 0x80;
        if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 > 0x9F) || (c == 0xF0 && c1 < 0x90) || (c == 0xF4 && c1 > 0x8F)) {
            valid = 0;
            break;
        }
        for (int k = 1; k < l; k++)
            if (((unsigned char)text[i + (size_t)k] & 0xC0) != 0x80) valid = 0;
        if (!valid) break;
        i += (size_t)l;
    }
    if (!valid) {
        FZ_CHECK(st == G4_EINVAL && ids == NULL);
        return 0;
    }
    FZ_CHECK(st == G4_OK);
    for (int i = 0; i < ni; i++) FZ_CHECK(ids[i] >= 0 && ids[i] < g4_tokenizer_n_vocab(t));
    size_t dl = 0;
    char *d = fz_decode(t, ids, ni, &dl);
    if (d && !memmem(text, n, "\xE2\x96\x81", 3)) FZ_CHECK(dl == n && memcmp(d, text, n) == 0);
    g4_free(d);
    g4_free(ids);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return g4_fuzz_tokenizer_one(data, size); }
