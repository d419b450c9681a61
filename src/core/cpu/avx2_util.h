/* avx2_util.h -- private: the helpers both AVX2 kernel files use (quant_avx2.c, qdot_avx2.c).
 * Include only inside an `#ifdef G4_HAVE_AVX2_KERNELS` block: every function is compiled for AVX2 +
 * FMA + F16C through its target attribute, so the rest of the build stays baseline x86-64. */
#ifndef G4_AVX2_UTIL_H
#define G4_AVX2_UTIL_H

#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#define G4_AVX2 __attribute__((target("avx2,fma,f16c")))
#define G4_AVX2_INLINE __attribute__((target("avx2,fma,f16c"), always_inline)) static inline

/* the 8 lanes summed: pairs of halves, then pairs, then the last two */
G4_AVX2_INLINE float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* an f16 at any byte address */
G4_AVX2_INLINE float ld_f16(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return _cvtsh_ss(h);
}

/* A packed q6_K group (qdot.c), chunk c of half h: sg[u] = the 6-bit weights 4u..4u+3 of the 8 rows minus 32
 * (from the ql nibbles and the qh bit pairs), a[u] = |sg[u]| */
G4_AVX2_INLINE void q6_chunk_x8(const uint8_t *p, int h, int c, __m256i sg[8], __m256i a[8]) {
    const __m256i m4 = _mm256_set1_epi8(15), m3 = _mm256_set1_epi8(3), o32 = _mm256_set1_epi8(32);
#pragma GCC unroll 8
    for (int u = 0; u < 8; u++) {
        const __m256i l = _mm256_loadu_si256((const __m256i *)(const void *)(p + 144 + 32 * (16 * h + (c & 1) * 8 + u)));
        const __m256i hb = _mm256_loadu_si256((const __m256i *)(const void *)(p + 144 + 1024 + 32 * (8 * h + u)));
        const __m256i lo = c < 2 ? _mm256_and_si256(l, m4) : _mm256_and_si256(_mm256_srli_epi16(l, 4), m4);
        const __m256i hi2 = _mm256_and_si256(_mm256_srli_epi16(hb, 2 * c), m3);
        sg[u] = _mm256_sub_epi8(_mm256_or_si256(lo, _mm256_slli_epi16(hi2, 4)), o32);
        a[u] = _mm256_abs_epi8(sg[u]);
    }
}

/* r[i][j] <- r[j][i] for an 8x8 block of floats */
G4_AVX2_INLINE void transpose8(__m256 r[8]) {
    __m256 t[8], u[8];
    for (int i = 0; i < 8; i += 2) t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]), t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    for (int i = 0; i < 8; i += 4) {
        u[i] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
        u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
        u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
        u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    for (int i = 0; i < 4; i++) {
        r[i] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x20);
        r[i + 4] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x31);
    }
}

/* A packed q4_K group's 8 row headers (qdot.c) -> dsc[s][r] = d_r * sc_r[s] and dmn[s][r] = dmin_r * m_r[s],
 * the same products the scalar kernel forms (the 12 scale bytes as words A, B, C: sc[0..3] = A & 63,
 * sc[4..7] = C low nibbles | A's top 2 bits << 4; mins likewise from B and C's high nibbles). */
G4_AVX2_INLINE void k4_scales_x8(const uint8_t *p, __m256 dsc[8], __m256 dmn[8]) {
    for (int r = 0; r < 8; r++) {
        const uint8_t *b = p + 16 * r;
        uint32_t A, B, C;
        memcpy(&A, b + 4, 4);
        memcpy(&B, b + 8, 4);
        memcpy(&C, b + 12, 4);
        const uint64_t sc = (uint64_t)(A & 0x3f3f3f3fu) | (uint64_t)((C & 0x0f0f0f0fu) | ((A >> 2) & 0x30303030u)) << 32;
        const uint64_t mn = (uint64_t)(B & 0x3f3f3f3fu) | (uint64_t)(((C >> 4) & 0x0f0f0f0fu) | ((B >> 2) & 0x30303030u)) << 32;
        dsc[r] = _mm256_mul_ps(_mm256_set1_ps(ld_f16(b)), _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_cvtsi64_si128((long long)sc))));
        dmn[r] = _mm256_mul_ps(_mm256_set1_ps(ld_f16(b + 2)), _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_cvtsi64_si128((long long)mn))));
    }
    transpose8(dsc);
    transpose8(dmn);
}

#endif
