/* check.h -- the tiny test harness: CHECK macros count passes and failures, and
 * check_done() prints the closing "N passed, N failed" line and returns the exit code.
 * A test that needs ../shared calls check_skip() with a visible reason. */
#ifndef G4_CHECK_H
#define G4_CHECK_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_pass_, check_fail_, check_skip_;

#define CHECK(cond)                                                              \
    do {                                                                         \
        if (cond) check_pass_++;                                                 \
        else { check_fail_++; fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); } \
    } while (0)

#define CHECKF(cond, ...)                                                        \
    do {                                                                         \
        if (cond) check_pass_++;                                                 \
        else { check_fail_++; fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond); \
               fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); }             \
    } while (0)

static inline void check_skip(const char *why) {
    check_skip_++;
    printf("SKIP: %s\n", why);
}

/* A whole file, NUL-terminated (malloc'd); NULL if it can't be read.  *len (optional) gets its size. */
static inline char *check_slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) { free(b); b = NULL; }
    fclose(f);
    if (b) b[n] = 0;
    if (b && len) *len = (size_t)n;
    return b;
}

/* max |a - ref| over n, relative to max |ref| (absolute when ref is all zero) */
static inline double check_rel_err(const float *a, const float *ref, int64_t n) {
    double md = 0, mr = 0;
    for (int64_t i = 0; i < n; i++) {
        md = fmax(md, fabs((double)a[i] - ref[i]));
        mr = fmax(mr, fabs((double)ref[i]));
    }
    return md / (mr > 0 ? mr : 1);
}

/* index of the first largest of n values */
static inline int check_argmax(const float *x, int n) {
    int b = 0;
    for (int i = 1; i < n; i++)
        if (x[i] > x[b]) b = i;
    return b;
}

static inline int check_done(const char *suite) {
    printf("%s: %d passed, %d failed", suite, check_pass_, check_fail_);
    if (check_skip_) printf(", %d skipped", check_skip_);
    printf("\n");
    return check_fail_ ? 1 : 0;
}

#endif
