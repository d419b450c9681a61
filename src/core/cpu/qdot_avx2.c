/* qdot_avx2.c -- AVX2 integer dots (qdot.h): the activation quantizer, and q8_0/q4_0/q4_K/q6_K weight rows against
 * 1-4 quantized activation rows at once.
 *
 * Per 32-weight block: the weights become 32 signed bytes in one register (q4_0: the 16 packed bytes and
 * the same shifted right by 4, masked to nibbles, minus 8), vpmaddubsw multiplies their absolute values
 * by the activation bytes carrying the weights' signs and adds pairs (no overflow: 128*127*2 fits int16),
 * vpmaddwd by ones widens to 8 int32 sums, one convert and one FMA with dw * d add the block to the
 * token's accumulator.  The weight block is unpacked once for all tokens of the call.  Blocks alternate
 * between two accumulators per token (latency), in the same order for every nt, so each token's result
 * does not depend on how many tokens share the call.
 *
 * Measured on the 2-core EPYC (L2-resident 3840-wide rows, one thread): q4_0 ~7.4 GB/s of weights for one
 * token, about what the f32 kernel reaches, 1.26x the f32 path for 4 tokens; per-token work (sign,
 * multiply-add, widen, convert, scale) dominates.  Hence the packed rows: the x8 kernels at the end of this
 * file come from qdot_x8_kernels.h, shared with the VNNI versions (qdot_vnni.c).
 */
#include "core/cpu/quant_cpu.h"

#ifdef G4_HAVE_AVX2_KERNELS

#include <immintrin.h>
#include <string.h>

#include "core/cpu/avx2_util.h"
#include "core/quant.h"

G4_AVX2_INLINE float hmax8(__m256 v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
}

G4_AVX2 void g4_quantize_q8x_avx2(const float *x, g4_block_q8x *out, int64_t n) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    const __m256i lim = _mm256_set1_epi8(-127);
    const __m256i perm = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    for (int64_t b = 0; b < n / G4_QK8X; b++, x += G4_QK8X) {
        __m256 v[4], m = _mm256_setzero_ps();
        for (int k = 0; k < 4; k++) {
            v[k] = _mm256_loadu_ps(x + 8 * k);
            __m256 a = _mm256_andnot_ps(sign, v[k]);
            a = _mm256_and_ps(a, _mm256_cmp_ps(a, a, _CMP_ORD_Q)); /* NaN counts as 0, like fmaxf */
            m = _mm256_max_ps(m, a);
        }
        const float amax = hmax8(m);
        const float d = amax >= G4_Q8X_TINY ? amax / 127.0f : 0.0f, id = d != 0.0f ? 127.0f / amax : 0.0f;
        const __m256 vid = _mm256_set1_ps(id);
        __m256i i[4];
        for (int k = 0; k < 4; k++) i[k] = _mm256_cvtps_epi32(_mm256_mul_ps(v[k], vid)); /* NaN: INT_MIN */
        __m256i q = _mm256_packs_epi16(_mm256_packs_epi32(i[0], i[1]), _mm256_packs_epi32(i[2], i[3]));
        q = _mm256_max_epi8(_mm256_permutevar8x32_epi32(q, perm), lim);
        _mm256_storeu_si256((__m256i *)(void *)out[b].q, q);
        const __m256i s = _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_set1_epi8(1), q), _mm256_set1_epi16(1));
        __m128i h = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
        h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0x4e));
        h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0xb1));
        out[b].d = d;
        out[b].sum = _mm_cvtsi128_si32(h);
    }
}

/* 8 int32 sums of 4 byte products each: unsigned u times signed s */
G4_AVX2_INLINE __m256 dot_us(__m256i u, __m256i s) {
    return _mm256_cvtepi32_ps(_mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1)));
}

/* One row (q8_0 when q4 == 0, q4_0 when 1) against NT activation rows; NT is a constant after inlining. */
G4_AVX2_INLINE void qdot_rows(const uint8_t *w, const g4_block_q8x *x, int64_t ldx, int64_t nb, float *y,
                              int64_t ldy, const int NT, const int q4) {
    const size_t bs = q4 ? sizeof(g4_block_q4_0) : sizeof(g4_block_q8_0);
    const __m256i m4 = _mm256_set1_epi8(15), e8 = _mm256_set1_epi8(8);
    __m256 acc[2][G4_QDOT_MAX_NT];
#pragma GCC unroll 4
    for (int t = 0; t < NT; t++) acc[0][t] = acc[1][t] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++, w += bs) {
        const int a = (int)(b & 1);
        const float dw = ld_f16(w);
        __m256i sgn;
        if (q4) {
            const __m128i p = _mm_loadu_si128((const __m128i *)(const void *)(w + 2));
            sgn = _mm256_sub_epi8(_mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(p, 4), p), m4), e8);
        } else {
            sgn = _mm256_loadu_si256((const __m256i *)(const void *)(w + 2));
        }
        const __m256i u = _mm256_abs_epi8(sgn);
#pragma GCC unroll 4
        for (int t = 0; t < NT; t++) {
            const g4_block_q8x *xb = x + t * ldx + b;
            const __m256i s = _mm256_sign_epi8(_mm256_loadu_si256((const __m256i *)(const void *)xb->q), sgn);
            acc[a][t] = _mm256_fmadd_ps(dot_us(u, s), _mm256_set1_ps(dw * xb->d), acc[a][t]);
        }
    }
#pragma GCC unroll 4
    for (int t = 0; t < NT; t++) y[t * ldy] = hsum(_mm256_add_ps(acc[0][t], acc[1][t]));
}

G4_AVX2_INLINE void qdot_rows_q8_0(const uint8_t *w, const g4_block_q8x *x, int64_t ldx, int64_t nb, float *y,
                                    int64_t ldy, const int NT) {
    qdot_rows(w, x, ldx, nb, y, ldy, NT, 0);
}
G4_AVX2_INLINE void qdot_rows_q4_0(const uint8_t *w, const g4_block_q8x *x, int64_t ldx, int64_t nb, float *y,
                                    int64_t ldy, const int NT) {
    qdot_rows(w, x, ldx, nb, y, ldy, NT, 1);
}

/* A g4_qdot_fn / g4_qdot_x8_fn from a kernel whose token count NT must be a constant. */
#define G4_QDOT_NT(name, kernel)                                                                           \
    G4_AVX2 void name(const void *w, const g4_block_q8x *x, int64_t ldx, int nt, int64_t n, float *y,      \
                      int64_t ldy) {                                                                       \
        const int64_t nb = n / G4_QK8X;                                                                    \
        switch (nt) {                                                                                      \
        case 1: kernel(w, x, ldx, nb, y, ldy, 1); break;                                                  \
        case 2: kernel(w, x, ldx, nb, y, ldy, 2); break;                                                  \
        case 3: kernel(w, x, ldx, nb, y, ldy, 3); break;                                                  \
        default: kernel(w, x, ldx, nb, y, ldy, 4); break;                                                 \
        }                                                                                                  \
    }
G4_QDOT_NT(g4_qdot_q8_0_avx2, qdot_rows_q8_0)
G4_QDOT_NT(g4_qdot_q4_0_avx2, qdot_rows_q4_0)

/* q4_K (qdot.c's reference has the arithmetic): the nibbles are unsigned, so vpmaddubsw takes them as they
 * are against the activation bytes; the dmin*m*sum(xq) terms go to a scalar accumulator per token. */
G4_AVX2_INLINE void qdot_rows_q4_K(const uint8_t *w, const g4_block_q8x *x, int64_t ldx, int64_t nb, float *y,
                                    int64_t ldy, const int NT) {
    const __m256i m4 = _mm256_set1_epi8(15), ones = _mm256_set1_epi16(1);
    __m256 acc[G4_QDOT_MAX_NT];
    float accm[G4_QDOT_MAX_NT];
#pragma GCC unroll 4
    for (int t = 0; t < NT; t++) acc[t] = _mm256_setzero_ps(), accm[t] = 0.0f;
    for (int64_t i = 0; i < nb / 8; i++, w += sizeof(g4_block_q4_K)) {
        const float d = ld_f16(w), dmin = ld_f16(w + 2);
        uint8_t sc[8], mn[8];
        g4_kscales(w + 4, sc, mn);
#pragma GCC unroll 4
        for (int j = 0; j < 4; j++) {
            const __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(w + 16 + 32 * j));
            const __m256i lo = _mm256_and_si256(v, m4), hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
            const float d0 = d * (float)sc[2 * j], d1 = d * (float)sc[2 * j + 1];
#pragma GCC unroll 4
            for (int t = 0; t < NT; t++) {
                const g4_block_q8x *x0 = x + t * ldx + 8 * i + 2 * j, *x1 = x0 + 1;
                const __m256i p0 = _mm256_madd_epi16(
                    _mm256_maddubs_epi16(lo, _mm256_loadu_si256((const __m256i *)(const void *)x0->q)), ones);
                const __m256i p1 = _mm256_madd_epi16(
                    _mm256_maddubs_epi16(hi, _mm256_loadu_si256((const __m256i *)(const void *)x1->q)), ones);
                acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p0), _mm256_set1_ps(d0 * x0->d), acc[t]);
                acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p1), _mm256_set1_ps(d1 * x1->d), acc[t]);
                accm[t] += dmin * ((float)mn[2 * j] * x0->d * (float)x0->sum + (float)mn[2 * j + 1] * x1->d * (float)x1->sum);
            }
        }
    }
#pragma GCC unroll 4
    for (int t = 0; t < NT; t++) y[t * ldy] = hsum(acc[t]) - accm[t];
}

/* q6_K: per half, the four 32-element chunks are assembled from ql (nibbles) and qh (2-bit pairs) in
 * registers, minus 32; |q| against the activation bytes carrying q's sign, and vpmaddwd with the two int8
 * scales of the chunk (low 16 elements: low 128-bit lane) applies them while widening to int32. */
G4_AVX2_INLINE void qdot_rows_q6_K(const uint8_t *w, const g4_block_q8x *x, int64_t ldx, int64_t nb, float *y,
                                    int64_t ldy, const int NT) {
    const __m256i m4 = _mm256_set1_epi8(15), m2 = _mm256_set1_epi8(3), o32 = _mm256_set1_epi8(32);
    __m256 acc[G4_QDOT_MAX_NT];
#pragma GCC unroll 4
    for (int t = 0; t < NT; t++) acc[t] = _mm256_setzero_ps();
    for (int64_t i = 0; i < nb / 8; i++, w += sizeof(g4_block_q6_K)) {
        const int8_t *sc = (const int8_t *)(w + 192);
        const float d = ld_f16(w + 208);
        for (int h = 0; h < 2; h++) {
            const __m256i l0 = _mm256_loadu_si256((const __m256i *)(const void *)(w + 64 * h));
            const __m256i l1 = _mm256_loadu_si256((const __m256i *)(const void *)(w + 64 * h + 32));
            const __m256i qh = _mm256_loadu_si256((const __m256i *)(const void *)(w + 128 + 32 * h));
            __m256i q[4];
            q[0] = _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_slli_epi16(_mm256_and_si256(qh, m2), 4));
            q[1] = _mm256_or_si256(_mm256_and_si256(l1, m4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), m2), 4));
            q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4),
                                   _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), m2), 4));
            q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                                   _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), m2), 4));
#pragma GCC unroll 4
            for (int c = 0; c < 4; c++) {
                const __m256i sq = _mm256_sub_epi8(q[c], o32), a = _mm256_abs_epi8(sq);
                const __m256i scv = _mm256_set_m128i(_mm_set1_epi16(sc[8 * h + 2 * c + 1]), _mm_set1_epi16(sc[8 * h + 2 * c]));
#pragma GCC unroll 4
                for (int t = 0; t < NT; t++) {
                    const g4_block_q8x *xb = x + t * ldx + 8 * i + 4 * h + c;
                    const __m256i s = _mm256_sign_epi8(_mm256_loadu_si256((const __m256i *)(const void *)xb->q), sq);
                    const __m256i p = _mm256_madd_epi16(_mm256_maddubs_epi16(a, s), scv);
                    acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(d * xb->d), acc[t]);
                }
            }
        }
    }
#pragma GCC unroll 4
    for (int t = 0; t < NT; t++) y[t * ldy] = hsum(acc[t]);
}

G4_QDOT_NT(g4_qdot_q4_K_avx2, qdot_rows_q4_K)
G4_QDOT_NT(g4_qdot_q6_K_avx2, qdot_rows_q6_K)

/* The packed x8 kernels (qdot_x8_kernels.h) with vpmaddubsw: products summed in int16, widened once. */
G4_AVX2_INLINE __m256i x8_dot_n(const __m256i *u, const __m256i *s, const int n) {
    __m256i sum = _mm256_maddubs_epi16(u[0], s[0]);
#pragma GCC unroll 8
    for (int k = 1; k < n; k++) sum = _mm256_add_epi16(sum, _mm256_maddubs_epi16(u[k], s[k]));
    return _mm256_madd_epi16(sum, _mm256_set1_epi16(1));
}
#define X8_ATTR G4_AVX2
#define X8_INLINE G4_AVX2_INLINE
#define X8_NAME(base) g4_qdot_##base##_avx2
#include "core/cpu/qdot_x8_kernels.h"

#endif
