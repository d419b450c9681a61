/* test_gguf.c -- the GGUF reader and writer against gguf-py (tools/make_gguf_fixtures.py).
 *
 * 1. small.gguf (written by gguf-py's GGUFWriter) read back equals small.json (what gguf-py's
 *    GGUFReader sees): every key, type and value, every tensor's name/type/shape/offset/bytes.
 * 2. Our writer rebuilds ours.gguf from ours.json and must produce gguf-py's bytes exactly;
 *    copying small.gguf's key/values and tensors reproduces small.gguf exactly.
 * 3. Bad input: every truncation, flipped fields, huge counts/lengths, bad offsets, types,
 *    alignments, dims, duplicates: a clean error naming the file, never a crash.
 * 4. Allocation-failure sweeps over open, writer building and writing (ASan checks leaks).
 */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "model/gguf.h"

#define DATA "tests/data/gguf/"
#define TMP "tests/tmp/"

static uint8_t *read_all(const char *path, size_t *n) {
    FILE *fp = fopen(path, "rb");
    if (!fp) return NULL;
    fseek(fp, 0, SEEK_END);
    long sz = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    uint8_t *b = malloc(sz > 0 ? (size_t)sz : 1);
    if (b && fread(b, 1, (size_t)sz, fp) != (size_t)sz) { free(b); b = NULL; }
    fclose(fp);
    *n = (size_t)sz;
    return b;
}

static cJSON *load_json(const char *path) {
    size_t n;
    uint8_t *b = read_all(path, &n);
    if (!b) return NULL;
    cJSON *j = cJSON_ParseWithLength((const char *)b, n);
    free(b);
    return j;
}

static cJSON *J(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k); }
static long long Jint(const cJSON *o, const char *k) { return (long long)cJSON_GetNumberValue(J(o, k)); }

static uint8_t *unhex(const char *s, size_t *n) {
    size_t len = strlen(s) / 2;
    uint8_t *b = malloc(len ? len : 1);
    for (size_t i = 0; i < len; i++) {
        unsigned v;
        sscanf(s + 2 * i, "%2x", &v);
        b[i] = (uint8_t)v;
    }
    *n = len;
    return b;
}

static bool is_int_type(int t) { return t <= 5 || t == 10 || t == 11; }
static bool is_signed_type(int t) { return t == 1 || t == 3 || t == 5 || t == 11; }
static size_t elem_size(int t) {
    static const size_t sz[] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
    return t >= 0 && t <= 12 ? sz[t] : 0;
}

/* Expected integer of a JSON string value, as (signed, value). */
static void jint(const cJSON *v, int t, int64_t *s, uint64_t *u) {
    if (is_signed_type(t)) { *s = strtoll(v->valuestring, NULL, 10); *u = (uint64_t)*s; }
    else { *u = strtoull(v->valuestring, NULL, 10); *s = (int64_t)*u; }
}

/* One scalar (non-array) value through every getter: the matching ones return the value,
 * the others refuse. */
static void check_scalar(const g4_gguf *f, const char *key, int t, const cJSON *v) {
    uint32_t u32;
    int64_t i64;
    float f32;
    bool b;
    const char *s;
    size_t len;
    const void *data;
    CHECKF(!g4_gguf_get_arr(f, key, NULL, NULL, &data), "%s", key);
    if (is_int_type(t)) {
        int64_t es;
        uint64_t eu;
        jint(v, t, &es, &eu);
        bool neg = is_signed_type(t) && es < 0;
        bool fits32 = !neg && eu <= UINT32_MAX, fits64 = neg || eu <= INT64_MAX;
        CHECKF(g4_gguf_get_u32(f, key, &u32) == fits32 && (!fits32 || u32 == (uint32_t)eu), "%s u32", key);
        CHECKF(g4_gguf_get_i64(f, key, &i64) == fits64 && (!fits64 || i64 == es), "%s i64", key);
        CHECKF(!g4_gguf_get_f32(f, key, &f32) && !g4_gguf_get_bool(f, key, &b) && !g4_gguf_get_str(f, key, &s, &len), "%s", key);
    } else if (t == G4_GGUF_FLOAT32 || t == G4_GGUF_FLOAT64) {
        float want = (float)strtod(v->valuestring, NULL);
        CHECKF(g4_gguf_get_f32(f, key, &f32) && f32 == want, "%s: got %.9g want %.9g", key, f32, want);
        CHECKF(!g4_gguf_get_u32(f, key, &u32) && !g4_gguf_get_i64(f, key, &i64) && !g4_gguf_get_bool(f, key, &b), "%s", key);
    } else if (t == G4_GGUF_BOOL) {
        CHECKF(g4_gguf_get_bool(f, key, &b) && b == cJSON_IsTrue(v), "%s", key);
        CHECKF(!g4_gguf_get_u32(f, key, &u32) && !g4_gguf_get_i64(f, key, &i64) && !g4_gguf_get_f32(f, key, &f32), "%s", key);
    } else if (t == G4_GGUF_STRING) {
        CHECKF(g4_gguf_get_str(f, key, &s, &len) && len == strlen(v->valuestring) && !memcmp(s, v->valuestring, len), "%s", key);
        CHECKF(!g4_gguf_get_u32(f, key, &u32) && !g4_gguf_get_bool(f, key, &b), "%s", key);
    } else {
        CHECKF(0, "%s: unexpected type %d in the JSON", key, t);
    }
}

static void check_array(const g4_gguf *f, const char *key, const cJSON *v) {
    int et = (int)Jint(v, "elem");
    const cJSON *vals = J(v, "values");
    uint64_t n = (uint64_t)cJSON_GetArraySize(vals);
    g4_gguf_vtype got_et;
    uint64_t got_n;
    const void *data;
    int64_t i64;
    float f32;
    const char *s;
    size_t len;
    CHECKF(g4_gguf_get_arr(f, key, &got_et, &got_n, &data) && (int)got_et == et && got_n == n, "%s", key);
    CHECKF(!g4_gguf_get_u32(f, key, NULL) && !g4_gguf_get_str(f, key, NULL, NULL), "%s", key);
    CHECKF(!g4_gguf_arr_i64(f, key, n, &i64) && !g4_gguf_arr_f32(f, key, n, &f32) && !g4_gguf_get_arr_str(f, key, n, &s, &len),
           "%s: index n must be refused", key);
    for (uint64_t i = 0; i < n; i++) {
        const cJSON *e = cJSON_GetArrayItem(vals, (int)i);
        if (et == G4_GGUF_STRING) {
            CHECKF(data == NULL, "%s", key);
            CHECKF(g4_gguf_get_arr_str(f, key, i, &s, &len) && len == strlen(e->valuestring) && !memcmp(s, e->valuestring, len),
                   "%s[%llu]", key, (unsigned long long)i);
            CHECKF(!g4_gguf_arr_i64(f, key, i, &i64) && !g4_gguf_arr_f32(f, key, i, &f32), "%s", key);
            continue;
        }
        const uint8_t *p = (const uint8_t *)data + i * elem_size(et);
        CHECKF(!g4_gguf_get_arr_str(f, key, i, &s, &len), "%s", key);
        if (is_int_type(et)) {
            int64_t es;
            uint64_t eu = 0, raw = 0;
            jint(e, et, &es, &eu);
            memcpy(&raw, p, elem_size(et));
            uint64_t mask = elem_size(et) == 8 ? ~0ull : (1ull << (8 * elem_size(et))) - 1;
            CHECKF(raw == (eu & mask), "%s[%llu] raw", key, (unsigned long long)i);
            bool fits = is_signed_type(et) || eu <= INT64_MAX;
            CHECKF(g4_gguf_arr_i64(f, key, i, &i64) == fits && (!fits || i64 == es), "%s[%llu]", key, (unsigned long long)i);
            CHECKF(!g4_gguf_arr_f32(f, key, i, &f32), "%s", key);
        } else if (et == G4_GGUF_FLOAT32 || et == G4_GGUF_FLOAT64) {
            double want = strtod(e->valuestring, NULL);
            if (et == G4_GGUF_FLOAT64) {
                double raw;
                memcpy(&raw, p, 8);
                CHECKF(raw == want && signbit(raw) == signbit(want), "%s[%llu]", key, (unsigned long long)i);
            }
            CHECKF(g4_gguf_arr_f32(f, key, i, &f32) && f32 == (float)want, "%s[%llu]", key, (unsigned long long)i);
            CHECKF(!g4_gguf_arr_i64(f, key, i, &i64), "%s", key);
        } else if (et == G4_GGUF_BOOL) {
            CHECKF(*p == (cJSON_IsTrue(e) ? 1 : 0), "%s[%llu]", key, (unsigned long long)i);
        }
    }
}

/* f read back must equal what gguf-py saw (the JSON). */
static void check_file(const g4_gguf *f, const cJSON *ex, const char *label) {
    CHECKF(g4_gguf_version(f) == (uint32_t)Jint(ex, "version"), "%s version", label);
    CHECKF(g4_gguf_data_offset(f) == (size_t)Jint(ex, "data_offset"), "%s data offset %zu", label, g4_gguf_data_offset(f));
    CHECKF(g4_gguf_file_size(f) == (size_t)Jint(ex, "file_size"), "%s size", label);
    const cJSON *kvs = J(ex, "kvs"), *ts = J(ex, "tensors");
    CHECKF(g4_gguf_n_kv(f) == cJSON_GetArraySize(kvs), "%s n_kv %lld", label, (long long)g4_gguf_n_kv(f));
    for (int64_t i = 0; i < g4_gguf_n_kv(f) && i < cJSON_GetArraySize(kvs); i++) {
        const cJSON *kv = cJSON_GetArrayItem(kvs, (int)i);
        const char *key = J(kv, "key")->valuestring;
        int t = (int)Jint(kv, "type");
        CHECKF(!strcmp(g4_gguf_kv_key(f, i), key), "%s kv %lld: %s vs %s", label, (long long)i, g4_gguf_kv_key(f, i), key);
        CHECKF(g4_gguf_find_key(f, key) == i, "%s find %s", label, key);
        CHECKF((int)g4_gguf_kv_type(f, i) == t, "%s %s type", label, key);
        if (t == G4_GGUF_ARRAY) check_array(f, key, J(kv, "value"));
        else check_scalar(f, key, t, J(kv, "value"));
    }
    CHECKF(g4_gguf_n_tensors(f) == cJSON_GetArraySize(ts), "%s n_tensors", label);
    const g4_tensor *t0 = g4_gguf_tensor(f, 0);
    for (int64_t i = 0; i < g4_gguf_n_tensors(f) && i < cJSON_GetArraySize(ts); i++) {
        const cJSON *e = cJSON_GetArrayItem(ts, (int)i);
        const g4_tensor *t = g4_gguf_tensor(f, i);
        const char *name = J(e, "name")->valuestring;
        const cJSON *ne = J(e, "ne");
        CHECKF(!strcmp(t->name, name), "%s tensor %lld name %s", label, (long long)i, t->name);
        CHECKF(g4_gguf_find_tensor(f, name) == t, "%s find %s", label, name);
        CHECKF((int)t->type == Jint(e, "type"), "%s %s type", label, name);
        CHECKF(t->n_dims == cJSON_GetArraySize(ne), "%s %s n_dims", label, name);
        for (int d = 0; d < G4_MAX_DIMS; d++) {
            int64_t want = d < cJSON_GetArraySize(ne) ? (int64_t)cJSON_GetNumberValue(cJSON_GetArrayItem(ne, d)) : 1;
            CHECKF(t->ne[d] == want, "%s %s ne[%d] %lld", label, name, d, (long long)t->ne[d]);
        }
        CHECKF(t->nbytes == (size_t)Jint(e, "nbytes"), "%s %s nbytes", label, name);
        CHECKF((const uint8_t *)t->data - (const uint8_t *)t0->data == Jint(e, "offset") - Jint(cJSON_GetArrayItem(ts, 0), "offset"),
               "%s %s offset", label, name);
        size_t n;
        uint8_t *want = unhex(J(e, "hex")->valuestring, &n);
        CHECKF(n == t->nbytes && !memcmp(want, t->data, n), "%s %s data", label, name);
        free(want);
    }
    CHECK(g4_gguf_tensor(f, -1) == NULL && g4_gguf_tensor(f, g4_gguf_n_tensors(f)) == NULL);
    CHECK(g4_gguf_find_tensor(f, "no.such.tensor") == NULL && g4_gguf_find_key(f, "no.such.key") == -1);
    CHECK(!g4_gguf_get_u32(f, "no.such.key", NULL) && g4_gguf_kv_key(f, g4_gguf_n_kv(f)) == NULL);
}

/* ---------------------------------------------------------------- writer from a JSON spec */

typedef struct {
    uint8_t *bufs[64];
    int n;
} bufset;

static void bufs_free(bufset *b) {
    for (int i = 0; i < b->n; i++) free(b->bufs[i]);
    b->n = 0;
}

static g4_status set_from_json(g4_gguf_writer *w, const cJSON *kv) {
    const char *key = J(kv, "key")->valuestring;
    const cJSON *v = J(kv, "value");
    int64_t s;
    uint64_t u;
    switch ((int)Jint(kv, "type")) {
    case G4_GGUF_UINT32: jint(v, 4, &s, &u); return g4_gguf_set_u32(w, key, (uint32_t)u);
    case G4_GGUF_INT32: jint(v, 5, &s, &u); return g4_gguf_set_i32(w, key, (int32_t)s);
    case G4_GGUF_UINT64: jint(v, 10, &s, &u); return g4_gguf_set_u64(w, key, u);
    case G4_GGUF_FLOAT32: return g4_gguf_set_f32(w, key, (float)strtod(v->valuestring, NULL));
    case G4_GGUF_BOOL: return g4_gguf_set_bool(w, key, cJSON_IsTrue(v));
    case G4_GGUF_STRING: return g4_gguf_set_str(w, key, v->valuestring, strlen(v->valuestring));
    case G4_GGUF_ARRAY: break;
    default: return G4_EINVAL;
    }
    int et = (int)Jint(v, "elem");
    const cJSON *vals = J(v, "values");
    int n = cJSON_GetArraySize(vals);
    g4_status st;
    if (et == G4_GGUF_STRING) {
        const char **ss = malloc(sizeof *ss * (size_t)(n + 1));
        size_t *lens = malloc(sizeof *lens * (size_t)(n + 1));
        for (int i = 0; i < n; i++) {
            ss[i] = cJSON_GetArrayItem(vals, i)->valuestring;
            lens[i] = strlen(ss[i]);
        }
        st = g4_gguf_set_arr_str(w, key, ss, lens, (uint64_t)n);
        free(ss);
        free(lens);
        return st;
    }
    size_t es = elem_size(et);
    uint8_t *buf = calloc((size_t)n + 1, es);
    for (int i = 0; i < n; i++) {
        const cJSON *e = cJSON_GetArrayItem(vals, i);
        uint8_t *p = buf + (size_t)i * es;
        if (is_int_type(et)) { jint(e, et, &s, &u); memcpy(p, &u, es); }
        else if (et == G4_GGUF_FLOAT32) { float x = (float)strtod(e->valuestring, NULL); memcpy(p, &x, 4); }
        else if (et == G4_GGUF_FLOAT64) { double x = strtod(e->valuestring, NULL); memcpy(p, &x, 8); }
        else *p = cJSON_IsTrue(e);
    }
    st = g4_gguf_set_arr(w, key, (g4_gguf_vtype)et, buf, (uint64_t)n);
    free(buf);
    return st;
}

/* Fill w from spec: every key first set to a placeholder (so replacement is exercised and
 * the order stays the spec's), then the real values, then the tensors. */
static g4_status build_from_json(g4_gguf_writer *w, const cJSON *spec, bufset *bufs) {
    const cJSON *kv, *t;
    g4_status st;
    cJSON_ArrayForEach(kv, J(spec, "kvs")) {
        if ((st = g4_gguf_set_u32(w, J(kv, "key")->valuestring, 12345))) return st;
    }
    cJSON_ArrayForEach(kv, J(spec, "kvs")) {
        if ((st = set_from_json(w, kv))) return st;
    }
    cJSON_ArrayForEach(t, J(spec, "tensors")) {
        int64_t ne[G4_MAX_DIMS];
        int nd = cJSON_GetArraySize(J(t, "ne"));
        for (int d = 0; d < nd; d++) ne[d] = (int64_t)cJSON_GetNumberValue(cJSON_GetArrayItem(J(t, "ne"), d));
        size_t n;
        uint8_t *data = unhex(J(t, "hex")->valuestring, &n);
        bufs->bufs[bufs->n++] = data;
        if ((st = g4_gguf_add_tensor(w, J(t, "name")->valuestring, (g4_type)Jint(t, "type"), nd, ne, data, n))) return st;
    }
    return G4_OK;
}

static bool same_file(const char *a, const char *b) {
    size_t na, nb;
    uint8_t *x = read_all(a, &na), *y = read_all(b, &nb);
    bool same = x && y && na == nb && !memcmp(x, y, na);
    free(x);
    free(y);
    return same;
}

static bool exists(const char *p) { return access(p, F_OK) == 0; }

static void test_reader(const cJSON *small) {
    g4_gguf *f = NULL;
    char err[G4_ERR_LEN] = "";
    g4_status st = g4_gguf_open(&f, DATA "small.gguf", err);
    CHECKF(st == G4_OK && f, "open small.gguf: %s", err);
    if (!f) return;
    CHECK(!strcmp(g4_gguf_path(f), DATA "small.gguf"));
    check_file(f, small, "small.gguf");
    /* a few conversions spelled out */
    uint32_t u;
    int64_t i;
    float x;
    CHECK(g4_gguf_get_u32(f, "gemma4.block_count", &u) && u == 6);
    CHECK(g4_gguf_get_u32(f, "test.u8", &u) && u == 200);
    CHECK(!g4_gguf_get_u32(f, "test.i8", &u) && g4_gguf_get_i64(f, "test.i8", &i) && i == -100);
    CHECK(!g4_gguf_get_i64(f, "test.u64", &i) && !g4_gguf_get_u32(f, "test.u64", &u));
    CHECK(g4_gguf_get_f32(f, "test.f64", &x) && x == 2.7182817f);
    CHECK(g4_gguf_arr_i64(f, "gemma4.attention.head_count_kv", 5, &i) && i == 4);
    g4_gguf_close(f);

    /* the same bytes through open_mem */
    size_t n;
    uint8_t *b = read_all(DATA "small.gguf", &n);
    CHECK(g4_gguf_open_mem(&f, b, n, "small-mem", err) == G4_OK);
    if (f) { check_file(f, small, "small-mem"); g4_gguf_close(f); }
    /* version 2 has the same little-endian layout and is accepted */
    b[4] = 2;
    CHECKF(g4_gguf_open_mem(&f, b, n, "small-v2", err) == G4_OK, "%s", err);
    if (f) { CHECK(g4_gguf_version(f) == 2 && g4_gguf_n_tensors(f) == 7); g4_gguf_close(f); }
    free(b);
}

static void test_writer(const cJSON *ours, const cJSON *small) {
    char err[G4_ERR_LEN] = "";
    bufset bufs = {0};
    g4_gguf_writer *w = g4_gguf_writer_new();
    CHECK(w != NULL);
    g4_status st = build_from_json(w, ours, &bufs);
    CHECKF(st == G4_OK, "build ours: %d", st);
    remove(TMP "ours.gguf");
    st = g4_gguf_writer_write(w, TMP "ours.gguf", err);
    CHECKF(st == G4_OK, "write ours: %s", err);
    g4_gguf_writer_free(w);
    bufs_free(&bufs);
    CHECKF(same_file(TMP "ours.gguf", DATA "ours.gguf"), "our writer's bytes differ from gguf-py's " DATA "ours.gguf");
    CHECK(!exists(TMP "ours.gguf.tmp"));
    g4_gguf *f = NULL;
    CHECKF(g4_gguf_open(&f, TMP "ours.gguf", err) == G4_OK, "%s", err);
    if (f) { check_file(f, ours, "tmp/ours.gguf"); g4_gguf_close(f); }

    /* copy: small.gguf's kvs + tensors reproduce small.gguf byte for byte */
    g4_gguf *src = NULL;
    CHECK(g4_gguf_open(&src, DATA "small.gguf", err) == G4_OK);
    if (!src) return;
    w = g4_gguf_writer_new();
    CHECK(g4_gguf_copy_kvs(w, src) == G4_OK);
    for (int64_t i = 0; i < g4_gguf_n_tensors(src); i++) {
        const g4_tensor *t = g4_gguf_tensor(src, i);
        CHECK(g4_gguf_add_tensor(w, t->name, t->type, t->n_dims, t->ne, t->data, t->nbytes) == G4_OK);
    }
    CHECKF(g4_gguf_writer_write(w, TMP "copy.gguf", err) == G4_OK, "%s", err);
    CHECKF(same_file(TMP "copy.gguf", DATA "small.gguf"), "copy of small.gguf differs");
    CHECK(g4_gguf_open(&f, TMP "copy.gguf", err) == G4_OK);
    if (f) { check_file(f, small, "tmp/copy.gguf"); g4_gguf_close(f); }

    /* argument errors */
    const g4_tensor *t = g4_gguf_tensor(src, 0);
    CHECK(g4_gguf_add_tensor(w, t->name, t->type, t->n_dims, t->ne, t->data, t->nbytes) == G4_EINVAL); /* duplicate */
    CHECK(g4_gguf_add_tensor(w, "x", t->type, t->n_dims, t->ne, t->data, t->nbytes - 1) == G4_EINVAL);
    CHECK(g4_gguf_add_tensor(w, "x", t->type, 0, t->ne, t->data, t->nbytes) == G4_EINVAL);
    CHECK(g4_gguf_add_tensor(w, "x", t->type, 5, t->ne, t->data, t->nbytes) == G4_EINVAL);
    CHECK(g4_gguf_add_tensor(w, "x", (g4_type)3, t->n_dims, t->ne, t->data, t->nbytes) == G4_EINVAL);
    int64_t bad_ne[2] = {t->ne[0], 0};
    CHECK(g4_gguf_add_tensor(w, "x", t->type, 2, bad_ne, t->data, t->nbytes) == G4_EINVAL);
    CHECK(g4_gguf_set_arr(w, "x", G4_GGUF_STRING, "ab", 1) == G4_EINVAL);
    CHECK(g4_gguf_set_arr(w, "x", G4_GGUF_ARRAY, "ab", 1) == G4_EINVAL);
    /* unwritable path: clean error naming it, nothing left behind */
    err[0] = 0;
    st = g4_gguf_writer_write(w, TMP "no/such/dir/x.gguf", err);
    CHECKF(st == G4_EIO && strstr(err, TMP "no/such/dir/x.gguf"), "%d %s", st, err);
    /* a bad general.alignment is refused */
    CHECK(g4_gguf_set_u64(w, "general.alignment", 32) == G4_OK);
    err[0] = 0;
    CHECK(g4_gguf_writer_write(w, TMP "badalign.gguf", err) == G4_EINVAL && strstr(err, "badalign.gguf") && !exists(TMP "badalign.gguf"));
    CHECK(g4_gguf_set_u32(w, "general.alignment", 48) == G4_OK);
    CHECK(g4_gguf_writer_write(w, TMP "badalign.gguf", err) == G4_EINVAL && !exists(TMP "badalign.gguf"));
    /* a custom alignment is honoured */
    CHECK(g4_gguf_set_u32(w, "general.alignment", 64) == G4_OK);
    CHECKF(g4_gguf_writer_write(w, TMP "align64.gguf", err) == G4_OK, "%s", err);
    g4_gguf_writer_free(w);
    CHECKF(g4_gguf_open(&f, TMP "align64.gguf", err) == G4_OK, "%s", err);
    if (f) {
        CHECK(g4_gguf_data_offset(f) % 64 == 0);
        for (int64_t i = 0; i < g4_gguf_n_tensors(f); i++) {
            const g4_tensor *a = g4_gguf_tensor(f, i), *b = g4_gguf_tensor(src, i);
            CHECK(((const uint8_t *)a->data - (const uint8_t *)g4_gguf_tensor(f, 0)->data) % 64 == 0);
            CHECK(a->nbytes == b->nbytes && !memcmp(a->data, b->data, a->nbytes) && !strcmp(a->name, b->name));
        }
        g4_gguf_close(f);
    }
    /* an empty writer makes a valid, empty file */
    w = g4_gguf_writer_new();
    CHECK(g4_gguf_set_str(w, "general.architecture", "gemma4", 6) == G4_OK);
    CHECK(g4_gguf_writer_write(w, TMP "empty_ok.gguf", err) == G4_OK);
    g4_gguf_writer_free(w);
    CHECK(g4_gguf_open(&f, TMP "empty_ok.gguf", err) == G4_OK && g4_gguf_n_tensors(f) == 0 && g4_gguf_n_kv(f) == 1);
    g4_gguf_close(f);
    g4_gguf_close(src);
}

/* ---------------------------------------------------------------- bad input */

static void expect_bad(const uint8_t *b, size_t n, g4_status want, const char *what) {
    uint8_t *copy = malloc(n ? n : 1); /* exactly n bytes: ASan catches any read past them */
    if (n) memcpy(copy, b, n);
    g4_gguf *f = (g4_gguf *)1;
    char err[G4_ERR_LEN] = "";
    g4_status st = g4_gguf_open_mem(&f, copy, n, "mut.gguf", err);
    if (getenv("SHOWERR")) printf("%-40s %s\n", what, err);
    CHECKF(st == want && f == NULL && err[0] && strstr(err, "mut.gguf"), "%s: status %d (want %d), err '%s'", what, st, want, err);
    if (st == G4_OK) g4_gguf_close(f);
    free(copy);
}

static size_t find(const uint8_t *b, size_t n, const char *s) {
    const uint8_t *p = memmem(b, n, s, strlen(s));
    G4_ASSERT(p);
    return (size_t)(p - b);
}

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

/* Patch a copy of the file, expect an error, restore. */
#define MUT(setup, want, what)                                  \
    do {                                                        \
        memcpy(m, b, n);                                        \
        setup;                                                  \
        expect_bad(m, n, want, what);                           \
    } while (0)

static void test_bad(const cJSON *small) {
    size_t n;
    uint8_t *b = read_all(DATA "small.gguf", &n);
    uint8_t *m = malloc(n);
    if (!b || !m) { CHECK(0); free(b); free(m); return; }

    /* every truncation fails (the last tensor ends exactly at the end of the file) */
    const cJSON *ts = J(small, "tensors");
    long long min_ok = 0;
    const cJSON *t;
    cJSON_ArrayForEach(t, ts) min_ok = G4_MAX(min_ok, Jint(small, "data_offset") + Jint(t, "offset") + Jint(t, "nbytes"));
    CHECK((size_t)min_ok == n);
    int trunc_ok = 0;
    for (size_t len = 0; len < n; len++) {
        g4_gguf *f = NULL;
        char err[G4_ERR_LEN] = "";
        uint8_t *c = malloc(len ? len : 1);
        memcpy(c, b, len);
        g4_status st = g4_gguf_open_mem(&f, c, len, "trunc.gguf", err);
        if (st == G4_EFORMAT && !f && strstr(err, "trunc.gguf")) trunc_ok++;
        else fprintf(stderr, "truncated at %zu: status %d err '%s'\n", len, st, err);
        g4_gguf_close(f);
        free(c);
    }
    CHECKF(trunc_ok == (int)n, "%d of %zu truncations failed cleanly", trunc_ok, n);

    size_t arch = find(b, n, "general.architecture") + 20, align = find(b, n, "general.alignment") + 17;
    size_t name = find(b, n, "general.name") + 12, u8 = find(b, n, "test.u8") + 7, i8 = find(b, n, "test.i8");
    size_t ai32 = find(b, n, "test.arr_i32") + 12, toks = find(b, n, "tokenizer.ggml.tokens") + 21;
    size_t outn = find(b, n, "output_norm.weight") + 18, four = find(b, n, "blk.0.four_d") + 12;
    size_t embd = find(b, n, "token_embd.weight") + 17, up = find(b, n, "blk.0.ffn_up.weight");
    /* output_norm: n_dims (1), ne[0], type, offset */
    size_t out_type = outn + 4 + 8, out_off = out_type + 4;
    MUT(m[0] ^= 0xff, G4_EFORMAT, "bad magic");
    MUT(put32(m + 4, 1), G4_EFORMAT, "version 1");
    MUT(put32(m + 4, 4), G4_EFORMAT, "version 4");
    MUT(put32(m + 4, 0x03000000), G4_EFORMAT, "big-endian version");
    MUT(put64(m + 8, 1ull << 62), G4_EFORMAT, "n_tensors 2^62");
    MUT(put64(m + 16, 1ull << 62), G4_EFORMAT, "n_kv 2^62");
    MUT(put64(m + 16, n / 13 + 1), G4_EFORMAT, "n_kv just too big");
    MUT(put64(m + 16, 40), G4_EFORMAT, "n_kv larger than the kvs present");
    MUT(put64(m + 24, 1ull << 63), G4_EFORMAT, "key length 2^63");
    MUT(put64(m + arch + 4, 1ull << 63), G4_EFORMAT, "string value length 2^63");
    MUT(put64(m + name + 4, n), G4_EFORMAT, "string value length = file size");
    MUT(put32(m + u8, 13), G4_EFORMAT, "unknown value type 13");
    MUT(put32(m + u8, 0xffffffffu), G4_EFORMAT, "unknown value type 2^32-1");
    MUT(memcpy(m + i8, "test.u8", 7), G4_EFORMAT, "duplicate key");
    MUT(m[i8 + 2] = 0, G4_EFORMAT, "NUL in key");
    MUT(put32(m + ai32 + 4, 9), G4_EUNSUPPORTED, "array of arrays");
    MUT(put32(m + ai32 + 4, 77), G4_EFORMAT, "unknown array element type");
    MUT(put64(m + ai32 + 8, 1ull << 61), G4_EFORMAT, "array count 2^61");
    MUT(put64(m + toks + 8, 1ull << 62), G4_EFORMAT, "string array count 2^62");
    MUT(put64(m + toks + 16, 1ull << 63), G4_EFORMAT, "array string length 2^63");
    MUT(put32(m + align + 4, 0), G4_EFORMAT, "alignment 0");
    MUT(put32(m + align + 4, 3), G4_EFORMAT, "alignment 3");
    MUT(put32(m + align, G4_GGUF_INT32), G4_EFORMAT, "alignment of type int32");
    MUT(put64(m + out_off, 896), G4_EFORMAT, "tensor offset just past the end");
    MUT(put64(m + out_off, 1ull << 40), G4_EFORMAT, "tensor offset 2^40");
    MUT(put64(m + out_off, ~0ull - 31), G4_EFORMAT, "tensor offset + size overflows");
    MUT(put64(m + out_off, 865), G4_EFORMAT, "misaligned tensor offset");
    MUT(put32(m + out_type, 99), G4_EUNSUPPORTED, "unknown type id 99");
    MUT(put32(m + out_type, 3), G4_EUNSUPPORTED, "unknown type id 3 (q4_1)");
    MUT(put32(m + out_type, 0xffffffffu), G4_EUNSUPPORTED, "unknown type id 2^32-1");
    MUT(put32(m + four, 0), G4_EFORMAT, "n_dims 0");
    MUT(put32(m + four, 5), G4_EFORMAT, "n_dims 5");
    MUT(put64(m + four + 4, 0), G4_EFORMAT, "ne[0] = 0");
    MUT(put64(m + four + 4 + 8, 1ull << 63), G4_EFORMAT, "ne[1] = 2^63");
    MUT((put64(m + four + 12, 1ull << 31), put64(m + four + 20, 1ull << 31), put64(m + four + 28, 1ull << 31)),
        G4_EFORMAT, "ne product overflows");
    MUT(put64(m + four + 4, 1ull << 62), G4_EFORMAT, "row bytes overflow");
    MUT(put64(m + embd + 4, 65), G4_EFORMAT, "q8_0 ne[0] not a multiple of 32");
    MUT(memcpy(m + up, "blk.0.attn_q.weight", 19), G4_EFORMAT, "duplicate tensor name");
    expect_bad(b, 0, G4_EFORMAT, "empty");

    /* the path variants */
    g4_gguf *f = NULL;
    char err[G4_ERR_LEN] = "";
    CHECKF(g4_gguf_open(&f, TMP "does-not-exist.gguf", err) == G4_EIO && strstr(err, "does-not-exist.gguf") && !f, "%s", err);
    CHECKF(g4_gguf_open(&f, DATA, err) == G4_EIO && strstr(err, DATA) && !f, "%s", err);
    FILE *fp = fopen(TMP "empty.gguf", "wb");
    if (fp) fclose(fp);
    CHECKF(g4_gguf_open(&f, TMP "empty.gguf", err) == G4_EFORMAT && strstr(err, "empty.gguf") && !f, "%s", err);
    memcpy(m, b, n);
    put64(m + out_off, 896);
    fp = fopen(TMP "bad_offset.gguf", "wb");
    if (fp) { fwrite(m, 1, n, fp); fclose(fp); }
    CHECKF(g4_gguf_open(&f, TMP "bad_offset.gguf", err) == G4_EFORMAT && strstr(err, TMP "bad_offset.gguf") &&
           strstr(err, "output_norm.weight") && !f, "%s", err);
    free(m);
    free(b);
}

/* Inputs the fuzzer once crashed on (DATA "regress-*"): must just not crash. */
static void test_regressions(void) {
    DIR *d = opendir(DATA);
    struct dirent *e;
    int count = 0;
    while (d && (e = readdir(d))) {
        if (strncmp(e->d_name, "regress-", 8)) continue;
        char path[512];
        snprintf(path, sizeof path, DATA "%s", e->d_name);
        g4_gguf *f = NULL;
        char err[G4_ERR_LEN] = "";
        g4_status st = g4_gguf_open(&f, path, err);
        CHECKF(st == G4_OK || (err[0] && !f), "%s", path);
        g4_gguf_close(f);
        count++;
    }
    if (d) closedir(d);
    printf("replayed %d fuzz regression inputs\n", count);
}

/* ---------------------------------------------------------------- allocation failures */

static void test_alloc_fail(const cJSON *ours) {
    int fails = 0, bad = 0;
    long n;
    for (n = 0; n < 10000; n++) {
        g4_gguf *f = NULL;
        char err[G4_ERR_LEN] = "";
        g4_alloc_fail_at(n);
        g4_status st = g4_gguf_open(&f, DATA "small.gguf", err);
        g4_alloc_fail_at(-1);
        if (st == G4_OK) { g4_gguf_close(f); break; }
        fails++;
        if (st != G4_ENOMEM || f || !strstr(err, "small.gguf")) { bad++; fprintf(stderr, "open fail at %ld: %d %s\n", n, st, err); }
    }
    CHECKF(bad == 0 && fails > 0 && n < 10000, "open sweep: %d failures, %d bad", fails, bad);

    fails = bad = 0;
    for (n = 0; n < 10000; n++) {
        char err[G4_ERR_LEN] = "";
        bufset bufs = {0};
        remove(TMP "sweep.gguf");
        g4_alloc_fail_at(n);
        g4_gguf_writer *w = g4_gguf_writer_new();
        g4_status st = w ? build_from_json(w, ours, &bufs) : G4_ENOMEM;
        if (st == G4_OK) st = g4_gguf_writer_write(w, TMP "sweep.gguf", err);
        g4_gguf_writer_free(w);
        g4_alloc_fail_at(-1);
        bufs_free(&bufs);
        if (st == G4_OK) break;
        fails++;
        if (st != G4_ENOMEM || exists(TMP "sweep.gguf") || exists(TMP "sweep.gguf.tmp")) {
            bad++;
            fprintf(stderr, "writer fail at %ld: %d %s\n", n, st, err);
        }
    }
    CHECKF(bad == 0 && fails > 0 && n < 10000, "writer sweep: %d failures, %d bad", fails, bad);
    CHECK(same_file(TMP "sweep.gguf", DATA "ours.gguf"));

    g4_gguf *src = NULL;
    char err[G4_ERR_LEN];
    if (g4_gguf_open(&src, DATA "small.gguf", err) != G4_OK) { CHECK(0); return; }
    fails = bad = 0;
    for (n = 0; n < 10000; n++) {
        g4_alloc_fail_at(n);
        g4_gguf_writer *w = g4_gguf_writer_new();
        g4_status st = w ? g4_gguf_copy_kvs(w, src) : G4_ENOMEM;
        for (int64_t i = 0; st == G4_OK && i < g4_gguf_n_tensors(src); i++) {
            const g4_tensor *t = g4_gguf_tensor(src, i);
            st = g4_gguf_add_tensor(w, t->name, t->type, t->n_dims, t->ne, t->data, t->nbytes);
        }
        g4_gguf_writer_free(w);
        g4_alloc_fail_at(-1);
        if (st == G4_OK) break;
        fails++;
        if (st != G4_ENOMEM) bad++;
    }
    CHECKF(bad == 0 && fails > 0 && n < 10000, "copy sweep: %d failures, %d bad", fails, bad);
    g4_gguf_close(src);
}

int main(void) {
    mkdir("tests/tmp", 0777);
    cJSON *small = load_json(DATA "small.json"), *ours = load_json(DATA "ours.json");
    CHECKF(small && ours, "cannot load " DATA "small.json / ours.json (run tools/make_gguf_fixtures.py)");
    if (small && ours) {
        test_reader(small);
        test_writer(ours, small);
        test_bad(small);
        test_regressions();
        test_alloc_fail(ours);
    }
    cJSON_Delete(small);
    cJSON_Delete(ours);
    return check_done("test_gguf");
}
