/* quant_avx2.c -- AVX2+FMA+F16C row dot products (x86-64), chosen at run time by quant.c.
 *
 * Only these functions are compiled for AVX2 (target attribute), so the library stays
 * baseline x86-64 and runs anywhere.  Strategy, same for every type: widen 8 weights at
 * a time to int32 lanes straight from memory (vpmovzx/sx), turn them into floats, FMA
 * against x.  Quantized blocks are summed in f32 first, then scaled once per (sub-)block:
 *   q8_0/q4_0:  acc += d * sum(q*x)
 *   q4_K/q5_K:  acc += d*sc * sum(q*x) - dmin*m * sum(x)      (per 32-element sub-block)
 *   q6_K:       acc += d*sc * sum(q*x)                         (per 16-element group)
 * q4_0/q4_K: a packed byte widened to an int32 lane gives both nibbles with one AND and
 * one shift, so one widening feeds 16 weights.  q5_K/q6_K: weights are first assembled
 * 32 at a time with byte-wide ops into a stack buffer, then widened from it (fewer ALU
 * ops than assembling them 8 at a time in int32 lanes).  Summation order is fixed (no
 * alignment peeling): the result depends only on the inputs.  Loads are unaligned, so
 * rows may sit at any address.
 */
#include "core/cpu/quant_cpu.h"

#ifdef G4_HAVE_AVX2_KERNELS

#include <cpuid.h>
#include <immintrin.h>
#include <string.h>

#include "core/cpu/avx2_util.h"
#include "core/quant.h"


static int detect_avx2(void) {
    unsigned a, b, c, d;
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) return 0;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    return (c & bit_F16C) != 0;
}

/* cpuid traps to the hypervisor in a VM (microseconds): ask once.  The cached answer is a fact about
 * the machine, the same for every caller, so a benign race at most asks twice. */
int g4_cpu_has_avx2(void) {
    static int known = -1;
    int v = __atomic_load_n(&known, __ATOMIC_RELAXED);
    if (v < 0) __atomic_store_n(&known, v = detect_avx2(), __ATOMIC_RELAXED);
    return v;
}


G4_AVX2 static inline __m256 ldx(const float *x) { return _mm256_loadu_ps(x); }

/* 8 bytes -> 8 int32 lanes, zero- or sign-extended. */
G4_AVX2 static inline __m256i zx8(const uint8_t *p) {
    return _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(const void *)p));
}
G4_AVX2 static inline __m256i sx8(const uint8_t *p) {
    return _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(const void *)p));
}
G4_AVX2 static inline __m256 cvt(__m256i v) { return _mm256_cvtepi32_ps(v); }

/* ---- plain float rows ---------------------------------------------------------------- */

G4_AVX2 static inline __m256 ld8_f32(const uint8_t *w) { return _mm256_loadu_ps((const float *)(const void *)w); }
G4_AVX2 static inline __m256 ld8_f16(const uint8_t *w) {
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)w));
}
G4_AVX2 static inline __m256 ld8_bf16(const uint8_t *w) {
    __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(const void *)w));
    return _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
}
G4_AVX2 static inline float ld1_f32(const uint8_t *w) {
    float f;
    memcpy(&f, w, 4);
    return f;
}
G4_AVX2 static inline float ld1_bf16(const uint8_t *w) {
    uint16_t h;
    memcpy(&h, w, 2);
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* 4 accumulators over 32 elements, then 8 at a time, then the scalar tail in order. */
#define G4_DOT_PLAIN_AVX2(name, esz, ld8, ld1)                                   \
    G4_AVX2 float name(const void *row, const float *x, int64_t n) {             \
        const uint8_t *w = row;                                                  \
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;              \
        int64_t i = 0;                                                           \
        for (; i + 32 <= n; i += 32) {                                           \
            a0 = _mm256_fmadd_ps(ld8(w + (esz) * i), ldx(x + i), a0);            \
            a1 = _mm256_fmadd_ps(ld8(w + (esz) * (i + 8)), ldx(x + i + 8), a1);  \
            a2 = _mm256_fmadd_ps(ld8(w + (esz) * (i + 16)), ldx(x + i + 16), a2); \
            a3 = _mm256_fmadd_ps(ld8(w + (esz) * (i + 24)), ldx(x + i + 24), a3); \
        }                                                                        \
        for (; i + 8 <= n; i += 8) a0 = _mm256_fmadd_ps(ld8(w + (esz) * i), ldx(x + i), a0); \
        float s = hsum(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3))); \
        for (; i < n; i++) s += ld1(w + (esz) * i) * x[i];                       \
        return s;                                                                \
    }

G4_DOT_PLAIN_AVX2(g4_dot_f32_avx2, 4, ld8_f32, ld1_f32)
G4_DOT_PLAIN_AVX2(g4_dot_f16_avx2, 2, ld8_f16, ld_f16)
G4_DOT_PLAIN_AVX2(g4_dot_bf16_avx2, 2, ld8_bf16, ld1_bf16)

/* ---- q8_0 / q4_0: sum(q*x) per 32-block, then one FMA with d ------------------------ */

G4_AVX2 static inline __m256 sum_q8_0(const uint8_t *q, const float *x) {
    __m256 s0 = _mm256_mul_ps(cvt(sx8(q)), ldx(x));
    __m256 s1 = _mm256_mul_ps(cvt(sx8(q + 8)), ldx(x + 8));
    s0 = _mm256_fmadd_ps(cvt(sx8(q + 16)), ldx(x + 16), s0);
    s1 = _mm256_fmadd_ps(cvt(sx8(q + 24)), ldx(x + 24), s1);
    return _mm256_add_ps(s0, s1);
}

G4_AVX2 static inline __m256 sum_q4_0(const uint8_t *q, const float *x) {
    const __m256i m4 = _mm256_set1_epi32(0x0f), e8 = _mm256_set1_epi32(8);
    __m256i b0 = zx8(q), b1 = zx8(q + 8); /* bytes 0-7 and 8-15 */
    __m256 s0 = _mm256_mul_ps(cvt(_mm256_sub_epi32(_mm256_and_si256(b0, m4), e8)), ldx(x));
    __m256 s1 = _mm256_mul_ps(cvt(_mm256_sub_epi32(_mm256_and_si256(b1, m4), e8)), ldx(x + 8));
    s0 = _mm256_fmadd_ps(cvt(_mm256_sub_epi32(_mm256_srli_epi32(b0, 4), e8)), ldx(x + 16), s0);
    s1 = _mm256_fmadd_ps(cvt(_mm256_sub_epi32(_mm256_srli_epi32(b1, 4), e8)), ldx(x + 24), s1);
    return _mm256_add_ps(s0, s1);
}

/* q5_0: p -> {u32 qh; qs[16]}; the 5th bit of element j is bit j of qh, shifted in 8 lanes at once. */
G4_AVX2 static inline __m256 sum_q5_0(const uint8_t *p, const float *x) {
    uint32_t qh;
    memcpy(&qh, p, 4);
    const uint8_t *q = p + 4;
    const __m256i m4 = _mm256_set1_epi32(0x0f), e16 = _mm256_set1_epi32(16), one = _mm256_set1_epi32(1);
    const __m256i sh = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), h = _mm256_set1_epi32((int)qh);
#define G4_Q5_HI(off) _mm256_slli_epi32(_mm256_and_si256(_mm256_srlv_epi32(h, _mm256_add_epi32(sh, _mm256_set1_epi32(off))), one), 4)
    __m256i b0 = zx8(q), b1 = zx8(q + 8);
    __m256i v0 = _mm256_sub_epi32(_mm256_or_si256(_mm256_and_si256(b0, m4), G4_Q5_HI(0)), e16);
    __m256i v1 = _mm256_sub_epi32(_mm256_or_si256(_mm256_and_si256(b1, m4), G4_Q5_HI(8)), e16);
    __m256i v2 = _mm256_sub_epi32(_mm256_or_si256(_mm256_srli_epi32(b0, 4), G4_Q5_HI(16)), e16);
    __m256i v3 = _mm256_sub_epi32(_mm256_or_si256(_mm256_srli_epi32(b1, 4), G4_Q5_HI(24)), e16);
#undef G4_Q5_HI
    __m256 s0 = _mm256_mul_ps(cvt(v0), ldx(x));
    __m256 s1 = _mm256_mul_ps(cvt(v1), ldx(x + 8));
    s0 = _mm256_fmadd_ps(cvt(v2), ldx(x + 16), s0);
    s1 = _mm256_fmadd_ps(cvt(v3), ldx(x + 24), s1);
    return _mm256_add_ps(s0, s1);
}

/* Two accumulators (even/odd blocks) to hide the FMA latency. */
#define G4_DOT_BLOCK32_AVX2(name, bsz, sum)                                      \
    G4_AVX2 float name(const void *row, const float *x, int64_t n) {             \
        const uint8_t *b = row;                                                  \
        __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0;                          \
        int64_t nb = n / 32, i = 0;                                              \
        for (; i + 2 <= nb; i += 2, b += 2 * (bsz), x += 64) {                   \
            acc0 = _mm256_fmadd_ps(_mm256_set1_ps(ld_f16(b)), sum(b + 2, x), acc0); \
            acc1 = _mm256_fmadd_ps(_mm256_set1_ps(ld_f16(b + (bsz))), sum(b + (bsz) + 2, x + 32), acc1); \
        }                                                                        \
        if (i < nb) acc0 = _mm256_fmadd_ps(_mm256_set1_ps(ld_f16(b)), sum(b + 2, x), acc0); \
        return hsum(_mm256_add_ps(acc0, acc1));                                  \
    }

G4_DOT_BLOCK32_AVX2(g4_dot_q8_0_avx2, 34, sum_q8_0)
G4_DOT_BLOCK32_AVX2(g4_dot_q4_0_avx2, 18, sum_q4_0)
G4_DOT_BLOCK32_AVX2(g4_dot_q5_0_avx2, 22, sum_q5_0)

/* ---- q4_K / q5_K -------------------------------------------------------------------- */

/* The super-block's eight d*sc and eight dmin*m, computed 8-wide into stack arrays (a
 * broadcast from memory is a plain load).  The 12 scale bytes as three words A, B, C:
 * sc[0..3] = A & 63, mn[0..3] = B & 63, sc[4..7] = C low nibbles | A top 2 bits << 4,
 * mn[4..7] = C high nibbles | B top 2 bits << 4 (per byte). */
G4_AVX2 static inline void kscales8(const uint8_t *b, float dsc[8], float dmn[8]) {
    uint32_t A, B, C;
    memcpy(&A, b + 4, 4);
    memcpy(&B, b + 8, 4);
    memcpy(&C, b + 12, 4);
    uint64_t sc = (uint64_t)(A & 0x3f3f3f3fu) |
                  (uint64_t)((C & 0x0f0f0f0fu) | ((A >> 2) & 0x30303030u)) << 32;
    uint64_t mn = (uint64_t)(B & 0x3f3f3f3fu) |
                  (uint64_t)(((C >> 4) & 0x0f0f0f0fu) | ((B >> 2) & 0x30303030u)) << 32;
    __m256 vs = cvt(_mm256_cvtepu8_epi32(_mm_cvtsi64_si128((long long)sc)));
    __m256 vm = cvt(_mm256_cvtepu8_epi32(_mm_cvtsi64_si128((long long)mn)));
    _mm256_storeu_ps(dsc, _mm256_mul_ps(_mm256_set1_ps(ld_f16(b)), vs));
    _mm256_storeu_ps(dmn, _mm256_mul_ps(_mm256_set1_ps(ld_f16(b + 2)), vm));
}

/* 256 weights, one byte each (0..31) in element order, sub-block s = q[32s..32s+31];
 * acc{q,m}{0,1} take even/odd sub-blocks: += d*sc * sum(q*x), += dmin*m * sum(x). */
G4_AVX2 static inline void ksuper(const uint8_t *q, const float *x, const float dsc[8], const float dmn[8],
                                  __m256 *aq0, __m256 *aq1, __m256 *am0, __m256 *am1) {
    for (int s = 0; s < 8; s += 2, q += 64, x += 64) {
        __m256 sl = _mm256_setzero_ps(), sh = sl, xl = sl, xh = sl;
        for (int k = 0; k < 32; k += 8) {
            __m256 x0 = ldx(x + k), x1 = ldx(x + 32 + k);
            sl = _mm256_fmadd_ps(cvt(zx8(q + k)), x0, sl);
            sh = _mm256_fmadd_ps(cvt(zx8(q + 32 + k)), x1, sh);
            xl = _mm256_add_ps(xl, x0);
            xh = _mm256_add_ps(xh, x1);
        }
        *aq0 = _mm256_fmadd_ps(_mm256_broadcast_ss(dsc + s), sl, *aq0);
        *aq1 = _mm256_fmadd_ps(_mm256_broadcast_ss(dsc + s + 1), sh, *aq1);
        *am0 = _mm256_fmadd_ps(_mm256_broadcast_ss(dmn + s), xl, *am0);
        *am1 = _mm256_fmadd_ps(_mm256_broadcast_ss(dmn + s + 1), xh, *am1);
    }
}

/* q4_K reads the packed nibbles directly: one byte widened to an int32 lane gives the
 * weight of sub-block 2j (AND 15) and of sub-block 2j+1 (shift right 4). */
G4_AVX2 float g4_dot_q4_K_avx2(const void *row, const float *x, int64_t n) {
    const uint8_t *b = row;
    const __m256i m4 = _mm256_set1_epi32(0x0f);
    float dsc[8], dmn[8];
    __m256 aq0 = _mm256_setzero_ps(), aq1 = aq0, am0 = aq0, am1 = aq0;
    for (int64_t i = 0; i < n / G4_QK_K; i++, b += sizeof(g4_block_q4_K)) {
        kscales8(b, dsc, dmn);
        const uint8_t *q = b + 16;
        for (int s = 0; s < 8; s += 2, q += 32, x += 64) {
            __m256 sl = _mm256_setzero_ps(), sh = sl, xl = sl, xh = sl;
            for (int k = 0; k < 32; k += 8) {
                __m256i v = zx8(q + k);
                __m256 x0 = ldx(x + k), x1 = ldx(x + 32 + k);
                sl = _mm256_fmadd_ps(cvt(_mm256_and_si256(v, m4)), x0, sl);
                sh = _mm256_fmadd_ps(cvt(_mm256_srli_epi32(v, 4)), x1, sh);
                xl = _mm256_add_ps(xl, x0);
                xh = _mm256_add_ps(xh, x1);
            }
            aq0 = _mm256_fmadd_ps(_mm256_broadcast_ss(dsc + s), sl, aq0);
            aq1 = _mm256_fmadd_ps(_mm256_broadcast_ss(dsc + s + 1), sh, aq1);
            am0 = _mm256_fmadd_ps(_mm256_broadcast_ss(dmn + s), xl, am0);
            am1 = _mm256_fmadd_ps(_mm256_broadcast_ss(dmn + s + 1), xh, am1);
        }
    }
    return hsum(_mm256_sub_ps(_mm256_add_ps(aq0, aq1), _mm256_add_ps(am0, am1)));
}

/* q5_K: 5-bit weights are assembled 32 at a time as bytes in a stack buffer (one byte per
 * weight, element order), which ksuper() then widens straight from memory. */
/* Bit 2j (2j+1) of qh[l] is the 5th bit of sub-block 2j (2j+1). */
G4_AVX2 float g4_dot_q5_K_avx2(const void *row, const float *x, int64_t n) {
    const uint8_t *b = row;
    const __m256i m4 = _mm256_set1_epi8(0x0f), b0 = _mm256_set1_epi8(1), b1 = _mm256_set1_epi8(2);
    _Alignas(32) uint8_t q[G4_QK_K];
    float dsc[8], dmn[8];
    __m256 aq0 = _mm256_setzero_ps(), aq1 = aq0, am0 = aq0, am1 = aq0;
    for (int64_t i = 0; i < n / G4_QK_K; i++, b += sizeof(g4_block_q5_K), x += G4_QK_K) {
        kscales8(b, dsc, dmn);
        __m256i h = _mm256_loadu_si256((const __m256i *)(const void *)(b + 16));
        for (int j = 0; j < 4; j++) {
            __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(b + 48 + 32 * j));
            /* (h & 1) << 4 and (h & 2) << 3 stay inside each byte, so 16-bit shifts are fine */
            __m256i lo = _mm256_or_si256(_mm256_and_si256(v, m4), _mm256_slli_epi16(_mm256_and_si256(h, b0), 4));
            __m256i hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(v, 4), m4),
                                         _mm256_slli_epi16(_mm256_and_si256(h, b1), 3));
            _mm256_store_si256((__m256i *)(void *)(q + 64 * j), lo);
            _mm256_store_si256((__m256i *)(void *)(q + 64 * j + 32), hi);
            h = _mm256_srli_epi16(h, 2); /* bits crossing from the next byte are masked off */
        }
        ksuper(q, x, dsc, dmn, &aq0, &aq1, &am0, &am1);
    }
    return hsum(_mm256_sub_ps(_mm256_add_ps(aq0, aq1), _mm256_add_ps(am0, am1)));
}

/* ---- q6_K ----------------------------------------------------------------------------- */

/* Per half of 128: the four 32-weight quarters are assembled as signed bytes (q - 32)
 * 32 at a time, then widened from the stack buffer; 16 weights share one d*sc. */
G4_AVX2 float g4_dot_q6_K_avx2(const void *row, const float *x, int64_t n) {
    const uint8_t *b = row;
    const __m256i m4 = _mm256_set1_epi8(0x0f), m3 = _mm256_set1_epi8(0x03), mc = _mm256_set1_epi8(0x0c);
    const __m256i m30 = _mm256_set1_epi8(0x30), o32 = _mm256_set1_epi8(32);
    _Alignas(32) int8_t q[G4_QK_K];
    float ds[16];
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (int64_t i = 0; i < n / G4_QK_K; i++, b += sizeof(g4_block_q6_K), x += G4_QK_K) {
        __m256 d = _mm256_set1_ps(ld_f16(b + 208));
        _mm256_storeu_ps(ds, _mm256_mul_ps(d, cvt(sx8(b + 192))));
        _mm256_storeu_ps(ds + 8, _mm256_mul_ps(d, cvt(sx8(b + 200))));
        for (int h = 0; h < 2; h++) {
            const uint8_t *ql = b + 64 * h, *qh = b + 128 + 32 * h;
            __m256i l0 = _mm256_loadu_si256((const __m256i *)(const void *)ql);
            __m256i l1 = _mm256_loadu_si256((const __m256i *)(const void *)(ql + 32));
            __m256i hh = _mm256_loadu_si256((const __m256i *)(const void *)qh);
            __m256i q1 = _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_slli_epi16(_mm256_and_si256(hh, m3), 4));
            __m256i q2 = _mm256_or_si256(_mm256_and_si256(l1, m4), _mm256_slli_epi16(_mm256_and_si256(hh, mc), 2));
            __m256i q3 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4), _mm256_and_si256(hh, m30));
            __m256i q4 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                                         _mm256_and_si256(_mm256_srli_epi16(hh, 2), m30));
            int8_t *o = q + 128 * h;
            _mm256_store_si256((__m256i *)(void *)o, _mm256_sub_epi8(q1, o32));
            _mm256_store_si256((__m256i *)(void *)(o + 32), _mm256_sub_epi8(q2, o32));
            _mm256_store_si256((__m256i *)(void *)(o + 64), _mm256_sub_epi8(q3, o32));
            _mm256_store_si256((__m256i *)(void *)(o + 96), _mm256_sub_epi8(q4, o32));
        }
        /* 16 groups of 16; four accumulators, one per group mod 4 */
        for (int g = 0; g < 16; g += 4) {
            const uint8_t *qq = (const uint8_t *)q + 16 * g;
            const float *xx = x + 16 * g;
            __m256 s0 = _mm256_mul_ps(cvt(sx8(qq)), ldx(xx));
            __m256 s1 = _mm256_mul_ps(cvt(sx8(qq + 16)), ldx(xx + 16));
            __m256 s2 = _mm256_mul_ps(cvt(sx8(qq + 32)), ldx(xx + 32));
            __m256 s3 = _mm256_mul_ps(cvt(sx8(qq + 48)), ldx(xx + 48));
            s0 = _mm256_fmadd_ps(cvt(sx8(qq + 8)), ldx(xx + 8), s0);
            s1 = _mm256_fmadd_ps(cvt(sx8(qq + 24)), ldx(xx + 24), s1);
            s2 = _mm256_fmadd_ps(cvt(sx8(qq + 40)), ldx(xx + 40), s2);
            s3 = _mm256_fmadd_ps(cvt(sx8(qq + 56)), ldx(xx + 56), s3);
            a0 = _mm256_fmadd_ps(_mm256_broadcast_ss(ds + g), s0, a0);
            a1 = _mm256_fmadd_ps(_mm256_broadcast_ss(ds + g + 1), s1, a1);
            a2 = _mm256_fmadd_ps(_mm256_broadcast_ss(ds + g + 2), s2, a2);
            a3 = _mm256_fmadd_ps(_mm256_broadcast_ss(ds + g + 3), s3, a3);
        }
    }
    return hsum(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
}

/* ---- rows to f32 (prefill and batched decode dequantize weight rows) -------------------------------
 * Bit-identical to the scalar versions in quant.c: the same products (float)q * d, exact conversions. */

G4_AVX2 void g4_to_f32_q8_0_avx2(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n; i += 32, b += 34, dst += 32) {
        const __m256 d = _mm256_set1_ps(ld_f16(b));
        for (int k = 0; k < 32; k += 8) {
            const __m256i q = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(b + 2 + k)));
            _mm256_storeu_ps(dst + k, _mm256_mul_ps(_mm256_cvtepi32_ps(q), d));
        }
    }
}

G4_AVX2 void g4_to_f32_q4_0_avx2(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    const __m128i lo4 = _mm_set1_epi8(0x0f), eight = _mm_set1_epi8(8);
    for (int64_t i = 0; i < n; i += 32, b += 18, dst += 32) {
        const __m256 d = _mm256_set1_ps(ld_f16(b));
        const __m128i q = _mm_loadu_si128((const __m128i *)(b + 2));
        const __m128i lo = _mm_sub_epi8(_mm_and_si128(q, lo4), eight);                    /* elements 0..15 */
        const __m128i hi = _mm_sub_epi8(_mm_and_si128(_mm_srli_epi16(q, 4), lo4), eight); /* 16..31 */
        const __m128i parts[4] = {lo, _mm_srli_si128(lo, 8), hi, _mm_srli_si128(hi, 8)};
        for (int k = 0; k < 4; k++)
            _mm256_storeu_ps(dst + 8 * k, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(parts[k])), d));
    }
}

G4_AVX2 void g4_to_f32_bf16_avx2(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256i h = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(b + 2 * i)));
        _mm256_storeu_ps(dst + i, _mm256_castsi256_ps(_mm256_slli_epi32(h, 16)));
    }
    for (; i < n; i++) {
        uint32_t u = (uint32_t)b[2 * i] << 16 | (uint32_t)b[2 * i + 1] << 24;
        memcpy(dst + i, &u, 4);
    }
}

G4_AVX2 void g4_to_f32_f16_avx2(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(b + 2 * i))));
    for (; i < n; i++) dst[i] = ld_f16(b + 2 * i);
}

#else
typedef int g4_quant_avx2_unused; /* not x86-64: nothing to build here */
#endif
