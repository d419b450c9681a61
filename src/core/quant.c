/* quant.c -- the weight-type table: f16/bf16 conversions, ggml block (de)quantizers and
 * the portable scalar row dot products, plus the once-per-process kernel selection.
 *
 * Layouts and rounding rules are ggml's (facts from ggml's headers and the GGUF spec) and
 * tests/test_quant.c checks them bit for bit against gguf-py:
 *  - to_f32 repeats ggml's dequantizers exactly, including the order of the float
 *    operations ((d*sc)*q - dmin*m, each rounded), so a dequantized row is bitwise ggml's.
 *    That needs no FMA contraction, which the pragmas below turn off (GCC and clang).
 *  - from_f32 are ggml's reference round-to-nearest quantizers for q8_0 and q4_0.
 *  - dot_f32: the *_ref kernels dequantize one block into a stack buffer and sum it in 8
 *    interleaved f32 lanes (fixed order, so results depend only on the inputs).  SIMD
 *    kernels live in cpu/; the best one is picked once per process (pthread_once) and the
 *    table's dot_f32 entries dispatch through that choice.
 * Blocks are read through byte pointers and memcpy, so a row may sit at any alignment.
 */
#include "core/quant.h"

#include <math.h>
#include <pthread.h>
#include <string.h>

#include "core/common.h"
#include "core/cpu/quant_cpu.h"

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off") /* also under -std=gnu11, where GCC would fuse */
#endif

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "quant.c: GGUF block layouts are little-endian; big-endian hosts are not supported"
#endif

/* ---- scalar conversions ----------------------------------------------------------- */

static inline uint32_t f32_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static inline float bits_f32(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* Exact; NaN payloads are kept as they are (like numpy, unlike F16C which quiets them). */
static inline float f16_to_f32(g4_f16 h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, em = h & 0x7fffu;
    if (em - 0x400u < 0x7800u) return bits_f32(sign | ((em << 13) + (112u << 23))); /* normal */
    if (em >= 0x7c00u) return bits_f32(sign | 0x7f800000u | ((em & 0x3ffu) << 13)); /* inf, NaN */
    return bits_f32(sign | f32_bits((float)em * 0x1p-24f)); /* zero, subnormal: m * 2^-24 */
}

float g4_f16_to_f32(g4_f16 h) { return f16_to_f32(h); }

/* Round to nearest even.  NaN -> quiet NaN keeping the sign and top payload bits (F16C). */
g4_f16 g4_f32_to_f16(float f) {
    uint32_t x = f32_bits(f);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000);
    uint32_t ax = x & 0x7fffffffu;
    if (ax > 0x7f800000u) return (g4_f16)(sign | 0x7e00 | ((ax >> 13) & 0x3ff));
    if (ax >= 0x477ff000u) return (g4_f16)(sign | 0x7c00); /* >= 65520 rounds to inf */
    if (ax >= 0x38800000u) {                               /* normal f16 */
        uint32_t h = (ax - (112u << 23)) >> 13, rem = ax & 0x1fff;
        if (rem > 0x1000 || (rem == 0x1000 && (h & 1))) h++; /* carry may bump the exponent */
        return (g4_f16)(sign | h);
    }
    /* subnormal or zero: result = round(value / 2^-24) = round(m * 2^(e-126)) */
    uint32_t e = ax >> 23;
    if (e < 102) return sign; /* < 2^-25: rounds to zero (2^-25 itself ties to even 0) */
    uint32_t m = (ax & 0x7fffff) | 0x800000, shift = 126 - e; /* 14..24 */
    uint32_t h = m >> shift, rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
    if (rem > half || (rem == half && (h & 1))) h++;
    return (g4_f16)(sign | h);
}

float g4_bf16_to_f32(g4_bf16 h) { return bits_f32((uint32_t)h << 16); }

/* Round to nearest even; a NaN is made quiet and keeps its sign and top payload (ggml). */
g4_bf16 g4_f32_to_bf16(float f) {
    uint32_t x = f32_bits(f);
    if ((x & 0x7fffffffu) > 0x7f800000u) return (g4_bf16)((x >> 16) | 0x0040);
    return (g4_bf16)((x + 0x7fffu + ((x >> 16) & 1)) >> 16);
}

static inline float rd_f16(const uint8_t *p) {
    g4_f16 h;
    memcpy(&h, p, 2);
    return f16_to_f32(h);
}

static inline void wr_f16(uint8_t *p, float f) {
    g4_f16 h = g4_f32_to_f16(f);
    memcpy(p, &h, 2);
}

/* ---- block dequantizers (exact ggml arithmetic) -------------------------------------- */

static void deq_q8_0(const uint8_t *b, float *y) {
    float d = rd_f16(b);
    const int8_t *q = (const int8_t *)(b + 2);
    for (int i = 0; i < G4_QK8_0; i++) y[i] = (float)q[i] * d;
}

static void deq_q4_0(const uint8_t *b, float *y) {
    float d = rd_f16(b);
    const uint8_t *q = b + 2;
    for (int i = 0; i < G4_QK4_0 / 2; i++) {
        y[i] = (float)((q[i] & 0x0f) - 8) * d;
        y[i + G4_QK4_0 / 2] = (float)((q[i] >> 4) - 8) * d;
    }
}

/* q5_0: {f16 d; u32 qh; qs[16]}: element j < 16 is the low nibble of qs[j] with bit j of qh as
 * its 5th bit, element j + 16 the high nibble with bit j + 16; x = d * (q - 16). */
static void deq_q5_0(const uint8_t *b, float *y) {
    float d = rd_f16(b);
    const uint32_t qh = (uint32_t)b[2] | (uint32_t)b[3] << 8 | (uint32_t)b[4] << 16 | (uint32_t)b[5] << 24;
    const uint8_t *q = b + 6;
    for (int j = 0; j < G4_QK5_0 / 2; j++) {
        const int lo = (q[j] & 0x0f) | (int)(((qh >> j) & 1u) << 4);
        const int hi = (q[j] >> 4) | (int)(((qh >> (j + 16)) & 1u) << 4);
        y[j] = (float)(lo - 16) * d;
        y[j + G4_QK5_0 / 2] = (float)(hi - 16) * d;
    }
}

/* q4_K: {f16 d, f16 dmin, scales[12], qs[128]}.  64-element chunk j uses qs[32j..32j+31]:
 * low nibbles are sub-block 2j, high nibbles sub-block 2j+1.  x = d*sc*q - dmin*m. */
static void deq_q4_K(const uint8_t *b, float *y) {
    float d = rd_f16(b), dmin = rd_f16(b + 2);
    uint8_t sc[8], mn[8];
    g4_kscales(b + 4, sc, mn);
    const uint8_t *q = b + 16;
    for (int j = 0; j < 4; j++) {
        float d1 = d * (float)sc[2 * j], m1 = dmin * (float)mn[2 * j];
        float d2 = d * (float)sc[2 * j + 1], m2 = dmin * (float)mn[2 * j + 1];
        for (int l = 0; l < 32; l++) {
            float t1 = d1 * (float)(q[32 * j + l] & 0x0f);
            float t2 = d2 * (float)(q[32 * j + l] >> 4);
            y[64 * j + l] = t1 - m1;
            y[64 * j + 32 + l] = t2 - m2;
        }
    }
}

/* q5_K: q4_K plus qh[32]: bit 2j of qh[l] is the 5th bit of sub-block 2j's element l. */
static void deq_q5_K(const uint8_t *b, float *y) {
    float d = rd_f16(b), dmin = rd_f16(b + 2);
    uint8_t sc[8], mn[8];
    g4_kscales(b + 4, sc, mn);
    const uint8_t *qh = b + 16, *q = b + 48;
    for (int j = 0; j < 4; j++) {
        float d1 = d * (float)sc[2 * j], m1 = dmin * (float)mn[2 * j];
        float d2 = d * (float)sc[2 * j + 1], m2 = dmin * (float)mn[2 * j + 1];
        for (int l = 0; l < 32; l++) {
            int q1 = (q[32 * j + l] & 0x0f) | (((qh[l] >> (2 * j)) & 1) << 4);
            int q2 = (q[32 * j + l] >> 4) | (((qh[l] >> (2 * j + 1)) & 1) << 4);
            float t1 = d1 * (float)q1;
            float t2 = d2 * (float)q2;
            y[64 * j + l] = t1 - m1;
            y[64 * j + 32 + l] = t2 - m2;
        }
    }
}

/* q6_K: {ql[128], qh[64], int8 scales[16], f16 d}, two halves of 128 elements.  In a half,
 * for l < 32: element l = low nibble of ql[l] | bits 0-1 of qh[l] << 4; l+32: ql[l+32] low,
 * bits 2-3; l+64: ql[l] high, bits 4-5; l+96: ql[l+32] high, bits 6-7.  Minus 32; each 16
 * consecutive elements share an int8 scale; x = (d*sc)*q. */
static void deq_q6_K(const uint8_t *b, float *y) {
    const uint8_t *ql = b, *qh = b + 128;
    const int8_t *sc = (const int8_t *)(b + 192);
    float d = rd_f16(b + 208);
    for (int h = 0; h < 2; h++) {
        for (int l = 0; l < 32; l++) {
            int is = l / 16;
            int q1 = ((ql[l] & 0x0f) | (((qh[l] >> 0) & 3) << 4)) - 32;
            int q2 = ((ql[l + 32] & 0x0f) | (((qh[l] >> 2) & 3) << 4)) - 32;
            int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
            int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
            float s1 = d * (float)sc[is + 0], s2 = d * (float)sc[is + 2];
            float s3 = d * (float)sc[is + 4], s4 = d * (float)sc[is + 6];
            y[l + 0] = s1 * (float)q1;
            y[l + 32] = s2 * (float)q2;
            y[l + 64] = s3 * (float)q3;
            y[l + 96] = s4 * (float)q4;
        }
        ql += 64;
        qh += 32;
        sc += 8;
        y += 128;
    }
}

/* ---- to_f32 / from_f32 ------------------------------------------------------------- */

#define G4_DEQ_ROW(name, deq, blck, size)                                        \
    static void name(const void *src, float *dst, int64_t n) {                   \
        G4_ASSERT(n % (blck) == 0);                                              \
        const uint8_t *s = src;                                                  \
        for (int64_t b = 0; b < n / (blck); b++) deq(s + b * (size), dst + b * (blck)); \
    }

G4_DEQ_ROW(to_f32_q8_0_ref, deq_q8_0, G4_QK8_0, sizeof(g4_block_q8_0))
G4_DEQ_ROW(to_f32_q4_0_ref, deq_q4_0, G4_QK4_0, sizeof(g4_block_q4_0))
G4_DEQ_ROW(to_f32_q5_0, deq_q5_0, G4_QK5_0, sizeof(g4_block_q5_0))
G4_DEQ_ROW(to_f32_q4_K, deq_q4_K, G4_QK_K, sizeof(g4_block_q4_K))
G4_DEQ_ROW(to_f32_q5_K, deq_q5_K, G4_QK_K, sizeof(g4_block_q5_K))
G4_DEQ_ROW(to_f32_q6_K, deq_q6_K, G4_QK_K, sizeof(g4_block_q6_K))

static void to_f32_f32(const void *src, float *dst, int64_t n) { memcpy(dst, src, (size_t)n * 4); }

static void to_f32_f16_ref(const void *src, float *dst, int64_t n) {
    const uint8_t *s = src;
    for (int64_t i = 0; i < n; i++) dst[i] = rd_f16(s + 2 * i);
}

static void to_f32_bf16_ref(const void *src, float *dst, int64_t n) {
    const uint8_t *s = src;
    for (int64_t i = 0; i < n; i++) {
        g4_bf16 h;
        memcpy(&h, s + 2 * i, 2);
        dst[i] = g4_bf16_to_f32(h);
    }
}

/* The SIMD row converters where the CPU has them (bit-identical; test_quant compares). */
#ifdef G4_HAVE_AVX2_KERNELS
#define G4_TO_F32_SEL(name)                                                         \
    static void to_f32_##name(const void *src, float *dst, int64_t n) {              \
        if (g4_cpu_has_avx2()) g4_to_f32_##name##_avx2(src, dst, n);                 \
        else to_f32_##name##_ref(src, dst, n);                                       \
    }
#else
#define G4_TO_F32_SEL(name)                                                         \
    static void to_f32_##name(const void *src, float *dst, int64_t n) { to_f32_##name##_ref(src, dst, n); }
#endif
G4_TO_F32_SEL(q8_0)
G4_TO_F32_SEL(q4_0)
G4_TO_F32_SEL(f16)
G4_TO_F32_SEL(bf16)

static void from_f32_f32(const float *src, void *dst, int64_t n) { memcpy(dst, src, (size_t)n * 4); }

static void from_f32_f16(const float *src, void *dst, int64_t n) {
    uint8_t *d = dst;
    for (int64_t i = 0; i < n; i++) wr_f16(d + 2 * i, src[i]);
}

static void from_f32_bf16(const float *src, void *dst, int64_t n) {
    uint8_t *d = dst;
    for (int64_t i = 0; i < n; i++) {
        g4_bf16 h = g4_f32_to_bf16(src[i]);
        memcpy(d + 2 * i, &h, 2);
    }
}

/* q8_0 reference: d = max|x| / 127, q = round-half-away(x / d). */
static void quant_q8_0(const float *x, uint8_t *b) {
    float amax = 0.0f;
    for (int i = 0; i < G4_QK8_0; i++)
        if (fabsf(x[i]) > amax) amax = fabsf(x[i]);
    float d = amax / 127.0f;
    float id = d != 0.0f ? 1.0f / d : 0.0f;
    wr_f16(b, d);
    int8_t *q = (int8_t *)(b + 2);
    for (int i = 0; i < G4_QK8_0; i++) {
        float v = roundf(x[i] * id);
        /* in range for any finite input; the clamp only keeps inf/NaN from being UB */
        q[i] = (int8_t)(v >= 127.0f ? 127 : v <= -127.0f ? -127 : v == v ? (int)v : 0);
    }
}

/* q4_0 reference: d = -(the x with the largest |x|, first one on ties) / 8,
 * q = min(15, trunc(x/d + 8.5)). */
static void quant_q4_0(const float *x, uint8_t *b) {
    float amax = 0.0f, max = 0.0f;
    for (int i = 0; i < G4_QK4_0; i++)
        if (amax < fabsf(x[i])) {
            amax = fabsf(x[i]);
            max = x[i];
        }
    float d = max / -8.0f;
    float id = d != 0.0f ? 1.0f / d : 0.0f;
    wr_f16(b, d);
    uint8_t *q = b + 2;
    for (int i = 0; i < G4_QK4_0 / 2; i++) {
        int v[2];
        for (int k = 0; k < 2; k++) {
            float t = x[i + k * G4_QK4_0 / 2] * id;
            t = t + 8.5f;
            v[k] = !(t > 0.0f) ? 0 : t >= 15.0f ? 15 : (int)t; /* NaN -> 0, no UB */
        }
        q[i] = (uint8_t)(v[0] | (v[1] << 4));
    }
}

#define G4_QUANT_ROW(name, quant, blck, size)                                    \
    static void name(const float *src, void *dst, int64_t n) {                   \
        G4_ASSERT(n % (blck) == 0);                                              \
        uint8_t *d = dst;                                                        \
        for (int64_t b = 0; b < n / (blck); b++) quant(src + b * (blck), d + b * (size)); \
    }

G4_QUANT_ROW(from_f32_q8_0, quant_q8_0, G4_QK8_0, sizeof(g4_block_q8_0))
G4_QUANT_ROW(from_f32_q4_0, quant_q4_0, G4_QK4_0, sizeof(g4_block_q4_0))

/* ---- scalar reference dot products ------------------------------------------------- */

/* w.x for n a multiple of 8, in 8 interleaved f32 lanes reduced pairwise. */
static inline float dot_lanes(const float *w, const float *x, int n) {
    float s[8] = {0};
    for (int i = 0; i < n; i += 8)
        for (int k = 0; k < 8; k++) s[k] += w[i + k] * x[i + k];
    return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

/* Plain float rows: convert 256 at a time and add the chunk sums (the last chunk's
 * remainder under 8 is added element by element, in order). */
#define G4_DOT_PLAIN_REF(name, conv)                                             \
    float name(const void *row, const float *x, int64_t n) {                     \
        float tmp[256], acc = 0.0f;                                              \
        const uint8_t *r = row;                                                  \
        for (int64_t i = 0; i < n; i += 256) {                                   \
            int m = (int)G4_MIN(256, n - i), m8 = m & ~7;                        \
            conv(r, i, tmp, m);                                                  \
            acc += dot_lanes(tmp, x + i, m8);                                    \
            for (int k = m8; k < m; k++) acc += tmp[k] * x[i + k];               \
        }                                                                        \
        return acc;                                                              \
    }

static inline void conv_f32(const uint8_t *r, int64_t i, float *t, int64_t m) {
    memcpy(t, r + 4 * i, (size_t)m * 4);
}
static inline void conv_f16(const uint8_t *r, int64_t i, float *t, int64_t m) {
    to_f32_f16(r + 2 * i, t, m);
}
static inline void conv_bf16(const uint8_t *r, int64_t i, float *t, int64_t m) {
    to_f32_bf16(r + 2 * i, t, m);
}

G4_DOT_PLAIN_REF(g4_dot_f32_ref, conv_f32)
G4_DOT_PLAIN_REF(g4_dot_f16_ref, conv_f16)
G4_DOT_PLAIN_REF(g4_dot_bf16_ref, conv_bf16)

/* Block rows: dequantize a block exactly, sum it in lanes, add the block sums in order. */
#define G4_DOT_BLOCK_REF(name, deq, blck, size)                                  \
    float name(const void *row, const float *x, int64_t n) {                     \
        float tmp[blck], acc = 0.0f;                                             \
        const uint8_t *r = row;                                                  \
        for (int64_t b = 0; b < n / (blck); b++) {                               \
            deq(r + b * (size), tmp);                                            \
            acc += dot_lanes(tmp, x + b * (blck), (blck));                       \
        }                                                                        \
        return acc;                                                              \
    }

G4_DOT_BLOCK_REF(g4_dot_q8_0_ref, deq_q8_0, G4_QK8_0, sizeof(g4_block_q8_0))
G4_DOT_BLOCK_REF(g4_dot_q4_0_ref, deq_q4_0, G4_QK4_0, sizeof(g4_block_q4_0))
G4_DOT_BLOCK_REF(g4_dot_q5_0_ref, deq_q5_0, G4_QK5_0, sizeof(g4_block_q5_0))
G4_DOT_BLOCK_REF(g4_dot_q4_K_ref, deq_q4_K, G4_QK_K, sizeof(g4_block_q4_K))
G4_DOT_BLOCK_REF(g4_dot_q5_K_ref, deq_q5_K, G4_QK_K, sizeof(g4_block_q5_K))
G4_DOT_BLOCK_REF(g4_dot_q6_K_ref, deq_q6_K, G4_QK_K, sizeof(g4_block_q6_K))

/* ---- kernel selection (the one static: written once under pthread_once) ------------- */

static const g4_dot_fn g4_ref_dots[G4_TYPE_COUNT] = {
    [G4_TYPE_F32] = g4_dot_f32_ref,   [G4_TYPE_F16] = g4_dot_f16_ref,
    [G4_TYPE_BF16] = g4_dot_bf16_ref, [G4_TYPE_Q8_0] = g4_dot_q8_0_ref,
    [G4_TYPE_Q4_0] = g4_dot_q4_0_ref, [G4_TYPE_Q4_K] = g4_dot_q4_K_ref,
    [G4_TYPE_Q5_0] = g4_dot_q5_0_ref,
    [G4_TYPE_Q5_K] = g4_dot_q5_K_ref, [G4_TYPE_Q6_K] = g4_dot_q6_K_ref,
};

typedef struct {
    g4_dot_fn dot[G4_TYPE_COUNT];
    const char *isa;
} g4_quant_kernels;

static pthread_once_t g4_quant_once = PTHREAD_ONCE_INIT;
static g4_quant_kernels g4_quant_sel;

static void g4_quant_select(void) {
    memcpy(g4_quant_sel.dot, g4_ref_dots, sizeof g4_ref_dots);
    g4_quant_sel.isa = "scalar";
#ifdef G4_HAVE_AVX2_KERNELS
    if (g4_cpu_has_avx2()) {
        g4_quant_sel.dot[G4_TYPE_F32] = g4_dot_f32_avx2;
        g4_quant_sel.dot[G4_TYPE_F16] = g4_dot_f16_avx2;
        g4_quant_sel.dot[G4_TYPE_BF16] = g4_dot_bf16_avx2;
        g4_quant_sel.dot[G4_TYPE_Q8_0] = g4_dot_q8_0_avx2;
        g4_quant_sel.dot[G4_TYPE_Q4_0] = g4_dot_q4_0_avx2;
        g4_quant_sel.dot[G4_TYPE_Q5_0] = g4_dot_q5_0_avx2;
        g4_quant_sel.dot[G4_TYPE_Q4_K] = g4_dot_q4_K_avx2;
        g4_quant_sel.dot[G4_TYPE_Q5_K] = g4_dot_q5_K_avx2;
        g4_quant_sel.dot[G4_TYPE_Q6_K] = g4_dot_q6_K_avx2;
        g4_quant_sel.isa = "avx2";
    }
#endif
#ifdef G4_HAVE_NEON_KERNELS
    g4_quant_sel.dot[G4_TYPE_F32] = g4_dot_f32_neon;
    g4_quant_sel.dot[G4_TYPE_F16] = g4_dot_f16_neon;
    g4_quant_sel.dot[G4_TYPE_BF16] = g4_dot_bf16_neon;
    g4_quant_sel.dot[G4_TYPE_Q8_0] = g4_dot_q8_0_neon;
    g4_quant_sel.dot[G4_TYPE_Q4_0] = g4_dot_q4_0_neon;
    g4_quant_sel.dot[G4_TYPE_Q5_0] = g4_dot_q5_0_neon;
    g4_quant_sel.dot[G4_TYPE_Q4_K] = g4_dot_q4_K_neon;
    g4_quant_sel.dot[G4_TYPE_Q5_K] = g4_dot_q5_K_neon;
    g4_quant_sel.dot[G4_TYPE_Q6_K] = g4_dot_q6_K_neon;
    g4_quant_sel.isa = "neon"; /* AdvSIMD is baseline on aarch64: no CPU check */
#endif
}

static const g4_quant_kernels *g4_quant_kernels_get(void) {
    pthread_once(&g4_quant_once, g4_quant_select);
    return &g4_quant_sel;
}

g4_dot_fn g4_type_dot(int type) {
    if (type < 0 || type >= G4_TYPE_COUNT) return NULL;
    return g4_quant_kernels_get()->dot[type];
}

g4_dot_fn g4_type_dot_ref(int type) {
    if (type < 0 || type >= G4_TYPE_COUNT) return NULL;
    return g4_ref_dots[type];
}

const char *g4_quant_isa(void) { return g4_quant_kernels_get()->isa; }

/* The table's dot_f32 entries: dispatch to the selected kernel. */
#define G4_DOT_SEL(name, type)                                                   \
    static float name(const void *row, const float *x, int64_t n) {              \
        return g4_quant_kernels_get()->dot[type](row, x, n);                     \
    }

G4_DOT_SEL(dot_f32_sel, G4_TYPE_F32)
G4_DOT_SEL(dot_f16_sel, G4_TYPE_F16)
G4_DOT_SEL(dot_bf16_sel, G4_TYPE_BF16)
G4_DOT_SEL(dot_q8_0_sel, G4_TYPE_Q8_0)
G4_DOT_SEL(dot_q4_0_sel, G4_TYPE_Q4_0)
G4_DOT_SEL(dot_q5_0_sel, G4_TYPE_Q5_0)
G4_DOT_SEL(dot_q4_K_sel, G4_TYPE_Q4_K)
G4_DOT_SEL(dot_q5_K_sel, G4_TYPE_Q5_K)
G4_DOT_SEL(dot_q6_K_sel, G4_TYPE_Q6_K)

/* ---- the table --------------------------------------------------------------------- */

static const g4_type_info g4_types[G4_TYPE_COUNT] = {
    [G4_TYPE_F32] = {"f32", 1, 4, to_f32_f32, from_f32_f32, dot_f32_sel},
    [G4_TYPE_F16] = {"f16", 1, 2, to_f32_f16, from_f32_f16, dot_f16_sel},
    [G4_TYPE_Q4_0] = {"q4_0", G4_QK4_0, sizeof(g4_block_q4_0), to_f32_q4_0, from_f32_q4_0, dot_q4_0_sel},
    [G4_TYPE_Q5_0] = {"q5_0", G4_QK5_0, sizeof(g4_block_q5_0), to_f32_q5_0, NULL, dot_q5_0_sel},
    [G4_TYPE_Q8_0] = {"q8_0", G4_QK8_0, sizeof(g4_block_q8_0), to_f32_q8_0, from_f32_q8_0, dot_q8_0_sel},
    [G4_TYPE_Q4_K] = {"q4_K", G4_QK_K, sizeof(g4_block_q4_K), to_f32_q4_K, NULL, dot_q4_K_sel},
    [G4_TYPE_Q5_K] = {"q5_K", G4_QK_K, sizeof(g4_block_q5_K), to_f32_q5_K, NULL, dot_q5_K_sel},
    [G4_TYPE_Q6_K] = {"q6_K", G4_QK_K, sizeof(g4_block_q6_K), to_f32_q6_K, NULL, dot_q6_K_sel},
    [G4_TYPE_BF16] = {"bf16", 1, 2, to_f32_bf16, from_f32_bf16, dot_bf16_sel},
};

const g4_type_info *g4_type_get(int type) {
    if (type < 0 || type >= G4_TYPE_COUNT || !g4_types[type].name) return NULL;
    return &g4_types[type];
}

/* ASCII case-insensitive: "Q8_0" and "q8_0" both name q8_0. */
static int name_eq(const char *a, const char *b) {
    for (;; a++, b++) {
        int ca = (*a >= 'A' && *a <= 'Z') ? *a + 32 : *a;
        int cb = (*b >= 'A' && *b <= 'Z') ? *b + 32 : *b;
        if (ca != cb) return 0;
        if (!ca) return 1;
    }
}

int g4_type_from_name(const char *name) {
    if (!name) return -1;
    for (int t = 0; t < G4_TYPE_COUNT; t++)
        if (g4_types[t].name && name_eq(g4_types[t].name, name)) return t;
    return -1;
}

size_t g4_row_size(int type, int64_t n) {
    const g4_type_info *ti = g4_type_get(type);
    if (!ti || n < 0 || n % ti->blck) return 0;
    uint64_t nb = (uint64_t)(n / ti->blck);
    if (nb > SIZE_MAX / ti->size) return 0;
    return (size_t)nb * ti->size;
}
