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

/* The packed x8 kernels (qdot_x8_kernels.h) with vpdpbusd: products added to int32 sums directly. */
G4_VNNI_INLINE __m256i x8_dot_n(const __m256i *u, const __m256i *s, const int n) {
    __m256i sum = _mm256_setzero_si256();
#pragma GCC unroll 8
    for (int k = 0; k < n; k++) sum = _mm256_dpbusd_epi32(sum, u[k], s[k]);
    return sum;
}
#define X8_ATTR G4_VNNI
#define X8_INLINE G4_VNNI_INLINE
#define X8_NAME(base) g4_qdot_##base##_vnni
#include "core/cpu/qdot_x8_kernels.h"

#endif
