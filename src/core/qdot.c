/* qdot.c -- activation quantizer and integer row dots (see qdot.h): the portable scalar versions, which
 * the tests hold the SIMD ones to, and the once-per-process choice of kernel. */
#include "qdot.h"

#include <math.h>
#include <pthread.h>
#include <string.h>

#include "cpu/quant_cpu.h"
#include "quant.h"
#include "types.h"

void g4_quantize_q8x_ref(const float *x, g4_block_q8x *out, int64_t n) {
    for (int64_t b = 0; b < n / G4_QK8X; b++, x += G4_QK8X) {
        float amax = 0.0f;
        for (int i = 0; i < G4_QK8X; i++) amax = fmaxf(amax, fabsf(x[i])); /* fmaxf drops NaN */
        const float d = amax >= G4_Q8X_TINY ? amax / 127.0f : 0.0f, id = d != 0.0f ? 127.0f / amax : 0.0f;
        int32_t sum = 0;
        for (int i = 0; i < G4_QK8X; i++) {
            const float v = x[i] * id;
            out[b].q[i] = (int8_t)(v >= 127.0f ? 127 : v > -127.0f ? (int)nearbyintf(v) : -127); /* NaN: -127 */
            sum += out[b].q[i];
        }
        out[b].d = d;
        out[b].sum = sum;
    }
}

static inline float f16_at(const uint8_t *p) {
    g4_f16 h;
    memcpy(&h, p, 2);
    return g4_f16_to_f32(h);
}

/* Blocks summed in two interleaved accumulators (even and odd blocks), added at the end. */
static float qdot1_q8_0_ref(const uint8_t *w, const g4_block_q8x *x, int64_t nb) {
    float acc[2] = {0.0f, 0.0f};
    for (int64_t b = 0; b < nb; b++, w += sizeof(g4_block_q8_0)) {
        const int8_t *q = (const int8_t *)(w + 2);
        int32_t s = 0;
        for (int i = 0; i < G4_QK8X; i++) s += (int32_t)q[i] * x[b].q[i];
        acc[b & 1] += f16_at(w) * x[b].d * (float)s;
    }
    return acc[0] + acc[1];
}

static float qdot1_q4_0_ref(const uint8_t *w, const g4_block_q8x *x, int64_t nb) {
    float acc[2] = {0.0f, 0.0f};
    for (int64_t b = 0; b < nb; b++, w += sizeof(g4_block_q4_0)) {
        const uint8_t *q = w + 2;
        int32_t s = 0;
        for (int i = 0; i < 16; i++) s += ((q[i] & 15) - 8) * x[b].q[i] + ((q[i] >> 4) - 8) * x[b].q[i + 16];
        acc[b & 1] += f16_at(w) * x[b].d * (float)s;
    }
    return acc[0] + acc[1];
}

/* q4_K: 8 sub-blocks of 32 per 256-element super-block, each one activation block:
 *   d*sc * xd * sum(q * xq) - dmin*m * xd * sum(xq)     (q: the unsigned nibble, 0..15)
 * The min terms go to their own accumulator, taken off at the end (as the SIMD kernel does). */
static float qdot1_q4_K_ref(const uint8_t *w, const g4_block_q8x *x, int64_t nb) {
    float acc = 0.0f, accm = 0.0f;
    for (int64_t i = 0; i < nb / 8; i++, w += sizeof(g4_block_q4_K), x += 8) {
        const float d = f16_at(w), dmin = f16_at(w + 2);
        uint8_t sc[8], mn[8];
        g4_kscales(w + 4, sc, mn);
        const uint8_t *q = w + 16;
        for (int j = 0; j < 4; j++) {
            const g4_block_q8x *x0 = &x[2 * j], *x1 = &x[2 * j + 1];
            int32_t s0 = 0, s1 = 0;
            for (int l = 0; l < 32; l++) {
                s0 += (q[32 * j + l] & 15) * x0->q[l];
                s1 += (q[32 * j + l] >> 4) * x1->q[l];
            }
            acc += d * (float)sc[2 * j] * x0->d * (float)s0;
            acc += d * (float)sc[2 * j + 1] * x1->d * (float)s1;
            accm += dmin * ((float)mn[2 * j] * x0->d * (float)x0->sum + (float)mn[2 * j + 1] * x1->d * (float)x1->sum);
        }
    }
    return acc - accm;
}

/* q6_K: two halves of 128; chunk c (0..3) of a half is one activation block, its elements 0..15 and 16..31
 * have their own int8 scales:  d * xd * (sc_lo * sum_lo(q * xq) + sc_hi * sum_hi(q * xq)),  q = 6 bits - 32. */
static float qdot1_q6_K_ref(const uint8_t *w, const g4_block_q8x *x, int64_t nb) {
    float acc = 0.0f;
    for (int64_t i = 0; i < nb / 8; i++, w += sizeof(g4_block_q6_K)) {
        const uint8_t *ql = w, *qh = w + 128;
        const int8_t *sc = (const int8_t *)(w + 192);
        const float d = f16_at(w + 208);
        for (int h = 0; h < 2; h++, ql += 64, qh += 32, sc += 8)
            for (int c = 0; c < 4; c++) {
                const g4_block_q8x *xb = x++;
                int32_t s[2] = {0, 0};
                for (int l = 0; l < 32; l++) {
                    const int lo = c & 1 ? ql[l + 32] : ql[l];
                    const int q = ((c < 2 ? lo & 15 : lo >> 4) | ((qh[l] >> (2 * c)) & 3) << 4) - 32;
                    s[l / 16] += q * xb->q[l];
                }
                acc += d * xb->d * (float)(sc[2 * c] * s[0] + sc[2 * c + 1] * s[1]);
            }
    }
    return acc;
}

/* q6_K groups: per row and activation block (chunk c of half h), in order:
 *   I = sc[8h+2c] * sum_lo(q * xq) + sc[8h+2c+1] * sum_hi(q * xq)  (int32),   acc = fma(I, d * xd, acc) */
static void qdot_q6_Kx8_ref(const void *grp, const g4_block_q8x *x, int64_t ldx, int nt, int64_t n, float *y,
                            int64_t ldy) {
    for (int t = 0; t < nt; t++)
        for (int r = 0; r < 8; r++) {
            const uint8_t *g = grp;
            float acc = 0.0f;
            for (int64_t i = 0; i < n / G4_QK_K; i++, g += 8 * sizeof(g4_block_q6_K)) {
                const int8_t *sc = (const int8_t *)(g + 18 * r);
                const float d = f16_at(g + 18 * r + 16);
                for (int h = 0; h < 2; h++)
                    for (int c = 0; c < 4; c++) {
                        const g4_block_q8x *xb = x + t * ldx + 8 * i + 4 * h + c;
                        int32_t S[2] = {0, 0};
                        for (int l = 0; l < 32; l++) {
                            const int qlb = 64 * h + (c & 1) * 32 + l, qhb = 32 * h + l;
                            const uint8_t lo = g[144 + 32 * (qlb / 4) + 4 * r + qlb % 4];
                            const uint8_t hi = g[144 + 1024 + 32 * (qhb / 4) + 4 * r + qhb % 4];
                            const int q = ((c < 2 ? lo & 15 : lo >> 4) | ((hi >> (2 * c)) & 3) << 4) - 32;
                            S[l / 16] += q * xb->q[l];
                        }
                        const int32_t I = sc[8 * h + 2 * c] * S[0] + sc[8 * h + 2 * c + 1] * S[1];
                        acc = fmaf((float)I, d * xb->d, acc);
                    }
            }
            y[t * ldy + r] = acc;
        }
}

#define G4_QDOT_REF(name, one)                                                                     \
    static void name(const void *row, const g4_block_q8x *x, int64_t ldx, int nt, int64_t n, float *y, \
                     int64_t ldy) {                                                                \
        for (int t = 0; t < nt; t++) y[t * ldy] = one(row, x + t * ldx, n / G4_QK8X);              \
    }
G4_QDOT_REF(qdot_q8_0_ref, qdot1_q8_0_ref)
G4_QDOT_REF(qdot_q4_0_ref, qdot1_q4_0_ref)
G4_QDOT_REF(qdot_q4_K_ref, qdot1_q4_K_ref)
G4_QDOT_REF(qdot_q6_K_ref, qdot1_q6_K_ref)

static const g4_qdot_fn g4_qdot_refs[G4_TYPE_COUNT] = {
    [G4_TYPE_Q8_0] = qdot_q8_0_ref,
    [G4_TYPE_Q4_0] = qdot_q4_0_ref,
    [G4_TYPE_Q4_K] = qdot_q4_K_ref,
    [G4_TYPE_Q6_K] = qdot_q6_K_ref,
};

/* ---- x8 ---- */

int g4_x8_type(int type) {
    return type == G4_TYPE_Q4_0 || type == G4_TYPE_Q8_0 || type == G4_TYPE_Q4_K || type == G4_TYPE_Q6_K;
}

/* q6_K groups (qdot.h): per super-block, the 8 rows' headers (16 int8 scales and the f16 d: 18 bytes each),
 * then 32 vectors of ql and 16 of qh, vector v holding bytes 4v..4v+3 of each row's ql (qh). */
static void pack_q6_K(const uint8_t *s, size_t row_bytes, int64_t n, uint8_t *d) {
    for (int64_t b = 0; b < n / G4_QK_K; b++, d += 8 * sizeof(g4_block_q6_K))
        for (int r = 0; r < 8; r++) {
            const uint8_t *blk = s + (size_t)r * row_bytes + (size_t)b * sizeof(g4_block_q6_K);
            memcpy(d + 18 * r, blk + 192, 18);
            for (int v = 0; v < 32; v++) memcpy(d + 144 + 32 * v + 4 * r, blk + 4 * v, 4);
            for (int v = 0; v < 16; v++) memcpy(d + 144 + 1024 + 32 * v + 4 * r, blk + 128 + 4 * v, 4);
        }
}

static void unpack_q6_K(const uint8_t *g, int r, int64_t n, uint8_t *d) {
    for (int64_t b = 0; b < n / G4_QK_K; b++, g += 8 * sizeof(g4_block_q6_K), d += sizeof(g4_block_q6_K)) {
        memcpy(d + 192, g + 18 * r, 18);
        for (int v = 0; v < 32; v++) memcpy(d + 4 * v, g + 144 + 32 * v + 4 * r, 4);
        for (int v = 0; v < 16; v++) memcpy(d + 128 + 4 * v, g + 144 + 1024 + 32 * v + 4 * r, 4);
    }
}

/* q4_K groups (qdot.h): per super-block, the 8 rows' 16-byte headers (d, dmin, scales), then 32 vectors,
 * vector v holding qs bytes 4v..4v+3 of each row. */
static void pack_q4_K(const uint8_t *s, size_t row_bytes, int64_t n, uint8_t *d) {
    for (int64_t b = 0; b < n / G4_QK_K; b++, d += 8 * sizeof(g4_block_q4_K))
        for (int r = 0; r < 8; r++) {
            const uint8_t *blk = s + (size_t)r * row_bytes + (size_t)b * sizeof(g4_block_q4_K);
            memcpy(d + 16 * r, blk, 16);
            for (int v = 0; v < 32; v++) memcpy(d + 128 + 32 * v + 4 * r, blk + 16 + 4 * v, 4);
        }
}

static void unpack_q4_K(const uint8_t *g, int r, int64_t n, uint8_t *d) {
    for (int64_t b = 0; b < n / G4_QK_K; b++, g += 8 * sizeof(g4_block_q4_K), d += sizeof(g4_block_q4_K)) {
        memcpy(d, g + 16 * r, 16);
        for (int v = 0; v < 32; v++) memcpy(d + 16 + 4 * v, g + 128 + 32 * v + 4 * r, 4);
    }
}

void g4_pack_x8(int type, const void *src, size_t row_bytes, int64_t n, void *dst) {
    if (type == G4_TYPE_Q4_K) { pack_q4_K(src, row_bytes, n, dst); return; }
    if (type == G4_TYPE_Q6_K) { pack_q6_K(src, row_bytes, n, dst); return; }
    const size_t bs = g4_type_get(type)->size, nv = (bs - 2) / 4; /* 4-byte chunks per row block */
    const uint8_t *s = src;
    uint8_t *d = dst;
    for (int64_t b = 0; b < n / 32; b++, d += 8 * bs)
        for (int r = 0; r < 8; r++) {
            const uint8_t *blk = s + (size_t)r * row_bytes + (size_t)b * bs;
            memcpy(d + 2 * r, blk, 2);
            for (size_t j = 0; j < nv; j++) memcpy(d + 16 + 32 * j + 4 * r, blk + 2 + 4 * j, 4);
        }
}

void g4_unpack_x8(int type, const void *grp, int r, int64_t n, void *dst) {
    if (type == G4_TYPE_Q4_K) { unpack_q4_K(grp, r, n, dst); return; }
    if (type == G4_TYPE_Q6_K) { unpack_q6_K(grp, r, n, dst); return; }
    const size_t bs = g4_type_get(type)->size, nv = (bs - 2) / 4;
    const uint8_t *g = grp;
    uint8_t *d = dst;
    for (int64_t b = 0; b < n / 32; b++, g += 8 * bs, d += bs) {
        memcpy(d, g + 2 * r, 2);
        for (size_t j = 0; j < nv; j++) memcpy(d + 2 + 4 * j, g + 16 + 32 * j + 4 * r, 4);
    }
}

/* Row r's integer dot with one activation block; element i of the row is byte (i % 4) of chunk i / 4. */
static int32_t x8_block_q4_0(const uint8_t *g, int r, const g4_block_q8x *xb) {
    int32_t s = 0;
    for (int j = 0; j < 4; j++)
        for (int i = 0; i < 4; i++) {
            const uint8_t v = g[16 + 32 * j + 4 * r + i];
            s += (v & 15) * xb->q[4 * j + i] + (v >> 4) * xb->q[16 + 4 * j + i];
        }
    return s - 8 * xb->sum;
}

static int32_t x8_block_q8_0(const uint8_t *g, int r, const g4_block_q8x *xb) {
    int32_t s = 0;
    for (int j = 0; j < 8; j++)
        for (int i = 0; i < 4; i++) s += (int8_t)g[16 + 32 * j + 4 * r + i] * xb->q[4 * j + i];
    return s;
}

#define G4_X8_REF(name, block, bsz)                                                                        \
    static void name(const void *grp, const g4_block_q8x *x, int64_t ldx, int nt, int64_t n, float *y,     \
                     int64_t ldy) {                                                                        \
        for (int t = 0; t < nt; t++)                                                                       \
            for (int r = 0; r < 8; r++) {                                                                  \
                const uint8_t *g = grp;                                                                    \
                float acc = 0.0f;                                                                          \
                for (int64_t b = 0; b < n / 32; b++, g += 8 * (bsz)) {                                     \
                    const g4_block_q8x *xb = x + t * ldx + b;                                              \
                    acc = fmaf((float)block(g, r, xb), f16_at(g + 2 * r) * xb->d, acc);                    \
                }                                                                                          \
                y[t * ldy + r] = acc;                                                                      \
            }                                                                                              \
    }
G4_X8_REF(qdot_q4_0x8_ref, x8_block_q4_0, sizeof(g4_block_q4_0))

/* q4_K groups: per row and sub-block s (one activation block), in order:
 *   acc = fma(I, (d*sc) * xd, acc),  accm = fma(sum(xq), (dmin*m) * xd, accm);   y = acc - accm */
static void qdot_q4_Kx8_ref(const void *grp, const g4_block_q8x *x, int64_t ldx, int nt, int64_t n, float *y,
                            int64_t ldy) {
    for (int t = 0; t < nt; t++)
        for (int r = 0; r < 8; r++) {
            const uint8_t *g = grp;
            float acc = 0.0f, accm = 0.0f;
            for (int64_t i = 0; i < n / G4_QK_K; i++, g += 8 * sizeof(g4_block_q4_K)) {
                uint8_t sc[8], mn[8];
                g4_kscales(g + 16 * r + 4, sc, mn);
                const float d = f16_at(g + 16 * r), dmin = f16_at(g + 16 * r + 2);
                for (int s = 0; s < 8; s++) {
                    const g4_block_q8x *xb = x + t * ldx + 8 * i + s;
                    int32_t I = 0;
                    for (int e = 0; e < 32; e++) { /* element e of sub-block s: qs byte 32(s/2) + e, nibble s&1 */
                        const int v = 8 * (s / 2) + e / 4;
                        const uint8_t byte = g[128 + 32 * v + 4 * r + e % 4];
                        I += (s & 1 ? byte >> 4 : byte & 15) * xb->q[e];
                    }
                    acc = fmaf((float)I, d * (float)sc[s] * xb->d, acc);
                    accm = fmaf((float)xb->sum, dmin * (float)mn[s] * xb->d, accm);
                }
            }
            y[t * ldy + r] = acc - accm;
        }
}
G4_X8_REF(qdot_q8_0x8_ref, x8_block_q8_0, sizeof(g4_block_q8_0))

typedef struct {
    g4_qdot_x8_fn x8[G4_TYPE_COUNT];
    g4_qdot_fn dot[G4_TYPE_COUNT];
    void (*quantize)(const float *x, g4_block_q8x *out, int64_t n);
} g4_qdot_kernels;

static pthread_once_t g4_qdot_once = PTHREAD_ONCE_INIT;
static g4_qdot_kernels g4_qdot_sel; /* written once, under pthread_once */

static void g4_qdot_select(void) {
    g4_qdot_sel.quantize = g4_quantize_q8x_ref;
#ifdef G4_HAVE_AVX2_KERNELS
    if (g4_cpu_has_avx2()) {
        g4_qdot_sel.quantize = g4_quantize_q8x_avx2;
        g4_qdot_sel.dot[G4_TYPE_Q8_0] = g4_qdot_q8_0_avx2;
        g4_qdot_sel.dot[G4_TYPE_Q4_0] = g4_qdot_q4_0_avx2;
        g4_qdot_sel.dot[G4_TYPE_Q4_K] = g4_qdot_q4_K_avx2;
        g4_qdot_sel.dot[G4_TYPE_Q6_K] = g4_qdot_q6_K_avx2;
        g4_qdot_sel.x8[G4_TYPE_Q4_0] = g4_qdot_q4_0x8_avx2;
        g4_qdot_sel.x8[G4_TYPE_Q8_0] = g4_qdot_q8_0x8_avx2;
        g4_qdot_sel.x8[G4_TYPE_Q4_K] = g4_qdot_q4_Kx8_avx2;
        g4_qdot_sel.x8[G4_TYPE_Q6_K] = g4_qdot_q6_Kx8_avx2;
    }
    if (g4_cpu_has_vnni()) {
        g4_qdot_sel.x8[G4_TYPE_Q4_0] = g4_qdot_q4_0x8_vnni;
        g4_qdot_sel.x8[G4_TYPE_Q8_0] = g4_qdot_q8_0x8_vnni;
        g4_qdot_sel.x8[G4_TYPE_Q4_K] = g4_qdot_q4_Kx8_vnni;
        g4_qdot_sel.x8[G4_TYPE_Q6_K] = g4_qdot_q6_Kx8_vnni;
    }
#endif
#ifdef G4_HAVE_NEON_KERNELS
    if (g4_cpu_has_dotprod()) {
        g4_qdot_sel.x8[G4_TYPE_Q4_0] = g4_qdot_q4_0x8_neon;
        g4_qdot_sel.x8[G4_TYPE_Q8_0] = g4_qdot_q8_0x8_neon;
        g4_qdot_sel.x8[G4_TYPE_Q4_K] = g4_qdot_q4_Kx8_neon;
        g4_qdot_sel.x8[G4_TYPE_Q6_K] = g4_qdot_q6_Kx8_neon;
    }
#endif
}

static const g4_qdot_kernels *g4_qdot_get(void) {
    pthread_once(&g4_qdot_once, g4_qdot_select);
    return &g4_qdot_sel;
}

void g4_quantize_q8x(const float *x, g4_block_q8x *out, int64_t n) { g4_qdot_get()->quantize(x, out, n); }

g4_qdot_fn g4_type_qdot(int type) {
    if (type < 0 || type >= G4_TYPE_COUNT) return NULL;
    return g4_qdot_get()->dot[type];
}

g4_qdot_x8_fn g4_qdot_x8(int type) {
    if (type < 0 || type >= G4_TYPE_COUNT) return NULL;
    return g4_qdot_get()->x8[type];
}

g4_qdot_x8_fn g4_qdot_x8_ref(int type) {
    return type == G4_TYPE_Q4_0 ? qdot_q4_0x8_ref : type == G4_TYPE_Q8_0 ? qdot_q8_0x8_ref
         : type == G4_TYPE_Q4_K ? qdot_q4_Kx8_ref : type == G4_TYPE_Q6_K ? qdot_q6_Kx8_ref : NULL;
}

g4_qdot_fn g4_type_qdot_ref(int type) {
    if (type < 0 || type >= G4_TYPE_COUNT) return NULL;
    return g4_qdot_refs[type];
}
