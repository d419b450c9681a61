/* fuzz_safetensors.c -- libFuzzer target: g4_st_open_mem over arbitrary bytes.
 * Seeds: tests/data/safetensors (the .safetensors files under it).
 * Any tensor it accepts must lie inside the input and be findable by name. */
#include "model/safetensors.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char err[G4_ERR_LEN];
    g4_st *st = NULL;
    if (g4_st_open_mem(&st, data, size, "fuzz", err) != G4_OK) {
        if (st || !strstr(err, "fuzz")) __builtin_trap();
        return 0;
    }
    for (int64_t i = 0; i < g4_st_n_tensors(st); i++) {
        const g4_tensor *t = g4_st_tensor(st, i);
        const uint8_t *p = t->data;
        if (p < data || p + t->nbytes > data + size || g4_st_find(st, t->name) != t) __builtin_trap();
        if (t->n_dims < 1 || t->n_dims > G4_MAX_DIMS) __builtin_trap();
        uint8_t sum = 0;
        for (size_t k = 0; k < t->nbytes; k++) sum += p[k]; /* ASan checks every byte is readable */
        __asm__ volatile("" : : "r"(sum));
    }
    g4_st_close(st);
    return 0;
}
