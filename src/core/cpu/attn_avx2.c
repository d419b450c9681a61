/* attn_avx2.c -- the two inner loops of attention (backend_cpu.c) for the query heads that share one KV head:
 * scores of one key row against G query rows, and the probability-weighted sum of a tile of value rows into G
 * accumulators.  Register-blocked: a key chunk is loaded once for up to 8 heads' FMAs, and value chunks once
 * for 4 heads x 2 chunks of accumulators held in registers across the whole tile, instead of a load-load-store
 * per FMA in a plain axpy.  (A decode step at 32K context spends most of its attention time here.)
 */
#include "core/cpu/quant_cpu.h"

#ifdef G4_HAVE_AVX2_KERNELS

#include <immintrin.h>

#include "core/cpu/avx2_util.h"

/* s[g * ss] = scale * (k . q_g) for NB heads starting at q (row stride hd) */
G4_AVX2_INLINE void scores_nb(const float *k, const float *q, int hd, float scale, float *s, int ss, const int NB) {
    __m256 acc[8];
#pragma GCC unroll 8
    for (int j = 0; j < NB; j++) acc[j] = _mm256_setzero_ps();
    for (int c = 0; c < hd; c += 8) {
        const __m256 kv = _mm256_loadu_ps(k + c);
#pragma GCC unroll 8
        for (int j = 0; j < NB; j++) acc[j] = _mm256_fmadd_ps(kv, _mm256_loadu_ps(q + (int64_t)j * hd + c), acc[j]);
    }
#pragma GCC unroll 8
    for (int j = 0; j < NB; j++) s[j * ss] = hsum(acc[j]) * scale;
}

G4_AVX2 void g4_attn_scores_avx2(const float *k, const float *q, int G, int hd, float scale, float *s, int ss) {
    int g = 0;
    for (; g + 8 <= G; g += 8) scores_nb(k, q + (int64_t)g * hd, hd, scale, s + g * ss, ss, 8);
    for (; g + 4 <= G; g += 4) scores_nb(k, q + (int64_t)g * hd, hd, scale, s + g * ss, ss, 4);
    for (; g + 2 <= G; g += 2) scores_nb(k, q + (int64_t)g * hd, hd, scale, s + g * ss, ss, 2);
    for (; g < G; g++) scores_nb(k, q + (int64_t)g * hd, hd, scale, s + g * ss, ss, 1);
}

/* o_{g0+j}[c .. c + 8*CH) += sum_i p[(g0+j) * ps + i] * v_i[...] for j < NB, NB * CH = 8 accumulators */
G4_AVX2_INLINE void pv_block(float *o, const float *p, int ps, const float *const *v, int n, int hd, int c,
                             const int NB, const int CH) {
    __m256 acc[4][8];
#pragma GCC unroll 4
    for (int j = 0; j < NB; j++)
#pragma GCC unroll 8
        for (int u = 0; u < CH; u++) acc[j][u] = _mm256_loadu_ps(o + (int64_t)j * hd + c + 8 * u);
    for (int i = 0; i < n; i++) {
        __m256 vv[8];
#pragma GCC unroll 8
        for (int u = 0; u < CH; u++) vv[u] = _mm256_loadu_ps(v[i] + c + 8 * u);
#pragma GCC unroll 4
        for (int j = 0; j < NB; j++) {
            const __m256 pb = _mm256_broadcast_ss(p + (int64_t)j * ps + i);
#pragma GCC unroll 8
            for (int u = 0; u < CH; u++) acc[j][u] = _mm256_fmadd_ps(pb, vv[u], acc[j][u]);
        }
    }
#pragma GCC unroll 4
    for (int j = 0; j < NB; j++)
#pragma GCC unroll 8
        for (int u = 0; u < CH; u++) _mm256_storeu_ps(o + (int64_t)j * hd + c + 8 * u, acc[j][u]);
}

/* hd % 64 == 0 (the caller checks) */
G4_AVX2 void g4_attn_pv_avx2(float *o, const float *p, int ps, const float *const *v, int n, int G, int hd) {
    int g = 0;
    for (; g + 4 <= G; g += 4)
        for (int c = 0; c < hd; c += 16) pv_block(o + (int64_t)g * hd, p + (int64_t)g * ps, ps, v, n, hd, c, 4, 2);
    for (; g + 2 <= G; g += 2)
        for (int c = 0; c < hd; c += 32) pv_block(o + (int64_t)g * hd, p + (int64_t)g * ps, ps, v, n, hd, c, 2, 4);
    for (; g < G; g++)
        for (int c = 0; c < hd; c += 64) pv_block(o + (int64_t)g * hd, p + (int64_t)g * ps, ps, v, n, hd, c, 1, 8);
}

#endif
