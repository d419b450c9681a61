/* test_safetensors.c -- the safetensors reader against files written by the Python
 * `safetensors` package (tools/make_st_fixtures.py), whose *.expected files list every
 * tensor's dtype, shape and values as decoded by torch.  Then bad input: truncation at every
 * offset, crafted headers (bad JSON, types, offsets, sizes, overflow, overlap, duplicates,
 * unsupported dtypes), broken shard sets on disk, and an allocation-failure sweep. */
#include "check.h"
#include "model/safetensors.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DATA "tests/data/safetensors"

/* ---- expected files --------------------------------------------------------------------- */

typedef struct {
    char name[128], dtype[8], file[128];
    int ndim;
    int64_t shape[8];
    int nvals;
    float *vals;
} exp_t;

static int read_expected(const char *path, exp_t *out, int max) {
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        return -1;
    }
    int n = 0;
    char tag[16];
    while (n < max && fscanf(f, "%15s", tag) == 1) {
        exp_t *e = &out[n];
        if (strcmp(tag, "tensor") != 0 || fscanf(f, "%127s %7s %127s %d", e->name, e->dtype, e->file, &e->ndim) != 4)
            break;
        for (int i = 0; i < e->ndim; i++)
            if (fscanf(f, "%lld", (long long *)&e->shape[i]) != 1) goto bad;
        if (fscanf(f, "%d", &e->nvals) != 1) goto bad;
        e->vals = malloc(sizeof(float) * (size_t)(e->nvals ? e->nvals : 1));
        for (int i = 0; i < e->nvals; i++) {
            double d;
            if (fscanf(f, "%lf", &d) != 1) goto bad;
            e->vals[i] = (float)d;
        }
        n++;
    }
    fclose(f);
    return n;
bad:
    fclose(f);
    return -1;
}

static void free_expected(exp_t *e, int n) {
    for (int i = 0; i < n; i++) free(e[i].vals);
}

/* IEEE half and bfloat16 to float: test-side decoders, independent of the library. */
static float f16_to_f32(uint16_t h) {
    int s = h >> 15, e = (h >> 10) & 31, m = h & 1023;
    float v;
    if (e == 0) v = ldexpf((float)m, -24);
    else if (e == 31) v = m ? NAN : INFINITY;
    else v = ldexpf((float)(m | 1024), e - 25);
    return s ? -v : v;
}

static float bf16_to_f32(uint16_t b) {
    uint32_t u = (uint32_t)b << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static float elem(const g4_tensor *t, int64_t i) {
    const uint8_t *p = t->data;
    if (t->type == G4_TYPE_F32) {
        float f;
        memcpy(&f, p + 4 * i, 4);
        return f;
    }
    uint16_t h;
    memcpy(&h, p + 2 * i, 2);
    return t->type == G4_TYPE_F16 ? f16_to_f32(h) : bf16_to_f32(h);
}

/* Every expected tensor is in st with the right type, ggml-order shape, size and values. */
static void check_against(const g4_st *st, exp_t *e, int n, const char *what) {
    CHECKF(g4_st_n_tensors(st) == n, "%s: %lld tensors, want %d", what, (long long)g4_st_n_tensors(st), n);
    for (int i = 0; i < n; i++) {
        const g4_tensor *t = g4_st_find(st, e[i].name);
        CHECKF(t != NULL, "%s: %s missing", what, e[i].name);
        if (!t) continue;
        CHECK(strcmp(t->name, e[i].name) == 0);
        g4_type want = !strcmp(e[i].dtype, "F32") ? G4_TYPE_F32 : !strcmp(e[i].dtype, "F16") ? G4_TYPE_F16 : G4_TYPE_BF16;
        CHECKF(t->type == want, "%s: %s type %d want %d", what, e[i].name, t->type, want);
        CHECKF(t->n_dims == (e[i].ndim ? e[i].ndim : 1), "%s: %s n_dims %d", what, e[i].name, t->n_dims);
        for (int d = 0; d < G4_MAX_DIMS; d++) {
            int64_t w = d < e[i].ndim ? e[i].shape[e[i].ndim - 1 - d] : 1;
            CHECKF(t->ne[d] == w, "%s: %s ne[%d] = %lld want %lld", what, e[i].name, d, (long long)t->ne[d],
                   (long long)w);
        }
        size_t esz = want == G4_TYPE_F32 ? 4 : 2;
        CHECKF(g4_tensor_nelem(t) == e[i].nvals, "%s: %s nelem", what, e[i].name);
        CHECKF(t->nbytes == esz * (size_t)e[i].nvals, "%s: %s nbytes %zu", what, e[i].name, t->nbytes);
        int bad = 0;
        for (int k = 0; k < e[i].nvals; k++)
            if (elem(t, k) != e[i].vals[k]) bad++;
        CHECKF(bad == 0, "%s: %s: %d values differ", what, e[i].name, bad);
    }
    /* Iteration: sorted, unique, in range. */
    for (int64_t i = 1; i < g4_st_n_tensors(st); i++)
        CHECK(strcmp(g4_st_tensor(st, i - 1)->name, g4_st_tensor(st, i)->name) < 0);
    CHECK(g4_st_tensor(st, -1) == NULL);
    CHECK(g4_st_tensor(st, g4_st_n_tensors(st)) == NULL);
    CHECK(g4_st_find(st, "no.such.tensor") == NULL);
    CHECK(g4_st_find(st, "") == NULL);
}

static uint8_t *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n + 1);
    if (fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return b;
}

static void write_file(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "cannot write %s\n", path);
        return;
    }
    fwrite(data, 1, n, f);
    fclose(f);
}

static void write_str(const char *path, const char *s) { write_file(path, s, strlen(s)); }

/* ---- good files ----------------------------------------------------------------------- */

static void test_fixtures(void) {
    exp_t e[32];
    char err[G4_ERR_LEN];
    int n = read_expected(DATA "/single.expected", e, 32);
    CHECK(n == 8);
    if (n <= 0) return;

    g4_st *st = NULL;
    g4_status s = g4_st_open_dir(&st, DATA "/single", err);
    CHECKF(s == G4_OK, "open_dir single: %s", err);
    if (!s) {
        check_against(st, e, n, "single dir");
        const g4_tensor *sc = g4_st_find(st, "model.scalar");
        CHECK(sc && sc->n_dims == 1 && sc->ne[0] == 1 && sc->nbytes == 4 && elem(sc, 0) == 3.25f);
        const g4_tensor *em = g4_st_find(st, "model.empty");
        CHECK(em && em->n_dims == 2 && em->ne[0] == 3 && em->ne[1] == 0 && em->nbytes == 0);
        const g4_tensor *t3 = g4_st_find(st, "model.w_bf16_3d"); /* [2,3,4] -> ne {4,3,2,1} */
        CHECK(t3 && t3->n_dims == 3 && t3->ne[0] == 4 && t3->ne[1] == 3 && t3->ne[2] == 2 && t3->ne[3] == 1);
        CHECK(t3 && g4_tensor_nrows(t3) == 6);
        g4_st_close(st);
    }
    s = g4_st_open_file(&st, DATA "/single/model.safetensors", err);
    CHECKF(s == G4_OK, "open_file: %s", err);
    if (!s) {
        check_against(st, e, n, "single file");
        g4_st_close(st);
    }
    size_t len;
    uint8_t *bytes = slurp(DATA "/single/model.safetensors", &len);
    CHECK(bytes != NULL);
    if (bytes) {
        s = g4_st_open_mem(&st, bytes, len, "mem.safetensors", err);
        CHECKF(s == G4_OK, "open_mem: %s", err);
        if (!s) {
            check_against(st, e, n, "single mem");
            /* views point into the caller's bytes */
            const g4_tensor *t = g4_st_tensor(st, 0);
            CHECK((const uint8_t *)t->data >= bytes && (const uint8_t *)t->data + t->nbytes <= bytes + len);
            g4_st_close(st);
        }
        /* Truncation at every offset is a clean error naming the input. */
        int clean = 1;
        for (size_t k = 0; k < len; k++) {
            err[0] = 0;
            uint8_t *cut = malloc(k ? k : 1); /* exact size: ASan catches any over-read */
            memcpy(cut, bytes, k);
            s = g4_st_open_mem(&st, cut, k, "cut.safetensors", err);
            if (s == G4_OK || !strstr(err, "cut.safetensors") || st != NULL) {
                clean = 0;
                fprintf(stderr, "truncated at %zu: status %d err '%s'\n", k, s, err);
                if (s == G4_OK) g4_st_close(st);
            }
            free(cut);
        }
        CHECK(clean);
        free(bytes);
    }
    free_expected(e, n);

    n = read_expected(DATA "/sharded.expected", e, 32);
    CHECK(n == 5);
    if (n > 0) {
        s = g4_st_open_dir(&st, DATA "/sharded", err);
        CHECKF(s == G4_OK, "open_dir sharded: %s", err);
        if (!s) {
            check_against(st, e, n, "sharded");
            g4_st_close(st);
        }
        free_expected(e, n);
    }
}

static void test_dtypes(void) {
    static const char *tags[][2] = {{"i64", "I64"}, {"f64", "F64"}, {"u8", "U8"},
                                    {"bool", "BOOL"}, {"i32", "I32"}, {"f8_e4m3", "F8_E4M3"}};
    for (size_t i = 0; i < sizeof tags / sizeof tags[0]; i++) {
        char path[256], err[G4_ERR_LEN], want[64];
        snprintf(path, sizeof path, DATA "/dtype_%s.safetensors", tags[i][0]);
        snprintf(want, sizeof want, "dtype %s not supported", tags[i][1]);
        g4_st *st = NULL;
        g4_status s = g4_st_open_file(&st, path, err);
        CHECKF(s == G4_EUNSUPPORTED && st == NULL, "%s: status %d", path, s);
        CHECKF(strstr(err, path) && strstr(err, "bad.tensor") && strstr(err, want), "%s: err '%s'", path, err);
    }
}

/* ---- crafted headers ---------------------------------------------------------------------- */

/* 8-byte length + json + dsize bytes of data; returns malloc'd buffer of exactly *len bytes. */
static uint8_t *craft(const char *json, size_t dsize, size_t *len) {
    size_t hl = strlen(json);
    *len = 8 + hl + dsize;
    uint8_t *b = malloc(*len);
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)((uint64_t)hl >> (8 * i));
    memcpy(b + 8, json, hl);
    for (size_t i = 0; i < dsize; i++) b[8 + hl + i] = (uint8_t)i;
    return b;
}

typedef struct {
    const char *json;
    size_t dsize;
    g4_status want;
    const char *msg; /* substring of err */
} craft_case;

#define T1(sh, off) "{\"a\":{\"dtype\":\"F32\",\"shape\":" sh ",\"data_offsets\":" off "}}"

static void test_crafted(void) {
    static const craft_case cases[] = {
        {T1("[2]", "[0,8]"), 8, G4_OK, NULL},
        {T1("[2]", "[0,8]") "   \n ", 8, G4_OK, NULL},
        {"{}", 0, G4_OK, NULL},
        {"{\"__metadata__\":{\"k\":\"v\"}}", 0, G4_OK, NULL},
        {"{\"a\":{\"dtype\":\"F16\",\"shape\":[],\"data_offsets\":[2,4]}}", 4, G4_OK, NULL},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
         "\"b\":{\"dtype\":\"BF16\",\"shape\":[4],\"data_offsets\":[8,16]},"
         "\"z\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,4]}}", 16, G4_OK, NULL},
        {"", 0, G4_EFORMAT, "invalid JSON"},
        {"{\"a\":", 0, G4_EFORMAT, "invalid JSON"},
        {"[1,2]", 0, G4_EFORMAT, "not a JSON object"},
        {"\"x\"", 0, G4_EFORMAT, "not a JSON object"},
        {T1("[2]", "[0,8]") "x", 8, G4_EFORMAT, "unexpected bytes"},
        {"{\"a\":5}", 0, G4_EFORMAT, "tensor a: entry is not a JSON object"},
        {"{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4, G4_EFORMAT, "\"dtype\" missing"},
        {"{\"a\":{\"dtype\":4,\"shape\":[1],\"data_offsets\":[0,4]}}", 4, G4_EFORMAT, "\"dtype\" missing"},
        {"{\"a\":{\"dtype\":\"F17\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, G4_EFORMAT, "unknown dtype F17"},
        {"{\"a\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8, G4_EUNSUPPORTED,
         "tensor a: dtype I64 not supported yet"},
        {T1("\"2\"", "[0,8]"), 8, G4_EFORMAT, "\"shape\" missing or not an array"},
        {T1("[-1]", "[0,8]"), 8, G4_EFORMAT, "shape[0] is not a non-negative integer"},
        {T1("[1.5]", "[0,8]"), 8, G4_EFORMAT, "shape[0] is not"},
        {T1("[1e300]", "[0,8]"), 8, G4_EFORMAT, "shape[0] is not"},
        {T1("[2,\"2\"]", "[0,8]"), 8, G4_EFORMAT, "shape[1] is not"},
        {T1("[true]", "[0,8]"), 8, G4_EFORMAT, "shape[0] is not"},
        {T1("[9007199254740992]", "[0,8]"), 8, G4_EFORMAT, "shape[0] is not"},
        {T1("[2]", "[0]"), 8, G4_EFORMAT, "data_offsets\" is not an array of 2"},
        {T1("[2]", "[0,8,9]"), 8, G4_EFORMAT, "data_offsets\" is not an array of 2"},
        {T1("[2]", "{}"), 8, G4_EFORMAT, "data_offsets\" is not an array of 2"},
        {T1("[2]", "[-1,7]"), 8, G4_EFORMAT, "data_offsets are not non-negative integers"},
        {T1("[2]", "[0,8.5]"), 8, G4_EFORMAT, "data_offsets are not non-negative integers"},
        {T1("[2]", "[8,0]"), 8, G4_EFORMAT, "begin > end"},
        {T1("[2]", "[0,8]"), 7, G4_EFORMAT, "end past the data buffer (got 8, want <= 7)"},
        {T1("[2]", "[8,16]"), 8, G4_EFORMAT, "end past the data buffer"},
        {T1("[2]", "[0,4]"), 8, G4_EFORMAT, "span 4 bytes, shape x F32 needs 8"},
        {T1("[3]", "[0,8]"), 8, G4_EFORMAT, "needs 12"},
        {T1("[1,1,1,1,1]", "[0,4]"), 4, G4_EUNSUPPORTED, "5 dims (want at most 4)"},
        {T1("[4294967296,4294967296]", "[0,8]"), 8, G4_EFORMAT, "shape product overflows"},
        {T1("[2147483648,2147483648]", "[0,8]"), 8, G4_EFORMAT, "byte size overflows"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
         "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, G4_EFORMAT, "tensors a and b overlap"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
         "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", 16, G4_EFORMAT, "tensor a appears twice"},
        {"{\"__metadata__\":{\"k\":1}}", 0, G4_EFORMAT, "__metadata__.k is not a string"},
        {"{\"__metadata__\":[]}", 0, G4_EFORMAT, "__metadata__ is not a JSON object"},
        {"{\"\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, G4_EFORMAT, "empty name"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const craft_case *c = &cases[i];
        size_t len, hl = strlen(c->json);
        uint8_t *b = craft(c->json, c->dsize, &len);
        char err[G4_ERR_LEN] = "";
        g4_st *st = NULL;
        g4_status s = g4_st_open_mem(&st, b, len, "crafted.st", err);
        CHECKF(s == c->want, "case %zu (%s): status %d want %d: %s", i, c->json, s, c->want, err);
        if (c->msg) CHECKF(strstr(err, c->msg) && strstr(err, "crafted.st"), "case %zu: err '%s' want '%s'", i, err, c->msg);
        if (s == G4_OK) {
            CHECK(st != NULL);
            for (int64_t k = 0; k < g4_st_n_tensors(st); k++) {
                const g4_tensor *t = g4_st_tensor(st, k);
                CHECK((const uint8_t *)t->data >= b + 8 + hl && (const uint8_t *)t->data + t->nbytes <= b + len);
            }
            if (i == 4) { /* 0-d F16 at data offset 2 */
                const g4_tensor *t = g4_st_find(st, "a");
                CHECK(t && t->type == G4_TYPE_F16 && t->n_dims == 1 && t->ne[0] == 1 && t->nbytes == 2 &&
                      (const uint8_t *)t->data == b + 8 + hl + 2);
            }
            g4_st_close(st);
        } else {
            CHECK(st == NULL);
        }
        free(b);
    }
    /* A NUL byte inside the header after the object (JSON text with a terminator in it). */
    {
        const char *j = T1("[2]", "[0,8]");
        size_t hl = strlen(j) + 1, len = 8 + hl + 8;
        uint8_t *b = calloc(1, len);
        for (int k = 0; k < 8; k++) b[k] = (uint8_t)((uint64_t)hl >> (8 * k));
        memcpy(b + 8, j, hl - 1);
        char err[G4_ERR_LEN];
        g4_st *st = NULL;
        CHECK(g4_st_open_mem(&st, b, len, "nul.st", err) == G4_EFORMAT && strstr(err, "unexpected bytes"));
        free(b);
    }
    /* Header length fields that do not fit. */
    uint8_t small[5] = {0};
    char err[G4_ERR_LEN];
    g4_st *st = NULL;
    CHECK(g4_st_open_mem(&st, small, 5, "tiny.st", err) == G4_EFORMAT && strstr(err, "too small") && strstr(err, "tiny.st"));
    CHECK(g4_st_open_mem(&st, small, 0, "tiny.st", err) == G4_EFORMAT);
    uint8_t huge[16];
    memset(huge, 0xff, 8);
    memcpy(huge + 8, "{}      ", 8);
    CHECK(g4_st_open_mem(&st, huge, 16, "huge.st", err) == G4_EFORMAT && strstr(err, "header length too large"));
    huge[0] = 9; /* 9 > 16 - 8 */
    memset(huge + 1, 0, 7);
    CHECK(g4_st_open_mem(&st, huge, 16, "huge.st", err) == G4_EFORMAT && strstr(err, "runs past the end"));
    uint64_t big = 100000001;
    for (int k = 0; k < 8; k++) huge[k] = (uint8_t)(big >> (8 * k));
    CHECK(g4_st_open_mem(&st, huge, 16, "huge.st", err) == G4_EFORMAT && strstr(err, "header length too large"));
    CHECK(st == NULL);
}

/* ---- shard sets on disk ------------------------------------------------------------------- */

static char tmpdir[256];

static void mk(const char *sub) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s", tmpdir, sub);
    mkdir(p, 0755);
}

static void put(const char *sub, const void *d, size_t n) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s", tmpdir, sub);
    write_file(p, d, n);
}

static void expect_dir(const char *sub, g4_status want, const char *msg1, const char *msg2) {
    char p[512], err[G4_ERR_LEN] = "";
    snprintf(p, sizeof p, "%s/%s", tmpdir, sub);
    g4_st *st = NULL;
    g4_status s = g4_st_open_dir(&st, p, err);
    CHECKF(s == want, "%s: status %d want %d: %s", sub, s, want, err);
    if (msg1) CHECKF(strstr(err, msg1) != NULL, "%s: err '%s' want '%s'", sub, err, msg1);
    if (msg2) CHECKF(strstr(err, msg2) != NULL, "%s: err '%s' want '%s'", sub, err, msg2);
    if (s == G4_OK) g4_st_close(st);
    else CHECK(st == NULL);
}

static void put_str(const char *sub, const char *text) { put(sub, text, strlen(text)); }

static void rm_rf(const char *path) {
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", path);
}

static void test_dirs(void) {
    mkdir("tests/tmp", 0755);
    snprintf(tmpdir, sizeof tmpdir, "tests/tmp/test_safetensors.%d", (int)getpid());
    rm_rf(tmpdir);
    if (mkdir(tmpdir, 0755) != 0) {
        check_skip("cannot create tests/tmp dir");
        return;
    }
    size_t l1, l2;
    uint8_t *s1 = slurp(DATA "/sharded/model-00001-of-00002.safetensors", &l1);
    uint8_t *s2 = slurp(DATA "/sharded/model-00002-of-00002.safetensors", &l2);
    CHECK(s1 && s2);
    if (!s1 || !s2) return;

    mk("empty");
    expect_dir("empty", G4_EIO, "no model.safetensors or model.safetensors.index.json", "empty");
    expect_dir("nonexistent", G4_EIO, "nonexistent", NULL);

    /* index naming a shard that is not there */
    mk("missing");
    put("missing/s1.safetensors", s1, l1);
    put_str("missing/model.safetensors.index.json",
              "{\"weight_map\":{\"model.embed.weight\":\"s1.safetensors\",\"model.layers.1.scalar\":\"s2.safetensors\"}}");
    expect_dir("missing", G4_EIO, "missing/s2.safetensors", "cannot open");

    /* path traversal and subdirectories */
    static const char *evil[] = {"../s1.safetensors", "sub/s1.safetensors", "..", "/etc/passwd", "", "a\\b"};
    for (size_t i = 0; i < sizeof evil / sizeof evil[0]; i++) {
        char sub[32], idx[512], json[256];
        snprintf(sub, sizeof sub, "evil%zu", i);
        mk(sub);
        snprintf(idx, sizeof idx, "%s/%s/model.safetensors.index.json", tmpdir, sub);
        snprintf(json, sizeof json, "{\"weight_map\":{\"model.embed.weight\":\"%s\"}}",
                 !strcmp(evil[i], "a\\b") ? "a\\\\b" : evil[i]);
        write_str(idx, json);
        expect_dir(sub, G4_EFORMAT, "not a plain file name", "model.safetensors.index.json");
    }

    /* weight_map disagrees with the shards */
    mk("wrong");
    put("wrong/s1.safetensors", s1, l1);
    put("wrong/s2.safetensors", s2, l2);
    put_str("wrong/model.safetensors.index.json",
              "{\"weight_map\":{\"model.embed.weight\":\"s1.safetensors\",\"model.layers.1.scalar\":\"s1.safetensors\","
              "\"x\":\"s2.safetensors\"}}");
    expect_dir("wrong", G4_EFORMAT, "tensor model.layers.1.scalar is in", "s2.safetensors, weight_map says");
    put_str("wrong/model.safetensors.index.json",
              "{\"weight_map\":{\"model.embed.weight\":\"s1.safetensors\",\"model.nope\":\"s2.safetensors\"}}");
    expect_dir("wrong", G4_EFORMAT, "tensor model.nope listed in weight_map is not in", "s2.safetensors");
    /* tensors of the shards that the map does not list are fine */
    put_str("wrong/model.safetensors.index.json",
              "{\"metadata\":{},\"weight_map\":{\"model.embed.weight\":\"s1.safetensors\",\"model.layers.1.scalar\":\"s2.safetensors\"}}");
    expect_dir("wrong", G4_OK, NULL, NULL);

    /* the same tensor in two shards */
    mk("dup");
    put("dup/a.safetensors", s1, l1);
    put("dup/b.safetensors", s1, l1);
    put_str("dup/model.safetensors.index.json",
              "{\"weight_map\":{\"model.embed.weight\":\"a.safetensors\",\"model.layers.0.norm.weight\":\"b.safetensors\"}}");
    expect_dir("dup", G4_EFORMAT, "appears twice", "a.safetensors");

    /* broken index files */
    static const char *bad_index[][2] = {
        {"{\"weight_map\":", "invalid JSON"},
        {"[]", "no \"weight_map\" object"},
        {"{\"weight_map\":[]}", "no \"weight_map\" object"},
        {"{\"weight_map\":{}}", "weight_map is empty"},
        {"{\"weight_map\":{\"a\":1}}", "weight_map.a is not a string"},
    };
    mk("badidx");
    for (size_t i = 0; i < sizeof bad_index / sizeof bad_index[0]; i++) {
        put_str("badidx/model.safetensors.index.json", bad_index[i][0]);
        expect_dir("badidx", G4_EFORMAT, bad_index[i][1], "model.safetensors.index.json");
    }

    /* a truncated shard: the error names the shard */
    mk("trunc");
    put("trunc/s1.safetensors", s1, l1);
    put("trunc/s2.safetensors", s2, l2 - 3);
    put_str("trunc/model.safetensors.index.json",
              "{\"weight_map\":{\"model.embed.weight\":\"s1.safetensors\",\"model.layers.1.scalar\":\"s2.safetensors\"}}");
    expect_dir("trunc", G4_EFORMAT, "trunc/s2.safetensors", "end past the data buffer");

    /* model.safetensors wins over an index; a directory named model.safetensors is an error */
    mk("both");
    put("both/model.safetensors", s2, l2);
    put_str("both/model.safetensors.index.json", "garbage");
    expect_dir("both", G4_OK, NULL, NULL);
    mk("isdir");
    mk("isdir/model.safetensors");
    expect_dir("isdir", G4_EIO, "not a regular file", NULL);
    /* an empty file */
    mk("zero");
    put("zero/model.safetensors", "", 0);
    expect_dir("zero", G4_EFORMAT, "too small", "zero/model.safetensors");

    free(s1);
    free(s2);
    rm_rf(tmpdir);
}

/* ---- allocation failures -------------------------------------------------------------------- */

static void sweep(const char *dir) {
    int ok = 0, clean = 1;
    long n;
    for (n = 0; n < 10000; n++) {
        char err[G4_ERR_LEN] = "";
        g4_st *st = NULL;
        g4_alloc_fail_at(n);
        g4_status s = g4_st_open_dir(&st, dir, err);
        g4_alloc_fail_at(-1);
        if (s == G4_OK) {
            ok = 1;
            g4_st_close(st);
            break;
        }
        if (s != G4_ENOMEM || st != NULL || !err[0]) {
            clean = 0;
            fprintf(stderr, "%s: alloc %ld: status %d err '%s'\n", dir, n, s, err);
        }
    }
    CHECKF(ok && clean && n > 3, "%s: sweep ok=%d clean=%d n=%ld", dir, ok, clean, n);
}

int main(void) {
    test_fixtures();
    test_dtypes();
    test_crafted();
    test_dirs();
    sweep(DATA "/single");
    sweep(DATA "/sharded");
    return check_done("test_safetensors");
}
