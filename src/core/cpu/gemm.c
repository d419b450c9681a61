/* gemm.c -- f32 GEMM for prefill (see gemm.h): scalar reference + 4x4 micro-kernels, AVX2+FMA
 * (x86-64, picked at run time) and AdvSIMD (aarch64, baseline).  In the SIMD kernels every
 * output is summed in vector lanes over n rounded down to the vector width, reduced, then the
 * tail added in order; edge rows/tokens use dot1() with that same order, so a result does not
 * depend on where in the tile it falls. */
#include "../gemm.h"

#include <math.h>
#include <string.h>

#include "../common.h"
#include "quant_cpu.h"

void g4_gemm_f32_ref(const float *W, int nr, const float *X, int nt, int64_t n, float *Y, int64_t ldy) {
    for (int r = 0; r < nr; r++)
        for (int t = 0; t < nt; t++) {
            float s = 0;
            for (int64_t k = 0; k < n; k++) s += W[(int64_t)r * n + k] * X[(int64_t)t * n + k];
            Y[(int64_t)t * ldy + r] = s;
        }
}

#ifdef G4_HAVE_AVX2_KERNELS
#include <immintrin.h>

__attribute__((target("avx2,fma"))) static inline float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* One output: the same 8-lane order the tile uses, so edges match the interior exactly. */
__attribute__((target("avx2,fma"))) static float dot1(const float *w, const float *x, int64_t n) {
    __m256 acc = _mm256_setzero_ps();
    int64_t k = 0;
    for (; k + 8 <= n; k += 8) acc = _mm256_fmadd_ps(_mm256_loadu_ps(w + k), _mm256_loadu_ps(x + k), acc);
    float s = hsum(acc);
    for (; k < n; k++) s += w[k] * x[k];
    return s;
}

__attribute__((target("avx2,fma"))) static void gemm_avx2(const float *W, int nr, const float *X, int nt, int64_t n,
                                                           float *Y, int64_t ldy) {
    const int64_t n8 = n & ~(int64_t)7;
    int r = 0;
    for (; r + 4 <= nr; r += 4) {
        const float *w0 = W + (int64_t)r * n, *w1 = w0 + n, *w2 = w1 + n, *w3 = w2 + n;
        int t = 0;
        for (; t + 4 <= nt; t += 4) {
            const float *x0 = X + (int64_t)t * n, *x1 = x0 + n, *x2 = x1 + n, *x3 = x2 + n;
            __m256 a[4][4];
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 4; j++) a[i][j] = _mm256_setzero_ps();
            for (int64_t k = 0; k < n8; k += 8) {
                const __m256 wv[4] = {_mm256_loadu_ps(w0 + k), _mm256_loadu_ps(w1 + k), _mm256_loadu_ps(w2 + k),
                                      _mm256_loadu_ps(w3 + k)};
                const __m256 xv[4] = {_mm256_loadu_ps(x0 + k), _mm256_loadu_ps(x1 + k), _mm256_loadu_ps(x2 + k),
                                      _mm256_loadu_ps(x3 + k)};
                for (int i = 0; i < 4; i++)
                    for (int j = 0; j < 4; j++) a[i][j] = _mm256_fmadd_ps(wv[i], xv[j], a[i][j]);
            }
            const float *wr[4] = {w0, w1, w2, w3}, *xr[4] = {x0, x1, x2, x3};
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 4; j++) {
                    float s = hsum(a[i][j]);
                    for (int64_t k = n8; k < n; k++) s += wr[i][k] * xr[j][k];
                    Y[(int64_t)(t + j) * ldy + r + i] = s;
                }
        }
        for (; t < nt; t++)
            for (int i = 0; i < 4; i++) Y[(int64_t)t * ldy + r + i] = dot1(W + (int64_t)(r + i) * n, X + (int64_t)t * n, n);
    }
    for (; r < nr; r++)
        for (int t = 0; t < nt; t++) Y[(int64_t)t * ldy + r] = dot1(W + (int64_t)r * n, X + (int64_t)t * n, n);
}

/* 16 packed rows x TB tokens over k in [k0, k1): acc rows are tokens, two vectors of 8 rows each. */
__attribute__((target("avx2,fma"), always_inline)) static inline void packed_tile(const float *Wp, const float *X,
                                                                                  int64_t n, int64_t k0, int64_t k1,
                                                                                  float *out, const int TB, int add) {
    __m256 a0[6], a1[6];
    for (int t = 0; t < TB; t++) a0[t] = a1[t] = _mm256_setzero_ps();
    for (int64_t k = k0; k < k1; k++) {
        const __m256 w0 = _mm256_loadu_ps(Wp + k * 16), w1 = _mm256_loadu_ps(Wp + k * 16 + 8);
        for (int t = 0; t < TB; t++) {
            const __m256 x = _mm256_broadcast_ss(X + (int64_t)t * n + k);
            a0[t] = _mm256_fmadd_ps(w0, x, a0[t]);
            a1[t] = _mm256_fmadd_ps(w1, x, a1[t]);
        }
    }
    for (int t = 0; t < TB; t++) {
        if (add) {
            a0[t] = _mm256_add_ps(_mm256_loadu_ps(out + t * 16), a0[t]);
            a1[t] = _mm256_add_ps(_mm256_loadu_ps(out + t * 16 + 8), a1[t]);
        }
        _mm256_storeu_ps(out + t * 16, a0[t]);
        _mm256_storeu_ps(out + t * 16 + 8, a1[t]);
    }
}

__attribute__((target("avx2,fma"))) static void kblock_avx2(const float *Wp, int nr, const float *X, int nt,
                                                             int64_t ldx, int64_t len, float *Y, int64_t ldy, int add) {
    float acc[6 * 16];
    for (int t = 0; t < nt; t += 6) {
        const int tb = nt - t < 6 ? nt - t : 6;
        const float *xt = X + (int64_t)t * ldx;
        switch (tb) { /* constant TB: the accumulators stay in registers */
        case 6: packed_tile(Wp, xt, ldx, 0, len, acc, 6, 0); break;
        case 5: packed_tile(Wp, xt, ldx, 0, len, acc, 5, 0); break;
        case 4: packed_tile(Wp, xt, ldx, 0, len, acc, 4, 0); break;
        case 3: packed_tile(Wp, xt, ldx, 0, len, acc, 3, 0); break;
        case 2: packed_tile(Wp, xt, ldx, 0, len, acc, 2, 0); break;
        default: packed_tile(Wp, xt, ldx, 0, len, acc, 1, 0); break;
        }
        for (int j = 0; j < tb; j++) {
            float *y = Y + (int64_t)(t + j) * ldy;
            if (add) for (int i = 0; i < nr; i++) y[i] += acc[j * 16 + i];
            else memcpy(y, acc + j * 16, sizeof(float) * (size_t)nr);
        }
    }
}
#endif

#ifdef G4_HAVE_AVX2_KERNELS
__attribute__((target("avx2,fma"), always_inline)) static inline void multi_tile(const float *W, const float *X, int64_t ldx,
                                                                                 int64_t n, float *y, int64_t ldy,
                                                                                 const int NR, const int NT) {
    __m256 a[2][G4_MULTI_MAX];
    for (int r = 0; r < NR; r++)
        for (int t = 0; t < NT; t++) a[r][t] = _mm256_setzero_ps();
    const int64_t n8 = n & ~(int64_t)7;
    for (int64_t k = 0; k < n8; k += 8) {
        __m256 wv[2];
        for (int r = 0; r < NR; r++) wv[r] = _mm256_loadu_ps(W + r * n + k);
        for (int t = 0; t < NT; t++) {
            const __m256 xv = _mm256_loadu_ps(X + t * ldx + k);
            for (int r = 0; r < NR; r++) a[r][t] = _mm256_fmadd_ps(wv[r], xv, a[r][t]);
        }
    }
    for (int r = 0; r < NR; r++)
        for (int t = 0; t < NT; t++) {
            float s = hsum(a[r][t]);
            for (int64_t k = n8; k < n; k++) s += W[r * n + k] * X[t * ldx + k];
            y[t * ldy + r] = s;
        }
}

#define MULTI_CASES(NR)                                                          \
    switch (nt) {                                                                \
    case 8: multi_tile(W, X, ldx, n, y, ldy, NR, 8); break;                      \
    case 7: multi_tile(W, X, ldx, n, y, ldy, NR, 7); break;                      \
    case 6: multi_tile(W, X, ldx, n, y, ldy, NR, 6); break;                      \
    case 5: multi_tile(W, X, ldx, n, y, ldy, NR, 5); break;                      \
    case 4: multi_tile(W, X, ldx, n, y, ldy, NR, 4); break;                      \
    case 3: multi_tile(W, X, ldx, n, y, ldy, NR, 3); break;                      \
    case 2: multi_tile(W, X, ldx, n, y, ldy, NR, 2); break;                      \
    default: multi_tile(W, X, ldx, n, y, ldy, NR, 1); break;                     \
    }

__attribute__((target("avx2,fma"))) static void multi_avx2(const float *W, int nr, const float *X, int nt, int64_t ldx,
                                                            int64_t n, float *y, int64_t ldy) {
    if (nr == 2 && nt <= 6) { MULTI_CASES(2) } /* 2 x 6 accumulators + 2 weights + 1 activation */
    else
        for (int r = 0; r < nr; r++, W += n, y++) { MULTI_CASES(1) }
}
#endif

void g4_dot_f32_multi(const float *W, int nr, const float *X, int nt, int64_t ldx, int64_t n, float *y, int64_t ldy) {
#ifdef G4_HAVE_AVX2_KERNELS
    if (g4_cpu_has_avx2() && nt <= G4_MULTI_MAX && nr <= 2) { multi_avx2(W, nr, X, nt, ldx, n, y, ldy); return; }
#endif
    for (int r = 0; r < nr; r++)
        for (int t = 0; t < nt; t++) { /* 8 lanes, then the tail: the AVX2 order */
            const float *w = W + r * n;
            float lane[8] = {0};
            const int64_t n8 = n & ~(int64_t)7;
            for (int64_t k = 0; k < n8; k += 8)
                for (int l = 0; l < 8; l++) lane[l] = fmaf(w[k + l], X[t * ldx + k + l], lane[l]);
            float s = ((lane[0] + lane[4]) + (lane[2] + lane[6])) + ((lane[1] + lane[5]) + (lane[3] + lane[7]));
            for (int64_t k = n8; k < n; k++) s += w[k] * X[t * ldx + k];
            y[t * ldy + r] = s;
        }
}

/* Portable k block with the same summation order. */
static void kblock_ref(const float *Wp, int nr, const float *X, int nt, int64_t ldx, int64_t len, float *Y,
                       int64_t ldy, int add) {
    for (int t = 0; t < nt; t++)
        for (int i = 0; i < nr; i++) {
            float s = 0;
            for (int64_t k = 0; k < len; k++) s = fmaf(Wp[k * 16 + i], X[(int64_t)t * ldx + k], s);
            Y[(int64_t)t * ldy + i] = add ? Y[(int64_t)t * ldy + i] + s : s;
        }
}

void g4_gemm_f32_packed_kblock(const float *Wp, int nr, const float *X, int nt, int64_t ldx, int64_t len, float *Y,
                               int64_t ldy, int add) {
#ifdef G4_HAVE_AVX2_KERNELS
    if (g4_cpu_has_avx2()) { kblock_avx2(Wp, nr, X, nt, ldx, len, Y, ldy, add); return; }
#endif
    kblock_ref(Wp, nr, X, nt, ldx, len, Y, ldy, add);
}

int g4_gemm_packed_ok(void) {
#ifdef G4_HAVE_AVX2_KERNELS
    return g4_cpu_has_avx2();
#else
    return 0;
#endif
}

void g4_gemm_pack16(const float *const rows[], int nr, int64_t len, float *Wp) {
    for (int64_t k = 0; k < len; k++)
        for (int i = 0; i < 16; i++) Wp[k * 16 + i] = i < nr ? rows[i][k] : 0.0f;
}

void g4_gemm_f32_packed(const float *Wp, int nr, const float *X, int nt, int64_t n, float *Y, int64_t ldy) {
    for (int64_t k0 = 0; k0 < n; k0 += G4_GEMM_KC)
        g4_gemm_f32_packed_kblock(Wp + k0 * 16, nr, X + k0, nt, n, G4_MIN((int64_t)G4_GEMM_KC, n - k0), Y, ldy, k0 > 0);
}

#ifdef G4_HAVE_NEON_KERNELS
#include <arm_neon.h>

/* One output: the same 4-lane order the tile uses, so edges match the interior exactly. */
static float dot1_neon(const float *w, const float *x, int64_t n) {
    float32x4_t acc = vdupq_n_f32(0.0f);
    int64_t k = 0;
    for (; k + 4 <= n; k += 4) acc = vfmaq_f32(acc, vld1q_f32(w + k), vld1q_f32(x + k));
    float s = vaddvq_f32(acc);
    for (; k < n; k++) s += w[k] * x[k];
    return s;
}

/* 4 weight rows x 4 tokens: 16 accumulators + 8 loads per step fit the 32 vector registers. */
static void gemm_neon(const float *W, int nr, const float *X, int nt, int64_t n, float *Y, int64_t ldy) {
    const int64_t n4 = n & ~(int64_t)3;
    int r = 0;
    for (; r + 4 <= nr; r += 4) {
        const float *w0 = W + (int64_t)r * n, *w1 = w0 + n, *w2 = w1 + n, *w3 = w2 + n;
        int t = 0;
        for (; t + 4 <= nt; t += 4) {
            const float *x0 = X + (int64_t)t * n, *x1 = x0 + n, *x2 = x1 + n, *x3 = x2 + n;
            float32x4_t a[4][4];
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 4; j++) a[i][j] = vdupq_n_f32(0.0f);
            for (int64_t k = 0; k < n4; k += 4) {
                const float32x4_t wv[4] = {vld1q_f32(w0 + k), vld1q_f32(w1 + k), vld1q_f32(w2 + k),
                                           vld1q_f32(w3 + k)};
                const float32x4_t xv[4] = {vld1q_f32(x0 + k), vld1q_f32(x1 + k), vld1q_f32(x2 + k),
                                           vld1q_f32(x3 + k)};
                for (int i = 0; i < 4; i++)
                    for (int j = 0; j < 4; j++) a[i][j] = vfmaq_f32(a[i][j], wv[i], xv[j]);
            }
            const float *wr[4] = {w0, w1, w2, w3}, *xr[4] = {x0, x1, x2, x3};
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 4; j++) {
                    float s = vaddvq_f32(a[i][j]);
                    for (int64_t k = n4; k < n; k++) s += wr[i][k] * xr[j][k];
                    Y[(int64_t)(t + j) * ldy + r + i] = s;
                }
        }
        for (; t < nt; t++)
            for (int i = 0; i < 4; i++)
                Y[(int64_t)t * ldy + r + i] = dot1_neon(W + (int64_t)(r + i) * n, X + (int64_t)t * n, n);
    }
    for (; r < nr; r++)
        for (int t = 0; t < nt; t++) Y[(int64_t)t * ldy + r] = dot1_neon(W + (int64_t)r * n, X + (int64_t)t * n, n);
}
#endif

void g4_gemm_f32(const float *W, int nr, const float *X, int nt, int64_t n, float *Y, int64_t ldy) {
#ifdef G4_HAVE_AVX2_KERNELS
    if (g4_cpu_has_avx2()) { gemm_avx2(W, nr, X, nt, n, Y, ldy); return; }
#endif
#ifdef G4_HAVE_NEON_KERNELS
    gemm_neon(W, nr, X, nt, n, Y, ldy); /* AdvSIMD is baseline on aarch64 */
#else
    g4_gemm_f32_ref(W, nr, X, nt, n, Y, ldy);
#endif
}
