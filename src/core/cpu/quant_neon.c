/* quant_neon.c -- AdvSIMD (NEON) row dot products for aarch64, selected by quant.c.
 *
 * AdvSIMD and the f16<->f32 conversions (vcvt_f32_f16) are baseline on aarch64, so unlike
 * the AVX2 file there is no run-time check: on aarch64 these are always the kernels.
 * Same strategy as quant_avx2.c, 4 lanes instead of 8: weights are widened to f32 lanes
 * (u8/s8 -> 16 -> 32 bits -> float) and FMA'd against x.  Quantized blocks are summed in
 * f32 first, then scaled once per (sub-)block:
 *   q8_0/q4_0/q5_0:  acc += d * sum(q*x)
 *   q4_K/q5_K:       acc += d*sc * sum(q*x) - dmin*m * sum(x)   (per 32-element sub-block)
 *   q6_K:            acc += d*sc * sum(q*x)                      (per 16-element group)
 * Nibbles and high bits are assembled 16 weights at a time with byte-wide ops.  Rows are
 * read as bytes (vld1q_u8, memcpy), so they may sit at any address; the summation order is
 * fixed (no alignment peeling), so a result depends only on the inputs.
 */
#include "core/cpu/quant_cpu.h"

#ifdef G4_HAVE_NEON_KERNELS

#include <arm_neon.h>
#include <string.h>

#include "core/quant.h"

static inline float ld_f16(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return vget_lane_f32(vget_low_f32(vcvt_f32_f16(vreinterpret_f16_u16(vdup_n_u16(h)))), 0);
}

static inline float32x4_t ldx(const float *x) { return vld1q_f32(x); }

/* 16 signed bytes -> 16 products with x[0..15], summed into 4 lanes of acc. */
static inline float32x4_t fma16_s8(float32x4_t acc, int8x16_t q, const float *x) {
    int16x8_t lo = vmovl_s8(vget_low_s8(q)), hi = vmovl_high_s8(q);
    float32x4_t a = vfmaq_f32(acc, vcvtq_f32_s32(vmovl_s16(vget_low_s16(lo))), ldx(x));
    float32x4_t b = vmulq_f32(vcvtq_f32_s32(vmovl_high_s16(lo)), ldx(x + 4));
    a = vfmaq_f32(a, vcvtq_f32_s32(vmovl_s16(vget_low_s16(hi))), ldx(x + 8));
    b = vfmaq_f32(b, vcvtq_f32_s32(vmovl_high_s16(hi)), ldx(x + 12));
    return vaddq_f32(a, b);
}

/* Same for 16 unsigned bytes. */
static inline float32x4_t fma16_u8(float32x4_t acc, uint8x16_t q, const float *x) {
    uint16x8_t lo = vmovl_u8(vget_low_u8(q)), hi = vmovl_high_u8(q);
    float32x4_t a = vfmaq_f32(acc, vcvtq_f32_u32(vmovl_u16(vget_low_u16(lo))), ldx(x));
    float32x4_t b = vmulq_f32(vcvtq_f32_u32(vmovl_high_u16(lo)), ldx(x + 4));
    a = vfmaq_f32(a, vcvtq_f32_u32(vmovl_u16(vget_low_u16(hi))), ldx(x + 8));
    b = vfmaq_f32(b, vcvtq_f32_u32(vmovl_high_u16(hi)), ldx(x + 12));
    return vaddq_f32(a, b);
}

/* x[0..15] summed into 4 lanes. */
static inline float32x4_t sum16(const float *x) {
    return vaddq_f32(vaddq_f32(ldx(x), ldx(x + 4)), vaddq_f32(ldx(x + 8), ldx(x + 12)));
}

/* ---- plain float rows ---------------------------------------------------------------- */

static inline float32x4_t ld4_f32(const uint8_t *w) { return vreinterpretq_f32_u8(vld1q_u8(w)); }
static inline float32x4_t ld4_f16(const uint8_t *w) {
    return vcvt_f32_f16(vreinterpret_f16_u8(vld1_u8(w)));
}
static inline float32x4_t ld4_bf16(const uint8_t *w) {
    return vreinterpretq_f32_u32(vshll_n_u16(vreinterpret_u16_u8(vld1_u8(w)), 16));
}
static inline float ld1_f32(const uint8_t *w) {
    float f;
    memcpy(&f, w, 4);
    return f;
}
static inline float ld1_bf16(const uint8_t *w) {
    uint16_t h;
    memcpy(&h, w, 2);
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* 4 accumulators over 16 elements, then 4 at a time, then the scalar tail in order. */
#define G4_DOT_PLAIN_NEON(name, esz, ld4, ld1)                                   \
    float name(const void *row, const float *x, int64_t n) {                     \
        const uint8_t *w = row;                                                  \
        float32x4_t a0 = vdupq_n_f32(0.0f), a1 = a0, a2 = a0, a3 = a0;           \
        int64_t i = 0;                                                           \
        for (; i + 16 <= n; i += 16) {                                           \
            a0 = vfmaq_f32(a0, ld4(w + (esz) * i), ldx(x + i));                  \
            a1 = vfmaq_f32(a1, ld4(w + (esz) * (i + 4)), ldx(x + i + 4));        \
            a2 = vfmaq_f32(a2, ld4(w + (esz) * (i + 8)), ldx(x + i + 8));        \
            a3 = vfmaq_f32(a3, ld4(w + (esz) * (i + 12)), ldx(x + i + 12));      \
        }                                                                        \
        for (; i + 4 <= n; i += 4) a0 = vfmaq_f32(a0, ld4(w + (esz) * i), ldx(x + i)); \
        float s = vaddvq_f32(vaddq_f32(vaddq_f32(a0, a1), vaddq_f32(a2, a3)));   \
        for (; i < n; i++) s += ld1(w + (esz) * i) * x[i];                       \
        return s;                                                                \
    }

G4_DOT_PLAIN_NEON(g4_dot_f32_neon, 4, ld4_f32, ld1_f32)
G4_DOT_PLAIN_NEON(g4_dot_f16_neon, 2, ld4_f16, ld_f16)
G4_DOT_PLAIN_NEON(g4_dot_bf16_neon, 2, ld4_bf16, ld1_bf16)

/* ---- q8_0 / q4_0 / q5_0: sum(q*x) per 32-block, then one FMA with d ----------------- */

static inline float32x4_t sum_q8_0(const uint8_t *q, const float *x) {
    float32x4_t s = fma16_s8(vdupq_n_f32(0.0f), vreinterpretq_s8_u8(vld1q_u8(q)), x);
    return fma16_s8(s, vreinterpretq_s8_u8(vld1q_u8(q + 16)), x + 16);
}

/* q4_0: low nibbles are elements 0..15, high nibbles 16..31, both minus 8. */
static inline float32x4_t sum_q4_0(const uint8_t *q, const float *x) {
    const uint8x16_t v = vld1q_u8(q);
    const int8x16_t e8 = vdupq_n_s8(8);
    int8x16_t lo = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(v, vdupq_n_u8(0x0f))), e8);
    int8x16_t hi = vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(v, 4)), e8);
    return fma16_s8(fma16_s8(vdupq_n_f32(0.0f), lo, x), hi, x + 16);
}

/* q5_0: p -> {u32 qh; qs[16]}; the 5th bit of element j is bit j of qh.  Byte j/8 of qh is
 * spread over lanes (table lookup), and each lane tests its own bit j%8. */
static inline float32x4_t sum_q5_0(const uint8_t *p, const float *x) {
    static const uint8_t idx_lo[16] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1};
    static const uint8_t idx_hi[16] = {2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3};
    static const uint8_t bits[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
    const uint8x16_t h = vcombine_u8(vld1_u8(p), vld1_u8(p)); /* bytes 0-3 are qh */
    const uint8x16_t bit = vld1q_u8(bits), m16 = vdupq_n_u8(0x10);
    uint8x16_t h_lo = vandq_u8(vtstq_u8(vqtbl1q_u8(h, vld1q_u8(idx_lo)), bit), m16);
    uint8x16_t h_hi = vandq_u8(vtstq_u8(vqtbl1q_u8(h, vld1q_u8(idx_hi)), bit), m16);
    const uint8x16_t v = vld1q_u8(p + 4);
    const int8x16_t e16 = vdupq_n_s8(16);
    int8x16_t lo = vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(vandq_u8(v, vdupq_n_u8(0x0f)), h_lo)), e16);
    int8x16_t hi = vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(vshrq_n_u8(v, 4), h_hi)), e16);
    return fma16_s8(fma16_s8(vdupq_n_f32(0.0f), lo, x), hi, x + 16);
}

/* Two accumulators (even/odd blocks) to hide the FMA latency. */
#define G4_DOT_BLOCK32_NEON(name, bsz, sum)                                      \
    float name(const void *row, const float *x, int64_t n) {                     \
        const uint8_t *b = row;                                                  \
        float32x4_t acc0 = vdupq_n_f32(0.0f), acc1 = acc0;                       \
        int64_t nb = n / 32, i = 0;                                              \
        for (; i + 2 <= nb; i += 2, b += 2 * (bsz), x += 64) {                   \
            acc0 = vfmaq_n_f32(acc0, sum(b + 2, x), ld_f16(b));                  \
            acc1 = vfmaq_n_f32(acc1, sum(b + (bsz) + 2, x + 32), ld_f16(b + (bsz))); \
        }                                                                        \
        if (i < nb) acc0 = vfmaq_n_f32(acc0, sum(b + 2, x), ld_f16(b));          \
        return vaddvq_f32(vaddq_f32(acc0, acc1));                                \
    }

G4_DOT_BLOCK32_NEON(g4_dot_q8_0_neon, 34, sum_q8_0)
G4_DOT_BLOCK32_NEON(g4_dot_q4_0_neon, 18, sum_q4_0)
G4_DOT_BLOCK32_NEON(g4_dot_q5_0_neon, 22, sum_q5_0)

/* ---- q4_K / q5_K -------------------------------------------------------------------- */

/* The super-block's eight d*sc and eight dmin*m.  The 12 scale bytes as three words A, B, C:
 * sc[0..3] = A & 63, mn[0..3] = B & 63, sc[4..7] = C low nibbles | A top 2 bits << 4,
 * mn[4..7] = C high nibbles | B top 2 bits << 4 (per byte). */
static inline void kscales8(const uint8_t *b, float dsc[8], float dmn[8]) {
    uint32_t A, B, C;
    memcpy(&A, b + 4, 4);
    memcpy(&B, b + 8, 4);
    memcpy(&C, b + 12, 4);
    uint64_t sc = (uint64_t)(A & 0x3f3f3f3fu) |
                  (uint64_t)((C & 0x0f0f0f0fu) | ((A >> 2) & 0x30303030u)) << 32;
    uint64_t mn = (uint64_t)(B & 0x3f3f3f3fu) |
                  (uint64_t)(((C >> 4) & 0x0f0f0f0fu) | ((B >> 2) & 0x30303030u)) << 32;
    uint16x8_t s16 = vmovl_u8(vcreate_u8(sc)), m16 = vmovl_u8(vcreate_u8(mn));
    float d = ld_f16(b), dmin = ld_f16(b + 2);
    vst1q_f32(dsc, vmulq_n_f32(vcvtq_f32_u32(vmovl_u16(vget_low_u16(s16))), d));
    vst1q_f32(dsc + 4, vmulq_n_f32(vcvtq_f32_u32(vmovl_high_u16(s16)), d));
    vst1q_f32(dmn, vmulq_n_f32(vcvtq_f32_u32(vmovl_u16(vget_low_u16(m16))), dmin));
    vst1q_f32(dmn + 4, vmulq_n_f32(vcvtq_f32_u32(vmovl_high_u16(m16)), dmin));
}

/* One 64-element chunk (sub-blocks s and s+1): lo0/lo1 are the 32 weights of sub-block s
 * (elements 0-15, 16-31), hi0/hi1 those of s+1, x the chunk's 64 floats. */
static inline void kchunk(uint8x16_t lo0, uint8x16_t lo1, uint8x16_t hi0, uint8x16_t hi1, const float *x,
                          float dsc0, float dsc1, float dmn0, float dmn1, float32x4_t *aq0, float32x4_t *aq1,
                          float32x4_t *am0, float32x4_t *am1) {
    const float32x4_t z = vdupq_n_f32(0.0f);
    float32x4_t sl = fma16_u8(fma16_u8(z, lo0, x), lo1, x + 16);
    float32x4_t sh = fma16_u8(fma16_u8(z, hi0, x + 32), hi1, x + 48);
    float32x4_t xl = vaddq_f32(sum16(x), sum16(x + 16));
    float32x4_t xh = vaddq_f32(sum16(x + 32), sum16(x + 48));
    *aq0 = vfmaq_n_f32(*aq0, sl, dsc0);
    *aq1 = vfmaq_n_f32(*aq1, sh, dsc1);
    *am0 = vfmaq_n_f32(*am0, xl, dmn0);
    *am1 = vfmaq_n_f32(*am1, xh, dmn1);
}

/* q4_K: chunk j = qs[32j..32j+31]; low nibbles are sub-block 2j, high nibbles 2j+1. */
float g4_dot_q4_K_neon(const void *row, const float *x, int64_t n) {
    const uint8_t *b = row;
    const uint8x16_t m4 = vdupq_n_u8(0x0f);
    float dsc[8], dmn[8];
    float32x4_t aq0 = vdupq_n_f32(0.0f), aq1 = aq0, am0 = aq0, am1 = aq0;
    for (int64_t i = 0; i < n / G4_QK_K; i++, b += sizeof(g4_block_q4_K)) {
        kscales8(b, dsc, dmn);
        const uint8_t *q = b + 16;
        for (int s = 0; s < 8; s += 2, q += 32, x += 64) {
            uint8x16_t v0 = vld1q_u8(q), v1 = vld1q_u8(q + 16);
            kchunk(vandq_u8(v0, m4), vandq_u8(v1, m4), vshrq_n_u8(v0, 4), vshrq_n_u8(v1, 4), x, dsc[s], dsc[s + 1],
                   dmn[s], dmn[s + 1], &aq0, &aq1, &am0, &am1);
        }
    }
    return vaddvq_f32(vsubq_f32(vaddq_f32(aq0, aq1), vaddq_f32(am0, am1)));
}

/* q5_K: q4_K plus qh[32]: bit 2j (2j+1) of qh[l] is the 5th bit of element l of
 * sub-block 2j (2j+1); tested per lane and turned into 0x10. */
float g4_dot_q5_K_neon(const void *row, const float *x, int64_t n) {
    const uint8_t *b = row;
    const uint8x16_t m4 = vdupq_n_u8(0x0f), m16 = vdupq_n_u8(0x10);
    float dsc[8], dmn[8];
    float32x4_t aq0 = vdupq_n_f32(0.0f), aq1 = aq0, am0 = aq0, am1 = aq0;
    for (int64_t i = 0; i < n / G4_QK_K; i++, b += sizeof(g4_block_q5_K)) {
        kscales8(b, dsc, dmn);
        const uint8x16_t h0 = vld1q_u8(b + 16), h1 = vld1q_u8(b + 32);
        const uint8_t *q = b + 48;
        for (int s = 0; s < 8; s += 2, q += 32, x += 64) {
            const uint8x16_t bl = vdupq_n_u8((uint8_t)(1u << s)), bh = vdupq_n_u8((uint8_t)(2u << s));
            uint8x16_t v0 = vld1q_u8(q), v1 = vld1q_u8(q + 16);
            uint8x16_t lo0 = vorrq_u8(vandq_u8(v0, m4), vandq_u8(vtstq_u8(h0, bl), m16));
            uint8x16_t lo1 = vorrq_u8(vandq_u8(v1, m4), vandq_u8(vtstq_u8(h1, bl), m16));
            uint8x16_t hi0 = vorrq_u8(vshrq_n_u8(v0, 4), vandq_u8(vtstq_u8(h0, bh), m16));
            uint8x16_t hi1 = vorrq_u8(vshrq_n_u8(v1, 4), vandq_u8(vtstq_u8(h1, bh), m16));
            kchunk(lo0, lo1, hi0, hi1, x, dsc[s], dsc[s + 1], dmn[s], dmn[s + 1], &aq0, &aq1, &am0, &am1);
        }
    }
    return vaddvq_f32(vsubq_f32(vaddq_f32(aq0, aq1), vaddq_f32(am0, am1)));
}

/* ---- q6_K ----------------------------------------------------------------------------- */

/* Per half of 128 and per 16 l's (l0 = 0 or 16): element l0+l of each quarter is
 *   quarter 0: ql[l] & 15 | (qh[l] & 3) << 4       quarter 1: ql[l+32] & 15 | (qh[l] & 0x0c) << 2
 *   quarter 2: ql[l] >> 4 | (qh[l] & 0x30)         quarter 3: ql[l+32] >> 4 | (qh[l] >> 2) & 0x30
 * minus 32 (as signed bytes); the 16 weights of a group share d*sc[group].  Four
 * accumulators, one per quarter. */
float g4_dot_q6_K_neon(const void *row, const float *x, int64_t n) {
    const uint8_t *b = row;
    const uint8x16_t m4 = vdupq_n_u8(0x0f), m3 = vdupq_n_u8(0x03), mc = vdupq_n_u8(0x0c), m30 = vdupq_n_u8(0x30);
    const int8x16_t o32 = vdupq_n_s8(32);
    const float32x4_t z = vdupq_n_f32(0.0f);
    float ds[16];
    float32x4_t a0 = z, a1 = z, a2 = z, a3 = z;
    for (int64_t i = 0; i < n / G4_QK_K; i++, b += sizeof(g4_block_q6_K), x += G4_QK_K) {
        const float d = ld_f16(b + 208);
        const int8x16_t sc = vreinterpretq_s8_u8(vld1q_u8(b + 192));
        const int16x8_t s0 = vmovl_s8(vget_low_s8(sc)), s1 = vmovl_high_s8(sc);
        vst1q_f32(ds, vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_low_s16(s0))), d));
        vst1q_f32(ds + 4, vmulq_n_f32(vcvtq_f32_s32(vmovl_high_s16(s0)), d));
        vst1q_f32(ds + 8, vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_low_s16(s1))), d));
        vst1q_f32(ds + 12, vmulq_n_f32(vcvtq_f32_s32(vmovl_high_s16(s1)), d));
        for (int h = 0; h < 2; h++) {
            const uint8_t *ql = b + 64 * h, *qh = b + 128 + 32 * h;
            const float *xh = x + 128 * h, *dh = ds + 8 * h;
            for (int g = 0; g < 2; g++) {
                const int l0 = 16 * g;
                uint8x16_t l = vld1q_u8(ql + l0), l2 = vld1q_u8(ql + 32 + l0), hh = vld1q_u8(qh + l0);
                uint8x16_t q1 = vorrq_u8(vandq_u8(l, m4), vshlq_n_u8(vandq_u8(hh, m3), 4));
                uint8x16_t q2 = vorrq_u8(vandq_u8(l2, m4), vshlq_n_u8(vandq_u8(hh, mc), 2));
                uint8x16_t q3 = vorrq_u8(vshrq_n_u8(l, 4), vandq_u8(hh, m30));
                uint8x16_t q4 = vorrq_u8(vshrq_n_u8(l2, 4), vandq_u8(vshrq_n_u8(hh, 2), m30));
                float32x4_t s1 = fma16_s8(z, vsubq_s8(vreinterpretq_s8_u8(q1), o32), xh + l0);
                float32x4_t s2 = fma16_s8(z, vsubq_s8(vreinterpretq_s8_u8(q2), o32), xh + 32 + l0);
                float32x4_t s3 = fma16_s8(z, vsubq_s8(vreinterpretq_s8_u8(q3), o32), xh + 64 + l0);
                float32x4_t s4 = fma16_s8(z, vsubq_s8(vreinterpretq_s8_u8(q4), o32), xh + 96 + l0);
                a0 = vfmaq_n_f32(a0, s1, dh[g]);
                a1 = vfmaq_n_f32(a1, s2, dh[2 + g]);
                a2 = vfmaq_n_f32(a2, s3, dh[4 + g]);
                a3 = vfmaq_n_f32(a3, s4, dh[6 + g]);
            }
        }
    }
    return vaddvq_f32(vaddq_f32(vaddq_f32(a0, a1), vaddq_f32(a2, a3)));
}

#else
typedef int g4_quant_neon_unused; /* not aarch64: nothing to build here */
#endif
