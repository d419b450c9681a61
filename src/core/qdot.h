/* qdot.h -- integer dot products: weight rows of a quantized type against activations quantized to 8 bits.
 *
 * Why: a decode step reads every weight once; turning 4-bit weights into floats costs more instructions
 * than the memory system leaves time for.  Quantizing the activation vector once per matmul (32 values
 * per block, one f32 scale, round to nearest) lets the weights stay integers: byte products summed in
 * int32, one float multiply per 32 weights (llama.cpp computes q4_0 and q8_0 this way).  The price is the
 * activation's rounding error, at most half a step (d/2) per element, so results are close to, not equal
 * to, the f32 path: it is opt-in (g4_ctx_params.q8_act, --q8-act).
 *
 * Arithmetic, per 32-element block b of a row (dw: the weight block's scale, d: the activation's):
 *   dot = sum_b (dw * d) * I_b      I_b = sum w_q * x_q, exact in int32 (q4_0: w_q = nibble - 8)
 * K-quants: a q4_K sub-block of 32 is one activation block, dw = d*sc, and the min term
 * dmin*m * d * sum(x_q) is taken off (hence g4_block_q8x.sum); a q6_K activation block covers two 16-element
 * groups, whose int8 scales multiply their halves of I_b in int32.
 * The quantizer gives the same bytes on every ISA (scale = amax / 127, q = round-half-even(x * 127/amax)
 * clamped to +-127; NaN becomes -127; blocks below G4_Q8X_TINY become 0).  The SIMD and scalar dots sum the blocks in different orders and
 * agree to f32 rounding.  Every multi-token kernel gives each token exactly what the one-token kernel does.
 */
#ifndef G4_QDOT_H
#define G4_QDOT_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#define G4_QK8X 32
#define G4_Q8X_TINY 1e-30f /* a block whose largest |x| is below this quantizes to zeros (127/amax would overflow) */

typedef struct {
    float d;               /* scale: x ~ d * q */
    int32_t sum;           /* sum of q (the packed q4_0 kernel's "-8" correction) */
    int8_t q[G4_QK8X];     /* |q| <= 127 */
} g4_block_q8x;
static_assert(sizeof(g4_block_q8x) == 40, "q8x block");

/* n a multiple of 32 */
void g4_quantize_q8x(const float *x, g4_block_q8x *out, int64_t n);
void g4_quantize_q8x_ref(const float *x, g4_block_q8x *out, int64_t n);

/* y[t * ldy] = row . x_t for t < nt (1 <= nt <= G4_QDOT_MAX_NT), x_t = x + t * ldx blocks, n elements. */
#define G4_QDOT_MAX_NT 4
typedef void (*g4_qdot_fn)(const void *row, const g4_block_q8x *x, int64_t ldx, int nt, int64_t n, float *y,
                           int64_t ldy);

/* The integer kernel for weights of this type on this CPU, or NULL (type without one, or no SIMD kernel:
 * the f32 path is faster than the scalar integer one).  g4_type_qdot_ref: the portable scalar version. */
g4_qdot_fn g4_type_qdot(int type);
g4_qdot_fn g4_type_qdot_ref(int type);

/* ---- rows packed 8 at a time ("x8": q4_0, q8_0, q4_K, q6_K) ---------------------------------------------
 * (q4_K and q6_K: per 256-element super-block the 8 rows' headers, then their quant bytes interleaved 4 at
 * a time the same way; qdot.c has the layouts.) 
 * One vpmaddubsw then serves 8 rows.  Per group of 8 rows and 32-element block (8 times the type's block
 * size, so a packed matrix takes the bytes of the original): the 8 rows' f16 scales, then vectors of 32
 * bytes, vector j holding bytes 4j..4j+3 of each row's quant bytes (q4_0: 4 vectors; low nibbles are
 * elements 4j..4j+3, high 16+4j..; q8_0: 8 vectors, elements 4j..4j+3).  4 activation bytes are broadcast
 * against a vector.  q4_0 nibbles are used unsigned (0..15: 8 products summed in int16 stay below 2^15)
 * and 8 * sum(q) is taken off per block; q8_0 moves the weights' signs onto the activations and widens
 * each product pair to int32.  Per row: acc = fma((float)I_b, dw * d, acc) over blocks in order, so the
 * scalar and SIMD versions agree bit for bit. */
#define G4_X8_ROWS 8
int g4_x8_type(int type); /* 1 for a type with a packed layout */
/* src: 8 rows of n (multiple of 32) elements, row stride row_bytes; dst: the same number of bytes */
void g4_pack_x8(int type, const void *src, size_t row_bytes, int64_t n, void *dst);
/* row r (0..7) of a packed group back to the type's plain bytes */
void g4_unpack_x8(int type, const void *grp, int r, int64_t n, void *dst);
/* y[t * ldy + r] = row r of the group . x_t, for r < 8 and t < nt (<= G4_QDOT_MAX_NT) */
typedef void (*g4_qdot_x8_fn)(const void *grp, const g4_block_q8x *x, int64_t ldx, int nt, int64_t n, float *y,
                              int64_t ldy);
g4_qdot_x8_fn g4_qdot_x8(int type);     /* this CPU's kernel, or NULL when it has no SIMD one */
g4_qdot_x8_fn g4_qdot_x8_ref(int type); /* the portable scalar kernel, or NULL for a type without a layout */

#endif
