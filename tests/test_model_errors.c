/* test_model_errors.c -- every bad model input fails cleanly: right status, a message naming the file.
 *
 * The oracle here is the contract in model.h/ctx.h: a malformed GGUF file or HF directory must make
 * g4_model_load return the documented status with err naming the path and the problem, never
 * succeed, crash or leak (run under ASan).  Starting from tiny-c (a real transformers checkpoint)
 * converted to GGUF, we truncate it at every header offset and a stride through the data, and build
 * one-change variants with the GGUF writer.  Then: HF directory variants, an allocation-failure
 * sweep over loading and context creation, g4_ctx_eval's argument errors, and a replay of the fuzz
 * corpus (fuzz/seeds-model/, which holds any crash inputs the fuzzer found).
 */
#include <dirent.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "check.h"
#include "model/convert.h"
#include "model/ctx.h"
#include "model/gguf.h"
#include "model/model.h"

#define SRC_DIR "tests/data/model/tiny-c"
#define TMP "tests/tmp/"
#define GOOD TMP "me_good.gguf"
#define VAR TMP "me_var.gguf"
#define TRUNC TMP "me_trunc.gguf"
#define SEEDS "fuzz/seeds-model"

static int has(const char *s, const char *needle) { return !needle || strstr(s, needle) != NULL; }

static unsigned char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) { free(b); b = NULL; }
    fclose(f);
    if (b) b[n] = 0;
    *len = (size_t)n;
    return b;
}

static int spit(const char *path, const void *p, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    int ok = fwrite(p, 1, n, f) == n;
    return fclose(f) == 0 && ok;
}

/* Load path expecting failure `want` with err naming the path and up to three more substrings. */
static void expect_fail(const char *what, const char *path, g4_status want, const char *n1, const char *n2,
                        const char *n3) {
    char err[G4_ERR_LEN] = "";
    g4_model *m = (g4_model *)&err; /* must be reset to NULL */
    g4_status st = g4_model_load(&m, path, err);
    if (getenv("G4_TEST_VERBOSE")) printf("  %-24s -> %s\n", what, err);
    CHECKF(st == want, "%s: status %s, want %s (err: %s)", what, g4_status_str(st), g4_status_str(want), err);
    CHECKF(m == NULL, "%s: *out not NULL on error", what);
    if (!st) g4_model_free(m);
    CHECKF(strchr(err, '\n') == NULL, "%s: err has a newline: %s", what, err);
    CHECKF(has(err, path) && has(err, n1) && has(err, n2) && has(err, n3), "%s: err '%s' lacks '%s' / '%s' / '%s' / '%s'",
           what, err, path, n1 ? n1 : "", n2 ? n2 : "", n3 ? n3 : "");
}

/* ---- GGUF variants: copy GOOD's keys and tensors with one change --------------------------- */

typedef struct {
    const char *drop;          /* tensor left out */
    const g4_tensor *repl;     /* tensor replacing the one of the same name */
    void (*edit)(g4_gguf_writer *w);
} variant;

static int write_variant(const char *out, const variant *v) {
    char err[G4_ERR_LEN];
    g4_gguf *f;
    if (g4_gguf_open(&f, GOOD, err)) { fprintf(stderr, "%s\n", err); return 0; }
    g4_gguf_writer *w = g4_gguf_writer_new();
    int ok = w && !g4_gguf_copy_kvs(w, f);
    if (ok && v->edit) v->edit(w);
    for (int64_t i = 0; ok && i < g4_gguf_n_tensors(f); i++) {
        const g4_tensor *t = g4_gguf_tensor(f, i);
        if (v->drop && !strcmp(t->name, v->drop)) continue;
        if (v->repl && !strcmp(t->name, v->repl->name)) t = v->repl;
        ok = !g4_gguf_add_tensor(w, t->name, t->type, t->n_dims, t->ne, t->data, t->nbytes);
    }
    if (ok && g4_gguf_writer_write(w, out, err)) { fprintf(stderr, "%s\n", err); ok = 0; }
    g4_gguf_writer_free(w);
    g4_gguf_close(f);
    CHECKF(ok, "cannot write variant %s", out);
    return ok;
}

static void e_blocks0(g4_gguf_writer *w) { g4_gguf_set_u32(w, "gemma4.block_count", 0); }
static void e_blocks_huge(g4_gguf_writer *w) { g4_gguf_set_u32(w, "gemma4.block_count", 100000); }
static void e_embd0(g4_gguf_writer *w) { g4_gguf_set_u32(w, "gemma4.embedding_length", 0); }
static void e_heads3(g4_gguf_writer *w) { g4_gguf_set_u32(w, "gemma4.attention.head_count", 3); }
static void e_keylen_odd(g4_gguf_writer *w) { g4_gguf_set_u32(w, "gemma4.attention.key_length", 15); }
static void e_keylen_swa_odd(g4_gguf_writer *w) { g4_gguf_set_u32(w, "gemma4.attention.key_length_swa", 7); }
static void e_pattern5(g4_gguf_writer *w) {
    const uint8_t pat[5] = {1, 1, 1, 1, 1};
    g4_gguf_set_arr(w, "gemma4.attention.sliding_window_pattern", G4_GGUF_BOOL, pat, 5);
}
static void e_pattern_u8(g4_gguf_writer *w) {
    const uint8_t pat[6] = {1, 1, 1, 1, 1, 0};
    g4_gguf_set_arr(w, "gemma4.attention.sliding_window_pattern", G4_GGUF_UINT8, pat, 6);
}
static void e_kv0(g4_gguf_writer *w) {
    const int32_t kv[6] = {0, 2, 2, 2, 2, 2};
    g4_gguf_set_arr(w, "gemma4.attention.head_count_kv", G4_GGUF_INT32, kv, 6);
}
static void e_kv_short(g4_gguf_writer *w) {
    const int32_t kv[3] = {2, 2, 2};
    g4_gguf_set_arr(w, "gemma4.attention.head_count_kv", G4_GGUF_INT32, kv, 3);
}
static void e_llama(g4_gguf_writer *w) { g4_gguf_set_str(w, "general.architecture", "llama", 5); }
static void e_clip(g4_gguf_writer *w) { g4_gguf_set_str(w, "general.architecture", "clip", 4); }
static void e_shared_kv(g4_gguf_writer *w) { g4_gguf_set_u32(w, "gemma4.attention.shared_kv_layers", 2); }
static void e_bos_big(g4_gguf_writer *w) { g4_gguf_set_u32(w, "tokenizer.ggml.bos_token_id", 256); }
static void e_ple(g4_gguf_writer *w) { g4_gguf_set_u32(w, "gemma4.embedding_length_per_layer_input", 256); }
static void e_eps_nan(g4_gguf_writer *w) { g4_gguf_set_f32(w, "gemma4.attention.layer_norm_rms_epsilon", NAN); }
/* alignment 1 with a padding string of align_pad bytes: whether the data section starts 4-byte
 * aligned then depends only on the header length, which the test reads back */
static int align_pad;
static void e_align1(g4_gguf_writer *w) {
    g4_gguf_set_u32(w, "general.alignment", 1);
    g4_gguf_set_str(w, "test.pad", "xxx", (size_t)align_pad);
}
static void e_align4(g4_gguf_writer *w) { g4_gguf_set_u32(w, "general.alignment", 4); }
static void e_embd_str(g4_gguf_writer *w) { g4_gguf_set_str(w, "gemma4.embedding_length", "32", 2); }

/* Overwrite the type id of tensor `name` in a GGUF file's header (the writer refuses unknown types). */
static int patch_tensor_type(const char *path, const char *name, uint32_t type) {
    size_t n, nl = strlen(name);
    unsigned char *b = slurp(path, &n);
    int ok = 0;
    for (size_t i = 0; b && i + 8 + nl + 4 + 8 + 4 <= n; i++) {
        uint64_t len;
        memcpy(&len, b + i, 8);
        if (len != nl || memcmp(b + i + 8, name, nl)) continue;
        uint32_t nd;
        memcpy(&nd, b + i + 8 + nl, 4);
        size_t at = i + 8 + nl + 4 + 8 * (size_t)nd;
        memcpy(b + at, &type, 4);
        ok = spit(path, b, n);
        break;
    }
    free(b);
    CHECKF(ok, "cannot patch %s in %s", name, path);
    return ok;
}

static void test_gguf_variants(void) {
    char err[G4_ERR_LEN];
    g4_gguf *f;
    if (g4_gguf_open(&f, GOOD, err)) { CHECKF(0, "%s", err); return; }

    /* sanity: an unchanged copy loads */
    variant same = {0};
    if (write_variant(VAR, &same)) {
        g4_model *m;
        g4_status st = g4_model_load(&m, VAR, err);
        CHECKF(st == G4_OK, "unchanged copy: %s", err);
        if (!st) g4_model_free(m);
    }

    variant v = {.drop = "blk.0.ffn_up.weight"};
    if (write_variant(VAR, &v)) expect_fail("missing tensor", VAR, G4_EFORMAT, "missing tensor", "blk.0.ffn_up.weight", NULL);
    v = (variant){.drop = "token_embd.weight"};
    if (write_variant(VAR, &v)) expect_fail("missing embedding", VAR, G4_EFORMAT, "token_embd.weight", NULL, NULL);
    v = (variant){.drop = "output_norm.weight"};
    if (write_variant(VAR, &v)) expect_fail("missing output norm", VAR, G4_EFORMAT, "output_norm.weight", NULL, NULL);

    /* wrong shape: blk.1.ffn_gate [32, 64] replaced by the bytes of a [32, 32] tensor */
    const g4_tensor *q = g4_gguf_find_tensor(f, "blk.1.attn_q.weight");
    CHECK(q && q->ne[0] == 32 && q->ne[1] == 32);
    if (q) {
        g4_tensor t = *q;
        t.name = "blk.1.ffn_gate.weight";
        v = (variant){.repl = &t};
        if (write_variant(VAR, &v))
            expect_fail("wrong shape", VAR, G4_EFORMAT, "blk.1.ffn_gate.weight", "[32, 32, 1, 1]", "[32, 64]");
        /* a 3-D view of the same bytes */
        t.n_dims = 3; t.ne[0] = 32; t.ne[1] = 16; t.ne[2] = 2;
        v = (variant){.repl = &t};
        if (write_variant(VAR, &v))
            expect_fail("3-D tensor", VAR, G4_EFORMAT, "blk.1.ffn_gate.weight", "[32, 16, 2, 1]", NULL);
    }

    struct { const char *what; void (*edit)(g4_gguf_writer *); g4_status want; const char *n1, *n2; } kv[] = {
        {"block_count 0", e_blocks0, G4_EINVAL, "block_count", "0"},
        {"block_count 100000", e_blocks_huge, G4_EINVAL, "block_count", "100000"},
        {"embedding_length 0", e_embd0, G4_EINVAL, "hidden_size", "got 0"},
        {"embedding_length string", e_embd_str, G4_EFORMAT, "gemma4.embedding_length", NULL},
        {"head_count 3", e_heads3, G4_EINVAL, "not a multiple", "3"},
        {"key_length odd", e_keylen_odd, G4_EINVAL, "even", "15"},
        {"key_length_swa odd", e_keylen_swa_odd, G4_EINVAL, "even", "7"},
        {"pattern length 5", e_pattern5, G4_EFORMAT, "sliding_window_pattern", "6"},
        {"pattern not bool", e_pattern_u8, G4_EFORMAT, "sliding_window_pattern", NULL},
        {"head_count_kv 0", e_kv0, G4_EFORMAT, "head_count_kv", "layer 0"},
        {"head_count_kv short", e_kv_short, G4_EFORMAT, "head_count_kv", "layer 3"},
        {"llama", e_llama, G4_EUNSUPPORTED, "'llama'", "not supported"},
        {"mmproj", e_clip, G4_EINVAL, "--mmproj", NULL},
        {"shared kv", e_shared_kv, G4_EUNSUPPORTED, "shared_kv_layers", NULL},
        {"per-layer input", e_ple, G4_EUNSUPPORTED, "per-layer", NULL},
        {"bos >= vocab", e_bos_big, G4_EINVAL, "bos_token_id", "256"},
        {"eps NaN", e_eps_nan, G4_EINVAL, "rms_norm_eps", NULL},
    };
    for (size_t i = 0; i < sizeof kv / sizeof *kv; i++) {
        v = (variant){.edit = kv[i].edit};
        if (write_variant(VAR, &v)) expect_fail(kv[i].what, VAR, kv[i].want, kv[i].n1, kv[i].n2, NULL);
    }

    /* general.alignment 1 leaves f32 data misaligned for the kernels unless the header happens to end on
     * a multiple of 4: of four paddings exactly the one that aligns loads, the others fail; 4 is enough */
    int aligned_loads = 0, misaligned_fails = 0;
    for (align_pad = 0; align_pad < 4; align_pad++) {
        v = (variant){.edit = e_align1};
        if (!write_variant(VAR, &v)) continue;
        g4_gguf *gf;
        if (g4_gguf_open(&gf, VAR, err)) { CHECKF(0, "alignment 1 pad %d: %s", align_pad, err); continue; }
        const int aligned = g4_gguf_data_offset(gf) % 4 == 0;
        g4_gguf_close(gf);
        if (aligned) {
            g4_model *m;
            g4_status st = g4_model_load(&m, VAR, err);
            aligned_loads += st == G4_OK;
            if (!st) g4_model_free(m);
        } else {
            expect_fail("alignment 1", VAR, G4_EFORMAT, "not 4-byte aligned", NULL, NULL);
            misaligned_fails++;
        }
    }
    CHECKF(aligned_loads == 1 && misaligned_fails == 3, "alignment 1: %d aligned loads, %d misaligned", aligned_loads,
           misaligned_fails);
    v = (variant){.edit = e_align4};
    if (write_variant(VAR, &v)) {
        g4_model *m;
        g4_status st = g4_model_load(&m, VAR, err);
        CHECKF(st == G4_OK, "alignment 4: %s", err);
        if (!st) g4_model_free(m);
    }

    /* rope_freqs of the wrong length */
    static const float ones[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    g4_tensor rf = {.name = "rope_freqs.weight", .type = G4_TYPE_F32, .n_dims = 1, .ne = {16, 1, 1, 1},
                    .data = ones, .nbytes = sizeof ones};
    v = (variant){.repl = &rf};
    if (write_variant(VAR, &v)) expect_fail("rope_freqs length", VAR, G4_EFORMAT, "rope_freqs.weight", "8", NULL);
    /* rope_freqs rotating nothing: partial factor 0 */
    static const float big[8] = {1e30f, 1e30f, 1e30f, 1e30f, 1e30f, 1e30f, 1e30f, 1e30f};
    rf.ne[0] = 8; rf.data = big; rf.nbytes = sizeof big;
    v = (variant){.repl = &rf};
    if (write_variant(VAR, &v)) expect_fail("rope_freqs none rotated", VAR, G4_EINVAL, "partial_rotary_factor", NULL, NULL);

    /* layer_output_scale NaN / inf */
    static const float nan1[1] = {NAN}, inf1[1] = {INFINITY};
    g4_tensor ls = {.name = "blk.2.layer_output_scale.weight", .type = G4_TYPE_F32, .n_dims = 1, .ne = {1, 1, 1, 1},
                    .data = nan1, .nbytes = 4};
    v = (variant){.repl = &ls};
    if (write_variant(VAR, &v)) expect_fail("layer scale NaN", VAR, G4_EFORMAT, "blk.2.layer_output_scale.weight", "finite", NULL);
    ls.data = inf1;
    v = (variant){.repl = &ls};
    if (write_variant(VAR, &v)) expect_fail("layer scale inf", VAR, G4_EFORMAT, "blk.2.layer_output_scale.weight", "finite", NULL);

    /* a norm vector of an unknown type id (3 = ggml's q4_1, which we do not implement; 200 = nothing) */
    v = (variant){0};
    if (write_variant(VAR, &v) && patch_tensor_type(VAR, "blk.0.attn_norm.weight", 3))
        expect_fail("norm of type 3", VAR, G4_EUNSUPPORTED, "blk.0.attn_norm.weight", "type", "3");
    if (write_variant(VAR, &v) && patch_tensor_type(VAR, "output_norm.weight", 200))
        expect_fail("norm of type 200", VAR, G4_EUNSUPPORTED, "output_norm.weight", "type", "200");

    /* a norm vector stored as f16 is fine (converted at load) and gives the same numbers */
    const g4_tensor *an = g4_gguf_find_tensor(f, "blk.0.attn_norm.weight");
    uint16_t h[32];
    CHECK(an && an->ne[0] == 32);
    if (an) {
        for (int i = 0; i < 32; i++) h[i] = (uint16_t)(0x3C00 + i); /* f16 bits of 1 + i/1024, exactly */
        g4_tensor t16 = {.name = an->name, .type = G4_TYPE_F16, .n_dims = 1, .ne = {32, 1, 1, 1}, .data = h, .nbytes = 64};
        v = (variant){.repl = &t16};
        g4_model *m;
        if (write_variant(VAR, &v)) {
            g4_status st = g4_model_load(&m, VAR, err);
            CHECKF(st == G4_OK, "f16 norm: %s", err);
            if (!st) {
                const float *y = m->w.layer[0].attn_norm->data;
                CHECK(m->w.layer[0].attn_norm->type == G4_TYPE_F32);
                int same = 1;
                for (int i = 0; i < 32; i++) same &= y[i] == 1.0f + (float)i / 1024.0f;
                CHECK(same);
                g4_model_free(m);
            }
        }
    }
    g4_gguf_close(f);
}

/* ---- truncation ---------------------------------------------------------------------------- */

static void test_truncation(void) {
    size_t n;
    unsigned char *b = slurp(GOOD, &n);
    if (!b) { CHECKF(0, "cannot read %s", GOOD); return; }
    /* where the header ends and the last tensor's bytes end (past that is only padding) */
    char err[G4_ERR_LEN];
    g4_gguf *f;
    size_t hdr = 0, end = 0;
    if (!g4_gguf_open_mem(&f, b, n, GOOD, err)) {
        hdr = g4_gguf_data_offset(f);
        for (int64_t i = 0; i < g4_gguf_n_tensors(f); i++) {
            const g4_tensor *t = g4_gguf_tensor(f, i);
            end = G4_MAX(end, (size_t)((const unsigned char *)t->data - b) + t->nbytes);
        }
        g4_gguf_close(f);
    }
    CHECKF(hdr > 64 && end > hdr && end <= n, "header %zu, data end %zu, size %zu", hdr, end, n);
    if (!spit(TRUNC, b, n)) { CHECKF(0, "cannot write %s", TRUNC); free(b); return; }
    /* shrinking only, so each step is one ftruncate: a stride through the data, then every header byte */
    const size_t stride = 61;
    int bad = 0, tried = 0, no_path = 0;
    for (size_t k = end - 1;; k = k > hdr + stride ? k - stride : hdr) {
        if (truncate(TRUNC, (off_t)k)) { CHECKF(0, "truncate %zu failed", k); break; }
        g4_model *m;
        err[0] = 0;
        g4_status st = g4_model_load(&m, TRUNC, err);
        tried++;
        if (st == G4_OK) { g4_model_free(m); if (!bad++) fprintf(stderr, "truncated at %zu loads\n", k); }
        else if (!err[0] || !strstr(err, TRUNC)) { if (!no_path++) fprintf(stderr, "truncated at %zu: err '%s'\n", k, err); }
        if (k == hdr) break;
    }
    for (size_t k = hdr; k-- > 0;) {
        if (truncate(TRUNC, (off_t)k)) { CHECKF(0, "truncate %zu failed", k); break; }
        g4_model *m;
        err[0] = 0;
        g4_status st = g4_model_load(&m, TRUNC, err);
        tried++;
        if (st == G4_OK) { g4_model_free(m); if (!bad++) fprintf(stderr, "truncated at %zu loads\n", k); }
        else if (!err[0] || !strstr(err, TRUNC)) { if (!no_path++) fprintf(stderr, "truncated at %zu: err '%s'\n", k, err); }
    }
    CHECKF(bad == 0, "%d of %d truncated files loaded", bad, tried);
    CHECKF(no_path == 0, "%d of %d errors lack the path", no_path, tried);
    CHECK(tried > 4000);
    /* the same bytes from memory: every header prefix fails too */
    int mem_bad = 0;
    for (size_t k = 0; k < hdr; k++) {
        g4_model *m;
        if (!g4_model_load_gguf_mem(&m, b, k, "mem", err)) { g4_model_free(m); mem_bad++; }
    }
    CHECKF(mem_bad == 0, "%d truncated buffers loaded", mem_bad);
    /* the whole file from memory loads; from an odd address it is misaligned */
    unsigned char *odd = malloc(n + 1);
    memcpy(odd + 1, b, n);
    g4_model *m;
    g4_status st = g4_model_load_gguf_mem(&m, b, n, "mem", err);
    CHECKF(st == G4_OK, "%s", err);
    if (!st) g4_model_free(m);
    st = g4_model_load_gguf_mem(&m, odd + 1, n, "mem", err);
    CHECKF(st == G4_EFORMAT && strstr(err, "aligned") && strstr(err, "mem:"), "odd buffer: %s", err);
    if (!st) g4_model_free(m);
    free(odd);
    free(b);
}

/* ---- Hugging Face directories -------------------------------------------------------------- */

static void make_dir(const char *d) { mkdir(d, 0755); }

static void link_st(const char *dir) {
    char src[PATH_MAX], dst[PATH_MAX];
    CHECK(realpath(SRC_DIR "/model.safetensors", src) != NULL);
    snprintf(dst, sizeof dst, "%s/model.safetensors", dir);
    unlink(dst);
    CHECK(symlink(src, dst) == 0);
}

static void write_cfg(const char *dir, const char *text) {
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/config.json", dir);
    CHECK(spit(p, text, strlen(text)));
}

/* the tiny-c config with its first `from` replaced by `to` */
static char *cfg_with(const char *from, const char *to) {
    size_t n;
    char *c = (char *)slurp(SRC_DIR "/config.json", &n);
    char *at = c ? strstr(c, from) : NULL;
    CHECKF(at != NULL, "config lacks %s", from);
    if (!at) { free(c); return NULL; }
    size_t lf = strlen(from), lt = strlen(to);
    char *o = malloc(n - lf + lt + 1);
    memcpy(o, c, (size_t)(at - c));
    memcpy(o + (at - c), to, lt);
    strcpy(o + (at - c) + lt, at + lf);
    free(c);
    return o;
}

static void test_hf_dirs(void) {
    const char *d1 = TMP "me_hf_nocfg", *d2 = TMP "me_hf_notjson", *d3 = TMP "me_hf_nost", *d4 = TMP "me_hf_hidden";
    const char *d5 = TMP "me_hf_vocab";
    make_dir(d1); make_dir(d2); make_dir(d3); make_dir(d4); make_dir(d5);
    unlink(TMP "me_hf_nocfg/config.json");
    link_st(d1);
    expect_fail("no config.json", d1, G4_EIO, "config.json", NULL, NULL);

    write_cfg(d2, "{\"text_config\": {\"hidden_size\": 32,");
    link_st(d2);
    expect_fail("config not JSON", d2, G4_EFORMAT, "config.json", NULL, NULL);
    write_cfg(d2, "[1, 2, 3]");
    expect_fail("config an array", d2, G4_EFORMAT, "config.json", NULL, NULL);

    size_t n;
    char *good = (char *)slurp(SRC_DIR "/config.json", &n);
    if (good) write_cfg(d3, good);
    free(good);
    unlink(TMP "me_hf_nost/model.safetensors");
    expect_fail("no safetensors", d3, G4_EIO, "model.safetensors", NULL, NULL);

    char *c = cfg_with("\"hidden_size\": 32", "\"hidden_size\": 48");
    if (c) { write_cfg(d4, c); free(c); }
    link_st(d4);
    expect_fail("hidden_size 48", d4, G4_EFORMAT, "token_embd.weight", "[32, 256, 1, 1]", "[48, 256]");

    c = cfg_with("\"vocab_size\": 256", "\"vocab_size\": 300");
    if (c) { write_cfg(d5, c); free(c); }
    link_st(d5);
    expect_fail("vocab_size 300", d5, G4_EFORMAT, "token_embd.weight", "[32, 256, 1, 1]", "[32, 300]");

    /* tiny-c's tensors shifted by 2 bytes behind a 1-element bf16 tensor: valid safetensors, but the
     * f32 data is no longer 4-byte aligned */
    const char *d6 = TMP "me_hf_misaligned";
    make_dir(d6);
    good = (char *)slurp(SRC_DIR "/config.json", &n);
    if (good) write_cfg(d6, good);
    free(good);
    unsigned char *st = slurp(SRC_DIR "/model.safetensors", &n);
    uint64_t hl = 0;
    if (st && n > 8) memcpy(&hl, st, 8);
    cJSON *h = st && hl < n - 8 ? cJSON_ParseWithLength((const char *)st + 8, (size_t)hl) : NULL;
    CHECK(h != NULL);
    if (h) {
        cJSON *it;
        cJSON_ArrayForEach(it, h) {
            cJSON *off = cJSON_GetObjectItem(it, "data_offsets");
            if (!off) continue;
            for (int i = 0; i < 2; i++) cJSON_SetNumberValue(cJSON_GetArrayItem(off, i), cJSON_GetArrayItem(off, i)->valuedouble + 2);
        }
        cJSON *pad = cJSON_CreateObject();
        cJSON_AddStringToObject(pad, "dtype", "BF16");
        int shape[1] = {1}, offs[2] = {0, 2};
        cJSON_AddItemToObject(pad, "shape", cJSON_CreateIntArray(shape, 1));
        cJSON_AddItemToObject(pad, "data_offsets", cJSON_CreateIntArray(offs, 2));
        cJSON_AddItemToObject(h, "extra.pad", pad);
        char *js = cJSON_PrintUnformatted(h);
        size_t jl = strlen(js), pl = (8 - jl % 8) % 8, data = n - 8 - (size_t)hl;
        uint64_t nhl = jl + pl;
        unsigned char *o = malloc(8 + nhl + 2 + data);
        memcpy(o, &nhl, 8);
        memcpy(o + 8, js, jl);
        memset(o + 8 + jl, ' ', pl);
        o[8 + nhl] = o[8 + nhl + 1] = 0;
        memcpy(o + 8 + nhl + 2, st + 8 + hl, data);
        CHECK(spit(TMP "me_hf_misaligned/model.safetensors", o, 8 + nhl + 2 + data));
        free(o);
        free(js);
        cJSON_Delete(h);
        expect_fail("misaligned safetensors", d6, G4_EFORMAT, "not 4-byte aligned", NULL, NULL);
    }
    free(st);

    expect_fail("missing path", TMP "me_does_not_exist", G4_EIO, NULL, NULL, NULL);
    expect_fail("empty file", TMP "me_empty.gguf", G4_EFORMAT, "empty", NULL, NULL);
}

/* ---- allocation failures ------------------------------------------------------------------- */

static void sweep_load(const char *path) {
    char err[G4_ERR_LEN];
    g4_model *m;
    g4_alloc_fail_at(-1);
    g4_status st = g4_model_load(&m, path, err);
    long total = g4_alloc_fail_at(-1);
    CHECKF(st == G4_OK, "%s: %s", path, err);
    if (st) return;
    g4_model_free(m);
    int bad = 0;
    for (long i = 0; i < total; i++) {
        g4_alloc_fail_at(i);
        m = (g4_model *)err;
        err[0] = 0;
        st = g4_model_load(&m, path, err);
        g4_alloc_fail_at(-1);
        if (st == G4_OK) g4_model_free(m);
        if (st != G4_ENOMEM || m != NULL || !strstr(err, path)) {
            if (!bad++) fprintf(stderr, "%s: allocation %ld failing gave %s: %s\n", path, i, g4_status_str(st), err);
        }
    }
    CHECKF(bad == 0, "%s: %d of %ld allocation failures not reported as ENOMEM", path, bad, total);
    CHECK(total > 3);
}

static void sweep_ctx(void) {
    char err[G4_ERR_LEN];
    g4_model *m;
    if (g4_model_load(&m, GOOD, err)) { CHECKF(0, "%s", err); return; }
    g4_ctx_params p = {.n_ctx = 16, .n_batch = 4, .n_threads = 2};
    g4_ctx *c;
    g4_alloc_fail_at(-1);
    g4_status st = g4_ctx_new(&c, m, &p, err);
    long total = g4_alloc_fail_at(-1);
    CHECKF(st == G4_OK, "%s", err);
    if (!st) g4_ctx_free(c);
    int bad = 0;
    for (long i = 0; i < total; i++) {
        g4_alloc_fail_at(i);
        c = (g4_ctx *)err;
        st = g4_ctx_new(&c, m, &p, err);
        g4_alloc_fail_at(-1);
        if (st == G4_OK) g4_ctx_free(c);
        if (st != G4_ENOMEM || c != NULL) {
            if (!bad++) fprintf(stderr, "ctx: allocation %ld failing gave %s: %s\n", i, g4_status_str(st), err);
        }
    }
    CHECKF(bad == 0, "ctx: %d of %ld allocation failures not reported as ENOMEM", bad, total);
    CHECK(total > 10);
    g4_model_free(m);
}

/* ---- g4_ctx_eval argument errors ----------------------------------------------------------- */

static int logits_equal(const float *a, const float *b, int n) {
    for (int i = 0; i < n; i++)
        if (!(a[i] == b[i])) return 0;
    return 1;
}

static void test_eval_errors(void) {
    char err[G4_ERR_LEN];
    g4_model *m;
    if (g4_model_load(&m, GOOD, err)) { CHECKF(0, "%s", err); return; }
    const int V = m->cfg.n_vocab;
    CHECK(V == 256);
    g4_ctx_params p = {.n_ctx = 8, .n_batch = 4, .n_threads = 1};
    g4_ctx *c, *ref;
    if (g4_ctx_new(&c, m, &p, err) || g4_ctx_new(&ref, m, &p, err)) { CHECKF(0, "%s", err); g4_model_free(m); return; }
    float *lg = malloc(sizeof(float) * (size_t)V * 8), *lr = malloc(sizeof(float) * (size_t)V * 8);
    const int ids[9] = {2, 10, 20, 30, 40, 50, 60, 70, 80};
    int bad_ids[3][2] = {{-1, 5}, {5, 256}, {5, 1 << 30}};
    for (int i = 0; i < 3; i++) {
        err[0] = 0;
        CHECK(g4_ctx_eval(c, bad_ids[i], 2, lg, 0, err) == G4_EINVAL);
        CHECKF(strstr(err, "out of range") != NULL, "err: %s", err);
        CHECK(c->n_past == 0);
    }
    CHECK(g4_ctx_eval(c, ids, 0, lg, 0, err) == G4_EINVAL);
    /* 6 of 8 positions, then 3 more do not fit */
    CHECKF(g4_ctx_eval(c, ids, 6, lg, 0, err) == G4_OK, "%s", err);
    CHECK(c->n_past == 6);
    err[0] = 0;
    CHECK(g4_ctx_eval(c, ids + 6, 3, lg, 0, err) == G4_EINVAL);
    CHECKF(strstr(err, "context full") != NULL, "err: %s", err);
    CHECK(c->n_past == 6);
    /* a bad id after some tokens changes nothing either */
    CHECK(g4_ctx_eval(c, bad_ids[1], 2, lg, 0, err) == G4_EINVAL);
    CHECK(c->n_past == 6);
    /* still works: the last two positions give the same logits as an uninterrupted run */
    CHECKF(g4_ctx_eval(c, ids + 6, 2, lg, 1, err) == G4_OK, "%s", err);
    CHECK(c->n_past == 8);
    CHECKF(g4_ctx_eval(ref, ids, 8, lr, 1, err) == G4_OK, "%s", err);
    CHECK(logits_equal(lg, lr + 6 * V, 2 * V));
    int finite = 1;
    for (int i = 0; i < 2 * V; i++) finite &= isfinite(lg[i]) != 0;
    CHECK(finite);
    CHECK(g4_ctx_eval(c, ids, 1, lg, 0, err) == G4_EINVAL);
    CHECKF(strstr(err, "context full") != NULL, "err: %s", err);
    /* contexts beyond the model's positions */
    g4_ctx *big;
    g4_ctx_params pb = {.n_ctx = m->cfg.n_ctx_train + 1};
    CHECK(g4_ctx_new(&big, m, &pb, err) == G4_EINVAL && big == NULL);
    free(lg);
    free(lr);
    g4_ctx_free(c);
    g4_ctx_free(ref);
    g4_model_free(m);
}

/* ---- fuzz corpus replay -------------------------------------------------------------------- */

/* What fuzz/fuzz_model.c does with one input: load from memory and from a file, and if that works
 * run two tokens through a small context. */
static int replay(const unsigned char *b, size_t n, const char *name) {
    char err[G4_ERR_LEN];
    g4_model *m;
    g4_status st = g4_model_load_gguf_mem(&m, b, n, name, err);
    if (st) {
        CHECKF(err[0] && strstr(err, name), "%s: err '%s'", name, err);
        return 0;
    }
    g4_ctx_params p = {.n_ctx = 8, .n_batch = 8, .n_threads = 1};
    g4_ctx *c;
    if (!g4_ctx_new(&c, m, &p, err)) {
        float *lg = malloc(sizeof(float) * (size_t)m->cfg.n_vocab);
        int ids[2] = {m->cfg.bos_id, m->cfg.n_vocab - 1};
        CHECKF(g4_ctx_eval(c, ids, 2, lg, 0, err) == G4_OK, "%s: %s", name, err);
        free(lg);
        g4_ctx_free(c);
    }
    g4_model_free(m);
    return 1;
}

static void test_corpus(void) {
    DIR *d = opendir(SEEDS);
    if (!d) { check_skip(SEEDS " not found"); return; }
    struct dirent *e;
    int files = 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/%s", SEEDS, e->d_name);
        size_t n;
        unsigned char *b = slurp(p, &n);
        if (!b) continue;
        files++;
        int loaded = replay(b, n, p);
        /* seeds named seed-* are good models; the rest (hand-made headers, crash-* regressions) only
         * must not crash */
        if (!strncmp(e->d_name, "seed-", 5)) CHECKF(loaded, "%s should load", p);
        /* the file path gives the same verdict */
        g4_model *m;
        char err[G4_ERR_LEN];
        g4_status st = g4_model_load(&m, p, err);
        CHECKF((st == G4_OK) == loaded, "%s: file and memory loads disagree (%s)", p, err);
        if (!st) g4_model_free(m);
        free(b);
    }
    closedir(d);
    CHECK(files >= 1);
}

/* g4_ctx_fill_synthetic (bench -d): positions count as evaluated, the next step sees them, and the
 * context's limits still hold */
static void test_fill_synthetic(const g4_model *m) {
    char err[G4_ERR_LEN];
    g4_ctx *c;
    g4_ctx_params cp = {.n_ctx = 64, .n_batch = 16, .n_threads = 1};
    CHECK(g4_ctx_new(&c, m, &cp, err) == G4_OK);
    CHECK(g4_ctx_fill_synthetic(c, 65, err) == G4_EINVAL && strstr(err, "n_ctx") && g4_ctx_n_past(c) == 0);
    CHECK(g4_ctx_fill_synthetic(c, -1, err) == G4_EINVAL);
    CHECK(g4_ctx_fill_synthetic(c, 50, err) == G4_OK && g4_ctx_n_past(c) == 50);
    float *logits = malloc(sizeof(float) * (size_t)m->cfg.n_vocab);
    int tok = 7;
    CHECK(logits && g4_ctx_eval(c, &tok, 1, logits, 0, err) == G4_OK && g4_ctx_n_past(c) == 51);
    int fin = 1;
    for (int i = 0; logits && i < m->cfg.n_vocab; i++) fin &= isfinite(logits[i]) != 0;
    CHECK(fin);
    CHECK(g4_ctx_fill_synthetic(c, 64, err) == G4_OK && g4_ctx_eval(c, &tok, 1, logits, 0, err) == G4_EINVAL &&
          strstr(err, "context full"));
    free(logits);
    g4_ctx_free(c);
}

int main(void) {
    clock_t t0 = clock();
    mkdir("tests/tmp", 0755);
    char err[G4_ERR_LEN];
    g4_model *m;
    g4_status st = g4_model_load(&m, SRC_DIR, err);
    CHECKF(st == G4_OK, "%s", err);
    if (st == G4_OK) test_fill_synthetic(m);
    if (st) return check_done("model_errors");
    st = g4_model_write_gguf(m, GOOD, G4_TYPE_F32, err);
    CHECKF(st == G4_OK, "%s", err);
    g4_model_free(m);
    if (st) return check_done("model_errors");
    FILE *ef = fopen(TMP "me_empty.gguf", "wb");
    if (ef) fclose(ef);

    test_truncation();
    test_gguf_variants();
    test_hf_dirs();
    sweep_load(GOOD);
    sweep_load(SRC_DIR);
    sweep_ctx();
    test_eval_errors();
    test_corpus();
    fprintf(stderr, "model_errors: %.1f s cpu\n", (double)(clock() - t0) / CLOCKS_PER_SEC);
    return check_done("model_errors");
}
