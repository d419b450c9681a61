/* test_qdot.c -- the integer dot path (core/qdot.h): activations quantized to 8 bits, weight rows kept as
 * integers.  Weight rows are gguf-py's quantized blocks (tests/data/quant, tools/make_quant_fixtures.py),
 * so the "true" row is gguf-py's dequantization of them.
 *  - quantizer: the selected (SIMD) one writes the scalar one's bytes; every block has d = amax/127 and
 *    |x - d*q| <= d/2 (round to nearest), |q| <= 127; NaN/inf/tiny blocks stay defined;
 *  - each kernel (scalar ref, selected) against a double oracle on the same quantized activations:
 *    |err| <= 1e-5 * sum|w*x|;
 *  - against the f32 dot of gguf-py's dequantized row: within the activation rounding bound
 *    sum_b d_b/2 * sum|w| (+ 1e-5 * sum|w*x|) -- the price of the fast path, and no more;
 *  - 1..4 tokens at once: each token's result is bit-identical to the one-token call, at odd alignments;
 *  - q4_0 and q8_0 rows packed 8 at a time: unpacking gives the original bytes back, the packed kernels equal the
 *    scalar packed kernel bit for bit and the double oracle to 1e-5, for 1..4 tokens.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/cpu/quant_cpu.h"
#include "core/qdot.h"
#include "core/quant.h"

#define DATA "tests/data/quant/"

static uint32_t lcg(uint32_t *s) {
    *s = *s * 1664525u + 1013904223u;
    return *s >> 8;
}

static uint32_t fbits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static void test_quantizer(void) {
    enum { N = 32 * 40 };
    float x[N];
    uint32_t seed = 7;
    for (int i = 0; i < N; i++) {
        float scale = (float)(1 + i / 32 % 5) * ((i / 32) % 7 == 3 ? 1e-3f : 1.0f);
        x[i] = ((float)lcg(&seed) / (float)(1u << 23) * 2.0f - 1.0f) * scale;
    }
    /* special blocks: all zero, one huge value, exact ties, tiny, NaN, inf */
    for (int i = 0; i < 32; i++) x[32 * 2 + i] = 0.0f;
    x[32 * 4 + 5] = 3e38f;
    for (int i = 0; i < 32; i++) x[32 * 6 + i] = (float)(i - 16) * 0.5f; /* amax 8: steps of 127/16 */
    for (int i = 0; i < 32; i++) x[32 * 8 + i] = 1e-35f * (float)(i + 1);
    x[32 * 10 + 3] = NAN;
    x[32 * 12 + 9] = INFINITY;
    g4_block_q8x a[N / 32], b[N / 32];
    memset(a, 0x5a, sizeof a);
    memset(b, 0xa5, sizeof b);
    g4_quantize_q8x_ref(x, a, N);
    g4_quantize_q8x(x, b, N);
    int same = 1, ok = 1;
    for (int k = 0; k < N / 32; k++) {
        same &= fbits(a[k].d) == fbits(b[k].d) && a[k].sum == b[k].sum && !memcmp(a[k].q, b[k].q, 32);
        if (k == 10 || k == 12) continue; /* NaN / inf blocks: only defined, checked below */
        float amax = 0;
        int sum = 0;
        for (int i = 0; i < 32; i++) amax = fmaxf(amax, fabsf(x[32 * k + i]));
        float d = amax >= G4_Q8X_TINY ? amax / 127.0f : 0.0f;
        ok &= fbits(a[k].d) == fbits(d);
        for (int i = 0; i < 32; i++) {
            int q = a[k].q[i];
            ok &= q >= -127 && q <= 127;
            if (d > 0) ok &= fabs((double)x[32 * k + i] - (double)d * q) <= d * 0.5 * (1 + 1e-5);
            else ok &= q == 0;
            sum += q;
        }
        ok &= a[k].sum == sum;
    }
    CHECKF(same, "SIMD quantizer differs from the scalar one");
    CHECKF(ok, "quantized blocks break d = amax/127, |x - d*q| <= d/2");
    /* the tie block: x = 0.5 * (i - 16), d = 8/127, x/d = (i-16)*127/16: no exact .5, but rounding is to nearest */
    CHECK(a[6].q[0] == -127 && a[6].q[16] == 0);
    /* NaN element -> -127 with a finite scale; inf -> scale inf, finite elements 0 */
    CHECK(a[10].q[3] == -127 && isfinite(a[10].d) && a[10].d > 0);
    CHECK(isinf(a[12].d) && a[12].q[0] == 0 && a[12].q[9] == -127);
}

typedef struct {
    const char *name;
    int id;
} qtype;

static void test_type(const qtype *t) {
    const g4_type_info *ti = g4_type_get(t->id);
    char nm[128];
    size_t nq, nd;
    snprintf(nm, sizeof nm, DATA "%s_q.bin", t->name);
    uint8_t *q = (uint8_t *)check_slurp(nm, &nq);
    snprintf(nm, sizeof nm, DATA "%s_deq.f32", t->name);
    float *deq = (float *)check_slurp(nm, &nd);
    if (!q || !deq) {
        CHECKF(0, "fixture for %s missing", t->name);
        free(q), free(deq);
        return;
    }
    const int64_t blck = ti->blck, nunits = (int64_t)(nd / 4) / blck;
    int64_t good[4096], ngood = 0;
    for (int64_t u = 0; u < nunits && ngood < 4096; u++) {
        int fin = 1;
        for (int64_t i = 0; i < blck; i++) fin &= isfinite(deq[u * blck + i]) != 0;
        if (fin) good[ngood++] = u;
    }
    CHECK(ngood > 0);
    struct {
        const char *name;
        g4_qdot_fn fn;
    } var[2] = {{"ref", g4_type_qdot_ref(t->id)}, {"selected", g4_type_qdot(t->id)}};
    CHECKF(var[0].fn != NULL, "%s: no scalar integer dot", t->name);
    int nvar = var[1].fn && var[1].fn != var[0].fn ? 2 : 1;
    if (nvar == 1) check_skip("no SIMD integer dot on this CPU: only the scalar one is tested");

    static const int64_t sizes[] = {1, 2, 3, 7, 129};
    for (int si = 0; si < (blck > 32 ? 4 : 5) && ngood > 0; si++) { /* (k-quant blocks are 256 wide) */
        const int64_t n = sizes[si] * blck, nb = n / G4_QK8X;
        uint8_t *row = malloc((size_t)(n / blck) * ti->size + 8);
        float *w = malloc((size_t)n * 4), *x = malloc((size_t)n * 4 * 4);
        g4_block_q8x *xq = malloc((size_t)(4 * nb + 1) * sizeof *xq);
        CHECK(row && w && x && xq);
        if (!(row && w && x && xq)) goto next;
        uint8_t *r = row + 3; /* odd address */
        for (int64_t k = 0; k < n / blck; k++) {
            int64_t u = good[(k * 5 + si) % ngood];
            memcpy(r + k * ti->size, q + u * ti->size, ti->size);
            memcpy(w + k * blck, deq + u * blck, (size_t)blck * 4);
        }
        uint32_t seed = (uint32_t)(99 + si * 31 + t->id);
        for (int64_t i = 0; i < 4 * n; i++) x[i] = ((float)lcg(&seed) / (float)(1u << 23) * 2.0f - 1.0f) * (i % 97 ? 1 : 9);
        g4_block_q8x *xs = xq + 1; /* 40-byte stride, not 32-byte aligned */
        for (int tk = 0; tk < 4; tk++) g4_quantize_q8x(x + tk * n, xs + tk * nb, n);
        for (int tk = 0; tk < 4; tk++) {
            double oracle = 0, mag = 0, exact = 0, bound = 0;
            for (int64_t i = 0; i < n; i++) {
                const g4_block_q8x *b = &xs[tk * nb + i / 32];
                double xv = (double)b->d * b->q[i % 32];
                oracle += (double)w[i] * xv;
                mag += fabs((double)w[i] * xv);
                exact += (double)w[i] * x[tk * n + i];
                bound += fabs((double)w[i]) * b->d * 0.5;
            }
            for (int v = 0; v < nvar; v++) {
                float y1;
                var[v].fn(r, xs + tk * nb, nb, 1, n, &y1, 1);
                CHECKF(fabs(y1 - oracle) <= 1e-5 * mag + 1e-30, "%s %s n=%lld tok %d: got %.9g want %.9g", t->name,
                       var[v].name, (long long)n, tk, (double)y1, oracle);
                CHECKF(fabs(y1 - exact) <= bound * (1 + 1e-6) + 1e-5 * mag + 1e-30,
                       "%s %s n=%lld: %.9g vs f32 dot %.9g beyond the rounding bound %.3g", t->name, var[v].name,
                       (long long)n, (double)y1, exact, bound);
            }
        }
        for (int v = 0; v < nvar; v++) {
            float one[4], many[4 * 3];
            for (int tk = 0; tk < 4; tk++) var[v].fn(r, xs + tk * nb, nb, 1, n, &one[tk], 1);
            for (int nt = 1; nt <= 4; nt++) {
                for (int i = 0; i < 12; i++) many[i] = NAN;
                var[v].fn(r, xs, nb, nt, n, many, 3); /* y stride 3 */
                int same = 1;
                for (int tk = 0; tk < nt; tk++) same &= fbits(many[tk * 3]) == fbits(one[tk]);
                CHECKF(same, "%s %s n=%lld: %d tokens at once differ from one at a time", t->name, var[v].name,
                       (long long)n, nt);
            }
        }
    next:
        free(row), free(w), free(x), free(xq);
    }
    free(q), free(deq);
}

static void test_x8(const char *name, int type) {
    const g4_type_info *ti = g4_type_get(type);
    const size_t bs = ti->size;
    const int64_t blck = ti->blck; /* 32, or 256 for q4_K */
    char nm[128];
    size_t nq, nd;
    snprintf(nm, sizeof nm, DATA "%s_q.bin", name);
    uint8_t *q = (uint8_t *)check_slurp(nm, &nq);
    snprintf(nm, sizeof nm, DATA "%s_deq.f32", name);
    float *deq = (float *)check_slurp(nm, &nd);
    if (!q || !deq) {
        CHECKF(0, "%s fixture missing", name);
        free(q), free(deq);
        return;
    }
    int64_t good[1024], ngood = 0, nunits = (int64_t)(nd / 4) / blck;
    for (int64_t u = 0; u < nunits && ngood < 1024; u++) {
        int fin = 1;
        for (int64_t i = 0; i < blck; i++) fin &= isfinite(deq[u * blck + i]) != 0;
        if (fin) good[ngood++] = u;
    }
    CHECK(g4_x8_type(type) && g4_qdot_x8_ref(type) != NULL);
    g4_qdot_x8_fn ref_fn = g4_qdot_x8_ref(type), simd = g4_qdot_x8(type);
    if (!simd) check_skip("no SIMD x8 kernel on this CPU: only the scalar one is tested");
    static const int64_t sizes[] = {1, 2, 5, 120};
    for (int si = 0; si < 4 && ngood > 0; si++) {
        const int64_t nt_blocks = blck > 32 ? (sizes[si] + 7) / 8 : sizes[si]; /* type blocks per row */
        const int64_t n = nt_blocks * blck, nb = n / 32;                      /* nb: activation blocks */
        const size_t rb = (size_t)nt_blocks * bs;
        uint8_t *rows = malloc(8 * rb), *grp = malloc(8 * rb + 1), *back = malloc(rb);
        float *w = malloc(sizeof(float) * 8 * (size_t)n), *x = malloc(sizeof(float) * 4 * (size_t)n);
        g4_block_q8x *xq = malloc(sizeof *xq * 4 * (size_t)nb);
        CHECK(rows && grp && back && w && x && xq);
        if (!(rows && grp && back && w && x && xq)) goto next;
        for (int r = 0; r < 8; r++)
            for (int64_t b = 0; b < nt_blocks; b++) {
                int64_t u = good[(r * 13 + b * 7 + si) % ngood];
                memcpy(rows + r * rb + b * bs, q + u * bs, bs);
                memcpy(w + r * n + b * blck, deq + u * blck, (size_t)blck * 4);
            }
        uint8_t *g = grp + 1; /* odd address */
        g4_pack_x8(type, rows, rb, n, g);
        int round = 1;
        for (int r = 0; r < 8; r++) {
            g4_unpack_x8(type, g, r, n, back);
            round &= !memcmp(back, rows + r * rb, rb);
        }
        CHECKF(round, "%s x8 n=%lld: unpack does not give the rows back", name, (long long)n);
        uint32_t seed = (uint32_t)(5 + si);
        for (int64_t i = 0; i < 4 * n; i++) x[i] = (float)lcg(&seed) / (float)(1u << 23) * 2.0f - 1.0f;
        for (int t = 0; t < 4; t++) g4_quantize_q8x(x + t * n, xq + t * nb, n);
        float ref[4 * 8], got[4 * 8];
        ref_fn(g, xq, nb, 4, n, ref, 8);
        int ok = 1;
        for (int t = 0; t < 4; t++)
            for (int r = 0; r < 8; r++) {
                double o = 0, mag = 0;
                for (int64_t i = 0; i < n; i++) {
                    double xv = (double)xq[t * nb + i / 32].d * xq[t * nb + i / 32].q[i % 32];
                    o += (double)w[r * n + i] * xv;
                    mag += fabs((double)w[r * n + i] * xv);
                }
                ok &= fabs(ref[t * 8 + r] - o) <= 1e-5 * mag + 1e-30;
            }
        CHECKF(ok, "%s x8 scalar n=%lld: differs from the double oracle", name, (long long)n);
        for (int nt = 1; nt <= 4 && simd; nt++) {
            for (int i = 0; i < 32; i++) got[i] = NAN;
            simd(g, xq, nb, nt, n, got, 8);
            int same = 1;
            for (int t = 0; t < nt; t++)
                for (int r = 0; r < 8; r++) same &= fbits(got[t * 8 + r]) == fbits(ref[t * 8 + r]);
            CHECKF(same, "%s x8 SIMD n=%lld nt=%d: not bit-identical to the scalar packed kernel", name, (long long)n, nt);
        }
    next:
        free(rows), free(grp), free(back), free(w), free(x), free(xq);
    }
    free(q), free(deq);
}

int main(void) {
#ifdef G4_HAVE_AVX2_KERNELS
    printf("x8 kernels: %s\n", g4_cpu_has_vnni() ? "avx512-vnni" : g4_cpu_has_avx2() ? "avx2" : "scalar");
#endif
    test_quantizer();
    test_x8("q4_0", G4_TYPE_Q4_0);
    test_x8("q8_0", G4_TYPE_Q8_0);
    test_x8("q4_K", G4_TYPE_Q4_K);
    test_x8("q6_K", G4_TYPE_Q6_K);
    CHECK(!g4_x8_type(G4_TYPE_Q5_K) && g4_qdot_x8_ref(G4_TYPE_Q5_K) == NULL && g4_qdot_x8(-1) == NULL);
    static const qtype types[] = {{"q8_0", G4_TYPE_Q8_0}, {"q4_0", G4_TYPE_Q4_0}, {"q4_K", G4_TYPE_Q4_K},
                                  {"q6_K", G4_TYPE_Q6_K}};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) test_type(&types[i]);
    /* types without an integer kernel say so */
    CHECK(g4_type_qdot_ref(G4_TYPE_F32) == NULL && g4_type_qdot(G4_TYPE_F32) == NULL && g4_type_qdot(-1) == NULL);
    return check_done("test_qdot");
}
