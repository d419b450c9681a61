/* safetensors.h -- Hugging Face safetensors reader: one file or an indexed set of shards.
 *
 * Files are mmapped read-only; tensors are g4_tensor views into the mappings, with the
 * shape reversed into ggml order (safetensors [out, in] -> ne = {in, out}).  dtypes F32,
 * F16 and BF16 map to g4 types; any other dtype (I64, F64, ...) is rejected with an error
 * naming the tensor.  The header is validated completely: JSON syntax, dtype, shape x dtype
 * size == data_offsets span, offsets inside the file, no overlaps past the end.
 * A g4_st is immutable after open: share it between threads.
 */
#ifndef G4_SAFETENSORS_H
#define G4_SAFETENSORS_H

#include <stdint.h>
#include <stddef.h>

#include "../core/common.h"
#include "../core/types.h"

typedef struct g4_st g4_st;

/* dir holds model.safetensors, or model.safetensors.index.json naming the shards. */
g4_status g4_st_open_dir(g4_st **out, const char *dir, char *err);
/* One .safetensors file. */
g4_status g4_st_open_file(g4_st **out, const char *path, char *err);
/* Over caller-owned bytes of one file (not copied). For fuzzing and tests. */
g4_status g4_st_open_mem(g4_st **out, const void *data, size_t size, const char *name, char *err);
void g4_st_close(g4_st *st);

int64_t g4_st_n_tensors(const g4_st *st);
const g4_tensor *g4_st_tensor(const g4_st *st, int64_t i);
const g4_tensor *g4_st_find(const g4_st *st, const char *name); /* NULL if absent */

#endif
