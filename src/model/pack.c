/* pack.c -- the weight layout of --q8-act: every q4_0, q8_0, q4_K and q6_K matrix repacked 8 rows at a time (core/qdot.h), once,
 * at load, into one block the model owns.  The q8 kernels then read only the packed copy, so the file's
 * pages for those matrices are handed back as each is done: resident memory stays about the size of the
 * weights, not twice it.  (The original views stay valid: anything else that reads them, such as an
 * embedding lookup in the tied LM head, faults the pages it needs back in from the file.)
 */
#include "model.h"

#include <string.h>

#include "../core/qdot.h"
#include "../core/quant.h"
#include "gguf.h"

static int packable(const g4_tensor *t) {
    return g4_x8_type(t->type) && g4_qdot_x8(t->type) && t->ne[2] == 1 && t->ne[3] == 1 && t->ne[0] % 32 == 0 &&
           t->ne[1] % G4_X8_ROWS == 0 && t->ne[1] > 0 && !t->packed;
}

g4_status g4_model_pack_q8(g4_model *m, char *err) {
    if (m->packed) return G4_OK;
    size_t total = 0;
    for (int i = 0; i < m->n_tensors; i++)
        if (packable(&m->tensors[i])) total += m->tensors[i].nbytes; /* same size packed */
    if (total == 0) return G4_OK;
    uint8_t *block = g4_malloc(total);
    if (!block) return g4_errf(err, G4_ENOMEM, "%s: out of memory packing %.1f MiB of quantized weights", m->path,
                               (double)total / (1 << 20));
    size_t off = 0;
    for (int i = 0; i < m->n_tensors; i++) {
        g4_tensor *t = &m->tensors[i];
        if (!packable(t)) continue;
        const size_t rb = g4_row_size(t->type, t->ne[0]);
        for (int64_t g = 0; g < t->ne[1] / G4_X8_ROWS; g++)
            g4_pack_x8(t->type, (const uint8_t *)t->data + (size_t)g * G4_X8_ROWS * rb, rb, t->ne[0],
                       block + off + (size_t)g * G4_X8_ROWS * rb);
        t->packed = block + off;
        off += t->nbytes;
        g4_gguf_release(m->gguf, t->data, t->nbytes);
        g4_gguf_release(m->mmproj, t->data, t->nbytes);
    }
    m->packed = block;
    m->packed_bytes = total;
    return G4_OK;
}
