/* test_audio.c -- audio decoding against the reference, transformers' load_audio with torchcodec.
 *
 * tests/data/media/av/audio.txt (tools/make_av_fixtures.py) lists, per clip, what the reference
 * returned: the sample count, the float64 sum and sum of squares of all samples, and the first and
 * last 1000 samples (NAME.f32) -- or that it raised.  We check the same count, the same samples
 * (max abs diff <= 1e-6, printed; torchcodec and we call the same libswresample the same way, so it
 * is 0 in practice), the same sums, the same result from memory and from a file, errors where the
 * reference errors, max_seconds, bad arguments, the allocation-failure sweep and the fuzz regressions.
 * Debian's clips (alsa-utils, opencv-doc) are used in place and skipped with a SKIP line when absent.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "check.h"
#include "core/common.h"
#include "media/audio.h"

#define DIR "tests/data/media/av/"

static double g_maxdiff;

static void check_ok_case(const char *name, const char *path, long long n, double sum, double sumsq, int head,
                          int tail) {
    char err[G4_ERR_LEN] = "", fp[512];
    g4_audio a;
    g4_status st = g4_audio_load(&a, path, 0, err);
    CHECKF(st == G4_OK, "%s: %s", name, err);
    if (st != G4_OK) return;
    CHECKF(a.n == n, "%s: n %lld, want %lld", name, (long long)a.n, n);
    snprintf(fp, sizeof fp, DIR "%s.f32", name);
    size_t len = 0;
    float *ref = (float *)check_slurp(fp, &len);
    CHECKF(ref && len == (size_t)(head + tail) * 4, "%s: %s", name, fp);
    if (ref && a.n == n && len == (size_t)(head + tail) * 4) {
        double md = 0;
        for (int i = 0; i < head; i++) md = fmax(md, fabs((double)a.pcm[i] - ref[i]));
        for (int i = 0; i < tail; i++) md = fmax(md, fabs((double)a.pcm[n - tail + i] - ref[head + i]));
        CHECKF(md <= 1e-6, "%s: max abs diff %g", name, md);
        g_maxdiff = fmax(g_maxdiff, md);
        double s = 0, s2 = 0;
        for (long long i = 0; i < n; i++) s += a.pcm[i], s2 += (double)a.pcm[i] * a.pcm[i];
        CHECKF(fabs(s - sum) <= 1e-7 * (1 + fabs(sum)) + 1e-6 * sqrt((double)n), "%s: sum %.12g want %.12g", name, s, sum);
        CHECKF(fabs(s2 - sumsq) <= 1e-7 * (1 + sumsq), "%s: sumsq %.12g want %.12g", name, s2, sumsq);
    }
    free(ref);

    /* from memory: the same samples */
    size_t blen = 0;
    char *buf = check_slurp(path, &blen);
    g4_audio b;
    st = g4_audio_decode(&b, (const uint8_t *)buf, blen, name, 0, err);
    CHECKF(st == G4_OK && b.n == a.n && memcmp(a.pcm, b.pcm, (size_t)a.n * 4) == 0, "%s: memory decode differs (%s)",
           name, st == G4_OK ? "" : err);
    if (st == G4_OK) g4_audio_free(&b);
    free(buf);
    g4_audio_free(&a);
    CHECK(a.pcm == NULL && a.n == 0);
}

static void check_error_case(const char *name, const char *path) {
    char err[G4_ERR_LEN] = "";
    g4_audio a;
    g4_status st = g4_audio_load(&a, path, 0, err);
    CHECKF(st != G4_OK, "%s: decoded %lld samples, the reference raised", name, (long long)a.n);
    CHECKF(err[0] != 0 && strstr(err, path) != NULL, "%s: error text '%s'", name, err);
    CHECK(a.pcm == NULL && a.n == 0);
    if (st == G4_OK) g4_audio_free(&a);
    else printf("  %s: %s\n", name, err);
}

static void test_fixtures(void) {
    FILE *f = fopen(DIR "audio.txt", "r");
    CHECKF(f != NULL, "%s", DIR "audio.txt");
    if (!f) return;
    char line[1024];
    int n_ok = 0, n_err = 0;
    while (fgets(line, sizeof line, f)) {
        char name[128], path[512], kind[16];
        long long n;
        double sum, sumsq;
        int head, tail;
        if (sscanf(line, "%127s %511s %15s", name, path, kind) != 3) continue;
        if (access(path, R_OK) != 0) {
            char why[700];
            snprintf(why, sizeof why, "audio %s: %s not installed", name, path);
            check_skip(why);
            continue;
        }
        if (strcmp(kind, "ok") == 0) {
            int k = sscanf(line, "%*s %*s %*s %lld %lf %lf %d %d", &n, &sum, &sumsq, &head, &tail);
            CHECKF(k == 5, "bad line: %s", line);
            if (k == 5) check_ok_case(name, path, n, sum, sumsq, head, tail), n_ok++;
        } else {
            check_error_case(name, path);
            n_err++;
        }
    }
    fclose(f);
    CHECK(n_ok >= 15 && n_err >= 4);
    printf("audio: %d clips match the reference (max abs diff %g), %d errors as in the reference\n", n_ok, g_maxdiff,
           n_err);
}

static void test_limits_and_args(void) {
    char err[G4_ERR_LEN];
    g4_audio a;
    /* speech_22k.wav is 2.95 s */
    CHECK(g4_audio_load(&a, DIR "speech_22k.wav", 1.0, err) == G4_EINVAL && strstr(err, "longer") != NULL);
    CHECK(a.pcm == NULL);
    CHECK(g4_audio_load(&a, DIR "speech.m4a", 2.5, err) == G4_EINVAL);
    CHECK(g4_audio_load(&a, DIR "speech_22k.wav", 3.0, err) == G4_OK && a.n == 47241);
    g4_audio_free(&a);
    CHECK(g4_audio_load(&a, DIR "tiny.wav", 0.01, err) == G4_OK && a.n == 160); /* exactly at the limit */
    g4_audio_free(&a);

    CHECK(g4_audio_decode(&a, NULL, 0, "empty", 0, err) == G4_EFORMAT && strstr(err, "empty") != NULL);
    const uint8_t one = 0;
    CHECK(g4_audio_decode(&a, &one, 0, "empty", 0, err) == G4_EFORMAT);
    CHECK(g4_audio_decode(&a, &one, 1, "one byte", 0, err) != G4_OK && strstr(err, "one byte") != NULL);
    CHECK(g4_audio_load(&a, DIR "no-such-file.wav", 0, err) == G4_EIO);
    CHECK(g4_audio_load(&a, DIR, 0, err) == G4_EIO); /* a directory */
    g4_audio_free(&a);
    g4_audio_free(NULL);

    /* a truncated WAV header, and a valid one with its data cut mid-sample */
    size_t len;
    char *wav = check_slurp(DIR "speech_22k.wav", &len);
    CHECK(g4_audio_decode(&a, (const uint8_t *)wav, 30, "hdr30", 0, err) != G4_OK);
    if (g4_audio_decode(&a, (const uint8_t *)wav, 1001, "cut", 0, err) == G4_OK) {
        CHECK(a.n > 0 && a.n < 47241);
        g4_audio_free(&a);
    }
    free(wav);
}

/* every allocation failing in turn: a clean error, no leak (run under ASan) */
static void test_alloc_sweep(const char *path) {
    char err[G4_ERR_LEN];
    g4_audio ref, a;
    CHECK(g4_audio_load(&ref, path, 0, err) == G4_OK);
    g4_alloc_fail_at(-1); /* reset the counter */
    CHECK(g4_audio_load(&a, path, 0, err) == G4_OK);
    long n_alloc = g4_alloc_fail_at(-1);
    g4_audio_free(&a);
    int bad = 0;
    for (long k = 0; k < n_alloc; k++) {
        g4_alloc_fail_at(k);
        g4_status st = g4_audio_load(&a, path, 0, err);
        g4_alloc_fail_at(-1);
        if (st == G4_OK) {
            bad += a.n != ref.n || memcmp(a.pcm, ref.pcm, (size_t)a.n * 4) != 0;
            g4_audio_free(&a);
        } else {
            bad += st != G4_ENOMEM || a.pcm != NULL;
        }
    }
    CHECKF(bad == 0 && n_alloc > 0, "%s: alloc sweep (%ld allocations, %d bad)", path, n_alloc, bad);
    g4_audio_free(&ref);
}

/* inputs the fuzzer once crashed or hung on: they must just fail or decode */
static void test_fuzz_regressions(void) {
    /* a 5 KB file whose header asked the demuxer for a 2 GiB zeroed table (FFmpeg's allocation cap is 1 GiB) */
    static const char *files[] = {"tests/data/media/fuzz/audio-demux-2gib-table.bin", NULL};
    char err[G4_ERR_LEN];
    for (int i = 0; files[i]; i++) {
        size_t len;
        char *b = check_slurp(files[i], &len);
        CHECKF(b != NULL, "%s", files[i]);
        g4_audio a;
        if (b && g4_audio_decode(&a, (const uint8_t *)b, len, files[i], 30, err) == G4_OK) g4_audio_free(&a);
        free(b);
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    CHECKF(ru.ru_maxrss < 1024 * 1024, "fuzz regressions: peak RSS %ld KiB, want < 1 GiB", ru.ru_maxrss);
}

int main(void) {
    test_fixtures();
    test_limits_and_args();
    test_alloc_sweep(DIR "speech.m4a");
    test_alloc_sweep(DIR "stereo_44k.wav");
    test_fuzz_regressions();
    {   /* fuzz regression: a WAV claiming 235 MHz made libswresample allocate ~2 GB of filter tables */
        char e2[G4_ERR_LEN];
        g4_audio big;
        CHECK(g4_audio_load(&big, "tests/data/media/av/huge_rate.wav", 30.0, e2) == G4_EUNSUPPORTED &&
              strstr(e2, "sample rate"));
    }
    return check_done("test_audio");
}
