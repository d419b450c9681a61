/* fuzz_model.c -- libFuzzer target: the input is a GGUF file; load it as a model from memory and,
 * if that works, run two tokens through a context of 8 positions.
 *
 * A load may fail (with a message) but must never crash, and whatever it accepts the forward pass
 * must be able to run: shapes and hyper-parameters are validated at load so the kernels can trust
 * them.  Seeds: fuzz/seeds-model/ (tiny-c converted to q8_0, a few hand-made headers).  Crash
 * inputs found here are kept there and replayed by tests/test_model_errors.c.
 */
#include <stdint.h>
#include <string.h>

#include "model/ctx.h"
#include "model/model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char err[G4_ERR_LEN];
    err[0] = 0;
    g4_model *m = NULL;
    if (g4_model_load_gguf_mem(&m, data, size, "fuzz.gguf", err) != G4_OK) {
        if (m || !err[0] || !strstr(err, "fuzz.gguf")) __builtin_trap(); /* failures are clean and explained */
        return 0;
    }
    const g4_config *cf = &m->cfg;
    g4_ctx_params p = {.n_ctx = G4_MIN(8, cf->n_ctx_train), .n_batch = 8, .n_threads = 1};
    g4_ctx *c = NULL;
    if (g4_ctx_new(&c, m, &p, err) == G4_OK) {
        float *logits = g4_malloc(sizeof(float) * (size_t)cf->n_vocab);
        int ids[2] = {cf->bos_id, cf->n_vocab - 1};
        const int n = G4_MIN(2, p.n_ctx);
        if (logits && g4_ctx_eval(c, ids, n, logits, 0, err) != G4_OK) __builtin_trap();
        g4_free(logits);
        g4_ctx_free(c);
    } else if (c) {
        __builtin_trap();
    }
    g4_model_free(m);
    return 0;
}
