/* qdot_x8_kernels.h -- private: the packed x8 integer kernels (qdot.h; layouts and arithmetic in qdot.c),
 * written once for the ISAs that differ only in how bytes are multiplied and summed.  The including file
 * defines, before including it:
 *   X8_ATTR, X8_INLINE       the target attributes of an exported kernel and of its inline body;
 *   X8_NAME(base)            the exported name, e.g. g4_qdot_##base##_avx2;
 *   x8_dot_n(u, s, n)        int32 per lane: the sum over k < n (n <= 8) of the 4 products of unsigned
 *                            bytes u[k] and signed bytes s[k] (AVX2: vpmaddubsw summed in int16, then one
 *                            vpmaddwd: callers keep |u| * 127 * 2 * n < 2^15; VNNI: a vpdpbusd chain).
 * Every integer sum is exact, and the float steps are the scalar kernels' in the same order, so all versions
 * give bit-identical results.  Lane r of a vector is row r of the group. */
#ifndef X8_NAME
#error "define X8_ATTR, X8_INLINE, X8_NAME and x8_dot_n before including qdot_x8_kernels.h"
#endif

#define X8_BCAST(q4, k) _mm256_set1_epi32((q4)[k]) /* 4 activation bytes against every row */

/* q4_0: 4 chunks of 4 weights x 8 rows, low and high nibbles (0..15), 8 * sum(q) taken off. */
X8_INLINE void x8_q4_0(const uint8_t *p, const g4_block_q8x *x, int64_t ldx, int64_t nb, float *y, int64_t ldy,
                       const int NT) {
    const __m256i m4 = _mm256_set1_epi8(15);
    __m256 acc[G4_QDOT_MAX_NT];
#pragma GCC unroll 4
    for (int t = 0; t < NT; t++) acc[t] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++, p += 8 * sizeof(g4_block_q4_0)) {
        const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)p));
        __m256i w[8]; /* low nibbles of chunks 0-3 (elements 4j..), then high (16 + 4j..) */
#pragma GCC unroll 4
        for (int j = 0; j < 4; j++) {
            const __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(p + 16 + 32 * j));
            w[j] = _mm256_and_si256(v, m4);
            w[4 + j] = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
        }
#pragma GCC unroll 4
        for (int t = 0; t < NT; t++) {
            const g4_block_q8x *xb = x + t * ldx + b;
            int32_t q4[8];
            memcpy(q4, xb->q, 32);
            __m256i s[8];
#pragma GCC unroll 8
            for (int k = 0; k < 8; k++) s[k] = X8_BCAST(q4, k);
            const __m256i i32 = _mm256_sub_epi32(x8_dot_n(w, s, 8), _mm256_set1_epi32(8 * xb->sum));
            acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(i32), _mm256_mul_ps(dw, _mm256_set1_ps(xb->d)), acc[t]);
        }
    }
#pragma GCC unroll 4
    for (int t = 0; t < NT; t++) _mm256_storeu_ps(y + t * ldy, acc[t]);
}

/* q8_0: per chunk j, |w| once, then per token the activation bytes take the weights' signs; each chunk is
 * widened to int32 at once (128 * 127 * 2 fits int16, four of them would not). */
X8_INLINE void x8_q8_0(const uint8_t *p, const g4_block_q8x *x, int64_t ldx, int64_t nb, float *y, int64_t ldy,
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
                const __m256i s = _mm256_sign_epi8(_mm256_set1_epi32(q4), v);
                is[t] = _mm256_add_epi32(is[t], x8_dot_n(&a, &s, 1));
            }
        }
#pragma GCC unroll 4
        for (int t = 0; t < NT; t++)
            acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(is[t]), _mm256_mul_ps(dw, _mm256_set1_ps(x[t * ldx + b].d)),
                                     acc[t]);
    }
#pragma GCC unroll 4
    for (int t = 0; t < NT; t++) _mm256_storeu_ps(y + t * ldy, acc[t]);
}

/* q4_K: the 8 rows' d*sc and dmin*m per sub-block once per super-block (k4_scales_x8); per sub-block and
 * token, the 8 rows' integer sums of 8 chunks of unsigned nibbles, and the reference's two FMAs. */
X8_INLINE void x8_q4_K(const uint8_t *p, const g4_block_q8x *x, int64_t ldx, int64_t nb, float *y, int64_t ldy,
                       const int NT) {
    const __m256i m4 = _mm256_set1_epi8(15);
    __m256 acc[G4_QDOT_MAX_NT], accm[G4_QDOT_MAX_NT];
#pragma GCC unroll 4
    for (int t = 0; t < NT; t++) acc[t] = accm[t] = _mm256_setzero_ps();
    for (int64_t i = 0; i < nb / 8; i++, p += 8 * sizeof(g4_block_q4_K)) {
        __m256 dsc[8], dmn[8]; /* [sub-block], lane r = row r */
        k4_scales_x8(p, dsc, dmn);
        for (int sb = 0; sb < 8; sb++) {
            const uint8_t *v = p + 128 + 32 * 8 * (sb / 2);
            __m256i w[8];
#pragma GCC unroll 8
            for (int u = 0; u < 8; u++) {
                const __m256i b = _mm256_loadu_si256((const __m256i *)(const void *)(v + 32 * u));
                w[u] = sb & 1 ? _mm256_and_si256(_mm256_srli_epi16(b, 4), m4) : _mm256_and_si256(b, m4);
            }
#pragma GCC unroll 4
            for (int t = 0; t < NT; t++) {
                const g4_block_q8x *xb = x + t * ldx + 8 * i + sb;
                int32_t q4[8];
                memcpy(q4, xb->q, 32);
                __m256i s[8];
#pragma GCC unroll 8
                for (int k = 0; k < 8; k++) s[k] = X8_BCAST(q4, k);
                const __m256 xd = _mm256_set1_ps(xb->d);
                acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(x8_dot_n(w, s, 8)), _mm256_mul_ps(dsc[sb], xd), acc[t]);
                accm[t] = _mm256_fmadd_ps(_mm256_set1_ps((float)xb->sum), _mm256_mul_ps(dmn[sb], xd), accm[t]);
            }
        }
    }
#pragma GCC unroll 4
    for (int t = 0; t < NT; t++) _mm256_storeu_ps(y + t * ldy, _mm256_sub_ps(acc[t], accm[t]));
}

/* q6_K: per activation block (chunk c of half h) the 6-bit weights minus 32 (q6_chunk_x8) once for all
 * tokens; per token, |q| against activation bytes carrying q's sign, summed per 16-element half (|q| <= 32:
 * 4 chunks stay in int16), each half times the rows' int8 scale, and one FMA per block. */
X8_INLINE void x8_q6_K(const uint8_t *p, const g4_block_q8x *x, int64_t ldx, int64_t nb, float *y, int64_t ldy,
                       const int NT) {
    __m256 acc[G4_QDOT_MAX_NT];
#pragma GCC unroll 4
    for (int t = 0; t < NT; t++) acc[t] = _mm256_setzero_ps();
    for (int64_t i = 0; i < nb / 8; i++, p += 8 * sizeof(g4_block_q6_K)) {
        int32_t scs[16][8]; /* [scale index][row] */
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
                    __m256i s[8];
#pragma GCC unroll 8
                    for (int u = 0; u < 8; u++) s[u] = _mm256_sign_epi8(X8_BCAST(q4, u), sg[u]);
                    const __m256i I = _mm256_add_epi32(_mm256_mullo_epi32(x8_dot_n(a, s, 4), s0),
                                                       _mm256_mullo_epi32(x8_dot_n(a + 4, s + 4, 4), s1));
                    acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(I), _mm256_mul_ps(vd, _mm256_set1_ps(xb->d)), acc[t]);
                }
            }
    }
#pragma GCC unroll 4
    for (int t = 0; t < NT; t++) _mm256_storeu_ps(y + t * ldy, acc[t]);
}

/* the exported g4_qdot_x8_fn of each: NT is a constant in every instance */
#define X8_EXPORT(base, kernel)                                                                            \
    X8_ATTR void X8_NAME(base)(const void *w, const g4_block_q8x *x, int64_t ldx, int nt, int64_t n,       \
                               float *y, int64_t ldy) {                                                    \
        const int64_t nb = n / G4_QK8X;                                                                    \
        switch (nt) {                                                                                      \
        case 1: kernel(w, x, ldx, nb, y, ldy, 1); break;                                                  \
        case 2: kernel(w, x, ldx, nb, y, ldy, 2); break;                                                  \
        case 3: kernel(w, x, ldx, nb, y, ldy, 3); break;                                                  \
        default: kernel(w, x, ldx, nb, y, ldy, 4); break;                                                 \
        }                                                                                                  \
    }
X8_EXPORT(q4_0x8, x8_q4_0)
X8_EXPORT(q8_0x8, x8_q8_0)
X8_EXPORT(q4_Kx8, x8_q4_K)
X8_EXPORT(q6_Kx8, x8_q6_K)
#undef X8_EXPORT
#undef X8_BCAST
