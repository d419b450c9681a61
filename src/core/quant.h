/* quant.h -- the type table: block layouts, conversion to and from f32, row dot products.
 *
 * One row per type in g4_type_info (designated initializers), every block struct with a
 * static_assert on its size.  Layouts are ggml's byte-for-byte (GGUF compatibility):
 *   q8_0: {f16 d; int8 qs[32]}                       x = d*q
 *   q4_0: {f16 d; uint8 qs[16]}  low nibbles = elements 0..15, high = 16..31, x = d*(q-8)
 *   q4_K / q5_K / q6_K: 256-element super-blocks with 6-bit (K) or 8-bit (q6_K) scales.
 * Quantizers (from_f32) are the reference round-to-nearest ones ggml uses, so a file we
 * write equals what llama.cpp's reference quantizer would write.  Pure functions, thread-safe.
 */
#ifndef G4_QUANT_H
#define G4_QUANT_H

#include <assert.h>
#include <stdint.h>
#include <stddef.h>

#include "types.h"

typedef uint16_t g4_f16;
typedef uint16_t g4_bf16;

#define G4_QK8_0 32
#define G4_QK4_0 32
#define G4_QK5_0 32
#define G4_QK_K 256
#define G4_K_SCALE_SIZE 12

typedef struct { g4_f16 d; int8_t qs[G4_QK8_0]; } g4_block_q8_0;
typedef struct { g4_f16 d; uint8_t qs[G4_QK4_0 / 2]; } g4_block_q4_0;
typedef struct { g4_f16 d; uint8_t qh[4]; uint8_t qs[G4_QK5_0 / 2]; } g4_block_q5_0;
typedef struct { g4_f16 d; g4_f16 dmin; uint8_t scales[G4_K_SCALE_SIZE]; uint8_t qs[G4_QK_K / 2]; } g4_block_q4_K;
typedef struct { g4_f16 d; g4_f16 dmin; uint8_t scales[G4_K_SCALE_SIZE]; uint8_t qh[G4_QK_K / 8]; uint8_t qs[G4_QK_K / 2]; } g4_block_q5_K;
typedef struct { uint8_t ql[G4_QK_K / 2]; uint8_t qh[G4_QK_K / 4]; int8_t scales[G4_QK_K / 16]; g4_f16 d; } g4_block_q6_K;

static_assert(sizeof(g4_block_q8_0) == 34, "q8_0 block");
static_assert(sizeof(g4_block_q4_0) == 18, "q4_0 block");
static_assert(sizeof(g4_block_q5_0) == 22, "q5_0 block");
static_assert(sizeof(g4_block_q4_K) == 144, "q4_K block");
static_assert(sizeof(g4_block_q5_K) == 176, "q5_K block");
static_assert(sizeof(g4_block_q6_K) == 210, "q6_K block");

typedef struct {
    const char *name;   /* "f32", "q4_0", ... (GGUF/llama.cpp spelling) */
    int64_t blck;       /* elements per block */
    size_t size;        /* bytes per block */
    /* n must be a multiple of blck */
    void (*to_f32)(const void *src, float *dst, int64_t n);
    void (*from_f32)(const float *src, void *dst, int64_t n); /* NULL: we can't write this type */
    /* dot of one row (n elements, this type) with n floats, accumulated in f32 */
    float (*dot_f32)(const void *row, const float *x, int64_t n);
} g4_type_info;

/* NULL for an id with no row (unknown type). */
const g4_type_info *g4_type_get(int type);
/* Type by name ("q8_0"), or -1. */
int g4_type_from_name(const char *name);
/* Bytes for n elements of a row; 0 if n is not a multiple of the block size or type unknown. */
size_t g4_row_size(int type, int64_t n);

float g4_f16_to_f32(g4_f16 h);
g4_f16 g4_f32_to_f16(float f);     /* round to nearest even, like F16C */
float g4_bf16_to_f32(g4_bf16 h);
g4_bf16 g4_f32_to_bf16(float f);   /* round to nearest even; NaN stays NaN (torch semantics) */

/* ---- additions: CPU-selected row kernels ------------------------------------------
 * dot_f32 in the table dispatches to the best kernel this CPU has (chosen once, on first
 * use); g4_type_dot() hands out that kernel directly so a hot loop skips the dispatch.
 * The scalar *_ref kernels are always built (tests compare every variant against them and
 * against a double-precision oracle).  A kernel's result depends only on its inputs (no
 * alignment peeling, fixed summation order), but the scalar and SIMD variants sum in
 * different orders, so they agree only to fp32 rounding noise.  n must be a multiple of
 * the block size; a partial trailing block is ignored. */
typedef float (*g4_dot_fn)(const void *row, const float *x, int64_t n);

g4_dot_fn g4_type_dot(int type);      /* best kernel for this CPU; NULL if type unknown */
g4_dot_fn g4_type_dot_ref(int type);  /* portable scalar kernel; NULL if type unknown */
const char *g4_quant_isa(void);       /* "avx2", "neon" or "scalar": what g4_type_dot picked */

float g4_dot_f32_ref(const void *row, const float *x, int64_t n);
float g4_dot_f16_ref(const void *row, const float *x, int64_t n);
float g4_dot_bf16_ref(const void *row, const float *x, int64_t n);
float g4_dot_q8_0_ref(const void *row, const float *x, int64_t n);
float g4_dot_q4_0_ref(const void *row, const float *x, int64_t n);
float g4_dot_q5_0_ref(const void *row, const float *x, int64_t n);
float g4_dot_q4_K_ref(const void *row, const float *x, int64_t n);
float g4_dot_q5_K_ref(const void *row, const float *x, int64_t n);
float g4_dot_q6_K_ref(const void *row, const float *x, int64_t n);

#endif
