/* types.h -- weight types (ggml-compatible ids and block layouts) and the tensor view.
 *
 * Type ids equal ggml's, so a GGUF tensor's type field maps 1:1 (always add types
 * at the end).  A g4_tensor is a plain view: a name, a type, a shape in ggml order
 * (ne[0] = elements per row, innermost) and a pointer to bytes that someone else
 * owns (usually the model's mmap).  The block layouts live in quant.h.
 */
#ifndef G4_TYPES_H
#define G4_TYPES_H

#include <stdint.h>
#include <stddef.h>

typedef enum {
    G4_TYPE_F32 = 0,
    G4_TYPE_F16 = 1,
    G4_TYPE_Q4_0 = 2,
    G4_TYPE_Q5_0 = 6,
    G4_TYPE_Q8_0 = 8,
    G4_TYPE_Q4_K = 12,
    G4_TYPE_Q5_K = 13,
    G4_TYPE_Q6_K = 14,
    G4_TYPE_BF16 = 30,
    G4_TYPE_COUNT = 40, /* size of lookup tables; ids without a row are unknown */
} g4_type;

#define G4_MAX_DIMS 4

typedef struct {
    const char *name;       /* points into the owner's storage */
    g4_type type;
    int n_dims;
    int64_t ne[G4_MAX_DIMS]; /* ggml order: ne[0] = row length; unused dims are 1 */
    const void *data;       /* nbytes of data, owned elsewhere */
    size_t nbytes;
    const void *packed;     /* the same rows in a kernel layout (q4_0: 8-row groups, core/qdot.h), or NULL */
} g4_tensor;

static inline int64_t g4_tensor_nelem(const g4_tensor *t) {
    return t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3];
}
static inline int64_t g4_tensor_nrows(const g4_tensor *t) { return t->ne[1] * t->ne[2] * t->ne[3]; }

#endif
