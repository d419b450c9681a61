/* test_gemm.c -- the prefill GEMM (AVX2 tile and scalar) against a double-precision product,
 * for shapes that exercise every edge (rows/tokens not multiples of 4, n not a multiple of 8). */
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
    CHECKF(worst_ref < 1e-5, "gemm_ref %dx%dx%d: rel err %.3e", nr, nt, n, worst_ref);
    free(W); free(X); free(Y); free(Yr);
}

int main(void) {
    const int rows[] = {1, 3, 4, 5, 16, 17}, toks[] = {1, 2, 4, 7, 9}, ns[] = {1, 7, 8, 9, 64, 100, 257};
    for (size_t a = 0; a < 6; a++)
        for (size_t b = 0; b < 5; b++)
            for (size_t c = 0; c < 7; c++) check_shape(rows[a], toks[b], ns[c]);
    return check_done("gemm");
}
