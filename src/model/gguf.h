/* gguf.h -- GGUF v3 reader (mmap, zero-copy) and writer.
 *
 * Reader: g4_gguf_open maps the file read-only and validates everything up front:
 * magic, version (2 or 3), counts against the file size, every string and array length,
 * key types, tensor dims/types, and that each tensor's bytes lie inside the data section
 * (aligned to general.alignment, default 32).  After a successful open every accessor is
 * a plain lookup and never fails in surprising ways.  Tensors come back as g4_tensor views
 * pointing into the mapping.  A g4_gguf is immutable after open: share it between threads.
 *
 * Writer: collects key/values and tensor views (the data is NOT copied: it must stay valid
 * until g4_gguf_writer_write returns), then writes a v3 file with 32-byte alignment.
 * Key and tensor names are copied.
 */
#ifndef G4_GGUF_H
#define G4_GGUF_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include "../core/common.h"
#include "../core/types.h"

typedef enum {
    G4_GGUF_UINT8 = 0, G4_GGUF_INT8 = 1, G4_GGUF_UINT16 = 2, G4_GGUF_INT16 = 3,
    G4_GGUF_UINT32 = 4, G4_GGUF_INT32 = 5, G4_GGUF_FLOAT32 = 6, G4_GGUF_BOOL = 7,
    G4_GGUF_STRING = 8, G4_GGUF_ARRAY = 9, G4_GGUF_UINT64 = 10, G4_GGUF_INT64 = 11,
    G4_GGUF_FLOAT64 = 12,
} g4_gguf_vtype;

typedef struct g4_gguf g4_gguf;

/* Open and validate; on error *out is NULL and err says "<path>: <problem>". */
g4_status g4_gguf_open(g4_gguf **out, const char *path, char *err);
/* Same, over caller-owned bytes (not copied; must outlive the g4_gguf). For fuzzing and tests. */
g4_status g4_gguf_open_mem(g4_gguf **out, const void *data, size_t size, const char *name, char *err);
void g4_gguf_close(g4_gguf *f);
/* Hand back the resident pages of [p, p + n) when they are part of this file's mapping (whole pages
 * inside the range only); later reads fault them in from the file again.  No-op otherwise. */
void g4_gguf_release(const g4_gguf *f, const void *p, size_t n);

const char *g4_gguf_path(const g4_gguf *f);
uint32_t g4_gguf_version(const g4_gguf *f);
size_t g4_gguf_file_size(const g4_gguf *f);
size_t g4_gguf_data_offset(const g4_gguf *f); /* start of the tensor data section */

/* Key/values */
int64_t g4_gguf_n_kv(const g4_gguf *f);
const char *g4_gguf_kv_key(const g4_gguf *f, int64_t i);
g4_gguf_vtype g4_gguf_kv_type(const g4_gguf *f, int64_t i);
int64_t g4_gguf_find_key(const g4_gguf *f, const char *key); /* -1 if absent */

/* Scalar getters by key: return true and set *v when the key exists and converts exactly
 * (any integer type to the requested integer type if the value fits; float32/float64 to
 * float; bool).  False when absent or of an incompatible type. */
bool g4_gguf_get_u32(const g4_gguf *f, const char *key, uint32_t *v);
bool g4_gguf_get_i64(const g4_gguf *f, const char *key, int64_t *v);
bool g4_gguf_get_f32(const g4_gguf *f, const char *key, float *v);
bool g4_gguf_get_bool(const g4_gguf *f, const char *key, bool *v);
/* String value: pointer into the mapping (NOT NUL-terminated) and its length. */
bool g4_gguf_get_str(const g4_gguf *f, const char *key, const char **s, size_t *len);

/* Arrays: element type and count; for non-string element types *data points at the packed
 * little-endian elements in the mapping.  String arrays: use g4_gguf_get_arr_str. */
bool g4_gguf_get_arr(const g4_gguf *f, const char *key, g4_gguf_vtype *elem_type, uint64_t *n, const void **data);
bool g4_gguf_get_arr_str(const g4_gguf *f, const char *key, uint64_t i, const char **s, size_t *len);
/* Element i of a numeric array converted like the scalar getters. */
bool g4_gguf_arr_i64(const g4_gguf *f, const char *key, uint64_t i, int64_t *v);
bool g4_gguf_arr_f32(const g4_gguf *f, const char *key, uint64_t i, float *v);

/* Tensors */
int64_t g4_gguf_n_tensors(const g4_gguf *f);
const g4_tensor *g4_gguf_tensor(const g4_gguf *f, int64_t i);
const g4_tensor *g4_gguf_find_tensor(const g4_gguf *f, const char *name); /* NULL if absent */

/* Writer */
typedef struct g4_gguf_writer g4_gguf_writer;
g4_gguf_writer *g4_gguf_writer_new(void); /* NULL on ENOMEM */
void g4_gguf_writer_free(g4_gguf_writer *w);
/* Setters return G4_OK or G4_ENOMEM; setting an existing key replaces it. */
g4_status g4_gguf_set_u32(g4_gguf_writer *w, const char *key, uint32_t v);
g4_status g4_gguf_set_i32(g4_gguf_writer *w, const char *key, int32_t v);
g4_status g4_gguf_set_u64(g4_gguf_writer *w, const char *key, uint64_t v);
g4_status g4_gguf_set_f32(g4_gguf_writer *w, const char *key, float v);
g4_status g4_gguf_set_bool(g4_gguf_writer *w, const char *key, bool v);
g4_status g4_gguf_set_str(g4_gguf_writer *w, const char *key, const char *s, size_t len);
/* Numeric/bool array: n elements of elem_type, packed, copied. */
g4_status g4_gguf_set_arr(g4_gguf_writer *w, const char *key, g4_gguf_vtype elem_type, const void *data, uint64_t n);
g4_status g4_gguf_set_arr_str(g4_gguf_writer *w, const char *key, const char *const *s, const size_t *lens, uint64_t n);
/* Copy every key/value of an open file (e.g. for quantize). */
g4_status g4_gguf_copy_kvs(g4_gguf_writer *w, const g4_gguf *f);
/* Add a tensor view; data is referenced, not copied.  ne in ggml order. */
g4_status g4_gguf_add_tensor(g4_gguf_writer *w, const char *name, g4_type type, int n_dims,
                             const int64_t *ne, const void *data, size_t nbytes);
g4_status g4_gguf_writer_write(g4_gguf_writer *w, const char *path, char *err);

#endif
