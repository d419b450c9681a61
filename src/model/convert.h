/* convert.h -- write a loaded model as a llama.cpp-compatible `gemma4` GGUF, optionally re-typed.
 *
 * Used by `gemma4 convert` (HF directory -> GGUF) and `gemma4 quantize` (GGUF -> GGUF).  Keys and
 * tensor names follow llama.cpp's gemma4 converter (shared/spec/gemma4-12b.md §7).  Weight matrices
 * take the target type (f32, f16, bf16, q8_0, q4_0); vectors (norms, layer scales, rope_freqs)
 * stay f32.  Tensors already in the target type are written straight from the mapping.
 */
#ifndef G4_CONVERT_H
#define G4_CONVERT_H

#include "model.h"

/* type: a weight type with a quantizer (g4_type_get(type)->from_f32 != NULL).  The vision/audio
 * embedders, when the model has them, go into the same file (with_mm) under llama.cpp's mmproj
 * names and layout; g4_model_write_gguf is g4_model_write_gguf_ex with with_mm = 1. */
g4_status g4_model_write_gguf(const g4_model *m, const char *path, int type, char *err);
g4_status g4_model_write_gguf_ex(const g4_model *m, const char *path, int type, int with_mm, char *err);

/* The embedders alone, as a llama.cpp mmproj file (`clip`, projectors gemma4uv / gemma4ua). */
g4_status g4_model_write_mmproj(const g4_model *m, const char *path, int type, char *err);

#endif
