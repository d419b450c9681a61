/* test_gemm.c -- the prefill GEMMs (AVX2 tile, packed AVX2 kernel, and their portable versions) against a
 * double-precision product, for shapes that exercise every edge (rows/tokens not multiples of 4 or 6, n not a
 * multiple of 8 or of the k block); the packed kernel gives a token the same bits alone as in a batch. */
#include <math.h>
#include <stdlib.h>

#include "check.h"
#include "core/gemm.h"

static float frand(unsigned *s) { *s = *s * 1103515245u + 12345u; return (float)((*s >> 9) & 0xffff) / 32768.0f - 1.0f; }

static void check_shape(int nr, int nt, int n) {
    unsigned s = (unsigned)(nr * 131 + nt * 7 + n);
    float *W = malloc(sizeof(float) * (size_t)nr * n), *X = malloc(sizeof(float) * (size_t)nt * n);
    float *Y = malloc(sizeof(float) * (size_t)nt * (nr + 3)), *Yr = malloc(sizeof(float) * (size_t)nt * (nr + 3));
    for (int i = 0; i < nr * n; i++) W[i] = frand(&s);
    for (int i = 0; i < nt * n; i++) X[i] = frand(&s);
    const int ldy = nr + 3; /* a stride wider than the rows, like a slice of the output */
    g4_gemm_f32(W, nr, X, nt, n, Y, ldy);
    g4_gemm_f32_ref(W, nr, X, nt, n, Yr, ldy);
    double worst = 0, worst_ref = 0;
    for (int t = 0; t < nt; t++)
        for (int r = 0; r < nr; r++) {
            double d = 0, mag = 0;
            for (int k = 0; k < n; k++) { d += (double)W[r * n + k] * X[t * n + k]; mag += fabs((double)W[r * n + k] * X[t * n + k]); }
            worst = fmax(worst, fabs(Y[t * ldy + r] - d) / (mag > 0 ? mag : 1));
            worst_ref = fmax(worst_ref, fabs(Yr[t * ldy + r] - d) / (mag > 0 ? mag : 1));
        }
    CHECKF(worst < 1e-5, "gemm %dx%dx%d: rel err %.3e", nr, nt, n, worst);
    if (nr <= G4_GEMM_PACK) { /* the packed kernel: same error bound, and the same bits at every tile position */
        float *Wp = malloc(sizeof(float) * (size_t)n * G4_GEMM_PACK), *Yp = malloc(sizeof(float) * (size_t)nt * ldy);
        const float *rows[G4_GEMM_PACK];
        for (int r = 0; r < nr; r++) rows[r] = W + (size_t)r * n;
        g4_gemm_pack16(rows, nr, n, Wp);
        g4_gemm_f32_packed(Wp, nr, X, nt, n, Yp, ldy);
        double wp = 0;
        int same = 1;
        for (int t = 0; t < nt; t++)
            for (int r = 0; r < nr; r++) {
                double d = 0, mag = 0;
                for (int k = 0; k < n; k++) { d += (double)W[r * n + k] * X[t * n + k]; mag += fabs((double)W[r * n + k] * X[t * n + k]); }
                wp = fmax(wp, fabs(Yp[t * ldy + r] - d) / (mag > 0 ? mag : 1));
                float one[G4_GEMM_PACK]; /* the same token alone */
                g4_gemm_f32_packed(Wp, nr, X + (size_t)t * n, 1, n, one, G4_GEMM_PACK);
                same &= one[r] == Yp[t * ldy + r];
            }
        CHECKF(wp < 1e-5 && same, "packed gemm %dx%dx%d: rel err %.3e, alone-equal %d", nr, nt, n, wp, same);
        free(Wp); free(Yp);
    }
    CHECKF(worst_ref < 1e-5, "gemm_ref %dx%dx%d: rel err %.3e", nr, nt, n, worst_ref);
    free(W); free(X); free(Y); free(Yr);
}

/* The few-token product: against double precision, and each output the same bits alone as in the batch. */
static void check_multi(int nr, int nt, int n) {
    unsigned s = (unsigned)(nr * 31 + nt * 5 + n);
    float *W = malloc(sizeof(float) * (size_t)nr * n), *X = malloc(sizeof(float) * (size_t)nt * n), Y[2 * G4_MULTI_MAX];
    for (int i = 0; i < nr * n; i++) W[i] = frand(&s);
    for (int i = 0; i < nt * n; i++) X[i] = frand(&s);
    g4_dot_f32_multi(W, nr, X, nt, n, n, Y, nr);
    double worst = 0;
    int same = 1;
    for (int t = 0; t < nt; t++)
        for (int r = 0; r < nr; r++) {
            double d = 0, mag = 0;
            for (int k = 0; k < n; k++) { d += (double)W[r * n + k] * X[t * n + k]; mag += fabs((double)W[r * n + k] * X[t * n + k]); }
            worst = fmax(worst, fabs(Y[t * nr + r] - d) / (mag > 0 ? mag : 1));
            float one;
            g4_dot_f32_multi(W + (size_t)r * n, 1, X + (size_t)t * n, 1, n, n, &one, 1);
            same &= one == Y[t * nr + r];
        }
    CHECKF(worst < 1e-5 && same, "multi %dx%dx%d: rel err %.3e, alone-equal %d", nr, nt, n, worst, same);
    free(W); free(X);
}

int main(void) {
    const int rows[] = {1, 3, 4, 5, 16, 17}, toks[] = {1, 2, 4, 7, 9, 13}, ns[] = {1, 7, 8, 9, 64, 100, 257, 600};
    for (size_t a = 0; a < 6; a++)
        for (size_t b = 0; b < 6; b++)
            for (size_t c = 0; c < 8; c++) check_shape(rows[a], toks[b], ns[c]);
    for (int nr = 1; nr <= 2; nr++)
        for (int nt = 1; nt <= G4_MULTI_MAX; nt++)
            for (size_t c = 0; c < 8; c++) check_multi(nr, nt, ns[c]);
    printf("packed kernel: %s\n", g4_gemm_packed_ok() ? "AVX2 (checked)" : "portable (checked)");
    return check_done("gemm");
}
