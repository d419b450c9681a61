/* util.c -- helpers shared by the subcommands: clocks, peak RSS, strict number parsing, sampling options. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "cli.h"

double cli_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double cli_peak_rss_mb(void) {
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
    return (double)ru.ru_maxrss / 1024.0; /* Linux: KiB */
}

int cli_int(const char *opt, const char *s, long lo, long hi, long *out) {
    char *end;
    errno = 0;
    long v = s ? strtol(s, &end, 10) : 0;
    if (!s || errno || end == s || *end || v < lo || v > hi) {
        fprintf(stderr, "error: %s wants an integer in %ld..%ld (got '%s')\n", opt, lo, hi, s ? s : "");
        return 0;
    }
    *out = v;
    return 1;
}

int cli_float(const char *opt, const char *s, double lo, double hi, double *out) {
    char *end;
    errno = 0;
    double v = s ? strtod(s, &end) : 0;
    if (!s || errno || end == s || *end || !isfinite(v) || v < lo || v > hi) {
        fprintf(stderr, "error: %s wants a number in %g..%g (got '%s')\n", opt, lo, hi, s ? s : "");
        return 0;
    }
    *out = v;
    return 1;
}

int cli_sampler_opt(int argc, char **argv, int *i, g4_sampler_params *sp) {
    const char *a = argv[*i], *v = *i + 1 < argc ? argv[*i + 1] : NULL;
    long lv;
    double dv;
    int ok;
    if (!strcmp(a, "--greedy")) { sp->temperature = 0; return 1; }
    if (!strcmp(a, "--temp")) { if ((ok = cli_float(a, v, 0, 100, &dv))) sp->temperature = (float)dv; }
    else if (!strcmp(a, "--top-k")) { if ((ok = cli_int(a, v, 0, 1 << 30, &lv))) sp->top_k = (int)lv; }
    else if (!strcmp(a, "--top-p")) { if ((ok = cli_float(a, v, 0, 1, &dv))) sp->top_p = (float)dv; }
    else if (!strcmp(a, "--min-p")) { if ((ok = cli_float(a, v, 0, 1, &dv))) sp->min_p = (float)dv; }
    else if (!strcmp(a, "--seed")) { if ((ok = cli_int(a, v, 0, 0x7fffffffL, &lv))) sp->seed = (uint64_t)lv; }
    else if (!strcmp(a, "--repeat-penalty")) { if ((ok = cli_float(a, v, 0.01, 100, &dv))) sp->repeat_penalty = (float)dv; }
    else if (!strcmp(a, "--repeat-last-n")) { if ((ok = cli_int(a, v, 0, 1 << 24, &lv))) sp->repeat_last_n = (int)lv; }
    else if (!strcmp(a, "--presence-penalty")) { if ((ok = cli_float(a, v, -2, 2, &dv))) sp->presence_penalty = (float)dv; }
    else if (!strcmp(a, "--frequency-penalty")) { if ((ok = cli_float(a, v, -2, 2, &dv))) sp->frequency_penalty = (float)dv; }
    else return 0;
    if (!ok) return -1;
    (*i)++;
    return 1;
}

int cli_parse_ids(const char *s, int **out) {
    int n = 0, cap = 16;
    int *ids = malloc(sizeof(int) * (size_t)cap);
    if (!ids) return -1;
    const char *p = s;
    while (*p) {
        char *end;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (end == p || errno || v < 0 || v > 0x7fffffff || (*end && *end != ',')) {
            fprintf(stderr, "error: --ids wants comma-separated token ids (bad at '%s')\n", p);
            free(ids);
            return -1;
        }
        if (n == cap) {
            int *nb = realloc(ids, sizeof(int) * (size_t)(cap *= 2));
            if (!nb) { free(ids); return -1; }
            ids = nb;
        }
        ids[n++] = (int)v;
        p = *end ? end + 1 : end;
    }
    if (n == 0) { fprintf(stderr, "error: --ids is empty\n"); free(ids); return -1; }
    *out = ids;
    return n;
}

char *cli_read_all(FILE *f, size_t max) {
    size_t n = 0, cap = 4096;
    char *b = malloc(cap);
    while (b) {
        size_t r = fread(b + n, 1, cap - n - 1, f);
        n += r;
        if (r == 0) break;
        if (n + 1 == cap) {
            if (cap > max) { free(b); return NULL; }
            char *nb = realloc(b, cap *= 2);
            if (!nb) { free(b); return NULL; }
            b = nb;
        }
    }
    if (!b || ferror(f) || n == 0 || n > max) { free(b); return NULL; }
    b[n] = 0;
    return b;
}

int cli_kv_type(const char *s, int *f16) {
    if (s && !strcmp(s, "f32")) return *f16 = 0, 1;
    if (s && !strcmp(s, "f16")) return *f16 = 1, 1;
    fprintf(stderr, "error: --kv-type wants f32 or f16 (got '%s')\n", s ? s : "");
    return 0;
}
