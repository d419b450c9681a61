/* qdot_vnni.c -- the packed x8 integer kernels (qdot.h) with VNNI: one vpdpbusd multiplies 4 unsigned weight
 * bytes by 4 signed activation bytes per lane and adds them to an int32 sum, where AVX2 needs vpmaddubsw,
 * vpmaddwd and an add.  Same integer sums and the same float steps as the AVX2 and scalar kernels, so the
 * results are bit-identical to them (test_qdot checks it; G4_NO_VNNI=1 turns these off, which the test
 * suite uses to check the AVX2 ones on a VNNI machine too).  256-bit vectors with AVX512-VNNI + VL (Ice
 * Lake and later Xeons, Zen 4 and later).
 */
#include "core/cpu/quant_cpu.h"

#ifdef G4_HAVE_AVX2_KERNELS

#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

#include "core/cpu/avx2_util.h"
#include "core/quant.h"

#define G4_VNNI __attribute__((target("avx2,fma,f16c,avx512f,avx512vl,avx512vnni")))
#define G4_VNNI_INLINE __attribute__((target("avx2,fma,f16c,avx512f,avx512vl,avx512vnni"), always_inline)) static inline

static int detect_vnni(void) {
    const char *off = getenv("G4_NO_VNNI");
    if (off && *off && strcmp(off, "0")) return 0;
    __builtin_cpu_init();
    return g4_cpu_has_avx2() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
           __builtin_cpu_supports("avx512vnni");
}

int g4_cpu_has_vnni(void) {
    static int known = -1;
    int v = __atomic_load_n(&known, __ATOMIC_RELAXED);
    if (v < 0) __atomic_store_n(&known, v = detect_vnni(), __ATOMIC_RELAXED);
    return v;
}

#define DP(acc, u, s) _mm256_dpbusd_epi32(acc, u, s)

G4_VNNI_INLINE void vn_q4_0x8(const uint8_t *p, const g4_block_q8x *x, int64_t ldx, int64_t nb, float *y, int64_t ldy,
                              const int NT) {
    const __m256i m4 = _mm256_set1_epi8(15);
    __m256 acc[G4_QDOT_MAX_NT];
#pragma GCC unroll 4
    for (int t = 0; t < NT; t++) acc[t] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++, p += 8 * sizeof(g4_block_q4_0)) {
        const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)p));
        __m256i lo[4], hi[4];
#pragma GCC unroll 4
        for (int j = 0; j < 4; j++) {
            const __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(p + 16 + 32 * j));
            lo[j] = _mm256_and_si256(v, m4);
            hi[j] = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
        }
#pragma GCC unroll 4
        for (int t = 0; t < NT; t++) {
            const g4_block_q8x *xb = x + t * ldx + b;
            int32_t q4[8];
            memcpy(q4, xb->q, 32);
            __m256i s = _mm256_set1_epi32(-8 * xb->sum);
#pragma GCC unroll 4
            for (int j = 0; j < 4; j++) {
                s = DP(s, lo[j], _mm256_set1_epi32(q4[j]));
                s = DP(s, hi[j], _mm256_set1_epi32(q4[4 + j]));
            }
            acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_mul_ps(dw, _mm256_set1_ps(xb->d)), acc[t]);
        }
    }
#pragma GCC unroll 4
    for (int t = 0; t < NT; t++) _mm256_storeu_ps(y + t * ldy, acc[t]);
}

G4_VNNI_INLINE void vn_q8_0x8(const uint8_t *p, const g4_block_q8x *x, int64_t ldx, int64_t nb, float *y, int64_t ldy,
                              const int NT) {
    __m256 acc[G4_QDOT_MAX_NT];
#pragma GCC unroll 4
    for (int t = 0; t < NT; t++) acc[t] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++, p += 8 * sizeof(g4_block_q8_0)) {
        const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)p));
        __m256i is[G4_QDOT_MAX_NT];
#pragma GCC unroll 4
        for (int t = 0; t < NT; t++) is[t] = _mm256_setzero_si256();
#pragma GCC unroll 8
        for (int j = 0; j < 8; j++) {
            const __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(p + 16 + 32 * j));
            const __m256i a = _mm256_abs_epi8(v);
#pragma GCC unroll 4
            for (int t = 0; t < NT; t++) {
                int32_t q4;
                memcpy(&q4, x[t * ldx + b].q + 4 * j, 4);
                is[t] = DP(is[t], a, _mm256_sign_epi8(_mm256_set1_epi32(q4), v));
            }
        }
#pragma GCC unroll 4
        for (int t = 0; t < NT; t++)
            acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(is[t]), _mm256_mul_ps(dw, _mm256_set1_ps(x[t * ldx + b].d)), acc[t]);
    }
#pragma GCC unroll 4
    for (int t = 0; t < NT; t++) _mm256_storeu_ps(y + t * ldy, acc[t]);
}

G4_VNNI_INLINE void vn_q4_Kx8(const uint8_t *p, const g4_block_q8x *x, int64_t ldx, int64_t nb, float *y, int64_t ldy,
                              const int NT) {
    const __m256i m4 = _mm256_set1_epi8(15);
    __m256 acc[G4_QDOT_MAX_NT], accm[G4_QDOT_MAX_NT];
#pragma GCC unroll 4
    for (int t = 0; t < NT; t++) acc[t] = accm[t] = _mm256_setzero_ps();
    for (int64_t i = 0; i < nb / 8; i++, p += 8 * sizeof(g4_block_q4_K)) {
        __m256 dsc[8], dmn[8]; /* [sub-block], lane r = row r */
        k4_scales_x8(p, dsc, dmn);
        for (int s = 0; s < 8; s++) {
            const uint8_t *v = p + 128 + 32 * 8 * (s / 2);
            __m256i w[8];
#pragma GCC unroll 8
            for (int u = 0; u < 8; u++) {
                const __m256i b = _mm256_loadu_si256((const __m256i *)(const void *)(v + 32 * u));
                w[u] = s & 1 ? _mm256_and_si256(_mm256_srli_epi16(b, 4), m4) : _mm256_and_si256(b, m4);
            }
            const __m256 vs = dsc[s], vm = dmn[s];
#pragma GCC unroll 4
            for (int t = 0; t < NT; t++) {
                const g4_block_q8x *xb = x + t * ldx + 8 * i + s;
                int32_t q4[8];
                memcpy(q4, xb->q, 32);
                __m256i sum = _mm256_setzero_si256();
#pragma GCC unroll 8
                for (int u = 0; u < 8; u++) sum = DP(sum, w[u], _mm256_set1_epi32(q4[u]));
                const __m256 xd = _mm256_set1_ps(xb->d);
                acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sum), _mm256_mul_ps(vs, xd), acc[t]);
                accm[t] = _mm256_fmadd_ps(_mm256_set1_ps((float)xb->sum), _mm256_mul_ps(vm, xd), accm[t]);
            }
        }
    }
#pragma GCC unroll 4
    for (int t = 0; t < NT; t++) _mm256_storeu_ps(y + t * ldy, _mm256_sub_ps(acc[t], accm[t]));
}

G4_VNNI_INLINE void vn_q6_Kx8(const uint8_t *p, const g4_block_q8x *x, int64_t ldx, int64_t nb, float *y, int64_t ldy,
                              const int NT) {
    __m256 acc[G4_QDOT_MAX_NT];
#pragma GCC unroll 4
    for (int t = 0; t < NT; t++) acc[t] = _mm256_setzero_ps();
    for (int64_t i = 0; i < nb / 8; i++, p += 8 * sizeof(g4_block_q6_K)) {
        int32_t scs[16][8];
        float dv[8];
        for (int r = 0; r < 8; r++) {
            for (int k = 0; k < 16; k++) scs[k][r] = ((const int8_t *)p)[18 * r + k];
            dv[r] = ld_f16(p + 18 * r + 16);
        }
        const __m256 vd = _mm256_loadu_ps(dv);
        for (int h = 0; h < 2; h++)
            for (int c = 0; c < 4; c++) {
                __m256i a[8], sg[8];
                q6_chunk_x8(p, h, c, sg, a);
                const __m256i s0 = _mm256_loadu_si256((const __m256i *)(const void *)scs[8 * h + 2 * c]);
                const __m256i s1 = _mm256_loadu_si256((const __m256i *)(const void *)scs[8 * h + 2 * c + 1]);
#pragma GCC unroll 4
                for (int t = 0; t < NT; t++) {
                    const g4_block_q8x *xb = x + t * ldx + 8 * i + 4 * h + c;
                    int32_t q4[8];
                    memcpy(q4, xb->q, 32);
                    __m256i S0 = _mm256_setzero_si256(), S1 = S0;
#pragma GCC unroll 4
                    for (int u = 0; u < 4; u++) {
                        S0 = DP(S0, a[u], _mm256_sign_epi8(_mm256_set1_epi32(q4[u]), sg[u]));
                        S1 = DP(S1, a[u + 4], _mm256_sign_epi8(_mm256_set1_epi32(q4[u + 4]), sg[u + 4]));
                    }
                    const __m256i I = _mm256_add_epi32(_mm256_mullo_epi32(S0, s0), _mm256_mullo_epi32(S1, s1));
                    acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(I), _mm256_mul_ps(vd, _mm256_set1_ps(xb->d)), acc[t]);
                }
            }
    }
#pragma GCC unroll 4
    for (int t = 0; t < NT; t++) _mm256_storeu_ps(y + t * ldy, acc[t]);
}

#define G4_VNNI_NT(name, kernel)                                                                           \
    G4_VNNI void name(const void *w, const g4_block_q8x *x, int64_t ldx, int nt, int64_t n, float *y,      \
                      int64_t ldy) {                                                                       \
        const int64_t nb = n / G4_QK8X;                                                                    \
        switch (nt) {                                                                                      \
        case 1: kernel(w, x, ldx, nb, y, ldy, 1); break;                                                  \
        case 2: kernel(w, x, ldx, nb, y, ldy, 2); break;                                                  \
        case 3: kernel(w, x, ldx, nb, y, ldy, 3); break;                                                  \
        default: kernel(w, x, ldx, nb, y, ldy, 4); break;                                                 \
        }                                                                                                  \
    }
G4_VNNI_NT(g4_qdot_q4_0x8_vnni, vn_q4_0x8)
G4_VNNI_NT(g4_qdot_q8_0x8_vnni, vn_q8_0x8)
G4_VNNI_NT(g4_qdot_q4_Kx8_vnni, vn_q4_Kx8)
G4_VNNI_NT(g4_qdot_q6_Kx8_vnni, vn_q6_Kx8)

#endif
