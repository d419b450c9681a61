/* qdot_neon.c -- aarch64 kernels for the packed x8 layouts (qdot.h), with the dot-product extension
 * (SDOT, ARMv8.2; Apple M1 and later, Graviton 2 and later, Cortex-A76 and later), checked at run time
 * through the kernel's hwcaps.  One vdotq_laneq_s32 multiplies 4 rows x 4 weights (one 16-byte half of a
 * packed vector) by 4 activation bytes picked by lane, adding into 4 int32 sums, one per row.  Same
 * arithmetic as the scalar kernels (exact integer sums, then acc = fma(I, dw * d, acc) per block), so the
 * results are bit-identical to them.  Without SDOT there is no kernel here and --q8-act keeps the
 * weights unpacked.
 */
#include "core/cpu/quant_cpu.h"

#ifdef G4_HAVE_NEON_KERNELS

#include <arm_neon.h>
#include <string.h>
#include <sys/auxv.h>

#include "core/quant.h"

#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1UL << 20) /* Linux arm64 hwcap bit for SDOT/UDOT */
#endif

#define G4_DOTPROD __attribute__((target("arch=armv8.2-a+dotprod")))

int g4_cpu_has_dotprod(void) { return (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) != 0; }

/* rows 0-3 and 4-7 of a packed group: scales and the float accumulate of one block */
G4_DOTPROD static inline void x8_acc(const uint8_t *p, int32x4_t i0, int32x4_t i1, float d, float32x4_t *a0,
                                     float32x4_t *a1) {
    const float16x8_t h = vreinterpretq_f16_u8(vld1q_u8(p));
    const float32x4_t s0 = vmulq_n_f32(vcvt_f32_f16(vget_low_f16(h)), d);
    const float32x4_t s1 = vmulq_n_f32(vcvt_high_f32_f16(h), d);
    *a0 = vfmaq_f32(*a0, vcvtq_f32_s32(i0), s0);
    *a1 = vfmaq_f32(*a1, vcvtq_f32_s32(i1), s1);
}

#define LANE_DOT(acc, w, x, j)                                                                     \
    ((j) == 0 ? vdotq_laneq_s32(acc, w, x, 0) : (j) == 1 ? vdotq_laneq_s32(acc, w, x, 1)            \
     : (j) == 2 ? vdotq_laneq_s32(acc, w, x, 2) : vdotq_laneq_s32(acc, w, x, 3))

G4_DOTPROD void g4_qdot_q4_0x8_neon(const void *grp, const g4_block_q8x *x, int64_t ldx, int nt, int64_t n, float *y,
                                    int64_t ldy) {
    const uint8x16_t m4 = vdupq_n_u8(15);
    for (int t = 0; t < nt; t++) {
        const uint8_t *p = grp;
        float32x4_t a0 = vdupq_n_f32(0.0f), a1 = a0;
        for (int64_t b = 0; b < n / 32; b++, p += 8 * sizeof(g4_block_q4_0)) {
            const g4_block_q8x *xb = x + t * ldx + b;
            const int8x16_t xl = vld1q_s8(xb->q), xh = vld1q_s8(xb->q + 16);
            int32x4_t i0 = vdupq_n_s32(-8 * xb->sum), i1 = i0;
            for (int j = 0; j < 4; j++) {
                const uint8x16_t v0 = vld1q_u8(p + 16 + 32 * j), v1 = vld1q_u8(p + 32 + 32 * j);
                i0 = LANE_DOT(i0, vreinterpretq_s8_u8(vandq_u8(v0, m4)), xl, j);
                i0 = LANE_DOT(i0, vreinterpretq_s8_u8(vshrq_n_u8(v0, 4)), xh, j);
                i1 = LANE_DOT(i1, vreinterpretq_s8_u8(vandq_u8(v1, m4)), xl, j);
                i1 = LANE_DOT(i1, vreinterpretq_s8_u8(vshrq_n_u8(v1, 4)), xh, j);
            }
            x8_acc(p, i0, i1, xb->d, &a0, &a1);
        }
        vst1q_f32(y + t * ldy, a0);
        vst1q_f32(y + t * ldy + 4, a1);
    }
}

G4_DOTPROD void g4_qdot_q8_0x8_neon(const void *grp, const g4_block_q8x *x, int64_t ldx, int nt, int64_t n, float *y,
                                    int64_t ldy) {
    for (int t = 0; t < nt; t++) {
        const uint8_t *p = grp;
        float32x4_t a0 = vdupq_n_f32(0.0f), a1 = a0;
        for (int64_t b = 0; b < n / 32; b++, p += 8 * sizeof(g4_block_q8_0)) {
            const g4_block_q8x *xb = x + t * ldx + b;
            const int8x16_t xl = vld1q_s8(xb->q), xh = vld1q_s8(xb->q + 16);
            int32x4_t i0 = vdupq_n_s32(0), i1 = i0;
            for (int j = 0; j < 8; j++) {
                const int8x16_t v0 = vld1q_s8((const int8_t *)p + 16 + 32 * j);
                const int8x16_t v1 = vld1q_s8((const int8_t *)p + 32 + 32 * j);
                i0 = LANE_DOT(i0, v0, j < 4 ? xl : xh, j & 3);
                i1 = LANE_DOT(i1, v1, j < 4 ? xl : xh, j & 3);
            }
            x8_acc(p, i0, i1, xb->d, &a0, &a1);
        }
        vst1q_f32(y + t * ldy, a0);
        vst1q_f32(y + t * ldy + 4, a1);
    }
}

#endif
