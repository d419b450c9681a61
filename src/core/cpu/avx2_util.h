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

#endif
