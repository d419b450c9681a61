/* quant_cpu.h -- private: the SIMD row kernels quant.c may pick at run time.
 *
 * Each ISA file defines its kernels only where the compiler can target that ISA
 * (quant_avx2.c on x86-64, via per-function target attributes, so the rest of the
 * build stays baseline; quant_neon.c on aarch64, where AdvSIMD is baseline and needs
 * no run-time check).  quant.c checks the CPU once and fills its dispatch table
 * from here.  Same contract as the g4_dot_*_ref kernels in quant.h: row may have
 * any byte alignment, n is a multiple of the block size, f32 accumulation.
 */
#ifndef G4_QUANT_CPU_H
#define G4_QUANT_CPU_H

#include <stdint.h>

#include "../qdot.h"

/* The 12 scale bytes of q4_K/q5_K: eight 6-bit scales sc[] and eight 6-bit mins mn[]. */
static inline void g4_kscales(const uint8_t *s, uint8_t sc[8], uint8_t mn[8]) {
    for (int j = 0; j < 4; j++) {
        sc[j] = s[j] & 63;
        mn[j] = s[j + 4] & 63;
        sc[j + 4] = (uint8_t)((s[j + 8] & 0x0f) | ((s[j] >> 6) << 4));
        mn[j + 4] = (uint8_t)((s[j + 8] >> 4) | ((s[j + 4] >> 6) << 4));
    }
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define G4_HAVE_AVX2_KERNELS 1

/* 1 if the CPU and OS support AVX2 + FMA + F16C (what the kernels below need). */
int g4_cpu_has_avx2(void);

float g4_dot_f32_avx2(const void *row, const float *x, int64_t n);
float g4_dot_f16_avx2(const void *row, const float *x, int64_t n);
float g4_dot_bf16_avx2(const void *row, const float *x, int64_t n);
float g4_dot_q8_0_avx2(const void *row, const float *x, int64_t n);
float g4_dot_q4_0_avx2(const void *row, const float *x, int64_t n);
float g4_dot_q5_0_avx2(const void *row, const float *x, int64_t n);
float g4_dot_q4_K_avx2(const void *row, const float *x, int64_t n);
float g4_dot_q5_K_avx2(const void *row, const float *x, int64_t n);
float g4_dot_q6_K_avx2(const void *row, const float *x, int64_t n);
void g4_to_f32_q8_0_avx2(const void *src, float *dst, int64_t n);
void g4_to_f32_q4_0_avx2(const void *src, float *dst, int64_t n);
void g4_to_f32_bf16_avx2(const void *src, float *dst, int64_t n);
void g4_to_f32_f16_avx2(const void *src, float *dst, int64_t n);
/* packed x8 integer dots with AVX512-VNNI (qdot_vnni.c); G4_NO_VNNI=1 in the environment disables them */
int g4_cpu_has_vnni(void);
void g4_qdot_q4_0x8_vnni(const void *grp, const g4_block_q8x *x, int64_t ldx, int nt, int64_t n, float *y, int64_t ldy);
void g4_qdot_q8_0x8_vnni(const void *grp, const g4_block_q8x *x, int64_t ldx, int nt, int64_t n, float *y, int64_t ldy);
void g4_qdot_q4_Kx8_vnni(const void *grp, const g4_block_q8x *x, int64_t ldx, int nt, int64_t n, float *y, int64_t ldy);
void g4_qdot_q6_Kx8_vnni(const void *grp, const g4_block_q8x *x, int64_t ldx, int nt, int64_t n, float *y, int64_t ldy);
/* attention inner loops (attn_avx2.c): s[g * ss] = scale * k.q_g for g < G (hd % 8 == 0); and
 * o_g += sum_i p[g * ps + i] * v[i] over n rows for g < G (hd % 64 == 0) */
void g4_attn_scores_avx2(const float *k, const float *q, int G, int hd, float scale, float *s, int ss);
void g4_attn_pv_avx2(float *o, const float *p, int ps, const float *const *v, int n, int G, int hd);
/* integer dots (qdot_avx2.c) */
void g4_quantize_q8x_avx2(const float *x, g4_block_q8x *out, int64_t n);
void g4_qdot_q8_0_avx2(const void *row, const g4_block_q8x *x, int64_t ldx, int nt, int64_t n, float *y, int64_t ldy);
void g4_qdot_q4_0_avx2(const void *row, const g4_block_q8x *x, int64_t ldx, int nt, int64_t n, float *y, int64_t ldy);
void g4_qdot_q4_K_avx2(const void *row, const g4_block_q8x *x, int64_t ldx, int nt, int64_t n, float *y, int64_t ldy);
void g4_qdot_q6_K_avx2(const void *row, const g4_block_q8x *x, int64_t ldx, int nt, int64_t n, float *y, int64_t ldy);
void g4_qdot_q4_0x8_avx2(const void *grp, const g4_block_q8x *x, int64_t ldx, int nt, int64_t n, float *y, int64_t ldy);
void g4_qdot_q4_Kx8_avx2(const void *grp, const g4_block_q8x *x, int64_t ldx, int nt, int64_t n, float *y, int64_t ldy);
void g4_qdot_q6_Kx8_avx2(const void *grp, const g4_block_q8x *x, int64_t ldx, int nt, int64_t n, float *y, int64_t ldy);
void g4_qdot_q8_0x8_avx2(const void *grp, const g4_block_q8x *x, int64_t ldx, int nt, int64_t n, float *y, int64_t ldy);
#endif

#if defined(__aarch64__)
#define G4_HAVE_NEON_KERNELS 1

float g4_dot_f32_neon(const void *row, const float *x, int64_t n);
float g4_dot_f16_neon(const void *row, const float *x, int64_t n);
float g4_dot_bf16_neon(const void *row, const float *x, int64_t n);
float g4_dot_q8_0_neon(const void *row, const float *x, int64_t n);
float g4_dot_q4_0_neon(const void *row, const float *x, int64_t n);
float g4_dot_q5_0_neon(const void *row, const float *x, int64_t n);
float g4_dot_q4_K_neon(const void *row, const float *x, int64_t n);
float g4_dot_q5_K_neon(const void *row, const float *x, int64_t n);
float g4_dot_q6_K_neon(const void *row, const float *x, int64_t n);
/* packed x8 integer dots with SDOT (qdot_neon.c) */
int g4_cpu_has_dotprod(void);
void g4_qdot_q4_0x8_neon(const void *grp, const g4_block_q8x *x, int64_t ldx, int nt, int64_t n, float *y, int64_t ldy);
void g4_qdot_q4_Kx8_neon(const void *grp, const g4_block_q8x *x, int64_t ldx, int nt, int64_t n, float *y, int64_t ldy);
void g4_qdot_q6_Kx8_neon(const void *grp, const g4_block_q8x *x, int64_t ldx, int nt, int64_t n, float *y, int64_t ldy);
void g4_qdot_q8_0x8_neon(const void *grp, const g4_block_q8x *x, int64_t ldx, int nt, int64_t n, float *y, int64_t ldy);
#endif

#endif
