/* fuzz_gguf.c -- libFuzzer target: g4_gguf_open_mem on arbitrary bytes, then every accessor
 * over every key and tensor, touching every byte a successful open promises is readable.
 * Seeds: fuzz/seeds-gguf/ (small valid files written by gguf-py and by our writer). */
#include <stdint.h>
#include <string.h>

#include "model/gguf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile uint64_t sink;

static void touch(const void *p, size_t n) {
    const uint8_t *b = p;
    uint64_t s = 0;
    for (size_t i = 0; i < n; i++) s += b[i];
    sink += s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    g4_gguf *f = NULL;
    char err[G4_ERR_LEN];
    if (g4_gguf_open_mem(&f, data, size, "fuzz.gguf", err) != G4_OK) {
        if (f || !err[0]) __builtin_trap(); /* failures must be clean and explained */
        return 0;
    }
    for (int64_t i = 0; i < g4_gguf_n_kv(f); i++) {
        const char *key = g4_gguf_kv_key(f, i);
        if (g4_gguf_find_key(f, key) != i) __builtin_trap();
        uint32_t u;
        int64_t v;
        float x;
        bool b;
        const char *s;
        size_t len;
        g4_gguf_vtype et;
        uint64_t n;
        const void *arr;
        (void)g4_gguf_kv_type(f, i);
        sink += g4_gguf_get_u32(f, key, &u) + g4_gguf_get_i64(f, key, &v) + g4_gguf_get_f32(f, key, &x) +
                g4_gguf_get_bool(f, key, &b);
        if (g4_gguf_get_str(f, key, &s, &len)) touch(s, len);
        if (g4_gguf_get_arr(f, key, &et, &n, &arr)) {
            for (uint64_t k = 0; k < n; k++) {
                if (g4_gguf_get_arr_str(f, key, k, &s, &len)) touch(s, len);
                sink += g4_gguf_arr_i64(f, key, k, &v) + g4_gguf_arr_f32(f, key, k, &x);
            }
            if (arr && n) { /* numeric arrays: all n elements lie in the input */
                size_t es = et == G4_GGUF_UINT8 || et == G4_GGUF_INT8 || et == G4_GGUF_BOOL ? 1
                            : et == G4_GGUF_UINT16 || et == G4_GGUF_INT16                   ? 2
                            : et == G4_GGUF_UINT64 || et == G4_GGUF_INT64 || et == G4_GGUF_FLOAT64 ? 8 : 4;
                touch(arr, (size_t)n * es);
            }
        }
    }
    for (int64_t i = 0; i < g4_gguf_n_tensors(f); i++) {
        const g4_tensor *t = g4_gguf_tensor(f, i);
        if (g4_gguf_find_tensor(f, t->name) != t) __builtin_trap();
        if (t->n_dims < 1 || t->n_dims > G4_MAX_DIMS || g4_tensor_nelem(t) <= 0) __builtin_trap();
        touch(t->data, t->nbytes);
    }
    g4_gguf_close(f);
    return 0;
}
