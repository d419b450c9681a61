/* qdot_neon.c -- aarch64 kernels for the packed x8 layouts (qdot.h: q4_0, q8_0, q4_K, q6_K), with the dot-product extension
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

/* q4_Kx8 (layout in qdot.c): per super-block the 8 rows' d*sc and dmin*m per sub-block, then per sub-block
 * 8 SDOTs per 4 rows (the unsigned nibbles are < 128, so signed dots are exact); the reference's two FMAs. */
G4_DOTPROD void g4_qdot_q4_Kx8_neon(const void *grp, const g4_block_q8x *x, int64_t ldx, int nt, int64_t n, float *y,
                                    int64_t ldy) {
    const uint8x16_t m4 = vdupq_n_u8(15);
    for (int t = 0; t < nt; t++) {
        const uint8_t *p = grp;
        float32x4_t a0 = vdupq_n_f32(0.0f), a1 = a0, m0 = a0, m1 = a0;
        for (int64_t i = 0; i < n / G4_QK_K; i++, p += 8 * sizeof(g4_block_q4_K)) {
            float dsc[8][8], dmn[8][8];
            for (int r = 0; r < 8; r++) {
                uint8_t sc[8], mn[8];
                g4_kscales(p + 16 * r + 4, sc, mn);
                g4_f16 hd, hm;
                memcpy(&hd, p + 16 * r, 2);
                memcpy(&hm, p + 16 * r + 2, 2);
                const float d = g4_f16_to_f32(hd), dmin = g4_f16_to_f32(hm);
                for (int s = 0; s < 8; s++) dsc[s][r] = d * (float)sc[s], dmn[s][r] = dmin * (float)mn[s];
            }
            for (int s = 0; s < 8; s++) {
                const g4_block_q8x *xb = x + t * ldx + 8 * i + s;
                const int8x16_t xl = vld1q_s8(xb->q), xh = vld1q_s8(xb->q + 16);
                const uint8_t *v = p + 128 + 32 * 8 * (s / 2);
                int32x4_t i0 = vdupq_n_s32(0), i1 = i0;
                for (int u = 0; u < 8; u++) {
                    uint8x16_t w0 = vld1q_u8(v + 32 * u), w1 = vld1q_u8(v + 32 * u + 16);
                    w0 = s & 1 ? vshrq_n_u8(w0, 4) : vandq_u8(w0, m4);
                    w1 = s & 1 ? vshrq_n_u8(w1, 4) : vandq_u8(w1, m4);
                    i0 = LANE_DOT(i0, vreinterpretq_s8_u8(w0), u < 4 ? xl : xh, u & 3);
                    i1 = LANE_DOT(i1, vreinterpretq_s8_u8(w1), u < 4 ? xl : xh, u & 3);
                }
                const float32x4_t xd = vdupq_n_f32(xb->d), xs = vdupq_n_f32((float)xb->sum);
                a0 = vfmaq_f32(a0, vcvtq_f32_s32(i0), vmulq_f32(vld1q_f32(dsc[s]), xd));
                a1 = vfmaq_f32(a1, vcvtq_f32_s32(i1), vmulq_f32(vld1q_f32(dsc[s] + 4), xd));
                m0 = vfmaq_f32(m0, xs, vmulq_f32(vld1q_f32(dmn[s]), xd));
                m1 = vfmaq_f32(m1, xs, vmulq_f32(vld1q_f32(dmn[s] + 4), xd));
            }
        }
        vst1q_f32(y + t * ldy, vsubq_f32(a0, m0));
        vst1q_f32(y + t * ldy + 4, vsubq_f32(a1, m1));
    }
}

/* q6_Kx8: q = 6 bits - 32 assembled per 4 rows x 4 weights, SDOT per 16-element half, the halves times the
 * rows' int8 scales in int32, then one FMA per block (qdot.c). */
G4_DOTPROD void g4_qdot_q6_Kx8_neon(const void *grp, const g4_block_q8x *x, int64_t ldx, int nt, int64_t n, float *y,
                                    int64_t ldy) {
    const uint8x16_t m4 = vdupq_n_u8(15), m3 = vdupq_n_u8(3);
    const int8x16_t o32 = vdupq_n_s8(32);
    for (int t = 0; t < nt; t++) {
        const uint8_t *p = grp;
        float32x4_t a0 = vdupq_n_f32(0.0f), a1 = a0;
        for (int64_t i = 0; i < n / G4_QK_K; i++, p += 8 * sizeof(g4_block_q6_K)) {
            int32_t scs[16][8];
            float dv[8];
            for (int r = 0; r < 8; r++) {
                for (int k = 0; k < 16; k++) scs[k][r] = ((const int8_t *)p)[18 * r + k];
                g4_f16 hd;
                memcpy(&hd, p + 18 * r + 16, 2);
                dv[r] = g4_f16_to_f32(hd);
            }
            for (int h = 0; h < 2; h++)
                for (int c = 0; c < 4; c++) {
                    const g4_block_q8x *xb = x + t * ldx + 8 * i + 4 * h + c;
                    const int8x16_t xl = vld1q_s8(xb->q), xh = vld1q_s8(xb->q + 16);
                    int32x4_t s0[2] = {vdupq_n_s32(0), vdupq_n_s32(0)}, s1[2] = {vdupq_n_s32(0), vdupq_n_s32(0)};
                    for (int u = 0; u < 8; u++) {
                        const uint8_t *l = p + 144 + 32 * (16 * h + (c & 1) * 8 + u), *hb = p + 144 + 1024 + 32 * (8 * h + u);
                        int8x16_t q[2];
                        for (int k = 0; k < 2; k++) {
                            const uint8x16_t lv = vld1q_u8(l + 16 * k), hv = vld1q_u8(hb + 16 * k);
                            const uint8x16_t lo = c < 2 ? vandq_u8(lv, m4) : vshrq_n_u8(lv, 4);
                            uint8x16_t hi2;
                            switch (c) {
                            case 0: hi2 = vandq_u8(hv, m3); break;
                            case 1: hi2 = vandq_u8(vshrq_n_u8(hv, 2), m3); break;
                            case 2: hi2 = vandq_u8(vshrq_n_u8(hv, 4), m3); break;
                            default: hi2 = vshrq_n_u8(hv, 6); break;
                            }
                            q[k] = vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(lo, vshlq_n_u8(hi2, 4))), o32);
                        }
                        s0[u >> 2] = LANE_DOT(s0[u >> 2], q[0], u < 4 ? xl : xh, u & 3);
                        s1[u >> 2] = LANE_DOT(s1[u >> 2], q[1], u < 4 ? xl : xh, u & 3);
                    }
                    const int k0 = 8 * h + 2 * c;
                    const int32x4_t I0 = vmlaq_s32(vmulq_s32(s0[0], vld1q_s32(scs[k0])), s0[1], vld1q_s32(scs[k0 + 1]));
                    const int32x4_t I1 = vmlaq_s32(vmulq_s32(s1[0], vld1q_s32(scs[k0] + 4)), s1[1], vld1q_s32(scs[k0 + 1] + 4));
                    const float32x4_t xd = vdupq_n_f32(xb->d);
                    a0 = vfmaq_f32(a0, vcvtq_f32_s32(I0), vmulq_f32(vld1q_f32(dv), xd));
                    a1 = vfmaq_f32(a1, vcvtq_f32_s32(I1), vmulq_f32(vld1q_f32(dv + 4), xd));
                }
        }
        vst1q_f32(y + t * ldy, a0);
        vst1q_f32(y + t * ldy + 4, a1);
    }
}

#endif
