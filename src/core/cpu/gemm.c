/* gemm.c -- f32 GEMM for prefill (see gemm.h): scalar reference + AVX2 4x4 micro-kernel. */
#include "../gemm.h"

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
#endif

void g4_gemm_f32(const float *W, int nr, const float *X, int nt, int64_t n, float *Y, int64_t ldy) {
#ifdef G4_HAVE_AVX2_KERNELS
    if (g4_cpu_has_avx2()) { gemm_avx2(W, nr, X, nt, n, Y, ldy); return; }
#endif
    g4_gemm_f32_ref(W, nr, X, nt, n, Y, ldy);
}
