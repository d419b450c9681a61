/* convert_internal.h -- pieces the GGUF writers (convert.c, convert_mm.c) share. */
#ifndef G4_CONVERT_INTERNAL_H
#define G4_CONVERT_INTERNAL_H

#include "gguf.h"
#include "model.h"

/* Buffers that must live until the writer has written the file. */
typedef struct {
    void **bufs;
    int n, cap;
} g4_buflist;

void *g4_buflist_alloc(g4_buflist *b, size_t n);
void g4_buflist_free(g4_buflist *b);

/* Add tensor t as `type` (converting through f32 when the types differ). */
g4_status g4_convert_add_as(g4_gguf_writer *w, g4_buflist *bl, const g4_tensor *t, int type, char *err, const char *path);

/* Add the vision/audio embedder tensors of m (if any) in llama.cpp's mmproj layout (convert_mm.c). */
g4_status g4_convert_add_mm(g4_gguf_writer *w, g4_buflist *bl, const g4_model *m, int type, const char *path, char *err);

#endif
