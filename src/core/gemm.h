/* gemm.h -- f32 matrix-matrix product for prefill: Y[t][r] = sum_k W[r][k] * X[t][k].
 *
 * Used by the CPU backend on dequantized weight rows when several tokens share one weight
 * pass.  A 4x4 register-tiled AVX2+FMA kernel on x86-64 (8 loads per 16 FMAs instead of 2 per 1),
 * a 4x4 NEON tile on aarch64, and a portable scalar version.  Deterministic: each output's summation order depends only on n.
 */
#ifndef G4_GEMM_H
#define G4_GEMM_H

#include <stdint.h>

/* W: nr rows of n floats (row stride n); X: nt rows of n floats; Y[t * ldy + r]. */
void g4_gemm_f32(const float *W, int nr, const float *X, int nt, int64_t n, float *Y, int64_t ldy);
void g4_gemm_f32_ref(const float *W, int nr, const float *X, int nt, int64_t n, float *Y, int64_t ldy);

/* Packed form (x86-64 with AVX2+FMA): Wp holds 16 weight rows interleaved, Wp[k * 16 + i] = W[i][k]
 * (rows >= nr zero), so one step of k is two vector loads for 16 rows; tokens go 6 at a time, n in blocks
 * of G4_GEMM_KC (12 accumulators + 2 weight vectors + 1 broadcast fit the 16 registers).  Each output is
 * summed in k order within a block, blocks added in order: the same for every row and token. */
#define G4_GEMM_PACK 16
#define G4_GEMM_KC 256
int g4_gemm_packed_ok(void); /* 1 when g4_gemm_f32_packed runs its SIMD kernel here */
/* Interleave rows[0..nr) (len values each, nr <= 16) into Wp[k * 16 + i]; columns nr..15 become 0. */
void g4_gemm_pack16(const float *const rows[], int nr, int64_t len, float *Wp);
void g4_gemm_f32_packed(const float *Wp, int nr, const float *X, int nt, int64_t n, float *Y, int64_t ldy);
/* One k block of that product: Wp holds len (<= G4_GEMM_KC) interleaved steps, X points at the block's first
 * column (row stride ldx); add = 0 stores the block's sums, 1 adds them to Y (blocks must come in k order).
 * g4_gemm_f32_packed is this over the blocks; callers that loop over blocks themselves can reuse an
 * activation block for many row panels while it is in cache. */
void g4_gemm_f32_packed_kblock(const float *Wp, int nr, const float *X, int nt, int64_t ldx, int64_t len, float *Y,
                               int64_t ldy, int add);

/* A few tokens (decode steps of several sequences): nr (1 or 2) weight rows W[r * n] against nt <=
 * G4_MULTI_MAX activation rows (stride ldx): y[t * ldy + r] = w_r . x_t.  Each weight and activation
 * vector loaded serves several products, so a batch costs little more than one token when weights
 * stream from memory.  Every output is summed the same way (8 lanes, then the tail), wherever it is. */
#define G4_MULTI_MAX 8
void g4_dot_f32_multi(const float *W, int nr, const float *X, int nt, int64_t ldx, int64_t n, float *y, int64_t ldy);

#endif
