/* util.c -- helpers shared by the subcommands: clocks, peak RSS, strict number parsing, sampling options. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

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

cJSON *cli_read_tools(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) { fprintf(stderr, "error: --tools %s: %s\n", path, strerror(errno)); return NULL; }
    char *text = cli_read_all(f, 1 << 20);
    fclose(f);
    if (!text) { fprintf(stderr, "error: --tools %s: empty, unreadable or over 1 MiB\n", path); return NULL; }
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithOpts(text, &end, 1);
    if (!j) {
        fprintf(stderr, "error: --tools %s: invalid JSON (near byte %ld)\n", path, end ? (long)(end - text) : -1L);
    } else if (!cJSON_IsArray(j) || cJSON_GetArraySize(j) == 0) {
        fprintf(stderr, "error: --tools %s: want a non-empty JSON array of tool declarations\n", path);
        cJSON_Delete(j);
        j = NULL;
    }
    free(text);
    return j;
}

/* The bundled model's file name, looked for in models/ beside the build (or install) directory. */
#define CLI_DEMO_MODEL "gemma4-demo.gguf"

static int is_file(const char *p) { return access(p, R_OK) == 0; }

const char *cli_default_model(char *buf, size_t n) {
    const char *env = getenv("GEMMA4_MODEL");
    if (env && *env) {
        fprintf(stderr, "note: no -m given: using GEMMA4_MODEL=%s\n", env);
        return env;
    }
    char exe[4096];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len > 0) {
        exe[len] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) *slash = 0;
        static const char *const rel[] = {"/../models/", "/../share/gemma4/", "/models/"};
        for (size_t i = 0; i < sizeof rel / sizeof *rel; i++) {
            snprintf(buf, n, "%s%s%s", exe, rel[i], CLI_DEMO_MODEL);
            if (is_file(buf)) goto found;
        }
    }
#ifdef G4_MODELS_DIR
    snprintf(buf, n, "%s/%s", G4_MODELS_DIR, CLI_DEMO_MODEL); /* the source tree this binary was built from */
    if (is_file(buf)) goto found;
#endif
    return NULL;
found:;
    char real[4096];
    if (realpath(buf, real) && strlen(real) < n) memcpy(buf, real, strlen(real) + 1); /* no "build/../" */
    fprintf(stderr, "note: no -m given: using the bundled demo model %s (a 15M-parameter Gemma 4 trained on a toy "
                    "world: shapes, counts, spoken digits and words, moving shapes, sums, a weather tool; see "
                    "docs/demo-model.md)\n", buf);
    return buf;
}
